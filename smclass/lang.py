"""Which language each post is written in (the model was trained on English posts only).

Uses py3langid (a numpy fork of langid.py; its model ships inside the wheel, nothing
is fetched at run time). It is imported on the first call, so ``import smclass`` and
the start of ``smclass predict`` stay fast.

Short posts are treated carefully: a post with fewer than ``MIN_LETTERS`` letters once
links, @handles and #hashtags are removed gets ``None`` (no guess), and a language other
than English is only reported when the detector's normalised confidence is at least
``MIN_CONFIDENCE`` (short English slang such as "lol same" otherwise comes out as
Tagalog or Kabyle). Codes that are not two-letter ISO 639-1 codes become ``None``.
"""

from __future__ import annotations

import re

MIN_LETTERS = 3
MIN_CONFIDENCE = 0.5
MAX_CHARS = 300        # characters of a post the detector reads: enough to tell, and its cost is per byte
NOISE = re.compile(r"https?://\S+|www\.\S+|[@#]\w+")

_identifier = None


def _get_identifier():
    """py3langid's identifier, its model read in memory.

    py3langid's own loader unpacks the model into a temporary file, which fails where
    writing is limited (a full disk, a file size limit, a read-only /tmp); reading it
    in memory writes nothing.
    """
    global _identifier
    if _identifier is None:
        import io
        import lzma

        import numpy as np
        from py3langid.langid import MODEL_FILE, MODEL_DIR, LanguageIdentifier
        from py3langid.modelio import _to_array

        with lzma.open(MODEL_DIR / MODEL_FILE) as src, np.load(io.BytesIO(src.read()), allow_pickle=False) as data:
            _identifier = LanguageIdentifier(
                np.asarray(data["ptc"]), np.asarray(data["pc"]), data["classes"].tolist(),
                _to_array(data["nextmove"]), data["out_feat"].tolist(),
                norm_probs=True, tk_row=_to_array(data["nextmove_row"]))
    return _identifier


def detect_one(text) -> str | None:
    """The ISO 639-1 code of ``text``'s language, or None when there is too little to tell."""
    if not isinstance(text, str):
        return None
    cleaned = NOISE.sub(" ", text[:MAX_CHARS])
    if sum(ch.isalpha() for ch in cleaned) < MIN_LETTERS:
        return None
    code, confidence = _get_identifier().classify(cleaned)
    if len(code) != 2 or not code.isalpha():
        return None
    if code != "en" and confidence < MIN_CONFIDENCE:
        return None
    return code


def detect(texts) -> list[str | None]:
    """One ISO 639-1 code (or None: too short, no letters, not sure) per text."""
    return [detect_one(text) for text in texts]


def not_english_note(code: str) -> str:
    return f"not English ({code}): the model was trained on English posts"
