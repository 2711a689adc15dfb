"""A synthetic policy survey with planted effects whose true values are known exactly.

Data-generating process (one organisation, four quarterly waves):

* Employees of six departments, with some joining and leaving during the year. In each wave every
  employee employed at the wave's midpoint responds with probability ``RESPONSE_PROBABILITY``; a share
  ``UNFINISHED`` of responses is unfinished (only the first half of the items answered).
* Each response has latent construct levels ``z`` ~ N(0, 1) for clarity, safety and support, and trust
  built from them: ``z_trust = 0.55 z_safety + 0.35 z_support + 0 z_clarity + noise`` (unit variance).
* Every Likert answer is ``round(clip(BASE + LOADING * z + GAP * [Fundraising] + SHIFT * [trust item in
  the last wave] + NOISE * e, 1, 5))``; reverse-coded items store ``6 - answer``. Answers are skipped at
  random (MCAR), some as missing rows and some as NA values.
* The 0-10 recommendation item is ``round(clip(NPS_MEAN + NPS_LOADING * z_trust + NPS_NOISE * e, 0, 10))``.

Truths are computed from the normal distribution (no simulation): an answer's expected value and its
category probabilities follow from ``BASE + ...`` and the answer's standard deviation
``sqrt(LOADING^2 + NOISE^2)``; group means are weighted by the expected number of responses, which is
proportional to the headcount per department and wave.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

WAVES = pd.DataFrame({
    "wave": ["2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"],
    "start": pd.to_datetime(["2025-10-01", "2026-01-01", "2026-04-01", "2026-07-01"]),
    "end": pd.to_datetime(["2025-12-31", "2026-03-31", "2026-06-30", "2026-09-30"]),
})
DEPARTMENTS = {"Programmes": 70, "Fundraising": 50, "Communications": 36, "Operations": 44, "Finance": 30, "Legal": 14}
LOW_DEPARTMENT = "Fundraising"
GAP = -0.6
CHANGED_CONSTRUCT = "trust"
SHIFT = 0.5
BASE, LOADING, NOISE = 3.3, 0.9, 0.7
ITEM_SD = float(np.hypot(LOADING, NOISE))
DRIVER_WEIGHTS = {"safety": 0.55, "support": 0.35, "clarity": 0.0}
NPS_ITEM = "recommend"
NPS_MEAN, NPS_LOADING, NPS_NOISE = 7.0, 2.0, 1.2
RESPONSE_PROBABILITY = 0.7
UNFINISHED = 0.06
SKIP = 0.06
NOT_STATED = 0.03
CONSTRUCT_ITEMS = {
    "clarity": [("clarity_conduct", False), ("clarity_mistakes", False), ("clarity_unsure", True)],
    "safety": [("safety_report", False), ("safety_blame", True), ("safety_admit", False)],
    "support": [("support_training", False), ("support_manager", False), ("support_resources", False)],
    "trust": [("trust_fair", False), ("trust_educational", False), ("trust_punitive", True), ("trust_open", False)],
}
LABELS = {1: "Strongly disagree", 2: "Disagree", 3: "Neither agree nor disagree", 4: "Agree", 5: "Strongly agree"}


@dataclass(frozen=True)
class Survey:
    respondents: pd.DataFrame
    answers: pd.DataFrame
    items: pd.DataFrame
    employees: pd.DataFrame
    waves: pd.DataFrame


def make_items() -> pd.DataFrame:
    """The items frame in the codebook's export shape (likert, nps, text and demographic items)."""
    rows = []
    for construct, members in CONSTRUCT_ITEMS.items():
        for item_id, reverse in members:
            rows.append((item_id, construct, "feedback", "likert", reverse, 1.0, 5.0, f"Statement {item_id}"))
    rows.append((NPS_ITEM, None, "engagement", "nps", False, 0.0, 10.0, "How likely are you to recommend ...?"))
    rows.append(("comment_policy", None, "feedback", "text", False, np.nan, np.nan, "Anything else?"))
    rows.append(("department", None, None, "demographic", False, np.nan, np.nan, "Your department"))
    return pd.DataFrame(rows, columns=["item_id", "construct", "area", "kind", "reverse", "scale_min", "scale_max",
                                       "text"])


def make_employees(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for department, size in DEPARTMENTS.items():
        for _ in range(size):
            joins_late = rng.random() < 0.12
            started = (pd.Timestamp("2025-10-01") + pd.Timedelta(days=int(rng.integers(0, 330))) if joins_late
                       else pd.Timestamp("2018-01-01") + pd.Timedelta(days=int(rng.integers(0, 2700))))
            leaves = rng.random() < 0.12
            stay = pd.Timedelta(days=int(rng.integers(1, 360)))
            left = max(started, pd.Timestamp("2025-10-01")) + stay if leaves else pd.NaT
            rows.append((f"e{len(rows):04d}", department, started, left))
    return pd.DataFrame(rows, columns=["employee_key", "department", "started_on", "left_on"])


def employed_at_midpoints(employees: pd.DataFrame) -> pd.DataFrame:
    """Headcount per department and wave (employed at the midpoint), written independently of the module."""
    rows = []
    for wave in WAVES.itertuples():
        midpoint = wave.start + (wave.end - wave.start) / 2
        for department in DEPARTMENTS:
            staff = employees.loc[employees["department"] == department]
            employed = (staff["started_on"] <= midpoint) & (staff["left_on"].isna() | (staff["left_on"] > midpoint))
            rows.append((department, wave.wave, int(employed.sum())))
    return pd.DataFrame(rows, columns=["department", "wave", "headcount"])


def make_survey(seed: int = 7) -> Survey:
    rng = np.random.default_rng(seed)
    employees = make_employees(rng)
    items = make_items()
    last_wave = WAVES["wave"].iloc[-1]
    respondent_rows, answer_rows = [], []
    for wave in WAVES.itertuples():
        midpoint = wave.start + (wave.end - wave.start) / 2
        employed = employees.loc[(employees["started_on"] <= midpoint)
                                 & (employees["left_on"].isna() | (employees["left_on"] > midpoint))]
        responding = employed.loc[rng.random(len(employed)) < RESPONSE_PROBABILITY]
        for number, person in enumerate(responding.itertuples()):
            response_id = f"{wave.wave}-{number:04d}"
            finished = bool(rng.random() >= UNFINISHED)
            seconds = int(rng.integers(0, int((wave.end - wave.start).total_seconds())))
            respondent_rows.append({
                "response_id": response_id,
                "wave": wave.wave,
                "submitted_at": (wave.start + pd.Timedelta(seconds=seconds)).tz_localize("UTC"),
                "finished": finished,
                "department": None if rng.random() < NOT_STATED else person.department,
                "role_level": rng.choice(["staff", "manager"]),
                "tenure_band": rng.choice(["<1y", "1-3y", "3y+"]),
                "location": rng.choice(["office", "remote"]),
            })
            latent = {c: rng.normal() for c in ("clarity", "safety", "support")}
            residual = np.sqrt(1 - sum(w**2 for w in DRIVER_WEIGHTS.values()))
            latent["trust"] = sum(w * latent[c] for c, w in DRIVER_WEIGHTS.items()) + residual * rng.normal()
            asked = [(c, item, reverse) for c, members in CONSTRUCT_ITEMS.items() for item, reverse in members]
            if not finished:
                asked = asked[: len(asked) // 2]
            for construct, item_id, reverse in asked:
                mean = (BASE + LOADING * latent[construct] + GAP * (person.department == LOW_DEPARTMENT)
                        + SHIFT * (construct == CHANGED_CONSTRUCT and wave.wave == last_wave))
                value = float(np.clip(np.round(mean + NOISE * rng.normal()), 1, 5))
                value = 6 - value if reverse else value
                skip = rng.random()
                if skip < SKIP / 2:
                    continue
                answer_rows.append((response_id, item_id, np.nan if skip < SKIP else value, True))
            if finished:
                nps = np.clip(np.round(NPS_MEAN + NPS_LOADING * latent["trust"] + NPS_NOISE * rng.normal()), 0, 10)
                answer_rows.append((response_id, NPS_ITEM, float(nps), True))
                answer_rows.append((response_id, "q_unmapped", 2.0, False))
    answers = pd.DataFrame(answer_rows, columns=["response_id", "item_id", "value", "mapped"])
    likert = answers["item_id"].isin(items.loc[items["kind"] == "likert", "item_id"])
    answers["value_label"] = answers["value"].map(LABELS).where(likert)
    return Survey(pd.DataFrame(respondent_rows), answers, items, employees, WAVES.copy())


# --- exact truths ----------------------------------------------------------------------------------

def _bucket_probabilities(mean: float, sd: float, low: int, high: int) -> dict[int, float]:
    """P(round(clip(X, low, high)) = v) for X ~ N(mean, sd)."""
    edges = np.arange(low, high + 2) - 0.5
    cdf = stats.norm.cdf(edges, loc=mean, scale=sd)
    cdf[0], cdf[-1] = 0.0, 1.0
    return {v: float(cdf[i + 1] - cdf[i]) for i, v in enumerate(range(low, high + 1))}


def item_mean(mean: float) -> float:
    """Expected (reverse-recoded) answer of an item whose latent mean is ``mean``."""
    return sum(v * p for v, p in _bucket_probabilities(mean, ITEM_SD, 1, 5).items())


def item_favourable(mean: float) -> float:
    """Probability that a (reverse-recoded) answer is 4 or 5."""
    probabilities = _bucket_probabilities(mean, ITEM_SD, 1, 5)
    return probabilities[4] + probabilities[5]


def latent_mean(department: str, wave: str, construct: str) -> float:
    return (BASE + GAP * (department == LOW_DEPARTMENT)
            + SHIFT * (construct == CHANGED_CONSTRUCT and wave == WAVES["wave"].iloc[-1]))


def _weighted(survey: Survey, cells: list[tuple[str, str]], construct: str, of=item_mean) -> float:
    """Expected mean over the (department, wave) cells, weighted by expected responses (headcount)."""
    headcount = employed_at_midpoints(survey.employees).set_index(["department", "wave"])["headcount"]
    weights = np.array([headcount[cell] for cell in cells], dtype=float)
    values = np.array([of(latent_mean(d, w, construct)) for d, w in cells])
    return float(weights @ values / weights.sum())


def truth_department_gap(survey: Survey, department: str, construct: str) -> float:
    """Expected mean score of ``department`` minus that of the other (stated) departments, all waves."""
    waves = WAVES["wave"].tolist()
    inside = [(department, w) for w in waves]
    outside = [(d, w) for d in DEPARTMENTS if d != department for w in waves]
    return _weighted(survey, inside, construct) - _weighted(survey, outside, construct)


def truth_wave_change(survey: Survey, construct: str, previous: str, current: str) -> float:
    """Expected change of the organisation's mean score (or mean item answer) between two waves."""
    return (_weighted(survey, [(d, current) for d in DEPARTMENTS], construct)
            - _weighted(survey, [(d, previous) for d in DEPARTMENTS], construct))


def truth_favourable(survey: Survey, construct: str, wave: str) -> float:
    """Expected share of favourable answers to one item of ``construct`` in the organisation in ``wave``."""
    return _weighted(survey, [(d, wave) for d in DEPARTMENTS], construct, of=item_favourable)


def truth_enps() -> float:
    sd = float(np.hypot(NPS_LOADING, NPS_NOISE))
    probabilities = _bucket_probabilities(NPS_MEAN, sd, 0, 10)
    promoters = probabilities[9] + probabilities[10]
    detractors = sum(probabilities[v] for v in range(7))
    return 100 * (promoters - detractors)


def truth_response_rate() -> float:
    """Expected share of employees who submit a finished response."""
    return RESPONSE_PROBABILITY * (1 - UNFINISHED)


# --- a continuous driver model with exact standardized coefficients -------------------------------------

DRIVER_CORRELATION = np.array([[1.0, 0.4, 0.2], [0.4, 1.0, 0.3], [0.2, 0.3, 1.0]])
DRIVER_COEFFICIENTS = np.array([0.5, 0.3, 0.0])
DRIVER_NOISE = 0.8
DRIVER_NAMES = ["safety", "support", "clarity"]


def make_driver_frame(seed: int = 11, n: int = 600) -> pd.DataFrame:
    """Respondent-level construct scores (continuous) for ``trust ~ safety + support + clarity``."""
    rng = np.random.default_rng(seed)
    x = rng.multivariate_normal(np.zeros(3), DRIVER_CORRELATION, size=n)
    y = x @ DRIVER_COEFFICIENTS + DRIVER_NOISE * rng.normal(size=n)
    frame = pd.DataFrame(3.5 + 0.7 * x, columns=DRIVER_NAMES)
    frame["trust"] = 3.2 + 0.9 * y
    return frame


def truth_standardized_betas() -> np.ndarray:
    """Population standardized coefficients: b_j * sd(x_j) / sd(y), with unit-variance drivers."""
    variance_y = DRIVER_COEFFICIENTS @ DRIVER_CORRELATION @ DRIVER_COEFFICIENTS + DRIVER_NOISE**2
    return DRIVER_COEFFICIENTS / np.sqrt(variance_y)
