"""The surfaces' snapshot is published by hard link, and every writer first gives the warehouse a file of its
own (copy on write): the snapshot never changes under its readers until the next build publishes."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from test_crash import monitoring_file, roster_and_posts

from analytics import build, ingest, snapshots, warehouse

#: The posts of the built warehouse: what its snapshot holds until a build publishes more.
_BUILT_POSTS = 10
#: The posts a later ingest adds (:func:`_ingest_more`), all new: the writer's file then holds both.
_MORE_POSTS = 5


def _file(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_dev, status.st_ino


def _posts(target: Path, *, snapshot: bool) -> int:
    with warehouse.read_only(target, snapshot=snapshot) as con:
        return con.execute("SELECT count(*) FROM posts").fetchone()[0]


def _more_posts(folder: Path) -> Path:
    """An export of :data:`_MORE_POSTS` posts, their ids after the built warehouse's."""
    return monitoring_file(folder / "more.csv", _MORE_POSTS, first_id=990000)


def _ingest_more(target: Path, folder: Path) -> None:
    results = ingest.ingest_paths([_more_posts(folder)], warehouse_file=target)
    assert [r.status for r in results] == ["loaded"]


@pytest.fixture(scope="module")
def built_once(tmp_path_factory) -> Path:
    """A warehouse of :data:`_BUILT_POSTS` posts, built (and so published) once."""
    target = roster_and_posts(tmp_path_factory.mktemp("built") / "warehouse.duckdb", _BUILT_POSTS)
    build.build(warehouse_file=target)
    return target


@pytest.fixture
def published(built_once, tmp_path) -> Path:
    """A copy of the built warehouse of this test's own, published as a build leaves it."""
    target = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built_once, target)
    snapshots.publish_snapshot(warehouse.connect(target), target)
    return target


def test_a_build_publishes_the_warehouse_file_itself(built_once):
    assert _file(snapshots.snapshot_path(built_once)) == _file(built_once)
    with warehouse.read_only(built_once) as con:  # the snapshot
        assert con.execute("SELECT count(*) FROM build_log").fetchone()[0] == 1
        assert con.execute("SELECT count(*) FROM post_facts").fetchone()[0] == _BUILT_POSTS
    assert sorted(p.name for p in built_once.parent.glob("*.duckdb*")) == [
        "warehouse.duckdb", "warehouse.duckdb.lock", "warehouse.snapshot.duckdb"]


def test_the_next_writer_writes_a_copy_and_the_snapshot_stays_until_the_next_build(published, tmp_path):
    snapshot = snapshots.snapshot_path(published)
    shared, before = _file(snapshot), snapshot.read_bytes()
    _ingest_more(published, tmp_path)
    assert _file(published) != shared and _file(snapshot) == shared
    assert snapshot.read_bytes() == before
    assert (_posts(published, snapshot=True), _posts(published, snapshot=False)) == (
        _BUILT_POSTS, _BUILT_POSTS + _MORE_POSTS)

    build.build(warehouse_file=published)
    assert _file(snapshot) == _file(published) != shared
    assert _posts(published, snapshot=True) == _BUILT_POSTS + _MORE_POSTS


def test_the_replaced_snapshot_is_deleted_by_the_next_writer_not_by_the_build(published):
    snapshot, retired = snapshots.snapshot_path(published), snapshots.retired_path(published)
    old = _file(snapshot)
    build.build(warehouse_file=published)
    assert _file(retired) == old, "the build kept the old snapshot's file under a second name"
    warehouse.connect(published).close()
    deadline = time.monotonic() + 20
    while retired.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not retired.exists()
    assert _posts(published, snapshot=True) == _BUILT_POSTS


_READER = textwrap.dedent("""
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    count = lambda: con.execute("SELECT count(*) FROM posts").fetchone()[0]
    print(count(), flush=True)
    sys.stdin.readline()
    print(count(), flush=True)
""")


def test_a_reader_holding_the_snapshot_through_an_update_neither_waits_nor_is_waited_for(published, tmp_path,
                                                                                      monkeypatch):
    reader = subprocess.Popen([sys.executable, "-c", _READER, str(snapshots.snapshot_path(published))],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == str(_BUILT_POSTS)
        # a writer that waited for the reader's lock would be told "busy" at once
        opened = warehouse.connect
        monkeypatch.setattr(warehouse, "connect", lambda path=None: opened(path, wait_seconds=0))
        _ingest_more(published, tmp_path)
        build.build(warehouse_file=published)
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == str(_BUILT_POSTS), (
            "the open snapshot kept the state it was opened on")
    finally:
        reader.kill()
        reader.communicate(timeout=30)
    assert _posts(published, snapshot=True) == _BUILT_POSTS + _MORE_POSTS


def test_two_writers_starting_together_copy_the_warehouse_once(published, monkeypatch):
    copies, seen = [], []
    copy = snapshots._copy_file

    def slow_copy(source, destination, abandoned):
        copies.append(source)
        time.sleep(0.3)  # wide open to a second writer, were the copy not under the lock
        return copy(source, destination, abandoned)

    monkeypatch.setattr(snapshots, "_copy_file", slow_copy)
    together = threading.Barrier(2)

    def writer() -> None:
        together.wait()
        with snapshots.writing(published, deadline=time.monotonic() + 20):
            seen.append(_file(published))

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(copies) == 1
    assert len(seen) == 2 and seen[0] == seen[1] != _file(snapshots.snapshot_path(published))


def test_no_writer_gets_in_between_a_builds_close_and_its_publication(published, monkeypatch):
    publish, attempts = snapshots._publish_file, []

    def contested(target: Path, **options) -> None:
        # a writer starting here would write into the file about to become the snapshot
        try:
            warehouse.connect(target, wait_seconds=0.3).close()
            attempts.append("opened")
        except warehouse.WarehouseBusy:
            attempts.append("busy")
        publish(target, **options)

    monkeypatch.setattr(snapshots, "_publish_file", contested)
    build.build(warehouse_file=published)
    assert attempts == ["busy"]


_WRITER = textwrap.dedent("""
    import sys, time
    from analytics import warehouse
    start, path, uid = float(sys.argv[1]), sys.argv[2], sys.argv[3]
    time.sleep(max(0.0, start - time.time()))
    con = warehouse.connect(path, wait_seconds=60)
    con.execute("INSERT INTO posts (post_uid) VALUES (?)", [uid])
    time.sleep(0.3)
    con.close()
""")


def test_two_writer_processes_starting_together_both_land_in_the_warehouse(published):
    start = time.time() + 1.5  # both past their imports
    writers = [subprocess.Popen([sys.executable, "-c", _WRITER, str(start), str(published), f"marker:{n}"],
                                stderr=subprocess.PIPE, text=True) for n in range(2)]
    for writer in writers:
        assert writer.wait(timeout=90) == 0, writer.communicate()[1]
        writer.stderr.close()
    with warehouse.read_only(published, snapshot=False) as con:
        markers = con.execute("SELECT post_uid FROM posts WHERE post_uid LIKE 'marker:%' ORDER BY 1").fetchall()
    assert markers == [("marker:0",), ("marker:1",)]
    assert _posts(published, snapshot=True) == _BUILT_POSTS


def test_without_hard_links_the_snapshot_is_a_copy(built_once, tmp_path, monkeypatch):
    target = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built_once, target)

    def no_links(*_args, **_options):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", no_links)
    snapshots.publish_snapshot(warehouse.connect(target), target)
    snapshot = snapshots.snapshot_path(target)
    assert _file(snapshot) != _file(target)
    assert _posts(target, snapshot=True) == _BUILT_POSTS
    own = _file(target)
    _ingest_more(target, tmp_path)
    assert _file(target) == own, "a warehouse apart from its snapshot needs no copy"
    assert (_posts(target, snapshot=True), _posts(target, snapshot=False)) == (
        _BUILT_POSTS, _BUILT_POSTS + _MORE_POSTS)


def test_a_failed_copy_stops_the_writer_with_a_clear_error_and_leaves_no_partial_copy(published, monkeypatch):
    copy = snapshots._copy_file

    def disk_full(source, destination, abandoned):
        copy(source, destination, abandoned)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(snapshots, "_copy_file", disk_full)
    with pytest.raises(OSError, match=r"Could not give the warehouse warehouse\.duckdb .*No space left"):
        warehouse.connect(published)
    assert _file(published) == _file(snapshots.snapshot_path(published))
    assert not list(published.parent.glob("*.tmp"))
    monkeypatch.undo()
    warehouse.connect(published).close()
    assert _file(published) != _file(snapshots.snapshot_path(published))


def test_a_copy_left_by_a_killed_writer_is_written_over(published):
    left = snapshots._copy_path(published)
    left.write_bytes(b"half a copy" * 1000)
    con = warehouse.connect(published)
    try:
        assert con.execute("SELECT count(*) FROM posts").fetchone()[0] == _BUILT_POSTS
    finally:
        con.close()
    assert not left.exists()


_CLI = textwrap.dedent("""
    import sys
    from analytics import cli, snapshots
    started, prepare = [], snapshots.prepare
    def recorded(target):
        started.append(("pandas" in sys.modules, "duckdb" in sys.modules))
        prepare(target)
    snapshots.prepare = recorded
    assert cli.main(["ingest", sys.argv[1], "--warehouse", sys.argv[2]]) == 0
    assert not snapshots._started, "the writer's connect waited for the copy the command started"
    assert cli.main(["ingest", sys.argv[1], "--dry-run", "--warehouse", sys.argv[2]]) == 0
    print(started)
""")


def test_a_writing_command_starts_the_copy_before_its_heavy_imports(published, tmp_path):
    posts = _more_posts(tmp_path)
    run = subprocess.run([sys.executable, "-c", _CLI, str(posts), str(published)], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-1] == "[(False, False)]"  # once, for the ingest that writes
    assert _file(published) != _file(snapshots.snapshot_path(published))


def test_a_command_writing_a_warehouse_in_a_new_folder_finds_nothing_to_copy(tmp_path):
    target = tmp_path / "new" / "warehouse.duckdb"
    snapshots.prepare(target)  # as the command line does, long before connect makes the folder
    snapshots._started[target].thread.join()
    warehouse.connect(target).close()
    assert target.exists() and not snapshots.snapshot_path(target).exists()


def test_a_copy_short_of_space_frees_the_retired_snapshot_and_tries_again(published, monkeypatch):
    build.build(warehouse_file=published)  # the snapshot it replaced is now the retired file
    retired = snapshots.retired_path(published)
    assert retired.exists()
    copy, failures = snapshots._copy_file, []

    def full_until_the_retired_file_is_gone(source, destination, abandoned):
        if retired.exists():
            failures.append(destination)
            raise OSError(errno.ENOSPC, "No space left on device")
        return copy(source, destination, abandoned)

    monkeypatch.setattr(snapshots, "_copy_file", full_until_the_retired_file_is_gone)
    warehouse.connect(published).close()
    assert len(failures) == 1 and not retired.exists()
    assert _file(published) != _file(snapshots.snapshot_path(published))


def test_a_snapshot_that_cannot_get_a_second_name_is_replaced_all_the_same(published, monkeypatch):
    # e.g. another user's snapshot on a system protecting hard links: only the retiring link is refused
    link = os.link
    snapshot = snapshots.snapshot_path(published)
    old = _file(snapshot)

    def protected(source, destination, **options):
        if Path(destination) == snapshots.retired_path(published):
            raise OSError(errno.EPERM, "Operation not permitted")
        return link(source, destination, **options)

    monkeypatch.setattr(os, "link", protected)
    _ingest_more(published, published.parent)
    build.build(warehouse_file=published)
    assert _file(snapshot) == _file(published) != old
    assert not snapshots.retired_path(published).exists()
    assert _posts(published, snapshot=True) == _BUILT_POSTS + _MORE_POSTS


def test_a_warehouse_another_connection_of_the_process_holds_is_published_as_a_copy(published):
    held = warehouse.connect(published)  # DuckDB shares one open database per file within a process
    try:
        build.build(warehouse_file=published)
        snapshot = snapshots.snapshot_path(published)
        assert _file(snapshot) != _file(published), "the held connection could write into a linked snapshot"
        held.execute("DELETE FROM posts")
    finally:
        held.close()
    assert (_posts(published, snapshot=True), _posts(published, snapshot=False)) == (_BUILT_POSTS, 0)


def test_a_writer_waiting_for_a_busy_warehouse_starts_no_thread_per_try(published, monkeypatch):
    import duckdb

    started, copies, copy = [], [], snapshots._copy_file
    monkeypatch.setattr(snapshots, "_Preparation", lambda target: started.append(target))

    def counted(source, destination, abandoned):
        copies.append(destination)
        return copy(source, destination, abandoned)

    monkeypatch.setattr(snapshots, "_copy_file", counted)

    def busy(*_args, **_options):
        raise duckdb.IOException("Could not set lock on file")

    monkeypatch.setattr(duckdb, "connect", busy)
    with pytest.raises(warehouse.WarehouseBusy):
        warehouse.connect(published, wait_seconds=0.6)
    assert started == []
    assert len(copies) == 1, "the copy was made once, in place"
    assert _file(published) != _file(snapshots.snapshot_path(published))


def test_a_publication_kept_waiting_says_the_work_is_committed(published, monkeypatch):
    con = warehouse.connect(published)
    con.execute("DELETE FROM posts")
    monkeypatch.setattr(snapshots, "PUBLISH_WAIT_SECONDS", 0.3)
    with snapshots._writer_lock(published, deadline=None) as held:
        assert held
        with pytest.raises(TimeoutError, match=r"committed, but its snapshot .* not published.* same command again"):
            snapshots.publish_snapshot(con, published)
    assert (_posts(published, snapshot=True), _posts(published, snapshot=False)) == (_BUILT_POSTS, 0)


def test_a_mistyped_export_path_fails_the_command_without_copying_the_warehouse(published, tmp_path, capsys):
    from analytics import cli

    assert cli.main(["ingest", str(tmp_path / "no-such-export.csv"), "--warehouse", str(published)]) == 2
    assert "no-such-export.csv" in capsys.readouterr().err
    assert _file(published) == _file(snapshots.snapshot_path(published)), "nothing written, nothing copied"
    assert not snapshots._started


#: The copy's step in these tests: a small warehouse takes many steps, so a copy can be stopped half-way.
_SMALL_STEP = 4096

_IN_KERNEL = pytest.mark.skipif(not hasattr(os, "copy_file_range"), reason="no os.copy_file_range (not Linux)")


@pytest.fixture
def stepping(monkeypatch) -> list[int]:
    """The copy on write in small, slow steps (counted), so that a test can stop it half-way."""
    if not hasattr(os, "copy_file_range"):
        pytest.skip("no os.copy_file_range (not Linux)")
    steps, copy_range = [], os.copy_file_range
    monkeypatch.setattr(snapshots, "_COPY_STEP", _SMALL_STEP)

    def slow(source, destination, count, *args):
        time.sleep(0.005)
        steps.append(count)
        return copy_range(source, destination, count, *args)

    monkeypatch.setattr(os, "copy_file_range", slow)
    return steps


def _copied_so_far(steps: list[int]) -> None:
    deadline = time.monotonic() + 20
    while not steps and time.monotonic() < deadline:
        time.sleep(0.01)
    assert steps, "the copy started"


def test_an_abandoned_copy_stops_within_a_step_leaving_the_warehouse_as_it_was(published, stepping):
    snapshots.prepare(published)
    thread = snapshots._started[published].thread
    _copied_so_far(stepping)
    snapshots.abandon()
    assert not thread.is_alive() and not snapshots._started
    assert len(stepping) * _SMALL_STEP < published.stat().st_size, "stopped before the end"
    assert _file(published) == _file(snapshots.snapshot_path(published))
    assert not snapshots._copy_path(published).exists()
    warehouse.connect(published).close()  # the next writer copies it all
    assert _file(published) != _file(snapshots.snapshot_path(published))
    assert _posts(published, snapshot=False) == _BUILT_POSTS


def test_an_interrupted_command_abandons_its_copy_and_ends_at_once(published, stepping, monkeypatch, capsys):
    from analytics import cli

    def interrupted(args) -> int:
        _copied_so_far(stepping)
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_cmd_ingest", interrupted)
    monkeypatch.setattr(cli, "_WRITERS", (interrupted,))
    assert cli.main(["ingest", str(_more_posts(published.parent)), "--warehouse", str(published)]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert not snapshots._started and not snapshots._copy_path(published).exists()
    assert len(stepping) * _SMALL_STEP < published.stat().st_size
    assert _file(published) == _file(snapshots.snapshot_path(published))
    assert [t for t in threading.enumerate() if t.name.startswith("copy-on-write")] == []


@_IN_KERNEL
@pytest.mark.parametrize("kernel", ["copies", "refuses", "stops early"])
def test_the_copy_is_the_file_byte_for_byte(tmp_path, monkeypatch, kernel):
    source, destination = tmp_path / "source.bin", tmp_path / "destination.bin"
    source.write_bytes(os.urandom(3 * _SMALL_STEP + 17))
    destination.write_bytes(b"a longer copy a killed writer left" * 1000)
    monkeypatch.setattr(snapshots, "_COPY_STEP", _SMALL_STEP)
    calls, copy_range = [], os.copy_file_range

    def kernel_copy(source_fd, destination_fd, count, *args):
        calls.append(count)
        if kernel == "refuses":
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        if kernel == "stops early" and len(calls) > 1:
            return 0  # as some file systems do before the end
        return copy_range(source_fd, destination_fd, count, *args)

    monkeypatch.setattr(os, "copy_file_range", kernel_copy)
    snapshots._copy_file(source, destination, None)
    assert destination.read_bytes() == source.read_bytes()
    # three whole steps, the rest, and the end (0); refused at once; stopped after one step
    assert len(calls) == {"copies": 5, "refuses": 1, "stops early": 2}[kernel]


def test_a_copy_that_comes_out_short_is_an_error_not_the_warehouse(published, monkeypatch):
    fstat = os.fstat

    def longer(fd):  # the copy then ends before the size the warehouse had when it started
        status = fstat(fd)
        return os.stat_result((*status[:6], status.st_size + _SMALL_STEP, *status[7:]))

    monkeypatch.setattr(os, "fstat", longer)
    with pytest.raises(OSError, match=r"Could not give the warehouse .* came out \d+ bytes of \d+"):
        warehouse.connect(published)
    monkeypatch.undo()
    assert _file(published) == _file(snapshots.snapshot_path(published))
    assert not snapshots._copy_path(published).exists()


def test_a_writer_waiting_for_a_copy_another_thread_abandons_copies_for_itself(published, stepping):
    snapshots.prepare(published)
    _copied_so_far(stepping)
    opened = []

    def writer() -> None:
        with snapshots.writing(published, deadline=time.monotonic() + 20):
            opened.append(_file(published))

    waiting = threading.Thread(target=writer)
    waiting.start()
    time.sleep(0.05)  # the writer is waiting for the copy
    snapshots.abandon()
    waiting.join(timeout=60)
    assert opened and opened[0] != _file(snapshots.snapshot_path(published))
    assert _posts(published, snapshot=False) == _BUILT_POSTS
