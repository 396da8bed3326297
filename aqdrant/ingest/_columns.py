"""``upload_points`` and ``points_from_columns``: the official client's bulk API on the actor.

Columns are turned into points lazily, one row at a time: rows of a 2-D numpy array stay numpy
row views (no Python float per element; the models' encoder writes them straight from the
buffer), so memory holds the buffer of the actor, not a copy of the data set.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from typing import Any

from .. import models
from ..errors import ValidationError
from ._actor import Ingestor, ProgressCallback, Upserter
from ._batch import column_arrays, point_id
from ._outage import DEFAULT_OUTAGE_BUDGET
from ._report import IngestReport
from ._size import DEFAULT_MAX_BATCH_BYTES

_END = object()


def _is_async(x: Any) -> bool:
    return isinstance(x, AsyncIterable)


def _rows(vectors: Any) -> Iterable[Any] | AsyncIterable[Any]:
    """One vector (or dict of named vectors) per point."""
    np = sys.modules.get("numpy")
    if np is not None and isinstance(vectors, np.ndarray):
        if vectors.ndim == 1:
            raise ValidationError("vectors must be 2-D (one row per point), got a 1-D array")
        return iter(vectors)  # row views
    if isinstance(vectors, Mapping):
        names = list(vectors)
        columns = [_rows_of_column(vectors[n]) for n in names]
        if any(_is_async(c) for c in columns):
            return _named_rows_async(names, columns)
        return _named_rows(names, columns)
    return vectors


def _rows_of_column(column: Any) -> Any:
    np = sys.modules.get("numpy")
    if np is not None and isinstance(column, np.ndarray):
        return iter(column)
    return column


def _named_rows(names: list[str], columns: list[Any]) -> Iterator[dict[str, Any]]:
    its = [iter(c) for c in columns]
    while True:
        row = {}
        for name, it in zip(names, its, strict=True):
            v = next(it, _END)
            if v is _END:
                if row:
                    raise ValidationError(
                        f"named vector columns differ in length (column {name!r} ended first)"
                    )
                for other_name, other in zip(names[1:], its[1:], strict=True):
                    if next(other, _END) is not _END:
                        raise ValidationError(
                            f"named vector columns differ in length (column {name!r} ended first, "
                            f"{other_name!r} goes on)"
                        )
                return
            row[name] = v
        yield row


async def _named_rows_async(names: list[str], columns: list[Any]) -> AsyncIterator[dict[str, Any]]:
    its = [_aiter(c) for c in columns]
    while True:
        row = {}
        for name, it in zip(names, its, strict=True):
            v = await _anext(it)
            if v is _END:
                if row:
                    raise ValidationError(
                        f"named vector columns differ in length (column {name!r} ended first)"
                    )
                return
            row[name] = v
        yield row


def _aiter(x: Any) -> Any:
    if _is_async(x):
        return x.__aiter__()
    return iter(x)


async def _anext(it: Any) -> Any:
    if hasattr(it, "__anext__"):
        try:
            return await it.__anext__()
        except StopAsyncIteration:
            return _END
    return next(it, _END)


def _uuids() -> Iterator[str]:
    while True:
        yield str(uuid.uuid4())


def _nones() -> Iterator[None]:
    while True:
        yield None


def points_from_columns(
    vectors: Any,
    payload: Iterable[dict[str, Any] | None] | AsyncIterable[Any] | None = None,
    ids: Iterable[Any] | AsyncIterable[Any] | None = None,
) -> Iterator[models.PointStruct] | AsyncIterator[models.PointStruct]:
    """Points from columns, lazily, as the official client's ``upload_collection`` takes them.

    ``vectors``: a 2-D numpy array, a list of vectors, a dict ``{name: 2-D array or list}`` of
    named vectors, or any (async) iterable of vectors or of dicts of named vectors.
    ``payload``: an (async) iterable of dicts (or None). ``ids``: an (async) iterable of ints /
    UUID strings; None generates random UUIDs (as the official client does). An async iterable
    anywhere gives an async iterator. Columns of different lengths raise ``ValidationError``
    (no point is dropped silently).
    """
    sizes = {
        name: len(x)
        for name, x in (("vectors", vectors), ("payload", payload), ("ids", ids))
        if x is not None and hasattr(x, "__len__") and not isinstance(x, Mapping)
    }
    if len(set(sizes.values())) > 1:
        raise ValidationError(f"columns differ in length: {sizes}")
    rows = _rows(vectors)
    payloads: Any = _nones() if payload is None else payload
    id_source: Any = _uuids() if ids is None else ids
    # Leftover payloads/ids are an error only for a sized column: an iterator may be endless
    # (the official client zips ``ids=itertools.count()``, ``payload=itertools.cycle(...)``).
    check_payload, check_ids = (x is not None and hasattr(x, "__len__") for x in (payload, ids))
    if any(_is_async(x) for x in (rows, payloads, id_source)):
        return _zip_async(rows, payloads, id_source, check_payload, check_ids)
    return _zip(rows, payloads, id_source, check_payload, check_ids)


def _zip(
    rows: Any, payloads: Any, id_source: Any, check_payload: bool, check_ids: bool
) -> Iterator[models.PointStruct]:
    p_it, i_it = iter(payloads), iter(id_source)
    n = 0
    for vector in rows:
        pid = next(i_it, _END)
        if pid is _END:
            raise ValidationError(f"ids ran out after {n} points, vectors go on")
        pl = next(p_it, _END)
        if pl is _END:
            raise ValidationError(f"payloads ran out after {n} points, vectors go on")
        yield models.PointStruct(id=point_id(pid), vector=vector, payload=pl)
        n += 1
    if check_ids and next(i_it, _END) is not _END:
        raise ValidationError(f"more ids than vectors ({n} vectors)")
    if check_payload and next(p_it, _END) is not _END:
        raise ValidationError(f"more payloads than vectors ({n} vectors)")


async def _zip_async(
    rows: Any, payloads: Any, id_source: Any, check_payload: bool, check_ids: bool
) -> AsyncIterator[models.PointStruct]:
    r_it, p_it, i_it = _aiter(rows), _aiter(payloads), _aiter(id_source)
    n = 0
    while True:
        vector = await _anext(r_it)
        if vector is _END:
            break
        pid = await _anext(i_it)
        if pid is _END:
            raise ValidationError(f"ids ran out after {n} points, vectors go on")
        pl = await _anext(p_it)
        if pl is _END:
            raise ValidationError(f"payloads ran out after {n} points, vectors go on")
        yield models.PointStruct(id=point_id(pid), vector=vector, payload=pl)
        n += 1
    if check_ids and await _anext(i_it) is not _END:
        raise ValidationError(f"more ids than vectors ({n} vectors)")
    if check_payload and await _anext(p_it) is not _END:
        raise ValidationError(f"more payloads than vectors ({n} vectors)")


async def upload_points(
    client: Upserter,
    collection_name: str,
    points: Iterable[Any] | AsyncIterable[Any],
    **options: Any,
) -> IngestReport:
    """Upsert every point of an (async) iterable, ``parallel`` batches in flight, on the actor.

    Options: ``batch_size`` (64), ``parallel`` (1), ``max_retries``, ``outage_budget`` (60 s), ``wait``,
    ``shard_key_selector``, ``update_filter``, ``update_mode``, ``headers``, ``max_batch_bytes``,
    ``batch_timeout``, ``on_progress``, ``progress``, ``raise_on_failure``.
    Returns the :class:`IngestReport`; raises :class:`IngestError` (carrying it) when points
    failed, unless ``raise_on_failure=False``.
    """
    total = len(points) if hasattr(points, "__len__") else None  # type: ignore[arg-type]
    sink = _ingestor(client, collection_name, total, **options)
    async with sink:
        await sink.send_many(points)
    return sink.report


async def upload_columns(
    client: Upserter,
    collection_name: str,
    vectors: Any,
    payload: Iterable[Any] | AsyncIterable[Any] | None = None,
    ids: Iterable[Any] | AsyncIterable[Any] | None = None,
    **options: Any,
) -> IngestReport:
    """``upload_collection``: a 2-D numpy array (or a dict of them) travels as ``Batch`` bodies
    of row views (:meth:`Ingestor.send_columns`); any other shape as points. Options as
    :func:`upload_points`."""
    arrays = column_arrays(vectors)
    if arrays is None or _is_async(payload) or _is_async(ids):
        return await upload_points(client, collection_name, points_from_columns(vectors, payload, ids), **options)
    sink = _ingestor(client, collection_name, len(next(iter(arrays.values()))), **options)
    async with sink:
        await sink.send_columns(vectors, payload, ids)
    return sink.report


def _ingestor(
    client: Upserter,
    collection_name: str,
    total: int | None,
    *,
    batch_size: int = 64,
    parallel: int = 1,
    max_retries: int = 3,
    outage_budget: float | None = DEFAULT_OUTAGE_BUDGET,
    wait: bool = True,
    shard_key_selector: models.ShardKeySelector | None = None,
    update_filter: models.Filter | None = None,
    update_mode: models.UpdateMode | None = None,
    headers: Mapping[str, str] | None = None,
    max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
    batch_timeout: float | None = None,
    on_progress: ProgressCallback | None = None,
    progress: bool = False,
    raise_on_failure: bool = True,
) -> Ingestor:
    """The official client's bulk parameters (``parallel``: batches in flight) on the actor."""
    return Ingestor(
        client,
        collection_name,
        batch_size=batch_size,
        concurrency=parallel,
        max_batch_bytes=max_batch_bytes,
        max_retries=max_retries,
        outage_budget=outage_budget,
        wait=wait,
        shard_key_selector=shard_key_selector,
        update_filter=update_filter,
        update_mode=update_mode,
        batch_timeout=batch_timeout,
        headers=headers,
        on_progress=on_progress,
        progress=progress,
        total=total,
        raise_on_failure=raise_on_failure,
    )
