"""Write predictions atomically and in chunks: CSV, JSON Lines, Parquet or Excel (.xlsx).

A crash, an exception or Ctrl-C halfway through a million posts must never leave
a half-written predictions file that looks finished, nor clobber yesterday's
good one. So a regular file is written to a hidden ".smclass-<host>-<pid>-*"
temporary file in the target's own folder (same file system, so the final rename
is atomic), flushed and fsynced, and only then moved onto the target with
os.replace. A symlinked target is resolved first, so the link stays a link.

Outputs that are not regular files (a FIFO, /dev/null, /dev/stdout, a terminal)
cannot be replaced by renaming: they are written straight through.

Cells that a spreadsheet would run as a formula (starting with = + - @, tab or
CR) are neutralised in CSV and XLSX output by OWASP's rule, a leading "'".
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import errno
import io
import json
import math
import os
import re
import socket
import stat
import sys
import tempfile
from pathlib import Path
from typing import IO, Iterator

from smclass.errors import SmclassError, UsageError

OUTPUT_FORMATS = ("csv", "jsonl", "parquet", "xlsx")
TEMP_PREFIX = ".smclass-"
_EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".xlsx": "xlsx"}
_FLOAT_COLUMNS = {"p_broadcast"}
_BOOL_COLUMNS = {"is_reply"}
_BINARY_FORMATS = {"parquet": "Parquet", "xlsx": "Excel (.xlsx)"}

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")   # OWASP CSV injection: cells a spreadsheet evaluates
XLSX_MAX_ROWS = 1_048_576                          # Excel's limit, header included
XLSX_MAX_CELL = 32_767                             # characters Excel keeps in one cell
_STDOUT_NAMES = {"/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"}


class OutputError(SmclassError):
    """An output file could not be written (disk full, file too large, read-only, ...)."""


# --------------------------------------------------------------------------- #
# Text that cannot be encoded
# --------------------------------------------------------------------------- #

def _replace_with_fffd(error: UnicodeError):
    """Codec error handler: every character that cannot be encoded (a lone surrogate) becomes U+FFFD."""
    if isinstance(error, UnicodeEncodeError):   # bytes: the UTF-8 encoder takes only ASCII text back
        return "\ufffd".encode("utf-8") * (error.end - error.start), error.end
    raise error


codecs.register_error("smclass-fffd", _replace_with_fffd)


def scrub(text: str) -> str:
    """``text`` with lone surrogates replaced by U+FFFD, so it can be written as UTF-8."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "smclass-fffd").decode("utf-8")


def write_text(path, text: str) -> None:
    """Write ``text`` as UTF-8, lone surrogates replaced by U+FFFD (for the report's HTML)."""
    with open(path, "w", encoding="utf-8", errors="smclass-fffd", newline="") as handle:
        handle.write(text)


_FORMULA_SET = frozenset(FORMULA_START)


def _csv_cell(value):
    """A CSV cell that is not a plain str: NaN/inf blank, str subclasses guarded, the rest as is."""
    if isinstance(value, float) and not math.isfinite(value):
        return ""
    if isinstance(value, str):
        return guard_formula(value)
    return value


def guard_formula(value: str) -> str:
    """OWASP's rule: a cell starting with = + - @ tab or CR gets a leading "'", so it stays text.

    >>> guard_formula('=HYPERLINK("http://evil.example","click")')
    '\\'=HYPERLINK("http://evil.example","click")'
    >>> guard_formula("thanks!")
    'thanks!'
    """
    return "'" + value if value.startswith(FORMULA_START) else value


def _csv_text(data: list[list]) -> str | None:
    """Rows of ``data`` (columns of cells) as the CSV text PredictionWriter writes with the csv module
    (minimal quoting, "\n" rows, a "\r" quoted as _write_csv_with_cr does), built a column at a time:
    the csv module reads every character of every cell in a Python-level state machine, which made
    writing a fifth of a big run. None (use the csv module) for anything but str, float, int, bool
    and None cells.

    A cell is written as it is unless it holds a comma, a double quote, "\n" or "\r"; then it is
    quoted, its quotes doubled. None is an empty cell; numbers and booleans are written as str() does.
    """
    columns = []
    for values in data:
        kinds = set(map(type, values))
        if kinds <= _STR:
            cells = values
        elif kinds <= _STR_OR_NONE:
            cells = ["" if v is None else v for v in values]
        elif kinds <= _NUMBERS:
            cells = ["" if v is None else str(v) for v in values]
        else:
            cells = [v if v.__class__ is str else "" if v is None else _plain_str(v) for v in values]
            if None in cells:      # a cell of another type: the csv module decides
                return None
        if not kinds <= _NUMBERS:
            cells = [('"' + c.replace('"', '""') + '"') if ("," in c or '"' in c or "\n" in c or "\r" in c) else c
                     for c in cells]
        columns.append(cells)
    if not columns or not columns[0]:
        return ""
    return "\n".join(map(",".join, zip(*columns))) + "\n"


_STR = {str}
_STR_OR_NONE = {str, type(None)}
_NUMBERS = {float, int, bool, type(None)}


def _plain_str(value):
    """str() of a number or a boolean (what the csv module writes for them); None for other types."""
    kind = value.__class__
    if kind is float or kind is int or kind is bool:
        return str(value)
    return None


# --------------------------------------------------------------------------- #
# Where an output goes
# --------------------------------------------------------------------------- #

def output_format(path: str, explicit: str | None) -> str:
    """Pick the output format: --format if given, else the extension; stdout defaults to CSV."""
    if explicit is not None:
        if explicit not in OUTPUT_FORMATS:
            raise UsageError(f"Unknown output format '{explicit}'; use csv, jsonl, parquet or xlsx.")
        return explicit
    if str(path) == "-" or str(path) in _STDOUT_NAMES:
        return "csv"
    suffix = Path(path).suffix.lower()
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    raise UsageError(f"Cannot tell the output format of '{Path(path).name}' from its extension; "
                     f"name it .csv, .jsonl, .ndjson, .parquet or .xlsx, or pass --format.")


def _kind(path: str) -> tuple[str, Path | None]:
    """("stdout", None), ("direct", path) for FIFOs and devices, or ("file", the resolved path).

    A symlink is followed to the file it names, so the atomic rename replaces that
    file and the link stays a link. A folder is refused with a sentence.
    """
    if path == "-" or os.path.abspath(path) in _STDOUT_NAMES:
        return "stdout", None
    if path.startswith(("/dev/fd/", "/proc/")) or path == "/dev/stderr":   # inherited descriptors: write through
        return "direct", Path(path)
    resolved = Path(os.path.realpath(path))
    try:
        mode = resolved.stat().st_mode
    except FileNotFoundError:
        return "file", resolved
    except OSError as exc:
        raise OutputError(f"Cannot write {path}: {_reason(exc)}.") from None
    if stat.S_ISDIR(mode):
        raise UsageError(f"{path} is a folder, not a file; name a file inside it, "
                         f"such as {Path(path) / 'predictions.csv'}.")
    if stat.S_ISREG(mode):
        return "file", resolved
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return "direct", resolved
    raise UsageError(f"Cannot write {path}: it is neither a regular file, a FIFO nor a character device.")


def refuse_inputs_as_output(output, inputs, option: str = "--output") -> None:
    """Refuse an output that is one of the inputs (same file by any path: ./x, symlinks, hard links).

    Writing it would destroy the input. Outputs that are not regular files (/dev/null,
    a FIFO, a terminal shared with stdin) are never refused.
    """
    if output is None or str(output) == "-":
        return
    out = str(output)
    try:
        out_stat = os.stat(out)
    except OSError:
        out_stat = None
    if out_stat is not None and not stat.S_ISREG(out_stat.st_mode):
        return
    out_real = os.path.realpath(out)
    for name in inputs:
        name = str(name)
        if name == "-":
            continue
        if out_stat is not None:
            try:
                same = os.path.samefile(out, name)       # hard links too
            except OSError:                              # the input does not exist: nothing to destroy
                same = False
        else:
            same = os.path.realpath(name) == out_real
        if not same:
            continue
        raise UsageError(f"{option} {out} is the input {name}; refusing to overwrite an input. "
                         "Write the output to another file.")


def check_writable(target) -> None:
    """Fail now, not after an hour of work, if ``target`` cannot be created in its folder.

    The nearest existing folder on the way must be a folder we can create files in
    (a probe file is created and removed: permission bits, read-only mounts and
    root's privileges all answer truthfully that way).
    """
    target = Path(target)
    folder = target.parent
    while not folder.exists():
        if folder.is_symlink():          # a dangling link: makedirs would fail later
            raise UsageError(f"Cannot write {target}: '{folder}' is a broken link.")
        folder = folder.parent
    if not folder.is_dir():
        raise UsageError(f"Cannot write {target}: '{folder}' is a file, not a folder.")
    if target.is_dir():
        raise UsageError(f"{target} is a folder, not a file; name a file inside it.")
    try:
        probe = tempfile.NamedTemporaryFile(dir=folder, prefix=_temp_prefix())
    except OSError as exc:
        raise UsageError(f"Cannot write {target}: the folder '{folder}' is not writable ({_reason(exc)}).") from None
    probe.close()


_REASONS = {
    errno.ENOSPC: "no space left on the device (the disk is full)",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EFBIG: "the file would be larger than this system allows (file size limit)",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EIO: "an input/output error on the device",
}


def _reason(exc: OSError) -> str:
    return _REASONS.get(exc.errno) or (exc.strerror or str(exc)).lower()


def _write_failed(path, exc: OSError, replaced: bool) -> OutputError:
    kept = f"; the previous {Path(path).name}, if any, is unchanged" if replaced else ""
    return OutputError(f"Cannot write {path}: {_reason(exc)}{kept}.")


# --------------------------------------------------------------------------- #
# Temporary files
# --------------------------------------------------------------------------- #

def _host() -> str:
    return re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname() or "host")[:40]


def _temp_prefix() -> str:
    """'.smclass-<host>-<pid>-': the owner of a leftover can be proved dead by its name."""
    return f"{TEMP_PREFIX}{_host()}-{os.getpid()}-"


_TEMP_NAME = re.compile(r"^\.smclass-(?P<host>[A-Za-z0-9._]+)-(?P<pid>\d+)-[a-z0-9_]{8}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def remove_stale_temp_files(folder) -> list[str]:
    """Delete ``.smclass-*`` temp files in ``folder`` that a dead smclass process left (kill -9).

    Only files this host wrote, owned by this user, whose process id (in the name)
    no longer runs; a live run's temp file is never touched. Returns the names removed.
    """
    removed = []
    host, me, uid = _host(), os.getpid(), os.getuid()
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            match = _TEMP_NAME.match(entry.name)
            if not match or match["host"] != host or int(match["pid"]) == me:
                continue
            with contextlib.suppress(OSError):
                info = entry.stat(follow_symlinks=False)
                if stat.S_ISREG(info.st_mode) and info.st_uid == uid and not _alive(int(match["pid"])):
                    os.unlink(entry.path)
                    removed.append(entry.name)
    return removed


def _temp_file(target: Path) -> tuple[IO[bytes], Path]:
    """Open a hidden temp file next to the target, so os.replace never crosses file systems."""
    folder = target.parent
    if not folder.is_dir():
        raise UsageError(f"Cannot write {target}: the folder '{folder}' does not exist.")
    try:
        fh = tempfile.NamedTemporaryFile(dir=folder, prefix=_temp_prefix(), suffix=target.suffix, delete=False)
    except OSError as exc:
        raise UsageError(f"Cannot write {target}: {_reason(exc)}.") from None
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
    remove_stale_temp_files(target.parent)


def _discard(tmp: Path) -> None:
    """Remove a temp file that will never be committed."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)


def _deliver(tmp: Path, kind: str, target: Path | None) -> None:
    """Finish a path-based write: rename onto a regular file, or copy into a stream target."""
    if kind == "file":
        with open(tmp, "rb+") as done:
            os.fsync(done.fileno())
        _commit(tmp, target)
        return
    try:
        with open(tmp, "rb") as source:
            if kind == "stdout":
                sys.stdout.flush()
                _copy(source, sys.stdout.buffer)
                sys.stdout.buffer.flush()
            else:
                with open(target, "wb") as sink:
                    _copy(source, sink)
    finally:
        _discard(tmp)


def _copy(source, sink) -> None:
    while block := source.read(1 << 20):
        sink.write(block)


@contextlib.contextmanager
def atomic_path(target) -> Iterator[Path]:
    """Yield a temp path beside ``target``; on a clean exit it replaces target, else it vanishes.

    For writers that want a path rather than a stream (the model saver, the report).
    The temp name keeps the target's suffix, so savers that append an extension do
    not. A FIFO, device or /dev/stdout target gets the finished file copied into it.
    """
    with atomic_paths(target) as (tmp,):
        yield tmp


@contextlib.contextmanager
def atomic_paths(*targets) -> Iterator[list[Path]]:
    """Like atomic_path, for files that only make sense together (a model and its card).

    All temp files are fsynced before the first rename, and the renames run back to back
    with SIGINT/SIGTERM held until both are done, so Ctrl-C cannot leave a new card
    beside the old model (only a hard kill in that microsecond window could).
    """
    kinds = [_kind(str(t)) for t in targets]
    temps: list[Path] = []
    try:
        for (kind, resolved), target in zip(kinds, targets):
            place = resolved if kind == "file" else Path(tempfile.gettempdir()) / Path(str(target)).name
            fh, tmp = _temp_file(place)
            fh.close()
            temps.append(tmp)
        yield list(temps)
        for tmp, (kind, _) in zip(temps, kinds):
            if kind == "file":
                with open(tmp, "rb+") as done:
                    os.fsync(done.fileno())
        with _signals_held():
            for tmp, (kind, resolved) in zip(temps, kinds):
                _deliver(tmp, kind, resolved)
    except OSError as exc:
        for tmp in temps:
            _discard(tmp)
        if isinstance(exc, BrokenPipeError) or exc.errno not in _REASONS:
            raise
        raise _write_failed(_which(exc, temps, targets), exc, replaced=True) from None
    except BaseException:
        for tmp in temps:
            _discard(tmp)
        raise


def _which(exc: OSError, temps: list[Path], targets) -> str:
    """The target whose temp file the error names (else the first)."""
    for tmp, target in zip(temps, targets):
        if exc.filename and Path(str(exc.filename)).name == tmp.name:
            return str(target)
    return str(targets[0])


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


_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xlsx_value(value, guard: bool):
    """A cell openpyxl can write: control characters and lone surrogates become U+FFFD,
    text is cut to Excel's 32,767 characters and neutralised; NaN is an empty cell."""
    if _missing(value):
        return None
    if isinstance(value, (bool, int, float)):
        return value
    text = value if isinstance(value, str) else str(value)
    text = _ILLEGAL_XML.sub("\ufffd", text)
    if len(text) > XLSX_MAX_CELL:
        text = text[: XLSX_MAX_CELL - 1] + "…"
    return guard_formula(text) if guard else text


# --------------------------------------------------------------------------- #
# The writer
# --------------------------------------------------------------------------- #

class PredictionWriter:
    """Context manager that streams chunks of prediction rows into one output, atomically.

    ``formula_guard`` (default on) neutralises spreadsheet formulas in CSV and XLSX
    cells; ``excel`` starts a CSV with a UTF-8 byte-order mark, so Excel reads it
    as UTF-8 (emoji and accents intact).
    """

    def __init__(self, path: str, columns: list[str], format: str | None = None, *,
                 formula_guard: bool = True, excel: bool = False):
        self.path = str(path)
        self.columns = list(columns)
        self._kind, self._target = _kind(self.path)     # first: a folder is refused before its "extension"
        self.format = output_format(self.path, format)
        self.formula_guard = formula_guard
        self.excel = excel
        if excel and self.format != "csv":
            raise UsageError(f"--excel writes a CSV with a byte-order mark; it does not apply to "
                             f"{self.format} output (Excel opens .xlsx as it is).")
        if self._kind == "stdout" and self.format in _BINARY_FORMATS:
            raise UsageError(f"{_BINARY_FORMATS[self.format]} cannot be written to stdout; "
                             f"pass --output with a .{self.format} file.")
        self._raw: IO[bytes] | None = None
        self._handle = None
        self._tmp: Path | None = None
        self._text: io.TextIOWrapper | None = None
        self._csv = None
        self._parquet = None
        self._schema = None
        self._book = None
        self._sheet = None
        self._xlsx_rows = 0
        self._guarded = [c not in _FLOAT_COLUMNS and c not in _BOOL_COLUMNS for c in self.columns]

    # -- lifecycle ---------------------------------------------------------- #

    def __enter__(self) -> "PredictionWriter":
        try:
            if self._kind == "stdout":
                sys.stdout.flush()
                self._raw = getattr(sys.stdout, "buffer", None)
            elif self._kind == "direct":
                self._raw = open(self._target, "wb")
            else:
                self._handle, self._tmp = _temp_file(self._target)
                self._raw = self._handle.file  # keep the wrapper referenced: its finaliser closes the file
            self._open_format()
        except OSError as exc:
            self._abort()
            if isinstance(exc, BrokenPipeError):
                raise
            raise _write_failed(self.path, exc, self._kind == "file") from None
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
        except OSError as error:
            self._abort()
            if isinstance(error, BrokenPipeError):
                raise
            raise _write_failed(self.path, error, self._kind == "file") from None
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
        if self.format == "xlsx":
            from openpyxl import Workbook
            self._book = Workbook(write_only=True)
            self._sheet = self._book.create_sheet("predictions")
            self._sheet.append([_xlsx_value(c, self.formula_guard) for c in self.columns])
            self._xlsx_rows = 1
            return
        if self._raw is None:  # stdout without a byte buffer (unusual test doubles)
            self._text = sys.stdout
        else:
            self._text = io.TextIOWrapper(self._raw, encoding="utf-8", errors="smclass-fffd", newline="",
                                          write_through=False)
        if self.format == "csv":
            if self.excel:
                self._text.write("\ufeff")
            self._csv = csv.writer(self._text, lineterminator="\n")
            header = [guard_formula(c) for c in self.columns] if self.formula_guard else self.columns
            self._csv.writerow(header)

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
        """Write one chunk of rows, each a dict by column name (one Parquet row group per call)."""
        self.write_columns([[r.get(c) for r in rows] for c in self.columns])

    def write_rows(self, rows: list[list]) -> None:
        """Write one chunk of rows, each a list of values in ``columns`` order."""
        self.write_columns([list(col) for col in zip(*rows)] if rows else [[] for _ in self.columns])

    def write_columns(self, data: list[list]) -> None:
        """Write one chunk given column by column, in ``columns`` order (the fast path batch uses:
        every conversion runs once per column in a comprehension, not once per cell in a loop)."""
        if self._raw is None and self._text is None:
            raise RuntimeError("PredictionWriter.write() called outside its 'with' block")
        try:
            if self.format == "csv":
                self._write_csv(data)
            elif self.format == "jsonl":
                columns = self.columns
                self._text.write("".join(
                    json.dumps(dict(zip(columns, values)), ensure_ascii=False, allow_nan=False) + "\n"
                    for values in zip(*(self._json_column(c, v) for c, v in zip(columns, data)))))
            elif self.format == "xlsx":
                self._write_xlsx(data)
            elif data and data[0]:
                self._write_parquet(data)
        except OSError as exc:
            if isinstance(exc, BrokenPipeError):
                raise
            raise _write_failed(self.path, exc, self._kind == "file") from None

    @staticmethod
    def _json_column(column: str, values: list) -> list:
        if column in _FLOAT_COLUMNS or any(isinstance(v, float) for v in values):
            return [_json_value(v) for v in values]
        return values

    def _write_csv(self, data: list[list]) -> None:
        """Empty cells for None/NaN, guarded text; "\r" inside a field is quoted (see below)."""
        data = list(data)
        for i, column in enumerate(self.columns):
            values = data[i]
            if column in _FLOAT_COLUMNS:       # None is written as an empty cell by csv itself
                data[i] = [None if isinstance(v, float) and not math.isfinite(v) else v for v in values]
            elif self.formula_guard and self._guarded[i] and column != "label":   # labels are ours
                data[i] = [(("'" + v) if v[:1] in _FORMULA_SET else v) if v.__class__ is str else _csv_cell(v)
                           for v in values]
            elif any(isinstance(v, float) for v in values):
                data[i] = [None if isinstance(v, float) and not math.isfinite(v) else v for v in values]
        text = _csv_text(data) if len(data) > 1 else None
        if text is not None:
            self._text.write(text)
            return
        self._write_csv_module(data)

    def _write_csv_module(self, data: list[list]) -> None:
        """The rows through the csv module (what _csv_text reproduces, faster, for ordinary cells)."""
        rows = list(zip(*data))
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        text = buffer.getvalue()
        if "\r" in text:  # rare: see _write_csv_with_cr
            for row in rows:
                self._write_csv_with_cr(row)
        else:
            self._text.write(text)

    def _write_csv_with_cr(self, row: list) -> None:
        """Write one row so that a "\r" in a field is quoted. The csv module quotes only the
        characters of its line terminator ("\n" here), and an unquoted "\r" splits the row
        in two for every CSV reader: write it with "\r\n" rows, then end it in "\n"."""
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerow(row)
        self._text.write(buffer.getvalue()[:-2] + "\n")

    def _write_xlsx(self, data: list[list]) -> None:
        rows = list(zip(*data))
        if self._xlsx_rows + len(rows) > XLSX_MAX_ROWS:
            raise OutputError(f"Cannot write {self.path}: an Excel sheet holds at most {XLSX_MAX_ROWS:,} rows "
                              "(header included); write .csv or .parquet instead.")
        guard = self.formula_guard
        for row in rows:
            self._sheet.append([self._xlsx_text_cell(value) if isinstance(value, str) and value.startswith("=")
                                else value
                                for value in (_xlsx_value(v, guard and check) for v, check in zip(row, self._guarded))])
        self._xlsx_rows += len(rows)

    def _xlsx_text_cell(self, text: str):
        """openpyxl stores a string starting with '=' as a formula; keep it a string cell."""
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(self._sheet, value=text)
        cell.data_type = "s"
        return cell

    def _write_parquet(self, data: list[list]) -> None:
        """Convert one chunk column by column and write it as one record batch (one row group)."""
        import pyarrow as pa

        from . import arrowcols
        arrays = []
        for col, column_values in zip(self.columns, data):
            if col in _FLOAT_COLUMNS:
                arrays.append(arrowcols.floats(pa, [_as_float(v) for v in column_values]))
            elif col in _BOOL_COLUMNS:
                arrays.append(arrowcols.bools(pa, [_as_bool(v) for v in column_values]))
            else:
                if not all(v.__class__ is str or v is None for v in column_values):
                    column_values = [_as_str(v) for v in column_values]
                # a lone surrogate becomes U+FFFD, as in every format
                arrays.append(arrowcols.strings(pa, column_values, scrub=scrub))
        batch = pa.RecordBatch.from_arrays(arrays, schema=self._schema)
        self._parquet.write_batch(batch, row_group_size=len(data[0]))

    # -- ending ------------------------------------------------------------- #

    def _finish(self) -> None:
        """Flush everything, then (for a regular file) fsync and atomically rename onto the target."""
        if self._parquet is not None:
            self._parquet.close()
        if self._book is not None:
            self._book.save(self._raw)
            self._book = None
        if self._text is not None:
            self._text.flush()
            if self._text is not sys.stdout:
                self._text.detach()
            self._text = None
        if self._kind == "stdout":
            if self._raw is not None:
                self._raw.flush()
            return
        self._raw.flush()
        if self._kind == "direct":
            self._raw.close()
            return
        os.fsync(self._raw.fileno())
        self._raw.close()
        _commit(self._tmp, self._target)

    def _abort(self) -> None:
        """Drop the temp file and leave any existing target exactly as it was."""
        with contextlib.suppress(Exception):
            if self._parquet is not None:
                self._parquet.close()
        if self._book is not None:                 # openpyxl streams the sheet into its own temp file
            writer = getattr(self._sheet, "_writer", None)
            with contextlib.suppress(BaseException):
                if writer is not None:
                    writer.xf.close()              # now, not as an "Exception ignored" message at exit
            with contextlib.suppress(BaseException):
                if writer is not None:
                    os.unlink(writer.out)
            self._book = None
        with contextlib.suppress(Exception):
            if self._text is not None and self._text is not sys.stdout:
                if self._kind == "stdout":
                    self._text.flush()
                self._text.detach()
        if self._kind == "direct" and self._raw is not None:
            with contextlib.suppress(Exception):
                self._raw.close()
        if self._tmp is not None:
            with contextlib.suppress(Exception):
                self._raw.close()
            _discard(self._tmp)
