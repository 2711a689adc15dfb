"""Axes a reader can read: units on value axes that fit the plot, whole-number ticks for small counts, long
category labels in lines."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest
from browser import assert_readable, drawn_figures

from analytics import charts
from analytics.metrics import METRICS


def _counts(top: float) -> pd.DataFrame:
    return pd.DataFrame({"rule": ["profanity", "harassment"], "findings": [top, 3.0]})


@pytest.mark.parametrize(("top", "whole"), [(4.0, True), (10.0, True), (11.0, False), (250.0, False)])
def test_small_counts_tick_in_whole_numbers_only(top, whole):
    fig = charts.bar_chart(_counts(top), category="rule", value="findings", title="Findings per rule",
                           axis_title="Findings (count)", how_to_read="Longer is worse.")
    # plotly steps a 0-4 axis by 0.5, which ",.0f" labels 0, 1, 1, 2, 2, ...
    assert (fig.layout.xaxis.dtick == 1) is whole


def test_a_percentage_axis_keeps_its_own_ticks():
    rows = pd.DataFrame({"item": ["a", "b"], "share": [0.04, 0.07]})
    fig = charts.bar_chart(rows, category="item", value="share", percent=True, title="Shares",
                           axis_title="Share (% of posts)", how_to_read="Longer is more.")
    assert fig.layout.xaxis.dtick is None


def test_long_category_labels_are_broken_into_lines_and_keep_every_word():
    wording = "confidentiality: I know what information about donors, beneficiaries and colleagues I must not share."
    rows = pd.DataFrame({"item": [wording, "short"], "share": [0.5, 0.6]})
    fig = charts.bar_chart(rows, category="item", value="share", percent=True, title="Clarity",
                           axis_title="Favourable (% of respondents)", how_to_read="Longer is clearer.")
    label, short = fig.data[0].y
    lines = label.split("<br>")
    assert len(lines) > 1 and max(map(len, lines)) <= charts.LABEL_WIDTH
    assert " ".join(lines) == wording and short == "short"


@pytest.mark.parametrize("metric", sorted(METRICS))
def test_a_trend_s_value_axis_is_titled_by_its_unit(metric):
    rows = pd.DataFrame({"period": ["2026-01", "2026-02"], "value": [0.4, 0.5], "n": [40, 50],
                         "ci_low": [0.3, 0.4], "ci_high": [0.5, 0.6], "suppressed": [False, False]})
    fig = charts.trend_chart(rows, metric=metric)
    unit = METRICS[metric].unit
    assert fig.layout.yaxis.title.text.lower() == unit.lower()
    # the chart's title names the metric; the axis title fits the plot
    assert METRICS[metric].label in fig.layout.title.text and len(fig.layout.yaxis.title.text) <= charts.AXIS_TITLE_MAX


@pytest.mark.browser
def test_a_short_grouped_bar_chart_keeps_its_legend_clear_of_the_axis(tmp_path):
    # one rule in two quarters: the plot is a few dozen pixels high, and a legend placed by a share of it fell
    # on the tick labels
    rows = pd.DataFrame({"rule": ["undisclosed_affiliation"] * 2, "findings": [7.0, 8.0],
                         "quarter": ["2026-Q2", "2026-Q3"]})
    few = charts.bar_chart(rows, category="rule", value="findings", colour="quarter", title="Findings per rule",
                           axis_title="Findings on employee posts (count)", how_to_read="Longer is worse.")
    many = charts.bar_chart(pd.concat([rows.assign(rule=f"rule {i}") for i in range(12)]), category="rule",
                            value="findings", colour="quarter", title="Findings per rule",
                            axis_title="Findings on employee posts (count)", how_to_read="Longer is worse.")
    drawn = drawn_figures({"few": few, "many": many}, tmp_path)
    for name, boxes in drawn.items():
        assert boxes["legend"] is not None, name
        assert_readable(boxes, name)


def test_a_bar_chart_of_a_frame_with_repeated_index_labels_draws_each_row_once():
    rows = pd.concat([pd.DataFrame({"rule": [rule], "findings": [n], "hidden": [False]})
                      for rule, n in (("email", 3.0), ("phone", 5.0))])  # both rows labelled 0
    fig = charts.bar_chart(rows, category="rule", value="findings", suppressed="hidden", title="Findings per rule",
                           axis_title="Findings (count)", how_to_read="Longer is worse.")
    assert list(fig.data[0].y) == ["email", "phone"] and list(fig.data[0].x) == [3.0, 5.0]
    assert list(rows.index) == [0, 0]  # the caller's frame as it was


def _series(periods: list[str]) -> pd.DataFrame:
    values = [0.90, 0.80, 0.95, 0.85][:len(periods)]
    return pd.DataFrame({"period": periods, "value": values, "n": 40.0, "ci_low": [v - 0.05 for v in values],
                         "ci_high": [v + 0.05 for v in values], "suppressed": False})


def test_a_month_without_a_figure_breaks_the_line_and_its_band():
    fig = charts.trend_chart(_series(["2026-01", "2026-02", "2026-04", "2026-05"]), metric="adherence_rate", k=5)
    band, line = fig.data[0], fig.data[1]
    # March has no row: the line has no point there and is not drawn from February to April
    assert list(line.x).index("2026-03-01") == 2 and line.y[2] is None and line.connectgaps is False
    assert [y for y in line.y if y is not None] == [0.90, 0.80, 0.95, 0.85]
    # the band is two closed shapes, January-February and April-May
    assert band.x.count(None) == 1
    first = band.x[:band.x.index(None)]
    assert set(first) == {"2026-01-01", "2026-02-01"}
    assert "a break in the line is a month with nothing to measure" in fig.layout.meta["how_to_read"]


def test_survey_waves_and_unbroken_months_stay_joined():
    waves = charts.trend_chart(_series(["2025-Q3", "2026-Q1", "2026-Q2"]), metric="adherence_rate", k=5)
    months = charts.trend_chart(_series(["2026-01", "2026-02", "2026-03"]), metric="adherence_rate", k=5)
    for fig in (waves, months):
        assert None not in fig.data[1].y and None not in fig.data[0].x
        assert "break" not in fig.layout.meta["how_to_read"]


def test_a_few_months_are_ticked_by_month_not_by_week(tmp_path):
    """Plotly ticks three months' points weekly ("Sep 29, Oct 6, ...") under an axis titled "Month"."""
    months = ["2024-10", "2024-11", "2024-12"]
    few = charts.trend_chart(_series(months), metric="adherence_rate", k=5)
    two_years = [f"{y}-{m:02d}" for y in (2025, 2026) for m in range(1, 13)]
    many = charts.trend_chart(pd.concat([_series(two_years[i:i + 4]) for i in range(0, 24, 4)]),
                              metric="adherence_rate", k=5)
    drawn = drawn_figures({"few": few, "many": many}, tmp_path)
    assert [tick["text"] for tick in drawn["few"]["xticks"]] == ["Oct 2024", "Nov 2024", "Dec 2024"]
    assert len(drawn["many"]["xticks"]) < 24, "two years keep plotly's own, sparser ticks"


def test_a_long_reading_line_is_broken_into_lines_within_the_figure_above_the_plot(tmp_path):
    # plotly does not wrap a subtitle: the training coverage's reading ran off a chart 1,000 pixels wide
    rows = pd.DataFrame({"period": ["2026-01", "2026-02", "2026-03"], "value": [0.9, 0.92, 0.95], "n": [40, 45, 52],
                         "ci_low": [0.8, 0.82, 0.87], "ci_high": [0.96, 0.97, 0.98], "suppressed": False})
    reading = ("Each point is the share of employees on the roster at the month's end who have completed the policy "
               "training (higher is better); it is 0 before the module's first completion, in 2026-01; the band is "
               "the 95% CI; dashed lines mark policy revisions.")
    fig = charts.trend_chart(rows, metric="training_coverage", how_to_read=reading)
    assert fig.layout.meta["how_to_read"] == reading
    assert fig.layout.title.subtitle.text.replace("<br>", " ") == reading
    boxes = drawn_figures({"long-reading": fig}, tmp_path)["long-reading"]
    assert boxes["subtitle"]["right"] <= boxes["figure"]["right"], "the reading runs off the figure"
    assert boxes["subtitle"]["bottom"] <= boxes["plot"]["top"], "the reading covers the plot"


def test_a_series_hidden_in_every_period_has_no_legend_entry_of_its_own():
    """Training coverage of a small department listed the department in the legend beside no line."""
    periods = ["2026-01", "2026-02", "2026-03"]
    rows = pd.DataFrame({"period": periods * 2, "series": ["Organisation"] * 3 + ["Finance"] * 3,
                         "value": [0.5, 0.6, 0.7, None, None, None], "n": [100.0] * 3 + [None] * 3,
                         "ci_low": [0.4, 0.5, 0.6, None, None, None], "ci_high": [0.6, 0.7, 0.8, None, None, None],
                         "suppressed": [False] * 3 + [True] * 3})
    fig = charts.trend_chart(rows, metric="training_coverage", series="series", reference="Organisation", k=5)
    listed = [t.name for t in fig.data if t.showlegend is not False]
    assert "Organisation" in listed and "Finance" not in listed
    hidden = next(t for t in fig.data if t.name == "hidden to protect a group of fewer than 5 people")
    assert hidden.showlegend and list(hidden.text) == [f"Finance, {p}: {hidden.name}" for p in periods]


def test_the_revision_markers_are_the_lines_and_labels_plotly_s_add_vline_draws():
    """The markers are set in one layout update (a call of add_vline per line validated the layout each time,
    a fifth of a dashboard's redraw); they are the shapes and labels add_vline makes, inside the span only."""
    versions = pd.DataFrame({"version": ["1.0", "2.0", "3.0"],
                             "effective_on": ["2024-01-10", "2026-02-14", "2026-05-01"]})
    span = (pd.Timestamp("2025-12-01"), pd.Timestamp("2026-06-30"))
    fig = go.Figure(go.Scatter(x=["2026-01-01", "2026-06-01"], y=[1, 2]))
    fig.add_annotation(text="kept", x=0.5, y=0.5, xref="paper", yref="paper")
    expected = go.Figure(fig)
    for row in versions.iloc[1:].itertuples():
        expected.add_vline(x=row.effective_on, line=dict(color="#6b6b6b", dash="dash", width=1),
                           annotation=dict(text=f"policy {row.version}", font=dict(size=11, color="#6b6b6b"),
                                           textangle=-90, xanchor="right", yanchor="top"),
                           annotation_position="top left")
    assert charts.add_revision_markers(fig, versions, span=span).to_plotly_json() == expected.to_plotly_json()


def test_a_series_hidden_wherever_it_has_a_month_has_no_legend_entry_either():
    """A department hidden in each of its months but one it has no row for (a gap in the line) was listed in the
    legend beside no line: the gap counted as a month shown (the leadership's adherence chart, Advocacy)."""
    rows = pd.DataFrame({"period": ["2026-01", "2026-02", "2026-03", "2026-01", "2026-03"],
                         "series": ["Organisation"] * 3 + ["Advocacy"] * 2, "value": [0.5, 0.6, 0.7, None, None],
                         "n": [100.0] * 3 + [None] * 2, "ci_low": [0.4, 0.5, 0.6, None, None],
                         "ci_high": [0.6, 0.7, 0.8, None, None], "suppressed": [False] * 3 + [True] * 2})
    fig = charts.trend_chart(rows, metric="adherence_rate", series="series", reference="Organisation", k=5)
    listed = [t.name for t in fig.data if t.showlegend is not False]
    assert "Organisation" in listed and "Advocacy" not in listed
