"""smclass.classifier: naive-Bayes-scaled logistic regression, folded into one linear model."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from smclass.classifier import NBLogisticRegression

LABELS = np.array(["broadcast", "conversational", "conversational", "broadcast", "conversational", "broadcast"])
# columns: a word only in broadcast posts, one only in conversational posts, one evenly spread, one never seen
X = sparse.csr_matrix(np.array([
    [0.8, 0.0, 0.6, 0.0],
    [0.0, 0.9, 0.4, 0.0],
    [0.0, 1.0, 0.0, 0.0],
    [1.0, 0.0, 0.0, 0.0],
    [0.0, 0.7, 0.7, 0.0],
    [0.6, 0.0, 0.8, 0.0],
]))


def test_ratios_are_smoothed_log_count_ratios_per_class():
    model = NBLogisticRegression(alpha=1.0).fit(X, LABELS)
    # presence counts: conversational (classes_[1]) p = [0, 3, 2, 0] + 1; broadcast q = [3, 0, 2, 0] + 1
    p, q = np.array([1.0, 4, 3, 1]), np.array([4.0, 1, 3, 1])
    assert list(model.classes_) == ["broadcast", "conversational"]
    assert np.allclose(model.ratio_, np.log((p / p.sum()) / (q / q.sum())))
    assert model.ratio_[0] < 0 < model.ratio_[1] and model.ratio_[2] == pytest.approx(0.0)


def test_the_folded_weights_score_raw_features_as_the_regression_scores_scaled_ones():
    model = NBLogisticRegression(C=4.0, random_state=0).fit(X, LABELS)
    inner = LogisticRegression(C=4.0, class_weight="balanced", max_iter=3000, random_state=0)
    inner.fit(X @ sparse.diags(model.ratio_), LABELS)
    new = sparse.csr_matrix(np.array([[0.3, 0.2, 0.9, 0.5], [0.0, 0.0, 1.0, 0.0]]))
    expected = inner.predict_proba(new @ sparse.diags(model.ratio_))
    assert np.allclose(model.predict_proba(new), expected, atol=1e-12)
    assert list(model.predict(new)) == list(inner.predict(new @ sparse.diags(model.ratio_)))
    assert np.allclose(model.decision_function(new), new @ model.coef_[0] + model.intercept_[0])


def test_without_nb_it_is_the_plain_logistic_regression():
    plain = NBLogisticRegression(C=16.0, nb=False, random_state=0).fit(X, LABELS)
    reference = LogisticRegression(C=16.0, class_weight="balanced", max_iter=3000, random_state=0).fit(X, LABELS)
    assert np.array_equal(plain.coef_, reference.coef_) and np.array_equal(plain.intercept_, reference.intercept_)
    assert np.allclose(plain.predict_proba(X), reference.predict_proba(X), atol=1e-12)


def test_an_evenly_spread_feature_gets_almost_no_weight():
    """What the scaling is for: a word as common under both labels cannot come to mean one of them."""
    model = NBLogisticRegression(C=16.0).fit(X, LABELS)
    plain = NBLogisticRegression(C=16.0, nb=False).fit(X, LABELS)
    assert abs(model.coef_[0][2]) < 1e-9 < abs(plain.coef_[0][2])


def test_one_class_is_refused():
    with pytest.raises(ValueError, match="two classes"):
        NBLogisticRegression().fit(X, ["broadcast"] * 6)


def test_the_pipeline_uses_it_and_the_predictor_reads_its_weights(tmp_path):
    from smclass.model import build_pipeline, p_broadcast
    from smclass.modelfile import Weights

    texts = ["Big sale today, shop now", "@ana thanks so much!", "New video out now, link in bio",
             "lol same, see you later", "Tickets on sale Friday", "congrats on the new job!!"] * 3
    labels = ["broadcast", "conversational"] * 9
    pipeline = build_pipeline().fit(texts, labels)
    assert isinstance(pipeline.named_steps["classifier"], NBLogisticRegression)
    assert pipeline.named_steps["classifier"].nb is True
    weights = Weights.from_pipeline(pipeline)
    assert np.array_equal(weights.coef, pipeline.named_steps["classifier"].coef_[0])
    probe = ["shop the sale now", "thanks, see you later"]
    features = pipeline.named_steps["features"]
    score = features.linear_scores(probe, weights.coef) + weights.intercept
    assert np.allclose(1 / (1 + np.exp(score)), p_broadcast(pipeline, probe))


def test_plain_share_mixes_the_scaled_and_the_plain_fit():
    """The default model keeps half of each fit's weights: one linear model, scored as the mix says."""
    scaled = NBLogisticRegression(C=16.0, random_state=0).fit(X, LABELS)
    plain = NBLogisticRegression(C=16.0, nb=False, random_state=0).fit(X, LABELS)
    half = NBLogisticRegression(C=16.0, random_state=0, plain_share=0.5).fit(X, LABELS)
    assert np.allclose(half.coef_, 0.5 * scaled.coef_ + 0.5 * plain.coef_)
    assert np.allclose(half.intercept_, 0.5 * scaled.intercept_ + 0.5 * plain.intercept_)
    assert np.allclose(half.decision_function(X), 0.5 * scaled.decision_function(X) + 0.5 * plain.decision_function(X))
    all_plain = NBLogisticRegression(C=16.0, random_state=0, plain_share=1.0).fit(X, LABELS)
    assert np.allclose(all_plain.coef_, plain.coef_)
    # the evenly spread word keeps half of the plain fit's weight, no more
    assert abs(half.coef_[0][2]) == pytest.approx(0.5 * abs(plain.coef_[0][2]))


def test_plain_share_outside_zero_to_one_is_refused():
    with pytest.raises(ValueError, match="plain_share"):
        NBLogisticRegression(plain_share=1.5).fit(X, LABELS)


def test_a_model_pickled_before_plain_share_reads_as_scaled_only():
    import pickle

    old = NBLogisticRegression(C=16.0, random_state=0).fit(X, LABELS)
    del old.__dict__["plain_share"]                    # what a pickle of the older class holds
    restored = pickle.loads(pickle.dumps(old))
    assert restored.get_params()["plain_share"] == 0.0
    assert np.allclose(restored.predict_proba(X), old.predict_proba(X))


def test_the_default_pipeline_mixes_half_and_half():
    from smclass.model import build_pipeline

    assert build_pipeline().named_steps["classifier"].plain_share == 0.5
