"""The importable Predictor: the README's examples, edge cases and thresholds."""

import math
import warnings

import numpy as np
import pytest

from smclass import Prediction, Predictor

EXAMPLES = ["Flash sale! 40% off today only 👉 link in bio", "@ana congrats on the new job!!"]


def test_readme_example(predictor):
    assert predictor.predict(EXAMPLES) == ["broadcast", "conversational"]


def test_predict_proba_columns_follow_labels(predictor):
    proba = predictor.predict_proba(EXAMPLES)
    assert predictor.labels == ("broadcast", "conversational")
    assert proba.shape == (2, 2)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert proba[0, 0] > 0.5 > proba[1, 0]


def test_predict_one_returns_a_frozen_prediction(predictor):
    result = predictor.predict_one(EXAMPLES[1])
    assert isinstance(result, Prediction)
    assert result.label == "conversational" and 0 <= result.p_broadcast < 0.5
    assert math.isclose(result.p_conversational, 1 - result.p_broadcast)
    with pytest.raises(AttributeError):
        result.label = "broadcast"


def test_one_string_instead_of_a_list_points_to_predict_one(predictor):
    with pytest.raises(TypeError, match=r"takes a list of posts, not a single string; for one post use predict_one"):
        predictor.predict("hello there")


@pytest.mark.parametrize("value, note", [
    (None, "no text"),
    (float("nan"), "no text (NaN)"),
    ("", "text is empty"),
    ("   \n ", "text is empty"),
    (42, "text is not a string (int)"),
])
def test_unusable_posts_get_no_label_and_a_note(predictor, value, note):
    labels, p, notes = predictor.predict_many(["Big sale today", value, "@jo thanks!"])
    assert labels[1] is None and np.isnan(p[1]) and notes[1] == note
    assert labels[0] is not None and labels[2] is not None
    assert predictor.predict_one(value) == Prediction(None, p[1], note) or np.isnan(predictor.predict_one(value).p_broadcast)
    assert predictor.predict([value]) == [None]


def test_fast_path_matches_the_sklearn_pipeline(predictor, model_path, corpus_records):
    from smclass.model import load

    pipeline, _ = load(model_path)
    texts = [r["text"] for r in corpus_records[:300]]
    expected = pipeline.predict_proba(texts)[:, list(pipeline.classes_).index("broadcast")]
    assert np.allclose(predictor.p_broadcast(texts), expected)
    assert np.allclose(Predictor(pipeline).p_broadcast(texts), expected)


def test_predicting_needs_no_pickle_and_no_scikit_learn(model_path):
    """Predictor.load reads the .npz weights only: a fresh process never imports sklearn or joblib."""
    import subprocess
    import sys

    code = (
        "import sys; from smclass import Predictor; "
        f"p = Predictor.load({str(model_path)!r}); p.predict(['hello there']); "
        "print(sorted(m for m in ('sklearn', 'joblib', 'pickle_loaded') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_threshold_moves_the_decision(model_path):
    text = ["New blog post: five ways to plan your week, thoughts welcome"]
    p = Predictor.load(model_path).p_broadcast(text)[0]
    assert Predictor.load(model_path, threshold=max(p - 0.01, 0)).predict(text) == ["broadcast"]
    assert Predictor.load(model_path, threshold=min(p + 0.01, 1)).predict(text) == ["conversational"]
    with pytest.raises(ValueError, match="threshold must be between 0 and 1"):
        Predictor.load(model_path, threshold=1.5)


def test_default_threshold_comes_from_the_card(predictor):
    assert predictor.threshold == predictor.card["decision_threshold"] == 0.5


def test_explain_names_terms_on_each_side(predictor):
    why = predictor.explain("Huge SALE today, 50% off, shop now! Thanks so much Ana", k=3)
    assert set(why) == {"broadcast", "conversational"}
    assert 0 < len(why["broadcast"]) <= 3
    assert all(weight > 0 for _, weight in why["broadcast"] + why["conversational"])
    assert all(isinstance(term, str) for term, _ in why["broadcast"])


def test_load_without_argument_uses_the_environment_default(monkeypatch, model_path):
    monkeypatch.setenv("SMCLASS_MODEL", str(model_path))
    assert Predictor.load().predict(EXAMPLES[:1]) == ["broadcast"]


def test_accepts_any_iterable(predictor):
    assert predictor.predict(iter(EXAMPLES)) == predictor.predict(EXAMPLES)
    assert predictor.predict([]) == []


def test_large_batches_are_consistent_with_small_ones(predictor, corpus_records):
    texts = [r["text"] for r in corpus_records[:2000]]
    whole = predictor.p_broadcast(texts)
    pieces = np.concatenate([predictor.p_broadcast(texts[i : i + 7]) for i in range(0, 2000, 7)])
    assert np.allclose(whole, pieces)


def test_no_warnings_for_a_model_made_here(model_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Predictor.load(model_path)
