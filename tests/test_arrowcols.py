"""Arrow arrays built from buffers equal pyarrow's own, and writing Parquet never imports pandas."""

from __future__ import annotations

import json
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from smclass import arrowcols


@pytest.mark.parametrize("values", [[], ["a"], ["a", None, "ünï ✨", ""], [None, None], ["x" * 70_000] * 3])
def test_strings_match_pyarrow(values):
    assert arrowcols.strings(pa, values).equals(pa.array(values, type=pa.string()))


def test_strings_scrub_lone_surrogates_or_refuse():
    with pytest.raises(UnicodeEncodeError):
        arrowcols.strings(pa, ["ok", "bad \ud800"])
    assert arrowcols.strings(pa, ["ok", "bad \ud800"], scrub=lambda s: s.replace("\ud800", "\ufffd")).to_pylist() \
        == ["ok", "bad \ufffd"]


@pytest.mark.parametrize("values", [[], [0.25], [0.1, None, 1.0, float("inf")], [None]])
def test_floats_match_pyarrow(values):
    assert arrowcols.floats(pa, values).equals(pa.array(values, type=pa.float64()))


@pytest.mark.parametrize("values", [[], [True], [True, None, False] * 5, [None, None, None]])
def test_bools_match_pyarrow(values):
    assert arrowcols.bools(pa, values).equals(pa.array(values, type=pa.bool_()))


def test_parquet_output_does_not_import_pandas(tmp_path, model_path):
    """pa.array imports pandas when it is installed (half a second, 47 MB); the writer must not call it."""
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"text": f"post number {i} with a link t.co/x{i}"}) + "\n"
                              for i in range(50)), encoding="utf-8")
    out = tmp_path / "out.parquet"
    code = ("import sys; from smclass.cli import main; "
            f"rc = main(['predict', {str(source)!r}, '--model', {str(model_path)!r}, '-q', '-o', {str(out)!r}]); "
            "print(rc, 'pandas' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip().splitlines()[-1] == "0 False", done.stderr
    assert pq.read_table(out).num_rows == 50
