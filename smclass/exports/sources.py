"""Opening inputs: stdin replay, encodings (BOMs, UTF-16, --encoding), binary refusal, decoded lines and blocks."""

from __future__ import annotations

import codecs
import io
import itertools
import re
import sys
from typing import IO, Iterator

from smclass.errors import DataError, UsageError

from .records import _BLOCK, _SNIFF, MAX_RECORD_BYTES

MAX_LINE_BYTES = MAX_RECORD_BYTES


_LABEL = {"csv": "CSV", "tsv": "TSV", "jsonl": "JSON Lines", "json": "JSON", "text": "text",
          "x": "an X archive file", "facebook": "JSON", "instagram": "JSON", "mastodon": "JSON",
          "linkedin": "CSV", "reddit": "CSV"}


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


class _Source:
    """A named binary stream plus what is known about it, passed to every reader."""

    def __init__(self, fh: IO[bytes], name: str, encoding: str | None, opts: dict):
        self.fh = fh
        self.name = name
        self.encoding = encoding
        self.opts = opts
        self.surrogates = False  # set once the JSON text shows a "\\ud800"-"\\udfff" escape


SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")


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


def _prepare(src: _Source, kind: str) -> str:
    """Settle the encoding and reject empty or binary input before any parsing starts."""
    head = src.fh.peek(_SNIFF)[:_SNIFF] if hasattr(src.fh, "peek") else b""
    bom = _bom_encoding(head)
    enc = src.encoding or bom or "utf-8"
    body = head[3:] if bom == "utf-8-sig" else head
    blank = not body if kind == "text" else not body.strip(b" \t\r\n")
    if blank and bom in (None, "utf-8-sig"):
        raise DataError(f"{src.name} is empty.")
    if bom not in ("utf-16", "utf-32") and not _is_wide(enc) and _looks_binary(head, enc):
        raise DataError(f"{src.name} looks like a binary file, not {_LABEL.get(kind, kind)}.")
    return enc


def _looks_binary(head: bytes, enc: str) -> bool:
    """NUL bytes or a wall of control bytes mean this is not text in any sane encoding."""
    if b"\x00" in head:
        return True
    if _is_utf8(enc):
        try:
            head.decode("utf-8")
            return False
        except UnicodeDecodeError as exc:
            if exc.start >= len(head) - 4:  # a character cut by the sniff window
                return False
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return controls > len(head) * 0.1


def _is_wide(enc: str) -> bool:
    """UTF-16/32 chosen with --encoding: NUL bytes are normal there, not a sign of binary."""
    return enc.replace("_", "-").lower().startswith(("utf-16", "utf16", "utf-32", "utf32"))


def _is_utf8(enc: str) -> bool:
    """UTF-8 (with or without BOM) gets the exact line-numbered decoding path."""
    return enc.replace("_", "-").lower() in ("utf-8", "utf8", "utf-8-sig")


def _lines(src: _Source, kind: str) -> Iterator[str]:
    """Decoded lines (endings kept), one at a time, with exact line numbers in errors."""
    return itertools.chain.from_iterable(_line_blocks(src, kind))


def _line_blocks(src: _Source, kind: str) -> Iterator[list[str]]:
    """The lines of :func:`_lines` in lists (a block of the file at a time), for readers that
    take them with C-level iteration (``itertools.chain``) instead of one generator step per line."""
    enc = _prepare(src, kind)
    if _is_utf8(enc):
        yield from _utf8_blocks(src, kind)
    else:
        lines = _codec_lines(src, enc)
        try:
            for line in lines:
                yield [line]
        finally:
            lines.close()          # now, while its file is open (it detaches a wrapper from it)


_LONE_CR = re.compile(rb"(?<=\r)(?!\n)")


def _rest_of_lines(raw: bytes, readline, name: str, number: int) -> list[bytes]:
    """Byte lines from ``raw`` on, ending in \\n, \\r\\n or a lone \\r (old Excel for Mac),
    endings kept, reading on until one ends at \\n or the input does. A line may not grow past
    MAX_LINE_BYTES, so one huge line cannot fill memory. Ends with b"" at end of input."""
    out: list[bytes] = []
    pending = b""
    while True:
        if not raw:
            if pending:
                out.append(pending)
            out.append(b"")
            return out
        buf = pending + raw
        pieces = _LONE_CR.split(buf)
        if pieces[-1] == b"":
            pieces.pop()
        last = pieces.pop()
        out.extend(pieces)
        if last.endswith(b"\n"):
            out.append(last)
            return out
        pending = last  # cut by the size limit, or a CR that a LF may follow in the next read
        if len(pending) > MAX_LINE_BYTES:
            raise DataError(f"{name}, line {number + len(out) + 1}: longer than {MAX_LINE_BYTES >> 20} MB; "
                            f"refusing it (is this really a file of posts?).")
        raw = readline(MAX_LINE_BYTES)


LINE_BLOCK = 1 << 20       # bytes read at a time by the UTF-8 line reader


def _utf8_blocks(src: _Source, kind: str) -> Iterator[list[str]]:
    """UTF-8 lines, a block of whole lines at a time: the lines, line numbers and errors of reading
    line by line (split into byte lines before decoding: safe in UTF-8 and names the bad line).

    A block of whole lines with no NUL byte that decodes as a whole is split once (its lines are
    exactly the byte lines, decoded); anything else goes line by line. The start of a line a block
    ends inside is carried into the next block; a line longer than a block is read as readline would."""
    fh = src.fh
    read = getattr(fh, "read1", fh.read)     # what is there, up to a block: a pipe is not waited on
    readline = fh.readline
    number = 0
    carry = b""
    # a block holds at most two reads, so no line in it is longer than MAX_LINE_BYTES: every one is
    # a line the line-by-line reader takes whole
    step = max(1, min(LINE_BLOCK, MAX_LINE_BYTES // 2))
    while True:
        more = read(step)
        block = carry + more if carry else more
        cut = block.rfind(b"\n") + 1
        carry = block[cut:]          # the start of a line this block ends inside
        block = block[:cut]
        if block:
            if number == 0 and block.startswith(b"\xef\xbb\xbf"):
                block = block[3:]
            lines = _decoded_block(block)
            if lines is None:        # a NUL byte or bad UTF-8 somewhere: name its line
                lines = []
                try:
                    number = _decode_lines(block.splitlines(keepends=True), number, src.name, kind, lines)
                finally:
                    if lines:
                        yield lines
            else:
                number += len(lines)
                yield lines
        if carry and (not more or len(carry) > step):
            # the last line (no line end) or a very long one: as one readline from its start gives it
            raw = carry + readline(MAX_LINE_BYTES - len(carry)) if more else carry
            carry = b""
            if raw.endswith(b"\n") and b"\r" not in raw[:-2]:
                raws = [raw]
            else:
                raws = _rest_of_lines(raw, readline, src.name, number)
            ended = raws[-1] == b""
            if ended:
                raws.pop()
            if number == 0 and raws and raws[0].startswith(b"\xef\xbb\xbf"):
                raws[0] = raws[0][3:]
            lines = []
            try:
                number = _decode_lines(raws, number, src.name, kind, lines)
            finally:
                if lines:
                    yield lines
            if ended:
                return
        elif not more:
            return


def _decoded_block(block: bytes) -> list[str] | None:
    """The decoded lines of ``block`` (whole byte lines), or None if one holds a NUL byte or bad UTF-8."""
    if b"\x00" in block:
        return None
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = text.splitlines(keepends=True)
    if len(lines) == block.count(b"\n"):       # every break a line end: the byte lines' split exactly
        return lines
    return [line.decode("utf-8") for line in block.splitlines(keepends=True)]   # lone CR or U+2028 ...


def _decode_lines(raws: list[bytes], number: int, name: str, kind: str, out: list[str]) -> int:
    """Decode byte lines into ``out``, numbering them after ``number``; the first NUL byte or bad
    UTF-8 raises naming its line. Returns the last line's number."""
    for raw in raws:
        number += 1
        if b"\x00" in raw:
            raise DataError(f"{name}, line {number}: contains NUL bytes; "
                            f"{name} looks like a binary file, not {_LABEL.get(kind, kind)}.")
        try:
            out.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise DataError(f"{name}, line {number}: not valid UTF-8; pass --encoding.") from None
    return number


def _codec_lines(src: _Source, enc: str) -> Iterator[str]:
    """Other encodings (UTF-16 by BOM, or --encoding) go through TextIOWrapper, any line ending."""
    try:
        text = io.TextIOWrapper(src.fh, encoding=enc, newline="")
    except LookupError:
        raise UsageError(f"Unknown encoding '{enc}'.") from None
    number = 0
    try:
        while True:
            line = text.readline(MAX_LINE_BYTES)
            if not line:
                return
            number += 1
            if len(line) >= MAX_LINE_BYTES and not line.endswith(("\n", "\r")):
                raise DataError(f"{src.name}, line {number}: longer than {MAX_LINE_BYTES >> 20} MB; "
                                f"refusing it (is this really a file of posts?).")
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
        self.counts_lines = _is_utf8(enc)    # lines_before: the line ends of all the text read so far
        self.first = True
        self.tail = ""

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
        if not self.src.surrogates and SURROGATE_ESCAPE.search(self.tail + text):
            self.src.surrogates = True
        self.tail = text[-6:]
        return text


def _enc_label(enc: str) -> str:
    """The encoding as users know it, for messages."""
    return "UTF-8" if _is_utf8(enc) else enc
