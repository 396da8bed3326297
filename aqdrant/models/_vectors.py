"""``vectors_array``: the dense vectors of a reply's points as one numpy array.

Reading ``point.vector`` gives a list of Python floats (one object per element). Code that
wants numpy can take all of a reply's vectors at once instead: vectors the gRPC decoder or the
embedded engine kept as float32 bytes become a view of their joined bytes (no Python float at
all); vectors kept as the server's JSON text (REST) are decoded by one msgspec call.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec
import numpy as np

from ._unions import RawVector

_ROWS = msgspec.json.Decoder(list[list[float]])


def vectors_array(points: Iterable[Any], using: str | None = None, dtype: Any = "float32") -> np.ndarray:
    """The dense vectors of ``points`` (``ScoredPoint``/``Record``, e.g. ``response.points``)
    as a ``(len(points), dim)`` array; ``using``: the name of a named vector.

    Raises ``ValueError`` when a point has no such dense vector or the sizes differ.
    """
    slots = []
    for i, point in enumerate(points):
        value = object.__getattribute__(point, "vector")  # the slot, without decoding it
        if isinstance(value, dict):
            if using is None:
                raise ValueError(f"point {i} has named vectors: say which one with using=")
            value = value.get(using)
        elif using is not None and value is not None:
            raise ValueError(f"point {i} has one unnamed vector, not {using!r}")
        if value is None:
            raise ValueError(f"point {i} has no vector" + (f" named {using!r}" if using else ""))
        slots.append(value)
    if not slots:
        return np.empty((0, 0), dtype=dtype)
    if all(v.__class__ is RawVector and v._f32 is not None for v in slots):
        sizes = {len(v._f32) for v in slots}
        if len(sizes) != 1:
            raise ValueError("the vectors differ in size")
        arr = np.frombuffer(b"".join([v._f32 for v in slots]), dtype=np.float32)
        return arr.reshape(len(slots), -1).astype(dtype, copy=False)
    if all(v.__class__ is RawVector and v._raw is not None and v._list is None for v in slots):
        rows = _ROWS.decode(b"[" + b",".join([v._raw for v in slots]) + b"]")  # one decode
    else:
        rows = [v.tolist() if v.__class__ is RawVector else v for v in slots]
    try:
        arr = np.asarray(rows, dtype=dtype)
    except ValueError:
        raise ValueError("the vectors differ in size or are not dense") from None
    if arr.ndim != 2:
        raise ValueError("the vectors differ in size or are not dense")
    return arr
