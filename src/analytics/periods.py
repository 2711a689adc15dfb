"""Reporting periods: ``YYYY-Qn``, ``YYYY-MM`` or an explicit from/to, and "the previous one".

Periods are cut in the organisation's time zone; "previous" is the preceding period of equal length (whole months
before whole months).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

__all__ = ["PERIOD_KINDS", "Period", "local_months", "parse_period", "period_labels", "quarter_of",
           "sql_period_label"]

#: The kinds of period a table is cut into, as :func:`period_labels` names them.
PERIOD_KINDS = ("month", "quarter")


@dataclass(frozen=True)
class Period:
    """A half-open span of local calendar days ``[start, end)`` with a label."""

    label: str
    start: date
    end: date

    @property
    def kind(self) -> str:
        """``"quarter"``, ``"month"`` or ``"custom"`` (a from/to range): which published table holds it.

        >>> [parse_period(text).kind for text in ("2026-Q3", "2026-07")]
        ['quarter', 'month']
        >>> parse_period(start="2026-07-02", end="2026-07-20").kind
        'custom'
        """
        if re.fullmatch(r"\d{4}-Q[1-4]", self.label):
            return "quarter"
        return "month" if re.fullmatch(r"\d{4}-\d{2}", self.label) else "custom"

    @property
    def months(self) -> list[date]:
        """First days of the months the period covers."""
        return [d.date() for d in pd.date_range(self.start, self.end - timedelta(days=1), freq="MS")] or [
            self.start.replace(day=1)
        ]

    def previous(self) -> Period:
        """The preceding period of equal length (a quarter before a quarter, a month before a month, as many
        whole months before whole months, else as many days).

        >>> parse_period("2026-Q3").previous().label, parse_period("2026-01").previous().label
        ('2026-Q2', '2025-12')
        >>> parse_period(start="2026-02-01", end="2026-05-31").previous().label
        '2025-10-01..2026-01-31'
        >>> parse_period(start="2026-01-15", end="2026-02-14").previous().label
        '2025-12-16..2026-01-14'
        """
        months = _whole_months(self.start, self.end)
        if months:  # a quarter or a month is named as one by parse_period
            first = (pd.Timestamp(self.start) - pd.DateOffset(months=months)).date()
            return parse_period(start=first, end=self.start - timedelta(days=1))
        length = self.end - self.start
        return Period(f"{self.start - length}..{self.start - timedelta(days=1)}", self.start - length, self.start)

    def contains(self, stamps: pd.Series, timezone: str) -> pd.Series:
        """Which UTC timestamps fall inside the period (in local time)."""
        local = _wall_times(stamps, timezone)
        return (local >= pd.Timestamp(self.start)) & (local < pd.Timestamp(self.end))


def parse_period(text: str | None = None, *, start: str | date | None = None, end: str | date | None = None) -> Period:
    """``"2026-Q3"``, ``"2026-07"``, or ``start``/``end`` (inclusive end day) as a :class:`Period`.

    >>> p = parse_period("2026-Q3"); (p.start.isoformat(), p.end.isoformat())
    ('2026-07-01', '2026-10-01')
    >>> parse_period(start="2026-01-15", end="2026-02-14").label
    '2026-01-15..2026-02-14'
    >>> parse_period(start="2026-01-01", end="2026-03-31").previous().label
    '2025-Q4'
    """
    if text:
        text = text.strip()
        quarter = re.fullmatch(r"(\d{4})-?Q([1-4])", text, re.IGNORECASE)
        month = re.fullmatch(r"(\d{4})-(\d{2})", text)
        if quarter:
            year, q = int(quarter.group(1)), int(quarter.group(2))
            first = date(year, 3 * (q - 1) + 1, 1)
            return Period(f"{year}-Q{q}", first, (pd.Timestamp(first) + pd.DateOffset(months=3)).date())
        if month and 1 <= int(month.group(2)) <= 12:
            first = date(int(month.group(1)), int(month.group(2)), 1)
            return Period(text, first, (pd.Timestamp(first) + pd.DateOffset(months=1)).date())
        raise ValueError(f"Period {text!r} is not YYYY-Qn (2026-Q3) or YYYY-MM (2026-07); or give --from/--to.")
    if start is None or end is None:
        raise ValueError("Give a period (YYYY-Qn or YYYY-MM) or both --from and --to.")
    first, last = pd.Timestamp(start).date(), pd.Timestamp(end).date()
    if last < first:
        raise ValueError(f"--to {last} is before --from {first}.")
    after = last + timedelta(days=1)
    # a calendar quarter or month given by its days is that quarter or month (and has it before it)
    months = _whole_months(first, after)
    if months == 3 and first.month % 3 == 1:
        return quarter_of(first)
    if months == 1:
        return parse_period(first.strftime("%Y-%m"))
    return Period(f"{first}..{last}", first, after)


def quarter_of(day: date) -> Period:
    """The calendar quarter ``day`` falls in.

    >>> quarter_of(date(2026, 8, 31)).label
    '2026-Q3'
    """
    return parse_period(f"{day.year}-Q{(day.month - 1) // 3 + 1}")


def local_months(stamps: pd.Series, timezone: str) -> pd.Series:
    """The local calendar month of each instant: the first day (naive, local midnight) of the month it falls in
    when read in ``timezone``.

    Parameters
    ----------
    stamps : Series
        Instants: time-zone aware, or naive and then UTC (as the warehouse stores them). Missing stays missing.
    timezone : str
        IANA zone the months are cut in (the organisation's: ``config.get_settings().timezone``).

    Returns
    -------
    Series
        Month starts (naive timestamps, ``NaT`` where ``stamps`` is missing), on the index of ``stamps``.

    Examples
    --------
    Half an hour from midnight UTC on a quarter's last day is already the next month in Berlin, and still the
    previous one in New York:

    >>> stamps = pd.Series(pd.to_datetime(["2026-03-31 23:30", "2026-04-01 00:30", None], utc=True))
    >>> local_months(stamps, "Europe/Berlin").dt.strftime("%Y-%m").tolist()
    ['2026-04', '2026-04', nan]
    >>> local_months(stamps, "America/New_York").dt.strftime("%Y-%m").tolist()
    ['2026-03', '2026-03', nan]
    """
    # a few distinct days among many rows: each day's month is found once
    codes, days = pd.factorize(_wall_times(stamps, timezone).to_numpy().astype("datetime64[D]"))
    firsts = pd.DatetimeIndex(days).to_period("M").to_timestamp()
    return pd.Series(firsts.take(codes, allow_fill=True, fill_value=pd.NaT), index=stamps.index, name=stamps.name)


def period_labels(months: pd.Series, kind: str = "month") -> pd.Series:
    """The label (``YYYY-MM`` or ``YYYY-Qn``) of the month or the quarter each value falls in, read at face value.

    Parameters
    ----------
    months : Series
        Local calendar days or months: dates, naive timestamps (a month's first day, as :func:`local_months`
        gives) or ``YYYY-MM`` labels. Missing stays missing.
    kind : {"month", "quarter"}
        The period to label.

    Returns
    -------
    Series
        The labels (strings, missing where ``months`` is), on the index of ``months``.

    Examples
    --------
    >>> months = pd.Series(["2026-03", "2026-04", None, "2026-12"])
    >>> period_labels(months, "quarter").tolist()
    ['2026-Q1', '2026-Q2', nan, '2026-Q4']
    >>> period_labels(pd.Series(pd.to_datetime(["2026-07-01", "2026-07-31"])), "month").tolist()
    ['2026-07', '2026-07']

    Instants are cut in the organisation's time zone first:

    >>> stamps = pd.Series(pd.to_datetime(["2026-03-31 23:30"], utc=True))
    >>> period_labels(local_months(stamps, "Asia/Tokyo"), "quarter").tolist()
    ['2026-Q2']
    """
    if kind not in PERIOD_KINDS:
        raise ValueError(f"kind={kind!r}: choose one of {list(PERIOD_KINDS)}.")
    if isinstance(months.dtype, pd.DatetimeTZDtype):
        raise ValueError("period_labels reads calendar months at face value, and instants have none until read in a "
                         "time zone: pass local_months(stamps, timezone).")
    # a few distinct months among many rows: each is labelled once
    codes, distinct = pd.factorize(months)
    firsts = pd.DatetimeIndex(pd.to_datetime(distinct))
    if kind == "month":
        labels = firsts.strftime("%Y-%m")
    else:
        labels = firsts.year.astype(str) + "-Q" + firsts.quarter.astype(str)
    return pd.Series(pd.array(labels, dtype="str").take(codes, allow_fill=True), index=months.index)


def sql_period_label(column: str, kind: str = "month") -> str:
    """:func:`period_labels` as a DuckDB expression of ``column`` (a DATE or naive TIMESTAMP: a local calendar
    day or month, read at face value), for queries that group by period before their rows reach pandas.

    >>> import duckdb
    >>> duckdb.connect().execute(f"SELECT {sql_period_label('d')}, {sql_period_label('d', 'quarter')} "
    ...                          "FROM (SELECT DATE '2026-10-31' AS d)").fetchone()
    ('2026-10', '2026-Q4')
    """
    if kind not in PERIOD_KINDS:
        raise ValueError(f"kind={kind!r}: choose one of {list(PERIOD_KINDS)}.")
    if kind == "month":
        return f"strftime({column}, '%Y-%m')"
    return f"strftime({column}, '%Y') || '-Q' || quarter({column})"


def _wall_times(stamps: pd.Series, timezone: str) -> pd.Series:
    """Instants (naive ones UTC) as the naive local time a clock in ``timezone`` shows."""
    return pd.to_datetime(stamps, utc=True).dt.tz_convert(timezone).dt.tz_localize(None)


def _whole_months(start: date, end: date) -> int:
    """How many whole months ``[start, end)`` spans, 0 when it does not begin and end on a month's first day."""
    if start.day != 1 or end.day != 1:
        return 0
    return (end.year - start.year) * 12 + end.month - start.month
