"""Sentences generated from the numbers: the "what this means for the policy" text.

Every function takes the tidy table a package function returned (a row of
:func:`analytics.metrics.compare_periods`, the interrupted-time-series table, the training estimates,
a survey wave comparison...) and writes plain-English sentences from its numbers. Nothing here computes
a statistic: the words follow the estimates and their 95 % intervals (an interval that excludes no
change is described as a rise or fall, one that includes it as "no clear change"). Notebooks, the
dashboards and the committee report share these sentences, so a figure is worded the same everywhere.

Conventions: rates are shown as whole percentages and their changes in percentage points with one
decimal; scores with two decimals; every estimate carries its 95 % CI and, where there is one, its n.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from analytics import config, privacy
from analytics.engagement import ANY_MISSION_PAGE, SHORT_LINK_PAGE
from analytics.metrics import ALL, METRICS

__all__ = [
    "as_markdown",
    "coverage_sentence",
    "data_quality_sentences",
    "drivers_sentence",
    "favourability_sentence",
    "feedback_sentences",
    "format_change",
    "format_ci",
    "format_count",
    "format_interval",
    "format_number",
    "format_p",
    "format_percent",
    "format_points",
    "format_range",
    "format_signed",
    "format_value",
    "gap_list",
    "metric_sentence",
    "mission_value_sentence",
    "named_with_ties",
    "negative_terms_sentence",
    "outcome_words",
    "recognition_sentence",
    "rejects_sentence",
    "reliability_sentence",
    "revision_sentence",
    "rules_sentence",
    "seasonality_sentence",
    "short_links_sentence",
    "story_sentence",
    "survey_change_sentences",
    "too_recent_sentence",
    "training_caveats",
    "training_sentences",
    "unmeasured_revision",
]

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
#: How each binary training outcome reads in a sentence: (the odds of ..., the share of ...).
OUTCOME_WORDS = {"violation": ("a policy violation", "posts with a policy violation"),
                 "positive": ("a positive tone", "positive posts")}


def outcome_words(outcome: Any) -> tuple[str, str]:
    """How a training outcome reads: :data:`OUTCOME_WORDS`, or for another outcome its own name.

    >>> outcome_words("violation")[1], outcome_words("late reply")
    ('posts with a policy violation', ('late reply', 'posts with late reply'))
    """
    return OUTCOME_WORDS.get(str(outcome), (str(outcome), f"posts with {outcome}"))


#: Cronbach's alpha below this is flagged as too low to read a construct score with confidence.
ALPHA_ACCEPTABLE = 0.7


# --- number formatting ----------------------------------------------------------------------------

def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def format_percent(value: float, digits: int = 0) -> str:
    """A proportion as a percentage.

    Examples
    --------
    >>> format_percent(0.9312), format_percent(0.9312, 1), format_percent(float("nan"))
    ('93%', '93.1%', 'n/a')
    """
    if _missing(value):
        return "n/a"
    return f"{100 * float(value):.{digits}f}%"


def format_points(change: float, digits: int = 1) -> str:
    """A change of a proportion in signed percentage points.

    Examples
    --------
    >>> format_points(0.0512), format_points(-0.003), format_points(-0.0001)
    ('+5.1 points', '-0.3 points', '+0.0 points')
    """
    if _missing(change):
        return "n/a"
    return f"{format_signed(100 * float(change), digits)} points"


def format_signed(value: Any, digits: int = 2, *, grouped: bool = False) -> str:
    """A number with its sign (``grouped``: with thousands separators); "n/a" when missing. One that rounds
    to zero reads "+0.00", never "-0.00": a fall too small to show is not shown as a fall.

    Examples
    --------
    >>> format_signed(0.123), format_signed(-0.0004), format_signed(-1234.4, 0, grouped=True)
    ('+0.12', '+0.00', '-1,234')
    """
    if _missing(value):
        return "n/a"
    return f"{_rounded(value, digits):+{',' if grouped else ''}.{digits}f}"


def _rounded(value: Any, digits: int) -> float:
    # adding zero turns a negative zero (what rounding a small negative value gives) into zero
    return round(float(value), digits) + 0.0


def _plain(value: float, digits: int = 2) -> str:
    return "n/a" if _missing(value) else f"{_rounded(value, digits):.{digits}f}"


def format_ci(low: float, high: float, *, scale: str = "score", digits: int | None = None) -> str:
    """A 95 % interval: ``scale`` is ``"rate"`` (percent, whole by default), ``"points"`` (percentage
    points, one decimal) or ``"score"`` (two decimals); ``digits`` overrides the decimals.

    Examples
    --------
    >>> format_ci(0.032, 0.07, scale="points"), format_ci(0.91, 0.95, scale="rate"), format_ci(-0.1, 0.2)
    ('95% CI 3.2 to 7.0', '95% CI 91% to 95%', '95% CI -0.10 to 0.20')
    >>> format_ci(0.912, 0.951, scale="rate", digits=1)
    '95% CI 91.2% to 95.1%'
    """
    if _missing(low) or _missing(high):
        return "95% CI not available"
    if scale == "rate":
        places = 0 if digits is None else digits
        return f"95% CI {format_percent(low, places)} to {format_percent(high, places)}"
    if scale == "points":
        return f"95% CI {format_range(100 * float(low), 100 * float(high), 1 if digits is None else digits)}"
    return f"95% CI {format_range(low, high, 2 if digits is None else digits)}"


def format_range(low: Any, high: Any, digits: int = 2) -> str:
    """Two bounds as "low to high" (a table's interval cell); a bound that rounds to zero reads "0.00".

    >>> format_range(-0.0004, 0.25), format_range(-3.21, 7.0, 1)
    ('0.00 to 0.25', '-3.2 to 7.0')
    """
    return f"{_plain(low, digits)} to {_plain(high, digits)}"


def format_number(value: Any, digits: int = 0) -> str:
    """A count or size with thousands separators; "–" when missing.

    Examples
    --------
    >>> format_number(12345.0), format_number(2.345, 1), format_number(None)
    ('12,345', '2.3', '–')
    """
    if _missing(value):
        return "–"
    return f"{float(value):,.{digits}f}"


def format_value(metric: str, value: Any) -> str:
    """A value of a metric as tables and tiles show it: rates in % with one decimal, ratios with two,
    counts whole, medians in hours with one decimal, means (scores) signed with two; "–" when missing.

    Examples
    --------
    >>> format_value("adherence_rate", 0.9312), format_value("median_hours_to_resolve", 12.34)
    ('93.1%', '12.3 h')
    >>> format_value("employee_sentiment", 0.2), format_value("incidents", float("nan"))
    ('+0.20', '–')
    """
    kind = METRICS[metric].kind
    if _missing(value):
        return "–"
    if kind in ("rate", "ratio"):
        return format_percent(value, 1 if kind == "rate" else 2)
    if kind == "count":
        return format_number(value)
    if kind == "median":
        return f"{format_number(value, 1)} h"
    return format_signed(value)


def format_change(metric: str, change: Any) -> str:
    """A change of a metric's value: rates and ratios in percentage points, counts, hours, score points.

    Examples
    --------
    >>> format_change("adherence_rate", 0.012), format_change("incidents", -2.0), format_change("incidents", None)
    ('+1.2 points', '-2', '–')
    """
    kind = METRICS[metric].kind
    if _missing(change):
        return "–"
    if kind in ("rate", "ratio"):
        return format_points(change)
    if kind == "count":
        return format_signed(change, 0, grouped=True)
    if kind == "median":
        return f"{format_signed(change, 1, grouped=True)} h"
    return format_signed(change)


def format_interval(metric: str, low: Any, high: Any) -> str:
    """A metric's interval in the metric's own format (the "95% CI" cell of a table); "–" when missing.

    Examples
    --------
    >>> format_interval("adherence_rate", 0.912, 0.951)
    '91.2% to 95.1%'
    """
    if _missing(low) or _missing(high):
        return "–"
    return f"{format_value(metric, low)} to {format_value(metric, high)}"


def format_p(p_value: float) -> str:
    """A p-value as text.

    Examples
    --------
    >>> format_p(0.0004), format_p(0.0312), format_p(0.41)
    ('p < 0.001', 'p = 0.031', 'p = 0.41')
    """
    if _missing(p_value):
        return "p not available"
    if p_value < 0.001:
        return "p < 0.001"
    return f"p = {p_value:.3f}" if p_value < 0.1 else f"p = {p_value:.2f}"


def format_count(value: Any, noun: str) -> str:
    """A count with its noun, plural but for one.

    >>> format_count(1, "file"), format_count(1200, "row")
    ('1 file', '1,200 rows')
    """
    number = 0 if _missing(value) else round(float(value))
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _excludes(low: float, high: float, null: float = 0.0) -> bool:
    return not (_missing(low) or _missing(high)) and (low > null or high < null)


def _date(value: Any) -> str:
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def _across(chosen_department: str | None) -> str:
    # an organisation's figure beside a chosen department's says whose it is
    return " across the organisation" if chosen_department else ""


def as_markdown(sentences: Sequence[str]) -> str:
    """Sentences as a Markdown bullet list (empty input gives a note, never an empty cell).

    Examples
    --------
    >>> print(as_markdown(["One.", "Two."]))
    - One.
    - Two.
    """
    if not sentences:
        return "- There is not enough data yet to say anything about this period."
    return "\n".join(f"- {s}" for s in sentences)


# --- metrics and trends ---------------------------------------------------------------------------

def _value_text(metric: str, value: float) -> str:
    # a sentence rounds rates to whole percentages and speaks of hours; otherwise as in a table
    if _missing(value):
        return "n/a"
    kind = METRICS[metric].kind
    if kind == "rate":
        return format_percent(value)
    if kind == "median":
        return f"{float(value):.0f} hours"
    return format_value(metric, value)


def _target_text(metric: str, value: float) -> str:
    target = config.get_settings().targets.get(metric)
    if target is None or _missing(value):
        return ""
    status = target.status(float(value))
    kind = METRICS[metric].kind
    green = _value_text(metric, target.green) if kind != "median" else f"{target.green:g} hours"
    side = "or more" if target.higher_is_better else "or less"
    if status != "green" and _value_text(metric, value) == green:
        # rounded as the sentence rounds it, a value just short of the target reads as the target itself
        value = float(value)
        precise = (format_percent(value, 1) if kind == "rate" else f"{value:.1f} hours" if kind == "median"
                   else f"{value:+.3f}")
        return (f" That is {status} against the target (green at {green} {side}): at {precise} it is just "
                f"{'under' if target.higher_is_better else 'over'}.")
    return f" That is {status} against the target (green at {green} {side})."


def metric_sentence(row: Mapping[str, Any] | pd.Series, *, k: int | None = None) -> str:
    """One metric in a period against the previous period: a row of :func:`metrics.compare_periods`.

    Rates and means are called up or down only when the change is significant (p < 0.05); counts and
    medians have no test and are compared as numbers. A row with a ``department`` (other than everyone's)
    names it, so that a department's figure pasted elsewhere is not read as the organisation's; an
    organisation's row with a ``chosen_department`` (the department a surface is about, which the metric is
    not kept by) says it is "across the organisation", so that it is not read as the department's.

    Examples
    --------
    >>> row = {"metric": "adherence_rate", "label": "Adherence rate", "period": "2026-Q3", "value": 0.93,
    ...        "n": 812, "ci_low": 0.91, "ci_high": 0.95, "suppressed": False, "previous_period": "2026-Q2",
    ...        "previous_value": 0.91, "change": 0.02, "p_value": 0.01, "significant": True}
    >>> metric_sentence(row).split(" That")[0]
    'Adherence rate in 2026-Q3: 93% (95% CI 91% to 95%; n = 812), up 2.0 points from 91% in 2026-Q2 (p = 0.010).'
    >>> metric_sentence(row | {"department": "Programs", "suppressed": True}, k=5)
    'Adherence rate in Programs in 2026-Q3: hidden to protect a group of fewer than 5 people.'
    >>> metric_sentence(row | {"department": ALL, "chosen_department": "Programs"}).split(":")[0]
    'Adherence rate across the organisation in 2026-Q3'
    """
    metric, period = row["metric"], row["period"]
    if metric not in METRICS:
        raise ValueError(f"Unknown metric {metric!r}; pass a row of metrics.compare_periods.")
    department, chosen = row.get("department"), row.get("chosen_department")
    label = row["label"]
    if not (_missing(department) or department == ALL):
        label += f" in {department}"
    elif not _missing(chosen):
        label += " across the organisation"
    kind = METRICS[metric].kind
    if bool(row.get("suppressed", False)):
        return f"{label} in {period}: {privacy.hidden_label(k)}."
    if _missing(row["value"]):
        return f"{label}: no data for {period} yet."
    value = _value_text(metric, row["value"])
    scale = "rate" if kind in ("rate", "ratio") else "score"
    interval = f"{format_ci(row['ci_low'], row['ci_high'], scale=scale)}; " if kind in ("rate", "mean", "ratio") else ""
    n_text = f"n = {int(row['n']):,}" if not _missing(row.get("n")) else "n not available"
    # a count is its own n
    sentence = f"{label} in {period}: {value}" + ("" if kind == "count" else f" ({interval}{n_text})")
    previous = row.get("previous_value")
    if _missing(previous):
        return sentence + "." + _target_text(metric, row["value"])
    before = _value_text(metric, previous)
    change = row["change"]
    if kind in ("rate", "ratio", "mean"):
        step = format_points(change) if kind != "mean" else format_signed(change)
        if bool(row.get("significant")):
            word = "up" if change > 0 else "down"
            size = f"{100 * abs(change):.1f} points" if kind != "mean" else f"{abs(change):.2f}"
            sentence += f", {word} {size} from {before} in {row['previous_period']} ({format_p(row['p_value'])})."
        else:
            # "about the same" beside a fall of 5.6 points: not significant is not unchanged
            sentence += (f", against {before} in {row['previous_period']}: a change of {step}, not significant "
                         f"({format_p(row['p_value'])}).")
    else:
        sentence += f", against {before} in {row['previous_period']}."
    return sentence + _target_text(metric, row["value"])


def unmeasured_revision(versions: pd.DataFrame, effects: pd.DataFrame, *, first: Any, last: Any) -> pd.Series | None:
    """The latest policy revision in force from within ``first``..``last`` (the months a surface shows)
    that came after every revision whose effect ``effects`` estimates, or None: one too recent to measure,
    to be named before an older one is told as the last revision.

    ``versions`` has ``version`` and ``effective_on``; ``effects`` the estimated revisions' ``version``
    (:func:`analytics.notebook_views.effects_of_revisions`). A revision at or before ``first`` has no months
    before it here and is never named.

    >>> versions = pd.DataFrame({"version": ["2.0", "3.0"], "effective_on": ["2025-04-01", "2026-01-15"]})
    >>> unmeasured_revision(versions, pd.DataFrame({"version": ["2.0"]}), first="2024-10-01",
    ...                     last="2026-02-28")["version"]
    '3.0'
    >>> unmeasured_revision(versions, pd.DataFrame({"version": ["2.0", "3.0"]}), first="2024-10-01",
    ...                     last="2026-09-30") is None
    True
    """
    effective = pd.to_datetime(versions["effective_on"])
    estimated = versions["version"].astype(str).isin(effects["version"].astype(str) if len(effects) else [])
    since = max(pd.Timestamp(first), effective[estimated].max()) if estimated.any() else pd.Timestamp(first)
    recent = versions[(effective > since) & (effective <= pd.Timestamp(last))]
    return None if recent.empty else recent.iloc[pd.to_datetime(recent["effective_on"]).argmax()]


def too_recent_sentence(version: Mapping[str, Any] | pd.Series) -> str:
    """Why a revision's effect is not told (:func:`unmeasured_revision`).

    >>> too_recent_sentence({"version": "3.0", "effective_on": "2026-01-15"})
    'Version 3.0 (effective 2026-01-15) is too recent to measure: three months on each side are needed.'
    """
    return (f"Version {version['version']} (effective {pd.Timestamp(version['effective_on']):%Y-%m-%d}) is too "
            "recent to measure: three months on each side are needed.")


def revision_sentence(row: Mapping[str, Any] | pd.Series, *, label: str = "Adherence", scale: str = "rate") -> str:
    """The effect of one policy revision: a row of the interrupted-time-series table with the version.

    ``row`` needs ``version``, ``interruption`` (the effective date), ``level_change``, ``level_ci_low``,
    ``level_ci_high`` and, for the descriptive part, ``mean_before``, ``mean_after``, ``months_before``,
    ``months_after`` (the averages of the months either side). ``scale`` is ``"rate"`` (percentages and
    points) or ``"score"``.

    Examples
    --------
    >>> row = {"version": "2.0", "interruption": "2025-04-01", "level_change": 0.051, "level_ci_low": 0.032,
    ...        "level_ci_high": 0.070, "mean_before": 0.88, "mean_after": 0.93, "months_before": 6,
    ...        "months_after": 6}
    >>> print(revision_sentence(row))
    Adherence rose at version 2.0 (effective 2025-04-01): +5.1 points (95% CI 3.2 to 7.0) in the interrupted
    time series; it averaged 88% in the 6 months before and 93% in the 6 months after.
    """
    change, low, high = row["level_change"], row["level_ci_low"], row["level_ci_high"]
    if scale == "rate":
        step, interval = format_points(change), format_ci(low, high, scale="points")
        before, after = format_percent(row.get("mean_before")), format_percent(row.get("mean_after"))
    else:
        step, interval = format_signed(change), format_ci(low, high)
        before, after = _plain(row.get("mean_before")), _plain(row.get("mean_after"))
    head = f"{label} {{}} at version {row['version']} (effective {_date(row['interruption'])})"
    if _excludes(low, high):
        verb = "rose" if change > 0 else "fell"
        sentence = head.format(verb) + f": {step} ({interval}) in the interrupted time series"
    else:
        sentence = (head.format("showed no clear change") + f": the estimated jump of {step} has a {interval}, "
                    "which includes no change")
    if not _missing(row.get("mean_before")) and not _missing(row.get("mean_after")):
        sentence += (f"; it averaged {before} in the {int(row['months_before'])} months before and {after} in the "
                     f"{int(row['months_after'])} months after")
    return sentence + "."


def rules_sentence(rules: pd.DataFrame, *, period: str, top: int = 3, department: str | None = None) -> str:
    """Which rules fired most: the table of :func:`analytics.notebook_views.rules_fired` (with ``department``,
    that department's, which the sentence names).

    Examples
    --------
    >>> rules = pd.DataFrame({"name": ["Phone", "Email"], "area": ["confidentiality"] * 2,
    ...                       "severity": ["high", "high"], "n_posts": [12, 3], "share_of_posts": [0.02, 0.005]})
    >>> print(rules_sentence(rules, period="2026-Q3"))
    The rules that fired most in 2026-Q3: Phone (confidentiality, high; 12 posts, 2.0% of employee posts),
    Email (confidentiality, high; 3 posts, 0.5% of employee posts).
    >>> print(rules_sentence(rules.head(1), period="2026-Q3", department="Programs"))
    The rules that fired most in Programs in 2026-Q3: Phone (confidentiality, high; 12 posts, 2.0% of its
    employee posts).
    """
    where, whose = (f" in {department}", "its employee posts") if department else ("", "employee posts")
    if "suppressed" in rules and rules["suppressed"].any():
        return f"Which rules fired{where} in {period} is {privacy.hidden_label()}."
    fired = rules[rules["n_posts"].fillna(0) > 0].sort_values("n_posts", ascending=False, kind="stable").head(top)
    if fired.empty:
        return f"No policy rule fired on an employee post{where} in {period}."
    parts = [f"{r.name} ({r.area}, {r.severity}; {format_count(r.n_posts, 'post')}, "
             f"{format_percent(r.share_of_posts, 1)} of {whose})" for r in fired.itertuples()]
    return f"The rules that fired most{where} in {period}: " + ", ".join(parts) + "."


def seasonality_sentence(effect: pd.DataFrame, *, label: str, window: str | None = None,
                         chosen_department: str | None = None) -> str:
    """The seasonal peak of a monthly series: the one-row table of :func:`trends.seasonal_effect` of the months
    ``window`` (``"2024-10 to 2026-09"``). The series is the organisation's: with ``chosen_department`` (the
    department a surface is about) the sentence says so.

    The month tested is the STL peak of the same data, so the interval is optimistic; the sentence says so.

    Examples
    --------
    >>> effect = pd.DataFrame([{"month_of_year": 12, "lift": 0.12, "ci_low": 0.05, "ci_high": 0.19,
    ...                         "p_value": 0.002, "n_months": 24, "n_in_month": 2}])
    >>> print(seasonality_sentence(effect, label="Employee-post sentiment", window="2024-10 to 2026-09"))
    Employee-post sentiment runs higher in December: +0.12 above the trend (95% CI 0.05 to 0.19; 24 months,
    2024-10 to 2026-09, 2 Decembers). December was picked as the peak from the same data, so read the interval as
    optimistic.
    >>> seasonality_sentence(effect, label="Employee-post sentiment", chosen_department="Programs").split(" in ")[0]
    'Employee-post sentiment across the organisation runs higher'
    """
    label += " across the organisation" if chosen_department else ""
    if effect.empty:
        return f"{label}: not enough months yet to look for a seasonal pattern (two full years are needed)."
    row = effect.iloc[0]
    month = _MONTHS[int(row["month_of_year"]) - 1]
    interval = format_ci(row["ci_low"], row["ci_high"])
    months = f"{int(row['n_months'])} months" + (f", {window}" if window else "")
    detail = f"({interval}; {months}, {int(row['n_in_month'])} {month}s)"
    caveat = f" {month} was picked as the peak from the same data, so read the interval as optimistic."
    if _excludes(row["ci_low"], row["ci_high"]):
        word = "higher" if row["lift"] > 0 else "lower"
        return f"{label} runs {word} in {month}: {format_signed(row['lift'])} above the trend {detail}.{caveat}"
    return (f"{label} shows no clear seasonal peak: {month} is {format_signed(row['lift'])} above the trend "
            f"{detail}.{caveat}")


def negative_terms_sentence(terms: pd.DataFrame, *, source: str, window: str, n_texts: int, n_negative: int,
                            chosen_department: str | None = None, top: int = 5) -> str:
    """The words over-represented in the most negative texts of ``source`` in the months ``window``: the table of
    :func:`analytics.notebook_views.negative_terms` (``n_texts`` texts, the ``n_negative`` most negative of
    them). The words are the organisation's: with ``chosen_department`` (the department a surface is about)
    the sentence says so.

    Examples
    --------
    >>> terms = pd.DataFrame({"term": ["awful", "delay"], "docs_negative": [12, 7], "lift": [9.0, 4.5]})
    >>> print(negative_terms_sentence(terms, source="audience comments", window="2025-10 to 2026-09", n_texts=400,
    ...                               n_negative=40))
    Of the 400 audience comments of 2025-10 to 2026-09, the 40 most negative most over-represent "awful" (12
    texts, 9.0 times as common as elsewhere), "delay" (7 texts, 4.5 times).
    >>> print(negative_terms_sentence(terms.iloc[:0], source="survey comments", window="2025-10 to 2026-09",
    ...                               n_texts=60, n_negative=6, chosen_department="Programs"))
    Across the organisation (not Programs alone), of the 60 survey comments of 2025-10 to 2026-09, no word is
    shared by 5 or more of the 6 most negative: no theme to name.
    """
    texts = f"of the {n_texts:,} {source} of {window}"
    head = f"Across the organisation (not {chosen_department} alone), {texts}" if chosen_department else (
        texts[0].upper() + texts[1:])
    if not n_negative:
        return f"{head}, too few texts are negative to name a theme."
    if terms.empty:
        return (f"{head}, no word is shared by {config.get_settings().k} or more of the {n_negative:,} most "
                "negative: no theme to name.")
    rows = list(terms.head(top).itertuples())
    first = rows[0]

    def lift(value: float, long: bool) -> str:
        if _missing(value):  # no lift: the word occurs in no other text
            return "in no other text"
        return f"{value:.1f} times as common as elsewhere" if long else f"{value:.1f} times"

    parts = [f'"{first.term}" ({format_count(first.docs_negative, "text")}, {lift(first.lift, True)})']
    parts += [f'"{r.term}" ({format_count(r.docs_negative, "text")}, {lift(r.lift, False)})' for r in rows[1:]]
    return f"{head}, the {n_negative:,} most negative most over-represent " + ", ".join(parts) + "."


def named_with_ties(counts: Sequence[int], top: int, *, extra: int = 2) -> int:
    """How many of ``counts`` (most first) a reader is given: the first ``top``, and up to ``extra`` more as
    many as the last of them -- cut at ``top``, one of equals would be dropped for its spelling.

    >>> named_with_ties([17, 14, 10, 10, 10, 10, 4], 3), named_with_ties([17, 14, 10, 4], 3), named_with_ties([5], 3)
    (5, 3, 1)
    """
    named = min(top, len(counts))
    while named < min(len(counts), top + extra) and named and counts[named] == counts[named - 1]:
        named += 1
    return named


def feedback_sentences(themes: pd.DataFrame, *, top: int = 3, department: str | None = None) -> list[str]:
    """One sentence per policy area on what its survey comments talk about: the table of
    :func:`analytics.feedback.feedback_themes` (its ``top`` terms most used now, and up to two more used as
    often as the last of them, with their share of the area's comments, and what changed significantly since
    the previous wave). With ``department``, the table holds that department's comments and each sentence
    says so.

    Examples
    --------
    >>> themes = pd.DataFrame({"wave": "2026-Q3", "area": "learning", "n_comments": 51, "area_sentiment": 0.236,
    ...     "term": ["examples", "one-page summary"], "n_mentions": [8, 6], "share": [0.157, 0.118],
    ...     "previous_wave": "2026-Q2", "previous_share": [0.05, 0.12], "direction": ["rising", "no clear change"],
    ...     "p_adjusted": [0.03, 0.9]})
    >>> print(feedback_sentences(themes)[0])
    Learning (51 comments in 2026-Q3, mean tone +0.24): "examples" in 16% of them (rising from 5% in 2026-Q2,
    adjusted p = 0.030), "one-page summary" 12%.
    >>> feedback_sentences(themes, department="Programs")[0].split(":")[0]
    'Learning (51 comments from Programs in 2026-Q3, mean tone +0.24)'
    """
    whose = f" from {department}" if department else ""
    sentences = []
    for area, rows in themes.groupby("area", sort=False):
        first = rows.iloc[0]
        ranked = rows[rows["n_mentions"] > 0].sort_values("n_mentions", ascending=False, kind="stable")
        used = ranked.head(named_with_ties(ranked["n_mentions"].tolist(), top))
        parts = []
        for r in used.itertuples():
            share = f"in {format_percent(r.share)} of them" if not parts else format_percent(r.share)
            if r.direction in ("rising", "falling"):
                share += (f" ({r.direction} from {format_percent(r.previous_share)} in {r.previous_wave}, "
                          f"adjusted {format_p(r.p_adjusted)})")
            elif r.direction == "new":
                share += f" (new since {r.previous_wave})"
            parts.append(f'"{r.term}" {share}')
        faded = rows[rows["direction"].eq("falling") & ~rows.index.isin(used.index)]
        tail = "".join(f'; "{r.term}" fell from {format_percent(r.previous_share)} in {r.previous_wave} to '
                       f"{format_percent(r.share)} (adjusted {format_p(r.p_adjusted)})" for r in faded.itertuples())
        head = (f"{str(area).capitalize()} ({format_count(first['n_comments'], 'comment')}{whose} in {first['wave']}, "
                f"mean tone {format_signed(first['area_sentiment'])})")
        sentences.append(f"{head}: {', '.join(parts) if parts else 'no word or phrase recurs'}{tail}.")
    return sentences


# --- training -------------------------------------------------------------------------------------

def training_sentences(effects: pd.DataFrame, *, n_people: int | None = None, through: str | None = None,
                       department: str | None = None) -> list[str]:
    """The training estimates: :func:`trends.training_effect` rows with an ``outcome`` column, of the posts up
    to the end of ``through`` (a period) and, with ``department``, of that department, which each sentence names.

    ``outcome`` is a key of :data:`OUTCOME_WORDS` (``violation``, ``positive``) or a phrase.

    Examples
    --------
    >>> effects = pd.DataFrame([
    ...     {"outcome": "violation", "estimator": "logistic", "term": "odds_ratio", "estimate": 0.45,
    ...      "ci_low": 0.30, "ci_high": 0.68, "p_value": 0.0002, "n_obs": 7012, "n_clusters": 127},
    ...     {"outcome": "violation", "estimator": "did_lpm", "term": "did_risk_difference", "estimate": -0.041,
    ...      "ci_low": -0.060, "ci_high": -0.022, "p_value": 0.0001, "n_obs": 7012, "n_clusters": 127}])
    >>> for s in training_sentences(effects, through="2026-Q3"): print(s)
    Posts by trained employees had 0.45 times the odds of a policy violation of untrained colleagues' posts
    in the same month (95% CI 0.30 to 0.68, p < 0.001; 7,012 posts by 127 employees up to the end of 2026-Q3).
    Difference-in-differences: after the rollout, the share of posts with a policy violation changed by -4.1
    points more in the trained group than in the never-trained group (95% CI -6.0 to -2.2; 7,012 posts by 127
    employees up to the end of 2026-Q3).
    >>> training_sentences(effects, department="Programs")[0].split(" had ")[0]
    'Posts by trained employees in Programs'
    >>> print(training_sentences(effects.assign(estimate=np.nan, ci_low=np.nan, ci_high=np.nan, p_value=np.nan)[:1])[0])
    No odds ratio of a policy violation can be estimated for trained against untrained employees: in the months
    compared, the posts of one group all share one outcome (7,012 posts by 127 employees).
    """
    where = f" in {department}" if department else ""
    if effects.empty:
        return [f"Too few trained and untrained people{where} in this selection to estimate the effect of training."]
    until = f" up to the end of {through}" if through else ""
    sentences = []
    for outcome, rows in effects.groupby("outcome", sort=False):
        words, share = outcome_words(outcome)
        for row in rows.itertuples():
            people = format_count(n_people if n_people is not None else row.n_clusters, "employee")
            sample = f"{format_count(row.n_obs, 'post')} by {people}{until}"
            if row.term == "odds_ratio" and np.isnan(row.estimate):
                sentences.append(
                    f"No odds ratio of {words} can be estimated for trained against untrained employees{where}: in "
                    f"the months compared, the posts of one group all share one outcome ({sample}).")
            elif row.term == "odds_ratio":
                interval = format_ci(row.ci_low, row.ci_high)
                if _excludes(row.ci_low, row.ci_high, 1.0):
                    sentences.append(
                        f"Posts by trained employees{where} had {row.estimate:.2f} times the odds of {words} of "
                        f"untrained colleagues' posts in the same month ({interval}, {format_p(row.p_value)}; "
                        f"{sample}).")
                else:
                    sentences.append(
                        f"Posts by trained and untrained employees{where} show no clear difference in the odds of "
                        f"{words} (odds ratio {row.estimate:.2f}, {interval}; {sample}).")
            else:
                interval = format_ci(row.ci_low, row.ci_high, scale="points")
                verdict = "" if _excludes(row.ci_low, row.ci_high) else "; the interval includes no difference"
                sentences.append(
                    f"Difference-in-differences{where}: after the rollout, the share of {share} changed by "
                    f"{format_points(row.estimate)} more in the trained group than in "
                    f"the never-trained group ({interval}{verdict}; {sample}).")
    return sentences


def training_caveats(baseline: pd.DataFrame, study: pd.DataFrame, *, department: str | None = None) -> list[str]:
    """What the training estimates cannot tell apart: who chose to train (the groups before the rollout,
    :func:`analytics.notebook_views.training_baseline`) and how each trained employee's violation risk moved
    around their own training (the event study, :func:`analytics.notebook_views.training_event_study`, whose
    ``n_posts`` the sentence gives, if it has them). With ``department``, that department's employees, which the
    sentences name.

    Examples
    --------
    >>> baseline = pd.DataFrame({"group": ["trained", "not trained"], "rollout": pd.Timestamp("2026-01-15"),
    ...     "trained_by": "2026-03", "first_month": "2024-10", "last_month": "2025-12", "n_months": 15,
    ...     "n_posts": [1916, 2438], "share": [0.094, 0.112], "ci_low": [0.082, 0.100], "ci_high": [0.108, 0.125]})
    >>> study = pd.DataFrame({"relative_month": [-3, -2, -1, 0, 1], "estimate": [0.05, 0.03, 0.0, 0.02, -0.04],
    ...     "ci_low": [-0.03, -0.04, None, -0.04, -0.1], "ci_high": [0.14, 0.1, None, 0.09, 0.02],
    ...     "n_posts": 6945})
    >>> for s in training_caveats(baseline, study): print(s)
    Training was chosen, not assigned: in the 15 whole months before the rollout on 2026-01-15 whose monthly
    figures are shown (2024-10 to 2025-12), 9.4% of the posts of the employees who trained by 2026-03 had a
    policy violation (95% CI 8.2% to 10.8%; n = 1,916) against 11.2% of those who had not (95% CI 10.0% to
    12.5%; n = 2,438). The comparison of trained and untrained posts holds that gap too; the
    difference-in-differences nets it out if both groups would otherwise have moved alike.
    Around each employee's own training (event study: violation risk against the month before training; n = 6,945
    posts by trained and untrained employees): in the months before it (-3 to -2), +3.0 to +5.0 points, none
    significant on its own; from the month of training on (0 to 1), -4.0 to +2.0 points, none significant on its
    own.
    >>> training_caveats(baseline, study, department="Programs")[0].split(" who trained")[0][-34:]
    'posts of the employees in Programs'
    """
    where = f" in {department}" if department else ""
    sentences = []
    if len(baseline) == 2:
        rows = baseline.set_index("group")
        trained, never = rows.loc["trained"], rows.loc["not trained"]
        months = (f"the {format_count(int(trained['n_months']), 'whole month')}" if trained["n_months"] > 1 else
                  "the whole month")
        span = trained["first_month"] + ("" if trained["n_months"] == 1 else f" to {trained['last_month']}")
        sentences.append(
            f"Training was chosen, not assigned: in {months} before the rollout on "
            f"{pd.Timestamp(trained['rollout']):%Y-%m-%d} whose monthly figures are shown ({span}), "
            f"{format_percent(trained['share'], 1)} of the posts of the employees{where} who trained by "
            f"{trained['trained_by']} had a policy violation "
            f"({format_ci(trained['ci_low'], trained['ci_high'], scale='rate', digits=1)}; "
            f"n = {int(trained['n_posts']):,}) against {format_percent(never['share'], 1)} of those who had not "
            f"({format_ci(never['ci_low'], never['ci_high'], scale='rate', digits=1)}; "
            f"n = {int(never['n_posts']):,}). The comparison of trained and untrained posts holds that gap too; "
            "the difference-in-differences nets it out if both groups would otherwise have moved alike.")
    estimated = study[study["ci_low"].notna()] if len(study) else study
    parts = []
    for name, side in (("in the months before it", estimated[estimated["relative_month"] < 0]),
                       ("from the month of training on", estimated[estimated["relative_month"] >= 0])):
        if side.empty:
            continue
        first, last = (int(m) for m in side["relative_month"].agg(["min", "max"]))
        low, high = (format_signed(100 * e, 1) for e in side["estimate"].agg(["min", "max"]))
        clear = side.loc[(side["ci_low"] > 0) | (side["ci_high"] < 0), "relative_month"]
        verdict = ("none significant on its own" if clear.empty else f"{format_count(len(clear), 'month')} "
                   "significant (" + ", ".join(f"month {int(m)}" for m in clear) + ")")
        parts.append(f"{name} ({first} to {last}), {low} to {high} points, {verdict}")
    if parts:
        n = (f"; n = {format_count(study['n_posts'].iloc[0], 'post')} by trained and untrained employees"
             if "n_posts" in study else "")
        sentences.append(f"Around each employee's own training{where} (event study: violation risk against the "
                         f"month before training{n}): " + "; ".join(parts) + ".")
    return sentences


# --- survey ---------------------------------------------------------------------------------------

def survey_change_sentences(changes: pd.DataFrame, *, by: str | None = None, top: int = 4,
                            chosen_department: str | None = None) -> list[str]:
    """Significant construct changes between two waves: the table of :func:`survey.wave_change`.

    Only rows whose Benjamini-Hochberg adjusted p-value is below 0.05 (``significant``) are named. The
    organisation's changes (no ``by``) beside a ``chosen_department`` (the department a surface is about) are
    said to be "across the organisation".

    Examples
    --------
    >>> changes = pd.DataFrame([{"construct": "trust", "previous_wave": "2026-Q2", "current_wave": "2026-Q3",
    ...     "n_previous": 90, "n_current": 95, "change": 0.42, "ci_low": 0.2, "ci_high": 0.64,
    ...     "p_adjusted": 0.001, "significant": True, "suppressed": False}])
    >>> for s in survey_change_sentences(changes): print(s)
    Trust rose by 0.42 points on the 1-5 scale from 2026-Q2 to 2026-Q3 (95% CI 0.20 to 0.64, BH-adjusted p =
    0.001; n = 90 and 95).
    >>> print(survey_change_sentences(changes.assign(significant=False), chosen_department="Programs")[0])
    No construct changed significantly across the organisation from 2026-Q2 to 2026-Q3 after adjusting for
    multiple comparisons (Benjamini-Hochberg; n = up to 90 and 95 per construct).
    """
    if changes.empty:
        return ["There is no earlier wave to compare with."]
    shown = changes[~changes["suppressed"].astype(bool)]
    hits = shown[shown["significant"].astype("boolean").fillna(False).astype(bool)]
    hits = hits.reindex(hits["change"].abs().sort_values(ascending=False).index).head(top)
    previous, current = changes["previous_wave"].iloc[0], changes["current_wave"].iloc[0]
    across = "" if by else _across(chosen_department)
    if hits.empty:
        where = f" in any {by}" if by else across
        n_previous, n_current = (pd.to_numeric(shown[c], errors="coerce").max() for c in ("n_previous", "n_current"))
        n_text = "" if _missing(n_previous) or _missing(n_current) else (
            f"; n = up to {int(n_previous):,} and {int(n_current):,} per {f'{by} and ' if by else ''}construct")
        return [f"No construct changed significantly{where} from {previous} to {current} after adjusting for "
                f"multiple comparisons (Benjamini-Hochberg{n_text})."]
    sentences = []
    for row in hits.to_dict("records"):
        where = f" in {row[by]}" if by else across
        word = "rose" if row["change"] > 0 else "fell"
        sentences.append(
            f"{str(row['construct']).capitalize()}{where} {word} by {abs(row['change']):.2f} points on the 1-5 scale "
            f"from {previous} to {current} ({format_ci(row['ci_low'], row['ci_high'])}, BH-adjusted "
            f"{format_p(row['p_adjusted'])}; n = {int(row['n_previous'])} and {int(row['n_current'])}).")
    return sentences


def favourability_sentence(favourability: pd.DataFrame, *, wave: str, by: str | None = None,
                           chosen_department: str | None = None) -> str:
    """Highest and lowest favourability: a construct-level table of :func:`survey.favourability`. The
    organisation's (no ``by``) beside a ``chosen_department`` (the department a surface is about) is said to be
    "across the organisation".

    Examples
    --------
    >>> fav = pd.DataFrame({"construct": ["clarity", "trust"], "n": [95, 94], "favourable": [0.78, 0.52],
    ...                     "ci_low": [0.69, 0.42], "ci_high": [0.85, 0.62], "suppressed": [False, False]})
    >>> print(favourability_sentence(fav, wave="2026-Q3"))
    In 2026-Q3 favourability is highest for clarity (78%, 95% CI 69% to 85%; n = 95) and lowest for trust
    (52%, 95% CI 42% to 62%; n = 94).
    """
    if "wave" in favourability.columns:
        favourability = favourability[favourability["wave"] == wave]
    shown = favourability[~favourability["suppressed"].astype(bool)].dropna(subset=["favourable"])
    if shown.empty:
        return f"No favourability can be shown for {wave}: every group is below the small-group threshold."

    def name(row: Mapping[str, Any]) -> str:
        return f"{row[by]} on {row['construct']}" if by else str(row["construct"])

    def detail(row: Mapping[str, Any]) -> str:
        return (f"{format_percent(row['favourable'])}, {format_ci(row['ci_low'], row['ci_high'], scale='rate')}; "
                f"n = {int(row['n'])}")

    ordered = shown.sort_values("favourable", kind="stable").to_dict("records")
    low, high = ordered[0], ordered[-1]
    across = f",{_across(chosen_department)}," if chosen_department and not by else ""
    return (f"In {wave}{across} favourability is highest for {name(high)} ({detail(high)}) "
            f"and lowest for {name(low)} ({detail(low)}).")


def reliability_sentence(alpha: pd.DataFrame, *, chosen_department: str | None = None) -> str:
    """Cronbach's alpha per construct: the table of :func:`survey.cronbach_alpha` (with a ``wave`` column, as
    :func:`analytics.notebook_views.reliability` gives it, the sentence opens with the wave and its n). Beside
    a ``chosen_department`` (the department a surface is about) it says the respondents are the organisation's.

    Examples
    --------
    >>> alpha = pd.DataFrame({"construct": ["trust", "voice"], "alpha": [0.84, 0.61], "n_respondents": [90, 88]})
    >>> print(reliability_sentence(alpha))
    Read voice with care: its items agree only weakly (Cronbach's alpha 0.61, below 0.7). Trust is
    reliable (alpha 0.84).
    >>> print(reliability_sentence(alpha.assign(wave="2026-Q3"), chosen_department="Programs"))
    In 2026-Q3 across the organisation (n = 88 to 90 respondents per construct), read voice with care: its
    items agree only weakly (Cronbach's alpha 0.61, below 0.7). Trust is reliable (alpha 0.84).
    """
    known = alpha.dropna(subset=["alpha"])
    if known.empty:
        return "Reliability cannot be computed yet (too few complete answers)."
    sentence = _reliability_text(known)
    if "wave" not in known:
        return sentence
    low, high = (int(n) for n in known["n_respondents"].agg(["min", "max"]))
    n_text = f"n = {low:,}" + (f" to {high:,}" if high > low else "") + " respondents per construct"
    return (f"In {known['wave'].iloc[0]}{_across(chosen_department)} ({n_text}), "
            f"{sentence[0].lower()}{sentence[1:]}")


def _reliability_text(known: pd.DataFrame) -> str:
    weak = known[known["alpha"] < ALPHA_ACCEPTABLE]
    good = known[known["alpha"] >= ALPHA_ACCEPTABLE]
    low, high = (good["alpha"].min(), good["alpha"].max()) if len(good) else (np.nan, np.nan)
    good_text = f"alpha {low:.2f}" + (f" to {high:.2f}" if high > low else "")
    if weak.empty:
        return f"Every construct is reliable (Cronbach's {good_text}, at least {ALPHA_ACCEPTABLE})."
    if len(weak) == 1:
        row = weak.iloc[0]
        sentence = (f"Read {row['construct']} with care: its items agree only weakly (Cronbach's alpha "
                    f"{row['alpha']:.2f}, below {ALPHA_ACCEPTABLE}).")
    else:
        named = [f"{r.construct} ({r.alpha:.2f})" for r in weak.itertuples()]
        listed = ", ".join(named[:-1]) + " and " + named[-1]
        sentence = (f"Read {listed} with care: their items agree only weakly (Cronbach's alpha below "
                    f"{ALPHA_ACCEPTABLE}).")
    if len(good) == 1:
        sentence += f" {good['construct'].iloc[0].capitalize()} is reliable ({good_text})."
    elif len(good):
        sentence += f" The other constructs are reliable ({good_text})."
    return sentence


def drivers_sentence(drivers: pd.DataFrame, *, outcome: str, unit: str = "responses",
                     chosen_department: str | None = None) -> str:
    """The strongest driver of an outcome: the table of :func:`survey.key_drivers` (with a ``waves`` column, as
    :func:`analytics.notebook_views.trust_drivers` gives it, the n names the waves). Beside a
    ``chosen_department`` (the department a surface is about) it is said to be "across the organisation".

    Examples
    --------
    >>> drivers = pd.DataFrame({"driver": ["safety", "clarity"], "beta": [0.45, 0.05], "ci_low": [0.38, -0.02],
    ...     "ci_high": [0.52, 0.12], "p_value": [1e-6, 0.2], "relative_weight": [0.61, 0.08], "n": [700, 700],
    ...     "r_squared": [0.52, 0.52]})
    >>> print(drivers_sentence(drivers, outcome="trust"))
    The strongest driver of trust is safety: 61% of the explained variance (standardised beta 0.45, 95% CI
    0.38 to 0.52). Together the drivers explain 52% of the variance (R², n = 700 responses). Not clearly a
    driver once the others are accounted for: clarity. A driver is an association in these data, not proof of
    cause.
    >>> overlapping = drivers.assign(beta=[1.15, -0.61], n=34)
    >>> print(drivers_sentence(overlapping, outcome="trust").split("cause. ")[1])
    Read with care: 34 responses for 2 drivers, and standardised betas beyond ±1 (1.15) mean drivers that
    overlap; the shares of explained variance divide what they hold in common fairly, the betas do not.
    """
    if drivers.empty or drivers["relative_weight"].isna().all():
        return f"Not enough data to estimate the drivers of {outcome}."
    top = drivers.sort_values("relative_weight", ascending=False, kind="stable").iloc[0]
    n = int(top["n"])
    waves = f", {top['waves']}" if "waves" in drivers and not _missing(top["waves"]) else ""
    sentence = (f"The strongest driver of {outcome}{_across(chosen_department)} is {top['driver']}: "
                f"{format_percent(top['relative_weight'])} of the explained variance (standardised beta "
                f"{top['beta']:.2f}, {format_ci(top['ci_low'], top['ci_high'])}). "
                f"Together the drivers explain {format_percent(top['r_squared'])} of the variance (R², n = "
                f"{n} {unit}{waves}).")
    unclear = drivers[~drivers.apply(lambda r: _excludes(r["ci_low"], r["ci_high"]), axis=1)]
    if len(unclear):
        sentence += " Not clearly a driver once the others are accounted for: " + ", ".join(unclear["driver"]) + "."
    sentence += " A driver is an association in these data, not proof of cause."
    beyond = drivers.loc[drivers["beta"].abs() > 1, "beta"]
    # fewer than ten observations per driver, or a standardised beta past ±1 (collinear drivers)
    if n < 10 * len(drivers) or len(beyond):
        collinear = (f", and standardised betas beyond ±1 ({', '.join(f'{b:.2f}' for b in beyond)}) mean drivers "
                     "that overlap; the shares of explained variance divide what they hold in common fairly, the "
                     "betas do not" if len(beyond) else "")
        sentence += f" Read with care: {n:,} {unit} for {format_count(len(drivers), 'driver')}{collinear}."
    return sentence


# --- data quality and coverage --------------------------------------------------------------------

def gap_list(gaps: pd.DataFrame, *, limit: int = 8, month_format: str = "%Y-%m") -> str:
    """The missing platform-months (rows of :func:`analytics.datasets.coverage_table` with ``gap``) as a list.

    Examples
    --------
    >>> gaps = pd.DataFrame({"platform": ["x", "x"], "month": pd.to_datetime(["2026-03-01", "2026-05-01"])})
    >>> gap_list(gaps), gap_list(gaps, limit=1, month_format="%b %Y")
    ('x 2026-03, x 2026-05', 'x Mar 2026 and 1 more')
    """
    listed = [f"{r.platform} {pd.Timestamp(r.month).strftime(month_format)}" for r in gaps.head(limit).itertuples()]
    more = f" and {len(gaps) - limit} more" if len(gaps) > limit else ""
    return ", ".join(listed) + more


def coverage_sentence(coverage: pd.DataFrame) -> str:
    """What data a surface covers: the table of :func:`analytics.datasets.coverage_by_month`.

    Examples
    --------
    >>> cov = pd.DataFrame({"month": pd.to_datetime(["2026-07-01", "2026-08-01"] * 2),
    ...                     "platform": ["x", "x", "mastodon", "mastodon"], "n_posts": [5, 7, 3, 0],
    ...                     "gap": [False, False, False, True]})
    >>> coverage_sentence(cov)
    'Posts cover 2026-07 through 2026-08 on 2 platforms (15 posts). Missing platform-months: mastodon 2026-08.'
    """
    if coverage.empty or coverage["n_posts"].sum() == 0:
        return "No posts have been loaded yet."
    months = pd.to_datetime(coverage.loc[coverage["n_posts"] > 0, "month"])
    sentence = (f"Posts cover {months.min():%Y-%m} through {months.max():%Y-%m} on "
                f"{coverage['platform'].nunique()} platforms ({format_count(coverage['n_posts'].sum(), 'post')}).")
    gaps = coverage[coverage["gap"]].sort_values(["platform", "month"])
    if len(gaps):
        return sentence + f" Missing platform-months: {gap_list(gaps)}."
    return sentence + " No platform-month is missing."


def rejects_sentence(rejects: pd.DataFrame) -> str:
    """The most common reason rows were rejected for, of a :func:`analytics.datasets.rejects_by_reason` table
    (``reason, n_rows, n_files``).

    >>> rejects_sentence(pd.DataFrame({"reason": ["no date", "bad url"], "n_rows": [1, 4], "n_files": [1, 2]}))
    'The most common reason for a rejected row: "bad url" (4 rows in 2 files).'
    """
    if not len(rejects):
        return "No row was rejected."
    top = rejects.sort_values("n_rows", ascending=False, kind="stable").iloc[0]
    return (f'The most common reason for a rejected row: "{top["reason"]}" '
            f"({format_count(top['n_rows'], 'row')} in {format_count(top['n_files'], 'file')}).")


def data_quality_sentences(
    formats: pd.DataFrame,
    rejects: pd.DataFrame,
    unmapped: pd.DataFrame,
    unattributed: pd.DataFrame,
    coverage: pd.DataFrame,
) -> list[str]:
    """What was loaded, rejected, left unmapped or unattributed, and where posts are missing.

    Takes the tables of :mod:`analytics.notebook_views`: ``files_by_format``, ``rejects_by_reason``,
    ``unmapped_survey_questions``, ``unattributed_accounts`` and ``coverage_by_month``.

    Examples
    --------
    >>> formats = pd.DataFrame({"format": ["monitoring", "incidents"], "files": [1, 1], "rows_read": [100, 20],
    ...                         "rows_loaded": [95, 20], "rows_rejected": [5, 0]})
    >>> rejects = pd.DataFrame({"reason": ["no date"], "n_rows": [5], "n_files": [1]})
    >>> empty = pd.DataFrame({"n_answers": [], "n_posts": [], "month": [], "platform": [], "n_posts_": []})
    >>> for s in data_quality_sentences(formats, rejects, empty, empty, pd.DataFrame())[:2]: print(s)
    2 files: 120 rows read, 115 loaded and 5 rejected (4.2%).
    The most common reason for a rejected row: "no date" (5 rows in 1 file).
    """
    read, loaded, rejected = (int(formats[c].sum()) for c in ("rows_read", "rows_loaded", "rows_rejected"))
    share = ""
    if read:
        share = " (under 0.1%)" if 0 < rejected / read < 0.001 else f" ({format_percent(rejected / read, 1)})"
    sentences = [f"{format_count(formats['files'].sum(), 'file')}: {format_count(read, 'row')} read, "
                 f"{loaded:,} loaded and {rejected:,} rejected{share}."]
    sentences.append(rejects_sentence(rejects))
    if len(unmapped):
        answers = format_count(unmapped["n_answers"].sum(), "answer")
        sentences.append(f"{format_count(len(unmapped), 'survey question')} ({answers}) "
                         "are not in the codebook and are left out of every survey statistic: add them with "
                         "`policy-pulse codebook FILE`.")
    else:
        sentences.append("Every survey question maps to the codebook.")
    if len(unattributed):
        sentences.append(f"{format_count(unattributed['n_posts'].sum(), 'post')} from "
                         f"{format_count(len(unattributed), 'account')} could not be attributed to an employee or to "
                         "the organisation: add the handles to the roster or to organisation_accounts in settings.yml.")
    else:
        sentences.append("Every post is attributed to an employee or to the organisation.")
    if len(coverage):
        sentences.append(coverage_sentence(coverage))
    return sentences


# --- the positive side ----------------------------------------------------------------------------

def story_sentence(row: Mapping[str, Any] | pd.Series, *, period: str) -> str:
    """The engagement mission stories among employee posts earn: a row of
    :func:`analytics.themes.mission_story_share`. Their share of the posts is the metric
    ``mission_story_share``, which :func:`metric_sentence` states with its change: said here as well, the one
    figure was told twice.

    The engagement per post is called higher or lower only when the ratio's 95 % CI excludes 1, and
    worded as what it is: an association between a post's theme and its engagement, which says nothing
    about what caused it, nor about the policy.

    Examples
    --------
    >>> row = {"n_posts": 400, "n_mission": 80, "mission_story_share": 0.2, "ci_low": 0.16, "ci_high": 0.24,
    ...        "engagement_ratio": 1.5, "ratio_ci_low": 1.21, "ratio_ci_high": 1.86, "suppressed": False}
    >>> print(story_sentence(row, period="2026-Q3"))
    In 2026-Q3 the 80 mission stories among the 400 employee posts drew 1.50 times the engagement per post of
    other posts (95% CI 1.21 to 1.86): an association, which does not show that the stories, or the policy,
    caused it.
    >>> print(story_sentence(row | {"department": "Programs"}, period="2026-Q3").split(" drew")[0])
    In 2026-Q3 the 80 mission stories among the 400 employee posts in Programs
    >>> print(story_sentence(row | {"ratio_ci_low": 0.94}, period="2026-Q3"))
    In 2026-Q3 the engagement per post of the 80 mission stories among the 400 employee posts was not clearly
    different from other posts' (1.50 times, 95% CI 0.94 to 1.86, which includes no difference).
    """
    # a department's row names it: "employee posts" read as the organisation's
    department = row.get("department")
    where = "" if _missing(department) else f" in {department}"
    if row.get("suppressed") or _missing(row.get("mission_story_share")):
        return f"Too few people{where} posted in {period} to show the engagement of mission stories."
    n_mission = int(row["n_mission"])
    stories = (f"the {n_mission:,} mission {'story' if n_mission == 1 else 'stories'} among the "
               f"{format_count(row['n_posts'], 'employee post')}{where}")
    ratio, low, high = row.get("engagement_ratio"), row.get("ratio_ci_low"), row.get("ratio_ci_high")
    if _missing(ratio):
        return f"In {period} the engagement per post of {stories} cannot be compared with other posts'."
    interval = format_ci(low, high)
    if not _excludes(low, high, 1.0):
        includes = "" if _missing(low) else ", which includes no difference"
        return (f"In {period} the engagement per post of {stories} was not clearly different from other posts' "
                f"({ratio:.2f} times, {interval}{includes}).")
    only = "" if ratio > 1 else "only "
    return (f"In {period} {stories} drew {only}{ratio:.2f} times the engagement per post of other posts "
            f"({interval}): an association, which does not show that the stories, or the policy, caused it.")


def mission_value_sentence(mission: pd.DataFrame, *, period: str, chosen_department: str | None = None) -> str:
    """Clicks on the organisation's posts linking to its mission pages in a period, and what the total leaves
    out: the table of :func:`analytics.notebook_views.mission_value_view` (``period, page, n_posts,
    n_reporting_clicks, clicks``; rows of :func:`analytics.engagement.mission_value` with ``total=True``,
    whose ``source`` column, if any, picks the organisation's).

    The total is the :data:`~analytics.engagement.ANY_MISSION_PAGE` row, the metric ``mission_clicks``:
    each post once, however many pages it links to. Posts whose only links are shortened have no known
    page: their clicks are named apart and not added. The posts are the organisation's own: beside a
    ``chosen_department`` (the department a surface is about) the sentence says so.

    Examples
    --------
    >>> mission = pd.DataFrame({"period": "2026-Q3", "page": ["donate", "volunteer", "(any mission page)",
    ...                         "(short link, target unknown)"], "n_posts": [10, 4, 14, 6],
    ...                         "n_reporting_clicks": [6, 4, 10, 6], "clicks": [120.0, 45.0, 165.0, 30.0]})
    >>> print(mission_value_sentence(mission, period="2026-Q3"))
    In 2026-Q3 our posts linking to a mission page drew 165 clicks (reported for 10 of the 14 posts): the
    donate page 120 clicks (10 posts), the volunteer page 45 clicks (4 posts). Not counted in 2026-Q3: 6 posts
    whose only links are shortened (such as t.co; target unknown), with 30 clicks.
    >>> mission_value_sentence(mission, period="2026-Q3", chosen_department="Programs").split(" drew")[0]
    'In 2026-Q3, across the organisation, our posts linking to a mission page'
    """
    rows = mission[mission["period"] == period]
    when = f"In {period},{_across(chosen_department)}," if chosen_department else f"In {period}"
    if "source" in rows.columns:
        rows = rows[rows["source"] == "organisation"]
    by_page = rows.set_index("page")
    pages = by_page.drop([ANY_MISSION_PAGE, SHORT_LINK_PAGE], errors="ignore")
    total = by_page.loc[ANY_MISSION_PAGE] if ANY_MISSION_PAGE in by_page.index else None
    if total is None:
        sentence = f"None of our posts{_across(chosen_department)} linked to a mission page in {period}."
    elif _missing(total["clicks"]):
        sentence = (f"{when} no platform reports clicks on our {format_count(total['n_posts'], 'post')} "
                    "linking to a mission page.")
    else:
        listed = ", ".join(f"the {row.Index} page {_clicks(row.clicks)} ({format_count(row.n_posts, 'post')})"
                           for row in pages.itertuples())
        both = pages["n_posts"].sum() > total["n_posts"]
        sentence = (f"{when} our posts linking to a mission page drew {_clicks(total['clicks'])} (reported "
                    f"for {int(total['n_reporting_clicks'])} of the {format_count(total['n_posts'], 'post')}): {listed}"
                    + ("; a post linking to more than one page counts under each." if both else "."))
    short = short_links_sentence(rows, period=period)
    return sentence + (f" {short}" if short else "")


def short_links_sentence(mission: pd.DataFrame, *, period: str) -> str:
    """What the mission pages' clicks leave out in a period: the organisation's posts whose only links are
    shortened (t.co, lnkd.in...), the :data:`~analytics.engagement.SHORT_LINK_PAGE` row of
    :func:`analytics.engagement.mission_value` (``period, page, n_posts, clicks``; a ``source`` column, if
    any, picks the organisation's). Empty when the period has no such post.

    Examples
    --------
    >>> mission = pd.DataFrame({"period": "2026-Q3", "page": ["donate", "(short link, target unknown)"],
    ...                         "n_posts": [10, 6], "clicks": [120.0, 30.0]})
    >>> short_links_sentence(mission, period="2026-Q3")
    'Not counted in 2026-Q3: 6 posts whose only links are shortened (such as t.co; target unknown), with 30 clicks.'
    >>> short_links_sentence(mission, period="2026-Q2")
    ''
    """
    rows = mission[(mission["period"] == period) & (mission["page"] == SHORT_LINK_PAGE)]
    if "source" in rows.columns:
        rows = rows[rows["source"] == "organisation"]
    if rows.empty:
        return ""
    short = rows.iloc[0]
    return (f"Not counted in {period}: {format_count(short['n_posts'], 'post')} whose only links are shortened "
            f"(such as t.co; target unknown), with {_clicks(short['clicks'])}.")


def _clicks(value: Any) -> str:
    return "no reported clicks" if _missing(value) else format_count(value, "click")


def recognition_sentence(teams: pd.DataFrame, people: pd.DataFrame, *, period: str,
                         department: str | None = None) -> str:
    """Who to thank: the recognised teams (:func:`analytics.engagement.team_recognition`) and how many
    opted-in people were recognised (never their findings). Nobody recognised reads as no one, never as
    "0 people ... too". With ``department``, ``teams`` and ``people`` are that department's and the sentence
    speaks of it alone: "no team" read as none in the organisation.

    Examples
    --------
    >>> teams = pd.DataFrame({"department": ["Comms", "Finance", "Programs"], "recognised": [True, False, True]})
    >>> print(recognition_sentence(teams, pd.DataFrame({"display_name": ["Ada L."]}), period="2026-Q3"))
    In 2026-Q3 Comms and Programs combined high adherence with strong, positive engagement, as did 1 person
    who opted in to be named.
    >>> print(recognition_sentence(teams.assign(recognised=False), pd.DataFrame(), period="2026-Q3"))
    In 2026-Q3 no team, and no one who opted in to be named, combined high adherence with strong, positive
    engagement.
    >>> print(recognition_sentence(teams.iloc[1:2], pd.DataFrame({"display_name": ["Ada L."]}), period="2026-Q3",
    ...                            department="Finance"))
    In 2026-Q3 Finance was not among the teams that combined high adherence with strong, positive engagement; 1
    person in it who opted in to be named did.
    """
    names = teams.loc[teams["recognised"].astype(bool), "department"].tolist() if len(teams) else []
    what = "combined high adherence with strong, positive engagement"
    in_it = " in it" if department else ""
    people_text = f"{len(people):,} {'person' if len(people) == 1 else 'people'}{in_it} who opted in to be named"
    if not names:
        if department:
            nobody = "" if len(people) else ", nor anyone in it who opted in to be named"
            sentence = f"In {period} {department} was not among the teams that {what}{nobody}"
            return sentence + (f"; {people_text} did." if len(people) else ".")
        if people.empty:
            return f"In {period} no team, and no one who opted in to be named, {what}."
        return f"In {period} no team {what}; {people_text} did."
    teams_text = names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"
    return f"In {period} {teams_text} {what}" + (f", as did {people_text}." if len(people) else ".")
