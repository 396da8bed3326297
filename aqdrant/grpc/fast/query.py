"""Client side: the query-family requests (built by :mod:`aqdrant.grpc.convert` as betterproto2
messages) written with their vectors packed by numpy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._wire import _F4, _T1_LD, _T2_LD, _T3_LD, _T4_LD, _f32_list, _ld, _pack_f, _varint
from .encode import _packed_uint32


def _tag(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def _u64(v: int) -> bytes:
    return _varint(v if v >= 0 else v + (1 << 64))


def _dense_message_body(d: Any) -> bytes:
    """``DenseVector`` bytes (field 1: packed float32)."""
    data = d.data
    if len(data) == 0:
        return b""
    return _ld(_T1_LD, np.asarray(data, dtype=_F4).tobytes())


def _sparse_message_body(s: Any) -> bytes:
    """``SparseVector`` bytes (1: packed float32 values, 2: packed uint32 indices)."""
    out = b""
    if len(s.values):
        out += _ld(_T1_LD, np.asarray(s.values, dtype=_F4).tobytes())
    if len(s.indices):
        out += _ld(_T2_LD, _packed_uint32(s.indices))
    return out


def _vector_input_body(v: Any) -> bytes:
    """``VectorInput`` bytes: dense (2), sparse (3), multi_dense (4) written here; ids and
    inference objects (one small message) by betterproto2."""
    if v.dense is not None:
        return _ld(_T2_LD, _dense_message_body(v.dense))
    if v.sparse is not None:
        return _ld(_T3_LD, _sparse_message_body(v.sparse))
    if v.multi_dense is not None:
        rows = b"".join([_ld(_T1_LD, _dense_message_body(d)) for d in v.multi_dense.vectors])
        return _ld(_T4_LD, rows)
    return bytes(v)


_T9_LD = _tag(9, 2)


def _query_body(query: Any) -> bytes:
    """``Query`` bytes: ``nearest`` (1) and ``nearest_with_mmr`` (9) here, other variants by
    betterproto2 (recommend/discover/context carry few vectors; fusion, order_by... none)."""
    if query.nearest is not None:
        return _ld(_T1_LD, _vector_input_body(query.nearest))
    mmr = query.nearest_with_mmr
    if mmr is not None:
        body = b"" if mmr.nearest is None else _ld(_T1_LD, _vector_input_body(mmr.nearest))
        if mmr.mmr is not None:
            body += _ld(_T2_LD, bytes(mmr.mmr))
        return _ld(_T9_LD, body)
    return bytes(query)


#: ``with_payload`` / ``with_vectors`` as a plain flag (nearly every call): fixed bytes, written
#: once per (message type, flag) instead of through betterproto2 on every call
_SELECTOR_BYTES: dict[tuple[type, bool], bytes] = {}
_SELECTORS = ("WithPayloadSelector", "WithVectorsSelector")


def _selector_bytes(value: Any) -> bytes | None:
    cls = value.__class__
    if cls.__name__ not in _SELECTORS or value.include is not None:
        return None
    if getattr(value, "exclude", None) is not None or value.enable is None:
        return None
    key = (cls, value.enable)
    data = _SELECTOR_BYTES.get(key)
    if data is None:
        data = _SELECTOR_BYTES[key] = bytes(value)
    return data


#: a query's filter written once per distinct filter: ``repr`` of the aqdrant model (class names
#: and values, so two filters with one repr convert to the same message) -> the message's bytes;
#: a service sends the same few filters again and again, and betterproto2 writes a small filter
#: in tens of microseconds
_FILTER_BYTES: dict[str, bytes] = {}
_FILTER_BYTES_MAX = 1024


def filter_bytes(model: Any, message: Any) -> bytes:
    """``bytes(message)`` for ``message``, the conversion of the ``model`` filter, remembered."""
    return converted_filter_bytes(model, lambda _: message)


def converted_filter_bytes(model: Any, convert: Callable[[Any], Any]) -> bytes:
    """The bytes of ``convert(model)`` (the ``model`` filter's message), converted and written
    once per distinct filter."""
    key = repr(model)
    data = _FILTER_BYTES.get(key)
    if data is None:
        data = bytes(convert(model))
        if len(_FILTER_BYTES) >= _FILTER_BYTES_MAX:
            _FILTER_BYTES.clear()
        _FILTER_BYTES[key] = data
    return data


def _fields(
    out: list[bytes], msg: Any, plan: tuple[tuple[str, bytes, str], ...], filter_data: bytes | None = None
) -> None:
    """Append the fields of ``msg`` listed in ``plan`` ((attribute, tag, kind), in field order)
    as betterproto2 writes them: optional fields when not None, plain ones when not empty.
    ``filter_data``: the ``filter`` field's bytes, already written (:func:`filter_bytes`)."""
    for attr, tag, kind in plan:
        value = getattr(msg, attr)
        if value is None:
            continue
        if filter_data is not None and attr == "filter":
            out.append(_ld(tag, filter_data))
        elif kind == "msg":
            out.append(_ld(tag, _selector_bytes(value) or bytes(value)))
        elif kind == "str":
            out.append(_ld(tag, value.encode()))
        elif kind == "str0":  # not optional: "" is not written
            if value:
                out.append(_ld(tag, value.encode()))
        elif kind == "u64":
            out.append(tag + _u64(value))
        elif kind == "f32":
            out.append(tag + _pack_f(value))
        elif kind == "query":
            out.append(_ld(tag, _query_body(value)))
        elif kind == "prefetch":
            out.extend([_ld(tag, _prefetch_body(p)) for p in value])
        else:  # "queries": QueryBatchPoints.query_points
            out.extend([_ld(tag, encode_query_points(p)) for p in value])


# (attribute, tag, kind) in field-number order, from points.proto
_PREFETCH = (
    ("prefetch", _tag(1, 2), "prefetch"),
    ("query", _tag(2, 2), "query"),
    ("using", _tag(3, 2), "str"),
    ("filter", _tag(4, 2), "msg"),
    ("params", _tag(5, 2), "msg"),
    ("score_threshold", _tag(6, 5), "f32"),
    ("limit", _tag(7, 0), "u64"),
    ("lookup_from", _tag(8, 2), "msg"),
)


_QUERY_POINTS = (
    ("collection_name", _tag(1, 2), "str0"),
    ("prefetch", _tag(2, 2), "prefetch"),
    ("query", _tag(3, 2), "query"),
    ("using", _tag(4, 2), "str"),
    ("filter", _tag(5, 2), "msg"),
    ("params", _tag(6, 2), "msg"),
    ("score_threshold", _tag(7, 5), "f32"),
    ("limit", _tag(8, 0), "u64"),
    ("offset", _tag(9, 0), "u64"),
    ("with_vectors", _tag(10, 2), "msg"),
    ("with_payload", _tag(11, 2), "msg"),
    ("read_consistency", _tag(12, 2), "msg"),
    ("shard_key_selector", _tag(13, 2), "msg"),
    ("lookup_from", _tag(14, 2), "msg"),
    ("timeout", _tag(15, 0), "u64"),
)


_QUERY_BATCH = (
    ("collection_name", _tag(1, 2), "str0"),
    ("query_points", _tag(2, 2), "queries"),
    ("read_consistency", _tag(3, 2), "msg"),
    ("timeout", _tag(4, 0), "u64"),
)


_QUERY_GROUPS = (
    ("collection_name", _tag(1, 2), "str0"),
    ("prefetch", _tag(2, 2), "prefetch"),
    ("query", _tag(3, 2), "query"),
    ("using", _tag(4, 2), "str"),
    ("filter", _tag(5, 2), "msg"),
    ("params", _tag(6, 2), "msg"),
    ("score_threshold", _tag(7, 5), "f32"),
    ("with_payload", _tag(8, 2), "msg"),
    ("with_vectors", _tag(9, 2), "msg"),
    ("lookup_from", _tag(10, 2), "msg"),
    ("limit", _tag(11, 0), "u64"),
    ("group_size", _tag(12, 0), "u64"),
    ("group_by", _tag(13, 2), "str0"),
    ("read_consistency", _tag(14, 2), "msg"),
    ("with_lookup", _tag(15, 2), "msg"),
    ("timeout", _tag(16, 0), "u64"),
    ("shard_key_selector", _tag(17, 2), "msg"),
)


def _prefetch_body(p: Any) -> bytes:
    out: list[bytes] = []
    _fields(out, p, _PREFETCH)
    return b"".join(out)


def encode_query_points(msg: Any, filter_data: bytes | None = None) -> bytes:
    """``bytes(msg)`` for a betterproto2 ``QueryPoints``, with the vectors packed by numpy
    (``filter_data``: ``bytes(msg.filter)``, when the caller has it)."""
    out: list[bytes] = []
    _fields(out, msg, _QUERY_POINTS, filter_data)
    return b"".join(out)


def encode_query_batch_points(msg: Any) -> bytes:
    """``bytes(msg)`` for a betterproto2 ``QueryBatchPoints``."""
    out: list[bytes] = []
    _fields(out, msg, _QUERY_BATCH)
    return b"".join(out)


def encode_query_point_groups(msg: Any) -> bytes:
    """``bytes(msg)`` for a betterproto2 ``QueryPointGroups``."""
    out: list[bytes] = []
    _fields(out, msg, _QUERY_GROUPS)
    return b"".join(out)


_T_QP = {n: _tag(n, 2) for n in (3, 4, 5, 10, 11, 12, 13)}
_T_QP_F32, _T_QP_LIMIT, _T_QP_OFFSET, _T_QP_TIMEOUT = _tag(7, 5), _tag(8, 0), _tag(9, 0), _tag(15, 0)


def nearest_dense_query(vector: Any) -> bytes | None:
    """The ``Query`` bytes of ``nearest`` a dense vector (a list or a 1-d array), straight from
    numpy; None for anything else (ids, sparse, multi-dense, inference objects...)."""
    if not isinstance(vector, (list, np.ndarray)):
        return None
    if type(vector) is list and vector and not isinstance(vector[0], (list, tuple, np.ndarray)):
        raw = _f32_list(vector)  # a list of floats: without numpy
        if raw is not None:
            return _ld(_T1_LD, _ld(_T2_LD, _ld(_T1_LD, raw)))
    try:
        arr = np.asarray(vector, dtype=_F4)
    except (TypeError, ValueError):
        return None  # the general path says what is wrong with it
    if arr.ndim != 1:
        return None
    dense = _ld(_T1_LD, arr.tobytes()) if arr.size else b""
    return _ld(_T1_LD, _ld(_T2_LD, dense))  # Query{1 nearest: VectorInput{2 dense: DenseVector}}


def encode_plain_query_points(
    collection: str,
    query: bytes | None,
    using: str | None,
    filter: bytes | None,
    score_threshold: float | None,
    limit: int | None,
    offset: int | None,
    with_vectors: bytes | None,
    with_payload: bytes | None,
    read_consistency: bytes | None,
    shard_key_selector: bytes | None,
    timeout: int | None,
) -> bytes:
    """``QueryPoints`` without prefetch, params or lookup_from (sub-messages as their bytes):
    what :func:`encode_query_points` writes for the same message."""
    out = [_ld(_T1_LD, collection.encode()) if collection else b""]
    if query is not None:
        out.append(_ld(_T_QP[3], query))
    if using is not None:
        out.append(_ld(_T_QP[4], using.encode()))
    if filter is not None:
        out.append(_ld(_T_QP[5], filter))
    if score_threshold is not None:
        out.append(_T_QP_F32 + _pack_f(score_threshold))
    if limit is not None:
        out.append(_T_QP_LIMIT + _u64(limit))
    if offset is not None:
        out.append(_T_QP_OFFSET + _u64(offset))
    for field, data in ((10, with_vectors), (11, with_payload), (12, read_consistency), (13, shard_key_selector)):
        if data is not None:
            out.append(_ld(_T_QP[field], data))
    if timeout is not None:
        out.append(_T_QP_TIMEOUT + _u64(timeout))
    return b"".join(out)
