"""Read-only loaders the surfaces share: the frames analysis functions take, straight from the warehouse.

Each loader opens a short-lived read-only connection (the published snapshot) unless given one.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import duckdb
import pandas as pd

from analytics import config, warehouse

__all__ = ["employee_post_panel", "metric_series", "policy_revisions"]

WarehouseFile = str | os.PathLike[str] | None


@contextlib.contextmanager
def _connection(con: duckdb.DuckDBPyConnection | None, warehouse_file: WarehouseFile) -> Iterator:
    if con is not None:
        yield con
    else:
        with warehouse.read_only(warehouse_file) as opened:
            yield opened


def policy_revisions(*, con: duckdb.DuckDBPyConnection | None = None,
                     warehouse_file: WarehouseFile = None) -> pd.DataFrame:
    """Policy versions in date order: ``version, effective_on (Timestamp), summary, areas_changed``."""
    with _connection(con, warehouse_file) as c:
        frame = c.execute("SELECT version, effective_on, summary, areas_changed FROM policy_versions "
                          "ORDER BY effective_on").df()
    frame["effective_on"] = pd.to_datetime(frame["effective_on"])
    return frame


def metric_series(metric: str, *, department: str = "(all)", platform: str = "(all)", kind: str = "month",
                  con: duckdb.DuckDBPyConnection | None = None, warehouse_file: WarehouseFile = None) -> pd.DataFrame:
    """One metric's published series (suppression applied): the rows of ``monthly_metrics`` or
    ``quarterly_metrics`` for one grouping, with ``month`` as a Timestamp for monthly series."""
    if kind not in ("month", "quarter"):
        raise ValueError(f"kind={kind!r}: choose 'month' or 'quarter'.")
    with _connection(con, warehouse_file) as c:
        frame = c.execute(
            f"SELECT * FROM {kind}ly_metrics WHERE metric = ? AND department = ? AND platform = ? ORDER BY period",
            [metric, department, platform],
        ).df()
    if kind == "month":
        frame["month"] = pd.to_datetime(frame["period"] + "-01")
    return frame


def employee_post_panel(*, module: str | None = None, con: duckdb.DuckDBPyConnection | None = None,
                        warehouse_file: WarehouseFile = None) -> pd.DataFrame:
    """Employee posts with what the training analysis needs.

    Columns: ``post_uid, author_key, department, published_at, month, violation (bool), compound,
    completed_at (the author's first completion of ``module``, NaT if never), trained (the post was
    published after that completion)``.
    """
    module = module or config.get_settings().training_module
    with _connection(con, warehouse_file) as c:
        frame = c.execute(
            """SELECT f.post_uid, f.author_key, f.department, f.published_at, f.month, f.violation, f.compound,
                      t.completed_at
               FROM post_facts f
               LEFT JOIN (SELECT employee_key, min(completed_at) AS completed_at FROM trainings
                          WHERE module = ? GROUP BY employee_key) t ON t.employee_key = f.author_key
               WHERE f.account_type = 'employee'""",
            [module],
        ).df()
    frame["published_at"] = pd.to_datetime(frame["published_at"], utc=True)
    frame["completed_at"] = pd.to_datetime(frame["completed_at"], utc=True)
    frame["trained"] = frame["completed_at"].notna() & (frame["published_at"] > frame["completed_at"])
    frame["violation"] = frame["violation"].astype(bool)
    return frame
