"""The build stage: derive every table the surfaces read, incrementally, in one transaction.

Steps (each prints progress): retention, sentiment (only texts not yet scored), policy findings (only
posts not yet scanned with the current rules), amplifications, dismissals, survey construct scores,
incident timings, post facts, content themes (only posts not yet themed with the current taxonomy; a share
takes the theme of the post it shares), monthly and wave metrics (suppression applied), then a snapshot for
the surfaces. A process that keeps workers (``policy-pulse watch``) has an update's few texts scored and
scanned by them while it matches the amplifications.
"""

from __future__ import annotations

import functools
import hashlib
import operator
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from analytics import __version__, config, sentiment, snapshots, warehouse

__all__ = ["BuildSummary", "PostsAsBuilt", "build", "posts_as_built"]

PAUSE_ENV = "POLICY_PULSE_TEST_PAUSE_IN_BUILD"


@dataclass
class BuildSummary:
    """What one build derived: rows per step and seconds taken."""

    steps: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def __str__(self) -> str:
        lines = [f"  {name:<28} {count:>9}" for name, count in self.steps.items()]
        return "Derived:\n" + "\n".join(lines) + f"\nin {self.seconds:.1f} s"


def _rules_version() -> str:
    text = config.POLICY_RULES_PATH.read_bytes() if config.POLICY_RULES_PATH.exists() else b""
    return hashlib.sha256(text).hexdigest()[:12]


@dataclass(frozen=True)
class PostsAsBuilt:
    """What :func:`posts_as_built` found: the last build's end of the posts (``end``; None before the first
    build, or when a row before it is not as the build left it) and the number of rows before it."""

    end: int | None
    rows: int


def posts_as_built(con: duckdb.DuckDBPyConnection) -> PostsAsBuilt:
    """Whether the posts before the last build's end are still the rows its ``post_state`` describes (by
    count and sum of the rows' keys: one pass over every post's columns).

    A writer that then only deletes and appends posts (an ingest) may check this while it reads its files,
    and give the result to :func:`build` on the same open database: the build need then only count the rows
    before the end to know that nothing but appends happened (see :func:`_appended_rows`).
    """
    never_built = not con.execute("""SELECT count(*) FROM duckdb_tables()
                                      WHERE database_name = current_database() AND table_name = 'build_state'"""
                                   ).fetchone()[0]
    end = None if never_built else _state(con, "posts_end")
    if end is None:
        return PostsAsBuilt(None, 0)
    rows, same = con.execute(
        f"""SELECT count(*), (count(*), sum(hash(post_uid, {_ROW_FP})))
                                IS NOT DISTINCT FROM (SELECT (count(*), sum(row_key)) FROM post_state)
            FROM posts WHERE rowid < $end""", {"end": int(end)}).fetchone()
    return PostsAsBuilt(int(end) if same else None, rows)


def build(
    *,
    warehouse_file: str | os.PathLike[str] | None = None,
    progress: Callable[[str], None] | None = None,
    connection: duckdb.DuckDBPyConnection | None = None,
    checked: PostsAsBuilt | None = None,
    delete_old_snapshot: bool = False,
) -> BuildSummary:
    """Derive the surfaces' tables from the canonical ones; a second build with no new data does
    almost nothing (every step works on the posts that are new or changed since the last build).

    ``connection``: a read-write connection to the warehouse (from :func:`analytics.warehouse.connect`)
    to build on instead of opening one; the build closes it. ``checked``: :func:`posts_as_built` of this
    database, found since it was opened, with nothing but deletions and appends of posts after it (the
    ``update`` command's ingest). ``delete_old_snapshot``: delete the snapshot this build's replaces at once
    (an erasure's build: no copy of the person's rows is left behind).
    """
    say = progress or (lambda _message: None)
    started = time.perf_counter()
    summary = BuildSummary()
    settings = config.get_settings()
    target = config.warehouse_path(warehouse_file)
    if connection is None and not target.exists():  # a mistyped path would otherwise become an empty warehouse
        raise warehouse.WarehouseMissing(f"No warehouse at {target}: nothing to build. Load exports into it first: "
                                         f"`policy-pulse ingest PATH... --warehouse {target}` (or `update`).")
    con = connection if connection is not None else warehouse.connect(target)
    con.execute(f"SET memory_limit = '{warehouse.BUILD_MEMORY_LIMIT}'")
    try:
        con.execute("BEGIN TRANSACTION")
        _ensure_derived(con)
        if settings.retention_months:
            say("retention")
            summary.steps["rows dropped (retention)"] = _apply_retention(con, settings.retention_months)
        say("post changes")
        full = _post_changes(con, settings.timezone, checked)
        say("sentiment")
        scored = _sentiment(con)
        say("policy findings")
        scanned = _findings(con, full=full)
        say("amplifications")
        summary.steps["amplifications"] = _amplifications(con, settings.timezone, full=full)
        summary.steps["texts newly scored"] = scored()
        summary.steps["posts newly scanned"] = scanned()
        summary.steps["findings dismissed"] = _dismissals(con)
        moved = _survey_waves(con, settings)
        if moved is not None:
            summary.steps["responses given another wave"] = moved
        _pause_for_tests()
        inputs = _input_fingerprints(con)
        say("survey construct scores")
        summary.steps["construct scores"] = _construct_scores(con, inputs)
        say("incident timings")
        summary.steps["incident timings"] = _incident_timings(con)
        say("post facts")
        summary.steps["post facts"] = _post_facts(con, settings.timezone, full=full)
        say("content themes")
        summary.steps["posts newly themed"] = _post_themes(con, full=full)
        _share_themes(con)
        say("monthly metrics")
        summary.steps["monthly + quarterly metrics"] = _monthly_metrics(con, settings, inputs)
        for done in _DONE_TABLES:
            _set_state(con, f"done:{done}", _done_print(con, done))
        summary.seconds = time.perf_counter() - started
        con.execute(
            "INSERT INTO build_log VALUES (?, ?, ?, ?)",
            [datetime.now(UTC), summary.seconds, __version__, str(summary.steps)],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        con.close()
        raise
    say("publishing snapshot")
    snapshots.publish_snapshot(con, target, delete_old=delete_old_snapshot)
    summary.seconds = time.perf_counter() - started
    return summary


def _pause_for_tests() -> None:
    if os.environ.get(PAUSE_ENV):
        print("PAUSED in build", flush=True)
        time.sleep(3600)


_DERIVED_DDL = """
CREATE TABLE IF NOT EXISTS sentiment (text_hash VARCHAR, scorer_version VARCHAR, status VARCHAR,
    neg DOUBLE, neu DOUBLE, pos DOUBLE, compound DOUBLE);
CREATE TABLE IF NOT EXISTS post_scans (post_uid VARCHAR, text_hash VARCHAR, rules_version VARCHAR,
    done_key UBIGINT);
CREATE TABLE IF NOT EXISTS post_findings (post_uid VARCHAR, rule_id VARCHAR, area VARCHAR, severity VARCHAR,
    evidence_redacted VARCHAR, dismissed BOOLEAN, dismissal_reason VARCHAR);
CREATE TABLE IF NOT EXISTS construct_scores (response_id VARCHAR, construct VARCHAR, score DOUBLE, n_items INTEGER);
CREATE TABLE IF NOT EXISTS incident_timings (incident_id VARCHAR, area VARCHAR, severity VARCHAR, detection VARCHAR,
    department VARCHAR, month DATE, hours_to_report DOUBLE, hours_to_resolve DOUBLE);
CREATE TABLE IF NOT EXISTS post_themes (post_uid VARCHAR, text_hash VARCHAR, taxonomy_version VARCHAR,
    text_theme VARCHAR, theme VARCHAR, done_key UBIGINT);
CREATE TABLE IF NOT EXISTS build_log (built_at TIMESTAMPTZ, seconds DOUBLE, tool_version VARCHAR, steps VARCHAR);
CREATE TABLE IF NOT EXISTS post_state (post_uid VARCHAR, text_fp UBIGINT, text_hash VARCHAR, row_fp UBIGINT,
    link_fp UBIGINT, row_key UBIGINT);
CREATE TABLE IF NOT EXISTS amplification_keys (post_uid VARCHAR, kind VARCHAR, pos INTEGER, key UBIGINT);
CREATE TABLE IF NOT EXISTS amplification_org (post_uid VARCHAR, platform VARCHAR, published_at TIMESTAMPTZ,
    url_key UBIGINT, body VARCHAR);
CREATE TABLE IF NOT EXISTS build_state (name VARCHAR, value VARCHAR);
"""

#: The key of a row of a table :func:`_posts_to_redo` completes (its ``done_key``): the order-free print of
#: those keys tells whether anyone added or removed rows since the last build.
_DONE_KEY = "hash(post_uid, text_hash)"
#: The key of a post's row in ``post_state`` (its ``row_key``), set against the posts' to find the changed ones.
_STATE_KEY = "hash(post_uid, row_fp)"

#: Bumped when the meaning of the build's own bookkeeping tables changes: everything is then redone.
_STATE_VERSION = "2"


#: Columns the build keeps beside its own rows, so that a check of every row reads one number per row instead
#: of strings; warehouses built before a column existed get it filled (the values it would have been written
#: with, so no work is redone).
_KEY_COLUMNS = {("post_scans", "done_key"): _DONE_KEY, ("post_themes", "done_key"): _DONE_KEY,
                ("post_state", "row_key"): _STATE_KEY}


def _ensure_derived(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(_DERIVED_DDL)
    present = set(con.execute("""SELECT table_name, column_name FROM duckdb_columns()
                                 WHERE database_name = current_database() AND column_name IN ('done_key', 'row_key')"""
                              ).fetchall())
    for (table, column), key in _KEY_COLUMNS.items():
        if (table, column) not in present:
            con.execute(f"ALTER TABLE {table} ADD COLUMN {column} UBIGINT")
            con.execute(f"UPDATE {table} SET {column} = {key}")


def _state(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    row = con.execute("SELECT value FROM build_state WHERE name = ?", [name]).fetchone()
    return row[0] if row else None


def _set_state(con: duckdb.DuckDBPyConnection, name: str, value: str) -> None:
    con.execute("DELETE FROM build_state WHERE name = ?", [name])
    con.execute("INSERT INTO build_state VALUES (?, ?)", [name, value])


# Every column post_facts and amplifications take from a post: a change in any of them redoes the post.
_ROW_FP = ("hash(platform, account_type, account_key, author_key, department, published_at, text, impressions, "
           "reach, reactions, comments, shares, clicks, saves, is_share, url, shared_url)")
# What decides whether a post amplifies (or is amplified by) another.
_LINK_FP = "hash(account_type, platform, published_at, text, url, shared_url)"


#: Up to this share of the posts changed, only the changed rows are read whole to tell what changed.
_FEW_CHANGES = 0.1


def _post_changes(con: duckdb.DuckDBPyConnection, tz: str, checked: PostsAsBuilt | None = None) -> bool:
    """Find the posts that are new, changed or gone since the last build (temporary tables ``_changed``:
    post_uid, text_changed, link_changed, text_hash, ``row``, the post's rowid in ``posts``, through which the
    texts of a few posts are read without scanning every text, and ``new``; ``_gone``: post_uid) and keep
    ``post_state`` (each post's SHA-256 text hash and change fingerprints) current.

    ``new``: the post has no row in ``post_state``, hence none in any table keyed by post that a build
    fills (post_scans, post_findings, post_themes, post_facts, amplification_keys, amplification_org: a
    build writes their rows only for posts it records here, erasure deletes a post's rows from all of them
    together, and a post that went is in ``_gone``, whose rows every step deletes), so the steps need not
    look for its old rows. Never set when everything is redone (``post_state`` was emptied, the other
    tables were not; the posts that went meanwhile are found through the kept scan and theme rows).

    A cheap 64-bit hash of each row finds the changes, so the SHA-256 of a text, the key of the
    sentiment cache and of the scans, is computed once per new text instead of for every post in every
    build. Returns True when everything must be redone (first build, or the time zone, scorer, DuckDB
    version or this bookkeeping changed)."""
    version = f"{_STATE_VERSION}|{tz}|{sentiment.SCORER_VERSION}|{duckdb.__version__}"
    full = _state(con, "post_state_version") != version
    if full:
        con.execute("DELETE FROM post_state")
        con.execute("DELETE FROM amplification_keys")
        con.execute("DELETE FROM amplification_org")
        _set_state(con, "post_state_version", version)
    # one pass over the posts, joined once with the last state: what changed or went, and the SHA-256 of
    # each new text computed in that pass (only for rows whose text changed)
    new_rows = old_rows = "true"
    appended = None if full else _appended_rows(con, checked)
    if appended is not None:
        new_rows, old_rows = appended, "false"
    elif not full:
        # each row's hash with its post_uid is set against the last state's by joins on those numbers alone
        # (no hash table of every post_uid); when few differ, only they are read whole and paired by post_uid
        # one join finds both: the rows of posts whose key the state lacks, and the state's rows no post has
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _unpaired AS
                        SELECT n.row AS new_row, w.row AS old_row
                        FROM (SELECT rowid AS row, hash(post_uid, {_ROW_FP}) AS key FROM posts) n
                        FULL OUTER JOIN (SELECT rowid AS row, row_key AS key FROM post_state) w
                            USING (key)
                        WHERE n.row IS NULL OR w.row IS NULL""")
        (new, now), = con.execute("SELECT (SELECT count(new_row) FROM _unpaired), (SELECT count(*) FROM posts)"
                                  ).fetchall()
        if new <= now * _FEW_CHANGES:
            new_rows = "rowid IN (SELECT new_row FROM _unpaired WHERE new_row IS NOT NULL)"
            old_rows = "rowid IN (SELECT old_row FROM _unpaired WHERE old_row IS NOT NULL)"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _diff AS
            SELECT coalesce(c.post_uid, s.post_uid) AS post_uid, c.post_uid IS NULL AS gone, c.row,
                   s.post_uid IS NULL AND NOT $full AS new, s.state_row,
                   s.text_fp IS DISTINCT FROM c.text_fp AS text_changed,
                   s.link_fp IS DISTINCT FROM c.link_fp AS link_changed, c.row_fp, c.link_fp, c.text_fp,
                   CASE WHEN s.text_fp IS DISTINCT FROM c.text_fp THEN sha256(coalesce(c.text, ''))
                        ELSE coalesce(s.text_hash, '') END AS text_hash
            FROM (SELECT post_uid, rowid AS row, text, hash(text) AS text_fp, {_ROW_FP} AS row_fp,
                         {_LINK_FP} AS link_fp
                  FROM posts WHERE {new_rows}) c
            FULL OUTER JOIN (SELECT rowid AS state_row, * FROM post_state WHERE {old_rows}) s ON s.post_uid = c.post_uid
            WHERE c.post_uid IS NULL OR s.row_fp IS DISTINCT FROM c.row_fp OR s.link_fp IS DISTINCT FROM c.link_fp""",
        {"full": full}
    )
    con.execute("DROP TABLE IF EXISTS _unpaired")
    con.execute("CREATE OR REPLACE TEMP TABLE _gone AS SELECT post_uid FROM _diff WHERE gone")
    if full:
        # the emptied state knows no post that went: those the kept scan and theme rows still name went since
        # the last build, and go from every table as any gone post does (else, back one day, they count as new)
        con.execute("""INSERT INTO _gone SELECT DISTINCT post_uid
                       FROM (SELECT post_uid FROM post_scans UNION ALL SELECT post_uid FROM post_themes)
                       ANTI JOIN posts USING (post_uid)""")
    # a view, not a copy: a temporary table dropped or replaced within the build's transaction keeps its
    # memory until the commit (a first build's copy of every post would be 110 MB more to spill)
    con.execute("""CREATE OR REPLACE TEMP VIEW _changed AS
                   SELECT post_uid, text_changed, link_changed, text_hash, row, new FROM _diff WHERE NOT gone""")
    # the state's rows of changed and gone posts were joined above: deleted by rowid, without a scan of every
    # post_uid (a post has one row: it is deleted before it is written)
    if con.execute("SELECT count(state_row) FROM _diff").fetchone()[0]:
        con.execute("DELETE FROM post_state WHERE rowid IN (SELECT state_row FROM _diff WHERE state_row IS NOT NULL)")
    con.execute(f"""INSERT INTO post_state SELECT post_uid, text_fp, text_hash, row_fp, link_fp, {_STATE_KEY}
                    FROM _diff WHERE NOT gone""")
    _set_state(con, "posts_end", str(con.execute("SELECT coalesce(max(rowid) + 1, 0) FROM posts").fetchone()[0]))
    # the SHA-256 hashes of texts newly scored in this build (their posts' facts are redone)
    con.execute("CREATE OR REPLACE TEMP TABLE _scored (text_hash VARCHAR)")
    # posts whose findings changed in this build (rescanned, dismissed or restored)
    con.execute("CREATE OR REPLACE TEMP TABLE _refound (post_uid VARCHAR)")
    # the post-level tables the period metrics read that this build changed
    con.execute("CREATE OR REPLACE TEMP TABLE _dirty (step VARCHAR)")
    # posts whose theme rows were redone in this build (see :func:`_share_themes`), and the prints the done
    # tables will have after it (see :func:`_posts_to_redo`)
    con.execute("CREATE OR REPLACE TEMP TABLE _touched (post_uid VARCHAR)")
    con.execute("CREATE OR REPLACE TEMP TABLE _done_prints (done VARCHAR, print VARCHAR)")
    return full


def _changed_rows(columns: str, *, where: str = "true") -> str:
    """A subquery of the ``posts`` rows of the changed posts (the rows of ``_changed`` meeting ``where``), with
    their rowid as ``row`` and ``columns``: picked by rowid, so no hash table of every post_uid is built."""
    return f"(SELECT rowid AS row, {columns} FROM posts WHERE rowid IN (SELECT row FROM _changed WHERE {where}))"


def _appended_rows(con: duckdb.DuckDBPyConnection, checked: PostsAsBuilt | None = None) -> str | None:
    """The posts added since the last build as a condition on rowid, when that is all that changed: the rows
    before the last build's end (``posts_end``) are then, by count and sum of keys, the rows ``post_state``
    describes. None when something else changed (a row was edited or deleted, or DuckDB renumbered rows):
    the state and the posts are then paired row by row. One pass over the posts' hashes, without the join,
    unless ``checked`` (see :func:`build`) made it already: the rows before the end, counted again, then
    tell whether a row was deleted since (its writer edits none)."""
    end = _state(con, "posts_end")
    if end is None:
        return None
    if checked is not None and checked.end == int(end):
        rows = con.execute("SELECT count(*) FROM posts WHERE rowid < ?", [checked.end]).fetchone()[0]
        if rows == checked.rows:
            return f"rowid >= {checked.end}"
    return f"rowid >= {int(end)}" if posts_as_built(con).end is not None else None


def _apply_retention(con: duckdb.DuckDBPyConnection, months: int) -> int:
    cutoff = f"now() - INTERVAL {int(months)} MONTH"
    dropped = 0
    for table, column in (("posts", "published_at"), ("audience_comments", "published_at")):
        dropped += con.execute(f"DELETE FROM {table} WHERE {column} < {cutoff}").fetchone()[0]
    # a dropped post's findings hold evidence from its text: they go with it
    for table in ("post_findings", "post_scans"):
        con.execute(f"DELETE FROM {table} WHERE post_uid NOT IN (SELECT post_uid FROM posts)")
    old = f"SELECT response_id FROM respondents WHERE coalesce(submitted_at, started_at) < {cutoff}"
    for table in ("survey_answers", "survey_comments"):
        dropped += con.execute(f"DELETE FROM {table} WHERE response_id IN ({old})").fetchone()[0]
    dropped += con.execute(f"DELETE FROM respondents WHERE response_id IN ({old})").fetchone()[0]
    return dropped


def _sentiment(con: duckdb.DuckDBPyConnection) -> Callable[[], int]:
    """Score the texts the cache lacks: of posts, only those whose text changed in this build (a new
    scorer version redoes every post, see :func:`_post_changes`); comments are few and checked whole,
    unless their texts and the cache are as the last build left them. Returns the function that finishes
    the step (the scores of a few texts may still be on their way: :func:`sentiment.begin_cache_update`)
    and gives the number of texts newly scored."""
    printed = _comments_print(con)
    comments = "" if _state(con, "scored_comments") == printed else """
            UNION SELECT text FROM audience_comments
            WHERE text IS NOT NULL AND sha256(text) NOT IN (SELECT text_hash FROM cached)
            UNION SELECT text FROM survey_comments
            WHERE text IS NOT NULL AND sha256(text) NOT IN (SELECT text_hash FROM cached)"""
    texts = con.execute(
        f"""
        WITH changed AS (
            SELECT p.text, c.text_hash FROM _changed c
            JOIN {_changed_rows('text')} p USING (row)
            WHERE c.text_changed AND p.text IS NOT NULL),
        cached AS (SELECT text_hash FROM sentiment WHERE scorer_version = $version),
        texts AS (
            -- the changed posts' hashes are picked out of the cache first: no hash table of every cached one
            SELECT text FROM changed WHERE text_hash NOT IN (
                SELECT text_hash FROM cached
                WHERE text_hash IN (SELECT text_hash FROM _changed WHERE text_changed)){comments})
        SELECT DISTINCT text, sha256(text) AS text_hash FROM texts
        """,
        {"version": sentiment.SCORER_VERSION},
    ).df()
    store = None
    if not texts.empty:
        with warehouse.registered(con, "_texts", texts):
            con.execute("INSERT INTO _scored SELECT text_hash FROM _texts")
        # distinct texts the cache lacks: not hashed nor looked up again
        store = sentiment.begin_cache_update(con, texts["text"].tolist(), missing=texts["text_hash"].tolist())

    def finish() -> int:
        scored = store() if store is not None else 0
        # the print changes only with what was scored (the comments themselves are not written here)
        _set_state(con, "scored_comments", _comments_print(con) if scored else printed)
        return scored

    return finish


def _comments_print(con: duckdb.DuckDBPyConnection) -> str:
    """The comments' texts (count and order-free hash) and the number of cached scores of this scorer:
    while the cache only grows, equal prints mean every comment is still scored."""
    return str(con.execute(
        """SELECT (SELECT (count(*), bit_xor(hash(text))) FROM audience_comments),
                  (SELECT (count(*), bit_xor(hash(text))) FROM survey_comments),
                  (SELECT count(*) FROM sentiment WHERE scorer_version = ?)""",
        [sentiment.SCORER_VERSION]).fetchone())


def _findings(con: duckdb.DuckDBPyConnection, *, full: bool) -> Callable[[], int]:
    """Scan new or changed posts with the current rules. The texts' content themes are found in the same
    pass, on both cores (see :class:`adherence.ParallelScan`), and left in the temporary table
    ``_text_themes`` for :func:`_post_themes`, which then need not read the texts again. Returns the function
    that finishes the step (a kept worker may still be scanning a few texts:
    :meth:`adherence.ParallelScan.scan_later`) and gives the number of posts scanned."""
    from analytics import adherence, themes

    version = _rules_version()
    # every writer (this build, erasure, retention) deletes a post's findings with its scan: findings without
    # a scan are left only by scans of other rules deleted here
    if con.execute("DELETE FROM post_scans WHERE rules_version <> ?", [version]).fetchone()[0]:
        con.execute("DELETE FROM post_findings WHERE post_uid NOT IN (SELECT post_uid FROM post_scans)")
    total = _posts_to_redo(con, done="post_scans", clear=("post_findings", "post_scans"), full=full)
    taxonomy = themes.load_taxonomy()
    con.execute("""CREATE OR REPLACE TEMP TABLE _text_themes
                   (text_hash VARCHAR, taxonomy_version VARCHAR, theme VARCHAR)""")
    # a post's scan row does not depend on what the scan finds
    con.execute(f"""INSERT INTO post_scans (post_uid, text_hash, rules_version, done_key)
                    SELECT post_uid, text_hash, ?, {_DONE_KEY} FROM _todo""", [version])
    if not full:  # a full build redoes every post's facts
        con.execute("INSERT INTO _refound SELECT post_uid FROM _todo")
    waiting = []
    with adherence.parallel_scan(adherence.load_rules(), taxonomy) as scan:
        if total >= adherence.PARALLEL_MIN_TEXTS:
            scan.start()  # its start-up overlaps the gathering of the texts
        for batch in _todo_batches(con, _todo_texts(con)):
            scanned = scan.scan_later(batch["text"].tolist(), batch["employee_post"].tolist(),
                                      themed=_any_unthemed(con, batch, taxonomy.version))
            if scanned.done():  # stored now: a big build holds one batch in memory at a time
                _store_scan(con, batch, *scanned.result(), taxonomy_version=taxonomy.version)
            else:
                waiting.append((batch, scanned))
    if not waiting:  # a first build's tables of every post go now
        _drop_todo(con)

    def finish() -> int:
        for batch, scanned in waiting:
            _store_scan(con, batch, *scanned.result(), taxonomy_version=taxonomy.version)
        if waiting:
            _drop_todo(con)
        return total

    return finish


def _store_scan(con: duckdb.DuckDBPyConnection, batch: pd.DataFrame, found: pd.DataFrame,
                text_themes: list[str] | None, *, taxonomy_version: str) -> None:
    """Write what the scan of ``batch`` (of :func:`_todo_batches`) found: its posts' findings, and its texts'
    themes, if any, to ``_text_themes``."""
    if text_themes is not None:
        _insert(con, "_text_themes", pd.DataFrame({"text_hash": batch["text_hash"],
                                                   "taxonomy_version": taxonomy_version,
                                                   "theme": pd.Series(text_themes, dtype="str")}))
    if not found.empty:
        # every post of a text gets the text's findings, in rule order
        found = found.assign(text_id=batch["text_id"].to_numpy()[found["text_index"].to_numpy()],
                             position=np.arange(len(found)))
        with warehouse.registered(con, "_found", found):
            con.execute("""INSERT INTO post_findings (post_uid, rule_id, area, severity, evidence_redacted,
                                                      dismissed, dismissal_reason)
                           SELECT p.post_uid, f.rule_id, f.area, f.severity, f.evidence_redacted, false, NULL
                           FROM _found f JOIN _todo_posts p USING (text_id) ORDER BY p.post_uid, f.position""")


#: Below this many texts a scan batch is themed without asking which of its texts :func:`_post_themes`
#: needs: theming 10k texts costs ~0.06 CPU s, asking a million-post warehouse ~0.08.
_THEME_UNASKED = 10_000


def _any_unthemed(con: duckdb.DuckDBPyConnection, batch: pd.DataFrame, version: str) -> bool:
    """Whether a text of the scan's ``batch`` has no theme of taxonomy ``version`` in ``post_themes``. A
    small batch is themed without asking (see :data:`_THEME_UNASKED`)."""
    if len(batch) < _THEME_UNASKED:
        return True
    # the batch's hashes are picked out of post_themes first: no hash table of every post's
    return con.execute("""SELECT count(*) FROM _todo_texts WHERE text_id BETWEEN $1 AND $2
                          AND text_hash NOT IN (
                              SELECT text_hash FROM post_themes WHERE taxonomy_version = $3
                              AND text_hash IN (SELECT text_hash FROM _todo_texts WHERE text_id BETWEEN $1 AND $2))""",
                       [int(batch["text_id"].min()), int(batch["text_id"].max()), version]).fetchall()[0][0] > 0


# a missing flag scans as False: one text for both
_EMPLOYEE_POST = "coalesce(account_type = 'employee', false) AS employee_post"

#: Distinct texts to scan or theme fetched per batch: a first build holds one batch in memory, not every
#: text.
_TODO_BATCH = 150_000


def _posts_to_redo(con: duckdb.DuckDBPyConnection, *, done: str, clear: tuple[str, ...], full: bool) -> int:
    """Count the posts whose current text has no row in ``done`` (keyed by post_uid and text hash): new
    posts and posts whose text changed; they are left in the temporary table ``_todo`` (post_uid,
    text_hash, row, employee_post) for :func:`_todo_texts`. Their stale rows in ``clear`` are
    deleted, and those of gone posts (a gone post's findings hold evidence from its text)."""
    count, digest = _done_numbers(con, done)
    fast = _state(con, f"done:{done}") == _print(count, digest)
    if fast:
        # every post had its row in ``done`` when the last build ended (see :func:`build`), and ``done`` is as
        # it was then: only the posts whose row changed since (``_changed``) can lack one. Their rows are
        # picked out first, so no hash table holds every post
        # a new post has no row in ``done`` (see :func:`_post_changes`): with only new posts, none is looked for
        old = con.execute("SELECT count(*) FROM _changed WHERE NOT new").fetchone()[0]
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _done_rows AS SELECT post_uid, text_hash FROM {done}
                        WHERE {'post_uid IN (SELECT post_uid FROM _changed WHERE NOT new)' if old else 'false'}""")
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _todo AS
                SELECT c.post_uid, c.text_hash, c.row, {_EMPLOYEE_POST} FROM _changed c
                JOIN {_changed_rows('account_type')} p USING (row)
                LEFT JOIN _done_rows d ON d.post_uid = c.post_uid AND d.text_hash = c.text_hash
                WHERE d.post_uid IS NULL"""
        )
        # new posts have no stale rows: ``done`` holds none of them, and neither do the other tables to clear
        # (a post's findings are written with its scan and deleted with it)
        stale = con.execute("SELECT count(*) FROM _done_rows WHERE post_uid IN (SELECT post_uid FROM _todo)"
                            ).fetchone()[0]
        con.execute("DROP TABLE _done_rows")
    else:
        # a full build changed every post (``post_state`` was just written from ``_changed``): their rows are
        # paired with the posts by rowid instead of by post_uid
        rows = ("_changed s JOIN (SELECT rowid AS row, account_type FROM posts) c USING (row)" if full else
                "post_state s JOIN (SELECT rowid AS row, post_uid, account_type FROM posts) c USING (post_uid)")
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _todo AS
                SELECT s.post_uid, s.text_hash, row, {_EMPLOYEE_POST} FROM {rows}
                LEFT JOIN {done} d ON d.post_uid = s.post_uid AND d.text_hash = s.text_hash
                WHERE d.post_uid IS NULL"""
        )
    todo, added = con.execute(f"SELECT count(*), bit_xor({_DONE_KEY}) FROM _todo").fetchone()
    gone = con.execute("SELECT count(*) FROM _gone").fetchone()[0]
    # the deletions come after the print was compared: they change it
    for table in clear if (stale if fast else todo) or gone else ():
        foretell = table == done and fast
        removed = con.execute(f"""DELETE FROM {table}
                                  WHERE post_uid IN (SELECT post_uid FROM _todo UNION ALL SELECT post_uid FROM _gone)
                                  {'RETURNING coalesce(done_key, 0)' if foretell else ''}""")
        if foretell:
            keys = [key for (key,) in removed.fetchall()]
            count -= len(keys)
            digest = functools.reduce(operator.xor, keys, digest or 0)
    if fast:
        # the caller adds one row per post to redo: the print ``done`` will have after this build, told without
        # hashing every row again (a wrong one only costs the next build the slow path above)
        count += todo
        digest = (digest or 0) ^ (added or 0)
        con.execute("INSERT INTO _done_prints VALUES (?, ?)", [done, _print(count, digest if count else None)])
    return todo


#: The tables :func:`_posts_to_redo` completes: one row per post and text.
_DONE_TABLES = ("post_scans", "post_themes")


def _done_numbers(con: duckdb.DuckDBPyConnection, done: str) -> tuple[int, int | None]:
    """Row count and order-free hash of the (post_uid, text_hash) pairs of ``done``, from the keys the build
    wrote with its rows: a row added by another writer changes the count, or with one removed, the hash. (A
    writer that edits a row in place must set its ``done_key`` too, or delete the row: erasure deletes.)"""
    return con.execute(f"SELECT count(*), bit_xor(done_key) FROM {done}").fetchone()


def _print(count: int, digest: int | None) -> str:
    return f"{count}:{digest}"


def _done_print(con: duckdb.DuckDBPyConnection, done: str) -> str:
    """The print of ``done`` at the end of a build: as :func:`_posts_to_redo` foretold it, else hashed."""
    foretold = con.execute("SELECT print FROM _done_prints WHERE done = ?", [done]).fetchall()
    return foretold[0][0] if foretold else _print(*_done_numbers(con, done))


def _todo_texts(con: duckdb.DuckDBPyConnection) -> int:
    """Number the distinct (text, employee post) pairs of the posts in ``_todo``, so reposts and
    re-imports of a text are looked at once: temporary tables ``_todo_texts`` (text_id, text_hash,
    employee_post, row: one post of the pair) and ``_todo_posts`` (post_uid, text_hash, text_id). Returns
    the number of pairs. A text is known by its SHA-256 (``post_state.text_hash``, of the current text),
    so only the pairs' texts, not every post's, are read."""
    con.execute("""CREATE OR REPLACE TEMP TABLE _todo_texts AS
                   SELECT row_number() OVER (ORDER BY min(row)) - 1 AS text_id, text_hash, employee_post,
                          min(row) AS row
                   FROM _todo GROUP BY text_hash, employee_post""")
    con.execute("""CREATE OR REPLACE TEMP TABLE _todo_posts AS
                   SELECT p.post_uid, p.text_hash, t.text_id
                   FROM _todo p JOIN _todo_texts t USING (text_hash, employee_post)""")
    return con.execute("SELECT count(*) FROM _todo_texts").fetchall()[0][0]


def _todo_batches(con: duckdb.DuckDBPyConnection, count: int) -> Iterator[pd.DataFrame]:
    """The ``count`` texts of ``_todo_texts`` in batches of at most :data:`_TODO_BATCH`, in text_id order:
    text_id, text (missing: ''), employee_post, text_hash (the caller then calls :func:`_drop_todo`)."""
    for first in range(0, count, _TODO_BATCH):
        last = first + _TODO_BATCH - 1
        yield con.execute(
            """SELECT t.text_id, coalesce(p.text, '') AS text, t.employee_post, t.text_hash
               FROM _todo_texts t
               JOIN (SELECT rowid AS row, text FROM posts
                     WHERE rowid IN (SELECT row FROM _todo_texts WHERE text_id BETWEEN $first AND $last)) p
                   USING (row)
               WHERE t.text_id BETWEEN $first AND $last
               ORDER BY t.text_id""",
            {"first": first, "last": last}).df()


def _drop_todo(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the tables :func:`_posts_to_redo` and :func:`_todo_texts` made."""
    for table in ("_todo", "_todo_texts", "_todo_posts"):
        con.execute(f"DROP TABLE IF EXISTS {table}")


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    with warehouse.registered(con, "_rows", frame):
        con.execute(f"INSERT INTO {table} ({', '.join(frame.columns)}) SELECT * FROM _rows")


def _dismissals(con: duckdb.DuckDBPyConnection) -> int:
    """Mark the findings analysts dismissed; only findings whose state changes are written (and their
    posts' facts redone)."""
    from analytics import adherence

    dismissals = adherence.load_dismissals()
    with warehouse.registered(con, "_dismissals", dismissals[["post_uid", "rule_id", "reason"]]):
        con.execute(
            """CREATE OR REPLACE TEMP TABLE _verdicts AS
               SELECT f.rowid AS row, f.post_uid, d.post_uid IS NOT NULL AS dismissed, d.reason
               FROM post_findings f
               LEFT JOIN (SELECT post_uid, rule_id, any_value(reason) AS reason FROM _dismissals GROUP BY ALL) d
                   ON f.post_uid = d.post_uid AND f.rule_id = d.rule_id
               WHERE f.dismissed IS DISTINCT FROM (d.post_uid IS NOT NULL)
                  OR f.dismissal_reason IS DISTINCT FROM d.reason"""
        )
    con.execute("""UPDATE post_findings f SET dismissed = v.dismissed, dismissal_reason = v.reason
                   FROM _verdicts v WHERE f.rowid = v.row""")
    con.execute("INSERT INTO _refound SELECT post_uid FROM _verdicts")
    con.execute("DROP TABLE _verdicts")
    return con.execute("SELECT count(*) FROM post_findings WHERE dismissed").fetchone()[0]


def _fingerprints(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...]) -> dict[str, str]:
    """Row count and order-free hash sums of each whole table, in one query: equal when no row was added,
    removed or changed."""
    rows = " UNION ALL ".join(f"SELECT '{table}', count(*), bit_xor(hash(*COLUMNS(*))), sum(hash(*COLUMNS(*)) >> 8) "
                              f"FROM {table}" for table in tables)
    found = {table: f"{table}:{count}:{xor}:{total}" for table, count, xor, total in con.execute(rows).fetchall()}
    return {table: found[table] for table in tables}


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.exists() else "-"


def _input_fingerprints(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """What the survey scores and the period metrics read besides the posts, with the settings and files
    they depend on: a step whose inputs are unchanged since the last build is skipped."""
    tables = ("respondents", "survey_answers", "employees", "incidents", "trainings", "audience_comments",
              "policy_versions")
    prints = _fingerprints(con, tables)
    prints["settings"] = repr(config.get_settings())
    prints["codebook"] = _file_hash(config.CODEBOOK_PATH)
    prints["themes"] = _file_hash(config.CONTENT_THEMES_PATH)
    return prints


def _unchanged(con: duckdb.DuckDBPyConnection, step: str, fingerprint: str) -> bool:
    """True when ``step`` ran on exactly these inputs before; else records them for this build."""
    if _state(con, step) == fingerprint:
        return True
    _set_state(con, step, fingerprint)
    return False


def _survey_waves(con: duckdb.DuckDBPyConnection, settings: config.Settings) -> int | None:
    """Cut every response's wave again when the time zone or the survey periods changed since the last build
    (the ingest cut them with the settings of its day); the number of responses whose wave changed, or None
    when the settings did not change."""
    if _unchanged(con, "survey_waves", repr((settings.timezone, settings.survey_periods))):
        return None
    from analytics.ingest import quarter_wave

    stored = con.execute("SELECT rowid AS row, coalesce(submitted_at, started_at) AS answered_at, wave "
                         "FROM respondents").df()
    if stored.empty:
        return 0
    answered = pd.to_datetime(stored["answered_at"], utc=True)
    stored["new_wave"] = quarter_wave(answered, settings.timezone, settings.survey_periods)
    changed = stored.loc[stored["new_wave"].ne(stored["wave"]).fillna(True), ["row", "new_wave"]]
    if not changed.empty:
        con.register("_new_waves", changed)
        con.execute("UPDATE respondents SET wave = n.new_wave FROM _new_waves n WHERE respondents.rowid = n.row")
        con.unregister("_new_waves")
    return len(changed)


def _construct_scores(con: duckdb.DuckDBPyConnection, inputs: dict[str, str]) -> int:
    fingerprint = "|".join(inputs[name] for name in ("respondents", "survey_answers", "codebook"))
    if _unchanged(con, "construct_scores", fingerprint):
        return con.execute("SELECT count(*) FROM construct_scores").fetchone()[0]
    from analytics import survey
    from analytics.codebook import load_codebook

    con.execute("DELETE FROM construct_scores")
    answers = con.execute("SELECT response_id, item_id, value, mapped FROM survey_answers WHERE mapped").df()
    if answers.empty:
        return 0
    # unfinished responses are kept in the warehouse but left out of statistics
    finished = con.execute("SELECT response_id, wave, finished FROM respondents WHERE finished").df()
    scores = survey.construct_scores(answers, load_codebook().items_frame(), respondents=finished)
    _insert(con, "construct_scores", scores[["response_id", "construct", "score", "n_items"]])
    return len(scores)


def _incident_timings(con: duckdb.DuckDBPyConnection) -> int:
    tz = config.get_settings().timezone
    # incidents loaded before their posts get their post link now
    con.execute("""UPDATE incidents i SET post_uid = p.post_uid FROM posts p
                   WHERE i.post_uid IS NULL AND i.post_url IS NOT NULL AND p.url = i.post_url""")
    con.execute("DELETE FROM incident_timings")
    con.execute(
        f"""INSERT INTO incident_timings
        SELECT incident_id, area, severity, detection, department,
               CAST(date_trunc('month', reported_at AT TIME ZONE '{tz}') AS DATE),
               CASE WHEN occurred_at IS NULL THEN NULL
                    ELSE epoch(reported_at - occurred_at) / 3600.0 END,
               CASE WHEN resolved_at IS NULL THEN NULL
                    ELSE epoch(resolved_at - reported_at) / 3600.0 END
        FROM incidents"""
    )
    return con.execute("SELECT count(*) FROM incident_timings").fetchone()[0]


_FACTS_SQL = """
WITH violations AS (
    SELECT post_uid, count(*) AS n_findings, bool_or(severity IN ('medium', 'high')) AS violation
    FROM post_findings WHERE NOT dismissed {findings_filter} GROUP BY post_uid)
SELECT p.post_uid, p.platform, p.account_type, p.account_key, p.author_key, p.department,
       p.published_at, CAST(date_trunc('month', p.published_at AT TIME ZONE '{tz}') AS DATE) AS month,
       s.status AS sentiment_status, s.compound,
       coalesce(v.violation, false) AS violation, coalesce(v.n_findings, 0) AS n_findings,
       p.impressions, p.reach,
       coalesce(p.reactions, 0) + coalesce(p.comments, 0) + coalesce(p.shares, 0)
           + coalesce(p.clicks, 0) + coalesce(p.saves, 0) AS engagement,
       p.is_share
FROM {posts}
LEFT JOIN sentiment s ON s.text_hash = h.text_hash AND s.scorer_version = $version
LEFT JOIN violations v ON v.post_uid = p.post_uid
"""


def _post_facts(con: duckdb.DuckDBPyConnection, tz: str, *, full: bool) -> int:
    """One row per post with what the metrics need. Only the posts that changed are redone: new, changed
    or gone posts, posts whose findings changed and posts whose text was newly scored."""
    version = {"version": sentiment.SCORER_VERSION}
    exists = "post_facts" in {t for (t,) in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'").fetchall()}
    if full or not exists:
        con.execute("CREATE OR REPLACE TABLE post_facts AS " + _FACTS_SQL.format(
            tz=tz, findings_filter="", posts="posts p JOIN post_state h USING (post_uid)"), version)
        con.execute("INSERT INTO _dirty VALUES ('post_facts')")
        return con.execute("SELECT count(*) FROM post_facts").fetchone()[0]
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _redo AS
           SELECT post_uid FROM _changed UNION SELECT post_uid FROM _gone UNION SELECT post_uid FROM _refound
           UNION SELECT s.post_uid FROM post_state s JOIN _scored USING (text_hash)"""
    )
    redo = con.execute("SELECT count(*) FROM _redo").fetchone()[0]
    if redo:
        # new posts have no facts yet (see :func:`_post_changes`): only the others' are looked for
        if con.execute("SELECT count(*) FROM _redo WHERE post_uid NOT IN (SELECT post_uid FROM _changed WHERE new)"
                       ).fetchone()[0]:
            con.execute("DELETE FROM post_facts WHERE post_uid IN (SELECT post_uid FROM _redo)")
        # a changed post's rowid and text hash are in _changed: only the other posts to redo (rescanned or
        # newly scored, rarely any) are looked for among every post
        con.execute("CREATE OR REPLACE TEMP TABLE _redo_posts AS SELECT post_uid, row, text_hash FROM _changed")
        con.execute("CREATE OR REPLACE TEMP TABLE _redo_others AS "
                    "SELECT post_uid FROM _redo EXCEPT SELECT post_uid FROM _changed EXCEPT SELECT post_uid FROM _gone")
        if con.execute("SELECT count(*) FROM _redo_others").fetchone()[0]:
            con.execute("""INSERT INTO _redo_posts
                           SELECT s.post_uid, p.row, s.text_hash FROM post_state s
                           JOIN (SELECT rowid AS row, post_uid FROM posts) p USING (post_uid)
                           WHERE s.post_uid IN (SELECT post_uid FROM _redo_others)""")
        con.execute("INSERT INTO post_facts " + _FACTS_SQL.format(
            tz=tz, findings_filter="AND post_uid IN (SELECT post_uid FROM _redo)",
            posts="""_redo_posts h JOIN (SELECT rowid AS row, * FROM posts
                                        WHERE rowid IN (SELECT row FROM _redo_posts)) p USING (row)"""), version)
        con.execute("DROP TABLE _redo_posts")
        con.execute("DROP TABLE _redo_others")
        con.execute("INSERT INTO _dirty VALUES ('post_facts')")
    return con.execute("SELECT count(*) FROM post_facts").fetchone()[0]


def _monthly_metrics(con: duckdb.DuckDBPyConnection, settings: config.Settings, inputs: dict[str, str]) -> int:
    """Keep the period tables equal to a computation over everything: when only posts changed, only the
    quarters whose months' post inputs changed are computed again, and of them only the metrics whose
    inputs changed; anything else they read changing computes them whole."""
    from analytics import metrics

    present = {t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    posts_changed = con.execute("SELECT count(*) FROM _dirty").fetchone()[0] > 0
    fingerprint = "|".join([*inputs.values(), _rules_version(), str(settings.k), sentiment.SCORER_VERSION,
                            metrics.TABLES_VERSION])
    same = _unchanged(con, "period_metrics", fingerprint)
    kept = same and {"monthly_metrics", "quarterly_metrics", "period_inputs", "period_groups"} <= present
    if kept and not posts_changed:
        return _metric_rows(con)
    # the employee posts are read once, for the months' digests and the figures
    metrics.employee_cells(con, "_employee_cells")
    months = metrics.month_inputs(con, cells="_employee_cells")
    amplifiers = con.execute("""SELECT count(*), bit_xor(hash(author_key, month))
                                FROM (SELECT DISTINCT author_key, month FROM amplifications)""").fetchone()
    amplifiers_same = _unchanged(con, "amplifier_share", str(amplifiers))
    if not kept or not _update_periods(con, settings.k, months, amplifiers_same):
        # survey metrics whose inputs did not change are taken from the last quarterly table
        survey = "|".join([*(inputs[name] for name in ("respondents", "survey_answers", "employees", "codebook",
                                                      "settings")), str(settings.k)])
        survey_rows = None
        if _unchanged(con, "survey_metrics", survey) and "quarterly_metrics" in present:
            survey_rows = con.execute("SELECT * FROM quarterly_metrics WHERE list_contains(?, metric)",
                                      [list(metrics.SURVEY_METRICS)]).df()
        # the quarterly table is suppressed jointly with the monthly one it is the sum of
        monthly, quarterly, groups = metrics.period_tables_and_groups(con, k=settings.k, survey_rows=survey_rows,
                                                                      cells="_employee_cells")
        for name, table in (("monthly_metrics", monthly), ("quarterly_metrics", quarterly)):
            con.execute(f"DROP TABLE IF EXISTS {name}")
            with warehouse.registered(con, "_metrics", table):
                con.execute(f"CREATE TABLE {name} AS SELECT * FROM _metrics")
        con.execute("CREATE OR REPLACE TABLE period_groups (kind VARCHAR, metric VARCHAR, grouping VARCHAR, "
                    "period VARCHAR, grp VARCHAR)")
        _insert(con, "period_groups", _group_rows(groups))
    con.execute("DROP TABLE _employee_cells")
    con.execute("CREATE OR REPLACE TABLE period_inputs (month DATE, part VARCHAR, digest VARCHAR)")
    _insert(con, "period_inputs", pd.DataFrame([(month, part, digest) for (month, part), digest in months.items()],
                                               columns=["month", "part", "digest"], dtype=object))
    return _metric_rows(con)


def _metric_rows(con: duckdb.DuckDBPyConnection) -> int:
    return sum(con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
               for name in ("monthly_metrics", "quarterly_metrics"))


def _group_rows(groups: dict) -> pd.DataFrame:
    rows = [(*key, period, group) for key, pairs in groups.items() for period, group in pairs]
    return pd.DataFrame(rows, columns=["kind", "metric", "grouping", "period", "grp"], dtype=object)


def _update_periods(con: duckdb.DuckDBPyConnection, k: int, months: dict, amplifiers_same: bool) -> bool:
    """Splice into the period tables what :func:`metrics.update_period_tables` computed again for the posts'
    months (``months``) that differ from the last build's. False, having changed nothing, when the tables
    must be computed whole."""
    from analytics import metrics

    before = {(month, part): digest for month, part, digest in con.execute("SELECT * FROM period_inputs").fetchall()}
    stored: dict = {}
    for kind, metric, grouping, period, group in con.execute("SELECT * FROM period_groups").fetchall():
        stored.setdefault((kind, metric, grouping), set()).add((period, group))
    update = metrics.update_period_tables(con, k=k, before=before, after=months, groups=stored,
                                          amplifiers_changed=not amplifiers_same, cells="_employee_cells")
    if update is None:
        return False
    if not update.periods:
        return True
    periods, kept = list(update.periods), list(update.kept)
    for name, table in (("monthly_metrics", update.monthly), ("quarterly_metrics", update.quarterly)):
        con.execute(f"""DELETE FROM {name} WHERE (? AND metric = 'amplifier_share')
                        OR (list_contains(?, period) AND NOT list_contains(?, metric))""",
                    [update.amplifier_share, periods, kept])
        _insert(con, name, table)
        # the rows in the order a computation over everything gives
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {name} "
                    "ORDER BY metric, department, platform, period")
    con.execute("""DELETE FROM period_groups WHERE (? AND metric = 'amplifier_share')
                   OR (list_contains(?, period) AND NOT list_contains(?, metric))""",
                [update.amplifier_share, periods, kept])
    _insert(con, "period_groups", _group_rows(update.groups))
    return True


# --- the positive side: content themes and amplification ---------------------------------------------------

def _post_themes(con: duckdb.DuckDBPyConnection, *, full: bool) -> int:
    """Theme new or changed posts only (like ``post_scans``); a changed taxonomy re-themes everything.
    Texts :func:`_findings` already themed in this build (``_text_themes``) are not read again."""
    from analytics import themes

    taxonomy = themes.load_taxonomy()
    stale = con.execute("DELETE FROM post_themes WHERE taxonomy_version <> ?", [taxonomy.version]).fetchone()[0]
    total = _posts_to_redo(con, done="post_themes", clear=("post_themes",), full=full)
    con.execute("INSERT INTO _touched SELECT post_uid FROM _todo")
    if stale or total:
        con.execute("INSERT INTO _dirty VALUES ('post_themes')")
    left = total
    if total and con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = '_text_themes'"
                             ).fetchone()[0]:
        known = "SELECT DISTINCT text_hash, theme FROM _text_themes WHERE taxonomy_version = $version"
        con.execute(f"""INSERT INTO post_themes
                        SELECT t.post_uid, t.text_hash, $version, k.theme, k.theme, {_DONE_KEY}
                        FROM _todo t JOIN ({known}) k USING (text_hash)""", {"version": taxonomy.version})
        con.execute(f"DELETE FROM _todo WHERE text_hash IN (SELECT text_hash FROM ({known}))",
                    {"version": taxonomy.version})
        left = con.execute("SELECT count(*) FROM _todo").fetchone()[0]
    con.execute("DROP TABLE IF EXISTS _text_themes")
    for batch in _todo_batches(con, _todo_texts(con) if left else 0):
        # a theme depends on the text only: each text is classified once (twice in the rare case it is
        # both an employee's and someone else's post)
        found = themes.classify_themes(batch["text"], taxonomy=taxonomy)
        with warehouse.registered(con, "_themes", pd.DataFrame({"text_id": batch["text_id"], "theme": found["theme"]})):
            con.execute(f"""INSERT INTO post_themes SELECT p.post_uid, p.text_hash, $version, t.theme, t.theme,
                                   {_DONE_KEY}
                            FROM _todo_posts p JOIN _themes t USING (text_id) ORDER BY p.post_uid""",
                        {"version": taxonomy.version})
    _drop_todo(con)
    return total


#: Characters of a quote compared through an index before the whole quote is looked for.
_QUOTE_PREFIX = 12

# the posts of both sides of the matches are picked out of every post in one pass, then joined twice
_AMPLIFICATION_ROWS = """
WITH matched AS MATERIALIZED (
    SELECT post_uid, platform, author_key, department, published_at, reactions, comments, shares, clicks, saves,
           reach, impressions
    FROM posts WHERE post_uid IN (SELECT post_uid FROM {matches} UNION ALL SELECT org_post_uid FROM {matches}))
SELECT m.post_uid, m.org_post_uid, m.matched_by, p.platform, o.platform AS org_platform, p.author_key, p.department,
       p.published_at, CAST(date_trunc('month', p.published_at AT TIME ZONE '{tz}') AS DATE) AS month,
       CAST(coalesce(p.reactions, 0) + coalesce(p.comments, 0) + coalesce(p.shares, 0) + coalesce(p.clicks, 0)
            + coalesce(p.saves, 0) AS DOUBLE) AS engagement,
       CAST(CASE WHEN p.reach > 0 THEN p.reach WHEN p.impressions > 0 THEN p.impressions END AS DOUBLE) AS audience
FROM {matches} m JOIN matched p ON p.post_uid = m.post_uid JOIN matched o ON o.post_uid = m.org_post_uid
"""


def _amplifications(con: duckdb.DuckDBPyConnection, tz: str, *, full: bool) -> int:
    """Employee shares of organisation posts, as :func:`engagement.match_amplifications` defines them
    (a share takes the theme of the post it shares: :func:`_share_themes`, after the themes).

    Only employee posts that changed, and those a changed organisation post may now match (or no
    longer match), are matched again — an organisation post ingested after the share still gets it.
    URLs are matched in SQL by their normalised form's hash; a quote is looked for (in Python, by the
    reference function) only in the organisation posts that contain its first characters."""
    from analytics import engagement

    con.execute("""CREATE TABLE IF NOT EXISTS amplifications (post_uid VARCHAR, org_post_uid VARCHAR,
                   matched_by VARCHAR, platform VARCHAR, org_platform VARCHAR, author_key VARCHAR,
                   department VARCHAR, published_at TIMESTAMPTZ, month DATE, engagement DOUBLE, audience DOUBLE)""")
    if full:
        con.execute("DELETE FROM amplifications")
    # organisation posts that changed or went: what they matched before and may match now
    # a full build changed every post's links, and reads its posts straight
    con.execute("CREATE OR REPLACE TEMP TABLE _changed_posts AS " + (
        "SELECT post_uid, true AS link_changed, account_type FROM posts" if full else
        f"SELECT c.post_uid, c.link_changed, p.account_type FROM _changed c JOIN {_changed_rows('account_type')} p "
        "USING (row)"))
    con.execute("""CREATE OR REPLACE TEMP TABLE _org_changed AS
                   SELECT post_uid FROM amplification_org
                   WHERE post_uid IN (SELECT post_uid FROM _gone)
                      OR post_uid IN (SELECT post_uid FROM _changed WHERE link_changed)
                   UNION SELECT post_uid FROM _changed_posts WHERE link_changed AND account_type = 'organization'""")
    org_changed = "SELECT post_uid FROM _org_changed"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _org_keys AS
                    SELECT url_key AS key FROM amplification_org WHERE post_uid IN ({org_changed})""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _amp_todo AS
                    SELECT DISTINCT post_uid FROM amplifications WHERE org_post_uid IN ({org_changed})""")
    # new posts have no keys yet (see :func:`_post_changes`), and a full build emptied both tables there
    for table in ("amplification_keys", "amplification_org") if not full and con.execute(
            "SELECT (SELECT count(*) FROM _gone) + (SELECT count(*) FROM _changed WHERE link_changed AND NOT new)"
    ).fetchone()[0] else ():
        con.execute(f"""DELETE FROM {table} WHERE post_uid IN (SELECT post_uid FROM _gone)
                        OR post_uid IN (SELECT post_uid FROM _changed WHERE link_changed)""")
    con.execute("DELETE FROM amplifications WHERE post_uid IN (SELECT post_uid FROM _gone)")
    # URLs and quotes are found by DuckDB (RE2, every core): only organisation texts and what is found
    # reach Python
    engagement.link_keys_table(con, "SELECT post_uid, account_type, text, url, shared_url FROM posts" if full else
                               f"""SELECT c.post_uid, p.account_type, p.text, p.url, p.shared_url FROM _changed c
                                   JOIN {_changed_rows('account_type, text, url, shared_url', where='link_changed')} p
                                       USING (row)
                                   WHERE c.link_changed""", table="_keys")
    _insert_link_keys(con)
    con.execute("""INSERT INTO _org_keys SELECT url_key FROM amplification_org
                   WHERE post_uid IN (SELECT post_uid FROM _org_changed) AND url_key IS NOT NULL""")
    new_grams = _grams(f"SELECT post_uid, body FROM amplification_org WHERE post_uid IN ({org_changed})")
    # on a first build every employee post changed: the keys of the others need not be looked at
    keyed = "" if full else f"""
            UNION SELECT post_uid FROM amplification_keys
                  WHERE kind IN ('shared', 'link') AND key IN (SELECT key FROM _org_keys)
            UNION SELECT post_uid FROM amplification_keys
                  WHERE kind = 'quote' AND key IN (SELECT gram FROM ({new_grams}))
            UNION SELECT post_uid FROM amplification_keys
                  WHERE kind = 'short' AND EXISTS (SELECT 1 FROM _org_changed)"""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _amp_candidates AS
            SELECT post_uid FROM _amp_todo
            UNION SELECT post_uid FROM _changed_posts WHERE account_type = 'employee'
            {keyed}"""
    )
    con.execute("CREATE OR REPLACE TEMP TABLE _amp_todo AS SELECT DISTINCT post_uid FROM _amp_candidates")
    con.execute("DROP TABLE _amp_candidates")
    con.execute("DELETE FROM amplifications WHERE post_uid IN (SELECT post_uid FROM _amp_todo)")
    changed_rows = con.execute("SELECT count(*) FROM _amp_todo").fetchone()[0] + con.execute(
        "SELECT count(*) FROM _gone").fetchone()[0] + con.execute("SELECT count(*) FROM _org_changed").fetchone()[0]
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _url_matches AS
           SELECT post_uid, org_post_uid, CASE kind WHEN 'shared' THEN 'shared_url' ELSE 'url_in_text' END AS matched_by
           FROM (SELECT k.post_uid, k.kind, o.post_uid AS org_post_uid,
                        row_number() OVER (PARTITION BY k.post_uid
                                           ORDER BY k.kind = 'shared' DESC, k.pos, o.published_at DESC NULLS LAST,
                                                    o.post_uid DESC) AS rank
                 FROM amplification_keys k JOIN _amp_todo USING (post_uid)
                 JOIN amplification_org o ON o.url_key = k.key
                 WHERE k.kind IN ('shared', 'link'))
           WHERE rank = 1"""
    )
    con.execute("INSERT INTO amplifications " + _AMPLIFICATION_ROWS.format(tz=tz, matches="_url_matches"))
    _quote_matches(con, tz)
    if changed_rows:
        con.execute("INSERT INTO _dirty VALUES ('amplifications')")
    # ``_amp_todo`` is kept for :func:`_share_themes`
    for table in ("_url_matches", "_org_keys", "_org_changed", "_changed_posts"):
        con.execute(f"DROP TABLE {table}")
    return con.execute("SELECT count(*) FROM amplifications").fetchone()[0]


def _insert_link_keys(con: duckdb.DuckDBPyConnection) -> None:
    """Record the link keys of a batch of changed posts (:func:`engagement.link_keys`, of posts in ``_changed``),
    left in the temporary table ``_keys`` by :func:`engagement.link_keys_table` (dropped here)."""
    con.execute(
        """INSERT INTO amplification_org
            SELECT c.post_uid, p.platform, p.published_at, u.url_key, b.key
            FROM _changed c
            JOIN (SELECT rowid AS row, platform, published_at FROM posts
                  WHERE rowid IN (SELECT c.row FROM _changed c JOIN _keys k USING (post_uid) WHERE k.kind = 'body')) p
                USING (row)
            JOIN (SELECT post_uid, key FROM _keys WHERE kind = 'body') b USING (post_uid)
            LEFT JOIN (SELECT post_uid, hash(key) AS url_key FROM _keys WHERE kind = 'url') u USING (post_uid)"""
    )
    con.execute(
        f"""INSERT INTO amplification_keys
            SELECT post_uid, CASE WHEN kind = 'quote' AND length(key) < {_QUOTE_PREFIX} THEN 'short' ELSE kind END,
                   pos, hash(CASE WHEN kind = 'quote' THEN substr(key, 1, {_QUOTE_PREFIX}) ELSE key END)
            FROM _keys WHERE kind IN ('shared', 'link', 'quote')"""
    )
    con.execute("DROP TABLE _keys")


def _grams(bodies_sql: str) -> str:
    """SQL of every ``_QUOTE_PREFIX``-character passage's hash (``gram``) of the organisation texts
    ``bodies_sql`` selects (``post_uid, body``), with its ``post_uid``."""
    return f"""SELECT post_uid, hash(substr(body, start, {_QUOTE_PREFIX})) AS gram
               FROM (SELECT post_uid, body, unnest(range(1, length(body) - {_QUOTE_PREFIX} + 2)) AS start
                     FROM ({bodies_sql}))"""


def _quote_matches(con: duckdb.DuckDBPyConnection, tz: str) -> None:
    """Employee posts left without a URL match whose quotes may be in an organisation post: the reference
    function decides, over the organisation posts that contain a quote's first characters (every one
    for a quote shorter than that)."""
    from analytics import engagement

    con.execute(
        """CREATE OR REPLACE TEMP TABLE _quoting AS
           SELECT DISTINCT k.post_uid, k.kind, k.key FROM amplification_keys k JOIN _amp_todo USING (post_uid)
           WHERE k.kind IN ('quote', 'short') AND k.post_uid NOT IN (SELECT post_uid FROM _url_matches)"""
    )
    if not con.execute("SELECT count(*) FROM _quoting").fetchone()[0]:
        con.execute("DROP TABLE _quoting")
        return
    short = con.execute("SELECT count(*) FROM _quoting WHERE kind = 'short'").fetchone()[0]
    grams = _grams("SELECT post_uid, body FROM amplification_org")
    candidates = "SELECT post_uid FROM amplification_org" if short else (
        f"SELECT DISTINCT g.post_uid FROM ({grams}) g JOIN (SELECT DISTINCT key FROM _quoting) q ON q.key = g.gram")
    columns = "post_uid, platform, account_type, author_key, department, published_at, text, url, shared_url"
    posts = con.execute(
        f"""SELECT {columns} FROM posts WHERE post_uid IN (SELECT post_uid FROM _quoting)
            UNION ALL SELECT {columns} FROM posts WHERE post_uid IN ({candidates})"""
    ).df()
    con.execute("DROP TABLE _quoting")
    found = engagement.match_amplifications(posts)
    found = found[found["matched_by"] == "quoted_text"][["post_uid", "org_post_uid", "matched_by"]]
    if found.empty:
        return
    with warehouse.registered(con, "_quote_matches", found):
        con.execute("INSERT INTO amplifications " + _AMPLIFICATION_ROWS.format(tz=tz, matches="_quote_matches"))


def _share_themes(con: duckdb.DuckDBPyConnection) -> None:
    """A share takes the theme of the organisation post it shares; every other post keeps its text's.

    Only posts whose amplification was matched again (``_amp_todo``) or whose theme row was redone
    (``_touched``), and shares of the latter, can change; only rows whose theme changes are written. When
    they are few, their rows and the shared posts' are picked out of post_themes in one pass; else every
    post is looked at once."""
    many = con.execute("""SELECT (SELECT count(*) FROM _amp_todo) + (SELECT count(*) FROM _touched)
                          > ? * (SELECT count(*) FROM post_themes)""", [_FEW_CHANGES]).fetchone()[0]
    if many:
        changed = con.execute(
            """WITH shares AS (SELECT a.post_uid, o.text_theme AS theme
                               FROM amplifications a JOIN post_themes o ON o.post_uid = a.org_post_uid)
               UPDATE post_themes t SET theme = w.theme
               FROM (SELECT post_uid, theme FROM shares
                     UNION ALL SELECT post_uid, text_theme FROM post_themes
                     WHERE theme IS DISTINCT FROM text_theme AND post_uid NOT IN (SELECT post_uid FROM shares)) w
               WHERE t.post_uid = w.post_uid AND t.theme IS DISTINCT FROM w.theme"""
        ).fetchone()[0]
    else:
        con.execute(
            """CREATE OR REPLACE TEMP TABLE _retheme AS
               WITH candidates AS (
                   SELECT post_uid FROM _amp_todo UNION SELECT post_uid FROM _touched
                   UNION SELECT post_uid FROM amplifications WHERE org_post_uid IN (SELECT post_uid FROM _touched)),
               links AS (SELECT post_uid, org_post_uid FROM amplifications
                         WHERE post_uid IN (SELECT post_uid FROM candidates)),
               rows AS MATERIALIZED (
                   SELECT rowid AS row, post_uid, theme, text_theme FROM post_themes
                   WHERE post_uid IN (SELECT post_uid FROM candidates UNION SELECT org_post_uid FROM links)),
               shares AS (SELECT l.post_uid, o.text_theme AS theme
                          FROM links l JOIN rows o ON o.post_uid = l.org_post_uid)
               SELECT t.row, coalesce(s.theme, t.text_theme) AS theme
               FROM rows t LEFT JOIN shares s USING (post_uid)
               WHERE t.post_uid IN (SELECT post_uid FROM candidates)
                 AND t.theme IS DISTINCT FROM coalesce(s.theme, t.text_theme)"""
        )
        changed = con.execute("SELECT count(*) FROM _retheme").fetchone()[0]
        if changed:
            con.execute("UPDATE post_themes SET theme = r.theme FROM _retheme r WHERE post_themes.rowid = r.row")
        con.execute("DROP TABLE _retheme")
    con.execute("DROP TABLE _amp_todo")
    if changed:
        con.execute("INSERT INTO _dirty VALUES ('post_themes')")
