"""Reading, changing and rebuilding test copies of a warehouse file (the build tests compare an incremental
build with the same data built from scratch)."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pandas as pd

from analytics import build, warehouse


def query(path: Path, sql: str, params: list | None = None) -> pd.DataFrame:
    """``sql``'s result over the warehouse at ``path``, opened read-only."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).df()
    finally:
        con.close()


def insert_rows(path: Path, table: str, rows: pd.DataFrame) -> None:
    """Append ``rows`` to ``table`` as an ingest would (by column name)."""
    con = warehouse.connect(path)
    try:
        warehouse.insert_frame(con, table, rows)
    finally:
        con.close()


def execute(path: Path, *statements: str) -> None:
    """Run ``statements`` on the warehouse at ``path``, as another writer."""
    con = warehouse.connect(path)
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()


def employee_post(uid: str, text: str | None, when: str, **extra) -> dict:
    """A row of ``posts``: a post on X by an employee of Programs (author ``author-<uid>``)."""
    return {"post_uid": uid, "platform": "x", "account_type": "employee", "author_key": f"author-{uid}",
            "department": "Programs", "published_at": pd.Timestamp(when, tz="UTC"), "text": text,
            "reactions": 1.0, **extra}


def built(path: Path, **tables: list[dict]) -> Path:
    """A warehouse at ``path`` holding ``tables``' rows (table name -> rows), built."""
    for table, rows in tables.items():
        insert_rows(path, table, pd.DataFrame(rows))
    build.build(warehouse_file=path)
    return path


def built_from_scratch(path: Path, folder: Path) -> Path:
    """A copy of the warehouse at ``path`` with every derived table dropped, then built."""
    again = folder / "scratch.duckdb"
    shutil.copyfile(path, again)
    con = duckdb.connect(str(again))
    try:
        for table in warehouse.DERIVED_TABLES:
            con.execute(f"DROP TABLE IF EXISTS {table}")
    finally:
        con.close()
    build.build(warehouse_file=again)
    return again


def assert_same_as_scratch(path: Path, folder: Path, tables: Iterable[str]) -> None:
    """``tables`` of the warehouse at ``path`` equal those of a copy built from scratch (within 1e-9; the
    period tables, ``*_metrics``, in the order their computation wrote them, the others sorted)."""
    scratch = built_from_scratch(path, folder)
    for table in tables:
        sql = f"SELECT * FROM {table}" if table.endswith("_metrics") else f"SELECT * FROM {table} ORDER BY ALL"
        pd.testing.assert_frame_equal(query(path, sql), query(scratch, sql), check_exact=False, rtol=0, atol=1e-9,
                                      obj=table)
