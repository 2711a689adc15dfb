"""The build's scan makes its three RE2 passes per text (prefilters, the rules' screen, the taxonomy's
screen) one pass over one RE2 set (adherence._ScanScreen): findings, evidence and themes must be exactly
what find_violations and classify_themes give, hostile texts included, and whatever RE2 does."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics import adherence, themes

re2 = pytest.importorskip("re2")

HOSTILE = [
    "", " ", "\x00", "a\x00b donate", "\ud800 lone surrogate donate Riverbend Trust 555 123 4567", "\udfff",
    "DONATE TODAY", "İNTERNAL ONLY memo", "r\u0130verbend trust", "rıverbend community trust", "ſponsor me",
    "\u212aelvin at Riverbend-Trust", "café careers café", "CAREERS CAFÉ", "Σ ΟΔΟΣ story", "ﬁre drill",
    "donate\u200bnow", "don\u2019t share this", "strictly confidential — not for distribution",
    "volunteer\u00a0for us", "volunteers\u2003needed", "\u2028join us\u2029", "e\u0301vent tickets",
    "#GivingTuesday#Donate", "##Donate", "#RiverbendCommunityTrust", "£5 can buy", "$5,000 gift from Jane Roe",
    "🙏🙏 this is why 🙏", "🎉" * 500, "donate " * 2000, "a" * 10000 + " donate", "riverbendtrust.org/DONATE",
    "Mr Smith (82) lives at 14 Alder Road", "our client Maria, 82, has dementia", "call 07700 900123",
    "jo.bloggs [at] gmail [dot] com", "Email jane.doe@example.org 📧", "Thanks [DONOR] for the [AMOUNT] gift!",
    "I work at Riverbend Community Trust 🙂", "wtf @bob you absolute clown", "\t\n\r\x0b\x0c donate",
    "x" * 5_000 + " Riverbend Community Trust", "é" * 300 + " staff only memo: Riverbend Trust",
    "ダ Mrs Smith, aged 84, has dementia", "１２３ families helped", "٣ families helped", "\x00 Riverbend Trust",
    "café call +44 (0) 20 7946 0958 now \ud83d", "Ünïcödé before 555 123 4567 and after",
]


def _texts() -> tuple[list[str], list[bool]]:
    texts = [*HOSTILE, *HOSTILE, *(t.upper() for t in HOSTILE)]
    return texts, [k % 3 != 1 for k in range(len(texts))]


def _reference(texts: list[str], employee: list[bool]) -> tuple[pd.DataFrame, list[str]]:
    return (adherence.find_violations(texts, employee_posts=employee),
            themes.classify_themes(texts)["theme"].tolist())


def _fused(texts: list[str], employee: list[bool], taxonomy=None) -> tuple[pd.DataFrame, list[str] | None]:
    return adherence._scan_chunk(texts, employee, adherence.load_rules(), taxonomy)


def test_the_fused_screen_is_in_use():
    screen = adherence._scan_screen(adherence.load_rules(), themes.load_taxonomy())
    assert screen.available
    prescreened = screen.screen(["Riverbend Trust", "\ud800"], ["Riverbend Trust", "\ufffd"])
    assert prescreened.rules(0) and prescreened.themes(1) is None


def test_one_pass_finds_exactly_what_the_three_passes_find_on_hostile_texts():
    texts, employee = _texts()
    found, found_themes = _fused(texts, employee, themes.load_taxonomy())
    reference, reference_themes = _reference(texts, employee)
    pd.testing.assert_frame_equal(found, reference)
    assert found_themes == reference_themes
    # the texts do exercise the rules, the İ/ı second pass and the lone-surrogate path
    assert len(found) > 20 and set(found["rule_id"]) >= {"undisclosed_affiliation", "phone", "email"}
    assert (found["text_index"] == HOSTILE.index("r\u0130verbend trust")).any()
    assert {"other"} < set(found_themes)
    # without themes the findings are the same
    pd.testing.assert_frame_equal(_fused(texts, employee)[0], reference)


def test_each_screens_part_equals_its_own_screen():
    texts, _ = _texts()
    rules, taxonomy = adherence.load_rules(), themes.load_taxonomy()
    values = adherence._without_lone_surrogates(texts)
    prescreened = adherence._scan_screen(rules, taxonomy).screen(texts, values)
    rule_screen, theme_screen = adherence._rule_screen(rules)[0], themes._screen(taxonomy)[0]
    for k, (text, value) in enumerate(zip(texts, values, strict=True)):
        assert prescreened.rules(k) == rule_screen.candidates(value), text
        own = theme_screen.candidates(text)
        assert prescreened.themes(k) == (None if own is None else sorted(own)), text


def test_where_the_one_pass_gives_up_every_regex_is_run(monkeypatch):
    texts, employee = _texts()
    reference = _reference(texts, employee)
    screen = adherence._scan_screen(adherence.load_rules(), themes.load_taxonomy())

    class GivingUp:
        """RE2 that gives up on every other text (no pattern 0 in its answer)."""

        def __init__(self, inner):
            self.inner, self.calls = inner, 0

        def Match(self, data):  # RE2's name
            self.calls += 1
            return [] if self.calls % 2 else self.inner.Match(data)

    monkeypatch.setattr(screen, "_set", GivingUp(screen._set))
    found, found_themes = _fused(texts, employee, themes.load_taxonomy())
    assert screen._set.calls >= len(texts)
    pd.testing.assert_frame_equal(found, reference[0])
    assert found_themes == reference[1]


def test_without_google_re2_the_scan_is_the_plain_one(monkeypatch):
    texts, employee = _texts()
    reference = _reference(texts, employee)
    monkeypatch.setattr(adherence, "_re2_module", lambda: None)
    monkeypatch.setattr(adherence, "_SCAN_SCREENS", {})
    assert not adherence._scan_screen(adherence.load_rules(), themes.load_taxonomy()).available

    def unused(*_args):
        raise AssertionError("the fused screen ran without RE2")

    monkeypatch.setattr(adherence._ScanScreen, "screen", unused)
    found, found_themes = _fused(texts, employee, themes.load_taxonomy())
    pd.testing.assert_frame_equal(found, reference[0])
    assert found_themes == reference[1]


def test_prescreened_texts_are_refused_with_donors():
    texts, employee = _texts()
    rules = adherence.load_rules()
    prescreened = adherence._scan_screen(rules, None).screen(texts, adherence._without_lone_surrogates(texts))
    with pytest.raises(ValueError, match="without donors"):
        adherence._detect(texts, donors=["Jane Roe"], employee_posts=employee, rules=rules, prescreened=prescreened)


def test_a_small_batch_takes_the_three_passes_unless_big_batches_make_the_fused_pass_pay(monkeypatch):
    texts, employee = _texts()
    reference = _reference(texts, employee)
    rules, taxonomy = adherence.load_rules(), themes.load_taxonomy()
    fused_passes = []
    original = adherence._ScanScreen.screen
    monkeypatch.setattr(adherence._ScanScreen, "screen",
                        lambda self, *args: fused_passes.append(len(args[0])) or original(self, *args))
    with adherence.ParallelScan(rules, taxonomy, workers=2) as scan:
        found, found_themes = scan.scan(texts, employee, themed=True)
    assert fused_passes == []
    pd.testing.assert_frame_equal(found, reference[0])
    assert found_themes == reference[1]
    # as many texts as a full build's batches: one process alone still makes one pass
    monkeypatch.setattr(adherence, "PARALLEL_MIN_TEXTS", len(texts))
    with adherence.ParallelScan(rules, taxonomy, workers=1) as scan:
        found, found_themes = scan.scan(texts, employee, themed=True)
    assert fused_passes == [len(texts)]
    pd.testing.assert_frame_equal(found, reference[0])
    assert found_themes == reference[1]
    # a full build's last batch, smaller, is scanned alone with the fused set its first batches built
    with adherence.ParallelScan(rules, taxonomy, workers=2) as scan:
        scan.start()
        found, found_themes = scan.scan(texts[:10], employee[:10], themed=True)
    assert fused_passes[-1] == 10
    pd.testing.assert_frame_equal(found, adherence.find_violations(texts[:10], employee_posts=employee[:10]))
    assert found_themes == reference[1][:10]
