"""Write predictions atomically and in chunks: CSV, JSON Lines or Parquet.

A crash, an exception or Ctrl-C halfway through a million posts must never leave
a half-written predictions file that looks finished, nor clobber yesterday's
good one. So everything is written to a hidden ".smclass-*" temporary file in
the target's own folder (same file system, so the final rename is atomic),
flushed and fsynced, and only then moved onto the target with os.replace.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import IO, Iterator

from smclass.errors import UsageError

OUTPUT_FORMATS = ("csv", "jsonl", "parquet")
TEMP_PREFIX = ".smclass-"
_EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
_FLOAT_COLUMNS = {"p_broadcast"}
_BOOL_COLUMNS = {"is_reply"}


def output_format(path: str, explicit: str | None) -> str:
    """Pick the output format: --format if given, else the extension; stdout defaults to CSV."""
    if explicit is not None:
        if explicit not in OUTPUT_FORMATS:
            raise UsageError(f"Unknown output format '{explicit}'; use csv, jsonl or parquet.")
        return explicit
    if str(path) == "-":
        return "csv"
    suffix = Path(path).suffix.lower()
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    raise UsageError(f"Cannot tell the output format of '{Path(path).name}' from its extension; "
                     f"name it .csv, .jsonl, .ndjson or .parquet, or pass --format.")


# --------------------------------------------------------------------------- #
# Atomic replacement
# --------------------------------------------------------------------------- #

def _temp_file(target: Path) -> tuple[IO[bytes], Path]:
    """Open a hidden temp file next to the target, so os.replace never crosses file systems."""
    folder = target.parent
    if not folder.is_dir():
        raise UsageError(f"Cannot write {target}: the folder '{folder}' does not exist.")
    try:
        fh = tempfile.NamedTemporaryFile(dir=folder, prefix=TEMP_PREFIX, suffix=target.suffix,
                                         delete=False)
    except OSError as exc:
        raise UsageError(f"Cannot write {target}: {exc.strerror or exc}.") from None
    return fh, Path(fh.name)


def _final_mode(target: Path) -> int:
    """Keep an existing target's permissions; a new file gets the usual umask-based mode."""
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _commit(tmp: Path, target: Path) -> None:
    """Move the finished temp file onto the target and make the rename itself durable."""
    os.chmod(tmp, _final_mode(target))
    os.replace(tmp, target)
    with contextlib.suppress(OSError):  # directory fsync is best effort (not on every OS)
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _discard(tmp: Path) -> None:
    """Remove a temp file that will never be committed."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)


@contextlib.contextmanager
def atomic_path(target) -> Iterator[Path]:
    """Yield a temp path beside ``target``; on a clean exit it replaces target, else it vanishes.

    For writers that want a path rather than a stream (the model saver). The temp
    name keeps the target's suffix, so savers that append an extension do not.
    """
    target = Path(target)
    fh, tmp = _temp_file(target)
    fh.close()
    try:
        yield tmp
    except BaseException:
        _discard(tmp)
        raise
    try:
        with open(tmp, "rb+") as done:
            os.fsync(done.fileno())
        _commit(tmp, target)
    except BaseException:
        _discard(tmp)
        raise


@contextlib.contextmanager
def atomic_paths(*targets) -> Iterator[list[Path]]:
    """Like atomic_path, for files that only make sense together (a model and its card).

    All temp files are fsynced before the first rename, and the renames run back to back
    with SIGINT/SIGTERM held until both are done, so Ctrl-C cannot leave a new card
    beside the old model (only a hard kill in that microsecond window could).
    """
    targets = [Path(t) for t in targets]
    temps: list[Path] = []
    try:
        for target in targets:
            fh, tmp = _temp_file(target)
            fh.close()
            temps.append(tmp)
        yield list(temps)
        for tmp in temps:
            with open(tmp, "rb+") as done:
                os.fsync(done.fileno())
        with _signals_held():
            for tmp, target in zip(temps, targets):
                _commit(tmp, target)
    except BaseException:
        for tmp in temps:
            _discard(tmp)
        raise


@contextlib.contextmanager
def _signals_held():
    """Defer SIGINT and SIGTERM to the end of the block (main thread only; elsewhere a no-op)."""
    import signal

    caught: list[int] = []
    wanted = [s for s in (getattr(signal, "SIGINT", None), getattr(signal, "SIGTERM", None)) if s]
    try:
        previous = {s: signal.signal(s, lambda signum, frame: caught.append(signum)) for s in wanted}
    except ValueError:  # not the main thread: Python delivers signals to the main thread only
        yield
        return
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, signal.SIG_DFL if handler is None else handler)
        if caught:
            signal.raise_signal(caught[0])


# --------------------------------------------------------------------------- #
# Value conversion
# --------------------------------------------------------------------------- #

def _missing(value) -> bool:
    """None and non-finite floats both mean 'no value' in CSV and JSON Lines."""
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def _csv_value(value):
    """None/NaN become an empty cell."""
    return "" if _missing(value) else value


def _json_value(value):
    """None/NaN/inf become null (JSON has no NaN)."""
    return None if _missing(value) else value


def _as_float(value):
    """Parquet p_broadcast is float64; blanks are null."""
    if value is None or value == "":
        return None
    return float(value)


def _as_bool(value):
    """Parquet is_reply is bool; accept 'true'/'false' strings too."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def _as_str(value):
    """Every other Parquet column is a string column."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value if isinstance(value, str) else str(value)


# --------------------------------------------------------------------------- #
# The writer
# --------------------------------------------------------------------------- #

class PredictionWriter:
    """Context manager that streams chunks of prediction rows into one output, atomically."""

    def __init__(self, path: str, columns: list[str], format: str | None = None):
        self.path = str(path)
        self.columns = list(columns)
        self.format = output_format(self.path, format)
        if self.path == "-" and self.format == "parquet":
            raise UsageError("Parquet cannot be written to stdout; pass --output with a .parquet file.")
        self._raw: IO[bytes] | None = None
        self._handle = None
        self._tmp: Path | None = None
        self._text: io.TextIOWrapper | None = None
        self._csv: csv.DictWriter | None = None
        self._parquet = None
        self._schema = None

    # -- lifecycle ---------------------------------------------------------- #

    def __enter__(self) -> "PredictionWriter":
        if self.path == "-":
            sys.stdout.flush()
            self._raw = getattr(sys.stdout, "buffer", None)
        else:
            self._handle, self._tmp = _temp_file(Path(self.path))
            self._raw = self._handle.file  # keep the wrapper referenced: its finaliser closes the file
        try:
            self._open_format()
        except BaseException:
            self._abort()
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None:
            self._abort()
            return False
        try:
            self._finish()
        except BaseException:
            self._abort()
            raise
        return False

    def _open_format(self) -> None:
        """Set up the format's encoder and write its header, so even zero rows give a valid file."""
        if self.format == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq
            self._schema = pa.schema([(c, self._arrow_type(c)) for c in self.columns])
            self._parquet = pq.ParquetWriter(self._raw, self._schema)
            return
        if self._raw is None:  # stdout without a byte buffer (unusual test doubles)
            self._text = sys.stdout
        else:
            self._text = io.TextIOWrapper(self._raw, encoding="utf-8", newline="",
                                          write_through=False)
        if self.format == "csv":
            self._csv = csv.DictWriter(self._text, fieldnames=self.columns, lineterminator="\n")
            self._csv.writeheader()

    @staticmethod
    def _arrow_type(column: str):
        """The Parquet schema: float64 p_broadcast, bool is_reply, strings elsewhere."""
        import pyarrow as pa
        if column in _FLOAT_COLUMNS:
            return pa.float64()
        if column in _BOOL_COLUMNS:
            return pa.bool_()
        return pa.string()

    # -- writing ------------------------------------------------------------ #

    def write(self, rows: list[dict]) -> None:
        """Write one chunk of rows (one Parquet row group per call)."""
        if self._raw is None and self._text is None and self._parquet is None:
            raise RuntimeError("PredictionWriter.write() called outside its 'with' block")
        if self.format == "csv":
            prepared = [{c: _csv_value(r.get(c)) for c in self.columns} for r in rows]
            buffer = io.StringIO()
            csv.DictWriter(buffer, fieldnames=self.columns, lineterminator="\n").writerows(prepared)
            if "\r" in buffer.getvalue():  # rare: see _write_csv_with_cr
                for row in prepared:
                    self._write_csv_with_cr(row)
            else:
                self._text.write(buffer.getvalue())
        elif self.format == "jsonl":
            self._text.write("".join(
                json.dumps({c: _json_value(r.get(c)) for c in self.columns},
                           ensure_ascii=False, allow_nan=False) + "\n" for r in rows))
        elif rows:
            self._write_parquet(rows)

    def _write_csv_with_cr(self, row: dict) -> None:
        """Write one row so that a "\r" in a field is quoted. The csv module quotes only the
        characters of its line terminator ("\n" here), and an unquoted "\r" splits the row
        in two for every CSV reader: write it with "\r\n" rows, then end it in "\n"."""
        buffer = io.StringIO()
        csv.DictWriter(buffer, fieldnames=self.columns, lineterminator="\r\n").writerow(row)
        self._text.write(buffer.getvalue()[:-2] + "\n")

    def _write_parquet(self, rows: list[dict]) -> None:
        """Convert one chunk column by column and write it as its own row group."""
        import pyarrow as pa
        arrays = []
        for col in self.columns:
            convert = (_as_float if col in _FLOAT_COLUMNS
                       else _as_bool if col in _BOOL_COLUMNS else _as_str)
            arrays.append(pa.array([convert(r.get(col)) for r in rows],
                                   type=self._arrow_type(col)))
        table = pa.Table.from_arrays(arrays, schema=self._schema)
        self._parquet.write_table(table, row_group_size=len(rows))

    # -- ending ------------------------------------------------------------- #

    def _finish(self) -> None:
        """Flush everything, fsync, then atomically move the temp file onto the target."""
        if self._parquet is not None:
            self._parquet.close()
        if self._text is not None:
            self._text.flush()
            if self._text is not sys.stdout:
                self._text.detach()
        if self.path == "-":
            if self._raw is not None:
                self._raw.flush()
            return
        self._raw.flush()
        os.fsync(self._raw.fileno())
        self._raw.close()
        _commit(self._tmp, Path(self.path))

    def _abort(self) -> None:
        """Drop the temp file and leave any existing target exactly as it was."""
        with contextlib.suppress(Exception):
            if self._parquet is not None:
                self._parquet.close()
        with contextlib.suppress(Exception):
            if self._text is not None and self._text is not sys.stdout:
                if self.path == "-":
                    self._text.flush()
                self._text.detach()
        if self._tmp is not None:
            with contextlib.suppress(Exception):
                self._raw.close()
            _discard(self._tmp)
