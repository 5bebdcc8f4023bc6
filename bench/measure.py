"""Timing helpers: every figure is the median of several repetitions."""

from __future__ import annotations

import gc
import itertools
import random
import statistics
import time

import numpy as np
from sklearn.metrics import f1_score

LABELS = ("broadcast", "conversational")


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def cycled(texts: list[str], n: int) -> list[str]:
    return list(itertools.islice(itertools.cycle(texts), n))


def scale_up(texts: list[str], labels: np.ndarray, factor: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """``factor`` copies of the posts, each copy of each post with its own random id token appended,
    so no per-text or per-token cache sees the same post twice."""
    rng = random.Random(seed)
    out = [f"{text} id{rng.getrandbits(48):012x}" for _ in range(factor) for text in texts]
    return out, np.concatenate([np.asarray(labels, dtype=object)] * factor)


def unseen_batch(texts: list[str], n: int, salt: str) -> list[str]:
    """``n`` posts cycled from ``texts``, each made unique by an appended token."""
    return [f"{text} {salt}{i:x}" for i, text in enumerate(cycled(texts, n))]


def throughput(call, batch: list[str], min_seconds: float) -> float:
    """Posts per second of ``call(batch)``, repeated until at least ``min_seconds`` have passed."""
    gc.collect()
    calls = 0
    started = time.perf_counter()
    while True:
        call(batch)
        calls += 1
        elapsed = time.perf_counter() - started
        if elapsed >= min_seconds:
            return calls * len(batch) / elapsed


def latency_us(call, texts: list[str], max_calls: int, max_seconds: float) -> float:
    """Median microseconds of ``call(text)`` over many single calls (texts cycled)."""
    gc.collect()
    times = []
    budget_end = time.perf_counter() + max_seconds
    for text in itertools.islice(itertools.cycle(texts), max_calls):
        started = time.perf_counter()
        call(text)
        times.append(time.perf_counter() - started)
        if len(times) >= 20 and time.perf_counter() > budget_end:
            break
    return statistics.median(times) * 1e6


def scores(y_true, y_pred) -> dict:
    """Macro-F1 over both labels and the F1 of the minority (less frequent true) class."""
    y_true = np.asarray(y_true, dtype=object).astype(str)
    y_pred = np.array(["(none)" if p is None else p for p in y_pred], dtype=object).astype(str)
    counts = {label: int((y_true == label).sum()) for label in LABELS}
    minority = min(LABELS, key=lambda label: (counts[label], label))
    macro = f1_score(y_true, y_pred, labels=list(LABELS), average="macro", zero_division=0)
    minority_f1 = f1_score(y_true, y_pred, labels=[minority], average=None, zero_division=0)[0]
    return {
        "n": len(y_true),
        "counts": counts,
        "minority": minority,
        "macro_f1": float(macro),
        "minority_f1": float(minority_f1),
        "unlabelled": int((y_pred == "(none)").sum()),
        "accuracy": float((y_true == y_pred).mean()),
        "share_conversational": float((y_pred == "conversational").mean()),
    }
