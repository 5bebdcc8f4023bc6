"""``smclass report``: counts, periods, example posts, escaping, self-containment, the chart, the CLI."""

from __future__ import annotations

import base64
import collections
import csv
import datetime as dt
import html
import io
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli
from smclass.errors import DataError, UsageError
from smclass.exports import read_posts
from smclass.report import build_report

FIX = Path(__file__).parent / "fixtures" / "exports"
EXPORTS = [
    FIX / "x" / "tweets.js",
    FIX / "mastodon" / "outbox.json",
    FIX / "facebook" / "your_posts_1.json",
    FIX / "instagram" / "content" / "posts_1.json",
    FIX / "linkedin" / "Shares.csv",
    FIX / "reddit" / "posts.csv",
    FIX / "reddit" / "comments.csv",
]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SCRIPT_POST = "<script>alert('x')</script> & \"quoted\" 😀 Sale now on!"
WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo",
         "lima", "mike", "november")  # distinct words: texts that differ only in numbers are near-duplicates
PREDICTION_COLUMNS = ["id", "created_at", "platform", "text", "label", "p_broadcast", "lang", "note"]


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #

def section(page: str, css_id: str) -> str:
    """The markup of one <section id=...> of the page."""
    match = re.search(rf'<section id="{css_id}">(.*?)</section>', page, re.S)
    assert match, f"no section {css_id!r}"
    return match.group(1)


def element(page: str, tag: str, css_id: str) -> str:
    match = re.search(rf'<{tag}[^>]*\bid="{css_id}"[^>]*>(.*?)</{tag}>', page, re.S)
    assert match, f"no <{tag} id={css_id!r}>"
    return match.group(1)


def list_texts(page: str, css_id: str) -> list[str]:
    """The post texts of one example list, unescaped, in page order."""
    return [html.unescape(t) for t in re.findall(r'<div class="post-text">(.*?)</div>', element(page, "ol", css_id), re.S)]


def embedded_png(page: str) -> bytes:
    match = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert match, "no embedded PNG"
    return base64.b64decode(match.group(1))


def png_pixels(data: bytes) -> np.ndarray:
    import matplotlib.image as mpimg

    return mpimg.imread(io.BytesIO(data), format="png")


def distinct_colours(pixels: np.ndarray) -> int:
    rgb = (pixels[..., :3] * 255).round().astype(np.int64)
    return len(np.unique(rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2]))


def direct_counts(predictor, paths) -> tuple[collections.Counter, collections.Counter]:
    """Labels and skip reasons computed straight from the readers and the predictor."""
    labels, skipped = collections.Counter(), collections.Counter()
    for path in paths:
        posts = list(read_posts(path))
        predicted, _, notes = predictor.predict_many([p.text for p in posts])
        for post, label, note in zip(posts, predicted, notes):
            if label is None:
                skipped[(post.note if post.text is None else note) or "no text"] += 1
            else:
                labels[label] += 1
    return labels, skipped


def prediction_rows() -> list[dict]:
    """A predictions file as `smclass predict` writes it: four months, one undated post, one skipped row."""
    rows = []
    p_values = [0.97, 0.91, 0.12, 0.03, 0.55, 0.48, 0.80, 0.30, 0.62, 0.05, 0.99, 0.51]
    for i, p in enumerate(p_values):
        month = 1 + i % 4
        rows.append({"id": f"p{i}", "created_at": f"2024-{month:02d}-{3 + i:02d}T10:00:00+00:00",
                     "platform": "x" if i % 2 else "mastodon", "text": f"post {WORDS[i]} with p {p}",
                     "label": "broadcast" if p >= 0.5 else "conversational", "p_broadcast": p, "note": ""})
    rows.append({"id": "s1", "created_at": "2024-02-20T09:00:00+00:00", "platform": "x", "text": SCRIPT_POST,
                 "label": "broadcast", "p_broadcast": 0.995, "note": ""})
    rows.append({"id": "u1", "created_at": "", "platform": "x", "text": "an undated reply, thanks!",
                 "label": "conversational", "p_broadcast": 0.2, "note": ""})
    rows.append({"id": "e1", "created_at": "2024-03-01T09:00:00+00:00", "platform": "x", "text": "",
                 "label": "", "p_broadcast": "", "note": "text is empty"})
    return rows


def write_predictions(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=PREDICTION_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def export_report(tmp_path_factory, predictor):
    """One report over the platform-export fixtures (classified by the session's small model)."""
    folder = tmp_path_factory.mktemp("report")
    out, png = folder / "report.html", folder / "chart.png"
    summary = build_report(EXPORTS, out, png=png, predictor=predictor)
    return summary, out.read_text(encoding="utf-8"), out, png


@pytest.fixture(scope="module")
def predictions_report(tmp_path_factory):
    """A report from a predictions CSV: no model is loaded (the model path does not even exist)."""
    folder = tmp_path_factory.mktemp("preds")
    source = write_predictions(folder / "predictions.csv", prediction_rows())
    out = folder / "report.html"
    summary = build_report([source], out, model=folder / "no-such-model.joblib", period="month")
    return summary, out.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- #
# Report from platform exports
# --------------------------------------------------------------------------- #

def test_export_counts_match_a_direct_computation(export_report, predictor):
    summary, page, _, _ = export_report
    labels, skipped = direct_counts(predictor, EXPORTS)
    classified = labels["broadcast"] + labels["conversational"]
    assert summary["broadcast"] == labels["broadcast"]
    assert summary["conversational"] == labels["conversational"]
    assert summary["classified"] == classified
    assert summary["posts"] == classified + sum(skipped.values())
    assert summary["skipped"] == dict(skipped)
    assert summary["broadcast_share"] == pytest.approx(labels["broadcast"] / classified)
    overall = section(page, "overall")
    assert f"{labels['broadcast'] / classified:.0%}" in overall
    assert f"{labels['conversational'] / classified:.0%}" in overall
    assert f"{labels['broadcast']:,} posts" in overall and f"{labels['conversational']:,} posts" in overall
    assert f"{classified:,} of {summary['posts']:,} posts" in overall


def test_export_skip_reasons_are_listed(export_report):
    summary, page, _, _ = export_report
    left_out = section(page, "skipped")
    for reason in ("boost of another post", "photo-only post (no caption)", "reshare with no commentary",
                   "deleted or removed", "check-in (no text)"):
        assert reason in summary["skipped"]
        assert html.escape(reason) in left_out
    assert f"{sum(summary['skipped'].values()):,} of {summary['posts']:,} posts" in left_out


def test_export_short_span_is_shown_per_week(export_report):
    summary, page, _, _ = export_report
    assert summary["period"] == "week"  # the fixtures span a few days in March 2024
    assert summary["undated"] == 0
    assert [r["key"] for r in summary["periods"]] == ["2024-W10"]
    assert sum(r["posts"] for r in summary["periods"]) == summary["classified"]
    assert "week of 4 Mar 2024" in element(page, "table", "periods")


def test_export_groups_by_platform_and_input(export_report):
    summary, page, _, _ = export_report
    platforms = {r["name"]: r["posts"] for r in summary["groups"]["platform"]}
    assert set(platforms) == {"x", "mastodon", "facebook", "instagram", "linkedin", "reddit"}
    assert sum(platforms.values()) == summary["classified"]
    inputs = {r["name"] for r in summary["groups"]["input"]}
    assert inputs == {p.name for p in EXPORTS}
    assert "<td>mastodon</td>" in element(page, "table", "by-platform")
    assert "<td>outbox.json</td>" in element(page, "table", "by-input")


def test_export_example_posts_are_the_extremes(export_report, predictor):
    summary, page, _, _ = export_report
    texts = [post.text for path in EXPORTS for post in read_posts(path) if post.text is not None]
    labels, p, _ = predictor.predict_many(texts)
    ranked = sorted(zip(texts, labels, p.tolist()), key=lambda t: abs(t[2] - 0.5))
    uncertain = summary["examples"]["uncertain"]
    assert uncertain[0]["p_broadcast"] == pytest.approx(ranked[0][2], abs=1e-4)
    assert [e["p_broadcast"] for e in uncertain] == sorted((e["p_broadcast"] for e in uncertain), key=lambda v: abs(v - 0.5))
    top_b = max(prob for _, label, prob in zip(texts, labels, p.tolist()) if label == "broadcast")
    assert summary["examples"]["broadcast"][0]["p_broadcast"] == pytest.approx(top_b, abs=1e-4)
    shown = list_texts(page, "uncertain")
    assert shown[0].startswith(" ".join(ranked[0][0].split())[:20].split()[0])


def test_escaping_of_export_text(export_report):
    _, page, _, _ = export_report
    # the X fixture holds '@dana_ito ha, yes <3 and the x > y bit'; it must never reach the page raw
    assert "yes <3" not in page and "x > y" not in page
    assert "yes &lt;3" in page


# --------------------------------------------------------------------------- #
# Report from a predictions file
# --------------------------------------------------------------------------- #

def test_predictions_file_labels_are_used_without_a_model(predictions_report):
    summary, _ = predictions_report
    rows = prediction_rows()
    kept = [r for r in rows if r["label"]]
    assert summary["predictions_files"] == ["predictions.csv"] and summary["predicted_inputs"] == []
    assert summary["posts"] == len(rows)
    assert summary["classified"] == len(kept)
    assert summary["broadcast"] == sum(r["label"] == "broadcast" for r in kept)
    assert summary["skipped"] == {"text is empty": 1}
    assert summary["undated"] == 1


def test_predictions_file_months(predictions_report):
    summary, page = predictions_report
    assert summary["period"] == "month"  # forced: "auto" would choose the year for 14 posts (see test_period_*)
    expected = collections.Counter()
    for r in prediction_rows():
        if r["label"] and r["created_at"]:
            expected[(r["created_at"][:7], r["label"])] += 1
    got = {r["key"]: (r["broadcast"], r["conversational"]) for r in summary["periods"]}
    assert list(got) == ["2024-01", "2024-02", "2024-03", "2024-04"]
    for month, (b, c) in got.items():
        assert (b, c) == (expected[(month, "broadcast")], expected[(month, "conversational")])
    table = element(page, "table", "periods")
    for month in ("Jan 2024", "Feb 2024", "Mar 2024", "Apr 2024", "Undated"):
        assert f"<td>{month}</td>" in table
    assert "without a date" in element(page, "p", "undated")
    assert summary["trend"] is None  # 3 or 4 posts a month: too few to compare months


def test_predictions_file_uncertain_and_typical_posts(predictions_report):
    summary, page = predictions_report
    kept = [r for r in prediction_rows() if r["label"]]
    by_doubt = sorted(kept, key=lambda r: abs(r["p_broadcast"] - 0.5))
    assert list_texts(page, "uncertain")[:3] == [r["text"] for r in by_doubt[:3]]
    broadcast = sorted((r for r in kept if r["label"] == "broadcast"), key=lambda r: -r["p_broadcast"])
    assert list_texts(page, "typical-broadcast")[:3] == [r["text"] for r in broadcast[:3]]
    conversational = sorted((r for r in kept if r["label"] == "conversational"), key=lambda r: r["p_broadcast"])
    assert list_texts(page, "typical-conversational")[:3] == [r["text"] for r in conversational[:3]]
    assert "p = 0.51" in element(page, "ol", "uncertain")


def test_post_text_is_escaped(predictions_report):
    _, page = predictions_report
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quoted&quot; 😀" in page
    assert SCRIPT_POST in list_texts(page, "typical-broadcast")


def test_threshold_relabels_a_predictions_file(tmp_path):
    source = write_predictions(tmp_path / "predictions.csv", prediction_rows())
    summary = build_report([source], tmp_path / "r.html", threshold=0.9)
    kept = [r for r in prediction_rows() if r["label"]]
    assert summary["broadcast"] == sum(r["p_broadcast"] >= 0.9 for r in kept)


# --------------------------------------------------------------------------- #
# A self-contained page and its chart
# --------------------------------------------------------------------------- #

@pytest.mark.parametrize("which", ["export_report", "predictions_report"])
def test_page_is_self_contained(which, request):
    page = request.getfixturevalue(which)[1]
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    references = re.findall(r'\b(?:src|href)\s*=\s*["\']?([^"\'\s>]*)', page, re.I)
    assert references and all(ref.startswith("data:") for ref in references)
    assert "<script" not in page.lower()
    assert "<link" not in page.lower() and "@import" not in page and "url(" not in page
    assert not re.search(r"<(?:img|iframe|object|embed|video|audio)[^>]*\s(?:src|data)=(?![\"']?data:)", page, re.I)


def test_chart_is_embedded_and_png_option_writes_it(export_report):
    _, page, _, png = export_report
    data = embedded_png(page)
    assert data.startswith(PNG_SIGNATURE)
    assert png.read_bytes() == data
    pixels = png_pixels(png.read_bytes())
    assert pixels.ndim == 3 and pixels.shape[0] > 300 and pixels.shape[1] > 600
    assert distinct_colours(pixels) > 20


def test_undated_posts_get_a_chart_without_timeline(tmp_path, predictor):
    inputs = [FIX / "generic" / "posts.csv", FIX / "generic" / "posts.tsv"]
    summary = build_report(inputs, tmp_path / "r.html", predictor=predictor)
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert summary["periods"] == [] and summary["undated"] == summary["classified"]
    assert "undated" in element(page, "p", "undated")
    assert embedded_png(page).startswith(PNG_SIGNATURE)


def test_period_can_be_forced(tmp_path, predictor):
    summary = build_report(EXPORTS[:2], tmp_path / "r.html", predictor=predictor, period="month")
    assert summary["period"] == "month" and [r["key"] for r in summary["periods"]] == ["2024-03"]
    source = write_predictions(tmp_path / "predictions.csv", prediction_rows())
    weekly = build_report([source], tmp_path / "w.html", period="week")
    assert weekly["period"] == "week"
    dates = sorted(dt.date.fromisoformat(r["created_at"][:10]) for r in prediction_rows() if r["label"] and r["created_at"])
    mondays = [d - dt.timedelta(days=d.weekday()) for d in (dates[0], dates[-1])]
    # every week from the first post to the last, gaps included
    assert len(weekly["periods"]) == (mondays[1] - mondays[0]).days // 7 + 1 == 15
    assert sum(r["posts"] for r in weekly["periods"]) == weekly["classified"] - weekly["undated"]


# --------------------------------------------------------------------------- #
# Errors
# --------------------------------------------------------------------------- #

def test_errors_are_one_sentence(tmp_path, predictor):
    with pytest.raises(DataError, match="does not exist"):
        build_report([tmp_path / "missing.csv"], tmp_path / "r.html", predictor=predictor)
    with pytest.raises(UsageError, match="does not exist"):
        build_report(EXPORTS[:1], tmp_path / "no" / "r.html", predictor=predictor)
    with pytest.raises(UsageError, match="--period"):
        build_report(EXPORTS[:1], tmp_path / "r.html", predictor=predictor, period="fortnight")
    empty = tmp_path / "empty.csv"
    empty.write_text("id,text\n1,\n2,   \n", encoding="utf-8")
    with pytest.raises(DataError, match="None of the 2 posts has text"):
        build_report([empty], tmp_path / "r.html", predictor=predictor)
    bad = write_predictions(tmp_path / "bad.csv", [{**prediction_rows()[0], "label": "spam"}])
    with pytest.raises(DataError, match="bad.csv, row 2: label 'spam'"):
        build_report([bad], tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()
    assert not list(tmp_path.glob(".smclass-*"))


def test_existing_report_survives_a_failed_run(tmp_path, predictor):
    out = tmp_path / "r.html"
    out.write_text("yesterday's report", encoding="utf-8")
    with pytest.raises(DataError):
        build_report([tmp_path / "missing.csv"], out, predictor=predictor)
    assert out.read_text(encoding="utf-8") == "yesterday's report"


# --------------------------------------------------------------------------- #
# The command line
# --------------------------------------------------------------------------- #

def test_cli_report_from_exports_and_from_their_predictions(tmp_path, model_path, export_report):
    preds = tmp_path / "preds.csv"
    done = run_cli("predict", *EXPORTS, "--model", model_path, "--output", preds, "--quiet")
    assert done.returncode == 0, done.stderr
    out, chart = tmp_path / "from-preds.html", tmp_path / "chart.png"
    done = run_cli("report", preds, "--output", out, "--png", chart, "--title", "Spring <mix>")
    assert done.returncode == 0, done.stderr
    assert "posts read" in done.stderr and str(out) in done.stderr
    page = out.read_text(encoding="utf-8")
    assert "<title>Spring &lt;mix&gt;</title>" in page
    assert chart.read_bytes().startswith(PNG_SIGNATURE)
    # the same numbers whether the report classifies the exports (with the same model) or reads their predictions
    numbers = lambda page: re.findall(r"\d[\d,]*(?:%| posts)", section(page, "overall"))
    assert numbers(page) == numbers(export_report[1])
    assert "<td>tweets.js</td>" in page  # the predictions file's input column becomes a group


def test_cli_errors(tmp_path, model_path):
    done = run_cli("report", FIX / "x" / "tweets.js", "-m", model_path, "-o", tmp_path / "r.html", "--threshold", "2")
    assert done.returncode == 1 and done.stderr.strip().splitlines()[-1] == "Error: --threshold must be between 0 and 1, not 2."
    done = run_cli("report", tmp_path / "nope.csv", "-m", model_path, "-o", tmp_path / "r.html")
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "does not exist" in done.stderr
    done = run_cli("report", FIX / "x" / "tweets.js", "-m", model_path)
    assert done.returncode == 1 and "--output" in done.stderr


# --------------------------------------------------------------------------- #
# What a browser shows
# --------------------------------------------------------------------------- #

def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.chromium
@pytest.mark.skipif(_chromium() is None, reason="no chromium binary found")
def test_report_renders_in_headless_chromium(export_report, tmp_path):
    _, _, out, _ = export_report
    shot = tmp_path / "shot.png"
    subprocess.run(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1200,1600",
         out.resolve().as_uri()],
        capture_output=True, timeout=120, check=False,
    )
    assert shot.is_file() and shot.stat().st_size > 20_000
    pixels = png_pixels(shot.read_bytes())
    assert pixels.shape[:2] == (1600, 1200)
    rgb = (pixels[..., :3] * 255).round().astype(int)
    assert distinct_colours(pixels) > 200
    # the orange and blue of the mix bar and the chart are on screen
    for colour in ((0xE6, 0x9F, 0x00), (0x00, 0x72, 0xB2)):
        assert (np.abs(rgb - colour).sum(axis=-1) < 12).sum() > 2_000


def test_a_text_posted_many_times_is_shown_once(tmp_path):
    rows = [{**prediction_rows()[0], "id": f"r{i}", "text": "Same promo again, 20% off!", "p_broadcast": 0.999}
            for i in range(50)] + prediction_rows()
    summary = build_report([write_predictions(tmp_path / "p.csv", rows)], tmp_path / "r.html", examples=3)
    typical = [e["text"] for e in summary["examples"]["broadcast"]]
    assert typical[0] == "Same promo again, 20% off!" and len(set(typical)) == len(typical) == 3
    assert summary["broadcast"] == 50 + sum(r["label"] == "broadcast" for r in prediction_rows())


def test_stdin_input(monkeypatch, tmp_path, predictor):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"Flash sale today only!\nhow are you doing?\n\n")))
    summary = build_report(["-"], tmp_path / "r.html", predictor=predictor)
    assert summary["inputs"] == ["stdin"] and summary["posts"] == 3 and summary["classified"] == 2
    assert summary["skipped"] == {"text is empty": 1}  # the same reason `smclass predict` gives


def test_labels_match_the_model_labels():
    from smclass import data, report

    assert report.LABELS == data.LABELS


# --------------------------------------------------------------------------- #
# Honest headlines, density-chosen periods, unsure posts, near-duplicates, the CSV
# --------------------------------------------------------------------------- #

def dated_rows(spec) -> list[dict]:
    """Predictions rows from (date, p_broadcast, text) triples."""
    return [{"id": f"d{i}", "created_at": f"{day}T10:00:00+00:00", "platform": "x", "text": text,
             "label": "broadcast" if p >= 0.5 else "conversational", "p_broadcast": p, "note": ""}
            for i, (day, p, text) in enumerate(spec)]


def distinct_text(i: int) -> str:
    return " ".join(WORDS[int(d)] for d in str(i)) + " and more words"


def test_the_trend_never_rests_on_a_tiny_period(tmp_path):
    spec = [(f"2024-01-{1 + i % 28:02d}", 0.9 if i < 6 else 0.1, distinct_text(i)) for i in range(30)]      # 20 %
    spec += [(f"2024-02-{1 + i % 28:02d}", 0.9 if i < 15 else 0.1, distinct_text(100 + i)) for i in range(30)]  # 50 %
    spec += [("2024-03-05", 0.95, "the one post of march")]                                                  # 1 post
    summary = build_report([write_predictions(tmp_path / "p.csv", dated_rows(spec))], tmp_path / "r.html", period="month")
    trend = summary["trend"]
    assert trend.startswith("In the latest month with 10 or more posts (Feb 2024, 30 posts) 50% of posts were broadcast, "
                            "up 30 points on the earlier month (20% across 30 posts).")
    assert trend.endswith("1 month with fewer than 10 posts is left out of this comparison.")
    assert "Mar 2024" not in trend and "100%" not in trend
    one_month = build_report([write_predictions(tmp_path / "q.csv", dated_rows(spec[:30] + spec[-1:]))],
                             tmp_path / "q.html", period="month")
    assert one_month["trend"] is None   # only one month has enough posts: nothing to compare


@pytest.mark.parametrize("days, posts, expected", [
    (70, 200, "week"),        # 11 weeks, 18 posts a week
    (730, 5000, "month"),     # 105 weeks is too many bars; 25 months of 200
    (240, 30, "quarter"),     # 8 months of under 4 posts; 3 quarters of 10
    (1000, 40, "year"),       # 40 posts over nearly three years
])
def test_auto_period_follows_the_density_of_posts(tmp_path, days, posts, expected):
    start = dt.date(2022, 1, 3)
    spec = [((start + dt.timedelta(days=round(i * days / (posts - 1)))).isoformat(), 0.9 if i % 3 else 0.1,
             distinct_text(i)) for i in range(posts)]
    summary = build_report([write_predictions(tmp_path / "p.csv", dated_rows(spec))], tmp_path / "r.html")
    assert summary["period"] == expected
    assert sum(r["posts"] for r in summary["periods"]) == posts
    if expected == "quarter":
        assert [r["label"] for r in summary["periods"]] == ["Q1 2022", "Q2 2022", "Q3 2022"]
    if expected == "year":
        assert [r["key"] for r in summary["periods"]] == ["2022", "2023", "2024"]


def test_every_shown_tick_says_its_year_where_the_year_changes():
    from smclass.report import _periods, _tick_labels

    days = collections.Counter({(dt.date(2022, 1, 1) + dt.timedelta(days=30 * i), "broadcast"): 1 for i in range(36)})
    _, rows = _periods(days, "month")
    step = 3                                                          # as the chart thins 36 months
    labels = _tick_labels(rows[::step], "month")
    years = [label.split("\n")[1] for label in labels if "\n" in label]
    assert years == ["2022", "2023", "2024"] and labels[0].endswith("\n2022")


def test_least_sure_lists_only_unsure_posts_and_no_post_twice(tmp_path):
    sure = [("2024-01-02", 0.97, "Big spring sale, everything must go"), ("2024-01-03", 0.03, "thanks so much ana")]
    summary = build_report([write_predictions(tmp_path / "p.csv", dated_rows(sure))], tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert summary["examples"]["uncertain"] == []
    assert "None: the model was sure of every post" in element(page, "p", "uncertain")
    # the same promo, near-identical, once unsure and four times sure: shown once in all
    mixed = sure + [("2024-01-04", 0.6, "Spring SALE 20% off https://shop.example/a 🎉")] + \
        [(f"2024-01-{5 + i:02d}", 0.9, f"spring sale {30 + i}% OFF!! https://shop.example/{i}") for i in range(4)]
    summary = build_report([write_predictions(tmp_path / "m.csv", dated_rows(mixed))], tmp_path / "m.html")
    shown = [e["text"] for name in ("uncertain", "broadcast", "conversational") for e in summary["examples"][name]]
    assert all(abs(e["p_broadcast"] - 0.5) <= 0.15 for e in summary["examples"]["uncertain"])
    assert sum("spring sale" in t.lower() and "%" in t for t in shown) == 1
    assert len(shown) == len(set(shown)) == 3


def test_near_duplicates_are_collapsed_in_the_typical_lists(tmp_path):
    promos = [(f"2024-02-{1 + i:02d}", 0.99 - i / 1000, f"🔥 FLASH SALE: {10 + i}% off with code SAVE{i}! "
               f"https://shop.example/p/{i} @friend{i} #sale") for i in range(20)]
    others = [(f"2024-02-{1 + i:02d}", 0.8, f"new {w} collection is live") for i, w in enumerate(WORDS[:5])]
    summary = build_report([write_predictions(tmp_path / "p.csv", dated_rows(promos + others))], tmp_path / "r.html",
                           examples=6)
    typical = [e["text"] for e in summary["examples"]["broadcast"]]
    assert sum("FLASH SALE" in t for t in typical) == 1 and len(typical) == 6
    assert summary["broadcast"] == 25   # collapsed on the page, all counted


def test_the_per_period_table_is_written_as_csv_beside_the_html(tmp_path):
    source = write_predictions(tmp_path / "predictions.csv", prediction_rows())
    (tmp_path / "out").mkdir()
    done = run_cli("report", source, "-o", tmp_path / "out" / "mix.html", "--period", "month")
    assert done.returncode == 0, done.stderr
    table = tmp_path / "out" / "mix.periods.csv"
    assert f"wrote {tmp_path / 'out' / 'mix.html'}, {table}." in done.stderr
    rows = list(csv.DictReader(table.open(encoding="utf-8")))
    assert [r["period"] for r in rows] == ["2024-01", "2024-02", "2024-03", "2024-04", "undated"]
    assert rows[0]["label"] == "Jan 2024" and rows[-1]["label"] == "Undated"
    kept = [r for r in prediction_rows() if r["label"]]
    assert sum(int(r["posts"]) for r in rows) == len(kept)
    for r in rows[:-1]:
        month = [k for k in kept if k["created_at"].startswith(r["period"])]
        assert int(r["broadcast"]) == sum(k["label"] == "broadcast" for k in month)
        assert float(r["broadcast_share"]) == pytest.approx(int(r["broadcast"]) / len(month), abs=1e-4)
