"""X / Twitter: the archive's data/tweets.js and tweets-partN.js files."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import PurePosixPath
from typing import Iterator

from smclass.errors import DataError
from .jsonstream import _JsonStream
from .records import LazyExtra, Post, RawJsonExtra, _id_value, _iso_any, _not_object, _text_value
from .sources import _BlockReader, _Source


_TWEET_FILE = re.compile(r"^tweets?(?:-part(\d+))?\.js$")


_YTD_PREFIX = re.compile(r"window\.YTD\.(\w+)\.part(\d+)\s*=\s*")


_YTD_TWEET_KINDS = {"tweets", "tweet", "deleted_tweets", "community_tweet"}


_MONTHS = {m: i for i, m in enumerate(
    "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), start=1)}


_ZONES: dict = {"+0000": timezone.utc}


# 'Wed Mar 06 14:02:11 +0000 2024', in UTC with two-digit fields: what archives hold
_UTC_TIME = re.compile(r"\S+ (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([0-9]{2}) "
                       r"([0-9]{2}):([0-9]{2}):([0-9]{2}) \+0000 ([0-9]{4})")
_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


_SEEN_DATES: dict[str, str] = {}  # "Wed Mar 06 " + " +0000 2024" -> "2024-03-06", from valid times read
_HOURS = frozenset(f"{h:02d}" for h in range(24))
_SIXTY = frozenset(f"{m:02d}" for m in range(60))
_MAX_SEEN_DATES = 100_000


def _x_time(value) -> str | None:
    """'Wed Mar 06 14:02:11 +0000 2024' to ISO, without depending on the C locale.

    An archive repeats its dates (one day, many tweets): a time of that exact layout whose date part
    was seen in a valid time, and whose clock is a valid "HH:MM:SS", is written from them with no
    parsing (any 30-character match of _UTC_TIME has its fields at those places)."""
    if value.__class__ is str and len(value) == 30:
        date = _SEEN_DATES.get(value[:11] + value[19:])
        if (date is not None and value[13] == ":" and value[16] == ":" and value[11:13] in _HOURS
                and value[14:16] in _SIXTY and value[17:19] in _SIXTY):
            return f"{date}T{value[11:19]}+00:00"
    return _x_time_new(value)


def _x_time_new(value) -> str | None:
    """_x_time for a time whose date part was not seen yet: parse it, and remember its date part."""
    if value.__class__ is str:
        m = _UTC_TIME.fullmatch(value)
        if m is not None:     # written from its parts when they make a valid time (what datetime gives)
            mon, day, h, mi, sec, year = m.groups()
            y, month, d = int(year), _MONTHS[mon], int(day)
            leap = month == 2 and y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
            if y >= 1 and 1 <= d <= _DAYS[month] + leap and h < "24" and mi < "60" and sec < "60":
                date, clock = f"{year}-{month:02d}-{day}", f"{h}:{mi}:{sec}"
                if len(value) == 30 and len(_SEEN_DATES) < _MAX_SEEN_DATES:
                    _SEEN_DATES[value[:11] + value[19:]] = date
                return f"{date}T{clock}+00:00"
    return _x_time_parts(value)


def _x_time_parts(value) -> str | None:
    """_x_time for any value: split, datetime and isoformat."""
    if not isinstance(value, str):
        return None
    parts = value.split()
    if len(parts) != 6 or parts[1] not in _MONTHS:
        return _iso_any(value)
    off = parts[4]
    try:
        tz = _ZONES.get(off)
        if tz is None:
            sign = -1 if off.startswith("-") else 1
            tz = timezone(sign * timedelta(hours=int(off[1:3]), minutes=int(off[3:5])))
            if len(_ZONES) < 64:
                _ZONES[off] = tz
        h, mi, s = parts[3].split(":")
        dt = datetime(int(parts[5]), _MONTHS[parts[1]], int(parts[2]), int(h), int(mi), int(s), tzinfo=tz)
    except (ValueError, IndexError):
        return None
    return dt.isoformat()


def _x_unescape(text: str) -> str:
    """X escapes exactly &, < and > in full_text; undo only those, &amp; last."""
    if "&" not in text:              # most tweets: one scan instead of three
        return text
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


_SKIP = frozenset({"full_text", "text", "id_str"})
_SKIP_RETWEET = frozenset({"text", "id_str"})  # a retweet's words stay reachable via --keep-columns full_text
RETWEET_NOTE = "retweet of another post"
_REPLY_KEYS = ("in_reply_to_status_id_str", "in_reply_to_status_id",
               "in_reply_to_user_id_str", "in_reply_to_screen_name")


def _media_as_shown(text: str, tweet: dict) -> str:
    """Attached photos and videos as X shows them (pic.twitter.com/...), not as a t.co link.

    In the archive a tweet's picture is a t.co URL at the end of full_text; the
    entities say it is media. Writing it as its display form tells the model
    it is a picture (a personal photo post), not a link being shared.
    """
    for key in ("extended_entities", "entities"):
        entities = tweet.get(key)
        media = entities.get("media") if isinstance(entities, dict) else None
        if not isinstance(media, list):
            continue
        for item in media:
            if isinstance(item, dict) and isinstance(item.get("url"), str) and isinstance(item.get("display_url"), str):
                text = text.replace(item["url"], item["display_url"])
    return text


def _unwrap(item: dict) -> dict:
    """The tweet of an archive element: {"tweet": {...}} or a bare tweet."""
    tweet = item.get("tweet", item)
    return tweet if isinstance(tweet, dict) else item


def _tweet_post(item, where: str, include_shares: bool = False, source: str | None = None) -> Post:
    """One archive element ({"tweet": {...}} or a bare tweet) as a Post.

    A retweet ("RT @user: ...") carries someone else's words: like a Mastodon boost
    it is kept with a note and not classified (its words are still written out, as
    ``shown``), unless ``include_shares`` asks to classify it.
    """
    if not isinstance(item, dict):
        return _not_object(where, "x")
    tweet = _unwrap(item)
    raw = tweet.get("full_text", tweet.get("text"))
    text, note = _text_value(raw)
    skip, shown = _SKIP, None
    if text is not None:
        text = _media_as_shown(_x_unescape(text), tweet)
        if text.startswith("RT @"):
            note = RETWEET_NOTE
            if not include_shares:
                text, shown, skip = None, text, _SKIP_RETWEET
    get = tweet.get
    is_reply = any([get(k) not in (None, "") for k in _REPLY_KEYS])
    tid = get("id_str", get("id"))
    return Post(_id_value(tid), text, _x_time(get("created_at")), "x", is_reply, note,
                RawJsonExtra(source, skip, unwrap=_unwrap) if source is not None else LazyExtra(tweet, skip),
                where, shown=shown)


_FIELDS = ("full_text", "text", "id_str", "id", "created_at") + _REPLY_KEYS
_bulk_decoder = None


def _tweets_decoder():
    """(msgspec, a decoder for a list of archive elements that builds only the fields _tweet_post reads
    and skips the rest of each tweet unbuilt: about three times faster than the json module on an
    archive). Built on first use. A field left out of a tweet stays UNSET, which
    ``msgspec.to_builtins`` leaves out of the dict, so _tweet_post sees what json would give it,
    less the fields it never reads."""
    global _bulk_decoder
    if _bulk_decoder is None:
        from typing import Any, Optional

        import msgspec

        unset = msgspec.UNSET
        media = msgspec.defstruct("Media", [("url", Any, unset), ("display_url", Any, unset)])
        entities = msgspec.defstruct("Entities", [("media", Optional[list[media]], unset)])
        fields = [(name, Any, unset) for name in _FIELDS] + [
            ("entities", Optional[entities], unset), ("extended_entities", Optional[entities], unset)]
        tweet = msgspec.defstruct("Tweet", fields)
        element = msgspec.defstruct("Element", fields + [("tweet", Optional[tweet], unset)])
        _bulk_decoder = (msgspec, msgspec.json.Decoder(list[element]))
    return _bulk_decoder


def _bulk_tweets(run: str) -> list | None:
    """The elements of ``run`` (whole array elements, comma-separated) as dicts for _tweet_post, or
    None when msgspec cannot decode them exactly as the json module would (an element, entities or
    media that are not objects, NaN, a lone surrogate...): the stream then decodes them one by one,
    and any error reads as it always has."""
    msgspec, decoder = _tweets_decoder()
    try:
        return msgspec.to_builtins(decoder.decode("[" + run + "]"))
    except (msgspec.DecodeError, RecursionError):
        return None


def _read_x_stream(src: _Source) -> Iterator[Post]:
    """A tweets.js: strip the 'window.YTD.tweets.partN =' prefix, then stream the array."""
    stream = _JsonStream(_BlockReader(src, "x"), src.name)
    if stream.startswith("window.YTD"):
        while "=" not in stream.buf[stream.pos:stream.pos + 200] and stream._fill():
            pass
        m = _YTD_PREFIX.match(stream.buf, stream.pos)
        if not m:
            raise DataError(f"{src.name} starts with an unknown 'window.YTD' prefix; "
                            f"expected 'window.YTD.tweets.part0 = [...]'.")
        if m.group(1) not in _YTD_TWEET_KINDS:
            raise DataError(f"{src.name} holds 'window.YTD.{m.group(1)}' data, not tweets; "
                            f"pass data/tweets.js from the archive.")
        stream.pos = m.end()
    elif stream.peek() != "[":
        start = (stream.buf[stream.pos:stream.pos + 30].splitlines() or [""])[0]
        raise DataError(f"{src.name} does not look like an X archive tweets file: it starts with "
                        f"'{start}', not 'window.YTD.tweets.part0 = ['.")
    shares = bool(src.opts.get("include_shares"))
    for number, item in enumerate(stream.array(bulk=_bulk_tweets), start=1):
        where = f"{src.name}, post {number}"
        try:
            yield _tweet_post(item, where, shares, stream.last_text())
        except RecursionError:
            yield Post(None, None, None, "x", None, "record nested too deeply", {}, where)


def _tweet_part(name: str) -> int | None:
    """Part number of data/tweets.js (0) or data/tweets-partN.js (N); None for other files."""
    m = _TWEET_FILE.match(name)
    if not m:
        return None
    return int(m.group(1) or 0)


NAME = "x"
LAYOUT = "data/tweets.js"


def archive_members(names: list[str]) -> list[str]:
    """tweets.js and tweets-partN.js in the archive's data/ folder (or its root), in part order."""
    found = []
    for name in names:
        path = PurePosixPath(name)
        part = _tweet_part(path.name)
        if part is not None and (path.parent.name == "data" or str(path.parent) == "."):
            found.append((str(path.parent), part, name))
    return [name for _, _, name in sorted(found)]


read = _read_x_stream
