"""The cue audit: which surface features of a post go with which label in a corpus.

A hand-written corpus can teach a model shortcuts: if nearly every post with a
link is ``broadcast``, the model learns "link = broadcast" and misreads the
real posts on the other side of the cue (a photo post whose picture shows up
as a link). The audit counts every surface cue per label and, given held-out
predictions, the model's error rate on posts with and without it, so such a
shortcut is seen before it is learned. ``python -m smclass.corpus --cues FILE``
prints it; ``data/DATACARD.md`` carries it.
"""

from __future__ import annotations

import collections
import re
from typing import Callable

LABELS = ("broadcast", "conversational")

# A link as people type it: a scheme, www., a known short host, or a bare domain with a path.
_LINK = re.compile(
    r"(?:https?://|www\.|\b(?:t\.co|pic\.twitter\.com|instagr\.am|youtu\.be|bit\.ly|fb\.watch|tinyurl\.com|goo\.gl)/"
    r"|(?<![@\w.-])[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:com|co|org|net|io|ly|uk|me|tv|app|shop|store|example|ng|in|ph|au|ca|ie|de)"
    r"(?:/\S*)?(?=$|[\s).,!?]))",
    re.IGNORECASE,
)
_MENTION = re.compile(r"(?:^|[^\w@])@\w")
_HASHTAG = re.compile(r"(?:^|\s)#\w")
_PRICE = re.compile(r"[$£€₹₦¥]\s?\d|\b\d+(?:[.,]\d+)?\s?(?:usd|gbp|eur|naira|rs|inr|php|aud|cad|bucks|quid)\b", re.IGNORECASE)
_PERCENT = re.compile(r"\d\s?%|\bper ?cent\b", re.IGNORECASE)
_CODE = re.compile(r"\b(?:code|coupon|promo)\b\W{0,3}[A-Z0-9]{3,}|\buse code\b", re.IGNORECASE)
_CAPS = re.compile(r"\b[A-Z]{3,}\b")
_EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F]|ð\u0178|â\u20ac|â\u009d|ðŸ")
_FIRST = re.compile(r"\b(?:i|i'm|i've|i'll|i'd|im|me|my|mine|myself)\b", re.IGNORECASE)
_SECOND = re.compile(r"\b(?:you|you're|you've|you'll|your|yours|yourself|u|ur|y'all|ya)\b", re.IGNORECASE)
_REPOST = re.compile(r"(?:^|\s)(?:RT|MT)\s?@|\bvia @", re.IGNORECASE)
LENGTH_BUCKETS = ((0, 60, "length < 60"), (60, 140, "length 60-139"), (140, 280, "length 140-279"),
                  (280, 10**9, "length >= 280"))


def _link_last(text: str) -> bool:
    tokens = text.split()
    return bool(tokens) and bool(_LINK.search(tokens[-1].rstrip(".,!?)") + " "))


_ARROWS = "👉👇→➡⬇"
_TAG_AFTER_STOP = re.compile(r"(?:[.!]|\n)[ \t]*#\w")
_OPENS_RT = re.compile(r"\s*RT @\w", re.IGNORECASE)


def _before_link(text: str) -> list[str]:
    """What each link follows, with spaces and tabs skipped: "\n" for a line of its own, else the last character.

    The model pairs each word with the next, so the mark before a link is a feature of its own:
    when a full stop, a line break or an arrow before a link sits under one label, the model learns
    that instead of the link (a personal photo post exported as "Beach day. https://t.co/…").
    """
    marks = []
    for match in _LINK.finditer(text):
        before = text[: match.start()].rstrip(" \t").rstrip("\ufe0f")
        if before:
            marks.append("\n" if before.endswith("\n") else before[-1])
    return marks


CUES: dict[str, Callable[[str], bool]] = {
    "link": lambda t: bool(_LINK.search(t)),
    "link as last token": _link_last,
    "link after a full stop": lambda t: "." in _before_link(t),
    "link on a line of its own": lambda t: "\n" in _before_link(t),
    "arrow before a link": lambda t: any(m in _ARROWS for m in _before_link(t)),
    "hashtag after a full stop or line break": lambda t: bool(_TAG_AFTER_STOP.search(t)),
    "opens with \"RT @\"": lambda t: bool(_OPENS_RT.match(t)),
    "leading @mention": lambda t: t.lstrip().startswith("@"),
    "any @mention": lambda t: bool(_MENTION.search(t)),
    "hashtag": lambda t: bool(_HASHTAG.search(t)),
    "price": lambda t: bool(_PRICE.search(t)),
    "percentage": lambda t: bool(_PERCENT.search(t)),
    "discount code": lambda t: bool(_CODE.search(t)),
    "ALL-CAPS word": lambda t: bool(_CAPS.search(t)),
    "emoji": lambda t: bool(_EMOJI.search(t)),
    "question mark": lambda t: "?" in t,
    "exclamation mark": lambda t: "!" in t,
    "first-person singular": lambda t: bool(_FIRST.search(t)),
    "second person": lambda t: bool(_SECOND.search(t)),
    "line breaks": lambda t: "\n" in t,
    '"RT"/"via @"': lambda t: bool(_REPOST.search(t)),
}
for _low, _high, _name in LENGTH_BUCKETS:
    CUES[_name] = lambda t, lo=_low, hi=_high: lo <= len(t) < hi

# Cues the spec makes decisive (LABELS.md rule 2: a price, discount or code tips a post to
# broadcast unless it is handed to one person who asked), so they may lean hard on one label.
DECISIVE = frozenset({"price", "percentage", "discount code"})
LEAN_LIMIT = 0.8


def audit(texts: list[str], labels: list[str], predicted: list[str] | None = None) -> list[dict]:
    """One row per cue: posts of each label carrying it, the label it leans to, and error rates.

    ``predicted`` are held-out predictions for the same posts (out-of-fold or a
    test split, never predictions on posts the model was fitted on); with them
    each row also gets the error rate on posts with and without the cue.
    """
    totals = collections.Counter(labels)
    rows = []
    for name, has in CUES.items():
        flags = [has(t) for t in texts]
        count = collections.Counter(label for label, flag in zip(labels, flags) if flag)
        carrying = sum(count.values())
        row = {"cue": name, "posts": carrying}
        for label in LABELS:
            row[label] = count[label]
            row[f"share of {label}"] = count[label] / totals[label] if totals[label] else 0.0
        leaning = max(LABELS, key=lambda label: count[label])
        row["leans to"] = leaning if carrying else ""
        row["lean"] = count[leaning] / carrying if carrying else 0.0
        row["decisive"] = name in DECISIVE
        if predicted is not None:
            for side, want in (("error with", True), ("error without", False)):
                pairs = [(p, y) for p, y, f in zip(predicted, labels, flags) if f == want]
                row[side] = sum(p != y for p, y in pairs) / len(pairs) if pairs else None
        rows.append(row)
    return rows


def over_limit(rows: list[dict], limit: float = LEAN_LIMIT) -> list[dict]:
    """Cues, other than the decisive ones, that carry one label more than ``limit`` of the time."""
    return [r for r in rows if not r["decisive"] and r["posts"] and r["lean"] > limit]


def _pct(value) -> str:
    return "–" if value is None else f"{value:.0%}"


def table(rows: list[dict]) -> str:
    """The audit as a Markdown table."""
    errors = "error with" in rows[0]
    header = ["cue", "broadcast posts", "share of broadcast", "conversational posts", "share of conversational",
              "leans", "lean"]
    if errors:
        header += ["held-out error with", "without"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        lean = f"{r['lean']:.0%}" + (" (decisive)" if r["decisive"] else "")
        cells = [r["cue"], r["broadcast"], _pct(r["share of broadcast"]), r["conversational"],
                 _pct(r["share of conversational"]), r["leans to"], lean]
        if errors:
            cells += [_pct(r["error with"]), _pct(r["error without"])]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def held_out_predictions(records: list[dict], *, seed: int = 0, log=lambda message: None) -> list[str | None]:
    """Out-of-fold labels for the train split, one fold per writing slice (the letter of the id).

    Leaving a whole writer's slice out is closer to meeting a stranger's posts
    than a random fold is. Test-split posts get None: the audit never looks at them.
    """
    import numpy as np

    from .model import build_pipeline

    train = [i for i, r in enumerate(records) if r.get("split", "train") == "train"]
    slices = sorted({records[i]["id"].split("-")[0] for i in train})
    predicted: list[str | None] = [None] * len(records)
    for held in slices:
        fit = [i for i in train if records[i]["id"].split("-")[0] != held]
        out = [i for i in train if records[i]["id"].split("-")[0] == held]
        log(f"fitting without slice {held!r} ({len(fit)} posts), predicting its {len(out)}")
        pipeline = build_pipeline(seed=seed)
        pipeline.fit([records[i]["text"] for i in fit], np.array([records[i]["label"] for i in fit]))
        for i, label in zip(out, pipeline.predict([records[i]["text"] for i in out])):
            predicted[i] = str(label)
    return predicted


def report(records: list[dict], *, errors: bool = True, log=lambda message: None) -> str:
    """The audit section of the data card: counts on the whole corpus, errors held out by slice."""
    texts = [r["text"] for r in records]
    labels = [r["label"] for r in records]
    counts = table(audit(texts, labels))
    out = [f"Counts on all {len(records)} posts (`python -m smclass.corpus --cues data/posts.jsonl`).\n\n{counts}"]
    if errors:
        predicted = held_out_predictions(records, log=log)
        keep = [i for i, p in enumerate(predicted) if p is not None]
        rows = audit([texts[i] for i in keep], [labels[i] for i in keep], [predicted[i] for i in keep])
        slices = len({records[i]["id"].split("-")[0] for i in keep})
        out.append(
            f"Held-out error rates on the {len(keep)} train-split posts, each predicted by the default pipeline "
            f"fitted without its writing slice ({slices} slices, leave-one-slice-out; the test split is not used):"
            f"\n\n{table(rows)}"
        )
    return "\n\n".join(out) + "\n"
