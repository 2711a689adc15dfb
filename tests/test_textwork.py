"""A small update's text worker (``analytics.textwork``): its answers are exactly the build's own scan and
scores, it has none for texts it was not given or for other rules, and ``update`` takes them."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from warehouse_copies import query

from analytics import adherence, cli, config, parallel, sentiment, textwork, themes

pytestmark = pytest.mark.skipif(parallel.available_cores() < 2, reason="the worker needs a second core")


@pytest.fixture(scope="module")
def labelled() -> pd.DataFrame:
    frame = pd.read_csv(config.PROJECT_ROOT / "tests" / "data" / "adherence_eval.csv", keep_default_na=False)
    return frame.iloc[:120]


def _texts(labelled: pd.DataFrame) -> tuple[list, list[bool]]:
    texts = [*labelled["text"], None, "", "Das ist wirklich eine sehr gute Nachricht für unsere Stadt",
             "Tom &amp; Jerry :) WOW!!! &lt;3", labelled["text"].iloc[0]]
    employee = [*(labelled["employee_post"].astype(str).str.lower() == "true"), True, False, True, False, False]
    return texts, employee


def _wait(worker: textwork.TextWorker) -> None:
    # the build takes back scores the worker has not begun; here every answer is awaited
    for _texts_asked, future in worker._scans + worker._scores:
        future.result()


def test_the_worker_scans_and_scores_as_the_build_would(labelled):
    texts, employee = _texts(labelled)
    values = ["" if text is None else text for text in texts]
    taxonomy = themes.load_taxonomy()
    with textwork.TextWorker() as worker:
        assert textwork.current() is worker
        worker.prepare(pd.Series(texts, dtype="str"), pd.Series(employee))
        _wait(worker)
        made_with = textwork.fingerprint(textwork.rules_version(), taxonomy)
        expected = adherence.ParallelScan(adherence.load_rules(), taxonomy, workers=1)
        found, found_themes = worker.scan(values, employee, themed=True, fingerprint=made_with)
        want, want_themes = expected.scan(values, employee, themed=True)
        assert len(want) > 20, "the texts break rules: the findings are compared, not two empty frames"
        pd.testing.assert_frame_equal(found, want)
        assert found_themes == want_themes
        # another batch of the same texts (reversed, fewer, unthemed) gets that batch's own findings
        part = slice(None, 40, -1)
        found, no_themes = worker.scan(values[part], employee[part], themed=False, fingerprint=made_with)
        pd.testing.assert_frame_equal(found, expected.scan(values[part], employee[part])[0])
        assert no_themes is None

        distinct = list(dict.fromkeys(text for text in texts if text is not None))
        scored = worker.score_texts(distinct)
        pd.testing.assert_frame_equal(scored, sentiment.score_texts(distinct))
        assert set(scored["status"]) == {"scored", "not_english", "empty"}
    assert textwork.current() is None


def test_the_worker_has_no_answer_for_other_texts_or_rules(labelled):
    texts = list(labelled["text"].iloc[:5])
    taxonomy = themes.load_taxonomy()
    made_with = textwork.fingerprint(textwork.rules_version(), taxonomy)
    with textwork.TextWorker() as worker:
        worker.prepare(texts, [True] * 5)
        _wait(worker)
        assert worker.scan(texts, [True] * 5, themed=False, fingerprint=made_with) is not None
        assert worker.scan([*texts, "a text it never saw"], [True] * 6, themed=False, fingerprint=made_with) is None
        assert worker.scan(texts, [False] * 5, themed=False, fingerprint=made_with) is None, "employee flag differs"
        assert worker.scan(texts, [True] * 5, themed=False, fingerprint="other rules") is None
        assert worker.score_texts(texts) is not None
        assert worker.score_texts(["a text it never saw"]) is None


def test_the_worker_is_not_handed_more_than_its_share(labelled, monkeypatch):
    monkeypatch.setattr(textwork, "MAX_TEXTS", 3)
    texts = list(labelled["text"].iloc[:4])
    with textwork.TextWorker() as worker:
        worker.prepare(texts[:2], [True, True])
        worker.prepare(texts[2:], [True, True])  # 4 texts in all: not handed over
        _wait(worker)
        assert worker.score_texts(texts[:2]) is not None
        assert worker.score_texts(texts[2:]) is None


def test_small_input_counts_every_file_of_a_folder(tmp_path, monkeypatch):
    (tmp_path / "a.csv").write_bytes(b"x" * 600)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.csv").write_bytes(b"x" * 600)
    monkeypatch.setattr(textwork, "MAX_BYTES", 1000)
    assert textwork.small_input([tmp_path / "a.csv", tmp_path / "missing.csv"])
    assert not textwork.small_input([tmp_path])


def test_update_takes_the_workers_findings(sample_warehouse, tmp_path, one_new_post, monkeypatch):
    apart, together = tmp_path / "apart.duckdb", tmp_path / "together.duckdb"
    shutil.copyfile(sample_warehouse, apart)
    shutil.copyfile(sample_warehouse, together)
    assert cli.main(["ingest", str(one_new_post), "--warehouse", str(apart)]) == 0
    assert cli.main(["build", "--warehouse", str(apart)]) == 0

    def no_scan_here(*_args, **_kwargs):
        raise AssertionError("the update scanned in its own process")

    monkeypatch.setattr(adherence.ParallelScan, "scan", no_scan_here)
    assert cli.main(["update", str(one_new_post), "--warehouse", str(together)]) == 0
    for table in ("post_findings", "post_scans", "post_themes", "sentiment"):
        sql = f"SELECT * FROM {table} ORDER BY ALL"
        pd.testing.assert_frame_equal(query(together, sql), query(apart, sql), obj=table)
