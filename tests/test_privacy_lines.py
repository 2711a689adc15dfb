"""privacy._lines, column-wise, finds the lines the row-wise definition found (hostile keys included)."""

import numpy as np
import pandas as pd
import pytest

from analytics import privacy


def _reference(table, by, along=None):
    positions = np.arange(len(table))
    if len(by) <= 1 or len(table) == 0:
        return [positions]
    lines = []
    for column in by if along is None else along:
        rest = [c for c in by if c != column]
        keys = table[rest].astype("string").fillna("<NA>").agg("\x1f".join, axis=1).to_numpy()
        for value in pd.unique(keys):
            lines.append(positions[keys == value])
    return lines


def _table(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 60))
    words = ["a", "b", "<NA>", "a\x1fb", "", "Ünïcode", None]
    return pd.DataFrame({
        "period": pd.array(rng.choice(["2026-01", "2026-02", None], size=n), dtype="str"),
        "department": rng.choice(np.array(words, dtype=object), size=n),
        "platform": pd.array(rng.choice(["x", "b\x1fa", None], size=n), dtype="str"),
        "number": rng.choice([1.0, 2.5, np.nan], size=n),
        "count": pd.array(rng.choice([1, 2, None], size=n), dtype="Int64"),
    })


@pytest.mark.parametrize("seed", range(15))
@pytest.mark.parametrize(("by", "along"), [
    (["period", "department"], None), (["period", "department"], ["department"]),
    (["period", "department", "platform"], None), (["department", "number", "count"], ["count"]),
    (["department"], None), (["platform", "platform"], None),
])
def test_lines_equal_the_row_wise_definition(seed, by, along):
    table = _table(seed)
    got, expected = privacy._lines(table, by, along), _reference(table, by, along)
    assert len(got) == len(expected)
    for mine, theirs in zip(got, expected, strict=True):
        np.testing.assert_array_equal(mine, theirs)
