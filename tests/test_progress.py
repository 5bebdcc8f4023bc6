"""Progress bars: drawn on a terminal (a pty here), never into a pipe."""

from __future__ import annotations

import csv
import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios

import pytest

from conftest import ROOT, run_cli

BAR_START = r"\[00:00<\?, \?"   # elapsed < time left, then the rate: tqdm's first frame


def run_on_terminal(*args, cwd) -> tuple[int, str, str]:
    """Run ``python -m smclass ARGS`` with stderr on a pseudo-terminal; (exit code, stdout, terminal output)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "smclass", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=slave, cwd=cwd, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    stdout = proc.stdout.read().decode()
    proc.stdout.close()
    return proc.wait(timeout=300), stdout, b"".join(chunks).decode("utf-8", "replace")


@pytest.fixture(scope="module")
def posts_csv(tmp_path_factory, corpus_records):
    path = tmp_path_factory.mktemp("progress") / "posts.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        for i in range(2000):
            writer.writerow([i, corpus_records[i % len(corpus_records)]["text"]])
    return path


def test_predict_draws_a_byte_bar_on_a_terminal(tmp_path, model_path, posts_csv):
    code, _, terminal = run_on_terminal("predict", posts_csv, "-o", tmp_path / "out.csv", "-m", model_path,
                                        "--chunk-size", "100", cwd=tmp_path)
    assert code == 0, terminal
    # percentage, bytes done of the input's size (in kB), elapsed<ETA, rate
    assert re.search(rf"\rclassifying: +0%\|.*\| 0\.00/[\d.]+k {BAR_START}B/s\]", terminal), terminal
    # the bar is wiped when done: the summary line starts a clean line
    frames = terminal.rstrip("\r\n").split("\r")
    assert frames[-2].strip() == "" and frames[-1].startswith("2,000 posts read, 2,000 classified, 0 skipped")
    assert (tmp_path / "out.csv").exists()


def test_no_bar_into_a_pipe(tmp_path, model_path, posts_csv):
    result = run_cli("predict", posts_csv, "-o", tmp_path / "out.csv", "-m", model_path, "--chunk-size", "100")
    assert result.returncode == 0
    assert "\r" not in result.stderr and "%|" not in result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("2,000 posts read")
    report = run_cli("report", posts_csv, "-o", tmp_path / "r.html", "-m", model_path)
    assert report.returncode == 0 and "\r" not in report.stderr and "%|" not in report.stderr


def test_quiet_draws_no_bar_even_on_a_terminal(tmp_path, model_path, posts_csv):
    code, _, terminal = run_on_terminal("-q", "predict", posts_csv, "-o", tmp_path / "out.csv", "-m", model_path,
                                        cwd=tmp_path)
    assert code == 0 and terminal == ""


def test_report_draws_a_bar_on_a_terminal(tmp_path, model_path, posts_csv):
    code, _, terminal = run_on_terminal("report", posts_csv, "-o", tmp_path / "r.html", "-m", model_path, cwd=tmp_path)
    assert code == 0, terminal
    assert re.search(rf"\rreading: +0%\|.*\| 0\.00/[\d.]+k {BAR_START}B/s\]", terminal), terminal
    assert "2,000 posts read" in terminal


def test_training_shows_cross_validation_folds_on_a_terminal(tmp_path, small_train_file):
    code, stdout, terminal = run_on_terminal("train", "--data", small_train_file, "--cv", "3", "-o", tmp_path / "m.joblib",
                                             cwd=tmp_path)
    assert code == 0, terminal
    assert re.search(rf"\rcross-validating: +0%\|.*\| 0/3 {BAR_START}", terminal), terminal
    assert "3-fold cross-validation on the training posts" in stdout


def test_bytes_read_are_the_open_files_offset(tmp_path):
    from smclass.progress import open_offset

    path = tmp_path / "data.bin"
    path.write_bytes(b"x" * 10_000)
    assert open_offset(path.stat()) is None            # not open: nothing read
    with open(path, "rb", buffering=0) as handle:
        handle.read(1234)
        assert open_offset(path.stat()) == 1234
        handle.read()
        assert open_offset(path.stat()) == 10_000
