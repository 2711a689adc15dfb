"""What the tabular post adapters share (``x``, ``meta``, ``instagram``, ``linkedin``, ``mastodon``):
the staging columns, header matching, record splitting for sniffers and the staging frame builder."""

from __future__ import annotations

import csv
import io
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
)

__all__ = [
    "METRICS",
    "POSTS_COLUMNS",
    "PostRecords",
    "head_rows",
    "header_key",
    "metrics_as_of_from_name",
    "posts_frame",
    "read_either",
    "sniff_either",
    "split_records",
]

POSTS_COLUMNS = (
    "platform", "post_id", "handle", "published_at", "text", "url", "impressions", "reach", "reactions",
    "comments", "shares", "clicks", "saves", "video_views", "metrics_as_of", "is_share", "shared_url",
    "source_row",
)
METRICS = ("impressions", "reach", "reactions", "comments", "shares", "clicks", "saves", "video_views")


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


def sniff_either(formats: Sequence[tuple[str, str, Callable, Callable]], path: Path, head: bytes) -> bool:
    """Whether any of a two-format module's ``FORMATS`` claims the file."""
    return any(sniff(path, head) for _, _, sniff, _ in formats)


def read_either(formats: Sequence[tuple[str, str, Callable, Callable]], path: Path, context: ReadContext, *,
                expected: str) -> Parsed:
    """Read a file with the first of ``formats`` whose sniffer claims it; ``Parsed.format`` says which."""
    head = path.read_bytes()[: 1 << 16]
    for _, _, sniff, read in formats:
        if sniff(path, head):
            return read(path, context)
    found = head_rows(head, 1)
    raise SourceError(f"{path.name}: expected {expected}, found header {found[0] if found else 'nothing'}")
