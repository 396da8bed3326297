"""Fast protobuf encoding of ``qdrant.UpsertPoints`` and decoding of point-returning responses.

A package by direction: :mod:`.encode` (client: UpsertPoints), :mod:`.decode` (client: point
replies), :mod:`.query` (client: query-family requests), :mod:`.reads` (client: get/count/scroll
requests, count and update replies), :mod:`.server` (dev server: upserts in, point replies out),
over the wire primitives of :mod:`._wire`. The codec rows of :mod:`aqdrant.grpc.convert.registry`
hook them in.

betterproto2 builds one Python object per field and packs floats one at a time (FINDINGS.md:
~630 µs to encode one 768-d point, ~120 µs to decode one hit). These functions write and read
the wire format directly:

* encoding produces exactly the bytes ``bytes(message)`` gives for the equivalent betterproto2
  message (tests compare them byte for byte); dense vectors from numpy are written as packed
  little-endian float32 straight from the array's buffer, with no Python float per element;
* decoding returns :mod:`aqdrant.models` objects (``ScoredPoint``, ``Record``, ...) directly, the
  same values :mod:`aqdrant.grpc.convert` gives from the betterproto2-decoded message.

Wire shapes written (field numbers from points.proto / json_with_int.proto)::

    UpsertPoints  {1 collection_name, 2 wait, 3 points*, 4 ordering, 5 shard_key_selector,
                   6 update_filter, 7 timeout, 8 update_mode}
    PointStruct   {1 id: PointId{1 num | 2 uuid}, 3 payload: map<string, Value>, 4 vectors}
    Vectors       {1 vector: Vector | 2 vectors: NamedVectors{1 map<string, Vector>}}
    Vector        {101 dense: DenseVector{1 packed float} | 102 sparse: SparseVector{1 values,
                   2 indices} | 103 multi_dense: MultiDenseVector{1 DenseVector*}}

Float values outside float32's range are written as +-inf (numpy's cast), where betterproto2
raises ``OverflowError``.
"""

from __future__ import annotations

from .decode import (
    decode_get_response,
    decode_payload,
    decode_query_response,
    decode_scored_points,
    decode_scroll_response,
    decode_search_response,
)
from .encode import encode_point_struct, encode_upsert_points, encode_value
from .query import (
    converted_filter_bytes,
    encode_plain_query_points,
    encode_query_batch_points,
    encode_query_point_groups,
    encode_query_points,
    filter_bytes,
    nearest_dense_query,
)
from .reads import (
    decode_count_response,
    decode_update_response,
    encode_count_points,
    encode_get_points,
    encode_scroll_points,
)
from .server import decode_upsert_points, encode_get_response, encode_query_response, encode_scroll_response

__all__ = [
    "encode_point_struct",
    "encode_upsert_points",
    "encode_value",
    "decode_get_response",
    "decode_payload",
    "decode_query_response",
    "decode_scored_points",
    "decode_scroll_response",
    "decode_search_response",
    "encode_query_batch_points",
    "encode_query_point_groups",
    "encode_query_points",
    "filter_bytes",
    "converted_filter_bytes",
    "encode_plain_query_points",
    "nearest_dense_query",
    "encode_get_points",
    "encode_count_points",
    "encode_scroll_points",
    "decode_count_response",
    "decode_update_response",
    "decode_upsert_points",
    "encode_get_response",
    "encode_query_response",
    "encode_scroll_response",
]
