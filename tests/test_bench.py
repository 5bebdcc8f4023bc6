"""The benchmark (bench/) in its --tiny configuration, on a corpus and an eval folder written here."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# (text, label, split): 60 short posts, both labels, in both splits.
POSTS = [
    ("FLASH SALE: 40% off every running shoe until midnight. No code needed. shop.example.com/sale", "broadcast", "train"),
    ("New episode out now! We talk pricing with two founders. Listen: pod.example.com/ep42", "broadcast", "train"),
    ("Our spring collection just dropped 🌸 Free shipping over $50 this weekend only", "broadcast", "train"),
    ("We're hiring! Join our support team in Lisbon. Apply at jobs.example.com", "broadcast", "train"),
    ("Webinar Thursday 3pm: 5 ways to cut your cloud bill. Register here https://ex.co/web", "broadcast", "train"),
    ("Use code SPRING20 at checkout for 20% off. Ends Sunday!", "broadcast", "train"),
    ("Doors open at 7pm tonight. Tickets still available at the box office", "broadcast", "train"),
    ("Introducing the Trailfox X2: lighter, faster, greener. Pre-order today", "broadcast", "train"),
    ("Q3 results: revenue up 12% year on year. Full report on our investor site", "broadcast", "train"),
    ("Big news: we now deliver to all of Ireland! Order by 2pm for next-day delivery", "broadcast", "train"),
    ("Black Friday starts NOW. Up to 60% off sitewide 🛒 link in bio", "broadcast", "train"),
    ("Sign up for our newsletter and get a free ebook: ex.co/free", "broadcast", "train"),
    ("Last chance! Early-bird tickets for the conference close tomorrow", "broadcast", "train"),
    ("Our store on Main St reopens Monday after renovation. Come see the new look!", "broadcast", "train"),
    ("Read our latest blog post: how we cut packaging waste by half https://blog.example.com/waste", "broadcast", "train"),
    ("Giveaway time! Follow us and retweet to win a year of free coffee ☕", "broadcast", "train"),
    ("Mortgage rates dip for a third straight week https://news.example.com/rates", "broadcast", "train"),
    ("Join us live on Saturday at 10am for a free yoga class in the park", "broadcast", "train"),
    ("Version 2.4 is out: dark mode, faster sync and 30 bug fixes. Update now", "broadcast", "train"),
    ("Buy one get one free on all pastries this Friday only!", "broadcast", "train"),
    ("Subscribe to our channel for weekly recipes 👉 youtube.example.com/cook", "broadcast", "train"),
    ("Tickets for the summer tour go on sale Friday at 9am", "broadcast", "train"),
    ("Download our free guide to remote work: ex.co/guide", "broadcast", "train"),
    ("Limited edition mugs are back in stock. Grab yours before they're gone", "broadcast", "train"),
    ("@dana_rides so sorry about your bag! DM us your file reference and we'll sort it tonight", "conversational", "train"),
    ("@mikeyp_88 can you hold the reset button for 15 seconds and tell us if the light goes white?", "conversational", "train"),
    ("so jealous 😭", "conversational", "train"),
    ("congrats on the new job!! you deserve it", "conversational", "train"),
    ("haha same, I fell asleep halfway through", "conversational", "train"),
    ("@ana what time are you getting there?", "conversational", "train"),
    ("thanks so much, that fixed it!", "conversational", "train"),
    ("omg I love this, where did you get it?", "conversational", "train"),
    ("@sam_k we're really sorry to hear that. Which store was it?", "conversational", "train"),
    ("lol no way, did he actually say that", "conversational", "train"),
    ("Happy birthday Jess!! hope you have the best day", "conversational", "train"),
    ("agreed, the second season was way better", "conversational", "train"),
    ("@bea_lee thanks for the kind words, the team will be thrilled to hear it", "conversational", "train"),
    ("is anyone else's app crashing since the update?", "conversational", "train"),
    ("miss you guys, dinner next week?", "conversational", "train"),
    ("@tom we've passed this on to the kitchen, thanks for letting us know", "conversational", "train"),
    ("that view though 😍 enjoy the trip", "conversational", "train"),
    ("wait which one did you end up buying?", "conversational", "train"),
    ("ugh mondays. coffee first then we talk", "conversational", "train"),
    ("@lin_h glad you liked it! what should we bake next?", "conversational", "train"),
    ("good luck tomorrow, you've got this", "conversational", "train"),
    ("honestly same, I thought it was just me", "conversational", "train"),
    ("@rob sorry for the wait, your refund went out this morning", "conversational", "train"),
    ("ha! my cat does exactly the same thing", "conversational", "train"),
    ("Pre-order the new album today and get a signed poster: store.example.com", "broadcast", "test"),
    ("Free delivery on all orders this weekend. Shop now!", "broadcast", "test"),
    ("Our annual report is out. Read the highlights here https://ex.co/report", "broadcast", "test"),
    ("Registration for the 10k charity run is open. Sign up today", "broadcast", "test"),
    ("New in: linen shirts in six colours. Available online and in store", "broadcast", "test"),
    ("Save 30% on annual plans until Friday with code YEAR30", "broadcast", "test"),
    ("@kim_j thanks for flagging, we're looking into it now", "conversational", "test"),
    ("lol that's amazing, send me the video", "conversational", "test"),
    ("congrats you two!! so happy for you", "conversational", "test"),
    ("@pete can you DM us your order number so we can check?", "conversational", "test"),
    ("same here, the ending made me cry", "conversational", "test"),
    ("where are you guys sitting?", "conversational", "test"),
]

# A tiny stand-in for corporate_messaging (same columns, cp1252 bytes, one Exclude row, one duplicate).
CORPORATE_CSV = (
    "_unit_id,_golden,_unit_state,_trusted_judgments,_last_judgment_at,category,category:confidence,"
    "category_gold,id,screenname,text\r\n"
    "1,FALSE,finalized,3,2/18/2015 4:31,Information,1,,4.37E+17,Acme,Acme announces record results for 2014 http://t.co/x\r\n"
    "2,FALSE,finalized,3,2/18/2015 4:32,Action,1,,4.37E+17,Acme,Sign up for our investor webinar today http://t.co/y\r\n"
    "3,FALSE,finalized,3,2/18/2015 4:33,Dialogue,1,,4.37E+17,Acme,@jo_r Thank you for your kind words!\r\n"
    "4,FALSE,finalized,3,2/18/2015 4:34,Dialogue,1,,4.37E+17,Acme,@li_m Glad you enjoyed the caf\xe9 visit\r\n"
    "5,FALSE,finalized,3,2/18/2015 4:35,Exclude,1,,4.37E+17,Acme,Nous sommes fiers de notre \xe9quipe\r\n"
    "6,FALSE,finalized,3,2/18/2015 4:36,Information,1,,4.37E+17,Acme,Acme announces record results for 2014 http://t.co/x\r\n"
    "7,FALSE,finalized,3,2/18/2015 4:37,Action,1,,4.37E+17,Acme,Read our new sustainability report http://t.co/z\r\n"
).encode("cp1252")


def _write_corpus(path: Path) -> Path:
    rows = [{"id": f"t-{i:03d}", "text": text, "label": label, "platform": "x", "split": split}
            for i, (text, label, split) in enumerate(POSTS, start=1)]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _write_eval_dir(folder: Path) -> Path:
    corporate = folder / "corporate_messaging"
    corporate.mkdir(parents=True)
    (corporate / "Corporate-messaging-DFE.csv").write_bytes(CORPORATE_CSV)
    (corporate / "PROVENANCE.md").write_text("# Fake corporate messaging sample for the benchmark test\n", encoding="utf-8")
    return folder


def test_posts_constant_has_both_labels_in_both_splits():
    assert len(POSTS) == 60
    for split in ("train", "test"):
        assert {label for _, label, s in POSTS if s == split} == {"broadcast", "conversational"}


@pytest.mark.slow
def test_tiny_benchmark_writes_the_report(tmp_path):
    corpus = _write_corpus(tmp_path / "posts.jsonl")
    eval_dir = _write_eval_dir(tmp_path / "eval")
    output = tmp_path / "BENCHMARKS.md"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--tiny", "--corpus", str(corpus), "--eval-dir", str(eval_dir),
         "--output", str(output), "--skip", "fasttext", "--skip", "embeddings", "--quiet"],
        cwd=str(ROOT), capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert output.is_file()
    report = output.read_text(encoding="utf-8")
    for heading in ("# smclass benchmarks", "## Machine", "## Accuracy", "## Speed and memory", "### Training time",
                    "### Prediction throughput", "smclass predict", "### Model load time and size", "## Targets"):
        assert heading in report, heading
    assert "python -m bench --tiny" in report
    # the accuracy table has the external set and its mapping; the skipped contenders say so
    assert "| corporate_messaging |" in report or "corporate_messaging |" in report
    assert "1 Exclude rows dropped" in report
    assert "skipped (--skip)" in report
    # the one-million-row run is 2,000 rows here, and the output row count was checked
    assert "2,000 (OK)" in report
    # the headline speed section is there and says why it was not measured (fastText skipped)
    assert "### First sight on real posts (the headline speed figure)" in report
    assert "Not measured: needs both smclass and fastText." in report
    assert "First sight on real posts: >= 1.5x fastText" in report
    targets = [line for line in report.splitlines() if line.startswith("- **") and "—" in line]
    assert len(targets) >= 5
    assert all(("**MET**" in line or "**NOT MET**" in line or "**NOT MEASURED**" in line) for line in targets)
    assert sum("**MET**" in line or "**NOT MET**" in line for line in targets) >= 4


def test_missing_eval_dir_gives_a_skip_note(tmp_path):
    from bench.evalsets import load_eval_sets

    sets, notes = load_eval_sets(tmp_path / "nowhere")
    assert sets == []
    assert "not found: external sets skipped" in notes[0]


def test_fake_corporate_set_is_mapped_and_deduplicated(tmp_path):
    from bench.evalsets import load_eval_sets

    sets, notes = load_eval_sets(_write_eval_dir(tmp_path / "eval"))
    assert [s.name for s in sets] == ["corporate_messaging"]
    corporate = sets[0]
    assert len(corporate) == 5                               # 7 rows - 1 Exclude - 1 duplicate
    assert sorted(corporate.labels.tolist()).count("conversational") == 2
    assert any("café" in t for t in corporate.texts)         # read as cp1252
    assert any("sms_spam_collection: folder not found" in n for n in notes)


def test_unknown_skip_name_is_refused(tmp_path):
    done = subprocess.run([sys.executable, "-m", "bench", "--tiny", "--skip", "nosuch",
                           "--corpus", str(_write_corpus(tmp_path / "posts.jsonl")), "--output", str(tmp_path / "B.md")],
                          cwd=str(ROOT), capture_output=True, text=True, timeout=600)
    assert done.returncode != 0
    assert "unknown contender" in done.stderr


def test_real_posts_reads_every_source_it_finds(tmp_path):
    from bench.realposts import real_posts

    posts, counts = real_posts(_write_eval_dir(tmp_path / "eval"))
    assert set(counts) == {"corporate_messaging"} and counts["corporate_messaging"] == len(posts) > 0
    assert len(set(posts)) == len(posts) and all(p.strip() for p in posts)
    assert real_posts(tmp_path / "nowhere") == ([], {})


def test_first_sight_measures_both_in_fresh_processes(tmp_path, model_path):
    pytest.importorskip("fasttext")
    from bench.contenders import FastText
    from bench.firstsight import measure

    eval_dir = _write_eval_dir(tmp_path / "eval")
    train = [(t, label) for t, label, split in POSTS if split == "train"]
    model = FastText().fit([t for t, _ in train], [label for _, label in train])
    model.save_model(str(tmp_path / "ft.bin"))
    summary = measure(eval_dir, model_path, tmp_path / "ft.bin", runs=1, cwd=str(ROOT))
    for key in ("first_sight_x", "cached_x", "one_post_x", "smclass_first_s", "fasttext_s", "smclass_one_cached_us",
                "first_sight_cpu_x", "cached_cpu_x", "smclass_first_cpu_s", "fasttext_cpu_s"):
        assert summary[key]["median"] > 0 and summary[key]["min"] <= summary[key]["max"]
    assert summary["posts"]["median"] > 0


def test_saved_fasttext_model_is_still_there_for_first_sight(tmp_path):
    """The load-time step once deleted fastText's .bin, so the full run's first sight always said
    "models were not saved"; the file must stay until the run's temporary folder goes."""
    from bench.run import run_cli_and_load

    class Stub:
        name, short = "stub fastText", "fasttext"

        def save(self, model, folder):
            path = folder / "fasttext.bin"
            path.write_bytes(b"0" * 10)
            return [str(path)]

        def load(self, folder):
            return object()

    entry = {"contender": Stub(), "name": Stub.name, "short": Stub.short, "status": None, "model": object()}
    out = run_cli_and_load([entry], corpus=None, cfg={"repeats": 1, "tiny": True}, tmp=tmp_path, log=lambda m: None)
    assert (tmp_path / "model-fasttext" / "fasttext.bin").is_file()
    assert out["saved"]["fasttext"] == tmp_path / "model-fasttext" and entry["load_seconds"] >= 0


def test_spec_agreement_weights_the_sample_by_the_sets_own_mix(tmp_path):
    from bench.evalsets import load_eval_sets
    from bench.specagree import format_table, measure, text_key, weighted_macro_f1

    eval_dir = _write_eval_dir(tmp_path / "eval")
    corporate = load_eval_sets(eval_dir)[0][0]     # 3 broadcast, 2 conversational after dedup and Exclude
    assert list(corporate.labels).count("broadcast") == 3
    # readers label two broadcast posts and both conversational ones; one broadcast post read as conversational
    picks = [i for i, label in enumerate(corporate.labels) if label == "conversational"]
    picks += [i for i, label in enumerate(corporate.labels) if label == "broadcast"][:2]
    reader = {picks[0]: "conversational", picks[1]: "conversational", picks[2]: "broadcast", picks[3]: "conversational"}
    labels = tmp_path / "labels.jsonl"
    labels.write_text("".join(json.dumps({"set": "corporate_messaging", "index": i, "sha256_12": text_key(corporate.texts[i]),
                                          "label": reader[i]}) + "\n" for i in picks), encoding="utf-8")
    everything_conversational = lambda texts: ["conversational"] * len(texts)
    [row] = measure(eval_dir, labels, everything_conversational)
    assert row["n"] == 4 and row["sampled"] == {"broadcast": 2, "conversational": 2}
    assert row["population"] == {"broadcast": 3, "conversational": 2}
    assert row["reader_agreement"] == 0.75
    assert row["recall"]["broadcast"] == {"reader": 0.5, "model": 0.0}
    # each sampled broadcast post stands for 1.5 of the set's three
    truth = ["conversational", "conversational", "broadcast", "broadcast"]
    assert row["reader_macro_f1"] == weighted_macro_f1(truth, [reader[i] for i in picks], [1, 1, 1.5, 1.5])
    # conversational: tp 2, fp 1.5; broadcast: tp 1.5, fn 1.5
    assert abs(row["reader_macro_f1"] - (4 / (4 + 1.5) + 3 / (3 + 1.5)) / 2) < 1e-12
    assert abs(row["model_macro_f1"] - (4 / (4 + 3) + 0.0) / 2) < 1e-12
    assert "| corporate_messaging | 2 / 2 | 75.0% |" in format_table([row])


def test_spec_agreement_refuses_labels_that_point_at_another_post(tmp_path):
    from bench.specagree import measure

    eval_dir = _write_eval_dir(tmp_path / "eval")
    labels = tmp_path / "labels.jsonl"
    labels.write_text(json.dumps({"set": "corporate_messaging", "index": 0, "sha256_12": "000000000000",
                                  "label": "broadcast"}) + "\n", encoding="utf-8")
    with pytest.raises(SystemExit, match=r"corporate_messaging\[0\] is not the one that was labelled"):
        measure(eval_dir, labels, lambda texts: ["broadcast"] * len(texts))


def test_shipped_spec_labels_point_at_posts_and_carry_no_text():
    from bench.specagree import LABELS_FILE, read_labels

    rows = read_labels(LABELS_FILE)
    assert len(rows) >= 1000
    assert {r["set"] for r in rows} >= {"corporate_messaging", "sms_spam_collection", "youtube_spam_collection"}
    assert all(set(r) <= {"set", "index", "sha256_12", "label", "rule", "unsure", "reader"} for r in rows)
    assert all(len(r["rule"]) <= 60 for r in rows)


def test_spec_agreement_runs_from_the_command_line(tmp_path):
    from bench.evalsets import load_eval_sets
    from bench.specagree import text_key

    eval_dir = _write_eval_dir(tmp_path / "eval")
    corporate = load_eval_sets(eval_dir)[0][0]
    labels = tmp_path / "labels.jsonl"
    labels.write_text("".join(json.dumps({"set": "corporate_messaging", "index": i, "sha256_12": text_key(t),
                                          "label": str(corporate.labels[i])}) + "\n"
                              for i, t in enumerate(corporate.texts)), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "SMCLASS_MODEL"}
    done = subprocess.run([sys.executable, "-m", "bench.specagree", str(eval_dir), "--labels", str(labels)],
                          cwd=tmp_path, capture_output=True, text=True,
                          env={**env, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert "| corporate_messaging | 3 / 2 | 100.0% | 1.000 |" in done.stdout
    missing = subprocess.run([sys.executable, "-m", "bench.specagree", str(tmp_path / "nowhere"), "--labels", str(labels)],
                             cwd=ROOT, capture_output=True, text=True)
    assert missing.returncode == 1 and "no labelled set" in missing.stderr
    no_model = subprocess.run([sys.executable, "-m", "bench.specagree", str(eval_dir), "--labels", str(labels),
                               "--model", str(tmp_path / "none.joblib")], cwd=ROOT, capture_output=True, text=True)
    assert no_model.returncode == 1 and "Traceback" not in no_model.stderr and "none.joblib" in no_model.stderr


@pytest.mark.slow
def test_vocab_transfer_hides_words_from_the_training_folds_only(tmp_path):
    from bench import vocab_transfer as vt

    rows = [{"id": f"{'abcdefg'[i % 7]}-{i:03d}", "text": text, "label": label, "platform": "x", "split": split}
            for i, (text, label, split) in enumerate(POSTS + POSTS)]      # each post twice, in two slices
    corpus = tmp_path / "posts.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    post_words, labels, slices = vt._folds(corpus)
    assert len(post_words) == 2 * sum(split != "test" for _, _, split in POSTS)     # the test split is never read
    hidden = vt.hidden_words(post_words, 0.5, draw=1)
    assert hidden and hidden <= set(vt.content_words(post_words))
    assert vt.hidden_words(post_words, 0.5, draw=1) == hidden and vt.hidden_words(post_words, 0.0, 1) == set()
    train, test = list(range(0, len(post_words), 2)), list(range(1, len(post_words), 2))
    seen, held = vt.fold_words(post_words, train, test, hidden)
    assert not hidden & {w for ws in seen for w in ws}
    assert held == [post_words[i] for i in test] and hidden & {w for ws in held for w in ws}

    none = vt.run(post_words, labels, slices, {}, 0.0, 0)
    half = vt.run(post_words, labels, slices, {}, 0.5, 1)
    assert 0.0 <= none["macro_f1"] <= 1.0
    assert half["unseen_token_share"] > none["unseen_token_share"]

    output = tmp_path / "vocab.json"
    done = subprocess.run([sys.executable, "-m", "bench.vocab_transfer", "--corpus", str(corpus), "--only",
                           "default (words and pairs)", "--output", str(output)],
                          cwd=str(ROOT), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| default (words and pairs) |" in done.stdout and "50% hidden" in done.stdout
    assert set(json.loads(output.read_text())["rows"][0]["levels"]) == {"0.0", "0.25", "0.5"}


def _write_dev_set(folder: Path) -> tuple[Path, Path]:
    """A four-tweet file in the Kaggle layout and our labels pointing at it by id and hash."""
    from bench.devset import text_key

    folder.mkdir(parents=True, exist_ok=True)
    tweets = [("48", "Big sale today only, 30% off everything http://t.co/abc"), ("52", "@sam haha same, see you at 8"),
              ("60", "Flood warning for the valley until 6pm"), ("61", "had the best lunch with my sister today")]
    path = folder / "train.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "keyword", "location", "text", "target"])
        for number, text in tweets:
            writer.writerow([number, "", "", text, "1"])
    labels = folder / "labels.jsonl"
    mine = ["broadcast", "conversational", "broadcast", "conversational"]
    seconds = [{"reader": "reader B", "label": "broadcast"}, None, {"reader": "reader B", "label": "conversational"}, None]
    labels.write_text("".join(json.dumps({"id": int(n), "sha256_12": text_key(t), "label": lab, "reader": "reader A",
                                          **({"second": s} if s else {})}) + "\n"
                              for (n, t), lab, s in zip(tweets, mine, seconds)), encoding="utf-8")
    return path, labels


def test_dev_set_scores_a_model_and_the_readers_agreement(tmp_path):
    from bench.devset import agreement, load, score

    tweets, labels = _write_dev_set(tmp_path)
    texts, truth, rows = load(tweets, labels)
    assert texts[1] == "@sam haha same, see you at 8" and list(truth[:2]) == ["broadcast", "conversational"]
    # two double-read posts, one agreed
    assert agreement(rows)["double_read"] == 2 and agreement(rows)["agree"] == 0.5
    result = score(truth, [0.9, 0.2, 0.4, 0.1])          # the flood warning missed
    assert result["recall_broadcast"] == 0.5 and result["recall_conversational"] == 1.0
    assert abs(result["macro_f1"] - (2 / 3 + 0.8) / 2) < 1e-12


def test_dev_set_refuses_labels_that_point_at_another_tweet(tmp_path):
    from bench.devset import load

    tweets, labels = _write_dev_set(tmp_path)
    rows = labels.read_text(encoding="utf-8").splitlines()
    labels.write_text("\n".join([rows[0].replace('"id": 48', '"id": 52')] + rows[1:]) + "\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="id 52 is not the one that was labelled"):
        load(tweets, labels)


def test_shipped_dev_labels_point_at_tweets_and_carry_no_text():
    from bench.devset import LABELS_FILE, agreement, read_labels

    rows = read_labels(LABELS_FILE)
    assert len(rows) == 900 and len({r["id"] for r in rows}) == 900
    assert all(set(r) <= {"id", "sha256_12", "label", "rule", "unsure", "reader", "second"} for r in rows)
    assert all(len(r["rule"]) <= 60 for r in rows)
    assert agreement(rows)["double_read"] == 180


def test_dev_set_runs_from_the_command_line(tmp_path):
    tweets, labels = _write_dev_set(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "SMCLASS_MODEL"}
    done = subprocess.run([sys.executable, "-m", "bench.devset", str(tweets), "--labels", str(labels)],
                          cwd=tmp_path, capture_output=True, text=True, env={**env, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert "| model |" in done.stdout and "2 read twice: the readers agree on 50.0%" in done.stdout
    missing = subprocess.run([sys.executable, "-m", "bench.devset", str(tmp_path / "nowhere.csv"), "--labels", str(labels)],
                             cwd=ROOT, capture_output=True, text=True)
    assert missing.returncode == 1 and "cannot read the tweets file" in missing.stderr
    assert "Traceback" not in missing.stderr
