"""models.dump's orjson path for points with list vectors writes what msgspec's path writes."""

from __future__ import annotations

import datetime
import decimal
import enum
import json
import math
import uuid

import numpy as np
import pytest

from aqdrant import models as m


class Color(str, enum.Enum):
    RED = "red"


PAYLOADS = [
    None,
    {},
    {"city": "Berlin", "n": 1, "tags": ["a", "b"], "price": 0.5, "ok": True, "none": None},
    {"nested": {"a": [1, {"b": 2.5}]}, "big": 2**63 - 1, "neg": -(2**63), "exp": 1e16, "tiny": 5e-324},
    {"when": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)},
    {"when": datetime.datetime(2024, 1, 2, 3, 4, 5, 123, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))},
    {"day": datetime.date(2024, 1, 2), "naive": datetime.datetime(2024, 1, 2)},
    {"u": uuid.UUID(int=7), "e": Color.RED, "t": (1, 2), "text": "é\u2028\"\\"},
    {"nan": math.nan, "inf": math.inf},
    # values orjson does not take the way msgspec does: the body falls back to msgspec
    {"raw": b"\x00\x01"},
    {"dec": decimal.Decimal("1.25")},
    {"s": {1, 2}},
    {"np": np.float32(0.1)},
    {"huge": 2**70},
    {1: "int key"},
]
IDS = [1, 2**63, "a", uuid.UUID(int=3)]


def msgspec_path(obj) -> bytes:
    return m._encoder.encode(obj)


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_points_list_dump_equals_msgspec_path(payload) -> None:
    points = [
        m.PointStruct(id=pid, vector=[0.1, -2.5, 1e-7, 3.0, 1], payload=payload)
        for pid in IDS
    ]
    points.append(m.PointStruct(id=9, vector=[[0.5, 1.5], [2.5, 3.5]], payload=payload))  # multivector
    body = m.PointsList(points=points)
    assert json.loads(m.dump(body)) == json.loads(msgspec_path(body))
    assert json.loads(m.dump(points)) == json.loads(msgspec_path(points))


def test_points_that_do_not_fit_take_msgspec_path() -> None:
    mixed = [
        m.PointStruct(id=1, vector=[0.5, 1.5]),
        m.PointStruct(id=2, vector=np.array([0.1, 0.2], np.float32)),  # float32 digits via the hook
        m.PointStruct(id=3, vector={"a": [0.5], "s": m.SparseVector(indices=[1], values=[0.5])}),
    ]
    for body in (m.PointsList(points=mixed), mixed, m.PointsList(points=mixed[:1], shard_key="k")):
        assert m.dump(body) == msgspec_path(body)
    assert b"0.1,0.2" in m.dump(mixed)


def test_orjson_path_is_taken_for_list_vectors() -> None:
    # Structural: the two encoders spell a large exponent differently (1e+16 vs 1e16).
    body = m.PointsList(points=[m.PointStruct(id=1, vector=[1e16])])
    assert m.dump(body) == b'{"points":[{"id":1,"vector":[1e+16]}]}'
    assert msgspec_path(body) == b'{"points":[{"id":1,"vector":[1e16]}]}'


def test_a_points_list_holding_raw_json_is_encoded_by_msgspec() -> None:
    # The REST backend encodes a large upsert as a shell with a raw placeholder for its points.
    import msgspec

    body = m.PointsList(points=[m.PointStruct(id=1, vector=[0.5])])
    msgspec.structs.force_setattr(body, "points", msgspec.Raw(b'"X"'))
    assert m.dump(body) == b'{"points":"X"}'


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_points_with_numpy_vectors_dump_equals_msgspec_path(payload, dtype) -> None:
    rng = np.random.default_rng(0)
    arr = rng.random((3, 8)).astype(dtype)
    points = [m.PointStruct(id=pid, vector=arr[i % 3], payload=payload) for i, pid in enumerate(IDS)]
    points.append(m.PointStruct(id=8, vector=[0.25, 0.5], payload=payload))  # lists mix in
    points.append(m.PointStruct(id=9, vector=arr[:2], payload=payload))  # a 2-D multivector
    for body in (m.PointsList(points=points), points):
        fast, slow = m.dump(body), msgspec_path(body)
        assert json.loads(fast) == json.loads(slow)
        assert len(fast) == len(slow) or b"e+" in fast  # the same digits (float32 ones for float32)


def test_numpy_scalar_in_payload_keeps_msgspec_semantics_next_to_array_vectors() -> None:
    body = m.PointsList(points=[m.PointStruct(id=1, vector=np.ones(2, np.float32), payload={"x": np.float32(0.1)})])
    assert m.dump(body) == msgspec_path(body)
    assert b"0.10000000149011612" in m.dump(body)  # .item(): float64 digits, as before


def test_arrays_orjson_does_not_take_the_same_way_go_through_msgspec() -> None:
    odd = [
        np.ones(3, np.float16),
        np.ones(3, np.int32),
        np.ones((2, 6), np.float32)[:, ::2],  # not C-contiguous
    ]
    for v in odd:
        points = [m.PointStruct(id=1, vector=v)]
        assert m.dump(points) == msgspec_path(points)
