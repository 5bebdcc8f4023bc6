"""Arrow arrays from Python lists and numpy arrays without ``pyarrow.array``.

``pa.array`` checks whether its argument is a pandas object, and that check
imports pandas when it is installed: about half a second and 47 MB of resident
memory in a process that never uses pandas (the Parquet writer of ``smclass
predict`` paid both). Building the buffers with numpy gives the same arrays.
The first-sight path (:mod:`smclass.fast`), language detection and the Parquet
writer all build their arrays here.
"""

from __future__ import annotations

import numpy as np


def large_strings(pa, texts: list[str]):
    """A ``large_string`` array of ``texts`` (no None); UnicodeEncodeError on a lone surrogate."""
    encoded = [t.encode("utf-8") for t in texts]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)), out=offsets[1:])
    return pa.LargeStringArray.from_buffers(len(encoded), pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded)))


def mask(pa, flags: np.ndarray):
    """A ``bool`` array (no nulls) from a numpy boolean array."""
    return pa.BooleanArray.from_buffers(pa.bool_(), len(flags), [None, _bits(pa, flags)])


def ints(pa, values: np.ndarray):
    """An ``int64`` array (no nulls) from a numpy integer array."""
    values = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Int64Array.from_buffers(pa.int64(), len(values), [None, pa.py_buffer(values)])


def _bits(pa, flags: np.ndarray):
    """Arrow's bitmap of a boolean numpy array (least significant bit first)."""
    return pa.py_buffer(np.packbits(np.ascontiguousarray(flags, dtype=bool), bitorder="little"))


def _validity(pa, missing: np.ndarray):
    """(validity buffer or None, null count) for a boolean 'is null' mask."""
    nulls = int(missing.sum())
    if nulls == 0:
        return None, 0
    return _bits(pa, ~missing), nulls


def strings(pa, values: list, scrub=None):
    """A ``string`` array of str-or-None ``values``.

    A value UTF-8 cannot encode (a lone surrogate) goes through ``scrub`` first
    when given; without it the UnicodeEncodeError propagates.
    """
    missing = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
    encoded = []
    for v in values:
        if v is None:
            encoded.append(b"")
            continue
        try:
            encoded.append(v.encode("utf-8"))
        except UnicodeEncodeError:
            if scrub is None:
                raise
            encoded.append(scrub(v).encode("utf-8"))
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    total = int(lengths.sum())
    large = total >= 2**31 - 1                   # string offsets are int32
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64 if large else np.int32)
    np.cumsum(lengths, out=offsets[1:])
    validity, nulls = _validity(pa, missing)
    kind = pa.LargeStringArray if large else pa.StringArray
    return kind.from_buffers(len(encoded), pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded)),
                             validity, nulls)


def floats(pa, values: list):
    """A ``float64`` array of float-or-None ``values``."""
    missing = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
    data = np.fromiter((0.0 if v is None else v for v in values), dtype=np.float64, count=len(values))
    validity, nulls = _validity(pa, missing)
    return pa.Array.from_buffers(pa.float64(), len(values), [validity, pa.py_buffer(data)], nulls)


def bools(pa, values: list):
    """A ``bool`` array of bool-or-None ``values``."""
    missing = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
    data = np.fromiter((bool(v) for v in values), dtype=bool, count=len(values))
    validity, nulls = _validity(pa, missing)
    return pa.Array.from_buffers(pa.bool_(), len(values), [validity, _bits(pa, data)], nulls)
