"""How far our spec agrees with the public sets' own labels, and how far the model is from our spec.

    python -m bench.specagree ../shared/eval [--labels bench/results/spec_labels.jsonl] [--model M]

A model trained on our corpus can only be as right on a public set as our spec
agrees with that set's labelling. To know whether a target such as "macro-F1 0.85
on the public sets" is within the spec's reach, readers labelled stratified random
samples of each set blind (working from LABELS.md and data/GUIDELINES.md alone,
not seeing the set's label or which set it was). This module scores, per set:

- the readers as a classifier of the set's labels (the spec's ceiling there),
- the model against the set's labels on the same sample, and against the readers.

Samples are stratified by the set's label, so macro-F1 is computed with each post
weighted by its class's share of the whole set (what it would be on the set itself).

The labels file holds our labels and a pointer to each post (set name, index in
:mod:`bench.evalsets`' deduplicated order, first 12 hex digits of the text's
sha256): no text of the public sets. Like the sets, it only MEASURES: nothing may
be trained or tuned on it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from sklearn.metrics import f1_score

from .evalsets import BROADCAST, CONVERSATIONAL, load_eval_sets

REPO = Path(__file__).resolve().parent.parent
LABELS_FILE = REPO / "bench" / "results" / "spec_labels.jsonl"
CLASSES = (BROADCAST, CONVERSATIONAL)


def text_key(text: str) -> str:
    """The pointer's check: a post's text hash, so a changed reader or file cannot mis-align labels."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def weighted_macro_f1(truth: list[str], predicted: list[str], weights: list[float]) -> float:
    """Macro-F1 over both classes with a weight per post, as bench.measure scores the sets."""
    return float(f1_score(truth, predicted, labels=list(CLASSES), average="macro", sample_weight=weights,
                          zero_division=0))


def _recall(truth: list[str], predicted: list[str], label: str) -> float | None:
    mine = [p for t, p in zip(truth, predicted) if t == label]
    return sum(p == label for p in mine) / len(mine) if mine else None


def read_labels(path: Path) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                row = json.loads(line)
                if row.get("label") not in CLASSES:
                    raise SystemExit(f"{path}, line {number}: label must be broadcast or conversational.")
                rows.append(row)
    return rows


def measure(eval_dir: Path, labels_path: Path, predict) -> list[dict]:
    """One row per set that has both labels in the file and data in ``eval_dir``.

    ``predict``: texts -> labels (the model under test)."""
    sets, _ = load_eval_sets(eval_dir)
    by_name = {s.name: s for s in sets}
    ours = read_labels(labels_path)
    rows = []
    for name in dict.fromkeys(r["set"] for r in ours):
        found = by_name.get(name)
        if found is None:
            continue
        mine = [r for r in ours if r["set"] == name]
        for r in mine:
            if not (0 <= r["index"] < len(found)) or text_key(found.texts[r["index"]]) != r["sha256_12"]:
                raise SystemExit(f"{labels_path}: the post at {name}[{r['index']}] is not the one that was "
                                 f"labelled (the set or its reader changed); relabel before measuring.")
        truth = [str(found.labels[r["index"]]) for r in mine]
        reader = [r["label"] for r in mine]
        model = list(predict([found.texts[r["index"]] for r in mine]))
        population = {c: int((found.labels == c).sum()) for c in CLASSES}
        sampled = {c: truth.count(c) for c in CLASSES}
        weights = [population[t] / sampled[t] for t in truth]
        row = {"set": name, "n": len(mine), "population": population, "sampled": sampled,
               "reader_agreement": sum(a == t for a, t in zip(reader, truth)) / len(truth),
               "model_agrees_with_reader": sum(a == m for a, m in zip(reader, model)) / len(truth),
               "recall": {c: {"reader": _recall(truth, reader, c), "model": _recall(truth, model, c)}
                          for c in CLASSES if sampled[c]},
               "unsure": sum(bool(r.get("unsure")) for r in mine)}
        if all(sampled.values()):
            row["reader_macro_f1"] = weighted_macro_f1(truth, reader, weights)
            row["model_macro_f1"] = weighted_macro_f1(truth, model, weights)
        rows.append(row)
    return rows


def _pct(value) -> str:
    return "–" if value is None else f"{value:.1%}"


def format_table(rows: list[dict]) -> str:
    lines = ["| set | sample (broadcast / conversational) | readers agree with the set | readers' macro-F1 (the spec's ceiling) "
             "| model's macro-F1, same sample | set's conversational posts: readers / model | set's broadcast posts: readers / model "
             "| model agrees with readers |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        f1 = lambda key: f"{r[key]:.3f}" if key in r else "–"
        rec = lambda c: (f"{_pct(r['recall'][c]['reader'])} / {_pct(r['recall'][c]['model'])}"
                         if c in r["recall"] else "–")
        lines.append(f"| {r['set']} | {r['sampled'][BROADCAST]} / {r['sampled'][CONVERSATIONAL]} | {_pct(r['reader_agreement'])} "
                     f"| {f1('reader_macro_f1')} | {f1('model_macro_f1')} | {rec(CONVERSATIONAL)} | {rec(BROADCAST)} "
                     f"| {_pct(r['model_agrees_with_reader'])} |")
    both = [r for r in rows if "reader_macro_f1" in r]
    if both:
        mean = lambda key: sum(r[key] for r in both) / len(both)
        lines.append(f"| mean of {len(both)} labelled sets | | | {mean('reader_macro_f1'):.3f} | {mean('model_macro_f1'):.3f} | | | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.specagree", description=__doc__.split("\n\n")[0])
    parser.add_argument("eval_dir", type=Path, help="the external evaluation folder (../shared/eval)")
    parser.add_argument("--labels", type=Path, default=LABELS_FILE, help=f"our blind labels (default: {LABELS_FILE.relative_to(REPO)})")
    parser.add_argument("--model", help="model file to score (default: $SMCLASS_MODEL, models/smclass.joblib, "
                                         "else the model shipped in the package)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    from smclass import Predictor
    from smclass.errors import ModelError

    try:
        predictor = Predictor.load(args.model)
    except ModelError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    rows = measure(args.eval_dir, args.labels, lambda texts: predictor.predict(texts))
    if not rows:
        print(f"no labelled set of {args.labels} was found in {args.eval_dir}", file=sys.stderr)
        return 1
    print(json.dumps(rows, indent=2) if args.json else format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
