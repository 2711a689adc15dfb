"""What the five survey adapters share: sniffing helpers, record access and the staging of records.

:class:`SurveyRecords` + :func:`stage_survey` turn any export's records into the staging tables
``respondents``, ``survey_answers`` and ``survey_comments`` the same way, through the codebook.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analytics.codebook import RESPONDENT_COLUMNS, Codebook, load_codebook, normalise_text
from analytics.sources import base
from analytics.sources.base import Parsed, Reject

__all__ = [
    "RESPONDENT_ORDER",
    "SurveyRecords",
    "answer_cells",
    "cells_at",
    "column_index",
    "data_records",
    "email_or_none",
    "file_prefix",
    "head_records",
    "id_text",
    "row_text",
    "stage_survey",
    "xlsx_head_rows",
]

RESPONDENT_ORDER = ["response_id", "source_format", "submitted_at", "started_at", "finished", "email",
                    *RESPONDENT_COLUMNS, "source_row"]


def head_records(head: bytes, n: int) -> list[list[str]]:
    """The first ``n`` CSV records of a file head (BOM, UTF-16 and cp1252 aware; a cut-off last record
    is dropped). Sniffers use it; an undecodable head gives ``[]``.

    >>> head_records(b'\\xef\\xbb\\xbfa,"b\\nc"\\r\\n1,2\\r\\n3', 2)
    [['a', 'b\\nc'], ['1', '2']]
    """
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head[: len(head) - len(head) % 2].decode("utf-16", errors="ignore")
    elif head.startswith(b"\xef\xbb\xbf"):
        text = head[3:].decode("utf-8", errors="ignore")
    else:
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError:
            text = head.decode("cp1252", errors="replace")
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    records: list[list[str]] = []
    try:
        for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            records.append(record)
            if len(records) > n:
                break
    except csv.Error:
        pass
    return records[:n]


def xlsx_head_rows(path: Path, n: int) -> list[list[Any]]:
    """The first ``n`` rows of a workbook's first sheet, for sniffers (``[]`` if it cannot be opened)."""

    try:
        opened = base.workbook(path)
    except Exception:  # a sniffer must never fail on a file it cannot open; it just does not claim it
        return []
    return opened.rows(max_row=n)


def id_text(value: Any) -> str | None:
    """An id cell as text: workbook numbers lose their ``.0``; blanks are ``None``."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def file_prefix(path: Path) -> str:
    """The first 12 hex digits of the file's sha256: makes per-file record numbers globally unique ids."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


@dataclass
class SurveyRecords:
    """One export's data records, parsed up to the point where every survey format is the same.

    ``submitted_at``/``started_at`` are already UTC (NaT when blank), ``bad_times`` marks records whose
    time cells were not dates, ``cells`` holds the answer columns described by ``questions``.
    """

    source_rows: list[int]
    raw: list[str]
    response_ids: list[str | None]
    submitted_at: pd.Series
    started_at: pd.Series
    bad_times: pd.Series
    finished: list[bool]
    emails: list[str | None] | None
    cells: pd.DataFrame
    questions: Sequence[tuple[str, str | None]]


def _id_problem(raw_id: str | None, seen: dict[str, int], row: int, label: str) -> str | None:
    if raw_id is None or not str(raw_id).strip():
        return f"no {label}; every response needs one (was the column emptied after export?)"
    if base.is_excel_mangled_id(raw_id):
        return f"{label} was mangled by Excel ({raw_id}); re-export without opening in Excel"
    if raw_id in seen:
        return f"{label} {raw_id} appears twice (records {seen[raw_id]} and {row}); remove the duplicate"
    return None


def stage_survey(path: Path, format_id: str, records: SurveyRecords, codebook: Codebook | None,
                 *, id_label: str = "response id") -> Parsed:
    """Records -> :class:`~analytics.sources.base.Parsed` with respondents, survey_answers, survey_comments.

    A record is rejected only when it is structurally broken: no (or a duplicate, or an Excel-mangled)
    response id, no time at all, or a time cell that is not a date. Odd answers are kept (see
    :mod:`analytics.codebook`).
    """
    codebook = codebook if codebook is not None else load_codebook()
    rejects: list[Reject] = []
    keep: list[int] = []
    seen: dict[str, int] = {}
    bad_times = records.bad_times.tolist()
    timeless = (records.submitted_at.isna() & records.started_at.isna()).tolist()
    for position, row in enumerate(records.source_rows):
        raw_id = records.response_ids[position]
        reason = _id_problem(raw_id, seen, row, id_label)
        if reason is None and bad_times[position]:
            reason = "a date cell is not a date (expected e.g. 2026-06-14 10:10:09); fix or re-export the file"
        if reason is None and timeless[position]:
            reason = "no completion or start time; every response needs one"
        if reason is not None:
            rejects.append(Reject(row, records.raw[position], reason))
            continue
        seen[str(raw_id)] = row
        keep.append(position)
    ids = [str(records.response_ids[p]).strip() for p in keep]
    rows = [records.source_rows[p] for p in keep]
    staged = codebook.stage(records.cells.iloc[keep].reset_index(drop=True), records.questions,
                            response_ids=ids, source_rows=rows)
    submitted = records.submitted_at.iloc[keep].reset_index(drop=True)
    started = records.started_at.iloc[keep].reset_index(drop=True)
    emails = [records.emails[p] for p in keep] if records.emails is not None else [None] * len(keep)
    respondents = pd.DataFrame({
        "response_id": pd.Series(ids, dtype="str"),
        "source_format": pd.Series([format_id] * len(keep), dtype="str"),
        "submitted_at": submitted.where(submitted.notna(), started).astype("datetime64[us, UTC]"),
        "started_at": started.astype("datetime64[us, UTC]"),
        "finished": pd.Series([records.finished[p] for p in keep], dtype=bool),
        "email": pd.Series(emails, dtype="str"),
        **{column: staged.demographics[column].astype("str") for column in RESPONDENT_COLUMNS},
        "source_row": pd.Series(rows, dtype="int64"),
    })
    tables = {"respondents": respondents[RESPONDENT_ORDER], "survey_answers": staged.answers,
              "survey_comments": staged.comments}
    return Parsed(format=format_id, tables=tables, rejects=rejects, rows_read=len(records.source_rows))


def data_records(rows: list[list[Any]], header_rows: int) -> list[tuple[int, list[Any]]]:
    """``(source_row, cells)`` of the records after the header; wholly blank lines are no records."""
    out = []
    for number, row in enumerate(rows[header_rows:], start=1):
        if any(cell is not None and str(cell).strip() for cell in row):
            out.append((number, list(row)))
    return out


def row_text(row: Sequence[Any]) -> str:
    return ",".join("" if cell is None else str(cell) for cell in row)


def column_index(names: Sequence[str]) -> dict[str, int]:
    """Normalised column name -> first position, so columns are found by name whatever their order."""
    index: dict[str, int] = {}
    for position, name in enumerate(names):
        index.setdefault(normalise_text(name), position)
    return index


def cells_at(records: list[tuple[int, list[Any]]], position: int | None) -> pd.Series:
    values = [row[position] if position is not None and position < len(row) else None for _, row in records]
    return pd.Series(values, dtype=object)


def answer_cells(records: list[tuple[int, list[Any]]], positions: Sequence[int]) -> pd.DataFrame:
    """The answer columns at ``positions``, one row per record, columns numbered 0..n-1."""
    return pd.DataFrame({i: cells_at(records, p) for i, p in enumerate(positions)},
                        index=pd.RangeIndex(len(records)), columns=pd.RangeIndex(len(positions)), dtype=object)


def email_or_none(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    return text if "@" in text else None
