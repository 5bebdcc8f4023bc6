"""The UTF-8 line reader reads a block at a time: the same lines, numbers and errors as line by line."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smclass.errors import DataError
from smclass.exports import sources
from smclass.exports.sources import _LONE_CR, _Source, _lines


def _one_at_a_time(data: bytes, name: str = "f.csv", kind: str = "csv", limit: int | None = None):
    """The reader before blocks (readline per line), kept here as the reference: (lines, error)."""
    limit = limit or sources.MAX_LINE_BYTES
    fh = io.BufferedReader(io.BytesIO(data))
    readline = fh.readline
    out, number = [], 0

    def rest(raw):
        lines, pending = [], b""
        while True:
            if not raw:
                if pending:
                    lines.append(pending)
                lines.append(b"")
                return lines
            pieces = _LONE_CR.split(pending + raw)
            if pieces[-1] == b"":
                pieces.pop()
            last = pieces.pop()
            lines.extend(pieces)
            if last.endswith(b"\n"):
                lines.append(last)
                return lines
            pending = last
            if len(pending) > limit:
                raise DataError(f"{name}, line {number + len(lines) + 1}: longer than {limit >> 20} MB; "
                                f"refusing it (is this really a file of posts?).")
            raw = readline(limit)

    try:
        while True:
            raw = readline(limit)
            lines = (raw,) if raw.endswith(b"\n") and b"\r" not in raw[:-2] else rest(raw)
            for raw in lines:
                if not raw:
                    return out, None
                number += 1
                if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                if b"\x00" in raw:
                    raise DataError(f"{name}, line {number}: contains NUL bytes; "
                                    f"{name} looks like a binary file, not CSV.")
                try:
                    out.append(raw.decode("utf-8"))
                except UnicodeDecodeError:
                    raise DataError(f"{name}, line {number}: not valid UTF-8; pass --encoding.") from None
    except DataError as exc:
        return out, str(exc)


def _blocks(data: bytes, name: str = "f.csv"):
    """What _lines gives now: (lines before any error, the error's sentence or None)."""
    src = _Source(io.BufferedReader(io.BytesIO(b"x\n" + data)), name, None, {})
    src.fh.read(2)              # _prepare needs a readable head; start the reader on ``data`` itself
    out = []
    try:
        for line in sources._utf8_blocks(src, "csv"):
            out.extend(line)
    except DataError as exc:
        return out, str(exc)
    return out, None


PIECES = st.lists(st.sampled_from(
    ["a", "b,c", "\n", "\r\n", "\r", "\u2028", "\x85", "\x0b", "\x1c", "é", "😀", '"', "\ufeff", " "]),
    max_size=40)


@settings(max_examples=300, deadline=None)
@given(PIECES, st.integers(1, 9), st.booleans(), st.sampled_from([b"", b"\x00", b"\xff", b"\xe2\x80"]))
def test_blocks_read_the_same_lines_as_line_by_line(pieces, block, bom, bad):
    data = (b"\xef\xbb\xbf" if bom else b"") + "".join(pieces).encode("utf-8")
    if bad:
        cut = len(data) // 2
        data = data[:cut] + bad + data[cut:]
    old = sources.LINE_BLOCK
    sources.LINE_BLOCK = block                 # tiny blocks: lines cut at every place
    try:
        assert _blocks(data) == _one_at_a_time(data)
    finally:
        sources.LINE_BLOCK = old


@pytest.mark.parametrize("limit", [4, 7, 10, 64])
def test_blocks_refuse_the_same_long_lines(monkeypatch, limit):
    monkeypatch.setattr(sources, "MAX_LINE_BYTES", limit)
    for data in (b"short\n" + b"x" * 30 + b"\nend\n", b"a\r" * 20 + b"\n", b"ab\ncd\n" * 5, b"y" * 25):
        assert _blocks(data) == _one_at_a_time(data, limit=limit)


def test_lines_of_a_big_file_match(tmp_path):
    lines = [f"{i},post {i} \u2028 with é\r\n" if i % 7 == 0 else f"{i},post {i}\n" for i in range(50_000)]
    path = tmp_path / "big.csv"
    path.write_bytes("".join(lines).encode("utf-8") + b"last line, no end")
    with open(path, "rb") as fh:
        got = list(_lines(_Source(fh, "big.csv", None, {}), "csv"))
    assert got == _one_at_a_time(path.read_bytes())[0]


def test_a_reader_closed_early_leaves_nothing_to_clean_up_later(tmp_path, monkeypatch):
    """Closing a CSV reader halfway (predict reads each input's first chunk, then closes it) ends
    its line reader while the file is open, not later in the garbage collector."""
    import gc
    import sys

    from smclass.exports import read_posts

    raised = []
    monkeypatch.setattr(sys, "unraisablehook", raised.append)
    for name, data in (("utf16.csv", "text\nfirst\nsecond\n".encode("utf-16")),
                       ("utf8.csv", b"text\nfirst\nsecond\n")):
        path = tmp_path / name
        path.write_bytes(data)
        posts = read_posts(path)
        assert next(posts).text == "first"
        posts.close()
        gc.collect()
    assert raised == []
