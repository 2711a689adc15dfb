"""Qualtrics legacy CSV export: ``V1..V10,Q1,...`` then a label row ``ResponseID,ResponseSet,...``.

The files start with a UTF-8 BOM and every line ends in a comma (an empty, unnamed last column, ignored).
Metadata columns are named by the label row; question columns by row 1 (``Q1``) with row 2 as their text.
``Name``, ``IPAddress`` and the location columns are never carried into staging.
"""

from __future__ import annotations

from pathlib import Path

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

FORMAT = "qualtrics_legacy"
DESCRIPTION = "Qualtrics legacy survey CSV export (header rows V1..V10,Q1... and ResponseID,ResponseSet,...)"
TABLES = ("respondents", "survey_answers", "survey_comments")

_METADATA = {normalise_text(c) for c in (
    "ResponseID", "ResponseSet", "Name", "ExternalDataReference", "EmailAddress", "IPAddress", "Status",
    "StartDate", "EndDate", "Finished", "LocationLatitude", "LocationLongitude", "LocationAccuracy",
)}


def sniff(path: Path, head: bytes) -> bool:
    """Row 1 starts ``V1,V2,V3``; row 2 names ``ResponseID``."""
    records = head_records(head, 2)
    if len(records) < 2 or len(records[0]) < 3:
        return False
    starts = [c.strip() for c in records[0][:3]]
    return starts == ["V1", "V2", "V3"] and "responseid" in {normalise_text(c) for c in records[1]}


def read(path: Path, context: ReadContext) -> Parsed:
    rows = base.read_csv_rows(path)
    if len(rows) < 2:
        raise SourceError(f"{path.name}: expected a Qualtrics legacy export with 2 header rows, found {len(rows)}")
    ids = [c.strip() for c in rows[0]]
    labels = [c.strip() for c in rows[1]] + [""] * (len(ids) - len(rows[1]))
    # Metadata columns are V<n> in row 1 and named only by the label row.
    names = [label if (name.startswith("V") and name[1:].isdigit()) or not name else name
             for name, label in zip(ids, labels, strict=False)]
    where = column_index(names)
    missing = [c for c in ("ResponseID", "EndDate") if normalise_text(c) not in where]
    if missing:
        raise SourceError(f"{path.name}: expected Qualtrics legacy columns {missing} in the label row; "
                          f"found {labels}")
    records = data_records(rows, 2)
    submitted, bad_end = base.parse_datetimes(cells_at(records, where["enddate"]), timezone=context.timezone,
                                              dayfirst=context.dayfirst)
    started, bad_start = base.parse_datetimes(cells_at(records, where.get("startdate")),
                                              timezone=context.timezone, dayfirst=context.dayfirst)
    flags = cells_at(records, where.get("finished")).tolist()
    finished = [base.parse_bool(f) is True for f in flags] if "finished" in where \
        else submitted.notna().tolist()
    positions = [p for p, name in enumerate(names) if name and normalise_text(name) not in _METADATA]
    questions = [(names[p], labels[p] or None) for p in positions]
    email_at = where.get("emailaddress")
    survey = SurveyRecords(
        source_rows=[n for n, _ in records], raw=[row_text(r) for _, r in records],
        response_ids=cells_at(records, where["responseid"]).tolist(),
        submitted_at=submitted, started_at=started, bad_times=bad_end | bad_start, finished=finished,
        emails=[email_or_none(v) for v in cells_at(records, email_at)] if email_at is not None else None,
        cells=answer_cells(records, positions), questions=questions,
    )
    codebook = context.codebook if context.codebook is not None else load_codebook()
    return stage_survey(path, FORMAT, survey, codebook)
