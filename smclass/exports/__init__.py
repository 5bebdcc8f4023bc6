"""Read posts out of real platform exports and generic files, one Post per record.

Batch prediction meets files people actually have: an X archive, a Facebook or
Instagram download, LinkedIn's Shares.csv, a Mastodon outbox, a Reddit export,
or a plain CSV/JSONL/JSON/Parquet/text file. Every reader here is a generator
that holds one record at a time, so a multi-GB export streams in flat memory,
and every record yields exactly one Post: a record without usable text comes
back with ``text=None`` and a ``note`` saying why, never silently dropped.
Problems the user must fix are raised as DataError with one plain sentence
naming the file, the line or row, and the column.

Layout: one module per platform (x, facebook, instagram, linkedin, mastodon,
reddit), the generic formats in ``generic``, and the shared streaming pieces:
``sources`` (stdin, encodings, decoded lines and blocks), ``csvrows``,
``jsonstream``, ``records`` (Post and field helpers) and ``detect``.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Iterator

from smclass.errors import DataError, UsageError

from .archives import Archive, is_archive_file
from .detect import _sniff_stream_format, archive_platform, detect_format
from .generic import _read_csv, _read_json, _read_jsonl, _read_parquet, _read_text, _read_tsv
from .mastodon import html_to_text
from .platforms import PLATFORMS
from .records import Post, _scrub, fix_mojibake
from .sources import _bom_encoding, _Source, _stdin_head  # noqa: F401  (_bom_encoding: data.py)
from .xlsx import is_xlsx, read_xlsx


FORMATS = tuple(PLATFORMS) + ("csv", "tsv", "jsonl", "json", "parquet", "xlsx", "text")


def read_posts(path, *, format=None, text_column=None, id_column=None, encoding=None,
               date_column=None, account_column=None, dayfirst=False, sheet=None,
               include_shares=False, notify=None) -> Iterator[Post]:
    """Yield one Post per record of ``path`` ("-" is stdin), streaming, in file order.

    Column names (``text_column``, ``id_column``, ``date_column``, ``account_column``)
    match case-insensitively; without ``text_column`` a generic file's text column
    is found among common names (text, Message, Post, Caption...). Dates are read
    month first ("05/02/2024" is May 2) unless ``dayfirst``. ``sheet`` picks an
    .xlsx sheet (default: the first). Shares of someone else's post (X retweets)
    keep their text only with ``include_shares``. ``notify`` receives the one-line
    notices (such as the guessed text column) instead of stderr: ``-q`` silences them.
    """
    if format is not None and format not in FORMATS:
        raise UsageError(f"Unknown input format '{format}'; use one of: {', '.join(FORMATS)}.")
    opts = dict(text_column=text_column, id_column=id_column, encoding=encoding,
                date_column=date_column, account_column=account_column, dayfirst=dayfirst,
                sheet=sheet, include_shares=include_shares, notify=notify)
    if str(path) == "-":
        return _read_stdin(format, opts)
    return _read_path(Path(path), format, opts)


def _read_stdin(fmt: str | None, opts: dict) -> Iterator[Post]:
    """Stdin is sniffed by content only; parquet needs a seekable file."""
    head, stream = _stdin_head()
    if not head:
        raise DataError("stdin is empty.")
    fmt = fmt or _sniff_stream_format(head, opts["text_column"])
    if fmt in ("parquet", "xlsx") or head.startswith(b"PK\x03\x04"):
        raise UsageError("Parquet, .xlsx and zip files cannot be read from stdin; pass the file path instead.")
    yield from _reader(fmt)(_Source(stream, "stdin", opts["encoding"], opts))


def _read_path(p: Path, fmt: str | None, opts: dict) -> Iterator[Post]:
    """Open the file (or archive folder/zip) and dispatch to the reader for its format."""
    if not p.exists():
        raise DataError(f"{p} does not exist.")
    if not p.is_dir():
        with open(p, "rb") as fh:
            head = fh.read(512)
        if fmt == "xlsx" or (fmt is None and is_xlsx(p, head)):
            yield from read_xlsx(p, opts)
            return
    if p.is_dir() or (fmt not in _SINGLE_FILE and is_archive_file(p, head)):
        yield from _read_archive(p, fmt, opts)
        return
    fmt = fmt or detect_format(p, text_column=opts["text_column"])
    if fmt == "parquet":
        yield from _read_parquet(p, opts)
        return
    with open(p, "rb") as fh:
        if not fh.peek(1):
            raise DataError(f"{p.name} is empty.")
        yield from _reader(fmt)(_Source(fh, p.name, opts["encoding"], opts))


def _reader(fmt: str):
    """The reader for ``fmt``; JSON can hold lone surrogates, so Posts pass _scrub (which
    costs nothing unless the reader saw a surrogate escape)."""
    read = _READERS[fmt]
    if fmt in _NO_SURROGATES:       # decoded strictly from bytes: never a lone surrogate, nothing to scrub
        return read
    return lambda src: _scrub(read(src), src)


_NO_SURROGATES = {"csv", "tsv", "text"}


_SINGLE_FILE = {"csv", "tsv", "jsonl", "json", "parquet", "text"}


def _read_archive(p: Path, fmt: str | None, opts: dict) -> Iterator[Post]:
    """A platform download as a folder, zip or tar: its posts files in order, never extracted."""
    with Archive(p) as archive:
        platform, members = archive_platform(archive, fmt)
        reader = _reader(platform)
        for member in members:
            with archive.open(member) as fh:
                if not fh.peek(1):
                    raise DataError(f"{p.name}: {member} is empty.")
                yield from reader(_Source(fh, PurePosixPath(member).name, opts["encoding"], opts))


_READERS = {
    **{name: module.read for name, module in PLATFORMS.items()},
    "csv": _read_csv, "tsv": _read_tsv, "jsonl": _read_jsonl, "json": _read_json,
    "text": _read_text,
}


__all__ = ["FORMATS", "Post", "detect_format", "read_posts", "fix_mojibake", "html_to_text"]
