"""The build's policy scan takes shortcuts that must not change what it finds: each distinct (text,
employee post) pair is scanned once, rules RE2 sees no regex of are skipped, and start positions in ASCII
texts are taken from RE2 without decoding."""

from __future__ import annotations

import re
import shutil

import duckdb
import pandas as pd
import pytest

from analytics import adherence, build, themes, warehouse

re2 = pytest.importorskip("re2")

HOSTILE = [
    "", "Riverbend Community Trust", "riverbend community trust rocks", "Café ☕ at Riverbend Community Trust today",
    "🎉🎉 #RiverbendCommunityTrust fair", "#RiverbendCommunityTrust", "I work at Riverbend Community Trust 🙂",
    "views my own. Riverbend   Trust", "naïve @riverbendtrust post", "@riverbendtrust@mastodon.social hi",
    "r\u0130verbend trust", "\u212aelvin at Riverbend-Trust", "Ünïcödé before 555 123 4567 and after",
    "café call +44 (0) 20 7946 0958 now", "Email jane.doe@example.org 📧", "Thanks [DONOR] for the [AMOUNT] gift!",
    "ダ Mrs Smith, aged 84, has dementia", "strictly confidential — not for distribution", "wtf 🤬 is this",
    "\u200b zero-width Riverbend Trust 555 123 4567", "x" * 5_000 + " Riverbend Community Trust",
    "é" * 300 + " staff only memo: Riverbend Trust", "our team at Riverbend Community Trust", "\x00 Riverbend Trust",
]


def test_the_screened_scan_finds_what_running_every_regex_finds_on_hostile_texts(monkeypatch):
    texts = [*HOSTILE, *HOSTILE]
    employee = [True] * len(HOSTILE) + [False] * len(HOSTILE)
    fast = adherence.find_violations(texts, donors=["Jane Roe"], employee_posts=employee)
    assert len(fast) > 10
    # the reference: the same prefilters, but no RE2 screen (every rule run, every regex searched from 0)
    monkeypatch.setattr(adherence.RegexScreen, "candidates", lambda self, text: None)
    pd.testing.assert_frame_equal(fast, adherence.find_violations(texts, donors=["Jane Roe"], employee_posts=employee))
    # without the prefilters too: the same, "r\u0130verbend trust" included (RE2 does not fold "\u0130" to "i"
    # as Python's regexes do; the prefilters also see such texts with it written as "i")
    slow = adherence._detect(texts, donors=["Jane Roe"], employee_posts=employee, use_prefilter=False)
    pd.testing.assert_frame_equal(fast, slow)
    assert (fast["text_index"] == HOSTILE.index("r\u0130verbend trust")).any()


@pytest.mark.parametrize("text", ["trust", "a trust", "🎉trust", "é" * 7 + " trust", "ascii then é trust", "no"])
def test_a_start_position_searches_exactly_what_searching_from_zero_finds(text):
    regex = re.compile(r"(?<!\w)trust\b", re.IGNORECASE)
    screen = adherence.RegexScreen([regex])
    if screen.candidates(text) is None or 0 not in screen.candidates(text):
        assert regex.search(text) is None
        return
    start = screen.start(0, text)
    assert start <= regex.search(text).start()
    assert [m.span() for m in regex.finditer(text, start)] == [m.span() for m in regex.finditer(text)]


def test_the_build_gives_every_post_what_scanning_it_alone_gives(sample_warehouse, tmp_path):
    target = tmp_path / "pairs.duckdb"
    shutil.copyfile(sample_warehouse, target)
    con = duckdb.connect(str(target))
    for table in warehouse.DERIVED_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {table}")
    # hostile texts shared by an employee's and someone else's post, and missing texts
    uids = [uid for (uid,) in con.execute("SELECT post_uid FROM posts ORDER BY post_uid LIMIT 120").fetchall()]
    for k, uid in enumerate(uids[:100]):
        con.execute("UPDATE posts SET text = ?, account_type = ? WHERE post_uid = ?",
                    [HOSTILE[k % len(HOSTILE)], "employee" if k % 2 else "org", uid])
    con.execute("UPDATE posts SET text = NULL WHERE post_uid IN (SELECT unnest(?))", [uids[100:]])
    con.close()
    build.build(warehouse_file=target)
    con = duckdb.connect(str(target), read_only=True)
    try:
        posts = con.execute("SELECT post_uid, text, account_type = 'employee' AS employee FROM posts").df()
        stored = con.execute("""SELECT post_uid, rule_id, area, severity, evidence_redacted FROM post_findings
                                ORDER BY ALL""").df()
        stored_themes = con.execute("SELECT post_uid, text_theme FROM post_themes ORDER BY post_uid").df()
    finally:
        con.close()
    found = adherence.find_violations(posts["text"], employee_posts=posts["employee"])
    found["post_uid"] = posts["post_uid"].to_numpy()[found["text_index"].to_numpy()]
    expected = found[["post_uid", "rule_id", "area", "severity", "evidence_redacted"]].sort_values(
        ["post_uid", "rule_id", "area", "severity", "evidence_redacted"], ignore_index=True)
    assert expected["post_uid"].isin(uids[:100]).sum() > 20
    pd.testing.assert_frame_equal(stored, expected, check_dtype=False)
    theme = themes.classify_themes(posts["text"])["theme"].to_numpy()
    expected_themes = pd.DataFrame({"post_uid": posts["post_uid"], "text_theme": theme}).sort_values(
        "post_uid", ignore_index=True)
    pd.testing.assert_frame_equal(stored_themes, expected_themes, check_dtype=False)
