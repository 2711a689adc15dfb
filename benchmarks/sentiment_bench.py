"""Throughput of ``analytics.sentiment`` against the reference ``vaderSentiment`` package.

Run: ``.venv/bin/python benchmarks/sentiment_bench.py [--repeat 12] [--rounds 3]``

Texts are the 4,200 ground-truth tweets of the VADER paper (tests/data), repeated to ~50k. Each row
reports texts per second (best of ``--rounds``) and the ratio to the reference on one core:

* ``reference``: ``SentimentIntensityAnalyzer().polarity_scores`` on every text, one core.
* ``kernel, distinct``: our VADER on the 4,200 distinct tweets (no language screen, no repeats).
* ``score_texts, distinct``: the full batch API (entities, language screen, VADER), one core.
* ``score_texts, repeated``: the full API on the ~50k repeated tweets, one core; each distinct text is
  scored once, which is what a real warehouse with retweets and re-imports gains too.
* ``score_texts, 50k distinct``: ~50k distinct texts (a counter appended to each tweet), with 1 and
  with every core, to show what the worker processes bring.

Timings on a shared machine vary; the ratios measured in the same run are what to compare.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from analytics import sentiment

TWEETS = Path(__file__).resolve().parents[1] / "tests" / "data" / "vader_tweets_GroundTruth.txt"


def _best_rate(run: Callable[[], object], n: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return n / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=12, help="copies of the tweets (12 -> 50,400 texts)")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per row; the best counts")
    args = parser.parse_args()

    lines = TWEETS.read_text("utf-8").split("\n")
    distinct = [line.split("\t", 2)[2] for line in lines if line.strip()]
    repeated = distinct * args.repeat
    many_distinct = [f"{text} #{k}" for k, text in enumerate(repeated)]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1

    reference = SentimentIntensityAnalyzer()
    # Load lexicons and language model once, outside the timings (the reference loads in __init__).
    sentiment.score_texts(distinct[:10])

    rows = [("reference (vaderSentiment)", len(repeated), lambda: [reference.polarity_scores(t) for t in repeated])]
    rows += [
        ("kernel, distinct", len(distinct), lambda: sentiment._score_many(distinct)),
        ("score_texts, distinct, 1 core", len(distinct), lambda: sentiment.score_texts(distinct, workers=1)),
        ("score_texts, repeated, 1 core", len(repeated), lambda: sentiment.score_texts(repeated, workers=1)),
        (
            "score_texts, 50k distinct, 1 core",
            len(many_distinct),
            lambda: sentiment.score_texts(many_distinct, workers=1),
        ),
        (
            f"score_texts, 50k distinct, {cores} cores",
            len(many_distinct),
            lambda: sentiment.score_texts(many_distinct, workers=cores),
        ),
    ]
    base = None
    print(f"{'what':<40} {'texts':>8} {'texts/s':>10} {'x reference':>12}")
    for label, n, run in rows:
        rate = _best_rate(run, n, args.rounds if n <= len(repeated) else 1)
        base = base or rate
        print(f"{label:<40} {n:>8} {rate:>10,.0f} {rate / base:>12.2f}")


if __name__ == "__main__":
    main()
