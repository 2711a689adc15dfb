"""``policy-pulse watch``: every export saved to a folder is ingested and built once it is whole, by a process
that stays loaded and copies the warehouse for its next write as soon as it has published."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_crash import monitoring_file, roster_and_posts

from analytics import build, config, snapshots, warehouse, watch

_BUILT_POSTS, _NEW_POSTS = 10, 5


@contextlib.contextmanager
def _watching(folder: Path, every: float = 0.05) -> Iterator[list[list[str]]]:
    """``watch`` on a thread while in the block, recording the names of what it hands on."""
    calls: list[list[str]] = []
    stop = threading.Event()

    def update(paths: list[Path]) -> bool:
        calls.append([path.name for path in paths])
        return True

    thread = threading.Thread(target=watch.watch, args=(folder,), kwargs={"every": every, "update": update,
                                                                          "stop": stop})
    thread.start()
    try:
        yield calls
    finally:
        stop.set()
        thread.join(timeout=20)
    assert not thread.is_alive()


def _until(condition, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_an_export_is_handed_on_once_whole_and_again_only_when_it_changes(tmp_path):
    (tmp_path / "there-before.csv").write_text("a,b\n1,2\n")
    growing = tmp_path / "growing.csv"
    # written every 20 ms: an interval well above it, so a busy machine's pause between two writes is no gap
    with _watching(tmp_path, every=0.3) as calls:
        _until(lambda: calls == [["there-before.csv"]])
        with growing.open("w") as out:  # still being written: its size changes at every look
            for row in range(40):
                out.write(f"{row},x\n")
                out.flush()
                time.sleep(0.02)
                assert all("growing.csv" not in call for call in calls)
        (tmp_path / ".partial.csv").write_text("hidden: a temporary name\n")
        (tmp_path / "export.csv.crdownload").write_text("a download not finished, paused\n")
        _until(lambda: len(calls) == 2)
        time.sleep(0.7)  # two more looks
        assert calls == [["there-before.csv"], ["growing.csv"]], "handed on once; hidden and unfinished never"
        growing.write_text("changed\n")
        _until(lambda: len(calls) == 3)
        assert calls[2] == ["growing.csv"]


def test_an_export_moved_in_whole_is_handed_on_at_the_first_look(tmp_path):
    moved, fresh = tmp_path / "moved.csv", tmp_path / "fresh.csv"
    moved.write_text("a,b\n1,2\n")
    an_hour_ago = time.time() - 3600
    os.utime(moved, (an_hour_ago, an_hour_ago))  # a move keeps the time it was last written
    fresh.write_text("a,b\n3,4\n")  # just written: it could still be growing
    with _watching(tmp_path, every=30) as calls:
        _until(lambda: calls, seconds=10)  # the first look, not the second one, 30 s later
        time.sleep(0.2)
        assert calls == [["moved.csv"]]


def test_an_export_moved_in_is_handed_on_at_once_not_at_the_next_look(tmp_path):
    inbox, outside = tmp_path / "inbox", tmp_path / "outside"
    (outside / "folder").mkdir(parents=True)
    inbox.mkdir()
    for path in (outside / "posts.csv", outside / "folder" / "more.csv", outside / "later.csv"):
        path.write_text("a,b\n1,2\n")
        an_hour_ago = time.time() - 3600
        os.utime(path, (an_hour_ago, an_hour_ago))  # as a file saved elsewhere long enough ago
    with _watching(inbox, every=30) as calls:
        time.sleep(0.5)  # its first look is done: the next one is 30 s away
        (outside / "posts.csv").rename(inbox / "posts.csv")
        _until(lambda: len(calls) == 1, seconds=10)
        (outside / "folder").rename(inbox / "folder")  # a folder of exports moved in
        _until(lambda: len(calls) == 2, seconds=10)
        (outside / "later.csv").rename(inbox / "folder" / "later.csv")  # into the subfolder that came
        _until(lambda: len(calls) == 3, seconds=10)
        assert calls == [["posts.csv"], ["more.csv"], ["later.csv"]]


def test_a_download_renamed_when_finished_is_handed_on_at_once(tmp_path):
    """A browser writes its download under a temporary name and renames it when done: the name is new, the
    modification time just now, and the file whole all the same."""
    with _watching(tmp_path, every=30) as calls:
        time.sleep(0.5)  # its first look is done: the next one is 30 s away
        download = tmp_path / "posts.csv.crdownload"
        download.write_text("a,b\n1,2\n")
        time.sleep(0.3)
        assert not calls, "a download in progress is no export"
        download.rename(tmp_path / "posts.csv")
        _until(lambda: calls, seconds=10)
        assert calls == [["posts.csv"]]


def test_without_inotify_the_watch_looks_every_interval(tmp_path, monkeypatch):
    def no_c_library(*_args, **_kwargs):
        raise OSError("no C library here")

    monkeypatch.setattr(watch.ctypes, "CDLL", no_c_library)
    assert watch._Changes()._fd is None
    outside = tmp_path / "outside.csv"
    outside.write_text("a,b\n1,2\n")
    os.utime(outside, (time.time() - 3600, time.time() - 3600))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    with _watching(inbox, every=0.2) as calls:
        time.sleep(0.3)
        outside.rename(inbox / "moved.csv")
        _until(lambda: calls, seconds=10)
        assert calls == [["moved.csv"]]


def test_a_look_a_change_calls_early_never_takes_a_file_still_being_written_for_whole(tmp_path):
    pinging = threading.Event()

    def ping() -> None:  # files written and closed every 30 ms: each calls a look at once
        for number in itertools.count():
            if pinging.wait(0.03):
                return
            (tmp_path / f"ping-{number}.tmp").write_text("x")

    pinger = threading.Thread(target=ping)
    with _watching(tmp_path, every=1.0) as calls:
        pinger.start()
        try:
            with (tmp_path / "growing.csv").open("w") as out:
                # a row every 50 ms: two early looks often fall between two rows, never an interval apart
                for row in range(60):
                    out.write(f"{row},x\n")
                    out.flush()
                    time.sleep(0.05)
                    assert calls == [], "a file still being written was handed on"
            _until(lambda: calls == [["growing.csv"]])
        finally:
            pinging.set()
            pinger.join()


def test_warm_up_runs_the_scrubber_and_the_scans_over_the_newest_texts(tmp_path, monkeypatch):
    from analytics import adherence, privacy

    seen: dict[str, list[int]] = {"scrubbed": [], "scanned": []}
    scrub_many, scan = privacy.Scrubber.scrub_many, adherence.ParallelScan.scan
    monkeypatch.setattr(privacy.Scrubber, "scrub_many",
                        lambda self, texts: seen["scrubbed"].append(len(texts)) or scrub_many(self, texts))
    monkeypatch.setattr(adherence.ParallelScan, "scan",
                        lambda self, texts, employee, **kw: seen["scanned"].append(len(texts))
                        or scan(self, texts, employee, **kw))
    watch.warm_up(tmp_path / "none-yet.duckdb")
    assert seen == {"scrubbed": [], "scanned": []} and not (tmp_path / "none-yet.duckdb").exists()
    target = roster_and_posts(tmp_path / "warehouse.duckdb", _BUILT_POSTS)
    build.build(warehouse_file=target)
    seen = {"scrubbed": [], "scanned": []}
    watch.warm_up(target)
    assert seen == {"scrubbed": [_BUILT_POSTS], "scanned": [_BUILT_POSTS]}
    # the scrubber an update's ingest builds of the same roster has its pattern of all values compiled
    _texts, scrubber = watch._newest_texts_and_scrubber(target)
    assert scrubber._pattern._full is not None


def test_an_export_not_done_with_is_handed_on_again(tmp_path):
    (tmp_path / "posts.csv").write_text("a\n")
    answers = iter([False, True])
    calls: list[int] = []
    stop = threading.Event()

    def update(paths: list[Path]) -> bool:  # busy the first time
        calls.append(len(paths))
        return next(answers)

    thread = threading.Thread(target=watch.watch, args=(tmp_path,),
                              kwargs={"every": 0.05, "update": update, "stop": stop})
    thread.start()
    try:
        _until(lambda: len(calls) == 2)
        time.sleep(0.2)
        assert calls == [1, 1]
    finally:
        stop.set()
        thread.join(timeout=20)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_an_interruption_python_ignores_still_ends_the_watch(tmp_path):
    (tmp_path / "posts.csv").write_text("a\n")
    interruption = watch.Interruption()
    calls: list[list[Path]] = []
    thread = threading.Thread(target=watch.watch, args=(tmp_path,), kwargs={
        "every": 0.1, "update": lambda paths: calls.append(paths) or True, "stop": interruption.stop})
    thread.start()
    _until(lambda: len(calls) == 1)

    class Held:
        pass

    held = Held()
    # raised in a weakref callback, where Python prints an exception and goes on: the interruption is lost
    kept = weakref.ref(held, lambda _ref: interruption(signal.SIGTERM, None))
    del held
    assert kept() is None
    thread.join(timeout=10)
    assert not thread.is_alive() and len(calls) == 1


def test_watch_needs_a_folder_and_a_positive_interval(tmp_path):
    with pytest.raises(ValueError, match="not a folder"):
        watch.watch(tmp_path / "missing", every=1, update=lambda paths: True)
    with pytest.raises(ValueError, match="positive number of seconds"):
        watch.watch(tmp_path, every=0, update=lambda paths: True)


def _posts(target: Path) -> int:
    with warehouse.read_only(target) as con:
        return con.execute("SELECT count(*) FROM posts").fetchone()[0]


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["Ctrl-C", "a service manager's stop"])
def test_the_command_updates_the_dashboards_snapshot_for_each_export_until_stopped(tmp_path, stop):
    target = roster_and_posts(tmp_path / "warehouse.duckdb", _BUILT_POSTS)
    build.build(warehouse_file=target)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    # in a session of its own, as in a terminal, where Ctrl-C reaches its whole process group (its workers too)
    watcher = subprocess.Popen(
        [sys.executable, "-m", "analytics.cli", "watch", str(inbox), "--every", "0.1", "--warehouse", str(target)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # (a test runner may ignore it)
    try:
        assert watcher.stdout.readline().startswith(f"watching {inbox}")
        # saved under a temporary name, then renamed: as a browser or a copy does
        monitoring_file(inbox / ".more.csv.part", _NEW_POSTS, first_id=990000).rename(inbox / "more.csv")
        lines = _updated(watcher)
        assert any(line.startswith("more.csv") and " loaded " in line for line in lines), lines
        assert _posts(target) == _BUILT_POSTS + _NEW_POSTS, "the dashboards' snapshot has the new posts"
        # the copy for the next write, made at once, after the publication
        _until(lambda: snapshots._same_file(target.stat(), snapshots.snapshot_path(target).stat()) is False)
    finally:
        if stop == signal.SIGINT:
            os.killpg(watcher.pid, stop)
        else:
            watcher.send_signal(stop)
        _out, errors = watcher.communicate(timeout=60)
    assert watcher.returncode == 130, errors
    assert "interrupted; stopped watching" in errors and "Traceback" not in errors, errors
    assert not snapshots._copy_path(target).exists()
    assert _posts(target) == _BUILT_POSTS + _NEW_POSTS


def _watching_with(inbox: Path, target: Path, settings: Path) -> subprocess.Popen:
    """``policy-pulse watch INBOX`` of ``target`` with the settings file ``settings``, started."""
    watcher = subprocess.Popen(
        [sys.executable, "-m", "analytics.cli", "watch", str(inbox), "--every", "0.1", "--warehouse", str(target)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "POLICY_PULSE_SETTINGS": str(settings)})
    return watcher


def _updated(watcher: subprocess.Popen) -> list[str]:
    """The watcher's lines up to its next "updated in"."""
    lines = [watcher.stdout.readline()]
    while not lines[-1].startswith("updated in"):
        assert lines[-1], "the watcher ended"
        lines.append(watcher.stdout.readline())
    return lines


def test_a_settings_edit_reaches_the_running_watchers_next_update(tmp_path):
    """The settings were read once per process: a retention shortened while `watch` ran (to drop posts the
    organisation may no longer keep) was ignored by every update until the watcher was restarted."""
    target = roster_and_posts(tmp_path / "warehouse.duckdb", _BUILT_POSTS)  # posts of March 2026
    settings = tmp_path / "settings.yml"
    settings.write_text(config.SETTINGS_PATH.read_text())
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    watcher = _watching_with(inbox, target, settings)
    try:
        assert watcher.stdout.readline().startswith(f"watching {inbox}")
        monitoring_file(tmp_path / "more.csv", _NEW_POSTS, first_id=990000).rename(inbox / "more.csv")
        _updated(watcher)
        assert _posts(target) == _BUILT_POSTS + _NEW_POSTS
        # keep six months of posts from now on (every post here is older)
        edited = settings.read_text().replace("retention_months: null", "retention_months: 6")
        assert edited != settings.read_text()
        settings.write_text(edited)
        monitoring_file(tmp_path / "later.csv", _NEW_POSTS, first_id=995000).rename(inbox / "later.csv")
        _updated(watcher)
        assert _posts(target) == 0
    finally:
        watcher.send_signal(signal.SIGTERM)
        _rest, errors = watcher.communicate(timeout=60)
    assert "Traceback" not in errors, errors


def test_a_folder_that_also_holds_the_warehouse_is_watched_for_exports_only(tmp_path):
    """``policy-pulse watch data`` with the warehouse, the settings and the sample in data/: the warehouse's
    files, which every update writes, are not exports (taken for some, each update called the next, for ever),
    nor the configuration, nor the sample's answer key."""
    inbox = tmp_path / "data"
    inbox.mkdir()
    target = roster_and_posts(inbox / "warehouse.duckdb", _BUILT_POSTS)  # its exports beside it, loaded already
    build.build(warehouse_file=target)
    settings = inbox / "settings.yml"
    settings.write_text(config.SETTINGS_PATH.read_text())
    (inbox / "sample").mkdir()
    (inbox / "sample" / "truth.json").write_text("{}")
    watcher = _watching_with(inbox, target, settings)
    try:
        assert watcher.stdout.readline().startswith(f"watching {inbox}")
        lines = _updated(watcher)  # the exports there at the start (loaded before)
        monitoring_file(tmp_path / "more.csv", _NEW_POSTS, first_id=990000).rename(inbox / "more.csv")
        lines += _updated(watcher)
        time.sleep(2)  # twenty looks: none finds anything new
    finally:
        watcher.send_signal(signal.SIGTERM)
        rest, errors = watcher.communicate(timeout=60)
    lines += rest.splitlines()
    assert sum(line.startswith("updated in") for line in lines) == 2, lines
    assert not any(" failed " in line for line in lines), lines
    assert "error" not in errors, errors
    assert _posts(target) == _BUILT_POSTS + _NEW_POSTS


def test_the_command_refuses_a_folder_that_is_not_there_and_no_interval(tmp_path, capsys):
    from analytics import cli

    assert cli.main(["watch", str(tmp_path / "no-inbox"), "--warehouse", str(tmp_path / "w.duckdb")]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert cli.main(["watch", str(tmp_path), "--every", "0", "--warehouse", str(tmp_path / "w.duckdb")]) == 2
    assert "positive number of seconds" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "w.duckdb")


def test_the_command_stops_at_its_start_when_the_warehouse_has_no_identity_vault(tmp_path, monkeypatch, capsys):
    from analytics import cli

    target = roster_and_posts(tmp_path / "warehouse.duckdb", _BUILT_POSTS)
    build.build(warehouse_file=target)
    monkeypatch.setenv("POLICY_PULSE_CONFIG_DIR", str(tmp_path / "another-config"))  # its vault is not there
    (tmp_path / "inbox").mkdir()
    assert cli.main(["watch", str(tmp_path / "inbox"), "--warehouse", str(target)]) == 2
    error = capsys.readouterr().err
    assert "no identity vault" in error and "Traceback" not in error and "ValueError" not in error


def test_an_update_that_fails_is_said_to_have_failed_not_to_be_done(tmp_path, monkeypatch, capsys):
    from analytics import cli

    def failing_update(*_args, **_kwargs):
        raise RuntimeError("the build broke")

    def one_look(folder, *, update, **_kwargs):  # the watch's first look finds one export, then it is stopped
        update([folder / "posts.csv"])

    monkeypatch.setattr(cli, "_cmd_update", failing_update)
    monkeypatch.setattr(watch, "watch", one_look)
    monkeypatch.setattr(watch, "warm_up", lambda target: None)
    monkeypatch.setattr(watch, "workers_kept", contextlib.nullcontext)
    assert cli.main(["watch", str(tmp_path), "--warehouse", str(tmp_path / "w.duckdb")]) == 130
    captured = capsys.readouterr()
    assert "error: RuntimeError: the build broke" in captured.err
    assert "update failed after" in captured.out and "updated in" not in captured.out, captured.out


def _checked_ahead(target: Path, *, edit: str | None = None) -> tuple:
    """What a check made while waiting gives the update, and the update's own check: with ``edit`` run by
    another writer between them."""
    snapshots.prepare(target)  # as the watcher does after each update: the check waits for this copy
    ahead = watch.PostsCheckedAhead(target)
    ahead.wait()
    if edit:
        con = warehouse.connect(target)
        con.execute(edit)
        con.close()
    con = warehouse.connect(target)  # the update's
    try:
        return ahead.result(), build.posts_as_built(con)
    finally:
        con.close()


def test_the_posts_checked_while_waiting_serve_the_update_until_another_writer_comes(tmp_path):
    target = roster_and_posts(tmp_path / "warehouse.duckdb", _BUILT_POSTS)
    build.build(warehouse_file=target)
    ahead, own = _checked_ahead(target)
    assert ahead == own and own.end is not None and own.rows == _BUILT_POSTS
    # e.g. `policy-pulse forget` between the check and the update
    ahead, own = _checked_ahead(target, edit="UPDATE posts SET text = 'edited' WHERE rowid = 0")
    assert ahead is None and own.end is None, "the update checks for itself, and sees the edit"


def test_the_watcher_ends_after_the_posts_check_in_progress_not_in_it(tmp_path):
    """A stop signal may land just after an update, while the next update's check reads the warehouse; the
    process ends once the check has (a thread cut off inside DuckDB at exit aborts the process)."""
    target = roster_and_posts(tmp_path / "warehouse.duckdb", _BUILT_POSTS)
    build.build(warehouse_file=target)
    finished = tmp_path / "check-finished"
    script = f"""
from pathlib import Path
from analytics import build, watch

checked = build.posts_as_built

def slow_check(con):  # a check over a large warehouse: DuckDB busy for a while
    con.execute("SELECT count(*) FROM range(200000000) WHERE hash(range) % 7 = 0").fetchone()
    Path({str(finished)!r}).write_text("finished")
    return checked(con)

build.posts_as_built = slow_check
watch.PostsCheckedAhead(Path({str(target)!r}))
"""  # the script ends at once, as the interrupted watcher does
    ended = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert ended.returncode == 0, ended.stderr
    assert finished.exists(), "the check was finished before the process ended"
