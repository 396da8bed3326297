"""Client side: the small point requests (``GetPoints``, ``CountPoints``, ``ScrollPoints``) and
the small replies (``CountResponse``, ``PointsOperationResponse``) written and read directly.

betterproto2 spends tens of microseconds on a dozen tiny messages (a ``GetPoints`` of 10 ids is
13 of them). The request writers take the scalar fields as values and every sub-message but the
point ids as its bytes already written (``None``: absent), so the caller
(:mod:`aqdrant.grpc.convert.points`) keeps the one conversion of each vocabulary; the output is
the bytes ``bytes(message)`` gives, field by field in field-number order (tests compare them).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ... import models
from ._wire import _SMALL, _T1_LD, _T2_LD, _ld, _read_varint, _skip, _varint
from .encode import _point_id

# tags of the optional fields, by field number (wire type 2: messages; 0: varints)
_LD = {n: _varint(n << 3 | 2) for n in range(2, 12)}
_VI = {n: _varint(n << 3) for n in range(2, 12)}


def _ids(tag: bytes, ids: Iterable[Any]) -> list[bytes]:
    out = []
    for pid in ids:
        if type(pid) is int and 0 <= pid < 1 << 63:  # the common id: PointId{1 num}, written here
            num = _varint(pid)
            out.append(tag + _SMALL[len(num) + 1] + b"\x08" + num)
        else:
            out.append(_ld(tag, _point_id(pid)))
    return out


def _name(collection: str) -> bytes:
    return _ld(_T1_LD, collection.encode()) if collection else b""


def encode_get_points(
    collection: str,
    ids: Iterable[Any],
    with_payload: bytes | None,
    with_vectors: bytes | None,
    read_consistency: bytes | None,
    shard_key_selector: bytes | None,
    timeout: int | None,
) -> bytes:
    """``GetPoints`` {1 collection_name, 2 ids*, 4 with_payload, 5 with_vectors,
    6 read_consistency, 7 shard_key_selector, 8 timeout}. Raises ``TypeError``/``ValueError`` for
    an id that is not an unsigned 64-bit integer or a string/UUID."""
    out = [_name(collection)]
    out += _ids(_T2_LD, ids)
    _message(out, 4, with_payload)
    _message(out, 5, with_vectors)
    _message(out, 6, read_consistency)
    _message(out, 7, shard_key_selector)
    _uint(out, 8, timeout)
    return b"".join(out)


def encode_count_points(
    collection: str,
    filter: bytes | None,
    exact: bool | None,
    read_consistency: bytes | None,
    shard_key_selector: bytes | None,
    timeout: int | None,
) -> bytes:
    """``CountPoints`` {1 collection_name, 2 filter, 3 exact, 4 read_consistency,
    5 shard_key_selector, 6 timeout}."""
    out = [_name(collection)]
    _message(out, 2, filter)
    if exact is not None:
        out.append(b"\x18\x01" if exact else b"\x18\x00")
    _message(out, 4, read_consistency)
    _message(out, 5, shard_key_selector)
    _uint(out, 6, timeout)
    return b"".join(out)


def encode_scroll_points(
    collection: str,
    filter: bytes | None,
    offset: Any,
    limit: int | None,
    with_payload: bytes | None,
    with_vectors: bytes | None,
    read_consistency: bytes | None,
    shard_key_selector: bytes | None,
    order_by: bytes | None,
    timeout: int | None,
) -> bytes:
    """``ScrollPoints`` {1 collection_name, 2 filter, 3 offset, 4 limit, 6 with_payload,
    7 with_vectors, 8 read_consistency, 9 shard_key_selector, 10 order_by, 11 timeout}
    (``offset``: a point id)."""
    out = [_name(collection)]
    _message(out, 2, filter)
    if offset is not None:
        out += _ids(_LD[3], (offset,))
    _uint(out, 4, limit)
    _message(out, 6, with_payload)
    _message(out, 7, with_vectors)
    _message(out, 8, read_consistency)
    _message(out, 9, shard_key_selector)
    _message(out, 10, order_by)
    _uint(out, 11, timeout)
    return b"".join(out)


def _message(out: list[bytes], field: int, data: bytes | None) -> None:
    if data is not None:
        out.append(_ld(_LD[field], data))


def _uint(out: list[bytes], field: int, value: int | None) -> None:
    if value is not None:
        out.append(_VI[field] + _varint(value))


# -- replies ------------------------------------------------------------------------------------


def _only_message(data: bytes, field_key: int) -> tuple[int, int] | None:
    """The span of the last top-level length-delimited field ``field_key`` (last wins, as in
    protobuf), other fields skipped; None when absent."""
    span = None
    pos, end = 0, len(data)
    while pos < end:
        key, pos = _read_varint(data, pos)
        if key & 7 == 2:
            n, pos = _read_varint(data, pos)
            if key == field_key:
                span = (pos, pos + n)
            pos += n
        else:
            pos = _skip(data, pos, key & 7)
    return span


def decode_count_response(data: bytes) -> models.CountResult | None:
    """A ``CountResponse`` {1 result: CountResult{1 count}, 2 time, 3 usage} as ``CountResult``;
    None when it has no ``result`` (the general path says what that means)."""
    data = bytes(data)
    span = _only_message(data, 0x0A)
    if span is None:
        return None
    pos, end = span
    count = 0
    while pos < end:
        key, pos = _read_varint(data, pos)
        if key == 0x08:
            count, pos = _read_varint(data, pos)
            count &= 0xFFFFFFFFFFFFFFFF
        else:
            pos = _skip(data, pos, key & 7)
    return models.CountResult(count=count)


_UPDATE_STATUS = {1: models.UpdateStatus.ACKNOWLEDGED, 2: models.UpdateStatus.COMPLETED}


def decode_update_response(data: bytes) -> models.UpdateResult | None:
    """A ``PointsOperationResponse`` {1 result: UpdateResult{1 operation_id, 2 status}, 2 time,
    3 usage} as ``UpdateResult``; None (the general path) without a result or for a status the
    REST model has no value for."""
    data = bytes(data)
    span = _only_message(data, 0x0A)
    if span is None:
        return None
    pos, end = span
    op_id = None
    status = 0
    while pos < end:
        key, pos = _read_varint(data, pos)
        if key == 0x08:
            op_id, pos = _read_varint(data, pos)
            op_id &= 0xFFFFFFFFFFFFFFFF
        elif key == 0x10:
            status, pos = _read_varint(data, pos)
        else:
            pos = _skip(data, pos, key & 7)
    model_status = _UPDATE_STATUS.get(status)
    if model_status is None:
        return None
    return models.UpdateResult(operation_id=op_id, status=model_status)
