"""Tests of analytics.periods' one rule for the local month and the quarter of a timestamp or a month label."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pandas as pd
import pytest

from analytics.periods import local_months, period_labels, sql_period_label

ZONES = ("Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Auckland", "UTC")


def _labels_of_instants(stamps: pd.Series, timezone: str, kind: str) -> list:
    return period_labels(local_months(stamps, timezone), kind).tolist()


def test_an_instant_near_midnight_utc_is_in_its_local_month_and_quarter():
    stamps = pd.Series(pd.to_datetime(["2026-03-31T23:30Z", "2026-04-01T00:30Z"], utc=True), index=[7, 3])
    # east of UTC the first is already April (Q2); west of UTC the second is still March (Q1)
    assert _labels_of_instants(stamps, "Europe/Berlin", "month") == ["2026-04", "2026-04"]
    assert _labels_of_instants(stamps, "Europe/Berlin", "quarter") == ["2026-Q2", "2026-Q2"]
    assert _labels_of_instants(stamps, "America/New_York", "month") == ["2026-03", "2026-03"]
    assert _labels_of_instants(stamps, "America/New_York", "quarter") == ["2026-Q1", "2026-Q1"]
    assert _labels_of_instants(stamps, "UTC", "quarter") == ["2026-Q1", "2026-Q2"]
    months = local_months(stamps, "Europe/Berlin")
    assert months.index.tolist() == [7, 3]
    assert months.tolist() == [pd.Timestamp("2026-04-01")] * 2


def test_naive_instants_are_utc_as_the_warehouse_stores_them():
    naive = pd.Series(pd.to_datetime(["2026-12-31 23:30"]))
    assert _labels_of_instants(naive, "Asia/Kolkata", "quarter") == ["2027-Q1"]
    assert _labels_of_instants(naive, "America/New_York", "month") == ["2026-12"]


def test_missing_values_stay_missing():
    stamps = pd.Series(pd.to_datetime(["2026-07-15T12:00Z", None], utc=True))
    months = local_months(stamps, "Europe/Berlin")
    assert months.iloc[0] == pd.Timestamp("2026-07-01") and pd.isna(months.iloc[1])
    labels = period_labels(months, "quarter")
    assert labels.iloc[0] == "2026-Q3" and pd.isna(labels.iloc[1])
    for months in (pd.Series(["2026-07", None, np.nan]), pd.Series([date(2026, 7, 1), None]),
                   pd.Series(pd.to_datetime(["2026-07-01", None]))):
        labels = period_labels(months, "month")
        assert labels.iloc[0] == "2026-07" and labels.iloc[1:].isna().all()


def test_month_labels_dates_and_month_starts_give_the_same_labels():
    firsts = pd.date_range("2025-11-01", "2027-02-01", freq="MS")
    expected_quarters = [f"{d.year}-Q{(d.month - 1) // 3 + 1}" for d in firsts]
    for months in (pd.Series(firsts), pd.Series(firsts.strftime("%Y-%m")), pd.Series([d.date() for d in firsts]),
                   pd.Series(firsts + pd.Timedelta(days=20))):
        assert period_labels(months, "month").tolist() == firsts.strftime("%Y-%m").tolist()
        assert period_labels(months, "quarter").tolist() == expected_quarters


def test_labels_keep_the_index_and_are_strings():
    months = pd.Series(["2026-01", "2026-05", "2026-01"], index=["a", "b", "c"])
    labels = period_labels(months, "quarter")
    assert labels.index.tolist() == ["a", "b", "c"]
    assert labels.dtype == pd.Series(["x"], dtype="str").dtype
    assert period_labels(pd.Series([], dtype=object), "month").empty


@pytest.mark.parametrize("timezone", ZONES)
def test_local_months_agree_with_zoneinfo_across_daylight_saving_changes(timezone):
    rng = np.random.default_rng(7)
    seconds = rng.integers(datetime(2024, 1, 1, tzinfo=UTC).timestamp(),
                           datetime(2027, 1, 1, tzinfo=UTC).timestamp(), 3000)
    # every month's first and last minute in UTC, where the zones disagree most
    edges = pd.date_range("2024-01-01", "2027-01-01", freq="MS", tz="UTC")
    seconds = np.concatenate([seconds, (edges.asi8 // 10**9) - 60, edges.asi8 // 10**9])
    stamps = pd.Series(pd.to_datetime(seconds, unit="s", utc=True))
    local = [datetime.fromtimestamp(int(s), ZoneInfo(timezone)) for s in seconds]
    assert _labels_of_instants(stamps, timezone, "month") == [f"{d.year}-{d.month:02d}" for d in local]
    assert _labels_of_instants(stamps, timezone, "quarter") == [f"{d.year}-Q{(d.month - 1) // 3 + 1}" for d in local]


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="choose one of"):
        period_labels(pd.Series(["2026-01"]), "week")
    with pytest.raises(ValueError, match="local_months"):
        period_labels(pd.Series(pd.to_datetime(["2026-01-01"], utc=True)), "month")


@pytest.mark.parametrize("kind", ["month", "quarter"])
def test_duckdb_labels_a_day_as_period_labels_does(kind):
    """The queries that group by period in DuckDB (the period tables, the dashboards' mission stories) give
    each day the label pandas gives it: every day of six years, month and quarter ends included."""
    days = pd.Series(pd.date_range("2023-01-01", "2028-12-31", freq="D"))
    con = duckdb.connect()
    con.register("days_frame", pd.DataFrame({"d": days.dt.date}))
    in_duckdb = con.execute(f"SELECT {sql_period_label('d', kind)} FROM days_frame ORDER BY d").df().iloc[:, 0]
    assert in_duckdb.tolist() == period_labels(days, kind).tolist()
