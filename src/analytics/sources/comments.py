"""Audience comments (``audience_comments.csv``): what the public replied to the organisation's posts."""

from __future__ import annotations

from pathlib import Path

from analytics.sources._orgcsv import COMMENT_ID, PLATFORM, PUBLISHED_AT, TEXT, Column, Rows, claims
from analytics.sources.base import Parsed, ReadContext, SourceError, platform_id

__all__ = ["DESCRIPTION", "FORMAT", "TABLES", "read", "sniff"]

FORMAT = "comments"
DESCRIPTION = "Audience comments CSV (platform, post_id and/or post_url, comment_id, published_at, text)"
TABLES = ("audience_comments",)

POST_ID = Column("post_id", ("post",))
POST_URL = Column("post_url", ("post_link", "permalink", "url"))


def sniff(path: Path, head: bytes) -> bool:
    """A CSV whose header has comment_id, platform, published_at and text."""
    return claims(FORMAT, path, head)


def read(path: Path, context: ReadContext) -> Parsed:
    """The comments as staging table ``audience_comments``; text is kept exactly as written.

    A comment needs the post it answers: a post_id, a post_url, or both.
    """
    rows = Rows.load(path, (PLATFORM, POST_ID, POST_URL, COMMENT_ID, PUBLISHED_AT, TEXT),
                     expected="an audience comments list")
    if not rows.found & {POST_ID.name, POST_URL.name}:
        raise SourceError(f"{path.name}: expected an audience comments list with a post_id or post_url column "
                          "(to link each comment to its post), found neither")
    post_id = rows.identifier(POST_ID.name, what="post id", required=False)
    post_url = rows.text(POST_URL.name)
    rows.flag(rows.text(POST_ID.name).isna() & post_url.isna(),
              f"missing both {rows.headers[POST_ID.name]} and {rows.headers[POST_URL.name]}: "
              "fill in at least one so the comment can be linked to its post")
    text = rows.cells[TEXT.name].map(lambda v: v if isinstance(v, str) and v.strip() else None)
    rows.flag(text.isna(), f"missing {rows.headers[TEXT.name]}: an empty comment cannot be analysed")
    return rows.parsed(FORMAT, "audience_comments", {
        "platform": rows.text(PLATFORM.name, required=True).map(platform_id, na_action="ignore"),
        "post_id": post_id,
        "post_url": post_url,
        "comment_id": rows.identifier(COMMENT_ID.name, what="comment id"),
        "published_at": rows.datetimes(PUBLISHED_AT.name, context, required=True),
        "text": text,
    })
