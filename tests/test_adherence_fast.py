"""The fast paths of the policy scan give exactly what the reference paths give: prefilters matched by one
RE2 set instead of DuckDB, and findings and themes of many texts found on two processes."""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from analytics import adherence, parallel, privacy, themes

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


#: Python's case-insensitive regexes take İ (dotted capital I) and ı (dotless small i) for i; RE2 does not.
DOTTED = ["r\u0130verbend trust", "R\u0131VERBEND TRUST", "\u0130NTERNAL ONLY memo", "call \u0130\u0131 555 123 4567",
          "\u0131nternal only, Riverbend Trust", "Thanks Jane Ro\u0130 \u0130", "wtf \u0130\u0131\u0130", "\u0130" * 50,
          "d\u0131sclosure: I work at R\u0130VERBEND community trust", "riverbend trust", "\u0131"]


def test_a_case_variant_of_the_organisations_name_with_a_dotted_or_dotless_i_is_caught():
    employee = [True] * len(DOTTED)
    found = adherence.find_violations(DOTTED, donors=["Jane Roi"], employee_posts=employee)
    # the reference: the rules' Python regexes run on every text, no prefilter
    plain = adherence._detect(DOTTED, donors=["Jane Roi"], employee_posts=employee, use_prefilter=False)
    pd.testing.assert_frame_equal(found, plain)
    fired = found.groupby("rule_id")["text_index"].agg(set)
    assert fired["undisclosed_affiliation"] == {0, 1, 4, 9}  # 8 says "I work at"
    assert fired["internal_only"] == {2, 4}
    assert fired["donor_name"] == {5} and fired["phone"] == {3} and fired["profanity"] == {6}
    # the same findings as the plain spelling, whatever the i
    ascii_found = adherence.find_violations([t.replace("\u0130", "I").replace("\u0131", "i") for t in DOTTED],
                                            donors=["Jane Roi"], employee_posts=employee)
    pd.testing.assert_frame_equal(found.drop(columns="evidence_redacted"),
                                  ascii_found.drop(columns="evidence_redacted"))


def test_the_labelled_texts_with_dotted_and_dotless_is_give_what_the_plain_scan_gives():
    data = Path(__file__).resolve().parent / "data"
    labelled = pd.read_csv(data / "adherence_eval.csv", keep_default_na=False)
    donors = pd.read_csv(data / "adherence_eval_donors.csv")["name"].tolist()
    rng = random.Random(5)
    texts = ["".join(rng.choice(["\u0130", "\u0131", c]) if c in "iI" else c for c in text)
             for text in labelled["text"]]
    employee = labelled["employee_post"].astype(str).str.lower().eq("true").tolist()
    found = adherence.find_violations(texts, donors=donors, employee_posts=employee)
    assert len(found) > 100
    pd.testing.assert_frame_equal(
        found, adherence._detect(texts, donors=donors, employee_posts=employee, use_prefilter=False))


def _re2_masks(texts: list[str], patterns: list[str | None], parents: list[int | None]) -> list[np.ndarray]:
    """The prefilters' masks as RE2 alone gives them (case-insensitive, as DuckDB's ``'i'``)."""
    options = re2.Options()
    options.case_sensitive = False
    masks: list[np.ndarray] = []
    for pattern, parent in zip(patterns, parents, strict=True):
        compiled = None if pattern is None else re2.compile(pattern, options)
        mask = np.array([compiled is None or compiled.search(t) is not None for t in texts])
        masks.append(mask if parent is None else mask & masks[parent])
    return masks


def test_the_prefilters_see_a_dotted_or_dotless_i_as_i_in_re2_and_in_duckdb():
    patterns, parents = _patterns()
    texts = [*DOTTED, *HOSTILE]
    slow = adherence._prefilter_masks(texts, patterns, parents)
    fast = adherence._prefilter_masks_re2(texts, patterns, parents)
    for i, (a, b) in enumerate(zip(slow, fast, strict=True)):
        np.testing.assert_array_equal(a, b, err_msg=str(patterns[i]))
    # each mask is RE2's mask of the text or of the text with İ and ı written as i
    as_is = _re2_masks(texts, patterns, parents)
    written = _re2_masks([t.translate({0x130: "i", 0x131: "i"}) for t in texts], patterns, parents)
    for i, (a, b, c) in enumerate(zip(fast, as_is, written, strict=True)):
        np.testing.assert_array_equal(a, b | c, err_msg=str(patterns[i]))
    # which RE2 alone misses: the organisation's name with a dotted capital I
    affiliation = [r.id for r in adherence.load_rules()].index("undisclosed_affiliation")
    assert fast[affiliation][0] and not as_is[affiliation][0]


#: Lone surrogates: JSON escapes of half a pair, bytes decoded with surrogateescape.
SURROGATES = ["\ud800", "wtf \ud800 Riverbend Trust", "call 555 123 4567 \udfff \ud83d", "\udc80Jane Roe\udcff",
              "\ud800Riverbend Trust\ud800", "\u0130NTERNAL ONLY\ud800 memo", "\ud83d\ude00 split pair wtf",
              "fine text wtf", "Riverbend\ud800Trust 555 123\ud800 4567"]


def test_a_lone_surrogate_is_scanned_as_the_replacement_character():
    employee = [True] * len(SURROGATES)
    replaced = [privacy.replace_lone_surrogates(t) for t in SURROGATES]
    assert all(r.encode("utf-8") for r in replaced)
    found = adherence.find_violations(SURROGATES, donors=["Jane Roe"], employee_posts=employee)
    fired = found.groupby("rule_id")["text_index"].agg(set)
    assert fired["undisclosed_affiliation"] == {1, 4} and fired["profanity"] == {1, 6, 7}
    assert fired["phone"] == {2} and fired["donor_name"] == {3} and fired["internal_only"] == {5}
    pd.testing.assert_frame_equal(found, adherence.find_violations(replaced, donors=["Jane Roe"],
                                                                     employee_posts=employee))
    # evidence can be stored: it holds the replacement character, no surrogate
    assert all("\ud800" not in e and e.encode("utf-8") for e in found["evidence_redacted"])
    # a surrogate in the donor list does not stop the scan either
    assert len(adherence.find_violations(SURROGATES, donors=["Jane Roe", "\ud800"], employee_posts=employee)) > 0


def test_the_rules_regexes_find_the_same_in_a_lone_surrogate_as_in_the_replacement_character():
    # what makes the replacement safe: no rule's regex tells the two apart, so nothing found moves
    regexes = [r for rule in adherence.load_rules() for r in (rule.unless_text, *(
        x for m in rule.matchers for x in (m.regex, m.near, m.unless, m.allow)))]
    regexes = [r for r in regexes if r is not None]
    assert len(regexes) > 10
    for text in SURROGATES:
        replaced = privacy.replace_lone_surrogates(text)
        for regex in regexes:
            assert [m.span() for m in regex.finditer(text)] == [m.span() for m in regex.finditer(replaced)]


def test_the_scan_does_not_crash_on_a_lone_surrogate_without_re2_either(monkeypatch):
    monkeypatch.setattr(adherence, "_prefilter_set", lambda patterns: None)
    monkeypatch.setattr(adherence.RegexScreen, "candidates", lambda self, text: None)
    found = adherence.find_violations(SURROGATES, donors=["Jane Roe"])
    monkeypatch.undo()
    pd.testing.assert_frame_equal(found, adherence.find_violations(SURROGATES, donors=["Jane Roe"]))
    # the mask helpers themselves cannot take one: find_violations replaces it before
    patterns, parents = _patterns()
    with pytest.raises(duckdb.Error):
        adherence._prefilter_masks(["555 123 4567 \ud800"], patterns, parents)


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


def test_a_kept_scan_is_given_out_for_its_own_rules_and_shares_small_batches(monkeypatch):
    monkeypatch.setattr(parallel, "RUNNING_WORKER_MIN_TEXTS", 10)
    texts = [f"{text} #{k % 5}" for k in range(4) for text in HOSTILE]
    employee = [k % 3 != 0 for k in range(len(texts))]
    rules, taxonomy = adherence.load_rules(), themes.load_taxonomy()
    assert len(texts) < adherence.PARALLEL_MIN_TEXTS  # shared only because the worker is running
    opened, start_batch = [], parallel.start_batch
    monkeypatch.setattr(parallel, "start_batch", lambda claims, batch, chunks: opened.append(batch)
                        or start_batch(claims, batch, chunks))
    with adherence.scan_kept(rules, taxonomy) as kept:
        for _update in range(2):  # update after update, on the same worker
            with adherence.parallel_scan(adherence.load_rules(), taxonomy) as scan:
                assert scan is kept
                found, text_themes = scan.scan(texts, employee, themed=True)
            assert found.equals(adherence.find_violations(texts, employee_posts=employee, rules=rules))
            assert text_themes == themes.classify_themes(texts, taxonomy=taxonomy)["theme"].tolist()
        assert opened == [1, 2] and kept._pool is not None, "both batches shared with the one worker, kept"
        with adherence.parallel_scan(rules[:-1], taxonomy) as other:  # e.g. the rules file edited since
            assert other is not kept
    assert kept._pool is None
    with adherence.parallel_scan(rules, taxonomy) as after:
        assert after is not kept
