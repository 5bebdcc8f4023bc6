"""Run one command and report its wall time and peak memory as JSON.

    python -m bench.child OUT.json -- COMMAND ...

A fresh process per measurement, so ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` is
the peak RSS of the command (the largest single process among it and the workers
it waited for). The process tree's summed RSS and PSS (proportional set size:
pages shared after fork counted once) are also sampled every 50 ms with psutil
when it is installed.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def _tree_memory(proc) -> tuple[int, int]:
    rss = pss = 0
    try:
        members = [proc] + proc.children(recursive=True)
    except Exception:
        return 0, 0
    for member in members:
        try:
            info = member.memory_full_info()
            rss += info.rss
            pss += getattr(info, "pss", info.rss)
        except Exception:
            pass
    return rss, pss


def main(argv: list[str]) -> int:
    out, sep, *command = argv
    if sep != "--" or not command:
        print("usage: python -m bench.child OUT.json -- COMMAND ...", file=sys.stderr)
        return 2
    try:
        import psutil
    except ImportError:
        psutil = None
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak_rss = peak_pss = 0
    watched = psutil.Process(child.pid) if psutil else None
    while child.poll() is None:
        if watched is not None:
            rss, pss = _tree_memory(watched)
            peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    stderr = child.stderr.read().decode("utf-8", "replace")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = {
        "returncode": child.returncode,
        "seconds": seconds,
        "max_rss_bytes": usage.ru_maxrss * 1024,          # Linux reports KiB
        "tree_rss_peak_bytes": peak_rss or None,
        "tree_pss_peak_bytes": peak_pss or None,
        "stderr_tail": stderr[-2000:],
    }
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
