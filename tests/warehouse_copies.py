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
