"""Read-only loaders the surfaces share: the frames analysis functions take, straight from the warehouse.

Each loader opens a short-lived read-only connection (the published snapshot) unless given one, so a
surface that reads several frames can pass one connection to all of them. Timestamps come back as UTC
``Timestamp`` columns and months as month-start ``Timestamp`` columns (months are cut in the
organisation's time zone by ``build``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from datetime import date

import duckdb
import pandas as pd

from analytics import config, sentiment, warehouse
from analytics.metrics import ALL
from analytics.periods import Period, local_months, parse_period, quarter_of

__all__ = [
    "EMPLOYEE_POST_COLUMNS",
    "NO_POSTS",
    "UnreportablePeriod",
    "check_has_posts",
    "coverage_by_month",
    "coverage_table",
    "data_through",
    "employee_findings",
    "employee_post_panel",
    "employee_posts",
    "files_by_format",
    "first_completions",
    "incidents",
    "last_build",
    "latest_quarter",
    "metric_series",
    "metric_table",
    "policy_revisions",
    "post_months",
    "rejects_by_reason",
    "respondents",
    "select_series",
    "survey_answers",
    "survey_comments",
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


def metric_table(kind: str = "month", *, periods: Sequence[str] | None = None, con: Connection = None,
                 warehouse_file: WarehouseFile = None) -> pd.DataFrame:
    """The published ``monthly_metrics`` (``kind="month"``) or ``quarterly_metrics`` table (suppression
    applied), all of it or only the rows of ``periods``; the columns of
    :func:`analytics.metrics.period_metrics`."""
    if kind not in ("month", "quarter"):
        raise ValueError(f"kind={kind!r}: choose 'month' or 'quarter'.")
    where, params = "", []
    if periods is not None:
        where = f"WHERE period IN ({', '.join('?' * len(periods))})" if len(periods) else "WHERE false"
        params = list(periods)
    with _connection(con, warehouse_file) as c:
        return c.execute(f"SELECT * FROM {kind}ly_metrics {where} ORDER BY metric, department, platform, period",
                         params).df()


def select_series(
    table: pd.DataFrame, *, metric: str, department: str | None = ALL, platform: str | None = ALL,
    through: Period | str | None = None,
) -> pd.DataFrame:
    """One metric's rows of a published period table, for one grouping, up to the end of ``through``.

    ``department`` / ``platform`` name the group (``"(all)"``: not grouped by it); ``None`` keeps every
    department (platform) row but the organisation's. ``through`` (a period or its label) keeps the periods
    that start before its end. Monthly rows get ``month`` (the month start).

    Examples
    --------
    >>> table = pd.DataFrame({"metric": "incidents", "department": ["(all)", "(all)", "Finance"],
    ...                       "platform": "(all)", "period": ["2026-06", "2026-07", "2026-06"], "value": [3, 4, 1]})
    >>> select_series(table, metric="incidents", through="2026-06")[["period", "value"]].values.tolist()
    [['2026-06', 3]]
    >>> select_series(table, metric="incidents", department=None)["department"].tolist()
    ['Finance']
    """
    rows = table[table["metric"] == metric]
    for column, value in (("department", department), ("platform", platform)):
        rows = rows[rows[column] != ALL] if value is None else rows[rows[column] == value]
    rows = rows.copy()
    monthly = rows["period"].astype(str).str.fullmatch(r"\d{4}-\d{2}")
    if monthly.all():
        rows["month"] = pd.to_datetime(rows["period"] + "-01")
    if through is not None:
        end = pd.Timestamp((parse_period(through) if isinstance(through, str) else through).end)
        rows = rows[rows["period"].map(lambda label: _starts_before(label, end)).astype(bool)]
    return rows.sort_values("period", ignore_index=True)


def _starts_before(label: str, end: pd.Timestamp) -> bool:
    try:
        return pd.Timestamp(parse_period(str(label)).start) < end
    except ValueError:  # a configured survey wave named otherwise: its start is not in the label
        return False


def metric_series(metric: str, *, department: str | None = ALL, platform: str | None = ALL, kind: str = "month",
                  through: Period | str | None = None, con: Connection = None,
                  warehouse_file: WarehouseFile = None) -> pd.DataFrame:
    """One metric's published series (suppression applied): :func:`select_series` of the ``monthly_metrics``
    or ``quarterly_metrics`` rows, with ``month`` as a Timestamp for monthly series."""
    if kind not in ("month", "quarter"):
        raise ValueError(f"kind={kind!r}: choose 'month' or 'quarter'.")
    with _connection(con, warehouse_file) as c:
        rows = c.execute(f"SELECT * FROM {kind}ly_metrics WHERE metric = ?", [metric]).df()
    return select_series(rows, metric=metric, department=department, platform=platform, through=through)


#: The columns of :func:`employee_posts`.
EMPLOYEE_POST_COLUMNS = ("post_uid", "platform", "account_type", "author_key", "department", "published_at", "month",
                         "violation", "sentiment_status", "compound")


def employee_posts(*, through: Period | None = None, since: Period | None = None, department: str | None = None,
                   columns: Sequence[str] = EMPLOYEE_POST_COLUMNS, con: Connection = None,
                   warehouse_file: WarehouseFile = None) -> pd.DataFrame:
    """Employee posts (the ``post_facts`` rows of ``account_type = 'employee'``).

    ``through`` keeps the months up to the end of that period, ``since`` the months from the one that period
    begins in; ``department`` one department; ``columns`` some of the columns only (reading all of a quarter's
    posts' text columns took half the time of a policy-review quarter change's areas ranking, which needs four).

    Returns
    -------
    DataFrame
        The ``columns`` of: ``post_uid, platform, account_type, author_key, department, published_at`` (UTC),
        ``month`` (local month start), ``violation`` (bool: a medium or high finding), ``sentiment_status``,
        ``compound``.
    """
    unknown = sorted(set(columns) - set(EMPLOYEE_POST_COLUMNS))
    if unknown or not columns:
        raise ValueError(f"columns={list(columns)!r}: choose some of {list(EMPLOYEE_POST_COLUMNS)}")
    conditions, params = _months(since, through, "month")
    conditions.append("account_type = 'employee'")
    if department:
        conditions.append("department = ?")
        params.append(department)
    with _connection(con, warehouse_file) as c:
        frame = c.execute(f"SELECT {', '.join(columns)} FROM post_facts WHERE {' AND '.join(conditions)}",
                          params).df()
    if "month" in frame:
        frame["month"] = pd.to_datetime(frame["month"])
    if "violation" in frame:
        frame["violation"] = frame["violation"].astype(bool)
    return _utc(frame, *({"published_at"} & set(frame)))


def employee_findings(*, through: Period | None = None, since: Period | None = None, con: Connection = None,
                      warehouse_file: WarehouseFile = None) -> pd.DataFrame:
    """Policy findings on employee posts: ``post_uid, rule_id, area, severity, evidence_redacted, dismissed``
    (dismissed false positives included, flagged); ``through`` and ``since`` keep the posts' months as
    :func:`employee_posts` does."""
    conditions, params = _months(since, through, "p.month")
    with _connection(con, warehouse_file) as c:
        return c.execute(f"""SELECT f.post_uid, f.rule_id, f.area, f.severity, f.evidence_redacted, f.dismissed
                             FROM post_findings f JOIN post_facts p USING (post_uid)
                             WHERE {' AND '.join([*conditions, "p.account_type = 'employee'"])}""", params).df()


def _months(since: Period | None, through: Period | None, column: str) -> tuple[list[str], list]:
    """SQL conditions on a local-month ``column`` (with their parameters) keeping the months up to the end of
    ``through`` and from the one ``since`` begins in."""
    conditions, params = [], []
    if through is not None:
        conditions.append(f"{column} < ?")
        params.append(through.end)
    if since is not None:
        conditions.append(f"{column} >= ?")
        params.append(since.start.replace(day=1))
    return conditions, params


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


def survey_comments(*, con: Connection = None, warehouse_file: WarehouseFile = None) -> pd.DataFrame:
    """Survey comments (redacted as stored) with their respondent's wave and the build's sentiment of their
    text: ``response_id, item_id, text, wave, department, submitted_at, finished, sentiment_status, compound``,
    the frame :func:`analytics.feedback.feedback_themes` takes."""
    version = sentiment.SCORER_VERSION.replace("'", "''")
    with _connection(con, warehouse_file) as c:
        return c.execute(f"""SELECT c.response_id, c.item_id, c.text, r.wave, r.department, r.submitted_at, r.finished,
                                    s.status AS sentiment_status, s.compound
                             FROM survey_comments c JOIN respondents r USING (response_id)
                             LEFT JOIN sentiment s ON s.text_hash = sha256(c.text) AND s.scorer_version = '{version}'
                          """).df()


def survey_answers(*, con: Connection = None, warehouse_file: WarehouseFile = None) -> pd.DataFrame:
    """Answers to codebook questions: ``response_id, item_id, value, value_label, mapped`` (``mapped`` only)."""
    with _connection(con, warehouse_file) as c:
        return c.execute("SELECT response_id, item_id, value, value_label, mapped FROM survey_answers "
                         "WHERE mapped").df()


def first_completions(*, module: str | None = None, con: Connection = None,
                      warehouse_file: WarehouseFile = None) -> pd.DataFrame:
    """Each employee's first completion of a training ``module`` (default the configured policy training):
    ``employee_key, completed_at`` (UTC)."""
    module = module or config.get_settings().training_module
    with _connection(con, warehouse_file) as c:
        frame = c.execute("SELECT employee_key, min(completed_at) AS completed_at FROM trainings WHERE module = ? "
                          "GROUP BY employee_key", [module]).df()
    return _utc(frame, "completed_at")


def employee_post_panel(*, module: str | None = None, through: Period | None = None, department: str | None = None,
                        con: Connection = None, warehouse_file: WarehouseFile = None) -> pd.DataFrame:
    """Employee posts with what the training analysis needs.

    ``through`` keeps the months up to the end of that period and counts only the completions before its
    end (a later one had not happened yet); ``department`` keeps one department.

    Returns
    -------
    DataFrame
        The columns of :func:`employee_posts` (posts without an author left out) plus ``completed_at``
        (the author's first completion of ``module``, NaT if never), ``trained`` (the post was
        published after that completion) and ``trained_before_month`` (the author completed it in a month
        before the post's local month). That last status is decided by the completions before the post's
        month alone, so a month's trained and not-yet-trained employees are the same whatever ``through``
        is: two periods' figures for one month never differ by the people who trained in between.
    """
    with _connection(con, warehouse_file) as c:
        posts = employee_posts(through=through, department=department, con=c)
        done = first_completions(module=module, con=c)
    frame = posts.dropna(subset=["author_key"]).merge(
        done.rename(columns={"employee_key": "author_key"}), on="author_key", how="left")
    if through is not None:
        frame["completed_at"] = frame["completed_at"].where(frame["completed_at"] < pd.Timestamp(through.end, tz="UTC"))
    frame["trained"] = frame["completed_at"].notna() & (frame["published_at"] > frame["completed_at"])
    completed_month = local_months(frame["completed_at"], config.get_settings().timezone)
    frame["trained_before_month"] = (completed_month < frame["month"]).fillna(False).astype(bool)
    return frame.reset_index(drop=True)


# --- coverage -------------------------------------------------------------------------------------------

_COUNTS = ["n_posts", "n_organisation", "n_employee", "n_unattributed"]


def coverage_table(counts: pd.DataFrame, *, last: pd.Timestamp | None = None) -> pd.DataFrame:
    """Posts per platform and month with the missing platform-months marked.

    Each platform runs from its first month with posts to ``last`` (default the last month with any
    post); a gap is a month in that span without a post from the platform — an export that is missing,
    or an account that went quiet.

    Parameters
    ----------
    counts : DataFrame
        ``month`` (month start), ``platform``, ``n_posts`` and, optionally, ``n_organisation``,
        ``n_employee``, ``n_unattributed``.

    Returns
    -------
    DataFrame
        ``month, platform, n_posts, n_organisation, n_employee, n_unattributed`` (0 where nothing was
        posted), ``gap``; by platform and month.

    Examples
    --------
    >>> counts = pd.DataFrame({"platform": ["x", "x", "x", "mastodon"], "n_posts": [5, 4, 6, 2],
    ...     "month": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-04-01", "2026-03-01"])})
    >>> table = coverage_table(counts)
    >>> [(p, f"{m:%Y-%m}") for p, m in table.loc[table["gap"], ["platform", "month"]].itertuples(index=False)]
    [('mastodon', '2026-04'), ('x', '2026-03')]
    """
    columns = ["month", "platform", *_COUNTS, "gap"]
    counts = counts[counts["n_posts"] > 0]
    if counts.empty:
        return pd.DataFrame(columns=columns)
    counts = counts.assign(month=pd.to_datetime(counts["month"]))
    last = counts["month"].max() if last is None else pd.Timestamp(last)
    counts = counts[counts["month"] <= last]
    pieces = []
    for platform, part in counts.groupby("platform", sort=True):
        months = pd.date_range(part["month"].min(), last, freq="MS")
        pieces.append(part.set_index("month").reindex(months).rename_axis("month").reset_index()
                      .assign(platform=platform))
    table = pd.concat(pieces, ignore_index=True)
    for column in _COUNTS:
        table[column] = table[column].fillna(0).astype("int64") if column in table else 0
    table["gap"] = table["n_posts"] == 0
    return table[columns]


def coverage_by_month(*, period: str | None = None, con: Connection = None,
                      warehouse_file: WarehouseFile = None) -> pd.DataFrame:
    """Posts per platform and month over the whole data span (or up to the end of ``period``), with the
    gaps: :func:`coverage_table` of the ``post_facts`` counts. Months are cut in the organisation's
    time zone."""
    with _connection(con, warehouse_file) as c:
        counts = c.execute(
            """SELECT month, platform, count(*) AS n_posts,
                      count(*) FILTER (WHERE account_type = 'organization') AS n_organisation,
                      count(*) FILTER (WHERE account_type = 'employee') AS n_employee,
                      count(*) FILTER (WHERE account_type = 'unattributed') AS n_unattributed
               FROM post_facts WHERE month IS NOT NULL GROUP BY ALL""").df()
    last = pd.Timestamp(parse_period(period).months[-1]) if period else None
    return coverage_table(counts, last=last)


def data_through(*, con: Connection = None, warehouse_file: WarehouseFile = None) -> pd.DataFrame:
    """How far each kind of data reaches: ``source`` (``posts``, ``survey responses``, ``incidents``,
    ``trainings``, ``audience comments``) and ``latest`` (its last timestamp in the organisation's time
    zone, tz-naive; NaT when there is none)."""
    zone = config.get_settings().timezone
    with _connection(con, warehouse_file) as c:
        frame = c.execute(
            """SELECT 'posts' AS source, max(published_at) AS latest FROM posts
               UNION ALL SELECT 'survey responses', max(submitted_at) FROM respondents
               UNION ALL SELECT 'incidents', max(reported_at) FROM incidents
               UNION ALL SELECT 'trainings', max(completed_at) FROM trainings
               UNION ALL SELECT 'audience comments', max(published_at) FROM audience_comments""").df()
    frame["latest"] = pd.to_datetime(frame["latest"], utc=True).dt.tz_convert(zone).dt.tz_localize(None)
    return frame


#: What a reader of a warehouse without posts is told to do.
NO_POSTS = "The warehouse has no posts yet: run `policy-pulse ingest` and `build`."


def post_months(*, con: Connection = None, warehouse_file: WarehouseFile = None) -> tuple[date, date] | None:
    """The first and the last month with posts (as the build dated them, in the organisation's time zone);
    ``None`` before the first build with posts."""
    with _connection(con, warehouse_file) as c:
        first, last = c.execute("SELECT min(month), max(month) FROM post_facts").fetchone()
    return None if first is None else (pd.Timestamp(first).date(), pd.Timestamp(last).date())


class UnreportablePeriod(ValueError):
    """The period asked for lies outside the months with posts (the message names them), or the period to
    compare with does not come before it."""


def check_has_posts(period: Period, *, con: Connection = None, warehouse_file: WarehouseFile = None) -> None:
    """Raise :class:`UnreportablePeriod`, naming the months with posts, when ``period`` has none of them
    (:class:`analytics.warehouse.WarehouseMissing` before the first build with posts)."""
    months = post_months(con=con, warehouse_file=warehouse_file)
    if months is None:
        raise warehouse.WarehouseMissing(NO_POSTS)
    first, last = months
    if period.end <= first or period.start >= (pd.Timestamp(last) + pd.DateOffset(months=1)).date():
        raise UnreportablePeriod(f"{period.label} has no posts: the warehouse's posts run from {first:%Y-%m} to "
                                 f"{last:%Y-%m}. Choose a period in that range, such as {quarter_of(last).label}.")


def latest_quarter(*, con: Connection = None, warehouse_file: WarehouseFile = None) -> Period:
    """The latest quarter with posts: what a report or notebook shows when no period is chosen.

    Raises :class:`analytics.warehouse.WarehouseMissing`, saying what to run, when no post is built yet."""
    months = post_months(con=con, warehouse_file=warehouse_file)
    if months is None:
        raise warehouse.WarehouseMissing(NO_POSTS)
    return quarter_of(months[1])


def last_build(*, con: Connection = None, warehouse_file: WarehouseFile = None) -> pd.Timestamp | None:
    """When ``build`` last published the derived tables (UTC, tz-naive), ``None`` if never."""
    with _connection(con, warehouse_file) as c:
        tables = {r[0] for r in c.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        built = c.execute("SELECT max(built_at) FROM build_log").fetchone()[0] if "build_log" in tables else None
    if built is None or pd.isna(built):
        return None
    stamp = pd.Timestamp(built)
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp


def files_by_format(*, con: Connection = None, warehouse_file: WarehouseFile = None) -> pd.DataFrame:
    """The files ingested and their rows, per source format: the figures ``policy-pulse ingest`` prints.

    A file's rows are its own (a survey export's row is a response), not the rows of every table it fed:
    a response's answers and comments are parts of that one row (:data:`analytics.warehouse.PART_TABLES`).

    Returns
    -------
    DataFrame
        One row per format, in name order: ``format`` (its id), ``export`` (what a reader calls it:
        :func:`analytics.sources.format_title`), ``files``, ``rows_read``, ``rows_loaded``, ``rows_rejected``.
    """
    from analytics import sources  # the adapters, loaded only for their descriptions

    parts = ", ".join(f"'{name}'" for name in warehouse.PART_TABLES)
    with _connection(con, warehouse_file) as c:
        counts = c.execute(f"""
            SELECT format, count(DISTINCT file_sha256) AS files,
                   coalesce(sum(rows_read) FILTER (WHERE table_name NOT IN ({parts})), 0)::BIGINT AS rows_read,
                   coalesce(sum(rows_loaded) FILTER (WHERE table_name NOT IN ({parts})), 0)::BIGINT AS rows_loaded,
                   coalesce(sum(rows_rejected), 0)::BIGINT AS rows_rejected
            FROM ingest_log GROUP BY format ORDER BY format""").df()
    counts.insert(1, "export", counts["format"].map(sources.format_title))
    return counts


def rejects_by_reason(*, con: Connection = None, warehouse_file: WarehouseFile = None) -> pd.DataFrame:
    """What was rejected and why, grouped by reason.

    Returns
    -------
    DataFrame
        One row per reason, most rows first: ``reason``, ``n_rows``, ``n_files``, ``files`` (up to three
        file names), ``example_rows`` (up to five source row numbers, to look the rows up in the files).
    """
    with _connection(con, warehouse_file) as c:
        frame = c.execute("SELECT reason, file_name, source_row FROM rejects ORDER BY file_name, source_row").df()
    columns = ["reason", "n_rows", "n_files", "files", "example_rows"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for reason, part in frame.groupby("reason", sort=False):
        names = list(dict.fromkeys(part["file_name"].astype(str)))
        rows.append({"reason": reason, "n_rows": len(part), "n_files": len(names),
                     "files": ", ".join(names[:3]) + (" …" if len(names) > 3 else ""),
                     "example_rows": ", ".join(str(int(r)) for r in part["source_row"].dropna().head(5))})
    return pd.DataFrame(rows, columns=columns).sort_values(["n_rows", "reason"], ascending=[False, True],
                                                           ignore_index=True)
