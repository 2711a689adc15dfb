"""Work shared between this process and spawned worker processes: how many cores there are, and chunks
of a batch claimed from both ends (this process from the back, workers from the front), so a worker still
starting up costs no wall time and neither side waits long for the other's last chunk.

Used by the build's text scan (:class:`analytics.adherence.ParallelScan`) and by sentiment scoring.
"""

from __future__ import annotations

import contextlib
import operator
import os
import signal
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

T = TypeVar("T")

__all__ = ["ALONE_MAX_TEXTS", "BLAS_THREAD_SETTINGS", "RUNNING_WORKER_MIN_TEXTS", "Pending", "available_cores",
           "claim_chunk", "done", "found_ahead", "front_claimed", "gathered", "leave_interrupts_to_the_parent",
           "lowest_priority", "new_claims", "numpy_on_small_pages", "one_blas_thread", "start_batch"]


#: A batch of this many texts or more is shared with a worker process that is running already (kept by a
#: long-lived process, or started ahead of a big batch): it costs no start-up, and at 10-20k texts per second
#: per core each side's part of a few thousand texts still takes a large part of a second.
RUNNING_WORKER_MIN_TEXTS = 2_000

#: A batch of fewer texts may be handed whole to a running worker, to score or scan alone while the process
#: that started it does other work (an update's ingest and build): one core's part of a second. Bigger
#: batches are shared (both cores on the one batch).
ALONE_MAX_TEXTS = 20_000


def done(value: T) -> Future:
    """A future already holding ``value``: work done at once, where other work is left to a worker."""
    future: Future = Future()
    future.set_result(value)
    return future


def found_ahead(keys: Sequence[Hashable], ahead: list[tuple[Sequence[Hashable], Future]],
                rest: Callable[[list[int]], Future]) -> tuple[list[tuple[Future, int]], list[Future]]:
    """Where the result for each of ``keys`` lies: in a batch a worker was given ahead (``ahead``: each
    batch's keys and its results to come; a key's first place there), else in ``rest`` of the positions of
    the keys not there (called once, if any). ``ahead`` is emptied: what was worked out ahead serves one call.

    Returns
    -------
    tuple
        For each key, its results' future and its position in them; and those futures, each once.

    Examples
    --------
    >>> ahead = [(["a", "b"], done(["A", "B"]))]
    >>> where, parts = found_ahead(["b", "c"], ahead, lambda missing: done([str(missing)]))
    >>> [part.result()[k] for part, k in where], len(parts), ahead
    (['B', '[1]'], 2, [])
    """
    found: dict[Hashable, tuple[Future, int]] = {}
    for batch_keys, future in ahead:
        for k, key in enumerate(batch_keys):
            found.setdefault(key, (future, k))
    ahead.clear()
    missing = [i for i, key in enumerate(keys) if key not in found]
    others = rest(missing) if missing else None
    positions = iter(range(len(missing)))
    where = [found[key] if key in found else (others, next(positions)) for key in keys]
    return where, list(dict.fromkeys(part for part, _ in where))


def gathered(keys: Sequence[Hashable], ahead: list[tuple[Sequence[Hashable], Future]],
             rest: Callable[[list[int]], Future], combine: Callable[[dict[Future, Any], list[tuple[Future, int]]], T]
             ) -> Pending[T]:
    """The results for ``keys``: those worked out ahead taken from there and the others from ``rest`` of their
    positions (:func:`found_ahead`), put together by ``combine(results by future, where)``; with nothing
    ahead, ``rest`` of every position is the result as it is (nothing to put together: one part, in order).

    Examples
    --------
    >>> def combine(results, where):
    ...     return [results[part][k] for part, k in where]
    >>> def rest(missing):
    ...     return done([f"new {k}" for k in missing])
    >>> gathered(["b", "c"], [(["a", "b"], done(["A", "B"]))], rest, combine).result()
    ['B', 'new 1']
    >>> gathered(["b", "c"], [], rest, combine).result()
    ['new 0', 'new 1']
    """
    if not ahead:
        return Pending([rest(list(range(len(keys))))], operator.itemgetter(0))
    where, parts = found_ahead(keys, ahead, rest)
    return Pending(parts, lambda results: combine(dict(zip(parts, results, strict=True)), where))


class Pending(Generic[T]):
    """A result made of parts workers may still be computing (futures): :meth:`result` waits for them and
    combines them, once.

    Examples
    --------
    >>> total = Pending([done(2), done(3)], sum)
    >>> total.done(), total.result()
    (True, 5)
    """

    def __init__(self, parts: Sequence[Future], combine: Callable[[list], T]) -> None:
        self._parts, self._combine = list(parts), combine
        self._value: tuple[T] | None = None

    def done(self) -> bool:
        """Whether every part is done (:meth:`result` then waits for nothing)."""
        return all(part.done() for part in self._parts)

    def result(self) -> T:
        """The parts' results combined (the parts' own errors raised)."""
        if self._value is None:
            self._value = (self._combine([part.result() for part in self._parts]),)
        return self._value[0]


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def lowest_priority() -> None:
    """Run this process at the lowest priority (Linux's ``SCHED_IDLE``): only on a core nothing else wants, so
    work done on the side never slows the process waiting for other work (elsewhere, the lowest nice level)."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        with contextlib.suppress(AttributeError, OSError):
            os.nice(19)


#: The settings of the thread pools of the BLAS libraries numpy may be built with (OpenBLAS, MKL, OpenMP).
BLAS_THREAD_SETTINGS = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")


def one_blas_thread() -> None:
    """Give numpy's BLAS one thread in this process (when numpy is not imported yet) and in every process it
    starts from now on, unless the user set a number: the commands use the cores with processes of their own
    (the ingest's helpers, the build's workers), and a BLAS thread pool in each only spins against the others.
    Measured on a million-post ingest: its side scorer got through ~90k texts with ~3 CPU-s, against ~50k with
    ~10 CPU-s with a pool of BLAS threads per process.
    """
    for name in BLAS_THREAD_SETTINGS:
        os.environ.setdefault(name, "1")


def numpy_on_small_pages() -> None:
    """Have numpy not ask for transparent huge pages for its big arrays, in this process (when numpy is not
    imported yet) and in every process it starts from now on, unless the user set ``NUMPY_MADVISE_HUGEPAGE``.
    Where the kernel makes a huge page at first touch by compacting memory (``defrag`` at ``madvise``, the
    kernel's default), the many big short-lived arrays of an ingest or a build waited for it: first touching
    a fresh 256 MB array took 1.3-1.8 s with huge pages, 0.11-0.17 s without; a million-post ingest took
    1.2 s less and a build 0.5 s less (three alternated pairs each).
    """
    os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")


def leave_interrupts_to_the_parent() -> None:
    """In a worker process: ignore Ctrl-C (SIGINT goes to the terminal's whole process group), since the
    process that started the worker stops it; each worker would otherwise print a traceback of its own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def new_claims(context: Any) -> Any:
    """A shared ``[batch, next chunk from the front, end of the chunks from the back]`` for ``context``'s
    processes (a ``multiprocessing`` context): no batch yet."""
    return context.Array("q", [0, 0, 0])


def start_batch(claims: Any, batch: int, chunks: int) -> None:
    """Open batch number ``batch`` of ``chunks`` chunks for claiming."""
    with claims.get_lock():
        claims[0], claims[1], claims[2] = batch, 0, chunks


def claim_chunk(claims: Any, batch: int, *, back: bool) -> int | None:
    """Take the next unclaimed chunk of ``batch`` from the front or the back; ``None`` when none is left
    (or ``batch`` is no longer the open one: a late worker task then does nothing).

    Examples
    --------
    >>> from multiprocessing import get_context
    >>> claims = new_claims(get_context("spawn"))
    >>> start_batch(claims, 1, 3)
    >>> claim_chunk(claims, 1, back=True), claim_chunk(claims, 1, back=False), claim_chunk(claims, 1, back=False)
    (2, 0, 1)
    >>> claim_chunk(claims, 1, back=True) is None, claim_chunk(claims, 2, back=False) is None
    (True, True)
    """
    with claims.get_lock():
        if claims[0] != batch or claims[1] >= claims[2]:
            return None
        if back:
            claims[2] -= 1
            return claims[2]
        claims[1] += 1
        return claims[1] - 1


def front_claimed(claims: Any) -> bool:
    """Whether a worker claimed any chunk of the open batch (else its task need not be waited for)."""
    return claims[1] > 0
