"""Social-listening export of employees' public posts (``monitoring_posts.csv``)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd

from analytics.sources._orgcsv import HANDLE, PLATFORM, POSTED_AT, TEXT, Column, Rows, claims, map_distinct
from analytics.sources.base import Parsed, ReadContext, platform_id

__all__ = ["DESCRIPTION", "FORMAT", "TABLES", "post_id_from_url", "read", "sniff"]

FORMAT = "monitoring"
DESCRIPTION = "Monitoring CSV of employees' public posts (platform, handle, posted_at, text, url, likes, ...)"
TABLES = ("posts",)

URL = Column("url", ("post_url", "link", "permalink"))
#: Canonical metric -> the monitoring column (and its other names) it comes from.
METRICS: dict[str, Column] = {
    "impressions": Column("impressions", ("views",)),
    "reach": Column("reach"),
    "reactions": Column("likes", ("reactions", "favorites", "favourites")),
    "comments": Column("comments", ("replies",)),
    "shares": Column("shares", ("retweets", "reposts", "boosts")),
    "clicks": Column("clicks", ("link_clicks", "url_clicks")),
    "saves": Column("saves", ("bookmarks",)),
    "video_views": Column("video_views"),
}


_PROFILES = frozenset({"in", "company", "school", "pub"})


def post_id_from_url(url: str | None, platform: str | None) -> str | None:
    """The post id a post URL carries, else ``None`` (ingest then hashes platform, handle, time and text).

    X and Mastodon: the status id (the segment after ``status``/``statuses``, else the last numeric
    segment). Facebook ``permalink.php``/``photo.php``: the ``story_fbid``/``fbid`` parameter. Otherwise
    the last path segment, unless the URL is a profile (``/name``, LinkedIn ``/in/name``): its last segment
    would give every post of the account the same id.

    >>> post_id_from_url("https://x.com/adalee/status/1822334455/photo/1", "x")
    '1822334455'
    >>> post_id_from_url("https://mastodon.social/@ada/112233445566", "mastodon")
    '112233445566'
    >>> post_id_from_url("https://www.instagram.com/p/C5xYz12AbC/", "instagram"), post_id_from_url("", "x")
    ('C5xYz12AbC', None)
    """
    if not url or not url.strip():
        return None
    url = url.strip()
    simple = _SIMPLE_URL.fullmatch(url)
    if simple:  # the usual case, split without urlsplit's cost: the same host, path and no query
        host, path, query = simple.group(1).lower(), simple.group(2) or "", ""
    else:
        parts = urlsplit(url)
        host, path, query = (parts.hostname or "").lower(), parts.path, parts.query
    segments = [s for s in path.split("/") if s]
    if platform in {"x", "mastodon"} or host.endswith(("x.com", "twitter.com")):
        for marker in ("status", "statuses"):
            if marker in segments[:-1] and segments[segments.index(marker) + 1].isdigit():
                return segments[segments.index(marker) + 1]
        numeric = [s for s in segments if s.isdigit()]
        return numeric[-1] if numeric else None
    if query:
        parameters = parse_qs(query)
        for parameter in ("story_fbid", "fbid"):
            if parameters.get(parameter):
                return parameters[parameter][0]
    if len(segments) < 2 or segments[-1].endswith(".php") or (len(segments) == 2 and segments[0] in _PROFILES):
        return None
    return segments[-1]


# scheme://host/path with a plain ASCII host and no port, user, query, fragment, space or control character:
# for these urlsplit's hostname is the host lower-cased and its path the rest
_SIMPLE_URL = re.compile(r"[hH][tT][tT][pP][sS]?://([A-Za-z0-9.-]+)(/[\x21\x22\x24-\x3e\x40-\x7e]*)?")


# The common URL shapes, whose post id post_id_from_url would give as group 1 (a URL these do not match takes
# post_id_from_url itself). _SEGMENT: path characters of _SIMPLE_URL but /, possessive (no backtracking).
_SEGMENT = r"[\x21\x22\x24-\x2e\x30-\x3e\x40-\x7e]++"
# x and Mastodon: /first/[second/]digits, first not a status marker: the digits are the status id
_STATUS_URL = re.compile(
    rf"[hH][tT][tT][pP][sS]?://[A-Za-z0-9.-]++/++(?!(?:status|statuses)/){_SEGMENT}/++(?:{_SEGMENT}/++)?"
    r"([0-9]++)/*+"
)
# other platforms on a host that is not X's: the last of two or more segments, when the first is no profile
# (/in/name) and the last does not end in .php
_LAST_SEGMENT_URL = re.compile(
    r"[hH][tT][tT][pP][sS]?://[A-Za-z0-9.-]++(?<![xX]\.[cC][oO][mM])(?<![tT][wW][iI][tT][tT][eE][rR]\.[cC][oO][mM])"
    rf"/++(?!(?:in|company|school|pub)/)(?:{_SEGMENT}/++)+({_SEGMENT})(?<!\.php)/*+"
)
_STATUS_PLATFORMS = frozenset({"x", "mastodon"})


def _post_ids(urls: pd.Series, platforms: pd.Series) -> pd.Series:
    """:func:`post_id_from_url` of every row, with one regular expression match for the usual URLs."""
    ids = []
    for url, platform in zip(urls.tolist(), platforms.tolist(), strict=True):
        match = (_STATUS_URL if platform in _STATUS_PLATFORMS else _LAST_SEGMENT_URL).fullmatch(url) if url else None
        ids.append(match.group(1) if match else post_id_from_url(url, platform))
    return pd.Series(ids, dtype=object)


def sniff(path: Path, head: bytes) -> bool:
    """A CSV whose header has platform, handle, posted_at and text (and no comment_id)."""
    return claims(FORMAT, path, head)


def read(path: Path, context: ReadContext) -> Parsed:
    """The posts as staging table ``posts``: post ids from the URLs, likes/comments/shares as canonical metrics.

    Text is kept exactly as written (a monitoring export holds plain text, not HTML).
    """
    rows = Rows.load(path, (PLATFORM, HANDLE, POSTED_AT, TEXT, URL, *METRICS.values()),
                     expected="a monitoring export of employee posts")
    platform = map_distinct(rows.text(PLATFORM.name, required=True), platform_id)
    url = rows.text(URL.name)
    columns: dict[str, pd.Series] = {
        "platform": platform,
        "post_id": _post_ids(url, platform),
        "handle": rows.text(HANDLE.name, required=True),
        "published_at": rows.datetimes(POSTED_AT.name, context, required=True),
        "text": rows.cells[TEXT.name].fillna("").astype(object),
        "url": url,
    }
    columns |= {metric: rows.counts(column.name) for metric, column in METRICS.items()}
    size = len(rows)
    columns |= {
        "metrics_as_of": pd.Series(pd.NaT, index=range(size), dtype="datetime64[us, UTC]"),
        "is_share": pd.Series(np.zeros(size, dtype=bool)),
        "shared_url": pd.Series([None] * size, dtype=object),
    }
    return rows.parsed(FORMAT, "posts", columns)
