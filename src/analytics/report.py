"""The committee trend report: one standalone HTML file (and a PDF of it) before each policy revision.

:func:`build_report` reads the published warehouse snapshot, computes every number with the analysis
modules (:mod:`~analytics.metrics`, :mod:`~analytics.adherence`, :mod:`~analytics.survey`,
:mod:`~analytics.trends` through the shared :mod:`~analytics.notebook_views`), words it with
:mod:`~analytics.insights`, draws it with :mod:`~analytics.charts` and renders
``templates/report.html.j2``. plotly.js is inlined once, so the file opens offline and can be emailed;
when Chromium is installed the same page is printed to PDF.

The evidence per policy area and the "areas to revise" ranking come from :mod:`~analytics.priorities`,
the one implementation the policy-review dashboard shows too.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.offline
from scipy import stats

from analytics import (
    __version__,
    adherence,
    charts,
    config,
    datasets,
    feedback,
    insights,
    priorities,
    privacy,
    survey,
    warehouse,
)
from analytics import notebook_views as views
from analytics.codebook import load_codebook
from analytics.datasets import UnreportablePeriod
from analytics.insights import (
    format_change,
    format_interval,
    format_number,
    format_p,
    format_percent,
    format_points,
    format_range,
    format_signed,
    format_value,
)
from analytics.metrics import ALL, METRICS, compare_periods, metric_definitions
from analytics.periods import Period

__all__ = [
    "HEADLINE_METRICS",
    "SECTIONS",
    "ReportResult",
    "UnreportablePeriod",
    "build_report",
    "find_chromium",
    "headline_metrics",
    "period_table",
    "print_pdf",
]

#: The report's sections in order: (anchor id, heading). Tests check every one is rendered.
SECTIONS = (
    ("summary", "Executive summary"),
    ("revision", "What changed since the last revision"),
    ("adherence", "Adherence by policy area and rule"),
    ("survey", "Survey: policy clarity and trust by area"),
    ("incidents", "Incidents and time to resolve"),
    ("sentiment", "Sentiment"),
    ("training", "Training impact"),
    ("voices", "What employees are telling us"),
    ("revise", "Areas to revise"),
    ("methods", "Methods and data coverage"),
)
#: The KPIs of the headline table, in display order.
HEADLINE_METRICS = (
    "adherence_rate", "employee_sentiment", "incidents", "median_hours_to_resolve", "self_reported_share",
    "training_coverage", "clarity_favourability", "trust_favourability", "response_rate", "engagement_rate",
)
_SURVEY_METRICS = frozenset({"clarity_favourability", "trust_favourability", "response_rate"})
_CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


@dataclass(frozen=True)
class ReportResult:
    """Where the report was written, the headline numbers it shows (rows of
    :func:`analytics.metrics.compare_periods`) and its areas-to-revise ranking
    (:func:`analytics.priorities.revision_ranking`)."""

    html_path: Path
    pdf_path: Path | None
    headline: pd.DataFrame
    ranking: pd.DataFrame


# --- period tables ----------------------------------------------------------------------------------

def period_table(monthly: pd.DataFrame, quarterly: pd.DataFrame, periods: Sequence[Period]) -> pd.DataFrame:
    """The published metric rows of the given periods, in the layout of ``monthly_metrics``.

    A quarter reads ``quarterly_metrics``, a month ``monthly_metrics``. A free ``--from/--to`` range
    pools the organisation-wide ("(all)") monthly rows of the whole months inside it (a range within
    one month: that month); training coverage, a stock, takes the last month's value; other rates come from
    their summed successes and n (Wilson CI), means from their pooled moments (t CI), counts summed;
    medians and engagement ratios cannot be pooled and are left empty, a metric hidden in one of the months
    is hidden, and no department or platform rows are given (their suppression was decided per month).

    Returns
    -------
    DataFrame
        Columns of :func:`analytics.metrics.period_metrics`: ``period, department, platform, metric,
        value, n, n_people, successes, sd, ci_low, ci_high, suppressed``.

    Examples
    --------
    >>> from analytics.periods import parse_period
    >>> monthly = pd.DataFrame({"period": ["2026-07", "2026-08"], "department": ALL, "platform": ALL,
    ...     "metric": "adherence_rate", "value": [0.9, 0.8], "n": [100.0, 100.0], "n_people": [40.0, 41.0],
    ...     "successes": [90.0, 80.0], "sd": np.nan, "ci_low": np.nan, "ci_high": np.nan, "suppressed": False})
    >>> pooled = period_table(monthly, monthly.iloc[:0], [parse_period(start="2026-07-01", end="2026-08-31")])
    >>> pooled[["period", "value", "n"]].values.tolist()
    [['2026-07-01..2026-08-31', 0.85, 200.0]]
    """
    pieces = []
    for period in periods:
        kind = period.kind
        if kind != "custom":
            table = quarterly if kind == "quarter" else monthly
            pieces.append(table[table["period"] == period.label])
            continue
        months = _whole_months(period)
        rows = monthly[monthly["period"].isin(months) & (monthly["department"] == ALL)
                       & (monthly["platform"] == ALL)]
        pieces.append(pd.DataFrame([_pool(metric, part, period.label) for metric, part in rows.groupby("metric")],
                                   columns=monthly.columns))
    pieces = [p for p in pieces if len(p)]
    return pd.concat(pieces, ignore_index=True) if pieces else monthly.iloc[:0].copy()


def _whole_months(period: Period) -> list[str]:
    """``YYYY-MM`` of the months wholly inside a range, else (a range within one month) the months it touches."""
    inside = [m for m in period.months
              if m >= period.start and (pd.Timestamp(m) + pd.DateOffset(months=1)).date() <= period.end]
    return [m.strftime("%Y-%m") for m in (inside or period.months)]


def _pool(metric: str, rows: pd.DataFrame, label: str) -> dict[str, Any]:
    kind = METRICS[metric].kind if metric in METRICS else "median"
    if metric == "training_coverage":
        # coverage is a stock measured at a month's end: the range's value is its last month's
        last = rows.sort_values("period").iloc[-1].to_dict()
        return last | {"period": label}
    out = {"period": label, "department": ALL, "platform": ALL, "metric": metric, "value": np.nan,
           "n": float(rows["n"].sum()), "n_people": np.nan, "successes": np.nan, "sd": np.nan, "ci_low": np.nan,
           "ci_high": np.nan, "suppressed": False}
    n = out["n"]
    if kind in ("rate", "mean", "count") and rows["suppressed"].astype(bool).any():
        # pooled from the months it could be shown for, it would be the range's figure without the others
        return out | {"n": np.nan, "suppressed": True}
    if kind == "rate" and n > 0:
        successes = float(rows["successes"].sum())
        low, high = adherence.wilson_interval(np.array([successes]), np.array([n]))
        out.update(value=successes / n, successes=successes, ci_low=float(low[0]), ci_high=float(high[0]))
    elif kind == "mean" and n > 1:
        mean = float(np.average(rows["value"], weights=rows["n"]))
        # pooled variance: within-month sums of squares plus the spread of the monthly means
        squares = ((rows["n"] - 1) * rows["sd"].fillna(0) ** 2 + rows["n"] * (rows["value"] - mean) ** 2).sum()
        sd = float(np.sqrt(squares / (n - 1)))
        half = float(stats.t.ppf(0.975, n - 1) * sd / np.sqrt(n))
        out.update(value=mean, sd=sd, ci_low=mean - half, ci_high=mean + half)
    elif kind == "count":
        out["value"] = n
    return out


def headline_metrics(
    table: pd.DataFrame,
    *,
    current: str,
    previous: str,
    current_wave: str | None = None,
    previous_wave: str | None = None,
    metrics: Sequence[str] = HEADLINE_METRICS,
) -> pd.DataFrame:
    """The report's KPI table: :func:`analytics.metrics.compare_periods` for each headline metric.

    Survey metrics are compared between the survey waves of the two periods (``current_wave``,
    ``previous_wave``); the others between the periods.

    Returns
    -------
    DataFrame
        One row per metric, the columns of :func:`~analytics.metrics.compare_periods`: ``metric, label,
        unit, definition, period, value, n, n_people, ci_low, ci_high, suppressed, previous_period,
        previous_value, change, p_value, significant``.

    Examples
    --------
    >>> rows = pd.DataFrame({"period": ["2026-Q2", "2026-Q3"], "department": ALL, "platform": ALL,
    ...     "metric": "incidents", "value": [7.0, 5.0], "n": [7.0, 5.0], "n_people": [6.0, 5.0],
    ...     "successes": np.nan, "sd": np.nan, "ci_low": np.nan, "ci_high": np.nan, "suppressed": False})
    >>> headline_metrics(rows, current="2026-Q3", previous="2026-Q2", metrics=["incidents"])[
    ...     ["metric", "value", "previous_value", "change"]].values.tolist()
    [['incidents', 5.0, 7.0, -2.0]]
    """
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(f"Unknown metrics {unknown}; choose from {sorted(METRICS)}.")
    rows = []
    for metric in metrics:
        now, before = current, previous
        if metric in _SURVEY_METRICS:
            now, before = current_wave or current, previous_wave or previous
        rows.append(compare_periods(table, metric=metric, current=now, previous=before))
    return pd.concat(rows, ignore_index=True)


# --- chromium -----------------------------------------------------------------------------------------

def find_chromium() -> str | None:
    """The Chromium executable: ``POLICY_PULSE_CHROMIUM``, else Debian's ``/usr/bin/chromium`` (or a
    Chrome on the PATH); ``None`` when there is none."""
    chosen = os.environ.get("POLICY_PULSE_CHROMIUM")
    if chosen:
        return chosen if Path(chosen).exists() else None
    for candidate in _CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def print_pdf(html_path: str | os.PathLike[str], pdf_path: str | os.PathLike[str], *,
              chromium: str | None = None, timeout: float = 180) -> Path:
    """Print an HTML file to PDF with headless Chromium, after its scripts (the plotly charts) have run.

    ``--virtual-time-budget`` lets the page's scripts run to completion before the print, and a
    throw-away profile keeps runs independent. Raises ``RuntimeError`` (with Chromium's message) when
    no PDF is written.
    """
    chromium = chromium or find_chromium()
    if chromium is None:
        raise RuntimeError("Chromium was not found; install it (Debian: apt-get install chromium) to get a PDF.")
    source, target = Path(html_path).resolve(), Path(pdf_path).resolve()
    target.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="policy-pulse-chromium-") as profile:
        command = [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--run-all-compositor-stages-before-draw", "--virtual-time-budget=5000", "--no-pdf-header-footer",
            f"--user-data-dir={profile}", f"--print-to-pdf={target}", source.as_uri(),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if not target.exists() or target.stat().st_size == 0:
        raise RuntimeError(f"Chromium did not write {target.name} (exit {done.returncode}): {done.stderr[-800:]}")
    return target


# --- loading ------------------------------------------------------------------------------------------

def _load(warehouse_file: str | os.PathLike[str] | None, period: Period) -> dict[str, Any]:
    with warehouse.read_only(warehouse_file) as con:
        present = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if not {"quarterly_metrics", "monthly_metrics", "post_facts", "incident_timings"} <= present:
            raise warehouse.WarehouseMissing("The warehouse has no derived tables yet: run `policy-pulse build`.")
        datasets.check_has_posts(period, con=con)
        data: dict[str, Any] = {
            "formats": datasets.files_by_format(con=con),
            "monthly": datasets.metric_table("month", con=con), "quarterly": datasets.metric_table("quarter", con=con),
            "versions": datasets.policy_revisions(con=con), "posts": datasets.employee_posts(con=con),
            "findings": datasets.employee_findings(con=con), "incidents": datasets.incidents(con=con),
            "respondents": datasets.respondents(con=con), "answers": datasets.survey_answers(con=con),
            "rejects": datasets.rejects_by_reason(con=con), "through": datasets.data_through(con=con),
            "coverage": datasets.coverage_by_month(period=_views_period(period), con=con),
            "built": datasets.last_build(con=con), "comments": datasets.survey_comments(con=con),
        }
    return data


def _views_period(period: Period) -> str:
    """The label the notebook views take ("up to the end of"): a custom range ends in its last month."""
    return period.label if period.kind != "custom" else period.months[-1].strftime("%Y-%m")


# --- formatting for the template -----------------------------------------------------------------------

@dataclass
class _Table:
    columns: list[str]
    rows: list[dict[str, Any]]
    caption: str = ""
    note: str = ""


@dataclass
class _Figure:
    html: str
    title: str
    how_to_read: str


@dataclass
class _Section:
    id: str
    title: str
    lead: list[str] = field(default_factory=list)
    figures: list[_Figure] = field(default_factory=list)
    tables: list[_Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _cell(text: Any, *, group_size: Any = None, hidden: bool = False, css: str = "") -> dict[str, Any]:
    return {"text": "" if text is None else str(text), "group_size": group_size, "hidden": hidden, "css": css}


def _figure(fig: go.Figure, name: str) -> _Figure:
    meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
    height = fig.layout.height or 460
    body = fig.to_html(include_plotlyjs=False, full_html=False, div_id=f"figure-{name}",
                       default_width="100%", default_height=f"{int(height)}px",
                       config={"displaylogo": False, "responsive": True})
    title = fig.layout.title.text or name
    return _Figure(html=body, title=title, how_to_read=meta.get("how_to_read", ""))


def _trend_figure(monthly: pd.DataFrame, metric: str, versions: pd.DataFrame, through: Period, k: int, name: str,
                  *, title: str, how_to_read: str, bars: bool = False) -> _Figure:
    """The organisation's monthly series of a metric up to the end of ``through``, revisions marked."""
    series = datasets.select_series(monthly, metric=metric, through=through)
    return _figure(charts.trend_chart(series, metric=metric, versions=versions, bars=bars, k=k, title=title,
                                      how_to_read=how_to_read), name)


def _k_note(k: int) -> str:
    return (f"Groups of fewer than {k} people are never shown, and a second cell is hidden where the first could "
            f"be worked out from the totals: both read “{privacy.hidden_label(k)}”.")


# --- sections -------------------------------------------------------------------------------------------

def _untested(metric: str) -> str:
    """Why a headline change has no p-value: a rate or mean is tested unless a period's figure is missing."""
    if METRICS[metric].kind in ("rate", "mean"):
        return "no test: a period's figure is hidden or missing"
    return "no test for counts, medians and ratios"


def _headline_table(headline: pd.DataFrame) -> _Table:
    rows = []
    for row in headline.to_dict("records"):
        metric = row["metric"]
        if row["suppressed"]:
            value = _cell(privacy.hidden_label(), hidden=True)
        else:
            value = _cell(format_value(metric, row["value"]), css="num")
        p_value = "" if pd.isna(row["p_value"]) else format_p(row["p_value"])
        rows.append({"Metric": _cell(row["label"]), "Unit": _cell(METRICS[metric].unit), "Period": _cell(row["period"]),
                     "Value": value, "95% CI": _cell(format_interval(metric, row["ci_low"], row["ci_high"]), css="num"),
                     "n": _cell(format_number(row["n"]), css="num"),
                     "Previous": _cell(f"{format_value(metric, row['previous_value'])} ({row['previous_period']})"),
                     "Change": _cell(format_change(metric, row["change"]), css="num"),
                     "Test": _cell(("significant, " if row["significant"] else "") + p_value if p_value else
                                   _untested(metric))})
    return _Table(columns=list(rows[0]) if rows else [], rows=rows, caption="Headline numbers",
                  note="Rates carry their Wilson 95% CI and n; changes of rates are two-proportion z-tests, of "
                       "means Welch's t-tests. Survey metrics compare survey waves.")


def _department_table(table: pd.DataFrame, metrics: Sequence[str], periods: dict[str, str], k: int) -> _Table | None:
    """The published (already suppressed) department rows of the period for some metrics."""
    rows = table[(table["department"] != ALL) & (table["platform"] == ALL) & table["metric"].isin(metrics)]
    rows = rows[[p == periods[m] for m, p in zip(rows["metric"], rows["period"], strict=True)]]
    if rows.empty:
        return None
    out = []
    for department, part in rows.groupby("department", sort=True):
        line: dict[str, Any] = {"Department": _cell(department)}
        sizes = []
        for metric in metrics:
            cell = part[part["metric"] == metric]
            label = f"{METRICS[metric].label} ({periods[metric]})"
            if cell.empty:
                line[label] = _cell("–")
                continue
            r = cell.iloc[0]
            if bool(r["suppressed"]):
                line[label] = _cell(privacy.hidden_label(k), hidden=True)
            else:
                sizes.append(r["n_people"])
                line[label] = _cell(f"{format_value(metric, r['value'])} "
                                    f"({format_interval(metric, r['ci_low'], r['ci_high'])}; "
                                    f"n = {format_number(r['n'])})", group_size=int(r["n_people"]), css="num")
        out.append(line)
    return _Table(columns=list(out[0]), rows=out, caption="By department (95% CI; n)", note=_k_note(k))


def _summary_sentences(headline: pd.DataFrame, revision: pd.Series | None, changes: pd.DataFrame,
                       ranking: pd.DataFrame, k: int) -> list[str]:
    by_metric = headline.set_index("metric")
    sentences = [insights.metric_sentence(by_metric.loc["adherence_rate"].to_dict() | {"metric": "adherence_rate"},
                                          k=k)]
    if revision is not None:
        sentences.append(insights.revision_sentence(revision))
    if len(changes):
        sentences.append(insights.survey_change_sentences(changes)[0])
    if "median_hours_to_resolve" in by_metric.index:
        sentences.append(insights.metric_sentence(
            by_metric.loc["median_hours_to_resolve"].to_dict() | {"metric": "median_hours_to_resolve"}, k=k))
    if len(ranking):
        sentences.append(_top_area_sentence(ranking))
    return sentences[:5]


def _top_area_sentence(ranking: pd.DataFrame) -> str:
    top = ranking.iloc[0]
    second = ranking.iloc[1]["area"] if len(ranking) > 1 else None
    follow = f", followed by {second}" if second else ""
    return (f"The area most in need of revision is {top['area']} (score {top['score']:.0f} on the ranking's "
            f"0–100+ scale, 95% simulation interval {top['score_low']:.0f} to {top['score_high']:.0f}; ranked here "
            f"or higher in "
            f"{top['rank_probability']:.0%} of re-draws, {top['sureness']}){follow}. "
            f"Evidence: {top['evidence']}")


def _latest_revision(period: Period, version: str, effective: Any, summary: str) -> str:
    # "up to": a revision effective within the period (2026-01-15 in 2026-Q1) is not "before" it
    return (f"The latest revision up to {period.label} is version {version} (effective "
            f"{pd.Timestamp(effective):%Y-%m-%d}): {str(summary).rstrip('.')}.")


def _revision_section(views: Any, period: Period, versions: pd.DataFrame, monthly: pd.DataFrame,
                      warehouse_file: Any, k: int) -> tuple[_Section, pd.Series | None]:
    section = _Section("revision", dict(SECTIONS)["revision"])
    label = _views_period(period)
    its = views.revision_effects(period=label, metric="adherence_rate", warehouse_file=warehouse_file)
    sentiment_its = views.revision_effects(period=label, metric="employee_sentiment", warehouse_file=warehouse_file)
    latest = None
    if len(its):
        starts = pd.to_datetime(its["interruption"])
        before = its[starts < pd.Timestamp(period.start)]
        chosen = before if len(before) else its[starts < pd.Timestamp(period.end)]
        if len(chosen):
            latest = chosen.iloc[-1]
    # the revision in force is named even when too recent to measure (2026-02 told 2.0 as the latest, with 3.0
    # in force since 2026-01-15); the last measurable one follows
    months = monthly.loc[monthly["metric"] == "adherence_rate", "period"]
    recent = insights.unmeasured_revision(versions, its, first=f"{months.min()}-01" if len(months) else period.start,
                                          last=pd.Timestamp(period.end) - pd.Timedelta(days=1))
    if recent is not None:
        section.lead += [_latest_revision(period, recent["version"], recent["effective_on"], recent["summary"]),
                         insights.too_recent_sentence(recent)]
    elif latest is not None:
        section.lead.append(_latest_revision(period, latest["version"], latest["interruption"], latest["summary"]))
    else:
        section.lead.append("No policy revision has enough months on both sides (three or more) to estimate its "
                            "effect yet.")
    if latest is not None:
        section.lead.append(("The last one measurable: " if recent is not None else "")
                            + insights.revision_sentence(latest))
        match = sentiment_its[sentiment_its["version"] == latest["version"]] if len(sentiment_its) else sentiment_its
        if len(match):
            section.lead.append(insights.revision_sentence(match.iloc[0], label="Employee-post sentiment",
                                                           scale="score"))
    section.figures.append(_trend_figure(
        monthly, "adherence_rate", versions, period, k, "revision-adherence",
        title="Adherence rate per month, with policy revisions",
        how_to_read="Each point is one month's share of employee posts without a medium or high finding (higher is "
                    "better); the band is the 95% CI; dashed lines mark policy revisions."))
    rows = []
    for metric, table in (("adherence_rate", its), ("employee_sentiment", sentiment_its)):
        for r in table.to_dict("records") if len(table) else []:
            scale = 100 if METRICS[metric].kind == "rate" else 1
            unit = " points" if scale == 100 else ""
            # a level and its interval in the same precision (points to a tenth, scores to a hundredth)
            level_digits = 1 if scale == 100 else 2
            rows.append({
                "Metric": _cell(METRICS[metric].label), "Version": _cell(r["version"]),
                "Effective": _cell(f"{pd.Timestamp(r['interruption']):%Y-%m-%d}"),
                "Level change": _cell(f"{format_signed(scale * r['level_change'], level_digits)}{unit}", css="num"),
                "95% CI (level)": _cell(format_range(scale * r["level_ci_low"], scale * r["level_ci_high"],
                                                     level_digits), css="num"),
                "Slope change / month": _cell(f"{format_signed(scale * r['slope_change'])}{unit}", css="num"),
                "95% CI (slope)": _cell(format_range(scale * r["slope_ci_low"], scale * r["slope_ci_high"]),
                                        css="num"),
                "Months before / after": _cell(f"{r['n_before']} / {r['n_after']}", css="num"),
            })
    if rows:
        section.tables.append(_Table(list(rows[0]), rows, caption="Interrupted time series at each revision",
                                     note="Segmented regression of the monthly series, weighted by the month's n; "
                                          "standard errors are the larger of classical and Newey–West."))
    return section, latest


def _adherence_section(by_area: pd.DataFrame, rules: pd.DataFrame, current: Period, previous: Period,
                       dept_table: _Table | None, k: int) -> _Section:
    section = _Section("adherence", dict(SECTIONS)["adherence"])
    ruled = by_area[by_area["has_rules"]]
    for row in ruled.sort_values("adherence_rate").to_dict("records")[:3]:
        verdict = ("significantly " + ("up" if row["change"] > 0 else "down")) if row["significant"] else \
            "no significant change"
        section.lead.append(
            f"{row['area'].capitalize()}: {format_value('adherence_rate', row['adherence_rate'])} of employee posts "
            f"kept its rules in "
            f"{current.label} (95% CI {format_interval('adherence_rate', row['ci_low'], row['ci_high'])}; "
            f"n = {format_number(row['n_posts'])}), "
            f"{format_points(row['change'])} against {previous.label} ({verdict}, "
            f"{format_p(row['p_value'])}).")
    # breach shares (0-5 %) show the differences that adherence rates near 100 % hide
    bars = pd.concat([
        pd.DataFrame({"area": ruled["area"], "period": label, "breach": 1 - ruled[f"{prefix}adherence_rate"],
                      "low": 1 - ruled[f"{prefix}ci_high"], "high": 1 - ruled[f"{prefix}ci_low"],
                      "n_posts": ruled[f"{prefix}n_posts"]})
        for label, prefix in ((previous.label, "previous_"), (current.label, ""))
    ], ignore_index=True)
    fig = charts.bar_chart(bars, category="area", value="breach", colour="period", n="n_posts", ci=("low", "high"),
                           percent=True, k=k, title=f"Posts breaking each area's rules, {previous.label} and "
                                                    f"{current.label}",
                           axis_title="Employee posts with a medium or high finding in the area (% of employee posts)",
                           how_to_read="A shorter bar is better; whiskers are 95% CIs and n is the number of employee "
                                       "posts. Areas without monitoring rules are not drawn.")
    fig.update_layout(height=max(380, fig.layout.height or 0), legend=dict(y=-0.3))
    section.figures.append(_figure(fig, "adherence-areas"))
    table_rows = []
    for row in by_area.to_dict("records"):
        if not row["has_rules"]:
            table_rows.append({"Area": _cell(row["area"]), "Adherence": _cell("no monitoring rule in this area"),
                               # no rule, so no post is counted for the area: the quarter's posts are no n of it
                               "95% CI": _cell("–"), "n posts": _cell("–"),
                               f"{previous.label}": _cell("–"), "Change": _cell("–"), "Test": _cell("–")})
            continue
        table_rows.append({
            "Area": _cell(row["area"]),
            "Adherence": _cell(format_value("adherence_rate", row["adherence_rate"]), css="num"),
            "95% CI": _cell(format_interval("adherence_rate", row["ci_low"], row["ci_high"]), css="num"),
            "n posts": _cell(format_number(row["n_posts"]), css="num"),
            f"{previous.label}": _cell(f"{format_value('adherence_rate', row['previous_adherence_rate'])} (n = "
                                       f"{format_number(row['previous_n_posts'])})", css="num"),
            "Change": _cell(format_points(row["change"]), css="num"),
            "Test": _cell(("significant, " if row["significant"] else "") + format_p(row["p_value"])),
        })
    section.tables.append(_Table(list(table_rows[0]), table_rows, caption=f"Adherence by policy area, {current.label}"))
    rule_rows = [{"Rule": _cell(r["name"]), "Area": _cell(r["area"]), "Severity": _cell(r["severity"]),
                  "Posts": _cell(format_number(r["n_posts"]), css="num"),
                  "Share of employee posts (95% CI; n)": _cell(
                      f"{format_percent(r['share_of_posts'], 2)} ({format_percent(r['share_ci_low'], 2)} to "
                      f"{format_percent(r['share_ci_high'], 2)}; "
                      f"n = {int(r['n_employee_posts']):,})", css="num"),
                  f"Posts in {previous.label}": _cell(format_number(r["previous_n_posts"]), css="num"),
                  "What the rule checks": _cell(r["explanation"])} for r in rules.to_dict("records")]
    if rule_rows:
        section.tables.append(_Table(list(rule_rows[0]), rule_rows,
                                     caption=f"Rules that fired, {current.label} and {previous.label}",
                                     note="Posts a rule fired on (dismissed false positives excluded). "
                                          "Individual findings are for coaching in the analyst notebooks only."))
        section.lead.append(insights.rules_sentence(rules, period=current.label))
    if dept_table is not None:
        section.tables.append(dept_table)
    return section


def _rules_table(posts: pd.DataFrame, findings: pd.DataFrame, current: Period, previous: Period,
                 timezone: str) -> pd.DataFrame:
    """:func:`analytics.priorities.rules_fired` of the period, with the posts each rule fired on before: the
    rules that fired on a post in either period (a rule whose every finding was dismissed did not)."""
    def inside(period: Period) -> pd.DataFrame:
        return posts[period.contains(posts["published_at"], timezone).to_numpy()]

    out = priorities.rules_fired(inside(current), findings)
    before = priorities.rules_fired(inside(previous), findings).set_index("rule_id")["n_posts"]
    out = out.assign(previous_n_posts=out["rule_id"].map(before).fillna(0).astype("int64"))
    return out[(out["n_posts"] > 0) | (out["previous_n_posts"] > 0)].reset_index(drop=True)


def _survey_section(data: dict[str, pd.DataFrame], waves: tuple[str | None, str | None], table: pd.DataFrame,
                    k: int) -> tuple[_Section, pd.DataFrame]:
    section = _Section("survey", dict(SECTIONS)["survey"])
    current_wave, previous_wave = waves
    codebook = load_codebook()
    items = codebook.items_frame()
    answers, respondents = data["answers"], data["respondents"]
    empty = pd.DataFrame()
    if current_wave is None:
        section.lead.append("No survey wave falls in this period.")
        return section, empty
    favourable = priorities.clarity_by_wave(answers, respondents, k=k)
    shown_waves = [w for w in (previous_wave, current_wave) if w]
    bars = favourable[favourable["wave"].isin(shown_waves)]
    fig = charts.bar_chart(bars, category="area", value="favourable", colour="wave", n="n", ci=("ci_low", "ci_high"),
                           suppressed="suppressed", percent=True, k=k,
                           title="“The policy is clear” by policy area",
                           axis_title="Favourable answers (% of respondents, agree or strongly agree)",
                           how_to_read="A longer bar means more respondents find that part of the policy clear; "
                                       "whiskers are 95% CIs; n is respondents.")
    section.figures.append(_figure(fig, "survey-clarity"))
    constructs = survey.favourability(answers, items, respondents, level="construct", by="wave", k=k)
    now = constructs[constructs["wave"] == current_wave].rename(columns={"wave": "_wave"})
    section.lead.append(insights.favourability_sentence(now, wave=current_wave))
    construct_changes = item_changes = empty
    if previous_wave:
        construct_changes = survey.wave_change(answers, items, respondents, level="construct", current=current_wave,
                                               previous=previous_wave, k=k)
        item_changes = priorities.clarity_change(answers, respondents, current_wave=current_wave,
                                                 previous_wave=previous_wave, k=k)
        section.lead += insights.survey_change_sentences(construct_changes)
        significant = item_changes["significant"].astype("boolean").fillna(False).to_numpy(bool)
        if significant.any():
            section.lead += insights.survey_change_sentences(
                item_changes[significant].assign(construct="clarity of " + item_changes["area"][significant]))
        else:
            section.lead.append("No policy area's “the policy is clear” item changed significantly after the "
                                "Benjamini-Hochberg adjustment.")
    else:
        section.lead.append("There is no earlier wave to compare with.")
    # clarity has one item per area, so as a construct it speaks for every area
    area_of = {c.id: "all areas" if c.id == "clarity" else c.area for c in codebook.constructs.values()}
    rows = []
    for frame, unit in ((construct_changes, "construct"), (item_changes, "item_id")):
        for r in frame.to_dict("records") if len(frame) else []:
            name = r["construct"] if unit == "construct" else f"clarity: {r['area']}"
            area = area_of.get(r["construct"], "") if unit == "construct" else r["area"]
            if bool(r["suppressed"]):
                rows.append({"Measure": _cell(name), "Area": _cell(area), "Mean (1–5)": _cell(privacy.hidden_label(k),
                                                                                              hidden=True),
                             "Change": _cell("–"), "95% CI": _cell("–"), "BH-adjusted p": _cell("–"),
                             "n": _cell("–")})
                continue
            rows.append({
                "Measure": _cell(name), "Area": _cell(area),
                "Mean (1–5)": _cell(f"{r['mean_previous']:.2f} → {r['mean_current']:.2f}", css="num"),
                "Change": _cell(format_signed(r['change']), css="num"),
                "95% CI": _cell(format_range(r["ci_low"], r["ci_high"]), css="num"),
                "BH-adjusted p": _cell(("significant, " if r["significant"] is True else "")
                                       + format_p(r["p_adjusted"])),
                "n": _cell(f"{int(r['n_previous'])} / {int(r['n_current'])}", css="num",
                           group_size=int(min(r["n_previous"], r["n_current"]))),
            })
    if rows:
        section.tables.append(_Table(list(rows[0]), rows, caption=f"Changes from {previous_wave} to {current_wave}",
                                     note="Welch's t-test per row; p-values adjusted with Benjamini–Hochberg within "
                                          "each family (the six constructs; the seven clarity items)."))
    departments = _department_table(table, ["clarity_favourability", "trust_favourability"],
                                    {"clarity_favourability": current_wave, "trust_favourability": current_wave}, k)
    if departments is not None:
        section.tables.append(departments)
    return section, construct_changes


def _incidents_section(by_area: pd.DataFrame, headline: pd.DataFrame, monthly: pd.DataFrame, versions: pd.DataFrame,
                       current: Period, previous: Period, k: int) -> _Section:
    section = _Section("incidents", dict(SECTIONS)["incidents"])
    by_metric = headline.set_index("metric")
    for metric in ("incidents", "median_hours_to_resolve", "self_reported_share"):
        if metric in by_metric.index:
            section.lead.append(insights.metric_sentence(by_metric.loc[metric].to_dict() | {"metric": metric}, k=k))
    section.figures.append(_trend_figure(
        monthly, "incidents", versions, current, k, "incidents-monthly", bars=True,
        title="Incidents reported per month",
        how_to_read="Each bar is the number of incidents (posting mistakes) reported in a month (lower is better); "
                    "dashed lines mark policy revisions."))

    def figure(r: dict[str, Any], shown: str | None) -> dict[str, Any]:
        # an area without incidents has no figure to hide; incident_figures_by_period hid the others' small ones
        if not r["n_current"]:
            return _cell("–", css="num")
        return _cell(privacy.hidden_label(k), hidden=True) if shown is None else _cell(shown, css="num")

    rows = [{"Area": _cell(r["area"]), current.label: _cell(r["n_current"], css="num"),
             previous.label: _cell(r["n_previous"], css="num"), "Change": _cell(f"{r['change']:+d}", css="num"),
             "Exact test": _cell("–" if pd.isna(r["p_value"]) else
                                 ("significant, " if r["significant"] else "") + format_p(r["p_value"])),
             "Self-reported": figure(r, None if pd.isna(r["self_reported"]) else str(int(r["self_reported"]))),
             "Median hours to resolve": _cell("–", css="num") if current.kind == "custom" else figure(
                 r, f"{r['median_hours_to_resolve']:.1f} (n = {r['n_resolved']})"
                 if pd.notna(r["median_hours_to_resolve"]) else None)}
            for r in by_area.to_dict("records")]
    section.tables.append(_Table(list(rows[0]), rows, caption="Incidents by policy area",
                                 note="The change test is exact (binomial, conditioning on the two periods' total). "
                                      f"Medians are shown only for {k} or more resolved incidents, self-reported "
                                      f"counts for {k} or more incidents, and not where a hidden count could be "
                                      "worked out from the others and a total shown elsewhere (the period's, "
                                      "the area's in the quarter, another month's)."
                                      + (" A range other than a month or a quarter shows no medians (–) and the "
                                         "self-reported counts of its whole months, hidden where a month hides "
                                         "them: ranges a day apart would tell that day's incidents apart."
                                         if current.kind == "custom" else "")))
    return section


def _sentiment_section(headline_table: pd.DataFrame, monthly: pd.DataFrame, versions: pd.DataFrame,
                       current: str, previous: str, through: Period, k: int) -> _Section:
    section = _Section("sentiment", dict(SECTIONS)["sentiment"])
    metrics = ("employee_sentiment", "organisation_sentiment", "audience_sentiment")
    rows = headline_metrics(headline_table, current=current, previous=previous, metrics=metrics)
    section.lead += [insights.metric_sentence(r, k=k) for r in rows.to_dict("records")]
    series = pd.concat([datasets.select_series(monthly, metric=m, through=through) for m in metrics],
                       ignore_index=True)
    series = series.assign(series=series["metric"].map(lambda m: METRICS[m].label))
    fig = charts.trend_chart(series, metric="employee_sentiment", series="series", versions=versions, k=k,
                             title="Sentiment of employee posts, organisation posts and audience comments",
                             how_to_read="Each line is a monthly mean VADER compound score (−1 very negative to +1 "
                                         "very positive; higher is better); bands are 95% CIs; dashed lines mark "
                                         "policy revisions.")
    fig.update_layout(yaxis_title_text="Mean VADER compound score (−1 to +1)")
    section.figures.append(_figure(fig, "sentiment"))
    return section


def _training_section(views: Any, headline: pd.DataFrame, monthly: pd.DataFrame, versions: pd.DataFrame,
                      period: Period, warehouse_file: Any, k: int) -> _Section:
    section = _Section("training", dict(SECTIONS)["training"])
    by_metric = headline.set_index("metric")
    if "training_coverage" in by_metric.index:
        section.lead.append(insights.metric_sentence(by_metric.loc["training_coverage"].to_dict()
                                                     | {"metric": "training_coverage"}, k=k))
    chosen = _views_period(period)
    # the estimates, the groups before the rollout and the event study read the same posts: once
    posts = views.training_posts(period=chosen, warehouse_file=warehouse_file)
    effects = views.training_effects(period=chosen, warehouse_file=warehouse_file, posts=posts)
    if effects.empty:
        section.lead.append(f"Too few trained or never-trained employees (fewer than {k}) to estimate the effect "
                            "of training.")
    else:
        section.lead += insights.training_sentences(effects)
        section.lead += insights.training_caveats(views.training_baseline(posts=posts),
                                                  views.training_event_study(posts=posts))
        rows = [{"Outcome": _cell(insights.outcome_words(r["outcome"])[1].capitalize()),
                 "Estimator": _cell("logistic, month fixed effects" if r["estimator"] == "logistic" else
                                    "difference-in-differences"),
                 "Effect": _cell("odds ratio not estimable" if np.isnan(r["estimate"]) else
                                 f"odds ratio {r['estimate']:.2f}" if r["term"] == "odds_ratio" else
                                 format_points(r['estimate']), css="num"),
                 "95% CI": _cell("–" if np.isnan(r["ci_low"]) else
                                 format_range(r["ci_low"], r["ci_high"]) if r["term"] == "odds_ratio" else
                                 format_range(100 * r["ci_low"], 100 * r["ci_high"], 1), css="num"),
                 "p": _cell("–" if np.isnan(r["p_value"]) else format_p(r["p_value"])),
                 "Posts / employees": _cell(f"{int(r['n_obs']):,} / {int(r['n_clusters']):,}", css="num",
                                            group_size=int(r["n_clusters"]))}
                for r in effects.to_dict("records")]
        section.tables.append(_Table(list(rows[0]), rows, caption="Trained and untrained employees' posts compared",
                                     note="Standard errors clustered by employee; adjusted for department."))
    section.figures.append(_trend_figure(
        monthly, "training_coverage", versions, period, k, "training-coverage",
        title="Training coverage at the end of each month",
        how_to_read="Each point is the share of employees on the roster who have completed the policy training "
                    "(higher is better); the band is the 95% CI; dashed lines mark policy revisions."))
    return section


#: Words and phrases per policy area the report shows: the most used in the wave and in the one before.
VOICES_TOP = 3


def _voices_section(comments: pd.DataFrame, wave: str | None, previous_wave: str | None, k: int) -> _Section:
    section = _Section("voices", dict(SECTIONS)["voices"])
    minimum = config.get_settings().min_comments_shown
    now = comments[comments["wave"] == wave] if wave else comments.iloc[:0]
    if len(now) < minimum:
        section.lead.append(f"Fewer than {minimum} survey comments in {wave or 'this period'}: too few to show "
                            "themes without pointing at the people who wrote them.")
        return section
    # areas with fewer than k comments show no terms; examples only where an area has `minimum` comments
    themes = feedback.wave_themes(comments, wave=wave, previous=previous_wave, top=VOICES_TOP, k=k,
                                  min_comments=minimum)
    compared = themes["previous_wave"].iloc[0] if len(themes) else None
    if themes.empty:
        section.lead.append(f"No word or phrase recurs in the {len(now):,} survey comments of {wave}.")
        return section
    section.lead += insights.feedback_sentences(themes, top=VOICES_TOP)
    rows = []
    for r in themes.to_dict("records"):
        then = "–" if compared is None else (f"{format_number(r['previous_mentions'])} of "
                                             f"{format_number(r['previous_n_comments'])} "
                                             f"({format_percent(r['previous_share'])})")
        change = "–" if compared is None else (f"{format_points(r['change'])}, {r['direction']} "
                                               f"(adjusted {format_p(r['p_adjusted'])})")
        rows.append({
            "Area": _cell(f"{r['area']} ({format_number(r['n_comments'])} comments)"),
            "Word or phrase": _cell(r["term"]),
            f"Comments using it, {wave}": _cell(f"{format_number(r['n_mentions'])} ({format_percent(r['share'])})",
                                                css="num"),
            # a tone from fewer than k comments would be their few writers' tone (feedback.wave_themes hides it)
            "Their tone": _cell(f"fewer than {k} comments" if r["n_mentions"] < k else
                                format_signed(r["mean_sentiment"]), css="num"),
            f"{compared or 'Previous wave'}": _cell(then, css="num"),
            "Change": _cell(change),
            "Example (redacted)": _cell("–" if pd.isna(r["example"]) else f"“{r['example']}”"),
        })
    note = (f"The {VOICES_TOP} words and phrases used in the most comments on each area's questions in {wave}"
            + (f" and in {compared} (so fading themes show too); the change is the share now minus then, "
               "two-proportion z-test, its p adjusted (Benjamini–Hochberg) over every term in this table, so that "
               "a change called rising or falling is not one of the many tests passing by chance" if compared else "")
            +
            f". Tone is the mean VADER compound (−1 to +1) of the comments using it, shown for {k} or more. "
            "Comments are redacted before "
            f"they are stored and are never attributed to a person; areas with fewer than {k} comments are not "
            f"shown, nor examples for areas with fewer than {minimum}.")
    section.tables.append(_Table(list(rows[0]), rows, caption=f"Themes in survey comments, {wave}", note=note))
    return section


def _revise_section(ranking: pd.DataFrame) -> _Section:
    section = _Section("revise", dict(SECTIONS)["revise"])
    section.lead.append(priorities.RANKING_NOTE)
    rows = []
    for r in ranking.to_dict("records"):
        rows.append({
            "Rank": _cell(r["rank"], css="num"), "Area": _cell(r["area"]),
            "Score (0–100+)": _cell(f"{r['score']:.0f}", css="num"),
            "95% interval": _cell(f"{r['score_low']:.0f} to {r['score_high']:.0f}", css="num"),
            "Breaches / clarity / incidents / changes": _cell(
                f"{100 * r['adherence_component'] / 3:.0f} + {100 * r['clarity_component'] / 3:.0f} + "
                f"{100 * r['incident_component'] / 3:.0f} {format_signed(r['change_points'], 0)}", css="num"),
            "How sure": _cell(priorities.how_sure(r["rank_probability"], r["sureness"])),
            "Evidence": _cell(r["evidence"]),
        })
    section.tables.append(_Table(list(rows[0]) if rows else [], rows, caption="Areas to revise, most urgent first"))
    return section


def _methods_section(data: dict[str, Any], k: int) -> _Section:
    section = _Section("methods", dict(SECTIONS)["methods"])
    files = data["formats"][["files", "rows_read", "rows_loaded", "rows_rejected"]].sum()
    through = data["through"].dropna(subset=["latest"])
    latest_text = ", ".join(f"{r.source} through {pd.Timestamp(r.latest):%Y-%m-%d}" for r in through.itertuples())
    rejected = int(files["rows_rejected"])
    section.lead.append(f"Small-group threshold k = {k}: " + _k_note(k))
    section.lead.append(f"Data coverage: {insights.format_count(files['files'], 'file')}, "
                        f"{insights.format_count(files['rows_read'], 'row')} read, {int(files['rows_loaded']):,} "
                        f"loaded and {rejected:,} rejected. "
                        f"Data: {latest_text}.")
    coverage = data["coverage"]
    section.lead.append(insights.coverage_sentence(coverage))
    if len(data["rejects"]):
        section.lead.append(insights.rejects_sentence(data["rejects"]))
    built = data["built"]
    if built is not None:
        section.lead.append(f"Warehouse built {pd.Timestamp(built):%Y-%m-%d %H:%M} UTC; report by Policy Pulse "
                            f"{__version__}.")
    definitions = metric_definitions()
    rows = [{"Metric": _cell(r["label"]), "Unit": _cell(r["unit"]), "Definition": _cell(r["definition"]),
             "Direction": _cell("higher is better" if r["higher_is_better"] else "lower is better")}
            for r in definitions.to_dict("records")]
    section.tables.append(_Table(list(rows[0]), rows, caption="Metric definitions"))
    formats = [{"Export": _cell(r["export"]), "Format id": _cell(r["format"]),
                "Files": _cell(int(r["files"]), css="num"),
                "Rows read": _cell(format_number(r["rows_read"]), css="num"),
                "Loaded": _cell(format_number(r["rows_loaded"]), css="num"),
                "Rejected": _cell(format_number(r["rows_rejected"]), css="num")}
               for r in data["formats"].to_dict("records")]
    if formats:
        section.tables.append(_Table(list(formats[0]), formats, caption="Files loaded by export"))
    gaps = coverage[coverage["gap"]] if len(coverage) else coverage
    gap_rows = [{"Platform": _cell(r["platform"]), "Month": _cell(f"{pd.Timestamp(r['month']):%Y-%m}")}
                for r in gaps.to_dict("records")]
    section.tables.append(_Table(["Platform", "Month"], gap_rows, caption="Missing platform-months",
                                 note="" if gap_rows else "None: every platform has posts in every month."))
    section.notes += [
        "Rates: share with Wilson 95% score interval; means: t interval. Period changes: two-proportion z-test "
        "(rates), Welch's t-test (means); headline counts and medians are compared without a test (the incidents "
        "by area, with an exact binomial test given the two periods' total). The test takes the two periods as "
        "independent samples; training coverage and the response rate count largely the same roster in both, "
        "for which it is conservative: a change it calls significant is, one it does not may still be real.",
        "Survey: unfinished responses are excluded; favourable = agree or strongly agree after reverse coding "
        "(top-2-box); wave changes use Welch's t-test on construct or item means with Benjamini–Hochberg adjustment "
        "within each family.",
        "What changed since the last revision: interrupted time series (segmented regression on the monthly "
        "series, weighted by n; all fitted revisions jointly); standard errors are the larger of classical and "
        "Newey–West; a revision needs three months on each side.",
        "Training: logistic regression with month fixed effects (odds ratio) and difference-in-differences "
        "(linear probability model), both adjusted for department and clustered by employee; the rollout starts on "
        "the day of the first completion.",
        "Areas to revise: score = 100 × mean(breach share ÷ worst area's breach share, unfavourable-clarity share ÷ "
        "worst area's, incidents ÷ worst area's or ÷ "
        f"{priorities.FEWEST_TELLING_INCIDENTS} if that is more, the fewest an exact binomial test tells from none, "
        "so that one or two incidents do not count as the worst) + 10 points per evidence line significantly worse "
        "than the previous period − 10 per line significantly better (adherence: two-proportion test p < 0.05; "
        "clarity: BH-adjusted p < 0.05; incidents: exact binomial test p < 0.05). Areas without rules or incidents "
        "score 0 on that line. How sure: 2,000 seeded re-draws of the three shares and counts from their Jeffreys "
        "posteriors (Beta for shares, Gamma for counts); the share of re-draws in which the area ranks at its place "
        "or higher (sure ≥ 80%, fairly sure ≥ 50%, else unsure); the score interval is the 2.5–97.5 percentile.",
        "Privacy: people appear only as pseudonymous keys in the warehouse and never in this report; free text is "
        "redacted before it is stored; no individual finding is shown.",
    ]
    return section


# --- the report ------------------------------------------------------------------------------------------

def _output_path(out: str | os.PathLike[str] | None, period: Period) -> Path:
    name = f"policy-pulse-report-{re.sub(r'[^0-9A-Za-z.-]+', '_', period.label)}.html"
    if out is None:
        return config.REPORTS_DIR / name
    target = Path(out).expanduser()
    if target.is_dir() or not target.suffix:
        return target / name
    return target


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("analytics", "templates"),
                              autoescape=jinja2.select_autoescape(["html", "j2"]), undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True)


def build_report(
    *,
    period: Period,
    previous: Period | None = None,
    warehouse_file: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    pdf: bool = True,
) -> ReportResult:
    """Write the committee trend report for ``period`` (compared with ``previous``, default the preceding
    period of equal length).

    Parameters
    ----------
    period, previous : Period
        From :func:`analytics.periods.parse_period`; ``previous`` defaults to ``period.previous()``.
    warehouse_file : path, optional
        The warehouse (its published snapshot is read); defaults through :mod:`analytics.config`.
    out : path, optional
        An ``.html`` file, or a folder for ``policy-pulse-report-<period>.html``; default ``reports/``.
    pdf : bool
        Also print a PDF next to the HTML when Chromium is installed.

    Returns
    -------
    ReportResult
        ``html_path``, ``pdf_path`` (``None`` without Chromium or with ``pdf=False``), ``headline``
        (the KPI table: rows of :func:`analytics.metrics.compare_periods`) and ``ranking`` (the areas to
        revise: :func:`analytics.priorities.revision_ranking`).
    """
    if not isinstance(period, Period) or (previous is not None and not isinstance(previous, Period)):
        raise ValueError("period and previous must be analytics.periods.Period objects (use parse_period).")
    previous = previous or period.previous()
    if previous.start >= period.start:
        raise UnreportablePeriod(f"The period to compare with ({previous.label}) must come before {period.label}.")
    settings = config.get_settings()
    k, tz = settings.k, settings.timezone
    data = _load(warehouse_file, period)
    waves = priorities.survey_waves(data["respondents"], current=period, previous=previous, timezone=tz)
    table = period_table(data["monthly"], data["quarterly"], [period, previous])
    survey_rows = data["quarterly"][data["quarterly"]["metric"].isin(_SURVEY_METRICS)
                                    & data["quarterly"]["period"].isin([w for w in waves if w])]
    # waves named like the periods are already in the quarterly rows; others (configured waves) are added
    table = pd.concat([table, survey_rows[~survey_rows["period"].isin(table["period"].unique())]],
                      ignore_index=True)
    headline = headline_metrics(table, current=period.label, previous=previous.label, current_wave=waves[0],
                                previous_wave=waves[1])
    versions = data["versions"]

    revision, latest = _revision_section(views, period, versions, data["monthly"], warehouse_file, k)
    by_area = priorities.area_adherence(data["posts"], data["findings"], current=period, previous=previous,
                                        timezone=tz)
    rules = _rules_table(data["posts"], data["findings"], period, previous, tz)
    adherence_departments = _department_table(table, ["adherence_rate", "employee_sentiment"],
                                              {"adherence_rate": period.label, "employee_sentiment": period.label}, k)
    survey_section, construct_changes = _survey_section(data, waves, table, k)
    incidents = priorities.incidents_by_area(data["incidents"], current=period, previous=previous, timezone=tz, k=k)
    ranking = priorities.revision_ranking(priorities.area_evidence(period=period, previous=previous,
                                                                   warehouse_file=warehouse_file, k=k))

    summary = _Section("summary", dict(SECTIONS)["summary"])
    summary.lead = _summary_sentences(headline, latest, construct_changes, ranking, k)
    summary.tables.append(_headline_table(headline))
    if period.kind == "custom":
        months = _whole_months(period)
        summary.tables[-1].note += (f" This range's headline pools the whole months {months[0]} to {months[-1]}; "
                                    "medians and engagement ratios are published per month and quarter only.")
    sections = [
        summary, revision,
        _adherence_section(by_area, rules, period, previous, adherence_departments, k),
        survey_section,
        _incidents_section(incidents, headline, data["monthly"], versions, period, previous, k),
        _sentiment_section(table, data["monthly"], versions, period.label, previous.label, period, k),
        _training_section(views, headline, data["monthly"], versions, period, warehouse_file, k),
        _voices_section(data["comments"], waves[0], waves[1], k),
        _revise_section(ranking),
        _methods_section(data, k),
    ]
    through = data["through"].dropna(subset=["latest"])
    page = _environment().get_template("report.html.j2").render(
        title=f"Policy Pulse committee trend report, {period.label}",
        organisation=settings.organisation_name, period=period, previous=previous,
        sections=sections, k=k, hidden_label=privacy.hidden_label(k),
        data_through=pd.Timestamp(through["latest"].max()).strftime("%Y-%m-%d") if len(through) else "–",
        plotly_js=plotly.offline.get_plotlyjs(),
    )
    html_path = _output_path(out, period)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = html_path.with_suffix(".html.tmp")
    temporary.write_text(page, encoding="utf-8")
    os.replace(temporary, html_path)
    pdf_path = None
    if pdf and find_chromium() is not None:
        pdf_path = print_pdf(html_path, html_path.with_suffix(".pdf"))
    return ReportResult(html_path=html_path, pdf_path=pdf_path, headline=headline, ranking=ranking)
