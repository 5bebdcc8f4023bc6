"""Name the input format from the file name and its first bytes, so users rarely need --format."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from smclass.errors import DataError, UsageError
from .archives import Archive, is_archive_file
from .columns import looks_like_header
from .linkedin import _LINKEDIN_COLUMNS
from .platforms import PLATFORMS
from .records import _SNIFF
from .reddit import _REDDIT_COLUMNS
from .sources import _decode_head, _stdin_peek
from .xlsx import is_xlsx


def detect_format(path: str | Path, *, text_column: str | None = None) -> str:
    """Name the format from the file name and its first bytes, so users rarely need --format.

    A .txt file or stdin whose first row names a text column (``text``, ``Message``...,
    or ``text_column``) and whose next rows have as many fields is a table, not text.
    """
    if str(path) == "-":
        return _sniff_stream_format(_stdin_peek(), text_column)
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p} does not exist.")
    if p.is_dir():
        with Archive(p) as archive:
            return archive_platform(archive)[0]
    with open(p, "rb") as fh:
        head = fh.read(_SNIFF)
    if is_xlsx(p, head):
        return "xlsx"
    if is_archive_file(p, head):
        with Archive(p) as archive:
            return archive_platform(archive)[0]
    return _detect_from(p.name, head, text_column)


def archive_platform(archive: Archive, forced: str | None = None) -> tuple[str, list[str]]:
    """Which platform's download this is, from its layout, and the members holding its posts."""
    names = archive.members()
    kind = "folder" if archive.path.is_dir() else "archive"
    if forced is not None:
        if forced not in PLATFORMS:
            raise UsageError(f"{archive.name} is a {kind}; --input-format {forced} reads single files "
                             f"(choose one of: {', '.join(PLATFORMS)}, or pass a file inside it).")
        members = PLATFORMS[forced].archive_members(names)
        if not members:
            raise DataError(f"{archive.name} is not a {forced} export (no {PLATFORMS[forced].LAYOUT} "
                            f"inside).")
        return forced, members
    found = {name: m.archive_members(names) for name, m in PLATFORMS.items()}
    found = {name: members for name, members in found.items() if members}
    if not found:
        looked = ", ".join(m.LAYOUT for m in PLATFORMS.values())
        raise DataError(f"{archive.name} is a {kind} but not a platform export smclass knows "
                        f"(looked for {looked}); pass the posts file itself.")
    if len(found) > 1:
        raise DataError(f"{archive.name} holds exports of several platforms ({', '.join(found)}); "
                        f"choose one with --input-format.")
    return next(iter(found.items()))


def _detect_from(name: str, head: bytes, text_column: str | None = None) -> str:
    """The extension picks the family; the content picks the flavour (or decides alone)."""
    low = name.lower()
    text = _decode_head(head)
    stripped = text.lstrip()
    if low.endswith((".parquet", ".pq")):
        return "parquet"
    if low.endswith(".js"):
        return "x"
    if low.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if low.endswith(".json"):
        return _json_flavour(low, text)
    if low.endswith((".tsv", ".tab")):
        return "tsv"
    if low.endswith(".csv"):
        return _csv_flavour(text)
    if low.endswith(".txt"):
        return _delimited_flavour(text, text_column) or "text"
    if head.startswith(b"PAR1"):
        return "parquet"
    if stripped.startswith("window.YTD"):
        return "x"
    if stripped[:1] in ("[", "{"):
        return _json_flavour(low, text)
    return _delimited_flavour(text, text_column) or "text"


def _delimited_flavour(text: str, text_column: str | None = None) -> str | None:
    """Call it CSV/TSV only when the header names a text column (or a platform's columns)
    and the rows after it, as far as the sniffed prefix shows, have as many fields."""
    body = text.lstrip("\ufeff")
    lines = re.split(r"(?<=\r\n)|(?<=\r)(?!\n)|(?<=\n)", body)
    complete = [ln for ln in lines[:-1]] if len(lines) > 1 else lines
    first = complete[0].rstrip("\r\n") if complete else ""
    for delimiter, fmt in (("\t", "tsv"), (",", "csv"), (";", "csv"), ("|", "csv")):
        if delimiter not in first:
            continue
        try:
            rows = list(csv.reader(complete, delimiter=delimiter))
        except csv.Error:
            continue
        if not rows or len(rows[0]) < 2:
            continue
        fields = {f.strip().strip('"') for f in rows[0]}
        if not (looks_like_header(rows[0], text_column) or _LINKEDIN_COLUMNS <= fields
                or _REDDIT_COLUMNS <= fields):
            continue
        width = len(rows[0])
        if all(len(r) == width for r in rows[1:] if r):
            return _csv_flavour(text) if delimiter == "," else fmt
    return None


def _json_flavour(low: str, text: str) -> str:
    """Tell the JSON-shaped platform files apart by their telltale keys near the start."""
    stripped = text.lstrip()
    if stripped.startswith("{") and _first_line_is_object(stripped):
        return "jsonl"
    if low.startswith("your_posts"):  # your_posts_1.json, your_posts__check_ins_..._1.json
        return "facebook"
    if re.fullmatch(r"posts_\d+\.json", low):
        return "instagram"
    if low == "outbox.json" or (stripped.startswith("{") and (
            re.search(r'"orderedItems"\s*:', text) or re.search(r'"type"\s*:\s*"OrderedCollection"', text))):
        return "mastodon"
    if stripped.startswith("["):
        if re.search(r'"media"\s*:\s*\[', text) and '"creation_timestamp"' in text:
            return "instagram"
        if re.search(r'"timestamp"\s*:\s*\d', text) and re.search(r'"(data|attachments)"\s*:', text):
            return "facebook"
    return "json"


def _first_line_is_object(text: str) -> bool:
    """A '{' file whose first line is a whole object followed by more lines is JSON Lines."""
    first, sep, rest = text.partition("\n")
    if not sep or not rest.strip():
        return False
    try:
        return isinstance(json.loads(first), dict)
    except ValueError:
        return False


def _csv_flavour(text: str) -> str:
    """LinkedIn and Reddit ship plain CSVs; their header row is what identifies them."""
    first = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    try:
        header = {h.strip() for h in next(csv.reader([first]))}
    except (csv.Error, StopIteration):
        return "csv"
    if _LINKEDIN_COLUMNS <= header:
        return "linkedin"
    if _REDDIT_COLUMNS <= header and ({"title", "body"} & header):
        return "reddit"
    return "csv"


def _sniff_stream_format(head: bytes, text_column: str | None = None) -> str:
    """Stdin has no name, so only its first characters can decide."""
    raw = _decode_head(head)
    text = raw.lstrip()
    if text.startswith("window.YTD"):
        return "x"
    if text.startswith("{"):
        return "jsonl"
    if text.startswith("["):
        return "json"
    return _delimited_flavour(raw, text_column) or "text"
