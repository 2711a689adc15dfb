"""The surfaces' snapshot of the warehouse: its publication, and keeping every writer off it.

Surfaces read ``<stem>.snapshot.duckdb``, so a running ingest or build never blocks them and they never
see a half-written state. A build publishes the snapshot by giving the checkpointed warehouse file a
second name (a hard link): instant, whatever the file's size. From then on the warehouse and its
snapshot are one file, which no writer may write into: before opening the warehouse read-write,
:func:`writing` copies it to a new file that takes the warehouse's name (copy on write), and the
snapshot keeps the old one, untouched under the readers that hold it open.

The copy is the one expensive part, and kernel work: the ``policy-pulse`` command starts it with
:func:`prepare` before it imports pandas and DuckDB, so it runs on another core meanwhile. The snapshot
replaced by a publication is kept under a "retired" name, so that dropping its cached pages (what
deleting a large file costs) happens after the copy on that thread (or after a library caller's
connect), not inside the build.

Only the standard library is imported with this module (DuckDB when a build publishes): the command
line imports it before the heavy libraries.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

__all__ = ["abandon", "own_files", "prepare", "prepared", "publish_snapshot", "published_version", "read_file",
           "retired_path", "snapshot_path", "writing"]

#: How long a publication waits for the writer lock; another writer holds it only while it copies the
#: warehouse and opens it.
PUBLISH_WAIT_SECONDS = 120.0

#: The copy on write goes a step at a time, so that an abandoned copy stops within one step.
_COPY_STEP = 64 << 20

# what os.copy_file_range raises where the kernel cannot copy between the two files
_NO_KERNEL_COPY = {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP}

# what os.link raises on a file system without hard links (FAT, some network shares), or for another
# user's file where the system protects hard links (EPERM)
_NO_LINKS = {errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS}


def snapshot_path(target: Path) -> Path:
    """Where ``build`` publishes the read-only snapshot the surfaces read.

    >>> snapshot_path(Path("data/warehouse.duckdb")).name
    'warehouse.snapshot.duckdb'
    """
    return target.with_name(target.stem + ".snapshot.duckdb")


def read_file(target: Path) -> Path:
    """The file the surfaces read: the published snapshot, else (never built by this version) the warehouse.

    >>> read_file(Path("no/such/warehouse.duckdb")).name
    'warehouse.duckdb'
    """
    snapshot = snapshot_path(target)
    return snapshot if snapshot.exists() else target


def published_version(target: Path) -> tuple[int, int, int, int] | None:
    """What the surfaces would read now, as the identity of :func:`read_file`'s file (its device, inode, size
    and modification time); ``None`` when there is none. Every publication (a build's, an erasure's) changes
    it, since it gives the snapshot's name another file, and nothing else does: no writer writes into the
    snapshot's file.

    >>> published_version(Path("no/such/warehouse.duckdb")) is None
    True
    """
    try:
        status = read_file(target).stat()
    except FileNotFoundError:
        return None
    return status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns


def retired_path(target: Path) -> Path:
    """The snapshot a publication replaced, until the next writer deletes it.

    >>> retired_path(Path("data/warehouse.duckdb")).name
    'warehouse.snapshot.retired.duckdb'
    """
    return target.with_name(target.stem + ".snapshot.retired.duckdb")


def own_files(target: Path) -> frozenset[Path]:
    """Every file the warehouse ``target`` keeps beside it, as absolute paths: the database, the writers' lock,
    the snapshot and the retired one, the copies being made, DuckDB's write-ahead logs and its folder for
    what does not fit in memory (a folder of exports may also hold the warehouse: none of these is an export).

    >>> sorted(path.name for path in own_files(Path("/data/warehouse.duckdb")))[:4]
    ['warehouse.duckdb', 'warehouse.duckdb.copy.tmp', 'warehouse.duckdb.copy.tmp.wal', 'warehouse.duckdb.lock']
    """
    target = target.resolve()
    snapshot = snapshot_path(target)
    databases = {target, snapshot, retired_path(target), _copy_path(target), snapshot.with_suffix(".tmp")}
    return frozenset({*databases, *(path.with_name(path.name + ".wal") for path in databases),
                      _lock_path(target), target.with_name(target.name + ".tmp")})


def _lock_path(target: Path) -> Path:
    return target.with_name(target.name + ".lock")


def _copy_path(target: Path) -> Path:
    return target.with_name(target.name + ".copy.tmp")


@contextlib.contextmanager
def _writer_lock(target: Path, *, deadline: float | None, busy: str = "") -> Iterator[bool]:
    """The writers' lock of ``target``: yields whether it is held. ``deadline=None``: one try, no wait;
    else tries until ``deadline`` (``time.monotonic()``), then :class:`TimeoutError` (``busy``: its
    message)."""
    with open(_lock_path(target), "a") as lock:
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held = True
            except BlockingIOError:
                held = False
            if held or deadline is None:
                break
            if time.monotonic() >= deadline:
                raise TimeoutError(busy or f"another writer holds {_lock_path(target).name}")
            time.sleep(0.05)
        yield held  # closing the file releases the lock


def _same_file(one: os.stat_result, other: os.stat_result) -> bool:
    return (one.st_dev, one.st_ino) == (other.st_dev, other.st_ino)


class _Abandoned(Exception):
    """A copy on write stopped because nothing will write (:func:`abandon`)."""


def _separate(target: Path, abandoned: threading.Event | None = None) -> None:
    """Give the warehouse a file of its own when it shares the snapshot's (the caller holds the lock);
    ``abandoned`` set stops the copy (:class:`_Abandoned`), leaving the warehouse as it was."""
    try:
        if not _same_file(target.stat(), snapshot_path(target).stat()):
            return
    except FileNotFoundError:
        return
    try:
        _copy_making_room(target, abandoned)
    except OSError as error:
        raise OSError(
            error.errno,
            f"Could not give the warehouse {target.name} a file of its own before writing it (its file is the "
            f"published snapshot the surfaces read): {error}. Nothing was written; retry once that is fixed "
            "(free disk space?).",
        ) from error


def _copy_making_room(target: Path, abandoned: threading.Event | None) -> None:
    """:func:`_copy_over`, once more after deleting the retired snapshot (a whole warehouse's worth of
    space, what a full disk can spare) when the disk was full."""
    try:
        _copy_over(target, abandoned)
    except OSError as error:
        if error.errno != errno.ENOSPC or not _drop_retired(target):
            raise
        _copy_over(target, abandoned)


def _copy_over(target: Path, abandoned: threading.Event | None) -> None:
    """Copy the warehouse to a file of its own that takes its name."""
    copy = _copy_path(target)
    try:
        _copy_file(target, copy, abandoned)  # over a copy a killed writer left
        shutil.copymode(target, copy)
        # durable before it takes the warehouse's name; done here, the build's checkpoint need not write
        # the whole copy back either
        with open(copy, "rb") as written:
            os.fsync(written.fileno())
        os.replace(copy, target)
    except BaseException:
        with contextlib.suppress(OSError):
            copy.unlink()
        raise


def _copy_file(source: Path, destination: Path, abandoned: threading.Event | None) -> None:
    """Copy ``source`` over ``destination`` :data:`_COPY_STEP` bytes at a time, in the kernel where it can;
    :class:`_Abandoned` once ``abandoned`` is set, :class:`OSError` when the copy came out short."""
    with open(source, "rb") as reading, open(destination, "wb") as writing:
        size, done = os.fstat(reading.fileno()).st_size, 0
        in_kernel = hasattr(os, "copy_file_range")  # Linux; elsewhere through a buffer
        while abandoned is None or not abandoned.is_set():
            if in_kernel:
                try:
                    copied = os.copy_file_range(reading.fileno(), writing.fileno(), _COPY_STEP)
                except OSError as error:
                    if error.errno not in _NO_KERNEL_COPY:
                        raise
                    in_kernel = False  # nothing was copied by the failed call: on from the same place
                    continue
            else:
                block = reading.read(_COPY_STEP)
                writing.write(block)
                copied = len(block)
            done += copied
            if copied:
                continue
            if in_kernel and done < size:
                in_kernel = False  # some file systems' copy_file_range stops early: the rest through a buffer
                continue
            if done != size:
                raise OSError(errno.EIO, f"the copy of {source.name} came out {done} bytes of {size}")
            return
        raise _Abandoned(f"the copy of {source.name} was abandoned")


def _drop_retired(target: Path) -> bool:
    """Delete the snapshot a publication replaced; whether there was one."""
    try:
        retired_path(target).unlink()
    except FileNotFoundError:
        return False
    return True


class _Preparation:
    """The copy on write of one warehouse, on a thread of its own, then the retired snapshot's deletion.

    Not a daemon: the interpreter waits for it at exit, so a command that will not write abandons it
    (:func:`abandon`). A process killed during the copy leaves a temporary file, which the next writer's
    copy overwrites.
    """

    def __init__(self, target: Path) -> None:
        self.target = target
        self.copied = threading.Event()
        self.abandoned = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name=f"copy-on-write {target.name}")
        self.thread.start()

    def _run(self) -> None:
        try:
            # no waiting here: another writer holding the lock is waited for by connect, with its deadline.
            # A warehouse not there yet (its folder neither, maybe) has nothing to copy.
            if self.target.exists():
                with _writer_lock(self.target, deadline=None) as held:
                    if held:
                        _separate(self.target, self.abandoned)
        except BaseException as error:  # raised again by the connecting thread
            self.error = error
        finally:
            self.copied.set()
        if not self.abandoned.is_set():  # an abandoned command ends now, and leaves it to the next writer
            with contextlib.suppress(OSError):
                _drop_retired(self.target)

    def wait(self) -> None:
        self.copied.wait()
        if self.error is not None:
            raise self.error


_started: dict[Path, _Preparation] = {}
_started_lock = threading.Lock()


def prepare(target: Path) -> None:
    """Start the copy on write of the warehouse ``target`` now, on a thread, for a writer that connects later.

    A command that will write calls it first thing, so the copy overlaps its imports; :func:`writing`
    waits for it (or copies in its own thread when nothing started it).
    """
    with _started_lock:
        if target not in _started:
            _started[target] = _Preparation(target)


def prepared(target: Path) -> None:
    """Wait for the copy :func:`prepare` started of ``target``, if one is under way (its failure is left to the
    writer that connects)."""
    with _started_lock:
        preparation = _started.get(target)
    if preparation is not None:
        preparation.copied.wait()


def abandon() -> None:
    """Stop the copies :func:`prepare` started that no writer has used (the command failed or was
    interrupted before it wrote), and wait for their threads: a copy stops within a step, leaving the
    warehouse as it was and no temporary file. Without it the command would end only once its copy had."""
    with _started_lock:
        preparations = list(_started.values())
        _started.clear()
    for preparation in preparations:
        preparation.abandoned.set()
    for preparation in preparations:
        preparation.thread.join()


@contextlib.contextmanager
def writing(target: Path, *, deadline: float) -> Iterator[None]:
    """Hold the writers' lock of ``target``, its file not the snapshot's, for opening it read-write.

    After the block the writer's own DuckDB lock keeps other writers out. Raises :class:`TimeoutError`
    when another writer keeps the lock past ``deadline`` (``time.monotonic()``), and :class:`OSError` when
    the copy failed.
    """
    with _started_lock:
        preparation = _started.get(target)
    if preparation is not None:
        try:
            preparation.wait()  # still listed meanwhile: an interrupted wait abandons it
        except _Abandoned:  # by another thread of this process: this writer copies for itself
            preparation = None
        with _started_lock:
            _started.pop(target, None)
    with _writer_lock(target, deadline=deadline):
        _separate(target)  # after a prepared copy, two stats: a build may have published since
        yield
    if preparation is None:  # else the preparation's thread deletes it
        with contextlib.suppress(OSError):
            _drop_retired(target)


def publish_snapshot(con: duckdb.DuckDBPyConnection, target: Path, *, delete_old: bool = False) -> Path:
    """Checkpoint and close ``con`` (the writer's connection to ``target``, its work committed), then
    publish the warehouse as the snapshot by atomic rename.

    The lock is held from before the close until the snapshot names the file, so that no writer opens
    the warehouse in between without first copying it. A warehouse another connection of this process
    still holds read-write (DuckDB shares one open database per file in a process, so closing ``con``
    does not close it) could be written after the publication: its snapshot is a copy instead.
    ``delete_old``: delete the replaced snapshot now rather than leave it to the next writer (an erasure
    leaves no copy of the person's rows behind).

    Raises :class:`TimeoutError` (the work stays committed, unpublished) when another writer holds the
    writers' lock for :data:`PUBLISH_WAIT_SECONDS`.
    """
    try:
        # on this connection, not on one opened again for it: opening the warehouse reads its catalogue again
        con.execute("CHECKPOINT")
        busy = (f"The work on {target.name} is committed, but its snapshot for the dashboards, notebooks and "
                f"report is not published: another writer held {_lock_path(target).name} for "
                f"{PUBLISH_WAIT_SECONDS:.0f} s. Run the same command again to publish it.")
        with _writer_lock(target, deadline=time.monotonic() + PUBLISH_WAIT_SECONDS, busy=busy):
            con.close()
            _publish_file(target, link=not _open_in_this_process(target))
    finally:
        con.close()
    if delete_old:
        _drop_retired(target)
    return snapshot_path(target)


def _open_in_this_process(target: Path) -> bool:
    """Whether a connection of this process still holds ``target`` read-write (~20 ms at 1M posts)."""
    import duckdb  # here, not at the top: the command line imports this module before the heavy libraries

    try:
        duckdb.connect(str(target), read_only=True).close()
    except duckdb.ConnectionException:  # "a different configuration than existing connections"
        return True
    return False


def _publish_file(target: Path, *, link: bool) -> None:
    snapshot = snapshot_path(target)
    fresh = snapshot.with_suffix(".tmp")
    with contextlib.suppress(FileNotFoundError):
        fresh.unlink()  # a killed publication's
    if link and _linked(target, fresh):
        _retire(snapshot, target)
    else:
        shutil.copyfile(target, fresh)
    os.replace(fresh, snapshot)


def _linked(target: Path, name: Path) -> bool:
    """Give ``target`` the second name ``name``; False on a file system without hard links."""
    try:
        os.link(target, name)
    except OSError as error:
        if error.errno not in _NO_LINKS:
            raise
        return False
    return True


def _retire(snapshot: Path, target: Path) -> None:
    """Keep the current snapshot's file under a second name, so the rename over it is not its deletion."""
    try:
        if _same_file(snapshot.stat(), target.stat()):
            return
    except FileNotFoundError:
        return
    _drop_retired(target)  # normally gone: this writer's copy-on-write thread deleted it
    try:
        os.link(snapshot, retired_path(target))
    except OSError as error:
        # e.g. another user's snapshot where the system protects hard links: the rename deletes it instead
        if error.errno not in _NO_LINKS:
            raise
