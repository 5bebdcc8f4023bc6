"""Social-aware text normalisation: one canonical form for URLs, @mentions, prices...

Real posts spell the same signal a hundred ways (``$49.99``, ``£12``; ``bit.ly/x``,
``https://...``). The model should see one token for each. Exports also carry
HTML entities and mojibake (UTF-8 read as cp1252 or latin-1); both are repaired.

Normalisation works on whitespace-separated chunks, so the result of each
distinct chunk can be cached: that is what makes batch featurisation fast.

>>> normalise("Flash SALE!!!! 40% off, now $19.99 👉 https://shop.example.com/x #deals")
'flash sale ! ! ! xxpct off , now xxprice 👉 xxurl xxtag deals'
>>> normalise("@ana congrats on the new job!! Sooooo happy for you")
'xxuser congrats on the new job ! ! sooo happy for you'
>>> normalise("Itâ€™s our 10th birthday &amp; we're celebrating")
"it's our xxnum th birthday & we're celebrating"
>>> normalise("Use code SPRING20 at checkout\\nEnds Sunday")
'use code xxcode at checkout xxnl ends sunday'
>>> normalise("Caf\\u00c3\\u00a9 &amp;amp; BAR")
'café & bar'
"""

from __future__ import annotations

import functools
import html
import re

# --- mojibake: UTF-8 bytes that were decoded as cp1252 or latin-1 -------------
_BYTE_OF: dict[str, int] = {}
for _b in range(0x80, 0x100):
    _BYTE_OF[chr(_b)] = _b
    try:
        _BYTE_OF.setdefault(bytes([_b]).decode("cp1252"), _b)
    except UnicodeDecodeError:
        pass
_CONT = "[" + re.escape("".join(sorted(c for c, b in _BYTE_OF.items() if b <= 0xBF))) + "]"
_MOJIBAKE = re.compile(
    "[\u00c2-\u00df]" + _CONT + "|[\u00e0-\u00ef]" + _CONT + "{2}|[\u00f0-\u00f4]" + _CONT + "{3}"
)
_SUSPECT = re.compile("[&\u0080-\u00ff" + re.escape("".join(c for c in _BYTE_OF if ord(c) > 0xFF)) + "]")


def _repair_match(match: re.Match) -> str:
    raw = match.group(0)
    try:
        return bytes(_BYTE_OF[c] for c in raw).decode("utf-8")
    except UnicodeDecodeError:
        return raw


# "&amp;amp;amp;..." (an ampersand escaped again and again) unescapes one level per
# pass; collapsing the chain first keeps repair linear in the length of the text.
_AMP_CHAIN = re.compile(r"&(?:amp;?|AMP;?|#0*38;?|#[xX]0*26;?)+")
_MAX_PASSES = 8           # nested escaping past this is hostile input, not an export quirk


def repair(text: str) -> str:
    """Undo HTML escaping and mojibake until nothing more changes.

    Linear in the length of ``text``: chains of escaped ampersands collapse in
    one pass, and at most a few unescaping passes run after that.

    >>> repair("Donâ€™t miss it &amp; tell a friend ðŸ˜€")
    'Don’t miss it & tell a friend 😀'
    """
    if "&" in text:
        text = _AMP_CHAIN.sub("&", text)
    for _ in range(_MAX_PASSES):
        if not _SUSPECT.search(text):
            break
        new = _MOJIBAKE.sub(_repair_match, html.unescape(text))
        if new == text:
            break
        text = new
    return text


# --- chunk patterns -----------------------------------------------------------
# A bare domain is a link when its top-level domain is a common one; followed by a path, any
# alphabetic one will do: short links and media (youtu.be/…, instagr.am/p/…, goo.gl/…, flic.kr/p/…)
# and the many new top-level domains (.events, .health, .studio) are links too.
_TLDS = ("com|co|io|ly|net|org|gg|me|app|shop|store|link|to|uk|us|in|ai|tv|fm|social|dev|news|info|biz|eu|ca"
         "|au|de|fr|it|es|nl|example|top|xyz|online|site|gov|edu")
URL_PATTERN = (r"[(\[\"'<]*(?:https?://|www\.)\S+"
               r"|[(\[\"'<]*(?:[a-z0-9-]+\.)+(?:(?:" + _TLDS + r")(?:/\S*)?|[a-z]{2,}/\S*)[)\].,!?\"'>]*")
_URL = re.compile("(?i)" + URL_PATTERN)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+[.,!?)]*")
_PIECE = re.compile(
    r"(?P<user>@\w+(?:@[\w-]+(?:\.[\w-]+)+)?)"
    r"|#(?P<tag>\w+)"
    r"|(?P<price>[$£€¥₹]\d+(?:[.,]\d+)*[kKmM]?\b|\d+(?:[.,]\d+)*[$€£])"
    r"|(?P<pct>\d+(?:[.,]\d+)?%)"
    r"|(?P<code>\b(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{4,}\b)"
    r"|(?P<num>\d+(?:[.,:/]\d+)*)"
    r"|(?P<word>[^\W\d_]+(?:['’][^\W\d_]+)*)"
    r"|(?P<other>\S)"
)
_REPEATS = re.compile(r"(.)\1{3,}")


_WORDLIKE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


def _word(word: str) -> list[str]:
    """One word, lower-cased.

    Capitals are how a keyboard or a mood typed the word, not what the post does: an ALL-CAPS word
    once added an ``xxcaps`` word, and it moved the label of posts no reader would judge differently.
    """
    lowered = word.lower()
    if lowered != word and not lowered.isascii() and repair(lowered) != lowered:
        # lower-casing made mojibake ('À²¹' -> 'à²¹', the UTF-8 bytes of 'ಹ'): repair it now,
        # as normalising the output again would
        pieces = list(chunk_words(lowered))
    elif _WORDLIKE.fullmatch(lowered):
        pieces = [_REPEATS.sub(r"\1\1\1", lowered) if _REPEATS.search(lowered) else lowered]
    else:  # lower-casing made a combining mark or a digit (e.g. 'İ' -> 'i̇'): split again
        pieces = list(chunk_words(lowered))
    return pieces


MAX_POST_CHARS = 20_000    # characters of one post that are normalised and scored
MAX_TOKEN_CHARS = 500      # characters of one whitespace-free chunk (a "token") that are normalised

# Invisible characters that separate nothing a reader sees: treated as spaces,
# so a post made only of them (or a lone byte-order mark) is empty. The emoji and
# text variation selectors (U+FE0F, U+FE0E) are among them: phones add U+FE0F to
# some emoji and not to others, and as a word of its own it taught the model a cue
# no reader sees ("love this ❤️" broadcast, "love this ❤" conversational).
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u180e\ufe0f\ufe0e"


def clean_invisible(text: str) -> str:
    """``text`` with zero-width characters and byte-order marks turned into spaces."""
    if text.isascii():                   # one C pass; most posts are ASCII and hold none of them
        return text
    for c in INVISIBLE:
        if c in text:
            text = text.replace(c, " ")
    return text


def chunk_words(chunk: str) -> tuple[str, ...]:
    """Normalised words of one whitespace-free chunk (its first MAX_TOKEN_CHARS characters)."""
    return _chunk_words(chunk[:MAX_TOKEN_CHARS] if len(chunk) > MAX_TOKEN_CHARS else chunk)


_END_MARKS = frozenset(".,!?:;")


@functools.lru_cache(maxsize=1 << 15)
def _chunk_words(chunk: str) -> tuple[str, ...]:
    """Normalised words of one whitespace-free chunk (cached: chunks repeat a lot)."""
    if chunk.isascii():
        # About half the chunks a post has never seen before are a plain ASCII word, with or without
        # one closing mark: no link, e-mail, entity, digit or mojibake can be in them, so the answer
        # is the one the regexes below would give, at a fraction of the cost (a post seen for the
        # first time spends much of its time here).
        if chunk.isalpha():
            return tuple(_word(chunk))
        if chunk[-1] in _END_MARKS and chunk[:-1].isalpha():
            return (*_word(chunk[:-1]), chunk[-1])
    return _pieces(chunk)


def _pieces(chunk: str) -> tuple[str, ...]:
    """Normalised words of one chunk by the general rules: repair, links, e-mail, then piece by piece."""
    fixed = repair(chunk)
    if fixed != chunk:
        return tuple(words(fixed))
    if _URL.fullmatch(chunk):
        return ("xxurl",)
    if _EMAIL.fullmatch(chunk):
        return ("xxemail",)
    if "\u2019" in chunk:
        # a curled apostrophe (or closing quote) is the straight one: phones curl them, our corpus
        # rarely does, so "can’t" was a word the model hardly knew
        chunk = chunk.replace("\u2019", "'")
    out: list[str] = []
    for match in _PIECE.finditer(chunk):
        kind = match.lastgroup
        if kind == "word":
            out += _word(match.group(0))
        elif kind == "tag":
            out += ("xxtag",) + chunk_words(match.group("tag"))
        elif kind == "other":
            piece = match.group(0)
            if not (len(out) >= 3 and out[-1] == out[-2] == out[-3] == piece):
                out.append(piece)
        else:
            out.append("xx" + kind)
    return tuple(out)


def words(text: str) -> list[str]:
    """The normalised words of a post (its first MAX_POST_CHARS characters), line breaks kept as ``xxnl``."""
    out: list[str] = []
    if len(text) > MAX_POST_CHARS:
        text = text[:MAX_POST_CHARS]
    text = clean_invisible(text)
    for chunk in text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", " xxnl ").split():
        out += chunk_words(chunk)
    start, end = 0, len(out)
    while start < end and out[start] == "xxnl":
        start += 1
    while end > start and out[end - 1] == "xxnl":
        end -= 1
    return out[start:end]


def normalise(text: str) -> str:
    """Return the canonical form of one post; normalising twice changes nothing."""
    if not isinstance(text, str):
        raise TypeError(f"normalise() takes a str, not {type(text).__name__}.")
    return " ".join(words(text))


def normalise_many(texts) -> list[str]:
    """Normalise a batch of posts."""
    return [normalise(t) for t in texts]
