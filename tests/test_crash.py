"""Crash safety: SIGKILL `policy-pulse ingest` and `policy-pulse build` at a deterministic point inside their
transaction; the warehouse is exactly as before, and a re-run loads (or derives) everything exactly once."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest

from analytics import build, ingest, snapshots
from analytics.build import PAUSE_ENV as BUILD_PAUSE
from analytics.ingest import PAUSE_ENV as INGEST_PAUSE

ROSTER = ("full_name,email,department,x_handle\n"
          "Nadia Petrov,nadia.petrov@crash.example,Communications,@nadiap\n"
          "Felix Amato,felix.amato@crash.example,Programmes,@felixa\n")


def monitoring_file(path: Path, n: int, *, first_id: int = 880000) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["platform", "handle", "posted_at", "text", "url", "likes"])
    for i in range(n):
        handle = "@nadiap" if i % 2 else "@felixa"
        writer.writerow(["x", handle, f"2026-03-{1 + i % 28:02d} 09:{i % 60:02d}",
                         f"Post {i}: a great day, thanks team!",
                         f"https://x.com/{handle[1:]}/status/{first_id + i}", str(i)])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def qualtrics_file(path: Path, n: int) -> Path:
    ids = ["StartDate", "EndDate", "Finished", "RecordedDate", "ResponseId", "Q1", "Q2"]
    texts = ["Start Date", "End Date", "Finished", "Recorded Date", "Response ID",
             "I know what to do if I post something by mistake.",
             "I feel safe reporting a social media mistake I made."]
    metas = [json.dumps({"ImportId": i}) for i in ("startDate", "endDate", "finished", "recordedDate", "_recordId",
                                                   "QID1", "QID2")]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows([ids, texts, metas])
    for i in range(n):
        stamp = f"2026-03-{1 + i % 28:02d} 10:00:00"
        writer.writerow([stamp, stamp, "True", stamp, f"R_crash{i:04d}", str(1 + i % 5), str(1 + (i * 3) % 5)])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def roster_and_posts(target: Path, posts: int) -> Path:
    """``target`` with :data:`ROSTER` and ``posts`` posts of its people (:func:`monitoring_file`) ingested, the
    exports written beside it."""
    roster = target.parent / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    results = ingest.ingest_paths([roster, monitoring_file(target.parent / "posts.csv", posts)], warehouse_file=target)
    assert {r.status for r in results} == {"loaded"}
    return target


def fingerprint(target: Path) -> dict[str, str]:
    """Every table's rows, hashed (order-free), so 'unchanged' means unchanged to the byte."""
    con = duckdb.connect(str(target), read_only=True)
    try:
        tables = [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        out = {}
        for table in sorted(tables):
            rows = sorted(repr(r) for r in con.execute(f'SELECT * FROM "{table}"').fetchall())
            out[table] = f"{len(rows)}:" + hashlib.sha256("\n".join(rows).encode()).hexdigest()
        return out
    finally:
        con.close()


def run_until_paused(args: list[str], env_var: str, value: str, marker: str) -> str:
    """Start ``policy-pulse ARGS`` with the pause variable set, wait for its marker line, SIGKILL it.

    Returns everything it printed. Fails (never hangs) if the marker does not come within a minute.
    """
    command = Path(sys.executable).with_name("policy-pulse")
    env = {**os.environ, env_var: value, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([str(command), *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=env)
    guard = threading.Timer(60, process.kill)
    guard.start()
    seen = []
    try:
        for line in process.stdout:
            seen.append(line)
            if marker in line:
                os.kill(process.pid, signal.SIGKILL)
                break
    finally:
        guard.cancel()
        process.wait(timeout=30)
        process.stdout.close()
    output = "".join(seen)
    assert marker in output, f"the process never reached its pause point:\n{output}"
    assert process.returncode == -signal.SIGKILL
    return output


@pytest.fixture
def started(tmp_path):
    """A warehouse holding a roster (so 'unchanged' is checked against real content)."""
    target = tmp_path / "warehouse.duckdb"
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    [result] = ingest.ingest_paths([tmp_path / "roster.csv"], warehouse_file=target)
    assert result.status == "loaded"
    return target


@pytest.mark.parametrize("kind, rows, pause_after", [("monitoring", 40, 1), ("qualtrics", 12, 5)])
def test_sigkill_mid_ingest_leaves_the_warehouse_unchanged_and_a_rerun_loads_once(started, tmp_path, kind, rows,
                                                                                 pause_after):
    maker = monitoring_file if kind == "monitoring" else qualtrics_file
    path = maker(tmp_path / f"{kind}.csv", rows)
    before = fingerprint(started)
    output = run_until_paused(["ingest", str(path), "--warehouse", str(started)], INGEST_PAUSE, str(pause_after),
                              "PAUSED after")
    # the survey pauses between its tables (respondents written, answers not yet): truly mid-file
    assert f"PAUSED after {rows} rows" in output
    assert fingerprint(started) == before

    [again] = ingest.ingest_paths([path], warehouse_file=started)
    assert (again.status, again.rows_read, again.rows_loaded, again.rows_rejected) == ("loaded", rows, rows, 0)
    table, key = ("posts", "post_uid") if kind == "monitoring" else ("respondents", "response_id")
    con = duckdb.connect(str(started), read_only=True)
    try:
        count, distinct = con.execute(f"SELECT count(*), count(DISTINCT {key}) FROM {table}").fetchone()
        logged = con.execute("SELECT count(DISTINCT file_sha256) FROM ingest_log WHERE file_sha256 = ?",
                             [again.sha256]).fetchone()[0]
        answers = con.execute("SELECT count(*) FROM survey_answers").fetchone()[0]
    finally:
        con.close()
    assert count == distinct == rows
    assert logged == 1
    assert answers == (2 * rows if kind == "qualtrics" else 0)
    [third] = ingest.ingest_paths([path], warehouse_file=started)
    assert third.status == "skipped"


def test_sigkill_mid_build_leaves_the_warehouse_unchanged_and_a_rerun_derives_once(started, tmp_path):
    results = ingest.ingest_paths([monitoring_file(tmp_path / "posts.csv", 30), qualtrics_file(tmp_path / "q.csv", 8)],
                                  warehouse_file=started)
    assert {r.status for r in results} == {"loaded"}
    before = fingerprint(started)
    snapshot = snapshots.snapshot_path(started)
    assert not snapshot.exists()

    run_until_paused(["build", "--warehouse", str(started)], BUILD_PAUSE, "1", "PAUSED in build")
    assert fingerprint(started) == before  # not even the derived tables' DDL survived
    assert not snapshot.exists()

    first = build.build(warehouse_file=started)
    assert first.steps["posts newly scanned"] == 30
    con = duckdb.connect(str(started), read_only=True)
    try:
        builds = con.execute("SELECT count(*) FROM build_log").fetchone()[0]
        scans, distinct_scans = con.execute("SELECT count(*), count(DISTINCT post_uid) FROM post_scans").fetchone()
        texts = con.execute("SELECT count(DISTINCT text) FROM posts").fetchone()[0]
        scored = con.execute("SELECT count(*), count(DISTINCT text_hash) FROM sentiment").fetchone()
        facts = con.execute("SELECT count(*) FROM post_facts").fetchone()[0]
    finally:
        con.close()
    assert builds == 1
    assert scans == distinct_scans == 30 == facts
    assert scored[0] == scored[1] >= texts
    second = build.build(warehouse_file=started)
    assert second.steps["texts newly scored"] == 0 and second.steps["posts newly scanned"] == 0
    assert snapshot.exists()
