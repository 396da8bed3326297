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
