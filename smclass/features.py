"""Hashed TF-IDF features over normalised words and their character n-grams.

Why not ``TfidfVectorizer``: its per-document Python analyzer is about twenty
times slower than fastText. Here each distinct whitespace chunk is normalised and
hashed once (cached), and a batch becomes numpy gathers over flat tables, so
featurising costs a few array operations per post, not Python code per n-gram.

The features are word n-grams plus character n-grams of each word (padded with
``<`` and ``>``), hashed into ``n_features`` buckets and weighted by smoothed idf.
Each row is divided by the L2 norm of its feature *occurrences* (the usual L2 norm
when no feature repeats within a post). That choice lets a linear model score a
post with two ``bincount`` calls, without building the sparse matrix at all.
"""

from __future__ import annotations

import itertools
import zlib

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin

from .text import chunk_words

_SENTINEL = "\ue000"          # a private-use character: the chunk between posts
_JOIN = f" {_SENTINEL} "
_MAX_CHUNKS = 200_000         # the cache is cleared past this many distinct chunks (bounds memory)
_BIGRAM_MUL = np.uint64(0x9E3779B97F4A7C15)


class NotTextError(TypeError):
    """A post in the batch is not a string (the Predictor handles these one by one)."""


def _hash(data: str) -> int:
    return zlib.crc32(data.encode("utf-8", "surrogatepass"))


def _expand(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Indices ``starts[i] .. starts[i]+lengths[i]`` for every i, concatenated."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    shift = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return np.arange(total, dtype=np.int64) + shift


class _Growable:
    """An int64 array that grows by doubling, so appends stay amortised O(1)."""

    def __init__(self):
        self.data = np.zeros(1024, dtype=np.int64)
        self.size = 0

    def extend(self, values) -> None:
        values = np.asarray(values, dtype=np.int64)
        need = self.size + len(values)
        if need > len(self.data):
            grown = np.zeros(max(need, 2 * len(self.data)), dtype=np.int64)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.data[self.size : need] = values
        self.size = need

    @property
    def view(self) -> np.ndarray:
        return self.data[: self.size]


class _Tables:
    """Per-process cache: chunk -> normalised words -> hashed features."""

    def __init__(self, n_features: int, char_ngrams, word_ngrams):
        self.mask = n_features - 1
        self.char_ngrams = char_ngrams
        self.unigrams = word_ngrams[0] <= 1
        self.chunk_ids: dict[str, int] = {_SENTINEL: 0}
        self.word_ids: dict[str, int] = {}
        self.words: list[str] = []
        self.chunk_word_start = _Growable()
        self.chunk_word_len = _Growable()
        self.chunk_words = _Growable()
        self.word_hash = _Growable()
        self.word_feat_start = _Growable()
        self.word_feat_len = _Growable()
        self.word_feats = _Growable()
        self.chunk_word_start.extend([0])
        self.chunk_word_len.extend([0])

    def add_chunks(self, chunks) -> None:
        """Normalise and hash chunks not seen before, appending to the tables in one go."""
        chunk_start, chunk_len, new_words = [], [], []
        word_hash, feat_start, feat_len, feats = [], [], [], []
        word_ids, words = self.word_ids, self.words
        mask, unigrams, char_ngrams = self.mask, self.unigrams, self.char_ngrams
        next_feat = self.word_feats.size
        for chunk in chunks:
            if chunk in self.chunk_ids:
                continue
            wids = []
            for word in chunk_words(chunk):
                wid = word_ids.get(word)
                if wid is None:
                    wid = word_ids[word] = len(words)
                    words.append(word)
                    whash = _hash("w\x00" + word)
                    mine = [whash & mask] if unigrams else []
                    if char_ngrams:
                        padded = "<" + word + ">"
                        for n in range(char_ngrams[0], char_ngrams[1] + 1):
                            prefix = f"{n}\x00"
                            mine += [_hash(prefix + padded[i : i + n]) & mask for i in range(len(padded) - n + 1)]
                    word_hash.append(whash)
                    feat_start.append(next_feat)
                    feat_len.append(len(mine))
                    feats += mine
                    next_feat += len(mine)
                wids.append(wid)
            self.chunk_ids[chunk] = len(self.chunk_ids)
            chunk_start.append(self.chunk_words.size + len(new_words))
            chunk_len.append(len(wids))
            new_words += wids
        self.word_hash.extend(word_hash)
        self.word_feat_start.extend(feat_start)
        self.word_feat_len.extend(feat_len)
        self.word_feats.extend(feats)
        self.chunk_word_start.extend(chunk_start)
        self.chunk_word_len.extend(chunk_len)
        self.chunk_words.extend(new_words)


class HashedTfidf(TransformerMixin, BaseEstimator):
    """TF-IDF over hashed word and character n-grams of normalised posts.

    Parameters are stored as given; ``fit`` learns ``idf_``.
    """

    def __init__(self, *, n_features: int = 2**20, char_ngrams=(2, 5), word_ngrams=(1, 2)):
        self.n_features = n_features
        self.char_ngrams = char_ngrams
        self.word_ngrams = word_ngrams

    # -- the cache is rebuilt lazily in every process and never pickled --------
    def __getstate__(self):
        state = self.__dict__.copy()
        for cached in ("_tables", "_word_cache", "_scoring_"):
            state.pop(cached, None)
        return state

    def _get_tables(self) -> _Tables:
        tables = getattr(self, "_tables", None)
        if tables is None or len(tables.chunk_ids) > _MAX_CHUNKS:
            if self.n_features & (self.n_features - 1):
                raise ValueError(f"n_features must be a power of two, not {self.n_features}.")
            tables = self._tables = _Tables(self.n_features, self.char_ngrams, tuple(self.word_ngrams))
        return tables

    def _word_occurrences(self, texts) -> tuple[_Tables, np.ndarray, np.ndarray, int]:
        """(tables, post index of each word occurrence, word ids, number of posts)."""
        texts = texts if isinstance(texts, list) else list(texts)
        try:
            joined = _JOIN.join(texts)
        except TypeError:
            bad = next(i for i, t in enumerate(texts) if not isinstance(t, str))
            raise NotTextError(f"Post {bad} is {type(texts[bad]).__name__}, not str.") from None
        if joined.count(_SENTINEL) != len(texts) - 1:      # a post holds the sentinel itself
            joined = _JOIN.join(t.replace(_SENTINEL, " ") for t in texts)
        tables = self._get_tables()
        chunks = joined.replace("\r\n", "\n").replace("\r", "\n").replace("\n", " xxnl ").split()
        get = tables.chunk_ids.get
        ids = np.fromiter(map(get, chunks, itertools.repeat(-1)), dtype=np.int64, count=len(chunks))
        missing = np.flatnonzero(ids < 0)
        if len(missing):
            unseen = list(map(chunks.__getitem__, missing.tolist()))
            tables.add_chunks(dict.fromkeys(unseen))
            ids[missing] = list(map(get, unseen))
        chunk_doc = np.cumsum(ids == 0)
        wlen = tables.chunk_word_len.view[ids]
        words = tables.chunk_words.view[_expand(tables.chunk_word_start.view[ids], wlen)]
        word_doc = np.repeat(chunk_doc, wlen)
        keep = self._inner(tables, word_doc, words)
        if keep is not None:
            words, word_doc = words[keep], word_doc[keep]
        return tables, word_doc, words, len(texts)

    @staticmethod
    def _inner(tables: _Tables, word_doc: np.ndarray, words: np.ndarray):
        """Mask dropping line breaks at the start or end of a post (as ``text.words`` does)."""
        nl = tables.word_ids.get("xxnl")
        if nl is None or not len(words):
            return None
        content = words != nl
        if content.all():
            return None
        before = np.cumsum(content)                      # content words up to here, all posts
        start = np.r_[0, np.flatnonzero(np.diff(word_doc)) + 1]
        first = np.repeat(start, np.diff(np.r_[start, len(words)]))
        seen_before = before - before[first] + content[first]
        total_in_doc = np.bincount(word_doc, weights=content, minlength=word_doc[-1] + 1)[word_doc]
        return content | ((seen_before > 0) & (seen_before < total_in_doc))

    def _bigrams(self, tables: _Tables, word_doc: np.ndarray, words: np.ndarray):
        """(post index, bucket) of each word bigram that stays inside one post."""
        if self.word_ngrams[1] < 2 or len(words) < 2:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        h = tables.word_hash.view[words].astype(np.uint64)
        same = word_doc[1:] == word_doc[:-1]
        pair = (h[:-1] * _BIGRAM_MUL + h[1:] + np.uint64(1)) * _BIGRAM_MUL
        return word_doc[:-1][same], ((pair >> np.uint64(32)).astype(np.int64) & tables.mask)[same]

    def occurrences(self, texts) -> tuple[np.ndarray, np.ndarray]:
        """(post index, bucket) of every feature occurrence in ``texts``."""
        tables, word_doc, words, _ = self._word_occurrences(texts)
        flen = tables.word_feat_len.view[words]
        buckets = tables.word_feats.view[_expand(tables.word_feat_start.view[words], flen)]
        bi_doc, bi_bucket = self._bigrams(tables, word_doc, words)
        return np.concatenate([np.repeat(word_doc, flen), bi_doc]), np.concatenate([buckets, bi_bucket])

    def fit(self, texts, y=None):
        texts = list(texts)
        doc, bucket = self.occurrences(texts)
        present = sparse.csr_matrix(
            (np.ones(len(doc), dtype=np.float32), (doc, bucket)), shape=(len(texts), self.n_features)
        )
        df = np.bincount(present.indices, minlength=self.n_features)
        idf = np.log((1.0 + len(texts)) / (1.0 + df)) + 1.0
        idf[df == 0] = 0.0          # never seen in training: ignored, as a vocabulary would
        self.idf_ = idf.astype(np.float32)
        return self

    def transform(self, texts):
        texts = list(texts)
        doc, bucket = self.occurrences(texts)
        weight = self.idf_[bucket].astype(np.float64)
        norm = np.sqrt(np.bincount(doc, weights=weight * weight, minlength=len(texts)))
        norm[norm == 0] = 1.0
        matrix = sparse.csr_matrix(
            (weight / norm[doc], (doc, bucket)), shape=(len(texts), self.n_features)
        )
        matrix.sum_duplicates()
        return matrix

    def linear_scores(self, texts, coef: np.ndarray) -> np.ndarray:
        """``transform(texts) @ coef``, without building the matrix (NaN for featureless posts).

        Every word's unigram and character n-grams always occur together, so
        their weighted sum and squared idf are computed once per distinct word
        and cached; a post then costs a few operations per word, not per n-gram.
        """
        tables, word_doc, words, n = self._word_occurrences(texts)
        word_sum, word_sq = self._word_weights(tables, coef)
        bi_doc, bi_bucket = self._bigrams(tables, word_doc, words)
        weighted, squared = self._scoring_
        num = np.bincount(word_doc, weights=word_sum[words], minlength=n)
        num += np.bincount(bi_doc, weights=weighted[bi_bucket], minlength=n)
        den = np.bincount(word_doc, weights=word_sq[words], minlength=n)
        den += np.bincount(bi_doc, weights=squared[bi_bucket], minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            return num / np.sqrt(den)      # NaN for a post with no features at all

    def _word_weights(self, tables: _Tables, coef: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-word sums of ``idf * coef`` and ``idf ** 2``, extended for new words."""
        cache = getattr(self, "_word_cache", None)
        if cache is None or cache[0] is not tables or cache[1] is not coef:
            idf = self.idf_.astype(np.float64)
            self._scoring_ = (idf * coef, idf * idf)
            cache = self._word_cache = [tables, coef, np.zeros(0), np.zeros(0)]
        done = len(cache[2])
        total = len(tables.word_ids)
        if total > done:
            flen = tables.word_feat_len.view[done:total]
            feats = tables.word_feats.view[_expand(tables.word_feat_start.view[done:total], flen)]
            owner = np.repeat(np.arange(total - done), flen)
            weighted, squared = self._scoring_
            cache[2] = np.concatenate([cache[2], np.bincount(owner, weights=weighted[feats], minlength=total - done)])
            cache[3] = np.concatenate([cache[3], np.bincount(owner, weights=squared[feats], minlength=total - done)])
        return cache[2], cache[3]

    def term_contributions(self, text: str, coef: np.ndarray) -> list[tuple[str, float]]:
        """Each distinct word and word pair of ``text`` with its share of ``transform([text]) @ coef``."""
        tables, word_doc, words, _ = self._word_occurrences([text])
        word_sum, word_sq = self._word_weights(tables, coef)
        bi_doc, bi_bucket = self._bigrams(tables, word_doc, words)
        weighted, squared = self._scoring_
        norm = np.sqrt(word_sq[words].sum() + squared[bi_bucket].sum()) or 1.0
        names = tables.words
        totals: dict[str, float] = {}
        for wid in words.tolist():
            totals[names[wid]] = totals.get(names[wid], 0.0) + word_sum[wid] / norm
        if len(bi_bucket):
            pairs = [f"{names[a]} {names[b]}" for a, b in zip(words[:-1].tolist(), words[1:].tolist())]
            for pair, bucket in zip(pairs, bi_bucket.tolist()):
                totals[pair] = totals.get(pair, 0.0) + weighted[bucket] / norm
        return list(totals.items())
