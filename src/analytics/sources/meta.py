"""Facebook Page post exports: Meta Business Suite posts CSV and the legacy Insights post export.

Two formats share this module, listed in ``FORMATS`` as ``(id, description, sniff, read)``; the module's
own ``sniff`` claims either and its ``read`` returns a :class:`~.base.Parsed` whose ``format`` is the
exact one:

* ``meta_posts`` – the Business Suite "Posts" CSV (``Jan-27-2025_Feb-23-2025_<pageid>.csv``, BOM):
  ``Post ID, Page ID, Page name, Title, Description, ..., Publish time, Permalink, Is share, Post type,
  ..., Impressions, Reach, Reactions, comments and shares, Reactions, Comments, Shares, Total clicks,
  ..., Views``. ``Publish time`` is ``%m/%d/%Y %H:%M`` in the page's local time (the organisation time
  zone); handle = ``Page name``; text = ``Description`` (``Title`` when a post has no description);
  clicks = ``Total clicks``; video_views = ``Views`` for video and reel posts only; ``Is share`` marks a
  share of someone else's post. ``metrics_as_of`` is the end date in the file name (NaT if renamed).
  A ``Post ID`` that Excel turned into ``1.22158E+17`` cannot be recovered: the row is rejected.
* ``meta_legacy_insights`` – the old Insights post export: two header rows (metric names, then a
  description row that tells repeated names apart, e.g. ``Lifetime Post Stories by action type`` over
  ``like`` / ``comment`` / ``share``), ``Posted`` like ``10/1/2015 21:00``. Mapped: reach =
  ``Lifetime Post Total Reach``, impressions = ``Lifetime Post Total Impressions``, reactions /
  comments / shares = ``Lifetime Post Stories by action type`` like / comment / share (stories are
  actions, not unique people), clicks = ``Lifetime Post Consumptions`` (clicks anywhere on the post,
  as Business Suite's "Total clicks"), video_views = ``Lifetime Post Total Video Views`` when present.
  ``Lifetime Engaged Users`` and ``Talking About This`` count people, not actions, and are not carried.
  The export names no page: the handle is the page's name in the permalink (``facebook.com/<page>/...``)
  when it has one.

Both exports write dates month first; the file's own values decide first, as everywhere.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from analytics.sources._posts import (
    PostRecords,
    head_rows,
    header_key,
    metrics_as_of_from_name,
    posts_frame,
    read_either,
    sniff_either,
    split_records,
)
from analytics.sources.base import Parsed, ReadContext, parse_bool, read_csv_rows

__all__ = [
    "DESCRIPTION",
    "FORMAT",
    "FORMATS",
    "TABLES",
    "business_suite_as_of",
    "legacy_names",
    "read",
    "read_legacy",
    "read_posts",
    "sniff",
    "sniff_legacy",
    "sniff_posts",
    "video_only",
]

FORMAT = "meta_posts"
DESCRIPTION = (
    "Facebook Page posts: Meta Business Suite posts CSV (Post ID, Page name, Publish time, ...) or the "
    "legacy Insights post export (two header rows: Post ID, Permalink, Post Message, Posted, Lifetime ...)"
)
TABLES = ("posts",)

_BUSINESS_SUITE_NAME = re.compile(r"^(?P<start>[A-Za-z]{3}-\d{1,2}-\d{4})_(?P<end>[A-Za-z]{3}-\d{1,2}-\d{4})")
_VIDEO_TYPES = re.compile(r"video|reel", re.IGNORECASE)


def business_suite_as_of(path: Path, context: ReadContext) -> pd.Timestamp:
    """The end date of a Business Suite export from its name (``Jan-27-2025_Feb-23-2025_<id>.csv``), else NaT.

    >>> str(business_suite_as_of(Path("Jan-27-2025_Feb-23-2025_1234.csv"), ReadContext()))
    '2025-02-23 00:00:00+00:00'
    """
    named = _BUSINESS_SUITE_NAME.match(path.name)
    return metrics_as_of_from_name(named.group("end") if named else None, "%b-%d-%Y", context)


def video_only(views: pd.Series, post_types: pd.Series) -> pd.Series:
    """``Views`` as video views: kept for video and reel posts, NaN for the rest (their views are displays)."""
    is_video = post_types.map(lambda t: bool(_VIDEO_TYPES.search(t)) if isinstance(t, str) else False)
    return views.where(is_video.to_numpy(dtype=bool))


# === Business Suite posts ============================================================================

_POSTS_COLUMNS: dict[str, tuple[str, ...]] = {
    "post_id": ("Post ID",),
    "handle": ("Page name",),
    "description": ("Description",),
    "title": ("Title",),
    "published_at": ("Publish time",),
    "url": ("Permalink",),
    "is_share": ("Is share",),
    "post_type": ("Post type",),
    "impressions": ("Impressions",),
    "reach": ("Reach",),
    "reactions": ("Reactions",),
    "comments": ("Comments",),
    "shares": ("Shares",),
    "clicks": ("Total clicks",),
    "video_views": ("Views",),
}
_POSTS_REQUIRED = ("post_id", "published_at")
_POSTS_SIGNATURE = {"post id", "page id", "page name", "publish time", "permalink"}


def sniff_posts(path: Path, head: bytes) -> bool:
    """A Business Suite posts CSV: ``Post ID, Page ID, Page name, Publish time, Permalink`` in the header."""
    rows = head_rows(head, 1)
    return bool(rows) and {header_key(c) for c in rows[0]} >= _POSTS_SIGNATURE


def read_posts(path: Path, context: ReadContext) -> Parsed:
    """Read a Meta Business Suite posts CSV into the ``posts`` staging table."""
    header, records = split_records(path, read_csv_rows(path), header_rows=1, expected="a Meta posts export")
    table = PostRecords.from_rows(path, header[0], records, fields=_POSTS_COLUMNS, required=_POSTS_REQUIRED,
                                  expected="a Meta Business Suite posts export")
    text = table.text("description").fillna(table.text("title")).fillna("")
    metrics = table.metrics(("impressions", "reach", "reactions", "comments", "shares", "clicks", "video_views"))
    if "video_views" in metrics:
        metrics["video_views"] = video_only(metrics["video_views"], table.text("post_type"))
    frame = posts_frame(
        len(table),
        platform="facebook",
        post_id=table.ids("post_id"),
        handle=table.text("handle"),
        published_at=table.times("published_at", context=context, dayfirst=False),
        text=text,
        url=table.text("url"),
        metrics_as_of=business_suite_as_of(path, context),
        is_share=[parse_bool(v) is True for v in table.text("is_share").tolist()],
        source_row=table.source_rows,
        **metrics,
    )
    return table.parsed("meta_posts", frame)


# === legacy Insights post export =====================================================================

_LEGACY_COLUMNS: dict[str, tuple[str, ...]] = {
    "post_id": ("Post ID",),
    "url": ("Permalink",),
    "text": ("Post Message",),
    "published_at": ("Posted",),
    "reach": ("Lifetime Post Total Reach",),
    "impressions": ("Lifetime Post Total Impressions",),
    "reactions": ("Lifetime Post Stories by action type - like",),
    "comments": ("Lifetime Post Stories by action type - comment",),
    "shares": ("Lifetime Post Stories by action type - share",),
    "clicks": ("Lifetime Post Consumptions",),
    "video_views": ("Lifetime Post Total Video Views", "Lifetime Total Video Views"),
}
_LEGACY_REQUIRED = ("post_id", "published_at")
_LEGACY_SIGNATURE = {"post id", "permalink", "post message", "posted"}
_NOT_A_PAGE = {"permalink.php", "photo.php", "story.php", "groups", "watch", "events", "notes"}


def sniff_legacy(path: Path, head: bytes) -> bool:
    """A legacy Insights post export: ``Post ID, Permalink, Post Message, Posted`` over a second header row."""
    rows = head_rows(head, 2)
    return len(rows) == 2 and {header_key(c) for c in rows[0]} >= _LEGACY_SIGNATURE


def legacy_names(names: list[Any], descriptions: list[Any]) -> list[str]:
    """One name per column: a name used more than once (or left blank under a merged cell) is qualified by
    its description-row cell, ``"<name> - <row 2>"``.

    >>> legacy_names(["Posted", "Stories", "", "Stories"], ["The time", "like", "comment", "share"])
    ['Posted', 'Stories - like', 'Stories - comment', 'Stories - share']
    """
    filled: list[str] = []
    for name in names:
        text = "" if name is None else str(name).strip()
        filled.append(text or (filled[-1] if filled else ""))
    counts = pd.Series([header_key(n) for n in filled]).value_counts()
    out = []
    for i, name in enumerate(filled):
        detail = str(descriptions[i]).strip() if i < len(descriptions) and descriptions[i] is not None else ""
        repeated = counts[header_key(name)] > 1
        out.append(f"{name} - {detail}" if repeated and detail else name)
    return out


def _page_from_permalink(url: Any) -> str | None:
    if not isinstance(url, str):
        return None
    parts = [p for p in urlsplit(url.strip()).path.split("/") if p]
    if len(parts) < 2 or parts[0].lower() in _NOT_A_PAGE or parts[0].isdigit():
        return None
    return parts[0]


def read_legacy(path: Path, context: ReadContext) -> Parsed:
    """Read a legacy Facebook Insights post export into the ``posts`` staging table."""
    header, records = split_records(path, read_csv_rows(path), header_rows=2,
                                    expected="a legacy Facebook Insights post export")
    names = legacy_names(header[0], header[1])
    table = PostRecords.from_rows(path, names, records, fields=_LEGACY_COLUMNS, required=_LEGACY_REQUIRED,
                                  expected="a legacy Facebook Insights post export")
    urls = table.text("url")
    frame = posts_frame(
        len(table),
        platform="facebook",
        post_id=table.ids("post_id"),
        handle=urls.map(_page_from_permalink),
        published_at=table.times("published_at", context=context, dayfirst=False),
        text=table.text("text").fillna(""),
        url=urls,
        source_row=table.source_rows,
        **table.metrics(("reach", "impressions", "reactions", "comments", "shares", "clicks", "video_views")),
    )
    return table.parsed("meta_legacy_insights", frame)


# === module contract: either Facebook format =========================================================

FORMATS = (
    ("meta_posts", "Meta Business Suite posts CSV (Post ID, Page ID, Page name, Publish time, Permalink, ...)",
     sniff_posts, read_posts),
    ("meta_legacy_insights", "Facebook legacy Insights post export (two header rows: Post ID, Permalink, "
     "Post Message, Posted, Lifetime ...)", sniff_legacy, read_legacy),
)


def sniff(path: Path, head: bytes) -> bool:
    """Either Facebook posts export (Business Suite or legacy Insights), judged by the header rows."""
    return sniff_either(FORMATS, path, head)


def read(path: Path, context: ReadContext) -> Parsed:
    """Read either Facebook posts export; ``Parsed.format`` says which one it was."""
    return read_either(FORMATS, path, context, expected="a Facebook posts export (header with 'Post ID, Page ID, "
                       "Page name, Publish time, Permalink' or 'Post ID, Permalink, Post Message, Posted')")
