"""Keep the warehouse current with a folder of exports: what ``policy-pulse watch`` runs.

A long-lived process answers a new export faster than a new command: its libraries, sentiment model,
rules and taxonomy are loaded once, and after each publication it copies the warehouse for the next
write at once (:func:`analytics.snapshots.prepare`), while nothing waits for it. An export is handed
on once it is whole: its size and modification time unchanged over one interval (a download or a copy
still writing it changes them), last modified an interval or more before (a file moved into the folder),
or renamed into the folder since the last look (a browser's download when it finishes, a file moved in).

The folder is looked at every interval, and on Linux also at once when a file is moved into it or one of
its subfolders, or closed after writing (the kernel's inotify): an export moved in is handed on in a moment
whatever the interval, and a longer interval costs nothing but the wait for a file written in place.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import stat
import struct
import threading
import time
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from analytics.ingest import is_export_candidate

if TYPE_CHECKING:
    from analytics.build import PostsAsBuilt
    from analytics.privacy import Scrubber

__all__ = ["Interruption", "PostsCheckedAhead", "check_arguments", "settled_files", "warm_up", "watch", "workers_kept"]

_Signature = tuple[int, int]


def _signatures(folder: Path, ignore: frozenset[Path] = frozenset()) -> tuple[dict[Path, _Signature], list[Path]]:
    """Size and modification time (ns) of every file under ``folder`` that may be an export
    (:func:`analytics.ingest.is_export_candidate`: a download paused longer than an interval under a temporary
    name would otherwise look whole) but those in ``ignore`` or under a folder in it (absolute paths, as
    ``folder``); and the folders they are in (``folder`` and its subfolders but hidden or ignored ones)."""
    found, folders = {}, [folder]
    for path in folder.rglob("*"):
        ignored = bool(ignore) and (path in ignore or not ignore.isdisjoint(path.parents))
        if ignored or not is_export_candidate(path, folder):
            continue
        try:
            status = path.stat()
        except FileNotFoundError:  # gone between the listing and the look
            continue
        if stat.S_ISREG(status.st_mode):
            found[path] = (status.st_size, status.st_mtime_ns)
        elif stat.S_ISDIR(status.st_mode):
            folders.append(path)
    return found, folders


class _Changes:
    """The kernel's word that a file was moved into, or closed after writing in, a folder followed (Linux's
    inotify): :meth:`wait` then ends before its time. Without inotify (another system, or the kernel's limit on
    watches reached) the wait lasts its time, and the watch looks as often as its interval says."""

    # from <sys/inotify.h>: a name moved in, a file written and closed, a name created (a new subfolder's
    # files are then followed from the next look on), the watch removed (its folder deleted)
    _MOVED_TO, _CLOSE_WRITE, _CREATE, _IGNORED = 0x80, 0x08, 0x100, 0x8000
    _EVENT = struct.Struct("iIII")  # wd, mask, cookie, length of the name that follows
    #: How often a wait checks its ``stop`` (a :class:`threading.Event` cannot wake a ``poll``).
    _STOP_CHECK = 0.1

    def __init__(self) -> None:
        self._libc = self._fd = self._poll = None
        self._followed: dict[Path, int] = {}
        try:
            libc = ctypes.CDLL(None, use_errno=True)  # the C library the interpreter is linked with
        except (OSError, TypeError):  # Windows: no such thing
            libc = None
        if libc is not None and hasattr(libc, "inotify_init1"):
            fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
            if fd >= 0:
                self._libc, self._fd = libc, fd
                # poll, not select: select refuses descriptors past 1023, which a busy process may reach
                self._poll = select.poll()
                self._poll.register(fd, select.POLLIN)

    def follow(self, folders: list[Path]) -> None:
        """Be told of the changes in ``folders`` too (those followed already stay followed)."""
        if self._fd is None:
            return
        mask = self._MOVED_TO | self._CLOSE_WRITE | self._CREATE
        for folder in folders:
            if folder not in self._followed:
                number = self._libc.inotify_add_watch(self._fd, os.fsencode(folder), mask)
                if number >= 0:  # else gone meanwhile, or past the limit: looked at every interval all the same
                    self._followed[folder] = number

    def wait(self, seconds: float, stop: threading.Event) -> set[Path]:
        """Wait ``seconds``, or until a change in a folder followed, or ``stop`` is set; return the paths
        renamed or moved into a folder followed meanwhile."""
        deadline = time.monotonic() + seconds
        while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
            if self._fd is None:
                stop.wait(left)
                return set()
            if self._poll.poll(1000 * min(left, self._STOP_CHECK)):
                return self._read_events()
        return set()

    def _read_events(self) -> set[Path]:
        try:
            events = os.read(self._fd, 64 * 1024)
        except BlockingIOError:
            return set()
        folders = {number: path for path, number in self._followed.items()}
        gone, moved, offset = set(), set(), 0
        while offset < len(events):
            number, mask, _cookie, length = self._EVENT.unpack_from(events, offset)
            name = events[offset + self._EVENT.size:offset + self._EVENT.size + length].rstrip(b"\0")
            offset += self._EVENT.size + length
            if mask & self._IGNORED:
                gone.add(number)
            elif mask & self._MOVED_TO and number in folders:
                moved.add(folders[number] / os.fsdecode(name))
        if gone:  # a folder deleted: followed again if it comes back
            self._followed = {path: number for path, number in self._followed.items() if number not in gone}
        return moved

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def settled_files(now: dict[Path, _Signature], before: dict[Path, _Signature],
                  handed: dict[Path, _Signature], *, quiet_since: int | None = None,
                  renamed: Collection[Path] = ()) -> list[Path]:
    """The files to hand on: whole, and not handed on already as they are (``handed``), sorted by name. A
    file is whole when it is unchanged between the last look (``before``) and this one (``now``), or, with
    ``quiet_since`` (a time in nanoseconds), when it was last modified by then: a file moved or renamed
    into the folder keeps its modification time, so it need not wait for a second look. A file in
    ``renamed`` (renamed into the folder since the last look) is whole too: a browser renames its download
    once finished, and that finish is its modification time.

    Examples
    --------
    >>> a, b = Path("a.csv"), Path("b.csv")
    >>> settled_files({a: (10, 1), b: (20, 2)}, {a: (10, 1), b: (5, 1)}, {})
    [PosixPath('a.csv')]
    >>> settled_files({a: (10, 1)}, {a: (10, 1)}, {a: (10, 1)})
    []
    >>> settled_files({a: (10, 1), b: (20, 9)}, {}, {}, quiet_since=5)
    [PosixPath('a.csv')]
    >>> settled_files({a: (10, 1), b: (20, 9)}, {}, {}, quiet_since=5, renamed={b})
    [PosixPath('a.csv'), PosixPath('b.csv')]
    """
    return sorted(path for path, signature in now.items()
                  if (before.get(path) == signature or path in renamed
                      or (quiet_since is not None and signature[1] <= quiet_since))
                  and handed.get(path) != signature)


def warm_up(target: Path | None = None) -> None:
    """Load what an update needs, once: the libraries, the sentiment lexicon and language model, the rules
    and the taxonomy (each is cached and read again when its file changes). With the warehouse ``target``,
    also build the scrubber of its roster, compile its pattern of all values (which every update's scrub then
    uses) and run it, the rules and the themes over its newest texts: RE2 builds its automata's states as
    texts need them, so without this the first update pays for them."""
    # imported to load them, as the readers of every export format
    from analytics import adherence, build, engagement, ingest, metrics, sentiment, sources, themes  # noqa: F401

    sources.adapters()
    sentiment.polarity_scores("ready")
    sentiment.is_confidently_not_english("Das ist wirklich eine sehr gute Nachricht für unsere Stadt")
    rules, taxonomy = adherence.load_rules(), themes.load_taxonomy()
    if target is None:
        return
    texts, scrubber = _newest_texts_and_scrubber(target)
    if texts:
        scrubber.compile_all()
        scrubber.scrub_many(texts)
        # in the worker :func:`workers_kept` keeps too, if any: the build's scans share update-sized batches with it
        with adherence.parallel_scan(rules, taxonomy) as scan:
            scan.scan(texts, [True] * len(texts), themed=True)


@contextlib.contextmanager
def workers_kept() -> Iterator[None]:
    """Keep the sentiment scorer's and the rules scan's worker processes running for the block (one per
    other core): an update's few thousand texts are then scored and scanned on every core, with no start-up
    to pay (see :func:`analytics.sentiment.workers_kept`, :func:`analytics.adherence.scan_kept`)."""
    from analytics import adherence, sentiment, themes

    with sentiment.workers_kept(), adherence.scan_kept(adherence.load_rules(), themes.load_taxonomy()):
        yield


#: Texts :func:`warm_up` runs the scans over: about the size of an update (their automata's states mostly
#: built by then; a full build's million texts need more of them, and build them in its first batches).
_WARM_TEXTS = 5_000


def _newest_texts_and_scrubber(target: Path) -> tuple[list[str], Scrubber | None]:
    """The newest posts' texts in the warehouse's published snapshot, and the scrubber an ingest into
    ``target`` would build; no texts (and no scrubber) before the first build."""
    from analytics import config, warehouse
    from analytics.privacy import Vault, load_key

    try:
        with warehouse.read_only(target) as con:
            people = warehouse.employee_keys(con)
            texts = [text for (text,) in con.execute(
                "SELECT text FROM posts WHERE text IS NOT NULL ORDER BY published_at DESC LIMIT ?",
                [_WARM_TEXTS]).fetchall()]
    except (warehouse.WarehouseMissing, warehouse.WarehouseBusy, duckdb.CatalogException):
        return [], None
    vault = Vault.for_warehouse(target, load_key(), people=people)
    return texts, vault.scrubber(keep_domains=config.get_settings().organisation_domains)


class PostsCheckedAhead:
    """The check an update's build needs, that the posts are as the last build left them
    (:func:`analytics.build.posts_as_built`: a pass over every post's columns), made on a thread while the
    watcher waits for exports, once the copy for the next write is made (:func:`analytics.snapshots.prepare`):
    the update then ingests without it beside it.

    Call :meth:`wait` before the update opens the warehouse (the check reads it), and :meth:`result` once it
    has it open: the check, or None when the warehouse file changed since (another writer came between; the
    update checks for itself) or could not be checked.

    Not a daemon: the interpreter waits for the check at exit. A daemon thread still in DuckDB when the
    interpreter shuts down is ended by Python as it returns, and the C++ it unwinds through aborts the process
    (``FATAL: exception not rethrown``) -- what a stop signal landing just after an update, before the
    watcher held the new check to wait for, did."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self._found: tuple[tuple[int, ...], PostsAsBuilt] | None = None
        self._thread = threading.Thread(target=self._check, name="posts-check-ahead")
        self._thread.start()

    def _check(self) -> None:
        from analytics import build, snapshots, warehouse

        snapshots.prepared(self.target)
        with contextlib.suppress(Exception):  # e.g. another writer has it: the update checks for itself
            with warehouse.read_only(self.target, snapshot=False) as con:
                checked = build.posts_as_built(con)
            self._found = (_identity(self.target), checked)

    def wait(self) -> None:
        """Wait for the check (it has the warehouse open meanwhile)."""
        self._thread.join()

    def result(self) -> PostsAsBuilt | None:
        """The check, if the warehouse file is the one checked."""
        self.wait()
        if self._found is None or self._found[0] != _identity(self.target):
            return None
        return self._found[1]


class Interruption:
    """A handler of SIGINT and SIGTERM that raises :class:`KeyboardInterrupt`, as Python's own does for Ctrl-C,
    and first sets ``stop``: Python ignores an exception raised while it runs a weakref callback or a finaliser,
    so an interruption landing there would be lost; :func:`watch`, given ``stop``, ends at its next look."""

    def __init__(self) -> None:
        self.stop = threading.Event()

    def __call__(self, _signal: int, _frame: object) -> None:
        self.stop.set()
        raise KeyboardInterrupt


def _identity(path: Path) -> tuple[int, ...]:
    """What changes when a file is written or replaced: its inode, size, and modification and change times."""
    status = path.stat()
    return status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns


def check_arguments(folder: Path, every: float) -> None:
    """Raise :class:`ValueError`, saying what to give instead, unless :func:`watch` can look at ``folder``
    every ``every`` seconds (checked before anything is loaded)."""
    if every <= 0:
        raise ValueError(f"every must be a positive number of seconds, not {every}.")
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder; give the folder new exports are saved to.")


def watch(folder: Path, *, every: float, update: Callable[[list[Path]], bool],
          stop: threading.Event | None = None, ignore: Collection[Path] = ()) -> None:
    """Call ``update`` with the exports under ``folder`` that are new or changed once they are whole,
    looking every ``every`` seconds, and at once when the kernel says a file was moved in or written (see the
    module's notes), until ``stop`` is set (or forever). Exports there at the start are handed on too: ingest
    skips bytes it loaded before. ``update`` returns whether it is done with them; if not, they are handed
    on again at the next look. Files (and folders) in ``ignore`` are not exports: the warehouse's own
    (:func:`analytics.snapshots.own_files`), which each update changes, would otherwise call the next one.
    """
    check_arguments(folder, every)
    stop = stop or threading.Event()
    folder, ignored = folder.resolve(), frozenset(Path(path).resolve() for path in ignore)
    before: dict[Path, _Signature] = {}
    before_at = None  # when ``before`` was looked at: a file unchanged since is whole only an interval later
    handed: dict[Path, _Signature] = {}
    renamed: set[Path] = set()  # renamed or moved in since the last look
    changes = _Changes()
    try:
        while not stop.is_set():
            looked_at = time.monotonic()
            quiet_since = time.time_ns() - int(every * 1e9)  # before the listing: a file written meanwhile is newer
            now, folders = _signatures(folder, ignored)
            changes.follow(folders)
            # a look a change called early compares with no earlier look: a file being written may not have
            # grown in the moment between them
            timed = before_at is None or looked_at - before_at >= every
            ready = settled_files(now, before if timed else {}, handed, quiet_since=quiet_since, renamed=renamed)
            if ready and update(ready):
                handed.update({path: now[path] for path in ready})
            if timed:
                before, before_at = now, looked_at
            renamed = changes.wait(before_at + every - time.monotonic(), stop)
    finally:
        changes.close()
