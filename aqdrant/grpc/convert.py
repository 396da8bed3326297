"""Conversions between :mod:`aqdrant.models` (REST names, msgspec) and the betterproto2 messages.

One function per direction and type: ``<type>_to_grpc(model) -> message`` and
``<type>_from_grpc(message) -> model``. Four dispatchers, keyed by the REST operation name:

* ``request_to_grpc(op, path_params, query, body)``: the client's request message;
* ``result_from_grpc(op, reply)``: the REST ``result`` for the reply;
* ``request_from_grpc(op, message)`` / ``result_to_grpc(op, result)``: their inverses, for the dev
  server's gRPC endpoint (:mod:`aqdrant.server.grpc`).

Covered: every operation with a gRPC counterpart: points (upsert, delete, get, scroll, count,
vectors update/delete, payload ops, batch update, payload indexes with every index-params kind,
query/batch/groups with lookups, facet, distance matrices), collections (create/get/list/exists/
update/delete with vector, sparse, multivector, quantization, strict-mode and optimizer configs;
aliases; shard keys; cluster info and setup), snapshots and health; the whole filter and query
vocabulary, cloud-inference objects and read consistency. A shape the messages cannot carry raises
:class:`aqdrant.errors.UnsupportedOperation`, so the client falls back to REST for that call: a
snapshot call with ``wait=false`` (gRPC always waits), a scroll ``limit`` above 2^32 - 1, a datetime
Python cannot parse, start/abort resharding. A cluster-info reply has no field for a shard
transfer's ``method`` and ``comment``; they read back as None. On the server side, what REST cannot
say is refused the same way: per-query consistency/timeout inside a query batch, an order-by
``start_from`` given as a protobuf Timestamp, a shard transfer to another shard id.

Normal forms (what a round trip gives back): condition lists rather than single conditions, empty
payloads as None, a ``WithLookup`` with no selectors as the collection name, a stop-word set of one
language as that ``Language``, keyword ``prefix=false`` as unset, datetimes as ``isoformat()`` of a
UTC datetime, an unnamed vector in ``UpdateCollection.vectors`` under ``""``.
"""

from __future__ import annotations

import re
import typing
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
        name = member.name.rstrip("_")  # Modifier.None_
        if name == raw or _snake(name) == raw or name.lower() == str(raw).lower():
            return member
    raise _unsupported(f"{proto_enum.__name__} value {raw!r}")


def _enum_from_grpc(member: Any, model_enum: type) -> Any:
    name = member.name.rstrip("_")
    for candidate in (name, _snake(name), name.lower()):
        try:
            return model_enum(candidate)
        except ValueError:
            continue
    raise ValueError(f"{model_enum.__name__} has no value for gRPC {type(member).__name__}.{name}")


def _quiet(fn: Any) -> Any:
    """Run ``fn`` without the proto's DeprecationWarnings: REST still takes fields such as
    ``on_disk`` and ``always_ram`` that the proto marks deprecated, and they are carried as given."""
    import functools
    import warnings

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return fn(*args, **kwargs)

    return run


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
    """One vector (dense list/array, multi-dense list of lists, SparseVector, or a Document/Image/
    InferenceObject for cloud inference) as ``Vector``."""
    inference = _inference_to_grpc(vec)
    if inference is not None:
        return q.Vector(**{inference[0]: inference[1]})
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
    if kind in ("document", "image", "object"):
        return _inference_from_grpc(getattr(v, kind), kind)
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


def vectors_from_grpc(vs: q.Vectors | None) -> Any:
    """Inverse of :func:`vectors_to_grpc`."""
    if vs is None:
        return None
    kind = betterproto_which(vs, "vectors_options")
    if kind == "vector":
        return _vector_output_from_grpc(vs.vector)
    if kind == "vectors":
        return {k: _vector_output_from_grpc(v) for k, v in vs.vectors.vectors.items()}
    return None


def point_struct_from_grpc(p: q.PointStruct) -> m.PointStruct:
    return m.PointStruct(
        id=point_id_from_grpc(p.id),
        vector=vectors_from_grpc(p.vectors),
        payload=payload_from_grpc(p.payload) or None,
    )


def point_vectors_to_grpc(p: m.PointVectors) -> q.PointVectors:
    return q.PointVectors(id=point_id_to_grpc(p.id), vectors=vectors_to_grpc(p.vector))


def point_vectors_from_grpc(p: q.PointVectors) -> m.PointVectors:
    return m.PointVectors(id=point_id_from_grpc(p.id), vector=vectors_from_grpc(p.vectors))


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
        dt_range = isinstance(c.range, m.DatetimeRange)
        return q.Condition(
            field=q.FieldCondition(
                key=c.key,
                match=_match_to_grpc(c.match) if c.match is not None else None,
                range=q.Range(lt=c.range.lt, gt=c.range.gt, gte=c.range.gte, lte=c.range.lte)
                if c.range is not None and not dt_range
                else None,
                datetime_range=_datetime_range_to_grpc(c.range) if dt_range else None,
                **_geo_to_grpc(c),
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
    if isinstance(c, m.HasVectorCondition):
        return q.Condition(has_vector=q.HasVectorCondition(has_vector=c.has_vector))
    if isinstance(c, m.Filter):
        return q.Condition(filter=filter_to_grpc(c))
    raise _unsupported(f"condition {type(c).__name__}")


def condition_from_grpc(c: q.Condition) -> Any:
    kind = betterproto_which(c, "condition_one_of")
    if kind == "field":
        f = c.field
        rng: Any = None
        if f.range is not None:
            rng = m.Range(lt=f.range.lt, gt=f.range.gt, gte=f.range.gte, lte=f.range.lte)
        elif f.datetime_range is not None:
            rng = _datetime_range_from_grpc(f.datetime_range)
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
            **_geo_from_grpc(f),
        )
    if kind == "is_empty":
        return m.IsEmptyCondition(is_empty=m.PayloadField(key=c.is_empty.key))
    if kind == "is_null":
        return m.IsNullCondition(is_null=m.PayloadField(key=c.is_null.key))
    if kind == "has_id":
        return m.HasIdCondition(has_id=[point_id_from_grpc(i) for i in c.has_id.has_id])
    if kind == "nested":
        return m.NestedCondition(nested=m.Nested(key=c.nested.key, filter=filter_from_grpc(c.nested.filter)))
    if kind == "has_vector":
        return m.HasVectorCondition(has_vector=c.has_vector.has_vector)
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
    quant = None
    if p.quantization is not None:
        qp = p.quantization
        quant = q.QuantizationSearchParams(ignore=qp.ignore, rescore=qp.rescore, oversampling=qp.oversampling)
    idf = None
    if isinstance(p.idf, m.IdfCorpusParams):
        idf = q.IdfParams(corpus=filter_to_grpc(p.idf.corpus))
    elif p.idf is not None:  # IdfScope.GLOBAL: the whole collection, no corpus filter
        idf = q.IdfParams()
    return q.SearchParams(
        hnsw_ef=p.hnsw_ef,
        exact=p.exact,
        quantization=quant,
        indexed_only=p.indexed_only,
        acorn=_diff_to_grpc(p.acorn, q.AcornSearchParams),
        idf=idf,
    )


def search_params_from_grpc(p: q.SearchParams | None) -> m.SearchParams | None:
    if p is None:
        return None
    quant = None
    if p.quantization is not None:
        qp = p.quantization
        quant = m.QuantizationSearchParams(ignore=qp.ignore, rescore=qp.rescore, oversampling=qp.oversampling)
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
        quantization=quant,
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


def prefetch_to_grpc(p: m.Prefetch) -> q.PrefetchQuery:
    return q.PrefetchQuery(
        prefetch=[prefetch_to_grpc(x) for x in _conditions(p.prefetch)],
        query=query_to_grpc(p.query),
        using=p.using,
        filter=filter_to_grpc(p.filter),
        params=search_params_to_grpc(p.params),
        score_threshold=p.score_threshold,
        limit=p.limit,
        lookup_from=lookup_location_to_grpc(p.lookup_from),
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
        lookup_from=lookup_location_from_grpc(p.lookup_from),
    )


# --------------------------------------------------------------------------- collections


_DIFF_ENUMS: dict[str, tuple[type, type]] = {
    "memory": (q.Memory, m.Memory),
    "datatype": (q.Datatype, m.Datatype),
    "tokenizer": (q.TokenizerType, m.TokenizerType),
}


def _diff_to_grpc(model: Any, cls: type, exclude: tuple[str, ...] = (), skip: tuple[str, ...] = ()) -> Any:
    """A flat *Diff model whose fields are scalars (or the enums in ``_DIFF_ENUMS``) of the same
    names in the proto; fields in ``exclude`` are refused, fields in ``skip`` left to the caller."""
    if model is None:
        return None
    import msgspec

    values = {
        f: getattr(model, f)
        for f in model.__struct_fields__
        if getattr(model, f) is not None and f not in skip
    }
    for name, value in values.items():
        if name in exclude or name not in cls.__dataclass_fields__:
            raise _unsupported(f"{type(model).__name__}.{name}")
        if name in _DIFF_ENUMS:
            values[name] = _enum_to_grpc(value, _DIFF_ENUMS[name][0])
        elif isinstance(value, (msgspec.Struct, dict, list)):
            raise _unsupported(f"{type(model).__name__}.{name}")
    return cls(**values)


def _diff_from_grpc(msg: Any, cls: type, as_dict: bool = False) -> Any:
    if msg is None:
        return None
    fields = set(cls.__struct_fields__)
    values = {
        k: getattr(msg, k) for k in msg.__dataclass_fields__ if k in fields and getattr(msg, k) is not None
    }
    for name, (_, model_enum) in _DIFF_ENUMS.items():
        if name in values:
            if "Unknown" in values[name].name:  # a proto3 enum left at 0 (TextIndexParams.tokenizer)
                del values[name]
            else:
                values[name] = _enum_from_grpc(values[name], model_enum)
    return values if as_dict else cls(**values)


@_quiet
def vector_params_to_grpc(p: m.VectorParams) -> q.VectorParams:
    return q.VectorParams(
        size=p.size,
        distance=_enum_to_grpc(p.distance, q.Distance),
        hnsw_config=_diff_to_grpc(p.hnsw_config, q.HnswConfigDiff),
        quantization_config=quantization_to_grpc(p.quantization_config),
        on_disk=p.on_disk,
        datatype=_enum_to_grpc(p.datatype, q.Datatype) if p.datatype is not None else None,
        multivector_config=q.MultiVectorConfig(
            comparator=_enum_to_grpc(p.multivector_config.comparator, q.MultiVectorComparator)
        )
        if p.multivector_config is not None
        else None,
        memory=_enum_to_grpc(p.memory, q.Memory) if p.memory is not None else None,
    )


@_quiet
def vector_params_from_grpc(p: q.VectorParams) -> m.VectorParams:
    return m.VectorParams(
        size=p.size,
        distance=_enum_from_grpc(p.distance, m.Distance),
        hnsw_config=_diff_from_grpc(p.hnsw_config, m.HnswConfigDiff),
        quantization_config=quantization_from_grpc(p.quantization_config),
        on_disk=p.on_disk,
        datatype=_enum_from_grpc(p.datatype, m.Datatype) if p.datatype is not None else None,
        multivector_config=m.MultiVectorConfig(
            comparator=_enum_from_grpc(p.multivector_config.comparator, m.MultiVectorComparator)
        )
        if p.multivector_config is not None
        else None,
        memory=_enum_from_grpc(p.memory, m.Memory) if p.memory is not None else None,
    )


def vectors_config_to_grpc(vc: Any) -> q.VectorsConfig | None:
    """Unnamed or named vector params."""
    if vc is None:
        return None
    if isinstance(vc, m.VectorParams):
        return q.VectorsConfig(params=vector_params_to_grpc(vc))
    return q.VectorsConfig(
        params_map=q.VectorParamsMap(map={k: vector_params_to_grpc(v) for k, v in vc.items()})
    )


def vectors_config_from_grpc(vc: q.VectorsConfig | None) -> Any:
    if vc is None:
        return None
    if betterproto_which(vc, "config") == "params":
        return vector_params_from_grpc(vc.params)
    from ..models import _generated as g

    cls = getattr(g, "VectorsConfigMap", dict)
    return cls({k: vector_params_from_grpc(v) for k, v in vc.params_map.map.items()})


@_quiet
def create_collection_to_grpc(
    name: str, body: m.CreateCollection, timeout: int | None = None
) -> q.CreateCollection:
    return q.CreateCollection(
        sharding_method=_enum_to_grpc(body.sharding_method, q.ShardingMethod)
        if body.sharding_method is not None
        else None,
        payload=_payload_storage_to_grpc(body.payload),
        strict_mode_config=strict_mode_to_grpc(body.strict_mode_config),
        collection_name=name,
        hnsw_config=_diff_to_grpc(body.hnsw_config, q.HnswConfigDiff),
        wal_config=_diff_to_grpc(body.wal_config, q.WalConfigDiff),
        optimizers_config=optimizers_diff_to_grpc(body.optimizers_config),
        shard_number=body.shard_number,
        on_disk_payload=body.on_disk_payload,
        timeout=timeout,
        vectors_config=vectors_config_to_grpc(body.vectors),
        replication_factor=body.replication_factor,
        write_consistency_factor=body.write_consistency_factor,
        metadata=payload_to_grpc(body.metadata),
        quantization_config=quantization_to_grpc(body.quantization_config),
        sparse_vectors_config=sparse_vectors_config_to_grpc(body.sparse_vectors),
    )


@_quiet
def create_collection_from_grpc(msg: q.CreateCollection) -> tuple[str, m.CreateCollection]:
    return msg.collection_name, m.CreateCollection(
        vectors=vectors_config_from_grpc(msg.vectors_config),
        shard_number=msg.shard_number,
        replication_factor=msg.replication_factor,
        write_consistency_factor=msg.write_consistency_factor,
        on_disk_payload=msg.on_disk_payload,
        hnsw_config=_diff_from_grpc(msg.hnsw_config, m.HnswConfigDiff),
        wal_config=_diff_from_grpc(msg.wal_config, m.WalConfigDiff),
        optimizers_config=optimizers_diff_from_grpc(msg.optimizers_config),
        metadata=payload_from_grpc(msg.metadata) or None,
        quantization_config=quantization_from_grpc(msg.quantization_config),
        sparse_vectors=sparse_vectors_config_from_grpc(msg.sparse_vectors_config),
        sharding_method=_enum_from_grpc(msg.sharding_method, m.ShardingMethod)
        if msg.sharding_method is not None
        else None,
        payload=_payload_storage_from_grpc(msg.payload),
        strict_mode_config=strict_mode_from_grpc(msg.strict_mode_config),
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
                sparse_vectors=sparse_vectors_config_from_grpc(params.sparse_vectors_config)
                if params
                else None,
                sharding_method=_enum_from_grpc(params.sharding_method, m.ShardingMethod)
                if params and params.sharding_method is not None
                else None,
                read_fan_out_factor=params.read_fan_out_factor if params else None,
                read_fan_out_delay_ms=params.read_fan_out_delay_ms if params else None,
                payload=_payload_storage_from_grpc(params.payload) if params else None,
            ),
            # the fields REST always has are 0 when the reply leaves them out
            hnsw_config=m.HnswConfig(
                **{
                    "m": 0,
                    "ef_construct": 0,
                    "full_scan_threshold": 0,
                    **(_diff_from_grpc(hnsw, m.HnswConfig, True) or {}),
                }
            ),
            optimizer_config=m.OptimizersConfig(
                **{
                    "default_segment_number": 0,
                    "flush_interval_sec": 0,
                    **(_diff_from_grpc(opt, m.OptimizersConfig, True) or {}),
                    # "auto" is REST's null
                    "max_optimization_threads": opt.max_optimization_threads.value
                    if opt is not None and opt.max_optimization_threads is not None
                    else None,
                }
            ),
            wal_config=m.WalConfig(**{"wal_capacity_mb": 0, "wal_segments_ahead": 0, **wal})
            if (wal := _diff_from_grpc(cfg.wal_config, m.WalConfig, True) if cfg is not None else None)
            else None,
            metadata=payload_from_grpc(cfg.metadata) or None if cfg is not None else None,
            quantization_config=quantization_from_grpc(cfg.quantization_config) if cfg is not None else None,
            strict_mode_config=_strict_mode_output_from_grpc(cfg.strict_mode_config)
            if cfg is not None
            else None,
        ),
        payload_schema={k: _payload_schema_from_grpc(v) for k, v in msg.payload_schema.items()},
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
    return q.UpsertPoints(
        collection_name=name,
        wait=query.get("wait"),
        points=_point_structs(body),
        ordering=_ordering(query),
        shard_key_selector=shard_key_selector_to_grpc(body.shard_key),
        update_filter=filter_to_grpc(body.update_filter),
        timeout=query.get("timeout"),
        update_mode=_enum_to_grpc(body.update_mode, q.UpdateMode) if body.update_mode is not None else None,
    )


def _point_structs(body: Any) -> list[q.PointStruct]:
    """The points of a ``PointsList`` or a ``PointsBatch``."""
    if isinstance(body, m.PointsBatch):
        b = body.batch
        n = len(b.ids)
        vecs = b.vectors
        if isinstance(vecs, Mapping):
            per_point = [{k: v[i] for k, v in vecs.items()} for i in range(n)]
        else:
            per_point = list(vecs)
        payloads = b.payloads or [None] * n
        return [
            q.PointStruct(
                id=point_id_to_grpc(b.ids[i]),
                payload=payload_to_grpc(payloads[i]),
                vectors=vectors_to_grpc(per_point[i]),
            )
            for i in range(n)
        ]
    return [point_struct_to_grpc(p) for p in body.points]


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
            read_consistency=read_consistency_to_grpc(query.get("consistency")),
            timeout=timeout,
        )
    if op_name == "get_points":
        return q.GetPoints(
            collection_name=name,
            ids=[point_id_to_grpc(i) for i in body.ids],
            with_payload=with_payload_to_grpc(body.with_payload),
            with_vectors=with_vectors_to_grpc(body.with_vector),
            shard_key_selector=shard_key_selector_to_grpc(body.shard_key),
            read_consistency=read_consistency_to_grpc(query.get("consistency")),
            timeout=timeout,
        )
    if op_name == "scroll_points":
        body = body or m.ScrollRequest()
        if body.limit is not None and body.limit > 0xFFFFFFFF:  # uint32 on gRPC's wire, u64 on REST's
            raise _unsupported(f"a scroll limit of {body.limit} (above 2^32 - 1)")
        return q.ScrollPoints(
            collection_name=name,
            filter=filter_to_grpc(body.filter),
            offset=point_id_to_grpc(body.offset) if body.offset is not None else None,
            limit=body.limit,
            with_payload=with_payload_to_grpc(body.with_payload),
            with_vectors=with_vectors_to_grpc(body.with_vector),
            shard_key_selector=shard_key_selector_to_grpc(body.shard_key),
            order_by=order_by_to_grpc(body.order_by),
            read_consistency=read_consistency_to_grpc(query.get("consistency")),
            timeout=timeout,
        )
    if op_name == "query_points":
        return query_points_to_grpc(name, body or m.QueryRequest(), query)
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
    build = _MORE_REQUESTS.get(op_name)
    if build is not None:
        return build(path_params, query, body)
    raise _unsupported(f"operation {op_name}")


def result_from_grpc(op_name: str, reply: Any) -> Any:
    """The REST ``result`` for the gRPC reply of ``op_name``."""
    if op_name in _UPDATE_OPS:
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
    if op_name in _COLLECTION_OPS:
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
    read = _MORE_RESULTS.get(op_name)
    if read is not None:
        return read(reply)
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
    query: dict[str, Any] = {}
    consistency = read_consistency_from_grpc(getattr(msg, "read_consistency", None))
    if consistency is not None:
        query["consistency"] = consistency
    if getattr(msg, "timeout", None) is not None:
        query["timeout"] = msg.timeout
    return query


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
        body: Any = m.PointsList(
            points=[point_struct_from_grpc(p) for p in msg.points],
            shard_key=sk,
            update_filter=filter_from_grpc(msg.update_filter),
            update_mode=_enum_from_grpc(msg.update_mode, m.UpdateMode)
            if msg.update_mode is not None
            else None,
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
        return path, _read_query(msg), query_points_from_grpc(msg)
    if op_name == "create_collection":
        _, body = create_collection_from_grpc(msg)
        return path, ({"timeout": msg.timeout} if msg.timeout is not None else {}), body
    if op_name == "delete_collection":
        return path, ({"timeout": msg.timeout} if msg.timeout is not None else {}), None
    if op_name in ("get_collection", "collection_exists", "get_collections"):
        return path, {}, None
    if op_name in _MORE_READERS:
        extra_path, query, body = _more_request_from_grpc(op_name, msg)
        return {**path, **extra_path}, query, body
    raise _unsupported(f"operation {op_name}")


def _optimizer_config_to_grpc(o: m.OptimizersConfig | None) -> q.OptimizersConfigDiff | None:
    if o is None:
        return None
    msg = _diff_to_grpc(o, q.OptimizersConfigDiff, skip=("max_optimization_threads",))
    threads = o.max_optimization_threads  # REST's null is gRPC's "auto"
    msg.max_optimization_threads = _max_threads_to_grpc(threads if threads is not None else "auto")
    return msg


def _strict_mode_output_from_grpc(msg: q.StrictModeConfig | None) -> Any:
    sm = strict_mode_from_grpc(msg)
    return None if sm is None else m.parse(m.StrictModeConfigOutput, m.to_builtins(sm))


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
                vectors_config=vectors_config_to_grpc(params.vectors),
                replication_factor=params.replication_factor,
                write_consistency_factor=params.write_consistency_factor,
                sparse_vectors_config=sparse_vectors_config_to_grpc(params.sparse_vectors),
                sharding_method=_enum_to_grpc(params.sharding_method, q.ShardingMethod)
                if params.sharding_method is not None
                else None,
                read_fan_out_factor=params.read_fan_out_factor,
                read_fan_out_delay_ms=params.read_fan_out_delay_ms,
                payload=_payload_storage_to_grpc(params.payload),
            ),
            hnsw_config=_diff_to_grpc(cfg.hnsw_config, q.HnswConfigDiff) or q.HnswConfigDiff(),
            optimizer_config=_optimizer_config_to_grpc(cfg.optimizer_config) or q.OptimizersConfigDiff(),
            wal_config=_diff_to_grpc(cfg.wal_config, q.WalConfigDiff) or q.WalConfigDiff(),
            metadata=payload_to_grpc(cfg.metadata),
            quantization_config=quantization_to_grpc(cfg.quantization_config),
            strict_mode_config=strict_mode_to_grpc(
                m.parse(m.StrictModeConfig, m.to_builtins(cfg.strict_mode_config))
                if cfg.strict_mode_config is not None
                else None
            ),
        ),
        payload_schema={k: _payload_schema_to_grpc(v) for k, v in (info.payload_schema or {}).items()},
    )


@_quiet
def _payload_schema_to_grpc(p: m.PayloadIndexInfo) -> q.PayloadSchemaInfo:
    return q.PayloadSchemaInfo(
        data_type=_enum_to_grpc(p.data_type, q.PayloadSchemaType),
        params=field_index_to_grpc(p.params)[1] if p.params is not None else None,
        points=p.points,
    )


@_quiet
def _payload_schema_from_grpc(p: q.PayloadSchemaInfo) -> m.PayloadIndexInfo:
    return m.PayloadIndexInfo(
        data_type=_enum_from_grpc(p.data_type, m.PayloadSchemaType),
        params=field_index_from_grpc(None, p.params),
        points=p.points or 0,
    )


def result_to_grpc(op_name: str, result: Any, elapsed: float = 0.0) -> Any:
    """Inverse of :func:`result_from_grpc`: the reply message for the engine's ``result``."""
    if op_name in _UPDATE_OPS:
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
    if op_name in _COLLECTION_OPS:
        return q.CollectionOperationResponse(result=bool(result), time=elapsed)
    if op_name == "get_collection":
        return q.GetCollectionInfoResponse(result=collection_info_to_grpc(result), time=elapsed)
    if op_name == "collection_exists":
        return q.CollectionExistsResponse(result=q.CollectionExists(exists=result.exists), time=elapsed)
    if op_name == "get_collections":
        return q.ListCollectionsResponse(
            collections=[q.CollectionDescription(name=c.name) for c in result.collections], time=elapsed
        )
    reply = _MORE_REPLIES.get(op_name)
    if reply is not None:
        return reply(result, elapsed)
    raise _unsupported(f"operation {op_name}")


# --------------------------------------------------------------------------- more operations
# Vectors, batch updates, payload indexes, aliases, collection updates, query batch/groups,
# facet, distance matrices, snapshots: request builders, server-side readers and replies, each
# table keyed by the operation name (the dispatchers below consult them).


def read_consistency_to_grpc(c: Any) -> q.ReadConsistency | None:
    if c is None:
        return None
    if isinstance(c, int) and not isinstance(c, bool):
        return q.ReadConsistency(factor=c)
    return q.ReadConsistency(type=_enum_to_grpc(c, q.ReadConsistencyType))


def read_consistency_from_grpc(c: q.ReadConsistency | None) -> Any:
    if c is None:
        return None
    if betterproto_which(c, "value") == "factor":
        return c.factor
    return _enum_from_grpc(c.type, m.ReadConsistencyType)


def _read_fields(query: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "read_consistency": read_consistency_to_grpc(query.get("consistency")),
        "timeout": query.get("timeout"),
    }


def _write_fields(query: Mapping[str, Any]) -> dict[str, Any]:
    return {"wait": query.get("wait"), "ordering": _ordering(query), "timeout": query.get("timeout")}


def _update_operation_to_grpc(op: Any) -> q.PointsUpdateOperation:
    P = q.PointsUpdateOperation
    if isinstance(op, m.UpsertOperation):
        b = op.upsert
        return P(
            upsert=q.PointsUpdateOperationPointStructList(
                points=_point_structs(b),
                shard_key_selector=shard_key_selector_to_grpc(b.shard_key),
                update_filter=filter_to_grpc(b.update_filter),
                update_mode=_enum_to_grpc(b.update_mode, q.UpdateMode) if b.update_mode is not None else None,
            )
        )
    if isinstance(op, m.DeleteOperation):
        return P(
            delete_points=q.PointsUpdateOperationDeletePoints(
                points=_points_selector(op.delete),
                shard_key_selector=shard_key_selector_to_grpc(op.delete.shard_key),
            )
        )
    if isinstance(op, m.ClearPayloadOperation):
        return P(
            clear_payload=q.PointsUpdateOperationClearPayload(
                points=_points_selector(op.clear_payload),
                shard_key_selector=shard_key_selector_to_grpc(op.clear_payload.shard_key),
            )
        )
    if isinstance(op, (m.SetPayloadOperation, m.OverwritePayloadOperation)):
        sp = op.set_payload if isinstance(op, m.SetPayloadOperation) else op.overwrite_payload
        fields = {
            "payload": payload_to_grpc(sp.payload),
            "points_selector": _selector_of(sp),
            "shard_key_selector": shard_key_selector_to_grpc(sp.shard_key),
            "key": sp.key,
        }
        if isinstance(op, m.SetPayloadOperation):
            return P(set_payload=q.PointsUpdateOperationSetPayload(**fields))
        return P(overwrite_payload=q.PointsUpdateOperationOverwritePayload(**fields))
    if isinstance(op, m.DeletePayloadOperation):
        dp = op.delete_payload
        return P(
            delete_payload=q.PointsUpdateOperationDeletePayload(
                keys=list(dp.keys),
                points_selector=_selector_of(dp),
                shard_key_selector=shard_key_selector_to_grpc(dp.shard_key),
            )
        )
    if isinstance(op, m.UpdateVectorsOperation):
        uv = op.update_vectors
        return P(
            update_vectors=q.PointsUpdateOperationUpdateVectors(
                points=[point_vectors_to_grpc(p) for p in uv.points],
                shard_key_selector=shard_key_selector_to_grpc(uv.shard_key),
                update_filter=filter_to_grpc(uv.update_filter),
            )
        )
    if isinstance(op, m.DeleteVectorsOperation):
        dv = op.delete_vectors
        return P(
            delete_vectors=q.PointsUpdateOperationDeleteVectors(
                points_selector=_selector_of(dv),
                vectors=q.VectorsSelector(names=list(dv.vector)),
                shard_key_selector=shard_key_selector_to_grpc(dv.shard_key),
            )
        )
    raise _unsupported(f"batch update operation {type(op).__name__}")


def _update_operation_from_grpc(op: q.PointsUpdateOperation) -> Any:
    kind = betterproto_which(op, "operation")
    o = getattr(op, kind) if kind else None
    sk = shard_key_selector_from_grpc(getattr(o, "shard_key_selector", None))
    if kind == "upsert":
        return m.UpsertOperation(
            upsert=m.PointsList(
                points=[point_struct_from_grpc(p) for p in o.points],
                shard_key=sk,
                update_filter=filter_from_grpc(o.update_filter),
                update_mode=_enum_from_grpc(o.update_mode, m.UpdateMode)
                if o.update_mode is not None
                else None,
            )
        )
    if kind in ("delete_points", "clear_payload"):
        sel = _selector_from_grpc(o.points, sk)
        return (
            m.DeleteOperation(delete=sel)
            if kind == "delete_points"
            else m.ClearPayloadOperation(clear_payload=sel)
        )
    if kind in ("set_payload", "overwrite_payload"):
        sp = m.SetPayload(
            payload=payload_from_grpc(o.payload),
            shard_key=sk,
            key=o.key,
            **_selector_fields(o.points_selector),
        )
        return (
            m.SetPayloadOperation(set_payload=sp)
            if kind == "set_payload"
            else m.OverwritePayloadOperation(overwrite_payload=sp)
        )
    if kind == "delete_payload":
        return m.DeletePayloadOperation(
            delete_payload=m.DeletePayload(
                keys=list(o.keys), shard_key=sk, **_selector_fields(o.points_selector)
            )
        )
    if kind == "update_vectors":
        return m.UpdateVectorsOperation(
            update_vectors=m.UpdateVectors(
                points=[point_vectors_from_grpc(p) for p in o.points],
                shard_key=sk,
                update_filter=filter_from_grpc(o.update_filter),
            )
        )
    if kind == "delete_vectors":
        return m.DeleteVectorsOperation(
            delete_vectors=m.DeleteVectors(
                vector=list(o.vectors.names) if o.vectors is not None else [],
                shard_key=sk,
                **_selector_fields(o.points_selector),
            )
        )
    raise _unsupported(f"batch update operation {kind}")


# payload index: the schema is a bare type (keyword, integer, ...) or the type's *IndexParams
_INDEX_KINDS: dict[str, tuple[Any, str, str]] = {
    # model schema value -> (proto FieldType, PayloadIndexParams field, model params class name)
    "keyword": (q.FieldType.FieldTypeKeyword, "keyword_index_params", "KeywordIndexParams"),
    "integer": (q.FieldType.FieldTypeInteger, "integer_index_params", "IntegerIndexParams"),
    "float": (q.FieldType.FieldTypeFloat, "float_index_params", "FloatIndexParams"),
    "geo": (q.FieldType.FieldTypeGeo, "geo_index_params", "GeoIndexParams"),
    "text": (q.FieldType.FieldTypeText, "text_index_params", "TextIndexParams"),
    "bool": (q.FieldType.FieldTypeBool, "bool_index_params", "BoolIndexParams"),
    "datetime": (q.FieldType.FieldTypeDatetime, "datetime_index_params", "DatetimeIndexParams"),
    "uuid": (q.FieldType.FieldTypeUuid, "uuid_index_params", "UuidIndexParams"),
}


def _stopwords_to_grpc(sw: Any) -> q.StopwordsSet | None:
    if sw is None:
        return None
    if isinstance(sw, m.StopwordsSet):
        return q.StopwordsSet(
            languages=[getattr(x, "value", x) for x in sw.languages or []], custom=list(sw.custom or [])
        )
    return q.StopwordsSet(languages=[getattr(sw, "value", sw)])


def _stopwords_from_grpc(sw: q.StopwordsSet | None) -> Any:
    """A single language and nothing else reads back as the bare ``Language`` (REST's short form)."""
    if sw is None:
        return None
    if len(sw.languages) == 1 and not sw.custom:
        return m.Language(sw.languages[0])
    return m.StopwordsSet(
        languages=[m.Language(x) for x in sw.languages] or None, custom=list(sw.custom) or None
    )


def _stemmer_to_grpc(st: Any) -> q.StemmingAlgorithm | None:
    if st is None:
        return None
    if isinstance(st, m.SnowballParams):
        return q.StemmingAlgorithm(
            snowball=q.SnowballParams(language=getattr(st.language, "value", st.language))
        )
    return q.StemmingAlgorithm(disabled=q.DisabledStemmer())


def _stemmer_from_grpc(st: q.StemmingAlgorithm | None) -> Any:
    if st is None:
        return None
    if betterproto_which(st, "stemming_params") == "snowball":
        return m.SnowballParams(type=m.Snowball.SNOWBALL, language=m.SnowballLanguage(st.snowball.language))
    return m.DisabledStemmerParams(type=next(iter(m.NoStemmer)))


@_quiet
def field_index_to_grpc(schema: Any) -> tuple[Any, q.PayloadIndexParams | None]:
    """``field_schema`` -> (FieldType, PayloadIndexParams or None)."""
    if schema is None:
        return None, None
    kind = getattr(schema, "type", None)
    if kind is None:  # a bare PayloadSchemaType
        return _INDEX_KINDS[getattr(schema, "value", schema)][0], None
    field_type, params_field, _ = _INDEX_KINDS[getattr(kind, "value", kind)]
    params_cls = getattr(q, "".join(w.title() for w in params_field.split("_")))
    extra: dict[str, Any] = {}
    if isinstance(schema, m.TextIndexParams):
        extra = {
            "stopwords": _stopwords_to_grpc(schema.stopwords),
            "stemmer": _stemmer_to_grpc(schema.stemmer),
        }
    if getattr(schema, "prefix", None):  # a bool in REST, an empty message in gRPC
        extra["prefix"] = q.KeywordPrefixParams()
    params = _diff_to_grpc(schema, params_cls, skip=("type", "stopwords", "stemmer", "prefix"))
    for k, v in extra.items():
        setattr(params, k, v)
    return field_type, q.PayloadIndexParams(**{params_field: params})


@_quiet
def field_index_from_grpc(field_type: Any, params: q.PayloadIndexParams | None) -> Any:
    if params is not None:
        params_field = betterproto_which(params, "index_params")
        if params_field is not None:
            kind, (_, _, model_name) = next((k, v) for k, v in _INDEX_KINDS.items() if v[1] == params_field)
            msg = getattr(params, params_field)
            model_cls = getattr(m, model_name)
            values = _diff_from_grpc(msg, model_cls, as_dict=True)
            if params_field == "text_index_params":
                values["stopwords"] = _stopwords_from_grpc(msg.stopwords)
                values["stemmer"] = _stemmer_from_grpc(msg.stemmer)
            if params_field == "keyword_index_params":  # prefix=false is the default, read as unset
                values["prefix"] = True if msg.prefix is not None else None
            kind_enum = typing.get_type_hints(model_cls)["type"]
            return model_cls(type=kind_enum(kind), **{k: v for k, v in values.items() if v is not None})
    if field_type is None:
        return None
    return m.PayloadSchemaType(next(k for k, v in _INDEX_KINDS.items() if v[0] == field_type))


def alias_operation_to_grpc(a: Any) -> q.AliasOperations:
    if isinstance(a, m.CreateAliasOperation):
        c = a.create_alias
        return q.AliasOperations(
            create_alias=q.CreateAlias(collection_name=c.collection_name, alias_name=c.alias_name)
        )
    if isinstance(a, m.RenameAliasOperation):
        r = a.rename_alias
        return q.AliasOperations(
            rename_alias=q.RenameAlias(old_alias_name=r.old_alias_name, new_alias_name=r.new_alias_name)
        )
    if isinstance(a, m.DeleteAliasOperation):
        return q.AliasOperations(delete_alias=q.DeleteAlias(alias_name=a.delete_alias.alias_name))
    raise _unsupported(f"alias operation {type(a).__name__}")


def alias_operation_from_grpc(a: q.AliasOperations) -> Any:
    kind = betterproto_which(a, "action")
    if kind == "create_alias":
        c = a.create_alias
        return m.CreateAliasOperation(
            create_alias=m.CreateAlias(collection_name=c.collection_name, alias_name=c.alias_name)
        )
    if kind == "rename_alias":
        r = a.rename_alias
        return m.RenameAliasOperation(
            rename_alias=m.RenameAlias(old_alias_name=r.old_alias_name, new_alias_name=r.new_alias_name)
        )
    if kind == "delete_alias":
        return m.DeleteAliasOperation(delete_alias=m.DeleteAlias(alias_name=a.delete_alias.alias_name))
    raise _unsupported(f"alias operation {kind}")


def aliases_to_grpc(res: m.CollectionsAliasesResponse, elapsed: float = 0.0) -> q.ListAliasesResponse:
    return q.ListAliasesResponse(
        aliases=[
            q.AliasDescription(alias_name=a.alias_name, collection_name=a.collection_name)
            for a in res.aliases
        ],
        time=elapsed,
    )


def aliases_from_grpc(msg: q.ListAliasesResponse) -> m.CollectionsAliasesResponse:
    return m.CollectionsAliasesResponse(
        aliases=[
            m.AliasDescription(alias_name=a.alias_name, collection_name=a.collection_name)
            for a in msg.aliases
        ]
    )


@_quiet
def quantization_to_grpc(qc: Any, diff: bool = False) -> Any:
    """Scalar/product/binary quantization as ``QuantizationConfig`` (``QuantizationConfigDiff``
    with ``diff``, which also takes ``Disabled``)."""
    if qc is None:
        return None
    cls = q.QuantizationConfigDiff if diff else q.QuantizationConfig
    mem = _enum_to_grpc
    if isinstance(qc, m.ScalarQuantization):
        s = qc.scalar
        return cls(
            scalar=q.ScalarQuantization(
                type=mem(s.type, q.QuantizationType),
                quantile=s.quantile,
                always_ram=s.always_ram,
                memory=mem(s.memory, q.Memory) if s.memory is not None else None,
            )
        )
    if isinstance(qc, m.ProductQuantization):
        p = qc.product
        return cls(
            product=q.ProductQuantization(
                compression=mem(p.compression, q.CompressionRatio),
                always_ram=p.always_ram,
                memory=mem(p.memory, q.Memory) if p.memory is not None else None,
            )
        )
    if isinstance(qc, m.BinaryQuantization):
        b = qc.binary
        return cls(
            binary=q.BinaryQuantization(
                always_ram=b.always_ram,
                encoding=mem(b.encoding, q.BinaryQuantizationEncoding) if b.encoding is not None else None,
                query_encoding=q.BinaryQuantizationQueryEncoding(
                    setting=mem(b.query_encoding, q.BinaryQuantizationQueryEncodingSetting)
                )
                if b.query_encoding is not None
                else None,
                memory=mem(b.memory, q.Memory) if b.memory is not None else None,
            )
        )
    if isinstance(qc, m.TurboQuantization):
        t = qc.turbo
        return cls(
            turboquant=q.TurboQuantization(
                always_ram=t.always_ram,
                bits=mem(t.bits, q.TurboQuantBitSize) if t.bits is not None else None,
                memory=mem(t.memory, q.Memory) if t.memory is not None else None,
            )
        )
    if diff and qc == m.Disabled.DISABLED:
        return cls(disabled=q.Disabled())
    raise _unsupported(f"quantization {type(qc).__name__}")


@_quiet
def quantization_from_grpc(qc: Any) -> Any:
    if qc is None:
        return None
    kind = betterproto_which(qc, "quantization")

    def opt_enum(v: Any, enum: type) -> Any:
        return _enum_from_grpc(v, enum) if v is not None else None

    if kind == "scalar":
        s = qc.scalar
        return m.ScalarQuantization(
            scalar=m.ScalarQuantizationConfig(
                type=_enum_from_grpc(s.type, m.ScalarType),
                quantile=s.quantile,
                always_ram=s.always_ram,
                memory=opt_enum(s.memory, m.Memory),
            )
        )
    if kind == "product":
        p = qc.product
        return m.ProductQuantization(
            product=m.ProductQuantizationConfig(
                compression=_enum_from_grpc(p.compression, m.CompressionRatio),
                always_ram=p.always_ram,
                memory=opt_enum(p.memory, m.Memory),
            )
        )
    if kind == "binary":
        b = qc.binary
        return m.BinaryQuantization(
            binary=m.BinaryQuantizationConfig(
                always_ram=b.always_ram,
                encoding=opt_enum(b.encoding, m.BinaryQuantizationEncoding),
                query_encoding=opt_enum(b.query_encoding.setting, m.BinaryQuantizationQueryEncoding)
                if b.query_encoding is not None
                else None,
                memory=opt_enum(b.memory, m.Memory),
            )
        )
    if kind == "turboquant":
        t = qc.turboquant
        return m.TurboQuantization(
            turbo=m.TurboQuantQuantizationConfig(
                always_ram=t.always_ram,
                bits=opt_enum(t.bits, m.TurboQuantBitSize),
                memory=opt_enum(t.memory, m.Memory),
            )
        )
    if kind == "disabled":
        return m.Disabled.DISABLED
    raise _unsupported(f"quantization {kind}")


@_quiet
def sparse_vector_params_to_grpc(p: m.SparseVectorParams) -> q.SparseVectorParams:
    return q.SparseVectorParams(
        index=_diff_to_grpc(p.index, q.SparseIndexConfig),
        modifier=_enum_to_grpc(p.modifier, q.Modifier) if p.modifier is not None else None,
    )


@_quiet
def sparse_vector_params_from_grpc(p: q.SparseVectorParams) -> m.SparseVectorParams:
    return m.SparseVectorParams(
        index=_diff_from_grpc(p.index, m.SparseIndexParams),
        modifier=_enum_from_grpc(p.modifier, m.Modifier) if p.modifier is not None else None,
    )


def sparse_vectors_config_to_grpc(sv: Mapping[str, Any] | None) -> q.SparseVectorConfig | None:
    if sv is None:
        return None
    return q.SparseVectorConfig(map={k: sparse_vector_params_to_grpc(v) for k, v in sv.items()})


def sparse_vectors_config_from_grpc(sv: q.SparseVectorConfig | None) -> dict[str, Any] | None:
    if sv is None:
        return None
    return {k: sparse_vector_params_from_grpc(v) for k, v in sv.map.items()}


def _vector_params_diff_to_grpc(d: m.VectorParamsDiff) -> q.VectorParamsDiff:
    return q.VectorParamsDiff(
        hnsw_config=_diff_to_grpc(d.hnsw_config, q.HnswConfigDiff),
        quantization_config=quantization_to_grpc(d.quantization_config, diff=True),
        on_disk=d.on_disk,
        memory=_enum_to_grpc(d.memory, q.Memory) if d.memory is not None else None,
    )


def _vector_params_diff_from_grpc(d: q.VectorParamsDiff) -> m.VectorParamsDiff:
    return m.VectorParamsDiff(
        hnsw_config=_diff_from_grpc(d.hnsw_config, m.HnswConfigDiff),
        quantization_config=quantization_from_grpc(d.quantization_config),
        on_disk=d.on_disk,
        memory=_enum_from_grpc(d.memory, m.Memory) if d.memory is not None else None,
    )


@_quiet
def update_collection_to_grpc(
    name: str, body: m.UpdateCollection, timeout: int | None = None
) -> q.UpdateCollection:
    # REST names the unnamed vector "" in this map, as the server does for gRPC's params_map
    vectors = (
        q.VectorsConfigDiff(
            params_map=q.VectorParamsDiffMap(
                map={k: _vector_params_diff_to_grpc(v) for k, v in body.vectors.items()}
            )
        )
        if body.vectors is not None
        else None
    )
    return q.UpdateCollection(
        collection_name=name,
        optimizers_config=optimizers_diff_to_grpc(body.optimizers_config),
        timeout=timeout,
        params=_params_diff_to_grpc(body.params),
        strict_mode_config=strict_mode_to_grpc(body.strict_mode_config),
        hnsw_config=_diff_to_grpc(body.hnsw_config, q.HnswConfigDiff),
        vectors_config=vectors,
        quantization_config=quantization_to_grpc(body.quantization_config, diff=True),
        sparse_vectors_config=sparse_vectors_config_to_grpc(body.sparse_vectors),
        metadata=payload_to_grpc(body.metadata),
    )


@_quiet
def update_collection_from_grpc(msg: q.UpdateCollection) -> m.UpdateCollection:
    vectors = None
    if msg.vectors_config is not None:
        if betterproto_which(msg.vectors_config, "config") == "params":
            vectors = {"": _vector_params_diff_from_grpc(msg.vectors_config.params)}
        else:
            vectors = {
                k: _vector_params_diff_from_grpc(v) for k, v in msg.vectors_config.params_map.map.items()
            }
    return m.UpdateCollection(
        vectors=vectors,
        optimizers_config=optimizers_diff_from_grpc(msg.optimizers_config),
        params=_params_diff_from_grpc(msg.params),
        strict_mode_config=strict_mode_from_grpc(msg.strict_mode_config),
        hnsw_config=_diff_from_grpc(msg.hnsw_config, m.HnswConfigDiff),
        quantization_config=quantization_from_grpc(msg.quantization_config),
        sparse_vectors=sparse_vectors_config_from_grpc(msg.sparse_vectors_config),
        metadata=payload_from_grpc(msg.metadata) or None,
    )


def _params_diff_to_grpc(p: m.CollectionParamsDiff | None) -> q.CollectionParamsDiff | None:
    if p is None:
        return None
    msg = _diff_to_grpc(p, q.CollectionParamsDiff, skip=("payload",))
    msg.payload = _payload_storage_to_grpc(p.payload)
    return msg


def _params_diff_from_grpc(msg: q.CollectionParamsDiff | None) -> m.CollectionParamsDiff | None:
    if msg is None:
        return None
    values = _diff_from_grpc(msg, m.CollectionParamsDiff, as_dict=True)
    values["payload"] = _payload_storage_from_grpc(msg.payload)
    return m.CollectionParamsDiff(**values)


def lookup_location_to_grpc(loc: m.LookupLocation | None) -> q.LookupLocation | None:
    if loc is None:
        return None
    return q.LookupLocation(
        collection_name=loc.collection,
        vector_name=loc.vector,
        shard_key_selector=shard_key_selector_to_grpc(loc.shard_key),
    )


def lookup_location_from_grpc(loc: q.LookupLocation | None) -> m.LookupLocation | None:
    if loc is None:
        return None
    return m.LookupLocation(
        collection=loc.collection_name,
        vector=loc.vector_name,
        shard_key=shard_key_selector_from_grpc(loc.shard_key_selector),
    )


def query_points_to_grpc(name: str, body: m.QueryRequest, query: Mapping[str, Any]) -> q.QueryPoints:
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
        lookup_from=lookup_location_to_grpc(body.lookup_from),
        **_read_fields(query),
    )


def query_points_from_grpc(msg: q.QueryPoints) -> m.QueryRequest:
    return m.QueryRequest(
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
        lookup_from=lookup_location_from_grpc(msg.lookup_from),
        shard_key=shard_key_selector_from_grpc(msg.shard_key_selector),
    )


def query_groups_to_grpc(
    name: str, body: m.QueryGroupsRequest, query: Mapping[str, Any]
) -> q.QueryPointGroups:
    wl = body.with_lookup
    if isinstance(wl, str):
        wl = m.WithLookup(collection=wl)
    return q.QueryPointGroups(
        collection_name=name,
        prefetch=[prefetch_to_grpc(p) for p in _conditions(body.prefetch)],
        query=query_to_grpc(body.query),
        using=body.using,
        filter=filter_to_grpc(body.filter),
        params=search_params_to_grpc(body.params),
        score_threshold=body.score_threshold,
        with_payload=with_payload_to_grpc(body.with_payload),
        with_vectors=with_vectors_to_grpc(body.with_vector),
        lookup_from=lookup_location_to_grpc(body.lookup_from),
        limit=body.limit,
        group_size=body.group_size,
        group_by=body.group_by,
        with_lookup=q.WithLookup(
            collection=wl.collection,
            with_payload=with_payload_to_grpc(wl.with_payload),
            with_vectors=with_vectors_to_grpc(wl.with_vectors),
        )
        if wl is not None
        else None,
        shard_key_selector=shard_key_selector_to_grpc(body.shard_key),
        **_read_fields(query),
    )


def query_groups_from_grpc(msg: q.QueryPointGroups) -> m.QueryGroupsRequest:
    wl: Any = None
    if msg.with_lookup is not None:
        w = msg.with_lookup
        if w.with_payload is None and w.with_vectors is None:
            wl = w.collection  # REST's short form
        else:
            wl = m.WithLookup(
                collection=w.collection,
                with_payload=with_payload_from_grpc(w.with_payload),
                with_vectors=with_vectors_from_grpc(w.with_vectors),
            )
    return m.QueryGroupsRequest(
        prefetch=[prefetch_from_grpc(p) for p in msg.prefetch] or None,
        query=query_from_grpc(msg.query),
        using=msg.using,
        filter=filter_from_grpc(msg.filter),
        params=search_params_from_grpc(msg.params),
        score_threshold=msg.score_threshold,
        with_payload=with_payload_from_grpc(msg.with_payload),
        with_vector=with_vectors_from_grpc(msg.with_vectors),
        lookup_from=lookup_location_from_grpc(msg.lookup_from),
        limit=msg.limit,
        group_size=msg.group_size,
        group_by=msg.group_by,
        with_lookup=wl,
        shard_key=shard_key_selector_from_grpc(msg.shard_key_selector),
    )


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


def _matrix_request_to_grpc(
    name: str, body: m.SearchMatrixRequest, query: Mapping[str, Any]
) -> q.SearchMatrixPoints:
    body = body or m.SearchMatrixRequest()
    return q.SearchMatrixPoints(
        collection_name=name,
        filter=filter_to_grpc(body.filter),
        sample=body.sample,
        limit=body.limit,
        using=body.using,
        shard_key_selector=shard_key_selector_to_grpc(body.shard_key),
        **_read_fields(query),
    )


def _matrix_request_from_grpc(msg: q.SearchMatrixPoints) -> m.SearchMatrixRequest:
    return m.SearchMatrixRequest(
        filter=filter_from_grpc(msg.filter),
        sample=msg.sample,
        limit=msg.limit,
        using=msg.using,
        shard_key=shard_key_selector_from_grpc(msg.shard_key_selector),
    )


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


_SNAPSHOT_TIME = "%Y-%m-%dT%H:%M:%S"  # REST's creation_time: UTC, no zone, no fraction


def snapshot_to_grpc(s: m.SnapshotDescription) -> q.SnapshotDescription:
    import datetime as dt

    created = None
    if s.creation_time is not None:
        created = dt.datetime.fromisoformat(s.creation_time)
        created = created.replace(tzinfo=dt.timezone.utc) if created.tzinfo is None else created
    return q.SnapshotDescription(name=s.name, creation_time=created, size=s.size, checksum=s.checksum)


def snapshot_from_grpc(s: q.SnapshotDescription) -> m.SnapshotDescription:
    import datetime as dt

    created = None
    if s.creation_time is not None:
        created = s.creation_time.astimezone(dt.timezone.utc).strftime(_SNAPSHOT_TIME)
    return m.SnapshotDescription(name=s.name, creation_time=created, size=s.size, checksum=s.checksum)


def _snapshot_wait(query: Mapping[str, Any]) -> None:
    if query.get("wait") is False:  # a gRPC snapshot call always waits
        raise _unsupported("snapshot with wait=false")


# -- request builders: (path_params, query, body) -> message


def _coll(path: Mapping[str, Any]) -> str:
    return path.get("collection_name", "")


def _rq_update_vectors(path: Mapping[str, Any], query: Mapping[str, Any], body: Any) -> q.UpdatePointVectors:
    return q.UpdatePointVectors(
        collection_name=_coll(path),
        points=[point_vectors_to_grpc(p) for p in body.points],
        shard_key_selector=shard_key_selector_to_grpc(body.shard_key),
        update_filter=filter_to_grpc(body.update_filter),
        **_write_fields(query),
    )


def _rq_delete_vectors(path: Mapping[str, Any], query: Mapping[str, Any], body: Any) -> q.DeletePointVectors:
    return q.DeletePointVectors(
        collection_name=_coll(path),
        points_selector=_selector_of(body),
        vectors=q.VectorsSelector(names=list(body.vector)),
        shard_key_selector=shard_key_selector_to_grpc(body.shard_key),
        **_write_fields(query),
    )


def _rq_batch_update(path: Mapping[str, Any], query: Mapping[str, Any], body: Any) -> q.UpdateBatchPoints:
    return q.UpdateBatchPoints(
        collection_name=_coll(path),
        operations=[_update_operation_to_grpc(o) for o in body.operations],
        **_write_fields(query),
    )


def _rq_create_field_index(path: Mapping[str, Any], query: Mapping[str, Any], body: Any) -> Any:
    field_type, params = field_index_to_grpc(body.field_schema)
    return q.CreateFieldIndexCollection(
        collection_name=_coll(path),
        field_name=body.field_name,
        field_type=field_type,
        field_index_params=params,
        **_write_fields(query),
    )


def _rq_delete_field_index(path: Mapping[str, Any], query: Mapping[str, Any], body: Any) -> Any:
    return q.DeleteFieldIndexCollection(
        collection_name=_coll(path), field_name=path["field_name"], **_write_fields(query)
    )


def _rq_snapshot(cls: type, *path_fields: str) -> Any:
    def build(path: Mapping[str, Any], query: Mapping[str, Any], body: Any) -> Any:
        _snapshot_wait(query)
        return cls(**{f: path[f] for f in path_fields})

    return build


_MORE_REQUESTS: dict[str, Any] = {
    "collection_cluster_info": lambda path, query, body: q.CollectionClusterInfoRequest(
        collection_name=_coll(path)
    ),
    "update_collection_cluster": lambda path, query, body: cluster_operation_to_grpc(
        _coll(path), body, query.get("timeout")
    ),
    "create_shard_key": lambda path, query, body: _create_shard_key_to_grpc(path, query, body),
    "delete_shard_key": lambda path, query, body: q.DeleteShardKeyRequest(
        collection_name=_coll(path),
        request=q.DeleteShardKey(shard_key=shard_key_to_grpc(body.shard_key)),
        timeout=query.get("timeout"),
    ),
    "list_shard_keys": lambda path, query, body: q.ListShardKeysRequest(collection_name=_coll(path)),
    "update_vectors": _rq_update_vectors,
    "delete_vectors": _rq_delete_vectors,
    "batch_update": _rq_batch_update,
    "create_field_index": _rq_create_field_index,
    "delete_field_index": _rq_delete_field_index,
    "update_aliases": lambda path, query, body: q.ChangeAliases(
        actions=[alias_operation_to_grpc(a) for a in body.actions], timeout=query.get("timeout")
    ),
    "get_collections_aliases": lambda path, query, body: q.ListAliasesRequest(),
    "get_collection_aliases": lambda path, query, body: q.ListCollectionAliasesRequest(
        collection_name=_coll(path)
    ),
    "update_collection": lambda path, query, body: update_collection_to_grpc(
        _coll(path), body or m.UpdateCollection(), query.get("timeout")
    ),
    "query_batch_points": lambda path, query, body: q.QueryBatchPoints(
        collection_name=_coll(path),
        # each query carries the collection too; the batch's own fields rule
        query_points=[query_points_to_grpc(_coll(path), r, {}) for r in body.searches],
        **_read_fields(query),
    ),
    "query_points_groups": lambda path, query, body: query_groups_to_grpc(_coll(path), body, query),
    "facet": lambda path, query, body: q.FacetCounts(
        collection_name=_coll(path),
        key=body.key,
        filter=filter_to_grpc(body.filter),
        limit=body.limit,
        exact=body.exact,
        shard_key_selector=shard_key_selector_to_grpc(body.shard_key),
        **_read_fields(query),
    ),
    "search_matrix_pairs": lambda path, query, body: _matrix_request_to_grpc(_coll(path), body, query),
    "search_matrix_offsets": lambda path, query, body: _matrix_request_to_grpc(_coll(path), body, query),
    "list_snapshots": _rq_snapshot(q.ListSnapshotsRequest, "collection_name"),
    "create_snapshot": _rq_snapshot(q.CreateSnapshotRequest, "collection_name"),
    "delete_snapshot": _rq_snapshot(q.DeleteSnapshotRequest, "collection_name", "snapshot_name"),
    "list_full_snapshots": _rq_snapshot(q.ListFullSnapshotsRequest),
    "create_full_snapshot": _rq_snapshot(q.CreateFullSnapshotRequest),
    "delete_full_snapshot": _rq_snapshot(q.DeleteFullSnapshotRequest, "snapshot_name"),
}

#: operations whose reply is a ``PointsOperationResponse`` (an ``UpdateResult``)
_UPDATE_OPS = frozenset(
    {
        "upsert_points",
        "delete_points",
        "set_payload",
        "overwrite_payload",
        "delete_payload",
        "clear_payload",
        "update_vectors",
        "delete_vectors",
        "create_field_index",
        "delete_field_index",
    }
)
#: operations whose reply is a ``CollectionOperationResponse`` (a bool)
_COLLECTION_OPS = frozenset({"create_collection", "delete_collection", "update_collection", "update_aliases"})

# -- reply readers: reply message -> REST result

_MORE_RESULTS: dict[str, Any] = {
    "collection_cluster_info": lambda r: cluster_info_from_grpc(r),
    "update_collection_cluster": lambda r: r.result,
    "create_shard_key": lambda r: r.result,
    "delete_shard_key": lambda r: r.result,
    "list_shard_keys": lambda r: m.ShardKeysResponse(
        shard_keys=[m.ShardKeyDescription(key=shard_key_from_grpc(k.key)) for k in r.shard_keys]
    ),
    "batch_update": lambda r: [update_result_from_grpc(x) for x in r.result],
    "get_collections_aliases": aliases_from_grpc,
    "get_collection_aliases": aliases_from_grpc,
    "query_batch_points": lambda r: [
        m.QueryResponse(points=[scored_point_from_grpc(p) for p in b.result]) for b in r.result
    ],
    "query_points_groups": lambda r: groups_result_from_grpc(r.result),
    "facet": facet_response_from_grpc,
    "search_matrix_pairs": lambda r: matrix_pairs_from_grpc(r.result),
    "search_matrix_offsets": lambda r: matrix_offsets_from_grpc(r.result),
    "list_snapshots": lambda r: [snapshot_from_grpc(s) for s in r.snapshot_descriptions],
    "list_full_snapshots": lambda r: [snapshot_from_grpc(s) for s in r.snapshot_descriptions],
    "create_snapshot": lambda r: snapshot_from_grpc(r.snapshot_description),
    "create_full_snapshot": lambda r: snapshot_from_grpc(r.snapshot_description),
    "delete_snapshot": lambda r: True,
    "delete_full_snapshot": lambda r: True,
}

# -- server side: request message -> (path_params, query, body)


def _rd_create_field_index(msg: Any) -> tuple[dict[str, Any], Any]:
    schema = field_index_from_grpc(msg.field_type, msg.field_index_params)
    return {}, m.CreateFieldIndex(field_name=msg.field_name, field_schema=schema)


_MORE_READERS: dict[str, Any] = {
    # op -> msg -> (extra path params, body); the query comes from the message's common fields
    "create_shard_key": lambda msg: _create_shard_key_from_grpc(msg),
    "delete_shard_key": lambda msg: (
        {},
        m.DropShardingKey(shard_key=shard_key_from_grpc((msg.request or q.DeleteShardKey()).shard_key)),
    ),
    "list_shard_keys": lambda msg: ({}, None),
    "collection_cluster_info": lambda msg: ({}, None),
    "update_collection_cluster": lambda msg: ({}, cluster_operation_from_grpc(msg)),
    "update_vectors": lambda msg: (
        {},
        m.UpdateVectors(
            points=[point_vectors_from_grpc(p) for p in msg.points],
            shard_key=shard_key_selector_from_grpc(msg.shard_key_selector),
            update_filter=filter_from_grpc(msg.update_filter),
        ),
    ),
    "delete_vectors": lambda msg: (
        {},
        m.DeleteVectors(
            vector=list(msg.vectors.names) if msg.vectors is not None else [],
            shard_key=shard_key_selector_from_grpc(msg.shard_key_selector),
            **_selector_fields(msg.points_selector),
        ),
    ),
    "batch_update": lambda msg: (
        {},
        m.UpdateOperations(operations=[_update_operation_from_grpc(o) for o in msg.operations]),
    ),
    "create_field_index": _rd_create_field_index,
    "delete_field_index": lambda msg: ({"field_name": msg.field_name}, None),
    "update_aliases": lambda msg: (
        {},
        m.ChangeAliasesOperation(actions=[alias_operation_from_grpc(a) for a in msg.actions]),
    ),
    "get_collections_aliases": lambda msg: ({}, None),
    "get_collection_aliases": lambda msg: ({}, None),
    "update_collection": lambda msg: ({}, update_collection_from_grpc(msg)),
    "query_batch_points": lambda msg: (
        {},
        m.QueryRequestBatch(searches=[_one_batch_query(x) for x in msg.query_points]),
    ),
    "query_points_groups": lambda msg: ({}, query_groups_from_grpc(msg)),
    "facet": lambda msg: (
        {},
        m.FacetRequest(
            key=msg.key,
            filter=filter_from_grpc(msg.filter),
            limit=msg.limit,
            exact=msg.exact,
            shard_key=shard_key_selector_from_grpc(msg.shard_key_selector),
        ),
    ),
    "search_matrix_pairs": lambda msg: ({}, _matrix_request_from_grpc(msg)),
    "search_matrix_offsets": lambda msg: ({}, _matrix_request_from_grpc(msg)),
    "list_snapshots": lambda msg: ({}, None),
    "create_snapshot": lambda msg: ({}, None),
    "delete_snapshot": lambda msg: ({"snapshot_name": msg.snapshot_name}, None),
    "list_full_snapshots": lambda msg: ({}, None),
    "create_full_snapshot": lambda msg: ({}, None),
    "delete_full_snapshot": lambda msg: ({"snapshot_name": msg.snapshot_name}, None),
}

_SNAPSHOT_OPS = frozenset(
    {"create_snapshot", "delete_snapshot", "create_full_snapshot", "delete_full_snapshot"}
)


def _one_batch_query(msg: q.QueryPoints) -> m.QueryRequest:
    if msg.read_consistency is not None or msg.timeout is not None:
        raise _unsupported("per-query read_consistency/timeout inside a query batch")
    return query_points_from_grpc(msg)


def _more_request_from_grpc(op_name: str, msg: Any) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """(extra path parameters, query, body) of the operations in ``_MORE_READERS``."""
    extra_path, body = _MORE_READERS[op_name](msg)
    if op_name in _SNAPSHOT_OPS:
        query: dict[str, Any] = {"wait": True}
    elif hasattr(msg, "read_consistency"):
        query = _read_query(msg)
    else:
        query = _write_query(msg)
    return extra_path, query, body


# -- server side: REST result -> reply message

_MORE_REPLIES: dict[str, Any] = {
    "collection_cluster_info": lambda r, t: cluster_info_to_grpc(r, t),
    "update_collection_cluster": lambda r, t: q.UpdateCollectionClusterSetupResponse(result=bool(r), time=t),
    "create_shard_key": lambda r, t: q.CreateShardKeyResponse(result=bool(r), time=t),
    "delete_shard_key": lambda r, t: q.DeleteShardKeyResponse(result=bool(r), time=t),
    "list_shard_keys": lambda r, t: q.ListShardKeysResponse(
        shard_keys=[q.ShardKeyDescription(key=shard_key_to_grpc(k.key)) for k in r.shard_keys or []], time=t
    ),
    "batch_update": lambda r, t: q.UpdateBatchResponse(result=[update_result_to_grpc(x) for x in r], time=t),
    "get_collections_aliases": aliases_to_grpc,
    "get_collection_aliases": aliases_to_grpc,
    "query_batch_points": lambda r, t: q.QueryBatchResponse(
        result=[q.BatchResult(result=[scored_point_to_grpc(p) for p in x.points]) for x in r], time=t
    ),
    "query_points_groups": lambda r, t: q.QueryGroupsResponse(result=groups_result_to_grpc(r), time=t),
    "facet": facet_response_to_grpc,
    "search_matrix_pairs": lambda r, t: q.SearchMatrixPairsResponse(result=matrix_pairs_to_grpc(r), time=t),
    "search_matrix_offsets": lambda r, t: q.SearchMatrixOffsetsResponse(
        result=matrix_offsets_to_grpc(r), time=t
    ),
    "list_snapshots": lambda r, t: q.ListSnapshotsResponse(
        snapshot_descriptions=[snapshot_to_grpc(s) for s in r], time=t
    ),
    "list_full_snapshots": lambda r, t: q.ListSnapshotsResponse(
        snapshot_descriptions=[snapshot_to_grpc(s) for s in r], time=t
    ),
    "create_snapshot": lambda r, t: q.CreateSnapshotResponse(
        snapshot_description=snapshot_to_grpc(r), time=t
    ),
    "create_full_snapshot": lambda r, t: q.CreateSnapshotResponse(
        snapshot_description=snapshot_to_grpc(r), time=t
    ),
    "delete_snapshot": lambda r, t: q.DeleteSnapshotResponse(time=t),
    "delete_full_snapshot": lambda r, t: q.DeleteSnapshotResponse(time=t),
}


# --------------------------------------------------------------------------- geo, datetime, formulas


def _geo_point_to_grpc(p: m.GeoPoint) -> q.GeoPoint:
    return q.GeoPoint(lon=p.lon, lat=p.lat)


def _geo_point_from_grpc(p: q.GeoPoint) -> m.GeoPoint:
    return m.GeoPoint(lon=p.lon, lat=p.lat)


def _line_to_grpc(line: m.GeoLineString) -> q.GeoLineString:
    return q.GeoLineString(points=[_geo_point_to_grpc(p) for p in line.points])


def _line_from_grpc(line: q.GeoLineString) -> m.GeoLineString:
    return m.GeoLineString(points=[_geo_point_from_grpc(p) for p in line.points])


def _geo_to_grpc(c: m.FieldCondition) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if c.geo_radius is not None:
        out["geo_radius"] = q.GeoRadius(
            center=_geo_point_to_grpc(c.geo_radius.center), radius=c.geo_radius.radius
        )
    if c.geo_bounding_box is not None:
        b = c.geo_bounding_box
        out["geo_bounding_box"] = q.GeoBoundingBox(
            top_left=_geo_point_to_grpc(b.top_left), bottom_right=_geo_point_to_grpc(b.bottom_right)
        )
    if c.geo_polygon is not None:
        out["geo_polygon"] = q.GeoPolygon(
            exterior=_line_to_grpc(c.geo_polygon.exterior),
            interiors=[_line_to_grpc(x) for x in c.geo_polygon.interiors or []],
        )
    return out


def _geo_from_grpc(f: q.FieldCondition) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if f.geo_radius is not None:
        out["geo_radius"] = m.GeoRadius(
            center=_geo_point_from_grpc(f.geo_radius.center), radius=f.geo_radius.radius
        )
    if f.geo_bounding_box is not None:
        b = f.geo_bounding_box
        out["geo_bounding_box"] = m.GeoBoundingBox(
            top_left=_geo_point_from_grpc(b.top_left), bottom_right=_geo_point_from_grpc(b.bottom_right)
        )
    if f.geo_polygon is not None:
        out["geo_polygon"] = m.GeoPolygon(
            exterior=_line_from_grpc(f.geo_polygon.exterior),
            interiors=[_line_from_grpc(x) for x in f.geo_polygon.interiors] or None,
        )
    return out


def _timestamp_to_grpc(s: Any) -> Any:
    """An RFC 3339 string (or a ``datetime`` / ``date``, as the official client's users pass them)
    as a datetime (protobuf Timestamp); a zone-less one is UTC, as on the server."""
    if s is None:
        return None
    import datetime as dt

    if isinstance(s, dt.date) and not isinstance(s, dt.datetime):
        s = dt.datetime(s.year, s.month, s.day)
    if isinstance(s, dt.datetime):
        return s.replace(tzinfo=dt.timezone.utc) if s.tzinfo is None else s
    try:
        t = dt.datetime.fromisoformat(s[:-1] + "+00:00" if s.endswith(("Z", "z")) else s)
    except ValueError:  # a form Python does not read (the server reads more): REST sends it as is
        raise _unsupported(f"the datetime {s!r}") from None
    return t.replace(tzinfo=dt.timezone.utc) if t.tzinfo is None else t


def _timestamp_from_grpc(t: Any) -> str | None:
    return None if t is None else t.isoformat()


def _datetime_range_to_grpc(r: m.DatetimeRange) -> q.DatetimeRange:
    return q.DatetimeRange(
        lt=_timestamp_to_grpc(r.lt),
        gt=_timestamp_to_grpc(r.gt),
        gte=_timestamp_to_grpc(r.gte),
        lte=_timestamp_to_grpc(r.lte),
    )


def _datetime_range_from_grpc(r: q.DatetimeRange) -> m.DatetimeRange:
    return m.DatetimeRange(
        lt=_timestamp_from_grpc(r.lt),
        gt=_timestamp_from_grpc(r.gt),
        gte=_timestamp_from_grpc(r.gte),
        lte=_timestamp_from_grpc(r.lte),
    )


# unary expressions: model class, its field, the proto field (the same name)
_UNARY_EXPRESSIONS: dict[str, type] = {
    "neg": m.NegExpression,
    "abs": m.AbsExpression,
    "sqrt": m.SqrtExpression,
    "exp": m.ExpExpression,
    "log10": m.Log10Expression,
    "ln": m.LnExpression,
}
_DECAY_EXPRESSIONS: dict[str, type] = {
    "lin_decay": m.LinDecayExpression,
    "exp_decay": m.ExpDecayExpression,
    "gauss_decay": m.GaussDecayExpression,
}


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


# --------------------------------------------------------------------------- strict mode, inference objects


@_quiet
def strict_mode_to_grpc(sm: m.StrictModeConfig | None) -> q.StrictModeConfig | None:
    if sm is None:
        return None
    msg = _diff_to_grpc(sm, q.StrictModeConfig, skip=("multivector_config", "sparse_config"))
    if sm.multivector_config is not None:
        msg.multivector_config = q.StrictModeMultivectorConfig(
            multivector_config={
                k: q.StrictModeMultivector(max_vectors=v.max_vectors)
                for k, v in sm.multivector_config.items()
            }
        )
    if sm.sparse_config is not None:
        msg.sparse_config = q.StrictModeSparseConfig(
            sparse_config={
                k: q.StrictModeSparse(max_length=v.max_length) for k, v in sm.sparse_config.items()
            }
        )
    return msg


@_quiet
def strict_mode_from_grpc(msg: q.StrictModeConfig | None) -> m.StrictModeConfig | None:
    if msg is None:
        return None
    values = _diff_from_grpc(msg, m.StrictModeConfig, as_dict=True)
    values["multivector_config"] = (
        {
            k: m.StrictModeMultivector(max_vectors=v.max_vectors)
            for k, v in msg.multivector_config.multivector_config.items()
        }
        if msg.multivector_config is not None
        else None
    )
    values["sparse_config"] = (
        {k: m.StrictModeSparse(max_length=v.max_length) for k, v in msg.sparse_config.sparse_config.items()}
        if msg.sparse_config is not None
        else None
    )
    return m.StrictModeConfig(**values)


# cloud inference objects: (model class, its data field, proto class, proto field in Vector/VectorInput)
_INFERENCE: tuple[tuple[type, str, type, str], ...] = (
    (m.Document, "text", q.Document, "document"),
    (m.Image, "image", q.Image, "image"),
    (m.InferenceObject, "object", q.InferenceObject, "object"),
)


def _inference_to_grpc(v: Any) -> tuple[str, Any] | None:
    """(proto field, message) for a Document/Image/InferenceObject, else None."""
    for cls, data, proto, field in _INFERENCE:
        if isinstance(v, cls):
            value = getattr(v, data)
            return field, proto(
                **{data: value if cls is m.Document else value_to_grpc(value)},
                model=v.model,
                options=payload_to_grpc(v.options),
            )
    return None


def _inference_from_grpc(msg: Any, field: str) -> Any:
    for cls, data, _, f in _INFERENCE:
        if f == field:
            value = getattr(msg, data)
            return cls(
                **{data: value if cls is m.Document else value_from_grpc(value)},
                model=msg.model,
                options=payload_from_grpc(msg.options) or None,
            )
    raise _unsupported(f"inference object {field}")


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


def _max_threads_to_grpc(v: Any) -> q.MaxOptimizationThreads | None:
    if v is None:
        return None
    if isinstance(v, int) and not isinstance(v, bool):
        return q.MaxOptimizationThreads(value=v)
    return q.MaxOptimizationThreads(setting=_enum_to_grpc(v, q.MaxOptimizationThreadsSetting))


def _max_threads_from_grpc(v: q.MaxOptimizationThreads | None) -> Any:
    if v is None:
        return None
    if betterproto_which(v, "variant") == "value":
        return v.value
    return _enum_from_grpc(v.setting, m.MaxOptimizationThreadsSetting)


@_quiet
def optimizers_diff_to_grpc(o: m.OptimizersConfigDiff | None) -> q.OptimizersConfigDiff | None:
    if o is None:
        return None
    msg = _diff_to_grpc(o, q.OptimizersConfigDiff, skip=("max_optimization_threads",))
    msg.max_optimization_threads = _max_threads_to_grpc(o.max_optimization_threads)
    return msg


@_quiet
def optimizers_diff_from_grpc(msg: q.OptimizersConfigDiff | None) -> m.OptimizersConfigDiff | None:
    if msg is None:
        return None
    values = _diff_from_grpc(msg, m.OptimizersConfigDiff, as_dict=True)
    values["max_optimization_threads"] = _max_threads_from_grpc(msg.max_optimization_threads)
    return m.OptimizersConfigDiff(**values)


def _payload_storage_to_grpc(p: m.PayloadStorageParams | None) -> q.PayloadStorageParams | None:
    return _diff_to_grpc(p, q.PayloadStorageParams)


def _payload_storage_from_grpc(p: q.PayloadStorageParams | None) -> m.PayloadStorageParams | None:
    return _diff_from_grpc(p, m.PayloadStorageParams)


# --------------------------------------------------------------------------- shard keys


def _create_shard_key_to_grpc(path: Mapping[str, Any], query: Mapping[str, Any], body: Any) -> Any:
    return q.CreateShardKeyRequest(
        collection_name=_coll(path),
        request=q.CreateShardKey(
            shard_key=shard_key_to_grpc(body.shard_key),
            shards_number=body.shards_number,
            replication_factor=body.replication_factor,
            placement=list(body.placement or []),
            initial_state=_enum_to_grpc(body.initial_state, q.ReplicaState)
            if body.initial_state is not None
            else None,
        ),
        timeout=query.get("timeout"),
    )


def _create_shard_key_from_grpc(msg: q.CreateShardKeyRequest) -> tuple[dict[str, Any], Any]:
    r = msg.request or q.CreateShardKey()
    return {}, m.CreateShardingKey(
        shard_key=shard_key_from_grpc(r.shard_key),
        shards_number=r.shards_number,
        replication_factor=r.replication_factor,
        placement=list(r.placement) or None,
        initial_state=_enum_from_grpc(r.initial_state, m.ReplicaState)
        if r.initial_state is not None
        else None,
    )


# --------------------------------------------------------------------------- empty payloads

#: REST's ``with_payload`` default where the request leaves it unset
_PAYLOAD_DEFAULT = {"get_points": True, "scroll_points": True, "query_points": False}


def _fill_payloads(wanted: Any, default: bool, points: Any) -> None:
    if (default if wanted is None else wanted) is False:
        return
    for p in points:
        if p.payload is None:
            p.payload = {}


def rest_payloads(op_name: str, body: Any, result: Any) -> Any:
    """gRPC cannot tell an empty payload map from none: where REST answers ``{}`` (the payload
    was asked for and the point has none), give ``{}`` rather than None. Changes ``result`` in
    place (and returns it) for the point-returning operations; anything else passes through."""
    if op_name == "query_batch_points":
        for request, response in zip(body.searches, result, strict=False):
            _fill_payloads(request.with_payload, False, response.points)
    elif op_name == "query_points_groups":
        for group in result.groups:
            _fill_payloads(body.with_payload, False, group.hits)
        lookup = body.with_lookup
        if lookup is not None:
            wanted = None if isinstance(lookup, str) else lookup.with_payload  # a lookup's default: true
            _fill_payloads(wanted, True, [g.lookup for g in result.groups if g.lookup is not None])
    elif op_name in _PAYLOAD_DEFAULT:
        points = result if isinstance(result, list) else result.points
        _fill_payloads(getattr(body, "with_payload", None), _PAYLOAD_DEFAULT[op_name], points)
    return result


# --------------------------------------------------------------------------- cluster


def _opt_shard_key_to_grpc(k: Any) -> q.ShardKey | None:
    return shard_key_to_grpc(k) if k is not None else None


def _opt_shard_key_from_grpc(k: q.ShardKey | None) -> Any:
    return shard_key_from_grpc(k) if k is not None else None


def _opt_enum_to_grpc(v: Any, proto_enum: type) -> Any:
    return _enum_to_grpc(v, proto_enum) if v is not None else None


def _opt_enum_from_grpc(v: Any, model_enum: type) -> Any:
    return _enum_from_grpc(v, model_enum) if v is not None else None


def cluster_info_to_grpc(c: m.CollectionClusterInfo, elapsed: float = 0.0) -> q.CollectionClusterInfoResponse:
    """A transfer's ``method`` and ``comment`` have no field in the message."""
    return q.CollectionClusterInfoResponse(
        peer_id=c.peer_id,
        shard_count=c.shard_count,
        local_shards=[
            q.LocalShardInfo(
                shard_id=s.shard_id,
                points_count=s.points_count,
                state=_enum_to_grpc(s.state, q.ReplicaState),
                shard_key=_opt_shard_key_to_grpc(s.shard_key),
            )
            for s in c.local_shards
        ],
        remote_shards=[
            q.RemoteShardInfo(
                shard_id=s.shard_id,
                peer_id=s.peer_id,
                state=_enum_to_grpc(s.state, q.ReplicaState),
                shard_key=_opt_shard_key_to_grpc(s.shard_key),
            )
            for s in c.remote_shards
        ],
        shard_transfers=[
            q.ShardTransferInfo(
                shard_id=t.shard_id, to_shard_id=t.to_shard_id, from_=t.from_, to=t.to, sync=t.sync
            )
            for t in c.shard_transfers
        ],
        resharding_operations=[
            q.ReshardingInfo(
                shard_id=r.shard_id,
                peer_id=r.peer_id,
                shard_key=_opt_shard_key_to_grpc(r.shard_key),
                direction=_enum_to_grpc(r.direction, q.ReshardingDirection),
            )
            for r in c.resharding_operations or []
        ],
        time=elapsed,
    )


def cluster_info_from_grpc(r: q.CollectionClusterInfoResponse) -> m.CollectionClusterInfo:
    return m.CollectionClusterInfo(
        peer_id=r.peer_id,
        shard_count=r.shard_count,
        local_shards=[
            m.LocalShardInfo(
                shard_id=s.shard_id,
                points_count=s.points_count,
                state=_enum_from_grpc(s.state, m.ReplicaState),
                shard_key=_opt_shard_key_from_grpc(s.shard_key),
            )
            for s in r.local_shards
        ],
        remote_shards=[
            m.RemoteShardInfo(
                shard_id=s.shard_id,
                peer_id=s.peer_id,
                state=_enum_from_grpc(s.state, m.ReplicaState),
                shard_key=_opt_shard_key_from_grpc(s.shard_key),
            )
            for s in r.remote_shards
        ],
        shard_transfers=[
            m.ShardTransferInfo(
                shard_id=t.shard_id, to_shard_id=t.to_shard_id, from_=t.from_, to=t.to, sync=t.sync
            )
            for t in r.shard_transfers
        ],
        resharding_operations=[
            m.ReshardingInfo(
                shard_id=x.shard_id,
                peer_id=x.peer_id,
                shard_key=_opt_shard_key_from_grpc(x.shard_key),
                direction=_enum_from_grpc(x.direction, m.ReshardingDirection),
            )
            for x in r.resharding_operations
        ]
        or None,
    )


def _transfer_to_grpc(t: Any, cls: type) -> Any:
    """MoveShard / ReplicateShard / AbortShardTransfer / RestartTransfer: the same peer fields."""
    fields = {"shard_id": t.shard_id, "from_peer_id": t.from_peer_id, "to_peer_id": t.to_peer_id}
    if hasattr(t, "method"):
        fields["method"] = _opt_enum_to_grpc(t.method, q.ShardTransferMethod)
    return cls(**fields)


def _transfer_from_grpc(t: Any, cls: type) -> Any:
    if t.to_shard_id is not None:
        raise _unsupported("a shard transfer to another shard id (to_shard_id)")
    fields = {"shard_id": t.shard_id, "from_peer_id": t.from_peer_id, "to_peer_id": t.to_peer_id}
    if hasattr(t, "method"):
        fields["method"] = _opt_enum_from_grpc(t.method, m.ShardTransferMethod)
    return cls(**fields)


# model operation class, its field, proto field, proto class, model inner class
_TRANSFERS: tuple[tuple[type, str, str, type, type], ...] = (
    (m.MoveShardOperation, "move_shard", "move_shard", q.MoveShard, m.MoveShard),
    (m.ReplicateShardOperation, "replicate_shard", "replicate_shard", q.ReplicateShard, m.ReplicateShard),
    (
        m.AbortTransferOperation,
        "abort_transfer",
        "abort_transfer",
        q.AbortShardTransfer,
        m.AbortShardTransfer,
    ),
    (
        m.RestartTransferOperation,
        "restart_transfer",
        "restart_transfer",
        q.RestartTransfer,
        m.RestartTransfer,
    ),
)


def cluster_operation_to_grpc(
    name: str, op: Any, timeout: int | None = None
) -> q.UpdateCollectionClusterSetupRequest:
    R = q.UpdateCollectionClusterSetupRequest
    for model_cls, field, proto_field, proto_cls, _ in _TRANSFERS:
        if isinstance(op, model_cls):
            return R(
                collection_name=name,
                timeout=timeout,
                **{proto_field: _transfer_to_grpc(getattr(op, field), proto_cls)},
            )
    if isinstance(op, m.DropReplicaOperation):
        r = op.drop_replica
        return R(
            collection_name=name,
            timeout=timeout,
            drop_replica=q.Replica(shard_id=r.shard_id, peer_id=r.peer_id),
        )
    if isinstance(op, m.CreateShardingKeyOperation):
        c = op.create_sharding_key
        return R(
            collection_name=name,
            timeout=timeout,
            create_shard_key=q.CreateShardKey(
                shard_key=shard_key_to_grpc(c.shard_key),
                shards_number=c.shards_number,
                replication_factor=c.replication_factor,
                placement=list(c.placement or []),
                initial_state=_opt_enum_to_grpc(c.initial_state, q.ReplicaState),
            ),
        )
    if isinstance(op, m.DropShardingKeyOperation):
        return R(
            collection_name=name,
            timeout=timeout,
            delete_shard_key=q.DeleteShardKey(shard_key=shard_key_to_grpc(op.drop_sharding_key.shard_key)),
        )
    if isinstance(op, m.ReplicatePointsOperation):
        p = op.replicate_points
        return R(
            collection_name=name,
            timeout=timeout,
            replicate_points=q.ReplicatePoints(
                from_shard_key=shard_key_to_grpc(p.from_shard_key),
                to_shard_key=shard_key_to_grpc(p.to_shard_key),
                filter=filter_to_grpc(p.filter),
            ),
        )
    raise _unsupported(f"cluster operation {type(op).__name__}")  # resharding: REST only


def cluster_operation_from_grpc(msg: q.UpdateCollectionClusterSetupRequest) -> Any:
    kind = betterproto_which(msg, "operation")
    for model_cls, field, proto_field, _, inner_cls in _TRANSFERS:
        if kind == proto_field:
            return model_cls(**{field: _transfer_from_grpc(getattr(msg, proto_field), inner_cls)})
    if kind == "drop_replica":
        return m.DropReplicaOperation(
            drop_replica=m.Replica(shard_id=msg.drop_replica.shard_id, peer_id=msg.drop_replica.peer_id)
        )
    if kind == "create_shard_key":
        return m.CreateShardingKeyOperation(
            create_sharding_key=_create_shard_key_from_grpc(
                q.CreateShardKeyRequest(request=msg.create_shard_key)
            )[1]
        )
    if kind == "delete_shard_key":
        return m.DropShardingKeyOperation(
            drop_sharding_key=m.DropShardingKey(shard_key=shard_key_from_grpc(msg.delete_shard_key.shard_key))
        )
    if kind == "replicate_points":
        p = msg.replicate_points
        return m.ReplicatePointsOperation(
            replicate_points=m.ReplicatePoints(
                from_shard_key=shard_key_from_grpc(p.from_shard_key),
                to_shard_key=shard_key_from_grpc(p.to_shard_key),
                filter=filter_from_grpc(p.filter),
            )
        )
    raise _unsupported(f"cluster operation {kind}")
