"""Client side: point-returning replies (query, search, get, scroll) read directly into models."""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import models
from ._wire import _F4, _LITTLE, _read_varint, _skip, _unpack_d, _unpack_f


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
        if key == 0x0A and pos + 1 < end:  # the id: PointId{1 num} below 2^7 or 2^14 inline
            n = buf[pos]
            if n == 2 and buf[pos + 1] == 0x08 and buf[pos + 2] < 0x80:
                pid = buf[pos + 2]
                pos += 3
                continue
            if n == 3 and buf[pos + 1] == 0x08 and buf[pos + 2] >= 0x80 and buf[pos + 3] < 0x80:
                pid = (buf[pos + 2] & 0x7F) | (buf[pos + 3] << 7)
                pos += 4
                continue
        elif scored:
            if key == 0x1D:  # score, fixed32
                score = _unpack_f(buf, pos)[0]
                pos += 4
                continue
            if key == 0x28 and buf[pos] < 0x80:  # version below 2^7
                version = buf[pos]
                pos += 1
                continue
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
                # a payload entry: {1 key, 2 value} as every encoder writes it (short key, short
                # value, nothing else) read inline, and so is a value that is only a small int or
                # a short string; any other layout by _decode_map_entry / _decode_value
                kn = buf[pos + 1] if n > 1 and buf[pos] == 0x0A else 0x80
                p = pos + 2 + kn
                if kn < 0x80 and p + 1 < nxt and buf[p] == 0x12 and buf[p + 1] < 0x80 and p + 2 + buf[p + 1] == nxt:
                    k = buf[pos + 2 : p].decode()
                    vkey = buf[p + 2] if p + 3 < nxt else 0
                    if vkey == 0x18 and p + 4 == nxt and buf[p + 3] < 0x80:  # integer_value below 2^7
                        payload[k] = buf[p + 3]
                    elif vkey == 0x22 and buf[p + 3] < 0x80 and p + 4 + buf[p + 3] == nxt:  # short string
                        payload[k] = buf[p + 4 : nxt].decode()
                    else:
                        payload[k] = _decode_value(buf, p + 2, nxt)
                else:
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
        key = buf[pos]
        if key < 0x80:
            pos += 1
        else:
            key, pos = _read_varint(buf, pos)
        if key & 7 == 2:
            n = buf[pos]
            if n < 0x80:
                pos += 1
            else:
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
