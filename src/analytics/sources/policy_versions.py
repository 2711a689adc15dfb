"""Policy revisions (``policy_versions.csv``): the dates every trend chart marks."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from analytics.schemas import AREAS
from analytics.sources._orgcsv import EFFECTIVE_ON, VERSION, Column, Rows, choice_key, claims
from analytics.sources.base import Parsed, ReadContext

__all__ = ["DESCRIPTION", "FORMAT", "TABLES", "read", "sniff"]

FORMAT = "policy_versions"
DESCRIPTION = "Policy versions CSV (version, effective_on, summary, areas_changed as ';'-separated area ids)"
TABLES = ("policy_versions",)

SUMMARY = Column("summary", ("description", "changes"))
AREAS_CHANGED = Column("areas_changed", ("areas", "policy_areas"))

_AREA_SEPARATOR = re.compile(r"[;,|]")


def sniff(path: Path, head: bytes) -> bool:
    """A CSV whose header has version and effective_on."""
    return claims(FORMAT, path, head)


def _areas(cell: str | None) -> tuple[str, list[str]]:
    """``(area ids joined with ';', unknown names)`` of one areas_changed cell."""
    if cell is None:
        return "", []
    names = [n.strip() for n in _AREA_SEPARATOR.split(cell) if n.strip()]
    known = [choice_key(n) for n in names if choice_key(n) in AREAS]
    return ";".join(dict.fromkeys(known)), [n for n in names if choice_key(n) not in AREAS]


def read(path: Path, context: ReadContext) -> Parsed:
    """The versions as staging table ``policy_versions``; ``effective_on`` is 00:00 in the organisation's
    time zone, in UTC."""
    rows = Rows.load(path, (VERSION, EFFECTIVE_ON, SUMMARY, AREAS_CHANGED), expected="a policy version list")
    parts = rows.text(AREAS_CHANGED.name).map(_areas)
    unknown = parts.map(lambda p: p[1])
    rows.flag(unknown.map(bool), unknown.map(
        lambda names: f"unknown policy area {', '.join(map(repr, names))} in {rows.headers[AREAS_CHANGED.name]}: "
                      f"use {', '.join(AREAS)} separated by ';'"))
    return rows.parsed(FORMAT, "policy_versions", {
        "version": rows.text(VERSION.name, required=True),
        "effective_on": rows.datetimes(EFFECTIVE_ON.name, context, required=True),
        "summary": rows.text(SUMMARY.name),
        "areas_changed": pd.Series([p[0] for p in parts], dtype=object),
    })
