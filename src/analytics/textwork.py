"""The text side of a small ``policy-pulse update`` done ahead, by a second process.

An update of a few thousand posts spends most of its build on their texts: sentiment scores, then the
policy scan (which first compiles a thousand regexes). Both are functions of the text alone (and of the
rules, taxonomy and settings), known as soon as the ingest has scrubbed the posts. So the update starts
one spawned worker at once: it loads the rules, the taxonomy and the lexicons while this process imports
and ingests, then scans and scores the new texts while this process loads them and finds the build's
changes. The build then takes the worker's answers for the texts it would have scanned or scored.

The answers are exactly those of :func:`analytics.adherence` 's scan and of
:func:`analytics.sentiment.score_texts`, which give each text its result whatever texts it comes with; a
text the worker did not see, or rules, taxonomy or settings other than the build's, leave the build to
do the work itself.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from analytics import config, parallel

__all__ = ["MAX_BYTES", "MAX_TEXTS", "TextWorker", "current", "fingerprint", "rules_version", "small_input"]

#: Inputs up to this many bytes (all files together) get a text worker: bigger ones use the ingest's scrub
#: helper and the build's own parallel scan and scoring.
MAX_BYTES = 32 << 20
#: At most this many posts' texts are handed to the worker (beyond it the build's own parallel paths win).
MAX_TEXTS = 20_000

_current: TextWorker | None = None


def current() -> TextWorker | None:
    """The text worker of this process's update, if one runs."""
    return _current


def rules_version() -> str:
    """The version the build records for the policy rules file: its SHA-256 (12 hex digits).

    Examples
    --------
    >>> len(rules_version())
    12
    """
    path = config.POLICY_RULES_PATH
    return hashlib.sha256(path.read_bytes() if path.exists() else b"").hexdigest()[:12]


def small_input(paths: Iterable[str | os.PathLike[str]]) -> bool:
    """Whether the files and folders ``paths`` hold at most :data:`MAX_BYTES` (missing ones count nothing).

    Examples
    --------
    >>> small_input([config.POLICY_RULES_PATH])
    True
    """
    total = 0
    for raw in paths:
        path = Path(raw)
        files = path.rglob("*") if path.is_dir() else [path]
        total += sum(p.stat().st_size for p in files if p.is_file())
        if total > MAX_BYTES:
            return False
    return True


def fingerprint(version: str, taxonomy: Any) -> str:
    """What a scan's findings and themes depend on besides the texts: the rules file's ``version`` (see
    :func:`rules_version`), ``taxonomy``'s version and the settings (the rules read the organisation's names).

    Examples
    --------
    >>> from analytics import themes
    >>> fingerprint("abc", themes.load_taxonomy()).startswith("abc|")
    True
    """
    return f"{version}|{taxonomy.version}|{config.get_settings()!r}"


def _setup() -> tuple[str, Any, Any]:
    """(fingerprint, rules, taxonomy) of a scan in this process."""
    from analytics import adherence, themes

    version = rules_version()
    rules = adherence.load_rules()
    taxonomy = themes.load_taxonomy()
    return fingerprint(version, taxonomy), rules, taxonomy


def _warm() -> None:
    """The worker's start: everything a scan and the scoring load once (the rules' regexes, the screens, the
    lexicons, the language model)."""
    from analytics import adherence, sentiment

    _fingerprint, rules, taxonomy = _setup()
    adherence._scan_chunk(["warm up"], [True], rules, taxonomy)
    sentiment.score_texts(["warm up the lexicon"])
    sentiment._language_model()


def _scan(texts: list[str], employee: list[bool]) -> tuple[str, list[list[tuple[str, str, str, str]]], list[str]]:
    """Each text's findings (rule_id, area, severity, evidence_redacted; in rule order) and primary theme,
    with the fingerprint of the rules and taxonomy they were found with."""
    from analytics import adherence

    fingerprint, rules, taxonomy = _setup()
    found, themes = adherence._scan_chunk(texts, employee, rules, taxonomy)
    rows: list[list[tuple[str, str, str, str]]] = [[] for _ in texts]
    for index, rule_id, area, severity, evidence in zip(
            found["text_index"].tolist(), found["rule_id"].tolist(), found["area"].tolist(),
            found["severity"].tolist(), found["evidence_redacted"].tolist(), strict=True):
        rows[index].append((rule_id, area, severity, evidence))
    return fingerprint, rows, themes


def _score(texts: list[str]) -> Any:
    """:func:`analytics.sentiment.score_texts` of ``texts``, as (statuses, scores) arrays."""
    from analytics import sentiment

    scored = sentiment.score_texts(texts, workers=1)
    return scored["status"].to_numpy(dtype=object), scored[["neg", "neu", "pos", "compound"]].to_numpy()


class TextWorker:
    """One spawned process that scans and scores an update's new texts while this process does the rest.

    :meth:`prepare` hands it texts (the ingest does, for each file's posts); :meth:`scan` and
    :meth:`score_texts` then answer from its results, or return ``None`` when a text was not among them
    (the caller does that work itself). Use as a context manager: it is :func:`current` inside.
    """

    def __init__(self) -> None:
        self._pool: Any = None
        # the worker's pending answers, each with the texts (and flags) it was asked about
        self._scans: list[tuple[list[tuple[str, bool]], Future]] = []
        self._scores: list[tuple[list[str], Future]] = []
        self._scanned: dict[tuple[str, bool], tuple[list[tuple[str, str, str, str]], str]] = {}
        self._scored: dict[str, tuple[Any, Any]] = {}
        self._fingerprint: str | None = None
        self._handed = 0

    def __enter__(self) -> TextWorker:
        global _current
        if parallel.available_cores() > 1:
            from concurrent.futures import ProcessPoolExecutor
            from multiprocessing import get_context

            # spawned, not forked: DuckDB's threads are unsafe across fork
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"))
            self._pool.submit(_warm)
        _current = self
        return self

    def __exit__(self, *_exc: object) -> None:
        global _current
        _current = None
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def prepare(self, texts: Sequence[Any], employee: Sequence[bool]) -> None:
        """Have the worker scan the (text, employee post) pairs and score the texts (a missing text is scanned
        as '' and not scored), unless that makes more than :data:`MAX_TEXTS` texts in all."""
        self._handed += len(texts)
        if self._pool is None or self._handed > MAX_TEXTS:
            return
        pairs = list(dict.fromkeys(zip((t if isinstance(t, str) else "" for t in texts), map(bool, employee),
                                       strict=True)))
        distinct = list(dict.fromkeys(t for t in texts if isinstance(t, str)))
        try:
            # the scan first: it takes longer, and the build can score the texts itself while it waits for it
            self._scans.append((pairs, self._pool.submit(_scan, [text for text, _ in pairs], [e for _, e in pairs])))
            self._scores.append((distinct, self._pool.submit(_score, distinct)))
        except RuntimeError:  # the worker died (BrokenProcessPool): the build does the work itself
            self._pool = None

    def scan(self, texts: list[str], employee: list[bool], *, themed: bool, fingerprint: str) -> Any:
        """What ``adherence.ParallelScan(rules, taxonomy).scan(texts, employee, themed=themed)`` returns, from
        the worker's scans, when they were made with rules, taxonomy and settings of ``fingerprint`` (see
        :func:`_setup`) and hold every text; else ``None``."""
        import pandas as pd

        for pairs, future in self._scans:
            try:
                made_with, rows, themes = future.result()
            except Exception:  # a worker that failed only leaves the caller the work
                continue
            if self._fingerprint not in (None, made_with):
                self._scanned.clear()  # the rules changed between two files: the later scans count
            self._fingerprint = made_with
            self._scanned.update(zip(pairs, zip(rows, themes, strict=True), strict=True))
        self._scans = []
        if fingerprint != self._fingerprint:
            return None
        try:
            answers = [self._scanned[text, bool(flag)] for text, flag in zip(texts, employee, strict=True)]
        except KeyError:
            return None
        hits = [(index, *hit) for index, (found, _theme) in enumerate(answers) for hit in found]
        columns = list(zip(*hits, strict=True)) if hits else [[]] * 5
        found = pd.DataFrame({
            "text_index": pd.Series(columns[0], dtype="int64"),
            **{name: pd.Series(values, dtype="str")
               for name, values in zip(("rule_id", "area", "severity", "evidence_redacted"), columns[1:],
                                       strict=True)},
        })
        return found, [theme for _found, theme in answers] if themed else None

    def score_texts(self, texts: list[str]) -> Any:
        """``sentiment.score_texts(texts)`` (a list of str) from the worker's scores, when they hold every text
        (else ``None``). Scores the worker has not begun are taken back: the caller scores sooner itself."""
        import numpy as np
        import pandas as pd

        for distinct, future in self._scores:
            if future.cancel():
                continue
            try:
                statuses, scores = future.result()
            except Exception:  # a worker that failed only leaves the caller the work
                continue
            self._scored.update(zip(distinct, zip(statuses, scores, strict=True), strict=True))
        self._scores = []
        try:
            answers = [self._scored[text] for text in texts]
        except KeyError:
            return None
        scores = np.array([score for _status, score in answers], dtype=np.float64).reshape(len(texts), 4)
        out = pd.DataFrame(scores, columns=["neg", "neu", "pos", "compound"])
        out.insert(0, "status", pd.Series([status for status, _score in answers], dtype="str"))
        return out
