"""Completed training (``trainings.csv``): who finished which module when."""

from __future__ import annotations

from pathlib import Path

from analytics.sources._orgcsv import COMPLETED_AT, EMAIL, MODULE, Rows, claims
from analytics.sources.base import Parsed, ReadContext

__all__ = ["DESCRIPTION", "FORMAT", "TABLES", "read", "sniff"]

FORMAT = "trainings"
DESCRIPTION = "Training completions CSV (employee_email, module, completed_at)"
TABLES = ("trainings",)


def sniff(path: Path, head: bytes) -> bool:
    """A CSV whose header has an email column, module and completed_at."""
    return claims(FORMAT, path, head)


def read(path: Path, context: ReadContext) -> Parsed:
    """The completions as staging table ``trainings``."""
    rows = Rows.load(path, (EMAIL, MODULE, COMPLETED_AT), expected="a training completions list")
    return rows.parsed(FORMAT, "trainings", {
        "email": rows.emails(EMAIL.name, required=True),
        "module": rows.text(MODULE.name, required=True),
        "completed_at": rows.datetimes(COMPLETED_AT.name, context, required=True),
    })
