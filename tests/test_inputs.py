"""Inputs as people have them, run as a user runs smclass: scheduler CSVs, stdin tables, dates,
retweets, odd encodings and line endings, hostile JSON."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from conftest import run_cli
from smclass.errors import DataError
from smclass.exports import read_posts

FIX = Path(__file__).parent / "fixtures" / "exports"


def predict(*args, model, stdin=None, out=None):
    """Run `python -m smclass predict` and return (process, output rows)."""
    extra = ["-o", out] if out else []
    done = run_cli("predict", *args, "--model", model, *extra, stdin=stdin)
    text = open(out, encoding="utf-8", newline="").read() if out and Path(out).exists() else done.stdout
    rows = list(csv.DictReader(io.StringIO(text, newline=""))) if done.returncode == 0 else None
    return done, rows


# --------------------------------------------------------------------------- #
# 12.1 CSV/TSV on stdin and in .txt files
# --------------------------------------------------------------------------- #

def test_csv_on_stdin_is_read_as_a_table(model_path):
    done, rows = predict("-", "--text-column", "message", model=model_path,
                         stdin='message,account\n"Big launch today, shop now",acme\n')
    assert done.returncode == 0, done.stderr
    assert [r["text"] for r in rows] == ["Big launch today, shop now"]
    assert rows[0]["label"] in ("broadcast", "conversational")


def test_tsv_on_stdin_finds_its_text_column(model_path):
    done, rows = predict("-", model=model_path, stdin="Post text\tProfile\nthanks so much @ana!\tacme\nnew drop, link in bio\tacme\n")
    assert done.returncode == 0, done.stderr
    assert [r["text"] for r in rows] == ["thanks so much @ana!", "new drop, link in bio"]
    assert "reading the post text from column 'Post text'" in done.stderr


def test_plain_text_with_commas_stays_one_post_per_line(model_path):
    done, rows = predict("-", model=model_path, stdin="Hello, world\nThanks, see you soon\nok\n")
    assert done.returncode == 0, done.stderr
    assert [r["text"] for r in rows] == ["Hello, world", "Thanks, see you soon", "ok"]


def test_txt_file_that_is_really_csv(tmp_path, model_path):
    path = tmp_path / "export.txt"
    path.write_text("Date;Message;Network\n05/02/2024 11:00;Spring sale: 30% off today;facebook\n"
                    "05/03/2024 09:30;thank you Maria, see you Saturday!;instagram\n", encoding="utf-8")
    done, rows = predict(path, model=model_path, out=tmp_path / "o.csv")
    assert done.returncode == 0, done.stderr
    assert [r["text"] for r in rows] == ["Spring sale: 30% off today", "thank you Maria, see you Saturday!"]
    assert [r["created_at"] for r in rows] == ["2024-05-02T11:00:00+00:00", "2024-05-03T09:30:00+00:00"]
    assert [r["platform"] for r in rows] == ["facebook", "instagram"]


# --------------------------------------------------------------------------- #
# 12.5 Scheduler and analytics CSVs
# --------------------------------------------------------------------------- #

HOOTSUITE = ("Date (GMT),Message,Link,Social Network,Social Profile\n"
             "05/02/2024 11:00,\"Our summer menu is here 🍓 book now: link in bio\",https://x.example/1,Instagram,cafe_luna\n"
             "05/02/2024 15:20,\"@sam thanks for coming by yesterday!\",,Twitter,cafe_luna_tw\n")


def test_scheduler_csv_text_and_date_columns_are_found(tmp_path, model_path):
    path = tmp_path / "hootsuite.csv"
    path.write_text(HOOTSUITE, encoding="utf-8")
    done, rows = predict(path, model=model_path, out=tmp_path / "o.csv")
    assert done.returncode == 0, done.stderr
    assert "hootsuite.csv: reading the post text from column 'Message' (use --text-column to choose another)." \
        in done.stderr
    # the CSV writer's formula guard prefixes a cell that starts with @ (OWASP), so a spreadsheet shows it as text
    assert [r["text"] for r in rows][1] == "'@sam thanks for coming by yesterday!"
    assert [r["created_at"] for r in rows] == ["2024-05-02T11:00:00+00:00", "2024-05-02T15:20:00+00:00"]


def test_quiet_silences_the_guessed_column_notice(tmp_path, model_path):
    """-q promises only results and errors: the notice is for people watching, not for scripts."""
    path = tmp_path / "hootsuite.csv"
    path.write_text(HOOTSUITE, encoding="utf-8")
    done, rows = predict(path, "-q", model=model_path, out=tmp_path / "o.csv")
    assert done.returncode == 0 and done.stderr == ""
    assert [r["text"] for r in rows][0] == "Our summer menu is here 🍓 book now: link in bio"   # the guess still holds
    report = run_cli("report", path, "--model", model_path, "-o", tmp_path / "r.html", "-q")
    assert report.returncode == 0 and report.stderr == ""
    loud = run_cli("report", path, "--model", model_path, "-o", tmp_path / "r.html")
    assert "hootsuite.csv: reading the post text from column 'Message'" in loud.stderr


def test_the_guessed_column_notice_appears_once_per_input(tmp_path, model_path):
    """Several inputs are opened twice (columns first, then posts); the notice must not repeat."""
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text(HOOTSUITE, encoding="utf-8")
    second.write_text(HOOTSUITE, encoding="utf-8")
    done = run_cli("predict", first, second, "--model", model_path, "-o", tmp_path / "o.csv")
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("a.csv: reading the post text from column 'Message'") == 1
    assert done.stderr.count("b.csv: reading the post text from column 'Message'") == 1


def test_dayfirst_reads_day_then_month(tmp_path, model_path):
    path = tmp_path / "hootsuite.csv"
    path.write_text(HOOTSUITE, encoding="utf-8")
    done, rows = predict(path, "--dayfirst", model=model_path, out=tmp_path / "o.csv")
    assert done.returncode == 0, done.stderr
    assert rows[0]["created_at"] == "2024-02-05T11:00:00+00:00"


def test_column_options_are_case_insensitive_and_account_is_kept(tmp_path, model_path):
    path = tmp_path / "hootsuite.csv"
    path.write_text(HOOTSUITE, encoding="utf-8")
    done, rows = predict(path, "--text-column", "MESSAGE", "--date-column", "date (gmt)",
                         "--account-column", "social profile", "--keep-columns", "account",
                         model=model_path, out=tmp_path / "o.csv")
    assert done.returncode == 0, done.stderr
    assert "reading the post text" not in done.stderr
    assert [r["account"] for r in rows] == ["cafe_luna", "cafe_luna_tw"]


def test_ambiguous_text_columns_are_refused_with_the_candidates(tmp_path, model_path):
    path = tmp_path / "later.csv"
    path.write_text("Caption,Message,Posted at\nhello,hi there,2024-05-01\n", encoding="utf-8")
    done, _ = predict(path, model=model_path)
    assert done.returncode == 1
    assert done.stderr.strip() == ("Error: later.csv: several columns could hold the post text "
                                   "(Caption, Message); choose one with --text-column.")


def test_a_missing_date_column_is_named(tmp_path, model_path):
    path = tmp_path / "p.csv"
    path.write_text("text\nhello\n", encoding="utf-8")
    done, _ = predict(path, "--date-column", "when", model=model_path)
    assert done.returncode == 1
    assert done.stderr.strip() == "Error: p.csv: no column 'when' (found: text); use --date-column."


def test_report_takes_the_same_columns(tmp_path, model_path):
    path = tmp_path / "buffer.csv"
    rows = [("Text", "Posted At", "Profile")]
    for day in range(1, 29):
        rows.append((f"Flash sale day {day}: 20% off everything, shop now" if day % 2 else
                     f"thanks @friend{day} for the kind words!", f"03/{day:02d}/2024 10:00",
                     "acme" if day % 3 else "acme_uk"))
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    out = tmp_path / "r.html"
    done = run_cli("report", path, "-o", out, "--model", model_path, "--account-column", "profile")
    assert done.returncode == 0, done.stderr
    page = out.read_text(encoding="utf-8")
    assert "acme_uk" in page and "2024" in page


@pytest.mark.parametrize("value, dayfirst, iso", [
    ("2024-05-02T11:00:00Z", False, "2024-05-02T11:00:00+00:00"),
    ("2024-05-02 11:00", False, "2024-05-02T11:00:00+00:00"),
    ("05/02/2024 11:00", False, "2024-05-02T11:00:00+00:00"),
    ("05/02/2024 11:00", True, "2024-02-05T11:00:00+00:00"),
    ("5/2/24 3:05 PM", False, "2024-05-02T15:05:00+00:00"),
    ("May 2, 2024 3:05 PM", False, "2024-05-02T15:05:00+00:00"),
    ("02.05.2024 11:00", False, "2024-05-02T11:00:00+00:00"),
    ("1714647600", False, "2024-05-02T11:00:00+00:00"),
    ("Thu May 02 11:00:00 +0000 2024", False, "2024-05-02T11:00:00+00:00"),
    ("not a date", False, None),
])
def test_date_formats(value, dayfirst, iso):
    from smclass.exports.columns import DateParser
    assert DateParser(dayfirst)(value) == iso


# --------------------------------------------------------------------------- #
# 12.7 X retweets, 12.13 Reddit entities
# --------------------------------------------------------------------------- #

def test_retweets_are_kept_out_of_the_mix_unless_asked(tmp_path, model_path):
    src = FIX / "x/tweets.js"
    done, rows = predict(src, model=model_path, out=tmp_path / "o.csv")
    assert done.returncode == 0, done.stderr
    rt = rows[2]
    assert (rt["label"], rt["note"], rt["text"]) == ("", "retweet of another post",
                                                     "RT @citylib: Late opening on Friday: doors stay open until 9pm")
    assert "1 retweet of another post" in done.stderr
    done, rows = predict(src, "--include-shares", model=model_path, out=tmp_path / "o.csv")
    assert done.returncode == 0, done.stderr
    assert rows[2]["text"].startswith("RT @citylib:")
    assert rows[2]["label"] in ("broadcast", "conversational")
    assert rows[2]["note"] == "retweet of another post"


def _tweet(ident: str, full_text: str, **extra) -> dict:
    return {"tweet": {"id_str": ident, "created_at": "Fri Mar 08 18:30:45 +0000 2024", "full_text": full_text, **extra}}


def test_a_retweet_row_carries_the_archive_text_unclassified(tmp_path, model_path):
    """The retweet's own words are written out (people read the output), but not classified."""
    retweet = "RT @citylib: Late opening on Friday &amp; Saturday: doors open until 9pm https://t.co/abc"
    media = {"media": [{"url": "https://t.co/abc", "display_url": "pic.twitter.com/abc"}]}
    tweets = [_tweet("1", "Our workshop opens next week, book now"), _tweet("2", retweet, entities=media),
              _tweet("3", "@sam thanks, see you there!")]
    src = tmp_path / "tweets.js"
    src.write_text("window.YTD.tweets.part0 = " + json.dumps(tweets, indent=2), encoding="utf-8")
    expected = "RT @citylib: Late opening on Friday & Saturday: doors open until 9pm pic.twitter.com/abc"
    for fmt in ("csv", "jsonl"):
        out = tmp_path / f"o.{fmt}"
        done = run_cli("predict", src, "--model", model_path, "-o", out, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        text = out.read_text(encoding="utf-8")
        rows = list(csv.DictReader(io.StringIO(text))) if fmt == "csv" else [json.loads(x) for x in text.splitlines()]
        assert [r["id"] for r in rows] == ["1", "2", "3"]
        assert rows[1]["text"] == expected
        assert rows[1]["note"] == "retweet of another post" and rows[1]["label"] in ("", None)
        assert rows[1]["p_broadcast"] in ("", None) and rows[1]["lang"] in ("", None)
        assert all(rows[i]["label"] in ("broadcast", "conversational") for i in (0, 2))
        assert "3 posts read, 2 classified, 1 skipped (1 retweet of another post)" in done.stderr
    two = run_cli("predict", src, "--model", model_path, "--jobs", "2", "--chunk-size", "1", "-q", cwd=tmp_path)
    assert two.returncode == 0 and list(csv.DictReader(io.StringIO(two.stdout)))[1]["text"] == expected
    shared = run_cli("predict", src, "--model", model_path, "--include-shares", "-q", cwd=tmp_path)
    row = list(csv.DictReader(io.StringIO(shared.stdout)))[1]
    assert row["text"] == expected and row["label"] in ("broadcast", "conversational")


def test_reddit_html_entities_are_decoded(tmp_path, model_path):
    path = tmp_path / "comments.csv"
    path.write_text("id,permalink,date,ip,subreddit,gildings,link,parent,body,media\n"
                    "k1,/r/x/k1,2024-03-05 14:02:11 UTC,,x,0,/r/x,,\"Fish &amp; chips &gt; salad&#x200B;\n\n"
                    "&lt;3\",\n", encoding="utf-8")
    done, rows = predict(path, model=model_path, out=tmp_path / "o.csv")
    assert done.returncode == 0, done.stderr
    assert rows[0]["text"] == "Fish & chips > salad\n\n<3"


# --------------------------------------------------------------------------- #
# 13: encodings, line endings, surrogates, deep JSON, huge records
# --------------------------------------------------------------------------- #

def test_utf16_without_bom_with_encoding(tmp_path, model_path):
    path = tmp_path / "p.csv"
    path.write_bytes("text\nmerci beaucoup Élodie 😀\nsale today only\n".encode("utf-16-le"))
    done, rows = predict(path, "--encoding", "utf-16-le", model=model_path, out=tmp_path / "o.csv")
    assert done.returncode == 0, done.stderr
    assert [r["text"] for r in rows] == ["merci beaucoup Élodie 😀", "sale today only"]


@pytest.mark.parametrize("ending", ["\r", "mixed"])
def test_cr_only_and_mixed_line_endings(ending, tmp_path, model_path):
    lines = ["id,text", "1,new spring range out now", '2,"two\nlines"', "3,see you soon!", "4,thanks all"]
    if ending == "\r":
        body = "\r".join(lines) + "\r"
    else:
        body = lines[0] + "\r\n" + lines[1] + "\n" + lines[2] + "\r" + lines[3] + "\r\n" + lines[4]
    path = tmp_path / "p.csv"
    path.write_bytes(body.encode("utf-8"))
    done, rows = predict(path, model=model_path, out=tmp_path / "o.csv")
    assert done.returncode == 0, done.stderr
    assert [r["id"] for r in rows] == ["1", "2", "3", "4"]
    assert rows[1]["text"] == "two\nlines"
    assert all(r["label"] for r in rows)


def test_cr_only_text_file(tmp_path):
    path = tmp_path / "p.txt"
    path.write_bytes(b"one\rtwo\r\rthree")
    assert [(p.text, p.note) for p in read_posts(path)] == [
        ("one", None), ("two", None), ("", "blank line"), ("three", None)]


def test_first_jsonl_record_without_text_is_a_noted_row(tmp_path, model_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"id": 1, "kind": "header"}\n{"id": 2, "text": "thanks Ana!"}\n{"id": 3, "text": "40% off"}\n')
    done, rows = predict(path, model=model_path, out=tmp_path / "o.csv")
    assert done.returncode == 0, done.stderr
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    assert rows[0]["note"] == "no 'text' field in this record"
    assert rows[1]["label"] and rows[2]["label"]


def test_jsonl_with_no_text_anywhere_is_still_refused(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"id": 1}\n{"id": 2}\n')
    with pytest.raises(DataError, match=r"p\.jsonl: no column 'text' \(found: id\); use --text-column"):
        list(read_posts(path))


SURROGATE = "\\ud83d"  # a lone high surrogate, as JSON writes it


@pytest.mark.parametrize("name, body", [
    ("tweets.js", 'window.YTD.tweets.part0 = [{"tweet": {"id_str": "1", "full_text": "hi ' + SURROGATE
     + ' there", "created_at": "Wed Mar 06 14:02:11 +0000 2024"}}]'),
    ("your_posts_1.json", '[{"timestamp": 1709647331, "data": [{"post": "cake ' + SURROGATE + '"}]}]'),
    ("p.jsonl", '{"id": "a' + SURROGATE + '", "text": "sale ' + SURROGATE + ' now", "lang": "' + SURROGATE + '"}\n'),
])
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_lone_surrogates_are_replaced_and_noted(name, body, fmt, tmp_path, model_path):
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    out = tmp_path / f"o.{fmt}"
    done = run_cli("predict", path, "--model", model_path, "-o", out, "--keep-columns",
                   "lang" if name == "p.jsonl" else "", "-q")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8"))) if fmt == "csv" else \
        [json.loads(line) for line in out.open(encoding="utf-8")]
    assert len(rows) == 1
    assert "\ufffd" in rows[0]["text"] and rows[0]["label"]
    assert rows[0]["note"] == "lone surrogate replaced with U+FFFD"


def _deep(n: int) -> str:
    return "[" * n + "]" * n


@pytest.mark.parametrize("name, body, message", [
    ("p.json", "[" + '{"text": "x", "more": ' + _deep(990) + "}]", r"p\.json, line 1: the JSON is nested too deeply"),
    ("tweets.js", "window.YTD.tweets.part0 = [" + _deep(990) + "]", r"tweets\.js, line 1: the JSON is nested too deeply"),
    ("your_posts_1.json", "[" + '{"timestamp": 1, "data": ' + _deep(990) + "}]",
     r"your_posts_1\.json, line 1: the JSON is nested too deeply"),
])
def test_deep_json_is_a_clean_error(name, body, message, tmp_path, model_path):
    path = tmp_path / name
    path.write_text(body)
    done = run_cli("predict", path, "--model", model_path)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    import re
    assert re.match("Error: " + message, done.stderr), done.stderr


def test_deep_json_line_in_jsonl_is_a_noted_row(tmp_path, model_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"text": "thanks!"}\n' + '{"text": ' + _deep(990) + "}\n" + '{"text": "sale now on"}\n')
    done, rows = predict(path, model=model_path, out=tmp_path / "o.csv")
    assert done.returncode == 0, done.stderr
    assert [r["note"] for r in rows] == ["", "JSON nested too deeply on this line", ""]


def test_zero_width_only_post_is_empty(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("text\n\u200b\u200b\n\ufeff\n\u180e \u200c\nreal post\n", encoding="utf-8")
    # the readers' invisible characters are the normaliser's (text.INVISIBLE), U+180E included
    assert [(p.text, p.note) for p in read_posts(path)][:3] == [(None, "text is empty")] * 3


def test_oversized_line_and_record_are_refused(tmp_path, monkeypatch):
    from smclass.exports import jsonstream, sources
    monkeypatch.setattr(sources, "MAX_LINE_BYTES", 1000)
    path = tmp_path / "p.jsonl"
    path.write_text('{"text": "ok"}\n{"text": "' + "a" * 5000 + '"}\n')
    with pytest.raises(DataError, match=r"p\.jsonl, line 2: longer than 0 MB; refusing it"):
        list(read_posts(path))
    monkeypatch.setattr(jsonstream, "MAX_RECORD_BYTES", 100_000)
    path = tmp_path / "tweets.js"
    path.write_text('window.YTD.tweets.part0 = [{"tweet": {"full_text": "' + "a" * 300_000 + '"}}]')
    with pytest.raises(DataError, match=r"tweets\.js, line 1: one record is larger than 0 MB; refusing it"):
        list(read_posts(path))


# --------------------------------------------------------------------------- #
# 12.6 Excel workbooks
# --------------------------------------------------------------------------- #

def _workbook(path: Path) -> Path:
    import datetime as dt

    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Summary"
    ws.append(["Account", "Total"])
    ws.append(["acme", 3])
    posts = wb.create_sheet("Posts")
    posts.append(["Post ID", "Published", "Post text", "Profile"])
    posts.append([101, dt.datetime(2024, 5, 2, 11, 0), "Flash sale 🛍️ 40% off today only, link in bio", "acme"])
    posts.append([102, dt.datetime(2024, 5, 3, 9, 30), "@jo so glad you liked it, thank you!", "acme"])
    posts.append([103, "05/04/2024 10:00", None, "acme"])
    posts.append([None, None, None, None])  # trailing blank rows are formatting, not posts
    posts.append([None, None, None, None])
    wb.save(path)
    return path


def test_xlsx_sheet_by_name(tmp_path, model_path):
    path = _workbook(tmp_path / "analytics.xlsx")
    done, rows = predict(path, "--sheet", "Posts", "--id-column", "post id", model=model_path,
                         out=tmp_path / "o.csv")
    assert done.returncode == 0, done.stderr
    assert [r["id"] for r in rows] == ["101", "102", "103"]
    assert rows[0]["text"] == "Flash sale 🛍️ 40% off today only, link in bio"
    assert [r["created_at"] for r in rows] == ["2024-05-02T11:00:00+00:00", "2024-05-03T09:30:00+00:00",
                                               "2024-05-04T10:00:00+00:00"]
    assert rows[2]["note"] == "text is empty"


def test_xlsx_first_sheet_by_default_and_missing_sheet(tmp_path, model_path):
    path = _workbook(tmp_path / "analytics.xlsx")
    done, _ = predict(path, model=model_path)
    assert done.returncode == 1
    assert done.stderr.strip() == "Error: analytics.xlsx: no column 'text' (found: Account, Total); use --text-column."
    done, _ = predict(path, "--sheet", "Nope", model=model_path)
    assert done.returncode == 1
    assert done.stderr.strip() == "Error: analytics.xlsx: no sheet 'Nope' (found: Summary, Posts); use --sheet."


def test_xlsx_without_extension_is_detected(tmp_path):
    from smclass.exports import detect_format
    path = _workbook(tmp_path / "analytics.xlsx")
    renamed = path.rename(tmp_path / "download")
    assert detect_format(renamed) == "xlsx"
    assert len(list(read_posts(renamed, sheet="Posts"))) == 3


# --------------------------------------------------------------------------- #
# 11: extras are flattened only when asked for
# --------------------------------------------------------------------------- #

def test_x_extras_are_flattened_only_when_asked(monkeypatch):
    from smclass.exports import records
    calls = []
    real = records.json.dumps
    monkeypatch.setattr(records.json, "dumps", lambda *a, **k: calls.append(1) or real(*a, **k))
    got = list(read_posts(FIX / "x/tweets.js"))
    assert calls == []  # reading alone flattens nothing
    assert isinstance(json.loads(got[0].extra["entities"]), dict)
    assert calls  # looking flattens


def test_keep_columns_still_gets_nested_x_fields(tmp_path, model_path):
    done, rows = predict(FIX / "x/tweets.js", "--keep-columns", "lang,entities", model=model_path,
                         out=tmp_path / "o.csv")
    assert done.returncode == 0, done.stderr
    assert rows[0]["lang"] == "en"
    assert isinstance(json.loads(rows[0]["entities"]), dict)
