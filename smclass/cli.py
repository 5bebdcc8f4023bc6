"""The ``smclass`` command: thin wrappers that parse options and call the library.

Exit codes: 0 success; 1 bad input or usage (one ``Error:`` line); 2 internal
error (a bug: traceback with ``--debug``); 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import traceback
import warnings
from pathlib import Path

from . import __version__
from .errors import SmclassError, UsageError

EXIT_OK, EXIT_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 130
TRUST_HELP = (
    "load the model even without a matching model card. Model files are pickles: loading one runs "
    "any code inside it, so use this only for a file you trust as much as a program"
)


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one ``Error:`` line and exit code 1."""

    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"Error: {message}.", file=sys.stderr)
        raise SystemExit(EXIT_INPUT)


class _Log:
    """Progress lines on stderr with elapsed time, silenced by --quiet."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.start = time.perf_counter()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            print(f"[{time.perf_counter() - self.start:6.1f}s] {message}", file=sys.stderr, flush=True)


def _repo_file(relative: str) -> Path:
    """A shipped file: relative to the working folder first, then beside the package."""
    here = Path(relative)
    if here.exists():
        return here
    beside = Path(__file__).resolve().parent.parent / relative
    return beside if beside.exists() else here


def _add_data_options(parser) -> None:
    parser.add_argument("--text-column", default="text", help="column holding the post text (default: text)")
    parser.add_argument("--label-column", default="label", help="column holding the label (default: label)")
    parser.add_argument(
        "--label-map",
        help="map source labels to ours, e.g. spam=broadcast,ham=conversational (case-insensitive)",
    )


def _add_common(parser, default) -> None:
    parser.add_argument("--quiet", "-q", action="store_true", default=default, help="print only results and errors")
    parser.add_argument("--debug", action="store_true", default=default, help="show tracebacks for errors")


def _common_options(default) -> argparse.ArgumentParser:
    """-q and --debug. The top level sets their defaults; a subcommand's copy defaults to
    SUPPRESS, so `smclass -q predict ...` is not undone by the subcommand's own default."""
    common = argparse.ArgumentParser(add_help=False)
    _add_common(common, default)
    return common


def _check_thresholds(parser, args) -> None:
    """Every --threshold is a probability: anything else is a usage error (exit 1)."""
    threshold = getattr(args, "threshold", None)
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        parser.error(f"--threshold must be between 0 and 1, not {threshold:g}")


def build_parser() -> argparse.ArgumentParser:
    common = _common_options(argparse.SUPPRESS)
    parser = _Parser(
        prog="smclass",
        description="Tell broadcast social posts (promotion, announcements) from conversational ones (replies, community).",
        epilog="Exit codes: 0 success, 1 bad input or usage, 2 internal error, 130 interrupted.",
        parents=[_common_options(False)],
    )
    parser.add_argument("--version", action="version", version=f"smclass {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    train = sub.add_parser("train", parents=[common], help="train a model on labelled posts and report held-out metrics",
                           description="Train on labelled posts (default: the shipped corpus data/posts.jsonl, "
                           "train split) and evaluate on held-out posts. Writes the model and its card.")
    train.add_argument("--data", action="append", metavar="FILE",
                       help="labelled posts: CSV, TSV, JSON, JSONL or Parquet (repeatable), or a Hub dataset name")
    train.add_argument("--test", action="append", metavar="FILE", help="held-out labelled posts to evaluate on (repeatable)")
    train.add_argument("--holdout", type=float, default=0.2,
                       help="share held out for testing when the data has no split column and no --test (default 0.2; 0 = none)")
    train.add_argument("--output", "-o", default=None, help="model file to write (default: models/smclass.joblib)")
    train.add_argument("--cv", type=int, default=5, metavar="K",
                       help="report K-fold cross-validated metrics on the training posts (default 5; 0 to skip)")
    train.add_argument("--search", action="store_true", help="choose regularisation and n-gram ranges by 5-fold CV on the training posts")
    train.add_argument("--seed", type=int, default=0, help="random seed (same seed, same data -> identical model)")
    train.add_argument("--threshold", type=float, default=0.5, help="decision threshold on p_broadcast stored in the card (default 0.5)")
    train.add_argument("--json", action="store_true", help="print the model card as JSON instead of a table")
    _add_data_options(train)
    train.set_defaults(func=cmd_train)

    evaluate = sub.add_parser("evaluate", parents=[common], help="score a model on labelled posts",
                              description="Accuracy, macro-F1, per-class precision/recall/F1, MCC, ROC-AUC, Brier score and the confusion matrix.")
    evaluate.add_argument("files", nargs="+", metavar="FILE", help="labelled posts (CSV, TSV, JSON, JSONL, Parquet)")
    evaluate.add_argument("--model", "-m", default=None, help="model file (default: models/smclass.joblib)")
    evaluate.add_argument("--json", action="store_true", help="print the scores as JSON")
    evaluate.add_argument("--errors", type=int, default=0, metavar="N", help="list the N most confident mistakes")
    evaluate.add_argument("--threshold", type=float, default=None, help="decision threshold (default: the model card's)")
    evaluate.add_argument("--split", default=None, help="only rows whose 'split' column has this value (e.g. test)")
    evaluate.add_argument("--trust", action="store_true", help=TRUST_HELP)
    _add_data_options(evaluate)
    evaluate.set_defaults(func=cmd_evaluate)

    info = sub.add_parser("info", parents=[common], help="show versions, the model in use and its card",
                          description="Versions of smclass, scikit-learn, numpy and Python; which model file "
                          "is used and why (--model, $SMCLASS_MODEL, models/ here, or the default shipped "
                          "in the package); its card: when it was made, training rows, parameters, test metrics.")
    info.add_argument("--model", "-m", default=None, help="model file (default: the one `smclass predict` would use)")
    info.add_argument("--json", action="store_true", help="print it as JSON")
    info.set_defaults(func=cmd_info)

    add_predict_parser(sub, common)
    add_report_parser(sub, common)
    return parser


# -- predict and report: parsers and commands over smclass.batch and smclass.report --------
TEXT_COLUMN_HELP = ("column with the post text in generic files (default: text, or one clear candidate such as "
                    "Message, Post, Caption)")


def add_reader_options(parser) -> None:
    """Input options shared by predict and report: date and account columns, dates, sheets, shares."""
    parser.add_argument("--date-column", default=None,
                        help="column with the post date in generic files (default: created_at, Date, Published, "
                        "Post date... when present)")
    parser.add_argument("--account-column", default=None, help="column naming the account that posted, in generic files")
    parser.add_argument("--dayfirst", action="store_true",
                        help="read dates like 05/02/2024 as 5 February (default: month first, 2 May)")
    parser.add_argument("--sheet", default=None, help="the .xlsx sheet to read (default: the first)")
    parser.add_argument("--include-shares", action="store_true",
                        help="classify X retweets too (default: kept with a note, out of the mix, like Mastodon boosts)")


def reader_options(args) -> dict:
    """The values of add_reader_options, as predict_files / build_report keywords; under -q the
    readers' notices (e.g. which column was taken as the text) are dropped: -q promises only
    results and errors."""
    return {"date_column": args.date_column, "account_column": args.account_column, "dayfirst": args.dayfirst,
            "sheet": args.sheet, "include_shares": args.include_shares,
            "notify": _drop if args.quiet else None}


def _drop(message: str) -> None:
    """A notice nobody asked for (-q)."""


def add_predict_parser(sub, common) -> None:
    from .batch import DEFAULT_CHUNK
    from .exports import FORMATS

    parser = sub.add_parser(
        "predict", parents=[common], help="classify posts in files or platform exports",
        description="Classify every post of each INPUT and write one row per input post. Inputs: X/Twitter "
        "archive (tweets.js, folder or .zip), Facebook your_posts*.json, Instagram posts_1.json, LinkedIn "
        "Shares.csv, Mastodon outbox.json, Reddit posts.csv/comments.csv, any CSV/TSV/JSONL/JSON/Parquet "
        "(--text-column), plain text (one post per line), or - for stdin.",
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT")
    parser.add_argument("--output", "-o", default="-",
                        help="output file (.csv, .jsonl, .parquet or .xlsx), a FIFO or a device such as /dev/null; "
                        "default: CSV to stdout. It must not be one of the inputs")
    parser.add_argument("--format", dest="output_format", choices=("csv", "jsonl", "parquet", "xlsx"),
                        help="output format (default: from the extension)")
    parser.add_argument("--excel", action="store_true",
                        help="write CSV with a UTF-8 byte-order mark, so Excel shows accents and emoji correctly")
    parser.add_argument("--no-formula-guard", dest="formula_guard", action="store_false",
                        help="write cells starting with = + - @ tab or CR as they are, for pipelines that are not "
                        "spreadsheets (by default they get a leading ' so a spreadsheet cannot run them as formulas)")
    parser.add_argument("--input-format", default=None, choices=FORMATS, metavar="FORMAT",
                        help=f"force the input format instead of detecting it: {', '.join(FORMATS)}")
    parser.add_argument("--model", "-m", default=None, help="model file (default: models/smclass.joblib)")
    parser.add_argument("--text-column", default=None, help=TEXT_COLUMN_HELP)
    parser.add_argument("--id-column", default=None, help="column with the post id in generic files")
    add_reader_options(parser)
    add_dask_options(parser)
    parser.add_argument("--keep-columns", default="", help="comma-separated input columns to copy to the output")
    parser.add_argument("--no-lang", dest="lang", action="store_false",
                        help="skip language detection: no 'lang' column and no 'not English' notes (by default each "
                        "post gets its ISO 639-1 language code, empty when too short to tell)")
    parser.add_argument("--encoding", default=None, help="input encoding (default: UTF-8, or UTF-16 when it has a BOM)")
    parser.add_argument("--threshold", type=float, default=None, help="decision threshold on p_broadcast (default: the model card's)")
    parser.add_argument("--jobs", "-j", type=int, default=1, help="worker processes for classification (default 1)")
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK, help=f"posts per chunk (default {DEFAULT_CHUNK:,})")
    parser.add_argument("--trust", action="store_true", help=TRUST_HELP)
    parser.set_defaults(func=cmd_predict)


def cmd_predict(args) -> int:
    if args.engine == "dask":
        return cmd_predict_dask(args)
    from .batch import predict_files

    keep = tuple(c.strip() for c in args.keep_columns.split(",") if c.strip())
    if args.chunk_size < 1:
        raise UsageError("--chunk-size must be at least 1.")
    summary = predict_files(
        args.inputs, args.output, model=args.model, output_format=args.output_format,
        input_format=args.input_format, text_column=args.text_column, id_column=args.id_column,
        encoding=args.encoding, **reader_options(args), keep_columns=keep, jobs=args.jobs, chunk_size=args.chunk_size,
        threshold=args.threshold, trusted=args.trust, progress=not args.quiet,
        formula_guard=args.formula_guard, excel=args.excel, lang=args.lang,
    )
    if not args.quiet:
        print(summary.line(args.output), file=sys.stderr)
    return 0


def add_dask_options(parser) -> None:
    """The --engine dask options of ``smclass predict``."""
    from .distributed import DEFAULT_BLOCKSIZE, DEFAULT_PARTITION_ROWS

    group = parser.add_argument_group("distributed (--engine dask)")
    group.add_argument("--engine", choices=("local", "dask"), default="local",
                       help="local: this process (and --jobs); dask: a Dask cluster, output is a folder of part files "
                            "(needs pip install -e \".[dask]\")")
    group.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="Dask scheduler to use, e.g. tcp://10.0.0.5:8786 (default: a LocalCluster of one worker "
                            "process per core)")
    group.add_argument("--workers", type=int, default=None, help="worker processes of the LocalCluster (default: cores)")
    group.add_argument("--partition-rows", type=int, default=DEFAULT_PARTITION_ROWS,
                       help=f"Parquet rows per partition (default {DEFAULT_PARTITION_ROWS:,})")
    group.add_argument("--blocksize", type=int, default=DEFAULT_BLOCKSIZE,
                       help=f"CSV/JSONL bytes per partition (default {DEFAULT_BLOCKSIZE:,}; 0 = one per file)")
    group.add_argument("--overwrite", action="store_true",
                       help="replace an existing output folder that smclass wrote")


def cmd_predict_dask(args) -> int:
    """``smclass predict --engine dask``: the dataset in, a folder of part files out."""
    from .distributed import predict_dataset

    if args.keep_columns.strip():
        raise UsageError("--keep-columns does not apply to --engine dask: every input column is kept.")
    summary = predict_dataset(
        args.inputs, args.output, model=args.model, output_format=args.output_format,
        input_format=args.input_format, text_column=args.text_column, threshold=args.threshold,
        trusted=args.trust, scheduler=args.scheduler, workers=args.workers,
        partition_rows=args.partition_rows, blocksize=args.blocksize, overwrite=args.overwrite, lang=args.lang,
    )
    if not args.quiet:
        print(summary.line(args.output), file=sys.stderr)
    return 0


def add_report_parser(sub, common) -> None:
    from .exports import FORMATS
    from .report import EXAMPLES, MAX_PERIODS, MIN_PERIOD_POSTS, PERIODS

    parser = sub.add_parser(
        "report", parents=[common], help="write an HTML report of the broadcast/conversational mix over time",
        description="Classify every post of each INPUT (anything `smclass predict` reads, or a predictions file it "
        "wrote, whose labels are used as they are) and write one self-contained HTML page: the mix overall, per "
        "period (week, month, quarter or year) and per account, platform or input, a chart, the posts the model "
        "was least sure about, the most typical posts of each kind, and the posts left out; plus the per-period "
        "table as CSV beside it (report.html -> report.periods.csv).",
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT")
    parser.add_argument("--output", "-o", required=True, help="the HTML file to write")
    parser.add_argument("--png", default=None, metavar="FILE", help="also write the chart alone as a PNG")
    parser.add_argument("--model", "-m", default=None, help="model file (default: models/smclass.joblib)")
    parser.add_argument("--trust", action="store_true", help=TRUST_HELP)
    parser.add_argument("--text-column", default=None, help=TEXT_COLUMN_HELP)
    parser.add_argument("--id-column", default=None, help="column with the post id in generic files")
    parser.add_argument("--input-format", default=None, choices=FORMATS, metavar="FORMAT",
                        help=f"force the input format instead of detecting it: {', '.join(FORMATS)}")
    parser.add_argument("--encoding", default=None, help="input encoding (default: UTF-8, or UTF-16 when it has a BOM)")
    add_reader_options(parser)
    parser.add_argument("--threshold", type=float, default=None,
                        help="decision threshold on p_broadcast (default: the model card's; also re-labels predictions files)")
    parser.add_argument("--period", choices=PERIODS, default="auto",
                        help=f"time buckets: week, month, quarter, year, or auto (default): the finest with at least "
                        f"{MIN_PERIOD_POSTS} posts per period on average and at most {MAX_PERIODS} periods")
    parser.add_argument("--title", default=None, help="the report's title")
    parser.add_argument("--no-lang", dest="lang", action="store_false",
                        help="skip language detection: no language mix in the report")
    parser.add_argument("--examples", type=int, default=EXAMPLES, metavar="N",
                        help=f"posts in each of the least-sure and most-typical lists (default {EXAMPLES})")
    parser.set_defaults(func=cmd_report)


def cmd_report(args) -> int:
    from .report import build_report, summary_line

    summary = build_report(
        args.inputs, args.output, png=args.png, model=args.model, trusted=args.trust,
        text_column=args.text_column, id_column=args.id_column, input_format=args.input_format,
        encoding=args.encoding, **reader_options(args), threshold=args.threshold, period=args.period,
        title=args.title, examples=args.examples, progress=not args.quiet, lang=args.lang,
    )
    if not args.quiet:
        print(summary_line(summary), file=sys.stderr)
    return 0


def _split_posts(posts, args, log):
    """Train/test posts: the data's split column, --test files, or a stratified hold-out."""
    from sklearn.model_selection import train_test_split

    from .data import load_posts

    splits = posts.columns.get("split") or []
    if args.test:
        test = load_posts(args.test, text_column=args.text_column, label_column=args.label_column, label_map=args.label_map)
        return posts, test, "the --test files"
    if any(s is not None for s in splits):
        unknown = sorted({str(s) for s in splits} - {"train", "test"})
        if unknown:
            raise UsageError(f"The split column holds {unknown[0]!r}; expected only 'train' and 'test'.")
        is_test = [s == "test" for s in splits]
        return posts.subset([not t for t in is_test]), posts.subset(is_test), "the data's test split"
    if args.holdout and args.holdout > 0:
        if not 0 < args.holdout < 0.9:
            raise UsageError("--holdout must be between 0 and 0.9.")
        import numpy as np

        idx = np.arange(len(posts))
        train_idx, test_idx = train_test_split(idx, test_size=args.holdout, random_state=args.seed, stratify=posts.labels)
        mask = np.zeros(len(posts), dtype=bool)
        mask[test_idx] = True
        log(f"no split column and no --test: holding out {mask.sum()} posts ({args.holdout:.0%}, stratified)")
        return posts.subset(~mask), posts.subset(mask), f"a {args.holdout:.0%} stratified hold-out"
    return posts, None, None


def cmd_train(args) -> int:
    from .writers import check_writable

    output = args.output or str(Path("models") / "smclass.joblib")
    for target in (output, Path(output).with_suffix(".npz"), Path(output).with_suffix(".json")):
        check_writable(target)          # fail now, before the slow imports and the whole training run

    from .data import load_posts
    from .metrics import format_table
    from .model import save, train

    log = _Log(args.quiet)
    sources = args.data or [str(_repo_file("data/posts.jsonl"))]
    log(f"reading {', '.join(sources)}")
    posts = load_posts(sources, text_column=args.text_column, label_column=args.label_column, label_map=args.label_map)
    if posts.duplicates:
        log(f"note: {posts.duplicates} exact duplicate posts (same text, same label) kept")
    train_posts, test_posts, test_name = _split_posts(posts, args, log)
    pipeline, card = train(
        train_posts, test=test_posts, cv=args.cv, do_search=args.search, seed=args.seed, threshold=args.threshold, log=log,
        progress=not args.quiet,
    )
    card["test_source"] = test_name
    card = save(pipeline, card, output)
    log(f"wrote {output}, {Path(output).with_suffix('.npz').name} and {Path(output).with_suffix('.json').name}")
    if args.json:
        print(json.dumps(card, indent=2, ensure_ascii=False))
        return EXIT_OK
    print(f"Trained on {len(train_posts)} posts in {card['training_seconds']:.1f}s -> {output}")
    if card.get("search"):
        print(f"Search: best CV macro-F1 {card['search']['best_cv_macro_f1']:.3f} with {card['search']['best_params']}")
    if card.get("cv"):
        print(format_table(card["cv"], f"{card['cv']['folds']}-fold cross-validation on the training posts"))
    if card.get("test"):
        print(format_table(card["test"], f"Held-out test: {test_name}"))
    else:
        print("No held-out posts: no test metrics (pass --test or keep --holdout above 0).")
    return EXIT_OK


def cmd_evaluate(args) -> int:
    import numpy as np

    from .data import load_posts
    from .metrics import format_table, score
    from .predict import Predictor, default_model_path

    model = args.model or str(default_model_path())
    predictor = Predictor.load(model, threshold=args.threshold, trusted=args.trust)
    for name in args.files:
        if args.label_column == "label" and _is_predictions_file(name, args.text_column):
            raise UsageError(
                f"{Path(name).name} is a predictions file written by `smclass predict` (it has p_broadcast): its "
                "'label' column holds a model's own labels, so scoring against them measures nothing. Evaluate "
                "on posts labelled by people, or name their label column with --label-column."
            )
    posts = load_posts(args.files, text_column=args.text_column, label_column=args.label_column, label_map=args.label_map,
                       keep=("split",), via_datasets=False)
    if args.split:
        splits = posts.columns.get("split") or [None] * len(posts)
        posts = posts.subset([s == args.split for s in splits])
        if not len(posts):
            raise UsageError(f"No rows have split {args.split!r}.")
    p = predictor.p_broadcast(posts.texts)
    scores = score(posts.labels, p, predictor.threshold)
    mistakes = []
    if args.errors:
        predicted = np.where(p >= predictor.threshold, "broadcast", "conversational")
        wrong = np.flatnonzero(predicted != posts.labels.astype(str))
        confidence = np.abs(p[wrong] - 0.5)
        for i in wrong[np.argsort(-confidence)][: args.errors]:
            mistakes.append({"where": posts.where[i], "label": posts.labels[i], "predicted": predicted[i],
                             "p_broadcast": round(float(p[i]), 4), "text": posts.texts[i]})
    if args.json:
        print(json.dumps({"model": model, **scores, "errors": mistakes}, indent=2, ensure_ascii=False))
        return EXIT_OK
    print(format_table(scores, f"{model} on {', '.join(args.files)}"))
    if mistakes:
        print(f"\nThe {len(mistakes)} most confident mistakes:")
        for m in mistakes:
            text = " ".join(m["text"].split())
            text = text if len(text) <= 120 else text[:117] + "..."
            print(f"  {m['where']}: {m['label']} predicted {m['predicted']} (p_broadcast {m['p_broadcast']:.2f}): {text}")
    return EXIT_OK


def cmd_info(args) -> int:
    from .info import format_info, info

    data = info(args.model)
    print(json.dumps(data, indent=2, ensure_ascii=False) if args.json else format_info(data))
    if "error" in data["model"] and args.model is not None:
        raise UsageError(data["model"]["error"])
    return EXIT_OK


def _is_predictions_file(path: str, text_column: str) -> bool:
    """Whether ``path`` is what `smclass predict` writes: records with both label and p_broadcast."""
    from .exports import read_posts

    try:
        first = next(iter(read_posts(path, text_column=text_column)), None)
    except SmclassError:  # unreadable: load_posts says why, in its own words
        return False
    return first is not None and "label" in first.extra and "p_broadcast" in first.extra


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_INPUT
    _check_thresholds(parser, args)
    debug = getattr(args, "debug", False)
    warnings.simplefilter("default")
    warnings.formatwarning = lambda message, category, *rest: f"Warning: {message}\n"
    restore_sigterm = _handle_sigterm()
    try:
        return args.func(args)
    except SmclassError as exc:
        if debug:
            traceback.print_exc()
        print(f"Error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a bug, not the user's fault
        if debug:
            traceback.print_exc()
        print(f"Internal error: {type(exc).__name__}: {exc} (run again with --debug for the traceback).", file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        restore_sigterm()


def _handle_sigterm():
    """Treat SIGTERM like Ctrl-C, so temp files are removed and the exit is clean (code 130).

    Returns a function that puts the previous handler back (main() may be called from
    Python). Forked worker processes keep the default: they just end.
    """
    main_pid = os.getpid()

    def on_sigterm(signum, frame):
        if os.getpid() != main_pid:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        raise KeyboardInterrupt

    try:
        if signal.getsignal(signal.SIGTERM) == signal.SIG_IGN:  # the caller chose to ignore it
            return lambda: None
        previous = signal.signal(signal.SIGTERM, on_sigterm)
    except (ValueError, AttributeError):  # not the main thread, or no SIGTERM on this platform
        return lambda: None
    return lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


if __name__ == "__main__":
    sys.exit(main())
