"""A big export read by the helper first of all (while this process loads the others) loads exactly what
reading it in its turn loads; an export loaded before is not read again."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
from warehouse_tables import loaded_tables

from analytics import config, ingest, privacy
from analytics.privacy import ScrubHelper

HOSTILE_FILES = Path(__file__).resolve().parent / "hostile" / "files"


def _spy_calls(monkeypatch) -> list[Path]:
    called: list[Path] = []
    method = ScrubHelper.call

    def spy(self, function, *args):
        if not self.idle:  # not the sentiment the ingest scores on the side
            called.append(args[0])
        return method(self, function, *args)

    monkeypatch.setattr(ScrubHelper, "call", spy)
    return called


def test_big_files_read_early_by_the_helper_load_what_reading_them_in_turn_loads(tmp_path, monkeypatch):
    monkeypatch.setenv("POLICY_PULSE_KEY", "test-key-not-secret")
    files = [config.SAMPLE_DIR / name for name in ("roster.csv", "donors_private.csv", "monitoring_posts.csv",
                                                   "audience_comments.csv", "incidents.csv")]
    files += sorted(HOSTILE_FILES.iterdir())  # files that fail to read, or read with rejects
    monkeypatch.setattr(ingest, "HELPER_MIN_BYTES", 1 << 60)
    plain = ingest.ingest_paths(files, warehouse_file=tmp_path / "plain.duckdb")
    monkeypatch.setattr(ingest, "HELPER_MIN_BYTES", 0)
    monkeypatch.setattr(ingest, "PREFETCH_MAX_BYTES", 0)  # every file is "big": read early, all of them
    monkeypatch.setattr(privacy, "_HELPER_MIN", 50)
    called = _spy_calls(monkeypatch)
    early = ingest.ingest_paths(files, warehouse_file=tmp_path / "early.duckdb")
    readable, seen = [], set()
    for r in early:  # in load order: a copy of a file read early (same bytes) is not read again
        if r.format and r.sha256 not in seen:
            readable.append(r.path)
            seen.add(r.sha256)
    assert len(readable) < sum(1 for r in early if r.format)  # the corpus has such a copy
    assert sorted(called) == sorted(readable)  # each read once by the helper, first of all
    assert [(r.path, r.status, r.message, r.rows_loaded, r.rows_rejected, r.tables) for r in plain] == \
        [(r.path, r.status, r.message, r.rows_loaded, r.rows_rejected, r.tables) for r in early]
    assert {r.status for r in early} >= {"failed", "loaded"}
    before, after = loaded_tables(tmp_path / "plain.duckdb"), loaded_tables(tmp_path / "early.duckdb")
    assert before.keys() == after.keys() and sum(len(t) for t in before.values()) > 5000
    for name, table in before.items():
        pd.testing.assert_frame_equal(table, after[name], obj=name)

    called.clear()
    again = ingest.ingest_paths(files, warehouse_file=tmp_path / "early.duckdb")
    failed = sorted(r.path for r in early if r.format and r.status == "failed")
    assert sorted(called) == failed  # only what failed is read again: the loaded files are skipped unread
    assert {r.status for r in again if r.format and r.path not in failed} == {"skipped"}


def test_the_early_reads_stay_within_their_byte_budget(tmp_path, monkeypatch):
    monkeypatch.setenv("POLICY_PULSE_KEY", "test-key-not-secret")
    files = [config.SAMPLE_DIR / name for name in ("roster.csv", "monitoring_posts.csv", "audience_comments.csv")]
    monkeypatch.setattr(ingest, "HELPER_MIN_BYTES", 0)
    monkeypatch.setattr(ingest, "PREFETCH_MAX_BYTES", 0)
    budget = files[1].stat().st_size + files[2].stat().st_size - 1  # not both of the two big ones
    monkeypatch.setattr(ingest, "EARLY_MAX_BYTES", budget)
    called = _spy_calls(monkeypatch)
    results = ingest.ingest_paths(files, warehouse_file=tmp_path / "wh.duckdb")
    assert {r.status for r in results} == {"loaded"}
    assert sum(files[i].stat().st_size for i, p in ((1, files[1]), (2, files[2])) if p in called) <= budget
    assert called  # but some


def test_files_that_need_no_posts_load_while_the_helper_reads_the_posts_and_links_come_after(tmp_path, monkeypatch):
    monkeypatch.setenv("POLICY_PULSE_KEY", "test-key-not-secret")
    names = ("incidents.csv", "audience_comments.csv", "monitoring_posts.csv", "trainings.csv",
             "Staff Policy Pulse 2025-Q1 - SurveyMonkey.csv", "roster.csv")
    monkeypatch.setattr(ingest, "HELPER_MIN_BYTES", 0)
    monkeypatch.setattr(ingest, "PREFETCH_MAX_BYTES", 1 << 20)  # the posts export (only) is read early
    called = _spy_calls(monkeypatch)
    results = ingest.ingest_paths([config.SAMPLE_DIR / name for name in names], warehouse_file=tmp_path / "wh.duckdb")
    assert {r.status for r in results} == {"loaded"}
    assert called[0].name == "monitoring_posts.csv"
    order = [r.format for r in results]
    assert order[0] == "roster"
    assert max(order.index(f) for f in ("trainings", "surveymonkey")) < order.index("monitoring")
    assert min(order.index(f) for f in ("comments", "incidents")) > order.index("monitoring")
    # loaded after the posts, the comments and incidents that name a post by its URL find it, as when the posts
    # are loaded by an ingest of their own first
    for step in (("roster.csv", "monitoring_posts.csv"), ("incidents.csv", "audience_comments.csv")):
        ingest.ingest_paths([config.SAMPLE_DIR / name for name in step], warehouse_file=tmp_path / "apart.duckdb")
    linked = "SELECT (SELECT count(post_uid) FROM incidents), (SELECT count(post_uid) FROM audience_comments)"
    together, apart = (duckdb.connect(str(tmp_path / f"{name}.duckdb"), read_only=True) for name in ("wh", "apart"))
    found = together.execute(linked).fetchone()
    assert found == apart.execute(linked).fetchone() and min(found) > 0
    together.close()
    apart.close()
