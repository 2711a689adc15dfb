"""Source adapters: one module per export format (see :mod:`analytics.sources.base`).

:func:`detect` picks the adapter of a file by its content; :data:`ADAPTER_MODULES` lists them in the
order ingest loads them: identities first, so every later file is scrubbed with the full roster; then the
files that need no posts (trainings, surveys), so this process works on them while a helper process still
reads a big posts export; then the posts, and last the files that link to posts (comments, incidents).
"""

from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path
from types import ModuleType

from analytics.sources.base import SourceError, is_xlsx

__all__ = [
    "ADAPTER_MODULES", "CODEBOOK_MODULES", "SourceError", "adapters", "detect", "format_title", "known_formats",
    "needs_codebook",
]

ADAPTER_MODULES = (
    "roster", "donors", "policy_versions",
    "trainings", "qualtrics", "qualtrics_legacy", "surveymonkey", "google_forms", "ms_forms",
    "x", "meta", "instagram", "linkedin", "mastodon", "monitoring",
    "comments", "incidents",
)
#: The adapters that read survey answers through the codebook.
CODEBOOK_MODULES = ("qualtrics", "qualtrics_legacy", "surveymonkey", "google_forms", "ms_forms")
_SNIFF_BYTES = 65536


@cache
def adapters() -> tuple[ModuleType, ...]:
    found = []
    for name in ADAPTER_MODULES:
        try:
            found.append(importlib.import_module(f"analytics.sources.{name}"))
        except ModuleNotFoundError as error:
            if error.name != f"analytics.sources.{name}":
                raise
    return tuple(found)


def _formats(module: ModuleType) -> list[tuple[str, str, object, object]]:
    """(format id, description, sniff, read) for each format a module offers (some offer two)."""
    if hasattr(module, "FORMATS"):
        return list(module.FORMATS)
    return [(module.FORMAT, module.DESCRIPTION, module.sniff, module.read)]


def known_formats() -> list[tuple[str, str]]:
    """Every format the workbook reads, as (id, description)."""
    return [(fmt, desc) for module in adapters() for fmt, desc, _, _ in _formats(module)]


def format_title(format_id: str) -> str:
    """What a reader calls the export of ``format_id``: its description without the columns it lists (the id
    itself for a format no adapter reads any more, still named in an older warehouse's log).

    >>> format_title("x_activity"), format_title("mastodon"), format_title("retired_format")
    ('X/Twitter tweet activity metrics CSV', 'Mastodon account archive', 'retired_format')
    """
    return next((description.partition(" (")[0] for fmt, description in known_formats() if fmt == format_id),
                format_id)


def load_order(format_id: str) -> int:
    for position, module in enumerate(adapters()):
        if any(fmt == format_id for fmt, _, _, _ in _formats(module)):
            return position
    return len(ADAPTER_MODULES)


def needs_codebook(format_id: str) -> bool:
    """Whether reading a file of ``format_id`` goes through the codebook (loading it costs a YAML parse).

    >>> needs_codebook("qualtrics"), needs_codebook("monitoring")
    (True, False)
    """
    return any(module.__name__.rpartition(".")[2] in CODEBOOK_MODULES
               and any(fmt == format_id for fmt, _, _, _ in _formats(module)) for module in adapters())


def detect(path: Path) -> tuple[str, object]:
    """The (format id, read function) of ``path``, decided by content.

    Raises :class:`SourceError` naming the file and listing the known formats when none (or more
    than one) matches.
    """
    path = Path(path)
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if not head.strip():
        raise SourceError(f"{path.name}: the file is empty; expected one of the known exports:\n{_format_list()}")
    matches = []
    for module in adapters():
        for fmt, _desc, sniff, read in _formats(module):
            try:
                if sniff(path, head):
                    matches.append((fmt, read))
            except Exception:  # a sniffer that cannot parse the head simply does not claim the file
                continue
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise SourceError(f"{path.name}: the file looks like several formats ({[m[0] for m in matches]}); "
                          "rename its columns to match one export exactly.")
    if is_xlsx(head):
        kind, start = "an .xlsx workbook", "not the workbook of a known export"
    elif head.startswith(b"PK\x03\x04"):
        kind, start = "a zip archive", "not the archive of a known export"
    elif b"\0" in head:  # what no text export holds: its first line would print as noise
        kind = "a DuckDB database" if head[8:12] == b"DUCK" else "a binary file"
        start = "not a text export"
    else:
        first_line = head.split(b"\n", 1)[0][:120].decode("utf-8", "replace")
        kind, start = "a file", f"it starts with {first_line!r}"
    raise SourceError(f"{path.name}: {kind} of no known format ({start}). Known formats:\n{_format_list()}")


def _format_list() -> str:
    return "\n".join(f"  - {fmt}: {desc}" for fmt, desc in known_formats())
