"""Our FigureWidget front end over plotly.js-basic (``resources/plotly_widget.js``) in Chromium, against
plotly's real Python side: what a ``go.FigureWidget`` sends is replayed to the front end on a page of our
own (a stand-in for the widget model), and what the front end answers is handed back to the widget.

Needs the fetched plotly.js-basic (``python -m analytics.frontend fetch``, done by ``make``'s install):
skips without it locally, fails under ``CI=true``.
"""

from __future__ import annotations

import json
import os

import pandas as pd
import plotly.graph_objects as go
import pytest
from browser import headless_chromium
from plotly.serializers import _js_to_py, _py_to_js

from analytics import charts, dashboard, serve

ORIGIN = "http://widget.test"
PAGE = "<!doctype html><html><head></head><body style='margin:0'></body></html>"
#: A stand-in for anywidget's model: ``get``/``set``/``save_changes``/``on`` as the front end uses them;
#: ``deliver`` is the kernel changing a trait, ``window.sent`` what the front end saved, in order.
SETUP = """async (state) => {
  const make = (await import("/bundle.js")).default;
  const listeners = {};
  const unsaved = {};
  window.sent = [];
  window.errors = [];
  const log = console.error;
  console.error = (...args) => { window.errors.push(args.join(" ")); log(...args); };
  const model = {
    get: (name) => state[name],
    set: (name, value) => { state[name] = value; unsaved[name] = value; },
    save_changes: () => {
      for (const [name, value] of Object.entries(unsaved)) window.sent.push([name, JSON.parse(JSON.stringify(value))]);
      for (const name of Object.keys(unsaved)) delete unsaved[name];
    },
    on: (event, callback) => { (listeners[event] ||= []).push(callback); },
  };
  window.deliver = (name, value) => {
    state[name] = value;
    (listeners[`change:${name}`] || []).forEach((callback) => callback());
  };
  const widget = make();
  widget.initialize({ model });
  window.show = (width = 900) => {
    const el = document.createElement("div");
    el.id = "chart";
    el.style.width = `${width}px`;
    document.body.appendChild(el);
    window.remove = widget.render({ model, el });
  };
}"""


def _basic_or_skip():
    path = serve.basic_bundle()
    if path is None:
        reason = "plotly.js-basic is not installed (python -m analytics.frontend fetch)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the widget tests must run under CI=true, but {reason}")
        pytest.skip(reason)
    return path


@pytest.fixture(scope="module")
def chromium():
    _basic_or_skip()
    with headless_chromium() as browser:
        yield browser


class Session:
    """One FigureWidget and its front end on a page: messages relayed both ways."""

    def __init__(self, page, widget: go.FigureWidget) -> None:
        self.page, self.widget, self.outbox = page, widget, []
        names = [name for name in widget.trait_names() if name.startswith("_py2js_")]
        widget.observe(self._sent, names=names)
        page.evaluate(SETUP, {
            "_widget_data": _py_to_js(widget._widget_data, None),
            "_widget_layout": _py_to_js(widget._widget_layout, None), "_config": widget._config,
            "_last_layout_edit_id": widget._last_layout_edit_id, "_last_trace_edit_id": widget._last_trace_edit_id})
        self.answered = 0

    def _sent(self, change) -> None:
        self.outbox.append((change["name"], json.loads(json.dumps(_py_to_js(change["new"], None)))))

    def relay(self) -> int:
        """Hand the kernel's messages to the page; the number of edits among them."""
        edits = 0
        for name, message in self.outbox:
            self.page.evaluate("([name, message]) => deliver(name, message)", [name, message])
            edits += message is not None and "layout_edit_id" in message
        self.outbox.clear()
        return edits

    def answer(self) -> list[str]:
        """Wait for the front end's answer to the last edit and hand everything it sent to the widget."""
        layout_id = self.widget._last_layout_edit_id
        self.page.wait_for_function(
            "(id) => window.sent.some(([name, m]) => name === '_js2py_layoutDelta' && m && m.layout_edit_id === id)",
            arg=layout_id, timeout=10_000)
        self.page.wait_for_timeout(50)
        sent = self.page.evaluate("() => window.sent.splice(0)")
        for name, message in sent:
            setattr(self.widget, name, _js_to_py(message, None))
        return [name for name, message in sent if message is not None]

    def drawn(self) -> list:
        return self.page.evaluate("() => document.getElementById('chart').data.map(t => [t.type, t.name, t.x, t.y])")

    def errors(self) -> list[str]:
        return self.page.evaluate("() => window.errors")


def _expected(widget: go.FigureWidget) -> list:
    return [[t.type, t.name, list(t.x) if t.x is not None else None, list(t.y) if t.y is not None else None]
            for t in widget.data]


@pytest.fixture
def page(chromium):
    bundle = serve._basic_module(_basic_or_skip())
    files = {"/": ("text/html", PAGE), "/bundle.js": ("text/javascript", bundle)}

    def answer(route):
        kind, body = files[route.request.url[len(ORIGIN):]]
        route.fulfill(status=200, content_type=kind, body=body)

    page = chromium.new_page(viewport={"width": 1000, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.route(f"{ORIGIN}/**", answer)
    page.goto(ORIGIN + "/")
    yield page
    page.close()
    assert not errors, errors


def _rows(months: list[str], values: list[float], series: str | None = None) -> pd.DataFrame:
    rows = pd.DataFrame({"period": months, "value": values, "n": 40, "suppressed": False})
    rows["ci_low"], rows["ci_high"] = rows["value"] - 0.05, rows["value"] + 0.05
    return rows.assign(series=series) if series else rows


def _trend(rows: pd.DataFrame, **options) -> go.Figure:
    versions = pd.DataFrame({"version": ["v2"], "effective_on": ["2026-02-14"]})
    return charts.trend_chart(rows, metric="adherence_rate", versions=versions, k=5, **options)


MONTHS = ["2026-01", "2026-02", "2026-03", "2026-04"]


def _refreshed(session: Session, figure: go.Figure) -> None:
    """The dashboards' update (``dashboard.refresh_figure``), relayed and answered."""
    dashboard.refresh_figure(session.widget, figure)
    assert session.relay() >= 1
    session.answer()


def _shown(page, width: int = 900) -> Session:
    """A trend chart's widget, drawn on the page and answered."""
    session = Session(page, go.FigureWidget(_trend(_rows(MONTHS, [0.8, 0.85, 0.9, 0.92]))))
    page.evaluate("(width) => show(width)", width)
    session.answer()
    return session


def _two_series(organisation: list[float], finance: list[float]) -> pd.DataFrame:
    return pd.concat([_rows(MONTHS, organisation, "Organisation"), _rows(MONTHS, finance, "Finance")],
                     ignore_index=True)


def _settled(widget: go.FigureWidget) -> bool:
    return not widget._layout_edit_in_process and not widget._trace_edit_in_process


@pytest.mark.browser
def test_a_chart_draws_its_figure_and_answers_with_what_plotly_filled_in(page):
    widget = go.FigureWidget(_trend(_rows(MONTHS, [0.8, 0.85, 0.9, 0.92])))
    spec = widget.to_plotly_json()
    session = Session(page, widget)
    page.evaluate("() => show()")
    assert session.answer() == ["_js2py_traceDeltas", "_js2py_layoutDelta"]
    assert session.drawn() == _expected(widget)
    assert page.locator("#chart .main-svg").count() >= 1
    # the figure keeps everything it was given (the answer holds defaults only) and learns the autorange
    assert widget.to_plotly_json() == spec and not session.outbox
    low, high = widget.layout.yaxis.range
    assert widget.layout.yaxis.autorange is not False and low < 0.75 and high > 0.97
    assert widget.data[1].marker.symbol == "circle"  # a default plotly.js filled in
    assert _settled(widget)
    assert session.errors() == []


@pytest.mark.browser
def test_a_filter_change_with_the_same_traces_redraws_the_new_values(page):
    session = _shown(page)
    widget = session.widget
    before = session.drawn()
    _refreshed(session, _trend(_rows(MONTHS, [0.4, 0.45, 0.5, 0.3]), title="Another title"))
    assert session.drawn() == _expected(widget) != before
    assert page.evaluate("() => document.getElementById('chart')._fullLayout.title.text") == "Another title"
    assert widget.layout.yaxis.range[0] < 0.25 < 0.55 < widget.layout.yaxis.range[1]
    assert _settled(widget) and session.errors() == []


@pytest.mark.browser
def test_a_filter_change_adding_traces_and_bars_redraws_them_all(page):
    session = _shown(page)
    widget = session.widget
    rows = _two_series([0.8, 0.85, 0.9, 0.92], [0.6, 0.7, 0.75, 0.7])
    _refreshed(session, _trend(rows, series="series", reference="Organisation", bars=True))
    drawn = session.drawn()
    assert drawn == _expected(widget)
    assert [t[0] for t in drawn].count("bar") == 2 and "Finance" in [t[1] for t in drawn]
    assert page.locator("#chart .barlayer .point").count() == 2 * len(MONTHS)
    # and back to one line: traces removed
    _refreshed(session, _trend(_rows(MONTHS, [0.5, 0.55, 0.6, 0.62])))
    assert session.drawn() == _expected(widget) and len(widget.data) == 3
    assert _settled(widget) and session.errors() == []


@pytest.mark.browser
def test_edits_before_the_chart_is_drawn_are_answered_and_drawn_when_it_shows(page):
    widget = go.FigureWidget(_trend(_rows(MONTHS, [0.8, 0.85, 0.9, 0.92])))
    session = Session(page, widget)
    rows = _two_series([0.8, 0.85, 0.9, 0.92], [0.6, 0.7, 0.75, 0.7])
    _refreshed(session, _trend(rows, series="series", reference="Organisation"))
    assert _settled(widget)  # answered without a view: no defaults yet
    halved = _two_series([0.4, 0.42, 0.45, 0.46], [0.3, 0.35, 0.37, 0.35])
    _refreshed(session, _trend(halved, series="series", reference="Organisation"))
    page.evaluate("() => show()")
    session.answer()
    assert session.drawn() == _expected(widget)
    assert widget.layout.yaxis.range[1] < 0.6  # the defaults of the figure drawn now
    assert _settled(widget) and session.errors() == []


@pytest.mark.browser
def test_the_chart_follows_its_box_width(page):
    _shown(page, 900)
    width = "() => document.getElementById('chart')._fullLayout.width"
    assert page.evaluate(width) == 900
    page.evaluate("() => { document.getElementById('chart').style.width = '600px'; }")
    page.wait_for_function(f"() => ({width})() === 600", timeout=5_000)
    assert page.locator("#chart .main-svg").first.get_attribute("width") == "600"
    # a resize is no edit of the reader's: the figure is not told
    page.wait_for_timeout(200)
    assert not any(name == "_js2py_relayout" for name, message in page.evaluate("() => window.sent") if message)


@pytest.mark.browser
def test_zoom_legend_clicks_and_point_clicks_reach_the_python_figure(page):
    session = _shown(page)
    widget = session.widget
    clicked = []
    widget.data[1].on_click(lambda trace, points, state: clicked.append((points.point_inds, state.shift)))
    gd = "document.getElementById('chart')"
    page.evaluate(f"() => Plotly.relayout({gd}, {{'yaxis.range': [0.5, 1]}})")  # as a zoom does
    page.evaluate(f"() => Plotly.restyle({gd}, {{visible: ['legendonly']}}, [1])")  # as a legend click does
    page.evaluate(f"() => {gd}.emit('plotly_click', {{points: [{{curveNumber: 1, pointNumber: 2, x: '2026-03-01',"
                  " y: 0.9}], event: {shiftKey: true, ctrlKey: false, altKey: false, metaKey: false, button: 0,"
                  " buttons: 1}})")
    for name, message in page.evaluate("() => window.sent.splice(0)"):
        setattr(widget, name, _js_to_py(message, None))
    assert widget.layout.yaxis.range == (0.5, 1)
    assert widget.data[1].visible == "legendonly"
    assert clicked == [([2], True)]
    # the figure's echo of the reader's edits is drawn and answered like any edit
    assert session.relay() == 2
    session.answer()
    assert _settled(widget) and session.errors() == []


@pytest.mark.browser
def test_an_update_button_s_restyle_and_relayout_reach_the_python_figure(page):
    session = _shown(page)
    widget = session.widget
    gd = "document.getElementById('chart')"
    # what an update menu's button with method "update" calls
    page.evaluate(f"() => Plotly.update({gd}, {{visible: [false]}}, {{'yaxis.range': [0.2, 1]}}, [1])")
    sent = page.evaluate("() => window.sent.splice(0)")
    assert [name for name, message in sent if message] == ["_js2py_update"]
    for name, message in sent:
        setattr(widget, name, _js_to_py(message, None))
    assert widget.data[1].visible is False and widget.data[0].visible is not False
    assert widget.layout.yaxis.range == (0.2, 1)
    assert session.relay() >= 1
    session.answer()
    assert _settled(widget) and session.drawn() == _expected(widget) and session.errors() == []


@pytest.mark.browser
def test_the_traces_defaults_go_back_after_trace_edits_only(page):
    session = _shown(page)
    widget = session.widget
    widget.layout.title = "Only the layout"
    assert session.relay() == 1
    assert session.answer() == ["_js2py_layoutDelta"]
    assert _settled(widget)
    widget.data[0].name = "Renamed"
    session.relay()
    assert session.answer() == ["_js2py_traceDeltas", "_js2py_layoutDelta"]
    assert _settled(widget) and session.drawn() == _expected(widget)
    assert session.errors() == []


@pytest.mark.browser
def test_a_trace_type_the_basic_bundle_lacks_is_an_error_not_an_empty_chart(page):
    widget = go.FigureWidget(go.Heatmap(z=[[1, 2], [3, 4]]))
    session = Session(page, widget)
    page.evaluate("() => show()")
    page.wait_for_function("() => window.errors.length > 0", timeout=5_000)
    assert "heatmap" in page.evaluate("() => window.errors.join(' ')")
    # said once, not again at each redraw
    widget.layout.title = "Redrawn"
    assert session.relay() == 1
    session.answer()
    assert len(session.errors()) == 1


@pytest.mark.browser
def test_a_chart_taken_off_the_page_while_drawing_starts_nothing_after(page):
    # the page fixture fails the test on an uncaught error: the view must not start on its purged element
    session = Session(page, go.FigureWidget(_trend(_rows(MONTHS, [0.8, 0.85, 0.9, 0.92]))))
    page.evaluate("() => { show(); remove(); }")
    page.wait_for_timeout(500)
    assert page.locator("#chart .main-svg").count() == 0
    assert session.errors() == []
