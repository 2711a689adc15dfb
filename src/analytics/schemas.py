"""A pandera ``DataFrameModel`` per canonical table, and one validation entry point.

:func:`validate` runs a model with ``lazy=True`` so every failure is collected, then splits the
frame into the rows that pass and one reject reason per failing row (all its failures joined).
"""

from __future__ import annotations

import sys
from functools import cache

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors
from pandera.typing import Series

__all__ = [
    "AREAS",
    "MODELS",
    "AudienceComments",
    "Employees",
    "Incidents",
    "PolicyVersions",
    "Posts",
    "Respondents",
    "SurveyAnswers",
    "SurveyComments",
    "Trainings",
    "validate",
]

#: The policy areas every rule, survey construct and incident category maps to.
AREAS = ("confidentiality", "disclosure", "conduct", "engagement", "mistakes", "learning", "feedback")
ACCOUNT_TYPES = ("organization", "employee", "unattributed")
SEVERITIES = ("low", "medium", "high")
DETECTIONS = ("self_reported", "detected", "external")
_UTC = pd.DatetimeTZDtype("us", "UTC")


class _Base(pa.DataFrameModel):
    class Config:
        strict = False
        coerce = False


class Respondents(_Base):
    response_id: Series[str] = pa.Field(nullable=False, str_length={"min_value": 1})
    source_format: Series[str]
    wave: Series[str] = pa.Field(nullable=True, str_matches=r"^\S+$")
    submitted_at: Series[_UTC] = pa.Field(nullable=True)  # type: ignore[valid-type]
    finished: Series[bool]


class SurveyAnswers(_Base):
    response_id: Series[str] = pa.Field(nullable=False)
    item_id: Series[str] = pa.Field(nullable=False, str_length={"min_value": 1})
    value: Series[float] = pa.Field(nullable=True)
    mapped: Series[bool]


class SurveyComments(_Base):
    response_id: Series[str] = pa.Field(nullable=False)
    item_id: Series[str] = pa.Field(nullable=False)
    text: Series[str] = pa.Field(nullable=False)


class Posts(_Base):
    post_uid: Series[str] = pa.Field(nullable=False, str_length={"min_value": 3})
    platform: Series[str] = pa.Field(nullable=False, str_length={"min_value": 1})
    account_type: Series[str] = pa.Field(isin=ACCOUNT_TYPES)
    published_at: Series[_UTC] = pa.Field(nullable=False)  # type: ignore[valid-type]
    text: Series[str] = pa.Field(nullable=True)
    impressions: Series[float] = pa.Field(nullable=True, ge=0)
    reach: Series[float] = pa.Field(nullable=True, ge=0)
    reactions: Series[float] = pa.Field(nullable=True, ge=0)
    comments: Series[float] = pa.Field(nullable=True, ge=0)
    shares: Series[float] = pa.Field(nullable=True, ge=0)
    clicks: Series[float] = pa.Field(nullable=True, ge=0)
    saves: Series[float] = pa.Field(nullable=True, ge=0)
    video_views: Series[float] = pa.Field(nullable=True, ge=0)


class AudienceComments(_Base):
    comment_uid: Series[str] = pa.Field(nullable=False, str_length={"min_value": 3})
    published_at: Series[_UTC] = pa.Field(nullable=False)  # type: ignore[valid-type]
    text: Series[str] = pa.Field(nullable=True)


class Employees(_Base):
    employee_key: Series[str] = pa.Field(nullable=False, str_length={"min_value": 16})
    department: Series[str] = pa.Field(nullable=False, str_length={"min_value": 1})
    recognition_opt_in: Series[bool]


class Incidents(_Base):
    incident_id: Series[str] = pa.Field(nullable=False, str_length={"min_value": 1})
    reported_at: Series[_UTC] = pa.Field(nullable=False)  # type: ignore[valid-type]
    resolved_at: Series[_UTC] = pa.Field(nullable=True)  # type: ignore[valid-type]
    area: Series[str] = pa.Field(isin=AREAS)
    severity: Series[str] = pa.Field(isin=SEVERITIES)
    detection: Series[str] = pa.Field(isin=DETECTIONS)

    @pa.dataframe_check(element_wise=False)
    @classmethod
    def resolved_after_reported(cls, frame: pd.DataFrame) -> pd.Series:
        return frame["resolved_at"].isna() | (frame["resolved_at"] >= frame["reported_at"])


class Trainings(_Base):
    employee_key: Series[str] = pa.Field(nullable=False)
    module: Series[str] = pa.Field(nullable=False, str_length={"min_value": 1})
    completed_at: Series[_UTC] = pa.Field(nullable=False)  # type: ignore[valid-type]


class PolicyVersions(_Base):
    version: Series[str] = pa.Field(nullable=False, str_length={"min_value": 1})
    summary: Series[str] = pa.Field(nullable=True)


MODELS: dict[str, type[pa.DataFrameModel]] = {
    "respondents": Respondents,
    "survey_answers": SurveyAnswers,
    "survey_comments": SurveyComments,
    "posts": Posts,
    "audience_comments": AudienceComments,
    "employees": Employees,
    "incidents": Incidents,
    "trainings": Trainings,
    "policy_versions": PolicyVersions,
}


def validate(table: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Validate ``frame`` as canonical ``table``.

    Returns the passing rows and a Series (indexed like ``frame``) with one reason per failing row.

    >>> good, reasons = validate("trainings", pd.DataFrame({
    ...     "employee_key": ["a" * 64, "b" * 64], "module": ["essentials", ""],
    ...     "completed_at": pd.to_datetime(["2026-01-02", "2026-01-03"], utc=True).as_unit("us")}))
    >>> len(good), reasons.tolist()
    (1, ['module: str_length(1, None) failed for value ""'])
    """
    model = MODELS.get(table)
    if model is None or frame.empty:
        return frame, pd.Series([], dtype="string")
    _load_checks()
    try:
        model.validate(frame, lazy=True)
    except SchemaErrors as errors:
        reasons = _reasons_by_row(errors.failure_cases, frame)
        bad = frame.index.isin(reasons.index)
        if not bad.any():  # a failure not tied to rows (a missing column): every row fails
            reason = "; ".join(errors.failure_cases["check"].astype(str).unique())
            return frame.iloc[0:0], pd.Series(reason, index=frame.index, dtype="string")
        return frame[~bad], reasons
    return frame, pd.Series([], dtype="string")


@cache
def _load_checks() -> None:
    """Load pandera's checks without hypothesis: pandera loads them at its first validation, and with them
    its data-generating strategies, which import hypothesis when it is installed (0.15 s of every ingest
    command). Validation generates no data; a process that already has hypothesis keeps it all."""
    if "hypothesis" in sys.modules:
        return
    sys.modules["hypothesis"] = None  # an import of it fails: pandera's strategies take it as not installed
    try:
        import pandera.strategies.pandas_strategies  # noqa: F401
    finally:
        del sys.modules["hypothesis"]


def _reasons_by_row(failures: pd.DataFrame, frame: pd.DataFrame) -> pd.Series:
    failures = failures.dropna(subset=["index"])
    lines: dict[object, list[str]] = {}
    for row in failures.itertuples(index=False):
        column = row.column if isinstance(row.column, str) else "row"
        value = "" if pd.isna(row.failure_case) else str(row.failure_case)[:60]
        lines.setdefault(row.index, []).append(f'{column}: {row.check} failed for value "{value}"')
    return pd.Series({index: "; ".join(dict.fromkeys(parts)) for index, parts in lines.items()}, dtype="string")
