"""Keep the warehouse current with a folder of exports: what ``policy-pulse watch`` runs.

A long-lived process answers a new export faster than a new command: its libraries, sentiment model,
rules and taxonomy are loaded once, and after each publication it copies the warehouse for the next
write at once (:func:`analytics.snapshots.prepare`), while nothing waits for it. An export is handed
on once it is whole: its size and modification time unchanged over one interval (a download or a copy
still writing it changes them).
"""

from __future__ import annotations

import stat
import threading
from collections.abc import Callable
from pathlib import Path

__all__ = ["settled_files", "warm_up", "watch"]

_Signature = tuple[int, int]

#: Endings of the names browsers and copy tools give a file while they write it (renamed when done).
_UNFINISHED = (".part", ".partial", ".crdownload", ".download", ".tmp", "~")


def _signatures(folder: Path) -> dict[Path, _Signature]:
    """Size and modification time of every file under ``folder`` but hidden ones and those still being
    written under a temporary name (:data:`_UNFINISHED`): a download paused longer than an interval would
    otherwise look whole."""
    found = {}
    for path in folder.rglob("*"):
        if any(part.startswith(".") for part in path.relative_to(folder).parts) or path.name.endswith(_UNFINISHED):
            continue
        try:
            status = path.stat()
        except FileNotFoundError:  # gone between the listing and the look
            continue
        if stat.S_ISREG(status.st_mode):
            found[path] = (status.st_size, status.st_mtime_ns)
    return found


def settled_files(now: dict[Path, _Signature], before: dict[Path, _Signature],
                  handed: dict[Path, _Signature]) -> list[Path]:
    """The files to hand on: unchanged between the last look (``before``) and this one (``now``), and not
    handed on already as they are (``handed``), sorted by name.

    Examples
    --------
    >>> a, b = Path("a.csv"), Path("b.csv")
    >>> settled_files({a: (10, 1), b: (20, 2)}, {a: (10, 1), b: (5, 1)}, {})
    [PosixPath('a.csv')]
    >>> settled_files({a: (10, 1)}, {a: (10, 1)}, {a: (10, 1)})
    []
    """
    return sorted(path for path, signature in now.items()
                  if before.get(path) == signature and handed.get(path) != signature)


def warm_up() -> None:
    """Load what an update needs, once: the libraries, the sentiment lexicon and language model, the rules
    and the taxonomy (each is cached and read again when its file changes)."""
    from analytics import adherence, build, ingest, sentiment, themes  # noqa: F401  (imported to load them)

    sentiment.polarity_scores("ready")
    sentiment.is_confidently_not_english("Das ist wirklich eine sehr gute Nachricht für unsere Stadt")
    adherence.load_rules()
    themes.load_taxonomy()


def watch(folder: Path, *, every: float, update: Callable[[list[Path]], bool],
          stop: threading.Event | None = None) -> None:
    """Call ``update`` with the exports under ``folder`` that are new or changed once they are whole,
    looking every ``every`` seconds, until ``stop`` is set (or forever). Exports there at the start are
    handed on too: ingest skips bytes it loaded before. ``update`` returns whether it is done with them;
    if not, they are handed on again at the next look.
    """
    if every <= 0:
        raise ValueError(f"every must be a positive number of seconds, not {every}.")
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder; give the folder new exports are saved to.")
    stop = stop or threading.Event()
    before: dict[Path, _Signature] = {}
    handed: dict[Path, _Signature] = {}
    while not stop.is_set():
        now = _signatures(folder)
        ready = settled_files(now, before, handed)
        if ready and update(ready):
            handed.update({path: now[path] for path in ready})
        before = now
        stop.wait(every)
