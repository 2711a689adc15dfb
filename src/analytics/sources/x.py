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

The second half of this module holds the tabular-posts helpers the other post adapters (``meta``,
``instagram``, ``linkedin``, ``mastodon``) share.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analytics.sources.base import (
    Parsed,
    ReadContext,
    Reject,
    SourceError,
    is_excel_mangled_id,
    parse_datetimes,
    parse_numbers,
    read_csv_rows,
)

__all__ = [
    "DESCRIPTION",
    "FORMAT",
    "FORMATS",
    "METRICS",
    "POSTS_COLUMNS",
    "TABLES",
    "PostRecords",
    "head_rows",
    "header_key",
    "metrics_as_of_from_name",
    "posts_frame",
    "read",
    "read_activity",
    "read_content",
    "sniff",
    "sniff_activity",
    "sniff_content",
    "split_records",
]

FORMAT = "x_activity"
DESCRIPTION = (
    "X/Twitter tweet activity metrics CSV (tweet_activity_metrics_<handle>_..._en.csv) or the newer "
    "X account analytics content CSV (account_analytics_content_<from>_<to>.csv)"
)
TABLES = ("posts",)

POSTS_COLUMNS = (
    "platform", "post_id", "handle", "published_at", "text", "url", "impressions", "reach", "reactions",
    "comments", "shares", "clicks", "saves", "video_views", "metrics_as_of", "is_share", "shared_url",
    "source_row",
)
METRICS = ("impressions", "reach", "reactions", "comments", "shares", "clicks", "saves", "video_views")


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
    return sniff_activity(path, head) or sniff_content(path, head)


def read(path: Path, context: ReadContext) -> Parsed:
    """Read either X export; ``Parsed.format`` says which one it was."""
    head = path.read_bytes()[: 1 << 16]
    if sniff_activity(path, head):
        return read_activity(path, context)
    if sniff_content(path, head):
        return read_content(path, context)
    found = head_rows(head, 1)
    raise SourceError(
        f"{path.name}: expected an X export (header with 'Tweet id, Tweet permalink, Tweet text, time' or "
        f"'Post id, Date, Post text, Post Link'), found header {found[0] if found else 'nothing'}"
    )


# === tabular-posts helpers shared by the post adapters ===============================================

def header_key(name: Any) -> str:
    """A column name as compared: lower case, single spaces, no BOM or surrounding space/quotes.

    >>> header_key("\\ufeff Post  ID\\r\\n")
    'post id'
    """
    if name is None:
        return ""
    return " ".join(str(name).replace("\ufeff", "").strip().strip('"').split()).lower()


def _head_text(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head[: len(head) - len(head) % 2].decode("utf-16", errors="ignore")
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the 64 KiB boundary is fine; anything earlier means cp1252.
        if error.start >= len(head) - 3:
            return head[: error.start].decode("utf-8")
        return head.decode("cp1252", errors="replace")


def head_rows(head: bytes, n: int = 2) -> list[list[str]]:
    """The first ``n`` records of a delimited text export from its first bytes ([] when it is not text).

    The delimiter rule matches :func:`~.base.read_csv_rows`: tab or ``;`` when the first line has more.

    >>> head_rows(b'\\xef\\xbb\\xbf"Post ID","Page name"\\r\\n"1_2","Ada, Inc"\\r\\n')
    [['Post ID', 'Page name'], ['1_2', 'Ada, Inc']]
    """
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return []
    text = _head_text(head)
    if "\x00" in text:
        return []
    first_line = text.split("\n", 1)[0]
    counts = {d: first_line.count(d) for d in (",", "\t", ";")}
    delimiter = ","
    if counts["\t"] > counts[","] and counts["\t"] >= counts[";"]:
        delimiter = "\t"
    elif counts[";"] > counts[","]:
        delimiter = ";"
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            rows.append(row)
            if len(rows) >= n:
                break
    except csv.Error:
        return rows
    return rows


def split_records(
    path: Path, rows: Sequence[Sequence[Any]], *, header_rows: int, expected: str
) -> tuple[list[list[Any]], list[tuple[int, list[Any]]]]:
    """Header rows and the data records under them as ``(source_row, cells)``; blank lines are no records.

    ``source_row`` counts records after the header from 1, blank lines included, so it points at the
    record a person sees in the file.
    """
    if len(rows) < header_rows:
        raise SourceError(f"{path.name}: expected {expected} with {header_rows} header row(s), found "
                          f"{len(rows)} row(s)")
    header = [list(r) for r in rows[:header_rows]]
    records = [
        (number, list(cells))
        for number, cells in enumerate(rows[header_rows:], start=1)
        if any(c is not None and str(c).strip() != "" for c in cells)
    ]
    return header, records


def metrics_as_of_from_name(value: str | None, date_format: str, context: ReadContext) -> pd.Timestamp:
    """An export's end date from its file name, at midnight in the organisation time zone, in UTC.

    >>> str(metrics_as_of_from_name("20170201", "%Y%m%d", ReadContext(timezone="Europe/Berlin")))
    '2017-01-31 23:00:00+00:00'
    >>> metrics_as_of_from_name(None, "%Y%m%d", ReadContext()) is pd.NaT
    True
    """
    if not value:
        return pd.NaT
    try:
        day = pd.to_datetime(value, format=date_format)
    except ValueError:
        return pd.NaT
    local = day.tz_localize(context.timezone, nonexistent="shift_forward", ambiguous=True)
    return local.tz_convert("UTC").as_unit("us")


def posts_frame(n: int, **columns: Any) -> pd.DataFrame:
    """The ``posts`` staging frame with every canonical column in order and its dtype.

    Each keyword is a canonical column: a sequence of ``n`` values or one scalar for all rows; absent
    columns are missing (NaN / NaT / NA) and ``is_share`` defaults to False.

    >>> frame = posts_frame(1, platform="x", post_id=["1"], text=["hi"], source_row=[1])
    >>> list(frame.columns) == list(POSTS_COLUMNS), bool(frame["reach"].isna().all()), frame["is_share"].tolist()
    (True, True, [False])
    """
    unknown = set(columns) - set(POSTS_COLUMNS)
    if unknown:
        raise ValueError(f"posts_frame got unknown columns {sorted(unknown)}; use {POSTS_COLUMNS}")
    data: dict[str, pd.Series] = {}
    for name in POSTS_COLUMNS:
        value = columns.get(name)
        values = list(value) if isinstance(value, (pd.Series, np.ndarray, list, tuple)) else [value] * n
        if name in METRICS:
            data[name] = pd.Series(pd.to_numeric(pd.Series(values, dtype=object)), dtype="float64")
        elif name in ("published_at", "metrics_as_of"):
            stamps = pd.to_datetime(pd.Series(values, dtype=object), utc=True)
            data[name] = pd.Series(stamps, dtype="datetime64[us, UTC]")
        elif name == "is_share":
            data[name] = pd.Series([bool(v) if v is not None and not pd.isna(v) else False for v in values],
                                   dtype=bool)
        elif name == "source_row":
            data[name] = pd.Series(values, dtype="int64")
        else:
            data[name] = pd.Series([None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
                                    for v in values], dtype="str")
    return pd.DataFrame(data)


@dataclass
class PostRecords:
    """The data records of a tabular posts export, their columns found by name, and each record's problems.

    Build with :meth:`from_rows`; pull cleaned columns with :meth:`text`, :meth:`ids`, :meth:`times` and
    :meth:`metrics` (which note bad cells as problems), then :meth:`parsed` splits staged rows from rejects.
    """

    path: Path
    header: list[str]
    rows: list[list[Any]]
    source_rows: list[int]
    columns: dict[str, int]
    raws: list[str] = field(default_factory=list)
    reasons: list[list[str]] = field(default_factory=list)

    @classmethod
    def from_rows(
        cls,
        path: Path,
        header: Sequence[Any],
        records: Sequence[tuple[int, Sequence[Any]]],
        *,
        fields: Mapping[str, Sequence[str]],
        required: Sequence[str],
        expected: str,
        raws: Sequence[str] | None = None,
    ) -> PostRecords:
        """Locate ``fields`` (canonical name -> accepted column names) in ``header``; ``required`` must exist."""
        keys = [header_key(h) for h in header]
        columns: dict[str, int] = {}
        for name, aliases in fields.items():
            for alias in aliases:
                if header_key(alias) in keys:
                    columns[name] = keys.index(header_key(alias))
                    break
        missing = [fields[name][0] for name in required if name not in columns]
        if missing:
            shown = [str(h) for h in header if h not in (None, "")]
            raise SourceError(f"{path.name}: expected {expected} with columns {missing}; they are missing. "
                              f"Found columns {shown}")
        rows = [list(cells) for _, cells in records]
        return cls(
            path=path,
            header=[str(h) if h is not None else "" for h in header],
            rows=rows,
            source_rows=[number for number, _ in records],
            columns=columns,
            raws=list(raws) if raws is not None else [_join(cells) for cells in rows],
            reasons=[[] for _ in rows],
        )

    def __len__(self) -> int:
        return len(self.rows)

    def has(self, name: str) -> bool:
        """Whether the export has the column for canonical field ``name``."""
        return name in self.columns

    def label(self, name: str) -> str:
        """The export's own name of the column for ``name`` (used in reasons people act on)."""
        return self.header[self.columns[name]] if name in self.columns else name

    def cells(self, name: str) -> pd.Series:
        """The raw cells of ``name`` (object dtype; None throughout when the column is absent)."""
        if name not in self.columns:
            return pd.Series([None] * len(self.rows), dtype=object)
        index = self.columns[name]
        return pd.Series([row[index] if index < len(row) else None for row in self.rows], dtype=object)

    def text(self, name: str) -> pd.Series:
        """Cells as strings exactly as written; empty or absent cells are missing."""
        values = [None if v is None or str(v) == "" else str(v) for v in self.cells(name).tolist()]
        return pd.Series(values, dtype=object)

    def flag(self, mask: Sequence[bool] | pd.Series, reasons: str | Sequence[str]) -> None:
        """Record a problem for every record where ``mask`` is true (one reason, or one per record)."""
        for i, hit in enumerate(list(mask)):
            if hit:
                self.reasons[i].append(reasons if isinstance(reasons, str) else reasons[i])

    def ids(self, name: str, *, transform: Callable[[str], str | None] | None = None) -> pd.Series:
        """Post ids as strings; an empty or Excel-mangled id makes the record a reject."""
        raw = self.text(name).map(lambda v: v.strip() if isinstance(v, str) else v)
        mangled = raw.map(is_excel_mangled_id).astype(bool)
        self.flag(mangled, [f"post id was mangled by Excel ({v}); re-export without opening in Excel"
                            for v in raw.tolist()])
        ids = raw.map(transform, na_action="ignore") if transform else raw
        self.flag(ids.isna() & ~mangled, f"no post id in '{self.label(name)}'; the post cannot be identified")
        return ids.where(~mangled, None)

    def times(self, name: str, *, context: ReadContext, dayfirst: bool | None = None) -> pd.Series:
        """Timestamps in UTC (an export's own offset wins, else ``context.timezone``); bad or empty -> reject.

        ``dayfirst`` overrides ``context.dayfirst`` for exports whose day/month order is documented.
        """
        cells = self.cells(name)
        stamps, bad = parse_datetimes(cells, timezone=context.timezone,
                                      dayfirst=context.dayfirst if dayfirst is None else dayfirst)
        label = self.label(name)
        self.flag(bad, [f"'{label}' value {v!r} is not a date/time" for v in cells.tolist()])
        self.flag(stamps.isna() & ~bad, f"no publish time in '{label}'")
        return stamps

    def metrics(self, names: Sequence[str]) -> dict[str, pd.Series]:
        """Counts as floats for each present field in ``names``; non-numeric or negative cells -> reject."""
        out: dict[str, pd.Series] = {}
        for name in names:
            if name not in self.columns:
                continue
            cells = self.cells(name)
            numbers, bad = parse_numbers(cells)
            label = self.label(name)
            self.flag(bad, [f"'{label}' value {v!r} is not a number" for v in cells.tolist()])
            self.flag(numbers < 0, [f"'{label}' value {v!r} is negative; a count cannot be below zero, "
                                    "check the export" for v in cells.tolist()])
            out[name] = numbers.reset_index(drop=True)
        return out

    def parsed(self, format_id: str, frame: pd.DataFrame) -> Parsed:
        """Rows without problems as the ``posts`` table; the others as rejects (all their reasons)."""
        bad = np.array([bool(r) for r in self.reasons], dtype=bool)
        rejects = [
            Reject(source_row=self.source_rows[i], raw=self.raws[i], reason="; ".join(self.reasons[i]))
            for i in np.flatnonzero(bad)
        ]
        staged = frame.loc[~bad].reset_index(drop=True)
        return Parsed(format=format_id, tables={"posts": staged}, rejects=rejects, rows_read=len(self.rows))


def _join(cells: Sequence[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(["" if c is None else c for c in cells])
    return buffer.getvalue()
