"""LinkedIn page content export, .xlsx (format ``linkedin``).

The workbook's ``All posts`` sheet has a description row above the header (the header is found in the
first rows by its names): ``Post title, Post link, Created date, Impressions, Clicks, Click through rate
(CTR), Likes, Comments, Reposts, Follows, Engagement rate``; the ``Metrics`` sheet (daily page totals)
is not read. ``Created date`` may be a date cell, an Excel serial number or text like ``10/01/2026``
(month first unless the file's values or the configuration say otherwise); it is a date without a time
and means midnight in the organisation time zone.

Mapping: text = ``Post title`` (LinkedIn's name for the post's commentary), url = ``Post link``,
post_id = the activity id in the link (``urn:li:activity:<id>``), else the whole link; impressions =
``Impressions``, clicks = ``Clicks``, reactions = ``Likes`` (or ``Reactions``), comments =
``Comments``, shares = ``Reposts``, video_views = ``Views (excluding off-site video views)`` when the
export has it. Rates (CTR, engagement rate) are derived figures and not carried. handle = the
organisation's page name when the sheet has such a column (``Page name`` / ``Organization name``),
else NA; ``Posted by`` names the admin who clicked "post", not the author account, and is not carried.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

from analytics.sources._posts import PostRecords, header_key, posts_frame, split_records
from analytics.sources.base import Parsed, ReadContext, SourceError, is_xlsx, read_xlsx_rows, workbook

__all__ = ["DESCRIPTION", "FORMAT", "TABLES", "post_id_from_link", "read", "sniff"]

FORMAT = "linkedin"
DESCRIPTION = "LinkedIn page content export .xlsx (sheet 'All posts': Post title, Post link, Created date, ...)"
TABLES = ("posts",)

_SHEET = "all posts"
_HEADER_SEARCH_ROWS = 6
_SIGNATURE = {"post link", "created date", "impressions"}
_COLUMNS: dict[str, tuple[str, ...]] = {
    "text": ("Post title",),
    "url": ("Post link",),
    "published_at": ("Created date",),
    "impressions": ("Impressions",),
    "clicks": ("Clicks",),
    "reactions": ("Likes", "Reactions"),
    "comments": ("Comments",),
    "shares": ("Reposts", "Shares"),
    "video_views": ("Views (excluding off-site video views)", "Video views"),
    "handle": ("Page name", "Organization name", "Organisation name", "Company name"),
}
_REQUIRED = ("url", "published_at")
_ACTIVITY = re.compile(r"urn:li:activity:(\d+)")


def post_id_from_link(link: str) -> str | None:
    """The activity id of a post link, else the link itself (None when empty).

    >>> post_id_from_link("https://www.linkedin.com/feed/update/urn:li:activity:7112233445566778899/")
    '7112233445566778899'
    >>> post_id_from_link("https://www.linkedin.com/feed/update/urn:li:ugcPost:42")
    'https://www.linkedin.com/feed/update/urn:li:ugcPost:42'
    """
    link = link.strip()
    match = _ACTIVITY.search(link)
    return match.group(1) if match else (link or None)


def _posts_sheet(path: Path) -> tuple[str | None, list[str]]:
    """The actual name of the 'All posts' sheet (any case) and all sheet names."""
    try:
        names = workbook(path, data_only=False).sheetnames
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        return None, []
    return next((n for n in names if n.strip().lower() == _SHEET), None), names


def _header_index(rows: list[list[Any]]) -> int | None:
    for i, row in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        if {header_key(c) for c in row} >= _SIGNATURE:
            return i
    return None


def sniff(path: Path, head: bytes) -> bool:
    """An .xlsx with an ``All posts`` sheet whose header (within its first rows) names post link and date."""
    if not is_xlsx(head):
        return False
    sheet, _ = _posts_sheet(path)
    if sheet is None:
        return False
    rows = workbook(path, data_only=False).rows(sheet, max_row=_HEADER_SEARCH_ROWS)
    return _header_index(rows) is not None


def read(path: Path, context: ReadContext) -> Parsed:
    """Read a LinkedIn page content export into the ``posts`` staging table."""
    sheet, names = _posts_sheet(path)
    if sheet is None:
        raise SourceError(f"{path.name}: expected a LinkedIn content export with a sheet 'All posts', "
                          f"found sheets {names or 'none (not a readable .xlsx)'}")
    rows = read_xlsx_rows(path, sheet=sheet)
    start = _header_index(rows)
    if start is None:
        found = [[c for c in row if c not in (None, "")] for row in rows[:_HEADER_SEARCH_ROWS]]
        raise SourceError(f"{path.name}: expected a header row with {sorted(_SIGNATURE)} in the first "
                          f"{_HEADER_SEARCH_ROWS} rows of sheet {sheet!r}, found {found}")
    header, records = split_records(path, rows[start:], header_rows=1, expected="a LinkedIn content export")
    table = PostRecords.from_rows(path, header[0], records, fields=_COLUMNS, required=_REQUIRED,
                                  expected="a LinkedIn page content export")
    frame = posts_frame(
        len(table),
        platform="linkedin",
        post_id=table.ids("url", transform=post_id_from_link),
        handle=table.text("handle"),
        published_at=table.times("published_at", context=context),
        text=table.text("text").fillna(""),
        url=table.text("url").map(lambda v: v.strip() if isinstance(v, str) else v),
        source_row=table.source_rows,
        **table.metrics(("impressions", "clicks", "reactions", "comments", "shares", "video_views")),
    )
    return table.parsed(FORMAT, frame)
