"""Generic files: CSV, TSV, JSON Lines, JSON, plain text and Parquet."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Iterator

from smclass.errors import DataError
from .csvrows import _csv_rows
from .jsonstream import _json_items
from .columns import Columns, reply_value, resolve
from .records import _SNIFF, LazyExtra, Post, RawJsonExtra, _id_value, _not_object, _text_value
from .sources import SURROGATE_ESCAPE, _bom_encoding, _lines, _Source


_RESOLVE_WITHIN = 100  # JSON records examined for the text field before refusing the file


def _pick_columns(name: str, columns: list[str], opts: dict) -> Columns:
    """Choose the text, id, date and account columns, with the message users need when one is missing."""
    return resolve(name, columns, opts)


def _sniff_delimiter(src: _Source) -> str:
    """The delimiter of a .csv or sniffed table: the one that splits the header row most."""
    head = src.fh.peek(_SNIFF)[:_SNIFF] if hasattr(src.fh, "peek") else b""
    enc = src.encoding or _bom_encoding(head) or "utf-8"
    try:
        text = head.decode(enc, errors="ignore").lstrip("\ufeff")
    except LookupError:
        return ","
    first = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]
    best, width = ",", 1
    for d in (",", ";", "\t", "|"):
        try:
            n = len(next(csv.reader([first], delimiter=d)))
        except (csv.Error, StopIteration):
            continue
        if n > width:
            best, width = d, n
    return best


def _read_csv(src: _Source, delimiter: str | None = None, kind: str = "csv") -> Iterator[Post]:
    """CSV/TSV rows to Posts; ragged rows are kept with a note, header-only gives nothing."""
    delimiter = delimiter or src.opts.get("delimiter") or _sniff_delimiter(src)
    rows = _csv_rows(src, delimiter, kind)
    header = next(rows, None)
    if header is None:
        return
    _, header = header
    cols = _pick_columns(src.name, header, src.opts)
    yield from _csv_posts(src.name, header, rows, cols)


def _csv_posts(name, header, rows, cols: Columns) -> Iterator[Post]:
    """Data rows to Posts; a row of the wrong width is kept, its fields cannot be trusted."""
    t_i = header.index(cols.text)
    i_i = header.index(cols.id) if cols.id else None
    width = len(header)
    keep = [(i, h) for i, h in enumerate(header) if h not in cols.used]
    known = _known(cols)
    for row_no, row in rows:
        where = f"{name}, row {row_no}"
        if row.__class__ is str:
            yield Post(None, None, None, None, None, f"malformed row: {row}", {}, where)
            continue
        if len(row) != width:
            note = "blank row" if not row else \
                f"malformed row: expected {width} fields, found {len(row)}"
            yield Post(None, None, None, None, None, note, {}, where)
            continue
        text, note = _text_value(row[t_i])
        extra = {h: row[i] for i, h in keep} if keep else {}
        created, platform, reply, account = known(extra, extra)
        if account is not None:
            extra.setdefault("account", account)  # --keep-columns account, and the report's groups
        yield Post(_id_value(row[i_i]) if i_i is not None else None, text, created, platform, reply,
                   note, extra, where, account)


def _known(cols: Columns):
    """A function from (raw record, its other fields) to (created_at, platform, is_reply, account)."""
    date, platform, reply, account, dates = cols.date, cols.platform, cols.reply, cols.account, cols.dates
    if date is None and platform is None and reply is None and account is None:
        return _nothing_known

    def known(record: dict, extra: dict):
        created = None
        if date is not None:
            value = record.get(date)
            if value not in (None, ""):
                created = dates(value) or (extra.get(date) if date in extra else str(value))
        p = record.get(platform) if platform is not None else None
        r = reply_value(record.get(reply)) if reply is not None else None
        a = record.get(account) if account is not None else None
        a = str(a) if a not in (None, "") else None
        return created, (str(p) if p not in (None, "") else None), r, a
    return known


def _nothing_known(record: dict, extra: dict):
    """_known's function for columns that name none of these fields (most CSV files)."""
    return None, None, None, None


def _read_tsv(src: _Source) -> Iterator[Post]:
    """TSV is CSV with tabs (quoting rules included)."""
    return _read_csv(src, "\t", "tsv")


def _read_jsonl(src: _Source) -> Iterator[Post]:
    """One object per line; a bad line becomes a Post with a note and reading goes on."""
    def records():
        for number, line in enumerate(_lines(src, "jsonl"), start=1):
            where = f"{src.name}, line {number}"
            if not line.strip():
                yield where, Post(None, None, None, None, None, "blank line", {}, where)
                continue
            if "\\u" in line and not src.surrogates and SURROGATE_ESCAPE.search(line):
                src.surrogates = True
            try:
                record = json.loads(line)
            except ValueError:
                yield where, Post(None, None, None, None, None, "invalid JSON on this line", {}, where)
                continue
            except RecursionError:
                yield where, Post(None, None, None, None, None,
                                  "JSON nested too deeply on this line", {}, where)
                continue
            if not isinstance(record, dict):
                yield where, _not_object(where, None)
                continue
            yield where, (record, line)
    yield from _record_posts(src, records())


def _record_posts(src: _Source, records) -> Iterator[Post]:
    """Posts from (where, ready Post | record | (record, its JSON text)) pairs, the columns chosen
    from the first records that show a text field: records before it are noted, not lost;
    none in the first _RESOLVE_WITHIN records (or the whole file) refuses the file."""
    cols = known = None
    waiting: list = []
    for where, record in records:
        raw = None
        if type(record) is tuple:
            record, raw = record
        if cols is None and isinstance(record, dict):
            try:
                cols = _pick_columns(src.name, list(record), src.opts)
            except DataError:
                if src.opts.get("text_column") or len(waiting) >= _RESOLVE_WITHIN:
                    raise
            else:
                known = _known(cols)
                for w, r, t in waiting:
                    yield r if isinstance(r, Post) else _record_post(r, cols, known, w, t)
                waiting = []
        if cols is None:
            waiting.append((where, record, raw))
            continue
        yield record if isinstance(record, Post) else _record_post(record, cols, known, where, raw)
    if waiting:
        firsts = [r for _, r, _ in waiting if isinstance(r, dict)]
        if firsts:
            _pick_columns(src.name, list(firsts[0]), src.opts)  # raises the sentence users need
        yield from (r for _, r, _ in waiting)


def _record_post(record: dict, cols: Columns, known, where: str, raw: str | None = None) -> Post:
    """A generic JSON record as a Post; a record lacking the text field gets a note.
    Its other fields are flattened only if someone looks (--keep-columns, the report),
    from its JSON text ``raw`` when there is one (cheaper to keep than parsed objects)."""
    try:
        if cols.text in record:
            text, note = _text_value(record[cols.text])
        else:
            text, note = None, f"no '{cols.text}' field in this record"
        ident = _id_value(record.get(cols.id)) if cols.id else None
        created, platform, reply, account = known(record, None)
    except RecursionError:
        return Post(None, None, None, None, None, "record nested too deeply", {}, where)
    add = {"account": account} if account is not None else None
    extra = RawJsonExtra(raw, cols.skip, add) if raw is not None else LazyExtra(record, cols.skip, add)
    return Post(ident, text, created, platform, reply, note, extra, where, account)


def _read_json(src: _Source) -> Iterator[Post]:
    """A top-level array of objects, or an object holding one list, streamed element by element."""
    def records():
        for number, record in enumerate(_json_items(src, "json"), start=1):
            where = f"{src.name}, item {number}"
            yield where, (record if isinstance(record, dict) else _not_object(where, None))
    yield from _record_posts(src, records())


def _read_text(src: _Source) -> Iterator[Post]:
    """One post per line; blank lines stay as empty posts so line counts match."""
    for number, line in enumerate(_lines(src, "text"), start=1):
        text = line[:-1] if line.endswith("\n") else line
        text = text[:-1] if text.endswith("\r") else text
        note = "blank line" if not text.strip() else None
        yield Post(None, text, None, None, None, note, {}, f"{src.name}, line {number}")


def _read_parquet(p: Path, opts: dict) -> Iterator[Post]:
    """Parquet in record batches of 4,096 rows via iter_batches, never a whole row group or table."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    if p.stat().st_size == 0:
        raise DataError(f"{p.name} is empty.")
    try:
        # buffered reads without pre-buffering: pages stream in, so a file written as one
        # huge row group does not land in memory whole (peak RSS 175 -> 104 MB on 1 M rows)
        pf = pq.ParquetFile(p, buffer_size=1 << 20, pre_buffer=False)
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"{p.name} is not a valid Parquet file ({exc}).") from None
    columns = list(pf.schema_arrow.names)
    cols = _pick_columns(p.name, columns, opts)
    known = _known(cols)
    row_no = 0
    for batch in pf.iter_batches(batch_size=4096, use_threads=False):
        for record in batch.to_pylist():
            row_no += 1
            yield _record_post(record, cols, known, f"{p.name}, row {row_no}")
