"""Progress bars on stderr (tqdm), shown only when stderr is a terminal.

``InputProgress`` follows how far the input files have been read: the total is their
size in bytes, and the bytes done are the offset of the open file, which the
operating system keeps for every open file (found by matching the file's inode
among this process's open descriptors, so it works with every reader, zip
archives included). An input whose size cannot be known (stdin, a folder) gets a
counter of posts with their rate instead of a percentage.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path


def wanted(enabled: bool = True) -> bool:
    """A bar is drawn only when asked for and stderr is a terminal (never into a pipe or a log file)."""
    try:
        return enabled and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _size() -> dict:
    """The terminal's size for tqdm, or 80x24 when it says 0 (a fresh pty does; tqdm would hide the bar)."""
    size = shutil.get_terminal_size((80, 24))
    return {"ncols": size.columns or 80, "nrows": size.lines or 24}


def _descriptors() -> list[int]:
    for folder in ("/proc/self/fd", "/dev/fd"):
        try:
            return [int(name) for name in os.listdir(folder) if name.isdigit()]
        except OSError:
            continue
    return []


def open_offset(stat: os.stat_result) -> int | None:
    """How far this process has read the file ``stat`` describes (its open descriptor's offset), or None."""
    for fd in _descriptors():
        try:
            here = os.fstat(fd)
            if here.st_ino == stat.st_ino and here.st_dev == stat.st_dev:
                return os.lseek(fd, 0, os.SEEK_CUR)
        except OSError:
            continue
    return None


class InputProgress:
    """A bar over the bytes of ``inputs`` (percentage, rate, ETA) with the posts done beside it."""

    def __init__(self, inputs, enabled: bool = True, *, desc: str = "reading", interval: float = 0.1):
        self.bar = None
        if not wanted(enabled):
            return
        from tqdm import tqdm

        paths = [Path(str(name)) for name in inputs]
        sized = all(str(p) != "-" and p.is_file() for p in paths)
        self.files = [(p.stat(), p.stat().st_size) for p in paths] if sized else []
        self.current = 0
        self.interval = interval
        self.last = 0.0
        self.posts = 0
        if sized:
            self.bar = tqdm(total=sum(size for _, size in self.files), desc=desc, unit="B", unit_scale=True,
                            unit_divisor=1024, file=sys.stderr, leave=False, **_size(), mininterval=interval)
        else:
            self.bar = tqdm(desc=desc, unit=" posts", unit_scale=True, file=sys.stderr, leave=False,
                            **_size(), mininterval=interval)

    def _bytes_done(self) -> int:
        for index in range(self.current, len(self.files)):
            offset = open_offset(self.files[index][0])
            if offset is not None:
                self.current = index
                return sum(size for _, size in self.files[:index]) + min(offset, self.files[index][1])
        # no input open right now: the last one seen open is finished
        return sum(size for _, size in self.files[: self.current + 1])

    def update(self, posts: int) -> None:
        """Called after each chunk with the number of posts done so far."""
        if self.bar is None:
            return
        now = time.perf_counter()
        if now - self.last < self.interval:
            return
        self.last = now
        self.posts = posts
        if self.files:
            self.bar.set_postfix_str(f"{posts:,} posts", refresh=False)
            self.bar.update(max(0, self._bytes_done() - self.bar.n))
        else:
            self.bar.update(posts - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            if self.files:
                self.bar.update(self.bar.total - self.bar.n)
            self.bar.close()
            self.bar = None


class StepProgress:
    """A bar over a known number of steps (cross-validation folds), with rate and ETA."""

    def __init__(self, total: int, desc: str, enabled: bool = True, unit: str = " folds"):
        self.bar = None
        if wanted(enabled):
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False, **_size())

    def step(self) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
