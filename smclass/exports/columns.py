"""Which columns of a generic file hold the text, id, date and account, and how dates are written.

Scheduler and analytics tools (Hootsuite, Buffer, Sprout, Later, Meta Business
Suite) call the text column ``Message``, ``Post``, ``Content``, ``Caption``,
``Post text``, ``Tweet``...; column names are matched case-insensitively, ignoring
spaces, underscores and dashes. A clear single candidate is used and named on
stderr; several are refused with a sentence listing them.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import cached_property
from datetime import datetime, timezone

from smclass.errors import DataError

from .records import _iso_any, _iso_utc

TEXT_NAMES = ("text", "message", "post", "content", "caption", "post text", "post content",
              "post message", "message text", "tweet", "tweet text", "full text", "body")
DATE_NAMES = ("created at", "date", "published at", "published", "post date", "posted at", "posted",
              "date posted", "publish date", "publish time", "published time", "created", "created time",
              "creation date", "date created", "timestamp", "datetime", "date time", "time", "sent",
              "sent at", "date gmt", "date utc")
PLATFORM_NAMES = ("platform", "network", "social network")
REPLY_NAMES = ("is reply",)
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


def canon(name) -> str:
    """A column name as people mean it: 'Post_Text ' and 'post-text' are both 'post text'."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", str(name).casefold()).split())


def looks_like_header(fields: list[str], text_column: str | None = None) -> bool:
    """Whether a first row names a text column (ours or --text-column): then the file is a table."""
    names = {canon(f) for f in fields}
    if text_column is not None and canon(text_column) in names:
        return True
    return bool(names & set(TEXT_NAMES))


def _find(name: str, columns: list[str], wanted: str, option: str) -> str:
    """The column the user named, exactly or else case-insensitively; a sentence when absent."""
    if wanted in columns:
        return wanted
    same = [c for c in columns if canon(c) == canon(wanted)]
    if len(same) == 1:
        return same[0]
    found = ", ".join(map(str, columns)) if columns else "none"
    if len(same) > 1:
        raise DataError(f"{name}: several columns match '{wanted}' ({', '.join(same)}); "
                        f"use {option} with the exact name.")
    raise DataError(f"{name}: no column '{wanted}' (found: {found}); use {option}.")


def _first(columns: list[str], names: tuple[str, ...]) -> str | None:
    """The column whose name comes first in ``names`` (a priority list), if any."""
    by_canon = {}
    for c in columns:
        by_canon.setdefault(canon(c), c)
    for n in names:
        if n in by_canon:
            return by_canon[n]
    return None


def _notice(message: str) -> None:
    print(message, file=sys.stderr)


@dataclass
class Columns:
    """The resolved columns of one generic input."""

    text: str
    id: str | None
    date: str | None
    account: str | None
    platform: str | None
    reply: str | None
    dates: "DateParser"

    @property
    def used(self) -> set:
        return {self.text, self.id}

    @cached_property
    def skip(self) -> frozenset:
        return frozenset(self.used)


def resolve(name: str, columns: list[str], opts: dict) -> Columns:
    """Choose the text, id, date and account columns from the options and the header."""
    columns = [str(c) for c in columns]
    found = ", ".join(columns) if columns else "none"
    if opts.get("text_column"):
        text = _find(name, columns, opts["text_column"], "--text-column")
    elif "text" in columns:
        text = "text"
    else:
        candidates = [c for c in columns if canon(c) in TEXT_NAMES]
        exact = [c for c in candidates if canon(c) == "text"]
        if len(exact) == 1:
            candidates = exact
        if not candidates:
            raise DataError(f"{name}: no column 'text' (found: {found}); use --text-column.")
        if len(candidates) > 1:
            raise DataError(f"{name}: several columns could hold the post text "
                            f"({', '.join(candidates)}); choose one with --text-column.")
        text = candidates[0]
        (opts.get("notify") or _notice)(
            f"{name}: reading the post text from column '{text}' (use --text-column to choose another).")
    ident = _find(name, columns, opts["id_column"], "--id-column") if opts.get("id_column") \
        else _first(columns, ("id",))
    date = _find(name, columns, opts["date_column"], "--date-column") if opts.get("date_column") \
        else _first([c for c in columns if c != text], DATE_NAMES)
    account = _find(name, columns, opts["account_column"], "--account-column") \
        if opts.get("account_column") else None
    return Columns(text, ident, date, account, _first(columns, PLATFORM_NAMES),
                   _first(columns, REPLY_NAMES), DateParser(bool(opts.get("dayfirst"))))


def reply_value(value) -> bool | None:
    """'true'/'yes'/'1' and friends as a bool; anything else unknown."""
    v = str(value if value is not None else "").strip().lower()
    return True if v in _TRUE else False if v in _FALSE else None


# --------------------------------------------------------------------------- #
# Dates
# --------------------------------------------------------------------------- #

_MDY = ("%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %I:%M:%S %p",
        "%m/%d/%Y", "%m/%d/%y %H:%M", "%m/%d/%y %I:%M %p", "%m/%d/%y",
        "%m-%d-%Y %H:%M", "%m-%d-%Y")
_OTHER = ("%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S",
          "%Y/%m/%d", "%b %d, %Y %I:%M %p", "%B %d, %Y %I:%M %p", "%b %d, %Y %H:%M", "%b %d, %Y",
          "%B %d, %Y", "%d %b %Y %H:%M", "%d %B %Y %H:%M", "%d %b %Y", "%d %B %Y",
          "%a %b %d %H:%M:%S %z %Y", "%a, %d %b %Y %H:%M:%S %z")


class DateParser:
    """Dates as scheduler exports write them, to ISO 8601; month first unless ``dayfirst``.

    ISO 8601 and Unix seconds (or milliseconds) are read as they are; times without
    a zone are taken as UTC, like ISO strings without one. The format that worked
    last is tried first, so a column in one format costs one attempt per row.
    """

    def __init__(self, dayfirst: bool = False):
        slashed = tuple(f.replace("%m", "\0").replace("%d", "%m").replace("\0", "%d") for f in _MDY)
        self.formats = list((slashed if dayfirst else _MDY) + _OTHER)

    def __call__(self, value) -> str | None:
        """ISO 8601 for ``value``, or None when it is blank or not a date we know."""
        if value is None or value == "" or isinstance(value, bool):
            return None
        if isinstance(value, (int, float)):
            return self._epoch(value)
        if isinstance(value, datetime):
            return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()
        text = value if isinstance(value, str) else str(value)
        try:  # ISO 8601 first: the common case, and cheap
            dt = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        except ValueError:
            pass
        else:
            if len(text) >= 10:  # not a bare number that fromisoformat happened to accept
                return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).isoformat()
        text = text.strip()
        if not text:
            return None
        if text[0].isdigit() and text.replace(".", "", 1).isdigit():
            return self._epoch(float(text))
        iso = _iso_any(text)
        if iso:
            return iso
        bare = re.sub(r"\s*\(?(UTC|GMT)\)?$", "", text)
        for i, fmt in enumerate(self.formats):
            try:
                dt = datetime.strptime(bare, fmt)
            except ValueError:
                continue
            if i:
                self.formats.insert(0, self.formats.pop(i))
            return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).isoformat()
        return None

    @staticmethod
    def _epoch(number: float) -> str | None:
        if number < 1e8:  # not seconds since 1970 (a year, a count): not a date we know
            return None
        if number > 1e11:  # milliseconds
            number /= 1000
        return _iso_utc(number)
