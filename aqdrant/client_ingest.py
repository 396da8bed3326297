"""``AsyncQdrantClient``'s bulk data in and out: the ingestion actor, the batched uploads (both
run by :mod:`aqdrant.ingest`) and the copy of collections to another client
(:mod:`aqdrant._migrate`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from . import models
from ._types import MigrationTarget, PointId, UploadVectors
from .client_base import ClientBase, Headers, _point_id

if TYPE_CHECKING:
    from .ingest import Ingestor


class IngestOps(ClientBase):
    """Ingestion, uploads, migration."""

    # ==== ingestion ============================================================================
    def ingest(self, collection_name: str, **options: Any) -> Ingestor:
        """A concurrent, backpressured upsert actor: ``async with client.ingest("c") as sink:``.

        ``await sink.send(point)`` / ``await sink.send_many(points)``; leaving the block flushes
        and raises :class:`aqdrant.ingest.IngestError` if points failed; ``sink.report`` holds the
        exact accounting. Options: see :class:`aqdrant.ingest.Ingestor`.
        """
        from .ingest import Ingestor

        return Ingestor(self, collection_name, **options)

    async def upload_points(
        self,
        collection_name: str,
        points: Iterable[models.PointStruct],
        batch_size: int = 64,
        parallel: int = 1,
        method: str | None = None,
        max_retries: int = 3,
        wait: bool = True,
        shard_key_selector: models.ShardKeySelector | None = None,
        update_filter: models.Filter | None = None,
        update_mode: models.UpdateMode | None = None,
        *,
        headers: Headers = None,
        outage_budget: float | None = 60.0,
    ) -> None:
        """Upload points in batches (``parallel`` batches in flight). Default ``wait=True``.

        An unreachable server is waited for up to ``outage_budget`` seconds (None: no limit);
        see :class:`aqdrant.ingest.Ingestor`."""
        from .ingest import upload_points

        await upload_points(
            self,
            collection_name,
            points,
            batch_size=batch_size,
            parallel=parallel,
            max_retries=max_retries,
            wait=wait,
            shard_key_selector=shard_key_selector,
            update_filter=update_filter,
            update_mode=update_mode,
            headers=headers,
            outage_budget=outage_budget,
        )

    async def upload_collection(
        self,
        collection_name: str,
        vectors: UploadVectors,
        payload: Iterable[dict[str, Any]] | None = None,
        ids: Iterable[PointId] | None = None,
        batch_size: int = 64,
        parallel: int = 1,
        method: str | None = None,
        max_retries: int = 3,
        wait: bool = True,
        shard_key_selector: models.ShardKeySelector | None = None,
        update_filter: models.Filter | None = None,
        update_mode: models.UpdateMode | None = None,
        *,
        headers: Headers = None,
        outage_budget: float | None = 60.0,
    ) -> None:
        """Upload vectors (2-D numpy array, lists, dict of named arrays, iterables) with payloads.

        numpy arrays go out as ``Batch`` bodies of row views (no per-point objects). ``ids`` may
        be longer than ``vectors`` when it is an iterator (``itertools.count()``): as many are
        taken as there are vectors. An unreachable server is waited for up to ``outage_budget``
        seconds, as ``upload_points``."""
        from .ingest import upload_columns

        ids = _bounded_ids(vectors, ids)
        if ids is not None and not hasattr(ids, "__len__") and not hasattr(ids, "__aiter__") and not hasattr(vectors, "__aiter__"):
            import itertools

            payloads = itertools.repeat(None) if payload is None else payload
            points = (
                models.PointStruct(id=_point_id(i), vector=v, payload=p)
                for v, i, p in zip(vectors, ids, payloads, strict=False)  # ids may go on
            )
            return await self.upload_points(
                collection_name,
                points,
                batch_size=batch_size,
                parallel=parallel,
                max_retries=max_retries,
                wait=wait,
                shard_key_selector=shard_key_selector,
                update_filter=update_filter,
                update_mode=update_mode,
                outage_budget=outage_budget,
                headers=headers,
            )
        await upload_columns(
            self,
            collection_name,
            vectors,
            payload,
            ids,
            batch_size=batch_size,
            parallel=parallel,
            max_retries=max_retries,
            wait=wait,
            shard_key_selector=shard_key_selector,
            update_filter=update_filter,
            update_mode=update_mode,
            headers=headers,
            outage_budget=outage_budget,
        )

    async def migrate(
        self,
        dest_client: MigrationTarget,
        collection_names: list[str] | None = None,
        batch_size: int = 100,
        recreate_on_collision: bool = False,
    ) -> None:
        """Copy collections (config, payload indexes, points) to ``dest_client``: any client,
        awaited or blocking, aqdrant's or the official one. Raises ``ValidationError`` when a
        collection exists there (unless ``recreate_on_collision``) and ``QdrantError`` when the
        point counts differ afterwards."""
        from ._migrate import migrate

        await migrate(self, dest_client, collection_names, batch_size, recreate_on_collision)


def _bounded_ids(vectors: Any, ids: Any) -> Any:
    """An id iterator without a length (``itertools.count()``, a generator) taken only as far
    as the vectors go, as the official client does; ids with a length are checked downstream."""
    import itertools

    if ids is None or hasattr(ids, "__len__") or hasattr(ids, "__aiter__"):
        return ids
    if isinstance(vectors, Mapping):
        n = len(next(iter(vectors.values()))) if vectors and hasattr(next(iter(vectors.values())), "__len__") else None
    else:
        n = len(vectors) if hasattr(vectors, "__len__") else None
    if n is not None:
        return list(itertools.islice(ids, n))
    return ids  # vectors of unknown length too: zipped in upload_collection
