"""One million posts through `smclass predict`: --jobs 1, --jobs 2 and --engine dask, side by side.

    python -m bench.scale [--rows 1000000] [--loop 30] [--output BENCHMARKS.md]
    python -m bench.scale --only pairs      # just the memory of each input/output pair

Makes a Parquet file of ``--rows`` distinct posts (corpus posts, each with its
own id token, written in one row group as pyarrow does by default) in a
temporary folder, trains a model there (the shipped corpus, no CV), then runs
each command once in a fresh process, sampling the memory of the whole process
tree (the command and every child: pool workers, Dask nanny and worker
processes) every 50 ms with psutil. It also runs ``--jobs 1`` on the same posts for
every input/output pair (CSV or Parquet in, CSV or Parquet out), because the
local reader and writer must stay under 300 MB peak RSS whatever the formats.
Then it runs ``--jobs 2`` ``--loop`` times on a small file, each with a time
limit, to show it exits after success (no hang).
Writes its table into its own section of BENCHMARKS.md (between markers, the
rest of the file untouched).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
START, END = "<!-- bench.scale:start -->", "<!-- bench.scale:end -->"


def make_input(path: Path, rows: int) -> None:
    """``rows`` distinct posts: the corpus cycled, each post with its own id token appended."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with open(REPO / "data" / "posts.jsonl", encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for line in handle if line.strip()]
    posts = [f"{texts[i % len(texts)]} id{i:07x}" for i in range(rows)]
    table = pa.table({"id": [f"p{i}" for i in range(rows)], "text": posts})
    pq.write_table(table, path)      # pyarrow's default: row groups of up to 1Mi rows


def tree_memory(proc) -> tuple[int, int, int]:
    """(summed RSS, summed PSS, largest single RSS) of ``proc`` and all its descendants."""
    rss = pss = biggest = 0
    try:
        members = [proc] + proc.children(recursive=True)
    except Exception:
        return 0, 0, 0
    for member in members:
        try:
            info = member.memory_full_info()
        except Exception:
            continue
        rss += info.rss
        pss += getattr(info, "pss", info.rss)
        biggest = max(biggest, info.rss)
    return rss, pss, biggest


def measure(command: list[str], cwd: Path, log: Path, timeout: float) -> dict:
    """Run ``command``; wall time, peak tree memory, return code (None on timeout: a hang)."""
    import psutil

    started = time.perf_counter()
    with open(log, "wb") as err:
        child = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
        watched = psutil.Process(child.pid)
        peak = [0, 0, 0]
        processes = 1
        while child.poll() is None:
            if time.perf_counter() - started > timeout:
                for member in watched.children(recursive=True) + [watched]:
                    try:
                        member.kill()
                    except psutil.Error:
                        pass
                child.wait()
                return {"returncode": None, "seconds": time.perf_counter() - started, "hung": True}
            sample = tree_memory(watched)
            peak = [max(a, b) for a, b in zip(peak, sample)]
            try:
                processes = max(processes, 1 + len(watched.children(recursive=True)))
            except psutil.Error:
                pass
            time.sleep(0.05)
    return {"returncode": child.returncode, "seconds": time.perf_counter() - started, "hung": False,
            "tree_rss": peak[0], "tree_pss": peak[1], "max_rss": peak[2], "processes": processes,
            "stderr": log.read_text(encoding="utf-8", errors="replace")[-600:]}


def write_csv(parquet: Path, csv: Path) -> None:
    """The same posts as a CSV file, written batch by batch."""
    import pyarrow.csv as pc
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(parquet)
    with pc.CSVWriter(csv, pf.schema_arrow) as writer:
        for batch in pf.iter_batches(batch_size=65_536):
            writer.write_batch(batch)


def count_rows(path: Path) -> int | None:
    """Rows in a CSV or Parquet output (CSV: records, not lines; posts may hold newlines)."""
    if path.suffix == ".csv" and path.is_file():
        import csv

        with open(path, newline="", encoding="utf-8-sig") as handle:
            return sum(1 for _ in csv.reader(handle)) - 1
    return parquet_rows(path)


def parquet_rows(path: Path) -> int | None:
    import pyarrow.parquet as pq

    if path.is_file():
        return pq.ParquetFile(path).metadata.num_rows
    if path.is_dir():
        return sum(pq.ParquetFile(p).metadata.num_rows for p in path.glob("part-*.parquet"))
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--loop", type=int, default=30, help="--jobs 2 runs on a small file, to catch a hang")
    parser.add_argument("--loop-rows", type=int, default=20_000)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before a big run counts as hung")
    parser.add_argument("--output", default=str(REPO / "BENCHMARKS.md"))
    parser.add_argument("--only", choices=("engines", "pairs", "loop"), action="append",
                        help="run only these parts (repeatable; default: all three)")
    args = parser.parse_args(argv)
    parts = set(args.only or ("engines", "pairs", "loop"))
    py = sys.executable
    env_note = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    with tempfile.TemporaryDirectory(prefix="smclass-scale-") as tmp_name:
        tmp = Path(tmp_name)
        print(f"[scale] training a model in {tmp}", file=sys.stderr, flush=True)
        subprocess.run([py, "-m", "smclass", "train", "--cv", "0", "--output", str(tmp / "m.joblib"), "--quiet"],
                       cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        source = tmp / "posts.parquet"
        print(f"[scale] writing {args.rows:,} posts to {source.name}", file=sys.stderr, flush=True)
        make_input(source, args.rows)
        size = source.stat().st_size
        base = [py, "-m", "smclass", "predict", str(source), "--model", str(tmp / "m.joblib"), "--quiet"]
        cases = [
            ("`--jobs 1`", base + ["--jobs", "1", "--output", str(tmp / "out-1.parquet")], tmp / "out-1.parquet"),
            ("`--jobs 2`", base + ["--jobs", "2", "--output", str(tmp / "out-2.parquet")], tmp / "out-2.parquet"),
            ("`--engine dask` (LocalCluster, 2 workers)",
             base + ["--engine", "dask", "--workers", "2", "--output", str(tmp / "out-dask")], tmp / "out-dask"),
        ]
        results = []
        for name, command, out in (cases if "engines" in parts else []):
            print(f"[scale] {name}", file=sys.stderr, flush=True)
            result = measure(command, REPO, tmp / "stderr.txt", args.timeout)
            result["rows_out"] = parquet_rows(out)
            result["name"] = name
            results.append(result)
            print(f"[scale]   {json.dumps({k: v for k, v in result.items() if k != 'stderr'})}", file=sys.stderr, flush=True)
        pairs = []
        if "pairs" in parts:
            csv_source = tmp / "posts.csv"
            write_csv(source, csv_source)
            for src in (csv_source, source):
                for suffix in (".csv", ".parquet"):
                    out = tmp / f"pair-out{suffix}"
                    out.unlink(missing_ok=True)
                    name = f"{src.suffix[1:].upper()} -> {suffix[1:].upper()}"
                    print(f"[scale] --jobs 1, {name}", file=sys.stderr, flush=True)
                    command = [py, "-m", "smclass", "predict", str(src), "--model", str(tmp / "m.joblib"),
                               "--quiet", "--jobs", "1", "--output", str(out)]
                    result = measure(command, REPO, tmp / "stderr.txt", args.timeout)
                    result["rows_out"] = count_rows(out)
                    result["name"] = name
                    pairs.append(result)
                    print(f"[scale]   {json.dumps({k: v for k, v in result.items() if k != 'stderr'})}",
                          file=sys.stderr, flush=True)
        loop = []
        if "loop" in parts:
            small = tmp / "small.parquet"
            make_input(small, args.loop_rows)
        for i in range(args.loop if "loop" in parts else 0):
            command = [py, "-m", "smclass", "predict", str(small), "--model", str(tmp / "m.joblib"), "--quiet",
                       "--jobs", "2", "--output", str(tmp / "loop.parquet")]
            (tmp / "loop.parquet").unlink(missing_ok=True)
            loop.append(measure(command, REPO, tmp / "stderr.txt", timeout=120))
            loop[-1]["wrote_output"] = (tmp / "loop.parquet").is_file()
            print(f"[scale] loop {i + 1}/{args.loop}: {loop[-1]['seconds']:.1f}s rc={loop[-1]['returncode']}",
                  file=sys.stderr, flush=True)
    section = render(results, pairs, loop, args, size, env_note)
    write_section(Path(args.output), section)
    print(section)
    return 0 if all(r["returncode"] == 0 for r in results + pairs + loop) else 1


def _failed(r: dict, empty_cells: int) -> str:
    """A table row for a run that did not exit 0."""
    return f"| {r['name']} | failed ({'hung' if r['hung'] else 'exit ' + str(r['returncode'])}) |" + " |" * empty_cells


def render(results, pairs, loop, args, size, env_note) -> str:
    mb = lambda b: f"{b / 1e6:,.0f} MB" if b else "–"      # noqa: E731
    lines = [
        START,
        f"## Scale: {args.rows:,} posts with `--jobs 1`, `--jobs 2` and `--engine dask`",
        "",
        f"`python -m bench.scale` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {env_note}; the machine "
        f"was shared with other work, so absolute times are pessimistic). Input: one Parquet file of {args.rows:,} "
        f"distinct posts ({size / 1e6:,.0f} MB, one row group, pyarrow's default); output Parquet. Memory is "
        "sampled every 50 ms over the whole process tree (the command, pool workers, Dask nanny and worker "
        "processes): summed RSS, summed PSS (shared pages counted once) and the largest single process.",
        "",
        "| command | seconds | posts/s | rows out | processes | tree RSS peak | tree PSS peak | largest process |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        if r["returncode"] != 0:
            lines.append(_failed(r, 6))
            continue
        lines.append(f"| {r['name']} | {r['seconds']:.1f} | {args.rows / r['seconds']:,.0f} | {r['rows_out']:,} | "
                     f"{r['processes']} | {mb(r['tree_rss'])} | {mb(r['tree_pss'])} | {mb(r['max_rss'])} |")
    if pairs:
        lines += [
            "",
            f"Local `--jobs 1` on the same {args.rows:,} posts for each input/output pair (the CSV input is the same "
            "posts written by pyarrow; Parquet output is written by record batch). Target: every pair under 300 MB "
            "peak RSS.",
            "",
            "| input -> output | seconds | posts/s | rows out | peak RSS | under 300 MB |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for r in pairs:
            if r["returncode"] != 0:
                lines.append(_failed(r, 4))
                continue
            lines.append(f"| {r['name']} | {r['seconds']:.1f} | {args.rows / r['seconds']:,.0f} | "
                         f"{r['rows_out']:,} | {mb(r['max_rss'])} | {'yes' if r['max_rss'] < 300e6 else 'NO'} |")
    ok = sum(1 for r in loop if r["returncode"] == 0)
    hung = sum(1 for r in loop if r["hung"])
    hung_after = sum(1 for r in loop if r["hung"] and r.get("wrote_output"))
    times = sorted(r["seconds"] for r in loop) or [0]
    lines += [
        "",
        f"Hang check: `--jobs 2` on {args.loop_rows:,} posts, {len(loop)} times in a row, each killed after "
        f"120 s: {ok} exited 0, {hung} hung ({hung_after} of them after writing their output), "
        f"{len(loop) - ok - hung} failed otherwise; "
        f"{times[0]:.1f}–{times[-1]:.1f} s each (median {times[len(times) // 2]:.1f} s).",
        "",
        "Dask's time includes starting the LocalCluster (scheduler, 2 nannies, 2 workers); on a real cluster that "
        "is paid once, not per run. The input's single row group is cut into 100,000-row partitions "
        "(`--partition-rows`), so both workers are busy.",
        END,
    ]
    return "\n".join(lines) + "\n"


def write_section(path: Path, section: str) -> None:
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    if START in text and END in text:
        text = text[: text.index(START)] + section + text[text.index(END) + len(END) + 1:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
