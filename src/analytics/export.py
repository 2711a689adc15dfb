"""Export a warehouse table as CSV or Parquet, safe to open in a spreadsheet."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from analytics import config, warehouse

__all__ = ["escape_formulas", "export_table"]

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe; numbers stay numbers.

    >>> escape_formulas(pd.DataFrame({"t": ["=1+1", "-x", "ok"], "n": [-1, 2, 3]})).to_dict("list")
    {'t': ["'=1+1", "'-x", 'ok'], 'n': [-1, 2, 3]}
    """
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_string_dtype(out[column]) or out[column].dtype == object:
            out[column] = out[column].map(
                lambda v: "'" + v if isinstance(v, str) and v.startswith(_FORMULA_STARTS) else v
            )
    return out


def export_table(
    table: str,
    *,
    warehouse_file: str | os.PathLike[str] | None = None,
    fmt: str = "csv",
    out: str | os.PathLike[str] | None = None,
) -> Path:
    """Write ``table`` to ``out`` (default ``exports/<table>.<fmt>``) and return the path."""
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"Unknown export format {fmt!r}; choose csv or parquet.")
    frame = warehouse.read_table(table, warehouse_file, snapshot=False)
    target = Path(out) if out else config.PROJECT_ROOT / "exports" / f"{table}.{fmt}"
    target.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        escape_formulas(frame).to_csv(target, index=False)
    else:
        with warehouse.read_only(warehouse_file, snapshot=False) as con:
            con.register("_export", frame)
            con.execute("COPY _export TO ? (FORMAT parquet)", [str(target)])
    return target
