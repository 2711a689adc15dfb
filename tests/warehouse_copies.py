"""Reading, changing and rebuilding test copies of a warehouse file (the build tests compare an incremental
build with the same data built from scratch)."""

from __future__ import annotations

import shutil
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
