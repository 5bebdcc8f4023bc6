"""Batch prediction over exports: stream posts in, one output row per input post.

Reading, classifying and writing go chunk by chunk, so memory stays flat for any
input size; with ``--jobs N`` the classification runs in N worker processes
while the main process reads and writes in input order.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import multiprocessing
import os
import queue
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .errors import SmclassError, UsageError
from .progress import InputProgress
from .wording import counted

BASE_COLUMNS = ("id", "created_at", "platform", "is_reply")
RESULT_COLUMNS = ("text", "label", "p_broadcast", "lang", "note")   # "lang" is left out under --no-lang
DEFAULT_CHUNK = 4096         # posts per chunk: 10,000 cost ~50 MB more peak memory on 1M posts, no faster


@dataclass
class Summary:
    """What a batch run did, for the closing line and for callers."""

    read: int = 0
    classified: int = 0
    broadcast: int = 0
    skipped: collections.Counter = field(default_factory=collections.Counter)
    languages: collections.Counter = field(default_factory=collections.Counter)   # classified posts by lang code
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
class WorkerDied(SmclassError):
    """A classification worker process ended without returning its chunk (killed, out of memory)."""


_BLOCKED = {signal.SIGINT, signal.SIGTERM}


def _worker_main(tasks, results, predictor, model, threshold, trusted, lang=False) -> None:
    """A worker: classify the texts it is sent (and detect their language when ``lang``) until it gets None.

    Ctrl-C reaches the whole process group, but only the parent decides what it
    means, so SIGINT is ignored here; SIGTERM has its default action (the worker
    just ends) whatever handler the parent had installed before forking.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _BLOCKED)
    parent = os.getppid()
    try:
        if predictor is None:                       # spawned, not forked: load the model here
            from .predict import Predictor
            predictor = Predictor.load(model, threshold=threshold, trusted=trusted)
        while True:
            try:
                texts = tasks.get(timeout=1.0)
            except queue.Empty:
                if os.getppid() != parent:          # the parent was killed: nobody will ask again
                    return
                continue
            if texts is None:
                return
            labels, p, notes = predictor.predict_many(texts)
            results.put(("ok", (labels, p.tolist(), notes, _languages(texts, lang))))
    except BaseException as exc:                    # report it to the parent, no traceback here
        with contextlib.suppress(BaseException):
            results.put(("error", f"{type(exc).__name__}: {exc}"))


def _describe_exit(code) -> str:
    if code is None:
        return "stopped responding"
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
        return f"killed by signal {-code}"
    return f"exited with code {code}"


class _Workers:
    """N classification processes, each with its own task and result queue.

    Chunk i goes to worker i mod N and results are taken back in input order, so the
    parent always knows which chunk a worker holds: when one dies (the out-of-memory
    killer, kill -9) the run stops at once and says which chunk was lost, instead of
    waiting forever for a result that will never come.
    """

    def __init__(self, n: int, predictor, model: str, trusted: bool, lang: bool = False):
        fork = sys.platform != "darwin" and "fork" in multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if fork else "spawn")
        self.n = n
        self.tasks = [context.Queue() for _ in range(n)]
        self.results = [context.Queue() for _ in range(n)]
        self.procs = []
        # Signals stay blocked while forking, so a Ctrl-C right now cannot reach a
        # half-started worker that still has the parent's handlers; the parent gets it after.
        masking = hasattr(signal, "pthread_sigmask")        # POSIX
        old = signal.pthread_sigmask(signal.SIG_BLOCK, _BLOCKED) if masking else None
        try:
            for tasks, results in zip(self.tasks, self.results):
                proc = context.Process(
                    target=_worker_main, daemon=True,
                    args=(tasks, results, predictor if fork else None, model, predictor.threshold, trusted, lang))
                proc.start()
                self.procs.append(proc)
        finally:
            if masking:
                signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def submit(self, number: int, texts: list) -> None:
        self.tasks[number % self.n].put(texts)

    def result(self, number: int, describe) -> tuple:
        """The result of chunk ``number``; WorkerDied if its worker ended without one."""
        w = number % self.n
        results, proc = self.results[w], self.procs[w]
        while True:
            try:
                status, payload = results.get(timeout=0.1)
                break
            except queue.Empty:
                if proc.is_alive():
                    continue
                try:                                 # it may have answered just before ending
                    status, payload = results.get(timeout=0.5)
                    break
                except queue.Empty:
                    raise WorkerDied(f"Worker process {proc.pid} {_describe_exit(proc.exitcode)} while classifying "
                                     f"{describe(number)}") from None
        if status == "ok":
            return payload
        raise RuntimeError(f"a worker process failed on {describe(number)}: {payload}")

    def close(self) -> None:
        """Success: tell every worker to finish, and wait for them (the pool is closed and joined)."""
        for tasks in self.tasks:
            tasks.put(None)
        for proc in self.procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)
        self._close_queues()

    def kill(self) -> None:
        """Failure or interrupt: end every worker now, never waiting on a queue nobody reads."""
        for proc in self.procs:
            with contextlib.suppress(Exception):
                if proc.is_alive():
                    proc.kill()
        for proc in self.procs:
            with contextlib.suppress(Exception):
                proc.join(timeout=5)
        self._close_queues()

    def _close_queues(self) -> None:
        for q in self.tasks + self.results:
            with contextlib.suppress(Exception):
                q.cancel_join_thread()              # never block at exit flushing into a dead worker's pipe
                q.close()


# -- the run -----------------------------------------------------------------------
def _chunks(iterable, size: int):
    iterator = iter(iterable)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _input_labels(inputs) -> list[str]:
    """What the ``input`` column says: the file name, or the path as given when two inputs share a name."""
    names = ["stdin" if name == "-" else Path(name).name for name in inputs]
    if len(set(names)) == len(names):
        return names
    return ["stdin" if name == "-" else os.path.normpath(name) for name in inputs]


def _tagged(inputs, labels, read_kwargs, size: int):
    """Chunks of (input label, Post), every input in turn, lazily."""
    from .exports import read_posts

    for name, label in zip(inputs, labels):
        for chunk in _chunks(read_posts(name, **read_kwargs), size):
            yield [(label, post) for post in chunk]


def _once(notify):
    """A notice callback that passes each distinct notice on once: several inputs are opened twice
    (once to collect their columns, once to classify), and a notice should not repeat."""
    from .exports.columns import _notice

    shown: set[str] = set()
    target = notify or _notice

    def once(message: str) -> None:
        if message not in shown:
            shown.add(message)
            target(message)
    return once


def _first_chunks(inputs, labels, read_kwargs, size: int) -> list:
    """The first chunk of every input (read and let go), to decide the output columns up front."""
    from .exports import read_posts

    firsts = []
    for name, label in zip(inputs, labels):
        posts = read_posts(name, **read_kwargs)
        try:
            firsts += [(label, post) for post in itertools.islice(posts, size)]
        finally:
            close = getattr(posts, "close", None)
            if close is not None:
                close()
    return firsts


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
    date_column: str | None = None,
    account_column: str | None = None,
    dayfirst: bool = False,
    sheet: str | None = None,
    include_shares: bool = False,
    notify=None,
    keep_columns: tuple[str, ...] = (),
    jobs: int = 1,
    chunk_size: int = DEFAULT_CHUNK,
    threshold: float | None = None,
    trusted: bool = False,
    progress: bool = True,
    formula_guard: bool = True,
    excel: bool = False,
    lang: bool = True,
) -> Summary:
    """Classify every post of ``inputs`` and write one row per post to ``output``.

    ``formula_guard`` neutralises cells a spreadsheet would run as formulas in CSV
    and XLSX output; ``excel`` writes CSV with a UTF-8 byte-order mark. ``lang``
    adds a ``lang`` column (smclass.lang.detect) and a note on posts not in English.
    ``notify`` receives the readers' notices (default: stderr).
    """
    from .predict import Predictor, default_model_path
    from .writers import PredictionWriter, refuse_inputs_as_output

    if jobs < 1:
        raise UsageError("--jobs must be at least 1.")
    if "-" in inputs and len(inputs) > 1:
        raise UsageError("stdin ('-') cannot be combined with other inputs.")
    refuse_inputs_as_output(output, inputs)
    model = str(model or default_model_path())
    if predictor is None:
        predictor = Predictor.load(model, threshold=threshold, trusted=trusted)
    read_kwargs = {"format": input_format, "text_column": text_column, "id_column": id_column, "encoding": encoding,
                   "date_column": date_column, "account_column": account_column, "dayfirst": dayfirst,
                   "sheet": sheet, "include_shares": include_shares, "notify": _once(notify)}
    labels = _input_labels(inputs)
    several = len(inputs) > 1
    stream = _tagged(inputs, labels, read_kwargs, chunk_size)
    if several:   # the union of every input's columns, not only the first one's
        columns, kept = _columns(_first_chunks(inputs, labels, read_kwargs, chunk_size), keep_columns, several, lang)
        first = []
    else:
        first = next(stream, [])
        columns, kept = _columns(first, keep_columns, several, lang)
    summary = Summary()
    bar = InputProgress(inputs, progress, desc="classifying")
    started = time.perf_counter()
    workers = None
    try:
        with PredictionWriter(output, columns, format=output_format, formula_guard=formula_guard,
                              excel=excel) as writer:
            chunks = itertools.chain([first] if first else [], stream)
            if jobs > 1:
                workers = _Workers(jobs, predictor, model, trusted, lang)   # workers detect languages too
                results = _pooled(workers, chunks, jobs)
            else:
                results = ((chunk, _classify_with(predictor, chunk, lang)) for chunk in chunks)
            for chunk, (labels_, p, notes, langs) in results:
                writer.write_columns(_column_data(chunk, labels_, p, notes, columns, kept, summary, langs))
                bar.update(summary.read)
            if workers is not None:
                workers.close()
                workers = None
    except WorkerDied as exc:
        where = "no output was written" if output == "-" else f"{output} was not written (a previous file is unchanged)"
        raise WorkerDied(f"{exc}; {where}.") from None
    finally:
        bar.close()
        if workers is not None:
            workers.kill()
    summary.seconds = time.perf_counter() - started
    return summary


def _texts(chunk) -> list:
    return [post.text for _, post in chunk]


def _languages(texts, lang: bool):
    """Each text's language code (smclass.lang), or None when detection is off."""
    if not lang:
        return None
    from .lang import detect

    return detect(texts)


def _classify_with(predictor, chunk, lang: bool = False):
    texts = _texts(chunk)
    labels, p, notes = predictor.predict_many(texts)
    return labels, p.tolist(), notes, _languages(texts, lang)


def _pooled(workers: _Workers, chunks, jobs: int):
    """Classify in worker processes, two chunks ahead per worker, results in input order."""
    pending = collections.deque()
    spans = {}
    start = 0

    def describe(number: int) -> str:
        first, count, name = spans[number]
        return f"chunk {number + 1} (posts {first + 1:,} to {first + count:,}, from {name})"

    for number, chunk in enumerate(chunks):
        spans[number] = (start, len(chunk), chunk[0][0])
        start += len(chunk)
        workers.submit(number, _texts(chunk))
        pending.append((number, chunk))
        if len(pending) > 2 * jobs:
            done, done_chunk = pending.popleft()
            yield done_chunk, workers.result(done, describe)
            del spans[done]
    while pending:
        done, done_chunk = pending.popleft()
        yield done_chunk, workers.result(done, describe)
        del spans[done]


def _columns(first_chunk, keep_columns, several: bool, lang: bool = True) -> tuple[list[str], list[tuple[str, str]]]:
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
    results = [c for c in RESULT_COLUMNS if lang or c != "lang"]
    columns = (["input"] if several else []) + present + results + [out for out, _ in kept]
    return columns, kept


def _column_data(chunk, labels, p, notes, columns, kept, summary: Summary, langs=None) -> list[list]:
    """The chunk's output, column by column in ``columns`` order.

    This runs once per post, so it works a column at a time (comprehensions, no
    per-row dicts); only posts without a label get individual attention.
    """
    posts = [post for _, post in chunk]
    data = [[name for name, _ in chunk]] if "input" in columns else []
    for column in BASE_COLUMNS:
        if column in columns:
            data.append([getattr(post, column) for post in posts])
    texts = [post.text for post in posts]
    labels = list(labels)
    import numpy as np

    probs = np.round(np.asarray(p, dtype=np.float64), 6).tolist()   # the same values as round(x, 6), in C
    post_notes = [post.note for post in posts]
    skipped = summary.skipped
    for i, label in enumerate(labels):
        if label is None:
            reason = (post_notes[i] if texts[i] is None else notes[i]) or "no text"
            skipped[reason] += 1
            labels[i], probs[i], post_notes[i] = "", None, reason
        elif notes[i]:      # the predictor's own note, e.g. "text truncated ..."
            post_notes[i] = "; ".join(n for n in (post_notes[i], notes[i]) if n)
    written = [post.shown if post.text is None else post.text for post in posts]   # a retweet's words too
    data += [written, labels, probs]
    if "lang" in columns:
        from .lang import not_english_note

        langs = langs if langs is not None else _languages(texts, True)
        for i, code in enumerate(langs):
            if code is not None and code != "en" and labels[i]:
                post_notes[i] = "; ".join(n for n in (post_notes[i], not_english_note(code)) if n)
                summary.languages[code] += 1
            elif labels[i]:
                summary.languages[code or "unknown"] += 1
        data.append(langs)
    data.append(post_notes)
    for _, source in kept:
        data.append([post.extra.get(source) for post in posts])
    summary.read += len(posts)
    summary.classified += len(posts) - labels.count("")
    summary.broadcast += labels.count("broadcast")
    return data
