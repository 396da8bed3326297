"""The dev server's fast ``UpsertPoints`` reader (aqdrant.grpc.fast.decode_upsert_points) gives
the same points as the betterproto2 path (convert.request_from_grpc), or declines (None)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from aqdrant import models as m
from aqdrant.grpc import convert, fast
from aqdrant.grpc._proto import qdrant as q

ids = st.one_of(st.integers(0, 2**64 - 1), st.uuids().map(str))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=8),
)
payloads = st.one_of(st.none(), st.dictionaries(st.text(max_size=6), scalars, max_size=4))


def as_points(body: m.PointsBatch | m.PointsList) -> list[tuple[object, list[float], object]]:
    if isinstance(body, m.PointsBatch):
        b = body.batch
        pl = b.payloads or [None] * len(b.ids)
        return [
            (i, np.asarray(v, np.float32).tolist(), p) for i, v, p in zip(b.ids, b.vectors, pl, strict=True)
        ]
    return [(p.id, np.asarray(p.vector, np.float32).tolist(), p.payload) for p in body.points]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(ids, payloads), min_size=1, max_size=6),
    st.integers(1, 9),
    st.one_of(st.none(), st.booleans()),
    st.one_of(st.none(), st.integers(1, 100)),
    st.booleans(),
)
def test_fast_upsert_reader_matches_betterproto(points, dim, wait, timeout, use_fast_encoder) -> None:
    rng = np.random.default_rng(len(points) * dim)
    mat = rng.standard_normal((len(points), dim)).astype(np.float32)
    if use_fast_encoder:  # what aqdrant's client sends
        data = fast.encode_upsert_points(
            "c",
            ids=[i for i, _ in points],
            vectors=mat,
            payloads=[p for _, p in points],
            wait=wait,
            timeout=timeout,
        )
    else:  # betterproto2's own bytes (the peer's are the same wire format)
        data = bytes(
            q.UpsertPoints(
                collection_name="c",
                wait=wait,
                timeout=timeout,
                points=[
                    q.PointStruct(
                        id=convert.point_id_to_grpc(i),
                        payload=convert.payload_to_grpc(p),
                        vectors=q.Vectors(vector=q.Vector(dense=q.DenseVector(data=mat[k].tolist()))),
                    )
                    for k, (i, p) in enumerate(points)
                ],
            )
        )
    got = fast.decode_upsert_points(data)
    assert got is not None
    want = convert.request_from_grpc("upsert_points", q.UpsertPoints.parse(data))
    assert got[0] == want[0] and got[1] == want[1]
    assert as_points(got[2]) == as_points(want[2])
    assert isinstance(got[2].batch.vectors, np.ndarray) and got[2].batch.vectors.dtype == np.float32


def test_other_shapes_are_declined() -> None:
    named = q.UpsertPoints(
        collection_name="c",
        points=[
            q.PointStruct(
                id=q.PointId(num=1),
                vectors=q.Vectors(
                    vectors=q.NamedVectors(vectors={"a": q.Vector(dense=q.DenseVector(data=[1.0]))})
                ),
            )
        ],
    )
    sparse = q.UpsertPoints(
        collection_name="c",
        points=[
            q.PointStruct(
                id=q.PointId(num=1),
                vectors=q.Vectors(vector=q.Vector(sparse=q.SparseVector(values=[1.0], indices=[3]))),
            )
        ],
    )
    ragged = q.UpsertPoints(
        collection_name="c",
        points=[
            q.PointStruct(
                id=q.PointId(num=i),
                vectors=q.Vectors(vector=q.Vector(dense=q.DenseVector(data=[1.0] * (i + 1)))),
            )
            for i in range(2)
        ],
    )
    ordered = q.UpsertPoints(
        collection_name="c",
        ordering=q.WriteOrdering(type=q.WriteOrderingType.Strong),
        points=[
            q.PointStruct(
                id=q.PointId(num=1), vectors=q.Vectors(vector=q.Vector(dense=q.DenseVector(data=[1.0])))
            )
        ],
    )
    no_vector = q.UpsertPoints(collection_name="c", points=[q.PointStruct(id=q.PointId(num=1))])
    doc = q.UpsertPoints(
        collection_name="c",
        points=[
            q.PointStruct(
                id=q.PointId(num=1),
                vectors=q.Vectors(vector=q.Vector(document=q.Document(text="x", model="m"))),
            )
        ],
    )
    for msg in (named, sparse, ragged, ordered, no_vector, doc, q.UpsertPoints(collection_name="c")):
        assert fast.decode_upsert_points(bytes(msg)) is None, msg


dense = st.integers(1, 6).flatmap(lambda d: st.lists(st.floats(-1e3, 1e3, width=32), min_size=d, max_size=d))
sparse = st.builds(
    lambda ix, v: m.SparseVector(indices=sorted(ix), values=v[: len(ix)]),
    st.lists(st.integers(0, 1000), min_size=1, max_size=3, unique=True),
    st.lists(st.floats(-10, 10, width=32), min_size=3, max_size=3),
)
multi = st.lists(st.lists(st.floats(-5, 5, width=32), min_size=2, max_size=2), min_size=1, max_size=3)
vectors = st.one_of(
    st.none(),
    dense,
    st.dictionaries(
        st.sampled_from(["a", "b", "sp", "mv"]), st.one_of(dense, sparse, multi), min_size=1, max_size=3
    ),
)
extras = st.one_of(st.none(), st.integers(0, 5), st.sampled_from(["k1", "k2"]))


def _record(pid, payload, vector, extra) -> m.Record:
    order_value = extra if isinstance(extra, int) else None
    return m.Record(id=pid, payload=payload, vector=vector, order_value=order_value)


def _scored(pid, payload, vector, extra, score, version) -> m.ScoredPoint:
    shard_key = extra if isinstance(extra, str) else None
    return m.ScoredPoint(
        id=pid, version=version, score=score, payload=payload, vector=vector, shard_key=shard_key
    )


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(ids, payloads, vectors, extras, st.floats(-2, 2, width=32), st.integers(0, 2**40)),
        max_size=5,
    ),
    st.one_of(st.none(), ids),
    st.floats(0, 10),
)
def test_fast_point_replies_match_betterproto(points, nxt, elapsed) -> None:
    records = [_record(p[0], p[1], p[2], p[3]) for p in points]
    scored = [_scored(*p) for p in points]
    cases = [
        ("get_points", records, fast.encode_get_response, q.GetResponse),
        (
            "scroll_points",
            m.ScrollResult(points=records, next_page_offset=nxt),
            fast.encode_scroll_response,
            q.ScrollResponse,
        ),
        ("query_points", m.QueryResponse(points=scored), fast.encode_query_response, q.QueryResponse),
    ]
    for op, result, encoder, reply in cases:
        want = reply.parse(bytes(convert.result_to_grpc(op, result, elapsed)))
        got = reply.parse(encoder(result, elapsed))
        assert got == want, op
        # and the client reads back what the server meant
        assert convert.result_from_grpc(op, got) == convert.result_from_grpc(op, want)
