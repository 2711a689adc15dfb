"""Scoring in chunks, on workers started ahead of the batch: a text's scores and language verdict must not
depend on the chunk it lands in, the texts beside it or when the workers started."""

from __future__ import annotations

import pandas as pd

from analytics import sentiment
from analytics.sample import _NON_ENGLISH

MIXED = [
    "Das ist wirklich eine sehr gute Nachricht für unsere Stadt",
    "This is really good news for our town",
    "Qué orgullo de nuestro equipo 😍😍😍 😊😊 ✨",
    "merci!! 😍 @someone https://example.org",
    "Nous sommes très fiers de notre équipe aujourd'hui à Lyon",
    "OK",
    "   ",
    "ÇOK GÜZEL BİR GÜN, TEŞEKKÜRLER HERKESE",
    "Tack så mycket för allt ni gör för oss här",
    "https://example.org/a https://example.org/b words",
    "🙏🙏 this is why 🙏",
    "\x00 nul and then some English words for the model",
    "Grazie mille a tutti i volontari di oggi, siete fantastici",
]


def _texts() -> list[str]:
    planted = [t.format(place="Harbour Lane", emoji="✨", target="someone")
               for options in _NON_ENGLISH.values() for _, t in options]
    # repeats, so one text lands in several chunks beside different neighbours
    return [*MIXED, *planted, *reversed(MIXED), *planted[::2], *MIXED]


def test_a_texts_language_verdict_is_its_own_whatever_the_chunks(monkeypatch):
    texts = _texts()
    whole = sentiment.score_texts(texts, workers=1)
    alone = [sentiment.is_confidently_not_english(sentiment.clean_text(t)) if t.strip() else False for t in texts]
    assert (whole["status"] == "not_english").tolist() == alone
    assert sum(alone) > 10 and not all(alone)
    for size in (1, 3, 7):
        # the scoring chunks and the language model's batches (a batch's texts are classified together)
        monkeypatch.setattr(sentiment, "_CHUNK", size)
        monkeypatch.setattr(sentiment, "_LANGUAGE_CHUNK", size)
        pd.testing.assert_frame_equal(sentiment.score_texts(texts, workers=1), whole)


def test_workers_started_ahead_score_what_one_process_scores(monkeypatch):
    import duckdb

    from analytics import parallel

    texts = [f"{t} #{k}" for k, t in enumerate(_texts() * 3)]
    started = []
    original = sentiment._start_workers

    def spy(workers, **options):
        started.append(workers)
        return original(workers, **options)

    monkeypatch.setattr(sentiment, "PARALLEL_MIN_TEXTS", 50)
    monkeypatch.setattr(sentiment, "_start_workers", spy)
    monkeypatch.setattr(parallel, "available_cores", lambda: 2)
    con = duckdb.connect()
    try:
        assert sentiment.update_sentiment_cache(con, texts) == len(set(texts))
        cached = con.execute("SELECT text_hash, status, neg, neu, pos, compound FROM sentiment").df()
    finally:
        con.close()
    # one pool, started ahead and used by the scoring, and stopped
    assert started == [2] and sentiment._started is None
    alone = sentiment.score_texts(texts, workers=1)
    alone.insert(0, "text_hash", [sentiment.text_hash(t) for t in texts])
    alone = alone.astype({"status": object}).sort_values("text_hash", ignore_index=True)
    cached = cached.astype({"status": object}).sort_values("text_hash", ignore_index=True)
    pd.testing.assert_frame_equal(cached, alone, check_dtype=False)


def test_kept_workers_score_batch_after_batch_as_one_process_does(monkeypatch):
    from analytics import parallel

    started, opened = [], []
    start_workers, start_batch = sentiment._start_workers, parallel.start_batch
    monkeypatch.setattr(sentiment, "_start_workers",
                        lambda workers, **options: started.append(workers) or start_workers(workers, **options))
    monkeypatch.setattr(parallel, "start_batch", lambda claims, batch, chunks: opened.append(batch)
                        or start_batch(claims, batch, chunks))
    monkeypatch.setattr(parallel, "RUNNING_WORKER_MIN_TEXTS", 20)
    monkeypatch.setattr(parallel, "available_cores", lambda: 2)
    batches = [[f"{t} #{k}" for k, t in enumerate(_texts())], [f"{t} ({k})" for k, t in enumerate(_texts())]]
    assert all(parallel.RUNNING_WORKER_MIN_TEXTS <= len(b) < sentiment.PARALLEL_MIN_TEXTS for b in batches)
    with sentiment.workers_kept():
        scored = [sentiment.score_texts(batch) for batch in batches]
        assert sentiment._started is not None
    assert started == [2] and len(opened) == 2 and len(set(opened)) == 2, "one pool; each batch its own number"
    assert sentiment._started is None
    for batch, kept in zip(batches, scored, strict=True):
        pd.testing.assert_frame_equal(kept, sentiment.score_texts(batch, workers=1))
