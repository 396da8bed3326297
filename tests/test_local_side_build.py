"""Index builds off to the side (aqdrant/local/sidebuild.py): reads never wait for a build.

The builder process is held at a gate (``AQDRANT_SIDE_BUILD_GATE``) after copying the shard, so
the tests act while a build is certainly in progress - no timing involved: a call that returns
while the builder waits at the gate was served during the build. Through the client on both
anyio backends; the engine's own bookkeeping (cancel, divergence) on an in-process ``Engine``.
"""

from __future__ import annotations

import os
import select
import signal

import anyio
import numpy as np
import pytest

from aqdrant import AsyncQdrantClient, models
from aqdrant.local import engine, sidebuild

DIM = 16
N = 3000
#: the whole test, not an assertion: a broken build must not hang the suite
PATIENCE = 240


@pytest.fixture
def gate(tmp_path, monkeypatch):
    """Side builds for any size, held at a gate until the test opens it (``open_gate``)."""
    path = tmp_path / "gate"
    monkeypatch.setenv(sidebuild.MIN_POINTS_ENV, "0")
    monkeypatch.setenv(sidebuild.GATE_ENV, str(path))
    return path


def open_gate(gate) -> None:
    gate.touch()


async def wait_for_builder(gate) -> None:
    waiting = gate.with_name(gate.name + ".waiting")
    while not waiting.exists():
        await anyio.sleep(0.02)
    waiting.unlink()  # a later build announces itself anew


def _data(n: int = N, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(20, DIM))
    return (centers[rng.integers(0, 20, n)] + 0.2 * rng.normal(size=(n, DIM))).astype(np.float32)


def _exact_top(x: np.ndarray, ids: np.ndarray, q: np.ndarray, k: int = 10) -> list[int]:
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    scores = xn @ (q / np.linalg.norm(q))
    return [int(ids[i]) for i in np.argsort(-scores)[:k]]


async def _create(client: AsyncQdrantClient) -> None:
    await client.create_collection(
        "c",
        vectors_config=models.VectorParams(size=DIM, distance=models.Distance.COSINE),
        # small enough that 3,000 x 16-d points get an HNSW index
        optimizers_config=models.OptimizersConfigDiff(indexing_threshold=10),
    )


async def _load(client: AsyncQdrantClient, x: np.ndarray) -> None:
    for start in range(0, len(x), 500):
        ids = list(range(start, min(start + 500, len(x))))
        await client.upsert(
            "c",
            points=models.Batch(ids=ids, vectors=x[ids], payloads=[{"n": i, "v": 0} for i in ids]),
        )


async def _until_built(client: AsyncQdrantClient) -> models.CollectionInfo:
    while True:
        info = await client.get_collection("c")
        if info.status == models.CollectionStatus.GREEN and info.indexed_vectors_count:
            return info
        await anyio.sleep(0.05)


async def _writes_during_the_build(client: AsyncQdrantClient, x: np.ndarray) -> np.ndarray:
    """Updates whose order matters, all acknowledged while the builder waits; returns the
    vectors the collection must hold afterwards (row i = point i, deleted rows NaN)."""
    new = _data(50, seed=7)
    await client.upsert(
        "c", points=models.Batch(ids=list(range(N, N + 50)), vectors=new, payloads=[{"v": 1}] * 50)
    )
    await client.set_payload("c", payload={"v": 2}, points=[N, N + 1])
    await client.overwrite_payload("c", payload={"v": 3}, points=[N + 1])
    await client.delete("c", points_selector=models.PointIdsList(points=list(range(0, 100))))
    await client.upsert("c", points=[models.PointStruct(id=5, vector=new[0].tolist(), payload={"v": 4})])
    expect = np.concatenate([x, new])
    expect[0:100] = np.nan
    expect[5] = new[0]
    return expect


async def _check_contents(client: AsyncQdrantClient, expect: np.ndarray) -> None:
    alive = np.flatnonzero(~np.isnan(expect[:, 0]))
    assert (await client.count("c", exact=True)).count == len(alive)
    recs = {r.id: r.payload for r in await client.retrieve("c", [0, 5, 99, 100, N, N + 1, N + 49])}
    assert 0 not in recs and 99 not in recs
    assert recs[5] == {"v": 4}
    assert recs[100] == {"n": 100, "v": 0}
    assert recs[N] == {"v": 2}
    assert recs[N + 1] == {"v": 3}  # set then overwritten: replayed in order
    assert recs[N + 49] == {"v": 1}


async def _recall(client: AsyncQdrantClient, expect: np.ndarray, queries: np.ndarray) -> float:
    alive = np.flatnonzero(~np.isnan(expect[:, 0]))
    hits = 0
    for q in queries:
        got = [p.id for p in (await client.query_points("c", query=q, limit=10)).points]
        hits += len(set(got) & set(_exact_top(expect[alive], alive, q)))
    return hits / (10 * len(queries))


@pytest.mark.anyio
async def test_reads_and_writes_are_served_while_an_index_is_built(gate):
    x = _data()
    queries = _data(20, seed=11)
    with anyio.fail_after(PATIENCE):
        async with AsyncQdrantClient(":memory:", local_optimize_after=0.05) as client:
            await _create(client)
            await _load(client, x)
            await wait_for_builder(gate)
            # the builder holds its copy at the gate: everything below is served during the build
            info = await client.get_collection("c")
            assert info.status == models.CollectionStatus.YELLOW
            assert info.indexed_vectors_count == 0
            # unindexed: the engine's exact search
            ids = np.arange(N)
            for q in queries[:5]:
                got = [p.id for p in (await client.query_points("c", query=q, limit=10)).points]
                assert got == _exact_top(x, ids, q)
            expect = await _writes_during_the_build(client, x)
            await _check_contents(client, expect)  # read-your-writes during the build
            assert not gate.exists()  # the builder is still waiting
            open_gate(gate)
            info = await _until_built(client)
            assert info.indexed_vectors_count > 0
            await _check_contents(client, expect)
            assert await _recall(client, expect, queries) >= 0.95
            root = client._backend.root
            # the original shard was replaced by the built copy: one shard directory, no leftovers
            assert len([d for d in os.listdir(root) if d.startswith("shard-")]) == 1


@pytest.mark.anyio
async def test_a_crash_during_a_build_keeps_every_acknowledged_write(gate, tmp_path):
    x = _data()
    path = str(tmp_path / "db")
    with anyio.fail_after(PATIENCE):
        async with AsyncQdrantClient(path=path, local_optimize_after=0.05) as client:
            await _create(client)
            await _load(client, x)
            await wait_for_builder(gate)
            expect = await _writes_during_the_build(client, x)
            old = client._backend.pid
            os.kill(old, signal.SIGKILL)  # mid-build: the builder waits at the gate
            with anyio.move_on_after(0):  # let the client notice the death, whichever way it reports it
                pass
            try:
                await client.count("c")
            except Exception:  # noqa: BLE001 - the first call may see the engine die (not what is tested)
                pass
            # a new engine on the same store: every acknowledged write, the copy gone
            await _check_contents(client, expect)
            assert client._backend.pid != old
            open_gate(gate)  # the new engine finds the collection unindexed and builds it
            await _until_built(client)
            await _check_contents(client, expect)
        # closed and reopened: the same contents, one shard directory
        assert len([d for d in os.listdir(path) if d.startswith("shard-")]) == 1
        async with AsyncQdrantClient(path=path, local_optimize="never") as client:
            await _check_contents(client, expect)
            assert (await client.get_collection("c")).indexed_vectors_count > 0


# -- the engine's bookkeeping, in process --------------------------------------------------


def _engine_with_data(tmp_path) -> engine.Engine:
    e = engine.Engine(str(tmp_path / "db"))
    e.handle(
        "create_collection",
        {"collection_name": "c"},
        {},
        {"vectors": {"size": DIM, "distance": "Cosine"}, "optimizers_config": {"indexing_threshold": 10}},
    )
    x = _data(1500)
    e.handle(
        "upsert_points",
        {"collection_name": "c"},
        {},
        {"points": [{"id": i, "vector": x[i].tolist()} for i in range(len(x))]},
    )
    return e


def _count(e: engine.Engine) -> int:
    return e.handle("count_points", {"collection_name": "c"}, {}, {"exact": True})["count"]


def _drive(e: engine.Engine) -> None:
    """The serving loop's turns, with no request ever waiting, until the build has ended."""
    r, w = os.pipe()
    try:
        with os.fdopen(r, "rb", buffering=0) as idle_input:
            while e.side.active:
                assert not e.side.turn(idle_input)
        e.side.wait_removals()  # the original's directory is removed by a thread
    finally:
        os.close(w)


def _shard_dirs(e: engine.Engine) -> list[str]:
    return sorted(d for d in os.listdir(e.root) if d.startswith("shard-"))


def test_a_config_change_during_a_build_cancels_it_and_keeps_the_data(gate, tmp_path):
    e = _engine_with_data(tmp_path)
    try:
        e.optimize_dirty()
        assert e.side.building("c")
        e.side.current.wait_copied()
        assert len(_shard_dirs(e)) == 2  # the copy next to the original
        before = e.catalog.collections["c"].dir
        e.handle("update_collection", {"collection_name": "c"}, {}, {"hnsw_config": {"m": 8}})
        assert not e.side.active
        assert _shard_dirs(e) == [before]  # the copy removed, the original kept
        assert _count(e) == 1500
        e.handle(
            "upsert_points", {"collection_name": "c"}, {}, {"points": [{"id": 9999, "vector": [1.0] * DIM}]}
        )
        assert _count(e) == 1501
    finally:
        e.close()


def test_an_explicit_optimize_during_a_build_builds_in_place(gate, tmp_path):
    e = _engine_with_data(tmp_path)
    try:
        e.optimize_dirty()
        assert e.side.building("c")
        assert e.handle("optimize", {"collection_name": "c"}, {}, None) is True
        assert not e.side.active and len(_shard_dirs(e)) == 1
        assert e.shards["c"].info().indexed_vectors_count == 1500
    finally:
        e.close()


def test_an_update_failing_on_the_original_fails_the_same_on_the_copy(gate, tmp_path):
    open_gate(gate)
    e = _engine_with_data(tmp_path)
    try:
        e.optimize_dirty()
        before = e.catalog.collections["c"].dir
        with pytest.raises(engine.EngineError):  # wrong dimension: refused, recorded as failed
            e.handle(
                "upsert_points", {"collection_name": "c"}, {}, {"points": [{"id": 1, "vector": [1.0, 2.0]}]}
            )
        e.handle("delete_points", {"collection_name": "c"}, {}, {"points": [2, 3]})
        _drive(e)
        assert e.catalog.collections["c"].dir != before  # swapped in
        assert _shard_dirs(e) == [e.catalog.collections["c"].dir]
        assert _count(e) == 1498
        assert e.shards["c"].info().indexed_vectors_count >= 1498
        assert "c" in e.built
    finally:
        e.close()
    reopened = engine.Engine(str(tmp_path / "db"))
    try:
        assert _count(reopened) == 1498
    finally:
        reopened.close()


def test_a_failed_builder_leaves_the_collection_as_it_was(gate, tmp_path):
    e = _engine_with_data(tmp_path)
    try:
        e.optimize_dirty()
        build = e.side.current
        assert build is not None
        build.proc.kill()  # the builder dies (OOM, a signal...) before it could finish (gate shut)
        _drive(e)
        assert _shard_dirs(e) == [e.catalog.collections["c"].dir]
        assert _count(e) == 1500
        assert not isinstance(e.shards["c"], sidebuild.Recording)
    finally:
        e.close()


def test_updates_made_while_the_copy_is_replayed_are_replayed_too(gate, tmp_path):
    open_gate(gate)
    e = _engine_with_data(tmp_path)
    try:
        e.optimize_dirty()
        build = e.side.current
        assert build is not None
        e.handle("delete_points", {"collection_name": "c"}, {}, {"points": [0]})  # recorded during the build
        while build.built is None:  # the builder's events, until the built copy is loaded
            select.select([build.out], [], [])
            build.on_event()
        assert build.has_step and build.replayed == 0 and len(build.log) == 1
        build.step()  # the delete replayed on the copy; the original still serves
        assert build.replayed == 1
        e.handle("delete_points", {"collection_name": "c"}, {}, {"points": [1]})  # arrives mid-replay
        e.handle("set_payload", {"collection_name": "c"}, {}, {"payload": {"late": True}, "points": [2]})
        assert _count(e) == 1498 and len(build.log) == 3
        _drive(e)  # the two late updates replayed, then the swap
        assert e.catalog.collections["c"].dir == build.dst
        assert _count(e) == 1498
        got = e.shards["c"].retrieve([0, 1, 2], True, False)
        assert [(r.id, r.payload) for r in got] == [(2, {"late": True})]
    finally:
        e.close()
