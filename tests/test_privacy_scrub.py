"""The scrubber's batch path (one RE2 pass picks the texts that could change) gives exactly what scrubbing
every text one by one gives: on the committed sample, the hostile corpus, disguised identities and random
text."""

from __future__ import annotations

import csv
import re
import string
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics import config, privacy
from analytics.privacy import Identity, Scrubber, pseudonym

HOSTILE_FILES = Path(__file__).resolve().parent / "hostile" / "files"
HANDLE_COLUMNS = ("x_handle", "instagram_handle", "linkedin_handle", "mastodon_handle")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def roster() -> list[dict[str, str]]:
    return _rows(config.SAMPLE_DIR / "roster.csv")


@pytest.fixture(scope="module")
def scrubber(roster) -> Scrubber:
    """The sample roster and donors, as ingest builds them (facebook names are names, handles are handles)."""
    identities = [
        Identity(pseudonym(row["email"], b"k"), names=tuple(v for v in (row["full_name"], row["facebook_name"]) if v),
                 emails=(row["email"],), handles=tuple(row[c] for c in HANDLE_COLUMNS if row.get(c)))
        for row in roster
    ]
    donors = _rows(config.SAMPLE_DIR / "donors_private.csv")
    private = [d for d in donors if d["public_acknowledgement"].strip().lower() not in ("yes", "true", "1")]
    contacts = [(d[kind], placeholder) for d in private for kind, placeholder in (("email", "[EMAIL]"),
                                                                                  ("phone", "[PHONE]")) if d[kind]]
    return Scrubber(identities, donors=[d["donor_name"] for d in private], keep_domains=["riverbendtrust.org"],
                    donor_contacts=contacts)


@pytest.fixture(autouse=True)
def batch_always(monkeypatch):
    monkeypatch.setattr(privacy, "_BATCH_MIN", 1)  # the batch path even for a handful of texts


def _same(scrubber: Scrubber, texts: list[str], *, skips: bool = True) -> None:
    texts = list(dict.fromkeys(texts))  # scrub_many takes distinct texts, as scrub_series gives it
    fast, slow = scrubber.scrub_many(texts), [scrubber.scrub(t) for t in texts]
    different = [(t, f, s) for t, f, s in zip(texts, fast, slow, strict=True) if f != s]
    assert not different, f"{len(different)} texts differ; first: {different[:3]}"
    if skips:  # and the batch path was taken: texts it can skip were skipped
        assert not scrubber._changeable(texts).all()


def test_the_sample_exports_scrub_the_same_and_most_texts_skip_the_slow_path(scrubber):
    texts = []
    for name in ("monitoring_posts.csv", "audience_comments.csv", "incidents.csv"):
        for row in _rows(config.SAMPLE_DIR / name):
            texts += [v for v in row.values() if v]
    texts = list(dict.fromkeys(texts))
    assert len(texts) > 5000
    changeable = scrubber._changeable(texts)
    wide = [not t.isascii() for t in texts]
    # the pre-filter is doing work: most non-ASCII texts (emoji, typographic dashes) skip the slow path
    assert 0 < (changeable & pd.Series(wide).to_numpy()).sum() < 0.6 * sum(wide)
    _same(scrubber, texts)


def test_the_hostile_corpus_scrubs_the_same(scrubber):
    texts = []
    for path in sorted(HOSTILE_FILES.iterdir()):
        data = path.read_bytes()
        for encoding in ("utf-8", "utf-16", "cp1252"):
            try:
                decoded = data.decode(encoding)
            except UnicodeDecodeError:
                continue
            texts += decoded.splitlines() + [cell for line in decoded.splitlines() for cell in line.split(",")]
            break
    assert len(texts) > 200
    _same(scrubber, texts)


def _disguises(value: str) -> list[str]:
    """Ways a name, email or handle hides from a literal match while a reader still sees it."""
    return [
        value, value.upper(), value.lower(), value.title(), value.replace(" ", "\u00a0"), value.replace(" ", "\n"),
        value.replace(" ", "  "), value.replace(" ", "\t\u200b "), value[:2] + "\u200b" + value[2:],
        value[:1] + "\u00ad" + value[1:], "\u202e" + value + "\u202c", value.replace("s", "\u017f"),
        value.replace("k", "\u212a"), value.replace("i", "\u0131"), value.replace("I", "\u0130"),
        value.replace("e", "\u00e9"), "\ufeff" + value, value.replace(" ", "\u3000"),
    ]


def test_disguised_identities_handles_in_urls_donors_and_contact_shapes_scrub_the_same(scrubber, roster):
    texts = []
    for row in roster[:40]:
        handles = [row[c] for c in HANDLE_COLUMNS if row.get(c)]
        for value in [row["full_name"], row["email"], *handles]:
            for shown in _disguises(value):
                texts += [shown, f"Thanks {shown}! 🎉", f"cc {shown}\u2014great", f"«{shown}»", f"x{shown}y"]
        for handle in handles:
            bare = handle.lstrip("@")
            texts += [f"https://x.com/{bare}/status/1", f"https://mastodon.social/@{bare.split('@')[0]}/1",
                      f"https://www.instagram.com/{bare.upper()}?hl=en", f"voir https://x.com/{bare}#top ✨"]
    for donor in _rows(config.SAMPLE_DIR / "donors_private.csv"):
        texts += [f"Merci {d} ❤️" for d in _disguises(donor["donor_name"])]
        texts += [f"{donor['email']} — {donor['phone']}", donor["phone"].replace(" ", "\u00a0") + " ☎"]
    texts += [
        # one text per shape of PHONE_RE (each the only thing that could change its text)
        "Call +44 20 7946 0958 📞", "(555) 123-4567 ✓", "ring 07700\u00a0900123 ☺", "٠٧٧٠٠ ٩٠٠١٢٣ ✓",
        "1 555 234 9876 ✓", "555.123.4567 ✓", "0161 496 0754 ✓", "07700 900 123 ✓", "07700900123 ✓",
        "+15551234567 ✓", "0\u0667\u0667\u0660\u0660\u0669\u0660\u0660\u0661\u0662\u0663 ✓",
        "０７７００ ９００１２３ ✓", "+\u0661\u0662\u0663 456 7890 ✓", "2026-03-14 ✓", "order #0123456789 ✓",
        "mail ada.lee@rt.org ✉", "ADA@EXAMPLE.COM ✉", "info@riverbendtrust.org 🙂", "@ada@mastodon.social 🐘",
        "ｆｕｌｌｗｉｄｔｈ ａｄａ ✓", "𝐀𝐝𝐚 𝐋𝐞𝐞 ✓", "emoji 👩\u200d💻 only", "nul \x00 byte ✓",
        "lone \ud800 surrogate ✓", "", " ", "✓", "\u2028line\u2029para ✓",
    ]
    _same(scrubber, texts)


def test_a_donor_contact_written_with_a_dotted_or_dotless_i_is_replaced():
    # the contact pattern ignores case as Python does ("İ" and "ı" match "i"); str.lower does not make
    # "i" of them, so the replacement is looked up by the same case-insensitive match
    scrubber = Scrubber(donor_contacts=[("tim.fig@mail.com", "[EMAIL]")])
    for shown in ("T\u0130M.F\u0130G@MA\u0130L.COM", "t\u0131m.f\u0131g@ma\u0131l.com", "TIM.FIG@MAIL.COM"):
        assert scrubber.scrub(f"write to {shown} today") == "write to [EMAIL] today", shown


#: Characters random text is drawn from: word characters, separators, disguises, case pairs, digits of
#: several scripts, emoji and astral letters.
_ALPHABET = (string.ascii_letters + string.digits + " .,:;!?@#/+-()_'\n\t" + "\u00a0\u200b\u202e\u00ad\ufeff"
             + "ſKıİéÉßẞæÆøØ" + "٠١٢٣٤٥٦٧٨٩０１２３" + "😀🎉❤️—…’" + "𝐀𝐝𝐚")


@settings(max_examples=40, deadline=None)
@given(texts=st.lists(st.text(st.sampled_from(_ALPHABET), max_size=80), min_size=1, max_size=60),
       pieces=st.lists(st.sampled_from(["Ada Lee", "ada.lee@rt.org", "@adalee", "/adalee", "Jane Donor",
                                        "+44 20 7946 0958", "jd@mail.com", "0161 496 0754"]), max_size=30))
def test_random_text_scrubs_the_same(texts, pieces):
    scrubber = Scrubber([Identity("ab" * 32, names=("Ada Lee", "Åsa Strøm"), emails=("ada.lee@rt.org",),
                                  handles=("@adalee", "@ada@mastodon.social"))],
                        donors=["Jane Donor", "Zoë Keßler"], donor_contacts=[("jd@mail.com", "[EMAIL]")])
    mixed = [t[: len(t) // 2] + p + t[len(t) // 2:] for t, p in zip(texts, pieces, strict=False)]
    _same(scrubber, texts + mixed, skips=False)


def test_scrub_series_keeps_missing_values_and_order(scrubber, roster):
    name = roster[0]["full_name"]
    values = pd.Series([f"hi {name} ✓", None, "plain ✓", f"hi {name} ✓", pd.NA], dtype="string")
    out = scrubber.scrub_series(values)
    assert out.tolist()[1:3] == [pd.NA, "plain ✓"] and out.isna().tolist() == [False, True, False, False, True]
    assert name not in out[0] and out[0] == out[3] == scrubber.scrub(values[0])


def test_a_column_of_ids_is_scrubbed_value_by_value_exactly_as_a_factorized_one(scrubber, roster, monkeypatch):
    name, email = roster[0]["full_name"], roster[1]["email"]
    # its head all different (taken as ids or URLs), then repeats, missing values and identities
    head = [f"https://x.com/p/{i}" for i in range(privacy._UNIQUE_SAMPLE)]
    tail = [value for i in range(200)
            for value in (f"https://x.com/{name}/{i % 50}", None, f"mailto:{email}", "https://x.com/p/1")]
    values = pd.Series(head + tail, dtype="str")
    codes, distinct = privacy._distinct_values(values)
    assert len(distinct) == values.count() and (codes == -1).sum() == values.isna().sum()  # not hashed
    out = scrubber.scrub_series(values)
    assert [None if pd.isna(v) else v for v in out] == [None if pd.isna(v) else scrubber.scrub(v) for v in values]
    assert name not in " ".join(out.dropna()) and email not in " ".join(out.dropna())
    monkeypatch.setattr(privacy, "_UNIQUE_SAMPLE", len(values))  # factorized instead: the same column
    assert len(privacy._distinct_values(values)[1]) < values.count()
    pd.testing.assert_series_equal(scrubber.scrub_series(values), out)


def test_every_character_ignore_case_can_pair_is_in_the_cased_table():
    # the batch path's proof rests on this table: a character outside it only ever matches itself
    pool = "".join(sorted(set(privacy._unicode_tables()[2]) | set(string.ascii_letters)))
    others = "".join(chr(p) for p in range(privacy._TABLE_END)
                     if chr(p) not in pool and not 0xD800 <= p < 0xE000)
    assert not re.compile(f"[{re.escape(pool)}]", re.IGNORECASE).search(others)
    assert not re.compile(f"[{re.escape(others)}]", re.IGNORECASE).search(pool)
