"""The positive side of the policy: amplification, mission value and recognition.

- **Amplification.** An employee post amplifies an organisation post when it shares it: the platform's
  ``shared_url``, a link to the organisation post in its text, or (failing both) a quoted passage of
  the organisation post's text. :func:`match_amplifications` finds them; :func:`amplification_reach`
  shows what they add and :func:`amplifier_share` the share of employees who amplified at least once.
- **Mission value** is counted in the organisation's own terms — posts linking to the pages in
  ``settings.mission_url_patterns`` (donate, volunteer) and the clicks the platforms report on them.
  No advertising-equivalent "earned media value" is computed anywhere in Policy Pulse.
- **Recognition.** :func:`team_recognition` shows departments that combine high adherence with strong,
  positive engagement, k-safe. :func:`individual_recognition` names only people whom the roster marks as
  opted in and whose display name the warehouse keeps (``recognition_names``), and it never shows anyone's
  policy findings: monitoring educates, it does not police. Their figures have one definition, a DuckDB
  query: it reads a warehouse, or frames registered in a throwaway in-memory connection, and
  :func:`recognition_by_period` runs it for many periods in one scan.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from analytics import config, privacy, warehouse
from analytics.adherence import wilson_interval
from analytics.periods import Period, parse_period, period_labels
from analytics.themes import _check_by, fetch_frames, in_duckdb, load_taxonomy

__all__ = [
    "ANY_MISSION_PAGE",
    "SHORT_LINK_PAGE",
    "amplification_reach",
    "amplifier_share",
    "individual_recognition",
    "link_keys",
    "link_keys_sql",
    "link_keys_table",
    "match_amplifications",
    "mission_links",
    "mission_value",
    "normalise_url",
    "recognition_by_period",
    "team_recognition",
]

Source = duckdb.DuckDBPyConnection | Mapping[str, pd.DataFrame] | None
WarehouseFile = str | os.PathLike[str] | None

#: The page label of links a platform shortened (t.co, lnkd.in...): their target cannot be known.
SHORT_LINK_PAGE = "(short link, target unknown)"
#: The page label of :func:`mission_value`'s totals: posts linking to any mission page, each counted once.
ANY_MISSION_PAGE = "(any mission page)"
# A URL in a text: ``(?:https?://)?(?:www\.)?[a-z0-9][a-z0-9.-]*\.[a-z]{2,}/[^\s"'<>)\]”]*``, written so that
# Python's backtracking takes linear time (that pattern, tried at every letter of a long run of host
# characters, is quadratic: 100,000 letters without a dot took about a minute). Where that pattern's host
# can start anywhere in a run of host characters, this one only tries the run's first letter or digit
# (group 2, after the run's leading dots and hyphens): every later start in the run ends where it ends and
# has fewer dots, so it fails wherever the first one fails. A scheme (group 1) is tried wherever it is. The
# possessive quantifiers give back nothing the pattern could use: the host runs to its last dot, then
# letters, then the slash. tests/test_engagement_links.py compares both patterns on hostile texts.
_URL_HOST = r"[a-z0-9](?:[a-z0-9-]*+\.)++[a-z]{2,}+/[^\s\"'<>)\]”]*"
_URL_IN_TEXT = re.compile(rf"(https?://(?:www\.)?{_URL_HOST})|(?<![a-z0-9.-])[.-]*+((?:www\.)?{_URL_HOST})",
                          re.IGNORECASE)
_SHORTENERS = re.compile(r"(?:https?://)?(?:t\.co|bit\.ly|ow\.ly|buff\.ly|lnkd\.in|tinyurl\.com|goo\.gl)/\S+",
                         re.IGNORECASE)
_QUOTE = re.compile(r"[\"“]([^\"“”]{20,})[\"”]")
# The plain URL pattern and _QUOTE for RE2 (DuckDB; linear as it is), matching exactly the same characters:
# Python's case-insensitive classes written out (``[a-z]`` also takes İ, ı, ſ and the Kelvin sign, ``s``
# takes ſ) and Python's ``\s`` listed, since RE2's ``\s`` is ASCII only. tests/test_engagement_sql.py checks
# every code point.
_LETTER = r"A-Za-z\x{130}\x{131}\x{17f}\x{212a}"
_URL_IN_TEXT_RE2 = (
    r"(?:[hH][tT][tT][pP][sS\x{17f}]?://)?(?:[wW][wW][wW]\.)?"
    rf"[0-9{_LETTER}][0-9{_LETTER}.\-]*\.[{_LETTER}]{{2,}}/"
    r"[^\x{9}-\x{d}\x{1c}-\x{20}\x{22}\x{27}\x{29}\x{3c}\x{3e}\x{5d}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}"
    r"\x{201d}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]*"
)
_QUOTE_RE2 = r"[\x{22}\x{201c}]([^\x{22}\x{201c}\x{201d}]{20,})[\x{22}\x{201d}]"
_HOST_ALIASES = {"twitter.com": "x.com", "mobile.twitter.com": "x.com", "m.facebook.com": "facebook.com",
                 "fb.com": "facebook.com"}


def normalise_url(url: Any) -> str:
    """A post URL reduced to what identifies the post (scheme, ``www.``, query and case dropped).

    X links on twitter.com and x.com, and Instagram ``/reel/`` and ``/p/`` links, compare equal.

    Examples
    --------
    >>> normalise_url("https://www.Twitter.com/riverbendtrust/status/123?s=20")
    'x.com/riverbendtrust/status/123'
    >>> normalise_url("instagram.com/reel/AbC/") == normalise_url("https://www.instagram.com/p/AbC")
    True
    """
    if not isinstance(url, str) or not url.strip():
        return ""
    return _normalise_url_text(url)


# Employees link to the same organisation posts again and again: each distinct URL is reduced once.
@functools.lru_cache(maxsize=200_000)
def _normalise_url_text(url: str) -> str:
    text = re.sub(r"^https?://", "", url.strip(), flags=re.IGNORECASE)
    text = re.split(r"[?#]", text, maxsplit=1)[0].rstrip("/.,!;:")
    host, _, path = text.partition("/")
    host = host.lower().removeprefix("www.")
    host = _HOST_ALIASES.get(host, host)
    if host == "instagram.com":
        path = re.sub(r"^reels?/", "p/", path)
    # post ids and paths are case-sensitive on some platforms (Instagram codes), hosts are not
    return f"{host}/{path}" if path else host


def _urls_in_text(text: str) -> list[str]:
    """The URLs in a text, left to right (what ``findall`` of the plain pattern above gives)."""
    return [scheme or plain for scheme, plain in _URL_IN_TEXT.findall(text)]


def _normalise_quote(text: str) -> str:
    return " ".join(text.lower().replace("…", " ").replace("...", " ").split())


_POSTS_SQL = """
SELECT post_uid, platform, account_type, author_key, department, published_at, text, url, shared_url,
       reactions, comments, shares, clicks, saves, impressions, reach
FROM posts WHERE account_type IN ('employee', 'organization')
"""
_POST_COLUMNS = ["post_uid", "platform", "account_type", "author_key", "department", "published_at", "text", "url",
                 "shared_url"]
_ENGAGEMENT_PARTS = ("reactions", "comments", "shares", "clicks", "saves")


def _engagement(posts: pd.DataFrame) -> pd.Series:
    parts = [pd.to_numeric(posts[c], errors="coerce").fillna(0) for c in _ENGAGEMENT_PARTS if c in posts]
    return sum(parts, pd.Series(0.0, index=posts.index)).astype(float)


def _audience(posts: pd.DataFrame) -> pd.Series:
    """Reach where the platform reports it, else impressions, else missing."""
    reach = pd.to_numeric(posts["reach"], errors="coerce") if "reach" in posts else pd.Series(np.nan, posts.index)
    shown = pd.to_numeric(posts["impressions"], errors="coerce") if "impressions" in posts else reach * np.nan
    return reach.where(reach > 0, shown.where(shown > 0)).astype(float)


def link_keys(posts: pd.DataFrame) -> pd.DataFrame:
    """What :func:`match_amplifications` compares, extracted once per post so that a build can match
    new posts against the warehouse in SQL.

    Parameters
    ----------
    posts : DataFrame
        ``post_uid, account_type, text, url, shared_url``.

    Returns
    -------
    DataFrame
        One row per key: ``post_uid``, ``kind`` (``url``: an organisation post's own URL; ``body``: an
        organisation post's text as quotes are compared; ``shared``: an employee post's shared URL;
        ``link``: a URL in an employee post's text; ``quote``: a quoted passage of it), ``pos`` (order
        in the text) and ``key`` (URLs by :func:`normalise_url`, texts as quotes are compared; empty
        keys are left out, except quotes, which an empty passage still is).

    Examples
    --------
    >>> posts = pd.DataFrame({"post_uid": ["o", "e"], "account_type": ["organization", "employee"],
    ...                       "text": ["Hello", 'See x.com/org/status/1 and "twenty chars or more here"'],
    ...                       "url": ["https://twitter.com/org/status/1", None], "shared_url": None})
    >>> link_keys(posts)[["post_uid", "kind", "key"]].values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [['o', 'url', 'x.com/org/status/1'], ['o', 'body', 'hello'], ['e', 'link', 'x.com/org/status/1'],
     ['e', 'quote', 'twenty chars or more here']]
    """
    rows: list[tuple[str, str, int, str]] = []
    # plain lists: iterating pandas' string arrays element by element is several times slower
    for uid, kind, text, url, shared in zip(posts["post_uid"].tolist(), posts["account_type"].astype(str).tolist(),
                                            posts["text"].tolist(), posts["url"].tolist(),
                                            posts["shared_url"].tolist(), strict=True):
        text = text if isinstance(text, str) else ""
        if kind == "organization":
            _org_keys(rows, uid, url, text)
        elif kind == "employee":
            # a URL needs a slash, a quote a quotation mark: most posts skip the regexes
            links = _urls_in_text(text) if "/" in text else ()
            quotes = _QUOTE.findall(text) if '"' in text or "“" in text else ()
            _employee_keys(rows, uid, shared, links, quotes)
    return _keys_frame(rows)


def _org_keys(rows: list[tuple[str, str, int, str]], uid: str, url: Any, text: str) -> None:
    own = normalise_url(url)
    if own:
        rows.append((uid, "url", 0, own))
    rows.append((uid, "body", 0, _normalise_quote(text)))


def _employee_keys(rows: list[tuple[str, str, int, str]], uid: str, shared: Any, links: Sequence[str],
                   quotes: Sequence[str]) -> None:
    target = normalise_url(shared)
    if target:
        rows.append((uid, "shared", 0, target))
    normalised = (normalise_url(u) for u in links)
    rows += [(uid, "link", i, link) for i, link in enumerate(normalised) if link]
    rows += [(uid, "quote", i, _normalise_quote(q)) for i, q in enumerate(quotes)]


def _keys_frame(rows: list[tuple[str, str, int, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["post_uid", "kind", "pos", "key"]).astype({"pos": "int64"})


def link_keys_sql(con: duckdb.DuckDBPyConnection, posts_sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
    """:func:`link_keys` of the posts a query selects, the URLs and quotes found by DuckDB (RE2, on every core).

    Parameters
    ----------
    con : DuckDB connection
    posts_sql : str
        A query selecting ``post_uid, account_type, text, url, shared_url``.
    params : sequence
        Its parameters.

    Returns
    -------
    DataFrame
        What ``link_keys(con.execute(posts_sql, params).df())`` returns (rows possibly in another order):
        RE2 runs regexes written to match exactly the characters Python's do, and only organisation
        texts and what the regexes found reach Python.

    Examples
    --------
    >>> con = duckdb.connect()
    >>> sql = ("SELECT 'e' AS post_uid, 'employee' AS account_type, 'See X.com/org/status/1' AS text, "
    ...        "NULL AS url, NULL AS shared_url")
    >>> link_keys_sql(con, sql)[["kind", "key"]].values.tolist()
    [['link', 'x.com/org/status/1']]
    """
    link_keys_table(con, posts_sql, params, table="_link_keys_found")
    try:
        found = con.execute("SELECT post_uid, kind, pos, key FROM _link_keys_found").df()
    finally:
        con.execute("DROP TABLE _link_keys_found")
    if found.empty:
        return _keys_frame([])
    return pd.DataFrame({"post_uid": found["post_uid"].to_numpy(dtype=object).tolist(),
                         "kind": found["kind"].to_numpy(dtype=object).tolist(),
                         "pos": found["pos"].to_numpy(dtype="int64"),
                         "key": found["key"].to_numpy(dtype=object).tolist()})


def link_keys_table(con: duckdb.DuckDBPyConnection, posts_sql: str, params: Sequence[Any] = (), *,
                    table: str) -> int:
    """:func:`link_keys_sql`'s rows left in the temporary table ``table`` (``post_uid VARCHAR, kind VARCHAR,
    pos BIGINT, key VARCHAR``, created or replaced) instead of returned; returns its row count.

    A build keys every post: its rows never become Python objects. Only the distinct URLs and quoted
    passages do, each reduced once by :func:`normalise_url` or as quotes are compared.

    Examples
    --------
    >>> con = duckdb.connect()
    >>> sql = ("SELECT 'e' AS post_uid, 'employee' AS account_type, 'See X.com/a/1 and x.com/a/1' AS text, "
    ...        "NULL AS url, NULL AS shared_url")
    >>> link_keys_table(con, sql, table="keys")
    2
    >>> con.execute("SELECT kind, pos, key FROM keys ORDER BY pos").fetchall()
    [('link', 0, 'x.com/a/1'), ('link', 1, 'x.com/a/1')]
    """
    url, quote = (pattern.replace("'", "''") for pattern in (_URL_IN_TEXT_RE2, _QUOTE_RE2))
    raw = f"_{table}_raw"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {raw} AS
            WITH p AS MATERIALIZED (
                SELECT post_uid, account_type, text, url, shared_url FROM ({posts_sql})
                WHERE account_type IN ('organization', 'employee'))
            SELECT post_uid, 'url' AS kind, 0 AS pos, url AS raw FROM p
            WHERE account_type = 'organization' AND url IS NOT NULL
            UNION ALL SELECT post_uid, 'body', 0, coalesce(text, '') FROM p WHERE account_type = 'organization'
            UNION ALL SELECT post_uid, 'shared', 0, shared_url FROM p
            WHERE account_type = 'employee' AND shared_url IS NOT NULL
            UNION ALL SELECT post_uid, 'link', generate_subscripts(found, 1) - 1, unnest(found)
            FROM (SELECT post_uid, regexp_extract_all(text, '{url}') AS found FROM p
                  WHERE account_type = 'employee' AND contains(text, '/'))
            UNION ALL SELECT post_uid, 'quote', generate_subscripts(found, 1) - 1, unnest(found)
            FROM (SELECT post_uid, regexp_extract_all(text, '{quote}', 1) AS found FROM p
                  WHERE account_type = 'employee' AND (contains(text, '"') OR contains(text, '“')))""",
        list(params))
    try:
        # links repeat (employees share the same organisation posts): each distinct value is reduced once
        distinct = con.execute(f"SELECT DISTINCT kind IN ('url', 'shared', 'link'), raw FROM {raw}").fetchall()
        keys = pd.DataFrame({
            "is_url": pd.Series([is_url for is_url, _ in distinct], dtype=bool),
            "raw": pd.Series([value for _, value in distinct], dtype=object),
            "key": pd.Series([normalise_url(value) if is_url else _normalise_quote(value)
                              for is_url, value in distinct], dtype=object)})
        with warehouse.registered(con, f"_{table}_keys", keys):
            rows = con.execute(
                f"""CREATE OR REPLACE TEMP TABLE {table} AS
                    SELECT r.post_uid::VARCHAR AS post_uid, r.kind::VARCHAR AS kind, r.pos::BIGINT AS pos,
                           k.key::VARCHAR AS key
                    FROM {raw} r JOIN _{table}_keys k
                        ON k.raw = r.raw AND k.is_url = (r.kind IN ('url', 'shared', 'link'))
                    -- an empty URL is no key; an empty quote still is one
                    WHERE NOT k.is_url OR k.key <> ''""").fetchone()[0]
    except BaseException:
        # after a failed statement DuckDB refuses the drop too: the statement's own error is the one raised
        with contextlib.suppress(duckdb.Error):
            con.execute(f"DROP TABLE {raw}")
        raise
    con.execute(f"DROP TABLE {raw}")
    return rows


def match_amplifications(posts: pd.DataFrame) -> pd.DataFrame:
    """Employee posts that share an organisation post, and which one.

    A post matches by ``shared_url`` (the platform's own share), else by a link in its text to an
    organisation post (URLs compared by :func:`normalise_url`), else by ``quoted_text``: a quoted
    passage of at least 20 characters found in an organisation post published before it (the latest
    such post; the same platform preferred).

    Parameters
    ----------
    posts : DataFrame
        Employee and organisation posts: ``post_uid, platform, account_type, author_key, department,
        published_at, text, url, shared_url`` and optionally the metrics ``reactions, comments, shares,
        clicks, saves, impressions, reach``.

    Returns
    -------
    DataFrame
        One row per amplifying employee post: ``post_uid``, ``org_post_uid``, ``matched_by``
        (``shared_url``, ``url_in_text`` or ``quoted_text``), ``platform``, ``org_platform``,
        ``author_key``, ``department``, ``published_at``, ``engagement`` (its reactions + comments +
        shares + clicks + saves) and ``audience`` (its reach, else impressions; NaN when the platform
        reports neither, as social-listening exports do not).

    Examples
    --------
    >>> posts = pd.DataFrame({
    ...     "post_uid": ["x:1", "x:2", "x:3"], "platform": "x",
    ...     "account_type": ["organization", "employee", "employee"], "author_key": [None, "p1", "p2"],
    ...     "department": [None, "Programs", "Finance"],
    ...     "published_at": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03"], utc=True),
    ...     "text": ["Our food bank fed 300 families this week. Thank you!", "Proud! https://twitter.com/org/status/1",
    ...              'Love this: "Our food bank fed 300 families this week."'],
    ...     "url": ["https://x.com/org/status/1", None, None], "shared_url": None, "reactions": [50, 4, 2]})
    >>> match_amplifications(posts)[["post_uid", "org_post_uid", "matched_by"]].values.tolist()
    [['x:2', 'x:1', 'url_in_text'], ['x:3', 'x:1', 'quoted_text']]
    """
    missing = [c for c in _POST_COLUMNS if c not in posts.columns]
    if missing:
        raise ValueError(f"match_amplifications: posts lack columns {missing}; pass the warehouse `posts` table.")
    columns = ["post_uid", "org_post_uid", "matched_by", "platform", "org_platform", "author_key", "department",
               "published_at", "engagement", "audience"]
    kind = posts["account_type"].astype(str)
    # two organisation posts with one URL: the latest wins (then the greater post_uid), whatever the row order
    org = posts[kind == "organization"].assign(_at=lambda f: pd.to_datetime(f["published_at"], utc=True))
    org = org.sort_values(["_at", "post_uid"], na_position="first", kind="stable")
    employee = posts[kind == "employee"]
    by_url = {normalise_url(u): uid for u, uid in zip(org["url"], org["post_uid"], strict=True) if normalise_url(u)}
    org_text = [(_normalise_quote(t) if isinstance(t, str) else "") for t in org["text"]]
    org_time = pd.to_datetime(org["published_at"], utc=True).to_numpy()
    org_uid, org_platform = org["post_uid"].to_numpy(), org["platform"].astype(str).to_numpy()
    found: dict[str, tuple[str, str]] = {}
    for uid, text, shared, platform, when in zip(employee["post_uid"], employee["text"], employee["shared_url"],
                                                 employee["platform"].astype(str),
                                                 pd.to_datetime(employee["published_at"], utc=True).to_numpy(),
                                                 strict=True):
        target = by_url.get(normalise_url(shared))
        if target is not None:
            found[uid] = (target, "shared_url")
            continue
        text = text if isinstance(text, str) else ""
        target = next((by_url[n] for n in map(normalise_url, _urls_in_text(text)) if n in by_url), None)
        if target is not None:
            found[uid] = (target, "url_in_text")
            continue
        for quote in (_normalise_quote(q) for q in _QUOTE.findall(text)):
            hits = [i for i, body in enumerate(org_text) if quote in body and not org_time[i] > when]
            if hits:
                # the latest earlier post, the same platform first
                best = max(hits, key=lambda i: (org_platform[i] == platform, org_time[i]))
                found[uid] = (org_uid[best], "quoted_text")
                break
    if not found:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    out = employee[employee["post_uid"].isin(list(found))].copy()
    out["org_post_uid"] = [found[u][0] for u in out["post_uid"]]
    out["matched_by"] = [found[u][1] for u in out["post_uid"]]
    out["org_platform"] = out["org_post_uid"].map(dict(zip(org_uid, org_platform, strict=True)))
    out["engagement"] = _engagement(out)
    out["audience"] = _audience(out)
    return out[columns].reset_index(drop=True)


_AMPLIFICATIONS_SQL = """
SELECT a.*, o.engagement AS org_engagement, o.audience AS org_audience
FROM amplifications a
LEFT JOIN (SELECT post_uid,
                  coalesce(reactions, 0) + coalesce(comments, 0) + coalesce(shares, 0) + coalesce(clicks, 0)
                      + coalesce(saves, 0) AS engagement,
                  CASE WHEN reach > 0 THEN reach WHEN impressions > 0 THEN impressions END AS audience
           FROM posts) o ON o.post_uid = a.org_post_uid
"""
_AMPLIFICATION_COLUMNS = ["post_uid", "org_post_uid", "author_key", "department", "platform", "month", "engagement",
                          "audience", "org_engagement", "org_audience"]


def amplification_reach(
    con_or_frames: Source = None,
    *,
    by: Sequence[str] | str = ("quarter",),
    k: int | None = None,
    warehouse_file: WarehouseFile = None,
) -> pd.DataFrame:
    """What employees' amplification adds to the organisation's own posts.

    Parameters
    ----------
    con_or_frames : DuckDB connection, mapping or None
        A warehouse connection (reads the derived ``amplifications`` table), ``None`` for the
        published warehouse, or ``{"amplifications": frame}`` with ``post_uid, org_post_uid,
        author_key, department, platform, month, engagement, audience, org_engagement, org_audience``.
    by : sequence of str
        Any of ``month``/``quarter`` and one of ``department``/``platform``; empty for one total.
    k : int, optional
        Grouped by department, groups with fewer than ``k`` amplifiers are suppressed.

    Returns
    -------
    DataFrame
        One row per group: the ``by`` columns, ``n_amplifications`` (employee posts sharing an
        organisation post), ``n_amplifiers`` (distinct employees), ``n_org_posts`` (distinct organisation
        posts amplified), ``org_engagement`` (the engagement those organisation posts earned themselves),
        ``extra_engagement`` (engagement on the employees' shares), ``engagement_lift`` (extra over own),
        ``extra_audience`` (reach or impressions of the shares where reported), ``n_with_audience``
        (shares reporting one: listening exports report none, so extra reach is often unknown) and
        ``suppressed``.

    Examples
    --------
    >>> amps = pd.DataFrame({"post_uid": ["e1", "e2"], "org_post_uid": ["o1", "o1"], "author_key": ["p1", "p2"],
    ...                      "department": "Programs", "platform": "x", "month": pd.Timestamp("2026-01-01"),
    ...                      "engagement": [5.0, 7.0], "audience": [np.nan, np.nan], "org_engagement": [40.0, 40.0],
    ...                      "org_audience": [900.0, 900.0]})
    >>> row = amplification_reach({"amplifications": amps}).iloc[0]
    >>> row["quarter"], int(row["n_amplifiers"]), float(row["engagement_lift"]), int(row["n_with_audience"])
    ('2026-Q1', 2, 0.3, 0)
    """
    by = _check_by(by)
    amps = fetch_frames(con_or_frames, {"amplifications": _AMPLIFICATIONS_SQL},
                        required={"amplifications": _AMPLIFICATION_COLUMNS},
                        warehouse_file=warehouse_file)["amplifications"]
    for kind in ("month", "quarter"):
        if kind in by:
            amps[kind] = period_labels(amps["month"], kind)
    columns = [*by, "n_amplifications", "n_amplifiers", "n_org_posts", "org_engagement", "extra_engagement",
               "engagement_lift", "extra_audience", "n_with_audience", "suppressed"]
    if amps.empty:
        return pd.DataFrame({c: pd.Series([], dtype=object if c in by else "float64") for c in columns})
    for column in ("engagement", "audience", "org_engagement"):
        amps[column] = pd.to_numeric(amps[column], errors="coerce").astype(float)
    # each organisation post's own engagement counts once per group, however often it was shared
    keys = [*by, "org_post_uid"]
    own = amps.drop_duplicates(keys).groupby(by, dropna=False)["org_engagement"].sum() if by else \
        pd.Series([amps.drop_duplicates("org_post_uid")["org_engagement"].sum()])
    groups = amps.groupby(by, dropna=False) if by else amps.groupby(np.zeros(len(amps)))
    table = groups.agg(n_amplifications=("post_uid", "size"), n_amplifiers=("author_key", "nunique"),
                       n_org_posts=("org_post_uid", "nunique"), extra_engagement=("engagement", "sum"),
                       extra_audience=("audience", lambda s: s.sum(min_count=1)),
                       n_with_audience=("audience", "count"))
    table["org_engagement"] = own.to_numpy()
    table = table.reset_index(drop=not by)
    with np.errstate(invalid="ignore", divide="ignore"):
        own_engagement = table["org_engagement"].where(table["org_engagement"] > 0)
        table["engagement_lift"] = table["extra_engagement"] / own_engagement
    values = ["n_amplifications", "n_org_posts", "org_engagement", "extra_engagement", "engagement_lift",
              "extra_audience", "n_with_audience"]
    if "department" in by:
        table = privacy.suppress_small_groups(table, by=by, n="n_amplifiers", values=values, k=k)
    else:
        table["suppressed"] = False
    return table[columns].reset_index(drop=True)


_EMPLOYEES_SQL = "SELECT employee_key, department, started_on, left_on, recognition_opt_in FROM employees"


def amplifier_share(
    con_or_frames: Source = None,
    *,
    period: str = "quarter",
    by: str | None = None,
    k: int | None = None,
    warehouse_file: WarehouseFile = None,
) -> pd.DataFrame:
    """Share of employees who amplified an organisation post at least once, per quarter or month.

    The denominator is everyone on the roster during the period (joined before its end, not left
    before its start) — including people with no public account, because the question is how much
    of the organisation takes part.

    Parameters
    ----------
    con_or_frames : DuckDB connection, mapping or None
        A warehouse connection, ``None`` for the published warehouse, or ``{"amplifications": frame with
        author_key, month; "employees": frame with employee_key, department, started_on, left_on}``.
    period : {"quarter", "month"}
        The period each share covers.
    by : {None, "department"}
        Grouped by department, departments with fewer than ``k`` employees (and complementary cells)
        are suppressed.

    Returns
    -------
    DataFrame
        One row per period (and department): ``period``, [``department``], ``n_people`` (on the roster),
        ``n_amplifiers``, ``amplifier_share``, ``ci_low``, ``ci_high`` (Wilson 95 %) and ``suppressed``.

    Examples
    --------
    >>> employees = pd.DataFrame({"employee_key": ["a", "b", "c", "d"], "department": "Programs",
    ...                           "started_on": pd.Timestamp("2020-01-01"), "left_on": pd.NaT})
    >>> amps = pd.DataFrame({"author_key": ["a", "a", "b"], "month": pd.Timestamp("2026-02-01")})
    >>> row = amplifier_share({"amplifications": amps, "employees": employees}).iloc[0]
    >>> row["period"], int(row["n_amplifiers"]), float(row["amplifier_share"])
    ('2026-Q1', 2, 0.5)
    """
    if period not in ("quarter", "month"):
        raise ValueError(f"period={period!r}: choose 'quarter' or 'month'.")
    if by not in (None, "department"):
        raise ValueError(f"by={by!r}: amplifier share is shown for everyone (None) or by 'department'.")
    frames = fetch_frames(con_or_frames, {"amplifications": "SELECT DISTINCT author_key, month FROM amplifications",
                                          "employees": _EMPLOYEES_SQL},
                          required={"amplifications": ["author_key", "month"],
                                    "employees": ["employee_key", "department", "started_on", "left_on"]},
                          warehouse_file=warehouse_file)
    return _amplifier_shares(frames, period=period, groupings=(by,), k=k)[by]


def _amplifier_shares(frames: Mapping[str, pd.DataFrame], *, period: str, groupings: tuple[str | None, ...],
                      k: int | None) -> dict[str | None, pd.DataFrame]:
    """:func:`amplifier_share` of checked ``frames`` for each of ``groupings``, the roster of each period
    joined once for all of them."""
    amps, employees = frames["amplifications"], frames["employees"]
    people = _roster_by_period(amps, employees, period) if not amps.empty else None
    return {by: _share_table(people, by, k) for by in groupings}


def _share_table(people: pd.DataFrame | None, by: str | None, k: int | None) -> pd.DataFrame:
    """The amplifier share per period (and ``by``) of :func:`_roster_by_period`'s rows (None: no amplification)."""
    keys = ["period", *([by] if by else [])]
    columns = [*keys, "n_people", "n_amplifiers", "amplifier_share", "ci_low", "ci_high", "suppressed"]
    if people is None:
        return pd.DataFrame({c: pd.Series([], dtype=object if c in keys else "float64") for c in columns})
    table = people.groupby(keys, dropna=False).agg(n_people=("employee_key", "nunique"),
                                                   n_amplifiers=("amplified", "sum")).reset_index()
    table["amplifier_share"] = table["n_amplifiers"] / table["n_people"]
    table["ci_low"], table["ci_high"] = wilson_interval(table["n_amplifiers"].to_numpy(float),
                                                        table["n_people"].to_numpy(float))
    if by:
        table = privacy.suppress_small_groups(table, by=keys, n="n_people",
                                              values=["n_amplifiers", "amplifier_share", "ci_low", "ci_high"], k=k)
    else:
        table["suppressed"] = False
    return table[columns].reset_index(drop=True)


def _roster_by_period(amps: pd.DataFrame, employees: pd.DataFrame, period: str) -> pd.DataFrame:
    """One row per period with amplifications and roster row on the roster during it (joined before its
    end, not left before its start), period by period in roster order: the roster's columns, ``amplified``
    (the row's employee key amplified in the period) and ``period``.

    Done as one interval join in numpy: a Python loop filtering the roster and matching keys for each
    period cost a build a second on a few years of months."""
    # labelled once per distinct month, not once per row
    month_of_amp, months = pd.factorize(amps["month"], use_na_sentinel=False)
    labels, label_of_month = np.unique(period_labels(pd.Series(months), period).to_numpy(dtype=object),
                                       return_inverse=True)
    label_of_amp = label_of_month[month_of_amp]
    # employee and author keys coded together (a missing key is a key too, as ``isin`` matches it)
    keys, _ = pd.factorize(pd.concat([employees["employee_key"], amps["author_key"]], ignore_index=True),
                           use_na_sentinel=False)
    key_of_employee, key_of_amp = keys[: len(employees)], keys[len(employees):]
    amplified = np.zeros((len(labels), int(keys.max()) + 1 if len(keys) else 0), dtype=bool)
    amplified[label_of_amp, key_of_amp] = True
    started = pd.to_datetime(employees["started_on"])
    left = pd.to_datetime(employees["left_on"])
    no_start, no_end = started.isna().to_numpy(), left.isna().to_numpy()
    on_roster = np.empty((len(labels), len(employees)), dtype=bool)
    for row, label in enumerate(labels):
        span = parse_period(label)
        on_roster[row] = ((no_start | (started < pd.Timestamp(span.end)).to_numpy())
                          & (no_end | (left >= pd.Timestamp(span.start)).to_numpy()))
    label_of_row, employee_of_row = np.nonzero(on_roster)
    people = employees.take(employee_of_row).reset_index(drop=True)
    people["amplified"] = amplified[label_of_row, key_of_employee[employee_of_row]]
    people["period"] = pd.array(labels[label_of_row], dtype="str")
    return people


_MISSION_POSTS_SQL = """
SELECT f.post_uid, f.account_type, f.month, p.text, p.clicks
FROM post_facts f JOIN posts p USING (post_uid)
WHERE f.account_type IN ('employee', 'organization')
"""


def mission_links(texts: Sequence[Any] | pd.Series, *, patterns: Mapping[str, Sequence[str]] | None = None,
                  ) -> pd.DataFrame:
    """Which mission pages each text links to.

    A text links to a page when it contains one of the page's URL fragments (case-insensitive). A text
    whose only links are shortened (t.co, lnkd.in...) links to :data:`SHORT_LINK_PAGE` instead.

    Parameters
    ----------
    texts : Series or sequence of str
        Post texts; a Series' index labels become ``text_index``.
    patterns : mapping, optional
        Page -> URL fragments; defaults to ``settings.mission_url_patterns``.

    Returns
    -------
    DataFrame
        One row per (text, page) link: ``text_index`` and ``page``.

    Examples
    --------
    >>> mission_links(["Give: riverbendtrust.org/donate", "Hi", "Go https://t.co/x1"],
    ...               patterns={"donate": ["riverbendtrust.org/donate"]}).values.tolist()
    [[0, 'donate'], [2, '(short link, target unknown)']]
    """
    patterns = dict(config.get_settings().mission_url_patterns if patterns is None else patterns)
    if not patterns:
        raise ValueError("No mission pages configured: set mission_url_patterns in data/settings.yml "
                         "(e.g. donate: [example.org/donate]).")
    series = texts if isinstance(texts, pd.Series) else pd.Series(list(texts), dtype=object)
    lowered_patterns = [(page, [fragment.lower() for fragment in fragments]) for page, fragments in patterns.items()]
    rows = []
    # plain lists: walking a str Series element by element is several times slower
    for label, text in zip(series.index.tolist(), series.tolist(), strict=True):
        if not isinstance(text, str):
            continue
        lowered = text.lower()
        pages = [page for page, fragments in lowered_patterns if any(f in lowered for f in fragments)]
        # a short link has a slash: most texts without a mission page are spared the regex
        if not pages and "/" in text and _SHORTENERS.search(text):
            pages = [SHORT_LINK_PAGE]
        rows += [(label, page) for page in pages]
    return pd.DataFrame(rows, columns=["text_index", "page"])


def mission_value(
    con_or_frames: Source = None,
    *,
    period: str | None = "month",
    patterns: Mapping[str, Sequence[str]] | None = None,
    total: bool = False,
    warehouse_file: WarehouseFile = None,
) -> pd.DataFrame:
    """Mission value in the organisation's own terms: posts linking to its mission pages and the clicks
    on them.

    A post links to a page when its text contains one of the page's URL fragments
    (``settings.mission_url_patterns``, e.g. ``donate: [riverbendtrust.org/donate]``). Clicks are the
    platform's clicks on the organisation's posts that carry the link — a proxy for visits, since a
    platform cannot say which link in a post was clicked. A post whose only links are shortened
    (t.co, lnkd.in...) is counted under :data:`SHORT_LINK_PAGE`: its target cannot be known from the
    export. Employees' posts are counted too; listening exports report no clicks for them. No
    advertising-equivalent "earned media value" is estimated.

    Parameters
    ----------
    con_or_frames : DuckDB connection, mapping or None
        A warehouse connection, ``None`` for the published warehouse, or ``{"posts": frame}`` with
        ``post_uid, account_type, month, text, clicks``.
    period : {"month", "quarter", None}
        ``None`` gives one row per page and source over all the data.
    patterns : mapping, optional
        Page -> URL fragments; defaults to ``settings.mission_url_patterns``.
    total : bool
        Also a row per (period and) source for :data:`ANY_MISSION_PAGE`: the posts linking to any mission
        page, each counted once (a post linking to two pages counts under each page's row). Short links
        are not in it: for the organisation it is the metric ``mission_clicks``.

    Returns
    -------
    DataFrame
        One row per (period,) page and source: [``period``], ``page``, ``source`` (``organisation`` or
        ``employees``), ``n_posts`` (posts linking to the page), ``n_reporting_clicks`` (of them, posts
        whose platform reports clicks) and ``clicks`` (their clicks; NaN when none reports clicks).

    Examples
    --------
    >>> posts = pd.DataFrame({"post_uid": ["a", "b", "c"], "account_type": ["organization"] * 2 + ["employee"],
    ...                       "month": pd.Timestamp("2026-01-01"), "clicks": [30, 12, np.nan],
    ...                       "text": ["Give today riverbendtrust.org/donate", "Join us https://t.co/abc",
    ...                                "Please give: riverbendtrust.org/donate"]})
    >>> out = mission_value({"posts": posts}, period=None, patterns={"donate": ["riverbendtrust.org/donate"]})
    >>> out[["page", "source", "n_posts", "clicks"]].values.tolist()[1:]
    [['donate', 'employees', 1, nan], ['donate', 'organisation', 1, 30.0]]
    >>> both = posts.assign(text=["Give or volunteer: riverbendtrust.org/donate riverbendtrust.org/volunteer",
    ...                           "", ""])
    >>> out = mission_value({"posts": both}, period=None, total=True,
    ...                     patterns={"donate": ["/donate"], "volunteer": ["/volunteer"]})
    >>> out[["page", "n_posts", "clicks"]].values.tolist()
    [['(any mission page)', 1, 30.0], ['donate', 1, 30.0], ['volunteer', 1, 30.0]]
    """
    if period not in ("month", "quarter", None):
        raise ValueError(f"period={period!r}: choose 'month', 'quarter' or None (all data).")
    posts = fetch_frames(con_or_frames, {"posts": _MISSION_POSTS_SQL},
                         required={"posts": ["post_uid", "account_type", "month", "text", "clicks"]},
                         warehouse_file=warehouse_file)["posts"]
    keys = (["period"] if period else []) + ["page", "source"]
    columns = [*keys, "n_posts", "n_reporting_clicks", "clicks"]
    links = mission_links(posts["text"].reset_index(drop=True), patterns=patterns)
    linked = posts.reset_index(drop=True).iloc[links["text_index"].to_numpy()].assign(page=links["page"].to_numpy())
    if linked.empty:
        return pd.DataFrame({c: pd.Series([], dtype=object if c in keys else "float64") for c in columns})
    if total:
        pages = linked[linked["page"] != SHORT_LINK_PAGE].drop_duplicates("post_uid")
        linked = pd.concat([linked, pages.assign(page=ANY_MISSION_PAGE)], ignore_index=True)
    linked["source"] = np.where(linked["account_type"].astype(str) == "organization", "organisation", "employees")
    if period:
        linked["period"] = period_labels(linked["month"], period)
    linked["clicks"] = pd.to_numeric(linked["clicks"], errors="coerce").astype(float)
    table = linked.groupby(keys, dropna=False).agg(n_posts=("post_uid", "nunique"),
                                                   n_reporting_clicks=("clicks", "count"),
                                                   clicks=("clicks", lambda s: s.sum(min_count=1))).reset_index()
    return table[columns].sort_values(keys, ignore_index=True)


_RECOGNITION_POSTS_SQL = """
SELECT f.post_uid, f.author_key, f.department, f.published_at, f.violation, f.sentiment_status, f.compound,
       f.engagement, t.theme, a.post_uid IS NOT NULL AS amplification
FROM post_facts f
LEFT JOIN post_themes t USING (post_uid)
LEFT JOIN amplifications a USING (post_uid)
WHERE f.account_type = 'employee'
"""
_RECOGNITION_POST_COLUMNS = ["post_uid", "author_key", "department", "published_at", "violation", "sentiment_status",
                             "compound", "engagement", "theme", "amplification"]
_OPTED_IN_SQL = """
SELECT e.employee_key, e.department, n.display_name
FROM employees e JOIN recognition_names n USING (employee_key)
WHERE e.recognition_opt_in
"""
_OPTED_IN_COLUMNS = ["employee_key", "department", "display_name"]

# The one definition of the recognition figures: those of each period's employee posts (``{posts}``, a query
# reading _RECOGNITION_POST_COLUMNS) by department and by author, in one scan, only the groups reaching
# Python. ``spans`` holds each period's local [start, end): a post belongs to the periods whose span holds its
# local time. The casts read frames given instead of a warehouse as the warehouse's types: naive or written
# instants (UTC), engagement that is no number (missing) and categorical keys (text, in text order).
_RECOGNITION_GROUPS_SQL = """
WITH spans AS (SELECT unnest($labels) AS period, unnest($starts)::TIMESTAMP AS span_start,
                      unnest($ends)::TIMESTAMP AS span_end),
p AS (
    SELECT timezone($timezone, published_at::TIMESTAMPTZ) AS local_time, author_key::VARCHAR AS author_key,
           department::VARCHAR AS department, violation, sentiment_status, compound,
           TRY_CAST(engagement AS DOUBLE) AS engagement, coalesce(list_contains($mission, theme), false) AS mission,
           amplification
    FROM ({posts}))
SELECT s.period, grouping(p.author_key) = 1 AS by_department, p.department, p.author_key,
       count(DISTINCT p.author_key) AS n_people, count(*) AS n_posts,
       count(*) FILTER (WHERE NOT p.violation) AS n_adherent,
       fsum(p.engagement) AS engagement_sum, count(p.engagement) AS engagement_n,
       fsum(p.compound) FILTER (WHERE p.sentiment_status = 'scored') AS sentiment_sum,
       count(p.compound) FILTER (WHERE p.sentiment_status = 'scored') AS sentiment_n,
       count(*) FILTER (WHERE p.mission) AS n_mission_stories,
       count(*) FILTER (WHERE p.amplification) AS n_amplifications
FROM p JOIN spans s ON p.local_time >= s.span_start AND p.local_time < s.span_end
GROUP BY GROUPING SETS ((s.period, p.department), (s.period, p.author_key))
ORDER BY s.period, by_department, p.department NULLS LAST, p.author_key NULLS LAST
"""
_RECOGNITION_FIGURES = ["n_people", "n_posts", "n_adherent", "engagement_per_post", "mean_sentiment",
                        "n_mission_stories", "n_amplifications"]
#: ``period=None``: a span holding every post of a known time.
_ALL_THE_DATA = Period("(all the data)", date.min, date.max)


def _recognition_groups(con: duckdb.DuckDBPyConnection, posts: str, spans: Sequence[Period]) -> pd.DataFrame:
    """The recognition figures of the employee posts ``posts`` (SQL reading _RECOGNITION_POST_COLUMNS) in each of
    ``spans`` (each once), by department (posts with one) and by author, counted by DuckDB: ``period`` (the
    span's label), ``by_department``, ``department``, ``author_key``, ``engagement_sum``, ``engagement_n`` and
    ``_RECOGNITION_FIGURES``, each period's groups in key order (missing last)."""
    groups = con.execute(_RECOGNITION_GROUPS_SQL.format(posts=posts), {
        "labels": [span.label for span in spans], "starts": [span.start for span in spans],
        "ends": [span.end for span in spans], "timezone": config.get_settings().timezone,
        "mission": list(load_taxonomy().mission_story_themes)}).df()
    with np.errstate(invalid="ignore", divide="ignore"):
        groups["engagement_per_post"] = groups["engagement_sum"] / groups["engagement_n"]
        groups["mean_sentiment"] = groups["sentiment_sum"] / groups["sentiment_n"]
    # team_recognition leaves out the posts of no department
    return groups[~(groups["by_department"] & groups["department"].isna())]


def _span(period: str | Period | None) -> Period:
    if period is None:
        return _ALL_THE_DATA
    return period if isinstance(period, Period) else parse_period(period)


_TEAM_COLUMNS = ["department", "n_people", "n_posts", "adherence_rate", "engagement_per_post", "mean_sentiment",
                 "mission_story_share", "n_amplifications", "org_adherence_rate", "org_engagement_per_post",
                 "recognised", "suppressed"]


def team_recognition(
    con_or_frames: Source = None,
    *,
    period: str | Period | None = None,
    min_sentiment: float = 0.05,
    k: int | None = None,
    warehouse_file: WarehouseFile = None,
) -> pd.DataFrame:
    """Departments that combine high adherence with strong, positive engagement (k-safe).

    A department is recognised when, over its employees' posts in the period, its adherence rate is
    at least the organisation's, its engagement per post at least the organisation's, and its posts'
    mean sentiment (VADER compound) at least ``min_sentiment``. Departments with fewer than ``k``
    authors (and complementary cells) are suppressed and never recognised. DuckDB counts the figures,
    whatever the input (frames are counted in a throwaway in-memory connection).

    Parameters
    ----------
    con_or_frames : DuckDB connection, mapping or None
        A warehouse connection, ``None`` for the published warehouse, or ``{"posts": frame}`` with
        ``post_uid, author_key, department, published_at, violation, sentiment_status, compound,
        engagement, theme, amplification`` (employee posts).
    period : str or Period, optional
        ``YYYY-Qn`` or ``YYYY-MM`` (local time); ``None`` for all the data (every post of a known time).
    min_sentiment : float
        The least mean compound counted as positive.
    k : int, optional
        Suppression threshold; defaults to the configured k.

    Returns
    -------
    DataFrame
        One row per department, recognised first: ``department``, ``n_people`` (authors), ``n_posts``,
        ``adherence_rate``, ``engagement_per_post``, ``mean_sentiment``, ``mission_story_share``,
        ``n_amplifications``, ``org_adherence_rate``, ``org_engagement_per_post`` (the bars),
        ``recognised`` and ``suppressed``.

    Examples
    --------
    >>> posts = pd.DataFrame({"post_uid": [f"p{i}" for i in range(12)],
    ...                       "author_key": [f"a{i % 6}" for i in range(12)],
    ...                       "department": ["Comms"] * 6 + ["Finance"] * 6,
    ...                       "published_at": pd.Timestamp("2026-01-05", tz="UTC"),
    ...                       "violation": [False] * 6 + [True, False] * 3, "sentiment_status": "scored",
    ...                       "compound": 0.5, "engagement": [20] * 6 + [5] * 6, "theme": "impact_story",
    ...                       "amplification": False})
    >>> team_recognition({"posts": posts}, k=3).set_index("department")["recognised"].to_dict()
    {'Comms': True, 'Finance': False}
    """
    with in_duckdb(con_or_frames, {"posts": _RECOGNITION_POSTS_SQL}, columns={"posts": _RECOGNITION_POST_COLUMNS},
                    warehouse_file=warehouse_file) as (con, reading):
        groups = _recognition_groups(con, reading["posts"], [_span(period)])
    return _teams(groups, min_sentiment=min_sentiment, k=k)


def _teams(groups: pd.DataFrame, *, min_sentiment: float, k: int | None) -> pd.DataFrame:
    """:func:`team_recognition` of one period's :func:`_recognition_groups`."""
    departments = groups[groups["by_department"]]
    if departments.empty:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in _TEAM_COLUMNS})
    table = departments[["department", *_RECOGNITION_FIGURES]].reset_index(drop=True)
    table["adherence_rate"] = table["n_adherent"] / table["n_posts"]
    table["mission_story_share"] = table["n_mission_stories"] / table["n_posts"]
    table["org_adherence_rate"] = table["n_adherent"].sum() / table["n_posts"].sum()
    # the mean engagement of the departments' posts; NaN, as the mean of none, when no post has one
    with np.errstate(invalid="ignore"):
        table["org_engagement_per_post"] = departments["engagement_sum"].sum() / departments["engagement_n"].sum()
    table["recognised"] = ((table["adherence_rate"] >= table["org_adherence_rate"])
                           & (table["engagement_per_post"] >= table["org_engagement_per_post"])
                           & (table["mean_sentiment"] >= min_sentiment))
    values = ["n_posts", "adherence_rate", "engagement_per_post", "mean_sentiment", "mission_story_share",
              "n_amplifications"]
    table = privacy.suppress_small_groups(table, by=["department"], n="n_people", values=values, k=k)
    table["recognised"] = table["recognised"] & ~table["suppressed"]
    table = table.sort_values(["recognised", "department"], ascending=[False, True])
    return table[_TEAM_COLUMNS].reset_index(drop=True)


def individual_recognition(
    con_or_frames: Source = None,
    *,
    period: str | Period | None = None,
    min_posts: int = 10,
    adherence_at_least: float = 0.95,
    engagement_ratio: float = 2.0,
    min_sentiment: float = 0.05,
    warehouse_file: WarehouseFile = None,
) -> pd.DataFrame:
    """Employees to recognise by name — only those who opted in to recognition.

    Only people the roster marks as opted in AND whose display name is in ``recognition_names`` are
    considered; nobody else can appear, and the display name is the only name shown. A person is
    recognised with at least ``min_posts`` posts in the period, an adherence rate of at least
    ``adherence_at_least``, engagement per post at least ``engagement_ratio`` times the median
    employee's (employees with ``min_posts`` posts or more) and a mean sentiment of at least
    ``min_sentiment``. The output deliberately carries no finding or adherence figure per person:
    leadership surfaces never list individuals' policy findings. DuckDB counts the figures, as for
    :func:`team_recognition`.

    Parameters
    ----------
    con_or_frames : DuckDB connection, mapping or None
        A warehouse connection, ``None`` for the published warehouse, or ``{"posts": frame as for
        team_recognition, "opted_in": frame with employee_key, department, display_name}``.
    period : str or Period, optional
        ``YYYY-Qn`` or ``YYYY-MM``; ``None`` for all the data (every post of a known time).

    Returns
    -------
    DataFrame
        One row per recognised person, most engaging first: ``employee_key``, ``display_name``,
        ``department``, ``n_posts``, ``engagement_per_post``, ``engagement_ratio`` (over the median
        employee), ``mean_sentiment``, ``n_mission_stories`` and ``n_amplifications``.

    Examples
    --------
    >>> posts = pd.DataFrame({"post_uid": [f"p{i}" for i in range(30)],
    ...                       "author_key": ["a"] * 10 + ["b"] * 10 + ["c"] * 10,
    ...                       "department": "Comms", "published_at": pd.Timestamp("2026-01-05", tz="UTC"),
    ...                       "violation": False, "sentiment_status": "scored", "compound": 0.6,
    ...                       "engagement": [40] * 10 + [4] * 10 + [6] * 10, "theme": "event", "amplification": False})
    >>> opted = pd.DataFrame({"employee_key": ["a"], "department": ["Comms"], "display_name": ["Ada L."]})
    >>> individual_recognition({"posts": posts, "opted_in": opted})["display_name"].tolist()
    ['Ada L.']
    """
    _check_people_options("individual_recognition", min_posts, adherence_at_least, engagement_ratio)
    with in_duckdb(con_or_frames, {"posts": _RECOGNITION_POSTS_SQL, "opted_in": _OPTED_IN_SQL},
                    columns={"posts": _RECOGNITION_POST_COLUMNS, "opted_in": _OPTED_IN_COLUMNS},
                    warehouse_file=warehouse_file) as (con, reading):
        groups = _recognition_groups(con, reading["posts"], [_span(period)])
        opted_in = con.execute(reading["opted_in"]).df()
    return _people(groups, opted_in, min_posts=min_posts, adherence_at_least=adherence_at_least,
                   engagement_ratio=engagement_ratio, min_sentiment=min_sentiment)


def _check_people_options(caller: str, min_posts: int, adherence_at_least: float, engagement_ratio: float) -> None:
    if min_posts < 1 or not 0 <= adherence_at_least <= 1 or engagement_ratio <= 0:
        raise ValueError(f"{caller}: min_posts must be >= 1, adherence_at_least in [0, 1] and engagement_ratio > 0.")


def _people(groups: pd.DataFrame, opted_in: pd.DataFrame, *, min_posts: int, adherence_at_least: float,
            engagement_ratio: float, min_sentiment: float) -> pd.DataFrame:
    """:func:`individual_recognition` of one period's :func:`_recognition_groups` and the opted-in people."""
    columns = ["employee_key", "display_name", "department", "n_posts", "engagement_per_post", "engagement_ratio",
               "mean_sentiment", "n_mission_stories", "n_amplifications"]
    authors = groups[~groups["by_department"]]
    opted = opted_in.dropna(subset=["display_name"]).drop_duplicates("employee_key")
    if authors.empty or opted.empty:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    regular = authors.loc[authors["n_posts"] >= min_posts, ["author_key", *_RECOGNITION_FIGURES]]
    median = float(regular["engagement_per_post"].median()) if len(regular) else np.nan
    # only opted-in people go further: nobody else is ever named or listed
    people = regular.merge(opted.rename(columns={"employee_key": "author_key", "department": "roster_department"}),
                           on="author_key", how="inner")
    people["engagement_ratio"] = people["engagement_per_post"] / median if median > 0 else np.nan
    chosen = people[(people["n_adherent"] / people["n_posts"] >= adherence_at_least)
                    & (people["engagement_ratio"] >= engagement_ratio)
                    & (people["mean_sentiment"] >= min_sentiment)]
    chosen = chosen.assign(employee_key=chosen["author_key"],
                           department=chosen["roster_department"])
    return chosen.sort_values("engagement_per_post", ascending=False)[columns].reset_index(drop=True)


def recognition_by_period(
    con: duckdb.DuckDBPyConnection,
    *,
    periods: Sequence[str],
    k: int | None = None,
    min_sentiment: float = 0.05,
    min_posts: int = 10,
    adherence_at_least: float = 0.95,
    engagement_ratio: float = 2.0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`team_recognition` and :func:`individual_recognition` of each period, from one scan of the
    warehouse: DuckDB counts each period's groups, and only those reach pandas (a surface showing every
    quarter need not convert a million posts).

    Parameters
    ----------
    con : DuckDB connection
        The warehouse (``post_facts``, ``post_themes``, ``amplifications``, ``employees``,
        ``recognition_names``).
    periods : sequence of str
        ``YYYY-Qn`` or ``YYYY-MM`` (local time), as :func:`~analytics.periods.parse_period` reads them.
    k, min_sentiment : optional
        As for :func:`team_recognition` (``min_sentiment`` for the people too).
    min_posts, adherence_at_least, engagement_ratio : optional
        As for :func:`individual_recognition`.

    Returns
    -------
    tuple of DataFrame
        The teams: every column of :func:`team_recognition` and ``period`` (the period's label, e.g.
        ``2026-Q1``), period by period in the order given; the people: every column of
        :func:`individual_recognition` and ``period``, likewise.

    Examples
    --------
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE post_facts AS SELECT 'p' || i AS post_uid, 'a' || (i % 6) AS author_key, "
    ...                 "'employee' AS account_type, CASE WHEN i % 6 < 3 THEN 'Comms' ELSE 'Finance' END AS "
    ...                 "department, TIMESTAMPTZ '2026-01-05 10:00:00+00' AS published_at, i % 6 >= 3 AND i % 2 = 0 "
    ...                 "AS violation, 'scored' AS sentiment_status, 0.5 AS compound, "
    ...                 "CASE WHEN i % 6 = 0 THEN 60.0 WHEN i % 6 < 3 THEN 20.0 ELSE 5.0 END AS engagement "
    ...                 "FROM range(12) t(i)")
    >>> _ = con.execute("CREATE TABLE post_themes AS SELECT post_uid, 'event' AS theme FROM post_facts")
    >>> _ = con.execute("CREATE TABLE amplifications (post_uid VARCHAR)")
    >>> _ = con.execute("CREATE TABLE employees AS SELECT 'a0' AS employee_key, 'Comms' AS department, "
    ...                 "true AS recognition_opt_in")
    >>> _ = con.execute("CREATE TABLE recognition_names AS SELECT 'a0' AS employee_key, 'Ada L.' AS display_name")
    >>> teams, people = recognition_by_period(con, periods=["2026-Q1"], k=3, min_posts=2)
    >>> teams[["period", "department", "recognised"]].values.tolist()
    [['2026-Q1', 'Comms', True], ['2026-Q1', 'Finance', False]]
    >>> people[["period", "display_name"]].values.tolist()
    [['2026-Q1', 'Ada L.']]
    """
    _check_people_options("recognition_by_period", min_posts, adherence_at_least, engagement_ratio)
    if not periods:
        raise ValueError("recognition_by_period: give at least one period (YYYY-Qn or YYYY-MM).")
    spans = [parse_period(period) for period in periods]
    # a period asked for twice is counted once
    groups = _recognition_groups(con, _RECOGNITION_POSTS_SQL, list({span.label: span for span in spans}.values()))
    opted_in = con.execute(_OPTED_IN_SQL).df()
    teams, people = [], []
    for period in [span.label for span in spans]:
        rows = groups[groups["period"] == period]
        teams.append(_teams(rows, min_sentiment=min_sentiment, k=k).assign(period=period))
        people.append(_people(rows, opted_in, min_posts=min_posts, adherence_at_least=adherence_at_least,
                              engagement_ratio=engagement_ratio, min_sentiment=min_sentiment).assign(period=period))
    return pd.concat(teams, ignore_index=True), pd.concat(people, ignore_index=True)
