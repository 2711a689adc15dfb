"""Fast paths of analytics.sentiment give exactly what the slow paths give: batch VADER, emoji, screen, workers."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from analytics import parallel, sentiment
from analytics.sample import _NON_ENGLISH

ROOT = Path(__file__).resolve().parents[1]
TWEETS = ROOT / "tests" / "data" / "vader_tweets_GroundTruth.txt"
SAMPLE_POSTS = ROOT / "data" / "sample" / "monitoring_posts.csv"
KEYS = ["neg", "neu", "pos", "compound"]
REFERENCE = SentimentIntensityAnalyzer()

HOSTILE = [
    "",
    " ",
    "\n\t ",
    "good",
    "GOOD",
    "GOOD day",
    "a GOOD day",
    "VERY GOOD day",
    "very GOOD day",
    "The food was EXTREMELY good but the service was not good at all",
    "not good",
    "isn't good",
    "not a good day",
    "not very very good",
    "never so good",
    "this is so good",
    "we are so so proud of you",
    "I am so proud",
    "so proud",
    "it was this good",
    "at least it is good",
    "not the least bit good",
    "no good",
    "no no no good good",
    "no, or nor good",
    "good good good but bad bad bad",
    "bad but good",
    "BUT good",
    "kind of good",
    "kind people",
    "the shit",
    "yeah right, that is great",
    "to die for",
    "without a doubt good",
    "without doubt good",
    "sort of nice",
    "extremely EXTREMELY happy",
    "😁 😡 💘 👍🏽 ❤️ 🔛 🆙 🕛",
    "great😁!!",
    "😁great",
    "love it 😍😍😍!!!",
    "???? good",
    "good?? really??",
    "good!!!!!!!!",
    "bad!!!",
    ":) :( :D <3 :-(",
    "Tom &amp; Jerry &lt;3",
    "https://example.org/good?x=bad! @great_person #love",
    "Das ist wirklich eine sehr gute Nachricht für unsere Stadt",
    "Me encanta este nuevo programa de voluntariado, gracias a todo el equipo",
    "good\u00a0day\u3000great\x1cfine\x1fnice\u2028ok\x85bad",
    "ÜBERRASCHUNG FÜR ALLE KINDER HEUTE",
    "Happy happy HAPPY joy JOY",
    "hasn't worried, didn't fail, won't hurt",
    "good " * 300,
    "I don't think this is NOT bad, but it isn't great either!!! :(",
]


def _reference(texts) -> np.ndarray:
    return np.array([[REFERENCE.polarity_scores(t)[k] for k in KEYS] for t in texts]).reshape(-1, 4)


def _per_text(texts) -> np.ndarray:
    return np.array([[sentiment.polarity_scores(t)[k] for k in KEYS] for t in texts]).reshape(-1, 4)


def test_batch_equals_per_text_and_reference_on_hostile_inputs():
    texts = HOSTILE + [t.upper() for t in HOSTILE] + [t.capitalize() + "!" for t in HOSTILE]
    batch = sentiment._score_many(texts)
    assert np.abs(batch - _per_text(texts)).max() == 0
    assert np.abs(batch - _reference(texts)).max() <= 1e-9
    # one text at a time too: the batch arrays must not depend on the neighbours
    assert np.abs(np.vstack([sentiment._score_many([t]) for t in texts]) - batch).max() == 0


def _tokens_text_by_text(texts) -> tuple[list[int], np.ndarray]:
    v = sentiment._vader()
    split = [t.split() for t in texts]
    return [len(s) for s in split], v.flags[v.ids([token for s in split for token in s])]


@pytest.mark.parametrize("end_mark", [False, True], ids=["joined", "a text holds the end mark"])
def test_one_split_of_the_batch_equals_a_split_per_text(end_mark):
    # every kind of whitespace Python splits on, empty and blank texts, texts that run into each other
    spaces = [" ", "\t", "\n", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\xa0",
              "\u1680", "\u2000", "\u2007", "\u2028", "\u2029", "\u202f", "\u3000"]
    texts = HOSTILE + [f"good{s}day{s}" for s in spaces] + [f"{s}bad" for s in spaces] + ["", "", "x", "", "😊"]
    if end_mark:
        texts += ["a \x00 b", "\x00", "ok\x00"]
    tokens = sentiment._Tokens(texts)
    counts, flags = _tokens_text_by_text(tokens.texts)
    assert tokens.counts.tolist() == counts
    assert tokens.flags.tolist() == flags.tolist()
    assert np.abs(sentiment._vader_scores(tokens) - _reference(texts)).max() <= 1e-9
    assert sentiment._Tokens([]).counts.tolist() == []


def test_batch_path_takes_most_texts_and_leaves_the_rules_it_does_not_apply(monkeypatch):
    sent_per_text = []
    original = sentiment._raw_scores

    def spy(text, v):
        sent_per_text.append(text)
        return original(text, v)

    monkeypatch.setattr(sentiment, "_raw_scores", spy)
    easy = ["good", "a GOOD day", "very good", "not good", "so proud", "great😁!!", "", "plain words"]
    hard = ["no good", "at least good", "bad but good", "kind of good", "the least good", "not a good day"]
    assert np.abs(sentiment._score_many(easy + hard) - _reference(easy + hard)).max() <= 1e-9
    assert sent_per_text == hard


def test_emoji_replacement_equals_translate():
    v = sentiment._vader()
    table = {ord(k): s for k, s in v.emoji_table.items()}
    emoji = list(v.emoji_table)
    # no replacement contains a key, so replacing one character after another cannot cascade
    assert not any(ch in v.emoji_table for s in v.emoji_table.values() for ch in s)
    texts = ["".join(emoji[k : k + 7]) + f" mixed {emoji[k]}text{emoji[-k - 1]} é ü 中文" for k in range(len(emoji))]
    assert [sentiment._replace_chars(t, v.emoji_table) for t in texts] == [t.translate(table) for t in texts]


def _fill(template: str) -> str:
    return template.format(place="Harbour Lane", emoji="✨", target="someone")


def test_planted_non_english_posts_are_still_caught():
    planted = [_fill(t) for options in _NON_ENGLISH.values() for _, t in options]
    result = sentiment.score_texts(planted)
    assert (result["status"] == "not_english").all(), result
    if SAMPLE_POSTS.exists():
        posts = pd.read_csv(SAMPLE_POSTS, dtype=str)["text"].dropna().drop_duplicates()
        starts = tuple(" ".join(t.split()[:3]) for options in _NON_ENGLISH.values() for _, t in options)
        foreign = posts[posts.map(lambda text: text.startswith(starts))]
        assert len(foreign) > 0
        assert (sentiment.score_texts(foreign)["status"] == "not_english").all()


def test_pre_screen_agrees_with_the_language_model():
    # Every text the pre-screen calls English, the model also calls English (on these corpora).
    lines = TWEETS.read_text("utf-8").split("\n")
    texts = [sentiment.clean_text(line.split("\t", 2)[2]) for line in lines if line.strip()]
    if SAMPLE_POSTS.exists():
        texts += [sentiment.clean_text(t) for t in pd.read_csv(SAMPLE_POSTS, dtype=str)["text"].dropna().unique()]
    english = sentiment._plainly_english(sentiment._Tokens(texts))
    assert english.mean() > 0.4  # it does spare the model most of the work
    assert not sentiment._foreign_mask([t for t, e in zip(texts, english, strict=True) if e]).any()
    # and the screen as a whole is the model wherever the pre-screen passes a text on
    undecided = [t for t, e in zip(texts, english, strict=True) if not e]
    assert (sentiment._screen(undecided) == sentiment._foreign_mask(undecided)).all()


def test_emoji_words_do_not_make_foreign_text_english():
    text = "Qué orgullo de nuestro equipo 😍😍😍 😊😊 ✨"
    assert sentiment.is_confidently_not_english(text)
    assert not sentiment._plainly_english(sentiment._Tokens([text]))[0]


def test_workers_claim_chunks_in_this_process_too():
    texts = HOSTILE * 3
    claims = parallel.new_claims(multiprocessing.get_context("spawn"))
    parallel.start_batch(claims, 7, 10)
    sentiment._share_claims(claims)
    assert sentiment._score_claimed(texts, 17, 6) == {}, "a late task of an earlier batch claims nothing"
    parts = sentiment._score_claimed(texts, 17, 7)
    assert sorted(parts) == list(range(10)) and list(claims) == [7, 10, 10]
    foreign = np.concatenate([parts[k][0] for k in range(10)])
    scores = np.vstack([parts[k][1] for k in range(10)])
    single_foreign, single_scores = sentiment._score_parallel(texts[:170], 1)
    assert (foreign == single_foreign).all() and np.array_equal(scores, single_scores)


def test_two_workers_equal_one_on_a_batch_large_enough_to_share():
    lines = TWEETS.read_text("utf-8").split("\n")
    texts = [f"{line.split(chr(9), 2)[2]} #{k}" for k, line in enumerate(lines * 2) if line.strip()]
    pd.testing.assert_frame_equal(sentiment.score_texts(texts, workers=2), sentiment.score_texts(texts, workers=1))


def test_score_texts_inputs():
    result = sentiment.score_texts(np.array(["good", None, "x &amp; y", np.nan], dtype=object))
    assert result["status"].tolist() == ["scored", "empty", "scored", "empty"]
    assert result.loc[2, "neu"] == 1.0
    with pytest.raises(ValueError, match=r"texts\[0\] is a list"):
        sentiment.score_texts([["a", "b"], ["c", "d"]])
    with pytest.raises(ValueError, match=r"texts\[1\] is a bytes"):
        sentiment.score_texts(["a", b"x"])
