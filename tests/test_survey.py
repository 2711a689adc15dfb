"""Tests of analytics.survey: planted effects recovered from a synthetic survey (95% CI contains the
exact truth and excludes zero), reference cross-checks (scipy, statsmodels, formulas written here),
small-group suppression, reverse coding, the min_share rule and the exclusion of unfinished responses."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint
from survey_data import (
    CONSTRUCT_ITEMS,
    DEPARTMENTS,
    DRIVER_NAMES,
    LOW_DEPARTMENT,
    NPS_ITEM,
    WAVES,
    employed_at_midpoints,
    make_driver_frame,
    make_survey,
    truth_department_gap,
    truth_enps,
    truth_favourable,
    truth_response_rate,
    truth_standardized_betas,
    truth_wave_change,
)

from analytics import survey as sv

K = 5
LAST, BEFORE_LAST = WAVES["wave"].iloc[-1], WAVES["wave"].iloc[-2]


@pytest.fixture(scope="module")
def data():
    return make_survey(seed=2)


def recoded(data, *, finished_only: bool = True) -> pd.DataFrame:
    """Likert answers with reverse coding applied, written independently of the module."""
    frame = data.answers.merge(data.items, on="item_id")
    frame = frame.loc[(frame["kind"] == "likert") & frame["value"].notna()].copy()
    frame["value"] = np.where(frame["reverse"], 6 - frame["value"], frame["value"])
    frame = frame.merge(data.respondents, on="response_id")
    return frame.loc[frame["finished"]] if finished_only else frame


def contains(low: float, high: float, value: float) -> bool:
    return bool(low <= value <= high)


def excludes_zero(low: float, high: float) -> bool:
    return bool(low > 0 or high < 0)


# --- headcount and response rates ---------------------------------------------------------------------

def test_headcount_counts_people_employed_at_the_wave_midpoint():
    employees = pd.DataFrame({
        "employee_key": list("abcdef"),
        "department": ["Finance"] * 5 + [None],
        # wave 2026-07-01 .. 2026-07-31 has its midpoint at 2026-07-16 00:00
        "started_on": ["2026-07-16", "2026-07-17", None, "2020-01-01", "2020-01-01", "2020-01-01"],
        "left_on": [None, None, "2026-07-16", "2026-07-17", None, None],
    })
    waves = pd.DataFrame({"wave": ["2026-07"], "start": ["2026-07-01"], "end": ["2026-07-31"]})
    out = sv.headcount_by_wave(employees, waves)
    # a (starts on the midpoint), d (leaves after it), e; not b (starts later), c (left on it)
    assert out.loc[out["department"] == "Finance", "headcount"].tolist() == [3]
    assert out.loc[out["department"].isna(), "headcount"].tolist() == [1]


def test_headcount_matches_an_independent_count(data):
    out = sv.headcount_by_wave(data.employees, data.waves)
    expected = employed_at_midpoints(data.employees)
    merged = expected.merge(out, on=["department", "wave"], suffixes=("_expected", ""))
    assert len(merged) == len(DEPARTMENTS) * len(WAVES)
    assert (merged["headcount"] == merged["headcount_expected"]).all()


def test_response_rate_ci_contains_the_planted_rate(data):
    headcount = sv.headcount_by_wave(data.employees, data.waves)
    overall = sv.response_rates(data.respondents, headcount, by=(), k=K).iloc[0]
    assert overall["n_responses"] == int(data.respondents["finished"].sum())
    assert overall["headcount"] == headcount["headcount"].sum()
    assert contains(overall["ci_low"], overall["ci_high"], truth_response_rate())
    per_department = sv.response_rates(data.respondents, headcount, by="department", k=K).set_index("department")
    row = per_department.loc[LOW_DEPARTMENT]
    assert contains(row["ci_low"], row["ci_high"], truth_response_rate())


def test_response_rate_interval_is_wilson(data):
    headcount = sv.headcount_by_wave(data.employees, data.waves)
    out = sv.response_rates(data.respondents, headcount, k=K)
    shown = out.loc[~out["suppressed"] & out["headcount"].notna()]
    assert len(shown) >= 12
    low, high = proportion_confint(shown["n_responses"].astype(int), shown["headcount"].astype(int), method="wilson")
    np.testing.assert_allclose(shown["ci_low"], low, rtol=1e-10)
    np.testing.assert_allclose(shown["ci_high"], high, rtol=1e-10)
    np.testing.assert_allclose(shown["response_rate"], shown["n_responses"].astype(float) / shown["headcount"])


def test_response_rates_count_finished_responses_and_keep_unstated_departments(data):
    headcount = sv.headcount_by_wave(data.employees, data.waves)
    out = sv.response_rates(data.respondents, headcount, by="department", k=3)
    finished = data.respondents.loc[data.respondents["finished"]]
    expected = finished["department"].value_counts(dropna=False)
    unstated = out.loc[out["department"].isna()]
    assert len(unstated) == 1 and unstated["n_responses"].iloc[0] == expected[np.nan]
    assert pd.isna(unstated["headcount"].iloc[0])
    with_all = sv.response_rates(data.respondents, headcount, by=(), k=K, include_unfinished=True)
    assert with_all["n_responses"].iloc[0] == len(data.respondents)


# --- construct scores -------------------------------------------------------------------------------------

@pytest.fixture()
def tiny_items():
    return pd.DataFrame({
        "item_id": ["v1", "v2", "v3", "v4", "nps"], "construct": ["voice"] * 4 + [None], "area": "feedback",
        "kind": ["likert"] * 4 + ["nps"], "reverse": [False, True, False, False, False],
        "scale_min": [1, 1, 1, 1, 0], "scale_max": [5, 5, 5, 5, 10], "text": "...",
    })


def test_reverse_coding_is_min_plus_max_minus_value(tiny_items):
    answers = pd.DataFrame({"response_id": ["a"] * 4, "item_id": ["v1", "v2", "v3", "v4"], "value": [5, 1, 4, 4]})
    out = sv.construct_scores(answers, tiny_items)
    # v2 = 1 reversed is 5: (5 + 5 + 4 + 4) / 4
    assert out["score"].tolist() == [4.5]
    seven = tiny_items.assign(scale_max=[7, 7, 7, 7, 10])
    out = sv.construct_scores(answers, seven)
    assert out["score"].tolist() == [(5 + 7 + 4 + 4) / 4]


def test_min_share_decides_who_gets_a_score(tiny_items):
    answers = pd.DataFrame({
        "response_id": ["one", "two", "two", "three", "three", "three"],
        "item_id": ["v1", "v1", "v3", "v1", "v3", "v4"],
        "value": [5, 4, 2, 3, 3, 3],
    })
    default = sv.construct_scores(answers, tiny_items)
    assert default["response_id"].tolist() == ["three", "two"]
    assert default.set_index("response_id")["n_items"].to_dict() == {"three": 3, "two": 2}
    strict = sv.construct_scores(answers, tiny_items, min_share=0.75)
    assert strict["response_id"].tolist() == ["three"]
    with pytest.raises(ValueError, match="min_share"):
        sv.construct_scores(answers, tiny_items, min_share=0)


def test_construct_scores_match_an_independent_computation(data):
    out = sv.construct_scores(data.answers, data.items, respondents=data.respondents)
    frame = recoded(data)
    grouped = frame.groupby(["response_id", "construct"])["value"].agg(["mean", "size"]).reset_index()
    sizes = {c: len(members) for c, members in CONSTRUCT_ITEMS.items()}
    expected = grouped.loc[grouped["size"] >= grouped["construct"].map(sizes) / 2]
    merged = expected.merge(out, on=["response_id", "construct"], how="outer", indicator=True)
    assert (merged["_merge"] == "both").all()
    np.testing.assert_allclose(merged["score"], merged["mean"])


def test_construct_scores_leave_out_unfinished_responses(data):
    unfinished = set(data.respondents.loc[~data.respondents["finished"], "response_id"])
    assert unfinished
    default = sv.construct_scores(data.answers, data.items, respondents=data.respondents)
    assert not set(default["response_id"]) & unfinished
    everyone = sv.construct_scores(data.answers, data.items, respondents=data.respondents, include_unfinished=True)
    assert set(everyone["response_id"]) & unfinished


# --- favourability ------------------------------------------------------------------------------------------

def test_favourability_recovers_planted_shares_including_reverse_items(data):
    out = sv.favourability(data.answers, data.items, data.respondents, by="wave", k=K)
    last = out.loc[out["wave"] == LAST].set_index("item_id")
    # a reverse-coded item: left as asked, its favourable share would be P(answer <= 2), about 0.27
    row = last.loc["safety_blame"]
    assert contains(row["ci_low"], row["ci_high"], truth_favourable(data, "safety", LAST))
    assert excludes_zero(row["ci_low"] - 0.27, row["ci_high"] - 0.27)
    np.testing.assert_allclose(out[["favourable", "neutral", "unfavourable"]].sum(axis=1), 1.0)


def test_favourability_counts_top_boxes_after_reverse_coding(tiny_items):
    answers = pd.DataFrame({
        "response_id": ["a", "a", "b", "b", "c", "c"], "item_id": ["v1", "v2"] * 3, "value": [5, 1, 4, 3, 2, 5],
    })
    respondents = pd.DataFrame({"response_id": list("abc"), "wave": "2026-Q3", "finished": True})
    out = sv.favourability(answers, tiny_items, respondents, k=3).set_index("item_id")
    assert out.loc["v1", ["n_favourable", "favourable"]].tolist() == [2.0, pytest.approx(2 / 3)]
    # v2 raw (1, 3, 5) is (5, 3, 1) after reverse coding
    assert out.loc["v2", ["favourable", "neutral", "unfavourable"]].tolist() == pytest.approx([1 / 3] * 3)
    top3 = sv.favourability(answers, tiny_items.assign(scale_max=[7, 7, 7, 7, 10]), respondents, top=3, k=3)
    # on 1..7 the top 3 boxes are 5-7: v1 (5, 4, 2) -> one favourable
    assert top3.set_index("item_id").loc["v1", "n_favourable"] == 1.0
    construct = sv.favourability(answers, tiny_items, respondents, level="construct", min_share=0.5, k=3)
    # per person: a 2/2, b 1/2, c 0/2 favourable
    assert construct["favourable"].tolist() == [pytest.approx(0.5)]


def test_favourability_wilson_interval_matches_statsmodels(data):
    out = sv.favourability(data.answers, data.items, data.respondents, by="department", k=K)
    shown = out.loc[~out["suppressed"]]
    low, high = proportion_confint(shown["n_favourable"].round().astype(int), shown["n"].astype(int), method="wilson")
    np.testing.assert_allclose(shown["ci_low"], low, rtol=1e-10)
    np.testing.assert_allclose(shown["ci_high"], high, rtol=1e-10)


def test_favourability_leaves_out_unfinished_and_keeps_unstated_departments(data):
    finished_ids = data.respondents.loc[data.respondents["finished"], "response_id"]
    default = sv.favourability(data.answers, data.items, data.respondents, by="department", k=K)
    by_hand = sv.favourability(
        data.answers.loc[data.answers["response_id"].isin(finished_ids)], data.items, data.respondents,
        by="department", k=K, include_unfinished=True,
    )
    pd.testing.assert_frame_equal(default, by_hand)
    everyone = sv.favourability(data.answers, data.items, data.respondents, k=K, include_unfinished=True)
    organisation = sv.favourability(data.answers, data.items, data.respondents, k=K)
    assert (everyone["n"] >= organisation["n"]).all() and (everyone["n"] > organisation["n"]).any()
    unstated = default.loc[default["department"].isna()]
    assert len(unstated) == len(data.items.query("kind == 'likert'"))


# --- eNPS --------------------------------------------------------------------------------------------------

def test_enps_recovers_the_planted_score(data):
    out = sv.enps(data.answers, data.items, data.respondents, k=K).iloc[0]
    values = recoded_nps(data)
    assert out["n"] == len(values)
    assert out["enps"] == pytest.approx(100 * ((values >= 9).mean() - (values <= 6).mean()))
    assert out["promoters"] + out["passives"] + out["detractors"] == pytest.approx(1.0)
    assert contains(out["ci_low"], out["ci_high"], truth_enps())
    assert excludes_zero(out["ci_low"], out["ci_high"])


def recoded_nps(data) -> np.ndarray:
    finished = data.respondents.loc[data.respondents["finished"], "response_id"]
    nps = data.answers.loc[(data.answers["item_id"] == NPS_ITEM) & data.answers["response_id"].isin(finished)]
    return nps["value"].to_numpy()


def test_enps_interval_stays_informative_for_a_group_of_promoters(tiny_items):
    answers = pd.DataFrame({"response_id": list("abcdef"), "item_id": "nps", "value": [10, 9, 10, 9, 9, 10]})
    respondents = pd.DataFrame({"response_id": list("abcdef"), "wave": "2026-Q3", "finished": True})
    out = sv.enps(answers, tiny_items, respondents, k=3).iloc[0]
    assert out["enps"] == 100
    assert out["ci_low"] < 100 and out["ci_high"] == 100


# --- reliability --------------------------------------------------------------------------------------------

def test_cronbach_alpha_matches_direct_and_covariance_definitions(data):
    out = sv.cronbach_alpha(data.answers, data.items, respondents=data.respondents).set_index("construct")
    frame = recoded(data)
    for construct in CONSTRUCT_ITEMS:
        wide = frame.loc[frame["construct"] == construct].pivot(index="response_id", columns="item_id", values="value")
        matrix = wide.dropna().to_numpy()
        n, q = matrix.shape
        direct = q / (q - 1) * (1 - matrix.var(axis=0, ddof=1).sum() / matrix.sum(axis=1).var(ddof=1))
        covariance = np.cov(matrix, rowvar=False)
        pingouin_style = q / (q - 1) * (1 - np.trace(covariance) / covariance.sum())
        row = out.loc[construct]
        assert (row["n_items"], row["n_respondents"]) == (q, n)
        assert row["alpha"] == pytest.approx(direct, rel=1e-10)
        assert row["alpha"] == pytest.approx(pingouin_style, rel=1e-10)
        df1, df2 = n - 1, (n - 1) * (q - 1)
        assert row["ci_low"] == pytest.approx(1 - (1 - direct) * stats.f.isf(0.025, df1, df2), rel=1e-10)
        assert row["ci_high"] == pytest.approx(1 - (1 - direct) * stats.f.isf(0.975, df1, df2), rel=1e-10)
        assert row["ci_low"] < row["alpha"] < row["ci_high"]


def test_cronbach_alpha_uses_reverse_coded_answers(data):
    out = sv.cronbach_alpha(data.answers, data.items, respondents=data.respondents).set_index("construct")
    ignoring_reverse = sv.cronbach_alpha(
        data.answers, data.items.assign(reverse=False), respondents=data.respondents
    ).set_index("construct")
    # a reversed item left as asked correlates negatively with its construct: alpha collapses
    assert out.loc["safety", "alpha"] > 0.7
    assert ignoring_reverse.loc["safety", "alpha"] < out.loc["safety", "alpha"] - 0.3
    assert ignoring_reverse.loc["support", "alpha"] == pytest.approx(out.loc["support", "alpha"])
    pooled = sv.cronbach_alpha(data.answers, data.items, respondents=data.respondents, by_construct=False)
    assert pooled["construct"].tolist() == ["(all)"] and pooled["n_items"].iloc[0] == 13


# --- wave change --------------------------------------------------------------------------------------------

def test_wave_change_recovers_the_planted_change(data):
    out = sv.wave_change(data.answers, data.items, data.respondents, level="construct", k=K).set_index("construct")
    assert (out["previous_wave"] == BEFORE_LAST).all() and (out["current_wave"] == LAST).all()
    trust = out.loc["trust"]
    assert contains(trust["ci_low"], trust["ci_high"], truth_wave_change(data, "trust", BEFORE_LAST, LAST))
    assert excludes_zero(trust["ci_low"], trust["ci_high"]) and trust["significant"]
    # nothing was planted elsewhere: no discovery after the false-discovery-rate adjustment
    assert not out.drop(index="trust")["significant"].any()


def test_wave_change_matches_scipy_welch_and_statsmodels_bh(data):
    out = sv.wave_change(data.answers, data.items, data.respondents, level="item", by="department", k=K)
    shown = out.loc[~out["suppressed"]]
    assert len(shown) >= 40
    frame = recoded(data)
    for row in shown.itertuples():
        same = frame["department"].isna() if pd.isna(row.department) else frame["department"] == row.department
        cell = frame.loc[(frame["item_id"] == row.item_id) & same]
        current = cell.loc[cell["wave"] == LAST, "value"]
        previous = cell.loc[cell["wave"] == BEFORE_LAST, "value"]
        reference = stats.ttest_ind(current, previous, equal_var=False)
        interval = reference.confidence_interval(0.95)
        assert (row.n_current, row.n_previous) == (len(current), len(previous))
        assert row.change == pytest.approx(current.mean() - previous.mean())
        assert row.p_value == pytest.approx(reference.pvalue, rel=1e-8)
        assert (row.ci_low, row.ci_high) == pytest.approx((interval.low, interval.high), rel=1e-8)
    adjusted = multipletests(shown["p_value"].to_numpy(dtype=float), method="fdr_bh")[1]
    np.testing.assert_allclose(shown["p_adjusted"].to_numpy(dtype=float), adjusted, rtol=1e-10)
    assert (shown["significant"] == (shown["p_adjusted"] < 0.05)).all()


def test_wave_change_item_level_and_explicit_waves(data):
    out = sv.wave_change(data.answers, data.items, data.respondents, level="item", k=K,
                         previous=WAVES["wave"].iloc[0], current=LAST).set_index("item_id")
    truth = truth_wave_change(data, "trust", WAVES["wave"].iloc[0], LAST)
    # the reverse-coded trust item moves up like the others once recoded
    row = out.loc["trust_punitive"]
    assert contains(row["ci_low"], row["ci_high"], truth) and excludes_zero(row["ci_low"], row["ci_high"])
    assert (out.loc[[i for i, _ in CONSTRUCT_ITEMS["trust"]], "change"] > 0).all()
    with pytest.raises(ValueError, match="previous"):
        sv.wave_change(data.answers, data.items, data.respondents, previous=LAST, current=LAST)
    with pytest.raises(ValueError, match="no wave before"):
        sv.wave_change(data.answers, data.items, data.respondents, current=WAVES["wave"].iloc[0])


# --- department gap ------------------------------------------------------------------------------------------

def test_department_gap_recovers_the_planted_low_department(data):
    out = sv.department_gap(data.answers, data.items, data.respondents, k=K)
    low = out.loc[out["department"] == LOW_DEPARTMENT].set_index("construct")
    assert set(low.index) == set(CONSTRUCT_ITEMS)
    for construct, row in low.iterrows():
        truth = truth_department_gap(data, LOW_DEPARTMENT, construct)
        assert contains(row["ci_low"], row["ci_high"], truth), construct
        assert excludes_zero(row["ci_low"], row["ci_high"]), construct
    # the low department has the lowest mean on every construct
    lowest = out.loc[out.groupby("construct")["gap"].idxmin(), "department"]
    assert set(lowest) == {LOW_DEPARTMENT}


def test_department_gap_matches_scipy_welch(data):
    out = sv.department_gap(data.answers, data.items, data.respondents, construct="safety", k=K)
    assert out["construct"].unique().tolist() == ["safety"]
    scores = sv.construct_scores(data.answers, data.items, respondents=data.respondents)
    scores = scores.merge(data.respondents, on="response_id")
    scores = scores.loc[(scores["construct"] == "safety") & scores["department"].notna()]
    for row in out.itertuples():
        inside = scores.loc[scores["department"] == row.department, "score"]
        outside = scores.loc[scores["department"] != row.department, "score"]
        reference = stats.ttest_ind(inside, outside, equal_var=False)
        interval = reference.confidence_interval(0.95)
        assert row.n == len(inside)
        assert (row.mean, row.mean_others) == pytest.approx((inside.mean(), outside.mean()))
        assert row.p_value == pytest.approx(reference.pvalue, rel=1e-8)
        assert (row.ci_low, row.ci_high) == pytest.approx((interval.low, interval.high), rel=1e-8)


# --- small-group suppression -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_legal(data):
    """The last wave with exactly three Legal respondents and every department stated."""
    last = data.respondents.loc[(data.respondents["wave"] == LAST) & data.respondents["finished"]
                                & data.respondents["department"].notna()]
    legal = last.loc[last["department"] == "Legal"].iloc[:3]
    respondents = pd.concat([last.loc[last["department"] != "Legal"], legal], ignore_index=True)
    answers = data.answers.loc[data.answers["response_id"].isin(respondents["response_id"])]
    return respondents, answers


def expected_hidden(counts: pd.Series) -> set[str]:
    """The differencing rule, written out: hide every group under K, then the smallest shown groups until
    at least two are hidden and their counts add up to K more than the number hidden."""
    hidden = set(counts.index[counts < K])
    while hidden and (len(hidden) < 2 or counts[sorted(hidden)].sum() < K + len(hidden)):
        hidden.add(counts.drop(sorted(hidden)).idxmin())
    return hidden


def test_small_department_and_a_complementary_cell_are_hidden(data, small_legal):
    respondents, answers = small_legal
    out = sv.favourability(answers, data.items, respondents, by="department", k=K)
    frame = answers.merge(data.items, on="item_id").merge(respondents, on="response_id")
    frame = frame.loc[(frame["kind"] == "likert") & frame["value"].notna()]
    assert respondents["department"].value_counts()["Legal"] == 3
    for item_id, rows in out.groupby("item_id"):
        counts = frame.loc[frame["item_id"] == item_id].groupby("department").size()
        hidden = set(rows.loc[rows["suppressed"], "department"])
        assert hidden == expected_hidden(counts), item_id
        assert "Legal" not in counts or {"Legal", counts.drop("Legal").idxmin()} == hidden
        blanked = rows.loc[rows["suppressed"], ["n", "n_favourable", "favourable", "ci_low", "ci_high"]]
        assert blanked.isna().all().all()
        assert rows.loc[~rows["suppressed"], "n"].min() >= K


def test_small_department_is_hidden_in_every_grouped_output(data, small_legal):
    respondents, answers = small_legal
    gap = sv.department_gap(answers, data.items, respondents, k=K)
    scores = sv.construct_scores(answers, data.items, respondents=respondents).merge(respondents, on="response_id")
    for construct, rows in gap.groupby("construct"):
        counts = scores.loc[scores["construct"] == construct].groupby("department").size()
        assert "Legal" in expected_hidden(counts)
        assert set(rows.loc[rows["suppressed"], "department"]) == expected_hidden(counts)
        assert rows.loc[rows["suppressed"], ["n", "mean", "mean_others", "gap", "p_value"]].isna().all().all()

    nps = sv.enps(answers, data.items, respondents, by="department", k=K).set_index("department")
    assert nps.loc["Legal", "suppressed"] and pd.isna(nps.loc["Legal", "enps"])
    assert nps["suppressed"].sum() == 2

    distribution = sv.likert_distribution(answers, data.items, respondents, by="department", k=K)
    legal = distribution.loc[distribution["department"] == "Legal"]
    assert legal["suppressed"].all() and legal[["n", "share"]].isna().all().all()

    all_waves = pd.concat([data.respondents.loc[data.respondents["wave"] != LAST], respondents])
    all_answers = data.answers.loc[data.answers["response_id"].isin(all_waves["response_id"])]
    change = sv.wave_change(all_answers, data.items, all_waves, level="construct", by="department", k=K)
    for _, rows in change.groupby("construct"):
        hidden = rows.loc[rows["suppressed"]]
        assert "Legal" in set(hidden["department"]) and len(hidden) >= 2
        blanked = ["n_current", "mean_current", "change", "p_value", "p_adjusted", "significant"]
        assert hidden[blanked].isna().all().all()

    headcount = sv.headcount_by_wave(data.employees, data.waves)
    rates = sv.response_rates(respondents, headcount.loc[headcount["wave"] == LAST], k=K)
    assert set(rates.loc[rates["suppressed"], "department"]) == expected_hidden(
        respondents.groupby("department").size()
    )


def test_k_below_the_floor_is_refused(data):
    with pytest.raises(ValueError, match="k = 2"):
        sv.favourability(data.answers, data.items, data.respondents, by="department", k=2)


# --- key drivers ------------------------------------------------------------------------------------------------

def test_key_drivers_recover_planted_standardized_coefficients():
    frame = make_driver_frame()
    out = sv.key_drivers(frame, outcome="trust", drivers=DRIVER_NAMES).set_index("driver")
    for name, truth in zip(DRIVER_NAMES, truth_standardized_betas(), strict=True):
        row = out.loc[name]
        assert contains(row["ci_low"], row["ci_high"], truth), name
        assert excludes_zero(row["ci_low"], row["ci_high"]) == (truth != 0), name
    assert out["relative_weight"].sum() == pytest.approx(1.0)
    assert out["relative_weight"].idxmax() == "safety" and out["relative_weight"].idxmin() == "clarity"


def test_key_drivers_match_statsmodels_ols_on_z_scores():
    frame = make_driver_frame(seed=3, n=300)
    frame.loc[frame.index[:7], "support"] = np.nan
    out = sv.key_drivers(frame, outcome="trust", drivers=DRIVER_NAMES)
    complete = frame[["trust", *DRIVER_NAMES]].dropna()
    z = (complete - complete.mean()) / complete.std(ddof=1)
    fit = sm.OLS(z["trust"], sm.add_constant(z[DRIVER_NAMES])).fit()
    np.testing.assert_allclose(out["beta"], fit.params[DRIVER_NAMES], rtol=1e-8)
    np.testing.assert_allclose(out["p_value"], fit.pvalues[DRIVER_NAMES], rtol=1e-6)
    interval = fit.conf_int(0.05).loc[DRIVER_NAMES]
    np.testing.assert_allclose(out["ci_low"], interval[0], rtol=1e-8)
    np.testing.assert_allclose(out["ci_high"], interval[1], rtol=1e-8)
    assert (out["n"] == len(complete)).all()
    assert out["r_squared"].iloc[0] == pytest.approx(fit.rsquared)


def general_dominance(frame: pd.DataFrame, outcome: str, drivers: list[str]) -> pd.Series:
    """Dominance analysis: each driver's mean gain in R² over all subsets of the others, by subset size."""
    def r2(subset: tuple[str, ...]) -> float:
        if not subset:
            return 0.0
        return sm.OLS(frame[outcome], sm.add_constant(frame[list(subset)])).fit().rsquared

    shares = {}
    for driver in drivers:
        others = [d for d in drivers if d != driver]
        by_size = [
            np.mean([r2((*subset, driver)) - r2(subset) for subset in itertools.combinations(others, size)])
            for size in range(len(others) + 1)
        ]
        shares[driver] = np.mean(by_size)
    total = pd.Series(shares)
    return total / total.sum()


def test_relative_weights_track_dominance_analysis():
    frame = make_driver_frame(seed=5, n=800)
    out = sv.key_drivers(frame, outcome="trust", drivers=DRIVER_NAMES).set_index("driver")
    dominance = general_dominance(frame, "trust", DRIVER_NAMES)
    np.testing.assert_allclose(out["relative_weight"], dominance[out.index], atol=0.02)
    # with uncorrelated drivers relative weights are exactly the squared correlations over R²
    rng = np.random.default_rng(1)
    independent = pd.DataFrame(rng.normal(size=(400, 2)), columns=["a", "b"])
    independent["a"] -= independent["a"].mean()
    independent["b"] = independent["b"] - independent["b"].mean()
    independent["b"] -= independent["a"] * (independent["a"] @ independent["b"]) / (independent["a"] @ independent["a"])
    independent["y"] = independent["a"] + 0.5 * independent["b"] + rng.normal(size=400)
    weights = sv.key_drivers(independent, outcome="y", drivers=["a", "b"]).set_index("driver")
    squared = independent.corr()["y"][["a", "b"]] ** 2
    np.testing.assert_allclose(weights["relative_weight"], squared / squared.sum(), rtol=1e-8)


def test_key_drivers_of_trust_in_the_survey_rank_the_planted_drivers(data):
    scores = sv.construct_scores(data.answers, data.items, respondents=data.respondents)
    wide = scores.pivot(index="response_id", columns="construct", values="score")
    out = sv.key_drivers(wide, outcome="trust", drivers=["safety", "support", "clarity"]).set_index("driver")
    assert out["relative_weight"].sort_values(ascending=False).index.tolist() == ["safety", "support", "clarity"]
    assert out.loc["clarity", "ci_low"] < 0 < out.loc["clarity", "ci_high"]


def test_key_drivers_at_department_by_wave_level(data):
    scores = sv.construct_scores(data.answers, data.items, respondents=data.respondents).merge(
        data.respondents, on="response_id")
    cells = scores.pivot_table(index=["department", "wave"], columns="construct", values="score").reset_index()
    rng = np.random.default_rng(2)
    cells["adherence_rate"] = 0.7 + 0.08 * cells["trust"] + rng.normal(scale=0.01, size=len(cells))
    out = sv.key_drivers(cells, outcome="adherence_rate", drivers=["trust", "clarity"]).set_index("driver")
    assert (out["n"] == len(cells)).all()
    assert out["beta"].idxmax() == "trust" and excludes_zero(out.loc["trust", "ci_low"], out.loc["trust", "ci_high"])


# --- distributions ------------------------------------------------------------------------------------------------

def test_likert_distribution_shares_every_scale_point_as_asked(data):
    out = sv.likert_distribution(data.answers, data.items, data.respondents, by="department", k=K)
    shown = out.loc[~out["suppressed"]]
    points = shown.groupby(["department", "item_id"])["value"].apply(list)
    assert all(values == [1.0, 2.0, 3.0, 4.0, 5.0] for values in points)
    np.testing.assert_allclose(shown.groupby(["department", "item_id"])["share"].sum(), 1.0)
    frame = data.answers.merge(data.respondents, on="response_id")
    cell = frame.loc[frame["finished"] & (frame["department"] == LOW_DEPARTMENT)
                     & (frame["item_id"] == "safety_blame") & frame["value"].notna()]
    expected = cell["value"].value_counts().reindex([1.0, 2.0, 3.0, 4.0, 5.0], fill_value=0)
    got = shown.loc[(shown["department"] == LOW_DEPARTMENT) & (shown["item_id"] == "safety_blame")]
    assert got["n"].tolist() == expected.tolist()
    assert got["label"].tolist()[::4] == ["Strongly disagree", "Strongly agree"]


def test_likert_distribution_fills_unchosen_points_with_zero(tiny_items):
    answers = pd.DataFrame({"response_id": list("abc"), "item_id": "v1", "value": [5, 5, 1]})
    respondents = pd.DataFrame({"response_id": list("abc"), "wave": "2026-Q3", "finished": True})
    out = sv.likert_distribution(answers, tiny_items, respondents, k=3)
    assert out["n"].tolist() == [1, 0, 0, 0, 2]
    assert out["label"].isna().all()


# --- argument checks --------------------------------------------------------------------------------------------

def test_respondents_select_the_responses_analysed(data):
    one_wave = data.respondents.loc[data.respondents["wave"] == LAST]
    out = sv.favourability(data.answers, data.items, one_wave, k=K)
    by_wave = sv.favourability(data.answers, data.items, data.respondents, by="wave", k=K)
    expected = by_wave.loc[by_wave["wave"] == LAST].drop(columns="wave").reset_index(drop=True)
    pd.testing.assert_frame_equal(out, expected)
    renamed = data.respondents.assign(response_id="x-" + data.respondents["response_id"])
    with pytest.raises(ValueError, match="same response_id"):
        sv.favourability(data.answers, data.items, renamed)


def test_arguments_are_checked(data, tiny_items):
    with pytest.raises(ValueError, match="not in respondents"):
        sv.favourability(data.answers, data.items, data.respondents, by="team")
    with pytest.raises(ValueError, match="level"):
        sv.favourability(data.answers, data.items, data.respondents, level="area")
    with pytest.raises(ValueError, match="lacks columns"):
        sv.construct_scores(data.answers.drop(columns="value"), data.items)
    twice = pd.concat([data.answers.iloc[:1], data.answers.iloc[:1]])
    with pytest.raises(ValueError, match="repeated"):
        sv.construct_scores(twice, data.items)
    outside = pd.DataFrame({"response_id": ["a"], "item_id": ["v1"], "value": [9]})
    with pytest.raises(ValueError, match="outside"):
        sv.construct_scores(outside, tiny_items)
    with pytest.raises(ValueError, match="kind 'nps'"):
        sv.enps(data.answers, pd.concat([data.items, data.items.query("kind == 'nps'").assign(item_id="x")]),
                data.respondents)
    with pytest.raises(ValueError, match="wave"):
        sv.response_rates(data.respondents, sv.headcount_by_wave(data.employees, data.waves), by="location")
    with pytest.raises(ValueError, match="drivers"):
        sv.key_drivers(make_driver_frame(), outcome="trust", drivers=["trust"])


def test_waves_are_ordered_by_submission_time_not_name(tiny_items):
    respondents = pd.DataFrame({
        "response_id": [f"r{i}" for i in range(10)], "finished": True,
        "wave": ["Spring 2026"] * 5 + ["Autumn 2025"] * 5,
        "submitted_at": pd.to_datetime(["2026-04-10"] * 5 + ["2025-10-10"] * 5, utc=True),
    })
    answers = pd.DataFrame({"response_id": respondents["response_id"], "item_id": "v1",
                            "value": [4, 5, 4, 5, 4, 2, 3, 2, 3, 2]})
    out = sv.wave_change(answers, tiny_items, respondents, k=5).iloc[0]
    assert (out["previous_wave"], out["current_wave"]) == ("Autumn 2025", "Spring 2026")
    assert out["change"] == pytest.approx(4.4 - 2.4)


def test_response_rates_show_departments_without_responses_as_hidden():
    respondents = pd.DataFrame({"response_id": [f"r{i}" for i in range(16)], "wave": "2026-Q3", "finished": True,
                                "department": ["Finance"] * 7 + ["Programmes"] * 9})
    headcount = pd.DataFrame({"department": ["Finance", "Programmes", "Legal"], "wave": "2026-Q3",
                              "headcount": [8, 10, 4]})
    out = sv.response_rates(respondents, headcount, k=5).set_index("department")
    assert out.loc["Legal", "suppressed"] and pd.isna(out.loc["Legal", "n_responses"])
    # Legal's zero could otherwise be recovered from the wave total: the smaller department goes too
    assert out.loc["Finance", "suppressed"] and not out.loc["Programmes", "suppressed"]
    assert out.loc["Programmes", "response_rate"] == pytest.approx(9 / 10)
