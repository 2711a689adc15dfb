"""Tests of analytics.trends: planted effects recovered (95% CI contains the truth and excludes no effect)
and every estimator cross-checked against statsmodels/scipy fitted directly."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.tsa.seasonal import STL
from trend_data import REVISION, ROLLOUT_START, TZ, event_time_effects, simulate

from analytics import trends

SEED = 20250401


@pytest.fixture(scope="module")
def sample():
    return simulate(SEED)


@pytest.fixture(scope="module")
def adherence(sample):
    return trends.monthly_rate(sample.posts, time="published_at", success="adherent", timezone=TZ)


@pytest.fixture(scope="module")
def sentiment(sample):
    return trends.monthly_mean(sample.posts, time="published_at", value="compound", timezone=TZ)


@pytest.fixture(scope="module")
def effect(sample):
    return trends.training_effect(sample.posts, outcome="violation", trained="trained", unit="employee",
                                  time="published_at", rollout_start=ROLLOUT_START, covariates="department",
                                  timezone=TZ).set_index("term")


def _months(n: int, start: str = "2024-10-01") -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="MS")


# --- monthly_rate / monthly_mean -----------------------------------------------------------------

def test_monthly_rate_counts_and_wilson_interval(sample, adherence):
    posts = sample.posts
    assert list(adherence.columns) == ["month", "n", "successes", "rate", "ci_low", "ci_high"]
    assert len(adherence) == 24
    expected = posts.groupby("month")["adherent"].agg(["size", "sum"])
    assert adherence["n"].tolist() == expected["size"].tolist()
    assert adherence["successes"].tolist() == expected["sum"].tolist()
    z = stats.norm.ppf(0.975)
    n, p = adherence["n"], adherence["rate"]
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    np.testing.assert_allclose(adherence["ci_low"], centre - half, rtol=1e-9)
    np.testing.assert_allclose(adherence["ci_high"], centre + half, rtol=1e-9)


def test_monthly_rate_cuts_months_in_the_organisation_zone():
    events = pd.DataFrame({
        "at": pd.to_datetime(["2025-03-31 23:30", "2025-03-31 22:30", "2025-10-31 23:30"], utc=True),
        "ok": [1, 0, 1],
    })
    london = trends.monthly_rate(events, time="at", success="ok", timezone="Europe/London")
    assert london["month"].dt.strftime("%Y-%m").tolist() == ["2025-03", "2025-04", "2025-10"]
    utc = trends.monthly_rate(events, time="at", success="ok", timezone="UTC")
    assert utc["month"].dt.strftime("%Y-%m").tolist() == ["2025-03", "2025-10"]
    naive = events.assign(at=events["at"].dt.tz_localize(None))
    pd.testing.assert_frame_equal(trends.monthly_rate(naive, time="at", success="ok", timezone="Europe/London"),
                                  london)


def test_monthly_rate_by_group_and_missing_outcomes(sample):
    posts = sample.posts.copy()
    posts["adherent"] = posts["adherent"].astype("boolean")
    posts.loc[posts.index[:10], "adherent"] = pd.NA
    before = posts.copy()
    table = trends.monthly_rate(posts, time="published_at", success="adherent", by="department", timezone=TZ)
    pd.testing.assert_frame_equal(posts, before)
    assert list(table.columns[:2]) == ["department", "month"]
    assert table["n"].sum() == len(posts) - 10
    assert len(table) == 5 * 24


def test_monthly_mean_t_interval(sentiment, sample):
    first = sample.posts[sample.posts["month"] == sentiment["month"].iloc[0]]["compound"]
    low, high = stats.t.interval(0.95, len(first) - 1, loc=first.mean(), scale=stats.sem(first))
    row = sentiment.iloc[0]
    assert row["n"] == len(first)
    assert row["mean"] == pytest.approx(first.mean())
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high))
    assert list(sentiment.columns) == ["month", "n", "mean", "ci_low", "ci_high"]


@pytest.mark.parametrize(
    ("frame", "kwargs", "message"),
    [
        (pd.DataFrame({"t": ["2025-01-01"], "ok": [2]}), {"time": "t", "success": "ok"}, "True/False or 0/1"),
        (pd.DataFrame({"t": ["2025-01-01"], "ok": [1]}), {"time": "when", "success": "ok"}, "no column"),
        (pd.DataFrame({"t": ["2025-01-01"], "ok": [1]}), {"time": "t", "success": "ok", "timezone": "Mars/Base"},
         "Unknown time zone"),
        (pd.DataFrame({"t": ["not a date"], "ok": [1]}), {"time": "t", "success": "ok"}, "timestamps"),
        (pd.DataFrame({"t": [None], "ok": [1]}), {"time": "t", "success": "ok"}, "missing timestamp"),
    ],
)
def test_monthly_rate_argument_checks(frame, kwargs, message):
    with pytest.raises(ValueError, match=message):
        trends.monthly_rate(frame, **kwargs)


def test_monthly_mean_rejects_text_values():
    frame = pd.DataFrame({"t": ["2025-01-01"], "v": ["high"]})
    with pytest.raises(ValueError, match="numeric"):
        trends.monthly_mean(frame, time="t", value="v", timezone="UTC")


# --- linear trend --------------------------------------------------------------------------------

def test_linear_trend_recovers_planted_slope(sample, sentiment):
    row = trends.linear_trend(sentiment, value="mean", weight="n").iloc[0]
    assert row["ci_low"] < sample.sentiment_slope < row["ci_high"]
    assert row["ci_low"] > 0
    assert (row["n_months"], row["start"], row["end"]) == (24, pd.Timestamp("2024-10-01"),
                                                          pd.Timestamp("2026-09-01"))


def _reference(model, column: int, errors: str, maxlags: int = 2) -> tuple[float, float, float, float]:
    """Estimate, 95% interval and p-value of one coefficient straight from statsmodels."""
    hac = model.fit(cov_type="HAC", cov_kwds={"maxlags": maxlags, "use_correction": True}, use_t=True)
    classical = model.fit()
    if errors == "hac":
        low, high = np.asarray(hac.conf_int())[column]
        return hac.params[column], low, high, hac.pvalues[column]
    chosen = classical if classical.bse[column] >= hac.bse[column] else hac
    low, high = np.asarray(chosen.conf_int())[column]
    return chosen.params[column], low, high, chosen.pvalues[column]


@pytest.mark.parametrize(("weight", "maxlags", "errors"),
                         [("n", None, "conservative"), (None, 3, "conservative"), ("n", None, "hac")])
def test_linear_trend_matches_statsmodels(sentiment, weight, maxlags, errors):
    ours = trends.linear_trend(sentiment, value="mean", weight=weight, maxlags=maxlags, errors=errors).iloc[0]
    x = sm.add_constant(np.arange(24.0))
    y = sentiment["mean"].to_numpy()
    model = sm.WLS(y, x, weights=sentiment["n"].to_numpy()) if weight else sm.OLS(y, x)
    estimate, low, high, p_value = _reference(model, 1, errors, maxlags or 2)
    assert ours["slope_per_month"] == pytest.approx(estimate, rel=1e-10)
    assert (ours["ci_low"], ours["ci_high"]) == pytest.approx((low, high), rel=1e-10)
    assert ours["p_value"] == pytest.approx(p_value, rel=1e-8)


def test_conservative_errors_are_never_narrower_than_either(sentiment):
    widths = {errors: trends.linear_trend(sentiment, value="mean", errors=errors).eval("ci_high - ci_low").iloc[0]
              for errors in ("conservative", "hac", "classical")}
    assert widths["conservative"] == pytest.approx(max(widths["hac"], widths["classical"]))
    with pytest.raises(ValueError, match="errors"):
        trends.linear_trend(sentiment, value="mean", errors="robust")


def test_linear_trend_by_group_equals_separate_fits_and_skips_gaps():
    rng = np.random.default_rng(3)
    frames = [pd.DataFrame({"team": team, "month": _months(18).strftime("%Y-%m"),
                            "v": slope * np.arange(18) + rng.normal(0, 0.1, 18)})
              for team, slope in [("a", 0.05), ("b", -0.02)]]
    data = pd.concat(frames, ignore_index=True).sample(frac=1, random_state=1)
    grouped = trends.linear_trend(data, value="v", by="team").set_index("team")
    for team in ("a", "b"):
        alone = trends.linear_trend(data[data["team"] == team], value="v").iloc[0]
        assert grouped.loc[team, "slope_per_month"] == pytest.approx(alone["slope_per_month"])
    # A dropped month keeps calendar spacing: t jumps over it.
    gapped = frames[0].drop(index=5)
    fit = trends.linear_trend(gapped, value="v").iloc[0]
    reference = np.polyfit(np.delete(np.arange(18.0), 5), gapped["v"], 1)[0]
    assert fit["slope_per_month"] == pytest.approx(reference)
    assert fit["n_months"] == 17


def test_linear_trend_argument_checks():
    doubled = pd.DataFrame({"month": ["2025-01", "2025-01", "2025-02", "2025-03"], "v": [1.0, 2, 3, 4]})
    with pytest.raises(ValueError, match="several rows for month"):
        trends.linear_trend(doubled, value="v")
    with pytest.raises(ValueError, match="at least 3 months"):
        trends.linear_trend(doubled.iloc[2:], value="v")
    series = pd.DataFrame({"month": _months(6), "v": np.arange(6.0), "w": [1, 1, 0, 1, 1, 1]})
    with pytest.raises(ValueError, match="positive"):
        trends.linear_trend(series, value="v", weight="w")
    with pytest.raises(ValueError, match="maxlags"):
        trends.linear_trend(series, value="v", maxlags=-1)


# --- seasonality ---------------------------------------------------------------------------------

def test_seasonal_effect_recovers_december_lift(sample, sentiment):
    row = trends.seasonal_effect(sentiment, value="mean", month_of_year=12, weight="n").iloc[0]
    assert row["ci_low"] < sample.compound_lift < row["ci_high"]
    assert row["ci_low"] > 0
    assert (row["n_months"], row["n_in_month"]) == (24, 2)


@pytest.mark.parametrize("errors", ["conservative", "hac"])
def test_seasonal_effect_matches_statsmodels(sentiment, errors):
    ours = trends.seasonal_effect(sentiment, value="mean", month_of_year=12, errors=errors).iloc[0]
    x = np.column_stack([np.ones(24), np.arange(24.0), (sentiment["month"].dt.month == 12).astype(float)])
    estimate, low, high, p_value = _reference(sm.OLS(sentiment["mean"].to_numpy(), x), 2, errors)
    assert ours["lift"] == pytest.approx(estimate, rel=1e-10)
    assert (ours["ci_low"], ours["ci_high"]) == pytest.approx((low, high), rel=1e-10)
    assert ours["p_value"] == pytest.approx(p_value, rel=1e-8)


def test_seasonal_effect_argument_checks(sentiment):
    with pytest.raises(ValueError, match="from 1"):
        trends.seasonal_effect(sentiment, value="mean", month_of_year=13)
    with pytest.raises(ValueError, match="at least 2 months"):
        trends.seasonal_effect(sentiment.iloc[:12], value="mean", month_of_year=12)


def test_seasonal_decomposition_matches_stl_and_finds_december(sentiment):
    parts = trends.seasonal_decomposition(sentiment, value="mean")
    assert list(parts.columns) == ["month", "observed", "trend", "seasonal", "resid", "interpolated"]
    reference = STL(sentiment["mean"].to_numpy(), period=12, robust=True).fit()
    np.testing.assert_allclose(parts["trend"], reference.trend)
    np.testing.assert_allclose(parts["seasonal"], reference.seasonal)
    np.testing.assert_allclose(parts["observed"], parts["trend"] + parts["seasonal"] + parts["resid"])
    assert not parts["interpolated"].any()
    december = parts["month"].dt.month == 12
    assert parts.loc[december, "seasonal"].min() > parts.loc[~december, "seasonal"].max()


def test_seasonal_decomposition_interpolates_isolated_months_only():
    values = 0.2 + 0.1 * (_months(26).month == 12)
    series = pd.DataFrame({"month": _months(26), "v": values})
    series.loc[4, "v"] = np.nan  # present with a missing value
    parts = trends.seasonal_decomposition(series.drop(index=9), value="v")  # and one absent month
    assert parts["interpolated"].tolist() == [i in (4, 9) for i in range(26)]
    assert parts.loc[4, "observed"] == pytest.approx((values[3] + values[5]) / 2)
    with pytest.raises(ValueError, match="in a row"):
        trends.seasonal_decomposition(series.drop(index=[9, 10]), value="v")
    with pytest.raises(ValueError, match="at least 24 months"):
        trends.seasonal_decomposition(series.iloc[:23], value="v")
    with pytest.raises(ValueError, match="period"):
        trends.seasonal_decomposition(series, value="v", period=1)


# --- interrupted time series ---------------------------------------------------------------------

def test_its_recovers_revision_level_change(sample, adherence):
    its = trends.interrupted_time_series(adherence, value="rate", interruptions=[ROLLOUT_START, REVISION],
                                         weight="n")
    revision = its.iloc[0]
    assert revision["interruption"] == pd.Timestamp(REVISION)
    assert revision["level_ci_low"] < sample.adherence_level_change < revision["level_ci_high"]
    assert revision["level_ci_low"] > 0
    assert (revision["n_before"], revision["n_after"]) == (6, 18)


def _its_design(months: pd.Series, starts: list[str]) -> np.ndarray:
    t = np.asarray((months.dt.year - 2024) * 12 + months.dt.month - 10, dtype=float)
    columns = [np.ones_like(t), t]
    for start in starts:
        t0 = (pd.Timestamp(start).year - 2024) * 12 + pd.Timestamp(start).month - 10
        columns += [(t >= t0).astype(float), np.where(t >= t0, t - t0, 0.0)]
    return np.column_stack(columns)


@pytest.mark.parametrize(("weight", "errors"), [("n", "conservative"), (None, "conservative"), ("n", "hac")])
def test_its_matches_statsmodels(adherence, weight, errors):
    its = trends.interrupted_time_series(adherence, value="rate", interruptions=[REVISION, ROLLOUT_START],
                                         weight=weight, errors=errors)
    x = _its_design(adherence["month"], ["2025-04-01", "2026-02-01"])
    y = adherence["rate"].to_numpy()
    model = sm.WLS(y, x, weights=adherence["n"].to_numpy()) if weight else sm.OLS(y, x)
    for j, row in its.iterrows():
        for term, column in (("level", 2 + 2 * j), ("slope", 3 + 2 * j)):
            estimate, low, high, p_value = _reference(model, column, errors)
            assert row[f"{term}_change"] == pytest.approx(estimate, rel=1e-9)
            assert (row[f"{term}_ci_low"], row[f"{term}_ci_high"]) == pytest.approx((low, high), rel=1e-9)
            assert row[f"{term}_p"] == pytest.approx(p_value, rel=1e-7)


def test_its_interruption_month_convention():
    wiggle = np.tile([0.01, -0.01, -0.01, 0.01], 3)
    series = pd.DataFrame({"month": _months(12, "2025-01-01"), "v": np.r_[np.zeros(5), np.ones(7)] + wiggle})
    on_first = trends.interrupted_time_series(series, value="v", interruptions=["2025-06-01"]).iloc[0]
    mid_month = trends.interrupted_time_series(series, value="v", interruptions=["2025-05-20"]).iloc[0]
    assert on_first["first_month_after"] == mid_month["first_month_after"] == pd.Timestamp("2025-06-01")
    assert (on_first["n_before"], on_first["n_after"]) == (5, 7)
    assert on_first["level_change"] == pytest.approx(1.0, abs=0.05)
    early = trends.interrupted_time_series(series, value="v", interruptions=["2025-05-01"]).iloc[0]
    assert early["first_month_after"] == pd.Timestamp("2025-05-01")
    assert early["level_change"] < 0.9


def test_its_argument_checks(adherence):
    with pytest.raises(ValueError, match="non-empty"):
        trends.interrupted_time_series(adherence, value="rate", interruptions=[])
    with pytest.raises(ValueError, match="at least 3 months"):
        trends.interrupted_time_series(adherence, value="rate", interruptions=["2024-12-01"])
    with pytest.raises(ValueError, match="same first 'after' month"):
        trends.interrupted_time_series(adherence, value="rate", interruptions=["2025-03-10", "2025-04-01"])


# --- training effect and event study -------------------------------------------------------------

def test_training_odds_ratio_recovers_truth(sample, effect):
    row = effect.loc["odds_ratio"]
    assert row["estimator"] == "logistic"
    assert row["ci_low"] < sample.odds_ratio < row["ci_high"]
    assert row["ci_high"] < 1  # excludes "no effect" (odds ratio 1, log-odds 0)
    assert (row["n_obs"], row["n_clusters"]) == (len(sample.posts), 200)


def test_did_risk_difference_recovers_truth(sample, effect):
    row = effect.loc["did_risk_difference"]
    assert row["estimator"] == "did_lpm"
    assert row["ci_low"] < sample.did_risk_difference < row["ci_high"]
    assert row["ci_high"] < 0


def test_training_effect_matches_statsmodels_formulas(sample, effect):
    posts = sample.posts.assign(
        y=sample.posts["violation"].astype(float),
        trained_f=sample.posts["trained"].astype(float),
        month_s=sample.posts["month"].dt.strftime("%Y-%m"),
        group=sample.posts["trained_group"].astype(float),
        post=(sample.posts["published_at"] >= pd.Timestamp(ROLLOUT_START, tz=TZ)).astype(float),
    )
    clusters = {"groups": pd.factorize(posts["employee"])[0]}
    logit = smf.logit("y ~ trained_f + C(month_s) + C(department)", posts).fit(
        disp=0, cov_type="cluster", cov_kwds=clusters)
    row = effect.loc["odds_ratio"]
    assert row["estimate"] == pytest.approx(np.exp(logit.params["trained_f"]), rel=1e-6)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(tuple(np.exp(logit.conf_int().loc["trained_f"])),
                                                            rel=1e-6)
    did = smf.ols("y ~ group * post + C(department)", posts).fit(cov_type="cluster", cov_kwds=clusters,
                                                                use_t=True)
    row = effect.loc["did_risk_difference"]
    assert row["estimate"] == pytest.approx(did.params["group:post"], rel=1e-9)
    assert row["p_value"] == pytest.approx(did.pvalues["group:post"], rel=1e-7)


def test_a_month_without_a_violation_leaves_the_odds_ratio_and_lets_the_fit_converge(sample, effect):
    """Its fixed effect has no finite estimate (statsmodels warned that the fit did not converge), and its
    posts say nothing about the odds within months: the model leaves them out, and the estimate is unmoved."""
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    posts = sample.posts.copy()
    quiet = posts["month"] == posts["month"].min()
    posts.loc[quiet, "violation"] = False  # a month whose posts all share one outcome
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        odds = trends.training_effect(posts, outcome="violation", trained="trained", unit="employee",
                                      time="published_at", rollout_start=ROLLOUT_START, covariates="department",
                                      timezone=TZ).set_index("term").loc["odds_ratio"]
    without = trends.training_effect(posts[~quiet], outcome="violation", trained="trained", unit="employee",
                                     time="published_at", rollout_start=ROLLOUT_START, covariates="department",
                                     timezone=TZ).set_index("term").loc["odds_ratio"]
    assert odds["n_obs"] == (~quiet).sum() == without["n_obs"]
    assert odds[["estimate", "ci_low", "ci_high"]].tolist() == pytest.approx(
        without[["estimate", "ci_low", "ci_high"]].tolist(), rel=1e-9)
    assert odds["estimate"] != pytest.approx(effect.loc["odds_ratio", "estimate"], rel=1e-6)


def test_trained_posts_without_a_violation_give_no_odds_ratio_rather_than_a_runaway_one(sample):
    """With no violation among the trained posts the likelihood rises as the odds ratio goes to 0: the fit stopped
    on the way (statsmodels warned) and its 1e-9 with p < 1e-80 was printed as a finding (Finance, 2026-05)."""
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    posts = sample.posts.assign(violation=sample.posts["violation"] & ~sample.posts["trained"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        effect = trends.training_effect(posts, outcome="violation", trained="trained", unit="employee",
                                        time="published_at", rollout_start=ROLLOUT_START, timezone=TZ
                                        ).set_index("term")
    assert effect.loc["odds_ratio", ["estimate", "ci_low", "ci_high", "p_value"]].isna().all()
    did = effect.loc["did_risk_difference"]
    assert did["estimate"] < 0 and did["ci_low"] < did["estimate"] < did["ci_high"], "the risk difference stands"


def test_training_effect_argument_checks(sample):
    posts = sample.posts
    kwargs = {"outcome": "violation", "trained": "trained", "unit": "employee", "time": "published_at",
              "timezone": TZ}
    with pytest.raises(ValueError, match="before rollout_start"):
        trends.training_effect(posts, rollout_start="2026-02-01", **kwargs)
    with pytest.raises(ValueError, match="never-trained"):
        trends.training_effect(posts[posts["trained_group"]], rollout_start=ROLLOUT_START, **kwargs)
    with pytest.raises(ValueError, match="not a date"):
        trends.training_effect(posts, rollout_start="mid January", **kwargs)
    with pytest.raises(ValueError, match="missing"):
        trends.training_effect(posts.assign(violation=posts["violation"].astype(float).where(posts.index > 0)),
                               rollout_start=ROLLOUT_START, **kwargs)


def test_event_study_tracks_true_effects(sample):
    study = trends.event_study(sample.posts, outcome="violation", unit="employee", time="published_at",
                               trained_at="completed_at", window=(-6, 6), timezone=TZ)
    assert study["relative_month"].tolist() == list(range(-6, 7))
    reference = study.set_index("relative_month").loc[-1]
    assert reference["estimate"] == 0 and np.isnan(reference["ci_low"])
    truth = event_time_effects(sample.posts)
    se = (study["ci_high"] - study["ci_low"]) / (2 * stats.t.ppf(0.975, 199))
    for index, row in study.dropna(subset=["ci_low"]).iterrows():
        k = row["relative_month"]
        expected = truth.loc[k] if k in truth.index else 0.0
        # Three standard errors: each of 12 months alone, so a 95% interval would fail by chance too often.
        assert abs(row["estimate"] - expected) < 3 * se[index], f"relative month {k}"
    lags = study[study["relative_month"] >= 1]
    assert (lags["estimate"] < 0).all()
    assert study["n_obs"].sum() == sample.posts["completed_at"].notna().sum()


def test_event_study_coefficients_equal_unit_dummy_regression(sample):
    # A subset keeps the dummy regression small; the identity holds for any data.
    posts = sample.posts[sample.posts["employee"] < "e060"]
    study = trends.event_study(posts, outcome="violation", unit="employee", time="published_at",
                               trained_at="completed_at", window=(-2, 2), timezone=TZ)
    completed = posts["completed_at"].dt.tz_convert(TZ).dt.tz_localize(None).dt.to_period("M").dt.to_timestamp()
    relative = ((posts["month"].dt.year - completed.dt.year) * 12 + posts["month"].dt.month
                - completed.dt.month).clip(-2, 2)
    events = pd.get_dummies(relative, dtype=float).drop(columns=-1.0)
    x = pd.concat([events, pd.get_dummies(posts["employee"], dtype=float),
                   pd.get_dummies(posts["month"], drop_first=True, dtype=float)], axis=1)
    coefficients = np.linalg.lstsq(x.to_numpy(), posts["violation"].to_numpy(float), rcond=None)[0]
    shown = study[study["relative_month"] != -1]
    np.testing.assert_allclose(shown["estimate"], coefficients[:4], atol=1e-10)


def test_event_study_leaves_months_no_trained_post_reaches_unestimated(sample):
    """Data ending two months after the first completions: months +2..+6 were columns of zeros (rank-deficient,
    statsmodels warned) estimated as 0, which the report's sentence counted among the months after training."""
    completed = sample.posts["completed_at"].dropna()
    first = completed.dt.tz_convert(TZ).min()
    end = (first + pd.offsets.MonthBegin(2)).normalize()
    posts = sample.posts[sample.posts["published_at"] < end]
    posts = posts.assign(completed_at=posts["completed_at"].where(posts["completed_at"] < end))
    reached = posts["completed_at"].notna()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no rank-deficient design
        study = trends.event_study(posts, outcome="violation", unit="employee", time="published_at",
                                   trained_at="completed_at", window=(-6, 6), timezone=TZ).set_index("relative_month")
    unreached = study[study["n_obs"] == 0].index
    assert len(unreached) and study.loc[unreached, ["estimate", "ci_low", "p_value"]].isna().all().all()
    assert study.loc[study["n_obs"] > 0].drop(index=-1)["ci_low"].notna().all()
    assert study["n_obs"].sum() == reached.sum()


def test_event_study_argument_checks(sample):
    kwargs = {"outcome": "violation", "unit": "employee", "time": "published_at", "trained_at": "completed_at",
              "timezone": TZ}
    with pytest.raises(ValueError, match="window"):
        trends.event_study(sample.posts, window=(-1, 3), **kwargs)
    with pytest.raises(ValueError, match="never-trained controls"):
        trends.event_study(sample.posts[sample.posts["trained_group"]], **kwargs)
    shuffled = sample.posts.assign(completed_at=sample.posts["completed_at"].sample(frac=1, random_state=2)
                                   .to_numpy())
    with pytest.raises(ValueError, match="same on every post"):
        trends.event_study(shuffled, **kwargs)
