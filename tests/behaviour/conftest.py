"""The model `smclass train` makes from the shipped corpus, trained once per session."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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
