"""Facebook: your_posts*.json, text under data[].post, mojibake repaired."""

from __future__ import annotations

from pathlib import PurePosixPath
import json
from typing import Iterator

from .archives import in_part_order
from .jsonstream import _json_items
from .records import Post, _safe_post, _extra, _fix_deep, _iso_utc, _not_object
from .sources import _Source


def _facebook_note(post: dict) -> str:
    """Say what a textless Facebook post is, from its title and attachments."""
    title = str(post.get("title") or "").lower()
    attachments = json.dumps(post.get("attachments") or [])
    if "checked in" in title or '"place"' in attachments:
        return "check-in (no text)"
    if '"media"' in attachments:
        return "photo-only post"
    if attachments != "[]":
        return "attachment-only post (no text)"
    return "post has no text"


def _facebook_post(item, where: str) -> Post:
    """One Facebook post; its text is the data[].post entries, mojibake repaired."""
    if not isinstance(item, dict):
        return _not_object(where, "facebook")
    post = _fix_deep(item)
    parts = [d["post"] for d in post.get("data") or []
             if isinstance(d, dict) and isinstance(d.get("post"), str) and d["post"].strip()]
    text = "\n\n".join(parts) if parts else None
    note = None if text else _facebook_note(post)
    return Post(None, text, _iso_utc(post.get("timestamp")), "facebook", None, note,
                _extra(post, {"data"}), where)


def _read_facebook(src: _Source) -> Iterator[Post]:
    """your_posts_1.json: a list of posts (or an object holding one), text under data[].post."""
    for number, item in enumerate(_json_items(src, "facebook"), start=1):
        yield _safe_post(_facebook_post, item, f"{src.name}, post {number}", "facebook")


NAME = "facebook"
LAYOUT = "your_posts_1.json"


def archive_members(names: list[str]) -> list[str]:
    """your_posts_1.json, your_posts__check_ins__photos_and_videos_1.json... wherever they sit
    (posts/ in older downloads, your_activity_across_facebook/posts/ in newer ones)."""
    return in_part_order([n for n in names
                          if (b := PurePosixPath(n).name.lower()).startswith("your_posts") and b.endswith(".json")])


read = _read_facebook
