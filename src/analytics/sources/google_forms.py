"""Google Forms responses CSV (downloaded from the form or its Sheet).

One header row: ``Timestamp`` (localised: ``Marca temporal``, ``Horodateur``, ``Zeitstempel`` ...), optional
``Email Address`` / ``Email address`` / ``Username``, then one column per question; grid questions become
``Question [Row]`` columns and checkbox answers are joined with ``;``. Timestamps come as
``2026/06/14 10:10:09 AM GMT+1`` (the offset wins), as locale layouts (``9/8/2026 14:28:27``, local time in the
organisation's zone, day/month order from the file's values) or as serial numbers. Google Forms has no
response id: records get ``<first 12 hex digits of the file's sha256>-<record number>``, stable for the file.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analytics.codebook import load_codebook, normalise_text
from analytics.sources import base
from analytics.sources._survey import (
    SurveyRecords,
    answer_cells,
    cells_at,
    data_records,
    email_or_none,
    file_prefix,
    head_records,
    row_text,
    stage_survey,
)
from analytics.sources.base import Parsed, ReadContext, SourceError

__all__ = ["DESCRIPTION", "FORMAT", "TABLES", "read", "sniff"]

FORMAT = "google_forms"
DESCRIPTION = "Google Forms responses CSV (first column Timestamp, then optional Email Address, then questions)"
TABLES = ("respondents", "survey_answers", "survey_comments")

_TIMESTAMP = {normalise_text(t) for t in (
    "Timestamp", "Marca temporal", "Horodateur", "Zeitstempel", "Carimbo de data/hora", "Informazioni cronologiche",
    "Tijdstempel",
)}
_EMAIL = {normalise_text(t) for t in (
    "Email Address", "Email address", "Username", "Dirección de correo electrónico", "Adresse e-mail",
    "E-Mail-Adresse", "Endereço de e-mail", "Indirizzo email",
)}
# Quiz metadata Google adds; it is not a survey question.
_IGNORED = {normalise_text(t) for t in ("Score", "Puntuación", "Note", "Punktzahl")}


def sniff(path: Path, head: bytes) -> bool:
    """The header's first column is ``Timestamp`` (or its localised name) and questions follow."""
    if base.is_xlsx(head):
        return False
    rows = head_records(head, 1)
    return bool(rows) and len(rows[0]) >= 2 and normalise_text(rows[0][0]) in _TIMESTAMP


def read(path: Path, context: ReadContext) -> Parsed:
    rows = base.read_csv_rows(path)
    if not rows or not rows[0] or normalise_text(rows[0][0]) not in _TIMESTAMP:
        found = rows[0][:5] if rows else []
        raise SourceError(f"{path.name}: expected a Google Forms CSV whose first column is Timestamp; "
                          f"found {found}")
    names = [c.strip() for c in rows[0]]
    records = data_records(rows, 1)
    submitted, bad = base.parse_datetimes(cells_at(records, 0), timezone=context.timezone,
                                          dayfirst=context.dayfirst)
    email_at = next((p for p, name in enumerate(names) if normalise_text(name) in _EMAIL), None)
    positions = [p for p, name in enumerate(names)
                 if p > 0 and p != email_at and name and normalise_text(name) not in _IGNORED]
    prefix = file_prefix(path)
    survey = SurveyRecords(
        source_rows=[n for n, _ in records], raw=[row_text(r) for _, r in records],
        response_ids=[f"{prefix}-{n}" for n, _ in records],
        submitted_at=submitted, started_at=pd.Series(pd.NaT, index=submitted.index, dtype=submitted.dtype),
        bad_times=bad,
        finished=submitted.notna().tolist(),
        emails=[email_or_none(v) for v in cells_at(records, email_at)] if email_at is not None else None,
        cells=answer_cells(records, positions), questions=[(names[p], names[p]) for p in positions],
    )
    codebook = context.codebook if context.codebook is not None else load_codebook()
    return stage_survey(path, FORMAT, survey, codebook)
