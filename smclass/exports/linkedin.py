"""LinkedIn: the data export's Shares.csv."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Iterator

from smclass.errors import DataError
from .archives import in_part_order
from .csvrows import _platform_records
from .records import Post, _extra, _iso_plain_utc, _text_value
from .sources import _Source


_LINKEDIN_COLUMNS = {"Date", "ShareLink", "ShareCommentary"}


def _read_linkedin(src: _Source) -> Iterator[Post]:
    """Shares.csv: ShareCommentary is the text; an empty one is a bare reshare or media post."""
    def check(header):
        missing = [c for c in ("Date", "ShareCommentary") if c not in header]
        if missing:
            raise DataError(f"{src.name}: no column '{missing[0]}' (found: {', '.join(header)}); "
                            f"is this LinkedIn's Shares.csv?")

    for where, rec in _platform_records(src, "linkedin", "linkedin", check):
        if isinstance(rec, Post):
            yield rec
            continue
        text, note = _text_value(rec.get("ShareCommentary"))
        if text is None:
            note = ("reshare with no commentary" if rec.get("SharedUrl")
                    else "media-only post (no text)" if rec.get("MediaUrl") else "post has no text")
        yield Post(rec.get("ShareLink") or None, text, _iso_plain_utc(rec.get("Date")), "linkedin",
                   False, note, _extra(rec, {"ShareCommentary", "ShareLink"}), where)


NAME = "linkedin"
LAYOUT = "Shares.csv"


def archive_members(names: list[str]) -> list[str]:
    """Shares.csv at the root of the data export (Basic_ or Complete_LinkedInDataExport_*.zip)."""
    return in_part_order([n for n in names if PurePosixPath(n).name.lower() == "shares.csv"])


read = _read_linkedin
