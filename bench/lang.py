"""What language detection costs and gets right: the numbers of the README's Languages section.

    python -m bench.lang [--rows 100000] [--runs 3] [--rounds 200]

On tests/fixtures/lang_posts.tsv: smclass.lang's answers against the fixture's languages, and
its posts per second one post at a time (median of 5 passes of ``--rounds`` rounds of the 59
posts with a language), next to raw pycld2. Then ``smclass predict`` on a CSV of ``--rows``
distinct posts (the corpus cycled, each with its own id token, as bench.scale makes them), with
and without ``--no-lang``, ``--runs`` times each in turn, each a fresh process: median wall and
CPU seconds, and the ratio; and, steadier on a busy machine, the CPU time of the detection alone
over the same posts in predict's chunks. Prints Markdown; writes nothing but a temporary folder.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "lang_posts.tsv"


def fixture_rows() -> list[dict]:
    with open(FIXTURE, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def accuracy(rows: list[dict]) -> dict:
    from smclass.lang import detect_one

    got = [(r["lang"], detect_one(r["text"])) for r in rows]
    other = [(want, code) for want, code in got if want not in ("", "en")]
    english = [code for want, code in got if want == "en"]
    return {"other_right": sum(want == code for want, code in other), "other": len(other),
            "english_as_other": sum(code not in (None, "en") for code in english),
            "english_blank": english.count(None), "english": len(english),
            "misses": [(r["text"], r["lang"], code) for r, (_, code) in zip(rows, got)
                       if r["lang"] not in ("", "en") and code != r["lang"]]}


def posts_per_second(detect, texts: list[str], rounds: int) -> float:
    """Median of 5 passes, one post at a time."""
    detect(texts[0])                           # the import and first call are not the steady state
    rates = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(rounds):
            for text in texts:
                detect(text)
        rates.append(rounds * len(texts) / (time.perf_counter() - started))
    return statistics.median(rates)


def first_call_seconds() -> float:
    """Import of smclass.lang plus its first detection, in a fresh interpreter."""
    code = ("import time; t = time.perf_counter(); from smclass.lang import detect_one; "
            "detect_one('Je suis tellement content de vous revoir'); print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    return float(out.stdout)


def make_csv(path: Path, rows: int) -> None:
    with open(REPO / "data" / "posts.jsonl", encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for line in handle if line.strip()]
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        for i in range(rows):
            writer.writerow([f"p{i}", f"{texts[i % len(texts)]} id{i:07x}"])


def detection_seconds(posts: list[str], chunk: int = 10_000) -> float:
    """CPU seconds of smclass.lang.detect over ``posts`` in predict's chunks (median of 3)."""
    from smclass.lang import detect

    detect(posts[:chunk])                       # imports
    times = []
    for _ in range(3):
        started = time.process_time()
        for i in range(0, len(posts), chunk):
            detect(posts[i:i + chunk])
        times.append(time.process_time() - started)
    return statistics.median(times)


def run_predict(src: Path, out: Path, extra: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one ``python -m smclass predict`` run of this checkout."""
    before = os.times()
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "smclass", "predict", str(src), "-o", str(out), "-q", *extra],
                   cwd=REPO, check=True)
    wall = time.perf_counter() - started
    after = os.times()
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lang", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))              # this checkout's smclass
    import pycld2

    from smclass.lang import detect_one

    rows = fixture_rows()
    texts = [r["text"] for r in rows if r["lang"]]
    acc = accuracy(rows)
    ours = posts_per_second(detect_one, texts, args.rounds)
    raw = posts_per_second(pycld2.detect, texts, args.rounds)
    print(f"fixture: other languages right {acc['other_right']} / {acc['other']}; English called another language "
          f"{acc['english_as_other']} / {acc['english']}; English left blank {acc['english_blank']} / {acc['english']}")
    for text, want, code in acc["misses"]:
        print(f"  missed: {want} -> {code}: {text}")
    print(f"detector on the fixture ({len(texts)} posts, one at a time): smclass.lang {ours:,.0f} posts/s, "
          f"raw pycld2 {raw:,.0f} posts/s; first call (import + detection) {first_call_seconds():.2f} s")
    with tempfile.TemporaryDirectory() as folder:
        src, out = Path(folder) / "posts.csv", Path(folder) / "out.csv"
        make_csv(src, args.rows)
        with open(src, encoding="utf-8", newline="") as handle:
            posts = [row["text"] for row in csv.DictReader(handle)]
        detect_cpu = detection_seconds(posts)
        runs = {"--no-lang": [], "lang": []}
        for _ in range(args.runs):
            for name in runs:
                runs[name].append(run_predict(src, out, ["--no-lang"] if name == "--no-lang" else []))
    print(f"\nsmclass predict on {args.rows:,} posts (CSV), median of {args.runs} runs:\n")
    print("| | wall s | CPU s |\n| --- | --- | --- |")
    medians = {name: (statistics.median(w for w, _ in r), statistics.median(c for _, c in r)) for name, r in runs.items()}
    for name, (wall, cpu) in medians.items():
        print(f"| {'with language detection' if name == 'lang' else '--no-lang'} | {wall:.2f} | {cpu:.2f} |")
    (wall0, cpu0), (wall1, cpu1) = medians["--no-lang"], medians["lang"]
    print(f"| ratio | {wall1 / wall0:.2f} | {cpu1 / cpu0:.2f} |")
    print(f"\ndetection alone, in this process, in predict's chunks of 10,000: {detect_cpu:.2f} CPU s for "
          f"{len(posts):,} posts ({len(posts) / detect_cpu:,.0f} posts/s), {detect_cpu / cpu0:.0%} of the --no-lang "
          "run's CPU time")
    print("\nall runs (wall, CPU):", json.dumps({k: [[round(w, 2), round(c, 2)] for w, c in v] for k, v in runs.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
