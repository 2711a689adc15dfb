"""SurveyMonkey export (CSV or XLSX): two header rows.

Row 1: ``Respondent ID, Collector ID, Start Date, End Date, IP Address, Email Address, First Name, Last Name,
Custom Data 1`` then the question text, left blank over the extra columns of a matrix or multi-choice
question (forward-filled here). Row 2: blank under the metadata, then ``Response`` / ``Open-Ended Response``
(possibly localised: ``Respuesta``, ``Réponse``, ``Antwort`` ...) or the matrix row / choice label. A column
under a row label is stored as ``Question - Row`` so the codebook can match the row's text. Dates are
``%m/%d/%Y %I:%M:%S %p``; other layouts fall back to the shared date parser. Names, IP address and custom
data are never carried into staging.
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
    data_records,
    email_or_none,
    head_records,
    id_text,
    row_text,
    stage_survey,
    xlsx_head_rows,
)
from analytics.sources.base import Parsed, ReadContext, SourceError

__all__ = ["DESCRIPTION", "FORMAT", "TABLES", "read", "sniff"]

FORMAT = "surveymonkey"
DESCRIPTION = "SurveyMonkey survey export, CSV or XLSX (2 header rows: Respondent ID, Collector ID, ... questions)"
TABLES = ("respondents", "survey_answers", "survey_comments")

DATE_FORMAT = "%m/%d/%Y %I:%M:%S %p"

# Metadata columns by role; English first, then the localised exports seen in the wild.
_ROLES = {
    "respondent_id": ("Respondent ID", "ID del encuestado", "ID du répondant", "Befragten-ID", "ID do respondente"),
    "collector_id": ("Collector ID", "ID del recopilador", "ID du collecteur", "Collector-ID", "ID do coletor"),
    "start": ("Start Date", "Fecha de inicio", "Date de début", "Startdatum", "Data de início"),
    "end": ("End Date", "Fecha de finalización", "Date de fin", "Enddatum", "Data de término"),
    "email": ("Email Address", "Dirección de correo electrónico", "Adresse e-mail", "E-Mail-Adresse"),
}
_DROPPED = ("IP Address", "First Name", "Last Name", "Dirección IP", "Adresse IP", "IP-Adresse", "Nombre",
            "Apellido", "Prénom", "Nom", "Vorname", "Nachname")
_DROPPED_KEYS = {normalise_text(d) for d in _DROPPED}
_CUSTOM_PREFIXES = ("custom data", "datos personalizados", "données personnalisées", "benutzerdefinierte daten")
# Row-2 labels that mean "the answer to the question above", not a matrix row.
_GENERIC = {normalise_text(t) for t in (
    "Response", "Open-Ended Response", "Respuesta", "Respuesta abierta", "Réponse", "Réponse ouverte",
    "Antwort", "Offene Antwort", "Resposta", "Resposta aberta", "Risposta", "Risposta aperta",
)}
_ROLE_OF = {normalise_text(name): role for role, names in _ROLES.items() for name in names}


def _is_surveymonkey_header(row: list[Any]) -> bool:
    roles = {_ROLE_OF.get(normalise_text(c)) for c in row if c is not None}
    return {"respondent_id", "collector_id"} <= roles


def sniff(path: Path, head: bytes) -> bool:
    """Row 1 names both ``Respondent ID`` and ``Collector ID`` (or their localised names)."""
    rows = xlsx_head_rows(path, 1) if base.is_xlsx(head) else head_records(head, 1)
    return bool(rows) and _is_surveymonkey_header(rows[0])


def read(path: Path, context: ReadContext) -> Parsed:
    with path.open("rb") as handle:
        head = handle.read(65536)
    rows: list[list[Any]] = base.read_xlsx_rows(path) if base.is_xlsx(head) else base.read_csv_rows(path)
    if len(rows) < 2 or not _is_surveymonkey_header(rows[0]):
        found = rows[0] if rows else []
        raise SourceError(f"{path.name}: expected a SurveyMonkey export whose first row names Respondent ID and "
                          f"Collector ID, over a second header row; found {found}")
    width = max(len(r) for r in rows[:2])
    top = [_text(c) for c in rows[0]] + [""] * (width - len(rows[0]))
    sub = [_text(c) for c in rows[1]] + [""] * (width - len(rows[1]))
    where: dict[str, int] = {}
    positions, questions = [], []
    current = ""
    for position, (name, label) in enumerate(zip(top, sub, strict=True)):
        key = normalise_text(name)
        role = _ROLE_OF.get(key)
        if role is not None:
            where.setdefault(role, position)
            current = ""
            continue
        if key in _DROPPED_KEYS or key.startswith(_CUSTOM_PREFIXES):
            current = ""
            continue
        current = name or current
        if not current and not label:
            continue
        if not label or normalise_text(label) in _GENERIC:
            question = current
        else:
            question = f"{current} - {label}" if current else label
        positions.append(position)
        questions.append((question, question))
    if "end" not in where:
        raise SourceError(f"{path.name}: expected a SurveyMonkey 'End Date' column; found {top}")
    records = data_records(rows, 2)
    submitted, bad_end = _dates(cells_at(records, where["end"]), context)
    started, bad_start = _dates(cells_at(records, where.get("start")), context)
    email_at = where.get("email")
    survey = SurveyRecords(
        source_rows=[n for n, _ in records], raw=[row_text(r) for _, r in records],
        response_ids=[id_text(v) for v in cells_at(records, where["respondent_id"])],
        submitted_at=submitted, started_at=started, bad_times=bad_end | bad_start,
        finished=submitted.notna().tolist(),
        emails=[email_or_none(v) for v in cells_at(records, email_at)] if email_at is not None else None,
        cells=answer_cells(records, positions), questions=questions,
    )
    codebook = context.codebook if context.codebook is not None else load_codebook()
    return stage_survey(path, FORMAT, survey, codebook, id_label="Respondent ID")


def _text(cell: Any) -> str:
    return "" if cell is None else str(cell).strip()


def _dates(values: Any, context: ReadContext) -> tuple[Any, Any]:
    """SurveyMonkey's US layout first; a localised export's own layout through the general parser."""
    parsed, bad = base.parse_datetimes(values, timezone=context.timezone, date_format=DATE_FORMAT)
    if bad.any():
        parsed, bad = base.parse_datetimes(values, timezone=context.timezone, dayfirst=context.dayfirst)
    return parsed, bad
