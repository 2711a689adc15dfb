"""Read-only loaders the surfaces share: the frames analysis functions take, straight from the warehouse.

Each loader opens a short-lived read-only connection (the published snapshot) unless given one, so a
surface that reads several frames can pass one connection to all of them. Timestamps come back as UTC
``Timestamp`` columns and months as month-start ``Timestamp`` columns (months are cut in the
organisation's time zone by ``build``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import duckdb
import pandas as pd

from analytics import config, warehouse
from analytics.periods import Period

__all__ = [
    "employee_findings",
    "employee_post_panel",
    "employee_posts",
    "incidents",
    "metric_series",
    "policy_revisions",
    "respondents",
    "survey_answers",
]

WarehouseFile = str | os.PathLike[str] | None
Connection = duckdb.DuckDBPyConnection | None


@contextlib.contextmanager
def _connection(con: Connection, warehouse_file: WarehouseFile) -> Iterator:
    if con is not None:
        yield con
    else:
        with warehouse.read_only(warehouse_file) as opened:
            yield opened


def _utc(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    for column in columns:
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def policy_revisions(*, con: Connection = None, warehouse_file: WarehouseFile = None) -> pd.DataFrame:
    """Policy versions in date order: ``version, effective_on (Timestamp), summary, areas_changed``."""
    with _connection(con, warehouse_file) as c:
        frame = c.execute("SELECT version, effective_on, summary, areas_changed FROM policy_versions "
                          "ORDER BY effective_on").df()
    frame["effective_on"] = pd.to_datetime(frame["effective_on"])
    return frame


def metric_series(metric: str, *, department: str = "(all)", platform: str = "(all)", kind: str = "month",
                  con: Connection = None, warehouse_file: WarehouseFile = None) -> pd.DataFrame:
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


def employee_posts(*, through: Period | None = None, department: str | None = None, con: Connection = None,
                   warehouse_file: WarehouseFile = None) -> pd.DataFrame:
    """Employee posts (the ``post_facts`` rows of ``account_type = 'employee'``).

    ``through`` keeps the months up to the end of that period; ``department`` one department.

    Returns
    -------
    DataFrame
        ``post_uid, platform, account_type, author_key, department, published_at`` (UTC), ``month``
        (local month start), ``violation`` (bool: a medium or high finding), ``sentiment_status``,
        ``compound``.
    """
    conditions, params = ["account_type = 'employee'"], []
    if through is not None:
        conditions.append("month < ?")
        params.append(through.end)
    if department:
        conditions.append("department = ?")
        params.append(department)
    with _connection(con, warehouse_file) as c:
        frame = c.execute(f"""SELECT post_uid, platform, account_type, author_key, department, published_at, month,
                                     violation, sentiment_status, compound
                              FROM post_facts WHERE {' AND '.join(conditions)}""", params).df()
    frame["month"] = pd.to_datetime(frame["month"])
    frame["violation"] = frame["violation"].astype(bool)
    return _utc(frame, "published_at")


def employee_findings(*, con: Connection = None, warehouse_file: WarehouseFile = None) -> pd.DataFrame:
    """Policy findings on employee posts: ``post_uid, rule_id, area, severity, evidence_redacted, dismissed``
    (dismissed false positives included, flagged)."""
    with _connection(con, warehouse_file) as c:
        return c.execute("""SELECT f.post_uid, f.rule_id, f.area, f.severity, f.evidence_redacted, f.dismissed
                            FROM post_findings f JOIN post_facts p USING (post_uid)
                            WHERE p.account_type = 'employee'""").df()


def incidents(*, con: Connection = None, warehouse_file: WarehouseFile = None) -> pd.DataFrame:
    """Incidents with their timings, no people: ``incident_id, reported_at`` (UTC), ``month`` (local month
    start of the report), ``area, severity, detection, department, hours_to_report, hours_to_resolve``."""
    with _connection(con, warehouse_file) as c:
        frame = c.execute("""SELECT i.incident_id, i.reported_at, t.month, i.area, i.severity, i.detection,
                                    t.department, t.hours_to_report, t.hours_to_resolve
                             FROM incidents i JOIN incident_timings t USING (incident_id)""").df()
    frame["month"] = pd.to_datetime(frame["month"])
    return _utc(frame, "reported_at")


def respondents(*, con: Connection = None, warehouse_file: WarehouseFile = None) -> pd.DataFrame:
    """Survey respondents (the ``respondents`` table, ``submitted_at`` as UTC)."""
    with _connection(con, warehouse_file) as c:
        frame = c.execute("SELECT * FROM respondents").df()
    return _utc(frame, "submitted_at")


def survey_answers(*, con: Connection = None, warehouse_file: WarehouseFile = None) -> pd.DataFrame:
    """Answers to codebook questions: ``response_id, item_id, value, value_label, mapped`` (``mapped`` only)."""
    with _connection(con, warehouse_file) as c:
        return c.execute("SELECT response_id, item_id, value, value_label, mapped FROM survey_answers "
                         "WHERE mapped").df()


def employee_post_panel(*, module: str | None = None, con: Connection = None,
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
