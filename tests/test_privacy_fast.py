"""A scrubber whose roster part was built before (for another donor list, or for the same roster again, as a
helper process rebuilds it) scrubs exactly like one built from nothing, and its RE2 screen (the roster's part
or the donors') finds every text the scrub changes."""

from __future__ import annotations

import pytest
from hostile_lines import hostile_lines

from analytics import privacy
from analytics.privacy import Identity, Scrubber

_IDENTITIES = [
    Identity("ab" * 32, names=("Ada Lee", "Åsa Strøm"), emails=("ada.lee@rt.org",),
             handles=("@adalee", "@ada@mastodon.social", "x:eleanoro26")),
    Identity("cd" * 32, names=("Kim Sung", "ſam iſ"), handles=("@k_sung",)),
    Identity("ef" * 32, names=("Zoë Keßler",), emails=("zk@mail.org",), handles=("@İlker",)),
]
_DONORS = ["Jane Donor", "Ömer Gift", "ada lee"]
_CONTACTS = [("jd@mail.com", "[EMAIL]"), ("+44 20 7946 0958", "[PHONE]")]
_NUMBERS = ["1", "0", "07700900123", "442079460958", "1840892364485103168", "0958"]


@pytest.fixture(autouse=True)
def _roster_parts_of_this_test_only():
    """Scrubbers of one roster share its cached parts, whose roster pattern keeps state (compiled patterns, a
    budget) that some tests set: no test starts from, or leaves, another's."""
    privacy._identity_parts.cache_clear()
    yield
    privacy._identity_parts.cache_clear()


def _urls() -> list[str]:
    """Post URLs (more than the batch screen's minimum of distinct parts) and texts that only look like them."""
    heads = []
    for host in ("https://x.com", "https://mastodon.social", "http://www.facebook.com", "https://ex.org"):
        for who in ("adalee", "ADALEE", "@ada", "eleanoro26", "k_sung", "ilker", "İlker", "someone", "sam",
                    "ada.lee@rt.org", "Ada%20Lee", "ada\u200blee", "jd@mail.com", "x@y.com", "+44 20 7946 ",
                    "0161 496 ", "(555) 123-", "ada lee", "Kim\u00a0Sung", "jane donor", "JANE  DONOR", "ſ"):
            for middle in ("/status/", "/", "/status/123/", "/p/", "/posts/q", "/@"):
                for n in range(4):
                    heads.append(f"{host}/{who}{middle}{'x' * n}/")
    texts = [head + number for head in heads for number in _NUMBERS[: 1 + len(head) % len(_NUMBERS)]]
    texts += ["https://x.com/adalee/status/", "plain 1234", "/1234", "1234", "https://x.com/adalee/12a4",
              "https://x.com/adalee/status/\u0661\u0662", "https://x.com/adalee/status/12 ", "Ada Lee/07700 900123"]
    return list(dict.fromkeys(texts))


def test_a_scrubber_reusing_its_roster_part_scrubs_like_one_built_from_nothing():
    texts = hostile_lines() + _urls()[::3] + [f"{name} thanks {donor}, call {contact}" for name in
                                                 ("Ada Lee", "ADA\u00a0LEE", "@adalee", "ſam iſ", "x")
                                                 for donor in (*_DONORS, "JANE\nDONOR") for contact, _ in _CONTACTS]
    fresh = Scrubber(_IDENTITIES, donors=_DONORS, keep_domains=["rt.org"], donor_contacts=_CONTACTS)
    expected = [fresh.scrub(text) for text in texts]
    privacy._identity_parts.cache_clear()
    Scrubber(_IDENTITIES, donors=["Someone Else"])  # the roster part is built here, with other donors
    reused = Scrubber(list(_IDENTITIES), donors=_DONORS, keep_domains=["rt.org"], donor_contacts=_CONTACTS)
    assert privacy._identity_parts.cache_info().hits >= 1
    assert [reused.scrub(text) for text in texts] == expected
    assert reused.scrub_many(texts) == expected
    # the screen (roster part | donor part) finds every text the scrub changes
    changeable = reused._changeable(texts)
    assert len(texts) >= privacy._BATCH_MIN
    assert all(changeable[i] for i, (text, done) in enumerate(zip(texts, expected, strict=True)) if text != done)


@pytest.mark.parametrize(("identities", "donors", "contacts", "prefiltered"), [
    ([], [], [], True), ([], ["Jane Donor"], [], True), ([], [], _CONTACTS, True),
    (_IDENTITIES, [], [], False),  # 'ſ' in a roster name equals 's' ignoring case: no ASCII pre-filter
    ([Identity("ab" * 32, names=("\u212aim",))], ["Jane Donor"], [], True),  # the roster's Kelvin sign is kept as 'k'
    (_IDENTITIES, ["\u212aate"], [], False),  # a donor's Kelvin sign equals 'k' ignoring case: no pre-filter
])
def test_a_scrubber_with_a_part_empty_or_without_a_prefilter_scrubs_each_text_in_full(identities, donors, contacts,
                                                                                        prefiltered):
    scrubber = Scrubber(identities, donors=donors, donor_contacts=contacts)
    assert (scrubber._prefilter is not None) == prefiltered
    texts = [*hostile_lines()[:400], "Kim, kate, KATE, \u212aim, Jane Donor, jd@mail.com", "", " "]
    expected = [scrubber.scrub(text) for text in texts]
    assert scrubber.scrub_many(texts * 8) == expected * 8  # enough texts for the RE2 screen
    names = [*(v for person in identities for v in person.names), *donors]
    for name in names:
        assert name not in scrubber.scrub(f"hello {name}!")


#: A roster without a character ignore-case matching equates with an ASCII letter (the ASCII pre-filter's case).
_PLAIN_IDENTITIES = [
    Identity("ab" * 32, names=("Ada Lee", "Åsa Strøm"), emails=("ada.lee@rt.org",),
             handles=("@adalee", "@ada@mastodon.social", "x:eleanoro26")),
    Identity("cd" * 32, names=("Kim Sung",), handles=("@k_sung",)),
    Identity("ef" * 32, names=("Zoë Keßler",), emails=("zk@mail.org",)),
]


def _ascii_texts() -> list[str]:
    """ASCII texts that put the roster's and donors' values, whole and in part, between every kind of
    character the pre-filter splits words at."""
    values = ["ada lee", "ada.lee@rt.org", "@adalee", "adalee", "eleanoro26", "k_sung", "kim sung", "jane donor",
              "jd@mail.com", "+44 20 7946 0958", "ada", "lee", "sam", "zk@mail.org"]
    texts = []
    for value in values:
        for variant in (value, value.upper(), value.title(), value.replace(" ", "\t "), value.replace(" ", "-")):
            for before, after in (("", ""), ("x", ""), ("", "x"), ("_", "_"), ("@", "."), ("/", "/1"), ("(", ")"),
                                  ("hi ", "!"), ("x.com/", "/status/1"), ("a@", ".org"), ("0", "9")):
                texts.append(f"{before}{variant}{after}")
    return texts


def test_the_ascii_prefilter_clears_only_texts_the_scrub_leaves_as_they_are():
    scrubber = Scrubber(_PLAIN_IDENTITIES, donors=_DONORS, keep_domains=["rt.org"], donor_contacts=_CONTACTS)
    texts = [text for text in [*hostile_lines(), *_urls()[::5], *_ascii_texts()] if text.isascii()]
    assert scrubber._prefilter is not None
    cleared = [text for text in texts if not scrubber._prefilter.hit(text.lower())]
    assert len(cleared) > 100  # the shortcut is taken
    # scrubbed without the shortcut, through every pattern
    plain = Scrubber(_PLAIN_IDENTITIES, donors=_DONORS, keep_domains=["rt.org"], donor_contacts=_CONTACTS)
    plain._prefilter = None
    assert [scrubber.scrub(text) for text in texts] == [plain.scrub(text) for text in texts]
    changed = [text for text in texts if plain.scrub(text) != text]
    assert len(changed) > 100


#: A roster, donors and contacts all in ASCII: the pre-filter then guides texts that are not ASCII too.
_ASCII_IDENTITIES = [
    Identity("ab" * 32, names=("Ada Lee",), emails=("ada.lee@rt.org",), handles=("@adalee", "x:eleanoro26")),
    Identity("cd" * 32, names=("Kim Sung",), handles=("@k_sung",)),
]


def test_the_ascii_prefilter_clears_only_texts_the_scrub_leaves_as_they_are_whatever_their_script():
    # characters without a case (emoji, CJK, Arabic, spaces, marks) and with one ('é', 'ſ', Kelvin sign, dotted
    # I, full-width A), invisible ones and one beyond the case tables, around, inside and between the values
    caseless = ["😊", "中文", "\u0627\u0644", "\u00a0", "\u3000", "\u2028", "\u0301", "\u2013"]
    unguided = ["é", "ſ", "\u212a", "\u0130", "\uff21", "\u200b", "\u00ad", "\U00020001"]
    others = caseless + unguided
    texts = [text for text in _ascii_texts() if "ADA" in text.upper() or "KIM" in text.upper()][::2]
    texts = list(dict.fromkeys(
        variant for text in texts for other in others
        for variant in (f"{other} {text}", f"{text}{other}", text.replace(" ", other, 1),
                        text.replace("a", other, 1), text.replace("i", other, 1)) if not variant.isascii()))
    scrubber = Scrubber(_ASCII_IDENTITIES, donors=["Jane Donor"], keep_domains=["rt.org"], donor_contacts=_CONTACTS)
    assert scrubber._prefilter is not None
    cleared = [text for text in texts if not scrubber._may_name(text)]
    assert len(cleared) > 100  # the shortcut is taken
    plain = Scrubber(_ASCII_IDENTITIES, donors=["Jane Donor"], keep_domains=["rt.org"], donor_contacts=_CONTACTS)
    plain._prefilter = None
    assert [scrubber.scrub(text) for text in texts] == [plain.scrub(text) for text in texts]
    # taken for every text whose other characters have no case and show, around an ASCII text the ASCII
    # pre-filter clears; never where one has a case, hides or lies beyond the case tables
    ascii_cleared = [text for text in _ascii_texts() if not scrubber._may_name(text)]
    assert ascii_cleared and all(not scrubber._may_name(f"{other} {text}") for text in ascii_cleared
                                 for other in caseless)
    assert all(scrubber._may_name(f"{other} {text}") for text in ascii_cleared for other in unguided)
    assert len([text for text in texts if plain.scrub(text) != text]) > 100
    # a value that is not ASCII can match only texts that are not: then only ASCII texts take the shortcut
    wider = Scrubber([*_ASCII_IDENTITIES, Identity("ef" * 32, names=("Zoë Keßler",))])
    assert wider._prefilter is not None and all(wider._may_name(text) for text in texts)


def test_the_roster_pattern_is_compiled_only_when_a_text_needs_it():
    scrubber = Scrubber(_PLAIN_IDENTITIES, donors=_DONORS, donor_contacts=_CONTACTS)
    assert scrubber.scrub("Thanks all, call 0161 496 0754 or x@y.com") == "Thanks all, call [PHONE] or [EMAIL]"
    assert scrubber.scrub("Thanks Ada Lee") == "Thanks [person:ababababab]"
    assert scrubber._pattern._full is None  # a pattern of the values the text could hold did it
    assert len(scrubber._pattern._subsets) == 1


def test_compile_all_gives_every_scrubber_of_the_roster_the_pattern_of_all_values():
    privacy._identity_parts.cache_clear()
    first = Scrubber(_PLAIN_IDENTITIES, donors=_DONORS, donor_contacts=_CONTACTS)
    first.compile_all()
    later = Scrubber(_PLAIN_IDENTITIES, donors=_DONORS)  # another donor list, the same roster
    assert later._pattern._full is not None
    assert later.scrub_many(["Thanks Ada Lee", "Thanks all"]) == ["Thanks [person:ababababab]", "Thanks all"]
    assert not later._pattern._subsets  # nothing more compiled
    privacy._identity_parts.cache_clear()


@pytest.mark.parametrize("identities", [_IDENTITIES, _PLAIN_IDENTITIES])
def test_the_roster_pattern_of_a_texts_values_finds_what_the_pattern_of_all_values_finds(identities):
    texts = [*hostile_lines(), *_urls()[::3], *_ascii_texts(),
             *(f"{a} {b}" for a in ("Ada", "ADA", "ada.lee", "@ada", "K_SUNG", "kim", "ſam", "SAM", "zoë", "ZOË")
               for b in ("Lee", "LEE@rt.org", "@mastodon.social", "sung", "\u212aim Sung", "iſ", "IS", "keßler",
                         "KESSLER"))]
    guided = Scrubber(identities, donors=_DONORS, donor_contacts=_CONTACTS)
    guided._pattern._budget = 10**9  # never falls back to the pattern of all values on its own
    privacy._identity_parts.cache_clear()
    full = Scrubber(identities, donors=_DONORS, donor_contacts=_CONTACTS)
    full._pattern.full()
    changed = guided_texts = 0
    subsets = set()
    for text in texts:
        guided._pattern._full = None  # a text that needs the pattern of all values compiles it: not for the next
        expected = full.scrub(text)
        assert guided.scrub(text) == expected, text
        changed += "[person:" in expected
        if guided._pattern._full is None:
            guided_texts += 1
            subsets.add(guided._pattern.for_text(text))
    assert guided_texts > len(texts) / 2 and changed > 100
    assert len(subsets) >= 8
    # a batch: one pattern of the values any of its texts could hold
    privacy._identity_parts.cache_clear()
    batch = Scrubber(identities, donors=_DONORS, donor_contacts=_CONTACTS)
    batch._pattern._budget = 10**9
    texts = [text for text in texts if batch._pattern._candidates(text) is not None]
    assert batch.scrub_many(texts) == [full.scrub(text) for text in texts]
    assert batch._pattern._full is None and len(batch._pattern._subsets) == 1
    privacy._identity_parts.cache_clear()
    batch = Scrubber(identities)
    batch._pattern.prepare(["Ada Lee"])
    assert batch.scrub("Ada Lee, Kim Sung") == "[person:ababababab], [person:cdcdcdcdcd]"  # not all in the batch


def test_the_roster_pattern_of_all_values_takes_over_once_the_texts_patterns_cost_a_quarter_of_it():
    people = [Identity(f"{n:010x}" + "0" * 54, names=(f"Person{n} Surname{n}",), handles=(f"@p{n}",))
              for n in range(400)]
    scrubber = Scrubber(people)
    texts = [f"Thanks Person{n} SURNAME{n} and @p{n + 1}" for n in range(399)]
    expected = [f"Thanks [person:{n:010x}] and [person:{n + 1:010x}]" for n in range(399)]
    assert [scrubber.scrub(text) for text in texts[:5]] == expected[:5]
    assert scrubber._pattern._full is None and len(scrubber._pattern._subsets) == 5
    assert [scrubber.scrub(text) for text in texts] == expected
    assert scrubber._pattern._full is not None  # each text its own pattern: they cost more than a quarter
    assert scrubber._pattern.for_text("nobody") is scrubber._pattern._full


def test_a_batch_naming_many_people_takes_the_pattern_of_all_values_at_once():
    people = [Identity(f"{n:010x}" + "0" * 54, names=(f"Person{n} Surname{n}",)) for n in range(400)]
    scrubber = Scrubber(people)
    texts = [f"Thanks Person{n} SURNAME{n}!" for n in range(400)]
    assert scrubber._scrub_each(texts) == [f"Thanks [person:{n:010x}]!" for n in range(400)]
    assert scrubber._pattern._full is not None and not scrubber._pattern._subsets


def test_a_batch_of_many_texts_takes_the_pattern_of_all_values_without_reading_their_words(monkeypatch):
    people = [Identity(f"{n:010x}" + "0" * 54, names=(f"Person{n} Surname{n}",)) for n in range(50)]
    scrubber = Scrubber(people)
    texts = [f"Thanks Person{n % 50} SURNAME{n % 50} ({n})" for n in range(privacy._FULL_PATTERN_TEXTS)]
    monkeypatch.setattr(privacy._RosterPattern, "_candidates", lambda self, text: pytest.fail(f"read {text!r}"))
    assert scrubber._scrub_each(texts) == [f"Thanks [person:{n % 50:010x}] ({n})" for n in range(len(texts))]
    assert scrubber._pattern._full is not None and not scrubber._pattern._subsets
    monkeypatch.undo()  # one text fewer: the texts' words are read (until their patterns would cost too much)
    privacy._identity_parts.cache_clear()
    scrubber = Scrubber(people)
    read = []
    monkeypatch.setattr(privacy._RosterPattern, "_candidates",
                        lambda self, text, candidates=privacy._RosterPattern._candidates:
                        read.append(text) or candidates(self, text))
    scrubber._scrub_each(texts[1:])
    assert read[:3] == texts[1:4]


@pytest.mark.parametrize("stored", ['["a list"]', '"text"', '{"people": ["a list"]}', '{"donors": {"a": 1}}'])
def test_a_vault_file_that_is_json_but_not_a_vault_is_refused_by_name(tmp_path, stored):
    path = tmp_path / "vault.json"
    path.write_text(stored, encoding="utf-8")
    with pytest.raises(ValueError, match=r"vault\.json is not an identity vault"):
        privacy.Vault.read(path)


def test_a_foreign_json_file_among_the_vaults_is_passed_over(tmp_path, monkeypatch):
    monkeypatch.setenv("POLICY_PULSE_CONFIG_DIR", str(tmp_path))
    (tmp_path / "vaults").mkdir()
    # named to be read first: a foreign file that stopped the pass would leave the vault after it unread
    foreign = tmp_path / "vaults" / "a-notes.json"
    foreign.write_text("[1, 2]", encoding="utf-8")
    key = b"k" * 32
    kept = privacy.Vault(tmp_path / "vaults" / "kept.json", privacy.key_fingerprint(key))
    kept.add_person("person-1", names=["Ada Example"], emails=[], handles=[])
    kept.save()
    assert privacy.forget_identity("person-1", key) == 1
    assert "person-1" not in privacy.Vault.read(kept.path).people, "the vault was saved without them"
    assert foreign.read_text(encoding="utf-8") == "[1, 2]"
