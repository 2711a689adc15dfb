"""Sentiment: our VADER equals the reference package, keeps its accuracy, screens language, caches."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from py3langid.langid import MODEL_FILE, LanguageIdentifier, visit_counts
from scipy import sparse, stats
from vaderSentiment.vaderSentiment import (
    BOOSTER_DICT,
    NEGATE,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
)

from analytics import sentiment
from analytics.sentiment import (
    SCORER_VERSION,
    clean_text,
    is_confidently_not_english,
    polarity_scores,
    score_texts,
    text_hash,
    update_sentiment_cache,
)

DATA = Path(__file__).parent / "data"
TWEETS = DATA / "vader_tweets_GroundTruth.txt"
NYT = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "corpus"
    / "real"
    / "vader"
    / ("nytEditorialSnippets_GroundTruth.txt")
)
KEYS = ["neg", "neu", "pos", "compound"]

REFERENCE = SentimentIntensityAnalyzer()


def _ground_truth(path: Path) -> pd.DataFrame:
    rows = [line.split("\t", 2) for line in path.read_text("utf-8").split("\n") if line.strip()]
    return pd.DataFrame(rows, columns=["id", "mean", "text"]).astype({"mean": float})


@pytest.fixture(scope="module")
def tweets() -> pd.DataFrame:
    return _ground_truth(TWEETS)


@pytest.fixture(scope="module")
def reference_on_tweets(tweets) -> np.ndarray:
    return _reference(tweets["text"])


def _reference(texts) -> np.ndarray:
    return np.array([[REFERENCE.polarity_scores(t)[k] for k in KEYS] for t in texts])


def _ours(texts) -> np.ndarray:
    return np.array([[polarity_scores(t)[k] for k in KEYS] for t in texts])


# --- equal to the reference ----------------------------------------------------------------------


def test_ground_truth_file_is_complete(tweets):
    assert len(tweets) == 4200
    assert tweets["text"].str.len().min() > 0


def test_identical_to_reference_on_every_tweet(tweets, reference_on_tweets):
    assert np.abs(_ours(tweets["text"]) - reference_on_tweets).max() <= 1e-9
    # The batch path (vectorised rounding) too, on the text it scores (entities unescaped).
    cleaned = [clean_text(t) for t in tweets["text"]]
    changed = [k for k, (a, b) in enumerate(zip(cleaned, tweets["text"], strict=True)) if a != b]
    assert len(changed) > 50
    reference = reference_on_tweets.copy()
    reference[changed] = _reference([cleaned[k] for k in changed])
    assert np.abs(sentiment._score_many(cleaned) - reference).max() <= 1e-9


@pytest.mark.skipif(not NYT.exists(), reason=f"NYT editorial snippets not present at {NYT}")
def test_identical_to_reference_on_nyt_snippets():
    texts = _ground_truth(NYT)["text"]
    assert len(texts) > 5000
    assert np.abs(sentiment._score_many(list(texts)) - _reference(texts)).max() <= 1e-9


def test_identical_on_the_package_examples():
    # One sentence per rule: caps, boosters, negation, contractions, "kind of", "but", emoticons,
    # emoji, "least", idioms, "never so", "without a doubt".
    examples = [
        "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!",
        "VADER is not smart, handsome, nor funny.",
        "At least it isn't a horrible book.",
        "The book was only kind of good.",
        "Today only kinda sux! But I'll get by, lol",
        "Make sure you :) or :D today!",
        "Catch utf-8 emoji such as 💘 and 💋 and 😁",
        "Sentiment analysis has never been this good!",
        "With VADER, sentiment analysis is the shit!",
        "On the other hand, VADER is quite bad ass",
        "Roger Dodger is one of the least compelling variations on this theme.",
        "Without a doubt, an excellent idea.",
        "no no no good good",
        "GOOD good GOOD but BAD bad BAD",
        "",
        "   ",
        "🔛🆙??!!",
    ]
    assert np.abs(_ours(examples) - _reference(examples)).max() <= 1e-9


_LEXICON = sorted(sentiment._vader().lexicon)
_PIECES = (
    _LEXICON[::7]
    + sorted(BOOSTER_DICT)
    + sorted(NEGATE)
    + [" ".join(k.split()) for k in SPECIAL_CASES]
    + ["no", "least", "at", "very", "never", "so", "this", "without", "doubt", "or", "nor", "but", "kind of"]
    + ["the", "a", "movie", "was", "it", "I", "you", "and"]
    + ["😁", "💘", "😡", "🔛", "👍🏽", "❤️", ":)", ":-(", "<3", ":D", "&amp;"]
)
_word = st.sampled_from(_PIECES).flatmap(lambda w: st.sampled_from([w, w.upper(), w.capitalize()]))
_decoration = st.sampled_from(["", "", "", "!", "!!!", "?", "??", "????", ".", ",", "...", "'", '"'])
_token = st.tuples(_word, _decoration).map("".join)
_separator = st.sampled_from([" ", " ", " ", "  ", "\n", "", "\t"])
_text = st.lists(st.tuples(_token, _separator), max_size=25).map(lambda parts: "".join(t + s for t, s in parts))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_text, min_size=1, max_size=8))
def test_identical_to_reference_on_generated_texts(texts):
    reference = _reference(texts)
    assert np.abs(_ours(texts) - reference).max() <= 1e-9
    assert np.abs(sentiment._score_many(texts) - reference).max() <= 1e-9


def test_python_rounding_is_reproduced_at_halves():
    # x * 1000 of these is (nearly) a half, where numpy's rint and Python's round may disagree.
    raw = np.array([[0.0625, 0.0125, 0.2845, 0.00005], [1 / 3, 0.1115, 0.4445, -0.12345]])
    expected = [[round(float(x), d) for x, d in zip(row, (3, 3, 3, 4), strict=True)] for row in raw]
    assert sentiment._round_like_python(raw).tolist() == expected


# --- accuracy and language screen ----------------------------------------------------------------


def test_accuracy_and_coverage_on_tweets(tweets, reference_on_tweets):
    result = score_texts(tweets["text"])
    scored = result["status"] == "scored"
    assert scored.mean() >= 0.97
    ours = stats.pearsonr(result.loc[scored, "compound"], tweets.loc[scored, "mean"]).statistic
    reference = stats.pearsonr(reference_on_tweets[:, 3], tweets["mean"]).statistic
    assert reference == pytest.approx(0.872, abs=0.01)  # the figure the VADER paper reports
    assert ours >= reference - 0.005


FOREIGN = [
    # Spanish
    "Me encanta este nuevo programa de voluntariado, gracias a todo el equipo por su trabajo",
    "No estoy de acuerdo con la nueva política de redes sociales de la organización",
    "Hoy hemos repartido comida a más de doscientas familias del barrio",
    "La reunión de mañana se ha cancelado por la lluvia, lo siento mucho",
    "Estamos muy orgullosos de nuestros voluntarios y de su compromiso",
    "¿Alguien sabe dónde puedo donar ropa para los niños este fin de semana?",
    "Qué vergüenza, nadie contestó a mis preguntas durante toda la semana",
    "El informe anual ya está disponible en nuestra página web",
    "Muchas gracias por vuestro apoyo durante esta campaña tan difícil",
    "Necesitamos más personas para ayudar en el comedor social los sábados",
    "Esta organización hace un trabajo increíble con los jóvenes de la ciudad",
    "Nunca había visto tanta gente en una jornada solidaria como la de ayer",
    # German
    "Vielen Dank an alle Freiwilligen, die heute so fleißig geholfen haben",
    "Ich finde die neuen Regeln für soziale Medien wirklich übertrieben",
    "Unser Jahresbericht ist jetzt auf unserer Webseite verfügbar",
    "Die Veranstaltung am Samstag wurde leider wegen des Wetters abgesagt",
    "Wir suchen dringend ehrenamtliche Helfer für die Essensausgabe",
    "Das war eine wunderbare Feier, wir sind sehr stolz auf unser Team",
    "Warum hat mir niemand auf meine Nachricht geantwortet? Sehr enttäuschend",
    "Spenden Sie jetzt und helfen Sie Familien in Not in unserer Stadt",
    "Die Schulung zur neuen Richtlinie findet nächste Woche im großen Saal statt",
    "Ich arbeite seit drei Jahren hier und bin immer noch begeistert",
    "Heute haben wir mehr als zweihundert Familien mit Lebensmitteln versorgt",
    "Es ist schade, dass so wenige Leute zur Versammlung gekommen sind",
    # French
    "Merci beaucoup à tous les bénévoles pour leur aide précieuse aujourd'hui",
    "Je ne suis pas du tout d'accord avec cette nouvelle politique",
    "Notre rapport annuel est maintenant disponible sur notre site internet",
    "La collecte de vêtements aura lieu samedi prochain devant la mairie",
    "Nous sommes très fiers de notre équipe et de tout le travail accompli",
    "Quelqu'un peut-il m'expliquer pourquoi la réunion a été annulée ?",
    "C'est vraiment décevant, personne ne répond jamais à nos messages",
    "Rejoignez-nous pour la grande fête de quartier ce week-end",
    "Les enfants étaient tellement heureux de recevoir leurs cadeaux",
    "Nous cherchons des bénévoles pour la distribution alimentaire du mardi",
    "Cette formation sur les réseaux sociaux était très utile pour moi",
    "Il fait froid mais nous serons là pour servir le repas chaud ce soir",
]

ENGLISH_EDGE_CASES = [
    "ok",
    "lol!!!",
    "😍😍😍 https://example.org/some/long/path/to/a/page @friend @other_friend",
    "@maria_garcia @jose_luis thanks!!",
    "Gracias! Thank you all so much for coming tonight, it was wonderful",
    "Bon appetit everyone, dinner is served in the main hall",
    "#volunteers #community #love",
    "Danke",
]


def test_foreign_sentences_are_marked_not_english():
    result = score_texts(FOREIGN)
    assert (result["status"] == "not_english").mean() >= 0.9
    assert result.loc[result["status"] == "not_english", KEYS].isna().all().all()


def test_short_and_mostly_symbolic_text_defaults_to_english():
    result = score_texts(ENGLISH_EDGE_CASES)
    assert (result["status"] == "scored").all(), result[result["status"] != "scored"]
    assert not is_confidently_not_english("Danke schön")
    assert is_confidently_not_english(FOREIGN[13])


def test_batched_language_model_agrees_with_py3langid(tweets):
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    texts = [*FOREIGN, *tweets["text"].iloc[:300], "", "?!", "ÜBERRASCHUNG FÜR ALLE KINDER HEUTE"]
    labels, confidence = sentiment._language_model().classify(texts)
    expected = [identifier.classify(t) for t in texts]
    assert labels == [label for label, _ in expected]
    assert np.allclose(confidence, [c for _, c in expected], atol=1e-4)


@pytest.mark.parametrize("by_sparse", [False, True], ids=["numpy sums", "scipy.sparse"])
def test_language_scores_equal_a_sparse_product_to_the_bit(tweets, by_sparse):
    # The reference: py3langid's own feature counts per text, summed by scipy's CSR times dense product.
    # A long text gives rows of hundreds of features, where any other order of the float32 sums shows.
    model = sentiment._language_model()
    texts = [*FOREIGN, *tweets["text"].iloc[:300], "", "?!", " ".join(FOREIGN), " ".join(tweets["text"].iloc[:40])]
    encoded = sorted((sentiment._langid_bytes(t) for t in texts), key=len, reverse=True)
    lengths = np.array([len(e) for e in encoded])
    visits = [visit_counts(model.next_move, model.row_base, model.output, e) or {} for e in encoded]
    assert max(map(len, visits)) > 300 and min(map(len, visits)) == 0
    features = [sorted(v) for v in visits]
    counts = sparse.csr_matrix(
        (np.log1p(np.array([v[f] for v, fs in zip(visits, features, strict=True) for f in fs], dtype=np.float32)),
         np.concatenate(features).astype(np.int64), np.cumsum([0, *map(len, features)])),
        shape=(len(encoded), model.weights.shape[0]))
    expected = np.asarray(counts @ model.weights) + model.prior
    expected[[not v for v in visits]] = 0.0
    np.testing.assert_array_equal(model._scores(encoded, lengths, sparse=by_sparse), expected)

# --- batch behaviour -----------------------------------------------------------------------------


def test_status_index_and_missing_values():
    texts = pd.Series(["I love it", "", "   \n", None, np.nan, "I hate it"], index=[10, 3, 7, 1, 2, 5])
    result = score_texts(texts)
    assert list(result.columns) == ["status", *KEYS]
    assert list(result.index) == [10, 3, 7, 1, 2, 5]
    assert result["status"].tolist() == ["scored", "empty", "empty", "empty", "empty", "scored"]
    assert result.loc[[3, 7, 1, 2], KEYS].isna().all().all()
    assert result.loc[10, "compound"] > 0 > result.loc[5, "compound"]
    assert texts.iloc[0] == "I love it"  # input untouched
    empty = score_texts([])
    assert empty.empty and list(empty.columns) == ["status", *KEYS]


def test_signals_survive_cleaning():
    assert clean_text("WOW!!! :) 😍 Tom &amp; Jerry") == "WOW!!! :) 😍 Tom & Jerry"
    result = score_texts(["good", "GOOD!!!", "good :)", "good 😍", "&lt;3"])
    compound = result["compound"].tolist()
    assert compound[1] > compound[0] and compound[2] > compound[0] and compound[3] > compound[0]
    assert compound[4] > 0  # "<3" is a heart once the entity is unescaped


def test_each_distinct_text_is_scored_once(monkeypatch):
    seen = []
    original = sentiment._vader_scores

    def spy(tokens):
        seen.extend(tokens.texts)
        return original(tokens)

    monkeypatch.setattr(sentiment, "_vader_scores", spy)
    result = score_texts(["great", "awful", "great", "great", "awful"] * 100)
    assert sorted(seen) == ["awful", "great"]
    assert result["compound"].nunique() == 2 and len(result) == 500


def test_workers_give_the_same_result(tweets):
    texts = tweets["text"].iloc[:400].tolist()
    pd.testing.assert_frame_equal(score_texts(texts, workers=2), score_texts(texts, workers=1))


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="wrap it in a list"):
        score_texts("one text")
    with pytest.raises(ValueError, match="workers"):
        score_texts(["a"], workers=0)
    with pytest.raises(ValueError, match="texts\\[1\\]"):
        score_texts(["a", 3])
    with pytest.raises(ValueError, match="str"):
        polarity_scores(None)


# --- cache ---------------------------------------------------------------------------------------


def test_text_hash_is_sha256_of_utf8():
    con = duckdb.connect()
    text = "Café ☕ &amp; 😍"
    assert text_hash(text) == con.execute("SELECT sha256(?)", [text]).fetchall()[0][0]
    assert text_hash(text) != text_hash(text + " ")


def test_cache_scores_only_new_texts():
    con = duckdb.connect()
    texts = ["We did it!!", "Terrible day.", "We did it!!", "Das ist eine ganz schlechte Entscheidung", " "]
    assert update_sentiment_cache(con, texts) == 4
    assert update_sentiment_cache(con, texts) == 0
    assert update_sentiment_cache(con, [*texts, "So proud of the team", None]) == 1
    rows = con.execute("SELECT text_hash, scorer_version, status, neg, neu, pos, compound FROM sentiment").df()
    assert len(rows) == 5 and set(rows["scorer_version"]) == {SCORER_VERSION}
    by_hash = rows.set_index("text_hash")
    assert by_hash.loc[text_hash(texts[3]), "status"] == "not_english"
    assert by_hash.loc[text_hash(texts[4]), "status"] == "empty"
    assert con.execute("SELECT count(*) FROM sentiment WHERE status <> 'scored' AND neg IS NULL").fetchall() == [(2,)]
    expected = polarity_scores("We did it!!")
    assert by_hash.loc[text_hash("We did it!!"), KEYS].tolist() == [expected[k] for k in KEYS]


def test_cache_rows_of_another_scorer_version_are_not_reused():
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE sentiment (text_hash VARCHAR, scorer_version VARCHAR, status VARCHAR, "
        "neg DOUBLE, neu DOUBLE, pos DOUBLE, compound DOUBLE)"
    )
    con.execute("INSERT INTO sentiment VALUES (?, 'old', 'scored', 0, 1, 0, 0)", [text_hash("Lovely")])
    assert update_sentiment_cache(con, ["Lovely"]) == 1


def test_cache_leaves_the_transaction_to_the_caller():
    con = duckdb.connect()
    con.execute("BEGIN TRANSACTION")
    assert update_sentiment_cache(con, ["Lovely", "Horrible"]) == 2
    con.execute("ROLLBACK")
    assert con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'sentiment'").fetchall() == [
        (0,)
    ]


def test_a_small_language_screen_does_not_import_scipy():
    # importing scipy.sparse would cost an incremental build more than its few thousand texts' screen
    code = ("import sys; from analytics import sentiment; sentiment._language_model().classify(['bonjour à tous', "
            "'hello all'] * 1000); assert not any(m.split('.')[0] == 'scipy' for m in sys.modules), 'scipy imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
