"""The analysts' figures as drawn in Chromium: every category label whole and shown, the legend clear of
the axis's tick labels, the value axis title within the plot's height."""

from __future__ import annotations

import pandas as pd
import pytest
from browser import assert_readable, drawn_figures

from analytics import notebook_views as nv


@pytest.fixture(scope="module")
def figures(sample_warehouse):
    period = nv.resolve_period(None, warehouse_file=sample_warehouse).label
    wave = nv.survey_wave(period, warehouse_file=sample_warehouse)
    revisions = nv.policy_revisions(warehouse_file=sample_warehouse)
    by_area = nv.adherence_by_area(period=period, warehouse_file=sample_warehouse)
    changes = nv.survey_change_figure(nv.construct_changes(period=wave, by="department",
                                                            warehouse_file=sample_warehouse), by="department")
    return {
        "areas": (nv.area_figure(by_area, revisions=revisions), None),
        "sentiment": (nv.sentiment_figure(nv.sentiment_over_time(period=period, warehouse_file=sample_warehouse),
                                          revisions=revisions), None),
        "changes": (changes, len(set(changes.data[0].y))),  # a row per department and construct shown
        "likert": (nv.likert_figure(nv.likert_view(period=wave, warehouse_file=sample_warehouse)), None),
        "seasonal": (nv.seasonal_figure(nv.seasonality(period=period, warehouse_file=sample_warehouse),
                                        label="Employee-post sentiment", revisions=revisions), None),
    }


@pytest.mark.browser
def test_figures_draw_every_label_whole_and_the_legend_clear_of_the_axis(figures, tmp_path):
    drawn = drawn_figures({name: figure for name, (figure, _rows) in figures.items()}, tmp_path)
    for name, (_figure, rows) in figures.items():
        boxes = drawn[name]
        if name == "likert":  # the items by their wording, not their ids
            assert not any("_" in tick["text"] for tick in boxes["yticks"]), boxes["yticks"][:3]
        assert_readable(boxes, name, rows=rows)


def test_a_value_axis_title_too_long_for_the_plot_is_refused():
    with pytest.raises(ValueError, match="longer than 32 characters"):
        nv._figure("Adherence by area", "", "Higher is better.", y_title="% of employee posts without a finding")
    assert nv._figure("Adherence by area", "", "Higher is better.", y_title="% of posts without a finding")


def test_the_event_study_is_drawn_in_percentage_points():
    study = pd.DataFrame({"relative_month": [-2, -1, 0, 1], "estimate": [0.01, 0.0, -0.025, -0.04],
                          "ci_low": [-0.02, 0.0, -0.05, -0.07], "ci_high": [0.04, 0.0, 0.0, -0.01],
                          "n_posts": 420})
    fig = nv.event_study_figure(study)
    line = fig.data[0]
    assert list(line.y) == pytest.approx([1.0, 0.0, -2.5, -4.0])
    assert list(line.error_y.array) == pytest.approx([3.0, 0.0, 2.5, 3.0])
    assert fig.layout.yaxis.ticksuffix == " pts" and "%" not in (fig.layout.yaxis.tickformat or "")


def test_figures_name_the_configured_threshold_not_the_letter_k():
    from analytics import config

    k = config.get_settings().k
    empty = nv.event_study_figure(pd.DataFrame(columns=["relative_month", "estimate", "ci_low", "ci_high", "n_posts"]))
    assert any(f"fewer than {k} people" in note.text for note in empty.layout.annotations)
    series = pd.DataFrame({"month": ["2026-01", "2026-02"], "value": [0.9, None], "n": [40, None],
                           "ci_low": [0.8, None], "ci_high": [0.95, None], "group": ["Finance"] * 2})
    fig = nv.time_figure(series, title="Adherence", y_title="% of posts", how_to_read="Higher is better.",
                         revisions=pd.DataFrame(columns=["version", "effective_on"]), group="group")
    assert f"gaps = hidden to protect a group of fewer than {k} people" in fig.layout.title.subtitle.text


def test_a_chart_whose_every_month_is_hidden_says_so_not_n_equals_0():
    from analytics import config

    k = config.get_settings().k
    revisions = pd.DataFrame(columns=["version", "effective_on"])
    hidden = pd.DataFrame({"month": ["2026-01", "2026-02"], "value": [None, None], "n": [None, None],
                           "ci_low": [None, None], "ci_high": [None, None], "group": ["Advocacy"] * 2,
                           "suppressed": [True, True]})
    fig = nv.time_figure(hidden, title="Adherence", y_title="% of posts", how_to_read="Higher is better.",
                         revisions=revisions, group="group", n_label="posts")
    assert "n hidden" in fig.layout.title.subtitle.text and "n = 0" not in fig.layout.title.subtitle.text
    assert any(f"Every month is hidden to protect a group of fewer than {k} people" in note.text
               for note in fig.layout.annotations)
    empty = nv.time_figure(hidden.iloc[:0], title="Adherence", y_title="% of posts", how_to_read="Higher is better.",
                           revisions=revisions, group="group", n_label="posts")
    assert any(note.text.startswith("Nothing to show") for note in empty.layout.annotations)


def test_a_chart_s_n_counts_each_post_once_and_claims_a_band_only_when_it_draws_one():
    """Three areas' lines of the same posts said "n = 20,844 posts per area in all" (the posts three times), and
    a count's chart claimed a 95% CI band it did not draw."""
    revisions = pd.DataFrame(columns=["version", "effective_on"])
    lines = pd.DataFrame({"month": ["2026-01", "2026-02"] * 3, "value": [0.9, 0.8] * 3, "n": [40, 60] * 3,
                          "ci_low": [0.8, 0.7] * 3, "ci_high": [0.95, 0.9] * 3,
                          "group": ["conduct"] * 2 + ["disclosure"] * 2 + ["confidentiality"] * 2})
    grouped = nv.time_figure(lines, title="Adherence", y_title="% of posts", how_to_read="Higher is better.",
                             revisions=revisions, group="group", n_label="posts").layout.title.subtitle.text
    assert "n = 100 posts per line" in grouped and "300" not in grouped, grouped
    counts = pd.DataFrame({"month": ["2026-01", "2026-02"], "value": [3, 1], "n": [3, 1],
                           "ci_low": [None, None], "ci_high": [None, None]})
    plain = nv.time_figure(counts, title="Incidents", y_title="incidents", how_to_read="Lower is better.",
                           revisions=revisions).layout.title.subtitle.text
    assert "band" not in plain and "n = 4 in all" in plain, plain


def test_a_band_breaks_where_its_line_is_hidden():
    """The band was drawn straight across a hidden month, showing a range where the line showed nothing."""
    series = pd.DataFrame({"month": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"]),
                           "value": [0.9, None, 0.8, 0.85], "n": [40, None, 50, 45],
                           "ci_low": [0.8, None, 0.7, 0.75], "ci_high": [0.95, None, 0.9, 0.92],
                           "suppressed": [False, True, False, False]})
    fig = nv.time_figure(series, title="Adherence", y_title="% of posts", how_to_read="Higher is better.",
                         revisions=pd.DataFrame(columns=["version", "effective_on"]), percent=True)
    band = fig.data[0]
    assert band.fill == "toself"
    assert list(band.x) == ["2026-01-01", "2026-01-01", None, "2026-03-01", "2026-04-01", "2026-04-01", "2026-03-01"]
    assert list(band.y) == pytest.approx([0.95, 0.8, None, 0.9, 0.92, 0.75, 0.7])
