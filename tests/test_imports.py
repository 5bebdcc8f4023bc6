"""Commands that only predict or score never import ``datasets`` (seconds to import); training does."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT

SAMPLE = ROOT / "data" / "sample_posts.csv"

# Runs one command in a fresh interpreter, then says which heavy modules it imported.
PROBE = """
import json, sys
from smclass.cli import main
code = main(sys.argv[1:]) if len(sys.argv) > 1 else (__import__("smclass"), 0)[1]
print(json.dumps({"code": code, "datasets": "datasets" in sys.modules, "sklearn": "sklearn" in sys.modules}))
"""


def probe(*args, cwd) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", PROBE, *map(str, args)], capture_output=True, text=True,
                            cwd=cwd, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def labelled(tmp_path, small_test_file):
    """The small test split as JSONL, CSV and TSV."""
    import csv

    rows = [json.loads(line) for line in small_test_file.read_text(encoding="utf-8").splitlines()]
    files = {"jsonl": small_test_file}
    for suffix, delimiter in (("csv", ","), ("tsv", "\t")):
        path = tmp_path / f"labelled.{suffix}"
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=["text", "label"], delimiter=delimiter)
            writer.writeheader()
            writer.writerows(rows)
        files[suffix] = path
    return files


def test_import_smclass_does_not_import_datasets(tmp_path):
    assert probe(cwd=tmp_path) == {"code": 0, "datasets": False, "sklearn": False}


def test_predict_report_and_evaluate_do_not_import_datasets(tmp_path, model_path, labelled):
    runs = {
        "predict": ["predict", SAMPLE, "-o", tmp_path / "p.csv", "-m", model_path, "-q"],
        "report": ["report", SAMPLE, "-o", tmp_path / "r.html", "-m", model_path, "-q"],
        "info": ["info", "-m", model_path],
        **{f"evaluate {suffix}": ["evaluate", path, "-m", model_path, "--json"] for suffix, path in labelled.items()},
        "evaluate split": ["evaluate", ROOT / "data" / "posts.jsonl", "--split", "test", "-m", model_path, "--json"],
    }
    for name, args in runs.items():
        seen = probe(*args, cwd=tmp_path)
        assert seen["code"] == 0 and not seen["datasets"], name
        if name.startswith("evaluate"):
            assert not seen["sklearn"], name


def test_evaluate_reads_every_format_like_training_does(tmp_path, model_path, labelled):
    """Scores are the same whichever file holds the posts, and equal to scikit-learn's figures."""
    from sklearn import metrics as skm

    from smclass import Predictor
    from smclass.data import load_posts
    from smclass.metrics import score

    outputs = []
    for path in labelled.values():
        result = subprocess.run([sys.executable, "-m", "smclass", "evaluate", str(path), "-m", str(model_path), "--json"],
                                capture_output=True, text=True, cwd=ROOT, timeout=300)
        assert result.returncode == 0, result.stderr
        outputs.append({k: v for k, v in json.loads(result.stdout).items() if k != "model"})
    assert outputs[0]["n"] == 80 and outputs[0] == outputs[1] == outputs[2]
    posts = load_posts(labelled["csv"])  # through datasets, as training reads
    p = Predictor.load(model_path).p_broadcast(posts.texts)
    ours = score(posts.labels, p)
    assert {k: ours[k] for k in outputs[0] if k != "errors"} == {k: v for k, v in outputs[0].items() if k != "errors"}
    truth = (posts.labels == "broadcast").astype(int)
    predicted = (p >= 0.5).astype(int)
    assert ours["roc_auc"] == pytest.approx(skm.roc_auc_score(truth, p))
    assert ours["mcc"] == pytest.approx(skm.matthews_corrcoef(truth, predicted))
    assert ours["macro_f1"] == pytest.approx(skm.f1_score(truth, predicted, average="macro"))
    assert ours["brier"] == pytest.approx(skm.brier_score_loss(truth, p))


def test_metrics_match_scikit_learn_with_ties_and_one_sided_predictions():
    import numpy as np
    from sklearn import metrics as skm

    from smclass.metrics import score

    rng = np.random.default_rng(0)
    labels = np.array(["broadcast", "conversational"], dtype=object)[rng.integers(0, 2, 200)]
    for p in (rng.random(200).round(1), np.full(200, 0.9), rng.random(200)):
        ours = score(labels, p)
        truth = (labels == "broadcast").astype(int)
        predicted = (p >= 0.5).astype(int)
        assert ours["roc_auc"] == pytest.approx(skm.roc_auc_score(truth, p))
        assert ours["mcc"] == pytest.approx(skm.matthews_corrcoef(truth, predicted))
        assert ours["accuracy"] == pytest.approx(skm.accuracy_score(truth, predicted))
        assert ours["macro_f1"] == pytest.approx(skm.f1_score(truth, predicted, average="macro", zero_division=0))
        precision, recall, _, support = skm.precision_recall_fscore_support(truth, predicted, labels=[1, 0], zero_division=0)
        assert [ours["per_class"][k]["precision"] for k in ("broadcast", "conversational")] == pytest.approx(precision)
        assert [ours["per_class"][k]["recall"] for k in ("broadcast", "conversational")] == pytest.approx(recall)
        assert ours["confusion_matrix"]["rows_true_cols_predicted"] == skm.confusion_matrix(truth, predicted, labels=[1, 0]).tolist()


def test_training_still_reads_through_datasets(tmp_path, small_train_file):
    seen = probe("train", "--data", small_train_file, "--cv", "0", "-o", tmp_path / "m.joblib", "-q", cwd=tmp_path)
    assert seen["code"] == 0 and seen["datasets"]


def test_the_library_never_imports_the_command_line(tmp_path):
    """Imports run one way: cli.py builds every parser and imports the library, never the reverse."""
    # behaviour.py keeps its own `python -m smclass.behaviour` for developers; no command path imports it
    library = [p for p in (ROOT / "smclass").glob("*.py")
               if p.name not in ("cli.py", "__main__.py", "shipped.py", "behaviour.py")]
    assert {"batch.py", "report.py", "predict.py"} <= {p.name for p in library}
    for path in library:
        source = path.read_text(encoding="utf-8")
        for needle in ("from .cli", "smclass.cli", "import argparse", "add_argument(", "add_parser("):
            assert needle not in source, f"{path.name} holds {needle!r}: the command line belongs in cli.py"
    code = ("import sys, smclass.batch, smclass.report, smclass.predict, smclass.info; "
            "print('smclass.cli' in sys.modules, 'argparse' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert result.returncode == 0 and result.stdout.split() == ["False", "False"], result.stderr
