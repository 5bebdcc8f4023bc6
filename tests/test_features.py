"""The hashed TF-IDF features: the fast scoring path must equal the matrix path."""

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smclass.features import HashedTfidf

POSTS = [
    "Flash SALE!!! 40% off everything today 👉 shop.example.com",
    "@ana congrats on the new job!! so happy for you",
    "Thanks for waiting, Sam. Can you DM us your order number?",
    "new episode out now, link in bio #podcast",
    "lol same",
    "Line one\nline two",
    "\n\nleading and trailing breaks\n",
    "\n \n",
]


@pytest.fixture()
def fitted():
    return HashedTfidf(n_features=2**16).fit(POSTS)


def test_fast_scores_equal_matrix_product(fitted):
    coef = np.random.default_rng(0).normal(size=2**16)
    texts = POSTS + ["unseen words entirely", "SALE sale Sale"]
    expected = fitted.transform(texts) @ coef
    assert np.allclose(np.nan_to_num(fitted.linear_scores(texts, coef)), expected)


def test_rows_are_unit_length_when_no_feature_repeats(fitted):
    matrix = fitted.transform(["abc xyz"])
    assert np.isclose(np.sqrt(matrix.multiply(matrix).sum()), 1.0)


def test_posts_do_not_leak_into_each_other(fitted):
    coef = np.random.default_rng(1).normal(size=2**16)
    together = fitted.linear_scores(POSTS, coef)
    alone = np.array([fitted.linear_scores([p], coef)[0] for p in POSTS])
    assert np.allclose(together, alone, equal_nan=True)


def test_a_post_without_features_scores_nan(fitted):
    coef = np.ones(2**16)
    scores = fitted.linear_scores(["", "   ", "hello", "\r\n\n "], coef)
    assert np.isnan(scores[0]) and np.isnan(scores[1]) and not np.isnan(scores[2]) and np.isnan(scores[3])


def test_a_post_holding_the_internal_separator_is_still_one_post(fitted):
    coef = np.random.default_rng(2).normal(size=2**16)
    weird = "before \ue000 after"
    assert np.allclose(fitted.linear_scores([weird, "x"], coef), fitted.transform([weird, "x"]) @ coef)


def test_same_input_same_features_across_instances():
    a = HashedTfidf(n_features=2**16).fit(POSTS)
    b = HashedTfidf(n_features=2**16).fit(list(reversed(POSTS)))
    assert np.array_equal(a.idf_, b.idf_)
    assert (a.transform(POSTS) != b.transform(POSTS)).nnz == 0


def test_pickle_leaves_the_cache_behind(fitted):
    fitted.transform(POSTS)
    clone = pickle.loads(pickle.dumps(fitted))
    assert not hasattr(clone, "_featuriser")
    assert (clone.transform(POSTS) != fitted.transform(POSTS)).nnz == 0


def test_non_string_post_is_named():
    with pytest.raises(TypeError, match="Post 1 is NoneType, not str"):
        HashedTfidf(n_features=2**16).fit(["ok", None])


def test_n_features_must_be_a_power_of_two():
    with pytest.raises(ValueError, match="power of two"):
        HashedTfidf(n_features=1000).fit(POSTS)


def test_term_contributions_sum_to_the_score(fitted):
    coef = np.random.default_rng(3).normal(size=2**16)
    text = "Flash SALE today, thanks Sam"
    terms = fitted.term_contributions(text, coef)
    assert np.isclose(sum(w for _, w in terms), fitted.linear_scores([text], coef)[0])
    assert "flash" in dict(terms) and "flash sale" in dict(terms)


def test_a_nul_character_does_not_shift_the_next_posts_features(fitted):
    """Word ends come from word lengths: a NUL inside one post leaves every other post alone."""
    coef = np.random.default_rng(4).normal(size=2**16)
    target = "great deal on shoes today"
    with_nul = fitted.linear_scores(["a\x00b", target], coef)[1]
    without = fitted.linear_scores(["ab", target], coef)[1]
    assert with_nul == pytest.approx(without, rel=1e-12)
    assert fitted.linear_scores([target], coef)[0] == pytest.approx(without, rel=1e-12)
    assert np.allclose(fitted.linear_scores(["a\x00b", target], coef), fitted.transform(["a\x00b", target]) @ coef)


@pytest.mark.parametrize("options", [{"marks": True}, {"link_only": True}, {"marks": True, "link_only": True}])
def test_marks_and_link_only_match_the_matrix_path(options):
    posts = POSTS + ["https://a.example/x", "bit.ly/1 \n www.b.example", "see https://a.example/x", "@ana hi"]
    fitted = HashedTfidf(n_features=2**16, **options).fit(posts)
    coef = np.random.default_rng(5).normal(size=2**16)
    texts = posts + ["\nhttps://c.example/y\n", "only words here", "\n \n"]
    expected = fitted.transform(texts) @ coef
    assert np.allclose(np.nan_to_num(fitted.linear_scores(texts, coef)), expected)
    small = fitted.featuriser().small_scores(texts, fitted.idf_, coef)
    assert np.allclose(np.nan_to_num(small), expected)
    terms = fitted.term_contributions("@ana see https://a.example/x", coef)
    assert np.isclose(sum(w for _, w in terms), fitted.linear_scores(["@ana see https://a.example/x"], coef)[0])


def test_marks_and_link_only_add_features_only_when_on():
    plain = HashedTfidf(n_features=2**16)
    marked = HashedTfidf(n_features=2**16, marks=True)
    linky = HashedTfidf(n_features=2**16, link_only=True)
    doc = lambda f, t: len(f.occurrences([t])[0])                     # noqa: E731
    assert doc(marked, "@ana hello") == doc(plain, "@ana hello") + 2     # (start, xxuser), (hello, end)
    assert doc(linky, "https://a.example/x") == doc(plain, "https://a.example/x") + 1
    assert doc(linky, "see https://a.example/x") == doc(plain, "see https://a.example/x")
    assert HashedTfidf(marks=True).get_params()["marks"] is True


def test_small_batch_path_equals_the_numpy_path(fitted):
    coef = np.random.default_rng(6).normal(size=2**16)
    texts = POSTS + ["a\u200bb", "x" * 900, "&amp;amp;lt;3 &#10;hello", "\ue000 here", "hi&#10;", "\ud83d oops"]
    featuriser = fitted.featuriser()
    small = featuriser.small_scores(texts, fitted.idf_, coef)
    big = fitted.linear_scores(texts * 20, coef)[: len(texts)]        # over SMALL_BATCH: the numpy path
    assert np.allclose(small, big, equal_nan=True)
    assert np.allclose(np.nan_to_num(big), fitted.transform(texts) @ coef)
    # a literal "xxnl" glued to punctuation at a post's edge: the small path hands over to numpy
    assert featuriser.small_scores(["xxnl! hi"], fitted.idf_, coef) is None
    assert np.allclose(fitted.linear_scores(["xxnl! hi"], coef), fitted.transform(["xxnl! hi"]) @ coef)


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=90), st.sampled_from([(2, 5), (1, 3), (3, 3), None]), st.booleans())
def test_one_word_in_pure_python_hashes_as_the_numpy_batch(word, char_ngrams, unigrams):
    from smclass.hashing import MAX_GRAM_WORD, word_features, word_features_one

    word_hash, buckets = word_features_one(word, 2**16, char_ngrams, unigrams)
    _, _, expected = word_features([word[:MAX_GRAM_WORD]], 2**16, char_ngrams, unigrams)
    assert buckets == expected.tolist()
    assert word_hash == int(word_features([word], 2**16, None, False)[0][0])


def test_word_hash_grows_its_power_table_for_long_words():
    """The pure-Python word hash sums against a table of powers that grows on demand: a word longer than
    any before must hash as the numpy batch does, and the shorter ones after it too."""
    from smclass.hashing import word_features, word_features_one

    for word in ["z" * 3000, "q" * 700 + "é" * 10, "ab"]:
        assert word_features_one(word, 2**16, None, True)[0] == int(word_features([word], 2**16, None, False)[0][0])


def test_new_chunks_in_pure_python_get_the_numpy_entries_bit_for_bit(fitted):
    """A post never seen before fills its chunks' entries without numpy: the same floats, hashes and
    flags as the numpy fill, for plain words, links, line breaks at the edges, entities, mojibake,
    the sentinel, empty chunks and words past MAX_GRAM_WORD."""
    coef = np.random.default_rng(8).normal(size=2**16)
    chunks = ["hello", "Sooooo", "https://a.example/x", "xxnl", "xxnl!", "!xxnl", "hi!!!!", "&amp;amp;",
              "Caf\u00c3\u00a9", "a\ue000b", "\u200b", "@ana:", "#BigSale2024", "$19.99", "40%", "SAVE20",
              "w" * 120, "\ud83d", "xxurl", "ÉCOLE", "don't", "e-mail@example.com"]
    for marks in (False, True):
        featuriser = HashedTfidf(n_features=2**16, marks=marks).fit(POSTS).featuriser()
        scorer = featuriser.scorer(fitted.idf_, coef)
        by_numpy, by_python = {}, {}
        featuriser._fill_entries(by_numpy, scorer, chunks)
        featuriser._fill_entries(by_python, scorer, chunks, {})
        assert by_python == by_numpy


def test_caches_stay_under_their_bounds(monkeypatch):
    """A long stream of distinct posts: the tables and the small-batch caches are replaced, never overgrown."""
    from smclass import hashing

    monkeypatch.setattr(hashing, "MAX_CHUNKS", 500)
    monkeypatch.setattr(hashing, "MAX_ENTRIES", 400)
    fitted = HashedTfidf(n_features=2**16).fit(POSTS)
    coef = np.random.default_rng(7).normal(size=2**16)
    featuriser = fitted.featuriser()
    largest_tables = largest_entries = 0
    for i in range(60):
        batch = [f"post {i} number {j} token{i}x{j} and w{j % 13}" for j in range(100)]
        fitted.linear_scores(batch, coef)
        for text in batch[:5]:
            featuriser.score_one(text, featuriser.scorer(fitted.idf_, coef))
        largest_tables = max(largest_tables, len(featuriser.tables().chunk_ids))
        largest_entries = max(largest_entries, *map(len, featuriser._entries[1:]))
    # a table may pass its bound by one batch's new chunks before it is replaced
    assert largest_tables <= 500 + 400 and largest_entries <= 400 + 50
    assert len(featuriser.tables().words) < 1000


def test_long_posts_and_tokens_are_cut(fitted):
    from smclass.text import MAX_POST_CHARS, MAX_TOKEN_CHARS

    coef = np.random.default_rng(8).normal(size=2**16)
    long_post = "sale " * (MAX_POST_CHARS // 5) + "extra words after the cut"
    assert fitted.linear_scores([long_post], coef)[0] == pytest.approx(
        fitted.linear_scores([long_post[:MAX_POST_CHARS]], coef)[0])
    token = "a" * (MAX_TOKEN_CHARS + 10) + "b"
    assert fitted.linear_scores([token], coef)[0] == pytest.approx(fitted.linear_scores([token[:MAX_TOKEN_CHARS]], coef)[0])
