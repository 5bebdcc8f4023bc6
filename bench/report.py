"""BENCHMARKS.md from one run's results: machine, command, tables, targets."""

from __future__ import annotations

import json

MB = 1e6
RSS_TARGET = 300 * MB
LOAD_TARGET = 0.5
SIZE_TARGET = 20 * MB
SPEED_BATCH = 10_000


def _f(value, spec=".3f", missing="–") -> str:
    return missing if value is None else format(value, spec)


def _rate(value) -> str:
    return "–" if value is None else f"{value:,.0f}"


def _ratio(a, b) -> str:
    if a is None or b is None or not b:
        return "–"
    return f"{a / b:.2f}x"


def _mb(value) -> str:
    return "–" if value is None else f"{value / MB:,.1f} MB"


def _seconds(value) -> str:
    if value is None:
        return "–"
    return f"{value:.3f} s" if value < 10 else f"{value:,.1f} s"


def _spread(runs) -> str:
    """' (range a–b)' over the repetitions, when there were several."""
    if not runs or len(runs) < 2:
        return ""
    return f" (range {min(runs):.3g}–{max(runs):.3g})"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines + [""]


def _by_short(results) -> dict:
    return {c["short"]: c for c in results["contenders"]}


def _status_row(entry, width: int) -> list[str]:
    return [entry["name"]] + [entry["status"]] + [""] * (width - 2)


# -- sections -------------------------------------------------------------------------
def _header(results) -> list[str]:
    m, cfg, corpus = results["machine"], results["config"], results["corpus"]
    lines = [
        "# smclass benchmarks",
        "",
        f"Run on {results['when']:%Y-%m-%d %H:%M} UTC, in {results['runtime_seconds'] / 60:.1f} minutes"
        + (" (**--tiny**: a smoke-test configuration, not a measurement)" if cfg["tiny"] else "") + ".",
        "",
        "Produced by:",
        "",
        "```",
        results["command"],
        "```",
        "",
        "## Machine",
        "",
    ]
    mem = "unknown" if not m["memory_bytes"] else f"{m['memory_bytes'] / 2**30:.1f} GiB"
    load = f"{_f(m.get('load_average_start'), '.2f')} at the start, {_f(m.get('load_average_end'), '.2f')} at the end"
    lines += _table(
        ["", ""],
        [
            ["CPU", f"{m['cpu']} ({m['cores']} cores)"],
            ["Memory", mem],
            ["OS", m["os"]],
            ["1-minute load average", load],
            ["Python", m["python"]],
            ["numpy", m["numpy"]],
            ["scikit-learn", m["scikit-learn"]],
            ["smclass", m["smclass"]],
            ["fastText", m["fastText"]],
            ["torch", m["torch"]],
            ["sentence-transformers", m["sentence-transformers"]],
        ],
    )
    busy = [v for v in (m.get("load_average_start"), m.get("load_average_end")) if v is not None]
    if busy and m.get("cores") and max(busy) > 0.5 * m["cores"]:
        lines += [f"**The machine was not idle** (1-minute load average up to {max(busy):.1f} on {m['cores']} cores, "
                  "from other work sharing it): absolute times are pessimistic and noisier than on an idle machine; "
                  "the ratios compare contenders measured back to back under the same conditions.", ""]
    if results.get("source_changes"):
        lines += ["**smclass's source changed while this run was going on** (someone else was editing it): "
                  + ", ".join(results["source_changes"]) + ". In-process figures used the code imported at the start; "
                  "each `smclass predict` and load-time subprocess imported the code as it was at that moment.", ""]
    lines += [
        "## Data and method",
        "",
        f"- Corpus: `{corpus['path']}` (sha256 `{corpus['sha256'][:12]}…`, {corpus['rows']:,} rows). "
        f"Every contender trains on its train split ({len(corpus['train']):,} posts: {_counts(corpus['train_counts'])}) "
        f"and is scored on its test split ({len(corpus['test']):,} posts: {_counts(corpus['test_counts'])})."
        + (f" {corpus['note']}." if corpus.get("note") else ""),
        f"- Every time is the **median of {cfg['repeats']} repetitions**; accuracy comes from one training per contender "
        "(fixed seeds, so it is deterministic) — the first of the timed trainings. Ratios compare figures from this run only.",
        f"- Scale-up: the train split repeated {cfg['scale']}x, every copy of every post with its own random id token "
        "appended, so no cache sees the same post twice.",
        f"- Throughput: batches of N posts cycled from the test split, after one warm-up call; each repetition calls the "
        f"predictor until at least {cfg['min_seconds']} s have passed. Latency: the median of many one-post calls "
        "(`Predictor.predict_one`, fastText `model.predict(str)`, `pipeline.predict([text])`).",
        "- Contenders:",
    ]
    for entry in results["contenders"]:
        state = f" — **{entry['status']}**" if entry["status"] else ""
        lines.append(f"  - **{entry['name']}**: {entry['description']}{state}")
    lines.append("")
    return lines


def _counts(counts: dict) -> str:
    return ", ".join(f"{v:,} {k}" for k, v in sorted(counts.items()))


def _accuracy(results) -> list[str]:
    sets = results["eval_sets"]
    labelled = [s for s in sets if s.kind == "labelled"]
    one_class = [s for s in sets if s.kind != "labelled"]
    lines = ["## Accuracy", "",
             "Macro-F1 / F1 of the minority class (the less frequent true class of that set). "
             "External sets only measure: nothing was trained or tuned on them.", ""]
    header = ["contender", "our test split"] + [s.name for s in labelled]
    if labelled:
        header.append(f"mean macro-F1, {len(labelled)} external sets")
    header += [f"{s.name}: share conversational" for s in one_class]
    rows = []
    for entry in results["contenders"]:
        if entry["status"]:
            rows.append(_status_row(entry, len(header)))
            continue
        acc = entry["accuracy"]
        row = [f"**{entry['name']}**" if entry["short"] == "smclass" else entry["name"]]
        for key in ["test"] + [s.name for s in labelled]:
            row.append(f"{acc[key]['macro_f1']:.3f} / {acc[key]['minority_f1']:.3f}")
        if labelled:
            row.append(_f(acc["external_mean"]))
        for s in one_class:
            row.append(f"{acc[s.name]['share_conversational']:.1%}")
        rows.append(row)
    lines += _table(header, rows)
    test = results["corpus"]["test"]
    set_rows = [["our test split", f"{len(test):,}", _minority_of(results["corpus"]["test_counts"]),
                 "the corpus's own held-out split"]]
    for s in sets:
        counts = {k: int((s.labels == k).sum()) for k in ("broadcast", "conversational")}
        minority = "–" if s.kind != "labelled" else _minority_of(counts)
        set_rows.append([s.name, f"{len(s):,}", minority, "; ".join(s.notes)])
    lines += ["Sets (after deduplicating texts within each set):", ""]
    lines += _table(["set", "posts", "minority class", "notes"], set_rows)
    for note in results["eval_notes"]:
        lines.append(f"- Note: {note}")
    unlabelled = [(e["name"], k, v["unlabelled"]) for e in results["contenders"] if not e["status"]
                  for k, v in e["accuracy"].items() if isinstance(v, dict) and v.get("unlabelled")]
    for name, key, n in unlabelled:
        lines.append(f"- {name} gave no label to {n} posts of {key} (counted as wrong).")
    if results["eval_notes"] or unlabelled:
        lines.append("")
    return lines


def _minority_of(counts: dict) -> str:
    items = sorted(counts.items(), key=lambda kv: (kv[1], kv[0]))
    total = sum(counts.values()) or 1
    return f"{items[0][0]} ({items[0][1] / total:.0%})"


def _range(stat, spec=",.0f", scale=1.0) -> str:
    return f"{stat['median'] * scale:{spec}} (range {stat['min'] * scale:{spec}}–{stat['max'] * scale:{spec}})"


def _first_sight(results) -> list[str]:
    fs = (results.get("deployment") or {}).get("first_sight") or {}
    lines = ["### First sight on real posts (the headline speed figure)", ""]
    if not fs or fs.get("skipped"):
        return lines + [f"Not measured: {fs.get('skipped', 'not run')}.", ""]
    posts = fs["posts"]["median"]
    sources = ", ".join(f"{name} {count:,}" for name, count in fs.get("sources", {}).items())
    lines += [
        f"Every distinct real post of the external evaluation folder ({fs['distinct_posts']:,}: {sources}), read by path, "
        f"labels ignored. In each of {fs['runs']} fresh processes: {posts:,.0f} posts classified once each by "
        "`Predictor.p_broadcast` (one list, caches cold) and by fastText's `model.predict` (same list), in alternating "
        "order; then a second smclass pass over the same list (**cached**: every chunk seen); then one-post latency "
        "(`predict_one` vs `model.predict(str)`) over the other posts, first on sight and then again. Medians of the "
        "runs, with the range; ratios are fastText's time / smclass's time within each run (above 1.00x = smclass faster).",
        "",
    ]
    rows = [
        ["first sight, whole batch", _range(fs["smclass_first_s"], ".3f") + " s", _range(fs["fasttext_s"], ".3f") + " s",
         _range(fs["first_sight_x"], ".2f") + "x", f"{posts / fs['smclass_first_s']['median']:,.0f} vs {posts / fs['fasttext_s']['median']:,.0f}"],
        ["first sight, CPU time (less sensitive to a shared machine)", _range(fs["smclass_first_cpu_s"], ".3f") + " s",
         _range(fs["fasttext_cpu_s"], ".3f") + " s", _range(fs["first_sight_cpu_x"], ".2f") + "x", "–"]
        if "first_sight_cpu_x" in fs else None,
        ["second pass (cached)", _range(fs["smclass_cached_s"], ".3f") + " s", _range(fs["fasttext_s"], ".3f") + " s",
         _range(fs["cached_x"], ".2f") + "x", f"{posts / fs['smclass_cached_s']['median']:,.0f} vs {posts / fs['fasttext_s']['median']:,.0f}"],
        ["one post, seen before (µs)", _range(fs["smclass_one_cached_us"], ".1f"), _range(fs["fasttext_one_us"], ".1f"),
         _range(fs["one_post_x"], ".2f") + "x", "–"],
        ["one post, first sight (µs)", _range(fs["smclass_one_first_us"], ".1f"), _range(fs["fasttext_one_us"], ".1f"),
         _range(fs["one_post_first_x"], ".2f") + "x", "–"],
    ]
    rows = [row for row in rows if row is not None]
    return lines + _table(["", "smclass", "fastText", "vs fastText", "posts/s (smclass vs fastText)"], rows) + [""]


def _speed(results) -> list[str]:
    cfg = results["config"]
    by = _by_short(results)
    ft = by.get("fasttext")
    ft_ok = ft is not None and not ft["status"]
    lines = ["## Speed and memory", ""] + _first_sight(results) + ["### Training time", ""]
    header = ["contender", f"train split ({len(results['corpus']['train']):,} posts)",
              f"{cfg['scale']}x scale-up ({len(results['corpus']['train']) * cfg['scale']:,} posts)",
              "scale-up / train split", "train split vs fastText (time ratio)", "scale-up vs fastText (time ratio)"]
    rows = []
    for e in results["contenders"]:
        if e["status"]:
            rows.append(_status_row(e, len(header)))
            continue
        big = _seconds(e.get("train_big_seconds")) + _spread(e.get("train_big_runs"))
        if e.get("train_big_estimated"):
            big = f"≈ {big} (extrapolated {cfg['scale']}x, not run)"
        rows.append([e["name"], _seconds(e["train_seconds"]) + _spread(e.get("train_runs")), big, _ratio(e.get("train_big_seconds"), e["train_seconds"]),
                     _ratio(e["train_seconds"], ft["train_seconds"]) if ft_ok else "–",
                     _ratio(e.get("train_big_seconds"), ft.get("train_big_seconds")) if ft_ok else "–"])
    lines += _table(header, rows)
    lines += ["Time ratios vs fastText: above 1.00x means slower than fastText.", ""]

    lines += ["### Prediction throughput (posts/s, single process) and latency", ""]
    header = ["contender"] + [f"batch {b:,}" for b in (1, 10, 100, 1_000, 10_000)] + \
             ["batch 10,000 of unseen posts", "one post (µs, median)"]
    rows, ratio_rows = [], []
    for e in results["contenders"]:
        if e["status"]:
            rows.append(_status_row(e, len(header)))
            continue
        tp = e["throughput"]
        rows.append([e["name"]] + [_rate(tp.get(b)) for b in (1, 10, 100, 1_000, 10_000)]
                    + [_rate(e.get("throughput_unseen")), _rate(e["latency_us"])])
        if ft_ok:
            ratio_rows.append([e["name"]] + [_ratio(tp.get(b), ft["throughput"].get(b)) for b in (1, 10, 100, 1_000, 10_000)]
                              + [_ratio(e.get("throughput_unseen"), ft.get("throughput_unseen")),
                                 _ratio(ft["latency_us"], e["latency_us"])])
    lines += _table(header, rows)
    lines += ["\"Unseen posts\": each post gets its own appended token, so smclass's per-chunk feature cache cannot "
              "serve the whole post from memory (the cycled test-split batches are all cache hits after the warm-up). "
              "The embedding contender is not run at batch 10,000 (it would take minutes per repetition at the rate "
              "shown for batch 1,000, which it already encodes in internal batches of 64).", ""]
    if ratio_rows:
        lines += ["Speed relative to fastText, same batch, same run (above 1.00x = faster than fastText; "
                  "for one post: fastText's latency / this latency):", ""]
        lines += _table(header, ratio_rows)

    dep = results["deployment"]
    lines += [f"### `smclass predict` end to end ({cfg['predict_rows']:,}-row CSV export)", ""]
    if not dep["cli"]:
        lines += ["Not measured: " + (dep.get("load_error") or "the smclass model could not be saved "
                                     f"({by.get('smclass', {}).get('save_error', 'smclass skipped')})."), ""]
    else:
        size = dep.get("cli_input_bytes")
        lines += [f"Input: columns `id,text`, texts cycled from the whole corpus, each with its row number appended "
                  f"({_mb(size)}), written to a temporary folder. Output: CSV. Peak RSS is "
                  "`getrusage(RUSAGE_CHILDREN).ru_maxrss` of a fresh wrapper process (the largest single process); the "
                  "process tree's summed RSS and PSS were sampled every 50 ms with psutil.", ""]
        header = ["command", "wall time", "posts/s", "peak RSS (largest process)", "peak tree RSS (sum)",
                  "peak tree PSS (sum)", "output rows"]
        rows = []
        for cli in dep["cli"]:
            rows_out = ", ".join("–" if r is None else f"{r:,}" for r in cli["rows_out"])
            check = "OK" if all(r == cli["rows_expected"] for r in cli["rows_out"]) and cli["ok"] else "**WRONG**"
            rows.append([f"`--jobs {cli['jobs']}`", _seconds(cli["seconds"]), _rate(cli["posts_per_second"]),
                         _mb(cli["max_rss_bytes"]), _mb(cli["tree_rss_peak_bytes"]), _mb(cli["tree_pss_peak_bytes"]),
                         f"{rows_out} ({check})"])
        lines += _table(header, rows)
        for cli in dep["cli"]:
            if cli["error"]:
                lines += [f"`--jobs {cli['jobs']}` failed:", "", "```", cli["error"].strip(), "```", ""]

    lines += ["### Model load time and size", ""]
    header = ["contender", "load (fresh object, in process)", "size on disk", "notes"]
    rows = []
    for e in results["contenders"]:
        if e["status"]:
            rows.append(_status_row(e, len(header)))
            continue
        if e.get("save_error"):
            rows.append([e["name"], "–", "–", f"could not save: {e['save_error']}"])
            continue
        note = {
            "smclass": "joblib pipeline (compress=3) + pickle-free .npz weights (what Predictor loads) + model card",
            "baseline": "joblib (compress=3)",
            "fasttext": "`save_model` .bin (default bucket=2,000,000 for word bigrams)",
            "embeddings": "encoder weights + config (the package's files) + joblib LogReg; load includes the encoder",
        }.get(e["short"], "")
        rows.append([e["name"], _seconds(e.get("load_seconds")), _mb(e.get("size_bytes")), note])
    lines += _table(header, rows)
    load = dep.get("load")
    if load:
        lines += [f"smclass in a fresh process (median of {cfg['repeats']}): `import smclass.predict` "
                  f"{_seconds(load['import'])}, `Predictor.load` {_seconds(load['load'])} (includes the sha256 check "
                  f"against the card), first `predict_one` {_seconds(load['first_predict'])}.", ""]
    elif dep.get("load_error"):
        lines += ["smclass fresh-process load failed:", "", "```", dep["load_error"], "```", ""]
    return lines


# -- targets ---------------------------------------------------------------------------
def targets(results) -> list[tuple[str, str, str]]:
    """(target, MET / NOT MET / NOT MEASURED, detail)."""
    by = _by_short(results)
    sm = by.get("smclass")
    out = []
    sm_ok = sm is not None and not sm["status"]
    others = [e for e in results["contenders"] if not e["status"] and e["short"] != "smclass"]

    # accuracy
    if not sm_ok:
        out.append(("Accuracy: smclass macro-F1 >= every other contender (test split and external mean)", "NOT MEASURED", "smclass skipped"))
    else:
        details, met = [], True
        for key, label in (("test", "test split"), ("external_mean", "external mean")):
            mine = sm["accuracy"][key]["macro_f1"] if key == "test" else sm["accuracy"]["external_mean"]
            if mine is None:
                details.append(f"{label}: not measured (no external sets)")
                met = None if met else met
                continue
            theirs = [(e["accuracy"][key]["macro_f1"] if key == "test" else e["accuracy"]["external_mean"], e["name"])
                      for e in others]
            theirs = [t for t in theirs if t[0] is not None]
            if not theirs:
                details.append(f"{label}: smclass {mine:.3f}, no other contender ran")
                continue
            best, name = max(theirs)
            ok = mine >= best
            met = met and ok if met is not None else met
            gap = "" if ok else f", **{best - mine:.3f} below** ({mine / best:.3f}x)"
            details.append(f"{label}: smclass {mine:.3f} vs best other {best:.3f} ({name}){gap}")
        excluded = [e["name"] for e in results["contenders"] if e["status"] and e["short"] != "smclass"]
        if excluded:
            details.append("not compared: " + ", ".join(excluded))
        state = "NOT MEASURED" if met is None else ("MET" if met else "NOT MET")
        out.append(("Accuracy: smclass macro-F1 >= every other contender's, on our test split and on the mean over the external sets",
                    state, "; ".join(details)))

    # speed
    ft = by.get("fasttext")
    if not sm_ok or ft is None or ft["status"]:
        out.append((f"Speed: smclass throughput >= 1.0x fastText's (batch {SPEED_BATCH:,}, single process)", "NOT MEASURED",
                    "fastText " + (ft["status"] if ft else "missing") if sm_ok else "smclass skipped"))
    else:
        mine, theirs = sm["throughput"][SPEED_BATCH], ft["throughput"][SPEED_BATCH]
        ratio = mine / theirs
        detail = f"{ratio:.2f}x ({mine:,.0f} vs {theirs:,.0f} posts/s)"
        if ratio < 1:
            detail += f", **{1 - ratio:.0%} short**"
        unseen = (sm.get("throughput_unseen"), ft.get("throughput_unseen"))
        if all(unseen):
            detail += f"; on unseen posts {unseen[0] / unseen[1]:.2f}x"
        out.append((f"Speed: smclass throughput >= 1.0x fastText's (batch {SPEED_BATCH:,}, single process)",
                    "MET" if ratio >= 1 else "NOT MET", detail))

    # first sight on real posts (the headline), one post, second pass
    fs = (results.get("deployment") or {}).get("first_sight") or {}
    for key, name, goal in (("first_sight_x", "First sight on real posts: >= 1.5x fastText (median of the runs)", 1.5),
                            ("one_post_x", "One post: latency <= fastText's (posts seen before)", 1.0),
                            ("cached_x", "Second pass over the same real posts (cached): >= 2.5x fastText", 2.5)):
        if not fs or fs.get("skipped"):
            out.append((name, "NOT MEASURED", fs.get("skipped", "not run")))
            continue
        stat = fs[key]
        detail = f"{stat['median']:.2f}x (range {stat['min']:.2f}–{stat['max']:.2f}x)"
        if stat["median"] < goal:
            detail += f", **{1 - stat['median'] / goal:.0%} short of {goal}x**"
        out.append((name, "MET" if stat["median"] >= goal else "NOT MET", detail))

    # memory
    cli = {c["jobs"]: c for c in results["deployment"]["cli"]}
    rows = results["config"]["predict_rows"]
    for jobs, key, what in ((1, "max_rss_bytes", "peak RSS"), (2, "tree_pss_peak_bytes", "peak PSS of the whole process tree")):
        name = f"Memory: `smclass predict --jobs {jobs}` on the {rows:,}-row export under 300 MB ({what})"
        c = cli.get(jobs)
        if not c or not c[key]:
            out.append((name, "NOT MEASURED", (c or {}).get("error") or "not run"))
            continue
        value = c[key]
        ok = value < RSS_TARGET and c["ok"]
        detail = f"{value / MB:.0f} MB"
        if value >= RSS_TARGET:
            detail += f", **{(value - RSS_TARGET) / MB:.0f} MB ({value / RSS_TARGET - 1:.0%}) over**"
        if jobs == 2:
            detail += f" (largest single process {c['max_rss_bytes'] / MB:.0f} MB)"
        out.append((name, "MET" if ok else "NOT MET", detail))

    # load and size
    load = results["deployment"].get("load")
    if not load:
        out.append(("Load: Predictor.load under 0.5 s (fresh process)", "NOT MEASURED", "model not saved/loaded"))
    else:
        value = load["load"]
        detail = f"{value:.3f} s"
        if value >= LOAD_TARGET:
            detail += f", **{value - LOAD_TARGET:.3f} s ({value / LOAD_TARGET - 1:.0%}) over**"
        out.append(("Load: Predictor.load under 0.5 s (fresh process)", "MET" if value < LOAD_TARGET else "NOT MET", detail))
    size = sm.get("model_file_bytes") if sm_ok else None
    if size is None:
        out.append(("Size: model file under 20 MB", "NOT MEASURED", "model not saved"))
    else:
        detail = f"{size / MB:.1f} MB"
        if size >= SIZE_TARGET:
            detail += f", **{(size - SIZE_TARGET) / MB:.1f} MB ({size / SIZE_TARGET - 1:.0%}) over**"
        out.append(("Size: model file under 20 MB", "MET" if size < SIZE_TARGET else "NOT MET", detail))
    return out


def _targets(results) -> list[str]:
    lines = ["## Targets", ""]
    for name, state, detail in targets(results):
        lines.append(f"- **{state}** — {name}: {detail}")
    return lines + [""]


def _behaviour(results) -> list[str]:
    from smclass.behaviour import TARGETS

    measured = [e for e in results["contenders"] if not e["status"] and e.get("behaviour")]
    if not measured:
        return []
    lines = ["## Behaviour tests (CheckList)", "",
             "Pass rates of the hand-written behaviour suite in `smclass/behaviour.py` (cases in "
             "`smclass/behaviour_cases/`), for each contender that gives a probability. **INV**: the label must not "
             "flip when a photo link is attached to a personal post (after a space, a full stop or a line break), "
             "hashtags are added, the post is reposted (\"RT @handle: …\") or written in capitals, its closing mark "
             "is dropped or added, its apostrophes are curled or straightened, \"and\" becomes \"&\", or names, "
             "@handles, brands, towns, currencies, US/UK spelling or emoji change. **DIR**: a call to action with a "
             "link must raise p_broadcast; a reply answering a named person must lower it. **MFT**: hand-written posts of each kind in the guide must get "
             "their label. Targets: INV and DIR >= 95 %, MFT >= 90 % for every kind. "
             "`python -m smclass.behaviour --model M --failures 20` lists the failures.", ""]
    sm = next((e for e in measured if e["short"] == "smclass"), measured[0])
    names = list(sm["behaviour"]["rates"])
    header = ["test", "cases"] + [e["name"] for e in measured] + ["target"]
    rows = []
    for name in names:
        family = name.split()[0]
        is_family = name == family
        label = f"**{name} (all)**" if is_family else name
        total = (sum(n for k, (_, n) in sm["behaviour"]["counts"].items() if k.split()[0] == family)
                 if is_family else sm["behaviour"]["counts"][name][1])
        row = [label, f"{total:,}"]
        for e in measured:
            rate = e["behaviour"]["rates"].get(name)
            row.append("–" if rate is None else f"{rate:.1%}")
        target = TARGETS[family]
        rate = sm["behaviour"]["rates"][name]
        row.append(f"{target:.0%} " + ("met" if rate >= target else "**not met**"))
        rows.append(row)
    order = {"INV": 0, "DIR": 1, "MFT": 2}
    rows = [r for _, r in sorted(zip(names, rows), key=lambda nr: (order[nr[0].split()[0]], nr[0] != nr[0].split()[0], nr[0]))]
    lines += _table(header, rows)
    worst = sm["behaviour"]["worst"][:10]
    if worst:
        lines += [f"Worst failures of {sm['name']} (p_broadcast; for INV and DIR, before -> after):", ""]
        for f in worst:
            text = " ".join(f["text"].split()).replace("|", "\\|")
            text = text if len(text) <= 140 else text[:137] + "..."
            p = f"{f['p_broadcast']:.3f}" if "p_original" not in f else f"{f['p_original']:.3f} -> {f['p_broadcast']:.3f}"
            lines.append(f"- [{f['test']}] expected {f['expected']}, {p}: {text}")
        lines.append("")
    return lines


def _model_choice() -> list[str]:
    """The last model-choice trials (bench/results/model_choice.json), kept across benchmark runs."""
    from bench import model_choice

    if not model_choice.RESULTS.is_file():
        return []
    rows = json.loads(model_choice.RESULTS.read_text(encoding="utf-8"))
    return model_choice.markdown(rows).splitlines() + [""]


def render(results) -> str:
    lines = _header(results) + _accuracy(results) + _behaviour(results) + _model_choice() + _speed(results) + _targets(results)
    lines += ["---", "", f"Whole benchmark: {results['runtime_seconds']:.0f} s. "
              "Regenerate with the command above; figures from different runs or machines are not comparable.", ""]
    return "\n".join(lines)


def raw(results) -> dict:
    """A JSON-friendly copy of the results (no models, no texts)."""
    contenders = []
    for e in results["contenders"]:
        contenders.append({k: v for k, v in e.items() if k not in ("contender", "model")})
    corpus = {k: v for k, v in results["corpus"].items() if k not in ("train", "test", "all_texts")}
    return {
        "when": results["when"].isoformat(),
        "command": results["command"],
        "machine": results["machine"],
        "config": results["config"],
        "corpus": corpus,
        "eval_sets": [{"name": s.name, "posts": len(s), "kind": s.kind, "notes": s.notes} for s in results["eval_sets"]],
        "eval_notes": results["eval_notes"],
        "contenders": contenders,
        "deployment": {k: (str(v) if k == "saved" else v) for k, v in results["deployment"].items()},
        "targets": targets(results),
        "runtime_seconds": results["runtime_seconds"],
        "source_changes": results.get("source_changes"),
    }

