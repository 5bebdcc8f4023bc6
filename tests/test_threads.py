"""One Predictor shared by many threads gives exactly what a serial run gives (real threads, cold caches)."""

from __future__ import annotations

import random
import threading

import numpy as np
import pytest

from smclass import Predictor


def varied_posts(corpus_records, n: int, seed: int) -> list[str]:
    """``n`` distinct posts: corpus texts cut, recombined and tagged, so most chunks are new."""
    rng = random.Random(seed)
    texts = [r["text"] for r in corpus_records]
    out = []
    for i in range(n):
        a, b = rng.choice(texts), rng.choice(texts)
        words = (a.split()[: rng.randint(1, 12)] + b.split()[-rng.randint(0, 8):]) or ["x"]
        if i % 7 == 0:
            words.insert(rng.randint(0, len(words)), f"tag{seed}x{i}")
        if i % 11 == 0:
            words.insert(rng.randint(0, len(words)), "\n")
        out.append(" ".join(words))
    return out


def run_threads(count: int, work) -> list:
    results: list = [None] * count
    errors: list = []
    barrier = threading.Barrier(count)

    def runner(k):
        try:
            barrier.wait()
            results[k] = work(k)
        except BaseException as exc:                  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=runner, args=(k,)) for k in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[:3]
    return results


def test_eight_threads_predict_one_equal_a_serial_run(model_path, corpus_records):
    posts = varied_posts(corpus_records, 3000, seed=1)
    alone = Predictor.load(model_path)
    serial = [alone.predict_one(t) for t in posts]
    shared = Predictor.load(model_path)                        # cold: every thread races on first sight
    parts = run_threads(8, lambda k: [(i, shared.predict_one(posts[i])) for i in range(k, len(posts), 8)])
    seen = dict(pair for part in parts for pair in part)
    assert len(seen) == len(posts)
    for i, expected in enumerate(serial):
        got = seen[i]
        assert got.label == expected.label and got.note == expected.note
        assert got.p_broadcast == pytest.approx(expected.p_broadcast, rel=1e-12, abs=1e-15)


def test_sixty_four_threads_of_batches_equal_a_serial_run(model_path, corpus_records):
    posts = varied_posts(corpus_records, 64 * 60, seed=2)
    batches = [posts[i::64] for i in range(64)]
    serial = [Predictor.load(model_path).p_broadcast(batch) for batch in batches]
    shared = Predictor.load(model_path)
    got = run_threads(64, lambda k: (shared.p_broadcast(batches[k]), shared.predict(batches[(k + 1) % 64])))
    for k in range(64):
        assert np.allclose(got[k][0], serial[k], rtol=1e-12, atol=1e-15)
        labels = np.where(serial[(k + 1) % 64] >= shared.threshold, "broadcast", "conversational").tolist()
        assert got[k][1] == labels


def test_threads_share_tables_while_they_are_replaced(model_path, corpus_records, monkeypatch):
    """With tiny cache bounds the tables are replaced many times mid-run; results stay exact."""
    from smclass import hashing

    monkeypatch.setattr(hashing, "MAX_CHUNKS", 300)
    monkeypatch.setattr(hashing, "MAX_ENTRIES", 200)
    posts = varied_posts(corpus_records, 1600, seed=3)
    serial = Predictor.load(model_path).p_broadcast(posts)
    shared = Predictor.load(model_path)

    def work(k):
        mine = list(range(k, len(posts), 8))
        big = shared.p_broadcast([posts[i] for i in mine])
        one = [shared.predict_one(posts[i]).p_broadcast for i in mine]
        return mine, big, one

    for mine, big, one in run_threads(8, work):
        assert np.allclose(big, serial[mine], rtol=1e-12, atol=1e-15)
        assert np.allclose(one, serial[mine], rtol=1e-12, atol=1e-15)


def test_threads_racing_through_the_vectorised_path(model_path, corpus_records):
    """Batches big enough for pyarrow (smclass.fast), cold caches, four threads at once."""
    pytest.importorskip("pyarrow")
    from smclass import hashing

    posts = varied_posts(corpus_records, 4 * hashing.ARROW_BATCH, seed=4)
    batches = [posts[i::4] for i in range(4)]
    alone = Predictor.load(model_path)
    serial = [alone.p_broadcast(batch) for batch in batches]
    shared = Predictor.load(model_path)
    got = run_threads(4, lambda k: shared.p_broadcast(batches[k]))
    for k in range(4):
        assert np.allclose(got[k], serial[k], rtol=1e-12, atol=1e-15)
