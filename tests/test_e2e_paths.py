"""The faster paths of `smclass predict` give what the general ones give, byte for byte."""

from __future__ import annotations

import csv
import io
import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smclass import writers
from smclass.errors import DataError
from smclass.exports import jsonstream, read_posts
from smclass.exports.x import _x_time, _x_time_parts
from smclass.writers import PredictionWriter

# -- CSV output built a column at a time -------------------------------------------------

CELL_TEXT = st.text(alphabet=st.sampled_from(list("ab ,\"\r\n=+-@\t'é😀\x00\u2028;")), max_size=12)
CELL = st.one_of(CELL_TEXT, st.none(), st.floats(allow_nan=True), st.integers(-5, 5), st.booleans())


def _module_csv(data: list[list]) -> str:
    """What the csv module path writes for ``data`` (the reference)."""
    out = io.StringIO()
    writer = PredictionWriter.__new__(PredictionWriter)
    writer._text = out
    writer._write_csv_module(data)
    return out.getvalue()


@settings(max_examples=400, deadline=None)
@given(st.integers(2, 5).flatmap(lambda n: st.lists(st.lists(CELL, min_size=n, max_size=n), min_size=1, max_size=6)))
def test_column_built_csv_is_the_csv_modules(rows):
    data = [list(column) for column in zip(*rows)]
    fast = writers._csv_text(data)
    assert fast is not None
    assert fast == _module_csv(data)


def test_other_cell_types_go_through_the_csv_module(tmp_path):
    class Odd:
        def __str__(self):
            return "a,b"
    assert writers._csv_text([["x"], [Odd()]]) is None
    path = tmp_path / "out.csv"
    with PredictionWriter(str(path), ["text", "note"], formula_guard=False) as w:
        w.write_columns([["x"], [Odd()]])
    assert path.read_text(encoding="utf-8") == 'text,note\nx,"a,b"\n'


def test_written_predictions_match_the_csv_module(tmp_path):
    rng = random.Random(3)
    columns = ["id", "text", "label", "p_broadcast", "lang", "note"]
    pieces = ["hi", "=1+1", "@you", "a,b", 'say "x"', "line\nbreak", "cr\rhere", "é😀", " ", ""]
    data = [[rng.choice(pieces) for _ in range(300)] for _ in columns]
    data[3] = [rng.choice([None, 0.5, 1e-06, float("nan"), 0.123457]) for _ in range(300)]
    data[4] = [rng.choice(["en", None, "de"]) for _ in range(300)]
    fast, slow = tmp_path / "fast.csv", tmp_path / "slow.csv"
    with PredictionWriter(str(fast), columns) as w:
        w.write_columns([list(c) for c in data])
    original = writers._csv_text
    writers._csv_text = lambda data: None        # the csv module path alone
    try:
        with PredictionWriter(str(slow), columns) as w:
            w.write_columns([list(c) for c in data])
    finally:
        writers._csv_text = original
    assert fast.read_bytes() == slow.read_bytes()
    assert len(list(csv.reader(io.StringIO(fast.read_text(encoding="utf-8"))))) == 301


# -- X dates -------------------------------------------------------------------------------

@settings(max_examples=500, deadline=None)
@given(st.sampled_from(["Wed", "x", "Mon"]), st.sampled_from(["Jan", "Feb", "Mar", "Apr", "Dec", "Foo"]),
       st.sampled_from(["00", "01", "06", "28", "29", "30", "31", "32", "6", "٣"]),
       st.sampled_from(["00", "09", "23", "24", "99"]), st.sampled_from(["00", "59", "60"]),
       st.sampled_from(["00", "59", "60", "61"]), st.sampled_from(["+0000", "-0000", "+0100", "+0575", "0000"]),
       st.sampled_from(["2024", "2023", "1900", "2000", "0000", "0001", "9999", "12345"]),
       st.sampled_from([" ", "  ", "\t"]))
def test_x_time_fast_path_gives_what_datetime_gives(day_name, month, day, hour, minute, second, zone, year, gap):
    value = gap.join([day_name, month, day, f"{hour}:{minute}:{second}", zone, year])
    assert _x_time(value) == _x_time_parts(value)


def test_x_time_from_seen_dates_and_clocks_is_what_datetime_gives():
    """The shortcut combines a date part seen in one time with the clock of another: every such
    combination, valid or not, read twice (the second time from what the first taught it)."""
    import itertools

    dates = ["Wed Mar 06 {} +0000 2024", "Thu Feb 29 {} +0000 2024", "Thu Feb 29 {} +0000 2023",
             "W d Mar 06 {} +0000 2024", "Wed Mar 06 {} +0100 2024", "Wed Mar 6  {} +0000 2024",
             "Sun Dec 31 {} +0000 0001", "Wed Mar ٠٦ {} +0000 2024"]
    clocks = ["14:02:11", "23:59:59", "24:00:00", "00:60:00", "00:00:60", "1a:00:00", "14 02 11", "٠٠:00:00",
              "14:0211:", "+1:00:00", " 9:00:00"]
    values = [d.format(c) for d, c in itertools.product(dates, clocks)]
    for value in values + values[::-1] + values:
        assert _x_time(value) == _x_time_parts(value), value


def test_x_time_examples():
    assert _x_time("Wed Mar 06 14:02:11 +0000 2024") == "2024-03-06T14:02:11+00:00"
    assert _x_time("Thu Feb 29 00:00:00 +0000 2024") == "2024-02-29T00:00:00+00:00"
    assert _x_time("Thu Feb 29 00:00:00 +0000 2023") is None
    assert _x_time("Sat Mar 09 07:00:00 +0100 2024") == "2024-03-09T07:00:00+01:00"
    assert _x_time(None) is None


# -- JSON arrays read in blocks of any size ---------------------------------------------------

TWEETS = "tests/fixtures/exports/x/tweets.js"


def _posts(path) -> list[tuple]:
    return [(p.id, p.text, p.created_at, p.is_reply, p.note, p.shown, p.where, dict(p.extra))
            for p in read_posts(path)]


@pytest.mark.parametrize("block", [1, 2, 7, 64, 1000])
def test_tweets_read_the_same_with_any_block_size(monkeypatch, block):
    whole = _posts(TWEETS)
    monkeypatch.setattr(jsonstream, "_BLOCK", block)
    assert _posts(TWEETS) == whole


@pytest.mark.parametrize("broken", [
    'window.YTD.tweets.part0 = [{"tweet": {"full_text": "a"}},\n{"tweet": {"full_text": "b"}}\n{"x": 1}]',
    'window.YTD.tweets.part0 = [{"tweet": {"full_text": "a"}},\n\n{"tweet": {"full_text": "b"',
    'window.YTD.tweets.part0 = [{"tweet": {"full_text": "a"}},\n\n{"tweet": {"full_text": tru}}]',
    'window.YTD.tweets.part0 = [{"tweet": {"full_text": "a"}},\n\n,]',
    'window.YTD.tweets.part0 = [1,\n2,\n3',
])
def test_broken_arrays_name_the_same_line_with_any_block_size(tmp_path, monkeypatch, broken):
    path = tmp_path / "tweets.js"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(DataError) as whole:
        list(read_posts(path))
    for block in (1, 3, 10):
        monkeypatch.setattr(jsonstream, "_BLOCK", block)
        with pytest.raises(DataError) as small:
            list(read_posts(path))
        assert str(small.value) == str(whole.value)


def test_kept_columns_of_a_tweet_come_from_its_json_text():
    posts = list(read_posts(TWEETS))
    first = json.loads(open(TWEETS, encoding="utf-8").read().split("= ", 1)[1].rsplit("]", 0)[0])[0]["tweet"]
    assert posts[0].extra["lang"] == first["lang"]
    assert json.loads(posts[0].extra["entities"]) == first["entities"]
    assert "full_text" not in posts[0].extra
