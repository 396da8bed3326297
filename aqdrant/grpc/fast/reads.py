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


def _write(collection: str, fields: tuple[tuple[int, Any], ...]) -> bytes:
    """A request message: ``collection_name`` (field 1, not written when empty), then each
    (field number, value) not None in order: bytes as a sub-message, a bool or an int as a varint,
    a list as fields already written (the ids)."""
    out = [_ld(_T1_LD, collection.encode())] if collection else []
    for number, value in fields:
        if value is None:
            continue
        if isinstance(value, bytes):
            out.append(_ld(_LD[number], value))
        elif isinstance(value, list):
            out += value
        else:  # bool or int
            out.append(_VI[number] + _varint(int(value)))
    return b"".join(out)


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
    return _write(
        collection,
        ((2, _ids(_T2_LD, ids)), (4, with_payload), (5, with_vectors), (6, read_consistency),
         (7, shard_key_selector), (8, timeout)),
    )  # fmt: skip


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
    return _write(
        collection, ((2, filter), (3, exact), (4, read_consistency), (5, shard_key_selector), (6, timeout))
    )


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
    ids = None if offset is None else _ids(_LD[3], (offset,))
    return _write(
        collection,
        ((2, filter), (3, ids), (4, limit), (6, with_payload), (7, with_vectors), (8, read_consistency),
         (9, shard_key_selector), (10, order_by), (11, timeout)),
    )  # fmt: skip


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


def _result_varints(data: bytes) -> dict[int, int] | None:
    """The varint fields (field number -> value as uint64, the last one wins) of a reply's
    ``result`` message (field 1), or None when it has none."""
    data = bytes(data)
    span = _only_message(data, 0x0A)
    if span is None:
        return None
    pos, end = span
    fields = {}
    while pos < end:
        key, pos = _read_varint(data, pos)
        if key & 7 == 0:
            value, pos = _read_varint(data, pos)
            fields[key >> 3] = value & 0xFFFFFFFFFFFFFFFF
        else:
            pos = _skip(data, pos, key & 7)
    return fields


def decode_count_response(data: bytes) -> models.CountResult | None:
    """A ``CountResponse`` {1 result: CountResult{1 count}, 2 time, 3 usage} as ``CountResult``;
    None when it has no ``result`` (the general path says what that means)."""
    fields = _result_varints(data)
    return None if fields is None else models.CountResult(count=fields.get(1, 0))


_UPDATE_STATUS = {1: models.UpdateStatus.ACKNOWLEDGED, 2: models.UpdateStatus.COMPLETED}


def decode_update_response(data: bytes) -> models.UpdateResult | None:
    """A ``PointsOperationResponse`` {1 result: UpdateResult{1 operation_id, 2 status}, 2 time,
    3 usage} as ``UpdateResult``; None (the general path) without a result or for a status the
    REST model has no value for."""
    fields = _result_varints(data)
    status = None if fields is None else _UPDATE_STATUS.get(fields.get(2, 0))
    if fields is None or status is None:
        return None
    return models.UpdateResult(operation_id=fields.get(1), status=status)
