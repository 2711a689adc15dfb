"""A date cell is parsed with a format decided before pandas sees it: the same dates as letting pandas guess
with the preferred day/month order, and no "Parsing dates in ... format when dayfirst=..." warning."""

from __future__ import annotations

import itertools
import warnings

import pandas as pd
import pytest

from analytics.sources import base

#: Day/month fields around every limit (0, 12/13, 31/32, two digits), with every separator.
_FIELDS = ["0", "01", "9", "12", "13", "29", "31", "32", "45", "99"]
_TEXTS = [f"{a}{sep}{b}{sep}{year}{time}"
          for a, b in itertools.product(_FIELDS, _FIELDS) for sep in "/.- " for year in ("2025", "25")
          for time in ("", " 1:05 PM")]
_OTHERS = ["2025/05/12 6:22:32 AM +01:00", "2025/13/12 06:22:32 AM", "2025-03-30T01:30:00Z", "Tue, Sep 30, 2026",
           "Wed 24 Aug 2021 01:30:48", "30-1-2011", "2011-1-30", "31.03.2003 14:55:00.000", "03/30/2025  ",
           "  9/3/2025 1:05", "12/31/2025 23:59:59", "31/12/2025 23:59:59", "not a date", "1/2", "13/2025",
           "2025 03 31", "31 03 2025", "March 31, 2025", "31 March 2025"]


def _guessed(text: str, dayfirst: bool) -> pd.Timestamp | None:
    """The cell as pandas reads it when left to guess (the former parse): the reference."""
    first = dayfirst and bool(base._SLASHED.match(text))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pd.to_datetime(base._normalise_offset(text), dayfirst=first)
        except (ValueError, OverflowError, TypeError):
            return None


@pytest.mark.parametrize("dayfirst", [False, True])
def test_every_cell_reads_as_pandas_guessing_read_it_and_nothing_warns(dayfirst):
    texts = [*_TEXTS, *_OTHERS]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = [base._one_datetime(t, timezone="UTC", dayfirst=dayfirst, date_format=None) for t in texts]
    # pandas warns from compiled code, where a warning turned into an error is lost: so they are counted
    assert [str(w.message) for w in caught] == []
    read = 0
    for text, stamp in zip(texts, found, strict=True):
        expected = _guessed(text, dayfirst)
        if expected is None or pd.isna(expected):
            assert stamp is None, text
        else:
            assert stamp == (expected.tz_localize("UTC") if expected.tzinfo is None else expected), text
            read += 1
    assert read > len(texts) / 4


def test_a_cell_whose_preferred_order_is_impossible_is_read_the_other_way_round():
    assert base._one_datetime("03/30/2025 01:30", timezone="UTC", dayfirst=True, date_format=None) == \
        pd.Timestamp("2025-03-30 01:30", tz="UTC")
    assert base._one_datetime("30/03/2025", timezone="UTC", dayfirst=False, date_format=None) == \
        pd.Timestamp("2025-03-30", tz="UTC")
    assert base._one_datetime("04/03/2025", timezone="UTC", dayfirst=True, date_format=None) == \
        pd.Timestamp("2025-03-04", tz="UTC")
    assert base._one_datetime("04/03/2025", timezone="UTC", dayfirst=False, date_format=None) == \
        pd.Timestamp("2025-04-03", tz="UTC")
    assert base._one_datetime("13/13/2025", timezone="UTC", dayfirst=True, date_format=None) is None


def test_a_column_mixing_both_orders_parses_without_warnings():
    values = pd.Series(["31/03/2025 01:30", "03/20/2025 01:30", "10/20/2025 01:30", "02/30/2025 10:00", "13/13/2025",
                        "9/3/2025 1:05", "", "45000", "2025/05/12 6:22:32 AM GMT+1"] * 3, dtype=object)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stamps, bad = base.parse_datetimes(values, timezone="Europe/London", dayfirst=False)
    assert [str(w.message) for w in caught] == []
    # day first (the file has 31/03), but 20 is no month: read month first; GMT in March, BST in October
    assert stamps[1] == pd.Timestamp("2025-03-20 01:30", tz="UTC")
    assert stamps[2] == pd.Timestamp("2025-10-20 00:30", tz="UTC")
    assert bad.tolist()[:6] == [False, False, False, True, True, False]
