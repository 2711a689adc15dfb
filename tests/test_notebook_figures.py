"""The analysts' figures as drawn in Chromium: every category label whole and shown, the legend clear of
the axis's tick labels, the value axis title within the plot's height."""

from __future__ import annotations

import pytest
from browser import headless_chromium

from analytics import notebook_views as nv

#: Bounding boxes of what the checks compare, from the drawn SVG.
_BOXES = """() => {
  const box = (e) => { const r = e.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, left: r.left,
                                                                   right: r.right}; };
  const plot = document.querySelector('.nsewdrag') || document.querySelector('.bglayer rect');
  return {
    xticks: [...document.querySelectorAll('.xtick text')].map(box),
    yticks: [...document.querySelectorAll('.ytick text')].map(e => ({...box(e), text: e.textContent})),
    y2ticks: [...document.querySelectorAll('.y2tick text')].map(box),
    legend: document.querySelector('.legend') ? box(document.querySelector('.legend')) : null,
    ytitle: document.querySelector('.ytitle') ? box(document.querySelector('.ytitle')) : null,
    plot: plot ? box(plot) : null,
    xtitle: document.querySelector('.xtitle') ? box(document.querySelector('.xtitle')) : null,
  };
}"""


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
    drawn = {}
    with headless_chromium() as browser:
        page = browser.new_page(viewport={"width": 1000, "height": 900})
        for name, (figure, _rows) in figures.items():
            path = tmp_path / f"{name}.html"
            figure.write_html(path, include_plotlyjs=True)
            page.goto(path.as_uri())
            page.wait_for_selector(".main-svg")
            drawn[name] = page.evaluate(_BOXES)
    for name, (_figure, rows) in figures.items():
        boxes = drawn[name]
        assert boxes["yticks"], name
        # no category label cut off at the figure's left edge
        assert min(tick["left"] for tick in boxes["yticks"]) >= 0, name
        if name == "likert":  # the items by their wording, not their ids
            assert not any("_" in tick["text"] for tick in boxes["yticks"]), boxes["yticks"][:3]
        if rows is not None:  # a label for every row, none skipped for want of room
            assert len({tick["text"] for tick in boxes["yticks"]}) == rows, name
        below = max(tick["bottom"] for tick in boxes["xticks"] + ([boxes["xtitle"]] if boxes["xtitle"] else []))
        if boxes["legend"] is not None:
            assert boxes["legend"]["top"] >= below, f"{name}: the legend covers the axis's labels"
        if boxes["y2ticks"]:  # a plot below the first: the months' labels clear of its values
            assert min(tick["top"] for tick in boxes["y2ticks"]) >= below, f"{name}: the plots' labels collide"
        if boxes["ytitle"] is not None:
            assert boxes["ytitle"]["top"] >= boxes["plot"]["top"] - 10, f"{name}: the axis title runs past the plot"


def test_a_value_axis_title_too_long_for_the_plot_is_refused():
    with pytest.raises(ValueError, match="longer than 32 characters"):
        nv._figure("Adherence by area", "", "Higher is better.", y_title="% of employee posts without a finding")
    assert nv._figure("Adherence by area", "", "Higher is better.", y_title="% of posts without a finding")
