"""``smclass info``, ``smclass.train(texts, labels)`` and the README's scikit-learn snippet."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT, run_cli


def test_info_shows_versions_model_source_and_card(model_path, tmp_path):
    result = run_cli("info", "--model", model_path, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    import numpy
    import sklearn

    assert re.search(rf"scikit-learn +{re.escape(sklearn.__version__)}\n", out)
    assert re.search(rf"numpy +{re.escape(numpy.__version__)}\n", out)
    assert f"model               {model_path}" in out and "found via           --model" in out
    assert "training rows       300 from small_train.jsonl (300 rows)" in out
    assert "C=16.0" in out and "n_features=262144" in out
    assert re.search(r"test metrics +accuracy 0\.\d{3}, macro-F1 0\.\d{3}, MCC .* on 80 posts \(", out)


def test_info_json_and_the_environment_variable(model_path, tmp_path):
    env = {**os.environ, "SMCLASS_MODEL": str(model_path)}
    result = run_cli("info", "--json", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    card = json.loads(model_path.with_suffix(".json").read_text(encoding="utf-8"))
    assert data["model"]["source"] == "$SMCLASS_MODEL" and data["model"]["path"] == str(model_path)
    assert data["model"]["created_at"] == card["created_at"] and data["model"]["training_rows"] == 300
    assert data["model"]["test"]["macro_f1"] == card["test"]["macro_f1"]
    assert data["model"]["params"] == card["params"]
    assert set(data["versions"]) >= {"smclass", "scikit-learn", "numpy", "python"}


def test_info_on_a_missing_model_says_why(tmp_path):
    result = run_cli("info", "--model", tmp_path / "nope.joblib")
    assert result.returncode == 1
    assert "cannot be loaded: " in result.stdout and "no such model file" in result.stderr


def test_train_accepts_plain_texts_and_labels(corpus_records, small_train_file):
    import numpy as np

    import smclass
    from smclass.data import load_posts
    from smclass.errors import DataError

    rows = [json.loads(line) for line in small_train_file.read_text(encoding="utf-8").splitlines()]
    texts, labels = [r["text"] for r in rows], [r["label"] for r in rows]
    from_lists, card = smclass.train(texts, labels, test=(texts[:20], labels[:20]))
    from_posts, _ = smclass.train(load_posts(small_train_file))
    probe = [r["text"] for r in corpus_records[-50:]]
    assert np.array_equal(from_lists.predict_proba(probe), from_posts.predict_proba(probe))
    assert card["training_data"]["rows"] == 300 and card["test"]["n"] == 20
    with pytest.raises(DataError, match="post 2, column 'label': unknown label 'spam'"):
        smclass.train(["a b", "c d"], ["broadcast", "spam"])
    with pytest.raises(DataError, match="3 texts but 2 labels"):
        smclass.train(["a", "b", "c"], ["broadcast", "conversational"])
    with pytest.raises(TypeError, match="pass the labels too"):
        smclass.train(texts)


def test_the_readme_scikit_learn_snippet_runs_as_shown(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- sklearn-snippet -->\n```python\n(.*?)```\n```text\n(.*?)```", readme, re.S)
    assert match, "the README lost its scikit-learn snippet"
    code, shown = match.groups()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert result.returncode == 0, result.stderr
    assert result.stdout == shown
