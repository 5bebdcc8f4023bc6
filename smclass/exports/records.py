"""Post, the one record shape every reader yields, and the field helpers readers share."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable


_BLOCK = 1 << 16


_SNIFF = 1 << 16



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


def _flat(value) -> str:
    """Flatten a field for --keep-columns: strings as-is, everything else as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _extra(record: dict, skip: Iterable[str]) -> dict:
    """The record's other top-level fields, flat strings, for --keep-columns."""
    skip = set(skip)
    return {str(k): _flat(v) for k, v in record.items() if k not in skip}


def _text_value(value) -> tuple[str | None, str | None]:
    """Turn a text-column value into (text, note); non-strings and blanks carry a note."""
    if value is None:
        return None, "text is empty"
    if isinstance(value, float) and math.isnan(value):
        return None, "text is empty"
    if not isinstance(value, str):
        return None, "text is not a string"
    if not value.strip():
        return None, "text is empty"
    return value, None


def _id_value(value) -> str | None:
    """Ids may arrive as numbers; keep them as strings, and blanks as None."""
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


_DATE_COLUMNS = ("created_at", "date", "timestamp", "published", "time")


_TRUE = {"true", "1", "yes", "y", "t"}


_FALSE = {"false", "0", "no", "n", "f"}


def _known_fields(extra: dict) -> tuple[str | None, str | None, bool | None]:
    """created_at, platform and is_reply from generic columns of those (or usual) names.

    Dates are normalised to ISO 8601 when they parse (ISO strings or Unix
    seconds), else kept as written; the columns stay in ``extra`` too.
    """
    created = None
    for column in _DATE_COLUMNS:
        value = extra.get(column)
        if value not in (None, ""):
            created = _iso_any(value) or (_iso_utc(float(value)) if _is_number(value) else None) or str(value)
            break
    platform = extra.get("platform") or None
    reply = str(extra.get("is_reply", "")).strip().lower()
    is_reply = True if reply in _TRUE else False if reply in _FALSE else None
    return created, (str(platform) if platform is not None else None), is_reply


def _is_number(value) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, bool)


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
