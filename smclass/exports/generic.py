"""Generic files: CSV, TSV, JSON Lines, JSON, plain text and Parquet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

from smclass.errors import DataError
from .csvrows import _csv_rows
from .jsonstream import _json_items
from .records import Post, _extra, _id_value, _known_fields, _not_object, _text_value
from .sources import _Source, _lines


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
