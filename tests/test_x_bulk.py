"""The X reader's bulk path (msgspec over whole runs of archive elements) reads exactly what the
element-by-element json path reads: the same posts, notes, extras, errors and line numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smclass.errors import DataError
from smclass.exports import jsonstream, read_posts, x

FIX = Path(__file__).parent / "fixtures" / "exports"


def _archive(elements, indent: int | None = 2) -> str:
    """A tweets.js as X writes it: the YTD prefix, then the array pretty-printed with ' : '."""
    body = json.dumps(elements, indent=indent, ensure_ascii=False,
                      separators=(",", " : ") if indent else (",", ":"))
    return "window.YTD.tweets.part0 = " + body


def _posts(path, **opts) -> list[tuple]:
    out = []
    for p in read_posts(path, **opts):
        out.append((p.id, p.text, p.created_at, p.platform, p.is_reply, p.note, dict(p.extra), p.where, p.shown))
    return out


def _read_both(path, monkeypatch, **opts):
    """(posts read with the bulk path, posts read element by element, runs the bulk path decoded)."""
    decoded = []
    real = x._bulk_tweets

    def counting(run):
        items = real(run)
        if items is not None:
            decoded.append(len(items))
        return items

    monkeypatch.setattr(x, "_bulk_tweets", counting)
    fast = _posts(path, **opts)
    monkeypatch.setattr(x, "_bulk_tweets", lambda run: None)
    slow = _posts(path, **opts)
    return fast, slow, decoded


def _tweet(i: int, **fields) -> dict:
    tweet = {"id_str": str(1000 + i), "id": str(1000 + i), "created_at": "Wed Mar 06 14:02:11 +0000 2024",
             "full_text": f"post number {i} with a few words &amp; more", "lang": "en", "favorite_count": "3",
             "entities": {"hashtags": [], "urls": [], "user_mentions": []}}
    tweet.update(fields)
    return {"tweet": tweet}


def _big(n: int, special: dict | None = None) -> list:
    """n tweets, enough to span several blocks of the stream; ``special`` replaces some of them."""
    items = [_tweet(i) for i in range(n)]
    for i, item in (special or {}).items():
        items[i] = item
    return items


def test_bulk_reads_the_shipped_archives_exactly(monkeypatch):
    for path in (FIX / "x" / "tweets.js", FIX / "x_archive"):
        for opts in ({}, {"include_shares": True}):
            fast, slow, _ = _read_both(path, monkeypatch, **opts)
            assert fast == slow and fast


def test_bulk_decodes_most_of_a_big_archive_and_reads_it_exactly(tmp_path, monkeypatch):
    photo = {"media": [{"url": "https://t.co/abc", "display_url": "pic.twitter.com/abc", "type": "photo"}]}
    special = {
        5: _tweet(5, full_text="look https://t.co/abc", entities=photo, extended_entities=photo),
        6: _tweet(6, full_text="RT @someone: their words"),
        7: _tweet(7, in_reply_to_status_id_str="99", in_reply_to_screen_name="ana"),
        8: {"full_text": "a bare tweet, no wrapper", "id": 8},
        9: {"tweet": None, "full_text": "wrapper is null", "id_str": "9"},
        10: _tweet(10, full_text=None),
        11: _tweet(11, id_str=None, id=11),
        12: _tweet(12, created_at="not a date"),
        13: _tweet(13, entities=None),
    }
    path = tmp_path / "tweets.js"
    path.write_text(_archive(_big(3000, special)), encoding="utf-8")
    fast, slow, decoded = _read_both(path, monkeypatch, include_shares=False)
    assert fast == slow and len(fast) == 3000
    assert sum(decoded) > 2900          # nearly every element went the bulk way


@pytest.mark.parametrize("odd", [
    '{"tweet" : {"full_text" : NaN, "id_str" : "1"}}',                       # json takes NaN, msgspec not
    '{"tweet" : {"full_text" : "x", "entities" : [1, 2]}}',                  # entities that are not an object
    '{"tweet" : {"full_text" : "x", "entities" : {"media" : "not a list"}}}',
    '{"tweet" : {"full_text" : "half an emoji \\ud83d", "id_str" : "2"}}',   # a lone surrogate
    '"a string, not a tweet"',
    '{"tweet" : "not an object", "full_text" : "outer"}',
    '{"tweet" : {"full_text" : 1e400}}',
])
def test_elements_msgspec_declines_are_read_the_json_way(tmp_path, monkeypatch, odd):
    items = [json.dumps(e, indent=2, separators=(",", " : ")) for e in _big(600)]
    items[300] = odd
    path = tmp_path / "tweets.js"
    path.write_text("window.YTD.tweets.part0 = [\n  " + ",\n  ".join(i.replace("\n", "\n  ") for i in items)
                    + "\n]", encoding="utf-8")
    fast, slow, decoded = _read_both(path, monkeypatch)
    assert fast == slow and len(fast) == 600
    assert sum(decoded) > 0


def test_invalid_json_after_bulk_runs_has_the_same_error_and_line(tmp_path, monkeypatch):
    text = _archive(_big(2000))
    cut = text.index('"post number 1500')
    path = tmp_path / "tweets.js"
    path.write_text(text[:cut] + '"post number 1500, unterminated\n' + text[cut + 20:], encoding="utf-8")
    errors = []
    for bulk in (x._bulk_tweets, lambda run: None):
        monkeypatch.setattr(x, "_bulk_tweets", bulk)
        with pytest.raises(DataError) as exc:
            _posts(path)
        errors.append(str(exc.value))
    assert errors[0] == errors[1]
    assert f"line {text[:cut].count(chr(10)) + 1}" in errors[0]


def test_a_minified_archive_stops_offering_runs(tmp_path, monkeypatch):
    path = tmp_path / "tweets.js"
    path.write_text(_archive(_big(4000), indent=None), encoding="utf-8")
    offered = []
    real = jsonstream._JsonStream._bulk_run

    def counting(self, bulk):
        offered.append(1)
        return real(self, bulk)

    monkeypatch.setattr(jsonstream._JsonStream, "_bulk_run", counting)
    fast, slow, decoded = _read_both(path, monkeypatch)
    assert fast == slow and len(fast) == 4000 and not decoded
    # one search per block read (both reads of the file), not one per element
    blocks = path.stat().st_size // jsonstream._BLOCK + 1
    assert len(offered) <= 2 * (blocks + 1)


_VALUE = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.text(max_size=12),
                   st.floats(allow_nan=False, allow_infinity=False))
_FIELD = st.sampled_from(["full_text", "text", "id_str", "id", "created_at", "in_reply_to_status_id_str",
                          "in_reply_to_status_id", "in_reply_to_user_id_str", "in_reply_to_screen_name",
                          "lang", "source"])
_MEDIA = st.lists(st.dictionaries(st.sampled_from(["url", "display_url", "type"]), _VALUE, max_size=3), max_size=2)
_TWEET = st.dictionaries(_FIELD, _VALUE, max_size=8).flatmap(
    lambda d: st.fixed_dictionaries({}, optional={"entities": st.one_of(st.none(), st.fixed_dictionaries(
        {}, optional={"media": st.one_of(_MEDIA, _VALUE)}))}).map(lambda e: {**d, **e}))
_ELEMENT = st.one_of(_TWEET.map(lambda t: {"tweet": t}), _TWEET, _VALUE)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_ELEMENT, min_size=1, max_size=40), st.sampled_from([2, None]))
def test_any_archive_reads_the_same_both_ways(tmp_path, monkeypatch, elements, indent):
    path = tmp_path / "tweets.js"
    path.write_text(_archive(elements, indent), encoding="utf-8")
    fast, slow, _ = _read_both(path, monkeypatch)
    assert fast == slow
