"""Sentiment of free text: a fast, faithful VADER, a language screen, and a warehouse cache.

Three things live here:

* :func:`polarity_scores` is our own implementation of the published VADER algorithm (Hutto & Gilbert,
  ICWSM 2014) as the ``vaderSentiment`` package computes it -- including its quirks (the ``but`` rule
  that rescales by value rather than position, caps emphasis on neutral words, emoji translated into
  words) -- so scores equal ``SentimentIntensityAnalyzer().polarity_scores`` to the last rounded digit.
  The lexicon, the emoji lexicon and the rule word lists are read from the installed package at run
  time; nothing of them is copied here. Batches are scored in numpy: each distinct token's facts are
  computed once, the common rules (caps, boosters, a negation or "so" before a sentiment word) run on
  whole arrays, and only texts where a rarer rule applies ("no", "least", "but", idioms) go through
  the per-text rules.
* :func:`score_texts` scores a batch: one score per distinct text, ``not_english`` for text that the
  shipped ``py3langid`` model is confident is another language (text made of enough common English
  words is English without asking it), ``empty`` for blank text, and several processes for big batches.
* :func:`update_sentiment_cache` keeps the warehouse table ``sentiment`` keyed by
  ``(text_hash, scorer_version)`` so a re-build scores only text it has not seen.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import importlib.metadata
import importlib.resources
import itertools
import math
import re
import string
import sys
import unicodedata
from collections.abc import Callable, Collection, Iterable, Sequence, Sized
from concurrent.futures import Future, ProcessPoolExecutor
from functools import lru_cache
from itertools import chain, compress
from multiprocessing import get_context
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analytics import parallel, usercache

__all__ = [
    "ENGLISH_MIN_CONFIDENCE",
    "PARALLEL_MIN_TEXTS",
    "SCORER_VERSION",
    "begin_cache_update",
    "cache_rows",
    "clean_text",
    "is_confidently_not_english",
    "polarity_scores",
    "score_ahead",
    "score_texts",
    "store_cache_rows",
    "text_hash",
    "update_sentiment_cache",
    "workers_kept",
]

#: A text is excluded as ``not_english`` only when the language model gives another language at least
#: this normalised probability. 0.6 keeps 99.8 % of the English ground-truth tweets scored and still
#: catches ordinary Spanish, German, French, Dutch or Italian sentences.
ENGLISH_MIN_CONFIDENCE = 0.6
#: Below this many letters (after URLs, handles and e-mail addresses are set aside) a text is too short
#: to judge its language; it defaults to English.
_MIN_LETTERS_FOR_LANGUAGE = 20
_MIN_WORDS_FOR_LANGUAGE = 3
#: Text with at least this many common English words (:data:`_ENGLISH_MARKERS`), making up at least this
#: share of its words, is English without asking the language model.
_MIN_ENGLISH_MARKERS = 2
_MIN_ENGLISH_MARKER_SHARE = 0.2

# Rule constants of the published algorithm that the package writes inline, not as named tables.
_NEAR_SCALE = 0.95  # a booster two words before the sentiment word counts 95 %
_FAR_SCALE = 0.9  # three words before: 90 %
_NEVER_SO = 1.25  # "never so good" intensifies instead of negating
_BUT_BEFORE = 0.5
_BUT_AFTER = 1.5
_EXCLAIM = 0.292
_EXCLAIM_MAX = 4
_QUESTION = 0.18
_QUESTION_MAX = 0.96
_ALPHA = 15

_PUNCTUATION = string.punctuation
# Per-token facts are memoised; a cap keeps memory bounded on unbounded streams of new tokens.
_TOKEN_MEMO_LIMIT = 400_000
_LANGUAGE_CHUNK = 4096
#: From this many texts, the language screen sums by a sparse product: importing scipy.sparse (~0.1 s) is
#: repaid (the numpy sums cost ~1 ms more per 250 texts), and in a full build it is imported anyway.
_SPARSE_FROM = 4 * _LANGUAGE_CHUNK
_MAX_LANGUAGE_CHARS = 2000


def _package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


#: Changes whenever a score could change: our algorithm revision, the lexicon package, the language
#: model and its threshold. Cached rows of another version are ignored, not reused. Revision 2 added the
#: English pre-screen (:func:`_plainly_english`): text it passes is English without the model.
SCORER_VERSION = (
    f"pp-vader-2/vaderSentiment-{_package_version('vaderSentiment')}"
    f"/py3langid-{_package_version('py3langid')}@{ENGLISH_MIN_CONFIDENCE}"
)


class _Vader:
    """The lexicons and rule tables of the installed ``vaderSentiment``, shaped for fast lookup."""

    def __init__(self) -> None:
        # The word lists and empirically derived increments are data of the installed package; reading
        # them (not copying them) keeps us in step with the lexicon files we load beside them.
        from vaderSentiment import vaderSentiment as reference

        files = importlib.resources.files("vaderSentiment")
        self.lexicon = _parse_tab_file(files.joinpath("vader_lexicon.txt").read_text("utf-8"), float)
        emojis = _parse_tab_file(files.joinpath("emoji_utf8_lexicon.txt").read_text("utf-8"), str)
        # The package translates text one code point at a time, so only one-code-point keys can ever
        # match. A leading space is always safe to add: extra blanks change neither the tokens nor the
        # "!"/"?" counts, which are the only uses of the translated text.
        self.emoji_table = {k: " " + v for k, v in emojis.items() if len(k) == 1}
        self.emoji_blank = dict.fromkeys(self.emoji_table, " ")
        self.boosters: dict[str, float] = dict(reference.BOOSTER_DICT)
        self.negations = frozenset(reference.NEGATE)
        self.booster_phrases = {tuple(k.split()): v for k, v in reference.BOOSTER_DICT.items() if " " in k}
        self.special = {tuple(k.split()): v for k, v in reference.SPECIAL_CASES.items() if " " in k}
        # A phrase can only match where its first word occurs; most texts skip the phrase checks.
        self.phrase_starts = frozenset(k[0] for k in (*self.special, *self.booster_phrases))
        self.phrase_seconds = frozenset(k[1] for k in (*self.special, *self.booster_phrases))
        # Emoji become words ("smiling face with smiling eyes") before the pre-screen reads the tokens;
        # words of those descriptions must not make a text look English.
        described = {w.strip(_PUNCTUATION).lower() for d in self.emoji_table.values() for w in d.split()}
        self.markers = _ENGLISH_MARKERS - described
        self.c_incr = reference.C_INCR
        self.n_scalar = reference.N_SCALAR
        self.memo: dict[str, _Facts] = {}
        # The batch path numbers distinct tokens; row k of ``values`` / ``flags`` describes token k.
        self.token_ids: dict[str, int] = {}
        self.values = np.zeros(0)
        self.boosts = np.zeros(0)
        self.flags = np.zeros(0, dtype=np.uint16)

    def ids(self, tokens: list[str]) -> np.ndarray:
        """Row of each token in :attr:`values` and :attr:`flags`, adding the tokens not seen before."""
        index = self.token_ids
        try:
            return np.fromiter(map(index.__getitem__, tokens), dtype=np.int64, count=len(tokens))
        except KeyError:
            new = list(set(tokens).difference(index))
            rows = [self.row(raw) for raw in new]
            index.update(zip(new, range(len(index), len(index) + len(new)), strict=True))
            self.values = np.concatenate([self.values, np.array([r[0] for r in rows], dtype=np.float64)])
            self.boosts = np.concatenate([self.boosts, np.array([r[1] for r in rows], dtype=np.float64)])
            self.flags = np.concatenate([self.flags, np.array([r[2] for r in rows], dtype=np.uint16)])
            return np.fromiter(map(index.__getitem__, tokens), dtype=np.int64, count=len(tokens))

    def forget_tokens(self) -> None:
        """Drop the batch token table once it is large, so memory stays bounded on endless new tokens."""
        if len(self.token_ids) >= _TOKEN_MEMO_LIMIT:
            self.token_ids.clear()
            self.values = np.zeros(0)
            self.boosts = np.zeros(0)
            self.flags = np.zeros(0, dtype=np.uint16)

    def row(self, raw: str) -> tuple[float, float, int]:
        """Lexicon valence (0 unless a sentiment word), booster increment (or 0) and ``_F_*`` flags of a token."""
        lower, upper, value, booster, negation, candidate, _ = self.facts(raw)
        # The language pre-screen reads the token as a word, not as VADER does (which keeps ":)" whole).
        word = raw.strip(_PUNCTUATION).lower()
        flags = (
            _F_CANDIDATE * candidate
            | _F_LEXICON * (value is not None)
            | _F_BOOSTER * (booster is not None)
            | _F_NEGATION * negation
            | _F_NO * (lower == "no")
            | _F_LEAST * (lower == "least")
            | _F_SO_THIS * (lower in ("so", "this"))
            | _F_PHRASE_FIRST * (lower in self.phrase_starts)
            | _F_PHRASE_SECOND * (lower in self.phrase_seconds)
            | _F_UPPER * upper
            | _F_BUT * (lower == "but")
            | _F_WORD * word.replace("'", "").isalpha()
            | _F_MARKER * (word in self.markers)
        )
        return (value if candidate else 0.0), (booster or 0.0), flags

    def facts(self, raw: str) -> _Facts:
        """Facts about one whitespace-separated token, memoised per distinct token."""
        stripped = raw.strip(_PUNCTUATION)
        # Stripping that leaves two characters or fewer was an emoticon such as ":)"; keep it whole.
        word = raw if len(stripped) <= 2 else stripped
        lower = word.lower()
        value = self.lexicon.get(lower)
        booster = self.boosters.get(lower)
        negation = lower in self.negations or "n't" in lower
        facts = (
            lower,
            word.isupper(),
            value,
            booster,
            negation,
            value is not None and booster is None,
            # Inert: cannot change the valence of a sentiment word up to three places after it.
            booster is None and not negation and lower not in _RULE_WORDS and lower not in self.phrase_starts,
        )
        if len(self.memo) >= _TOKEN_MEMO_LIMIT:
            self.memo.clear()
        self.memo[raw] = facts
        return facts


#: (lower form, is ALL CAPS, lexicon valence, booster increment, is a negation, may carry sentiment,
#: inert)
_Facts = tuple[str, bool, "float | None", "float | None", bool, bool, bool]
_LOWER, _UPPER, _CANDIDATE, _INERT = itemgetter(0), itemgetter(1), itemgetter(5), itemgetter(6)
# Common English words that are rarely words of other languages written in Latin script ("in", "die",
# "also", "was", "a", "on" are left out); text made of enough of them needs no language model.
_MARKER_WORDS = """
the and of to for with that this you we our my it it's its are be been being have has had from by your they
their them what just can not were she he her his there about would who which if how when do did us out up
more than some very today thanks thank great people team i'm i one get got proud love week work every new
here why where these those because into after over know see day time good everyone lovely amazing help
happy wonderful volunteers join could should we're you're don't can't please share but any support first
two three read moment story families family food school need needs needed own views morning tonight
tomorrow yesterday much many really always never still going want
"""
_ENGLISH_MARKERS = frozenset(_MARKER_WORDS.split())
# Words that rules look for around a sentiment word ("no good", "at least", "never so", "without doubt").
_RULE_WORDS = frozenset({"no", "least", "at", "very", "never", "so", "this", "without", "doubt", "or", "nor"})


# Flags of a token for the batch path.
_F_CANDIDATE = 1  # may carry sentiment: in the lexicon and not a booster
_F_LEXICON = 1 << 1
_F_BOOSTER = 1 << 2
_F_NEGATION = 1 << 3
_F_NO = 1 << 4
_F_LEAST = 1 << 5
_F_SO_THIS = 1 << 6  # "so" or "this" (the package's "so good" / "never so good" rule)
_F_PHRASE_FIRST = 1 << 7  # first word of an idiom or a two-word booster ("kind of")
_F_PHRASE_SECOND = 1 << 8
_F_UPPER = 1 << 9  # ALL CAPS
_F_BUT = 1 << 10
_F_WORD = 1 << 11  # letters only (apostrophes aside) once outer punctuation is stripped
_F_MARKER = 1 << 12  # a common English word (see _Vader.markers)


def _replace_chars(text: str, table: dict[str, str]) -> str:
    """``text`` with each non-ASCII character that is a key of ``table`` replaced by its value.

    Equal to ``str.translate`` here because no replacement contains a key, but several times faster:
    ``translate`` looks every character up in the table, this only the few distinct non-ASCII ones.
    """
    for char in set(_NON_ASCII_RE.findall(text)):
        replacement = table.get(char)
        if replacement is not None:
            text = text.replace(char, replacement)
    return text


_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]")


def _parse_tab_file(text: str, convert: Any) -> dict[str, Any]:
    table = {}
    # Split on "\n" only: the emoji file holds characters that str.splitlines would also break on.
    for line in text.rstrip("\n").split("\n"):
        if not line:
            continue
        key, value = line.strip().split("\t")[0:2]
        table[key] = convert(value)
    return table


@lru_cache(maxsize=1)
def _vader() -> _Vader:
    return _Vader()


def _valence(v: _Vader, facts: list[_Facts], lowers: list[str], i: int, cap_differential: bool) -> float:
    """Valence of the sentiment word at ``i`` after the negation, booster, caps and idiom rules."""
    n = len(facts)
    lower, upper, value = facts[i][0], facts[i][1], facts[i][2]
    valence = value
    # "no" directly before another sentiment word negates it instead of counting itself.
    if lower == "no" and i != n - 1 and facts[i + 1][2] is not None:
        valence = 0.0
    if (
        (i > 0 and lowers[i - 1] == "no")
        or (i > 1 and lowers[i - 2] == "no")
        or (i > 2 and lowers[i - 3] == "no" and lowers[i - 1] in ("or", "nor"))
    ):
        valence = value * v.n_scalar
    if upper and cap_differential:
        valence = valence + v.c_incr if valence > 0 else valence - v.c_incr
    for k in range(1, min(i, 3) + 1):
        before = facts[i - k]
        if before[2] is not None:
            continue
        b = before[3]
        if b is not None:
            s = b * -1 if valence < 0 else b
            if before[1] and cap_differential:
                s = s + v.c_incr if valence > 0 else s - v.c_incr
            if k == 2 and s != 0:
                s = s * _NEAR_SCALE
            elif k == 3 and s != 0:
                s = s * _FAR_SCALE
            valence = valence + s
        if k == 1:
            if before[4]:
                valence = valence * v.n_scalar
        elif k == 2:
            if lowers[i - 2] == "never" and lowers[i - 1] in ("so", "this"):
                valence = valence * _NEVER_SO
            elif not (lowers[i - 2] == "without" and lowers[i - 1] == "doubt") and before[4]:
                valence = valence * v.n_scalar
        else:
            if (lowers[i - 3] == "never" and lowers[i - 2] in ("so", "this")) or lowers[i - 1] in ("so", "this"):
                valence = valence * _NEVER_SO
            elif not (lowers[i - 3] == "without" and "doubt" in (lowers[i - 2], lowers[i - 1])) and before[4]:
                valence = valence * v.n_scalar
            if not v.phrase_starts.isdisjoint(lowers[i - 3 : i + 1]):
                valence = _phrases(v, valence, lowers, i)
    if (
        i > 0
        and lowers[i - 1] == "least"
        and facts[i - 1][2] is None
        and (i == 1 or lowers[i - 2] not in ("at", "very"))
    ):
        valence = valence * v.n_scalar
    return valence


def _phrases(v: _Vader, valence: float, lowers: list[str], i: int) -> float:
    """Special-case idioms ("the shit", "yeah right") and two-word dampeners ("kind of")."""
    n = len(lowers)
    w0, w1, w2, w3 = lowers[i], lowers[i - 1], lowers[i - 2], lowers[i - 3]
    special = v.special
    for seq in ((w1, w0), (w2, w1, w0), (w2, w1), (w3, w2, w1), (w3, w2)):
        if seq in special:
            valence = special[seq]
            break
    if n - 1 > i and (w0, lowers[i + 1]) in special:
        valence = special[(w0, lowers[i + 1])]
    if n - 1 > i + 1 and (w0, lowers[i + 1], lowers[i + 2]) in special:
        valence = special[(w0, lowers[i + 1], lowers[i + 2])]
    for seq in ((w3, w2, w1), (w3, w2), (w2, w1)):
        if seq in v.booster_phrases:
            valence = valence + v.booster_phrases[seq]
    return valence


def _but_rule(lowers: list[str], positions: list[int], values: list[float]) -> None:
    """Halve sentiment before the first "but" and raise it by half after, as the package does.

    The package finds each value's position with ``list.index``, i.e. the FIRST equal value, so
    repeated values rescale an earlier word (possibly twice) and leave the later one alone. Zero
    valences never change, so the rule can run over the non-zero ones only.
    """
    bi = lowers.index("but")
    for k in range(len(values)):
        first = values.index(values[k])
        if positions[first] < bi:
            values[first] = values[k] * _BUT_BEFORE
        elif positions[first] > bi:
            values[first] = values[k] * _BUT_AFTER


def _raw_scores(text: str, v: _Vader) -> tuple[float, float, float, float]:
    """(neg, neu, pos, compound) of one text before the package's final rounding."""
    if not text.isascii():
        text = _replace_chars(text, v.emoji_table)
    tokens = text.split()
    n = len(tokens)
    if n == 0:
        return _NOTHING
    memo = v.memo
    try:
        facts = list(map(memo.__getitem__, tokens))
    except KeyError:
        facts = [memo.get(t) or v.facts(t) for t in tokens]
    # Per-token passes run in C (map/compress); Python only visits the few sentiment words.
    candidates = list(compress(range(n), map(_CANDIDATE, facts)))
    if not candidates:
        return _NEUTRAL
    lowers = list(map(_LOWER, facts))
    cap_differential = 0 < sum(map(_UPPER, facts)) < n
    positions = []
    values = []
    for i in candidates:
        own = facts[i]
        if own[6] and not (own[1] and cap_differential) and all(map(_INERT, facts[max(0, i - 3) : i])):
            # Nothing around the word can touch it: the rules would return its lexicon valence.
            valence = own[2]
        elif own[0] == "kind" and i < n - 1 and lowers[i + 1] == "of":
            continue
        else:
            valence = _valence(v, facts, lowers, i, cap_differential)
        if valence != 0:
            positions.append(i)
            values.append(valence)
    if not values:
        return _NEUTRAL
    if "but" in lowers:
        _but_rule(lowers, positions, values)
    total = float(sum(values))
    emphasis = min(text.count("!"), _EXCLAIM_MAX) * _EXCLAIM
    questions = text.count("?")
    if questions > 3:
        emphasis = emphasis + _QUESTION_MAX
    elif questions > 1:
        emphasis = emphasis + questions * _QUESTION
    if total > 0:
        total += emphasis
    elif total < 0:
        total -= emphasis
    compound = min(1.0, max(-1.0, total / math.sqrt(total * total + _ALPHA)))
    pos_sum = 0.0
    neg_sum = 0.0
    for x in values:
        # +1 / -1 make a sentiment word weigh against the neutral words, which count 1 each.
        if x > 0:
            pos_sum += float(x) + 1
        else:
            neg_sum += float(x) - 1
    if pos_sum > math.fabs(neg_sum):
        pos_sum += emphasis
    elif pos_sum < math.fabs(neg_sum):
        neg_sum -= emphasis
    neutral = n - len(values)
    denominator = pos_sum + math.fabs(neg_sum) + neutral
    return (
        math.fabs(neg_sum / denominator),
        math.fabs(neutral / denominator),
        math.fabs(pos_sum / denominator),
        compound,
    )


# Python 3.12 made sum() of floats compensated (Neumaier); the package's scores follow the running Python.
_COMPENSATED_SUM = sys.version_info >= (3, 12)
_NOTHING = (0.0, 0.0, 0.0, 0.0)
_NEUTRAL = (0.0, 1.0, 0.0, 0.0)
_DIGITS = (3, 3, 3, 4)
_KEYS = ("neg", "neu", "pos", "compound")
_SCALE = np.array([10.0**d for d in _DIGITS])


def _round_like_python(raw: np.ndarray) -> np.ndarray:
    """``round(x, 3)`` / ``round(x, 4)`` column-wise, to the bit, for an (n, 4) array.

    numpy's rint(x * 10**d) / 10**d can differ from Python's exact decimal rounding only where
    x * 10**d lies within floating error of a half; those few values are rounded by Python.
    """
    scaled = raw * _SCALE
    rounded = np.rint(scaled) / _SCALE
    near_half = np.abs(np.abs(scaled - np.floor(scaled)) - 0.5) < 1e-6
    for row, col in zip(*np.nonzero(near_half), strict=True):
        rounded[row, col] = round(float(raw[row, col]), _DIGITS[col])
    return rounded


#: Ends each text in :class:`_Tokens`' split of a batch.
_TEXT_END = "\x00"


class _Tokens:
    """A batch split as VADER splits it: emoji-translated texts, tokens per text, each token's row."""

    def __init__(self, texts: Sequence[str]) -> None:
        v = _vader()
        v.forget_tokens()
        self.texts = [t if t.isascii() else _replace_chars(t, v.emoji_table) for t in texts]
        # One split of the texts joined, each followed by a mark that is a token of its own (it is no
        # whitespace), is three times quicker than a split per text; a batch holding the mark is split text by text.
        joined = f" {_TEXT_END} ".join(self.texts)
        if joined.count(_TEXT_END) == max(len(self.texts) - 1, 0):
            ids = v.ids(f"{joined} {_TEXT_END}".split()) if self.texts else np.zeros(0, dtype=np.int64)
            ends = np.flatnonzero(ids == v.token_ids.get(_TEXT_END, -1))
            self.counts = np.diff(ends, prepend=-1) - 1
            ids = np.delete(ids, ends)
        else:
            token_lists = list(map(str.split, self.texts))
            self.counts = np.fromiter(map(len, token_lists), dtype=np.int64, count=len(token_lists))
            ids = v.ids(list(chain.from_iterable(token_lists)))
        self.values = v.values[ids]
        self.boosts = v.boosts[ids]
        self.flags = v.flags[ids]
        self.text_of = np.repeat(np.arange(len(self.counts)), self.counts)

    def per_text(self, flag: int) -> np.ndarray:
        """How many tokens of each text have ``flag``."""
        return np.bincount(self.text_of, weights=(self.flags & flag) != 0, minlength=len(self.counts))

    def has(self, flag: int) -> np.ndarray:
        return (self.flags & flag) != 0


def _score_many(texts: Sequence[str]) -> np.ndarray:
    """Rounded (neg, neu, pos, compound) of each text, as :func:`polarity_scores` gives them."""
    return _vader_scores(_Tokens(texts))


def _vader_scores(tokens: _Tokens) -> np.ndarray:
    """Rounded (neg, neu, pos, compound) of each text of the batch.

    The batch applies the common rules in numpy; texts where a rarer one applies, a minority, take the
    per-text path :func:`_raw_scores`. Sums run in token order, the
    reference's order, so the floats are the same to the bit.
    """
    counts, text_of = tokens.counts, tokens.text_of
    n = len(counts)
    v = _vader()
    position = np.arange(len(text_of)) - np.repeat(np.cumsum(counts) - counts, counts)
    upper = tokens.has(_F_UPPER)
    upper_words = np.bincount(text_of, weights=upper, minlength=n)
    cap_differential = ((upper_words > 0) & (upper_words < counts))[text_of]

    # Rules the batch applies: caps emphasis, boosters up to three words before, a negation right before,
    # "so"/"this" right before (x1.25 when the word three before is not in the lexicon). Rules it leaves
    # to the per-text path: "no" (own or up to three before), "least", a negation two or three before,
    # an idiom or two-word booster starting up to three words before, "but".
    candidates = np.flatnonzero(tokens.has(_F_CANDIDATE))
    phrase = np.zeros(len(text_of), dtype=bool)
    phrase[:-1] = tokens.has(_F_PHRASE_FIRST)[:-1] & tokens.has(_F_PHRASE_SECOND)[1:] & (position[1:] > 0)
    hard_word = tokens.has(_F_NO) | phrase
    valence = tokens.values[candidates]
    own_caps = upper[candidates] & cap_differential[candidates]
    valence = np.where(own_caps, np.where(valence > 0, valence + v.c_incr, valence - v.c_incr), valence)
    hard_candidate = hard_word[candidates]
    for back, scale in ((1, 1.0), (2, _NEAR_SCALE), (3, _FAR_SCALE)):
        exists = position[candidates] >= back
        word = np.where(exists, candidates - back, 0)
        flags = tokens.flags[word]
        # a lexicon word before is skipped by every rule of this step, not by the "no" rule
        ruled = exists & ((flags & _F_LEXICON) == 0)
        hard_candidate |= exists & hard_word[word]
        hard_candidate |= ruled & ((flags & (_F_NEGATION if back > 1 else _F_LEAST)) != 0)
        boost = tokens.boosts[word]
        step = np.where(valence < 0, boost * -1, boost)
        step = np.where(upper[word] & cap_differential[word],
                        np.where(valence > 0, step + v.c_incr, step - v.c_incr), step)
        if back > 1:
            step = np.where(step != 0, step * scale, step)
        valence = np.where(ruled & ((flags & _F_BOOSTER) != 0), valence + step, valence)
        if back == 1:
            valence = np.where(ruled & ((flags & _F_NEGATION) != 0), valence * v.n_scalar, valence)
        elif back == 3:
            so_this = (tokens.flags[np.maximum(candidates - 1, 0)] & _F_SO_THIS) != 0
            valence = np.where(ruled & so_this, valence * _NEVER_SO, valence)
    hard = np.bincount(text_of[candidates], weights=hard_candidate, minlength=n) > 0
    hard |= tokens.per_text(_F_BUT) > 0

    raw = np.zeros((n, 4))
    keep = (valence != 0) & ~hard[text_of[candidates]]
    owner = text_of[candidates[keep]]
    value = valence[keep]
    rank = np.arange(len(owner)) - np.searchsorted(owner, owner)
    total, pos_sum, neg_sum = np.zeros(n), np.zeros(n), np.zeros(n)
    compensation = np.zeros(n) if _COMPENSATED_SUM else None
    for k in range(int(rank.max(initial=-1)) + 1):
        at = rank == k
        t, x = owner[at], value[at]
        before = total[t]
        total[t] = before + x
        if compensation is not None and k > 0:
            compensation[t] += np.where(np.abs(before) >= np.abs(x), (before - total[t]) + x,
                                        (x - total[t]) + before)
        # +1 / -1 make a sentiment word weigh against the neutral words, which count 1 each.
        pos_sum[t] = np.where(x > 0, pos_sum[t] + (x + 1), pos_sum[t])
        neg_sum[t] = np.where(x < 0, neg_sum[t] + (x - 1), neg_sum[t])
    if compensation is not None:
        fix = (compensation != 0) & np.isfinite(compensation)
        total[fix] += compensation[fix]

    words = np.bincount(owner, minlength=n)
    has = np.flatnonzero(words)
    texts = tokens.texts
    exclaims = np.fromiter((texts[k].count("!") for k in has), dtype=np.int64, count=len(has))
    questions = np.fromiter((texts[k].count("?") for k in has), dtype=np.int64, count=len(has))
    emphasis = np.minimum(exclaims, _EXCLAIM_MAX) * _EXCLAIM
    emphasis = np.where(questions > 3, emphasis + _QUESTION_MAX,
                        np.where(questions > 1, emphasis + questions * _QUESTION, emphasis))
    total_h = total[has]
    total_h = np.where(total_h > 0, total_h + emphasis, np.where(total_h < 0, total_h - emphasis, total_h))
    compound = np.clip(total_h / np.sqrt(total_h * total_h + _ALPHA), -1.0, 1.0)
    pos_h, neg_h = pos_sum[has], neg_sum[has]
    pos_h, neg_h = (np.where(pos_h > np.abs(neg_h), pos_h + emphasis, pos_h),
                    np.where(pos_h < np.abs(neg_h), neg_h - emphasis, neg_h))
    neutral = (counts[has] - words[has]).astype(np.float64)
    denominator = pos_h + np.abs(neg_h) + neutral
    raw[has] = np.column_stack([np.abs(neg_h / denominator), np.abs(neutral / denominator),
                                np.abs(pos_h / denominator), compound])
    raw[(words == 0) & (counts > 0), 1] = 1.0  # tokens but no sentiment: all neutral
    for k in np.flatnonzero(hard):
        raw[k] = _raw_scores(texts[k], v)
    return _round_like_python(raw)


def polarity_scores(text: str) -> dict[str, float]:
    """VADER polarity of one text, equal to ``vaderSentiment``'s ``polarity_scores``.

    Parameters
    ----------
    text : str
        Raw text; case, punctuation, emoticons and emoji all carry signal.

    Returns
    -------
    dict
        ``neg``, ``neu``, ``pos`` (shares of the text, rounded to 3 decimals) and ``compound``
        (normalised sum of valences in [-1, 1], rounded to 4 decimals).

    Examples
    --------
    >>> polarity_scores("VADER is VERY SMART, handsome, and FUNNY!!!")
    {'neg': 0.0, 'neu': 0.233, 'pos': 0.767, 'compound': 0.9342}
    >>> polarity_scores("The plot was good, but the dialog is not great.")["compound"]
    -0.5409
    """
    if not isinstance(text, str):
        raise ValueError(f"polarity_scores needs a str, got {type(text).__name__}; convert it first")
    raw = _raw_scores(text, _vader())
    return {key: round(value, digits) for key, value, digits in zip(_KEYS, raw, _DIGITS, strict=True)}


# --- language screen -----------------------------------------------------------------------------

# Not language: web addresses, e-mail addresses and @handles (incl. Mastodon's @user@instance).
_NOT_LANGUAGE_RE = re.compile(r"https?://\S+|www\.\S+|[\w.+-]*@\w[\w.-]*")
_WORD_RE = re.compile(r"[^\W\d_]{2,}")


class _LanguageModel:
    """``py3langid``'s shipped model, evaluated for a whole batch at once.

    ``LanguageIdentifier.classify`` walks its byte automaton in a Python loop, one text at a time,
    which would cost several times the sentiment scoring itself. Here the automaton advances every
    text of a batch in one numpy step per byte position, and the naive-Bayes scores of a large batch are
    one sparse product; a small one's (an incremental build's) are summed in one numpy step per feature of
    the text with the most, sparing it the import of scipy, in the same order. The arithmetic
    is the identifier's own (log1p counts, per-language priors, temperature sqrt(bytes), softmax, aliases
    merged); tests check that both agree, and that the scores equal a sparse product's to the bit.
    """

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.next_move = arrays["next_move"]
        self.row_base = arrays["row_base"]
        self.output = arrays["output"]
        self.weights = arrays["weights"]
        self.prior = arrays["prior"]
        classes = arrays["classes"].tolist()
        self.labels = list(dict.fromkeys(classes))
        # Script variants of one language (srl -> sr) share a label; their probabilities add up.
        self.merge = np.zeros((len(classes), len(self.labels)), dtype=np.float32)
        for column, label in enumerate(classes):
            self.merge[column, self.labels.index(label)] = 1.0

    def classify(self, texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """Most probable language and its normalised probability for each text."""
        encoded = [_langid_bytes(t) for t in texts]
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        # Longest first, so the texts still being read at byte position t are a prefix of a chunk,
        # and texts of similar length share a chunk (little padding).
        order = np.argsort(-lengths, kind="stable")
        probabilities = np.empty((len(encoded), len(self.labels)), dtype=np.float32)
        # a large batch pays for importing scipy.sparse with its faster product; a small one sums in numpy
        sparse = len(encoded) >= _SPARSE_FROM
        for start in range(0, len(order), _LANGUAGE_CHUNK):
            chunk = order[start : start + _LANGUAGE_CHUNK]
            probabilities[chunk] = self._probabilities([encoded[k] for k in chunk], lengths[chunk], sparse=sparse)
        best = probabilities.argmax(axis=1)
        return [self.labels[b] for b in best], probabilities[np.arange(len(best)), best]

    def _probabilities(self, encoded: list[bytes], lengths: np.ndarray, *, sparse: bool) -> np.ndarray:
        scores = self._scores(encoded, lengths, sparse=sparse)
        scores *= (1.0 / np.sqrt(np.maximum(lengths, 1)).astype(np.float32))[:, None]
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        scores /= scores.sum(axis=1, keepdims=True)
        return scores @ self.merge

    def _scores(self, encoded: list[bytes], lengths: np.ndarray, *, sparse: bool) -> np.ndarray:
        """Naive-Bayes scores (float32, texts x classes) of a batch sorted longest first; ``sparse``: by a
        scipy.sparse product, else summed in numpy (equal to the bit)."""
        width = int(lengths[0]) if len(lengths) else 0
        # Byte position major, so the bytes of all texts at one position are contiguous.
        grid = np.zeros((width, len(encoded)), dtype=np.uint8)
        for column, data in enumerate(encoded):
            grid[: len(data), column] = np.frombuffer(data, dtype=np.uint8)
        states = np.zeros(len(encoded), dtype=np.int64)
        n_features = self.weights.shape[0]
        pairs = [np.zeros(0, dtype=np.int64)]  # text * n_features + feature, one per hit
        for t in range(width):
            active = int(np.searchsorted(-lengths, -t, side="left"))
            states_t = self.next_move[self.row_base[states[:active]] + grid[t, :active]].astype(np.int64)
            states[:active] = states_t
            found = self.output[states_t]
            hit = np.flatnonzero(found >= 0)
            pairs.append(hit * n_features + found[hit])
        # Sorted by text, then feature: each text's features are summed in the order a sparse (CSR) product
        # sums them, so the float32 scores equal that product's to the bit. Stable: the hits of a position
        # come in text order, runs that a stable sort merges.
        hits = np.sort(np.concatenate(pairs), kind="stable")
        first = np.flatnonzero(np.diff(hits, prepend=-1))
        text, feature = np.divmod(hits[first], n_features)
        value = np.log1p(np.diff(np.append(first, len(hits))).astype(np.float32))
        per_text = np.bincount(text, minlength=len(encoded))
        if sparse:
            import scipy.sparse

            counts = scipy.sparse.csr_matrix((value, feature, np.concatenate([[0], np.cumsum(per_text)])),
                                             shape=(len(encoded), n_features))
            scores = np.asarray(counts @ self.weights) + self.prior
        else:
            scores = self._weighted_sums(per_text, feature, value) + self.prior
        # Without a single known byte sequence the identifier abstains: every language equally likely.
        scores[per_text == 0] = 0.0
        return scores

    def _weighted_sums(self, per_text: np.ndarray, feature: np.ndarray, value: np.ndarray) -> np.ndarray:
        """Row ``i`` is the sum of ``value * weights[feature]`` over the ``per_text[i]`` entries of text ``i``
        (which follow those of text ``i - 1``), added one at a time to zero in the entries' order (float32, as
        a CSR times dense product adds them)."""
        n = len(per_text)
        # Texts by their number of entries, most first: the texts with an r-th entry are a prefix, so
        # round r adds one entry to each of them with whole-array operations.
        order = np.argsort(-per_text, kind="stable")
        ranked = per_text[order]
        offset = (np.cumsum(per_text) - per_text)[order]
        sums = np.zeros((n, self.weights.shape[1]), dtype=np.float32)
        term = np.empty_like(sums)
        for r in range(int(ranked[0]) if n else 0):
            active = int(np.searchsorted(-ranked, -r, side="left"))
            at = offset[:active] + r
            np.take(self.weights, feature[at], axis=0, out=term[:active])
            term[:active] *= value[at, None]
            sums[:active] += term[:active]
        unsorted = np.empty_like(sums)
        unsorted[order] = sums
        return unsorted


def _langid_bytes(text: str) -> bytes:
    # The identifier's own input normalisation: all-caps text is lower-cased, then NFC and UTF-8.
    if text.isupper():
        text = text.lower()
    return unicodedata.normalize("NFC", text).encode("utf-8", errors="surrogatepass")


@lru_cache(maxsize=1)
def _language_model() -> _LanguageModel:
    return _LanguageModel(_language_arrays())


#: Bumped when what :func:`_model_arrays` derives from the model file, or how the copy is checked, changes:
#: older caches are ignored. Revision 2 checks the copy with :func:`analytics.usercache.checksum`.
_LANGUAGE_CACHE_FORMAT = "2"
_LANGUAGE_ARRAYS = ("next_move", "row_base", "output", "weights", "prior", "classes")


def _language_model_file() -> Path:
    from py3langid.langid import MODEL_DIR, MODEL_FILE

    path = Path(MODEL_FILE)
    return path if path.is_absolute() else Path(MODEL_DIR) / path


def _language_arrays() -> dict[str, np.ndarray]:
    """The arrays of :class:`_LanguageModel`, from a decompressed copy in the user's cache when it holds
    a sound one for this very model file, else from the model file (and the copy is written).

    The shipped model is LZMA-compressed: decompressing it costs about a CPU second per process, more
    than the language screen of an incremental build. The copy is keyed by the SHA-256 of the model file
    and a format revision, and kept by :mod:`analytics.usercache`, so a stale, partial or damaged copy is never
    read: it is made again.
    """
    source = _language_model_file()
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:32]
    folder = usercache.cache_dir() / f"langid-{digest}-{_LANGUAGE_CACHE_FORMAT}"
    arrays = usercache.read_arrays(folder, _LANGUAGE_ARRAYS)
    if arrays is not None:
        return arrays
    arrays = _model_arrays(source)
    with contextlib.suppress(OSError):  # a cache that cannot be written only costs time
        usercache.write_arrays(folder, arrays)
    return arrays


def _model_arrays(source: Path) -> dict[str, np.ndarray]:
    from py3langid.langid import LanguageIdentifier

    model = LanguageIdentifier.from_model_file(source, norm_probs=True)
    return {
        "next_move": np.frombuffer(model.tk_nextmove, dtype=np.uint32),
        "row_base": np.asarray(model.tk_row, dtype=np.int64) << 8,
        "output": np.asarray(model.tk_output, dtype=np.int64),
        "weights": np.asarray(model.nb_ptc, dtype=np.float32),
        "prior": np.asarray(model.nb_pc, dtype=np.float32),
        "classes": np.array(model.nb_classes, dtype=str),
    }


def _language_view(text: str) -> str | None:
    """The part of ``text`` a language can be read from, or None when it is too short to judge."""
    view = _NOT_LANGUAGE_RE.sub(" ", text) if "@" in text or "//" in text or "www." in text else text
    if not view.isascii():
        view = _replace_chars(view, _vader().emoji_blank)
    words = _WORD_RE.findall(view)
    if len(words) < _MIN_WORDS_FOR_LANGUAGE or sum(map(len, words)) < _MIN_LETTERS_FOR_LANGUAGE:
        return None
    # A long text's language shows in its first few thousand characters.
    return " ".join(view[:_MAX_LANGUAGE_CHARS].split())


def _plainly_english(tokens: _Tokens) -> np.ndarray:
    """Whether each text of the batch is plainly English: enough common English words among its words.

    Most posts are; the language model then only reads the rest. On 150k generated posts, 1.3k generated
    comments, the 4,200 VADER tweets and the non-English texts of the tests and of the sample generator,
    every text passed here is one the model also finds English.
    """
    markers = tokens.per_text(_F_MARKER)
    return (markers >= _MIN_ENGLISH_MARKERS) & (markers >= _MIN_ENGLISH_MARKER_SHARE * tokens.per_text(_F_WORD))


def _screen(texts: Sequence[str]) -> np.ndarray:
    """Whether each text is confidently not English (see :func:`is_confidently_not_english`)."""
    foreign = np.zeros(len(texts), dtype=bool)
    undecided = np.flatnonzero(~_plainly_english(_Tokens(texts)))
    if len(undecided):
        foreign[undecided] = _foreign_mask([texts[k] for k in undecided])
    return foreign


def _foreign_mask(texts: Sequence[str]) -> np.ndarray:
    views = [_language_view(t) for t in texts]
    # texts that differ only in links, handles or emoji share a view: each view is classified once
    distinct: dict[str, int] = {}
    codes = np.array([-1 if view is None else distinct.setdefault(view, len(distinct)) for view in views],
                     dtype=np.int64)
    if not distinct:
        return np.zeros(len(texts), dtype=bool)
    labels, confidence = _language_model().classify(list(distinct))
    foreign = np.append(np.array([label != "en" for label in labels]) & (confidence >= ENGLISH_MIN_CONFIDENCE),
                        False)  # code -1 (too short to judge) picks this trailing False
    return foreign[codes]


def is_confidently_not_english(text: str) -> bool:
    """Whether the shipped language model is confident ``text`` is not English.

    Text with at least two common English words, making a fifth of its words, is English without
    asking the model (almost every post is; see :func:`_plainly_english`).
    Text too short to judge (fewer than three words or twenty letters in words once URLs, e-mail
    addresses, handles and emoji are set aside) counts as English, and so does text whose best non-English
    language has a normalised probability below :data:`ENGLISH_MIN_CONFIDENCE`.

    Examples
    --------
    >>> is_confidently_not_english("Das ist wirklich eine sehr gute Nachricht für unsere Stadt")
    True
    >>> is_confidently_not_english("This is really good news for our town")
    False
    >>> is_confidently_not_english("merci!! 😍 @someone https://example.org")
    False
    """
    if not isinstance(text, str):
        raise ValueError(f"is_confidently_not_english needs a str, got {type(text).__name__}")
    return bool(_screen([text])[0])


# --- batches -------------------------------------------------------------------------------------

#: Below this many distinct texts one process scores alone. A spawned worker costs about half a CPU
#: second to start (Python, numpy, pandas, the lexicon; never the language model) while one core scores
#: 50-90k texts per second; the caller scores too while workers start, so a slow start-up costs CPU,
#: not wall time (benchmarks/sentiment_bench.py).
PARALLEL_MIN_TEXTS = 100_000
# Texts per piece of work handed to a worker process: ~0.1 s of scoring, so the last piece ends soon.
_CHUNK = 8_000
_STATUSES = np.array(["scored", "not_english", "empty"], dtype=object)
_SCORED, _NOT_ENGLISH, _EMPTY = 0, 1, 2
_COLUMNS = ["status", "neg", "neu", "pos", "compound"]
#: Numbers of the batches shared with workers: a worker's task of an earlier batch, still queued when a later
#: one opens (kept workers, :func:`workers_kept`), claims nothing of it.
_batches = itertools.count(1)


def clean_text(text: str) -> str:
    """The text as it is scored: HTML entities unescaped, every sentiment signal kept.

    Case, punctuation runs, emoticons and emoji carry intensity in VADER, so nothing else changes.

    Examples
    --------
    >>> clean_text("Tom &amp; Jerry :) WOW!!! &lt;3")
    'Tom & Jerry :) WOW!!! <3'
    """
    return html.unescape(text) if "&" in text else text


def text_hash(text: str) -> str:
    """Stable key of a text: the SHA-256 hex digest of its UTF-8 bytes (DuckDB's ``sha256(text)``).

    Examples
    --------
    >>> text_hash("hello")
    '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824'
    """
    return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()


def _score_chunk(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Whether each text is plainly English, and its rounded scores, for distinct non-blank cleaned texts.

    Foreign texts are scored too: cheaper than splitting the batch again without them. The language
    model reads the texts not plainly English afterwards, once for all the chunks a process scored
    (:func:`_screened`): it walks every byte position of its longest text once per call, so few large calls
    cost much less than one per chunk.
    """
    tokens = _Tokens(texts)
    return _plainly_english(tokens), _vader_scores(tokens)


def _screened(texts: list[str], size: int, parts: dict[int, tuple[np.ndarray, np.ndarray]]
              ) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """``parts`` (chunk ``k`` = ``texts[k * size : (k + 1) * size]`` -> its :func:`_score_chunk`) with each
    chunk's English flags replaced by whether the language model finds the text foreign, asked once for the
    undecided texts of all of them."""
    undecided = {k: np.flatnonzero(~english) for k, (english, _scores) in parts.items()}
    asked = [texts[k * size + i] for k, where in undecided.items() for i in where.tolist()]
    found = _foreign_mask(asked) if asked else np.zeros(0, dtype=bool)
    out, start = {}, 0
    for k, (english, scores) in parts.items():
        foreign = np.zeros(len(english), dtype=bool)
        foreign[undecided[k]] = found[start : start + len(undecided[k])]
        start += len(undecided[k])
        out[k] = foreign, scores
    return out


def _score_distinct(texts: list[str], workers: int) -> tuple[np.ndarray, np.ndarray]:
    """Status code and rounded scores (NaN unless scored) of distinct, non-blank, cleaned texts."""
    foreign, scores = _score_parallel(texts, workers)
    scores[foreign] = np.nan
    return np.where(foreign, _NOT_ENGLISH, _SCORED), scores


def _score_parallel(texts: list[str], workers: int) -> tuple[np.ndarray, np.ndarray]:
    """Whether each text is foreign (:func:`_screened`) and its rounded scores, on ``workers`` processes."""
    if workers <= 1 or len(texts) < 2 * workers:
        # Chunks keep the token arrays small: in cache, and memory bounded on a million texts.
        chunks = range(max(1, -(-len(texts) // _CHUNK)))
        parts = _screened(texts, _CHUNK, {k: _score_chunk(texts[k * _CHUNK : (k + 1) * _CHUNK]) for k in chunks})
        return np.concatenate([parts[k][0] for k in chunks]), np.concatenate([parts[k][1] for k in chunks])
    size = min(_CHUNK, -(-len(texts) // (4 * workers)))
    chunks = -(-len(texts) // size)
    parts: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    # This process is one of the workers. The others start up (seconds: each imports the package and
    # loads the lexicon) and then claim chunks from the front while this one scores from the back, so a
    # slow start-up costs no wall time: if this process got to every chunk first, it does not wait. Each
    # process then screens the language of its own chunks, so that step too runs on every core.
    started = _started if _started is not None and _started[2] == workers else None
    pool, claims = started[:2] if started is not None else _start_workers(workers)
    batch = next(_batches)
    parallel.start_batch(claims, batch, chunks)
    try:
        futures = [pool.submit(_score_claimed, texts, size, batch) for _ in range(workers - 1)]
        while (k := parallel.claim_chunk(claims, batch, back=True)) is not None:
            parts[k] = _score_chunk(texts[k * size : (k + 1) * size])
        parts = _screened(texts, size, parts)
        if parallel.front_claimed(claims):
            for future in futures:
                parts.update(future.result())
    finally:
        if started is None:
            pool.shutdown(wait=False, cancel_futures=True)
    return (np.concatenate([parts[k][0] for k in range(chunks)]),
            np.concatenate([parts[k][1] for k in range(chunks)]))


def _start_workers(workers: int, *, idle: bool = False) -> tuple[ProcessPoolExecutor, Any]:
    """A pool of ``workers - 1`` processes sharing claims with this one, their start-up begun; with ``idle``, at
    the lowest priority (:func:`analytics.parallel.lowest_priority`)."""
    # Spawned, not forked, workers: the caller may hold DuckDB or BLAS threads, unsafe across fork.
    context = get_context("spawn")
    claims = parallel.new_claims(context)
    # Held in a global until the next batch: a worker still starting up after this returns opens its lock.
    _share_claims(claims)
    pool = ProcessPoolExecutor(max_workers=workers - 1, mp_context=context, initializer=_start_worker,
                               initargs=(claims, idle))
    for _ in range(workers - 1):
        pool.submit(int)  # a pool spawns a worker per task while none is idle
    return pool, claims


#: Workers started ahead of a batch (:func:`_workers_ahead`) or kept (:func:`workers_kept`): (pool, claims,
#: workers).
_started: tuple[ProcessPoolExecutor, Any, int] | None = None


@contextlib.contextmanager
def _workers_started(workers: int, *, idle: bool = False, wait: bool = False) -> Any:
    """Workers for :func:`_score_parallel` to use inside the block (none if ``workers`` is 1 or some are
    started already), stopped at its end, used or not (``idle``: see :func:`_start_workers`); with ``wait``,
    the block ends once they have."""
    global _started
    if _started is not None or workers <= 1:
        yield
        return
    pool, claims = _start_workers(workers, idle=idle)
    _started = (pool, claims, workers)
    try:
        yield
    finally:
        _started = None
        pool.shutdown(wait=wait, cancel_futures=True)


@contextlib.contextmanager
def _workers_ahead(texts: Iterable[Any]) -> Any:
    """Start the scoring workers now when ``texts`` is long enough that :func:`score_texts` will likely use
    them, so their start-up overlaps the caller's work before scoring (hashing, the cache lookup); they
    are used by the scoring inside the block and stopped at its end, used or not."""
    many = isinstance(texts, Sized) and len(texts) > PARALLEL_MIN_TEXTS
    with _workers_started(parallel.available_cores() if many else 1):
        yield


@contextlib.contextmanager
def workers_kept() -> Any:
    """Keep a scoring worker per other core running, its lexicon loaded, for the calls inside the block: for
    a process that scores batch after batch (``policy-pulse watch``). :func:`score_texts` shares a batch of
    :data:`analytics.parallel.RUNNING_WORKER_MIN_TEXTS` distinct texts or more with them; smaller ones they
    score alone, on the side (:func:`score_ahead`, :func:`begin_cache_update`), so they run at the lowest
    priority: on a core this process, or anything else, leaves idle."""
    # waited for at the end: kept until the process ends, and a pool still closing its pipe then makes Python's
    # exit hook write to it ("OSError: Bad file descriptor" printed at exit)
    with _workers_started(parallel.available_cores(), idle=True, wait=True):
        if _started is not None:
            for _ in range(_started[2] - 1):
                _started[0].submit(_score_chunk, ["warm"])
            # a batch the worker scores alone (see :func:`begin_cache_update`) screens its language too
            _started[0].submit(is_confidently_not_english, "Das ist wirklich eine sehr gute Nachricht für uns")
        try:
            yield
        finally:
            _ahead.clear()


_claims: Any = None


def _share_claims(claims: Any) -> None:
    global _claims
    _claims = claims


def _start_worker(claims: Any, idle: bool) -> None:
    parallel.leave_interrupts_to_the_parent()
    if idle:
        parallel.lowest_priority()
    _share_claims(claims)


def _score_claimed(texts: list[str], size: int, batch: int) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """A worker's part of ``batch``: the chunks it claims from the front until none is left, screened
    (:func:`_screened`)."""
    parts = {}
    while (k := parallel.claim_chunk(_claims, batch, back=False)) is not None:
        parts[k] = _score_chunk(texts[k * size : (k + 1) * size])
    return _screened(texts, size, parts) if parts else parts


def _refuse_non_text(values: np.ndarray) -> None:
    for k, value in enumerate(values):
        missing = value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))
        if not isinstance(value, str) and not missing:
            raise ValueError(f"texts[{k}] is a {type(value).__name__}, not a str; convert the column to text first")


def score_texts(texts: Sequence[str] | pd.Series, *, workers: int | None = None) -> pd.DataFrame:
    """VADER sentiment of many texts, screened for language, each distinct text scored once.

    Parameters
    ----------
    texts : sequence of str or pandas.Series
        Raw texts. Missing values (None, NaN) count as empty text. HTML entities are unescaped before
        scoring (see :func:`clean_text`); nothing else is changed.
    workers : int, optional
        Processes to score with. By default one, or every available core when there are more than
        :data:`PARALLEL_MIN_TEXTS` distinct texts.

    Returns
    -------
    pandas.DataFrame
        One row per input text, with the input's index (a RangeIndex for a plain sequence):

        - ``status``: ``scored``; ``not_english`` when the language model is confident the text is in
          another language (see :func:`is_confidently_not_english`); ``empty`` for blank text.
        - ``neg``, ``neu``, ``pos``: shares of negative, neutral and positive words (3 decimals).
        - ``compound``: normalised sum of the valences, from -1 (most negative) to +1 (4 decimals).

        The four scores are NaN unless ``status`` is ``scored``.

    Examples
    --------
    >>> score_texts(["Great news, thank you!!", "  ", "Das ist leider eine sehr schlechte Idee"])
            status  neg    neu    pos  compound
    0       scored  0.0  0.218  0.782    0.8011
    1        empty  NaN    NaN    NaN       NaN
    2  not_english  NaN    NaN    NaN       NaN
    """
    if isinstance(texts, str | bytes):
        raise ValueError("score_texts needs a sequence of texts, not one string; wrap it in a list")
    if isinstance(texts, pd.Series):
        index = texts.index
        values = texts.to_numpy(dtype=object)
    elif isinstance(texts, Sequence | np.ndarray):
        index = pd.RangeIndex(len(texts))
        # fromiter, not asarray: a list of equal-length lists must stay one-dimensional (and be refused)
        values = np.fromiter(texts, dtype=object, count=len(texts))
    else:
        raise ValueError(f"score_texts needs a list or pandas Series of str, got {type(texts).__name__}")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be a positive int or None (automatic), got {workers!r}")

    # the workers a large input will likely need start now, while its texts are made distinct
    with _workers_ahead(values if workers is None else ()):
        status, scores, codes = _score_values(values, workers)
    out = pd.DataFrame(scores[codes], index=index, columns=_COLUMNS[1:])
    out.insert(0, "status", pd.Series(_STATUSES[status[codes]], index=index, dtype="str"))
    return out


def _score_values(values: np.ndarray, workers: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Status code and scores of each distinct text of ``values`` (the empty text last), and the position
    among them of each value."""
    # Missing values (None, NaN, pd.NA) get code -1 and are scored as the empty text, the last entry.
    try:
        codes, distinct = pd.factorize(values)
    except TypeError:  # unhashable values
        _refuse_non_text(values)
    if not all(isinstance(value, str) for value in distinct):
        _refuse_non_text(values)
    codes[codes < 0] = len(distinct)
    cleaned = [html.unescape(t) if "&" in t else t for t in distinct]  # clean_text, inlined for speed
    cleaned.append("")
    status = np.full(len(cleaned), _EMPTY)
    scores = np.full((len(cleaned), 4), np.nan)
    filled = [k for k, t in enumerate(cleaned) if not t.isspace() and t]
    if workers is None:
        running = _started is not None and len(filled) >= parallel.RUNNING_WORKER_MIN_TEXTS
        shared = len(filled) > PARALLEL_MIN_TEXTS or running
        workers = parallel.available_cores() if shared else 1
    status[filled], scores[filled] = _score_distinct([cleaned[k] for k in filled], workers)
    return status, scores, codes


# --- warehouse cache -----------------------------------------------------------------------------

_CACHE_DDL = """
CREATE TABLE IF NOT EXISTS sentiment (
    text_hash VARCHAR, scorer_version VARCHAR, status VARCHAR,
    neg DOUBLE, neu DOUBLE, pos DOUBLE, compound DOUBLE
)
"""


def update_sentiment_cache(con: Any, texts: Iterable[str]) -> int:
    """Score the texts the warehouse table ``sentiment`` has no row for under :data:`SCORER_VERSION`.

    The table is created if needed. New rows are inserted in one statement from a registered frame;
    the transaction is left to the caller (nothing is committed here).

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        An open, writable connection.
    texts : iterable of str
        Texts as stored in the warehouse; rows are keyed by :func:`text_hash` of this exact text.
        Missing values are skipped.

    Returns
    -------
    int
        How many distinct texts were newly scored (and inserted).

    Examples
    --------
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> update_sentiment_cache(con, ["I love it", "I love it", "meh"])
    2
    >>> update_sentiment_cache(con, ["meh", "Awful!"])
    1
    >>> con.execute("SELECT count(*) FROM sentiment").fetchall()
    [(3,)]
    """
    return begin_cache_update(con, texts)()


def begin_cache_update(con: Any, texts: Iterable[str], *, missing: Sequence[str] | None = None) -> Callable[[], int]:
    """:func:`update_sentiment_cache` in two halves, for a caller with other work to do meanwhile: the
    texts the cache lacks are found now; those :func:`score_ahead` gave the kept worker are taken from
    there, the others, fewer than :data:`analytics.parallel.ALONE_MAX_TEXTS` with a worker kept
    (:func:`workers_kept`), scored by that worker while the caller goes on, else scored now, on every core.

    Parameters
    ----------
    missing : sequence of str, optional
        Given by a caller that found ``texts`` (then a sequence of distinct str) all lacking from the cache:
        their :func:`text_hash`, in order. They are neither hashed nor looked up again (the build has DuckDB
        hash them as it finds them).

    Returns
    -------
    callable
        Call it once, on the same connection: it waits for the scores, inserts their rows and returns how
        many distinct texts were newly scored.

    Examples
    --------
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> store = begin_cache_update(con, ["I love it", "meh"])
    >>> store()
    2
    >>> begin_cache_update(con, ["Awful!"], missing=[text_hash("Awful!")])()
    1
    """
    if isinstance(texts, str | bytes):
        raise ValueError("the sentiment cache needs an iterable of texts, not one string; wrap it in a list")
    if missing is not None and (not isinstance(texts, Sequence) or len(missing) != len(texts)):
        raise ValueError("missing needs one hash per text: give texts as a sequence of the same length")
    with _workers_ahead(texts):
        return _begin_update(con, texts, missing)


def _begin_update(con: Any, texts: Iterable[str], missing: Sequence[str] | None) -> Callable[[], int]:
    con.execute(_CACHE_DDL)
    if missing is not None:
        return _scored_later(con, list(missing), list(texts))
    by_hash: dict[str, str] = {}
    for text in texts:
        if isinstance(text, str):
            by_hash.setdefault(text_hash(text), text)
    if not by_hash:
        return lambda: 0
    candidates = pd.DataFrame({"text_hash": pd.Series(list(by_hash), dtype="str")})
    from analytics import warehouse  # here: the scoring workers import this module and need no DuckDB

    view = "_sentiment_candidates"
    with warehouse.registered(con, view, candidates):
        lacking = con.execute(
            f"SELECT c.text_hash FROM {view} c WHERE NOT EXISTS (SELECT 1 FROM sentiment s "
            "WHERE s.text_hash = c.text_hash AND s.scorer_version = ?)",
            [SCORER_VERSION],
        ).fetchall()
    new_hashes = [row[0] for row in lacking]
    return _scored_later(con, new_hashes, [by_hash[h] for h in new_hashes])


def _scored_later(con: Any, hashes: list[str], texts: list[str]) -> Callable[[], int]:
    """Score distinct ``texts`` (their ``hashes`` missing from the cache); returns the function that stores them."""
    if not texts:
        return lambda: 0
    scores = _scores_of(texts)

    def store() -> int:
        _insert_rows(con, _cache_rows(hashes, scores.result()))
        return len(hashes)

    return store


def _scores_of(texts: list[str]) -> parallel.Pending[pd.DataFrame]:
    """:func:`score_texts` of distinct ``texts``: those scored ahead (:func:`score_ahead`) taken from there,
    the others, fewer than :data:`analytics.parallel.ALONE_MAX_TEXTS` with a worker kept, scored by it,
    else scored now. Whatever was scored ahead serves this one call."""
    def scored(some: list[str]) -> Future:
        if _started is not None and len(some) < parallel.ALONE_MAX_TEXTS:
            return _started[0].submit(score_texts, some, workers=1)
        return parallel.done(score_texts(some))

    def combine(tables: dict[Future, pd.DataFrame], where: list[tuple[Future, int]]) -> pd.DataFrame:
        first = dict(zip(tables, np.cumsum([0] + [len(table) for table in list(tables.values())[:-1]]), strict=True))
        return (pd.concat(list(tables.values()), ignore_index=True).take([first[part] + k for part, k in where])
                .reset_index(drop=True))

    return parallel.gathered(texts, _ahead, lambda missing: scored([texts[k] for k in missing]), combine)


#: Texts the kept worker scores ahead of a cache update (:func:`score_ahead`), and their scores to come.
_ahead: list[tuple[list[str], Future]] = []


def score_ahead(texts: Collection[str | None]) -> None:
    """Have the worker :func:`workers_kept` keeps score ``texts`` now, in the background, for the next
    :func:`begin_cache_update` to take the scores of those it lacks from (an update's texts as its ingest
    reads them: those stored unchanged, most, need not be scored again). Nothing is done (nor looked at)
    without a kept worker, or when the texts waiting would reach :data:`analytics.parallel.ALONE_MAX_TEXTS`.
    Scores only reach the cache through ``begin_cache_update``, for a text it was given.

    Examples
    --------
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> with workers_kept():
    ...     score_ahead(["I love it", "meh", None])
    ...     begin_cache_update(con, ["meh"])()
    1
    """
    if _started is None or sum(len(waiting) for waiting, _ in _ahead) + len(texts) >= parallel.ALONE_MAX_TEXTS:
        return
    distinct = [text for text in dict.fromkeys(texts) if isinstance(text, str)]
    if distinct:
        _ahead.append((distinct, _started[0].submit(score_texts, distinct, workers=1)))


def _cache_rows(hashes: list[str], scored: pd.DataFrame) -> pd.DataFrame:
    rows = pd.DataFrame({"text_hash": pd.Series(hashes, dtype="str")})
    rows["scorer_version"] = SCORER_VERSION
    return pd.concat([rows, scored.reset_index(drop=True)], axis=1)


def _insert_rows(con: Any, rows: pd.DataFrame, *, new_only: bool = False) -> int:
    from analytics import warehouse  # here: the scoring workers import this module and need no DuckDB

    view = "_sentiment_new_rows"
    new = ("WHERE NOT EXISTS (SELECT 1 FROM sentiment s WHERE s.text_hash = r.text_hash "
           "AND s.scorer_version = r.scorer_version)") if new_only else ""
    with warehouse.registered(con, view, rows):
        # isnan -> NULL: a text that was not scored has no score, not a float NaN.
        return con.execute(
            f"INSERT INTO sentiment SELECT text_hash, scorer_version, status, "
            f"{', '.join(f'CASE WHEN isnan({c}) THEN NULL ELSE {c} END' for c in _COLUMNS[1:])} FROM {view} r {new}"
        ).fetchone()[0]


def cache_rows(texts: Sequence[str]) -> pd.DataFrame:
    """Rows for the warehouse table ``sentiment``, scored in this process alone (one core), for a process that
    scores texts while it would otherwise wait (the ingest's helper), to be stored by :func:`store_cache_rows`.

    Parameters
    ----------
    texts : sequence of str
        Distinct texts, as stored in the warehouse.

    Returns
    -------
    pandas.DataFrame
        One row per text, in order: ``text_hash`` (:func:`text_hash`), ``scorer_version``
        (:data:`SCORER_VERSION`), then ``status``, ``neg``, ``neu``, ``pos`` and ``compound`` as
        :func:`score_texts` gives them.

    Examples
    --------
    >>> cache_rows(["I love it"])[["status", "compound"]]
       status  compound
    0  scored    0.6369
    """
    texts = list(texts)
    return _cache_rows([text_hash(text) for text in texts], score_texts(texts, workers=1))


def store_cache_rows(con: Any, rows: pd.DataFrame) -> int:
    """Insert the rows of :func:`cache_rows` the table ``sentiment`` lacks (created if needed); returns how
    many. The transaction is left to the caller.

    Examples
    --------
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> store_cache_rows(con, cache_rows(["I love it", "meh"])), store_cache_rows(con, cache_rows(["meh", "Awful!"]))
    (2, 1)
    """
    con.execute(_CACHE_DDL)
    return _insert_rows(con, rows, new_only=True)
