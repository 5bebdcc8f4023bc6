"""Choose features and parameters for transfer: grouped cross-validation on the train split only.

    python -m bench.model_choice [--corpus data/posts.jsonl] [--only NAME ...] [--output FILE]

Random folds share writers and styles between their train and test parts, so
they flatter whatever the corpus's habits teach. Each candidate here is scored
by leave-one-writing-slice-out and leave-one-platform-out cross-validation on
the corpus's train split (the test split is never read), and, when the
behaviour suite is installed, by its pass rates for a model fitted on the whole
train split. The table it prints goes into BENCHMARKS.md ("Model choice").
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# name -> pipeline parameters on top of smclass.model.DEFAULT_PARAMS
CANDIDATES: dict[str, dict] = {
    "default (0.1.0)": {},
    "C=4": {"classifier__C": 4.0},
    "C=64": {"classifier__C": 64.0},
    "char 3-6": {"features__char_ngrams": (3, 6)},
    "marks": {"features__marks": True},
    "link-only token": {"features__link_only": True},
    "marks + link-only": {"features__marks": True, "features__link_only": True},
    "marks + link-only, C=4": {"features__marks": True, "features__link_only": True, "classifier__C": 4.0},
}


def _train_posts(corpus: Path):
    from smclass.data import load_posts

    posts = load_posts(corpus)
    train = [s != "test" for s in posts.columns["split"]]
    return posts.subset(train)


def _supported(params: dict) -> bool:
    from smclass.model import build_pipeline

    try:
        build_pipeline(**params)
    except ValueError:
        return False
    return True


def _behaviour(posts, params: dict) -> dict | None:
    try:
        from smclass import behaviour
    except ImportError:
        return None
    from smclass.model import build_pipeline
    from smclass.predict import Predictor

    pipeline = build_pipeline(**params).fit(posts.texts, posts.labels)
    return behaviour.run(Predictor(pipeline)).get("families")


def evaluate(name: str, params: dict, posts, log) -> dict:
    from smclass.model import grouped_cross_validate

    started = time.perf_counter()
    slices = [i.split("-")[0] for i in posts.columns["id"]]
    by_slice = grouped_cross_validate(posts, slices, **params)
    by_platform = grouped_cross_validate(posts, posts.columns["platform"], **params)
    row = {
        "candidate": name,
        "params": {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()},
        "slice_out_macro_f1": by_slice["macro_f1"],
        "slice_out_worst": min(by_slice["groups"].values()),
        "platform_out_macro_f1": by_platform["macro_f1"],
        "platform_out_worst": min(by_platform["groups"].values()),
        "behaviour": _behaviour(posts, params),
        "seconds": round(time.perf_counter() - started, 1),
    }
    log(f"{name}: slice-out {row['slice_out_macro_f1']:.3f}, platform-out {row['platform_out_macro_f1']:.3f}"
        f" ({row['seconds']} s)")
    return row


def table(rows: list[dict]) -> str:
    families = sorted({f for r in rows for f in (r["behaviour"] or {})})
    header = ["candidate", "leave-one-slice-out macro-F1", "worst slice", "leave-one-platform-out macro-F1",
              "worst platform"] + [f"behaviour: {f}" for f in families]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        cells = [r["candidate"], f"{r['slice_out_macro_f1']:.3f}", f"{r['slice_out_worst']:.3f}",
                 f"{r['platform_out_macro_f1']:.3f}", f"{r['platform_out_worst']:.3f}"]
        cells += [f"{(r['behaviour'] or {}).get(f, float('nan')):.1%}" for f in families]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.model_choice", description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=str(REPO / "data" / "posts.jsonl"))
    parser.add_argument("--only", nargs="*", help="candidate names to run (default: all the code supports)")
    parser.add_argument("--output", help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    log = lambda m: print(f"[model choice] {m}", file=sys.stderr, flush=True)  # noqa: E731
    posts = _train_posts(Path(args.corpus))
    log(f"{len(posts)} train-split posts")
    rows = []
    for name, params in CANDIDATES.items():
        if args.only and name not in args.only:
            continue
        if not _supported(params):
            log(f"{name}: not supported by this version of the features, skipped")
            continue
        rows.append(evaluate(name, params, posts, log))
    print(table(rows))
    if args.output:
        Path(args.output).write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
