"""Every metric the surfaces show: its one definition, and the period tables ``build`` precomputes.

``build`` derives ``monthly_metrics`` and ``quarterly_metrics`` (one long table each, small groups
already suppressed) so dashboards and the report read a few thousand rows however large the data.
Groupings are fixed — all, by department, by platform — so suppression can be proved: department x
platform is never published.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import sys
import sysconfig
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from analytics import config, usercache
from analytics.adherence import wilson_interval
from analytics.periods import parse_period, period_labels, sql_period_label
from analytics.privacy import suppress_small_groups

__all__ = [
    "ALL",
    "GROUPINGS",
    "INCIDENT_GROUPS",
    "METRICS",
    "SURVEY_METRICS",
    "TABLES_VERSION",
    "Metric",
    "PeriodUpdate",
    "compare_periods",
    "employee_cells",
    "incident_figures",
    "incident_figures_by_period",
    "metric_definitions",
    "month_inputs",
    "period_metrics",
    "period_tables",
    "period_tables_and_groups",
    "two_proportion_p_value",
    "update_period_tables",
]

#: The metrics computed from the survey alone (per wave, in the quarterly table only).
SURVEY_METRICS = ("response_rate", "trust_favourability", "clarity_favourability")
#: The label of "no filter" in the department and platform columns.
ALL = "(all)"
#: The only groupings ever published: (grouping column or None).
GROUPINGS = (None, "department", "platform")


@dataclass(frozen=True)
class Metric:
    """One metric: what it is called, its unit and its one-line definition."""

    name: str
    label: str
    unit: str
    definition: str
    kind: str  # rate | mean | ratio | count | median
    higher_is_better: bool = True
    by_people: bool = True  # grouped by department/platform it describes people, so k applies
    n_unit: str = "posts"  # what the n behind a value counts


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("adherence_rate", "Adherence rate", "% of employee posts",
           "Share of employee posts with no policy finding of severity medium or high (dismissed findings "
           "excluded).", "rate"),
    Metric("employee_sentiment", "Employee-post sentiment", "mean VADER compound (−1 to +1)",
           "Mean VADER compound score of employee posts detected as English.", "mean"),
    Metric("organisation_sentiment", "Organisation-post sentiment", "mean VADER compound (−1 to +1)",
           "Mean VADER compound score of the organisation's own posts detected as English.", "mean",
           by_people=False),
    Metric("audience_sentiment", "Audience-comment sentiment", "mean VADER compound (−1 to +1)",
           "Mean VADER compound score of audience comments on the organisation's posts.", "mean", by_people=False,
           n_unit="comments"),
    Metric("engagement_rate", "Engagement rate (by impressions)", "% of impressions",
           "(reactions + comments + shares + clicks + saves) ÷ impressions, over organisation posts that report "
           "impressions; posts without impressions are left out (Mastodon reports none).", "ratio",
           by_people=False),
    Metric("engagement_rate_reach", "Engagement rate (by reach)", "% of people reached",
           "(reactions + comments + shares + clicks + saves) ÷ reach, over organisation posts that report reach.",
           "ratio", by_people=False),
    Metric("employee_posts", "Employee posts", "posts", "Number of public posts by employees.", "count"),
    Metric("incidents", "Incidents reported", "incidents", "Number of incidents (posting mistakes) reported.",
           "count", higher_is_better=False, n_unit="incidents"),
    Metric("median_hours_to_resolve", "Median time to resolve", "hours",
           "Median hours from an incident's report to its resolution (resolved incidents; hidden below k of "
           "them, so that no single incident can be read off).", "median",
           higher_is_better=False, n_unit="resolved incidents"),
    Metric("self_reported_share", "Self-reported incidents", "% of incidents",
           "Share of incidents reported by the employee involved (a sign people feel safe to admit mistakes; hidden "
           "below k incidents, and where a hidden one could be worked out from a total).", "rate",
           n_unit="incidents"),
    Metric("training_coverage", "Training coverage", "% of employees",
           "Share of employees on the roster at the end of the period who have completed the policy training "
           "module.", "rate", n_unit="employees"),
    Metric("response_rate", "Survey response rate", "% of headcount",
           "Finished survey responses ÷ employees on the roster at the wave's midpoint.", "rate", n_unit="employees"),
    Metric("mission_story_share", "Mission stories", "% of employee posts",
           "Share of employee posts whose primary content theme is a mission story (data/content_themes.yml; "
           "a share of an organisation post takes that post's theme).", "rate"),
    Metric("amplifications", "Amplifications", "employee shares",
           "Employee posts sharing an organisation post (matched by shared URL, a link to it, or a quote of it).",
           "count", n_unit="employee shares"),
    Metric("amplifier_share", "Employees amplifying", "% of employees",
           "Share of employees on the roster in the period who shared an organisation post at least once.",
           "rate", n_unit="employees"),
    Metric("mission_clicks", "Clicks on mission links", "clicks",
           "Clicks the platforms report on organisation posts linking to a mission page (mission_url_patterns: "
           "donate, volunteer); posts with only short links (t.co) are not counted. Not an earned-media value.",
           "count", by_people=False),
    Metric("trust_favourability", "Trust (favourable)", "% favourable",
           "Share of answers to the trust items that are favourable (top-2-box: agree or strongly agree, after "
           "reverse coding).", "rate", n_unit="respondents"),
    Metric("clarity_favourability", "Policy clarity (favourable)", "% favourable",
           "Share of answers to the policy-clarity items that are favourable (top-2-box).", "rate",
           n_unit="respondents"),
)}

#: Bumped when what the period tables hold changes for the same inputs (2: a month the incident log covers
#: without an incident counts 0; 3: the organisation's median time to resolve needs k resolved incidents; 4: its
#: self-reported share needs k incidents, as :func:`incident_figures`; 5: it is hidden jointly with its areas'
#: and severities', :func:`incident_figures_by_period`; 6: the departments' self-reported shares are hidden where
#: the organisation's is): a warehouse built before computes them whole at its next build.
TABLES_VERSION = "6"

#: The metrics of each kind whose suppression needs it (a rate's successes, a count's zero value).
_RATES = frozenset(name for name, spec in METRICS.items() if spec.kind == "rate")
_COUNTS = frozenset(name for name, spec in METRICS.items() if spec.kind == "count")


def metric_definitions() -> pd.DataFrame:
    """Every metric's label, unit and definition (the methods appendix and the "how to read" lines).

    Returns
    -------
    DataFrame
        Columns ``metric, label, unit, definition, higher_is_better``.

    Examples
    --------
    >>> metric_definitions().set_index("metric").loc["adherence_rate", "unit"]
    '% of employee posts'
    """
    return pd.DataFrame(
        [(m.name, m.label, m.unit, m.definition, m.higher_is_better) for m in METRICS.values()],
        columns=["metric", "label", "unit", "definition", "higher_is_better"],
    )


_OUTPUT = ["period", "department", "platform", "metric", "value", "n", "n_people", "successes", "sd",
           "ci_low", "ci_high", "suppressed"]


def _finish(table: pd.DataFrame, metric: Metric, grouping: str | None, k: int) -> pd.DataFrame:
    """Label the grouping and add CIs; small people-groups are suppressed later, over the whole table
    (:func:`_suppress`), so that a cell can be hidden because of another table or another piece."""
    # the columns gathered first and the frame made once: a column set at a time costs a copy each
    columns = {column: table[column] for column in table.columns}
    columns["metric"] = metric.name
    for column in ("department", "platform"):
        if column != grouping:
            columns[column] = ALL
    if metric.kind == "rate":
        columns["value"] = table["successes"] / table["n"]
        low, high = wilson_interval(table["successes"].to_numpy(float), np.maximum(table["n"].to_numpy(float), 1))
        columns["ci_low"], columns["ci_high"] = pd.Series(low, index=table.index), pd.Series(high, index=table.index)
    elif metric.kind == "mean":
        n = table["n"].to_numpy(float)
        half = _t975(np.maximum(n - 1, 1)) * table["sd"].to_numpy(float) / np.sqrt(n)
        columns["ci_low"], columns["ci_high"] = table["value"] - half, table["value"] + half
    columns["suppressed"] = False
    columns["_pending"] = grouping is not None and metric.by_people
    return pd.DataFrame({column: columns.get(column, np.nan) for column in [*_OUTPUT, "_pending"]}, index=table.index)


#: Bumped when what the t-quantile table holds, or how it is laid out, changes: older tables are ignored.
_T_TABLE_FORMAT = "1"
#: The largest ``df`` the table may hold (32 MB), so a huge group cannot make it huge.
_T_TABLE_MAX = 1 << 22


def _t975(df: np.ndarray) -> np.ndarray:
    """The 97.5 % quantile of Student's t with ``df`` degrees of freedom: scipy's ``stdtrit(df, 0.975)``.

    Importing scipy.special costs a process ~0.15 s, more than the rest of an incremental build's mean CIs,
    for a few hundred values. So scipy's own values at whole ``df`` from 1 up are kept in the user's cache
    (:mod:`analytics.usercache`), under a digest of the installed scipy (:func:`_scipy_digest`): what is read
    back is exactly what this scipy computes. A ``df`` the table does not hold (not whole, beyond it) has
    scipy compute everything, and a whole one beyond it makes the table hold twice the largest.
    """
    digest = _scipy_digest()
    folder = usercache.cache_dir() / f"t975-{digest}-{_T_TABLE_FORMAT}"
    whole = (df >= 1) & (df <= _T_TABLE_MAX) & (df == np.round(df))
    table = _t_table(folder) if digest else np.zeros(0)
    if whole.all() and (not len(df) or df.max() <= len(table)):
        return table[df.astype(np.int64) - 1]
    # scipy's t.ppf is stdtrit; calling it directly spares importing scipy.stats
    from scipy import special

    if digest and whole.any() and df[whole].max() > len(table):
        size = min(1 << int(2 * df[whole].max()).bit_length(), _T_TABLE_MAX)
        with contextlib.suppress(OSError):  # a cache that cannot be written only costs time
            usercache.write_arrays(folder, {"t975": special.stdtrit(np.arange(1.0, size + 1), 0.975)})
            _t_table.cache_clear()
    return special.stdtrit(df, 0.975)


@functools.lru_cache(maxsize=2)
def _t_table(folder: Path) -> np.ndarray:
    """The table of :func:`_t975` in ``folder`` (``table[i]`` at ``i + 1`` degrees of freedom), read once
    per process; empty when there is none or it is damaged."""
    arrays = usercache.read_arrays(folder, ["t975"])
    return np.zeros(0) if arrays is None else arrays["t975"]


@functools.lru_cache(maxsize=1)
def _scipy_digest() -> str | None:
    """A digest of the installed scipy: its version file (version and git revision), the platform and
    Python it is built for, and the names and sizes of its special functions' compiled modules; None when
    they cannot be read (then scipy computes every quantile)."""
    # found, not imported: finding the package costs microseconds, importing it is what the table spares
    spec = importlib.util.find_spec("scipy")
    if spec is None or spec.origin is None:
        raise ValueError("scipy is not installed; reinstall analytics with its dependencies (pip install -e .)")
    package = Path(spec.origin).parent
    digest = hashlib.sha256(f"{sysconfig.get_platform()} {sys.implementation.cache_tag}".encode())
    try:
        digest.update((package / "version.py").read_bytes())
        for module in sorted((package / "special").glob("_ufuncs*")):
            digest.update(f"{module.name} {module.stat().st_size}".encode())
    except OSError:
        return None
    return digest.hexdigest()[:16]


_BLANKED = ["value", "n", "successes", "sd", "ci_low", "ci_high"]


def _suppress(table: pd.DataFrame, k: int, months: pd.DataFrame | None,
              groups: dict[tuple[str, str], set] | None = None,
              seen: dict[tuple[str, str], set] | None = None) -> pd.DataFrame:
    """Suppress every people-grouped piece (metric x grouping), jointly with what else is published.

    * Lines are the groups of one period: their total is the published ``(all)`` row.
    * With ``months`` (the published monthly table), a quarter's cell is hidden whenever one of its
      months is hidden there, else the month would be the quarter minus the other months.
    * A piece's rows flagged ``_forced`` are hidden whatever their count (a department's where the
      organisation's figure is hidden: else the departments added up to it), with complementary cells.
    * A rate's numerator and its complement stay unrecoverable (``nonzero``), so no hidden group is
      pinned to "none" or "all" of its posts.
    * A period whose hidden groups its line cannot protect (one group alone, too few people in all)
      gets explicit zero rows for every other group the piece has in any period: all its cells are
      then hidden, and a zero row looks like a small group, so the published total says no more than
      the organisation's figure. Where there is no other group to add, the ``(all)`` row is hidden.

    Only those zero rows tie a period to the others, through the groups a piece has in any period:
    ``groups`` gives them per (metric, grouping) when the table holds some periods only, and ``seen``
    receives each piece's (period, group) pairs, so a caller can tell whether they changed.

    Lines do not overlap, and a line's cells are hidden from its own cells alone: every piece is suppressed
    in one call (a line per piece and period), and again, with their zero rows, the exposed lines only.
    """
    pending = table[table["_pending"]]
    grouping = np.where(pending["department"] != ALL, "department", "platform")
    pending = pending.assign(_grouping=grouping, _group=np.where(grouping == "department", pending["department"],
                                                                 pending["platform"]))
    present = set(zip(pending["metric"].tolist(), pending["_grouping"].tolist(), pending["period"].tolist(),
                      pending["_group"].tolist(), strict=True))
    pieces = dict.fromkeys(zip(pending["metric"].tolist(), pending["_grouping"].tolist(), strict=True))
    forced: set[tuple] = set()
    missing: set[tuple] = set()
    if months is not None:
        grouped = months[(months["department"] != ALL) | (months["platform"] != ALL)]
        keys = list(zip(grouped["metric"].tolist(), period_labels(grouped["period"], "quarter").tolist(),
                        grouped["department"].tolist(), grouped["platform"].tolist(), strict=True))
        forced = {key for key, hidden in zip(keys, grouped["suppressed"].astype(bool).tolist(), strict=True) if hidden}
        # a group with a (zero) row in a month but none in its quarter would say "none in the other months"
        missing = {(metric, "department" if department != ALL else "platform", period,
                    department if department != ALL else platform)
                   for metric, period, department, platform in keys} - present
        missing = {cell for cell in missing if cell[:2] in pieces}
    work = pd.concat([pending, _zero_rows(missing)], ignore_index=True)
    every: dict[tuple[str, str], set] = {piece: set() for piece in pieces}
    for metric, piece_grouping, period, group in present | missing:
        every[(metric, piece_grouping)].add((period, group))
    if seen is not None:
        seen.update(every)
    # a piece may come with cells it must hide (``_forced``), e.g. where its published total is hidden
    preset = work["_forced"].astype("boolean").fillna(False).to_numpy(bool) if "_forced" in work else \
        np.zeros(len(work), dtype=bool)
    work = work.assign(_forced=preset | np.asarray([key in forced for key in zip(
        work["metric"].tolist(), work["period"].tolist(), work["department"].tolist(), work["platform"].tolist(),
        strict=True)], dtype=bool))
    out = _suppress_lines(work, k)
    exposed = out[out["exposed"]]
    lines = set(zip(exposed["metric"].tolist(), exposed["_grouping"].tolist(), exposed["period"].tolist(),
                    strict=True))
    if lines:
        zeros = set()
        for metric, piece_grouping, period in lines:
            known = every[(metric, piece_grouping)]
            names = {group for _, group in known} if groups is None else groups.get((metric, piece_grouping), ())
            zeros |= {(metric, piece_grouping, period, group) for group in names if (period, group) not in known}
        redo = np.asarray([line in lines for line in zip(out["metric"].tolist(), out["_grouping"].tolist(),
                                                         out["period"].tolist(), strict=True)], dtype=bool)
        if zeros:
            again = pd.concat([work[redo], _zero_rows(zeros).assign(_forced=False)], ignore_index=True)
            out = pd.concat([out[~redo], _suppress_lines(again, k)], ignore_index=True)
    # completed with every group, a line whose cells are all hidden says only its total (a zero row and a small
    # group look alike); a line of one group alone says its group's count
    exposed = out[out["exposed"]].groupby(["metric", "_grouping", "period"], dropna=False).size()
    exposed_totals = {(metric, period) for metric, _, period in exposed.index[exposed < 2]}
    table = pd.concat([table[~table["_pending"]], out], ignore_index=True)
    totals = [key in exposed_totals for key in zip(table["metric"].tolist(), table["period"].tolist(), strict=True)]
    totals = np.asarray(totals, dtype=bool) & (table["department"] == ALL).to_numpy() & (
        table["platform"] == ALL).to_numpy()
    table.loc[totals, "suppressed"] = True
    table.loc[totals, ["n_people", *_BLANKED]] = np.nan
    # the label columns' types whichever pieces the table holds (the zero rows' are plain objects)
    return table[_OUTPUT].astype({"period": object, "department": object, "platform": object, "metric": "str"})


def _suppress_lines(work: pd.DataFrame, k: int) -> pd.DataFrame:
    """:func:`privacy.suppress_small_groups` over every line (piece and period) of ``work`` at once; a rate's
    successes and failures stay unrecoverable, the other pieces' numerators are set apart (always positive)."""
    rate = work["metric"].isin(_RATES).to_numpy(bool)
    return suppress_small_groups(
        work.assign(_successes=work["successes"].where(rate, 1.0),
                    _failures=(work["n"] - work["successes"]).where(rate, 1.0)),
        by=["metric", "_grouping", "period", "_group"], along=["_group"], n="n_people", values=_BLANKED, k=k,
        hide="_forced", nonzero=["_successes", "_failures"], report_exposed=True)


def _zero_rows(cells: set[tuple]) -> pd.DataFrame:
    """Explicit rows for groups without data in a period (``cells``: metric, grouping, period, group), each
    piece's in the order of their (period, group)."""
    zeros = pd.DataFrame(sorted(cells, key=str), columns=["metric", "_grouping", "period", "_group"])
    rate = zeros["metric"].isin(_RATES)
    count = zeros["metric"].isin(_COUNTS)
    by_department = zeros["_grouping"] == "department"
    return zeros.assign(department=zeros["_group"].where(by_department, ALL),
                        platform=zeros["_group"].where(~by_department, ALL), n=0.0, n_people=0.0,
                        successes=np.where(rate, 0.0, np.nan), value=np.where(count, 0.0, np.nan),
                        suppressed=False, _pending=True)


def _grouped(frame: pd.DataFrame, grouping: str | None, aggregate) -> pd.DataFrame:
    keys = ["period"] + ([grouping] if grouping else [])
    if frame.empty:
        return pd.DataFrame(columns=[*keys, "value", "n", "n_people", "successes", "sd"])
    out = aggregate(frame.groupby(keys, dropna=False, observed=True)).reset_index()
    for key in keys:
        if isinstance(out[key].dtype, pd.CategoricalDtype):
            out[key] = out[key].astype(out[key].cat.categories.dtype)
    return out


def _rate(groups, success: str, people: str | None):
    out = groups.agg(n=(success, "size"), successes=(success, "sum"))
    out["n_people"] = groups[people].nunique() if people else np.nan
    return out


def _mean(groups, value: str, people: str | None):
    out = groups.agg(value=(value, "mean"), sd=(value, "std"), n=(value, "size"))
    out["n_people"] = groups[people].nunique() if people else np.nan
    return out


def period_metrics(con: duckdb.DuckDBPyConnection, *, kind: str = "month", k: int | None = None,
                   months: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every metric per period (``kind`` = ``"month"`` or ``"quarter"``) for the fixed groupings.

    Reads the derived ``post_facts`` and ``incident_timings`` tables and the canonical survey,
    training and roster tables of an open warehouse connection. A quarterly table is suppressed
    jointly with the monthly one (a quarter's cell is hidden where one of its months is): pass the
    published monthly table as ``months``, else it is computed again. :func:`period_tables` gives
    both tables for the cost of about one.

    Returns
    -------
    DataFrame
        Columns ``period`` (``YYYY-MM`` or ``YYYY-Qn``, local time), ``department`` and ``platform``
        (``"(all)"`` when not grouped by it), ``metric``, ``value``, ``n`` (posts, answers, incidents or
        responses behind the value), ``n_people`` (distinct people, where the metric is about people),
        ``successes`` (for rates), ``sd`` (for means), ``ci_low``, ``ci_high`` (95 %), ``suppressed``
        (hidden: fewer than k people, or hidden so that such a cell cannot be recovered from the totals).
    """
    if kind not in ("month", "quarter"):
        raise ValueError(f"kind={kind!r}: choose 'month' or 'quarter'.")
    k = config.get_settings().k if k is None else k
    if kind == "quarter" and months is None:
        return period_tables(con, k=k)[1]
    return _period_table(_Inputs.read(con, (kind,)), kind, k, months)


def period_tables(con: duckdb.DuckDBPyConnection, *, k: int | None = None,
                  survey_rows: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The monthly and the quarterly table (the quarterly one suppressed jointly with the monthly one),
    equal to ``period_metrics(kind="month")`` and ``period_metrics(kind="quarter", months=monthly)``
    but reading and aggregating the warehouse once for both.

    Parameters
    ----------
    survey_rows : DataFrame, optional
        The rows of the survey metrics (:data:`SURVEY_METRICS`) of a quarterly table made from the same
        survey answers, respondents, roster, codebook, settings and ``k``: used as they are instead of
        computed again (the caller vouches that those inputs did not change).

    Returns
    -------
    tuple of DataFrame
        ``(monthly, quarterly)``, each with the columns of :func:`period_metrics`.
    """
    k = config.get_settings().k if k is None else k
    monthly, quarterly, _ = _tables(con, k, survey_rows=survey_rows)
    return monthly, quarterly


#: The metrics :func:`_tables` makes apart from the posts of each period, by what they read.
_FAMILIES = {
    "employee": ("adherence_rate", "employee_sentiment", "employee_posts", "mission_story_share", "amplifications"),
    "organisation": ("organisation_sentiment", "engagement_rate", "engagement_rate_reach", "mission_clicks"),
    "audience": ("audience_sentiment",),
    "incidents": ("incidents", "self_reported_share", "median_hours_to_resolve"),
    "training": ("training_coverage",),
    "amplifier_share": ("amplifier_share",),
}

#: The (period, group) pairs of each people-grouped piece, per (period kind, metric, grouping).
Groups = dict[tuple[str, str, str], set]


def period_tables_and_groups(con: duckdb.DuckDBPyConnection, *, k: int | None = None,
                             survey_rows: pd.DataFrame | None = None,
                             cells: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame, Groups]:
    """:func:`period_tables`, and the (period, group) pairs of every people-grouped piece (keyed by period
    kind, metric and grouping) that :func:`update_period_tables` needs to update the tables later.
    ``cells``: the employee posts already aggregated by :func:`employee_cells`."""
    k = config.get_settings().k if k is None else k
    return _tables(con, k, survey_rows=survey_rows, cells=cells)


@dataclass(frozen=True)
class PeriodUpdate:
    """The rows of stored period tables that :func:`update_period_tables` computed again.

    The stored rows of ``periods`` (labels ``YYYY-MM`` and ``YYYY-Qn``), except those of the metrics in
    ``kept``, and with ``amplifier_share`` the amplifier-share rows of every period, are replaced by
    ``monthly`` and ``quarterly``; the stored (period, group) pairs of the same rows by ``groups``.
    """

    periods: tuple[str, ...]
    kept: tuple[str, ...]
    amplifier_share: bool
    monthly: pd.DataFrame
    quarterly: pd.DataFrame
    groups: Groups


def update_period_tables(con: duckdb.DuckDBPyConnection, *, k: int, before: dict[tuple, str],
                         after: dict[tuple, str], groups: Groups, amplifiers_changed: bool,
                         cells: str | None = None) -> PeriodUpdate | None:
    """Compute again only what changed of period tables made by :func:`period_tables_and_groups`.

    The quarters (all their months) whose post inputs differ (``before``: :func:`month_inputs` when the
    tables were made, ``after``: now) are computed again; of the metrics not made from the posts of each
    period, only those whose inputs changed (incidents, the roster, trainings and comments as a whole, which
    the caller vouches did not change, are read whole; ``amplifiers_changed``: who amplified in which month).
    ``groups``: the stored tables' (period, group) pairs. ``cells``: the employee posts already aggregated by
    :func:`employee_cells`.

    Returns
    -------
    PeriodUpdate or None
        None when the tables must be computed whole: a post without a month changed, or a piece's groups
        over all periods changed (they decide zero rows in other periods) or a group is missing. With no
        change, an update of no period.
    """
    differ = {key for key in set(before) | set(after) if before.get(key) != after.get(key)}
    changed = {month for month, _ in differ}
    if not changed:
        empty = pd.DataFrame(columns=_OUTPUT)
        return PeriodUpdate((), (), False, empty, empty, {})
    if None in changed:
        return None
    # incidents are read whole, and did not change (else this is no update); training coverage depends on
    # which months have posts, audience sentiment on the commented posts' platforms; the employee and the
    # organisation figures on their own posts only
    skip = {"incidents"}
    if {month for month, part in before if part == "facts"} == {month for month, part in after if part == "facts"}:
        skip.add("training")
    for family, part in (("audience", "comments"), ("employee", "employee"), ("organisation", "organisation")):
        if not any(changed_part == part for _, changed_part in differ):
            skip.add(family)
    if not amplifiers_changed:
        skip.add("amplifier_share")
    untouched = sorted({metric for family in skip for metric in _FAMILIES[family]})
    quarters = set(period_labels(pd.Series(sorted(changed)), "quarter"))
    redo = [month for quarter in sorted(quarters) for month in parse_period(quarter).months]
    labels = quarters | set(period_labels(pd.Series(redo), "month"))
    monthly, quarterly, seen = _tables(con, k, months=redo, groups=groups, skip=frozenset(skip), cells=cells)
    kept = {key: {pair for pair in pairs if key[1] in untouched or pair[0] not in labels}
            for key, pairs in groups.items()}
    for key, pairs in seen.items():
        kept.setdefault(key, set()).update(pairs)
    for key in set(groups) | set(kept):
        old = {group for _, group in groups.get(key, ())}
        new = {group for _, group in kept.get(key, ())}
        if old != new or any(not isinstance(group, str) for group in new):
            return None
    # the survey metrics are per wave, not made from posts: a quarterly table's survey rows stay
    return PeriodUpdate(tuple(sorted(labels)), tuple(sorted({*SURVEY_METRICS, *untouched})),
                        "amplifier_share" not in skip, monthly, quarterly, seen)


def _tables(con: duckdb.DuckDBPyConnection, k: int, *, survey_rows: pd.DataFrame | None = None,
            months: list | None = None, groups: Groups | None = None,
            skip: frozenset[str] = frozenset(), cells: str | None = None
            ) -> tuple[pd.DataFrame, pd.DataFrame, Groups]:
    """:func:`period_tables`, and the (period, group) pairs of its people-grouped pieces.

    With ``months`` (every month of some quarters, as dates), only those months and quarters are made,
    from the posts, comments and incidents of those months — and the amplifier share of every period, as
    it is suppressed across periods; the survey metrics are left out. They equal the rows of the whole
    tables provided ``groups`` holds the pairs of the whole tables: each piece's groups in any period
    decide the zero rows of a period whose groups cannot protect each other (:func:`_suppress`). The
    families of metrics in ``skip`` (:data:`_FAMILIES`) are left out (a caller keeps their rows)."""
    inputs = _Inputs.read(con, ("month", "quarter"), months, skip, cells)
    if survey_rows is not None:
        inputs.survey_rows = survey_rows.loc[survey_rows["metric"].isin(SURVEY_METRICS), _OUTPUT]
    seen: Groups = {}
    monthly = _period_table(inputs, "month", k, None, groups, seen)
    return monthly, _period_table(inputs, "quarter", k, monthly, groups, seen), seen


@dataclass
class _Inputs:
    """What the period tables read from the warehouse, read once whatever the number of period kinds."""

    con: duckdb.DuckDBPyConnection
    employee: dict[str, pd.DataFrame]
    organisation: dict[str, pd.DataFrame]
    positive: bool
    mission_posts: pd.DataFrame | None
    amplifier_frames: dict[str, pd.DataFrame] | None
    comments: pd.DataFrame
    incidents: pd.DataFrame
    # the roster, completions and months with posts: read for training coverage only
    employees: pd.DataFrame | None
    completions: pd.DataFrame | None
    months: pd.Series | None
    survey_rows: pd.DataFrame | None = None
    only: bool = False
    skip: frozenset[str] = frozenset()

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection, kinds: tuple[str, ...], months: list | None = None,
             skip: frozenset[str] = frozenset(), cells: str | None = None) -> _Inputs:
        from analytics import engagement
        from analytics.datasets import first_completions  # datasets reads metric tables: imported when used

        tz = config.get_settings().timezone
        present = {t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        positive = {"post_themes", "amplifications"} <= present
        amplifier_frames = None
        # with months, only rows of those months (a month of post_facts, of a comment or an incident)
        within = {"months": [] if months is None else list(months), "all": months is None}
        only = "($all OR list_contains($months, {}))"
        if positive and "amplifier_share" not in skip:
            amplifier_frames = {"amplifications": con.execute(
                "SELECT DISTINCT author_key, month FROM amplifications").df(), "employees": con.execute(
                engagement._EMPLOYEES_SQL).df()}
        commented = _commented(con, "posts") if "audience" not in skip else "posts"
        training = "training" not in skip
        return cls(
            con=con,
            employee=_employee_aggregates(con, kinds, within, cells) if "employee" not in skip else {},
            organisation=_organisation_aggregates(con, kinds, within) if "organisation" not in skip else {},
            positive=positive,
            mission_posts=_mission_posts(con, within) if positive and "organisation" not in skip else None,
            amplifier_frames=amplifier_frames,
            comments=con.execute(
                f"""SELECT * FROM (
                        SELECT coalesce(p.platform, c.platform) AS platform, s.compound,
                               CAST(date_trunc('month', c.published_at AT TIME ZONE '{tz}') AS DATE) AS month
                        FROM audience_comments c
                        LEFT JOIN {commented} p USING (post_uid)
                        JOIN sentiment s ON s.text_hash = sha256(c.text) AND s.status = 'scored')
                    WHERE $read AND {only.format("month")}""", {**within, "read": "audience" not in skip}).df(),
            incidents=con.execute(
                f"""SELECT t.*, i.employee_key, t.detection = 'self_reported' AS self_reported
                    FROM incident_timings t JOIN incidents i USING (incident_id)
                    WHERE $read AND {only.format("t.month")}""", {**within, "read": "incidents" not in skip}).df(),
            employees=con.execute("SELECT employee_key, department, started_on, left_on FROM employees").df()
            if training else None,
            completions=first_completions(con=con) if training else None,
            months=con.execute(f"SELECT DISTINCT month FROM post_facts WHERE {only.format('month')} ORDER BY month",
                               within).df()["month"] if training else None,
            only=months is not None,
            skip=skip,
        )


_MONTH_INPUTS = """
SELECT 'facts' AS part, month, 0 AS rows, CAST(0 AS UBIGINT) AS digest FROM post_facts GROUP BY month
UNION ALL
SELECT 'employee', month, sum(n), bit_xor(digest) FROM {cells} GROUP BY month
UNION ALL
SELECT 'organisation', f.month, count(*), bit_xor(hash(s.row_fp, f.sentiment_status, f.compound))
FROM post_facts f JOIN post_state s USING (post_uid) WHERE f.account_type = 'organization' GROUP BY f.month
UNION ALL
SELECT 'comments', month, count(*), bit_xor(hash(post_uid, platform))
FROM (SELECT CAST(date_trunc('month', c.published_at AT TIME ZONE '{tz}') AS DATE) AS month, c.post_uid,
             f.platform
      FROM audience_comments c LEFT JOIN {commented} f USING (post_uid))
GROUP BY month
"""


def _commented(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """The rows of ``table`` (``post_facts`` or ``posts``) that audience comments are on, as a FROM item to join
    the comments with: the organisation's posts, whose account type the scan filters before it reads a post_uid
    (no hash of every post), unless a comment names another post; then every row."""
    others = con.execute(f"""SELECT count(*) FROM audience_comments c
                              ANTI JOIN (SELECT post_uid FROM {table} WHERE account_type = 'organization') o
                                  USING (post_uid)
                              WHERE c.post_uid IS NOT NULL""").fetchone()[0]
    return table if others else f"(SELECT * FROM {table} WHERE account_type = 'organization')"


def month_inputs(con: duckdb.DuckDBPyConnection, *, cells: str | None = None) -> dict[tuple, str]:
    """A digest per (month, part) of what the period tables read from the posts of that month (build's
    post_facts, post_themes, amplifications and post_state must exist): part ``facts``, that the month has
    posts; ``employee``, the facts of employee posts with whether each is a mission story and amplifies;
    ``organisation``, organisation posts' facts, texts and clicks; ``comments``, the platform of each
    commented post. Other posts (unattributed) are read by no figure but through these. Everything else the
    tables read (survey, roster, trainings, incidents, comments, settings) a caller fingerprints whole.
    ``cells``: the employee posts already aggregated by :func:`employee_cells`.
    """
    source, params = _cells_source(con, cells)
    sql = _MONTH_INPUTS.format(tz=config.get_settings().timezone, cells=source,
                               commented=_commented(con, "post_facts"))
    rows = con.execute(sql, params).fetchall()
    return {(month, part): f"{count}:{digest}" for part, month, count, digest in rows}


def _period_table(inputs: _Inputs, kind: str, k: int, months: pd.DataFrame | None,
                  groups: Groups | None = None, seen: Groups | None = None) -> pd.DataFrame:
    pieces, positive = [], []
    if "organisation" not in inputs.skip:
        for grouping in (None, "platform"):
            posts = _one_grouping(inputs.organisation[kind], grouping)
            keys = _keys(grouping)
            scored = posts[posts["n_scored"] > 0]
            pieces.append(_finish(scored[[*keys, "value", "sd", "n_scored"]].rename(columns={"n_scored": "n"}),
                                  METRICS["organisation_sentiment"], grouping, k))
            for metric, base in (("engagement_rate", "impressions"), ("engagement_rate_reach", "reach")):
                ratios = posts[posts[f"n_{base}"] > 0]
                pieces.append(_finish(ratios[[*keys, f"n_{base}", f"{base}_ratio", f"{base}_low", f"{base}_high"]]
                                      .set_axis([*keys, "n", "value", "ci_low", "ci_high"], axis=1),
                                      METRICS[metric], grouping, k))
    for grouping in GROUPINGS if "employee" not in inputs.skip else ():
        posts = _one_grouping(inputs.employee[kind], grouping)
        scored = posts[posts["n_scored"] > 0]
        pieces.append(_finish(posts[[*_keys(grouping), "n", "successes", "n_people"]], METRICS["adherence_rate"],
                              grouping, k))
        pieces.append(_finish(scored[[*_keys(grouping), "value", "sd", "n_scored", "people_scored"]].rename(
            columns={"n_scored": "n", "people_scored": "n_people"}), METRICS["employee_sentiment"], grouping, k))
        pieces.append(_finish(posts[[*_keys(grouping), "n", "n_people"]].assign(value=posts["n"]),
                              METRICS["employee_posts"], grouping, k))
        if inputs.positive:
            shares = posts[posts["n_shares"] > 0]
            positive.append(_finish(posts[[*_keys(grouping), "n", "missions", "n_people"]].rename(
                columns={"missions": "successes"}), METRICS["mission_story_share"], grouping, k))
            positive.append(_finish(shares[[*_keys(grouping), "n_shares", "sharers"]].rename(
                columns={"n_shares": "n", "sharers": "n_people"}).assign(value=shares["n_shares"]),
                METRICS["amplifications"], grouping, k))
    pieces.extend(_positive_side(inputs, positive, kind, k))
    for family, make in (("audience", lambda: _audience(inputs.comments, kind, k)),
                         ("incidents", lambda: _incidents(inputs.incidents, kind, k)),
                         ("training", lambda: _training(inputs, kind, k))):
        if family not in inputs.skip:
            pieces.extend(make())
    if kind == "quarter" and not inputs.only:
        pieces.extend(_survey(inputs.con, k) if inputs.survey_rows is None else [inputs.survey_rows])
    pieces = [p.assign(_pending=p.get("_pending", False)) for p in pieces if not p.empty]
    if not pieces:  # a warehouse with nothing in it yet
        return pd.DataFrame(columns=_OUTPUT)
    table = pd.concat(pieces, ignore_index=True).astype({"_pending": bool})
    pairs: dict[tuple[str, str], set] = {}
    table = _suppress(table, k, months if kind == "quarter" else None,
                      None if groups is None else {key[1:]: {group for _, group in pairs}
                                                   for key, pairs in groups.items() if key[0] == kind},
                      pairs)
    if seen is not None:
        seen.update({(kind, *key): value for key, value in pairs.items()})
    return table.sort_values(["metric", "department", "platform", "period"], ignore_index=True)


def _keys(grouping: str | None) -> list[str]:
    return ["period"] + ([grouping] if grouping else [])


#: The labels of a cell's ``month`` (its first day) in the queries below.
_PERIOD_LABELS_SQL = {"month_label": sql_period_label("month", "month"),
                      "quarter_label": sql_period_label("month", "quarter")}

#: One row per employee-post author and finest cell (month, department, platform): every employee figure is
#: a sum over these (the spread of the scores by the sums of squares within and between cells), and an author
#: is counted once per group. ``digest``: an order-free hash of the cell's posts, all the figures read of them;
#: ``m`` and ``q``: the labels of its month and quarter.
_CELLS_SQL = """
SELECT *, {month_label} AS m, {quarter_label} AS q
FROM (
SELECT month, department, platform, author_key, count(*) AS n, sum(CAST(NOT violation AS INTEGER)) AS successes,
       count(*) FILTER (WHERE scored) AS n_scored, count(compound) FILTER (WHERE scored) AS n_values,
       sum(compound) FILTER (WHERE scored) AS total,
       coalesce(var_pop(compound) FILTER (WHERE scored) * count(compound) FILTER (WHERE scored), 0) AS squares,
       sum(CAST(mission AS INTEGER)) AS missions, count(*) FILTER (WHERE shared) AS n_shares,
       bool_or(scored) AS any_scored, bool_or(shared) AS any_shared,
       bit_xor(hash(post_uid, department, platform, author_key, violation, sentiment_status, compound, mission,
                    shared)) AS digest
FROM (SELECT f.*, f.sentiment_status = 'scored' AS scored, {mission} AS mission, {shared} AS shared
      FROM post_facts f WHERE f.account_type = 'employee')
GROUP BY ALL)
"""

_EMPLOYEE_SQL = """
WITH cells AS {materialized} (SELECT * FROM {cells} WHERE $all OR list_contains($months, month)),
-- one pass per figure over the cells, every period kind and grouping at once: grouping() is 0 for a column
-- grouped by, and the period is the month's or the quarter's label, whichever is grouped by
figures AS MATERIALIZED (
    SELECT CASE WHEN grouping(m) = 0 THEN 'month' ELSE 'quarter' END AS kind, grouping(department) AS by_department,
           grouping(platform) AS by_platform, coalesce(m, q) AS period, department, platform,
           CAST(sum(n) AS BIGINT) AS n, CAST(sum(successes) AS BIGINT) AS successes,
           CAST(sum(n_scored) AS BIGINT) AS n_scored, sum(n_values) AS n_values,
           sum(total) / nullif(sum(n_values), 0) AS value, sum(squares) AS squares,
           CAST(sum(missions) AS BIGINT) AS missions, CAST(sum(n_shares) AS BIGINT) AS n_shares
    FROM cells GROUP BY GROUPING SETS ((m), (m, department), (m, platform), (q), (q, department), (q, platform))),
-- the spread of the scores: the cells' own squares plus each cell's squared distance from its group's mean (a
-- group of equal scores has none; no difference of large sums)
spread AS ({spread}),
-- each group's authors once (plain aggregates, not count(DISTINCT)), then counted
people AS (
    SELECT kind, by_department, by_platform, period, department, platform, count(*) AS n_people,
           count(*) FILTER (WHERE scored) AS people_scored, count(*) FILTER (WHERE shared) AS sharers
    FROM (SELECT CASE WHEN grouping(m) = 0 THEN 'month' ELSE 'quarter' END AS kind,
                 grouping(department) AS by_department, grouping(platform) AS by_platform, coalesce(m, q) AS period,
                 department, platform, author_key, bool_or(any_scored) AS scored, bool_or(any_shared) AS shared
          FROM cells WHERE author_key IS NOT NULL
          GROUP BY GROUPING SETS ((m, author_key), (m, department, author_key), (m, platform, author_key),
                                  (q, author_key), (q, department, author_key), (q, platform, author_key)))
    GROUP BY ALL)
SELECT f.kind, f.by_department, f.by_platform, f.period, f.department, f.platform, f.n, f.successes, f.n_scored,
       f.value, CASE WHEN f.n_values > 1 THEN sqrt((f.squares + s.spread) / (f.n_values - 1)) END AS sd,
       f.missions, f.n_shares, coalesce(p.n_people, 0) AS n_people, coalesce(p.people_scored, 0) AS people_scored,
       coalesce(p.sharers, 0) AS sharers
FROM figures f
LEFT JOIN spread s ON {same_s}
LEFT JOIN people p ON {same_p}
WHERE list_contains($kinds, f.kind)
"""

#: A cell's squared distance from the mean of one grouping's group, summed per group.
_SPREAD_SQL = """
SELECT f.kind, f.by_department, f.by_platform, f.period, f.department, f.platform,
       sum(c.n_values * pow(c.total / c.n_values - f.value, 2)) AS spread
FROM cells c JOIN figures f ON f.kind = '{kind}' AND f.by_department = {by_department}
    AND f.by_platform = {by_platform} AND f.period = c.{period} {same}
WHERE c.n_values > 0 GROUP BY ALL
"""


def _cells_source(con: duckdb.DuckDBPyConnection, cells: str | None) -> tuple[str, dict]:
    """The employee cells (:data:`_CELLS_SQL`) as a FROM item, and its parameters: the table ``cells`` made by
    :func:`employee_cells`, else computed from post_facts."""
    if cells is not None:
        return cells, {}
    from analytics.themes import load_taxonomy

    present = {t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    positive = {"post_themes", "amplifications"} <= present
    sql = _CELLS_SQL.format(
        **_PERIOD_LABELS_SQL,
        # semi-joins: the hash tables hold the mission-story and amplifying posts only, not every post's theme
        mission="f.post_uid IN (SELECT post_uid FROM post_themes WHERE list_contains($themes, theme))"
        if positive else "false",
        shared="f.post_uid IN (SELECT post_uid FROM amplifications)" if positive else "false")
    return f"({sql})", {"themes": list(load_taxonomy().mission_story_themes)} if positive else {}


def employee_cells(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Aggregate the employee posts of post_facts once into the temporary table ``name``, for
    :func:`month_inputs`, :func:`update_period_tables` and :func:`period_tables_and_groups` (``cells=name``)
    to read instead of every post; it holds the post facts as they are now, and is dropped by the caller."""
    source, params = _cells_source(con, None)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {source}", params)


def _employee_aggregates(con: duckdb.DuckDBPyConnection, kinds: tuple[str, ...], within: dict,
                         cells: str | None = None) -> dict[str, pd.DataFrame]:
    """Every employee-post figure per period kind (of ``kinds``), period and grouping, aggregated in DuckDB
    (a million posts stay in the warehouse; a few thousand rows come out): posts ``n``,
    adherent posts ``successes``, authors ``n_people``; scored posts ``n_scored``, their authors, mean
    ``value`` and ``sd`` of compound; mission stories ``missions``; amplifying posts ``n_shares`` and their
    authors ``sharers``. Figures are those of pandas' groupby (mean and sd skip missing scores, groups keep
    a missing department). ``cells``: see :func:`employee_cells`."""
    source, params = _cells_source(con, cells)
    spread = " UNION ALL ".join(_SPREAD_SQL.format(
        kind=kind, by_department=int(grouping != "department"), by_platform=int(grouping != "platform"),
        period="m" if kind == "month" else "q",
        same=f"AND f.{grouping} IS NOT DISTINCT FROM c.{grouping}" if grouping else "")
        for kind in kinds for grouping in GROUPINGS)
    keys = ("kind", "by_department", "by_platform", "period", "department", "platform")
    sql = _EMPLOYEE_SQL.format(
        # cells of a table: filtered where read, cheaper than one copy fanned out to every reader; cells
        # aggregated here from post_facts: once
        cells=source, materialized="MATERIALIZED" if cells is None else "NOT MATERIALIZED", spread=spread,
        same_s=" AND ".join(f"s.{key} IS NOT DISTINCT FROM f.{key}" for key in keys),
        same_p=" AND ".join(f"p.{key} IS NOT DISTINCT FROM f.{key}" for key in keys))
    table = con.execute(sql, {**within, **params, "kinds": list(kinds)}).df()
    return {kind: table[table["kind"] == kind].drop(columns="kind") for kind in kinds}


#: Every organisation-post figure per period kind, period and platform grouping, as pandas' groupby over the
#: posts gave them: sentiment over scored posts (``n_scored``, mean ``value``, ``sd``), and for each of
#: impressions and reach the engagement ratio of totals over the posts reporting it, with its delta-method
#: interval (each post's residual from its group's ratio: the totals' ratio first, then one pass over the posts).
_ORGANISATION_SQL = """
WITH posts AS (
    SELECT {month_label} AS m, {quarter_label} AS q,
           platform, sentiment_status = 'scored' AS scored, compound, engagement, impressions, reach
    FROM post_facts WHERE account_type = 'organization' AND ($all OR list_contains($months, month))),
figures AS MATERIALIZED (
    SELECT CASE WHEN grouping(m) = 0 THEN 'month' ELSE 'quarter' END AS kind, 1 AS by_department,
           grouping(platform) AS by_platform, coalesce(m, q) AS period, platform,
           count(*) FILTER (WHERE scored) AS n_scored, avg(compound) FILTER (WHERE scored) AS value,
           stddev_samp(compound) FILTER (WHERE scored) AS sd,
           count(*) FILTER (WHERE impressions > 0) AS n_impressions,
           sum(impressions) FILTER (WHERE impressions > 0) AS impressions,
           sum(engagement) FILTER (WHERE impressions > 0) / sum(impressions) FILTER (WHERE impressions > 0)
               AS impressions_ratio,
           count(*) FILTER (WHERE reach > 0) AS n_reach, sum(reach) FILTER (WHERE reach > 0) AS reach,
           sum(engagement) FILTER (WHERE reach > 0) / sum(reach) FILTER (WHERE reach > 0) AS reach_ratio
    FROM posts GROUP BY GROUPING SETS ((m), (m, platform), (q), (q, platform))),
squares AS ({squares}),
spread AS (
    SELECT f.*, sqrt(s.impressions_squares / (f.n_impressions - 1) * f.n_impressions) / f.impressions AS se_i,
           sqrt(s.reach_squares / (f.n_reach - 1) * f.n_reach) / f.reach AS se_r
    FROM figures f LEFT JOIN squares s ON s.kind = f.kind AND s.by_platform = f.by_platform
        AND s.period IS NOT DISTINCT FROM f.period AND s.platform IS NOT DISTINCT FROM f.platform)
SELECT kind, by_department, by_platform, period, platform, n_scored, value, sd,
       n_impressions, impressions_ratio, CASE WHEN n_impressions > 1 THEN impressions_ratio - 1.96 * se_i END
           AS impressions_low, CASE WHEN n_impressions > 1 THEN impressions_ratio + 1.96 * se_i END AS impressions_high,
       n_reach, reach_ratio, CASE WHEN n_reach > 1 THEN reach_ratio - 1.96 * se_r END AS reach_low,
       CASE WHEN n_reach > 1 THEN reach_ratio + 1.96 * se_r END AS reach_high
FROM spread WHERE list_contains($kinds, kind)
"""

#: Each organisation post's squared residuals from its group's ratios, summed per group of one grouping.
_SQUARES_SQL = """
SELECT f.kind, f.by_platform, f.period, f.platform,
       sum(pow(p.engagement - f.impressions_ratio * p.impressions, 2)) FILTER (WHERE p.impressions > 0)
           AS impressions_squares,
       sum(pow(p.engagement - f.reach_ratio * p.reach, 2)) FILTER (WHERE p.reach > 0) AS reach_squares
FROM posts p JOIN figures f ON f.kind = '{kind}' AND f.by_platform = {by_platform}
    AND f.period IS NOT DISTINCT FROM p.{period} {same}
GROUP BY ALL
"""


def _organisation_aggregates(con: duckdb.DuckDBPyConnection, kinds: tuple[str, ...],
                             within: dict) -> dict[str, pd.DataFrame]:
    """The organisation-post figures (:data:`_ORGANISATION_SQL`) per period kind (of ``kinds``) of the months
    ``within``, aggregated in DuckDB."""
    squares = " UNION ALL ".join(_SQUARES_SQL.format(
        kind=kind, by_platform=int(grouping is None), period="m" if kind == "month" else "q",
        same="AND f.platform IS NOT DISTINCT FROM p.platform" if grouping else "")
        for kind in kinds for grouping in (None, "platform"))
    table = con.execute(_ORGANISATION_SQL.format(squares=squares, **_PERIOD_LABELS_SQL),
                        {**within, "kinds": list(kinds)}).df()
    return {kind: table[table["kind"] == kind].drop(columns="kind") for kind in kinds}


def _one_grouping(table: pd.DataFrame, grouping: str | None) -> pd.DataFrame:
    """The rows of one grouping, in pandas' groupby order (keys sorted, missing last)."""
    rows = table[(table["by_department"] == (0 if grouping == "department" else 1))
                 & (table["by_platform"] == (0 if grouping == "platform" else 1))]
    return rows.sort_values(_keys(grouping), na_position="last", kind="stable").reset_index(drop=True)


def _positive_side(inputs: _Inputs, posts: list[pd.DataFrame], kind: str, k: int) -> list[pd.DataFrame]:
    """Mission stories and amplifications (``posts``, from the employee aggregates), employees amplifying
    and mission clicks (needs build's post_themes and amplifications)."""
    from analytics import engagement

    if not inputs.positive:
        return []
    out = list(posts)
    shares = {} if "amplifier_share" in inputs.skip else engagement._amplifier_shares(
        inputs.amplifier_frames, period=kind, groupings=(None, "department"), k=k)
    for grouping, share in shares.items():
        out.append(_from_survey(share.rename(columns={"amplifier_share": "value", "n_amplifiers": "successes"})
                                .assign(n=share["n_people"]), METRICS["amplifier_share"], grouping))
    if "organisation" not in inputs.skip:
        linked = inputs.mission_posts.dropna(subset=["clicks"])
        linked = linked.assign(period=period_labels(linked["month"], kind))
        clicks = _grouped(linked, None, lambda g: g.agg(value=("clicks", "sum"), n=("post_uid", "size")))
        out.append(_finish(clicks, METRICS["mission_clicks"], None, k))
    return out


#: The only characters outside ASCII whose lower case (Python's ``str.lower``) holds an ASCII letter:
#: İ -> "i̇" and the Kelvin sign -> "k" (the test suite checks this over all of Unicode).
_LOWER_TO_ASCII = "\u0130\u212a"


def _mission_posts(con: duckdb.DuckDBPyConnection, within: dict | None = None) -> pd.DataFrame:
    """Organisation posts linking to a mission page, as :func:`engagement.mission_links` decides (a post
    linking to two pages once): ``post_uid, month, clicks``.

    Only texts that may contain a page's URL fragment are read and checked: those whose lower case
    (DuckDB's, equal to Python's on ASCII) contains an ASCII fragment, or that hold one of the
    characters whose lower case has ASCII letters (:data:`_LOWER_TO_ASCII`). A non-ASCII fragment
    has every text checked. ``within``: the months to read (every month by default)."""
    from analytics import engagement

    within = within or {"all": True, "months": []}
    patterns = config.get_settings().mission_url_patterns
    fragments = sorted({fragment.lower() for page in patterns.values() for fragment in page})
    condition = "true"
    if fragments and all(fragment.isascii() for fragment in fragments):
        condition = " OR ".join(["contains(lower(p.text), ?)" for _ in fragments]
                                + ["contains(p.text, ?)" for _ in _LOWER_TO_ASCII])
    # a projection, not a filter: DuckDB would push a filter down to every post's text. The posts' own
    # account type (post_facts copies it) is a filter the scan applies first, so only organisation texts are
    # read, not every post's before the join; the projection materialised, only the posts with a text read
    # come out (the others cannot link)
    organisation = con.execute(
        f"""WITH p AS MATERIALIZED (
                SELECT post_uid, clicks, CASE WHEN {condition} THEN text END AS text FROM posts p
                WHERE account_type = 'organization')
            SELECT f.post_uid, f.month, p.clicks, p.text
            FROM post_facts f JOIN p USING (post_uid)
            WHERE f.account_type = 'organization' AND (? OR list_contains(?, f.month)) AND p.text IS NOT NULL""",
        [*([*fragments, *_LOWER_TO_ASCII] if condition != "true" else []), within["all"], within["months"]]).df()
    # as plain objects: a str Series is slow to walk
    texts = organisation["text"]
    links = engagement.mission_links(pd.Series(texts.tolist(), index=texts.index, dtype=object), patterns=patterns)
    linked = sorted(set(links.loc[links["page"] != engagement.SHORT_LINK_PAGE, "text_index"]))
    return organisation.loc[linked, ["post_uid", "month", "clicks"]]


def _audience(comments: pd.DataFrame, kind: str, k: int) -> list[pd.DataFrame]:
    comments = comments.assign(period=period_labels(comments["month"], kind))
    return [_finish(_grouped(comments, g, lambda groups: _mean(groups, "compound", None)),
                    METRICS["audience_sentiment"], g, k) for g in (None, "platform")]


def _incidents(frame: pd.DataFrame, kind: str, k: int) -> list[pd.DataFrame]:
    hidden = _organisation_incident_figures_hidden(frame, k)
    frame = frame.assign(period=period_labels(frame["month"], kind))
    out = []
    for grouping in (None, "department"):
        counts = _grouped(frame, grouping, lambda g: g.agg(n=("incident_id", "size"),
                                                            n_people=("employee_key", "nunique")))
        if grouping is None and not frame.empty:
            # a period the log covers without an incident counts 0: no row would read as "no data", and a
            # bar chart's missing bar as a month nobody looked at
            covered = period_labels(pd.Series(pd.period_range(frame["month"].min(), frame["month"].max(), freq="M")
                                              .to_timestamp()), kind).unique()
            counts = counts.set_index("period").reindex(covered, fill_value=0).rename_axis("period").reset_index()
        out.append(_finish(counts.assign(value=counts.get("n")), METRICS["incidents"], grouping, k))
        shares = _finish(_grouped(frame, grouping, lambda g: _rate(g, "self_reported", "employee_key")),
                         METRICS["self_reported_share"], grouping, k)
        resolved = frame.dropna(subset=["hours_to_resolve"])
        medians = _grouped(resolved, grouping, lambda g: g.agg(value=("hours_to_resolve", "median"),
                                                                n=("hours_to_resolve", "size"),
                                                                n_people=("employee_key", "nunique")))
        medians = _finish(medians, METRICS["median_hours_to_resolve"], grouping, k)
        if grouping is None:
            # the organisation's figures follow incident_figures_by_period; a department's hide below k people later,
            # and so below k of their incidents
            for metric, table in (("self_reported_share", shares), ("median_hours_to_resolve", medians)):
                few = table["period"].map(hidden[metric]).astype("boolean").fillna(True).to_numpy(bool)
                table.loc[few, "suppressed"] = True
                table.loc[few, ["n_people", *_BLANKED]] = np.nan
        else:
            # the departments' self-reported counts add up to the organisation's: where that is hidden, so are they
            # (a median does not add up)
            shares = shares.assign(_forced=shares["period"].map(hidden["self_reported_share"]).astype("boolean")
                                   .fillna(True).to_numpy(bool))
        out += [shares, medians]
    return out


def _organisation_incident_figures_hidden(frame: pd.DataFrame, k: int) -> dict[str, pd.Series]:
    """Per metric, by period label (months and quarters), whether :func:`incident_figures_by_period` hides the
    organisation's figure."""
    figures = incident_figures_by_period(frame, k=k)
    organisation = figures[(figures[list(INCIDENT_GROUPS)] == ALL).all(axis=1)].set_index("period")
    return {metric: organisation[column].isna() for metric, column in (
        ("self_reported_share", "n_self_reported"), ("median_hours_to_resolve", "median_hours_to_resolve"))}


def incident_figures(incidents: pd.DataFrame, *, by: Sequence[str], within: Sequence[str] = (),
                     k: int | None = None) -> pd.DataFrame:
    """The rule for what is shown of groups of incidents, each figure only where ``k`` incidents stand behind it;
    the surfaces show :func:`incident_figures_by_period`, this rule over all of their groups at once.

    Every incident is one person's mistake, so a figure of fewer than ``k`` incidents describes fewer than ``k``
    people: a median time of one incident is its own time (of two, it lies between them), and a self-reported
    count says which of a few people came forward. DESIGN's "no small groups" hides them (NA):

    * ``median_hours_to_resolve`` below ``k`` resolved incidents, ``median_hours_to_report`` below ``k`` with a
      time to report (a median cannot be worked out from other cells);
    * ``n_self_reported`` and ``self_reported_share`` below ``k`` incidents, and more groups' (smallest first,
      :func:`analytics.privacy.suppress_small_groups`, so neither a hidden count nor its complement is pinned)
      where a hidden count could be worked out from the line's total, the self-reported count of all of its
      incidents. A line is the groups along one ``by`` column sharing the values of the others and of ``within``
      (e.g. the areas of a quarter); a line whose hidden counts still fall short after all of it is hidden says
      them with its total, so that total must be one of its cells (hidden then) or not be published.

    The number of incidents is a count of events, shown whatever it is.

    Parameters
    ----------
    incidents : DataFrame
        One row per incident: the ``within`` and ``by`` columns, ``detection`` (``"self_reported"`` when the
        employee involved reported it), ``hours_to_report`` and ``hours_to_resolve`` (NaN when not known or
        not resolved).
    by : sequence of str
        The grouping columns, at least one.
    within : sequence of str
        Columns that split the groups into separate lines (their totals published separately).
    k : int, optional
        The small-group threshold; default the configured k.

    Returns
    -------
    DataFrame
        One row per group with incidents, sorted: the ``within`` and ``by`` columns, ``n_incidents``,
        ``n_self_reported``, ``self_reported_share`` (NA where hidden), ``n_with_time_to_report``,
        ``median_hours_to_report``, ``n_resolved``, ``median_hours_to_resolve`` (NA where hidden).

    Examples
    --------
    Area ``b``'s one incident hides its self-reported count, and ``a``'s too (the line's total less ``c``'s would
    give ``b``'s away); ``a``'s median time to resolve is hidden, with 4 resolved incidents:

    >>> incidents = pd.DataFrame({"area": [*"aaaaaa", "b", *"cccccccc"], "detection": "detected",
    ...     "hours_to_report": 1.0, "hours_to_resolve": [2.0, 4.0, 6.0, 8.0, np.nan, np.nan, 3.0, *[5.0] * 8]})
    >>> incident_figures(incidents, by=["area"], k=5)[
    ...     ["area", "n_incidents", "n_self_reported", "n_resolved", "median_hours_to_resolve"]].values.tolist()
    [['a', 6, nan, 4, nan], ['b', 1, nan, 1, nan], ['c', 8, 0.0, 8, 5.0]]
    """
    keys = [*within, *by]
    missing = [c for c in (*keys, "detection", "hours_to_report", "hours_to_resolve") if c not in incidents.columns]
    if not by or missing:
        raise ValueError(f"incident_figures: give at least one `by` column and incidents with the columns {missing} "
                         "(see the docstring).")
    k = config.get_settings().k if k is None else k
    frame = incidents.assign(_self_reported=(incidents["detection"] == "self_reported").astype("int64"))
    figures = frame.groupby(keys, dropna=False, sort=True).agg(
        n_incidents=("detection", "size"), n_self_reported=("_self_reported", "sum"),
        n_with_time_to_report=("hours_to_report", "count"), median_hours_to_report=("hours_to_report", "median"),
        n_resolved=("hours_to_resolve", "count"), median_hours_to_resolve=("hours_to_resolve", "median"),
    ).reset_index()
    for median, n in (("median_hours_to_report", "n_with_time_to_report"), ("median_hours_to_resolve", "n_resolved")):
        figures[median] = figures[median].where(figures[n] >= k)
    figures["self_reported_share"] = figures["n_self_reported"] / figures["n_incidents"]
    hidden = suppress_small_groups(
        figures.assign(_people=figures["n_incidents"], _others=figures["n_incidents"] - figures["n_self_reported"]),
        by=keys, along=list(by), n="_people", values=["n_self_reported", "self_reported_share"], k=k,
        nonzero=["n_self_reported", "_others"])
    return figures.assign(n_self_reported=hidden["n_self_reported"].astype(float),
                          self_reported_share=hidden["self_reported_share"].astype(float))[[
        *keys, "n_incidents", "n_self_reported", "self_reported_share", "n_with_time_to_report",
        "median_hours_to_report", "n_resolved", "median_hours_to_resolve"]]


#: The groups whose incident figures are published, each nested in the one before: the organisation (``(all)`` in
#: both columns; the period tables), a policy area (the report, the policy review) and an area's severity
#: (notebook 02).
INCIDENT_GROUPS = ("area", "severity")


def incident_figures_by_period(incidents: pd.DataFrame, *, k: int | None = None) -> pd.DataFrame:
    """:func:`incident_figures` of every month and quarter of ``incidents``, for the organisation, each policy
    area and each area's severity (:data:`INCIDENT_GROUPS`), hidden jointly: what every surface shows of them.

    The surfaces publish these figures side by side, so each is a total of others: a quarter of its months, the
    organisation of its areas, an area of its severities. A self-reported count hidden in one of them must not
    come back as such a total less the figures shown beside it (an area's quarter less its other months, the
    organisation's month less its other areas, or the reverse, a hidden total as the sum of its parts). So
    every figure is one cell of one table per quarter, and each total one more cell of the lines it adds up
    (:func:`analytics.privacy.suppress_small_groups` over them all at once, as :func:`incident_figures`): a line
    that hides a cell hides another too, its total if nothing else is left, and that total is protected in turn
    along its own lines. A median cannot be worked out from other cells: it is hidden below ``k`` alone.

    Parameters
    ----------
    incidents : DataFrame
        One row per incident: ``month`` (its local month, a date or ``YYYY-MM``), ``area``, ``severity``, and
        the columns :func:`incident_figures` reads. Whole quarters: a quarter's figures depend on all of its
        months.
    k : int, optional
        The small-group threshold; default the configured k.

    Returns
    -------
    DataFrame
        One row per period and group with incidents: ``period`` (``YYYY-MM`` or ``YYYY-Qn``), ``area`` and
        ``severity`` (``"(all)"`` for all of them), and the figure columns of :func:`incident_figures`
        (``n_incidents`` … ``median_hours_to_resolve``).

    Examples
    --------
    Conduct's July (2 incidents) would be its quarter less its August and September: its August is hidden too,
    and confidentiality's July and August beside them, else the organisation's months would give them back:

    >>> rows = [(month, area, "self_reported" if i % 2 else "detected")
    ...         for area, counts in (("conduct", (2, 6, 7)), ("confidentiality", (8, 9, 10)))
    ...         for month, n in zip(("2026-07", "2026-08", "2026-09"), counts, strict=True) for i in range(n)]
    >>> incidents = pd.DataFrame(rows, columns=["month", "area", "detection"]).assign(
    ...     severity="high", hours_to_report=1.0, hours_to_resolve=2.0)
    >>> figures = incident_figures_by_period(incidents, k=5)
    >>> figures[figures["severity"] == ALL].pivot(index="area", columns="period", values="n_self_reported")
    period           2026-07  2026-08  2026-09  2026-Q3
    area
    (all)                5.0      7.0      8.0     20.0
    conduct              NaN      NaN      3.0      7.0
    confidentiality      NaN      NaN      5.0     13.0
    """
    missing = [c for c in ("month", *INCIDENT_GROUPS) if c not in incidents.columns]
    if missing:
        raise ValueError(f"incident_figures_by_period: give incidents with the columns {missing} (see the docstring).")
    months = period_labels(incidents["month"], "month")
    quarters = period_labels(incidents["month"], "quarter")
    # every incident once in each published cell that holds it: its month's and its quarter's, each for its
    # area's severity, its area and the organisation
    copies = [incidents.assign(_quarter=quarters, period=period, **dict.fromkeys(INCIDENT_GROUPS[depth:], ALL))
              for period in (months, quarters) for depth in range(len(INCIDENT_GROUPS) + 1)]
    figures = incident_figures(pd.concat(copies, ignore_index=True), by=["period", *INCIDENT_GROUPS],
                               within=["_quarter"], k=k)
    return figures.drop(columns="_quarter")


def _training(inputs: _Inputs, kind: str, k: int) -> list[pd.DataFrame]:
    employees, done, months = inputs.employees, inputs.completions, inputs.months
    if employees.empty or months.empty:
        return []
    periods = pd.Series(period_labels(months, kind).unique())
    # the roster's dates and completions converted once, each period's active employees picked by position
    started = pd.to_datetime(employees["started_on"]).to_numpy()
    left = pd.to_datetime(employees["left_on"])
    staying = left.isna().to_numpy()
    left = left.to_numpy()
    completed_at = pd.to_datetime(employees["employee_key"].map(
        dict(zip(done["employee_key"], done["completed_at"], strict=True))), utc=True)
    rows, labels, trained = [], [], []
    for period in periods:
        end = pd.Timestamp(parse_period(period).end) - pd.Timedelta(seconds=1)
        active = np.flatnonzero((started <= end.to_datetime64()) & (staying | (left >= end.to_datetime64())))
        rows.append(active)
        labels.append(np.full(len(active), period, dtype=object))
        trained.append((completed_at <= end.tz_localize("UTC")).to_numpy()[active])
    frame = employees.take(np.concatenate(rows)).reset_index(drop=True).assign(
        period=pd.Series(np.concatenate(labels), dtype="str"), trained=np.concatenate(trained))
    return [_finish(_grouped(frame, g, lambda groups: _rate(groups, "trained", "employee_key")),
                    METRICS["training_coverage"], g, k) for g in (None, "department")]


def _survey(con: duckdb.DuckDBPyConnection, k: int) -> list[pd.DataFrame]:
    from analytics import survey
    from analytics.codebook import load_codebook

    respondents = con.execute("SELECT * FROM respondents").df()
    answers = con.execute("SELECT response_id, item_id, value, mapped FROM survey_answers WHERE mapped").df()
    if respondents.empty or answers.empty:
        return []
    items = load_codebook().items_frame()
    out = []
    employees = con.execute("SELECT employee_key, department, started_on, left_on FROM employees").df()
    waves = respondents.groupby("wave")["submitted_at"].agg(start="min", end="max").reset_index()
    headcount = survey.headcount_by_wave(employees, waves)
    for grouping in (None, "department"):
        by = ("wave",) + ((grouping,) if grouping else ())
        rates = survey.response_rates(respondents, headcount, by=by, k=k)
        out.append(_from_survey(rates.rename(columns={"response_rate": "value", "n_responses": "successes"})
                                .assign(n=rates["headcount"], n_people=rates["headcount"]),
                                METRICS["response_rate"], grouping))
        trust = survey.favourability(answers, items, respondents, level="construct", by=by, k=k)
        clarity_items = items[items["clarity"].astype(bool)].assign(construct="clarity")
        clarity = survey.favourability(answers[answers["item_id"].isin(clarity_items["item_id"])], clarity_items,
                                       respondents, level="construct", by=by, k=k)
        for metric, table in (("trust_favourability", trust[trust["construct"] == "trust"]),
                              ("clarity_favourability", clarity)):
            out.append(_from_survey(table.rename(columns={"favourable": "value", "n_favourable": "successes"})
                                    .assign(n_people=table["n"]), METRICS[metric], grouping))
    return out


def _from_survey(table: pd.DataFrame, metric: Metric, grouping: str | None) -> pd.DataFrame:
    table = table.rename(columns={"wave": "period"}).copy()
    table["metric"] = metric.name
    for column in ("department", "platform"):
        if column != grouping:
            table[column] = ALL
    for column in _OUTPUT:
        if column not in table:
            table[column] = np.nan
    return table[_OUTPUT]


def compare_periods(
    table: pd.DataFrame, *, metric: str, current: str, previous: str, department: str = ALL, platform: str = ALL
) -> pd.DataFrame:
    """A metric in two periods with the change and whether it is significant.

    Rates use a two-proportion z-test, means Welch's t-test (from n, mean and sd); counts and medians
    show the change without a test.

    Returns
    -------
    DataFrame
        One row: ``metric, label, unit, definition, period, value, n, n_people, ci_low, ci_high,
        suppressed, previous_period, previous_value, change, p_value, significant``.
    """
    if metric not in METRICS:
        raise ValueError(f"Unknown metric {metric!r}; known: {sorted(METRICS)}.")
    spec = METRICS[metric]
    rows = table[(table["metric"] == metric) & (table["department"] == department) & (table["platform"] == platform)]
    now = rows[rows["period"] == current]
    before = rows[rows["period"] == previous]
    empty = {c: np.nan for c in _OUTPUT}
    a = now.iloc[0].to_dict() if len(now) else {**empty, "suppressed": False}
    b = before.iloc[0].to_dict() if len(before) else {**empty, "suppressed": False}
    change = a["value"] - b["value"] if pd.notna(a["value"]) and pd.notna(b["value"]) else np.nan
    p_value = _p_value(spec.kind, a, b)
    return pd.DataFrame([{
        "metric": metric, "label": spec.label, "unit": spec.unit, "definition": spec.definition,
        "period": current, "value": a["value"], "n": a["n"], "n_people": a["n_people"],
        "ci_low": a["ci_low"], "ci_high": a["ci_high"], "suppressed": bool(a["suppressed"]),
        "previous_period": previous, "previous_value": b["value"], "change": change, "p_value": p_value,
        "significant": bool(pd.notna(p_value) and p_value < 0.05),
    }])


def _p_value(kind: str, a: dict, b: dict) -> float:
    try:
        if kind == "rate":
            return two_proportion_p_value(float(a["successes"]), float(a["n"]), float(b["successes"]), float(b["n"]))
        if kind == "mean":
            return _welch_p_value(a["value"], a["sd"], a["n"], b["value"], b["sd"], b["n"])
    except (TypeError, ValueError, ZeroDivisionError):
        return np.nan
    return np.nan


def two_proportion_p_value(x1: float, n1: float, x2: float, n2: float) -> float:
    """Two-sided p-value of the pooled two-proportion z-test of ``x1`` successes in ``n1`` against ``x2`` in ``n2``.

    The normal's survival function is taken as ``scipy.special.ndtr`` of the negated value, which is how
    ``scipy.stats.norm.sf`` computes it, without importing scipy.stats (~0.4 s, a sixth of the leadership
    dashboard's rendering).

    Returns
    -------
    float
        The p-value; NaN when a group is empty or the pooled proportion is 0 or 1 (no standard error).

    Examples
    --------
    >>> round(two_proportion_p_value(30, 100, 45, 100), 4)
    0.0285
    >>> two_proportion_p_value(0, 10, 0, 10)
    nan
    """
    from scipy import special

    if n1 == 0 or n2 == 0:
        return np.nan
    pooled = (x1 + x2) / (n1 + n2)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return float(2 * special.ndtr(-abs(x1 / n1 - x2 / n2) / se)) if se > 0 else np.nan


def _welch_p_value(mean1: float, sd1: float, n1: float, mean2: float, sd2: float, n2: float) -> float:
    """Two-sided p-value of Welch's t-test from the two groups' means, standard deviations and sizes, computed as
    ``scipy.stats.ttest_ind_from_stats(..., equal_var=False)`` computes it (the tests compare the two): importing
    scipy.stats took ~0.4 s, a sixth of the leadership dashboard's rendering, for this test alone."""
    from scipy import special

    # as 0-d arrays, as scipy has them: an array's square is x * x, a float64 scalar's pow(x, 2), an ulp apart
    mean1, sd1, n1, mean2, sd2, n2 = (np.asarray(v, dtype=np.float64) for v in (mean1, sd1, n1, mean2, sd2, n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        share1, share2 = sd1**2 / n1, sd2**2 / n2
        df = (share1 + share2) ** 2 / (share1**2 / (n1 - 1) + share2**2 / (n2 - 1))
        t = (mean1 - mean2) / np.sqrt(share1 + share2)
    # no degrees of freedom when both variances are zero, and then any gives the same p-value
    return float(2 * special.stdtr(1.0 if np.isnan(df) else df, -abs(t)))
