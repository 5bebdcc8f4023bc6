"""Batch prediction over exports: stream posts in, one output row per input post.

Reading, classifying and writing go chunk by chunk, so memory stays flat for any
input size; with ``--jobs N`` the classification runs in N worker processes
while the main process reads and writes in input order.
"""

from __future__ import annotations

import collections
import itertools
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UsageError

BASE_COLUMNS = ("id", "created_at", "platform", "is_reply")
RESULT_COLUMNS = ("text", "label", "p_broadcast", "note")
DEFAULT_CHUNK = 10_000


@dataclass
class Summary:
    """What a batch run did, for the closing line and for callers."""

    read: int = 0
    classified: int = 0
    broadcast: int = 0
    skipped: collections.Counter = field(default_factory=collections.Counter)
    seconds: float = 0.0

    def line(self, output: str | None) -> str:
        share = f"{self.broadcast / self.classified:.1%}" if self.classified else "n/a"
        skipped = sum(self.skipped.values())
        reasons = ", ".join(f"{n:,} {reason}" for reason, n in self.skipped.most_common())
        out = f"; wrote {output}" if output and output != "-" else ""
        return (
            f"{self.read:,} posts read, {self.classified:,} classified, {skipped:,} skipped"
            + (f" ({reasons})" if reasons else "")
            + f", {share} broadcast, in {self.seconds:.1f}s{out}."
        )


class _Progress:
    """A one-line counter on stderr, only when stderr is a terminal."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and sys.stderr.isatty()
        self.start = time.perf_counter()
        self.last = 0.0

    def update(self, done: int) -> None:
        now = time.perf_counter()
        if self.enabled and now - self.last > 0.2:
            self.last = now
            rate = done / max(now - self.start, 1e-9)
            print(f"\r  {done:,} posts  {rate:,.0f} posts/s", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.enabled:
            print("\r" + " " * 60 + "\r", end="", file=sys.stderr, flush=True)


# -- worker processes ------------------------------------------------------------
_WORKER = None


def _init_worker(model: str, threshold, trusted: bool) -> None:
    global _WORKER
    from .predict import Predictor

    _WORKER = Predictor.load(model, threshold=threshold, trusted=trusted)


def _classify(texts: list) -> tuple:
    labels, p, notes = _WORKER.predict_many(texts)
    return labels, p.tolist(), notes


# -- the run -----------------------------------------------------------------------
def _chunks(iterable, size: int):
    iterator = iter(iterable)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _tagged(inputs, read_kwargs, size: int):
    """Chunks of (input name, Post), every input in turn, lazily."""
    from .exports import read_posts

    for name in inputs:
        label = "stdin" if name == "-" else Path(name).name
        for chunk in _chunks(read_posts(name, **read_kwargs), size):
            yield [(label, post) for post in chunk]


def predict_files(
    inputs: list[str],
    output: str = "-",
    *,
    predictor=None,
    model: str | None = None,
    output_format: str | None = None,
    input_format: str | None = None,
    text_column: str | None = None,
    id_column: str | None = None,
    encoding: str | None = None,
    keep_columns: tuple[str, ...] = (),
    jobs: int = 1,
    chunk_size: int = DEFAULT_CHUNK,
    threshold: float | None = None,
    trusted: bool = False,
    progress: bool = True,
) -> Summary:
    """Classify every post of ``inputs`` and write one row per post to ``output``."""
    from .predict import Predictor, default_model_path
    from .writers import PredictionWriter

    if jobs < 1:
        raise UsageError("--jobs must be at least 1.")
    if "-" in inputs and len(inputs) > 1:
        raise UsageError("stdin ('-') cannot be combined with other inputs.")
    model = str(model or default_model_path())
    if predictor is None:
        predictor = Predictor.load(model, threshold=threshold, trusted=trusted)
    read_kwargs = {"format": input_format, "text_column": text_column, "id_column": id_column, "encoding": encoding}
    stream = _tagged(inputs, read_kwargs, chunk_size)
    first = next(stream, [])
    columns, kept = _columns(first, keep_columns, several=len(inputs) > 1)
    summary = Summary()
    bar = _Progress(progress)
    started = time.perf_counter()
    pool = None
    try:
        if jobs > 1:
            context = multiprocessing.get_context("spawn" if sys.platform == "darwin" else "fork")
            pool = context.Pool(jobs, initializer=_init_worker, initargs=(model, predictor.threshold, trusted))
        with PredictionWriter(output, columns, format=output_format) as writer:
            chunks = itertools.chain([first] if first else [], stream)
            if pool is None:
                results = ((chunk, _classify_with(predictor, chunk)) for chunk in chunks)
            else:
                results = _pooled(pool, chunks, jobs)
            for chunk, (labels, p, notes) in results:
                writer.write(_rows(chunk, labels, p, notes, columns, kept, summary))
                bar.update(summary.read)
    finally:
        bar.close()
        if pool is not None:
            pool.terminate()
            pool.join()
    summary.seconds = time.perf_counter() - started
    return summary


def _texts(chunk) -> list:
    return [post.text if post.text is not None else None for _, post in chunk]


def _classify_with(predictor, chunk):
    labels, p, notes = predictor.predict_many(_texts(chunk))
    return labels, p.tolist(), notes


def _pooled(pool, chunks, jobs: int):
    """Classify in worker processes, a few chunks ahead, results in input order."""
    pending = collections.deque()
    for chunk in chunks:
        pending.append((chunk, pool.apply_async(_classify, (_texts(chunk),))))
        if len(pending) > 2 * jobs:
            done_chunk, result = pending.popleft()
            yield done_chunk, result.get()
    while pending:
        done_chunk, result = pending.popleft()
        yield done_chunk, result.get()


def _columns(first_chunk, keep_columns, several: bool) -> tuple[list[str], list[tuple[str, str]]]:
    """Output columns (the base ones the source has, the results, kept input columns),
    and the (output name, input name) pairs of the kept ones."""
    present = [c for c in BASE_COLUMNS if any(getattr(post, c) is not None for _, post in first_chunk)]
    if first_chunk and keep_columns:
        available = set().union(*(post.extra.keys() for _, post in first_chunk))
        missing = [c for c in keep_columns if c not in available]
        if missing:
            found = ", ".join(sorted(available)) or "none"
            raise UsageError(f"--keep-columns: no column {missing[0]!r} in the input (found: {found}).")
    taken = set(BASE_COLUMNS) | set(RESULT_COLUMNS) | {"input"}
    kept = [(f"input_{c}" if c in taken else c, c) for c in keep_columns]
    columns = (["input"] if several else []) + present + list(RESULT_COLUMNS) + [out for out, _ in kept]
    return columns, kept


def _rows(chunk, labels, p, notes, columns, kept, summary: Summary) -> list[dict]:
    rows = []
    base = [c for c in BASE_COLUMNS if c in columns]
    several = "input" in columns
    for (name, post), label, prob, note in zip(chunk, labels, p, notes):
        summary.read += 1
        row = {"input": name} if several else {}
        for column in base:
            row[column] = getattr(post, column)
        if label is None:
            reason = (post.note if post.text is None else note) or "no text"
            summary.skipped[reason] += 1
            row.update(text=post.text, label="", p_broadcast=None, note=reason)
        else:
            summary.classified += 1
            summary.broadcast += label == "broadcast"
            row.update(text=post.text, label=label, p_broadcast=round(prob, 6), note=post.note)
        for out, source in kept:
            row[out] = post.extra.get(source)
        rows.append(row)
    return rows


def add_predict_parser(sub, common) -> None:
    from .cli import TRUST_HELP

    parser = sub.add_parser(
        "predict", parents=[common], help="classify posts in files or platform exports",
        description="Classify every post of each INPUT and write one row per input post. Inputs: X/Twitter "
        "archive (tweets.js, folder or .zip), Facebook your_posts*.json, Instagram posts_1.json, LinkedIn "
        "Shares.csv, Mastodon outbox.json, Reddit posts.csv/comments.csv, any CSV/TSV/JSONL/JSON/Parquet "
        "(--text-column), plain text (one post per line), or - for stdin.",
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT")
    parser.add_argument("--output", "-o", default="-", help="output file (.csv, .jsonl or .parquet); default: CSV to stdout")
    parser.add_argument("--format", dest="output_format", choices=("csv", "jsonl", "parquet"), help="output format (default: from the extension)")
    parser.add_argument("--input-format", default=None, help="force the input format instead of detecting it")
    parser.add_argument("--model", "-m", default=None, help="model file (default: models/smclass.joblib)")
    parser.add_argument("--text-column", default=None, help="column with the post text in generic files (default: text)")
    parser.add_argument("--id-column", default=None, help="column with the post id in generic files")
    parser.add_argument("--keep-columns", default="", help="comma-separated input columns to copy to the output")
    parser.add_argument("--encoding", default=None, help="input encoding (default: UTF-8, or UTF-16 when it has a BOM)")
    parser.add_argument("--threshold", type=float, default=None, help="decision threshold on p_broadcast (default: the model card's)")
    parser.add_argument("--jobs", "-j", type=int, default=1, help="worker processes for classification (default 1)")
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK, help=f"posts per chunk (default {DEFAULT_CHUNK:,})")
    parser.add_argument("--trust", action="store_true", help=TRUST_HELP)
    from .distributed import add_dask_options
    add_dask_options(parser)
    parser.set_defaults(func=cmd_predict)


def cmd_predict(args) -> int:
    if args.engine == "dask":
        from .distributed import cmd_predict_dask
        return cmd_predict_dask(args)
    keep = tuple(c.strip() for c in args.keep_columns.split(",") if c.strip())
    if args.chunk_size < 1:
        raise UsageError("--chunk-size must be at least 1.")
    summary = predict_files(
        args.inputs, args.output, model=args.model, output_format=args.output_format,
        input_format=args.input_format, text_column=args.text_column, id_column=args.id_column,
        encoding=args.encoding, keep_columns=keep, jobs=args.jobs, chunk_size=args.chunk_size,
        threshold=args.threshold, trusted=args.trust, progress=not args.quiet,
    )
    if not args.quiet:
        print(summary.line(args.output), file=sys.stderr)
    return 0
