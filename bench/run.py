"""Run the smclass benchmark and write BENCHMARKS.md.

    python -m bench [--corpus data/posts.jsonl] [--eval-dir ../shared/eval] [--output BENCHMARKS.md]
                    [--repeats 3] [--tiny] [--skip NAME ...]

Every contender is trained on the same training split of the corpus and measured
in this one run, on this one machine; comparisons are ratios within the run.
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import gc
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):          # `python bench/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from bench import report  # noqa: E402
from bench.contenders import ALL, Contender  # noqa: E402
from bench.evalsets import LABELLED, load_eval_sets  # noqa: E402
from bench.measure import cycled, latency_us, median, scale_up, scores, throughput, unseen_batch  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
BATCH_SIZES = (1, 10, 100, 1_000, 10_000)
SPEED_BATCH = 10_000


class Log:
    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.start = time.perf_counter()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            print(f"[bench {time.perf_counter() - self.start:7.1f}s] {message}", file=sys.stderr, flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=str(REPO / "data" / "posts.jsonl"),
                        help="labelled corpus with a split column (default: data/posts.jsonl)")
    parser.add_argument("--eval-dir", default=str(REPO.parent / "shared" / "eval"),
                        help="external evaluation sets (default: ../shared/eval beside the repo)")
    parser.add_argument("--output", default=str(REPO / "BENCHMARKS.md"), help="report to write (default: BENCHMARKS.md)")
    parser.add_argument("--repeats", type=int, default=None, help="repetitions per timing, median reported (default 3; 1 with --tiny)")
    parser.add_argument("--tiny", action="store_true",
                        help="a seconds-long configuration for tests: small corpus subset, 3x scale-up, "
                        "2,000-row predict file, 1 repeat, no embedding contender")
    parser.add_argument("--skip", action="append", default=[], metavar="NAME",
                        help="skip a contender: smclass, baseline, fasttext or embeddings (repeatable)")
    parser.add_argument("--json", default=None, metavar="PATH", help="also write the raw results as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    return parser


def config(args) -> dict:
    tiny = args.tiny
    repeats = args.repeats if args.repeats is not None else (1 if tiny else 3)
    if repeats < 1 or (not tiny and repeats < 3):
        raise SystemExit("--repeats must be at least 3 (1 is allowed only with --tiny).")
    return {
        "tiny": tiny,
        "repeats": repeats,
        "scale": 3 if tiny else 50,
        "predict_rows": 2_000 if tiny else 1_000_000,
        "max_train": 400 if tiny else None,
        "max_test": 200 if tiny else None,
        "min_seconds": 0.02 if tiny else 0.5,
        "latency_calls": 50 if tiny else 2_000,
        "latency_seconds": 0.2 if tiny else 1.5,
        "jobs": (1, 2),
    }


# -- the machine ----------------------------------------------------------------------
def _version(dist: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine() -> dict:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
    except OSError:
        pass
    import sklearn

    import smclass

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_bytes": memory,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "smclass": getattr(smclass, "__version__", _version("smclass")),
        "fastText": _version("fasttext-numpy2-wheel") if _version("fasttext-numpy2-wheel") != "not installed" else _version("fasttext"),
        "torch": _version("torch"),
        "sentence-transformers": _version("sentence-transformers"),
        "load_average_start": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


# -- the data ---------------------------------------------------------------------------
def load_corpus(path: str, cfg: dict, log) -> dict:
    from smclass.data import load_posts, sha256_of

    posts = load_posts(path)
    splits = posts.columns.get("split") or []
    if not any(s is not None for s in splits):
        raise SystemExit(f"{path}: no 'split' column with train/test values; the benchmark needs the corpus's own split.")
    train = posts.subset([s == "train" for s in splits])
    test = posts.subset([s == "test" for s in splits])
    if not len(train) or not len(test):
        raise SystemExit(f"{path}: the split column must hold both 'train' and 'test' rows.")
    note = None
    if cfg["max_train"] and len(train) > cfg["max_train"]:
        train = train.subset(np.arange(len(train)) < cfg["max_train"])
        note = "tiny mode: first rows of each split only"
    if cfg["max_test"] and len(test) > cfg["max_test"]:
        test = test.subset(np.arange(len(test)) < cfg["max_test"])
        note = "tiny mode: first rows of each split only"
    log(f"corpus {path}: {len(train)} train, {len(test)} test posts")
    return {
        "path": str(path),
        "sha256": sha256_of(path),
        "rows": len(posts),
        "train": train,
        "test": test,
        "train_counts": _counts(train.labels),
        "test_counts": _counts(test.labels),
        "note": note,
        "all_texts": list(posts.texts),
    }


def _counts(labels) -> dict:
    values, counts = np.unique(np.asarray(labels, dtype=str), return_counts=True)
    return dict(zip(values.tolist(), counts.tolist()))


# -- the run -------------------------------------------------------------------------------
def pick_contenders(args, cfg, log) -> list[dict]:
    chosen = []
    skip = {s.strip().lower() for s in args.skip}
    known = {c.short for c in ALL}
    unknown = skip - known
    if unknown:
        raise SystemExit(f"--skip: unknown contender {sorted(unknown)[0]!r} (known: {', '.join(sorted(known))}).")
    for cls in ALL:
        contender: Contender = cls()
        entry = {"contender": contender, "name": contender.name, "short": contender.short,
                 "description": contender.description, "status": None}
        if contender.short in skip:
            entry["status"] = "skipped (--skip)"
        elif cfg["tiny"] and contender.short == "embeddings":
            entry["status"] = "skipped (--tiny)"
        else:
            entry["status"] = contender.available()
        if entry["status"]:
            log(f"{contender.name}: {entry['status']}")
        chosen.append(entry)
    return chosen


def active(contenders):
    return [c for c in contenders if not c["status"]]


def run_training(contenders, corpus, cfg, log) -> None:
    train = corpus["train"]
    big_texts, big_labels = scale_up(train.texts, train.labels, cfg["scale"])
    for entry in active(contenders):
        c = entry["contender"]
        times = []
        for rep in range(cfg["repeats"]):
            gc.collect()
            started = time.perf_counter()
            model = c.fit(list(train.texts), train.labels)
            times.append(time.perf_counter() - started)
            if rep == 0:
                entry["model"] = model          # deterministic: the first fit is the one we evaluate
            else:
                del model
        entry["train_seconds"] = median(times)
        entry["train_runs"] = times
        log(f"{c.name}: trains on {len(train)} posts in {entry['train_seconds']:.2f}s (median of {len(times)})")
    for entry in active(contenders):
        c = entry["contender"]
        if c.short == "embeddings" and not cfg["tiny"]:
            # Encoding cost is linear in the number of posts and nothing is cached, so the
            # scaled-up figure is extrapolated instead of spending most of the run on it.
            entry["train_big_seconds"] = entry["train_seconds"] * cfg["scale"]
            entry["train_big_estimated"] = True
            log(f"{c.name}: scale-up training extrapolated ({entry['train_big_seconds']:.0f}s)")
            continue
        times = []
        for _ in range(cfg["repeats"]):
            gc.collect()
            started = time.perf_counter()
            model = c.fit(big_texts, big_labels)
            times.append(time.perf_counter() - started)
            del model
        entry["train_big_seconds"] = median(times)
        entry["train_big_runs"] = times
        log(f"{c.name}: trains on {len(big_texts)} posts ({cfg['scale']}x) in {entry['train_big_seconds']:.2f}s")
    del big_texts, big_labels
    gc.collect()


def run_accuracy(contenders, corpus, eval_sets, log) -> None:
    test = corpus["test"]
    for entry in active(contenders):
        c, model = entry["contender"], entry["model"]
        results = {"test": scores(test.labels, c.predict(model, list(test.texts)))}
        for found in eval_sets:
            results[found.name] = scores(found.labels, c.predict(model, found.texts))
        labelled = [results[name]["macro_f1"] for name in LABELLED if name in results]
        results["external_mean"] = float(np.mean(labelled)) if labelled else None
        results["external_count"] = len(labelled)
        entry["accuracy"] = results
        log(f"{c.name}: test macro-F1 {results['test']['macro_f1']:.3f}, external mean "
            + ("n/a" if results["external_mean"] is None else f"{results['external_mean']:.3f}"))


def behaviour_scorer(model):
    """texts -> p_broadcast for a contender's model, or None when it gives no probabilities."""
    if hasattr(model, "p_broadcast"):
        return model.p_broadcast
    classes = [str(c) for c in getattr(model, "classes_", [])]
    if hasattr(model, "predict_proba") and "broadcast" in classes:
        return lambda texts: model.predict_proba(list(texts))[:, classes.index("broadcast")]
    return None


def run_behaviour(contenders, log) -> None:
    """The behaviour suite (smclass/behaviour.py) on every contender that gives p_broadcast."""
    from smclass import behaviour

    for entry in active(contenders):
        score = behaviour_scorer(entry["model"])
        if score is None:
            continue
        results = behaviour.run(score)
        entry["behaviour"] = {
            "rates": behaviour.rates(results),
            "counts": {r.name: [r.passed, r.total] for r in results},
            "worst": behaviour.worst_failures(results, 20),
        }
        fam = behaviour.family_rates(results)
        log(f"{entry['name']}: behaviour pass rates " + ", ".join(f"{k} {v:.1%}" for k, v in fam.items()))
        if entry["short"] == "smclass":
            print(behaviour.format_table(results), file=sys.stderr, flush=True)


def run_speed(contenders, corpus, cfg, log) -> None:
    pool = list(corpus["test"].texts)
    for entry in active(contenders):
        c, model = entry["contender"], entry["model"]
        slow = c.short == "embeddings"
        rates = {}
        for size in BATCH_SIZES:
            if slow and size > 1_000:
                rates[size] = None
                continue
            batch = cycled(pool, size)
            c.predict(model, batch)                                    # warm-up, for everyone
            runs = [throughput(lambda b: c.predict(model, b), batch, 0.2 if slow else cfg["min_seconds"])
                    for _ in range(cfg["repeats"])]
            rates[size] = median(runs)
        entry["throughput"] = rates
        runs = [latency_us(lambda t: c.predict_one(model, t), pool,
                           50 if slow else cfg["latency_calls"], cfg["latency_seconds"])
                for _ in range(cfg["repeats"])]
        entry["latency_us"] = median(runs)
        if not slow:
            runs = []
            for rep in range(max(cfg["repeats"], 3)):
                batch = unseen_batch(pool, SPEED_BATCH, f"u{rep}x")
                started = time.perf_counter()
                c.predict(model, batch)
                runs.append(SPEED_BATCH / (time.perf_counter() - started))
            entry["throughput_unseen"] = median(runs)
        else:
            entry["throughput_unseen"] = None
        log(f"{c.name}: {', '.join(f'{k}: {v:,.0f}/s' for k, v in rates.items() if v)}; "
            f"latency {entry['latency_us']:,.0f} us")


def run_first_sight(contenders, eval_dir: Path, tmp: Path, cfg, log) -> dict:
    """smclass vs fastText on every distinct real post of the eval folder, once each, fresh processes."""
    from bench.firstsight import measure
    from bench.realposts import real_posts

    shorts = {e["short"] for e in active(contenders)}
    if not {"smclass", "fasttext"} <= shorts:
        return {"skipped": "needs both smclass and fastText"}
    models = sorted((tmp / "model-smclass").glob("*.joblib")) if (tmp / "model-smclass").is_dir() else []
    ft_bin = tmp / "model-fasttext" / "fasttext.bin"
    if not models or not ft_bin.is_file():
        return {"skipped": "models were not saved"}
    posts, per_source = real_posts(eval_dir) if eval_dir.is_dir() else ([], {})
    if len(posts) < 8:
        return {"skipped": f"no real posts found in {eval_dir}"}
    runs = 1 if cfg["tiny"] else 5
    log(f"first sight on {len(posts):,} real posts, {runs} fresh processes")
    try:
        summary = measure(eval_dir, models[0], ft_bin, runs=runs, cwd=str(REPO), env=_child_env())
    except Exception as exc:                          # a crash in the child: say so in the report
        return {"skipped": f"could not be measured ({type(exc).__name__}: {str(exc)[-300:]})"}
    summary["sources"] = per_source
    summary["distinct_posts"] = len(posts)
    return summary


def _child_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("SMCLASS_MODEL", None)
    return env


def _count_csv_rows(path: Path) -> int:
    with open(path, encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def write_predict_input(path: Path, texts: list[str], rows: int) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        n = len(texts)
        for i in range(rows):
            writer.writerow([i + 1, f"{texts[i % n]} {i + 1}"])


def run_cli_and_load(contenders, corpus, cfg, tmp: Path, log) -> dict:
    """`smclass predict` end to end, model load time and size (smclass); load/size for the others."""
    out: dict = {"cli": [], "load": None, "saved": {}}
    smclass_entry = next((e for e in active(contenders) if e["short"] == "smclass"), None)
    for entry in active(contenders):
        c = entry["contender"]
        folder = tmp / f"model-{c.short}"
        folder.mkdir()
        try:
            files = c.save(entry["model"], folder)
        except Exception as exc:                      # e.g. smclass/writers.py missing
            entry["save_error"] = f"{type(exc).__name__}: {exc}"
            log(f"{c.name}: could not save the model ({entry['save_error']})")
            continue
        entry["size_bytes"] = sum(Path(f).stat().st_size for f in files)
        entry["model_file_bytes"] = Path(files[0]).stat().st_size
        times = []
        for _ in range(cfg["repeats"]):
            gc.collect()
            started = time.perf_counter()
            loaded = c.load(folder)
            times.append(time.perf_counter() - started)
            del loaded
        entry["load_seconds"] = median(times)
        out["saved"][c.short] = folder
        log(f"{c.name}: model {entry['size_bytes'] / 1e6:.1f} MB, loads in {entry['load_seconds']:.3f}s (in process)")
        # fastText's .bin (about 0.8 GB) stays until the caller's temporary folder goes: first sight loads it
    if smclass_entry is None or "smclass" not in out["saved"]:
        return out
    model_path = out["saved"]["smclass"] / "smclass.joblib"
    probe = (
        "import json, time, sys\n"
        "t0 = time.perf_counter()\n"
        "from smclass.predict import Predictor\n"
        "t1 = time.perf_counter()\n"
        f"p = Predictor.load({str(model_path)!r})\n"
        "t2 = time.perf_counter()\n"
        "p.predict_one('Flash sale! 40% off today only https://shop.example.com')\n"
        "t3 = time.perf_counter()\n"
        "print(json.dumps({'import': t1 - t0, 'load': t2 - t1, 'first_predict': t3 - t2}))\n"
    )
    runs = []
    for _ in range(cfg["repeats"]):
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=_child_env(), cwd=str(tmp))
        if done.returncode == 0:
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
        else:
            out["load_error"] = done.stderr.strip()[-600:]
    if runs:
        out["load"] = {k: median([r[k] for r in runs]) for k in runs[0]}
        log(f"smclass: fresh-process load {out['load']['load']:.3f}s, import {out['load']['import']:.3f}s")

    rows = cfg["predict_rows"]
    source = tmp / "export.csv"
    log(f"writing the {rows:,}-row predict input")
    write_predict_input(source, corpus["all_texts"], rows)
    out["cli_input_bytes"] = source.stat().st_size
    for jobs in cfg["jobs"]:
        runs = []
        for rep in range(cfg["repeats"]):
            target = tmp / f"predicted-{jobs}-{rep}.csv"
            report_file = tmp / f"child-{jobs}-{rep}.json"
            command = [sys.executable, "-m", "smclass", "predict", str(source), "--text-column", "text",
                       "--output", str(target), "--jobs", str(jobs), "--model", str(model_path), "--quiet"]
            subprocess.run([sys.executable, "-m", "bench.child", str(report_file), "--", *command],
                           env=_child_env(), cwd=str(tmp), check=True)
            result = json.loads(report_file.read_text())
            result["rows_out"] = _count_csv_rows(target) if target.is_file() else None
            target.unlink(missing_ok=True)
            runs.append(result)
            if result["returncode"] != 0:
                log(f"smclass predict --jobs {jobs} failed: {result['stderr_tail'][-300:]}")
                break
        ok = [r for r in runs if r["returncode"] == 0]
        summary = {
            "jobs": jobs,
            "command": "smclass predict export.csv --text-column text --output out.csv "
                       f"--jobs {jobs} --model smclass.joblib --quiet",
            "runs": len(runs),
            "ok": len(ok) == len(runs),
            "error": None if ok and len(ok) == len(runs) else (runs[-1]["stderr_tail"][-600:] if runs else "not run"),
            "seconds": median([r["seconds"] for r in ok]),
            "max_rss_bytes": median([r["max_rss_bytes"] for r in ok]),
            "tree_rss_peak_bytes": median([r["tree_rss_peak_bytes"] for r in ok]),
            "tree_pss_peak_bytes": median([r["tree_pss_peak_bytes"] for r in ok]),
            "rows_out": [r["rows_out"] for r in runs],
            "rows_expected": rows,
        }
        summary["posts_per_second"] = rows / summary["seconds"] if summary["seconds"] else None
        out["cli"].append(summary)
        if summary["seconds"]:
            log(f"smclass predict --jobs {jobs}: {summary['posts_per_second']:,.0f} posts/s, "
                f"peak RSS {summary['max_rss_bytes'] / 1e6:.0f} MB, rows {summary['rows_out']}")
    source.unlink(missing_ok=True)
    return out


def source_state() -> dict:
    """(mtime, size) of every smclass source file: others may edit smclass while the benchmark runs."""
    import smclass

    folder = Path(smclass.__file__).resolve().parent
    return {p.name: (p.stat().st_mtime, p.stat().st_size) for p in sorted(folder.glob("*.py"))}


def source_changes(before: dict, after: dict) -> list[str]:
    changed = []
    for name in sorted(set(before) | set(after)):
        if name not in before:
            changed.append(f"{name} (added)")
        elif name not in after:
            changed.append(f"{name} (removed)")
        elif before[name] != after[name]:
            stamp = _dt.datetime.fromtimestamp(after[name][0], _dt.timezone.utc)
            changed.append(f"{name} (modified {stamp:%H:%M} UTC)")
    return changed


def command_line(argv) -> str:
    return "python -m bench" + ("" if not argv else " " + shlex.join(argv))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    cfg = config(args)
    unknown = {s.strip().lower() for s in args.skip} - {c.short for c in ALL}
    if unknown:
        raise SystemExit(f"--skip: unknown contender {sorted(unknown)[0]!r} (known: {', '.join(c.short for c in ALL)}).")
    log = Log(args.quiet)
    started = time.perf_counter()
    when = _dt.datetime.now(_dt.timezone.utc)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))

    info = machine()
    sources_before = source_state()
    corpus_path = Path(args.corpus)
    if not corpus_path.is_file():
        raise SystemExit(f"{corpus_path}: no such corpus file; pass --corpus PATH.")
    corpus = load_corpus(str(corpus_path), cfg, log)
    eval_sets, eval_notes = load_eval_sets(Path(args.eval_dir))
    for found in eval_sets:
        log(f"external set {found.name}: {len(found)} posts")
    contenders = pick_contenders(args, cfg, log)

    run_training(contenders, corpus, cfg, log)
    run_accuracy(contenders, corpus, eval_sets, log)
    run_behaviour(contenders, log)
    run_speed(contenders, corpus, cfg, log)
    with tempfile.TemporaryDirectory(prefix="smclass-bench-") as tmp:
        deployment = run_cli_and_load(contenders, corpus, cfg, Path(tmp), log)
        deployment["first_sight"] = run_first_sight(contenders, Path(args.eval_dir), Path(tmp), cfg, log)
    info["load_average_end"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    runtime = time.perf_counter() - started

    results = {
        "when": when,
        "command": command_line(argv),
        "machine": info,
        "config": cfg,
        "corpus": corpus,
        "eval_dir": str(args.eval_dir),
        "eval_sets": eval_sets,
        "eval_notes": eval_notes,
        "contenders": contenders,
        "deployment": deployment,
        "runtime_seconds": runtime,
        "source_changes": source_changes(sources_before, source_state()),
    }
    text = report.render(results)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    if args.json:
        Path(args.json).write_text(json.dumps(report.raw(results), indent=2, default=str), encoding="utf-8")
    log(f"wrote {output} ({runtime:.0f}s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
