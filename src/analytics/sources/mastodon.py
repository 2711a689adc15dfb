"""Mastodon account archive, or its bare ``outbox.json`` (format ``mastodon``).

The archive (.zip or .tar.gz, as Mastodon's "Request your archive" produces) holds ``outbox.json`` – an
ActivityStreams ``OrderedCollection`` whose ``orderedItems`` are ``Create`` activities (the ``object``
is a ``Note`` with HTML ``content``, ``published``, ``url``, ``id``) and ``Announce`` activities (boosts)
– plus ``actor.json`` and media, which are not read.

Mapping: post_id = the status id (last number of the status URL; a monitoring CSV takes the same id
from a post URL, so the two meet), text = the HTML content as plain text (tags stripped, ``<p>`` and
``<br>`` kept as line breaks, entities unescaped, emoji kept), url = the status ``url``. A boost
(``Announce``) is a row with ``is_share`` True, empty text and ``shared_url`` = the boosted post.
handle = ``user@instance``: ``preferredUsername`` from ``actor.json`` and the host of its ``id``, else
from the activity's ``actor`` (or ``attributedTo``) URL. Mastodon reports no impressions or reach (NaN);
reactions / shares / comments come from the object's ``likes`` / ``shares`` / ``replies`` collections'
``totalItems`` when the export carries them, else NaN. ``metrics_as_of`` is NaT (the archive says not
when it was made).

A direct message (addressed neither to the public nor to followers) is a private conversation, not a
post: it is rejected with that reason and only its id is kept in the reject.
"""

from __future__ import annotations

import html
import json
import re
import tarfile
import zipfile
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from analytics.privacy import replace_lone_surrogates
from analytics.sources._posts import PostRecords, posts_frame
from analytics.sources.base import Parsed, ReadContext, SourceError, is_xlsx

__all__ = ["DESCRIPTION", "FORMAT", "TABLES", "html_to_text", "read", "sniff"]

FORMAT = "mastodon"
DESCRIPTION = "Mastodon account archive (.zip/.tar.gz with outbox.json and actor.json) or a bare outbox.json"
TABLES = ("posts",)

_PUBLIC = {"https://www.w3.org/ns/activitystreams#Public", "as:Public", "Public"}
_STATUS_ID = re.compile(r"/(?:statuses|@[^/]+)/(\d+)(?:/activity)?/?$")
_ACTOR_PATH = re.compile(r"^/(?:users/|@)([^/]+)")
_FIELDS = ("id", "published", "url", "text", "likes", "shares", "replies")


# --- HTML content -> text ----------------------------------------------------------------------------

class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p" and self.parts:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(content: str) -> str:
    """Mastodon's HTML ``content`` as the text a reader sees: paragraphs and line breaks kept.

    >>> html_to_text('<p>Hello &amp; welcome 🎉</p><p>line one<br />line <a href="https://x.y/z">'
    ...              '<span class="invisible">https://</span><span>x.y/z</span></a></p>')
    'Hello & welcome 🎉\\n\\nline one\\nline https://x.y/z'
    """
    collector = _TextCollector()
    collector.feed(content)
    collector.close()
    return html.unescape("".join(collector.parts)).strip()


# --- finding the files -------------------------------------------------------------------------------

def _member(names: list[str], wanted: str) -> str | None:
    hits = sorted((n for n in names if PurePosixPath(n).name == wanted), key=lambda n: n.count("/"))
    return hits[0] if hits else None


def _archive_kind(path: Path, head: bytes) -> str | None:
    if head.startswith(b"PK\x03\x04") and not is_xlsx(head):
        return "zip"
    if head.startswith(b"\x1f\x8b"):
        return "tar"
    return None


def _looks_like_outbox(head: bytes) -> bool:
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n")
    return text.startswith("{") and '"orderedItems"' in text and '"OrderedCollection"' in text


def sniff(path: Path, head: bytes) -> bool:
    """A bare ``outbox.json`` (OrderedCollection with orderedItems), or a .zip/.tar.gz holding one."""
    kind = _archive_kind(path, head)
    if kind == "zip":
        try:
            with zipfile.ZipFile(path) as archive:
                return _member(archive.namelist(), "outbox.json") is not None
        except (zipfile.BadZipFile, OSError):
            return False
    if kind == "tar":
        try:
            with tarfile.open(path, mode="r|gz") as archive:
                return any(PurePosixPath(m.name).name == "outbox.json" for m in archive)
        except (tarfile.TarError, OSError, EOFError):
            return False
    return _looks_like_outbox(head)


def _load_json(path: Path, name: str, data: bytes) -> Any:
    try:
        text = data.decode("utf-8-sig")
        # JSON may escape half a surrogate pair ("\\ud800"), which no stored text can hold: it is read as
        # the replacement character U+FFFD, as an undecodable byte would be
        if "\\u" in text:
            return _valid_value(json.loads(text, object_pairs_hook=_valid_strings))
        return json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SourceError(f"{path.name}: expected {name} to be JSON, found invalid JSON ({error})") from error


def _valid_strings(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object with each lone surrogate in its keys, string values and lists of strings as U+FFFD."""
    return {replace_lone_surrogates(key): _valid_value(value) for key, value in pairs}


def _valid_value(value: Any) -> Any:
    if isinstance(value, str):
        return replace_lone_surrogates(value)
    if isinstance(value, list):
        return [_valid_value(v) for v in value]
    return value  # objects were made valid by their own hook


def _load(path: Path) -> tuple[Any, Any]:
    """The outbox and the actor (None when the file is a bare outbox or the archive lacks actor.json)."""
    head = path.read_bytes()[: 1 << 16]
    kind = _archive_kind(path, head)
    members: dict[str, bytes] = {}
    try:
        if kind == "zip":
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
                for wanted in ("outbox.json", "actor.json"):
                    member = _member(names, wanted)
                    if member:
                        members[wanted] = archive.read(member)
        elif kind == "tar":
            with tarfile.open(path, mode="r:gz") as archive:
                names = [m.name for m in archive.getmembers() if m.isfile()]
                for wanted in ("outbox.json", "actor.json"):
                    member = _member(names, wanted)
                    extracted = archive.extractfile(member) if member else None
                    if extracted is not None:
                        members[wanted] = extracted.read()
        else:
            return _load_json(path, "the file", path.read_bytes()), None
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError) as error:
        raise SourceError(f"{path.name}: expected a Mastodon archive (.zip/.tar.gz), found an unreadable "
                          f"archive ({error})") from error
    if "outbox.json" not in members:
        raise SourceError(f"{path.name}: expected a Mastodon archive containing outbox.json, found "
                          f"{sorted(names)[:20]}")
    actor = _load_json(path, "actor.json", members["actor.json"]) if "actor.json" in members else None
    return _load_json(path, "outbox.json", members["outbox.json"]), actor


# --- activities -> rows ------------------------------------------------------------------------------

def _handle_from_url(url: Any, username: Any = None) -> str | None:
    if not isinstance(url, str) or not url:
        return None
    parts = urlsplit(url)
    match = _ACTOR_PATH.match(parts.path)
    user = username if isinstance(username, str) and username else (match.group(1) if match else None)
    return f"{user}@{parts.hostname}" if user and parts.hostname else None


def _status_id(url: Any) -> str | None:
    if not isinstance(url, str) or not url:
        return None
    match = _STATUS_ID.search(url)
    return match.group(1) if match else url


def _total(collection: Any) -> Any:
    return collection.get("totalItems") if isinstance(collection, dict) else None


def _addressees(*holders: Any) -> set[str]:
    found: set[str] = set()
    for holder in holders:
        if not isinstance(holder, dict):
            continue
        for key in ("to", "cc"):
            value = holder.get(key)
            found.update([value] if isinstance(value, str) else [v for v in value or [] if isinstance(v, str)])
    return found


def _is_direct(activity: dict[str, Any], note: Any) -> bool:
    addressees = _addressees(activity, note)
    if not addressees:
        return False
    return not (addressees & _PUBLIC) and not any(a.endswith("/followers") for a in addressees)


def _row(item: Any) -> tuple[list[Any], str | None, str | None, str | None]:
    """One activity as ``(cells, shared_url, reason, raw override)`` in the order of ``_FIELDS``."""
    empty = [None] * len(_FIELDS)
    if not isinstance(item, dict):
        return empty, None, f"not an activity: {type(item).__name__}", None
    kind = item.get("type")
    note = item.get("object")
    if kind == "Announce":
        boosted = note.get("id") if isinstance(note, dict) else note
        cells = [_status_id(item.get("id")), item.get("published"), None, "", None, None, None]
        return cells, boosted if isinstance(boosted, str) else None, None, None
    if kind != "Create":
        return empty, None, f"activity type {kind!r} is neither a post (Create) nor a boost (Announce)", None
    if not isinstance(note, dict):
        return empty, None, "the Create activity does not embed its post (object is only a link)", None
    if _is_direct(item, note):
        return empty, None, "direct message: a private conversation, not a post; not loaded", str(item.get("id"))
    content = note.get("content")
    if not isinstance(content, str):
        content_map = note.get("contentMap")
        content = next(iter(content_map.values()), "") if isinstance(content_map, dict) and content_map else ""
    url = note.get("url") if isinstance(note.get("url"), str) else None
    cells = [
        _status_id(note.get("id") or url),
        note.get("published") or item.get("published"),
        url,
        html_to_text(content),
        _total(note.get("likes")),
        _total(note.get("shares")),
        _total(note.get("replies")),
    ]
    return cells, None, None, None


def read(path: Path, context: ReadContext) -> Parsed:
    """Read a Mastodon archive or bare outbox into the ``posts`` staging table."""
    outbox, actor = _load(path)
    items = outbox.get("orderedItems") if isinstance(outbox, dict) else None
    if not isinstance(items, list):
        found = sorted(outbox)[:20] if isinstance(outbox, dict) else type(outbox).__name__
        raise SourceError(f"{path.name}: expected an ActivityStreams outbox with 'orderedItems', found {found}")
    records, raws, shared, reasons = [], [], [], []
    for number, item in enumerate(items, start=1):
        cells, shared_url, reason, raw = _row(item)
        records.append((number, cells))
        raws.append(raw if raw is not None else json.dumps(item, ensure_ascii=False))
        shared.append(shared_url)
        reasons.append(reason)
    table = PostRecords.from_rows(path, list(_FIELDS), records, fields={f: (f,) for f in _FIELDS},
                                  required=("id", "published"), expected="a Mastodon outbox", raws=raws)

    own = None
    if isinstance(actor, dict):
        own = _handle_from_url(actor.get("id"), actor.get("preferredUsername"))
    fallback = _handle_from_url(outbox.get("actor")) if isinstance(outbox.get("actor"), str) else None
    handles = []
    for item in items:
        note = item.get("object") if isinstance(item, dict) else None
        author = item.get("actor") if isinstance(item, dict) else None
        if not isinstance(author, str) and isinstance(note, dict):
            author = note.get("attributedTo")
        handles.append(own or _handle_from_url(author) or fallback)

    ids = table.ids("id")
    published = table.times("published", context=context)
    metrics = table.metrics(("likes", "shares", "replies"))
    frame = posts_frame(
        len(table),
        platform="mastodon",
        post_id=ids,
        handle=handles,
        published_at=published,
        text=table.text("text").fillna(""),
        url=table.text("url"),
        reactions=metrics["likes"],
        shares=metrics["shares"],
        comments=metrics["replies"],
        is_share=[s is not None or (isinstance(i, dict) and i.get("type") == "Announce")
                  for s, i in zip(shared, items, strict=True)],
        shared_url=shared,
        source_row=table.source_rows,
    )
    # An activity that is not a post says so alone; its missing id or date would only repeat that.
    for i, reason in enumerate(reasons):
        if reason is not None:
            table.reasons[i] = [reason]
    return table.parsed(FORMAT, frame)
