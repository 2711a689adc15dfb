"""The period tables' fast paths give what the slow ones give."""

from __future__ import annotations

import sys

import duckdb
import numpy as np
import pandas as pd
import pytest

from analytics import config, engagement, metrics


def test_lower_to_ascii_lists_every_character_whose_lower_case_holds_ascii():
    found = "".join(chr(code) for code in range(128, sys.maxunicode + 1)
                    if any(ord(c) < 128 for c in chr(code).lower()))
    assert found == metrics._LOWER_TO_ASCII


def _assert_same_table(fast: pd.DataFrame, slow: pd.DataFrame) -> None:
    # floats to the last bits: DuckDB's parallel sums and pandas' means over rows in join order are not
    # bit-reproducible from one run to the next even with the same code
    floats = [c for c in slow.columns if slow[c].dtype.kind == "f"]
    pd.testing.assert_frame_equal(fast.drop(columns=floats), slow.drop(columns=floats), check_exact=True)
    pd.testing.assert_frame_equal(fast[floats], slow[floats], check_exact=False, rtol=1e-12, atol=1e-15)


def test_period_tables_equal_two_period_metrics_calls(sample_warehouse):
    con = duckdb.connect(str(sample_warehouse), read_only=True)
    try:
        monthly, quarterly = metrics.period_tables(con, k=5)
        slow_monthly = metrics.period_metrics(con, kind="month", k=5)
        slow_quarterly = metrics.period_metrics(con, kind="quarter", k=5, months=slow_monthly)
        alone = metrics.period_metrics(con, kind="quarter", k=5)
    finally:
        con.close()
    assert len(monthly) and len(quarterly) and set(quarterly["metric"]) > set(monthly["metric"])
    _assert_same_table(monthly, slow_monthly)
    _assert_same_table(quarterly, slow_quarterly)
    _assert_same_table(alone, slow_quarterly)


_HOSTILE = [
    "Give at riverbendtrust.org/donate today", "GIVE: HTTPS://RIVERBENDTRUST.ORG/DONATE", "nothing here",
    # İ lowers to "i" + a combining dot; the Kelvin sign lowers to "k"
    "riverbendtrust.org/volunteer\u0130", "riverbendtrust.org/volunteer".replace("r", "R"),
    "rivErbEndtrust.org/donat\u212a", "riverbendtrust.org/donat\u212a",
    "short https://t.co/abc only", "riverbend\u0130trust.org/donate", "", None, "ＲＩＶＥＲ full width",
    "both riverbendtrust.org/donate and riverbendtrust.org/volunteer", "riverbendtrust.org/don ate",
]


@pytest.mark.parametrize("patterns", [
    {"donate": ["riverbendtrust.org/donate"], "volunteer": ["RiverbendTrust.org/Volunteer"]},
    {"donate": ["riverbendtrust.org/donate", "k"]},
    {"donate": ["i\u0307"]},  # not ASCII: every text is checked
    {"donate": ["ｒｉｖｅｒ"]},
    {"donate": []},
])
def test_mission_posts_equal_mission_links_over_every_text(patterns, monkeypatch):
    monkeypatch.setattr(config, "get_settings", lambda: config.Settings(mission_url_patterns=patterns))
    rng = np.random.default_rng(3)
    texts = [*_HOSTILE, *("".join(rng.choice(list("rivebndtus.org/DONATEkK\u0130\u212a "), 30)) for _ in range(300))]
    con = duckdb.connect()
    con.execute("CREATE TABLE posts (post_uid VARCHAR, text VARCHAR, clicks DOUBLE, account_type VARCHAR)")
    con.execute("CREATE TABLE post_facts (post_uid VARCHAR, account_type VARCHAR, month DATE)")
    # post_facts copies each post's account type (the employee posts' texts link too: they must be left out)
    frame = pd.DataFrame({"post_uid": [f"p{i}" for i in range(len(texts))], "text": texts,
                          "clicks": np.arange(len(texts), dtype=float),
                          "account_type": np.where(np.arange(len(texts)) % 7 == 3, "employee", "organization")})
    facts = frame[["post_uid", "account_type"]].assign(month=pd.Timestamp("2026-01-01"))
    con.register("_posts", frame)
    con.register("_facts", facts)
    con.execute("INSERT INTO posts SELECT * FROM _posts")
    con.execute("INSERT INTO post_facts SELECT * FROM _facts")
    organisation = facts["account_type"] == "organization"
    links = engagement.mission_links(frame.loc[organisation, "text"], patterns=patterns)
    expected = set(frame.loc[sorted(set(links.loc[links["page"] != engagement.SHORT_LINK_PAGE, "text_index"])),
                             "post_uid"])
    found = metrics._mission_posts(con)
    assert list(found.columns) == ["post_uid", "month", "clicks"]
    assert set(found["post_uid"]) == expected and len(found) == len(expected)
    if patterns == {"donate": ["riverbendtrust.org/donate", "k"]}:
        assert len(expected) > 20  # the random texts do link: the comparison is not vacuous
