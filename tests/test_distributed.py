"""smclass predict --engine dask on a real LocalCluster (2 worker processes, 1 thread each).

The cluster starts once for the module; the command-line tests point
``python -m smclass predict --engine dask`` at it with ``--scheduler``, as a
user with a cluster would, and one test lets the command start its own.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import dask.dataframe as dd
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from distributed import Client, LocalCluster

from smclass.distributed import INSTALL_HINT, SUCCESS, _compute, model_payload, predict_dataframe, predict_dataset
from smclass.errors import DataError, UsageError

from conftest import run_cli

N_POSTS = 180


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=50) as local, Client(local) as client:
        client.local_cluster = local
        yield client, local.scheduler_address


@pytest.fixture(scope="module")
def posts(corpus_records) -> pd.DataFrame:
    """Corpus posts on one line each (so CSV can be cut in small blocks), with rows that have no text."""
    rows = [r for r in corpus_records if "\n" not in r["text"] and '"' not in r["text"]][:N_POSTS]
    frame = pd.DataFrame({"id": [r["id"] for r in rows], "text": [r["text"] for r in rows],
                          "platform": [r.get("platform") or "" for r in rows]}).astype(object)
    frame.loc[7, "text"] = None          # a missing text
    frame.loc[11, "text"] = "   "        # a blank one
    return frame


@pytest.fixture(scope="module")
def datasets(tmp_path_factory, posts) -> dict:
    """The same posts as Parquet (3 files, small row groups), CSV and JSONL, each with bad rows."""
    folder = tmp_path_factory.mktemp("dataset")
    (folder / "pq").mkdir()
    for i, start in enumerate(range(0, N_POSTS, 60)):
        pq.write_table(pa.Table.from_pandas(posts.iloc[start:start + 60], preserve_index=False),
                       folder / "pq" / f"posts-{i}.parquet", row_group_size=25)
    csv_path = folder / "posts.csv"
    posts.to_csv(csv_path, index=False)
    with open(csv_path, "a", encoding="utf-8") as handle:
        handle.write("x1,too,many,fields,here\n")           # a ragged row: kept with a note
    jsonl_path = folder / "posts.jsonl"
    with open(jsonl_path, "w", encoding="utf-8") as handle:
        for record in posts.to_dict("records"):
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        handle.write('{"id": "x2", "text": "broken\n')         # a line that is not JSON
        handle.write('{"id": "x3", "text": 42}\n')              # a text that is not a string
    return {"parquet": str(folder / "pq" / "*.parquet"), "csv": str(csv_path), "jsonl": str(jsonl_path),
            "folder": folder}


def _local(input_path: str, model_path, tmp_path) -> pd.DataFrame:
    """What local ``smclass predict`` writes for each file, in file order."""
    from smclass.batch import predict_files

    out = tmp_path / "local.csv"
    frames = []
    for path in sorted(Path(input_path).parent.glob(Path(input_path).name)):
        predict_files([str(path)], str(out), model=str(model_path), progress=False)
        frames.append(pd.read_csv(out, dtype=str, keep_default_na=False))
    return pd.concat(frames, ignore_index=True)


def _read_output(folder: Path, fmt: str = "parquet") -> pd.DataFrame:
    parts = sorted(folder.glob(f"part-*.{fmt}"))
    if fmt == "parquet":          # the folder as one dataset, as users read it: part files agree on types
        return pd.read_parquet(folder)
    if fmt == "csv":
        return pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in parts], ignore_index=True)
    return pd.concat([pd.read_json(p, lines=True, dtype=False) for p in parts], ignore_index=True)


def _labels(values) -> list:
    return ["" if v is None or pd.isna(v) else str(v) for v in values]


def _probabilities(values) -> list:
    return [None if v is None or v == "" or pd.isna(v) else round(float(v), 6) for v in values]


BAD_ROW_NOTES = {
    "parquet": ["text is empty", "text is empty"],
    "csv": ["text is empty", "text is empty", "malformed row: expected 3 fields, found 5"],
    "jsonl": ["text is empty", "text is empty", "invalid JSON on this line", "text is not a string"],
}


@pytest.mark.parametrize("fmt, options", [
    ("parquet", ["--partition-rows", "40"]),
    ("csv", ["--blocksize", "4000", "--format", "csv"]),
    ("jsonl", ["--blocksize", "4000", "--format", "jsonl"]),
])
def test_same_labels_and_probabilities_as_local_predict(fmt, options, datasets, cluster, model_path, tmp_path):
    _, address = cluster
    out = tmp_path / "predictions"
    done = run_cli("predict", "--engine", "dask", datasets[fmt], "--model", model_path, "--output", out,
                   "--scheduler", address, *options)
    assert done.returncode == 0, done.stderr
    local = _local(datasets[fmt], model_path, tmp_path)
    ours = _read_output(out, fmt)
    assert len(ours) == len(local) == N_POSTS + len(BAD_ROW_NOTES[fmt]) - 2
    assert _labels(ours["label"]) == _labels(local["label"])
    assert _probabilities(ours["p_broadcast"]) == _probabilities(local["p_broadcast"])
    assert _labels(ours["id"]) == local["id"].tolist()
    # rows without text and bad rows keep their row, with the note local predict gives them
    assert _labels(ours["note"]) == _labels(local["note"])
    assert [n for n in _labels(ours["note"]) if n] == BAD_ROW_NOTES[fmt]
    marker = json.loads((out / SUCCESS).read_text())
    assert marker["rows_in"] == marker["rows_written"] == len(local)
    assert marker["files"] == len(list(out.glob(f"part-*.{fmt}"))) > 2      # really split into partitions
    assert f"{len(local):,} posts read" in done.stderr and f"wrote {len(local):,} rows" in done.stderr
    assert not [p for p in out.parent.iterdir() if ".smclass-" in p.name]


def test_predict_dataframe_adds_label_p_broadcast_and_note(cluster, predictor, posts):
    client, _ = cluster
    frame = posts.rename(columns={"text": "body"}).assign(label="given")
    ddf = dd.from_pandas(frame, npartitions=4)
    result = predict_dataframe(ddf, text_column="body", predictor=predictor)
    assert list(result.columns) == ["id", "body", "platform", "input_label", "label", "p_broadcast", "lang", "note"]
    got = client.compute(result, sync=True)
    labels, p, notes = predictor.predict_many([t if isinstance(t, str) else None for t in frame["body"]])
    assert len(got) == len(frame)
    assert _labels(got["label"]) == _labels(labels)
    assert _probabilities(got["p_broadcast"]) == _probabilities(p.round(6))
    assert _labels(got["note"])[7] == "text is empty" and _labels(got["note"])[11] == "text is empty"


def test_the_model_travels_as_plain_arrays_not_a_pickle(predictor):
    import numpy as np

    payload = model_payload(predictor)
    assert sorted(payload) == ["card", "coef", "idf", "settings", "threshold", "token"]
    assert isinstance(payload["idf"], np.ndarray) and isinstance(payload["coef"], np.ndarray)
    json.dumps({k: v for k, v in payload.items() if k not in ("idf", "coef")})      # the rest is plain JSON data


def test_a_partition_with_no_text_at_all_still_writes_a_readable_dataset(posts, cluster, predictor, tmp_path):
    _, address = cluster
    frame = posts.copy()
    frame.loc[:9, "text"] = None
    source = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), source)
    summary = predict_dataset([str(source)], str(tmp_path / "out"), predictor=predictor, scheduler=address,
                              partition_rows=10)
    assert summary.files == N_POSTS // 10 and summary.skipped["text is empty"] == 11
    got = pd.read_parquet(tmp_path / "out")
    assert len(got) == N_POSTS and got["label"].iloc[:10].isna().all() and got["label"].iloc[12:].notna().all()


def test_missing_text_column_is_one_sentence(datasets, model_path, tmp_path):
    done = run_cli("predict", "--engine", "dask", datasets["csv"], "--model", model_path, "--output",
                   tmp_path / "out", "--text-column", "body")
    assert done.returncode == 1
    assert done.stderr.strip() == (f"Error: {datasets['csv']}: no column 'body' (found: id, text, platform); "
                                   "use --text-column.")
    assert not (tmp_path / "out").exists()


def test_unreachable_scheduler_is_one_sentence(datasets, model_path, tmp_path):
    with socket.socket() as sock:          # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    done = run_cli("predict", "--engine", "dask", datasets["csv"], "--model", model_path, "--output",
                   tmp_path / "out", "--scheduler", f"tcp://127.0.0.1:{port}")
    assert done.returncode == 1
    assert done.stderr.startswith(f"Error: Cannot reach the Dask scheduler at tcp://127.0.0.1:{port} within 3 s")
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out*"))


def test_unreadable_partition_fails_cleanly_and_writes_nothing(posts, cluster, model_path, tmp_path):
    _, address = cluster
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(2):
        pq.write_table(pa.Table.from_pandas(posts, preserve_index=False), folder / f"p{i}.parquet",
                       compression="none", row_group_size=len(posts))
    data = bytearray((folder / "p1.parquet").read_bytes())
    data[4:600] = b"\xff" * 596          # the data pages, behind an intact footer
    (folder / "p1.parquet").write_bytes(bytes(data))
    done = run_cli("predict", "--engine", "dask", folder / "*.parquet", "--model", model_path, "--output",
                   tmp_path / "out", "--scheduler", address)
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith(f"Error: {folder / 'p1.parquet'}, rows 1-{len(posts)}: cannot be read (")
    assert len(done.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]     # no output, no temporary folder


def test_existing_output_is_refused_unless_overwrite(datasets, cluster, predictor, model_path, tmp_path):
    _, address = cluster
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    done = run_cli("predict", "--engine", "dask", datasets["jsonl"], "--model", model_path, "--output", out,
                   "--scheduler", address)
    assert done.returncode == 1
    assert done.stderr.strip() == f"Error: {out} already exists; pass --overwrite to replace it, or choose another --output."
    with pytest.raises(UsageError, match="is not a dataset folder smclass wrote"):
        predict_dataset([datasets["jsonl"]], str(out), predictor=predictor, scheduler=address, overwrite=True)
    assert (out / "mine.txt").read_text() == "keep me"
    (out / "mine.txt").unlink()
    out.rmdir()
    predict_dataset([datasets["jsonl"]], str(out), predictor=predictor, scheduler=address)
    summary = predict_dataset([datasets["jsonl"]], str(out), predictor=predictor, scheduler=address,
                              overwrite=True, output_format="csv", blocksize=0)
    assert summary.files == 1 and summary.read == summary.written == N_POSTS + 2
    assert sorted(p.name for p in out.iterdir()) == [SUCCESS, "part-00000.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_worker_killed_mid_run_is_retried_and_no_row_is_lost(cluster, predictor, posts, tmp_path):
    """Dask reruns the dead worker's tasks elsewhere (the nanny restarts it): the run completes, whole."""
    client, _ = cluster
    release = tmp_path / "release"
    pieces = [posts.iloc[i:i + 45] for i in range(0, N_POSTS, 45)]
    ddf = dd.from_map(_wait_then_return, pieces, args=(str(release),), meta=posts.iloc[:0],
                      enforce_metadata=False)
    future = client.compute(predict_dataframe(ddf, "text", predictor=predictor))
    busy = {}
    while not busy and not future.done():
        busy = {w: tasks for w, tasks in client.processing().items() if tasks}
        client.wait_for_workers(2)
    victim = next(iter(busy))
    pid = client.run(os.getpid, workers=[victim])[victim]
    os.kill(pid, signal.SIGKILL)
    release.touch()
    got = future.result(timeout=120)
    labels, p, _ = predictor.predict_many([t if isinstance(t, str) else None for t in posts["text"]])
    assert len(got) == N_POSTS
    assert _labels(got["label"]) == _labels(labels)
    assert _probabilities(got["p_broadcast"]) == _probabilities(p.round(6))
    client.wait_for_workers(2, timeout=60)     # the nanny brought the worker back


def test_a_task_that_keeps_killing_workers_fails_the_run_in_one_sentence(cluster, posts):
    """Past the scheduler's allowed failures (default 3; 0 here) Dask gives up: one sentence, no traceback."""
    client, _ = cluster
    scheduler = client.local_cluster.scheduler
    allowed, scheduler.allowed_failures = scheduler.allowed_failures, 0
    try:
        ddf = dd.from_map(_die, [posts.iloc[:5]], meta=posts.iloc[:0], enforce_metadata=False)
        with pytest.raises(DataError, match=r"^Dask workers died while running a task .*, more often than the "
                                            r"scheduler retries it; see the workers' logs \(out of memory\?\)\.$"):
            _compute(client, ddf)
    finally:
        scheduler.allowed_failures = allowed
        client.wait_for_workers(2, timeout=60)


def _die(frame):
    os.kill(os.getpid(), signal.SIGKILL)


def _wait_then_return(frame, release: str):
    """A partition that is read only once the test has killed a worker."""
    import time

    while not os.path.exists(release):
        time.sleep(0.05)
    return frame


def test_starts_its_own_local_cluster_without_scheduler(datasets, model_path, tmp_path):
    out = tmp_path / "out"
    done = run_cli("predict", "--engine", "dask", datasets["parquet"], "--model", model_path, "--output", out,
                   "--workers", "2")
    assert done.returncode == 0, done.stderr
    assert json.loads((out / SUCCESS).read_text())["rows_written"] == N_POSTS
    assert len(_read_output(out)) == N_POSTS


def test_without_dask_the_flag_says_how_to_install_it(datasets, model_path, tmp_path):
    blocker = (
        "import sys, importlib.abc\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('dask', 'distributed'):\n"
        "            raise ImportError(f'No module named {name!r}')\n"
        "sys.meta_path.insert(0, Block())\n"
        "from smclass.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", blocker, "predict", "--engine", "dask", datasets["csv"], "--model", str(model_path),
         "--output", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == f"Error: {INSTALL_HINT}"
    assert 'pip install -e ".[dask]"' in INSTALL_HINT


def test_the_payload_carries_every_featuriser_option(model_path):
    """A worker's Predictor is built from the payload: it must featurise exactly as the local one."""
    import dataclasses

    from smclass import Predictor
    from smclass.modelfile import Weights

    settings = model_payload(Predictor.load(model_path))["settings"]
    fields = {f.name for f in dataclasses.fields(Weights)} - {"idf", "coef"}
    assert set(settings) == fields
