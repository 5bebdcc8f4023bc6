"""CSV rows with spreadsheet row numbers, malformed rows kept as notes, unclosed quotes refused."""

from __future__ import annotations

import csv
import itertools
from typing import Iterator

from smclass.errors import DataError
from .records import MAX_RECORD_BYTES, Post
from .sources import _line_blocks, _Source


class _Tracked:
    """Whether the lines ran out, so a row ended by EOF can be told apart."""

    def __init__(self):
        self.done = False


def _until_done(blocks: Iterator[list[str]], tracked: _Tracked) -> Iterator[list[str]]:
    """``blocks``, then ``tracked.done``. Nothing here refers back to the lines, so no reference cycle
    keeps the reader alive past its file: closing it closes the line reader at once."""
    yield from blocks
    tracked.done = True


def _csv_rows(src: _Source, delimiter: str, kind: str) -> Iterator[tuple[int, list | str]]:
    """(row number, fields) with the header as row 1, like a spreadsheet; csv errors become notes."""
    csv.field_size_limit(MAX_RECORD_BYTES)  # posts can be long, but not without bound
    tracked = _Tracked()
    lines = itertools.chain.from_iterable(_until_done(_line_blocks(src, kind), tracked))   # C-level per line
    reader = csv.reader(lines, delimiter=delimiter, strict=False)
    row_no = 0
    start = 1                 # the line the next row starts on
    while True:
        try:
            for row in reader:
                row_no += 1
                if tracked.done:  # the row only ended because the input did: its quote never closes
                    raise DataError(f"{src.name}, line {start}: a quoted field opened in this row is never "
                                    f"closed, so the rest of the file would be read as one post; "
                                    f"fix the quotes (or is the file truncated?).")
                if row_no == 1:
                    row = [h.strip() for h in row]
                yield row_no, row
                start = reader.line_num + 1
            return
        except csv.Error as exc:
            row_no += 1
            yield row_no, str(exc)
            start = reader.line_num + 1


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
