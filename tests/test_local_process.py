"""The engine process: the caller's loop never stalls, deadlines hold, the process is owned."""

from __future__ import annotations

import os

import anyio
import numpy as np
import pytest
from test_local_helpers import call

from aqdrant import DeadlineExceeded, models
from aqdrant.local import LocalBackend
from aqdrant.local.backend import EngineProcessError

pytestmark = pytest.mark.anyio

N, DIM = 20_000, 128
SMALL = 6_000  # enough for an index build of a few seconds


def _vectors(n: int = N) -> np.ndarray:
    return np.random.default_rng(1).random((n, DIM), dtype=np.float32)


async def _load(b: LocalBackend, vectors: np.ndarray) -> None:
    body = {
        "vectors": {"size": DIM, "distance": "Cosine"},
        # index everything above ~1 MB of vectors, so optimize() builds HNSW on this data
        "optimizers_config": {"indexing_threshold": 1000},
        "hnsw_config": {"m": 16, "ef_construct": 100},
    }
    await call(b, "create_collection", body, collection_name="big")
    batch = models.PointsBatch(batch=models.Batch(ids=list(range(len(vectors))), vectors=vectors))
    await call(b, "upsert_points", batch, collection_name="big")


async def test_heartbeat_keeps_ticking_during_long_engine_calls():
    b = LocalBackend(None, optimize="never")
    gaps: list[float] = []
    try:
        await call(b, "get_collections")  # start the engine before measuring
        vectors = _vectors()  # (generating them would block the loop: not the backend's doing)
        done = anyio.Event()

        async def heartbeat() -> None:
            last = anyio.current_time()
            while not done.is_set():
                await anyio.sleep(0.005)
                now = anyio.current_time()
                gaps.append(now - last)
                last = now

        async with anyio.create_task_group() as tg:
            tg.start_soon(heartbeat)
            t0 = anyio.current_time()
            await _load(b, vectors)
            assert await b.optimize("big") is True  # the HNSW build
            elapsed = anyio.current_time() - t0
            done.set()
        info = await call(b, "get_collection", collection_name="big")
        assert info.points_count == N
        assert info.indexed_vectors_count == N
    finally:
        await b.aclose()
    assert elapsed > 0.5, "the engine calls should be long enough to mean something"
    assert len(gaps) > elapsed / 0.05
    assert max(gaps) < 0.1, f"the loop stalled for {max(gaps) * 1000:.0f} ms"


async def test_deadline_while_engine_busy_and_backend_still_usable():
    b = LocalBackend(None, optimize="never")
    try:
        await _load(b, _vectors(SMALL))
        async with anyio.create_task_group() as tg:
            tg.start_soon(b.optimize, "big")
            await anyio.sleep(0.05)  # the build is running in the engine
            t0 = anyio.current_time()
            with anyio.move_on_after(0.2) as scope:
                await call(b, "count_points", {}, collection_name="big")
            assert scope.cancelled_caught
            assert anyio.current_time() - t0 < 0.5
            # a call whose deadline passes while it waits in the engine's queue is not run
            from test_local_helpers import req

            r = req("count_points", {}, collection_name="big")
            r.deadline = anyio.current_time() + 0.1
            with pytest.raises(DeadlineExceeded):
                await b.execute(r)
        # the reply of the cancelled call was discarded; the stream is still in step
        assert (await call(b, "count_points", {}, collection_name="big")).count == SMALL
        assert (await call(b, "get_collection", collection_name="big")).indexed_vectors_count == SMALL
    finally:
        await b.aclose()


async def test_engine_death_is_reported():
    b = LocalBackend(None)
    try:
        await call(b, "get_collections")
        os.kill(b.pid, 9)
        with pytest.raises(EngineProcessError):
            await call(b, "get_collections")
    finally:
        await b.aclose()


async def test_startup_time_is_small():
    t0 = anyio.current_time()
    for _ in range(5):
        async with LocalBackend(None) as b:
            await call(b, "get_collections")
    per_client = (anyio.current_time() - t0) / 5
    assert per_client < 1.0, f"{per_client:.3f} s per :memory: client"
