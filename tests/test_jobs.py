"""``smclass predict --jobs 2`` under real signals (issues 13.5 and 14).

Ctrl-C (SIGINT to the whole process group, as a terminal sends it), SIGTERM to the
process group (what ``timeout`` and ``docker stop`` send), and a worker killed with
SIGKILL (as the out-of-memory killer does) must each end the run promptly: exit 130
for the signals, exit 1 naming the lost chunk for the dead worker, the old output
intact, no temp file, no worker traceback, and no process of the group left behind.
A successful run closes and joins its workers. Every run starts in its own session,
so signalling its group never reaches pytest; every wait has a timeout, so a hang
fails the test instead of hanging the suite.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.name != "posix" or sys.platform == "darwin",
                                reason="POSIX process groups and /proc")

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
OLD = b"id,text,label,p_broadcast,note\nold,yesterday's good output,broadcast,0.9,\n"
PROMPT = 20          # seconds a run may take to end after the signal (it takes well under one)


def _default_sigint() -> None:
    # A suite started in the background inherits SIGINT ignored; a user's terminal gives the default.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".smclass-"))


def children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as fh:
        return [int(c) for c in fh.read().split()]


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_for_group_to_end(pgid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not group_alive(pgid):
            return True
        time.sleep(0.05)
    return False


class Run:
    """``python -m smclass predict --jobs 2`` in its own session (its own process group)."""

    def __init__(self, folder: Path, argv: list):
        self.folder = folder
        self.out = folder / "out.csv"
        self.out.write_bytes(OLD)
        self.err = folder / "stderr.txt"
        with open(self.err, "wb") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "smclass", *map(str, argv), "--output", self.out],
                                         stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT, env=ENV,
                                         start_new_session=True, preexec_fn=_default_sigint)

    @property
    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8", errors="replace")

    def mid_run(self) -> bool:
        """Workers are up and rows are already in the temp output: well under way."""
        return (any((self.folder / n).stat().st_size > 0 for n in temp_files(self.folder)
                    if (self.folder / n).exists())
                and len(children(self.proc.pid)) >= 2)

    def wait_mid_run(self, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"ended before it could be signalled: {self.stderr}"
            if self.mid_run():
                return
            time.sleep(0.01)
        self.kill()
        pytest.fail("the run never got under way")

    def wait(self, seconds: float = PROMPT) -> int:
        try:
            return self.proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"hung: still running {seconds}s after the signal; stderr: {self.stderr}")

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    """300,000 posts: several seconds of work with two workers, so a signal lands mid-run."""
    path = tmp_path_factory.mktemp("jobs") / "big.csv"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("id,text\n")
        fh.writelines(f'{i},"post {i % 997} about the sale, see you at {i % 13}pm"\n' for i in range(300_000))
    return path


def start(tmp_path, model_path, big) -> Run:
    return Run(tmp_path, ["predict", "--model", model_path, big, "--jobs", 2, "--chunk-size", 1000, "-q"])


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_to_the_process_group_ends_promptly(tmp_path, model_path, big, sig):
    run = start(tmp_path, model_path, big)
    run.wait_mid_run()
    workers = children(run.proc.pid)
    os.killpg(run.proc.pid, sig)
    assert run.wait() == 130
    assert run.stderr == "Interrupted.\n"                 # no worker traceback, nothing else
    assert run.out.read_bytes() == OLD and temp_files(tmp_path) == []
    assert wait_for_group_to_end(run.proc.pid), f"workers {workers} outlived the run"


def test_a_killed_worker_ends_the_run_naming_its_chunk(tmp_path, model_path, big):
    run = start(tmp_path, model_path, big)
    run.wait_mid_run()
    victim = children(run.proc.pid)[0]
    os.kill(victim, signal.SIGKILL)
    assert run.wait() == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in run.stderr, run.stderr
    assert lines[0].startswith(f"Error: Worker process {victim} killed by SIGKILL while classifying chunk ")
    assert " (posts " in lines[0] and ", from big.csv); " in lines[0]
    assert lines[0].endswith(f"{run.out} was not written (a previous file is unchanged).")
    assert run.out.read_bytes() == OLD and temp_files(tmp_path) == []
    assert wait_for_group_to_end(run.proc.pid)


def test_jobs_2_succeeds_closes_its_workers_and_matches_jobs_1(tmp_path, model_path):
    posts = tmp_path / "posts.csv"
    with open(posts, "w", encoding="utf-8") as fh:
        fh.write("id,text\n")
        fh.writelines(f'{i},"thanks {i % 101} for coming, new stock on {i % 7} #{i % 5}"\n' for i in range(5000))
    outputs = {}
    for jobs in (1, 2):
        folder = tmp_path / f"jobs{jobs}"
        folder.mkdir()
        run = Run(folder, ["predict", "--model", model_path, posts, "--jobs", jobs, "--chunk-size", 300, "-q"])
        assert run.wait(120) == 0, run.stderr
        assert run.stderr == ""
        assert wait_for_group_to_end(run.proc.pid), "a worker outlived a successful run"
        outputs[jobs] = run.out.read_bytes()
        assert temp_files(folder) == []
    assert outputs[1] == outputs[2]
    assert len(list(csv.reader(outputs[2].decode().splitlines()))) == 5001
