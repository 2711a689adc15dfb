"""A process that keeps workers (``policy-pulse watch``) hands an update's few texts to them whole, to score
and scan as its ingest reads them and while its build goes on (the amplifications): what it stores is what it
would have computed itself, for the texts as stored, and the build's tables are those a build from scratch
derives."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator

import duckdb
import pandas as pd
import pytest
from warehouse_copies import assert_same_as_scratch, insert_rows, query

from analytics import adherence, build, config, ingest, parallel, sentiment, themes, watch

_COMPARED = ("monthly_metrics", "quarterly_metrics", "post_facts", "post_themes", "post_findings", "amplifications")

_TEXTS = ["Proud of our team today! #RiverbendStaff", "My manager's number is 07700 900123, call him",
          "This policy is a terrible idea and I hate it", "Das ist leider eine sehr schlechte Idee",
          "Come to the Harbour Lane clinic on Friday", "", "Lovely day &amp; great people :)"]


def _not_here(*_args, **_kwargs):
    raise AssertionError("done in this process: the kept worker should have done it")


@contextlib.contextmanager
def _only_workers() -> Iterator[None]:
    """Inside the block, this process refuses to score or scan texts itself (the workers, spawned with their
    own copy of the modules, may)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sentiment, "_score_distinct", _not_here)
        patch.setattr(adherence, "_scan_chunk", _not_here)
        yield


def test_a_kept_scan_scans_a_small_batch_in_its_worker_and_one_over_the_limit_at_once(monkeypatch):
    texts = [f"{text} #{k}" for k in range(3) for text in _TEXTS]
    employee = [k % 2 == 0 for k in range(len(texts))]
    rules, taxonomy = adherence.load_rules(), themes.load_taxonomy()
    expected = adherence.find_violations(texts, employee_posts=employee, rules=rules)
    expected_themes = themes.classify_themes(texts, taxonomy=taxonomy)["theme"].tolist()
    with adherence.scan_kept(rules, taxonomy) as kept:
        with adherence.ParallelScan(rules, taxonomy) as other:
            done = other.scan_later(texts, employee, themed=True)  # not kept: scanned at once, here
            assert done.done() and done.result()[0].equals(expected) and done.result()[1] == expected_themes
        empty, no_themes = kept.scan_later([], [], themed=True).result()
        assert empty.empty and list(empty.columns) == list(expected.columns) and no_themes == []
        with _only_workers():
            found, text_themes = kept.scan_later(texts, employee, themed=True).result()
            assert found.equals(expected) and text_themes == expected_themes
            # a batch not under the limit is not handed aside: scanned at once (these few, here alone)
            monkeypatch.setattr(parallel, "ALONE_MAX_TEXTS", len(texts))
            with pytest.raises(AssertionError, match="kept worker"):
                kept.scan_later(texts, employee, themed=True)


def test_a_kept_worker_scores_a_small_batch_alone_and_the_rows_wait_for_the_call():
    texts = [f"{text} ({k})" if text else text for k in range(3) for text in _TEXTS]
    con, reference = duckdb.connect(), duckdb.connect()
    with sentiment.workers_kept(), _only_workers():
        store = sentiment.begin_cache_update(con, [*texts, texts[0], None])
        assert con.execute("SELECT count(*) FROM sentiment").fetchone()[0] == 0, "nothing stored before the call"
        assert store() == len(set(texts))
    assert sentiment.update_sentiment_cache(reference, texts) == len(set(texts))
    rows = "SELECT * FROM sentiment ORDER BY text_hash"
    pd.testing.assert_frame_equal(con.execute(rows).df(), reference.execute(rows).df())


def test_an_update_built_by_a_process_keeping_workers_equals_a_build_from_scratch(sample_warehouse, tmp_path):
    path = tmp_path / "copy.duckdb"
    shutil.copyfile(sample_warehouse, path)
    build.build(warehouse_file=path)
    # new employee posts, some sharing or quoting the organisation's posts (their themes come from those)
    org = query(path, """SELECT * FROM posts WHERE account_type = 'organization' AND url IS NOT NULL
                         ORDER BY post_uid LIMIT 6""")
    staff = query(path, "SELECT * FROM posts WHERE account_type = 'employee' ORDER BY post_uid LIMIT 30")
    texts = [f"{_TEXTS[k % len(_TEXTS)]} {k}" for k in range(len(staff))]
    texts[:6] = [f"Read this {url}" for url in org["url"]]
    texts[6] = f'So true: "{org["text"].iloc[0]}"'
    new = staff.assign(post_uid=staff["post_uid"] + ":new", text=texts, url=None, shared_url=None)
    insert_rows(path, "posts", new)
    with watch.workers_kept(), _only_workers():
        summary = build.build(warehouse_file=path)
    assert summary.steps["posts newly scanned"] == len(new)
    assert summary.steps["texts newly scored"] == len(set(texts))
    assert query(path, "SELECT count(*) AS n FROM amplifications WHERE post_uid LIKE '%:new'")["n"].iloc[0] >= 6
    assert_same_as_scratch(path, tmp_path, _COMPARED)


def test_texts_scored_ahead_serve_the_next_cache_update_and_reach_the_cache_only_through_it():
    ahead = [f"{text} [ahead]" for text in _TEXTS if text]
    given = [*ahead[:3], "Not scored ahead: what a wonderful team", ahead[3]]
    con, reference = duckdb.connect(), duckdb.connect()
    with sentiment.workers_kept(), _only_workers():
        sentiment.score_ahead([*ahead, None])
        assert sentiment.begin_cache_update(con, given)() == len(given)
        # what was scored ahead served that update only: another needs its own scoring
        sentiment.score_ahead(["Scored ahead, never stored"])
    assert sentiment.update_sentiment_cache(reference, given) == len(given)
    rows = "SELECT * FROM sentiment ORDER BY text_hash"
    pd.testing.assert_frame_equal(con.execute(rows).df(), reference.execute(rows).df())
    assert not sentiment._ahead, "nothing ahead is kept past the workers"


def test_a_batch_partly_scanned_ahead_is_scanned_as_one_scan_of_it():
    rules, taxonomy = adherence.load_rules(), themes.load_taxonomy()
    ahead = [f"{text} #{k}" for k in range(2) for text in _TEXTS]
    batch = [ahead[1], "A new one: call me on 07700 900456", ahead[2], ahead[1], ahead[3], ahead[8], "", ahead[0]]
    employee = [True, True, True, False, True, True, False, True]  # ahead[1] again, as someone else's post
    expected = adherence.find_violations(batch, employee_posts=employee, rules=rules)
    expected_themes = themes.classify_themes(batch, taxonomy=taxonomy)["theme"].tolist()
    assert len(expected) > 2 and expected["text_index"].nunique() > 2, "findings in several texts"
    with adherence.scan_kept(rules, taxonomy) as kept, _only_workers():
        adherence.scan_ahead([*ahead, None], [True] * (len(ahead) + 1))
        found, text_themes = kept.scan_later(batch, employee, themed=True).result()
    assert found.equals(expected) and text_themes == expected_themes


def test_an_update_of_a_process_keeping_workers_uses_its_texts_as_stored(sample_warehouse, tmp_path):
    path = tmp_path / "copy.duckdb"
    shutil.copyfile(sample_warehouse, path)
    build.build(warehouse_file=path)
    # employees' posts as the monitoring tool exports them; one with a phone number the ingest scrubs
    sample = pd.read_csv(config.SAMPLE_DIR / "monitoring_posts.csv")
    sample = sample[sample["platform"] == "x"].head(30).reset_index(drop=True)
    sample["url"] = sample["url"] + "1"  # other statuses
    sample["text"] = [f"{text} (again {k})" for k, text in enumerate(sample["text"])]
    sample.loc[0, "text"] = "Terrible idea, call our director on 07700 900123 to complain"
    export = tmp_path / "monitoring_posts_new.csv"
    sample.to_csv(export, index=False)
    with watch.workers_kept(), _only_workers():
        [result] = ingest.ingest_paths([export], warehouse_file=path)
        assert result.rows_loaded == len(sample)
        assert sentiment._ahead and adherence._kept_scan._ahead, "the ingest handed its texts on as it read them"
        build.build(warehouse_file=path)
    stored = query(path, "SELECT text FROM posts WHERE text LIKE 'Terrible idea%'")["text"]
    assert len(stored) == 1 and "07700" not in stored[0], "the scrubbed text is the one stored"
    assert_same_as_scratch(path, tmp_path, (*_COMPARED, "sentiment"))


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="SCHED_IDLE is Linux's")
def test_kept_workers_work_on_the_side_at_the_lowest_priority_and_others_do_not():
    with watch.workers_kept():
        assert sentiment._started[0].submit(os.sched_getscheduler, 0).result() == os.SCHED_IDLE
        assert adherence._kept_scan._pool.submit(os.sched_getscheduler, 0).result() == os.SCHED_IDLE
    with adherence.ParallelScan(adherence.load_rules(), workers=2) as shared:
        shared.start()
        assert shared._pool.submit(os.sched_getscheduler, 0).result() == os.sched_getscheduler(0)


def test_a_command_gives_blas_one_thread_in_its_process_and_workers_unless_the_user_set_a_number(tmp_path):
    # the commands use the cores with processes of their own: a BLAS thread pool in each would spin against them
    env = {k: v for k, v in os.environ.items() if k not in parallel.BLAS_THREAD_SETTINGS} | {"MKL_NUM_THREADS": "3"}
    code = """
import os, sys
from analytics import cli
assert "numpy" not in sys.modules  # the command's own numpy is loaded after the setting, so it follows it too
cli.main(["summary", "--warehouse", sys.argv[1]])
from analytics import sentiment
pool, _claims = sentiment._start_workers(2)
print(pool.submit(os.getenv, "OPENBLAS_NUM_THREADS").result(), pool.submit(os.getenv, "MKL_NUM_THREADS").result())
pool.shutdown()
"""
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "none.duckdb")], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-2:] == ["1", "3"]


@pytest.mark.parametrize("users", [None, "1"])
def test_a_command_has_numpy_ask_for_no_huge_pages_unless_the_user_said(tmp_path, users):
    env = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"}
    if users is not None:
        env["NUMPY_MADVISE_HUGEPAGE"] = users
    code = """
import sys
from analytics import cli
cli.main(["summary", "--warehouse", sys.argv[1]])
from numpy._core import multiarray
from analytics import sentiment
pool, _claims = sentiment._start_workers(2)
print(multiarray._get_madvise_hugepage(), pool.submit(multiarray._get_madvise_hugepage).result())
pool.shutdown()
"""
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "none.duckdb")], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-2:] == [str(users == "1")] * 2
