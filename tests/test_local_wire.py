"""The embedded engine's wire format for vectors, both ways.

Requests: float numpy arrays travel as raw bytes and reach the engine as ``array.array`` rows
in update bodies. Replies: point lists come in chunk frames with dense vectors as float32 bytes
(``RawVector.from_float32``). Whatever the path, the floats read back are exactly the stored
float32 values, for unnamed, named, sparse and multi vectors, numpy or lists in, every read.
"""

from __future__ import annotations

import pickle

import anyio
import msgspec
import numpy as np
import pytest
from test_local_helpers import call

from aqdrant import AsyncQdrantClient, BadRequest, models
from aqdrant.local import protocol

pytestmark = pytest.mark.anyio

N = protocol.CHUNK_POINTS * 2 + 37  # three chunk frames, the last one partial


def f32(x) -> list:
    """What the engine stores for ``x``: the float32 values, as Python floats."""
    return np.asarray(x, dtype=np.float32).tolist()


def slot(point: models.Model) -> object:
    """The vector slot as parsed, before an attribute access materializes it."""
    return object.__getattribute__(point, "vector")


@pytest.fixture
async def client():
    async with AsyncQdrantClient(":memory:") as c:
        yield c


async def test_unnamed_dense_from_numpy_and_lists_reads_back_exactly(client):
    rng = np.random.default_rng(1)
    vecs = rng.standard_normal((N, 5)).astype(np.float32)
    await client.create_collection(
        "u", vectors_config=models.VectorParams(size=5, distance=models.Distance.DOT)
    )
    half = N // 2
    # the first half as one numpy Batch, the rest as lists (float64 digits, rounded by the engine)
    await client.upsert(
        "u",
        models.Batch(ids=list(range(half)), vectors=vecs[:half], payloads=[{"i": i} for i in range(half)]),
    )
    lists = vecs[half:].astype(np.float64) + 1e-9  # not float32-exact: the engine rounds
    await client.upsert(
        "u",
        [
            models.PointStruct(id=half + k, vector=v.tolist(), payload={"i": half + k})
            for k, v in enumerate(lists)
        ],
    )
    expected = {i: f32(vecs[i]) if i < half else f32(lists[i - half]) for i in range(N)}

    page, nxt = await client.scroll("u", limit=N, with_vectors=True)
    assert nxt is None and [p.id for p in page] == list(range(N))
    assert all(slot(p).__class__ is models.RawVector for p in page)
    assert all(p.vector == expected[p.id] and p.payload == {"i": p.id} for p in page)
    assert slot(page[0]).__class__ is list  # materialized once, on first access

    recs = await client.retrieve("u", list(range(N - 1, -1, -1)), with_vectors=True)
    assert sorted(r.id for r in recs) == list(range(N))
    for r in recs:
        v = slot(r)
        assert len(v) == 5 and np.asarray(v).dtype == np.float64
        assert np.array_equal(np.asarray(v), np.asarray(expected[r.id]))
        assert models.dump(r) == msgspec.json.encode(
            {"id": r.id, "payload": {"i": r.id}, "vector": expected[r.id]}
        )

    res = await client.query_points("u", query=vecs[3], limit=N, with_vectors=True)
    assert len(res.points) == N
    assert all(p.vector == expected[p.id] for p in res.points)
    scores = np.asarray([expected[p.id] for p in res.points], dtype=np.float32) @ vecs[3]
    assert np.allclose([p.score for p in res.points], scores, rtol=1e-5, atol=1e-5)

    batch = await client.query_batch_points(
        "u",
        [
            models.QueryRequest(query=vecs[0].tolist(), limit=N, with_vector=True),
            models.QueryRequest(query=vecs[1].tolist(), limit=3),
            models.QueryRequest(query=vecs[2].tolist(), limit=300, with_vector=True, with_payload=True),
        ],
    )
    assert [len(r.points) for r in batch] == [N, 3, 300]
    assert all(p.vector == expected[p.id] for p in batch[0].points)
    assert all(slot(p) is None for p in batch[1].points)
    assert all(p.vector == expected[p.id] and p.payload == {"i": p.id} for p in batch[2].points)

    page, _ = await client.scroll("u", limit=N, with_vectors=False)
    assert all(slot(p) is None for p in page)
    one = await client.retrieve("u", [7], with_vectors=True)
    assert one[0].vector == expected[7]


async def test_named_sparse_and_multi_vectors_every_selection(client):
    rng = np.random.default_rng(2)
    dense = rng.standard_normal((N, 3)).astype(np.float32)
    multi = rng.standard_normal((N, 2, 2)).astype(np.float32)
    await client.create_collection(
        "n",
        vectors_config={
            "d": models.VectorParams(size=3, distance=models.Distance.DOT),
            "m": models.VectorParams(
                size=2,
                distance=models.Distance.DOT,
                multivector_config=models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM),
            ),
        },
        sparse_vectors_config={"s": models.SparseVectorParams()},
    )

    def sparse(i: int) -> models.SparseVector:
        return models.SparseVector(indices=[i % 7, 10 + i % 3], values=[0.1 * (i % 5 + 1), 1 / 3])

    points = []
    for i in range(N):
        if i % 3 == 0:  # numpy: a 1-D dense array, a 2-D multivector array
            vector = {"d": dense[i], "m": multi[i], "s": sparse(i)}
        elif i % 3 == 1:  # lists
            vector = {"d": dense[i].tolist(), "m": multi[i].tolist(), "s": sparse(i)}
        else:  # only some names
            vector = {"d": dense[i]}
        points.append(models.PointStruct(id=i, vector=vector))
    await client.upsert("n", points)
    # a numpy Batch of named vectors overwrites the last points' dense vectors
    tail = list(range(N - 5, N))
    new = rng.standard_normal((5, 3)).astype(np.float32)
    await client.upsert("n", models.Batch(ids=tail, vectors={"d": new}))
    dense[tail] = new

    def expected(i: int, names: set[str]) -> dict:
        out: dict = {"d": f32(dense[i])}
        if i % 3 != 2 and i not in tail:
            out["m"] = f32(multi[i])
            out["s"] = models.SparseVector(indices=sparse(i).indices, values=f32(sparse(i).values))
        return {k: v for k, v in out.items() if k in names}

    for with_vectors, names in ((True, {"d", "m", "s"}), (["d"], {"d"}), (["s", "m"], {"s", "m"})):
        page, _ = await client.scroll("n", limit=N, with_vectors=with_vectors)
        assert len(page) == N
        for p in page:
            want = expected(p.id, names)
            assert (p.vector or {}) == want, (p.id, with_vectors)
            if "d" in want:
                assert isinstance(p.vector["d"], list)
        recs = await client.retrieve("n", list(range(N)), with_vectors=with_vectors)
        assert all((r.vector or {}) == expected(r.id, names) for r in recs)
        res = await client.query_points("n", query=dense[0], using="d", limit=N, with_vectors=with_vectors)
        assert len(res.points) == N
        assert all((p.vector or {}) == expected(p.id, names) for p in res.points)

    res = await client.query_points("n", query=multi[0], using="m", limit=5, with_vectors=["m"])
    assert res.points and all(p.vector == {"m": f32(multi[p.id])} for p in res.points)
    res = await client.query_points("n", query=sparse(4), using="s", limit=5, with_vectors=["s"])
    assert all("s" in p.vector for p in res.points)
    groups = await client.query_points_groups(
        "n", group_by="g", query=dense[0], using="d", limit=2, with_vectors=["d"]
    )
    assert groups.groups == []  # no payload key `g`: the grouping path is unaffected
    got = await client.retrieve("n", [3], with_vectors=True)
    want = {k: msgspec.to_builtins(v) for k, v in expected(3, {"d", "m", "s"}).items()}
    assert msgspec.json.decode(models.dump(got[0]))["vector"] == want


async def test_update_vectors_batch_update_and_numpy_payload_arrays(client):
    await client.create_collection(
        "p", vectors_config=models.VectorParams(size=3, distance=models.Distance.EUCLID)
    )
    emb32 = np.array([0.1, 0.2, 0.3], dtype=np.float32)
    emb64 = np.array([[0.1, 0.2], [1 / 3, 2.5]], dtype=np.float64)
    await client.upsert(
        "p",
        models.Batch(
            ids=[1, 2],
            vectors=np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32),
            payloads=[{"e": emb32, "n": 1}, {"e": emb64, "nested": {"x": emb32}}],
        ),
    )
    recs = {r.id: r for r in await client.retrieve("p", [1, 2], with_vectors=True)}
    assert recs[1].payload == {"e": f32(emb32), "n": 1}
    assert recs[2].payload == {"e": emb64.tolist(), "nested": {"x": f32(emb32)}}  # float64 kept exactly
    assert recs[1].vector == [1.0, 2.0, 3.0]

    await client.update_vectors("p", [models.PointVectors(id=1, vector=np.array([0.5, 0.25, 1 / 3]))])
    await client.batch_update_points(
        "p",
        [
            models.UpsertOperation(
                upsert=models.PointsBatch(batch=models.Batch(ids=[3], vectors=np.array([[7.0, 8.0, 9.0]])))
            ),
            models.UpdateVectorsOperation(
                update_vectors=models.UpdateVectors(points=[models.PointVectors(id=2, vector=np.arange(3.0))])
            ),
        ],
    )
    recs = {r.id: r for r in await client.retrieve("p", [1, 2, 3], with_vectors=True)}
    assert recs[1].vector == f32([0.5, 0.25, 1 / 3])
    assert recs[2].vector == [0.0, 1.0, 2.0]
    assert recs[3].vector == [7.0, 8.0, 9.0]


async def test_ids_and_vectors_off_the_fast_path_are_converted_or_rejected(client):
    await client.create_collection(
        "f", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT)
    )
    uid = "3f0c7b7e-6a57-4b8d-9d7c-0a1b2c3d4e5f"
    await client.upsert(
        "f", models.Batch(ids=[uid, 5], vectors=np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32))
    )
    recs = {str(r.id): r.vector for r in await client.retrieve("f", [uid.upper(), 5], with_vectors=True)}
    assert recs == {uid: [1.0, 2.0], "5": [3.0, 4.0]}
    with pytest.raises(BadRequest, match="point id"):  # the engine's own check (the client's is bypassed)
        await call(
            client._backend,
            "upsert_points",
            {"batch": {"ids": [1, -2], "vectors": [[1.0, 2.0], [3.0, 4.0]]}},
            collection_name="f",
        )
    assert (await client.count("f")).count == 2


async def test_a_caller_cancelled_during_a_chunked_reply_leaves_the_connection_usable(client):
    await client.create_collection(
        "c", vectors_config=models.VectorParams(size=64, distance=models.Distance.DOT)
    )
    vecs = np.random.default_rng(3).standard_normal((N * 4, 64)).astype(np.float32)
    await client.upsert("c", models.Batch(ids=list(range(len(vecs))), vectors=vecs))
    for delay in (0.0, 0.001, 0.003, 0.01):
        with anyio.move_on_after(delay):
            await client.scroll("c", limit=len(vecs), with_vectors=True)
        page, _ = await client.scroll("c", limit=len(vecs), with_vectors=True)
        assert len(page) == len(vecs) and page[-1].vector == f32(vecs[-1])
    assert client._backend._conn.partial == {}


def test_raw_vector_from_float32():
    a = np.array([0.1, -2.5, 1 / 3], dtype=np.float32)
    v = models.RawVector.from_float32(a.tobytes())
    assert len(v) == 3 and v == a.tolist() and list(v) == a.tolist() and v[1] == -2.5
    assert np.asarray(v).dtype == np.float64 and np.asarray(v, dtype=np.float32).tobytes() == a.tobytes()
    assert v.raw == msgspec.json.encode(a.tolist())  # the digits the JSON reply used to carry
    assert models.dump(v) == v.raw
    assert pickle.loads(pickle.dumps(v)) == v
    assert models.parse(models.VectorStructOutput, v) is v


async def test_empty_and_mixed_point_lists(client):
    await client.create_collection(
        "e", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT)
    )
    with anyio.fail_after(30):  # a reply waiting for chunk frames that never come would hang
        assert await client.scroll("e", limit=10, with_vectors=True) == ([], None)
        assert (await client.query_points("e", query=[1.0, 0.0], with_vectors=True)).points == []
        assert await client.retrieve("e", [1, 2], with_vectors=True) == []
        await client.upsert("e", [models.PointStruct(id=i, vector=[float(i), 1.0]) for i in range(1, 4)])
        batch = await client.query_batch_points(
            "e",
            [
                models.QueryRequest(query=[1.0, 0.0], limit=10, with_vector=True),
                models.QueryRequest(
                    query=[1.0, 0.0], filter=models.Filter(must=[models.HasIdCondition(has_id=[99])])
                ),
                models.QueryRequest(query=[-1.0, 0.0], limit=1, with_vector=True),
            ],
        )
        assert [[p.id for p in r.points] for r in batch] == [[3, 2, 1], [], [1]]
        assert batch[0].points[0].vector == [3.0, 1.0] and batch[2].points[0].vector == [1.0, 1.0]
        assert await client.retrieve("e", [7], with_vectors=True) == []

