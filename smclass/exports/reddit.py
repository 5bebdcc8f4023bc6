"""Reddit: the data export's posts.csv and comments.csv."""

from __future__ import annotations

import html
from pathlib import PurePosixPath
from typing import Iterator

from smclass.errors import DataError
from .csvrows import _platform_records
from .records import Post, _extra, _iso_plain_utc, _text_value
from .sources import _Source


_REDDIT_COLUMNS = {"id", "permalink", "date", "subreddit"}


def _read_reddit(src: _Source) -> Iterator[Post]:
    """posts.csv (title + body) or comments.csv (body, always a reply)."""
    is_posts = False

    def check(header):
        nonlocal is_posts
        is_posts = "title" in header
        if "body" not in header and not is_posts:
            raise DataError(f"{src.name}: no column 'body' (found: {', '.join(header)}); "
                            f"is this Reddit's posts.csv or comments.csv?")

    for where, rec in _platform_records(src, "reddit", "reddit", check):
        yield rec if isinstance(rec, Post) else _reddit_post(rec, is_posts, where)


def _unescape(text: str) -> str:
    """Reddit stores markdown HTML-escaped (&amp; &gt; &lt;) and writes empty paragraphs as &#x200B;."""
    if "&" not in text:
        return text
    return html.unescape(text).replace("\u200b", "")


def _reddit_post(rec: dict, is_posts: bool, where: str) -> Post:
    """A submission reads as title then body; a comment is its body and always a reply."""
    body = _unescape(rec.get("body") or "")
    if body.strip() in ("[deleted]", "[removed]"):
        body = ""
    if is_posts:
        title = _unescape(rec.get("title") or "")
        raw = f"{title}\n\n{body}" if body.strip() else title
    else:
        raw = body
    text, note = _text_value(raw)
    if text is None and rec.get("body", "").strip() in ("[deleted]", "[removed]"):
        note = "deleted or removed"
    return Post(rec.get("id") or None, text, _iso_plain_utc(rec.get("date")), "reddit",
                not is_posts, note, _extra(rec, {"id", "title", "body"}), where)


NAME = "reddit"
LAYOUT = "posts.csv or comments.csv"


def archive_members(names: list[str]) -> list[str]:
    """posts.csv and comments.csv in the flat export_<user>_<date>.zip (posts first)."""
    wanted = {"posts.csv": 0, "comments.csv": 1}
    found = [n for n in names if PurePosixPath(n).name.lower() in wanted]
    return sorted(found, key=lambda n: (str(PurePosixPath(n).parent), wanted[PurePosixPath(n).name.lower()]))


read = _read_reddit
