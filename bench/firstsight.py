"""First sight on real posts: smclass vs fastText on text neither has seen, one pass, fresh process.

    python -m bench.firstsight EVAL_DIR SMCLASS_MODEL FASTTEXT_BIN [--runs 5] [--json OUT]

Every distinct real post of EVAL_DIR (read by path, see :mod:`bench.realposts`)
is classified once by smclass (``Predictor.p_broadcast`` on the whole list) and
once by fastText (``model.predict`` on the same list, cleaned as the bench's
fastText contender is trained), in a fresh process per run, in alternating
order. The same process then times a second smclass pass (every chunk cached:
labelled "cached"), and the one-post latency of both: ``predict_one`` vs
``model.predict(str)``, on posts seen for the first time and on cached ones.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time


def _child(eval_dir, model, fasttext_bin, order: str) -> dict:
    import fasttext

    from smclass import Predictor

    from .contenders import fasttext_clean
    from .realposts import real_posts

    posts, _ = real_posts(eval_dir)
    predictor = Predictor.load(model)
    ft = fasttext.load_model(fasttext_bin)
    cut = min(2000, len(posts) // 4)
    single, batch = posts[:cut], posts[cut:]          # one-post calls see their own fresh posts
    out = {"posts": len(batch)}

    def timed(key, call):
        """Wall time and CPU time of the process (all threads): on a shared machine a neighbour's load
        stretches the wall time of whichever side it lands on, the CPU time much less."""
        started, cpu = time.perf_counter(), time.process_time()
        call()
        out[key + "_s"] = time.perf_counter() - started
        out[key + "_cpu_s"] = time.process_time() - cpu

    run_smclass = lambda: timed("smclass_first", lambda: predictor.p_broadcast(batch))  # noqa: E731
    run_fasttext = lambda: timed("fasttext", lambda: ft.predict([fasttext_clean(t) for t in batch], k=1))  # noqa: E731
    for name in order.split(","):
        {"smclass": run_smclass, "fasttext": run_fasttext}[name]()
    timed("smclass_cached", lambda: predictor.p_broadcast(batch))

    def latencies(call, texts):
        times = []
        for text in texts:
            started = time.perf_counter()
            call(text)
            times.append(time.perf_counter() - started)
        return statistics.median(times) * 1e6

    out["smclass_one_first_us"] = latencies(predictor.predict_one, single)
    out["smclass_one_cached_us"] = latencies(predictor.predict_one, single)
    ft_one = lambda text: ft.predict(fasttext_clean(text), k=1)  # noqa: E731
    out["fasttext_one_us"] = latencies(ft_one, single)
    out["fasttext_one_again_us"] = latencies(ft_one, single)
    return out


def measure(eval_dir, model, fasttext_bin, runs: int = 5, cwd=None, env=None) -> dict:
    """Median and range of every figure over ``runs`` fresh processes."""
    results = []
    for i in range(runs):
        order = "smclass,fasttext" if i % 2 == 0 else "fasttext,smclass"
        done = subprocess.run(
            [sys.executable, "-m", "bench.firstsight", "--child", order, str(eval_dir), str(model), str(fasttext_bin)],
            capture_output=True, text=True, check=True, cwd=cwd, env=env,
        )
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    summary = {"runs": runs, "raw": results}
    ratios = {
        "first_sight_x": [r["fasttext_s"] / r["smclass_first_s"] for r in results],
        "cached_x": [r["fasttext_s"] / r["smclass_cached_s"] for r in results],
        "first_sight_cpu_x": [r["fasttext_cpu_s"] / r["smclass_first_cpu_s"] for r in results],
        "cached_cpu_x": [r["fasttext_cpu_s"] / r["smclass_cached_cpu_s"] for r in results],
        "one_post_x": [r["fasttext_one_us"] / r["smclass_one_cached_us"] for r in results],
        "one_post_first_x": [r["fasttext_one_us"] / r["smclass_one_first_us"] for r in results],
    }
    for key in list(results[0]) + list(ratios):
        values = ratios[key] if key in ratios else [r[key] for r in results]
        summary[key] = {"median": statistics.median(values), "min": min(values), "max": max(values)}
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.firstsight")
    parser.add_argument("--child")
    parser.add_argument("eval_dir")
    parser.add_argument("model")
    parser.add_argument("fasttext_bin")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.eval_dir, args.model, args.fasttext_bin, args.child)))
        return 0
    summary = measure(args.eval_dir, args.model, args.fasttext_bin, args.runs)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(summary, handle, indent=1)
    for key, value in summary.items():
        if isinstance(value, dict):
            print(f"{key:24s} median {value['median']:.4g}  range {value['min']:.4g}-{value['max']:.4g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
