"""The analytics recover every effect the sample generator planted (truth.json), in each estimator's
own terms: the 95 % CI must contain the planted value and exclude "no effect"."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from analytics import datasets, survey, trends, warehouse
from analytics.codebook import load_codebook


def _contains(row: pd.Series, truth: float, *, null: float) -> None:
    low, high = float(row["ci_low"]), float(row["ci_high"])
    assert low <= truth <= high, f"95% CI [{low:.4f}, {high:.4f}] misses the planted {truth:.4f}"
    assert not low <= null <= high, f"95% CI [{low:.4f}, {high:.4f}] includes {null} (no effect)"


def test_revision_raises_adherence_by_the_planted_level_change(sample_warehouse, sample_truth):
    planted = sample_truth["revision"]
    revisions = datasets.policy_revisions(warehouse_file=sample_warehouse)
    series = datasets.metric_series("adherence_rate", warehouse_file=sample_warehouse)
    its = trends.interrupted_time_series(series, value="value", weight="n",
                                         interruptions=revisions["effective_on"].iloc[1:].tolist())
    row = its[its["interruption"] == pd.Timestamp(planted["effective_on"])].iloc[0]
    _contains(row.rename({"level_ci_low": "ci_low", "level_ci_high": "ci_high"}),
              planted["adherence_level_change"], null=0.0)


@pytest.fixture(scope="module")
def training(sample_warehouse, sample_truth):
    panel = datasets.employee_post_panel(warehouse_file=sample_warehouse)
    start = sample_truth["training"]["rollout"].split("..")[0].strip()
    result = trends.training_effect(panel, outcome="violation", trained="trained", unit="author_key",
                                    time="published_at", rollout_start=start, covariates="department")
    return result.set_index("estimator")


def test_training_lowers_violation_odds_by_the_planted_ratio(training, sample_truth):
    _contains(training.loc["logistic"], sample_truth["training"]["odds_ratio"], null=1.0)


def test_training_difference_in_differences_recovers_the_planted_risk_difference(training, sample_truth):
    _contains(training.loc["did_lpm"], sample_truth["training"]["violation_risk_difference"], null=0.0)


def test_the_low_department_scores_lower_on_every_construct(sample_warehouse, sample_truth):
    planted = sample_truth["survey"]
    with warehouse.read_only(sample_warehouse) as con:
        respondents = con.execute("SELECT * FROM respondents").df()
        answers = con.execute("SELECT * FROM survey_answers WHERE mapped").df()
    gaps = survey.department_gap(answers, load_codebook().items_frame(), respondents)
    low = gaps[gaps["department"] == planted["low_department"]].set_index("construct")
    for construct, gap in planted["construct_gaps"].items():
        _contains(low.loc[construct], gap, null=0.0)


def test_sentiment_peaks_in_december_by_the_planted_lift(sample_warehouse, sample_truth):
    planted = sample_truth["sentiment_seasonality"]
    series = datasets.metric_series("employee_sentiment", warehouse_file=sample_warehouse)
    lift = trends.seasonal_effect(series, value="value", weight="n", month_of_year=planted["peak_month"]).iloc[0]
    _contains(lift, planted["compound_lift_by_population"]["employee"], null=0.0)


def test_every_planted_confidentiality_leak_is_found(sample_warehouse, sample_truth):
    con = duckdb.connect(str(sample_warehouse), read_only=True)
    try:
        found = con.execute("SELECT DISTINCT p.post_id, f.rule_id FROM post_findings f JOIN posts p USING (post_uid) "
                            "WHERE f.area = 'confidentiality'").df()
    finally:
        con.close()
    kinds = {"donor_name": "donor_name", "email": "email", "phone": "phone", "gift_amount": "gift_amount"}
    hits = set(zip(found["post_id"], found["rule_id"], strict=True))
    missed = [leak for leak in sample_truth["leaks"] if (str(leak["post_id"]), kinds[leak["kind"]]) not in hits]
    assert len(missed) <= 0.05 * len(sample_truth["leaks"]), f"{len(missed)} planted leaks missed, e.g. {missed[:3]}"
