"""Bad input, tried systematically at every entry point (issue 6).

Each input below goes to ``load_posts`` (the training API), ``smclass train``,
``smclass evaluate`` and ``smclass predict``. The rule: either a correct result,
or one plain ``Error:`` sentence naming the file, the line or row and the
problem, exit code 1 and no traceback. ``predict`` keeps every record: rows that
cannot be classified come back with a ``note``, so the output always has exactly
as many rows as the input has records (counted by hand for each case below).

The CLI runs in-process through ``cli.main`` (the same code path as
``python -m smclass``, minus interpreter start-up, which would cost seconds per
case); tests/test_interrupts.py runs real processes.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
import struct
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smclass import cli
from smclass.data import load_posts
from smclass.errors import DataError
from smclass.exports import read_posts
from smclass.exports.records import _text_value

FIX = Path(__file__).parent / "fixtures" / "exports"

BROADCAST = [
    "Big sale today: 50% off every jacket until midnight",
    "New episode out now, link in bio",
    "Tickets for the spring show go on sale Friday at 9am",
    "We are hiring two baristas, apply at the counter",
    "Our summer menu lands Monday, book a table online",
    "Free delivery this weekend on all orders over 20",
]
CONVERSATIONAL = [
    "@ana congrats on the new job!!",
    "haha same, see you there?",
    "thanks so much, that made my day",
    "did you get home ok last night",
    "omg I love this, where did you find it",
    "sorry for the late reply, call you later?",
]
BASE = [(str(i), t, "broadcast") for i, t in enumerate(BROADCAST, 1)] + [
    (str(i), t, "conversational") for i, t in enumerate(CONVERSATIONAL, 7)
]
BIG_POST = "lorem ipsum dolor sit amet, consectetur adipiscing elit " * 92_000  # 5.2 MB


# --------------------------------------------------------------------------- #
# Building the inputs
# --------------------------------------------------------------------------- #

def csv_text(rows, header=("id", "text", "label"), newline="\n", quoting=csv.QUOTE_MINIMAL) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline, quoting=quoting)
    if header:
        writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def jsonl_text(records) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def base_records():
    return [{"id": i, "text": t, "label": l} for i, t, l in BASE]


def png_bytes() -> bytes:
    """A real 1x1 PNG."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


def tweets_js(prefix: str) -> bytes:
    body = (FIX / "x/tweets.js").read_text(encoding="utf-8").split("=", 1)[1]
    return (prefix + body).encode("utf-8")


@dataclass
class Ok:
    """Success: ``rows`` posts; for predict, ``notes`` maps output row index -> expected note."""

    rows: int
    notes: dict = field(default_factory=dict)
    texts: dict = field(default_factory=dict)


@dataclass
class Err:
    """Refusal: exit code 1 and an ``Error:`` line starting with ``message``."""

    message: str


@dataclass
class Case:
    name: str
    filename: str
    content: object            # bytes, or a callable returning bytes
    load: object               # load_posts / train / evaluate outcome
    predict: object            # predict outcome
    train: object = None       # when the CLI train outcome differs from load_posts'

    def write(self, folder: Path) -> Path:
        path = folder / self.filename
        data = self.content() if callable(self.content) else self.content
        path.write_bytes(data)
        return path


def _bad_utf8() -> bytes:
    good = csv_text(BASE).encode("utf-8")
    return good + "13,café au lait?,conversational\n".encode("latin-1")


def _late_nul() -> bytes:
    filler = [(str(i), f"filler post number {i}", "broadcast") for i in range(13, 4013)]
    return csv_text(BASE + filler).encode() + b"4013,hello\x00world,broadcast\n"


def _unbalanced_quote() -> bytes:
    return (csv_text(BASE) + '13,"an unclosed quote,broadcast\n14,later post,conversational\n'
            + "15,and another,broadcast\n").encode()


def _ragged() -> bytes:
    lines = csv_text(BASE).splitlines(keepends=True)
    lines[2] = "2,New episode out now,broadcast,extra,fields\n"   # row 2: five fields
    lines.append("13\n")                                            # row 13: one field
    return "".join(lines).encode()


def _truncated_json() -> bytes:
    whole = json.dumps(base_records(), indent=1).encode()
    return whole[: whole.index(b'"Tickets for the spring')]         # inside post 3


def _truncated_jsonl() -> bytes:
    whole = jsonl_text(base_records()).encode()
    return whole[:-25]                                             # the last line loses its end


CASES = [
    Case("empty-csv", "posts.csv", b"", Err("posts.csv is empty."), Err("posts.csv is empty.")),
    Case("empty-jsonl", "posts.jsonl", b"", Err("posts.jsonl is empty."), Err("posts.jsonl is empty.")),
    Case("header-only", "posts.csv", b"id,text,label\n",
         Err("posts.csv: no posts found (only a header?)."), Ok(0)),
    Case("png-named-csv", "posts.csv", png_bytes,
         Err("posts.csv looks like a binary file, not CSV."),
         Err("posts.csv looks like a binary file, not CSV.")),
    Case("csv-named-jsonl", "posts.jsonl", lambda: csv_text(BASE).encode(),
         Err("posts.jsonl, line 1: not valid JSON (Expecting value)."),
         Ok(13, {i: "invalid JSON on this line" for i in range(13)})),
    Case("binary-garbage", "posts.csv", lambda: random.Random(6).randbytes(8192),
         Err("posts.csv looks like a binary file, not CSV."),
         Err("posts.csv looks like a binary file, not CSV.")),
    Case("invalid-utf8", "posts.csv", _bad_utf8,
         Err("posts.csv, line 14: not valid UTF-8; save it as UTF-8."),
         Err("posts.csv, line 14: not valid UTF-8; pass --encoding.")),
    Case("utf16-bom", "posts.csv",
         lambda: csv_text(BASE + [("13", "Grüße aus Köln 😀", "conversational")]).encode("utf-16"),
         Ok(13), Ok(13, texts={12: "Grüße aus Köln 😀"})),
    Case("windows-line-endings", "posts.csv",
         lambda: csv_text(BASE + [("13", "two\r\nlines", "conversational")], newline="\r\n").encode(),
         Ok(13), Ok(13, texts={0: BROADCAST[0], 12: "two\r\nlines"})),
    Case("lone-carriage-return", "posts.jsonl",      # old Mac line breaks: the CSV output must quote "\r"
         lambda: jsonl_text(base_records() + [{"id": 13, "text": "see you\rat 6", "label": "conversational"},
                                              {"id": 14, "text": "bye\r", "label": "conversational"}]).encode(),
         Ok(14), Ok(14, texts={12: "see you\rat 6", 13: "bye\r"})),
    Case("nul-byte", "posts.csv",
         lambda: csv_text(BASE).encode() + b"13,hello\x00world,broadcast\n",
         Err("posts.csv looks like a binary file, not CSV."),
         Err("posts.csv looks like a binary file, not CSV.")),
    Case("nul-byte-past-64k", "posts.csv", _late_nul,
         Err("posts.csv, line 4014: contains NUL bytes; posts.csv looks like a binary file, not CSV."),
         Err("posts.csv, line 4014: contains NUL bytes; posts.csv looks like a binary file, not CSV.")),
    Case("5mb-single-post", "posts.csv",
         lambda: csv_text(BASE + [("13", BIG_POST, "broadcast")]).encode(), Ok(13),
         Ok(13, {12: "text truncated to 20,000 characters for scoring"})),
    Case("emoji-only", "posts.csv",
         lambda: csv_text(BASE + [("13", "😀🎉🔥", "conversational"), ("14", "👉🛍️", "broadcast")]).encode(),
         Ok(14), Ok(14)),
    Case("url-only", "posts.csv",
         lambda: csv_text(BASE + [("13", "https://shop.example.com/spring-sale?ref=ig", "broadcast")]).encode(),
         Ok(13), Ok(13)),
    Case("whitespace-only", "posts.csv",
         lambda: csv_text(BASE + [("13", "  \t  ", "broadcast")]).encode(),
         Err("posts.csv, row 14, column 'text': text is empty."), Ok(13, {12: "text is empty"})),
    Case("null-text", "posts.jsonl",
         lambda: jsonl_text(base_records() + [{"id": 13, "text": None, "label": "broadcast"}]).encode(),
         Err("posts.jsonl, line 13, column 'text': text is missing."), Ok(13, {12: "text is empty"})),
    Case("nan-text", "posts.jsonl",
         lambda: (jsonl_text(base_records()) + '{"id": 13, "text": NaN, "label": "broadcast"}\n').encode(),
         Err("posts.jsonl, line 13, column 'text': text is missing."), Ok(13, {12: "text is empty"})),
    Case("number-text", "posts.jsonl",
         lambda: jsonl_text(base_records() + [{"id": 13, "text": 42, "label": "broadcast"}]).encode(),
         Err("posts.jsonl, line 13, column 'text': expected text, found int 42."),
         Ok(13, {12: "text is not a string"})),
    Case("missing-value-words", "posts.csv",   # posts that say NA/null/None/NaN/42 are text
         lambda: csv_text(BASE + [("13", "NA", "conversational"), ("14", "null", "conversational"),
                                  ("15", "None", "conversational"), ("16", "NaN", "conversational"),
                                  ("17", "42", "broadcast")]).encode(),
         Ok(17), Ok(17, texts={12: "NA", 13: "null", 14: "None", 15: "NaN", 16: "42"})),
    Case("unbalanced-quotes", "posts.csv", _unbalanced_quote,
         Err("posts.csv, line 14: a quoted field opened in this row is never closed"),
         Err("posts.csv, line 14: a quoted field opened in this row is never closed")),
    Case("ragged-rows", "posts.csv", _ragged,
         Err("posts.csv, row 3: malformed row: expected 3 fields, found 5."),
         Ok(13, {1: "malformed row: expected 3 fields, found 5",
                 12: "malformed row: expected 3 fields, found 1"})),
    Case("truncated-json", "posts.json", _truncated_json,
         Err("posts.json: the JSON ends early after 2 posts (is the file truncated?)"),
         Err("posts.json: the JSON ends early after 2 posts (is the file truncated?)")),
    Case("truncated-jsonl", "posts.jsonl", _truncated_jsonl,
         Err("posts.jsonl, line 12: not valid JSON (Unterminated string starting at)."),
         Ok(12, {11: "invalid JSON on this line"})),
    Case("tweets-js-without-prefix", "tweets.js", lambda: tweets_js(""),
         Err("tweets.js: unknown file type .js; use .csv, .tsv, .json, .jsonl or .parquet."), Ok(4, {2: "retweet of another post"})),
    Case("tweets-js-wrong-prefix", "tweets.js", lambda: tweets_js("var tweets ="),
         Err("tweets.js: unknown file type .js"),
         Err("tweets.js does not look like an X archive tweets file: it starts with 'var tweets = [', "
             "not 'window.YTD.tweets.part0 = ['.")),
    Case("tweets-js-other-data", "tweets.js", lambda: tweets_js("window.YTD.like.part0 ="),
         Err("tweets.js: unknown file type .js"),
         Err("tweets.js holds 'window.YTD.like' data, not tweets; pass data/tweets.js from the archive.")),
    Case("duplicate-ids", "posts.csv", lambda: csv_text([("7", t, l) for _, t, l in BASE]).encode(),
         Ok(12), Ok(12)),
    Case("missing-id-column", "posts.csv",
         lambda: csv_text([(t, l) for _, t, l in BASE], header=("text", "label")).encode(), Ok(12), Ok(12)),
    Case("missing-text-column", "posts.csv",
         lambda: csv_text(BASE, header=("id", "words", "label")).encode(),
         Err("posts.csv: no column 'text' (found: id, words, label); use --text-column."),
         Err("posts.csv: no column 'text' (found: id, words, label); use --text-column.")),
]
IDS = [c.name for c in CASES]


# --------------------------------------------------------------------------- #
# Running the entry points
# --------------------------------------------------------------------------- #

def run_main(capsys, *argv) -> tuple[int, str, str]:
    """``smclass ARGV`` in this process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as exc:          # argparse --help / usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_refused(code: int, err: str, message: str) -> None:
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err                     # one plain sentence, nothing else
    assert lines[0].startswith(f"Error: {message}"), lines[0]
    assert code == 1


def read_output(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad-input")
    paths = {}
    for case in CASES:
        sub = folder / case.name
        sub.mkdir()
        paths[case.name] = case.write(sub)
    return paths


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_load_posts(case, inputs):
    path = inputs[case.name]
    if isinstance(case.load, Err):
        with pytest.raises(DataError) as info:
            load_posts(path)
        assert str(info.value).startswith(case.load.message)
    else:
        posts = load_posts(path)
        assert len(posts) == case.load.rows
        for i, text in case.predict.texts.items():
            assert posts.texts[i] == text


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_cli_train(case, inputs, tmp_path, capsys):
    out = tmp_path / "m.joblib"
    code, stdout, err = run_main(capsys, "train", "--data", inputs[case.name], "--holdout", "0", "--cv", "0",
                                 "--output", out, "-q")
    expected = case.train or case.load
    if isinstance(expected, Err):
        assert_refused(code, err, expected.message)
        assert not out.exists() and list(tmp_path.iterdir()) == []
    else:
        assert (code, err) == (0, ""), err
        assert f"Trained on {expected.rows} posts" in stdout
        assert out.exists() and out.with_suffix(".json").exists()


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_cli_evaluate(case, inputs, model_path, capsys):
    code, stdout, err = run_main(capsys, "evaluate", "--model", model_path, inputs[case.name], "--json", "-q")
    expected = case.train or case.load
    if isinstance(expected, Err):
        assert_refused(code, err, expected.message)
    else:
        assert (code, err) == (0, ""), err
        assert json.loads(stdout)["n"] == expected.rows


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_cli_predict(case, inputs, model_path, tmp_path, capsys):
    out = tmp_path / "out.csv"
    code, _, err = run_main(capsys, "predict", "--model", model_path, inputs[case.name], "--output", out, "-q")
    if isinstance(case.predict, Err):
        assert_refused(code, err, case.predict.message)
        assert not out.exists() and list(tmp_path.iterdir()) == []   # no output, no temp file
        return
    assert (code, err) == (0, ""), err
    rows = read_output(out)
    assert len(rows) == case.predict.rows            # one output row per input record
    for i, row in enumerate(rows):
        note = case.predict.notes.get(i)
        lang_note = f"not English ({row['lang']}): the model was trained on English posts"   # some cases are German
        assert row["note"] in ((note or ""), "; ".join(filter(None, (note, lang_note))))
        if note and note not in SCORED_NOTES:        # kept, not classified
            assert row["label"] == "" and row["p_broadcast"] == ""
        else:
            assert row["label"] in ("broadcast", "conversational")
            assert 0.0 <= float(row["p_broadcast"]) <= 1.0
    for i, text in case.predict.texts.items():
        assert rows[i]["text"] == text


def test_predict_keeps_duplicate_ids_and_omits_a_missing_id_column(inputs, model_path, tmp_path, capsys):
    dup, noid = tmp_path / "dup.csv", tmp_path / "noid.csv"
    assert run_main(capsys, "predict", "-m", model_path, inputs["duplicate-ids"], "-o", dup, "-q")[0] == 0
    assert run_main(capsys, "predict", "-m", model_path, inputs["missing-id-column"], "-o", noid, "-q")[0] == 0
    assert [r["id"] for r in read_output(dup)] == ["7"] * 12
    assert list(read_output(noid)[0]) == ["text", "label", "p_broadcast", "lang", "note"]


def test_predict_invalid_utf8_works_with_the_right_encoding(inputs, model_path, tmp_path, capsys):
    out = tmp_path / "out.csv"
    code, _, err = run_main(capsys, "predict", "-m", model_path, inputs["invalid-utf8"], "-o", out,
                            "--encoding", "latin-1", "-q")
    assert (code, err) == (0, ""), err
    rows = read_output(out)
    assert len(rows) == 13 and rows[12]["text"] == "café au lait?"


def test_predict_100k_tiny_posts(model_path, tmp_path, capsys):
    src, out = tmp_path / "tiny.txt", tmp_path / "out.jsonl"
    src.write_text("".join(f"ok {i % 50}\n" if i % 1000 else "\n" for i in range(100_000)), encoding="utf-8")
    code, _, err = run_main(capsys, "predict", "-m", model_path, src, "-o", out)
    assert code == 0 and "100,000 posts read, 99,900 classified, 100 skipped (100 text is empty)" in err
    with open(out, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    assert len(rows) == 100_000
    assert rows[0] == {"text": "", "label": "", "p_broadcast": None, "lang": None, "note": "text is empty"}
    assert rows[1]["text"] == "ok 1" and rows[1]["label"] in ("broadcast", "conversational")


# --------------------------------------------------------------------------- #
# The Python API: Predictor.predict / predict_one / p_broadcast
# --------------------------------------------------------------------------- #

VALUES = [
    ("none", None, "no text"),
    ("nan", float("nan"), "no text (NaN)"),
    ("numpy-nan", np.nan, "no text (NaN)"),
    ("int", 42, "text is not a string (int)"),
    ("float", 4.5, "text is not a string (float)"),
    ("bool", True, "text is not a string (bool)"),
    ("bytes", b"Big sale", "text is not a string (bytes)"),
    ("list", ["a"], "text is not a string (list)"),
    ("empty", "", "text is empty"),
    ("spaces", "   ", "text is empty"),
    ("whitespace-mix", " \t\r\n\u00a0\u3000 ", "text is empty"),
    ("emoji-only", "😀🎉🔥", None),
    ("url-only", "https://shop.example.com/spring-sale?ref=ig", None),
    ("one-char", "k", None),
    ("5mb", BIG_POST, "text truncated to 20,000 characters for scoring"),    # scored, with a note
]
SCORED_NOTES = {"text truncated to 20,000 characters for scoring"}


@pytest.mark.parametrize("name, value, note", VALUES, ids=[v[0] for v in VALUES])
def test_predictor_single_values(predictor, name, value, note):
    one = predictor.predict_one(value)
    assert one.note == note
    if note and note not in SCORED_NOTES:
        assert one.label is None and math.isnan(one.p_broadcast)
    else:
        assert one.label in ("broadcast", "conversational") and 0.0 <= one.p_broadcast <= 1.0
    # the same value in a batch, next to a good post, gives the same answer
    labels = predictor.predict([value, "thanks so much!"])
    p = predictor.p_broadcast([value, "thanks so much!"])
    assert labels[0] == one.label and labels[1] is not None
    assert (math.isnan(p[0]) and math.isnan(one.p_broadcast)) or p[0] == pytest.approx(one.p_broadcast)


def test_predictor_mixed_batch_keeps_length_and_order(predictor):
    values = [v for _, v, _ in VALUES]
    labels, p, notes = predictor.predict_many(values)
    assert len(labels) == len(p) == len(notes) == len(values)
    assert notes == [n for _, _, n in VALUES]
    unlabelled = [n is not None and n not in SCORED_NOTES for _, _, n in VALUES]
    assert [lab is None for lab in labels] == unlabelled
    assert np.isnan(p).tolist() == unlabelled


@pytest.mark.parametrize("bad", ["one post", b"one post"])
def test_predictor_refuses_a_bare_string(predictor, bad):
    for method in (predictor.predict, predictor.p_broadcast, predictor.predict_many):
        with pytest.raises(TypeError, match=r"takes a list of posts, not a single string; for one post use predict_one"):
            method(bad)


def test_predictor_empty_batch(predictor):
    assert predictor.predict([]) == []
    assert predictor.p_broadcast([]).shape == (0,)


# --debug shows the traceback (without it: one line, pinned above; a real process
# runs the same in tests/test_interrupts.py::test_exit_codes)
# --------------------------------------------------------------------------- #

@pytest.mark.parametrize("command", ["train", "evaluate", "predict"])
def test_debug_shows_a_traceback_for_bad_input(command, inputs, model_path, tmp_path, capsys):
    bad = inputs["png-named-csv"]
    argv = {"train": ["train", "--data", bad, "--output", tmp_path / "m.joblib", "--cv", "0"],
            "evaluate": ["evaluate", "--model", model_path, bad],
            "predict": ["predict", "--model", model_path, bad, "--output", tmp_path / "out.csv"]}[command]
    code, _, err = run_main(capsys, *argv, "--debug", "-q")
    assert code == 1
    assert err.startswith("Traceback (most recent call last):")
    assert "smclass.errors.DataError: posts.csv looks like a binary file, not CSV." in err
    assert err.strip().splitlines()[-1] == "Error: posts.csv looks like a binary file, not CSV."


# --------------------------------------------------------------------------- #
# Properties: arbitrary Unicode through the readers tests/test_exports.py does not cover
# --------------------------------------------------------------------------- #

TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\ufeff"),
               max_size=40)
PROP = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _expected(text: str):
    return _text_value(text)[0]          # blank or zero-width only: empty, as every reader says


def _read(name: str, data: bytes, **kw):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        return list(read_posts(path, **kw))


@PROP
@given(st.lists(TEXT, min_size=0, max_size=8))
def test_property_tsv(texts):
    got = _read("p.tsv", _tsv(texts).encode())
    assert [p.text for p in got] == [_expected(t) for t in texts]


def _tsv(texts) -> str:
    out = io.StringIO()
    # QUOTE_ALL: with "\n" line ends, minimal quoting would leave a lone "\r" in a text unquoted
    writer = csv.writer(out, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(["id", "text"])
    writer.writerows([i, t] for i, t in enumerate(texts))
    return out.getvalue()


@PROP
@given(st.lists(TEXT, min_size=0, max_size=8), st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
       st.sampled_from(["\n", "\r\n"]))
def test_property_csv_encodings_and_line_endings(texts, encoding, newline):
    data = csv_text([(i, t) for i, t in enumerate(texts)], ("id", "text"), newline=newline,
                    quoting=csv.QUOTE_ALL if newline == "\n" else csv.QUOTE_MINIMAL)
    got = _read("p.csv", data.encode(encoding))
    assert [p.text for p in got] == [_expected(t) for t in texts]
    assert [p.id for p in got] == [str(i) for i in range(len(texts))]


@PROP
@given(st.lists(TEXT, min_size=0, max_size=8), st.booleans())
def test_property_json_array(texts, wrapped):
    records = [{"id": i, "text": t} for i, t in enumerate(texts)]
    doc = {"meta": {"n": len(texts)}, "posts": records} if wrapped else records
    got = _read("p.json", json.dumps(doc, ensure_ascii=bool(len(texts) % 2)).encode())
    assert [p.text for p in got] == [_expected(t) for t in texts]


@PROP
@given(st.lists(TEXT, min_size=0, max_size=8))
def test_property_tweets_js(texts):
    items = [{"tweet": {"id_str": str(i), "full_text": t}} for i, t in enumerate(texts)]
    got = _read("tweets.js", ("window.YTD.tweets.part0 = " + json.dumps(items, indent=1)).encode())
    unescape = lambda t: t.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")  # noqa: E731
    assert [p.text for p in got] == [unescape(t) if _expected(t) is not None else None for t in texts]
    assert [p.id for p in got] == [str(i) for i in range(len(texts))]


@PROP
@given(st.lists(st.one_of(TEXT, st.none(), st.integers(), st.floats()), min_size=1, max_size=8))
def test_property_predict_files_keeps_every_record(predictor, values):
    """Whatever the text column holds, predict writes exactly one row per record."""
    from smclass.batch import predict_files

    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in.jsonl", Path(tmp) / "out.csv"
        src.write_text("".join(json.dumps({"text": v}) + "\n" for v in values), encoding="utf-8")
        summary = predict_files([str(src)], str(out), predictor=predictor, progress=False)
        rows = read_output(out)
    assert summary.read == len(rows) == len(values)
    for row, value in zip(rows, values):
        # classified (noted only when not in English), or kept with a note saying why not
        if row["label"]:
            assert row["note"] == "" or row["note"] == f"not English ({row['lang']}): the model was trained on English posts"
        else:
            assert row["note"] != ""
        if not (isinstance(value, str) and value.strip()):
            assert row["note"] and row["label"] == ""
