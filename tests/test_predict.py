"""The importable Predictor: the README's examples, edge cases and thresholds."""

import math
import warnings

import numpy as np
import pytest

from smclass import Prediction, Predictor

EXAMPLES = ["Flash sale! 40% off today only 👉 link in bio", "@ana congrats on the new job!!"]


def test_readme_example(predictor):
    assert predictor.predict(EXAMPLES) == ["broadcast", "conversational"]


def test_predict_proba_columns_follow_labels(predictor):
    proba = predictor.predict_proba(EXAMPLES)
    assert predictor.labels == ("broadcast", "conversational")
    assert proba.shape == (2, 2)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert proba[0, 0] > 0.5 > proba[1, 0]


def test_predict_one_returns_a_frozen_prediction(predictor):
    result = predictor.predict_one(EXAMPLES[1])
    assert isinstance(result, Prediction)
    assert result.label == "conversational" and 0 <= result.p_broadcast < 0.5
    assert math.isclose(result.p_conversational, 1 - result.p_broadcast)
    with pytest.raises(AttributeError):
        result.label = "broadcast"


def test_one_string_instead_of_a_list_points_to_predict_one(predictor):
    with pytest.raises(TypeError, match=r"takes a list of posts, not a single string; for one post use predict_one"):
        predictor.predict("hello there")


@pytest.mark.parametrize("value, note", [
    (None, "no text"),
    (float("nan"), "no text (NaN)"),
    ("", "text is empty"),
    ("   \n ", "text is empty"),
    (42, "text is not a string (int)"),
])
def test_unusable_posts_get_no_label_and_a_note(predictor, value, note):
    labels, p, notes = predictor.predict_many(["Big sale today", value, "@jo thanks!"])
    assert labels[1] is None and np.isnan(p[1]) and notes[1] == note
    assert labels[0] is not None and labels[2] is not None
    assert predictor.predict_one(value) == Prediction(None, p[1], note) or np.isnan(predictor.predict_one(value).p_broadcast)
    assert predictor.predict([value]) == [None]


def test_fast_path_matches_the_sklearn_pipeline(predictor, model_path, corpus_records):
    from smclass.model import load

    pipeline, _ = load(model_path)
    texts = [r["text"] for r in corpus_records[:300]]
    expected = pipeline.predict_proba(texts)[:, list(pipeline.classes_).index("broadcast")]
    assert np.allclose(predictor.p_broadcast(texts), expected)
    assert np.allclose(Predictor(pipeline).p_broadcast(texts), expected)


def test_predicting_needs_no_pickle_and_no_scikit_learn(model_path):
    """Predictor.load reads the .npz weights only: a fresh process never imports sklearn or joblib."""
    import subprocess
    import sys

    code = (
        "import sys; from smclass import Predictor; "
        f"p = Predictor.load({str(model_path)!r}); p.predict(['hello there']); "
        "print(sorted(m for m in ('sklearn', 'joblib', 'pickle_loaded') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_threshold_moves_the_decision(model_path):
    text = ["New blog post: five ways to plan your week, thoughts welcome"]
    p = Predictor.load(model_path).p_broadcast(text)[0]
    assert Predictor.load(model_path, threshold=max(p - 0.01, 0)).predict(text) == ["broadcast"]
    assert Predictor.load(model_path, threshold=min(p + 0.01, 1)).predict(text) == ["conversational"]
    with pytest.raises(ValueError, match="threshold must be between 0 and 1"):
        Predictor.load(model_path, threshold=1.5)


def test_default_threshold_comes_from_the_card(predictor):
    assert predictor.threshold == predictor.card["decision_threshold"] == 0.5


def test_explain_names_terms_on_each_side(predictor):
    why = predictor.explain("Huge SALE today, 50% off, shop now! Thanks so much Ana", k=3)
    assert set(why) == {"broadcast", "conversational"}
    assert 0 < len(why["broadcast"]) <= 3
    assert all(weight > 0 for _, weight in why["broadcast"] + why["conversational"])
    assert all(isinstance(term, str) for term, _ in why["broadcast"])


def test_load_without_argument_uses_the_environment_default(monkeypatch, model_path):
    monkeypatch.setenv("SMCLASS_MODEL", str(model_path))
    assert Predictor.load().predict(EXAMPLES[:1]) == ["broadcast"]


def test_accepts_any_iterable(predictor):
    assert predictor.predict(iter(EXAMPLES)) == predictor.predict(EXAMPLES)
    assert predictor.predict([]) == []


def test_large_batches_are_consistent_with_small_ones(predictor, corpus_records):
    texts = [r["text"] for r in corpus_records[:2000]]
    whole = predictor.p_broadcast(texts)
    pieces = np.concatenate([predictor.p_broadcast(texts[i : i + 7]) for i in range(0, 2000, 7)])
    assert np.allclose(whole, pieces)


def test_no_warnings_for_a_model_made_here(model_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Predictor.load(model_path)


@pytest.mark.parametrize("value", ["\u200b", "\ufeff", "\u200b\u200d \u2060\n\ufeff", "\ufe0f", "\ufe0e \ufe0f"])
def test_invisible_only_posts_are_empty(predictor, value):
    labels, p, notes = predictor.predict_many(["Big sale today", value])
    assert labels[1] is None and np.isnan(p[1]) and notes[1] == "text is empty"
    assert predictor.predict_one(value).note == "text is empty"
    assert predictor.predict([value]) == [None]


def test_emoji_variation_selectors_are_not_words(predictor):
    """Phones add U+FE0F to some emoji and not to others; a reader sees the same post either way."""
    from smclass.text import words

    assert words("love this \u2764\ufe0f") == words("love this \u2764") == ["love", "this", "\u2764"]
    plain = ["love this \u2764", "sunny \u2600 again", "done \u2714"]
    dressed = ["love this \u2764\ufe0f", "sunny \u2600\ufe0f again", "done \u2714\ufe0e"]
    big = plain * 400                                     # past ARROW_BATCH: the pyarrow path as well
    assert predictor.p_broadcast(dressed) == pytest.approx(predictor.p_broadcast(plain), abs=1e-12)
    assert predictor.p_broadcast(dressed * 400) == pytest.approx(predictor.p_broadcast(big), abs=1e-12)
    assert [predictor.predict_one(t).p_broadcast for t in dressed] == pytest.approx(predictor.p_broadcast(plain), abs=1e-12)


def test_lone_surrogates_score_without_error(predictor):
    posts = ["\ud83d", "nice \ud83d shoes", "\udc00\ud83d sale"]
    labels, p, notes = predictor.predict_many(posts)
    assert all(label is not None for label in labels) and not np.isnan(p).any()
    assert [predictor.predict_one(t).p_broadcast for t in posts] == pytest.approx(p.tolist())


def test_long_posts_are_cut_and_say_so(predictor):
    from smclass.predict import TRUNCATED_NOTE
    from smclass.text import MAX_POST_CHARS

    long_post = "Shop the sale now " * (MAX_POST_CHARS // 10)
    labels, p, notes = predictor.predict_many(["hello", long_post])
    assert notes == [None, TRUNCATED_NOTE] and labels[1] is not None
    assert TRUNCATED_NOTE == f"text truncated to {MAX_POST_CHARS:,} characters for scoring"
    assert p[1] == pytest.approx(predictor.p_broadcast([long_post[:MAX_POST_CHARS]])[0])
    assert predictor.predict_one(long_post).note == TRUNCATED_NOTE


def test_hostile_repair_input_is_cheap(predictor):
    post = "&amp;" + "amp;" * 25_000          # 100 KB; quadratic repair took most of a minute
    assert predictor.predict_one(post).label is not None


def test_pandas_series_in_series_out(predictor):
    pd = pytest.importorskip("pandas")
    series = pd.Series(EXAMPLES + [None], index=[10, 20, 30])
    labels = predictor.predict(series)
    assert isinstance(labels, pd.Series) and list(labels.index) == [10, 20, 30]
    assert labels.tolist()[:2] == ["broadcast", "conversational"] and labels[30] is None
    p = predictor.p_broadcast(series)
    assert isinstance(p, pd.Series) and list(p.index) == [10, 20, 30] and np.isnan(p[30])
    assert np.allclose(predictor.predict_proba(series)[:2, 0], p.values[:2])
    frame = pd.DataFrame({"text": EXAMPLES})
    for method in (predictor.predict, predictor.predict_proba, predictor.p_broadcast):
        with pytest.raises(TypeError, match=r'not a DataFrame; pass the text column, e.g. df\["text"\]'):
            method(frame)


def test_pandas_is_not_imported_by_smclass():
    import subprocess
    import sys

    code = "import sys, smclass, smclass.predict, smclass.hashing; print('pandas' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_one_post_and_batches_agree_on_the_corpus(model_path, corpus_records):
    """The pure-Python path (one post) and the numpy path (batches) on every corpus post, cold caches."""
    texts = [r["text"] for r in corpus_records]
    batch = Predictor.load(model_path).p_broadcast(texts)
    single = Predictor.load(model_path)
    one = np.array([single.predict_one(t).p_broadcast for t in texts])
    assert np.allclose(one, batch, rtol=1e-12, atol=1e-15, equal_nan=True)


@pytest.fixture(scope="module")
def options_model(tmp_path_factory, small_train_file):
    """A model trained with marks and link_only on, saved and reloaded through the .npz."""
    from smclass.data import load_posts
    from smclass.model import save, train

    pipeline, card = train(load_posts(small_train_file), params={"features__marks": True, "features__link_only": True})
    path = tmp_path_factory.mktemp("options") / "opts.joblib"
    save(pipeline, card, path)
    return pipeline, path


def test_marks_and_link_only_survive_the_weights_file(options_model, corpus_records):
    pipeline, path = options_model
    predictor = Predictor.load(path)
    assert predictor.weights.marks and predictor.weights.link_only
    texts = [r["text"] for r in corpus_records[:400]] + ["https://a.example/x", "bit.ly/x\nwww.y.example", "@ana hi"]
    expected = pipeline.predict_proba(texts)[:, list(pipeline.classes_).index("broadcast")]
    assert np.allclose(predictor.p_broadcast(texts), expected, rtol=1e-12, atol=1e-15)
    assert np.allclose([predictor.predict_one(t).p_broadcast for t in texts], expected, rtol=1e-12, atol=1e-15)
    plain = Predictor.load(path)
    assert plain.p_broadcast(["https://a.example/x"])[0] == pytest.approx(expected[-3])


@pytest.fixture(scope="module")
def words_only(tmp_path_factory, small_train_file):
    """A model of words and word pairs only, whatever the defaults say: (pipeline, the path it is saved at)."""
    from smclass.data import load_posts
    from smclass.model import save, train

    pipeline, card = train(load_posts(small_train_file), params={"features__char_ngrams": None})
    path = tmp_path_factory.mktemp("words") / "words.joblib"
    save(pipeline, card, path)
    return pipeline, path


def test_a_model_without_character_ngrams_is_scored_the_same_on_every_path(words_only, corpus_records):
    """Words and word pairs only: the .npz says so, and the one-post, small-batch, big-batch and cached
    paths all give the pipeline's probabilities."""
    pipeline, path = words_only
    predictor = Predictor.load(path)
    assert predictor.weights.char_ngrams is None
    texts = [r["text"] for r in corpus_records[:1500]] + ["Caf\u00c3\u00a9 SOOOO good!!", "\u0130stanbul #B2B"]
    expected = pipeline.predict_proba(texts)[:, list(pipeline.classes_).index("broadcast")]
    for scores in (predictor.p_broadcast(texts), predictor.p_broadcast(texts),         # first sight, then cached
                   np.concatenate([predictor.p_broadcast(texts[i:i + 20]) for i in range(0, len(texts), 20)]),
                   [predictor.predict_one(t).p_broadcast for t in texts[:200] + texts[-2:]]):
        want = expected if len(scores) == len(texts) else np.concatenate([expected[:200], expected[-2:]])
        assert np.allclose(scores, want, rtol=1e-12, atol=1e-15)


@pytest.fixture(scope="module")
def pipeline_and_predictors(model_path):
    from smclass.model import load

    pipeline, _ = load(model_path)
    return pipeline, Predictor.load(model_path)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_SOUP = st.text(alphabet=st.sampled_from(list("aZé Ã€™\n\r\t&;#@$%0123456789.:/_-!?😀\u200b\ufeff\x00\ue000xn")), max_size=60)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=80), _SOUP), min_size=1, max_size=6))
def test_every_path_equals_the_pipeline_on_arbitrary_unicode(pipeline_and_predictors, texts):
    pipeline, predictor = pipeline_and_predictors
    from smclass.hashing import SENTINEL
    from smclass.text import words

    expected = pipeline.predict_proba(texts)[:, list(pipeline.classes_).index("broadcast")]
    empty = np.isnan(predictor.p_broadcast(texts))
    # NaN exactly for posts with no words (the pipeline gives them the intercept's probability);
    # posts whose words the model never saw get that probability too. The featuriser reads its
    # internal separator (U+E000) as a space, in the pipeline as in the Predictor.
    assert empty.tolist() == [not words(t.replace(SENTINEL, " ")) for t in texts]
    assert np.allclose(predictor.p_broadcast(texts)[~empty], expected[~empty], rtol=1e-12, atol=1e-15)
    big = predictor.p_broadcast(texts * 10)[: len(texts)]          # the numpy path
    assert np.allclose(big, predictor.p_broadcast(texts), rtol=1e-12, atol=1e-15, equal_nan=True)
    one = np.array([predictor.predict_one(t).p_broadcast for t in texts])
    assert np.allclose(one, big, rtol=1e-12, atol=1e-15, equal_nan=True)


def test_smclass_predict_writes_the_truncation_note(tmp_path, model_path):
    import csv

    from conftest import run_cli
    from smclass.predict import TRUNCATED_NOTE
    from smclass.text import MAX_POST_CHARS

    source = tmp_path / "posts.csv"
    with open(source, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["id", "text"], ["1", "hello there"], ["2", "Buy now " * (MAX_POST_CHARS // 6)]])
    result = run_cli("predict", source, "--output", tmp_path / "out.csv", "--model", model_path)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(open(tmp_path / "out.csv", encoding="utf-8", newline="")))
    assert [r["note"] for r in rows] == ["", TRUNCATED_NOTE] and rows[1]["label"]


def test_a_post_of_words_the_model_never_saw_gets_the_pipelines_prior(words_only):
    """Without character n-grams an unknown word has no known feature; the post is not empty, so it
    gets the label of an all-zero row (the intercept), as the pipeline gives it, on every path."""
    pipeline, path = words_only
    predictor = Predictor.load(path)
    candidates = ["qzxv", "vrrkjl wxqz", "\ud800", "Ꙭꙮ", "zzqqxj!"]
    rows = pipeline.named_steps["features"].transform(candidates)
    unknown = [t for t, size in zip(candidates, abs(rows).sum(axis=1).A1) if size == 0]
    assert len(unknown) >= 3                                   # the case this test is about
    prior = pipeline.predict_proba(unknown)[:, list(pipeline.classes_).index("broadcast")]
    assert np.allclose(prior, prior[0])                        # one value: the intercept's
    for got in (predictor.p_broadcast(unknown), predictor.p_broadcast(unknown * 400)[: len(unknown)],
                np.array([predictor.predict_one(t).p_broadcast for t in unknown])):
        assert np.allclose(got, prior, rtol=1e-12, atol=1e-15)
    labels, _, notes = predictor.predict_many(["", *unknown])
    assert labels[0] is None and notes[0] == "text is empty"
    assert None not in labels[1:] and notes[1:] == [None] * len(unknown)
