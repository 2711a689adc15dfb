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


#: File endings that say Parquet; any other is written as CSV.
_PARQUET_ENDINGS = (".parquet", ".pq")


def export_table(
    table: str,
    *,
    warehouse_file: str | os.PathLike[str] | None = None,
    fmt: str | None = None,
    out: str | os.PathLike[str] | None = None,
) -> Path:
    """Write ``table`` to ``out`` and return the path: a file, or a folder to write ``<table>.<fmt>`` in
    (default the project's ``exports/``). ``fmt`` (csv or parquet) is, when not given, what the file's
    ending says (``.parquet``, ``.pq``, ``.csv``), else csv; a format the ending contradicts is refused.
    """
    if fmt not in (None, "csv", "parquet"):
        raise ValueError(f"Unknown export format {fmt!r}; choose csv or parquet.")
    named = Path(out) if out is not None and not Path(out).is_dir() else None
    ending = "" if named is None else named.suffix.lower()
    said = "parquet" if ending in _PARQUET_ENDINGS else "csv" if ending == ".csv" else None
    if fmt is not None and said is not None and fmt != said:
        raise ValueError(f"{named.name} is named as {said}, but the format asked for is {fmt}; "
                         f"name the file .{fmt}, or leave --format out.")
    fmt = fmt or said or "csv"
    frame = warehouse.read_table(table, warehouse_file, snapshot=False)
    folder = Path(out) if out is not None and named is None else config.PROJECT_ROOT / "exports"
    target = named or folder / f"{table}.{fmt}"
    target.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        escape_formulas(frame).to_csv(target, index=False)
    else:
        with warehouse.read_only(warehouse_file, snapshot=False) as con:
            con.register("_export", frame)
            con.execute("COPY _export TO ? (FORMAT parquet)", [str(target)])
    return target
