"""Survey statistics: response rates, construct scores, favourability, eNPS, reliability, wave
comparisons, department gaps, key drivers and answer distributions.

Every function reads the canonical warehouse tables as tidy frames:

* ``respondents``: ``response_id, wave, submitted_at, finished, department, role_level, tenure_band, location``;
* ``answers``: ``response_id, item_id, value`` (numeric, recoded to the scale's numbers by the codebook,
  reverse coding *not* applied), optionally ``value_label`` and ``mapped``;
* ``items``: ``item_id, construct, area, kind ('likert' | 'nps' | 'text' | 'demographic'), reverse,
  scale_min, scale_max, text`` (what :mod:`analytics.codebook` exports).

Conventions shared by all functions:

* A reverse-coded item is recoded as ``scale_min + scale_max - value`` before anything is computed, so a
  high value always means a good outcome.
* Unfinished responses are left out unless ``include_unfinished=True`` (the design contract: they are
  kept in the warehouse, flagged, and left out of statistics by default); a missing ``finished`` flag
  counts as unfinished.
* Every output grouped by people passes through :func:`analytics.privacy.suppress_small_groups`: a group
  with fewer than ``k`` people is hidden, and so is a second cell wherever one hidden cell could be
  recovered from the totals (differencing). Each item or construct is treated as its own published
  table. Hidden rows keep their group labels, show NA for counts and statistics and ``suppressed=True``.
* ``respondents`` selects the responses analysed: answers of responses not in it are left out, so
  passing one wave's respondents analyses that wave.
* A missing group value (a respondent who did not state a department) forms its own group (NA) rather
  than silently vanishing from the totals.
* Waves are ordered by their earliest ``submitted_at`` (ties and missing times fall back to the wave
  name), so configured survey periods with free-form names order correctly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from analytics.adherence import wilson_interval
from analytics.privacy import suppress_small_groups

__all__ = [
    "benjamini_hochberg",
    "construct_scores",
    "cronbach_alpha",
    "department_gap",
    "enps",
    "favourability",
    "headcount_by_wave",
    "key_drivers",
    "likert_distribution",
    "response_rates",
    "wave_change",
]

_ITEM_COLUMNS = ("item_id", "construct", "kind", "reverse", "scale_min", "scale_max")
_ANSWER_HINT = "pass the canonical survey_answers table (response_id, item_id, value)."
_ITEM_HINT = (
    "pass the items frame exported by analytics.codebook (item_id, construct, kind, reverse, scale_min, scale_max)."
)
_RESPONDENT_HINT = "pass the canonical respondents table (response_id, wave, finished, ...)."
_SCALED_KINDS = ("likert", "nps")


# --- argument checks and shared preparation --------------------------------------------------------

def _require(frame: object, name: str, columns: Sequence[str], hint: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}; {hint}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks columns {missing} (has {list(frame.columns)}); {hint}")


def _as_tuple(by: str | Sequence[str] | None) -> tuple[str, ...]:
    if by is None:
        return ()
    if isinstance(by, str):
        return (by,)
    return tuple(by)


def _check_by(by: tuple[str, ...], respondents: pd.DataFrame, reserved: Sequence[str]) -> None:
    if len(set(by)) != len(by):
        raise ValueError(f"by={list(by)} repeats a column; name each grouping column once.")
    unknown = [c for c in by if c not in respondents.columns]
    if unknown:
        raise ValueError(
            f"by={list(by)}: {unknown} not in respondents (columns {list(respondents.columns)}); "
            "group by respondent columns such as 'wave' or 'department'."
        )
    clash = [c for c in by if c in reserved or c == "response_id"]
    if clash:
        raise ValueError(f"by={list(by)}: {clash} cannot be a grouping column here; choose a respondent attribute.")


def _check_confidence(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence = {confidence}; give a level strictly between 0 and 1, e.g. 0.95.")
    return float(confidence)


def _numeric(values: pd.Series, what: str) -> np.ndarray:
    try:
        converted = pd.to_numeric(values, errors="raise")
    except (TypeError, ValueError) as error:
        raise ValueError(f"{what} must be numeric ({error}); recode answers through the codebook first.") from None
    return pd.Series(converted).astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def _item_catalogue(items: pd.DataFrame) -> pd.DataFrame:
    """The items frame reduced to what the statistics need, checked, in codebook order."""
    _require(items, "items", _ITEM_COLUMNS, _ITEM_HINT)
    if items["item_id"].duplicated().any():
        duplicated = sorted(items.loc[items["item_id"].duplicated(), "item_id"].astype(str).unique())
        raise ValueError(f"items lists {duplicated} more than once; each item_id must appear once.")
    out = pd.DataFrame({
        "item_id": items["item_id"].to_numpy(),
        "construct": items["construct"].to_numpy(),
        "kind": items["kind"].astype("string").str.strip().str.lower().to_numpy(),
        "reverse": items["reverse"].astype("boolean").fillna(False).to_numpy(dtype=bool),
        "scale_min": _numeric(items["scale_min"], "items.scale_min"),
        "scale_max": _numeric(items["scale_max"], "items.scale_max"),
    })
    scaled = out["kind"].isin(_SCALED_KINDS).to_numpy(dtype=bool)
    valid = np.isfinite(out["scale_min"]) & np.isfinite(out["scale_max"]) & (out["scale_min"] < out["scale_max"])
    bad = scaled & ~valid.to_numpy(dtype=bool)
    if bad.any():
        raise ValueError(
            f"items {out.loc[bad, 'item_id'].tolist()} are likert/nps but have no valid scale "
            "(scale_min < scale_max); fix their scale in the codebook."
        )
    out["order"] = np.arange(len(out))
    return out


def _respondents_used(
    respondents: pd.DataFrame, *, include_unfinished: bool, columns: Sequence[str] = ()
) -> pd.DataFrame:
    _require(respondents, "respondents", ("response_id", "wave", "finished", *columns), _RESPONDENT_HINT)
    if respondents["response_id"].duplicated().any():
        raise ValueError("respondents lists a response_id more than once; each response must appear once.")
    keep = ["response_id", "wave", "finished", *[c for c in columns if c not in ("response_id", "wave", "finished")]]
    out = respondents[keep].copy()
    finished = out["finished"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    return out if include_unfinished else out.loc[finished]


def _answers_long(
    answers: pd.DataFrame,
    items: pd.DataFrame,
    respondents: pd.DataFrame | None,
    *,
    kinds: Sequence[str],
    include_unfinished: bool,
    columns: Sequence[str] = (),
) -> pd.DataFrame:
    """One row per answered scaled item: recoded ``value``, the raw answer, item facts and respondent columns.

    Answers to items outside ``kinds`` (or not in the codebook) and skipped answers (NA) are left out.
    """
    _require(answers, "answers", ("response_id", "item_id", "value"), _ANSWER_HINT)
    catalogue = _item_catalogue(items)
    frame = answers[["response_id", "item_id"]].copy()
    frame["raw_value"] = _numeric(answers["value"], "answers.value")
    if "value_label" in answers.columns:
        frame["value_label"] = answers["value_label"].astype("string").to_numpy()
    frame = frame.loc[np.isfinite(frame["raw_value"].to_numpy())]
    frame = frame.merge(catalogue.loc[catalogue["kind"].isin(kinds)], on="item_id", how="inner", validate="m:1")
    twice = frame.duplicated(["response_id", "item_id"])
    if twice.any():
        example = frame.loc[twice, ["response_id", "item_id"]].iloc[0].tolist()
        raise ValueError(
            f"answers has {int(twice.sum())} repeated (response_id, item_id) pairs, e.g. {example}; "
            "keep one answer per response and item."
        )
    outside = (frame["raw_value"] < frame["scale_min"]) | (frame["raw_value"] > frame["scale_max"])
    if outside.any():
        bad = frame.loc[outside, "item_id"].astype(str).unique().tolist()
        raise ValueError(
            f"{int(outside.sum())} answers lie outside their item's scale (items {bad[:5]}); "
            "recode them with the codebook or fix the items' scale_min/scale_max."
        )
    frame["value"] = np.where(
        frame["reverse"], frame["scale_min"] + frame["scale_max"] - frame["raw_value"], frame["raw_value"]
    )
    if respondents is None:
        return frame
    people = _respondents_used(respondents, include_unfinished=True, columns=columns)
    # respondents select the responses analysed (e.g. one wave); no overlap at all means mismatched keys
    if len(frame) and not frame["response_id"].isin(people["response_id"]).any():
        raise ValueError(
            "no answer belongs to a response in respondents; check that both use the same response_id values."
        )
    if not include_unfinished:
        people = _respondents_used(respondents, include_unfinished=False, columns=columns)
    return frame.merge(people, on="response_id", how="inner", validate="m:1")


def _group_key(frame: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """A string key per row that treats missing group values as one group (safe to merge on)."""
    if not columns:
        return pd.Series("", index=frame.index, dtype="string")
    parts = [frame[c].astype("string").fillna("\x00NA") for c in columns]
    key = parts[0]
    for part in parts[1:]:
        key = key + "\x1f" + part
    return key


def _suppress(
    table: pd.DataFrame,
    *,
    by: Sequence[str],
    per: Sequence[str],
    n: str,
    values: Sequence[str],
    k: int | None,
    counts: Sequence[str] = (),
    also: Sequence[str] = (),
) -> pd.DataFrame:
    """``suppress_small_groups`` within each item/construct (``per``), keeping the row order."""
    # a missing group value (department not stated) is a group of its own: hand the privacy module a
    # plain label for it, and put the original values back afterwards
    labelled = table.copy()
    for column in by:
        labelled[column] = _group_key(table, [column])
    if not per or table.empty:
        out = suppress_small_groups(labelled, by=list(by), n=n, values=list(values), k=k, also=list(also))
    else:
        parts = [
            suppress_small_groups(part, by=list(by), n=n, values=list(values), k=k, also=list(also))
            for _, part in labelled.groupby(list(per), sort=False, dropna=False)
        ]
        out = pd.concat(parts).loc[table.index]
    for column in by:
        out[column] = table[column]
    for column in counts:
        out[column] = out[column].astype("Float64").round().astype("Int64")
    return out


def _blank(table: pd.DataFrame, hidden: np.ndarray, columns: Sequence[str]) -> pd.DataFrame:
    """Blank ``columns`` in ``hidden`` rows (used where a row's visibility comes from several tables)."""
    out = table.copy()
    for column in columns:
        if pd.api.types.is_bool_dtype(out[column]):
            out[column] = out[column].astype("boolean")
        elif pd.api.types.is_integer_dtype(out[column]):
            out[column] = out[column].astype("Int64")
        extension = isinstance(out[column].dtype, pd.api.extensions.ExtensionDtype)
        out.loc[hidden, column] = pd.NA if extension else np.nan
    out["suppressed"] = hidden
    return out


def _wave_order(respondents: pd.DataFrame) -> list[str]:
    timed = ["submitted_at"] if "submitted_at" in respondents.columns else []
    waves = respondents.loc[respondents["wave"].notna(), ["wave", *timed]]
    if "submitted_at" in waves.columns:
        when = pd.to_datetime(waves["submitted_at"], utc=True, errors="coerce")
        first = when.groupby(waves["wave"].to_numpy()).min()
    else:
        first = pd.Series(pd.NaT, index=pd.unique(waves["wave"]), dtype="datetime64[ns, UTC]")
    order = pd.DataFrame({"wave": first.index.astype(str), "first": first.to_numpy()})
    return order.sort_values(["first", "wave"], na_position="last")["wave"].tolist()


def _stats():  # the scipy.stats module
    # imported on first use: scipy.stats takes ~0.5 s to import and the build's construct scores need none of it
    from scipy import stats

    return stats


def _z(confidence: float) -> float:
    return float(_stats().norm.ppf(0.5 + confidence / 2))


def _wilson(successes: np.ndarray, n: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval; NaN where there is no one to count or the count exceeds ``n``."""
    successes = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    low, high = wilson_interval(successes, n, confidence=confidence)
    invalid = ~(n > 0) | ~(successes >= 0) | (successes > n)
    return np.where(invalid, np.nan, low), np.where(invalid, np.nan, high)


def _welch(
    mean_a: np.ndarray, var_a: np.ndarray, n_a: np.ndarray,
    mean_b: np.ndarray, var_b: np.ndarray, n_b: np.ndarray,
    confidence: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Welch's unequal-variance t: difference a - b, its CI and two-sided p (NaN below 2 per side)."""
    n_a = np.asarray(n_a, dtype=float)
    n_b = np.asarray(n_b, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        share_a = np.asarray(var_a, dtype=float) / n_a
        share_b = np.asarray(var_b, dtype=float) / n_b
        diff = np.asarray(mean_a, dtype=float) - np.asarray(mean_b, dtype=float)
        se = np.sqrt(share_a + share_b)
        df = (share_a + share_b) ** 2 / (share_a**2 / (n_a - 1) + share_b**2 / (n_b - 1))
        testable = (n_a >= 2) & (n_b >= 2) & (se > 0)
        p = np.where(testable, 2 * _stats().t.sf(np.abs(diff / se), df), np.nan)
        half = np.where(testable, _stats().t.ppf(0.5 + confidence / 2, df) * se, np.nan)
    return diff, diff - half, diff + half, p


def benjamini_hochberg(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values: a row is a discovery at false-discovery rate ``q`` when its
    adjusted value is below ``q``. Only the finite entries form the family; NaN stays NaN.

    Parameters
    ----------
    p_values : sequence of float
        One p-value per test of the family (NaN for a test that could not be run).

    Returns
    -------
    ndarray
        The adjusted p-values in the input's order, each at most 1.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, np.nan, 0.03]).round(3).tolist()
    [0.03, 0.04, nan, 0.04]
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    if finite.size == 0:
        return out
    order = finite[np.argsort(p[finite], kind="stable")]
    m = order.size
    scaled = p[order] * m / np.arange(1, m + 1)
    out[order] = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    return out


def _moments(frame: pd.DataFrame, keys: Sequence[str], value: str) -> pd.DataFrame:
    grouped = frame.groupby(list(keys), sort=False, dropna=False)[value]
    return grouped.agg(n="size", mean="mean", var="var").reset_index()


# --- response rates ---------------------------------------------------------------------------------

def headcount_by_wave(employees: pd.DataFrame, waves: pd.DataFrame) -> pd.DataFrame:
    """Employees per department and survey wave: the response-rate denominator.

    A person counts in a wave if employed at the wave's midpoint, ``start + (end - start) / 2``:
    ``started_on <= midpoint`` (a missing start counts as employed from before) and ``left_on`` missing
    or after the midpoint. Dates are compared as calendar timestamps (time zones dropped).

    Parameters
    ----------
    employees : DataFrame
        ``employee_key, department, started_on, left_on`` (the canonical employees table).
    waves : DataFrame
        ``wave, start, end``: one row per survey wave.

    Returns
    -------
    DataFrame
        One row per department (including a missing department, if any employee lacks one) and wave,
        zero-filled, in wave order:

        * ``department``: the department.
        * ``wave``: the wave.
        * ``headcount``: employees employed at the wave's midpoint (int).

    Examples
    --------
    >>> employees = pd.DataFrame({
    ...     "employee_key": ["a", "b", "c"], "department": ["Finance", "Finance", "Legal"],
    ...     "started_on": ["2025-01-01", "2026-08-01", None], "left_on": [None, None, "2026-07-20"]})
    >>> waves = pd.DataFrame({"wave": ["2026-Q3"], "start": ["2026-07-01"], "end": ["2026-09-30"]})
    >>> headcount_by_wave(employees, waves)
      department     wave  headcount
    0    Finance  2026-Q3          2
    1      Legal  2026-Q3          0
    """
    _require(employees, "employees", ("employee_key", "department", "started_on", "left_on"),
             "pass the canonical employees table (employee_key, department, started_on, left_on).")
    _require(waves, "waves", ("wave", "start", "end"), "pass one row per wave with its start and end dates.")
    if waves["wave"].duplicated().any():
        raise ValueError("waves lists a wave more than once; give each wave one start and end.")
    start, end = _timestamps(waves["start"], "waves.start"), _timestamps(waves["end"], "waves.end")
    if (start.isna() | end.isna()).any() or (end < start).any():
        raise ValueError("every wave needs a start and an end on or after it; fix the waves frame.")
    midpoints = start + (end - start) / 2
    started = _timestamps(employees["started_on"], "employees.started_on")
    left = _timestamps(employees["left_on"], "employees.left_on")
    departments = pd.unique(employees["department"])
    rows = []
    for wave, midpoint in zip(waves["wave"], midpoints, strict=True):
        employed = (started.isna() | (started <= midpoint)) & (left.isna() | (left > midpoint))
        counts = employees.loc[employed.to_numpy(), "department"].value_counts(dropna=False)
        for department in departments:
            rows.append((department, wave, int(counts.get(department, 0))))
    return pd.DataFrame(rows, columns=["department", "wave", "headcount"]).astype({"headcount": "int64"})


def _timestamps(values: pd.Series, what: str) -> pd.Series:
    try:
        parsed = pd.to_datetime(pd.Series(values).reset_index(drop=True), errors="raise")
    except (TypeError, ValueError) as error:
        raise ValueError(f"{what} must hold dates ({error}).") from None
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed


def response_rates(
    respondents: pd.DataFrame,
    headcount: pd.DataFrame,
    *,
    by: str | Sequence[str] = ("wave", "department"),
    k: int | None = None,
    include_unfinished: bool = False,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Share of employees who responded, per wave and department, with a Wilson interval.

    Respondents without a department form their own row (``department`` NA, headcount NA) when grouping
    by department; without that grouping they count in the totals. Departments in ``headcount`` without
    any response appear with ``n_responses = 0`` (and are suppressed).

    Parameters
    ----------
    respondents : DataFrame
        Canonical respondents (``response_id, wave, finished, department``).
    headcount : DataFrame
        ``department, wave, headcount``, e.g. from :func:`headcount_by_wave`.
    by : str or sequence of str
        Any of ``"wave"`` and ``"department"`` (empty: one overall rate).
    k : int, optional
        Small-group threshold on ``n_responses``; defaults to the configured ``k``. Complementary
        cells are added until the hidden groups hold at least ``k`` more responses, and ``k`` more
        employees, than there are hidden groups (a hidden group's responses never exceed its
        headcount, so a small hidden headcount would narrow them).
    include_unfinished : bool
        Count unfinished responses too (default: completed responses only).
    confidence : float
        Level of the interval.

    Returns
    -------
    DataFrame
        One row per group:

        * the ``by`` columns;
        * ``n_responses``: responses in the group (Int64, NA when suppressed);
        * ``headcount``: employees in the group (Int64; NA when suppressed or unknown);
        * ``response_rate``: ``n_responses / headcount``;
        * ``ci_low``, ``ci_high``: Wilson score interval (NA when the count exceeds the headcount);
        * ``suppressed``: True where the group is hidden.

    Examples
    --------
    >>> respondents = pd.DataFrame({"response_id": [f"r{i}" for i in range(14)], "wave": "2026-Q3",
    ...     "finished": [True] * 13 + [False], "department": ["Finance"] * 8 + ["Legal"] * 6})
    >>> headcount = pd.DataFrame({"department": ["Finance", "Legal"], "wave": "2026-Q3", "headcount": [10, 8]})
    >>> response_rates(respondents, headcount, k=3)[["department", "n_responses", "response_rate"]]
      department  n_responses  response_rate
    0    Finance            8          0.800
    1      Legal            5          0.625
    """
    by = _as_tuple(by)
    if any(c not in ("wave", "department") for c in by) or len(set(by)) != len(by):
        raise ValueError(
            f"by={list(by)}: response rates group by 'wave' and/or 'department' only (the headcount's keys)."
        )
    confidence = _check_confidence(confidence)
    people = _respondents_used(respondents, include_unfinished=include_unfinished, columns=by)
    _require(headcount, "headcount", ("department", "wave", "headcount"),
             "pass headcount_by_wave(employees, waves) or a frame with department, wave, headcount.")
    denominators = headcount[["department", "wave"]].copy()
    denominators["headcount"] = _numeric(headcount["headcount"], "headcount.headcount")
    if "department" in by:
        # a respondent without a department has no denominator; never match them to unknown employees
        denominators = denominators.loc[denominators["department"].notna()]
    if by:
        counts = people.groupby(list(by), sort=False, dropna=False).size().rename("n_responses").reset_index()
        totals = denominators.groupby(list(by), sort=False, dropna=False)["headcount"].sum().reset_index()
        counts["_key"] = _group_key(counts, by)
        totals["_key"] = _group_key(totals, by)
        table = counts.merge(totals, on="_key", how="outer", suffixes=("", "_headcount"))
        for column in by:
            table[column] = table[column].combine_first(table[f"{column}_headcount"])
        table = table.drop(columns=["_key", *[f"{column}_headcount" for column in by]])
    else:
        table = pd.DataFrame({"n_responses": [len(people)], "headcount": [denominators["headcount"].sum()]})
    table["n_responses"] = table["n_responses"].fillna(0).astype("int64")
    if "wave" in by:
        order = {w: i for i, w in enumerate(_wave_order(respondents))}
        table["_wave"] = table["wave"].map(lambda w: order.get(w, len(order)))
        table = table.sort_values(["_wave", *[c for c in by if c != "wave"], "wave"], na_position="last")
        table = table.drop(columns="_wave")
    elif by:
        table = table.sort_values(list(by), na_position="last")
    table = table.reset_index(drop=True)
    hc = table["headcount"].to_numpy(dtype=float)
    n = table["n_responses"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["response_rate"] = np.where(hc > 0, n / hc, np.nan)
    table["ci_low"], table["ci_high"] = _wilson(n, hc, confidence)
    table["headcount"] = pd.array(np.where(np.isfinite(hc), hc, np.nan), dtype="Float64").round().astype("Int64")
    table = table[[*by, "n_responses", "headcount", "response_rate", "ci_low", "ci_high"]]
    return _suppress(
        table, by=by, per=(), n="n_responses", values=("headcount", "response_rate", "ci_low", "ci_high"),
        k=k, counts=("n_responses", "headcount"),
        # the hidden groups' headcount bounds their responses: it must hide as many people as they do
        also=("headcount",),
    )


# --- construct scores and favourability -------------------------------------------------------------

def _check_min_share(min_share: float) -> float:
    if not 0 < min_share <= 1:
        raise ValueError(f"min_share = {min_share}; give the share of a construct's items needed, in (0, 1].")
    return float(min_share)


def _construct_sizes(items: pd.DataFrame) -> pd.Series:
    catalogue = _item_catalogue(items)
    likert = catalogue.loc[(catalogue["kind"] == "likert") & catalogue["construct"].notna()]
    return likert.groupby("construct", sort=False).size()


def _scores_from_long(long: pd.DataFrame, items: pd.DataFrame, min_share: float, keep: Sequence[str]) -> pd.DataFrame:
    long = long.loc[long["construct"].notna()]
    scored = (
        long.groupby(["response_id", "construct"], sort=False)
        .agg(score=("value", "mean"), n_items=("value", "size"), order=("order", "min"),
             **{c: (c, "first") for c in keep})
        .reset_index()
    )
    sizes = _construct_sizes(items)
    needed = scored["construct"].map(sizes).to_numpy(dtype=float) * min_share
    # a small tolerance so that 2 of 4 items meets min_share = 0.5 despite floating point
    return scored.loc[scored["n_items"].to_numpy() >= needed - 1e-9]


def construct_scores(
    answers: pd.DataFrame,
    items: pd.DataFrame,
    *,
    respondents: pd.DataFrame | None = None,
    min_share: float = 0.5,
    include_unfinished: bool = False,
) -> pd.DataFrame:
    """Each respondent's score on each construct: the mean of its Likert items after reverse coding.

    A respondent gets a construct score only when they answered at least ``min_share`` of the
    construct's Likert items (as listed in ``items``).

    Parameters
    ----------
    answers : DataFrame
        Canonical survey answers (``response_id, item_id, value``).
    items : DataFrame
        The codebook's items frame.
    respondents : DataFrame, optional
        When given, unfinished responses are left out (unless ``include_unfinished``); without it every
        answer is scored (the caller has chosen the responses).
    min_share : float
        Share of a construct's items a respondent must have answered, in (0, 1].
    include_unfinished : bool
        Score unfinished responses too.

    Returns
    -------
    DataFrame
        One row per response and construct, ordered by response and codebook order:

        * ``response_id``;
        * ``construct``;
        * ``score``: mean of the answered items, reverse-coded as ``scale_min + scale_max - value``;
        * ``n_items``: how many of the construct's items the respondent answered.

    Examples
    --------
    >>> items = pd.DataFrame({"item_id": ["t1", "t2", "t3"], "construct": "trust", "kind": "likert",
    ...     "reverse": [False, True, False], "scale_min": 1, "scale_max": 5})
    >>> answers = pd.DataFrame({"response_id": ["a", "a", "b"], "item_id": ["t1", "t2", "t1"],
    ...                         "value": [5, 2, 3]})
    >>> construct_scores(answers, items)
      response_id construct  score  n_items
    0           a     trust    4.5        2
    """
    min_share = _check_min_share(min_share)
    long = _answers_long(answers, items, respondents, kinds=("likert",), include_unfinished=include_unfinished)
    scored = _scores_from_long(long, items, min_share, keep=())
    scored = scored.sort_values(["response_id", "order"], kind="stable")
    return scored[["response_id", "construct", "score", "n_items"]].reset_index(drop=True).astype({"n_items": "int64"})


def _scores_long(
    answers: pd.DataFrame,
    items: pd.DataFrame,
    respondents: pd.DataFrame,
    *,
    columns: Sequence[str],
    min_share: float,
    include_unfinished: bool,
) -> pd.DataFrame:
    long = _answers_long(
        answers, items, respondents, kinds=("likert",), include_unfinished=include_unfinished, columns=columns
    )
    keep = [c for c in ("wave", *columns) if c in long.columns]
    return _scores_from_long(long, items, min_share, keep=list(dict.fromkeys(keep)))


def favourability(
    answers: pd.DataFrame,
    items: pd.DataFrame,
    respondents: pd.DataFrame,
    *,
    level: Literal["item", "construct"] = "item",
    by: str | Sequence[str] = (),
    top: int = 2,
    k: int | None = None,
    min_share: float = 0.5,
    include_unfinished: bool = False,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Share of favourable (top-``top``-box), neutral and unfavourable answers, after reverse coding.

    An answer is favourable when it is among the ``top`` highest scale points (4-5 on a 1-5 scale with
    ``top=2``), unfavourable when among the ``top`` lowest, neutral otherwise.

    At ``level="construct"`` each respondent (with enough answers, see ``min_share``) contributes the
    share of their answers to the construct's items that are favourable, and the group's favourability
    is the mean of those shares: every person weighs the same, and with complete answers it equals the
    pooled share of favourable answers.

    Parameters
    ----------
    answers, items, respondents : DataFrame
        Canonical survey answers, the codebook's items, canonical respondents.
    level : {"item", "construct"}
        One row per item, or per construct.
    by : str or sequence of str
        Respondent columns to group by (e.g. ``("wave", "department")``); empty for the organisation.
    top : int
        Number of scale points at each end counted as (un)favourable.
    k : int, optional
        Small-group threshold on ``n``; defaults to the configured ``k``.
    min_share : float
        Construct level only: share of a construct's items a respondent must have answered.
    include_unfinished : bool
        Count unfinished responses too.
    confidence : float
        Level of the interval.

    Returns
    -------
    DataFrame
        One row per group and item (or construct), in codebook order:

        * the ``by`` columns;
        * ``item_id`` (item level) or ``construct`` (construct level);
        * ``n``: respondents who answered (Int64; NA when suppressed);
        * ``n_favourable``: favourable answers (float; at construct level the sum of the respondents'
          favourable shares);
        * ``favourable``, ``neutral``, ``unfavourable``: shares, summing to 1;
        * ``ci_low``, ``ci_high``: Wilson score interval of ``favourable`` with ``n`` respondents (exact
          Wilson at item level; conservative at construct level, where a respondent's share varies less
          than a single yes/no answer);
        * ``suppressed``: True where the group is hidden.

    Examples
    --------
    >>> items = pd.DataFrame({"item_id": ["t1", "t2"], "construct": "trust", "kind": "likert",
    ...     "reverse": [False, True], "scale_min": 1, "scale_max": 5})
    >>> answers = pd.DataFrame({"response_id": ["a", "a", "b", "b", "c", "c"], "item_id": ["t1", "t2"] * 3,
    ...                         "value": [5, 1, 4, 3, 2, 4]})
    >>> respondents = pd.DataFrame({"response_id": ["a", "b", "c"], "wave": "2026-Q3", "finished": True})
    >>> favourability(answers, items, respondents, k=3)[["item_id", "n", "favourable", "unfavourable"]]
      item_id  n  favourable  unfavourable
    0      t1  3       0.667         0.333
    1      t2  3       0.333         0.333
    >>> favourability(answers, items, respondents, level="construct", k=3)[["construct", "n", "favourable"]]
      construct  n  favourable
    0     trust  3         0.5
    """
    by = _as_tuple(by)
    if level not in ("item", "construct"):
        raise ValueError(f"level = {level!r}; choose 'item' or 'construct'.")
    if not isinstance(top, int | np.integer) or top < 1:
        raise ValueError(f"top = {top!r}; give a positive whole number of scale points (2 = top-2-box).")
    confidence = _check_confidence(confidence)
    min_share = _check_min_share(min_share)
    _require(respondents, "respondents", ("response_id", "wave", "finished"), _RESPONDENT_HINT)
    _check_by(by, respondents, reserved=("item_id", "construct", "n"))
    long = _answers_long(
        answers, items, respondents, kinds=("likert",), include_unfinished=include_unfinished, columns=by
    )
    points = long["scale_max"] - long["scale_min"] + 1
    if (points < 2 * top).any():
        short = long.loc[points < 2 * top, "item_id"].astype(str).unique().tolist()
        raise ValueError(f"top = {top} leaves no room on the scale of items {short[:5]}; use a smaller top.")
    long["fav"] = (long["value"] > long["scale_max"] - top).astype(float)
    long["unfav"] = (long["value"] < long["scale_min"] + top).astype(float)
    unit = "item_id" if level == "item" else "construct"
    if level == "construct":
        long = long.loc[long["construct"].notna()]
        per_person = (
            long.groupby(["response_id", "construct"], sort=False)
            .agg(fav=("fav", "mean"), unfav=("unfav", "mean"), answered=("value", "size"), order=("order", "min"),
                 **{c: (c, "first") for c in by})
            .reset_index()
        )
        needed = per_person["construct"].map(_construct_sizes(items)).to_numpy(dtype=float) * min_share
        long = per_person.loc[per_person["answered"].to_numpy() >= needed - 1e-9]
    table = (
        long.groupby([*by, unit], sort=False, dropna=False)
        .agg(n=("fav", "size"), n_favourable=("fav", "sum"), n_unfavourable=("unfav", "sum"), order=("order", "min"))
        .reset_index()
    )
    n = table["n"].to_numpy(dtype=float)
    table["n_favourable"] = table["n_favourable"].astype(float)
    table["favourable"] = table["n_favourable"] / n
    table["unfavourable"] = table["n_unfavourable"] / n
    table["neutral"] = 1.0 - table["favourable"] - table["unfavourable"]
    table["ci_low"], table["ci_high"] = _wilson(table["n_favourable"].to_numpy(), n, confidence)
    table = table.sort_values([*by, "order"], na_position="last", kind="stable").reset_index(drop=True)
    columns = [*by, unit, "n", "n_favourable", "favourable", "neutral", "unfavourable", "ci_low", "ci_high"]
    return _suppress(
        table[columns], by=by, per=(unit,), n="n",
        values=("n_favourable", "favourable", "neutral", "unfavourable", "ci_low", "ci_high"), k=k, counts=("n",),
    )


# --- eNPS ----------------------------------------------------------------------------------------------

def enps(
    answers: pd.DataFrame,
    items: pd.DataFrame,
    respondents: pd.DataFrame,
    *,
    item_id: str | None = None,
    by: str | Sequence[str] = (),
    k: int | None = None,
    include_unfinished: bool = False,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Employee Net Promoter Score: % promoters (9-10) minus % detractors (0-6) on a 0-10 item.

    The interval is an adjusted Wald interval: the multinomial (delta-method) variance of
    ``promoters - detractors``, ``(P + D - (P - D)^2) / n``, computed after adding one pseudo-response to
    each of the three categories (in the spirit of Agresti-Coull), so that a group of all promoters still
    gets an informative interval. It is clipped to [-100, 100].

    Parameters
    ----------
    answers, items, respondents : DataFrame
        Canonical survey answers, the codebook's items, canonical respondents.
    item_id : str, optional
        The 0-10 item; defaults to the single item of kind ``"nps"``.
    by : str or sequence of str
        Respondent columns to group by; empty for the organisation.
    k : int, optional
        Small-group threshold on ``n``; defaults to the configured ``k``.
    include_unfinished : bool
        Count unfinished responses too.
    confidence : float
        Level of the interval.

    Returns
    -------
    DataFrame
        One row per group:

        * the ``by`` columns;
        * ``n``: respondents who answered the item (Int64; NA when suppressed);
        * ``promoters``, ``passives``, ``detractors``: shares (9-10, 7-8, 0-6);
        * ``enps``: ``100 * (promoters - detractors)``, from -100 to 100;
        * ``ci_low``, ``ci_high``: adjusted Wald interval of ``enps``;
        * ``suppressed``: True where the group is hidden.

    Examples
    --------
    >>> items = pd.DataFrame({"item_id": ["recommend"], "construct": None, "kind": "nps", "reverse": False,
    ...                       "scale_min": 0, "scale_max": 10})
    >>> answers = pd.DataFrame({"response_id": list("abcd"), "item_id": "recommend", "value": [10, 9, 7, 3]})
    >>> respondents = pd.DataFrame({"response_id": list("abcd"), "wave": "2026-Q3", "finished": True})
    >>> enps(answers, items, respondents, k=3)[["n", "promoters", "detractors", "enps"]]
       n  promoters  detractors  enps
    0  4        0.5        0.25  25.0
    """
    by = _as_tuple(by)
    confidence = _check_confidence(confidence)
    catalogue = _item_catalogue(items)
    if item_id is None:
        candidates = catalogue.loc[catalogue["kind"] == "nps", "item_id"].tolist()
        if len(candidates) != 1:
            raise ValueError(f"items has {len(candidates)} items of kind 'nps' ({candidates}); name one with item_id=.")
        item_id = candidates[0]
    chosen = catalogue.loc[catalogue["item_id"] == item_id]
    if chosen.empty:
        raise ValueError(f"item_id = {item_id!r} is not in items; pass the id of the 0-10 recommendation item.")
    if (chosen["scale_min"].iloc[0], chosen["scale_max"].iloc[0]) != (0, 10):
        raise ValueError(f"item {item_id!r} is not on a 0-10 scale; eNPS needs the 0-10 likelihood item.")
    _require(respondents, "respondents", ("response_id", "wave", "finished"), _RESPONDENT_HINT)
    _check_by(by, respondents, reserved=("n", "enps"))
    long = _answers_long(
        answers, items, respondents, kinds=_SCALED_KINDS, include_unfinished=include_unfinished, columns=by
    )
    long = long.loc[long["item_id"] == item_id].copy()
    # the raw 0-10 answer decides the category: eNPS items are never reverse coded
    long["promoter"] = (long["raw_value"] >= 9).astype(float)
    long["detractor"] = (long["raw_value"] <= 6).astype(float)
    if by:
        table = (
            long.groupby(list(by), sort=True, dropna=False)
            .agg(n=("promoter", "size"), n_p=("promoter", "sum"), n_d=("detractor", "sum"))
            .reset_index()
        )
    else:
        table = pd.DataFrame({"n": [len(long)], "n_p": [long["promoter"].sum()], "n_d": [long["detractor"].sum()]})
    n = table["n"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["promoters"] = table["n_p"] / n
        table["detractors"] = table["n_d"] / n
    table["passives"] = 1.0 - table["promoters"] - table["detractors"]
    table["enps"] = 100 * (table["promoters"] - table["detractors"])
    padded = n + 3
    p = (table["n_p"].to_numpy(dtype=float) + 1) / padded
    d = (table["n_d"].to_numpy(dtype=float) + 1) / padded
    half = _z(confidence) * np.sqrt((p + d - (p - d) ** 2) / padded)
    table["ci_low"] = np.where(n > 0, 100 * np.clip(p - d - half, -1, 1), np.nan)
    table["ci_high"] = np.where(n > 0, 100 * np.clip(p - d + half, -1, 1), np.nan)
    columns = [*by, "n", "promoters", "passives", "detractors", "enps", "ci_low", "ci_high"]
    return _suppress(
        table[columns], by=by, per=(), n="n",
        values=("promoters", "passives", "detractors", "enps", "ci_low", "ci_high"), k=k, counts=("n",),
    )


# --- reliability -----------------------------------------------------------------------------------------

def cronbach_alpha(
    answers: pd.DataFrame,
    items: pd.DataFrame,
    *,
    respondents: pd.DataFrame | None = None,
    by_construct: bool = True,
    include_unfinished: bool = False,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Internal consistency (Cronbach's alpha) of each construct's Likert items, with Feldt's interval.

    ``alpha = q / (q - 1) * (1 - sum(item variances) / variance(sum score))`` over the ``q`` items,
    after reverse coding, on the respondents who answered every item of the construct (listwise).
    Feldt's interval: ``1 - (1 - alpha) * F`` at the F quantiles with ``n - 1`` and ``(n - 1)(q - 1)``
    degrees of freedom.

    Parameters
    ----------
    answers, items : DataFrame
        Canonical survey answers and the codebook's items.
    respondents : DataFrame, optional
        When given, unfinished responses are left out (unless ``include_unfinished``).
    by_construct : bool
        One row per construct (default), or one row for all Likert items together (``construct`` is
        ``"(all)"``).
    include_unfinished : bool
        Use unfinished responses too.
    confidence : float
        Level of the interval.

    Returns
    -------
    DataFrame
        One row per construct, in codebook order:

        * ``construct``;
        * ``n_items``: items with any answer;
        * ``n_respondents``: respondents who answered all of them;
        * ``alpha``: Cronbach's alpha (NaN with fewer than 2 items or respondents, or no variance);
        * ``ci_low``, ``ci_high``: Feldt interval.

    Examples
    --------
    >>> items = pd.DataFrame({"item_id": ["s1", "s2", "s3"], "construct": "safety", "kind": "likert",
    ...     "reverse": [False, False, True], "scale_min": 1, "scale_max": 5})
    >>> answers = pd.DataFrame({"response_id": [r for r in "abcde" for _ in range(3)],
    ...     "item_id": ["s1", "s2", "s3"] * 5, "value": [5, 4, 1, 4, 4, 2, 3, 2, 3, 2, 2, 4, 1, 2, 5]})
    >>> cronbach_alpha(answers, items)[["construct", "n_items", "n_respondents", "alpha"]]
      construct  n_items  n_respondents  alpha
    0    safety        3              5   0.96
    """
    confidence = _check_confidence(confidence)
    long = _answers_long(answers, items, respondents, kinds=("likert",), include_unfinished=include_unfinished)
    long = long.loc[long["construct"].notna()] if by_construct else long.assign(construct="(all)")
    rows = []
    for construct, part in long.groupby("construct", sort=False):
        wide = part.pivot(index="response_id", columns="item_id", values="value").dropna()
        n_items, n_people = wide.shape[1], wide.shape[0]
        alpha = low = high = np.nan
        if n_items >= 2 and n_people >= 2:
            values = wide.to_numpy(dtype=float)
            total_variance = values.sum(axis=1).var(ddof=1)
            if total_variance > 0:
                alpha = n_items / (n_items - 1) * (1 - values.var(axis=0, ddof=1).sum() / total_variance)
                df1, df2 = n_people - 1, (n_people - 1) * (n_items - 1)
                tail = (1 - confidence) / 2
                low = 1 - (1 - alpha) * _stats().f.ppf(1 - tail, df1, df2)
                high = 1 - (1 - alpha) * _stats().f.ppf(tail, df1, df2)
        rows.append((construct, n_items, n_people, alpha, low, high, part["order"].min()))
    out = pd.DataFrame(rows, columns=["construct", "n_items", "n_respondents", "alpha", "ci_low", "ci_high", "order"])
    out = out.sort_values("order", kind="stable").drop(columns="order").reset_index(drop=True)
    return out.astype({"n_items": "int64", "n_respondents": "int64"})


# --- comparisons -----------------------------------------------------------------------------------------

def _values_long(
    answers: pd.DataFrame,
    items: pd.DataFrame,
    respondents: pd.DataFrame,
    *,
    level: str,
    columns: Sequence[str],
    min_share: float,
    include_unfinished: bool,
) -> tuple[pd.DataFrame, str, str]:
    """Respondent-level values to compare: recoded item answers, or construct scores."""
    if level == "item":
        long = _answers_long(
            answers, items, respondents, kinds=("likert",), include_unfinished=include_unfinished, columns=columns
        )
        return long, "item_id", "value"
    if level == "construct":
        scored = _scores_long(
            answers, items, respondents, columns=columns, min_share=min_share, include_unfinished=include_unfinished
        )
        return scored, "construct", "score"
    raise ValueError(f"level = {level!r}; choose 'item' or 'construct'.")


def wave_change(
    answers: pd.DataFrame,
    items: pd.DataFrame,
    respondents: pd.DataFrame,
    *,
    level: Literal["item", "construct"] = "item",
    by: str | Sequence[str] = (),
    current: str | None = None,
    previous: str | None = None,
    k: int | None = None,
    alpha: float = 0.05,
    min_share: float = 0.5,
    include_unfinished: bool = False,
) -> pd.DataFrame:
    """Change in mean score between two waves, with Welch's t-test and Benjamini-Hochberg adjustment.

    Respondents are treated as independent samples in each wave (surveys are anonymous, so responses
    are not paired). Means are of reverse-coded item answers (``level="item"``) or construct scores
    (``level="construct"``). ``p_adjusted`` controls the false discovery rate over the rows that are
    shown (not suppressed) and testable.

    A group is hidden when it is small in either wave: the two waves' counts go through
    :func:`analytics.privacy.suppress_small_groups` as one table by ``(*by, wave)`` per item/construct.

    Parameters
    ----------
    answers, items, respondents : DataFrame
        Canonical survey answers, the codebook's items, canonical respondents (with ``wave`` and, for
        ordering, ``submitted_at``).
    level : {"item", "construct"}
        Compare item means or construct-score means.
    by : str or sequence of str
        Respondent columns to group by (not ``wave``); empty for the organisation.
    current, previous : str, optional
        Waves to compare; default: the latest wave and the one before it.
    k : int, optional
        Small-group threshold; defaults to the configured ``k``.
    alpha : float
        Level of the interval (``1 - alpha``) and of ``significant`` (``p_adjusted < alpha``).
    min_share : float
        Construct level only: share of a construct's items a respondent must have answered.
    include_unfinished : bool
        Use unfinished responses too.

    Returns
    -------
    DataFrame
        One row per group and item (or construct):

        * the ``by`` columns; ``item_id`` or ``construct``;
        * ``previous_wave``, ``current_wave``;
        * ``n_previous``, ``n_current``: respondents (Int64; NA when suppressed);
        * ``mean_previous``, ``mean_current``;
        * ``change``: ``mean_current - mean_previous``;
        * ``ci_low``, ``ci_high``: Welch interval of ``change``;
        * ``p_value``: Welch's two-sided t-test;
        * ``p_adjusted``: Benjamini-Hochberg across the shown rows;
        * ``significant``: ``p_adjusted < alpha`` (boolean, NA when untestable or suppressed);
        * ``suppressed``: True where the group is hidden.

    Examples
    --------
    >>> items = pd.DataFrame({"item_id": ["t1"], "construct": "trust", "kind": "likert", "reverse": False,
    ...                       "scale_min": 1, "scale_max": 5})
    >>> respondents = pd.DataFrame({"response_id": [f"r{i}" for i in range(8)], "finished": True,
    ...     "wave": ["2026-Q2"] * 4 + ["2026-Q3"] * 4})
    >>> answers = pd.DataFrame({"response_id": respondents["response_id"], "item_id": "t1",
    ...                         "value": [2, 3, 3, 2, 4, 5, 4, 4]})
    >>> out = wave_change(answers, items, respondents, level="construct", k=3)
    >>> out[["construct", "previous_wave", "current_wave", "change", "significant"]]
      construct previous_wave current_wave  change  significant
    0     trust       2026-Q2      2026-Q3    1.75         True
    """
    by = _as_tuple(by)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha = {alpha}; give a significance level between 0 and 1, e.g. 0.05.")
    min_share = _check_min_share(min_share)
    _require(respondents, "respondents", ("response_id", "wave", "finished"), _RESPONDENT_HINT)
    _check_by(by, respondents, reserved=("wave", "item_id", "construct"))
    used = _respondents_used(respondents, include_unfinished=include_unfinished)
    order = [w for w in _wave_order(respondents) if w in set(used["wave"].dropna().astype(str))]
    if current is None:
        if not order:
            raise ValueError("respondents has no (finished) responses with a wave; nothing to compare.")
        current = order[-1]
    if current not in order:
        raise ValueError(f"current = {current!r} has no responses; waves with responses: {order}.")
    if previous is None:
        position = order.index(current)
        if position == 0:
            raise ValueError(f"no wave before {current!r} (waves: {order}); pass previous= explicitly.")
        previous = order[position - 1]
    if previous not in order or previous == current:
        raise ValueError(f"previous = {previous!r} must be another wave with responses; waves: {order}.")
    long, unit, value = _values_long(
        answers, items, respondents, level=level, columns=by, min_share=min_share,
        include_unfinished=include_unfinished,
    )
    long = long.loc[long["wave"].astype(str).isin([previous, current])]
    moments = _moments(long.assign(wave=long["wave"].astype(str)), [*by, unit, "wave"], value)
    units = long.groupby(unit, sort=False)["order"].min()
    before = moments.loc[moments["wave"] == previous].drop(columns="wave")
    after = moments.loc[moments["wave"] == current].drop(columns="wave")
    keys = [*by, unit]
    before["_key"], after["_key"] = _group_key(before, keys), _group_key(after, keys)
    table = before.merge(after, on="_key", how="outer", suffixes=("_previous", "_current"))
    for column in keys:
        table[column] = table[f"{column}_previous"].combine_first(table[f"{column}_current"])
    table["n_previous"] = table["n_previous"].fillna(0).astype("int64")
    table["n_current"] = table["n_current"].fillna(0).astype("int64")
    table["previous_wave"], table["current_wave"] = previous, current
    (table["change"], table["ci_low"], table["ci_high"], table["p_value"]) = _welch(
        table["mean_current"], table["var_current"], table["n_current"],
        table["mean_previous"], table["var_previous"], table["n_previous"], 1 - alpha,
    )
    table["order"] = table[unit].map(units)
    table = table.sort_values([*by, "order"], na_position="last", kind="stable").reset_index(drop=True)

    # visibility: both waves' cells go through the k-rule as one table per item/construct
    stacked = pd.concat([
        table[keys].assign(wave=previous, n=table["n_previous"], _row=np.arange(len(table))),
        table[keys].assign(wave=current, n=table["n_current"], _row=np.arange(len(table))),
    ], ignore_index=True)
    checked = _suppress(stacked, by=[*by, "wave"], per=(unit,), n="n", values=(), k=k)
    hidden = checked.groupby("_row")["suppressed"].any().reindex(range(len(table))).to_numpy(dtype=bool)

    p_adjusted = np.full(len(table), np.nan)
    shown = ~hidden
    p_adjusted[shown] = benjamini_hochberg(table["p_value"].to_numpy(dtype=float)[shown])
    table["p_adjusted"] = p_adjusted
    table["significant"] = pd.array(
        [pd.NA if np.isnan(q) else bool(q < alpha) for q in p_adjusted], dtype="boolean"
    )
    columns = [
        *keys, "previous_wave", "current_wave", "n_previous", "n_current", "mean_previous", "mean_current",
        "change", "ci_low", "ci_high", "p_value", "p_adjusted", "significant",
    ]
    return _blank(table[columns], hidden, columns[len(keys) + 2:])


def department_gap(
    answers: pd.DataFrame,
    items: pd.DataFrame,
    respondents: pd.DataFrame,
    *,
    construct: str | Sequence[str] | None = None,
    wave: str | Sequence[str] | None = None,
    k: int | None = None,
    min_share: float = 0.5,
    include_unfinished: bool = False,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Each department's mean construct score minus the mean of respondents in all other departments.

    The estimator for a department that scores lower than the rest. Respondents without a department
    are left out on both sides (they may belong to the department itself). Welch's t-test compares the
    department with the others.

    Parameters
    ----------
    answers, items, respondents : DataFrame
        Canonical survey answers, the codebook's items, canonical respondents (with ``department``).
    construct : str or sequence of str, optional
        Constructs to compare; default: all.
    wave : str or sequence of str, optional
        Waves to pool; default: all.
    k : int, optional
        Small-group threshold on ``n``; defaults to the configured ``k``.
    min_share : float
        Share of a construct's items a respondent must have answered to have a score.
    include_unfinished : bool
        Use unfinished responses too.
    confidence : float
        Level of the interval.

    Returns
    -------
    DataFrame
        One row per department and construct (codebook order, departments alphabetical):

        * ``department``, ``construct``;
        * ``n``: the department's respondents with a score (Int64; NA when suppressed);
        * ``mean``: their mean score;
        * ``mean_others``: mean score of respondents in the other departments;
        * ``gap``: ``mean - mean_others``;
        * ``ci_low``, ``ci_high``: Welch interval of ``gap``;
        * ``p_value``: Welch's two-sided t-test;
        * ``suppressed``: True where the department is hidden.

    Examples
    --------
    >>> items = pd.DataFrame({"item_id": ["t1"], "construct": "trust", "kind": "likert", "reverse": False,
    ...                       "scale_min": 1, "scale_max": 5})
    >>> respondents = pd.DataFrame({"response_id": [f"r{i}" for i in range(9)], "wave": "2026-Q3",
    ...     "finished": True, "department": ["Finance"] * 3 + ["Legal"] * 3 + ["Programmes"] * 3})
    >>> answers = pd.DataFrame({"response_id": respondents["response_id"], "item_id": "t1",
    ...                         "value": [2, 1, 2, 4, 4, 5, 5, 4, 4]})
    >>> department_gap(answers, items, respondents, k=3)[["department", "n", "mean", "mean_others", "gap"]]
       department  n   mean  mean_others    gap
    0     Finance  3  1.667        4.333 -2.667
    1       Legal  3  4.333        3.000  1.333
    2  Programmes  3  4.333        3.000  1.333
    """
    confidence = _check_confidence(confidence)
    min_share = _check_min_share(min_share)
    _require(respondents, "respondents", ("response_id", "wave", "finished", "department"), _RESPONDENT_HINT)
    scored = _scores_long(
        answers, items, respondents, columns=("department",), min_share=min_share,
        include_unfinished=include_unfinished,
    )
    if construct is not None:
        wanted = _as_tuple(construct)
        unknown = [c for c in wanted if c not in set(_construct_sizes(items).index)]
        if unknown:
            raise ValueError(f"construct {unknown} not in items; constructs: {list(_construct_sizes(items).index)}.")
        scored = scored.loc[scored["construct"].isin(wanted)]
    if wave is not None:
        scored = scored.loc[scored["wave"].astype(str).isin(_as_tuple(wave))]
    scored = scored.loc[scored["department"].notna()]
    scored = scored.assign(department=scored["department"].astype(str), square=scored["score"] ** 2)
    cells = (
        scored.groupby(["department", "construct"], sort=False)
        .agg(n=("score", "size"), total=("score", "sum"), squares=("square", "sum"), order=("order", "min"))
        .reset_index()
    )
    overall = cells.groupby("construct")[["n", "total", "squares"]].sum()
    all_n = cells["construct"].map(overall["n"]).to_numpy(dtype=float)
    n = cells["n"].to_numpy(dtype=float)
    n_others = all_n - n
    others_total = cells["construct"].map(overall["total"]).to_numpy() - cells["total"].to_numpy()
    others_squares = cells["construct"].map(overall["squares"]).to_numpy() - cells["squares"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = cells["total"].to_numpy() / n
        variance = (cells["squares"].to_numpy() - n * mean**2) / (n - 1)
        mean_others = others_total / n_others
        variance_others = (others_squares - n_others * mean_others**2) / (n_others - 1)
    # sums of squares can dip a hair below zero for constant groups
    variance, variance_others = np.maximum(variance, 0), np.maximum(variance_others, 0)
    gap, low, high, p = _welch(mean, variance, n, mean_others, variance_others, n_others, confidence)
    cells = cells.assign(mean=mean, mean_others=np.where(n_others > 0, mean_others, np.nan), gap=gap,
                         ci_low=low, ci_high=high, p_value=p)
    cells = cells.sort_values(["order", "department"], kind="stable").reset_index(drop=True)
    table = cells[["department", "construct", "n", "mean", "mean_others", "gap", "ci_low", "ci_high", "p_value"]]
    return _suppress(
        table, by=("department",), per=("construct",), n="n",
        values=("mean", "mean_others", "gap", "ci_low", "ci_high", "p_value"), k=k, counts=("n",),
    )


# --- drivers -------------------------------------------------------------------------------------------------

def key_drivers(
    scores_wide: pd.DataFrame,
    *,
    outcome: str,
    drivers: Sequence[str],
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Which drivers move an outcome: standardized OLS coefficients and Johnson's relative weights.

    All columns are z-scored (sample standard deviation) and the outcome is regressed on the drivers by
    ordinary least squares, on the rows where all are present. ``beta`` is the standardized coefficient
    with its classical t interval and p-value. ``relative_weight`` is Johnson's (2000) relative weight:
    the drivers are replaced by their closest orthogonal counterparts ``Z = X R^(-1/2)``, the outcome's
    R² is split over those, and each orthogonal part's share is carried back to the drivers through the
    squared loadings of ``R^(1/2)``. The weights sum to R² exactly; reported as shares of R² (summing to
    1). Unlike betas they stay sensible when drivers are correlated, and they closely track dominance
    analysis (general dominance).

    Use at respondent level (one row per response: construct scores, e.g. trust on safety and support)
    or at group level (one row per department × wave: ``adherence_rate`` on mean construct scores);
    with group-level rows, hide small groups before passing them in.

    Parameters
    ----------
    scores_wide : DataFrame
        One row per unit of analysis, one numeric column per variable.
    outcome : str
        The column to explain.
    drivers : sequence of str
        The explanatory columns (at least one; not the outcome).
    confidence : float
        Level of the interval.

    Returns
    -------
    DataFrame
        One row per driver, in the order given:

        * ``driver``;
        * ``beta``: standardized OLS coefficient;
        * ``ci_low``, ``ci_high``: t interval of ``beta``;
        * ``p_value``: two-sided t-test of ``beta = 0``;
        * ``relative_weight``: Johnson's relative weight as a share of R²;
        * ``n``: rows used;
        * ``r_squared``: R² of the model (same on every row).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> frame = pd.DataFrame(rng.normal(size=(200, 2)), columns=["safety", "support"])
    >>> frame["trust"] = 0.6 * frame["safety"] + 0.2 * frame["support"] + rng.normal(scale=0.5, size=200)
    >>> out = key_drivers(frame, outcome="trust", drivers=["safety", "support"])
    >>> out[["driver", "beta", "relative_weight", "n"]].round(2)
        driver  beta  relative_weight    n
    0   safety  0.70             0.81  200
    1  support  0.33             0.19  200
    """
    confidence = _check_confidence(confidence)
    if isinstance(drivers, str):
        drivers = [drivers]
    drivers = list(drivers)
    if not drivers or len(set(drivers)) != len(drivers) or outcome in drivers:
        raise ValueError(
            f"drivers = {drivers}: give one or more distinct columns, not including the outcome {outcome!r}."
        )
    _require(scores_wide, "scores_wide", [outcome, *drivers], "pass one row per unit and one column per variable.")
    data = pd.DataFrame({c: _numeric(scores_wide[c], f"scores_wide[{c!r}]") for c in [outcome, *drivers]}).dropna()
    n, q = len(data), len(drivers)
    if n <= q + 1:
        raise ValueError(f"only {n} complete rows for {q} drivers; key drivers need more rows than drivers + 1.")
    spread = data.std(ddof=1)
    flat = spread.index[~(spread > 0)].tolist()
    if flat:
        raise ValueError(f"columns {flat} do not vary in the complete rows; drop them from the model.")
    z = ((data - data.mean()) / spread).to_numpy(dtype=float)
    y, x = z[:, 0], z[:, 1:]
    correlations = x.T @ x / (n - 1)
    if np.linalg.matrix_rank(correlations) < q:
        raise ValueError(f"drivers {drivers} are perfectly collinear; drop a driver that repeats the others.")
    design = np.column_stack([np.ones(n), x])
    coefficients, *_ = np.linalg.lstsq(design, y, rcond=None)
    residuals = y - design @ coefficients
    df_resid = n - q - 1
    sigma2 = residuals @ residuals / df_resid
    se = np.sqrt(np.diag(sigma2 * np.linalg.inv(design.T @ design)))[1:]
    beta = coefficients[1:]
    t_critical = _stats().t.ppf(0.5 + confidence / 2, df_resid)
    p_value = 2 * _stats().t.sf(np.abs(beta / se), df_resid)
    r_squared = 1 - residuals @ residuals / (y @ y)

    eigenvalues, eigenvectors = np.linalg.eigh(correlations)
    root = eigenvectors @ np.diag(np.sqrt(np.clip(eigenvalues, 0, None))) @ eigenvectors.T
    orthogonal_betas = np.linalg.solve(root, x.T @ y / (n - 1))
    raw_weights = root**2 @ orthogonal_betas**2
    return pd.DataFrame({
        "driver": drivers,
        "beta": beta,
        "ci_low": beta - t_critical * se,
        "ci_high": beta + t_critical * se,
        "p_value": p_value,
        "relative_weight": raw_weights / raw_weights.sum(),
        "n": np.full(q, n, dtype="int64"),
        "r_squared": np.full(q, r_squared),
    })


# --- distributions -------------------------------------------------------------------------------------------

def likert_distribution(
    answers: pd.DataFrame,
    items: pd.DataFrame,
    respondents: pd.DataFrame,
    *,
    by: str | Sequence[str] = (),
    k: int | None = None,
    include_unfinished: bool = False,
) -> pd.DataFrame:
    """Share of answers at each scale point of each Likert item: the data of a diverging bar chart.

    Values are the answers *as asked* (not reverse coded), so that they match the scale labels; a chart
    of a reverse-coded item (``items.reverse``) should flip its colours. Every scale point appears, with
    zero counts where nobody chose it.

    Parameters
    ----------
    answers, items, respondents : DataFrame
        Canonical survey answers (optionally with ``value_label``), the codebook's items, canonical
        respondents.
    by : str or sequence of str
        Respondent columns to group by; empty for the organisation.
    k : int, optional
        Small-group threshold on the respondents answering an item in a group; defaults to the
        configured ``k``.
    include_unfinished : bool
        Count unfinished responses too.

    Returns
    -------
    DataFrame
        One row per group, item (codebook order) and scale point:

        * the ``by`` columns; ``item_id``;
        * ``value``: the scale point (float);
        * ``label``: its label from ``answers.value_label`` (the most frequent one), else NA;
        * ``n``: answers at that point (Int64; NA when suppressed);
        * ``share``: ``n`` over the group's answers to the item;
        * ``suppressed``: True where the group is hidden (decided on the group's total per item).

    Examples
    --------
    >>> items = pd.DataFrame({"item_id": ["t1"], "construct": "trust", "kind": "likert", "reverse": False,
    ...                       "scale_min": 1, "scale_max": 3})
    >>> answers = pd.DataFrame({"response_id": list("abcd"), "item_id": "t1", "value": [3, 3, 1, 3]})
    >>> respondents = pd.DataFrame({"response_id": list("abcd"), "wave": "2026-Q3", "finished": True})
    >>> likert_distribution(answers, items, respondents, k=3)[["item_id", "value", "n", "share"]]
      item_id  value  n  share
    0      t1    1.0  1   0.25
    1      t1    2.0  0   0.00
    2      t1    3.0  3   0.75
    """
    by = _as_tuple(by)
    _require(respondents, "respondents", ("response_id", "wave", "finished"), _RESPONDENT_HINT)
    _check_by(by, respondents, reserved=("item_id", "value", "label", "n", "share"))
    long = _answers_long(
        answers, items, respondents, kinds=("likert",), include_unfinished=include_unfinished, columns=by
    )
    long["_key"] = _group_key(long, by)
    totals = (
        long.groupby(["_key", "item_id"], sort=False)
        .agg(n_total=("value", "size"), order=("order", "min"), **{c: (c, "first") for c in by})
        .reset_index()
    )
    totals = totals.sort_values([*by, "order"], na_position="last", kind="stable").reset_index(drop=True)
    visibility = _suppress(totals, by=by, per=("item_id",), n="n_total", values=(), k=k)
    totals["suppressed"] = visibility["suppressed"].to_numpy(dtype=bool)

    scales = long.groupby("item_id", sort=False)[["scale_min", "scale_max"]].first()
    observed = long.groupby("item_id", sort=False)["raw_value"].unique()
    points = {
        item: sorted(set(np.arange(row.scale_min, row.scale_max + 1, 1.0)) | set(observed[item]))
        for item, row in scales.iterrows()
    }
    grid = totals.assign(value=totals["item_id"].map(points)).explode("value")
    grid["value"] = grid["value"].astype(float)
    counts = long.groupby(["_key", "item_id", "raw_value"], sort=False).size().rename("n").reset_index()
    grid = grid.merge(counts.rename(columns={"raw_value": "value"}), on=["_key", "item_id", "value"], how="left")
    grid["n"] = grid["n"].fillna(0).astype("int64")
    grid["share"] = grid["n"] / grid["n_total"]
    if "value_label" in long.columns:
        labels = (
            long.dropna(subset=["value_label"])
            .groupby(["item_id", "raw_value"])["value_label"]
            .agg(lambda s: s.value_counts().index[0])
            .rename("label")
            .reset_index()
            .rename(columns={"raw_value": "value"})
        )
        grid = grid.merge(labels, on=["item_id", "value"], how="left")
    else:
        grid["label"] = pd.NA
    grid["label"] = grid["label"].astype("string")
    grid = grid.reset_index(drop=True)
    table = grid[[*by, "item_id", "value", "label", "n", "share"]]
    return _blank(table, grid["suppressed"].to_numpy(dtype=bool), ("n", "share"))
