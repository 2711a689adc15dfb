"""Every surface shows a group's incident figures by one rule (metrics.incident_figures): the same group, with
k - 1 and k resolved incidents, reads the same through the period tables, the report's and the policy review's
areas and the notebooks' severities."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from analytics import dashboard, metrics, priorities
from analytics import notebook_views as nv
from analytics.periods import parse_period

K = 5
QUARTER = "2026-Q3"


@pytest.fixture
def incidents() -> pd.DataFrame:
    """2026-Q3's incidents: each month one area's, so a month and an area are the same group of incidents.
    Conduct has k resolved (July), disclosure k - 1 (August), confidentiality many (September)."""
    rng = np.random.default_rng(7)
    groups = [("conduct", "2026-07", K, 2), ("disclosure", "2026-08", K - 1, 1),
              ("confidentiality", "2026-09", 4 * K, 6)]
    rows = []
    for area, month, n, self_reported in groups:
        for i in range(n):
            rows.append({"incident_id": f"{area}:{i}", "area": area, "severity": "high", "month": pd.Timestamp(month),
                         "reported_at": pd.Timestamp(f"{month}-10", tz="UTC") + pd.Timedelta(hours=i),
                         "detection": "self_reported" if i < self_reported else "detected",
                         "employee_key": f"{area}-person-{i}", "department": "Programs",
                         "hours_to_report": float(rng.uniform(1, 30)), "hours_to_resolve": float(rng.uniform(2, 90))})
    frame = pd.DataFrame(rows)
    return frame.assign(self_reported=frame["detection"] == "self_reported")


def _period_tables(incidents: pd.DataFrame) -> dict[str, pd.DataFrame]:
    tables = {kind: pd.concat(metrics._incidents(incidents, kind, K), ignore_index=True)
              for kind in ("month", "quarter")}
    return {kind: table[table["department"] == metrics.ALL].set_index(["metric", "period"])
            for kind, table in tables.items()}


def _dashboard_line(incidents: pd.DataFrame, area: str) -> str:
    data = SimpleNamespace(k=K, incidents=incidents.assign(month=incidents["month"].dt.strftime("%Y-%m")),
                           clarity=pd.DataFrame(columns=["area", "wave", "item_id", "text", "suppressed"]))
    table = dashboard._area_tables(data, [QUARTER])[area]
    return re.search(rf"Incidents, {QUARTER}</td><td>([^<]*)</td>", table).group(1)


def _notebook(incidents: pd.DataFrame, monkeypatch, period: str = QUARTER) -> pd.DataFrame:
    monkeypatch.setattr(nv.datasets, "check_has_posts", lambda *args, **kwargs: None)
    monkeypatch.setattr(nv, "_query", lambda *args, **kwargs: incidents[
        ["month", "severity", "area", "detection", "hours_to_report", "hours_to_resolve"]].copy())
    monkeypatch.setattr(nv, "_k", lambda: K)
    return nv.incidents_by_severity(period=period).set_index("area")


def test_a_group_s_incident_figures_are_the_same_on_every_surface(incidents, monkeypatch):
    figures = metrics.incident_figures(incidents, by=["area"], k=K).set_index("area")
    # the rule itself: k resolved show a median, k - 1 do not; the small group's self-reported count is hidden,
    # and the next smallest with it, else the line's total less the large group's would give it away
    assert figures.loc["conduct", "median_hours_to_resolve"] == pytest.approx(
        incidents.loc[incidents["area"] == "conduct", "hours_to_resolve"].median())
    assert figures[["median_hours_to_resolve", "n_self_reported"]].isna().to_dict() == {
        "median_hours_to_resolve": {"confidentiality": False, "conduct": False, "disclosure": True},
        "n_self_reported": {"confidentiality": False, "conduct": True, "disclosure": True}}
    months = {"conduct": "2026-07", "disclosure": "2026-08", "confidentiality": "2026-09"}

    tables = _period_tables(incidents)
    areas = priorities.incidents_by_area(incidents, current=parse_period(QUARTER), previous=parse_period("2026-Q2"),
                                         timezone="UTC", k=K, areas=list(months)).set_index("area")
    notebook = _notebook(incidents, monkeypatch)
    for area, month in months.items():
        median, self_reported = figures.loc[area, ["median_hours_to_resolve", "n_self_reported"]]
        share = figures.loc[area, "self_reported_share"]
        line = _dashboard_line(incidents, area)
        table_median = tables["month"].loc[("median_hours_to_resolve", month), "value"]
        table_share = tables["month"].loc[("self_reported_share", month), "value"]
        assert table_median == pytest.approx(median, nan_ok=True), area
        assert table_share == pytest.approx(share, nan_ok=True), area
        assert areas.loc[area, "median_hours_to_resolve"] == pytest.approx(median, nan_ok=True), area
        assert areas.loc[area, "self_reported"] == pytest.approx(self_reported, nan_ok=True), area
        assert notebook.loc[area, "median_hours_to_resolve"] == pytest.approx(median, nan_ok=True), area
        assert notebook.loc[area, "self_reported_share"] == pytest.approx(share, nan_ok=True), area
        if pd.isna(median):
            assert "h to resolve" not in line and "median time to resolve" in line and "hidden" in line, line
        else:
            assert f"median {median:.0f} h to resolve" in line, line
        if pd.isna(self_reported):
            assert "self-reported count" in line and "hidden to protect a group of fewer than 5 people" in line, line
        else:
            assert f"{int(self_reported)} self-reported" in line, line
    # the quarter holds them all: its months' line is protected, so its own figures are shown
    quarter = tables["quarter"]
    assert not quarter.loc[("self_reported_share", QUARTER), "suppressed"]
    assert quarter.loc[("self_reported_share", QUARTER), "value"] == pytest.approx(incidents["self_reported"].mean())


def test_a_quarter_whose_small_months_cannot_be_protected_hides_its_self_reported_share(incidents):
    """Months of 2, 2 and 1 incidents: hidden all, their quarter's count would still say how many of 5 came
    forward in months too small to show."""
    small = incidents[incidents["area"] == "confidentiality"].head(K).assign(
        month=pd.to_datetime(["2026-07-01", "2026-07-01", "2026-08-01", "2026-08-01", "2026-09-01"]))
    assert len(small) == K and small["self_reported"].any()
    quarter = _period_tables(small)["quarter"]
    assert quarter.loc[("self_reported_share", QUARTER), "suppressed"]
    assert pd.isna(quarter.loc[("self_reported_share", QUARTER), "value"])


def test_a_free_range_s_areas_do_not_give_away_one_day_s_incidents(incidents):
    """Ranges of the report cut at any day: two ending a day apart, both showing an area's self-reported count
    (and median time), told the one incident of that day: self-reported or not (and its time to resolve)."""
    september = incidents[incidents["area"] == "confidentiality"]
    september = september.assign(reported_at=pd.Timestamp("2026-09-01", tz="UTC")
                                 + pd.to_timedelta(np.arange(len(september)), unit="D"))

    def areas(last_day: str) -> pd.Series:
        return priorities.incidents_by_area(
            september, current=parse_period(start="2026-09-01", end=last_day),
            previous=parse_period("2026-08"), timezone="UTC", k=K, areas=["confidentiality"]).iloc[0]

    shorter, longer = areas("2026-09-07"), areas("2026-09-08")
    assert longer["n_current"] - shorter["n_current"] == 1
    assert pd.isna(shorter["self_reported"]) or pd.isna(longer["self_reported"])
    assert pd.isna(shorter["median_hours_to_resolve"]) or pd.isna(longer["median_hours_to_resolve"])
    # a range of whole months reads its months' figures: September's count, shown as the month's report shows it
    month = areas("2026-09-30")
    assert month["self_reported"] == september["self_reported"].sum()


def _planted(counts: dict[str, tuple[int, int, int]], quarter_months: tuple[str, str, str]) -> pd.DataFrame:
    """Incidents of each area in each of a quarter's months (``counts``), every other one self-reported."""
    rows = []
    for area, per_month in counts.items():
        for month, n in zip(quarter_months, per_month, strict=True):
            rows += [{"incident_id": f"{area}:{month}:{i}", "area": area, "severity": "high",
                      "month": pd.Timestamp(month), "reported_at": pd.Timestamp(f"{month}-10", tz="UTC"),
                      "detection": "self_reported" if i % 2 else "detected", "employee_key": f"{area}-{month}-{i}",
                      "department": "Programs", "hours_to_report": 1.0, "hours_to_resolve": 2.0}
                     for i in range(n)]
    frame = pd.DataFrame(rows)
    return frame.assign(self_reported=frame["detection"] == "self_reported")


def _published(incidents: pd.DataFrame, monkeypatch) -> dict[tuple[str, str, str], float]:
    """Every self-reported count the surfaces show of ``incidents``' quarter, its months, its areas and their
    severities, keyed (period, area, severity) with ``(all)`` for a total; NaN where a surface hides it."""
    months = sorted(incidents["month"].dt.strftime("%Y-%m").unique())
    quarter = f"{months[0][:4]}-Q{(int(months[0][5:]) - 1) // 3 + 1}"
    areas = sorted(incidents["area"].unique())
    shown: dict[tuple[str, str, str], float] = {}
    tables = _period_tables(incidents)
    for kind, periods in (("month", months), ("quarter", [quarter])):
        for period in periods:
            row = tables[kind].loc[("self_reported_share", period)]
            shown[(period, metrics.ALL, metrics.ALL)] = row["successes"] if not row["suppressed"] else np.nan
            report = priorities.incidents_by_area(incidents, current=parse_period(period),
                                                  previous=parse_period(period).previous(), timezone="UTC", k=K,
                                                  areas=areas).set_index("area")
            notebook = _notebook(incidents, monkeypatch, period)
            for area in report.index[report["n_current"] > 0]:
                shown[(period, area, metrics.ALL)] = report.loc[area, "self_reported"]
                shown[(period, area, "high")] = (notebook.loc[area, "self_reported_share"]
                                                 * notebook.loc[area, "n_incidents"])
    for area in areas:
        line = _dashboard_line(incidents, area)
        found = re.search(r"; (\d+) self-reported", line)
        dashboard_count = float(found.group(1)) if found else np.nan
        assert dashboard_count == pytest.approx(shown[(quarter, area, metrics.ALL)], nan_ok=True), line
    return shown


def _given_away(shown: dict[tuple[str, str, str], float]) -> list[str]:
    """The hidden counts that one published total and the shown counts beside it give back: a total's parts
    (an area's months and quarter, a period's areas and the organisation, an area's severities and the area)
    with exactly one hidden, the total included."""
    quarters = {period for period, _, _ in shown if "Q" in period}
    lines = []
    for quarter in quarters:
        for _, area, severity in {key for key in shown if key[0] == quarter}:
            lines.append([key for key in shown if key[1:] == (area, severity)])  # its months and its quarter
    for period in {period for period, _, _ in shown}:
        lines.append([key for key in shown if key[0] == period and key[2] == metrics.ALL])  # areas, organisation
        for area in {area for p, area, _ in shown if p == period and area != metrics.ALL}:
            lines.append([key for key in shown if key[:2] == (period, area)])  # severities, the area
    return [f"{hidden[0]} from {line}" for line in lines
            if len(hidden := [key for key in line if np.isnan(shown[key])]) == 1 and len(line) > 1]


def test_an_area_s_hidden_month_is_not_its_quarter_less_its_other_months(monkeypatch):
    """Conduct's July (2 incidents) was hidden in July's report; its quarter's report showed its count and August's
    and September's reports theirs (6 and 7 incidents): the quarter less those two gave July's back."""
    incidents = _planted({"conduct": (2, 6, 7), "confidentiality": (8, 9, 10)}, ("2026-07", "2026-08", "2026-09"))
    shown = _published(incidents, monkeypatch)
    assert np.isnan(shown[("2026-07", "conduct", metrics.ALL)])
    assert not _given_away(shown)


def test_a_month_s_hidden_organisation_figure_is_not_its_one_area_s(monkeypatch):
    """The sample's 2024-Q4: October's 6 incidents are all confidentiality's, November's 7 none self-reported,
    December's 4 two. December hidden, the period tables hid October too, but October's report showed
    confidentiality's count: the organisation's, and with the quarter's, December's."""
    incidents = _planted({"confidentiality": (6, 6, 2), "conduct": (0, 1, 2)}, ("2024-10", "2024-11", "2024-12"))
    shown = _published(incidents, monkeypatch)
    assert np.isnan(shown[("2024-12", metrics.ALL, metrics.ALL)])
    assert not _given_away(shown)


def test_a_hidden_organisation_self_reported_count_is_not_the_sum_of_its_departments():
    """July's 3 incidents hide the organisation's July and, as its complement, its August (10 incidents); August's
    two departments had 5 people each and showed their self-reported counts: their sum was the organisation's
    August, and the quarter less August and September then gave July's back."""
    rows = [{"incident_id": f"{month}:{i}", "area": "conduct", "severity": "high", "month": pd.Timestamp(month),
             "detection": "self_reported" if i % 3 == 0 else "detected", "employee_key": f"{month}:{i}",
             "department": ("Finance", "Programs")[i % 2], "hours_to_report": 2.0, "hours_to_resolve": 5.0}
            for month, n in (("2026-07", 3), ("2026-08", 10), ("2026-09", 30)) for i in range(n)]
    incidents = pd.DataFrame(rows).assign(self_reported=lambda f: f["detection"] == "self_reported")
    table = metrics._suppress(pd.concat(metrics._incidents(incidents, "month", K), ignore_index=True), K, None)
    shares = table[table["metric"] == "self_reported_share"].set_index(["period", "department"])["suppressed"]
    assert shares[("2026-08", metrics.ALL)] and not shares[("2026-09", metrics.ALL)]
    for period in ("2026-07", "2026-08"):
        assert shares.loc[period].all(), f"{period}: a department's self-reported count is shown"
    assert not shares.loc["2026-09"].any()
