"""The fast writers of GetPoints/CountPoints/ScrollPoints give betterproto2's bytes for the same
call; the fast readers of CountResponse/PointsOperationResponse give what betterproto2's parse and
the converters give; what they do not take goes down the general path."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aqdrant import models as m
from aqdrant.errors import UnsupportedOperation
from aqdrant.grpc import convert, fast
from aqdrant.grpc._proto import qdrant as q
from aqdrant.grpc.convert.registry import CODECS

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

point_ids = st.integers(min_value=0, max_value=2**64 - 1) | st.uuids().map(str)
names = st.text(max_size=6)
with_payload = (
    st.none()
    | st.booleans()
    | st.lists(names, max_size=3)
    | st.builds(m.PayloadSelectorInclude, include=st.lists(names, max_size=3))
    | st.builds(m.PayloadSelectorExclude, exclude=st.lists(names, max_size=3))
)
with_vector = st.none() | st.booleans() | st.lists(names, min_size=1, max_size=3)
shard_keys = (
    st.none()
    | st.integers(0, 2**32)
    | names.filter(bool)
    | st.lists(st.integers(0, 9), min_size=1, max_size=3)
)
conditions = st.builds(
    lambda k, v: m.FieldCondition(key=k, match=m.MatchValue(value=v)), names, st.integers(-5, 5) | names
)
filters = st.none() | st.builds(
    m.Filter,
    must=st.none() | st.lists(conditions, max_size=2),
    should=st.none() | st.lists(conditions, max_size=2),
)
queries = st.fixed_dictionaries(
    {},
    optional={
        "consistency": st.integers(1, 5) | st.sampled_from(list(m.ReadConsistencyType)),
        "timeout": st.integers(0, 2**40),
    },
)
paths = st.fixed_dictionaries({}, optional={"collection_name": names})
order_bys = (
    st.none()
    | names.filter(bool)
    | st.builds(m.OrderBy, key=names.filter(bool), direction=st.none() | st.sampled_from(list(m.Direction)))
)


def _general(op: str, path, query, body) -> bytes:
    return bytes(CODECS[op].request(path, query, body))


def _fast(op: str, path, query, body) -> bytes | None:
    hook = CODECS[op].encode_request
    assert hook is not None
    return hook(path, query, body)


@SETTINGS
@given(paths, queries, st.lists(point_ids, max_size=12), with_payload, with_vector, shard_keys)
def test_get_points_bytes(path, query, ids, wp, wv, sk) -> None:
    body = m.PointRequest(ids=ids, with_payload=wp, with_vector=wv, shard_key=sk)
    assert _fast("get_points", path, query, body) == _general("get_points", path, query, body)


@SETTINGS
@given(
    paths,
    queries,
    st.none()
    | st.builds(m.CountRequest, filter=filters, exact=st.none() | st.booleans(), shard_key=shard_keys),
)
def test_count_points_bytes(path, query, body) -> None:
    assert _fast("count_points", path, query, body) == _general("count_points", path, query, body)


@SETTINGS
@given(
    paths,
    queries,
    st.none()
    | st.builds(
        m.ScrollRequest,
        filter=filters,
        offset=st.none() | point_ids,
        limit=st.none() | st.integers(0, 2**32 - 1),
        with_payload=with_payload,
        with_vector=with_vector,
        order_by=order_bys,
        shard_key=shard_keys,
    ),
)
def test_scroll_points_bytes(path, query, body) -> None:
    assert _fast("scroll_points", path, query, body) == _general("scroll_points", path, query, body)


def test_the_filter_is_written_once_per_distinct_filter() -> None:
    f = m.Filter(must=[m.FieldCondition(key="k", match=m.MatchValue(value=3))])
    seen = []

    def to_grpc(model):
        seen.append(model)
        return convert.filter_to_grpc(model)

    first = fast.converted_filter_bytes(f, to_grpc)
    again = fast.converted_filter_bytes(
        m.Filter(must=[m.FieldCondition(key="k", match=m.MatchValue(value=3))]), to_grpc
    )
    assert first == again == bytes(convert.filter_to_grpc(f)) and len(seen) <= 1


@pytest.mark.parametrize("bad", [True, -1, 2**64, 1.5])
def test_ids_the_writer_refuses_take_the_general_path(bad) -> None:
    body = m.PointRequest(ids=[1, bad])  # a Struct checks no types: what a caller may pass anyway
    assert convert.registry.get_bytes({"collection_name": "c"}, {}, body) is None
    try:
        expected: object = _general("get_points", {"collection_name": "c"}, {}, body)
    except Exception as exc:  # the general path's own error, raised by the dispatcher too
        with pytest.raises(type(exc)):
            convert.encode_request("get_points", {"collection_name": "c"}, {}, body)
    else:
        assert convert.encode_request("get_points", {"collection_name": "c"}, {}, body) == expected


def test_a_scroll_limit_above_uint32_takes_the_general_path() -> None:
    body = m.ScrollRequest(limit=2**32)
    assert convert.registry.scroll_bytes({"collection_name": "c"}, {}, body) is None
    with pytest.raises(UnsupportedOperation):
        convert.encode_request("scroll_points", {"collection_name": "c"}, {}, body)


def test_a_bool_scroll_offset_takes_the_general_path() -> None:
    body = m.ScrollRequest(offset=True)
    assert convert.registry.scroll_bytes({}, {}, body) is None


# ------------------------------------------------------------------ replies

UNKNOWN = b"\xf8\x06\x07" + b"\x82\x07\x03abc" + b"\x8d\x07\x00\x00\x80\x3f" + b"\x89\x07" + b"\x00" * 8
usages = st.none() | st.just(q.Usage(hardware=q.HardwareUsage(cpu=3, payload_io_read=7)))


def _parse_general(op: str, data: bytes):
    row = CODECS[op]
    reply_type = {"count_points": q.CountResponse}.get(op, q.PointsOperationResponse)
    return row.result(reply_type.parse(data))


@SETTINGS
@given(st.integers(0, 2**64 - 1), st.floats(allow_nan=False), usages, st.booleans(), st.booleans())
def test_count_response(count, time, usage, unknown_top, unknown_inner) -> None:
    inner = bytes(q.CountResult(count=count)) + (UNKNOWN if unknown_inner else b"")
    data = bytes(q.CountResponse(time=time, usage=usage)) + b"\x0a" + bytes([len(inner)]) + inner
    if unknown_top:
        data = UNKNOWN + data + UNKNOWN
    got = fast.decode_count_response(data)
    assert got == _parse_general("count_points", data) == m.CountResult(count=count)
    assert convert.decode_result("count_points", data, q.CountResponse) == got


@SETTINGS
@given(
    st.none() | st.integers(0, 2**64 - 1),
    st.sampled_from([q.UpdateStatus.Acknowledged, q.UpdateStatus.Completed]),
    st.floats(allow_nan=False),
    usages,
    st.booleans(),
)
def test_update_response(op_id, status, time, usage, unknown) -> None:
    msg = q.PointsOperationResponse(
        result=q.UpdateResult(operation_id=op_id, status=status), time=time, usage=usage
    )
    data = bytes(msg) + (UNKNOWN if unknown else b"")
    got = fast.decode_update_response(data)
    assert got is not None and got == _parse_general("upsert_points", data)
    for op in ("upsert_points", "delete_points", "set_payload"):
        assert convert.decode_result(op, data, q.PointsOperationResponse) == got


@pytest.mark.parametrize("status", [q.UpdateStatus.UnknownUpdateStatus, q.UpdateStatus.ClockRejected])
def test_an_update_status_rest_has_no_name_for_takes_the_general_path(status) -> None:
    data = bytes(q.PointsOperationResponse(result=q.UpdateResult(operation_id=1, status=status)))
    assert fast.decode_update_response(data) is None
    with pytest.raises(ValueError):
        _parse_general("upsert_points", data)
    with pytest.raises(ValueError):
        convert.decode_result("upsert_points", data, q.PointsOperationResponse)


@pytest.mark.parametrize(
    "op,reader",
    [("count_points", fast.decode_count_response), ("upsert_points", fast.decode_update_response)],
)
def test_a_reply_without_result_takes_the_general_path(op, reader) -> None:
    data = b"\x11" + b"\x00" * 8  # only `time`
    assert reader(data) is None
    with pytest.raises(AttributeError):  # what the general path makes of it
        convert.decode_result(
            op, data, q.CountResponse if op == "count_points" else q.PointsOperationResponse
        )


def test_the_last_result_field_wins() -> None:
    data = bytes(q.CountResponse(result=q.CountResult(count=1))) + bytes(
        q.CountResponse(result=q.CountResult(count=9))
    )
    assert fast.decode_count_response(data) == _parse_general("count_points", data)


# ------------------------------------------------------------------ plain query_points

floats = st.floats(allow_nan=False, width=64) | st.integers(-(2**40), 2**40) | st.floats(width=32)
dense_inputs = st.lists(floats, max_size=16) | st.lists(st.floats(width=32, allow_nan=False), max_size=16).map(
    lambda xs: np.asarray(xs, dtype=np.float64)
)


@SETTINGS
@given(
    paths,
    queries,
    st.none() | dense_inputs | dense_inputs.map(lambda v: m.NearestQuery(nearest=v)),
    st.none() | names,
    filters,
    st.none() | st.floats(width=32, allow_nan=False),
    st.none() | st.integers(0, 2**64 - 1),
    st.none() | st.integers(0, 2**64 - 1),
    with_payload,
    with_vector,
    shard_keys,
)
def test_plain_query_points_bytes(path, query, vector, using, flt, threshold, limit, offset, wp, wv, sk) -> None:
    body = m.QueryRequest(
        query=vector,
        using=using,
        filter=flt,
        score_threshold=threshold,
        limit=limit,
        offset=offset,
        with_payload=wp,
        with_vector=wv,
        shard_key=sk,
    )
    expected = bytes(convert.request_to_grpc("query_points", path, query, body))
    assert convert.encode_request("query_points", path, query, body) == expected


@pytest.mark.parametrize(
    "vector", [[1e39, 1.0], [-1e39], [np.float64(0.1), 0.2], [[1.0, 2.0]], [], np.zeros((2, 2))]
)
def test_odd_query_vectors_match_the_general_path(vector) -> None:
    body = m.QueryRequest(query=vector)
    try:
        expected = bytes(convert.request_to_grpc("query_points", {}, {}, body))
    except Exception as exc:
        with pytest.raises(type(exc)):
            convert.encode_request("query_points", {}, {}, body)
    else:
        assert convert.encode_request("query_points", {}, {}, body) == expected


@SETTINGS
@given(st.lists(floats | st.booleans(), max_size=20))
def test_f32_list_is_numpys_float32(values) -> None:
    from aqdrant.grpc.fast._wire import _f32_list

    raw = _f32_list(values)
    if raw is not None:
        assert raw == np.asarray(values, dtype="<f4").tobytes()


# ------------------------------------------------------------------ point replies: the inline cases


def _ld(field: int, body: bytes) -> bytes:
    assert len(body) < 128
    return bytes([field << 3 | 2, len(body)]) + body


def _general_query(data: bytes):
    return convert.result_from_grpc("query_points", q.QueryResponse.parse(data))


@pytest.mark.parametrize("pid", [0, 1, 127, 128, 300, 16383, 16384, 2**21, 2**64 - 1])
@pytest.mark.parametrize("key", ["", "k", "x" * 130])
def test_point_ids_and_payload_keys_read_inline_or_not(pid, key) -> None:
    point = m.ScoredPoint(id=pid, version=2, score=0.5, payload={key: "v" * 200, "n": 3})
    data = bytes(q.QueryResponse(result=[convert.scored_point_to_grpc(point)]))
    assert fast.decode_query_response(data) == _general_query(data)
    rec = m.Record(id=pid, payload={key: 1})
    get = bytes(q.GetResponse(result=[convert.record_to_grpc(rec)]))
    assert fast.decode_get_response(get) == [rec] == convert.result_from_grpc("get_points", q.GetResponse.parse(get))


@pytest.mark.parametrize(
    "entry",
    [
        _ld(2, b"\x18\x05") + _ld(1, b"k"),  # value before key
        _ld(1, b"k") + _ld(2, b"\x18\x05") + b"\x18\x01",  # an unknown field after the value
        _ld(1, b"k") + _ld(2, b"\x18\x05") + _ld(1, b"j"),  # the key twice: the last wins
        _ld(2, b"\x18\x05"),  # no key
    ],
)
def test_payload_entries_in_other_layouts(entry) -> None:
    # (an entry without a value: betterproto2's path fails on it, so it is no oracle there)
    point = _ld(1, b"\x08\x07") + _ld(2, entry) + b"\x1d\x00\x00\x80\x3f"
    for pid in (b"\x08\x80\x01", b"\x08\x80\x00", b"\x08\x05\x18\x01"):  # 128, non-canonical 0, unknown field
        data = _ld(1, _ld(1, pid) + point[4:])
        assert fast.decode_query_response(data) == _general_query(data)
