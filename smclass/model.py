"""Build, train, cross-validate and search the smclass pipeline, and fill its model card.

Saving and loading live in :mod:`smclass.modelfile`; ``save`` and ``load`` are
re-exported here.
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut, StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline

from .classifier import NBLogisticRegression
from .data import LABELS, Posts, as_posts, check_trainable
from .features import HashedTfidf
from .metrics import score

# C, n-gram ranges and buckets were chosen by 5-fold CV on the v1 corpus's train split (macro-F1 0.943;
# 2**20 buckets scored the same within noise but train 2-3x slower). Start and end marks were chosen
# on corpus v2 by cross-validation that holds out whole writing slices and whole platforms (train
# split only), with the behaviour suite: BENCHMARKS.md, "Model choice". Naive-Bayes scaling of the
# features (smclass.classifier) was chosen the same way on corpus batch 7, and then dropping the
# character n-grams (words and word pairs only: +0.6/+0.7 on the two grouped CVs). Never on the test split.
DEFAULT_PARAMS = {
    "features__n_features": 2**18,
    "features__char_ngrams": None,
    "features__word_ngrams": (1, 2),
    "features__marks": True,
    "classifier__C": 16.0,
    "classifier__nb": True,
    "classifier__plain_share": 0.5,
}
SEARCH_GRID = {
    "classifier__C": [4.0, 16.0, 64.0],
    "features__char_ngrams": [None, (2, 5)],
    "features__word_ngrams": [(1, 1), (1, 2)],
}


def build_pipeline(*, seed: int = 0, **params) -> Pipeline:
    """The smclass pipeline: hashed word TF-IDF (character n-grams optional) into a balanced logistic
    regression over naive-Bayes-scaled features (one linear model in the end: :mod:`smclass.classifier`)."""
    pipeline = Pipeline(
        [
            ("features", HashedTfidf()),
            ("classifier", NBLogisticRegression(class_weight="balanced", max_iter=3000, random_state=seed)),
        ]
    )
    pipeline.set_params(**{**DEFAULT_PARAMS, **params})
    return pipeline


def p_broadcast(pipeline: Pipeline, texts) -> np.ndarray:
    column = list(pipeline.classes_).index(LABELS[0])
    return pipeline.predict_proba(list(texts))[:, column]


def _folds(k: int, seed: int) -> StratifiedKFold:
    return StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)


def cross_validate(posts: Posts, k: int, *, seed: int = 0, progress: bool = False, **params) -> dict:
    """Scores of out-of-fold predictions from K-fold CV on ``posts`` alone.

    The same folds and fits as ``cross_val_predict``, one fold at a time, so a bar on
    stderr (``progress``, when it is a terminal) can show the folds done and the time left.
    """
    from sklearn.base import clone

    from .progress import StepProgress

    template = build_pipeline(seed=seed, **params)
    texts = np.asarray(posts.texts, dtype=object)
    p = np.empty(len(posts))
    bar = StepProgress(k, "cross-validating", progress)
    try:
        for train_idx, test_idx in _folds(k, seed).split(texts, posts.labels):
            fitted = clone(template).fit(texts[train_idx].tolist(), posts.labels[train_idx])
            p[test_idx] = p_broadcast(fitted, texts[test_idx].tolist())
            bar.step()
    finally:
        bar.close()
    scores = score(posts.labels, p)
    scores["folds"] = k
    return scores


def grouped_cross_validate(posts: Posts, groups, *, seed: int = 0, pipeline: Pipeline | None = None, **params) -> dict:
    """Scores of out-of-fold predictions when each group (a platform, a writing slice) is held out whole.

    Random folds share writers and styles between train and test, so they
    flatter a model that learned a corpus's habits; holding out a whole group
    asks how it does on posts from a source it never saw, which is the user's
    case. Reports the pooled scores and each group's macro-F1. ``pipeline``
    replaces the smclass pipeline (for trials of other features).
    """
    groups = np.asarray(groups)
    proba = cross_val_predict(
        pipeline if pipeline is not None else build_pipeline(seed=seed, **params), posts.texts, posts.labels, groups=groups,
        cv=LeaveOneGroupOut(), method="predict_proba",
    )
    p = proba[:, sorted(LABELS).index(LABELS[0])]
    scores = score(posts.labels, p)
    scores["groups"] = {
        str(g): score(posts.labels[groups == g], p[groups == g])["macro_f1"] for g in np.unique(groups)
    }
    scores["mean_group_macro_f1"] = float(np.mean(list(scores["groups"].values())))
    return scores


def search(posts: Posts, *, k: int = 5, seed: int = 0, grid: dict | None = None) -> tuple[dict, float]:
    """Pick parameters by K-fold CV macro-F1 on the training posts only."""
    finder = GridSearchCV(
        build_pipeline(seed=seed), grid or SEARCH_GRID, scoring="f1_macro", cv=_folds(k, seed), n_jobs=1, refit=False
    )
    finder.fit(posts.texts, posts.labels)
    best = {key: (tuple(v) if isinstance(v, list) else v) for key, v in finder.best_params_.items()}
    return best, float(finder.best_score_)


def train(
    posts,
    labels=None,
    *,
    test=None,
    cv: int = 0,
    do_search: bool = False,
    seed: int = 0,
    threshold: float = 0.5,
    params: dict | None = None,
    log=lambda message: None,
    progress: bool = False,
) -> tuple[Pipeline, dict]:
    """Fit the pipeline on ``posts``; score it on ``test`` if given. Returns (pipeline, model card).

    ``posts`` is :class:`~smclass.data.Posts` (from :func:`smclass.load_posts`) or a list of
    texts with ``labels`` beside it; ``test`` likewise, or a ``(texts, labels)`` pair.
    """
    posts = as_posts(posts, labels)
    if test is not None and not isinstance(test, Posts):
        test = as_posts(*test)
    check_trainable(posts, folds=max(cv, 5 if do_search else 0))
    started = time.perf_counter()
    params = dict(params or {})
    card: dict = {"params": {}, "cv": None, "search": None, "test": None}
    if do_search:
        log(f"searching {np.prod([len(v) for v in SEARCH_GRID.values()])} parameter sets by 5-fold CV on {len(posts)} training posts")
        best, best_score = search(posts, seed=seed)
        params.update(best)
        card["search"] = {"grid": {k: [list(x) if isinstance(x, tuple) else x for x in v] for k, v in SEARCH_GRID.items()},
                          "best_params": _jsonable(best), "best_cv_macro_f1": best_score}
    if cv:
        log(f"cross-validating ({cv} folds) on {len(posts)} training posts")
        card["cv"] = cross_validate(posts, cv, seed=seed, progress=progress, **params)
    log(f"training on {len(posts)} posts")
    pipeline = build_pipeline(seed=seed, **params)
    pipeline.fit(posts.texts, posts.labels)
    card["training_seconds"] = round(time.perf_counter() - started, 3)
    if test is not None and len(test):
        log(f"evaluating on {len(test)} held-out posts")
        card["test"] = score(test.labels, p_broadcast(pipeline, test.texts), threshold)
        card["test"]["files"] = test.files
    labels, counts = np.unique(posts.labels.astype(str), return_counts=True)
    card.update(
        {
            "params": _jsonable({k: v for k, v in pipeline.get_params().items() if "__" in k and not callable(v)}),
            "labels": list(LABELS),
            "decision_threshold": threshold,
            "seed": seed,
            "training_data": {
                "files": posts.files,
                "rows": len(posts),
                "exact_duplicates": posts.duplicates,
                "label_counts": dict(zip(labels.tolist(), counts.tolist())),
            },
        }
    )
    return pipeline, card


def evaluate(pipeline_or_predictor, posts: Posts, *, threshold: float | None = None) -> dict:
    """Scores of a trained pipeline (or a Predictor) on labelled posts."""
    if hasattr(pipeline_or_predictor, "p_broadcast"):
        p = pipeline_or_predictor.p_broadcast(posts.texts)
        threshold = pipeline_or_predictor.threshold if threshold is None else threshold
    else:
        p = p_broadcast(pipeline_or_predictor, posts.texts)
    return score(posts.labels, p, 0.5 if threshold is None else threshold)


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


# Model files live in modelfile.py (no scikit-learn import needed to predict);
# these names stay importable from here for scikit-learn users and old code.
from .modelfile import (  # noqa: E402,F401
    FORMAT, FORMAT_VERSION, ModelVersionWarning, card_path_for, load_pipeline as load, save, versions,
)
