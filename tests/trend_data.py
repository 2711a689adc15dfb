"""Synthetic employee posts following the data-generating process of /work/notes/truth.md.

Violation probability per employee post is logistic,
``p = expit(a + b_dept + g * after_revision_2_0 + d * trained)``, with a revision on 2025-04-01
(g < 0 lowers violations) and half of each department trained between 2026-01-15 and 2026-02-28
(``exp(d) = 0.45``). Sentiment (a stand-in for the VADER compound) has a linear trend and a December lift.
Every truth is computed the way truth.md states it, from the generator's own probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit, logit

TZ = "Europe/London"
MONTHS = pd.period_range("2024-10", "2026-09", freq="M")
REVISION = "2025-04-01"
ROLLOUT_START = "2026-01-15"
ROLLOUT_END = "2026-02-28"
DEPARTMENT_EFFECTS = {"Fundraising": 0.4, "Programmes": -0.2, "Communications": 0.15, "Finance": -0.35,
                      "Operations": 0.0}
BASELINE = logit(0.24)
REVISION_EFFECT = -0.5
TRAINING_ODDS_RATIO = 0.45
SENTIMENT_BASE = 0.18
SENTIMENT_SLOPE = 0.008
DECEMBER_LIFT = 0.15
SENTIMENT_SD = 0.35


@dataclass(frozen=True)
class Sample:
    posts: pd.DataFrame
    adherence_level_change: float
    odds_ratio: float
    did_risk_difference: float
    compound_lift: float
    sentiment_slope: float


def _local(day: str) -> pd.Timestamp:
    return pd.Timestamp(day, tz=TZ)


def simulate(seed: int = 20250401, n_employees: int = 200, posts_per_month: float = 2.0) -> Sample:
    rng = np.random.default_rng(seed)
    departments = np.array(list(DEPARTMENT_EFFECTS))
    employees = pd.DataFrame({
        "employee": [f"e{i:03d}" for i in range(n_employees)],
        "department": departments[np.arange(n_employees) % len(departments)],
    })
    # Half of each department, at random, completes the module during the rollout.
    employees["trained_group"] = False
    for _, members in employees.groupby("department").groups.items():
        chosen = rng.choice(np.asarray(members), size=len(members) // 2, replace=False)
        employees.loc[chosen, "trained_group"] = True
    rollout_start, rollout_end = _local(ROLLOUT_START), _local(ROLLOUT_END) + pd.Timedelta(days=1)
    span = (rollout_end - rollout_start).total_seconds()
    completion = rollout_start + pd.to_timedelta(rng.uniform(0, span, n_employees), unit="s")
    employees["completed_at"] = pd.Series(completion.tz_convert("UTC")).where(employees["trained_group"])

    frames = []
    for index, month in enumerate(MONTHS):
        start = month.to_timestamp().tz_localize(TZ)
        end = (month + 1).to_timestamp().tz_localize(TZ)
        counts = rng.poisson(posts_per_month, n_employees)
        authors = np.repeat(np.arange(n_employees), counts)
        offsets = rng.uniform(0, (end - start).total_seconds(), len(authors))
        frames.append(pd.DataFrame({
            "author": authors,
            "published_at": (start + pd.to_timedelta(offsets, unit="s")).tz_convert("UTC"),
            "month_index": index,
            "month": month.to_timestamp(),
        }))
    posts = pd.concat(frames, ignore_index=True)
    posts = posts.join(employees, on="author").drop(columns="author")
    posts["after_revision"] = posts["published_at"] >= _local(REVISION)
    posts["trained"] = (posts["published_at"] > posts["completed_at"]).fillna(False).astype(bool)
    linear = (BASELINE + posts["department"].map(DEPARTMENT_EFFECTS).astype(float)
              + REVISION_EFFECT * posts["after_revision"])
    posts["p_untrained"] = expit(linear)
    posts["p"] = expit(linear + np.log(TRAINING_ODDS_RATIO) * posts["trained"])
    posts["violation"] = rng.random(len(posts)) < posts["p"]
    posts["adherent"] = ~posts["violation"]
    december = (posts["month"].dt.month == 12).astype(float)
    posts["expected_compound"] = SENTIMENT_BASE + SENTIMENT_SLOPE * posts["month_index"] + DECEMBER_LIFT * december
    posts["compound"] = posts["expected_compound"] + rng.normal(0, SENTIMENT_SD, len(posts))

    # Truths, in each estimator's own terms (truth.md).
    revision_month = pd.Timestamp(REVISION)
    six_after = posts["month"].between(revision_month, revision_month + pd.DateOffset(months=5))
    six_before = posts["month"].between(revision_month - pd.DateOffset(months=6),
                                        revision_month - pd.DateOffset(months=1))
    level_change = (1 - posts.loc[six_after, "p"]).mean() - (1 - posts.loc[six_before, "p"]).mean()
    after_rollout = posts["published_at"] >= rollout_start

    def change(group: pd.Series) -> float:
        return posts.loc[group & after_rollout, "p"].mean() - posts.loc[group & ~after_rollout, "p"].mean()

    did = change(posts["trained_group"]) - change(~posts["trained_group"])
    monthly_expected = posts.groupby("month_index")["expected_compound"].first()
    slope = float(np.polyfit(monthly_expected.index.to_numpy(float), monthly_expected.to_numpy(), 1)[0])
    return Sample(
        posts=posts,
        adherence_level_change=float(level_change),
        odds_ratio=TRAINING_ODDS_RATIO,
        did_risk_difference=float(did),
        compound_lift=DECEMBER_LIFT,
        sentiment_slope=slope,
    )


def event_time_effects(posts: pd.DataFrame) -> pd.Series:
    """True average effect of training on violation risk per month since training (trained employees)."""
    treated = posts[posts["completed_at"].notna()]
    completed_month = (treated["completed_at"].dt.tz_convert(TZ).dt.tz_localize(None).dt.to_period("M")
                       .dt.to_timestamp())
    relative = ((treated["month"].dt.year - completed_month.dt.year) * 12
                + treated["month"].dt.month - completed_month.dt.month)
    return (treated["p"] - treated["p_untrained"]).groupby(relative).mean()
