"""Post, the one record shape every reader yields, and the field helpers readers share."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Iterable

from smclass.text import INVISIBLE


_BLOCK = 1 << 16


_SNIFF = 1 << 16
MAX_RECORD_BYTES = 64 << 20  # one line, CSV field or JSON record; real posts are a few KB


@dataclass
class Post:
    """One input record, normalised across sources so the model sees one shape."""

    id: str | None
    text: str | None
    created_at: str | None
    platform: str | None
    is_reply: bool | None
    note: str | None
    extra: dict = field(default_factory=dict)
    where: str = ""
    account: str | None = None
    shown: str | None = None    # written in the text column when text is None: a retweet's own words, not classified


_SURROGATE = re.compile("[\ud800-\udfff]")
SURROGATE_NOTE = "lone surrogate replaced with U+FFFD"
_INVISIBLE = INVISIBLE  # zero-width characters and a stray BOM: the normaliser's own list


def _flat(value) -> str:
    """Flatten a field for --keep-columns: strings as-is, everything else as JSON."""
    kind = type(value)
    if kind is str:
        return _SURROGATE.sub("\ufffd", value) if _SURROGATE.search(value) else value
    if value is None:
        return ""
    if kind is int:
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    try:
        value = json.dumps(value, ensure_ascii=False, default=str)
    except RecursionError:
        return "(nested too deeply)"
    return _SURROGATE.sub("\ufffd", value) if _SURROGATE.search(value) else value


def _extra(record: dict, skip: Iterable[str]) -> dict:
    """The record's other top-level fields, flat strings, for --keep-columns."""
    skip = set(skip)
    return {str(k): _flat(v) for k, v in record.items() if k not in skip}


class LazyExtra(Mapping):
    """A record's other fields, flattened only when someone looks (--keep-columns, the report).

    Flattening nested fields to JSON costs more than reading them; most runs never
    look, so it waits until asked.
    """

    __slots__ = ("_record", "_skip", "_add", "_flat")

    def __init__(self, record: dict, skip: frozenset, add: dict | None = None):
        self._record = record
        self._skip = skip
        self._add = add
        self._flat = None

    def _get(self) -> dict:
        if self._flat is None:
            self._flat = _extra(self._record, self._skip)
            for key, value in (self._add or {}).items():
                self._flat.setdefault(key, value)
        return self._flat

    def __getitem__(self, key):
        return self._get()[key]

    def __iter__(self):
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

    def __bool__(self) -> bool:
        return bool(self._add) or any(k not in self._skip for k in self._record)

    def __repr__(self) -> str:
        return repr(self._get())


class RawJsonExtra(LazyExtra):
    """Like LazyExtra, but holding the record's JSON text instead of its parsed objects.

    A chunk of thousands of posts each keeping a parsed tweet alive makes every garbage
    collection walk all of them (reading an X archive took 60 % longer end to end); a
    string is one object the collector skips. ``unwrap`` picks the record out of the
    parsed value (the tweet inside {"tweet": {...}}).
    """

    __slots__ = ("_unwrap",)

    def __init__(self, text: str, skip: frozenset, add: dict | None = None, unwrap=None):
        super().__init__(text, skip, add)
        self._unwrap = unwrap

    def _get(self) -> dict:
        if self._flat is None:
            value = json.loads(self._record)
            record = self._unwrap(value) if self._unwrap else value
            self._record = record if isinstance(record, dict) else {}
            super()._get()
        return self._flat

    def __bool__(self) -> bool:
        return bool(self._get())


def _scrub(posts, src):
    """Lone surrogates (JSON's "\\ud83d" without its pair) become U+FFFD, with a note,
    so no writer ever meets a string it cannot encode. Only JSON text that holds such an
    escape (``src.surrogates``, set by the reader) can produce one, so others pass as they are."""
    for post in posts:
        if not src.surrogates:
            yield post
            continue
        fixed = False
        for name in ("text", "id", "created_at", "platform", "account"):
            value = getattr(post, name)
            if isinstance(value, str) and _SURROGATE.search(value):
                setattr(post, name, _SURROGATE.sub("\ufffd", value))
                fixed = True
        if fixed:
            post.note = f"{post.note}; {SURROGATE_NOTE}" if post.note else SURROGATE_NOTE
        yield post


def _safe_post(build, item, where: str, platform: str | None) -> "Post":
    """build(item, where), or a noted Post when the record is nested too deeply to walk."""
    try:
        return build(item, where)
    except RecursionError:
        return Post(None, None, None, platform, None, "record nested too deeply", {}, where)


def _text_value(value) -> tuple[str | None, str | None]:
    """Turn a text-column value into (text, note); non-strings and blanks carry a note."""
    if value.__class__ is str:       # the common case first: every CSV cell, most JSON texts
        stripped = value.strip()
        if stripped and stripped[0] not in _INVISIBLE:
            return value, None
    elif value is None:
        return None, "text is empty"
    if isinstance(value, float) and math.isnan(value):
        return None, "text is empty"
    if not isinstance(value, str):
        return None, "text is not a string"
    stripped = value.strip()
    if not stripped or (stripped[0] in _INVISIBLE and not stripped.strip(_INVISIBLE + " \t\r\n")):
        return None, "text is empty"
    return value, None


def _id_value(value) -> str | None:
    """Ids may arrive as numbers; keep them as strings, and blanks as None."""
    if value.__class__ is str:       # the common case first: every CSV cell
        return value or None
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else _flat(value)


def _iso_utc(ts) -> str | None:
    """Unix seconds (Facebook, Instagram) as ISO 8601 in UTC."""
    if isinstance(ts, bool) or not isinstance(ts, (int, float)):
        return None
    try:
        return datetime.fromtimestamp(ts, timezone.utc).isoformat()
    except (OverflowError, OSError, ValueError):
        return None


def _iso_plain_utc(value: str | None) -> str | None:
    """'2024-03-05 14:02:11' or '... UTC' (LinkedIn, Reddit) as ISO 8601 in UTC."""
    if not value:
        return None
    text = value.strip().removesuffix("UTC").strip()
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).isoformat()


def _iso_any(value) -> str | None:
    """ActivityStreams 'published' ('...Z') normalised to an explicit +00:00 offset."""
    if not isinstance(value, str) or not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).isoformat()


def _not_object(where: str, platform: str | None) -> Post:
    """A list element that is not an object still counts as one (unusable) record."""
    return Post(None, None, None, platform, None, "record is not a JSON object", {}, where)


def fix_mojibake(text: str) -> str:
    """Meta writes UTF-8 bytes as \\u00XX escapes; re-read them as UTF-8 only when that round-trips."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _fix_deep(value):
    """Repair mojibake inside nested export structures (titles, attachment text)."""
    if isinstance(value, str):
        return fix_mojibake(value)
    if isinstance(value, list):
        return [_fix_deep(v) for v in value]
    if isinstance(value, dict):
        return {k: _fix_deep(v) for k, v in value.items()}
    return value
