"""Points held as columns: the unit the actor sends for ``upload_collection`` of numpy arrays.

A 2-D float array is cut into row slices (views, no copy) and sent as Qdrant's ``Batch`` body
(``{"ids": [...], "vectors": [[...]], "payloads": [...]}``): one vectorised finiteness check and
one encoder call per batch, instead of a ``PointStruct``, a size estimate and a check per point.
A ``ColumnBatch`` slices and concatenates like a list, so the actor splits a rejected one the
same way it splits a list of points.
"""

from __future__ import annotations

import itertools
import sys
import uuid
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .. import models
from ..errors import ValidationError
from ._size import _POINT_OVERHEAD, _number_width, payload_bytes


class ColumnBatch:
    __slots__ = ("ids", "vectors", "payloads")

    def __init__(self, ids: list[Any], vectors: Any, payloads: list[Any] | None) -> None:
        self.ids = ids
        self.vectors = vectors  # a 2-D array, or {name: 2-D array}, all with len(ids) rows
        self.payloads = payloads

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, part: slice) -> ColumnBatch:
        vectors = self.vectors
        sliced = {k: v[part] for k, v in vectors.items()} if isinstance(vectors, dict) else vectors[part]
        return ColumnBatch(self.ids[part], sliced, None if self.payloads is None else self.payloads[part])

    def __add__(self, other: ColumnBatch) -> ColumnBatch:
        import numpy as np

        a, b = self.vectors, other.vectors
        vectors = {k: np.concatenate([a[k], b[k]]) for k in a} if isinstance(a, dict) else np.concatenate([a, b])
        if self.payloads is None and other.payloads is None:
            payloads = None
        else:
            payloads = (self.payloads or [None] * len(self)) + (other.payloads or [None] * len(other))
        return ColumnBatch(self.ids + other.ids, vectors, payloads)

    def as_batch(self) -> models.Batch:
        return models.Batch(ids=self.ids, vectors=self.vectors, payloads=self.payloads)


def column_arrays(vectors: Any) -> dict[str, Any] | None:
    """``{name: 2-D array}`` ("" for the unnamed vector) when ``vectors`` can travel as columns:
    a 2-D numpy array or a dict of them with equal lengths; None otherwise (send points)."""
    np = sys.modules.get("numpy")
    if np is None:
        return None
    arrays = vectors if isinstance(vectors, Mapping) else {"": vectors}
    if not arrays or not all(isinstance(a, np.ndarray) and a.ndim == 2 for a in arrays.values()):
        return None
    if len({len(a) for a in arrays.values()}) > 1:
        raise ValidationError(f"named vector columns differ in length: { {k: len(a) for k, a in arrays.items()} }")
    return dict(arrays)


def row_bytes(arrays: Mapping[str, Any]) -> int:
    """An upper bound of one row's vectors on the wire (and the point's framing)."""
    return _POINT_OVERHEAD + sum(a.shape[1] * _number_width(a) + len(k) + 6 for k, a in arrays.items())


def take(source: Iterator[Any], n: int, what: str, done: int) -> list[Any]:
    """The next ``n`` items of ``source``; a short column is an error, never a silent drop."""
    items = list(itertools.islice(source, n))
    if len(items) != n:
        raise ValidationError(f"{what} ran out after {done + len(items)} points, vectors go on")
    return items


def point_id(i: Any) -> Any:
    """An id as the wire takes it: UUID objects as strings, numpy integers as ints."""
    if isinstance(i, uuid.UUID):
        return str(i)
    np = sys.modules.get("numpy")
    if np is not None and isinstance(i, np.integer):
        return int(i)
    return i


def ids_source(ids: Iterable[Any] | None) -> Iterator[Any]:
    if ids is None:
        return (str(uuid.uuid4()) for _ in itertools.count())  # as the official client does
    if isinstance(ids, range):  # plain ints already: no per-id check
        return iter(ids)
    np = sys.modules.get("numpy")
    if np is not None and isinstance(ids, np.ndarray):
        return iter(ids.tolist())
    return (point_id(i) for i in ids)


def fit(unit: ColumnBatch, max_bytes: int) -> int:
    """How many leading rows of ``unit`` stay under ``max_bytes`` (at least one)."""
    arrays = unit.vectors if isinstance(unit.vectors, dict) else {"": unit.vectors}
    n, per_row = len(unit), row_bytes(arrays)
    while n > 1 and n * per_row + (payload_bytes(unit.payloads[:n]) if unit.payloads else 0) > max_bytes:
        n //= 2
    return n
