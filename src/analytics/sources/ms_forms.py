"""Microsoft Forms responses workbook (XLSX; a CSV saved from it reads the same way).

Header: ``ID, Start time, Completion time, Email, Name, Last modified time`` then one column per question
(header cells may end in ``\\r\\n``). Anonymous forms put ``anonymous`` in Email (no email is kept then);
quizzes add ``Total points``, ``Quiz feedback``, ``Points - <Q>`` and ``Feedback - <Q>``, which are ignored.
``Name`` is never carried into staging. Times are workbook datetimes, Excel serial numbers or text, local to
the organisation's zone. IDs restart at 1 for every form, so the response id is
``<first 12 hex digits of the file's sha256>-<ID>``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from analytics.codebook import load_codebook, normalise_text
from analytics.sources import base
from analytics.sources._survey import (
    SurveyRecords,
    answer_cells,
    cells_at,
    column_index,
    data_records,
    email_or_none,
    file_prefix,
    head_records,
    id_text,
    row_text,
    stage_survey,
    xlsx_head_rows,
)
from analytics.sources.base import Parsed, ReadContext, SourceError

__all__ = ["DESCRIPTION", "FORMAT", "TABLES", "read", "sniff"]

FORMAT = "ms_forms"
DESCRIPTION = "Microsoft Forms responses XLSX (ID, Start time, Completion time, Email, Name, then questions)"
TABLES = ("respondents", "survey_answers", "survey_comments")

_REQUIRED = ("ID", "Start time", "Completion time")
_METADATA = {normalise_text(c) for c in (
    "ID", "Start time", "Completion time", "Email", "Name", "Last modified time", "Total points", "Quiz feedback",
    "Grade posted time",
)}
_QUIZ_PREFIXES = ("points - ", "feedback - ")


def _header(row: list[Any]) -> list[str]:
    return ["" if c is None else str(c).strip() for c in row]


def _is_ms_forms_header(row: list[Any]) -> bool:
    names = {normalise_text(c) for c in _header(row)}
    return all(normalise_text(c) in names for c in _REQUIRED)


def sniff(path: Path, head: bytes) -> bool:
    """Row 1 names ``ID``, ``Start time`` and ``Completion time``."""
    rows = xlsx_head_rows(path, 1) if base.is_xlsx(head) else head_records(head, 1)
    return bool(rows) and _is_ms_forms_header(rows[0])


def read(path: Path, context: ReadContext) -> Parsed:
    with path.open("rb") as handle:
        head = handle.read(65536)
    rows: list[list[Any]] = base.read_xlsx_rows(path) if base.is_xlsx(head) else base.read_csv_rows(path)
    if not rows or not _is_ms_forms_header(rows[0]):
        found = _header(rows[0]) if rows else []
        raise SourceError(f"{path.name}: expected a Microsoft Forms export with columns {list(_REQUIRED)}; "
                          f"found {found}")
    names = _header(rows[0])
    where = column_index(names)
    records = data_records(rows, 1)
    submitted, bad_end = base.parse_datetimes(cells_at(records, where["completion time"]),
                                              timezone=context.timezone, dayfirst=context.dayfirst)
    started, bad_start = base.parse_datetimes(cells_at(records, where["start time"]),
                                              timezone=context.timezone, dayfirst=context.dayfirst)
    positions = [p for p, name in enumerate(names) if name and normalise_text(name) not in _METADATA
                 and not name.lower().startswith(_QUIZ_PREFIXES)]
    prefix = file_prefix(path)
    raw_ids = [id_text(v) for v in cells_at(records, where["id"])]
    email_at = where.get("email")
    survey = SurveyRecords(
        source_rows=[n for n, _ in records], raw=[row_text(_without_name(r, where)) for _, r in records],
        response_ids=[f"{prefix}-{i}" if i else None for i in raw_ids],
        submitted_at=submitted, started_at=started, bad_times=bad_end | bad_start,
        finished=submitted.notna().tolist(),
        emails=[email_or_none(v) for v in cells_at(records, email_at)] if email_at is not None else None,
        cells=answer_cells(records, positions), questions=[(names[p], names[p]) for p in positions],
    )
    codebook = context.codebook if context.codebook is not None else load_codebook()
    return stage_survey(path, FORMAT, survey, codebook, id_label="ID")


def _without_name(row: list[Any], where: dict[str, int]) -> list[Any]:
    """A reject's raw text never holds the respondent's name."""
    position = where.get("name")
    return [None if p == position else cell for p, cell in enumerate(row)]
