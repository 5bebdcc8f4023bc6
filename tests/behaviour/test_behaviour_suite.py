"""The behaviour suite's machinery on stub predictors, and its hand-written cases."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from smclass import behaviour as bh
from smclass.corpus import KINDS

ROOT = Path(__file__).resolve().parent.parent.parent
PLATFORMS = {"x", "linkedin", "facebook", "instagram", "tiktok", "youtube", "reddit", "mastodon", "forum", "sms",
             "whatsapp", "email-newsletter"}
LINK = re.compile(r"https?://|\b[\w-]+\.(?:example|com|ly|be|co|in)\b|\b\w+\.example/")


@pytest.fixture(scope="module")
def cases() -> bh.Cases:
    return bh.Cases.load()


# -- perturbations do what they say ---------------------------------------------------------
def test_photo_link_appends_one_link_per_style():
    out = bh.add_photo_link("beach day with the kids")
    assert len(out) == 3
    assert [v.rsplit(" ", 1)[0] for v in out] == ["beach day with the kids"] * 3
    tails = [v.rsplit(" ", 1)[1] for v in out]
    assert re.fullmatch(r"https://t\.co/\w{10}", tails[0])
    assert re.fullmatch(r"pic\.twitter\.com/\w{10}", tails[1])
    assert re.fullmatch(r"instagr\.am/p/\w{10}/", tails[2])
    assert bh.add_photo_link("beach day with the kids") == out          # deterministic


def test_photo_link_after_break_puts_the_link_after_a_full_stop_and_on_its_own_line():
    stop, line = bh.add_photo_link_after_break("beach day with the kids")
    assert re.fullmatch(r"beach day with the kids\. https://t\.co/\w{10}", stop)
    assert re.fullmatch(r"beach day with the kids\npic\.twitter\.com/\w{10}", line)
    # a post that already ends a sentence (or with an emoji) keeps its own mark
    assert bh.add_photo_link_after_break("best day ever!")[0].startswith("best day ever! https://t.co/")
    assert bh.add_photo_link_after_break("home at last 🏡")[0].startswith("home at last 🏡 https://t.co/")
    assert bh.add_photo_link_after_break("beach day with the kids") == [stop, line]     # deterministic
    assert bh.add_photo_link_after_break("so happy.")[0].startswith("so happy. https://t.co/")   # no second stop


def test_hashtags_repost_and_capitals_change_only_the_form():
    same_line, own_line = bh.add_hashtags("beach day with the kids.")
    assert re.fullmatch(r"beach day with the kids\. #\w+ #\w+", same_line)
    assert re.fullmatch(r"beach day with the kids\.\n\n#\w+ #\w+", own_line)
    assert bh.add_hashtags("beach day with the kids.") == [same_line, own_line]          # deterministic
    (shared,) = bh.repost("beach day with the kids")
    assert re.fullmatch(r"RT @[\w.]+: beach day with the kids", shared)
    assert bh.repost("RT @kofi.m: beach day") == []                                     # already a repost
    assert bh.capitals("so proud of you @sam_k, pics at instagr.am/p/Ab12Cd/ 🎉") == [
        "SO PROUD OF YOU @sam_k, PICS AT instagr.am/p/Ab12Cd/ 🎉"]
    assert bh.capitals("OK 👍") == []                                                    # nothing to change


def test_final_mark_and_apostrophes_change_only_the_form():
    assert bh.final_mark("so proud of you!!  ") == ["so proud of you"]
    assert bh.final_mark("see you at 8") == ["see you at 8."]
    assert bh.final_mark("are you coming?") == []                     # a question mark is left alone
    assert bh.final_mark("home at last 🏡") == []                      # nothing to close
    assert bh.final_mark("...") == []                                  # nothing would be left
    assert bh.apostrophes("it's Sam's turn") == ["it\u2019s Sam\u2019s turn"]
    assert bh.apostrophes("it\u2019s done") == ["it's done"]
    assert bh.apostrophes("no marks here") == []


def test_ampersand_and_emoji_choice_change_only_the_form():
    assert bh.ampersand("Sam and I went, and it rained") == ["Sam & I went, & it rained"]
    assert bh.ampersand("sand and stone") == ["sand & stone"]              # "and" inside a word stays
    assert bh.ampersand("and then") == []                                   # nothing before it to join
    added = bh.choose_emoji("see you at 8")
    assert len(added) == 3 and all(v.startswith("see you at 8 ") and v[13:] in bh.EMOJI_COMMON for v in added)
    assert bh.choose_emoji("see you at 8") == added                        # deterministic
    swapped = bh.choose_emoji("done 🎉 see you 👋")
    assert swapped and all("🎉" not in v and "👋" not in v and v.startswith("done ") for v in swapped)


def test_name_swap_changes_only_known_names():
    text = "Priya and Tom came round, Tommy stayed home"
    for variant in bh.swap_names(text):
        first, second = variant.split(" and ")[0], variant.split(" and ")[1].split()[0]
        assert first in bh.PERSON_NAMES and first != "Priya"
        assert second in bh.PERSON_NAMES and second != "Tom"
        assert variant.endswith("came round, Tommy stayed home")
    assert bh.swap_names("nobody in particular") == []


def test_brand_and_town_swaps_replace_whole_names():
    [a, *_] = bh.swap_brands("loving my Northfield Outfitters coat")
    assert "Northfield" not in a and a.startswith("loving my ") and a.endswith(" coat")
    assert a[len("loving my "):-len(" coat")] in bh.BRANDS
    [b, *_] = bh.swap_towns("back in Leeds for the weekend")
    assert b != "back in Leeds for the weekend" and b.split()[2] in bh.TOWNS


def test_handle_swap_leaves_email_addresses_alone():
    out = bh.swap_handles("@sam_k thanks! mail me at jo@shop.example")
    assert out and all(v.endswith("mail me at jo@shop.example") for v in out)
    assert all(v.split()[0] in bh.HANDLES for v in out)


@pytest.mark.parametrize("text, expected", [
    ("only £20 today", ["only $25 today", "only €23 today", "only ₹2,100 today", "only ₦38,000 today"]),
    ("paid $4.99", ["paid £3.99", "paid €4.59", "paid ₹419", "paid ₦7,600"]),
    ("a $3.5k budget", ["a £2,800 budget", "a €3,200 budget", "a ₹290,000 budget", "a ₦5,300,000 budget"]),
    ("a ₹1,500 bill", ["a £14 bill", "a $18 bill", "a €16 bill", "a ₦27,000 bill"]),
])
def test_currency_swap_uses_a_plausible_amount(text, expected):
    assert bh.swap_currency(text) == expected


def test_currency_swap_needs_an_amount():
    assert bh.swap_currency("no money mentioned") == []


def test_spelling_swaps_both_ways_and_keeps_case():
    assert bh.swap_spelling("My Favourite colour") == ["My Favorite color"]
    assert bh.swap_spelling("we organized the center") == ["we organised the centre"]
    assert bh.swap_spelling("check out the program") == []     # ambiguous words are left alone


def test_emoji_added_and_removed():
    [added] = bh.add_emoji("see you at 8")
    assert added.startswith("see you at 8 ") and added[len("see you at 8 "):] in bh.EMOJI_TO_ADD
    assert bh.remove_emoji(added) == ["see you at 8"]
    assert bh.remove_emoji("👍🏽 thanks ❤️ x") == ["thanks x"]
    assert bh.remove_emoji("no emoji here") == []


# -- a rate is computed right ------------------------------------------------------------------
TINY = bh.Cases(
    base=[
        {"id": "t1", "text": "Tom loves the colour", "label": "conversational", "kind": "personal"},
        {"id": "t2", "text": "Sale now on in Leeds", "label": "broadcast", "kind": "promotion"},
    ],
    ctas=[{"id": "c1", "text": "Buy at shop.example"}],
    reply_pairs=[{"id": "r1", "statement": "the pool opens at 7", "reply": "@kim yes it opens at 7"},
                 {"id": "r2", "statement": "the gym opens at 6", "reply": "@lee yes it opens at 6"}],
    mft=[{"id": "m1", "text": "Buy now", "label": "broadcast", "kind": "promotion"},
         {"id": "m2", "text": "Big sale", "label": "broadcast", "kind": "promotion"},
         {"id": "m3", "text": "thanks Sam", "label": "conversational", "kind": "thanks"}],
)


def stub(texts):
    """Broadcast when a post has a link or says 'buy' or 'sale'; a link or an @reply to kim moves it."""
    out = []
    for t in texts:
        p = 0.2 + 0.6 * bool(re.search(r"buy|sale", t, re.I)) + 0.15 * ("http" in t or "pic.twitter" in t or ".example" in t)
        p -= 0.1 * t.startswith("@kim")
        out.append(p)
    return np.array(out)


def test_rates_on_a_stub_predictor():
    results = {r.name: r for r in bh.run(stub, TINY)}
    # photo links: 3 variants of the one personal post; 0.2 -> 0.35 stays conversational.
    assert (results["INV photo_link"].passed, results["INV photo_link"].total) == (3, 3)
    # MFT: "Big sale" p 0.8 broadcast, "Buy now" 0.8 broadcast, "thanks Sam" 0.2 conversational.
    assert results["MFT promotion"].rate == 1.0 and results["MFT thanks"].rate == 1.0
    # reply pairs: only the @kim reply lowers p.
    assert (results["DIR reply"].passed, results["DIR reply"].total) == (1, 2)
    assert results["DIR reply"].failures[0]["id"] == "r2"
    # each base post gets the CTA twice (one CTA in the list); the link always raises p.
    assert (results["DIR cta"].passed, results["DIR cta"].total) == (4, 4)
    family = bh.family_rates(list(results.values()))
    assert family["DIR"] == pytest.approx(5 / 6)


def test_invariance_counts_label_flips():
    flips_on_links = lambda texts: [0.45 + 0.1 * ("t.co" in t) for t in texts]   # noqa: E731
    results = {r.name: r for r in bh.run(flips_on_links, TINY)}
    r = results["INV photo_link"]
    assert (r.passed, r.total) == (2, 3)                    # only the t.co variant crosses 0.5
    assert r.failures[0]["expected"] == "conversational" and "t.co" in r.failures[0]["text"]
    assert r.by_kind == {"personal": [2, 3]}


def test_threshold_comes_from_the_predictor():
    class Shifted:
        threshold = 0.9

        def p_broadcast(self, texts):
            return np.array(stub(texts))

    results = {r.name: r for r in bh.run(Shifted(), TINY)}
    assert results["MFT promotion"].rate == 0.0             # 0.8 < 0.9: called conversational


def test_direction_at_saturation():
    assert bh.raised(0.3, 0.31) and not bh.raised(0.3, 0.3)
    assert bh.raised(1.0, 1.0) and bh.lowered(0.0, 0.0)
    assert bh.lowered(0.4, 0.2) and not bh.lowered(0.2, 0.4)


def test_floors_round_down_and_flag_falls(tmp_path):
    results = bh.run(stub, TINY)
    path = tmp_path / "floors.json"
    floors = bh.write_floors(results, path)
    assert floors["DIR reply"] == 0.5 and floors["DIR"] == 0.83
    assert bh.read_floors(path) == floors
    assert bh.below_floors(results, floors) == []
    raised_floor = dict(floors, **{"DIR reply": 0.6})
    assert bh.below_floors(results, raised_floor) == ["DIR reply: 50.0% is below its floor 60%"]
    missing = {k: v for k, v in floors.items() if k != "MFT thanks"}
    assert bh.below_floors(results, missing) == ["MFT thanks: no floor pinned (re-pin with --pin)"]


def test_model_must_score_every_post():
    with pytest.raises(ValueError, match="returned 1 scores"):
        bh.run(lambda texts: [0.5], TINY)


# -- the hand-written cases --------------------------------------------------------------------
def test_case_files_have_what_the_suite_promises(cases):
    assert len(cases.base) >= 150
    assert {c["label"] for c in cases.base} == set(bh.LABELS)
    assert sum(c["kind"] == "personal" for c in cases.base) >= 30
    assert len({c["text"] for c in cases.ctas}) >= 30
    assert all(LINK.search(c["text"]) for c in cases.ctas), "every call to action carries a link"
    assert len(cases.reply_pairs) >= 80
    assert all(p["reply"].startswith("@") for p in cases.reply_pairs)
    for label, kinds in KINDS.items():
        for kind in kinds:
            mine = [c for c in cases.mft if c["kind"] == kind]
            assert len(mine) >= 20, f"only {len(mine)} MFT cases for {kind}"
            assert {c["label"] for c in mine} == {label}
            assert len({c["platform"] for c in mine}) >= 5, f"{kind}: too few platforms"
    for c in cases.base + cases.mft:
        assert c["kind"] in KINDS[c["label"]], c["id"]
        assert c["platform"] in PLATFORMS, c["id"]
    ids = [c["id"] for c in cases.base + cases.ctas + cases.reply_pairs + cases.mft]
    assert len(ids) == len(set(ids))
    texts = [c["text"] for c in cases.base + cases.mft]
    assert len(texts) == len(set(texts))


def test_terse_cases_are_short_and_cover_both_labels(cases):
    """The terse test: posts of eight words or fewer, at least 30 of each label, on five platforms or more."""
    terse = [c for c in cases.mft if c.get("test") == "terse"]
    for label in bh.LABELS:
        mine = [c for c in terse if c["label"] == label]
        assert len(mine) >= 30, f"only {len(mine)} terse {label} cases"
        assert len({c["platform"] for c in mine}) >= 5
    assert all(len(c["text"].split()) <= 8 for c in terse)
    assert {c.get("test") for c in cases.mft} == {None, "terse"}


def test_cases_mix_links_on_both_sides(cases):
    """Real feeds put links in conversational posts and leave them out of many broadcast ones."""
    conv = [c for c in cases.mft if c["label"] == "conversational"]
    broad = [c for c in cases.mft if c["label"] == "broadcast"]
    assert sum(bool(LINK.search(c["text"])) for c in conv) >= 10
    assert sum(not LINK.search(c["text"]) for c in broad) >= len(broad) * 0.4


def test_every_perturbation_applies_to_enough_base_posts(cases):
    for name, (perturb, applies, _) in bh.INVARIANCE.items():
        hits = sum(bool(perturb(c["text"])) for c in cases.base if applies(c))
        assert hits >= 20, f"{name} applies to only {hits} base posts"


def _shingles(text: str) -> set[str]:
    folded = " ".join(text.lower().split())
    return {folded[i:i + 5] for i in range(max(1, len(folded) - 4))}


def test_no_case_is_close_to_a_corpus_post(cases):
    """The cases were written fresh: none shares more than 40 % of its character 5-grams with a corpus post."""
    corpus = [json.loads(line)["text"] for line in open(ROOT / "data" / "posts.jsonl", encoding="utf-8") if line.strip()]
    mine = [c["text"] for c in cases.base + cases.mft] + [p["statement"] for p in cases.reply_pairs] + \
           [p["reply"] for p in cases.reply_pairs]
    vocab: dict[str, int] = {}

    def matrix(texts):
        rows, cols = [], []
        for i, t in enumerate(texts):
            for s in _shingles(t):
                rows.append(i)
                cols.append(vocab.setdefault(s, len(vocab)))
        return rows, cols

    a, b = matrix(mine), matrix(corpus)
    shape = len(vocab)
    A = sp.csr_matrix((np.ones(len(a[0])), a), shape=(len(mine), shape))
    B = sp.csr_matrix((np.ones(len(b[0])), b), shape=(len(corpus), shape))
    inter = (A @ B.T).toarray()
    union = np.asarray(A.sum(1)) + np.asarray(B.sum(1)).T - inter
    jaccard = inter / union
    worst = np.unravel_index(jaccard.argmax(), jaccard.shape)
    assert jaccard.max() < 0.4, f"{mine[worst[0]]!r} is close to the corpus post {corpus[worst[1]]!r}"
