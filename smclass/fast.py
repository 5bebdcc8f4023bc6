"""Vectorised first sight for big batches: pyarrow's string kernels (RE2) and numpy.

A big batch of posts never seen before spends most of its time in the
pure-Python normaliser (:func:`smclass.text.chunk_words`). This module does the
same work on whole arrays:

- :func:`split` cuts the posts into whitespace chunks and deduplicates them
  (``ascii_split_whitespace`` + ``dictionary_encode``), so the chunk cache is
  asked once per *distinct* chunk, not once per occurrence;
- :func:`normalise` normalises the new distinct chunks. Chunks of printable
  ASCII without ``&`` are handled by RE2: whole-chunk links and e-mail
  addresses, and, when they hold no digit, one tokenising regex plus constant
  passes (lower case, ``xxcaps``, ``xxuser``, ``xxtag``, runs of the same
  punctuation). On that subset RE2 and Python's ``re`` agree exactly (same
  ``\\w``, same case mapping, no look-ahead needed). Every other chunk (non-ASCII
  letters, digits, entities or mojibake to repair) goes to the Python
  normaliser, so the words are always exactly those of ``text.words``.

pyarrow is imported on first use only (it takes about half a second), so
processes that score one post at a time never pay for it. Without pyarrow, or
for input it cannot encode (lone surrogates), callers fall back to the
pure-Python path.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import numpy as np

from .text import _EMAIL, _REPEATS, _TLDS, INVISIBLE, chunk_words

SENTINEL = "\ue000"
_modules = None


def arrow():
    """(pyarrow, pyarrow.compute), or None when pyarrow is not installed."""
    global _modules
    if _modules is None:
        try:
            import pyarrow
            import pyarrow.compute
        except ImportError:          # pragma: no cover - pyarrow is a dependency
            _modules = False
        else:
            _modules = (pyarrow, pyarrow.compute)
    return _modules or None


class Flat(NamedTuple):
    """Normalised words of many chunks: chunk i has ``counts[i]`` words, ``vocab[occ[k]]`` each."""

    vocab: list
    occ: np.ndarray
    counts: np.ndarray


def flat_from_tuples(tuples: list) -> Flat:
    counts = np.fromiter(map(len, tuples), dtype=np.int64, count=len(tuples))
    words = list(itertools.chain.from_iterable(tuples))
    position: dict[str, int] = {}
    setdefault = position.setdefault
    occ = np.fromiter((setdefault(w, len(position)) for w in words), dtype=np.int64, count=len(words))
    return Flat(list(position), occ, counts)


def _strings(pa, texts: list[str]):
    """A large_string array of ``texts`` built from buffers: ``pa.array`` would import pandas
    (about half a second) to check whether its argument is a pandas object."""
    encoded = [t.encode("utf-8") for t in texts]         # UnicodeEncodeError on a lone surrogate
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)), out=offsets[1:])
    return pa.LargeStringArray.from_buffers(len(encoded), pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded)))


def _mask(pa, mask: np.ndarray):
    """A boolean arrow array from a numpy one (without pa.array, see _strings)."""
    bits = np.packbits(np.ascontiguousarray(mask, dtype=bool), bitorder="little")
    return pa.BooleanArray.from_buffers(pa.bool_(), len(mask), [None, pa.py_buffer(bits)])


def _ints(pa, values: np.ndarray):
    values = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Int64Array.from_buffers(pa.int64(), len(values), [None, pa.py_buffer(values)])


def _bools(array) -> np.ndarray:
    """A numpy bool array from an arrow one without nulls (BooleanArray.to_numpy would import pandas)."""
    bits = np.frombuffer(array.buffers()[1], dtype=np.uint8)
    return np.unpackbits(bits, bitorder="little", count=array.offset + len(array))[array.offset:].astype(bool)


def _numbers(array) -> np.ndarray:
    """A numpy view of an arrow signed-integer array without nulls (to_numpy would import pandas)."""
    values = np.frombuffer(array.buffers()[1], dtype=np.dtype(f"int{array.type.bit_width}"))
    return values[array.offset : array.offset + len(array)]


def python_normalise(chunks: list[str]) -> Flat:
    """The pure-Python normaliser, in :class:`Flat` form."""
    return flat_from_tuples(list(map(chunk_words, chunks)))


# --- splitting ------------------------------------------------------------------
# Characters that become a plain space before the split: the invisible ones and
# Python's whitespace beyond ASCII's " \t\n\v\f\r" (\x1c-\x1f, NEL, NBSP, U+2000.., U+3000 ...)
_TO_SPACE = INVISIBLE + "".join(
    chr(c) for c in range(0x3001) if chr(c).isspace() and chr(c) not in " \t\n\v\f\r")
_SEP = f" {SENTINEL} "
_SENT = SENTINEL.encode()


def _utf8_key(char: str) -> int:
    """The first three bytes of ``char`` in UTF-8 as one int (zero-padded), as :func:`_blank` reads them."""
    raw = (char.encode() + b"\0\0")[:3]
    return raw[0] << 16 | raw[1] << 8 | raw[2]


_MULTI_KEYS = np.array(sorted({_utf8_key(c) for c in _TO_SPACE if ord(c) >= 0x80}), dtype=np.int64)
_MULTI_LEADS = np.zeros(256, dtype=bool)
_MULTI_LEADS[sorted({c.encode()[0] for c in _TO_SPACE if ord(c) >= 0x80})] = True
_ASCII_TO_SPACE = [c.encode() for c in _TO_SPACE if ord(c) < 0x80]


def _blank(data: bytes) -> bytes:
    """The UTF-8 ``data`` with every character of _TO_SPACE overwritten by as many ASCII spaces as
    it has bytes, and line breaks in one form: a CR before an LF becomes a space, any other CR an LF.

    One pass over the bytes finds them; the buffer is only copied when there is something to change.
    """
    ascii_hits = [c for c in _ASCII_TO_SPACE if c in data]                 # memchr
    has_cr = b"\r" in data
    raw = np.frombuffer(data + b"\0\0", dtype=np.uint8)    # two bytes of padding past the end
    hits = []
    if not data.isascii():
        lead = np.flatnonzero(_MULTI_LEADS[raw[:-2]])
        if len(lead):
            keys = raw[lead].astype(np.int64) << 16 | raw[lead + 1].astype(np.int64) << 8 | raw[lead + 2]
            two = keys >> 16 < 0xE0                  # a two-byte character: the third byte is the next one's
            keys[two] &= ~0xFF
            found = np.isin(keys, _MULTI_KEYS)
            hits = [(lead[found & two], 2), (lead[found & ~two], 3)]
    if not (ascii_hits or has_cr or any(len(h) for h, _ in hits)):
        return data
    raw = raw.copy()
    for start, width in hits:
        for k in range(width):
            raw[start + k] = 0x20
    for c in ascii_hits:
        raw[raw == c[0]] = 0x20
    if has_cr:
        cr = np.flatnonzero(raw == 0x0D)
        crlf = raw[cr + 1] == 0x0A
        raw[cr[crlf]] = 0x20
        raw[cr[~crlf]] = 0x0A
    return raw[:-2].tobytes()


def split(texts: list[str]):
    """(distinct chunks, index of each chunk occurrence into them, post of each occurrence, the
    distinct chunks as an arrow array), or None.

    The same chunks as ``str.split()`` after line breaks become `` xxnl `` and
    invisible characters spaces. The posts are joined into one UTF-8 buffer
    with a sentinel chunk between them; one pass over its bytes finds the
    characters to blank out (:func:`_blank`), and the buffer is only copied
    when there are some.
    None when pyarrow is missing or cannot encode a post (e.g. a lone surrogate).
    """
    modules = arrow()
    if modules is None:
        return None
    pa, pc = modules
    try:
        data = (SENTINEL + " " + _SEP.join(texts)).encode("utf-8")      # the first chunk is the sentinel
        if data.count(_SENT) != len(texts):      # a post holds the sentinel itself: it is a space there
            data = (SENTINEL + " " + _SEP.join(t.replace(SENTINEL, " ") for t in texts)).encode("utf-8")
    except (UnicodeError, TypeError):
        return None
    data = _blank(data)
    if b"\n" in data:
        data = data.replace(b"\n", b" xxnl ")
    data = data.rstrip()                         # only ASCII whitespace is left: no empty chunk at the end
    try:
        array = pa.LargeStringArray.from_buffers(1, pa.py_buffer(np.array([0, len(data)], dtype=np.int64)),
                                                 pa.py_buffer(data))
        encoded = pc.dictionary_encode(pc.list_flatten(pc.ascii_split_whitespace(array)))
    except pa.ArrowException:                    # pragma: no cover - e.g. past arrow's size limits
        return None
    index = _numbers(encoded.indices).astype(np.int64)
    boundary = index == 0                        # the sentinel is the first distinct chunk
    doc = np.cumsum(boundary) - 1
    keep = ~boundary
    return encoded.dictionary.to_pylist(), index[keep], doc[keep], encoded.dictionary


# --- normalising ----------------------------------------------------------------
# printable ASCII without "&" (so repair() changes nothing), and the same without digits
_ASCII = r"^[\x21-\x25\x27-\x7e]+$"
_NO_DIGIT = r"^[\x21-\x25\x27-\x2f\x3a-\x7e]+$"
_URL_RE2 = (r"(?i)^(?:[(\[\"'<]*(?:https?://|www\.)\S+|[(\[\"'<]*(?:[a-z0-9-]+\.)+(?:" + _TLDS
            + r")(?:/\S*)?[)\].,!?\"'>]*)$")
_EMAIL_RE2 = "^(?:" + _EMAIL.pattern + ")$"
# text._PIECE on a chunk without digits: user, tag, word, other (price, pct, code and num need a digit)
_TOKEN = r"(@\w+(?:@[\w-]+(?:\.[\w-]+)+)?|#\w+|[A-Za-z]+(?:'[A-Za-z]+)*|.)"
_BODY_TOKEN = r"([A-Za-z]+|.)"
_REPEAT_RE2 = "|".join(c * 4 for c in "abcdefghijklmnopqrstuvwxyz")


def _tokens(pc, array, pattern: str):
    """(flat tokens, owner index of each token) of ``array`` split by the one-token ``pattern``."""
    lists = pc.ascii_split_whitespace(pc.replace_substring_regex(array, pattern, r"\1 "))
    owner = np.repeat(np.arange(len(array)), np.diff(_numbers(lists.offsets)))
    flat = pc.list_flatten(lists)
    nonempty = _numbers(pc.binary_length(flat)) > 0     # the split leaves "" at the edges
    return pc.filter(flat, _mask(arrow()[0], nonempty)), owner[nonempty]


def normalise(chunks: list[str]) -> Flat:
    """``[text.chunk_words(c) for c in chunks]``, vectorised where RE2 gives the same answer."""
    modules = arrow()
    if modules is None or not chunks:
        return python_normalise(chunks)
    pa, pc = modules
    try:
        array = _strings(pa, chunks)
    except (pa.ArrowException, UnicodeError, TypeError, OverflowError):
        return python_normalise(chunks)
    n = len(chunks)
    ascii_ok = _bools(pc.match_substring_regex(array, _ASCII))
    ascii_ok &= _numbers(pc.utf8_length(array)) <= 500     # MAX_TOKEN_CHARS
    url = ascii_ok & _bools(pc.match_substring_regex(array, _URL_RE2))
    email = ascii_ok & ~url & _bools(pc.match_substring_regex(array, _EMAIL_RE2))
    simple = ascii_ok & ~url & ~email & _bools(pc.match_substring_regex(array, _NO_DIGIT))
    rest = np.flatnonzero(~(url | email | simple))

    parts = [(np.flatnonzero(url), Flat(["xxurl"], np.zeros(int(url.sum()), dtype=np.int64),
                                        np.ones(int(url.sum()), dtype=np.int64))),
             (np.flatnonzero(email), Flat(["xxemail"], np.zeros(int(email.sum()), dtype=np.int64),
                                          np.ones(int(email.sum()), dtype=np.int64)))]
    where = np.flatnonzero(simple)
    if len(where):
        parts.append((where, _normalise_simple(pa, pc, pc.filter(array, _mask(pa, simple)))))
    if len(rest):
        parts.append((rest, python_normalise([chunks[i] for i in rest.tolist()])))
    return _merge(n, parts)


def _normalise_simple(pa, pc, array) -> Flat:
    """Printable-ASCII chunks with no digit, no ``&``, not a link or an e-mail address."""
    tokens, owner = _tokens(pc, array, _TOKEN)
    count = len(tokens)
    is_user = _bools(pc.match_substring_regex(tokens, "^@."))
    is_tag = _bools(pc.match_substring_regex(tokens, "^#."))
    tags = np.flatnonzero(is_tag)
    body, body_owner = _tokens(pc, pc.utf8_slice_codeunits(pc.filter(tokens, _mask(pa, is_tag)), 1), _BODY_TOKEN)
    body_owner = tags[body_owner]                        # token index of the tag each body token belongs to
    # items in output order: a tag becomes "xxtag" and its body's tokens; a user becomes "xxuser"
    n_items = np.ones(count, dtype=np.int64)
    n_items += np.bincount(body_owner, minlength=count)
    start = np.cumsum(n_items) - n_items
    XXTAG, XXUSER = count + len(body), count + len(body) + 1
    source = np.empty(int(n_items.sum()), dtype=np.int64)
    source[start] = np.arange(count)
    source[start[is_user]] = XXUSER
    source[start[tags]] = XXTAG
    if len(body):
        first_body = np.r_[0, np.cumsum(np.bincount(body_owner, minlength=count))][:-1]
        rank = np.arange(len(body)) - first_body[body_owner]
        source[start[body_owner] + 1 + rank] = count + np.arange(len(body))
    item_owner = np.repeat(owner, n_items)
    pool = pa.concat_arrays([tokens, body, _strings(pa, ["xxtag", "xxuser"])])
    items = pc.take(pool, _ints(pa, source))
    is_word = _bools(pc.match_substring_regex(items, "^[A-Za-z]"))
    caps = is_word & (_numbers(pc.utf8_length(items)) >= 3) \
        & ~_bools(pc.match_substring_regex(items, "[a-z]"))
    lowered = pc.ascii_lower(items)
    encoded = pc.dictionary_encode(lowered)
    code = _numbers(encoded.indices).astype(np.int64)
    vocab = encoded.dictionary.to_pylist()
    # runs of the same punctuation: a fourth one in a row (within a chunk) is dropped
    keep = np.ones(len(code), dtype=bool)
    if len(code) >= 4:
        same = (code[3:] == code[2:-1]) & (code[3:] == code[1:-2]) & (code[3:] == code[:-3]) \
            & (item_owner[3:] == item_owner[:-3]) & ~is_word[3:]
        keep[3:] = ~same
    code, caps, item_owner = code[keep], caps[keep], item_owner[keep]
    # "xxcaps" before every ALL-CAPS word of three or more characters
    n_out = 1 + caps
    out = np.repeat(code, n_out)
    out_start = np.cumsum(n_out) - n_out
    out[out_start[caps]] = len(vocab)
    vocab = [_REPEATS.sub(r"\1\1\1", w) if _REPEATS.search(w) else w for w in vocab] + ["xxcaps"]
    counts = np.bincount(np.repeat(item_owner, n_out), minlength=len(array))
    return Flat(vocab, out, counts)


def _merge(n: int, parts) -> Flat:
    """One :class:`Flat` for chunks 0..n-1 from parts that each cover the chunks ``where``."""
    counts = np.zeros(n, dtype=np.int64)
    for where, flat in parts:
        counts[where] = flat.counts
    starts = np.cumsum(counts) - counts
    occ = np.empty(int(counts.sum()), dtype=np.int64)
    vocab: list = []
    for where, flat in parts:
        if len(flat.occ):
            occ[_expand(starts[where], flat.counts)] = flat.occ + len(vocab)
        vocab += flat.vocab
    return Flat(vocab, occ, counts)


def _expand(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    shift = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return np.arange(total, dtype=np.int64) + shift
