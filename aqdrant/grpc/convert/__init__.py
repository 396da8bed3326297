"""Conversions between :mod:`aqdrant.models` (REST names, msgspec) and the betterproto2 messages.

A package split by vocabulary: :mod:`.values` (payload values, ids, shard keys, vectors, points),
:mod:`.filters`, :mod:`.queries`, :mod:`.collections`, :mod:`.points`, :mod:`.snapshots`,
:mod:`.cluster`; :mod:`.registry` holds the codec table (one row per operation, both directions:
the client's request/reply and the dev server's) and the four dispatchers over it.

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
say is refused the same way: per-query consistency/timeout inside a query batch, a shard transfer to
another shard id.

Normal forms (what a round trip gives back): condition lists rather than single conditions, empty
payloads as None, a ``WithLookup`` with no selectors as the collection name, a stop-word set of one
language as that ``Language``, keyword ``prefix=false`` as unset, datetimes (ranges and an order-by
``start_from``, which goes as a protobuf Timestamp) as ``isoformat()`` of a UTC datetime, an unnamed vector in ``UpdateCollection.vectors`` under ``""``.
"""

from __future__ import annotations

from .._proto import qdrant as q
from ._common import betterproto_which
from .collections import (
    collections_list_from_grpc,
    collections_list_to_grpc,
    create_collection_from_grpc,
    create_collection_to_grpc,
)
from .filters import filter_from_grpc, filter_to_grpc
from .points import (
    rest_payloads,
    update_result_from_grpc,
    update_result_to_grpc,
    version_info_from_grpc,
    version_info_to_grpc,
)
from .queries import (
    prefetch_from_grpc,
    prefetch_to_grpc,
    query_from_grpc,
    query_to_grpc,
    search_params_from_grpc,
    search_params_to_grpc,
    with_payload_from_grpc,
    with_payload_to_grpc,
    with_vectors_from_grpc,
    with_vectors_to_grpc,
)
from .registry import (
    CODECS,
    Codec,
    codec,
    decode_result,
    encode_reply,
    encode_request,
    request_from_grpc,
    request_to_grpc,
    result_from_grpc,
    result_to_grpc,
)
from .values import (
    payload_from_grpc,
    payload_to_grpc,
    point_id_from_grpc,
    point_id_to_grpc,
    point_struct_from_grpc,
    point_struct_to_grpc,
    record_from_grpc,
    record_to_grpc,
    scored_point_from_grpc,
    scored_point_to_grpc,
    shard_key_selector_from_grpc,
    shard_key_selector_to_grpc,
    value_from_grpc,
    value_to_grpc,
)

#: what callers (the backend, the dev server, tests, benchmarks) use; the rest lives in the modules
__all__ = [
    "q",
    "betterproto_which",
    "payload_from_grpc",
    "payload_to_grpc",
    "point_id_from_grpc",
    "point_id_to_grpc",
    "point_struct_from_grpc",
    "point_struct_to_grpc",
    "record_from_grpc",
    "record_to_grpc",
    "scored_point_from_grpc",
    "scored_point_to_grpc",
    "shard_key_selector_from_grpc",
    "shard_key_selector_to_grpc",
    "value_from_grpc",
    "value_to_grpc",
    "filter_from_grpc",
    "filter_to_grpc",
    "prefetch_from_grpc",
    "prefetch_to_grpc",
    "query_from_grpc",
    "query_to_grpc",
    "search_params_from_grpc",
    "search_params_to_grpc",
    "with_payload_from_grpc",
    "with_payload_to_grpc",
    "with_vectors_from_grpc",
    "with_vectors_to_grpc",
    "collections_list_from_grpc",
    "collections_list_to_grpc",
    "create_collection_from_grpc",
    "create_collection_to_grpc",
    "rest_payloads",
    "update_result_from_grpc",
    "update_result_to_grpc",
    "version_info_from_grpc",
    "version_info_to_grpc",
    "CODECS",
    "Codec",
    "codec",
    "decode_result",
    "encode_reply",
    "encode_request",
    "request_from_grpc",
    "request_to_grpc",
    "result_from_grpc",
    "result_to_grpc",
]
