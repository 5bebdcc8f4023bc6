"""Quality checks for the labelled corpus: schema, balance and near-duplicates.

The corpus is written by hand, so these checks guard what a careless edit could
break: an unknown label, a duplicate id, two posts that are really one, or an
opening phrase reused so often that the model learns the phrase, not the label.
Run it on one or more JSONL files: ``python -m smclass.corpus data/posts.jsonl``;
``--datacard FILE`` prints the count tables of the data card, ``--cues FILE``
the cue audit (``--no-errors`` for counts only, without fitting models), and
``--agreement CORPUS SECOND`` the two annotations' kappa, and
``--merge OUT PART...`` merges part files and assigns the fixed test split.
"""

from __future__ import annotations

import collections
import json
import re
import sys
from pathlib import Path

LABELS = ("broadcast", "conversational")
PLATFORMS = (
    "x", "linkedin", "facebook", "instagram", "mastodon", "reddit", "youtube",
    "tiktok", "sms", "whatsapp", "forum", "email-newsletter",
)
AUTHORS = (
    "brand", "small_business", "person", "creator", "nonprofit", "public_body",
    "media", "recruiter", "spammer",
)
TOPICS = frozenset("""
    airlines automotive b2b_software banking beauty beer_wine books coffee consumer_tech crypto
    diy_crafts education environment events fashion film_tv finance fitness food gaming home_garden
    hotels insurance jobs_careers local_services music nonprofit_causes parenting pets pharma_health
    photography politics real_estate restaurants retail science sports telecom travel utilities_energy
""".split())
KINDS = {
    "broadcast": frozenset({
        "promotion", "announcement", "event_promo", "link_share", "job_ad", "contest", "spam",
        "self_promo", "engagement_bait", "newsletter", "appeal", "public_notice",
        "content", "automated", "activity_report",
    }),
    "conversational": frozenset({
        "customer_care", "reply", "personal", "reaction", "question", "thanks", "congrats",
        "community", "advice", "discussion",
    }),
}
REQUIRED_FIELDS = ("id", "text", "label", "platform", "author", "topic", "kind", "hard", "rule")
JACCARD_LIMIT = 0.7
OPENING_WORDS = 5
OPENING_LIMIT = 5

_WORD = re.compile(r"[\w']+")


def read_jsonl(path) -> list[dict]:
    """Read a JSONL file, naming the line of the first malformed record."""
    records = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}, line {number}: not valid JSON ({exc.msg}).") from None
    return records


def schema_problems(records: list[dict]) -> list[str]:
    """Every record has the fields, types and values the corpus promises."""
    problems = []
    for rec in records:
        where = rec.get("id", "?")
        for field in REQUIRED_FIELDS:
            if field not in rec:
                problems.append(f"{where}: missing field {field!r}")
        if not isinstance(rec.get("text"), str) or not rec.get("text", "").strip():
            problems.append(f"{where}: text is empty or not a string")
        if rec.get("label") not in LABELS:
            problems.append(f"{where}: label {rec.get('label')!r} is not one of {LABELS}")
        if rec.get("platform") not in PLATFORMS:
            problems.append(f"{where}: platform {rec.get('platform')!r} is unknown")
        if rec.get("author") not in AUTHORS:
            problems.append(f"{where}: author {rec.get('author')!r} is unknown")
        if rec.get("topic") not in TOPICS:
            problems.append(f"{where}: topic {rec.get('topic')!r} is unknown")
        if rec.get("label") in KINDS and rec.get("kind") not in KINDS[rec["label"]]:
            problems.append(f"{where}: kind {rec.get('kind')!r} does not fit label {rec.get('label')!r}")
        if not isinstance(rec.get("hard"), bool):
            problems.append(f"{where}: hard must be true or false")
        rule = rec.get("rule")
        if not (isinstance(rule, int) and not isinstance(rule, bool) and 0 <= rule <= 6):
            problems.append(f"{where}: rule must be a whole number from 0 to 6")
        elif isinstance(rec.get("hard"), bool) and rec["hard"] != (rule > 0):
            problems.append(f"{where}: hard posts name the rule that decided them (1-6), other posts rule 0")
        if "split" in rec and rec["split"] not in ("train", "test"):
            problems.append(f"{where}: split {rec['split']!r} is not train or test")
    counts = collections.Counter(rec.get("id") for rec in records)
    problems += [f"{i}: id used {n} times" for i, n in counts.items() if n > 1]
    return problems


def _shingles(text: str) -> set[str]:
    folded = " ".join(text.lower().split())
    if len(folded) < 5:
        return {folded}
    return {folded[i : i + 5] for i in range(len(folded) - 4)}


def near_duplicate_pairs(texts: list[str], limit: float = JACCARD_LIMIT) -> list[tuple[int, int, float]]:
    """Pairs of texts whose character 5-gram Jaccard similarity is at least ``limit``.

    Exact, through prefix filtering: order 5-grams from rarest to commonest; two
    sets with Jaccard >= t must share one of the first |A| - ceil(t|A|) + 1
    5-grams of each, so only pairs that do are scored, and every pair scored
    gets its exact Jaccard.
    """
    import math

    sets = [_shingles(t) for t in texts]
    frequency = collections.Counter(g for s in sets for g in s)
    rank = {g: i for i, (g, _) in enumerate(sorted(frequency.items(), key=lambda kv: (kv[1], kv[0])))}
    index: dict[int, list[int]] = collections.defaultdict(list)
    candidates: set[tuple[int, int]] = set()
    for doc, grams in enumerate(sets):
        ordered = sorted(rank[g] for g in grams)
        prefix = ordered[: len(ordered) - math.ceil(limit * len(ordered)) + 1]
        size = len(grams)
        for g in prefix:
            for other in index[g]:
                if min(size, len(sets[other])) >= limit * max(size, len(sets[other])):
                    candidates.add((other, doc))
            index[g].append(doc)
    pairs = []
    for a, b in candidates:
        inter = len(sets[a] & sets[b])
        score = inter / (len(sets[a]) + len(sets[b]) - inter)
        if score >= limit:
            pairs.append((a, b, score))
    return sorted(pairs, key=lambda t: (-t[2], t[0], t[1]))


def opening(text: str, words: int = OPENING_WORDS) -> str | None:
    """The first ``words`` words, lower-cased; None for shorter posts."""
    tokens = _WORD.findall(text.lower())
    return " ".join(tokens[:words]) if len(tokens) >= words else None


def overused_openings(texts: list[str], limit: int = OPENING_LIMIT) -> dict[str, int]:
    """Openings of five words that more than ``limit`` posts share."""
    counts = collections.Counter(o for o in map(opening, texts) if o)
    return {o: n for o, n in counts.items() if n > limit}


def assign_splits(records: list[dict], test_share: float = 0.2) -> None:
    """Give every record without a ``split`` one, keeping each label x platform group near 20 % test.

    Posts that already have a split keep it, so adding posts never moves an
    existing post between train and test. New posts fill their group's test
    quota first, in the order of a hash of their id (deterministic, and
    unrelated to content).
    """
    import hashlib

    groups = collections.defaultdict(list)
    for rec in records:
        groups[(rec["label"], rec["platform"])].append(rec)
    for members in groups.values():
        target = round(len(members) * test_share)
        have = sum(rec.get("split") == "test" for rec in members)
        new = [rec for rec in members if rec.get("split") not in ("train", "test")]
        new.sort(key=lambda r: hashlib.sha256(r["id"].encode()).hexdigest())
        for rec in new:
            rec["split"] = "test" if have < target else "train"
            have += rec["split"] == "test"


def merge(paths: list[str], output: str) -> int:
    """Merge files of posts into one corpus file, sorted by id, with splits for new posts.

    Posts in the inputs that carry a split keep it (pass the current corpus as
    one of the inputs when adding posts to it).
    """
    records = [rec for path in paths for rec in read_jsonl(path)]
    assign_splits(records)
    records.sort(key=lambda r: r["id"])
    fields = ("id", "text", "label", "platform", "author", "topic", "kind", "hard", "rule", "split")
    with open(output, "w", encoding="utf-8") as handle:
        for rec in records:
            handle.write(json.dumps({f: rec.get(f) for f in fields}, ensure_ascii=False) + "\n")
    return len(records)


def _table(rows: list[list], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def datacard_tables(records: list[dict]) -> str:
    """The count tables of data/DATACARD.md, computed from the corpus itself."""
    out = []
    for field in ("platform", "author"):
        counts = collections.Counter((r[field], r["label"], r["split"]) for r in records)
        rows = []
        for value in sorted({r[field] for r in records}):
            cells = [counts[(value, label, split)] for label in LABELS for split in ("train", "test")]
            total = sum(cells)
            share = (cells[0] + cells[1]) / total
            rows.append([value, *cells, total, f"{share:.0%}"])
        totals = [sum(row[i] for row in rows) for i in range(1, 6)]
        rows.append(["**all**", *totals, f"{(totals[0] + totals[1]) / totals[4]:.0%}"])
        header = [field, "broadcast train", "broadcast test", "conversational train", "conversational test", "total", "broadcast share"]
        out.append(f"### By label x {field} x split\n\n" + _table(rows, header))
    kinds = collections.Counter((r["kind"], r["label"]) for r in records)
    rows = [[kind, label, n] for (kind, label), n in sorted(kinds.items(), key=lambda kv: (kv[0][1], -kv[1]))]
    out.append("### By kind\n\n" + _table(rows, ["kind", "label", "posts"]))
    hard = collections.Counter((r["rule"], r["label"]) for r in records if r["hard"])
    rows = [[rule, hard[(rule, "broadcast")], hard[(rule, "conversational")]] for rule in range(1, 7)]
    for label in LABELS:
        n = sum(r["label"] == label for r in records)
        rows.append([f"hard share of {label}", f"{sum(r['hard'] for r in records if r['label'] == label) / n:.0%}", ""])
    out.append("### Hard posts by deciding rule\n\n" + _table(rows, ["rule", "broadcast", "conversational"]))
    topics = collections.Counter(r["topic"] for r in records)
    out.append("### By topic\n\n" + ", ".join(f"{t} {n}" for t, n in sorted(topics.items())))
    lengths = sorted(len(r["text"]) for r in records)
    words = sorted(len(r["text"].split()) for r in records)
    out.append(
        "### Lengths\n\n"
        f"Characters: min {lengths[0]}, median {lengths[len(lengths) // 2]}, max {lengths[-1]}; "
        f"{sum(n > 600 for n in lengths)} posts over 600 characters, {sum(n > 1000 for n in lengths)} over 1,000. "
        f"Words: min {words[0]}, median {words[len(words) // 2]}, max {words[-1]}."
    )
    return f"{len(records)} posts.\n\n" + "\n\n".join(out) + "\n"


USAGE = """usage: python -m smclass.corpus FILE.jsonl [FILE.jsonl ...]     check schema, near-duplicates, openings
       python -m smclass.corpus --datacard FILE                   the data card's count tables
       python -m smclass.corpus --cues FILE [--no-errors]         the cue audit
       python -m smclass.corpus --agreement CORPUS SECOND         the two annotations' agreement
       python -m smclass.corpus --merge OUT PART [PART ...]       merge parts, assign the test split"""


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except FileNotFoundError as exc:
        print(f"error: no such file: {exc.filename}", file=sys.stderr)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
    return 1


def _main(argv: list[str] | None = None) -> int:
    paths = argv if argv is not None else sys.argv[1:]
    if paths[:1] in (["-h"], ["--help"]):
        print(USAGE)
        return 0
    if any(p.startswith("-") and p not in ("--no-errors",) for p in paths[1:]) or (
            paths[:1] and paths[0].startswith("-") and paths[0] not in ("--datacard", "--cues", "--agreement", "--merge")):
        print(f"unknown option or wrong arguments: {' '.join(paths)}\n{USAGE}", file=sys.stderr)
        return 2
    if paths[:1] == ["--datacard"] and len(paths) == 2:
        print(datacard_tables(read_jsonl(paths[1])), end="")
        return 0
    if paths[:1] == ["--cues"] and len(paths) in (2, 3):
        from . import cues

        errors = "--no-errors" not in paths
        file = [p for p in paths[1:] if p != "--no-errors"][0]
        records = read_jsonl(file)
        print(cues.report(records, errors=errors, log=lambda m: print(m, file=sys.stderr)), end="")
        leaning = cues.over_limit(cues.audit([r["text"] for r in records], [r["label"] for r in records]))
        for row in leaning:
            print(f"LEANS {row['cue']!r}: {row['lean']:.0%} of its {row['posts']} posts are {row['leans to']}")
        return 0
    if paths[:1] == ["--agreement"] and len(paths) == 3:
        from . import agreement

        records, rows = read_jsonl(paths[1]), read_jsonl(paths[2])
        print(agreement.table(records, rows), end="")
        found = agreement.problems(records, rows)
        for line in found:
            print("PROBLEM", line)
        return 1 if found else 0
    if paths[:1] == ["--merge"] and len(paths) >= 3:
        print(f"wrote {merge(paths[2:], paths[1])} posts to {paths[1]}")
        return 0
    if not paths or paths[0].startswith("-"):
        print(USAGE, file=sys.stderr)
        return 2
    records = []
    for path in paths:
        records += read_jsonl(path)
    texts = [r.get("text") or "" for r in records]
    problems = schema_problems(records)
    for a, b, score in near_duplicate_pairs(texts):
        problems.append(
            f"near-duplicates ({score:.2f}): {records[a].get('id')} ~ {records[b].get('id')}: "
            f"{texts[a][:60]!r} ~ {texts[b][:60]!r}"
        )
    for phrase, n in overused_openings(texts).items():
        ids = [r.get("id") for r, t in zip(records, texts) if opening(t) == phrase]
        problems.append(f"opening {phrase!r} used by {n} posts (at most {OPENING_LIMIT}): {ids}")
    labels = collections.Counter(r.get("label") for r in records)
    hard = collections.Counter(r.get("label") for r in records if r.get("hard"))
    print(f"{len(records)} posts; labels {dict(labels)}; hard {dict(hard)}")
    by_platform = collections.defaultdict(collections.Counter)
    for r in records:
        by_platform[r.get("platform")][r.get("label")] += 1
    for platform, c in sorted(by_platform.items(), key=lambda kv: str(kv[0])):
        total = sum(c.values())
        print(f"  {platform}: {total} posts, {c['broadcast'] / total:.0%} broadcast")
    kinds = collections.Counter((r.get("kind"), r.get("label")) for r in records)
    print("  kinds:", ", ".join(f"{k}/{l[:4]}={n}" for (k, l), n in sorted(kinds.items(), key=str)))
    print("  topics:", len({r.get("topic") for r in records}), " authors:", len({r.get("author") for r in records}))
    for line in problems:
        print("PROBLEM", line)
    print(f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
