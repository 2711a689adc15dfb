"""Plotly figure builders for every surface: tidy frame in, figure out, one house theme.

Every figure carries a title, axis titles with units, a one-line "how to read this" (the title's
subtitle, also in ``fig.layout.meta["how_to_read"]``), the policy revisions as labelled vertical
lines on every time axis, the n and 95 % CI behind each value (band or error bars, and the hover
text), and shows a cell hidden by small-group suppression as "hidden to protect a group of fewer than k people" (the
small group itself or a second cell that would reveal it) — never
as a zero or a silent gap.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import textwrap
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import traitlets

from analytics import config, privacy
from analytics.metrics import METRICS
from analytics.periods import parse_period

__all__ = [
    "AXIS_TITLE_MAX",
    "BASIC_TRACE_TYPES",
    "FULL_BUNDLE_ENV",
    "HOUSE_TEMPLATE",
    "LABEL_WIDTH",
    "PALETTE",
    "READING_WIDTH",
    "SHARED_BUNDLE_ENV",
    "add_revision_markers",
    "as_widget",
    "bar_chart",
    "ci_band",
    "legend_under_axis",
    "period_start",
    "period_ticks",
    "trend_chart",
    "value_format",
    "wrapped_labels",
]

#: Colour-blind-safe series colours (Okabe-Ito), first the organisation's own line.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
_HIDDEN_COLOUR = "#8c8c8c"
_REVISION_COLOUR = "#6b6b6b"

#: The one theme every chart uses (plotly_white, calm fonts, the palette above).
HOUSE_TEMPLATE = go.layout.Template(
    layout=go.Layout(
        font=dict(family="Segoe UI, Helvetica Neue, Arial, sans-serif", size=13, color="#222"),
        title=dict(x=0.0, xanchor="left", font=dict(size=17)),
        colorway=list(PALETTE),
        paper_bgcolor="white",
        plot_bgcolor="white",
        xaxis=dict(showgrid=False, linecolor="#999", ticks="outside", zeroline=False, title=dict(font=dict(size=12))),
        yaxis=dict(gridcolor="#e6e6e6", zeroline=False, linecolor="#999", title=dict(font=dict(size=12))),
        legend=dict(orientation="h", yanchor="top", y=-0.18, x=0, xanchor="left"),
        margin=dict(l=80, r=30, t=100, b=80),
        hoverlabel=dict(namelength=-1),
    )
)


def value_format(metric: str) -> tuple[str, float]:
    """(d3 number format, multiplier for text) of a metric's values: shares as %, hours whole.

    >>> value_format("adherence_rate")
    ('.1%', 100.0)
    """
    kind = METRICS[metric].kind if metric in METRICS else "mean"
    if kind in ("rate", "ratio"):
        return ".1%", 100.0
    if kind == "count":
        return ",.0f", 1.0
    if kind == "median":
        return ",.1f", 1.0
    return ".2f", 1.0


def period_start(labels: Sequence[str] | pd.Series) -> pd.Series:
    """The first day of each period label (``YYYY-MM``, ``YYYY-Qn`` or a configured survey wave).

    Unknown labels give ``NaT``, so a chart never invents a date.

    >>> period_start(["2026-02", "2026-Q3", "later"]).dt.strftime("%Y-%m-%d").tolist()
    ['2026-02-01', '2026-07-01', nan]
    """
    waves = {p.wave: pd.Timestamp(p.start) for p in config.get_settings().survey_periods}

    def one(label: object) -> pd.Timestamp:
        text = str(label)
        if text in waves:
            return waves[text]
        try:
            return pd.Timestamp(parse_period(text).start)
        except ValueError:
            return pd.NaT

    return pd.Series([one(label) for label in labels], dtype="datetime64[ns]")


def add_revision_markers(
    fig: go.Figure, versions: pd.DataFrame | None, *, span: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> go.Figure:
    """Draw each policy revision as a dashed vertical line labelled with its version.

    ``versions`` has ``version`` and ``effective_on`` (the ``policy_versions`` table). With ``span``
    only revisions inside it are drawn (lines outside the data would stretch the axis). Returns
    ``fig`` (changed in place).

    >>> fig = add_revision_markers(go.Figure(), pd.DataFrame({"version": ["2.0"], "effective_on": ["2026-02-14"]}))
    >>> fig.layout.shapes[0].x0, fig.layout.shapes[0].yref, fig.layout.annotations[0].text
    ('2026-02-14', 'y domain', 'policy 2.0')
    """
    if versions is None or versions.empty:
        return fig
    dates = pd.to_datetime(versions["effective_on"])
    # a date string keeps the line on a date axis in every plotly version
    drawn = [(version, date.strftime("%Y-%m-%d")) for version, date in zip(versions["version"], dates, strict=True)
             if pd.notna(date) and (span is None or span[0] <= date <= span[1])]
    if not drawn:
        return fig
    # the shapes and labels fig.add_vline(annotation_position="top left") makes, set in one layout update: a
    # call per line validated the whole layout each time (a fifth of a dashboard's redraw)
    line = dict(color=_REVISION_COLOUR, dash="dash", width=1)
    fig.update_layout(
        shapes=[*fig.layout.shapes, *(dict(type="line", x0=day, x1=day, xref="x", y0=0, y1=1, yref="y domain",
                                           line=line) for _version, day in drawn)],
        annotations=[*fig.layout.annotations, *(
            dict(text=f"policy {version}", font=dict(size=11, color=_REVISION_COLOUR), textangle=-90,
                 xanchor="right", yanchor="top", showarrow=False, x=day, xref="x", y=1, yref="y domain")
            for version, day in drawn)])
    return fig


#: Set (by ``analytics.serve``) to the server path of the charts' widget bundle.
SHARED_BUNDLE_ENV = "POLICY_PULSE_PLOTLY_BUNDLE"
#: Set (by ``analytics.serve``) when that bundle is plotly.js-basic's: the path of plotly's full bundle.
FULL_BUNDLE_ENV = "POLICY_PULSE_PLOTLY_FULL_BUNDLE"
#: The trace types plotly.js-basic draws (every chart this module makes uses these only).
BASIC_TRACE_TYPES = frozenset({"scatter", "bar", "pie"})


#: The module each served chart ships instead of plotly's bundle: it imports the bundle the server
#: publishes (fetched and evaluated once per page, then cached) and draws a chart only once it shows
#: on the screen (a long page's lower charts as the viewer scrolls to them, within a fraction of a
#: second, instead of all before the first screen is complete). Until then the chart's box (class
#: ``pp-chart``) keeps the figure's height, so the page does not jump; the figure's state is kept
#: current meanwhile (the model side of the widget, ours or plotly's, applies every update), so a
#: chart drawn late shows exactly what one drawn early would.
#:
#: While the page is first laid out, the charts' views are put in place in whatever order their
#: (asynchronous) renders finish: a lower chart can be laid out for a frame where an upper one, not
#: yet in place, will be, and the IntersectionObserver reports it on the screen. The browser queues
#: such reports while its main thread is busy and hands several over at once, the stale one first.
#: So a chart is drawn only when the observer's latest report says it shows and, one frame later, the
#: page's current layout has it on the screen at the same place in the page (its offset from the
#: document's top, which scrolling does not change). A chart that moved or left in the meantime
#: waits for the observer's next report: a reader scrolling to it draws it, a chart scrolled past
#: within a frame draws when it comes back. The observer reports changes only, so a chart it still
#: counts as showing (touching the screen's edge) is asked about afresh.
_LAZY_LOADER = """const bundle = await import(new URL(BUNDLE_PATH, window.location.origin).href);

export default () => {
  const widget = bundle.default();
  return {
    initialize: (context) => widget.initialize(context),
    render(context) {
      const el = context.el;
      let cleanup = null;
      let checking = false;
      let reported = false;
      const layout = context.model.get("_widget_layout") || {};
      el.classList.add("pp-chart");
      el.style.minHeight = `${layout.height || 360}px`;
      const onScreen = () => {
        const box = el.getBoundingClientRect();
        return el.isConnected && box.bottom > 0 && box.top < window.innerHeight
          && box.right > 0 && box.left < window.innerWidth;
      };
      const layoutTop = () => {
        let top = 0;
        for (let node = el; node; node = node.offsetParent) top += node.offsetTop;
        return top;
      };
      const draw = () => {
        observer.disconnect();
        el.style.minHeight = "";
        cleanup = widget.render(context);
      };
      const confirm = (top) => requestAnimationFrame(() => {
        if (cleanup !== null) return;
        if (!onScreen()) {
          checking = false;
          // the observer reports changes only: while it last said "showing", ask it afresh
          if (reported) {
            observer.unobserve(el);
            observer.observe(el);
          }
          return;
        }
        const now = layoutTop();
        if (now === top) {
          checking = false;
          draw();
        } else {
          confirm(now);
        }
      });
      const observer = new IntersectionObserver((entries) => {
        reported = entries[entries.length - 1].isIntersecting;
        if (!reported || checking || cleanup !== null) return;
        checking = true;
        confirm(layoutTop());
      });
      // a chart already drawn on the page's first screen (analytics.firstpaint) is taken over at once
      if (bundle.hasFirstPaint && bundle.hasFirstPaint(context.model)) {
        draw();
        return () => cleanup();
      }
      observer.observe(el);
      return () => {
        observer.disconnect();
        if (cleanup) cleanup();
      };
    },
  };
};
"""


def _without_the_iri_grammar() -> None:
    """Have jsonschema, when first imported, leave out its IRI format checks.

    plotly's widget imports its notebook renderers, they import nbformat, it imports jsonschema, and
    jsonschema every optional format checker it finds: ``rfc3987_syntax`` builds a lark grammar of IRIs as it
    is imported, 1-2 s of the 3.5-5 s a dashboard's kernel took to render it (three alternated pairs here:
    4.8 / 3.8 / 5.3 s against 3.4 / 3.1 / 2.6 s). A dashboard validates no IRI. Only served dashboards' kernels
    do this (an analyst's kernel keeps jsonschema whole)."""
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)


@functools.lru_cache(maxsize=4)
def _shared_bundle_widget(url_path: str, ours: bool) -> type[go.FigureWidget]:
    _without_the_iri_grammar()
    # Each plain FigureWidget ships plotly's 5 MB bundle as its own module source, which the browser
    # parses once per chart (seconds each on a small machine), and draws every chart of a long page
    # before the first screen is complete. This subclass ships the small loader above instead.
    loader = _LAZY_LOADER.replace("BUNDLE_PATH", json.dumps(url_path))
    members = {"_esm": loader, "__module__": __name__}
    if ours:
        # our front end's view takes over the chart analytics.firstpaint drew with this id, if any
        members["_first_paint_id"] = traitlets.Unicode("").tag(sync=True)
    return type("SharedBundleFigureWidget", (go.FigureWidget,), members)


def _bundle_url(fig: go.Figure) -> tuple[str, bool] | None:
    """The served bundle's URL for ``fig``'s widget, and whether it is our front end (over plotly.js-basic)."""
    path = os.environ.get(SHARED_BUNDLE_ENV)
    if not path:
        return None
    # the full bundle is served beside the shared one only when the shared one is plotly.js-basic's
    full = os.environ.get(FULL_BUNDLE_ENV)
    ours = bool(full)
    # plotly.js-basic would draw nothing for another trace type: such a chart loads the full bundle
    if full and not {trace.type for trace in fig.data} <= BASIC_TRACE_TYPES:
        path, ours = full, False
    return os.environ.get("VOILA_BASE_URL", "/").rstrip("/") + "/" + path.lstrip("/"), ours


def as_widget(fig: go.Figure) -> go.FigureWidget:
    """``fig`` as a ``go.FigureWidget``; under ``analytics.serve`` one that loads the served bundle once
    (plotly.js-basic's when the server has it and ``fig``'s trace types are all in :data:`BASIC_TRACE_TYPES`)."""
    served = _bundle_url(fig)
    return go.FigureWidget(fig) if served is None else _shared_bundle_widget(*served)(fig)


#: Characters per line of a chart's "how to read this" line (plotly does not wrap a subtitle: a longer line ran
#: off a chart narrower than a wide screen), and the pixels the top margin grows by for each line after the first.
READING_WIDTH, _READING_LINE_PX = 140, 16


def _finish(fig: go.Figure, *, title: str, how_to_read: str, widget: bool) -> go.Figure:
    lines = textwrap.wrap(how_to_read, READING_WIDTH) or [how_to_read]
    fig.update_layout(template=HOUSE_TEMPLATE,
                      title=dict(text=title, subtitle=dict(text="<br>".join(lines), font=dict(size=12, color="#555"))),
                      margin=dict(t=HOUSE_TEMPLATE.layout.margin.t + _READING_LINE_PX * (len(lines) - 1)),
                      meta={"how_to_read": how_to_read})
    return as_widget(fig) if widget else fig


def _check(frame: pd.DataFrame, needed: Sequence[str], what: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{what} needs a pandas DataFrame; got {type(frame).__name__}.")
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(f"{what}: the frame lacks columns {missing}; it has {list(frame.columns)}.")


def _ci_text(low: pd.Series, high: pd.Series, fmt: str) -> list[str]:
    percent = fmt.endswith("%")
    out = []
    for lo, hi in zip(low, high, strict=True):
        if pd.isna(lo) or pd.isna(hi):
            out.append("no CI")
        elif percent:
            out.append(f"95% CI {100 * lo:.1f}–{100 * hi:.1f}%")
        else:
            out.append(f"95% CI {lo:.2f}–{hi:.2f}")
    return out


def _dates(values: pd.Series) -> list[str]:
    # plain ISO strings: widget serialisation of datetime64 arrays is not reliable across plotly versions
    return [v.strftime("%Y-%m-%d") for v in pd.to_datetime(pd.Series(list(values)))]


def _floats(values: pd.Series) -> list[float | None]:
    return [None if pd.isna(v) else float(v) for v in values]


#: Characters a vertical axis title may hold on a plot ~215 pixels high (the notebooks' figures refuse longer
#: ones; a chart's title names the metric, so its axis needs only the unit, 30 characters at most).
AXIS_TITLE_MAX = 32

#: Pixels under a plot taken by the axis's tick labels, and by its title.
_TICK_LABELS_PX, _AXIS_TITLE_PX = 30, 20


def legend_under_axis(height: int, bottom_margin: int, *, axis_title: bool) -> dict:
    """A horizontal legend under the plot, placed in pixels: its top ``bottom_margin`` less the tick labels'
    (and the axis title's) height above the figure's bottom edge. Plotly places a legend by shares of the
    plot's height, which on a short plot fall on the axis's labels.

    >>> legend_under_axis(400, 80, axis_title=True)["y"]
    0.075
    """
    from_bottom = bottom_margin - _TICK_LABELS_PX - (_AXIS_TITLE_PX if axis_title else 0)
    return dict(orientation="h", yref="container", y=from_bottom / height, yanchor="top", x=0, xanchor="left")


#: Characters per line of a bar chart's category label: a long one (a survey item's wording) is broken into
#: lines, or it would take the width from the bars.
LABEL_WIDTH = 48


def wrapped_labels(labels: pd.Series) -> list[str]:
    """The labels as text, each broken at word boundaries into lines of :data:`LABEL_WIDTH` characters (a
    category axis's labels: plotly does not wrap them, and a long one takes the width from the plot).

    >>> wrapped_labels(pd.Series(["short", "I know what information about donors I must not share on social media."]))
    ['short', 'I know what information about donors I must not<br>share on social media.']
    """
    return ["<br>".join(textwrap.wrap(label, LABEL_WIDTH)) or label for label in labels.astype(str)]


def _n_text(n: pd.Series) -> list[str]:
    return ["n = –" if pd.isna(v) else f"n = {int(v):,}" for v in n]


def trend_chart(
    frame: pd.DataFrame,
    *,
    metric: str,
    series: str | None = None,
    versions: pd.DataFrame | None = None,
    title: str | None = None,
    how_to_read: str | None = None,
    axis_title: str | None = None,
    bars: bool = False,
    reference: str | None = None,
    k: int | None = None,
    widget: bool = False,
) -> go.Figure:
    """A metric over time: one line (or bars) per series with its 95 % CI band and n, revisions marked.

    Parameters
    ----------
    frame : DataFrame
        Rows of a period table (``monthly_metrics``/``quarterly_metrics`` or the like): ``period``,
        ``value``, ``n``, ``ci_low``, ``ci_high``, ``suppressed``, and the ``series`` column if given.
    metric : str
        The metric's name in :data:`analytics.metrics.METRICS` (label, unit and format come from it).
    series : str, optional
        Column naming each line (e.g. ``"Fundraising"`` and ``"Organisation"``).
    versions : DataFrame, optional
        ``policy_versions`` (``version``, ``effective_on``), drawn as labelled vertical lines.
    title, how_to_read, axis_title : str, optional
        Override the metric's label, the default reading line and the value axis title (keep the unit). The
        axis is titled with the unit alone: the chart's title names the metric, and the two together ran
        past the plot's height ("Employee-post sentiment (mean VADER compound (−1 to +1))").
    bars : bool
        Bars instead of a line (for counts).
    reference : str, optional
        The series drawn as the steady reference (first colour whatever else is shown), e.g. the
        organisation beside a department.
    k : int, optional
        The threshold named in the "hidden" label (defaults to the configured k).
    widget : bool
        Return a ``go.FigureWidget`` (for ipywidgets dashboards) instead of a ``go.Figure``.

    Returns
    -------
    plotly Figure
        Traces per series: the CI band (``name`` ends with "95% CI") and the values; one trace named
        "hidden to protect a group of fewer than k people" marking suppressed periods on a separate band above the axis.

    Examples
    --------
    >>> rows = pd.DataFrame({"period": ["2026-01", "2026-02", "2026-03"], "value": [0.9, None, 0.95],
    ...     "n": [40, None, 52], "ci_low": [0.8, None, 0.87], "ci_high": [0.96, None, 0.98],
    ...     "suppressed": [False, True, False]})
    >>> versions = pd.DataFrame({"version": ["v2"], "effective_on": ["2026-02-14"]})
    >>> fig = trend_chart(rows, metric="adherence_rate", versions=versions, k=5)
    >>> [t.name for t in fig.data]
    ['Adherence rate 95% CI', 'Adherence rate', 'hidden to protect a group of fewer than 5 people']
    >>> fig.layout.yaxis.title.text, len(fig.layout.shapes)
    ('% of employee posts', 1)
    """
    _check(frame, ["period", "value", "n", "ci_low", "ci_high", "suppressed", *([series] if series else [])],
           "trend_chart")
    spec = METRICS.get(metric)
    label = spec.label if spec else metric
    unit = spec.unit if spec else ""
    fmt, _ = value_format(metric)
    data = frame.assign(x=period_start(frame["period"]).to_numpy()).dropna(subset=["x"]).sort_values("x")
    # the series in the caller's order (its colours follow it), not in the order of their first period
    groups = [(label, data)] if series is None else [
        (name, data[data[series] == name]) for name in pd.unique(frame[series]) if (data[series] == name).any()]
    fig = go.Figure()
    hidden_x: list[pd.Timestamp] = []
    hidden_text: list[str] = []
    others = iter(PALETTE[1:] if reference is not None else PALETTE)
    gaps = False
    for name, rows in groups:
        colour = PALETTE[0] if name == reference else next(others, PALETTE[-1])
        rows = rows.assign(_gap=False) if bars else _month_gaps(rows)
        gaps = gaps or bool(rows["_gap"].any())
        suppressed = rows["suppressed"].fillna(False).astype(bool).to_numpy()
        shown = rows.loc[~suppressed]
        values = rows["value"].where(~suppressed)
        if not shown["ci_low"].isna().all():
            # a hidden period breaks the band as it breaks the line: drawn across, it shows a range there
            band_x, band_y = ci_band(rows, x="x", breaks=rows["_gap"].to_numpy() | suppressed)
            fig.add_trace(go.Scatter(x=band_x, y=band_y, fill="toself", mode="lines", line=dict(width=0),
                                     fillcolor=_fade(colour), hoverinfo="skip", name=f"{name} 95% CI",
                                     legendgroup=str(name), showlegend=False))
        custom = [list(t) for t in zip(rows["period"].astype(str), _n_text(rows["n"]),
                                        _ci_text(rows["ci_low"], rows["ci_high"], fmt), strict=True)]
        x = _dates(rows["x"])
        # a series hidden in every period draws nothing (a month it has no row for draws nothing either): no
        # legend entry for no line (the hidden marks name it)
        listed = bool((~suppressed & ~rows["_gap"].to_numpy(bool)).any())
        hover = f"{name}<br>%{{customdata[0]}}: %{{y:{fmt}}}<br>%{{customdata[1]}}<br>%{{customdata[2]}}<extra></extra>"
        if bars:
            error = None if rows["ci_low"].isna().all() else dict(
                type="data", symmetric=False, array=_floats(rows["ci_high"] - values),
                arrayminus=_floats(values - rows["ci_low"]), color="#555", thickness=1)
            fig.add_trace(go.Bar(x=x, y=_floats(values), name=str(name), marker_color=colour, customdata=custom,
                                 hovertemplate=hover, legendgroup=str(name), error_y=error,
                                 showlegend=listed))
        else:
            fig.add_trace(go.Scatter(x=x, y=_floats(values), name=str(name), mode="lines+markers",
                                     line=dict(color=colour, width=2), marker=dict(size=6), customdata=custom,
                                     hovertemplate=hover, legendgroup=str(name), connectgaps=False,
                                     showlegend=listed))
        hidden_x += _dates(rows.loc[suppressed, "x"])
        hidden_text += [f"{name}, {p}: {privacy.hidden_label(k)}" for p in rows.loc[suppressed, "period"]]
    # hidden periods sit on their own band above the plot (yaxis2, 0..1) so no marker reads as a value
    fig.add_trace(go.Scatter(x=hidden_x, y=[0.5] * len(hidden_x), yaxis="y2", mode="markers",
                             marker=dict(symbol="x-thin-open", size=11, color=_HIDDEN_COLOUR, line=dict(width=2)),
                             name=privacy.hidden_label(k), text=hidden_text, hovertemplate="%{text}<extra></extra>",
                             showlegend=bool(hidden_x)))
    fig.update_layout(
        yaxis=dict(title=dict(text=axis_title or (unit[:1].upper() + unit[1:] if unit else label)), tickformat=fmt,
                   domain=[0, 0.9]),
        yaxis2=dict(domain=[0.92, 1.0], range=[0, 1], visible=False, fixedrange=True),
        xaxis=dict(title=dict(text="Month" if _monthly(data) else "Period start"), type="date"),
        barmode="group", height=440,
    )
    if not data.empty and data["suppressed"].fillna(False).astype(bool).all():
        fig.add_annotation(text=privacy.hidden_label(k), xref="paper", yref="paper", x=0.5, y=0.45, showarrow=False,
                           font=dict(size=15, color=_HIDDEN_COLOUR))
    if data.empty:
        fig.add_annotation(text="no data for this selection", xref="paper", yref="paper", x=0.5, y=0.45,
                           showarrow=False, font=dict(size=15, color=_HIDDEN_COLOUR))
    span = (data["x"].min() - pd.Timedelta(days=31), data["x"].max() + pd.Timedelta(days=31)) if len(data) else None
    if span is not None:
        add_revision_markers(fig, versions, span=span)
        period_ticks(fig, data["x"], quarterly=not _monthly(data))
    reading = how_to_read or _default_reading(spec, several=len(groups) > 1, bars=bars, gaps=gaps)
    return _finish(fig, title=title or label, how_to_read=reading, widget=widget)


#: A time axis over fewer months than this gets a tick per month (or quarter): left to itself, plotly ticks
#: three months' points weekly ("Sep 29, Oct 6, ...") under an axis titled "Month".
_FEW_MONTHS = 13


def period_ticks(fig: go.Figure, starts: pd.Series, *, quarterly: bool = False) -> go.Figure:
    """Tick a time axis at its months (``quarterly``: at its quarters) when it spans a few of them only;
    ``starts`` are the plotted period starts.

    >>> fig = period_ticks(go.Figure(), pd.Series(pd.to_datetime(["2024-10-01", "2024-12-01"])))
    >>> fig.layout.xaxis.dtick, fig.layout.xaxis.tickformat
    ('M1', '%b %Y')
    """
    dates = pd.to_datetime(pd.Series(starts)).dropna()
    if len(dates) and (dates.max() - dates.min()).days < 31 * _FEW_MONTHS:
        fig.update_xaxes(dtick="M3" if quarterly else "M1", tickformat="%b %Y")
    return fig


def _monthly(data: pd.DataFrame) -> bool:
    return bool(len(data)) and data["period"].astype(str).str.fullmatch(r"\d{4}-\d{2}").all()


def _month_gaps(rows: pd.DataFrame) -> pd.DataFrame:
    """A monthly series' rows (sorted by ``x``) with an empty row, ``_gap`` true, for each month missing
    between its first and last, where the line then breaks: drawn straight across, a month with nothing to
    measure (no incident resolved) read as a value between its neighbours. Other periods (survey waves) are
    points of their own, joined whatever lies between them."""
    rows = rows.assign(_gap=False)
    if not _monthly(rows):
        return rows
    periods = rows["period"].astype(str)
    missing = pd.period_range(periods.iloc[0], periods.iloc[-1], freq="M").strftime("%Y-%m").difference(periods)
    if missing.empty:
        return rows
    blank = rows.iloc[:0].reindex(range(len(missing))).assign(
        period=list(missing), x=period_start(pd.Series(list(missing))).to_numpy(), suppressed=False, _gap=True)
    return pd.concat([rows, blank], ignore_index=True).sort_values("x", ignore_index=True)


def ci_band(rows: pd.DataFrame, *, x: str, breaks: Sequence[bool] | pd.Series) -> tuple[list, list]:
    """The outline of the 95 % CI band (``ci_low`` to ``ci_high``) of ``rows`` in the order given, ``x`` their
    position: one closed shape per run of rows between two ``breaks`` (a hidden period, a month with nothing to
    measure), None between the shapes (plotly closes each run of a ``toself`` fill alone). Drawn across a break,
    the band would show a range where the line shows nothing.

    >>> rows = pd.DataFrame({"month": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-03-01"]),
    ...                      "ci_low": [0.8, None, 0.7], "ci_high": [0.9, None, 0.95]})
    >>> ci_band(rows, x="month", breaks=[False, True, False])
    (['2026-01-01', '2026-01-01', None, '2026-03-01', '2026-03-01'], [0.9, 0.8, None, 0.95, 0.7])
    """
    broken = np.asarray(breaks, dtype=bool)
    band_x: list = []
    band_y: list = []
    runs = broken.cumsum()
    for number in np.unique(runs):
        run = rows[(runs == number) & ~broken]
        if run.empty:
            continue
        if band_x:
            band_x.append(None)
            band_y.append(None)
        band_x += _dates(run[x]) + _dates(run[x][::-1])
        band_y += _floats(run["ci_high"]) + _floats(run["ci_low"][::-1])
    return band_x, band_y


def _default_reading(spec, *, several: bool, bars: bool, gaps: bool = False) -> str:
    better = "higher is better" if (spec is None or spec.higher_is_better) else "lower is better"
    band = ("; whiskers are 95% CIs" if bars else "; the shaded band is the 95% CI") if (
        spec is not None and spec.kind in ("rate", "mean", "ratio")) else ""
    mark = "bar" if bars else "point"
    lines = f"Each colour is one group, each {mark} one period" if several else f"Each {mark} is one period"
    broken = "; a break in the line is a month with nothing to measure" if gaps else ""
    return f"{lines} ({better}){band}{broken}; dashed lines mark policy revisions."


def _fade(colour: str, alpha: float = 0.18) -> str:
    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def bar_chart(
    frame: pd.DataFrame,
    *,
    category: str,
    value: str,
    title: str,
    axis_title: str,
    how_to_read: str,
    n: str | None = None,
    ci: tuple[str, str] | None = None,
    suppressed: str | None = None,
    colour: str | None = None,
    percent: bool = False,
    k: int | None = None,
    widget: bool = False,
) -> go.Figure:
    """Horizontal bars of a value per category, with n and 95 % CI where given; hidden rows say so.

    Parameters
    ----------
    frame : DataFrame
        One row per category (and per ``colour`` group, drawn side by side).
    category, value : str
        Columns for the bar labels and lengths.
    title, axis_title, how_to_read : str
        Title, value-axis title (with its unit) and the one-line reading guide.
    n : str, optional
        Column with the n behind each bar (shown at the bar's end and in the hover).
    ci : (str, str), optional
        Columns with the 95 % CI bounds (drawn as error bars).
    suppressed : str, optional
        Boolean column; those rows show "hidden to protect a group of fewer than k people" instead of a bar.
    colour : str, optional
        Column splitting the bars into groups (e.g. period).
    percent : bool
        Values are shares (0-1), shown as %.
    k : int, optional
        The threshold named in the "hidden" label.
    widget : bool
        Return a ``go.FigureWidget``.

    Returns
    -------
    plotly Figure
        One bar trace per ``colour`` group (one in all without), plus a text trace named
        "hidden to protect a group of fewer than k people" when rows are suppressed.

    Examples
    --------
    >>> rows = pd.DataFrame({"item": ["a", "b"], "share": [0.7, None], "n": [30, None],
    ...                      "hidden": [False, True]})
    >>> fig = bar_chart(rows, category="item", value="share", n="n", suppressed="hidden", percent=True, k=5,
    ...                 title="Clarity", axis_title="Favourable (% of respondents)", how_to_read="Longer is better.")
    >>> [t.name for t in fig.data]
    ['share', 'hidden to protect a group of fewer than 5 people']
    >>> fig.data[1].text
    ('hidden to protect a group of fewer than 5 people',)
    """
    needed = [category, value, *([n] if n else []), *(ci or ()), *([suppressed] if suppressed else []),
              *([colour] if colour else [])]
    _check(frame, needed, "bar_chart")
    frame = frame.reset_index(drop=True)  # rows are matched by label below: a repeated label would mix them up
    fmt = ".1%" if percent else ",.0f"
    hidden = frame[suppressed].fillna(False).astype(bool) if suppressed else pd.Series(False, index=frame.index)
    fig = go.Figure()
    groups = [(value, frame)] if colour is None else list(frame.groupby(colour, sort=False))
    for i, (name, rows) in enumerate(groups):
        shown = rows.loc[~hidden.loc[rows.index]]
        labels = _n_text(shown[n]) if n else None
        error = None
        if ci:
            error = dict(type="data", symmetric=False, array=_floats(shown[ci[1]] - shown[value]),
                         arrayminus=_floats(shown[value] - shown[ci[0]]), color="#555", thickness=1)
        custom = [list(t) for t in zip(_n_text(shown[n]) if n else [""] * len(shown),
                                        _ci_text(shown[ci[0]], shown[ci[1]], fmt) if ci else [""] * len(shown),
                                        strict=True)]
        fig.add_trace(go.Bar(y=wrapped_labels(shown[category]), x=_floats(shown[value]), orientation="h",
                             name=str(name),
                             marker_color=PALETTE[i % len(PALETTE)], error_x=error, text=labels,
                             textposition="outside" if not ci else "inside", insidetextanchor="start",
                             customdata=custom,
                             hovertemplate=f"%{{y}}: %{{x:{fmt}}}<br>%{{customdata[0]}}<br>%{{customdata[1]}}"
                                           "<extra></extra>"))
    if hidden.any():
        rows = frame.loc[hidden]
        fig.add_trace(go.Scatter(y=wrapped_labels(rows[category]), x=[0] * len(rows), mode="text",
                                 text=[privacy.hidden_label(k)] * len(rows), textposition="middle right",
                                 textfont=dict(color=_HIDDEN_COLOUR), name=privacy.hidden_label(k), hoverinfo="skip"))
    if frame.empty:
        fig.add_annotation(text="no data for this selection", xref="paper", yref="paper", x=0.5, y=0.5,
                           showarrow=False, font=dict(size=15, color=_HIDDEN_COLOUR))
    # a category's bars, or its label's lines if more (two-line labels of one bar each overlapped)
    lines = max((label.count("<br>") + 1 for label in wrapped_labels(frame[category])), default=1)
    per_category = max(28 * max(1, len(groups)), 16 * lines + 12)
    height = max(260, 120 + per_category * frame[category].nunique())
    reach = pd.to_numeric(frame[ci[1] if ci else value], errors="coerce").max()
    # whole-number ticks for small counts: plotly steps by 0.5 there, and ",.0f" shows "0, 1, 1, 2, 2"
    step = 1 if not percent and pd.notna(reach) and reach <= 10 else None
    fig.update_layout(xaxis=dict(title=dict(text=axis_title), tickformat=fmt, rangemode="tozero", dtick=step),
                      yaxis=dict(autorange="reversed", automargin=True), barmode="group", height=height,
                      showlegend=colour is not None,
                      legend=legend_under_axis(height, HOUSE_TEMPLATE.layout.margin.b, axis_title=True),
                      # the n inside a short bar: plotly shrinks it to fit, to 8 px and less
                      uniformtext=dict(minsize=10, mode="show"))
    return _finish(fig, title=title, how_to_read=how_to_read, widget=widget)
