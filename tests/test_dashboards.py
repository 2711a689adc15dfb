"""The Voila dashboards: their logic (no browser), the server's exposure, and the pages in Chromium.

Browser tests start the real server (``analytics.serve``) over the session's sample warehouse and
drive Debian's headless Chromium through Playwright; they skip locally without Chromium and fail
under ``CI=true``. They share one server; `make test` runs a file on one worker (`--dist loadfile`).
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from browser import ARTIFACTS, Server, chart_data, drawn_figures, headless_chromium, screenshot, wait_for_charts

from analytics import charts, config, dashboard, datasets, engagement, insights, priorities, privacy, serve, warehouse
from analytics.adherence import AREAS, rules_frame
from analytics.metrics import ALL, METRICS, compare_periods
from analytics.periods import parse_period, period_labels

SOURCE_MARKERS = ("from analytics import dashboard", "dashboard.leadership()", "dashboard.policy_review()")
ERROR_MARKERS = ("Traceback", "Error:", "Exception", "NameError", "has no attribute")


def _texts(widget) -> str:
    """All text a widget tree shows (HTML values, button labels), for message checks."""
    parts = [str(getattr(widget, "value", "") or ""), str(getattr(widget, "description", "") or "")]
    for child in getattr(widget, "children", ()):
        parts.append(_texts(child))
    return " ".join(parts)


def _buttons(widget) -> list:
    import ipywidgets as widgets

    found = [widget] if isinstance(widget, widgets.Button) else []
    for child in getattr(widget, "children", ()):
        found += _buttons(child)
    return found


# --- missing, empty, busy -------------------------------------------------------------------------

@pytest.mark.parametrize("build", [dashboard.leadership, dashboard.policy_review])
def test_missing_warehouse_says_what_to_run(tmp_path, build):
    text = _texts(build(tmp_path / "nowhere.duckdb"))
    assert "Nothing to show yet" in text
    assert "make demo" in text and "policy-pulse ingest" in text
    assert "Traceback" not in text


def test_unbuilt_warehouse_says_to_run_build(tmp_path):
    path = tmp_path / "w.duckdb"
    warehouse.connect(path).close()  # canonical schema only, never built
    text = _texts(dashboard.leadership(path))
    assert "policy-pulse build" in text and "has not been built" in text


@pytest.mark.parametrize("build", [dashboard.leadership, dashboard.policy_review])
def test_busy_warehouse_shows_busy_retry(tmp_path, build):
    path = tmp_path / "w.duckdb"
    warehouse.connect(path).close()
    writer = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('ready', flush=True); time.sleep(60)", str(path)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "ready"
        box = build(path)
        text = _texts(box)
        assert "busy, retry" in text.lower() and "Traceback" not in text
        assert [b.description for b in _buttons(box)] == ["Retry"]
    finally:
        writer.kill()
        writer.wait()
    # once the writer is gone, Retry gets past the lock (to the "not built" message here)
    _buttons(box)[0].click()
    assert "has not been built" in _texts(box)


# --- logic over the sample warehouse ----------------------------------------------------------------

@pytest.fixture(scope="module")
def data(sample_warehouse):
    return dashboard.load_data(sample_warehouse)


def test_kpi_tiles_match_compare_periods_and_targets(data):
    period = dashboard.filter_options(data.quarterly)["periods"][0]
    tiles = dashboard.kpi_tiles(data.quarterly, period=period).set_index("metric")
    assert list(tiles.index) == list(dashboard.KPI_METRICS)
    settings = config.get_settings()  # targets come from the configuration
    for metric in ("adherence_rate", "employee_sentiment", "training_coverage"):
        expected = compare_periods(data.quarterly, metric=metric, current=period,
                                   previous=parse_period(period).previous().label).iloc[0]
        assert tiles.loc[metric, "value"] == pytest.approx(expected["value"])
        assert tiles.loc[metric, "p_value"] == pytest.approx(expected["p_value"], nan_ok=True)
        assert tiles.loc[metric, "status"] == settings.targets[metric].status(expected["value"])
    assert tiles.loc["incidents", "status"] == "no target"
    # survey tiles compare waves: the previous period is the wave before, not necessarily the quarter before
    waves = sorted(data.quarterly.loc[data.quarterly["metric"] == "trust_favourability", "period"].unique())
    current = tiles.loc["trust_favourability", "period"]
    assert current in waves and current <= period
    assert tiles.loc["trust_favourability", "previous_period"] == waves[waves.index(current) - 1]


def test_an_area_s_median_time_to_resolve_rests_on_k_resolved_incidents(data):
    """As in the report: the median of fewer than k incidents would show one incident's time."""
    quarters = period_labels(data.incidents["month"], "quarter")
    seen = set()
    for period in dashboard.filter_options(data.quarterly)["periods"][:4]:
        previous = parse_period(period).previous().label
        for area in dashboard.AREAS:
            table = dashboard._area_tables(data, [previous, period])[area]
            for quarter in (previous, period):
                mine = data.incidents[(data.incidents["area"] == area) & (quarters == quarter)]
                resolved = mine["hours_to_resolve"].dropna()
                line = re.search(rf"Incidents, {quarter}</td><td>([^<]*)</td>", table).group(1)
                if len(resolved) >= data.k:
                    assert f"median {resolved.median():.0f} h to resolve" in line, line
                    seen.add("shown")
                elif len(mine):
                    assert "h to resolve" not in line, line
                    assert f"median time to resolve hidden to protect a group of fewer than {data.k}" in line, line
                    seen.add("hidden")
    assert seen == {"shown", "hidden"}, "the sample should exercise both"


def test_an_area_words_each_clarity_item_once_for_the_two_waves_the_review_compares(data):
    period = dashboard.filter_options(data.quarterly)["periods"][0]
    table = dashboard._area_tables(data, [parse_period(period).previous().label, period])["disclosure"]
    items = data.clarity[data.clarity["area"] == "disclosure"]
    shown = re.findall(r"wave (\S+): (\d+)% favourable", table)
    assert len(set(data.clarity["wave"])) > 2  # older waves exist, and are left to the chart
    latest = dashboard.recent_waves(data.clarity["wave"], period, 2)
    assert [wave for wave, _ in shown] == latest * items["item_id"].nunique()
    for wave, percent in shown:
        row = items[items["wave"] == wave].iloc[0]
        assert int(percent) == round(100 * row["favourable"])
    assert table.count("Clarity: “") == items["item_id"].nunique()


def test_tiles_by_department_hide_small_groups_and_say_what_is_not_broken_down(data):
    period = dashboard.filter_options(data.quarterly)["periods"][0]
    department = dashboard.filter_options(data.quarterly)["departments"][1]
    tiles = dashboard.kpi_tiles(data.quarterly, period=period, department=department).set_index("metric")
    assert tiles.loc["engagement_rate", "status"] == "not available"  # organisation posts have no department
    # a suppressed cell becomes a hidden tile, never a number
    planted = data.quarterly.copy()
    row = ((planted["metric"] == "adherence_rate") & (planted["department"] == department)
           & (planted["period"] == period))
    planted.loc[row, ["value", "n", "successes", "ci_low", "ci_high"]] = np.nan
    planted.loc[row, "suppressed"] = True
    tile = dashboard.kpi_tiles(planted, period=period, department=department, metrics=["adherence_rate"]).iloc[0]
    assert tile["status"] == "hidden"
    html_text = dashboard._tile_html(tile, 5, "department")
    assert "hidden to protect a group of fewer than 5 people" in html_text and "0.0%" not in html_text


def _tile_change(tile: pd.Series) -> tuple[str, str, str, str]:
    """The arrow, its colour, the change shown and the word of a tile's change line ("" for none), or, without
    a word, what the line says of chance."""
    line = dashboard._tile_html(tile, 5, "")
    found = re.search(r"<span style='color:(#[0-9a-f]+)'>(.)</span> (\S+)[^(]*\(([^;)]+;)?([^,)]*)", line)
    colour, arrow, shown, word, chance = found.groups()
    return arrow, colour, shown, word.rstrip(";") if word else chance


def test_a_tiles_arrow_is_the_figures_movement_and_its_colour_whether_that_is_significantly_good(data):
    quarterly = data.quarterly.copy()
    period = dashboard.filter_options(quarterly)["periods"][0]
    tiles = dashboard.kpi_tiles(quarterly, period=period)
    moving = tiles[tiles["change"].notna() & tiles["change"].ne(0)]
    # both kinds of metric move in the sample: ones where lower is better (incidents) and higher is better
    assert {dashboard.METRICS[m].higher_is_better for m in moving["metric"]} == {True, False}
    # and changes of every kind: significant, within chance and untested (counts, medians)
    kinds = {"untested" if pd.isna(t.p_value) else "significant" if t.significant else "not significant"
             for t in moving.itertuples()}
    assert kinds == {"significant", "not significant", "untested"}, kinds
    for _, tile in moving.iterrows():
        arrow, colour, shown, word = _tile_change(tile)
        assert arrow == ("▲" if shown.startswith("+") else "▼"), (tile["metric"], arrow, shown)
        if pd.notna(tile["p_value"]) and not tile["significant"]:
            assert (word, colour) == ("within chance", "#444"), (tile["metric"], word, colour)  # no "better"
            continue
        if pd.isna(tile["p_value"]):  # a count or a median: no test, so neither better nor worse
            assert (word, colour) == ("no significance test for this kind of figure", "#444"), (tile["metric"],
                                                                                                word, colour)
            continue
        assert word == tile["direction"]
        assert colour == {"better": "#1a7f37", "worse": "#c62828"}[word], (tile["metric"], colour, word)
    # a change that rounds to nothing shown is "=", whichever way its unshown digits go
    row = (quarterly["metric"] == "adherence_rate") & (quarterly["department"] == ALL) & (
        quarterly["platform"] == ALL)
    before = tiles.set_index("metric").loc["adherence_rate", "previous_period"]
    previous = float(quarterly.loc[row & (quarterly["period"] == before), "value"].iloc[0])
    quarterly.loc[row & (quarterly["period"] == period), "value"] = previous + 0.00001
    tile = dashboard.kpi_tiles(quarterly, period=period, metrics=["adherence_rate"]).iloc[0]
    assert tile["direction"] == "better"
    assert _tile_change(tile) == ("=", "#444", "+0.0", "same")


def test_a_tile_names_its_people_once(data):
    tiles = dashboard.kpi_tiles(data.quarterly, period=dashboard.filter_options(data.quarterly)["periods"][0])
    tiles = tiles.set_index("metric", drop=False)
    over_people = tiles.loc["response_rate"]  # its n is the headcount
    assert over_people["n"] == over_people["n_people"]
    assert f"n = {int(over_people['n']):,} employees ·" in dashboard._tile_html(over_people, data.k, "")
    over_posts = tiles.loc["adherence_rate"]
    assert f"n = {int(over_posts['n']):,} posts, {int(over_posts['n_people']):,} people" in dashboard._tile_html(
        over_posts, data.k, "")
    resolved = tiles.loc["median_hours_to_resolve"]
    assert f"n = {int(resolved['n']):,} resolved incidents" in dashboard._tile_html(resolved, data.k, "")


def test_a_tile_says_why_it_has_no_comparison_and_names_its_target(data):
    quarterly = data.quarterly.copy()
    period = dashboard.filter_options(quarterly)["periods"][0]
    previous = parse_period(period).previous().label
    row = ((quarterly["metric"] == "adherence_rate") & (quarterly["department"] == ALL)
           & (quarterly["platform"] == ALL) & (quarterly["period"] == previous))
    quarterly.loc[row, ["value", "n", "successes", "ci_low", "ci_high"]] = np.nan
    quarterly.loc[row, "suppressed"] = True
    tile = dashboard.kpi_tiles(quarterly, period=period, metrics=["adherence_rate"]).iloc[0]
    shown = dashboard._tile_html(tile, data.k, "department")
    assert f"no comparison: {previous} is hidden to protect a group of fewer than {data.k} people" in shown
    target = insights.format_value("adherence_rate", config.get_settings().targets["adherence_rate"].green)
    assert re.search(rf">(on|near|off) target \({re.escape(target)}\)</span>", shown), shown


def test_a_tiles_stripe_and_badge_are_its_status_against_the_target_whatever_its_change(data):
    tiles = dashboard.kpi_tiles(data.quarterly, period=dashboard.filter_options(data.quarterly)["periods"][0])
    colours = {"green": "#1a7f37", "amber": "#b26a00", "red": "#c62828", "no target": "#666"}
    # the sample has tiles whose change goes against their status (on target but worse, off target but better)
    assert {(t.status, t.direction) for t in tiles.itertuples()} & {("green", "worse"), ("red", "better")}
    for _, tile in tiles.iterrows():
        shown = dashboard._tile_html(tile, data.k, "department")
        stripe = re.search(r"border-left:6px solid (#[0-9a-f]+)", shown).group(1)
        badge = re.search(r"<span style='background:(#[0-9a-f]+)", shown).group(1)
        assert stripe == badge == colours[tile["status"]], (tile["metric"], tile["status"], stripe, badge)


def test_filters_never_combine_department_and_platform():
    state = dashboard.Filters("2026-Q2").choose(department="Finance")
    assert state.choose(platform="x") == dashboard.Filters("2026-Q2", ALL, "x")
    with pytest.raises(ValueError, match="not both"):
        dashboard.Filters("2026-Q2", "Finance", "x")


def _live_widgets() -> int:
    from ipywidgets.widgets import widget

    return len(widget._instances)


def test_a_filter_change_redraws_in_place_and_makes_no_widget(data):
    board = dashboard.LeadershipDashboard(data)
    review = dashboard.PolicyReview(data)
    before = _live_widgets()
    options = dashboard.filter_options(data.quarterly)
    board.department.value = options["departments"][1]
    board.period.value = options["periods"][1]
    review.period.value = options["periods"][1]
    review.area.value = AREAS[1]
    review.area.value = ALL
    # each redraw made a FigureWidget (a model the browser kept) per chart before
    assert _live_widgets() == before


def test_leadership_filter_redraws_charts_and_downloads(data):
    board = dashboard.LeadershipDashboard(data)
    adherence = board.charts[0]
    assert [t.name for t in adherence.widget.data if t.name in ("Organisation",)] == ["Organisation"]
    before_link = adherence.link.value
    department = dashboard.filter_options(data.quarterly)["departments"][1]
    board.department.value = department
    names = [t.name for t in adherence.widget.data]
    assert department in names and "Organisation" in names
    assert adherence.link.value != before_link
    payload = re.search(r"base64,([A-Za-z0-9+/=]+)", adherence.link.value).group(1)
    downloaded = pd.read_csv(io.StringIO(base64.b64decode(payload).decode()))
    assert set(downloaded["series"]) == {department, "Organisation"}
    board.platform.value = dashboard.filter_options(data.quarterly)["platforms"][1]
    assert board.department.value == ALL  # choosing a platform clears the department
    # every trend chart marks the policy revisions
    for chart in board.charts:
        assert any(s.type == "line" and s.line.dash == "dash" for s in chart.widget.layout.shapes), chart.key


def test_a_platform_without_a_figure_is_said_to_have_none_not_to_be_unbroken_down(data):
    """Mastodon reports no impressions: its engagement rate is missing, while other platforms have theirs."""
    board = dashboard.LeadershipDashboard(data)
    board.platform.value = "mastodon"
    chart = next(c for c in board.charts if c.key == "engagement_rate")
    assert chart.widget.layout.title.text.startswith(
        "Engagement rate (by impressions) per month — organisation (no figure for mastodon)")
    board.platform.value = "facebook"
    assert "facebook vs organisation" in chart.widget.layout.title.text
    tile = dashboard.kpi_tiles(data.quarterly, period=board.filters.period, platform="mastodon",
                               metrics=["engagement_rate"]).iloc[0]
    assert tile["status"] == "no data"
    assert "no figure for this selection in " in dashboard._tile_html(tile, data.k, "platform")


def test_each_survey_figure_has_its_chart_where_a_department_s_line_joins_the_organisation_s_in_blue(data):
    """Trust and response rate on one plot with a department chosen were four lines and bands crossing on an axis
    of two units, under a legend of five entries; blue is the organisation in every chart."""
    board = dashboard.LeadershipDashboard(data)
    survey = {c.key: c for c in board.charts if c.key in dashboard.SURVEY_METRICS}
    assert list(survey) == ["trust_favourability", "response_rate"]

    def lines(chart) -> dict[str, str]:
        return {t.name: t.line.color for t in chart.widget.data
                if t.mode and "lines" in t.mode and t.name and "95%" not in t.name}

    department = dashboard.filter_options(data.quarterly)["departments"][1]
    board.department.value = department
    for metric, chart in survey.items():
        assert lines(chart) == {department: charts.PALETTE[1], "Organisation": charts.PALETTE[0]}, metric
        assert chart.widget.layout.title.text.endswith(f"{department} vs organisation")
        assert chart.widget.layout.yaxis.title.text == METRICS[metric].unit.capitalize()
        assert f"Definition: {html.escape(METRICS[metric].definition)}" in chart.link.value


def test_training_coverage_says_why_it_reads_zero_before_the_module_began(data):
    """Months of 0 % before anyone could complete the module read as a roster that does not train."""
    board = dashboard.LeadershipDashboard(data)
    chart = next(c for c in board.charts if c.key == "training_coverage")
    coverage = data.monthly[(data.monthly["metric"] == "training_coverage") & (data.monthly["department"] == ALL)
                            & (data.monthly["platform"] == ALL)]
    assert (coverage["value"] == 0).any(), "the sample's module begins after its first months"
    first = coverage.loc[coverage["value"] > 0, "period"].min()
    assert f"it is 0 before the module's first completion, in {first}" in chart.widget.layout.meta["how_to_read"]


def test_positive_side_read_once_equals_the_engagement_functions_on_the_warehouse(data, sample_warehouse):
    # load_data reads the post rows once and hands each quarter's rows over; the functions reading the
    # warehouse themselves are the reference, quarter by quarter
    quarters = dashboard.filter_options(data.quarterly)["periods"]
    with warehouse.read_only(sample_warehouse) as con:
        mission = engagement.mission_value(con, period="quarter")
        teams = [engagement.team_recognition(con, period=q, k=data.k).assign(period=q) for q in quarters]
        people = [engagement.individual_recognition(con, period=q, min_posts=dashboard.RECOGNITION_MIN_POSTS)
                  .assign(period=q)[["period", "display_name", "department"]] for q in quarters]
    mission = mission[mission["source"] == "organisation"].drop(columns="source").reset_index(drop=True)
    assert len(mission) and data.teams["recognised"].any()
    pd.testing.assert_frame_equal(data.mission, mission)
    pd.testing.assert_frame_equal(data.teams, pd.concat(teams, ignore_index=True))
    pd.testing.assert_frame_equal(data.people, pd.concat(people, ignore_index=True))


def test_recognition_lists_only_opted_in_display_names_and_no_findings(data, sample_warehouse):
    with warehouse.read_only(sample_warehouse) as con:
        names = set(con.execute("SELECT n.display_name FROM recognition_names n JOIN employees e USING "
                                "(employee_key) WHERE e.recognition_opt_in").df()["display_name"])
    board = dashboard.LeadershipDashboard(data)
    shown_any = False
    for period in dashboard.filter_options(data.quarterly)["periods"]:
        board.period.value = period
        teams, people = dashboard.recognition_lists(data, period=period)
        assert list(people.columns) == ["display_name", "department"]
        assert set(people["display_name"]) <= names
        listed = re.search(r"<span class='pp-people'>(.*?)</span>", board.recognition.value).group(1)
        for name in people["display_name"]:
            assert html.escape(name) in listed
        shown_any |= len(people) > 0
        # teams shown are recognised and large enough; never a finding, adherence figure per person or key
        suppressed = data.teams[(data.teams["period"] == period) & data.teams["suppressed"]]["department"]
        assert not set(teams["department"]) & set(suppressed)
        assert "employee_key" not in board.recognition.value and "finding" not in listed
    assert shown_any, "the sample should recognise at least one opted-in person in some quarter"
    assert set(data.people["display_name"]) <= names


def test_story_section_renders_k_safe_trends_with_revisions_and_downloads(data):
    board = dashboard.LeadershipDashboard(data)
    assert "Telling our story" in _texts(board.widget)
    keys = [c.key for c in board.story_charts]
    assert keys == ["mission_story_share", "amplifier_share", "mission_clicks"]
    for chart in board.story_charts:
        assert any(s.type == "line" and s.line.dash == "dash" for s in chart.widget.layout.shapes), chart.key
        assert chart.widget.layout.title.subtitle.text, chart.key  # the "how to read this" line
        assert "base64," in chart.link.value
    story = board.story_charts[0]
    published = datasets.select_series(data.monthly, metric="mission_story_share")
    organisation = next(t for t in story.widget.data if t.name == "Organisation")
    shown = [v for v in organisation.y if v is not None]
    assert shown == pytest.approx(published.loc[~published["suppressed"], "value"].tolist())
    clicks = board.story_charts[2]
    assert {t.name for t in clicks.widget.data} >= {"Clicks to the donate page", "Clicks to the volunteer page"}
    assert "earned media" not in _texts(board.widget).lower()
    department = dashboard.filter_options(data.quarterly)["departments"][1]
    board.department.value = department
    assert department in [t.name for t in board.story_charts[1].widget.data]


def test_the_mission_clicks_chart_names_the_clicks_on_posts_with_only_short_links(data):
    """The bars leave out the posts whose only links are shortened (no known page): the chart says how many and
    their clicks in the quarter chosen, from the rows of engagement.mission_value the notebook's sentence reads."""
    board = dashboard.LeadershipDashboard(data)
    chart = next(c for c in board.story_charts if c.key == "mission_clicks")
    short = data.mission[data.mission["page"] == engagement.SHORT_LINK_PAGE].set_index("period")
    assert engagement.SHORT_LINK_PAGE not in {t.name for t in chart.widget.data}
    for period in dashboard.filter_options(data.quarterly)["periods"][:2]:
        board.period.value = period
        reading = chart.widget.layout.meta["how_to_read"]
        assert reading.endswith(f"Not counted in {period}: {short.loc[period, 'n_posts']} posts whose only links are "
                                f"shortened (such as t.co; target unknown), with "
                                f"{short.loc[period, 'clicks']:,.0f} clicks."), reading
        # the line shown is the reading, broken into lines
        assert chart.widget.layout.title.subtitle.text.replace("<br>", " ") == reading


def _downloaded(chart: dashboard._Chart) -> pd.DataFrame:
    payload = re.search(r"base64,([A-Za-z0-9+/=]+)", chart.link.value).group(1)
    return pd.read_csv(io.StringIO(base64.b64decode(payload).decode()))


def _values(values) -> list[float]:
    return sorted(round(float(v), 9) for v in values if v is not None and not pd.isna(v))


def _drawn_series(figure, k: int) -> dict[str, list[float]]:
    """The values each series of a chart draws: its bars or points (the CI bands and the hidden marks left out)."""
    return {trace.name: _values(trace.x if trace.orientation == "h" else trace.y) for trace in figure.data
            if not trace.name.endswith("95% CI") and trace.name != privacy.hidden_label(k)}


def _downloaded_series(frame: pd.DataFrame, key: str, names: set[str]) -> dict[str, list[float]]:
    """The values per series a chart's CSV holds (its hidden rows hold none), named as the chart names them."""
    frame = frame[~frame["suppressed"].astype(bool)] if "suppressed" in frame else frame
    if "series" in frame:
        groups = frame.groupby("series")["value"]
    elif key == "clarity-items":
        groups = frame.groupby(frame["wave"].astype(str))["favourable"]
    elif key.endswith("-findings-by-rule"):
        groups = frame.groupby(frame["period"].astype(str))["findings"]
    elif key.endswith("-by-department"):
        value = next(iter(names))  # one series, named by its value column
        return {value: _values(frame[value])}
    else:
        groups = [("", frame["value"])]
    found = {str(name): _values(values) for name, values in groups if _values(values)}
    # a download without a series column holds one line, which the chart names (the area's adherence)
    return {next(iter(names)): values for values in found.values()} if set(found) == {""} and len(names) == 1 else found


def test_every_chart_s_download_holds_what_the_chart_shows(data):
    """The mission chart named its quarter's clicks on posts with only shortened links under its title, but its CSV
    held only the bars: each chart's CSV holds every series it draws, with the same values, and nothing else
    but a figure the chart names in its reading line."""
    board = dashboard.LeadershipDashboard(data)
    review = dashboard.PolicyReview(data)
    department = dashboard.filter_options(data.quarterly)["departments"][2]
    checked = set()
    for state in ("as opened", department):
        if state == department:
            board.department.value = department
        slots = [*board.charts, *board.story_charts,
                 *(part for part in review.parts if isinstance(part, dashboard._Chart) and state == "as opened")]
        for chart in slots:
            drawn = _drawn_series(chart.widget, data.k)
            downloaded = _downloaded_series(_downloaded(chart), chart.key, set(drawn))
            reading = chart.widget.layout.meta["how_to_read"]
            for name in set(downloaded) - set(drawn):  # not drawn: named in the reading line, with its figures
                row = _downloaded(chart).set_index("series").loc[name]
                assert f"{int(row['n'])} posts" in reading and f"{row['value']:,.0f} clicks" in reading, (chart.key,
                                                                                                           name)
                checked.add("named")
            shown = {name: values for name, values in drawn.items() if values}
            assert {name: downloaded.get(name) for name in shown} == shown, (chart.key, state)
            checked.add(chart.key)
    assert "named" in checked and len(checked) > 20


def _models(widget, seen: dict | None = None) -> dict:
    """Every widget model the page must fetch to show ``widget``: the tree and each one's layout and style."""
    import ipywidgets as widgets

    seen = {} if seen is None else seen
    if widget.model_id in seen:
        return seen
    seen[widget.model_id] = widget
    for name in widget.keys:
        value = getattr(widget, name, None)
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(item, widgets.Widget):
                _models(item, seen)
    return seen


def test_leadership_page_needs_few_widget_models_and_keeps_every_caption(data):
    board = dashboard.LeadershipDashboard(data)
    models = _models(board.widget)
    # the first render waits for every model: a widget per tile, caption and link made it 150 (3 per HTML)
    assert len(models) <= 70, sorted(type(m).__name__ for m in models.values())
    figures = [m for m in models.values() if isinstance(m, go.FigureWidget)]
    assert len(figures) == len(board.charts) + len(board.story_charts) == 11
    tiles = board.key_figures.value
    assert tiles.count("class='pp-tile'") == len(dashboard.KPI_METRICS)
    assert tiles.index("Key figures") < tiles.index("pp-tile") < tiles.index("Trends")
    children = board.widget.children
    for chart in (*board.charts, *board.story_charts):
        # each chart keeps its title, axis title with unit, "how to read this", definition and download
        assert chart.widget.layout.title.text and chart.widget.layout.title.subtitle.text, chart.key
        assert chart.widget.layout.yaxis.title.text, chart.key
        assert "Definition:" in chart.link.value and f'download="{chart.key}.csv"' in chart.link.value
        assert children.index(chart.link) == children.index(chart.widget) + 1
    assert "teams-recognised.csv" in board.recognition.value
    # a filter change redraws the tiles in their one widget
    before = board.key_figures.value
    board.period.value = dashboard.filter_options(data.quarterly)["periods"][1]
    assert board.key_figures.value != before
    assert board.key_figures.value.count("class='pp-tile'") == len(dashboard.KPI_METRICS)


def test_policy_review_engagement_section_is_k_safe_and_names_the_themes(data):
    from analytics import themes

    review = dashboard.PolicyReview(data)
    text = _texts(review.widget)
    for label in themes.taxonomy_frame()["label"]:
        assert label in text
    readings = [part.widget.layout.title.subtitle.text for part in review.parts if isinstance(part, dashboard._Chart)]
    assert sum(f"departments of fewer than {data.k} people are hidden" in line for line in readings) == 2
    period = dashboard.filter_options(data.quarterly)["periods"][0]
    story = data.story[data.story["quarter"] == period]
    assert story["suppressed"].any() and story.loc[story["suppressed"], "mission_story_share"].isna().all()
    assert (story.loc[~story["suppressed"], "n_people"] >= data.k).all()


def test_policy_review_names_each_area_s_adherence_line_by_its_area(data):
    import ipywidgets as widgets

    review = dashboard.PolicyReview(data).widget
    figures = [child for child in review.children if isinstance(child, widgets.DOMWidget) and hasattr(child, "data")]
    lines = {fig.layout.title.text.split(":")[0]: [t.name for t in fig.data if t.mode and "lines" in t.mode]
             for fig in figures if "without a" in (fig.layout.title.text or "") and "finding" in fig.layout.title.text}
    assert lines and all(area in names and not any("Adherence" in name for name in names)
                         for area, names in lines.items()), lines


def test_policy_review_redraws_every_part_for_the_quarter_chosen(data):
    review = dashboard.PolicyReview(data)
    periods = list(review.period.options)
    assert review.period.value == periods[0] == dashboard.filter_options(data.quarterly)["periods"][0]
    # the latest quarter that ended before the last revision took effect
    last_revision = pd.to_datetime(data.versions["effective_on"]).max()
    earlier = next(p for p in periods if pd.Timestamp(parse_period(p).end) <= last_revision)
    before = parse_period(earlier).previous().label
    review.period.value = earlier
    ranking = dashboard.revision_priorities(data, period=earlier)
    assert review.parts[0].widget.value.startswith(f"<h2>Areas to revise, {earlier}</h2>")
    # the ranking and each area's rank are the chosen quarter's
    for row in ranking.itertuples():
        assert (f"{row.area.capitalize()} — rank {row.rank} of {len(ranking)} to revise</h2>" in _texts(review.widget)
                and f"<b>Evidence.</b> {html.escape(row.evidence)}" in _texts(review.widget))
    figures = [part.widget for part in review.parts if isinstance(part, dashboard._Chart)]
    titles = [figure.layout.title.text for figure in figures]
    assert f"Confidentiality: findings per rule, {before} and {earlier}" in titles
    rules = dashboard.findings_by_rule(data, area="confidentiality", periods=[before, earlier])
    shown = next(figure for figure in figures if figure.layout.title.text.startswith("Confidentiality: findings"))
    assert sorted(v for trace in shown.data if trace.type == "bar" for v in trace.x) == sorted(rules["findings"])
    # the trends end with the quarter, and the revision whose effect is told was in force by then
    end = pd.Timestamp(parse_period(earlier).end)
    for figure in figures:
        dates = [pd.Timestamp(x) for trace in figure.data if trace.type == "scatter" and trace.x
                 for x in trace.x if x is not None]
        if "per month" in figure.layout.title.text:
            assert dates and max(dates) < end, figure.layout.title.text
    charts = [part for part in review.parts if isinstance(part, dashboard._Chart)]
    effects = [chart.link.value for chart in charts if "Effect of" in chart.link.value]
    in_force = data.versions[pd.to_datetime(data.versions["effective_on"]) < end]
    later = data.versions[pd.to_datetime(data.versions["effective_on"]) >= end]
    assert len(effects) == 1 + len(set(rules_frame()["area"])) and len(later)
    for text in effects:
        assert f"version {in_force['version'].iloc[-1]}" in text or "Too few months" in text
        assert not any(f"version {v} " in text for v in later["version"])


def test_policy_review_sections_follow_the_quarter_s_ranking_and_say_the_rank(data):
    """The areas came in a fixed order whatever their rank: the committee report lists them most urgent first."""
    review = dashboard.PolicyReview(data)

    def sections() -> list[str]:
        return [re.search(r"<h2 id='area-(\w+)'>", child.value).group(1) for child in review.widget.children
                if "<h2 id='area-" in str(getattr(child, "value", ""))]

    orders = set()
    for period in review.period.options:
        review.period.value = period
        ranking = dashboard.revision_priorities(data, period=period)
        assert sections() == ranking["area"].tolist(), period
        orders.add(tuple(ranking["area"]))
        top = ranking.iloc[0]["area"]
        assert f"{top.capitalize()} — rank 1 of {len(ranking)} to revise" in _texts(review.widget)
    assert len(orders) > 1, "the sample's ranking should change between quarters"
    # each area's charts follow its evidence
    children = list(review.widget.children)
    for area in rules_frame()["area"].unique():
        evidence = next(i for i, c in enumerate(children) if f"<h2 id='area-{area}'>" in str(getattr(c, "value", "")))
        title = children[evidence + 1].layout.title.text
        assert title.startswith(f"{area.capitalize()}: findings per rule"), title


def test_policy_review_area_filter_keeps_the_area_s_section_and_clarity_items(data):
    review = dashboard.PolicyReview(data)
    everything = list(review.widget.children)

    def listed() -> list[str]:
        return [value for _label, value in review.area.options]

    # the dropdown lists the areas as the sections come, in the quarter's ranking (it had a fixed order)
    assert listed() == [ALL, *review.review.ranking["area"]]
    assert list(review.area.options)[1] == (review.review.ranking["area"].iloc[0].capitalize(),
                                            review.review.ranking["area"].iloc[0])
    area = "disclosure"
    review.area.value = area
    shown = _texts(review.widget)
    assert f"<h2 id='area-{area}'>" in shown
    assert not any(f"<h2 id='area-{other}'>" in shown for other in AREAS if other != area)
    titles = [getattr(c, "layout", None) and c.layout.title.text for c in review.widget.children
              if isinstance(c, go.FigureWidget)]
    assert [t for t in titles if ": findings per rule" in t or "without a" in t] == [
        f"Disclosure: findings per rule, {' and '.join(review.review.quarters)}",
        "Disclosure: employee posts without a disclosure finding, per month"]
    # the clarity chart keeps the area's items; the ranking and the overall trend stay whole
    clarity = review.clarity.widget
    labels = {label for trace in clarity.data if trace.type == "bar" for label in trace.y}
    assert labels and all(label.startswith(f"{area}: ") for label in labels)
    assert clarity.layout.title.text.startswith(f"Is the policy clear? Clarity items on {area}, ")
    assert "areas-to-revise.csv" in shown and shown.count("<tr><td style='text-align:center") == len(AREAS)
    # another quarter keeps the area chosen, listed in that quarter's ranking order; all areas brings every
    # section back, the same widgets
    orders = {tuple(listed())}
    for period in review.period.options[1:4]:
        review.period.value = period
        assert review.review.period == period and review.area.value == area, period
        assert listed() == [ALL, *review.review.ranking["area"]], period
        orders.add(tuple(listed()))
        assert f"<h2 id='area-{area}'>" in _texts(review.widget) and "<h2 id='area-conduct'>" not in _texts(
            review.widget)
    assert len(orders) > 1, "the sample's ranking should change between quarters"
    review.area.value = ALL
    review.period.value = review.period.options[0]
    assert list(review.widget.children) == everything


def test_an_area_s_table_counts_the_incidents_of_each_quarter_compared_once(data):
    """Each area's table had a row per incident in the warehouse, every one headed by the first quarter."""
    quarters = dashboard.filter_options(data.quarterly)["periods"][1::-1]
    incidents = data.incidents.assign(quarter=period_labels(data.incidents["month"], "quarter"))
    tables = dashboard._area_tables(data, quarters)
    for area in AREAS:
        rows = re.findall(r"Incidents, (\S+)</td><td>(\d+) ", tables[area])
        mine = incidents[incidents["area"] == area]
        assert rows == [(q, str((mine["quarter"] == q).sum())) for q in quarters], area
    # the severities most severe first, in every line
    for line in re.findall(r"Incidents, \S+</td><td>\d+ \(([^)]*)\)", "".join(
            table for quarter in zip(dashboard.filter_options(data.quarterly)["periods"], strict=False)
            for table in dashboard._area_tables(data, quarter).values())):
        named = re.findall(r"\d+ (high|medium|low)", line)
        assert named == sorted(named, key=["high", "medium", "low"].index), line


def test_a_review_refresh_works_out_the_quarters_incident_figures_once_for_every_area(data, monkeypatch):
    """Each area's table worked out the figures of every area of the two quarters again (7 times a refresh);
    each now gets its lines from the one computation, the figures of its quarter's line of areas."""
    from analytics import metrics

    review = dashboard.PolicyReview(data)
    calls = []

    def counted(*args, **kwargs):
        calls.append(kwargs.get("k"))
        return metrics.incident_figures_by_period(*args, **kwargs)

    monkeypatch.setattr(dashboard, "incident_figures_by_period", counted)
    seen = set()
    for period in list(review.period.options)[1:]:
        calls.clear()
        review.period.value = period
        assert calls == [data.k], period
        incidents = data.incidents.assign(quarter=period_labels(data.incidents["month"], "quarter"))
        incidents = incidents[incidents["quarter"].isin(review.review.quarters)]
        figures = metrics.incident_figures_by_period(incidents, k=data.k)
        figures = figures[figures["period"].isin(review.review.quarters) & (figures["area"] != metrics.ALL)
                          & (figures["severity"] == metrics.ALL)].rename(columns={"period": "quarter"})
        shown = _texts(review.widget)
        for row in figures.itertuples():
            line = re.search(rf"<h2 id='area-{row.area}'>.*?Incidents, {row.quarter}</td><td>([^<]*)</td>", shown,
                             flags=re.S).group(1)
            assert line.startswith(f"{row.n_incidents} ("), line
            if pd.isna(row.n_self_reported):
                assert "self-reported count" in line and "hidden" in line, line
                seen.add("hidden")
            else:
                assert f"; {int(row.n_self_reported)} self-reported" in line, line
                seen.add("shown")
    assert seen == {"shown", "hidden"}, "the sample should exercise both"


def test_a_quarter_chosen_again_shows_its_review_without_ranking_the_areas_again(data, monkeypatch):
    """The ranking reads the two quarters' posts (seconds over a million posts): a leader going back to a quarter
    waited for it again. The page keeps each quarter's review; what it shows is the same."""
    review = dashboard.PolicyReview(data)
    first, second = list(review.period.options)[:2]
    shown = _texts(review.widget)
    review.period.value = second
    other = _texts(review.widget)
    for worked_out in ("revision_priorities", "area_voices", "_area_tables"):
        monkeypatch.setattr(dashboard, worked_out, lambda *args, name=worked_out, **kwargs: pytest.fail(name))
    review.period.value = first
    assert _texts(review.widget) == shown
    review.period.value = second
    assert _texts(review.widget) == other


def test_the_first_quarter_s_review_compares_with_no_quarter_of_zeros(data):
    review = dashboard.PolicyReview(data)
    first = list(review.period.options)[-1]
    before = parse_period(first).previous().label
    review.period.value = first
    shown = _texts(review.widget)
    assert f"Incidents, {before}" not in shown and f"0 in {before}" not in shown
    assert f"no data for {before}" in shown
    titles = [part.widget.layout.title.text for part in review.parts if isinstance(part, dashboard._Chart)]
    assert f"Confidentiality: findings per rule, {first}" in titles
    assert not any(before in title for title in titles)


def test_the_clarity_chart_counts_the_waves_it_shows_and_gives_each_label_its_lines(data, tmp_path):
    review = dashboard.PolicyReview(data)
    first = list(review.period.options)[-1]
    review.period.value = first
    figure = next(part.widget for part in review.parts if isinstance(part, dashboard._Chart)
                  and part.widget.layout.title.text.startswith("Is the policy clear?"))
    waves = {name for trace in figure.data if trace.type == "bar" for name in [trace.name]}
    assert figure.layout.title.text.startswith(f"Is the policy clear? Clarity items, {len(waves)} survey wave")
    drawn = drawn_figures({"one-wave": go.Figure(figure)}, tmp_path)["one-wave"]
    labels = sorted(drawn["yticks"], key=lambda tick: tick["top"])
    assert all(a["bottom"] <= b["top"] + 1 for a, b in itertools.pairwise(labels)), "labels overlap"


def test_policy_review_says_what_each_area_s_comments_talk_about_as_the_report_does(data, sample_warehouse):
    from analytics import report

    review = dashboard.PolicyReview(data)
    comments = datasets.survey_comments(warehouse_file=sample_warehouse)
    for quarter in list(review.period.options)[:2]:
        review.period.value = quarter
        chosen = parse_period(quarter)
        waves = priorities.survey_waves(datasets.respondents(warehouse_file=sample_warehouse), current=chosen,
                                        previous=chosen.previous())
        said = report._voices_section(comments, *waves, data.k).lead
        assert said and all(sentence.split(" (")[0].lower() in set(AREAS) for sentence in said), said
        shown = _texts(review.widget)
        for sentence in said:  # under its area's evidence, as the report words it
            assert f"<b>What employees say.</b> {html.escape(sentence)}" in shown
        assert shown.count("What employees say.") == len(said)


def test_coverage_banner_names_missing_platform_months(data):
    counts = data.coverage[data.coverage["n_posts"] > 0]
    platform, month = counts["platform"].iloc[0], counts["month"].iloc[1]
    gappy = datasets.coverage_table(counts[~((counts["platform"] == platform) & (counts["month"] == month))])
    missing = gappy.loc[gappy["gap"], ["platform", "month"]]
    assert missing.to_dict("records") == [{"platform": platform, "month": month}]
    from dataclasses import replace

    banner = dashboard.coverage_banner(replace(data, coverage=gappy))
    assert banner.startswith("Data through") and "Missing platform-months" in banner
    assert pd.Period(month, "M").strftime("%b %Y") in banner


def test_findings_by_rule_are_aggregates_of_every_rule(data):
    period = dashboard.filter_options(data.quarterly)["periods"][0]
    table = dashboard.findings_by_rule(data, area="confidentiality", periods=[period])
    rules = rules_frame()
    assert sorted(table["rule_id"]) == sorted(rules.loc[rules["area"] == "confidentiality", "rule_id"])
    assert set(table.columns) == {"period", "rule_id", "rule", "severity", "explanation", "findings",
                                  "employee_posts", "per_1000"}
    # the chart's bars are read by name and severity, not by the rules file's ids
    assert table.set_index("rule_id").loc["internal_only", "rule"] == "Internal only (high)"
    quarters = period_labels(data.findings["month"], "quarter")
    expected = data.findings[(data.findings["area"] == "confidentiality") & (quarters == period)]["findings"].sum()
    assert table["findings"].sum() == expected


def test_revision_effect_recovers_a_planted_jump():
    months = pd.period_range("2024-07", periods=24, freq="M").astype(str)
    rng = np.random.default_rng(7)
    value = 0.85 + 0.06 * (pd.PeriodIndex(months, freq="M") >= pd.Period("2025-07", "M")) + rng.normal(0, 0.01, 24)
    series = pd.DataFrame({"period": months, "value": value, "n": 400})
    versions = pd.DataFrame({"version": ["v1", "v2"], "effective_on": pd.to_datetime(["2024-01-01", "2025-07-01"])})
    result, sentence = dashboard.revision_effect(series, versions)
    last = result.iloc[-1]
    assert last["version"] == "v2"
    assert last["level_ci_low"] < 0.06 < last["level_ci_high"] and last["level_ci_low"] > 0
    assert sentence.startswith("Adherence rose at version v2 (effective 2025-07-01)")
    assert sentence == insights.revision_sentence(last)
    short = dashboard.revision_effect(series.iloc[:13], versions)
    assert short[0].empty and short[1].startswith("Version v2 (effective 2025-07-01) is too recent to measure")
    assert "Too few months" in dashboard.revision_effect(series.iloc[:12], versions)[1]
    # a revision too recent to measure is named, not passed over for the one before told as the last
    newer = pd.concat([versions, pd.DataFrame({"version": ["v3"], "effective_on": [pd.Timestamp("2026-05-01")]})])
    result, sentence = dashboard.revision_effect(series, newer)
    assert list(result["version"]) == ["v2"]
    assert sentence.startswith("Version v3 (effective 2026-05-01) is too recent to measure")
    assert "The last one measurable: Adherence rose at version v2" in sentence


def test_trend_chart_shows_hidden_cells_as_hidden_never_zero():
    rows = pd.DataFrame({"period": ["2026-01", "2026-02", "2026-03"], "value": [0.9, np.nan, 0.95],
                         "n": [40, np.nan, 52], "ci_low": [0.8, np.nan, 0.87], "ci_high": [0.96, np.nan, 0.98],
                         "suppressed": [False, True, False]})
    fig = charts.trend_chart(rows, metric="adherence_rate", k=5)
    line = next(t for t in fig.data if t.name == "Adherence rate")
    assert list(line.y) == [0.9, None, 0.95]
    hidden = next(t for t in fig.data if t.name == "hidden to protect a group of fewer than 5 people")
    assert list(hidden.x) == ["2026-02-01"] and hidden.yaxis == "y2"
    # the band breaks at the hidden month as the line does: drawn across, it would show a range there
    band = next(t for t in fig.data if t.name == "Adherence rate 95% CI")
    assert band.x.count(None) == 1 and "2026-02-01" not in band.x
    assert fig.layout.title.subtitle.text and "%" in fig.layout.yaxis.title.text
    widget = charts.trend_chart(rows, metric="adherence_rate", k=5, widget=True)
    assert isinstance(widget, go.FigureWidget)


def test_csv_link_round_trips_the_frame():
    frame = pd.DataFrame({"period": ["2026-01"], "value": [0.5], "note": ["a, b"]})
    link = dashboard.csv_link(frame, "x.csv")
    payload = re.search(r"base64,([A-Za-z0-9+/=]+)", link).group(1)
    assert base64.b64decode(payload).decode() == frame.to_csv(index=False)


# --- the server (HTTP, no browser) ------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(sample_warehouse, tmp_path_factory):
    started = time.perf_counter()
    running = Server(warehouse=sample_warehouse, log=tmp_path_factory.mktemp("voila") / "server.log")
    try:
        running.wait_ready()
        running.ready_seconds = time.perf_counter() - started
        yield running
    finally:
        running.stop()


def _listening_addresses(port: int) -> set[str]:
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            local, state = fields[1], fields[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:
                addresses.add(address)
    return addresses


def test_server_listens_on_loopback_only(server):
    if not Path("/proc/net/tcp").exists():
        pytest.skip("needs Linux /proc/net/tcp to read listening sockets")
    # 0100007F is 127.0.0.1 in /proc's little-endian hex; anything else (0.0.0.0, ::) would be reachable
    assert _listening_addresses(server.port) == {"0100007F"}


def test_the_kernels_talk_over_private_unix_sockets_not_network_ports(server):
    import psutil

    kernels = [process.cmdline() for process in psutil.Process(server.process.pid).children(recursive=True)
               if "ipykernel_launcher" in " ".join(process.cmdline())]
    assert kernels, "the preheated kernels run"
    for command in kernels:
        connection = Path(command[command.index("-f") + 1])
        assert json.loads(connection.read_text())["transport"] == "ipc"
        assert connection.parent.stat().st_mode & 0o077 == 0, "the sockets' folder is the user's alone"
    assert "TCP without encryption" not in server.log_text()


def test_the_dashboards_load_as_trusted_notebooks_fetching_nothing_from_another_host(server):
    """Voila's page template links Font Awesome's stylesheets from a CDN: a stylesheet holds the first paint
    until it arrives (a network dropping the CDN's packets would keep the page blank), and each view would be
    told to the CDN. The served pages link only the server's own files."""
    for name in ("leadership.ipynb", "policy-review.ipynb"):
        status, page = server.get(f"/voila/render/{name}")
        assert status == 200
        assert "<link" in page and "fontawesome" not in page
        linked = re.findall(r'<(?:link|script|img|iframe)\b[^>]*\b(?:href|src)="([^"]*)"', page)
        assert linked and [url for url in linked if urllib.parse.urlsplit(url).netloc] == [], name
    assert "is not trusted" not in server.log_text(), "no warning per page load"


def test_server_offers_no_source_listing_or_files(server):
    status, index = server.get("/")
    assert status == 200 and "voila/render/leadership.ipynb" in index and "voila/render/policy-review.ipynb" in index
    for path in ("/voila/tree", "/voila/tree/", "/voila/api/contents/", "/voila/api/contents/leadership.ipynb",
                 "/api/contents/", "/tree", "/voila/render/other.ipynb", "/voila/render/..%2Fsrc%2Fanalytics"):
        assert server.get(path)[0] == 404, path
    for path in ("/voila/files/leadership.ipynb", "/voila/files/policy-review.ipynb"):
        assert server.get(path)[0] in (403, 404), path
    status, page = server.get("/voila/render/leadership.ipynb")
    assert status == 200
    for marker in SOURCE_MARKERS:
        assert marker not in page
    # the dashboard's page requests and compiles plotly's shared bundle from its first script (no header)
    head = page[:page.index("</head>")]
    assert "modulepreload" in head and serve.PLOTLY_BUNDLE_PATH in head


def test_a_viewer_arriving_within_the_refill_delay_has_the_refill_begin_at_once(server):
    """Right after a viewer took the pooled leadership page, its refill waits out serve.REFILL_DELAY; a second
    viewer then would wait for that delay before a kernel even started for them. Now it starts at once."""
    at_once = "Rendering leadership.ipynb at once: a viewer asked for it within the delay of its refill"
    before = server.log_text()
    for _ in range(2):
        status, page = server.get("/voila/render/leadership.ipynb")
        assert status == 200 and "data-pp-first-paint" in page and "pp-tile" in page
    after = server.log_text()
    assert after.count(at_once) > before.count(at_once), after[len(before):][-3000:]
    taken = "Using pre-heated kernel"
    assert after.count(taken) == before.count(taken) + 2
    # and the delayed refill still comes, for the next viewer: the pool holds a kernel again (each kernel taken
    # was replaced once, and the first fill is the pool's own)
    def refilled(log: str) -> bool:
        takes = len(re.findall(r"Using pre-heated kernel: \S+ for leadership\.ipynb", log))
        return log.count("Kernel pool of leadership.ipynb is filled") == takes + 1

    deadline = time.monotonic() + serve.REFILL_DELAY + 60
    while not refilled(server.log_text()):
        assert time.monotonic() < deadline, server.log_text()[-3000:]
        time.sleep(0.2)


def test_dashboard_page_loads_the_widget_extensions_and_no_other(server):
    """Each JupyterLab extension a page lists is loaded before its first chart: only the widget managers
    (Voila's and the widgets' own, which brings the controls) and anywidget (our charts' widget) are needed;
    the others installed beside Voila are left out."""
    page = server.get("/voila/render/leadership.ipynb")[1]
    data = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page, re.S)
    loaded = {extension["name"] for extension in json.loads(data.group(1))["federated_extensions"]}
    assert loaded == {"@voila-dashboards/widgets-manager8", "@jupyter-widgets/jupyterlab-manager", "anywidget"}
    folder = Path(sys.prefix) / "share/jupyter/labextensions"
    installed = {json.loads(path.read_text())["name"]
                 for path in [*folder.glob("*/package.json"), *folder.glob("@*/*/package.json")]}
    # each name denied is an extension installed here: a misspelt or renamed one would be loaded again
    assert set(serve.DENIED_EXTENSIONS) <= installed


def _served(server, path: str) -> tuple[bytes, str]:
    import urllib.request

    with urllib.request.urlopen(server.url + "/" + path, timeout=60) as response:
        return response.read(), response.headers["Cache-Control"]


def test_chart_bundle_is_plotly_basic_and_our_front_end_behind_the_compile_hint(server):
    """With plotly.js-basic installed (make's install step fetches it) the charts' bundle is plotly's
    basic file, unchanged, then our front end; plotly's full bundle is served beside it."""
    basic = serve.basic_bundle()
    if basic is None:
        pytest.skip("plotly.js-basic is not installed (python -m analytics.frontend fetch)")
    body, cache = _served(server, serve.PLOTLY_BUNDLE_PATH)
    assert body.startswith(serve.COMPILE_HINT) and basic.read_bytes() in body
    shipped = serve.PLOTLY_WIDGET_BUNDLE.read_bytes()
    # the point of the basic build: the page's module is a fraction of plotly's full widget bundle (1.2 of 5 MB)
    assert body.endswith(serve.WIDGET_SOURCE.read_bytes()) and len(body) < len(shipped) / 3
    assert _served(server, serve.FULL_BUNDLE_PATH)[0] == serve.COMPILE_HINT + shipped
    assert serve.COMPILE_HINT.startswith(b"//# allFunctionsCalledOnLoad") and serve.COMPILE_HINT.endswith(b"\n")
    assert "max-age" in cache
    assert "Charts use plotly.js-basic" in server.log_text()


def test_without_plotly_basic_the_charts_use_plotlys_own_bundle(sample_warehouse, tmp_path, monkeypatch):
    monkeypatch.setenv("POLICY_PULSE_FRONTEND_DIR", str(tmp_path / "nothing-fetched"))
    fallback = Server(warehouse=sample_warehouse, preheat=False, log=tmp_path / "server.log")
    try:
        fallback.wait_ready()
        body, _cache = _served(fallback, serve.PLOTLY_BUNDLE_PATH)
        shipped = serve.PLOTLY_WIDGET_BUNDLE.read_bytes()
        assert body == serve.COMPILE_HINT + shipped
        assert fallback.get("/" + serve.FULL_BUNDLE_PATH)[0] == 404
        assert "plotly.js-basic is not installed" in fallback.log_text()
    finally:
        fallback.stop()


def test_only_notebooks_declaring_the_shared_bundle_preload_it(tmp_path):
    import nbformat

    for name in serve.DASHBOARDS:
        assert serve._uses_shared_bundle(config.DASHBOARDS_DIR / name), name
    plain = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import plotly.graph_objects as go")])
    nbformat.write(plain, tmp_path / "plain.ipynb")
    (tmp_path / "broken.ipynb").write_text("{not json")
    assert not serve._uses_shared_bundle(tmp_path / "plain.ipynb")
    assert not serve._uses_shared_bundle(tmp_path / "broken.ipynb")
    assert not serve._uses_shared_bundle(tmp_path / "missing.ipynb")


# --- the pages in Chromium --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def chromium():
    with headless_chromium() as browser:
        yield browser


TIMINGS: dict[str, float] = {}


_DRAWN = "() => Array.from(document.querySelectorAll('.pp-chart')).filter(g => g.querySelector('.main-svg')).length"
_ON_SCREEN = ("() => Array.from(document.querySelectorAll('.pp-chart')).filter(g => {"
              " const r = g.getBoundingClientRect(); return r.bottom > 0 && r.top < window.innerHeight; })")


def _open(chromium, url: str, charts_expected: int, name: str | None, *, draw_all: bool = True,
          dashboard_page: bool = True):
    """The page with its first screen drawn (timed under ``name``), then, with ``draw_all``, every chart
    scrolled to. A page other than a dashboard (plain FigureWidgets, drawn at once) waits for its charts."""
    page = chromium.new_page(viewport={"width": 1300, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(f"console: {message.text}"))
    # the page asks nothing of another host (Voila's template would fetch an icon font from a CDN)
    page.on("request", lambda request: urllib.parse.urlsplit(request.url).hostname not in ("127.0.0.1", None)
            and errors.append(f"request to another host: {request.url}"))
    started = time.perf_counter()
    page.goto(url)
    if dashboard_page:
        page.wait_for_function(f"() => document.querySelectorAll('.pp-chart').length === {charts_expected}"
                               " && document.querySelector('.pp-tile, table.pp-ranking')", timeout=60_000)
        page.wait_for_function(f"() => ({_ON_SCREEN})().every(g => g.querySelector('.main-svg'))",
                               timeout=60_000)
    else:
        wait_for_charts(page, charts_expected)
    if name:
        TIMINGS[name] = time.perf_counter() - started
    if draw_all and dashboard_page:
        _scroll_through(page, charts_expected)
    return page, errors


def _scroll_through(page, charts_expected: int) -> None:
    """Bring every chart on screen and look at it until it is drawn, as a reader scrolling down does.

    A chart scrolled past within a frame need not draw then (only when it comes back: the loader tests
    in test_charts_lazy.py), so each one stays on screen until drawn."""
    boxes = page.locator(".pp-chart")
    for i in range(charts_expected):
        boxes.nth(i).scroll_into_view_if_needed()
        page.wait_for_function("(i) => document.querySelectorAll('.pp-chart')[i].querySelector('.main-svg')",
                               arg=i, timeout=30_000)
    wait_for_charts(page, charts_expected)
    page.evaluate("() => document.querySelector('.pp-chart').scrollIntoView()")


def _assert_clean(page, errors: list[str]) -> None:
    text = page.inner_text("body")
    for marker in ERROR_MARKERS:
        assert marker not in text, f"{marker!r} on the page"
    content = page.content()
    for marker in SOURCE_MARKERS:
        assert marker not in content, f"source {marker!r} in the HTML"
    assert not errors, errors


def _traces(figure) -> list:
    """(name, x, y) of each trace, as :func:`browser.chart_data` reads them from a page."""
    return [[t.name, None if t.x is None else list(t.x), None if t.y is None else list(t.y)] for t in figure.data]


def _until_logged(server: Server, text: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while text not in server.log_text():
        assert time.monotonic() < deadline, f"{text!r} not logged:\n{server.log_text()[-3000:]}"
        time.sleep(0.2)


@pytest.mark.browser
def test_leaving_a_dashboard_shuts_its_kernel_down_and_no_other_site_can(server, chromium):
    page = chromium.new_page()
    try:
        page.goto(server.url + "/voila/render/policy-review.ipynb")
        wait_for_charts(page, 1)
        kernel = page.evaluate("() => JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")
        assert kernel and f"Kernel shutdown: {kernel}" not in server.log_text()
        # another site's request to shut it down, with or without its own origin, is refused
        for headers in ({"Origin": "http://elsewhere.example"}, {}):
            request = urllib.request.Request(f"{server.url}/voila/api/shutdown/{kernel}", method="POST",
                                             headers=headers)
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=30)
            assert refused.value.code in (403, 404)
        assert f"Kernel shutdown: {kernel}" not in server.log_text()
        # the page asks for its kernel's shutdown on leaving once it is live (connected to its kernel)
        _until_logged(server, f"(kernel {kernel})")
        page.goto("about:blank")
        _until_logged(server, f"Kernel shutdown: {kernel}")
    finally:
        page.close()


@pytest.mark.browser
def test_leadership_dashboard_in_chromium(server, chromium, data):
    page, errors = _open(chromium, server.url + "/voila/render/leadership.ipynb", 11, "leadership")
    try:
        _assert_clean(page, errors)
        text = page.inner_text("body")
        assert "Data through" in text and "Key figures" in text
        assert page.locator(".pp-tile").count() == len(dashboard.KPI_METRICS)
        assert page.locator("a.pp-csv").count() == 12  # 8 trends, 3 story charts, teams recognised
        assert page.locator("a.pp-csv").first.get_attribute("href").startswith("data:text/csv")
        # plotly's bundle crosses the network once: the early fetch fills the cache the module is read from
        loads = page.evaluate("(path) => performance.getEntriesByType('resource').filter(e => e.name.includes(path))"
                              ".map(e => e.transferSize)", serve.PLOTLY_BUNDLE_PATH)
        assert len(loads) >= 1 and sum(size > 1_000_000 for size in loads) == 1, loads
        screenshot(page, "leadership")
        before = chart_data(page, 0)
        board = dashboard.LeadershipDashboard(data)  # the kernel's figures, built here to compare
        assert before == _traces(board.charts[0].widget)
        department = dashboard.filter_options(data.quarterly)["departments"][1]
        page.locator("select").nth(1).select_option(label=department)
        page.wait_for_function(
            "(name) => document.querySelectorAll('.js-plotly-plot')[0].data.some(t => t.name === name)",
            arg=department, timeout=30_000)
        board.department.value = department
        after = chart_data(page, 0)
        assert after != before
        assert department in [trace[0] for trace in after]
        assert department in page.locator(".js-plotly-plot").first.inner_text()
        # every chart drawn shows exactly the traces of the Python figure for the new filter
        charts = [*board.charts, *board.story_charts]
        for i, chart in enumerate(charts):
            page.locator(".pp-chart").nth(i).scroll_into_view_if_needed()
            page.wait_for_function("(i) => document.querySelectorAll('.pp-chart')[i].querySelector('.main-svg')",
                                   arg=i, timeout=30_000)
            expected, deadline = _traces(chart.widget), time.monotonic() + 30
            while chart_data(page, i) != expected and time.monotonic() < deadline:
                page.wait_for_timeout(100)
            assert chart_data(page, i) == expected, chart.key
        _assert_clean(page, errors)
        screenshot(page, "leadership-department")
    finally:
        page.close()


#: Watches the page from its start, every frame: when the static first screen's chart is first drawn (and
#: what the live page then has), when the live page first has a chart, and when the copy goes.
_WATCH_FIRST_SCREEN = """
window.seen = {};
const look = () => {
  const copy = document.querySelector('.pp-first-screen .js-plotly-plot');
  const cells = document.getElementById('rendered_cells');
  if (copy && copy.querySelector('.main-svg') && seen.copy === undefined) {
    seen.copy = performance.now();
    copy.dataset.seen = 'first screen';
    seen.liveCharts = cells.querySelectorAll('.js-plotly-plot').length;
    seen.liveShown = cells.style.display !== 'none' && getComputedStyle(cells).visibility !== 'hidden';
  }
  if (seen.live === undefined && cells && cells.querySelector('.pp-chart .js-plotly-plot .main-svg')) {
    seen.live = performance.now();
  }
  if (seen.copy !== undefined && seen.gone === undefined && !document.querySelector('.pp-first-screen')) {
    seen.gone = performance.now();
    seen.shownThen = cells.style.display !== 'none' && !document.getElementById('loading');
  }
  const live = seen.gone !== undefined && cells.querySelector('.pp-chart .js-plotly-plot');
  if (live) {
    seen.framesLive = (seen.framesLive || 0) + 1;
    const top = (selector) => live.querySelector(selector).getBoundingClientRect().top;
    if (top('.gtitle-subtitle') < top('.gtitle')) seen.subtitleAbove = true;
  }
  requestAnimationFrame(look);
};
requestAnimationFrame(look);
"""


@pytest.mark.browser
@pytest.mark.parametrize("name", ["leadership.ipynb", "policy-review.ipynb"])
def test_the_first_screen_is_drawn_before_the_widgets_and_its_chart_taken_over(server, chromium, name):
    context = chromium.new_context(viewport={"width": 1300, "height": 900})
    context.add_init_script(_WATCH_FIRST_SCREEN)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{server.url}/voila/render/{name}")
        page.wait_for_function("() => seen.live !== undefined && !document.querySelector('.pp-first-screen')",
                               timeout=60_000)
        seen = page.evaluate("() => seen")
        # the copy's chart was drawn while the live page had none and was hidden, and before its first chart
        assert seen["copy"] < seen["live"] and seen["liveCharts"] == 0 and not seen["liveShown"], seen
        # the copy went when Voila had shown its cells (its spinner gone): no blank or spinner in between
        assert seen["shownThen"], seen
        # the live page's first chart is the element drawn first: taken over, not drawn again beside it
        assert page.evaluate("() => document.querySelector('#rendered_cells .pp-chart .js-plotly-plot')"
                             ".dataset.seen") == "first screen"
        assert page.evaluate("() => document.body.classList.contains('pp-first-painting')") is False
        assert page.locator(".js-plotly-plot").count() == page.locator(".pp-chart .js-plotly-plot").count()
        assert page.locator("#rendered_cells").evaluate("e => getComputedStyle(e).visibility") == "visible"
        # the chart's title stays above its reading line once live (drawn again in an element not yet on the
        # page, plotly measured the title as nothing and put the line above it)
        page.wait_for_function("() => seen.framesLive >= 30", timeout=10_000)
        assert not page.evaluate("() => seen.subtitleAbove"), "the reading line went above the chart's title"
        assert not errors, errors
    finally:
        context.close()


_SCRIPTS = ("() => performance.getEntriesByType('resource').map(e => e.name)"
            ".filter(n => new URL(n).pathname.endsWith('.js'))")


@pytest.mark.browser
def test_the_next_page_preloads_the_scripts_a_page_loaded_and_fetches_each_once(server, chromium):
    """A dashboard's page is given the scripts its earlier pages asked for as preload hints (learned by the
    server), and each hinted script crosses the network once: the hint's fetch is the one the page runs."""
    url = server.url + "/voila/render/leadership.ipynb"
    first, _errors = _open(chromium, url, 11, None, draw_all=False)
    try:
        loaded = set(first.evaluate(_SCRIPTS))
    finally:
        first.close()
    page, errors = _open(chromium, url, 11, None, draw_all=False)
    try:
        hinted = page.evaluate("() => [...document.querySelectorAll('link[rel=preload][as=script]')].map(l => l.href)")
        bundles = {f"{server.url}/{path}" for path in (serve.PLOTLY_BUNDLE_PATH, serve.FULL_BUNDLE_PATH)}
        # Voila's ~90 scripts, the chart bundles (loaded as modules, early, already) left out
        assert len(loaded) > 50 and loaded - bundles <= set(hinted) and not bundles & set(hinted)
        fetched = page.evaluate(_SCRIPTS)
        assert len(fetched) == len(set(fetched)), [name for name in set(fetched) if fetched.count(name) > 1]
        _assert_clean(page, errors)
    finally:
        page.close()


@pytest.mark.browser
def test_charts_off_screen_draw_when_scrolled_to_with_the_current_filters(server, chromium, data):
    charts = 11
    page, errors = _open(chromium, server.url + "/voila/render/leadership.ipynb", charts, None, draw_all=False)
    try:
        on_screen = page.evaluate(f"() => ({_ON_SCREEN})().length")
        assert 1 <= on_screen < charts
        assert page.evaluate(_DRAWN) == on_screen  # the first screen's charts only
        # an undrawn chart's box already has its figure's height: the page does not jump when it draws
        last = page.locator(".pp-chart").nth(charts - 2)
        assert last.bounding_box()["height"] >= 300
        department = dashboard.filter_options(data.quarterly)["departments"][1]
        page.locator("select").nth(1).select_option(label=department)
        page.wait_for_function(
            "(name) => document.querySelectorAll('.js-plotly-plot')[0].data.some(t => t.name === name)",
            arg=department, timeout=30_000)
        assert page.evaluate(_DRAWN) == on_screen
        # the amplifier-share chart (second of the story section) is drawn only now, with the filter applied
        last.scroll_into_view_if_needed()
        page.wait_for_function("([i, name]) => { const g = document.querySelectorAll('.pp-chart')[i];"
                               " return g.querySelector('.main-svg') && g.data.some(t => t.name === name); }",
                               arg=[charts - 2, department], timeout=30_000)
        names = page.evaluate("(i) => document.querySelectorAll('.pp-chart')[i].data.map(t => t.name)", charts - 2)
        assert "Organisation" in names
        # and its layout is the one the filter gave it, not the page's first (its title names the department;
        # the kernel sends the layout after the traces, so it may come a moment later, never if the view drew
        # the page's first state)
        title = "(i) => document.querySelectorAll('.pp-chart')[i].layout.title.text"
        page.wait_for_function(f"([i, name]) => ({title})(i).endsWith(name + ' vs organisation')",
                               arg=[charts - 2, department], timeout=30_000)
        # a quarter chosen next changes the same traces' values (each trend ends with the quarter): a chart
        # drawn only after it shows them
        quarter = dashboard.filter_options(data.quarterly)["periods"][2]
        last_download = "() => document.querySelector('a[download=\"mission_clicks.csv\"]').href"
        before = page.evaluate(last_download)
        page.locator("select").nth(0).select_option(label=quarter)
        end = pd.Timestamp(parse_period(quarter).end)
        # the kernel has sent every chart's new state once the last chart's download has changed
        page.wait_for_function(f"(before) => ({last_download})() !== before", arg=before, timeout=30_000)
        later = page.locator(".pp-chart").nth(charts - 6)  # training coverage: scrolled past, not drawn yet
        assert not later.locator(".main-svg").count()
        later.scroll_into_view_if_needed()
        page.wait_for_function("(i) => document.querySelectorAll('.pp-chart')[i].querySelector('.main-svg')",
                               arg=charts - 6, timeout=30_000)
        shown = page.evaluate("(i) => document.querySelectorAll('.pp-chart')[i].data.flatMap("
                              " t => (t.x || []).filter(x => x !== null))", charts - 6)
        assert shown and max(pd.Timestamp(x) for x in shown) < end
        assert page.evaluate(title, charts - 6).endswith(f"{department} vs organisation")
        _assert_clean(page, errors)
    finally:
        page.close()


def _policy_review_charts() -> int:
    return 4 + 2 * len(set(rules_frame()["area"]))  # overall + clarity + 2 engagement, rules + trend per area


@pytest.mark.browser
def test_policy_review_dashboard_in_chromium(server, chromium):
    expected = _policy_review_charts()
    page, errors = _open(chromium, server.url + "/voila/render/policy-review.ipynb", expected, "policy-review")
    try:
        _assert_clean(page, errors)
        assert page.locator("table.pp-ranking tbody tr").count() == len(AREAS)
        for area in AREAS:
            assert page.locator(f"#area-{area}").count() == 1
        assert "Effect of the last revision" in page.inner_text("body")
        screenshot(page, "policy-review")
    finally:
        page.close()


def _record_timings() -> dict[str, float]:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "first-render.json"
    record = json.loads(path.read_text()) if path.exists() else {}
    record.update({name: round(seconds, 2) for name, seconds in TIMINGS.items()})
    path.write_text(json.dumps(record, indent=2, sort_keys=True))
    return record


@pytest.mark.browser
def test_first_render_times_are_recorded(server, chromium):
    # timed by the dashboards' own tests before this one; when run alone, opened here
    for name, expected in (("leadership", 10), ("policy-review", _policy_review_charts())):
        if name not in TIMINGS:
            _open(chromium, f"{server.url}/voila/render/{name}.ipynb", expected, name, draw_all=False)[0].close()
    record = _record_timings()
    print("first render, request -> charts drawn (preheated), seconds:", record)
    assert all(seconds > 0 for seconds in record.values())


@pytest.mark.browser
@pytest.mark.skipif(os.environ.get("POLICY_PULSE_BENCH") != "1",
                    reason="benchmark: set POLICY_PULSE_BENCH=1 to time a one-chart notebook and cold starts")
@pytest.mark.parametrize("preheat", [True, False], ids=["preheated", "cold"])
def test_benchmark_one_chart_notebook_and_cold_dashboards(sample_warehouse, chromium, tmp_path, preheat):
    import nbformat

    folder = tmp_path / "one-chart"
    folder.mkdir()
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(
        "import plotly.graph_objects as go\ngo.FigureWidget(go.Scatter(x=[1, 2, 3], y=[3, 1, 2]))")]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, folder / "leadership.ipynb")  # the server serves the dashboards' names only
    suffix = "" if preheat else " (cold)"
    runs = [(folder, "leadership.ipynb", 1, "one-chart" + suffix)]
    if not preheat:
        runs += [(None, "leadership.ipynb", 10, "leadership" + suffix),
                 (None, "policy-review.ipynb", _policy_review_charts(), "policy-review" + suffix)]
    for root, name, count, label in runs:
        server = Server(warehouse=sample_warehouse, root=root, preheat=preheat, log=tmp_path / f"{label}.log",
                        notebooks=(name,))
        try:
            server.wait_ready()
            page, _errors = _open(chromium, f"{server.url}/voila/render/{name}", count, label,
                                  dashboard_page=root is None)
            page.close()
        finally:
            server.stop()
    print("first render, request -> charts drawn, seconds:", _record_timings())


class _CountingConnection:
    """A warehouse connection that counts the rows its queries hand to pandas."""

    def __init__(self, con):
        self._con, self.rows = con, 0

    def execute(self, *args, **kwargs):
        self._con.execute(*args, **kwargs)
        return self

    def _counted(self, fetch: str):
        rows = getattr(self._con, fetch)()
        self.rows += len(rows)
        return rows

    def df(self) -> pd.DataFrame:
        return self._counted("df")

    def fetchdf(self) -> pd.DataFrame:
        return self._counted("fetchdf")

    def fetchall(self) -> list:
        return self._counted("fetchall")

    def __getattr__(self, name):
        return getattr(self._con, name)


def test_the_positive_side_hands_pandas_counts_not_every_employee_post(data, sample_warehouse):
    # load_data runs after every publication: DuckDB counts the groups of a million posts, and only the
    # organisation's posts (whose texts are scanned for mission links) and the counts reach pandas
    with warehouse.read_only(sample_warehouse) as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        employee_posts = con.execute("SELECT count(*) FROM post_facts WHERE account_type = 'employee'").fetchone()[0]
        organisation_posts = con.execute("SELECT count(*) FROM post_facts WHERE account_type = 'organization'"
                                         ).fetchone()[0]
        counting = _CountingConnection(con)
        positive = dashboard._positive_side(counting, tables, dashboard.filter_options(data.quarterly)["periods"],
                                            data.k)
    # the sample's few posts per author and quarter make its counts many; reading the posts took each twice
    assert counting.rows - organisation_posts < employee_posts, (counting.rows, employee_posts)
    assert set(positive) == {"story", "mission", "teams", "people"}


def test_the_leadership_page_renders_without_importing_scipy_stats_or_statsmodels(sample_warehouse):
    """Its kernel renders it for each viewer and after each publication: the two took ~0.7 s of its ~2.5 s to
    import, for one Welch test (computed with scipy.special, as scipy.stats does) and models it never fits."""
    code = ("import sys\nfrom analytics import dashboard\ndashboard.leadership()\n"
            "print(sorted(m for m in ('scipy.stats', 'statsmodels') if m in sys.modules))")
    env = {**os.environ, "POLICY_PULSE_WAREHOUSE": str(sample_warehouse)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines()[-1] == "[]"
