"""The default model shipped inside the package, and the one command that rebuilds it.

``pip install smclass`` has no corpus and no ``models/`` folder, so the package carries the
default model's pickle-free weights and card in ``smclass/model_data/`` (about 1 MB);
``Predictor.load()`` falls back to them after ``$SMCLASS_MODEL`` and ``models/smclass.joblib``.
They are what ``smclass train`` (the README's command: shipped corpus, seed 0, 5-fold CV)
writes; the pickle is not shipped. After the corpus or the features change, rebuild them with::

    python -m smclass.shipped

and commit ``smclass/model_data/``. A test retrains and fails when they drift.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

MODEL_DATA = Path(__file__).resolve().parent / "model_data"
SHIPPED_WEIGHTS = MODEL_DATA / "smclass.npz"
SHIPPED_CARD = MODEL_DATA / "smclass.json"
REBUILD_COMMAND = "python -m smclass.shipped"
TRAIN_ARGS = ("train",)  # exactly the README's `smclass train`: defaults, seed 0


def rebuild(quiet: bool = False) -> int:
    """Train as the README does and copy the weights and card into the package."""
    from .cli import main

    root = Path(__file__).resolve().parent.parent
    here = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="smclass-ship-") as tmp:
        target = Path(tmp) / "smclass.joblib"
        os.chdir(root)  # the card names data/posts.jsonl relative to the checkout, wherever this runs
        try:
            code = main([*TRAIN_ARGS, "--output", str(target), *(["-q"] if quiet else [])])
        finally:
            os.chdir(here)
        if code:
            return code
        MODEL_DATA.mkdir(exist_ok=True)
        for suffix, shipped in ((".npz", SHIPPED_WEIGHTS), (".json", SHIPPED_CARD)):
            shutil.copyfile(target.with_suffix(suffix), shipped)
    print(f"wrote {SHIPPED_WEIGHTS.relative_to(root)} and {SHIPPED_CARD.relative_to(root)}; commit them.",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(rebuild(quiet="-q" in sys.argv[1:]))
