"""Training, cross-validation, search, the model card and the save/load round trip."""

import json

import numpy as np
import pytest

from smclass.data import load_posts
from smclass.errors import DataError
from smclass.model import build_pipeline, cross_validate, load, save, search, train


@pytest.fixture(scope="module")
def posts(small_train_file):
    return load_posts(small_train_file)


@pytest.fixture(scope="module")
def held_out(small_test_file):
    return load_posts(small_test_file)


def test_round_trip_gives_identical_predictions(tmp_path, posts, held_out):
    pipeline, card = train(posts, test=held_out)
    path = tmp_path / "m.joblib"
    save(pipeline, card, path)
    loaded, loaded_card = load(path)
    assert np.array_equal(loaded.predict_proba(held_out.texts), pipeline.predict_proba(held_out.texts))
    assert loaded_card["test"]["macro_f1"] == card["test"]["macro_f1"]


def test_same_seed_same_model(posts):
    a, _ = train(posts, seed=3)
    b, _ = train(posts, seed=3)
    assert np.array_equal(a.named_steps["classifier"].coef_, b.named_steps["classifier"].coef_)
    assert np.array_equal(a.named_steps["features"].idf_, b.named_steps["features"].idf_)


def test_model_card_records_what_a_user_needs(model_path):
    card = json.loads(model_path.with_suffix(".json").read_text())
    assert set(card["versions"]) == {"smclass", "scikit-learn", "numpy", "python"}
    assert card["training_data"]["files"][0]["rows"] == 300
    assert len(card["training_data"]["files"][0]["sha256"]) == 64
    assert card["labels"] == ["broadcast", "conversational"]
    assert card["decision_threshold"] == 0.5
    assert card["training_seconds"] > 0
    assert card["created_at"].endswith("+00:00")
    for key in ("accuracy", "macro_f1", "mcc", "roc_auc", "brier", "per_class", "confusion_matrix"):
        assert key in card["test"]
    assert card["params"]["classifier__C"] > 0
    assert card["sha256"] and card["size_bytes"] > 0


def test_probabilities_are_well_behaved(posts, held_out):
    pipeline, card = train(posts, test=held_out)
    assert card["test"]["brier"] < 0.25          # better than always answering 0.5
    assert card["test"]["macro_f1"] > 0.7


def test_cross_validation_reports_out_of_fold_scores(posts):
    scores = cross_validate(posts, 3)
    assert scores["folds"] == 3 and scores["n"] == len(posts)
    assert 0.5 < scores["macro_f1"] <= 1.0


def test_search_picks_from_the_grid_by_cv(posts):
    grid = {"classifier__C": [0.5, 8.0], "features__word_ngrams": [(1, 1)]}
    best, best_score = search(posts, k=3, grid=grid)
    assert best["classifier__C"] in (0.5, 8.0) and 0 < best_score <= 1


def test_train_refuses_a_single_class(tmp_path):
    path = tmp_path / "one.jsonl"
    path.write_text("".join(json.dumps({"text": f"sale {i} today", "label": "broadcast"}) + "\n" for i in range(20)))
    with pytest.raises(DataError, match="Only one class"):
        train(load_posts(path))


def test_pipeline_is_one_sklearn_pipeline():
    pipeline = build_pipeline()
    assert [name for name, _ in pipeline.steps] == ["features", "classifier"]
    assert pipeline.named_steps["classifier"].class_weight == "balanced"
