"""Throughput of ``analytics.sentiment`` against the reference ``vaderSentiment`` package.

Run: ``.venv/bin/python benchmarks/sentiment_bench.py [--posts CSV] [--sample 20000] [--batch 300000]``

Texts: the distinct values of the ``text`` column of ``--posts`` (e.g. a generated
``monitoring_posts.csv``; ``audience_comments.csv`` beside it is added when present), or without it the
4,200 VADER ground-truth tweets (tests/data), each copy made distinct by a counter. Rows:

* ``reference, 1 core``: ``SentimentIntensityAnalyzer().polarity_scores`` on ``--sample`` texts,
  texts per CPU second.
* ``score_texts, 1 core``: the batch API (entities, language screen, VADER) on the same texts, texts per
  CPU second, with the largest |compound - reference| over them.
* ``VADER kernel only``: the same texts without the language screen and batch bookkeeping.
* ``score_texts, all cores, cold``: ``--batch`` distinct texts in a fresh process that has loaded
  nothing of the scorer yet: wall texts/s with every core, lexicon and worker start-up included, and
  texts per CPU second of that process and its workers together.

CPU time is the fair per-core comparison on a shared machine; wall time shows what the cores bring.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

TWEETS = Path(__file__).resolve().parents[1] / "tests" / "data" / "vader_tweets_GroundTruth.txt"
KEYS = ("neg", "neu", "pos", "compound")


def _texts(posts: Path | None, n: int) -> list[str]:
    if posts is None:
        lines = TWEETS.read_text("utf-8").split("\n")
        tweets = [line.split("\t", 2)[2] for line in lines if line.strip()]
        return [f"{tweets[k % len(tweets)]} #{k}" if k >= len(tweets) else tweets[k] for k in range(n)]
    import pandas as pd

    frames = [pd.read_csv(posts, usecols=["text"], dtype=str)]
    comments = posts.with_name("audience_comments.csv")
    if comments.exists():
        frames.append(pd.read_csv(comments, usecols=["text"], dtype=str))
    texts = list(dict.fromkeys(pd.concat(frames)["text"].dropna()))
    if len(texts) < n:
        print(f"note: {posts} has {len(texts):,} distinct texts, fewer than {n:,}", file=sys.stderr)
    return random.Random(5).sample(texts, min(n, len(texts)))


def _cpu_rate(run, n: int) -> tuple[float, object]:
    started = time.process_time()
    result = run()
    return n / max(time.process_time() - started, 1e-9), result


def _cold_batch(posts: Path | None, n: int) -> dict[str, float]:
    """Runs in a fresh process: score ``n`` distinct texts with every core, nothing loaded before."""
    texts = _texts(posts, n)
    wall, cpu = time.perf_counter(), time.process_time()
    from analytics import sentiment

    result = sentiment.score_texts(texts)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    for child in multiprocessing.active_children():
        child.join()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu += children.ru_utime + children.ru_stime
    return {"texts": len(texts), "wall": wall, "cpu": cpu, "cores": len(os.sched_getaffinity(0)),
            "not_english": int((result["status"] == "not_english").sum())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=Path, help="CSV with a 'text' column (default: the VADER tweets)")
    parser.add_argument("--sample", type=int, default=20_000, help="texts for the one-core comparison")
    parser.add_argument("--batch", type=int, default=300_000, help="distinct texts for the all-cores run")
    parser.add_argument("--cold-batch", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cold_batch:
        print(json.dumps(_cold_batch(args.posts, args.batch)))
        return

    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from analytics import sentiment

    texts = _texts(args.posts, args.sample)
    reference = SentimentIntensityAnalyzer()
    sentiment.score_texts(texts[:200], workers=1)  # lexicons and language model loaded outside the timing
    ref_rate, _ = _cpu_rate(lambda: [reference.polarity_scores(t) for t in texts], len(texts))
    ours_rate, ours = _cpu_rate(lambda: sentiment.score_texts(texts, workers=1), len(texts))
    kernel_rate, _ = _cpu_rate(lambda: sentiment._score_many(texts), len(texts))
    scored = (ours["status"] == "scored").to_numpy()
    # score_texts scores the text with HTML entities unescaped: compare with the reference on that text
    cleaned = [reference.polarity_scores(sentiment.clean_text(t))["compound"] for t in texts]
    difference = max((abs(a - b) for a, b, keep in zip(ours["compound"], cleaned, scored, strict=True) if keep),
                     default=0.0)
    command = [sys.executable, __file__, "--cold-batch", "--batch", str(args.batch)]
    if args.posts:
        command += ["--posts", str(args.posts)]
    cold = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)

    print(f"{len(texts):,} texts ({'tweets' if args.posts is None else args.posts}); "
          f"max |compound - reference| {difference:.1e}; not English {int((~scored).sum())}")
    print(f"{'what':<46} {'texts/s':>10} {'x reference':>12}")
    rows = [
        ("reference, 1 core (per CPU s)", ref_rate),
        ("score_texts, 1 core (per CPU s)", ours_rate),
        ("VADER kernel only, 1 core (per CPU s)", kernel_rate),
        (f"score_texts, {cold['texts']:,} cold, {cold['cores']} cores (wall)", cold["texts"] / cold["wall"]),
        (f"score_texts, {cold['texts']:,} cold, {cold['cores']} cores (per CPU s)", cold["texts"] / cold["cpu"]),
    ]
    for label, rate in rows:
        print(f"{label:<46} {rate:>10,.0f} {rate / ref_rate:>12.2f}")


if __name__ == "__main__":
    main()
