"""The hostile corpus's files as lines of text, for fast paths compared with their plain ones."""

from __future__ import annotations

from pathlib import Path

from analytics import privacy

HOSTILE_FILES = Path(__file__).resolve().parent / "hostile" / "files"


def hostile_lines() -> list[str]:
    """Every line of every hostile file, decoded as the first of UTF-8, UTF-16, cp1252 that reads it,
    without the lines holding a lone surrogate (DuckDB cannot take them; the scrubber keeps such texts
    off its batch path)."""
    lines = []
    for path in sorted(HOSTILE_FILES.iterdir()):
        data = path.read_bytes()
        for encoding in ("utf-8", "utf-16", "cp1252"):
            try:
                lines += data.decode(encoding).splitlines()
                break
            except UnicodeDecodeError:
                continue
    return [line for line in lines if not privacy._SURROGATE_RE.search(line)]
