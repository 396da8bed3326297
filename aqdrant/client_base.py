"""What every part of ``AsyncQdrantClient`` shares: the one way a method reaches the server
(``_call``; ``_write`` / ``_read`` for point writes and reads), local inference of a request's
inputs, the coercion of bodies (a refusal names the argument it came from), and the aliases the
public signatures use.

``ClientBase`` is completed by one mixin per concern into ``client.AsyncQdrantClient`` (which
adds construction and lifecycle): ``client_collections`` (collections, aliases, vector names),
``client_points`` (point writes, payload indexes, point reads), ``client_queries`` (queries,
distance matrices), ``client_snapshots``, ``client_cluster`` (shard keys, cluster, service),
``client_inference`` (fastembed models), ``client_ingest`` (uploads, ingest, migrate).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import models
from ._types import PointId
from ._validate import check_query_vectors
from .errors import ClientClosedError, ValidationError
from .models._coerce import coerce as coerce_body

if TYPE_CHECKING:
    from ._pipeline import Pipeline
    from ._validate import VectorValidator

Headers = Mapping[str, str] | None
PointsSelectorLike = Sequence[PointId] | models.Filter | models.PointIdsList | models.FilterSelector

# The server API version the models were generated from (qdrant-api/v1.19 in the repository).
API_VERSION = (1, 19)


class ClientBase:
    """The state every method reads and the calls they share; ``AsyncQdrantClient`` sets the state
    in its constructor and adds the operations (the mixins)."""

    if TYPE_CHECKING:  # declared for type checkers only: the class keeps no annotations at run time
        _pipeline: Pipeline
        _validator: VectorValidator | None
        _embedder: Any  # aqdrant.inference.Embedder, made on first local inference
        _closed: bool
        cloud_inference: bool
        local_inference_batch_size: int | None

    # ---- the one way every method reaches the server ----------------------------------------
    async def _call(
        self,
        op: str,
        *,
        path: dict[str, Any] | None = None,
        query: dict[str, Any] | None = None,
        body: Any = None,
        timeout: float | None = None,
        headers: Headers = None,
        coerced: bool = False,
    ) -> Any:
        if self._closed:
            raise ClientClosedError("this AsyncQdrantClient is closed")
        if not coerced:
            body = _coerce(op, body)
        query = {k: v for k, v in (query or {}).items() if v is not None}
        return await self._pipeline.execute(
            op, path_params=path or {}, query=query, body=body, timeout=timeout, headers=headers
        )

    async def _write(
        self,
        op: str,
        collection_name: str,
        body: Any,
        wait: bool,
        ordering: Any,
        timeout: float | None,
        headers: Headers,
        coerced: bool = False,
    ) -> Any:
        """A point/index write: ``wait`` and ``ordering`` go to the query string."""
        return await self._call(
            op,
            path={"collection_name": collection_name},
            query={"wait": wait, "ordering": ordering},
            body=body,
            timeout=timeout,
            headers=headers,
            coerced=coerced,
        )

    async def _read(
        self,
        op: str,
        collection_name: str,
        body: Any,
        consistency: Any,
        timeout: float | None,
        headers: Headers,
        coerced: bool = False,
    ) -> Any:
        """A point read: ``consistency`` goes to the query string. ``coerced``: the body already
        went through ``_coerce`` (``_embed_inputs`` does it), so it is not walked again."""
        return await self._call(
            op,
            path={"collection_name": collection_name},
            query={"consistency": consistency},
            body=body,
            timeout=timeout,
            headers=headers,
            coerced=coerced,
        )

    async def _embed_inputs(self, collection_name: str, body: Any, *, is_query: bool = False, op: str = "request") -> Any:
        """``body`` with Documents / Images / InferenceObjects embedded locally (aqdrant.inference),
        or as it is with ``cloud_inference=True`` (the server embeds). Dicts given for models are
        made models first (``_coerce``), so the inference walk and the validator see models."""
        body = _coerce(op, body)
        if self.cloud_inference or _nothing_to_embed(body):
            return body
        from .inference import DEFAULT_BATCH_SIZE, Embedder, embed_request

        if self._embedder is None:
            self._embedder = Embedder()
        return await embed_request(
            body,
            embedder=self._embedder,
            collection_name=collection_name,
            is_query=is_query,
            batch_size=self.local_inference_batch_size or DEFAULT_BATCH_SIZE,
            get_schema=self._validator._schema if self._validator else None,
        )


#: client arguments by the body field they become, where the names differ (for error messages)
_ARGUMENT_OF = {
    "params": "search_params",
    "with_vector": "with_vectors",
    "shard_key": "shard_key_selector",
    "searches": "requests",
    "operations": "update_operations",
    "vectors": "vectors_config",
}


_FILTER_ARGUMENT = {
    "query_points": "query_filter",
    "query_points_groups": "query_filter",
    "search_matrix_pairs": "query_filter",
    "search_matrix_offsets": "query_filter",
    "scroll_points": "scroll_filter",
    "count_points": "count_filter",
    "facet": "facet_filter",
    "delete_points": "points_selector",
    "clear_payload": "points_selector",
}


def _coerce(op: str, body: Any) -> Any:
    """The body with dicts made models and payload values made JSON (aqdrant/models/_coerce.py);
    a refusal names the argument it came from."""
    if body is None or body.__class__ is bytes or isinstance(body, Path):
        return body
    try:
        body = coerce_body(body)
        check_query_vectors(body)
        return body
    except ValidationError as e:
        path = e.path or "$"
        field = path[2:].split(".")[0].split("[")[0]
        arg = _FILTER_ARGUMENT.get(op, "points") if field == "filter" else _ARGUMENT_OF.get(field, field or "body")
        raise ValidationError(f"{op}: invalid argument `{arg}`: {e}", path=path) from None


def _nothing_to_embed(body: Any) -> bool:
    """A query without prefetches whose query is absent, an id or a dense / sparse vector: no
    input to embed, so the inference walk (which would find none) is skipped for the common
    query. aqdrant.inference reads a query's inputs from ``query`` and ``prefetch`` only, and
    a list starting with a number as a vector."""
    cls = body.__class__
    if (cls is not models.QueryRequest and cls is not models.QueryGroupsRequest) or body.prefetch is not None:
        return False
    query = body.query
    cls = query.__class__
    if cls is list:
        return not query or query[0].__class__ is float or query[0].__class__ is int
    return query is None or cls is int or cls is str or cls is models.SparseVector


def _point_id(value: Any) -> Any:
    """Point ids are unsigned ints or UUID strings; UUID objects become strings."""
    if isinstance(value, uuid.UUID):
        return str(value)
    return value
