"""URLs in post texts are found in linear time, exactly where the plain (quadratic) pattern finds them."""

from __future__ import annotations

import random
import re
import time

import pandas as pd
import pytest

from analytics import engagement

#: The pattern the link keys were defined by (quadratic on long runs of letters): the reference.
PLAIN = re.compile(r"(?:https?://)?(?:www\.)?[a-z0-9][a-z0-9.-]*\.[a-z]{2,}/[^\s\"'<>)\]”]*", re.IGNORECASE)

#: Hostile texts of about a million characters: long runs of host characters with no dot, no slash, no
#: letters after the last dot, schemes and ``www.`` without a host; each must take well under a second.
HUGE = [
    "a" * 1_000_000 + "/",
    "a." * 500_000 + "/",
    "-a" * 500_000 + "/x",
    "a-" * 500_000 + ".1/",
    ".-" * 500_000 + "a/",
    "1" * 999_990 + ".org1/",
    "www." * 250_000 + "/",
    "http://" * 140_000 + "a/",
    "hTTps://www." * 80_000 + "ſ/",
    "\u0130" * 1_000_000 + "/",
    ("a" * 99_999 + " ") * 10 + "/",
    "a.bc/" + "c" * 1_000_000,
]


def _random_texts(count: int, seed: int) -> list[str]:
    # an alphabet of everything the pattern treats specially, so short texts reach every branch
    pieces = ["a", "b", "z", "0", "9", ".", "-", "/", ":", "h", "t", "p", "s", "w", " ", '"', ")", "]", "”",
              "\u0130", "\u0131", "\u017f", "\u212a", "é", "http://", "https://", "www.", ".org/", "x.co/", "\n"]
    rng = random.Random(seed)
    return ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 40))) for _ in range(count)]


def test_the_urls_found_are_those_of_the_plain_pattern_on_random_and_hostile_texts():
    texts = [*_random_texts(20_000, seed=7), *(t[:3_000] for t in HUGE), "a" * 3_000 + " riverbendtrust.org/x",
             "xhttp://a.org/p", ".http://a.org/", "http://-a.org/", "-.-a.org/", "www.ex/", "ab..org/", "a.b1/",
             "x.com/a]b) y.co/ z.c/ 1.2.3.4/x İSTANBUL.COM/x ſite.org/KELVIN.org/x", "https://www./x", "www./x"]
    found = [engagement._urls_in_text(text) for text in texts]
    assert found == [PLAIN.findall(text) for text in texts]
    assert sum(map(len, found)) > 2_000  # the random texts hold URLs of every shape


@pytest.mark.parametrize("index", range(len(HUGE)))
def test_a_million_hostile_characters_take_seconds_not_minutes(index):
    # the plain pattern needs about a minute for 100,000 letters and a hundred times that for a million;
    # these take about 0.1 s each. CPU seconds, not wall: on a busy machine the wall clock measures the
    # other processes too (it read 1.2 s at load 12), and the bound only has to tell linear from quadratic
    text = HUGE[index]
    posts = pd.DataFrame({"post_uid": ["e", "o"], "account_type": ["employee", "organization"],
                          "text": [text, "x"], "url": [None, "https://a.bc/d"], "shared_url": None,
                          "platform": "x", "author_key": ["p", None], "department": None,
                          "published_at": pd.Timestamp("2026-01-01", tz="UTC")})
    found = engagement._urls_in_text(text)
    for extract in (engagement.link_keys, engagement.match_amplifications):
        started = time.process_time()
        extract(posts)
        elapsed = time.process_time() - started
        assert elapsed < 5.0, f"{extract.__name__}: {elapsed:.2f} CPU s"
    keys = engagement.link_keys(posts)
    assert keys.loc[keys["kind"] == "link", "key"].tolist() == [k for k in map(engagement.normalise_url, found) if k]
    # the plain pattern gives the same where it finishes in time: on the text's head
    head = text[:3_000]
    assert engagement._urls_in_text(head) == PLAIN.findall(head)
