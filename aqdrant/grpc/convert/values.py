"""Payload values, point ids, shard keys, vectors (dense, sparse, multi, inference objects), points
and records, geo points and timestamps: the vocabulary every other converter module builds on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ... import models as m
from .._proto import qdrant as q
from ._common import _unsupported, betterproto_which


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


def payload_to_grpc(payload: Mapping[str, Any] | None) -> dict[str, q.Value]:
    return {k: value_to_grpc(v) for k, v in (payload or {}).items()}


def payload_from_grpc(fields: Mapping[str, q.Value]) -> dict[str, Any]:
    return {k: value_from_grpc(v) for k, v in fields.items()}


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


def shard_key_from_grpc(key: q.ShardKey | None) -> m.ShardKey:
    if key is None:  # a request without its shard key: the server's INVALID_ARGUMENT
        raise ValueError("a shard key is required")
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


def _geo_point_to_grpc(p: m.GeoPoint) -> q.GeoPoint:
    return q.GeoPoint(lon=p.lon, lat=p.lat)


def _geo_point_from_grpc(p: q.GeoPoint) -> m.GeoPoint:
    return m.GeoPoint(lon=p.lon, lat=p.lat)


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


def _opt_shard_key_to_grpc(k: Any) -> q.ShardKey | None:
    return shard_key_to_grpc(k) if k is not None else None


def _opt_shard_key_from_grpc(k: q.ShardKey | None) -> Any:
    return shard_key_from_grpc(k) if k is not None else None
