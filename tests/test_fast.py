"""The vectorised first-sight path (pyarrow + numpy) gives exactly the pure-Python normaliser's words."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smclass import fast, hashing
from smclass.text import chunk_words

pytest.importorskip("pyarrow")

ASCII_SOUP = st.text(alphabet=st.sampled_from(list("aAbBzZ'_@#.-:/!?!()[]\"<>$%&;,+=~*^`|{}\\019x w")), max_size=24)
# capitals, digits and the characters around prices, percentages, codes and numbers
CODE_SOUP = st.text(alphabet=st.sampled_from(list("AB9Z01$%.,:/#@_xkK'!")), min_size=1, max_size=16)
ANY_CHUNK = st.one_of(ASCII_SOUP, CODE_SOUP, st.text(max_size=12),
                      st.sampled_from(["https://x.example/a", "www.shop.co.uk", "bit.ly/3F", "ana@example.org",
                                       "@ana@mastodon.social", "#SALE", "#foo_bar'x", "SOOOOO", "!!!!!", "@a@b@c@d",
                                       "DON'T", "__#__x", "a" * 600, "Caf\u00c3\u00a9", "\u0130stanbul", "#____a!!!!",
                                       "SPRING20", "4K", "MP3!", "A1B2", "#2020GOALS", "#B2B", "$5k", "$5kg", "5$",
                                       "40%", "1,000.50", "10:30", "3/4", "4AB5x", "x4AB5", "A1_B2C3", "AB12cd",
                                       "youtu.be/dQw4w9", "(instagr.am/p/Bx7).", "a.b/", "e.g./x", "site.gov",
                                       "x.events/2026", "U.S./Canada", "mr.smith/jones!", "v2.0/beta"]))


def words_of(flat: fast.Flat) -> list[tuple[str, ...]]:
    starts = np.cumsum(flat.counts) - flat.counts
    return [tuple(flat.vocab[k] for k in flat.occ[s : s + c]) for s, c in zip(starts.tolist(), flat.counts.tolist())]


@settings(max_examples=300, deadline=None)
@given(st.lists(ANY_CHUNK.map(lambda t: "".join(t.split()) or "x"), min_size=1, max_size=40))
def test_vectorised_normaliser_equals_python(chunks):
    assert words_of(fast.normalise(chunks)) == [chunk_words(c) for c in chunks]


def test_vectorised_normaliser_on_the_corpus(corpus_records):
    chunks = list(dict.fromkeys(c for r in corpus_records for c in r["text"].split()))
    assert words_of(fast.normalise(chunks)) == [chunk_words(c) for c in chunks]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=40), ASCII_SOUP,
                          st.sampled_from(["a\r\nb", "x\ry", "\u200b", "p\ue000q", "\n\n", " \u3000 \x1c "])),
                max_size=10))
def test_split_gives_the_chunks_str_split_gives(texts):
    got = fast.split(texts)
    assert got is not None
    distinct, index, doc, array = got
    assert array.to_pylist() == distinct
    for i, text in enumerate(texts):
        mine = [distinct[k] for k in index[doc == i].tolist() if distinct[k]]
        assert mine == _chunks(text)


def _chunks(text: str) -> list[str]:
    """What the Python path splits a post into: line breaks as xxnl, invisible characters as spaces."""
    cleaned = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", " xxnl ")
    for c in "\u200b\u200c\u200d\u2060\ufeff\u180e\ue000":
        cleaned = cleaned.replace(c, " ")
    return cleaned.split()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=12), st.sampled_from(["\ue000", "a\ue000b", "😀", "", "x\ny"])),
                max_size=12),
       st.integers(1, 5))
def test_posts_joined_a_group_at_a_time_give_the_bytes_of_one_join(texts, group):
    original = fast.JOIN_GROUP
    fast.JOIN_GROUP = group
    try:
        assert fast._joined_utf8(texts) == (fast.SENTINEL + " " + fast._SEP.join(texts)).encode("utf-8")
        got = fast.split(texts)                      # the sentinel check still finds posts holding it
        distinct, index, doc, _ = got
        chunks = [[distinct[k] for k in index[doc == i].tolist() if distinct[k]] for i in range(len(texts))]
        assert chunks == list(map(_chunks, texts))
    finally:
        fast.JOIN_GROUP = original


def test_split_refuses_what_arrow_cannot_encode():
    assert fast.split(["fine", "lone \ud83d surrogate"]) is None


def test_big_batches_take_the_arrow_path_and_match_the_python_path(monkeypatch, corpus_records):
    from smclass.features import HashedTfidf

    texts = [r["text"] for r in corpus_records[:1500]] + ["lone \ud83d surrogate"] * 3
    fitted = HashedTfidf(n_features=2**16).fit(texts[:300])
    coef = np.random.default_rng(0).normal(size=2**16)
    calls = []
    real_split = fast.split
    monkeypatch.setattr(fast, "split", lambda t: calls.append(len(t)) or real_split(t))
    arrow_scores = fitted.linear_scores(texts[:1500], coef)
    assert calls == [1500]
    with_surrogate = fitted.linear_scores(texts, coef)            # arrow refuses: the Python split takes over
    python = HashedTfidf(n_features=2**16).fit(texts[:300]).featuriser()
    python.use_arrow = False
    expected = python.linear_scores(texts, fitted.idf_, coef)
    assert np.allclose(arrow_scores, expected[:1500], rtol=1e-12, atol=1e-15, equal_nan=True)
    assert np.allclose(with_surrogate, expected, rtol=1e-12, atol=1e-15, equal_nan=True)
    assert hashing.ARROW_BATCH <= 1500


def test_predicting_one_post_never_imports_pyarrow(model_path):
    import subprocess
    import sys

    code = (f"import sys; from smclass import Predictor; p = Predictor.load({str(model_path)!r}); "
            "p.predict_one('hello there'); p.predict(['a', 'b'] * 20); print('pyarrow' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_a_big_batch_does_not_import_pandas(model_path, corpus_records):
    """pyarrow imports pandas when handed Python objects; the fast path builds its arrays from buffers
    and calls its kernels through pyarrow._compute."""
    import json
    import subprocess
    import sys

    texts = json.dumps([r["text"] for r in corpus_records[:1500]])
    code = (f"import json, sys; from smclass import Predictor; p = Predictor.load({str(model_path)!r}); "
            f"p.predict(json.loads(sys.stdin.read())); "
            f"print('pyarrow' in sys.modules, 'pandas' in sys.modules, 'pyarrow.compute' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], input=texts, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True False False"      # pyarrow.compute's wrappers are not built either


def test_split_treats_every_python_whitespace_and_invisible_character_as_a_space():
    spaces = [chr(c) for c in range(0x110000) if chr(c).isspace()] + list("\u200b\u200c\u200d\u2060\ufeff\u180e\ue000")
    texts = [f"x{c}y\u00e9{c}" for c in spaces] + ["".join(spaces) + "z", "plain ascii\x1c\x1f"]
    distinct, index, doc, _ = fast.split(texts)
    for i, text in enumerate(texts):
        cleaned = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", " xxnl ")
        for c in "\u200b\u200c\u200d\u2060\ufeff\u180e\ue000":
            cleaned = cleaned.replace(c, " ")
        assert [distinct[k] for k in index[doc == i].tolist()] == cleaned.split(), repr(text)


def test_chunks_with_digits_take_the_vectorised_path_unless_a_short_code_is_in_them(monkeypatch):
    sent = []
    real = fast.python_normalise
    monkeypatch.setattr(fast, "python_normalise", lambda chunks: sent.extend(chunks) or real(chunks))
    vectorised = ["SPRING20", "$19.99", "40%", "10:30", "#2020GOALS", "A1B2!", "@ana99", "x4AB5", "3/4"]
    python = ["4K", "MP3!", "#B2B", "caf\u00e9", "&amp;"]
    assert words_of(fast.normalise(vectorised + python)) == [chunk_words(c) for c in vectorised + python]
    assert sent == python


def test_every_symbol_the_vectorised_path_accepts_gives_the_python_words(monkeypatch):
    symbols = [chr(p) for p in np.flatnonzero(fast._symbols()).tolist()]
    assert "\u2019" in symbols and "\U0001f600" in symbols and "\u2764" in symbols
    assert not {"\u00e9", "\u2460", "\u20b9", "\u212a", "\u2028"} & set(symbols)   # letters, digits, currency, space
    chunks = [form.format(c=c) for c in symbols
              for form in ("a{c}b", "DON{c}T", "{c}{c}{c}{c}{c}", "#ab{c}", "@x{c}y", "it{c}s", "www.x.com/{c}", "{c}SPRING20")]
    sent = []
    real = fast.python_normalise
    monkeypatch.setattr(fast, "python_normalise", lambda chunks: sent.extend(chunks) or real(chunks))
    assert words_of(fast.normalise(chunks)) == [chunk_words(c) for c in chunks]
    assert len(sent) < len(chunks) / 100
