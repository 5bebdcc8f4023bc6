"""Counts in messages, worded right: '1 post', '2 posts', '3 photo-only posts (no caption)'."""

from __future__ import annotations

import re

# the head nouns of our skip reasons ("photo-only post", "boost of another post", "malformed row: ...")
_NOUNS = re.compile(r"\b(post|boost|row|line|record|activity|reply|share)\b")


def plural(noun: str) -> str:
    """'post' -> 'posts', 'activity' -> 'activities', 'reply' -> 'replies'."""
    return noun[:-1] + "ies" if noun.endswith("y") else noun + "s"


def counted(n: int, phrase: str) -> str:
    """``n`` and ``phrase``, its first head noun made plural unless ``n`` is 1.

    >>> counted(1, "post")
    '1 post'
    >>> counted(3, "photo-only post (no caption)")
    '3 photo-only posts (no caption)'
    >>> counted(2, "boost of another post")
    '2 boosts of another post'
    >>> counted(1_234, "text is empty")
    '1,234 text is empty'
    """
    if n != 1:
        phrase = _NOUNS.sub(lambda m: plural(m.group(1)), phrase, count=1)
    return f"{n:,} {phrase}"
