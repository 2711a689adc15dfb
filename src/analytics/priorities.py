"""Which policy areas most need revising: the evidence per area and the one "areas to revise" ranking.

Every surface that ranks the policy areas (the committee report's "Areas to revise" and the
policy-review dashboard) calls :func:`revision_ranking`, so the committee and leadership see the same
order, score, interval and sureness. An area's evidence has three lines, each its own question:

* its rules: :func:`area_adherence`, the share of employee posts keeping the area's rules in two periods;
* its wording: :func:`clarity_by_wave` and :func:`clarity_change`, the area's "the policy is clear" item;
* its incidents: :func:`incidents_by_area`, incidents of the area in two periods of equal length.

:func:`area_evidence` reads the three from the warehouse for a period and its previous one (the survey
waves chosen by :func:`survey_waves`), :func:`areas_to_revise` scores and ranks the areas with how sure
the ranking is, :func:`evidence_sentence` words one area's evidence, and :func:`revision_ranking` puts
the ranking and the words together.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from analytics import adherence, config, datasets, insights, survey
from analytics.codebook import load_codebook
from analytics.metrics import ALL, compare_periods, incident_figures_by_period
from analytics.periods import Period, local_months, period_labels

__all__ = [
    "CHANGE_WEIGHT",
    "FEWEST_TELLING_INCIDENTS",
    "LAST_PLACE",
    "RANKING_NOTE",
    "SEED",
    "SIMULATIONS",
    "area_adherence",
    "area_evidence",
    "areas_to_revise",
    "clarity_by_wave",
    "clarity_change",
    "evidence_sentence",
    "evidence_table",
    "how_sure",
    "incidents_by_area",
    "revision_ranking",
    "rules_fired",
    "survey_waves",
    "wave_of",
]

#: Score points added (removed) per evidence line that got significantly worse (better).
CHANGE_WEIGHT = 0.10
#: The fewest incidents of an area that an exact test tells from none in another (6 against 0: p = 0.031; 5: 0.063).
#: The incidents component is scaled to the worst area's count, or to this many when it has fewer: one or two
#: incidents were the worst possible, a third of the score, and one incident ranked an area first.
FEWEST_TELLING_INCIDENTS = 6
#: Re-draws behind "how sure", and their seed (the ranking is reproducible).
SIMULATIONS = 2000
SEED = 20260930
#: The sureness of the last place: every re-draw ranks an area there or higher, so that share says nothing.
LAST_PLACE = "last place"
#: How the ranking is made, in one paragraph for the surfaces that show it.
RANKING_NOTE = ("Areas are ranked by a transparent score: the mean of three concerns — rule breaches, unclear "
                "wording, incidents — each scaled to the worst area (incidents to at least "
                f"{FEWEST_TELLING_INCIDENTS}, the fewest an exact test tells from none, so that one or two incidents "
                "do not count as the worst), plus "
                f"{100 * CHANGE_WEIGHT:.0f} points for every evidence line that got significantly worse (minus for "
                "better). “How sure” is how often the area ranks at its place or higher when the data are re-drawn "
                "within their uncertainty (the last place always does).")


# --- the three evidence lines -----------------------------------------------------------------------

#: The posts' columns :func:`area_adherence` reads.
_ADHERENCE_POST_COLUMNS = ("post_uid", "account_type", "author_key", "published_at")


def area_adherence(
    posts: pd.DataFrame,
    findings: pd.DataFrame,
    *,
    current: Period,
    previous: Period,
    timezone: str | None = None,
    areas: Sequence[str] = adherence.AREAS,
) -> pd.DataFrame:
    """Per policy area, the share of employee posts with no (non-dismissed) medium or high finding of
    that area's rules, in two periods, with the change and its two-proportion test.

    Rates come from :func:`analytics.adherence.adherence_rate` and the test from
    :func:`analytics.metrics.compare_periods`. The table is organisation-wide (areas are not groups of
    people, so no k-suppression applies).

    Parameters
    ----------
    posts : DataFrame
        ``post_uid, account_type, author_key, published_at`` (UTC), e.g. :func:`analytics.datasets.employee_posts`.
    findings : DataFrame
        ``post_uid, rule_id, area, severity, dismissed`` (:func:`analytics.datasets.employee_findings`).
    current, previous : Period
        The two periods (cut in ``timezone``, default the organisation's).
    areas : sequence of str
        Policy areas, in display order.

    Returns
    -------
    DataFrame
        One row per area: ``area``, ``has_rules`` (a rule of the policy file belongs to the area),
        ``n_posts``, ``n_breaching``, ``breach_rate``, ``adherence_rate``, ``ci_low``, ``ci_high``
        (Wilson 95 % of the adherence rate), ``previous_n_posts``, ``previous_n_breaching``,
        ``previous_adherence_rate``, ``previous_ci_low``, ``previous_ci_high``, ``change`` (adherence,
        current - previous), ``p_value``, ``significant`` (p < 0.05).

    Examples
    --------
    >>> from analytics.periods import parse_period
    >>> posts = pd.DataFrame({"post_uid": list("abcd"), "account_type": "employee", "author_key": list("ppqq"),
    ...     "published_at": pd.to_datetime(["2026-05-02", "2026-05-03", "2026-08-01", "2026-08-02"], utc=True)})
    >>> findings = pd.DataFrame({"post_uid": ["c"], "rule_id": ["phone"], "area": ["confidentiality"],
    ...                          "severity": ["high"], "dismissed": [False]})
    >>> out = area_adherence(posts, findings, current=parse_period("2026-Q3"), previous=parse_period("2026-Q2"),
    ...                      timezone="UTC", areas=["confidentiality"])
    >>> out[["area", "n_posts", "n_breaching", "adherence_rate", "previous_adherence_rate"]].values.tolist()
    [['confidentiality', 2.0, 1.0, 0.5, 1.0]]
    """
    zone = timezone or config.get_settings().timezone
    ruled = set(adherence.rules_frame()["area"])
    columns = list(_ADHERENCE_POST_COLUMNS)
    adherence._check_columns(posts, "posts", columns)
    # authors as categories: each area's rate counts its posts' distinct authors again, which over strings took
    # a third of the areas' rates on a large warehouse (0.3 s of 1 s over 220,000 posts)
    inside = {name: posts.loc[period.contains(posts["published_at"], zone).to_numpy(), columns].astype(
                  {"author_key": "category"})
              for name, period in (("current", current), ("previous", previous))}
    rows = []
    for area in areas:
        in_area = findings[findings["area"] == area]
        now, before = (adherence.adherence_rate(inside[name], in_area).iloc[0] for name in ("current", "previous"))
        # compare_periods holds the one definition of the two-proportion test; one area is one "table"
        pair = pd.DataFrame({"period": [current.label, previous.label], "department": ALL, "platform": ALL,
                             "metric": "adherence_rate", "value": [now["adherence_rate"], before["adherence_rate"]],
                             "n": [now["n_posts"], before["n_posts"]], "n_people": np.nan,
                             "successes": [now["n_compliant"], before["n_compliant"]], "sd": np.nan,
                             "ci_low": np.nan, "ci_high": np.nan, "suppressed": False})
        test = compare_periods(pair, metric="adherence_rate", current=current.label, previous=previous.label).iloc[0]
        rows.append({
            "area": area, "has_rules": area in ruled,
            "n_posts": float(now["n_posts"]), "n_breaching": float(now["n_posts"] - now["n_compliant"]),
            "breach_rate": 1 - float(now["adherence_rate"]), "adherence_rate": float(now["adherence_rate"]),
            "ci_low": float(now["ci_low"]), "ci_high": float(now["ci_high"]),
            "previous_n_posts": float(before["n_posts"]),
            "previous_n_breaching": float(before["n_posts"] - before["n_compliant"]),
            "previous_adherence_rate": float(before["adherence_rate"]),
            "previous_ci_low": float(before["ci_low"]), "previous_ci_high": float(before["ci_high"]),
            "change": float(test["change"]), "p_value": float(test["p_value"]),
            "significant": bool(test["significant"]),
        })
    return pd.DataFrame(rows)


def rules_fired(posts: pd.DataFrame, findings: pd.DataFrame) -> pd.DataFrame:
    """Which rules fired on a set of employee posts (dismissed false positives left out): the rule-level
    evidence behind an area's adherence, from :func:`analytics.adherence.rule_counts`.

    Parameters
    ----------
    posts : DataFrame
        ``post_uid`` of the employee posts of a period (and group).
    findings : DataFrame
        ``post_uid, rule_id, area, severity, dismissed`` (findings of other posts are ignored).

    Returns
    -------
    DataFrame
        One row per rule, most posts first: ``rule_id, area, severity, n_findings``, ``n_posts`` (distinct
        posts it fired on), ``share_of_posts`` (of the posts), ``share_ci_low``, ``share_ci_high`` (Wilson
        95 %), ``n_employee_posts`` (the posts), ``name``, ``explanation`` (of
        :func:`analytics.adherence.rules_frame`).

    Examples
    --------
    >>> posts = pd.DataFrame({"post_uid": list("abcd")})
    >>> findings = pd.DataFrame({"post_uid": ["a", "a", "b", "z"], "rule_id": "phone", "area": "confidentiality",
    ...                          "severity": "high", "dismissed": [False, False, True, False]})
    >>> phone = rules_fired(posts, findings).set_index("rule_id").loc["phone"]
    >>> int(phone["n_findings"]), int(phone["n_posts"]), float(phone["share_of_posts"])
    (2, 1, 0.25)
    """
    findings = findings[findings["post_uid"].isin(posts["post_uid"])]
    kept = findings[~findings["dismissed"].astype("boolean").fillna(False).to_numpy(bool)]
    out = adherence.rule_counts(findings)
    out["n_posts"] = out["rule_id"].map(kept.groupby("rule_id")["post_uid"].nunique()).fillna(0).astype("int64")
    total = len(posts)
    out["share_of_posts"] = out["n_posts"] / max(total, 1)
    out["share_ci_low"], out["share_ci_high"] = adherence.wilson_interval(out["n_posts"].to_numpy(float),
                                                                          np.full(len(out), float(total)))
    out["n_employee_posts"] = total
    out = out.merge(adherence.rules_frame()[["rule_id", "name", "explanation"]], on="rule_id", how="left")
    return out.sort_values(["n_posts", "rule_id"], ascending=[False, True], ignore_index=True)


def _clarity_items() -> pd.DataFrame:
    items = load_codebook().items_frame()
    return items[items["clarity"].astype(bool)]


def clarity_by_wave(answers: pd.DataFrame, respondents: pd.DataFrame, *, k: int | None = None) -> pd.DataFrame:
    """Favourability of each policy area's "the policy is clear" item in every survey wave.

    :func:`analytics.survey.favourability` at item level by wave (unfinished responses left out,
    groups below ``k`` respondents suppressed) over the codebook's clarity items.

    Parameters
    ----------
    answers : DataFrame
        ``response_id, item_id, value`` (:func:`analytics.datasets.survey_answers`; other items are ignored).
    respondents : DataFrame
        ``response_id, wave, finished, submitted_at`` (:func:`analytics.datasets.respondents`).

    Returns
    -------
    DataFrame
        One row per wave and clarity item: ``wave, item_id, n, n_favourable, favourable, neutral,
        unfavourable, ci_low, ci_high, suppressed`` (as :func:`~analytics.survey.favourability`), ``area``,
        ``text`` (the item's wording).
    """
    items = _clarity_items()
    chosen = answers[answers["item_id"].isin(items["item_id"])]
    table = survey.favourability(chosen, items, respondents, level="item", by="wave", k=k)
    return table.merge(items[["item_id", "area", "text"]], on="item_id", how="left")


def clarity_change(
    answers: pd.DataFrame, respondents: pd.DataFrame, *, current_wave: str, previous_wave: str, k: int | None = None
) -> pd.DataFrame:
    """Change of each area's "the policy is clear" item from ``previous_wave`` to ``current_wave``:
    :func:`analytics.survey.wave_change` at item level (Welch t-test, Benjamini-Hochberg over the items).

    Returns
    -------
    DataFrame
        The columns of :func:`~analytics.survey.wave_change` (``item_id, previous_wave, current_wave,
        n_previous, n_current, mean_previous, mean_current, change, ci_low, ci_high, p_value,
        p_adjusted, significant, suppressed``) plus ``area``.
    """
    items = _clarity_items()
    chosen = answers[answers["item_id"].isin(items["item_id"])]
    table = survey.wave_change(chosen, items, respondents, level="item", current=current_wave,
                               previous=previous_wave, k=k)
    return table.merge(items[["item_id", "area"]], on="item_id", how="left")


def incidents_by_area(
    incidents: pd.DataFrame,
    *,
    current: Period,
    previous: Period,
    timezone: str | None = None,
    k: int | None = None,
    areas: Sequence[str] = adherence.AREAS,
) -> pd.DataFrame:
    """Incidents reported per policy area in two periods of equal length, with an exact test of the change.

    The change test conditions on the total: with equal-length periods and an unchanged rate, the
    current count is Binomial(total, 1/2) (``scipy.stats.binomtest``, two-sided). The current period's
    self-reported count and median time to resolve are the areas' in
    :func:`analytics.metrics.incident_figures_by_period`, as every surface shows them (hidden below ``k``
    incidents, ``k`` resolved, and where other months, quarters or areas would give a hidden count away).

    Parameters
    ----------
    incidents : DataFrame
        ``incident_id, reported_at`` (UTC), ``area``, ``severity``, ``detection``, ``hours_to_report``,
        ``hours_to_resolve`` (:func:`analytics.datasets.incidents`); every incident of the quarters the
        current period touches.

    Returns
    -------
    DataFrame
        One row per area: ``area``, ``n_current``, ``n_previous``, ``change``, ``p_value``,
        ``significant``, ``n_resolved``, ``median_hours_to_resolve`` (NaN where hidden),
        ``self_reported`` (incidents reported by the employee involved, current period; NaN where hidden).

    Examples
    --------
    >>> from analytics.periods import parse_period
    >>> incidents = pd.DataFrame({"incident_id": list("abc"), "area": "conduct", "severity": "high",
    ...     "detection": "detected",
    ...     "reported_at": pd.to_datetime(["2026-05-02", "2026-08-01", "2026-08-09"], utc=True),
    ...     "hours_to_report": 1.0, "hours_to_resolve": [5.0, 7.0, 9.0]})
    >>> out = incidents_by_area(incidents, current=parse_period("2026-Q3"), previous=parse_period("2026-Q2"),
    ...                         timezone="UTC", k=5, areas=["conduct"])
    >>> out[["n_current", "n_previous", "p_value"]].values.tolist()
    [[2.0, 1.0, 1.0]]
    """
    from scipy import stats  # here: its import (~0.4 s) is not the leadership dashboard's to pay

    zone = timezone or config.get_settings().timezone
    k = config.get_settings().k if k is None else k
    now = incidents[current.contains(incidents["reported_at"], zone).to_numpy()]
    before = incidents[previous.contains(incidents["reported_at"], zone).to_numpy()]
    figures = _area_figures(incidents, current, zone, k)
    rows = []
    for area in areas:
        a, b = now[now["area"] == area], before[before["area"] == area]
        total = len(a) + len(b)
        p_value = float(stats.binomtest(len(a), total, 0.5).pvalue) if total else np.nan
        mine = figures.loc[area] if area in figures.index else {"n_resolved": 0, "median_hours_to_resolve": np.nan,
                                                                 "n_self_reported": np.nan}
        rows.append({"area": area, "n_current": len(a), "n_previous": len(b), "change": len(a) - len(b),
                     "p_value": p_value, "significant": bool(total and p_value < 0.05),
                     "n_resolved": int(mine["n_resolved"]),
                     "median_hours_to_resolve": float(mine["median_hours_to_resolve"]),
                     "self_reported": float(mine["n_self_reported"])})
    return pd.DataFrame(rows)


def _area_figures(incidents: pd.DataFrame, period: Period, timezone: str, k: int) -> pd.DataFrame:
    """The areas' figures of ``period`` in :func:`analytics.metrics.incident_figures_by_period` (every surface's),
    indexed by area; ``incidents``: at least those of the quarters ``period`` touches.

    A free range is cut at any day: two ranges a day apart, each showing its own figures, would give away the
    day's incidents (self-reported or not, their times to resolve). So, as the headline pools a range from the
    period tables' months, a range's self-reported count is its whole months' (NA where a month hides it, or
    where the range cuts a month), and its median is not shown (the months' medians do not give it).
    """
    columns = ["n_resolved", "median_hours_to_resolve", "n_self_reported"]
    months = local_months(incidents["reported_at"], timezone)
    touched = period_labels(pd.Series(period.months), "quarter")
    inside_quarters = period_labels(months, "quarter").isin(touched).to_numpy()
    incidents = incidents.assign(month=period_labels(months, "month"))[inside_quarters]
    if incidents.empty:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="area"))
    figures = incident_figures_by_period(incidents, k=k)
    areas = figures[(figures["area"] != ALL) & (figures["severity"] == ALL)]
    if period.kind != "custom":
        return areas[areas["period"] == period.label].set_index("area")[columns]
    inside = incidents[period.contains(incidents["reported_at"], timezone).to_numpy()]
    whole_months = period.start.day == 1 and period.end.day == 1
    self_reported = areas[areas["period"].isin([f"{month:%Y-%m}" for month in period.months])].groupby("area")[
        "n_self_reported"].agg(lambda counts: counts.sum() if whole_months and counts.notna().all() else np.nan)
    return pd.DataFrame({"n_resolved": inside.groupby("area")["hours_to_resolve"].count(),
                         "median_hours_to_resolve": np.nan, "n_self_reported": self_reported},
                        index=self_reported.index)[columns].fillna({"n_resolved": 0})


# --- survey waves of a period ------------------------------------------------------------------------

def survey_waves(
    respondents: pd.DataFrame, *, current: Period, previous: Period, timezone: str | None = None
) -> tuple[str | None, str | None]:
    """The survey waves that speak for a period and for its previous period.

    A period's wave is the one whose finished responses fall in it (the largest, if several); the
    previous period's, else the wave that started before the current one (a month's report compares
    with the last wave). ``None`` where there is none.

    Examples
    --------
    >>> from analytics.periods import parse_period
    >>> respondents = pd.DataFrame({"wave": ["2026-Q2", "2026-Q3"], "finished": True,
    ...     "submitted_at": pd.to_datetime(["2026-05-11", "2026-08-10"], utc=True)})
    >>> survey_waves(respondents, current=parse_period("2026-08"), previous=parse_period("2026-07"), timezone="UTC")
    ('2026-Q3', '2026-Q2')
    """
    zone = timezone or config.get_settings().timezone
    wave = wave_of(respondents, current, timezone=zone)
    return wave, wave_of(respondents, previous, timezone=zone) or _wave_before(respondents, wave)


def wave_of(respondents: pd.DataFrame, period: Period, *, timezone: str | None = None) -> str | None:
    """The survey wave whose finished responses fall in ``period`` (the largest, if several); None if none do.

    >>> from analytics.periods import parse_period
    >>> respondents = pd.DataFrame({"wave": ["2026-Q2", "2026-Q3", "2026-Q3"], "finished": True,
    ...     "submitted_at": pd.to_datetime(["2026-06-29", "2026-07-02", "2026-07-03"], utc=True)})
    >>> wave_of(respondents, parse_period("2026-Q3"), timezone="UTC"), wave_of(respondents, parse_period("2026-10"))
    ('2026-Q3', None)
    """
    timezone = timezone or config.get_settings().timezone
    inside = respondents[period.contains(respondents["submitted_at"], timezone).to_numpy()
                         & respondents["finished"].astype("boolean").fillna(False).to_numpy(bool)]
    if inside.empty:
        return None
    return str(inside["wave"].value_counts().idxmax())


def _wave_before(respondents: pd.DataFrame, wave: str | None) -> str | None:
    if wave is None:
        return None
    starts = respondents.groupby("wave")["submitted_at"].min().sort_values()
    order = list(starts.index.astype(str))
    position = order.index(wave) if wave in order else 0
    return order[position - 1] if position > 0 else None


# --- the evidence per area ----------------------------------------------------------------------------

def evidence_table(
    adherence_by_area: pd.DataFrame,
    clarity: pd.DataFrame,
    changes: pd.DataFrame,
    incidents: pd.DataFrame,
    *,
    wave: str | None,
) -> pd.DataFrame:
    """One row per area: the three evidence lines side by side, with the direction of each change.

    Parameters
    ----------
    adherence_by_area : DataFrame
        :func:`area_adherence`.
    clarity : DataFrame
        :func:`clarity_by_wave` (the row of ``wave`` is used; a suppressed one counts as no answer).
    changes : DataFrame
        :func:`clarity_change` (may be empty: no earlier wave).
    incidents : DataFrame
        :func:`incidents_by_area`.
    wave : str or None
        The current survey wave.

    Returns
    -------
    DataFrame
        One row per area: ``area, has_rules, n_posts, n_breaching`` (0 without rules), ``breach_rate,
        breach_low, breach_high, adherence_delta, adherence_sig, adherence_p, n_respondents, n_favourable,
        favourable, clarity_low, clarity_high, clarity_delta, clarity_p, clarity_sig, n_incidents,
        n_previous, incident_p, incident_sig`` and ``adherence_change, clarity_change, incident_change``
        (-1 significantly better, 0 no clear change, +1 significantly worse), the input of
        :func:`areas_to_revise`.
    """
    frame = adherence_by_area.assign(breach_low=1 - adherence_by_area["ci_high"],
                                     breach_high=1 - adherence_by_area["ci_low"])[[
        "area", "has_rules", "n_posts", "n_breaching", "breach_rate", "breach_low", "breach_high", "change",
        "significant", "p_value"]].rename(columns={"change": "adherence_delta", "significant": "adherence_sig",
                                                 "p_value": "adherence_p"})
    if wave is not None and len(clarity):
        now = clarity[(clarity["wave"] == wave) & ~clarity["suppressed"].astype(bool)]
        frame = frame.merge(now[["area", "n", "n_favourable", "favourable", "ci_low", "ci_high"]]
                            .rename(columns={"n": "n_respondents", "ci_low": "clarity_low", "ci_high": "clarity_high"}),
                            on="area", how="left")
    else:
        frame = frame.assign(n_respondents=np.nan, n_favourable=np.nan, favourable=np.nan, clarity_low=np.nan,
                             clarity_high=np.nan)
    if len(changes):
        frame = frame.merge(changes[["area", "change", "p_adjusted", "significant"]]
                            .rename(columns={"change": "clarity_delta", "p_adjusted": "clarity_p",
                                             "significant": "clarity_sig"}), on="area", how="left")
    else:
        frame = frame.assign(clarity_delta=np.nan, clarity_p=np.nan, clarity_sig=pd.NA)
    frame = frame.merge(incidents[["area", "n_current", "n_previous", "p_value", "significant"]]
                        .rename(columns={"n_current": "n_incidents", "p_value": "incident_p",
                                         "significant": "incident_sig"}), on="area", how="left")

    def direction(significant: pd.Series, delta: pd.Series, worse_when_positive: bool) -> np.ndarray:
        sig = significant.astype("boolean").fillna(False).to_numpy(bool)
        sign = np.sign(delta.fillna(0).to_numpy(float)) * (1 if worse_when_positive else -1)
        return np.where(sig, sign, 0).astype(int)

    frame["adherence_change"] = direction(frame["adherence_sig"], frame["adherence_delta"], False)
    frame["clarity_change"] = direction(frame["clarity_sig"], frame["clarity_delta"], False)
    frame["incident_change"] = direction(frame["incident_sig"], frame["n_incidents"] - frame["n_previous"], True)
    frame["n_posts"] = frame["n_posts"].where(frame["has_rules"], 0.0)
    frame["n_breaching"] = frame["n_breaching"].where(frame["has_rules"], 0.0)
    return frame


def area_evidence(
    *,
    period: Period,
    previous: Period | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    warehouse_file: str | os.PathLike[str] | None = None,
    k: int | None = None,
) -> pd.DataFrame:
    """The evidence per policy area for ``period`` against ``previous`` (default the preceding period of
    equal length), read from the warehouse: :func:`evidence_table` of :func:`area_adherence`,
    :func:`clarity_by_wave`, :func:`clarity_change` (waves from :func:`survey_waves`) and
    :func:`incidents_by_area`.

    Returns
    -------
    DataFrame
        The columns of :func:`evidence_table` plus ``period, previous_period, wave, previous_wave``
        (labels; a wave is ``None`` where there is none) and ``last_changed`` (the last policy version that
        changed the area by the end of ``period``, and its date; ``""`` if none). A ``previous`` period
        before the first employee post is no period of zeros: its comparisons are NaN and count as no change.
    """
    previous = previous or period.previous()
    settings = config.get_settings()
    k = settings.k if k is None else k
    with datasets._connection(con, warehouse_file) as c:
        # the months of the two periods only: the whole history was read for them (880,000 posts, 0.6 s, a
        # quarter chosen on a dashboard over a million posts)
        months = {"since": min(period, previous, key=lambda p: p.start),
                  "through": max(period, previous, key=lambda p: p.end)}
        posts = datasets.employee_posts(**months, columns=_ADHERENCE_POST_COLUMNS, con=c)
        findings = datasets.employee_findings(**months, con=c)
        incidents = datasets.incidents(con=c)
        respondents = datasets.respondents(con=c)
        answers = datasets.survey_answers(con=c)
        versions = datasets.policy_revisions(con=c)
    wave, previous_wave = survey_waves(respondents, current=period, previous=previous, timezone=settings.timezone)
    changes = (clarity_change(answers, respondents, current_wave=wave, previous_wave=previous_wave, k=k)
               if wave and previous_wave else pd.DataFrame())
    frame = evidence_table(
        area_adherence(posts, findings, current=period, previous=previous, timezone=settings.timezone),
        clarity_by_wave(answers, respondents, k=k), changes,
        incidents_by_area(incidents, current=period, previous=previous, timezone=settings.timezone, k=k),
        wave=wave)
    if not previous.contains(posts["published_at"], settings.timezone).any():
        # before the data begins: 14 incidents against "0" was a significant rise, +10 points to the score
        frame = frame.assign(adherence_delta=np.nan, adherence_sig=pd.NA, adherence_p=np.nan, n_previous=np.nan,
                             incident_p=np.nan, incident_sig=pd.NA, adherence_change=0, incident_change=0)
    return frame.assign(period=period.label, previous_period=previous.label, wave=wave, previous_wave=previous_wave,
                        last_changed=[_last_changed(versions, area, pd.Timestamp(period.end))
                                      for area in frame["area"]])


def _last_changed(versions: pd.DataFrame, area: str, end: pd.Timestamp) -> str:
    # a period reviewed after later revisions says what was in force then
    changed = versions[versions["areas_changed"].fillna("").str.split(";").map(lambda a: area in a)
                       & (pd.to_datetime(versions["effective_on"]) < end)]
    if changed.empty:
        return ""
    last = changed.iloc[-1]
    return f"{last['version']} ({pd.Timestamp(last['effective_on']):%d %b %Y})"


def evidence_sentence(row: Mapping[str, Any]) -> str:
    """One area's evidence in words: a row of :func:`area_evidence`.

    Examples
    --------
    >>> row = {"has_rules": True, "breach_rate": 0.031, "breach_low": 0.022, "breach_high": 0.043, "n_posts": 812,
    ...        "adherence_delta": -0.012, "adherence_p": 0.04, "favourable": np.nan, "n_incidents": 3,
    ...        "n_previous": 1, "previous_period": "2026-Q2", "previous_wave": None, "last_changed": ""}
    >>> print(evidence_sentence(row))
    3.1% of employee posts broke one of its rules (95% CI 2.2% to 4.3%; n = 812), +1.2 points vs 2026-Q2
    (p = 0.040); no survey answer on its clarity in this period; 3 incidents (1 in 2026-Q2).
    """
    previous, previous_wave = row["previous_period"], row.get("previous_wave")
    parts = []
    before = f"no data for {previous}"
    if row["has_rules"]:
        compared = (f"{insights.format_points(-row['adherence_delta'])} vs {previous} "
                    f"({insights.format_p(row['adherence_p'])})" if pd.notna(row["adherence_delta"]) else before)
        parts.append(f"{insights.format_percent(row['breach_rate'], 1)} of employee posts broke one of its rules "
                     f"({insights.format_ci(row['breach_low'], row['breach_high'], scale='rate', digits=1)}; "
                     f"n = {insights.format_number(row['n_posts'])}), {compared}")
    else:
        parts.append("no monitoring rule covers it")
    if pd.notna(row.get("favourable")):
        change = (f", {insights.format_signed(row['clarity_delta'])} on the 1–5 scale vs {previous_wave} (BH-adjusted "
                  f"{insights.format_p(row['clarity_p'])})" if pd.notna(row.get("clarity_delta")) else "")
        parts.append(f"{insights.format_percent(1 - row['favourable'])} do not agree it is clearly explained (n = "
                     f"{int(row['n_respondents'])}; favourable {insights.format_percent(row['favourable'])}, "
                     f"{insights.format_ci(row['clarity_low'], row['clarity_high'], scale='rate', digits=1)})"
                     f"{change}")
    else:
        parts.append("no survey answer on its clarity in this period")
    then = before if pd.isna(row["n_previous"]) else f"{int(row['n_previous'])} in {previous}"
    parts.append(f"{insights.format_count(row['n_incidents'], 'incident')} ({then})")
    if row.get("last_changed"):
        parts.append(f"last revised in version {row['last_changed']}")
    return "; ".join(parts) + "."


# --- the ranking ---------------------------------------------------------------------------------------

def areas_to_revise(
    evidence: pd.DataFrame,
    *,
    change_weight: float = CHANGE_WEIGHT,
    simulations: int = SIMULATIONS,
    seed: int = SEED,
) -> pd.DataFrame:
    """Rank policy areas by a transparent "needs revision" score, with how sure the ranking is.

    For each area three concern components, each scaled 0-1 by dividing by the largest area's value:

    * adherence: the share of employee posts breaking one of the area's rules (``n_breaching / n_posts``);
    * clarity: the share of respondents *not* favourable on the area's "the policy is clear" item
      (``1 - n_favourable / n_respondents``);
    * incidents: incidents of the area reported in the period, divided by the largest area's count or by
      :data:`FEWEST_TELLING_INCIDENTS` if that is more: below it no area's count is significantly more than
      none (exact binomial test), so one incident against none is not a whole concern against nothing.

    ``score = 100 * (mean of the three components + change_weight * (worse - better))``, where ``worse``
    (``better``) counts the evidence lines that changed significantly for the worse (better) since the
    previous period: adherence (two-proportion test, p < 0.05), clarity (wave change, BH-adjusted
    p < 0.05) and incidents (exact binomial test, p < 0.05). An area without rules or incidents
    contributes 0 for that component (nothing observed against it).

    How sure: the three components are re-drawn ``simulations`` times from their sampling
    distributions given the data (Jeffreys posteriors: Beta(x + 1/2, n - x + 1/2) for the two shares,
    Gamma(count + 1/2) for incidents), the score and ranks recomputed, and ``rank_probability`` is the
    share of draws in which the area ranks at its place or higher. ``sure`` at 80 % or more,
    ``fairly sure`` at 50 %, else ``unsure``; the last of two or more areas is ``last place`` (every draw
    ranks it there or higher).

    Parameters
    ----------
    evidence : DataFrame
        One row per area: ``area``, ``n_posts``, ``n_breaching``, ``n_respondents``, ``n_favourable``,
        ``n_incidents``, ``adherence_change`` and ``clarity_change`` and ``incident_change`` (each -1
        significantly better, 0 no clear change, +1 significantly worse); :func:`area_evidence` gives it.

    Returns
    -------
    DataFrame
        One row per area, best candidate first: ``rank``, ``area``, ``score``, ``score_low``,
        ``score_high`` (2.5 and 97.5 percentiles of the simulated scores), ``adherence_component``,
        ``clarity_component``, ``incident_component``, ``change_points`` (score points from changes),
        ``rank_probability``, ``sureness``.

    Examples
    --------
    >>> evidence = pd.DataFrame({"area": ["a", "b"], "n_posts": [1000, 1000], "n_breaching": [100, 10],
    ...     "n_respondents": [150, 150], "n_favourable": [60, 120], "n_incidents": [9, 1],
    ...     "adherence_change": [1, 0], "clarity_change": [0, 0], "incident_change": [0, 0]})
    >>> out = areas_to_revise(evidence, simulations=500)
    >>> out[["rank", "area", "score", "sureness"]].round(1).values.tolist()
    [[1, 'a', 110.0, 'sure'], [2, 'b', 18.1, 'last place']]
    """
    needed = ["area", "n_posts", "n_breaching", "n_respondents", "n_favourable", "n_incidents",
              "adherence_change", "clarity_change", "incident_change"]
    missing = [c for c in needed if c not in evidence.columns]
    if missing:
        raise ValueError(f"areas_to_revise: evidence lacks columns {missing}; see the docstring for the layout.")
    if simulations < 100:
        raise ValueError(f"simulations = {simulations}; use at least 100 draws for a stable probability.")
    frame = evidence[needed].reset_index(drop=True)
    n_posts = frame["n_posts"].fillna(0).to_numpy(float)
    breaching = frame["n_breaching"].fillna(0).to_numpy(float)
    respondents = frame["n_respondents"].fillna(0).to_numpy(float)
    unfavourable = respondents - frame["n_favourable"].fillna(0).to_numpy(float)
    counts = frame["n_incidents"].fillna(0).to_numpy(float)
    changes = frame[["adherence_change", "clarity_change", "incident_change"]].fillna(0).to_numpy(float)
    change_points = 100 * change_weight * changes.sum(axis=1)

    def shares(x: np.ndarray, n: np.ndarray) -> np.ndarray:
        return np.divide(x, n, out=np.zeros_like(x), where=n > 0)

    observed = np.vstack([shares(breaching, n_posts), shares(unfavourable, respondents), counts])
    floors = np.array([[0.0], [0.0], [FEWEST_TELLING_INCIDENTS]])
    components = _scaled(observed[None], floors)[0]
    score = 100 * components.mean(axis=0) + change_points

    rng = np.random.default_rng(seed)
    draws = np.empty((simulations, 3, len(frame)))
    for j, (x, n) in enumerate(((breaching, n_posts), (unfavourable, respondents))):
        sampled = rng.beta(x + 0.5, np.maximum(n - x, 0) + 0.5, size=(simulations, len(frame)))
        draws[:, j] = np.where(n > 0, sampled, 0.0)
    draws[:, 2] = rng.gamma(counts + 0.5, size=(simulations, len(frame)))
    simulated = 100 * _scaled(draws, floors).mean(axis=1) + change_points
    order = np.argsort(-score, kind="stable")
    rank = np.empty(len(frame), dtype=int)
    rank[order] = np.arange(1, len(frame) + 1)
    simulated_rank = (-simulated).argsort(axis=1, kind="stable").argsort(axis=1) + 1
    probability = (simulated_rank <= rank).mean(axis=0)
    out = pd.DataFrame({
        "rank": rank, "area": frame["area"], "score": score,
        "score_low": np.percentile(simulated, 2.5, axis=0), "score_high": np.percentile(simulated, 97.5, axis=0),
        "adherence_component": components[0], "clarity_component": components[1],
        "incident_component": components[2], "change_points": change_points,
        "rank_probability": probability,
        # the last place is where every draw ranks it or higher: no question of sureness there
        "sureness": np.where((rank == len(frame)) & (len(frame) > 1), LAST_PLACE, np.where(
            probability >= 0.8, "sure", np.where(probability >= 0.5, "fairly sure", "unsure"))),
    })
    return out.sort_values("rank", ignore_index=True)


def how_sure(rank_probability: float, sureness: str) -> str:
    """How sure a place in :func:`areas_to_revise` is, in words, as a reader gets it.

    >>> how_sure(0.93, "sure"), how_sure(1.0, LAST_PLACE)
    ('sure (93% of re-draws rank it here or higher)', 'last place')
    """
    if sureness == LAST_PLACE:
        return LAST_PLACE
    return f"{sureness} ({rank_probability:.0%} of re-draws rank it here or higher)"


def _scaled(values: np.ndarray, floors: np.ndarray) -> np.ndarray:
    """Divide each component (axis -2) by its largest area (axis -1), or by its floor (``floors``, one per
    component) when that is more; an all-zero component stays 0."""
    top = np.maximum(values.max(axis=-1, keepdims=True), floors)
    return np.divide(values, top, out=np.zeros_like(values), where=top > 0)


def revision_ranking(evidence: pd.DataFrame) -> pd.DataFrame:
    """The "areas to revise" ranking every surface shows: :func:`areas_to_revise` of the evidence of
    :func:`area_evidence`, with each area's :func:`evidence_sentence`.

    Returns
    -------
    DataFrame
        The columns of :func:`areas_to_revise` (``rank, area, score, score_low, score_high,
        adherence_component, clarity_component, incident_component, change_points, rank_probability,
        sureness``) plus ``evidence`` (the sentence), most urgent first.
    """
    sentences = {row["area"]: evidence_sentence(row) for row in evidence.to_dict("records")}
    ranking = areas_to_revise(evidence)
    return ranking.assign(evidence=ranking["area"].map(sentences))
