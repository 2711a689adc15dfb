"""The fast paths of the policy scan give exactly what the reference paths give: prefilters matched by one
RE2 set instead of DuckDB, and findings and themes of many texts found on two processes."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from analytics import adherence, parallel, themes

re2 = pytest.importorskip("re2")

HOSTILE = [
    "", " ", "\n", "Call 555 123 4567 now", "call 555\u00a0123\u00a04567", "Email jane.doe@example.org",
    "JANE.DOE@EXAMPLE.ORG", "\u212aelvin and \u017fmall \u0130stanbul \u0131 ǅ ǆ", "ΣΊΣΥΦΟΣ σίσυφος",
    "Thanks [DONOR] for the [AMOUNT] gift!", "wtf is this", "W\u0305T\u0305F", "line one\nline two wtf\n",
    "emoji 🎉 donate $5,000 today 💸", "a" * 200_000 + " 555-123-4567", "x" * 50_000, "\x00nul\x00 555 1234 567",
    "Our CEO said the merger will close on Friday", "I'm so angry at my manager", "＄５，０００ full-width",
    "r\u0130verbend trust is the best", "patient John, 42, at 12 Elm St.", "(at) [at] {at} jane dot doe",
]


def _patterns() -> tuple[list[str | None], list[int | None]]:
    rules = adherence.load_rules()
    patterns: list[str | None] = []
    for rule in rules:
        pattern = rule.prefilter
        if rule.uses_donors:
            pattern = "|".join(p for p in (pattern, adherence._donor_prefilter(("Jane Roe",)), r"\[donor\]") if p)
        patterns.append(pattern)
    parents: list[int | None] = [None] * len(patterns)
    for r, rule in enumerate(rules):
        for matcher in rule.matchers:
            if matcher.prefilter:
                patterns.append(matcher.prefilter)
                parents.append(r)
    return patterns, parents


def test_the_rules_prefilters_give_the_same_masks_in_re2_as_in_duckdb():
    patterns, parents = _patterns()
    assert any(p is not None for p in patterns) and any(p is not None for p in parents)
    slow = adherence._prefilter_masks(HOSTILE, patterns, parents)
    fast = adherence._prefilter_masks_re2(HOSTILE, patterns, parents)
    assert any(mask.any() for mask in fast)
    for i, (a, b) in enumerate(zip(slow, fast, strict=True)):
        np.testing.assert_array_equal(a, b, err_msg=str(patterns[i]))


def test_both_engines_fold_case_alike_for_every_code_point():
    # both are RE2, but possibly of different versions: their case-folding tables must agree
    every = "".join(chr(code) for code in range(0x110000) if not 0xD800 <= code <= 0xDFFF)
    con = duckdb.connect()
    try:
        for letter in "abcdefghijklmnopqrstuvwxyzσµ":
            [[duck]] = con.execute("SELECT regexp_extract_all(?, ?, 0, 'i')", [every, letter]).fetchall()
            assert "".join(duck) == "".join(re2.compile(f"(?i){letter}").findall(every)), letter
    finally:
        con.close()


def test_a_text_re2_cannot_take_is_left_to_duckdb_which_refuses_it_as_before():
    patterns, parents = _patterns()
    with pytest.raises(duckdb.Error):
        adherence._prefilter_masks(["555 123 4567 \ud800"], patterns, parents)
    with pytest.raises(duckdb.Error):
        adherence._prefilter_masks_re2(["555 123 4567 \ud800"], patterns, parents)


def test_patterns_left_out_and_nested_patterns_behave_as_in_duckdb():
    texts = ["abc", "xyz", "ab"]
    for patterns, parents in [([None, "b"], [None, 0]), (["a", "c", None], [None, 0, 1]), ([None], None)]:
        slow = adherence._prefilter_masks(texts, patterns, parents)
        fast = adherence._prefilter_masks_re2(texts, patterns, parents)
        for a, b in zip(slow, fast, strict=True):
            np.testing.assert_array_equal(a, b)


def test_two_processes_find_what_one_finds(monkeypatch):
    monkeypatch.setattr(adherence, "PARALLEL_MIN_TEXTS", 10)
    monkeypatch.setattr(adherence, "_SCAN_CHUNK", 7)
    texts = [f"{text} #{k % 5}" for k in range(4) for text in HOSTILE]
    employee = [k % 3 != 0 for k in range(len(texts))]
    rules, taxonomy = adherence.load_rules(), themes.load_taxonomy()
    with adherence.ParallelScan(rules, taxonomy, workers=2) as scan:
        for themed in (True, False):
            found, text_themes = scan.scan(texts, employee, themed=themed)
            expected = adherence.find_violations(texts, employee_posts=employee, rules=rules)
            assert len(expected) > 10
            assert found.equals(expected)
            if themed:
                assert text_themes == themes.classify_themes(texts, taxonomy=taxonomy)["theme"].tolist()
            else:
                assert text_themes is None


def test_a_worker_scans_the_chunks_it_claims_and_nothing_of_another_batch(monkeypatch):
    from multiprocessing import get_context

    texts = HOSTILE * 2
    employee = [True] * len(texts)
    rules, taxonomy = adherence.load_rules(), themes.load_taxonomy()
    size = 5
    chunks = -(-len(texts) // size)
    claims = parallel.new_claims(get_context("spawn"))
    parallel.start_batch(claims, 3, chunks)
    monkeypatch.setattr(adherence, "_scan_state", None)
    adherence._share_scan_state(claims, rules, taxonomy)
    assert adherence._scan_claimed(2, texts, employee, size, True) == {}, "a late task of an earlier batch"
    mine = parallel.claim_chunk(claims, 3, back=True)
    parts = adherence._scan_claimed(3, texts, employee, size, True)
    assert sorted(parts) == [k for k in range(chunks) if k != mine]
    found = [parts[k][0].assign(text_index=parts[k][0]["text_index"] + k * size) for k in sorted(parts)]
    expected = adherence.find_violations(texts, employee_posts=employee, rules=rules)
    outside = expected["text_index"].between(mine * size, mine * size + size - 1)
    assert pd.concat(found, ignore_index=True).equals(expected[~outside].reset_index(drop=True))
    theirs = [theme for k in sorted(parts) for theme in parts[k][1]]
    everything = themes.classify_themes(texts, taxonomy=taxonomy)["theme"].tolist()
    assert theirs == [t for i, t in enumerate(everything) if not mine * size <= i < mine * size + size]
