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

Two optional features (off by default): ``marks`` adds the pairs (start of
post, first word) and (last word, end of post), so a model can learn "opens
with an @mention" or "ends with a link"; ``link_only`` adds one feature to a
post that is nothing but links.

Threads: one :class:`Featuriser` may be used from many threads at once. Its
tables only grow; a writer (holding the table's lock) fills new rows first and
then publishes an immutable snapshot of the arrays, and only after that makes
the new chunks findable. A reader looks its chunks up first and takes the
snapshot after, so every id it found is inside the arrays it reads. Per-call
state lives in local variables. Tables are replaced (never cleared in place)
when they reach their bounds, so memory stays flat on an endless stream.
"""

from __future__ import annotations

import itertools
import math
import operator
import threading
from typing import NamedTuple

import numpy as np

from . import fast
from .fast import expand
from .text import MAX_POST_CHARS, chunk_words, clean_invisible

SENTINEL = "\ue000"           # a private-use character: the chunk between posts
_JOIN = f" {SENTINEL} "
MAX_CHUNKS = 200_000          # tables are replaced past this many distinct chunks (bounds memory)
MAX_CACHE_CHARS = 8_000_000   # ... or past this many characters of chunk text held as keys
MAX_ENTRIES = 200_000         # bound of the small-batch path's chunk and pair caches
MAX_GRAM_WORD = 64            # characters of a word that feed its character n-grams
SMALL_BATCH = 32              # batches up to this many posts take the pure-Python path when it can score them
SMALL_FILL = 64               # ... and work out up to this many new chunks in pure Python too
ARROW_BATCH = 1024            # batches of at least this many posts split and normalise with pyarrow (smclass.fast)
ARROW_CHUNKS = 512            # ... and normalise their new chunks with it when at least this many are new
_P = 0x100000001B3            # odd, so invertible modulo 2**64
_P_INV = pow(_P, -1, 2**64)
_M = np.uint64(0x9E3779B97F4A7C15)
_PAIR_SALT = np.uint64(0x2545F4914F6CDD1D)
_UNI_SALT = np.uint64(0x5BD1E995)
_MASK64 = (1 << 64) - 1
_M_INT, _UNI_SALT_INT, _PAIR_SALT_INT = int(_M), int(_UNI_SALT), int(_PAIR_SALT)   # the same, as Python ints
BOS_HASH = 0x243F6A8885A308D3  # stand-in word hashes for the start and the end of a post (marks)
EOS_HASH = 0x13198A2E03707344
LINK_ONLY_HASH = 0xA4093822299F31D0
NL, URL = "xxnl", "xxurl"      # fixed word ids 0 and 1 in every table


class NotTextError(TypeError):
    """A post in the batch is not a string (the Predictor handles these one by one)."""


def _mix(h: np.ndarray) -> np.ndarray:
    """Scramble 64-bit hashes so that their low bits make good bucket numbers (a new array; ``h`` is
    left alone). Works in place on one fresh array: big temporaries cost page faults on first sight."""
    out = h >> np.uint64(31)
    out ^= h
    out *= _M
    out ^= out >> np.uint64(29)
    return out


def _buckets(h: np.ndarray, mask) -> np.ndarray:
    """``_mix(h) & mask`` as int64, reusing ``_mix``'s array (the masked values fit in 63 bits)."""
    out = _mix(h)
    out &= np.uint64(mask)
    return out.view(np.int64)


def _mix_int(h: int) -> int:
    """:func:`_mix` for one Python int."""
    h ^= h >> 31
    h = (h * 0x9E3779B97F4A7C15) & _MASK64
    return h ^ (h >> 29)


def pair_bucket(first: int, second: int, mask: int) -> int:
    """The bucket of the word pair whose word hashes are ``first`` and ``second`` (pure Python;
    :func:`_mix_int` is written out here, as this runs for every new word pair of a new post)."""
    h = (first * _M_INT + (second ^ _PAIR_SALT_INT)) & _MASK64
    h ^= h >> 31
    h = (h * _M_INT) & _MASK64
    return (h ^ (h >> 29)) & mask


def _pair_buckets(first: np.ndarray, second: np.ndarray, mask: int) -> np.ndarray:
    with np.errstate(over="ignore"):
        pair = first * _M
        pair += second ^ _PAIR_SALT
        return _buckets(pair, mask)


def link_only_bucket(n_features: int) -> int:
    return _mix_int(LINK_ONLY_HASH) & (n_features - 1)


def _powers(base: int, count: int) -> np.ndarray:
    """base**0 .. base**(count-1) modulo 2**64."""
    out = np.full(count, base, dtype=np.uint64)
    out[0] = 1
    return np.cumprod(out, dtype=np.uint64)


def word_features(words: list[str], n_features: int, char_ngrams, unigrams: bool):
    """Hashes of ``words`` and their feature buckets, grouped word by word.

    Returns (word_hash, feature_count, buckets): the buckets of word i are the
    ``feature_count[i]`` entries that follow those of words 0..i-1. One
    polynomial hash over the joined code points serves every window:
    hash[a:b] = (G[b] - G[a]) * P**-a, with G the prefix sums of c[k] * P**k.
    Word ends come from the word lengths, so any character (NUL included) may
    appear inside a word.
    """
    mask = np.uint64(n_features - 1)
    if not words:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    with np.errstate(over="ignore"):
        joined = "<" + ">\x00<".join(words) + ">\x00"
        codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
        size = len(codes)
        prefix = np.zeros(size + 1, dtype=np.uint64)
        np.cumsum(codes * _powers(_P, size), out=prefix[1:])
        inverse = _powers(_P_INV, size + 1)
        spans = np.fromiter(map(len, words), dtype=np.int64, count=len(words)) + 3   # "<", ">" and the separator
        ends = np.cumsum(spans) - 1
        starts = ends - spans + 1
        lengths = ends - starts                          # of "<word>"
        word_hash = _mix((prefix[ends] - prefix[starts]) * inverse[starts] + lengths.astype(np.uint64) * _M)
        # every word's features in order: its unigram, then its n-grams by n and by position
        sizes = []
        if char_ngrams:
            sizes = [n for n in range(char_ngrams[0], char_ngrams[1] + 1) if size >= n]
        per_n = [np.maximum(lengths - n + 1, 0) for n in sizes]
        count = np.full(len(words), int(bool(unigrams)), dtype=np.int64)
        for c in per_n:
            count += c
        out = np.empty(int(count.sum()), dtype=np.int64)
        slot = np.cumsum(count) - count                  # where each word's next feature goes
        if unigrams:
            out[slot] = _buckets(word_hash ^ _UNI_SALT, mask)
            slot = slot + 1
        for n, c in zip(sizes, per_n):
            total = int(c.sum())
            if total:
                a = expand(starts, c)                       # every window start, word by word
                grams = prefix[a + n]
                grams -= prefix[a]
                grams *= inverse[a]
                grams += np.uint64(n) * _M
                a += np.repeat(slot - starts, c)
                out[a] = _buckets(grams, mask)
            slot = slot + c
    return word_hash, count, out


def word_features_one(word: str, n_features: int, char_ngrams, unigrams: bool) -> tuple[int, list[int]]:
    """:func:`word_features` for one word in pure Python, as Tables._add_words uses it: (the hash of the
    whole word, the buckets of its unigram and of the character n-grams of its first MAX_GRAM_WORD
    characters, in the same order). A handful of new words costs microseconds this way instead of a
    dozen numpy calls."""
    mask = n_features - 1
    codes = [60, *map(ord, word[:MAX_GRAM_WORD]), 62]     # "<word>"
    size = len(codes)
    word_hash = _word_hash(codes)
    buckets = []
    if unigrams:
        buckets.append(_mix_int(word_hash ^ _UNI_SALT_INT) & mask)
    if char_ngrams:
        low, high = char_ngrams[0], char_ngrams[1]
        grams: list[list[int]] = [[] for _ in range(high + 1)]    # window hashes by size, by start
        for a in range(size):
            h, power = 0, 1
            for n in range(1, min(high, size - a) + 1):
                h = (h + codes[a + n - 1] * power) & _MASK64
                power = (power * _P) & _MASK64
                if n >= low:
                    grams[n].append(h)
        for n in range(low, high + 1):
            salt = n * _M_INT
            for h in grams[n]:
                h = (h + salt) & _MASK64
                h = ((h ^ (h >> 31)) * _M_INT) & _MASK64       # _mix_int, inlined: the hot loop
                buckets.append((h ^ (h >> 29)) & mask)
    if len(word) > MAX_GRAM_WORD:                          # the hash (for pairs) is of the whole word
        word_hash = _word_hash([60, *map(ord, word), 62])
    return word_hash, buckets


_POWERS_INT = [1]             # P**k modulo 2**64 for k < len(_POWERS_INT), grown as words need
_POWERS_LOCK = threading.Lock()


def _word_hash(codes: list[int]) -> int:
    """word_features' hash of a word from the code points of "<word>": its polynomial hash
    (sum of codes[k] * P**k modulo 2**64) plus its length times _M, mixed. The products are
    summed in C (``map``) against a table of powers: a Python loop over the characters made
    hashing the main cost of a new word in a post seen for the first time."""
    powers = _POWERS_INT
    if len(powers) < len(codes):
        with _POWERS_LOCK:                 # entries are only appended, and never change once there
            while len(powers) < len(codes):
                powers.append((powers[-1] * _P) & _MASK64)
    h = sum(map(operator.mul, codes, powers)) & _MASK64
    return _mix_int((h + len(codes) * _M_INT) & _MASK64)


class _Growable:
    """A numpy array that grows by doubling. Rows past a published view are written in
    place; a grown array is a new object, so views already handed out never change."""

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


class Snapshot(NamedTuple):
    """Immutable views of a table's arrays, consistent with each other."""

    chunk_word_start: np.ndarray
    chunk_word_len: np.ndarray
    chunk_words: np.ndarray
    word_hash: np.ndarray
    word_feat_start: np.ndarray
    word_feat_len: np.ndarray
    word_feats: np.ndarray


class Tables:
    """Per-process cache: chunk -> normalised words -> hashed features. Grows only; see the module doc."""

    def __init__(self, n_features: int, char_ngrams, word_ngrams):
        self.n_features = n_features
        self.char_ngrams = tuple(char_ngrams) if char_ngrams else None
        self.unigrams = word_ngrams[0] <= 1
        self.lock = threading.Lock()
        self.chunk_ids: dict[str, int] = {SENTINEL: 0}
        self.key_chars = 0
        self.word_ids: dict[str, int] = {}
        self.words: list[str] = []
        self._chunk_word_start = _Growable(np.int32)
        self._chunk_word_len = _Growable(np.int32)
        self._chunk_words = _Growable(np.int32)
        self._word_hash = _Growable(np.uint64)
        self._word_feat_start = _Growable(np.int32)
        self._word_feat_len = _Growable(np.int32)
        self._word_feats = _Growable(np.int32)
        self._chunk_word_start.extend([0])
        self._chunk_word_len.extend([0])
        self._weights: dict = {}
        with self.lock:
            self._add_words([NL, URL])
            self._publish()

    def full(self) -> bool:
        return len(self.chunk_ids) > MAX_CHUNKS or self.key_chars > MAX_CACHE_CHARS

    def _publish(self) -> None:
        self.snapshot = Snapshot(
            self._chunk_word_start.view, self._chunk_word_len.view, self._chunk_words.view,
            self._word_hash.view, self._word_feat_start.view, self._word_feat_len.view, self._word_feats.view,
        )

    def _add_words(self, new: list[str]) -> None:
        """Hash new words and append their rows (caller holds the lock)."""
        first = len(self.words)
        self.word_ids.update(zip(new, range(first, first + len(new))))
        self.words.extend(new)
        long = [k for k, w in enumerate(new) if len(w) > MAX_GRAM_WORD]
        fresh = new
        if long:
            fresh = list(new)
            for k in long:
                fresh[k] = new[k][:MAX_GRAM_WORD]
        whash, counts, feats = word_features(fresh, self.n_features, self.char_ngrams, self.unigrams)
        if long:                                         # the unigram hashes the whole word
            whash[long] = word_features([new[k] for k in long], self.n_features, None, False)[0]
        self._word_feat_start.extend(self._word_feats.size + np.cumsum(counts) - counts)
        self._word_feat_len.extend(counts)
        self._word_feats.extend(feats)
        self._word_hash.extend(whash)

    def add_chunks(self, chunks: list[str], normalise=None, array=None, known: int = -1) -> np.ndarray:
        """Normalise the distinct ``chunks`` not seen before; hash their new words all at once;
        publish. Returns the chunk id of every chunk of ``chunks``.

        ``normalise`` maps a list of chunks (and the same as an arrow array, or None) to
        their words in :class:`smclass.fast.Flat` form (default: the pure-Python normaliser);
        ``array``: ``chunks`` as an arrow string array, when the caller has one; ``known``: the
        number of chunks the tables held when the caller found none of ``chunks`` in them.
        """
        with self.lock:
            chunk_ids = self.chunk_ids
            if known == len(chunk_ids):                  # no chunk was added since the caller looked
                ids = np.full(len(chunks), -1, dtype=np.int64)
            else:                                        # another thread may have added some meanwhile
                ids = np.fromiter(map(chunk_ids.get, chunks, itertools.repeat(-1)), dtype=np.int64,
                                  count=len(chunks))
            fresh = np.flatnonzero(ids < 0)
            if not len(fresh):
                return ids
            new = chunks
            if len(fresh) < len(chunks):
                new = [chunks[k] for k in fresh.tolist()]
                array = None if array is None else fast.take(array, fresh)
            flat = (normalise or fast.python_normalise)(new, array)
            vocab = flat.vocab
            vocab_ids = np.fromiter(map(self.word_ids.get, vocab, itertools.repeat(-1)), dtype=np.int64,
                                    count=len(vocab))
            unknown = np.flatnonzero(vocab_ids < 0)
            if len(unknown):
                names = [vocab[k] for k in unknown.tolist()]
                new_words = dict.fromkeys(names)     # the vocabulary of a Flat may repeat a word
                first_id = len(self.words)
                new_words.update(zip(new_words, range(first_id, first_id + len(new_words))))
                vocab_ids[unknown] = list(map(new_words.__getitem__, names))
                self._add_words(list(new_words))
            self._chunk_word_start.extend(self._chunk_words.size + np.cumsum(flat.counts) - flat.counts)
            self._chunk_word_len.extend(flat.counts)
            self._chunk_words.extend(vocab_ids[flat.occ])
            self._publish()
            first_chunk = len(chunk_ids)
            chunk_ids.update(zip(new, range(first_chunk, first_chunk + len(new))))   # findable only now
            self.key_chars += sum(map(len, new))
            ids[fresh] = np.arange(first_chunk, first_chunk + len(new))
            return ids

    def word_weights(self, scorer: "Scorer", snapshot: Snapshot) -> tuple[np.ndarray, np.ndarray]:
        """Per-word sums of ``idf * coef`` and ``idf ** 2`` for every word of ``snapshot``."""
        key = id(scorer)
        entry = self._weights.get(key)
        total = len(snapshot.word_hash)
        if entry is not None and entry[0] is scorer and len(entry[1]) >= total:
            return entry[1], entry[2]
        with self.lock:
            entry = self._weights.get(key)
            if entry is None or entry[0] is not scorer:
                entry = (scorer, np.zeros(0), np.zeros(0))
            done = len(entry[1])
            snap = self.snapshot
            total = len(snap.word_hash)
            if total > done:
                flen = snap.word_feat_len[done:total]
                feats = snap.word_feats[expand(snap.word_feat_start[done:total], flen)]
                owner = np.repeat(np.arange(total - done), flen)
                sums = np.bincount(owner, weights=scorer.weighted[feats], minlength=total - done)
                squares = np.bincount(owner, weights=scorer.squared[feats], minlength=total - done)
                entry = (scorer, np.concatenate([entry[1], sums]), np.concatenate([entry[2], squares]))
            if key not in self._weights and len(self._weights) >= 4:
                self._weights = {}
            self._weights[key] = entry
            return entry[1], entry[2]


class Scorer:
    """The per-bucket weights of one linear model over these features: ``idf * coef`` and ``idf ** 2``."""

    def __init__(self, idf: np.ndarray, coef: np.ndarray):
        self.idf, self.coef = idf, coef
        idf64 = idf.astype(np.float64)
        self.weighted = idf64 * coef
        self.squared = idf64 * idf64


class Occurrences(NamedTuple):
    tables: Tables
    snapshot: Snapshot
    word_doc: np.ndarray     # post index of every word occurrence
    words: np.ndarray        # word id of every word occurrence
    n: int                   # number of posts


class Featuriser:
    """Turns batches of posts into hashed feature occurrences, and scores them. Safe to share across threads."""

    def __init__(self, n_features: int = 2**18, char_ngrams=(2, 5), word_ngrams=(1, 2), *,
                 marks: bool = False, link_only: bool = False):
        if n_features < 2 or n_features & (n_features - 1):
            raise ValueError(f"n_features must be a power of two, not {n_features}.")
        self.n_features = n_features
        self.char_ngrams = char_ngrams
        self.word_ngrams = tuple(word_ngrams)
        self.marks = bool(marks)
        self.link_only = bool(link_only)
        self._lock = threading.Lock()
        self._tables: Tables | None = None
        self._scorer: Scorer | None = None
        self._entries: tuple | None = None       # (scorer, {chunk: entry}, {(hash, hash): (w, s)}, {word: (w, s, hash)})
        self.use_arrow = True                    # big batches go through smclass.fast when pyarrow is there

    # -- tables ------------------------------------------------------------------
    def tables(self) -> Tables:
        tables = self._tables
        if tables is None or tables.full():
            with self._lock:
                tables = self._tables
                if tables is None or tables.full():
                    tables = self._tables = Tables(self.n_features, self.char_ngrams, self.word_ngrams)
        return tables

    def scorer(self, idf: np.ndarray, coef: np.ndarray) -> Scorer:
        scorer = self._scorer
        if scorer is None or scorer.idf is not idf or scorer.coef is not coef:
            scorer = self._scorer = Scorer(idf, coef)
        return scorer

    @staticmethod
    def prepare(texts) -> tuple[list, list[int]]:
        """(the posts with those over MAX_POST_CHARS characters cut to it, indices of the cut ones)."""
        texts = texts if isinstance(texts, list) else list(texts)
        try:
            longest = max(map(len, texts), default=0)
        except TypeError:                    # not all strings: joining them names the first bad one
            longest = MAX_POST_CHARS + 1
        cut = []
        if longest > MAX_POST_CHARS:
            cut = [i for i, t in enumerate(texts) if isinstance(t, str) and len(t) > MAX_POST_CHARS]
            if cut:
                texts = list(texts)
                for i in cut:
                    texts[i] = texts[i][:MAX_POST_CHARS]
        return texts, cut

    def word_occurrences(self, texts) -> Occurrences:
        """The word occurrences of every post, with the tables and snapshot their ids refer to."""
        texts, _ = self.prepare(texts)
        tables = self.tables()
        split = None
        if self.use_arrow and len(texts) >= ARROW_BATCH:
            if set(map(type, texts)) != {str}:         # one C loop; str subclasses are fine
                bad = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
                if bad is not None:
                    raise NotTextError(f"Post {bad} is {type(texts[bad]).__name__}, not str.")
            split = fast.split(texts)       # faster than str.split and a look-up per chunk, new or cached
        if split is not None:
            distinct, index, chunk_doc, array = split
            ids = self._chunk_ids(tables, distinct, array)[index]
        else:
            try:
                joined = _JOIN.join(texts)
            except TypeError:
                bad = next(i for i, t in enumerate(texts) if not isinstance(t, str))
                raise NotTextError(f"Post {bad} is {type(texts[bad]).__name__}, not str.") from None
            if joined.count(SENTINEL) != len(texts) - 1:      # a post holds the sentinel itself
                joined = _JOIN.join(t.replace(SENTINEL, " ") for t in texts)
            joined = clean_invisible(joined)
            chunks = joined.replace("\r\n", "\n").replace("\r", "\n").replace("\n", " xxnl ").split()
            ids = self._chunk_ids(tables, chunks)
            chunk_doc = np.cumsum(ids == 0)
        snap = tables.snapshot                       # after the look-ups: holds every id found
        wlen = snap.chunk_word_len[ids]
        words = snap.chunk_words[expand(snap.chunk_word_start[ids], wlen)]
        word_doc = np.repeat(chunk_doc, wlen)
        keep = _inner(word_doc, words)
        if keep is not None:
            words, word_doc = words[keep], word_doc[keep]
        return Occurrences(tables, snap, word_doc, words, len(texts))

    def _chunk_ids(self, tables: Tables, chunks: list[str], array=None) -> np.ndarray:
        """The chunk id of every chunk, adding those not in the tables yet. ``array``: the same chunks
        as an arrow string array, given when they are distinct (as :func:`smclass.fast.split` makes them)."""
        get = tables.chunk_ids.get
        known = len(tables.chunk_ids)                # (the dict only grows: a cheap version number)
        ids = np.fromiter(map(get, chunks, itertools.repeat(-1)), dtype=np.int64, count=len(chunks))
        missing = np.flatnonzero(ids < 0)
        if not len(missing):
            return ids
        if array is not None:                        # distinct chunks: the new ids come back in order
            first, last = int(missing[0]), int(missing[-1])
            contiguous = last - first + 1 == len(missing)      # e.g. all but the sentinel: no copies
            unseen = chunks[first : last + 1] if contiguous else [chunks[k] for k in missing.tolist()]
            new_array = None
            if len(unseen) >= ARROW_CHUNKS and self.use_arrow:
                new_array = array.slice(first, len(missing)) if contiguous else fast.take(array, missing)
            ids[missing] = tables.add_chunks(unseen, None if new_array is None else fast.normalise, new_array, known)
            return ids
        unseen = list(dict.fromkeys(map(chunks.__getitem__, missing.tolist())))
        normalise = fast.normalise if self.use_arrow and len(unseen) >= ARROW_CHUNKS else None
        tables.add_chunks(unseen, normalise)
        ids[missing] = list(map(get, map(chunks.__getitem__, missing.tolist())))
        return ids

    def pairs(self, occ: Occurrences) -> tuple[np.ndarray, np.ndarray, list]:
        """(post index, bucket, kind) of every feature that is not a word's own: word bigrams
        inside a post, and the start/end marks and link-only feature when enabled."""
        docs, buckets, kinds = self.pair_parts(occ)
        if not docs:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), []
        return np.concatenate(docs), np.concatenate(buckets), kinds

    def pair_parts(self, occ: Occurrences) -> tuple[list, list, list]:
        """:meth:`pairs` kind by kind, not concatenated: scoring sums each part on its own, which
        spares a big batch two more arrays the size of its word occurrences."""
        word_doc, words, snap = occ.word_doc, occ.words, occ.snapshot
        docs, buckets, kinds = [], [], []
        mask = self.n_features - 1
        h = snap.word_hash[words]
        if self.word_ngrams[1] >= 2 and len(words) >= 2:
            same = word_doc[1:] == word_doc[:-1]
            docs.append(word_doc[:-1][same])
            buckets.append(_pair_buckets(h[:-1], h[1:], mask)[same])
            kinds.append(("bigram", np.flatnonzero(same)))
        if (self.marks or self.link_only) and len(words):
            starts = np.r_[0, np.flatnonzero(np.diff(word_doc)) + 1]
            ends = np.r_[starts[1:], len(words)] - 1
            if self.marks:
                docs += [word_doc[starts], word_doc[ends]]
                buckets += [_pair_buckets(np.full(len(starts), BOS_HASH, dtype=np.uint64), h[starts], mask),
                            _pair_buckets(h[ends], np.full(len(ends), EOS_HASH, dtype=np.uint64), mask)]
                kinds += [("start", starts), ("end", ends)]
            if self.link_only:
                other = np.add.reduceat((words > 1).astype(np.int64), starts)     # words that are not xxnl/xxurl
                linky = np.add.reduceat((words == 1).astype(np.int64), starts)
                only = starts[(other == 0) & (linky > 0)]
                docs.append(word_doc[only])
                buckets.append(np.full(len(only), link_only_bucket(self.n_features), dtype=np.int64))
                kinds.append(("link_only", only))
        return docs, buckets, kinds

    def occurrences(self, texts) -> tuple[np.ndarray, np.ndarray, int]:
        """(post index, bucket, number of posts) for every feature occurrence in ``texts``."""
        occ = self.word_occurrences(texts)
        snap, words = occ.snapshot, occ.words
        flen = snap.word_feat_len[words]
        buckets = snap.word_feats[expand(snap.word_feat_start[words], flen)]
        pair_doc, pair_bucket, _ = self.pairs(occ)
        return np.concatenate([np.repeat(occ.word_doc, flen), pair_doc]), np.concatenate([buckets, pair_bucket]), occ.n

    def linear_scores(self, texts, idf: np.ndarray, coef: np.ndarray) -> np.ndarray:
        """Scores ``x @ coef`` of the idf-weighted, normalised features; NaN for posts with no words.

        A post whose words the model never saw has an all-zero row and scores 0, as in the pipeline.

        Every word's unigram and character n-grams always occur together, so
        their weighted sum and squared idf are computed once per distinct word
        and cached; a post then costs a few operations per word, not per n-gram.
        Small batches go through :meth:`small_scores` (no numpy per post).
        """
        texts = texts if isinstance(texts, list) else list(texts)
        if len(texts) <= SMALL_BATCH:
            scores = self.small_scores(texts, idf, coef)
            if scores is not None:
                return scores
        occ = self.word_occurrences(texts)
        scorer = self.scorer(idf, coef)
        word_sum, word_sq = occ.tables.word_weights(scorer, occ.snapshot)
        n, word_doc, words = occ.n, occ.word_doc, occ.words
        num = np.bincount(word_doc, weights=word_sum[words], minlength=n)
        den = np.bincount(word_doc, weights=word_sq[words], minlength=n)
        docs, buckets, _ = self.pair_parts(occ)
        for pair_doc, pair_bucket in zip(docs, buckets):
            num += np.bincount(pair_doc, weights=scorer.weighted[pair_bucket], minlength=n)
            den += np.bincount(pair_doc, weights=scorer.squared[pair_bucket], minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            scores = num / np.sqrt(den)
        unknown = den == 0
        if unknown.any():    # words, but none the model knows: an all-zero row, which the pipeline scores 0
            unknown &= np.bincount(word_doc, minlength=n) > 0
            scores[unknown] = 0.0
        return scores

    # -- the pure-Python path for one post or a handful ------------------------------
    def small_scores(self, texts: list, idf: np.ndarray, coef: np.ndarray):
        """Scores of a few posts from per-chunk entries, or None when a post needs the numpy path.

        A chunk's entry holds its first and last word hashes and the summed
        weights of its words and of the bigrams inside it; a post then costs one
        dict look-up per chunk and one pair look-up per chunk boundary.
        """
        if not all(isinstance(t, str) for t in texts):
            return None
        texts, _ = self.prepare(texts)
        scorer = self.scorer(idf, coef)
        out = np.empty(len(texts))
        for i, text in enumerate(texts):
            score = self.score_one(text, scorer)
            if score is None:
                return None
            out[i] = score
        return out

    def score_one(self, text: str, scorer: Scorer):
        """The score of one post (a str of at most MAX_POST_CHARS characters): NaN when it has no
        words, 0 when none of its features is known, None when it needs the numpy path (a line
        break inside a chunk at its edge)."""
        cache = self._entries
        if cache is None or cache[0] is not scorer or max(map(len, cache[1:])) > MAX_ENTRIES:
            cache = self._entries = (scorer, {}, {}, {})
        _, entries, pairs, words = cache
        if "\n" in text or "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", " xxnl ")
        chunks = clean_invisible(text).split()
        get = entries.get
        found = list(map(get, chunks))
        if None in found:
            self._fill_entries(entries, scorer, [c for c, e in zip(chunks, found) if e is None], words)
            found = list(map(get, chunks))
            if None in found:          # the cache was replaced meanwhile: stay correct, go the long way
                return None
        start, end = 0, len(found)
        while start < end and found[start][4] & 1:         # empty or only line breaks at the edges
            start += 1
        while end > start and found[end - 1][4] & 1:
            end -= 1
        if start == end:
            return math.nan
        if found[start][4] & 2 or found[end - 1][4] & 4:   # a line break inside an edge chunk
            return None
        num = den = 0.0
        first = last = None
        linky = True
        bigrams = self.word_ngrams[1] >= 2
        pair_get = pairs.get
        for e_num, e_den, first_h, last_h, flags in found[start:end] if start or end < len(found) else found:
            if flags:                                        # most chunks have none: one test
                if flags & 16:
                    continue
                if not flags & 8:
                    linky = False
            else:
                linky = False
            num += e_num
            den += e_den
            if last is None:
                first = first_h
            elif bigrams:
                ws = pair_get((last, first_h)) or self._pair(pairs, last, first_h, scorer)
                num += ws[0]
                den += ws[1]
            last = last_h
        if self.marks:
            for a, b in ((BOS_HASH, first), (last, EOS_HASH)):
                ws = pair_get((a, b)) or self._pair(pairs, a, b, scorer)
                num += ws[0]
                den += ws[1]
        if self.link_only and linky:
            bucket = link_only_bucket(self.n_features)
            num += float(scorer.weighted[bucket])
            den += float(scorer.squared[bucket])
        return num / math.sqrt(den) if den > 0 else 0.0        # words, none known: the prior (as above)

    def _pair(self, pairs: dict, a: int, b: int, scorer: Scorer) -> tuple[float, float]:
        bucket = pair_bucket(a, b, self.n_features - 1)
        found = pairs[(a, b)] = (scorer.weighted.item(bucket), scorer.squared.item(bucket))
        return found

    def _fill_entries(self, entries: dict, scorer: Scorer, chunks: list[str], words: dict | None = None) -> None:
        """Compute the entries of new chunks: (num, den, first hash, last hash, flags).

        flags: 1 = nothing but line breaks (or no words), 2 = starts with a line
        break, 4 = ends with one, 8 = only links and line breaks, 16 = no words.
        A few new chunks (a post never seen before) are done in pure Python with ``words``, a cache
        of word weights: a dozen numpy calls and a copy of the tables' weight arrays would cost a
        new post far more than its own words do. Both ways give the same floats: the same sums in
        the same order.
        """
        chunks = list(dict.fromkeys(chunks))
        if words is not None and len(chunks) <= SMALL_FILL:
            for chunk in chunks:
                entries[chunk] = self._entry(chunk_words(chunk.replace(SENTINEL, " ")), scorer, words)
            return
        tables = self.tables()
        keys = [c.replace(SENTINEL, " ") for c in chunks]
        ids = self._chunk_ids(tables, keys)
        snap = tables.snapshot
        word_sum, word_sq = tables.word_weights(scorer, snap)
        wlen = snap.chunk_word_len[ids]
        words = snap.chunk_words[expand(snap.chunk_word_start[ids], wlen)]
        doc = np.repeat(np.arange(len(chunks)), wlen)
        num = np.bincount(doc, weights=word_sum[words], minlength=len(chunks))
        den = np.bincount(doc, weights=word_sq[words], minlength=len(chunks))
        if self.word_ngrams[1] >= 2 and len(words) >= 2:
            h = snap.word_hash[words]
            same = doc[1:] == doc[:-1]
            bucket = _pair_buckets(h[:-1], h[1:], self.n_features - 1)[same]
            num += np.bincount(doc[:-1][same], weights=scorer.weighted[bucket], minlength=len(chunks))
            den += np.bincount(doc[:-1][same], weights=scorer.squared[bucket], minlength=len(chunks))
        hashes = snap.word_hash[words].tolist()
        word_list = words.tolist()
        position = 0
        for k, (chunk, count) in enumerate(zip(chunks, wlen.tolist())):
            mine = word_list[position : position + count]
            if count == 0:
                entries[chunk] = _EMPTY_ENTRY
            else:
                entries[chunk] = (float(num[k]), float(den[k]), hashes[position], hashes[position + count - 1],
                                  _chunk_flags(mine, 0, 1))      # word ids 0 and 1 are NL and URL
            position += count

    def _entry(self, names: tuple, scorer: Scorer, words: dict) -> tuple:
        """The entry of one chunk whose normalised words are ``names`` (see :meth:`_fill_entries`)."""
        if not names:
            return _EMPTY_ENTRY
        num = den = 0.0
        hashes = []
        for name in names:
            found = words.get(name)
            if found is None:
                found = words[name] = self._word_weights(name, scorer)
            num += found[0]
            den += found[1]
            hashes.append(found[2])
        if self.word_ngrams[1] >= 2 and len(names) >= 2:
            mask = self.n_features - 1
            pair_num = pair_den = 0.0
            weighted, squared = scorer.weighted.item, scorer.squared.item
            for a, b in zip(hashes, hashes[1:]):
                bucket = pair_bucket(a, b, mask)
                pair_num += weighted(bucket)
                pair_den += squared(bucket)
            num += pair_num
            den += pair_den
        flags = _chunk_flags(names, NL, URL) if NL in names or URL in names else 0
        return (num, den, hashes[0], hashes[-1], flags)

    def _word_weights(self, name: str, scorer: Scorer) -> tuple[float, float, int]:
        """(sum of idf * coef, sum of idf ** 2, hash) of one word, as Tables.word_weights sums them:
        from the tables when a big batch has already weighed it, else worked out here."""
        tables = self._tables
        if tables is not None:
            wid = tables.word_ids.get(name)
            weights = tables._weights.get(id(scorer))
            if wid is not None and weights is not None and weights[0] is scorer and wid < len(weights[1]):
                # a weights entry covers rows already published, so an id inside it is in the snapshot too
                return (weights[1].item(wid), weights[2].item(wid), tables.snapshot.word_hash.item(wid))
        word_hash, buckets = word_features_one(name, self.n_features, self.char_ngrams, self.word_ngrams[0] <= 1)
        weighted, squared = scorer.weighted, scorer.squared
        total = square = 0.0
        for bucket in buckets:
            total += weighted.item(bucket)
            square += squared.item(bucket)
        return (total, square, word_hash)

    def term_contributions(self, text: str, idf: np.ndarray, coef: np.ndarray) -> list[tuple[str, float]]:
        """Each distinct word and word pair of ``text`` with its share of its score."""
        occ = self.word_occurrences([text])
        scorer = self.scorer(idf, coef)
        word_sum, word_sq = occ.tables.word_weights(scorer, occ.snapshot)
        words = occ.words
        _, pair_bucket, kinds = self.pairs(occ)
        names = occ.tables.words
        ids = words.tolist()
        pair_names = []
        for kind, where in kinds:
            for k in where.tolist():
                if kind == "bigram":
                    pair_names.append(f"{names[ids[k]]} {names[ids[k + 1]]}")
                elif kind == "start":
                    pair_names.append(f"(start) {names[ids[k]]}")
                elif kind == "end":
                    pair_names.append(f"{names[ids[k]]} (end)")
                else:
                    pair_names.append("(only links)")
        norm = float(np.sqrt(word_sq[words].sum() + scorer.squared[pair_bucket].sum())) or 1.0
        totals: dict[str, float] = {}
        for wid in ids:
            totals[names[wid]] = totals.get(names[wid], 0.0) + float(word_sum[wid]) / norm
        for pair, bucket in zip(pair_names, pair_bucket.tolist()):
            totals[pair] = totals.get(pair, 0.0) + float(scorer.weighted[bucket]) / norm
        return list(totals.items())


_EMPTY_ENTRY = (0.0, 0.0, 0, 0, 1 | 16)      # the entry of a chunk with no words


def _chunk_flags(words, nl, url) -> int:
    """The flags of a chunk entry (see Featuriser._fill_entries) from its words, as ids or as names
    (``nl`` and ``url`` are the line break and the link in the same terms)."""
    return ((1 if all(w == nl for w in words) else 0) | (2 if words[0] == nl else 0)
            | (4 if words[-1] == nl else 0) | (8 if all(w == nl or w == url for w in words) else 0))


def _inner(word_doc: np.ndarray, words: np.ndarray):
    """Mask dropping line breaks (word id 0) at the start or end of a post (as ``text.words`` does).

    Only the line breaks are looked at (``word_doc`` is sorted): one at position b of a post that
    spans [start, end) is at its start when the words start..b are all line breaks, at its end
    when b..end-1 are.
    """
    if not len(words):
        return None
    breaks = np.flatnonzero(words == 0)
    if not len(breaks):
        return None
    doc = word_doc[breaks]
    start = np.searchsorted(word_doc, doc, "left")
    end = np.searchsorted(word_doc, doc, "right")
    rank = np.arange(len(breaks))
    leading = rank - np.searchsorted(breaks, start, "left") == breaks - start
    trailing = np.searchsorted(breaks, end, "left") - rank == end - breaks
    keep = np.ones(len(words), dtype=bool)
    keep[breaks[leading | trailing]] = False
    return keep
