"""Time-series statistics of the monthly metrics: is the policy working, and since when?

One statistical question per function, tidy frame in, tidy frame out:

* :func:`monthly_rate`, :func:`monthly_mean` — a share (Wilson CI) or a mean (t CI) per month;
* :func:`linear_trend` — OLS slope per month with Newey–West (HAC) errors, guarded for short series;
* :func:`seasonal_decomposition` (STL) and :func:`seasonal_effect` (lift of one calendar month);
* :func:`interrupted_time_series` — level and slope changes at policy revisions (segmented regression);
* :func:`training_effect` (logistic odds ratio and difference-in-differences) and :func:`event_study`.

Conventions shared by every function
------------------------------------
Months
    Every ``month`` column returned is a tz-naive month-start ``Timestamp`` (``2025-04-01`` is April 2025).
    Event timestamps (``monthly_rate``, ``monthly_mean``, ``training_effect``, ``event_study``) are cut into
    months in the organisation's time zone, ``analytics.config.get_settings().timezone``, unless
    ``timezone`` is given; naive timestamps are taken as UTC because the warehouse stores UTC.
    The month labels of an already-monthly series (``time='month'``) are taken at face value: month-start
    timestamps, ``pd.Period`` or ``'YYYY-MM'`` strings, no time-zone shift.
Monthly regressions
    Rows are put in calendar order; ``t`` counts calendar months from the first month, so a missing month
    leaves a gap in ``t`` (HAC lags then count rows, not calendar months). Newey–West (HAC) errors use the
    Bartlett kernel with the small-sample correction n/(n-k); ``maxlags`` defaults to the Newey–West rule
    ``floor(4 (n/100)^(2/9))`` (2 lags for 24 months). In series this short Newey–West errors are far too
    small: in simulations of 24 months with independent noise, nominal 95% intervals covered the truth
    77% of the time for an interrupted-time-series level change, 72% for a calendar-month lift and 89% for
    a slope. So by default (``errors='conservative'``) each coefficient gets the larger of its classical
    and its Newey–West standard error (Angrist & Pischke's rule against small-sample bias of robust
    errors), which restored 95% coverage with independent noise and is never below Newey–West when
    months are autocorrelated; ``errors='hac'`` gives plain Newey–West, ``errors='classical'`` plain
    OLS/WLS errors. Intervals and p-values use Student's t with the residual degrees of freedom.
Post-level regressions
    Standard errors are cluster-robust (by employee unless ``cluster`` names another column), with
    statsmodels' small-sample correction; the logistic model uses the normal distribution, the linear
    probability models Student's t with (clusters - 1) degrees of freedom.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

# statsmodels and scipy.stats are imported by the functions that use them: ~0.7 s together, which the
# leadership dashboard, fitting nothing, paid at each rendering of its kernel
from analytics.adherence import wilson_interval
from analytics.config import get_settings
from analytics.periods import local_months

__all__ = [
    "event_study",
    "interrupted_time_series",
    "linear_trend",
    "monthly_mean",
    "monthly_rate",
    "seasonal_decomposition",
    "seasonal_effect",
    "training_effect",
]

Columns = str | Sequence[str]
_ERRORS = ("conservative", "hac", "classical")


# --- argument checks and month handling ----------------------------------------------------------

def _as_list(by: Columns) -> list[str]:
    return [by] if isinstance(by, str) else list(by)


def _check_frame(data: Any, name: str, columns: Sequence[Hashable]) -> None:
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"`{name}` must be a pandas DataFrame, got {type(data).__name__}.")
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ValueError(
            f"`{name}` has no column(s) {missing}; available: {list(data.columns)}. "
            "Pass the right column names as keywords."
        )
    if data.empty:
        raise ValueError(f"`{name}` has no rows.")


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha = {alpha} must lie strictly between 0 and 1 (0.05 gives 95% intervals).")


def _check_maxlags(maxlags: int | None) -> None:
    if maxlags is not None and (not isinstance(maxlags, int | np.integer) or maxlags < 0):
        raise ValueError(f"maxlags = {maxlags!r} must be a non-negative integer or None (Newey–West rule).")


def _zone(timezone: str | None) -> str:
    zone = timezone if timezone is not None else get_settings().timezone
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as error:
        raise ValueError(f"Unknown time zone {zone!r}; use an IANA name such as 'Europe/London'.") from error
    return zone


def _event_times(values: pd.Series, column: str) -> pd.Series:
    """Timestamps as tz-aware UTC; naive ones are UTC by the warehouse contract."""
    try:
        stamps = pd.to_datetime(values, utc=True)
    except (ValueError, TypeError) as error:
        raise ValueError(f"Column `{column}` does not hold timestamps ({error}); convert it.") from error
    if stamps.isna().any():
        raise ValueError(
            f"Column `{column}` has {int(stamps.isna().sum())} missing timestamp(s); drop or fix those rows."
        )
    return stamps


def _event_months(values: pd.Series, column: str, timezone: str | None) -> pd.Series:
    return local_months(_event_times(values, column), _zone(timezone))


def _label_months(values: pd.Series, column: str) -> pd.Series:
    """Month labels at face value -> month-start timestamps."""
    if isinstance(values.dtype, pd.PeriodDtype):
        return values.dt.asfreq("M").dt.to_timestamp()
    try:
        stamps = pd.to_datetime(values)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"Column `{column}` does not hold months ({error}); use month-start dates, Periods or 'YYYY-MM'."
        ) from error
    if stamps.isna().any():
        raise ValueError(f"Column `{column}` has {int(stamps.isna().sum())} missing month(s); drop those rows.")
    if isinstance(stamps.dtype, pd.DatetimeTZDtype):
        stamps = stamps.dt.tz_localize(None)
    return stamps.dt.to_period("M").dt.to_timestamp()


def _month_number(months: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    index = pd.DatetimeIndex(months)
    return np.asarray(index.year * 12 + index.month - 1, dtype=float)


def _numeric(values: pd.Series, column: str) -> np.ndarray:
    if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
        raise ValueError(f"Column `{column}` must be numeric, got dtype {values.dtype}.")
    return values.astype("float64").to_numpy()


def _binary(values: pd.Series, column: str, *, allow_missing: bool) -> np.ndarray:
    """0/1 floats (NaN where missing) from a boolean or 0/1 column."""
    if not (pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values)):
        raise ValueError(f"Column `{column}` must be boolean or 0/1, got dtype {values.dtype}.")
    numbers = values.astype("float64").to_numpy()
    present = ~np.isnan(numbers)
    if not np.isin(numbers[present], (0.0, 1.0)).all():
        raise ValueError(f"Column `{column}` must hold only True/False or 0/1.")
    if not allow_missing and not present.all():
        raise ValueError(f"Column `{column}` has {int((~present).sum())} missing value(s); drop or fill them.")
    return numbers


def _weights(series: pd.DataFrame, weight: str | None) -> np.ndarray | None:
    if weight is None:
        return None
    values = _numeric(series[weight], weight)
    if not (np.isfinite(values) & (values > 0)).all():
        raise ValueError(f"Weights in `{weight}` must be positive and finite (e.g. posts per month).")
    return values


def _newey_west_lags(n: int) -> int:
    return math.floor(4 * (n / 100) ** (2 / 9))


@dataclass(frozen=True)
class _MonthlyFit:
    """Coefficients of a monthly regression with the standard errors chosen by ``errors``."""

    params: np.ndarray
    bse: np.ndarray
    df_resid: float

    def row(self, j: int, alpha: float) -> tuple[float, float, float, float]:
        """Estimate, interval and two-sided p-value of coefficient ``j`` (Student t)."""
        from scipy import stats

        estimate, se = self.params[j], self.bse[j]
        half = stats.t.ppf(1 - alpha / 2, self.df_resid) * se
        with np.errstate(divide="ignore", invalid="ignore"):
            p_value = 2 * stats.t.sf(np.abs(estimate / se), self.df_resid)
        return float(estimate), float(estimate - half), float(estimate + half), float(p_value)


def _check_errors(errors: str) -> None:
    if errors not in _ERRORS:
        raise ValueError(f"errors = {errors!r} must be one of {list(_ERRORS)}.")


def _fit_monthly(
    y: np.ndarray, x: np.ndarray, weights: np.ndarray | None, maxlags: int | None, errors: str
) -> _MonthlyFit:
    import statsmodels.api as sm

    model = sm.OLS(y, x) if weights is None else sm.WLS(y, x, weights=weights)
    lags = _newey_west_lags(len(y)) if maxlags is None else int(maxlags)
    hac = model.fit(cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": True}, use_t=True)
    if errors == "hac":
        bse = hac.bse
    else:
        classical = model.fit().bse
        bse = classical if errors == "classical" else np.maximum(classical, hac.bse)
    return _MonthlyFit(np.asarray(hac.params), np.asarray(bse), float(hac.df_resid))


def _monthly_frame(
    series: pd.DataFrame, time: str, value: str, weight: str | None, name: str = "series"
) -> pd.DataFrame:
    """One row per month in calendar order, with ``t`` = months since the first month."""
    frame = pd.DataFrame(
        {
            "month": _label_months(series[time], time).to_numpy(),
            "y": _numeric(series[value], value),
            "w": _weights(series, weight) if weight is not None else 1.0,
        }
    )
    duplicated = frame["month"].duplicated(keep=False)
    if duplicated.any():
        months = sorted({m.strftime("%Y-%m") for m in frame.loc[duplicated, "month"]})
        raise ValueError(
            f"`{name}` has several rows for month(s) {months}; pass one row per month "
            "(aggregate with monthly_rate/monthly_mean, or use by= for groups)."
        )
    frame = frame.dropna(subset=["y"]).sort_values("month", ignore_index=True)
    numbers = _month_number(frame["month"])
    frame["t"] = numbers - numbers.min() if len(numbers) else numbers
    return frame


# --- monthly shares and means --------------------------------------------------------------------

def monthly_rate(
    events: pd.DataFrame,
    *,
    time: str,
    success: str,
    by: Columns = (),
    timezone: str | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Share of events that are a success, per month (and group), with a Wilson interval.

    Parameters
    ----------
    events : pandas.DataFrame
        One row per event (e.g. one employee post).
    time : str
        Column of event timestamps; months are cut in ``timezone``.
    success : str
        Boolean or 0/1 column; missing values are left out of ``n``.
    by : str or sequence of str, optional
        Grouping columns, returned first.
    timezone : str, optional
        IANA zone in which months are cut; default the organisation's (``get_settings().timezone``).
    alpha : float, default 0.05
        1 - confidence level of the interval.

    Returns
    -------
    pandas.DataFrame
        One row per group and month with at least one event, sorted by group then month:

        * ``<by>`` — the grouping columns;
        * ``month`` — month start (tz-naive ``Timestamp``);
        * ``n`` — events with a known outcome;
        * ``successes`` — events where ``success`` is true;
        * ``rate`` — ``successes / n``;
        * ``ci_low``, ``ci_high`` — Wilson score interval of the rate.

    Examples
    --------
    >>> import pandas as pd
    >>> posts = pd.DataFrame({
    ...     "published_at": pd.to_datetime(
    ...         ["2025-03-31 23:30", "2025-04-02 09:00", "2025-04-20 12:00", "2025-05-01 08:00"], utc=True),
    ...     "adherent": [True, False, True, True]})
    >>> monthly_rate(posts, time="published_at", success="adherent", timezone="Europe/London")
           month  n  successes      rate    ci_low   ci_high
    0 2025-04-01  3          2  0.666667  0.207660  0.938508
    1 2025-05-01  1          1  1.000000  0.206549  1.000000

    The first post (23:30 UTC on 31 March) is 00:30 on 1 April in London, so April has three posts.
    """
    by = _as_list(by)
    _check_frame(events, "events", [time, success, *by])
    _check_alpha(alpha)
    frame = events[by].copy()
    frame["month"] = _event_months(events[time], time, timezone).to_numpy()
    frame["_y"] = _binary(events[success], success, allow_missing=True)
    frame = frame.dropna(subset=["_y"])
    if frame.empty:
        raise ValueError(f"Column `{success}` has no known outcomes.")
    table = (
        frame.groupby([*by, "month"], sort=True, dropna=False, observed=True)["_y"]
        .agg(n="count", successes="sum")
        .reset_index()
    )
    table["n"] = table["n"].astype("int64")
    table["successes"] = table["successes"].round().astype("int64")
    table["rate"] = table["successes"] / table["n"]
    table["ci_low"], table["ci_high"] = wilson_interval(table["successes"], table["n"], confidence=1 - alpha)
    return table


def monthly_mean(
    data: pd.DataFrame,
    *,
    time: str,
    value: str,
    by: Columns = (),
    timezone: str | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Mean of a numeric value per month (and group), with a Student t interval.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per observation (e.g. one post with its sentiment score).
    time : str
        Column of timestamps; months are cut in ``timezone``.
    value : str
        Numeric column; missing values are left out of ``n``.
    by : str or sequence of str, optional
        Grouping columns, returned first.
    timezone : str, optional
        IANA zone in which months are cut; default the organisation's (``get_settings().timezone``).
    alpha : float, default 0.05
        1 - confidence level of the interval.

    Returns
    -------
    pandas.DataFrame
        One row per group and month with at least one value, sorted by group then month:

        * ``<by>`` — the grouping columns;
        * ``month`` — month start (tz-naive ``Timestamp``);
        * ``n`` — non-missing values;
        * ``mean`` — their mean;
        * ``ci_low``, ``ci_high`` — t interval ``mean ± t(n-1) · sd / sqrt(n)`` (NaN when ``n < 2``).

    Examples
    --------
    >>> import pandas as pd
    >>> scores = pd.DataFrame({
    ...     "published_at": pd.to_datetime(["2025-12-01", "2025-12-15", "2025-12-20", "2026-01-05"]),
    ...     "compound": [0.2, 0.4, 0.6, 0.1]})
    >>> monthly_mean(scores, time="published_at", value="compound", timezone="UTC")
           month  n  mean    ci_low   ci_high
    0 2025-12-01  3   0.4 -0.096828  0.896828
    1 2026-01-01  1   0.1       NaN       NaN
    """
    by = _as_list(by)
    _check_frame(data, "data", [time, value, *by])
    _check_alpha(alpha)
    frame = data[by].copy()
    frame["month"] = _event_months(data[time], time, timezone).to_numpy()
    frame["_v"] = _numeric(data[value], value)
    frame = frame.dropna(subset=["_v"])
    if frame.empty:
        raise ValueError(f"Column `{value}` has no values.")
    table = (
        frame.groupby([*by, "month"], sort=True, dropna=False, observed=True)["_v"]
        .agg(n="count", mean="mean", sd="std")
        .reset_index()
    )
    table["n"] = table["n"].astype("int64")
    from scipy import stats

    with np.errstate(invalid="ignore", divide="ignore"):
        half = stats.t.ppf(1 - alpha / 2, table["n"] - 1) * table["sd"] / np.sqrt(table["n"])
    table["ci_low"] = table["mean"] - half
    table["ci_high"] = table["mean"] + half
    return table.drop(columns="sd")


# --- trend and seasonality -----------------------------------------------------------------------

def linear_trend(
    series: pd.DataFrame,
    *,
    time: str = "month",
    value: str,
    weight: str | None = None,
    by: Columns = (),
    maxlags: int | None = None,
    errors: str = "conservative",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Linear trend of a monthly series: OLS (or WLS) slope per month with autocorrelation-robust errors.

    Fits ``value = a + slope · t`` with ``t`` = months since the series' first month, separately for each
    group in ``by``. Monthly noise is often autocorrelated, hence Newey–West errors, guarded against their
    small-sample bias by ``errors`` (see the module notes).

    Parameters
    ----------
    series : pandas.DataFrame
        One row per month (per group); rows with a missing value are skipped.
    time : str, default 'month'
        Month labels (month-start dates, ``pd.Period`` or ``'YYYY-MM'``).
    value : str
        Numeric column, e.g. ``rate`` from :func:`monthly_rate`.
    weight : str, optional
        Positive weights for WLS, e.g. ``n`` (a share's variance is proportional to 1/n).
    by : str or sequence of str, optional
        One trend per group; grouping columns are returned first.
    maxlags : int, optional
        HAC lags; default the Newey–West rule (2 for 24 months).
    errors : {'conservative', 'hac', 'classical'}, default 'conservative'
        Standard errors: the larger of the classical and the Newey–West one per coefficient, pure
        Newey–West, or classical (see the module notes for why 'conservative' is the default).
    alpha : float, default 0.05
        1 - confidence level of the interval.

    Returns
    -------
    pandas.DataFrame
        One row per group:

        * ``<by>`` — the grouping columns;
        * ``slope_per_month`` — change of ``value`` per calendar month;
        * ``ci_low``, ``ci_high`` — t interval of the slope (errors as chosen by ``errors``);
        * ``p_value`` — two-sided test of slope = 0;
        * ``n_months`` — months used;
        * ``start``, ``end`` — first and last month used.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> months = pd.date_range("2024-10-01", periods=24, freq="MS")
    >>> wiggle = np.tile([0.01, -0.01, -0.01, 0.01], 6)
    >>> series = pd.DataFrame({"month": months, "rate": 0.80 + 0.005 * np.arange(24) + wiggle})
    >>> linear_trend(series, value="rate")[["slope_per_month", "n_months", "start", "end"]].round(
    ...     {"slope_per_month": 4})
       slope_per_month  n_months      start        end
    0            0.005        24 2024-10-01 2026-09-01
    """
    by = _as_list(by)
    _check_frame(series, "series", [time, value, *by] + ([weight] if weight else []))
    _check_alpha(alpha)
    _check_maxlags(maxlags)
    _check_errors(errors)
    groups = series.groupby(by, sort=True, dropna=False, observed=True) if by else [((), series)]
    rows = []
    for key, part in groups:
        frame = _monthly_frame(part, time, value, weight)
        label = dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True))
        if len(frame) < 3:
            raise ValueError(f"linear_trend needs at least 3 months with a value; group {label or 'all'} has "
                             f"{len(frame)}.")
        x = np.column_stack([np.ones(len(frame)), frame["t"]])
        fit = _fit_monthly(frame["y"].to_numpy(), x, frame["w"].to_numpy() if weight else None, maxlags, errors)
        slope, low, high, p_value = fit.row(1, alpha)
        rows.append({
            **label,
            "slope_per_month": slope,
            "ci_low": low,
            "ci_high": high,
            "p_value": p_value,
            "n_months": len(frame),
            "start": frame["month"].iloc[0],
            "end": frame["month"].iloc[-1],
        })
    return pd.DataFrame(rows, columns=[*by, "slope_per_month", "ci_low", "ci_high", "p_value", "n_months",
                                       "start", "end"])


def seasonal_decomposition(
    series: pd.DataFrame,
    *,
    time: str = "month",
    value: str,
    period: int = 12,
    robust: bool = True,
) -> pd.DataFrame:
    """STL decomposition of a monthly series into trend, seasonal and remainder.

    The series must span at least two full periods (24 months for ``period=12``). STL needs every month,
    so an isolated missing month (absent, or with a missing value, with both neighbours present) is filled
    by linear interpolation and flagged in ``interpolated``; two or more missing months in a row, or a
    missing first/last month, raise ``ValueError``.

    Parameters
    ----------
    series : pandas.DataFrame
        One row per month.
    time : str, default 'month'
        Month labels (month-start dates, ``pd.Period`` or ``'YYYY-MM'``).
    value : str
        Numeric column to decompose.
    period : int, default 12
        Length of the seasonal cycle in months.
    robust : bool, default True
        Robust STL (down-weights outlying months).

    Returns
    -------
    pandas.DataFrame
        One row per calendar month from the first to the last:

        * ``month`` — month start (tz-naive ``Timestamp``);
        * ``observed`` — the value (interpolated where ``interpolated``);
        * ``trend``, ``seasonal``, ``resid`` — STL components; ``observed = trend + seasonal + resid``;
        * ``interpolated`` — True where the month was missing and filled.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> months = pd.period_range("2024-10", periods=24, freq="M")
    >>> december = (months.month == 12).astype(float)
    >>> series = pd.DataFrame({"month": months, "compound": 0.2 + 0.1 * december})
    >>> series = series.drop(index=5)  # March 2025 is missing
    >>> parts = seasonal_decomposition(series, value="compound")
    >>> len(parts), int(parts["interpolated"].sum()), parts.loc[5, "month"].strftime("%Y-%m")
    (24, 1, '2025-03')
    >>> bool(np.allclose(parts["observed"], parts["trend"] + parts["seasonal"] + parts["resid"]))
    True
    """
    _check_frame(series, "series", [time, value])
    if not isinstance(period, int | np.integer) or period < 2:
        raise ValueError(f"period = {period!r} must be an integer of at least 2 (12 for monthly data).")
    frame = _monthly_frame(series, time, value, None)
    if frame.empty:
        raise ValueError(f"Column `{value}` has no values.")
    months = pd.date_range(frame["month"].iloc[0], frame["month"].iloc[-1], freq="MS")
    if len(months) < 2 * period:
        raise ValueError(
            f"Seasonal decomposition needs at least {2 * period} months (two full cycles of {period}); "
            f"the series spans {len(months)} ({months[0]:%Y-%m} .. {months[-1]:%Y-%m}). Wait for more data."
        )
    observed = pd.Series(frame["y"].to_numpy(), index=pd.DatetimeIndex(frame["month"])).reindex(months)
    missing = observed.isna()
    runs = missing & (missing.shift(1, fill_value=False) | missing.shift(-1, fill_value=False))
    if runs.any():
        raise ValueError(
            f"Months {[f'{m:%Y-%m}' for m in months[runs.to_numpy()]]} are missing in a row; only isolated "
            "single months can be interpolated. Fill the gap or decompose a shorter stretch."
        )
    filled = observed.interpolate(method="linear")
    from statsmodels.tsa.seasonal import STL

    fit = STL(filled.to_numpy(), period=int(period), robust=robust).fit()
    return pd.DataFrame({
        "month": months,
        "observed": filled.to_numpy(),
        "trend": np.asarray(fit.trend),
        "seasonal": np.asarray(fit.seasonal),
        "resid": np.asarray(fit.resid),
        "interpolated": missing.to_numpy(),
    })


def seasonal_effect(
    series: pd.DataFrame,
    *,
    time: str = "month",
    value: str,
    month_of_year: int,
    weight: str | None = None,
    maxlags: int | None = None,
    errors: str = "conservative",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Lift of one calendar month (e.g. December) over the other months, net of a linear trend.

    Fits ``value = a + b · t + lift · [calendar month == month_of_year]`` by OLS (WLS with ``weight``);
    standard errors as chosen by ``errors`` (see the module notes). ``lift`` is how much higher the value
    runs in that calendar month than the trend line through the other months.

    Parameters
    ----------
    series : pandas.DataFrame
        One row per month; rows with a missing value are skipped.
    time : str, default 'month'
        Month labels (month-start dates, ``pd.Period`` or ``'YYYY-MM'``).
    value : str
        Numeric column, e.g. ``mean`` from :func:`monthly_mean` of the sentiment compound score.
    month_of_year : int
        Calendar month 1-12 whose lift is estimated.
    weight : str, optional
        Positive WLS weights, e.g. ``n`` posts per month.
    maxlags : int, optional
        HAC lags; default the Newey–West rule.
    errors : {'conservative', 'hac', 'classical'}, default 'conservative'
        Standard errors: the larger of the classical and the Newey–West one per coefficient, pure
        Newey–West, or classical (see the module notes for why 'conservative' is the default).
    alpha : float, default 0.05
        1 - confidence level of the interval.

    Returns
    -------
    pandas.DataFrame
        One row:

        * ``month_of_year`` — the calendar month;
        * ``lift`` — estimated difference (same unit as ``value``);
        * ``ci_low``, ``ci_high`` — t interval;
        * ``p_value`` — two-sided test of lift = 0;
        * ``n_months`` — months used;
        * ``n_in_month`` — how many of them are the given calendar month.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> months = pd.date_range("2024-10-01", periods=24, freq="MS")
    >>> noise = np.tile([0.01, -0.01, 0.0], 8)
    >>> series = pd.DataFrame({"month": months,
    ...                        "compound": 0.2 + 0.15 * (months.month == 12) + noise})
    >>> seasonal_effect(series, value="compound", month_of_year=12)[["month_of_year", "lift", "n_in_month"]]
       month_of_year  lift  n_in_month
    0             12  0.15           2
    """
    _check_frame(series, "series", [time, value] + ([weight] if weight else []))
    _check_alpha(alpha)
    _check_maxlags(maxlags)
    _check_errors(errors)
    if not isinstance(month_of_year, int | np.integer) or not 1 <= month_of_year <= 12:
        raise ValueError(f"month_of_year = {month_of_year!r} must be an integer from 1 (January) to 12.")
    frame = _monthly_frame(series, time, value, weight)
    dummy = (pd.DatetimeIndex(frame["month"]).month == month_of_year).astype(float)
    n_in, n_out = int(dummy.sum()), int(len(dummy) - dummy.sum())
    if n_in < 2 or n_out < 6:
        raise ValueError(
            f"seasonal_effect needs at least 2 months that are month {month_of_year} and 6 that are not; "
            f"the series has {n_in} and {n_out}. Use a longer series."
        )
    x = np.column_stack([np.ones(len(frame)), frame["t"], dummy])
    fit = _fit_monthly(frame["y"].to_numpy(), x, frame["w"].to_numpy() if weight else None, maxlags, errors)
    lift, low, high, p_value = fit.row(2, alpha)
    return pd.DataFrame([{
        "month_of_year": int(month_of_year),
        "lift": lift,
        "ci_low": low,
        "ci_high": high,
        "p_value": p_value,
        "n_months": len(frame),
        "n_in_month": n_in,
    }])


# --- interrupted time series ---------------------------------------------------------------------

def _first_month_after(date: Any) -> pd.Timestamp:
    stamp = pd.Timestamp(date)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    month = stamp.to_period("M").to_timestamp()
    return month if stamp.normalize() == month else month + pd.DateOffset(months=1)


def interrupted_time_series(
    series: pd.DataFrame,
    *,
    time: str = "month",
    value: str,
    interruptions: Sequence[Any],
    weight: str | None = None,
    maxlags: int | None = None,
    errors: str = "conservative",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Level and slope changes of a monthly series at policy revisions (segmented regression).

    All interruptions are fitted jointly::

        value = a + b · t + sum_j [ level_j · after_j + slope_j · (t - t_j) · after_j ]

    where ``t`` counts months since the first month, ``t_j`` is interruption j's first "after" month
    and ``after_j = [t >= t_j]``. ``level_j`` is the jump at ``t_j`` above the line extrapolated from the
    preceding segment; ``slope_j`` the change of slope per month. A date on the 1st of a month makes that
    month the first "after" month; any other date leaves its (mixed) month "before" and the next month
    starts "after". Without ``weight`` the fit is OLS; with it, WLS (e.g. ``weight='n'`` posts per month,
    so a monthly share counts in proportion to its denominator; recommended for rates). Standard errors
    in both cases as chosen by ``errors``: by default the larger of the classical and the Newey–West
    error, because Newey–West alone is far too small for a 24-month series (see the module notes).

    Parameters
    ----------
    series : pandas.DataFrame
        One row per month; rows with a missing value are skipped.
    time : str, default 'month'
        Month labels (month-start dates, ``pd.Period`` or ``'YYYY-MM'``).
    value : str
        Numeric column, e.g. ``rate`` from :func:`monthly_rate` (the monthly adherence rate).
    interruptions : sequence of date-like
        Revision dates (e.g. policy ``effective_on``); at least one.
    weight : str, optional
        Positive WLS weights.
    maxlags : int, optional
        HAC lags; default the Newey–West rule.
    errors : {'conservative', 'hac', 'classical'}, default 'conservative'
        Standard errors: the larger of the classical and the Newey–West one per coefficient, pure
        Newey–West, or classical (see the module notes for why 'conservative' is the default).
    alpha : float, default 0.05
        1 - confidence level of the intervals.

    Returns
    -------
    pandas.DataFrame
        One row per interruption, in date order:

        * ``interruption`` — the date given (``Timestamp``);
        * ``first_month_after`` — month start of its first "after" month;
        * ``level_change``, ``level_ci_low``, ``level_ci_high``, ``level_p`` — the jump, its interval and
          two-sided p-value;
        * ``slope_change``, ``slope_ci_low``, ``slope_ci_high``, ``slope_p`` — the change of slope per month;
        * ``n_before``, ``n_after`` — months of the series before / from ``first_month_after``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> months = pd.date_range("2024-10-01", periods=24, freq="MS")
    >>> wiggle = np.tile([0.004, -0.004, -0.004, 0.004], 6)  # orthogonal to both segments' lines
    >>> series = pd.DataFrame({"month": months, "rate": 0.80 + 0.08 * (months >= "2025-06-01") + wiggle})
    >>> its = interrupted_time_series(series, value="rate", interruptions=["2025-06-01", "2026-02-14"])
    >>> its[["first_month_after", "level_change", "slope_change", "n_before", "n_after"]].round(
    ...     {"level_change": 4, "slope_change": 4})
      first_month_after  level_change  slope_change  n_before  n_after
    0        2025-06-01          0.08           0.0         8       16
    1        2026-03-01          0.00           0.0        17        7
    """
    _check_frame(series, "series", [time, value] + ([weight] if weight else []))
    _check_alpha(alpha)
    _check_maxlags(maxlags)
    _check_errors(errors)
    if isinstance(interruptions, str) or not len(interruptions):
        raise ValueError("`interruptions` must be a non-empty list of dates, e.g. ['2025-04-01'].")
    try:
        dates = sorted(pd.Timestamp(d) for d in interruptions)
    except (ValueError, TypeError) as error:
        raise ValueError(f"`interruptions` must hold dates ({error}).") from error
    frame = _monthly_frame(series, time, value, weight)
    starts = [_first_month_after(d) for d in dates]
    if len(set(starts)) < len(starts):
        raise ValueError(f"Interruptions {[f'{d:%Y-%m-%d}' for d in dates]} fall on the same first 'after' "
                         "month; merge them.")
    month_t = frame["t"].to_numpy()
    first = _month_number(frame["month"])[0]
    t_starts = [float(_month_number([s])[0] - first) for s in starts]
    edges = [-np.inf, *t_starts, np.inf]
    for lower, upper in itertools.pairwise(edges):
        inside = int(((month_t >= lower) & (month_t < upper)).sum())
        if inside < 3:
            raise ValueError(
                f"Every segment needs at least 3 months to fit a level and a slope; one segment around "
                f"interruptions {[f'{d:%Y-%m-%d}' for d in dates]} has {inside} "
                f"(series {frame['month'].iloc[0]:%Y-%m} .. {frame['month'].iloc[-1]:%Y-%m})."
            )
    columns = [np.ones(len(frame)), month_t]
    for t_j in t_starts:
        after = (month_t >= t_j).astype(float)
        columns += [after, after * (month_t - t_j)]
    fit = _fit_monthly(frame["y"].to_numpy(), np.column_stack(columns),
                       frame["w"].to_numpy() if weight else None, maxlags, errors)
    rows = []
    for j, (date, start, t_j) in enumerate(zip(dates, starts, t_starts, strict=True)):
        level = fit.row(2 + 2 * j, alpha)
        slope = fit.row(3 + 2 * j, alpha)
        rows.append({
            "interruption": date,
            "first_month_after": start,
            **dict(zip(["level_change", "level_ci_low", "level_ci_high", "level_p"], level, strict=True)),
            **dict(zip(["slope_change", "slope_ci_low", "slope_ci_high", "slope_p"], slope, strict=True)),
            "n_before": int((month_t < t_j).sum()),
            "n_after": int((month_t >= t_j).sum()),
        })
    return pd.DataFrame(rows)


# --- training effect -----------------------------------------------------------------------------

def _dummies(values: pd.Series, prefix: str) -> pd.DataFrame:
    """Treatment-coded indicator columns (first level dropped) of a categorical covariate."""
    return pd.get_dummies(values.astype("string").fillna("<missing>"), prefix=prefix, drop_first=True,
                          dtype=float)


def _post_frame(
    posts: pd.DataFrame, *, outcome: str, unit: str, time: str, covariates: list[str], cluster: str | None,
    extra: list[str],
) -> tuple[np.ndarray, pd.Series, np.ndarray]:
    """Checked outcome, UTC times and integer cluster codes of a post-level table."""
    _check_frame(posts, "posts", [outcome, unit, time, *covariates, *extra] + ([cluster] if cluster else []))
    y = _binary(posts[outcome], outcome, allow_missing=False)
    for column in [unit, *([cluster] if cluster else [])]:
        if posts[column].isna().any():
            raise ValueError(f"Column `{column}` has missing values; every post needs a {column}.")
    groups = pd.factorize(posts[cluster or unit])[0]
    return y, _event_times(posts[time], time), groups


def training_effect(
    posts: pd.DataFrame,
    *,
    outcome: str,
    trained: str,
    unit: str,
    time: str,
    rollout_start: Any,
    covariates: Columns = (),
    cluster: str | None = None,
    timezone: str | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Effect of training on a binary post outcome (e.g. a violation): odds ratio and risk difference.

    Two estimators, one row each:

    1. ``logistic`` — ``outcome ~ trained + C(month) + C(covariate) ...`` by maximum likelihood, with
       cluster-robust errors; ``estimate`` is the odds ratio ``exp(b_trained)`` of a trained employee's
       post vs an untrained one in the same month (and covariate levels).
    2. ``did_lpm`` — difference-in-differences as a linear probability model
       ``outcome ~ treated_group + post + treated_group:post + C(covariate) ...`` with cluster-robust errors;
       ``estimate`` is the interaction, a risk difference: (treated post - pre) - (control post - pre).
       ``treated_group`` = units with at least one ``trained`` post; ``post`` = published at or after
       ``rollout_start`` (midnight in the organisation's time zone).

    Covariates are treated as categorical (one indicator per level but the first; a missing value is a
    level of its own).

    Parameters
    ----------
    posts : pandas.DataFrame
        One row per post.
    outcome : str
        Boolean or 0/1 outcome (e.g. ``violation``).
    trained : str
        Boolean or 0/1: the post was published after its author completed the training.
    unit : str
        The author (e.g. ``author_key``); clusters by default.
    time : str
        Publication timestamps; months are cut in ``timezone``.
    rollout_start : date-like
        First day of the training rollout (e.g. ``'2026-01-15'``); no post may be trained before it.
    covariates : str or sequence of str, optional
        Categorical adjustment columns, e.g. ``'department'``.
    cluster : str, optional
        Cluster column if not ``unit`` (e.g. ``'department'`` when employees share teams).
    timezone : str, optional
        IANA zone for months and ``rollout_start``; default the organisation's.
    alpha : float, default 0.05
        1 - confidence level of the intervals.

    Returns
    -------
    pandas.DataFrame
        Two rows:

        * ``estimator`` — ``'logistic'`` or ``'did_lpm'``;
        * ``term`` — ``'odds_ratio'`` or ``'did_risk_difference'``;
        * ``estimate``, ``ci_low``, ``ci_high`` — the effect and its interval (odds-ratio interval is
          ``exp`` of the log-odds interval; NaN, with ``p_value``, where the trained or the untrained posts
          all share one outcome: no finite odds ratio fits them);
        * ``p_value`` — two-sided test of no effect;
        * ``n_obs`` — posts used (the logistic model leaves out the months whose posts all share one
          outcome: their fixed effects have no finite estimate, and they hold no information on the odds ratio);
        * ``n_clusters`` — clusters in the robust errors.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> n = 4000
    >>> employee = rng.integers(0, 80, n)
    >>> published = pd.Timestamp("2025-10-01", tz="UTC") + pd.to_timedelta(rng.uniform(0, 240, n), unit="D")
    >>> trained = (employee < 40) & (published >= pd.Timestamp("2026-02-01", tz="UTC"))
    >>> violation = rng.random(n) < np.where(trained, 0.05, 0.12)
    >>> posts = pd.DataFrame({"employee": employee, "published_at": published,
    ...                       "trained": trained, "violation": violation})
    >>> result = training_effect(posts, outcome="violation", trained="trained", unit="employee",
    ...                          time="published_at", rollout_start="2026-01-15", timezone="UTC")
    >>> result[["estimator", "term", "n_obs", "n_clusters"]]
      estimator                 term  n_obs  n_clusters
    0  logistic           odds_ratio   4000          80
    1   did_lpm  did_risk_difference   4000          80
    >>> bool(result.loc[0, "ci_high"] < 1), bool(result.loc[1, "ci_high"] < 0)
    (True, True)
    """
    covariates = _as_list(covariates)
    _check_alpha(alpha)
    y, stamps, groups = _post_frame(posts, outcome=outcome, unit=unit, time=time, covariates=covariates,
                                    cluster=cluster, extra=[trained])
    is_trained = _binary(posts[trained], trained, allow_missing=False)
    zone = _zone(timezone)
    try:
        start = pd.Timestamp(rollout_start)
    except (ValueError, TypeError) as error:
        raise ValueError(f"rollout_start = {rollout_start!r} is not a date, e.g. '2026-01-15'.") from error
    start = start.tz_convert("UTC") if start.tzinfo else start.tz_localize(zone).tz_convert("UTC")
    post = (stamps >= start).to_numpy().astype(float)
    if (is_trained.astype(bool) & (post == 0)).any():
        raise ValueError(f"Some `{trained}` posts are published before rollout_start {rollout_start}; "
                         "pass the first day of the training rollout.")
    treated_units = posts.loc[is_trained.astype(bool), unit].unique()
    group = posts[unit].isin(treated_units).to_numpy().astype(float)
    if group.all() or not group.any() or post.all() or not post.any():
        raise ValueError("Difference-in-differences needs trained and never-trained units, and posts both "
                         "before and after rollout_start.")
    adjust = pd.concat([_dummies(posts[c], c) for c in covariates], axis=1) if covariates else None
    month = _event_months(posts[time], time, timezone)
    # a month whose posts all share one outcome says nothing about the odds within months, and its fixed
    # effect runs off to infinity (the fit never converges): its posts are left out of the logistic model,
    # as fixed-effects estimators do
    within = (pd.Series(y, index=posts.index).groupby(month.to_numpy()).transform("nunique") > 1).to_numpy()
    kept = posts[within]
    logit_x = pd.concat([pd.DataFrame({"const": 1.0, "trained": is_trained[within]}, index=kept.index),
                         _dummies(month[within], "month"),
                         *[_dummies(kept[c], c) for c in covariates]], axis=1)
    odds = _odds_ratio(y[within], logit_x.to_numpy(), is_trained[within].astype(bool), groups[within], alpha)

    did_x = pd.concat([pd.DataFrame({"const": 1.0, "group": group, "post": post, "did": group * post},
                                    index=posts.index), adjust], axis=1)
    import statsmodels.api as sm

    did = sm.OLS(y, did_x.to_numpy()).fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    did_low, did_high = did.conf_int(alpha=alpha)[3]

    n_clusters = int(groups.max() + 1)
    return pd.DataFrame([
        {"estimator": "logistic", "term": "odds_ratio", **odds,
         "n_obs": int(within.sum()), "n_clusters": len(np.unique(groups[within]))},
        {"estimator": "did_lpm", "term": "did_risk_difference", "estimate": float(did.params[3]),
         "ci_low": float(did_low), "ci_high": float(did_high), "p_value": float(did.pvalues[3]),
         "n_obs": len(y), "n_clusters": n_clusters},
    ])


def _odds_ratio(y: np.ndarray, x: np.ndarray, trained: np.ndarray, groups: np.ndarray, alpha: float) -> dict:
    """The trained coefficient of the logistic model as an odds ratio with its interval and p-value; NaN when the
    data cannot give one: the trained (or untrained) posts all share one outcome (none with a violation, say), so
    the likelihood rises without end as the odds ratio goes to 0 or infinity, and a fit stopped on the way would
    print an odds ratio of 1e-9 with p < 1e-80."""
    unknown = dict.fromkeys(("estimate", "ci_low", "ci_high", "p_value"), np.nan)
    if any(len(np.unique(y[side])) < 2 for side in (trained, ~trained)):
        return unknown
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit = sm.Logit(y, x).fit(disp=0, cov_type="cluster", cov_kwds={"groups": groups})
    if not fit.mle_retvals["converged"]:
        return unknown
    low, high = fit.conf_int(alpha=alpha)[1]
    return {"estimate": math.exp(fit.params[1]), "ci_low": math.exp(low), "ci_high": math.exp(high),
            "p_value": float(fit.pvalues[1])}


def event_study(
    posts: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    trained_at: str,
    window: tuple[int, int] = (-6, 6),
    cluster: str | None = None,
    timezone: str | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Event study of a binary post outcome around each unit's training month (for a leads/lags chart).

    Linear probability model with unit and calendar-month fixed effects and one indicator per month
    relative to the unit's training month (``relative_month = month(post) - month(trained_at)``); month -1
    is the reference (estimate 0). Posts further out than ``window`` are pooled into its end points, which
    therefore read "``<= lo``" and "``>= hi``". Never-trained units (``trained_at`` missing) are the
    controls that pin down the calendar-month effects. Cluster-robust errors (see the module notes).
    Estimates are risk differences against month -1; leads (negative months) near zero support parallel
    trends.

    Parameters
    ----------
    posts : pandas.DataFrame
        One row per post.
    outcome : str
        Boolean or 0/1 outcome (e.g. ``violation``).
    unit : str
        The author; fixed effect and default cluster.
    time : str
        Publication timestamps; months are cut in ``timezone``.
    trained_at : str
        The author's training completion time on every post (missing for never-trained authors).
    window : (int, int), default (-6, 6)
        First and last relative month shown; must include -1 and 0.
    cluster : str, optional
        Cluster column if not ``unit``.
    timezone : str, optional
        IANA zone in which months are cut; default the organisation's.
    alpha : float, default 0.05
        1 - confidence level of the intervals.

    Returns
    -------
    pandas.DataFrame
        One row per relative month in ``window``:

        * ``relative_month`` — months since the training month (0 = month of completion);
        * ``estimate`` — risk difference vs month -1 (0 for -1 itself; NaN for a month no trained post
          reaches, e.g. months after the last data);
        * ``ci_low``, ``ci_high`` — cluster-robust t interval (NaN for the reference month and unreached ones);
        * ``p_value`` — two-sided test of no difference (NaN for the reference month and unreached ones);
        * ``n_obs`` — trained units' posts in that relative month (end points pooled).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(2)
    >>> n = 12000
    >>> employee = rng.integers(0, 100, n)
    >>> published = pd.Timestamp("2025-07-01", tz="UTC") + pd.to_timedelta(rng.uniform(0, 450, n), unit="D")
    >>> completion = pd.Timestamp("2026-01-15", tz="UTC") + pd.to_timedelta(rng.uniform(0, 45, 100), unit="D")
    >>> completed = pd.Series(completion[employee]).where(employee < 50)
    >>> trained = (published > completed).to_numpy()
    >>> posts = pd.DataFrame({"employee": employee, "published_at": published, "completed_at": completed,
    ...                       "violation": rng.random(n) < np.where(trained, 0.05, 0.15)})
    >>> study = event_study(posts, outcome="violation", unit="employee", time="published_at",
    ...                     trained_at="completed_at", window=(-3, 3), timezone="UTC")
    >>> study["relative_month"].tolist()
    [-3, -2, -1, 0, 1, 2, 3]
    >>> after, before = study["relative_month"] >= 1, study["relative_month"] <= -2
    >>> bool(study.loc[after, "estimate"].max() < study.loc[before, "estimate"].min())
    True
    """
    _check_alpha(alpha)
    lo, hi = window
    if not (isinstance(lo, int) and isinstance(hi, int) and lo <= -2 and hi >= 0):
        raise ValueError(f"window = {window!r} must be two integers (lo, hi) with lo <= -2 and hi >= 0, "
                         "e.g. (-6, 6); month -1 is the reference.")
    y, _, groups = _post_frame(posts, outcome=outcome, unit=unit, time=time, covariates=[], cluster=cluster,
                               extra=[trained_at])
    months = _event_months(posts[time], time, timezone)
    completed = posts[trained_at]
    if completed.isna().all() or completed.notna().all():
        raise ValueError(f"event_study needs trained units and never-trained controls (`{trained_at}` "
                         f"missing); `{trained_at}` is {'never' if completed.isna().all() else 'always'} missing.")
    varies = completed.groupby(posts[unit]).nunique(dropna=False) > 1
    if varies.any():
        raise ValueError(f"`{trained_at}` must be the same on every post of a unit; {int(varies.sum())} "
                         "unit(s) have several values. Use each unit's first completion.")
    treated = completed.notna().to_numpy()
    trained_month = pd.Series(pd.NaT, index=posts.index, dtype=months.dtype)
    trained_month[treated] = _event_months(completed[treated], trained_at, timezone).to_numpy()
    # Controls get relative month 0 here but never an event indicator (those require `treated`).
    relative = np.clip(_month_number(months) - _month_number(trained_month.fillna(months)), lo, hi)
    # a month relative to training that no trained post reaches (data ending a month after the rollout) is
    # not estimated: its column of zeros made the design rank-deficient and its estimate a meaningless 0
    shown = [k for k in range(lo, hi + 1) if k != -1 and (treated & (relative == k)).any()]
    events = np.column_stack([(treated & (relative == k)).astype(float) for k in shown]) if shown else \
        np.empty((len(posts), 0))
    x = pd.concat([pd.DataFrame(events, index=posts.index), _dummies(months, "month")], axis=1)
    # Unit effects are absorbed by demeaning within unit (same coefficients as unit dummies, much faster);
    # the cluster correction then does not count them, the usual convention when units nest in clusters.
    units = pd.factorize(posts[unit])[0]
    x_within = x - x.groupby(units).transform("mean")
    y_within = y - pd.Series(y).groupby(units).transform("mean").to_numpy()
    import statsmodels.api as sm

    fit = sm.OLS(y_within, x_within.to_numpy()).fit(cov_type="cluster", cov_kwds={"groups": groups},
                                                    use_t=True)
    bounds = fit.conf_int(alpha=alpha)
    rows = []
    for k in range(lo, hi + 1):
        n_obs = int((treated & (relative == k)).sum())
        if k == -1 or k not in shown:
            rows.append({"relative_month": k, "estimate": 0.0 if k == -1 else np.nan, "ci_low": np.nan,
                         "ci_high": np.nan, "p_value": np.nan, "n_obs": n_obs})
            continue
        col = shown.index(k)
        rows.append({"relative_month": k, "estimate": float(fit.params[col]), "ci_low": float(bounds[col, 0]),
                     "ci_high": float(bounds[col, 1]), "p_value": float(fit.pvalues[col]), "n_obs": n_obs})
    return pd.DataFrame(rows)
