"""The scikit-learn face of the hashed features: ``HashedTfidf``, a transformer.

The work is done in :mod:`smclass.hashing` (numpy only); this class adds what a
``Pipeline`` needs: parameters stored as given, ``fit`` learning ``idf_``, and
``transform`` returning the sparse matrix the classifier trains on.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin

from .hashing import Featuriser, NotTextError  # noqa: F401  (re-exported)


class HashedTfidf(TransformerMixin, BaseEstimator):
    """TF-IDF over hashed word and character n-grams of normalised posts.

    ``marks`` adds the pairs (start of post, first word) and (last word, end of
    post); ``link_only`` adds one feature to posts that are nothing but links.
    Both are off by default.
    """

    def __init__(self, *, n_features: int = 2**18, char_ngrams=(2, 5), word_ngrams=(1, 2),
                 marks: bool = False, link_only: bool = False):
        self.n_features = n_features
        self.char_ngrams = char_ngrams
        self.word_ngrams = word_ngrams
        self.marks = marks
        self.link_only = link_only

    def featuriser(self) -> Featuriser:
        """The (cached, never pickled) featuriser for the current parameters."""
        marks, link_only = bool(getattr(self, "marks", False)), bool(getattr(self, "link_only", False))
        key = (self.n_features, tuple(self.char_ngrams) if self.char_ngrams else None, tuple(self.word_ngrams),
               marks, link_only)
        cached = getattr(self, "_featuriser", None)
        if cached is None or cached[0] != key:
            cached = self._featuriser = (key, Featuriser(self.n_features, self.char_ngrams, self.word_ngrams,
                                                         marks=marks, link_only=link_only))
        return cached[1]

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_featuriser", None)
        return state

    def __setstate__(self, state):
        state.setdefault("marks", False)          # pipelines pickled before these options existed
        state.setdefault("link_only", False)
        self.__dict__.update(state)

    def occurrences(self, texts):
        """(post index, bucket) of every feature occurrence in ``texts``."""
        doc, bucket, _ = self.featuriser().occurrences(texts)
        return doc, bucket

    def fit(self, texts, y=None):
        texts = list(texts)
        doc, bucket, n = self.featuriser().occurrences(texts)
        present = sparse.csr_matrix((np.ones(len(doc), dtype=np.float32), (doc, bucket)), shape=(n, self.n_features))
        df = np.bincount(present.indices, minlength=self.n_features)
        idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
        idf[df == 0] = 0.0          # never seen in training: ignored, as a vocabulary would
        self.idf_ = idf.astype(np.float32)
        return self

    def transform(self, texts):
        doc, bucket, n = self.featuriser().occurrences(texts)
        weight = self.idf_[bucket].astype(np.float64)
        norm = np.sqrt(np.bincount(doc, weights=weight * weight, minlength=n))
        norm[norm == 0] = 1.0
        matrix = sparse.csr_matrix((weight / norm[doc], (doc, bucket)), shape=(n, self.n_features))
        matrix.sum_duplicates()
        return matrix

    def linear_scores(self, texts, coef: np.ndarray) -> np.ndarray:
        """``transform(texts) @ coef`` without building the matrix (NaN for posts with no words)."""
        return self.featuriser().linear_scores(texts, self.idf_, coef)

    def term_contributions(self, text: str, coef: np.ndarray) -> list[tuple[str, float]]:
        """Each distinct word and word pair of ``text`` with its share of ``transform([text]) @ coef``."""
        return self.featuriser().term_contributions(text, self.idf_, coef)
