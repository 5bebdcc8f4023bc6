"""Reading labelled posts through ``datasets`` and the validation messages users see."""

import json

import pytest

from smclass.data import check_trainable, load_posts, parse_label_map
from smclass.errors import DataError

GOOD = [
    ("Spring menu lands Friday, book at rosas.example/book", "broadcast"),
    ("@kim so sorry about the wait, DM us your order number?", "conversational"),
    ("50% off all candles this weekend only", "broadcast"),
    ("congrats on the new role Jess!!", "conversational"),
]


def write_csv(path, rows, header=("text", "label"), sep=","):
    lines = [sep.join(header)] + [sep.join(f'"{c}"' for c in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize("suffix", ["csv", "tsv", "jsonl", "json", "parquet"])
def test_every_format_reads_the_same_posts(tmp_path, suffix):
    path = tmp_path / f"posts.{suffix}"
    if suffix in ("csv", "tsv"):
        write_csv(path, GOOD, sep="," if suffix == "csv" else "\t")
    elif suffix == "jsonl":
        write_jsonl(path, [{"text": t, "label": l} for t, l in GOOD])
    elif suffix == "json":
        path.write_text(json.dumps([{"text": t, "label": l} for t, l in GOOD]), encoding="utf-8")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"text": [t for t, _ in GOOD], "label": [l for _, l in GOOD]}), path)
    posts = load_posts(path)
    assert posts.texts == [t for t, _ in GOOD]
    assert posts.labels.tolist() == [l for _, l in GOOD]
    assert posts.files[0]["rows"] == 4 and len(posts.files[0]["sha256"]) == 64


def test_many_files_are_concatenated_with_their_own_row_numbers(tmp_path):
    a = write_jsonl(tmp_path / "a.jsonl", [{"text": t, "label": l} for t, l in GOOD[:2]])
    b = write_jsonl(tmp_path / "b.jsonl", [{"text": t, "label": l} for t, l in GOOD[2:]])
    posts = load_posts([a, b])
    assert len(posts) == 4 and posts.where[2] == "b.jsonl, line 1"


def test_missing_column_lists_what_was_found(tmp_path):
    path = write_csv(tmp_path / "posts.csv", [("1", "hi")], header=("id", "body"))
    with pytest.raises(DataError, match=r"^posts.csv: no column 'text' \(found: id, body\); use --text-column\.$"):
        load_posts(path)


def test_other_column_names_are_accepted(tmp_path):
    path = write_csv(tmp_path / "posts.csv", [(t, l) for t, l in GOOD], header=("body", "kind"))
    assert len(load_posts(path, text_column="body", label_column="kind")) == 4


def test_empty_text_names_file_row_and_column(tmp_path):
    path = write_jsonl(tmp_path / "posts.jsonl", [{"text": "ok then", "label": "broadcast"}, {"text": "  ", "label": "broadcast"}])
    with pytest.raises(DataError, match=r"^posts.jsonl, line 2, column 'text': text is empty\.$"):
        load_posts(path)


def test_non_string_text_is_refused(tmp_path):
    path = write_jsonl(tmp_path / "posts.jsonl", [{"text": 42, "label": "broadcast"}])
    with pytest.raises(DataError, match=r"line 1, column 'text': expected text, found int 42"):
        load_posts(path)


def test_missing_text_is_refused(tmp_path):
    path = write_jsonl(tmp_path / "posts.jsonl", [{"text": "fine", "label": "broadcast"}, {"text": None, "label": "broadcast"}])
    with pytest.raises(DataError, match=r"line 2, column 'text': text is missing"):
        load_posts(path)


def test_unknown_label_suggests_label_map(tmp_path):
    path = write_csv(tmp_path / "posts.csv", [("buy now", "spam")])
    with pytest.raises(DataError, match=r"posts.csv, row 2, column 'label': unknown label 'spam' \(expected broadcast or conversational; use --label-map"):
        load_posts(path)


def test_label_map_maps_foreign_labels(tmp_path):
    path = write_csv(tmp_path / "sms.csv", [("WIN a prize txt 8000", "spam"), ("see u at 6", "HAM")])
    posts = load_posts(path, label_map="spam=broadcast,ham=conversational")
    assert posts.labels.tolist() == ["broadcast", "conversational"]


def test_numeric_labels_can_be_mapped(tmp_path):
    path = write_jsonl(tmp_path / "yt.jsonl", [{"text": "sub to my channel", "CLASS": 1}, {"text": "love this song", "CLASS": 0}])
    posts = load_posts(path, label_column="CLASS", label_map="1=broadcast,0=conversational")
    assert posts.labels.tolist() == ["broadcast", "conversational"]


def test_bad_label_map_is_explained():
    with pytest.raises(DataError, match="is not of the form VALUE=broadcast"):
        parse_label_map("spam=promo")


def test_conflicting_labels_are_reported_not_resolved(tmp_path):
    path = write_jsonl(tmp_path / "posts.jsonl", [
        {"text": "Big news today", "label": "broadcast"},
        {"text": "something else", "label": "broadcast"},
        {"text": "Big  news today", "label": "conversational"},
    ])
    with pytest.raises(DataError, match=r"conflicting labels: posts.jsonl, line 1 says broadcast, posts.jsonl, line 3 says conversational"):
        load_posts(path)


def test_exact_duplicates_are_counted(tmp_path):
    rows = [{"text": t, "label": l} for t, l in GOOD] + [{"text": GOOD[0][0], "label": GOOD[0][1]}]
    assert load_posts(write_jsonl(tmp_path / "posts.jsonl", rows)).duplicates == 1


def test_single_class_is_refused(tmp_path):
    posts = load_posts(write_jsonl(tmp_path / "p.jsonl", [{"text": f"sale number {i}", "label": "broadcast"} for i in range(9)]))
    with pytest.raises(DataError, match=r"Only one class \(broadcast\) in the training data"):
        check_trainable(posts)


def test_too_few_examples_per_class_is_refused(tmp_path):
    rows = [{"text": f"sale number {i}", "label": "broadcast"} for i in range(9)] + [{"text": "hi ana", "label": "conversational"}]
    posts = load_posts(write_jsonl(tmp_path / "p.jsonl", rows))
    with pytest.raises(DataError, match="Only 1 conversational posts in the training data; need at least 5 of each class"):
        check_trainable(posts)


def test_malformed_json_line_is_named(tmp_path):
    path = tmp_path / "posts.jsonl"
    path.write_text('{"text": "a", "label": "broadcast"}\n{"text": "b", "label": \n', encoding="utf-8")
    with pytest.raises(DataError, match=r"^posts.jsonl, line 2: not valid JSON"):
        load_posts(path)


@pytest.mark.parametrize("name, message", [
    ("missing.csv", r"^missing.csv: no such file"),
    ("posts.xlsx", r"unknown file type .xlsx"),
])
def test_unreadable_sources(tmp_path, name, message):
    path = tmp_path / name
    if name.endswith(".xlsx"):
        path.write_bytes(b"PK\x03\x04")
    with pytest.raises(DataError, match=message):
        load_posts(path)


def test_empty_and_header_only_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match=r"empty.csv is empty\."):
        load_posts(empty)
    header = tmp_path / "header.csv"
    header.write_text("text,label\n", encoding="utf-8")
    with pytest.raises(DataError, match="no posts found"):
        load_posts(header)
