"""smclass: tell broadcast social posts from conversational ones.

Usage::

    from smclass import Predictor
    Predictor.load().predict(["Flash sale! 40% off today only", "@ana congrats on the new job!!"])
    # ['broadcast', 'conversational']
"""

__version__ = "0.1.0"

__all__ = [
    "Predictor",
    "Prediction",
    "train",
    "evaluate",
    "load_posts",
    "predict_files",
    "normalise",
    "SmclassError",
    "DataError",
    "ModelError",
    "__version__",
]


def __getattr__(name):
    """Import on first use, so ``import smclass`` stays quick for the CLI."""
    if name in ("Predictor", "Prediction"):
        from . import predict

        return getattr(predict, name)
    if name == "train":
        from .model import train

        return train
    if name == "evaluate":
        from .model import evaluate

        return evaluate
    if name == "load_posts":
        from .data import load_posts

        return load_posts
    if name == "predict_files":
        from .batch import predict_files

        return predict_files
    if name == "normalise":
        from .text import normalise

        return normalise
    if name in ("SmclassError", "DataError", "ModelError"):
        from . import errors

        return getattr(errors, name)
    raise AttributeError(f"module 'smclass' has no attribute {name!r}")
