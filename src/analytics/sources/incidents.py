"""Reported incidents (``incidents.csv``): mistakes on social media, when they were reported and fixed."""

from __future__ import annotations

from pathlib import Path

from analytics.schemas import AREAS, DETECTIONS, SEVERITIES
from analytics.sources._orgcsv import INCIDENT_ID, REPORTED_AT, SEVERITY, Column, Rows, claims
from analytics.sources.base import Parsed, ReadContext

__all__ = ["DESCRIPTION", "FORMAT", "TABLES", "read", "sniff"]

FORMAT = "incidents"
DESCRIPTION = "Incident log CSV (incident_id, reported/occurred/resolved_at, policy_area, severity, detection)"
TABLES = ("incidents",)

OCCURRED_AT = Column("occurred_at", ("occurred", "occurred_on", "date_occurred"))
RESOLVED_AT = Column("resolved_at", ("resolved", "resolved_on", "date_resolved"))
EMAIL = Column("employee_email", ("email", "email_address", "e-mail"))
DEPARTMENT = Column("department", ("dept", "team"))
AREA = Column("policy_area", ("area",), True)
DETECTION = Column("detection", ("detected_by", "detection_method"), True)
POST_URL = Column("post_url", ("url", "link"))
SUMMARY = Column("summary", ("description",))

#: Ways people write the detection ids that are not just a case or spacing variant.
DETECTION_ALIASES = {"self": "self_reported", "self_report": "self_reported",
                     "monitoring": "detected"}


def sniff(path: Path, head: bytes) -> bool:
    """A CSV whose header has incident_id, reported_at and severity."""
    return claims(FORMAT, path, head)


def read(path: Path, context: ReadContext) -> Parsed:
    """The incidents as staging table ``incidents``; area, severity and detection become their ids."""
    rows = Rows.load(path, (INCIDENT_ID, REPORTED_AT, OCCURRED_AT, RESOLVED_AT, EMAIL, DEPARTMENT, AREA,
                            SEVERITY, DETECTION, POST_URL, SUMMARY), expected="an incident log")
    reported = rows.datetimes(REPORTED_AT.name, context, required=True)
    occurred = rows.datetimes(OCCURRED_AT.name, context)
    resolved = rows.datetimes(RESOLVED_AT.name, context)
    names = rows.headers
    rows.flag(resolved < reported, resolved.astype(str) + f" in {names[RESOLVED_AT.name]} is before "
              + reported.astype(str) + f" in {names[REPORTED_AT.name]}: check both dates")
    rows.flag(occurred > reported, occurred.astype(str) + f" in {names[OCCURRED_AT.name]} is after "
              + reported.astype(str) + f" in {names[REPORTED_AT.name]}: an incident is reported after it occurs")
    return rows.parsed(FORMAT, "incidents", {
        "incident_id": rows.identifier(INCIDENT_ID.name, what="incident id"),
        "reported_at": reported,
        "occurred_at": occurred,
        "resolved_at": resolved,
        "email": rows.emails(EMAIL.name, required=False),
        "department": rows.text(DEPARTMENT.name),
        "area": rows.choice(AREA.name, AREAS, what="policy area"),
        "severity": rows.choice(SEVERITY.name, SEVERITIES, what="severity", aliases={"med": "medium"}),
        "detection": rows.choice(DETECTION.name, DETECTIONS, what="detection", aliases=DETECTION_ALIASES),
        "post_url": rows.text(POST_URL.name),
        "summary": rows.text(SUMMARY.name),
    })
