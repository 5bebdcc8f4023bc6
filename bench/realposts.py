"""Every distinct real post of the external evaluation folder, for speed on text never seen before.

Tweets (corporate accounts, a random tweet per account, US Congress, speech-act
tweets), chat-room lines, SMS, YouTube comments and customer-care replies: read
from ``../shared/eval`` by path (never copied), labels ignored, each distinct
text once. This is what "first sight" means in BENCHMARKS.md: text the model
has never seen, each post once.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from .evalsets import _decode_legacy


def _csv_column(path: Path, column, *, encoding="utf-8", header=True, legacy=False) -> list[str]:
    data = path.read_bytes()
    text = _decode_legacy(data) if legacy else data.decode(encoding)
    if header:
        return [row.get(column) or "" for row in csv.DictReader(io.StringIO(text, newline=""))]
    return [row[column] for row in csv.reader(io.StringIO(text, newline="")) if len(row) > column]


def _twcs(folder: Path) -> list[str]:
    data = (folder / "twcs_customer_support_head5000" / "twcs.csv").read_bytes().replace(b"\r", b" ").decode("utf-8")
    return [r["text"] for r in csv.DictReader(io.StringIO(data, newline=""))]


def _ibm(folder: Path) -> list[str]:
    ibm = []
    for name in ("dev.json", "test.json"):
        path = folder / "ibm_twitter_customer_care" / name
        if path.is_file():
            for dialog in json.loads(path.read_text(encoding="utf-8")):
                content = dialog.get("dialogContent")
                content = content if isinstance(content, list) else []
                ibm += [turn.get("message") or "" for turn in content if isinstance(turn, dict)]
    return ibm


def _nps(folder: Path) -> list[str]:
    chat = []
    for path in sorted((folder / "nps_chat").glob("*.xml")):
        chat += [post.text or "" for post in ET.parse(path).getroot().iter("Post")]
    return chat


_SOURCES = {
    "corporate_messaging": lambda f: _csv_column(f / "corporate_messaging" / "Corporate-messaging-DFE.csv", "text",
                                                 legacy=True),
    "sms_spam_collection": lambda f: [line.partition("\t")[2] for line in
                                      (f / "sms_spam_collection" / "SMSSpamCollection").read_text("utf-8").splitlines()],
    "youtube_spam_collection": lambda f: [t for p in sorted((f / "youtube_spam_collection").glob("Youtube0*.csv"))
                                          for t in _csv_column(p, "CONTENT")],
    "twcs_customer_support_head5000": _twcs,
    "ibm_twitter_customer_care": _ibm,
    "political_social_media": lambda f: _csv_column(f / "political_social_media" / "political.csv", "text",
                                                    encoding="latin-1"),
    "tweet_act_classification": lambda f: _csv_column(f / "tweet_act_classification" / "TWEET_DATA.csv", 0,
                                                      header=False),
    "twitter_user_gender_brand": lambda f: _csv_column(
        f / "twitter_user_gender_brand" / "gender-classifier-DFE-791531.csv", "text", encoding="latin-1"),
    "nps_chat": _nps,
}


def real_posts(eval_dir) -> tuple[list[str], dict[str, int]]:
    """(every distinct non-blank post, new posts per source that gave any); unreadable sources are skipped."""
    folder = Path(eval_dir)
    seen: dict[str, None] = {}
    counts: dict[str, int] = {}
    for name, read in _SOURCES.items():
        try:
            texts = read(folder)
        except (OSError, KeyError, ValueError, UnicodeDecodeError, ET.ParseError):
            continue
        before = len(seen)
        for text in texts:
            if text and text.strip() and text not in seen:
                seen[text] = None
        if len(seen) > before:
            counts[name] = len(seen) - before
    return list(seen), counts
