"""Fast protobuf encoding of ``qdrant.UpsertPoints`` and decoding of point-returning responses.

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

import struct
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .. import models
from ..errors import UnsupportedOperation

__all__ = [
    "encode_point_struct",
    "encode_upsert_points",
    "encode_value",
    "decode_query_response",
    "decode_search_response",
    "decode_get_response",
    "decode_scroll_response",
    "decode_scored_points",
    "decode_payload",
]

_F4 = np.dtype("<f4")
_pack_d = struct.Struct("<d").pack
_unpack_d = struct.Struct("<d").unpack_from
_unpack_f = struct.Struct("<f").unpack_from
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


# --------------------------------------------------------------------------- varints


def _varint(n: int) -> bytes:
    if n < 0x80:
        return _SMALL[n]
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


_SMALL = [bytes((i,)) for i in range(0x80)]


def _ld(tag: bytes, body: bytes) -> bytes:
    """A length-delimited field: tag, length, body."""
    n = len(body)
    return tag + (_SMALL[n] if n < 0x80 else _varint(n)) + body


# tags (field number << 3 | wire type) as bytes
_T1_LD, _T2_LD, _T3_LD, _T4_LD = b"\x0a", b"\x12", b"\x1a", b"\x22"
_T5_LD, _T6_LD, _T7_LD = b"\x2a", b"\x32", b"\x3a"
_T1_VI, _T2_VI, _T3_VI, _T5_VI, _T7_VI, _T8_VI = b"\x08", b"\x10", b"\x18", b"\x28", b"\x38", b"\x40"
_T2_I64 = b"\x11"
_T_DENSE, _T_SPARSE, _T_MULTI = _varint(101 << 3 | 2), _varint(102 << 3 | 2), _varint(103 << 3 | 2)


# --------------------------------------------------------------------------- payload values


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


# --------------------------------------------------------------------------- ids and vectors


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
        # cloud inference: not a hot path; the caller encodes through convert.py instead
        raise UnsupportedOperation("inference objects are encoded by aqdrant.grpc.convert")
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


# --------------------------------------------------------------------------- UpsertPoints


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


# --------------------------------------------------------------------------- decoding


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def _skip(buf: bytes, pos: int, wire: int) -> int:
    if wire == 0:
        while buf[pos] >= 0x80:
            pos += 1
        return pos + 1
    if wire == 1:
        return pos + 8
    if wire == 2:
        n, pos = _read_varint(buf, pos)
        return pos + n
    if wire == 5:
        return pos + 4
    raise ValueError(f"unsupported protobuf wire type {wire}")


def _decode_value(buf: bytes, pos: int, end: int) -> Any:
    value: Any = None
    while pos < end:
        key = buf[pos]
        pos += 1
        if key == 0x22:  # string_value
            n = buf[pos]
            if n < 0x80:
                pos += 1
            else:
                n, pos = _read_varint(buf, pos)
            value = buf[pos : pos + n].decode()
            pos += n
        elif key == 0x18:  # integer_value
            v = buf[pos]
            if v < 0x80:
                pos += 1
            else:
                v, pos = _read_varint(buf, pos)
            value = v - (1 << 64) if v >= (1 << 63) else v
        elif key == 0x11:  # double_value
            value = _unpack_d(buf, pos)[0]
            pos += 8
        elif key == 0x28:  # bool_value
            v, pos = _read_varint(buf, pos)
            value = bool(v)
        elif key == 0x08:  # null_value
            _, pos = _read_varint(buf, pos)
            value = None
        elif key == 0x32:  # struct_value
            n, pos = _read_varint(buf, pos)
            value = _decode_map(buf, pos, pos + n, 0x0A)
            pos += n
        elif key == 0x3A:  # list_value
            n, pos = _read_varint(buf, pos)
            value = _decode_list(buf, pos, pos + n)
            pos += n
        else:
            pos -= 1
            key, pos = _read_varint(buf, pos)
            pos = _skip(buf, pos, key & 7)
    return value


def _decode_list(buf: bytes, pos: int, end: int) -> list[Any]:
    out = []
    while pos < end:
        key, pos = _read_varint(buf, pos)
        if key == 0x0A:
            n, pos = _read_varint(buf, pos)
            out.append(_decode_value(buf, pos, pos + n))
            pos += n
        else:
            pos = _skip(buf, pos, key & 7)
    return out


def _decode_map_entry(buf: bytes, pos: int, end: int) -> tuple[str, Any]:
    k = ""
    v: Any = None
    while pos < end:
        key = buf[pos]
        pos += 1
        if key == 0x0A or key == 0x12:
            n = buf[pos]
            if n < 0x80:
                pos += 1
            else:
                n, pos = _read_varint(buf, pos)
            if key == 0x0A:
                k = buf[pos : pos + n].decode()
            else:
                v = _decode_value(buf, pos, pos + n)
            pos += n
        else:
            key, pos = _read_varint(buf, pos - 1)
            pos = _skip(buf, pos, key & 7)
    return k, v


def _decode_map(buf: bytes, pos: int, end: int, tag: int) -> dict[str, Any]:
    """Entries of a ``map<string, Value>`` (field key ``tag``) in ``buf[pos:end]``."""
    out: dict[str, Any] = {}
    while pos < end:
        key, pos = _read_varint(buf, pos)
        n, pos = _read_varint(buf, pos) if key & 7 == 2 else (0, pos)
        if key == tag:
            k, v = _decode_map_entry(buf, pos, pos + n)
            out[k] = v
            pos += n
        else:
            pos = _skip(buf, pos, key & 7) if key & 7 != 2 else pos + n
    return out


def decode_payload(buf: bytes) -> dict[str, Any]:
    """A ``qdrant.Struct`` body as a dict (test helper and building block)."""
    return _decode_map(buf, 0, len(buf), 0x0A)


def _decode_point_id(buf: bytes, pos: int, end: int) -> int | str:
    pid: int | str = 0
    while pos < end:
        key, pos = _read_varint(buf, pos)
        if key == 0x08:
            pid, pos = _read_varint(buf, pos)
        elif key == 0x12:
            n, pos = _read_varint(buf, pos)
            pid = buf[pos : pos + n].decode()
            pos += n
        else:
            pos = _skip(buf, pos, key & 7)
    return pid


_LITTLE = sys.byteorder == "little"


def _floats(buf: bytes, pos: int, n: int, as_numpy: bool) -> Any:
    arr = np.frombuffer(buf, dtype=_F4, count=n // 4, offset=pos)
    return arr.copy() if as_numpy else arr.tolist()


def _dense_out(buf: bytes, pos: int, n: int, as_numpy: bool) -> Any:
    """A dense vector of a reply: its float32 bytes kept as they came (``RawVector``), so a
    reply whose vectors are not read - or read through ``models.vectors_array`` - makes no
    Python float per element; reading ``point.vector`` gives the list, as over REST."""
    if as_numpy or not _LITTLE:
        return _floats(buf, pos, n, as_numpy)
    return models.RawVector.from_float32(buf[pos : pos + n - n % 4])


def _decode_dense(buf: bytes, pos: int, end: int, as_numpy: bool, lazy: bool = False) -> Any:
    chunks = []
    while pos < end:
        key, pos = _read_varint(buf, pos)
        if key == 0x0A:
            n, pos = _read_varint(buf, pos)
            chunks.append((pos, n))
            pos += n
        elif key == 0x0D:  # unpacked float
            chunks.append((pos, 4))
            pos += 4
        else:
            pos = _skip(buf, pos, key & 7)
    out = _dense_out if lazy else _floats  # lazy: a point's own vector (not a multi-vector row)
    if len(chunks) == 1:
        return out(buf, chunks[0][0], chunks[0][1], as_numpy)
    data = b"".join(buf[p : p + n] for p, n in chunks)
    return out(data, 0, len(data), as_numpy)


def _decode_uint32s(buf: bytes, pos: int, end: int) -> list[int]:
    out = []
    while pos < end:
        v, pos = _read_varint(buf, pos)
        out.append(v)
    return out


def _decode_sparse(buf: bytes, pos: int, end: int) -> models.SparseVector:
    values: list[float] = []
    indices: list[int] = []
    while pos < end:
        key, pos = _read_varint(buf, pos)
        if key == 0x0A:
            n, pos = _read_varint(buf, pos)
            values += _floats(buf, pos, n, False)
            pos += n
        elif key == 0x12:
            n, pos = _read_varint(buf, pos)
            indices += _decode_uint32s(buf, pos, pos + n)
            pos += n
        elif key == 0x0D:
            values.append(_unpack_f(buf, pos)[0])
            pos += 4
        elif key == 0x10:
            v, pos = _read_varint(buf, pos)
            indices.append(v)
        else:
            pos = _skip(buf, pos, key & 7)
    return models.SparseVector(indices=indices, values=values)


def _decode_multi(buf: bytes, pos: int, end: int, as_numpy: bool) -> Any:
    rows = []
    while pos < end:
        key, pos = _read_varint(buf, pos)
        if key == 0x0A:
            n, pos = _read_varint(buf, pos)
            rows.append(_decode_dense(buf, pos, pos + n, as_numpy))
            pos += n
        else:
            pos = _skip(buf, pos, key & 7)
    return rows


def _decode_vector_output(buf: bytes, pos: int, end: int, as_numpy: bool) -> Any:
    """A ``VectorOutput``: dense list, SparseVector, or list of lists (multi-dense)."""
    result: Any = None
    legacy: Any = None
    legacy_indices: list[int] | None = None
    count: int | None = None
    while pos < end:
        key, pos = _read_varint(buf, pos)
        wire = key & 7
        field = key >> 3
        if wire == 2:
            n, pos = _read_varint(buf, pos)
            if field == 101:
                result = _decode_dense(buf, pos, pos + n, as_numpy, lazy=True)
            elif field == 102:
                result = _decode_sparse(buf, pos, pos + n)
            elif field == 103:
                result = _decode_multi(buf, pos, pos + n, as_numpy)
            elif field == 1:  # deprecated flat data
                legacy = _floats(buf, pos, n, False)
            elif field == 2:  # deprecated SparseIndices{1 packed uint32}
                legacy_indices = _decode_uint32s_field(buf, pos, pos + n)
            pos += n
        elif field == 3 and wire == 0:
            count, pos = _read_varint(buf, pos)
        else:
            pos = _skip(buf, pos, wire)
    if result is not None:
        return result
    legacy = legacy or []
    if legacy_indices is not None:
        return models.SparseVector(indices=legacy_indices, values=legacy)
    if count and count > 1:
        dim = len(legacy) // count
        rows = [legacy[i * dim : (i + 1) * dim] for i in range(count)]
        return [np.asarray(r, dtype=_F4) for r in rows] if as_numpy else rows
    return np.asarray(legacy, dtype=_F4) if as_numpy else legacy


def _decode_uint32s_field(buf: bytes, pos: int, end: int) -> list[int]:
    out: list[int] = []
    while pos < end:
        key, pos = _read_varint(buf, pos)
        if key == 0x0A:
            n, pos = _read_varint(buf, pos)
            out += _decode_uint32s(buf, pos, pos + n)
            pos += n
        elif key == 0x08:
            v, pos = _read_varint(buf, pos)
            out.append(v)
        else:
            pos = _skip(buf, pos, key & 7)
    return out


def _decode_vectors_output(buf: bytes, pos: int, end: int, as_numpy: bool) -> Any:
    result: Any = None
    while pos < end:
        key, pos = _read_varint(buf, pos)
        if key == 0x0A:
            n, pos = _read_varint(buf, pos)
            result = _decode_vector_output(buf, pos, pos + n, as_numpy)
            pos += n
        elif key == 0x12:
            n, pos = _read_varint(buf, pos)
            result = _decode_named(buf, pos, pos + n, as_numpy)
            pos += n
        else:
            pos = _skip(buf, pos, key & 7)
    return result


def _decode_named(buf: bytes, pos: int, end: int, as_numpy: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    while pos < end:
        key, pos = _read_varint(buf, pos)
        if key == 0x0A:
            n, pos = _read_varint(buf, pos)
            epos, eend = pos, pos + n
            name, vec = "", None
            while epos < eend:
                k2, epos = _read_varint(buf, epos)
                m, epos = _read_varint(buf, epos) if k2 & 7 == 2 else (0, epos)
                if k2 == 0x0A:
                    name = buf[epos : epos + m].decode()
                    epos += m
                elif k2 == 0x12:
                    vec = _decode_vector_output(buf, epos, epos + m, as_numpy)
                    epos += m
                else:
                    epos = _skip(buf, epos, k2 & 7) if k2 & 7 != 2 else epos + m
            out[name] = vec if vec is not None else ([] if not as_numpy else np.empty(0, _F4))
            pos += n
        else:
            pos = _skip(buf, pos, key & 7)
    return out


def _decode_shard_key(buf: bytes, pos: int, end: int) -> int | str | None:
    sk: int | str | None = None
    while pos < end:
        key, pos = _read_varint(buf, pos)
        if key == 0x0A:
            n, pos = _read_varint(buf, pos)
            sk = buf[pos : pos + n].decode()
            pos += n
        elif key == 0x10:
            sk, pos = _read_varint(buf, pos)
        else:
            pos = _skip(buf, pos, key & 7)
    return sk


def _decode_order_value(buf: bytes, pos: int, end: int) -> int | float | None:
    ov: int | float | None = None
    while pos < end:
        key, pos = _read_varint(buf, pos)
        if key == 0x08:
            v, pos = _read_varint(buf, pos)
            ov = v - (1 << 64) if v >= (1 << 63) else v
        elif key == 0x11:
            ov = _unpack_d(buf, pos)[0]
            pos += 8
        else:
            pos = _skip(buf, pos, key & 7)
    return ov


def _decode_point(buf: bytes, pos: int, end: int, scored: bool, as_numpy: bool) -> Any:
    """A ``ScoredPoint`` (scored=True) or ``RetrievedPoint`` body as a model."""
    pid: int | str = 0
    payload: dict[str, Any] = {}
    score = 0.0
    version = 0
    vector: Any = None
    shard_key: Any = None
    order_value: Any = None
    # field numbers differ: ScoredPoint 1 id, 2 payload, 3 score, 5 version, 6 vectors, 7 shard_key,
    # 8 order_value; RetrievedPoint 1 id, 2 payload, 4 vectors, 5 shard_key, 6 order_value
    f_vec, f_sk, f_ov = (6, 7, 8) if scored else (4, 5, 6)
    while pos < end:
        key = buf[pos]
        pos += 1
        if key >= 0x80:
            pos -= 1
            key, pos = _read_varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 2:
            n = buf[pos]
            if n < 0x80:
                pos += 1
            else:
                n, pos = _read_varint(buf, pos)
            nxt = pos + n
            if field == 2:
                k, v = _decode_map_entry(buf, pos, nxt)
                payload[k] = v
            elif field == 1:
                pid = _decode_point_id(buf, pos, nxt)
            elif field == f_vec:
                vector = _decode_vectors_output(buf, pos, nxt, as_numpy)
            elif field == f_sk:
                shard_key = _decode_shard_key(buf, pos, nxt)
            elif field == f_ov:
                order_value = _decode_order_value(buf, pos, nxt)
            pos = nxt
        elif scored and key == 0x1D:  # score, fixed32
            score = _unpack_f(buf, pos)[0]
            pos += 4
        elif scored and key == 0x28:
            version, pos = _read_varint(buf, pos)
        else:
            pos = _skip(buf, pos, wire)
    if scored:
        return models.ScoredPoint(
            id=pid,
            version=version,
            score=score,
            payload=payload or None,
            vector=vector,
            shard_key=shard_key,
            order_value=order_value,
        )
    return models.Record(
        id=pid, payload=payload or None, vector=vector, shard_key=shard_key, order_value=order_value
    )


def _decode_repeated_points(
    buf: bytes, field_key: int, scored: bool, as_numpy: bool
) -> tuple[list[Any], dict[int, tuple[int, int]]]:
    """Points under ``field_key`` at the top level of ``buf``; other length-delimited fields'
    spans by field number."""
    out = []
    others: dict[int, tuple[int, int]] = {}
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _read_varint(buf, pos)
        if key & 7 == 2:
            n, pos = _read_varint(buf, pos)
            if key == field_key:
                out.append(_decode_point(buf, pos, pos + n, scored, as_numpy))
            else:
                others[key >> 3] = (pos, n)
            pos += n
        else:
            pos = _skip(buf, pos, key & 7)
    return out, others


def decode_scored_points(data: bytes, *, vectors_as_numpy: bool = False) -> list[models.ScoredPoint]:
    """The ``repeated ScoredPoint result = 1`` of a ``QueryResponse``/``SearchResponse``."""
    return _decode_repeated_points(bytes(data), 0x0A, True, vectors_as_numpy)[0]


def decode_query_response(data: bytes, *, vectors_as_numpy: bool = False) -> models.QueryResponse:
    """A ``qdrant.QueryResponse`` as the REST result model ``QueryResponse``."""
    return models.QueryResponse(points=decode_scored_points(data, vectors_as_numpy=vectors_as_numpy))


def decode_search_response(data: bytes, *, vectors_as_numpy: bool = False) -> list[models.ScoredPoint]:
    """A ``qdrant.SearchResponse`` as the REST result (a list of ``ScoredPoint``)."""
    return decode_scored_points(data, vectors_as_numpy=vectors_as_numpy)


def decode_get_response(data: bytes, *, vectors_as_numpy: bool = False) -> list[models.Record]:
    """A ``qdrant.GetResponse`` as the REST result (a list of ``Record``)."""
    return _decode_repeated_points(bytes(data), 0x0A, False, vectors_as_numpy)[0]


def decode_scroll_response(data: bytes, *, vectors_as_numpy: bool = False) -> models.ScrollResult:
    """A ``qdrant.ScrollResponse`` as the REST result model ``ScrollResult``."""
    buf = bytes(data)
    points, others = _decode_repeated_points(buf, 0x12, False, vectors_as_numpy)
    nxt = None
    if 1 in others:
        pos, n = others[1]
        nxt = _decode_point_id(buf, pos, pos + n)
    return models.ScrollResult(points=points, next_page_offset=nxt)


# --------------------------------------------------------------------------- query-family requests
#
# The query requests are built by convert.py as betterproto2 messages (cheap: one object per
# field) and written here: betterproto2 packs a query vector one float at a time (~400 calls
# for 384-d) and runs a warnings filter per field. These write the same bytes (tests compare
# them with ``bytes(message)``): the messages that carry vectors (QueryPoints, PrefetchQuery,
# Query's nearest variants, VectorInput, Dense/Sparse/MultiDenseVector) field by field, with
# packed floats through numpy; every other sub-message (filters, params, selectors) through
# betterproto2's own ``bytes()``.


def _tag(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def _u64(v: int) -> bytes:
    return _varint(v if v >= 0 else v + (1 << 64))


_pack_f = struct.Struct("<f").pack


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


def _fields(out: list[bytes], msg: Any, plan: tuple[tuple[str, bytes, str], ...]) -> None:
    """Append the fields of ``msg`` listed in ``plan`` ((attribute, tag, kind), in field order)
    as betterproto2 writes them: optional fields when not None, plain ones when not empty."""
    for attr, tag, kind in plan:
        value = getattr(msg, attr)
        if value is None:
            continue
        if kind == "msg":
            out.append(_ld(tag, bytes(value)))
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


def encode_query_points(msg: Any) -> bytes:
    """``bytes(msg)`` for a betterproto2 ``QueryPoints``, with the vectors packed by numpy."""
    out: list[bytes] = []
    _fields(out, msg, _QUERY_POINTS)
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


# --------------------------------------------------------------------------- server side: UpsertPoints


def _dense_input_span(buf: bytes, pos: int, end: int) -> tuple[int, int] | None:
    """(offset, length) of the packed floats of a ``Vector`` that is one dense vector (field 101
    ``DenseVector{1 packed}`` or the deprecated flat field 1), else None."""
    span = None
    while pos < end:
        key, pos = _read_varint(buf, pos)
        if key == (101 << 3) | 2:  # dense
            n, pos = _read_varint(buf, pos)
            inner, inner_end = pos, pos + n
            pos = inner_end
            while inner < inner_end:
                k, inner = _read_varint(buf, inner)
                if k != 0x0A or span is not None:
                    return None
                m_, inner = _read_varint(buf, inner)
                span = (inner, m_)
                inner += m_
        elif key == 0x0A:  # deprecated data: packed floats
            if span is not None:
                return None
            n, pos = _read_varint(buf, pos)
            span = (pos, n)
            pos += n
        else:  # sparse, multi-dense, inference objects, vectors_count ... : the general path
            return None
    return span


def decode_upsert_points(data: bytes) -> tuple[dict[str, Any], dict[str, Any], Any] | None:
    """``(path_params, query, body)`` for an ``UpsertPoints`` whose points all carry one unnamed
    dense vector of the same size: the body is a ``PointsBatch`` with the vectors as one float32
    numpy array read straight from the message bytes. Returns None for any other shape (named,
    sparse or multi-dense vectors, shard keys, update filters, ordering, update mode), which the
    betterproto2 path (``convert.request_from_grpc``) then reads."""
    buf = data
    end = len(buf)
    pos = 0
    name = ""
    query: dict[str, Any] = {}
    ids: list[Any] = []
    payloads: list[Any] = []
    spans: list[tuple[int, int]] = []
    any_payload = False
    while pos < end:
        key, pos = _read_varint(buf, pos)
        if key == 0x0A:
            n, pos = _read_varint(buf, pos)
            name = buf[pos : pos + n].decode()
            pos += n
        elif key == 0x10:
            v, pos = _read_varint(buf, pos)
            query["wait"] = bool(v)
        elif key == 0x38:
            v, pos = _read_varint(buf, pos)
            query["timeout"] = v
        elif key == 0x1A:
            n, pos = _read_varint(buf, pos)
            p, pend = pos, pos + n
            pos = pend
            pid: Any = 0
            payload: dict[str, Any] | None = None
            span = None
            while p < pend:
                k, p = _read_varint(buf, p)
                if k == 0x0A:
                    m_, p = _read_varint(buf, p)
                    pid = _decode_point_id(buf, p, p + m_)
                    p += m_
                elif k == 0x1A:
                    m_, p = _read_varint(buf, p)
                    ek, ev = _decode_map_entry(buf, p, p + m_)
                    if payload is None:
                        payload = {}
                    payload[ek] = ev
                    p += m_
                elif k == 0x22:
                    m_, p = _read_varint(buf, p)
                    vpos, vend = p, p + m_
                    p = vend
                    while vpos < vend:
                        vk, vpos = _read_varint(buf, vpos)
                        if vk != 0x0A or span is not None:
                            return None  # named vectors
                        ln, vpos = _read_varint(buf, vpos)
                        span = _dense_input_span(buf, vpos, vpos + ln)
                        if span is None:
                            return None
                        vpos += ln
                else:
                    return None
            if span is None:
                return None
            ids.append(pid)
            payloads.append(payload)
            any_payload = any_payload or payload is not None
            spans.append(span)
        else:  # ordering, shard keys, update filter/mode, unknown fields
            return None
    if not spans:
        return None
    size = spans[0][1]
    if size % 4 or any(n != size for _, n in spans):
        return None
    vectors = np.empty((len(spans), size // 4), dtype=_F4)
    for row, (p, n) in enumerate(spans):
        vectors[row] = np.frombuffer(buf, dtype=_F4, count=n // 4, offset=p)
    body = models.PointsBatch(
        batch=models.Batch(ids=ids, vectors=vectors, payloads=payloads if any_payload else None)
    )
    return {"collection_name": name}, query, body


# --------------------------------------------------------------------------- server side: point replies

_pack_f = struct.Struct("<f").pack


def _point_out_body(p: Any, scored: bool) -> bytes:
    """The body of a ``ScoredPoint`` / ``RetrievedPoint`` for an aqdrant model point; points with a
    shard key or an order value go through betterproto2 (rare, and their oneofs are fiddly)."""
    if p.shard_key is not None or p.order_value is not None:
        from . import convert

        return bytes(convert.scored_point_to_grpc(p) if scored else convert.record_to_grpc(p))
    body = _ld(_T1_LD, _point_id(p.id))
    if p.payload:
        body += _encode_map(p.payload, b"\x12")
    if scored:
        if p.score:
            body += b"\x1d" + _pack_f(p.score)
        if p.version:
            body += b"\x28" + _varint(p.version)
        if p.vector is not None:
            body += _ld(b"\x32", _vectors_body(p.vector))
    elif p.vector is not None:
        body += _ld(b"\x22", _vectors_body(p.vector))
    return body


def encode_get_response(points: Sequence[Any], time: float = 0.0) -> bytes:
    """``GetResponse`` bytes for a list of ``models.Record`` (the dev server's reply)."""
    out = b"".join([_ld(_T1_LD, _point_out_body(p, False)) for p in points])
    return out + (b"\x11" + _pack_d(time) if time else b"")


def encode_scroll_response(result: Any, time: float = 0.0) -> bytes:
    """``ScrollResponse`` bytes for a ``models.ScrollResult``."""
    out = b""
    if result.next_page_offset is not None:
        out += _ld(_T1_LD, _point_id(result.next_page_offset))
    out += b"".join([_ld(_T2_LD, _point_out_body(p, False)) for p in result.points])
    return out + (b"\x19" + _pack_d(time) if time else b"")


def encode_query_response(result: Any, time: float = 0.0) -> bytes:
    """``QueryResponse`` bytes for a ``models.QueryResponse``."""
    out = b"".join([_ld(_T1_LD, _point_out_body(p, True)) for p in result.points])
    return out + (b"\x11" + _pack_d(time) if time else b"")
