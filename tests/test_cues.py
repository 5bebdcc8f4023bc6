"""The cue audit counts surface cues per label and flags the ones that sort the labels (issue #10)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from smclass import cues


@pytest.mark.parametrize(
    "cue, text, expected",
    [
        ("link", "lunch with the gang pic.twitter.com/Ab12Cd", True),
        ("link", "see you at kettlebrew.example/menu tonight", True),
        ("link", "meet at 5. ok?", False),
        ("link as last token", "first swim of the year t.co/Xk29dQp", True),
        ("link as last token", "https://shop.example/sale is live now", False),
        ("link after a full stop", "Beach day with the kids. https://t.co/Xk29dQp", True),
        ("link after a full stop", "Beach day with the kids https://t.co/Xk29dQp", False),
        ("link after a full stop", "back soon. ok? pic.twitter.com/Ab12Cd", False),
        ("link on a line of its own", "Beach day\n  pic.twitter.com/Ab12Cd", True),
        ("link on a line of its own", "one\ntwo pic.twitter.com/Ab12Cd", False),
        ("arrow before a link", "shop now 👉 https://shop.example", True),
        ("arrow before a link", "photos ➡️ instagr.am/p/Ab12Cd/", True),
        ("arrow before a link", "photos: instagr.am/p/Ab12Cd/", False),
        ("hashtag after a full stop or line break", "so proud of her. #graduation", True),
        ("hashtag after a full stop or line break", "so proud of her\n\n#graduation", True),
        ("hashtag after a full stop or line break", "who's coming? #graduation", False),
        ("hashtag after a full stop or line break", "issue#4 fixed. ok", False),
        ('opens with "RT @"', "RT @kez_saves: cleared my overdraft!!", True),
        ('opens with "RT @"', "so proud RT @kez_saves: cleared my overdraft!!", False),
        ("leading @mention", "  @sam yes it's the blue one", True),
        ("leading @mention", "thanks @sam", False),
        ("any @mention", "thanks @sam", True),
        ("any @mention", "mail me at jo@mail.example", False),
        ("hashtag", "sunset again #nofilter", True),
        ("hashtag", "we're #1 in town", True),
        ("hashtag", "issue#4 fixed", False),
        ("price", "only £12.99 today", True),
        ("price", "it was 500 naira lol", True),
        ("percentage", "30% off everything", True),
        ("discount code", "use code SPRING20 at checkout", True),
        ("ALL-CAPS word", "SO proud of you", False),
        ("ALL-CAPS word", "OMG you did it", True),
        ("emoji", "love it 😍", True),
        ("emoji", "love it ðŸ˜‚", True),
        ("first-person singular", "I can't wait", True),
        ("second person", "hope u r ok", True),
        ("line breaks", "one\ntwo", True),
        ('"RT"/"via @"', "RT @newsdesk: storm warning tonight", True),
        ('"RT"/"via @"', "great read via @kim", True),
        ("length < 60", "short", True),
    ],
)
def test_each_cue_finds_what_it_names(cue, text, expected):
    assert cues.CUES[cue](text) is expected


TEXTS = ["sale now https://a.example", "new drop shop.example", "@jo ha yes", "@ki same", "lol ok"]
LABELS = ["broadcast", "broadcast", "conversational", "conversational", "conversational"]


def test_audit_counts_shares_lean_and_errors():
    rows = {r["cue"]: r for r in cues.audit(TEXTS, LABELS, predicted=LABELS[:4] + ["broadcast"])}
    link = rows["link"]
    assert (link["broadcast"], link["conversational"], link["leans to"], link["lean"]) == (2, 0, "broadcast", 1.0)
    assert link["share of broadcast"] == 1.0 and link["share of conversational"] == 0.0
    assert link["error with"] == 0.0 and link["error without"] == pytest.approx(1 / 3)
    assert rows["leading @mention"]["conversational"] == 2


def test_over_limit_names_leaning_cues_but_not_the_decisive_ones():
    texts = ["20% off https://a.example", "10% off https://b.example", "ok", "ok then 5%"]
    labels = ["broadcast", "broadcast", "conversational", "broadcast"]
    names = {r["cue"] for r in cues.over_limit(cues.audit(texts, labels))}
    assert "link" in names and "percentage" not in names


def test_cli_prints_the_table_and_the_leaning_cues(tmp_path):
    import json

    path = tmp_path / "posts.jsonl"
    rows = [{"id": f"a-{i:04d}", "text": t, "label": l} for i, (t, l) in enumerate(zip(TEXTS, LABELS))]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "smclass.corpus", "--cues", str(path), "--no-errors"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "| link | 2 | 100% | 0 | 0% | broadcast | 100% |" in done.stdout
    assert "LEANS 'link': 100% of its 2 posts are broadcast" in done.stdout
