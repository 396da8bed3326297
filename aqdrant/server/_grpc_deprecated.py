"""The deprecated gRPC search, recommend and discover methods Qdrant 1.19 still serves, as the
query messages they are equivalent to (the gRPC twin of :mod:`aqdrant.server._deprecated`).

Each request becomes a ``QueryPoints`` (``QueryBatchPoints``, ``QueryPointGroups``) and runs as
that operation. The replies need no translation: ``SearchResponse``, ``RecommendResponse`` and
``DiscoverResponse`` have ``QueryResponse``'s fields and numbers (likewise the batch and groups
replies), so the query reply's bytes are the deprecated reply.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..grpc._proto import qdrant as q
from ..grpc.convert import betterproto_which


def _vector_input(v: q.Vector) -> q.VectorInput:
    """A (deprecated-style) ``Vector`` as the query API's ``VectorInput``."""
    kind = betterproto_which(v, "vector")
    if kind is not None:
        return q.VectorInput(**{kind: getattr(v, kind)})
    if v.indices is not None:
        return q.VectorInput(sparse=q.SparseVector(indices=list(v.indices.data), values=list(v.data)))
    if v.vectors_count:
        dim = len(v.data) // v.vectors_count
        rows = [q.DenseVector(data=list(v.data[i : i + dim])) for i in range(0, len(v.data), dim)]
        return q.VectorInput(multi_dense=q.MultiDenseVector(vectors=rows))
    return q.VectorInput(dense=q.DenseVector(data=list(v.data)))


def _example(e: q.VectorExample | None) -> q.VectorInput | None:
    if e is None:
        return None
    kind = betterproto_which(e, "example")
    if kind == "id":
        return q.VectorInput(id=e.id)
    if kind == "vector":
        return _vector_input(e.vector)
    return None


def _searched(m: Any) -> q.VectorInput:
    if m.sparse_indices is not None:
        return q.VectorInput(sparse=q.SparseVector(indices=list(m.sparse_indices.data), values=list(m.vector)))
    return q.VectorInput(dense=q.DenseVector(data=list(m.vector)))


def _recommended(m: Any) -> q.RecommendInput:
    return q.RecommendInput(
        positive=[q.VectorInput(id=p) for p in m.positive] + [_vector_input(v) for v in m.positive_vectors],
        negative=[q.VectorInput(id=p) for p in m.negative] + [_vector_input(v) for v in m.negative_vectors],
        strategy=m.strategy,
    )


def _discovered(m: q.DiscoverPoints) -> q.Query:
    pairs = q.ContextInput(
        pairs=[q.ContextInputPair(positive=_example(p.positive), negative=_example(p.negative)) for p in m.context]
    )
    target = _example(m.target.single) if m.target is not None else None
    if target is None:
        return q.Query(context=pairs)
    return q.Query(discover=q.DiscoverInput(target=target, context=pairs))


def _common(m: Any, *, using: str | None) -> dict[str, Any]:
    return {
        "collection_name": m.collection_name,
        "using": using,
        "filter": m.filter,
        "params": m.params,
        "score_threshold": getattr(m, "score_threshold", None),  # discover has none
        "with_vectors": m.with_vectors,
        "with_payload": m.with_payload,
        "read_consistency": m.read_consistency,
        "shard_key_selector": m.shard_key_selector,
        "timeout": m.timeout,
    }


def _points(query: Callable[[Any], q.Query], using: Callable[[Any], str | None]) -> Callable[[Any], q.QueryPoints]:
    def build(m: Any) -> q.QueryPoints:
        extra = {"lookup_from": m.lookup_from} if hasattr(m, "lookup_from") else {}
        return q.QueryPoints(
            **_common(m, using=using(m)), query=query(m), limit=m.limit, offset=m.offset, **extra
        )

    return build


def _groups(query: Callable[[Any], q.Query], using: Callable[[Any], str | None]) -> Callable[[Any], q.QueryPointGroups]:
    def build(m: Any) -> q.QueryPointGroups:
        extra = {"lookup_from": m.lookup_from} if hasattr(m, "lookup_from") else {}
        return q.QueryPointGroups(
            **_common(m, using=using(m)),
            query=query(m),
            limit=m.limit,
            group_by=m.group_by,
            group_size=m.group_size,
            with_lookup=m.with_lookup,
            **extra,
        )

    return build


def _batch(one: Callable[[Any], q.QueryPoints], field: str) -> Callable[[Any], q.QueryBatchPoints]:
    def build(m: Any) -> q.QueryBatchPoints:
        return q.QueryBatchPoints(
            collection_name=m.collection_name,
            query_points=[one(x) for x in getattr(m, field)],
            read_consistency=m.read_consistency,
            timeout=m.timeout,
        )

    return build


_search = _points(lambda m: q.Query(nearest=_searched(m)), lambda m: m.vector_name)
_recommend = _points(lambda m: q.Query(recommend=_recommended(m)), lambda m: m.using)
_discover = _points(_discovered, lambda m: m.using)

#: ``Points.<method>`` -> (the query operation it runs as, request message -> query message)
METHODS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "Points.Search": ("query_points", _search),
    "Points.SearchBatch": ("query_batch_points", _batch(_search, "search_points")),
    "Points.SearchGroups": ("query_points_groups", _groups(lambda m: q.Query(nearest=_searched(m)), lambda m: m.vector_name)),
    "Points.Recommend": ("query_points", _recommend),
    "Points.RecommendBatch": ("query_batch_points", _batch(_recommend, "recommend_points")),
    "Points.RecommendGroups": ("query_points_groups", _groups(lambda m: q.Query(recommend=_recommended(m)), lambda m: m.using)),
    "Points.Discover": ("query_points", _discover),
    "Points.DiscoverBatch": ("query_batch_points", _batch(_discover, "discover_points")),
}

__all__ = ["METHODS"]
