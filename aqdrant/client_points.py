"""``AsyncQdrantClient``'s point methods: writes (upsert, vectors, payloads, deletes, batches),
payload indexes, and reads by id, page, count or facet. Points selectors (ids or a filter)
are normalised here.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from . import models
from ._types import PointId
from .client_base import ClientBase, Headers, PointsSelectorLike, _point_id
from .errors import BadRequest, NotFound, ValidationError
from .models._coerce import from_official


class PointOps(ClientBase):
    """Point writes, payload indexes, point reads."""

    # ==== points: writes =======================================================================
    async def upsert(
        self,
        collection_name: str,
        points: models.Batch | Sequence[models.PointStruct],
        wait: bool = True,
        ordering: models.WriteOrdering | None = None,
        shard_key_selector: models.ShardKeySelector | None = None,
        update_filter: models.Filter | None = None,
        update_mode: models.UpdateMode | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> models.UpdateResult:
        """Insert or replace points. Vectors are checked against the collection first."""
        points = from_official(points)
        if isinstance(points, models.Batch):
            body: Any = models.PointsBatch(
                batch=points,
                shard_key=shard_key_selector,
                update_filter=update_filter,
                update_mode=update_mode,
            )
        else:
            body = models.PointsList(
                points=list(points),
                shard_key=shard_key_selector,
                update_filter=update_filter,
                update_mode=update_mode,
            )
        body = await self._embed_inputs(collection_name, body, op="upsert_points")
        if self._validator:
            await self._validator.check_upsert(collection_name, body)
        try:
            return await self._call(
                "upsert_points",
                path={"collection_name": collection_name},
                query={"wait": wait, "ordering": ordering},
                body=body,
                timeout=timeout,
                headers=headers,
                coerced=True,
            )
        except (BadRequest, NotFound):
            if self._validator:  # the collection may have changed or gone: refetch next time
                self._validator.forget(collection_name)
            raise

    async def update_vectors(
        self,
        collection_name: str,
        points: Sequence[models.PointVectors],
        wait: bool = True,
        ordering: models.WriteOrdering | None = None,
        shard_key_selector: models.ShardKeySelector | None = None,
        update_filter: models.Filter | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> models.UpdateResult:
        """Replace some vectors of existing points."""
        body = models.UpdateVectors(
            points=list(points), shard_key=shard_key_selector, update_filter=update_filter
        )
        body = await self._embed_inputs(collection_name, body, op="update_vectors")
        if self._validator:
            await self._validator.check_update_vectors(collection_name, body)
        return await self._write("update_vectors", collection_name, body, wait, ordering, timeout, headers, coerced=True)

    async def delete_vectors(
        self,
        collection_name: str,
        vectors: Sequence[str],
        points: PointsSelectorLike,
        wait: bool = True,
        ordering: models.WriteOrdering | None = None,
        shard_key_selector: models.ShardKeySelector | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> models.UpdateResult:
        """Delete named vectors of the selected points."""
        ids, flt = _split_selector(points)
        body = models.DeleteVectors(
            points=ids, filter=flt, vector=list(vectors), shard_key=shard_key_selector
        )
        return await self._write("delete_vectors", collection_name, body, wait, ordering, timeout, headers)

    async def delete(
        self,
        collection_name: str,
        points_selector: PointsSelectorLike,
        wait: bool = True,
        ordering: models.WriteOrdering | None = None,
        shard_key_selector: models.ShardKeySelector | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> models.UpdateResult:
        """Delete points by ids or by filter."""
        return await self._write(
            "delete_points",
            collection_name,
            _points_selector(points_selector, shard_key_selector),
            wait,
            ordering,
            timeout,
            headers,
        )

    async def set_payload(
        self,
        collection_name: str,
        payload: dict[str, Any],
        points: PointsSelectorLike,
        key: str | None = None,
        wait: bool = True,
        ordering: models.WriteOrdering | None = None,
        shard_key_selector: models.ShardKeySelector | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> models.UpdateResult:
        """Merge ``payload`` into the selected points' payload (at ``key`` if given)."""
        ids, flt = _split_selector(points)
        body = models.SetPayload(
            payload=payload, points=ids, filter=flt, shard_key=shard_key_selector, key=key
        )
        return await self._write("set_payload", collection_name, body, wait, ordering, timeout, headers)

    async def overwrite_payload(
        self,
        collection_name: str,
        payload: dict[str, Any],
        points: PointsSelectorLike,
        wait: bool = True,
        ordering: models.WriteOrdering | None = None,
        shard_key_selector: models.ShardKeySelector | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> models.UpdateResult:
        """Replace the selected points' whole payload."""
        ids, flt = _split_selector(points)
        body = models.SetPayload(payload=payload, points=ids, filter=flt, shard_key=shard_key_selector)
        return await self._write("overwrite_payload", collection_name, body, wait, ordering, timeout, headers)

    async def delete_payload(
        self,
        collection_name: str,
        keys: Sequence[str],
        points: PointsSelectorLike,
        wait: bool = True,
        ordering: models.WriteOrdering | None = None,
        shard_key_selector: models.ShardKeySelector | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> models.UpdateResult:
        """Remove payload keys from the selected points."""
        ids, flt = _split_selector(points)
        body = models.DeletePayload(keys=list(keys), points=ids, filter=flt, shard_key=shard_key_selector)
        return await self._write("delete_payload", collection_name, body, wait, ordering, timeout, headers)

    async def clear_payload(
        self,
        collection_name: str,
        points_selector: PointsSelectorLike,
        wait: bool = True,
        ordering: models.WriteOrdering | None = None,
        shard_key_selector: models.ShardKeySelector | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> models.UpdateResult:
        """Remove the whole payload of the selected points."""
        return await self._write(
            "clear_payload",
            collection_name,
            _points_selector(points_selector, shard_key_selector),
            wait,
            ordering,
            timeout,
            headers,
        )

    async def batch_update_points(
        self,
        collection_name: str,
        update_operations: Sequence[models.UpdateOperation],
        wait: bool = True,
        ordering: models.WriteOrdering | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> list[models.UpdateResult]:
        """Several point updates in one request, applied in order."""
        body = models.UpdateOperations(operations=list(update_operations))
        body = await self._embed_inputs(collection_name, body, op="batch_update")
        return await self._write("batch_update", collection_name, body, wait, ordering, timeout, headers, coerced=True)

    async def create_payload_index(
        self,
        collection_name: str,
        field_name: str,
        field_schema: models.PayloadFieldSchema | None = None,
        field_type: models.PayloadSchemaType | None = None,
        wait: bool = True,
        ordering: models.WriteOrdering | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> models.UpdateResult:
        """Index a payload field (``field_type`` is the old name of ``field_schema``)."""
        if field_schema is not None and field_type is not None:
            raise ValidationError("give field_schema or field_type, not both")
        body = models.CreateFieldIndex(field_name=field_name, field_schema=field_schema or field_type)
        return await self._write(
            "create_field_index", collection_name, body, wait, ordering, timeout, headers
        )

    async def delete_payload_index(
        self,
        collection_name: str,
        field_name: str,
        wait: bool = True,
        ordering: models.WriteOrdering | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> models.UpdateResult:
        """Drop a payload index."""
        return await self._call(
            "delete_field_index",
            path={"collection_name": collection_name, "field_name": field_name},
            query={"wait": wait, "ordering": ordering},
            timeout=timeout,
            headers=headers,
        )

    # ==== points: reads ========================================================================
    async def retrieve(
        self,
        collection_name: str,
        ids: Sequence[PointId],
        with_payload: models.WithPayloadInterface = True,
        with_vectors: models.WithVector = False,
        consistency: models.ReadConsistency | None = None,
        shard_key_selector: models.ShardKeySelector | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> list[models.Record]:
        """Points by id (missing ids are left out)."""
        body = models.PointRequest(
            ids=[_point_id(i) for i in ids],
            with_payload=with_payload,
            with_vector=with_vectors,
            shard_key=shard_key_selector,
        )
        return await self._read("get_points", collection_name, body, consistency, timeout, headers)

    async def scroll(
        self,
        collection_name: str,
        scroll_filter: models.Filter | None = None,
        limit: int = 10,
        order_by: str | models.OrderBy | None = None,
        offset: PointId | None = None,
        with_payload: models.WithPayloadInterface = True,
        with_vectors: models.WithVector = False,
        consistency: models.ReadConsistency | None = None,
        shard_key_selector: models.ShardKeySelector | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> tuple[list[models.Record], models.ExtendedPointId | None]:
        """One page of points and the offset of the next page (None at the end)."""
        body = models.ScrollRequest(
            filter=scroll_filter,
            limit=limit,
            order_by=order_by,
            offset=_point_id(offset) if offset is not None else None,
            with_payload=with_payload,
            with_vector=with_vectors,
            shard_key=shard_key_selector,
        )
        res = await self._call(
            "scroll_points",
            path={"collection_name": collection_name},
            query={"consistency": consistency},
            body=body,
            timeout=timeout,
            headers=headers,
        )
        return res.points, res.next_page_offset

    async def scroll_all(
        self,
        collection_name: str,
        scroll_filter: models.Filter | None = None,
        batch_size: int = 256,
        with_payload: models.WithPayloadInterface = True,
        with_vectors: models.WithVector = False,
        *,
        timeout: float | None = None,
        headers: Headers = None,
    ) -> AsyncIterator[models.Record]:
        """Every point (matching the filter), page by page; ``timeout`` applies per page."""
        offset: Any = None
        while True:
            page, offset = await self.scroll(
                collection_name,
                scroll_filter=scroll_filter,
                limit=batch_size,
                offset=offset,
                with_payload=with_payload,
                with_vectors=with_vectors,
                timeout=timeout,
                headers=headers,
            )
            for rec in page:
                yield rec
            if offset is None:
                return

    async def count(
        self,
        collection_name: str,
        count_filter: models.Filter | None = None,
        exact: bool = True,
        shard_key_selector: models.ShardKeySelector | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> models.CountResult:
        """Number of points (matching the filter)."""
        body = models.CountRequest(filter=count_filter, exact=exact, shard_key=shard_key_selector)
        return await self._call(
            "count_points",
            path={"collection_name": collection_name},
            body=body,
            timeout=timeout,
            headers=headers,
        )

    async def facet(
        self,
        collection_name: str,
        key: str,
        facet_filter: models.Filter | None = None,
        limit: int = 10,
        exact: bool = False,
        consistency: models.ReadConsistency | None = None,
        timeout: float | None = None,
        shard_key_selector: models.ShardKeySelector | None = None,
        *,
        headers: Headers = None,
    ) -> models.FacetResponse:
        """Counts of the distinct values of a payload key."""
        body = models.FacetRequest(
            key=key, filter=facet_filter, limit=limit, exact=exact, shard_key=shard_key_selector
        )
        return await self._read("facet", collection_name, body, consistency, timeout, headers)


def _split_selector(selector: PointsSelectorLike) -> tuple[list[Any] | None, models.Filter | None]:
    selector = from_official(selector)
    if isinstance(selector, Mapping):  # a selector or a filter given as a dict
        if "points" in selector:
            selector = models.parse(models.PointIdsList, selector)
        elif "filter" in selector:
            selector = models.parse(models.FilterSelector, selector)
        else:
            selector = models.parse(models.Filter, selector)
    if isinstance(selector, models.Filter):
        return None, selector
    if isinstance(selector, models.FilterSelector):
        return None, selector.filter
    if isinstance(selector, models.PointIdsList):
        return list(selector.points), None
    if isinstance(selector, (str, bytes, int, uuid.UUID)):
        raise ValidationError("points selector must be a list of ids or a Filter, not a single id")
    return [_point_id(i) for i in selector], None


def _points_selector(selector: PointsSelectorLike, shard_key: Any) -> models.PointsSelector:
    ids, flt = _split_selector(selector)
    if ids is not None:
        return models.PointIdsList(points=ids, shard_key=shard_key)
    return models.FilterSelector(filter=flt, shard_key=shard_key)
