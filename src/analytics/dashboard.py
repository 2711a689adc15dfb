"""The logic of the Voila dashboards: loading, KPI tiles, coverage, filters, priorities, and the widgets.

The notebooks in ``dashboards/`` only call :func:`leadership` and :func:`policy_review`. Everything
they show is read through one short-lived read-only connection (the snapshot the last build
published) from precomputed tables and small aggregates, so the first render does not depend on the
size of the data. Leadership surfaces show aggregates only: findings are counted per rule, never
listed; groups below k people (and a second cell that would reveal one) read "hidden to protect a group
of fewer than k people".

A missing or empty warehouse shows what to run; a warehouse busy with a writer shows "busy, retry"
and a Retry button instead of an error.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import html
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analytics import config, datasets, engagement, feedback, insights, priorities, privacy, themes, warehouse
from analytics import notebook_views as views
from analytics.adherence import AREAS, SEVERITIES, rules_frame
from analytics.charts import as_widget, bar_chart, period_start, trend_chart
from analytics.codebook import load_codebook
from analytics.metrics import ALL, METRICS, compare_periods, incident_figures_by_period
from analytics.periods import parse_period, period_labels
from analytics.snapshots import published_version

__all__ = [
    "CLARITY_WAVES",
    "KPI_METRICS",
    "RECOGNITION_MIN_POSTS",
    "DashboardData",
    "Filters",
    "PolicyReview",
    "area_adherence",
    "coverage_banner",
    "csv_link",
    "filter_options",
    "findings_by_rule",
    "kpi_tiles",
    "leadership",
    "load_data",
    "policy_review",
    "recent_waves",
    "recognition_lists",
    "refresh_figure",
    "revision_effect",
    "revision_priorities",
    "trend_frame",
]

#: The leadership KPI tiles, in display order.
KPI_METRICS = ("adherence_rate", "incidents", "median_hours_to_resolve", "employee_sentiment", "engagement_rate",
               "trust_favourability", "response_rate", "training_coverage")
#: Metrics measured per survey wave rather than per calendar period.
SURVEY_METRICS = frozenset({"response_rate", "trust_favourability", "clarity_favourability"})
ORGANISATION = "Organisation"
#: Survey waves the policy review's clarity chart shows (a year of quarterly waves; its CSV holds the same).
CLARITY_WAVES = 4
#: Posts a person needs in the quarter to be considered for recognition (a quarter holds few posts per person).
RECOGNITION_MIN_POSTS = 3


# --- loading ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DashboardData:
    """Everything the dashboards show, read once from the warehouse snapshot.

    ``monthly`` / ``quarterly``: the metric tables; ``versions``: policy revisions; ``coverage``:
    posts per platform and month with the missing platform-months (:func:`analytics.datasets.coverage_by_month`,
    ``month`` a Timestamp); ``findings``: non-dismissed findings on
    employee posts per ``month, area, rule_id, severity`` (``findings``); ``area_posts``: employee posts
    with a medium/high finding per ``month, area`` (``posts_with_finding``); ``employee_posts``:
    ``month, posts``; ``incidents``: ``month, area, severity, detection, hours_to_report, hours_to_resolve``
    (no people);
    ``clarity``: favourability of each clarity item per wave (``wave, item_id, area, text, n,
    favourable, ci_low, ci_high, suppressed``). Months are ``YYYY-MM`` strings but in ``coverage``.

    The positive side: ``story``: mission-story share per ``quarter, department``
    (:func:`analytics.themes.mission_story_share`, k-suppressed); ``mission``: clicks on the
    organisation's posts linking to each mission page per quarter (:func:`analytics.engagement.mission_value`,
    ``period, page, n_posts, n_reporting_clicks, clicks``); ``teams``: :func:`~analytics.engagement.team_recognition`
    per quarter (``period`` added, k-suppressed); ``people``: opted-in people recognised per quarter,
    ``period, display_name, department`` only (no finding or adherence figure per person).
    """

    warehouse: Path
    monthly: pd.DataFrame
    quarterly: pd.DataFrame
    versions: pd.DataFrame
    coverage: pd.DataFrame
    findings: pd.DataFrame
    area_posts: pd.DataFrame
    employee_posts: pd.DataFrame
    incidents: pd.DataFrame
    clarity: pd.DataFrame
    data_through: pd.Timestamp | None = None
    built_at: pd.Timestamp | None = None
    k: int = 5
    areas: dict[str, str] = field(default_factory=dict)
    story: pd.DataFrame = field(default_factory=pd.DataFrame)
    mission: pd.DataFrame = field(default_factory=pd.DataFrame)
    teams: pd.DataFrame = field(default_factory=pd.DataFrame)
    people: pd.DataFrame = field(default_factory=pd.DataFrame)

    @functools.cached_property
    def survey(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The survey's respondents and comments (:func:`analytics.datasets.survey_comments`), read once, when
        first asked for: only the policy review's voices read them."""
        with warehouse.read_only(self.warehouse) as con:
            return datasets.respondents(con=con), datasets.survey_comments(con=con)


_NOT_BUILT = ("The warehouse {name} has not been built yet: run `policy-pulse build` (or `make demo` for the "
              "sample organisation), then reload this page.")
_EMPTY = ("The warehouse {name} holds no data yet: run `policy-pulse ingest data/raw` and `policy-pulse build` "
          "(or `make demo` for the sample organisation), then reload this page.")


def load_data(path: str | os.PathLike[str] | None = None) -> DashboardData:
    """Read what the dashboards show through one read-only connection.

    Raises :class:`~analytics.warehouse.WarehouseMissing` (the message says what to run) when there is
    no warehouse, or it is not built or empty, and :class:`~analytics.warehouse.WarehouseBusy` while a
    writer holds it.
    """
    settings = config.get_settings()
    target = config.warehouse_path(path)
    with warehouse.read_only(target) as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if not {"monthly_metrics", "quarterly_metrics", "post_facts"} <= tables:
            raise warehouse.WarehouseMissing(_NOT_BUILT.format(name=target.name))
        monthly = datasets.metric_table("month", con=con)
        if monthly.empty:
            raise warehouse.WarehouseMissing(_EMPTY.format(name=target.name))
        quarterly = datasets.metric_table("quarter", con=con)
        versions = datasets.policy_revisions(con=con)
        coverage = datasets.coverage_by_month(con=con)
        through = datasets.data_through(con=con).set_index("source")["latest"]
        built = datasets.last_build(con=con)
        findings = con.execute(
            """SELECT p.month, f.area, f.rule_id, f.severity, count(*) AS findings
               FROM post_findings f JOIN post_facts p USING (post_uid)
               WHERE NOT coalesce(f.dismissed, false) AND p.account_type = 'employee' GROUP BY ALL"""
        ).df()
        area_posts = con.execute(
            """WITH breach AS (SELECT DISTINCT post_uid, area FROM post_findings
                               WHERE NOT coalesce(dismissed, false) AND severity IN ('medium', 'high'))
               SELECT p.month, b.area, count(*) AS posts_with_finding
               FROM breach b JOIN post_facts p USING (post_uid) WHERE p.account_type = 'employee' GROUP BY ALL"""
        ).df()
        employee_posts = con.execute("SELECT month, count(*) AS posts FROM post_facts "
                                     "WHERE account_type = 'employee' GROUP BY month").df()
        incidents = datasets.incidents(con=con)[["month", "area", "severity", "detection", "hours_to_report",
                                                 "hours_to_resolve"]]
        clarity = _clarity(con, settings.k)
        positive = _positive_side(con, tables, filter_options(quarterly)["periods"], settings.k)
    for frame in (findings, area_posts, employee_posts, incidents):
        frame["month"] = period_labels(frame["month"], "month")
    return DashboardData(
        warehouse=target, monthly=monthly, quarterly=quarterly, versions=versions,
        coverage=coverage,
        findings=findings, area_posts=area_posts, employee_posts=employee_posts.sort_values("month",
                                                                                             ignore_index=True),
        incidents=incidents, clarity=clarity,
        data_through=None if pd.isna(through["posts"]) else through["posts"], built_at=built, k=settings.k,
        areas=dict(load_codebook().areas), **positive,
    )


_ORGANISATION_POSTS_SQL = """
SELECT f.post_uid, f.account_type, f.month, p.text, p.clicks
FROM post_facts f JOIN posts p USING (post_uid)
WHERE f.account_type = 'organization'
"""


def _positive_side(con, tables: set[str], quarters: Sequence[str], k: int) -> dict[str, pd.DataFrame]:
    """Mission stories, mission value and recognition (empty frames before a build derived themes).

    DuckDB counts the mission stories and the recognition figures of every quarter, each in one scan, and
    only the counts per group and author reach pandas: the post rows of a million posts took seconds to
    convert and group, after every publication. Mission value is only shown for the organisation's own
    posts, so only those are read and scanned for links.
    """
    if not {"post_themes", "amplifications"} <= tables:
        return {}
    organisation = con.execute(_ORGANISATION_POSTS_SQL).df()
    mission = engagement.mission_value({"posts": organisation}, period="quarter")
    mission = mission[mission["source"] == "organisation"].drop(columns="source").reset_index(drop=True)
    story = themes.mission_story_share(con, by=("quarter", "department"), k=k)
    if not quarters:
        return {"story": story, "mission": mission}
    teams, people = engagement.recognition_by_period(con, periods=quarters, k=k, min_posts=RECOGNITION_MIN_POSTS)
    # the name and department are all the dashboard ever holds about a recognised person
    return {"story": story, "mission": mission, "teams": teams,
            "people": people[["period", "display_name", "department"]]}


def _clarity(con, k: int) -> pd.DataFrame:
    """Favourability of each clarity item per wave (:func:`analytics.priorities.clarity_by_wave`)."""
    columns = ["wave", "item_id", "area", "text", "n", "favourable", "ci_low", "ci_high", "suppressed"]
    respondents = datasets.respondents(con=con)
    if respondents.empty:
        return pd.DataFrame(columns=columns)
    table = priorities.clarity_by_wave(datasets.survey_answers(con=con), respondents, k=k)
    return table[columns] if len(table) else pd.DataFrame(columns=columns)


# --- coverage --------------------------------------------------------------------------------------

def coverage_banner(data: DashboardData, *, limit: int = 8) -> str:
    """One line saying what the dashboard covers: data through, last build, missing platform-months."""
    parts = []
    if data.data_through is not None:
        parts.append(f"Data through {data.data_through:%d %b %Y}")
    if len(data.incidents):
        parts.append(f"incidents through {pd.Period(data.incidents['month'].max(), 'M'):%b %Y}")
    waves = data.quarterly.loc[data.quarterly["metric"] == "response_rate", "period"]
    if len(waves):
        parts.append(f"latest survey wave {sorted(waves.unique(), key=_period_key)[-1]}")
    if data.built_at is not None:
        parts.append(f"built {data.built_at:%d %b %Y %H:%M} UTC")
    missing = data.coverage[data.coverage["gap"]] if len(data.coverage) else data.coverage
    if missing.empty:
        gaps = "No missing platform-months."
    else:
        gaps = (f"Missing platform-months (no posts exported): "
                f"{insights.gap_list(missing, limit=limit, month_format='%b %Y')}.")
    return "; ".join(parts) + ". " + gaps


def _period_key(label: str) -> pd.Timestamp:
    start = period_start([label]).iloc[0]
    return start if pd.notna(start) else pd.Timestamp.max


# --- filters and KPI tiles -------------------------------------------------------------------------

@dataclass(frozen=True)
class Filters:
    """The leadership filter state. Department and platform are never combined (small groups)."""

    period: str
    department: str = ALL
    platform: str = ALL

    def __post_init__(self) -> None:
        if self.department != ALL and self.platform != ALL:
            raise ValueError("Choose a department or a platform, not both: department x platform is never "
                             "published, because its groups would be too small to show safely.")

    def choose(self, **changes: str) -> Filters:
        """The state after a change; choosing a department clears the platform and vice versa."""
        merged = {"period": self.period, "department": self.department, "platform": self.platform, **changes}
        if changes.get("department", ALL) != ALL:
            merged["platform"] = ALL
        if changes.get("platform", ALL) != ALL:
            merged["department"] = ALL
        return Filters(**merged)


def filter_options(quarterly: pd.DataFrame) -> dict[str, list[str]]:
    """Quarters (newest first), departments and platforms the quarterly table can be filtered by.

    Examples
    --------
    >>> q = pd.DataFrame({"metric": "adherence_rate", "period": ["2026-Q1", "2026-Q2", "2026-Q2"],
    ...                   "department": [ALL, ALL, "Finance"], "platform": ALL})
    >>> filter_options(q)
    {'periods': ['2026-Q2', '2026-Q1'], 'departments': ['(all)', 'Finance'], 'platforms': ['(all)']}
    """
    quarters = quarterly.loc[quarterly["period"].astype(str).str.fullmatch(r"\d{4}-Q[1-4]")
                             & ~quarterly["metric"].isin(SURVEY_METRICS), "period"]
    departments = sorted(set(quarterly["department"].dropna()) - {ALL})
    platforms = sorted(set(quarterly["platform"].dropna()) - {ALL})
    return {"periods": sorted(set(quarters), reverse=True), "departments": [ALL, *departments],
            "platforms": [ALL, *platforms]}


def _periods_for(rows: pd.DataFrame, metric: str, period: str) -> tuple[str, str]:
    """(current, previous) period of a metric for a selected quarter; survey metrics use their waves."""
    if metric not in SURVEY_METRICS:
        return period, parse_period(period).previous().label
    waves = sorted(set(rows["period"]), key=_period_key)
    end = pd.Timestamp(parse_period(period).end)
    eligible = [w for w in waves if _period_key(w) < end]
    if not eligible:
        return period, parse_period(period).previous().label
    current = eligible[-1]
    previous = eligible[-2] if len(eligible) > 1 else ""
    return current, previous


def kpi_tiles(
    quarterly: pd.DataFrame,
    *,
    period: str,
    department: str = ALL,
    platform: str = ALL,
    metrics: Sequence[str] = KPI_METRICS,
    targets: dict[str, config.Target] | None = None,
) -> pd.DataFrame:
    """The KPI tiles of a quarter: value, n, CI, change against the previous period, significance, RAG.

    Parameters
    ----------
    quarterly : DataFrame
        The ``quarterly_metrics`` table.
    period : str
        The quarter (``YYYY-Qn``). Survey metrics show the latest wave that started by its end and
        compare with the wave before.
    department, platform : str
        One group (or ``"(all)"``); never both.
    metrics : sequence of str
        Which metrics, in order.
    targets : dict, optional
        Red/amber/green targets per metric; default the configured ones.

    Returns
    -------
    DataFrame
        One row per metric: the columns of :func:`analytics.metrics.compare_periods` (``metric, label,
        unit, definition, period, value, n, n_people, ci_low, ci_high, suppressed, previous_period,
        previous_value, change, p_value, significant``) plus ``available`` (the metric is published for
        this grouping), ``status`` (``green``/``amber``/``red``, ``no target``, ``hidden`` when
        suppressed, ``no data``, ``not available``), ``direction`` (``better``/``worse``/``same``/``""``),
        ``previous_suppressed`` (the previous period's value is hidden) and ``target`` (the value that is
        on target, NaN without one).

    Examples
    --------
    >>> q = pd.DataFrame({"period": ["2026-Q1", "2026-Q2"], "department": ALL, "platform": ALL,
    ...     "metric": "adherence_rate", "value": [0.90, 0.96], "n": [400.0, 400.0], "n_people": [60.0, 62.0],
    ...     "successes": [360.0, 384.0], "sd": np.nan, "ci_low": [0.87, 0.94], "ci_high": [0.93, 0.98],
    ...     "suppressed": False})
    >>> tile = kpi_tiles(q, period="2026-Q2", metrics=["adherence_rate"],
    ...                  targets={"adherence_rate": config.Target(0.95, 0.9)}).iloc[0]
    >>> tile["previous_period"], bool(tile["significant"]), tile["status"], tile["direction"]
    ('2026-Q1', True, 'green', 'better')
    """
    Filters(period, department, platform)
    targets = config.get_settings().targets if targets is None else targets
    rows = []
    for metric in metrics:
        if metric not in METRICS:
            raise ValueError(f"Unknown metric {metric!r}; known: {sorted(METRICS)}.")
        rows_of_metric = quarterly[quarterly["metric"] == metric]
        mine = rows_of_metric[(rows_of_metric["department"] == department) & (rows_of_metric["platform"] == platform)]
        # published for this kind of grouping at all (a department without rows simply has no data)
        if department != ALL:
            available = bool((rows_of_metric["department"] != ALL).any())
        elif platform != ALL:
            available = bool((rows_of_metric["platform"] != ALL).any())
        else:
            available = not mine.empty
        current, previous = _periods_for(mine, metric, period)
        row = compare_periods(quarterly, metric=metric, current=current, previous=previous, department=department,
                              platform=platform).iloc[0].to_dict()
        if not available:
            status = "not available"
        elif row["suppressed"]:
            status = "hidden"
        elif pd.isna(row["value"]):
            status = "no data"
        elif metric in targets:
            status = targets[metric].status(float(row["value"]))
        else:
            status = "no target"
        change = row["change"]
        if pd.isna(change):
            direction = ""
        elif change == 0:
            direction = "same"
        else:
            direction = "better" if (change > 0) == METRICS[metric].higher_is_better else "worse"
        before = mine[mine["period"] == previous]
        rows.append({**row, "available": available, "status": status, "direction": direction,
                     "previous_suppressed": bool(before["suppressed"].astype(bool).any()),
                     "target": targets[metric].green if metric in targets else np.nan})
    return pd.DataFrame(rows)


_RAG = {"green": ("#1a7f37", "on target"), "amber": ("#b26a00", "near target"), "red": ("#c62828", "off target"),
        "no target": ("#666", "no target set"), "hidden": ("#8c8c8c", "hidden"), "no data": ("#8c8c8c", "no data"),
        "not available": ("#8c8c8c", "not available")}


_DIRECTION_COLOURS = {"better": _RAG["green"][0], "worse": _RAG["red"][0], "same": "#444"}


def _tile_html(tile: pd.Series, k: int, grouping: str) -> str:
    colour, word = _RAG[tile["status"]]
    metric = tile["metric"]
    head = (f"<div style='font-size:13px;color:#444'>{html.escape(tile['label'])}"
            f" <span style='color:#777'>({html.escape(str(tile['period']))})</span></div>")
    if tile["status"] in ("green", "amber", "red"):  # the target itself, or "near target" means nothing
        word += f" ({insights.format_value(metric, tile['target'])})"
    badge = (f"<span style='background:{colour};color:white;border-radius:9px;padding:1px 8px;font-size:11px'>"
             f"{html.escape(word)}</span>")
    if tile["status"] == "not available":
        body = (f"<div style='font-size:15px;color:#8c8c8c;margin:6px 0'>not broken down by {grouping}</div>"
                f"<div style='font-size:12px;color:#666'>{html.escape(tile['unit'])}</div>")
    elif tile["status"] == "no data":
        body = (f"<div style='font-size:15px;color:#8c8c8c;margin:6px 0'>no figure for this selection "
                f"in {html.escape(str(tile['period']))}</div>"
                f"<div style='font-size:12px;color:#666'>{html.escape(tile['definition'])}</div>")
    elif tile["status"] == "hidden":
        body = (f"<div style='font-size:15px;color:#8c8c8c;margin:6px 0'>{privacy.hidden_label(k)}</div>"
                f"<div style='font-size:12px;color:#666'>fewer than {k} people here, or hidden so that a smaller "
                "group cannot be worked out from the totals</div>")
    else:
        # n in its own unit, and the people behind it unless it counts people (not "n = 246, 246 people")
        unit = METRICS[metric].n_unit
        people = ("" if pd.isna(tile["n_people"]) or unit in ("employees", "respondents")
                  else f", {int(tile['n_people']):,} people")
        n = "n = –" if pd.isna(tile["n"]) else f"n = {int(tile['n']):,} {unit}{people}"
        ci = ("" if pd.isna(tile["ci_low"]) else
              f" · 95% CI {insights.format_interval(metric, tile['ci_low'], tile['ci_high'])}")
        if pd.isna(tile["change"]):
            before = html.escape(str(tile["previous_period"]) or "an earlier period")
            change = (f"no comparison: {before} is {privacy.hidden_label(k)}" if tile["previous_suppressed"]
                      else f"no comparison with {before}")
        else:
            shown = insights.format_change(metric, tile["change"])
            # the arrow is the shown figure's movement, its colour whether that is good: an incident count that
            # fell is a green ▼, not a ▲ beside a negative number; a change that rounds to zero is "=". Only a
            # significant change is called better or worse, in colour: one within chance says so, and an
            # untested one (a count, a median) is neither
            moved = any(digit in "123456789" for digit in shown)
            arrow = "=" if not moved else "▲" if tile["change"] > 0 else "▼"
            word = tile["direction"] if moved else "same"
            if pd.isna(tile["p_value"]):  # a count or a median: which way is better, but no test of chance
                test, tint, word = "no significance test for this kind of figure", _DIRECTION_COLOURS["same"], ""
            elif tile["significant"]:
                test, tint = f"significant, {insights.format_p(tile['p_value'])}", _DIRECTION_COLOURS[word]
            else:
                test, tint = f"within chance, {insights.format_p(tile['p_value'])}", _DIRECTION_COLOURS["same"]
                word = "" if moved else word
            arrow = f"<span style='color:{tint}'>{arrow}</span>"
            change = (f"{arrow} {shown} vs {html.escape(str(tile['previous_period']))} "
                      f"({word + '; ' if word else ''}{test})")
        value = insights.format_value(metric, tile["value"])
        body = (f"<div style='font-size:26px;font-weight:600;margin:4px 0'>{value}</div>"
                f"<div style='font-size:12px;color:#444'>{n}{ci}</div>"
                f"<div style='font-size:12px;color:#444;margin-top:3px'>{change}</div>")
    return (f"<div class='pp-tile' data-metric='{metric}' title='{html.escape(tile['definition'], quote=True)}' "
            f"style='border:1px solid #ddd;border-left:6px solid {colour};border-radius:6px;padding:8px 10px;"
            f"min-height:118px'>{head}{body}<div style='margin-top:5px'>{badge}</div></div>")


# --- chart data ------------------------------------------------------------------------------------

def trend_frame(
    table: pd.DataFrame, *, metric: str, department: str = ALL, platform: str = ALL, through: str | None = None
) -> pd.DataFrame:
    """One metric's rows for a trend chart: the organisation and, when filtered, the chosen group.

    Parameters
    ----------
    table : DataFrame
        ``monthly_metrics`` or ``quarterly_metrics``.
    metric : str
        The metric.
    department, platform : str
        The chosen group (``"(all)"`` for none).
    through : str, optional
        Last period shown (a month ``YYYY-MM`` or a quarter, whose last month is then the limit).

    Returns
    -------
    DataFrame
        ``series`` (the group's name or "Organisation"), ``period, value, n, n_people, ci_low,
        ci_high, suppressed``; the chosen group first. A metric not published for the grouping gives
        the organisation only.
    """
    columns = ["series", "period", "value", "n", "n_people", "ci_low", "ci_high", "suppressed"]
    organisation = datasets.select_series(table, metric=metric, through=through).assign(series=ORGANISATION)
    chosen = department if department != ALL else platform
    group = (datasets.select_series(table, metric=metric, department=department, platform=platform, through=through)
             if chosen != ALL else organisation.iloc[:0])
    out = pd.concat([group.assign(series=chosen), organisation], ignore_index=True)
    return out[columns].sort_values(["series", "period"], key=lambda s: s != chosen if s.name == "series" else s,
                                    ignore_index=True)


def findings_by_rule(data: DashboardData, *, area: str, periods: Sequence[str]) -> pd.DataFrame:
    """Findings per rule of one area in the given quarters (aggregates; every rule of the area listed).

    Returns
    -------
    DataFrame
        ``period, rule_id, rule`` (its name and severity, "Donor name (high)"), ``severity, explanation,
        findings, employee_posts, per_1000`` (findings per 1,000 employee posts in the quarter).
    """
    rules = rules_frame()
    rules = rules[rules["area"] == area]
    quarters = period_labels(data.findings["month"], "quarter")
    posts = data.employee_posts.assign(period=period_labels(data.employee_posts["month"], "quarter"))
    posts = posts.groupby("period")["posts"].sum()
    rows = []
    for period in periods:
        mine = data.findings[(data.findings["area"] == area) & (quarters == period)]
        counts = mine.groupby("rule_id")["findings"].sum()
        total = float(posts.get(period, 0))
        for rule in rules.itertuples():
            found = int(counts.get(rule.rule_id, 0))
            rows.append({"period": period, "rule_id": rule.rule_id, "rule": f"{rule.name} ({rule.severity})",
                         "severity": rule.severity, "explanation": rule.explanation, "findings": found,
                         "employee_posts": total, "per_1000": 1000 * found / total if total else np.nan})
    return pd.DataFrame(rows, columns=["period", "rule_id", "rule", "severity", "explanation", "findings",
                                       "employee_posts", "per_1000"])


def area_adherence(data: DashboardData, *, area: str, through: str | None = None) -> pd.DataFrame:
    """Monthly share of employee posts without a medium/high finding in one area, with its Wilson CI,
    through the last month of ``through`` (a quarter or a month; default every month).

    Returns
    -------
    DataFrame
        ``period`` (month), ``value``, ``n`` (employee posts), ``posts_with_finding``, ``ci_low``,
        ``ci_high``, ``suppressed`` (always False: an organisation-wide rate).
    """
    from analytics.adherence import wilson_interval

    mine = data.area_posts[data.area_posts["area"] == area].groupby("month")["posts_with_finding"].sum()
    out = data.employee_posts.rename(columns={"month": "period", "posts": "n"})
    if through is not None:
        out = out[(period_start(out["period"]) < pd.Timestamp(parse_period(through).end)).to_numpy()]
    out = out.copy()
    out["posts_with_finding"] = out["period"].map(mine).fillna(0).astype(int)
    out["value"] = 1 - out["posts_with_finding"] / out["n"]
    low, high = wilson_interval((out["n"] - out["posts_with_finding"]).to_numpy(), out["n"].to_numpy())
    out["ci_low"], out["ci_high"], out["suppressed"] = low, high, False
    return out[["period", "value", "n", "posts_with_finding", "ci_low", "ci_high", "suppressed"]]


def revision_effect(series: pd.DataFrame, versions: pd.DataFrame, *, label: str = "Adherence"
                    ) -> tuple[pd.DataFrame, str]:
    """The effect of the policy revisions on a monthly rate and the last one in words.

    ``series`` has ``period`` (``YYYY-MM``), ``value`` and ``n``; the estimate is
    :func:`analytics.notebook_views.effects_of_revisions` (the one the notebooks and the report show)
    and the words :func:`analytics.insights.revision_sentence` of the last fitted revision. Returns
    ``(result, sentence)``; ``result`` is empty, and the sentence says why, when no revision has three
    months on each side.
    """
    months = pd.to_datetime(series["period"] + "-01")
    effects = views.effects_of_revisions(series.assign(month=months), versions)
    # a revision in force within the months shown but too recent to measure is named, not passed over for
    # an older one told as "the last revision"
    recent = insights.unmeasured_revision(versions, effects, first=months.min(), last=months.max())
    too_recent = "" if recent is None else insights.too_recent_sentence(recent) + " "
    if effects.empty:
        return effects, too_recent or ("Too few months on each side of a policy revision (three are needed) to "
                                       "estimate its effect yet.")
    return effects, too_recent + ("The last one measurable: " if too_recent else "") + insights.revision_sentence(
        effects.iloc[-1], label=label)


# --- areas to revise -------------------------------------------------------------------------------

def revision_priorities(data: DashboardData, *, period: str | None = None) -> pd.DataFrame:
    """The policy areas ranked by how much the evidence says they need revising, for a quarter (default
    the latest): :func:`analytics.priorities.revision_ranking`, the ranking the committee report shows.

    Returns
    -------
    DataFrame
        The columns of :func:`~analytics.priorities.revision_ranking` (``rank, area, score, score_low,
        score_high, adherence_component, clarity_component, incident_component, change_points,
        rank_probability, sureness, evidence``); empty without a published quarter.
    """
    periods = filter_options(data.quarterly)["periods"]
    if not periods:
        return pd.DataFrame()
    evidence = priorities.area_evidence(period=parse_period(period or periods[0]), warehouse_file=data.warehouse,
                                        k=data.k)
    return priorities.revision_ranking(evidence)


def area_voices(data: DashboardData, *, period: str, top: int = 3) -> dict[str, str]:
    """What each policy area's survey comments talk about, in the survey wave of the quarter ``period``
    against the wave before: a sentence per area (:func:`analytics.insights.feedback_sentences`, the report's),
    its ``top`` words and phrases with their share of the area's comments. Areas with fewer than k comments
    in the wave have none; no comment is quoted.
    """
    chosen = parse_period(period)
    respondents, comments = data.survey
    wave, previous = priorities.survey_waves(respondents, current=chosen, previous=chosen.previous())
    found = feedback.wave_themes(comments, wave=wave, previous=previous, top=top, k=data.k)
    return dict(zip(found["area"].unique(), insights.feedback_sentences(found, top=top), strict=True))


# --- widgets ---------------------------------------------------------------------------------------

def recognition_lists(data: DashboardData, *, period: str, department: str = ALL
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Who to recognise in a quarter: teams (k-safe) and the people who opted in to be named.

    Returns
    -------
    tuple of DataFrame
        ``teams``: the recognised departments (``department, n_people, n_posts, adherence_rate,
        engagement_per_post, mean_sentiment, mission_story_share``; suppressed departments are never
        recognised); ``people``: ``display_name, department`` of the recognised opted-in people. With a
        department chosen, both keep that department only.

    Examples
    --------
    >>> from dataclasses import replace
    >>> empty = pd.DataFrame()
    >>> data = DashboardData(Path("w"), *([empty] * 9), teams=pd.DataFrame({"period": ["2026-Q1"] * 2,
    ...     "department": ["Comms", "Finance"], "n_people": [9, 4], "n_posts": [40, 20], "adherence_rate": 0.9,
    ...     "engagement_per_post": 5.0, "mean_sentiment": 0.3, "mission_story_share": 0.2,
    ...     "recognised": [True, False], "suppressed": [False, True]}),
    ...     people=pd.DataFrame({"period": ["2026-Q1"], "display_name": ["Ada L."], "department": ["Comms"]}))
    >>> teams, people = recognition_lists(data, period="2026-Q1")
    >>> teams["department"].tolist(), people["display_name"].tolist()
    (['Comms'], ['Ada L.'])
    """
    team_columns = ["department", "n_people", "n_posts", "adherence_rate", "engagement_per_post", "mean_sentiment",
                    "mission_story_share"]
    teams, people = data.teams, data.people
    if teams.empty:
        teams = pd.DataFrame(columns=["period", "recognised", "suppressed", *team_columns])
    if people.empty:
        people = pd.DataFrame(columns=["period", "display_name", "department"])
    teams = teams[(teams["period"] == period) & teams["recognised"].astype(bool) & ~teams["suppressed"].astype(bool)]
    people = people[people["period"] == period]
    if department != ALL:
        teams = teams[teams["department"] == department]
        people = people[people["department"] == department]
    return (teams[team_columns].reset_index(drop=True),
            people[["display_name", "department"]].reset_index(drop=True))


def _recognition_html(teams: pd.DataFrame, people: pd.DataFrame, period: str, k: int) -> str:
    if teams.empty:
        team_text = "No team met all three bars this quarter."
    else:
        team_text = ", ".join(
            f"<b>{html.escape(str(t.department))}</b> ({insights.format_percent(t.adherence_rate)} of posts within "
            f"the policy, {t.engagement_per_post:.1f} interactions per post, {int(t.n_people)} people)"
            for t in teams.itertuples())
    names = (", ".join(f"{html.escape(str(p.display_name))} ({html.escape(str(p.department))})"
                       for p in people.itertuples())
             or "Nobody who opted in to be named met the bars this quarter.")
    return (f"<div class='pp-recognition' style='font-size:13px'><h3>Recognition, {html.escape(period)}</h3>"
            f"<p><b>Teams:</b> {team_text}</p><p><b>People (only those who opted in to be named):</b> "
            f"<span class='pp-people'>{names}</span></p><p style='font-size:12px;color:#555'>A team is recognised "
            f"when its posts' adherence and engagement per post are at least the organisation's and their tone "
            f"is positive; teams of fewer than {k} people are never shown. People are named only with their "
            f"consent, by the name they chose; no one's policy findings are listed here.</p></div>")


def csv_link(frame: pd.DataFrame, filename: str, label: str = "Download this chart's data (CSV)") -> str:
    """An HTML link that downloads ``frame`` as CSV from a data: URI (no server round trip).

    >>> csv_link(pd.DataFrame({"a": [1]}), "x.csv").startswith('<a download="x.csv" href="data:text/csv')
    True
    """
    payload = base64.b64encode(frame.to_csv(index=False).encode("utf-8")).decode("ascii")
    return (f'<a download="{html.escape(filename)}" href="data:text/csv;charset=utf-8;base64,{payload}" '
            f'class="pp-csv" style="font-size:12px">{html.escape(label)}</a>')


def refresh_figure(widget, figure) -> None:
    """Make a ``go.FigureWidget`` show ``figure`` in one batched update (traces updated in place when
    the trace layout is unchanged, else replaced)."""
    same = len(widget.data) == len(figure.data) and all(
        a.type == b.type for a, b in zip(widget.data, figure.data, strict=True))
    if not same:
        widget.data = ()
        widget.add_traces(list(figure.data))
    layout = figure.layout.to_plotly_json()
    with widget.batch_update():
        if same:
            for old, new in zip(widget.data, figure.data, strict=True):
                old.update(new.to_plotly_json(), overwrite=True)
        widget.layout.shapes = layout.pop("shapes", ())
        widget.layout.annotations = layout.pop("annotations", ())
        widget.update_layout(layout, overwrite=True)


def _message(text: str, *, busy: bool = False):
    import ipywidgets as widgets

    colour = "#b26a00" if busy else "#444"
    title = "Busy, retry in a moment" if busy else "Nothing to show yet"
    return widgets.HTML(
        f"<div class='pp-message' style='border:1px solid {colour};border-radius:6px;padding:14px;max-width:760px'>"
        f"<b style='color:{colour}'>{title}</b><p>{html.escape(text)}</p></div>")


#: Seconds between an open dashboard's looks at the warehouse's published snapshot (one ``stat`` each).
REPUBLISHED_LOOK_SECONDS = 10.0
# the looks of the open dashboards (a task nothing refers to may be collected before it ends)
_looks: set[asyncio.Task] = set()


def _newer_data_notice(target: Path, seen: tuple | None):
    """A notice, hidden until the warehouse is published again after ``seen``
    (:func:`~analytics.snapshots.published_version`), that says the page's figures are older than the
    warehouse's and to reload it. Looked for while the page's kernel is idle, every
    :data:`REPUBLISHED_LOOK_SECONDS`; outside a running kernel's event loop the notice stays hidden."""
    import ipywidgets as widgets

    notice = widgets.HTML(layout=widgets.Layout(display="none"))

    async def look() -> None:
        while (now := published_version(target)) == seen:
            await asyncio.sleep(REPUBLISHED_LOOK_SECONDS)
        when = "" if now is None else f" at {datetime.fromtimestamp(now[3] / 1e9, UTC):%H:%M} UTC"
        notice.value = (
            "<div class='pp-newer' style='border:1px solid #1565c0;border-radius:6px;padding:8px 12px;"
            "background:#e3f2fd;margin-bottom:8px'><b>Newer data was published" + when + "</b> (a build, an "
            "update or an erasure). Reload this page to see it: the figures below are from before it.</div>")
        notice.layout.display = None

    try:
        task = asyncio.get_running_loop().create_task(look())
    except RuntimeError:  # no running event loop: not in a kernel
        return notice
    _looks.add(task)
    task.add_done_callback(_looks.discard)
    return notice


def _guarded(builder: Callable[[DashboardData], object], path) -> object:
    """Build a dashboard, or a clear message (with Retry) when the warehouse is missing, empty or busy; above
    either, a notice shown once the warehouse has been published again (:func:`_newer_data_notice`)."""
    import ipywidgets as widgets

    from analytics.firstpaint import FirstPaintBox

    box = FirstPaintBox()
    target = config.warehouse_path(path)

    def attempt(_button=None) -> None:
        # read before the data: a publication in between shows the notice, never hides one
        seen = published_version(target)
        try:
            data = load_data(path)
        except warehouse.WarehouseBusy as error:
            retry = widgets.Button(description="Retry")
            retry.on_click(attempt)
            box.children = [_message(f"busy, retry: {error}", busy=True), retry]
            return
        except warehouse.WarehouseMissing as error:
            box.children = [_newer_data_notice(target, seen), _message(str(error))]
            return
        box.children = [_newer_data_notice(target, seen), builder(data)]

    attempt()
    return box


def _header(title: str, data: DashboardData):
    import ipywidgets as widgets

    return widgets.HTML(
        f"<h1 style='margin:0 0 4px 0'>{html.escape(title)}</h1>"
        f"<div class='pp-banner' style='background:#fff8e1;border:1px solid #f0d58c;border-radius:6px;"
        f"padding:6px 10px;font-size:13px'>{html.escape(coverage_banner(data))}</div>")


def _note_and_download(note: str, frame: pd.DataFrame, filename: str, *, css: str = "pp-note") -> str:
    """The line under a chart (its definition or what it shows) and its CSV download, in one HTML widget (a
    widget each costs the page's first render three models), spaced from the next block."""
    return (f"<div style='margin-bottom:18px'><div class='{css}' style='font-size:12px;color:#555'>"
            f"{html.escape(note)}</div>{csv_link(frame, filename)}</div>")


@dataclass
class _Chart:
    """A chart slot of a dashboard, for the page's state (the leadership filters, the review's quarter): how
    to get its data (``frame``), draw it (``draw``, a plotly Figure) and say what it shows with its CSV
    download (``below``). :meth:`show` makes the page's ``go.FigureWidget`` once; :meth:`update` redraws it
    in place (a redraw makes no widget).

    ``widget`` is the chart; ``link`` the one HTML widget under it (its note and the CSV download).
    """

    key: str
    frame: Callable[[Any], pd.DataFrame]
    draw: Callable[[pd.DataFrame, Any], object]
    below: Callable[[pd.DataFrame, Any], str]
    widget: object = None
    link: object = None

    def show(self, state: Any) -> list:
        import ipywidgets as widgets

        frame = self.frame(state)
        self.widget = as_widget(self.draw(frame, state))
        self.link = widgets.HTML(self.below(frame, state))
        return [self.widget, self.link]

    def update(self, state: Any) -> None:
        frame = self.frame(state)
        refresh_figure(self.widget, self.draw(frame, state))
        self.link.value = self.below(frame, state)


@dataclass
class _Text:
    """An HTML block redrawn with the page's state."""

    html: Callable[[Any], str]
    widget: object = None

    def show(self, state: Any) -> list:
        import ipywidgets as widgets

        self.widget = widgets.HTML(self.html(state))
        return [self.widget]

    def update(self, state: Any) -> None:
        self.widget.value = self.html(state)


#: The series of the mission chart's download holding the chosen quarter's clicks on posts whose only links are
#: shortened (named under the chart's title; no page, so no bar).
_SHORT_LINKS_SERIES = "Not counted: clicks on posts whose only links are shortened (target unknown)"

#: The KPI tiles' grid (plain CSS in one HTML widget: a widget per tile costs the page three models each).
_TILE_GRID = "display:grid;grid-template-columns:repeat(auto-fill, minmax(250px, 1fr));gap:10px;width:100%"


class LeadershipDashboard:
    """KPI tiles and trend charts with quarter, department and platform filters (ipywidgets + FigureWidgets)."""

    def __init__(self, data: DashboardData) -> None:
        import ipywidgets as widgets

        self.data = data
        options = filter_options(data.quarterly)
        if not options["periods"]:
            raise warehouse.WarehouseMissing(_EMPTY.format(name=data.warehouse.name))
        self.filters = Filters(period=options["periods"][0])
        self.period = widgets.Dropdown(options=options["periods"], value=self.filters.period, description="Quarter")
        self.department = widgets.Dropdown(options=options["departments"], value=ALL, description="Department")
        self.platform = widgets.Dropdown(options=options["platforms"], value=ALL, description="Platform")
        self._syncing = False
        for control in (self.period, self.department, self.platform):
            control.observe(self._on_change, names="value")
        # the page's first render waits for every widget model (a plain HTML widget brings two more, its
        # style and layout): text that changes together is one HTML widget, and static text shares one
        self.key_figures = widgets.HTML()
        self.charts = self._chart_slots()
        self.story_charts = self._story_slots()
        blocks = [chart.show(self.filters) for chart in (*self.charts, *self.story_charts)]
        self.recognition = widgets.HTML()
        self._refresh_tiles()
        self._refresh_recognition()
        self.widget = widgets.VBox([
            _header("Social-media policy: how it is working", data),
            widgets.HBox([self.period, self.department, self.platform]), self.key_figures,
            *[w for block in blocks[:len(self.charts)] for w in block],
            widgets.HTML("<h2 id='telling-our-story'>Telling our story</h2><p style='font-size:13px;color:#555'>"
                         "The positive side of the policy: employees sharing the mission, the organisation's posts "
                         "they amplify, the visits to our donate and volunteer pages those posts bring, and the "
                         "teams and people to thank.</p>"),
            *[w for block in blocks[len(self.charts):] for w in block], self.recognition,
        ])

    @staticmethod
    def _slot(key: str, frame: Callable[[Filters], pd.DataFrame],
              draw: Callable[[pd.DataFrame, Filters], object]) -> _Chart:
        """A chart with its definition and CSV download under it."""
        return _Chart(key, frame, draw, lambda rows, _filters: _note_and_download(
            f"Definition: {METRICS[key].definition}", rows, f"{key}.csv", css="pp-definition"))

    def _chart_slots(self) -> list[_Chart]:
        monthly, quarterly, versions, k = self.data.monthly, self.data.quarterly, self.data.versions, self.data.k

        def monthly_slot(metric: str, bars: bool = False) -> _Chart:
            def frame(f: Filters) -> pd.DataFrame:
                return trend_frame(monthly, metric=metric, department=f.department, platform=f.platform,
                                   through=f.period)

            def draw(rows: pd.DataFrame, f: Filters):
                return trend_chart(rows, metric=metric, series="series", versions=versions, bars=bars, k=k,
                                   reference=ORGANISATION, title=self._title(metric, f),
                                   how_to_read=_coverage_reading(rows) if metric == "training_coverage" else None)

            return self._slot(metric, frame, draw)

        def survey_slot(metric: str, title: str) -> _Chart:
            # a chart per survey metric: trust and response rate on one plot, each with a department's line beside
            # the organisation's, were four lines and bands crossing on an axis of two units
            def frame(f: Filters) -> pd.DataFrame:
                return trend_frame(quarterly, metric=metric, department=f.department)

            def draw(rows: pd.DataFrame, f: Filters):
                return trend_chart(rows, metric=metric, series="series", versions=versions, k=k,
                                   reference=ORGANISATION,
                                   title=f"Survey: {title} per wave{self._scope(f, survey=True)}",
                                   how_to_read="Each point is one survey wave (higher is better); the shaded bands "
                                               "are 95% CIs; dashed lines mark policy revisions.")

            return self._slot(metric, frame, draw)

        return [monthly_slot("adherence_rate"), monthly_slot("employee_sentiment"), monthly_slot("engagement_rate"),
                monthly_slot("incidents", bars=True), monthly_slot("median_hours_to_resolve"),
                monthly_slot("training_coverage"), survey_slot("trust_favourability", "trust (favourable answers)"),
                survey_slot("response_rate", "response rate")]

    def _story_slots(self) -> list[_Chart]:
        """Mission stories and amplifiers (published, k-safe monthly rows) and clicks on mission pages."""
        monthly, versions, k = self.data.monthly, self.data.versions, self.data.k
        reading = {
            "mission_story_share": "Each point is one month's share of employee posts telling a mission story "
                                   "(higher is better); the band is the 95% CI; dashed lines mark policy revisions.",
            "amplifier_share": "Each point is the share of everyone on the roster that month who shared an "
                               "organisation post at least once; the band is the 95% CI; dashed lines mark policy "
                               "revisions.",
        }

        def story_slot(metric: str) -> _Chart:
            def frame(f: Filters) -> pd.DataFrame:
                return trend_frame(monthly, metric=metric, department=f.department, platform=f.platform,
                                   through=f.period)

            def draw(rows: pd.DataFrame, f: Filters):
                return trend_chart(rows, metric=metric, series="series", versions=versions, k=k,
                                   reference=ORGANISATION, title=self._title(metric, f), how_to_read=reading[metric])

            return self._slot(metric, frame, draw)

        def mission_frame(f: Filters) -> pd.DataFrame:
            # the bars, and the chosen quarter's clicks on posts whose only links are shortened, which the chart
            # names under its title (no page, so no bar): the download holds what the chart shows
            columns = ["series", "period", "value", "n", "n_people", "ci_low", "ci_high", "suppressed"]
            mission = self.data.mission
            if mission.empty:
                return pd.DataFrame(columns=columns)
            end = pd.Timestamp(parse_period(f.period).end)
            short = (mission["page"] == engagement.SHORT_LINK_PAGE).to_numpy()
            chosen = (mission["period"] == f.period).to_numpy()
            kept = (~short & (period_start(mission["period"]).to_numpy() < end)) | (short & chosen)
            shown = mission[kept]
            series = np.where(short, _SHORT_LINKS_SERIES, "Clicks to the " + mission["page"].astype(str) + " page")
            return pd.DataFrame({"series": series[kept], "period": shown["period"], "value": shown["clicks"],
                                 "n": shown["n_posts"], "n_people": np.nan, "ci_low": np.nan, "ci_high": np.nan,
                                 "suppressed": False})[columns]

        def mission_draw(rows: pd.DataFrame, f: Filters):
            scope = " — organisation posts (not broken down)" if f.department != ALL or f.platform != ALL else ""
            mission = self.data.mission
            left_out = insights.short_links_sentence(mission, period=f.period) if len(mission) else ""
            return trend_chart(rows[rows["series"] != _SHORT_LINKS_SERIES], metric="mission_clicks", series="series",
                               versions=versions, bars=True, k=k,
                               title=f"Mission value: clicks to our mission pages per quarter{scope}",
                               axis_title="Clicks on posts linking to the page",
                               how_to_read="Each bar is one quarter's clicks on our posts linking to that page (a "
                                           "proxy for visits); no advertising-equivalent value is estimated; "
                                           f"dashed lines mark policy revisions. {left_out}".rstrip())

        return [story_slot("mission_story_share"), story_slot("amplifier_share"),
                self._slot("mission_clicks", mission_frame, mission_draw)]

    def _refresh_recognition(self) -> None:
        f = self.filters
        teams, people = recognition_lists(self.data, period=f.period, department=f.department)
        self.recognition.value = (_recognition_html(teams, people, f.period, self.data.k)
                                  + csv_link(teams, "teams-recognised.csv", "Download the teams recognised (CSV)"))

    def _scope(self, f: Filters, *, survey: bool = False) -> str:
        if f.department != ALL:
            return f" — {f.department} vs organisation"
        if f.platform != ALL and not survey:
            return f" — {f.platform} vs organisation"
        return ""

    def _title(self, metric: str, f: Filters) -> str:
        published = self.data.monthly[(self.data.monthly["metric"] == metric)
                                      & (self.data.monthly["department"] == f.department)
                                      & (self.data.monthly["platform"] == f.platform)]
        if (f.department != ALL or f.platform != ALL) and published.empty:
            grouping = "department" if f.department != ALL else "platform"
            rows = self.data.monthly[self.data.monthly["metric"] == metric]
            if (rows[grouping] != ALL).any():  # broken down, but not this one (Mastodon reports no impressions)
                return (f"{METRICS[metric].label} per month — organisation (no figure for "
                        f"{f.department if grouping == 'department' else f.platform})")
            return f"{METRICS[metric].label} per month — organisation (not broken down by {grouping})"
        return f"{METRICS[metric].label} per month{self._scope(f)}"

    def _on_change(self, change) -> None:
        if self._syncing:
            return
        name = {id(self.period): "period", id(self.department): "department", id(self.platform): "platform"}[
            id(change["owner"])]
        self.filters = self.filters.choose(**{name: change["new"]})
        self._syncing = True
        try:
            self.department.value = self.filters.department
            self.platform.value = self.filters.platform
        finally:
            self._syncing = False
        self.refresh()

    def refresh(self) -> None:
        """Redraw tiles, charts and download links for the current filters."""
        self._refresh_tiles()
        self._refresh_recognition()
        for chart in (*self.charts, *self.story_charts):
            chart.update(self.filters)

    def _refresh_tiles(self) -> None:
        f = self.filters
        grouping = "department" if f.department != ALL else "platform"
        tiles = kpi_tiles(self.data.quarterly, period=f.period, department=f.department, platform=f.platform)
        cells = "".join(_tile_html(pd.Series(tile._asdict()), self.data.k, grouping)
                        for tile in tiles.itertuples(index=False))
        self.key_figures.value = (
            "<span style='font-size:12px;color:#555'>Choose a department or a platform; they are not combined, so "
            f"no group gets too small to show.</span><h2>Key figures</h2><div class='pp-tiles' style='{_TILE_GRID}'>"
            f"{cells}</div><h2>Trends</h2>")


def leadership(path: str | os.PathLike[str] | None = None):
    """The leadership dashboard as one ipywidgets box (or the message saying what to run / busy, retry)."""
    return _guarded(lambda data: LeadershipDashboard(data).widget, path)


def _ranking_html(table: pd.DataFrame) -> str:
    rows = "".join(
        f"<tr><td style='text-align:center;font-weight:600'>{row.rank}</td><td>{html.escape(row.area)}</td>"
        f"<td>{row.score:.0f} ({row.score_low:.0f} to {row.score_high:.0f})</td>"
        f"<td>{html.escape(priorities.how_sure(row.rank_probability, row.sureness))}</td>"
        f"<td>{html.escape(row.evidence)}</td></tr>" for row in table.itertuples())
    return ("<table class='pp-ranking' style='border-collapse:collapse;font-size:13px;width:100%'>"
            "<thead><tr style='text-align:left;border-bottom:1px solid #999'><th>Rank</th><th>Area</th>"
            "<th>Score (95% interval)</th><th>How sure</th><th>Evidence</th></tr></thead><tbody>" + rows +
            "</tbody></table>")


@dataclass(frozen=True)
class _Review:
    """What every part of the policy review shows for the chosen quarter."""

    period: str
    previous: str | None  # None for the first quarter with data: no quarter of zeros before it
    ranking: pd.DataFrame
    voices: dict[str, str]
    tables: dict[str, str]  # each area's clarity and incidents table (:func:`_area_tables`)
    area: str = ALL  # the policy area chosen, or all of them

    def evidence(self, area: str) -> pd.Series:
        return self.ranking.set_index("area").loc[area]

    @property
    def ranked(self) -> list[str]:
        """Every policy area in the ranking's order (most in need of revision first)."""
        ranked = [area for area in self.ranking["area"] if area in AREAS]
        return ranked + [area for area in AREAS if area not in ranked]

    @property
    def areas(self) -> list[str]:
        """The areas whose sections show, in the ranking's order."""
        return self.ranked if self.area == ALL else [self.area]

    @property
    def quarters(self) -> list[str]:
        """The quarters compared, earlier first."""
        return [q for q in (self.previous, self.period) if q]


def _review_chart(key: str, frame: Callable[[_Review], pd.DataFrame],
                  draw: Callable[[pd.DataFrame, _Review], object], note: Callable[[pd.DataFrame, _Review], str]
                  ) -> _Chart:
    """A chart of the policy review with what it shows (``note``) and its CSV download (``key``.csv) under it."""
    return _Chart(key, frame, draw, lambda rows, review: _note_and_download(note(rows, review), rows, f"{key}.csv"))


class PolicyReview:
    """The policy committee's evidence per policy area for a quarter chosen in a dropdown (the latest
    first): the areas ranked for revision, the clarity items, and each area's evidence and charts, the
    areas in the ranking's order (the committee report's); the trends end with the quarter (the effect of
    a revision told is then the last one measurable by its end). An area chosen in the second dropdown (which
    lists them in the ranking's order too) keeps its section only, and its clarity items in the clarity chart."""

    def __init__(self, data: DashboardData) -> None:
        import ipywidgets as widgets

        self.data = data
        periods = filter_options(data.quarterly)["periods"]
        if not periods:
            raise warehouse.WarehouseMissing(_EMPTY.format(name=data.warehouse.name))
        self.period = widgets.Dropdown(options=periods, value=periods[0], description="Quarter")
        # listed in the chosen quarter's ranking order once the review is worked out (below)
        self.area = widgets.Dropdown(options=[(ALL, ALL)], value=ALL, description="Area")
        self.clarity = self._clarity_chart()
        self.common = [*self._overview_parts(), self.clarity]
        self.sections = self._area_sections()
        self.parts = [*self.common, *(part for parts in self.sections.values() for part in parts)]
        self._reviews: dict[str, _Review] = {}
        self.review = self._review(self.period.value)
        self._top = [_header("Policy review: evidence per policy area", data),
                     widgets.HBox([self.period, self.area]),
                     *(widget for part in self.common for widget in part.show(self.review))]
        # each area's widgets are made once; a quarter or an area chosen reorders or picks them
        self._section_widgets = {area: [widget for part in parts for widget in part.show(self.review)]
                                 for area, parts in self.sections.items()}
        self.widget = widgets.VBox(self._children())
        self._ordering = False
        self._order_areas()
        self.period.observe(lambda _change: self.refresh(), names="value")
        self.area.observe(lambda _change: None if self._ordering else self._choose_area(), names="value")

    def _review(self, period: str) -> _Review:
        """The quarter's review, worked out once per quarter: its ranking reads the two quarters' posts (seconds
        over a million posts), and the data do not change while the page is open."""
        if period not in self._reviews:
            previous = parse_period(period).previous().label
            review = _Review(period, previous if previous in self.period.options else None,
                             revision_priorities(self.data, period=period), area_voices(self.data, period=period), {})
            self._reviews[period] = replace(review, tables=_area_tables(self.data, review.quarters))
        return replace(self._reviews[period], area=self.area.value)

    def _children(self) -> list:
        return [*self._top, *(widget for area in self.review.areas for widget in self._section_widgets[area])]

    def refresh(self) -> None:
        """Redraw every part for the chosen quarter, the areas' sections in its ranking's order."""
        self.review = self._review(self.period.value)
        for part in self.parts:
            part.update(self.review)
        self.widget.children = self._children()
        self._order_areas()

    def _order_areas(self) -> None:
        """List the Area dropdown in the quarter's ranking order, as the sections come (the area chosen stays)."""
        chosen = self.area.value
        self._ordering = True
        try:
            # new options select the first; the area chosen is chosen again, which changes nothing shown
            self.area.options = [(ALL, ALL), *((area.capitalize(), area) for area in self.review.ranked)]
            self.area.value = chosen
        finally:
            self._ordering = False

    def _choose_area(self) -> None:
        """Show the chosen area's section (or every area's) and its clarity items; nothing else changes."""
        self.review = replace(self.review, area=self.area.value)
        self.clarity.update(self.review)
        self.widget.children = self._children()

    def _clarity_chart(self) -> _Chart:
        """The clarity items' favourability per survey wave (the chosen area's items only, with one chosen)."""
        data = self.data
        return _review_chart(
            "clarity-items", self._clarity, lambda rows, r: bar_chart(
                rows.assign(label=rows["area"].fillna("") + ": " + rows["text"].fillna("")), category="label",
                value="favourable", n="n", ci=("ci_low", "ci_high"), suppressed="suppressed",
                colour="wave", percent=True, k=data.k,
                title=f"Is the policy clear? Clarity items{'' if r.area == ALL else ' on ' + r.area}, "
                      f"{insights.format_count(rows['wave'].nunique(), 'survey wave')} to {r.period}",
                axis_title="Favourable answers (% of respondents)",
                how_to_read="Longer bars mean clearer; whiskers are 95% CIs; n = respondents per item and wave."),
            lambda rows, r: METRICS["clarity_favourability"].definition)

    def _overview_parts(self) -> list[_Chart | _Text]:
        """The ranking and the adherence trend of all areas, above the clarity items and the areas' sections."""
        data = self.data
        return [
            _Text(lambda r: (
                f"<h2>Areas to revise, {html.escape(r.period)}</h2><p style='font-size:13px;color:#555'>"
                f"{html.escape(priorities.RANKING_NOTE)} The evidence behind each rank is listed beside it; each "
                "area's section below comes in this order.</p>"
                + _ranking_html(r.ranking) + csv_link(r.ranking, "areas-to-revise.csv", "Download the ranking (CSV)"))),
            _review_chart(
                # the download names its series as the chart names its one line (the metric), not "Organisation"
                "adherence-rate", lambda r: trend_frame(data.monthly, metric="adherence_rate", through=r.period)
                .assign(series=METRICS["adherence_rate"].label),
                lambda rows, r: trend_chart(rows.drop(columns="series"), metric="adherence_rate",
                                            versions=data.versions, k=data.k,
                                            title=f"Adherence rate per month (all policy areas), through {r.period}"),
                lambda rows, r: f"Effect of the last revision: {revision_effect(rows, data.versions)[1]}"),
        ]

    def _area_sections(self) -> dict[str, list[_Chart | _Text]]:
        """Each policy area's evidence, and its charts where it has any."""
        has_rules = set(rules_frame()["area"])
        sections = {}
        for area in AREAS:
            parts = [_Text(functools.partial(self._area_evidence, area))]
            if area == "engagement":
                parts += _engagement_parts(self.data)
            if area in has_rules:
                parts += self._area_charts(area)
            sections[area] = parts
        return sections

    def _clarity(self, review: _Review) -> pd.DataFrame:
        clarity = self.data.clarity
        if review.area != ALL:
            clarity = clarity[clarity["area"] == review.area]
        return clarity[clarity["wave"].isin(recent_waves(clarity["wave"], review.period, CLARITY_WAVES))]

    def _area_evidence(self, area: str, review: _Review) -> str:
        evidence = review.evidence(area)
        rank = int(evidence["rank"])
        return (f"<h2 id='area-{area}'>{html.escape(area.capitalize())} — rank {rank} of {len(review.ranking)} "
                f"to revise</h2><p style='font-size:13px;color:#555'>"
                f"{html.escape(self.data.areas.get(area, ''))}</p><p style='font-size:13px'><b>Evidence.</b> "
                f"{html.escape(evidence['evidence'])}</p>"
                + (f"<p style='font-size:13px'><b>What employees say.</b> {html.escape(review.voices[area])}</p>"
                   if area in review.voices else "")
                + review.tables[area])

    def _area_charts(self, area: str) -> list[_Chart]:
        data, name = self.data, area.capitalize()
        return [
            _review_chart(
                f"{area}-findings-by-rule", lambda r: findings_by_rule(data, area=area, periods=r.quarters),
                lambda rows, r: bar_chart(
                    rows, category="rule", value="findings", colour="period", k=data.k,
                    title=f"{name}: findings per rule, {' and '.join(r.quarters)}",
                    axis_title="Findings on employee posts (count)",
                    how_to_read="Counts of (non-dismissed) findings per rule; individual posts are never listed."),
                lambda rows, r: "A finding is a post matching a policy rule; dismissed false positives are left out."),
            _review_chart(
                f"{area}-adherence", lambda r: area_adherence(data, area=area, through=r.period),
                # the line named by its area (the metric's name would read as the organisation's whole rate)
                lambda rows, r: trend_chart(
                    rows.assign(area=name), metric="adherence_rate", series="area", versions=data.versions, k=data.k,
                    title=f"{name}: employee posts without a {area} finding, per month",
                    axis_title="Posts without a finding (% of employee posts)"),
                lambda rows, r: "Effect of the last revision: "
                                + revision_effect(rows, data.versions, label=f"Adherence to the {area} rules")[1]),
        ]


def _coverage_reading(rows: pd.DataFrame) -> str | None:
    """How to read training coverage: the months before the module's first completion read 0 %, which is no
    one trained yet, not a roster that stopped training."""
    started = rows.loc[(rows["series"] == ORGANISATION) & (rows["value"] > 0), "period"]
    if started.empty:
        return None
    return ("Each point is the share of employees on the roster at the month's end who have completed the policy "
            f"training (higher is better); it is 0 before the module's first completion, in {started.min()}; the "
            "band is the 95% CI; dashed lines mark policy revisions.")


def _engagement_parts(data: DashboardData) -> list[_Chart | _Text]:
    """Mission-story share and amplifier share by department (k-safe) and the content themes' labels."""

    def story(review: _Review) -> pd.DataFrame:
        rows = data.story
        if rows.empty:
            rows = pd.DataFrame(columns=["quarter", "department", "n_posts", "mission_story_share", "ci_low",
                                         "ci_high", "suppressed"])
        return rows[rows["quarter"] == review.period].drop(columns="quarter")

    def amplifiers(review: _Review) -> pd.DataFrame:
        quarterly = data.quarterly
        rows = quarterly[(quarterly["metric"] == "amplifier_share") & (quarterly["period"] == review.period)
                         & (quarterly["department"] != ALL) & (quarterly["platform"] == ALL)]
        return rows[["department", "value", "n", "n_people", "ci_low", "ci_high", "suppressed"]].rename(
            columns={"value": "amplifier_share", "n": "people_on_roster"})

    themes_table = themes.taxonomy_frame()[["theme", "label", "description", "mission_story"]]
    rows = "".join(f"<tr><td>{html.escape(t.label)}</td><td style='color:#666'>{html.escape(t.theme)}</td>"
                   f"<td>{html.escape(t.description)}</td><td>{'yes' if t.mission_story else ''}</td></tr>"
                   for t in themes_table.itertuples())
    themes_html = ("<h3>Content themes</h3><table class='pp-themes' style='font-size:13px;border-collapse:collapse'>"
                   "<thead><tr style='text-align:left;border-bottom:1px solid #999'><th>Theme</th><th>Id</th>"
                   "<th>What it covers</th><th>Mission story</th></tr></thead><tbody>" + rows + "</tbody></table>"
                   + csv_link(themes_table, "content-themes.csv", "Download the themes (CSV)"))

    def by_department(key: str, frame: Callable[[_Review], pd.DataFrame], *, metric: str, value: str, n: str,
                      title: str, axis_title: str, how_to_read: str) -> _Chart:
        return _review_chart(key, frame, lambda rows, r: bar_chart(
            rows, category="department", value=value, n=n, ci=("ci_low", "ci_high"), suppressed="suppressed",
            percent=True, k=data.k, title=f"{title}, {r.period}", axis_title=axis_title,
            how_to_read=f"{how_to_read}; whiskers are 95% CIs; departments of fewer than {data.k} people are hidden, "
                        "and another where the totals would reveal one."),
            lambda rows, r: METRICS[metric].definition)

    return [
        by_department("mission-story-share-by-department", story, metric="mission_story_share",
                      value="mission_story_share", n="n_posts",
                      title="Engagement: mission-story share of employee posts by department",
                      axis_title="Mission stories (% of employee posts)",
                      how_to_read="Longer bars mean more of a department's posts tell a mission story"),
        by_department("amplifier-share-by-department", amplifiers, metric="amplifier_share", value="amplifier_share",
                      n="people_on_roster", title="Engagement: employees amplifying organisation posts by department",
                      axis_title="Employees who shared an organisation post (% of the roster)",
                      how_to_read="Longer bars mean more of a department took part"),
        _Text(lambda r: themes_html),
    ]


def recent_waves(waves: pd.Series, period: str, count: int) -> list[str]:
    """The last ``count`` distinct survey waves of ``waves`` that began before ``period`` ends, oldest first.

    Examples
    --------
    >>> recent_waves(pd.Series(["2026-Q3", "2025-Q4", "2026-Q1", "2026-Q3", "2026-Q2"]), "2026-Q2", 2)
    ['2026-Q1', '2026-Q2']
    """
    end = pd.Timestamp(parse_period(period).end)
    return [wave for wave in sorted(set(waves), key=_period_key) if _period_key(wave) < end][-count:]


def _area_tables(data: DashboardData, quarters: Sequence[str]) -> dict[str, str]:
    """Each policy area's small HTML table (aggregates only) for the quarters compared, by area: its clarity
    items (each worded once, in the last two survey waves up to the last of ``quarters``; the chart above has
    every wave) and its incidents in each quarter. The quarters' incident figures are one computation for all
    areas, as every surface shows them (:func:`analytics.metrics.incident_figures_by_period`: hidden jointly with
    their months, the other areas and the organisation)."""
    incidents = data.incidents.assign(quarter=period_labels(data.incidents["month"], "quarter"))
    incidents = incidents[incidents["quarter"].isin(quarters)]
    figures = incident_figures_by_period(incidents, k=data.k) if len(incidents) else None
    if figures is not None:
        figures = figures[figures["severity"] == ALL].set_index(["period", "area"])
    return {area: _area_table(data, area, quarters, incidents, figures) for area in AREAS}


def _area_table(data: DashboardData, area: str, quarters: Sequence[str], incidents: pd.DataFrame,
                figures: pd.DataFrame | None) -> str:
    """One area's table of :func:`_area_tables`, from the quarters' ``incidents`` and their ``figures``."""
    period = quarters[-1]
    cells = []
    items = data.clarity[data.clarity["area"] == area]
    waves = recent_waves(items["wave"], period, 2)
    for _item, rows in items[items["wave"].isin(waves)].groupby("item_id", sort=False):
        for j, row in enumerate(sorted(rows.itertuples(), key=lambda r: waves.index(r.wave))):
            value = (privacy.hidden_label(data.k) if row.suppressed else
                     f"{insights.format_percent(row.favourable)} favourable (n = {int(row.n)}, "
                     f"{insights.format_ci(row.ci_low, row.ci_high, scale='rate')})")
            cells.append((f"Clarity: “{row.text}”" if j == 0 else "", f"wave {row.wave}: {value}"))
    for q in quarters:
        mine = incidents[(incidents["area"] == area) & (incidents["quarter"] == q)]
        counts = mine["severity"].value_counts()
        # most severe first, in every quarter alike (value_counts ordered ties as they came: "1 medium, 1 low, 1 high")
        severity = ", ".join(f"{counts[s]} {s}" for s in reversed(SEVERITIES) if s in counts) or "none"
        line = f"{len(mine)} ({severity})"
        if len(mine):
            row = figures.loc[(q, area)]
            shown = [f"{int(row['n_self_reported'])} self-reported"] if pd.notna(row["n_self_reported"]) else []
            if pd.notna(row["median_hours_to_resolve"]):
                shown.append(f"median {row['median_hours_to_resolve']:.0f} h to resolve")
            hidden = [name for name, column in (("self-reported count", "n_self_reported"),
                                                ("median time to resolve", "median_hours_to_resolve"))
                      if pd.isna(row[column])]
            line = "; ".join([line, *shown, *([f"{' and '.join(hidden)} {privacy.hidden_label(data.k)}"]
                                               if hidden else [])])
        cells.append((f"Incidents, {q}", line))
    rows = "".join(f"<tr><td style='padding:2px 10px 2px 0;color:#444'>{html.escape(a)}</td>"
                   f"<td>{html.escape(b)}</td></tr>" for a, b in cells)
    return f"<table class='pp-area' style='font-size:13px'>{rows}</table>"


def policy_review(path: str | os.PathLike[str] | None = None):
    """The policy-review dashboard as one ipywidgets box (or the message saying what to run / busy, retry)."""
    return _guarded(lambda data: PolicyReview(data).widget, path)
