"""What every source adapter shares: the parse result, the read context and robust cell parsers.

An adapter is a module in :mod:`analytics.sources` with

* ``FORMAT`` – its format id (``"qualtrics"``, ``"x_activity"`` ...) and ``DESCRIPTION`` (one line,
  shown when a file matches no format);
* ``sniff(path, head) -> bool`` – whether the file looks like this format (``head`` = first 64 KiB);
* ``read(path, context) -> Parsed`` – the file's rows as staging tables (see :class:`Parsed`).

Adapters never write anything and never pseudonymise: :mod:`analytics.ingest` does that in one place.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

__all__ = [
    "PYTHON_STR",
    "CsvTable",
    "Parsed",
    "ReadContext",
    "Reject",
    "SourceError",
    "Workbook",
    "forget_workbook",
    "is_excel_mangled_id",
    "is_xlsx",
    "parse_bool",
    "parse_datetimes",
    "parse_numbers",
    "platform_id",
    "read_csv_rows",
    "read_csv_table",
    "read_text",
    "read_xlsx_rows",
    "records_to_frame",
    "workbook",
]


class SourceError(Exception):
    """A file that cannot be read at all. The message names the file, what was expected and what was found."""


@dataclass(frozen=True)
class Reject:
    """A row that cannot be loaded: its 1-based record number after the header, the raw row, and why."""

    source_row: int
    raw: str
    reason: str


@dataclass
class Parsed:
    """What an adapter read from one file.

    ``tables`` maps a staging table name to its frame. Staging tables carry canonical columns plus the
    raw identity columns ingest needs to attribute and pseudonymise (``handle``, ``email``, ``name``);
    every frame has ``source_row``. ``rows_read`` counts the file's data records: each ends in exactly
    one staging row (of one table) or one reject.
    """

    format: str
    tables: dict[str, pd.DataFrame]
    rejects: list[Reject] = field(default_factory=list)
    rows_read: int = 0


@dataclass(frozen=True)
class ReadContext:
    """Settings an adapter needs: the organisation time zone, the day/month fallback and the codebook."""

    timezone: str = "UTC"
    dayfirst: bool = False
    codebook: Any = None  # analytics.codebook.Codebook; typed loosely to keep sources below codebook-free


# --- bytes -> text ----------------------------------------------------------------------------------

def is_xlsx(head: bytes) -> bool:
    """An .xlsx (zip with an Excel workbook part), whatever the file is called."""
    return head[:4] == b"PK\x03\x04" and b"xl/" in head


def read_text(path: Path) -> str:
    """Decode an export: UTF-8 (with or without BOM), UTF-16 (BOM), else cp1252. NUL bytes are an error.

    Line endings are kept (csv handles CRLF and quoted newlines itself).
    """
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
    elif data.startswith(b"\xef\xbb\xbf"):
        text = data[3:].decode("utf-8", errors="strict")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
    if "\x00" in text:
        raise SourceError(f"{path.name}: expected a text export, found NUL bytes (a binary file?)")
    return text


def _sniff_delimiter(sample: str) -> str:
    first_line = sample.split("\n", 1)[0]
    counts = {d: first_line.count(d) for d in (",", "\t", ";")}
    if counts["\t"] > counts[","] and counts["\t"] >= counts[";"]:
        return "\t"
    if counts[";"] > counts[","]:
        return ";"
    return ","


def read_csv_rows(path: Path, *, text: str | None = None) -> list[list[str]]:
    """All records of a delimited text export as lists of strings (delimiter sniffed: , ; or tab)."""
    text = read_text(path) if text is None else text
    delimiter = _sniff_delimiter(text[:20000])
    csv.field_size_limit(1 << 30)
    try:
        return [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)]
    except csv.Error as error:
        raise SourceError(f"{path.name}: expected well-formed CSV, found {error} (truncated file?)") from error


#: Text cells whose string methods are Python's own (``str.strip`` whitespace, ``re`` patterns), whatever
#: pandas' default string storage is.
PYTHON_STR = pd.StringDtype(storage="python", na_value=np.nan)


@dataclass(frozen=True)
class CsvTable:
    """The records of a delimited text export by column, as :func:`read_csv_rows` splits them.

    ``columns[j]`` holds cell ``j`` of every record (``str`` dtype; missing where a record is shorter);
    ``widths`` is each record's number of cells (0 for an empty line).
    """

    columns: list[pd.Series]
    widths: np.ndarray

    def __len__(self) -> int:
        return len(self.widths)

    def record(self, i: int) -> list[str]:
        """Record ``i`` as :func:`read_csv_rows` returns it."""
        return [str(column.iat[i]) for column in self.columns[: int(self.widths[i])]]


def read_csv_table(path: Path) -> CsvTable:
    """The records of a delimited text export, column by column: what :func:`read_csv_rows` returns.

    A large UTF-8 file whose quoting is regular (every quoted field closes before a delimiter or line
    end, lines end in LF or CRLF, every record as wide as the others) is split by pandas' C reader; a
    file with anything unusual (other encodings, ragged records, stray quotes) takes :func:`read_csv_rows`,
    so both give the same cells, the same errors and the same record numbers.
    """
    data = path.read_bytes()
    table = _regular_csv_table(data)
    if table is not None:
        return table
    rows = read_csv_rows(path)
    width = max((len(r) for r in rows), default=0)
    columns = [pd.Series([r[j] if j < len(r) else None for r in rows], dtype=PYTHON_STR) for j in range(width)]
    return CsvTable(columns, np.array([len(r) for r in rows], dtype=np.int64))


_QUOTE, _LF, _CR = 34, 10, 13


#: Bytes of a file compared at a time when its quotes, line ends and delimiters are looked for: one buffer
#: serves every chunk, where comparing the whole file made a boolean array as large as the file for each
#: byte looked for (fresh memory: 0.4-1.1 s for a 200 MB export's four here, against 0.2-0.3 s).
_BYTES_COMPARED = 1 << 22


def _byte_positions(raw: np.ndarray, values: tuple[int, ...]) -> list[np.ndarray]:
    """The positions in ``raw`` (bytes as uint8) of each of ``values``, in ascending order."""
    found: list[list[np.ndarray]] = [[] for _ in values]
    hits = np.empty(min(_BYTES_COMPARED, len(raw)), dtype=bool)
    for start in range(0, len(raw), _BYTES_COMPARED):
        chunk = raw[start: start + _BYTES_COMPARED]
        chunk_hits = hits[: len(chunk)]
        for positions, value in zip(found, values, strict=True):
            np.equal(chunk, value, out=chunk_hits)
            positions.append(np.flatnonzero(chunk_hits) + start)
    return [np.concatenate(positions) if positions else np.zeros(0, dtype=np.intp) for positions in found]


def _regular_csv_table(data: bytes) -> CsvTable | None:
    """:func:`read_csv_table`'s fast path, or ``None`` when the file is not plainly regular UTF-8 CSV.

    Quotes are checked by their runs: outside a quoted field a run must start a field (and an even run
    must also end it); inside one, an odd run closes the field and must be followed by a delimiter or a
    line end. A file that passes has its quoted regions exactly where the quote count is odd, so line
    ends and delimiters outside them are the record and cell boundaries Python's csv module finds.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data:
        return None  # UTF-16, or NULs: read_text decides (and raises)
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    if not body:
        return None
    delimiter = _sniff_delimiter(body[:80000].decode("utf-8", errors="ignore")[:20000])
    sep = ord(delimiter)
    raw = np.frombuffer(body, dtype=np.uint8)
    size = len(raw)
    quotes, line_ends, returns, delimiters = _byte_positions(raw, (_QUOTE, _LF, _CR, sep))
    if len(quotes) % 2:
        return None
    if len(quotes):
        starts = np.flatnonzero(np.diff(quotes, prepend=-2) != 1)
        ends = np.append(starts[1:], len(quotes))  # one past each run's last quote (index into quotes)
        run = ends - starts
        inside = starts % 2 == 1  # an odd number of quotes before the run
        first, last = quotes[starts], quotes[ends - 1]
        before = np.where(first > 0, raw[np.maximum(first - 1, 0)], _LF)
        after = np.where(last + 1 < size, raw[np.minimum(last + 1, size - 1)], _LF)
        opens_field = (before == sep) | (before == _LF) | (before == _CR)
        closes_field = (after == sep) | (after == _LF) | (after == _CR)
        outside_ok = ~inside & opens_field & ((run % 2 == 1) | closes_field)
        inside_ok = inside & ((run % 2 == 0) | closes_field)
        if not (outside_ok | inside_ok).all():
            return None
    line_ends = line_ends[np.searchsorted(quotes, line_ends) % 2 == 0]
    returns = returns[np.searchsorted(quotes, returns) % 2 == 0]
    if len(returns) and not ((returns + 1 < size) & (raw[np.minimum(returns + 1, size - 1)] == _LF)).all():
        return None  # a lone CR ends a record for csv: leave such files to it
    record_starts = np.concatenate(([0], line_ends + 1))
    record_ends = np.concatenate((line_ends, [size]))
    if record_starts[-1] == size:  # the file ends with a line end: no record after it
        record_starts, record_ends = record_starts[:-1], record_ends[:-1]
    lengths = record_ends - record_starts
    crlf = (lengths > 0) & (raw[np.maximum(record_ends - 1, 0)] == _CR)
    empty = (lengths - crlf) == 0
    if empty.all():
        return None
    head = int(np.flatnonzero(~empty)[0])
    header_bytes = body[record_starts[head]: record_ends[head] - int(crlf[head])]
    try:
        width = len(next(csv.reader([header_bytes.decode("utf-8")], delimiter=delimiter, strict=True)))
    except (UnicodeDecodeError, csv.Error, StopIteration):
        return None
    quoted = int((np.searchsorted(delimiters, quotes[1::2]) - np.searchsorted(delimiters, quotes[0::2])).sum())
    if len(delimiters) - quoted != (width - 1) * int((~empty).sum()):
        return None  # some record is narrower (a wider one makes the reader below fail)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            # low_memory: the tokens are turned into strings a chunk at a time (all columns are text, so no
            # dtype is guessed per chunk); a third less CPU than one pass over a 200 MB file
            frame = pd.read_csv(
                io.BytesIO(body), sep=delimiter, header=None, names=list(range(width)), index_col=False,
                dtype=str, na_filter=False, skip_blank_lines=False, engine="c", encoding="utf-8",
                quotechar='"', doublequote=True, escapechar=None, quoting=csv.QUOTE_MINIMAL,
                skipinitialspace=False, comment=None, low_memory=True,
            )
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError, Warning):
        return None
    if len(frame) != len(record_starts):
        return None
    widths = np.where(empty, 0, width).astype(np.int64)
    return CsvTable([frame[j] for j in range(width)], widths)


class Workbook:
    """One .xlsx opened once for every sniffer and the reader (see :func:`workbook`).

    openpyxl parses every sheet of a workbook in full when it opens it (to size the sheets), so a file
    opened by three sniffers and its reader was parsed over and over. ``rows`` gives what
    ``iter_rows(max_row=..., values_only=True)`` of the opened workbook gives, as lists; the first rows
    sniffers ask for are kept (or the error they raised, raised again).
    """

    def __init__(self, workbook: Any) -> None:
        self._workbook = workbook
        self._heads: dict[tuple[str | None, int], list[list[Any]] | Exception] = {}

    @property
    def sheetnames(self) -> list[str]:
        return list(self._workbook.sheetnames)

    def rows(self, sheet: str | None = None, *, max_row: int | None = None) -> list[list[Any]]:
        """Rows of sheet ``sheet`` (the first worksheet when ``None``), all of them or the first ``max_row``."""
        if max_row is None:
            return self._read(sheet, None)
        key = (sheet, max_row)
        if key not in self._heads:
            try:
                self._heads[key] = self._read(sheet, max_row)
            except Exception as error:  # kept, to be raised again as a fresh read would raise it
                self._heads[key] = error
        found = self._heads[key]
        if isinstance(found, Exception):
            raise found
        return [list(row) for row in found]

    def _read(self, sheet: str | None, max_row: int | None) -> list[list[Any]]:
        worksheet = self._workbook[sheet] if sheet is not None else self._workbook.worksheets[0]
        return [list(row) for row in worksheet.iter_rows(max_row=max_row, values_only=True)]

    def close(self) -> None:
        self._workbook.close()


#: file identity -> {data_only: opened workbook}, the most recently used last
_WORKBOOKS: dict[tuple[Any, ...], dict[bool, Workbook]] = {}
_WORKBOOKS_KEPT = 8
_FORMULA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s/>]")


def workbook(path: Path, *, data_only: bool = True) -> Workbook:
    """The .xlsx at ``path`` opened read-only, shared by the sniffers and the reader of the same file.

    Kept per file (its path, size, modification time and inode: a changed file is opened afresh) for
    the last few files; :func:`forget_workbook` drops one. A workbook without formulas gives the same
    values whether or not ``data_only`` is asked, so it is opened once for both. Errors opening the
    file (not a zip, not a workbook) are raised as openpyxl raises them.
    """
    status = path.stat()
    identity = (str(path.resolve()), status.st_size, status.st_mtime_ns, status.st_ino, status.st_dev)
    kept = _WORKBOOKS.pop(identity, {})
    _WORKBOOKS[identity] = kept
    if data_only not in kept:
        import openpyxl

        _size_sheets_from_their_head()
        data = path.read_bytes()
        kept[data_only] = Workbook(openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=data_only))
        if not _has_formulas(data):
            kept[not data_only] = kept[data_only]
    while len(_WORKBOOKS) > _WORKBOOKS_KEPT:
        _close(_WORKBOOKS.pop(next(iter(_WORKBOOKS))))
    return kept[data_only]


def _size_sheets_from_their_head() -> None:
    """Have openpyxl's read-only sheets look for their ``<dimension>`` (the size a workbook may declare) only
    before their cells (:func:`_size_from_head`). openpyxl looks for it in every sheet as it opens a workbook,
    and in a sheet that declares none it parses every cell before giving up (it waits for the end of
    ``<sheetData>``): a 2 MB LinkedIn sheet took 0.15 s to open, for nothing. openpyxl's own sizing stays at hand
    as ``_openpyxl_get_size``, for the test that compares the two."""
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    if not hasattr(ReadOnlyWorksheet, "_openpyxl_get_size"):  # once: a test may put openpyxl's back for a while
        ReadOnlyWorksheet._openpyxl_get_size = ReadOnlyWorksheet._get_size
        ReadOnlyWorksheet._get_size = _size_from_head


def _size_from_head(worksheet: Any) -> None:
    """Size an openpyxl read-only ``worksheet`` as openpyxl does, from the ``<dimension>`` it declares, if any,
    reading no further than its cells' start: the element comes before them, so the size found is the same and
    every read gives the same rows. Read with openpyxl's own parser (defusedxml's where that is installed, which
    refuses entities, an XML bomb's, as openpyxl would)."""
    from openpyxl.worksheet._reader import DATA_TAG, DIMENSION_TAG
    from openpyxl.worksheet.dimensions import SheetDimension
    from openpyxl.xml.functions import iterparse

    with worksheet._get_source() as source:
        for event, element in iterparse(source, events=("start", "end")):
            if element.tag == DATA_TAG:
                return
            if event == "end" and element.tag == DIMENSION_TAG:
                boundaries = SheetDimension.from_tree(element).boundaries
                worksheet._min_column, worksheet._min_row, worksheet._max_column, worksheet._max_row = boundaries
                return


def forget_workbook(path: Path) -> None:
    """Drop ``path``'s opened workbook (a reader calls it once it has read the file)."""
    resolved = str(path.resolve())
    for identity in [i for i in _WORKBOOKS if i[0] == resolved]:
        _close(_WORKBOOKS.pop(identity))


def _close(kept: dict[bool, Workbook]) -> None:
    for opened in set(kept.values()):
        opened.close()


def _has_formulas(data: bytes) -> bool:
    """Whether any XML part of the workbook may hold a formula element (``<f>``); unsure counts as yes."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return any(_FORMULA.search(archive.read(name)) for name in archive.namelist() if name.endswith(".xml"))
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, EOFError, NotImplementedError, RuntimeError):
        return True


def read_xlsx_rows(path: Path, *, sheet: str | None = None) -> list[list[Any]]:
    """All rows of one sheet (the first, or ``sheet``) as lists of cell values."""
    with path.open("rb"):  # a file that cannot be opened at all is an OSError, not a SourceError
        pass
    try:
        opened = workbook(path)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise SourceError(f"{path.name}: expected an .xlsx workbook, found an unreadable file ({error})") from error
    try:
        if sheet is not None and sheet not in opened.sheetnames:
            raise SourceError(f"{path.name}: expected a sheet named {sheet!r}, found {opened.sheetnames}")
        return opened.rows(sheet)
    finally:
        forget_workbook(path)


def records_to_frame(header: Sequence[str], records: Sequence[Sequence[Any]]) -> pd.DataFrame:
    """Rows under a header as an all-object frame; short rows are padded, extra cells kept as ``extra_<n>``."""
    width = max([len(header), *(len(r) for r in records)]) if records else len(header)
    names = [str(h).strip() if h is not None else "" for h in header]
    names += [f"extra_{i}" for i in range(len(names), width)]
    padded = [list(r) + [None] * (width - len(r)) for r in records]
    frame = pd.DataFrame(padded, columns=pd.Index(names), dtype=object)
    return frame


# --- cells ------------------------------------------------------------------------------------------

_MISSING = {"", "-", "--", "n/a", "na", "none", "null", "nan"}
_MANGLED_ID = re.compile(r"^\s*\d(?:\.\d+)?[eE]\+?\d+\s*$")


def is_excel_mangled_id(value: Any) -> bool:
    """An id that went through Excel and came back in scientific notation (``1.22158E+17``): unrecoverable.

    >>> is_excel_mangled_id("1.22158E+17"), is_excel_mangled_id("122158000000000000_42")
    (True, False)
    """
    return isinstance(value, str) and bool(_MANGLED_ID.match(value))


def parse_numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Metric cells to floats: ``"1,234"``, ``"1938.0"``, ``"-"`` (missing), ``"12%"`` (0.12).

    Returns ``(numbers, bad)`` where ``bad`` marks cells that held something that is not a (finite) number.

    >>> nums, bad = parse_numbers(pd.Series(["1,234", "-", "7.0", "x", None, "Infinity"]))
    >>> nums.tolist()[:3], bad.tolist()
    ([1234.0, nan, 7.0], [False, False, False, True, False, True])
    """
    raw = values.to_numpy(dtype=object)
    text_only = pd.api.types.infer_dtype(raw, skipna=True) in ("string", "empty")  # a text export: no bool cells
    if text_only and len(raw) > _DISTINCT_MIN:
        # A count column of a large export holds few distinct cells: each is parsed once. Only text cells
        # are grouped this way: factorize would merge True with 1, which parse differently.
        codes, uniques = pd.factorize(raw, use_na_sentinel=True)
        if 2 * len(uniques) < len(raw):
            numbers, bad = _number_cells(np.asarray(uniques, dtype=object), text_only=True)
            numbers, bad = np.append(numbers, np.nan), np.append(bad, False)  # code -1: an empty cell
            return (pd.Series(numbers[codes], index=values.index, dtype="float64"),
                    pd.Series(bad[codes], index=values.index))
    numbers, bad = _number_cells(raw, text_only=text_only)
    return pd.Series(numbers, index=values.index, dtype="float64"), pd.Series(bad, index=values.index)


_DISTINCT_MIN = 1000


def _number_cells(raw: np.ndarray, *, text_only: bool) -> tuple[np.ndarray, np.ndarray]:
    """:func:`parse_numbers` of an object array: ``(numbers, bad)`` as arrays."""
    # Vectorised: a million-row export must not pay a Python loop per cell. Plain numbers parse in one C
    # pass; only the cells that fail it ("1,234", "12%", "-", text) take the string clean-up.
    if text_only:
        is_bool = np.zeros(len(raw), dtype=bool)
    else:
        is_bool = np.fromiter((isinstance(v, (bool, np.bool_)) for v in raw), dtype=bool, count=len(raw))
    try:
        with np.errstate(over="ignore"):
            number = pd.to_numeric(pd.Series(np.where(is_bool, None, raw), dtype=object), errors="coerce")
        number = np.array(number, dtype="float64")  # writable: the slow cells are filled in below
    except (OverflowError, TypeError, ValueError):
        number = np.full(len(raw), np.nan)
    present = ~pd.isna(raw)
    slow = present & (np.isnan(number) | is_bool)
    percent = np.zeros(len(raw), dtype=bool)
    missing = ~present
    if slow.any():
        text = (pd.Series(raw[slow], dtype=object).astype("string").str.strip()
                .str.replace("\u00a0", "", regex=False).str.replace(" ", "", regex=False))
        blank = (text.isna() | text.str.lower().isin(_MISSING)).fillna(True).to_numpy(bool)
        cleaned = text.str.rstrip("%").str.replace(",", "", regex=False).where(~blank)
        with np.errstate(over="ignore"):
            number[slow] = pd.to_numeric(cleaned, errors="coerce").astype("float64").to_numpy()
        missing[slow] = blank
        percent[slow] = text.str.endswith("%").fillna(False).to_numpy(bool)
    # "Infinity", "1e400": no count is infinite
    bad = ~missing & ~np.isfinite(number)
    return np.where(bad | missing, np.nan, np.where(percent, number / 100, number)), bad


_PLATFORMS = {"twitter": "x", "x (twitter)": "x", "x/twitter": "x", "x.com": "x", "fb": "facebook",
              "meta": "facebook", "ig": "instagram", "linked in": "linkedin", "masto": "mastodon"}


def platform_id(value: str | None) -> str | None:
    """A platform as written in a file to its id (``"Twitter"`` -> ``"x"``); other names lower-cased.

    >>> platform_id(" Twitter "), platform_id("Mastodon"), platform_id("Threads")
    ('x', 'mastodon', 'threads')
    """
    if value is None:
        return None
    key = value.strip().lower()
    return _PLATFORMS.get(key, key)


_BOOL_TRUE = {"true", "1", "yes", "y", "t", "x", "opt-in", "opted in"}
_BOOL_FALSE = {"false", "0", "no", "n", "f", "", "opt-out", "opted out"}


def parse_bool(value: Any) -> bool | None:
    """``True``/``False`` from the many ways exports say yes and no; ``None`` when it is neither.

    >>> parse_bool("Yes"), parse_bool(0), parse_bool("maybe")
    (True, False, None)
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return False
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    text = str(value).strip().lower()
    if text in _BOOL_TRUE:
        return True
    if text in _BOOL_FALSE:
        return False
    return None


_TZ_SUFFIX = re.compile(r"\s*(?:GMT|UTC)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?\s*$", re.IGNORECASE)
_ABBREVIATIONS = {
    "UTC": "+00:00", "GMT": "+00:00", "Z": "+00:00", "BST": "+01:00", "CET": "+01:00", "CEST": "+02:00",
    "EST": "-05:00", "EDT": "-04:00", "CST": "-06:00", "CDT": "-05:00", "MST": "-07:00", "MDT": "-06:00",
    "PST": "-08:00", "PDT": "-07:00",
}
_ABBREVIATION_SUFFIX = re.compile(r"\s+(" + "|".join(_ABBREVIATIONS) + r")\s*$")
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_SLASHED = re.compile(r"^\s*(\d{1,2})[/.](\d{1,2})[/.](\d{2,4})")
#: A text starting with two one- or two-digit fields, day and month in some order.
_DAY_MONTH = re.compile(r"^\s*(\d{1,2})[/.\-\s](\d{1,2})[/.\-\s]\s*\d")


def _normalise_offset(text: str) -> str:
    text = text.strip()
    match = _TZ_SUFFIX.search(text)
    if match:
        sign, hours, minutes = match.group(1), int(match.group(2)), match.group(3) or "00"
        return text[: match.start()] + f" {sign}{hours:02d}:{minutes}"
    match = _ABBREVIATION_SUFFIX.search(text)
    if match:
        return text[: match.start()] + " " + _ABBREVIATIONS[match.group(1)]
    return text


def _decide_dayfirst(texts: list[str], fallback: bool) -> bool:
    """Day/month order from the file's own values: a first field above 12 means day first."""
    firsts, seconds = [], []
    for text in texts:
        match = _SLASHED.match(text)
        if match:
            firsts.append(int(match.group(1)))
            seconds.append(int(match.group(2)))
    if any(v > 12 for v in firsts):
        return True
    if any(v > 12 for v in seconds):
        return False
    return fallback


def parse_datetimes(
    values: pd.Series, *, timezone: str = "UTC", dayfirst: bool = False, date_format: str | None = None
) -> tuple[pd.Series, pd.Series]:
    """Export time cells to UTC timestamps.

    Handles ISO strings, ``2017-01-30 19:05 +0000``, ``2026/06/14 10:10:09 AM GMT+1``, US/EU slashed
    dates (order decided from the file's values, else ``dayfirst``), ``Tue, Jul 14, 2026``, Excel
    serial numbers and ``datetime`` cells from workbooks. A value without its own offset is local time
    in ``timezone``. Returns ``(timestamps, bad)``; ``bad`` marks non-empty cells that are not a date.

    >>> ts, bad = parse_datetimes(pd.Series(["2017-01-30 19:05 +0000", "2026/06/14 10:10:09 AM GMT+1",
    ...                                      "45000", "31/02/2026", None]), timezone="Europe/London")
    >>> [str(t) for t in ts[:3]]
    ['2017-01-30 19:05:00+00:00', '2026-06-14 09:10:09+00:00', '2023-03-15 00:00:00+00:00']
    >>> bad.tolist()
    [False, False, False, True, False]
    """
    fast = _vectorised_datetimes(values, timezone=timezone, date_format=date_format)
    if fast is not None:
        return fast
    texts = ["" if v is None or (isinstance(v, float) and np.isnan(v)) else v for v in values.tolist()]
    dayfirst = _decide_dayfirst([t for t in texts if isinstance(t, str)], dayfirst)
    shaped = {} if date_format else _datetimes_by_shape(texts, timezone=timezone, dayfirst=dayfirst)
    out: list[pd.Timestamp | None] = []
    bad = np.zeros(len(texts), dtype=bool)
    for i, raw in enumerate(texts):
        if i in shaped:
            out.append(shaped[i])
            continue
        stamp = _one_datetime(raw, timezone=timezone, dayfirst=dayfirst, date_format=date_format)
        if stamp is None and not (isinstance(raw, str) and raw.strip().lower() in _MISSING):
            bad[i] = True
        out.append(stamp)
    # tz given explicitly: a column with no date at all must still come back UTC-aware, like every other
    series = pd.Series(pd.DatetimeIndex([pd.NaT if t is None else t for t in out], dtype="datetime64[us, UTC]"),
                       index=values.index)
    return series, pd.Series(bad, index=values.index)


_OFFSET_AT_END = re.compile(r"(?:[+-]\d{2}:?\d{2}|Z)$")


def _vectorised_datetimes(
    values: pd.Series, *, timezone: str, date_format: str | None
) -> tuple[pd.Series, pd.Series] | None:
    """Fast path for large files: a column of ISO-like strings (or one ``date_format``) that all share
    the same offset style parses in one call. ``None`` sends the column to the cell-by-cell parser."""
    text = values.astype("string").str.strip()
    present = text.notna() & (text != "")
    if not present.any():
        return None
    shapes = _IsoShapes.of(text[present])
    if date_format is None and not shapes.all_dated():
        return None
    with_offset = shapes.with_offset()
    if with_offset.any() and not with_offset.all():
        return None
    try:
        parsed = pd.to_datetime(text.where(present), format=date_format or "ISO8601", errors="coerce",
                                utc=bool(with_offset.all()))
    except (ValueError, TypeError):
        return None
    if parsed[present].isna().any():
        return None
    if not with_offset.all():
        try:
            parsed = parsed.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="shift_forward").dt.tz_convert("UTC")
        except (ValueError, TypeError):
            return None
        if parsed[present].isna().any():
            return None
    return parsed.dt.as_unit("us"), pd.Series(False, index=values.index)


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class _IsoShapes:
    """What :func:`_vectorised_datetimes` asks of its (stripped, non-empty) texts: whether every one starts
    with :data:`_ISO_DATE` and which end in :data:`_OFFSET_AT_END`.

    When all texts are ASCII (``\\d`` is then ``[0-9]``) both are read off one byte buffer of the texts
    laid end to end, by position; otherwise the regular expressions decide.
    """

    texts: pd.Series
    buffer: np.ndarray | None
    starts: np.ndarray
    lengths: np.ndarray

    @classmethod
    def of(cls, texts: pd.Series) -> _IsoShapes:
        items = texts.tolist()
        joined = "".join(items)
        lengths = np.fromiter(map(len, items), dtype=np.int64, count=len(items))
        if not joined.isascii():
            return cls(texts, None, lengths, lengths)
        buffer = np.frombuffer(joined.encode("ascii"), dtype=np.uint8)
        return cls(texts, buffer, np.cumsum(lengths) - lengths, lengths)

    def _is(self, at: np.ndarray, valid: np.ndarray, allowed: bytes) -> np.ndarray:
        """Whether the character at buffer position ``at`` is one of ``allowed`` (false where not ``valid``)."""
        table = np.zeros(256, dtype=bool)
        table[np.frombuffer(allowed, dtype=np.uint8)] = True
        return valid & table[np.asarray(self.buffer)[np.where(valid, at, 0)]]

    def all_dated(self) -> bool:
        if self.buffer is None:
            return bool(self.texts.str.match(_ISO_DATE.pattern).all())
        if (self.lengths < 10).any():
            return False
        every = np.ones(len(self.lengths), dtype=bool)
        for k in range(10):
            every &= self._is(self.starts + k, every, b"-" if k in (4, 7) else _DIGITS)
        return bool(every.all())

    def with_offset(self) -> np.ndarray:
        if self.buffer is None:
            return self.texts.str.contains(_OFFSET_AT_END.pattern, regex=True).to_numpy(dtype=bool)
        ends, size = self.starts + self.lengths, self.lengths
        zulu = self._is(ends - 1, size >= 1, b"Z")
        digits_last = self._is(ends - 1, size >= 5, _DIGITS) & self._is(ends - 2, size >= 5, _DIGITS)
        hours = (self._is(ends - 4, size >= 5, _DIGITS) & self._is(ends - 5, size >= 5, b"+-"))
        hours_colon = (self._is(ends - 3, size >= 6, b":") & self._is(ends - 4, size >= 6, _DIGITS)
                       & self._is(ends - 5, size >= 6, _DIGITS) & self._is(ends - 6, size >= 6, b"+-"))
        four = hours & self._is(ends - 3, size >= 5, _DIGITS)
        return zulu | (digits_last & (four | hours_colon))


_DIGITS = b"0123456789"
_SERIAL = re.compile(r"\d{4,5}(?:\.\d+)?")
_DIGIT = re.compile(r"[0-9]")
_OFFSET_SHAPE = re.compile(r" [+-]99:99$")
_MIN_GROUP = 8


def _datetimes_by_shape(texts: list[Any], *, timezone: str, dayfirst: bool) -> dict[int, pd.Timestamp]:
    """What :func:`_one_datetime` gives, for the text cells it can be had for in bulk (position -> UTC stamp).

    pandas parses a single text with the format it guesses from that text. Cells written alike (the same
    text once every digit is a 9) are parsed in one call with the format guessed from the first of them;
    a cell counts only when that format writes its parsed value back exactly as the cell reads (with the
    UTC offset, when there is one, checked apart), so it reads the way its own guess would. Every other
    cell is left to :func:`_one_datetime`.
    """
    groups: dict[str, list[tuple[int, str]]] = {}
    for i, raw in enumerate(texts):
        if not isinstance(raw, str):
            continue
        text = raw.strip()
        if text.lower() in _MISSING or _SERIAL.fullmatch(text):
            continue
        text = _normalise_offset(text)
        groups.setdefault(_DIGIT.sub("9", text), []).append((i, text))
    found: dict[int, pd.Timestamp] = {}
    for shape, members in groups.items():
        if len(members) < _MIN_GROUP:
            continue
        guess = _format_in_order([t for _, t in members[:5]], dayfirst=dayfirst)
        if guess is None or "%Z" in guess or guess.count("%z") > 1:
            continue
        local_format, texts_local, offsets = guess, [t for _, t in members], None
        if "%z" in guess:
            if not (guess.endswith(" %z") and _OFFSET_SHAPE.search(shape)):
                continue
            local_format = guess[:-3]
            texts_local = [t[:-7] for t in texts_local]
            sign = np.array([-1 if t[-6] == "-" else 1 for _, t in members])
            offsets = pd.to_timedelta(sign * np.array([int(t[-5:-3]) * 60 + int(t[-2:]) for _, t in members]),
                                      unit="min")
        local = pd.Series(texts_local, dtype=object)
        parsed = pd.to_datetime(local, format=local_format, errors="coerce")
        exact = (parsed.notna() & (parsed.dt.strftime(local_format) == local)).to_numpy(dtype=bool)
        if not exact.any():
            continue
        stamps = pd.DatetimeIndex(parsed[exact])
        try:
            if offsets is None:
                stamps = stamps.tz_localize(timezone, ambiguous=np.ones(len(stamps), dtype=bool),
                                            nonexistent="shift_forward").tz_convert("UTC")
            else:
                stamps = (stamps - offsets[exact]).tz_localize("UTC")
        except (ValueError, TypeError):
            continue
        for (i, _), stamp in zip([m for m, ok in zip(members, exact, strict=True) if ok], stamps, strict=True):
            found[i] = stamp
    return found


def _format_in_order(texts: list[str], *, dayfirst: bool) -> str | None:
    """The first format guessed from ``texts`` that reads day and month in the preferred order.

    A cell whose preferred reading is impossible (``03/31/2025`` with day first) is read the other way
    round; its format must not be applied to cells that do have the preferred reading.
    """
    for text in texts:
        first = dayfirst and bool(_SLASHED.match(text))
        if _reads_day_first(text, first) != first:
            continue  # read the other way round (and guessing its format with ``first`` would warn so)
        guess = guess_datetime_format(text, dayfirst=first)
        if guess is None:
            continue
        if "%d" in guess and "%m" in guess and (guess.index("%d") < guess.index("%m")) != first:
            continue
        return guess
    return None


def _reads_day_first(text: str, preferred: bool) -> bool:
    """Whether the text's leading fields are read day first: in the preferred order when that reading is
    possible (a month of 1-12, a day of 1-31), else the other way round when that one is.

    That is what pandas (dateutil) does when it guesses; decided here, the format can be guessed with the
    order it will have, and pandas need not warn that it parsed against the preferred order.
    """
    match = _DAY_MONTH.match(text)
    if match is None:
        return preferred
    first, second = int(match.group(1)), int(match.group(2))

    def possible(day: int, month: int) -> bool:
        return 1 <= month <= 12 and 1 <= day <= 31

    preferred_possible = possible(first, second) if preferred else possible(second, first)
    other_possible = possible(second, first) if preferred else possible(first, second)
    return preferred if preferred_possible or not other_possible else not preferred


def _one_datetime(raw: Any, *, timezone: str, dayfirst: bool, date_format: str | None) -> pd.Timestamp | None:
    if isinstance(raw, pd.Timestamp | np.datetime64) or hasattr(raw, "isoformat"):
        stamp = pd.Timestamp(raw)
    elif isinstance(raw, (int, float)) and not isinstance(raw, bool):
        stamp = _from_excel_serial(float(raw))
    else:
        text = str(raw).strip()
        if text.lower() in _MISSING:
            return None
        if re.fullmatch(r"\d{4,5}(?:\.\d+)?", text):
            stamp = _from_excel_serial(float(text))
        else:
            text = _normalise_offset(text)
            try:
                if date_format:
                    stamp = pd.to_datetime(text, format=date_format)
                else:
                    first = _reads_day_first(text, dayfirst and bool(_SLASHED.match(text)))
                    guessed = guess_datetime_format(text, dayfirst=first)
                    stamp = (pd.to_datetime(text, format=guessed) if guessed
                             else pd.to_datetime(text, dayfirst=first))
            except (ValueError, OverflowError, TypeError):
                return None
    if stamp is None or pd.isna(stamp):
        return None
    if stamp.tzinfo is None:
        try:
            stamp = stamp.tz_localize(timezone, ambiguous=True, nonexistent="shift_forward")
        except (ValueError, TypeError):
            return None
    return stamp.tz_convert("UTC")


def _from_excel_serial(serial: float) -> pd.Timestamp | None:
    # Excel's day 1 is 1900-01-01; 20000..80000 covers 1954..2119, which excludes counts posing as dates.
    if not 20000 <= serial <= 80000:
        return None
    return _EXCEL_EPOCH + pd.to_timedelta(serial, unit="D")
