"""Language detection: the `lang` column and 'not English' note of predict, the report's language mix."""

import csv
import json
import re
from pathlib import Path

import pytest

from conftest import run_cli
from smclass.lang import detect, detect_one, not_english_note

FIXTURE = Path(__file__).parent / "fixtures" / "lang_posts.tsv"
ROWS = list(csv.DictReader(FIXTURE.open(encoding="utf-8"), delimiter="\t"))
ENGLISH = [r["text"] for r in ROWS if r["lang"] == "en"]
OTHER = [(r["text"], r["lang"]) for r in ROWS if r["lang"] not in ("", "en")]
NO_LETTERS = [r["text"] for r in ROWS if r["lang"] == ""]

POSTS = [
    ("1", "Big launch today, shop now at acme.com"),
    ("2", "Je suis tellement content de vous revoir ce week-end !"),
    ("3", "Unser neuer Online-Shop ist jetzt geöffnet, schaut vorbei!"),
    ("4", "¿Alguien sabe dónde venden entradas para el partido?"),
    ("5", "lol same"),
    ("6", "omg yesss 😭"),
    ("7", "who else is watching the game tonight?"),
    ("8", "😭😭😭 https://t.co/xyz"),
]
EXPECTED = {"1": "en", "2": "fr", "3": "de", "4": "es", "5": "", "6": "", "7": "en", "8": ""}


def test_fixture_covers_eight_languages_and_english_slang():
    assert len({lang for _, lang in OTHER}) >= 8 and len(ENGLISH) >= 20 and len(ROWS) >= 60


def test_english_slang_is_never_another_language():
    got = detect(ENGLISH)
    assert all(code in ("en", None) for code in got), [(t, c) for t, c in zip(ENGLISH, got) if c not in ("en", None)]
    assert got.count("en") >= 15           # most English posts are recognised, not just left blank


def test_other_languages_are_recognised():
    got = detect([text for text, _ in OTHER])
    assert got == [lang for _, lang in OTHER]


def test_no_guess_without_letters():
    assert detect(NO_LETTERS) == [None] * len(NO_LETTERS)
    assert detect_one(None) is None and detect_one("") is None and detect_one("ok") is None


def test_import_smclass_does_not_load_the_detector():
    proc = run_cli("--version")   # start-up only; the import check runs in a fresh interpreter below
    assert proc.returncode == 0
    import subprocess
    import sys

    code = "import sys, smclass, smclass.cli, smclass.batch; print('py3langid' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parent.parent)
    assert out.stdout.strip() == "False", out.stderr


@pytest.fixture()
def posts_csv(tmp_path):
    path = tmp_path / "posts.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "created_at"])
        for i, (ident, text) in enumerate(POSTS):
            writer.writerow([ident, text, f"2024-0{1 + i % 3}-1{i}"])
    return path


def _read(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_predict_writes_lang_and_notes_non_english(tmp_path, posts_csv, model_path):
    out = tmp_path / "out.csv"
    proc = run_cli("predict", posts_csv, "--model", model_path, "-o", out, "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = _read(out)
    assert list(rows[0]) == ["id", "created_at", "text", "label", "p_broadcast", "lang", "note"]
    assert {r["id"]: r["lang"] for r in rows} == EXPECTED
    for row in rows:
        assert row["label"] in ("broadcast", "conversational") and row["p_broadcast"]   # label kept
        lang = EXPECTED[row["id"]]
        assert row["note"] == (not_english_note(lang) if lang not in ("", "en") else "")
    assert rows[1]["note"] == "not English (fr): the model was trained on English posts"


def test_not_english_note_joins_other_notes(tmp_path, model_path):
    src = tmp_path / "posts.jsonl"
    from smclass.predict import MAX_POST_CHARS, TRUNCATED_NOTE

    sentence = "Merci à tous pour vos messages, ça me touche beaucoup. "
    long_french = sentence * (MAX_POST_CHARS // len(sentence) + 2)   # truncated for scoring: a note of its own
    src.write_text(json.dumps({"text": long_french}) + "\n", encoding="utf-8")
    proc = run_cli("predict", src, "--model", model_path, "--format", "jsonl", "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    row = json.loads(proc.stdout)
    assert row["note"] == f"{TRUNCATED_NOTE}; {not_english_note('fr')}"
    assert row["lang"] == "fr" and row["label"]


def test_no_lang_skips_detection(tmp_path, posts_csv, model_path):
    proc = run_cli("predict", posts_csv, "--model", model_path, "--no-lang", "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(proc.stdout.splitlines()))
    assert list(rows[0]) == ["id", "created_at", "text", "label", "p_broadcast", "note"]
    assert all(r["note"] == "" for r in rows)
    helped = run_cli("predict", "--help")
    assert "--no-lang" in helped.stdout


def test_report_shows_the_language_mix(tmp_path, posts_csv, model_path):
    page = tmp_path / "report.html"
    proc = run_cli("report", posts_csv, "--model", model_path, "-o", page, "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    html = page.read_text(encoding="utf-8")
    section = html[html.index('<section id="languages">'):]
    section = section[:section.index("</section>")]
    cells = re.findall(r"<tr><td>(\w+)</td><td class=\"num\">(\d+)</td><td class=\"num\">([\d.]+%)</td></tr>", section)
    assert [(lang, int(n)) for lang, n, _ in cells] == [("unknown", 3), ("en", 2), ("de", 1), ("es", 1), ("fr", 1)]
    assert "3 classified posts not in English" in section


def test_report_summary_and_predictions_file(tmp_path, posts_csv, model_path):
    from smclass.report import build_report

    summary = build_report([posts_csv], tmp_path / "r.html", model=model_path, progress=False)
    assert summary["languages"][0] == {"lang": "unknown", "posts": 3, "share": 3 / 8}
    assert {row["lang"]: row["posts"] for row in summary["languages"]} == {"unknown": 3, "en": 2, "de": 1,
                                                                         "es": 1, "fr": 1}
    # a predictions file's own lang column is used as it is
    predictions = tmp_path / "pred.csv"
    assert run_cli("predict", posts_csv, "--model", model_path, "-o", predictions, "-q").returncode == 0
    again = build_report([predictions], tmp_path / "r2.html", model=model_path, progress=False)
    assert again["languages"] == summary["languages"]
    no_lang = build_report([posts_csv], tmp_path / "r3.html", model=model_path, progress=False, lang=False)
    assert no_lang["languages"] == [] and 'id="languages"' not in (tmp_path / "r3.html").read_text(encoding="utf-8")


def test_dask_engine_writes_the_same_lang_column(tmp_path, posts_csv, model_path):
    out = tmp_path / "dataset"
    proc = run_cli("predict", posts_csv, "--model", model_path, "--engine", "dask", "--workers", "1",
                   "--format", "csv", "-o", out, "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = [row for part in sorted(out.glob("*.csv")) for row in _read(part)]
    assert {r["id"]: r["lang"] for r in rows} == EXPECTED
    assert {r["id"]: r["note"] for r in rows if r["note"]} == {"2": not_english_note("fr"), "3": not_english_note("de"),
                                                               "4": not_english_note("es")}
    assert list(rows[0])[-2:] == ["lang", "note"]


def test_workers_detect_languages_too(tmp_path, posts_csv, model_path):
    one = run_cli("predict", posts_csv, "--model", model_path, "-q", cwd=tmp_path)
    two = run_cli("predict", posts_csv, "--model", model_path, "-q", "--jobs", "2", "--chunk-size", "3", cwd=tmp_path)
    assert one.returncode == two.returncode == 0, two.stderr
    assert two.stdout == one.stdout
    assert {r["id"]: r["lang"] for r in csv.DictReader(two.stdout.splitlines())} == EXPECTED


def test_long_posts_are_read_from_their_start():
    from smclass.lang import MAX_CHARS

    french = "Merci à tous pour vos messages, ça me touche beaucoup. "
    assert detect_one(french * 2 + "x" * 100_000) == "fr"
    assert detect_one(french * (MAX_CHARS // len(french) + 1) + "Thanks so much everyone for all the lovely messages! " * 50) == "fr"
