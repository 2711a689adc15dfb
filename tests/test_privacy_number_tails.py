"""The scrubber's shortcut for texts that end in ``/`` and a number (post URLs: ``x.com/ada/status/1822``),
scrubbed as their part before the number with the number put back, gives exactly what scrubbing each text
in full gives: on URLs of every shape, phone numbers and emails next to the number, disguised names and
random text, and with rosters whose values could reach into a number (then the shortcut is not taken)."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from analytics import privacy
from analytics.privacy import Identity, Scrubber

_ALPHABET = (string.ascii_letters + string.digits + " .,:;!?@#/+-()_'\n\t%&=" + "\u00a0\u200b\u202e\u00ad"
             + "ſKıİéÉß" + "٠١٢" + "😀—")
_NUMBERS = ["1", "0", "07700900123", "442079460958", "1840892364485103168", "2026", "0958", "12345"]


def _scrubber(handles=("@adalee", "@ada@mastodon.social", "@eleanoro26"), donor_contacts=()) -> Scrubber:
    return Scrubber([Identity("ab" * 32, names=("Ada Lee", "Åsa Strøm"), emails=("ada.lee@rt.org",),
                              handles=handles),
                     Identity("cd" * 32, names=("Kim Sung",), handles=("@k_sung",))],
                    donors=["Jane Donor"], keep_domains=["rt.org"],
                    donor_contacts=[("jd@mail.com", "[EMAIL]"), ("+44 20 7946 0958", "[PHONE]"), *donor_contacts])


def _heads() -> list[str]:
    heads = []
    for host in ("https://x.com", "https://twitter.com", "https://mastodon.social", "http://www.facebook.com"):
        for who in ("adalee", "ADALEE", "@ada", "eleanoro26", "k_sung", "someone", "ada.lee@rt.org",
                    "Ada%20Lee", "ada\u200blee", "jd@mail.com", "x@y.com", "+44", "+44 20 7946 ", "0161 496 ",
                    "07700", "(555) 123-", "ada lee", "Kim\u00a0Sung", "jane donor", "ſ", "1"):
            for middle in ("/status/", "/posts/", "/", "/status/123/", "/photo/"):
                heads.append(f"{host}/{who}{middle}")
    heads += ["/", "//", "call /", "+44 20 7946 /", "07700 /", "mail ada.lee@rt.org/", "Ada Lee/", "Jane Donor /",
              "\u200b/", "ada lee\t/", "@adalee/"]
    return heads


def _texts() -> list[str]:
    texts = [head + number for head in _heads() for number in _NUMBERS]
    texts += [head.rstrip("/") + number for head in _heads()[:40] for number in _NUMBERS[:3]]  # no slash: in full
    texts += ["https://x.com/adalee/status/", "plain 1234", "/1234", "1234", "https://x.com/adalee/12a4"]
    return texts


def test_numbers_after_a_slash_are_scrubbed_as_in_full():
    scrubber = _scrubber()
    assert scrubber._number_tails  # the shortcut is taken for this roster
    texts = _texts()
    fast = scrubber._scrub_each(texts)
    assert fast == [scrubber.scrub(t) for t in texts]
    assert sum(a != b for a, b in zip(texts, fast, strict=True)) > len(texts) // 3  # much to scrub
    assert fast[texts.index("https://x.com/adalee/status/1")] == "https://x.com/[person:ababababab]/status/1"


def test_values_that_could_reach_into_the_number_turn_the_shortcut_off():
    # a handle of digits is a path segment "/12345": in "x.com/a/12345" it is the number itself
    unsafe = [_scrubber(handles=("@adalee", "@12345")), _scrubber(donor_contacts=[("0958", "[PHONE]")]),
              Scrubber([Identity("ab" * 32, names=("ada/",))]), Scrubber([Identity("ab" * 32, names=("a/12",))])]
    for scrubber in unsafe:
        assert not scrubber._number_tails
        texts = [*_texts(), "https://x.com/a/12345", "x/0958", "ada/7", "see a/12"]
        assert scrubber._scrub_each(texts) == [scrubber.scrub(t) for t in texts]
    digits = _scrubber(handles=("@adalee", "@12345"))
    assert digits.scrub("https://x.com/a/12345") == "https://x.com/a/[person:ababababab]"  # why it must be off


def test_scrub_many_takes_the_shortcut_with_and_without_the_helper(monkeypatch):
    monkeypatch.setattr(privacy, "_BATCH_MIN", 1)
    monkeypatch.setattr(privacy, "_HELPER_MIN", 2)
    scrubber = _scrubber()
    texts = list(dict.fromkeys(_texts()))
    expected = [scrubber.scrub(t) for t in texts]
    assert scrubber.scrub_many(texts) == expected
    with privacy.ScrubHelper().start() as helper:
        scrubber.helper = helper
        assert scrubber.scrub_many(texts) == expected
        scrubber.helper = None


@settings(max_examples=60, deadline=None)
@given(heads=st.lists(st.text(st.sampled_from(_ALPHABET), max_size=40), min_size=1, max_size=20),
       numbers=st.lists(st.text(st.sampled_from(string.digits), min_size=1, max_size=12), min_size=1, max_size=4),
       values=st.lists(st.text(st.sampled_from(_ALPHABET), min_size=1, max_size=10), min_size=1, max_size=5),
       contacts=st.lists(st.text(st.sampled_from(_ALPHABET), min_size=1, max_size=10), max_size=2))
def test_numbers_after_a_slash_are_scrubbed_as_in_full_on_random_text_and_rosters(heads, numbers, values, contacts):
    scrubber = Scrubber([Identity("ab" * 32, names=tuple(values[:2]), emails=tuple(values[2:3]),
                                  handles=tuple(values[3:]))],
                        donors=values[1:2], donor_contacts=[(c, "[PHONE]") for c in contacts])
    texts = [f"{head}/{number}" for head in heads for number in numbers]
    texts += [f"{head}/{value}/{number}" for head, value, number in zip(heads, values * 10, numbers * 10,
                                                                         strict=False)]
    assert scrubber._scrub_each(texts) == [scrubber.scrub(t) for t in texts]
