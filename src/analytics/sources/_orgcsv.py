"""What the adapters of the organisation's own CSV files share (roster, donors, incidents, trainings,
policy versions, audience comments, monitoring posts).

These documented CSVs have their columns matched by name, whatever their case, spacing or order:

* :class:`Column` – one expected column and the header names it goes by;
* :func:`claims` – the content sniffer of all seven formats. Each format has a signature (the columns
  that make it) and the signatures are tried in one fixed order, most specific first, so a file is
  claimed by at most one of them; headers of survey exports (Qualtrics, SurveyMonkey, Google and
  Microsoft Forms) are never claimed;
* :class:`Rows` – the data records of one file with per-row checks that collect the reasons a row is
  rejected, and :meth:`Rows.parsed` that splits them into the staging frame and the rejects.

Reasons never quote a person's name, email or handle: rejects are stored with their reason as is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analytics.privacy import EMAIL_RE
from analytics.sources.base import (
    PYTHON_STR,
    CsvTable,
    Parsed,
    ReadContext,
    Reject,
    SourceError,
    is_excel_mangled_id,
    parse_bool,
    parse_datetimes,
    parse_numbers,
    read_csv_rows,
    read_csv_table,
)

__all__ = [
    "COMMENT_ID",
    "COMPLETED_AT",
    "DEPARTMENT",
    "DONOR_NAME",
    "EFFECTIVE_ON",
    "EMAIL",
    "HANDLE",
    "INCIDENT_ID",
    "MODULE",
    "PERSON_NAME",
    "PLATFORM",
    "POSTED_AT",
    "PUBLIC_ACKNOWLEDGEMENT",
    "PUBLISHED_AT",
    "REPORTED_AT",
    "SEVERITY",
    "SIGNATURES",
    "TEXT",
    "VERSION",
    "Column",
    "Rows",
    "choice_key",
    "claims",
    "column_key",
    "header_keys",
    "map_distinct",
]


def column_key(name: object) -> str:
    """A header cell reduced to lower-case letters and digits: ``" E-mail Address"`` -> ``"emailaddress"``.

    >>> column_key("\\ufeffFull Name"), column_key("posted_at")
    ('fullname', 'postedat')
    """
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


@dataclass(frozen=True)
class Column:
    """An expected column: its name in the documented format, the other names it goes by, and whether
    a file without it cannot be read."""

    name: str
    aliases: tuple[str, ...] = ()
    required: bool = False

    def position(self, keys: Sequence[str]) -> int | None:
        """Index of the first header (as :func:`column_key`) that names this column, in alias order."""
        for wanted in (self.name, *self.aliases):
            key = column_key(wanted)
            if key in keys:
                return keys.index(key)
        return None


EMAIL = Column("email", ("email_address", "e-mail", "e-mail address", "employee_email", "work_email"), True)
PERSON_NAME = Column("full_name", ("name", "employee_name", "employee"), True)
DEPARTMENT = Column("department", ("dept", "team"), True)
DONOR_NAME = Column("donor_name", ("donor", "name", "full_name"), True)
PUBLIC_ACKNOWLEDGEMENT = Column("public_acknowledgement", ("public_acknowledgment", "acknowledge_publicly"), True)
INCIDENT_ID = Column("incident_id", ("incident", "incident_number", "case_id"), True)
REPORTED_AT = Column("reported_at", ("reported", "reported_on", "date_reported"), True)
SEVERITY = Column("severity", (), True)
MODULE = Column("module", ("training_module", "course"), True)
COMPLETED_AT = Column("completed_at", ("completed_on", "completion_date", "completed"), True)
VERSION = Column("version", ("policy_version",), True)
EFFECTIVE_ON = Column("effective_on", ("effective_date", "effective_from", "effective"), True)
PLATFORM = Column("platform", ("network", "channel"), True)
COMMENT_ID = Column("comment_id", (), True)
PUBLISHED_AT = Column("published_at", ("created_at", "commented_at"), True)
TEXT = Column("text", ("comment_text", "message", "content", "post_text"), True)
HANDLE = Column("handle", ("account", "author", "username", "author_handle"), True)
POSTED_AT = Column("posted_at", ("published_at", "post_date", "created_at"), True)

#: Most specific first: a file is claimed by the first format whose signature columns it has.
SIGNATURES: dict[str, tuple[Column, ...]] = {
    "comments": (COMMENT_ID, PLATFORM, PUBLISHED_AT, TEXT),
    "incidents": (INCIDENT_ID, REPORTED_AT, SEVERITY),
    "policy_versions": (VERSION, EFFECTIVE_ON),
    "trainings": (EMAIL, MODULE, COMPLETED_AT),
    "donors": (DONOR_NAME, PUBLIC_ACKNOWLEDGEMENT),
    "monitoring": (PLATFORM, HANDLE, POSTED_AT, TEXT),
    "roster": (PERSON_NAME, EMAIL, DEPARTMENT),
}

# Columns only survey exports have (Qualtrics current and legacy, SurveyMonkey, Google Forms, MS Forms):
# such a file may well carry Name, Email and Department answers, and is still not a roster.
_SURVEY_MARKERS = frozenset(column_key(c) for c in (
    "ResponseId", "ResponseSet", "RecordedDate", "IPAddress", "DistributionChannel", "Respondent ID",
    "Collector ID", "Timestamp", "Completion time", "Start time",
))


def _decode_head(head: bytes) -> str | None:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head.decode("utf-16", errors="ignore")
    else:
        head = head.removeprefix(b"\xef\xbb\xbf")
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError as error:
            # the 64 KiB head may end inside a character; anything earlier means the file is not UTF-8
            text = (head[: error.start].decode("utf-8") if error.start >= len(head) - 3
                    else head.decode("cp1252", errors="replace"))
    return None if "\x00" in text else text


def header_keys(path: Path, head: bytes) -> list[str] | None:
    """The header row (first non-blank line) of a delimited text export as :func:`column_key` keys."""
    text = _decode_head(head)
    if text is None:
        return None
    lines = [line.rstrip("\r") for line in text.split("\n")[:50] if line.strip(" \t\r,;")]
    if not lines:
        return None
    if any('"ImportId"' in line or '""ImportId""' in line for line in lines[:20]):
        return None  # a Qualtrics export's third header row (question text above it may span lines)
    try:
        rows = read_csv_rows(path, text=lines[0])
    except SourceError:
        return None
    return [column_key(cell) for cell in rows[0]] if rows else None


def claims(format_id: str, path: Path, head: bytes) -> bool:
    """Whether ``format_id`` (one of :data:`SIGNATURES`) is the organisation format of this file."""
    keys = header_keys(path, head)
    if not keys or _SURVEY_MARKERS.intersection(keys):
        return False
    for candidate, signature in SIGNATURES.items():
        if all(column.position(keys) is not None for column in signature):
            return candidate == format_id
    return False


# --- records and row checks -------------------------------------------------------------------------

def _cell_text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


_WITHHELD = "[withheld]"
_CHOICE_SEPARATORS = re.compile(r"[\s_-]+")


def choice_key(value: str) -> str:
    """A category as written by people, reduced to an id: ``" Self-Reported "`` -> ``"self_reported"``."""
    return _CHOICE_SEPARATORS.sub("_", value.strip().lower()).strip("_")


def _present_text(values: pd.Series) -> pd.Series:
    """:func:`_cell_text` of every cell (object dtype, ``None`` when empty), without a Python call per cell."""
    stripped = values.astype(PYTHON_STR).str.strip()  # Python's str.strip: the same whitespace as _cell_text
    keep = (stripped.notna() & (stripped != "")).to_numpy(dtype=bool)
    return pd.Series(np.where(keep, stripped.to_numpy(dtype=object), None), index=values.index, dtype=object)


#: A reason for flagged rows: one text, one per row (a Series), or a function of the flagged rows' positions.
Reason = str | pd.Series | Callable[[np.ndarray], Sequence[str]]


@dataclass
class Rows:
    """The data records of one organisation CSV, with their cells by column and the problems found.

    Each check returns the parsed column and records, per row, what is wrong with it in words a
    person can act on. :meth:`parsed` keeps the rows without problems and rejects the others.
    ``found`` names the expected columns the file has.
    """

    path: Path
    cells: dict[str, pd.Series]
    headers: dict[str, str]
    source_row: np.ndarray
    table: CsvTable
    records: np.ndarray
    withheld: frozenset[int] = frozenset()
    problems: dict[int, list[str]] = field(default_factory=dict)
    found: frozenset[str] = frozenset()
    _texts: dict[str, pd.Series] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, path: Path, columns: Sequence[Column], *, expected: str, private: Sequence[str] = ()) -> Rows:
        """Read ``path`` and map its header to ``columns``; a missing required column is a SourceError.

        Cells of the ``private`` columns are withheld from the rejects' raw text: a rejected person never
        reaches the scrubber, so their name would otherwise be stored in clear.
        """
        table = read_csv_table(path)
        filled = np.zeros(len(table), dtype=bool)
        for column in table.columns:  # most rows show a filled cell in the first column: test only the rest
            unknown = np.flatnonzero(~filled)
            if not len(unknown):
                break
            filled[unknown] = _present_text(column.iloc[unknown]).notna().to_numpy(dtype=bool)
        if not filled.any():
            raise SourceError(f"{path.name}: expected {expected} with a header row, found an empty file")
        start = int(np.flatnonzero(filled)[0])
        header = [str(c).strip().lstrip("\ufeff") for c in table.record(start)]
        keys = [column_key(h) for h in header]
        positions = {c.name: c.position(keys) for c in columns}
        missing = [c.name for c in columns if c.required and positions[c.name] is None]
        if missing:
            raise SourceError(
                f"{path.name}: expected {expected} with columns "
                f"{', '.join(c.name for c in columns if c.required)}; missing {', '.join(missing)}; "
                f"found {', '.join(h for h in header if h) or 'no column names'}"
            )
        records = np.flatnonzero(filled[start + 1:]) + start + 1
        cells = {}
        for name, position in positions.items():
            if position is None:
                cells[name] = pd.Series([None] * len(records), dtype=object)
            else:
                values = table.columns[position].iloc[records].astype(object).to_numpy(dtype=object)
                cells[name] = pd.Series(np.where(pd.isna(values), None, values), dtype=object)
        headers = {name: header[p] if p is not None else name for name, p in positions.items()}
        withheld = frozenset(positions[name] for name in private if positions[name] is not None)
        return cls(path, cells, headers, records - start, table, records, withheld,
                   found=frozenset(n for n, p in positions.items() if p is not None))

    def __len__(self) -> int:
        return len(self.source_row)

    def raw(self, i: int) -> str:
        """Row ``i`` as written (cells joined with ``,``), private cells withheld."""
        cells = self.table.record(int(self.records[i]))
        return ",".join(_WITHHELD if j in self.withheld and _cell_text(c) else c for j, c in enumerate(cells))

    def flag(self, mask: pd.Series | np.ndarray, reason: Reason) -> None:
        """Record ``reason`` against every row where ``mask`` is true: one text, one per row (a Series),
        or a function that gets the flagged rows' positions and returns their reasons."""
        hits = np.flatnonzero(np.asarray(mask, dtype=bool))
        if not len(hits):
            return
        if isinstance(reason, str):
            texts: Sequence[str] = [reason] * len(hits)
        elif isinstance(reason, pd.Series):
            texts = [str(reason.iloc[i]) for i in hits]
        else:
            texts = reason(hits)
        for i, text in zip(hits.tolist(), texts, strict=True):
            self.problems.setdefault(i, []).append(text)

    def _quoted(self, name: str, template: str) -> Callable[[np.ndarray], list[str]]:
        """Reasons quoting each flagged row's cell of ``name``: ``template`` with ``{v}`` = its text."""
        def reasons(hits: np.ndarray) -> list[str]:
            return [template.format(v=repr(_cell_text(self.cells[name].iat[i]))) for i in hits]
        return reasons

    def _stripped(self, name: str) -> pd.Series:
        if name not in self._texts:
            self._texts[name] = _present_text(self.cells[name])
        return self._texts[name]

    def text(self, name: str, *, required: bool = False) -> pd.Series:
        """Stripped cell text, ``None`` when empty; an empty required cell is a problem."""
        values = self._stripped(name).copy()
        if required:
            self.flag(values.isna(), f"missing {self.headers[name]}: fill it in")
        return values

    def identifier(self, name: str, *, what: str, required: bool = True) -> pd.Series:
        """An id kept as text; one that went through Excel (``1.22E+17``) cannot be recovered."""
        values = self.text(name, required=required)
        mangled = map_distinct(values, is_excel_mangled_id).fillna(False).astype(bool)
        self.flag(mangled, lambda hits: [f"{what} was mangled by Excel ({values.iat[i]}); re-export without "
                                         "opening in Excel" for i in hits])
        return values.where(~mangled, None)

    def emails(self, name: str, *, required: bool) -> pd.Series:
        """Email addresses; a malformed one is a problem (the reason does not repeat it: it may be a name)."""
        values = self.text(name, required=required)
        malformed = map_distinct(values, lambda v: EMAIL_RE.fullmatch(v) is None).fillna(False)
        self.flag(malformed.astype(bool), f"invalid email address in {self.headers[name]}: correct it (name@domain)")
        return values.where(~malformed.astype(bool), None)

    def datetimes(self, name: str, context: ReadContext, *, required: bool = False) -> pd.Series:
        """Timestamps in UTC (a value without its own offset is in the organisation's time zone)."""
        stamps, bad = parse_datetimes(self.cells[name], timezone=context.timezone, dayfirst=context.dayfirst)
        if stamps.dt.tz is None:  # an all-empty column comes back naive
            stamps = stamps.dt.tz_localize("UTC")
        stamps = stamps.astype("datetime64[us, UTC]")
        self.flag(bad, self._quoted(name, f"{self.headers[name]} {{v}} is not a date: use YYYY-MM-DD or "
                                          "YYYY-MM-DD HH:MM"))
        if required:
            self.flag(self._stripped(name).isna(), f"missing {self.headers[name]}: fill in the date")
        return stamps

    def counts(self, name: str) -> pd.Series:
        """Non-negative metric counts as floats (NaN when absent); text or negatives are problems."""
        numbers, bad = parse_numbers(self.cells[name])
        self.flag(bad, self._quoted(name, f"{self.headers[name]} {{v}} is not a number"))
        negative = numbers < 0
        self.flag(negative, self._quoted(name, f"{self.headers[name]} {{v}} is negative: a count cannot be below 0"))
        return numbers.where(~negative)

    def choice(self, name: str, allowed: Sequence[str], *, what: str,
               aliases: Mapping[str, str] | None = None) -> pd.Series:
        """One of ``allowed`` ids, whatever its case or spacing; anything else is a problem."""
        lookup = {choice_key(a): a for a in allowed} | {choice_key(k): v for k, v in (aliases or {}).items()}
        values = self.text(name, required=True)
        chosen = map_distinct(values, lambda v: lookup.get(choice_key(v)))
        unknown = values.notna() & chosen.isna()
        self.flag(unknown, lambda hits: [f"unknown {what} {values.iat[i]!r} in {self.headers[name]}: use one of "
                                         f"{', '.join(allowed)}" for i in hits])
        return chosen.astype(object)

    def flags(self, name: str) -> pd.Series:
        """Yes/no cells as bool (empty = no); anything else is a problem."""
        values = map_distinct(self.cells[name], parse_bool, missing=False)
        self.flag(values.isna(), f"{self.headers[name]} must be yes or no")
        return values.fillna(False).astype(bool)

    def parsed(self, format_id: str, table: str, columns: Mapping[str, pd.Series], *, note: str = "") -> Parsed:
        """The staging frame of the rows without problems, and one reject per row with problems
        (its reasons joined with ``;``, then ``note``)."""
        good = np.ones(len(self), dtype=bool)
        good[list(self.problems)] = False
        frame = pd.DataFrame(index=pd.RangeIndex(int(good.sum())))
        for name, series in columns.items():
            kept = series[good].reset_index(drop=True)
            frame[name] = kept.astype("str") if kept.dtype == object else kept
        frame["source_row"] = pd.Series(np.asarray(self.source_row, dtype="int64")[good])
        rejects = [Reject(int(self.source_row[i]), self.raw(i), "; ".join(self.problems[i]) + note)
                   for i in sorted(self.problems)]
        return Parsed(format=format_id, tables={table: frame}, rejects=rejects, rows_read=len(self))


def map_distinct(values: pd.Series, function: Callable[[Any], Any], *, missing: Any = None) -> pd.Series:
    """``values.map(function, na_action="ignore")`` (missing cells give ``missing``) as an object Series,
    calling ``function`` once per distinct value: a million-row column usually holds far fewer.

    >>> map_distinct(pd.Series(["a", None, "a"]), str.upper).tolist()
    ['A', None, 'A']
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.array([function(u) for u in uniques] + [missing], dtype=object)
    return pd.Series(mapped[codes], index=values.index, dtype=object)
