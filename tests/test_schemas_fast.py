"""Validation's fast path (:func:`analytics.schemas._passes`) lets a frame through only when pandera finds
nothing wrong with it, so :func:`analytics.schemas.validate` gives exactly what pandera alone gives: the same
rows kept and the same reasons, on valid frames and on every kind of broken one."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics import schemas

_UTC = "datetime64[us, UTC]"


def _valid(table: str, n: int = 4) -> pd.DataFrame:
    """A frame of ``n`` rows that passes ``table``'s model, in the dtypes ingest gives it."""
    frame = {}
    for name, column in schemas.MODELS[table].to_schema().columns.items():
        kind = str(column.dtype)
        if kind.startswith("datetime"):
            values = pd.Series(pd.date_range("2026-01-01", periods=n, tz="UTC")).astype(_UTC)
        elif kind == "bool":
            values = pd.Series([True, False] * (n // 2) + [True] * (n % 2), dtype=bool)
        elif kind == "float64":
            values = pd.Series(np.arange(n, dtype="float64"))
        else:
            allowed = next((c.statistics["allowed_values"] for c in column.checks if c.name == "isin"), None)
            values = pd.Series([allowed[i % len(allowed)] if allowed else f"{name}-value-{i:02d}-" + "k" * 16
                                for i in range(n)], dtype="str")
        frame[name] = values
    frame["source_row"] = np.arange(1, n + 1)
    if table == "incidents":  # resolved after reported
        frame["resolved_at"] = frame["reported_at"] + pd.Timedelta(hours=1)
    return pd.DataFrame(frame)


def _slow(table: str, frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> tuple[pd.DataFrame, pd.Series]:
    with monkeypatch.context() as patch:
        patch.setattr(schemas, "_passes", lambda table, frame: False)
        return schemas.validate(table, frame)


def _assert_same(table: str, frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> bool:
    """validate() with the fast path equals validate() through pandera; returns whether the fast path decided
    (then pandera found nothing wrong either: it kept every row)."""
    decided = schemas._passes(table, frame)
    good, reasons = schemas.validate(table, frame)
    slow_good, slow_reasons = _slow(table, frame, monkeypatch)
    pd.testing.assert_frame_equal(good, slow_good)
    assert reasons.to_dict() == slow_reasons.to_dict()
    return decided


#: Broken cells written into one row (None/NaN/NA/NaT are missing values): for every string column, and more
#: for a column with a length, set or pattern check.
_STRINGS = [None, np.nan, "", "ab", "\t"]
_BY_CHECK = {
    "str_length": ["x", "abc", "e\u0301", "k" * 15, "\U0001f600" * 16],
    "isin": ["Employee", "organization ", "HIGH", pd.NA],
    "str_matches": [" ", "2026 Q1", "2026-Q1\n", "a\u00a0b", "\u200b"],
}
_FLOATS = [-0.0, -1e-300, np.inf, -np.inf, np.nan]
_STAMPS = [pd.NaT]


def _broken(table: str, column: str, value: object) -> pd.DataFrame:
    frame = _valid(table)
    frame[column] = frame[column].astype(object)
    frame.loc[1, column] = value
    kind = str(schemas.MODELS[table].to_schema().columns[column].dtype)
    # a value the column's dtype cannot hold leaves the column object
    with contextlib.suppress(TypeError, ValueError):
        frame[column] = frame[column].astype(_UTC if kind.startswith("datetime") else
                                             "str" if kind.startswith("string") else kind)
    return frame


def _kinds(table: str) -> dict[str, object]:
    """One column of each kind (dtype, nullable, checks) of ``table``'s model: the others behave alike."""
    kinds = {}
    for column, spec in schemas.MODELS[table].to_schema().columns.items():
        signature = (str(spec.dtype), spec.nullable, tuple((c.name, repr(c.statistics)) for c in spec.checks))
        kinds.setdefault(signature, (column, spec))
    return dict(kinds.values())


def _cells(spec) -> list[object]:
    kind = str(spec.dtype)
    if kind.startswith("datetime"):
        return _STAMPS
    if kind == "float64":
        return _FLOATS
    if kind == "bool":
        return [None]
    return _STRINGS + [value for check in spec.checks for value in _BY_CHECK.get(check.name, [])]


@pytest.mark.parametrize("table", sorted(schemas.MODELS))
def test_a_broken_cell_gets_the_rows_and_reasons_pandera_gives(table, monkeypatch):
    for column, spec in _kinds(table).items():
        for value in _cells(spec):
            _assert_same(table, _broken(table, column, value), monkeypatch)


def test_an_incident_resolved_before_it_was_reported_gets_the_row_and_reason_pandera_gives(monkeypatch):
    frame = _valid("incidents", 6)
    frame.loc[2, "resolved_at"] = frame.loc[2, "reported_at"] - pd.Timedelta(minutes=1)
    frame.loc[4, "resolved_at"] = pd.NaT  # not resolved yet: no check to fail
    assert not _assert_same("incidents", frame, monkeypatch)
    good, reasons = schemas.validate("incidents", frame)
    assert reasons.index.tolist() == [2] and "resolved_after_reported" in reasons[2] and len(good) == 5


@pytest.mark.parametrize("table", sorted(schemas.MODELS))
def test_valid_frames_take_the_fast_path_and_come_back_whole(table, monkeypatch):
    frame = _valid(table, 50)
    decided = _assert_same(table, frame, monkeypatch)
    assert decided
    good, reasons = schemas.validate(table, frame)
    assert good is frame and reasons.empty


@pytest.mark.parametrize("table", sorted(schemas.MODELS))
def test_odd_dtypes_missing_and_repeated_columns_get_what_pandera_gives(table, monkeypatch):
    model_columns = list(schemas.MODELS[table].to_schema().columns)
    variants = []
    for column in _kinds(table):
        base = _valid(table)
        variants.append(base.drop(columns=[column]))
        kind = str(base[column].dtype)
        changes = {"object": base[column].astype(object)}
        if kind == "str":
            changes |= {"string": base[column].astype("string"), "category": base[column].astype("category")}
        elif kind == "float64":
            changes |= {"float32": base[column].astype("float32"), "Int64": base[column].astype("Int64"),
                        "int": base[column].astype("int64"), "Float64": base[column].astype("Float64")}
        elif kind == "bool":
            changes |= {"boolean": base[column].astype("boolean"), "int": base[column].astype("int64")}
        else:
            changes |= {"ns": base[column].astype("datetime64[ns, UTC]"),
                        "other zone": base[column].dt.tz_convert("Europe/Berlin"),
                        "naive": base[column].dt.tz_localize(None)}
        for values in changes.values():
            variants.append(base.assign(**{column: values}))
    twice = _valid(table)
    variants.append(pd.concat([twice, twice[[model_columns[0]]]], axis=1))
    for frame in variants:
        _assert_same(table, frame, monkeypatch)


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(sorted(schemas.MODELS)), st.data())
def test_random_broken_frames_get_what_pandera_gives(table, data):
    frame = _valid(table, 6)
    for name, spec in schemas.MODELS[table].to_schema().columns.items():
        kind = str(spec.dtype)
        if kind == "float64":
            cells = data.draw(st.lists(st.sampled_from(_FLOATS[:-1]) | st.floats(), min_size=6, max_size=6))
            frame[name] = pd.Series(cells, dtype=object).astype("float64")
        elif kind.startswith("string"):
            odd = _STRINGS + _BY_CHECK["str_length"] + _BY_CHECK["str_matches"]
            cells = data.draw(st.lists(st.sampled_from(odd) | st.text(max_size=20), min_size=6, max_size=6))
            frame[name] = pd.Series(cells, dtype="str")
    with pytest.MonkeyPatch.context() as monkeypatch:
        _assert_same(table, frame, monkeypatch)


@pytest.mark.parametrize("table", sorted(schemas.MODELS))
def test_the_fast_paths_dtypes_are_ones_pandera_accepts(table):
    columns = schemas._TABLES[table][1]
    for kind, accepted in schemas._DTYPES.items():
        for dtype in accepted:
            empty = _valid(table, 0).astype({c: dtype for c, (k, _field) in columns.items() if k == kind})
            schemas.MODELS[table].validate(empty, lazy=True)  # raises if pandera rejects one


def test_a_frame_that_passes_is_validated_without_importing_pandera():
    code = """
import sys
import pandas as pd
from analytics import schemas
frame = pd.DataFrame({"version": pd.Series(["v1", "v2"], dtype="str"), "summary": ["a", None]})
good, reasons = schemas.validate("policy_versions", frame)
print(len(good), len(reasons), "pandera" in sys.modules)
good, reasons = schemas.validate("policy_versions", frame.assign(version=["v1", ""]))
print(len(good), reasons.tolist(), "pandera" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}).stdout.split("\n")
    assert out[0] == "2 0 False"
    assert out[1] == """1 ['version: str_length(1, None) failed for value ""'] True"""
