"""The normaliser: pinned examples, and properties over arbitrary Unicode."""

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from smclass.text import normalise, normalise_many, repair, words

PINNED = [
    ("Visit https://example.com/a?b=1 now", "visit xxurl now"),
    ("more at bit.ly/3Fq8xZk", "more at xxurl"),
    ("(see www.shop.co.uk)", "( see xxurl"),
    # short links and media without a scheme: any alphabetic top-level domain when a path follows
    ("new vid youtu.be/dQw4w9WgXcQ", "new vid xxurl"),
    ("beach day instagr.am/p/Bx7Qw2T", "beach day xxurl"),
    ("(goo.gl/maps/abc).", "xxurl"),
    ("register at springdale.gov", "register at xxurl"),
    ("tickets: hollowpine.studio/live", "tickets : xxurl"),
    ("U.S./Canada", "u . s . / canada"),
    ("see.ya", "see . ya"),
    ("mail me: ana@example.org", "mail me : xxemail"),
    ("@sam_k thanks!", "xxuser thanks !"),
    ("@ana@mastodon.social hi", "xxuser hi"),
    ("#MondayMotivation vibes", "xxtag mondaymotivation vibes"),
    ("only $49.99 or £12", "only xxprice or xxprice"),
    ("now 30% off", "now xxpct off"),
    ("code SPRING20", "code xxcode"),
    ("call 07700 900 812", "call xxnum xxnum xxnum"),
    ("FREE shipping", "free shipping"),                     # capitals are how it was typed, not what it says
    ("SO PROUD OF YOU", "so proud of you"),
    ("can’t wait, it’s ‘today’", "can't wait , it's ‘ today '"),   # curled apostrophes straightened
    ("soooooo good!!!!!", "sooo good ! ! !"),
    ("Tom &amp; Jerry &lt;3", "tom & jerry < xxnum"),
    ("Itâ€™s here ðŸ˜€", "it's here 😀"),
    ("line one\nline two\r\nthree", "line one xxnl line two xxnl three"),
    ("", ""),
    ("   ", ""),
]


@pytest.mark.parametrize("raw, expected", PINNED)
def test_pinned_examples(raw, expected):
    assert normalise(raw) == expected


def test_facebook_style_byte_escapes_are_repaired():
    # Facebook exports write UTF-8 bytes as \u00XX escapes: ’ and 😀 below.
    assert repair("\u00e2\u0080\u0099 \u00f0\u009f\u0098\u0080") == "’ 😀"


def test_legitimate_accents_are_left_alone():
    assert normalise("Café déjà vu à Paris") == "café déjà vu à paris"


def test_rejects_non_strings_with_a_clear_message():
    with pytest.raises(TypeError, match="takes a str, not NoneType"):
        normalise(None)


def test_words_match_normalise():
    text = "New drop 🔥 40% off at shop.example.com #sale"
    assert " ".join(words(text)) == normalise(text)


def test_mojibake_made_by_lower_casing_is_repaired_the_first_time():
    """'À²¹' is no mojibake, but lower-cased it is 'à²¹', the UTF-8 bytes of 'ಹ' read as latin-1
    (hypothesis found that a second normalisation repaired it)."""
    assert normalise("À²¹") == "ಹ"
    assert normalise(normalise("À²¹")) == "ಹ"


@settings(max_examples=300, deadline=None)
@given(st.text())
@example("À²¹")
def test_normalising_twice_equals_once(text):
    once = normalise(text)
    assert normalise(once) == once


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("aÃÂâ€™©ð\u0080\u0099\u009f&#;amplt0123 @SALE$%.\n")), max_size=40))
def test_idempotent_on_mojibake_and_entity_soup(text):
    once = normalise(text)
    assert normalise(once) == once


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(), max_size=8))
def test_batch_equals_one_by_one(texts):
    assert normalise_many(texts) == [normalise(t) for t in texts]


def _repair_before(text: str) -> str:
    """The quadratic repair this project had: unescape and fix mojibake until nothing changes."""
    import html

    from smclass.text import _MOJIBAKE, _SUSPECT, _repair_match

    while _SUSPECT.search(text):
        new = _MOJIBAKE.sub(_repair_match, html.unescape(text))
        if new == text:
            break
        text = new
    return text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("&amp;AMP#38x26lt3 Ã©â€™ð\u009f\u0098\u0080")), max_size=50))
def test_linear_repair_gives_what_repeated_unescaping_gave(text):
    assert repair(text) == _repair_before(text)


def test_repair_is_linear_on_escaped_ampersand_chains():
    assert repair("&amp;" + "amp;" * 25_000 + "lt;3") == "<3"
    assert repair("&#38;" + "#38;" * 20_000 + "gt;") == ">"


def test_zero_width_characters_separate_nothing():
    assert normalise("\u200b\ufeff \u2060") == ""
    assert normalise("hello\u200bworld") == "hello world"


def test_long_tokens_are_cut():
    from smclass.text import MAX_TOKEN_CHARS

    assert normalise("a1" * MAX_TOKEN_CHARS + "xyz") == normalise(("a1" * MAX_TOKEN_CHARS)[:MAX_TOKEN_CHARS])


_PLAIN = st.text(alphabet=st.sampled_from(list("abzAZqQoOOOO")), min_size=1, max_size=12)


@settings(max_examples=500, deadline=None)
@given(_PLAIN, st.sampled_from(["", ".", ",", "!", "?", ":", ";"]))
@example("Sooooo", "!")
@example("SALE", ".")
@example("OK", "")
def test_plain_ascii_words_take_a_shortcut_to_the_same_words(word, mark):
    """Plain ASCII words (with one closing mark) skip the regexes; the general rules must agree."""
    from smclass.text import _chunk_words, _pieces

    chunk = word + mark
    assert _chunk_words.__wrapped__(chunk) == _pieces(chunk)
