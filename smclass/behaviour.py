"""Behaviour tests in the spirit of CheckList (Ribeiro et al., 2020): pass rates for any predictor.

Three families of tests, all run by :func:`run`:

- **INV** (invariance): a perturbation that should not matter (a photo link on a personal post,
  another name, handle, brand, town or currency, US/UK spelling, an emoji more or less) must not
  flip the predicted label. The base posts are hand-written; the perturbations are the functions
  below.
- **DIR** (direction): adding a call to action with a link must raise ``p_broadcast``; turning a
  statement into a reply to a named person that answers their question must lower it.
- **MFT** (minimum functionality): hand-written posts of every kind in the annotation guide, each
  with its expected label; one test per kind, and one ``terse`` test of posts of eight words or
  fewer of both labels (real feeds are full of them; a model that learned words only inside long
  posts misreads "great video").

The cases live in ``smclass/behaviour_cases/`` (JSONL, written by hand, never taken from the
corpus or any public data set). Floors that the test suite holds the shipped model to live in
``tests/behaviour/floors.json``; ``python -m smclass.behaviour --pin`` rewrites them.

>>> add_cta("lovely walk today", "Shop now: x.example")
'lovely walk today Shop now: x.example'
>>> swap_spelling("my favourite colour")
['my favorite color']
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from .corpus import read_jsonl
from .text import URL_PATTERN

CASES_DIR = Path(__file__).resolve().parent / "behaviour_cases"
REPO = Path(__file__).resolve().parent.parent
FLOORS = REPO / "tests" / "behaviour" / "floors.json"
LABELS = ("broadcast", "conversational")
TARGETS = {"INV": 0.95, "DIR": 0.95, "MFT": 0.90}

# -- lexicons the swaps draw on (the base posts use these names, so the swaps find them) ------
PERSON_NAMES = (
    "Priya", "Tom", "Aisha", "Kwame", "Sofia", "Liam", "Chidi", "Mei", "Rosa", "Dev", "Hannah",
    "Tunde", "Joanna", "Marco", "Fatima", "Ben", "Grace", "Arjun", "Niamh", "Carlos", "Zara",
    "Femi", "Lucy", "Raj", "Maria", "Sam", "Ngozi", "Ollie", "Ana", "Jamal",
)
BRANDS = (
    "Brightloop", "Kettlewise", "Northfield Outfitters", "Tidewell", "Pennyroyal Bakery",
    "Corvid Cycles", "Lumen Mobile", "Harbourline", "Oakcrest Bank", "Fizzwick", "Sundial Coffee",
    "Velora", "Greenbasket", "Quillstone Books", "Marrowby Farm", "Zephyr Air", "Copperpot",
)
TOWNS = (
    "Leeds", "Pune", "Austin", "Abuja", "Manila", "Halifax", "Brisbane", "Ashby", "Millbrook",
    "Cork", "Lagos", "Bristol", "Denver", "Nairobi", "Glasgow", "Mysore", "Perth", "Cardiff",
)
HANDLES = (
    "@jess_runs", "@kofi.m", "@the_real_dan", "@meera_bakes", "@ollie92", "@nadia_k", "@bluefinch",
    "@tayo_writes", "@sunny_side", "@mrs_hughes", "@codewithkim", "@dayo_ola",
)
# Amount of each currency worth about one pound, for plausible swapped prices.
CURRENCY_RATE = {"£": 1.0, "$": 1.25, "€": 1.15, "₹": 105.0, "₦": 1900.0}
# UK spelling -> US spelling; swapped both ways.
SPELLING = {
    "colour": "color", "colours": "colors", "favourite": "favorite", "favourites": "favorites",
    "centre": "center", "centres": "centers", "organise": "organize", "organised": "organized",
    "organising": "organizing", "realise": "realize", "realised": "realized", "neighbour": "neighbor",
    "neighbours": "neighbors", "theatre": "theater", "flavour": "flavor", "flavours": "flavors",
    "honour": "honor", "honoured": "honored", "cancelled": "canceled", "travelling": "traveling",
    "apologise": "apologize", "recognise": "recognize", "behaviour": "behavior",
    "catalogue": "catalog", "grey": "gray", "mum": "mom", "jewellery": "jewelry", "analyse": "analyze",
    "humour": "humor", "harbour": "harbor", "rumour": "rumor", "litre": "liter", "fibre": "fiber",
    "pyjamas": "pajamas", "labour": "labor", "favour": "favor",
    "personalised": "personalized", "colourful": "colorful", "moustache": "mustache",
}
PHOTO_LINKS = ("https://t.co/{}", "pic.twitter.com/{}", "instagr.am/p/{}/")
EMOJI_TO_ADD = ("😊", "🙌", "🎉", "😂", "❤️", "👍", "☀️", "🔥")
EMOJI_COMMON = ("😭", "😂", "✨", "💯", "👀", "💕", "🙏", "👏", "🤣", "😍", "🥰", "😅", "🙃", "💀", "🤔", "👌")
HASHTAGS_TO_ADD = ("#sunday", "#throwback", "#mood", "#weekend", "#life", "#happy", "#tbt", "#goals", "#blessed",
                   "#nofilter")
_EMOJI = re.compile(
    "[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u2300-\u23FF]\uFE0F?(?:\u200D[\U0001F000-\U0001FAFF\u2600-\u27BF]\uFE0F?)*"
    "|[\U0001F3FB-\U0001F3FF\uFE0F]"
)
_HANDLE = re.compile(r"(?<![\w.@])@[A-Za-z0-9_][A-Za-z0-9_.]*[A-Za-z0-9_]")
_MONEY = re.compile(r"([£$€₹₦])\s?(\d{1,3}(?:,\d{3})+|\d+)(\.\d{1,2})?(k\b)?")


# -- perturbations: each returns the list of perturbed texts (empty when it does not apply) ----
def _seeded(text: str, salt: str) -> random.Random:
    return random.Random(f"{salt}|{text}")


def _word_swap(text: str, words: Iterable[str], salt: str, variants: int = 2) -> list[str]:
    """Replace every lexicon word found in ``text`` by another lexicon word, ``variants`` ways."""
    words = list(words)
    pattern = re.compile(r"(?<![\w@])(" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")(?!\w)")
    found = list(dict.fromkeys(pattern.findall(text)))
    if not found:
        return []
    rng = _seeded(text, salt)
    out = []
    for _ in range(variants):
        pool = [w for w in words if w not in found]
        rng.shuffle(pool)
        mapping = dict(zip(found, pool))
        new = pattern.sub(lambda m: mapping[m.group(1)], text)
        if new != text and new not in out:
            out.append(new)
    return out


def swap_names(text: str) -> list[str]:
    """Other person names in place of those in :data:`PERSON_NAMES`."""
    return _word_swap(text, PERSON_NAMES, "names")


def swap_brands(text: str) -> list[str]:
    """Other brand names in place of those in :data:`BRANDS`."""
    return _word_swap(text, BRANDS, "brands")


def swap_towns(text: str) -> list[str]:
    """Other towns in place of those in :data:`TOWNS`."""
    return _word_swap(text, TOWNS, "towns")


def swap_handles(text: str, variants: int = 2) -> list[str]:
    """Every @handle (not an e-mail address) replaced by another one.

    >>> swap_handles("@sam_k thanks! cc @lee, mail me at a@b.example")[0].count("@")
    3
    """
    found = list(dict.fromkeys(_HANDLE.findall(text)))
    if not found:
        return []
    rng = _seeded(text, "handles")
    out = []
    for _ in range(variants):
        pool = [h for h in HANDLES if h not in found]
        rng.shuffle(pool)
        mapping = dict(zip(found, pool))
        new = _HANDLE.sub(lambda m: mapping.get(m.group(0), m.group(0)), text)
        if new != text and new not in out:
            out.append(new)
    return out


def _plausible(amount: float, decimals: bool) -> str:
    """Round a converted amount the way a person would write it."""
    if decimals and amount < 1000:
        return f"{amount:,.2f}" if amount < 100 else f"{round(amount):,}"
    if amount < 20:
        return f"{max(1, round(amount)):,}"
    step = 10 ** max(0, int(math.log10(amount)) - 1)
    return f"{int(round(amount / step) * step):,}"


def swap_currency(text: str) -> list[str]:
    """Each amount in one currency rewritten in each of the others, at a plausible rate.

    >>> swap_currency("only £20 today")
    ['only $25 today', 'only €23 today', 'only ₹2,100 today', 'only ₦38,000 today']
    """
    matches = list(_MONEY.finditer(text))
    if not matches:
        return []
    source = matches[0].group(1)
    out = []
    for target, rate in CURRENCY_RATE.items():
        if target == source:
            continue

        def convert(m, target=target, rate=rate):
            amount = float(m.group(2).replace(",", "") + (m.group(3) or "")) * (1000 if m.group(4) else 1)
            value = amount / CURRENCY_RATE[m.group(1)] * rate
            return target + _plausible(value, bool(m.group(3)) and not m.group(4))

        out.append(_MONEY.sub(convert, text))
    return out


def _match_case(word: str, like: str) -> str:
    if like.isupper() and len(like) > 1:
        return word.upper()
    if like[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def swap_spelling(text: str) -> list[str]:
    """UK spellings made US and US spellings made UK (one variant per direction that applies)."""
    out = []
    for table in (SPELLING, {us: uk for uk, us in SPELLING.items() if uk != us}):
        pattern = re.compile(r"\b(" + "|".join(sorted(table, key=len, reverse=True)) + r")\b", re.IGNORECASE)
        new = pattern.sub(lambda m: _match_case(table[m.group(1).lower()], m.group(1)), text)
        if new != text:
            out.append(new)
    return out


def add_emoji(text: str) -> list[str]:
    """One emoji added at the end of a post that has none.

    >>> add_emoji("see you at 8") != []
    True
    >>> add_emoji("see you at 8 😊")
    []
    """
    if _EMOJI.search(text):
        return []
    rng = _seeded(text, "emoji")
    return [text.rstrip() + " " + rng.choice(EMOJI_TO_ADD)]


def choose_emoji(text: str) -> list[str]:
    """Which emoji it is: three of 16 common emoji, each added at the end of a post that has none,
    or put in place of every emoji of a post that has some (each once).

    LABELS.md: intent decides, not form; "so proud of you 😭" and "so proud of you ✨" do the same thing.

    >>> len(choose_emoji("see you at 8")), [len(set(v) - set("done see you")) for v in choose_emoji("done 🎉 see 👋")]
    (3, [1, 1, 1])
    """
    picks = _seeded(text, "emoji-choice").sample(EMOJI_COMMON, 3)
    if not _EMOJI.search(text):
        return [text.rstrip() + " " + emoji for emoji in picks]
    out = [_EMOJI.sub(emoji, text) for emoji in picks]
    return [new for new in dict.fromkeys(out) if new != text]


def remove_emoji(text: str) -> list[str]:
    """Every emoji taken out of a post that has some.

    >>> remove_emoji("done 🎉🎉 see you soon 👋")
    ['done see you soon']
    """
    if not _EMOJI.search(text):
        return []
    new = _EMOJI.sub("", text)
    new = re.sub(r"[ \t]{2,}", " ", new)
    new = re.sub(r"[ \t]+(\n|$)", r"\1", new).strip()
    return [new] if new and new != text else []


def add_photo_link(text: str) -> list[str]:
    """The post with a photo link at the end, once per link style (t.co, pic.twitter.com, instagr.am).

    >>> [v.split()[-1][:8] for v in add_photo_link("beach day")]
    ['https://', 'pic.twit', 'instagr.']
    """
    rng = _seeded(text, "photo")
    return [text.rstrip() + " " + style.format(_link_code(rng)) for style in PHOTO_LINKS]


def _link_code(rng: random.Random) -> str:
    """The ten random characters of a short link's path."""
    return "".join(rng.choice("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(10))


def add_photo_link_after_break(text: str) -> list[str]:
    """The post with a photo link after a full stop, and on a line of its own.

    Exports put an attached photo after the caption's last sentence or on a new line; the
    mark before the link is form, not intent, and must not move the label.

    >>> [v[:-10] for v in add_photo_link_after_break("beach day")]
    ['beach day. https://t.co/', 'beach day\\npic.twitter.com/']
    """
    code = _link_code(_seeded(text, "photo-break"))
    body = text.rstrip()
    sentence = body if body[-1:] in ".!?" or _EMOJI.search(body[-2:]) else body + "."
    return [sentence + " " + PHOTO_LINKS[0].format(code), body + "\n" + PHOTO_LINKS[1].format(code)]


def add_hashtags(text: str) -> list[str]:
    """Two hashtags after the post's last sentence, once on the same line and once on a line of their own.

    LABELS.md: a hashtag decides nothing by itself. Exports end many captions this way.

    >>> [v[:24] for v in add_hashtags("beach day with the kids")]
    ['beach day with the kids ', 'beach day with the kids\\n']
    """
    tags = " ".join(_seeded(text, "tags").sample(HASHTAGS_TO_ADD, 2))
    body = text.rstrip()
    return [body + " " + tags, body + "\n\n" + tags]


def repost(text: str) -> list[str]:
    """The post as someone else's repost: "RT @handle: <post>".

    LABELS.md: a repost without a comment of one's own is judged by the reposted text.

    >>> repost("beach day")[0].startswith("RT @") and repost("beach day")[0].endswith(": beach day")
    True
    """
    if text.lstrip().upper().startswith("RT @"):
        return []
    handle = _seeded(text, "repost").choice(HANDLES)
    return [f"RT {handle}: {text}"]


_KEPT_AS_IS = re.compile(f"((?i:{URL_PATTERN})|{_HANDLE.pattern})")    # links as the normaliser reads them, @handles


def capitals(text: str) -> list[str]:
    """The post in capitals (links and @handles kept as they are), as excited fans and friends write.

    >>> capitals("so proud of you @sam_k https://t.co/Ab12")
    ['SO PROUD OF YOU @sam_k https://t.co/Ab12']
    """
    parts = _KEPT_AS_IS.split(text)
    new = "".join(part if i % 2 else part.upper() for i, part in enumerate(parts))
    return [new] if new != text else []


_FINAL_MARKS = re.compile(r"[.!]+$")


def final_mark(text: str) -> list[str]:
    """The post without its closing full stop or exclamation mark, or with a full stop added where it has none.

    Whether the last sentence is closed is habit and keyboard, not intent: texts and comments
    often stop without one, brand copy rarely does. A question mark is left alone.

    >>> final_mark("beach day!!"), final_mark("beach day"), final_mark("beach day?"), final_mark("beach day 😊")
    (['beach day'], ['beach day.'], [], [])
    """
    body = text.rstrip()
    if _FINAL_MARKS.search(body):
        cut = _FINAL_MARKS.sub("", body).rstrip()
        return [cut] if cut else []
    return [body + "."] if body[-1:].isalnum() else []


def apostrophes(text: str) -> list[str]:
    """The post with straight apostrophes curled (’), or curled ones straightened, as phones and
    desktops type them.

    >>> apostrophes("can't wait, it's today"), apostrophes("can’t wait"), apostrophes("no apostrophe")
    (['can’t wait, it’s today'], ["can't wait"], [])
    """
    if "'" in text:
        return [text.replace("'", "’")]
    if "’" in text:
        return [text.replace("’", "'")]
    return []


def ampersand(text: str) -> list[str]:
    """The post with "and" written "&", as short posts and captions often have it.

    >>> ampersand("Sam and I went, and it rained"), ampersand("nothing to join")
    (['Sam & I went, & it rained'], [])
    """
    new = re.sub(r"(?<=\S) and (?=\S)", " & ", text)
    return [new] if new != text else []


def add_cta(text: str, cta: str) -> str:
    """The post with a call to action appended."""
    return text.rstrip() + " " + cta.strip()


INVARIANCE: dict[str, tuple[Callable[[str], list[str]], Callable[[dict], bool], str]] = {
    "photo_link": (add_photo_link, lambda case: case["kind"] == "personal",
                   "a photo link (t.co, pic.twitter.com, instagr.am) at the end of a personal post"),
    "photo_link_break": (add_photo_link_after_break, lambda case: case["kind"] == "personal",
                         "a photo link after a full stop or on a line of its own, at the end of a personal post"),
    "hashtags": (add_hashtags, lambda case: True, "two hashtags after the last sentence, or on a line of their own"),
    "repost": (repost, lambda case: True, "the post reposted as \"RT @handle: …\""),
    "capitals": (capitals, lambda case: True, "the post in capitals (links and @handles kept)"),
    "final_mark": (final_mark, lambda case: True, "the closing full stop or exclamation mark dropped, or a full stop added"),
    "apostrophes": (apostrophes, lambda case: True, "straight apostrophes curled, or curled ones straightened"),
    "ampersand": (ampersand, lambda case: True, "\"and\" written \"&\""),
    "names": (swap_names, lambda case: True, "person names swapped"),
    "handles": (swap_handles, lambda case: True, "@handles swapped"),
    "brands": (swap_brands, lambda case: True, "brand names swapped"),
    "towns": (swap_towns, lambda case: True, "town names swapped"),
    "currency": (swap_currency, lambda case: True, "£/$/€/₹/₦ swapped, with a plausible amount"),
    "spelling": (swap_spelling, lambda case: True, "US/UK spelling swapped"),
    "emoji_add": (add_emoji, lambda case: True, "an emoji added"),
    "emoji_choice": (choose_emoji, lambda case: True, "one of 16 common emoji added, or put in place of the post's emoji"),
    "emoji_remove": (remove_emoji, lambda case: True, "emoji removed"),
}


# -- cases ----------------------------------------------------------------------------------
@dataclass
class Cases:
    """The hand-written material: base posts, calls to action, reply pairs and MFT posts."""

    base: list[dict]
    ctas: list[dict]
    reply_pairs: list[dict]
    mft: list[dict]

    @classmethod
    def load(cls, folder: Path | str = CASES_DIR) -> "Cases":
        folder = Path(folder)
        return cls(
            base=read_jsonl(folder / "base_posts.jsonl"),
            ctas=read_jsonl(folder / "ctas.jsonl"),
            reply_pairs=read_jsonl(folder / "reply_pairs.jsonl"),
            mft=read_jsonl(folder / "mft.jsonl") + read_jsonl(folder / "terse.jsonl"),
        )


@dataclass
class Result:
    """One behaviour test: how many of its cases passed, and the failures."""

    name: str
    family: str
    description: str
    passed: int = 0
    total: int = 0
    failures: list[dict] = field(default_factory=list)
    by_kind: dict = field(default_factory=dict)      # kind -> [passed, total]

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else float("nan")

    def add(self, ok: bool, kind: str | None, failure: dict) -> None:
        self.total += 1
        self.passed += bool(ok)
        counts = self.by_kind.setdefault(kind or "?", [0, 0])
        counts[0] += bool(ok)
        counts[1] += 1
        if not ok:
            self.failures.append(failure)


def _scorer(model) -> Callable[[list[str]], list[float]]:
    """A function texts -> p_broadcast from a Predictor, an object with p_broadcast, or a callable."""
    if hasattr(model, "p_broadcast"):
        return lambda texts: [float(p) for p in model.p_broadcast(list(texts))]
    if callable(model):
        return lambda texts: [float(p) for p in model(list(texts))]
    raise TypeError("model must be a Predictor, an object with p_broadcast(texts), or a callable texts -> p_broadcast.")


def _label(p: float, threshold: float) -> str:
    return LABELS[0] if p >= threshold else LABELS[1]


def raised(before: float, after: float) -> bool:
    """True when ``after`` is higher, or both sit at the top of the float range (no room to rise)."""
    return after > before or (before >= 1.0 - 1e-12 and after >= before)


def lowered(before: float, after: float) -> bool:
    """True when ``after`` is lower, or both sit at the bottom of the float range."""
    return after < before or (before <= 1e-12 and after <= before)


def run(model, cases: Cases | None = None, *, threshold: float | None = None) -> list[Result]:
    """Run every behaviour test against ``model``; return one :class:`Result` per test.

    ``model`` is a :class:`~smclass.Predictor` (its threshold is used), any object with
    ``p_broadcast(texts)``, or a callable ``texts -> p_broadcast``.
    """
    cases = cases or Cases.load()
    if threshold is None:
        threshold = float(getattr(model, "threshold", 0.5))
    score = _scorer(model)
    # Build every text first, score them in one batch.
    texts: dict[str, int] = {}

    def slot(text: str) -> int:
        return texts.setdefault(text, len(texts))

    plan = []
    for name, (perturb, applies, description) in INVARIANCE.items():
        for case in cases.base:
            if not applies(case):
                continue
            for variant in perturb(case["text"]):
                plan.append(("INV", name, description, case, case["text"], variant))
    for i, case in enumerate(cases.base):
        for j in (i, i + 11):
            cta = cases.ctas[j % len(cases.ctas)]["text"]
            plan.append(("DIR", "cta", "a call to action with a link raises p_broadcast", case, case["text"], add_cta(case["text"], cta)))
    for pair in cases.reply_pairs:
        plan.append(("DIR", "reply", "the same content as a reply answering a named person lowers p_broadcast",
                     pair, pair["statement"], pair["reply"]))
    for case in cases.mft:
        test = case.get("test", case["kind"])
        about = (f"hand-written {test} posts get {case['label']}" if test == case["kind"]
                 else f"hand-written {test} posts get their label")
        plan.append(("MFT", test, about, case, case["text"], None))
    for _, _, _, _, a, b in plan:
        slot(a)
        if b is not None:
            slot(b)
    ordered = sorted(texts, key=texts.get)
    scores = score(ordered)
    if len(scores) != len(ordered):
        raise ValueError(f"the model returned {len(scores)} scores for {len(ordered)} posts.")
    p = dict(zip(ordered, scores))

    results: dict[str, Result] = {}
    for family, name, description, case, a, b in plan:
        key = f"{family} {name}"
        result = results.setdefault(key, Result(key, family, description))
        kind = case.get("kind")
        if family == "INV":
            ok = _label(p[a], threshold) == _label(p[b], threshold)
            fail = {"text": b, "original": a, "expected": _label(p[a], threshold), "p_broadcast": p[b], "p_original": p[a]}
        elif family == "DIR" and name == "cta":
            ok = raised(p[a], p[b])
            fail = {"text": b, "original": a, "expected": "p_broadcast up", "p_broadcast": p[b], "p_original": p[a]}
        elif family == "DIR":
            ok = lowered(p[a], p[b])
            fail = {"text": b, "original": a, "expected": "p_broadcast down", "p_broadcast": p[b], "p_original": p[a]}
        else:
            ok = _label(p[a], threshold) == case["label"]
            fail = {"text": a, "expected": case["label"], "p_broadcast": p[a]}
        fail["test"] = key
        fail["id"] = case.get("id")
        result.add(ok, kind, fail)
    order = {"INV": 0, "DIR": 1, "MFT": 2}
    return sorted(results.values(), key=lambda r: (order[r.family], r.name))


def family_rates(results: list[Result]) -> dict[str, float]:
    """Pass rate of each family over all its cases."""
    out = {}
    for family in ("INV", "DIR", "MFT"):
        members = [r for r in results if r.family == family]
        total = sum(r.total for r in members)
        out[family] = sum(r.passed for r in members) / total if total else float("nan")
    return out


def rates(results: list[Result]) -> dict[str, float]:
    """Pass rate of every test and every family, keyed ``"INV names"``, ``"MFT promotion"``, ``"INV"``…"""
    out = {r.name: r.rate for r in results}
    out.update(family_rates(results))
    return out


def kind_rates(results: list[Result], family: str | None = None) -> dict[str, tuple[int, int]]:
    """(passed, total) per post kind, summed over the tests of ``family`` (all when None)."""
    out: dict[str, list[int]] = {}
    for r in results:
        if family and r.family != family:
            continue
        for kind, (ok, n) in r.by_kind.items():
            counts = out.setdefault(kind, [0, 0])
            counts[0] += ok
            counts[1] += n
    return {k: tuple(v) for k, v in sorted(out.items())}


def worst_failures(results: list[Result], n: int = 20) -> list[dict]:
    """The ``n`` failures farthest from passing (largest miss in p_broadcast), across all tests."""
    def miss(f):
        if f["expected"] in LABELS:
            target = 1.0 if f["expected"] == "broadcast" else 0.0
            return abs(target - f["p_broadcast"])
        return abs(f["p_broadcast"] - f["p_original"])

    everything = [f for r in results for f in r.failures]
    return sorted(everything, key=miss, reverse=True)[:n]


# -- floors ---------------------------------------------------------------------------------
def floors_from(results: list[Result]) -> dict[str, float]:
    """Each rate rounded down to the whole percent, as a fraction."""
    return {name: math.floor(rate * 100 + 1e-9) / 100 for name, rate in rates(results).items()}


def read_floors(path: Path | str = FLOORS) -> dict[str, float]:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)["floors"]


def write_floors(results: list[Result], path: Path | str = FLOORS, model: str = "") -> dict[str, float]:
    floors = floors_from(results)
    payload = {
        "about": "Pass-rate floors of the behaviour suite for the model `smclass train` makes from the shipped "
                 "corpus; tests/behaviour fails if a rate falls below its floor. Re-pin with "
                 "`python -m smclass.behaviour --pin` after training that model.",
        "model": model,
        "floors": floors,
    }
    path = Path(path)
    tmp = path.with_name(f".smclass-{path.name}")
    tmp.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return floors


def below_floors(results: list[Result], floors: dict[str, float]) -> list[str]:
    """One line per rate below its floor, and per test that has no floor."""
    got = rates(results)
    problems = [f"{name}: {got[name]:.1%} is below its floor {floor:.0%}"
                for name, floor in floors.items() if name in got and got[name] + 1e-9 < floor]
    problems += [f"{name}: no floor pinned (re-pin with --pin)" for name in got if name not in floors]
    problems += [f"{name}: pinned but no longer measured" for name in floors if name not in got]
    return problems


# -- text output ----------------------------------------------------------------------------
def format_table(results: list[Result], floors: dict[str, float] | None = None) -> str:
    fam = family_rates(results)
    lines = [f"{'test':<26} {'pass':>7} {'cases':>6} {'rate':>7}" + ("  floor" if floors else "")]
    for family in ("INV", "DIR", "MFT"):
        members = [r for r in results if r.family == family]
        lines.append(f"{family + ' (all)':<26} {sum(r.passed for r in members):>7} {sum(r.total for r in members):>6} "
                     f"{fam[family]:>7.1%}" + (f"  {floors.get(family, float('nan')):.0%}" if floors else "")
                     + f"   target {TARGETS[family]:.0%}")
        for r in members:
            lines.append(f"  {r.name:<24} {r.passed:>7} {r.total:>6} {r.rate:>7.1%}"
                         + (f"  {floors.get(r.name, float('nan')):.0%}" if floors else ""))
    return "\n".join(lines)


def format_failures(failures: list[dict]) -> str:
    lines = []
    for f in failures:
        text = " ".join(f["text"].split())
        extra = "" if "p_original" not in f else f" (was {f['p_original']:.3f})"
        lines.append(f"[{f['test']}] expected {f['expected']}, p_broadcast {f['p_broadcast']:.3f}{extra}: {text}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m smclass.behaviour", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", "-m", default=None, help="model file (default: $SMCLASS_MODEL or models/smclass.joblib)")
    parser.add_argument("--failures", type=int, default=0, metavar="N", help="also list the N worst failures")
    parser.add_argument("--json", action="store_true", help="print rates, per-kind counts and failures as JSON")
    parser.add_argument("--floors", default=str(FLOORS), metavar="PATH", help="floors file (default: tests/behaviour/floors.json)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a rate is below its floor")
    parser.add_argument("--pin", action="store_true", help="write the measured rates, rounded down, as the new floors")
    args = parser.parse_args(argv)
    from .errors import SmclassError
    from .predict import Predictor

    try:
        predictor = Predictor.load(args.model)
    except (SmclassError, OSError, ValueError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    results = run(predictor)
    floors = None
    try:
        if args.pin:
            floors = write_floors(results, args.floors, model=str(args.model or "models/smclass.joblib"))
            print(f"pinned {len(floors)} floors in {args.floors}", file=sys.stderr)
        elif Path(args.floors).is_file():
            floors = read_floors(args.floors)
        elif args.check:
            print(f"Error: {args.floors}: no floors file; pin one with --pin or name it with --floors.", file=sys.stderr)
            return 1
    except OSError as exc:
        print(f"Error: {args.floors}: cannot write the floors ({exc.strerror}); name a file with --floors.", file=sys.stderr)
        return 1
    except (ValueError, KeyError, TypeError):
        print(f"Error: {args.floors}: not a floors file (JSON with a 'floors' object); re-pin it with --pin.", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"rates": rates(results), "by_kind": kind_rates(results),
                          "failures": worst_failures(results, args.failures)}, indent=2, ensure_ascii=False))
    else:
        print(format_table(results, floors))
        if args.failures:
            print(f"\n{args.failures} worst failures:")
            print(format_failures(worst_failures(results, args.failures)))
    if args.check and floors:
        problems = below_floors(results, floors)
        for line in problems:
            print(f"Error: {line}", file=sys.stderr)
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
