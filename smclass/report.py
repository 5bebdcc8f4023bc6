"""``smclass report``: one self-contained HTML page that answers "what is my mix, and how is it changing?".

The page shows the share of broadcast and conversational posts overall, per
month (or week) and per account, platform or input file, a chart of the mix
over time, the posts the model was least sure about next to the most typical
posts of each kind (so a reader can judge the model), and what was left out.

Inputs are whatever ``smclass predict`` reads, or a predictions file that it
wrote (recognised by its ``label`` and ``p_broadcast`` columns, whose labels
are used as they are). Reading streams: only counts per day and per group and
a few example posts are kept, so any input size fits in flat memory.

The page has no scripts and loads nothing from the network: CSS is inline and
the chart is a PNG embedded as a ``data:`` URI, so it opens offline in any
browser. Every post text is HTML-escaped.

    build_report(["tweets.js"], "report.html")
    # {'output': 'report.html', 'posts': 1234, 'classified': 1200, 'broadcast_share': 0.42, ...}
"""

from __future__ import annotations

import base64
import collections
import datetime as dt
import heapq
import html
import io
import itertools
import math
import re
from pathlib import Path

from . import __version__
from .errors import DataError, UsageError
from .progress import InputProgress

# smclass.data.LABELS, spelled out so that building the CLI parser does not import numpy.
LABELS = BROADCAST, CONVERSATIONAL = ("broadcast", "conversational")
PERIODS = ("auto", "week", "month", "quarter", "year")
MIN_PERIOD_POSTS = 10   # "auto" picks the finest period with at least this many posts per period on average,
MAX_PERIODS = 60        # and at most this many periods; the trend compares only periods this full
UNSURE = 0.15           # "least sure" lists only posts with p_broadcast within this of 0.5
EXAMPLES = 6            # posts shown in each of the uncertain / typical lists
MAX_GROUP_ROWS = 15     # rows per group table before the rest is folded into "other"
CHUNK = 5_000
TEXT_LIMIT = 300        # characters of a post shown in the example lists

# Okabe-Ito colours: distinguishable with every common form of colour blindness.
COLOURS = {BROADCAST: "#E69F00", CONVERSATIONAL: "#0072B2"}
INK, MUTED, GRID = "#1f2328", "#57606a", "#d8dee4"

_DATE_KEYS = ("created_at", "date", "timestamp", "published", "datetime", "created_time",
              "creation_timestamp", "posted_at", "created", "time")
_ACCOUNT_KEYS = ("account", "author", "username", "user_name", "screen_name", "handle", "user")
_PLATFORM_KEYS = ("platform", "network")
_DIMENSIONS = (("account", "Account"), ("platform", "Platform"), ("input", "Input file"))


# --------------------------------------------------------------------------- #
# Reading: posts in, counts and examples out
# --------------------------------------------------------------------------- #

def _parse_date(value) -> dt.date | None:
    """A post's calendar day (UTC) from ISO 8601, X's format, or Unix seconds/milliseconds."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        return value
    elif isinstance(value, (int, float)):
        return _from_unix(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if re.fullmatch(r"\d{9,13}(\.\d+)?", text):
            return _from_unix(float(text))
        text = text.removesuffix("UTC").strip()
        try:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            try:
                moment = dt.datetime.strptime(text, "%a %b %d %H:%M:%S %z %Y")
            except ValueError:
                return None
    else:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc)
    return moment.date()


def _from_unix(seconds: float) -> dt.date | None:
    if not math.isfinite(seconds):
        return None
    if seconds > 1e11:  # milliseconds
        seconds /= 1000.0
    try:
        return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).date()
    except (OverflowError, OSError, ValueError):
        return None


def _field(extra: dict, keys: tuple[str, ...]):
    """The first non-blank value among ``keys`` (case-insensitive) in a record's other columns."""
    if not extra:
        return None
    lowered = {str(k).lower(): v for k, v in extra.items()}
    for key in keys:
        value = lowered.get(key)
        if value not in (None, ""):
            return value
    return None


def _is_predictions(posts: list) -> bool:
    """A file ``smclass predict`` wrote: its records carry both label and p_broadcast columns."""
    return any("label" in post.extra and "p_broadcast" in post.extra for post in posts)


def _compact(text: str, limit: int = TEXT_LIMIT) -> str:
    text = re.sub(r"\n{3,}", "\n\n", text.strip())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class _Tally:
    """Everything the page needs, gathered one post at a time."""

    def __init__(self, examples: int):
        self.read = 0
        self.counts = collections.Counter()                 # label -> n
        self.days = collections.Counter()                   # (date, label) -> n
        self.undated = collections.Counter()                # label -> n
        self.groups = {dim: collections.Counter() for dim, _ in _DIMENSIONS}  # dim -> (value, label) -> n
        self.skipped = collections.Counter()                # reason -> n
        self.langs = collections.Counter()                  # ISO 639-1 code (or "unknown") -> classified posts
        self.pool = examples
        self._heaps = {"uncertain": [], BROADCAST: [], CONVERSATIONAL: []}
        self._seen = {name: set() for name in self._heaps}
        self._seq = itertools.count()

    def skip(self, reason: str | None) -> None:
        self.read += 1
        self.skipped[reason or "no text"] += 1

    def add(self, *, label: str, p: float, text: str, day, groups: dict, where: str, ident) -> None:
        self.read += 1
        self.counts[label] += 1
        if day is None:
            self.undated[label] += 1
        else:
            self.days[(day, label)] += 1
        for dim, value in groups.items():
            if value not in (None, ""):
                self.groups[dim][(str(value), label)] += 1
        seq = next(self._seq)
        item = (text, p, label, day, where, ident, groups.get("platform"), groups.get("account"))
        if math.isfinite(p):  # each post goes to one list: unsure, or typical of its label
            if abs(p - 0.5) <= UNSURE:
                self._keep("uncertain", -abs(p - 0.5), seq, item)
            elif label == BROADCAST:
                self._keep(BROADCAST, p, seq, item)
            else:
                self._keep(CONVERSATIONAL, -p, seq, item)

    def _keep(self, name: str, key: float, seq: int, item) -> None:
        """Keep the ``pool`` best distinct texts (a text posted many times, or near-identical
        copies of it, take one place)."""
        heap, seen = self._heaps[name], self._seen[name]
        if len(heap) >= self.pool and (key, -seq) <= heap[0][:2]:
            return
        norm = near_duplicate_key(item[0])
        if norm in seen:
            return
        seen.add(norm)
        if len(heap) < self.pool:
            heapq.heappush(heap, (key, -seq, norm, item))
        else:
            seen.discard(heapq.heapreplace(heap, (key, -seq, norm, item))[2])

    def examples(self, name: str, k: int, shown: set | None = None) -> list[dict]:
        """The ``k`` best distinct posts of one list (best first; near-duplicates of a text shown once,
        and none already in ``shown``, the keys of the lists built before it, which this extends)."""
        out = []
        shown = set() if shown is None else shown
        for _, _, key, (text, p, label, day, where, ident, platform, account) in sorted(self._heaps[name], reverse=True):
            if key in shown:
                continue
            shown.add(key)
            out.append({"text": text, "p_broadcast": round(float(p), 4), "label": label,
                        "date": day.isoformat() if day else None, "where": where, "id": ident,
                        "platform": platform, "account": account})
            if len(out) == k:
                break
        return out


_VARYING = re.compile(r"https?://\S+|www\.\S+|[@#][\w.]+|\S+@\S+")
_WORD = re.compile(r"[^\W\d_]+")


def near_duplicate_key(text: str) -> str:
    """What is left of a post without its links, @mentions, #tags, numbers, emoji, punctuation and case:
    posts that differ only in those are near-identical (the same promo with another link or price).

    >>> near_duplicate_key("SALE: 20% off 👉 https://x.co/a @ana") == near_duplicate_key("Sale - 30% off! https://x.co/b")
    True
    """
    words = _WORD.findall(_VARYING.sub(" ", text).casefold())
    return " ".join(words) or " ".join(text.casefold().split())


def _input_name(name: str) -> str:
    return "stdin" if name == "-" else Path(name).name


def _ticking(posts, tally: _Tally, bar, every: int = 1_000):
    """The posts unchanged, telling the progress bar how many are done every ``every`` posts."""
    for i, post in enumerate(posts, start=1):
        if i % every == 0:
            bar.update(tally.read)
        yield post


def _read_inputs(inputs, tally: _Tally, *, predictor_factory, read_kwargs: dict, threshold, bar=None,
                 lang: bool = True) -> dict:
    """Feed every post of every input to ``tally``; say which inputs were predicted and which were read."""
    from .exports import read_posts

    if not inputs:
        raise UsageError("Give at least one input file.")
    if "-" in inputs and len(inputs) > 1:
        raise UsageError("stdin ('-') cannot be combined with other inputs.")
    several = len(inputs) > 1
    kinds = {"predicted": [], "predictions_files": []}
    for name in inputs:
        stream = iter(read_posts(name, **read_kwargs))
        head = list(itertools.islice(stream, 50))
        posts = itertools.chain(head, stream)
        if bar is not None:
            posts = _ticking(posts, tally, bar)
        label = _input_name(name)
        if _is_predictions(head):
            kinds["predictions_files"].append(label)
            _take_predictions(posts, tally, label if several else None, threshold, lang)
        else:
            kinds["predicted"].append(label)
            _classify(posts, tally, label if several else None, predictor_factory(), lang)
    return kinds


def _groups_of(post, source: str | None) -> dict:
    extra = post.extra or {}
    return {
        "account": _field(extra, _ACCOUNT_KEYS),
        "platform": post.platform or _field(extra, _PLATFORM_KEYS),
        "input": extra.get("input") or source,
    }


def _day_of(post):
    return _parse_date(post.created_at) if post.created_at else _parse_date(_field(post.extra, _DATE_KEYS))


def _classify(posts, tally: _Tally, source: str | None, predictor, lang: bool = True) -> None:
    while chunk := list(itertools.islice(posts, CHUNK)):
        texts = [post.text for post in chunk]
        labels, p, notes = predictor.predict_many(texts)
        if lang:
            from .lang import detect

            codes = detect(texts)
        for post, label, prob, note, i in zip(chunk, labels, p.tolist(), notes, itertools.count()):
            if label is None:
                tally.skip(post.note if post.text is None else note)
                continue
            if lang:
                tally.langs[codes[i] or "unknown"] += 1
            tally.add(label=label, p=prob, text=post.text, day=_day_of(post),
                      groups=_groups_of(post, source), where=post.where, ident=post.id)


def _take_predictions(posts, tally: _Tally, source: str | None, threshold, lang: bool = True) -> None:
    """Rows of a predictions file: its labels as they are (or re-thresholded with --threshold);
    its ``lang`` column when it has one (empty: unknown), else the language detected here."""
    for post in posts:
        extra = post.extra or {}
        label = (extra.get("label") or "").strip()
        raw_p = extra.get("p_broadcast")
        if post.text is None or (label == "" and raw_p in (None, "")):
            tally.skip(extra.get("note") or post.note)
            continue
        try:
            p = float(raw_p) if raw_p not in (None, "") else math.nan
        except (TypeError, ValueError):
            raise DataError(f"{post.where}: p_broadcast {raw_p!r} is not a number.") from None
        if threshold is not None and math.isfinite(p):
            label = BROADCAST if p >= threshold else CONVERSATIONAL
        if label not in LABELS:
            raise DataError(f"{post.where}: label {label!r} is neither {BROADCAST!r} nor {CONVERSATIONAL!r}.")
        if lang:
            if "lang" in extra:
                code = str(extra["lang"] or "").strip() or None
            else:
                from .lang import detect_one

                code = detect_one(post.text)
            tally.langs[code or "unknown"] += 1
        tally.add(label=label, p=p, text=post.text, day=_day_of(post),
                  groups=_groups_of(post, source), where=post.where, ident=post.id)


# --------------------------------------------------------------------------- #
# Periods
# --------------------------------------------------------------------------- #

def _period_start(day: dt.date, period: str) -> dt.date:
    if period == "week":
        return day - dt.timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    if period == "quarter":
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return dt.date(day.year, 1, 1)


def _next_period(start: dt.date, period: str) -> dt.date:
    if period == "week":
        return start + dt.timedelta(days=7)
    if period == "year":
        return dt.date(start.year + 1, 1, 1)
    months = 3 if period == "quarter" else 1
    month = start.month - 1 + months
    return dt.date(start.year + month // 12, month % 12 + 1, 1)


def _period_label(start: dt.date, period: str) -> str:
    if period == "month":
        return start.strftime("%b %Y")
    if period == "quarter":
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    if period == "year":
        return str(start.year)
    return f"week of {start.day} {start.strftime('%b %Y')}"


def _period_key(start: dt.date, period: str) -> str:
    if period == "month":
        return start.strftime("%Y-%m")
    if period == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    if period == "year":
        return str(start.year)
    year, week, _ = start.isocalendar()
    return f"{year}-W{week:02d}"


def _count_periods(first: dt.date, last: dt.date, period: str) -> int:
    if period == "week":
        return (_period_start(last, "week") - _period_start(first, "week")).days // 7 + 1
    months = (last.year - first.year) * 12 + last.month - first.month
    if period == "month":
        return months + 1
    if period == "quarter":
        return (last.year - first.year) * 4 + (last.month - 1) // 3 - (first.month - 1) // 3 + 1
    return last.year - first.year + 1


def choose_period(dates: list[dt.date], posts: int) -> str:
    """The finest of week, month, quarter and year with at least MIN_PERIOD_POSTS posts per period on
    average and no more than MAX_PERIODS periods, so a sparse account does not zig-zag 0 %/100 %."""
    for period in ("week", "month", "quarter"):
        n = _count_periods(dates[0], dates[-1], period)
        if n <= MAX_PERIODS and posts / n >= MIN_PERIOD_POSTS:
            return period
    return "year"


def _periods(days: collections.Counter, period: str) -> tuple[str, list[dict]]:
    """Choose week or month and count every period from the first dated post to the last (gaps included)."""
    dates = sorted({day for day, _ in days})
    if not dates:
        return ("month" if period == "auto" else period), []
    if period == "auto":
        period = choose_period(dates, sum(days.values()))
    buckets: dict[dt.date, collections.Counter] = collections.defaultdict(collections.Counter)
    for (day, label), n in days.items():
        buckets[_period_start(day, period)][label] += n
    rows, start, last = [], _period_start(dates[0], period), _period_start(dates[-1], period)
    while start <= last:
        counts = buckets.get(start, collections.Counter())
        rows.append(_row(counts, key=_period_key(start, period), label=_period_label(start, period),
                         start=start.isoformat()))
        start = _next_period(start, period)
    return period, rows


def _row(counts, **fields) -> dict:
    b, c = counts.get(BROADCAST, 0), counts.get(CONVERSATIONAL, 0)
    n = b + c
    return {**fields, "posts": n, BROADCAST: b, CONVERSATIONAL: c, "broadcast_share": (b / n) if n else None}


def _group_rows(counter: collections.Counter) -> list[dict]:
    by_value: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for (value, label), n in counter.items():
        by_value[value][label] += n
    rows = [_row(counts, name=value) for value, counts in by_value.items()]
    rows.sort(key=lambda r: (-r["posts"], r["name"]))
    if len(rows) > MAX_GROUP_ROWS:
        rest = rows[MAX_GROUP_ROWS - 1:]
        folded = collections.Counter({BROADCAST: sum(r[BROADCAST] for r in rest),
                                      CONVERSATIONAL: sum(r[CONVERSATIONAL] for r in rest)})
        rows = rows[: MAX_GROUP_ROWS - 1] + [_row(folded, name=f"{len(rest)} others", other=True)]
    return rows


def _trend(rows: list[dict], period: str) -> str | None:
    """One sentence: the latest period with enough posts against the earlier ones with enough posts.

    A period with fewer than MIN_PERIOD_POSTS posts is never compared: one post makes 0 % or 100 %.
    """
    full = [r for r in rows if r["posts"] >= MIN_PERIOD_POSTS]
    if len(full) < 2:
        return None
    last = full[-1]
    before_b = sum(r[BROADCAST] for r in full[:-1])
    before_n = sum(r["posts"] for r in full[:-1])
    then, now = before_b / before_n, last["broadcast_share"]
    points = round((now - then) * 100)
    direction = "about the same as" if points == 0 else f"{'up' if points > 0 else 'down'} {abs(points)} points on"
    name = last["label"].replace("week of", "the week of")
    newest = rows[-1] is last or all(r["posts"] == 0 for r in rows[rows.index(last) + 1:])
    latest = f"the latest {period}" if newest else f"the latest {period} with {MIN_PERIOD_POSTS} or more posts"
    skipped = len([r for r in rows if 0 < r["posts"] < MIN_PERIOD_POSTS])
    note = (f" {_n(skipped, period)} with fewer than {MIN_PERIOD_POSTS} posts {'is' if skipped == 1 else 'are'} "
            "left out of this comparison." if skipped else "")
    earlier = f"the {'earlier ' + period if len(full) == 2 else _n(len(full) - 1, 'earlier ' + period)}"
    return (f"In {latest} ({name}, {_n(last['posts'], 'post')}) {now:.0%} of posts were broadcast, "
            f"{direction} {earlier} ({then:.0%} across {_n(before_n, 'post')}).{note}")


def _n(count: int, noun: str) -> str:
    """'1 post', '2 posts', '1,234 posts'."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


# --------------------------------------------------------------------------- #
# The chart
# --------------------------------------------------------------------------- #

def _style_axes(ax) -> None:
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(GRID)
    ax.tick_params(colors=MUTED, labelsize=10, length=0)
    ax.grid(axis="y", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)


def _tick_labels(rows: list[dict], period: str) -> list[str]:
    """Labels of the ticks shown; the first and every one where the year changes carry the year."""
    labels, year = [], None
    for row in rows:
        start = dt.date.fromisoformat(row["start"])
        if period == "year":
            labels.append(str(start.year))
            continue
        if period == "month":
            text = start.strftime("%b")
        elif period == "quarter":
            text = f"Q{(start.month - 1) // 3 + 1}"
        else:
            text = f"{start.day} {start.strftime('%b')}"
        if start.year != year:
            text += f"\n{start.year}"
            year = start.year
        labels.append(text)
    return labels


def render_chart(rows: list[dict], period: str, overall_share: float | None, *, title: str,
                 groups: list[dict] | None = None, total: int | None = None) -> bytes:
    """:func:`_render_chart` with every label taken as plain text: an account, file name or title
    such as ``$\\foo$`` is drawn as written, never parsed as mathtext (or LaTeX)."""
    import matplotlib

    from .writers import scrub

    title = scrub(title)        # a lone surrogate (from a broken emoji escape) cannot be drawn: U+FFFD
    groups = [{**g, "name": scrub(str(g["name"]))} for g in groups] if groups else groups
    with matplotlib.rc_context({"text.parse_math": False, "text.usetex": False}):
        return _render_chart(rows, period, overall_share, title=title, groups=groups, total=total)


def _render_chart(rows: list[dict], period: str, overall_share: float | None, *, title: str,
                  groups: list[dict] | None = None, total: int | None = None) -> bytes:
    """The mix as a PNG: broadcast share per period (stacked to 100%) over the number of posts.

    Without dated posts it shows the overall mix and, if given, the mix per group instead.
    Uses the Agg canvas directly, so the caller's matplotlib backend is left alone.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    b_col, c_col = COLOURS[BROADCAST], COLOURS[CONVERSATIONAL]
    if not rows:
        return _group_chart(groups or [], overall_share, title=title, total=total)
    n = len(rows)
    x = list(range(n))
    share = [r["broadcast_share"] if r["posts"] else 0.0 for r in rows]
    rest = [(1 - s) if r["posts"] else 0.0 for s, r in zip(share, rows)]
    width = 0.72
    label_bars = n <= 26

    fig = Figure(figsize=(11, 6.2), dpi=130, facecolor="white")
    grid = fig.add_gridspec(2, 1, height_ratios=(3.1, 1.25), hspace=0.12, left=0.07, right=0.9, top=0.82, bottom=0.11)
    top = fig.add_subplot(grid[0])
    low = fig.add_subplot(grid[1], sharex=top)
    top.bar(x, share, width, color=b_col, label="Broadcast", edgecolor="white", linewidth=0.6)
    top.bar(x, rest, width, bottom=share, color=c_col, label="Conversational", edgecolor="white", linewidth=0.6)
    top.set_ylim(0, 1)
    top.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    top.set_yticks([0, 0.25, 0.5, 0.75, 1])
    _style_axes(top)
    top.tick_params(axis="x", labelbottom=False)
    top.set_ylabel("share of posts", color=MUTED, fontsize=10)
    if label_bars:
        size = 10 if n <= 14 else 8
        for xi, s, r in zip(x, share, rows):
            if not r["posts"]:
                top.text(xi, 0.5, "no posts", ha="center", va="center", rotation=90, color=MUTED, fontsize=8)
            elif s >= 0.07:
                top.text(xi, s / 2, f"{s:.0%}", ha="center", va="center", color=INK, fontsize=size, fontweight="bold")
    if n >= 8:  # a moving average makes the direction readable through week-to-week noise
        from matplotlib.patheffects import withStroke

        window = {"week": 4, "month": 3}.get(period, 2)
        moving = []
        for i in range(n):
            recent = rows[max(0, i - window + 1): i + 1]
            total = sum(r["posts"] for r in recent)
            moving.append(sum(r[BROADCAST] for r in recent) / total if total else math.nan)
        top.plot(x, moving, color=INK, linewidth=2.2, solid_capstyle="round", label=f"{window}-{period} moving average",
                 path_effects=[withStroke(linewidth=5, foreground="white")])
    if overall_share is not None:
        top.axhline(overall_share, color=INK, linewidth=1.2, linestyle=(0, (4, 3)))
        top.annotate(f"overall\n{overall_share:.0%} broadcast", xy=(1.0, overall_share), xycoords=("axes fraction", "data"),
                     xytext=(8, 0), textcoords="offset points", va="center", ha="left", fontsize=9.5, color=INK)

    totals = [r["posts"] for r in rows]
    low.bar(x, [r[BROADCAST] for r in rows], width, color=b_col, edgecolor="white", linewidth=0.6)
    low.bar(x, [r[CONVERSATIONAL] for r in rows], width, bottom=[r[BROADCAST] for r in rows], color=c_col,
            edgecolor="white", linewidth=0.6)
    _style_axes(low)
    low.set_ylabel("posts", color=MUTED, fontsize=10)
    peak = max(totals) or 1
    low.set_ylim(0, peak * 1.28)
    low.yaxis.set_major_locator(_int_locator())
    if label_bars:
        for xi, t in zip(x, totals):
            if t:
                low.text(xi, t + peak * 0.04, f"{t:,}", ha="center", va="bottom", fontsize=8.5, color=MUTED)
    step = max(1, math.ceil(n / 16))
    low.set_xticks(x[::step], _tick_labels(rows[::step], period))
    pad = max(0.0, (6 - n) / 2)  # a lone week should not fill the whole width
    low.set_xlim(-0.6 - pad, n - 0.4 + pad)

    fig.text(0.07, 0.955, title, fontsize=16, fontweight="bold", color=INK, ha="left", va="top")
    first, last = rows[0], rows[-1]
    span = first["label"] if n == 1 else f"{first['label']} to {last['label']}"
    fig.text(0.07, 0.895, f"Share of broadcast and conversational posts per {period}, {span}; bottom: posts per {period}",
             fontsize=10.5, color=MUTED, ha="left", va="top")
    handles, labels = top.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda i: "moving" in labels[i])  # the two colours first
    top.legend([handles[i] for i in order], [labels[i] for i in order],
               loc="lower right", bbox_to_anchor=(1.0, 1.01), ncol=3, frameon=False, fontsize=10,
               handlelength=1.2, handleheight=1.0, borderaxespad=0.2)
    return _png(fig)


def _int_locator():
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(nbins=3, integer=True)


def _group_chart(groups: list[dict], overall_share: float | None, *, title: str, total: int | None) -> bytes:
    """Undated posts only: horizontal 100% bars, all posts first, then each group."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    rows = [{"name": "All posts", "broadcast_share": overall_share, "posts": total}] + [g for g in groups if g["posts"]][:12]
    rows = [r for r in rows if r["broadcast_share"] is not None]
    height = 1.75 + 0.52 * len(rows)  # inches: 1.2 above the bars for titles, 0.55 below for the axis
    fig = Figure(figsize=(11, height), dpi=130, facecolor="white")
    ax = fig.add_axes((0.2, 0.55 / height, 0.75, 1 - 1.75 / height))
    y = list(range(len(rows)))[::-1]
    share = [r["broadcast_share"] for r in rows]
    ax.barh(y, share, 0.66, color=COLOURS[BROADCAST], label="Broadcast", edgecolor="white")
    ax.barh(y, [1 - s for s in share], 0.66, left=share, color=COLOURS[CONVERSATIONAL], label="Conversational",
            edgecolor="white")
    for yi, s in zip(y, share):
        if s >= 0.06:
            ax.text(s / 2, yi, f"{s:.0%}", ha="center", va="center", fontsize=10, fontweight="bold", color=INK)
    names = [r["name"] if len(r["name"]) <= 28 else r["name"][:27] + "…" for r in rows]
    ax.set_yticks(y, [name if r["posts"] is None else f"{name} ({r['posts']:,})" for name, r in zip(names, rows)])
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    _style_axes(ax)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", color=GRID, linewidth=0.8)
    fig.text(0.02, 1 - 0.22 / height, title, fontsize=16, fontweight="bold", color=INK, ha="left", va="top")
    fig.text(0.02, 1 - 0.62 / height, "The posts have no dates, so this is the mix overall and per group, without a timeline",
             fontsize=10.5, color=MUTED, ha="left", va="top")
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.01), ncol=2, frameon=False, fontsize=10)
    return _png(fig)


def _png(fig) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", facecolor="white")
    return buffer.getvalue()


# --------------------------------------------------------------------------- #
# The page
# --------------------------------------------------------------------------- #

CSS = """
:root { --b: #E69F00; --c: #0072B2; --ink: #1f2328; --muted: #57606a; --line: #d8dee4; --bg: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 16px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif,
  "Apple Color Emoji", "Segoe UI Emoji", "Noto Color Emoji"; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 24px 48px; }
header h1 { font-size: 30px; line-height: 1.2; margin: 0 0 6px; }
header p { margin: 0; color: var(--muted); }
section { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 22px 26px; margin-top: 20px; }
h2 { font-size: 21px; margin: 0 0 4px; }
h3 { font-size: 16px; margin: 18px 0 8px; }
.lede { color: var(--muted); margin: 0 0 14px; }
.stats { display: flex; gap: 16px; flex-wrap: wrap; margin: 14px 0 16px; }
.stat { flex: 1 1 220px; border-radius: 8px; padding: 14px 18px; border: 1px solid var(--line); }
.stat .big { font-size: 44px; font-weight: 700; line-height: 1.05; }
.stat .what { font-size: 15px; font-weight: 600; }
.stat .n { color: var(--muted); font-size: 14px; }
.stat.broadcast { border-left: 8px solid var(--b); }
.stat.conversational { border-left: 8px solid var(--c); }
.stat.other { border-left: 8px solid var(--line); }
.mix { display: flex; height: 34px; border-radius: 6px; overflow: hidden; background: var(--line); }
.mix.small { height: 16px; border-radius: 4px; min-width: 160px; }
.mix span { display: block; height: 100%; }
.mix .b { background: var(--b); }
.mix .c { background: var(--c); }
.trend { font-size: 17px; margin: 6px 0 14px; }
figure { margin: 0; }
figure img { width: 100%; height: auto; display: block; border-radius: 6px; }
figcaption { color: var(--muted); font-size: 14px; margin-top: 6px; }
table { border-collapse: collapse; width: 100%; font-size: 15px; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: middle; }
th { color: var(--muted); font-weight: 600; font-size: 13px; text-transform: uppercase; letter-spacing: .03em; }
td.num, th.num { text-align: right; }
td.bar { width: 34%; }
tr.empty td { color: var(--muted); }
details summary { cursor: pointer; color: var(--muted); margin: 10px 0 6px; }
.cols { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 18px; }
.posts { list-style: none; margin: 0; padding: 0; }
.posts.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 0 18px; }
.posts li { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; margin-bottom: 10px; background: #fff; }
.post-text { white-space: pre-wrap; overflow-wrap: anywhere; margin: 6px 0 4px; }
.meta { color: var(--muted); font-size: 13px; }
.p { display: inline-block; font-weight: 700; font-size: 13px; border-radius: 999px; padding: 1px 9px; }
.p.b { background: #fbe7bf; color: #6b4a00; }
.p.c { background: #cfe3f3; color: #003d66; }
.p.u { background: #eaeef2; color: var(--ink); }
.gauge { display: inline-block; vertical-align: middle; width: 90px; height: 8px; border-radius: 4px; margin-left: 8px;
  background: linear-gradient(90deg, var(--c), #eaeef2 50%, var(--b)); position: relative; }
.gauge i { position: absolute; top: -3px; width: 3px; height: 14px; background: var(--ink); border-radius: 1px; }
.key { display: inline-block; width: 12px; height: 12px; border-radius: 2px; vertical-align: -1px; margin-right: 4px; }
.note { color: var(--muted); font-size: 14px; }
footer { color: var(--muted); font-size: 13px; margin-top: 22px; }
@media print { body { background: #fff; } section { break-inside: avoid; } }
"""


def _e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _pct(share) -> str:
    return "–" if share is None else f"{share:.0%}"


def _mix_bar(share, small: bool = False) -> str:
    if share is None:
        return f'<div class="mix{" small" if small else ""}" role="img" aria-label="no posts"></div>'
    b = round(share * 100, 2)
    return (f'<div class="mix{" small" if small else ""}" role="img" aria-label="{b:.0f}% broadcast">'
            f'<span class="b" style="width:{b}%"></span><span class="c" style="width:{100 - b:.2f}%"></span></div>')


def _table(rows: list[dict], first: str, name_key: str, *, css_id: str) -> str:
    body = []
    for r in rows:
        empty = ' class="empty"' if not r["posts"] else ""
        body.append(
            f"<tr{empty}><td>{_e(r[name_key])}</td><td class=\"num\">{r['posts']:,}</td>"
            f"<td class=\"num\">{r[BROADCAST]:,}</td><td class=\"num\">{r[CONVERSATIONAL]:,}</td>"
            f"<td class=\"num\"><strong>{_pct(r['broadcast_share'])}</strong></td>"
            f"<td class=\"bar\">{_mix_bar(r['broadcast_share'], small=True)}</td></tr>"
        )
    return (f'<table id="{css_id}"><thead><tr><th>{_e(first)}</th><th class="num">Posts</th>'
            f'<th class="num"><span class="key" style="background:var(--b)"></span>Broadcast</th>'
            f'<th class="num"><span class="key" style="background:var(--c)"></span>Conversational</th>'
            f'<th class="num">Broadcast share</th><th>Mix</th></tr></thead><tbody>{"".join(body)}</tbody></table>')


def _post_list(items: list[dict], css_id: str, kind: str, grid: bool = False) -> str:
    if not items:
        return f'<p class="note" id="{css_id}">No posts.</p>'
    out = []
    for item in items:
        p = item["p_broadcast"]
        badge = "b" if kind == BROADCAST else "c" if kind == CONVERSATIONAL else "u"
        meta = [item["label"]]
        if item.get("date"):
            meta.append(item["date"])
        for key in ("platform", "account"):
            if item.get(key):
                meta.append(str(item[key]))
        if item.get("where"):
            meta.append(item["where"])
        out.append(
            f'<li><span class="p {badge}">p = {p:.2f}</span>'
            f'<span class="gauge" title="p_broadcast {p:.3f}"><i style="left:calc({p * 100:.1f}% - 1px)"></i></span>'
            f'<div class="post-text">{_e(_compact(item["text"]))}</div>'
            f'<div class="meta">{_e(" · ".join(meta))}</div></li>'
        )
    return f'<ol class="posts{" grid" if grid else ""}" id="{css_id}">{"".join(out)}</ol>'


def _model_line(predictor, kinds: dict, threshold) -> str:
    parts = []
    if kinds["predicted"] and predictor is not None:
        card = predictor.card or {}
        made = card.get("created_at", "an unknown date")
        test = card.get("test") or {}
        quality = ""
        if test.get("macro_f1") is not None:
            quality = f", macro-F1 {test['macro_f1']:.2f} on {test.get('n', 0):,} held-out posts"
        parts.append(f"Classified by the smclass model made {made}{quality}; a post counts as broadcast when "
                     f"p_broadcast ≥ {predictor.threshold:g}.")
    if kinds["predictions_files"]:
        how = (f"re-labelled at p_broadcast ≥ {threshold:g}" if threshold is not None
               else "as they were written by smclass predict")
        parts.append(f"Labels from predictions file{'s' if len(kinds['predictions_files']) > 1 else ''} "
                     f"{', '.join(kinds['predictions_files'])}, {how}.")
    return " ".join(parts)


def _languages_section(summary: dict) -> str:
    """The language mix: posts and share per detected language (empty without detection)."""
    langs = summary.get("languages") or []
    if not langs:
        return ""
    other = sum(row["posts"] for row in langs if row["lang"] not in ("en", "unknown"))
    rows = "".join(f'<tr><td>{_e(row["lang"])}</td><td class="num">{row["posts"]:,}</td>'
                   f'<td class="num">{_pct(row["share"])}</td></tr>' for row in langs)
    warning = (f'<p class="note">{_n(other, "classified post")} not in English: the model was trained on English '
               'posts, so treat their labels with care.</p>' if other else "")
    return ('<section id="languages"><h2>Which languages?</h2><p class="lede">Each classified post\'s language '
            '(ISO 639-1 code; "unknown" when a post is too short to tell).</p>' + warning
            + '<table id="language-mix"><thead><tr><th>Language</th><th class="num">Posts</th>'
            f'<th class="num">Share</th></tr></thead><tbody>{rows}</tbody></table></section>')


def render_html(summary: dict, chart_png: bytes, *, title: str, model_line: str) -> str:
    """The whole page as one string (no scripts, no external resources)."""
    n = summary["classified"]
    b, c = summary[BROADCAST], summary[CONVERSATIONAL]
    share = summary["broadcast_share"]
    skipped = sum(summary["skipped"].values())
    period = summary["period"]
    inputs = ", ".join(summary["inputs"])
    rows = summary["periods"]
    dated = n - summary["undated"]

    first, last = (rows[0]["label"], rows[-1]["label"]) if rows else (None, None)
    span = "" if not rows else (f" · {first}" if first == last else f" · {first} to {last}")
    posts_line = f"{summary['posts']:,} posts from {inputs}{span}"
    head = f"<header><h1>{_e(title)}</h1><p>{_e(posts_line)}</p></header>"

    stats = (
        '<div class="stats">'
        f'<div class="stat broadcast"><div class="what"><span class="key" style="background:var(--b)"></span>Broadcast</div>'
        f'<div class="big">{_pct(share)}</div><div class="n">{b:,} posts: promotion, announcements, news</div></div>'
        f'<div class="stat conversational"><div class="what"><span class="key" style="background:var(--c)"></span>Conversational</div>'
        f'<div class="big">{_pct(None if share is None else 1 - share)}</div><div class="n">{c:,} posts: replies, questions, community</div></div>'
        f'<div class="stat other"><div class="what">Not classified</div><div class="big">{skipped:,}</div>'
        f'<div class="n">posts without text (see the last section)</div></div>'
        '</div>'
    )
    overall = (
        '<section id="overall"><h2>What is the mix?</h2>'
        f'<p class="lede">{n:,} of {summary["posts"]:,} posts had text to classify. Too much broadcast and the '
        'audience tunes out; too little and nothing gets sold.</p>'
        f'{stats}{_mix_bar(share)}</section>'
    )

    chart = (f'<figure><img alt="Chart: share of broadcast and conversational posts per {period}" '
             f'src="data:image/png;base64,{base64.b64encode(chart_png).decode("ascii")}">'
             f'<figcaption>Orange: broadcast. Blue: conversational.'
             + (" The dashed line is the overall broadcast share." if rows else "")
             + (" The solid line is the broadcast share over the last few periods (a moving average)."
                if len(rows) >= 8 else "")
             + '</figcaption></figure>')
    if rows:
        trend = summary.get("trend")
        table_rows = rows + ([_row(collections.Counter(summary["undated_counts"]), label="Undated")]
                             if summary["undated"] else [])
        open_attr = " open" if len(table_rows) <= 14 else ""
        undated = (f'<p class="note" id="undated">{_n(summary["undated"], "classified post")} without a date: '
                   'counted in the overall mix above and in the "Undated" row below, not in the chart.</p>'
                   if summary["undated"] else "")
        time_section = (
            f'<section id="time"><h2>How is it changing?</h2>'
            f'<p class="lede">The mix per {period} for the {dated:,} dated posts.</p>'
            + (f'<p class="trend">{_e(trend)}</p>' if trend else "")
            + chart + undated
            + f'<details{open_attr}><summary>Numbers per {period}</summary>'
            + _table(table_rows, period.capitalize(), "label", css_id="periods") + "</details></section>"
        )
    else:
        time_section = (
            '<section id="time"><h2>How is it changing?</h2>'
            f'<p class="note" id="undated">None of the {n:,} classified posts has a date (all are undated), so there is '
            'no timeline; they are all counted in the overall mix.</p>' + chart + "</section>"
        )

    group_html = []
    for dim, heading in _DIMENSIONS:
        rows_g = summary["groups"].get(dim)
        if rows_g:
            group_html.append(f"<h3>By {heading.lower()}</h3>" + _table(rows_g, heading, "name", css_id=f"by-{dim}"))
    groups_section = ("<section id=\"groups\"><h2>Where does the mix come from?</h2>"
                      "<p class=\"lede\">The same counts split by what the input records.</p>"
                      + "".join(group_html) + "</section>") if group_html else ""

    ex = summary["examples"]
    judge = (
        '<section id="judge"><h2>Can you trust the labels?</h2>'
        '<p class="lede">p is the model\'s probability that a post is broadcast: near 0 conversational, near 1 '
        'broadcast, near 0.5 unsure. Read a few and judge for yourself.</p>'
        f'<h3>Least sure: p nearest 0.5 (between {0.5 - UNSURE:.2f} and {0.5 + UNSURE:.2f})</h3>'
        + (_post_list(ex["uncertain"], "uncertain", "uncertain", grid=True) if ex["uncertain"] else
           f'<p class="note" id="uncertain">None: the model was sure of every post (p below {0.5 - UNSURE:.2f} '
           f'or above {0.5 + UNSURE:.2f}).</p>')
        + '<div class="cols"><div><h3><span class="key" style="background:var(--b)"></span>Most typical broadcast</h3>'
        + _post_list(ex[BROADCAST], "typical-broadcast", BROADCAST)
        + '</div><div><h3><span class="key" style="background:var(--c)"></span>Most typical conversational</h3>'
        + _post_list(ex[CONVERSATIONAL], "typical-conversational", CONVERSATIONAL) + "</div></div></section>"
    )

    if skipped:
        reasons = "".join(f'<tr><td>{_e(reason)}</td><td class="num">{count:,}</td></tr>'
                          for reason, count in sorted(summary["skipped"].items(), key=lambda kv: (-kv[1], kv[0])))
        left_out = (f'<section id="skipped"><h2>What was left out</h2><p class="lede">{skipped:,} of '
                    f'{summary["posts"]:,} posts had no text the model could read, so they are not in any share above.</p>'
                    f'<table><thead><tr><th>Reason</th><th class="num">Posts</th></tr></thead><tbody>{reasons}'
                    f'</tbody></table></section>')
    else:
        left_out = ('<section id="skipped"><h2>What was left out</h2>'
                    '<p class="lede">Nothing: every post had text to classify.</p></section>')

    footer = (f"<footer>{_e(model_line)} Made by smclass {_e(__version__)} on "
              f"{_e(summary['generated_at'])}. This page is self-contained and works offline.</footer>")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">"
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body><main>"
        + head + overall + time_section + groups_section + _languages_section(summary) + judge + left_out + footer
        + "</main></body></html>\n"
    )


# --------------------------------------------------------------------------- #
# The entry point
# --------------------------------------------------------------------------- #

def build_report(
    inputs,
    output,
    *,
    png=None,
    predictor=None,
    model=None,
    trusted: bool = False,
    text_column: str | None = None,
    id_column: str | None = None,
    input_format: str | None = None,
    encoding: str | None = None,
    date_column: str | None = None,
    account_column: str | None = None,
    dayfirst: bool = False,
    sheet: str | None = None,
    include_shares: bool = False,
    notify=None,
    threshold: float | None = None,
    period: str = "auto",
    title: str | None = None,
    examples: int = EXAMPLES,
    progress: bool = True,
    lang: bool = True,
) -> dict:
    """Read ``inputs``, classify them (or take the labels of predictions files) and write the HTML report.

    Returns a summary dict: counts overall, per period and per group, the example
    posts, skip reasons, and the paths written. ``png`` also writes the chart alone.
    ``progress`` draws a bar on stderr while reading, when stderr is a terminal.
    ``lang`` adds the language mix (smclass.lang) to the page and the summary.
    ``notify`` receives the readers' notices (default: stderr).
    """
    from .writers import atomic_path, refuse_inputs_as_output, write_text

    if isinstance(inputs, (str, Path)):
        inputs = [inputs]
    inputs = [str(i) for i in inputs]
    refuse_inputs_as_output(output, inputs)
    refuse_inputs_as_output(png, inputs, option="--png")
    if period not in PERIODS:
        raise UsageError(f"--period must be one of {', '.join(PERIODS)}, not {period!r}.")
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise UsageError(f"--threshold must be between 0 and 1, not {threshold}.")
    if examples < 1:
        raise UsageError("--examples must be at least 1.")
    for target in (output, png):
        if target is not None and not Path(target).parent.is_dir():
            raise UsageError(f"Cannot write {target}: the folder '{Path(target).parent}' does not exist.")

    loaded = {"predictor": predictor}

    def predictor_factory():
        if loaded["predictor"] is None:
            from .predict import Predictor, default_model_path

            loaded["predictor"] = Predictor.load(model or default_model_path(), threshold=threshold, trusted=trusted)
        return loaded["predictor"]

    tally = _Tally(examples)
    read_kwargs = {"format": input_format, "text_column": text_column, "id_column": id_column, "encoding": encoding,
                   "date_column": date_column, "account_column": account_column, "dayfirst": dayfirst,
                   "sheet": sheet, "include_shares": include_shares, "notify": notify}
    bar = InputProgress(inputs, progress, desc="reading")
    try:
        kinds = _read_inputs(inputs, tally, predictor_factory=predictor_factory, read_kwargs=read_kwargs,
                             threshold=threshold, bar=bar, lang=lang)
    finally:
        bar.close()
    if tally.read == 0:
        raise DataError(f"{', '.join(_input_name(i) for i in inputs)}: no posts found.")
    classified = sum(tally.counts.values())
    if classified == 0:
        reasons = ", ".join(f"{n:,} {r}" for r, n in tally.skipped.most_common())
        raise DataError(f"None of the {tally.read:,} posts has text to classify ({reasons}).")

    chosen, period_rows = _periods(tally.days, period)
    groups = {dim: _group_rows(tally.groups[dim]) for dim, _ in _DIMENSIONS}
    groups = {dim: rows for dim, rows in groups.items() if len(rows) >= 2}
    share = tally.counts[BROADCAST] / classified
    summary = {
        "output": str(output),
        "periods_csv": str(periods_csv_path(output)),
        "png": str(png) if png is not None else None,
        "inputs": [_input_name(i) for i in inputs],
        "predicted_inputs": kinds["predicted"],
        "predictions_files": kinds["predictions_files"],
        "posts": tally.read,
        "classified": classified,
        BROADCAST: tally.counts[BROADCAST],
        CONVERSATIONAL: tally.counts[CONVERSATIONAL],
        "broadcast_share": share,
        "skipped": dict(tally.skipped.most_common()),
        "undated": sum(tally.undated.values()),
        "undated_counts": dict(tally.undated),
        "period": chosen,
        "periods": period_rows,
        "trend": _trend(period_rows, chosen),
        "groups": groups,
        "languages": [{"lang": code, "posts": count, "share": count / classified}
                      for code, count in sorted(tally.langs.items(), key=lambda kv: (-kv[1], kv[0]))],
        "examples": {name: tally.examples(name, examples, shown)
                     for shown in [set()] for name in ("uncertain", BROADCAST, CONVERSATIONAL)},
        "threshold": loaded["predictor"].threshold if loaded["predictor"] is not None and kinds["predicted"] else threshold,
        "generated_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
    chart_title = title or ("Broadcast vs conversational posts" if not period_rows
                            else f"Broadcast vs conversational posts, {chosen} by {chosen}")
    title = title or "Broadcast or conversation? Your posting mix"
    first_group = next(iter(groups.values()), None)
    chart_png = render_chart(period_rows, chosen, share, title=chart_title, groups=first_group, total=classified)
    page = render_html(summary, chart_png, title=title,
                       model_line=_model_line(loaded["predictor"], kinds, threshold))
    with atomic_path(output) as tmp:
        write_text(tmp, page)          # a lone surrogate in a post becomes U+FFFD, never a crash
    with atomic_path(summary["periods_csv"]) as tmp:
        write_text(tmp, periods_csv(summary))
    if png is not None:
        with atomic_path(png) as tmp:
            Path(tmp).write_bytes(chart_png)
    return summary


def periods_csv_path(output) -> Path:
    """The per-period table's CSV, beside the HTML: report.html -> report.periods.csv."""
    output = Path(output)
    return output.with_name(output.stem + ".periods.csv")


def periods_csv(summary: dict) -> str:
    """The per-period table (and the undated posts) as CSV: what the page's table shows, for a spreadsheet."""
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["period", "label", "start", "posts", BROADCAST, CONVERSATIONAL, "broadcast_share"])
    rows = list(summary["periods"])
    if summary["undated"]:
        rows.append(_row(collections.Counter(summary["undated_counts"]), key="undated", label="Undated", start=""))
    for r in rows:
        share = "" if r["broadcast_share"] is None else f"{r['broadcast_share']:.4f}"
        writer.writerow([r["key"], r["label"], r["start"], r["posts"], r[BROADCAST], r[CONVERSATIONAL], share])
    return buffer.getvalue()


# --------------------------------------------------------------------------- #
# The closing line (the command itself lives in cli.py)
# --------------------------------------------------------------------------- #

def summary_line(summary: dict) -> str:
    """The closing line of ``smclass report``."""
    skipped = sum(summary["skipped"].values())
    filled = [r for r in summary["periods"] if r["posts"]]
    when = f", by {summary['period']} ({_n(len(summary['periods']), 'period')})" if filled else ""
    undated = f", {summary['undated']:,} undated" if summary["undated"] else ""
    wrote = ", ".join([summary["output"], summary["periods_csv"]] + ([summary["png"]] if summary.get("png") else []))
    return (f"{_n(summary['posts'], 'post')} read, {summary['classified']:,} classified, {skipped:,} skipped{undated}; "
            f"{summary['broadcast_share']:.1%} broadcast{when}; wrote {wrote}.")
