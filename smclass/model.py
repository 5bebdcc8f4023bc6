"""Build, train, cross-validate, save and load the smclass pipeline, with its model card.

The model file is a joblib pickle and therefore code: every file we write gets
a model card beside it (``.json``) that records its sha256, the versions that
made it, the data it saw and how well it did on held-out posts.
"""

from __future__ import annotations

import datetime as _dt
import json
import platform
import time
import warnings
from pathlib import Path

import joblib
import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline

from . import __version__
from .data import LABELS, Posts, check_trainable, sha256_of
from .errors import ModelError
from .features import HashedTfidf
from .metrics import score

FORMAT = "smclass-model"
FORMAT_VERSION = 1
# Chosen by 5-fold cross-validation on the corpus's train split (macro-F1 0.943;
# 2**20 buckets scored the same within noise but train 2-3x slower). Never on the test split.
DEFAULT_PARAMS = {
    "features__n_features": 2**18,
    "features__char_ngrams": (2, 5),
    "features__word_ngrams": (1, 2),
    "classifier__C": 16.0,
}
SEARCH_GRID = {
    "classifier__C": [4.0, 16.0, 64.0],
    "features__char_ngrams": [(2, 5), (3, 6)],
    "features__word_ngrams": [(1, 1), (1, 2)],
}


class ModelVersionWarning(UserWarning):
    """The model was made by another version of smclass or scikit-learn."""


def build_pipeline(*, seed: int = 0, **params) -> Pipeline:
    """The smclass pipeline: hashed word + character TF-IDF into a balanced logistic regression."""
    pipeline = Pipeline(
        [
            ("features", HashedTfidf()),
            ("classifier", LogisticRegression(class_weight="balanced", max_iter=3000, random_state=seed)),
        ]
    )
    pipeline.set_params(**{**DEFAULT_PARAMS, **params})
    return pipeline


def p_broadcast(pipeline: Pipeline, texts) -> np.ndarray:
    column = list(pipeline.classes_).index(LABELS[0])
    return pipeline.predict_proba(list(texts))[:, column]


def _folds(k: int, seed: int) -> StratifiedKFold:
    return StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)


def cross_validate(posts: Posts, k: int, *, seed: int = 0, **params) -> dict:
    """Scores of out-of-fold predictions from K-fold CV on ``posts`` alone."""
    proba = cross_val_predict(
        build_pipeline(seed=seed, **params), posts.texts, posts.labels, cv=_folds(k, seed), method="predict_proba"
    )
    classes = sorted(LABELS)
    scores = score(posts.labels, proba[:, classes.index(LABELS[0])])
    scores["folds"] = k
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
    posts: Posts,
    *,
    test: Posts | None = None,
    cv: int = 0,
    do_search: bool = False,
    seed: int = 0,
    threshold: float = 0.5,
    params: dict | None = None,
    log=lambda message: None,
) -> tuple[Pipeline, dict]:
    """Fit the pipeline on ``posts``; score it on ``test`` if given. Returns (pipeline, model card)."""
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
        card["cv"] = cross_validate(posts, cv, seed=seed, **params)
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


def versions() -> dict:
    return {
        "smclass": __version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def card_path_for(model_path) -> Path:
    return Path(model_path).with_suffix(".json")


def save(pipeline: Pipeline, card: dict, path) -> dict:
    """Write the model and its card atomically; return the completed card."""
    from .writers import atomic_paths

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": FORMAT, "format_version": FORMAT_VERSION, "versions": versions(), "pipeline": pipeline}
    full = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model_file": path.name,
        "versions": versions(),
        "created_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        **card,
    }
    with atomic_paths(path, card_path_for(path)) as (tmp_model, tmp_card):
        joblib.dump(payload, tmp_model, compress=3)
        full["sha256"] = sha256_of(tmp_model)
        full["size_bytes"] = Path(tmp_model).stat().st_size
        Path(tmp_card).write_text(json.dumps(full, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return full


def load(path, *, trusted: bool = False) -> tuple[Pipeline, dict]:
    """Load a model, refusing any file whose card is missing or does not match it.

    Unpickling runs code from the file, so the sha256 recorded in the card is
    checked *before* ``joblib.load``. ``trusted=True`` skips that check: use it
    only for a file you would also be willing to run as a program.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: no such model file; train one with `smclass train`.")
    card_file = card_path_for(path)
    card: dict = {}
    if card_file.is_file():
        try:
            card = json.loads(card_file.read_text(encoding="utf-8"))
            if not isinstance(card, dict):
                raise ValueError
        except (ValueError, UnicodeDecodeError):
            if not trusted:
                raise ModelError(f"{card_file}: the model card is not valid JSON; refusing to load {path.name}.") from None
            card = {}
    elif not trusted:
        raise ModelError(
            f"{path}: no model card ({card_file.name}) beside it, so its origin cannot be checked; "
            "refusing to load it. Use --trust only for a file you trust as much as a program."
        )
    if not trusted:
        if card.get("format") != FORMAT:
            raise ModelError(f"{card_file} is not an smclass model card; refusing to load {path.name}.")
        if card.get("sha256") != sha256_of(path):
            raise ModelError(
                f"{path}: its sha256 does not match the one in {card_file.name}, so the file was changed "
                "after smclass wrote it; refusing to load it."
            )
    try:
        payload = joblib.load(path)
    except Exception as exc:
        raise ModelError(f"{path}: not a readable model file ({type(exc).__name__}: {str(exc)[:80]}).") from None
    if not (isinstance(payload, dict) and payload.get("format") == FORMAT and isinstance(payload.get("pipeline"), Pipeline)):
        raise ModelError(f"{path} is not an smclass model.")
    _check_versions(payload.get("versions") or card.get("versions") or {}, path)
    return payload["pipeline"], card


def _check_versions(made_with: dict, path: Path) -> None:
    now = versions()
    theirs = made_with.get("scikit-learn")
    if theirs and theirs.split(".")[0] != now["scikit-learn"].split(".")[0]:
        raise ModelError(
            f"{path} was made with scikit-learn {theirs}, this is scikit-learn {now['scikit-learn']}; "
            "models do not carry across major versions. Retrain it with `smclass train`."
        )
    for name in ("smclass", "scikit-learn"):
        if made_with.get(name) and made_with[name] != now[name]:
            warnings.warn(
                f"{path.name} was made with {name} {made_with[name]}, but this is {name} {now[name]}; "
                "predictions may differ slightly. Retrain to be sure.",
                ModelVersionWarning,
                stacklevel=3,
            )
