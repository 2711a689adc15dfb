"""A reader (a dashboard, a notebook) while an ingest writes: it gets consistent data or a clear "busy" —
never a half-written load."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from test_crash import monitoring_file, qualtrics_file, roster_and_posts

from analytics import ingest, snapshots, warehouse


def _state(con) -> tuple[int, int, int, int]:
    """What a half write would break: posts, respondents, their answers and the ingest log, read together."""
    return tuple(con.execute(
        "SELECT (SELECT count(*) FROM posts), (SELECT count(*) FROM respondents), "
        "(SELECT count(*) FROM survey_answers), (SELECT count(DISTINCT file_sha256) FROM ingest_log)"
    ).fetchone())


@pytest.fixture
def published(tmp_path):
    """A warehouse with a roster and some posts, and the snapshot the surfaces read."""
    target = roster_and_posts(tmp_path / "warehouse.duckdb", 10)
    snapshots.publish_snapshot(warehouse.connect(target), target)
    return target


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    command = Path(sys.executable).with_name("policy-pulse")
    return subprocess.Popen([str(command), *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1", **env})


def test_a_reader_during_a_paused_write_gets_the_snapshot_or_busy(published, tmp_path):
    with warehouse.read_only(published) as con:
        before = _state(con)
    survey = qualtrics_file(tmp_path / "survey.csv", 6)
    writer = _start(["ingest", str(survey), "--warehouse", str(published)],
                    {ingest.PAUSE_ENV: "1"})  # paused with respondents written and answers not yet
    guard = threading.Timer(60, writer.kill)
    guard.start()
    try:
        for line in writer.stdout:
            if "PAUSED after" in line:
                break
        # the warehouse itself: a clear "busy", not an error
        with pytest.raises(warehouse.WarehouseBusy, match="busy"), warehouse.read_only(published, snapshot=False):
            pass
        with pytest.raises(warehouse.WarehouseBusy, match="Retry"):
            warehouse.read_table("posts", published, snapshot=False)
        # the surfaces' snapshot: readable, and exactly the last published state
        with warehouse.read_only(published) as con:
            assert _state(con) == before
        assert len(warehouse.read_table("respondents", published)) == before[1] == 0
    finally:
        guard.cancel()
        writer.kill()
        writer.wait(timeout=30)
        writer.stdout.close()
    with warehouse.read_only(published, snapshot=False) as con:
        assert _state(con) == before  # the killed write left nothing behind


def test_a_reader_polling_during_real_writes_sees_before_or_after_never_between(published, tmp_path):
    files = [monitoring_file(tmp_path / "more.csv", 300, first_id=990000),
             qualtrics_file(tmp_path / "survey.csv", 60)]
    with warehouse.read_only(published, snapshot=False) as con:
        before = _state(con)
    writer = _start(["ingest", *map(str, files), "--warehouse", str(published)], {})
    seen, busy = set(), 0
    deadline = time.monotonic() + 90
    while writer.poll() is None and time.monotonic() < deadline:
        try:
            with warehouse.read_only(published, snapshot=False) as con:
                seen.add(_state(con))
        except warehouse.WarehouseBusy as error:
            assert "busy" in str(error)
            busy += 1
        with warehouse.read_only(published) as con:  # what the dashboards read meanwhile
            assert _state(con) == before
        time.sleep(0.2)
    output = writer.communicate(timeout=30)[0]
    assert "Traceback" not in output
    with warehouse.read_only(published, snapshot=False) as con:
        after = _state(con)
    if writer.returncode == 2:
        # the reader held the file at the moment the writer opened it: the writer says so and wrote nothing
        assert "is busy" in output
        assert after == before
    else:
        assert writer.returncode == 0, output
        assert after == (before[0] + 300, 60, 120, before[3] + 2)
    # each file is one transaction: a reader sees none, one or both of them, whole
    whole = {before, after, (before[0] + 300, 0, 0, before[3] + 1), (before[0], 60, 120, before[3] + 1)}
    assert seen <= whole, seen - whole
    assert busy or seen, "the reader never got an answer"
