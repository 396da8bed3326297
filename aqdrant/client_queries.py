"""``AsyncQdrantClient``'s queries: the universal query (single, batch, grouped) and the
distance matrices. Query inputs to embed locally (Documents, Images) go through
``ClientBase._embed_inputs``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from . import models
from ._types import QueryLike
from .client_base import ClientBase, Headers


class QueryOps(ClientBase):
    """Queries and distance matrices."""

    async def query_points(
        self,
        collection_name: str,
        query: QueryLike | None = None,
        using: str | None = None,
        prefetch: models.Prefetch | Sequence[models.Prefetch] | None = None,
        query_filter: models.Filter | None = None,
        search_params: models.SearchParams | None = None,
        limit: int = 10,
        offset: int | None = None,
        with_payload: models.WithPayloadInterface = True,
        with_vectors: models.WithVector = False,
        score_threshold: float | None = None,
        lookup_from: models.LookupLocation | None = None,
        consistency: models.ReadConsistency | None = None,
        shard_key_selector: models.ShardKeySelector | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> models.QueryResponse:
        """The universal query: nearest, recommend, discover, fusion, order by, formula, ...

        ``query`` may be a vector (list or numpy), a point id, a sparse vector or a query model.
        """
        body = _query_request(
            query=query,
            using=using,
            prefetch=prefetch,
            filter=query_filter,
            params=search_params,
            limit=limit,
            offset=offset,
            with_payload=with_payload,
            with_vector=with_vectors,
            score_threshold=score_threshold,
            lookup_from=lookup_from,
            shard_key=shard_key_selector,
        )
        body = await self._embed_inputs(collection_name, body, is_query=True, op="query_points")
        return await self._read(
            "query_points", collection_name, body, consistency, timeout, headers, coerced=True
        )

    async def query_batch_points(
        self,
        collection_name: str,
        requests: Sequence[models.QueryRequest],
        consistency: models.ReadConsistency | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> list[models.QueryResponse]:
        """Several queries in one request."""
        body = await self._embed_inputs(
            collection_name, models.QueryRequestBatch(searches=list(requests)), is_query=True, op="query_batch_points"
        )
        return await self._read(
            "query_batch_points", collection_name, body, consistency, timeout, headers, coerced=True
        )

    async def query_points_groups(
        self,
        collection_name: str,
        group_by: str,
        query: QueryLike | None = None,
        using: str | None = None,
        prefetch: models.Prefetch | Sequence[models.Prefetch] | None = None,
        query_filter: models.Filter | None = None,
        search_params: models.SearchParams | None = None,
        limit: int = 10,
        group_size: int = 3,
        with_payload: models.WithPayloadInterface = True,
        with_vectors: models.WithVector = False,
        score_threshold: float | None = None,
        with_lookup: models.WithLookupInterface | None = None,
        lookup_from: models.LookupLocation | None = None,
        consistency: models.ReadConsistency | None = None,
        shard_key_selector: models.ShardKeySelector | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> models.GroupsResult:
        """Query, grouping hits by a payload key."""
        body = models.QueryGroupsRequest(
            group_by=group_by,
            query=_as_query(query),
            using=using,
            prefetch=_as_list(prefetch),
            filter=query_filter,
            params=search_params,
            limit=limit,
            group_size=group_size,
            with_payload=with_payload,
            with_vector=with_vectors,
            score_threshold=score_threshold,
            with_lookup=with_lookup,
            lookup_from=lookup_from,
            shard_key=shard_key_selector,
        )
        body = await self._embed_inputs(collection_name, body, is_query=True, op="query_points_groups")
        return await self._read(
            "query_points_groups", collection_name, body, consistency, timeout, headers, coerced=True
        )

    async def search_matrix_pairs(
        self,
        collection_name: str,
        query_filter: models.Filter | None = None,
        limit: int = 3,
        sample: int = 10,
        using: str | None = None,
        consistency: models.ReadConsistency | None = None,
        timeout: float | None = None,
        shard_key_selector: models.ShardKeySelector | None = None,
        *,
        headers: Headers = None,
    ) -> models.SearchMatrixPairsResponse:
        """Distance matrix of a sample of points, as pairs."""
        body = models.SearchMatrixRequest(
            filter=query_filter, limit=limit, sample=sample, using=using, shard_key=shard_key_selector
        )
        return await self._read("search_matrix_pairs", collection_name, body, consistency, timeout, headers)

    async def search_matrix_offsets(
        self,
        collection_name: str,
        query_filter: models.Filter | None = None,
        limit: int = 3,
        sample: int = 10,
        using: str | None = None,
        consistency: models.ReadConsistency | None = None,
        timeout: float | None = None,
        shard_key_selector: models.ShardKeySelector | None = None,
        *,
        headers: Headers = None,
    ) -> models.SearchMatrixOffsetsResponse:
        """Distance matrix of a sample of points, as a sparse matrix."""
        body = models.SearchMatrixRequest(
            filter=query_filter, limit=limit, sample=sample, using=using, shard_key=shard_key_selector
        )
        return await self._read("search_matrix_offsets", collection_name, body, consistency, timeout, headers)


def _as_list(value: Any) -> list[Any] | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _as_query(query: Any) -> Any:
    """Accept what the official client accepts as ``query``: ids, vectors, models."""
    if isinstance(query, uuid.UUID):
        return str(query)
    return query


def _query_request(*, query: Any, prefetch: Any, **fields: Any) -> models.QueryRequest:
    return models.QueryRequest(query=_as_query(query), prefetch=_as_list(prefetch), **fields)
