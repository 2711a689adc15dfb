"""Qualtrics CSV export, current format: three header rows (column ids, question text, ImportId JSON).

Row 2 holds the question text in the survey's language (matched against the codebook texts and aliases);
row 3 holds ``{"ImportId":"QID1"}`` per column, with ``"timeZone"`` on date columns (that zone wins over
the organisation's) and ``"choiceId"`` on matrix columns. Answers may be numeric codes or choice text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from analytics.codebook import load_codebook, normalise_text
from analytics.sources import base
from analytics.sources._survey import (
    SurveyRecords,
    answer_cells,
    cells_at,
    column_index,
    data_records,
    email_or_none,
    head_records,
    row_text,
    stage_survey,
)
from analytics.sources.base import Parsed, ReadContext, SourceError

__all__ = ["DESCRIPTION", "FORMAT", "TABLES", "read", "sniff"]

FORMAT = "qualtrics"
DESCRIPTION = "Qualtrics survey CSV export (3 header rows: ids, question text, ImportId JSON)"
TABLES = ("respondents", "survey_answers", "survey_comments")

# Export metadata the workbook never needs (IP, location, recipient names ...) or reads separately.
_METADATA = {normalise_text(c) for c in (
    "StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)", "Finished",
    "RecordedDate", "ResponseId", "RecipientLastName", "RecipientFirstName", "RecipientEmail",
    "ExternalReference", "ExternalDataReference", "LocationLatitude", "LocationLongitude", "LocationAccuracy",
    "DistributionChannel", "UserLanguage",
)}


# --- this format --------------------------------------------------------------------------------------

def _import_ids(row: Sequence[str]) -> list[dict[str, Any] | None]:
    out: list[dict[str, Any] | None] = []
    for cell in row:
        try:
            value = json.loads(cell) if cell.strip().startswith("{") else None
        except json.JSONDecodeError:
            value = None
        out.append(value if isinstance(value, dict) else None)
    return out


def sniff(path: Path, head: bytes) -> bool:
    """Row 1 has ``ResponseId``; row 3 is the ImportId JSON row."""
    records = head_records(head, 3)
    if len(records) < 3:
        return False
    names = {normalise_text(c) for c in records[0]}
    has_json = any(meta is not None and "ImportId" in meta for meta in _import_ids(records[2]))
    return "responseid" in names and has_json


def read(path: Path, context: ReadContext) -> Parsed:
    rows = base.read_csv_rows(path)
    if len(rows) < 3:
        raise SourceError(f"{path.name}: expected a Qualtrics export with 3 header rows, found {len(rows)} rows")
    names = [str(c).strip() for c in rows[0]]
    texts = list(rows[1]) + [""] * (len(names) - len(rows[1]))
    metas = _import_ids(list(rows[2]) + [""] * (len(names) - len(rows[2])))
    where = column_index(names)
    completion = where.get("recordeddate", where.get("enddate"))
    missing = [column for column, ok in (("ResponseId", "responseid" in where),
                                         ("RecordedDate or EndDate", completion is not None)) if not ok]
    if missing:
        raise SourceError(f"{path.name}: expected Qualtrics columns {missing}; found {names}")
    records = data_records(rows, 3)

    def times(key: str) -> tuple[pd.Series, pd.Series]:
        position = where.get(key)
        zone = context.timezone
        meta = metas[position] if position is not None else None
        if meta and meta.get("timeZone"):
            zone = "UTC" if str(meta["timeZone"]).upper() in {"Z", "UTC", "GMT"} else str(meta["timeZone"])
        return base.parse_datetimes(cells_at(records, position), timezone=zone, dayfirst=context.dayfirst)

    submitted, bad_submitted = times("recordeddate" if "recordeddate" in where else "enddate")
    started, bad_started = times("startdate")
    finished = _finished(cells_at(records, where.get("finished")), cells_at(records, where.get("progress")))
    email_at = where.get("recipientemail")
    codebook = context.codebook if context.codebook is not None else load_codebook()
    positions, questions = [], []
    for position, name in enumerate(names):
        key = normalise_text(name)
        if not name or key in _METADATA or name.startswith("Q_"):
            continue
        meta = metas[position] or {}
        column_id = name
        import_key = str(meta.get("ImportId", ""))
        if meta.get("choiceId") is not None:
            import_key = f"{import_key}_{meta['choiceId']}"
        if codebook.match(name, texts[position]) is None and import_key and codebook.match(import_key) is not None:
            column_id = import_key
        positions.append(position)
        questions.append((column_id, texts[position].strip() or None))
    cells = answer_cells(records, positions)
    survey = SurveyRecords(
        source_rows=[n for n, _ in records], raw=[row_text(r) for _, r in records],
        response_ids=[r[where["responseid"]] if where["responseid"] < len(r) else None for _, r in records],
        submitted_at=submitted, started_at=started, bad_times=bad_submitted | bad_started, finished=finished,
        emails=[email_or_none(v) for v in cells_at(records, email_at)] if email_at is not None else None,
        cells=cells, questions=questions,
    )
    return stage_survey(path, FORMAT, survey, codebook)


def _finished(flags: pd.Series, progress: pd.Series) -> list[bool]:
    """``Finished`` (1/0, True/False), else ``Progress`` of 100."""
    numbers, _ = base.parse_numbers(progress)
    out = []
    for flag, pct in zip(flags.tolist(), numbers.tolist(), strict=True):
        decided = base.parse_bool(flag) if flag is not None and str(flag).strip() else None
        out.append(decided if decided is not None else bool(pct >= 100))
    return out
