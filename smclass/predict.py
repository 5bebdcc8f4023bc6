"""The importable predictor: load a saved model once, classify posts fast.

Usage::

    p = Predictor.load()
    p.predict(["Flash sale! 40% off today only 👉 link in bio", "@ana congrats on the new job!!"])
    # ['broadcast', 'conversational']
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .data import LABELS
from .hashing import Featuriser, NotTextError
from .modelfile import Weights, load_weights
from .text import INVISIBLE, MAX_POST_CHARS

_BLANK = "".join(chr(c) for c in range(0x3001) if chr(c).isspace()) + INVISIBLE
TRUNCATED_NOTE = f"text truncated to {MAX_POST_CHARS:,} characters for scoring"

DEFAULT_MODEL = Path("models") / "smclass.joblib"
# the default model shipped in the package: pickle-free weights and card (rebuild: python -m smclass.shipped)
PACKAGED_MODEL = Path(__file__).resolve().parent / "model_data" / "smclass.npz"


@dataclass(frozen=True)
class Prediction:
    """One post's result. ``label`` is None when the post has no usable text (see ``note``)."""

    label: str | None
    p_broadcast: float
    note: str | None = None

    @property
    def p_conversational(self) -> float:
        return 1.0 - self.p_broadcast


def default_model_path() -> Path:
    """$SMCLASS_MODEL, else models/smclass.joblib here, else the one beside the package, else the shipped one."""
    if os.environ.get("SMCLASS_MODEL"):
        return Path(os.environ["SMCLASS_MODEL"])
    if DEFAULT_MODEL.is_file():
        return DEFAULT_MODEL
    beside = Path(__file__).resolve().parent.parent / DEFAULT_MODEL
    if beside.is_file():
        return beside
    return PACKAGED_MODEL if PACKAGED_MODEL.is_file() else DEFAULT_MODEL


def unusable_reason(text) -> str | None:
    """Why a value cannot be classified, or None if it can."""
    if text is None:
        return "no text"
    if isinstance(text, float) and math.isnan(text):
        return "no text (NaN)"
    if not isinstance(text, str):
        return f"text is not a string ({type(text).__name__})"
    if not text.strip(_BLANK):
        return "text is empty"
    return None


class Predictor:
    """Classify posts as broadcast or conversational.

    Posts that are None, NaN, not strings, empty or whitespace get no label
    (``None``) and ``p_broadcast`` NaN, never an exception.
    """

    labels = LABELS

    def __init__(self, weights, card: dict | None = None, *, threshold: float | None = None):
        """From :class:`~smclass.modelfile.Weights` or a fitted smclass ``Pipeline`` (kept as ``.pipeline``)."""
        self.pipeline = None if isinstance(weights, Weights) else weights
        if self.pipeline is not None:
            weights = Weights.from_pipeline(self.pipeline)      # a fitted smclass Pipeline
        self.weights = weights
        self.card = card or {}
        if threshold is None:
            threshold = float(self.card.get("decision_threshold", 0.5))
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be between 0 and 1, not {threshold}.")
        self.threshold = threshold
        self._featuriser = Featuriser(weights.n_features, weights.char_ngrams, weights.word_ngrams,
                                      marks=weights.marks, link_only=weights.link_only)
        # a positive score means weights.labels[0]; store the sign that means broadcast
        self._sign = 1.0 if weights.labels[0] == LABELS[0] else -1.0
        self._idf, self._coef, self._intercept = weights.idf, weights.coef, weights.intercept

    @classmethod
    def load(cls, path=None, *, threshold: float | None = None, trusted: bool = False) -> "Predictor":
        """Load a model written by ``smclass train``, checked against its model card.

        Reads the pickle-free weights file (``.npz``) the card lists, so no code
        from the model files runs; a model without one falls back to the
        verified joblib pickle.
        """
        weights, card = load_weights(path or default_model_path(), trusted=trusted)
        return cls(weights, card, threshold=threshold)

    # -- scoring ---------------------------------------------------------------
    def _p_broadcast(self, texts: list) -> tuple[np.ndarray, list[str | None] | None]:
        try:
            scores = self._featuriser.linear_scores(texts, self._idf, self._coef)
            notes = None
        except NotTextError:
            notes = [unusable_reason(t) for t in texts]
            clean = [t if n is None else "" for t, n in zip(texts, notes)]
            scores = self._featuriser.linear_scores(clean, self._idf, self._coef)
        z = self._sign * (scores + self._intercept)
        p = 1.0 / (1.0 + np.exp(-z))
        p[np.isnan(scores)] = np.nan
        return p, notes

    @staticmethod
    def _as_list(texts, method: str) -> list:
        if isinstance(texts, (str, bytes)):
            raise TypeError(f"{method}() takes a list of posts, not a single string; for one post use predict_one(text).")
        if type(texts).__name__ == "DataFrame" and type(texts).__module__.startswith("pandas"):
            raise TypeError(f"{method}() takes a list or a pandas Series of posts, not a DataFrame; "
                            "pass the text column, e.g. df[\"text\"].")
        return texts if isinstance(texts, list) else list(texts)

    @staticmethod
    def _series_index(texts):
        """The index of a pandas Series (so results can carry it), else None; pandas is never imported here."""
        if type(texts).__name__ == "Series" and type(texts).__module__.startswith("pandas"):
            return texts.index
        return None

    @staticmethod
    def _as_series(values, index, name: str):
        import pandas as pd          # the caller passed a Series, so pandas is already imported

        return pd.Series(values, index=index, name=name, dtype=values.dtype)

    def p_broadcast(self, texts):
        """Probability of ``broadcast`` for each post (NaN where there is no usable text).

        A numpy array; for a pandas Series, a Series with the same index.
        """
        index = self._series_index(texts)
        p = self._p_broadcast(self._as_list(texts, "p_broadcast"))[0]
        return p if index is None else self._as_series(p, index, "p_broadcast")

    def predict_proba(self, texts) -> np.ndarray:
        """Array (n, 2) of probabilities, columns in ``self.labels`` order."""
        p = self._p_broadcast(self._as_list(texts, "predict_proba"))[0]
        return np.column_stack([p, 1.0 - p])

    def predict(self, texts):
        """Labels, or None for posts with no usable text. A list; for a pandas Series, a Series with its index."""
        index = self._series_index(texts)
        p = self._p_broadcast(self._as_list(texts, "predict"))[0]
        labels = np.where(p >= self.threshold, LABELS[0], LABELS[1]).astype(object)
        labels[np.isnan(p)] = None
        return labels.tolist() if index is None else self._as_series(labels, index, "label")

    def predict_many(self, texts) -> tuple[list[str | None], np.ndarray, list[str | None]]:
        """(labels, p_broadcast, notes) for a batch: what batch prediction writes out.

        A note says why a post has no label, or that only its first
        ``MAX_POST_CHARS`` characters were scored.
        """
        texts = self._as_list(texts, "predict_many")
        p, notes = self._p_broadcast(texts)
        labels = np.where(p >= self.threshold, LABELS[0], LABELS[1]).astype(object)
        empty = np.isnan(p)
        labels[empty] = None
        if notes is None:
            notes = [None] * len(texts)
        notes = [note or ("text is empty" if e else None) for note, e in zip(notes, empty.tolist())]
        for i in self._featuriser.prepare(texts)[1]:
            if notes[i] is None:
                notes[i] = TRUNCATED_NOTE
        return labels.tolist(), p, notes

    def predict_one(self, text) -> Prediction:
        """The label and probability of one post."""
        if type(text) is str and len(text) <= MAX_POST_CHARS:           # the pure-Python path
            featuriser = self._featuriser
            score = featuriser.score_one(text, featuriser.scorer(self._idf, self._coef))
            if score is not None:
                if score != score:
                    return Prediction(None, math.nan, "text is empty")
                z = self._sign * (score + self._intercept)
                p = 1.0 / (1.0 + math.exp(-z)) if z > -700.0 else 0.0
                return Prediction(LABELS[0] if p >= self.threshold else LABELS[1], p, None)
        labels, p, notes = self.predict_many([text])
        return Prediction(labels[0], float(p[0]), notes[0])

    def explain(self, text: str, k: int = 5) -> dict[str, list[tuple[str, float]]]:
        """The ``k`` terms that pushed ``text`` most toward each label, with their weights.

        A term is a normalised word (its weight includes its character n-grams)
        or a pair of adjacent words; weights are contributions to the log-odds.
        """
        if not isinstance(text, str):
            raise TypeError("explain() takes one post as a string.")
        terms = self._featuriser.term_contributions(text, self._idf, self._coef)
        signed = [(term, float(self._sign * weight)) for term, weight in terms]
        toward_b = sorted((t for t in signed if t[1] > 0), key=lambda t: -t[1])[:k]
        toward_c = sorted((t for t in signed if t[1] < 0), key=lambda t: t[1])[:k]
        return {LABELS[0]: toward_b, LABELS[1]: [(term, -w) for term, w in toward_c]}

    def __repr__(self) -> str:
        made = self.card.get("created_at", "unknown date")
        return f"<Predictor threshold={self.threshold} made {made}>"
