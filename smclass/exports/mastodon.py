"""Mastodon: outbox.json, an ActivityStreams OrderedCollection of Create/Announce activities."""

from __future__ import annotations

from pathlib import PurePosixPath
from html.parser import HTMLParser
from typing import Iterator

from .archives import in_part_order
from .jsonstream import _json_items
from .records import Post, _safe_post, _extra, _id_value, _iso_any, _not_object, _text_value
from .sources import _Source


class _HtmlText(HTMLParser):
    """Mastodon's status HTML as the text a reader sees: paragraphs, line breaks, link text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag == "p" and self.parts:
            self.parts.append("\n\n")
        elif tag == "br":
            self.parts.append("\n")
        if tag == "span":
            kind = "invisible" if "invisible" in classes else "ellipsis" if "ellipsis" in classes else ""
            self.stack.append(kind)
            self.hidden += kind == "invisible"

    def handle_endtag(self, tag):
        if tag == "span" and self.stack:
            kind = self.stack.pop()
            self.hidden -= kind == "invisible"
            if kind == "ellipsis":
                self.parts.append("…")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)

    def text(self) -> str:
        return "".join(self.parts).strip()


def html_to_text(markup: str) -> str:
    """Plain text from post HTML, using only the stdlib parser."""
    parser = _HtmlText()
    parser.feed(markup)
    parser.close()
    return parser.text()


def _mastodon_post(item, where: str) -> Post:
    """Create carries our own status; Announce is a boost with no text of its own."""
    if not isinstance(item, dict):
        return _not_object(where, "mastodon")
    kind = item.get("type")
    obj = item.get("object")
    extra = _extra(item, {"object"})
    if kind == "Announce":
        return Post(_id_value(item.get("id")), None, _iso_any(item.get("published")), "mastodon",
                    False, "boost of another post", extra, where)
    if kind != "Create":
        return Post(_id_value(item.get("id")), None, _iso_any(item.get("published")), "mastodon",
                    None, f"'{kind}' activity, not a post", extra, where)
    if not isinstance(obj, dict):
        return Post(_id_value(obj if isinstance(obj, str) else item.get("id")), None,
                    _iso_any(item.get("published")), "mastodon", None,
                    "post content not included in the export", extra, where)
    content = obj.get("content")
    text, note = _text_value(html_to_text(content) if isinstance(content, str) else content)
    if text is None and obj.get("attachment"):
        note = "media-only post (no text)"
    return Post(_id_value(obj.get("id") or item.get("id")), text,
                _iso_any(obj.get("published") or item.get("published")), "mastodon",
                obj.get("inReplyTo") not in (None, ""), note, extra, where)


def _read_mastodon(src: _Source) -> Iterator[Post]:
    """outbox.json: an OrderedCollection whose orderedItems are Create/Announce activities."""
    for number, item in enumerate(_json_items(src, "mastodon", "orderedItems"), start=1):
        yield _safe_post(_mastodon_post, item, f"{src.name}, post {number}", "mastodon")


NAME = "mastodon"
LAYOUT = "outbox.json"


def archive_members(names: list[str]) -> list[str]:
    """outbox.json at the root of the archive-*.tar.gz (beside actor.json and likes.json)."""
    return in_part_order([n for n in names if PurePosixPath(n).name.lower() == "outbox.json"])


read = _read_mastodon
