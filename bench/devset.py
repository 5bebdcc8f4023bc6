"""A development set of real posts, outside the evaluation folder, for CHOOSING between models.

    python -m bench.devset PATH/TO/train.csv [--labels bench/results/dev_labels.jsonl] [--model M]
    python -m bench.devset PATH/TO/train.csv --candidates [--grouped]

Issue 10 asks for model choices that transfer to posts no one here wrote. Our
grouped cross-validations hold out slices, platforms or topics of *our* corpus, so
they share its writers' vocabulary, and several choices they favoured did not move
the public sets. The public sets only measure. So we took a third source of real
posts, never in ``../shared/eval``, to choose on: 900 distinct tweets drawn at random
(seed 20261130, skipping the file's 30 opening toy sentences) from the training file
of Kaggle's "Natural Language Processing with Disaster Tweets" (7,613 tweets from
2015), as copied in github.com/J-Dymond/COMP6208 at commit 2043b33bbaef363cee4ef444
ba74dc58a69154b9, path ``nlp-getting-started/train.csv`` (sha256 2724edf814c85e9a...).
The file's own ``target`` column (about a disaster or not) is never read.

Six readers (language-model sessions, like the corpus's second annotators) labelled
150 posts each blind, from LABELS.md and data/GUIDELINES.md alone, and 30 of a
neighbour's posts again, for agreement. The labels file holds our labels and a pointer
to each post (the file's ``id``, first 12 hex digits of the text's sha256), never its
text, so the tweets stay outside the project: pass the file by path.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

from .specagree import CLASSES, read_labels, text_key  # noqa: F401  (text_key: the pointer's hash, here too)

REPO = Path(__file__).resolve().parent.parent
LABELS_FILE = REPO / "bench" / "results" / "dev_labels.jsonl"

# Model-choice candidates scored by --candidates: build_pipeline() parameters.
CANDIDATES = {
    "naive-Bayes-scaled only (plain share 0, the model before)": {"classifier__plain_share": 0.0},
    "plain share 0.25": {"classifier__plain_share": 0.25},
    "plain share 0.375": {"classifier__plain_share": 0.375},
    "plain share 0.5 (default)": {},
    "plain share 0.75": {"classifier__plain_share": 0.75},
    "plain logistic regression": {"classifier__nb": False},
}


def load(csv_path: Path, labels_path: Path = LABELS_FILE) -> tuple[list[str], np.ndarray, list[dict]]:
    """Texts and reader labels of the development set, checked against each pointer's hash."""
    try:
        with open(csv_path, encoding="utf-8", newline="") as handle:
            texts = {row["id"]: row["text"] for row in csv.DictReader(handle)}
    except (OSError, KeyError, UnicodeDecodeError) as exc:
        raise SystemExit(f"{csv_path}: cannot read the tweets file ({exc}); pass the train.csv named in "
                         f"bench/devset.py's docstring.") from None
    labels = read_labels(labels_path)
    for row in labels:
        text = texts.get(str(row["id"]))
        if text is None or text_key(text) != row["sha256_12"]:
            raise SystemExit(f"{labels_path}: the post with id {row['id']} is not the one that was labelled "
                             f"in {csv_path} (another file?); relabel before measuring.")
    return [texts[str(r["id"])] for r in labels], np.array([r["label"] for r in labels], dtype=object), labels


def agreement(labels: list[dict]) -> dict:
    """How often a second reader gave the first reader's label, and Cohen's kappa."""
    from smclass.agreement import kappa

    pairs = [(r["label"], r["second"]["label"]) for r in labels if r.get("second")]
    if not pairs:
        return {"double_read": 0}
    first, second = zip(*pairs)
    return {"double_read": len(pairs), "agree": sum(a == b for a, b in pairs) / len(pairs),
            "kappa": kappa(list(first), list(second))}


def score(truth: np.ndarray, p_broadcast, threshold: float = 0.5) -> dict:
    predicted = np.where(np.asarray(p_broadcast) >= threshold, CLASSES[0], CLASSES[1])
    return {"n": len(truth), "macro_f1": float(f1_score(truth, predicted, labels=list(CLASSES), average="macro")),
            **{f"recall_{c}": float(np.mean(predicted[truth == c] == c)) for c in CLASSES}}


def _grouped(posts, params: dict, fitted) -> dict:
    """Both grouped cross-validations on the train split, and the behaviour suite on ``fitted`` (a fit of it)."""
    from smclass import behaviour
    from smclass.model import build_pipeline, grouped_cross_validate, p_broadcast

    slices = [i.split("-")[0] for i in posts.columns["id"]]
    rates = behaviour.rates(behaviour.run(lambda texts: p_broadcast(fitted, texts)))
    return {"slice_out": grouped_cross_validate(posts, slices, pipeline=build_pipeline(**params))["macro_f1"],
            "platform_out": grouped_cross_validate(posts, posts.columns["platform"],
                                                   pipeline=build_pipeline(**params))["macro_f1"],
            **{family: rates[family] for family in ("INV", "DIR", "MFT")}}


def candidates(texts: list[str], truth: np.ndarray, grouped: bool = False) -> list[dict]:
    """Each candidate fitted once on the corpus's train split and scored on the development set."""
    from smclass.model import build_pipeline, p_broadcast

    from .model_choice import _train_posts

    posts = _train_posts(REPO / "data" / "posts.jsonl")
    rows = []
    for name, params in CANDIDATES.items():
        fitted = build_pipeline(**params).fit(posts.texts, posts.labels)
        row = {"candidate": name, **score(truth, p_broadcast(fitted, texts))}
        if grouped:
            row.update(_grouped(posts, params, fitted))
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    return rows


def format_table(rows: list[dict]) -> str:
    grouped = "slice_out" in rows[0]
    head = ["candidate", "development set macro-F1", "recall broadcast", "recall conversational"]
    if grouped:
        head += ["leave-one-slice-out", "leave-one-platform-out", "INV", "DIR", "MFT"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r.get("candidate", "model"), f"{r['macro_f1']:.3f}", f"{r['recall_broadcast']:.1%}",
                 f"{r['recall_conversational']:.1%}"]
        if grouped:
            cells += [f"{r['slice_out']:.4f}", f"{r['platform_out']:.4f}", f"{r['INV']:.1%}", f"{r['DIR']:.1%}",
                      f"{r['MFT']:.1%}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.devset", description=__doc__.split("\n\n")[0])
    parser.add_argument("tweets", type=Path, help="the tweets file (train.csv) named in this module's docstring")
    parser.add_argument("--labels", type=Path, default=LABELS_FILE,
                        help=f"our blind labels (default: {LABELS_FILE.relative_to(REPO)})")
    parser.add_argument("--model", help="model file to score (default: $SMCLASS_MODEL, models/smclass.joblib, "
                                         "else the model shipped in the package)")
    parser.add_argument("--candidates", action="store_true", help="fit and score the model-choice candidates")
    parser.add_argument("--grouped", action="store_true",
                        help="with --candidates: add both grouped CVs and the behaviour suite (minutes each)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    texts, truth, labels = load(args.tweets, args.labels)
    readers = agreement(labels)
    if args.candidates:
        rows = candidates(texts, truth, grouped=args.grouped)
    else:
        from smclass import Predictor
        from smclass.errors import ModelError

        try:
            predictor = Predictor.load(args.model)
        except ModelError as exc:
            print(f"Error: {exc}", file=sys.stderr)
            return 1
        rows = [{"candidate": "model", **score(truth, predictor.p_broadcast(texts), predictor.threshold)}]
    if args.json:
        print(json.dumps({"readers": readers, "rows": rows}, indent=2))
    else:
        print(format_table(rows))
        if readers["double_read"]:
            print(f"\n{len(truth)} posts; {readers['double_read']} read twice: the readers agree on "
                  f"{readers['agree']:.1%}, Cohen's kappa {readers['kappa']:.3f}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
