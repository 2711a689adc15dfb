"""The static first screen a served dashboard's output carries (``analytics.firstpaint``); in the browser,
with the real server, in test_dashboards.py."""

from __future__ import annotations

import json

import ipywidgets as widgets
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from analytics import charts, dashboard
from analytics.firstpaint import FIRST_PAINT_MIME, FirstPaintBox, first_screen


@pytest.fixture
def served(monkeypatch):
    """Charts as ``analytics.serve`` makes them when plotly.js-basic is installed (our front end)."""
    monkeypatch.setenv(charts.SHARED_BUNDLE_ENV, "static/basic.js")
    monkeypatch.setenv(charts.FULL_BUNDLE_ENV, "static/full.js")


def _chart(title: str, trace=None) -> go.FigureWidget:
    return charts.as_widget(go.Figure(trace or go.Scatter(x=[1, 2, 3], y=[3, 1, 2]), layout={"title": title}))


def test_the_first_screen_is_the_page_up_to_its_first_chart(served):
    quarter = widgets.Dropdown(options=["2026-Q3", "<Q2 & co>"], value="<Q2 & co>", description="Quarter")
    hidden = widgets.HTML("<p>secret layout</p>", layout=widgets.Layout(display="none"))
    first, second = _chart("First"), _chart("Second")
    box = widgets.VBox([widgets.HTML("<h1>Title</h1>"), widgets.HBox([quarter, widgets.Label("a < b")]), hidden,
                        widgets.HBox([first, widgets.HTML("<p>beside the chart</p>")]), widgets.HTML("<p>below</p>"),
                        second])
    screen = first_screen(box)
    page = screen["html"]
    assert "<h1>Title</h1>" in page and "a &lt; b" in page
    # a filter is a disabled list showing its choice (escaped), with its caption
    assert "Quarter</label><select disabled" in page and "<option>&lt;Q2 &amp; co&gt;</option>" in page
    assert "2026-Q3" not in page
    for after in ("secret layout", "beside the chart", "below"):
        assert after not in page
    [chart] = screen["charts"]
    assert first._first_paint_id.startswith("pp-first-paint-") and second._first_paint_id == ""
    assert chart["id"] == first._first_paint_id and f"data-pp-first-paint='{chart['id']}'" in page
    assert chart["figure"]["data"] == json.loads(pio.to_json(first, validate=False))["data"]
    assert chart["figure"]["layout"]["title"]["text"] == "First"
    json.dumps(screen)  # the output's JSON


def test_each_display_gives_the_chart_a_new_id(served):
    box = FirstPaintBox([_chart("One")])
    ids = [box._repr_mimebundle_()[FIRST_PAINT_MIME]["charts"][0]["id"] for _ in range(2)]
    assert ids[0] != ids[1] and box.children[0]._first_paint_id == ids[1]


def test_without_our_front_end_there_is_no_first_screen(served, monkeypatch):
    # a chart plotly.js-basic cannot draw loads plotly's own bundle, which takes nothing over
    heatmap = FirstPaintBox([widgets.HTML("<h1>T</h1>"), _chart("Heat", go.Heatmap(z=[[1, 2]]))])
    assert FIRST_PAINT_MIME not in heatmap._repr_mimebundle_()
    monkeypatch.delenv(charts.FULL_BUNDLE_ENV)  # the server's shared bundle is plotly's own
    assert FIRST_PAINT_MIME not in FirstPaintBox([_chart("A")])._repr_mimebundle_()
    monkeypatch.delenv(charts.SHARED_BUNDLE_ENV)  # JupyterLab: plain FigureWidgets
    plain = FirstPaintBox([_chart("B")])
    assert FIRST_PAINT_MIME not in plain._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in plain._repr_mimebundle_()


@pytest.mark.parametrize("build", [dashboard.leadership, dashboard.policy_review])
def test_a_served_dashboard_carries_its_first_screen(served, sample_warehouse, build):
    box = build(sample_warehouse)
    screen = box._repr_mimebundle_()[FIRST_PAINT_MIME]
    [chart] = screen["charts"]
    assert "Data through" in screen["html"] and chart["figure"]["data"]
    # the banner's text is the live page's own (one source: the widgets)
    assert dashboard.coverage_banner(dashboard.load_data(sample_warehouse)).split(";")[0] in screen["html"]
