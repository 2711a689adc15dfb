"""The employee roster (``roster.csv``): names, emails, handles, department, dates and recognition opt-in.

The columns shared with the other organisation files are defined in :mod:`analytics.sources._orgcsv`.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd

from analytics.sources._orgcsv import (
    DEPARTMENT,
    EMAIL,
    PERSON_NAME,
    Column,
    Rows,
    claims,
)
from analytics.sources.base import (
    Parsed,
    ReadContext,
)

__all__ = ["DESCRIPTION", "FORMAT", "TABLES", "read", "sniff"]

FORMAT = "roster"
DESCRIPTION = "Employee roster CSV (full_name, email, department, start/end date, social handles, opt-in)"
TABLES = ("roster",)


# --- the roster -----------------------------------------------------------------------------------

START = Column("start_date", ("started_on", "start", "hire_date"))
END = Column("end_date", ("left_on", "leave_date", "leaving_date"))
ROLE = Column("role_level", ("role", "level"))
OPT_IN = Column("recognition_opt_in", ("recognition", "opt_in"))
DISPLAY_NAME = Column("display_name", ("preferred_name",))

#: Handle columns in the order they appear in ``handles``, with the rule that normalises each.
HANDLE_COLUMNS: tuple[tuple[str, Column], ...] = (
    ("x", Column("x_handle", ("twitter_handle", "x", "twitter"))),
    ("instagram", Column("instagram_handle", ("instagram",))),
    ("mastodon", Column("mastodon_handle", ("mastodon",))),
    ("linkedin", Column("linkedin_handle", ("linkedin", "linkedin_url"))),
    ("facebook", Column("facebook_name", ("facebook",))),
)

_SIMPLE_HANDLE = re.compile(r"^@[A-Za-z0-9_.]{1,30}$")
_MASTODON_HANDLE = re.compile(r"^@[A-Za-z0-9_.]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_LINKEDIN_HANDLE = re.compile(r"^[^\s/;:@]+$")


def normalise_handle(platform: str, value: str) -> str | None:
    """A roster handle as stored in ``handles``, or ``None`` when it is not a valid handle.

    Profile URLs are accepted: ``https://x.com/adalee`` -> ``@adalee``,
    ``https://mastodon.social/@ada`` -> ``@ada@mastodon.social``, ``linkedin.com/in/ada-lee/`` -> ``ada-lee``.

    >>> normalise_handle("x", "adalee"), normalise_handle("mastodon", "ada@mastodon.social")
    ('@adalee', '@ada@mastodon.social')
    >>> normalise_handle("linkedin", "https://www.linkedin.com/in/ada-lee/"), normalise_handle("x", "ada lee")
    ('ada-lee', None)
    """
    value = value.strip()
    if platform == "facebook":
        return value if ";" not in value else None
    if "/" in value:
        parts = urlsplit(value if "://" in value else f"https://{value}")
        segments = [s for s in parts.path.split("/") if s]
        if not segments:
            return None
        value = segments[-1]
        if platform == "mastodon" and value.startswith("@") and value.count("@") == 1:
            value = f"{value}@{parts.hostname}"
    if platform == "linkedin":
        return value if _LINKEDIN_HANDLE.match(value) else None
    value = "@" + value.lstrip("@")
    pattern = _MASTODON_HANDLE if platform == "mastodon" else _SIMPLE_HANDLE
    return value if pattern.match(value) else None


def _handles(rows: Rows) -> pd.Series:
    tagged: list[list[str]] = [[] for _ in range(len(rows))]
    for platform, column in HANDLE_COLUMNS:
        values = rows.text(column.name)
        normalised = values.map(lambda v, p=platform: normalise_handle(p, v), na_action="ignore")
        invalid = values.notna() & normalised.isna()
        hint = "remove the ';'" if platform == "facebook" else "use the handle (e.g. @name) or the profile URL"
        rows.flag(invalid, f"{rows.headers[column.name]} is not a valid {platform} handle: {hint}")
        for i, handle in enumerate(normalised.tolist()):
            if handle is not None and not pd.isna(handle):
                tagged[i].append(f"{platform}:{handle}")
    return pd.Series([";".join(t) for t in tagged], dtype=object)


def sniff(path: Path, head: bytes) -> bool:
    """A CSV whose header has a name column, an email column and a department column."""
    return claims(FORMAT, path, head)


def read(path: Path, context: ReadContext) -> Parsed:
    """The roster as staging table ``roster`` (one row per person; handles joined with ``;``)."""
    columns = (PERSON_NAME, EMAIL, DEPARTMENT, ROLE, START, END, OPT_IN, DISPLAY_NAME,
               *(c for _, c in HANDLE_COLUMNS))
    identity = (PERSON_NAME, EMAIL, DISPLAY_NAME, *(c for _, c in HANDLE_COLUMNS))
    rows = Rows.load(path, columns, expected="an employee roster", private=[c.name for c in identity])
    started = rows.datetimes(START.name, context)
    left = rows.datetimes(END.name, context)
    rows.flag(left < started, f"{rows.headers[END.name]} is before {rows.headers[START.name]}: check both dates")
    opted_in = rows.flags(OPT_IN.name)
    # a display name is only ever shown for recognition a person opted in to
    display = rows.text(DISPLAY_NAME.name).where(opted_in, None)
    return rows.parsed(FORMAT, "roster", {
        "name": rows.text(PERSON_NAME.name, required=True),
        "email": rows.emails(EMAIL.name, required=True),
        "handles": _handles(rows),
        "department": rows.text(DEPARTMENT.name, required=True),
        "role_level": rows.text(ROLE.name),
        "started_on": started,
        "left_on": left,
        "recognition_opt_in": opted_in,
        "display_name": display,
    })
