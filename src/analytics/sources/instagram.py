"""Instagram posts CSV exported from Meta Business Suite (format ``instagram``).

Columns (order varies): ``Post ID, Account ID, Account username, Account name, Description, Duration
(sec), Publish time, Permalink, Post type, Data comment, Date, Views, Reach, Likes, Shares, Follows,
Comments, Saves``. ``Publish time`` is ``%m/%d/%Y %H:%M`` in the account's local time (the organisation
time zone); numbers may carry thousands separators (``"15,000"``); ``Date`` holds ``Lifetime``.

Mapping: handle = ``Account username``, text = ``Description``, url = ``Permalink``, reach = ``Reach``,
reactions = ``Likes``, comments = ``Comments``, shares = ``Shares``, saves = ``Saves``, video_views =
``Views`` for reels and videos only. Impressions stay NaN: the export has none (Meta's ``Views`` count
displays of images too, so engagement rates fall back to reach). ``metrics_as_of`` is the end date of a
Business Suite file name (``Jan-27-2025_Feb-23-2025_<id>.csv``), else NaT. An Excel-mangled ``Post ID``
(``1.79E+16``) rejects the row.
"""

from __future__ import annotations

from pathlib import Path

from analytics.sources._posts import PostRecords, head_rows, header_key, posts_frame, split_records
from analytics.sources.base import Parsed, ReadContext, read_csv_rows
from analytics.sources.meta import business_suite_as_of, video_only

__all__ = ["DESCRIPTION", "FORMAT", "TABLES", "read", "sniff"]

FORMAT = "instagram"
DESCRIPTION = "Instagram posts CSV from Meta Business Suite (Post ID, Account username, Publish time, Views, ...)"
TABLES = ("posts",)

_COLUMNS: dict[str, tuple[str, ...]] = {
    "post_id": ("Post ID",),
    "handle": ("Account username",),
    "text": ("Description",),
    "published_at": ("Publish time",),
    "url": ("Permalink",),
    "post_type": ("Post type",),
    "video_views": ("Views",),
    "reach": ("Reach",),
    "reactions": ("Likes",),
    "shares": ("Shares",),
    "comments": ("Comments",),
    "saves": ("Saves",),
}
_REQUIRED = ("post_id", "published_at")
_SIGNATURE = {"post id", "account id", "account username", "publish time", "permalink"}


def sniff(path: Path, head: bytes) -> bool:
    """An Instagram posts CSV: ``Post ID, Account ID, Account username, Publish time, Permalink`` in the header."""
    rows = head_rows(head, 1)
    return bool(rows) and {header_key(c) for c in rows[0]} >= _SIGNATURE


def read(path: Path, context: ReadContext) -> Parsed:
    """Read an Instagram posts CSV into the ``posts`` staging table."""
    header, records = split_records(path, read_csv_rows(path), header_rows=1,
                                    expected="an Instagram posts export")
    table = PostRecords.from_rows(path, header[0], records, fields=_COLUMNS, required=_REQUIRED,
                                  expected="an Instagram posts export from Meta Business Suite")
    metrics = table.metrics(("video_views", "reach", "reactions", "shares", "comments", "saves"))
    if "video_views" in metrics:
        metrics["video_views"] = video_only(metrics["video_views"], table.text("post_type"))
    frame = posts_frame(
        len(table),
        platform="instagram",
        post_id=table.ids("post_id"),
        handle=table.text("handle"),
        published_at=table.times("published_at", context=context, dayfirst=False),
        text=table.text("text").fillna(""),
        url=table.text("url"),
        metrics_as_of=business_suite_as_of(path, context),
        source_row=table.source_rows,
        **metrics,
    )
    return table.parsed(FORMAT, frame)
