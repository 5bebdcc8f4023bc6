"""Model files: the scikit-learn pipeline (joblib), its pickle-free weights (npz), and the card.

A joblib file is a pickle, and unpickling runs code. So ``smclass train``
writes three files that belong together:

- ``smclass.joblib``: the fitted scikit-learn ``Pipeline``, for scikit-learn users;
- ``smclass.npz``: only numbers (idf, coefficients, intercept, feature settings),
  read with ``allow_pickle=False``: loading it cannot run code, needs no
  scikit-learn, and is what :class:`smclass.Predictor` uses;
- ``smclass.json``: the model card, with the sha256 of both files.

Every loader checks the card before reading anything; ``trusted=True`` is the
explicit way to load a pickle without a matching card. This module imports
neither scikit-learn nor joblib until a pickle is actually read or written.
"""

from __future__ import annotations

import datetime as _dt
import json
import platform
import warnings
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from . import __version__
from .data import LABELS, sha256_of
from .errors import ModelError

FORMAT = "smclass-model"
FORMAT_VERSION = 2


class ModelVersionWarning(UserWarning):
    """The model was made by another version of smclass or scikit-learn."""


def versions() -> dict:
    return {
        "smclass": __version__,
        "scikit-learn": metadata.version("scikit-learn"),
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def card_path_for(model_path) -> Path:
    return Path(model_path).with_suffix(".json")


def weights_path_for(model_path) -> Path:
    return Path(model_path).with_suffix(".npz")


@dataclass(frozen=True)
class Weights:
    """Everything prediction needs, as plain arrays: the linear model over hashed TF-IDF."""

    n_features: int
    char_ngrams: tuple | None
    word_ngrams: tuple
    idf: np.ndarray
    coef: np.ndarray
    intercept: float
    labels: tuple = LABELS         # labels[0] is the class a positive score means
    marks: bool = False            # featuriser options (smclass.features.HashedTfidf); off in older files
    link_only: bool = False

    @classmethod
    def from_pipeline(cls, pipeline) -> "Weights":
        features = pipeline.named_steps["features"]
        classifier = pipeline.named_steps["classifier"]
        classes = [str(c) for c in classifier.classes_]
        if sorted(classes) != sorted(LABELS):
            raise ModelError(f"The model's classes are {classes}, not {list(LABELS)}.")
        return cls(
            n_features=int(features.n_features),
            char_ngrams=tuple(features.char_ngrams) if features.char_ngrams else None,
            word_ngrams=tuple(features.word_ngrams),
            idf=np.asarray(features.idf_, dtype=np.float32),
            coef=np.ascontiguousarray(classifier.coef_[0], dtype=np.float64),
            intercept=float(classifier.intercept_[0]),
            labels=(classes[1], classes[0]),
            marks=bool(getattr(features, "marks", False)),
            link_only=bool(getattr(features, "link_only", False)),
        )

    def save(self, path) -> None:
        settings = {
            "n_features": self.n_features,
            "char_ngrams": list(self.char_ngrams) if self.char_ngrams else None,
            "word_ngrams": list(self.word_ngrams),
            "intercept": self.intercept,
            "labels": list(self.labels),
            "marks": self.marks,
            "link_only": self.link_only,
        }
        with open(path, "wb") as handle:
            np.savez_compressed(handle, idf=self.idf, coef=self.coef, settings=np.array(json.dumps(settings)))

    @classmethod
    def load(cls, path) -> "Weights":
        try:
            with np.load(path, allow_pickle=False) as data:
                settings = json.loads(str(data["settings"]))
                idf, coef = data["idf"], data["coef"]
            weights = cls(
                n_features=int(settings["n_features"]),
                char_ngrams=tuple(settings["char_ngrams"]) if settings["char_ngrams"] else None,
                word_ngrams=tuple(settings["word_ngrams"]),
                idf=np.asarray(idf, dtype=np.float32),
                coef=np.ascontiguousarray(coef, dtype=np.float64),
                intercept=float(settings["intercept"]),
                labels=tuple(settings["labels"]),
                marks=bool(settings.get("marks", False)),
                link_only=bool(settings.get("link_only", False)),
            )
        except Exception as exc:
            raise ModelError(f"{path}: not a readable smclass weights file ({type(exc).__name__}).") from None
        if weights.idf.shape != (weights.n_features,) or weights.coef.shape != (weights.n_features,) \
                or sorted(weights.labels) != sorted(LABELS):
            raise ModelError(f"{path}: the weights file is inconsistent (shapes or labels); retrain the model.")
        return weights


def save(pipeline, card: dict, path) -> dict:
    """Write the pipeline, its weights and the card atomically, together; return the card."""
    import joblib

    from .writers import atomic_paths

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": FORMAT, "format_version": FORMAT_VERSION, "versions": versions(), "pipeline": pipeline}
    weights_path = weights_path_for(path)
    full = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model_file": path.name,
        "weights_file": weights_path.name,
        "versions": versions(),
        "created_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        **card,
    }
    with atomic_paths(path, weights_path, card_path_for(path)) as (tmp_model, tmp_weights, tmp_card):
        joblib.dump(payload, tmp_model, compress=3)
        Weights.from_pipeline(pipeline).save(tmp_weights)
        full["sha256"] = sha256_of(tmp_model)
        full["size_bytes"] = Path(tmp_model).stat().st_size
        full["weights_sha256"] = sha256_of(tmp_weights)
        full["weights_size_bytes"] = Path(tmp_weights).stat().st_size
        Path(tmp_card).write_text(json.dumps(full, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return full


def read_card(path: Path, *, trusted: bool, checked: Path | None = None) -> dict:
    """The card of the model ``path`` (.joblib), verified against the file ``checked``.

    ``checked`` is the file about to be read (default: ``path`` itself); its
    sha256 must be the one the card records for it. With ``trusted`` a missing
    or unreadable card is tolerated and nothing is verified ({} is returned).
    """
    checked = checked or path
    if not checked.is_file():
        raise ModelError(f"{checked}: no such model file; train one with `smclass train`.")
    card_file = card_path_for(path)
    card: dict = {}
    if card_file.is_file():
        try:
            card = json.loads(card_file.read_text(encoding="utf-8"))
            if not isinstance(card, dict):
                raise ValueError
        except (ValueError, UnicodeDecodeError):
            if not trusted:
                raise ModelError(f"{card_file}: the model card is not valid JSON; refusing to load {checked.name}.") from None
            card = {}
    elif not trusted:
        raise ModelError(
            f"{checked}: no model card ({card_file.name}) beside it, so its origin cannot be checked; "
            "refusing to load it. Use --trust only for a file you trust as much as a program."
        )
    if not trusted:
        if card.get("format") != FORMAT:
            raise ModelError(f"{card_file} is not an smclass model card; refusing to load {checked.name}.")
        key = "weights_sha256" if checked.suffix == ".npz" else "sha256"
        if card.get(key) != sha256_of(checked):
            raise ModelError(
                f"{checked}: its sha256 does not match the one in {card_file.name}, so the file was changed "
                "after smclass wrote it; refusing to load it."
            )
    return card


def load_pipeline(path, *, trusted: bool = False):
    """The scikit-learn pipeline and its card, refusing any file whose card is missing or does not match.

    Unpickling runs code from the file, so the sha256 recorded in the card is
    checked *before* ``joblib.load``. ``trusted=True`` skips that check: use it
    only for a file you would also be willing to run as a program.
    """
    import joblib
    from sklearn.pipeline import Pipeline

    path = Path(path)
    card = read_card(path, trusted=trusted)
    try:
        payload = joblib.load(path)
    except Exception as exc:
        raise ModelError(f"{path}: not a readable model file ({type(exc).__name__}: {str(exc)[:80]}).") from None
    if not (isinstance(payload, dict) and payload.get("format") == FORMAT and isinstance(payload.get("pipeline"), Pipeline)):
        raise ModelError(f"{path} is not an smclass model.")
    check_versions(payload.get("versions") or card.get("versions") or {}, path)
    return payload["pipeline"], card


def load_weights(path, *, trusted: bool = False) -> tuple[Weights, dict]:
    """The prediction weights and card of the model ``path`` (.joblib or .npz), without unpickling.

    Reads only the pickle-free ``.npz`` beside the model, after checking its
    sha256 against the card. A model without one (saved by hand) falls back to
    :func:`load_pipeline`: the pickle is read only if the card vouches for it,
    or with ``trusted=True``.
    """
    path = Path(path)
    if path.suffix == ".npz":
        path = path.with_suffix(".joblib")
    weights_file = weights_path_for(path)      # always the sibling: model files travel together
    if weights_file.is_file():
        card = read_card(path, trusted=trusted, checked=weights_file)
        check_versions(card.get("versions") or {}, path)
        return Weights.load(weights_file), card
    pipeline, card = load_pipeline(path, trusted=trusted)
    return Weights.from_pipeline(pipeline), card


def check_versions(made_with: dict, path: Path) -> None:
    """Warn when another smclass or scikit-learn made the model; refuse across scikit-learn majors."""
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
