"""The build stage: derive every table the surfaces read, incrementally, in one transaction.

Steps (each prints progress): retention, sentiment (only texts not yet scored), policy findings (only
posts not yet scanned with the current rules), dismissals, survey construct scores, incident timings,
post facts, content themes (only posts not yet themed with the current taxonomy), amplifications,
monthly and wave metrics (suppression applied), then a snapshot for the surfaces.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from analytics import __version__, adherence, config, engagement, metrics, sentiment, survey, themes, warehouse
from analytics.codebook import load_codebook

__all__ = ["BuildSummary", "build", "publish_snapshot"]

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


def build(
    *,
    warehouse_file: str | os.PathLike[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> BuildSummary:
    """Derive the surfaces' tables from the canonical ones; a second build with no new data does
    almost nothing (sentiment and findings are cached)."""
    say = progress or (lambda _message: None)
    started = time.perf_counter()
    summary = BuildSummary()
    settings = config.get_settings()
    target = config.warehouse_path(warehouse_file)
    con = warehouse.connect(target)
    try:
        con.execute("BEGIN TRANSACTION")
        _ensure_derived(con)
        if settings.retention_months:
            say("retention")
            summary.steps["rows dropped (retention)"] = _apply_retention(con, settings.retention_months)
        say("sentiment")
        summary.steps["texts newly scored"] = _sentiment(con)
        say("policy findings")
        summary.steps["posts newly scanned"] = _findings(con)
        summary.steps["findings dismissed"] = _dismissals(con)
        _pause_for_tests()
        say("survey construct scores")
        summary.steps["construct scores"] = _construct_scores(con)
        say("incident timings")
        summary.steps["incident timings"] = _incident_timings(con)
        say("post facts")
        summary.steps["post facts"] = _post_facts(con, settings.timezone)
        say("content themes")
        summary.steps["posts newly themed"] = _post_themes(con)
        say("amplifications")
        summary.steps["amplifications"] = _amplifications(con, settings.timezone)
        say("monthly metrics")
        summary.steps["monthly + quarterly metrics"] = _monthly_metrics(con, settings)
        summary.seconds = time.perf_counter() - started
        con.execute(
            "INSERT INTO build_log VALUES (?, ?, ?, ?)",
            [datetime.now(UTC), summary.seconds, __version__, str(summary.steps)],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.close()
    say("publishing snapshot")
    publish_snapshot(target)
    summary.seconds = time.perf_counter() - started
    return summary


def _pause_for_tests() -> None:
    if os.environ.get(PAUSE_ENV):
        print("PAUSED in build", flush=True)
        time.sleep(3600)


def publish_snapshot(target: Path) -> Path:
    """Copy the (checkpointed) warehouse to ``<name>.snapshot.duckdb`` by atomic rename.

    Surfaces read the snapshot, so a long ingest or build never blocks them and they never see a
    half-written state.
    """
    con = duckdb.connect(str(target))
    try:
        con.execute("CHECKPOINT")
    finally:
        con.close()
    snapshot = warehouse.snapshot_path(target)
    temporary = snapshot.with_suffix(".tmp")
    shutil.copyfile(target, temporary)
    os.replace(temporary, snapshot)
    return snapshot


_DERIVED_DDL = """
CREATE TABLE IF NOT EXISTS sentiment (text_hash VARCHAR, scorer_version VARCHAR, status VARCHAR,
    neg DOUBLE, neu DOUBLE, pos DOUBLE, compound DOUBLE);
CREATE TABLE IF NOT EXISTS post_scans (post_uid VARCHAR, text_hash VARCHAR, rules_version VARCHAR);
CREATE TABLE IF NOT EXISTS post_findings (post_uid VARCHAR, rule_id VARCHAR, area VARCHAR, severity VARCHAR,
    evidence_redacted VARCHAR, dismissed BOOLEAN, dismissal_reason VARCHAR);
CREATE TABLE IF NOT EXISTS construct_scores (response_id VARCHAR, construct VARCHAR, score DOUBLE, n_items INTEGER);
CREATE TABLE IF NOT EXISTS incident_timings (incident_id VARCHAR, area VARCHAR, severity VARCHAR, detection VARCHAR,
    department VARCHAR, month DATE, hours_to_report DOUBLE, hours_to_resolve DOUBLE);
CREATE TABLE IF NOT EXISTS post_themes (post_uid VARCHAR, text_hash VARCHAR, taxonomy_version VARCHAR,
    text_theme VARCHAR, theme VARCHAR);
CREATE TABLE IF NOT EXISTS build_log (built_at TIMESTAMPTZ, seconds DOUBLE, tool_version VARCHAR, steps VARCHAR);
"""


def _ensure_derived(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(_DERIVED_DDL)


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


def _sentiment(con: duckdb.DuckDBPyConnection) -> int:
    texts = con.execute(
        """
        WITH texts AS (
            SELECT text FROM posts WHERE text IS NOT NULL
            UNION SELECT text FROM audience_comments WHERE text IS NOT NULL
            UNION SELECT text FROM survey_comments WHERE text IS NOT NULL)
        SELECT text FROM texts
        WHERE sha256(text) NOT IN (SELECT text_hash FROM sentiment WHERE scorer_version = ?)
        """,
        [sentiment.SCORER_VERSION],
    ).df()["text"]
    if texts.empty:
        return 0
    return sentiment.update_sentiment_cache(con, texts.tolist())


def _findings(con: duckdb.DuckDBPyConnection) -> int:
    version = _rules_version()
    con.execute("DELETE FROM post_scans WHERE rules_version <> ?", [version])
    con.execute("DELETE FROM post_findings WHERE post_uid NOT IN (SELECT post_uid FROM post_scans)")
    todo = _posts_to_redo(con, done="post_scans", clear=("post_findings", "post_scans"))
    if todo.empty:
        return 0
    # reposts and re-imports repeat texts: each distinct (text, employee post) is scanned once
    keys = ["text", "employee_post"]
    distinct = todo[keys].drop_duplicates(ignore_index=True)
    position = todo[keys].merge(distinct.assign(_text=range(len(distinct))), on=keys, how="left")["_text"]
    found = adherence.find_violations(distinct["text"].tolist(), employee_posts=distinct["employee_post"].tolist())
    if not found.empty:
        posts = pd.DataFrame({"text_index": position.to_numpy(), "_post": range(len(todo))})
        found = found.merge(posts, on="text_index").sort_values("_post", kind="stable")
        found = found.assign(post_uid=todo["post_uid"].to_numpy()[found["_post"].to_numpy()],
                             dismissed=False, dismissal_reason=None)
        _insert(con, "post_findings", found[["post_uid", "rule_id", "area", "severity", "evidence_redacted",
                                             "dismissed", "dismissal_reason"]])
    scans = pd.DataFrame({"post_uid": todo["post_uid"], "text": todo["text"], "rules_version": version})
    con.register("_scans", scans)
    con.execute("INSERT INTO post_scans SELECT post_uid, sha256(text), rules_version FROM _scans")
    con.unregister("_scans")
    return len(todo)


def _posts_to_redo(con: duckdb.DuckDBPyConnection, *, done: str, clear: tuple[str, ...]) -> pd.DataFrame:
    """Posts whose current text has no row in ``done`` (keyed by post_uid and text hash): new posts and
    posts whose text changed. Their stale rows in ``clear`` are deleted. Columns: post_uid, text,
    employee_post."""
    todo = con.execute(
        f"""
        SELECT p.post_uid, coalesce(p.text, '') AS text, p.account_type = 'employee' AS employee_post
        FROM posts p
        LEFT JOIN {done} d ON d.post_uid = p.post_uid AND d.text_hash = sha256(coalesce(p.text, ''))
        WHERE d.post_uid IS NULL
        """
    ).df()
    if not todo.empty:
        con.register("_todo", todo)
        for table in clear:
            con.execute(f"DELETE FROM {table} WHERE post_uid IN (SELECT post_uid FROM _todo)")
        con.unregister("_todo")
    return todo


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    con.register("_rows", frame)
    try:
        con.execute(f"INSERT INTO {table} ({', '.join(frame.columns)}) SELECT * FROM _rows")
    finally:
        con.unregister("_rows")


def _dismissals(con: duckdb.DuckDBPyConnection) -> int:
    dismissals = adherence.load_dismissals()
    con.execute("UPDATE post_findings SET dismissed = false, dismissal_reason = NULL")
    if dismissals.empty:
        return 0
    con.register("_dismissals", dismissals[["post_uid", "rule_id", "reason"]])
    con.execute(
        """UPDATE post_findings f SET dismissed = true, dismissal_reason = d.reason FROM _dismissals d
           WHERE f.post_uid = d.post_uid AND f.rule_id = d.rule_id"""
    )
    con.unregister("_dismissals")
    return con.execute("SELECT count(*) FROM post_findings WHERE dismissed").fetchone()[0]


def _construct_scores(con: duckdb.DuckDBPyConnection) -> int:
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


def _post_facts(con: duckdb.DuckDBPyConnection, tz: str) -> int:
    con.execute(
        f"""
        CREATE OR REPLACE TABLE post_facts AS
        WITH violations AS (
            SELECT post_uid, count(*) AS n_findings,
                   bool_or(severity IN ('medium', 'high')) AS violation
            FROM post_findings WHERE NOT dismissed GROUP BY post_uid)
        SELECT p.post_uid, p.platform, p.account_type, p.account_key, p.author_key, p.department,
               p.published_at, CAST(date_trunc('month', p.published_at AT TIME ZONE '{tz}') AS DATE) AS month,
               s.status AS sentiment_status, s.compound,
               coalesce(v.violation, false) AS violation, coalesce(v.n_findings, 0) AS n_findings,
               p.impressions, p.reach,
               coalesce(p.reactions, 0) + coalesce(p.comments, 0) + coalesce(p.shares, 0)
                   + coalesce(p.clicks, 0) + coalesce(p.saves, 0) AS engagement,
               p.is_share
        FROM posts p
        LEFT JOIN sentiment s ON s.text_hash = sha256(coalesce(p.text, '')) AND s.scorer_version = ?
        LEFT JOIN violations v ON v.post_uid = p.post_uid
        """,
        [sentiment.SCORER_VERSION],
    )
    return con.execute("SELECT count(*) FROM post_facts").fetchone()[0]


def _monthly_metrics(con: duckdb.DuckDBPyConnection, settings: config.Settings) -> int:
    monthly = metrics.period_metrics(con, kind="month", k=settings.k)
    # the quarterly table is suppressed jointly with the monthly one it is the sum of
    quarterly = metrics.period_metrics(con, kind="quarter", k=settings.k, months=monthly)
    for name, table in (("monthly_metrics", monthly), ("quarterly_metrics", quarterly)):
        con.execute(f"DROP TABLE IF EXISTS {name}")
        con.register("_metrics", table)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM _metrics")
        con.unregister("_metrics")
    return len(monthly) + len(quarterly)



# --- the positive side: content themes and amplification ---------------------------------------------------

def _post_themes(con: duckdb.DuckDBPyConnection) -> int:
    """Theme new or changed posts only (like ``post_scans``); a changed taxonomy re-themes everything."""
    taxonomy = themes.load_taxonomy()
    con.execute("DELETE FROM post_themes WHERE taxonomy_version <> ? OR post_uid NOT IN (SELECT post_uid FROM posts)",
                [taxonomy.version])
    todo = _posts_to_redo(con, done="post_themes", clear=("post_themes",))
    if todo.empty:
        return 0
    # a theme depends on the text only: each distinct text is classified once
    distinct = todo["text"].drop_duplicates(ignore_index=True)
    found = themes.classify_themes(distinct, taxonomy=taxonomy)
    theme_of = dict(zip(distinct, found["theme"], strict=True))
    rows = pd.DataFrame({"post_uid": todo["post_uid"], "text": todo["text"], "version": taxonomy.version,
                         "theme": todo["text"].map(theme_of).to_numpy()})
    con.register("_themes", rows)
    con.execute("INSERT INTO post_themes SELECT post_uid, sha256(text), version, theme, theme FROM _themes")
    con.unregister("_themes")
    return len(todo)


def _amplifications(con: duckdb.DuckDBPyConnection, tz: str) -> int:
    """Employee shares of organisation posts (recomputed: an organisation post ingested after the share
    still gets it); a share takes the theme of the post it shares."""
    posts = con.execute(
        """SELECT post_uid, platform, account_type, author_key, department, published_at, text, url, shared_url,
                  reactions, comments, shares, clicks, saves, impressions, reach
           FROM posts WHERE account_type IN ('employee', 'organization')"""
    ).df()
    found = engagement.match_amplifications(posts)
    con.register("_amplifications", found)
    con.execute(
        f"""CREATE OR REPLACE TABLE amplifications AS
            SELECT post_uid, org_post_uid, matched_by, platform, org_platform, author_key, department,
                   CAST(published_at AS TIMESTAMPTZ) AS published_at,
                   CAST(date_trunc('month', CAST(published_at AS TIMESTAMPTZ) AT TIME ZONE '{tz}') AS DATE) AS month,
                   CAST(engagement AS DOUBLE) AS engagement, CAST(audience AS DOUBLE) AS audience
            FROM _amplifications"""
    )
    con.unregister("_amplifications")
    con.execute("UPDATE post_themes SET theme = text_theme WHERE theme IS DISTINCT FROM text_theme")
    con.execute(
        """UPDATE post_themes t SET theme = o.text_theme
           FROM amplifications a JOIN post_themes o ON o.post_uid = a.org_post_uid
           WHERE t.post_uid = a.post_uid"""
    )
    return len(found)
