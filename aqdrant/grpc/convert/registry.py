"""The gRPC codec table: one row per operation with a gRPC counterpart, both directions.

A row holds the client's converters (``request``: REST-shaped call -> request message, ``result``:
reply message -> REST result), the dev server's inverses (``read``: request message -> extra path
parameters and body, ``reply``: REST result -> reply message) and the optional fast paths of
:mod:`aqdrant.grpc.fast` (bytes written or read directly, skipping betterproto2). The four
dispatchers below only look a row up. ``tests/test_grpc_registry.py`` checks the table against the
operation table, the client backend's methods and the dev server's handlers: adding an operation
means adding its row here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ... import models as m
from .. import fast
from .._proto import qdrant as q
from ._common import _coll, _enum_from_grpc, _ordering, _read_fields, _unsupported, _write_fields
from .cluster import (
    _create_shard_key_from_grpc,
    _create_shard_key_to_grpc,
    cluster_info_from_grpc,
    cluster_info_to_grpc,
    cluster_operation_from_grpc,
    cluster_operation_to_grpc,
)
from .collections import (
    alias_operation_from_grpc,
    alias_operation_to_grpc,
    aliases_from_grpc,
    aliases_to_grpc,
    collection_info_from_grpc,
    collection_info_to_grpc,
    collections_list_from_grpc,
    create_collection_from_grpc,
    create_collection_to_grpc,
    create_vector_name_from_grpc,
    create_vector_name_to_grpc,
    update_collection_from_grpc,
    update_collection_to_grpc,
)
from .filters import filter_from_grpc, filter_to_grpc
from .points import (
    _filter_bytes,
    _points_selector,
    _rd_create_field_index,
    _read_args,
    _read_query,
    _rq_batch_update,
    _rq_create_field_index,
    _rq_delete_field_index,
    _rq_delete_vectors,
    _rq_update_vectors,
    _selector_fields,
    _selector_from_grpc,
    _selector_of,
    _sub_bytes,
    _update_operation_from_grpc,
    _write_query,
    count_bytes,
    get_bytes,
    scroll_bytes,
    update_result_from_grpc,
    update_result_to_grpc,
    upsert_bytes,
    upsert_to_grpc,
    version_info_from_grpc,
    version_info_to_grpc,
)
from .queries import (
    _matrix_request_from_grpc,
    _matrix_request_to_grpc,
    _one_batch_query,
    facet_response_from_grpc,
    facet_response_to_grpc,
    groups_result_from_grpc,
    groups_result_to_grpc,
    matrix_offsets_from_grpc,
    matrix_offsets_to_grpc,
    matrix_pairs_from_grpc,
    matrix_pairs_to_grpc,
    order_by_from_grpc,
    order_by_to_grpc,
    query_groups_from_grpc,
    query_groups_to_grpc,
    query_points_from_grpc,
    query_points_to_grpc,
    with_payload_from_grpc,
    with_payload_to_grpc,
    with_vectors_from_grpc,
    with_vectors_to_grpc,
)
from .snapshots import _rq_snapshot, snapshot_from_grpc, snapshot_to_grpc
from .values import (
    payload_from_grpc,
    payload_to_grpc,
    point_id_from_grpc,
    point_id_to_grpc,
    point_struct_from_grpc,
    point_vectors_from_grpc,
    record_from_grpc,
    record_to_grpc,
    scored_point_from_grpc,
    scored_point_to_grpc,
    shard_key_from_grpc,
    shard_key_selector_from_grpc,
    shard_key_selector_to_grpc,
    shard_key_to_grpc,
)

Path = Mapping[str, Any]
Query = Mapping[str, Any]


@dataclass(frozen=True)
class Codec:
    """How one operation travels over gRPC (see the module docstring)."""

    #: client: (path_params, query, body) -> request message
    request: Callable[[Path, Query, Any], Any]
    #: client: reply message -> the REST ``result``
    result: Callable[[Any], Any]
    #: dev server: request message -> (path params beyond collection_name, body)
    read: Callable[[Any], tuple[dict[str, Any], Any]]
    #: dev server: (REST result, elapsed seconds) -> reply message
    reply: Callable[[Any, float], Any]
    #: the server reads no query fields but ``wait=true`` (gRPC's snapshot calls always wait)
    waits: bool = False
    #: client, optional: (path_params, query, body) -> request bytes, or None for the general path
    encode_request: Callable[[Path, Query, Any], bytes | None] | None = None
    #: client, optional: the request message -> its bytes (faster than ``bytes(message)``)
    write_request: Callable[[Any], bytes] | None = None
    #: client, optional: reply bytes -> the REST ``result`` (skips betterproto2), or None for the
    #: general path (shapes it does not read)
    decode_result: Callable[[bytes], Any] | None = None
    #: dev server, optional: request bytes -> (path_params, query, body), or None for the general path
    decode_request: Callable[[bytes], tuple[dict[str, Any], dict[str, Any], Any] | None] | None = None
    #: dev server, optional: (REST result, elapsed) -> reply bytes
    encode_reply: Callable[[Any, float], bytes] | None = None


# --------------------------------------------------------------------------- shared row parts


def _no_body(msg: Any) -> tuple[dict[str, Any], Any]:
    return {}, None


def _update_reply(r: Any, t: float) -> Any:
    return q.PointsOperationResponse(result=update_result_to_grpc(r), time=t)


def _update_result(reply: Any) -> Any:
    return update_result_from_grpc(reply.result)


def _bool_result(reply: Any) -> Any:
    return reply.result


def _bool_reply(cls: type) -> Callable[[Any, float], Any]:
    return lambda r, t: cls(result=bool(r), time=t)


def _timeout(query: Query) -> Any:
    return query.get("timeout")


# --------------------------------------------------------------------------- points


def _rq_delete_points(path: Path, query: Query, body: Any) -> Any:
    return q.DeletePoints(
        collection_name=_coll(path),
        wait=query.get("wait"),
        points=_points_selector(body),
        ordering=_ordering(query),
        shard_key_selector=shard_key_selector_to_grpc(body.shard_key),
        timeout=_timeout(query),
    )


def _rq_set_payload(path: Path, query: Query, body: Any) -> Any:
    # set and overwrite both take SetPayloadPoints; the method (SetPayload/OverwritePayload) differs
    return q.SetPayloadPoints(
        collection_name=_coll(path),
        wait=query.get("wait"),
        payload=payload_to_grpc(body.payload),
        points_selector=_selector_of(body),
        ordering=_ordering(query),
        shard_key_selector=shard_key_selector_to_grpc(body.shard_key),
        key=body.key,
        timeout=_timeout(query),
    )


def _rd_set_payload(msg: Any) -> tuple[dict[str, Any], Any]:
    sk = shard_key_selector_from_grpc(msg.shard_key_selector)
    return {}, m.SetPayload(
        payload=payload_from_grpc(msg.payload), shard_key=sk, key=msg.key, **_selector_fields(msg.points_selector)
    )


def _rq_delete_payload(path: Path, query: Query, body: Any) -> Any:
    return q.DeletePayloadPoints(
        collection_name=_coll(path),
        wait=query.get("wait"),
        keys=list(body.keys),
        points_selector=_selector_of(body),
        ordering=_ordering(query),
        shard_key_selector=shard_key_selector_to_grpc(body.shard_key),
        timeout=_timeout(query),
    )


def _rd_delete_payload(msg: Any) -> tuple[dict[str, Any], Any]:
    sk = shard_key_selector_from_grpc(msg.shard_key_selector)
    return {}, m.DeletePayload(keys=list(msg.keys), shard_key=sk, **_selector_fields(msg.points_selector))


def _rq_clear_payload(path: Path, query: Query, body: Any) -> Any:
    return q.ClearPayloadPoints(
        collection_name=_coll(path),
        wait=query.get("wait"),
        points=_points_selector(body),
        ordering=_ordering(query),
        shard_key_selector=shard_key_selector_to_grpc(body.shard_key),
        timeout=_timeout(query),
    )


def _rd_points_selector(msg: Any) -> tuple[dict[str, Any], Any]:
    return {}, _selector_from_grpc(msg.points, shard_key_selector_from_grpc(msg.shard_key_selector))


def _rd_upsert(msg: Any) -> tuple[dict[str, Any], Any]:
    return {}, m.PointsList(
        points=[point_struct_from_grpc(p) for p in msg.points],
        shard_key=shard_key_selector_from_grpc(msg.shard_key_selector),
        update_filter=filter_from_grpc(msg.update_filter),
        update_mode=_enum_from_grpc(msg.update_mode, m.UpdateMode) if msg.update_mode is not None else None,
    )


def _rq_count(path: Path, query: Query, body: Any) -> Any:
    body = body or m.CountRequest()
    return q.CountPoints(
        collection_name=_coll(path),
        filter=filter_to_grpc(body.filter),
        exact=body.exact,
        shard_key_selector=shard_key_selector_to_grpc(body.shard_key),
        **_read_fields(query),
    )


def _rd_count(msg: Any) -> tuple[dict[str, Any], Any]:
    sk = shard_key_selector_from_grpc(msg.shard_key_selector)
    return {}, m.CountRequest(filter=filter_from_grpc(msg.filter), exact=msg.exact, shard_key=sk)


def _rq_get(path: Path, query: Query, body: Any) -> Any:
    return q.GetPoints(
        collection_name=_coll(path),
        ids=[point_id_to_grpc(i) for i in body.ids],
        with_payload=with_payload_to_grpc(body.with_payload),
        with_vectors=with_vectors_to_grpc(body.with_vector),
        shard_key_selector=shard_key_selector_to_grpc(body.shard_key),
        **_read_fields(query),
    )


def _rd_get(msg: Any) -> tuple[dict[str, Any], Any]:
    return {}, m.PointRequest(
        ids=[point_id_from_grpc(i) for i in msg.ids],
        with_payload=with_payload_from_grpc(msg.with_payload),
        with_vector=with_vectors_from_grpc(msg.with_vectors),
        shard_key=shard_key_selector_from_grpc(msg.shard_key_selector),
    )


def _rq_scroll(path: Path, query: Query, body: Any) -> Any:
    body = body or m.ScrollRequest()
    if body.limit is not None and body.limit > 0xFFFFFFFF:  # uint32 on gRPC's wire, u64 on REST's
        raise _unsupported(f"a scroll limit of {body.limit} (above 2^32 - 1)")
    return q.ScrollPoints(
        collection_name=_coll(path),
        filter=filter_to_grpc(body.filter),
        offset=point_id_to_grpc(body.offset) if body.offset is not None else None,
        limit=body.limit,
        with_payload=with_payload_to_grpc(body.with_payload),
        with_vectors=with_vectors_to_grpc(body.with_vector),
        shard_key_selector=shard_key_selector_to_grpc(body.shard_key),
        order_by=order_by_to_grpc(body.order_by),
        **_read_fields(query),
    )


def _rd_scroll(msg: Any) -> tuple[dict[str, Any], Any]:
    return {}, m.ScrollRequest(
        filter=filter_from_grpc(msg.filter),
        offset=point_id_from_grpc(msg.offset) if msg.offset is not None else None,
        limit=msg.limit,
        with_payload=with_payload_from_grpc(msg.with_payload),
        with_vector=with_vectors_from_grpc(msg.with_vectors),
        order_by=order_by_from_grpc(msg.order_by),
        shard_key=shard_key_selector_from_grpc(msg.shard_key_selector),
    )


def _scroll_result(reply: Any) -> Any:
    nxt = point_id_from_grpc(reply.next_page_offset) if reply.next_page_offset is not None else None
    return m.ScrollResult(points=[record_from_grpc(p) for p in reply.result], next_page_offset=nxt)


def _scroll_reply(r: Any, t: float) -> Any:
    nxt = r.next_page_offset
    return q.ScrollResponse(
        result=[record_to_grpc(p) for p in r.points],
        next_page_offset=point_id_to_grpc(nxt) if nxt is not None else None,
        time=t,
    )


def _rd_update_vectors(msg: Any) -> tuple[dict[str, Any], Any]:
    return {}, m.UpdateVectors(
        points=[point_vectors_from_grpc(p) for p in msg.points],
        shard_key=shard_key_selector_from_grpc(msg.shard_key_selector),
        update_filter=filter_from_grpc(msg.update_filter),
    )


def _rd_delete_vectors(msg: Any) -> tuple[dict[str, Any], Any]:
    return {}, m.DeleteVectors(
        vector=list(msg.vectors.names) if msg.vectors is not None else [],
        shard_key=shard_key_selector_from_grpc(msg.shard_key_selector),
        **_selector_fields(msg.points_selector),
    )


def _rd_facet(msg: Any) -> tuple[dict[str, Any], Any]:
    return {}, m.FacetRequest(
        key=msg.key,
        filter=filter_from_grpc(msg.filter),
        limit=msg.limit,
        exact=msg.exact,
        shard_key=shard_key_selector_from_grpc(msg.shard_key_selector),
    )


def _rq_facet(path: Path, query: Query, body: Any) -> Any:
    return q.FacetCounts(
        collection_name=_coll(path),
        key=body.key,
        filter=filter_to_grpc(body.filter),
        limit=body.limit,
        exact=body.exact,
        shard_key_selector=shard_key_selector_to_grpc(body.shard_key),
        **_read_fields(query),
    )


def _rq_query_batch(path: Path, query: Query, body: Any) -> Any:
    return q.QueryBatchPoints(
        collection_name=_coll(path),
        # each query carries the collection too; the batch's own fields rule
        query_points=[query_points_to_grpc(_coll(path), r, {}) for r in body.searches],
        **_read_fields(query),
    )


def _query_points_bytes(p: Any, qy: Any, b: Any) -> bytes:
    """The QueryPoints bytes, its filter written once per distinct filter (fast.filter_bytes);
    a plain nearest-dense query without prefetch, params or lookup written without messages."""
    body = b or m.QueryRequest()
    if body.prefetch is None and body.params is None and body.lookup_from is None:
        data = _plain_query_points_bytes(p, qy, body)
        if data is not None:
            return data
    message = query_points_to_grpc(_coll(p), body, qy)
    if body.filter is None or message.filter is None:
        return fast.encode_query_points(message)
    return fast.encode_query_points(message, fast.filter_bytes(body.filter, message.filter))


def _plain_query_points_bytes(p: Any, qy: Any, body: Any) -> bytes | None:
    query = body.query
    if isinstance(query, m.NearestQuery) and query.mmr is None:
        query = query.nearest
    if query is None:
        query_data = None
    elif (query_data := fast.nearest_dense_query(query)) is None:
        return None
    return fast.encode_plain_query_points(
        _coll(p),
        query_data,
        body.using,
        _filter_bytes(body.filter),
        body.score_threshold,
        body.limit,
        body.offset,
        _sub_bytes(body.with_vector, with_vectors_to_grpc),
        _sub_bytes(body.with_payload, with_payload_to_grpc),
        *_read_args(qy, body.shard_key),
    )


def _query_points_reply(r: Any, t: float) -> Any:
    return q.QueryResponse(result=[scored_point_to_grpc(p) for p in r.points], time=t)


def _query_batch_result(reply: Any) -> Any:
    return [m.QueryResponse(points=[scored_point_from_grpc(p) for p in b.result]) for b in reply.result]


def _query_batch_reply(r: Any, t: float) -> Any:
    return q.QueryBatchResponse(
        result=[q.BatchResult(result=[scored_point_to_grpc(p) for p in x.points]) for x in r], time=t
    )


def _matrix_request(path: Path, query: Query, body: Any) -> Any:
    return _matrix_request_to_grpc(_coll(path), body, query)


def _rd_matrix(msg: Any) -> tuple[dict[str, Any], Any]:
    return {}, _matrix_request_from_grpc(msg)


_UPDATE: dict[str, Any] = {"result": _update_result, "reply": _update_reply, "decode_result": fast.decode_update_response}


# --------------------------------------------------------------------------- collections


def _rq_create_collection(path: Path, query: Query, body: Any) -> Any:
    return create_collection_to_grpc(_coll(path), body or m.CreateCollection(), _timeout(query))


def _rd_create_collection(msg: Any) -> tuple[dict[str, Any], Any]:
    return {}, create_collection_from_grpc(msg)[1]


def _collections_reply(r: Any, t: float) -> Any:
    return q.ListCollectionsResponse(collections=[q.CollectionDescription(name=c.name) for c in r.collections], time=t)


def _list_shard_keys_reply(r: Any, t: float) -> Any:
    keys = [q.ShardKeyDescription(key=shard_key_to_grpc(k.key)) for k in r.shard_keys or []]
    return q.ListShardKeysResponse(shard_keys=keys, time=t)


def _list_shard_keys_result(reply: Any) -> Any:
    keys = [m.ShardKeyDescription(key=shard_key_from_grpc(k.key)) for k in reply.shard_keys]
    return m.ShardKeysResponse(shard_keys=keys)


def _rd_delete_shard_key(msg: Any) -> tuple[dict[str, Any], Any]:
    return {}, m.DropShardingKey(shard_key=shard_key_from_grpc((msg.request or q.DeleteShardKey()).shard_key))


def _snapshots_reply(r: Any, t: float) -> Any:
    return q.ListSnapshotsResponse(snapshot_descriptions=[snapshot_to_grpc(s) for s in r], time=t)


def _snapshots_result(reply: Any) -> Any:
    return [snapshot_from_grpc(s) for s in reply.snapshot_descriptions]


def _snapshot_created(r: Any, t: float) -> Any:
    return q.CreateSnapshotResponse(snapshot_description=snapshot_to_grpc(r), time=t)


def _snapshot_named(msg: Any) -> tuple[dict[str, Any], Any]:
    return {"snapshot_name": msg.snapshot_name}, None


_COLLECTION_OP = {"result": _bool_result, "reply": _bool_reply(q.CollectionOperationResponse)}
_LIST_SNAPSHOTS = {"result": _snapshots_result, "read": _no_body, "reply": _snapshots_reply, "waits": False}
_CREATE_SNAPSHOT = {
    "result": lambda r: snapshot_from_grpc(r.snapshot_description),
    "read": _no_body,
    "reply": _snapshot_created,
    "waits": True,
}
_DELETE_SNAPSHOT = {
    "result": lambda r: True,
    "read": _snapshot_named,
    "reply": lambda r, t: q.DeleteSnapshotResponse(time=t),
    "waits": True,
}

# --------------------------------------------------------------------------- the table

CODECS: dict[str, Codec] = {
    # points
    "upsert_points": Codec(
        lambda p, qy, b: upsert_to_grpc(_coll(p), b, qy),
        read=_rd_upsert,
        encode_request=upsert_bytes,
        decode_request=fast.decode_upsert_points,
        **_UPDATE,
    ),
    "delete_points": Codec(_rq_delete_points, read=_rd_points_selector, **_UPDATE),
    "set_payload": Codec(_rq_set_payload, read=_rd_set_payload, **_UPDATE),
    "overwrite_payload": Codec(_rq_set_payload, read=_rd_set_payload, **_UPDATE),
    "delete_payload": Codec(_rq_delete_payload, read=_rd_delete_payload, **_UPDATE),
    "clear_payload": Codec(_rq_clear_payload, read=_rd_points_selector, **_UPDATE),
    "update_vectors": Codec(_rq_update_vectors, read=_rd_update_vectors, **_UPDATE),
    "delete_vectors": Codec(_rq_delete_vectors, read=_rd_delete_vectors, **_UPDATE),
    "create_field_index": Codec(_rq_create_field_index, read=_rd_create_field_index, **_UPDATE),
    "delete_field_index": Codec(
        _rq_delete_field_index, read=lambda msg: ({"field_name": msg.field_name}, None), **_UPDATE
    ),
    "batch_update": Codec(
        _rq_batch_update,
        result=lambda r: [update_result_from_grpc(x) for x in r.result],
        read=lambda msg: ({}, m.UpdateOperations(operations=[_update_operation_from_grpc(o) for o in msg.operations])),
        reply=lambda r, t: q.UpdateBatchResponse(result=[update_result_to_grpc(x) for x in r], time=t),
    ),
    "count_points": Codec(
        _rq_count,
        result=lambda r: m.CountResult(count=r.result.count),
        read=_rd_count,
        reply=lambda r, t: q.CountResponse(result=q.CountResult(count=r.count), time=t),
        encode_request=count_bytes,
        decode_result=fast.decode_count_response,
    ),
    "get_points": Codec(
        _rq_get,
        encode_request=get_bytes,
        result=lambda r: [record_from_grpc(p) for p in r.result],
        read=_rd_get,
        reply=lambda r, t: q.GetResponse(result=[record_to_grpc(p) for p in r], time=t),
        decode_result=fast.decode_get_response,
        encode_reply=fast.encode_get_response,
    ),
    "scroll_points": Codec(
        _rq_scroll,
        encode_request=scroll_bytes,
        result=_scroll_result,
        read=_rd_scroll,
        reply=_scroll_reply,
        decode_result=fast.decode_scroll_response,
        encode_reply=fast.encode_scroll_response,
    ),
    "query_points": Codec(
        lambda p, qy, b: query_points_to_grpc(_coll(p), b or m.QueryRequest(), qy),
        encode_request=_query_points_bytes,
        result=lambda r: m.QueryResponse(points=[scored_point_from_grpc(p) for p in r.result]),
        read=lambda msg: ({}, query_points_from_grpc(msg)),
        reply=_query_points_reply,
        write_request=fast.encode_query_points,
        decode_result=fast.decode_query_response,
        encode_reply=fast.encode_query_response,
    ),
    "query_batch_points": Codec(
        _rq_query_batch,
        result=_query_batch_result,
        read=lambda msg: ({}, m.QueryRequestBatch(searches=[_one_batch_query(x) for x in msg.query_points])),
        reply=_query_batch_reply,
        write_request=fast.encode_query_batch_points,
    ),
    "query_points_groups": Codec(
        lambda p, qy, b: query_groups_to_grpc(_coll(p), b, qy),
        result=lambda r: groups_result_from_grpc(r.result),
        read=lambda msg: ({}, query_groups_from_grpc(msg)),
        reply=lambda r, t: q.QueryGroupsResponse(result=groups_result_to_grpc(r), time=t),
        write_request=fast.encode_query_point_groups,
    ),
    "facet": Codec(_rq_facet, result=facet_response_from_grpc, read=_rd_facet, reply=facet_response_to_grpc),
    "search_matrix_pairs": Codec(
        _matrix_request,
        result=lambda r: matrix_pairs_from_grpc(r.result),
        read=_rd_matrix,
        reply=lambda r, t: q.SearchMatrixPairsResponse(result=matrix_pairs_to_grpc(r), time=t),
    ),
    "search_matrix_offsets": Codec(
        _matrix_request,
        result=lambda r: matrix_offsets_from_grpc(r.result),
        read=_rd_matrix,
        reply=lambda r, t: q.SearchMatrixOffsetsResponse(result=matrix_offsets_to_grpc(r), time=t),
    ),
    # collections
    "create_collection": Codec(_rq_create_collection, read=_rd_create_collection, **_COLLECTION_OP),
    "delete_collection": Codec(
        lambda p, qy, b: q.DeleteCollection(collection_name=_coll(p), timeout=_timeout(qy)),
        read=_no_body,
        **_COLLECTION_OP,
    ),
    "update_collection": Codec(
        lambda p, qy, b: update_collection_to_grpc(_coll(p), b or m.UpdateCollection(), _timeout(qy)),
        read=lambda msg: ({}, update_collection_from_grpc(msg)),
        **_COLLECTION_OP,
    ),
    "get_collection": Codec(
        lambda p, qy, b: q.GetCollectionInfoRequest(collection_name=_coll(p)),
        result=lambda r: collection_info_from_grpc(r.result),
        read=_no_body,
        reply=lambda r, t: q.GetCollectionInfoResponse(result=collection_info_to_grpc(r), time=t),
    ),
    "collection_exists": Codec(
        lambda p, qy, b: q.CollectionExistsRequest(collection_name=_coll(p)),
        result=lambda r: m.CollectionExistence(exists=r.result.exists),
        read=_no_body,
        reply=lambda r, t: q.CollectionExistsResponse(result=q.CollectionExists(exists=r.exists), time=t),
    ),
    "get_collections": Codec(
        lambda p, qy, b: q.ListCollectionsRequest(),
        result=collections_list_from_grpc,
        read=_no_body,
        reply=_collections_reply,
    ),
    "update_aliases": Codec(
        lambda p, qy, b: q.ChangeAliases(actions=[alias_operation_to_grpc(a) for a in b.actions], timeout=_timeout(qy)),
        read=lambda msg: ({}, m.ChangeAliasesOperation(actions=[alias_operation_from_grpc(a) for a in msg.actions])),
        **_COLLECTION_OP,
    ),
    "create_vector_name": Codec(create_vector_name_to_grpc, read=create_vector_name_from_grpc, **_UPDATE),
    "delete_vector_name": Codec(
        lambda p, qy, b: q.DeleteVectorNameRequest(
            collection_name=_coll(p), vector_name=p["vector_name"], **_write_fields(qy)
        ),
        read=lambda msg: ({"vector_name": msg.vector_name}, None),
        **_UPDATE,
    ),
    "get_collections_aliases": Codec(
        lambda p, qy, b: q.ListAliasesRequest(), result=aliases_from_grpc, read=_no_body, reply=aliases_to_grpc
    ),
    "get_collection_aliases": Codec(
        lambda p, qy, b: q.ListCollectionAliasesRequest(collection_name=_coll(p)),
        result=aliases_from_grpc,
        read=_no_body,
        reply=aliases_to_grpc,
    ),
    # shard keys and cluster
    "create_shard_key": Codec(
        _create_shard_key_to_grpc,
        result=_bool_result,
        read=_create_shard_key_from_grpc,
        reply=_bool_reply(q.CreateShardKeyResponse),
    ),
    "delete_shard_key": Codec(
        lambda p, qy, b: q.DeleteShardKeyRequest(
            collection_name=_coll(p),
            request=q.DeleteShardKey(shard_key=shard_key_to_grpc(b.shard_key)),
            timeout=_timeout(qy),
        ),
        result=_bool_result,
        read=_rd_delete_shard_key,
        reply=_bool_reply(q.DeleteShardKeyResponse),
    ),
    "list_shard_keys": Codec(
        lambda p, qy, b: q.ListShardKeysRequest(collection_name=_coll(p)),
        result=_list_shard_keys_result,
        read=_no_body,
        reply=_list_shard_keys_reply,
    ),
    "collection_cluster_info": Codec(
        lambda p, qy, b: q.CollectionClusterInfoRequest(collection_name=_coll(p)),
        result=cluster_info_from_grpc,
        read=_no_body,
        reply=cluster_info_to_grpc,
    ),
    "update_collection_cluster": Codec(
        lambda p, qy, b: cluster_operation_to_grpc(_coll(p), b, _timeout(qy)),
        result=_bool_result,
        read=lambda msg: ({}, cluster_operation_from_grpc(msg)),
        reply=_bool_reply(q.UpdateCollectionClusterSetupResponse),
    ),
    # snapshots
    "list_snapshots": Codec(_rq_snapshot(q.ListSnapshotsRequest, "collection_name"), **_LIST_SNAPSHOTS),
    "create_snapshot": Codec(_rq_snapshot(q.CreateSnapshotRequest, "collection_name"), **_CREATE_SNAPSHOT),
    "delete_snapshot": Codec(
        _rq_snapshot(q.DeleteSnapshotRequest, "collection_name", "snapshot_name"), **_DELETE_SNAPSHOT
    ),
    "list_full_snapshots": Codec(_rq_snapshot(q.ListFullSnapshotsRequest), **_LIST_SNAPSHOTS),
    "create_full_snapshot": Codec(_rq_snapshot(q.CreateFullSnapshotRequest), **_CREATE_SNAPSHOT),
    "delete_full_snapshot": Codec(_rq_snapshot(q.DeleteFullSnapshotRequest, "snapshot_name"), **_DELETE_SNAPSHOT),
    # health: the dev server answers it itself (aqdrant.server.grpc); ``root`` reads the same reply
    "healthz": Codec(
        lambda p, qy, b: q.HealthCheckRequest(),
        result=lambda r: "healthz check passed",  # the REST endpoint's text; the reply carries the version
        read=_no_body,
        reply=lambda r, t: version_info_to_grpc(r),
    ),
    "root": Codec(
        lambda p, qy, b: q.HealthCheckRequest(),
        result=version_info_from_grpc,
        read=_no_body,
        reply=lambda r, t: version_info_to_grpc(r),
    ),
}


def codec(op_name: str) -> Codec:
    """The row of ``op_name``; UnsupportedOperation when it has none (the client falls back to REST)."""
    row = CODECS.get(op_name)
    if row is None:
        raise _unsupported(f"operation {op_name}")
    return row


# --------------------------------------------------------------------------- dispatchers


def request_to_grpc(op_name: str, path_params: Mapping[str, Any], query: Mapping[str, Any], body: Any) -> Any:
    """The gRPC request message for one REST-shaped call of ``op_name``."""
    return codec(op_name).request(path_params, query, body)


def encode_request(op_name: str, path_params: Mapping[str, Any], query: Mapping[str, Any], body: Any) -> bytes:
    """The request message's bytes, by the row's fast paths where it has them."""
    row = codec(op_name)
    if row.encode_request is not None:
        data = row.encode_request(path_params, query, body)
        if data is not None:
            return data
    message = row.request(path_params, query, body)
    return row.write_request(message) if row.write_request is not None else bytes(message)


def result_from_grpc(op_name: str, reply: Any) -> Any:
    """The REST ``result`` for the gRPC reply of ``op_name``."""
    return codec(op_name).result(reply)


def decode_result(op_name: str, data: bytes, reply_type: Any) -> Any:
    """The REST ``result`` for the reply bytes, by the row's fast decoder where it has one."""
    row = codec(op_name)
    if row.decode_result is not None:
        result = row.decode_result(data)
        if result is not None:
            return result
    return row.result(reply_type.parse(data))


def request_from_grpc(op_name: str, msg: Any) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """Inverse of :func:`request_to_grpc`: ``(path_params, query, body)`` for one request message."""
    row = codec(op_name)
    name = getattr(msg, "collection_name", None)
    path = {"collection_name": name} if name is not None else {}
    extra_path, body = row.read(msg)
    if row.waits:
        query: dict[str, Any] = {"wait": True}
    elif hasattr(msg, "read_consistency"):
        query = _read_query(msg)
    else:
        query = _write_query(msg)
    return {**path, **extra_path}, query, body


def result_to_grpc(op_name: str, result: Any, elapsed: float = 0.0) -> Any:
    """Inverse of :func:`result_from_grpc`: the reply message for the engine's ``result``."""
    return codec(op_name).reply(result, elapsed)


def encode_reply(op_name: str, result: Any, elapsed: float = 0.0) -> bytes:
    """The reply message's bytes, by the row's fast encoder where it has one."""
    row = codec(op_name)
    if row.encode_reply is not None:
        return row.encode_reply(result, elapsed)
    return bytes(row.reply(result, elapsed))
