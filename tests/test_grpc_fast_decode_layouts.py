"""The point decoder reads the common layouts inline (a payload entry whose value is a small int
or a short string, an id below 2^14, a version below 2^7): each inline read and each fallback
next to it decodes as betterproto2 does."""

from __future__ import annotations

import pytest

from aqdrant import models as m
from aqdrant.grpc import convert, fast
from aqdrant.grpc._proto import qdrant as q

PAYLOADS = [
    {"k": 0},
    {"k": 127},
    {"k": 128},  # two-byte varint: the general value reader
    {"k": -1},
    {"k": 2**63 - 1},
    {"s": ""},
    {"s": "p0"},
    {"s": "x" * 127},
    {"s": "x" * 200},  # a long string: two-byte length
    {"s": "héllo"},
    {"f": 0.5, "b": True, "n": None, "l": [1, "a"], "o": {"i": 2}},
    {"k" * 130: 1},  # a long key: the general entry reader
    {"": 3},
]
IDS = [0, 1, 127, 128, 16383, 16384, 2**40, "00000000-0000-0000-0000-000000000007"]
VERSIONS = [0, 1, 127, 128, 2**33]


def _both(points: list[m.ScoredPoint]) -> None:
    data = bytes(q.QueryResponse(result=[convert.scored_point_to_grpc(p) for p in points], time=0.25))
    got = fast.decode_query_response(data)
    assert got == convert.result_from_grpc("query_points", q.QueryResponse.parse(data))
    assert got.points == points


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_payload_values(payload) -> None:
    _both([m.ScoredPoint(id=1, version=2, score=0.5, payload=payload)])


@pytest.mark.parametrize("pid", IDS, ids=repr)
@pytest.mark.parametrize("version", VERSIONS)
def test_ids_and_versions(pid, version) -> None:
    _both([m.ScoredPoint(id=pid, version=version, score=-1.25, payload={"k": 1}), m.ScoredPoint(id=3, version=0, score=0.0)])


def test_records_take_the_same_paths() -> None:
    recs = [m.Record(id=pid, payload=payload) for pid, payload in zip(IDS, PAYLOADS, strict=False)]
    data = bytes(q.GetResponse(result=[convert.record_to_grpc(r) for r in recs], time=0.1))
    assert fast.decode_get_response(data) == recs == convert.result_from_grpc("get_points", q.GetResponse.parse(data))


def test_a_value_with_two_fields_keeps_the_last_one() -> None:
    # Value{3 integer_value: 5, 4 string_value: "a"}: not the inline layout; protobuf's oneof
    # keeps the last field read (betterproto2 refuses such a message, so no reference here)
    value = bytes([0x18, 5, 0x22, 1]) + b"a"
    entry = bytes([0x0A, 1]) + b"k" + bytes([0x12, len(value)]) + value
    point = bytes([0x0A, 2, 0x08, 9, 0x12, len(entry)]) + entry
    data = bytes([0x0A, len(point)]) + point
    got = fast.decode_query_response(data).points[0]
    assert got == m.ScoredPoint(id=9, version=0, score=0.0, payload={"k": "a"})
