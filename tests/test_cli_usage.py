"""Usage details of the command line (issue 12, item 13): option checks, global flags, wording."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT, run_cli

SAMPLE = ROOT / "data" / "sample_posts.csv"


@pytest.mark.parametrize("command", [
    ["train", "--cv", "0"],
    ["evaluate", str(ROOT / "data" / "posts.jsonl")],
    ["predict", str(SAMPLE)],
    ["report", str(SAMPLE), "--output", "r.html"],
])
@pytest.mark.parametrize("value", ["1.5", "-0.1"])
def test_a_threshold_outside_0_to_1_is_a_usage_error(tmp_path, command, value):
    result = run_cli(*command, "--threshold", value, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().splitlines()[-1] == f"Error: --threshold must be between 0 and 1, not {float(value):g}."
    assert "Traceback" not in result.stderr and not (tmp_path / "models").exists()


def test_top_level_quiet_is_not_undone_by_the_subcommand(tmp_path, model_path):
    out = tmp_path / "out.csv"
    loud = run_cli("predict", SAMPLE, "-o", out, "-m", model_path)
    assert "posts read" in loud.stderr
    for argv in (["-q", "predict"], ["predict", "-q"]):
        result = run_cli(*argv, SAMPLE, "-o", out, "-m", model_path)
        assert result.returncode == 0 and result.stderr == ""


def test_top_level_debug_shows_the_traceback(tmp_path):
    plain = run_cli("predict", SAMPLE, "-m", tmp_path / "missing.joblib")
    assert plain.returncode == 1 and "Traceback" not in plain.stderr
    for argv in (["--debug", "predict"], ["predict", "--debug"]):
        result = run_cli(*argv, SAMPLE, "-m", tmp_path / "missing.joblib")
        assert result.returncode == 1 and "Traceback" in result.stderr
        assert "no such model file" in result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("command", ["predict", "report"])
def test_input_format_help_lists_its_choices(command):
    result = run_cli(command, "--help")
    flat = " ".join(result.stdout.split())
    from smclass.exports import FORMATS

    assert ", ".join(FORMATS) in flat
    bad = run_cli(command, SAMPLE, "--input-format", "excel", "--output", "r.html")
    assert bad.returncode == 1 and "invalid choice: 'excel'" in bad.stderr


def test_counts_are_pluralised(tmp_path, model_path):
    one = tmp_path / "one.csv"
    one.write_text("text\n\"Big launch today, shop now\"\n", encoding="utf-8")
    result = run_cli("predict", one, "-o", tmp_path / "o.csv", "-m", model_path)
    assert result.stderr.startswith("1 post read, 1 classified, 0 skipped"), result.stderr
    photos = [{"timestamp": 1709820000 + i, "attachments": [{"data": [{"media": {"uri": f"p{i}.jpg"}}]}],
               "title": "Example User added a photo."} for i in range(3)]
    photos.append({"timestamp": 1709900000, "data": [{"post": "Thanks everyone for coming!"}]})
    export = tmp_path / "your_posts_1.json"
    export.write_text(json.dumps(photos), encoding="utf-8")
    result = run_cli("predict", export, "-o", tmp_path / "o.csv", "-m", model_path)
    assert "4 posts read, 1 classified, 3 skipped (3 photo-only posts)" in result.stderr
    report = run_cli("report", one, "-o", tmp_path / "r.html", "-m", model_path)
    assert report.stderr.startswith("1 post read, 1 classified"), report.stderr


def test_evaluate_refuses_a_predictions_file(tmp_path, model_path):
    predictions = tmp_path / "predictions.csv"
    assert run_cli("predict", SAMPLE, "-o", predictions, "-m", model_path).returncode == 0
    result = run_cli("evaluate", predictions, "-m", model_path)
    assert result.returncode == 1 and result.stdout == ""
    assert "predictions.csv is a predictions file written by `smclass predict`" in result.stderr
    assert "scoring against them measures nothing" in result.stderr


def test_unknown_output_extension_names_the_real_option(tmp_path, model_path):
    result = run_cli("predict", SAMPLE, "-o", tmp_path / "x.json", "-m", model_path)
    assert result.returncode == 1
    assert "or pass --format." in result.stderr and "--output-format" not in result.stderr
