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
import math
import platform
import re
import warnings
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from . import __version__
from .data import LABELS, sha256_of
from .errors import ModelError

FORMAT = "smclass-model"
FORMAT_VERSION = 2
MAX_FEATURES = 2**24          # hash buckets a model may have (ours has 2^18); checked before allocating
MAX_CHAR_NGRAM = 8            # longest character n-gram a model may use (ours: 5)
MAX_SETTINGS_BYTES = 1 << 20  # the weights file's JSON settings
_VERSION = re.compile(r"^[0-9][0-9A-Za-z.+!_-]{0,39}$")


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
        """Read and check a weights file: settings first, then array headers, then the arrays.

        Nothing large is allocated before ``n_features`` is known to be sane and the
        arrays' headers say they have exactly that many floats.
        """
        path = Path(path)
        try:
            with zipfile.ZipFile(path) as bundle:
                settings = _read_settings(bundle, path)
                n_features = check_settings(settings, path)
                for name in ("idf", "coef"):
                    _check_array_header(bundle, name, n_features, path)
            with np.load(path, allow_pickle=False) as data:
                idf, coef = data["idf"], data["coef"]
            weights = cls(
                n_features=n_features,
                char_ngrams=tuple(settings["char_ngrams"]) if settings["char_ngrams"] else None,
                word_ngrams=tuple(settings["word_ngrams"]),
                idf=np.asarray(idf, dtype=np.float32),
                coef=np.ascontiguousarray(coef, dtype=np.float64),
                intercept=float(settings["intercept"]),
                labels=tuple(settings["labels"]),
                marks=bool(settings.get("marks", False)),
                link_only=bool(settings.get("link_only", False)),
            )
        except ModelError:
            raise
        except Exception as exc:
            raise ModelError(f"{path}: not a readable smclass weights file ({type(exc).__name__}).") from None
        weights.check(path)
        return weights

    def check(self, path) -> None:
        """Refuse values no trained model has: they would give every post a wrong or empty answer."""
        if self.idf.shape != (self.n_features,) or self.coef.shape != (self.n_features,) \
                or sorted(self.labels) != sorted(LABELS):
            raise ModelError(f"{path}: the weights file is inconsistent (shapes or labels); retrain the model.")
        for name, values in (("idf", self.idf), ("coefficients", self.coef)):
            if not np.isfinite(values).all():
                raise ModelError(f"{path}: the model's {name} include NaN or infinite values; refusing to load it.")
        if (self.idf < 0).any():
            raise ModelError(f"{path}: the model's idf include negative values; refusing to load it.")
        if not math.isfinite(self.intercept):
            raise ModelError(f"{path}: the model's intercept is {self.intercept}, not a finite number; "
                             "refusing to load it.")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_settings(settings, path) -> int:
    """Check the feature settings of a weights file before anything is allocated; return n_features."""
    if not isinstance(settings, dict):
        raise ModelError(f"{path}: the weights file's settings are not a JSON object; refusing to load it.")
    missing = [k for k in ("n_features", "char_ngrams", "word_ngrams", "intercept", "labels") if k not in settings]
    if missing:
        raise ModelError(f"{path}: the weights file's settings have no {missing[0]!r}; refusing to load it.")
    n = settings["n_features"]
    if not _is_int(n) or n < 2 or n & (n - 1):
        raise ModelError(f"{path}: n_features is {n!r}, not a power of two; refusing to load it.")
    if n > MAX_FEATURES:
        raise ModelError(f"{path}: n_features is {n:,}, above the maximum of {MAX_FEATURES:,} (2^24); "
                         "refusing to load it.")
    char = settings["char_ngrams"]
    if char is not None and not (isinstance(char, list) and len(char) == 2 and all(map(_is_int, char))
                                 and 1 <= char[0] <= char[1] <= MAX_CHAR_NGRAM):
        raise ModelError(f"{path}: char_ngrams is {char!r}; expected null or [low, high] with "
                         f"1 <= low <= high <= {MAX_CHAR_NGRAM}; refusing to load it.")
    word = settings["word_ngrams"]
    if not (isinstance(word, list) and len(word) == 2 and all(map(_is_int, word)) and 1 <= word[0] <= word[1] <= 2):
        raise ModelError(f"{path}: word_ngrams is {word!r}; expected [1, 1], [1, 2] or [2, 2]; refusing to load it.")
    if not _is_number(settings["intercept"]):
        raise ModelError(f"{path}: the intercept is {settings['intercept']!r}, not a number; refusing to load it.")
    labels = settings["labels"]
    if not (isinstance(labels, list) and all(isinstance(x, str) for x in labels) and sorted(labels) == sorted(LABELS)):
        raise ModelError(f"{path}: the labels are {labels!r}, not {list(LABELS)}; refusing to load it.")
    return n


def _read_settings(bundle: zipfile.ZipFile, path) -> dict:
    """The JSON settings stored as a 0-d unicode array, read only if its header says it is small."""
    with bundle.open("settings.npy") as handle:
        shape, dtype = _array_header(handle)
        if shape != () or dtype.kind != "U" or dtype.itemsize > MAX_SETTINGS_BYTES:
            raise ModelError(f"{path}: the weights file's settings are not a short JSON text; refusing to load it.")
        raw = handle.read(dtype.itemsize + 1)
    return json.loads(str(np.frombuffer(raw[: dtype.itemsize], dtype=dtype)[0]))


def _array_header(handle) -> tuple[tuple, np.dtype]:
    version = np.lib.format.read_magic(handle)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(handle)
    else:
        raise ValueError(f"unsupported .npy version {version}")
    return shape, dtype


def _check_array_header(bundle: zipfile.ZipFile, name: str, n_features: int, path) -> None:
    """An array's shape and type, from its header alone, before it is decompressed."""
    with bundle.open(f"{name}.npy") as handle:
        shape, dtype = _array_header(handle)
    if shape != (n_features,) or dtype.kind != "f" or dtype.itemsize > 8:
        raise ModelError(f"{path}: {name} holds {dtype} values of shape {shape}, not {n_features:,} floats "
                         "(n_features); refusing to load it.")


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
    check_card_values(card, card_file, checked)
    return card


def check_card_values(card: dict, card_file, model) -> None:
    """The card's decision threshold and version strings must be what ``smclass train`` writes."""
    name = Path(model).name
    if "decision_threshold" in card:
        t = card["decision_threshold"]
        if not (_is_number(t) and math.isfinite(t) and 0.0 <= t <= 1.0):
            raise ModelError(f"{card_file}: the decision threshold is {t!r}, not a number between 0 and 1; "
                             f"refusing to load {name}.")
    made_with = card.get("versions", {})
    if not isinstance(made_with, dict):
        raise ModelError(f"{card_file}: 'versions' is {made_with!r}, not a table of version strings; "
                         f"refusing to load {name}.")
    for key in ("smclass", "scikit-learn", "numpy", "python"):
        value = made_with.get(key)
        if value is not None and not (isinstance(value, str) and _VERSION.match(value)):
            raise ModelError(f"{card_file}: the {key} version is {value!r}, not a version string; "
                             f"refusing to load {name}.")


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
    weights = Weights.from_pipeline(pipeline)
    check_settings({"n_features": weights.n_features, "intercept": weights.intercept,
                    "char_ngrams": list(weights.char_ngrams) if weights.char_ngrams else None,
                    "word_ngrams": list(weights.word_ngrams), "labels": list(weights.labels)}, path)
    weights.check(path)
    return weights, card


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
