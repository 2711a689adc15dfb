"""An edit of a configuration file that a loader keyed on the file's size and modification time would miss."""

from __future__ import annotations

import os
from pathlib import Path


def rewrite_keeping_stat(path: Path, text: str) -> None:
    """Write ``text`` (as long as the file's content) into ``path`` and put its modification time back, as
    ``cp -p``, ``rsync -t`` or a save within the file system's clock step leave it."""
    before = path.stat()
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns), "the edit changed the size"
