"""The served charts' loader (``charts._LAZY_LOADER``) in Chromium, on a page of our own: when a chart draws.

A stand-in for plotly's bundle records which boxes it drew, so each case controls exactly what the
page does frame by frame: a chart put in place before the view above it (as the dashboard's first
layout does), a chart scrolled to, one scrolled past within a frame, one at the screen's edge.
"""

from __future__ import annotations

import pytest
from browser import headless_chromium

from analytics import charts

ORIGIN = "http://charts.test"
#: Stands in for plotly's widget bundle: "draws" a box by adding the element plotly's charts have.
FAKE_BUNDLE = """export default () => ({
  initialize() {},
  render({ el }) {
    el.insertAdjacentHTML("beforeend", "<svg class='main-svg' width='10' height='10'></svg>");
    window.drawn.push(el.id);
    return () => {};
  },
});
"""
PAGE = """<!doctype html><html><head><style>body { margin: 0 } .block { height: 1000px }</style></head>
<body><div id="top" style="height: 100px"></div><div id="page"></div><script>window.drawn = [];</script></body></html>
"""
#: ``add(id, before)`` renders a chart view of height 400 and then puts it in the page (as ipywidgets
#: does: render first, insert when done) before the element ``before`` or at the end; ``frames(n)``
#: resolves in the n-th animation frame from now.
SETUP = """async () => {
  const make = (await import("/loader.js")).default;
  window.add = (id, before = null) => {
    const el = document.createElement("div");
    el.id = id;
    const widget = make();
    const context = { el, model: { get: () => ({ height: 400 }) } };
    widget.initialize(context);
    widget.render(context);
    document.getElementById("page").insertBefore(el, before && document.getElementById(before));
    return el;
  };
  window.frames = (n) => new Promise((done) => {
    const step = (left) => (left ? requestAnimationFrame(() => step(left - 1)) : done());
    step(n);
  });
}"""


@pytest.fixture(scope="module")
def chromium():
    with headless_chromium() as browser:
        yield browser


@pytest.fixture
def page(chromium):
    loader = charts._shared_bundle_widget("/bundle.js", True)._esm
    files = {"/": ("text/html", PAGE), "/loader.js": ("text/javascript", loader),
             "/bundle.js": ("text/javascript", FAKE_BUNDLE)}

    def answer(route):
        kind, body = files[route.request.url[len(ORIGIN):]]
        route.fulfill(status=200, content_type=kind, body=body)

    page = chromium.new_page(viewport={"width": 800, "height": 600})
    page.route(f"{ORIGIN}/**", answer)
    page.goto(ORIGIN + "/")
    page.evaluate(SETUP)
    yield page
    page.close()


def _drawn(page) -> list[str]:
    return page.evaluate("window.drawn")


@pytest.mark.browser
def test_a_chart_on_screen_only_while_the_view_above_is_not_in_place_is_not_drawn(page):
    page.evaluate("""async () => {
      add("first");
      const slot = document.createElement("div");  // the upper view, not rendered yet: no height
      document.getElementById("page").appendChild(slot);
      add("lower");  // at 500 px on a 600 px screen, until the view above is in place
      await frames(2);  // the observer has seen it on screen in the first frame
      slot.className = "block";
      await frames(10);
    }""")
    assert _drawn(page) == ["first"]
    # once scrolled to, it draws
    page.evaluate("async () => { document.getElementById('lower').scrollIntoView(); await frames(5); }")
    assert _drawn(page) == ["first", "lower"]


@pytest.mark.browser
def test_a_chart_scrolled_to_draws_and_one_scrolled_past_within_a_frame_draws_when_it_comes_back(page):
    page.evaluate("""async () => {
      add("first");
      for (const id of ["passed", "read"]) {
        const block = document.createElement("div");
        block.className = "block";
        document.getElementById("page").appendChild(block);
        add(id);
      }
      await frames(3);
      // scrolled in within a frame's callbacks: that frame shows it, the next one's scroll takes it away
      document.getElementById("passed").scrollIntoView();
      await frames(1);
      window.scrollTo(0, 0);
      await frames(10);
    }""")
    assert _drawn(page) == ["first"]
    page.evaluate("async () => { document.getElementById('read').scrollIntoView(); await frames(5); }")
    assert _drawn(page) == ["first", "read"]
    page.evaluate("async () => { document.getElementById('passed').scrollIntoView(); await frames(5); }")
    assert _drawn(page) == ["first", "read", "passed"]


@pytest.mark.browser
def test_a_chart_touching_the_screen_edge_draws_once_it_shows(page):
    # its top edge on the screen's bottom edge: the observer may call that intersecting and then report
    # nothing more as it scrolls in, so the loader must ask again
    page.evaluate("""async () => {
      document.getElementById("top").style.height = "600px";
      add("edge");
      await frames(10);
    }""")
    assert _drawn(page) == []
    page.evaluate("async () => { window.scrollBy(0, 50); await frames(5); }")
    assert _drawn(page) == ["edge"]
