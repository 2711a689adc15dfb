"""A pandera ``DataFrameModel`` per canonical table, and one validation entry point.

:func:`validate` runs a model with ``lazy=True`` so every failure is collected, then splits the
frame into the rows that pass and one reject reason per failing row (all its failures joined).
The models are made from :data:`_TABLES` when first used: a frame that passes (most of them) is
checked against the same description without pandera, whose import costs a quarter of a second.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["AREAS", "MODELS", "validate"]

#: The policy areas every rule, survey construct and incident category maps to.
AREAS = ("confidentiality", "disclosure", "conduct", "engagement", "mistakes", "learning", "feedback")
ACCOUNT_TYPES = ("organization", "employee", "unattributed")
SEVERITIES = ("low", "medium", "high")
DETECTIONS = ("self_reported", "detected", "external")
_UTC = pd.DatetimeTZDtype("us", "UTC")

#: Each canonical table's model: its name, and each column's type and ``pandera.Field`` arguments.
_TABLES: dict[str, tuple[str, dict[str, tuple[object, dict[str, Any]]]]] = {
    "respondents": ("Respondents", {
        "response_id": (str, {"nullable": False, "str_length": {"min_value": 1}}),
        "source_format": (str, {}),
        "wave": (str, {"nullable": True, "str_matches": r"^\S+$"}),
        "submitted_at": (_UTC, {"nullable": True}),
        "finished": (bool, {}),
    }),
    "survey_answers": ("SurveyAnswers", {
        "response_id": (str, {"nullable": False}),
        "item_id": (str, {"nullable": False, "str_length": {"min_value": 1}}),
        "value": (float, {"nullable": True}),
        "mapped": (bool, {}),
    }),
    "survey_comments": ("SurveyComments", {
        "response_id": (str, {"nullable": False}),
        "item_id": (str, {"nullable": False}),
        "text": (str, {"nullable": False}),
    }),
    "posts": ("Posts", {
        "post_uid": (str, {"nullable": False, "str_length": {"min_value": 3}}),
        "platform": (str, {"nullable": False, "str_length": {"min_value": 1}}),
        "account_type": (str, {"isin": ACCOUNT_TYPES}),
        "published_at": (_UTC, {"nullable": False}),
        "text": (str, {"nullable": True}),
        **{metric: (float, {"nullable": True, "ge": 0}) for metric in (
            "impressions", "reach", "reactions", "comments", "shares", "clicks", "saves", "video_views")},
    }),
    "audience_comments": ("AudienceComments", {
        "comment_uid": (str, {"nullable": False, "str_length": {"min_value": 3}}),
        "published_at": (_UTC, {"nullable": False}),
        "text": (str, {"nullable": True}),
    }),
    "employees": ("Employees", {
        "employee_key": (str, {"nullable": False, "str_length": {"min_value": 16}}),
        "department": (str, {"nullable": False, "str_length": {"min_value": 1}}),
        "recognition_opt_in": (bool, {}),
    }),
    "incidents": ("Incidents", {
        "incident_id": (str, {"nullable": False, "str_length": {"min_value": 1}}),
        "reported_at": (_UTC, {"nullable": False}),
        "resolved_at": (_UTC, {"nullable": True}),
        "area": (str, {"isin": AREAS}),
        "severity": (str, {"isin": SEVERITIES}),
        "detection": (str, {"isin": DETECTIONS}),
    }),
    "trainings": ("Trainings", {
        "employee_key": (str, {"nullable": False}),
        "module": (str, {"nullable": False, "str_length": {"min_value": 1}}),
        "completed_at": (_UTC, {"nullable": False}),
    }),
    "policy_versions": ("PolicyVersions", {
        "version": (str, {"nullable": False, "str_length": {"min_value": 1}}),
        "summary": (str, {"nullable": True}),
    }),
}


def _resolved_after_reported(cls, frame: pd.DataFrame) -> pd.Series:
    return frame["resolved_at"].isna() | (frame["resolved_at"] >= frame["reported_at"])


#: Checks of whole frames, by table.
_FRAME_CHECKS = {"incidents": {"resolved_after_reported": _resolved_after_reported}}


@cache
def _models() -> dict[str, type]:
    """The pandera models of :data:`_TABLES` (pandera is imported here, at the first need)."""
    import pandera.pandas as pa
    from pandera.typing import Series

    class _Base(pa.DataFrameModel):
        class Config:
            strict = False
            coerce = False

    models = {}
    for table, (name, columns) in _TABLES.items():
        namespace: dict[str, Any] = {"__module__": __name__, "__qualname__": name,
                                     "__annotations__": {c: Series[kind] for c, (kind, _f) in columns.items()}}
        namespace.update({column: pa.Field(**field) for column, (_kind, field) in columns.items()})
        for check, function in _FRAME_CHECKS.get(table, {}).items():
            namespace[check] = pa.dataframe_check(element_wise=False)(classmethod(function))
        models[table] = type(name, (_Base,), namespace)
    return models


class _Models(Mapping[str, type]):
    """Table -> pandera model, made at the first look-up."""

    def __getitem__(self, table: str) -> type:
        return _models()[table]

    def __iter__(self) -> Iterator[str]:
        return iter(_TABLES)

    def __len__(self) -> int:
        return len(_TABLES)


#: The pandera model of each canonical table.
MODELS: Mapping[str, type] = _Models()


def validate(table: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Validate ``frame`` as canonical ``table``.

    Returns the passing rows and a Series (indexed like ``frame``) with one reason per failing row.

    >>> good, reasons = validate("trainings", pd.DataFrame({
    ...     "employee_key": ["a" * 64, "b" * 64], "module": ["essentials", ""],
    ...     "completed_at": pd.to_datetime(["2026-01-02", "2026-01-03"], utc=True).as_unit("us")}))
    >>> len(good), reasons.tolist()
    (1, ['module: str_length(1, None) failed for value ""'])
    """
    if table not in _TABLES or frame.empty or _passes(table, frame):
        return frame, pd.Series([], dtype="string")
    from pandera.errors import SchemaErrors

    _load_checks()
    try:
        _models()[table].validate(frame, lazy=True)
    except SchemaErrors as errors:
        reasons = _reasons_by_row(errors.failure_cases, frame)
        bad = frame.index.isin(reasons.index)
        if not bad.any():  # a failure not tied to rows (a missing column): every row fails
            reason = "; ".join(errors.failure_cases["check"].astype(str).unique())
            return frame.iloc[0:0], pd.Series(reason, index=frame.index, dtype="string")
        return frame[~bad], reasons
    return frame, pd.Series([], dtype="string")


#: The element checks :func:`_passes` evaluates itself, by ``pandera.Field`` argument: pandera's own
#: vectorised operation for each.
_CHECKS = {
    "str_length": lambda data, limits: (
        data.str.len() == limits["exact_value"] if limits.get("exact_value") is not None
        else (data.str.len() >= (limits.get("min_value") or 0))
        & (data.str.len() <= (float("inf") if limits.get("max_value") is None else limits["max_value"]))),
    "isin": lambda data, allowed: data.isin(allowed),
    "ge": lambda data, minimum: data >= minimum,
    "str_matches": lambda data, pattern: data.str.match(pattern, na=False),
}
#: The dtypes pandera accepts for each column type without looking at the values (tests check it); a column
#: of another dtype goes to pandera.
_DTYPES = {
    str: (pd.StringDtype("python", na_value=np.nan), pd.StringDtype("python", na_value=pd.NA)),
    float: (np.dtype("float64"),),
    bool: (np.dtype("bool"),),
    _UTC: (_UTC,),
}


def _passes(table: str, frame: pd.DataFrame) -> bool:
    """Whether pandera would find nothing wrong with ``frame`` as ``table`` (``False``: it may; let pandera
    tell).

    Pandera costs some 50 ms a table whatever its size (and its import a quarter of a second), most of a
    small export's ingest; this costs a few vectorised operations per column of the same description
    (:data:`_TABLES`) and the table's checks of whole frames (:data:`_FRAME_CHECKS`). Only frames whose every
    column has a dtype in :data:`_DTYPES` are decided here; all else, and any failure, goes to pandera, which
    gives the reasons.
    """
    columns = _TABLES[table][1]
    if not frame.columns.is_unique or any(c not in frame.columns for c in columns):
        return False
    for name, (kind, field) in columns.items():
        data = frame[name]
        if not any(data.dtype == accepted and type(data.dtype) is type(accepted) for accepted in _DTYPES[kind]):
            return False
        missing = data.isna()
        if not field.get("nullable", False) and missing.any():
            return False
        for check, argument in field.items():
            # a check ignores missing values (pandera's default, which no field changes)
            if check != "nullable" and not bool((_CHECKS[check](data, argument) | missing).fillna(False).all()):
                return False
    # the checks of whole frames, on columns of the dtypes checked above: a row where one is False fails
    return all(bool(check(None, frame).all()) for check in _FRAME_CHECKS.get(table, {}).values())


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
