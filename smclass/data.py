"""Reading labelled posts (through ``datasets``) and checking them before training.

Every problem is reported as one sentence that names the file, the row and the
column, because the person fixing it has the file open, not our code.
"""

from __future__ import annotations

import collections
import hashlib
import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import DataError

LABELS = ("broadcast", "conversational")
MIN_PER_CLASS = 5

_BUILDERS = {".csv": "csv", ".tsv": "csv", ".json": "json", ".jsonl": "json", ".ndjson": "json", ".parquet": "parquet"}


@dataclass
class Posts:
    """Labelled posts in memory, with where each came from (for messages)."""

    texts: list[str]
    labels: np.ndarray
    where: list[str]
    columns: dict[str, list] = field(default_factory=dict)
    files: list[dict] = field(default_factory=list)
    duplicates: int = 0

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, mask) -> "Posts":
        idx = np.flatnonzero(np.asarray(mask))
        return Posts(
            texts=[self.texts[i] for i in idx],
            labels=self.labels[idx],
            where=[self.where[i] for i in idx],
            columns={k: [v[i] for i in idx] for k, v in self.columns.items()},
            files=self.files,
            duplicates=self.duplicates,
        )


def parse_label_map(spec: str | None) -> dict[str, str]:
    """``"spam=broadcast,ham=conversational"`` -> {"spam": "broadcast", "ham": "conversational"}."""
    if not spec:
        return {}
    mapping = {}
    for part in spec.split(","):
        source, sep, target = part.partition("=")
        target = target.strip().lower()
        if not sep or not source.strip() or target not in LABELS:
            raise DataError(
                f"--label-map entry {part.strip()!r} is not of the form VALUE=broadcast or VALUE=conversational."
            )
        mapping[source.strip().lower()] = target
    return mapping


def sha256_of(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _load_table(source: str, text_column: str = "text", via_datasets: bool = True):
    """The columns of one local file (through ``datasets``, or with the standard library when
    ``via_datasets`` is false), or of a Hub dataset name (online users), and where each row is."""
    path = Path(source)
    if not via_datasets and path.is_file() and path.suffix.lower() in _BUILDERS:
        return _load_plain(path, text_column)
    import datasets

    datasets.logging.set_verbosity_error()
    datasets.disable_progress_bars()
    if not path.exists():
        if "/" in source and not source.startswith((".", "/")) and path.suffix == "":
            try:
                table = datasets.load_dataset(source, split="train")
                return _columns(table), [f"{source}, row {i}" for i in range(1, len(table) + 1)]
            except Exception as exc:  # the Hub is optional and often offline
                raise DataError(f"{source}: no such file, and the Hugging Face Hub dataset could not be loaded ({exc}).") from None
        raise DataError(f"{path.name}: no such file ({source}).")
    if path.is_dir():
        raise DataError(f"{source} is a folder; name the data files inside it.")
    builder = _BUILDERS.get(path.suffix.lower())
    if builder is None:
        raise DataError(f"{path.name}: unknown file type {path.suffix or '(none)'}; use .csv, .tsv, .json, .jsonl or .parquet.")
    if path.stat().st_size == 0:
        raise DataError(f"{path.name} is empty.")
    kwargs = {"sep": "\t"} if path.suffix.lower() == ".tsv" else {}
    if builder == "csv":  # a post that says "NA", "null" or "None" is text; only an empty cell is missing
        kwargs.update(keep_default_na=False, na_values=[""])
    places = None
    if builder != "parquet":
        encoding, places = _check_text_file(path, text_column)
        if encoding:
            kwargs["encoding"] = encoding
    if builder == "json":
        _check_json_lines(path, kwargs.get("encoding", "utf-8"))
    with tempfile.TemporaryDirectory(prefix="smclass-datasets-") as cache:
        try:
            table = datasets.load_dataset(builder, data_files=str(path), split="train", cache_dir=cache, **kwargs)
            columns = _columns(table)
            if places is None or len(places) != len(table):
                places = [f"{path.name}, row {i}" for i in range(1, len(table) + 1)]
            return columns, places
        except DataError:
            raise
        except Exception as exc:
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if "corresponds to no data" in detail:
                raise DataError(f"{path.name}: no posts found (only a header?).") from None
            raise DataError(f"{path.name}: could not be read as {builder.upper()} ({detail}).") from None


def _load_plain(path: Path, text_column: str):
    """Columns and row places of a local file without ``datasets`` (seconds faster to start):
    the same checks and row numbers, and values as the file has them (JSON types; CSV strings,
    an empty cell missing)."""
    import csv
    import json

    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        raise DataError(f"{path.name} is empty.")
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            columns = pq.read_table(path).to_pydict()
        except Exception as exc:
            raise DataError(f"{path.name}: could not be read as PARQUET ({type(exc).__name__}).") from None
        n = len(next(iter(columns.values()), []))
        return columns, [f"{path.name}, row {i}" for i in range(1, n + 1)]
    encoding, places = _check_text_file(path, text_column)
    encoding = encoding or "utf-8-sig"
    if _BUILDERS[suffix] == "csv":
        with open(path, encoding=encoding, newline="") as handle:
            csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))
            rows = [row for row in csv.reader(handle, delimiter="\t" if suffix == ".tsv" else ",") if row]
        header = [h.strip() for h in rows[0]] if rows else []
        records = [{h: (v if v != "" else None) for h, v in zip(header, row)} for row in rows[1:]]
    else:
        _check_json_lines(path, encoding)  # names a bad line, as training does
        with open(path, encoding=encoding) as handle:
            text = handle.read()
        try:
            if text.lstrip().startswith("["):
                records = json.loads(text)
            else:
                records = [json.loads(line) for line in text.splitlines() if line.strip()]
        except ValueError as exc:
            raise DataError(f"{path.name}: could not be read as JSON ({exc}).") from None
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise DataError(f"{path.name}: expected JSON objects, one per post.")
        header = list(dict.fromkeys(key for r in records for key in r))
    if not records:
        raise DataError(f"{path.name}: no posts found (only a header?).")
    columns = {name: [r.get(name) for r in records] for name in header}
    if len(places) != len(records):
        places = [f"{path.name}, row {i}" for i in range(1, len(records) + 1)]
    return columns, places


def _columns(table) -> dict[str, list]:
    return {name: table[name] for name in table.column_names}


_EXPORT_FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def _check_text_file(path: Path, text_column: str) -> str | None:
    """Read the file once with the export readers, which name the line or row of a binary
    file, invalid UTF-8, a ragged CSV row, an unclosed quote or truncated JSON, where
    ``datasets`` only says that it failed. Returns the encoding to read it with when a
    byte-order mark names it (None: plain UTF-8), and where each record is ("posts.csv,
    row 2", "posts.jsonl, line 7"), numbered exactly as ``smclass predict`` numbers them."""
    from .exports import _bom_encoding, read_posts

    with open(path, "rb") as handle:
        head = handle.read(64)
    bom = _bom_encoding(head)
    fmt = _EXPORT_FORMATS.get(path.suffix.lower())
    if fmt is None:  # .json: an array is streamed here; JSON lines are checked by _check_json_lines
        start = head.decode(bom or "utf-8", errors="ignore").lstrip("\ufeff \t\r\n")
        fmt = "json" if start.startswith("[") else "jsonl"
    places = []
    try:
        for post in read_posts(path, format=fmt, text_column=text_column):
            if post.note in ("blank row", "blank line"):  # skipped by datasets too: not counted
                continue
            places.append(post.where)
            if post.note and post.note.startswith("malformed row"):
                raise DataError(f"{post.where}: {post.note}.")
    except DataError as exc:  # training has no --encoding option
        raise DataError(re.sub(r"pass (the right )?--encoding", "save it as UTF-8", str(exc))) from None
    return bom, places


def _check_json_lines(path: Path, encoding: str = "utf-8") -> None:
    """Name the first malformed line of a JSON-lines file (``datasets`` does not)."""
    import json

    with open(path, "rb") as handle:
        head = handle.read(64).decode(encoding, errors="ignore").lstrip("\ufeff \t\r\n")
    if head.startswith("["):
        return
    with open(path, encoding=encoding, errors="strict") as handle:
        try:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    try:
                        value = json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise DataError(f"{path.name}, line {number}: not valid JSON ({exc.msg}).") from None
                    if not isinstance(value, dict):
                        raise DataError(f"{path.name}, line {number}: expected a JSON object, found {type(value).__name__}.")
        except UnicodeDecodeError:
            raise DataError(f"{path.name}: not valid UTF-8 text.") from None


def load_posts(
    sources,
    *,
    text_column: str = "text",
    label_column: str = "label",
    label_map: dict[str, str] | str | None = None,
    keep: tuple[str, ...] = ("split", "id", "platform", "author", "topic", "hard", "kind"),
    via_datasets: bool = True,
) -> Posts:
    """Read and validate labelled posts from one or many files (CSV, TSV, JSON, JSONL, Parquet).

    Training reads through ``datasets``; ``via_datasets=False`` reads local files with
    the standard library (and pyarrow for Parquet) instead, which spares a predicting
    or evaluating process the seconds ``datasets`` takes to import.

    Raises :class:`DataError` for anything that would make training wrong:
    a missing column, an empty or non-text post, an unknown label, or the same
    text under both labels.
    """
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    if isinstance(label_map, str):
        label_map = parse_label_map(label_map)
    label_map = label_map or {}
    texts, labels, where = [], [], []
    columns: dict[str, list] = collections.defaultdict(list)
    files = []
    for source in sources:
        name = Path(str(source)).name
        table, places = _load_table(str(source), text_column, via_datasets)
        found = ", ".join(table) or "none"
        for column, option in ((text_column, "--text-column"), (label_column, "--label-column")):
            if column not in table:
                raise DataError(f"{name}: no column {column!r} (found: {found}); use {option}.")
        n = len(table[text_column])
        for i, (text, raw_label) in enumerate(zip(table[text_column], table[label_column]), start=1):
            here = places[i - 1]
            texts.append(_check_text(text, here, text_column))
            labels.append(_check_label(raw_label, here, label_column, label_map))
            where.append(here)
        for column in keep:
            values = table.get(column, [None] * n)
            columns[column].extend(values)
        path = Path(str(source))
        files.append({"path": str(source), "rows": n, "sha256": sha256_of(path) if path.is_file() else None})
    if not texts:
        raise DataError(f"{', '.join(Path(str(s)).name for s in sources)}: no posts found (only a header?).")
    posts = Posts(texts, np.array(labels, dtype=object), where, dict(columns), files)
    posts.duplicates = _check_conflicts(posts)
    return posts


def as_posts(posts, labels=None, *, label_map: dict[str, str] | str | None = None) -> Posts:
    """``posts`` if it already is :class:`Posts`; else plain ``(texts, labels)`` lists, checked
    like a file (row numbers count from 1) so the same mistakes get the same sentences."""
    if isinstance(posts, Posts):
        if labels is not None:
            raise TypeError("labels are given twice: Posts already carry theirs.")
        return posts
    if labels is None:
        raise TypeError("train(texts, labels): pass the labels too, or Posts from smclass.load_posts.")
    if isinstance(posts, str):
        raise TypeError("texts must be a list of posts, not a single string.")
    texts, labels = list(posts), list(labels)
    if len(texts) != len(labels):
        raise DataError(f"{len(texts)} texts but {len(labels)} labels; give one label per text.")
    if isinstance(label_map, str):
        label_map = parse_label_map(label_map)
    where = [f"post {i}" for i in range(1, len(texts) + 1)]
    checked = [_check_text(t, w, "text") for t, w in zip(texts, where)]
    named = np.array([_check_label(lab, w, "label", label_map or {}) for lab, w in zip(labels, where)], dtype=object)
    result = Posts(checked, named, where, {}, [{"path": "(texts, labels) in memory", "rows": len(texts), "sha256": None}])
    result.duplicates = _check_conflicts(result)
    return result


def _check_text(text, here: str, column: str) -> str:
    if text is None or (isinstance(text, float) and math.isnan(text)):
        raise DataError(f"{here}, column {column!r}: text is missing.")
    if not isinstance(text, str):
        raise DataError(f"{here}, column {column!r}: expected text, found {type(text).__name__} {text!r}.")
    if not text.strip():
        raise DataError(f"{here}, column {column!r}: text is empty.")
    return text


def _check_label(raw, here: str, column: str, label_map: dict[str, str]) -> str:
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        raise DataError(f"{here}, column {column!r}: label is missing.")
    key = str(raw).strip().lower()
    if isinstance(raw, bool):
        key = str(raw).lower()
    elif isinstance(raw, float) and raw.is_integer():
        key = str(int(raw))
    label = label_map.get(key, key)
    if label not in LABELS:
        hint = "" if label_map else "; use --label-map to map it"
        raise DataError(
            f"{here}, column {column!r}: unknown label {str(raw)!r} (expected broadcast or conversational{hint})."
        )
    return label


def _check_conflicts(posts: Posts) -> int:
    """Refuse texts that appear under both labels; return the count of exact duplicates."""
    seen: dict[str, int] = {}
    duplicates = 0
    conflicts = []
    for i, text in enumerate(posts.texts):
        key = " ".join(text.split())
        j = seen.get(key)
        if j is None:
            seen[key] = i
        elif posts.labels[j] != posts.labels[i]:
            conflicts.append((j, i))
        else:
            duplicates += 1
    if conflicts:
        j, i = conflicts[0]
        more = f" ({len(conflicts)} such texts in all)" if len(conflicts) > 1 else ""
        raise DataError(
            f"The same text has conflicting labels: {posts.where[j]} says {posts.labels[j]}, "
            f"{posts.where[i]} says {posts.labels[i]}{more}: {posts.texts[i][:60]!r}. Fix one of them."
        )
    return duplicates


def check_trainable(posts: Posts, *, folds: int = 0) -> None:
    """Both classes present, each with enough examples to train (and cross-validate)."""
    counts = collections.Counter(posts.labels.tolist())
    present = [label for label in LABELS if counts[label]]
    if len(present) < 2:
        only = present[0] if present else "none"
        raise DataError(
            f"Only one class ({only}) in the training data; smclass needs both broadcast and conversational posts."
        )
    need = max(MIN_PER_CLASS, folds)
    for label in LABELS:
        if counts[label] < need:
            raise DataError(f"Only {counts[label]} {label} posts in the training data; need at least {need} of each class.")
