"""The external evaluation sets (../shared/eval): read, map to our labels, deduplicate.

These sets only MEASURE: nothing here is ever used to train or tune a contender,
and nothing is copied into the repository. Each reader follows the quirks that
the folder's PROVENANCE.md documents (encodings, columns, stray characters).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

BROADCAST, CONVERSATIONAL = "broadcast", "conversational"


@dataclass
class EvalSet:
    name: str
    texts: list[str]
    labels: np.ndarray
    kind: str = "labelled"            # "labelled" (both classes) or "one-class" (all conversational)
    notes: list[str] = field(default_factory=list)
    raw_rows: int = 0

    def __len__(self) -> int:
        return len(self.texts)


def _dedup(name, pairs, raw_rows, notes, kind="labelled") -> EvalSet:
    """Keep the first row of every distinct text (whitespace-normalised); drop empty texts."""
    seen: dict[str, str] = {}
    texts, labels = [], []
    conflicts = 0
    for text, label in pairs:
        if text is None:
            continue
        key = " ".join(text.split())
        if not key:
            continue
        if key in seen:
            conflicts += seen[key] != label
            continue
        seen[key] = label
        texts.append(text)
        labels.append(label)
    dropped = raw_rows - len(texts)
    notes = list(notes) + [f"{raw_rows:,} rows read, {dropped:,} dropped (duplicate, empty or unmapped), {len(texts):,} kept"]
    if conflicts:
        notes.append(f"{conflicts} duplicate texts carried the other label; the first occurrence was kept")
    return EvalSet(name, texts, np.array(labels, dtype=object), kind, notes, raw_rows)


def _decode_legacy(data: bytes) -> str:
    """cp1252 where every byte is defined, else latin-1 (PROVENANCE: 'read as latin-1/cp1252')."""
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def corporate_messaging(folder: Path) -> EvalSet:
    path = folder / "Corporate-messaging-DFE.csv"
    rows = list(csv.DictReader(io.StringIO(_decode_legacy(path.read_bytes()), newline="")))
    mapping = {"information": BROADCAST, "action": BROADCAST, "dialogue": CONVERSATIONAL}
    pairs = [(r["text"], mapping[r["category"].strip().lower()]) for r in rows
             if r["category"].strip().lower() in mapping]
    excluded = sum(r["category"].strip().lower() == "exclude" for r in rows)
    return _dedup("corporate_messaging", pairs, len(rows),
                  [f"Information + Action -> broadcast, Dialogue -> conversational; {excluded} Exclude rows dropped",
                   "read as cp1252; mojibake and HTML entities left as they are (every contender sees the same text)"])


def sms_spam_collection(folder: Path) -> EvalSet:
    lines = (folder / "SMSSpamCollection").read_text(encoding="utf-8").splitlines()
    mapping = {"spam": BROADCAST, "ham": CONVERSATIONAL}
    pairs = []
    for line in lines:
        label, sep, text = line.partition("\t")
        if sep and label in mapping:
            pairs.append((text, mapping[label]))
    return _dedup("sms_spam_collection", pairs, len([l for l in lines if l.strip()]),
                  ["spam -> broadcast, ham -> conversational"])


def youtube_spam_collection(folder: Path) -> EvalSet:
    pairs, raw = [], 0
    files = sorted(folder.glob("Youtube0*.csv"))
    for path in files:
        with open(path, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                raw += 1
                label = {"1": BROADCAST, "0": CONVERSATIONAL}.get(row["CLASS"].strip())
                if label:
                    pairs.append((row["CONTENT"].replace("\ufeff", "").strip(), label))
    return _dedup("youtube_spam_collection", pairs, raw,
                  [f"CLASS 1 -> broadcast, 0 -> conversational, {len(files)} CSVs; trailing U+FEFF stripped; "
                   "only CONTENT is used (DATE leaks the label in the Eminem file)"])


def twcs_brand_replies(folder: Path) -> EvalSet:
    data = (folder / "twcs.csv").read_bytes().replace(b"\r", b" ").decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(data, newline="")))
    replies = [r["text"] for r in rows
               if r["inbound"].strip() == "False" and r["in_response_to_tweet_id"].strip()]
    return _dedup("twcs_customer_support_head5000", [(t, CONVERSATIONAL) for t in replies], len(replies),
                  [f"brand replies only (inbound False, in_response_to_tweet_id present): {len(replies):,} of "
                   f"{len(rows):,} rows; all conversational, so the figure is the share predicted conversational",
                   "bare CR characters replaced by spaces before parsing (PROVENANCE quirk)"], kind="one-class")


READERS = {
    "corporate_messaging": corporate_messaging,
    "sms_spam_collection": sms_spam_collection,
    "youtube_spam_collection": youtube_spam_collection,
    "twcs_customer_support_head5000": twcs_brand_replies,
}
LABELLED = ("corporate_messaging", "sms_spam_collection", "youtube_spam_collection")


def load_eval_sets(eval_dir: Path) -> tuple[list[EvalSet], list[str]]:
    """(the sets found, notes about the ones skipped)."""
    eval_dir = Path(eval_dir)
    if not eval_dir.is_dir():
        return [], [f"external evaluation folder {eval_dir} not found: external sets skipped"]
    sets, notes = [], []
    for name, reader in READERS.items():
        folder = eval_dir / name
        if not folder.is_dir():
            notes.append(f"{name}: folder not found in {eval_dir}, skipped")
            continue
        if not (folder / "PROVENANCE.md").is_file():
            notes.append(f"{name}: no PROVENANCE.md beside the data (read it before trusting the mapping)")
        try:
            found = reader(folder)
        except (OSError, KeyError, ValueError, UnicodeDecodeError) as exc:
            notes.append(f"{name}: could not be read ({type(exc).__name__}: {exc}), skipped")
            continue
        if not len(found):
            notes.append(f"{name}: no usable rows, skipped")
            continue
        sets.append(found)
    return sets, notes
