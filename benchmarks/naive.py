"""The naive way: what a hand-written pandas notebook does every time it is opened.

Run: ``.venv/bin/python benchmarks/naive.py RAW_FOLDER [--fraction F] [--json]``

It is the baseline ``benchmarks/run.py`` measures the pipeline against, so it does the same work
without any of the pipeline's machinery: every export is read (with the package's own format
readers, so both sides parse the same rows), posts are attributed to employees with a pandas merge,
every text -- posts, audience comments, survey comments, each row, repeats included -- is screened
for language with ``py3langid.classify`` and scored with ``vaderSentiment``'s
``SentimentIntensityAnalyzer().polarity_scores`` in one process, policy findings come from the same
rules, and the monthly aggregates (adherence, sentiment, engagement, incidents, training coverage,
survey favourability) are grouped in pandas with the k threshold. Nothing is cached or stored.

``--fraction`` scores only that share of the texts (an evenly spaced sample) and scales the
per-text time up to all of them, for a quick estimate on big data; the JSON says when it did.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from analytics import adherence, config, sources
from analytics.codebook import load_codebook
from analytics.sources.base import ReadContext, SourceError

_ALIASES = {"twitter": "x", "fb": "facebook", "meta": "facebook", "ig": "instagram"}


def _read_all(folder: Path) -> dict[str, list[pd.DataFrame]]:
    settings = config.get_settings()
    context = ReadContext(timezone=settings.timezone, dayfirst=settings.dayfirst, codebook=load_codebook())
    tables: dict[str, list[pd.DataFrame]] = {}
    for path in sorted(p for p in folder.iterdir() if p.is_file() and p.name != "truth.json"):
        try:
            _fmt, read = sources.detect(path)
            parsed = read(path, context)
        except SourceError:
            continue
        for name, frame in parsed.tables.items():
            tables.setdefault(name, []).append(frame)
    return tables


def _frame(tables: dict[str, list[pd.DataFrame]], name: str) -> pd.DataFrame:
    return pd.concat(tables[name], ignore_index=True) if name in tables else pd.DataFrame()


def _handles(roster: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for email, department, handles in zip(roster["email"], roster["department"], roster["handles"].fillna(""),
                                          strict=True):
        for handle in str(handles).split(";"):
            platform, _, bare = handle.strip().partition(":")
            if bare:
                rows.append((platform, bare.lower().lstrip("@"), email, department))
    return pd.DataFrame(rows, columns=["platform", "handle", "email", "department"])


def _score(texts: pd.Series, fraction: float) -> tuple[pd.DataFrame, tuple[float, float], int]:
    """Language and VADER per text, row by row (a sample when ``fraction`` < 1)."""
    import py3langid
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    values = texts.fillna("").astype(str)
    if fraction < 1:
        step = max(1, round(1 / fraction))
        values = values.iloc[::step]
    started, cpu = time.perf_counter(), time.process_time()
    language = values.map(lambda t: py3langid.classify(t)[0] if len(t.split()) >= 3 else "en")
    scores = pd.DataFrame(values.map(analyzer.polarity_scores).tolist(), index=values.index)
    seconds = time.perf_counter() - started, time.process_time() - cpu
    scores["english"] = language == "en"
    return scores, seconds, len(values)


def _month(stamps: pd.Series, timezone: str) -> pd.Series:
    local = pd.to_datetime(stamps, utc=True).dt.tz_convert(timezone)
    return local.dt.strftime("%Y-%m")


def run(folder: Path, fraction: float = 1.0) -> dict[str, object]:
    settings = config.get_settings()
    k, tz = settings.k, settings.timezone
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[step] = round(now - clock, 3)
        clock = now

    tables = _read_all(folder)
    lap("read exports")

    roster = _frame(tables, "roster")
    handles = _handles(roster)
    posts = _frame(tables, "posts")
    posts["platform"] = posts["platform"].str.lower().replace(_ALIASES)
    posts["handle"] = posts["handle"].astype("string").str.lower().str.lstrip("@")
    posts = posts.sort_values("metrics_as_of").drop_duplicates(["platform", "post_id", "text"], keep="last")
    by_platform = handles.drop_duplicates(["platform", "handle"])
    posts = posts.merge(by_platform, on=["platform", "handle"], how="left")
    org = {(p, h.lower()) for p, names in settings.organisation_accounts.items() for h in names}
    is_org = [(p, h) in org or pd.isna(h) for p, h in zip(posts["platform"], posts["handle"], strict=True)]
    posts["account_type"] = np.where(is_org, "organization", np.where(posts["email"].notna(), "employee",
                                                                      "unattributed"))
    posts["month"] = _month(posts["published_at"], tz)
    comments = _frame(tables, "audience_comments")
    survey_comments = _frame(tables, "survey_comments")
    lap("attribute posts")

    texts = pd.concat([posts["text"], comments.get("text", pd.Series(dtype=str)),
                       survey_comments.get("text", pd.Series(dtype=str))], ignore_index=True)
    scores, (scoring_seconds, scoring_cpu), scored = _score(texts, fraction)
    # a sample's per-text time stands for every text
    timings["sentiment (per text)"] = round(scoring_seconds * len(texts) / max(scored, 1), 3)
    clock = time.perf_counter()
    compound = scores["compound"].where(scores["english"]).reindex(range(len(texts)))
    posts["compound"] = compound.iloc[: len(posts)].to_numpy()
    comments["compound"] = compound.iloc[len(posts): len(posts) + len(comments)].to_numpy()

    found = adherence.find_violations(posts["text"].fillna("").tolist(),
                                      employee_posts=(posts["account_type"] == "employee").tolist())
    serious = found[found["severity"].isin(["medium", "high"])]["text_index"].unique()
    posts["violation"] = False
    posts.loc[posts.index[serious], "violation"] = True
    lap("policy findings")

    out: dict[str, pd.DataFrame] = {}
    employee = posts[posts["account_type"] == "employee"]
    for grouping in (None, "department", "platform"):
        keys = ["month"] + ([grouping] if grouping else [])
        groups = employee.groupby(keys)
        table = groups.agg(posts=("post_id", "size"), people=("email", "nunique"),
                           adherence=("violation", lambda v: 1 - v.mean()), sentiment=("compound", "mean"))
        out[f"employee by {grouping or 'all'}"] = table[table["people"] >= k]
    organisation = posts[posts["account_type"] == "organization"].copy()
    for column in ("impressions", "reach", "reactions", "comments", "shares", "clicks", "saves"):
        organisation[column] = pd.to_numeric(organisation.get(column), errors="coerce")
    organisation["engagement"] = organisation[["reactions", "comments", "shares", "clicks", "saves"]].sum(axis=1)
    for grouping in (None, "platform"):
        keys = ["month"] + ([grouping] if grouping else [])
        rated = organisation[organisation["impressions"] > 0].groupby(keys)
        out[f"engagement by {grouping or 'all'}"] = rated["engagement"].sum() / rated["impressions"].sum()
        out[f"organisation sentiment by {grouping or 'all'}"] = organisation.groupby(keys)["compound"].mean()
    if not comments.empty:
        comments["month"] = _month(comments["published_at"], tz)
        out["audience sentiment"] = comments.groupby("month")["compound"].mean()
    incidents = _frame(tables, "incidents")
    if not incidents.empty:
        incidents["month"] = _month(incidents["reported_at"], tz)
        hours = (pd.to_datetime(incidents["resolved_at"], utc=True)
                 - pd.to_datetime(incidents["reported_at"], utc=True)).dt.total_seconds() / 3600
        out["incidents"] = incidents.assign(hours=hours).groupby("month").agg(n=("incident_id", "size"),
                                                                              median_hours=("hours", "median"))
    trainings = _frame(tables, "trainings")
    if not trainings.empty and not roster.empty:
        trained = trainings[trainings["module"] == settings.training_module]
        first = pd.to_datetime(trained.groupby("email")["completed_at"].min(), utc=True)
        months = sorted(posts["month"].dropna().unique())
        coverage = []
        for month in months:
            end = pd.Timestamp(month + "-01", tz="UTC") + pd.DateOffset(months=1)
            done = roster["email"].map(first) < end
            coverage.append((month, float(done.mean())))
        out["training coverage"] = pd.DataFrame(coverage, columns=["month", "coverage"])
    answers = _frame(tables, "survey_answers")
    respondents = _frame(tables, "respondents")
    if not answers.empty:
        items = load_codebook().items_frame()
        likert = answers.merge(items[items["kind"] == "likert"], on="item_id")
        likert = likert.merge(respondents[["response_id", "submitted_at"]], on="response_id")
        local = pd.to_datetime(likert["submitted_at"], utc=True).dt.tz_convert(tz)
        likert["wave"] = local.dt.year.astype(str) + "-Q" + local.dt.quarter.astype(str)
        value = pd.to_numeric(likert["value"], errors="coerce")
        value = np.where(likert["reverse"], likert["scale_min"] + likert["scale_max"] - value, value)
        likert["favourable"] = value >= likert["scale_max"] - 1
        table = likert.groupby(["wave", "construct"]).agg(n=("response_id", "nunique"),
                                                          favourable=("favourable", "mean"))
        out["favourability"] = table[table["n"] >= k]
    lap("aggregates")
    return {"timings": timings, "texts": len(texts), "texts_scored": scored, "fraction": fraction,
            "sentiment_measured": round(scoring_seconds, 3), "sentiment_measured_cpu": round(scoring_cpu, 3),
            "posts": len(posts), "tables": {name: len(table) for name, table in out.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--fraction", type=float, default=1.0,
                        help="score this share of the texts and scale the per-text time up (default 1: all)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    if not 0 < args.fraction <= 1:
        parser.error("--fraction must be in (0, 1]")
    started = time.perf_counter()
    result = run(args.folder, args.fraction)
    measured = time.perf_counter() - started
    timings = result["timings"]
    # with a sample, the scoring time measured gives way to its estimate for every text
    result["seconds"] = round(measured - result["sentiment_measured"] + timings["sentiment (per text)"], 3)
    if args.json:
        print(json.dumps(result))
    else:
        for step, seconds in timings.items():
            print(f"{step:<24} {seconds:>9.1f} s")
        print(f"{'total':<24} {result['seconds']:>9.1f} s  ({result['texts']} texts)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
