"""``smclass info``: versions, where the model comes from and what its card says (like ``spacy info``)."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from pathlib import Path

from . import __version__


def versions() -> dict:
    """Versions of smclass, its main dependencies and Python, without importing scikit-learn."""
    def version(name):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    return {
        "smclass": __version__,
        "scikit-learn": version("scikit-learn"),
        "numpy": version("numpy"),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }


def model_source(path=None) -> tuple[Path, str]:
    """The model file that would be loaded, and why that one (the lookup order of ``Predictor.load``)."""
    from .predict import DEFAULT_MODEL, PACKAGED_MODEL, default_model_path

    if path is not None:
        return Path(path), "--model"
    chosen = default_model_path()
    if os.environ.get("SMCLASS_MODEL"):
        return chosen, "$SMCLASS_MODEL"
    if chosen == DEFAULT_MODEL:
        return chosen, "models/ in the working folder"
    if chosen == PACKAGED_MODEL:
        return chosen, "the default model shipped inside the package"
    return chosen, "models/ beside the package (a source checkout)"


def info(model=None) -> dict:
    """Versions, the model's path and source, and a summary of its card (or why it cannot be loaded)."""
    from .errors import SmclassError
    from .predict import Predictor

    path, source = model_source(model)
    out = {"versions": versions(), "model": {"path": str(path.resolve() if path.exists() else path), "source": source}}
    try:
        predictor = Predictor.load(path)
    except SmclassError as exc:
        out["model"]["error"] = str(exc)
        return out
    card = predictor.card
    training = card.get("training_data") or {}
    test = card.get("test") or {}
    cv = card.get("cv") or {}
    out["model"].update({
        "created_at": card.get("created_at"),
        "made_with": card.get("versions"),
        "training_rows": training.get("rows"),
        "training_files": [{"path": f.get("path"), "rows": f.get("rows")} for f in training.get("files") or []],
        "label_counts": training.get("label_counts"),
        "params": card.get("params"),
        "seed": card.get("seed"),
        "decision_threshold": predictor.threshold,
        "test_source": card.get("test_source"),
        "test": {k: test.get(k) for k in ("n", "accuracy", "macro_f1", "mcc", "roc_auc", "brier")} if test else None,
        "cv": {k: cv.get(k) for k in ("folds", "n", "accuracy", "macro_f1")} if cv else None,
    })
    return out


def format_info(data: dict) -> str:
    """The human-readable form of :func:`info`."""
    v, m = data["versions"], data["model"]
    lines = ["smclass info", ""]
    for name in ("smclass", "scikit-learn", "numpy", "python", "platform"):
        lines.append(f"  {name:<20}{v.get(name) or 'not installed'}")
    lines += ["", f"  {'model':<20}{m['path']}", f"  {'found via':<20}{m['source']}"]
    if "error" in m:
        lines.append(f"  {'status':<20}cannot be loaded: {m['error']}")
        return "\n".join(lines)
    made = m.get("made_with") or {}
    lines.append(f"  {'created':<20}{m.get('created_at') or 'unknown'} (smclass {made.get('smclass', '?')}, "
                 f"scikit-learn {made.get('scikit-learn', '?')})")
    files = ", ".join(f"{Path(str(f['path'])).name} ({f['rows']:,} rows)" for f in m.get("training_files") or [])
    rows = m.get("training_rows")
    lines.append(f"  {'training rows':<20}{rows:,}" + (f" from {files}" if files else "") if rows is not None
                 else f"  {'training rows':<20}unknown")
    params = {k: v for k, v in (m.get("params") or {}).items()   # the ones smclass sets (--json lists all)
              if k.startswith("features__") or k in ("classifier__C", "classifier__class_weight", "classifier__nb",
                                                           "classifier__plain_share")}
    if params:
        lines.append(f"  {'params':<20}" + ", ".join(f"{k.split('__')[-1]}={params[k]}" for k in sorted(params)))
    lines.append(f"  {'threshold':<20}{m['decision_threshold']}")
    test = m.get("test")
    if test:
        auc = "n/a" if test.get("roc_auc") is None else f"{test['roc_auc']:.3f}"
        lines.append(f"  {'test metrics':<20}accuracy {test['accuracy']:.3f}, macro-F1 {test['macro_f1']:.3f}, "
                     f"MCC {test['mcc']:.3f}, ROC-AUC {auc}, Brier {test['brier']:.3f} "
                     f"on {test['n']:,} posts ({m.get('test_source') or 'held out'})")
    else:
        lines.append(f"  {'test metrics':<20}none (trained without held-out posts)")
    cv = m.get("cv")
    if cv:
        lines.append(f"  {'cross-validation':<20}{cv['folds']}-fold on {cv['n']:,} training posts: "
                     f"accuracy {cv['accuracy']:.3f}, macro-F1 {cv['macro_f1']:.3f}")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(format_info(info(sys.argv[1] if len(sys.argv) > 1 else None)))
