"""Platform downloads as users get them: a folder, a .zip or a .tar.gz, read in place.

Members are listed and opened without extracting anything to disk. Archive tricks
are refused before a byte of them is read: names that climb out of the archive
(``../``, absolute paths, drive letters), symbolic or hard links, two members with
the same name (one would hide the other), and members whose uncompressed size is
absurd (over MAX_MEMBER_BYTES, or compressed more than MAX_RATIO to 1). Every
member stream is also capped at its declared size, so a lying header cannot make
a small file expand without bound; bad CRCs and encrypted members become one
plain sentence.
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO

from smclass.errors import DataError

from .records import _BLOCK

MAX_MEMBER_BYTES = 4 << 30       # 4 GiB: larger than any real posts file of one account
MAX_RATIO = 200                  # JSON and CSV compress 5-20x; 200x is a bomb, not an export
RATIO_FLOOR = 16 << 20           # small members may compress as well as they like
_TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")


def _mb(n: int) -> str:
    """A byte count as people say it."""
    if n >= 1 << 30:
        return f"{n / (1 << 30):,.1f} GB"
    return f"{n / (1 << 20):,.1f} MB"


def _unsafe_name(name: str) -> bool:
    """A member name that would land outside the archive's folder if extracted."""
    norm = name.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":"):
        return True
    return ".." in norm.split("/")


def is_archive_file(path: Path, head: bytes) -> bool:
    """A .zip or a tar archive (plain or compressed), by its first bytes or its name."""
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")) or head[257:262] == b"ustar":
        return True
    if path.name.lower().endswith((".zip",) + _TAR_SUFFIXES):
        return True
    if head.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ")):
        try:
            return tarfile.is_tarfile(path)
        except (OSError, EOFError, tarfile.TarError):
            return False
    return False


class _Capped(io.RawIOBase):
    """A member stream that refuses to yield more than ``limit`` bytes, and names CRC errors."""

    def __init__(self, raw: IO[bytes], limit: int, name: str):
        self._raw = raw
        self._left = limit
        self._limit = limit
        self._name = name

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        try:
            data = self._raw.read(min(len(buf), self._left + 1))
        except zipfile.BadZipFile as exc:
            raise DataError(f"{self._name} is damaged ({exc}); download the export again.") from None
        except (OSError, EOFError, tarfile.TarError) as exc:
            raise DataError(f"{self._name} cannot be read ({exc}); download the export again.") from None
        if len(data) > self._left:
            raise DataError(f"{self._name} holds more than its declared {_mb(self._limit)}; "
                            f"refusing it.")
        self._left -= len(data)
        buf[:len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


class Archive:
    """A folder, zip or tar seen as a list of member paths (posix, relative) that can be opened."""

    def __init__(self, path: Path):
        self.path = path
        self.name = path.name
        self._zip = self._tar = None
        self._entries: dict[str, object] = {}
        self._dupes: set[str] = set()
        if path.is_dir():
            self._list_folder()
        elif zipfile.is_zipfile(path) or path.name.lower().endswith(".zip"):
            self._list_zip()
        else:
            self._list_tar()

    # -- listing ------------------------------------------------------------------
    def _add(self, name: str, entry) -> None:
        name = name.replace("\\", "/")
        while name.startswith("./"):
            name = name[2:]
        if name in self._entries:
            self._dupes.add(name)
        self._entries[name] = entry

    def _list_folder(self) -> None:
        root = self.path
        for folder, dirs, files in os.walk(root):  # does not descend into symlinked folders
            dirs.sort()
            for f in sorted(files):
                full = Path(folder) / f
                self._add(full.relative_to(root).as_posix(), full)

    def _list_zip(self) -> None:
        try:
            self._zip = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise DataError(f"{self.name} is not a valid zip file ({exc}).") from None
        for info in self._zip.infolist():
            if _unsafe_name(info.filename):
                raise DataError(f"{self.name} holds a member named '{info.filename}', which points "
                                f"outside the archive; refusing it.")
            mode = info.external_attr >> 16
            if info.create_system == 3 and stat.S_ISLNK(mode):
                raise DataError(f"{self.name} holds a symbolic link ('{info.filename}'); "
                                f"platform exports have none, so refusing it.")
            if not info.is_dir():
                self._add(info.filename, info)

    def _list_tar(self) -> None:
        try:
            self._tar = tarfile.open(self.path, "r:*")
            members = self._tar.getmembers()
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise DataError(f"{self.name} is not a valid tar archive ({exc}).") from None
        total = 0
        for m in members:
            if _unsafe_name(m.name):
                raise DataError(f"{self.name} holds a member named '{m.name}', which points "
                                f"outside the archive; refusing it.")
            if m.issym() or m.islnk():
                raise DataError(f"{self.name} holds a link ('{m.name}' -> '{m.linkname}'); "
                                f"platform exports have none, so refusing it.")
            if m.isfile():
                total += m.size
                self._add(m.name, m)
        packed = max(self.path.stat().st_size, 1)
        if total > RATIO_FLOOR and total > MAX_RATIO * packed:
            raise DataError(f"{self.name} would expand from {_mb(packed)} to {_mb(total)} "
                            f"(over {MAX_RATIO} to 1); refusing it as a likely archive bomb.")

    def members(self) -> list[str]:
        """Every regular file, as a relative posix path."""
        return list(self._entries)

    # -- reading ------------------------------------------------------------------
    def open(self, member: str) -> IO[bytes]:
        """A buffered binary stream of one member, size-capped, never written to disk."""
        label = f"{self.name}: {member}"
        if member in self._dupes:
            raise DataError(f"{self.name} holds two members named '{member}'; reading one would hide "
                            f"the other, so refusing it.")
        entry = self._entries[member]
        if self._zip is not None:
            info = entry
            if info.flag_bits & 0x1:
                raise DataError(f"{label} is encrypted; smclass reads only unencrypted exports.")
            self._check_size(label, info.file_size, info.compress_size)
            try:
                raw = self._zip.open(info)
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as exc:
                raise DataError(f"{label} cannot be read ({exc}).") from None
            size = info.file_size
        elif self._tar is not None:
            self._check_size(label, entry.size, None)
            raw = self._tar.extractfile(entry)
            size = entry.size
        else:
            path = entry
            if path.is_symlink():
                raise DataError(f"{label} is a symbolic link; pass the file it points to instead.")
            raw = open(path, "rb")
            size = os.fstat(raw.fileno()).st_size
            self._check_size(label, size, None)
        return io.BufferedReader(_Capped(raw, size, label), buffer_size=_BLOCK)

    def _check_size(self, label: str, size: int, packed: int | None) -> None:
        if size > MAX_MEMBER_BYTES:
            raise DataError(f"{label} is {_mb(size)} uncompressed, over the {_mb(MAX_MEMBER_BYTES)} "
                            f"limit for one file; refusing it.")
        if packed is not None and size > RATIO_FLOOR and size > MAX_RATIO * max(packed, 1):
            raise DataError(f"{label} would expand from {_mb(packed)} to {_mb(size)} "
                            f"(over {MAX_RATIO} to 1); refusing it as a likely archive bomb.")

    def close(self) -> None:
        for handle in (self._zip, self._tar):
            if handle is not None:
                handle.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def in_part_order(names: list[str]) -> list[str]:
    """Member names by folder, then by the number in the file name (posts_2 before posts_10)."""
    def key(name: str):
        path = PurePosixPath(name)
        digits = "".join(c if c.isdigit() else " " for c in path.stem).split()
        return (str(path.parent), int(digits[-1]) if digits else 0, name)
    return sorted(names, key=key)
