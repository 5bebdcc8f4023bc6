"""The command line as a user runs it: exit codes, messages, files written."""

import csv
import io
import json
import re
import sys
from pathlib import Path

import pytest

from conftest import ROOT, run_cli

COMMANDS = ("train", "evaluate", "predict", "report", "info")
# `smclass train` with no arguments (the README command) is run by test_model_data.py


def test_help_lists_every_command():
    result = run_cli("--help")
    assert result.returncode == 0
    for command in COMMANDS:
        assert command in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_and_is_in_the_readme(command):
    result = run_cli(command, "--help")
    assert result.returncode == 0 and "usage: smclass " + command in result.stdout
    assert f"smclass {command}" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "smclass"
    assert script.exists()


def test_train_writes_model_and_card_and_prints_metrics(tmp_path, small_train_file, small_test_file):
    out = tmp_path / "models" / "m.joblib"
    result = run_cli("train", "--data", small_train_file, "--test", small_test_file, "--output", out, "--cv", "3")
    assert result.returncode == 0, result.stderr
    assert "3-fold cross-validation on the training posts" in result.stdout
    assert re.search(r"Held-out test: the --test files \(80 posts\)\n  accuracy \d\.\d{3}   macro-F1 \d\.\d{3}", result.stdout)
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["test"]["n"] == 80 and card["cv"]["folds"] == 3
    assert "[" in result.stderr and "training on 300 posts" in result.stderr


def test_train_quiet_prints_no_progress(tmp_path, small_train_file):
    result = run_cli("train", "--data", small_train_file, "--output", tmp_path / "m.joblib", "--quiet", "--cv", "0")
    assert result.returncode == 0 and result.stderr == ""
    assert "stratified hold-out" in result.stdout


def test_train_json_prints_the_card(tmp_path, small_train_file):
    result = run_cli("train", "--data", small_train_file, "--output", tmp_path / "m.joblib", "--json", "-q", "--cv", "0")
    card = json.loads(result.stdout)
    assert card["format"] == "smclass-model" and card["test_source"] == "a 20% stratified hold-out"


def test_train_reports_a_wrong_column_in_one_line(tmp_path):
    data = tmp_path / "posts.csv"
    data.write_text("id,body,label\n1,hello,broadcast\n", encoding="utf-8")
    result = run_cli("train", "--data", data, "--output", tmp_path / "m.joblib")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == "Error: posts.csv: no column 'text' (found: id, body, label); use --text-column."
    assert "Traceback" not in result.stderr


def test_train_label_map_and_columns(tmp_path, corpus_records):
    data = tmp_path / "sms.csv"
    with open(data, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["message", "class"])
        for r in corpus_records[:200]:
            writer.writerow([r["text"], "spam" if r["label"] == "broadcast" else "ham"])
    result = run_cli("train", "--data", data, "--text-column", "message", "--label-column", "class", "--cv", "0",
                     "--label-map", "spam=broadcast,ham=conversational", "--output", tmp_path / "m.joblib", "-q")
    assert result.returncode == 0, result.stderr


def test_evaluate_json_and_errors(model_path, small_test_file):
    result = run_cli("evaluate", "--model", model_path, small_test_file, "--json", "--errors", "2")
    assert result.returncode == 0, result.stderr
    scores = json.loads(result.stdout)
    for key in ("accuracy", "macro_f1", "mcc", "roc_auc", "brier", "per_class", "confusion_matrix"):
        assert key in scores
    assert scores["n"] == 80 and len(scores["errors"]) <= 2
    assert {"where", "label", "predicted", "p_broadcast", "text"} <= set(scores["errors"][0])


def test_evaluate_table(model_path, small_test_file):
    result = run_cli("evaluate", "-m", model_path, small_test_file, "--errors", "3")
    assert result.returncode == 0
    assert "confusion (rows true, columns predicted)" in result.stdout
    assert "most confident mistakes" in result.stdout


def test_evaluate_the_shipped_test_split(model_path, corpus_records):
    result = run_cli("evaluate", "-m", model_path, ROOT / "data" / "posts.jsonl", "--split", "test", "--json")
    assert json.loads(result.stdout)["n"] == sum(r["split"] == "test" for r in corpus_records)


def test_evaluate_missing_model(tmp_path, small_test_file):
    result = run_cli("evaluate", "--model", tmp_path / "nope.joblib", small_test_file)
    assert result.returncode == 1
    assert "no such model file; train one with `smclass train`" in result.stderr


def test_predict_csv_to_csv_keeps_every_row(tmp_path, model_path):
    source = tmp_path / "in.csv"
    source.write_text('post_id,body,campaign\n1,"Flash sale! 40% off, shop now",spring\n2,"@kim thanks, see you soon",\n3,"",x\n',
                      encoding="utf-8")
    out = tmp_path / "out.csv"
    result = run_cli("predict", source, "--text-column", "body", "--id-column", "post_id", "--keep-columns", "campaign",
                     "--output", out, "--model", model_path)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(open(out, encoding="utf-8")))
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    assert rows[0]["label"] == "broadcast" and rows[1]["label"] == "conversational"
    assert rows[2]["label"] == "" and rows[2]["note"] == "text is empty"
    assert rows[0]["campaign"] == "spring"
    assert "3 posts read, 2 classified, 1 skipped (1 text is empty), 50.0% broadcast" in result.stderr


def test_predict_stdin_to_stdout(model_path):
    result = run_cli("predict", "-", "--model", model_path, stdin="Huge sale this weekend, 30% off everything\n@jo haha same\n")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["label"] for r in rows] == ["broadcast", "conversational"]


@pytest.mark.parametrize("suffix", ["jsonl", "parquet"])
def test_predict_other_output_formats(tmp_path, model_path, suffix):
    out = tmp_path / f"out.{suffix}"
    result = run_cli("predict", ROOT / "tests/fixtures/exports/x/tweets.js", "-o", out, "-m", model_path, "-q")
    assert result.returncode == 0, result.stderr and result.stderr == ""
    if suffix == "jsonl":
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    else:
        import pyarrow.parquet as pq

        rows = pq.read_table(out).to_pylist()
    assert len(rows) > 0 and {"id", "created_at", "platform", "is_reply", "text", "label", "p_broadcast"} <= set(rows[0])


def test_predict_several_exports_at_once(tmp_path, model_path):
    fixtures = ROOT / "tests" / "fixtures" / "exports"
    out = tmp_path / "all.csv"
    inputs = [fixtures / "x" / "tweets.js", fixtures / "mastodon" / "outbox.json", fixtures / "linkedin" / "Shares.csv"]
    result = run_cli("predict", *inputs, "-o", out, "-m", model_path)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(open(out, encoding="utf-8")))
    assert {r["input"] for r in rows} == {"tweets.js", "outbox.json", "Shares.csv"}
    assert any(r["note"] == "boost of another post" and r["label"] == "" for r in rows)


def test_unknown_option_is_a_usage_error():
    result = run_cli("predict", "--frobnicate")
    assert result.returncode == 1 and "Error:" in result.stderr and "Traceback" not in result.stderr


def test_no_command_prints_help_and_fails():
    result = run_cli()
    assert result.returncode == 1 and "usage: smclass" in result.stderr


def test_predict_with_two_workers_matches_one(tmp_path, model_path, corpus_records):
    source = tmp_path / "many.csv"
    with open(source, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        for i in range(3000):
            writer.writerow([i, corpus_records[i % len(corpus_records)]["text"] if i % 97 else ""])
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    assert run_cli("predict", source, "-o", one, "-m", model_path, "--chunk-size", "250", "-q").returncode == 0
    result = run_cli("predict", source, "-o", two, "-m", model_path, "--chunk-size", "250", "--jobs", "2", "-q")
    assert result.returncode == 0, result.stderr
    assert one.read_bytes() == two.read_bytes()
    assert sum(1 for _ in csv.DictReader(open(two, encoding="utf-8"))) == 3000
