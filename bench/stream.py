"""Memory on an endless stream: one Predictor, distinct posts in batches, resident memory as it goes.

    python -m bench.stream MODEL [--posts 10000000] [--batch 10000] [--every 500000]

Every post is a corpus post with a random word and a random hashtag appended, so the caches
never stop seeing new chunks and words; they must be replaced at their bounds
(smclass.hashing.MAX_CHUNKS, MAX_CACHE_CHARS, MAX_ENTRIES) for memory to stay flat.
Prints one line per ``--every`` posts: posts done, current RSS, peak RSS, posts/s.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
from pathlib import Path


_LETTERS = str.maketrans("0123456789", "ghijklmnop")


def _word(rng: random.Random) -> str:
    """A random lower-case word of about 11 letters: new chunks and words, without digits."""
    return f"{rng.getrandbits(44):x}".translate(_LETTERS)


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**20


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stream")
    parser.add_argument("model")
    parser.add_argument("--posts", type=int, default=10_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--every", type=int, default=500_000)
    parser.add_argument("--corpus", default=str(Path(__file__).resolve().parent.parent / "data" / "posts.jsonl"))
    args = parser.parse_args(argv)
    from smclass import Predictor

    texts = [json.loads(line)["text"] for line in open(args.corpus, encoding="utf-8") if line.strip()]
    rng = random.Random(0)
    predictor = Predictor.load(args.model)
    started = time.perf_counter()
    done = 0
    print(f"{'posts':>12} {'RSS MB':>8} {'peak MB':>8} {'posts/s':>9}", flush=True)
    while done < args.posts:
        batch = [f"{rng.choice(texts)} {_word(rng)} #{_word(rng)}" for _ in range(args.batch)]
        predictor.p_broadcast(batch)
        predictor.predict_one(batch[0])
        done += len(batch)
        if done % args.every == 0 or done >= args.posts:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            rate = done / (time.perf_counter() - started)
            print(f"{done:>12,} {rss_mb():>8.0f} {peak:>8.0f} {rate:>9,.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
