"""Work shared between this process and spawned worker processes: how many cores there are, and chunks
of a batch claimed from both ends (this process from the back, workers from the front), so a worker still
starting up costs no wall time and neither side waits long for the other's last chunk.

Used by the build's text scan (:class:`analytics.adherence.ParallelScan`) and by sentiment scoring.
"""

from __future__ import annotations

import os
import signal
from typing import Any

__all__ = ["RUNNING_WORKER_MIN_TEXTS", "available_cores", "claim_chunk", "front_claimed",
           "leave_interrupts_to_the_parent", "new_claims", "start_batch"]


#: A batch of this many texts or more is shared with a worker process that is running already (kept by a
#: long-lived process, or started ahead of a big batch): it costs no start-up, and at 10-20k texts per second
#: per core each side's part of a few thousand texts still takes a large part of a second.
RUNNING_WORKER_MIN_TEXTS = 2_000


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


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
