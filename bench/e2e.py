"""`smclass predict` end to end: a 1M-row CSV and an X archive's tweets.js, this code against an older tree.

    python -m bench.e2e --write-tweets tweets.js --tweets 200000    # just write the X archive file
    python -m bench.e2e --write-csv posts.csv --rows 1000000        # just write the posts CSV
    python -m bench.e2e --old /tmp/wt-old --runs 3                  # measure both inputs, both trees

Inputs (written once into a temporary folder, or ``--keep DIR``):

- ``posts.csv``: ``--rows`` distinct posts, exactly ``bench.scale``'s (``make_input``, written as CSV);
- ``tweets.js``: ``--tweets`` tweets in the layout of an X archive's ``data/tweets.js``
  (``window.YTD.tweets.part0 = [ {"tweet": {...}}, ... ]``, pretty-printed as X writes it) with the fields
  a real archive has: ``id``/``id_str``, ``created_at`` ("Wed Mar 06 14:02:11 +0000 2024"), ``full_text``
  HTML-escaped as X escapes it (``&amp;``, ``&lt;``, ``&gt;``), ``entities`` (hashtags, symbols,
  user_mentions, urls, media), ``extended_entities`` on photo posts, ``in_reply_to_*`` on replies,
  ``RT @user: ...`` retweets, counts, ``lang``, ``source``, ``edit_info``. The words are the shipped
  corpus's posts, each made distinct by its own id token, so nothing is seen twice.

Each command (``smclass predict FILE -o out.csv``, with and without ``--no-lang``) runs in a fresh
process with cwd and PYTHONPATH set to the code tree, ``--runs`` times, the trees alternating. Measured
per run: CPU seconds of the child (user + sys, from wait4), wall seconds and peak RSS (ru_maxrss).
The machine may be shared, so CPU seconds are the figure to compare; posts/s is posts / CPU seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

_CLIENTS = [
    ("https://mobile.twitter.com", "Twitter Web App"),
    ("http://twitter.com/download/android", "Twitter for Android"),
    ("http://twitter.com/download/iphone", "Twitter for iPhone"),
    ("https://about.twitter.com/products/tweetdeck", "TweetDeck"),
    ("https://www.hootsuite.com", "Hootsuite Inc."),
    ("https://buffer.com", "Buffer"),
]
_NAMES = ["dana_ito", "citylib", "sam_k", "northloopbikes", "mara_codes", "the_grocer", "kjell_h", "ada_lv",
          "riverside_fc", "bookclub_ldn", "tomasz_p", "ngozi_a", "fieldnotes", "helpdesk", "jun_ishikawa"]
_DOMAINS = ["example.com", "shop.example", "blog.example.org", "news.example.net", "events.example"]
_T0 = datetime(2019, 1, 1, tzinfo=timezone.utc)


def corpus_texts() -> list[str]:
    with open(REPO / "data" / "posts.jsonl", encoding="utf-8") as handle:
        return [json.loads(line)["text"] for line in handle if line.strip()]


def _escape(text: str) -> str:
    """full_text as the archive holds it: X escapes exactly &, < and >."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _tco(rng: random.Random) -> str:
    return "https://t.co/" + "".join(rng.choice("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
                                     for _ in range(10))


def _indices(text: str, part: str) -> list[str]:
    start = max(text.find(part), 0)
    return [str(start), str(start + len(part))]


def make_tweet(i: int, words: str, rng: random.Random) -> dict:
    """Tweet ``i`` of an archive, around ``words`` (the author's text, not yet escaped)."""
    tid = str(1_100_000_000_000_000_000 + i * 7919)
    when = _T0 + timedelta(seconds=i * 397 + rng.randrange(300))
    zone = "+0000" if rng.random() < 0.9 else rng.choice(["+0100", "-0500", "+0530"])
    created = when.strftime("%a %b %d %H:%M:%S ") + zone + when.strftime(" %Y")
    url, name = rng.choice(_CLIENTS)
    entities: dict = {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []}
    tweet: dict = {
        "edit_info": {"initial": {"editTweetIds": [tid], "editableUntil": (when + timedelta(hours=1)).strftime(
            "%Y-%m-%dT%H:%M:%S.000Z"), "editsRemaining": "5", "isEditEligible": rng.random() < 0.5}},
        "retweeted": False,
        "source": f'<a href="{url}" rel="nofollow">{name}</a>',
        "entities": entities,
    }
    text = words
    kind = rng.random()
    reply_to = None
    if kind < 0.08:                                   # a retweet: someone else's words
        who = rng.choice(_NAMES)
        text = f"RT @{who}: {words}"
        entities["user_mentions"].append({"name": who.replace("_", " ").title(), "screen_name": who,
                                          "indices": ["3", str(4 + len(who))], "id_str": str(10_000 + len(who)),
                                          "id": str(10_000 + len(who))})
    elif kind < 0.38:                                 # a reply, @handle first
        reply_to = rng.choice(_NAMES)
        text = f"@{reply_to} {words}"
        entities["user_mentions"].append({"name": reply_to.replace("_", " ").title(), "screen_name": reply_to,
                                          "indices": ["0", str(1 + len(reply_to))],
                                          "id_str": str(20_000 + len(reply_to)), "id": str(20_000 + len(reply_to))})
    if rng.random() < 0.2:                            # a shared link, as t.co in the text
        link, domain = _tco(rng), rng.choice(_DOMAINS)
        text = f"{text} {link}"
        entities["urls"].append({"url": link, "expanded_url": f"https://{domain}/p/{i:x}",
                                 "display_url": f"{domain}/p/{i:x}", "indices": _indices(text, link)})
    for tag in [w for w in words.split() if w.startswith("#") and len(w) > 1][:3]:
        entities["hashtags"].append({"text": tag[1:].rstrip(".,!?"), "indices": _indices(text, tag)})
    if rng.random() < 0.15:                           # a photo: a t.co link at the end, media entities
        link = _tco(rng)
        text = f"{text} {link}"
        media_id = str(1_200_000_000_000_000_000 + i)
        media = {"expanded_url": f"https://twitter.com/user/status/{tid}/photo/1", "indices": _indices(text, link),
                 "url": link, "media_url": f"http://pbs.twimg.com/media/F{i:09x}.jpg", "id_str": media_id,
                 "id": media_id, "media_url_https": f"https://pbs.twimg.com/media/F{i:09x}.jpg",
                 "sizes": {"thumb": {"w": "150", "h": "150", "resize": "crop"},
                           "large": {"w": "2048", "h": "1536", "resize": "fit"},
                           "medium": {"w": "1200", "h": "900", "resize": "fit"},
                           "small": {"w": "680", "h": "510", "resize": "fit"}},
                 "type": "photo", "display_url": f"pic.twitter.com/{link[-10:]}"}
        entities["media"] = [media]
        tweet["extended_entities"] = {"media": [dict(media)]}
    tweet.update({
        "display_text_range": ["0", str(len(text))],
        "favorite_count": str(rng.choice([0, 0, 0, 1, 2, 3, 5, 12, 40])),
        "id_str": tid,
        "truncated": False,
        "retweet_count": str(rng.choice([0, 0, 0, 1, 4])),
        "id": tid,
        "created_at": created,
        "favorited": False,
        "full_text": _escape(text),
        "lang": "en" if rng.random() < 0.93 else rng.choice(["und", "es", "de", "fr"]),
    })
    if reply_to is not None:
        parent = str(1_000_000_000_000_000_000 + i)
        tweet.update({"in_reply_to_status_id_str": parent, "in_reply_to_user_id": str(20_000 + len(reply_to)),
                      "in_reply_to_status_id": parent, "in_reply_to_screen_name": reply_to,
                      "in_reply_to_user_id_str": str(20_000 + len(reply_to))})
    return {"tweet": tweet}


def write_tweets_js(path: Path, tweets: int, seed: int = 11) -> None:
    """An X archive's data/tweets.js of ``tweets`` distinct tweets (the corpus cycled, each with its id token)."""
    texts = corpus_texts()
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.write("window.YTD.tweets.part0 = [")
        for i in range(tweets):
            item = make_tweet(i, f"{texts[i % len(texts)]} id{i:07x}", rng)
            out.write(("\n  " if i == 0 else ",\n  ")
                      + json.dumps(item, indent=2, separators=(",", " : "), ensure_ascii=False).replace("\n", "\n  "))
        out.write("\n]")


def write_posts_csv(path: Path, rows: int) -> None:
    """bench.scale's posts (make_input), written as CSV by pyarrow, as bench.scale does."""
    from bench.scale import make_input, write_csv

    parquet = path.with_suffix(".parquet")
    make_input(parquet, rows)
    write_csv(parquet, path)
    parquet.unlink()


def run_child(command: list[str], cwd: Path) -> dict:
    """Run ``command`` (stdout and stderr dropped); CPU seconds (user + sys), wall, peak RSS, exit code."""
    env = dict(os.environ, PYTHONPATH=str(cwd))
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    err = child.stderr.read().decode("utf-8", "replace")
    child.stderr.close()
    return {"returncode": os.waitstatus_to_exitcode(status), "cpu": usage.ru_utime + usage.ru_stime,
            "wall": wall, "rss_mb": usage.ru_maxrss / 1024, "stderr": err[-400:]}


def measure(trees: dict[str, Path], inputs: dict[str, tuple[Path, int]], model: Path, out_dir: Path,
            runs: int, variants: dict[str, list[str]]) -> list[dict]:
    """Every (input, variant, tree), ``runs`` times, the trees alternating within each round."""
    results = []
    detects = {name: _detects_languages(tree) for name, tree in trees.items()}
    for input_name, (path, posts) in inputs.items():
        for variant, extra in variants.items():
            for round_ in range(runs):
                for tree_name, tree in trees.items():
                    out = out_dir / f"{input_name}-{variant}-{tree_name}.csv"
                    # code from before language detection has no --no-lang: it never detects
                    flags = extra if detects[tree_name] else [f for f in extra if f != "--no-lang"]
                    command = [sys.executable, "-m", "smclass", "predict", str(path), "--model", str(model),
                               "--quiet", "--output", str(out)] + flags
                    r = run_child(command, tree)
                    r.update(input=input_name, variant=variant, tree=tree_name, round=round_ + 1, posts=posts)
                    print(f"[e2e] {input_name} {variant} {tree_name} run {round_ + 1}: "
                          f"{'ok' if r['returncode'] == 0 else 'exit ' + str(r['returncode'])} cpu {r['cpu']:.2f}s "
                          f"wall {r['wall']:.2f}s rss {r['rss_mb']:.0f} MB", file=sys.stderr, flush=True)
                    results.append(r)
    return results


def _detects_languages(tree: Path) -> bool:
    """Whether the smclass of ``tree`` has language detection (and so --no-lang)."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    shown = subprocess.run([sys.executable, "-m", "smclass", "predict", "--help"], cwd=tree, env=env,
                           capture_output=True, text=True).stdout
    return "--no-lang" in shown


def table(results: list[dict]) -> str:
    """Markdown: per (input, variant, tree) the median CPU s with its range, posts/s, wall, peak RSS."""
    lines = ["| input | options | code | CPU s, median (range) | posts/s (CPU) | wall s, median | peak RSS, max |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    keys = []
    for r in results:
        key = (r["input"], r["variant"], r["tree"])
        if key not in keys:
            keys.append(key)
    for key in keys:
        rs = [r for r in results if (r["input"], r["variant"], r["tree"]) == key]
        if any(r["returncode"] != 0 for r in rs):
            lines.append(f"| {key[0]} | {key[1]} | {key[2]} | failed | | | |")
            continue
        cpu = [r["cpu"] for r in rs]
        med = statistics.median(cpu)
        lines.append(f"| {key[0]} | {key[1]} | {key[2]} | {med:.1f} ({min(cpu):.1f}–{max(cpu):.1f}) | "
                     f"{rs[0]['posts'] / med:,.0f} | {statistics.median(r['wall'] for r in rs):.1f} | "
                     f"{max(r['rss_mb'] for r in rs):.0f} MB |")
    return "\n".join(lines)


def _write_in_child(args: list[str]) -> None:
    """Write an input in a process of its own: building a million posts takes this process past a
    gigabyte, and Linux reports a child's peak RSS as at least its parent's at the moment it started
    it (the peak survives exec), which made every measured run look a gigabyte large."""
    subprocess.run([sys.executable, "-m", "bench.e2e", *args], cwd=REPO, check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.e2e", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="posts in the CSV (0: no CSV)")
    parser.add_argument("--tweets", type=int, default=200_000, help="tweets in tweets.js (0: no tweets.js)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--old", type=Path, help="an older code tree to run as well (a git worktree)")
    parser.add_argument("--only", choices=("csv", "tweets"), help="measure one input only")
    parser.add_argument("--model", type=Path, help="a model (default: smclass train --cv 0 into the folder)")
    parser.add_argument("--keep", type=Path, help="write the inputs here and keep them (reused if present)")
    parser.add_argument("--write-tweets", type=Path, metavar="FILE", help="only write a tweets.js and stop")
    parser.add_argument("--write-csv", type=Path, metavar="FILE", help="only write the posts CSV and stop")
    parser.add_argument("--json", type=Path, help="also write every run as JSON here")
    args = parser.parse_args(argv)
    if args.write_tweets:
        write_tweets_js(args.write_tweets, args.tweets)
        print(f"wrote {args.tweets:,} tweets to {args.write_tweets}", file=sys.stderr)
    if args.write_csv:
        write_posts_csv(args.write_csv, args.rows)
    if args.write_tweets or args.write_csv:
        return 0
    with tempfile.TemporaryDirectory(prefix="smclass-e2e-") as tmp_name:
        folder = args.keep or Path(tmp_name)
        folder.mkdir(parents=True, exist_ok=True)
        model = args.model
        if model is None:
            model = folder / "m.joblib"
            if not model.is_file():
                subprocess.run([sys.executable, "-m", "smclass", "train", "--cv", "0", "--output", str(model),
                                "--quiet"], cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        inputs = {}
        if args.rows and args.only in (None, "csv"):
            csv_path = folder / f"posts-{args.rows}.csv"
            if not csv_path.is_file():
                _write_in_child(["--write-csv", str(csv_path), "--rows", str(args.rows)])
            inputs["posts.csv"] = (csv_path, args.rows)
        if args.tweets and args.only in (None, "tweets"):
            js_path = folder / f"tweets-{args.tweets}" / "tweets.js"
            js_path.parent.mkdir(exist_ok=True)
            if not js_path.is_file():
                _write_in_child(["--write-tweets", str(js_path), "--tweets", str(args.tweets)])
            inputs["tweets.js"] = (js_path, args.tweets)
        trees = {"this code": REPO}
        if args.old:
            trees = {"old": args.old.resolve(), "this code": REPO}
        variants = {"default": [], "--no-lang": ["--no-lang"]}
        results = measure(trees, inputs, model, folder, args.runs, variants)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(table(results))
    return 0 if all(r["returncode"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
