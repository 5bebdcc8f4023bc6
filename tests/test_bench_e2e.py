"""bench.e2e: the X archive generator and the end-to-end measurement, at tiny sizes (nothing timed)."""

from __future__ import annotations

import csv
import json
import random

from bench import e2e
from smclass.exports import read_posts


def test_generated_tweets_js_is_an_archive_the_reader_takes(tmp_path):
    path = tmp_path / "tweets.js"
    e2e.write_tweets_js(path, 300)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("window.YTD.tweets.part0 = [\n  {\n    \"tweet\" : {")
    items = json.loads(text.split("= ", 1)[1])
    tweets = [item["tweet"] for item in items]
    assert len(tweets) == 300
    assert len({t["id_str"] for t in tweets}) == 300 and all(t["id"] == t["id_str"] for t in tweets)
    for key in ("created_at", "full_text", "entities", "source", "favorite_count", "retweet_count", "lang",
                "display_text_range", "edit_info"):
        assert all(key in t for t in tweets), key
    retweets = [t for t in tweets if t["full_text"].startswith("RT @")]
    replies = [t for t in tweets if "in_reply_to_status_id_str" in t]
    photos = [t for t in tweets if "extended_entities" in t]
    links = [t for t in tweets if t["entities"]["urls"]]
    assert retweets and replies and photos and links
    assert all(t["full_text"].startswith("@" + t["in_reply_to_screen_name"]) for t in replies)
    assert any("&amp;" in t["full_text"] for t in tweets) or not any("&" in t["full_text"] for t in tweets)
    assert all("<" not in t["full_text"] and ">" not in t["full_text"] for t in tweets)

    posts = list(read_posts(path))
    assert len(posts) == 300
    assert sum(p.note == "retweet of another post" for p in posts) == len(retweets)
    assert sum(bool(p.is_reply) for p in posts) == len(replies)
    shown = [p for p, t in zip(posts, tweets) if "extended_entities" in t and p.text is not None]
    assert shown and all(t_media in p.text for p, t_media in
                         ((p, t["extended_entities"]["media"][0]["display_url"])
                          for p, t in zip(posts, tweets) if "extended_entities" in t and p.text is not None))
    assert all(p.created_at and p.created_at[4] == "-" and p.created_at[10] == "T" for p in posts)
    texts = [p.text for p in posts if p.text is not None]
    assert len(set(texts)) == len(texts)                       # distinct: nothing is seen twice


def test_the_generator_is_reproducible(tmp_path):
    a, b = tmp_path / "a.js", tmp_path / "b.js"
    e2e.write_tweets_js(a, 40)
    e2e.main(["--write-tweets", str(b), "--tweets", "40"])
    assert a.read_bytes() == b.read_bytes()


def test_one_tweet_unescapes_to_its_words():
    tweet = e2e.make_tweet(7, "fish & chips <3 > all", random.Random(1))["tweet"]
    assert "fish &amp; chips &lt;3 &gt; all" in tweet["full_text"]


def test_measure_runs_predict_on_both_inputs_and_tabulates(tmp_path, model_path, capsys):
    assert e2e.main(["--rows", "60", "--tweets", "30", "--runs", "1", "--model", str(model_path),
                     "--keep", str(tmp_path), "--json", str(tmp_path / "runs.json")]) == 0
    runs = json.loads((tmp_path / "runs.json").read_text())
    assert {(r["input"], r["variant"]) for r in runs} == {
        ("posts.csv", "default"), ("posts.csv", "--no-lang"), ("tweets.js", "default"), ("tweets.js", "--no-lang")}
    assert all(r["returncode"] == 0 and r["cpu"] > 0 and r["rss_mb"] > 0 for r in runs)
    out = capsys.readouterr().out
    assert "| posts.csv | default | this code |" in out and "| tweets.js | --no-lang | this code |" in out
    with open(tmp_path / "posts.csv-default-this code.csv", encoding="utf-8", newline="") as handle:
        assert sum(1 for _ in csv.reader(handle)) == 61       # one row per post (posts hold line breaks)


def test_table_marks_a_failed_run():
    runs = [{"input": "posts.csv", "variant": "default", "tree": "old", "returncode": 1, "cpu": 1.0,
             "wall": 1.0, "rss_mb": 10, "posts": 10}]
    assert "| posts.csv | default | old | failed |" in e2e.table(runs)


def test_inputs_are_written_by_a_child_process(tmp_path, model_path, monkeypatch):
    """A child's peak RSS starts at its parent's: generating the inputs in the measuring process
    would inflate every run's memory figure, so the generators must not run in it."""
    def in_this_process(*args, **kwargs):
        raise AssertionError("inputs generated in the measuring process")

    monkeypatch.setattr(e2e, "write_posts_csv", in_this_process)
    monkeypatch.setattr(e2e, "write_tweets_js", in_this_process)
    assert e2e.main(["--rows", "20", "--tweets", "10", "--runs", "1", "--model", str(model_path),
                     "--keep", str(tmp_path)]) == 0
    assert (tmp_path / "posts-20.csv").is_file() and (tmp_path / "tweets-10" / "tweets.js").is_file()
