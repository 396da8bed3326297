"""Client side: ``UpsertPoints`` (and its points, vectors, payload values) written directly."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ... import models
from ...errors import UnsupportedOperation
from ._wire import (
    _F4,
    _INT64_MAX,
    _INT64_MIN,
    _SMALL,
    _T1_LD,
    _T2_LD,
    _T3_LD,
    _T4_LD,
    _T5_LD,
    _T6_LD,
    _T7_VI,
    _T8_VI,
    _T_DENSE,
    _T_MULTI,
    _T_SPARSE,
    _f32_list,
    _ld,
    _pack_d,
    _varint,
)


def encode_value(v: Any) -> bytes:
    """The body of a ``qdrant.Value`` (json_with_int.proto) for a JSON-like Python value."""
    if v is None:
        return b"\x08\x00"
    if v is True:
        return b"\x28\x01"
    if v is False:
        return b"\x28\x00"
    t = type(v)
    if t is str:
        return _ld(b"\x22", v.encode())
    if t is int:
        if not _INT64_MIN <= v <= _INT64_MAX:
            raise OverflowError(f"payload integer {v} does not fit in int64")
        return b"\x18" + _varint(v if v >= 0 else v + (1 << 64))
    if t is float:
        return b"\x11" + _pack_d(v)
    if t is dict or isinstance(v, Mapping):
        return _ld(b"\x32", _encode_map(v, _T1_LD))
    if t is list or t is tuple:
        return _ld(b"\x3a", b"".join([_ld(_T1_LD, encode_value(x)) for x in v]))
    if isinstance(v, np.generic):
        return encode_value(v.item())
    if isinstance(v, bool):  # bool subclasses are not True/False singletons
        return b"\x28\x01" if v else b"\x28\x00"
    if isinstance(v, int):
        return encode_value(int(v))
    if isinstance(v, float):
        return encode_value(float(v))
    if isinstance(v, str):
        return encode_value(str(v))
    if isinstance(v, np.ndarray):
        return encode_value(v.tolist())
    raise TypeError(f"payload value of type {t.__name__} cannot be sent (JSON-like values only)")


def _encode_map(d: Mapping[str, Any], tag: bytes) -> bytes:
    """Entries of a ``map<string, Value>`` field, each under ``tag``."""
    parts = []
    small = _SMALL
    for k, v in d.items():
        if type(k) is not str:
            raise TypeError(f"payload keys must be strings, not {type(k).__name__}")
        kb = k.encode()
        t = type(v)
        # the common scalars inline; everything else through encode_value
        if t is str:
            vb = v.encode()
            n = len(vb)
            val = b"\x22" + (small[n] if n < 0x80 else _varint(n)) + vb
        elif t is int and 0 <= v < 0x80:
            val = b"\x18" + small[v]
        elif t is float:
            val = b"\x11" + _pack_d(v)
        else:
            val = encode_value(v)
        n, m = len(kb), len(val)
        entry = (
            b"\x0a"
            + (small[n] if n < 0x80 else _varint(n))
            + kb
            + b"\x12"
            + (small[m] if m < 0x80 else _varint(m))
            + val
        )
        n = len(entry)
        parts.append(tag + (small[n] if n < 0x80 else _varint(n)) + entry)
    return b"".join(parts)


def _point_id(pid: Any) -> bytes:
    """The body of a ``PointId``."""
    if type(pid) is int or (isinstance(pid, (int, np.integer)) and not isinstance(pid, bool)):
        pid = int(pid)
        if not 0 <= pid < (1 << 64):
            raise ValueError(f"point id {pid} is not an unsigned 64-bit integer")
        return b"\x08" + _varint(pid)
    if isinstance(pid, str):
        return _ld(_T2_LD, pid.encode())
    import uuid

    if isinstance(pid, uuid.UUID):
        return _ld(_T2_LD, str(pid).encode())
    raise TypeError(f"point id must be an unsigned integer or a UUID string, not {type(pid).__name__}")


def _dense_body(data: Any) -> bytes:
    """The body of a ``DenseVector`` (packed floats; empty when there are none)."""
    raw = np.ascontiguousarray(data, dtype=_F4).tobytes() if not isinstance(data, bytes) else data
    if not raw:
        return b""
    return _ld(_T1_LD, raw)


def _packed_uint32(values: Iterable[int]) -> bytes:
    out = bytearray()
    for v in values:
        v = int(v)
        if not 0 <= v < (1 << 32):
            raise ValueError(f"sparse index {v} is not an unsigned 32-bit integer")
        while v >= 0x80:
            out.append((v & 0x7F) | 0x80)
            v >>= 7
        out.append(v)
    return bytes(out)


def _vector_body(vec: Any) -> bytes:
    """The body of a ``Vector`` for a dense (1-d), multi-dense (2-d) or sparse vector."""
    if isinstance(vec, models.SparseVector) or isinstance(vec, Mapping):
        if isinstance(vec, Mapping):
            indices, values = vec["indices"], vec["values"]
        else:
            indices, values = vec.indices, vec.values
        body = b""
        if len(values):
            body += _ld(_T1_LD, np.ascontiguousarray(values, dtype=_F4).tobytes())
        if len(indices):
            body += _ld(_T2_LD, _packed_uint32(indices))
        return _ld(_T_SPARSE, body)
    if isinstance(vec, (models.Document, models.Image, models.InferenceObject)):
        # cloud inference: not a hot path; the caller encodes through aqdrant.grpc.convert instead
        raise UnsupportedOperation("inference objects are encoded by aqdrant.grpc.convert")
    if type(vec) is list and vec and not isinstance(vec[0], (list, tuple, np.ndarray)):
        raw = _f32_list(vec)  # the common case: a dense list of floats, without numpy
        if raw is not None:
            return _ld(_T_DENSE, _ld(_T1_LD, raw))
    arr = vec if isinstance(vec, np.ndarray) else np.asarray(vec, dtype=_F4)
    if arr.ndim == 1:
        return _ld(_T_DENSE, _dense_body(arr))
    if arr.ndim == 2:
        return _ld(_T_MULTI, b"".join([_ld(_T1_LD, _dense_body(row)) for row in arr]))
    if arr.ndim == 0 or arr.size == 0 and arr.ndim == 2:
        raise ValueError("a vector must be a list of floats, a list of lists of floats or a sparse vector")
    raise ValueError(f"a vector must have 1 or 2 dimensions, not {arr.ndim}")


def _vectors_body(vector: Any) -> bytes:
    """The body of a ``Vectors``: one unnamed vector or a map of named vectors."""
    if isinstance(vector, Mapping) and not ("indices" in vector and "values" in vector):
        entries = [
            _ld(_T1_LD, _ld(_T1_LD, name.encode()) + _ld(_T2_LD, _vector_body(v)))
            for name, v in vector.items()
        ]
        return _ld(_T2_LD, b"".join(entries))
    return _ld(_T1_LD, _vector_body(vector))


def encode_point_struct(id: Any, vector: Any, payload: Mapping[str, Any] | None = None) -> bytes:
    """The body of one ``PointStruct``."""
    body = _ld(_T1_LD, _point_id(id))
    if payload:
        body += _encode_map(payload, _T3_LD)
    if vector is not None:
        body += _ld(_T4_LD, _vectors_body(vector))
    return body


def _dense_rows(matrix: Any) -> tuple[bytes, memoryview, int]:
    """A ``Vector{dense}`` prefix shared by every row of a 2-d array, the rows' bytes, row size."""
    arr = np.ascontiguousarray(matrix, dtype=_F4)
    if arr.ndim != 2:
        raise ValueError(f"a batch of dense vectors must be a 2-d array, not {arr.ndim}-d")
    row = arr.shape[1] * 4
    # Vector{101: DenseVector{1: packed floats}}: every row has the same length, so one prefix
    if row:
        dense_prefix = _T1_LD + _varint(row)
        dense_len = len(dense_prefix) + row
    else:
        dense_prefix, dense_len = b"", 0
    prefix = _T_DENSE + _varint(dense_len) + dense_prefix
    return prefix, memoryview(arr.reshape(-1).view(np.uint8)), row


def encode_upsert_points(
    collection_name: str,
    points: Sequence[Any] | None = None,
    *,
    ids: Sequence[Any] | None = None,
    vectors: Any = None,
    payloads: Sequence[Mapping[str, Any] | None] | None = None,
    wait: bool | None = None,
    ordering: Any = None,
    shard_key_selector: Any = None,
    update_filter: Any = None,
    timeout: int | None = None,
    update_mode: int | None = None,
) -> bytes:
    """Serialise a ``qdrant.UpsertPoints`` request.

    Points come either as ``points`` (``aqdrant.models.PointStruct`` objects, or ``(id, vector,
    payload)`` tuples) or column-wise as ``ids`` + ``vectors`` (+ ``payloads``), where
    ``vectors`` is a 2-d numpy array (one dense vector per row), a mapping of vector name to such
    an array, or a sequence of per-point vectors. ``ordering``, ``shard_key_selector`` and
    ``update_filter`` are betterproto2 messages (small; encoded by betterproto2); ``update_mode``
    is a ``qdrant.UpdateMode`` value.
    """
    parts: list[Any] = [_ld(_T1_LD, collection_name.encode())] if collection_name else []
    if wait is not None:
        parts.append(b"\x10\x01" if wait else b"\x10\x00")
    append = parts.append
    if points is not None:
        if ids is not None or vectors is not None:
            raise TypeError("pass either points or ids/vectors/payloads, not both")
        for p in points:
            if isinstance(p, models.PointStruct):
                body = encode_point_struct(p.id, p.vector, p.payload)
            else:
                body = encode_point_struct(*p)
            append(_ld(_T3_LD, body))
    elif ids is not None:
        n = len(ids)
        if payloads is not None and len(payloads) != n:
            raise ValueError(f"{len(payloads)} payloads for {n} ids")
        if isinstance(vectors, np.ndarray) and vectors.ndim == 2:
            if len(vectors) != n:
                raise ValueError(f"{len(vectors)} vectors for {n} ids")
            prefix, raw, row = _dense_rows(vectors)
            # Vectors{1: Vector} around the shared prefix; PointStruct field 4 around that
            vec_len = len(prefix) + row
            vectors_field = _T4_LD + _varint(vec_len + 1 + len(_varint(vec_len))) + _T1_LD + _varint(vec_len)
            for i in range(n):
                head = _ld(_T1_LD, _point_id(ids[i]))
                pl = payloads[i] if payloads is not None else None
                if pl:
                    head += _encode_map(pl, _T3_LD)
                size = len(head) + len(vectors_field) + len(prefix) + row
                append(_T3_LD + _varint(size) + head + vectors_field + prefix)
                append(raw[i * row : (i + 1) * row])
        elif isinstance(vectors, Mapping) and all(
            isinstance(v, np.ndarray) and v.ndim == 2 for v in vectors.values()
        ):
            named = {name: _dense_rows(m) for name, m in vectors.items()}
            for name, (_, raw, row) in named.items():
                if len(raw) // max(row, 1) != n and row:
                    raise ValueError(f"{len(raw) // row} vectors named {name!r} for {n} ids")
            keys = {name: _ld(_T1_LD, name.encode()) for name in named}
            for i in range(n):
                entries = []
                for name, (prefix, raw, row) in named.items():
                    vec = prefix + raw[i * row : (i + 1) * row]
                    entries.append(_ld(_T1_LD, keys[name] + _ld(_T2_LD, vec)))
                body = _ld(_T1_LD, _point_id(ids[i]))
                pl = payloads[i] if payloads is not None else None
                if pl:
                    body += _encode_map(pl, _T3_LD)
                body += _ld(_T4_LD, _ld(_T2_LD, b"".join(entries)))
                append(_ld(_T3_LD, body))
        else:
            if isinstance(vectors, Mapping):  # named batches of lists or sparse vectors
                for name, column in vectors.items():
                    if len(column) != n:
                        raise ValueError(f"{len(column)} vectors named {name!r} for {n} ids")
                vectors = [{name: column[i] for name, column in vectors.items()} for i in range(n)]
            if vectors is None or len(vectors) != n:
                raise ValueError("ids and vectors must have the same length")
            for i in range(n):
                append(
                    _ld(
                        _T3_LD,
                        encode_point_struct(
                            ids[i], vectors[i], payloads[i] if payloads is not None else None
                        ),
                    )
                )
    if ordering is not None:
        append(_ld(_T4_LD, bytes(ordering)))
    if shard_key_selector is not None:
        append(_ld(_T5_LD, bytes(shard_key_selector)))
    if update_filter is not None:
        append(_ld(_T6_LD, bytes(update_filter)))
    if timeout is not None:
        append(_T7_VI + _varint(timeout))
    if update_mode is not None:
        append(_T8_VI + _varint(int(update_mode)))
    return b"".join(parts)
