"""Read posts out of real platform exports and generic files, one Post per record.

Batch prediction meets files people actually have: an X archive, a Facebook or
Instagram download, LinkedIn's Shares.csv, a Mastodon outbox, a Reddit export,
or a plain CSV/JSONL/JSON/Parquet/text file. Every reader here is a generator
that holds one record at a time, so a multi-GB export streams in flat memory,
and every record yields exactly one Post: a record without usable text comes
back with ``text=None`` and a ``note`` saying why, never silently dropped.
Problems the user must fix are raised as DataError with one plain sentence
naming the file, the line or row, and the column.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import re
import sys
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path
from typing import IO, Iterable, Iterator

from smclass.errors import DataError, UsageError

FORMATS = ("x", "facebook", "instagram", "linkedin", "mastodon", "reddit",
           "csv", "tsv", "jsonl", "json", "parquet", "text")

_BLOCK = 1 << 16
_SNIFF = 1 << 16
_LABEL = {"csv": "CSV", "tsv": "TSV", "jsonl": "JSON Lines", "json": "JSON", "text": "text",
          "x": "an X archive file", "facebook": "JSON", "instagram": "JSON", "mastodon": "JSON",
          "linkedin": "CSV", "reddit": "CSV"}
_LINKEDIN_COLUMNS = {"Date", "ShareLink", "ShareCommentary"}
_REDDIT_COLUMNS = {"id", "permalink", "date", "subreddit"}
_TWEET_FILE = re.compile(r"^tweets?(?:-part(\d+))?\.js$")
_YTD_PREFIX = re.compile(r"window\.YTD\.(\w+)\.part(\d+)\s*=\s*")
_YTD_TWEET_KINDS = {"tweets", "tweet", "deleted_tweets", "community_tweet"}


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


# --------------------------------------------------------------------------- #
# Public entry points
# --------------------------------------------------------------------------- #

def detect_format(path: str | Path) -> str:
    """Name the format from the file name and its first bytes, so users rarely need --format."""
    if str(path) == "-":
        return _sniff_stream_format(_stdin_peek())
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p} does not exist.")
    if p.is_dir():
        if _archive_tweet_files(p):
            return "x"
        raise DataError(f"{p.name} is a folder but not an X archive (no data/tweets.js inside).")
    with open(p, "rb") as fh:
        head = fh.read(_SNIFF)
    return _detect_from(p.name, head)


def read_posts(path, *, format=None, text_column=None, id_column=None,
               encoding=None) -> Iterator[Post]:
    """Yield one Post per record of ``path`` ("-" is stdin), streaming, in file order."""
    if format is not None and format not in FORMATS:
        raise UsageError(f"Unknown input format '{format}'; use one of: {', '.join(FORMATS)}.")
    opts = dict(text_column=text_column, id_column=id_column, encoding=encoding)
    if str(path) == "-":
        return _read_stdin(format, opts)
    return _read_path(Path(path), format, opts)


# --------------------------------------------------------------------------- #
# Format detection
# --------------------------------------------------------------------------- #

def _detect_from(name: str, head: bytes) -> str:
    """The extension picks the family; the content picks the flavour (or decides alone)."""
    low = name.lower()
    text = _decode_head(head)
    stripped = text.lstrip()
    if low.endswith((".parquet", ".pq")):
        return "parquet"
    if low.endswith((".zip", ".js")):
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
        return "text"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04") or stripped.startswith("window.YTD"):
        return "x"
    if stripped[:1] in ("[", "{"):
        return _json_flavour(low, text)
    return _delimited_flavour(text) or "text"


def _delimited_flavour(text: str) -> str | None:
    """Without an extension, call it CSV/TSV only when the header names a text column we know."""
    first = text.lstrip("\ufeff").partition("\n")[0].rstrip("\r")
    for delimiter, fmt in (("\t", "tsv"), (",", "csv")):
        fields = {f.strip().strip('"') for f in first.split(delimiter)}
        if len(fields) > 1 and ("text" in fields or _LINKEDIN_COLUMNS <= fields
                                or _REDDIT_COLUMNS <= fields):
            return _csv_flavour(text) if fmt == "csv" else fmt
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


def _sniff_stream_format(head: bytes) -> str:
    """Stdin has no name, so only its first characters can decide."""
    text = _decode_head(head).lstrip()
    if text.startswith("window.YTD"):
        return "x"
    if text.startswith("{"):
        return "jsonl"
    if text.startswith("["):
        return "json"
    return "text"


def _decode_head(head: bytes) -> str:
    """Decode a sniffed prefix leniently; a cut multi-byte character must not matter here."""
    enc = _bom_encoding(head) or "utf-8"
    return head.decode(enc, errors="ignore").lstrip("\ufeff")


def _bom_encoding(head: bytes) -> str | None:
    """Only a byte-order mark can tell UTF-16/32 from UTF-8 reliably."""
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "utf-32"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    return None


# --------------------------------------------------------------------------- #
# Opening sources
# --------------------------------------------------------------------------- #

class _Source:
    """A named binary stream plus what is known about it, passed to every reader."""

    def __init__(self, fh: IO[bytes], name: str, encoding: str | None, opts: dict):
        self.fh = fh
        self.name = name
        self.encoding = encoding
        self.opts = opts


class _HeadThenRest(io.RawIOBase):
    """Replay bytes already read for sniffing, then continue with the real stream."""

    def __init__(self, head: bytes, rest: IO[bytes]):
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        if self._head:
            n = min(len(buf), len(self._head))
            buf[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buf))
        buf[:len(data)] = data
        return len(data)


def _stdin_peek() -> bytes:
    """Look at the start of stdin without consuming it, so read_posts still sees every byte."""
    raw = getattr(sys.stdin, "buffer", sys.stdin)
    if hasattr(raw, "peek"):
        return raw.peek(4096)[:4096]
    if hasattr(raw, "seekable") and raw.seekable():
        pos = raw.tell()
        head = raw.read(4096)
        raw.seek(pos)
        return head
    raise UsageError("Cannot detect the format of this stdin; pass --format.")


def _stdin_head() -> tuple[bytes, IO[bytes]]:
    """Read a sniffable prefix of stdin and hand back a stream that still starts at byte 0."""
    raw = getattr(sys.stdin, "buffer", sys.stdin)
    head = raw.read(4096) or b""
    return head, io.BufferedReader(_HeadThenRest(head, raw), buffer_size=_BLOCK)


def _read_stdin(fmt: str | None, opts: dict) -> Iterator[Post]:
    """Stdin is sniffed by content only; parquet needs a seekable file."""
    head, stream = _stdin_head()
    if not head:
        raise DataError("stdin is empty.")
    fmt = fmt or _sniff_stream_format(head)
    if fmt == "parquet":
        raise UsageError("Parquet cannot be read from stdin; pass the file path instead.")
    yield from _READERS[fmt](_Source(stream, "stdin", opts["encoding"], opts))


def _read_path(p: Path, fmt: str | None, opts: dict) -> Iterator[Post]:
    """Open the file (or archive folder/zip) and dispatch to the reader for its format."""
    fmt = fmt or detect_format(p)
    if fmt == "x" and (p.is_dir() or zipfile.is_zipfile(p)):
        yield from _read_x_archive(p, opts)
        return
    if p.is_dir():
        raise DataError(f"{p.name} is a folder; pass a file inside it.")
    if fmt == "parquet":
        yield from _read_parquet(p, opts)
        return
    with open(p, "rb") as fh:
        if not fh.peek(1):
            raise DataError(f"{p.name} is empty.")
        yield from _READERS[fmt](_Source(fh, p.name, opts["encoding"], opts))


# --------------------------------------------------------------------------- #
# Decoding: BOMs, UTF-16, invalid UTF-8 and binary files
# --------------------------------------------------------------------------- #

def _prepare(src: _Source, kind: str) -> str:
    """Settle the encoding and reject empty or binary input before any parsing starts."""
    head = src.fh.peek(_SNIFF)[:_SNIFF] if hasattr(src.fh, "peek") else b""
    bom = _bom_encoding(head)
    enc = src.encoding or bom or "utf-8"
    body = head[3:] if bom == "utf-8-sig" else head
    blank = not body if kind == "text" else not body.strip(b" \t\r\n")
    if blank and bom in (None, "utf-8-sig"):
        raise DataError(f"{src.name} is empty.")
    if bom not in ("utf-16", "utf-32") and _looks_binary(head, enc):
        raise DataError(f"{src.name} looks like a binary file, not {_LABEL.get(kind, kind)}.")
    return enc


def _looks_binary(head: bytes, enc: str) -> bool:
    """NUL bytes or a wall of control bytes mean this is not text in any sane encoding."""
    if b"\x00" in head:
        return True
    if enc.replace("_", "-").lower() in ("utf-8", "utf8", "utf-8-sig"):
        try:
            head.decode("utf-8")
            return False
        except UnicodeDecodeError as exc:
            if exc.start >= len(head) - 4:  # a character cut by the sniff window
                return False
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return controls > len(head) * 0.1


def _is_utf8(enc: str) -> bool:
    """UTF-8 (with or without BOM) gets the exact line-numbered decoding path."""
    return enc.replace("_", "-").lower() in ("utf-8", "utf8", "utf-8-sig")


def _lines(src: _Source, kind: str) -> Iterator[str]:
    """Decoded lines (endings kept), one at a time, with exact line numbers in errors."""
    enc = _prepare(src, kind)
    if _is_utf8(enc):
        yield from _utf8_lines(src, kind)
    else:
        yield from _codec_lines(src, enc)


def _utf8_lines(src: _Source, kind: str) -> Iterator[str]:
    """Split on b'\\n' before decoding: safe in UTF-8 and lets us name the bad line."""
    for number, raw in enumerate(src.fh, start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if b"\x00" in raw:
            raise DataError(f"{src.name}, line {number}: contains NUL bytes; "
                            f"{src.name} looks like a binary file, not {_LABEL.get(kind, kind)}.")
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            raise DataError(f"{src.name}, line {number}: not valid UTF-8; pass --encoding.") from None


def _codec_lines(src: _Source, enc: str) -> Iterator[str]:
    """Other encodings (UTF-16 by BOM, or --encoding) go through TextIOWrapper."""
    try:
        text = io.TextIOWrapper(src.fh, encoding=enc, newline="\n")
    except LookupError:
        raise UsageError(f"Unknown encoding '{enc}'.") from None
    number = 0
    try:
        for number, line in enumerate(text, start=1):
            yield line.lstrip("\ufeff") if number == 1 else line
    except UnicodeDecodeError:
        raise DataError(f"{src.name}, near line {number + 1}: not valid {enc}; "
                        f"pass the right --encoding.") from None
    finally:
        text.detach()


class _BlockReader:
    """Decoded text in blocks for the JSON readers, naming the line of any bad byte."""

    def __init__(self, src: _Source, kind: str):
        enc = _prepare(src, kind)
        self.src = src
        self.enc = enc
        try:
            self.decoder = codecs.getincrementaldecoder(enc)("strict")
        except LookupError:
            raise UsageError(f"Unknown encoding '{enc}'.") from None
        self.lines_before = 0
        self.first = True

    def read(self, size: int = _BLOCK) -> str:
        """Return the next decoded block, or '' at the end of the input."""
        raw = self.src.fh.read(size)
        try:
            text = self.decoder.decode(raw, final=not raw)
        except UnicodeDecodeError as exc:
            line = self.lines_before + raw[:max(exc.start, 0)].count(b"\n") + 1
            hint = "pass --encoding" if _is_utf8(self.enc) else "pass the right --encoding"
            raise DataError(f"{self.src.name}, line {line}: not valid {_enc_label(self.enc)}; {hint}.") from None
        if _is_utf8(self.enc):
            self.lines_before += raw.count(b"\n")
        if self.first:
            text = text.lstrip("\ufeff")
            self.first = False
        return text


def _enc_label(enc: str) -> str:
    """The encoding as users know it, for messages."""
    return "UTF-8" if _is_utf8(enc) else enc


# --------------------------------------------------------------------------- #
# Incremental JSON: arrays of any size, one element in memory at a time
# --------------------------------------------------------------------------- #

class _JsonStream:
    """Walk a JSON document in blocks, decoding one array element at a time."""

    _decoder = json.JSONDecoder()
    _ws = re.compile(r"[ \t\n\r]*")

    def __init__(self, blocks: _BlockReader, name: str):
        self.blocks = blocks
        self.name = name
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.line_base = 1
        self.count = 0

    def _fill(self) -> bool:
        """Append the next block (dropping consumed text); False at end of input."""
        if self.eof:
            return False
        chunk = self.blocks.read(max(_BLOCK, len(self.buf) - self.pos))
        if not chunk:
            self.eof = True  # the buffer stays as it was, so error offsets remain valid
            return False
        if self.pos:
            self.line_base += self.buf.count("\n", 0, self.pos)
            self.buf = self.buf[self.pos:]
            self.pos = 0
        self.buf += chunk
        return True

    def line(self) -> int:
        """Line number of the cursor, for error messages."""
        return self.line_base + self.buf.count("\n", 0, self.pos)

    def peek(self) -> str:
        """Skip whitespace and return the next character, or '' at end of input."""
        while True:
            self.pos = self._ws.match(self.buf, self.pos).end()
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._fill():
                return ""

    def startswith(self, text: str) -> bool:
        """Whether the next non-blank characters are ``text`` (reads more if needed)."""
        self.peek()
        while len(self.buf) - self.pos < len(text) and self._fill():
            pass
        return self.buf.startswith(text, self.pos)

    def skip(self, n: int) -> None:
        """Step over punctuation already checked with peek()."""
        self.pos += n

    def value(self):
        """Decode the value at the cursor, reading more blocks until it is complete."""
        self.peek()
        while True:
            try:
                obj, end = self._decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if self._fill():
                    continue
                if exc.pos >= len(self.buf.rstrip()) or exc.msg.startswith("Unterminated string"):
                    raise self.truncated() from None
                raise self.invalid(exc) from None
            if end == len(self.buf) and self._fill():
                continue  # a number may continue in the next block
            self.pos = end
            return obj

    def truncated(self) -> DataError:
        posts = "post" if self.count == 1 else "posts"
        return DataError(f"{self.name}: the JSON ends early after {self.count} {posts} "
                         f"(is the file truncated?)")

    def invalid(self, exc: json.JSONDecodeError | None = None, expected: str = "") -> DataError:
        line = self.line_base + self.buf.count("\n", 0, exc.pos if exc else self.pos)
        what = exc.msg if exc else f"expected {expected}"
        return DataError(f"{self.name}, line {line}: invalid JSON ({what}).")

    def array(self) -> Iterator:
        """Yield the elements of the array at the cursor."""
        if self.peek() != "[":
            raise self.invalid(expected="'['")
        self.skip(1)
        if self.peek() == "]":
            self.skip(1)
            return
        while True:
            if self.peek() == "":
                raise self.truncated()
            item = self.value()
            self.count += 1
            yield item
            c = self.peek()
            if c == ",":
                self.skip(1)
            elif c == "]":
                self.skip(1)
                return
            elif c == "":
                raise self.truncated()
            else:
                raise self.invalid(expected="',' or ']' between posts")

    def posts_list(self, key: str | None) -> Iterator:
        """Stream the top-level array, or the list held under ``key`` (or the first list) of an object."""
        c = self.peek()
        if c == "[":
            yield from self.array()
            return
        if c != "{":
            raise DataError(f"{self.name}: expected a JSON array or object at the start.")
        self.skip(1)
        found = False
        while True:
            c = self.peek()
            if c == "}":
                break
            if c == "":
                raise self.truncated()
            name = self.value()
            if self.peek() != ":":
                raise self.invalid(expected="':'")
            self.skip(1)
            wanted = (name == key) if key else (not found and not str(name).startswith("@"))
            if wanted and self.peek() == "[":
                found = True
                yield from self.array()
            else:
                self.value()
            c = self.peek()
            if c == ",":
                self.skip(1)
            elif c != "}":
                raise self.truncated() if c == "" else self.invalid(expected="',' or '}'")
        if not found:
            what = f"no list under '{key}'" if key else "no list of posts"
            raise DataError(f"{self.name}: the JSON object holds {what}.")


def _json_items(src: _Source, kind: str, key: str | None = None) -> Iterator:
    """Elements of the posts list in a (possibly huge) JSON file."""
    stream = _JsonStream(_BlockReader(src, kind), src.name)
    return stream.posts_list(key)


# --------------------------------------------------------------------------- #
# Shared helpers for records
# --------------------------------------------------------------------------- #

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


def _pick_columns(name: str, columns: list[str], opts: dict) -> tuple[str, str | None]:
    """Choose text and id columns, with the message users need when one is missing."""
    found = ", ".join(columns) if columns else "none"
    text_col = opts["text_column"] or "text"
    if text_col not in columns:
        raise DataError(f"{name}: no column '{text_col}' (found: {found}); use --text-column.")
    id_col = opts["id_column"]
    if id_col is not None and id_col not in columns:
        raise DataError(f"{name}: no column '{id_col}' (found: {found}); use --id-column.")
    if id_col is None and "id" in columns:
        id_col = "id"
    return text_col, id_col


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


# --------------------------------------------------------------------------- #
# Generic formats
# --------------------------------------------------------------------------- #

def _read_csv(src: _Source, delimiter: str = ",", kind: str = "csv") -> Iterator[Post]:
    """CSV/TSV rows to Posts; ragged rows are kept with a note, header-only gives nothing."""
    rows = _csv_rows(src, delimiter, kind)
    header = next(rows, None)
    if header is None:
        return
    _, header = header
    text_col, id_col = _pick_columns(src.name, header, src.opts)
    yield from _csv_posts(src.name, header, rows, text_col, id_col)


def _csv_posts(name, header, rows, text_col, id_col) -> Iterator[Post]:
    """Data rows to Posts; a row of the wrong width is kept, its fields cannot be trusted."""
    t_i = header.index(text_col)
    i_i = header.index(id_col) if id_col else None
    skip = {text_col, id_col}
    for row_no, row in rows:
        where = f"{name}, row {row_no}"
        if isinstance(row, str):
            yield Post(None, None, None, None, None, f"malformed row: {row}", {}, where)
            continue
        if len(row) != len(header):
            note = "blank row" if not row else \
                f"malformed row: expected {len(header)} fields, found {len(row)}"
            yield Post(None, None, None, None, None, note, {}, where)
            continue
        text, note = _text_value(row[t_i])
        extra = {h: v for h, v in zip(header, row) if h not in skip}
        yield Post(_id_value(row[i_i]) if i_i is not None else None, text, *_known_fields(extra),
                   note, extra, where)


class _Tracked:
    """An iterator that remembers whether it ran out, so a row ended by EOF can be told apart."""

    def __init__(self, iterator: Iterator[str]):
        self.iterator = iterator
        self.done = False

    def __iter__(self):
        return self

    def __next__(self) -> str:
        try:
            return next(self.iterator)
        except StopIteration:
            self.done = True
            raise


def _csv_rows(src: _Source, delimiter: str, kind: str) -> Iterator[tuple[int, list | str]]:
    """(row number, fields) with the header as row 1, like a spreadsheet; csv errors become notes."""
    csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))  # posts can be long
    lines = _Tracked(_lines(src, kind))
    reader = csv.reader(lines, delimiter=delimiter, strict=False)
    row_no = 0
    while True:
        row_no += 1
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield row_no, str(exc)
            continue
        if lines.done:  # the row only ended because the input did: its quote never closes
            raise DataError(f"{src.name}, line {start}: a quoted field opened in this row is never "
                            f"closed, so the rest of the file would be read as one post; "
                            f"fix the quotes (or is the file truncated?).")
        if row_no == 1:
            row = [h.strip() for h in row]
        yield row_no, row


def _read_tsv(src: _Source) -> Iterator[Post]:
    """TSV is CSV with tabs (quoting rules included)."""
    return _read_csv(src, "\t", "tsv")


def _read_jsonl(src: _Source) -> Iterator[Post]:
    """One object per line; a bad line becomes a Post with a note and reading goes on."""
    text_col = id_col = None
    for number, line in enumerate(_lines(src, "jsonl"), start=1):
        where = f"{src.name}, line {number}"
        if not line.strip():
            yield Post(None, None, None, None, None, "blank line", {}, where)
            continue
        try:
            record = json.loads(line)
        except ValueError:
            yield Post(None, None, None, None, None, "invalid JSON on this line", {}, where)
            continue
        if not isinstance(record, dict):
            yield _not_object(where, None)
            continue
        if text_col is None:
            text_col, id_col = _pick_columns(src.name, list(record), src.opts)
        yield _record_post(record, text_col, id_col, where)


def _record_post(record: dict, text_col: str, id_col: str | None, where: str) -> Post:
    """A generic JSON record as a Post; a record lacking the text field gets a note."""
    if text_col in record:
        text, note = _text_value(record[text_col])
    else:
        text, note = None, f"no '{text_col}' field in this record"
    extra = _extra(record, {text_col, id_col})
    return Post(_id_value(record.get(id_col)) if id_col else None, text, *_known_fields(extra), note,
                extra, where)


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


def _read_json(src: _Source) -> Iterator[Post]:
    """A top-level array of objects, or an object holding one list, streamed element by element."""
    text_col = id_col = None
    for number, record in enumerate(_json_items(src, "json"), start=1):
        where = f"{src.name}, item {number}"
        if not isinstance(record, dict):
            yield _not_object(where, None)
            continue
        if text_col is None:
            text_col, id_col = _pick_columns(src.name, list(record), src.opts)
        yield _record_post(record, text_col, id_col, where)


def _read_text(src: _Source) -> Iterator[Post]:
    """One post per line; blank lines stay as empty posts so line counts match."""
    for number, line in enumerate(_lines(src, "text"), start=1):
        text = line[:-1] if line.endswith("\n") else line
        text = text[:-1] if text.endswith("\r") else text
        note = "blank line" if not text.strip() else None
        yield Post(None, text, None, None, None, note, {}, f"{src.name}, line {number}")


def _read_parquet(p: Path, opts: dict) -> Iterator[Post]:
    """Parquet in record batches via iter_batches, never the whole table."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    if p.stat().st_size == 0:
        raise DataError(f"{p.name} is empty.")
    try:
        pf = pq.ParquetFile(p)
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"{p.name} is not a valid Parquet file ({exc}).") from None
    columns = list(pf.schema_arrow.names)
    text_col, id_col = _pick_columns(p.name, columns, opts)
    row_no = 0
    for batch in pf.iter_batches(batch_size=4096):
        for record in batch.to_pylist():
            row_no += 1
            yield _record_post(record, text_col, id_col, f"{p.name}, row {row_no}")


# --------------------------------------------------------------------------- #
# X / Twitter archive
# --------------------------------------------------------------------------- #

_MONTHS = {m: i for i, m in enumerate(
    "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), start=1)}


def _x_time(value) -> str | None:
    """'Wed Mar 06 14:02:11 +0000 2024' to ISO, without depending on the C locale."""
    if not isinstance(value, str):
        return None
    parts = value.split()
    if len(parts) != 6 or parts[1] not in _MONTHS:
        return _iso_any(value)
    try:
        h, mi, s = (int(x) for x in parts[3].split(":"))
        off = parts[4]
        sign = -1 if off.startswith("-") else 1
        tz = timezone(sign * timedelta(hours=int(off[1:3]), minutes=int(off[3:5])))
        dt = datetime(int(parts[5]), _MONTHS[parts[1]], int(parts[2]), h, mi, s, tzinfo=tz)
    except (ValueError, IndexError):
        return None
    return dt.isoformat()


def _x_unescape(text: str) -> str:
    """X escapes exactly &, < and > in full_text; undo only those, &amp; last."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _tweet_post(item, where: str) -> Post:
    """One archive element ({"tweet": {...}} or a bare tweet) as a Post."""
    if not isinstance(item, dict):
        return _not_object(where, "x")
    tweet = item.get("tweet", item) if isinstance(item.get("tweet", item), dict) else item
    raw = tweet.get("full_text", tweet.get("text"))
    text, note = _text_value(raw)
    if text is not None:
        text = _x_unescape(text)
    reply_keys = ("in_reply_to_status_id_str", "in_reply_to_status_id",
                  "in_reply_to_user_id_str", "in_reply_to_screen_name")
    is_reply = any(tweet.get(k) not in (None, "") for k in reply_keys)
    tid = tweet.get("id_str", tweet.get("id"))
    return Post(_id_value(tid), text, _x_time(tweet.get("created_at")), "x", is_reply, note,
                _extra(tweet, {"full_text", "text", "id_str"}), where)


def _read_x_stream(src: _Source) -> Iterator[Post]:
    """A tweets.js: strip the 'window.YTD.tweets.partN =' prefix, then stream the array."""
    stream = _JsonStream(_BlockReader(src, "x"), src.name)
    if stream.startswith("window.YTD"):
        while "=" not in stream.buf[stream.pos:stream.pos + 200] and stream._fill():
            pass
        m = _YTD_PREFIX.match(stream.buf, stream.pos)
        if not m:
            raise DataError(f"{src.name} starts with an unknown 'window.YTD' prefix; "
                            f"expected 'window.YTD.tweets.part0 = [...]'.")
        if m.group(1) not in _YTD_TWEET_KINDS:
            raise DataError(f"{src.name} holds 'window.YTD.{m.group(1)}' data, not tweets; "
                            f"pass data/tweets.js from the archive.")
        stream.pos = m.end()
    elif stream.peek() != "[":
        start = (stream.buf[stream.pos:stream.pos + 30].splitlines() or [""])[0]
        raise DataError(f"{src.name} does not look like an X archive tweets file: it starts with "
                        f"'{start}', not 'window.YTD.tweets.part0 = ['.")
    for number, item in enumerate(stream.array(), start=1):
        yield _tweet_post(item, f"{src.name}, post {number}")


def _tweet_part(name: str) -> int | None:
    """Part number of data/tweets.js (0) or data/tweets-partN.js (N); None for other files."""
    m = _TWEET_FILE.match(name)
    if not m:
        return None
    return int(m.group(1) or 0)


def _archive_tweet_files(folder: Path) -> list[Path]:
    """tweets*.js inside an unpacked archive (its data/ folder or the archive root), in part order."""
    data = folder / "data" if (folder / "data").is_dir() else folder
    found = [(_tweet_part(f.name), f) for f in data.iterdir() if f.is_file()]
    return [f for part, f in sorted((x for x in found if x[0] is not None), key=lambda x: x[0])]


def _read_x_archive(p: Path, opts: dict) -> Iterator[Post]:
    """The whole archive, as a folder or a .zip read in place (never extracted to disk)."""
    if p.is_dir():
        files = _archive_tweet_files(p)
        if not files:
            raise DataError(f"{p.name} is a folder but not an X archive (no data/tweets.js inside).")
        for f in files:
            with open(f, "rb") as fh:
                yield from _read_x_stream(_Source(fh, f.name, opts["encoding"], opts))
        return
    try:
        zf = zipfile.ZipFile(p)
    except zipfile.BadZipFile:
        raise DataError(f"{p.name} is not a valid zip file.") from None
    with zf:
        members = [(_tweet_part(Path(n).name), n) for n in zf.namelist()
                   if re.search(r"(^|/)data/[^/]+$", n)]
        members = sorted((m for m in members if m[0] is not None), key=lambda m: m[0])
        if not members:
            raise DataError(f"{p.name} is not an X archive (no data/tweets.js inside).")
        for _, name in members:
            with zf.open(name) as raw:
                fh = io.BufferedReader(raw, buffer_size=_BLOCK)
                yield from _read_x_stream(_Source(fh, Path(name).name, opts["encoding"], opts))


# --------------------------------------------------------------------------- #
# Facebook and Instagram (Meta exports share the mojibake)
# --------------------------------------------------------------------------- #

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
        yield _facebook_post(item, f"{src.name}, post {number}")


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
        yield _instagram_post(item, f"{src.name}, post {number}")


# --------------------------------------------------------------------------- #
# LinkedIn and Reddit (CSV exports)
# --------------------------------------------------------------------------- #

def _platform_records(src: _Source, kind: str, platform: str, check_header) -> Iterator[tuple[str, dict | Post]]:
    """(where, record as a dict) for each row of a platform's CSV export; a malformed row
    comes as a ready Post with its note instead, so it still gets its output row.
    ``check_header(header)`` raises when the file is not the export it claims to be."""
    rows = _csv_rows(src, ",", kind)
    first = next(rows, None)
    if first is None:
        return
    header = first[1]
    check_header(header)
    for row_no, row in rows:
        where = f"{src.name}, row {row_no}"
        if isinstance(row, str) or len(row) != len(header):
            note = f"malformed row: {row}" if isinstance(row, str) else \
                f"malformed row: expected {len(header)} fields, found {len(row)}"
            yield where, Post(None, None, None, platform, None, note, {}, where)
            continue
        yield where, dict(zip(header, row))


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


def _read_reddit(src: _Source) -> Iterator[Post]:
    """posts.csv (title + body) or comments.csv (body, always a reply)."""
    is_posts = False

    def check(header):
        nonlocal is_posts
        is_posts = "title" in header
        if "body" not in header and not is_posts:
            raise DataError(f"{src.name}: no column 'body' (found: {', '.join(header)}); "
                            f"is this Reddit's posts.csv or comments.csv?")

    for where, rec in _platform_records(src, "reddit", "reddit", check):
        yield rec if isinstance(rec, Post) else _reddit_post(rec, is_posts, where)


def _reddit_post(rec: dict, is_posts: bool, where: str) -> Post:
    """A submission reads as title then body; a comment is its body and always a reply."""
    body = rec.get("body") or ""
    if body.strip() in ("[deleted]", "[removed]"):
        body = ""
    if is_posts:
        title = rec.get("title") or ""
        raw = f"{title}\n\n{body}" if body.strip() else title
    else:
        raw = body
    text, note = _text_value(raw)
    if text is None and rec.get("body", "").strip() in ("[deleted]", "[removed]"):
        note = "deleted or removed"
    return Post(rec.get("id") or None, text, _iso_plain_utc(rec.get("date")), "reddit",
                not is_posts, note, _extra(rec, {"id", "title", "body"}), where)


# --------------------------------------------------------------------------- #
# Mastodon outbox
# --------------------------------------------------------------------------- #

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
        yield _mastodon_post(item, f"{src.name}, post {number}")


_READERS = {
    "x": _read_x_stream, "facebook": _read_facebook, "instagram": _read_instagram,
    "linkedin": _read_linkedin, "mastodon": _read_mastodon, "reddit": _read_reddit,
    "csv": _read_csv, "tsv": _read_tsv, "jsonl": _read_jsonl, "json": _read_json,
    "text": _read_text,
}
