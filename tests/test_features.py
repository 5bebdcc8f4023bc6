"""The hashed TF-IDF features: the fast scoring path must equal the matrix path."""

import pickle

import numpy as np
import pytest

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
    assert "flash" in dict(terms) and "flash xxcaps" in dict(terms)
