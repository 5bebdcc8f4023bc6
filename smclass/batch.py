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
from .progress import InputProgress
from .wording import counted

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
        reasons = ", ".join(counted(n, reason) for reason, n in self.skipped.most_common())
        out = f"; wrote {output}" if output and output != "-" else ""
        return (
            f"{counted(self.read, 'post')} read, {self.classified:,} classified, {skipped:,} skipped"
            + (f" ({reasons})" if reasons else "")
            + f", {share} broadcast, in {self.seconds:.1f}s{out}."
        )


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
    bar = InputProgress(inputs, progress, desc="classifying")
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
