"""engagement.amplifier_share's interval join equals the per-period roster filter it replaced."""

import numpy as np
import pandas as pd
import pytest

from analytics import engagement
from analytics.periods import parse_period, period_labels


def _reference_roster(amps, employees, period):
    """The former definition: the roster filtered and matched once per period label."""
    labels = period_labels(amps["month"], period)
    started = pd.to_datetime(employees["started_on"])
    left = pd.to_datetime(employees["left_on"])
    rows = []
    for label in sorted(set(labels)):
        span = parse_period(label)
        on_roster = ((started.isna() | (started < pd.Timestamp(span.end)))
                     & (left.isna() | (left >= pd.Timestamp(span.start))))
        active = employees[on_roster].copy()
        active["amplified"] = active["employee_key"].isin(set(amps.loc[labels == label, "author_key"]))
        rows.append(active.assign(period=label))
    return pd.concat(rows, ignore_index=True)


def _frames(seed):
    """A hostile roster: duplicate and missing keys, missing departments, open and unknown dates,
    people joining or leaving on a period's first day, authors off the roster."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 80))
    keys = rng.choice([f"e{j}" for j in range(n)] + [None], size=n)
    first = pd.Timestamp("2024-01-01")
    days = lambda size: first + pd.to_timedelta(rng.integers(0, 30, size) * 30, unit="D")  # noqa: E731
    started = pd.Series(days(n)).where(rng.random(n) > 0.2)
    left = pd.Series(days(n)).where(rng.random(n) > 0.6)
    employees = pd.DataFrame({
        "employee_key": pd.array(keys, dtype="str"),
        "department": pd.array(rng.choice(["Programs", "Fundraising", "Comms", None], size=n), dtype="str"),
        "started_on": started.astype("datetime64[us]"),
        "left_on": left.astype("datetime64[us]"),
        "recognition_opt_in": rng.random(n) > 0.5,
    })
    m = int(rng.integers(1, 200))
    months = pd.date_range("2023-11-01", periods=30, freq="MS")
    amps = pd.DataFrame({
        "author_key": pd.array(rng.choice([f"e{j}" for j in range(n + 5)] + [None], size=m), dtype="str"),
        "month": pd.Series(rng.choice(months, size=m)).astype("datetime64[us]"),
    }).drop_duplicates()
    return amps, employees


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("period", ["month", "quarter"])
@pytest.mark.parametrize("by", [None, "department"])
def test_equals_the_per_period_definition(seed, period, by):
    amps, employees = _frames(seed)
    # the roster per period is all that changed: the figures are computed from it as before
    pd.testing.assert_frame_equal(engagement._roster_by_period(amps, employees, period),
                                  _reference_roster(amps, employees, period))
    given = {"amplifications": amps.copy(), "employees": employees.copy()}
    engagement.amplifier_share(given, period=period, by=by, k=3)
    pd.testing.assert_frame_equal(given["amplifications"], amps)  # inputs untouched
    pd.testing.assert_frame_equal(given["employees"], employees)


def test_a_key_missing_on_the_roster_and_among_authors_counts_as_amplified():
    employees = pd.DataFrame({"employee_key": pd.array([None, "a"], dtype="str"), "department": "X",
                              "started_on": pd.NaT, "left_on": pd.NaT}).astype(
        {"started_on": "datetime64[us]", "left_on": "datetime64[us]"})
    amps = pd.DataFrame({"author_key": pd.array([None], dtype="str"), "month": pd.Timestamp("2026-02-01")})
    got = engagement.amplifier_share({"amplifications": amps, "employees": employees}, period="month")
    pd.testing.assert_frame_equal(engagement._roster_by_period(amps, employees, "month"),
                                  _reference_roster(amps, employees, "month"))
    assert int(got.loc[0, "n_amplifiers"]) == 1 and int(got.loc[0, "n_people"]) == 1
