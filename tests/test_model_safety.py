"""Model files are pickles: loading one runs code. smclass must refuse to unpickle
anything its model card does not vouch for (issue 6).

Every refusal is checked for the Python API (``Predictor.load``) and the CLI
(``predict`` and ``evaluate``), including a hostile pickle that would create a
marker file when unpickled: the marker must not appear.
"""

from __future__ import annotations

import json
import pathlib
import shutil
import sys
import warnings

import joblib
import numpy as np
import pytest

from smclass import Predictor, cli
from smclass.data import sha256_of
from smclass.errors import ModelError
from smclass.model import ModelVersionWarning, versions


class Hostile:
    """Unpickling this calls Path.touch(marker): stands in for any code an attacker wants run."""

    def __init__(self, marker: pathlib.Path):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def run_main(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def write_card(model: pathlib.Path, card: dict) -> None:
    model.with_suffix(".json").write_text(json.dumps(card), encoding="utf-8")


@pytest.fixture
def real_card(model_path) -> dict:
    return json.loads(model_path.with_suffix(".json").read_text(encoding="utf-8"))


@pytest.fixture
def posts_file(small_test_file):
    return small_test_file


@pytest.fixture
def marker(tmp_path) -> pathlib.Path:
    return tmp_path / "MARKER"


@pytest.fixture
def hostile(tmp_path, marker) -> pathlib.Path:
    path = tmp_path / "evil.joblib"
    joblib.dump(Hostile(marker), path)
    assert not marker.exists()
    return path


NO_CARD = "evil.joblib: no model card (evil.json) beside it, so its origin cannot be checked; refusing to load it."
WRONG_SHA = ("evil.joblib: its sha256 does not match the one in evil.json, so the file was changed after "
             "smclass wrote it; refusing to load it.")
NOT_JSON = "evil.json: the model card is not valid JSON; refusing to load evil.joblib."
NOT_CARD = "evil.json is not an smclass model card; refusing to load evil.joblib."


def _no_card(path, card):
    pass


def _copied_card(path, card):           # a real card, copied beside the hostile file
    write_card(path, card)


def _card_not_json(path, card):
    path.with_suffix(".json").write_text("{'format': 'smclass-model'", encoding="utf-8")


def _card_is_a_list(path, card):
    path.with_suffix(".json").write_text("[1, 2, 3]", encoding="utf-8")


def _card_not_utf8(path, card):
    path.with_suffix(".json").write_bytes(b'{"format": "smclass-model", "x": "\xff"}')


def _foreign_card(path, card):         # valid JSON with the right sha, but not an smclass card
    write_card(path, {"format": "other-tool", "sha256": sha256_of(path)})


REFUSALS = [
    ("no-card", _no_card, NO_CARD),
    ("real-card-wrong-sha", _copied_card, WRONG_SHA),
    ("card-not-json", _card_not_json, NOT_JSON),
    ("card-is-a-list", _card_is_a_list, NOT_JSON),
    ("card-not-utf8", _card_not_utf8, NOT_JSON),
    ("foreign-card", _foreign_card, NOT_CARD),
]


@pytest.mark.parametrize("name, make_card, message", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_hostile_pickle_is_never_unpickled_api(hostile, marker, real_card, name, make_card, message):
    make_card(hostile, real_card)
    with pytest.raises(ModelError) as info:
        Predictor.load(hostile)
    assert message in str(info.value)
    assert not marker.exists()


@pytest.mark.parametrize("command", ["predict", "evaluate"])
@pytest.mark.parametrize("name, make_card, message", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_hostile_pickle_is_never_unpickled_cli(hostile, marker, real_card, posts_file, tmp_path, capsys,
                                                command, name, make_card, message):
    make_card(hostile, real_card)
    extra = ["--output", tmp_path / "out.csv"] if command == "predict" else []
    code, out, err = run_main(capsys, command, "--model", hostile, posts_file, "-q", *extra)
    assert code == 1 and out == ""
    assert "Traceback" not in err
    assert err.startswith("Error: ") and message in err
    assert len(err.strip().splitlines()) == 1
    assert not marker.exists()
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("make_card", [_no_card, _copied_card], ids=["no-card", "real-card-wrong-sha"])
def test_trusted_hostile_pickle_is_still_not_an_smclass_model(hostile, marker, real_card, make_card):
    """--trust skips the card check, so the pickle runs (the marker may exist: that is what
    trust means), but the foreign object is still rejected."""
    make_card(hostile, real_card)
    with pytest.raises(ModelError, match=r"evil\.joblib is not an smclass model\.$"):
        Predictor.load(hostile, trusted=True)


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_trust_flag_on_the_cli(hostile, posts_file, tmp_path, capsys, command):
    extra = ["--output", tmp_path / "out.csv"] if command == "predict" else []
    code, _, err = run_main(capsys, command, "--model", hostile, posts_file, "--trust", "-q", *extra)
    assert code == 1
    assert err.strip().splitlines() == [f"Error: {hostile} is not an smclass model."]


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_trust_help_says_why_it_is_dangerous(capsys, command):
    code, out, _ = run_main(capsys, command, "--help")
    assert code == 0
    help_text = " ".join(out.split())
    assert "--trust" in help_text
    assert "Model files are pickles: loading one runs any code inside it" in help_text
    assert "only for a file you trust as much as a program" in help_text


def test_trusted_real_model_without_card_loads(model_path, tmp_path):
    bare = tmp_path / "bare.joblib"
    shutil.copyfile(model_path, bare)
    with pytest.raises(ModelError, match="no model card"):
        Predictor.load(bare)
    assert Predictor.load(bare, trusted=True).predict(["thanks!"])[0] is not None


# --------------------------------------------------------------------------- #
# Corrupt files and files that are not models, with cards that match them
# --------------------------------------------------------------------------- #

def _with_matching_card(path: pathlib.Path, card: dict) -> pathlib.Path:
    write_card(path, {**card, "model_file": path.name, "sha256": sha256_of(path)})
    return path


def _truncated(tmp_path, model_path):
    path = tmp_path / "broken.joblib"
    path.write_bytes(model_path.read_bytes()[:5000])
    return path


def _text_file(tmp_path, model_path):
    path = tmp_path / "broken.joblib"
    path.write_text("this is not a pickle\n", encoding="utf-8")
    return path


def _empty_file(tmp_path, model_path):
    path = tmp_path / "broken.joblib"
    path.write_bytes(b"")
    return path


def _other_object(tmp_path, model_path):
    path = tmp_path / "broken.joblib"
    joblib.dump({"format": "smclass-model", "pipeline": "not a pipeline"}, path)
    return path


BROKEN = [
    ("truncated", _truncated, r"broken\.joblib: not a readable model file \("),
    ("text-file", _text_file, r"broken\.joblib: not a readable model file \("),
    ("empty-file", _empty_file, r"broken\.joblib: not a readable model file \("),
    ("not-a-model", _other_object, r"broken\.joblib is not an smclass model\.$"),
]


@pytest.mark.parametrize("name, make, pattern", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_model_with_matching_card(tmp_path, model_path, real_card, posts_file, capsys, name, make, pattern):
    path = _with_matching_card(make(tmp_path, model_path), real_card)
    with pytest.raises(ModelError, match=pattern):
        Predictor.load(path)
    for command in ("predict", "evaluate"):
        code, _, err = run_main(capsys, command, "--model", path, posts_file, "-q")
        assert code == 1 and "Traceback" not in err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: ")


def test_missing_model_file(tmp_path, posts_file, capsys):
    missing = tmp_path / "nope.joblib"
    with pytest.raises(ModelError, match=r"nope\.joblib: no such model file; train one with `smclass train`\.$"):
        Predictor.load(missing)
    code, _, err = run_main(capsys, "predict", "--model", missing, posts_file)
    assert code == 1 and err.startswith("Error: ") and "no such model file" in err


# --------------------------------------------------------------------------- #
# Models made by other versions
# --------------------------------------------------------------------------- #

def _other_version(tmp_path, model_path, real_card, **changed) -> pathlib.Path:
    """A copy of the model whose payload and card claim other versions (sha rewritten)."""
    payload = joblib.load(model_path)
    payload["versions"] = {**payload["versions"], **changed}
    path = tmp_path / "other.joblib"
    joblib.dump(payload, path, compress=3)
    card = {**real_card, "versions": {**real_card["versions"], **changed}}
    return _with_matching_card(path, card)


def _bump(version: str, part: int, by: int = 1) -> str:
    numbers = [int(x) for x in version.split(".")[:3] if x.isdigit()] + [0, 0, 0]
    numbers[part] += by
    return ".".join(str(n) for n in numbers[:3])


def _show_on_stderr(message, category, filename, lineno, file=None, line=None):
    """What warnings.showwarning does outside pytest."""
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


@pytest.mark.parametrize("name, part", [("smclass", 1), ("scikit-learn", 1)], ids=["smclass", "scikit-learn-minor"])
def test_other_version_warns_naming_both(tmp_path, model_path, real_card, posts_file, capsys, name, part):
    now = versions()[name]
    theirs = _bump(now, part)
    path = _other_version(tmp_path, model_path, real_card, **{name: theirs})
    expected = (f"other.joblib was made with {name} {theirs}, but this is {name} {now}; "
                "predictions may differ slightly. Retrain to be sure.")
    with pytest.warns(ModelVersionWarning) as record:
        predictor = Predictor.load(path)
    assert [str(w.message) for w in record] == [expected]
    assert predictor.predict(["thanks!"])[0] is not None
    for command in ("predict", "evaluate"):
        extra = ["--output", tmp_path / f"{command}.csv"] if command == "predict" else []
        with warnings.catch_warnings():   # print as outside pytest, which records warnings instead
            warnings.showwarning = _show_on_stderr
            code, _, err = run_main(capsys, command, "--model", path, posts_file, "-q", *extra)
        assert code == 0
        assert err.strip().splitlines() == [f"Warning: {expected}"]


def test_other_scikit_learn_major_version_is_refused(tmp_path, model_path, real_card, posts_file, capsys):
    now = versions()["scikit-learn"]
    theirs = _bump(now, 0)
    path = _other_version(tmp_path, model_path, real_card, **{"scikit-learn": theirs})
    expected = (f"was made with scikit-learn {theirs}, this is scikit-learn {now}; models do not carry "
                "across major versions. Retrain it with `smclass train`.")
    with pytest.raises(ModelError) as info:
        Predictor.load(path)
    assert str(info.value).endswith(expected)
    for command in ("predict", "evaluate"):
        code, _, err = run_main(capsys, command, "--model", path, posts_file, "-q")
        assert code == 1 and err.strip().endswith(expected) and "Traceback" not in err


# --------------------------------------------------------------------------- #
# The pickle-free weights file (.npz) that Predictor.load reads
# --------------------------------------------------------------------------- #

@pytest.fixture
def model_copy(model_path, tmp_path) -> pathlib.Path:
    for suffix in (".joblib", ".npz", ".json"):
        shutil.copyfile(model_path.with_suffix(suffix), tmp_path / f"m{suffix}")
    return tmp_path / "m.joblib"


def test_tampered_weights_are_refused(model_copy):
    weights = model_copy.with_suffix(".npz")
    weights.write_bytes(weights.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(ModelError, match=r"m.npz: its sha256 does not match the one in m.json"):
        Predictor.load(model_copy)


def test_without_the_weights_file_the_verified_pickle_is_used(model_copy, model_path):
    model_copy.with_suffix(".npz").unlink()
    texts = ["Huge sale today", "@sam thanks, see you soon"]
    assert np.allclose(Predictor.load(model_copy).p_broadcast(texts), Predictor.load(model_path).p_broadcast(texts))


def test_weights_holding_a_pickle_are_not_unpickled(model_copy, real_card, tmp_path):
    """Even with a card that vouches for it, an .npz holding object arrays is read with allow_pickle=False."""
    marker = tmp_path / "MARKER"
    weights = model_copy.with_suffix(".npz")
    with open(weights, "wb") as handle:
        np.savez(handle, idf=np.array([Hostile(marker)], dtype=object), coef=np.zeros(4), settings=np.array("{}"))
    write_card(model_copy, {**real_card, "weights_sha256": sha256_of(weights)})
    with pytest.raises(ModelError, match=r"m.npz: the weights file's settings have no 'n_features'"):
        Predictor.load(model_copy)
    settings = json.dumps({"n_features": 4, "char_ngrams": [2, 5], "word_ngrams": [1, 2], "intercept": 0.0,
                           "labels": ["broadcast", "conversational"]})
    with open(weights, "wb") as handle:
        np.savez(handle, idf=np.array([Hostile(marker)] * 4, dtype=object), coef=np.zeros(4),
                 settings=np.array(settings))
    write_card(model_copy, {**real_card, "weights_sha256": sha256_of(weights)})
    with pytest.raises(ModelError, match=r"m.npz: idf holds object values of shape \(4,\), not 4 floats"):
        Predictor.load(model_copy)
    assert not marker.exists()


# --------------------------------------------------------------------------- #
# Values, not only shapes: files that pass the hash but are not sane (issue 13)
# --------------------------------------------------------------------------- #

GOOD_SETTINGS = {"n_features": 16, "char_ngrams": [2, 5], "word_ngrams": [1, 2], "intercept": 0.25,
                 "labels": ["broadcast", "conversational"]}


def _npy_bytes(array: np.ndarray, claimed_shape=None) -> bytes:
    """One .npy member; ``claimed_shape`` makes its header lie about the size (data stays tiny)."""
    buffer = __import__("io").BytesIO()
    if claimed_shape is None:
        np.lib.format.write_array(buffer, array, allow_pickle=False)
    else:
        header = {"descr": np.lib.format.dtype_to_descr(array.dtype), "fortran_order": False,
                  "shape": claimed_shape}
        np.lib.format.write_array_header_1_0(buffer, header)
        buffer.write(array.tobytes())
    return buffer.getvalue()


def write_weights(model: pathlib.Path, real_card: dict, *, settings=None, idf=None, coef=None,
                  claimed_shape=None, card_changes=None) -> pathlib.Path:
    """A weights file plus a card that vouches for it (right sha256): only the values are wrong."""
    import zipfile

    settings = {**GOOD_SETTINGS, **(settings or {})}
    n = 16
    idf = np.ones(n, dtype=np.float32) if idf is None else idf
    coef = np.linspace(-1, 1, n) if coef is None else coef
    weights = model.with_suffix(".npz")
    with zipfile.ZipFile(weights, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("idf.npy", _npy_bytes(idf, claimed_shape))
        bundle.writestr("coef.npy", _npy_bytes(coef, claimed_shape))
        bundle.writestr("settings.npy", _npy_bytes(np.array(json.dumps(settings))))
    card = {**real_card, "weights_sha256": sha256_of(weights), **(card_changes or {})}
    model.with_suffix(".json").write_text(json.dumps(card), encoding="utf-8")
    return weights


def test_a_hand_built_sane_weights_file_loads(model_copy, real_card):
    write_weights(model_copy, real_card)
    p = Predictor.load(model_copy)
    assert p.weights.n_features == 16 and p.predict(["thanks for coming!"])[0] in ("broadcast", "conversational")


INSANE = [
    ("nan-coef", dict(coef=np.r_[np.nan, np.zeros(15)]), r"coefficients include NaN or infinite values"),
    ("inf-coef", dict(coef=np.r_[np.inf, np.zeros(15)]), r"coefficients include NaN or infinite values"),
    ("nan-idf", dict(idf=np.r_[np.float32("nan"), np.ones(15, np.float32)]), r"idf include NaN or infinite"),
    ("inf-idf", dict(idf=np.r_[np.float32("inf"), np.ones(15, np.float32)]), r"idf include NaN or infinite"),
    ("negative-idf", dict(idf=-np.ones(16, np.float32)), r"idf include negative values"),
    ("nan-intercept", dict(settings={"intercept": float("nan")}), r"intercept is nan, not a finite number"),
    ("inf-intercept", dict(settings={"intercept": float("inf")}), r"intercept is inf, not a finite number"),
    ("text-intercept", dict(settings={"intercept": "0.5"}), r"intercept is '0.5', not a number"),
    ("not-power-of-two", dict(settings={"n_features": 1000}), r"n_features is 1000, not a power of two"),
    ("bool-n-features", dict(settings={"n_features": True}), r"n_features is True, not a power of two"),
    ("text-n-features", dict(settings={"n_features": "16"}), r"n_features is '16', not a power of two"),
    ("above-the-cap", dict(settings={"n_features": 2**30}, claimed_shape=(2**30,)),
     r"n_features is 1,073,741,824, above the maximum of 16,777,216 \(2\^24\)"),
    ("header-lies", dict(settings={"n_features": 2**20}, claimed_shape=(2**31,)),
     r"idf holds float32 values of shape \(2147483648,\), not 1,048,576 floats"),
    ("shape-mismatch", dict(settings={"n_features": 32}), r"idf holds float32 values of shape \(16,\), not 32"),
    ("char-ngrams-reversed", dict(settings={"char_ngrams": [5, 2]}), r"char_ngrams is \[5, 2\]; expected null"),
    ("char-ngrams-zero", dict(settings={"char_ngrams": [0, 3]}), r"char_ngrams is \[0, 3\]"),
    ("char-ngrams-huge", dict(settings={"char_ngrams": [2, 500]}), r"char_ngrams is \[2, 500\]"),
    ("char-ngrams-text", dict(settings={"char_ngrams": "2-5"}), r"char_ngrams is '2-5'"),
    ("word-ngrams-three", dict(settings={"word_ngrams": [1, 3]}), r"word_ngrams is \[1, 3\]; expected \[1, 1\]"),
    ("word-ngrams-zero", dict(settings={"word_ngrams": [0, 1]}), r"word_ngrams is \[0, 1\]"),
    ("labels", dict(settings={"labels": ["spam", "ham"]}), r"the labels are \['spam', 'ham'\]"),
    ("threshold-text", dict(card_changes={"decision_threshold": "high"}),
     r"m.json: the decision threshold is 'high', not a number between 0 and 1; refusing to load m.npz"),
    ("threshold-above-one", dict(card_changes={"decision_threshold": 1.5}), r"decision threshold is 1.5"),
    ("threshold-nan", dict(card_changes={"decision_threshold": float("nan")}), r"decision threshold is nan"),
    ("threshold-bool", dict(card_changes={"decision_threshold": True}), r"decision threshold is True"),
    ("version-number", dict(card_changes={"versions": {"scikit-learn": 5}}),
     r"m.json: the scikit-learn version is 5, not a version string; refusing to load m.npz"),
    ("version-empty", dict(card_changes={"versions": {"smclass": ""}}), r"the smclass version is '', not"),
    ("version-garbage", dict(card_changes={"versions": {"numpy": "$(rm -rf /)"}}), r"the numpy version is"),
    ("versions-not-a-table", dict(card_changes={"versions": "1.0"}), r"'versions' is '1.0', not a table"),
]


@pytest.mark.parametrize("name, changes, message", INSANE, ids=[c[0] for c in INSANE])
def test_insane_values_are_refused_api(model_copy, real_card, name, changes, message):
    write_weights(model_copy, real_card, **changes)
    with pytest.raises(ModelError, match=message):
        Predictor.load(model_copy)


@pytest.mark.parametrize("name, changes, message",
                         [c for c in INSANE if c[0] in ("nan-coef", "above-the-cap", "word-ngrams-three",
                                                        "threshold-text", "version-number")],
                         ids=lambda v: v if isinstance(v, str) and " " not in v else "")
def test_insane_values_are_refused_cli(model_copy, real_card, posts_file, tmp_path, capsys, name, changes, message):
    import re

    write_weights(model_copy, real_card, **changes)
    out = tmp_path / "out.csv"
    code, stdout, err = run_main(capsys, "predict", "--model", model_copy, posts_file, "--output", out, "-q")
    assert code == 1 and stdout == "" and not out.exists()
    assert len(err.strip().splitlines()) == 1 and err.startswith("Error: ") and re.search(message, err)
