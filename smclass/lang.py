"""Which language each post is written in (the model was trained on English posts only).

Uses pycld2 (Compact Language Detector 2: C++ with its tables compiled in, nothing is
fetched or unpacked at run time). It is imported on the first call, so ``import smclass``
and the start of ``smclass predict`` stay fast.

The rules, on a post's first ``MAX_CHARS`` characters once links, @handles, #hashtags and
the characters CLD2 refuses (controls, lone surrogates, non-characters) are removed:

- fewer than ``MIN_LETTERS`` letters: ``None`` (no guess);
- no letters or digits beyond ASCII and at least ``MIN_ENGLISH_WORDS`` English function
  words (``ENGLISH_WORDS``: words like "is", "to", "of", "a" that are also common in Dutch,
  Polish or Spanish are left out): ``en`` without asking CLD2, which is the costly part;
- otherwise CLD2. A language other than English counts only when CLD2 calls its answer
  reliable and that language covers at least ``MIN_PERCENT`` % of the text. Short English
  slang that CLD2 will not name reliably ("lol same") is asked again in CLD2's best-effort
  mode, whose answer counts only when it is English.

Codes become two-letter ISO 639-1 codes, or ``None`` where there is none (CLD2's ``un``,
``xx-Qaai``, ``haw``...). Big batches run the first two rules with pyarrow's string kernels
(:func:`detect`; one check in numpy); they give exactly the answers of :func:`detect_one`.
"""

from __future__ import annotations

import functools
import re

MIN_LETTERS = 3
MIN_PERCENT = 90       # the fixture's other-language posts score 96-98: a margin below, still most of the text
MAX_CHARS = 300        # characters of a post the detector reads: enough to tell, and its cost is per byte
MIN_ENGLISH_WORDS = 2
ENGLISH_WORDS = (
    "the and you your you're this that that's with have has had are were what what's when where which would "
    "could should from they they're their there them our about been it it's its how why who here i'm i've i'll "
    "don't can't won't didn't doesn't isn't let's we're every anyone everyone some any into than then because "
    "these those does did can").split()
ARROW_BATCH = 1024     # batches of at least this many posts run the first rules with pyarrow
OLD_CODES = {"iw": "he", "jw": "jv", "in": "id", "ji": "yi", "mo": "ro"}   # CLD2 keeps some withdrawn codes

# what CLD2 refuses as "invalid UTF-8": C0 and C1 controls but tab, line ends and form feed, lone
# surrogates, non-characters (U+FDD0-U+FDEF and the last two code points of every plane)
_PLANE_ENDS = [(plane << 16) | 0xFFFE for plane in range(17)]
REFUSED = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef"
                     + "".join(f"{chr(c)}-{chr(c + 1)}" for c in _PLANE_ENDS) + "]")
# REFUSED in two passes, which is several times faster: Python's re tests a class of BMP characters
# against a table, but checks ranges beyond the BMP one by one, for every character
_REFUSED_BMP = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
_REFUSED_ASTRAL = re.compile("[" + "".join(f"{chr(c)}-{chr(c + 1)}" for c in _PLANE_ENDS[1:]) + "]")
_FROM_FIRST_ASTRAL_REFUSED = re.compile("[\U0001fffe-\U0010ffff]")   # emoji are below: rarely any
NOISE = re.compile(r"https?://\S+|www\.\S+|[@#]\w+")      # links, @handles, #hashtags: no language in them
ENOUGH_LETTERS = re.compile(r"[^\W\d_](?:.*?[^\W\d_]){%d}" % (MIN_LETTERS - 1), re.S)
NON_ASCII_WORD = re.compile(r"[^\x00-\x7f\W]")              # a letter or digit beyond ASCII
_WORDS = r"\b(?:" + "|".join(w.replace("'", "['\u2019]") for w in ENGLISH_WORDS) + r")\b"
ENGLISH = re.compile(_WORDS)                               # on lower-cased text

# The same rules in RE2 (pyarrow), on the posts where RE2 and Python's re provably agree: no letter,
# digit or space beyond ASCII (RE2's \w, \s and \b are ASCII, Python's Unicode), no \v, no \x1c-\x1f
# (spaces to Python), nothing CLD2 refuses. Every other post goes through detect_one.
_ARROW_OTHERS = (r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x{9f}\x{fdd0}-\x{fdef}"
                 + "".join(f"\\x{{{c:x}}}-\\x{{{c + 1:x}}}" for c in _PLANE_ENDS)
                 + r"]|[^\x00-\x7f\P{L}]|[^\x00-\x7f\P{N}]|[^\x00-\x7f\P{Z}]")
_ARROW_NOISE = r"(?:https?://|www\.)[^\t\n\x0c\r ]+|[@#][A-Za-z0-9_]+"
_ARROW_LETTERS = r"(?s)[A-Za-z]" + r".*[A-Za-z]" * (MIN_LETTERS - 1)
_ARROW_ENGLISH = r"(?s)" + r".*".join([_WORDS] * MIN_ENGLISH_WORDS)   # that many matches, one after another

_cld2 = None
_other_chars = None    # per code point: 0 not asked yet, 1 _ARROW_OTHERS does not match it, 2 it does


def _detector():
    """pycld2, imported on first use."""
    global _cld2
    if _cld2 is None:
        import pycld2

        _cld2 = pycld2
    return _cld2


@functools.lru_cache(maxsize=None)
def iso_code(code: str) -> str | None:
    """CLD2's code as ISO 639-1 (``zh-Hant`` -> ``zh``, ``iw`` -> ``he``), or None: ``un``, ``xx-…``,
    three-letter codes (``haw``, ``ceb``) and CLD2's joke languages (``zzb``) have none."""
    base = code.split("-", 1)[0].lower()
    base = OLD_CODES.get(base, base)
    if len(base) != 2 or not base.isascii() or not base.isalpha() or base in ("un", "xx", "zz"):
        return None
    return base


def clean(text: str) -> str:
    """What the rules read: the first ``MAX_CHARS`` characters, without noise or refused characters."""
    head = text[:MAX_CHARS]
    if not (head.isascii() and head.isprintable()):
        head = _refused_to_spaces(head)
    return NOISE.sub(" ", head)


def _refused_to_spaces(text: str) -> str:
    """``REFUSED.sub(" ", text)``, faster."""
    text = _REFUSED_BMP.sub(" ", text)
    if _FROM_FIRST_ASTRAL_REFUSED.search(text):
        text = _REFUSED_ASTRAL.sub(" ", text)
    return text


def _obviously_english(cleaned: str) -> bool:
    return ((cleaned.isascii() or NON_ASCII_WORD.search(cleaned) is None)
            and len(ENGLISH.findall(cleaned.lower())) >= MIN_ENGLISH_WORDS)


def _cld2_top(cleaned: str, best_effort: bool = False) -> tuple[bool, str, int]:
    """(reliable, top code, its percent of the text); CLD2 refusing the text means no answer, not a crash."""
    cld2 = _detector()
    try:
        reliable, _, details = cld2.detect(cleaned, bestEffort=best_effort)
    except (cld2.error, ValueError):      # ValueError: UnicodeEncodeError, or a NUL byte
        return False, "un", 0
    return reliable, details[0][1], details[0][2]


def _ask_cld2(cleaned: str) -> str | None:
    reliable, code, percent = _cld2_top(cleaned)
    if not reliable or code == "un":      # too little for CLD2: English only if its best effort says so
        return "en" if _cld2_top(cleaned, best_effort=True)[1] == "en" else None
    code = iso_code(code)
    if code != "en" and percent < MIN_PERCENT:
        return None
    return code


def detect_one(text) -> str | None:
    """The ISO 639-1 code of ``text``'s language, or None when there is too little to tell."""
    if not isinstance(text, str):
        return None
    cleaned = clean(text)
    if ENOUGH_LETTERS.search(cleaned) is None:
        return None
    if _obviously_english(cleaned):
        return "en"
    return _ask_cld2(cleaned)


def detect(texts) -> list[str | None]:
    """One ISO 639-1 code (or None: too short, no letters, not sure) per text."""
    texts = list(texts)
    if len(texts) >= ARROW_BATCH:
        codes = _detect_arrow(texts)
        if codes is not None:
            return codes
    return [detect_one(text) for text in texts]


def _detect_arrow(texts: list) -> list[str | None] | None:
    """:func:`detect` with the first rules run by pyarrow's string kernels; None without pyarrow."""
    import numpy as np

    from . import arrowcols
    from .fast import _bools, arrow

    modules = arrow()
    if modules is None:                   # pragma: no cover - pyarrow is a dependency
        return None
    pa, pc = modules
    heads, is_text = _heads(texts)
    encoded = is_text.copy()
    try:
        array = arrowcols.large_strings(pa, heads)
    except UnicodeEncodeError:            # a lone surrogate: that post goes through detect_one
        for i, head in enumerate(heads):
            if not _encodes(head):
                heads[i], encoded[i] = "", False
        array = arrowcols.large_strings(pa, heads)
    simple = encoded & ~_others(pa, pc, array)
    cleaned = pc.replace_substring_regex(array, _ARROW_NOISE, " ")
    english = simple & _bools(pc.match_substring_regex(pc.ascii_lower(cleaned), _ARROW_ENGLISH))
    codes = np.full(len(texts), None, dtype=object)
    codes[english] = "en"
    # the letters rule only matters where the English one did not answer (and two English words hold
    # more than MIN_LETTERS letters anyway)
    rest = np.flatnonzero(simple & ~english)
    if len(rest):
        rest_cleaned = pc.take(cleaned, arrowcols.ints(pa, rest))
        letters = np.flatnonzero(_bools(pc.match_substring_regex(rest_cleaned, _ARROW_LETTERS)))
        if len(letters):
            asked = pc.take(rest_cleaned, arrowcols.ints(pa, letters)).to_pylist()
            codes[rest[letters]] = [_ask_cld2(text) for text in asked]
    others = np.flatnonzero(is_text & ~simple)
    if len(others):
        codes[others] = [detect_one(texts[i]) for i in others.tolist()]
    return codes.tolist()


def _others(pa, pc, array):
    """Which strings of ``array`` (UTF-8, no nulls) hold a character ``_ARROW_OTHERS`` matches.

    Exactly ``match_substring_regex(array, _ARROW_OTHERS)``, which costs RE2 a compile of its
    Unicode classes on every batch: the pattern is a set of single characters, so the ASCII ones
    are compared byte by byte, and the others are decoded from the UTF-8 bytes and looked up in a
    table of RE2's answers per code point, asked once per process for the code points not seen yet.
    """
    import numpy as np

    from . import arrowcols
    from .fast import _bools, _layout, code_points

    global _other_chars
    found = np.zeros(len(array), dtype=bool)
    offsets, data = _layout(array)
    if not len(data):
        return found
    hits = np.flatnonzero((data < 0x20) | (data == 0x7F))     # ASCII: controls but tab, \n, form feed, \r
    control = data[hits]
    hits = hits[(control != 0x09) & (control != 0x0A) & (control != 0x0C) & (control != 0x0D)]
    starts, code = code_points(data)                           # each non-ASCII character: start, code point
    if len(starts):
        if _other_chars is None:
            _other_chars = np.zeros(0x110000, dtype=np.uint8)
        state = _other_chars[code]
        if not state.all():
            new = np.unique(code[state == 0])
            chars = arrowcols.large_strings(pa, [chr(c) for c in new.tolist()])
            _other_chars[new] = 1 + _bools(pc.match_substring_regex(chars, _ARROW_OTHERS))
            state = _other_chars[code]
        hits = np.concatenate([hits, starts[state == 2]])
    found[np.searchsorted(offsets, hits, side="right") - 1] = True   # the string holding each hit
    return found


def _heads(texts: list):
    """(each text's first MAX_CHARS characters, "" for a non-str item; which items are str)."""
    import numpy as np

    if set(map(type, texts)) == {str}:    # the usual batch: slice only the long posts
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        long = np.flatnonzero(lengths > MAX_CHARS).tolist()
        heads = list(texts)
        for i in long:
            heads[i] = heads[i][:MAX_CHARS]
        return heads, np.ones(len(texts), dtype=bool)
    heads = [t[:MAX_CHARS] if isinstance(t, str) else "" for t in texts]
    return heads, np.fromiter((isinstance(t, str) for t in texts), dtype=bool, count=len(texts))


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def not_english_note(code: str) -> str:
    return f"not English ({code}): the model was trained on English posts"
