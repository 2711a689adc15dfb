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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analytics.privacy import EMAIL_RE
from analytics.sources.base import (
    Parsed,
    ReadContext,
    Reject,
    SourceError,
    is_excel_mangled_id,
    parse_bool,
    parse_datetimes,
    parse_numbers,
    read_csv_rows,
    read_text,
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
    source_row: list[int]
    raw: list[str]
    problems: list[list[str]] = field(default_factory=list)
    found: frozenset[str] = frozenset()

    @classmethod
    def load(cls, path: Path, columns: Sequence[Column], *, expected: str, private: Sequence[str] = ()) -> Rows:
        """Read ``path`` and map its header to ``columns``; a missing required column is a SourceError.

        Cells of the ``private`` columns are withheld from the rejects' raw text: a rejected person never
        reaches the scrubber, so their name would otherwise be stored in clear.
        """
        records = read_csv_rows(path, text=read_text(path))
        start = next((i for i, r in enumerate(records) if any(_cell_text(c) for c in r)), None)
        if start is None:
            raise SourceError(f"{path.name}: expected {expected} with a header row, found an empty file")
        header = [str(c).strip().lstrip("\ufeff") for c in records[start]]
        keys = [column_key(h) for h in header]
        positions = {c.name: c.position(keys) for c in columns}
        missing = [c.name for c in columns if c.required and positions[c.name] is None]
        if missing:
            raise SourceError(
                f"{path.name}: expected {expected} with columns "
                f"{', '.join(c.name for c in columns if c.required)}; missing {', '.join(missing)}; "
                f"found {', '.join(h for h in header if h) or 'no column names'}"
            )
        numbered = [(n, r) for n, r in enumerate(records[start + 1:], start=1) if any(_cell_text(c) for c in r)]
        cells = {}
        for name, position in positions.items():
            values = [r[position] if position is not None and position < len(r) else None for _, r in numbered]
            cells[name] = pd.Series(values, dtype=object)
        headers = {name: header[p] if p is not None else name for name, p in positions.items()}
        withheld = {positions[name] for name in private if positions[name] is not None}
        raw = [",".join(_WITHHELD if i in withheld and _cell_text(c) else c for i, c in enumerate(r))
               for _, r in numbered]
        return cls(path, cells, headers, [n for n, _ in numbered], raw,
                   [[] for _ in numbered], frozenset(n for n, p in positions.items() if p is not None))

    def __len__(self) -> int:
        return len(self.source_row)

    def flag(self, mask: pd.Series | np.ndarray, reason: str | pd.Series) -> None:
        """Record ``reason`` (one text, or one per row) against every row where ``mask`` is true."""
        for i in np.flatnonzero(np.asarray(mask, dtype=bool)):
            self.problems[i].append(reason if isinstance(reason, str) else str(reason.iloc[i]))

    def text(self, name: str, *, required: bool = False) -> pd.Series:
        """Stripped cell text, ``None`` when empty; an empty required cell is a problem."""
        values = pd.Series([_cell_text(v) for v in self.cells[name]], dtype=object)
        if required:
            self.flag(values.isna(), f"missing {self.headers[name]}: fill it in")
        return values

    def identifier(self, name: str, *, what: str, required: bool = True) -> pd.Series:
        """An id kept as text; one that went through Excel (``1.22E+17``) cannot be recovered."""
        values = self.text(name, required=required)
        mangled = values.map(is_excel_mangled_id, na_action="ignore").fillna(False).astype(bool)
        self.flag(mangled, values.map(
            lambda v: f"{what} was mangled by Excel ({v}); re-export without opening in Excel", na_action="ignore"))
        return values.where(~mangled, None)

    def emails(self, name: str, *, required: bool) -> pd.Series:
        """Email addresses; a malformed one is a problem (the reason does not repeat it: it may be a name)."""
        values = self.text(name, required=required)
        malformed = values.map(lambda v: EMAIL_RE.fullmatch(v) is None, na_action="ignore").fillna(False)
        self.flag(malformed.astype(bool), f"invalid email address in {self.headers[name]}: correct it (name@domain)")
        return values.where(~malformed.astype(bool), None)

    def datetimes(self, name: str, context: ReadContext, *, required: bool = False) -> pd.Series:
        """Timestamps in UTC (a value without its own offset is in the organisation's time zone)."""
        stamps, bad = parse_datetimes(self.cells[name], timezone=context.timezone, dayfirst=context.dayfirst)
        if stamps.dt.tz is None:  # an all-empty column comes back naive
            stamps = stamps.dt.tz_localize("UTC")
        stamps = stamps.astype("datetime64[us, UTC]")
        raw = self.cells[name].map(_cell_text)
        self.flag(bad, raw.map(lambda v: f"{self.headers[name]} {v!r} is not a date: use YYYY-MM-DD or "
                                         "YYYY-MM-DD HH:MM", na_action="ignore"))
        if required:
            self.flag(raw.isna(), f"missing {self.headers[name]}: fill in the date")
        return stamps

    def counts(self, name: str) -> pd.Series:
        """Non-negative metric counts as floats (NaN when absent); text or negatives are problems."""
        numbers, bad = parse_numbers(self.cells[name])
        raw = self.cells[name].map(_cell_text)
        self.flag(bad, raw.map(lambda v: f"{self.headers[name]} {v!r} is not a number", na_action="ignore"))
        negative = numbers < 0
        self.flag(negative, raw.map(lambda v: f"{self.headers[name]} {v!r} is negative: a count cannot be below 0",
                                    na_action="ignore"))
        return numbers.where(~negative)

    def choice(self, name: str, allowed: Sequence[str], *, what: str,
               aliases: Mapping[str, str] | None = None) -> pd.Series:
        """One of ``allowed`` ids, whatever its case or spacing; anything else is a problem."""
        lookup = {choice_key(a): a for a in allowed} | {choice_key(k): v for k, v in (aliases or {}).items()}
        values = self.text(name, required=True)
        chosen = values.map(lambda v: lookup.get(choice_key(v)), na_action="ignore")
        unknown = values.notna() & chosen.isna()
        self.flag(unknown, values.map(
            lambda v: f"unknown {what} {v!r} in {self.headers[name]}: use one of {', '.join(allowed)}",
            na_action="ignore"))
        return chosen.astype(object)

    def flags(self, name: str) -> pd.Series:
        """Yes/no cells as bool (empty = no); anything else is a problem."""
        values = self.cells[name].map(parse_bool)
        self.flag(values.isna(), f"{self.headers[name]} must be yes or no")
        return values.fillna(False).astype(bool)

    def parsed(self, format_id: str, table: str, columns: Mapping[str, pd.Series], *, note: str = "") -> Parsed:
        """The staging frame of the rows without problems, and one reject per row with problems
        (its reasons joined with ``;``, then ``note``)."""
        good = np.array([not p for p in self.problems], dtype=bool)
        frame = pd.DataFrame(index=pd.RangeIndex(int(good.sum())))
        for name, series in columns.items():
            kept = series[good].reset_index(drop=True)
            frame[name] = kept.astype("str") if kept.dtype == object else kept
        frame["source_row"] = pd.Series(np.asarray(self.source_row, dtype="int64")[good])
        rejects = [Reject(row, raw, "; ".join(problems) + note)
                   for row, raw, problems in zip(self.source_row, self.raw, self.problems, strict=True) if problems]
        return Parsed(format=format_id, tables={table: frame}, rejects=rejects, rows_read=len(self))
