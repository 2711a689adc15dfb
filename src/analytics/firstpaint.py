"""A served dashboard's first screen as static HTML, drawn before its widgets are live.

A Voila page shows its widgets only once its scripts have run, its kernel's websocket is open and
every widget model's state has come over it: on this machine about two seconds after the request,
most of it the browser's main thread. The page already holds the cell's output as JSON, though, and
the charts' shared bundle (plotly.js and our front end, :mod:`analytics.serve`) is fetched and
evaluated from the page's first script on. So the dashboard's box adds to its output a static copy of
its first screen -- the text and tiles as they are, each filter as a disabled list showing its choice,
the first chart's figure -- under :data:`FIRST_PAINT_MIME`, which Voila's renderer ignores; the bundle
draws it as soon as the page is parsed, with the live page laid out hidden beneath it. When the live
chart's view is rendered it takes over the chart already drawn (the same element: drawn once, not
twice) and the copy goes; the reader sees the first screen early and the same screen, live, after.

Only charts from :func:`analytics.charts.as_widget` under ``analytics.serve`` (the shared bundle) can be
taken over; elsewhere (JupyterLab, a plain FigureWidget) the box is an ordinary ``VBox``.
"""

from __future__ import annotations

import html
import json
import uuid

import ipywidgets as widgets
import plotly.io as pio

__all__ = ["FIRST_PAINT_MIME", "FirstPaintBox", "first_screen"]

#: The output's MIME type of the static first screen (read by ``resources/plotly_widget.js``).
FIRST_PAINT_MIME = "application/vnd.policy-pulse.first-paint+json"


def _takes_over(widget: widgets.Widget) -> bool:
    # the shared bundle's figure widgets carry the id their view looks for (analytics.charts)
    return widget.has_trait("_first_paint_id")


_CHOICES = (widgets.Dropdown, widgets.Select, widgets.RadioButtons, widgets.ToggleButtons)

# sizes of ipywidgets' own style sheet (its --jp-widgets-* variables), so that the live page, when it
# replaces the copy, is laid out as the copy was
_MARGIN = "margin:2px"
_INLINE = f"display:flex;align-items:center;{_MARGIN};width:300px;height:28px"


def _choice(widget: widgets.Widget) -> str:
    label = "" if widget.label is None else str(widget.label)
    caption = (f"<label style='width:80px;flex-shrink:0;text-align:right;margin-right:4px'>"
               f"{html.escape(widget.description)}</label>")
    return (f"<div style='{_INLINE}'>{caption}<select disabled style='flex:1;height:28px'>"
            f"<option>{html.escape(label)}</option></select></div>")


def first_screen(box: widgets.Box) -> dict | None:
    """The static copy of ``box`` up to and including its first chart, or None when it has no chart the
    shared bundle can take over.

    Parameters
    ----------
    box : ipywidgets.Box
        The dashboard's box. Boxes become flex containers, ``HTML`` its value, ``Label`` its text,
        selection widgets a disabled list showing the current choice, buttons a disabled button; hidden
        widgets (``layout.display == "none"``) and other widgets are left out. The first chart gets a
        fresh ``_first_paint_id`` (a synced trait its view reads).

    Returns
    -------
    dict or None
        ``html``: the markup, the chart as ``<div data-pp-first-paint="ID">``; ``charts``: one
        ``{"id", "figure"}`` with the chart's figure as plotly JSON (``data``, ``layout``, ``config``).

    Examples
    --------
    >>> first_screen(widgets.VBox([widgets.HTML("<h1>Title</h1>")])) is None
    True
    """
    charts: list[dict] = []

    def markup(widget: widgets.Widget) -> str:
        # (a FigureWidget's ``layout`` is its figure's, not the widget's box)
        box_layout = getattr(widget, "layout", None)
        if charts or (isinstance(box_layout, widgets.Layout) and box_layout.display == "none"):
            return ""
        if _takes_over(widget):
            widget._first_paint_id = f"pp-first-paint-{uuid.uuid4().hex}"
            figure = json.loads(pio.to_json(widget, validate=False))
            figure["config"] = dict(widget._config or {})
            charts.append({"id": widget._first_paint_id, "figure": figure})
            return f"<div data-pp-first-paint='{widget._first_paint_id}'></div>"
        if isinstance(widget, widgets.Box):
            # a subclass lays out as its base does (the dashboards' FirstPaintBox is a VBox)
            style = f"display:flex;flex-direction:{'row' if isinstance(widget, widgets.HBox) else 'column'}"
            inner = "".join(markup(child) for child in widget.children)
            return f"<div style='{style}'>{inner}</div>"
        if isinstance(widget, widgets.HTML | widgets.HTMLMath):
            return f"<div style='{_MARGIN};line-height:28px'>{widget.value}</div>"
        if isinstance(widget, widgets.Label):
            return f"<div style='{_MARGIN};line-height:28px'>{html.escape(widget.value)}</div>"
        if isinstance(widget, _CHOICES):
            return _choice(widget)
        if isinstance(widget, widgets.Button):
            return f"<button disabled>{html.escape(widget.description)}</button>"
        return ""

    page = markup(box)
    return {"html": page, "charts": charts} if charts else None


class FirstPaintBox(widgets.VBox):
    """A ``VBox`` whose output also carries :func:`first_screen` of itself (made when it is displayed)."""

    def _repr_mimebundle_(self, **kwargs) -> dict:
        bundle = super()._repr_mimebundle_(**kwargs)
        screen = first_screen(self)
        if screen is not None and bundle is not None:
            bundle[FIRST_PAINT_MIME] = screen
        return bundle
