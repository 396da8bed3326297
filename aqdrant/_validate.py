"""Check vectors against the collection's config before anything is sent.

The server drops or rejects whole batches for one wrong-dimension point; checking here names
the offending point id and vector. The collection's vector config is fetched once per collection
and cached; callers ``forget`` it when the collection changes or the server rejects a write.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from anyio.lowlevel import checkpoint

from . import models
from .errors import ValidationError, WrongInput

#: vector components checked between two turns of the event loop: about 0.5 ms of work, so
#: ten concurrent upserts being checked at once still give other tasks a turn every few ms
CHECKPOINT_FLOATS = 24_576

GetParams = Callable[[str], Awaitable[models.CollectionParams]]


class VectorValidator:
    """Per-collection vector schema, fetched once (single flight: concurrent first writes to a
    collection wait for one fetch) and refreshed when it disagrees with a write - another client
    may have recreated the collection with other sizes."""

    def __init__(self, get_params: GetParams) -> None:
        self._get_params = get_params
        self._cache: dict[str, tuple[dict[str, tuple[int, bool]], set[str]]] = {}
        self._fetches: dict[str, int] = {}  # collection -> fetches so far (a fetch's generation)
        self._inflight: dict[str, Any] = {}  # collection -> anyio.Event of the fetch running

    def forget(self, collection_name: str) -> None:
        self._cache.pop(collection_name, None)

    async def _schema(self, collection_name: str) -> tuple[dict[str, tuple[int, bool]], set[str]]:
        """({dense name: (size, is_multivector)}, {sparse names}); the unnamed vector is ``""``."""
        cached = self._cache.get(collection_name)
        if cached is not None:
            return cached
        return await self._fetch(collection_name, None)

    async def _fetch(self, collection_name: str, seen: int | None) -> tuple[dict[str, tuple[int, bool]], set[str]]:
        """The schema: the cached one (``seen`` None), else fetched - unless a fetch newer than
        generation ``seen`` happened meanwhile. One fetch per collection at a time: the others
        wait for it. The task that fetches does not yield before its request (no lock to take),
        so uncontended writes keep their order."""
        import anyio

        while True:
            cached = self._cache.get(collection_name)
            if cached is not None and (seen is None or self._fetches.get(collection_name, 0) != seen):
                return cached
            running = self._inflight.get(collection_name)
            if running is None:
                break
            await running.wait()  # another task's fetch; then look again (it may have failed)
            seen = None if self._fetches.get(collection_name, 0) != seen else seen
        done = self._inflight[collection_name] = anyio.Event()
        try:
            params = await self._get_params(collection_name)
            dense: dict[str, tuple[int, bool]] = {}
            vectors = params.vectors
            if isinstance(vectors, models.VectorParams):
                dense[""] = (vectors.size, vectors.multivector_config is not None)
            elif isinstance(vectors, dict):
                for name, vp in vectors.items():
                    dense[name] = (vp.size, vp.multivector_config is not None)
            sparse = set(params.sparse_vectors or {})
            self._fetches[collection_name] = self._fetches.get(collection_name, 0) + 1
            cached = self._cache[collection_name] = (dense, sparse)
            return cached
        finally:
            del self._inflight[collection_name]
            done.set()

    async def _checked(self, collection_name: str, check: Callable[[Any], Awaitable[None]]) -> None:
        """Run ``check(schema)``; when a cached schema refuses the write, fetch it again once and
        re-check (the collection may have been recreated by someone else)."""
        seen = self._fetches.get(collection_name, 0)
        fresh = collection_name not in self._cache
        schema = await self._schema(collection_name)
        try:
            await check(schema)
        except ValidationError:
            if fresh:
                raise
            schema = await self._fetch(collection_name, seen)
            await check(schema)

    async def check_upsert(self, collection_name: str, body: models.PointsList | models.PointsBatch) -> None:
        async def check(schema: Any) -> None:
            await self._check_upsert(schema, collection_name, body)

        await self._checked(collection_name, check)

    async def _check_upsert(self, schema: Any, collection_name: str, body: Any) -> None:
        # A long body gives the loop a turn before and during the check (every ``every``
        # vectors, about 0.5 ms of work), so checking it never holds the loop for long. A short
        # one is checked in one go: no yield, so concurrent small upserts reach the transport
        # in the order they were called.
        every = _checkpoint_every(schema)
        if _count(body) > every:
            await checkpoint()
        if isinstance(body, models.PointsList):
            for i, p in enumerate(body.points):
                if i and not i % every:
                    await checkpoint()
                self._check_struct(schema, collection_name, p.id, p.vector, f"$.points[{i}].vector")
            return
        batch = body.batch
        vectors = batch.vectors
        np = sys.modules.get("numpy")
        if np is not None and isinstance(vectors, np.ndarray) and vectors.ndim == 2:
            self._check_matrix(schema, collection_name, batch.ids, vectors)
            return
        if isinstance(vectors, dict):
            for name, column in vectors.items():
                if np is not None and isinstance(column, np.ndarray) and column.ndim == 2:
                    self._check_matrix(schema, collection_name, batch.ids, column, name)
                    continue
                for i, v in enumerate(column):
                    if i and not i % every:
                        await checkpoint()
                    self._check_one(schema, collection_name, batch.ids[i], name, v, f"$.batch.vectors.{name}[{i}]")
        else:
            for i, v in enumerate(vectors):
                if i and not i % every:
                    await checkpoint()
                self._check_one(schema, collection_name, batch.ids[i], "", v, f"$.batch.vectors[{i}]")

    def _check_matrix(self, schema: Any, collection: str, ids: Any, matrix: Any, name: str = "") -> None:
        """A batch's dense vectors as one 2-D array: checked in two vectorised numpy passes."""
        import numpy as np

        where = f"$.batch.vectors.{name}" if name else "$.batch.vectors"
        if len(matrix) != len(ids):
            raise ValidationError(f"batch has {len(ids)} ids but {len(matrix)} vectors", path=where)
        if not len(matrix):
            return
        # Shape and name: the first row tells (all rows of a 2-D array have the same length).
        self._check_one(schema, collection, ids[0], name, matrix[0], f"{where}[0]")
        bad = ~np.isfinite(matrix).all(axis=1)
        if bad.any():
            i = int(np.argmax(bad))
            self._check_one(schema, collection, ids[i], name, matrix[i], f"{where}[{i}]")

    async def check_update_vectors(self, collection_name: str, body: models.UpdateVectors) -> None:
        async def check(schema: Any) -> None:
            for i, p in enumerate(body.points):
                self._check_struct(schema, collection_name, p.id, p.vector, f"$.points[{i}].vector")

        await self._checked(collection_name, check)

    def _check_struct(self, schema: Any, collection: str, point_id: Any, vector: Any, path: str) -> None:
        if isinstance(vector, dict):
            for name, v in vector.items():
                self._check_one(schema, collection, point_id, name, v, f"{path}.{name}")
        else:
            self._check_one(schema, collection, point_id, "", vector, path)

    def _check_one(self, schema: Any, collection: str, point_id: Any, name: str, v: Any, path: str) -> None:
        dense, sparse = schema
        label = f"vector {name!r}" if name else "the unnamed vector"
        if isinstance(v, models.SparseVector):
            if name not in sparse:
                raise WrongInput(
                    f"Wrong input: Not existing vector name error: {name} - "
                    f"point {point_id!r}: collection {collection!r} has no sparse vector named {name!r} "
                    f"(sparse vectors: {sorted(sparse) or 'none'})",
                    path=path,
                )
            if len(v.indices) != len(v.values):
                raise ValidationError(f"point {point_id!r}: sparse {label} has {len(v.indices)} indices but {len(v.values)} values", path=path)
            _check_finite(v.values, point_id, label, path)
            return
        if isinstance(v, (models.Document, models.Image, models.InferenceObject)):
            return  # embedded later (inference) - its size is checked then
        if name not in dense:
            names = sorted(dense)
            if name == "" and names:
                raise WrongInput(
                    f"Wrong input: Not existing vector name error:  - "
                    f"point {point_id!r}: collection {collection!r} has named vectors {names}; "
                    "give the vector as a dict {name: vector}",
                    path=path,
                )
            raise WrongInput(
                f"Wrong input: Not existing vector name error: {name} - "
                f"point {point_id!r}: collection {collection!r} has no vector named {name!r} "
                f"(vectors: {names or 'none'})",
                path=path,
            )
        size, multi = dense[name]
        rows = _rows(v, multi)
        for row in rows:
            n = _length(row)
            if n != size:
                raise WrongInput(
                    f"Wrong input: Vector dimension error: expected dim: {size}, got {n} - "
                    f"point {point_id!r}: {label} has {n} dimensions, collection {collection!r} expects {size}",
                    path=path,
                )
            _check_finite(row, point_id, label, path)


def _checkpoint_every(schema: Any) -> int:
    """Points per turn of the loop: CHECKPOINT_FLOATS over the dense components of one point."""
    per_point = sum(size for size, _ in schema[0].values()) or 1
    return max(1, CHECKPOINT_FLOATS // per_point)


def _count(body: Any) -> int:
    if isinstance(body, models.PointsList):
        return len(body.points)
    return len(body.batch.ids)


def _rows(v: Any, multi: bool) -> list[Any]:
    np = sys.modules.get("numpy")
    if np is not None and isinstance(v, np.ndarray):
        if multi:
            return list(v) if v.ndim == 2 else [v]
        return [v]
    if multi:
        return list(v) if v and isinstance(v[0], (list, tuple)) or (np is not None and v and isinstance(v[0], np.ndarray)) else [v]
    return [v]


def _length(row: Any) -> int:
    shape = getattr(row, "shape", None)
    if shape is not None:
        return shape[-1] if shape else 1
    return len(row)


def _check_finite(row: Any, point_id: Any, label: str, path: str) -> None:
    np = sys.modules.get("numpy")
    if np is not None and isinstance(row, np.ndarray):
        ok = bool(np.isfinite(row).all())
    else:
        # A sum of finite float32-range values cannot overflow; NaN or inf anywhere makes it
        # non-finite. One C loop instead of a Python check per element.
        try:
            ok = math.isfinite(sum(row))
        except TypeError:
            raise ValidationError(f"point {point_id!r}: {label} must hold numbers", path=path) from None
    if not ok:
        raise ValidationError(f"point {point_id!r}: {label} contains NaN or infinity", path=path)


# ---- query vectors ----------------------------------------------------------------------------

#: request bodies whose ``query`` / ``prefetch`` hold query vectors
_QUERY_BODIES = ("QueryRequest", "QueryGroupsRequest", "Prefetch")


def check_query_vectors(body: Any) -> None:
    """Refuse a NaN or infinite number in any query vector of a query body (a batch, prefetches
    and recommend/discover/context examples included): the engine would answer with nothing
    and a server with a parse error; the official client refuses it before sending."""
    name = body.__class__.__name__
    if name == "QueryRequestBatch":
        for i, search in enumerate(body.searches):
            _check_query(search, f"$.searches[{i}]")
    elif name in _QUERY_BODIES:
        _check_query(body, "$")


def _check_query(req: Any, path: str) -> None:
    if req.query is not None:
        _check_numbers(req.query, f"{path}.query")
    for i, p in enumerate(req.prefetch or ()) if isinstance(req.prefetch, list) else ():
        _check_query(p, f"{path}.prefetch[{i}]")
    if isinstance(req.prefetch, models.Prefetch):
        _check_query(req.prefetch, f"{path}.prefetch")


def _check_numbers(v: Any, path: str) -> None:
    """Every vector inside ``v`` (a vector, a query model, lists and dicts of them) is finite."""
    np = sys.modules.get("numpy")
    if np is not None and isinstance(v, np.ndarray):
        if v.dtype.kind == "f" and not bool(np.isfinite(v).all()):
            raise ValidationError(f"query vector contains NaN or infinity - at `{path}`", path=path)
        return
    cls = v.__class__
    if cls is float:
        if not math.isfinite(v):
            raise ValidationError(f"query vector contains NaN or infinity - at `{path}`", path=path)
    elif cls is list or cls is tuple:
        if v and v[0].__class__ in (float, int):
            try:
                ok = math.isfinite(sum(v))
            except TypeError:
                ok = True  # mixed content: checked item by item below
            if ok:
                return
        for i, x in enumerate(v):
            _check_numbers(x, f"{path}[{i}]")
    elif cls is dict:
        for k, x in v.items():
            _check_numbers(x, f"{path}.{k}")
    elif isinstance(v, models.Filter):
        return  # conditions, not vectors
    elif isinstance(v, models.Model):
        for f in v.__struct_fields__:
            x = getattr(v, f)
            if x is not None:
                _check_numbers(x, f"{path}.{f}")
