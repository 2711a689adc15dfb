"""X (Twitter) post exports: the classic tweet activity metrics CSV and the newer content CSV.

Two formats share this module, listed in ``FORMATS`` as ``(id, description, sniff, read)``; the module's
own ``sniff`` claims either and its ``read`` returns a :class:`~.base.Parsed` whose ``format`` is the
exact one:

* ``x_activity`` – ``tweet_activity_metrics_<handle>_<YYYYMMDD>_<YYYYMMDD>_en.csv`` from
  analytics.twitter.com: 40 columns (``Tweet id, Tweet permalink, Tweet text, time, impressions, ...``
  plus ``promoted ...`` copies), ``time`` like ``2017-01-30 19:05 +0000``, float counts, ``-`` for
  missing promoted figures, HTML entities in the text. Also read when Excel re-saved it as UTF-16
  tab-separated "Unicode text".
* ``x_content`` – ``account_analytics_content_<from>_<to>.csv`` from the newer X analytics: ``Post id,
  Date, Post text, Post Link, Impressions, Likes, Engagements, Bookmarks, Shares, ... Reposts ...``,
  ``Date`` like ``Tue, Jul 14, 2026`` (a date without a time), counts with thousands separators.

Canonical metrics: reactions = likes, comments = replies, clicks = URL clicks, impressions =
impressions; shares = retweets (activity export) or reposts + shares (content export: X's "Shares" are
sends by DM / copy link, a share action like Meta's); saves = bookmarks (content export only).
``media views`` is not carried as video_views: it counts views of images too. ``metrics_as_of`` is the
last day named in the file name (its midnight in the organisation time zone), NaT when the file was
renamed; the handle then comes from the permalinks.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

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
from analytics.sources.base import (
    Parsed,
    ReadContext,
    read_csv_rows,
)

__all__ = [
    "DESCRIPTION",
    "FORMAT",
    "FORMATS",
    "TABLES",
    "read",
    "read_activity",
    "read_content",
    "sniff",
    "sniff_activity",
    "sniff_content",
]

FORMAT = "x_activity"
DESCRIPTION = (
    "X/Twitter tweet activity metrics CSV (tweet_activity_metrics_<handle>_..._en.csv) or the newer "
    "X account analytics content CSV (account_analytics_content_<from>_<to>.csv)"
)
TABLES = ("posts",)

# === X activity metrics ==============================================================================

_ACTIVITY_COLUMNS: dict[str, tuple[str, ...]] = {
    "post_id": ("tweet id",),
    "url": ("tweet permalink",),
    "text": ("tweet text",),
    "published_at": ("time",),
    "impressions": ("impressions",),
    "reactions": ("likes",),
    "comments": ("replies",),
    "shares": ("retweets",),
    "clicks": ("url clicks",),
}
_ACTIVITY_REQUIRED = ("post_id", "text", "published_at")
_ACTIVITY_SIGNATURE = {"tweet id", "tweet permalink", "tweet text", "time"}
_ACTIVITY_NAME = re.compile(r"^tweet_activity_metrics_(?P<handle>.+)_(?P<start>\d{8})_(?P<end>\d{8})_[a-z]{2}\b",
                            re.IGNORECASE)
_STATUS_LINK = re.compile(r"(?:twitter|x)\.com/(?P<handle>[A-Za-z0-9_]+)/status(?:es)?/(?P<id>\d+)", re.IGNORECASE)


def sniff_activity(path: Path, head: bytes) -> bool:
    """A tweet activity metrics export: its header names the tweet id, permalink, text and time."""
    rows = head_rows(head, 1)
    return bool(rows) and {header_key(c) for c in rows[0]} >= _ACTIVITY_SIGNATURE


def read_activity(path: Path, context: ReadContext) -> Parsed:
    """Read a tweet activity metrics export into the ``posts`` staging table."""
    header, records = split_records(path, read_csv_rows(path), header_rows=1, expected="an X activity export")
    table = PostRecords.from_rows(path, header[0], records, fields=_ACTIVITY_COLUMNS,
                                  required=_ACTIVITY_REQUIRED, expected="an X tweet activity metrics export")
    named = _ACTIVITY_NAME.match(path.name)
    post_id = table.ids("post_id")
    urls = table.text("url")
    text = table.text("text").map(html.unescape, na_action="ignore")
    handle = pd.Series(named.group("handle") if named else _handles_from_links(urls), index=urls.index)
    as_of = metrics_as_of_from_name(named.group("end") if named else None, "%Y%m%d", context)
    frame = posts_frame(
        len(table),
        platform="x",
        post_id=post_id,
        handle=handle,
        published_at=table.times("published_at", context=context),
        text=text.fillna(""),
        url=urls,
        metrics_as_of=as_of,
        is_share=text.fillna("").str.startswith("RT @"),
        source_row=table.source_rows,
        **table.metrics(("impressions", "reactions", "comments", "shares", "clicks")),
    )
    return table.parsed("x_activity", frame)


# === X content export ================================================================================

_CONTENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "post_id": ("post id",),
    "published_at": ("date",),
    "text": ("post text",),
    "url": ("post link",),
    "impressions": ("impressions",),
    "reactions": ("likes",),
    "comments": ("replies",),
    "reposts": ("reposts",),
    "sends": ("shares",),
    "saves": ("bookmarks",),
    "clicks": ("url clicks",),
}
_CONTENT_REQUIRED = ("post_id", "published_at", "text")
_CONTENT_SIGNATURE = {"post id", "date", "post text", "post link"}
_CONTENT_NAME = re.compile(
    r"^account_analytics_content_(?P<start>\d{4}-?\d{2}-?\d{2})_(?P<end>\d{4}-?\d{2}-?\d{2})\b", re.IGNORECASE
)


def sniff_content(path: Path, head: bytes) -> bool:
    """An X account analytics content export: ``Post id, Date, Post text, Post Link`` in the header."""
    rows = head_rows(head, 1)
    return bool(rows) and {header_key(c) for c in rows[0]} >= _CONTENT_SIGNATURE


def read_content(path: Path, context: ReadContext) -> Parsed:
    """Read an X account analytics content export into the ``posts`` staging table."""
    header, records = split_records(path, read_csv_rows(path), header_rows=1, expected="an X content export")
    table = PostRecords.from_rows(path, header[0], records, fields=_CONTENT_COLUMNS,
                                  required=_CONTENT_REQUIRED, expected="an X account analytics content export")
    named = _CONTENT_NAME.match(path.name)
    end = named.group("end").replace("-", "") if named else None
    urls = table.text("url")
    text = table.text("text").map(html.unescape, na_action="ignore").fillna("")
    metrics = table.metrics(("impressions", "reactions", "comments", "reposts", "sends", "saves", "clicks"))
    # X's "Shares" (DM / copy link) and "Reposts" are both share actions; NaN only when neither is reported.
    shares = metrics.pop("reposts").add(metrics.pop("sends"), fill_value=0)
    frame = posts_frame(
        len(table),
        platform="x",
        post_id=table.ids("post_id"),
        handle=pd.Series(_handles_from_links(urls), index=urls.index),
        published_at=table.times("published_at", context=context),
        text=text,
        url=urls,
        shares=shares,
        metrics_as_of=metrics_as_of_from_name(end, "%Y%m%d", context),
        is_share=text.str.startswith("RT @"),
        source_row=table.source_rows,
        **metrics,
    )
    return table.parsed("x_content", frame)


def _handles_from_links(urls: pd.Series) -> list[Any]:
    handles: list[Any] = []
    for url in urls.tolist():
        match = _STATUS_LINK.search(url) if isinstance(url, str) else None
        handles.append(match.group("handle") if match else None)
    return handles


# === module contract: either X format ================================================================

FORMATS = (
    ("x_activity", "X/Twitter tweet activity metrics CSV (Tweet id, Tweet permalink, Tweet text, time, ...)",
     sniff_activity, read_activity),
    ("x_content", "X account analytics content CSV (Post id, Date, Post text, Post Link, Impressions, ...)",
     sniff_content, read_content),
)


def sniff(path: Path, head: bytes) -> bool:
    """Either X export (activity metrics or content), judged by the header row."""
    return sniff_either(FORMATS, path, head)


def read(path: Path, context: ReadContext) -> Parsed:
    """Read either X export; ``Parsed.format`` says which one it was."""
    return read_either(FORMATS, path, context, expected="an X export (header with 'Tweet id, Tweet permalink, "
                       "Tweet text, time' or 'Post id, Date, Post text, Post Link')")
