"""What employees are telling us: themes in survey free-text comments, per policy area and wave.

Each comment belongs to the policy area of its question (the codebook's text items). Per area and
wave, :func:`feedback_themes` counts the words and two-word phrases comments use (in how many comments
each appears), their mean sentiment, and how often they came up in the previous wave. Comments are
already redacted in the warehouse; examples are shown only for groups of at least
``settings.min_comments_shown`` comments, and terms only for groups of at least k comments.
"""

from __future__ import annotations

import itertools
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from analytics import config, datasets, sentiment
from analytics.codebook import load_codebook
from analytics.insights import named_with_ties
from analytics.metrics import two_proportion_p_value
from analytics.survey import benjamini_hochberg
from analytics.themes import fetch_frames

__all__ = ["NO_CLEAR_CHANGE", "NO_EARLIER_WAVE", "STOPWORDS", "comment_terms", "distinct_terms", "feedback_themes",
           "wave_themes"]

#: A term's direction when its change since the previous wave is within chance (adjusted p of 0.05 or more).
NO_CLEAR_CHANGE = "no clear change"
#: A term's direction in the first wave with comments.
NO_EARLIER_WAVE = "no earlier wave"
#: Words too common to say anything about a theme.
_STOPWORD_TEXT = """
a about above after again against all also am an and any are aren't as at be because been before being below
between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each
few for from further had hadn't has hasn't have haven't having he he'd he's her here hers herself him
himself his how i i'd i'm i've if in into is isn't it it's its itself just let's me more most much my
myself no nor not now of off on once one only or other our ours ourselves out over own please same she
she's should shouldn't so some such than that that's the their theirs them themselves then there there's
these they they'd they're this those through to too under until up us very was wasn't we we'd we're we've
were weren't what what's when where which while who whom why will with won't would wouldn't you you'd
you're your yours yourself yourselves really bit lot get got think thing things like able
actually basically honestly maybe perhaps probably quite pretty rather still even already always
come comes came coming go goes going gone make makes made making take takes took say says said know
see seen saw use used way ways
"""
#: Words every comment about a social-media policy uses, whatever its theme.
_DOMAIN_TEXT = "post posts posted posting policy policies social media"
STOPWORDS = frozenset(_STOPWORD_TEXT.split()) | frozenset(_DOMAIN_TEXT.split())
_PERSON = re.compile(r"\[person:[^\]]*\]")
_WORD = re.compile(r"[a-z][a-z'’-]*[a-z]|[a-z]")
#: What ends a clause: a phrase is never read across punctuation or a redacted part.
_CLAUSE_END = re.compile(r"\[[^\]]*\]|[.,;:!?()\"“”…]|\s[-–—]\s")


def _clauses(text: str) -> list[list[str]]:
    """Lower-case words of a comment, clause by clause; redaction placeholders ([PHONE], [person:…]) are not
    words."""
    cleaned = text.lower().replace("’", "'")
    return [words for part in _CLAUSE_END.split(cleaned) if (words := _WORD.findall(part))]


def comment_terms(text: Any) -> set[str]:
    """The words and two-word phrases a comment uses (stopwords and 1-2 letter words left out).

    A phrase is two neighbouring words of one clause, neither a stopword.

    Examples
    --------
    >>> sorted(comment_terms("More examples of what we CAN share, please! Happy to discuss, call me on [PHONE]."))
    ['call', 'discuss', 'examples', 'happy', 'more examples', 'share']
    """
    if not isinstance(text, str):
        return set()
    terms: set[str] = set()
    for words in _clauses(text):
        kept = [w if w not in STOPWORDS and len(w) > 2 else None for w in words]
        terms |= {w for w in kept if w}
        terms |= {f"{a} {b}" for a, b in itertools.pairwise(kept) if a and b}
        if "more" in words:
            # "more X" is how people ask for something; keep the ask though "more" is a stopword
            terms |= {f"more {b}" for a, b in itertools.pairwise(words) if a == "more" and b in terms}
    return terms


_COLUMNS = ["wave", "area", "n_comments", "area_sentiment", "term", "kind", "n_mentions", "share", "mean_sentiment",
            "previous_wave", "previous_n_comments", "previous_mentions", "previous_share", "change", "p_value",
            "p_adjusted", "direction", "example"]


def distinct_terms(term_sets: Iterable[set[str]], *, min_mentions: int = 1) -> dict[str, int]:
    """The terms used by at least ``min_mentions`` texts (each given as its set of terms), and how many: terms
    used by the very same texts are one theme, named by its longest phrase not ending in an adverb, else its
    longest word ("discuss" and "call" both from "Happy to discuss, call me" say one thing, and would fill two
    rows; "corrected a wrong event date quickly, good example" is "good example", not "date quickly").

    The texts a term is used by are compared by their count and a 64-bit print of which they are (not kept
    whole: a million posts' words would hold a set of posts each).

    Examples
    --------
    >>> distinct_terms([{"call", "discuss"}, {"call", "discuss"}, {"long"}, {"long", "summary"}], min_mentions=2)
    {'discuss': 2, 'long': 2}
    >>> distinct_terms([comment_terms("Corrected a wrong event date quickly, good example.")])
    {'good example': 1}
    """
    users: dict[str, tuple[int, int]] = {}  # term: (texts using it, the xor of their prints)
    for number, used in enumerate(term_sets):
        mark = hash((number,))
        for term in used:
            count, print_ = users.get(term, (0, 0))
            users[term] = (count + 1, print_ ^ mark)
    themes: dict[tuple[int, int], str] = {}
    for term, who in users.items():
        if who[0] >= min_mentions:
            named = themes.get(who)
            if named is None or _naming_order(term) < _naming_order(named):
                themes[who] = term
    return {term: who[0] for who, term in sorted(themes.items(), key=lambda wt: wt[1])}


#: A word ending as most adverbs of manner do ("quickly", "openly"; not "daily", "family", "supply", "early"): a
#: phrase ending in one names how, not what.
_ADVERB = re.compile(r"[a-z]{3,}[^ilp]ly$")


def _naming_order(term: str) -> tuple[bool, bool, int, str]:
    return " " not in term, bool(_ADVERB.match(term.rsplit(" ", 1)[-1])), -len(term), term


def _ranked(terms: pd.Series, top: int, min_mentions: int) -> list[str]:
    """The ``top`` :func:`distinct_terms` of the comments' term sets used by the most comments, with those used
    as often as the last of them (:func:`analytics.insights.named_with_ties`)."""
    counts = distinct_terms(terms, min_mentions=min_mentions)
    ranked = sorted(counts, key=lambda term: (-counts[term], term))
    return ranked[:named_with_ties([counts[term] for term in ranked], top)]


def _with_sentiment(comments: pd.DataFrame, scores: pd.DataFrame | None) -> pd.DataFrame:
    if scores is not None:
        hashes = comments["text"].map(sentiment.text_hash)
        scored = pd.DataFrame(scores)[["text_hash", "status", "compound"]].drop_duplicates("text_hash")
        scored = scored.set_index("text_hash")
        return comments.assign(sentiment_status=hashes.map(scored["status"]).to_numpy(),
                               compound=hashes.map(scored["compound"]).to_numpy())
    found = sentiment.score_texts(comments["text"].astype(str).tolist(), workers=1)
    return comments.assign(sentiment_status=found["status"].to_numpy(), compound=found["compound"].to_numpy())


def _finished(frame: pd.DataFrame) -> pd.DataFrame:
    if "finished" not in frame:
        return frame
    return frame[frame["finished"].astype("boolean").fillna(False).astype(bool).to_numpy()]


def _comments(con_or_frames: Any, warehouse_file: Any) -> pd.DataFrame:
    if isinstance(con_or_frames, pd.DataFrame):
        missing = [c for c in ("item_id", "text", "wave") if c not in con_or_frames.columns]
        if missing:
            raise ValueError(f"feedback_themes: the comments frame lacks columns {missing}; it needs item_id, text, "
                             "wave (and optionally finished, submitted_at, sentiment_status, compound).")
        comments = _finished(con_or_frames)
        comments = comments[comments["text"].fillna("").astype(str).str.strip() != ""].reset_index(drop=True)
        if {"sentiment_status", "compound"} <= set(comments.columns):
            return comments.copy()
        return _with_sentiment(comments, None)
    if isinstance(con_or_frames, Mapping):
        frames = fetch_frames(con_or_frames, {"survey_comments": "", "respondents": ""},
                              required={"survey_comments": ["response_id", "item_id", "text"],
                                        "respondents": ["response_id", "wave", "submitted_at", "finished"]})
        respondents = _finished(frames["respondents"])
        comments = frames["survey_comments"].merge(respondents[["response_id", "wave", "submitted_at"]],
                                                   on="response_id")
        comments = comments[comments["text"].fillna("").astype(str).str.strip() != ""].reset_index(drop=True)
        return _with_sentiment(comments, con_or_frames.get("sentiment"))
    return _comments(datasets.survey_comments(con=con_or_frames, warehouse_file=warehouse_file), None)


def _wave_order(comments: pd.DataFrame) -> list[str]:
    if "submitted_at" not in comments:
        return sorted(comments["wave"].astype(str).unique())
    first = comments.groupby("wave")["submitted_at"].min()
    return [str(w) for w in first.sort_values(kind="stable").index]


def _example(using: pd.Series) -> str:
    """The most common of the comments ``using`` a term (redacted; colleagues' pseudonyms read as [colleague])."""
    counts = using.value_counts()
    best = sorted(counts.index[counts == counts.max()])[0]
    return _PERSON.sub("[colleague]", best)


def _direction(change: float, p_adjusted: float, previous_mentions: float) -> str:
    if previous_mentions == 0:
        return "new"
    if np.isnan(p_adjusted) or p_adjusted >= 0.05:
        # not "steady": a fall of ten points within chance is no change we can tell, not a steady share
        return NO_CLEAR_CHANGE
    return "rising" if change > 0 else "falling"


def feedback_themes(
    con_or_frames: duckdb.DuckDBPyConnection | Mapping[str, pd.DataFrame] | None = None,
    *,
    wave: str | None = None,
    previous: str | None = None,
    top: int = 8,
    min_mentions: int = 2,
    min_comments: int | None = None,
    k: int | None = None,
    warehouse_file: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Top words and phrases in survey comments per policy area, with sentiment and the change since the
    previous wave.

    Parameters
    ----------
    con_or_frames : DuckDB connection, mapping, DataFrame or None
        A warehouse connection, ``None`` for the published warehouse, or ``{"survey_comments": frame
        (response_id, item_id, text), "respondents": frame (response_id, wave, submitted_at, finished)}``
        plus optionally ``"sentiment"`` (text_hash, status, compound; else the comments are scored now)
        and ``"items"`` (item_id, area; else the codebook's text items). A single DataFrame is taken as
        the comments already joined to their respondents (item_id, text, wave; optionally finished,
        submitted_at, sentiment_status, compound): it compares waves only if it holds more than one.
    wave : str, optional
        The wave to describe; defaults to the latest wave with comments.
    previous : str, optional
        The wave to compare with; defaults to the wave before ``wave`` (none for the first wave).
    top : int
        Terms per area: the ``top`` most mentioned in ``wave`` and in ``previous`` (so fading themes show).
    min_mentions : int
        Terms mentioned in fewer comments than this are left out.
    min_comments : int, optional
        Example comments are shown only for areas with at least this many comments in the wave;
        defaults to ``settings.min_comments_shown``.
    k : int, optional
        Areas with fewer than ``k`` comments in the wave show no terms (defaults to the configured k).

    Returns
    -------
    DataFrame
        One row per (area, term), areas in codebook order, most mentioned first: ``wave``, ``area``,
        ``n_comments`` (comments on the area's questions in the wave), ``area_sentiment`` (their mean VADER
        compound), ``term``, ``kind`` (``word`` or ``phrase``), ``n_mentions`` (comments using it), ``share``
        (of the area's comments), ``mean_sentiment`` (of those comments; NaN below k of them),
        ``previous_wave``, ``previous_n_comments``, ``previous_mentions``, ``previous_share``, ``change`` (share
        now minus then), ``p_value`` (two-proportion z-test), ``p_adjusted`` (Benjamini-Hochberg over every term
        of the table: a wave's dozens of tests would otherwise call some change rising by chance), ``direction``
        (``new``, ``rising``, ``falling``, :data:`NO_CLEAR_CHANGE` when ``p_adjusted`` >= 0.05,
        :data:`NO_EARLIER_WAVE` when there is no previous wave) and ``example`` (the most common redacted comment
        using the term, or NA for an area with fewer than ``min_comments`` comments).

    Examples
    --------
    >>> comments = pd.DataFrame({"response_id": [f"r{i}" for i in range(12)], "item_id": "comment_monitoring",
    ...                          "text": ["More transparency please."] * 6 + ["Fair!"] * 6})
    >>> respondents = pd.DataFrame({"response_id": [f"r{i}" for i in range(12)], "finished": True,
    ...                             "wave": ["2026-Q1"] * 6 + ["2026-Q2"] * 6,
    ...                             "submitted_at": pd.to_datetime(["2026-02-10"] * 6 + ["2026-05-10"] * 6)})
    >>> out = feedback_themes({"survey_comments": comments, "respondents": respondents}, min_comments=5, k=3)
    >>> rows = out.set_index("term").loc[["fair", "more transparency"]]
    >>> rows[["n_mentions", "previous_mentions", "direction"]].values.tolist()
    [[6, 0, 'new'], [0, 6, 'falling']]
    """
    if top < 1 or min_mentions < 1:
        raise ValueError("feedback_themes: top and min_mentions must be at least 1.")
    settings = config.get_settings()
    min_comments = settings.min_comments_shown if min_comments is None else int(min_comments)
    k = settings.k if k is None else int(k)
    comments = _comments(con_or_frames, warehouse_file)
    items = (pd.DataFrame(con_or_frames["items"]) if isinstance(con_or_frames, Mapping) and "items" in con_or_frames
             else load_codebook().items_frame())
    text_items = items[items["kind"] == "text"] if "kind" in items else items
    area_order = list(dict.fromkeys(text_items["area"].astype(str)))
    comments = comments.merge(text_items[["item_id", "area"]], on="item_id", how="inner")
    if comments.empty:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in _COLUMNS})
    comments["wave"] = comments["wave"].astype(str)
    order = _wave_order(comments)
    wave = order[-1] if wave is None else str(wave)
    if wave not in order:
        raise ValueError(f"feedback_themes: no comments in wave {wave!r}; waves with comments: {order}.")
    if previous is None:
        position = order.index(wave)
        previous = order[position - 1] if position > 0 else None
    elif str(previous) not in order:
        raise ValueError(f"feedback_themes: no comments in wave {previous!r}; waves with comments: {order}.")
    comments["terms"] = comments["text"].map(comment_terms)
    comments["compound"] = pd.to_numeric(comments["compound"], errors="coerce").where(
        comments["sentiment_status"].astype(str) == "scored")
    rows = []
    for area in area_order:
        now = comments[(comments["wave"] == wave) & (comments["area"] == area)]
        before = comments[(comments["wave"] == previous) & (comments["area"] == area)] if previous else now.iloc[:0]
        if len(now) < k:
            continue
        counts_now = Counter(t for terms in now["terms"] for t in terms)
        counts_before = Counter(t for terms in before["terms"] for t in terms)

        chosen = list(dict.fromkeys(_ranked(now["terms"], top, min_mentions)
                                    + (_ranked(before["terms"], top, min_mentions) if len(before) >= k else [])))
        area_sentiment = float(now["compound"].mean())
        for term in chosen:
            using = now[now["terms"].map(lambda terms, t=term: t in terms)]
            x1, n1 = float(counts_now[term]), float(len(now))
            x2, n2 = float(counts_before[term]), float(len(before))
            p_value = two_proportion_p_value(x1, n1, x2, n2) if previous else np.nan
            change = x1 / n1 - x2 / n2 if previous and n2 else np.nan
            rows.append({
                "wave": wave, "area": area, "n_comments": len(now), "area_sentiment": area_sentiment, "term": term,
                "kind": "phrase" if " " in term else "word", "n_mentions": int(x1), "share": x1 / n1,
                # the tone of fewer than k comments is close to each writer's own
                "mean_sentiment": float(using["compound"].mean()) if len(using) >= k else np.nan,
                "previous_wave": previous, "previous_n_comments": len(before) if previous else np.nan,
                "previous_mentions": int(x2) if previous else np.nan,
                "previous_share": x2 / n2 if previous and n2 else np.nan, "change": change, "p_value": p_value,
                # the comments' terms are found once above: finding them again per term took a third of the time
                "example": _example(using["text"]) if len(now) >= min_comments and len(using) else pd.NA,
            })
    themes = pd.DataFrame(rows, columns=[c for c in _COLUMNS if c not in ("p_adjusted", "direction")])
    themes.insert(themes.columns.get_loc("p_value") + 1, "p_adjusted",
                  benjamini_hochberg(themes["p_value"].to_numpy(dtype=float)))
    themes.insert(themes.columns.get_loc("p_adjusted") + 1, "direction", [
        _direction(change, adjusted, before) if previous else NO_EARLIER_WAVE
        for change, adjusted, before in zip(themes["change"], themes["p_adjusted"], themes["previous_mentions"],
                                            strict=True)])
    return themes


def wave_themes(comments: pd.DataFrame, *, wave: str | None, previous: str | None, top: int = 8,
                k: int | None = None, min_comments: int | None = None) -> pd.DataFrame:
    """:func:`feedback_themes` of the survey comments of ``wave`` against those of ``previous`` -- compared
    only if that wave has comments; no rows when ``wave`` has none (or is None).

    ``comments``: the comments joined to their respondents' waves
    (:func:`analytics.datasets.survey_comments`).
    """
    waves = set(comments["wave"].dropna().astype(str))
    if wave not in waves:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in _COLUMNS})
    compared = previous if previous in waves else None
    return feedback_themes(comments[comments["wave"].isin([wave, compared])], wave=wave, previous=compared,
                           top=top, k=k, min_comments=min_comments)
