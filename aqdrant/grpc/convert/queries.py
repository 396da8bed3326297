"""Selectors and queries: with_payload/with_vectors, order-by, search params, the universal query
vocabulary (prefetch, fusion, formulas, context/discover/recommend, relevance feedback), lookups,
query/groups requests and results, facet and distance matrices."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ... import models as m
from ...errors import UnsupportedOperation
from .._proto import qdrant as q
from ._common import (
    Mirror,
    Pair,
    _diff_from_grpc,
    _diff_to_grpc,
    _enum_from_grpc,
    _enum_to_grpc,
    _read_fields,
    _unsupported,
    betterproto_which,
)
from .filters import (
    _DECAY_EXPRESSIONS,
    _UNARY_EXPRESSIONS,
    _conditions,
    condition_from_grpc,
    condition_to_grpc,
    filter_from_grpc,
    filter_to_grpc,
)
from .values import (
    _floats,
    _geo_point_from_grpc,
    _geo_point_to_grpc,
    _inference_from_grpc,
    _inference_to_grpc,
    _timestamp_from_grpc,
    _timestamp_to_grpc,
    payload_from_grpc,
    payload_to_grpc,
    point_id_from_grpc,
    point_id_to_grpc,
    record_from_grpc,
    record_to_grpc,
    scored_point_from_grpc,
    scored_point_to_grpc,
    shard_key_selector_from_grpc,
    shard_key_selector_to_grpc,
)


def with_payload_to_grpc(wp: Any) -> q.WithPayloadSelector | None:
    if wp is None:
        return None
    if isinstance(wp, bool):
        return q.WithPayloadSelector(enable=wp)
    if isinstance(wp, list):
        return q.WithPayloadSelector(include=q.PayloadIncludeSelector(fields=list(wp)))
    if isinstance(wp, m.PayloadSelectorInclude):
        return q.WithPayloadSelector(include=q.PayloadIncludeSelector(fields=list(wp.include)))
    if isinstance(wp, m.PayloadSelectorExclude):
        return q.WithPayloadSelector(exclude=q.PayloadExcludeSelector(fields=list(wp.exclude)))
    raise _unsupported(f"with_payload {type(wp).__name__}")


def with_payload_from_grpc(wp: q.WithPayloadSelector | None) -> Any:
    if wp is None:
        return None
    kind = betterproto_which(wp, "selector_options")
    if kind == "enable":
        return wp.enable
    if kind == "include":
        return m.PayloadSelectorInclude(include=list(wp.include.fields))
    if kind == "exclude":
        return m.PayloadSelectorExclude(exclude=list(wp.exclude.fields))
    return None


def with_vectors_to_grpc(wv: Any) -> q.WithVectorsSelector | None:
    if wv is None:
        return None
    if isinstance(wv, bool):
        return q.WithVectorsSelector(enable=wv)
    return q.WithVectorsSelector(include=q.VectorsSelector(names=list(wv)))


def with_vectors_from_grpc(wv: q.WithVectorsSelector | None) -> Any:
    if wv is None:
        return None
    kind = betterproto_which(wv, "selector_options")
    if kind == "enable":
        return wv.enable
    if kind == "include":
        return list(wv.include.names)
    return None


def order_by_to_grpc(ob: Any) -> q.OrderBy | None:
    if ob is None:
        return None
    if isinstance(ob, str):
        return q.OrderBy(key=ob)
    start = None
    if ob.start_from is not None:
        sf = ob.start_from
        if isinstance(sf, bool):
            raise TypeError("start_from cannot be a bool")
        if isinstance(sf, int):
            start = q.StartFrom(integer=sf)
        elif isinstance(sf, float):
            start = q.StartFrom(float=sf)
        else:
            start = _start_from_datetime_to_grpc(sf)
    direction = None
    if ob.direction is not None:
        direction = q.Direction.Asc if ob.direction == m.Direction.ASC else q.Direction.Desc
    return q.OrderBy(key=ob.key, direction=direction, start_from=start)


def _start_from_datetime_to_grpc(sf: Any) -> q.StartFrom:
    """A ``datetime`` / ``date`` or an RFC 3339 string as a protobuf Timestamp, as Qdrant's own client
    sends it; a string Python cannot read goes as the ``datetime`` string for the server to parse."""
    try:
        return q.StartFrom(timestamp=_timestamp_to_grpc(sf))
    except UnsupportedOperation:
        return q.StartFrom(datetime=sf)


def order_by_from_grpc(ob: q.OrderBy | None) -> Any:
    if ob is None:
        return None
    start = None
    if ob.start_from is not None:
        kind = betterproto_which(ob.start_from, "value")
        if kind == "timestamp":  # the REST form: an RFC 3339 string
            start = _timestamp_from_grpc(ob.start_from.timestamp)
        else:
            start = getattr(ob.start_from, kind) if kind else None
    direction = None
    if ob.direction is not None:
        direction = m.Direction.ASC if ob.direction == q.Direction.Asc else m.Direction.DESC
    if direction is None and start is None:
        return m.OrderBy(key=ob.key)
    return m.OrderBy(key=ob.key, direction=direction, start_from=start)


_QUANTIZATION_SEARCH = Mirror(m.QuantizationSearchParams, q.QuantizationSearchParams).optional()


def search_params_to_grpc(p: m.SearchParams | None) -> q.SearchParams | None:
    if p is None:
        return None
    idf = None
    if isinstance(p.idf, m.IdfCorpusParams):
        idf = q.IdfParams(corpus=filter_to_grpc(p.idf.corpus))
    elif p.idf is not None:  # IdfScope.GLOBAL: the whole collection, no corpus filter
        idf = q.IdfParams()
    return q.SearchParams(
        hnsw_ef=p.hnsw_ef,
        exact=p.exact,
        quantization=_QUANTIZATION_SEARCH[0](p.quantization),
        indexed_only=p.indexed_only,
        acorn=_diff_to_grpc(p.acorn, q.AcornSearchParams),
        idf=idf,
    )


def search_params_from_grpc(p: q.SearchParams | None) -> m.SearchParams | None:
    if p is None:
        return None
    idf: Any = None
    if p.idf is not None:
        idf = (
            m.IdfCorpusParams(corpus=filter_from_grpc(p.idf.corpus))
            if p.idf.corpus is not None
            else m.IdfScope.GLOBAL
        )
    return m.SearchParams(
        hnsw_ef=p.hnsw_ef,
        exact=p.exact,
        quantization=_QUANTIZATION_SEARCH[1](p.quantization),
        indexed_only=p.indexed_only,
        acorn=_diff_from_grpc(p.acorn, m.AcornSearchParams),
        idf=idf,
    )


def _vector_input_to_grpc(v: Any) -> q.VectorInput:
    inference = _inference_to_grpc(v)
    if inference is not None:
        return q.VectorInput(**{inference[0]: inference[1]})
    if isinstance(v, (int, str)) and not isinstance(v, bool):
        return q.VectorInput(id=point_id_to_grpc(v))
    if isinstance(v, m.SparseVector):
        return q.VectorInput(
            sparse=q.SparseVector(values=_floats(v.values), indices=[int(i) for i in v.indices])
        )
    arr = np.asarray(v, dtype=np.float32)
    if arr.ndim == 1:
        return q.VectorInput(dense=q.DenseVector(data=arr.tolist()))
    if arr.ndim == 2:
        return q.VectorInput(
            multi_dense=q.MultiDenseVector(vectors=[q.DenseVector(data=r.tolist()) for r in arr])
        )
    raise _unsupported(f"query vector of type {type(v).__name__}")


def _vector_input_from_grpc(v: q.VectorInput) -> Any:
    kind = betterproto_which(v, "variant")
    if kind == "id":
        return point_id_from_grpc(v.id)
    if kind == "dense":
        return list(v.dense.data)
    if kind == "sparse":
        return m.SparseVector(indices=list(v.sparse.indices), values=list(v.sparse.values))
    if kind == "multi_dense":
        return [list(d.data) for d in v.multi_dense.vectors]
    if kind in ("document", "image", "object"):
        return _inference_from_grpc(getattr(v, kind), kind)
    raise _unsupported(f"query input {kind}")


def query_to_grpc(query: Any) -> q.Query | None:
    if query is None:
        return None
    if isinstance(query, m.NearestQuery) and query.mmr is None:
        return q.Query(nearest=_vector_input_to_grpc(query.nearest))
    if isinstance(query, m.OrderByQuery):
        return q.Query(order_by=order_by_to_grpc(query.order_by))
    bare = (list, np.ndarray, m.SparseVector, int, str, m.Document, m.Image, m.InferenceObject)
    if isinstance(query, bare) and not isinstance(query, bool):
        return q.Query(nearest=_vector_input_to_grpc(query))
    return _more_query_to_grpc(query)


def query_from_grpc(query: q.Query | None) -> Any:
    if query is None:
        return None
    kind = betterproto_which(query, "variant")
    if kind == "nearest":
        return m.NearestQuery(nearest=_vector_input_from_grpc(query.nearest))
    if kind == "order_by":
        ob = order_by_from_grpc(query.order_by)
        return m.OrderByQuery(order_by=ob.key if ob.direction is None and ob.start_from is None else ob)
    return _more_query_from_grpc(query, kind)


def _prefetch_list() -> Pair:
    """A request's ``prefetch``: one Prefetch or a list on REST's side, a list on gRPC's."""
    return (
        lambda xs: [_PREFETCH.to_grpc(x) for x in _conditions(xs)],
        lambda xs: [_PREFETCH.from_grpc(x) for x in xs] or None,
    )


_LOOKUP_LOCATION = Mirror(
    m.LookupLocation,
    q.LookupLocation,
    {"shard_key": (shard_key_selector_to_grpc, shard_key_selector_from_grpc)},
    renamed={"collection": "collection_name", "vector": "vector_name", "shard_key": "shard_key_selector"},
)
#: the fields a prefetch and every query-family request share
_SEARCH_FIELDS: dict[str, Pair] = {
    "prefetch": _prefetch_list(),
    "query": (query_to_grpc, query_from_grpc),
    "filter": (filter_to_grpc, filter_from_grpc),
    "params": (search_params_to_grpc, search_params_from_grpc),
    "lookup_from": _LOOKUP_LOCATION.optional(),
}
#: what a request returns and where it reads
_RESULT_FIELDS: dict[str, Pair] = {
    "with_vector": (with_vectors_to_grpc, with_vectors_from_grpc),
    "with_payload": (with_payload_to_grpc, with_payload_from_grpc),
    "shard_key": (shard_key_selector_to_grpc, shard_key_selector_from_grpc),
}
_RESULT_NAMES = {"with_vector": "with_vectors", "shard_key": "shard_key_selector"}
_PREFETCH = Mirror(m.Prefetch, q.PrefetchQuery, _SEARCH_FIELDS)
_QUERY_POINTS = Mirror(m.QueryRequest, q.QueryPoints, {**_SEARCH_FIELDS, **_RESULT_FIELDS}, renamed=_RESULT_NAMES)

prefetch_to_grpc = _PREFETCH.to_grpc
prefetch_from_grpc = _PREFETCH.from_grpc
lookup_location_to_grpc, lookup_location_from_grpc = _LOOKUP_LOCATION.optional()


def query_points_to_grpc(name: str, body: m.QueryRequest, query: Mapping[str, Any]) -> q.QueryPoints:
    return _QUERY_POINTS.to_grpc(body, collection_name=name, **_read_fields(query))


def query_points_from_grpc(msg: q.QueryPoints) -> m.QueryRequest:
    return _QUERY_POINTS.from_grpc(msg)


def _with_lookup_to_grpc(wl: Any) -> q.WithLookup | None:
    if wl is None:
        return None
    if isinstance(wl, str):
        wl = m.WithLookup(collection=wl)
    return q.WithLookup(
        collection=wl.collection,
        with_payload=with_payload_to_grpc(wl.with_payload),
        with_vectors=with_vectors_to_grpc(wl.with_vectors),
    )


def _with_lookup_from_grpc(w: q.WithLookup | None) -> Any:
    if w is None:
        return None
    if w.with_payload is None and w.with_vectors is None:
        return w.collection  # REST's short form
    return m.WithLookup(
        collection=w.collection,
        with_payload=with_payload_from_grpc(w.with_payload),
        with_vectors=with_vectors_from_grpc(w.with_vectors),
    )


_QUERY_GROUPS = Mirror(
    m.QueryGroupsRequest,
    q.QueryPointGroups,
    {**_SEARCH_FIELDS, **_RESULT_FIELDS, "with_lookup": (_with_lookup_to_grpc, _with_lookup_from_grpc)},
    renamed=_RESULT_NAMES,
)


def query_groups_to_grpc(name: str, body: m.QueryGroupsRequest, query: Mapping[str, Any]) -> q.QueryPointGroups:
    return _QUERY_GROUPS.to_grpc(body, collection_name=name, **_read_fields(query))


def query_groups_from_grpc(msg: q.QueryPointGroups) -> m.QueryGroupsRequest:
    return _QUERY_GROUPS.from_grpc(msg)


def _group_id_to_grpc(gid: Any) -> q.GroupId:
    if isinstance(gid, str):
        return q.GroupId(string_value=gid)
    return q.GroupId(unsigned_value=gid) if gid >= 0 else q.GroupId(integer_value=gid)


def groups_result_to_grpc(res: m.GroupsResult) -> q.GroupsResult:
    return q.GroupsResult(
        groups=[
            q.PointGroup(
                id=_group_id_to_grpc(g.id),
                hits=[scored_point_to_grpc(p) for p in g.hits],
                lookup=record_to_grpc(g.lookup) if g.lookup is not None else None,
            )
            for g in res.groups
        ]
    )


def groups_result_from_grpc(res: q.GroupsResult) -> m.GroupsResult:
    return m.GroupsResult(
        groups=[
            m.PointGroup(
                id=getattr(g.id, betterproto_which(g.id, "kind") or "string_value"),
                hits=[scored_point_from_grpc(p) for p in g.hits],
                lookup=record_from_grpc(g.lookup) if g.lookup is not None else None,
            )
            for g in res.groups
        ]
    )


def _facet_value_to_grpc(v: Any) -> q.FacetValue:
    if isinstance(v, bool):
        return q.FacetValue(bool_value=v)
    if isinstance(v, int):
        return q.FacetValue(integer_value=v)
    return q.FacetValue(string_value=v)


def facet_response_to_grpc(res: m.FacetResponse, elapsed: float = 0.0) -> q.FacetResponse:
    return q.FacetResponse(
        hits=[q.FacetHit(value=_facet_value_to_grpc(h.value), count=h.count) for h in res.hits], time=elapsed
    )


def facet_response_from_grpc(msg: q.FacetResponse) -> m.FacetResponse:
    return m.FacetResponse(
        hits=[
            m.FacetValueHit(value=getattr(h.value, betterproto_which(h.value, "variant")), count=h.count)
            for h in msg.hits
        ]
    )


_MATRIX_REQUEST = Mirror(
    m.SearchMatrixRequest,
    q.SearchMatrixPoints,
    {"filter": (filter_to_grpc, filter_from_grpc), "shard_key": _RESULT_FIELDS["shard_key"]},
    renamed=_RESULT_NAMES,
)


def _matrix_request_to_grpc(
    name: str, body: m.SearchMatrixRequest, query: Mapping[str, Any]
) -> q.SearchMatrixPoints:
    return _MATRIX_REQUEST.to_grpc(body or m.SearchMatrixRequest(), collection_name=name, **_read_fields(query))


_matrix_request_from_grpc = _MATRIX_REQUEST.from_grpc


def matrix_pairs_to_grpc(res: m.SearchMatrixPairsResponse) -> q.SearchMatrixPairs:
    return q.SearchMatrixPairs(
        pairs=[
            q.SearchMatrixPair(a=point_id_to_grpc(p.a), b=point_id_to_grpc(p.b), score=p.score)
            for p in res.pairs
        ]
    )


def matrix_pairs_from_grpc(res: q.SearchMatrixPairs) -> m.SearchMatrixPairsResponse:
    return m.SearchMatrixPairsResponse(
        pairs=[
            m.SearchMatrixPair(a=point_id_from_grpc(p.a), b=point_id_from_grpc(p.b), score=p.score)
            for p in res.pairs
        ]
    )


def matrix_offsets_to_grpc(res: m.SearchMatrixOffsetsResponse) -> q.SearchMatrixOffsets:
    return q.SearchMatrixOffsets(
        offsets_row=list(res.offsets_row),
        offsets_col=list(res.offsets_col),
        scores=list(res.scores),
        ids=[point_id_to_grpc(i) for i in res.ids],
    )


def matrix_offsets_from_grpc(res: q.SearchMatrixOffsets) -> m.SearchMatrixOffsetsResponse:
    return m.SearchMatrixOffsetsResponse(
        offsets_row=list(res.offsets_row),
        offsets_col=list(res.offsets_col),
        scores=list(res.scores),
        ids=[point_id_from_grpc(i) for i in res.ids],
    )


def _one_batch_query(msg: q.QueryPoints) -> m.QueryRequest:
    if msg.read_consistency is not None or msg.timeout is not None:
        raise _unsupported("per-query read_consistency/timeout inside a query batch")
    return query_points_from_grpc(msg)


def expression_to_grpc(e: Any) -> q.Expression:
    if isinstance(e, bool):
        raise TypeError("a formula expression cannot be a bool")
    if isinstance(e, (int, float, np.integer, np.floating)):
        return q.Expression(constant=float(e))
    if isinstance(e, str):
        return q.Expression(variable=e)
    if isinstance(e, m.GeoDistance):
        g = e.geo_distance
        return q.Expression(geo_distance=q.GeoDistance(origin=_geo_point_to_grpc(g.origin), to=g.to))
    if isinstance(e, m.DatetimeExpression):
        return q.Expression(datetime=e.datetime)
    if isinstance(e, m.DatetimeKeyExpression):
        return q.Expression(datetime_key=e.datetime_key)
    if isinstance(e, m.MultExpression):
        return q.Expression(mult=q.MultExpression(mult=[expression_to_grpc(x) for x in e.mult]))
    if isinstance(e, m.SumExpression):
        return q.Expression(sum=q.SumExpression(sum=[expression_to_grpc(x) for x in e.sum]))
    if isinstance(e, m.DivExpression):
        d = e.div
        return q.Expression(
            div=q.DivExpression(
                left=expression_to_grpc(d.left),
                right=expression_to_grpc(d.right),
                by_zero_default=d.by_zero_default,
            )
        )
    if isinstance(e, m.PowExpression):
        return q.Expression(
            pow=q.PowExpression(
                base=expression_to_grpc(e.pow.base), exponent=expression_to_grpc(e.pow.exponent)
            )
        )
    for field, cls in _UNARY_EXPRESSIONS.items():
        if isinstance(e, cls):
            return q.Expression(**{field: expression_to_grpc(getattr(e, field))})
    for field, cls in _DECAY_EXPRESSIONS.items():
        if isinstance(e, cls):
            d = getattr(e, field)
            return q.Expression(
                **{
                    field: q.DecayParamsExpression(
                        x=expression_to_grpc(d.x),
                        target=expression_to_grpc(d.target) if d.target is not None else None,
                        scale=d.scale,
                        midpoint=d.midpoint,
                    )
                }
            )
    return q.Expression(condition=condition_to_grpc(e))  # a condition, or an unsupported error


def expression_from_grpc(e: q.Expression) -> Any:
    kind = betterproto_which(e, "variant")
    if kind in ("constant", "variable"):
        return getattr(e, kind)
    if kind == "condition":
        return condition_from_grpc(e.condition)
    if kind == "geo_distance":
        g = e.geo_distance
        return m.GeoDistance(geo_distance=m.GeoDistanceParams(origin=_geo_point_from_grpc(g.origin), to=g.to))
    if kind == "datetime":
        return m.DatetimeExpression(datetime=e.datetime)
    if kind == "datetime_key":
        return m.DatetimeKeyExpression(datetime_key=e.datetime_key)
    if kind == "mult":
        return m.MultExpression(mult=[expression_from_grpc(x) for x in e.mult.mult])
    if kind == "sum":
        return m.SumExpression(sum=[expression_from_grpc(x) for x in e.sum.sum])
    if kind == "div":
        d = e.div
        return m.DivExpression(
            div=m.DivParams(
                left=expression_from_grpc(d.left),
                right=expression_from_grpc(d.right),
                by_zero_default=d.by_zero_default,
            )
        )
    if kind == "pow":
        return m.PowExpression(
            pow=m.PowParams(
                base=expression_from_grpc(e.pow.base), exponent=expression_from_grpc(e.pow.exponent)
            )
        )
    if kind in _UNARY_EXPRESSIONS:
        return _UNARY_EXPRESSIONS[kind](**{kind: expression_from_grpc(getattr(e, kind))})
    if kind in _DECAY_EXPRESSIONS:
        d = getattr(e, kind)
        params = m.DecayParamsExpression(
            x=expression_from_grpc(d.x),
            target=expression_from_grpc(d.target) if d.target is not None else None,
            scale=d.scale,
            midpoint=d.midpoint,
        )
        return _DECAY_EXPRESSIONS[kind](**{kind: params})
    raise _unsupported(f"formula expression {kind}")


def _context_pairs_to_grpc(pairs: Any) -> q.ContextInput:
    return q.ContextInput(
        pairs=[
            q.ContextInputPair(
                positive=_vector_input_to_grpc(p.positive), negative=_vector_input_to_grpc(p.negative)
            )
            for p in _conditions(pairs)
        ]
    )


def _context_pairs_from_grpc(c: q.ContextInput | None) -> list[m.ContextPair] | None:
    if c is None:
        return None
    return [
        m.ContextPair(
            positive=_vector_input_from_grpc(p.positive), negative=_vector_input_from_grpc(p.negative)
        )
        for p in c.pairs
    ] or None


def _inputs_to_grpc(xs: Any) -> list[q.VectorInput]:
    return [_vector_input_to_grpc(x) for x in xs or []]


def _inputs_from_grpc(xs: Any) -> list[Any] | None:
    return [_vector_input_from_grpc(x) for x in xs] or None


def _more_query_to_grpc(query: Any) -> q.Query:
    """The queries besides plain nearest and order_by."""
    if isinstance(query, m.NearestQuery):  # with MMR
        mmr = query.mmr
        return q.Query(
            nearest_with_mmr=q.NearestInputWithMmr(
                nearest=_vector_input_to_grpc(query.nearest),
                mmr=q.Mmr(diversity=mmr.diversity, candidates_limit=mmr.candidates_limit),
            )
        )
    if isinstance(query, m.RecommendQuery):
        r = query.recommend
        return q.Query(
            recommend=q.RecommendInput(
                positive=_inputs_to_grpc(r.positive),
                negative=_inputs_to_grpc(r.negative),
                strategy=_enum_to_grpc(r.strategy, q.RecommendStrategy) if r.strategy is not None else None,
            )
        )
    if isinstance(query, m.DiscoverQuery):
        d = query.discover
        return q.Query(
            discover=q.DiscoverInput(
                target=_vector_input_to_grpc(d.target), context=_context_pairs_to_grpc(d.context)
            )
        )
    if isinstance(query, m.ContextQuery):
        return q.Query(context=_context_pairs_to_grpc(query.context))
    if isinstance(query, m.FusionQuery):
        return q.Query(fusion=_enum_to_grpc(query.fusion, q.Fusion))
    if isinstance(query, m.RrfQuery):
        return q.Query(rrf=q.Rrf(k=query.rrf.k, weights=list(query.rrf.weights or [])))
    if isinstance(query, m.SampleQuery):
        return q.Query(sample=_enum_to_grpc(query.sample, q.Sample))
    if isinstance(query, m.RelevanceFeedbackQuery):
        return q.Query(relevance_feedback=_feedback_to_grpc(query.relevance_feedback))
    if isinstance(query, m.FormulaQuery):
        return q.Query(
            formula=q.Formula(
                expression=expression_to_grpc(query.formula), defaults=payload_to_grpc(query.defaults)
            )
        )
    raise _unsupported(f"query {type(query).__name__}")


def _more_query_from_grpc(query: q.Query, kind: str | None) -> Any:
    if kind == "nearest_with_mmr":
        n = query.nearest_with_mmr
        mmr = n.mmr or q.Mmr()
        return m.NearestQuery(
            nearest=_vector_input_from_grpc(n.nearest),
            mmr=m.Mmr(diversity=mmr.diversity, candidates_limit=mmr.candidates_limit),
        )
    if kind == "recommend":
        r = query.recommend
        return m.RecommendQuery(
            recommend=m.RecommendInput(
                positive=_inputs_from_grpc(r.positive),
                negative=_inputs_from_grpc(r.negative),
                strategy=_enum_from_grpc(r.strategy, m.RecommendStrategy) if r.strategy is not None else None,
            )
        )
    if kind == "discover":
        d = query.discover
        return m.DiscoverQuery(
            discover=m.DiscoverInput(
                target=_vector_input_from_grpc(d.target), context=_context_pairs_from_grpc(d.context)
            )
        )
    if kind == "context":
        return m.ContextQuery(context=_context_pairs_from_grpc(query.context))
    if kind == "fusion":
        return m.FusionQuery(fusion=_enum_from_grpc(query.fusion, m.Fusion))
    if kind == "rrf":
        return m.RrfQuery(rrf=m.Rrf(k=query.rrf.k, weights=list(query.rrf.weights) or None))
    if kind == "sample":
        return m.SampleQuery(sample=_enum_from_grpc(query.sample, m.Sample))
    if kind == "relevance_feedback":
        return m.RelevanceFeedbackQuery(relevance_feedback=_feedback_from_grpc(query.relevance_feedback))
    if kind == "formula":
        f = query.formula
        return m.FormulaQuery(
            formula=expression_from_grpc(f.expression), defaults=payload_from_grpc(f.defaults) or None
        )
    raise _unsupported(f"query {kind}")


def _feedback_to_grpc(r: m.RelevanceFeedbackInput) -> q.RelevanceFeedbackInput:
    n = r.strategy.naive
    return q.RelevanceFeedbackInput(
        target=_vector_input_to_grpc(r.target),
        feedback=[
            q.FeedbackItem(example=_vector_input_to_grpc(f.example), score=f.score) for f in r.feedback
        ],
        strategy=q.FeedbackStrategy(naive=q.NaiveFeedbackStrategy(a=n.a, b=n.b, c=n.c)),
    )


def _feedback_from_grpc(r: q.RelevanceFeedbackInput) -> m.RelevanceFeedbackInput:
    if r.strategy is None or r.strategy.naive is None:
        raise _unsupported("relevance feedback without the naive strategy")
    n = r.strategy.naive
    return m.RelevanceFeedbackInput(
        target=_vector_input_from_grpc(r.target),
        feedback=[
            m.FeedbackItem(example=_vector_input_from_grpc(f.example), score=f.score) for f in r.feedback
        ],
        strategy=m.NaiveFeedbackStrategy(naive=m.NaiveFeedbackStrategyParams(a=n.a, b=n.b, c=n.c)),
    )
