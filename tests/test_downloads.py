"""Every platform's download as the user gets it (zip, tar.gz, unzipped folder), and archive tricks refused."""

from __future__ import annotations

import csv
import io
import os
import struct
import tarfile
import warnings
import zipfile
from pathlib import Path

import pytest

from conftest import run_cli
from smclass.errors import DataError
from smclass.exports import detect_format, read_posts

FIX = Path(__file__).parent / "fixtures" / "exports"

# Where each platform puts its posts inside the download (real layouts), plus the
# neighbouring files that must be ignored. Member name -> fixture file (None: filler).
DOWNLOADS = {
    "x": ("twitter-2024-03-10-abc123.zip", {
        "data/manifest.js": FIX / "x_archive/data/manifest.js",
        "data/tweets-part1.js": FIX / "x_archive/data/tweets-part1.js",
        "data/tweets.js": FIX / "x_archive/data/tweets.js",
        "data/like.js": FIX / "x_archive/data/like.js",
        "Your archive.html": None,
    }),
    "facebook": ("facebook-exampleuser-2024-03-10-AbCdEf.zip", {
        "your_activity_across_facebook/posts/your_posts__check_ins__photos_and_videos_1.json":
            FIX / "facebook/your_posts_1.json",
        "your_activity_across_facebook/posts/album/0.json": None,
        "personal_information/profile_information/profile_information.json": None,
    }),
    "instagram": ("instagram-exampleuser-2024-03-10-AbCdEf.zip", {
        "your_instagram_activity/content/posts_1.json": FIX / "instagram/content/posts_1.json",
        "your_instagram_activity/content/stories.json": None,
        "media/posts/202403/17900000000000000.jpg": None,
    }),
    "linkedin": ("Basic_LinkedInDataExport_03-10-2024.zip", {
        "Connections.csv": None,
        "Shares.csv": FIX / "linkedin/Shares.csv",
        "Profile.csv": None,
    }),
    "mastodon": ("archive-20240310120000-0123456789abcdef.tar.gz", {
        "actor.json": None,
        "outbox.json": FIX / "mastodon/outbox.json",
        "likes.json": None,
        "media_attachments/files/112/000/000/original/a.png": None,
    }),
    "reddit": ("export_exampleuser_20240310.zip", {
        "comments.csv": FIX / "reddit/comments.csv",
        "posts.csv": FIX / "reddit/posts.csv",
        "messages.csv": None,
        "statistics.csv": None,
    }),
}

SINGLE = {  # the same posts as single files, to compare with
    "x": [FIX / "x_archive/data/tweets.js", FIX / "x_archive/data/tweets-part1.js"],
    "facebook": [FIX / "facebook/your_posts_1.json"],
    "instagram": [FIX / "instagram/content/posts_1.json"],
    "linkedin": [FIX / "linkedin/Shares.csv"],
    "mastodon": [FIX / "mastodon/outbox.json"],
    "reddit": [FIX / "reddit/posts.csv", FIX / "reddit/comments.csv"],
}


def _content(src: Path | None, name: str) -> bytes:
    if src is not None:
        return src.read_bytes()
    return b"{}" if name.endswith(".json") else b"filler\n"


def build(platform: str, tmp_path: Path, kind: str) -> Path:
    """The platform's download as a zip, a tar.gz or an unzipped folder."""
    name, members = DOWNLOADS[platform]
    stem = name.split(".")[0]
    if kind == "folder":
        root = tmp_path / stem
        for member, src in members.items():
            (root / member).parent.mkdir(parents=True, exist_ok=True)
            (root / member).write_bytes(_content(src, member))
        return root
    if kind == "zip":
        path = tmp_path / f"{stem}.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for member, src in members.items():
                zf.writestr(member, _content(src, member))
        return path
    path = tmp_path / f"{stem}.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        for member, src in members.items():
            data = _content(src, member)
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def expected(platform: str):
    return [(p.id, p.text, p.note) for f in SINGLE[platform] for p in read_posts(f)]


def written(platform: str) -> list[str]:
    """The text column predict writes: the text read, or the words of a post kept unclassified (a retweet)."""
    return [(p.text if p.text is not None else p.shown) or "" for f in SINGLE[platform] for p in read_posts(f)]


def cli_rows(path: Path, model_path, tmp_path: Path, *extra):
    out = tmp_path / "out.csv"
    # the texts as read, not as a spreadsheet-safe CSV shows them ('@reply)
    done = run_cli("predict", path, "--model", model_path, "-o", out, "--no-formula-guard", *extra)
    return done, (list(csv.DictReader(out.open(encoding="utf-8"))) if out.exists() else None)


@pytest.mark.parametrize("platform, kind", [
    ("x", "zip"), ("facebook", "zip"), ("instagram", "zip"), ("linkedin", "zip"),
    ("mastodon", "tar"), ("mastodon", "zip"), ("reddit", "zip"), ("facebook", "folder"),
])
def test_predict_reads_the_download_as_the_user_gets_it(platform, kind, tmp_path, model_path):
    path = build(platform, tmp_path, kind)
    done, rows = cli_rows(path, model_path, tmp_path)
    assert done.returncode == 0, done.stderr
    want = expected(platform)
    assert len(rows) == len(want)
    assert [r["text"] for r in rows] == written(platform)
    assert {r["platform"] for r in rows} == {platform}
    # nothing was extracted next to the archive
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, "out.csv"])


@pytest.mark.parametrize("platform", list(DOWNLOADS))
@pytest.mark.parametrize("kind", ["zip", "tar", "folder"])
def test_platform_is_detected_from_the_layout(platform, kind, tmp_path):
    path = build(platform, tmp_path, kind)
    assert detect_format(path) == platform
    assert [(p.id, p.text, p.note) for p in read_posts(path)] == expected(platform)


def test_older_meta_layouts(tmp_path):
    """Older downloads kept posts in posts/ (Facebook) and content/ at the root (Instagram)."""
    fb = tmp_path / "fb"
    (fb / "posts").mkdir(parents=True)
    (fb / "posts/your_posts_1.json").write_bytes((FIX / "facebook/your_posts_1.json").read_bytes())
    assert detect_format(fb) == "facebook"
    ig = tmp_path / "ig.zip"
    with zipfile.ZipFile(ig, "w") as zf:
        zf.write(FIX / "instagram/content/posts_1.json", "content/posts_1.json")
    assert detect_format(ig) == "instagram"


def test_a_folder_that_is_no_export_names_what_was_looked_for(tmp_path, model_path):
    (tmp_path / "stuff").mkdir()
    (tmp_path / "stuff/notes.md").write_text("hi")
    done = run_cli("predict", tmp_path / "stuff", "--model", model_path)
    assert done.returncode == 1
    assert done.stderr.startswith("Error: stuff is a folder but not a platform export smclass knows "
                                  "(looked for data/tweets.js, your_posts_1.json, content/posts_1.json, "
                                  "Shares.csv, outbox.json, posts.csv or comments.csv)")


def test_two_platforms_in_one_folder_ask_to_choose(tmp_path):
    root = tmp_path / "exports"
    (root / "data").mkdir(parents=True)
    (root / "data/tweets.js").write_bytes((FIX / "x/tweets.js").read_bytes())
    (root / "Shares.csv").write_bytes((FIX / "linkedin/Shares.csv").read_bytes())
    with pytest.raises(DataError, match=r"holds exports of several platforms \(x, linkedin\); "
                                        r"choose one with --input-format"):
        detect_format(root)
    assert len(list(read_posts(root, format="linkedin"))) == len(list(read_posts(FIX / "linkedin/Shares.csv")))


# --------------------------------------------------------------------------- #
# Archive tricks and damaged archives: one sentence, exit 1
# --------------------------------------------------------------------------- #

def _zip_with(path: Path, members: dict[str, bytes], symlink: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.create_system = 3
            info.external_attr = (0o120777 << 16)
            zf.writestr(info, "/etc/passwd")
    return path


TWEETS = (FIX / "x/tweets.js").read_bytes()


def _tar_with(path: Path, add) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        data = (FIX / "mastodon/outbox.json").read_bytes()
        info = tarfile.TarInfo("outbox.json")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
        add(tf)
    return path


def _tar_symlink(tf):
    info = tarfile.TarInfo("likes.json")
    info.type = tarfile.SYMTYPE
    info.linkname = "/etc/passwd"
    tf.addfile(info)


def _tar_traversal(tf):
    info = tarfile.TarInfo("../../.bashrc")
    info.size = 2
    tf.addfile(info, io.BytesIO(b"hi"))


@pytest.mark.parametrize("make, message", [
    (lambda p: _zip_with(p / "t.zip", {"data/tweets.js": TWEETS, "../../evil.sh": b"x"}),
     r"t\.zip holds a member named '\.\./\.\./evil\.sh', which points outside the archive; refusing it\."),
    (lambda p: _zip_with(p / "t.zip", {"data/tweets.js": TWEETS, "/etc/cron.d/x": b"x"}),
     r"t\.zip holds a member named '/etc/cron\.d/x', which points outside the archive"),
    (lambda p: _zip_with(p / "t.zip", {"data/tweets.js": TWEETS}, symlink="data/tweets-part1.js"),
     r"t\.zip holds a symbolic link \('data/tweets-part1\.js'\); platform exports have none, so refusing it\."),
    (lambda p: _tar_with(p / "m.tar.gz", _tar_symlink),
     r"m\.tar\.gz holds a link \('likes\.json' -> '/etc/passwd'\)"),
    (lambda p: _tar_with(p / "m.tar.gz", _tar_traversal),
     r"m\.tar\.gz holds a member named '\.\./\.\./\.bashrc', which points outside the archive"),
])
def test_archive_tricks_are_refused(make, message, tmp_path, model_path):
    path = make(tmp_path)
    done = run_cli("predict", path, "--model", model_path)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    import re
    assert re.match("Error: " + message, done.stderr), done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_a_member_that_would_expand_absurdly_is_refused_before_reading(tmp_path, model_path):
    # 17 MB of zeros compress to about 17 KB: a bomb's ratio, refused from the header alone
    path = _zip_with(tmp_path / "bomb.zip", {"data/tweets.js": b"window.YTD.tweets.part0 = [" + b" " * (17 << 20) + b"]"})
    assert path.stat().st_size < 100_000
    done = run_cli("predict", path, "--model", model_path)
    assert done.returncode == 1
    assert done.stderr.startswith("Error: bomb.zip: data/tweets.js would expand from 0.0 MB to 17.0 MB "
                                  "(over 200 to 1); refusing it as a likely archive bomb.")


def test_a_tar_that_would_expand_absurdly_is_refused(tmp_path):
    def add(tf):
        info = tarfile.TarInfo("media_attachments/big.bin")
        info.size = 17 << 20
        tf.addfile(info, io.BytesIO(bytes(17 << 20)))
    path = _tar_with(tmp_path / "m.tar.gz", add)
    with pytest.raises(DataError, match=r"m\.tar\.gz would expand from .* to 17\.0 MB \(over 200 to 1\)"):
        list(read_posts(path))


def test_member_streams_are_capped_at_their_declared_size(tmp_path, monkeypatch):
    """A member may not yield more than the size its header declares (a lying header)."""
    from smclass.exports import archives
    path = _zip_with(tmp_path / "t.zip", {"data/tweets.js": TWEETS})
    with archives.Archive(path) as archive:
        archive._entries["data/tweets.js"].file_size = 100  # the header lies: 100 bytes
        with pytest.raises(DataError, match=r"t\.zip: data/tweets\.js (is damaged|holds more than its declared)"):
            archive.open("data/tweets.js").read()


def test_bad_crc_is_a_clear_error(tmp_path, model_path):
    path = tmp_path / "t.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("data/tweets.js", TWEETS)
    raw = bytearray(path.read_bytes())
    at = raw.index(b"Our spring workshop")
    raw[at] ^= 0x20  # flip one byte of the stored data: the CRC no longer matches
    path.write_bytes(bytes(raw))
    done = run_cli("predict", path, "--model", model_path)
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("Error: t.zip: data/tweets.js is damaged (Bad CRC-32 for file "
                                  "'data/tweets.js'); download the export again.")


def test_encrypted_member_is_a_clear_error(tmp_path, model_path):
    path = tmp_path / "t.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("data/tweets.js", TWEETS)
    raw = bytearray(path.read_bytes())
    for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # set the "encrypted" flag bit
        at = raw.index(sig) + off
        raw[at:at + 2] = struct.pack("<H", struct.unpack("<H", raw[at:at + 2])[0] | 1)
    path.write_bytes(bytes(raw))
    done = run_cli("predict", path, "--model", model_path)
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("Error: t.zip: data/tweets.js is encrypted; "
                                  "smclass reads only unencrypted exports.")


def test_two_members_with_the_same_name_are_refused(tmp_path, model_path):
    path = tmp_path / "t.zip"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("data/tweets.js", TWEETS)
            zf.writestr("data/tweets.js", TWEETS.replace(b"Our spring", b"Our autumn"))
    done = run_cli("predict", path, "--model", model_path)
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("Error: t.zip holds two members named 'data/tweets.js'; reading one "
                                  "would hide the other, so refusing it.")


def test_a_broken_zip_is_a_clear_error(tmp_path, model_path):
    path = tmp_path / "facebook-export.zip"
    path.write_bytes(b"PK\x03\x04 this is not really a zip")
    done = run_cli("predict", path, "--model", model_path)
    assert done.returncode == 1
    assert done.stderr.startswith("Error: facebook-export.zip is not a valid zip file")


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_a_symlinked_posts_file_in_a_folder_is_refused(tmp_path):
    root = tmp_path / "x"
    (root / "data").mkdir(parents=True)
    (root / "data/tweets.js").symlink_to(FIX / "x/tweets.js")
    with pytest.raises(DataError, match=r"x: data/tweets\.js is a symbolic link"):
        list(read_posts(root))
