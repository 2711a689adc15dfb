"""Ingest's fast paths give exactly what the plain paths give: the RE2 word screen that reads texts as they
are (no lower-casing pass) finds the same texts as the one on lower-cased texts, a helper process scrubs
like this one (also when it fails), and a whole ingest with the helper (reading files ahead, scrubbing
alongside this process) loads the same tables and reports the same results, failures included."""

from __future__ import annotations

import string
import time

import duckdb
import numpy as np
import pandas as pd
import pytest
from hostile_lines import HOSTILE_FILES, hostile_lines
from hypothesis import given, settings
from hypothesis import strategies as st
from warehouse_tables import loaded_tables

from analytics import build, config, ingest, privacy, sentiment
from analytics.privacy import Identity, Scrubber, ScrubHelper

#: Word characters, separators, disguises, every kind of case pair (ASCII, Kelvin and long s onto ASCII,
#: dotted/dotless i, accented letters), digits of several scripts, emoji.
_ALPHABET = (string.ascii_letters + string.digits + " .,:;!?@#/+-()_'\n\t" + "\u00a0\u200b\u202e\u00ad\ufeff"
             + "ſKıİéÉßẞæÆøØ" + "٠١٢٣" + "😀🎉—…’")
_VALUES = ["ada lee", "@adalee", "/adalee", "ada.lee@rt.org", "åsa strøm", "zoë keßler", "kim sung", "ſam iſ",
           "İlker", "o'neil", "x_y-z", "jane donor", "+44 20 7946 0958"]


def _disguised(value: str) -> list[str]:
    return [value, value.upper(), value.title(), value.replace(" ", "\u00a0"), value.replace("k", "\u212a"),
            value.replace("s", "\u017f"), value.replace("i", "\u0130"), value.replace("e", "\u00c9"),
            f"x{value}y", f"({value})", f"{value}_", f"1{value}"]


def _screen(texts: list[str], values: list[str], *, either_case: bool) -> np.ndarray:
    """Which texts the word pattern finds: on the texts as they are, or with their ASCII letters lower-cased."""
    pattern = privacy._word_pattern(values, either_case=either_case)
    frame = pd.DataFrame({"position": np.arange(len(texts)), "text": np.asarray(texts, dtype=object)})
    with duckdb.connect() as con:
        con.register("texts", frame)
        subject = "text" if either_case else "translate(text, $upper, $lower)"
        parameters = {"words": pattern} | ({} if either_case else {"upper": string.ascii_uppercase,
                                                                    "lower": string.ascii_lowercase})
        hits = con.execute(f"SELECT position FROM texts WHERE regexp_matches({subject}, $words)",
                           parameters).fetchnumpy()["position"]
    found = np.zeros(len(texts), dtype=bool)
    found[hits.astype(np.int64)] = True
    return found


def test_either_case_screen_finds_what_the_lower_cased_screen_finds_on_disguises_and_hostile_text():
    texts = [f"{before}{shown}{after}" for value in _VALUES for shown in _disguised(value)
             for before, after in (("", ""), ("hi ", "!"), ("https://x.com/", "/status/1"), ("«", "»"))]
    texts += hostile_lines()
    assert len(texts) > 800
    found = _screen(texts, _VALUES, either_case=True)
    assert found.any() and not found.all()
    assert (found == _screen(texts, _VALUES, either_case=False)).all()


@settings(max_examples=40, deadline=None)
@given(texts=st.lists(st.text(st.sampled_from(_ALPHABET), max_size=60), min_size=1, max_size=40),
       values=st.lists(st.text(st.sampled_from(_ALPHABET), min_size=1, max_size=12), min_size=1, max_size=6))
def test_either_case_screen_finds_what_the_lower_cased_screen_finds_on_random_text(texts, values):
    if privacy._word_pattern(values) is None:
        assert privacy._word_pattern(values, either_case=True) is None
        return
    mixed = texts + [t[:3] + v.upper() + t[3:] for t, v in zip(texts, values * len(texts), strict=False)]
    assert (_screen(mixed, values, either_case=True) == _screen(mixed, values, either_case=False)).all()


def _scrubber(names=("Ada Lee", "Åsa Strøm")) -> Scrubber:
    return Scrubber([Identity("ab" * 32, names=names, emails=("ada.lee@rt.org",),
                              handles=("@adalee", "@ada@mastodon.social"))],
                    donors=["Jane Donor", "Zoë Keßler"], keep_domains=["rt.org"],
                    donor_contacts=[("jd@mail.com", "[EMAIL]")])


def _texts() -> list[str]:
    texts = [f"{a} {shown} {b}" for value in ["Ada Lee", "@adalee", "Jane Donor", "Åsa Strøm", "ada.lee@rt.org"]
             for shown in _disguised(value) for a, b in (("hi", "✓"), ("https://x.com/", "/status/9"))]
    texts += ["call +44 20 7946 0958", "info@rt.org", "x@y.com", "plain text ✓", "", " ", "lone \ud800 ✓"]
    texts += hostile_lines()
    return list(dict.fromkeys(texts))


@pytest.fixture
def helper_always(monkeypatch):
    monkeypatch.setattr(privacy, "_BATCH_MIN", 1)
    monkeypatch.setattr(privacy, "_HELPER_MIN", 2)


def test_the_helper_scrubs_exactly_as_this_process_and_follows_a_new_roster(helper_always):
    texts = _texts()
    first, second = _scrubber(), _scrubber(names=("Ada Lee", "Bo Chen"))
    with ScrubHelper().start() as helper:
        for scrubber in (first, second, first):  # a changed scrubber reaches the helper, and back again
            alone = scrubber.scrub_many(texts)
            helper.prepare(scrubber)  # its answer is passed over, not taken for the batch's
            helper.prepare(scrubber)  # (once is enough)
            scrubber.helper = helper
            shared = scrubber.scrub_many(texts)
            scrubber.helper = None
            assert shared == alone == [scrubber.scrub(t) for t in texts]
        assert helper._process is not None and helper._process.poll() is None  # it did the work, still alive
    assert helper._process is None


def test_a_helper_that_dies_leaves_the_results_unchanged(helper_always):
    texts = _texts()
    scrubber = _scrubber()
    expected = [scrubber.scrub(t) for t in texts]
    helper = ScrubHelper().start()
    helper._process.kill()
    helper._process.wait()
    scrubber.helper = helper
    assert scrubber.scrub_many(texts) == expected  # the write fails: this process scrubs everything
    assert helper._process is None and helper.call(sorted, [2, 1])() is None  # and is not helped again
    assert scrubber.scrub_many(texts) == expected
    assert helper._process is None


@pytest.mark.parametrize("corpus", ["sample", "hostile"])
def test_ingest_with_the_helper_loads_exactly_what_ingest_without_it_loads(corpus, tmp_path, monkeypatch):
    monkeypatch.setenv("POLICY_PULSE_KEY", "test-key-not-secret")
    # the sample's identities and the exports with most text to scrub; every hostile file (some fail to read)
    files = ([config.SAMPLE_DIR / name for name in ("roster.csv", "donors_private.csv", "monitoring_posts.csv",
                                                    "audience_comments.csv", "incidents.csv")]
             if corpus == "sample" else sorted(HOSTILE_FILES.iterdir()))
    monkeypatch.setattr(ingest, "HELPER_MIN_BYTES", 1 << 60)
    plain = ingest.ingest_paths(files, warehouse_file=tmp_path / "plain.duckdb")
    monkeypatch.setattr(ingest, "HELPER_MIN_BYTES", 0)
    monkeypatch.setattr(privacy, "_HELPER_MIN", 50)
    used = {"submit": 0, "call": 0}

    def counted(name):
        method = getattr(ScrubHelper, name)

        def spy(self, *args):
            used[name] += not self.idle  # not the sentiment the ingest scores on the side
            return method(self, *args)
        return spy

    for name in used:
        monkeypatch.setattr(ScrubHelper, name, counted(name))
    fast = ingest.ingest_paths(files, warehouse_file=tmp_path / "fast.duckdb")
    # every readable file read ahead, but the first to load if readable (its turn has come: read at once here)
    readable = len(files) - sum(r.status == "failed" and not r.format for r in fast)
    assert readable - 1 <= used["call"] <= readable
    assert used["submit"] or corpus == "hostile"  # and scrubbed with
    assert [(r.path, r.status, r.message, r.rows_loaded, r.rows_rejected, r.tables) for r in plain] == \
        [(r.path, r.status, r.message, r.rows_loaded, r.rows_rejected, r.tables) for r in fast]
    assert corpus == "sample" or {r.status for r in fast} >= {"failed", "loaded", "skipped"}
    before, after = loaded_tables(tmp_path / "plain.duckdb"), loaded_tables(tmp_path / "fast.duckdb")
    assert before.keys() == after.keys()
    assert sum(len(t) for t in before.values()) > (5000 if corpus == "sample" else 100)
    for name, table in before.items():
        pd.testing.assert_frame_equal(table, after[name], obj=name)


def test_the_ingest_scores_sentiment_as_the_build_would_and_stops_at_once(monkeypatch):
    monkeypatch.setattr(ingest, "PRESCORE_TEXTS", 7)
    texts = ["I love it", "meh", None, "Awful!", "", "Das ist leider eine sehr schlechte Idee",
             *(f"a good day, number {i}" for i in range(30))]
    prescorer = ingest._Prescorer()
    prescorer.add(texts)
    prescorer.add(texts[:4])  # queued once
    scored = [text for text in dict.fromkeys(texts) if isinstance(text, str)]
    deadline = time.monotonic() + 120
    while sum(map(len, prescorer._rows)) < len(scored) and time.monotonic() < deadline:
        time.sleep(0.01)
    prescorer._helper._process.kill()  # a helper that dies: what it scored is kept, the rest left to the build
    prescorer.add(["after the helper died"])
    rows = prescorer.finish()
    pd.testing.assert_frame_equal(rows, sentiment.cache_rows(scored))

    prescorer = ingest._Prescorer()
    prescorer.add([f"text number {i}" for i in range(7 * 5000)])
    while len(prescorer._batches) == 5000 and time.monotonic() < deadline:
        time.sleep(0.001)
    # a batch is sent while the helper is still starting (a second or so): it is dropped, not waited for
    assert prescorer.finish() is None


def test_a_build_after_an_ingest_that_scored_sentiment_on_the_side_builds_what_it_builds_without(tmp_path,
                                                                                                monkeypatch):
    monkeypatch.setenv("POLICY_PULSE_KEY", "test-key-not-secret")
    monkeypatch.setattr(ingest, "HELPER_MIN_BYTES", 1 << 60)
    ingest.ingest_paths([config.SAMPLE_DIR], warehouse_file=tmp_path / "plain.duckdb")
    monkeypatch.setattr(ingest, "HELPER_MIN_BYTES", 0)
    finish = ingest._Prescorer.finish

    def scored_to_the_end(self):  # as if the ingest had taken long enough to score every text on the side
        deadline = time.monotonic() + 120
        while sum(map(len, self._rows)) < len(self._seen) and time.monotonic() < deadline:
            time.sleep(0.01)
        return finish(self)

    monkeypatch.setattr(ingest._Prescorer, "finish", scored_to_the_end)
    ingest.ingest_paths([config.SAMPLE_DIR], warehouse_file=tmp_path / "side.duckdb")
    with duckdb.connect(str(tmp_path / "side.duckdb"), read_only=True) as con:
        # a row for each distinct text stored (and only those: see loaded_tables)
        assert con.execute("SELECT count(*) FROM sentiment").fetchone() == con.execute(
            """SELECT count(DISTINCT text) FROM (SELECT text FROM posts UNION ALL SELECT text FROM audience_comments
               UNION ALL SELECT text FROM survey_comments)""").fetchone()
    summaries = [build.build(warehouse_file=tmp_path / f"{name}.duckdb") for name in ("plain", "side")]
    # the build finds every text scored: it scores none
    assert summaries[1].steps["texts newly scored"] == 0 < summaries[0].steps["texts newly scored"]
    plain, side = loaded_tables(tmp_path / "plain.duckdb"), loaded_tables(tmp_path / "side.duckdb")
    assert plain.keys() == side.keys()
    for name in plain.keys() - {"build_log", "build_state"}:  # (the build writes some tables in no set order)
        pd.testing.assert_frame_equal(*(table[name].sort_values(list(table[name].columns), ignore_index=True)
                                        for table in (plain, side)), obj=name)


def test_the_helper_reads_a_survey_export_with_the_codebook_and_stays_helping():
    """The ingest hands each survey export to the helper with the codebook: once the codebook was read-only its
    mappings did not pickle, the helper was given up for the rest of the ingest, and this process did its work."""
    from analytics.codebook import load_codebook
    from analytics.sources import detect
    from analytics.sources.base import Parsed, ReadContext

    path = config.SAMPLE_DIR / "Staff Policy Pulse 2025-Q1 - SurveyMonkey.csv"
    _format, read = detect(path)
    context = ReadContext(codebook=load_codebook())
    with ScrubHelper().start() as helper:
        parsed = helper.call(read, path, context)()
        assert isinstance(parsed, Parsed), "the helper read it"
        assert not helper._failed and helper._process is not None and helper._process.poll() is None
    alone = read(path, context)
    assert parsed.rows_read == alone.rows_read > 0
    for name, table in alone.tables.items():
        pd.testing.assert_frame_equal(parsed.tables[name], table, obj=name)
