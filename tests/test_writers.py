"""Prediction writers: round trips, atomic replacement, stdout."""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path

import pytest

from smclass.errors import UsageError
from smclass.writers import OUTPUT_FORMATS, PredictionWriter, atomic_path, output_format

COLUMNS = ["id", "text", "label", "p_broadcast", "is_reply", "where"]
CHUNKS = [
    [
        {"id": "1", "text": "Sale ends tonight! 50% off", "label": "broadcast",
         "p_broadcast": 0.97, "is_reply": False, "where": "posts.csv, row 2"},
        {"id": "2", "text": "haha same,\nsee you \"there\"?", "label": "conversational",
         "p_broadcast": 0.08, "is_reply": True, "where": "posts.csv, row 3"},
    ],
    [
        {"id": None, "text": None, "label": None, "p_broadcast": float("nan"),
         "is_reply": None, "where": "posts.csv, row 4"},
        {"id": "4", "text": "Grüße, café ’ 😀 — ok", "label": "conversational",
         "p_broadcast": 0.5, "is_reply": None, "where": "posts.csv, row 5"},
    ],
    [],
]
ROWS = [r for chunk in CHUNKS for r in chunk]


def write_all(path, fmt=None, chunks=CHUNKS):
    with PredictionWriter(str(path), COLUMNS, fmt) as writer:
        for chunk in chunks:
            writer.write(chunk)


def temp_files(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".smclass-")]


# --------------------------------------------------------------------------- #
# Format choice
# --------------------------------------------------------------------------- #

@pytest.mark.parametrize("path, explicit, fmt", [
    ("out.csv", None, "csv"), ("out.jsonl", None, "jsonl"), ("out.ndjson", None, "jsonl"),
    ("out.PARQUET", None, "parquet"), ("-", None, "csv"), ("-", "jsonl", "jsonl"),
    ("out.txt", "csv", "csv"),
])
def test_output_format(path, explicit, fmt):
    assert output_format(path, explicit) == fmt


def test_output_format_errors():
    assert OUTPUT_FORMATS == ("csv", "jsonl", "parquet", "xlsx")
    assert output_format("out.XLSX", None) == "xlsx"
    with pytest.raises(UsageError, match="Cannot tell the output format of 'out.xls'"):
        output_format("out.xls", None)
    with pytest.raises(UsageError, match="Unknown output format 'xml'"):
        output_format("out.csv", "xml")
    with pytest.raises(UsageError, match="Parquet cannot be written to stdout"):
        PredictionWriter("-", COLUMNS, "parquet")


# --------------------------------------------------------------------------- #
# Round trips
# --------------------------------------------------------------------------- #

def test_csv_round_trip(tmp_path):
    path = tmp_path / "out.csv"
    write_all(path)
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == COLUMNS
        back = list(reader)
    assert len(back) == len(ROWS)
    for got, want in zip(back, ROWS):
        for col in COLUMNS:
            value = want[col]
            missing = value is None or (isinstance(value, float) and math.isnan(value))
            assert got[col] == ("" if missing else str(value))
    assert back[1]["text"] == 'haha same,\nsee you "there"?'
    assert temp_files(tmp_path) == []


def test_jsonl_round_trip(tmp_path):
    path = tmp_path / "out.jsonl"
    write_all(path)
    raw = path.read_text(encoding="utf-8")
    assert "😀" in raw and "NaN" not in raw  # ensure_ascii=False, NaN -> null
    back = [json.loads(line) for line in raw.splitlines()]
    assert [list(r) for r in back] == [COLUMNS] * len(ROWS)
    expected = [{c: (None if isinstance(r[c], float) and math.isnan(r[c]) else r[c])
                 for c in COLUMNS} for r in ROWS]
    assert back == expected


def test_parquet_round_trip_schema_and_row_groups(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq
    path = tmp_path / "out.parquet"
    write_all(path)
    pf = pq.ParquetFile(path)
    assert pf.num_row_groups == 2  # one per non-empty write()
    schema = pf.schema_arrow
    assert schema.field("p_broadcast").type == pa.float64()
    assert schema.field("is_reply").type == pa.bool_()
    assert schema.field("text").type == pa.string()
    back = pf.read().to_pylist()
    assert len(back) == len(ROWS)
    for got, want in zip(back, ROWS):
        for col in COLUMNS:
            if isinstance(want[col], float) and math.isnan(want[col]):
                assert math.isnan(got[col])
            else:
                assert got[col] == want[col]


def test_empty_output_still_has_header(tmp_path):
    path = tmp_path / "out.csv"
    write_all(path, chunks=[])
    assert path.read_text() == ",".join(COLUMNS) + "\n"
    ppath = tmp_path / "out.parquet"
    write_all(ppath, chunks=[])
    import pyarrow.parquet as pq
    assert pq.read_table(ppath).column_names == COLUMNS


def test_new_file_gets_normal_permissions(tmp_path):
    path = tmp_path / "out.csv"
    write_all(path)
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


# --------------------------------------------------------------------------- #
# Atomicity
# --------------------------------------------------------------------------- #

@pytest.mark.parametrize("name", ["out.csv", "out.jsonl", "out.parquet"])
@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_failure_leaves_old_target_intact(tmp_path, name, error):
    path = tmp_path / name
    path.write_bytes(b"yesterday's good predictions\n")
    with pytest.raises(error):
        with PredictionWriter(str(path), COLUMNS) as writer:
            writer.write(CHUNKS[0])
            assert temp_files(tmp_path)  # the temp file lives beside the target meanwhile
            raise error("stop")
    assert path.read_bytes() == b"yesterday's good predictions\n"
    assert temp_files(tmp_path) == []


def test_failure_without_old_target_leaves_nothing(tmp_path):
    with pytest.raises(ValueError):
        with PredictionWriter(str(tmp_path / "out.parquet"), COLUMNS) as writer:
            writer.write([{"id": "1", "p_broadcast": "not a number"}])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["out.csv", "out.jsonl", "out.parquet"])
def test_only_listed_columns_are_written(tmp_path, name):
    path = tmp_path / name
    with PredictionWriter(str(path), ["id", "text"]) as writer:
        writer.write([{"id": "1", "text": "hi", "internal": 3}])
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq
        assert pq.read_table(path).to_pylist() == [{"id": "1", "text": "hi"}]
    else:
        assert "internal" not in path.read_text()


def test_success_replaces_old_target(tmp_path):
    path = tmp_path / "out.jsonl"
    path.write_text("old\n")
    write_all(path)
    assert path.read_text().count("\n") == len(ROWS)


def test_missing_folder_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        with PredictionWriter(str(tmp_path / "nope" / "out.csv"), COLUMNS):
            pass


def test_atomic_path(tmp_path):
    target = tmp_path / "model.npz"
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".smclass-")
        assert tmp.name.endswith(".npz")
        tmp.write_bytes(b"v1")
    assert target.read_bytes() == b"v1"
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise KeyboardInterrupt
    assert target.read_bytes() == b"v1"
    assert temp_files(tmp_path) == []


# --------------------------------------------------------------------------- #
# stdout
# --------------------------------------------------------------------------- #

def test_stdout_csv(capsys):
    write_all("-")
    out = capsys.readouterr().out
    back = list(csv.DictReader(io.StringIO(out, newline="")))
    assert len(back) == len(ROWS) and back[3]["text"] == "Grüße, café ’ 😀 — ok"


def test_stdout_jsonl_bytes(capfdbinary):
    write_all("-", "jsonl")
    out = capfdbinary.readouterr().out
    lines = out.decode("utf-8").splitlines()
    assert len(lines) == len(ROWS)
    assert json.loads(lines[1])["text"] == 'haha same,\nsee you "there"?'
    assert "😀".encode() in out


# --------------------------------------------------------------------------- #
# Column-wise writing, the formula guard, stale temp files (issue 13)
# --------------------------------------------------------------------------- #

@pytest.mark.parametrize("name", ["out.csv", "out.jsonl", "out.parquet", "out.xlsx"])
def test_write_rows_and_write_columns_equal_write(tmp_path, name):
    paths = [tmp_path / f"{way}-{name}" for way in ("dicts", "rows", "columns")]
    with PredictionWriter(str(paths[0]), COLUMNS) as writer:
        writer.write(ROWS)
    with PredictionWriter(str(paths[1]), COLUMNS) as writer:
        writer.write_rows([[r[c] for c in COLUMNS] for r in ROWS])
    with PredictionWriter(str(paths[2]), COLUMNS) as writer:
        writer.write_columns([[r[c] for r in ROWS] for c in COLUMNS])
    if name.endswith(".xlsx"):
        import openpyxl
        sheets = [[[c.value for c in row] for row in openpyxl.load_workbook(p).active.iter_rows()] for p in paths]
        assert sheets[0] == sheets[1] == sheets[2] and len(sheets[0]) == len(ROWS) + 1
    else:
        assert paths[0].read_bytes() == paths[1].read_bytes() == paths[2].read_bytes()


def test_csv_formula_guard_and_its_switch(tmp_path):
    rows = [{"id": "=1+1", "text": "@ana hi", "label": "conversational", "p_broadcast": -0.0,
             "is_reply": True, "where": "-x"}]
    guarded, raw = tmp_path / "guarded.csv", tmp_path / "raw.csv"
    with PredictionWriter(str(guarded), COLUMNS) as writer:
        writer.write(rows)
    with PredictionWriter(str(raw), COLUMNS, formula_guard=False) as writer:
        writer.write(rows)
    assert guarded.read_text().splitlines()[1] == "'=1+1,'@ana hi,conversational,-0.0,True,'-x"
    assert raw.read_text().splitlines()[1] == "=1+1,@ana hi,conversational,-0.0,True,-x"


def test_remove_stale_temp_files_only_takes_dead_owners(tmp_path):
    import socket
    import subprocess

    from smclass.writers import _host, remove_stale_temp_files

    child = subprocess.Popen(["true"])
    child.wait()
    dead = tmp_path / f".smclass-{_host()}-{child.pid}-abcdefgh.csv"
    mine = tmp_path / f".smclass-{_host()}-{os.getpid()}-abcdefgh.csv"
    for p in (dead, mine):
        p.write_text("x")
    assert socket.gethostname()
    assert remove_stale_temp_files(tmp_path) == [dead.name]
    assert sorted(temp_files(tmp_path)) == [mine.name]
