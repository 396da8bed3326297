"""Protobuf wire primitives shared by the fast encoders and decoders: varints, length-delimited
fields, skipping unknown fields."""

from __future__ import annotations

import struct
import sys
from typing import Any

import numpy as np

_F4 = np.dtype("<f4")


_pack_d = struct.Struct("<d").pack


_unpack_d = struct.Struct("<d").unpack_from


_unpack_f = struct.Struct("<f").unpack_from


_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


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


_LITTLE = sys.byteorder == "little"


_pack_f = struct.Struct("<f").pack


_F32_PACKERS: dict[int, struct.Struct] = {}


def _f32_list(values: list[Any]) -> bytes | None:
    """A list of numbers as packed little-endian float32, by ``struct`` (twice as fast as numpy
    on a list of Python floats); None when ``struct`` refuses an element (a value beyond
    float32's range, a string, a nested list...): the caller goes through numpy, whose result
    for what both take is the same (round to nearest)."""
    n = len(values)
    packer = _F32_PACKERS.get(n)
    if packer is None:
        if len(_F32_PACKERS) >= 64:
            _F32_PACKERS.clear()
        packer = _F32_PACKERS[n] = struct.Struct(f"<{n}f")
    try:
        return packer.pack(*values)
    except (struct.error, OverflowError, TypeError):
        return None
