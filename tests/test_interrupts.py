"""Interrupted and concurrent runs, and the exit codes (issue 6).

A killed ``smclass predict`` or ``smclass train`` must leave the output name
holding either nothing new or the old file, byte for byte: never a partial
file, and (for SIGINT/SIGTERM, which smclass handles) no temporary files. A
SIGKILL cannot be cleaned up after: a stray ``.smclass-*`` temp file may stay,
but the target is intact.

All eight slow processes start together in one module fixture, so their
start-ups and work overlap instead of adding up.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from smclass import Predictor, cli

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")

OLD = b"id,text,label,p_broadcast,note\nold,yesterday's good output,broadcast,0.9,\n"
SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGKILL]


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def smclass(*args) -> list[str]:
    return [sys.executable, "-m", "smclass", *map(str, args)]


def temp_files(folder: Path) -> list[Path]:
    return sorted(folder.glob(".smclass-*"))


def _partial_temp_file(folder: Path):
    """Ready when a temp output exists and already holds rows: the run is well under way."""
    def ready() -> bool:
        return any(p.stat().st_size > 0 for p in temp_files(folder) if p.exists())
    return ready


def _log_says(log: Path, text: str):
    def ready() -> bool:
        return log.exists() and text in log.read_text(encoding="utf-8", errors="replace")
    return ready


class Run:
    def __init__(self, name, argv, folder: Path, ready=None, sig=None):
        self.name, self.folder, self.ready, self.sig = name, folder, ready, sig
        self.log = folder / "stderr.txt"
        self.signalled = False
        with open(self.log, "wb") as err:
            # A run started in the background (as CI may be) inherits SIGINT ignored; give the child
            # the default disposition a user's terminal would, so Ctrl-C means KeyboardInterrupt.
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(Path(__file__).parent.parent),
                                                                             os.environ.get("PYTHONPATH")])))
            self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, cwd=folder,
                                         preexec_fn=_default_sigint, env=env)   # this checkout's smclass

    @property
    def stderr(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="module")
def runs(tmp_path_factory, model_path, small_train_file):
    """Start every slow run at once, signal each when it is under way, wait for all."""
    root = tmp_path_factory.mktemp("interrupts")
    big = root / "big.csv"
    with open(big, "w", encoding="utf-8") as fh:
        fh.write("id,text\n")
        fh.writelines(f"{i},post {i % 997} about the sale, see you at {i % 13}pm\n" for i in range(300_000))
    medium = root / "medium.csv"
    with open(medium, "w", encoding="utf-8") as fh:
        fh.write("id,text\n")
        fh.writelines(f"{i},thanks {i % 101} for coming, new stock on {i % 7}\n" for i in range(20_000))

    started = {}
    for sig in SIGNALS:
        folder = root / f"predict-{sig.name}"
        folder.mkdir()
        (folder / "out.csv").write_bytes(OLD)
        started[f"predict-{sig.name}"] = Run(
            "predict", smclass("predict", "--model", model_path, big, "--output", folder / "out.csv",
                               "--chunk-size", 1000, "-q"),
            folder, _partial_temp_file(folder), sig)
    for sig in SIGNALS:
        folder = root / f"train-{sig.name}"
        (folder / "models").mkdir(parents=True)
        shutil.copyfile(model_path, folder / "models" / "m.joblib")
        shutil.copyfile(model_path.with_suffix(".json"), folder / "models" / "m.json")
        run = Run("train", smclass("train", "--data", small_train_file, "--output", "models/m.joblib",
                                   "--search", "--holdout", 0), folder, None, sig)
        run.ready = _log_says(run.log, "searching")      # in the middle of training
        started[f"train-{sig.name}"] = run
    for n in (1, 2):
        folder = root / f"concurrent-{n}"
        folder.mkdir()
        started[f"concurrent-{n}"] = Run(
            "concurrent", smclass("predict", "--model", model_path, medium, "--output", folder / "out.csv",
                                  "--chunk-size", 1000, "-q"), folder)

    deadline = time.monotonic() + 240
    waiting = [r for r in started.values() if r.sig is not None]
    while waiting and time.monotonic() < deadline:
        for run in list(waiting):
            if run.proc.poll() is not None:           # ended before it could be signalled
                waiting.remove(run)
            elif run.ready():
                run.proc.send_signal(run.sig)
                run.signalled = True
                waiting.remove(run)
        time.sleep(0.01)
    for run in started.values():
        try:
            run.proc.wait(timeout=max(deadline - time.monotonic(), 1))
        except subprocess.TimeoutExpired:
            run.proc.kill()
            run.proc.wait()
    yield {"runs": started, "medium": medium}


def _exit_code(sig) -> int:
    return -signal.SIGKILL if sig == signal.SIGKILL else 130


@pytest.mark.parametrize("sig", SIGNALS, ids=[s.name for s in SIGNALS])
def test_interrupted_predict_leaves_the_old_output(runs, sig):
    run = runs["runs"][f"predict-{sig.name}"]
    assert run.signalled, run.stderr
    assert run.proc.returncode == _exit_code(sig), run.stderr
    assert (run.folder / "out.csv").read_bytes() == OLD          # never a partial file
    if sig == signal.SIGKILL:
        assert len(temp_files(run.folder)) <= 1                   # nothing can clean up after SIGKILL
    else:
        assert run.stderr.strip() == "Interrupted."               # no traceback, no temp file left
        assert temp_files(run.folder) == []


@pytest.mark.parametrize("sig", SIGNALS, ids=[s.name for s in SIGNALS])
def test_interrupted_train_keeps_the_old_model_and_card(runs, model_path, sig):
    run = runs["runs"][f"train-{sig.name}"]
    models = run.folder / "models"
    assert run.signalled, run.stderr
    assert run.proc.returncode == _exit_code(sig), run.stderr
    assert (models / "m.joblib").read_bytes() == model_path.read_bytes()
    assert (models / "m.json").read_bytes() == model_path.with_suffix(".json").read_bytes()
    assert Predictor.load(models / "m.joblib").predict(["thanks!"])[0] is not None
    assert temp_files(models) == []
    if sig != signal.SIGKILL:
        assert "Traceback" not in run.stderr
        assert run.stderr.strip().splitlines()[-1] == "Interrupted."


def test_two_predicts_at_once_both_complete(runs, predictor, tmp_path):
    from smclass.batch import predict_files

    sequential = tmp_path / "sequential.csv"
    predict_files([str(runs["medium"])], str(sequential), predictor=predictor, chunk_size=1000, progress=False)
    expected = sequential.read_bytes()
    assert expected.count(b"\n") == 20_001
    for n in (1, 2):
        run = runs["runs"][f"concurrent-{n}"]
        assert run.proc.returncode == 0, run.stderr
        assert (run.folder / "out.csv").read_bytes() == expected
        assert temp_files(run.folder) == []


# --------------------------------------------------------------------------- #
# The model and its card are replaced together
# --------------------------------------------------------------------------- #

def test_ctrl_c_between_the_renames_still_leaves_matching_files(model_path, tmp_path, monkeypatch):
    """SIGINT right after the first of the three renames (model, weights, card) is held until
    the last is done, so the folder never holds a new card beside an old model (which would not load)."""
    from smclass import writers
    from smclass.model import load, save

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)   # even if pytest runs with SIGINT ignored
    try:
        target = tmp_path / "m.joblib"
        shutil.copyfile(model_path, target)
        shutil.copyfile(model_path.with_suffix(".json"), target.with_suffix(".json"))
        shutil.copyfile(model_path.with_suffix(".npz"), target.with_suffix(".npz"))
        pipeline, _ = load(model_path)
        real_commit, renamed = writers._commit, []

        def commit_then_ctrl_c(tmp, dest):
            real_commit(tmp, dest)
            renamed.append(Path(dest).name)
            if len(renamed) == 1:
                signal.raise_signal(signal.SIGINT)

        monkeypatch.setattr(writers, "_commit", commit_then_ctrl_c)
        with pytest.raises(KeyboardInterrupt):
            save(pipeline, {"note": "retrained"}, target)
        assert sorted(renamed) == ["m.joblib", "m.json", "m.npz"]
        assert json.loads(target.with_suffix(".json").read_text())["note"] == "retrained"
        Predictor.load(target)                                # sha256 in the card matches the model
        assert temp_files(tmp_path) == []
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)


# --------------------------------------------------------------------------- #
# Exit codes: 0 success, 1 bad input or usage, 2 internal error, 130 interrupted
# --------------------------------------------------------------------------- #

EXIT_SCRIPT = textwrap.dedent("""
    import contextlib, io, json, sys
    from smclass import batch, cli

    def call(*argv):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = cli.main(list(argv))
        return [code, err.getvalue()]

    model, good, bad, out = sys.argv[1:5]
    result = {"ok": call("predict", "-m", model, good, "-o", out, "-q"),
              "bad-input": call("predict", "-m", model, bad, "-o", out, "-q"),
              "bad-input-debug": call("predict", "-m", model, bad, "-o", out, "-q", "--debug")}
    real = batch.predict_files

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    batch.predict_files = boom
    result["internal"] = call("predict", "-m", model, good, "-o", out, "-q")
    result["internal-debug"] = call("predict", "-m", model, good, "-o", out, "-q", "--debug")
    batch.predict_files = ctrl_c
    result["interrupted"] = call("predict", "-m", model, good, "-o", out, "-q")
    print(json.dumps(result))
""")


def test_exit_codes(model_path, small_test_file, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"")
    out = tmp_path / "out.csv"
    proc = subprocess.run([sys.executable, "-c", EXIT_SCRIPT, str(model_path), str(small_test_file), str(bad),
                           str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["ok"] == [0, ""]
    assert result["bad-input"] == [1, "Error: bad.csv is empty.\n"]
    code, err = result["bad-input-debug"]
    assert code == 1 and err.startswith("Traceback (most recent call last):")
    assert err.splitlines()[-1] == "Error: bad.csv is empty."
    assert result["internal"] == [2, "Internal error: RuntimeError: boom (run again with --debug for the traceback).\n"]
    code, err = result["internal-debug"]
    assert code == 2 and err.startswith("Traceback (most recent call last):")
    assert err.splitlines()[-1].startswith("Internal error: RuntimeError: boom")
    assert result["interrupted"] == [130, "Interrupted.\n"]


def test_usage_error_is_exit_1_and_main_restores_the_sigterm_handler(capsys):
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit) as info:
        cli.main(["predict", "--no-such-option", "x.csv"])
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == "Error: unrecognized arguments: --no-such-option."
    assert cli.main(["predict", "--model", "missing.joblib", "x.csv", "-q"]) == 1
    assert signal.getsignal(signal.SIGTERM) is before
