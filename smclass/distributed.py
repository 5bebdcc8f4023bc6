"""Predict on a Dask cluster: Parquet, CSV and JSONL datasets in, a folder of part files out.

``smclass predict --engine dask INPUT... --output DIR`` reads local paths,
globs and fsspec URLs (``s3://bucket/posts/*.parquet``) as partitions,
classifies each partition on a worker and writes one part file per partition
into DIR, which appears complete (with a ``_SUCCESS`` marker holding the
counts) or not at all. The model travels to the workers once, as its
pickle-free weights (numpy arrays and the card); each worker process builds
one :class:`~smclass.predict.Predictor` from them and reuses it.

Dask is an optional extra: ``pip install -e ".[dask]"``. Nothing in this
module imports it until it is used.
"""

from __future__ import annotations

import csv
import io
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass

from .batch import Summary
from .errors import DataError, SmclassError, UsageError

INSTALL_HINT = ('--engine dask needs Dask, which is not installed here; install it with '
                'pip install -e ".[dask]" (or pip install "dask[dataframe]" distributed).')
RESULT_COLUMNS = ("label", "p_broadcast", "lang", "note")
READER_NOTE = "_smclass_note"             # notes from the readers (malformed rows), consumed by the classifier
DEFAULT_PARTITION_ROWS = 100_000          # Parquet: rows per partition (row groups are split or merged)
DEFAULT_BLOCKSIZE = 16 * 2**20            # CSV/JSONL: bytes per partition (about 100,000 posts)
CONNECT_TIMEOUT = 3                       # seconds to reach a --scheduler
SUCCESS = "_SUCCESS"
_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_OUTPUT_FORMATS = ("parquet", "csv", "jsonl")


def require_dask():
    """Import dask.dataframe and distributed, or say in one sentence how to install them."""
    try:
        import dask.dataframe as dd
        import distributed
    except ImportError:
        raise UsageError(INSTALL_HINT) from None
    return dd, distributed


# --------------------------------------------------------------------------- #
# The model on the workers
# --------------------------------------------------------------------------- #

def model_payload(predictor) -> dict:
    """The predictor as plain data (numpy arrays, numbers, the card): what is shipped to workers."""
    w = predictor.weights
    return {
        "idf": w.idf, "coef": w.coef,
        "settings": {"n_features": w.n_features, "char_ngrams": w.char_ngrams, "word_ngrams": w.word_ngrams,
                     "intercept": w.intercept, "labels": tuple(w.labels),
                     "marks": w.marks, "link_only": w.link_only},
        "card": dict(predictor.card), "threshold": predictor.threshold,
        "token": uuid.uuid4().hex,
    }


_PREDICTORS: dict = {}                   # token -> (Predictor, lock): one per worker process
_PREDICTORS_LOCK = threading.Lock()


def _worker_predictor(payload: dict):
    """The Predictor this process built from ``payload``, built on first use."""
    with _PREDICTORS_LOCK:
        found = _PREDICTORS.get(payload["token"])
        if found is None:
            from .modelfile import Weights
            from .predict import Predictor

            weights = Weights(idf=payload["idf"], coef=payload["coef"], **payload["settings"])
            found = (Predictor(weights, payload["card"], threshold=payload["threshold"]), threading.Lock())
            _PREDICTORS.clear()          # a new model replaces the previous one
            _PREDICTORS[payload["token"]] = found
    return found


def _text_note(value) -> tuple[str | None, str | None]:
    """(text, note) for a cell, with the notes local ``smclass predict`` writes."""
    from .exports.records import _text_value

    if value is not None and not isinstance(value, str):
        import pandas as pd

        try:
            if pd.isna(value) is True:      # NaN, NA, NaT: a missing cell
                value = None
        except (TypeError, ValueError):
            pass
    return _text_value(value)


def classify_partition(df, payload: dict, text_column: str, lang: bool = True):
    """One partition with ``label``, ``p_broadcast``, ``lang`` (unless not ``lang``) and ``note`` added;
    rows in = rows out."""
    import numpy as np

    predictor, lock = _worker_predictor(payload)
    reader_notes = df[READER_NOTE].tolist() if READER_NOTE in df.columns else [None] * len(df)
    texts, notes = [], []
    for value, reader_note in zip(df[text_column].tolist(), reader_notes):
        text, note = (None, reader_note) if isinstance(reader_note, str) and reader_note else _text_note(value)
        texts.append(text)
        notes.append(note)
    with lock:
        labels, p, predicted_notes = predictor.predict_many(texts)
    p = np.round(np.asarray(p, dtype="float64"), 6)
    out = df.drop(columns=[READER_NOTE]) if READER_NOTE in df.columns else df.copy()
    out = out.rename(columns={c: f"input_{c}" for c in RESULT_COLUMNS if c in out.columns})
    out["label"] = [label if label is not None else None for label in labels]
    out["p_broadcast"] = p
    out_notes = [note or (extra if label is None else None)
                 for note, extra, label in zip(notes, predicted_notes, labels)]
    if lang:
        from .lang import detect, not_english_note

        codes = detect(texts)
        out["lang"] = codes
        out["lang"] = out["lang"].astype(object)
        out_notes = ["; ".join(n for n in (note, not_english_note(code)) if n)
                     if code not in (None, "en") and label is not None else note
                     for note, code, label in zip(out_notes, codes, labels)]
    out["note"] = out_notes
    if len(out) != len(df):    # pragma: no cover - a bug, never bad input
        raise RuntimeError(f"a partition of {len(df)} rows came back with {len(out)}.")
    out["label"] = out["label"].astype(object)
    out["note"] = out["note"].astype(object)
    return out


def _result_meta(meta, text_column: str, lang: bool = True):
    import pandas as pd

    empty = meta.drop(columns=[READER_NOTE]) if READER_NOTE in meta.columns else meta.copy()
    empty = empty.rename(columns={c: f"input_{c}" for c in RESULT_COLUMNS if c in empty.columns})
    empty["label"] = pd.Series([], dtype=object)
    empty["p_broadcast"] = pd.Series([], dtype="float64")
    if lang:
        empty["lang"] = pd.Series([], dtype=object)
    empty["note"] = pd.Series([], dtype=object)
    return empty


def predict_dataframe(ddf, text_column: str = "text", *, model=None, predictor=None,
                      threshold: float | None = None, trusted: bool = False, lang: bool = True):
    """``ddf`` with ``label``, ``p_broadcast``, ``lang`` and ``note`` added (lazily), one row per input row.

    Rows without usable text keep their row with an empty label, NaN
    ``p_broadcast`` and a ``note``. Input columns named like the results are
    kept as ``input_label`` and so on. The model is shipped once, as one key
    of the graph (its weights as numpy arrays and the card); compute the
    result with any Dask scheduler (a distributed ``Client`` when one is open).
    """
    dd, _ = require_dask()
    from .predict import Predictor

    if text_column not in ddf.columns:
        found = ", ".join(str(c) for c in ddf.columns if c != READER_NOTE) or "none"
        raise DataError(f"no column '{text_column}' in the dataset (found: {found}); use --text-column.")
    if predictor is None:
        predictor = Predictor.load(model, threshold=threshold, trusted=trusted)
    elif threshold is not None:
        predictor = Predictor(predictor.weights, predictor.card, threshold=threshold)
    payload = model_payload(predictor)
    import dask

    # One key of the graph holds the weights: sent to the scheduler once, copied to each worker
    # that runs a partition, and recomputable, so losing a worker loses nothing. (Scattered data
    # cannot be rebuilt: a test that kills a worker failed with it.)
    shipped = dask.delayed(payload, pure=False, name=f"smclass-model-{payload['token']}")
    return ddf.map_partitions(classify_partition, shipped, text_column, lang,
                              meta=_result_meta(ddf._meta, text_column, lang), align_dataframes=False)


# --------------------------------------------------------------------------- #
# Reading datasets as partitions
# --------------------------------------------------------------------------- #

@dataclass(frozen=True)
class Piece:
    """One partition to read: a byte range of a CSV/JSONL file, or rows of a Parquet file."""

    path: str
    fmt: str
    offset: int = 0              # text formats: byte range; Parquet: first row of the piece
    length: int | None = None    # text: bytes (None = to the end); Parquet: rows
    header: tuple = ()           # CSV: the file's header; JSONL: the columns
    row_groups: tuple = ()       # Parquet: the row groups the piece spans
    text_column: str = "text"


def _expand(inputs: list[str], input_format: str | None, storage_options: dict | None):
    """(filesystem, [(path, format)]) for paths, folders, globs and URLs."""
    import fsspec

    files = []
    fs = None
    for name in inputs:
        fs_i, _, paths = fsspec.core.get_fs_token_paths(name, storage_options=storage_options or {})
        fs = fs or fs_i
        if type(fs_i) is not type(fs):
            raise UsageError("All inputs of one --engine dask run must be on the same file system.")
        if not paths:
            raise DataError(f"{name}: no such file, folder or matching files.")
        for path in paths:
            if fs.isdir(path):
                inside = sorted(p for p in fs.find(path) if _format_of(p, None, quiet=True))
                if not inside:
                    raise DataError(f"{name}: the folder holds no .parquet, .csv or .jsonl files.")
                files += [(p, _format_of(p, input_format)) for p in inside]
            elif not fs.exists(path):
                raise DataError(f"{name}: no such file.")
            else:
                files.append((path, _format_of(path, input_format)))
    formats = {fmt for _, fmt in files}
    if len(formats) > 1:
        raise UsageError(f"The inputs mix formats ({', '.join(sorted(formats))}); run one format at a time.")
    return fs, files


def _format_of(path: str, explicit: str | None, quiet: bool = False) -> str | None:
    if explicit:
        if explicit not in ("parquet", "csv", "jsonl"):
            raise UsageError(f"--engine dask reads parquet, csv or jsonl, not '{explicit}'.")
        return explicit
    name = path.rsplit("/", 1)[-1].lower()
    for suffix, fmt in _FORMATS.items():
        if name.endswith(suffix):
            return fmt
    if quiet or name.startswith(("_", ".")):
        return None
    raise UsageError(f"{path}: --engine dask reads .parquet, .csv and .jsonl files; "
                     f"name the format with --input-format.")


def read_dataset(inputs: list[str], *, text_column: str = "text", input_format: str | None = None,
                 partition_rows: int = DEFAULT_PARTITION_ROWS, blocksize: int = DEFAULT_BLOCKSIZE,
                 storage_options: dict | None = None):
    """(Dask DataFrame, rows known up front or None) for Parquet, CSV or JSONL inputs.

    Parquet files are split into pieces of about ``partition_rows`` rows (big
    row groups are cut, small ones merged); CSV and JSONL files into blocks of
    ``blocksize`` bytes at line ends (0: one partition per file). Every column
    is read; a missing text column is reported before anything runs.
    """
    dd, _ = require_dask()
    if partition_rows < 1:
        raise UsageError("--partition-rows must be at least 1.")
    if blocksize < 0:
        raise UsageError("--blocksize must be 0 (whole files) or more.")
    fs, files = _expand(inputs, input_format, storage_options)
    fmt = files[0][1]
    if fmt == "parquet":
        pieces, meta, rows = _parquet_pieces(fs, files, text_column, partition_rows)
    else:
        pieces, meta = _text_pieces(fs, files, fmt, text_column, blocksize)
        rows = None
    ddf = dd.from_map(_read_piece, pieces, args=(fs,), meta=meta, enforce_metadata=False,
                      label=f"smclass-read-{fmt}")
    return ddf, rows


def _unreadable(path: str, what: str, exc: Exception) -> DataError:
    detail = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
    return DataError(f"{path}{what}: cannot be read ({type(exc).__name__}{': ' + detail if detail else ''}).")


def _parquet_pieces(fs, files, text_column, partition_rows):
    import pyarrow.parquet as pq

    pieces, schema, total = [], None, 0
    for path, _ in files:
        try:
            with fs.open(path, "rb") as fh:
                pf = pq.ParquetFile(fh)
                md, file_schema = pf.metadata, pf.schema_arrow
        except Exception as exc:
            raise _unreadable(path, "", exc) from None
        names = list(file_schema.names)
        if text_column not in names:
            raise DataError(f"{path}: no column '{text_column}' (found: {', '.join(names) or 'none'}); "
                            f"use --text-column.")
        if schema is None:
            schema = file_schema
        elif file_schema.names != schema.names:
            raise DataError(f"{path}: its columns ({', '.join(names)}) differ from those of the first "
                            f"file ({', '.join(schema.names)}); run files of one layout together.")
        total += md.num_rows
        group, group_rows = [], 0
        start = 0
        for rg in range(md.num_row_groups):
            n = md.row_group(rg).num_rows
            if n > partition_rows:        # a big row group: cut it into slices
                if group:
                    pieces.append(Piece(path, "parquet", start - group_rows, group_rows, row_groups=tuple(group)))
                    group, group_rows = [], 0
                for first in range(0, n, partition_rows):
                    pieces.append(Piece(path, "parquet", start + first, min(partition_rows, n - first), row_groups=(rg,)))
            else:                         # small row groups: merge them
                if group_rows + n > partition_rows and group:
                    pieces.append(Piece(path, "parquet", start - group_rows, group_rows, row_groups=tuple(group)))
                    group, group_rows = [], 0
                group.append(rg)
                group_rows += n
            start += n
        if group:
            pieces.append(Piece(path, "parquet", start - group_rows, group_rows, row_groups=tuple(group)))
        if md.num_rows == 0:
            pieces.append(Piece(path, "parquet", 0, 0, row_groups=()))
    meta = schema.empty_table().to_pandas()
    return pieces, meta, total


def _text_pieces(fs, files, fmt, text_column, blocksize):
    import pandas as pd

    pieces = []
    columns = None
    for path, _ in files:
        size = fs.size(path)
        try:
            header = _csv_header(fs, path) if fmt == "csv" else _jsonl_columns(fs, path)
        except SmclassError:
            raise
        except Exception as exc:
            raise _unreadable(path, "", exc) from None
        if header is None:             # an empty file: no rows
            continue
        if text_column not in header:
            raise DataError(f"{path}: no column '{text_column}' (found: {', '.join(header) or 'none'}); "
                            f"use --text-column.")
        if columns is None:
            columns = header
        elif fmt == "csv" and header != columns:
            raise DataError(f"{path}: its header ({', '.join(header)}) differs from that of the first "
                            f"file ({', '.join(columns)}); run files of one layout together.")
        if fmt == "jsonl":
            header = columns
        step = blocksize or max(size, 1)
        for offset in range(0, max(size, 1), step):
            pieces.append(Piece(path, fmt, offset, step if blocksize else None, header=tuple(header),
                                text_column=text_column))
    if columns is None:
        raise DataError(f"{files[0][0]}: no rows to read (the inputs are empty).")
    meta = pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    meta[READER_NOTE] = pd.Series([], dtype=object)
    return pieces, meta


def _csv_header(fs, path) -> list[str] | None:
    with fs.open(path, "rb") as fh:
        head = fh.read(1 << 20)
    text = head.decode("utf-8-sig", errors="replace")
    row = next(csv.reader(io.StringIO(text), strict=False), None)
    return [h.strip() for h in row] if row is not None else None


def _jsonl_columns(fs, path, sample: int = 1000) -> list[str] | None:
    """The keys of the first ``sample`` objects, in order of appearance."""
    keys: dict = {}
    seen = False
    with fs.open(path, "rb") as fh:
        for i, line in enumerate(fh):
            if i >= sample:
                break
            seen = True
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                keys.update(dict.fromkeys(map(str, record)))
    return list(keys) if seen else None


def _read_piece(piece: Piece, fs):
    try:
        if piece.fmt == "parquet":
            return _read_parquet_piece(piece, fs)
        return _read_text_piece(piece, fs)
    except SmclassError:
        raise
    except Exception as exc:
        where = (f", rows {piece.offset + 1:,}-{piece.offset + piece.length:,}" if piece.fmt == "parquet"
                 else f", bytes from {piece.offset:,}")
        raise _unreadable(piece.path, where, exc) from None


def _read_parquet_piece(piece: Piece, fs):
    import pyarrow as pa
    import pyarrow.parquet as pq

    with fs.open(piece.path, "rb") as fh:
        pf = pq.ParquetFile(fh)
        if not piece.row_groups:
            return pf.schema_arrow.empty_table().to_pandas()
        starts, at = {}, 0
        for rg in range(pf.metadata.num_row_groups):
            starts[rg] = at
            at += pf.metadata.row_group(rg).num_rows
        first_rg = piece.row_groups[0]
        if len(piece.row_groups) > 1 or piece.length == pf.metadata.row_group(first_rg).num_rows:
            table = pf.read_row_groups(list(piece.row_groups))
        else:                         # a slice of one big row group, read batch by batch
            skip = piece.offset - starts[first_rg]
            batches, seen = [], 0
            for batch in pf.iter_batches(batch_size=min(piece.length, 65_536), row_groups=[first_rg]):
                end = seen + batch.num_rows
                if end > skip:
                    batches.append(batch.slice(max(skip - seen, 0), skip + piece.length - max(seen, skip)))
                seen = end
                if seen >= skip + piece.length:
                    break
            table = pa.Table.from_batches(batches, schema=pf.schema_arrow)
    if table.num_rows != piece.length:
        raise DataError(f"{piece.path}: expected {piece.length:,} rows from row {piece.offset + 1:,}, "
                        f"read {table.num_rows:,}; the file changed while it was read.")
    return table.to_pandas()


def _read_text_piece(piece: Piece, fs):
    from fsspec.utils import read_block

    import pandas as pd

    with fs.open(piece.path, "rb") as fh:
        if piece.length is None:
            data = fh.read()
        else:
            data = read_block(fh, piece.offset, piece.length, delimiter=b"\n")
    text = data.decode("utf-8-sig" if piece.offset == 0 else "utf-8", errors="replace")
    columns = list(piece.header)
    if piece.fmt == "csv":
        rows = _csv_records(text, columns, piece)
    else:
        rows = _jsonl_records(text, piece.text_column)
    frame = pd.DataFrame({c: pd.Series([r[0].get(c) for r in rows], dtype=object) for c in columns})
    frame[READER_NOTE] = pd.Series([r[1] for r in rows], dtype=object)
    return frame


def _csv_records(text: str, header: list[str], piece: Piece) -> list[tuple[dict, str | None]]:
    """Rows of one block as (record, note); a row of the wrong width is kept with a note."""
    csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))
    lines = iter(text.splitlines(keepends=True))
    state = {"done": False}

    def tracked():
        for line in lines:
            yield line
        state["done"] = True

    reader = csv.reader(tracked(), strict=False)
    out = []
    first = piece.offset == 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            out.append(({}, f"malformed row: {exc}"))
            continue
        if state["done"] and row:
            raise DataError(f"{piece.path}: a quoted field in the block from byte {piece.offset:,} is not closed "
                            f"within the block (posts with line breaks, or a truncated file); use --blocksize 0 "
                            f"to read each CSV file whole.")
        if first:                 # the header
            first = False
            continue
        if len(row) != len(header):
            note = "blank row" if not row else f"malformed row: expected {len(header)} fields, found {len(row)}"
            out.append(({}, note))
            continue
        out.append((dict(zip(header, row)), None))
    return out


def _jsonl_records(text: str, text_column: str) -> list[tuple[dict, str | None]]:
    """Lines of one block as (record, note), like local JSONL reading: bad lines keep a row.

    Values other than strings become JSON text; a text field that is not a
    string is noted "text is not a string", as locally.
    """
    out = []
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for line in lines:
        if not line.strip():
            out.append(({}, "blank line"))
            continue
        try:
            record = json.loads(line)
        except ValueError:
            out.append(({}, "invalid JSON on this line"))
            continue
        if not isinstance(record, dict):
            out.append(({}, "record is not a JSON object"))
            continue
        flat = {str(k): (v if isinstance(v, str) or v is None else json.dumps(v, ensure_ascii=False))
                for k, v in record.items()}
        value = record.get(text_column)
        note = (f"no '{text_column}' field in this record" if text_column not in record
                else None if isinstance(value, str) else _text_note(value)[1])
        out.append((flat, note))
    return out


# --------------------------------------------------------------------------- #
# Writing a dataset folder, atomically
# --------------------------------------------------------------------------- #

def _write_partition(df, fs, folder: str, fmt: str, partition_info=None):
    """Write one part file; return one row of counts (rows written, labels, skip reasons)."""
    import pandas as pd

    number = partition_info["number"] if partition_info else 0
    path = f"{folder}/part-{number:05d}.{ 'parquet' if fmt == 'parquet' else fmt}"
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(df, preserve_index=False)
        for i, column in enumerate(table.schema):     # an all-empty column of a partition is still text
            if pa.types.is_null(column.type):
                table = table.set_column(i, column.name, table.column(i).cast(pa.string()))
        with fs.open(path, "wb") as fh:
            pq.write_table(table, fh)
        with fs.open(path, "rb") as fh:     # count what is on disk, not what we meant to write
            written = pq.ParquetFile(fh).metadata.num_rows
    else:
        with fs.open(path, "wb") as fh:
            handle = io.TextIOWrapper(fh, encoding="utf-8", newline="")
            if fmt == "csv":
                df.to_csv(handle, index=False)
            else:
                df.to_json(handle, orient="records", lines=True, force_ascii=False)
            handle.flush()
            handle.detach()
        written = len(df)
    labels = df["label"]
    reasons = df.loc[labels.isna(), "note"].fillna("no text").value_counts().to_dict()
    return pd.DataFrame({
        "rows": [len(df)], "written": [written],
        "classified": [int(labels.notna().sum())], "broadcast": [int((labels == "broadcast").sum())],
        "skipped": [json.dumps(reasons)],
    })


_COUNTS_META = {"rows": "int64", "written": "int64", "classified": "int64", "broadcast": "int64", "skipped": object}


def _counts_meta():
    import pandas as pd

    return pd.DataFrame({k: pd.Series([], dtype=v) for k, v in _COUNTS_META.items()})


@dataclass
class DaskSummary(Summary):
    """A batch summary plus what the dataset folder holds."""

    written: int = 0
    files: int = 0
    expected: int | None = None

    def line(self, output: str | None) -> str:
        base = super().line(None).rstrip(".")
        return f"{base}; wrote {self.written:,} rows in {self.files} part files to {output}."


def predict_dataset(
    inputs: list[str], output: str, *, model=None, predictor=None, output_format: str | None = None,
    input_format: str | None = None, text_column: str | None = None, threshold: float | None = None,
    trusted: bool = False, scheduler: str | None = None, workers: int | None = None,
    partition_rows: int = DEFAULT_PARTITION_ROWS, blocksize: int = DEFAULT_BLOCKSIZE,
    overwrite: bool = False, storage_options: dict | None = None, connect_timeout: float = CONNECT_TIMEOUT,
    lang: bool = True,
) -> DaskSummary:
    """Classify every row of ``inputs`` on a Dask cluster and write the dataset folder ``output``.

    The folder is written as a hidden sibling and renamed when every part file
    is in place and the row counts agree; ``_SUCCESS`` holds the counts.
    """
    require_dask()
    import fsspec

    from .predict import Predictor

    text_column = text_column or "text"
    fmt = output_format or "parquet"
    if fmt not in _OUTPUT_FORMATS:
        raise UsageError(f"--engine dask writes parquet, csv or jsonl, not '{fmt}'.")
    if output in (None, "", "-"):
        raise UsageError("--engine dask writes a folder of part files; pass --output DIR.")
    out_fs, _, (target,) = fsspec.core.get_fs_token_paths(output, storage_options=storage_options or {})
    target = target.rstrip("/")
    if out_fs.exists(target):
        if not overwrite:
            raise UsageError(f"{output} already exists; pass --overwrite to replace it, or choose another --output.")
        if not out_fs.isdir(target) or not out_fs.exists(f"{target}/{SUCCESS}"):
            raise UsageError(f"{output} exists and is not a dataset folder smclass wrote (no {SUCCESS} inside); "
                             f"refusing to replace it.")
    parent = target.rsplit("/", 1)[0] if "/" in target else "."
    if _is_local(out_fs) and not out_fs.isdir(parent):
        raise UsageError(f"Cannot write {output}: the folder '{parent}' does not exist.")
    if predictor is None:
        predictor = Predictor.load(model, threshold=threshold, trusted=trusted)
    elif threshold is not None:
        predictor = Predictor(predictor.weights, predictor.card, threshold=threshold)

    ddf, expected = read_dataset(inputs, text_column=text_column, input_format=input_format,
                                 partition_rows=partition_rows, blocksize=blocksize, storage_options=storage_options)
    started = time.perf_counter()
    temp = f"{parent}/.{target.rsplit('/', 1)[-1]}.smclass-{uuid.uuid4().hex[:8]}"
    client, cluster = connect(scheduler, workers, connect_timeout)
    try:
        out_fs.makedirs(temp, exist_ok=True)
        result = predict_dataframe(ddf, text_column, predictor=predictor, lang=lang)
        counts = result.map_partitions(_write_partition, out_fs, temp, fmt, meta=_counts_meta(),
                                       align_dataframes=False)
        table = _compute(client, counts)
        summary = DaskSummary(expected=expected, files=len(table))
        summary.read = int(table["rows"].sum())
        summary.written = int(table["written"].sum())
        summary.classified = int(table["classified"].sum())
        summary.broadcast = int(table["broadcast"].sum())
        for reasons in table["skipped"]:
            summary.skipped.update(json.loads(reasons))
        if summary.written != summary.read or (expected is not None and summary.read != expected):
            raise DataError(f"row counts disagree: {expected if expected is not None else summary.read:,} rows in, "
                            f"{summary.read:,} classified, {summary.written:,} written; nothing was written to {output}.")
        summary.seconds = time.perf_counter() - started
        marker = {"rows_in": summary.read, "rows_written": summary.written, "classified": summary.classified,
                  "broadcast": summary.broadcast, "skipped": dict(summary.skipped), "files": summary.files,
                  "format": fmt, "inputs": list(inputs), "text_column": text_column,
                  "model_weights_sha256": predictor.card.get("weights_sha256"), "threshold": predictor.threshold,
                  "seconds": round(summary.seconds, 3)}
        with out_fs.open(f"{temp}/{SUCCESS}", "w") as fh:
            fh.write(json.dumps(marker, indent=2) + "\n")
        _publish(out_fs, temp, target)
        temp = None
        return summary
    finally:
        if temp is not None and out_fs.exists(temp):
            out_fs.rm(temp, recursive=True)
        client.close()
        if cluster is not None:
            cluster.close()


def _is_local(fs) -> bool:
    return "file" in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,))


def _publish(fs, temp: str, target: str) -> None:
    """Put the finished folder in place: one rename locally; part files then _SUCCESS elsewhere."""
    old = None
    if fs.exists(target):
        old = f"{temp}-old"
        fs.mv(target, old, recursive=True)
    if _is_local(fs):
        os.replace(temp, target)
    else:                              # object stores have no folder rename: _SUCCESS goes last
        for path in sorted(fs.ls(temp, detail=False)):
            if not path.endswith(SUCCESS):
                fs.mv(path, f"{target}/{path.rsplit('/', 1)[-1]}")
        fs.mv(f"{temp}/{SUCCESS}", f"{target}/{SUCCESS}")
        fs.rm(temp, recursive=True)
    if old is not None:
        fs.rm(old, recursive=True)


def _compute(client, collection):
    """Compute on the cluster; worker losses beyond Dask's retries become one sentence."""
    from distributed import KilledWorker

    try:
        return client.compute(collection, sync=True)
    except KilledWorker as exc:
        raise DataError(f"Dask workers died while running a task ({exc.args[0] if exc.args else 'unknown'}), "
                        f"more often than the scheduler retries it; see the workers' logs (out of memory?).") from None
    except OSError as exc:
        raise DataError(f"lost the connection to the Dask scheduler during the run ({exc}).") from None
    except RuntimeError as exc:
        if "deserializ" not in str(exc):
            raise
        raise UsageError("The Dask scheduler or its workers cannot load this version of smclass; install the same "
                         "smclass (pip install \"smclass[dask]\") on the scheduler and on every worker.") from None


def connect(scheduler: str | None, workers: int | None, timeout: float = CONNECT_TIMEOUT):
    """(client, cluster we started or None): the --scheduler's cluster, else a LocalCluster of processes."""
    _, distributed = require_dask()
    if scheduler:
        try:
            return distributed.Client(scheduler, timeout=f"{timeout}s", set_as_default=False), None
        except (OSError, TimeoutError, ValueError) as exc:
            raise UsageError(f"Cannot reach the Dask scheduler at {scheduler} within {timeout:g} s "
                             f"({type(exc).__name__}); check the address and that the scheduler is running.") from None
    if workers is not None and workers < 1:
        raise UsageError("--workers must be at least 1.")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    n = workers or cores
    cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=50)
    return distributed.Client(cluster, set_as_default=False), cluster


# --------------------------------------------------------------------------- #
# Command line
# --------------------------------------------------------------------------- #
