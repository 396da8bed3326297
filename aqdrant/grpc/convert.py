"""Conversions between :mod:`aqdrant.models` (REST names, msgspec) and the betterproto2 messages.

One function per direction and type: ``<type>_to_grpc(model) -> message`` and
``<type>_from_grpc(message) -> model``. Request builders for the operations the gRPC backend
serves take the same ``(path_params, query, body)`` the REST backend gets (``request_to_grpc``)
and reply converters give the REST ``result`` (``result_from_grpc``).

Covered: payloads (json_with_int ``Value``), point ids, vectors (dense, sparse, multi-dense,
named), points, filters (field match/range/values-count/is-empty/is-null conditions, has-id,
nested and sub-filters, min-should), payload/vector selectors, shard keys, order-by, search
params, nearest and order-by queries, prefetch, collection create/get/list/delete/exists, upsert,
delete, set/overwrite/delete/clear payload, count, retrieve, scroll, query, health. Anything else
raises :class:`aqdrant.errors.UnsupportedOperation` naming the type, so the client can fall back
to REST.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import models as m
from ..errors import UnsupportedOperation
from ._proto import qdrant as q

# --------------------------------------------------------------------------- helpers


def _unsupported(what: str) -> UnsupportedOperation:
    try:
        return UnsupportedOperation(f"gRPC conversion of {what} is not implemented; use REST")
    except TypeError:  # pragma: no cover - constructor with other required arguments
        exc = UnsupportedOperation.__new__(UnsupportedOperation)
        Exception.__init__(exc, f"gRPC conversion of {what} is not implemented; use REST")
        return exc


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _enum_to_grpc(value: Any, proto_enum: type, lowercase: bool = False) -> Any:
    """A model enum (value like 'Cosine' or 'wait_timeout') to the proto enum member."""
    raw = value.value if hasattr(value, "value") else str(value)
    for member in proto_enum:
        if member.name == raw or _snake(member.name) == raw or member.name.lower() == str(raw).lower():
            return member
    raise _unsupported(f"{proto_enum.__name__} value {raw!r}")


def _enum_from_grpc(member: Any, model_enum: type) -> Any:
    name = member.name
    for candidate in (name, _snake(name), name.lower()):
        try:
            return model_enum(candidate)
        except ValueError:
            continue
    raise ValueError(f"{model_enum.__name__} has no value for gRPC {type(member).__name__}.{name}")


# --------------------------------------------------------------------------- payload values


def value_to_grpc(v: Any) -> q.Value:
    if v is None:
        return q.Value(null_value=q.NullValue.NULL_VALUE)
    if isinstance(v, bool) or isinstance(v, np.bool_):
        return q.Value(bool_value=bool(v))
    if isinstance(v, (int, np.integer)):
        return q.Value(integer_value=int(v))
    if isinstance(v, (float, np.floating)):
        return q.Value(double_value=float(v))
    if isinstance(v, str):
        return q.Value(string_value=v)
    if isinstance(v, Mapping):
        return q.Value(struct_value=q.Struct(fields=payload_to_grpc(v)))
    if isinstance(v, (list, tuple)):
        return q.Value(list_value=q.ListValue(values=[value_to_grpc(x) for x in v]))
    raise TypeError(f"payload value of type {type(v).__name__} cannot be sent (JSON-like values only)")


def value_from_grpc(v: q.Value) -> Any:
    kind = betterproto_which(v, "kind")
    if kind is None or kind == "null_value":
        return None
    if kind == "struct_value":
        return payload_from_grpc(v.struct_value.fields)
    if kind == "list_value":
        return [value_from_grpc(x) for x in v.list_value.values]
    return getattr(v, kind)


def betterproto_which(msg: Any, group: str) -> str | None:
    import betterproto2

    name, _ = betterproto2.which_one_of(msg, group)
    return name or None


def payload_to_grpc(payload: Mapping[str, Any] | None) -> dict[str, q.Value]:
    return {k: value_to_grpc(v) for k, v in (payload or {}).items()}


def payload_from_grpc(fields: Mapping[str, q.Value]) -> dict[str, Any]:
    return {k: value_from_grpc(v) for k, v in fields.items()}


# --------------------------------------------------------------------------- ids, shard keys


def point_id_to_grpc(pid: m.ExtendedPointId) -> q.PointId:
    if isinstance(pid, bool):
        raise TypeError("a point id cannot be a bool")
    if isinstance(pid, (int, np.integer)):
        return q.PointId(num=int(pid))
    return q.PointId(uuid=str(pid))


def point_id_from_grpc(pid: q.PointId) -> m.ExtendedPointId:
    return pid.uuid if betterproto_which(pid, "point_id_options") == "uuid" else pid.num


def shard_key_to_grpc(key: m.ShardKey) -> q.ShardKey:
    return q.ShardKey(number=key) if isinstance(key, int) else q.ShardKey(keyword=key)


def shard_key_from_grpc(key: q.ShardKey) -> m.ShardKey:
    return key.keyword if betterproto_which(key, "key") == "keyword" else key.number


def shard_key_selector_to_grpc(sel: Any) -> q.ShardKeySelector | None:
    if sel is None:
        return None
    if isinstance(sel, m.ShardKeyWithFallback):
        return q.ShardKeySelector(
            shard_keys=[shard_key_to_grpc(sel.target)], fallback=shard_key_to_grpc(sel.fallback)
        )
    keys = sel if isinstance(sel, list) else [sel]
    return q.ShardKeySelector(shard_keys=[shard_key_to_grpc(k) for k in keys])


def shard_key_selector_from_grpc(sel: q.ShardKeySelector | None) -> Any:
    if sel is None:
        return None
    keys = [shard_key_from_grpc(k) for k in sel.shard_keys]
    if sel.fallback is not None:
        return m.ShardKeyWithFallback(target=keys[0], fallback=shard_key_from_grpc(sel.fallback))
    return keys[0] if len(keys) == 1 else keys


# --------------------------------------------------------------------------- vectors


def _floats(data: Any) -> list[float]:
    return np.asarray(data, dtype=np.float32).tolist()


def vector_to_grpc(vec: Any) -> q.Vector:
    """One vector (dense list/array, multi-dense list of lists, SparseVector) as ``Vector``."""
    if isinstance(vec, m.SparseVector):
        return q.Vector(
            sparse=q.SparseVector(values=_floats(vec.values), indices=[int(i) for i in vec.indices])
        )
    arr = np.asarray(vec, dtype=np.float32)
    if arr.ndim == 2:
        return q.Vector(multi_dense=q.MultiDenseVector(vectors=[q.DenseVector(data=r.tolist()) for r in arr]))
    if arr.ndim == 1:
        return q.Vector(dense=q.DenseVector(data=arr.tolist()))
    raise _unsupported(f"vector of type {type(vec).__name__}")


def vectors_to_grpc(vs: Any) -> q.Vectors:
    """A ``VectorStruct`` (unnamed vector or mapping of name to vector) as ``Vectors``."""
    if isinstance(vs, Mapping):
        return q.Vectors(vectors=q.NamedVectors(vectors={k: vector_to_grpc(v) for k, v in vs.items()}))
    return q.Vectors(vector=vector_to_grpc(vs))


def _vector_output_from_grpc(v: Any) -> Any:
    kind = betterproto_which(v, "vector")
    if kind == "dense":
        return list(v.dense.data)
    if kind == "sparse":
        return m.SparseVector(indices=list(v.sparse.indices), values=list(v.sparse.values))
    if kind == "multi_dense":
        return [list(d.data) for d in v.multi_dense.vectors]
    # a server older than 1.13 sends the deprecated flat fields
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        data, indices, count = list(v.data), v.indices, v.vectors_count
    if indices is not None:
        return m.SparseVector(indices=list(indices.data), values=data)
    if count and count > 1:
        dim = len(data) // count
        return [data[i * dim : (i + 1) * dim] for i in range(count)]
    return data


def vectors_output_from_grpc(vs: q.VectorsOutput | None) -> Any:
    if vs is None:
        return None
    kind = betterproto_which(vs, "vectors_options")
    if kind == "vector":
        return _vector_output_from_grpc(vs.vector)
    if kind == "vectors":
        return {k: _vector_output_from_grpc(v) for k, v in vs.vectors.vectors.items()}
    return None


def vectors_output_to_grpc(vs: Any) -> q.VectorsOutput | None:
    """Inverse of :func:`vectors_output_from_grpc` (for the dev server and round-trip tests)."""
    if vs is None:
        return None

    def one(v: Any) -> q.VectorOutput:
        g = vector_to_grpc(v)
        kind = betterproto_which(g, "vector")
        return q.VectorOutput(**{kind: getattr(g, kind)})

    if isinstance(vs, Mapping):
        return q.VectorsOutput(vectors=q.NamedVectorsOutput(vectors={k: one(v) for k, v in vs.items()}))
    return q.VectorsOutput(vector=one(vs))


# --------------------------------------------------------------------------- points


def point_struct_to_grpc(p: m.PointStruct) -> q.PointStruct:
    return q.PointStruct(
        id=point_id_to_grpc(p.id),
        payload=payload_to_grpc(p.payload),
        vectors=vectors_to_grpc(p.vector) if p.vector is not None else None,
    )


def point_struct_from_grpc(p: q.PointStruct) -> m.PointStruct:
    vec = None
    if p.vectors is not None:
        kind = betterproto_which(p.vectors, "vectors_options")
        if kind == "vector":
            vec = _vector_output_from_grpc(p.vectors.vector)
        elif kind == "vectors":
            vec = {k: _vector_output_from_grpc(v) for k, v in p.vectors.vectors.vectors.items()}
    return m.PointStruct(
        id=point_id_from_grpc(p.id), vector=vec, payload=payload_from_grpc(p.payload) or None
    )


def _order_value_from_grpc(ov: q.OrderValue | None) -> Any:
    if ov is None:
        return None
    kind = betterproto_which(ov, "variant")
    return getattr(ov, kind) if kind else None


def _order_value_to_grpc(ov: Any) -> q.OrderValue | None:
    if ov is None:
        return None
    return q.OrderValue(int=ov) if isinstance(ov, int) else q.OrderValue(float=ov)


def scored_point_from_grpc(p: q.ScoredPoint) -> m.ScoredPoint:
    return m.ScoredPoint(
        id=point_id_from_grpc(p.id) if p.id is not None else 0,
        version=p.version,
        score=p.score,
        payload=payload_from_grpc(p.payload) or None,
        vector=vectors_output_from_grpc(p.vectors),
        shard_key=shard_key_from_grpc(p.shard_key) if p.shard_key is not None else None,
        order_value=_order_value_from_grpc(p.order_value),
    )


def scored_point_to_grpc(p: m.ScoredPoint) -> q.ScoredPoint:
    return q.ScoredPoint(
        id=point_id_to_grpc(p.id),
        payload=payload_to_grpc(p.payload),
        score=p.score,
        version=p.version,
        vectors=vectors_output_to_grpc(p.vector),
        shard_key=shard_key_to_grpc(p.shard_key) if p.shard_key is not None else None,
        order_value=_order_value_to_grpc(p.order_value),
    )


def record_from_grpc(p: q.RetrievedPoint) -> m.Record:
    return m.Record(
        id=point_id_from_grpc(p.id) if p.id is not None else 0,
        payload=payload_from_grpc(p.payload) or None,
        vector=vectors_output_from_grpc(p.vectors),
        shard_key=shard_key_from_grpc(p.shard_key) if p.shard_key is not None else None,
        order_value=_order_value_from_grpc(p.order_value),
    )


def record_to_grpc(p: m.Record) -> q.RetrievedPoint:
    return q.RetrievedPoint(
        id=point_id_to_grpc(p.id),
        payload=payload_to_grpc(p.payload),
        vectors=vectors_output_to_grpc(p.vector),
        shard_key=shard_key_to_grpc(p.shard_key) if p.shard_key is not None else None,
        order_value=_order_value_to_grpc(p.order_value),
    )


# --------------------------------------------------------------------------- filters


def _match_to_grpc(match: Any) -> q.Match:
    if isinstance(match, m.MatchValue):
        v = match.value
        if isinstance(v, bool):
            return q.Match(boolean=v)
        if isinstance(v, int):
            return q.Match(integer=v)
        return q.Match(keyword=v)
    if isinstance(match, m.MatchAny):
        if match.any and all(isinstance(x, int) and not isinstance(x, bool) for x in match.any):
            return q.Match(integers=q.RepeatedIntegers(integers=list(match.any)))
        return q.Match(keywords=q.RepeatedStrings(strings=list(match.any)))
    if isinstance(match, m.MatchExcept):
        xs = match.except_
        if xs and all(isinstance(x, int) and not isinstance(x, bool) for x in xs):
            return q.Match(except_integers=q.RepeatedIntegers(integers=list(xs)))
        return q.Match(except_keywords=q.RepeatedStrings(strings=list(xs)))
    if isinstance(match, m.MatchText):
        return q.Match(text=match.text)
    if isinstance(match, m.MatchTextAny):
        return q.Match(text_any=match.text_any)
    if isinstance(match, m.MatchPhrase):
        return q.Match(phrase=match.phrase)
    if isinstance(match, m.MatchPrefix):
        return q.Match(prefix=match.prefix)
    raise _unsupported(f"match {type(match).__name__}")


def _match_from_grpc(match: q.Match) -> Any:
    kind = betterproto_which(match, "match_value")
    if kind in ("keyword", "integer", "boolean"):
        return m.MatchValue(value=getattr(match, kind))
    if kind == "keywords":
        return m.MatchAny(any=list(match.keywords.strings))
    if kind == "integers":
        return m.MatchAny(any=list(match.integers.integers))
    if kind == "except_keywords":
        return m.MatchExcept(except_=list(match.except_keywords.strings))
    if kind == "except_integers":
        return m.MatchExcept(except_=list(match.except_integers.integers))
    if kind == "text":
        return m.MatchText(text=match.text)
    if kind == "text_any":
        return m.MatchTextAny(text_any=match.text_any)
    if kind == "phrase":
        return m.MatchPhrase(phrase=match.phrase)
    if kind == "prefix":
        return m.MatchPrefix(prefix=match.prefix)
    raise _unsupported(f"match {kind}")


def _conditions(c: Any) -> list[Any]:
    if c is None:
        return []
    return list(c) if isinstance(c, list) else [c]


def condition_to_grpc(c: Any) -> q.Condition:
    if isinstance(c, m.FieldCondition):
        if c.range is not None and not isinstance(c.range, m.Range):
            raise _unsupported("datetime range conditions")
        if c.geo_bounding_box or c.geo_radius or c.geo_polygon:
            raise _unsupported("geo conditions")
        return q.Condition(
            field=q.FieldCondition(
                key=c.key,
                match=_match_to_grpc(c.match) if c.match is not None else None,
                range=q.Range(lt=c.range.lt, gt=c.range.gt, gte=c.range.gte, lte=c.range.lte)
                if c.range is not None
                else None,
                values_count=q.ValuesCount(
                    lt=c.values_count.lt, gt=c.values_count.gt, gte=c.values_count.gte, lte=c.values_count.lte
                )
                if c.values_count is not None
                else None,
                is_empty=c.is_empty,
                is_null=c.is_null,
            )
        )
    if isinstance(c, m.IsEmptyCondition):
        return q.Condition(is_empty=q.IsEmptyCondition(key=c.is_empty.key))
    if isinstance(c, m.IsNullCondition):
        return q.Condition(is_null=q.IsNullCondition(key=c.is_null.key))
    if isinstance(c, m.HasIdCondition):
        return q.Condition(has_id=q.HasIdCondition(has_id=[point_id_to_grpc(i) for i in c.has_id]))
    if isinstance(c, m.NestedCondition):
        return q.Condition(nested=q.NestedCondition(key=c.nested.key, filter=filter_to_grpc(c.nested.filter)))
    if isinstance(c, m.Filter):
        return q.Condition(filter=filter_to_grpc(c))
    raise _unsupported(f"condition {type(c).__name__}")


def condition_from_grpc(c: q.Condition) -> Any:
    kind = betterproto_which(c, "condition_one_of")
    if kind == "field":
        f = c.field
        rng = None
        if f.range is not None:
            rng = m.Range(lt=f.range.lt, gt=f.range.gt, gte=f.range.gte, lte=f.range.lte)
        vc = None
        if f.values_count is not None:
            v = f.values_count
            vc = m.ValuesCount(lt=v.lt, gt=v.gt, gte=v.gte, lte=v.lte)
        return m.FieldCondition(
            key=f.key,
            match=_match_from_grpc(f.match) if f.match is not None else None,
            range=rng,
            values_count=vc,
            is_empty=f.is_empty,
            is_null=f.is_null,
        )
    if kind == "is_empty":
        return m.IsEmptyCondition(is_empty=m.PayloadField(key=c.is_empty.key))
    if kind == "is_null":
        return m.IsNullCondition(is_null=m.PayloadField(key=c.is_null.key))
    if kind == "has_id":
        return m.HasIdCondition(has_id=[point_id_from_grpc(i) for i in c.has_id.has_id])
    if kind == "nested":
        return m.NestedCondition(nested=m.Nested(key=c.nested.key, filter=filter_from_grpc(c.nested.filter)))
    if kind == "filter":
        return filter_from_grpc(c.filter)
    raise _unsupported(f"condition {kind}")


def filter_to_grpc(f: m.Filter | None) -> q.Filter | None:
    if f is None:
        return None
    return q.Filter(
        should=[condition_to_grpc(c) for c in _conditions(f.should)],
        must=[condition_to_grpc(c) for c in _conditions(f.must)],
        must_not=[condition_to_grpc(c) for c in _conditions(f.must_not)],
        min_should=q.MinShould(
            conditions=[condition_to_grpc(c) for c in _conditions(f.min_should.conditions)],
            min_count=f.min_should.min_count,
        )
        if f.min_should is not None
        else None,
    )


def filter_from_grpc(f: q.Filter | None) -> m.Filter | None:
    """Lists come back as lists (the REST form ``must: Condition`` is the same filter)."""
    if f is None:
        return None
    return m.Filter(
        should=[condition_from_grpc(c) for c in f.should] or None,
        must=[condition_from_grpc(c) for c in f.must] or None,
        must_not=[condition_from_grpc(c) for c in f.must_not] or None,
        min_should=m.MinShould(
            conditions=[condition_from_grpc(c) for c in f.min_should.conditions],
            min_count=f.min_should.min_count,
        )
        if f.min_should is not None
        else None,
    )


# --------------------------------------------------------------------------- selectors, queries


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
            start = q.StartFrom(datetime=sf)
    direction = None
    if ob.direction is not None:
        direction = q.Direction.Asc if ob.direction == m.Direction.ASC else q.Direction.Desc
    return q.OrderBy(key=ob.key, direction=direction, start_from=start)


def order_by_from_grpc(ob: q.OrderBy | None) -> Any:
    if ob is None:
        return None
    start = None
    if ob.start_from is not None:
        kind = betterproto_which(ob.start_from, "value")
        if kind == "timestamp":
            raise _unsupported("start_from as a protobuf Timestamp")
        start = getattr(ob.start_from, kind) if kind else None
    direction = None
    if ob.direction is not None:
        direction = m.Direction.ASC if ob.direction == q.Direction.Asc else m.Direction.DESC
    if direction is None and start is None:
        return m.OrderBy(key=ob.key)
    return m.OrderBy(key=ob.key, direction=direction, start_from=start)


def search_params_to_grpc(p: m.SearchParams | None) -> q.SearchParams | None:
    if p is None:
        return None
    if p.acorn is not None or p.idf is not None:
        raise _unsupported("search params acorn/idf")
    quant = None
    if p.quantization is not None:
        qp = p.quantization
        quant = q.QuantizationSearchParams(ignore=qp.ignore, rescore=qp.rescore, oversampling=qp.oversampling)
    return q.SearchParams(hnsw_ef=p.hnsw_ef, exact=p.exact, quantization=quant, indexed_only=p.indexed_only)


def search_params_from_grpc(p: q.SearchParams | None) -> m.SearchParams | None:
    if p is None:
        return None
    quant = None
    if p.quantization is not None:
        qp = p.quantization
        quant = m.QuantizationSearchParams(ignore=qp.ignore, rescore=qp.rescore, oversampling=qp.oversampling)
    return m.SearchParams(hnsw_ef=p.hnsw_ef, exact=p.exact, quantization=quant, indexed_only=p.indexed_only)


def _vector_input_to_grpc(v: Any) -> q.VectorInput:
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
    raise _unsupported(f"query input {kind}")


def query_to_grpc(query: Any) -> q.Query | None:
    if query is None:
        return None
    if isinstance(query, m.NearestQuery):
        if query.mmr is not None:
            raise _unsupported("nearest query with MMR")
        return q.Query(nearest=_vector_input_to_grpc(query.nearest))
    if isinstance(query, m.OrderByQuery):
        return q.Query(order_by=order_by_to_grpc(query.order_by))
    if isinstance(query, (list, np.ndarray, m.SparseVector, int, str)) and not isinstance(query, bool):
        return q.Query(nearest=_vector_input_to_grpc(query))
    raise _unsupported(f"query {type(query).__name__}")


def query_from_grpc(query: q.Query | None) -> Any:
    if query is None:
        return None
    kind = betterproto_which(query, "variant")
    if kind == "nearest":
        return m.NearestQuery(nearest=_vector_input_from_grpc(query.nearest))
    if kind == "order_by":
        ob = order_by_from_grpc(query.order_by)
        return m.OrderByQuery(order_by=ob.key if ob.direction is None and ob.start_from is None else ob)
    raise _unsupported(f"query {kind}")


def prefetch_to_grpc(p: m.Prefetch) -> q.PrefetchQuery:
    if p.lookup_from is not None:
        raise _unsupported("prefetch lookup_from")
    return q.PrefetchQuery(
        prefetch=[prefetch_to_grpc(x) for x in _conditions(p.prefetch)],
        query=query_to_grpc(p.query),
        using=p.using,
        filter=filter_to_grpc(p.filter),
        params=search_params_to_grpc(p.params),
        score_threshold=p.score_threshold,
        limit=p.limit,
    )


def prefetch_from_grpc(p: q.PrefetchQuery) -> m.Prefetch:
    return m.Prefetch(
        prefetch=[prefetch_from_grpc(x) for x in p.prefetch] or None,
        query=query_from_grpc(p.query),
        using=p.using,
        filter=filter_from_grpc(p.filter),
        params=search_params_from_grpc(p.params),
        score_threshold=p.score_threshold,
        limit=p.limit,
    )


# --------------------------------------------------------------------------- collections


_DIFF_ENUMS: dict[str, tuple[type, type]] = {"memory": (q.Memory, m.Memory)}


def _diff_to_grpc(model: Any, cls: type, exclude: tuple[str, ...] = ()) -> Any:
    """A flat *Diff model whose fields are scalars (or the ``memory`` enum) of the same names in
    the proto."""
    if model is None:
        return None
    import msgspec

    values = {f: getattr(model, f) for f in model.__struct_fields__ if getattr(model, f) is not None}
    for name, value in values.items():
        if name in exclude or name not in cls.__dataclass_fields__:
            raise _unsupported(f"{type(model).__name__}.{name}")
        if name in _DIFF_ENUMS:
            values[name] = _enum_to_grpc(value, _DIFF_ENUMS[name][0])
        elif isinstance(value, (msgspec.Struct, dict, list)):
            raise _unsupported(f"{type(model).__name__}.{name}")
    return cls(**values)


def _diff_from_grpc(msg: Any, cls: type) -> Any:
    if msg is None:
        return None
    fields = set(cls.__struct_fields__)
    values = {
        k: getattr(msg, k) for k in msg.__dataclass_fields__ if k in fields and getattr(msg, k) is not None
    }
    for name, (_, model_enum) in _DIFF_ENUMS.items():
        if name in values:
            values[name] = _enum_from_grpc(values[name], model_enum)
    return cls(**values)


def vector_params_to_grpc(p: m.VectorParams) -> q.VectorParams:
    """For a request: fields the message cannot carry are refused, not dropped."""
    if p.quantization_config is not None or p.multivector_config is not None or p.memory is not None:
        raise _unsupported("vector params quantization/multivector/memory")
    return _vector_params_message(p)


def _vector_params_message(p: Any) -> q.VectorParams:
    return q.VectorParams(
        size=p.size,
        distance=_enum_to_grpc(p.distance, q.Distance),
        hnsw_config=_diff_to_grpc(p.hnsw_config, q.HnswConfigDiff),
        on_disk=p.on_disk,
        datatype=_enum_to_grpc(p.datatype, q.Datatype) if p.datatype is not None else None,
    )


def vector_params_from_grpc(p: q.VectorParams) -> m.VectorParams:
    return m.VectorParams(
        size=p.size,
        distance=_enum_from_grpc(p.distance, m.Distance),
        hnsw_config=_diff_from_grpc(p.hnsw_config, m.HnswConfigDiff),
        on_disk=p.on_disk,
        datatype=_enum_from_grpc(p.datatype, m.Datatype) if p.datatype is not None else None,
    )


def vectors_config_to_grpc(vc: Any, params: Any = vector_params_to_grpc) -> q.VectorsConfig | None:
    """Unnamed or named vector params; ``params`` converts one VectorParams."""
    if vc is None:
        return None
    if isinstance(vc, m.VectorParams):
        return q.VectorsConfig(params=params(vc))
    return q.VectorsConfig(params_map=q.VectorParamsMap(map={k: params(v) for k, v in vc.items()}))


def vectors_config_from_grpc(vc: q.VectorsConfig | None) -> Any:
    if vc is None:
        return None
    if betterproto_which(vc, "config") == "params":
        return vector_params_from_grpc(vc.params)
    from ..models import _generated as g

    cls = getattr(g, "VectorsConfigMap", dict)
    return cls({k: vector_params_from_grpc(v) for k, v in vc.params_map.map.items()})


def create_collection_to_grpc(
    name: str, body: m.CreateCollection, timeout: int | None = None
) -> q.CreateCollection:
    unsupported = [
        f
        for f in ("sharding_method", "payload", "quantization_config", "sparse_vectors", "strict_mode_config")
        if getattr(body, f) is not None
    ]
    if unsupported:
        raise _unsupported("create_collection " + ", ".join(unsupported))
    return q.CreateCollection(
        collection_name=name,
        hnsw_config=_diff_to_grpc(body.hnsw_config, q.HnswConfigDiff),
        wal_config=_diff_to_grpc(body.wal_config, q.WalConfigDiff),
        optimizers_config=_diff_to_grpc(
            body.optimizers_config, q.OptimizersConfigDiff, ("max_optimization_threads",)
        ),
        shard_number=body.shard_number,
        on_disk_payload=body.on_disk_payload,
        timeout=timeout,
        vectors_config=vectors_config_to_grpc(body.vectors),
        replication_factor=body.replication_factor,
        write_consistency_factor=body.write_consistency_factor,
        metadata=payload_to_grpc(body.metadata),
    )


def create_collection_from_grpc(msg: q.CreateCollection) -> tuple[str, m.CreateCollection]:
    return msg.collection_name, m.CreateCollection(
        vectors=vectors_config_from_grpc(msg.vectors_config),
        shard_number=msg.shard_number,
        replication_factor=msg.replication_factor,
        write_consistency_factor=msg.write_consistency_factor,
        on_disk_payload=msg.on_disk_payload,
        hnsw_config=_diff_from_grpc(msg.hnsw_config, m.HnswConfigDiff),
        wal_config=_diff_from_grpc(msg.wal_config, m.WalConfigDiff),
        optimizers_config=_diff_from_grpc(msg.optimizers_config, m.OptimizersConfigDiff),
        metadata=payload_from_grpc(msg.metadata) or None,
    )


def collections_list_from_grpc(msg: q.ListCollectionsResponse) -> m.CollectionsResponse:
    return m.CollectionsResponse(collections=[m.CollectionDescription(name=c.name) for c in msg.collections])


def collections_list_to_grpc(res: m.CollectionsResponse) -> q.ListCollectionsResponse:
    return q.ListCollectionsResponse(
        collections=[q.CollectionDescription(name=c.name) for c in res.collections]
    )


def collection_info_from_grpc(msg: q.CollectionInfo) -> m.CollectionInfo:
    """The parts of ``CollectionInfo`` the client reads: status, counts, vector config."""
    import warnings

    with warnings.catch_warnings():  # on_disk_payload and hnsw on_disk are deprecated in the proto
        warnings.simplefilter("ignore", DeprecationWarning)
        return _collection_info_from_grpc(msg)


def _collection_info_from_grpc(msg: q.CollectionInfo) -> m.CollectionInfo:
    cfg = msg.config
    params = cfg.params if cfg is not None else None
    hnsw = cfg.hnsw_config if cfg is not None else None
    opt = cfg.optimizer_config if cfg is not None else None
    optimizer_status: Any = m.OptimizersStatusOneOf.OK
    if msg.optimizer_status is not None and not msg.optimizer_status.ok:
        optimizer_status = m.OptimizersStatusOneOf1(error=msg.optimizer_status.error)
    return m.CollectionInfo(
        status=_enum_from_grpc(msg.status, m.CollectionStatus),
        optimizer_status=optimizer_status,
        indexed_vectors_count=msg.indexed_vectors_count,
        points_count=msg.points_count,
        segments_count=msg.segments_count,
        config=m.CollectionConfig(
            params=m.CollectionParams(
                vectors=vectors_config_from_grpc(params.vectors_config) if params else None,
                shard_number=params.shard_number if params else None,
                replication_factor=params.replication_factor if params else None,
                write_consistency_factor=params.write_consistency_factor if params else None,
                on_disk_payload=params.on_disk_payload if params else None,
            ),
            hnsw_config=m.HnswConfig(
                m=(hnsw.m or 0) if hnsw else 0,
                ef_construct=(hnsw.ef_construct or 0) if hnsw else 0,
                full_scan_threshold=(hnsw.full_scan_threshold or 0) if hnsw else 0,
                max_indexing_threads=hnsw.max_indexing_threads if hnsw else None,
                on_disk=hnsw.on_disk if hnsw else None,
                payload_m=hnsw.payload_m if hnsw else None,
            ),
            optimizer_config=m.OptimizersConfig(
                deleted_threshold=opt.deleted_threshold if opt else None,
                vacuum_min_vector_number=opt.vacuum_min_vector_number if opt else None,
                default_segment_number=(opt.default_segment_number or 0) if opt else 0,
                max_segment_size=opt.max_segment_size if opt else None,
                memmap_threshold=opt.memmap_threshold if opt else None,
                indexing_threshold=opt.indexing_threshold if opt else None,
                flush_interval_sec=(opt.flush_interval_sec or 0) if opt else 0,
            ),
            metadata=payload_from_grpc(cfg.metadata) or None if cfg is not None else None,
        ),
        payload_schema={},
    )


# --------------------------------------------------------------------------- results


def update_result_from_grpc(r: q.UpdateResult) -> m.UpdateResult:
    return m.UpdateResult(operation_id=r.operation_id, status=_enum_from_grpc(r.status, m.UpdateStatus))


def update_result_to_grpc(r: m.UpdateResult) -> q.UpdateResult:
    return q.UpdateResult(operation_id=r.operation_id, status=_enum_to_grpc(r.status, q.UpdateStatus))


def version_info_from_grpc(r: q.HealthCheckReply) -> m.VersionInfo:
    return m.VersionInfo(title=r.title, version=r.version, commit=r.commit)


def version_info_to_grpc(v: m.VersionInfo) -> q.HealthCheckReply:
    return q.HealthCheckReply(title=v.title, version=v.version, commit=v.commit)


# --------------------------------------------------------------------------- request dispatch


def _points_selector(body: Any) -> q.PointsSelector:
    if isinstance(body, m.PointIdsList):
        return q.PointsSelector(points=q.PointsIdsList(ids=[point_id_to_grpc(i) for i in body.points]))
    if isinstance(body, m.FilterSelector):
        return q.PointsSelector(filter=filter_to_grpc(body.filter))
    raise _unsupported(f"points selector {type(body).__name__}")


def _selector_of(body: Any) -> q.PointsSelector | None:
    if getattr(body, "points", None) is not None:
        return q.PointsSelector(points=q.PointsIdsList(ids=[point_id_to_grpc(i) for i in body.points]))
    if getattr(body, "filter", None) is not None:
        return q.PointsSelector(filter=filter_to_grpc(body.filter))
    return None


def _ordering(query: Mapping[str, Any]) -> q.WriteOrdering | None:
    o = query.get("ordering")
    if o is None:
        return None
    return q.WriteOrdering(type=_enum_to_grpc(o, q.WriteOrderingType))


def upsert_to_grpc(name: str, body: Any, query: Mapping[str, Any]) -> q.UpsertPoints:
    if isinstance(body, m.PointsBatch):
        b = body.batch
        n = len(b.ids)
        vecs = b.vectors
        if isinstance(vecs, Mapping):
            per_point = [{k: v[i] for k, v in vecs.items()} for i in range(n)]
        else:
            per_point = list(vecs)
        payloads = b.payloads or [None] * n
        points = [
            q.PointStruct(
                id=point_id_to_grpc(b.ids[i]),
                payload=payload_to_grpc(payloads[i]),
                vectors=vectors_to_grpc(per_point[i]),
            )
            for i in range(n)
        ]
    else:
        points = [point_struct_to_grpc(p) for p in body.points]
    return q.UpsertPoints(
        collection_name=name,
        wait=query.get("wait"),
        points=points,
        ordering=_ordering(query),
        shard_key_selector=shard_key_selector_to_grpc(body.shard_key),
        update_filter=filter_to_grpc(body.update_filter),
        timeout=query.get("timeout"),
        update_mode=_enum_to_grpc(body.update_mode, q.UpdateMode) if body.update_mode is not None else None,
    )


def request_to_grpc(op_name: str, path_params: Mapping[str, Any], query: Mapping[str, Any], body: Any) -> Any:
    """The gRPC request message for one REST-shaped call of ``op_name``."""
    name = path_params.get("collection_name", "")
    timeout = query.get("timeout")
    if op_name == "upsert_points":
        return upsert_to_grpc(name, body, query)
    if op_name == "delete_points":
        return q.DeletePoints(
            collection_name=name,
            wait=query.get("wait"),
            points=_points_selector(body),
            ordering=_ordering(query),
            shard_key_selector=shard_key_selector_to_grpc(body.shard_key),
            timeout=timeout,
        )
    if op_name in ("set_payload", "overwrite_payload"):
        # both methods take SetPayloadPoints; the method (SetPayload/OverwritePayload) differs
        return q.SetPayloadPoints(
            collection_name=name,
            wait=query.get("wait"),
            payload=payload_to_grpc(body.payload),
            points_selector=_selector_of(body),
            ordering=_ordering(query),
            shard_key_selector=shard_key_selector_to_grpc(body.shard_key),
            key=body.key,
            timeout=timeout,
        )
    if op_name == "delete_payload":
        return q.DeletePayloadPoints(
            collection_name=name,
            wait=query.get("wait"),
            keys=list(body.keys),
            points_selector=_selector_of(body),
            ordering=_ordering(query),
            shard_key_selector=shard_key_selector_to_grpc(body.shard_key),
            timeout=timeout,
        )
    if op_name == "clear_payload":
        return q.ClearPayloadPoints(
            collection_name=name,
            wait=query.get("wait"),
            points=_points_selector(body),
            ordering=_ordering(query),
            shard_key_selector=shard_key_selector_to_grpc(body.shard_key),
            timeout=timeout,
        )
    if op_name == "count_points":
        body = body or m.CountRequest()
        return q.CountPoints(
            collection_name=name,
            filter=filter_to_grpc(body.filter),
            exact=body.exact,
            shard_key_selector=shard_key_selector_to_grpc(body.shard_key),
            timeout=timeout,
        )
    if op_name == "get_points":
        return q.GetPoints(
            collection_name=name,
            ids=[point_id_to_grpc(i) for i in body.ids],
            with_payload=with_payload_to_grpc(body.with_payload),
            with_vectors=with_vectors_to_grpc(body.with_vector),
            shard_key_selector=shard_key_selector_to_grpc(body.shard_key),
            timeout=timeout,
        )
    if op_name == "scroll_points":
        body = body or m.ScrollRequest()
        return q.ScrollPoints(
            collection_name=name,
            filter=filter_to_grpc(body.filter),
            offset=point_id_to_grpc(body.offset) if body.offset is not None else None,
            limit=body.limit,
            with_payload=with_payload_to_grpc(body.with_payload),
            with_vectors=with_vectors_to_grpc(body.with_vector),
            shard_key_selector=shard_key_selector_to_grpc(body.shard_key),
            order_by=order_by_to_grpc(body.order_by),
            timeout=timeout,
        )
    if op_name == "query_points":
        body = body or m.QueryRequest()
        if body.lookup_from is not None:
            raise _unsupported("query lookup_from")
        return q.QueryPoints(
            collection_name=name,
            prefetch=[prefetch_to_grpc(p) for p in _conditions(body.prefetch)],
            query=query_to_grpc(body.query),
            using=body.using,
            filter=filter_to_grpc(body.filter),
            params=search_params_to_grpc(body.params),
            score_threshold=body.score_threshold,
            limit=body.limit,
            offset=body.offset,
            with_vectors=with_vectors_to_grpc(body.with_vector),
            with_payload=with_payload_to_grpc(body.with_payload),
            shard_key_selector=shard_key_selector_to_grpc(body.shard_key),
            timeout=timeout,
        )
    if op_name == "create_collection":
        return create_collection_to_grpc(name, body or m.CreateCollection(), timeout)
    if op_name == "delete_collection":
        return q.DeleteCollection(collection_name=name, timeout=timeout)
    if op_name == "get_collection":
        return q.GetCollectionInfoRequest(collection_name=name)
    if op_name == "collection_exists":
        return q.CollectionExistsRequest(collection_name=name)
    if op_name == "get_collections":
        return q.ListCollectionsRequest()
    if op_name in ("root", "healthz", "health_check"):
        return q.HealthCheckRequest()
    raise _unsupported(f"operation {op_name}")


def result_from_grpc(op_name: str, reply: Any) -> Any:
    """The REST ``result`` for the gRPC reply of ``op_name``."""
    if op_name in (
        "upsert_points",
        "delete_points",
        "set_payload",
        "overwrite_payload",
        "delete_payload",
        "clear_payload",
    ):
        return update_result_from_grpc(reply.result)
    if op_name == "count_points":
        return m.CountResult(count=reply.result.count)
    if op_name == "get_points":
        return [record_from_grpc(p) for p in reply.result]
    if op_name == "scroll_points":
        nxt = point_id_from_grpc(reply.next_page_offset) if reply.next_page_offset is not None else None
        return m.ScrollResult(points=[record_from_grpc(p) for p in reply.result], next_page_offset=nxt)
    if op_name == "query_points":
        return m.QueryResponse(points=[scored_point_from_grpc(p) for p in reply.result])
    if op_name in ("create_collection", "delete_collection"):
        return reply.result
    if op_name == "get_collection":
        return collection_info_from_grpc(reply.result)
    if op_name == "collection_exists":
        return m.CollectionExistence(exists=reply.result.exists)
    if op_name == "get_collections":
        return collections_list_from_grpc(reply)
    if op_name == "healthz":
        return "healthz check passed"  # the REST endpoint's text; the reply carries the version
    if op_name == "root":
        return version_info_from_grpc(reply)
    raise _unsupported(f"operation {op_name}")


# --------------------------------------------------------------------------- server side
# The dev server's gRPC endpoint (aqdrant/server/grpc.py) reads request messages into the
# REST-shaped (path_params, query, body) the engine takes and writes the engine's results back
# as reply messages.


def _write_query(msg: Any) -> dict[str, Any]:
    query: dict[str, Any] = {}
    if getattr(msg, "wait", None) is not None:
        query["wait"] = msg.wait
    ordering = getattr(msg, "ordering", None)
    if ordering is not None and ordering.type is not None:
        query["ordering"] = _enum_from_grpc(ordering.type, m.WriteOrdering)
    if getattr(msg, "timeout", None) is not None:
        query["timeout"] = msg.timeout
    return query


def _read_query(msg: Any) -> dict[str, Any]:
    if getattr(msg, "read_consistency", None) is not None:
        raise _unsupported("read_consistency")
    return {"timeout": msg.timeout} if getattr(msg, "timeout", None) is not None else {}


def _selector_from_grpc(sel: q.PointsSelector | None, shard_key: Any) -> Any:
    if sel is None:
        raise _unsupported("a points operation without a points selector")
    kind = betterproto_which(sel, "points_selector_one_of")
    if kind == "points":
        return m.PointIdsList(points=[point_id_from_grpc(i) for i in sel.points.ids], shard_key=shard_key)
    if kind == "filter":
        return m.FilterSelector(filter=filter_from_grpc(sel.filter) or m.Filter(), shard_key=shard_key)
    raise _unsupported(f"points selector {kind}")


def _selector_fields(sel: q.PointsSelector | None) -> dict[str, Any]:
    if sel is None:
        return {}
    kind = betterproto_which(sel, "points_selector_one_of")
    if kind == "points":
        return {"points": [point_id_from_grpc(i) for i in sel.points.ids]}
    if kind == "filter":
        return {"filter": filter_from_grpc(sel.filter) or m.Filter()}
    raise _unsupported(f"points selector {kind}")


def request_from_grpc(op_name: str, msg: Any) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """Inverse of :func:`request_to_grpc`: ``(path_params, query, body)`` for one request message."""
    name = getattr(msg, "collection_name", None)
    path = {"collection_name": name} if name is not None else {}
    sk = shard_key_selector_from_grpc(getattr(msg, "shard_key_selector", None))
    if op_name == "upsert_points":
        if msg.update_mode is not None:
            raise _unsupported("upsert update_mode")
        body: Any = m.PointsList(
            points=[point_struct_from_grpc(p) for p in msg.points],
            shard_key=sk,
            update_filter=filter_from_grpc(msg.update_filter),
        )
        return path, _write_query(msg), body
    if op_name in ("delete_points", "clear_payload"):
        return path, _write_query(msg), _selector_from_grpc(msg.points, sk)
    if op_name in ("set_payload", "overwrite_payload"):
        body = m.SetPayload(
            payload=payload_from_grpc(msg.payload),
            shard_key=sk,
            key=msg.key,
            **_selector_fields(msg.points_selector),
        )
        return path, _write_query(msg), body
    if op_name == "delete_payload":
        body = m.DeletePayload(keys=list(msg.keys), shard_key=sk, **_selector_fields(msg.points_selector))
        return path, _write_query(msg), body
    if op_name == "count_points":
        return (
            path,
            _read_query(msg),
            m.CountRequest(filter=filter_from_grpc(msg.filter), exact=msg.exact, shard_key=sk),
        )
    if op_name == "get_points":
        body = m.PointRequest(
            ids=[point_id_from_grpc(i) for i in msg.ids],
            with_payload=with_payload_from_grpc(msg.with_payload),
            with_vector=with_vectors_from_grpc(msg.with_vectors),
            shard_key=sk,
        )
        return path, _read_query(msg), body
    if op_name == "scroll_points":
        body = m.ScrollRequest(
            filter=filter_from_grpc(msg.filter),
            offset=point_id_from_grpc(msg.offset) if msg.offset is not None else None,
            limit=msg.limit,
            with_payload=with_payload_from_grpc(msg.with_payload),
            with_vector=with_vectors_from_grpc(msg.with_vectors),
            order_by=order_by_from_grpc(msg.order_by),
            shard_key=sk,
        )
        return path, _read_query(msg), body
    if op_name == "query_points":
        if msg.lookup_from is not None:
            raise _unsupported("query lookup_from")
        body = m.QueryRequest(
            prefetch=[prefetch_from_grpc(p) for p in msg.prefetch] or None,
            query=query_from_grpc(msg.query),
            using=msg.using,
            filter=filter_from_grpc(msg.filter),
            params=search_params_from_grpc(msg.params),
            score_threshold=msg.score_threshold,
            limit=msg.limit,
            offset=msg.offset,
            with_vector=with_vectors_from_grpc(msg.with_vectors),
            with_payload=with_payload_from_grpc(msg.with_payload),
            shard_key=sk,
        )
        return path, _read_query(msg), body
    if op_name == "create_collection":
        unsupported = [
            f
            for f in ("quantization_config", "sparse_vectors_config", "strict_mode_config", "sharding_method")
            if getattr(msg, f, None) is not None
        ]
        if unsupported:
            raise _unsupported("create_collection " + ", ".join(unsupported))
        _, body = create_collection_from_grpc(msg)
        return path, ({"timeout": msg.timeout} if msg.timeout is not None else {}), body
    if op_name == "delete_collection":
        return path, ({"timeout": msg.timeout} if msg.timeout is not None else {}), None
    if op_name in ("get_collection", "collection_exists", "get_collections"):
        return path, {}, None
    raise _unsupported(f"operation {op_name}")


def _hnsw_config_to_grpc(h: Any) -> q.HnswConfigDiff | None:
    if h is None:
        return None
    return q.HnswConfigDiff(
        m=h.m,
        ef_construct=h.ef_construct,
        full_scan_threshold=h.full_scan_threshold,
        max_indexing_threads=h.max_indexing_threads,
        on_disk=h.on_disk,
        payload_m=h.payload_m,
    )


def _optimizer_config_to_grpc(o: Any) -> q.OptimizersConfigDiff | None:
    if o is None:
        return None
    return q.OptimizersConfigDiff(
        deleted_threshold=o.deleted_threshold,
        vacuum_min_vector_number=o.vacuum_min_vector_number,
        default_segment_number=o.default_segment_number,
        max_segment_size=o.max_segment_size,
        memmap_threshold=o.memmap_threshold,
        indexing_threshold=o.indexing_threshold,
        flush_interval_sec=o.flush_interval_sec,
    )


def collection_info_to_grpc(info: m.CollectionInfo) -> q.CollectionInfo:
    """The parts of a ``CollectionInfo`` that :func:`collection_info_from_grpc` reads back."""
    import warnings

    with warnings.catch_warnings():  # on_disk_payload and hnsw on_disk are deprecated in the proto
        warnings.simplefilter("ignore", DeprecationWarning)
        return _collection_info_to_grpc(info)


def _collection_info_to_grpc(info: m.CollectionInfo) -> q.CollectionInfo:
    cfg = info.config
    params = cfg.params
    opt_status = info.optimizer_status
    ok = opt_status == m.OptimizersStatusOneOf.OK or getattr(opt_status, "value", None) == "ok"
    return q.CollectionInfo(
        status=_enum_to_grpc(info.status, q.CollectionStatus),
        optimizer_status=q.OptimizerStatus(ok=ok, error="" if ok else str(getattr(opt_status, "error", ""))),
        segments_count=info.segments_count,
        points_count=info.points_count,
        indexed_vectors_count=info.indexed_vectors_count,
        config=q.CollectionConfig(
            params=q.CollectionParams(
                shard_number=params.shard_number or 1,
                on_disk_payload=bool(params.on_disk_payload),
                # a reply carries what the reader maps back rather than refusing extras
                vectors_config=vectors_config_to_grpc(params.vectors, _vector_params_message),
                replication_factor=params.replication_factor,
                write_consistency_factor=params.write_consistency_factor,
            ),
            hnsw_config=_hnsw_config_to_grpc(cfg.hnsw_config) or q.HnswConfigDiff(),
            optimizer_config=_optimizer_config_to_grpc(cfg.optimizer_config) or q.OptimizersConfigDiff(),
            wal_config=q.WalConfigDiff(
                wal_capacity_mb=cfg.wal_config.wal_capacity_mb,
                wal_segments_ahead=cfg.wal_config.wal_segments_ahead,
            )
            if cfg.wal_config is not None
            else q.WalConfigDiff(),
            metadata=payload_to_grpc(cfg.metadata),
        ),
    )


def result_to_grpc(op_name: str, result: Any, elapsed: float = 0.0) -> Any:
    """Inverse of :func:`result_from_grpc`: the reply message for the engine's ``result``."""
    if op_name in (
        "upsert_points",
        "delete_points",
        "set_payload",
        "overwrite_payload",
        "delete_payload",
        "clear_payload",
    ):
        return q.PointsOperationResponse(result=update_result_to_grpc(result), time=elapsed)
    if op_name == "count_points":
        return q.CountResponse(result=q.CountResult(count=result.count), time=elapsed)
    if op_name == "get_points":
        return q.GetResponse(result=[record_to_grpc(p) for p in result], time=elapsed)
    if op_name == "scroll_points":
        nxt = result.next_page_offset
        return q.ScrollResponse(
            result=[record_to_grpc(p) for p in result.points],
            next_page_offset=point_id_to_grpc(nxt) if nxt is not None else None,
            time=elapsed,
        )
    if op_name == "query_points":
        return q.QueryResponse(result=[scored_point_to_grpc(p) for p in result.points], time=elapsed)
    if op_name in ("create_collection", "delete_collection"):
        return q.CollectionOperationResponse(result=bool(result), time=elapsed)
    if op_name == "get_collection":
        return q.GetCollectionInfoResponse(result=collection_info_to_grpc(result), time=elapsed)
    if op_name == "collection_exists":
        return q.CollectionExistsResponse(result=q.CollectionExists(exists=result.exists), time=elapsed)
    if op_name == "get_collections":
        return q.ListCollectionsResponse(
            collections=[q.CollectionDescription(name=c.name) for c in result.collections], time=elapsed
        )
    raise _unsupported(f"operation {op_name}")
