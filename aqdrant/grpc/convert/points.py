"""Point operations: upsert/delete/payload/vector requests, batch update operations, update results,
the health reply, the empty-payload rule, and the server-side readers of the common request fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import models as m
from ...errors import UnsupportedOperation
from .. import fast
from .._proto import qdrant as q
from ._common import (
    Mirror,
    _coll,
    _enum_from_grpc,
    _enum_to_grpc,
    _ordering,
    _unsupported,
    _write_fields,
    betterproto_which,
    enum_pair,
    read_consistency_from_grpc,
    read_consistency_to_grpc,
)
from .collections import field_index_from_grpc, field_index_to_grpc
from .filters import filter_from_grpc, filter_to_grpc
from .queries import order_by_to_grpc, with_payload_to_grpc, with_vectors_to_grpc
from .values import (
    payload_from_grpc,
    payload_to_grpc,
    point_id_from_grpc,
    point_id_to_grpc,
    point_struct_from_grpc,
    point_struct_to_grpc,
    point_vectors_from_grpc,
    point_vectors_to_grpc,
    shard_key_selector_from_grpc,
    shard_key_selector_to_grpc,
    vectors_to_grpc,
)

_UPDATE_RESULT = Mirror(m.UpdateResult, q.UpdateResult, {"status": enum_pair(q.UpdateStatus, m.UpdateStatus)})
_VERSION_INFO = Mirror(m.VersionInfo, q.HealthCheckReply)
update_result_from_grpc = _UPDATE_RESULT.from_grpc
update_result_to_grpc = _UPDATE_RESULT.to_grpc
version_info_from_grpc = _VERSION_INFO.from_grpc
version_info_to_grpc = _VERSION_INFO.to_grpc


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


def _rd_create_field_index(msg: Any) -> tuple[dict[str, Any], Any]:
    schema = field_index_from_grpc(msg.field_type, msg.field_index_params)
    return {}, m.CreateFieldIndex(field_name=msg.field_name, field_schema=schema)


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


def upsert_bytes(path: Mapping[str, Any], query: Mapping[str, Any], body: Any) -> bytes | None:
    """``UpsertPoints`` written straight to bytes by :mod:`aqdrant.grpc.fast` (vectors packed by
    numpy), or None for shapes only the betterproto2 messages carry (e.g. cloud-inference
    Documents)."""
    extra: dict[str, Any] = {
        "wait": query.get("wait"),
        "timeout": query.get("timeout"),
        "ordering": _ordering(query),
        "shard_key_selector": shard_key_selector_to_grpc(body.shard_key),
        "update_filter": filter_to_grpc(body.update_filter),
        "update_mode": _enum_to_grpc(body.update_mode, q.UpdateMode) if body.update_mode is not None else None,
    }
    name = path.get("collection_name", "")
    try:
        if isinstance(body, m.PointsBatch):
            b = body.batch
            return fast.encode_upsert_points(name, ids=b.ids, vectors=b.vectors, payloads=b.payloads, **extra)
        return fast.encode_upsert_points(name, body.points, **extra)
    except UnsupportedOperation:
        return None


# -- the small reads written by aqdrant.grpc.fast.reads: the conversions stay here, sub-message by
# sub-message; what is not plain (filters, selectors with fields, shard keys, consistency) is
# converted as on the general path and written by betterproto2

#: (converter, flag) -> the bytes of a plain with_payload/with_vectors flag, written once
_FLAG_BYTES: dict[tuple[Any, bool], bytes] = {}


def _sub_bytes(value: Any, to_grpc: Any) -> bytes | None:
    """The bytes of ``to_grpc(value)``, None for None; plain flags remembered."""
    if value is None:
        return None
    if value is True or value is False:
        key = (to_grpc, value)
        data = _FLAG_BYTES.get(key)
        if data is None:
            data = _FLAG_BYTES[key] = bytes(to_grpc(value))
        return data
    message = to_grpc(value)
    return None if message is None else bytes(message)


def _filter_bytes(f: Any) -> bytes | None:
    return None if f is None else fast.converted_filter_bytes(f, filter_to_grpc)


def _read_args(query: Mapping[str, Any], shard_key: Any) -> tuple[bytes | None, bytes | None, Any]:
    consistency = query.get("consistency")
    rc = None if consistency is None else bytes(read_consistency_to_grpc(consistency))
    return rc, _sub_bytes(shard_key, shard_key_selector_to_grpc), query.get("timeout")


def get_bytes(path: Mapping[str, Any], query: Mapping[str, Any], body: Any) -> bytes | None:
    """``GetPoints`` bytes, or None (the general path) for ids the wire writer does not take."""
    try:
        return fast.encode_get_points(
            path.get("collection_name", ""),
            body.ids,
            _sub_bytes(body.with_payload, with_payload_to_grpc),
            _sub_bytes(body.with_vector, with_vectors_to_grpc),
            *_read_args(query, body.shard_key),
        )
    except (TypeError, ValueError):  # a bool, negative or odd id: the converters say what is wrong
        return None


def count_bytes(path: Mapping[str, Any], query: Mapping[str, Any], body: Any) -> bytes:
    """``CountPoints`` bytes."""
    body = body or m.CountRequest()
    return fast.encode_count_points(
        path.get("collection_name", ""), _filter_bytes(body.filter), body.exact, *_read_args(query, body.shard_key)
    )


def scroll_bytes(path: Mapping[str, Any], query: Mapping[str, Any], body: Any) -> bytes | None:
    """``ScrollPoints`` bytes, or None (the general path) for an offset or limit it does not take."""
    body = body or m.ScrollRequest()
    if body.limit is not None and not 0 <= body.limit <= 0xFFFFFFFF:
        return None  # the general path refuses it
    try:
        return fast.encode_scroll_points(
            path.get("collection_name", ""),
            _filter_bytes(body.filter),
            body.offset,
            body.limit,
            _sub_bytes(body.with_payload, with_payload_to_grpc),
            _sub_bytes(body.with_vector, with_vectors_to_grpc),
            *_read_args(query, body.shard_key)[:2],
            _sub_bytes(body.order_by, order_by_to_grpc),
            query.get("timeout"),
        )
    except (TypeError, ValueError):
        return None
