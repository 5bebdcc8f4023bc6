"""Shared fixtures: small corpora the tests write, and one model trained once per session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs the property tests on a fixed sequence of examples, so a run is reproducible;
# locally they explore new examples every time.
settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "posts.jsonl"


def read_corpus() -> list[dict]:
    with open(CORPUS, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def small_sample(records: list[dict], per_label: int, split: str = "train") -> list[dict]:
    """The first ``per_label`` posts of each label in ``split`` (by id: stable)."""
    out = []
    for label in ("broadcast", "conversational"):
        rows = sorted((r for r in records if r["label"] == label and r["split"] == split), key=lambda r: r["id"])
        out += rows[:per_label]
    return out


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def corpus_records() -> list[dict]:
    return read_corpus()


@pytest.fixture(scope="session")
def small_train_file(tmp_path_factory, corpus_records) -> Path:
    """300 labelled training posts from the shipped corpus (150 of each label)."""
    rows = [{"text": r["text"], "label": r["label"]} for r in small_sample(corpus_records, 150)]
    return write_jsonl(tmp_path_factory.mktemp("data") / "small_train.jsonl", rows)


@pytest.fixture(scope="session")
def small_test_file(tmp_path_factory, corpus_records) -> Path:
    """80 held-out posts from the corpus test split."""
    rows = [{"text": r["text"], "label": r["label"]} for r in small_sample(corpus_records, 40, split="test")]
    return write_jsonl(tmp_path_factory.mktemp("data") / "small_test.jsonl", rows)


@pytest.fixture(scope="session")
def model_path(tmp_path_factory, small_train_file, small_test_file) -> Path:
    """A model trained once per session on the small sample, saved with its card."""
    from smclass.data import load_posts
    from smclass.model import save, train

    pipeline, card = train(load_posts(small_train_file), test=load_posts(small_test_file))
    path = tmp_path_factory.mktemp("models") / "small.joblib"
    save(pipeline, card, path)
    return path


@pytest.fixture(scope="session")
def predictor(model_path):
    from smclass import Predictor

    return Predictor.load(model_path)


def run_cli(*args, stdin: str | None = None, cwd=None, env=None):
    """Run ``python -m smclass ARGS`` as a user would; return the CompletedProcess (text).

    The package is this checkout's, whatever ``cwd`` is (PYTHONPATH points here)."""
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "smclass", *map(str, args)],
        input=stdin, capture_output=True, text=True, encoding="utf-8", cwd=cwd, env=env, timeout=300,
    )
