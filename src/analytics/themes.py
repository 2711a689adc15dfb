"""Content themes of posts: a transparent taxonomy from ``data/content_themes.yml``, its evaluation,
and the share of employee posts that are mission stories.

Every post gets one primary theme. A theme scores the weights of the distinct cues (keywords, hashtags,
link fragments, regexes) found in a text; the highest score wins, a tie goes to the theme listed first
in the file (asks before reports), and a text reaching no theme's ``min_score`` falls back to ``other``.
The rules are plain enough for an analyst to read, and :func:`theme_cues` shows which cues decided.
:func:`evaluate_themes` gives precision and recall per theme against hand-labelled posts, as
:func:`analytics.adherence.evaluate_rules` does for the policy rules.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from analytics import config, privacy, warehouse
from analytics.adherence import RegexScreen, read_yaml, wilson_interval
from analytics.periods import sql_period_label

__all__ = [
    "GROUPINGS",
    "Cue",
    "Taxonomy",
    "Theme",
    "classify_themes",
    "evaluate_themes",
    "fetch_frames",
    "in_duckdb",
    "load_taxonomy",
    "mission_story_share",
    "taxonomy_frame",
    "theme_cues",
]

#: Columns a positive-side table may be grouped by; ``department`` describes people, so k applies.
GROUPINGS = ("month", "quarter", "department", "platform")
_CUE_KINDS = ("keywords", "hashtags", "links", "regex")
_WEIGHT_KEYS = {"keywords": "keyword", "hashtags": "hashtag", "links": "link", "regex": "regex"}


@dataclass(frozen=True)
class Cue:
    """One cue: how it is written in the taxonomy, its weight, its regex and a cheap literal needle."""

    label: str
    weight: int
    pattern: re.Pattern[str]
    needle: str | None  # lower-case text every match contains; None: always run the regex


@dataclass(frozen=True)
class Theme:
    """One theme: its id, label, description and cues."""

    id: str
    label: str
    description: str
    cues: tuple[Cue, ...]


@dataclass(frozen=True)
class Taxonomy:
    """The themes in priority order, the fallback theme and what counts as a mission story."""

    themes: tuple[Theme, ...]
    fallback: str
    min_score: int
    mission_story_themes: tuple[str, ...]
    version: str  # hash of the file: a changed taxonomy re-classifies every post

    @property
    def ids(self) -> list[str]:
        """Theme ids in priority order, the fallback last."""
        return [t.id for t in self.themes] + [self.fallback]


def _keyword_regex(keyword: str) -> str:
    words = re.split(r"[\s-]+", keyword.strip())
    parts = [re.escape(w[:-1]) + r"\w*" if w.endswith("*") else re.escape(w) for w in words]
    # social media text mixes straight and typographic apostrophes
    body = r"[\s-]+".join(parts).replace("'", "['’]")
    return rf"(?<!\w){body}(?!\w)" if keyword.strip()[-1].isalnum() or keyword.strip().endswith("*") \
        else rf"(?<!\w){body}"


def _cue(kind: str, value: str, weight: int) -> Cue:
    if kind == "keywords":
        regex = _keyword_regex(value)
        # the longest word is the rarest: most texts are ruled out by a plain substring test
        words = [part for w in re.split(r"[\s-]+", value.strip()) for part in re.split(r"['’]", w.rstrip("*"))]
        needle = max(words, key=len).lower() or None
    elif kind == "hashtags":
        tag = "#" + value.lstrip("#")
        regex, needle = rf"(?<![\w#]){re.escape(tag)}(?!\w)", tag.lower()
    elif kind == "links":
        regex, needle = re.escape(value), value.lower()
    else:
        regex, needle = value, None
    label = {"keywords": "keyword", "hashtags": "hashtag", "links": "link"}.get(kind, "regex")
    return Cue(f"{label}:{value}", weight, re.compile(regex, re.IGNORECASE), needle)


def _parse_theme(spec: dict[str, Any], weights: dict[str, int], path: Path) -> Theme:
    if not isinstance(spec, dict) or "id" not in spec:
        raise ValueError(f"{path}: every theme needs an `id` (and label, description, cues); got {spec!r}.")
    theme_id = str(spec["id"])
    cues = []
    for kind in _CUE_KINDS:
        values = spec.get(kind) or []
        if not isinstance(values, list):
            raise ValueError(f"{path}: theme {theme_id!r}: `{kind}` must be a list, got {values!r}.")
        for value in values:
            try:
                cues.append(_cue(kind, str(value), int(weights[_WEIGHT_KEYS[kind]])))
            except re.error as error:
                raise ValueError(f"{path}: theme {theme_id!r}: {kind} {value!r} does not compile ({error}).") from error
    return Theme(theme_id, str(spec.get("label", theme_id)), " ".join(str(spec.get("description", "")).split()),
                 tuple(cues))


def load_taxonomy(path: str | os.PathLike[str] | None = None) -> Taxonomy:
    """Read and compile the content-theme taxonomy.

    Parameters
    ----------
    path : str or Path, optional
        Taxonomy file; defaults to :data:`analytics.config.CONTENT_THEMES_PATH`.

    Returns
    -------
    Taxonomy
        Themes in priority (file) order, the fallback theme, ``min_score``, the mission-story themes and
        a version hash of the file.

    Examples
    --------
    >>> load_taxonomy().ids
    ['fundraising_ask', 'volunteer_call', 'event', 'advocacy', 'achievement', 'impact_story', 'other']
    """
    chosen = Path(path or config.CONTENT_THEMES_PATH)
    try:
        # surfaces ask for it many times per page: parsed and compiled once per content (frozen, so shared)
        return config.parsed_once(chosen, _parse_taxonomy)
    except FileNotFoundError:
        raise ValueError(f"Content-theme taxonomy {chosen} does not exist; restore data/content_themes.yml or "
                         "pass another path.") from None


def _parse_taxonomy(chosen: Path, text: bytes) -> Taxonomy:
    raw = read_yaml(text) or {}
    specs = raw.get("themes")
    if not isinstance(specs, list) or not specs:
        raise ValueError(f"{chosen} has no `themes:` list; see the header of data/content_themes.yml.")
    weights = {"keyword": 1, "hashtag": 1, "regex": 1, "link": 3, **(raw.get("weights") or {})}
    themes = tuple(_parse_theme(spec, weights, chosen) for spec in specs)
    fallback = str(raw.get("fallback", "other"))
    ids = [t.id for t in themes] + [fallback]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise ValueError(f"{chosen}: theme ids {duplicated} appear more than once (the fallback counts too).")
    mission = tuple(str(t) for t in raw.get("mission_story_themes") or [])
    unknown = sorted(set(mission) - set(ids))
    if unknown:
        raise ValueError(f"{chosen}: mission_story_themes {unknown} are not theme ids; known: {ids}.")
    return Taxonomy(themes, fallback, int(raw.get("min_score", 1)), mission, hashlib.sha256(text).hexdigest()[:12])


def taxonomy_frame(taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """The taxonomy as a table for analysts and the methods appendix.

    Returns
    -------
    DataFrame
        One row per theme in priority order (the fallback last): ``theme``, ``label``, ``description``,
        ``n_cues``, ``mission_story`` (counted by :func:`mission_story_share`).

    Examples
    --------
    >>> taxonomy_frame().set_index("theme").loc["impact_story", "mission_story"]
    np.True_
    """
    taxonomy = taxonomy or load_taxonomy()
    rows = [(t.id, t.label, t.description, len(t.cues)) for t in taxonomy.themes]
    rows.append((taxonomy.fallback, "Other", "Everything no theme's cues reach: personal posts, chit-chat, "
                 "other languages.", 0))
    frame = pd.DataFrame(rows, columns=["theme", "label", "description", "n_cues"])
    frame["mission_story"] = frame["theme"].isin(taxonomy.mission_story_themes)
    return frame


def _as_texts(texts: Iterable[Any]) -> tuple[list[str], pd.Index]:
    series = texts if isinstance(texts, pd.Series) else pd.Series(list(texts), dtype=object)
    values = [v if isinstance(v, str) else "" for v in series.tolist()]
    return values, series.index


def _screen(taxonomy: Taxonomy) -> tuple[RegexScreen, list[tuple[int, Cue]]]:
    """One RE2 screen over every cue of the taxonomy, and (theme position, cue) per screen index."""
    cached = _SCREENS.get(id(taxonomy))
    if cached is None or cached[0] is not taxonomy:
        cues = [(t, cue) for t, theme in enumerate(taxonomy.themes) for cue in theme.cues]
        cached = (taxonomy, RegexScreen([cue.pattern for _, cue in cues]), cues)
        if len(_SCREENS) > 8:
            _SCREENS.clear()
        _SCREENS[id(taxonomy)] = cached
    return cached[1], cached[2]


_SCREENS: dict[int, tuple[Taxonomy, RegexScreen, list[tuple[int, Cue]]]] = {}


def _scores(text: str, taxonomy: Taxonomy, *, screened: bool = True) -> list[tuple[str, int, list[str]]]:
    """(theme, score, cues found) of every theme with a cue in ``text``, in priority order.

    A cue counts when its needle is in the lower-cased text and its regex matches. The RE2 screen
    only spares the cues that cannot match; ``screened=False`` tries every cue (the reference).
    """
    if not text:
        return []
    lowered = text.lower()
    screen, cues = _screen(taxonomy)
    candidates = screen.candidates(text) if screened else None
    if candidates is None:
        candidates = range(len(cues))
    found: dict[int, list[Cue]] = {}
    for i in sorted(candidates):
        t, cue = cues[i]
        if (cue.needle is None or cue.needle in lowered) and cue.pattern.search(text):
            found.setdefault(t, []).append(cue)
    return [(taxonomy.themes[t].id, sum(c.weight for c in hit), [c.label for c in hit])
            for t, hit in sorted(found.items())]


def _primary(scored: list[tuple[str, int, list[str]]], taxonomy: Taxonomy) -> str:
    best = [s for s in scored if s[1] >= taxonomy.min_score]
    if not best:
        return taxonomy.fallback
    top = max(s[1] for s in best)
    # ``scored`` is in priority order, so the first theme with the top score wins a tie
    return next(s[0] for s in best if s[1] == top)


def _primary_themes(values: list[str], taxonomy: Taxonomy,
                    candidates: Sequence[Sequence[int] | None] | None = None) -> list[str]:
    """``_primary(_scores(text))`` of each text, in one tight loop (this runs over every distinct post).

    ``candidates``: each text's ``sorted(_screen(taxonomy)[0].candidates(text))`` (or ``None``), already
    found (the build's scan finds them in its own RE2 pass).
    """
    screen, cues = _screen(taxonomy)
    ids = [t.id for t in taxonomy.themes]
    checks = [(t, cue.weight, cue.needle, cue.pattern.search) for t, cue in cues]
    everything = range(len(checks))
    fallback, min_score = taxonomy.fallback, taxonomy.min_score
    out = []
    for k, text in enumerate(values):
        if not text:
            out.append(fallback)
            continue
        if candidates is None:
            found = screen.candidates(text)
            found = None if found is None else sorted(found)
        else:
            found = candidates[k]
        lowered = text.lower()
        scores: dict[int, int] = {}
        for i in everything if found is None else found:
            t, weight, needle, search = checks[i]
            if (needle is None or needle in lowered) and search(text):
                scores[t] = scores.get(t, 0) + weight
        best, winner = None, fallback
        # the first theme (in priority order) with the top score wins a tie
        for t in sorted(scores):
            if scores[t] >= min_score and (best is None or scores[t] > best):
                best, winner = scores[t], ids[t]
        out.append(winner)
    return out


def classify_themes(texts: Iterable[Any], *, taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """The primary content theme of each text.

    Each theme scores the summed weights of the distinct cues found in the text. The highest score
    wins; a tie goes to the theme listed first in the taxonomy (asks before reports: a story ending
    in a donate link is a fundraising ask); a text where no theme reaches ``min_score`` (and a
    missing text) gets the fallback theme ``other``.

    Parameters
    ----------
    texts : Series or iterable of str
        Post texts; a Series' index labels become ``text_index``.
    taxonomy : Taxonomy, optional
        Defaults to :func:`load_taxonomy`.

    Returns
    -------
    DataFrame
        One row per text, in input order: ``text_index`` (index label or position) and ``theme``.

    Examples
    --------
    >>> classify_themes(["Volunteers needed on Saturday! riverbendtrust.org/volunteer",
    ...                  "Lovely walk by the river", None])["theme"].tolist()
    ['volunteer_call', 'other', 'other']
    """
    taxonomy = taxonomy or load_taxonomy()
    values, index = _as_texts(texts)
    themes = _primary_themes(values, taxonomy)
    return pd.DataFrame({"text_index": index.to_numpy(), "theme": pd.Series(themes, dtype=object).to_numpy()})


def theme_cues(texts: Iterable[Any], *, taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """Why each text got its theme: every theme with a cue, its score and the cues found.

    Returns
    -------
    DataFrame
        One row per (text, theme with at least one cue): ``text_index``, ``theme``, ``score``, ``cues``
        (the cues as written in the taxonomy, ``; ``-separated) and ``primary`` (this theme won).

    Examples
    --------
    >>> cues = theme_cues(["Join us for the quiz night! Tickets: riverbendtrust.org/events"])
    >>> cues[["theme", "score", "primary"]].values.tolist()
    [['event', 6, True]]
    """
    taxonomy = taxonomy or load_taxonomy()
    values, index = _as_texts(texts)
    rows = []
    for label, text in zip(index, values, strict=True):
        scored = _scores(text, taxonomy)
        winner = _primary(scored, taxonomy)
        rows += [(label, theme, score, "; ".join(cues), theme == winner) for theme, score, cues in scored]
    return pd.DataFrame(rows, columns=["text_index", "theme", "score", "cues", "primary"])


def evaluate_themes(labelled: pd.DataFrame, *, taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """Precision and recall of each theme against hand-labelled texts (one primary theme each).

    Parameters
    ----------
    labelled : DataFrame
        Columns ``text`` and ``theme`` (the expected primary theme id, the fallback included).
    taxonomy : Taxonomy, optional
        Defaults to :func:`load_taxonomy`.

    Returns
    -------
    DataFrame
        One row per theme in priority order (the fallback last): ``theme``, ``n_positive`` (texts
        labelled with it), ``tp``, ``fp``, ``fn``, ``precision`` (NaN when the theme was never predicted)
        and ``recall`` (NaN without positives).

    Examples
    --------
    >>> data = pd.DataFrame({"text": ["Please donate today riverbendtrust.org/donate", "Sunny Sunday"],
    ...                      "theme": ["fundraising_ask", "other"]})
    >>> evaluate_themes(data).set_index("theme").loc["fundraising_ask", ["tp", "fp", "fn"]].tolist()
    [1, 0, 0]
    """
    missing = [c for c in ("text", "theme") if c not in labelled.columns]
    if missing:
        raise ValueError(f"evaluate_themes: the labelled frame lacks columns {missing}; it needs text and theme.")
    taxonomy = taxonomy or load_taxonomy()
    expected = labelled["theme"].astype(str).str.strip().to_numpy()
    unknown = sorted(set(expected) - set(taxonomy.ids))
    if unknown:
        raise ValueError(f"evaluate_themes: labels {unknown} are not theme ids; known themes are {taxonomy.ids}.")
    predicted = classify_themes(labelled["text"].reset_index(drop=True), taxonomy=taxonomy)["theme"].to_numpy()
    rows = []
    for theme in taxonomy.ids:
        positive, fired = expected == theme, predicted == theme
        tp, fp, fn = int((positive & fired).sum()), int((~positive & fired).sum()), int((positive & ~fired).sum())
        rows.append({"theme": theme, "n_positive": int(positive.sum()), "tp": tp, "fp": fp, "fn": fn,
                     "precision": tp / (tp + fp) if tp + fp else np.nan,
                     "recall": tp / positive.sum() if positive.any() else np.nan})
    return pd.DataFrame(rows, columns=["theme", "n_positive", "tp", "fp", "fn", "precision", "recall"])


# --- reading ------------------------------------------------------------------------------------------------

@contextlib.contextmanager
def _connection(source: Any, warehouse_file: str | os.PathLike[str] | None) -> Iterator[Any]:
    if source is None:
        with warehouse.read_only(warehouse_file) as con:
            yield con
    else:
        yield source


@contextlib.contextmanager
def in_duckdb(
    con_or_frames: duckdb.DuckDBPyConnection | Mapping[str, pd.DataFrame] | None,
    queries: Mapping[str, str],
    *,
    columns: Mapping[str, Sequence[str]],
    warehouse_file: str | os.PathLike[str] | None = None,
    prepare: Callable[[dict[str, pd.DataFrame]], Mapping[str, pd.DataFrame]] | None = None,
) -> Iterator[tuple[duckdb.DuckDBPyConnection, dict[str, str]]]:
    """A DuckDB connection and, for each of ``queries``, the SQL that reads it there: for an analysis whose one
    definition is a query over a warehouse, run on given frames alike.

    A warehouse connection (``None``: the published warehouse, opened read-only) gives each query itself. Given
    frames are checked for ``columns`` (:func:`fetch_frames`), passed through ``prepare`` if given (e.g. to bring
    them to the warehouse's types), and registered, those columns only, in a throwaway in-memory connection
    (:func:`analytics.warehouse.in_memory`), each read by ``SELECT * FROM <name>``.

    >>> frames = {"posts": pd.DataFrame({"post_uid": ["x:1", "x:2"], "extra": [1, 2]})}
    >>> with in_duckdb(frames, {"posts": "SELECT post_uid FROM post_facts"}, columns={"posts": ["post_uid"]}) as (
    ...         con, sql):
    ...     con.execute(f"SELECT count(*) FROM ({sql['posts']})").fetchone()
    (2,)
    """
    if not isinstance(con_or_frames, Mapping):
        with _connection(con_or_frames, warehouse_file) as con:
            yield con, dict(queries)
        return
    frames = fetch_frames(con_or_frames, queries, required=columns)
    if prepare is not None:
        frames = dict(prepare(frames))
    with warehouse.in_memory({name: frames[name][list(columns[name])] for name in queries}) as con:
        yield con, {name: f"SELECT * FROM {name}" for name in queries}


def fetch_frames(
    con_or_frames: duckdb.DuckDBPyConnection | Mapping[str, pd.DataFrame] | None,
    queries: Mapping[str, str],
    *,
    required: Mapping[str, Sequence[str]],
    warehouse_file: str | os.PathLike[str] | None = None,
) -> dict[str, pd.DataFrame]:
    """The frames an analysis needs: from a mapping of frames, an open connection, or the warehouse.

    Parameters
    ----------
    con_or_frames : DuckDB connection, mapping of name -> DataFrame, or None
        ``None`` opens the published warehouse read-only (``warehouse_file`` or the configured one).
    queries : mapping
        Frame name -> SQL that reads it from a warehouse connection.
    required : mapping
        Frame name -> columns it must have (checked for given frames and query results alike).

    Returns
    -------
    dict
        Frame name -> DataFrame (copies; inputs are never changed).

    Examples
    --------
    >>> frames = fetch_frames({"posts": pd.DataFrame({"post_uid": ["x:1"]})}, {"posts": "SELECT 1"},
    ...                       required={"posts": ["post_uid"]})
    >>> list(frames["posts"].columns)
    ['post_uid']
    """
    if isinstance(con_or_frames, Mapping):
        absent = [name for name in queries if name not in con_or_frames]
        if absent:
            raise ValueError(f"The frames given lack {absent}; pass a mapping with {list(queries)} "
                             "(or a warehouse connection).")
        frames = {name: pd.DataFrame(con_or_frames[name]).copy() for name in queries}
    else:
        with _connection(con_or_frames, warehouse_file) as con:
            frames = {name: con.execute(sql).df() for name, sql in queries.items()}
    for name, columns in required.items():
        missing = [c for c in columns if c not in frames[name].columns]
        if missing:
            raise ValueError(f"Frame {name!r} lacks columns {missing}; it has {list(frames[name].columns)}.")
    return frames


def _check_by(by: Sequence[str] | str) -> list[str]:
    by = [by] if isinstance(by, str) else list(by)
    unknown = [b for b in by if b not in GROUPINGS]
    if unknown:
        raise ValueError(f"by={unknown}: group by any of {list(GROUPINGS)}.")
    if {"department", "platform"} <= set(by):
        raise ValueError("department x platform is never published (small groups); group by one of them.")
    if {"month", "quarter"} <= set(by):
        raise ValueError("Group by month or by quarter, not both.")
    return by


_PARTS = ["s1", "n1", "s0", "n0"]


def _engagement_ratio(authors: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Mean engagement of mission posts over that of other posts per group of ``keys`` (``ratio``, ``ci_low``,
    ``ci_high``), its 95 % CI clustered by author, from each author's sums: one row per group and author with a
    post's engagement, in group and author order, with ``s1, n1, s0, n0`` (engagement sums and post counts of
    its mission and other posts).

    The log ratio is log S1 - log N1 - log S0 + log N0 (the group's sums), so an author with sums s1, n1, s0,
    n0 moves it by z = s1/S1 - n1/N1 - s0/S0 + n0/N0, and its variance is G/(G-1) times the sum of z² over the
    G authors (the linearised variance of a ratio under cluster sampling; with one post per author, the
    textbook delta method).
    """
    from scipy import special

    keys = list(keys)
    totals = authors.groupby(keys, dropna=False, observed=True)[_PARTS].transform("sum")
    with np.errstate(invalid="ignore", divide="ignore"):
        z2 = (authors["s1"] / totals["s1"] - authors["n1"] / totals["n1"]
              - authors["s0"] / totals["s0"] + authors["n0"] / totals["n0"]) ** 2
    out = authors.assign(z2=z2, clusters=1.0).groupby(keys, dropna=False, observed=True)[
        [*_PARTS, "z2", "clusters"]].sum().reset_index()
    clusters = out["clusters"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = (out["s1"] / out["n1"]) / (out["s0"] / out["n0"])
        half = np.where(clusters > 1, special.stdtrit(np.maximum(clusters - 1, 1), 0.975), np.nan) * np.sqrt(
            clusters / (clusters - 1) * out["z2"])
    # a ratio of zero, or of nothing, has no log scale to build an interval on
    usable = (out["s1"] > 0) & (out["s0"] > 0)
    return out[keys].assign(ratio=ratio, ci_low=(ratio * np.exp(-half)).where(usable),
                            ci_high=(ratio * np.exp(half)).where(usable))


#: The columns of the employee posts :func:`mission_story_share` counts.
_POST_COLUMNS = ["post_uid", "author_key", "department", "platform", "month", "engagement", "theme"]

_EMPLOYEE_POSTS_SQL = """
SELECT f.post_uid, f.platform, f.author_key, f.department, f.month, f.engagement, t.theme
FROM post_facts f JOIN post_themes t USING (post_uid)
WHERE f.account_type = 'employee'
"""

# The post labels of mission_story_share's groupings, in DuckDB (``month`` is the first day of the local month)
_GROUPING_SQL = {"month": sql_period_label("month", "month"), "quarter": sql_period_label("month", "quarter"),
                 "department": "department", "platform": "platform"}

# One row per group and author: its posts and mission stories, and _engagement_ratio's sums over its posts with
# an engagement. ``{source}`` is a FROM item with the columns of _POST_COLUMNS.
_STORY_AUTHORS_SQL = """
WITH p AS (
    SELECT {labels}, author_key, engagement, coalesce(list_contains($mission, theme), false) AS mission
    FROM {source})
SELECT {keys}, author_key, count(*) AS n_posts, count(*) FILTER (WHERE mission) AS n_mission,
       coalesce(fsum(engagement) FILTER (WHERE mission), 0) AS s1,
       count(engagement) FILTER (WHERE mission)::DOUBLE AS n1,
       coalesce(fsum(engagement) FILTER (WHERE NOT mission), 0) AS s0,
       count(engagement) FILTER (WHERE NOT mission)::DOUBLE AS n0
FROM p GROUP BY ALL ORDER BY {order}, author_key NULLS LAST
"""


def _as_stored_posts(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Given employee posts (:func:`mission_story_share`) in the warehouse's types: engagement a number
    (anything else missing), month a calendar day, theme an id."""
    posts = frames["posts"]
    if isinstance(posts["month"].dtype, pd.DatetimeTZDtype):
        raise ValueError("mission_story_share: the posts' `month` holds instants; give each post's local calendar "
                         "month (analytics.periods.local_months(stamps, timezone)).")
    return {"posts": posts.assign(engagement=pd.to_numeric(posts["engagement"], errors="coerce").astype(float),
                                  month=pd.to_datetime(posts["month"]), theme=posts["theme"].astype("string"))}


def mission_story_share(
    con_or_frames: duckdb.DuckDBPyConnection | Mapping[str, pd.DataFrame] | None = None,
    *,
    by: Sequence[str] | str = ("month", "department"),
    k: int | None = None,
    taxonomy: Taxonomy | None = None,
    warehouse_file: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Share of employee posts that are mission stories, and the engagement those posts earn.

    A mission story is a post whose primary theme is one of the taxonomy's ``mission_story_themes``.
    Grouped by ``department``, groups with fewer than ``k`` distinct authors (and complementary cells
    that would reveal them) are suppressed; complementary cells also keep the hidden groups' mission
    stories, and their other posts, from adding up to zero (which would pin each hidden count).

    The engagement ratio compares posts; it does not say why they differ (the authors, platforms and
    timing of mission stories differ too). Its 95 % CI is that of a ratio of means, each author's posts a
    cluster (the same people post both kinds, and some people's posts draw more engagement than others'):
    the delta method on the log ratio with a cluster-robust variance, and Student's t with authors - 1
    degrees of freedom.

    DuckDB counts the posts of each group and author, whatever the input (given frames are registered in a
    throwaway in-memory database): only those sums reach pandas, so a surface need not convert a million posts.

    Parameters
    ----------
    con_or_frames : DuckDB connection, mapping or None
        A warehouse connection (reads ``post_facts`` joined to ``post_themes``), ``None`` for the
        published warehouse, or ``{"posts": frame}`` with ``post_uid, author_key, department, platform,
        month, engagement, theme`` (employee posts only; ``month`` a local calendar day or month: a date,
        a naive timestamp or ``YYYY-MM``).
    by : sequence of str
        Any of ``month``/``quarter`` and one of ``department``/``platform``; empty for one total.
    k : int, optional
        Suppression threshold; defaults to the configured k.
    taxonomy : Taxonomy, optional
        Says which themes are mission stories; defaults to :func:`load_taxonomy`.
    warehouse_file : str or Path, optional
        The warehouse read when ``con_or_frames`` is None; defaults to the configured one.

    Returns
    -------
    DataFrame
        One row per group (none without posts): the ``by`` columns (``month``/``quarter`` as
        ``YYYY-MM``/``YYYY-Qn``), ``n_posts``, ``n_people`` (distinct authors), ``n_mission``,
        ``mission_story_share``, ``ci_low``, ``ci_high`` (Wilson 95 %), ``engagement_per_mission_post``,
        ``engagement_per_other_post`` (mean reactions + comments + shares + clicks + saves),
        ``engagement_ratio`` (the first over the second), ``ratio_ci_low``, ``ratio_ci_high`` (its 95 %
        CI; NaN with fewer than two authors or no engagement on either side) and ``suppressed``.

    Examples
    --------
    >>> posts = pd.DataFrame({"post_uid": list("abcd"), "author_key": ["p1", "p2", "p3", "p3"],
    ...                       "department": "Programs", "platform": "x", "month": pd.Timestamp("2026-01-01"),
    ...                       "engagement": [12, 2, 4, 6], "theme": ["impact_story", "other", "event", "impact_story"]})
    >>> row = mission_story_share({"posts": posts}, by=()).iloc[0]
    >>> int(row["n_mission"]), float(row["mission_story_share"]), float(row["engagement_ratio"])
    (2, 0.5, 3.0)

    From a warehouse connection:

    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE post_facts AS SELECT *, 'employee' AS account_type, 'x' AS platform FROM (VALUES "
    ...                 "('a', 'p1', 'Programs', DATE '2026-01-01', 12.0), ('b', 'p2', 'Programs', DATE '2026-02-01', "
    ...                 "2.0)) t(post_uid, author_key, department, month, engagement)")
    >>> _ = con.execute("CREATE TABLE post_themes AS SELECT 'a' AS post_uid, 'impact_story' AS theme "
    ...                 "UNION ALL SELECT 'b', 'other'")
    >>> mission_story_share(con, by="quarter")[["quarter", "n_mission", "engagement_ratio"]].values.tolist()
    [['2026-Q1', 1, 6.0]]
    """
    by = _check_by(by)
    taxonomy = taxonomy or load_taxonomy()
    keys = by or ["_all"]  # no grouping: one group, the total
    labels = ", ".join(f"{_GROUPING_SQL[b]} AS {b}" for b in by) or "0 AS _all"
    order = ", ".join(f"{key} NULLS LAST" for key in keys)
    with in_duckdb(con_or_frames, {"posts": _EMPLOYEE_POSTS_SQL}, columns={"posts": _POST_COLUMNS},
                   warehouse_file=warehouse_file, prepare=_as_stored_posts) as (con, sql):
        sql = _STORY_AUTHORS_SQL.format(labels=labels, keys=", ".join(keys), order=order, source=f"({sql['posts']})")
        authors = con.execute(sql, {"mission": list(taxonomy.mission_story_themes)}).df()
    if authors.empty:
        return pd.DataFrame({c: pd.Series([], dtype=object if c in by else "float64") for c in _story_columns(by)})
    return _story_table(authors, by, k)


def _story_columns(by: Sequence[str]) -> list[str]:
    return [*by, "n_posts", "n_people", "n_mission", "mission_story_share", "ci_low", "ci_high",
            "engagement_per_mission_post", "engagement_per_other_post", "engagement_ratio", "ratio_ci_low",
            "ratio_ci_high", "suppressed"]


def _story_table(authors: pd.DataFrame, by: Sequence[str], k: int | None) -> pd.DataFrame:
    """:func:`mission_story_share` of its authors' counts and sums (:data:`_STORY_AUTHORS_SQL`, not empty)."""
    keys = list(by) or ["_all"]
    table = authors.groupby(keys, dropna=False).agg(
        n_posts=("n_posts", "sum"), n_people=("author_key", "count"), n_mission=("n_mission", "sum"),
        s1=("s1", "sum"), n1=("n1", "sum"), s0=("s0", "sum"), n0=("n0", "sum")).reset_index()
    n = table["n_posts"].to_numpy(float)
    successes = table["n_mission"].to_numpy(float)
    table["mission_story_share"] = successes / n
    table["ci_low"], table["ci_high"] = wilson_interval(successes, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        table["engagement_per_mission_post"] = table["s1"] / table["n1"]
        table["engagement_per_other_post"] = table["s0"] / table["n0"]
    engaged = authors[authors["n1"] + authors["n0"] > 0].reset_index(drop=True)
    ratios = table[keys].merge(_engagement_ratio(engaged, keys), on=keys, how="left")
    table["engagement_ratio"] = ratios["ratio"].to_numpy()
    table["ratio_ci_low"], table["ratio_ci_high"] = ratios["ci_low"].to_numpy(), ratios["ci_high"].to_numpy()
    values = ["n_posts", "n_mission", "mission_story_share", "ci_low", "ci_high", "engagement_per_mission_post",
              "engagement_per_other_post", "engagement_ratio", "ratio_ci_low", "ratio_ci_high"]
    if "department" in by:
        # hidden departments' mission stories (and their other posts) must not add up to zero, or each
        # hidden count would be pinned to zero (or to all of its posts)
        table["_other_posts"] = table["n_posts"] - table["n_mission"]
        table = privacy.suppress_small_groups(table, by=by, n="n_people", values=values, k=k,
                                              nonzero=["n_mission", "_other_posts"])
    else:
        table["suppressed"] = False
    return table[_story_columns(by)].reset_index(drop=True)
