"""Instagram: content/posts_1.json, caption on the post or its first media item."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Iterator

from .archives import in_part_order
from .jsonstream import _json_items
from .records import Post, _safe_post, _extra, _fix_deep, _iso_utc, _not_object, _text_value
from .sources import _Source


def _instagram_post(item, where: str) -> Post:
    """One Instagram post; multi-photo posts carry the caption at the top, single ones on the media."""
    if not isinstance(item, dict):
        return _not_object(where, "instagram")
    post = _fix_deep(item)
    media = [m for m in post.get("media") or [] if isinstance(m, dict)]
    caption = post.get("title")
    if not (isinstance(caption, str) and caption.strip()) and media:
        caption = media[0].get("title")
    text, note = _text_value(caption)
    if text is None:
        note = "photo-only post (no caption)"
    ts = post.get("creation_timestamp")
    if ts is None and media:
        ts = media[0].get("creation_timestamp")
    return Post(None, text, _iso_utc(ts), "instagram", None, note,
                _extra(post, {"title"}), where)


def _read_instagram(src: _Source) -> Iterator[Post]:
    """content/posts_1.json: caption is the post title, or the first media item's title."""
    for number, item in enumerate(_json_items(src, "instagram"), start=1):
        yield _safe_post(_instagram_post, item, f"{src.name}, post {number}", "instagram")


NAME = "instagram"
LAYOUT = "content/posts_1.json"


def archive_members(names: list[str]) -> list[str]:
    """posts_N.json under content/ (or media/), at the root or in your_instagram_activity/."""
    return in_part_order([n for n in names
                          if re.fullmatch(r"posts_\d+\.json", PurePosixPath(n).name.lower())
                          and PurePosixPath(n).parent.name.lower() in ("content", "media")])


read = _read_instagram
