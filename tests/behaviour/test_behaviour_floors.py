"""The shipped model's behaviour pass rates cannot fall below the floors pinned in floors.json.

The model is the one `smclass train --cv 0` makes from the shipped corpus, trained once per session.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from smclass import behaviour as bh
from smclass.predict import Predictor

FLOORS = Path(__file__).resolve().parent / "floors.json"
ROOT = Path(__file__).resolve().parent.parent.parent


def _run_module(module: str, *args, cwd=ROOT) -> subprocess.CompletedProcess:
    """Run ``python -m MODULE ARGS`` as a user would."""
    return subprocess.run([sys.executable, "-m", module, *map(str, args)], capture_output=True, text=True,
                          encoding="utf-8", cwd=cwd, timeout=600)


@pytest.fixture(scope="session")
def run_module():
    """``run_module(module, *args)``: run ``python -m module args`` from the repository root."""
    return _run_module


@pytest.fixture(scope="session")
def shipped_model(tmp_path_factory) -> Path:
    """`smclass train --cv 0` on data/posts.jsonl (its train split), as a user runs it (~10 s)."""
    path = tmp_path_factory.mktemp("shipped") / "smclass.joblib"
    done = _run_module("smclass", "train", "--cv", "0", "--quiet", "--output", path)
    assert done.returncode == 0, done.stderr
    return path


@pytest.fixture(scope="module")
def shipped_results(shipped_model):
    return bh.run(Predictor.load(shipped_model))


def test_floors_file_is_the_one_the_library_uses():
    assert bh.FLOORS == FLOORS
    floors = bh.read_floors()
    assert all(0.0 <= v <= 1.0 for v in floors.values())


def test_no_pass_rate_falls_below_its_floor(shipped_results):
    problems = bh.below_floors(shipped_results, bh.read_floors(FLOORS))
    assert problems == [], "behaviour pass rates fell (or tests lack a floor):\n" + "\n".join(problems)


def test_every_family_and_kind_has_a_floor(shipped_results):
    floors = bh.read_floors(FLOORS)
    assert {"INV", "DIR", "MFT"} <= set(floors)
    assert set(bh.rates(shipped_results)) == set(floors)


def test_cli_prints_rates_for_a_model(shipped_model, run_module):
    done = run_module("smclass.behaviour", "--model", shipped_model, "--failures", "3")
    assert done.returncode == 0, done.stderr
    assert "INV photo_link" in done.stdout and "MFT activity_report" in done.stdout
    assert "3 worst failures:" in done.stdout


def test_cli_check_and_pin(shipped_model, tmp_path, run_module):
    floors = tmp_path / "floors.json"
    done = run_module("smclass.behaviour", "--model", shipped_model, "--pin", "--floors", floors, "--json")
    assert done.returncode == 0, done.stderr
    pinned = json.loads(floors.read_text(encoding="utf-8"))["floors"]
    rates = json.loads(done.stdout)["rates"]
    assert set(pinned) == set(rates) and all(pinned[k] <= rates[k] < pinned[k] + 0.01 + 1e-9 for k in rates)
    assert run_module("smclass.behaviour", "--model", shipped_model, "--check", "--floors", floors).returncode == 0
    below_one = sorted(k for k in pinned if rates[k] < 0.95)[0]          # a rate a raised floor can beat
    raised = {k: v + 0.05 if k == below_one else v for k, v in pinned.items()}
    floors.write_text(json.dumps({"floors": raised}), encoding="utf-8")
    done = run_module("smclass.behaviour", "--model", shipped_model, "--check", "--floors", floors)
    assert done.returncode == 1
    assert f"Error: {below_one}:" in done.stderr and "is below its floor" in done.stderr


def test_cli_names_a_missing_model(tmp_path, run_module):
    done = run_module("smclass.behaviour", "--model", tmp_path / "nope.joblib")
    assert done.returncode == 1
    assert done.stderr.startswith("Error: ") and "nope.joblib" in done.stderr and "Traceback" not in done.stderr


def test_cli_names_a_bad_floors_file(shipped_model, tmp_path, run_module):
    bad = tmp_path / "bad.json"
    bad.write_text('{"x": 1}', encoding="utf-8")
    cases = [
        (("--check", "--floors", bad), f"Error: {bad}: not a floors file"),
        (("--check", "--floors", tmp_path / "none.json"), f"Error: {tmp_path / 'none.json'}: no floors file"),
        (("--pin", "--floors", tmp_path / "no" / "dir.json"), f"Error: {tmp_path / 'no' / 'dir.json'}: cannot write"),
    ]
    for args, message in cases:
        done = run_module("smclass.behaviour", "--model", shipped_model, *args)
        assert done.returncode == 1 and done.stderr.startswith(message), done.stderr
        assert "Traceback" not in done.stderr
