"""Where outputs go and what they hold (issues 12 and 13): inputs are never overwritten, FIFOs and
devices are written through, spreadsheet formulas are neutralised, .xlsx and Excel CSV, disk full,
folders, lone surrogates, stale temp files, several inputs, train's writability check, and labels
with ``$`` in the report. Every test runs ``python -m smclass`` on real files."""

from __future__ import annotations

import csv
import io
import json
import os
import resource
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import conftest

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}   # this worktree's smclass, whatever the cwd


def run_cli(*args, cwd=None, stdin=None):
    return conftest.run_cli(*args, cwd=cwd, stdin=stdin, env=ENV)

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX files, FIFOs and devices")

OLD = b"id,text,label,p_broadcast,note\nold,yesterday's good output,broadcast,0.9,\n"
POSTS = [
    {"id": "1", "text": "Flash sale! 40% off today only, link in bio"},
    {"id": "2", "text": "@ana congrats on the new job!!"},
    {"id": "3", "text": "thanks everyone for coming last night"},
]
FORMULA = '=HYPERLINK("http://evil.example","click")'


def smclass(*args) -> list[str]:
    return [sys.executable, "-m", "smclass", *map(str, args)]


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".smclass-"))


def write_csv(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def read_csv(path: Path, encoding="utf-8") -> list[dict]:
    with open(path, newline="", encoding=encoding) as fh:
        return list(csv.DictReader(fh))


def one_error(proc) -> str:
    """The single ``Error:`` line of a failed run (exit 1, no traceback)."""
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), proc.stderr
    return lines[0]


@pytest.fixture
def posts(tmp_path) -> Path:
    return write_csv(tmp_path / "posts.csv", POSTS)


def _can_unshare() -> bool:
    if shutil.which("unshare") is None or os.geteuid() != 0:
        return False
    return subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0


needs_unshare = pytest.mark.skipif(not _can_unshare(), reason="needs root and unshare -m (private mount namespace)")


# --------------------------------------------------------------------------- #
# 13.2: an output that is an input is refused, and the input is untouched
# --------------------------------------------------------------------------- #

def _spellings(tmp_path: Path, posts: Path) -> dict[str, str]:
    (tmp_path / "link.csv").symlink_to(posts)
    os.link(posts, tmp_path / "hard.csv")
    return {"same": "posts.csv", "dot-slash": "./posts.csv", "absolute": str(posts),
            "dotdot": f"../{tmp_path.name}/posts.csv", "symlink": "link.csv", "hard-link": "hard.csv"}


@pytest.mark.parametrize("spelling", ["same", "dot-slash", "absolute", "dotdot", "symlink", "hard-link"])
def test_predict_refuses_to_overwrite_its_input(model_path, tmp_path, posts, spelling):
    output = _spellings(tmp_path, posts)[spelling]
    before = posts.read_bytes()
    proc = run_cli("predict", "--model", model_path, "posts.csv", "--output", output, cwd=tmp_path)
    assert one_error(proc) == (f"Error: --output {output} is the input posts.csv; refusing to overwrite an input. "
                               "Write the output to another file.")
    assert posts.read_bytes() == before and temp_files(tmp_path) == []


@pytest.mark.parametrize("option", ["--output", "--png"])
@pytest.mark.parametrize("spelling", ["dot-slash", "symlink", "hard-link"])
def test_report_refuses_to_overwrite_its_input(model_path, tmp_path, posts, option, spelling):
    output = _spellings(tmp_path, posts)[spelling]
    before = posts.read_bytes()
    args = ["--output", output] if option == "--output" else ["--output", "r.html", "--png", output]
    proc = run_cli("report", "--model", model_path, "posts.csv", *args, cwd=tmp_path)
    assert f"Error: {option} {output} is the input posts.csv; refusing to overwrite an input." in one_error(proc)
    assert posts.read_bytes() == before and not (tmp_path / "r.html").exists()


def test_refusal_names_the_right_input_among_several(model_path, tmp_path, posts):
    other = write_csv(tmp_path / "other.csv", POSTS)
    proc = run_cli("predict", "--model", model_path, "posts.csv", "other.csv", "--output", "./other.csv", cwd=tmp_path)
    assert "--output ./other.csv is the input other.csv" in one_error(proc)
    assert read_csv(other) == POSTS


# --------------------------------------------------------------------------- #
# 13.3: FIFOs, devices and /dev/stdout are written straight through; symlinks resolved
# --------------------------------------------------------------------------- #

def test_fifo_output_is_written_through_and_stays_a_fifo(model_path, tmp_path, posts):
    fifo = tmp_path / "out.csv"
    os.mkfifo(fifo)
    received = []

    def reader():
        with open(fifo, "rb") as fh:      # blocks until smclass opens the FIFO for writing
            received.append(fh.read())

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    proc = run_cli("predict", "--model", model_path, posts, "--output", fifo, "-q")
    thread.join(timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert not thread.is_alive() and received
    rows = list(csv.DictReader(io.StringIO(received[0].decode("utf-8"))))
    assert [r["id"] for r in rows] == ["1", "2", "3"] and rows[0]["label"] == "broadcast"
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert temp_files(tmp_path) == []


@pytest.mark.parametrize("fmt", ["parquet", "xlsx"])
def test_binary_formats_go_through_a_fifo_too(model_path, tmp_path, posts, fmt):
    fifo = tmp_path / f"out.{fmt}"
    os.mkfifo(fifo)
    received = []
    thread = threading.Thread(target=lambda: received.append(open(fifo, "rb").read()), daemon=True)
    thread.start()
    proc = run_cli("predict", "--model", model_path, posts, "--output", fifo, "-q")
    thread.join(timeout=60)
    assert proc.returncode == 0, proc.stderr
    (tmp_path / f"copy.{fmt}").write_bytes(received[0])
    if fmt == "parquet":
        import pyarrow.parquet as pq
        assert pq.read_table(tmp_path / "copy.parquet").column("id").to_pylist() == ["1", "2", "3"]
    else:
        import openpyxl
        sheet = openpyxl.load_workbook(tmp_path / "copy.xlsx").active
        assert [row[0].value for row in sheet.iter_rows()] == ["id", "1", "2", "3"]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_dev_stdout_is_written_through(model_path, tmp_path, posts):
    proc = run_cli("predict", "--model", model_path, posts, "--output", "/dev/stdout", "-q")
    assert proc.returncode == 0, proc.stderr
    assert [r["id"] for r in csv.DictReader(io.StringIO(proc.stdout))] == ["1", "2", "3"]


def test_dev_stdout_redirected_to_a_file_keeps_that_file(model_path, tmp_path, posts):
    """With stdout redirected to a file, -o /dev/stdout must fill that very file (same inode)."""
    target = tmp_path / "captured.csv"
    with open(target, "wb") as fh:
        inode = os.fstat(fh.fileno()).st_ino
        proc = subprocess.run(smclass("predict", "--model", model_path, posts, "--output", "/dev/stdout", "-q"),
                              stdout=fh, stderr=subprocess.PIPE, text=True, timeout=120, env=ENV)
    assert proc.returncode == 0, proc.stderr
    assert target.stat().st_ino == inode
    assert [r["id"] for r in read_csv(target)] == ["1", "2", "3"]
    assert temp_files(tmp_path) == []


def test_report_to_dev_stdout(model_path, posts):
    proc = run_cli("report", "--model", model_path, posts, "--output", "/dev/stdout", "-q")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("<!DOCTYPE html>") and "</html>" in proc.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod of a character device needs root")
def test_character_device_stays_a_device(model_path, tmp_path, posts):
    """A null device made in tmp_path (major 1, minor 3): the real /dev is never touched."""
    null = tmp_path / "null"
    os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    proc = run_cli("predict", "--model", model_path, posts, "--output", null, "--format", "csv", "-q")
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISCHR(null.lstat().st_mode) and null.stat().st_rdev == os.makedev(1, 3)
    assert temp_files(tmp_path) == []


@needs_unshare
def test_dev_null_in_a_private_mount_namespace(model_path, tmp_path, posts):
    """`-o /dev/null --format csv`, run as root, must leave /dev/null a device. The test runs in a
    private mount namespace whose /dev is a fresh tmpfs holding its own null device."""
    script = ('set -e; mount -t tmpfs tmpfs /dev; mknod -m 666 /dev/null c 1 3; '
              '"$@"; echo "rc=$?"; stat -c %F /dev/null; ls -A /dev')
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh",
                           *smclass("predict", "--model", model_path, posts, "--output", "/dev/null",
                                    "--format", "csv", "-q")],
                          capture_output=True, text=True, timeout=120, env=ENV)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["rc=0", "character", "special", "file", "null"]


def test_symlinked_output_is_resolved_and_stays_a_link(model_path, tmp_path, posts):
    real = tmp_path / "real"
    real.mkdir()
    (real / "target.csv").write_bytes(OLD)
    link = tmp_path / "out.csv"
    link.symlink_to(real / "target.csv")
    proc = run_cli("predict", "--model", model_path, posts, "--output", link, "-q")
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and os.readlink(link) == str(real / "target.csv")
    assert [r["id"] for r in read_csv(real / "target.csv")] == ["1", "2", "3"]
    assert temp_files(tmp_path) == [] and temp_files(real) == []


def test_dangling_symlink_output_creates_its_target(model_path, tmp_path, posts):
    link = tmp_path / "out.csv"
    link.symlink_to(tmp_path / "made.csv")
    proc = run_cli("predict", "--model", model_path, posts, "--output", link, "-q")
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and len(read_csv(tmp_path / "made.csv")) == 3


# --------------------------------------------------------------------------- #
# 13.4 / 12.6: formula injection, .xlsx output, --excel
# --------------------------------------------------------------------------- #

DANGEROUS = [FORMULA, "+1+2", "-2+3", "@SUM(A1:A2)", "\tTAB=1", "\rCR=1"]


@pytest.fixture
def formula_posts(tmp_path) -> Path:
    rows = [{"id": f"=ID{i}()", "text": text, "campaign": f"-{i}+cmd|' /C calc'!A0"}
            for i, text in enumerate(DANGEROUS)]
    rows.append({"id": "ok", "text": "plain post, nothing to see", "campaign": "spring"})
    return write_csv(tmp_path / "formulas.csv", rows)


def test_csv_cells_that_start_a_formula_are_neutralised(model_path, tmp_path, formula_posts):
    out = tmp_path / "out.csv"
    proc = run_cli("predict", "--model", model_path, formula_posts, "--keep-columns", "campaign",
                   "--output", out, "-q")
    assert proc.returncode == 0, proc.stderr
    rows = read_csv(out)
    assert [r["text"] for r in rows] == ["'" + t for t in DANGEROUS] + ["plain post, nothing to see"]
    assert [r["id"] for r in rows] == [f"'=ID{i}()" for i in range(len(DANGEROUS))] + ["ok"]
    assert all(r["campaign"].startswith("'-") for r in rows[:-1]) and rows[-1]["campaign"] == "spring"
    assert all(r["label"] in ("broadcast", "conversational") for r in rows)
    assert len(rows) == len(DANGEROUS) + 1


def test_no_formula_guard_writes_cells_as_they_are(model_path, tmp_path, formula_posts):
    out = tmp_path / "out.csv"
    proc = run_cli("predict", "--model", model_path, formula_posts, "--no-formula-guard", "--output", out, "-q")
    assert proc.returncode == 0, proc.stderr
    assert [r["text"] for r in read_csv(out)][:len(DANGEROUS)] == DANGEROUS


def test_jsonl_is_never_altered(model_path, tmp_path, formula_posts):
    out = tmp_path / "out.jsonl"
    assert run_cli("predict", "--model", model_path, formula_posts, "--output", out, "-q").returncode == 0
    assert [json.loads(line)["text"] for line in out.read_text(encoding="utf-8").splitlines()][:6] == DANGEROUS


def test_xlsx_output_is_neutralised_and_typed(model_path, tmp_path, formula_posts):
    import openpyxl

    out = tmp_path / "out.xlsx"
    proc = run_cli("predict", "--model", model_path, formula_posts, "--output", out)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().endswith(f"wrote {out}.")
    sheet = openpyxl.load_workbook(out).active
    rows = [[cell for cell in row] for row in sheet.iter_rows()]
    header = [c.value for c in rows[0]]
    assert header == ["id", "text", "label", "p_broadcast", "lang", "note"]
    body = rows[1:]
    assert len(body) == len(DANGEROUS) + 1
    text = header.index("text")
    expected = ["'" + t.replace("\r", "\n") for t in DANGEROUS]      # XML reads a CR as a line feed
    assert [r[text].value for r in body] == expected + ["plain post, nothing to see"]
    assert all(r[text].data_type == "s" for r in body)          # never a formula cell ("f")
    p = header.index("p_broadcast")
    assert all(isinstance(r[p].value, float) and 0 <= r[p].value <= 1 for r in body)
    assert temp_files(tmp_path) == []


def test_xlsx_without_the_guard_still_writes_text_not_formulas(model_path, tmp_path, formula_posts):
    """openpyxl would store a string starting with '=' as a formula cell; without the guard the
    values are written exactly as they are, but as string cells, never as formulas."""
    import openpyxl

    out = tmp_path / "out.xlsx"
    proc = run_cli("predict", "--model", model_path, formula_posts, "--output", out, "--no-formula-guard", "-q")
    assert proc.returncode == 0, proc.stderr
    sheet = openpyxl.load_workbook(out).active
    cells = [row[1] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in cells][:len(DANGEROUS)] == [t.replace("\r", "\n") for t in DANGEROUS]
    assert [c.data_type for c in cells] == ["s"] * len(cells)


def test_xlsx_cells_with_control_characters_and_huge_text(model_path, tmp_path):
    import openpyxl

    rows = [{"id": "1", "text": "bell \x07 and nul-free control \x1b chars"}, {"id": "2", "text": "long " * 8000}]
    path = tmp_path / "posts.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "out.xlsx"
    proc = run_cli("predict", "--model", model_path, path, "--output", out, "-q")
    assert proc.returncode == 0, proc.stderr
    texts = [row[1].value for row in openpyxl.load_workbook(out).active.iter_rows(min_row=2)]
    assert texts[0] == "bell \ufffd and nul-free control \ufffd chars"
    assert len(texts[1]) == 32_767 and texts[1].endswith("…")


def test_excel_csv_starts_with_a_byte_order_mark(model_path, tmp_path):
    path = tmp_path / "emoji.csv"
    write_csv(path, [{"id": "1", "text": "Grüße 😀 launch day 🚀 shop now"}])
    out = tmp_path / "out.csv"
    proc = run_cli("predict", "--model", model_path, path, "--excel", "--output", out, "-q")
    assert proc.returncode == 0, proc.stderr
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfid,text,label")
    assert read_csv(out, encoding="utf-8-sig")[0]["text"] == "Grüße 😀 launch day 🚀 shop now"
    plain = tmp_path / "plain.csv"
    assert run_cli("predict", "--model", model_path, path, "--output", plain, "-q").returncode == 0
    assert plain.read_bytes().startswith(b"id,")


def test_excel_flag_only_applies_to_csv(model_path, tmp_path, posts):
    proc = run_cli("predict", "--model", model_path, posts, "--excel", "--output", tmp_path / "out.parquet")
    assert "--excel writes a CSV with a byte-order mark; it does not apply to parquet output" in one_error(proc)


def test_xlsx_to_stdout_is_refused(model_path, posts):
    proc = run_cli("predict", "--model", model_path, posts, "--format", "xlsx")
    assert one_error(proc) == "Error: Excel (.xlsx) cannot be written to stdout; pass --output with a .xlsx file."


# --------------------------------------------------------------------------- #
# Output errors: disk full, file size limit, a folder as output
# --------------------------------------------------------------------------- #

@pytest.fixture(scope="module")
def wordy(tmp_path_factory) -> Path:
    """About 400 KB of posts that compress badly: more than the 64 KB the full-disk tests allow."""
    import hashlib

    path = tmp_path_factory.mktemp("wordy") / "wordy.csv"
    write_csv(path, [{"id": str(i), "text": f"spring sale {hashlib.sha256(str(i).encode()).hexdigest()} "
                                            f"see you {hashlib.sha256(str(-i).encode()).hexdigest()}"}
                     for i in range(2000)])
    return path


@needs_unshare
def test_disk_full_is_one_sentence_naming_the_output(model_path, tmp_path, wordy):
    """A 64 KB tmpfs, mounted in a private mount namespace, fills up halfway through the output."""
    disk = tmp_path / "disk"
    disk.mkdir()
    (tmp_path / "old.csv").write_bytes(OLD)
    script = ('set -e; mount -t tmpfs -o size=64k tmpfs "$1"; cp "$2" "$1/out.csv"; shift 2; '
              'set +e; "$@"; echo "rc=$?"; cat "$0/out.csv"; ls -A "$0"')
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script, str(disk), str(disk), str(tmp_path / "old.csv"),
                           *smclass("predict", "--model", model_path, wordy, "--output", disk / "out.csv", "-q")],
                          capture_output=True, text=True, timeout=120, env=ENV)
    assert proc.stderr.strip() == (f"Error: Cannot write {disk}/out.csv: no space left on the device (the disk is "
                                   "full); the previous out.csv, if any, is unchanged.")
    assert proc.stdout == "rc=1\n" + OLD.decode() + "out.csv\n"      # old file intact, no temp file


def _limit_file_size():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)       # so write() fails with EFBIG instead of killing
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))


@pytest.mark.parametrize("name", ["out.csv", "out.parquet", "out.xlsx"])
def test_file_size_limit_is_one_sentence_and_keeps_the_old_file(model_path, tmp_path, wordy, name):
    out = tmp_path / name
    out.write_bytes(OLD)
    proc = subprocess.run(smclass("predict", "--model", model_path, wordy, "--output", out, "-q"),
                          capture_output=True, text=True, timeout=120, preexec_fn=_limit_file_size, env=ENV)
    assert one_error(proc) == (f"Error: Cannot write {out}: the file would be larger than this system allows "
                               f"(file size limit); the previous {name}, if any, is unchanged.")
    assert out.read_bytes() == OLD and temp_files(tmp_path) == []


@pytest.mark.parametrize("command", ["predict", "report"])
def test_a_folder_as_output_is_a_clean_error(model_path, tmp_path, posts, command):
    folder = tmp_path / "results"
    folder.mkdir()
    proc = run_cli(command, "--model", model_path, posts, "--output", folder)
    assert one_error(proc).startswith(f"Error: {folder} is a folder, not a file; name a file inside it")
    assert list(folder.iterdir()) == []


# --------------------------------------------------------------------------- #
# Lone surrogates never crash a writer
# --------------------------------------------------------------------------- #

@pytest.fixture
def surrogates(tmp_path) -> Path:
    path = tmp_path / "lone.jsonl"
    path.write_text('{"id": "1", "text": "love it \\ud83d so much", "account": "acme \\udc00"}\n'
                    '{"id": "2", "text": "Big sale today \\ud83d\\ude00 shop now", "account": "acme"}\n',
                    encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet", "xlsx"])
def test_lone_surrogates_become_replacement_characters(model_path, tmp_path, surrogates, fmt):
    out = tmp_path / f"out.{fmt}"
    proc = run_cli("predict", "--model", model_path, surrogates, "--keep-columns", "account", "--output", out, "-q")
    assert proc.returncode == 0, proc.stderr
    if fmt == "csv":
        rows = read_csv(out)
    elif fmt == "jsonl":
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    elif fmt == "parquet":
        import pyarrow.parquet as pq
        rows = pq.read_table(out).to_pylist()
    else:
        import openpyxl
        sheet = openpyxl.load_workbook(out).active
        values = [[c.value for c in row] for row in sheet.iter_rows()]
        rows = [dict(zip(values[0], row)) for row in values[1:]]
    assert rows[0]["text"] == "love it \ufffd so much" and rows[0]["account"] == "acme \ufffd"
    assert rows[1]["text"] == "Big sale today 😀 shop now"        # a real pair is one emoji, untouched
    assert rows[0]["label"] in ("broadcast", "conversational")


def test_lone_surrogates_in_the_report(model_path, tmp_path, surrogates):
    out = tmp_path / "r.html"
    proc = run_cli("report", "--model", model_path, surrogates, "--output", out, "-q")
    assert proc.returncode == 0, proc.stderr
    assert "love it \ufffd so much" in out.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- #
# kill -9 leftovers: PID-named temp files, removed by the next successful run
# --------------------------------------------------------------------------- #

def _host() -> str:
    import re
    return re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname() or "host")[:40]


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_stale_temp_files_of_dead_runs_are_removed(model_path, tmp_path, posts):
    host = _host()
    dead = tmp_path / f".smclass-{host}-{_dead_pid()}-abcd1234.csv"
    alive = tmp_path / f".smclass-{host}-{os.getpid()}-abcd1234.csv"        # this test process: alive
    other_host = tmp_path / f".smclass-elsewhere-{_dead_pid()}-abcd1234.csv"  # cannot be checked from here
    unnamed = tmp_path / ".smclass-k3j4h5g6.csv"                             # old naming, no PID: unprovable
    for path in (dead, alive, other_host, unnamed):
        path.write_bytes(b"half a file")
    proc = run_cli("predict", "--model", model_path, posts, "--output", tmp_path / "out.csv", "-q")
    assert proc.returncode == 0, proc.stderr
    assert temp_files(tmp_path) == sorted(p.name for p in (alive, other_host, unnamed))


def test_kill_9_leftover_is_cleaned_by_the_next_run(model_path, tmp_path, wordy):
    big = tmp_path / "big.csv"
    with open(big, "w", encoding="utf-8") as fh:
        fh.write("id,text\n")
        fh.writelines(f'{i},"post {i % 997} about the sale, see you at {i % 13}pm"\n' for i in range(200_000))
    out = tmp_path / "out.csv"
    out.write_bytes(OLD)
    run = subprocess.Popen(smclass("predict", "--model", model_path, big, "--output", out, "--chunk-size", 500, "-q"),
                           stderr=subprocess.PIPE, env=ENV)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and run.poll() is None:
        if any((tmp_path / n).stat().st_size > 0 for n in temp_files(tmp_path) if (tmp_path / n).exists()):
            break
        time.sleep(0.01)
    run.kill()
    run.communicate(timeout=60)
    assert run.returncode == -signal.SIGKILL
    leftovers = temp_files(tmp_path)
    assert len(leftovers) == 1 and f"-{run.pid}-" in leftovers[0]       # the PID is in the name
    assert out.read_bytes() == OLD
    proc = run_cli("predict", "--model", model_path, wordy, "--output", out, "-q")
    assert proc.returncode == 0, proc.stderr
    assert temp_files(tmp_path) == [] and len(read_csv(out)) == 2000


# --------------------------------------------------------------------------- #
# 12.3: several inputs: the union of their columns; inputs told apart
# --------------------------------------------------------------------------- #

def test_several_inputs_union_of_columns_and_paths_that_tell_them_apart(model_path, tmp_path):
    (tmp_path / "shop").mkdir()
    (tmp_path / "club").mkdir()
    write_csv(tmp_path / "shop" / "posts.csv", [{"text": "Spring sale starts today, link in bio"}])
    write_csv(tmp_path / "club" / "posts.csv",
              [{"id": "c1", "text": "thanks all for coming!", "created_at": "2024-05-02", "platform": "mastodon",
                "team": "north"}])
    out = tmp_path / "out.csv"
    proc = run_cli("predict", "--model", model_path, "shop/posts.csv", "club/posts.csv", "--keep-columns", "team",
                   "--output", out, "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = read_csv(out)
    assert list(rows[0]) == ["input", "id", "created_at", "platform", "text", "label", "p_broadcast", "lang", "note", "team"]
    assert [r["input"] for r in rows] == ["shop/posts.csv", "club/posts.csv"]
    assert rows[1]["id"] == "c1" and rows[1]["platform"] == "mastodon" and rows[1]["team"] == "north"
    assert rows[1]["created_at"].startswith("2024-05-02") and rows[0]["id"] == "" and rows[0]["team"] == ""


def test_several_inputs_with_distinct_names_keep_bare_names(model_path, tmp_path, posts):
    write_csv(tmp_path / "more.csv", POSTS[:1])
    out = tmp_path / "out.csv"
    proc = run_cli("predict", "--model", model_path, posts, tmp_path / "more.csv", "--output", out, "-q")
    assert proc.returncode == 0, proc.stderr
    assert [r["input"] for r in read_csv(out)] == ["posts.csv"] * 3 + ["more.csv"]


# --------------------------------------------------------------------------- #
# train checks that it can write before it trains
# --------------------------------------------------------------------------- #

def test_train_into_a_path_under_a_file_fails_at_once(tmp_path, small_train_file):
    (tmp_path / "models").write_text("not a folder")
    proc = run_cli("train", "--data", small_train_file, "--output", "models/m.joblib", cwd=tmp_path)
    assert one_error(proc) == "Error: Cannot write models/m.joblib: 'models' is a file, not a folder."


@needs_unshare
def test_train_into_a_read_only_folder_fails_at_once(tmp_path, small_train_file):
    """Root ignores permission bits, so the folder is a read-only bind mount in a private namespace."""
    folder = tmp_path / "models"
    folder.mkdir()
    script = 'set -e; mount --bind "$0" "$0"; mount -o remount,ro,bind "$0"; set +e; "$@"; echo "rc=$?"'
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script, str(folder),
                           *smclass("train", "--data", small_train_file, "--output", folder / "m.joblib")],
                          capture_output=True, text=True, timeout=120, env=ENV)
    assert proc.stdout == "rc=1\n"
    assert proc.stderr.strip() == (f"Error: Cannot write {folder}/m.joblib: the folder '{folder}' is not writable "
                                   "(the file system is read-only).")
    assert list(folder.iterdir()) == []


# --------------------------------------------------------------------------- #
# Labels with $ are plain text in the report's chart
# --------------------------------------------------------------------------- #

@pytest.mark.parametrize("dated", [True, False], ids=["timeline", "groups"])
def test_report_labels_with_dollars_are_plain_text(model_path, tmp_path, dated):
    rows = [{"id": str(i), "text": text, "account": account, "platform": "$x^2$",
             **({"created_at": f"2024-0{1 + i % 3}-0{1 + i}"} if dated else {})}
            for i, (text, account) in enumerate([("Big $\\foo$ sale, shop now", "$\\bar$"),
                                                 ("@x thanks so much $$", "$\\frac{a$"),
                                                 ("see you at the $5 market", "acme")])]
    path = tmp_path / "$odd$ name.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "r.html"
    proc = run_cli("report", "--model", model_path, path, "--output", out, "--title", "$\\foo$ {mix}",
                   "--png", tmp_path / "c.png", "-q")
    assert proc.returncode == 0, proc.stderr
    assert "$\\foo$ {mix}" in out.read_text(encoding="utf-8")
    assert (tmp_path / "c.png").read_bytes().startswith(b"\x89PNG")
