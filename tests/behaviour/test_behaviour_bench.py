"""The benchmark's behaviour section: which contenders it scores and what it writes."""

from __future__ import annotations

import numpy as np

from smclass import behaviour as bh

from bench import report, run


class ProbaModel:
    """Stands in for a scikit-learn pipeline: classes_ and predict_proba."""

    classes_ = np.array(["broadcast", "conversational"])

    def predict_proba(self, texts):
        p = np.array([0.9 if any(s in t for s in ("http", ".example", "pic.twitter", "instagr.am")) else 0.2 for t in texts])
        return np.column_stack([p, 1 - p])


def test_scorer_uses_p_broadcast_or_the_broadcast_column():
    assert run.behaviour_scorer(object()) is None
    score = run.behaviour_scorer(ProbaModel())
    assert list(score(["hi", "see x.example"])) == [0.2, 0.9]

    class WithP:
        def p_broadcast(self, texts):
            return np.zeros(len(texts))

    model = WithP()
    assert run.behaviour_scorer(model) == model.p_broadcast


def test_section_reports_each_contender_against_the_targets():
    contenders = [
        {"name": "smclass", "short": "smclass", "status": None, "model": ProbaModel()},
        {"name": "fastText", "short": "fasttext", "status": None, "model": object()},   # no probabilities
        {"name": "MiniLM", "short": "embeddings", "status": "not installed", "model": None},
    ]
    run.run_behaviour(contenders, lambda message: None)
    assert "behaviour" in contenders[0] and "behaviour" not in contenders[1]
    text = "\n".join(report._behaviour({"contenders": contenders}))
    assert "## Behaviour tests (CheckList)" in text
    assert "| test | cases | smclass | target |" in text
    # the link-only stub flips every photo-link case, so that row says so
    assert "| INV photo_link | 123 | 0.0% | 95% **not met** |" in text
    assert f"| **MFT (all)** | {len(bh.Cases.load().mft)} |" in text
    assert "Worst failures of smclass" in text


def test_section_is_absent_when_nothing_was_measured():
    assert report._behaviour({"contenders": [{"name": "x", "short": "x", "status": "skipped", "model": None}]}) == []
