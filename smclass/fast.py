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
  passes (lower case, a curled apostrophe made straight, ``xxuser``, ``xxtag``,
  runs of the same punctuation). On that subset RE2 and Python's ``re`` agree
  exactly (same ``\\w``, same case mapping, no look-ahead needed). Every other
  chunk (non-ASCII letters, digits, entities or mojibake to repair) goes to the
  Python normaliser, so the words are always exactly those of ``text.words``.

pyarrow is imported on first use only (it takes about half a second), so
processes that score one post at a time never pay for it. Without pyarrow, or
for input it cannot encode (lone surrogates), callers fall back to the
pure-Python path.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import numpy as np

from . import arrowcols
from .text import _EMAIL, _REPEATS, INVISIBLE, URL_PATTERN, chunk_words

SENTINEL = "\ue000"
_modules = None


def arrow():
    """(pyarrow, the few compute kernels used here), or None when pyarrow is not installed."""
    global _modules
    if _modules is None:
        try:
            import pyarrow
            import pyarrow._compute
        except ImportError:          # pragma: no cover - pyarrow is a dependency
            _modules = False
        else:
            _modules = (pyarrow, _Compute(pyarrow._compute))
    return _modules or None


class _Compute:
    """The pyarrow.compute kernels this module uses, called through ``pyarrow._compute``:
    importing ``pyarrow.compute`` builds a Python wrapper for every one of its ~300 kernels,
    which costs a fresh process about 0.08 s on the first big batch."""

    def __init__(self, compute):
        self._c = compute
        self._call = compute.call_function

    def replace_substring_regex(self, array, pattern: str, replacement: str):
        return self._call("replace_substring_regex", [array], self._c.ReplaceSubstringOptions(pattern, replacement))

    def match_substring_regex(self, array, pattern: str):
        return self._call("match_substring_regex", [array], self._c.MatchSubstringOptions(pattern))

    def ascii_split_whitespace(self, array):
        return self._call("ascii_split_whitespace", [array], self._c.SplitOptions())

    def list_flatten(self, array):
        return self._call("list_flatten", [array], self._c.ListFlattenOptions())

    def dictionary_encode(self, array):
        return self._call("dictionary_encode", [array], self._c.DictionaryEncodeOptions())

    def filter(self, array, mask):
        return self._call("filter", [array, mask], self._c.FilterOptions())

    def take(self, array, indices):
        return self._call("take", [array, indices], self._c.TakeOptions())

    def utf8_slice_codeunits(self, array, start: int):
        return self._call("utf8_slice_codeunits", [array], self._c.SliceOptions(start))

    def replace_substring(self, array, pattern: str, replacement: str):
        return self._call("replace_substring", [array], self._c.ReplaceSubstringOptions(pattern, replacement))

    def ascii_lower(self, array):
        return self._call("ascii_lower", [array])

    def binary_length(self, array):
        return self._call("binary_length", [array])


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


def take(array, positions: np.ndarray):
    """The strings of an arrow ``array`` at ``positions`` (a numpy integer array)."""
    pa, pc = arrow()
    return pc.take(array, arrowcols.ints(pa, positions))


def _bools(array) -> np.ndarray:
    """A numpy bool array from an arrow one without nulls (BooleanArray.to_numpy would import pandas)."""
    bits = np.frombuffer(array.buffers()[1], dtype=np.uint8)
    return np.unpackbits(bits, bitorder="little", count=array.offset + len(array))[array.offset:].astype(bool)


def _numbers(array) -> np.ndarray:
    """A numpy view of an arrow signed-integer array without nulls (to_numpy would import pandas)."""
    values = np.frombuffer(array.buffers()[1], dtype=np.dtype(f"int{array.type.bit_width}"))
    return values[array.offset : array.offset + len(array)]


def python_normalise(chunks: list[str], array=None) -> Flat:
    """The pure-Python normaliser, in :class:`Flat` form (``array`` is not needed)."""
    return flat_from_tuples(list(map(chunk_words, chunks)))


# --- splitting ------------------------------------------------------------------
# Characters that become a plain space before the split: the invisible ones and
# Python's whitespace beyond ASCII's " \t\n\v\f\r" (\x1c-\x1f, NEL, NBSP, U+2000.., U+3000 ...)
_TO_SPACE = INVISIBLE + "".join(
    chr(c) for c in range(0x3001) if chr(c).isspace() and chr(c) not in " \t\n\v\f\r")
_SEP = f" {SENTINEL} "
_SEP_UTF8 = _SEP.encode()
_SENT = SENTINEL.encode()
JOIN_GROUP = 256                # posts joined as one str at a time (see _joined_utf8)


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


def _joined_utf8(texts: list[str]) -> bytes:
    """``(SENTINEL + " " + _SEP.join(texts)).encode("utf-8")``, joined and encoded JOIN_GROUP posts at
    a time: one emoji makes a joined str of a whole batch four bytes a character, tens of MB of
    fresh memory that a new process pays for in page faults (about 40 MB and 10,000 faults for
    51,600 real posts, against 11 MB this way); the bytes are the same."""
    parts = [_SEP.join(texts[i : i + JOIN_GROUP]).encode("utf-8") for i in range(0, len(texts), JOIN_GROUP)]
    return _SENT + b" " + _SEP_UTF8.join(parts)


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
        data = _joined_utf8(texts)               # the first chunk is the sentinel
        if data.count(_SENT) != len(texts):      # a post holds the sentinel itself: it is a space there
            data = _joined_utf8([t.replace(SENTINEL, " ") for t in texts])
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
# A chunk goes the RE2 way when it is printable ASCII without "&", apart from symbols (see _symbols),
# so that repair() changes nothing and RE2's \w, \b and case mapping are Python's, and when it holds
# no short code-like run (see _SHORT_CODE).
_URL_RE2 = "(?i)^(?:" + URL_PATTERN + ")$"
_EMAIL_RE2 = "^(?:" + _EMAIL.pattern + ")$"
# text._PIECE on printable ASCII: user, tag, price, pct, code, num, word, other. Python's code is
# \b(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{4,}\b: a whole run of capitals and digits holding both,
# of four or more. RE2 has no look-ahead, so _CODE takes such runs of any length from two, and
# chunks with a run of two or three (where Python's code fails and num or word match instead)
# are left to Python: _SHORT_CODE finds them.
_CODE = r"\b(?:[0-9][A-Z0-9]*[A-Z]|[A-Z][A-Z0-9]*[0-9])[A-Z0-9]*\b"
_SHORT_CODE = (r"\b(?:[0-9][A-Z]|[A-Z][0-9]|[A-Z0-9][0-9][A-Z]|[A-Z0-9][A-Z][0-9]|[0-9][A-Z][A-Z0-9]"
               r"|[A-Z][0-9][A-Z0-9])\b")
_TOKEN = (r"@\w+(?:@[\w-]+(?:\.[\w-]+)+)?|#\w+|\$\d+(?:[.,]\d+)*[kKmM]?\b|\d+(?:[.,]\d+)*\$"
          r"|\d+(?:[.,]\d+)?%|" + _CODE + r"|\d+(?:[.,:/]\d+)*|[A-Za-z]+(?:['" + "\u2019" + r"][A-Za-z]+)*|.")
# the same on the body of a tag (\w+: no price, pct, or apostrophe)
_BODY_TOKEN = _CODE + r"|\d+|[A-Za-z]+|."

# byte classes, OR-ed over each string by _classes
_BAD, _DIGIT, _UPPER, _LOWER, _AT, _DOT, _HIGH, _MARK = 1, 2, 4, 8, 16, 32, 64, 128
_CLASS = np.zeros(256, dtype=np.uint8)
_CLASS[:0x21] = _BAD
_CLASS[0x7F] = _BAD
_CLASS[0x80:] = _HIGH
_CLASS[ord("&")] = _BAD
_CLASS[ord("0") : ord("9") + 1] = _DIGIT
_CLASS[ord("A") : ord("Z") + 1] = _UPPER
_CLASS[ord("a") : ord("z") + 1] = _LOWER
_CLASS[ord("@")] = _AT
_CLASS[[ord("#"), ord("$"), ord("'")]] = _MARK      # tags, prices, apostrophes inside words
_NOT_PLAIN = _DIGIT | _HIGH | _AT | _MARK           # chunks without these are letter runs and punctuation
_CLASS[[ord("."), ord(":")]] = _DOT


def _layout(array):
    """(offsets from the first string's start, the bytes) of a string or large_string array without nulls."""
    width = 64 if array.type.id == arrow()[0].large_string().id else 32
    offsets = np.frombuffer(array.buffers()[1], dtype=np.dtype(f"int{width}"))
    offsets = offsets[array.offset : array.offset + len(array) + 1].astype(np.int64)
    data = array.buffers()[2]
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
    return offsets - offsets[0], raw[offsets[0] : offsets[-1]]


def _classes(array):
    """(OR of the byte classes, byte length, first byte, last byte) of every string of ``array``."""
    offsets, raw = _layout(array)
    length = np.diff(offsets)
    padded = np.append(raw, np.zeros(1, dtype=np.uint8))
    starts = offsets[:-1]
    flags = np.bitwise_or.reduceat(_CLASS[padded], starts) if len(starts) else np.zeros(0, dtype=np.uint8)
    flags[length == 0] = _BAD
    first = padded[starts]
    last = padded[np.maximum(offsets[1:] - 1, 0)]
    return flags, length, first, last


def _with_repeats(array) -> np.ndarray:
    """Indices of the strings of ``array`` holding a byte four times in a row: for words of ASCII letters
    (and U+2019) the same as a character four times in a row (text._REPEATS)."""
    offsets, raw = _layout(array)
    if len(raw) < 4:
        return np.zeros(0, dtype=np.int64)
    same = raw[1:] == raw[:-1]
    run = np.flatnonzero(same[:-2] & same[1:-1] & same[2:])      # raw[i] .. raw[i+3] are equal
    owner = np.searchsorted(offsets, run, "right") - 1
    return np.unique(owner[run + 3 < offsets[owner + 1]])


# Non-ASCII characters a chunk may hold and still go the RE2 way: symbols and punctuation that are
# not \w (so RE2's ASCII \w and \b agree with Python's), not space, none of U+0080-U+00FF (so
# repair() finds no mojibake: its lead characters are all in that block), no currency sign of
# text._PIECE. Each is one "other" piece, except the apostrophe U+2019 inside a word. Emoji,
# arrows, dingbats, typographic quotes, dashes and the ellipsis.
_SYMBOL_RANGES = ((0x2010, 0x205E), (0x2190, 0x2BFF), (0xFE00, 0xFE0F), (0x1F000, 0x1FAFF))
_symbol_table = None


def _symbols() -> np.ndarray:
    """A bool per code point below U+20000: may this character be in a chunk that goes the RE2 way?"""
    global _symbol_table
    if _symbol_table is None:
        import re

        word = re.compile(r"\w")
        table = np.zeros(0x20000, dtype=bool)
        for low, high in _SYMBOL_RANGES:
            for point in range(low, high + 1):
                char = chr(point)
                table[point] = not (word.match(char) or char.isspace() or char in "$\u00a3\u20ac\u00a5\u20b9")
        _symbol_table = table
    return _symbol_table


def code_points(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(where each non-ASCII character of the UTF-8 bytes ``raw`` starts, its code point)."""
    lead = np.flatnonzero(raw >= 0xC0)
    padded = np.append(raw, np.zeros(3, dtype=np.uint8))
    b0 = padded[lead].astype(np.int64)
    b1, b2, b3 = ((padded[lead + k] & 0x3F).astype(np.int64) for k in (1, 2, 3))
    point = np.where(b0 < 0xE0, (b0 & 0x1F) << 6 | b1,
                     np.where(b0 < 0xF0, (b0 & 0x0F) << 12 | b1 << 6 | b2, (b0 & 0x07) << 18 | b1 << 12 | b2 << 6 | b3))
    return lead, point


def _foreign(offsets: np.ndarray, raw: np.ndarray, count: int) -> np.ndarray:
    """Which of ``count`` strings (UTF-8 ``raw`` cut at ``offsets``) hold a non-ASCII character
    that is not one of _symbols()."""
    lead, point = code_points(raw)
    table = _symbols()
    bad = np.ones(len(point), dtype=bool)
    inside = point < len(table)
    bad[inside] = ~table[point[inside]]
    out = np.zeros(count, dtype=bool)
    out[np.searchsorted(offsets, lead[bad], "right") - 1] = True
    return out


def _plain_tokens(pa, array):
    """(flat tokens, owner index of each token) of non-empty chunks of ASCII letters and punctuation
    other than ``@#$'``: there _TOKEN matches runs of letters (words) and single other characters,
    so numpy cuts them where a letter does not follow a letter, with no regex."""
    offsets, raw = _layout(array)
    letter = _CLASS[raw] & (_UPPER | _LOWER) > 0
    start = np.ones(len(raw), dtype=bool)
    start[1:] = ~(letter[1:] & letter[:-1])
    start[offsets[:-1]] = True
    starts = np.flatnonzero(start)
    token_offsets = np.append(starts, len(raw)).astype(np.int64)
    tokens = pa.LargeStringArray.from_buffers(len(starts), pa.py_buffer(token_offsets),
                                              pa.py_buffer(np.ascontiguousarray(raw)))
    return tokens, np.searchsorted(offsets, starts, "right") - 1


def _tokens(pc, array, pattern: str):
    """(flat tokens, owner index of each token) of ``array`` split by the one-token ``pattern``
    (a space after every match: with no capture group RE2 finds the matches with its fast DFA)."""
    lists = pc.ascii_split_whitespace(pc.replace_substring_regex(array, pattern, r"\0 "))
    owner = np.repeat(np.arange(len(array)), np.diff(_numbers(lists.offsets)))
    flat = pc.list_flatten(lists)
    nonempty = _numbers(pc.binary_length(flat)) > 0     # the split leaves "" at the edges
    return pc.filter(flat, arrowcols.mask(arrow()[0], nonempty)), owner[nonempty]


def normalise(chunks: list[str], array=None) -> Flat:
    """``[text.chunk_words(c) for c in chunks]``, vectorised where RE2 gives the same answer.

    ``array``: the same chunks as an arrow string array, when the caller has one (saves encoding them).
    """
    modules = arrow()
    if modules is None or not chunks:
        return python_normalise(chunks)
    pa, pc = modules
    if array is None:
        try:
            array = arrowcols.large_strings(pa, chunks)
        except (pa.ArrowException, UnicodeError, TypeError, OverflowError):
            return python_normalise(chunks)
    n = len(chunks)
    flags, length, _, _ = _classes(array)
    ascii_ok = (flags & _BAD == 0) & (length <= 500)       # MAX_TOKEN_CHARS (bytes: at least the characters)
    high = np.flatnonzero(ascii_ok & (flags & _HIGH > 0))
    if len(high):
        ascii_ok[high[_foreign(*_layout(take(array, high)), len(high))]] = False
    url = _matches(pa, pc, array, ascii_ok & (flags & _DOT > 0), _URL_RE2)
    email = _matches(pa, pc, array, ascii_ok & ~url & (flags & _AT > 0), _EMAIL_RE2)
    simple = ascii_ok & ~url & ~email
    simple &= ~_matches(pa, pc, array, simple & (flags & _DIGIT > 0) & (flags & _UPPER > 0), _SHORT_CODE)
    rest = np.flatnonzero(~(url | email | simple))

    parts = [(np.flatnonzero(url), Flat(["xxurl"], np.zeros(int(url.sum()), dtype=np.int64),
                                        np.ones(int(url.sum()), dtype=np.int64))),
             (np.flatnonzero(email), Flat(["xxemail"], np.zeros(int(email.sum()), dtype=np.int64),
                                          np.ones(int(email.sum()), dtype=np.int64)))]
    plain = simple & (flags & _NOT_PLAIN == 0)
    for group, is_plain in ((plain, True), (simple & ~plain, False)):
        where = np.flatnonzero(group)
        if len(where):
            parts.append((where, _normalise_ascii(pa, pc, pc.filter(array, arrowcols.mask(pa, group)), is_plain)))
    if len(rest):
        parts.append((rest, python_normalise([chunks[i] for i in rest.tolist()])))
    return _merge(n, parts)


def _matches(pa, pc, array, candidates: np.ndarray, pattern: str) -> np.ndarray:
    """Which strings of ``array`` match ``pattern``, asking RE2 about the ``candidates`` only."""
    out = np.zeros(len(array), dtype=bool)
    where = np.flatnonzero(candidates)
    if len(where):
        out[where] = _bools(pc.match_substring_regex(pc.filter(array, arrowcols.mask(pa, candidates)), pattern))
    return out


# token kinds: the constant word each becomes (None: the token itself, lower-cased)
_KINDS = ("word", "other", "user", "tag", "price", "pct", "code", "num")
_WORD, _OTHER, _USER, _TAG, _PRICE, _PCT, _CODE_KIND, _NUM = range(len(_KINDS))


def _kinds(tokens) -> np.ndarray:
    """The kind of every token cut by _TOKEN or _BODY_TOKEN."""
    flags, length, first, last = _classes(tokens)
    first_digit = (first >= 0x30) & (first <= 0x39)
    first_letter = _CLASS[first] & (_UPPER | _LOWER) > 0
    kind = np.full(len(tokens), _OTHER, dtype=np.int8)
    long = length >= 2
    kind[first_letter] = _WORD
    kind[first_digit] = _NUM
    kind[first_digit & (flags & _UPPER > 0)] = _CODE_KIND           # digits then capitals
    kind[first_letter & (flags & _DIGIT > 0)] = _CODE_KIND          # capitals then digits
    kind[first_digit & (last == ord("%"))] = _PCT
    kind[(first_digit & (last == ord("$"))) | ((first == ord("$")) & long)] = _PRICE
    kind[(first == ord("@")) & long] = _USER
    kind[(first == ord("#")) & long] = _TAG
    return kind


_CONSTANT = {_USER: "xxuser", _TAG: "xxtag", _PRICE: "xxprice", _PCT: "xxpct", _CODE_KIND: "xxcode", _NUM: "xxnum"}


def _pool_index(own: np.ndarray, kinds: np.ndarray, constants: list, constant_at: int) -> np.ndarray:
    """Each item's index in the token pool: its own, or that of its constant word (xxuser, xxtag...)."""
    kinds = kinds.astype(np.int64)
    is_constant = np.isin(kinds, constants)
    own[is_constant] = constant_at + np.searchsorted(constants, kinds[is_constant])
    return own


def _normalise_ascii(pa, pc, array, plain: bool = False) -> Flat:
    """Printable-ASCII chunks (and symbols) without ``&`` or short code-like runs, not a link or an
    e-mail address. ``plain``: they hold only letters and punctuation other than ``@#$'`` (see
    :func:`_plain_tokens`)."""
    tokens, owner = _plain_tokens(pa, array) if plain else _tokens(pc, array, _TOKEN)
    count = len(tokens)
    kind = _kinds(tokens)
    tags = np.flatnonzero(kind == _TAG)
    if len(tags):
        body, body_owner = _tokens(pc, pc.utf8_slice_codeunits(pc.filter(tokens, arrowcols.mask(pa, kind == _TAG)), 1),
                                   _BODY_TOKEN)
    else:
        body, body_owner = arrowcols.large_strings(pa, []), np.zeros(0, dtype=np.int64)
    body_kind = _kinds(body)
    body_owner = tags[body_owner]                        # token index of the tag each body token belongs to
    # items in output order: a tag becomes "xxtag" and its body's items; other kinds one item each
    n_items = np.ones(count, dtype=np.int64)
    n_items += np.bincount(body_owner, minlength=count)
    start = np.cumsum(n_items) - n_items
    total = int(n_items.sum())
    constant_at = count + len(body)                      # pool index of the first constant word
    constants = list(_CONSTANT)
    source = np.empty(total, dtype=np.int64)
    item_kind = np.empty(total, dtype=np.int8)
    source[start] = _pool_index(np.arange(count), kind, constants, constant_at)
    item_kind[start] = kind
    if len(body):
        first_body = np.r_[0, np.cumsum(np.bincount(body_owner, minlength=count))][:-1]
        rank = np.arange(len(body)) - first_body[body_owner]
        at = start[body_owner] + 1 + rank
        source[at] = _pool_index(count + np.arange(len(body)), body_kind, constants, constant_at)
        item_kind[at] = body_kind
    item_owner = np.repeat(owner, n_items)
    pool = pa.concat_arrays([tokens, body, arrowcols.large_strings(pa, [_CONSTANT[k] for k in constants])])
    pool = pc.replace_substring(pool, "\u2019", "'")     # a curled apostrophe is the straight one (text._pieces)
    lowered = pc.ascii_lower(pc.take(pool, arrowcols.ints(pa, source)))
    encoded = pc.dictionary_encode(lowered)
    code = _numbers(encoded.indices).astype(np.int64)
    vocab = encoded.dictionary.to_pylist()
    for k in _with_repeats(encoded.dictionary).tolist():   # "sooooo" -> "sooo"
        vocab[k] = _REPEATS.sub(r"\1\1\1", vocab[k])
    # runs of the same punctuation: a fourth one in a row (within a chunk) is dropped
    keep = np.ones(len(code), dtype=bool)
    if len(code) >= 4:
        same = (code[3:] == code[2:-1]) & (code[3:] == code[1:-2]) & (code[3:] == code[:-3]) \
            & (item_owner[3:] == item_owner[:-3]) & (item_kind[3:] == _OTHER)
        keep[3:] = ~same
    code, item_owner = code[keep], item_owner[keep]
    counts = np.bincount(item_owner, minlength=len(array))
    return Flat(vocab, code, counts)


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
            occ[expand(starts[where], flat.counts)] = flat.occ + len(vocab)
        vocab += flat.vocab
    return Flat(vocab, occ, counts)


def expand(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Indices ``starts[i] .. starts[i]+lengths[i]`` for every i, concatenated."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    shift = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths).astype(np.int64, copy=False)
    shift += np.arange(total, dtype=np.int64)
    return shift
