"""The fast UpsertPoints encoder writes betterproto2's bytes; the fast decoder reads them back as
convert.py does from the betterproto2-decoded message."""

from __future__ import annotations

import math
import uuid

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aqdrant import models as m
from aqdrant.grpc import convert, fast
from aqdrant.grpc._proto import qdrant as q

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ------------------------------------------------------------------ strategies

keys = st.text(max_size=6)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=3),
    max_leaves=8,
)
payloads = st.none() | st.dictionaries(keys, json_values, max_size=4)
point_ids = st.integers(min_value=0, max_value=2**64 - 1) | st.uuids().map(str)
f32 = st.floats(width=32, allow_nan=False)
dense = st.lists(f32, max_size=12)
multi = st.integers(1, 4).flatmap(
    lambda d: st.lists(st.lists(f32, min_size=d, max_size=d), min_size=1, max_size=3)
)
sparse = st.lists(st.tuples(st.integers(0, 2**32 - 1), f32), max_size=6, unique_by=lambda t: t[0]).map(
    lambda pairs: m.SparseVector(indices=[i for i, _ in pairs], values=[v for _, v in pairs])
)
one_vector = dense | multi | sparse
# an unnamed vector is dense or multi-dense; sparse vectors are always named
vector_structs = dense | multi | st.dictionaries(st.text(max_size=5), one_vector, max_size=3)
points = st.builds(
    lambda i, v, p: m.PointStruct(id=i, vector=v, payload=p), point_ids, vector_structs, payloads
)


def reference_upsert(collection: str, pts: list[m.PointStruct], **kw) -> bytes:
    return bytes(
        q.UpsertPoints(
            collection_name=collection, points=[convert.point_struct_to_grpc(p) for p in pts], **kw
        )
    )


# ------------------------------------------------------------------ encoding


@SETTINGS
@given(json_values)
def test_value_bytes_match_betterproto2(v) -> None:
    assert fast.encode_value(v) == bytes(convert.value_to_grpc(v))


@SETTINGS
@given(st.text(max_size=8), st.lists(points, max_size=5), st.none() | st.booleans())
def test_upsert_of_point_structs_matches_betterproto2(collection, pts, wait) -> None:
    assert fast.encode_upsert_points(collection, pts, wait=wait) == reference_upsert(
        collection, pts, wait=wait
    )


@SETTINGS
@given(
    st.integers(0, 6).flatmap(
        lambda n: st.tuples(
            st.lists(point_ids, min_size=n, max_size=n),
            st.integers(0, 9),
            st.lists(payloads, min_size=n, max_size=n) | st.none(),
            st.sampled_from(["<f4", ">f4", "<f8"]),
            st.booleans(),
        )
    ),
    st.randoms(use_true_random=False),
)
def test_columnar_numpy_upsert_matches_betterproto2(args, rnd) -> None:
    ids, dim, pls, dtype, named = args
    rng = np.random.default_rng(rnd.randrange(2**32))
    mat = (rng.standard_normal((len(ids), dim)) * 10).astype(dtype)
    vectors = {"text": mat, "image": mat[:, ::-1]} if named else mat
    got = fast.encode_upsert_points("coll", ids=ids, vectors=vectors, payloads=pls, wait=True)
    pts = []
    for i, pid in enumerate(ids):
        row = mat[i].astype(np.float32).tolist()
        vec = {"text": row, "image": mat[i, ::-1].astype(np.float32).tolist()} if named else row
        pts.append(m.PointStruct(id=pid, vector=vec, payload=pls[i] if pls else None))
    assert got == reference_upsert("coll", pts, wait=True)


def test_upsert_optional_fields_match_betterproto2() -> None:
    ordering = q.WriteOrdering(type=q.WriteOrderingType.Strong)
    sks = q.ShardKeySelector(shard_keys=[q.ShardKey(keyword="a")])
    flt = convert.filter_to_grpc(m.Filter(must=[m.FieldCondition(key="k", match=m.MatchValue(value=3))]))
    vec = np.arange(8, dtype=np.float32).reshape(2, 4)
    got = fast.encode_upsert_points(
        "c",
        ids=[1, str(uuid.UUID(int=7))],
        vectors=vec,
        ordering=ordering,
        shard_key_selector=sks,
        update_filter=flt,
        timeout=30,
        update_mode=q.UpdateMode.InsertOnly,
        wait=False,
    )
    ref = q.UpsertPoints(
        collection_name="c",
        wait=False,
        points=[
            q.PointStruct(
                id=q.PointId(num=1),
                vectors=q.Vectors(vector=q.Vector(dense=q.DenseVector(data=[0, 1, 2, 3]))),
            ),
            q.PointStruct(
                id=q.PointId(uuid=str(uuid.UUID(int=7))),
                vectors=q.Vectors(vector=q.Vector(dense=q.DenseVector(data=[4, 5, 6, 7]))),
            ),
        ],
        ordering=ordering,
        shard_key_selector=sks,
        update_filter=flt,
        timeout=30,
        update_mode=q.UpdateMode.InsertOnly,
    )
    assert got == bytes(ref)


def test_large_768d_batch_round_trips_through_betterproto2() -> None:
    rng = np.random.default_rng(1)
    mat = rng.standard_normal((50, 768)).astype(np.float32)
    data = fast.encode_upsert_points(
        "c", ids=list(range(50)), vectors=mat, payloads=[{"i": i} for i in range(50)]
    )
    msg = q.UpsertPoints.parse(data)
    assert len(msg.points) == 50
    np.testing.assert_array_equal(
        np.array(msg.points[49].vectors.vector.dense.data, dtype=np.float32), mat[49]
    )
    assert msg.points[3].payload["i"].integer_value == 3
    assert bytes(msg) == data


def test_encoder_rejects_bad_input() -> None:
    with pytest.raises(OverflowError):
        fast.encode_value(2**63)
    with pytest.raises(TypeError):
        fast.encode_value(object())
    with pytest.raises(ValueError):
        fast.encode_upsert_points("c", ids=[1, 2], vectors=np.zeros((3, 4), np.float32))
    with pytest.raises(ValueError):
        fast.encode_upsert_points("c", ids=[-1], vectors=np.zeros((1, 4), np.float32))


# ------------------------------------------------------------------ decoding

scored_points = st.builds(
    lambda i, p, s, ver, v, sk, ov: m.ScoredPoint(
        id=i, payload=p or None, score=s, version=ver, vector=v, shard_key=sk, order_value=ov
    ),
    point_ids,
    payloads,
    f32,
    st.integers(0, 2**64 - 1),
    st.none() | vector_structs,
    st.none() | st.integers(0, 2**64 - 1) | st.text(max_size=4),
    st.none() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False),
)
records = st.builds(
    lambda i, p, v: m.Record(id=i, payload=p or None, vector=v),
    point_ids,
    payloads,
    st.none() | vector_structs,
)


def _same(a, b) -> bool:
    """Equality that treats -0.0 == 0.0 as different (bytes matter) but is plain otherwise."""
    return a == b


@SETTINGS
@given(st.lists(scored_points, max_size=5), st.floats(0, 10))
def test_query_response_decodes_like_betterproto2(pts, time) -> None:
    msg = q.QueryResponse(result=[convert.scored_point_to_grpc(p) for p in pts], time=time)
    data = bytes(msg)
    got = fast.decode_query_response(data)
    ref = convert.result_from_grpc("query_points", q.QueryResponse.parse(data))
    assert got == ref
    assert got.points == pts  # and both are the original models


@SETTINGS
@given(st.lists(records, max_size=5), st.none() | point_ids)
def test_scroll_and_get_responses_decode_like_betterproto2(recs, nxt) -> None:
    msg = q.ScrollResponse(
        result=[convert.record_to_grpc(r) for r in recs],
        next_page_offset=convert.point_id_to_grpc(nxt) if nxt is not None else None,
        time=0.5,
    )
    data = bytes(msg)
    assert fast.decode_scroll_response(data) == convert.result_from_grpc(
        "scroll_points", q.ScrollResponse.parse(data)
    )
    assert fast.decode_scroll_response(data) == m.ScrollResult(points=recs, next_page_offset=nxt)
    get = bytes(q.GetResponse(result=[convert.record_to_grpc(r) for r in recs], time=0.1))
    assert (
        fast.decode_get_response(get)
        == recs
        == convert.result_from_grpc("get_points", q.GetResponse.parse(get))
    )


def test_decoder_reads_deprecated_vector_fields_and_skips_unknown_ones() -> None:
    old = q.ScoredPoint(
        id=q.PointId(num=1),
        score=0.5,
        vectors=q.VectorsOutput(
            vectors=q.NamedVectorsOutput(
                vectors={
                    "d": q.VectorOutput(data=[1.0, 2.0]),
                    "s": q.VectorOutput(data=[0.5], indices=q.SparseIndices(data=[7])),
                    "m": q.VectorOutput(data=[1.0, 2.0, 3.0, 4.0], vectors_count=2),
                }
            )
        ),
    )
    data = bytes(q.QueryResponse(result=[old], time=1.0, usage=q.Usage(hardware=q.HardwareUsage(cpu=3))))
    # an unknown varint field (99) and an unknown length-delimited field (98) inside the point
    inner = bytes(old) + b"\x98\x06\x05" + b"\x92\x06\x02ab"
    data2 = b"\x0a" + bytes([len(inner)]) + inner
    for raw in (data, data2):
        got = fast.decode_query_response(raw).points[0]
        assert got.vector == {
            "d": [1.0, 2.0],
            "s": m.SparseVector(indices=[7], values=[0.5]),
            "m": [[1.0, 2.0], [3.0, 4.0]],
        }
        assert got == convert.scored_point_from_grpc(q.QueryResponse.parse(raw).result[0])


def test_decoder_gives_numpy_vectors_on_request() -> None:
    mat = np.random.default_rng(0).standard_normal((3, 16)).astype(np.float32)
    msg = q.QueryResponse(
        result=[
            q.ScoredPoint(
                id=q.PointId(num=i),
                score=1.0,
                vectors=q.VectorsOutput(vector=q.VectorOutput(dense=q.DenseVector(data=mat[i].tolist()))),
            )
            for i in range(3)
        ]
    )
    got = fast.decode_query_response(bytes(msg), vectors_as_numpy=True).points
    for i in range(3):
        assert isinstance(got[i].vector, np.ndarray)
        np.testing.assert_array_equal(got[i].vector, mat[i])
        assert not math.isnan(got[i].score)
