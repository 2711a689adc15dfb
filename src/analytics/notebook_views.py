"""What the analyst notebooks show: one function per section, tidy frames and plotly figures out.

The six notebooks in ``notebooks/`` only choose and arrange: every table here is read through a
short-lived read-only connection (:func:`analytics.warehouse.read_only`, so a running ``ingest`` or
``build`` never blocks a notebook) and computed by the analysis modules (:mod:`~analytics.metrics`,
:mod:`~analytics.adherence`, :mod:`~analytics.trends`, :mod:`~analytics.survey`). Sections:

* data quality (01): :func:`files_by_format`, :func:`ingest_overview`, :func:`rejects_by_reason`,
  :func:`unmapped_survey_questions`, :func:`unattributed_accounts`, :func:`coverage_by_month`;
* adherence (02): :func:`metric_over_time`, :func:`adherence_by_area`, :func:`rules_fired`,
  :func:`revision_effects`, :func:`incidents_by_severity`, :func:`coaching_findings`;
* sentiment (03): :func:`sentiment_over_time`, :func:`seasonality`, :func:`negative_terms`;
* survey (04): :func:`likert_view`, :func:`favourability_view`, :func:`construct_changes`,
  :func:`reliability`, :func:`trust_drivers`, :func:`adherence_drivers`;
* training (05): :func:`training_posts`, :func:`training_groups_over_time`, :func:`training_effects`,
  :func:`training_baseline`, :func:`training_event_study`;
* the positive side (06): :func:`story_view`, :func:`mission_value_view`, :func:`recognition_view`,
  :func:`feedback_view`.

The views return tidy numeric frames; :func:`display_table` shows one as an analyst reads it (shares in %,
counts whole, hidden cells marked).

Every function takes ``warehouse`` (a path; ``None`` resolves through :mod:`analytics.config`, i.e.
``POLICY_PULSE_WAREHOUSE`` or ``data/warehouse.duckdb``) and, where it applies, ``period`` (``"2026-Q3"``,
``"2026-07"``; ``None`` = the latest quarter with data) and ``department`` (``None`` = everyone). Time
series run from the first month of data to the end of the period. Groups of people smaller than k are
suppressed (the period tables are published suppressed; the rest goes through
:func:`analytics.privacy.suppress_small_groups`); individual findings appear only under a pseudonym
(:func:`analytics.privacy.person_token`), for coaching.

Figures carry a title, the unit on the axis, n and the 95 % CI in the subtitle and hover, a one-line
"how to read this" caption, and a dashed marker at every policy revision on a time axis.
"""

from __future__ import annotations

import os
import re
import textwrap
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analytics import (
    adherence,
    charts,
    config,
    datasets,
    engagement,
    feedback,
    insights,
    priorities,
    privacy,
    survey,
    themes,
    trends,
    warehouse,
)
from analytics.codebook import load_codebook
from analytics.datasets import coverage_by_month, files_by_format, policy_revisions, rejects_by_reason
from analytics.metrics import ALL, METRICS, compare_periods, incident_figures_by_period
from analytics.periods import Period, local_months, parse_period, quarter_of
from analytics.privacy import person_token, suppress_small_groups

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

__all__ = [
    "MIN_LIFT",
    "NEGATIVE_COMPOUND",
    "NOT_STATED",
    "POSITIVE_COMPOUND",
    "REVISION_WINDOW",
    "FeedbackView",
    "NegativeTerms",
    "SeasonalView",
    "adherence_by_area",
    "adherence_drivers",
    "area_figure",
    "coaching_findings",
    "construct_changes",
    "coverage_by_month",
    "coverage_figure",
    "coverage_note",
    "definition",
    "display_table",
    "drivers_figure",
    "effects_of_revisions",
    "event_study_figure",
    "favourability_figure",
    "favourability_heatmap",
    "favourability_view",
    "feedback_view",
    "files_by_format",
    "incidents_by_severity",
    "ingest_overview",
    "likert_figure",
    "likert_view",
    "markdown",
    "metric_figure",
    "metric_over_time",
    "mission_value_view",
    "negative_terms",
    "negative_terms_figure",
    "period_comparison",
    "policy_revisions",
    "recognition_view",
    "rejects_by_reason",
    "reliability",
    "resolve_department",
    "resolve_period",
    "revision_effects",
    "revision_figure",
    "revision_sentences",
    "rules_figure",
    "rules_fired",
    "seasonal_figure",
    "seasonality",
    "sentiment_figure",
    "sentiment_over_time",
    "story_view",
    "survey_change_figure",
    "survey_wave",
    "time_figure",
    "training_baseline",
    "training_effects",
    "training_event_study",
    "training_figure",
    "training_groups_by_department",
    "training_groups_over_time",
    "training_posts",
    "trust_drivers",
    "unattributed_accounts",
    "unmapped_survey_questions",
]

Warehouse = str | os.PathLike[str] | None

# the dashboards' house theme and palette, so a chart looks the same on every surface
_PALETTE = charts.PALETTE
_FAVOURABLE, _UNFAVOURABLE, _NEUTRAL = charts.PALETTE[0], charts.PALETTE[5], "#bfbfbf"
#: Months either side of a revision averaged for the descriptive "before / after" of a revision.
REVISION_WINDOW = 6
#: A VADER compound score at or above this is a positive text, at or below its negative a negative one
#: (the package authors' convention).
POSITIVE_COMPOUND = 0.05
NEGATIVE_COMPOUND = -0.05
#: A theme word must be at least this many times as common among the most negative texts as elsewhere.
MIN_LIFT = 2.0
#: How a respondent who did not state a department is labelled (a group of its own, k-checked like any).
NOT_STATED = "(not stated)"


# --- reading --------------------------------------------------------------------------------------

def _query(sql: str, params: Sequence[object] | None = None, *, warehouse_file: Warehouse = None) -> pd.DataFrame:
    with warehouse.read_only(warehouse_file) as con:
        return con.execute(sql, list(params or [])).df()


def _months(values: pd.Series) -> pd.Series:
    """Month labels (``YYYY-MM`` or dates) as tz-naive month-start timestamps."""
    return pd.to_datetime(values.astype(str).str[:7] + "-01")


def _k() -> int:
    return config.get_settings().k


def _empty() -> str:
    return f"Nothing to show: no data yet, or every group has fewer than {_k()} people."


def resolve_period(period: str | None = None, *, warehouse_file: Warehouse = None) -> Period:
    """The period a notebook reports on: ``period`` parsed, or the latest quarter with posts. A period
    outside the months with posts raises :class:`analytics.datasets.UnreportablePeriod` naming them, as the
    report does: its views would be empty, or show the nearest data under the wrong label."""
    if period:
        chosen = parse_period(period)
        datasets.check_has_posts(chosen, warehouse_file=warehouse_file)
        return chosen
    return datasets.latest_quarter(warehouse_file=warehouse_file)


def resolve_department(department: str | None = None, *, warehouse_file: Warehouse = None) -> str | None:
    """The department a notebook is about: ``None`` (everyone) or one on the roster. Any other name raises
    :class:`ValueError` listing the roster's departments: a misspelt one would otherwise read as a department
    without data."""
    if not department:
        return None
    known = sorted(_query("SELECT DISTINCT department FROM employees WHERE department IS NOT NULL",
                          warehouse_file=warehouse_file)["department"])
    if department not in known:
        raise ValueError(f"No department {department!r} on the roster; choose one of {', '.join(known)} "
                         "(or None for everyone).")
    return department


def _period_kind(chosen: Period) -> str:
    """``"quarter"`` or ``"month"``: which of the published tables (and groupings) holds the period."""
    if chosen.kind != "custom":
        return chosen.kind
    raise ValueError(f"Period {chosen.label!r}: choose a quarter (2026-Q3) or a month (2026-07).")


def markdown(sentences: Sequence[str]):
    """The sentences as a Markdown bullet list for display in a notebook."""
    from IPython.display import Markdown

    return Markdown(insights.as_markdown(sentences))


# --- tables ---------------------------------------------------------------------------------------

#: Columns of counts (posts, people, comments, clicks...): whole numbers.
_COUNT_COLUMN = re.compile(r"n|n_\w+|\w+_n_\w+|docs_\w+|\w*mentions|clicks|violations|successes|files|rows_\w+")
#: Columns of shares of something (0 to 1): shown as percentages.
_SHARE_COLUMN = re.compile(r"(\w+_)?share(_\w+)?|(un)?favourable|neutral")
_P_COLUMN = re.compile(r"p_value|p_adjusted|\w+_p")
#: A CI bound: in the unit of the estimate it follows (every view puts the bounds right after it).
_CI_COLUMN = re.compile(r"(\w+_)?ci_(low|high)")
_SCORE_COLUMN = re.compile(r"\w*sentiment")
_TIMES_COLUMN = re.compile(r"lift|\w+_ratio")
#: Columns in the unit of the table's metric, when :func:`display_table` is told it.
_METRIC_COLUMNS = ("value", "estimate", "lift", "mean_before", "mean_after")


def _p_text(p_value: float) -> str:
    return "< 0.001" if p_value < 0.001 else f"{p_value:.3f}"


def _column_kind(frame: pd.DataFrame, column: str, before: str | None, metric: str | None) -> str:
    """How a column of a view's table reads: one of the keys of :data:`_FORMATS`, ``"metric"`` or
    ``"metric change"`` (in the unit of ``metric``), ``"term"`` (in the unit of its row's ``term``), ``"date"`` or
    ``"as is"``; ``before`` is how the column before it (not a CI bound) reads."""
    name = re.sub(r"^(org|previous)_", "", column)
    spec = METRICS.get(name)
    if _CI_COLUMN.fullmatch(column):
        return before or "as is"
    if metric and (column in _METRIC_COLUMNS or column.endswith("change")):
        return "metric change" if column.endswith("change") else "metric"
    if column == "estimate" and "term" in frame:
        return "term"
    if _P_COLUMN.fullmatch(column):
        return "p"
    if _COUNT_COLUMN.fullmatch(column) or (spec is not None and spec.kind == "count"):
        return "count"
    if _SHARE_COLUMN.fullmatch(column) or (spec is not None and spec.kind in ("rate", "ratio")):
        return "percent"
    if column.endswith("change"):
        return "points" if before == "percent" else "score"
    if _SCORE_COLUMN.fullmatch(column) or (spec is not None and spec.kind == "mean"):
        return "score"
    if _TIMES_COLUMN.fullmatch(column):
        return "times"
    if pd.api.types.is_datetime64_any_dtype(frame[column]):
        return "date"
    return "number" if pd.api.types.is_float_dtype(frame[column]) else "as is"


_FORMATS = {
    "count": lambda v: f"{int(v):,}",
    "percent": lambda v: insights.format_percent(v, 1),
    "points": insights.format_points,
    "score": insights.format_signed,
    "times": lambda v: f"{v:,.2f}×",
    "ratio": lambda v: f"{v:.2f}",
    "p": _p_text,
    "number": lambda v: f"{v:,.2f}",
}


def _term_kind(term: object) -> str:
    """The unit of an estimate of :func:`analytics.trends.training_effect` by its term: a risk difference is
    a difference of two shares (percentage points), an odds ratio a ratio."""
    return "points" if str(term).endswith("risk_difference") else "ratio" if str(term).endswith("ratio") else "number"


def display_table(frame: pd.DataFrame, *, metric: str | None = None) -> Styler:
    """A view's table as a notebook shows it: counts whole (``Int64``), shares as percentages, a change of a
    share in percentage points, a CI bound like the estimate before it, p-values to three decimals, lifts
    and ratios with a "×", scores signed; missing cells "–", those of a suppressed row "hidden". The units
    are read from the column names (and :data:`analytics.metrics.METRICS`); the numbers stay the view's.

    Parameters
    ----------
    frame : DataFrame
        A table of this module (not changed).
    metric : str, optional
        The metric of :data:`analytics.metrics.METRICS` whose values the columns ``value``, ``estimate``,
        ``lift``, ``mean_before``, ``mean_after`` and whose changes the columns ending in ``change`` hold
        (the effects of revisions on the adherence rate: ``"adherence_rate"``).

    Returns
    -------
    pandas.io.formats.style.Styler
        Of a copy of ``frame`` whose count columns of whole numbers are ``Int64``.

    Examples
    --------
    >>> table = pd.DataFrame({"n_posts": [120.0, None], "share": [0.123, None], "ci_low": [0.1, None],
    ...                       "ci_high": [0.15, None], "suppressed": [False, True]})
    >>> shown = display_table(table)
    >>> str(shown.data["n_posts"].dtype), "12.3%" in shown.to_html(), "hidden" in shown.to_html()
    ('Int64', True, True)
    """
    if metric is not None and metric not in METRICS:
        raise ValueError(f"Unknown metric {metric!r}; choose one of {sorted(METRICS)} (or None).")
    kinds: dict[str, str] = {}
    before = None
    for column in frame.columns:
        kinds[column] = _column_kind(frame, column, before, metric)
        before = before if _CI_COLUMN.fullmatch(column) else kinds[column]
    shown = frame.copy()
    for column in [c for c, kind in kinds.items() if kind == "count"]:
        values = pd.to_numeric(shown[column], errors="coerce")
        whole = values.notna().eq(shown[column].notna()).all() and bool((values.dropna() % 1 == 0).all())
        # a hidden count stays missing, not NaN beside whole numbers (which turns them into 12.0)
        shown[column] = values.astype("Int64") if whole else shown[column]
        kinds[column] = "count" if whole else "number"
    hidden = (shown["suppressed"].astype("boolean").fillna(False).to_numpy(bool) if "suppressed" in shown
              else np.zeros(len(shown), bool))
    every_row = np.ones(len(shown), bool)
    styler = shown.style
    for column, kind in kinds.items():
        if kind == "term":
            units = shown["term"].map(_term_kind)
            for unit in units.unique():
                styler = _format_cells(styler, _FORMATS[unit], rows=(units == unit).to_numpy(), column=column,
                                       hidden=hidden)
        elif (formatter := _formatter(kind, metric)) is not None:
            styler = _format_cells(styler, formatter, rows=every_row, column=column, hidden=hidden)
    return styler


def _formatter(kind: str, metric: str | None) -> Callable[[Any], str] | None:
    if kind == "metric":
        return lambda v: insights.format_value(metric, v)
    if kind == "metric change":
        return lambda v: insights.format_change(metric, v)
    if kind == "date":
        return lambda v: v.strftime("%Y-%m-%d" if v == v.normalize() else "%Y-%m-%d %H:%M")
    return _FORMATS.get(kind)


def _format_cells(styler: Styler, formatter: Callable[[Any], str], *, rows: np.ndarray, column: str,
                  hidden: np.ndarray) -> Styler:
    """``formatter`` on the cells of ``column`` in ``rows``; a missing cell reads "hidden" in a suppressed row,
    "–" elsewhere."""
    for subset, missing in ((rows & ~hidden, "–"), (rows & hidden, "hidden")):
        if subset.any():
            styler = styler.format(formatter, subset=(subset, [column]), na_rep=missing)
    return styler


# --- figures --------------------------------------------------------------------------------------

_BOTTOM_MARGIN = 150
_TOP_MARGIN = 95
#: The pixels of a figure that are not its plot: a figure of rows sets its height to this plus the rows'.
_MARGINS = _TOP_MARGIN + _BOTTOM_MARGIN


def _figure(title: str, subtitle: str, caption: str, *, y_title: str, x_title: str = "",
            percent: bool = False, height: int = 460) -> go.Figure:
    if len(y_title) > charts.AXIS_TITLE_MAX:
        raise ValueError(f"y_title {y_title!r} is longer than {charts.AXIS_TITLE_MAX} characters and would run past "
                         "the plot; say the rest in the title, subtitle or how-to-read line.")
    fig = go.Figure()
    fig.update_layout(
        title={"text": title, "subtitle": {"text": subtitle}, "x": 0.0, "xanchor": "left"},
        template=charts.HOUSE_TEMPLATE, height=height, meta={"how_to_read": caption},
        margin={"l": 70, "r": 30, "t": _TOP_MARGIN, "b": _BOTTOM_MARGIN}, hovermode="x unified",
        legend=charts.legend_under_axis(height, _BOTTOM_MARGIN, axis_title=bool(x_title)),
        xaxis_title=x_title, yaxis_title=y_title, yaxis_automargin=True,  # long category labels widen the margin
    )
    if percent:
        fig.update_yaxes(tickformat=".0%")
    # placed in pixels below the plot, so it sits under the axis and legend whatever the figure's height
    fig.add_annotation(text=_wrap(f"<i>How to read this:</i> {caption}"), xref="paper", yref="paper", x=0, y=0,
                       yshift=-95, xanchor="left", yanchor="top", showarrow=False, align="left", font={"size": 12})
    return fig


def _wrap(text: str, width: int = 125) -> str:
    """Break a caption into lines for plotly (which does not wrap text by itself)."""
    return "<br>".join(textwrap.wrap(text, width, break_long_words=False))


def _nothing(fig: go.Figure, why: str) -> go.Figure:
    """Say on the figure why it is empty (too few people, no data yet) instead of drawing blank axes."""
    fig.add_annotation(text=why, xref="paper", yref="paper", x=0.5, y=0.5, showarrow=False, font={"size": 14})
    return fig


def _add_revisions(fig: go.Figure, revisions: pd.DataFrame, *, start: pd.Timestamp | None = None,
                   end: pd.Timestamp | None = None) -> go.Figure:
    """A dashed vertical line and a label at every policy revision inside the x range (the dashboards' markers)."""
    span = None if start is None or end is None else (pd.Timestamp(start), pd.Timestamp(end))
    return charts.add_revision_markers(fig, revisions, span=span)


def _hover(frame: pd.DataFrame, *, percent: bool, n_label: str) -> list[str]:
    def fmt(v: float) -> str:
        return insights.format_percent(v, 1) if percent else insights.format_signed(v, 3)

    return [f"{fmt(r.value)} (95% CI {fmt(r.ci_low)} to {fmt(r.ci_high)}), n = "
            f"{'hidden' if pd.isna(r.n) else f'{int(r.n):,}'} {n_label}" for r in frame.itertuples()]


def _has_interval(series: pd.DataFrame) -> bool:
    return "ci_low" in series and bool(pd.to_numeric(series["ci_low"], errors="coerce").notna().any())


def _n_text(series: pd.DataFrame, *, group: str | None, n_label: str) -> str:
    """The n of a chart: the months' n summed, or per line when it has several (the lines may count the same
    posts or respondents: the areas of one post, the constructs of one answer sheet)."""
    unit = f" {n_label}" if n_label else ""
    n = pd.to_numeric(series["n"], errors="coerce").fillna(0) if len(series) else pd.Series(dtype=float)
    if group is None or n.empty:
        return f"n = {int(n.sum()):,}{unit} in all"
    per_line = n.groupby(series[group]).sum()
    low, high = int(per_line.min()), int(per_line.max())
    return f"n = {low:,}{unit} per line" if low == high else f"n = {low:,} to {high:,}{unit} per line"


def time_figure(
    series: pd.DataFrame,
    *,
    title: str,
    y_title: str,
    how_to_read: str,
    revisions: pd.DataFrame,
    group: str | None = None,
    percent: bool = False,
    n_label: str = "",
) -> go.Figure:
    """A monthly series (one line per ``group``) with its 95 % CI band and the policy revisions.

    ``series`` has ``month``, ``value``, ``n``, ``ci_low``, ``ci_high`` (and ``group``); hidden
    (suppressed) months are gaps in the line and in its band (:func:`analytics.charts.ci_band`).
    """
    # every month hidden is not "no data": it reads "n = 0" beside "no data yet, or fewer than k people"
    all_hidden = (len(series) > 0 and series["value"].isna().all() and "suppressed" in series
                  and series["suppressed"].fillna(False).astype(bool).any())
    subtitle = "; ".join([y_title, *(["shaded band = 95% CI"] if _has_interval(series) else []),
                          "n hidden" if all_hidden else _n_text(series, group=group, n_label=n_label),
                          *([f"gaps = {privacy.hidden_label()}"] if group else [])])
    fig = _figure(title, subtitle, how_to_read, y_title=y_title, percent=percent)
    if all_hidden:
        return _nothing(fig, f"Every month is {privacy.hidden_label()}.")
    if series.empty or series["value"].isna().all():
        return _nothing(fig, _empty())
    groups = [(None, series)] if group is None else list(series.groupby(group, sort=True))
    for i, (name, part) in enumerate(groups):
        part = part.sort_values("month")
        color = _PALETTE[i % len(_PALETTE)]
        label = str(name) if name is not None else y_title
        # the band breaks where the line does (a hidden month) and where there is no interval
        band_x, band_y = charts.ci_band(part, x="month",
                                        breaks=part[["value", "ci_low", "ci_high"]].isna().any(axis=1))
        fig.add_trace(go.Scatter(
            x=band_x, y=band_y, fill="toself", fillcolor=color, opacity=0.15,
            line={"width": 0}, hoverinfo="skip", showlegend=False, legendgroup=label, name=f"{label} 95% CI"))
        fig.add_trace(go.Scatter(
            x=part["month"], y=part["value"], mode="lines+markers", name=label, legendgroup=label,
            line={"color": color, "width": 2}, marker={"size": 5}, connectgaps=False,
            hovertext=_hover(part, percent=percent, n_label=n_label), hoverinfo="text+name"))
    if len(series):
        _add_revisions(fig, revisions, start=series["month"].min(), end=series["month"].max())
        charts.period_ticks(fig, series["month"])
    fig.update_layout(showlegend=group is not None)
    return fig


def definition(metric: str) -> str:
    """The metric's one-line definition, to show next to its chart.

    Examples
    --------
    >>> definition("adherence_rate").split(":")[0]
    'Adherence rate (% of employee posts)'
    """
    spec = METRICS[metric]
    return f"{spec.label} ({spec.unit}): {spec.definition}"


_HOW_TO_READ = {
    "rate": "each point is one month; higher is {better}; the band is the 95% CI; dashed lines are policy revisions.",
    "mean": "each point is the month's mean score; above 0 is positive; the band is the 95% CI; dashed lines are "
            "policy revisions.",
    "count": "each point is one month's count; dashed lines are policy revisions.",
    "median": "each point is the month's median; lower is better; dashed lines are policy revisions.",
    "ratio": "each point is one month; the band is the 95% CI; dashed lines are policy revisions.",
}


def metric_figure(series: pd.DataFrame, *, metric: str, revisions: pd.DataFrame, by: str | None = None) -> go.Figure:
    """:func:`time_figure` of a :func:`metric_over_time` table, labelled from the metric's definition."""
    spec = METRICS[metric]
    better = "better" if spec.higher_is_better else "worse"
    title = spec.label + (f" by {by}" if by else "") + " per month"
    return time_figure(series, group="group" if by else None, title=title, y_title=spec.unit,
                       percent=spec.kind in ("rate", "ratio"), revisions=revisions,
                       n_label="posts" if spec.name in ("adherence_rate", "employee_sentiment") else "",
                       how_to_read=_HOW_TO_READ[spec.kind].format(better=better))


def period_comparison(
    names: Sequence[str], *, period: str | None = None, department: str | None = None,
    warehouse_file: Warehouse = None,
) -> pd.DataFrame:
    """Each metric in ``period`` against the previous period of equal length
    (:func:`analytics.metrics.compare_periods` on the published quarterly or monthly table). ``department``
    applies to the metrics about people; the others are the organisation's, and their sentences
    (:func:`analytics.insights.metric_sentence`) say so when a department was chosen.

    Returns
    -------
    DataFrame
        One row per metric with the columns of :func:`analytics.metrics.compare_periods`, ``department``
        (the department the row describes, :data:`analytics.metrics.ALL` for everyone) and
        ``chosen_department`` (``department`` as asked, None for everyone).
    """
    chosen = resolve_period(period, warehouse_file=warehouse_file)
    kind = _period_kind(chosen)
    previous = chosen.previous().label
    table = datasets.metric_table(kind, periods=[chosen.label, previous], warehouse_file=warehouse_file)
    groups = {name: department if department and METRICS[name].by_people else ALL for name in names}
    rows = [compare_periods(table, metric=name, current=chosen.label, previous=previous,
                            department=group).assign(department=group, chosen_department=department or None)
            for name, group in groups.items()]
    return pd.concat(rows, ignore_index=True)


# --- 01 data quality ------------------------------------------------------------------------------

def ingest_overview(*, warehouse_file: Warehouse = None) -> pd.DataFrame:
    """What was loaded from which file.

    Returns
    -------
    DataFrame
        One row per file and table it fed, oldest load first: ``file_name``, ``format``, ``table_name``,
        ``rows_read``, ``rows_loaded``, ``rows_rejected``, ``loaded_at`` (UTC).
    """
    return _query(
        """SELECT file_name, format, table_name, rows_read, rows_loaded, rows_rejected, finished_at AS loaded_at
           FROM ingest_log ORDER BY finished_at, file_name, table_name""", warehouse_file=warehouse_file)


def unmapped_survey_questions(*, warehouse_file: Warehouse = None) -> pd.DataFrame:
    """Survey questions that are not in the codebook (``survey_answers.mapped = false``).

    Returns
    -------
    DataFrame
        ``item_id`` (the export's column id), ``question``, ``n_answers``, ``n_responses``, ``files``.
    """
    return _query(
        """SELECT a.item_id, any_value(a.question) AS question, count(*) AS n_answers,
                  count(DISTINCT a.response_id) AS n_responses,
                  string_agg(DISTINCT l.file_name, ', ') AS files
           FROM survey_answers a
           LEFT JOIN (SELECT DISTINCT file_sha256, file_name FROM ingest_log) l
             ON l.file_sha256 = a.source_file_sha256
           WHERE NOT a.mapped
           GROUP BY a.item_id ORDER BY n_answers DESC, a.item_id""", warehouse_file=warehouse_file)


def unattributed_accounts(*, warehouse_file: Warehouse = None) -> pd.DataFrame:
    """Accounts whose posts could not be attributed to an employee or to the organisation.

    The account is shown by its pseudonymous key (first 12 characters), never by handle.

    Returns
    -------
    DataFrame
        ``platform``, ``account`` (key prefix), ``n_posts``, ``first_post``, ``last_post``.
    """
    return _query(
        """SELECT platform, coalesce(left(account_key, 12), '(no handle)') AS account, count(*) AS n_posts,
                  min(published_at) AS first_post, max(published_at) AS last_post
           FROM posts WHERE account_type = 'unattributed'
           GROUP BY ALL ORDER BY n_posts DESC, platform, account""", warehouse_file=warehouse_file)


def coverage_note(*, warehouse_file: Warehouse = None) -> str:
    """One line saying what data the notebook covers (months, platforms, missing platform-months)."""
    return insights.coverage_sentence(coverage_by_month(warehouse_file=warehouse_file))


def coverage_figure(coverage: pd.DataFrame, *, revisions: pd.DataFrame) -> go.Figure:
    """Heat map of posts per platform and month; missing platform-months are marked with a cross."""
    wide = coverage.pivot(index="platform", columns="month", values="n_posts")
    fig = _figure("Posts loaded per platform and month", f"posts (all accounts); n = {int(wide.values.sum()):,} "
                  "posts; × = no post that month", "darker cells hold more posts; a cross is a month with no post "
                  "on that platform, usually a missing export.", y_title="platform", height=380)
    fig.add_trace(go.Heatmap(z=wide.values, x=list(wide.columns), y=list(wide.index), colorscale="Blues",
                             colorbar={"title": "posts"},
                             hovertemplate="%{y}, %{x|%Y-%m}: %{z} posts<extra></extra>"))
    gaps = coverage[coverage["gap"]]
    if len(gaps):
        fig.add_trace(go.Scatter(x=gaps["month"], y=gaps["platform"], mode="markers", name="no posts",
                                 marker={"symbol": "x", "size": 12, "color": _UNFAVOURABLE},
                                 hovertemplate="%{y}, %{x|%Y-%m}: no posts<extra></extra>"))
    fig.update_layout(hovermode="closest", showlegend=False)
    return _add_revisions(fig, revisions, start=coverage["month"].min(), end=coverage["month"].max())


# --- 02 adherence ---------------------------------------------------------------------------------

def metric_over_time(
    metric: str,
    *,
    by: str | None = None,
    department: str | None = None,
    period: str | None = None,
    warehouse_file: Warehouse = None,
) -> pd.DataFrame:
    """A metric of the published (already suppressed) monthly table, up to the end of ``period``.

    Parameters
    ----------
    metric : str
        A name of :data:`analytics.metrics.METRICS` (``adherence_rate``, ``employee_sentiment``...).
    by : {None, "department", "platform"}
        One line for everyone, or one per department or platform.
    department : str, optional
        Only this department (cannot be combined with ``by="platform"``: department x platform is
        never published, so small groups stay provably hidden).

    Returns
    -------
    DataFrame
        ``month`` (month start), ``group`` (the department/platform, or the metric's label), ``value``,
        ``n``, ``n_people``, ``successes``, ``sd``, ``ci_low``, ``ci_high``, ``suppressed``.
    """
    if metric not in METRICS:
        raise ValueError(f"Unknown metric {metric!r}; choose one of {sorted(METRICS)}.")
    if by not in (None, "department", "platform"):
        raise ValueError(f"by={by!r}: choose None, 'department' or 'platform'.")
    if department and by == "platform":
        raise ValueError("Department x platform is never published (small groups could be recovered); "
                         "choose by=None for one department, or drop the department filter.")
    table = datasets.metric_series(metric, department=department or (None if by == "department" else ALL),
                                   platform=None if by == "platform" else ALL, through=period,
                                   warehouse_file=warehouse_file)
    table["group"] = table[by] if by else (department or METRICS[metric].label)
    columns = ["month", "group", "value", "n", "n_people", "successes", "sd", "ci_low", "ci_high", "suppressed"]
    return table[columns].sort_values(["group", "month"], ignore_index=True)


def adherence_by_area(
    *, period: str | None = None, department: str | None = None, warehouse_file: Warehouse = None
) -> pd.DataFrame:
    """Monthly adherence per policy area: the share of employee posts without a (non-dismissed)
    medium or high finding in that area, up to the end of ``period``.

    With ``department``, months in which the department had fewer than k posting employees are
    suppressed (decided on the department x month table of all departments, so that hidden cells
    cannot be recovered from the others).

    Returns
    -------
    DataFrame
        ``area``, ``month``, ``value`` (adherence rate), ``n`` (posts), ``n_people``, ``ci_low``,
        ``ci_high`` (Wilson 95 %), ``suppressed``.
    """
    chosen = resolve_period(period, warehouse_file=warehouse_file)
    posts = datasets.employee_posts(through=chosen, warehouse_file=warehouse_file)
    findings = datasets.employee_findings(warehouse_file=warehouse_file)
    by = ["month", "department"] if department else ["month"]
    pieces = []
    for area in adherence.AREAS:
        rates = adherence.adherence_rate(posts, findings[findings["area"] == area], by=by)
        if department:
            rates = rates[rates["department"] == department]
        pieces.append(rates.assign(area=area))
    table = pd.concat(pieces, ignore_index=True).rename(columns={"adherence_rate": "value", "n_posts": "n"})
    return table[["area", "month", "value", "n", "n_people", "ci_low", "ci_high", "suppressed"]]


def area_figure(by_area: pd.DataFrame, *, revisions: pd.DataFrame) -> go.Figure:
    """Monthly adherence per policy area (areas where a rule ever fired)."""
    fired = by_area.groupby("area")["value"].transform(lambda v: (v < 1).any())
    shown = by_area[fired.astype(bool)].rename(columns={"area": "group"})
    return time_figure(shown, group="group", title="Adherence by policy area", percent=True,
                       y_title="% of posts without a finding", revisions=revisions,
                       n_label="posts",
                       how_to_read="each line is one policy area; lower means more posts broke a rule of that "
                       "area; dashed lines are policy revisions.")


def rules_fired(
    *, period: str | None = None, department: str | None = None, warehouse_file: Warehouse = None
) -> pd.DataFrame:
    """Which rules fire on employee posts in ``period`` (dismissed findings excluded), with the
    plain-language explanation of each rule.

    With ``department``, every rule's counts are hidden (NA, ``suppressed``) when fewer than k of its
    employees posted in the period: no rule firing and a rule firing on one person's posts would look alike.

    Returns
    -------
    DataFrame
        One row per rule, most posts first: ``rule_id``, ``name`` (the id as words), ``area``,
        ``severity``, ``n_findings``, ``n_posts`` (distinct posts it fired on), ``share_of_posts`` (of the
        period's employee posts), ``explanation``, ``suppressed``.
    """
    chosen = resolve_period(period, warehouse_file=warehouse_file)
    posts = datasets.employee_posts(through=chosen, department=department, warehouse_file=warehouse_file)
    posts = posts[posts["month"] >= pd.Timestamp(chosen.start)]
    columns = ["rule_id", "name", "area", "severity", "n_findings", "n_posts", "share_of_posts", "explanation"]
    fired = priorities.rules_fired(posts, datasets.employee_findings(warehouse_file=warehouse_file))[columns]
    hidden = bool(department) and posts["author_key"].nunique() < _k()
    if hidden:
        fired = fired.assign(n_findings=np.nan, n_posts=np.nan, share_of_posts=np.nan).sort_values(
            "rule_id", ignore_index=True)
    return fired.assign(suppressed=hidden)


def rules_figure(rules: pd.DataFrame, *, period: str) -> go.Figure:
    """Horizontal bars: share of employee posts each rule fired on in the period."""
    shown = rules[rules["n_posts"] > 0].sort_values("n_posts")
    colors = {"high": _UNFAVOURABLE, "medium": "#bf9000", "low": _NEUTRAL}
    hidden = "suppressed" in rules and bool(rules["suppressed"].any())
    return _ranked_bars(
        shown, y="name", x="share_of_posts", title=f"Which rules fire, {period}",
        subtitle=f"% of the period's employee posts; n = {int(shown['n_posts'].sum()):,} post-rule hits; dismissed "
                 "findings excluded",
        caption="a longer bar is a rule broken more often; the colour is its severity (red-orange high, amber medium, "
                "grey low).", x_title="% of employee posts",
        colour=[colors.get(s, _NEUTRAL) for s in shown["severity"]], custom=("n_posts", "area", "severity"),
        hover="%{y}: %{x:.1%} of posts (%{customdata[0]} posts; %{customdata[1]}, %{customdata[2]})<extra></extra>",
        tickformat=".1%", empty=(f"Which rules fired is {privacy.hidden_label()}: fewer than {_k()} of the "
                                 "department's employees posted in this period." if hidden else
                                 "No rule fired on an employee post in this period."))


def _ranked_bars(shown: pd.DataFrame, *, y: str, x: str, title: str, subtitle: str, caption: str, x_title: str,
                 colour: str | list[str], hover: str, empty: str, custom: Sequence[str] = (),
                 tickformat: str | None = None, row_height: int = 32, **bar: object) -> go.Figure:
    """Horizontal bars, one per row of ``shown`` (in display order, bottom first), or why there are none."""
    fig = _figure(title, subtitle, caption, y_title="", x_title=x_title,
                  height=max(300, _MARGINS + row_height * len(shown)))
    fig.add_trace(go.Bar(y=shown[y], x=shown[x], orientation="h", marker={"color": colour},
                         customdata=np.column_stack([shown[c] for c in custom]) if custom and len(shown) else None,
                         hovertemplate=hover, **bar))
    if tickformat:
        fig.update_xaxes(tickformat=tickformat)
    fig.update_layout(hovermode="closest")
    return fig if len(shown) else _nothing(fig, empty)


def revision_sentences(effects: pd.DataFrame, *, revisions: pd.DataFrame, series: pd.DataFrame,
                       department: str | None = None) -> list[str]:
    """The effect of each revision in ``effects`` (:func:`revision_effects`) in words, then the revision in force
    in the months of ``series`` (:func:`metric_over_time`, its ``month``) that is too recent to measure, if any
    (:func:`analytics.insights.unmeasured_revision`): told last, it read as the latest revision. With
    ``department`` (the effects are its adherence's) each sentence names it: "no clear change" in one
    department read as the organisation's."""
    label = f"Adherence in {department}" if department else "Adherence"
    sentences = [insights.revision_sentence(row, label=label) for row in effects.to_dict("records")]
    if len(series):
        recent = insights.unmeasured_revision(revisions, effects, first=series["month"].min(),
                                              last=series["month"].max() + pd.offsets.MonthEnd(0))
        if recent is not None:
            sentences.append(insights.too_recent_sentence(recent))
    return sentences


def revision_effects(
    *, period: str | None = None, department: str | None = None, metric: str = "adherence_rate",
    warehouse_file: Warehouse = None,
) -> pd.DataFrame:
    """Effect of each policy revision on a metric's published monthly series up to the end of ``period``:
    :func:`effects_of_revisions`.

    Returns
    -------
    DataFrame
        The columns of :func:`effects_of_revisions`.
    """
    series = metric_over_time(metric, department=department, period=period, warehouse_file=warehouse_file)
    return effects_of_revisions(series, policy_revisions(warehouse_file=warehouse_file))


def effects_of_revisions(series: pd.DataFrame, revisions: pd.DataFrame) -> pd.DataFrame:
    """Effect of each policy revision on a monthly series: :func:`trends.interrupted_time_series`
    (weighted by the month's n, all fitted revisions jointly), every surface's one estimate of it.

    Revisions that leave fewer than 3 months on either side (such as the first version, in force from
    the start) cannot be fitted and are left out; of two revisions less than 3 months apart the later.

    Parameters
    ----------
    series : DataFrame
        ``month`` (month start), ``value``, ``n``; months without a value are left out.
    revisions : DataFrame
        ``version``, ``effective_on`` and, optionally, ``summary`` (:func:`policy_revisions`).

    Returns
    -------
    DataFrame
        One row per fitted revision: ``version``, ``summary``, the columns of
        :func:`trends.interrupted_time_series` (``interruption``, ``first_month_after``, ``level_change``,
        ``level_ci_low``, ``level_ci_high``, ``level_p``, ``slope_change``, ``slope_ci_low``,
        ``slope_ci_high``, ``slope_p``, ``n_before``, ``n_after``) and ``mean_before``, ``mean_after``,
        ``months_before``, ``months_after`` (the n-weighted mean of up to six months either side, not past
        another revision).
    """
    series = series.dropna(subset=["value"])
    series = series[series["n"] > 0]
    empty = pd.DataFrame(columns=_REVISION_COLUMNS)
    if series.empty or revisions.empty:
        return empty
    first, last = series["month"].min(), series["month"].max()
    candidates = []
    for row in revisions.assign(effective_on=pd.to_datetime(revisions["effective_on"])).itertuples():
        after = row.effective_on.to_period("M").to_timestamp()
        after = after if row.effective_on == after else after + pd.DateOffset(months=1)
        if (series["month"] < after).sum() >= 3 and (series["month"] >= after).sum() >= 3 and first < after <= last:
            candidates.append((row, after))
    # keep revisions whose segments all have 3 months; drop the later of two that crowd each other
    kept: list[tuple[object, pd.Timestamp]] = []
    for row, after in candidates:
        if not kept or ((series["month"] >= kept[-1][1]) & (series["month"] < after)).sum() >= 3:
            kept.append((row, after))
    if not kept:
        return empty
    its = trends.interrupted_time_series(series, value="value", weight="n",
                                         interruptions=[r.effective_on for r, _ in kept])
    starts = [after for _, after in kept]
    rows = []
    for j, (row, after) in enumerate(kept):
        lower = max(after - pd.DateOffset(months=REVISION_WINDOW), starts[j - 1] if j else first)
        upper = min(after + pd.DateOffset(months=REVISION_WINDOW), starts[j + 1] if j + 1 < len(starts)
                    else last + pd.DateOffset(months=1))
        before = series[(series["month"] >= lower) & (series["month"] < after)]
        later = series[(series["month"] >= after) & (series["month"] < upper)]
        rows.append({"version": row.version, "summary": getattr(row, "summary", ""),
                     "mean_before": _pooled(before), "mean_after": _pooled(later),
                     "months_before": len(before), "months_after": len(later)})
    return pd.concat([pd.DataFrame(rows), its], axis=1)


_REVISION_COLUMNS = ["version", "summary", "mean_before", "mean_after", "months_before", "months_after",
                     "interruption", "first_month_after", "level_change", "level_ci_low", "level_ci_high", "level_p",
                     "slope_change", "slope_ci_low", "slope_ci_high", "slope_p", "n_before", "n_after"]


def _pooled(series: pd.DataFrame) -> float:
    # weighting by n pools a rate exactly (sum of successes / sum of n) and a mean by its texts
    return float(np.average(series["value"], weights=series["n"])) if len(series) else np.nan


def revision_figure(series: pd.DataFrame, effects: pd.DataFrame, *, revisions: pd.DataFrame) -> go.Figure:
    """The monthly adherence rate with each fitted revision's level change (and 95 % CI) written at it."""
    fig = metric_figure(series, metric="adherence_rate", revisions=revisions)
    fig.update_layout(title={"text": "Adherence around each policy revision (interrupted time series)"})
    top = float(series["ci_high"].max()) if len(series) else 1.0
    for row in effects.to_dict("records"):
        text = (f"v{row['version']}: {insights.format_points(row['level_change'])}<br>"
                f"({insights.format_ci(row['level_ci_low'], row['level_ci_high'], scale='points')})")
        fig.add_annotation(x=pd.Timestamp(row["first_month_after"]).strftime("%Y-%m-%d"), y=top, text=text,
                           showarrow=True, arrowhead=2, ax=60, ay=-25, xanchor="left", font={"size": 11},
                           bgcolor="rgba(255,255,255,0.8)")
    return fig


def incidents_by_severity(*, period: str | None = None, warehouse_file: Warehouse = None) -> pd.DataFrame:
    """Incidents reported in ``period`` and how fast they were resolved, by severity and policy area.

    The figures are :func:`analytics.metrics.incident_figures_by_period`'s, as in the report and the dashboards: a
    median or self-reported share of fewer than k incidents would show one incident's own figure, so it is left
    out (NA), as is a share that could be worked out from the others and a total shown elsewhere (the period's,
    the area's, another month's or the quarter's).

    Returns
    -------
    DataFrame
        ``severity``, ``area``, ``n_incidents``, ``n_resolved``, ``median_hours_to_resolve`` (NA below k
        resolved), ``median_hours_to_report`` (from occurrence; NA below k reported with a time),
        ``self_reported_share`` (NA where hidden); high severity first, then most incidents.
    """
    chosen = resolve_period(period, warehouse_file=warehouse_file)
    quarter = quarter_of(chosen.start)  # a period's figures are hidden jointly with its quarter's months
    incidents = _query("""SELECT month, severity, area, detection, hours_to_report, hours_to_resolve
                          FROM incident_timings WHERE month >= ? AND month < ?""", [quarter.start, quarter.end],
                       warehouse_file=warehouse_file)
    columns = ["severity", "area", "n_incidents", "n_resolved", "median_hours_to_resolve", "median_hours_to_report",
               "self_reported_share"]
    if incidents.empty:
        return pd.DataFrame(columns=columns)
    figures = incident_figures_by_period(incidents, k=_k())
    figures = figures[(figures["period"] == chosen.label) & (figures["severity"] != ALL) & (figures["area"] != ALL)]
    if figures.empty:
        return pd.DataFrame(columns=columns)
    order = figures["severity"].map({"high": 0, "medium": 1}).fillna(2)
    return (figures.assign(_order=order).sort_values(["_order", "n_incidents", "area"], ascending=[True, False, True])
            [columns].reset_index(drop=True))


def coaching_findings(
    *, period: str | None = None, department: str | None = None, warehouse_file: Warehouse = None
) -> pd.DataFrame:
    """Individual findings of ``period`` for coaching conversations, pseudonymised.

    People appear only as ``[person:<key prefix>]`` (the same token the redacted text uses); dismissed
    findings are left out. For analysts only: leadership surfaces show aggregates.

    Returns
    -------
    DataFrame
        ``person``, ``department``, ``published`` (local date), ``platform``, ``rule_id``, ``area``,
        ``severity``, ``evidence_redacted``, ``post_uid``; ordered by person and date.
    """
    chosen = resolve_period(period, warehouse_file=warehouse_file)
    tz = config.get_settings().timezone
    params: list[object] = [chosen.start, chosen.end]
    where = ""
    if department:
        where = "AND p.department = ?"
        params.append(department)
    frame = _query(
        f"""SELECT p.author_key, p.department, CAST(p.published_at AT TIME ZONE '{tz}' AS DATE) AS published,
                   p.platform, f.rule_id, f.area, f.severity, f.evidence_redacted, f.post_uid
            FROM post_findings f JOIN post_facts p USING (post_uid)
            WHERE p.account_type = 'employee' AND NOT coalesce(f.dismissed, false)
              AND p.month >= ? AND p.month < ? {where}
            ORDER BY p.author_key, published, f.rule_id""", params, warehouse_file=warehouse_file)
    frame.insert(0, "person", frame.pop("author_key").map(person_token))
    return frame


# --- 03 sentiment ---------------------------------------------------------------------------------

_SENTIMENT_METRICS = {"employee_sentiment": "Employee posts", "organisation_sentiment": "Organisation posts",
                      "audience_sentiment": "Audience comments"}


def _survey_comment_scores(*, warehouse_file: Warehouse) -> pd.DataFrame:
    return _query(
        """SELECT c.response_id, r.department, r.submitted_at, s.compound, c.text
           FROM survey_comments c JOIN respondents r USING (response_id)
           JOIN sentiment s ON s.text_hash = sha256(c.text) AND s.status = 'scored'
           WHERE coalesce(r.finished, false) AND r.submitted_at IS NOT NULL""", warehouse_file=warehouse_file)


def sentiment_over_time(
    *, period: str | None = None, department: str | None = None, warehouse_file: Warehouse = None
) -> pd.DataFrame:
    """Mean VADER compound per month of employee posts, organisation posts, audience comments and
    survey comments, up to the end of ``period``.

    The first three come from the published monthly table. Survey comments are averaged per month of
    submission (:func:`trends.monthly_mean`) and months with fewer than k respondents are hidden. With
    ``department``, employee posts and survey comments are the department's; organisation posts and
    audience comments stay organisation-wide.

    Returns
    -------
    DataFrame
        ``group`` (the source), ``month``, ``value`` (mean compound, -1 to +1), ``n`` (texts),
        ``ci_low``, ``ci_high`` (t 95 %), ``suppressed``.
    """
    chosen = resolve_period(period, warehouse_file=warehouse_file)
    pieces = []
    for metric, label in _SENTIMENT_METRICS.items():
        part = metric_over_time(metric, department=department if metric == "employee_sentiment" else None,
                                period=chosen.label, warehouse_file=warehouse_file)
        pieces.append(part.assign(group=label))
    comments = _survey_comment_scores(warehouse_file=warehouse_file)
    comments = comments[pd.to_datetime(comments["submitted_at"], utc=True)
                        < pd.Timestamp(chosen.end).tz_localize(config.get_settings().timezone)]
    if len(comments):
        by = ["department"] if department else []
        means = trends.monthly_mean(comments, time="submitted_at", value="compound", by=by)
        people = comments.assign(month=local_months(comments["submitted_at"], config.get_settings().timezone))
        counts = people.groupby([*by, "month"], dropna=False)["response_id"].nunique().rename("n_people")
        means = means.merge(counts.reset_index(), on=[*by, "month"], how="left")
        means = suppress_small_groups(means, by=["month", *by], n="n_people", values=["mean", "n", "ci_low",
                                                                                     "ci_high"])
        if department:
            means = means[means["department"] == department]
        pieces.append(means.rename(columns={"mean": "value"}).assign(group="Survey comments"))
    columns = ["group", "month", "value", "n", "ci_low", "ci_high", "suppressed"]
    return pd.concat([p[columns] for p in pieces if len(p)], ignore_index=True)


def sentiment_figure(sentiment: pd.DataFrame, *, revisions: pd.DataFrame) -> go.Figure:
    """One line per source of text: mean VADER compound per month with its 95 % CI."""
    return time_figure(sentiment, group="group", title="Sentiment per month, by source of text",
                       y_title=METRICS["employee_sentiment"].unit, revisions=revisions, n_label="texts",
                       how_to_read="above 0 is positive, below 0 negative; compare the lines' movements rather "
                       "than their levels (audiences and staff write differently); dashed lines are policy revisions.")


@dataclass(frozen=True)
class SeasonalView:
    """STL parts of a monthly series, the test of its peak month, and why there is none (if so)."""

    parts: pd.DataFrame
    peak: pd.DataFrame
    message: str | None = None

    def sentence(self, *, label: str, chosen_department: str | None = None) -> str:
        """The peak in words, naming the months decomposed (:func:`analytics.insights.seasonality_sentence`);
        with ``chosen_department`` (the notebook's, which this organisation-wide series is not filtered to) it
        says the series is the organisation's."""
        months = self.parts["month"] if len(self.parts) else None
        window = None if months is None else f"{months.min():%Y-%m} to {months.max():%Y-%m}"
        return insights.seasonality_sentence(self.peak, label=label, window=window,
                                             chosen_department=chosen_department)


def seasonality(
    *, metric: str = "employee_sentiment", period: str | None = None, warehouse_file: Warehouse = None
) -> SeasonalView:
    """Seasonal decomposition (STL, :func:`trends.seasonal_decomposition`) of an organisation-wide
    monthly metric, and :func:`trends.seasonal_effect` of its peak calendar month (weighted by n).

    Needs 24 months; with fewer, both frames are empty and ``message`` says so.
    """
    series = metric_over_time(metric, period=period, warehouse_file=warehouse_file).dropna(subset=["value"])
    try:
        parts = trends.seasonal_decomposition(series, value="value")
    except ValueError as error:
        return SeasonalView(pd.DataFrame(), pd.DataFrame(), str(error))
    by_month = parts.groupby(parts["month"].dt.month)["seasonal"].mean()
    peak = trends.seasonal_effect(series, value="value", weight="n", month_of_year=int(by_month.idxmax()))
    return SeasonalView(parts, peak)


def seasonal_figure(view: SeasonalView, *, label: str, revisions: pd.DataFrame) -> go.Figure:
    """Observed monthly values with the STL trend, and the seasonal component below it (or why not)."""
    parts = view.parts
    if view.message is not None:
        fig = _figure(f"{label}: seasonal pattern", "not available", "the decomposition needs two full years of "
                      "months.", y_title="")
        fig.add_annotation(text=view.message, xref="paper", yref="paper", x=0.5, y=0.5, showarrow=False)
        return fig
    fig = _figure(f"{label}: trend and seasonal pattern (STL)", f"{METRICS['employee_sentiment'].unit}; "
                  f"{len(parts)} months", "the thick line is the trend without the seasons; the bars show how much "
                  "each month runs above or below it every year.", y_title="mean compound", height=600)
    fig.add_trace(go.Scatter(x=parts["month"], y=parts["observed"], mode="markers+lines", name="observed",
                             line={"color": _NEUTRAL}, marker={"color": _PALETTE[0], "size": 5}))
    fig.add_trace(go.Scatter(x=parts["month"], y=parts["trend"], mode="lines", name="trend",
                             line={"color": _PALETTE[0], "width": 3}))
    fig.add_trace(go.Bar(x=parts["month"], y=parts["seasonal"], name="seasonal", yaxis="y2",
                         marker={"color": [_FAVOURABLE if v >= 0 else _UNFAVOURABLE for v in parts["seasonal"]]}))
    # the months' labels sit under the upper plot: the gap below it holds them
    fig.update_layout(yaxis={"domain": [0.44, 1.0]}, yaxis2={"domain": [0.0, 0.28], "title": "seasonal",
                                                             "zeroline": True},
                      showlegend=True)
    return _add_revisions(fig, revisions, start=parts["month"].min(), end=parts["month"].max())


#: The comments' stopwords, and what posts add: their words spelt without apostrophes and their platforms' words.
_STOPWORDS = feedback.STOPWORDS | frozenset(["im", "ive", "dont", "cant", "today", "new", "amp", "via", "rt"])
_TOKEN = re.compile(r"[a-z][a-z']{2,}")
_PLACEHOLDER = re.compile(r"\[[^\]]*\]|https?://\S+|@\w+|#")


def _terms(text: str) -> set[str]:
    cleaned = _PLACEHOLDER.sub(" ", str(text).lower())
    return {t.strip("'") for t in _TOKEN.findall(cleaned)} - _STOPWORDS


def _texts(source: str, *, start: pd.Timestamp, end: pd.Timestamp, warehouse_file: Warehouse) -> pd.DataFrame:
    if source == "survey_comments":
        frame = _survey_comment_scores(warehouse_file=warehouse_file)
        frame["month"] = local_months(frame["submitted_at"], config.get_settings().timezone)
        frame["person"] = frame["response_id"]
    else:
        tz = config.get_settings().timezone
        table = {"employee_posts": "posts", "organisation_posts": "posts", "audience_comments": "audience_comments"}
        where = {"employee_posts": "AND t.account_type = 'employee'",
                 "organisation_posts": "AND t.account_type = 'organization'", "audience_comments": ""}
        person = "t.author_key" if source == "employee_posts" else "NULL"
        frame = _query(
            f"""SELECT t.text, s.compound, {person} AS person,
                       CAST(date_trunc('month', t.published_at AT TIME ZONE '{tz}') AS DATE) AS month
                FROM {table[source]} t JOIN sentiment s ON s.text_hash = sha256(t.text) AND s.status = 'scored'
                WHERE t.text IS NOT NULL {where[source]}""", warehouse_file=warehouse_file)
        frame["month"] = _months(frame["month"])
    return frame[(frame["month"] >= start) & (frame["month"] < end)]


@dataclass(frozen=True)
class NegativeTerms:
    """The words of the most negative texts of one source (:func:`negative_terms`) and what they rest on: the
    months searched, the texts of those months and how many of them are the most negative."""

    terms: pd.DataFrame
    source: str
    first_month: pd.Timestamp
    last_month: pd.Timestamp
    n_texts: int
    n_negative: int

    @property
    def source_label(self) -> str:
        """The source as words (``"employee posts"``)."""
        return self.source.replace("_", " ")

    @property
    def window(self) -> str:
        """The months searched (``"2025-10 to 2026-09"``)."""
        return f"{self.first_month:%Y-%m} to {self.last_month:%Y-%m}"

    def sentence(self, *, chosen_department: str | None = None) -> str:
        """The words in a sentence naming the months and the texts (:func:`analytics.insights.negative_terms_sentence`);
        with ``chosen_department`` (the notebook's, which these organisation-wide words are not filtered to) it
        says they are the organisation's."""
        return insights.negative_terms_sentence(self.terms, source=self.source_label, window=self.window,
                                                n_texts=self.n_texts, n_negative=self.n_negative,
                                                chosen_department=chosen_department)


def negative_terms(
    *,
    source: str = "employee_posts",
    period: str | None = None,
    months: int = 12,
    top: int = 15,
    warehouse_file: Warehouse = None,
) -> NegativeTerms:
    """Words over-represented in the most negative tenth of texts: a simple, transparent theme list.

    Texts of ``source`` (``employee_posts``, ``organisation_posts``, ``audience_comments`` or
    ``survey_comments``) from the ``months`` months ending with ``period`` are ranked by VADER compound;
    the "negative" texts are the lowest tenth that are negative at all (compound <= -0.05). For each
    word (lower-cased, three letters or more, stop words, links, handles and redaction placeholders
    removed) we count the texts containing it among the negative ones and among the rest. A word is
    listed when it is at least :data:`MIN_LIFT` times as common among the negative texts and at least k
    of them contain it (so nobody's own words are quoted); survey comments only when there are at least
    ``min_comments_shown`` (10 texts of the other sources). Organisation-wide: texts are not filtered by
    department.

    Returns
    -------
    NegativeTerms
        ``terms``: up to ``top`` rows, most negative texts first: ``term``, ``docs_negative``, ``docs_rest``,
        ``share_negative`` (of negative texts containing it), ``share_rest``, ``lift``
        (``share_negative / share_rest``; NaN when the word occurs in no other text), ``n_negative``,
        ``n_texts``, ``threshold`` (the compound score at the decile); and the ``source``, the months searched
        (``first_month``, ``last_month``), ``n_texts`` and ``n_negative`` (0 below the minimum of texts).
    """
    sources = ("employee_posts", "organisation_posts", "audience_comments", "survey_comments")
    if source not in sources:
        raise ValueError(f"source={source!r}: choose one of {sources}.")
    chosen = resolve_period(period, warehouse_file=warehouse_file)
    end = pd.Timestamp(chosen.end)
    start = end - pd.DateOffset(months=months)
    frame = _texts(source, start=start, end=end, warehouse_file=warehouse_file)
    columns = ["term", "docs_negative", "docs_rest", "share_negative", "share_rest", "lift", "n_negative",
               "n_texts", "threshold"]
    settings = config.get_settings()

    def view(terms: pd.DataFrame, n_negative: int) -> NegativeTerms:
        return NegativeTerms(terms, source, start, end - pd.DateOffset(months=1), len(frame), n_negative)

    minimum = settings.min_comments_shown if source == "survey_comments" else 10
    if len(frame) < minimum:
        return view(pd.DataFrame(columns=columns), 0)
    threshold = min(float(frame["compound"].quantile(0.1)), NEGATIVE_COMPOUND)
    negative = frame["compound"] <= threshold
    # words always used together (one sentence many texts share) are one theme, not a row each
    terms = [_terms(t) for t in frame["text"]]
    named = feedback.distinct_terms(terms).keys()
    in_negative = Counter(t for doc, neg in zip(terms, negative, strict=True) if neg for t in doc & named)
    in_rest = Counter(t for doc, neg in zip(terms, negative, strict=True) if not neg for t in doc & named)
    n_negative, n_rest = int(negative.sum()), int((~negative).sum())
    rows = [{"term": term, "docs_negative": count, "docs_rest": in_rest.get(term, 0)}
            for term, count in in_negative.items() if count >= settings.k]
    table = pd.DataFrame(rows, columns=["term", "docs_negative", "docs_rest"])
    table["share_negative"] = table["docs_negative"] / max(n_negative, 1)
    table["share_rest"] = table["docs_rest"] / max(n_rest, 1)
    # a word no other text uses has no lift (a share divided by zero), and is the most over-represented of all
    only_negative = table["docs_rest"] == 0
    table["lift"] = table["share_negative"] / table["share_rest"].where(~only_negative)
    table = table[only_negative | (table["lift"] >= MIN_LIFT)]
    table = table.assign(n_negative=n_negative, n_texts=len(frame), threshold=threshold)
    table = table.sort_values(["docs_negative", "lift", "term"], ascending=[False, False, True],
                              key=lambda column: column.fillna(np.inf) if column.name == "lift" else column)
    return view(table.head(top)[columns].reset_index(drop=True), n_negative)


def negative_terms_figure(view: NegativeTerms) -> go.Figure:
    """Bars: how many of the most negative texts contain each over-represented word."""
    shown = view.terms.iloc[::-1]
    return _ranked_bars(
        shown, y="term", x="docs_negative", title=f"Words of the most negative {view.source_label}, {view.window}",
        subtitle=f"texts containing the word, among the {view.n_negative:,} most negative of {view.n_texts:,} (lowest "
                 "10% by compound score); organisation-wide",
        caption="a long bar is a word many negative texts share; the label says how many times more common it is "
                "there than in the other texts.", x_title="negative texts containing the word",
        colour=_UNFAVOURABLE, hover="%{y}: %{x} negative texts (%{text})<extra></extra>", row_height=26,
        empty="Too few negative texts share a word to name a theme.",
        text=["only there" if pd.isna(v) else f"{v:.1f}×" for v in shown["lift"]], textposition="outside")


# --- 04 survey ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Survey:
    answers: pd.DataFrame
    items: pd.DataFrame
    respondents: pd.DataFrame
    began: pd.Series  # each wave's first submission, by wave, earliest first

    @property
    def waves(self) -> list[str]:
        return [str(wave) for wave in self.began.index]

    def answers_of(self, respondents: pd.DataFrame) -> pd.DataFrame:
        """The answers of these respondents only (the survey functions require a match)."""
        return self.answers[self.answers["response_id"].isin(respondents["response_id"])]


def _survey(warehouse_file: Warehouse) -> _Survey:
    with warehouse.read_only(warehouse_file) as con:
        answers = datasets.survey_answers(con=con)
        respondents = datasets.respondents(con=con)
    respondents["department"] = respondents["department"].fillna(NOT_STATED)
    return _Survey(answers, load_codebook().items_frame(), respondents, _wave_starts(respondents))


def _wave_starts(respondents: pd.DataFrame) -> pd.Series:
    """Each wave's first submission, by wave, earliest first: the order of the waves."""
    return respondents.groupby("wave")["submitted_at"].min().sort_values(kind="stable")


def _period_wave(respondents: pd.DataFrame, period: Period) -> str:
    """The survey wave that speaks for ``period``, for every view of the notebooks (the answers of notebook 04,
    the comments of notebook 06): the wave whose finished responses fall in it, as in the report
    (:func:`analytics.priorities.wave_of`), else the latest wave begun by its end."""
    began = _wave_starts(respondents)
    if began.empty:
        raise warehouse.WarehouseMissing("No survey responses are loaded yet.")
    zone = config.get_settings().timezone
    if (inside := priorities.wave_of(respondents, period, timezone=zone)) is not None:
        return inside
    # else the last wave begun by then: one begun after the period says nothing of it (2025-10 read 2026-Q3)
    end = pd.Timestamp(period.end).tz_localize(zone)
    by_then = began[began < end]
    if by_then.empty:
        raise datasets.UnreportablePeriod(
            f"No survey wave had begun by the end of {period.label}: the first, {began.index[0]}, began on "
            f"{began.iloc[0].tz_convert(end.tz):%Y-%m-%d}. Choose a later period.")
    return str(by_then.index[-1])


def _wave(chosen: str | None, data: _Survey, *, warehouse_file: Warehouse) -> str:
    return _period_wave(data.respondents, resolve_period(chosen, warehouse_file=warehouse_file))


def survey_wave(period: str | None = None, *, warehouse_file: Warehouse = None) -> str:
    """The survey wave a notebook reports on: the wave whose finished responses fall in ``period``, as in the
    report (:func:`analytics.priorities.wave_of`), else the latest wave begun by the period's end
    (:class:`analytics.datasets.UnreportablePeriod` when none had begun). The comments of
    :func:`feedback_view` are this wave's."""
    return _wave(period, _survey(warehouse_file), warehouse_file=warehouse_file)


def likert_view(
    *, period: str | None = None, department: str | None = None, warehouse_file: Warehouse = None
) -> pd.DataFrame:
    """Answer distribution of every Likert item in the wave of ``period`` (:func:`survey.likert_distribution`),
    for everyone or one department (suppressed on the table of all departments).

    Returns
    -------
    DataFrame
        The columns of :func:`survey.likert_distribution` (``item_id``, ``value``, ``label``, ``n``,
        ``share``, ``suppressed``) plus ``wave``, ``construct``, ``reverse``, ``text``.
    """
    data = _survey(warehouse_file)
    wave = _wave(period, data, warehouse_file=warehouse_file)
    respondents = data.respondents[data.respondents["wave"] == wave]
    table = survey.likert_distribution(data.answers_of(respondents), data.items, respondents,
                                       by="department" if department else ())
    if department:
        table = table[table["department"] == department]
    meta = data.items[["item_id", "construct", "reverse", "text"]]
    return table.merge(meta, on="item_id", how="left").assign(wave=wave)


def likert_figure(distribution: pd.DataFrame) -> go.Figure:
    """Diverging stacked bars per item: disagreement to the left, agreement to the right, neutral split.

    Colours follow favourability: on a reverse-coded item (where agreeing is bad) agreement is orange.
    """
    shown = distribution[~distribution["suppressed"].astype(bool)]
    items = list(dict.fromkeys(shown["item_id"]))[::-1]
    wave = distribution["wave"].iloc[0] if len(distribution) else ""
    n_max = int(shown.groupby("item_id")["n"].sum().max()) if len(shown) else 0
    fig = _figure(f"How people answered, {wave}", f"% of answers per item (1-5 scale); up to n = {n_max:,} "
                  "answers per item; items of hidden groups left out", "bars right of zero agree, left of zero "
                  "disagree, grey is neutral (split in half); blue is the favourable side, orange the unfavourable "
                  "(reversed for reverse-coded items, marked ↺).", y_title="", x_title="% of answers",
                  height=max(420, _MARGINS + 36 * len(items)))
    if shown.empty:
        return _nothing(fig, _empty())
    wide = shown.pivot_table(index="item_id", columns="value", values="share", aggfunc="sum").reindex(items)
    reverse = shown.drop_duplicates("item_id").set_index("item_id")["reverse"].reindex(items).fillna(False)
    labels = shown.dropna(subset=["label"]).drop_duplicates("value").set_index("value")["label"]
    # each item by its wording (its id where it has none, or shares it with another item)
    wording = shown.drop_duplicates("item_id").set_index("item_id")["text"].reindex(items)
    repeated = wording.duplicated(keep=False)
    texts = [str(t) if isinstance(t, str) and t and not repeated[i] else i for i, t in wording.items()]
    names = charts.wrapped_labels(pd.Series([f"{t} ↺" if reverse[i] else t for i, t in zip(items, texts,
                                                                                          strict=True)]))
    points = sorted(wide.columns)
    if not points:
        return fig
    middle = (min(points) + max(points)) / 2

    def colour(value: float, item: str) -> str:
        agree = value > middle
        good = agree != bool(reverse[item])
        return _FAVOURABLE if good else _UNFAVOURABLE

    sides = [(-1, [v for v in points if v < middle][::-1]), (1, [v for v in points if v > middle])]
    for sign in (-1, 1):
        if middle in points:
            fig.add_trace(go.Bar(y=names, x=sign * wide[middle].fillna(0) / 2, orientation="h", name="neutral",
                                 marker={"color": _NEUTRAL}, showlegend=sign == 1, legendgroup="neutral",
                                 customdata=wide[middle].fillna(0),
                                 hovertemplate="%{y}: neutral %{customdata:.0%}<extra></extra>"))
        for value in dict(sides)[sign]:
            distance = abs(value - middle)
            name = str(labels.get(value, value))
            fig.add_trace(go.Bar(y=names, x=sign * wide[value].fillna(0), orientation="h", name=name,
                                 # the outer (strong) answers full colour, the inner ones lighter
                                 marker={"color": [colour(value, i) for i in items],
                                         "opacity": 1.0 if distance >= 1.5 else 0.55},
                                 customdata=wide[value].fillna(0),
                                 hovertemplate=f"%{{y}}: {name} %{{customdata:.0%}}<extra></extra>"))
    fig.update_layout(barmode="relative", hovermode="closest", showlegend=False)
    ticks = [-1, -0.75, -0.5, -0.25, 0, 0.25, 0.5, 0.75, 1]
    fig.update_xaxes(range=[-1, 1], tickvals=ticks, ticktext=[f"{abs(t):.0%}" for t in ticks], zeroline=True,
                     zerolinecolor="#595959")
    return fig


def favourability_view(
    *, period: str | None = None, by: str | None = None, warehouse_file: Warehouse = None
) -> pd.DataFrame:
    """Favourability (top-2-box) per construct in every wave up to the wave of ``period``, for everyone
    or per department (:func:`survey.favourability`, suppressed).

    Returns
    -------
    DataFrame
        The columns of :func:`survey.favourability` at construct level (``wave``, [``department``,]
        ``construct``, ``n``, ``n_favourable``, ``favourable``, ``neutral``, ``unfavourable``,
        ``ci_low``, ``ci_high``, ``suppressed``) plus ``wave_start`` (first day of the wave's quarter or
        first submission).
    """
    if by not in (None, "department"):
        raise ValueError(f"by={by!r}: choose None or 'department'.")
    data = _survey(warehouse_file)
    wave = _wave(period, data, warehouse_file=warehouse_file)
    waves = data.waves[: data.waves.index(wave) + 1]
    respondents = data.respondents[data.respondents["wave"].isin(waves)]
    table = survey.favourability(data.answers_of(respondents), data.items, respondents, level="construct",
                                 by=("wave",) + ((by,) if by else ()))
    starts = respondents.groupby("wave")["submitted_at"].min()
    table["wave_start"] = table["wave"].map(lambda w: _wave_start(str(w), starts.get(w)))
    return table


def _wave_start(wave: str, first: object) -> pd.Timestamp:
    try:
        return pd.Timestamp(parse_period(wave).start)
    except ValueError:
        return pd.Timestamp(first).tz_localize(None).normalize() if first is not None else pd.NaT


def favourability_figure(table: pd.DataFrame, *, revisions: pd.DataFrame) -> go.Figure:
    """Favourability per construct over the waves, with 95 % CIs and the policy revisions."""
    series = table.rename(columns={"favourable": "value", "construct": "group", "wave_start": "month"})
    return time_figure(series, group="group", title="Favourability per construct, by wave", percent=True,
                       y_title="% favourable (top-2 box)", revisions=revisions,
                       n_label="respondent-waves",
                       how_to_read="each point is one survey wave (plotted at its start); higher is better; "
                       "the band is the 95% CI; dashed lines are policy revisions.")


def favourability_heatmap(table: pd.DataFrame, *, wave: str) -> go.Figure:
    """Departments x constructs in one wave: favourability per cell, hidden cells left blank."""
    part = table[table["wave"] == wave]
    if part.empty or part["favourable"].isna().all():
        return _nothing(_figure(f"Favourability by department, {wave}", "", "", y_title=""), _empty())
    value = part.pivot(index="department", columns="construct", values="favourable")
    counts = part.pivot(index="department", columns="construct", values="n")
    constructs = [c for c in dict.fromkeys(part["construct"]) if c in value.columns]
    value, counts = value[constructs], counts[constructs]
    text = [[("hidden" if pd.isna(v) else f"{v:.0%}<br>n={int(n)}") for v, n in zip(vr, nr, strict=True)]
            for vr, nr in zip(value.to_numpy(), counts.to_numpy(), strict=True)]
    fig = _figure(f"Favourability by department, {wave}", f"% favourable (top-2-box); 'hidden' = fewer than {_k()} "
                  "respondents, or hidden so that another hidden cell cannot be worked out",
                  "bluer is more favourable; compare a department across its row, and a construct down its column.",
                  y_title="", height=max(320, _MARGINS + 40 * len(value)))
    fig.add_trace(go.Heatmap(z=value.to_numpy(dtype=float), x=constructs, y=list(value.index), text=text,
                             texttemplate="%{text}", colorscale="RdBu", zmin=0, zmax=1,
                             colorbar={"title": "favourable", "tickformat": ".0%"},
                             hovertemplate="%{y}, %{x}: %{text}<extra></extra>"))
    fig.update_layout(hovermode="closest")
    return fig


def construct_changes(
    *, period: str | None = None, by: str | None = None, warehouse_file: Warehouse = None
) -> pd.DataFrame:
    """Change of each construct's mean score from the previous wave to the wave of ``period``
    (:func:`survey.wave_change`: Welch t-test, Benjamini-Hochberg adjusted, small groups suppressed).

    Returns
    -------
    DataFrame
        The columns of :func:`survey.wave_change` (empty when there is no earlier wave).
    """
    if by not in (None, "department"):
        raise ValueError(f"by={by!r}: choose None or 'department'.")
    data = _survey(warehouse_file)
    wave = _wave(period, data, warehouse_file=warehouse_file)
    position = data.waves.index(wave)
    if position == 0:
        return pd.DataFrame(columns=[*([by] if by else []), "construct", "previous_wave", "current_wave",
                                     "n_previous", "n_current", "mean_previous", "mean_current", "change", "ci_low",
                                     "ci_high", "p_value", "p_adjusted", "significant", "suppressed"])
    return survey.wave_change(data.answers, data.items, data.respondents, level="construct", by=by or (),
                              current=wave, previous=data.waves[position - 1])


def survey_change_figure(changes: pd.DataFrame, *, by: str | None = None) -> go.Figure:
    """Forest plot: change of each construct's mean (1-5 scale) with its 95 % CI; significant ones filled."""
    shown = changes[~changes["suppressed"].astype(bool)].dropna(subset=["change"]) if len(changes) else changes
    title = "Change since the previous wave" + (f" by {by}" if by else "")
    waves = f"{changes['previous_wave'].iloc[0]} → {changes['current_wave'].iloc[0]}" if len(changes) else ""
    labels = [f"{r[by]} · {r['construct']}" if by else r["construct"] for r in shown.to_dict("records")]
    fig = _figure(title, f"{waves}; change in mean score (1-5 scale), 95% CI; filled = significant after "
                  "Benjamini-Hochberg", "a point right of the line is an improvement; if its bar crosses the line "
                  "the change may be chance.", y_title="", x_title="change in mean score (points)",
                  height=max(320, _MARGINS + 24 * len(shown)))
    significant = shown["significant"].astype("boolean").fillna(False).astype(bool) if len(shown) else []
    fig.add_trace(go.Scatter(
        x=shown["change"], y=labels, mode="markers",
        error_x={"type": "data", "symmetric": False, "array": shown["ci_high"] - shown["change"],
                 "arrayminus": shown["change"] - shown["ci_low"], "color": _PALETTE[0]},
        marker={"size": 10, "color": _PALETTE[0], "symbol": ["circle" if s else "circle-open" for s in significant]},
        customdata=np.column_stack([shown["p_adjusted"], shown["n_previous"], shown["n_current"]])
        if len(shown) else None,
        hovertemplate="%{y}: %{x:+.2f} (BH p = %{customdata[0]:.3f}; n = %{customdata[1]} → "
                      "%{customdata[2]})<extra></extra>"))
    fig.add_vline(x=0, line={"color": "#595959", "width": 1})
    fig.update_layout(hovermode="closest")
    return fig if len(shown) else _nothing(fig, "No earlier wave to compare with, or every group is hidden.")


def reliability(*, period: str | None = None, warehouse_file: Warehouse = None) -> pd.DataFrame:
    """Cronbach's alpha of each construct in the wave of ``period`` (:func:`survey.cronbach_alpha`)."""
    data = _survey(warehouse_file)
    wave = _wave(period, data, warehouse_file=warehouse_file)
    respondents = data.respondents[data.respondents["wave"] == wave]
    answers = data.answers_of(respondents)
    return survey.cronbach_alpha(answers, data.items, respondents=respondents).assign(wave=wave)


def _scores_wide(data: _Survey, respondents: pd.DataFrame) -> pd.DataFrame:
    scores = survey.construct_scores(data.answers_of(respondents), data.items, respondents=respondents)
    return scores.pivot(index="response_id", columns="construct", values="score")


def trust_drivers(
    *, period: str | None = None, outcome: str = "trust", warehouse_file: Warehouse = None
) -> pd.DataFrame:
    """What drives ``outcome`` (default trust) across respondents of the wave of ``period``:
    :func:`survey.key_drivers` of the construct score on the other constructs' scores.

    Returns
    -------
    DataFrame
        The columns of :func:`survey.key_drivers` and ``waves`` (the wave).
    """
    data = _survey(warehouse_file)
    wave = _wave(period, data, warehouse_file=warehouse_file)
    wide = _scores_wide(data, data.respondents[data.respondents["wave"] == wave])
    drivers = [c for c in wide.columns if c != outcome]
    return survey.key_drivers(wide.reset_index(drop=True), outcome=outcome, drivers=drivers).assign(waves=wave)


def adherence_drivers(*, period: str | None = None, warehouse_file: Warehouse = None) -> pd.DataFrame:
    """What goes with adherence: :func:`survey.key_drivers` of the quarterly adherence rate of each
    department on its mean construct scores, over department x wave cells up to ``period``.

    Surveys are anonymous, so adherence is linked to attitudes only at department x quarter level;
    cells hidden in either table (fewer than k people) are left out.

    Returns
    -------
    DataFrame
        The columns of :func:`survey.key_drivers` (``n`` = department-quarters used) and ``waves`` (the first
        and last wave used, ``"2024-Q4 to 2026-Q3"``).
    """
    data = _survey(warehouse_file)
    wave = _wave(period, data, warehouse_file=warehouse_file)
    respondents = data.respondents[data.respondents["wave"].isin(data.waves[: data.waves.index(wave) + 1])]
    scores = survey.construct_scores(data.answers_of(respondents), data.items, respondents=respondents)
    scores = scores.merge(respondents[["response_id", "wave", "department"]], on="response_id")
    cells = scores.groupby(["wave", "department", "construct"]).agg(score=("score", "mean"),
                                                                    n=("response_id", "nunique")).reset_index()
    cells = pd.concat([suppress_small_groups(part, by=["wave", "department"], n="n", values=["score"])
                       for _, part in cells.groupby("construct")], ignore_index=True)
    wide = cells[~cells["suppressed"]].pivot_table(index=["wave", "department"], columns="construct", values="score")
    rates = datasets.metric_series("adherence_rate", kind="quarter", department=None, warehouse_file=warehouse_file)
    rates = rates.loc[~rates["suppressed"].astype(bool), ["period", "department", "value"]].rename(
        columns={"period": "wave", "value": "adherence_rate"})
    joined = wide.reset_index().merge(rates, on=["wave", "department"]).dropna()
    drivers = [c for c in wide.columns]
    if len(joined) <= len(drivers) + 2:
        return pd.DataFrame(columns=["driver", "beta", "ci_low", "ci_high", "p_value", "relative_weight", "n",
                                     "r_squared", "waves"])
    used = [w for w in data.waves if w in set(joined["wave"])]
    return survey.key_drivers(joined, outcome="adherence_rate", drivers=drivers).assign(
        waves=f"{used[0]} to {used[-1]}" if len(used) > 1 else used[0])


def drivers_figure(drivers: pd.DataFrame, *, outcome: str, unit: str) -> go.Figure:
    """Bars: each driver's share of the explained variance (Johnson's relative weight), with the beta."""
    shown = drivers.sort_values("relative_weight")
    r2 = insights.format_percent(drivers["r_squared"].iloc[0]) if len(drivers) else "n/a"
    n = int(drivers["n"].iloc[0]) if len(drivers) else 0
    return _ranked_bars(
        shown, y="driver", x="relative_weight", title=f"What drives {outcome}",
        subtitle=f"share of explained variance (relative weight); R² = {r2}; n = {n:,} {unit}",
        caption="a longer bar explains more of the differences in the outcome; hover for the standardised beta and "
                "its 95% CI (an interval crossing zero is not a clear driver).", x_title="% of explained variance",
        colour=_PALETTE[0], custom=("beta", "ci_low", "ci_high"),
        hover="%{y}: %{x:.0%} of R²; beta %{customdata[0]:.2f} (95% CI %{customdata[1]:.2f} to "
              "%{customdata[2]:.2f})<extra></extra>", tickformat=".0%", row_height=34, empty=_empty())


# --- 05 training ----------------------------------------------------------------------------------

#: The rollout's first months (the month of the first completion and the ones after it): the employees whose first
#: completion falls in them are the group that trained in the rollout (:func:`training_baseline`).
ROLLOUT_MONTHS = 3
#: The published monthly table behind each training outcome, and the column of :func:`training_posts` that says
#: whether its figure of the post's month is shown.
_OUTCOME_TABLES = {"violation": ("adherence_rate", "adherence_shown"),
                   "positive": ("employee_sentiment", "sentiment_shown")}


def training_posts(
    *, period: str | None = None, department: str | None = None, warehouse_file: Warehouse = None
) -> pd.DataFrame:
    """Employee posts up to the end of ``period`` with their author's training status, and whether the published
    monthly figures of their month are shown.

    A post's ``group`` is its author's status in the post's month, decided by the completions before that month
    (:func:`analytics.datasets.employee_post_panel`): ``"trained"`` from the month after the first completion,
    ``"not yet trained"`` until then (and always for those who never train). So a month's two groups are the
    same whatever the period: two periods' figures never differ by the few people who trained in between.

    Returns
    -------
    DataFrame
        ``post_uid``, ``author_key``, ``department``, ``published_at``, ``month`` (local month start),
        ``violation``, ``compound``, ``positive`` (compound >= 0.05; NA when the text was not scored),
        ``completed_at`` (the author's first completion of the configured training module before the period's
        end, NaT if none), ``trained`` (published after completion), ``group``, ``adherence_shown`` and
        ``sentiment_shown`` (the published monthly adherence, or employee sentiment, of the department, else of
        everyone, is shown for the post's month: the training views count the posts of shown months only, so
        none of their counts is a shown total less a hidden month).
    """
    chosen = resolve_period(period, warehouse_file=warehouse_file)
    posts = datasets.employee_post_panel(through=chosen, department=department, warehouse_file=warehouse_file)
    scored = posts["sentiment_status"] == "scored"
    posts["positive"] = (posts["compound"] >= POSITIVE_COMPOUND).astype("boolean").where(scored, pd.NA)
    posts["group"] = np.where(posts["trained_before_month"], "trained", "not yet trained")
    months = posts["month"].dt.strftime("%Y-%m")
    for metric, column in _OUTCOME_TABLES.values():
        published = metric_over_time(metric, department=department, warehouse_file=warehouse_file)
        posts[column] = months.isin(set(published.loc[~published["suppressed"].astype(bool), "month"]
                                        .dt.strftime("%Y-%m")))
    return posts[["post_uid", "author_key", "department", "published_at", "month", "violation", "compound",
                  "positive", "completed_at", "trained", "group", "adherence_shown",
                  "sentiment_shown"]].reset_index(drop=True)


def _read_training_posts(posts: pd.DataFrame | None, *, period: str | None, department: str | None,
                         warehouse_file: Warehouse) -> pd.DataFrame:
    """``posts`` when a caller read :func:`training_posts` once for several of the training views (each may
    be given them, for the same period and department), else read here."""
    if posts is not None:
        return posts
    return training_posts(period=period, department=department, warehouse_file=warehouse_file)


def _shown_posts(posts: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """The posts of the months whose published figure of ``outcome`` is shown, with the outcome known."""
    shown = posts[posts[_OUTCOME_TABLES[outcome][1]]].dropna(subset=[outcome])
    return shown.assign(**{outcome: shown[outcome].astype(bool)})


def _enough_people(posts: pd.DataFrame, status: pd.Series) -> bool:
    """Both values of ``status`` (one per post) hold at least k authors."""
    people = posts.groupby(status.to_numpy())["author_key"].nunique()
    return len(people) == 2 and int(people.min()) >= _k()


def training_baseline(
    *, period: str | None = None, department: str | None = None, warehouse_file: Warehouse = None,
    posts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """How the employees who trained in the rollout and those who did not posted before it: what each group
    brought to it. Training is chosen, not assigned, so a gap here is part of any comparison of trained and
    untrained employees afterwards (the difference-in-differences nets it out).

    The groups are fixed: ``trained`` are the employees whose first completion fell in the rollout's first
    :data:`ROLLOUT_MONTHS` months (the month of the first completion and those after it), ``not trained`` the others
    (some may train later). Grouped instead by the completions up to the chosen period's end, two periods' tables
    would differ by the few people who trained in between; these groups are the same for every period that ends
    after the rollout's first months, and the table is empty before (the groups are not settled yet).

    It pools whole months before the month of the first completion (not the days of that month before it, which
    no monthly table shows), and of those only the months whose published monthly adherence (of the department,
    else of everyone) is shown and in which each group had at least k posting employees. Each row is then a sum of
    such months, and the two rows add up to those months' shown counts.

    Returns
    -------
    DataFrame
        One row per group (``trained``, ``not trained``): ``group``, ``rollout`` (local date of the first
        completion), ``trained_by`` (``YYYY-MM``, the last month whose completions count), ``first_month``,
        ``last_month`` (``YYYY-MM``), ``n_months`` (the months pooled, between those two), ``n_posts``,
        ``n_employees``, ``violations``, ``share`` (of the posts with a policy violation), ``ci_low``, ``ci_high``
        (Wilson 95 %). Empty before the period reaches ``trained_by``, or when no month qualifies.
    """
    posts = _read_training_posts(posts, period=period, department=department, warehouse_file=warehouse_file)
    columns = ["group", "rollout", "trained_by", "first_month", "last_month", "n_months", "n_posts", "n_employees",
               "violations", "share", "ci_low", "ci_high"]
    if posts["completed_at"].isna().all():
        return pd.DataFrame(columns=columns)
    zone = config.get_settings().timezone
    rollout = posts["completed_at"].min().tz_convert(zone)
    rollout_month = rollout.tz_localize(None).to_period("M").to_timestamp()
    last_counted = rollout_month + pd.DateOffset(months=ROLLOUT_MONTHS - 1)
    if posts["month"].max() < last_counted:
        return pd.DataFrame(columns=columns)
    settled = (last_counted + pd.DateOffset(months=1)).tz_localize(zone)
    before = _shown_posts(posts[posts["month"] < rollout_month], "violation")
    before = before.assign(group=np.where(before["completed_at"] < settled, "trained", "not trained"))
    people = before.groupby(["month", "group"])["author_key"].nunique().unstack(fill_value=0)
    people = people.reindex(columns=["trained", "not trained"], fill_value=0)
    months = people.index[(people >= _k()).all(axis=1)]
    before = before[before["month"].isin(months)]
    if before.empty:
        return pd.DataFrame(columns=columns)
    table = before.groupby("group", sort=True).agg(n_posts=("post_uid", "size"),
                                                   n_employees=("author_key", "nunique"),
                                                   violations=("violation", "sum")).reset_index()
    table["share"] = table["violations"] / table["n_posts"]
    table["ci_low"], table["ci_high"] = adherence.wilson_interval(table["violations"].to_numpy(float),
                                                                  table["n_posts"].to_numpy(float))
    table = table.assign(rollout=rollout.date(), trained_by=f"{last_counted:%Y-%m}",
                         first_month=f"{months.min():%Y-%m}", last_month=f"{months.max():%Y-%m}", n_months=len(months))
    return table.sort_values("group", ascending=False, ignore_index=True)[columns]


def training_effects(
    *, period: str | None = None, department: str | None = None, warehouse_file: Warehouse = None,
    posts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Effect of training on violations and on positive tone: :func:`trends.training_effect` (odds
    ratio from a logistic model with month fixed effects, and the difference-in-differences risk
    difference), clustered by employee, adjusted for department when all departments are included.

    Each outcome uses the posts of the months whose published monthly figure of it (adherence, employee
    sentiment; of the department, else of everyone) is shown, so ``n_obs`` adds up shown monthly counts: counted
    over every month, two periods' ``n_obs`` differed by a month the monthly table hides. The rollout starts on
    the local day of the first completion. Empty when fewer than k employees have a post after their training, or
    fewer than k have none.

    Returns
    -------
    DataFrame
        ``outcome`` (``violation``, ``positive``) and the columns of :func:`trends.training_effect`.
    """
    posts = _read_training_posts(posts, period=period, department=department, warehouse_file=warehouse_file)
    frames = {outcome: _shown_posts(posts, outcome) for outcome in _OUTCOME_TABLES}
    treated = {outcome: frame.groupby("author_key")["trained"].transform("any") for outcome, frame in frames.items()}
    if posts["completed_at"].isna().all() or not all(_enough_people(frames[o], treated[o]) for o in frames):
        return pd.DataFrame(columns=["outcome", "estimator", "term", "estimate", "ci_low", "ci_high", "p_value",
                                     "n_obs", "n_clusters"])
    tz = config.get_settings().timezone
    rollout = posts["completed_at"].min().tz_convert(tz).normalize().tz_localize(None)
    pieces = []
    for outcome, frame in frames.items():
        effect = trends.training_effect(frame, outcome=outcome, trained="trained", unit="author_key",
                                        time="published_at", rollout_start=rollout,
                                        covariates=() if department else "department")
        pieces.append(effect.assign(outcome=outcome))
    table = pd.concat(pieces, ignore_index=True)
    return table[["outcome", *[c for c in table.columns if c != "outcome"]]]


def training_event_study(
    *, period: str | None = None, department: str | None = None, window: tuple[int, int] = (-6, 6),
    warehouse_file: Warehouse = None, posts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Violation risk by month relative to training (:func:`trends.event_study`), month -1 the reference, over
    the posts of the months whose published monthly adherence (of the department, else of everyone) is shown.

    No count per month relative to training: those months cut across the calendar, so two periods' counts
    differ by the posts of the few people who trained in between (a lead appears when its author trains).
    Empty when either the trained or the never-trained employees (by the period's end) are fewer than k.

    Returns
    -------
    DataFrame
        ``relative_month``, ``estimate``, ``ci_low``, ``ci_high``, ``p_value`` (of :func:`trends.event_study`) and
        ``n_posts`` (the posts in the model, shown monthly counts added up; the same on every row).
    """
    posts = _shown_posts(_read_training_posts(posts, period=period, department=department,
                                              warehouse_file=warehouse_file), "violation")
    columns = ["relative_month", "estimate", "ci_low", "ci_high", "p_value", "n_posts"]
    if not _enough_people(posts, posts["completed_at"].notna()):
        return pd.DataFrame(columns=columns)
    study = trends.event_study(posts, outcome="violation", unit="author_key", time="published_at",
                               trained_at="completed_at", window=window)
    return study.assign(n_posts=len(posts))[columns]


def event_study_figure(study: pd.DataFrame) -> go.Figure:
    """Leads and lags of the violation risk around the training month, with 95 % CIs."""
    n = int(study["n_posts"].iloc[0]) if len(study) else 0
    fig = _figure("Violation risk around the month of training (event study)",
                  f"difference in violation risk vs the month before training (percentage points), 95% CI; "
                  f"n = {n:,} posts by trained and untrained employees", "points left of 0 should sit near zero (no "
                  "change before training); points right of 0 below zero mean fewer violations after training.",
                  y_title="difference in risk (points)", x_title="months since training (0 = month completed)")
    # in percentage points (a difference of two shares), not percent
    points = 100 * study[["estimate", "ci_low", "ci_high"]]
    fig.add_trace(go.Scatter(
        x=study["relative_month"], y=points["estimate"], mode="markers+lines", line={"color": _PALETTE[0]},
        error_y={"type": "data", "symmetric": False, "array": (points["ci_high"] - points["estimate"]).fillna(0),
                 "arrayminus": (points["estimate"] - points["ci_low"]).fillna(0)},
        name="estimate", hovertemplate="month %{x}: %{y:+.1f} points<extra></extra>"))
    fig.add_hline(y=0, line={"color": "#595959", "width": 1})
    fig.add_vline(x=-0.5, line={"dash": "dot", "color": "#595959", "width": 1})
    if len(study):
        # the window's end points pool every month beyond them
        months = [int(m) for m in study["relative_month"]]
        labels = [f"≤{m}" if m == months[0] else f"≥{m}" if m == months[-1] else str(m) for m in months]
        fig.update_xaxes(tickvals=months, ticktext=labels)
    fig.update_yaxes(tickformat="+.0f", ticksuffix=" pts")
    fig.update_layout(hovermode="closest", showlegend=False)
    return fig if len(study) else _nothing(fig, _empty())


def training_figure(groups: pd.DataFrame, *, outcome: str, revisions: pd.DataFrame) -> go.Figure:
    """Monthly rate of the employees already trained and of those not yet trained, with 95 % CIs and the
    revisions."""
    label = {"adherent": "Adherence", "positive": "Share of positive posts (compound ≥ 0.05)"}[outcome]
    unit = {"adherent": METRICS["adherence_rate"].unit, "positive": "% of employee posts"}
    return time_figure(groups, group="group", title=f"{label}: employees already trained vs those not yet trained",
                       y_title=unit[outcome], percent=True, revisions=revisions, n_label="posts",
                       how_to_read="each month compares those who completed the training in an earlier month with "
                       "the rest; a gap after the rollout is the training's effect (estimated below) or who chose to "
                       "train (see the groups before the rollout).")


def training_groups_by_department(posts: pd.DataFrame, *, outcome: str, published: pd.DataFrame) -> pd.DataFrame:
    """Monthly rate of the employees already trained and of those not yet trained, for the organisation and for
    each department, hidden jointly (what notebook 05 shows for the organisation or any one department).

    The cells are published side by side, so each is part of totals: a month's two groups add up to the
    selection's month (the monthly table's figure), and a month's group of every department to the
    organisation's. Hidden one chart at a time, a department's hidden cell was the organisation's less the other
    departments' shown ones. So all cells are suppressed at once (:func:`analytics.privacy.suppress_small_groups`,
    as :mod:`analytics.metrics` does the period tables) along both lines, the organisation's cell one more cell of
    its month's departments: a line that hides a cell hides others with enough people, the organisation's if
    nothing else is left, and a hidden organisation's cell hides a department's too. A cell with fewer than k
    posting employees is hidden, and every cell of a month whose published figure of its selection is hidden
    (or missing). No total over months is published, so a month's cells do not depend on the others.

    Parameters
    ----------
    posts : DataFrame
        One row per post of the whole organisation (:func:`training_posts`): ``department``, ``group``, ``month``,
        ``published_at``, ``author_key`` and the ``outcome`` column (True, False or NA: left out).
    outcome : {"adherent", "positive"}
        The boolean column whose share is shown.
    published : DataFrame
        The published monthly figure behind ``outcome``: ``month`` (month start), ``department`` (:data:`ALL` for
        the organisation) and ``suppressed``.

    Returns
    -------
    DataFrame
        ``department`` (:data:`ALL` for the organisation), ``group``, ``month``, ``value``, ``n``, ``n_people``,
        ``ci_low``, ``ci_high``, ``suppressed``.
    """
    missing = [c for c in ("department", "group", "month", "published_at", "author_key", outcome)
               if c not in posts.columns] + [c for c in ("month", "department", "suppressed")
                                             if c not in published.columns]
    if missing:
        raise ValueError(f"columns {missing} missing: give training_posts() of the whole organisation and the "
                         "published monthly table's month, department and suppressed.")
    known = posts.dropna(subset=[outcome])
    known = known.assign(**{outcome: known[outcome].astype(bool)})
    pieces = []
    for by in (["group"], ["department", "group"]):
        rates = trends.monthly_rate(known, time="published_at", success=outcome, by=by)
        people = known.groupby([*by, "month"])["author_key"].nunique().rename("n_people").reset_index()
        pieces.append(rates.merge(people, on=[*by, "month"], how="left"))
    cells = pd.concat(pieces, ignore_index=True).fillna({"department": ALL})
    shown = published.loc[~published["suppressed"].astype(bool), ["month", "department"]]
    shown_keys = set(zip(_months(shown["month"]).tolist(), shown["department"].tolist(), strict=True))
    cells["_published_hidden"] = [key not in shown_keys for key in zip(
        pd.to_datetime(cells["month"]).tolist(), cells["department"].tolist(), strict=True)]
    cells = suppress_small_groups(cells, by=["month", "department", "group"], along=["department", "group"],
                                  n="n_people", hide="_published_hidden",
                                  values=["rate", "n", "successes", "ci_low", "ci_high"])
    return cells.rename(columns={"rate": "value"})[["department", "group", "month", "value", "n", "n_people",
                                                    "ci_low", "ci_high", "suppressed"]]


def training_groups_over_time(
    *, outcome: str = "adherent", period: str | None = None, department: str | None = None,
    warehouse_file: Warehouse = None, organisation_posts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Monthly adherence (``outcome="adherent"``) or share of positive posts (``"positive"``) of the
    employees already trained and of those not yet trained in each month (:func:`training_posts`'s ``group``:
    the same people in a month whatever the period), by :func:`trends.monthly_rate`, of the organisation or of
    one department.

    Hidden jointly with the organisation's and every department's (:func:`training_groups_by_department`):
    months in which a group had fewer than k posting employees, those the published monthly table hides, and
    more where a hidden cell could be worked out from the organisation's less the other departments', or from
    the month's total less the other group. ``organisation_posts``: :func:`training_posts` of ``period`` for
    the whole organisation (no department), read once for both outcomes; read here when not given.

    Returns
    -------
    DataFrame
        ``group``, ``month``, ``value``, ``n``, ``n_people``, ``ci_low``, ``ci_high``, ``suppressed``.
    """
    if outcome not in ("adherent", "positive"):
        raise ValueError(f"outcome={outcome!r}: choose 'adherent' or 'positive'.")
    posts = (training_posts(period=period, warehouse_file=warehouse_file) if organisation_posts is None
             else organisation_posts)
    posts = posts.assign(adherent=~posts["violation"].astype("boolean"))
    metric = _OUTCOME_TABLES["violation" if outcome == "adherent" else "positive"][0]
    published = pd.concat([metric_over_time(metric, warehouse_file=warehouse_file).assign(department=ALL),
                           metric_over_time(metric, by="department", warehouse_file=warehouse_file)
                           .rename(columns={"group": "department"})], ignore_index=True)
    cells = training_groups_by_department(posts, outcome=outcome, published=published)
    chosen = cells[cells["department"] == (department or ALL)]
    return chosen.sort_values(["group", "month"], ignore_index=True)[["group", "month", "value", "n", "n_people",
                                                                       "ci_low", "ci_high", "suppressed"]]


# --- 06 the positive side -------------------------------------------------------------------------

def story_view(*, period: str | None = None, department: str | None = None,
               warehouse_file: Warehouse = None) -> pd.DataFrame:
    """Mission stories among employee posts in the period, a quarter or a month, and their engagement
    (k-safe): the row of :func:`analytics.themes.mission_story_share` for the period (and department).

    Returns
    -------
    DataFrame
        ``period`` (``YYYY-Qn`` or ``YYYY-MM``), [``department``], ``n_posts, n_people, n_mission,
        mission_story_share, ci_low, ci_high, engagement_per_mission_post, engagement_per_other_post,
        engagement_ratio, ratio_ci_low, ratio_ci_high, suppressed``.
    """
    chosen = resolve_period(period, warehouse_file=warehouse_file)
    kind = _period_kind(chosen)
    by = (kind, "department") if department else (kind,)
    table = themes.mission_story_share(by=by, k=_k(), warehouse_file=warehouse_file)
    keep = table[kind] == chosen.label
    if department:
        keep &= table["department"] == department
    return table[keep].rename(columns={kind: "period"}).reset_index(drop=True)


def mission_value_view(*, period: str | None = None, warehouse_file: Warehouse = None) -> pd.DataFrame:
    """Clicks on our posts linking to the mission pages in the period, a quarter or a month: the
    organisation's rows of :func:`analytics.engagement.mission_value` with its totals (employees' posts
    are left out: no platform reports clicks on them).

    Returns
    -------
    DataFrame
        One row per page, the mission pages first, then :data:`analytics.engagement.ANY_MISSION_PAGE` (the
        posts linking to any of them, each once: the metric ``mission_clicks``), then the posts whose only
        links are shortened (:data:`analytics.engagement.SHORT_LINK_PAGE`, in no total): ``period``,
        ``page``, ``n_posts``, ``n_reporting_clicks`` (posts whose platform reports clicks) and ``clicks``
        (NaN when none does).
    """
    chosen = resolve_period(period, warehouse_file=warehouse_file)
    table = engagement.mission_value(period=_period_kind(chosen), total=True, warehouse_file=warehouse_file)
    table = table[(table["period"] == chosen.label) & (table["source"] == "organisation")]
    # mission_value sorts the pages by name: the stable sort keeps that order before the total and short links
    last = {engagement.ANY_MISSION_PAGE: 1, engagement.SHORT_LINK_PAGE: 2}
    table = table.sort_values("page", key=lambda pages: pages.map(last).fillna(0), kind="stable")
    return table.drop(columns="source").reset_index(drop=True)


def recognition_view(*, period: str | None = None, department: str | None = None,
                     warehouse_file: Warehouse = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Teams recognised in the period (k-safe :func:`analytics.engagement.team_recognition`) and the people
    who opted in to be named (``display_name, department`` only; nobody's findings).

    Returns
    -------
    tuple of DataFrame
        The team table (every column of ``team_recognition``) and ``display_name, department``.
    """
    chosen = resolve_period(period, warehouse_file=warehouse_file).label
    with warehouse.read_only(warehouse_file) as con:  # the teams and the people of one scan
        teams, people = engagement.recognition_by_period(con, periods=[chosen], k=_k(), min_posts=3)
    teams, people = teams.drop(columns="period"), people[["display_name", "department"]]
    if department:
        teams, people = teams[teams["department"] == department], people[people["department"] == department]
    return teams.reset_index(drop=True), people.reset_index(drop=True)


@dataclass(frozen=True)
class FeedbackView:
    """The themes of survey comments a notebook shows, the waves they compare, and a line saying so (or why
    there are none); ``department`` when they are one department's comments."""

    themes: pd.DataFrame
    wave: str | None
    previous: str | None
    note: str
    department: str | None = None

    def sentences(self) -> list[str]:
        """What the comments talk about, one sentence per policy area as the committee report words it
        (:func:`analytics.insights.feedback_sentences`), or the note saying why there are no themes."""
        if self.themes.empty:
            return [self.note]
        return insights.feedback_sentences(self.themes, department=self.department)


def feedback_view(*, period: str | None = None, department: str | None = None, top: int = 5,
                  warehouse_file: Warehouse = None) -> FeedbackView:
    """The top terms per policy area in the survey comments of the wave of ``period`` (the wave notebook 04
    reads: :func:`survey_wave`), against the wave before (:func:`analytics.feedback.wave_themes`); comments
    submitted after the period are left out, so a past period shows what was said by then.

    With ``department``, its respondents' comments only, on the areas where it had at least k respondents
    commenting in both waves, decided on the table of all departments (a respondent who did not state one
    counts in a group of their own), so that a hidden department cannot be worked out from the
    organisation's counts. Areas with fewer than k comments show no terms in either case.

    Returns
    -------
    FeedbackView
        ``themes`` (the columns of :func:`analytics.feedback.feedback_themes`; empty without a wave), ``wave``
        and ``previous`` (None when there is none) and ``note``: which wave, against which, whose comments,
        which areas are hidden, or why nothing is shown.
    """
    chosen = resolve_period(period, warehouse_file=warehouse_file)
    end = pd.Timestamp(chosen.end).tz_localize(config.get_settings().timezone)
    with warehouse.read_only(warehouse_file) as con:
        respondents = datasets.respondents(con=con)
        comments = datasets.survey_comments(con=con)
    comments = comments[(pd.to_datetime(comments["submitted_at"], utc=True) < end).to_numpy()
                        & comments["finished"].astype("boolean").fillna(False).to_numpy(bool)]
    try:
        wave = _period_wave(respondents, chosen)
    except (warehouse.WarehouseMissing, datasets.UnreportablePeriod) as error:
        return FeedbackView(feedback.wave_themes(comments, wave=None, previous=None), None, None,
                            f"{error} No comment themes to show.")
    waves = [str(w) for w in _wave_starts(respondents).index]
    previous = waves[waves.index(wave) - 1] if waves.index(wave) else None
    whose, hidden = "everyone", []
    if department:
        comments, hidden = _department_comments(comments, department, waves=[w for w in (wave, previous) if w])
        whose = f"the respondents in {department}"
    themes = feedback.wave_themes(comments, wave=wave, previous=previous, top=top, k=_k())
    against = (f", compared with {previous}, the wave before" if previous else
               ", the first wave (nothing to compare with)")
    note = (f"Survey wave {wave} (the wave of {chosen.label}, as in notebook 04){against}; comments of {whose} "
            f"submitted by the end of {chosen.label}.")
    if hidden:
        note += f" Areas {privacy.hidden_label()}: {', '.join(hidden)}."
    commented = (comments["wave"].astype(str) == wave).any()
    if not commented and not hidden:
        note += f" None of them commented in {wave}: no themes to show."
    elif commented and themes.empty:
        note += f" No area had {_k()} comments or more sharing a word or phrase: no themes to show."
    return FeedbackView(themes, wave, previous, note, department)


def _department_comments(comments: pd.DataFrame, department: str, *, waves: Sequence[str]
                         ) -> tuple[pd.DataFrame, list[str]]:
    """The department's comments in ``waves`` on the areas where its respondents are shown in every one of the
    waves (:func:`analytics.privacy.suppress_small_groups` over the departments of each wave and area, whose
    total the organisation's themes show), and the areas it commented on that are hidden."""
    areas = load_codebook().items_frame().drop_duplicates("item_id").set_index("item_id")["area"]
    comments = comments[comments["wave"].astype(str).isin(waves)].assign(
        area=lambda f: f["item_id"].map(areas), department=lambda f: f["department"].fillna(NOT_STATED))
    cells = comments.groupby(["wave", "area", "department"])["response_id"].nunique().rename("n").reset_index()
    cells = suppress_small_groups(cells, by=["wave", "area", "department"], n="n", along=["department"])
    shown = cells[~cells["suppressed"] & (cells["department"] == department)].groupby("area")["wave"].nunique()
    kept = set(shown.index[shown == len(waves)])
    own = comments[comments["department"] == department]
    hidden = sorted(set(own.loc[own["wave"].astype(str) == waves[0], "area"].dropna()) - kept)
    return own[own["area"].isin(kept)].drop(columns="area"), hidden
