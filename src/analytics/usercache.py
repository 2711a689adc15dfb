"""Arrays this package can always make again, kept in the user's cache between processes.

Some arrays cost a process far more to make than to read back: the decompressed language model
(:mod:`analytics.sentiment`) and the t quantiles of the metrics' confidence intervals
(:mod:`analytics.metrics`, where making them means importing scipy). Each kind lives in a folder named by a
key of whatever it is made from, ``<kind>-<key>``, so a copy made from anything else is never read, and
writing one deletes the kind's folders of other keys; a folder is written under a temporary name and
renamed into place, and every array is checked against its :func:`checksum` when read, so a partial or
damaged copy is made again instead of being used.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

__all__ = ["cache_dir", "checksum", "read_arrays", "write_arrays"]


def cache_dir() -> Path:
    """Where this package keeps files it can always make again (``$XDG_CACHE_HOME/policy-pulse``).

    Returns
    -------
    Path
        The folder (not necessarily there yet).

    Examples
    --------
    >>> cache_dir().name
    'policy-pulse'
    """
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "policy-pulse"


def read_arrays(folder: Path, names: Sequence[str]) -> dict[str, np.ndarray] | None:
    """The arrays :func:`write_arrays` put in ``folder``, memory-mapped read-only; None when there are
    none to use.

    Parameters
    ----------
    folder : Path
        A folder written by :func:`write_arrays`.
    names : sequence of str
        The arrays it must hold, no more, no fewer.

    Returns
    -------
    dict or None
        Array by name; None when the folder is missing, holds other arrays, or an array is damaged: the
        caller makes the arrays again.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as place:
    ...     write_arrays(Path(place) / "squares-1", {"squares": np.arange(4) ** 2})
    ...     read_arrays(Path(place) / "squares-1", ["squares"])["squares"].tolist()
    [0, 1, 4, 9]
    """
    try:
        checksums = json.loads((folder / "checksums.json").read_text())
        if sorted(checksums) != sorted(names):
            return None
        arrays = {}
        for name in names:
            # mapped, not read: the pages are shared with other processes and read once from disk
            array = np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False)
            if checksum(array) != checksums[name]:
                return None
            arrays[name] = array
    except (OSError, ValueError, TypeError):  # missing, unreadable, not an array file
        return None
    return arrays


def write_arrays(folder: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Put ``arrays`` in ``folder`` (replacing what is there) for :func:`read_arrays`, and delete the
    folders of the same kind (the name's part before its first ``-``) under other keys: superseded.

    Parameters
    ----------
    folder : Path
        Where, named ``<kind>-<key>``; its parents are made.
    arrays : mapping of str to ndarray
        Array by name; no object arrays.

    Raises
    ------
    OSError
        The folder cannot be written; a caller that can make the arrays again only loses time.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as place:
    ...     write_arrays(Path(place) / "squares-1", {"squares": np.arange(4) ** 2})
    ...     write_arrays(Path(place) / "squares-2", {"squares": np.arange(5) ** 2})
    ...     sorted(path.name for path in Path(place).iterdir())
    ['squares-2']
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        for name, array in arrays.items():
            np.save(temporary / f"{name}.npy", array, allow_pickle=False)
        # written last: a folder without it is never read
        checksums = {name: checksum(array) for name, array in arrays.items()}
        (temporary / "checksums.json").write_text(json.dumps(checksums))
        if folder.exists():  # damaged or stale under the same key: replaced
            shutil.rmtree(folder, ignore_errors=True)
        os.replace(temporary, folder)
        kind = folder.name.split("-")[0]
        for other in folder.parent.glob(f"{kind}-*"):
            if other != folder:
                shutil.rmtree(other, ignore_errors=True)
    finally:
        # another process may have put its copy in place first: this one is then dropped
        shutil.rmtree(temporary, ignore_errors=True)


#: Bytes summed into one word of :func:`checksum`: a page.
_CHECKSUM_BLOCK = 4096


def checksum(array: np.ndarray) -> int:
    """CRC-32 of the wrapping 64-bit sums of the array's 4 KiB blocks, and of its last partial block.

    A flipped bit, a zeroed, torn or swapped page, or a truncation changes it, like a CRC-32 of every byte,
    at memory speed: each process checks the 98 MB of the language model's arrays in ~7 ms instead of ~30 ms.

    Parameters
    ----------
    array : ndarray
        Any array without objects.

    Returns
    -------
    int
        The checksum of its bytes in C order.

    Examples
    --------
    >>> checksum(np.arange(1000)) == checksum(np.arange(1000))
    True
    >>> checksum(np.arange(1000)) == checksum(np.arange(999))
    False
    """
    raw = np.ascontiguousarray(array).reshape(-1).view(np.uint8)
    whole = len(raw) - len(raw) % _CHECKSUM_BLOCK
    sums = raw[:whole].view(np.uint64).reshape(-1, _CHECKSUM_BLOCK // 8).sum(axis=1, dtype=np.uint64)
    return zlib.crc32(raw[whole:], zlib.crc32(sums))
