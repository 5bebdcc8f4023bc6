"""Excel workbooks (.xlsx): the first sheet (or --sheet), streamed row by row with openpyxl."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Iterator

from smclass.errors import DataError

from .archives import MAX_MEMBER_BYTES, MAX_RATIO, RATIO_FLOOR, _mb
from .records import Post

SUFFIXES = (".xlsx", ".xlsm")


def is_xlsx(path: Path, head: bytes) -> bool:
    """An .xlsx by name, or a zip holding xl/workbook.xml."""
    if path.name.lower().endswith(SUFFIXES):
        return True
    if not head.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(path) as zf:
            return "xl/workbook.xml" in zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def _check_bomb(p: Path) -> None:
    """A workbook is a zip: refuse one whose parts would expand absurdly, before parsing any."""
    try:
        with zipfile.ZipFile(p) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(f"{p.name} is not a valid .xlsx workbook ({exc}).") from None
    total = sum(i.file_size for i in infos)
    packed = max(sum(i.compress_size for i in infos), 1)
    if total > MAX_MEMBER_BYTES or (total > RATIO_FLOOR and total > MAX_RATIO * packed):
        raise DataError(f"{p.name} would expand from {_mb(packed)} to {_mb(total)}; "
                        f"refusing it as a likely archive bomb.")


def read_xlsx(p: Path, opts: dict) -> Iterator[Post]:
    """Rows of one sheet as Posts (header in row 1), in read-only mode so memory stays flat."""
    from .generic import _known, _pick_columns, _record_post

    try:
        import openpyxl
    except ImportError:  # pragma: no cover - openpyxl is a dependency
        raise DataError("Reading .xlsx needs openpyxl: pip install openpyxl.") from None
    if p.stat().st_size == 0:
        raise DataError(f"{p.name} is empty.")
    _check_bomb(p)
    handle = open(p, "rb")  # a file object: openpyxl would refuse a name without .xlsx
    try:
        wb = openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        handle.close()
        raise DataError(f"{p.name} is not a valid .xlsx workbook ({type(exc).__name__}: {exc}).") from None
    try:
        sheet = opts.get("sheet")
        if sheet is not None:
            if sheet not in wb.sheetnames:
                raise DataError(f"{p.name}: no sheet '{sheet}' (found: {', '.join(wb.sheetnames)}); "
                                f"use --sheet.")
            ws = wb[sheet]
        else:
            ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        first = next(rows, None)
        if first is None:
            return
        header = [("" if h is None else str(h).strip()) for h in first]
        while header and header[-1] == "":
            header.pop()
        width = len(header)
        cols = _pick_columns(p.name, header, opts)
        known = _known(cols)
        blanks: list[Post] = []  # empty rows count only when a filled row follows
        for row_no, row in enumerate(rows, start=2):
            where = f"{p.name}, row {row_no}"
            values = list(row[:width]) + [None] * (width - len(row))
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                blanks.append(Post(None, None, None, None, None, "blank row", {}, where))
                continue
            yield from blanks
            blanks = []
            record = {h: v for h, v in zip(header, values) if h != ""}
            yield _record_post(record, cols, known, where)
    finally:
        wb.close()
        handle.close()
