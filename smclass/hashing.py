"""Hashed word and character n-gram features, and fast linear scoring (numpy only).

Why not ``TfidfVectorizer``: its per-document Python analyzer is about twenty
times slower than fastText. Here each distinct whitespace chunk is normalised
once, and all new words of a batch are hashed together with numpy; a batch of
posts then becomes a few gathers over flat tables, with no Python code per
n-gram. This module imports nothing but numpy, so a process that only predicts
stays small and starts fast.

The features of a word are its unigram and the character n-grams of ``<word>``
(the first 64 characters of it: longer "words" are base64 or junk); adjacent
words inside a post add a bigram. All are hashed into ``n_features`` buckets.
With idf weights, each post is divided by the L2 norm of its feature
*occurrences* (the usual L2 norm when no feature repeats within the post), which
is what lets a linear model score a post from per-word sums and two
``bincount`` calls, without a sparse matrix.
"""

from __future__ import annotations

import itertools

import numpy as np

from .text import chunk_words

SENTINEL = "\ue000"           # a private-use character: the chunk between posts
_JOIN = f" {SENTINEL} "
MAX_CHUNKS = 200_000          # the cache is cleared past this many distinct chunks (bounds memory)
MAX_GRAM_WORD = 64            # characters of a word that feed its character n-grams
_P = 0x100000001B3            # odd, so invertible modulo 2**64
_P_INV = pow(_P, -1, 2**64)
_M = np.uint64(0x9E3779B97F4A7C15)


class NotTextError(TypeError):
    """A post in the batch is not a string (the Predictor handles these one by one)."""


def _mix(h: np.ndarray) -> np.ndarray:
    """Scramble 64-bit hashes so that their low bits make good bucket numbers."""
    h = h ^ (h >> np.uint64(31))
    h = h * _M
    return h ^ (h >> np.uint64(29))


def _powers(base: int, count: int) -> np.ndarray:
    """base**0 .. base**(count-1) modulo 2**64."""
    out = np.full(count, base, dtype=np.uint64)
    out[0] = 1
    return np.cumprod(out, dtype=np.uint64)


def expand(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Indices ``starts[i] .. starts[i]+lengths[i]`` for every i, concatenated."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    shift = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return np.arange(total, dtype=np.int64) + shift


def word_features(words: list[str], n_features: int, char_ngrams, unigrams: bool):
    """Hashes of ``words`` and their feature buckets, grouped word by word.

    Returns (word_hash, feature_count, buckets): the buckets of word i are the
    ``feature_count[i]`` entries that follow those of words 0..i-1. One
    polynomial hash over the joined code points serves every window:
    hash[a:b] = (G[b] - G[a]) * P**-a, with G the prefix sums of c[k] * P**k.
    """
    mask = np.uint64(n_features - 1)
    with np.errstate(over="ignore"):
        joined = "\x00".join("<" + w + ">" for w in words) + "\x00"
        codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
        size = len(codes)
        prefix = np.zeros(size + 1, dtype=np.uint64)
        np.cumsum(codes * _powers(_P, size), out=prefix[1:])
        inverse = _powers(_P_INV, size + 1)
        is_end = codes == 0
        ends = np.flatnonzero(is_end)
        starts = np.r_[0, ends[:-1] + 1]
        lengths = (ends - starts).astype(np.uint64)
        word_hash = _mix((prefix[ends] - prefix[starts]) * inverse[starts] + lengths * _M)
        owners, buckets = [], []
        if unigrams:
            owners.append(np.arange(len(words)))
            buckets.append(_mix(word_hash ^ np.uint64(0x5BD1E995)) & mask)
        if char_ngrams:
            owner = np.cumsum(is_end) - is_end                 # word index of every position
            for n in range(char_ngrams[0], char_ngrams[1] + 1):
                if size < n:
                    continue
                a = np.arange(size - n + 1)
                b = a + n
                valid = (owner[a] == owner[b - 1]) & ~is_end[b - 1]
                a, b = a[valid], b[valid]
                grams = (prefix[b] - prefix[a]) * inverse[a] + np.uint64(n) * _M
                owners.append(owner[a])
                buckets.append(_mix(grams) & mask)
        owners = np.concatenate(owners) if owners else np.zeros(0, dtype=np.int64)
        buckets = np.concatenate(buckets).astype(np.int64) if buckets else np.zeros(0, dtype=np.int64)
    order = np.argsort(owners, kind="stable")
    return word_hash, np.bincount(owners, minlength=len(words)), buckets[order]


class _Growable:
    """A numpy array that grows by doubling, so appends stay amortised O(1)."""

    def __init__(self, dtype=np.int64):
        self.data = np.zeros(1024, dtype=dtype)
        self.size = 0

    def extend(self, values) -> None:
        values = np.asarray(values, dtype=self.data.dtype)
        need = self.size + len(values)
        if need > len(self.data):
            grown = np.zeros(max(need, 2 * len(self.data)), dtype=self.data.dtype)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.data[self.size : need] = values
        self.size = need

    @property
    def view(self) -> np.ndarray:
        return self.data[: self.size]


class Tables:
    """Per-process cache: chunk -> normalised words -> hashed features."""

    def __init__(self, n_features: int, char_ngrams, word_ngrams):
        self.n_features = n_features
        self.char_ngrams = tuple(char_ngrams) if char_ngrams else None
        self.unigrams = word_ngrams[0] <= 1
        self.chunk_ids: dict[str, int] = {SENTINEL: 0}
        self.word_ids: dict[str, int] = {}
        self.words: list[str] = []
        self.chunk_word_start = _Growable()
        self.chunk_word_len = _Growable()
        self.chunk_words = _Growable()
        self.word_hash = _Growable(np.uint64)
        self.word_feat_start = _Growable()
        self.word_feat_len = _Growable()
        self.word_feats = _Growable()
        self.chunk_word_start.extend([0])
        self.chunk_word_len.extend([0])

    def add_chunks(self, chunks) -> None:
        """Normalise chunks not seen before; hash their new words all at once."""
        word_ids, words = self.word_ids, self.words
        first_new = len(words)
        chunk_start, chunk_len, new_chunk_words = [], [], []
        for chunk in chunks:
            if chunk in self.chunk_ids:
                continue
            wids = []
            for word in chunk_words(chunk):
                wid = word_ids.get(word)
                if wid is None:
                    wid = word_ids[word] = len(words)
                    words.append(word)
                wids.append(wid)
            self.chunk_ids[chunk] = len(self.chunk_ids)
            chunk_start.append(self.chunk_words.size + len(new_chunk_words))
            chunk_len.append(len(wids))
            new_chunk_words += wids
        if len(words) > first_new:
            fresh = [w[: MAX_GRAM_WORD] if len(w) > MAX_GRAM_WORD else w for w in words[first_new:]]
            whash, counts, feats = word_features(fresh, self.n_features, self.char_ngrams, self.unigrams)
            if any(len(w) > MAX_GRAM_WORD for w in words[first_new:]):   # unigram of the whole word
                whash = word_features(words[first_new:], self.n_features, None, False)[0]
            self.word_hash.extend(whash)
            self.word_feat_start.extend(self.word_feats.size + np.cumsum(counts) - counts)
            self.word_feat_len.extend(counts)
            self.word_feats.extend(feats)
        self.chunk_word_start.extend(chunk_start)
        self.chunk_word_len.extend(chunk_len)
        self.chunk_words.extend(new_chunk_words)


class Featuriser:
    """Turns batches of posts into hashed feature occurrences, and scores them."""

    def __init__(self, n_features: int = 2**18, char_ngrams=(2, 5), word_ngrams=(1, 2)):
        if n_features < 2 or n_features & (n_features - 1):
            raise ValueError(f"n_features must be a power of two, not {n_features}.")
        self.n_features = n_features
        self.char_ngrams = char_ngrams
        self.word_ngrams = tuple(word_ngrams)
        self._tables: Tables | None = None
        self._word_cache = None

    def tables(self) -> Tables:
        if self._tables is None or len(self._tables.chunk_ids) > MAX_CHUNKS:
            self._tables = Tables(self.n_features, self.char_ngrams, self.word_ngrams)
        return self._tables

    def word_occurrences(self, texts) -> tuple[Tables, np.ndarray, np.ndarray, int]:
        """(tables, post index of each word occurrence, word ids, number of posts)."""
        texts = texts if isinstance(texts, list) else list(texts)
        try:
            joined = _JOIN.join(texts)
        except TypeError:
            bad = next(i for i, t in enumerate(texts) if not isinstance(t, str))
            raise NotTextError(f"Post {bad} is {type(texts[bad]).__name__}, not str.") from None
        if joined.count(SENTINEL) != len(texts) - 1:      # a post holds the sentinel itself
            joined = _JOIN.join(t.replace(SENTINEL, " ") for t in texts)
        tables = self.tables()
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
        words = tables.chunk_words.view[expand(tables.chunk_word_start.view[ids], wlen)]
        word_doc = np.repeat(chunk_doc, wlen)
        keep = _inner(tables, word_doc, words)
        if keep is not None:
            words, word_doc = words[keep], word_doc[keep]
        return tables, word_doc, words, len(texts)

    def bigrams(self, tables: Tables, word_doc: np.ndarray, words: np.ndarray):
        """(post index, bucket) of each word bigram that stays inside one post."""
        if self.word_ngrams[1] < 2 or len(words) < 2:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        h = tables.word_hash.view[words]
        same = word_doc[1:] == word_doc[:-1]
        with np.errstate(over="ignore"):
            pair = _mix(h[:-1] * _M + (h[1:] ^ np.uint64(0x2545F4914F6CDD1D)))
        return word_doc[:-1][same], (pair & np.uint64(self.n_features - 1)).astype(np.int64)[same]

    def occurrences(self, texts) -> tuple[np.ndarray, np.ndarray, int]:
        """(post index, bucket, number of posts) for every feature occurrence in ``texts``."""
        tables, word_doc, words, n = self.word_occurrences(texts)
        flen = tables.word_feat_len.view[words]
        buckets = tables.word_feats.view[expand(tables.word_feat_start.view[words], flen)]
        bi_doc, bi_bucket = self.bigrams(tables, word_doc, words)
        return np.concatenate([np.repeat(word_doc, flen), bi_doc]), np.concatenate([buckets, bi_bucket]), n

    def linear_scores(self, texts, idf: np.ndarray, coef: np.ndarray) -> np.ndarray:
        """Scores ``x @ coef`` of the idf-weighted, normalised features; NaN for featureless posts.

        Every word's unigram and character n-grams always occur together, so
        their weighted sum and squared idf are computed once per distinct word
        and cached; a post then costs a few operations per word, not per n-gram.
        """
        tables, word_doc, words, n = self.word_occurrences(texts)
        word_sum, word_sq, weighted, squared = self._word_weights(tables, idf, coef)
        bi_doc, bi_bucket = self.bigrams(tables, word_doc, words)
        num = np.bincount(word_doc, weights=word_sum[words], minlength=n)
        num += np.bincount(bi_doc, weights=weighted[bi_bucket], minlength=n)
        den = np.bincount(word_doc, weights=word_sq[words], minlength=n)
        den += np.bincount(bi_doc, weights=squared[bi_bucket], minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            return num / np.sqrt(den)

    def _word_weights(self, tables: Tables, idf: np.ndarray, coef: np.ndarray):
        """Per-word sums of ``idf * coef`` and ``idf ** 2``, extended for new words."""
        cache = self._word_cache
        if cache is None or cache[0] is not tables or cache[1] is not coef or cache[2] is not idf:
            idf64 = idf.astype(np.float64)
            cache = self._word_cache = [tables, coef, idf, np.zeros(0), np.zeros(0), idf64 * coef, idf64 * idf64]
        done, total = len(cache[3]), len(tables.words)
        if total > done:
            flen = tables.word_feat_len.view[done:total]
            feats = tables.word_feats.view[expand(tables.word_feat_start.view[done:total], flen)]
            owner = np.repeat(np.arange(total - done), flen)
            cache[3] = np.concatenate([cache[3], np.bincount(owner, weights=cache[5][feats], minlength=total - done)])
            cache[4] = np.concatenate([cache[4], np.bincount(owner, weights=cache[6][feats], minlength=total - done)])
        return cache[3], cache[4], cache[5], cache[6]

    def term_contributions(self, text: str, idf: np.ndarray, coef: np.ndarray) -> list[tuple[str, float]]:
        """Each distinct word and word pair of ``text`` with its share of its score."""
        tables, word_doc, words, _ = self.word_occurrences([text])
        word_sum, word_sq, weighted, squared = self._word_weights(tables, idf, coef)
        bi_doc, bi_bucket = self.bigrams(tables, word_doc, words)
        norm = float(np.sqrt(word_sq[words].sum() + squared[bi_bucket].sum())) or 1.0
        names = tables.words
        totals: dict[str, float] = {}
        for wid in words.tolist():
            totals[names[wid]] = totals.get(names[wid], 0.0) + float(word_sum[wid]) / norm
        pairs = [f"{names[a]} {names[b]}" for a, b in zip(words[:-1].tolist(), words[1:].tolist())]
        for pair, bucket in zip(pairs, bi_bucket.tolist()):
            totals[pair] = totals.get(pair, 0.0) + float(weighted[bucket]) / norm
        return list(totals.items())


def _inner(tables: Tables, word_doc: np.ndarray, words: np.ndarray):
    """Mask dropping line breaks at the start or end of a post (as ``text.words`` does)."""
    nl = tables.word_ids.get("xxnl")
    if nl is None or not len(words):
        return None
    content = words != nl
    if content.all():
        return None
    before = np.cumsum(content)
    start = np.r_[0, np.flatnonzero(np.diff(word_doc)) + 1]
    first = np.repeat(start, np.diff(np.r_[start, len(words)]))
    seen_before = before - before[first] + content[first]
    total_in_doc = np.bincount(word_doc, weights=content, minlength=word_doc[-1] + 1)[word_doc]
    return content | ((seen_before > 0) & (seen_before < total_in_doc))
