"""Incremental JSON: arrays of any size, one element in memory at a time."""

from __future__ import annotations

import json
import re
from typing import Iterator

from smclass.errors import DataError
from .records import _BLOCK, MAX_RECORD_BYTES
from .sources import _BlockReader, _Source

BULK_SEPARATOR = "\n  },\n  {"   # between two elements of an X archive's array (see _JsonStream._bulk_run)
BULK_FAILURES = 8                 # declined runs after which a stream stops offering runs


class _JsonStream:
    """Walk a JSON document in blocks, decoding one array element at a time."""

    _decoder = json.JSONDecoder()
    _scan = staticmethod(_decoder.scan_once)     # raw_decode without its wrapper (same scanner)
    _ws = re.compile(r"[ \t\n\r]*")
    _next = re.compile(r"[ \t\n\r]*,[ \t\n\r]*")   # between two elements of an array

    def __init__(self, blocks: _BlockReader, name: str):
        self.blocks = blocks
        self.name = name
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.newlines = 0  # line ends in all the text read so far (line numbers count back from here)
        # a UTF-8 _BlockReader counts the line ends of its bytes already (the same as in the text)
        self.counted = getattr(blocks, "counts_lines", False)
        self.count = 0
        self.start = 0  # where the last value() began; buf[start:pos] is its JSON text
        self.fills = 0  # blocks read so far
        self._bare = -1  # the fill whose buffer held no BULK_SEPARATOR past the cursor

    def _fill(self) -> bool:
        """Append the next block (dropping consumed text); False at end of input."""
        if self.eof:
            return False
        chunk = self.blocks.read(max(_BLOCK, len(self.buf) - self.pos))
        if not chunk:
            self.eof = True  # the buffer stays as it was, so error offsets remain valid
            return False
        if self.pos:
            self.buf = self.buf[self.pos:]
            self.pos = 0
        self.buf += chunk
        self.fills += 1
        self.newlines = self.blocks.lines_before if self.counted else self.newlines + chunk.count("\n")
        return True

    def line(self, pos: int | None = None) -> int:
        """Line number of the cursor (or of ``pos`` in the buffer), for error messages: counted back
        from the end of what was read, so reading never counts lines it does not need."""
        return 1 + self.newlines - self.buf.count("\n", self.pos if pos is None else pos)

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
        return self._value()

    def _value(self):
        """value() with the cursor already on the value's first character."""
        for _ in range(2):                # the common case: the value ends inside the buffer
            if self.pos >= len(self.buf):
                break
            try:
                obj, end = self._scan(self.buf, self.pos)
            except RecursionError:
                break                     # refused below
            except (StopIteration, ValueError):
                # cut by the end of the buffer, most likely: read on (as below) and try once more,
                # else decode below, for its error (a failed decode counts the buffer's lines: once)
                if len(self.buf) - self.pos > MAX_RECORD_BYTES or not self._fill():
                    break
                continue
            if end < len(self.buf):
                self.start, self.pos = self.pos, end
                return obj
            break
        while True:
            try:
                obj, end = self._decoder.raw_decode(self.buf, self.pos)
            except RecursionError:
                raise DataError(f"{self.name}, line {self.line()}: the JSON is nested too deeply "
                                f"to be a post; refusing it.") from None
            except json.JSONDecodeError as exc:
                if len(self.buf) - self.pos > MAX_RECORD_BYTES:
                    raise DataError(f"{self.name}, line {self.line()}: one record is larger than "
                                    f"{MAX_RECORD_BYTES >> 20} MB; refusing it "
                                    f"(is this really a file of posts?).") from None
                if self._fill():
                    continue
                if exc.pos >= len(self.buf.rstrip()) or exc.msg.startswith("Unterminated string"):
                    raise self.truncated() from None
                raise self.invalid(exc) from None
            if end == len(self.buf) and self._fill():
                continue  # a number may continue in the next block
            self.start, self.pos = self.pos, end
            return obj

    def last_text(self) -> str:
        """The JSON text of the value just decoded (valid until the stream moves on)."""
        return self.buf[self.start:self.pos]

    def truncated(self) -> DataError:
        posts = "post" if self.count == 1 else "posts"
        return DataError(f"{self.name}: the JSON ends early after {self.count} {posts} "
                         f"(is the file truncated?)")

    def invalid(self, exc: json.JSONDecodeError | None = None, expected: str = "") -> DataError:
        line = self.line(exc.pos if exc else None)
        what = exc.msg if exc else f"expected {expected}"
        return DataError(f"{self.name}, line {line}: invalid JSON ({what}).")

    def array(self, bulk=None) -> Iterator:
        """Yield the elements of the array at the cursor.

        ``bulk``: a faster decoder for whole runs of elements (see :meth:`_bulk_run`); whatever it
        declines is decoded here one element at a time, so errors and their messages stay the same.
        """
        if self.peek() != "[":
            raise self.invalid(expected="'['")
        self.skip(1)
        if self.peek() == "]":
            self.skip(1)
            return
        following = self._next.match
        slow = 0                  # elements to decode one by one before trying bulk again
        failures = 0
        while True:
            if self.peek() == "":
                raise self.truncated()
            run = None
            if bulk is not None and slow <= 0 and self._bare != self.fills:
                run, elements = self._bulk_run(bulk)
                if run is None and not elements and len(self.buf) - self.pos < _BLOCK and self._fill():
                    # the rest of the buffer is one element cut short: read on rather than let the
                    # decoder fail on it (each failure counts the lines of the buffer for its message)
                    run, elements = self._bulk_run(bulk)
                if run is None and elements:
                    failures += 1
                    slow = elements
                    if failures >= BULK_FAILURES:
                        bulk = None       # this file does not suit it: stop paying for failed tries
            if run is not None:
                base = self.pos
                for item, start, end in run:
                    self.start, self.pos = base + start, base + end
                    self.count += 1
                    yield item
            else:
                while True:       # this element, then those after a comma already in the buffer
                    item = self._value()
                    self.count += 1
                    slow -= 1
                    yield item
                    if not (bulk is None or slow > 0 or self._bare == self.fills):
                        break     # time to offer a bulk run again
                    m = following(self.buf, self.pos)
                    if m is None or m.end() >= len(self.buf):
                        break
                    self.pos = m.end()
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

    def _bulk_run(self, bulk) -> tuple[list | None, int]:
        """(the complete elements in the buffer from the cursor, decoded by ``bulk``, each with its
        start and end relative to the cursor; or None), and how many elements were offered.

        Elements are cut where the buffer holds BULK_SEPARATOR, the line break, indent and comma
        between two top-level objects of a pretty-printed array, as X writes its archives. A raw line
        break cannot be inside a JSON string, and a wrong cut would leave brackets open, so ``bulk``
        (which decodes ``"[" + run + "]"`` and returns None for anything it cannot decode exactly)
        only ever succeeds on a run of whole elements.
        """
        buf, pos = self.buf, self.pos
        last = buf.rfind(BULK_SEPARATOR, pos)
        if last < 0:          # not until more is read: one search per block
            self._bare = self.fills
            return None, 0
        starts, ends = [0], []
        step = len(BULK_SEPARATOR)
        at = buf.find(BULK_SEPARATOR, pos, last + step)
        while at >= 0:
            ends.append(at + 4 - pos)           # just past the element's closing brace
            starts.append(at + step - 1 - pos)  # the next element's opening brace
            at = buf.find(BULK_SEPARATOR, at + step, last + step)
        starts.pop()                             # the element after the last separator may be incomplete
        items = bulk(buf[pos : last + 4])
        if items is None or len(items) != len(starts):
            return None, len(starts)
        return list(zip(items, starts, ends)), len(starts)

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
