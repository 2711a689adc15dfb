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
    if model is None or frame.empty or _passes(model, frame):
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


#: The element checks :func:`_passes` evaluates itself: pandera's own vectorised operation for each.
_CHECKS = {
    "str_length": lambda data, min_value=None, max_value=None, exact_value=None: (
        data.str.len() == exact_value if exact_value is not None
        else (data.str.len() >= (0 if min_value is None else min_value))
        & (data.str.len() <= (float("inf") if max_value is None else max_value))),
    "isin": lambda data, allowed_values: data.isin(allowed_values),
    "greater_than_or_equal_to": lambda data, min_value: data >= min_value,
    "str_matches": lambda data, pattern: data.str.match(pattern, na=False),
}


def _passes(model: type[pa.DataFrameModel], frame: pd.DataFrame) -> bool:
    """Whether pandera would find nothing wrong with ``frame`` (``False``: it may; let pandera tell).

    Pandera costs some 50 ms a table whatever its size, most of a small export's ingest; this costs a
    few vectorised operations per column. Only frames whose every column pandera checks has a dtype it
    accepted before without looking at the values (not ``object``), and only checks listed in
    :data:`_CHECKS`, are decided here; all else, and any failure, goes to pandera, which gives the reasons.
    """
    schema = _schema(model)
    columns = list(schema.columns.values())
    # uniqueness and coercion (none of today's models use them) change what pandera does: its call
    if schema.checks or schema.unique or schema.coerce or any(c.unique or c.coerce for c in columns):
        return False
    if not frame.columns.is_unique or any(c.name not in frame.columns for c in columns):
        return False
    dtypes = tuple((c.name, frame[c.name].dtype) for c in columns)
    if any(pd.api.types.is_object_dtype(dtype) for _, dtype in dtypes) or not _dtypes_pass(model, dtypes):
        return False
    for column in columns:
        data = frame[column.name]
        missing = data.isna()
        if not column.nullable and missing.any():
            return False
        for check in column.checks:
            if check.name not in _CHECKS or check.element_wise or check.groupby is not None:
                return False
            passed = _CHECKS[check.name](data, **check.statistics)
            if check.ignore_na:
                passed = passed | missing
            if not bool(passed.fillna(False).all()):
                return False
    return True


@cache
def _schema(model: type[pa.DataFrameModel]) -> pa.DataFrameSchema:
    return model.to_schema()


@cache
def _dtypes_pass(model: type[pa.DataFrameModel], dtypes: tuple[tuple[str, object], ...]) -> bool:
    """Whether pandera accepts columns of these dtypes (it checks an empty frame of them once)."""
    _load_checks()
    empty = pd.DataFrame({name: pd.Series([], dtype=dtype) for name, dtype in dtypes})
    try:
        model.validate(empty, lazy=True)
    except SchemaErrors:
        return False
    return True


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
