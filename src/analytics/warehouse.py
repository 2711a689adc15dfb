"""The DuckDB warehouse: schema, one-writer transactional loads, and read-only access for surfaces.

Surfaces (notebooks, dashboards, report) call :func:`read_only` and never block a writer: they read
the snapshot the last build published (see :mod:`analytics.snapshots`), a file no writer writes into.
DuckDB allows one process to hold a file for writing, so a reader of the warehouse itself that finds
it locked gets :class:`WarehouseBusy` (shown as "busy, retry"), and a reader never sees a half-written
load because every load is one transaction.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import duckdb
import pandas as pd

from analytics import config
from analytics.snapshots import read_file, writing

__all__ = [
    "CANONICAL_TABLES",
    "DERIVED_TABLES",
    "PART_TABLES",
    "TABLE_COLUMNS",
    "WarehouseBusy",
    "WarehouseMissing",
    "WarehouseUnreadable",
    "connect",
    "employee_keys",
    "ensure_schema",
    "in_memory",
    "insert_frame",
    "read_only",
    "read_table",
    "registered",
    "row_counts",
    "text_columns",
]


class WarehouseMissing(FileNotFoundError):
    """No warehouse (or an empty one) where a surface expected it; the message says what to run."""


class WarehouseBusy(RuntimeError):
    """Another process is writing the warehouse; retry in a moment."""


class WarehouseUnreadable(WarehouseMissing):
    """A warehouse file DuckDB cannot open (damaged, or not a DuckDB file): as good as missing, and no
    wait makes it readable; the message says what to do."""


def _opening_failed(target: Path, error: duckdb.IOException) -> WarehouseBusy | WarehouseUnreadable:
    """What DuckDB's failure to open ``target`` means: another process holds its lock (busy), or the file
    cannot be read."""
    if "could not set lock" in str(error).lower():
        return WarehouseBusy(_busy_message(target))
    return WarehouseUnreadable(
        f"The warehouse {target} cannot be opened ({error}). It is damaged or not a DuckDB file: restore it "
        "from a backup, or move it aside and make it again from the raw exports (`policy-pulse ingest "
        "data/raw`, then `policy-pulse build`).")


_DDL = """
CREATE TABLE IF NOT EXISTS respondents (
    response_id VARCHAR, source_format VARCHAR, wave VARCHAR, submitted_at TIMESTAMPTZ, started_at TIMESTAMPTZ,
    finished BOOLEAN, respondent_key VARCHAR, department VARCHAR, role_level VARCHAR, tenure_band VARCHAR,
    location VARCHAR, source_file_sha256 VARCHAR, source_row INTEGER);
CREATE TABLE IF NOT EXISTS survey_answers (
    response_id VARCHAR, item_id VARCHAR, question VARCHAR, value DOUBLE, value_label VARCHAR, mapped BOOLEAN,
    source_file_sha256 VARCHAR, source_row INTEGER);
CREATE TABLE IF NOT EXISTS survey_comments (
    response_id VARCHAR, item_id VARCHAR, text VARCHAR, source_file_sha256 VARCHAR, source_row INTEGER);
CREATE TABLE IF NOT EXISTS posts (
    post_uid VARCHAR, platform VARCHAR, post_id VARCHAR, account_key VARCHAR, account_type VARCHAR,
    author_key VARCHAR, department VARCHAR, published_at TIMESTAMPTZ, text VARCHAR, url VARCHAR,
    impressions DOUBLE, reach DOUBLE, reactions DOUBLE, comments DOUBLE, shares DOUBLE, clicks DOUBLE,
    saves DOUBLE, video_views DOUBLE, metrics_as_of TIMESTAMPTZ, is_share BOOLEAN, shared_url VARCHAR,
    source_file_sha256 VARCHAR, source_row INTEGER);
CREATE TABLE IF NOT EXISTS audience_comments (
    comment_uid VARCHAR, post_uid VARCHAR, platform VARCHAR, post_url VARCHAR, published_at TIMESTAMPTZ,
    text VARCHAR, source_file_sha256 VARCHAR, source_row INTEGER);
CREATE TABLE IF NOT EXISTS employees (
    employee_key VARCHAR, department VARCHAR, role_level VARCHAR, started_on DATE, left_on DATE,
    recognition_opt_in BOOLEAN, source_file_sha256 VARCHAR, source_row INTEGER);
CREATE TABLE IF NOT EXISTS recognition_names (employee_key VARCHAR, display_name VARCHAR);
CREATE TABLE IF NOT EXISTS incidents (
    incident_id VARCHAR, reported_at TIMESTAMPTZ, occurred_at TIMESTAMPTZ, resolved_at TIMESTAMPTZ,
    employee_key VARCHAR, department VARCHAR, area VARCHAR, severity VARCHAR, detection VARCHAR,
    post_uid VARCHAR, post_url VARCHAR, summary VARCHAR, source_file_sha256 VARCHAR, source_row INTEGER);
CREATE TABLE IF NOT EXISTS trainings (
    employee_key VARCHAR, module VARCHAR, completed_at TIMESTAMPTZ, source_file_sha256 VARCHAR, source_row INTEGER);
CREATE TABLE IF NOT EXISTS policy_versions (
    version VARCHAR, effective_on DATE, summary VARCHAR, areas_changed VARCHAR,
    source_file_sha256 VARCHAR, source_row INTEGER);
CREATE TABLE IF NOT EXISTS ingest_log (
    file_sha256 VARCHAR, file_name VARCHAR, format VARCHAR, table_name VARCHAR, rows_read INTEGER,
    rows_loaded INTEGER, rows_rejected INTEGER, key_fingerprint VARCHAR, started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ, tool_version VARCHAR);
CREATE TABLE IF NOT EXISTS rejects (
    file_sha256 VARCHAR, file_name VARCHAR, source_row INTEGER, raw_redacted VARCHAR, reason VARCHAR);
"""

#: Canonical tables written by ``ingest`` (the derived ones are written by ``build``).
CANONICAL_TABLES = (
    "respondents", "survey_answers", "survey_comments", "posts", "audience_comments", "employees",
    "recognition_names", "incidents", "trainings", "policy_versions", "ingest_log", "rejects",
)
#: Canonical tables whose rows are parts of another table's row from the same file (a response's answers
#: and comments, a roster row's display name): their ``ingest_log`` rows count those parts, not the file's.
PART_TABLES = ("survey_answers", "survey_comments", "recognition_names")
DERIVED_TABLES = (
    "sentiment", "post_scans", "post_findings", "post_themes", "post_facts", "amplifications", "construct_scores",
    "incident_timings", "monthly_metrics", "quarterly_metrics", "build_log",
    # the build's bookkeeping for incremental work
    "post_state", "amplification_keys", "amplification_org", "build_state", "period_inputs", "period_groups",
)


def _columns_from_ddl() -> dict[str, list[str]]:
    tables: dict[str, list[str]] = {}
    for match in re.finditer(r"CREATE TABLE IF NOT EXISTS (\w+) \((.*?)\);", _DDL, re.S):
        columns = [part.strip().split()[0] for part in match.group(2).split(",")]
        tables[match.group(1)] = columns
    return tables


#: Column order of every canonical table, read from the DDL so there is one definition.
TABLE_COLUMNS: dict[str, list[str]] = _columns_from_ddl()


#: DuckDB's memory is capped for the writer: left at its default (80 % of RAM) it
#: keeps every page an ingest or build has touched, and the process outgrows its 2 GB budget at a
#: million posts. Larger work spills to a temporary folder beside the file.
WRITER_MEMORY_LIMIT = "512MB"

#: A build's cap (set by :func:`analytics.build.build` for its own transaction) is higher: DuckDB keeps a
#: temporary table dropped or replaced within a transaction until the commit, and a first build over a
#: million posts holds ~700 MB of them. At 512 MB it wrote ~300 MB of them to the temporary folder
#: (450 MB before its temporary tables were trimmed), 1 s of a 14 s build here; peak RSS 1.53 GB
#: instead of 1.13 GB.
BUILD_MEMORY_LIMIT = "1GB"


def _configure(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    con.execute("SET TimeZone = 'UTC'")
    # in a kernel (dashboards, notebooks) the progress bar is an ipywidgets bar drawn into the page for
    # every query slower than two seconds
    con.execute("SET enable_progress_bar = false")
    return con


def connect(path: str | os.PathLike[str] | None = None, *, wait_seconds: float = 10.0) -> duckdb.DuckDBPyConnection:
    """A read-write connection (the single writer), with the canonical schema in place.

    When the warehouse's file is the published snapshot, the warehouse is first given a copy of its own
    (:func:`analytics.snapshots.writing`). Another writer (or a reader of the warehouse itself, rare:
    surfaces read the snapshot) is waited for up to ``wait_seconds`` before :class:`WarehouseBusy` is raised.
    """
    target = config.warehouse_path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            with writing(target, deadline=deadline):
                con = duckdb.connect(str(target))
            break
        except TimeoutError as error:
            raise WarehouseBusy(_busy_message(target)) from error
        except duckdb.IOException as error:
            failure = _opening_failed(target, error)
            if isinstance(failure, WarehouseUnreadable) or time.monotonic() >= deadline:
                raise failure from error
            time.sleep(0.25)
    con.execute(f"SET memory_limit = '{WRITER_MEMORY_LIMIT}'")
    ensure_schema(_configure(con))
    return con


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(_DDL)


def _busy_message(target: Path) -> str:
    return (
        f"The warehouse {target.name} is busy: another policy-pulse command is writing it. "
        "Retry in a moment (dashboards refresh by themselves)."
    )


@contextlib.contextmanager
def read_only(
    path: str | os.PathLike[str] | None = None, *, snapshot: bool = True
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived read-only connection for surfaces.

    With ``snapshot`` (the default for surfaces) it reads the snapshot the last ``build`` published, so a
    running ingest or build never blocks it; without one (or with ``snapshot=False``) it reads the
    warehouse itself. Raises :class:`WarehouseMissing` (with the command to run) when there is no
    warehouse (:class:`WarehouseUnreadable` when its file cannot be read) and :class:`WarehouseBusy` while
    a writer holds it.
    """
    target = config.warehouse_path(path)
    if snapshot:
        target = read_file(target)
    if not target.exists():
        raise WarehouseMissing(
            f"No warehouse at {target}. Run `make demo` (sample data) or `policy-pulse ingest data/raw` "
            "then `policy-pulse build`."
        )
    try:
        con = duckdb.connect(str(target), read_only=True)
    except duckdb.IOException as error:
        raise _opening_failed(target, error) from error
    try:
        yield _configure(con)
    finally:
        con.close()


def read_table(
    table: str, path: str | os.PathLike[str] | None = None, *, where: str = "", snapshot: bool = True
) -> pd.DataFrame:
    """A whole table (or a filtered slice) as a DataFrame, through a read-only connection."""
    if not re.fullmatch(r"\w+", table):
        raise ValueError(f"{table!r} is not a table name.")
    with read_only(path, snapshot=snapshot) as con:
        present = _tables(con)
        if table not in present:
            if table in DERIVED_TABLES:
                raise WarehouseMissing(f"The warehouse has no table {table!r} yet. Run `policy-pulse build`.")
            raise ValueError(f"The warehouse has no table {table!r}; its tables are "
                             f"{', '.join(sorted(t for t in present if not t.startswith('_')))}.")
        return con.execute(f"SELECT * FROM {table} {where}").df()


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}


def row_counts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Rows per table (canonical first, then derived), for summaries."""
    present = _tables(con)
    names = [t for t in (*CANONICAL_TABLES, *DERIVED_TABLES) if t in present]
    names += sorted(present - set(names))
    rows = [(name, con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]) for name in names]
    return pd.DataFrame(rows, columns=["table", "rows"])


def employee_keys(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The pseudonyms of the people on the roster (what finds the warehouse's identity vault)."""
    if "employees" not in _tables(con):
        return set()
    return {key for (key,) in con.execute("SELECT employee_key FROM employees").fetchall()}


def text_columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """Every (table, column) of a text type, for the leak scan."""
    return [
        (t, c)
        for t, c in con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE data_type = 'VARCHAR' ORDER BY table_name, column_name"
        ).fetchall()
    ]


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> int:
    """Append ``frame`` to ``table`` by column name (missing columns become NULL); returns rows inserted."""
    if frame.empty:
        return 0
    columns = [c for c in TABLE_COLUMNS.get(table, list(frame.columns)) if c in frame.columns]
    with registered(con, "_incoming", frame[columns]):
        names = ", ".join(columns)
        con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM _incoming")
    return len(frame)


@contextlib.contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> Iterator[None]:
    """``frame`` readable as the view ``name`` inside the block, and gone after it.

    After a failed statement DuckDB refuses every later one in the transaction, unregistering too; the
    block's own error is the one raised, not "Current transaction is aborted".

    >>> con = duckdb.connect()
    >>> with registered(con, "_numbers", pd.DataFrame({"n": [1, 2]})):
    ...     con.execute("SELECT sum(n) FROM _numbers").fetchall()
    [(3,)]
    """
    con.complete()  # DuckDB refuses to register beside a result left unread (a caller's ``fetchone()``)
    con.register(name, frame)
    try:
        yield
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.unregister(name)
        raise
    con.unregister(name)


@contextlib.contextmanager
def in_memory(frames: Mapping[str, pd.DataFrame]) -> Iterator[duckdb.DuckDBPyConnection]:
    """A throwaway in-memory DuckDB connection in which each of ``frames`` reads as a view of its name, closed
    after the block; set up as the warehouse's connections are (UTC, no progress bar).

    An analysis whose one definition is a query runs it here on frames given instead of a warehouse.

    >>> with in_memory({"numbers": pd.DataFrame({"n": [1, 2]})}) as con:
    ...     con.execute("SELECT sum(n) FROM numbers").fetchall()
    [(3,)]
    """
    con = _configure(duckdb.connect())
    try:
        for name, frame in frames.items():
            con.register(name, frame)
        yield con
    finally:
        con.close()
