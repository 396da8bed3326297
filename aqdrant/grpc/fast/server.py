"""Dev server side: dense ``UpsertPoints`` read straight from the bytes, point replies written
directly."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ... import models
from ._wire import _F4, _T1_LD, _T2_LD, _ld, _pack_d, _pack_f, _read_varint, _varint
from .decode import _decode_map_entry, _decode_point_id
from .encode import _encode_map, _point_id, _vectors_body


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


def _point_out_body(p: Any, scored: bool) -> bytes:
    """The body of a ``ScoredPoint`` / ``RetrievedPoint`` for an aqdrant model point; points with a
    shard key or an order value go through betterproto2 (rare, and their oneofs are fiddly)."""
    if p.shard_key is not None or p.order_value is not None:
        from .. import convert

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
