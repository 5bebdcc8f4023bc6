"""The second annotation: kappa is computed right and the record agrees with the corpus (issue #10)."""

import json

import pytest

from smclass import agreement

from conftest import CORPUS


def test_kappa_of_known_tables():
    assert agreement.kappa(["broadcast", "conversational"] * 5, ["broadcast", "conversational"] * 5) == 1.0
    # 20 posts, raters agree on 15: p_o = .75, p_e = .5 -> kappa .5
    first = ["broadcast"] * 10 + ["conversational"] * 10
    second = ["broadcast"] * 8 + ["conversational"] * 2 + ["conversational"] * 7 + ["broadcast"] * 3
    assert agreement.kappa(first, second) == pytest.approx(0.5)


CORPUS_ROWS = [
    {"id": "a-1", "label": "broadcast", "platform": "x", "hard": True},
    {"id": "a-2", "label": "conversational", "platform": "sms", "hard": False},
]


def test_problems_names_unsettled_and_missing_posts():
    rows = [{"id": "a-2", "first_label": "conversational", "second_label": "broadcast", "second_rule": 0}]
    found = " | ".join(agreement.problems(CORPUS_ROWS, rows))
    assert "a-2: the annotators differ but no settled_label is recorded" in found
    assert "1 hard posts were not read twice" in found


def test_a_settled_record_is_clean_and_tabled():
    rows = [
        {"id": "a-1", "first_label": "broadcast", "second_label": "broadcast", "second_rule": 0},
        {"id": "a-2", "first_label": "conversational", "second_label": "broadcast", "second_rule": 6,
         "settled_label": "conversational", "settled_by": 5, "why": "life news"},
    ]
    assert agreement.problems(CORPUS_ROWS, rows) == []
    text = agreement.table(CORPUS_ROWS, rows)
    assert "| **all** | 2 | 50.0% |" in text and "the first label stood in 1 and was changed in 0" in text


def test_the_shipped_second_annotation_covers_every_hard_post_and_matches_the_datacard():
    second = CORPUS.parent / "second_annotation.jsonl"
    records = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    rows = [json.loads(line) for line in second.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 1500
    assert agreement.problems(records, rows) == []
    card = (CORPUS.parent / "DATACARD.md").read_text(encoding="utf-8")
    start = card.index("<!-- agreement:start -->\n") + len("<!-- agreement:start -->\n")
    assert card[start : card.index("<!-- agreement:end -->")] == agreement.table(records, rows)
