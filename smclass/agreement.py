"""Agreement between the corpus's two annotations: Cohen's kappa, overall and per platform.

A label written by one person is one reading of the spec. A second reader who
labels the same posts from the guide alone, without seeing the first label,
shows how far the labels can be trusted and where the guide is unclear. The
record is ``data/second_annotation.jsonl``: one line per post read twice, with
both labels and, where they differed, the settled label and the rule that
settled it.
"""

from __future__ import annotations

import collections

LABELS = ("broadcast", "conversational")
FIELDS = ("id", "first_label", "second_label", "second_rule", "settled_label", "settled_by", "why")


def kappa(first: list[str], second: list[str]) -> float:
    """Cohen's kappa for two raters over the two labels (1 = perfect, 0 = chance)."""
    n = len(first)
    if n == 0:
        return float("nan")
    observed = sum(a == b for a, b in zip(first, second)) / n
    expected = sum((first.count(label) / n) * (second.count(label) / n) for label in LABELS)
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)


def problems(records: list[dict], rows: list[dict]) -> list[str]:
    """What is wrong with a second-annotation file, given the corpus it annotates."""
    by_id = {r["id"]: r for r in records}
    found = []
    seen = collections.Counter(row.get("id") for row in rows)
    found += [f"{i}: annotated {n} times" for i, n in seen.items() if n > 1]
    for row in rows:
        rec = by_id.get(row.get("id"))
        if rec is None:
            found.append(f"{row.get('id')}: not in the corpus")
            continue
        if row.get("second_label") not in LABELS or row.get("first_label") not in LABELS:
            found.append(f"{row['id']}: both labels must be one of {LABELS}")
            continue
        differ = row["first_label"] != row["second_label"]
        if differ and row.get("settled_label") not in LABELS:
            found.append(f"{row['id']}: the annotators differ but no settled_label is recorded")
        if differ and not (isinstance(row.get("settled_by"), int) and 1 <= row["settled_by"] <= 6 and row.get("why")):
            found.append(f"{row['id']}: a settled disagreement names the rule (1-6) and why")
        final = row.get("settled_label") if differ else row["first_label"]
        if final != rec["label"]:
            found.append(f"{row['id']}: the corpus says {rec['label']!r} but the annotation settled on {final!r}")
    missing = [r["id"] for r in records if r.get("hard") and r["id"] not in seen]
    if missing:
        found.append(f"{len(missing)} hard posts were not read twice (first: {missing[:5]})")
    return found


def table(records: list[dict], rows: list[dict]) -> str:
    """Kappa and raw agreement overall and per platform, as Markdown."""
    platform = {r["id"]: r["platform"] for r in records}
    groups: dict[str, list[dict]] = collections.defaultdict(list)
    for row in rows:
        groups[platform[row["id"]]].append(row)

    def line(name: str, part: list[dict]) -> str:
        first = [r["first_label"] for r in part]
        second = [r["second_label"] for r in part]
        agree = sum(a == b for a, b in zip(first, second))
        return f"| {name} | {len(part)} | {agree / len(part):.1%} | {kappa(first, second):.3f} |"

    lines = ["| posts read twice | posts | raw agreement | Cohen's kappa |", "|---|---|---|---|", line("**all**", rows)]
    lines += [line(name, groups[name]) for name in sorted(groups)]
    hard = [row for row in rows if row["id"] in {r["id"] for r in records if r.get("hard")}]
    if hard:
        lines.append(line("hard posts only", hard))
    settled = collections.Counter(row["settled_by"] for row in rows if row["first_label"] != row["second_label"])
    flipped = sum(1 for row in rows if row["first_label"] != row["second_label"] and row["settled_label"] != row["first_label"])
    disagreements = sum(settled.values())
    lines.append("")
    lines.append(
        f"{disagreements} disagreements, each settled against the spec: the first label stood in "
        f"{disagreements - flipped} and was changed in {flipped}. Settled by rule: "
        + ", ".join(f"{rule}: {n}" for rule, n in sorted(settled.items())) + "."
    )
    return "\n".join(lines) + "\n"
