"""The RE2 screen (analytics.adherence.RegexScreen) only skips work: themes and findings are exactly
those of the plain Python regexes, on sample posts, evaluation sets and hostile strings."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from analytics import adherence, themes
from analytics.adherence import ASCII_CASE_TWINS, RegexScreen, re2_superset

re2 = pytest.importorskip("re2")

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"

HOSTILE = [
    "", " ", "\x00", "a\x00b donate", "\ud800 lone surrogate donate", "DONATE TODAY", "İNTERNAL ONLY memo",
    "ſponsor me", "thanK you to everyone", "KELVIN \u212a", "café careers café", "CAREERS CAFÉ",
    "Σ ΟΔΟΣ story", "ﬁre drill", "donate\u200bnow", "don\u2019t share this", "don't share this",
    "volunteer\u00a0for us", "volunteers\u2003needed", "\u2028join us\u2029", "e\u0301vent tickets",
    "#GivingTuesday#Donate", "##Donate", "x#Donate", "#donate_now", "£5 can buy", "£5can", "$5,000 gift from Jane",
    "🙏🙏 this is why 🙏", "🎉" * 500, "donate " * 2000, "a" * 10000 + " donate", "riverbendtrust.org/DONATE",
    "Mr Smith (82) lives at 14 Alder Road", "our client Maria, 82, has dementia", "call 07700 900123",
    "jo.bloggs [at] gmail [dot] com", "I work at Riverbend Trust, come to our quiz", "wtf @bob you absolute clown",
    "Riverbend Trust is great", "RIVERBEND TRUST IS GREAT #riverbend", "\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f donate",
    "help us fund", "HELP US FUND", "the numbers on poverty", "50% to our target", "１２３ families helped",
    "٣ families helped", "We've now helped 1,200 people", "how the fun run went", "this Saturday at 3pm join us",
]


def _sample_texts() -> list[str]:
    posts = pd.read_csv(ROOT / "data" / "sample" / "monitoring_posts.csv", keep_default_na=False)["text"]
    comments = pd.read_csv(ROOT / "data" / "sample" / "audience_comments.csv", keep_default_na=False)["text"]
    return [*posts.tolist(), *comments.tolist()]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return _sample_texts() + HOSTILE


@pytest.fixture(scope="module")
def some_texts(texts) -> list[str]:
    """Every 16th sample text and every hostile one (each regex is tried on each of them)."""
    return texts[:-len(HOSTILE)][::16] + HOSTILE


@pytest.fixture
def unscreened(monkeypatch):
    """Every regex runs on every text, as without google-re2."""
    monkeypatch.setattr(RegexScreen, "candidates", lambda self, text: None)


def _every_regex() -> list[re.Pattern[str]]:
    patterns = [cue.pattern for theme in themes.load_taxonomy().themes for cue in theme.cues]
    for rule in adherence.load_rules():
        patterns += [m.regex for m in rule.matchers if m.regex is not None]
        patterns += [p for m in rule.matchers for p in (m.near, m.unless, m.allow) if p is not None]
        patterns += [rule.unless_text] if rule.unless_text is not None else []
    return patterns


def test_ascii_case_twins_are_every_non_ascii_character_python_folds_onto_ascii():
    every = "".join(map(chr, range(0x80, 0x110000)))
    found = {ord(c) for c in re.compile("[\x00-\x7f]", re.IGNORECASE).findall(every)}
    assert found == set(ASCII_CASE_TWINS)


@pytest.mark.parametrize("flags", [0, re.IGNORECASE, re.IGNORECASE | re.DOTALL, re.ASCII | re.IGNORECASE])
def test_a_single_character_holds_exactly_the_ascii_characters_python_matches(flags):
    elements = ["a", "K", "é", "\n", ".", "[^k]", "[a-f0-9_]", r"[\w.-]", r"[^\W\d]", r"[\s\S]", r"[^\s\S]", r"\d",
                r"[\x00-\x1f]", "[ſ]", "[İı]"]
    for element in elements:
        python = re.compile(element, flags)
        (op, av), = adherence._sre_parse.parse(element, flags)
        ours = re2.compile(adherence._one_char(op, tuple(av) if isinstance(av, list) else av, flags))
        for code in [*range(128), *ASCII_CASE_TWINS]:
            theirs_match, ours_match = python.fullmatch(chr(code)) is not None, ours.fullmatch(chr(code)) is not None
            # exact on ASCII; beyond it a superset
            assert ours_match == theirs_match if code < 128 else ours_match >= theirs_match, (element, flags, code)


def test_the_superset_matches_wherever_python_matches_and_starts_no_later(some_texts):
    patterns = _every_regex() + [re.compile(p, f) for p, f in [
        (r"(?<![\w#])#donate(?!\w)", re.I), (r"(?-i:[A-Z][a-z]+)\s+\(\d{1,2}\)", re.I), (r"\bK\b", re.I),
        (r"(a)\1", 0), (r"(?>ab|a)c", 0), (r"x{1500}|y{2,1200}", 0), (r"^donate$", re.M), (r"[^\W\d]+é", re.I),
        (r"(?s:a.b)", 0), (r"(a)?(?(1)b|c)", 0), (r"[\s\S]", 0), (r"[^\s\S]", 0), (r"(?a)\w+\d", 0), (r"ǅ", re.I)]]
    checked = 0
    for pattern in patterns:
        source = re2_superset(pattern)
        if source is None:
            continue
        compiled = re2.compile(source)
        for text in some_texts:
            try:
                encoded = text.encode("utf-8")
            except UnicodeEncodeError:
                continue
            python = pattern.search(text)
            if python is None:
                continue
            hit = compiled.search(encoded)
            assert hit is not None, (pattern.pattern, text)
            assert len(encoded[: hit.start()].decode("utf-8")) <= python.start(), (pattern.pattern, text)
            checked += 1
    assert checked > 300


def test_screen_candidates_include_every_regex_that_matches(some_texts):
    patterns = _every_regex()
    screen = RegexScreen(patterns)
    assert screen.available
    for text in some_texts:
        maybe = screen.candidates(text)
        if maybe is None:
            # only texts RE2 cannot take go unscreened
            with pytest.raises(UnicodeEncodeError):
                text.encode("utf-8")
            continue
        matching = {i for i, p in enumerate(patterns) if p.search(text)}
        assert matching <= maybe, text
        for i in matching:
            assert screen.start(i, text) <= patterns[i].search(text).start()


def test_screen_skips_most_regexes_on_a_plain_text():
    patterns = [cue.pattern for theme in themes.load_taxonomy().themes for cue in theme.cues]
    maybe = RegexScreen(patterns).candidates("Lovely walk by the river this morning")
    assert maybe is not None and len(maybe) < len(patterns) / 10


def test_screen_ignores_regexes_it_cannot_translate():
    screen = RegexScreen([re.compile("a"), re.compile(r"(?P<x>b)(?P=x)")])
    assert re2_superset(re.compile(r"(?P<x>b)(?P=x)")) is not None
    assert screen.candidates("bb") == {1}
    assert screen.start(1, "xbb") <= 1


def test_themes_are_the_same_with_and_without_the_screen(texts, monkeypatch):
    fast = themes.classify_themes(texts)
    fast_cues = themes.theme_cues(texts)
    taxonomy = themes.load_taxonomy()
    reference = [themes._primary(themes._scores(t, taxonomy, screened=False), taxonomy) for t in texts]
    monkeypatch.setattr(RegexScreen, "candidates", lambda self, text: None)
    pd.testing.assert_frame_equal(fast, themes.classify_themes(texts))
    pd.testing.assert_frame_equal(fast_cues, themes.theme_cues(texts))
    assert fast["theme"].tolist() == reference
    assert (fast["theme"] != "other").sum() > len(texts) / 3


def test_findings_are_the_same_with_and_without_the_screen(texts, monkeypatch):
    donors = pd.read_csv(DATA / "adherence_eval_donors.csv")["name"].tolist()
    employee = [i % 3 != 0 for i in range(len(texts))]
    fast = adherence.find_violations(texts, donors=donors, employee_posts=employee)
    fast_plain = adherence.find_violations(texts, employee_posts=employee)
    monkeypatch.setattr(RegexScreen, "candidates", lambda self, text: None)
    pd.testing.assert_frame_equal(fast, adherence.find_violations(texts, donors=donors, employee_posts=employee))
    pd.testing.assert_frame_equal(fast_plain, adherence.find_violations(texts, employee_posts=employee))
    assert len(fast) > 50 and set(fast["rule_id"]) >= {"undisclosed_affiliation", "phone", "internal_only"}


def test_evaluations_are_the_same_with_and_without_the_screen(monkeypatch):
    labelled = pd.read_csv(DATA / "adherence_eval.csv", keep_default_na=False)
    donors = pd.read_csv(DATA / "adherence_eval_donors.csv")["name"].tolist()
    themed = pd.read_csv(DATA / "themes_eval.csv", keep_default_na=False)
    fast_rules = adherence.evaluate_rules(labelled, donors=donors)
    fast_themes = themes.evaluate_themes(themed)
    monkeypatch.setattr(RegexScreen, "candidates", lambda self, text: None)
    pd.testing.assert_frame_equal(fast_rules, adherence.evaluate_rules(labelled, donors=donors))
    pd.testing.assert_frame_equal(fast_themes, themes.evaluate_themes(themed))


def test_without_google_re2_nothing_is_screened(monkeypatch):
    monkeypatch.setattr(adherence, "_re2_module", lambda: None)
    screen = RegexScreen([re.compile("a")])
    assert not screen.available and screen.candidates("a") is None and screen.start(0, "ba") == 0
