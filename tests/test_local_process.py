"""The engine process: the caller's loop never stalls, deadlines hold, the process is owned."""

from __future__ import annotations

import contextlib
import gc
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


@contextlib.asynccontextmanager
async def _no_full_gc():
    """Keep the interpreter's full collections out of the measured gaps.

    In the whole suite the heap holds fastembed, onnx, hypothesis...; one full collection of it
    stops every thread for 100-200 ms whatever aqdrant does. Freezing the heap first measures
    what these tests are about: whether the engine or our decoding holds the loop.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


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
    """The loop runs other tasks while the engine loads and builds an index (the longest gap is a
    figure, measured by benchmarks/bench_local_reads.py; a busy machine must not fail this)."""
    b = LocalBackend(None, optimize="never")
    ticks_during: list[int] = []
    ticks = 0
    try:
        await call(b, "get_collections")  # start the engine before measuring
        vectors = _vectors(SMALL)  # (generating them would block the loop: not the backend's doing)
        done = anyio.Event()

        async def heartbeat() -> None:
            nonlocal ticks
            while not done.is_set():
                await anyio.sleep(0.005)
                ticks += 1

        async def counted(make) -> object:
            before = ticks
            result = await make()
            ticks_during.append(ticks - before)
            return result

        async with anyio.create_task_group() as tg:
            tg.start_soon(heartbeat)
            await counted(lambda: _load(b, vectors))
            info = await call(b, "get_collection", collection_name="big")
            assert info.status == models.CollectionStatus.YELLOW  # an index build is due
            assert await counted(lambda: b.optimize("big")) is True  # the HNSW build, seconds long
            done.set()
        info = await call(b, "get_collection", collection_name="big")
        assert info.points_count == SMALL
        assert info.indexed_vectors_count == SMALL
        assert info.status == models.CollectionStatus.GREEN
    finally:
        await b.aclose()
    # a call that held the loop would leave the heartbeat at 0 ticks while it ran; the build runs
    # for hundreds of 5 ms ticks on any machine, loaded or not
    assert ticks_during[1] >= 10, ticks_during
    assert ticks_during[0] >= 1, ticks_during


async def test_deadline_while_engine_busy_and_backend_still_usable():
    b = LocalBackend(None, optimize="never")
    try:
        await _load(b, _vectors(SMALL))
        async with anyio.create_task_group() as tg:
            tg.start_soon(b.optimize, "big")
            await anyio.sleep(0.05)  # the build is running in the engine
            with anyio.move_on_after(0.2) as scope:
                await call(b, "count_points", {}, collection_name="big")
            assert scope.cancelled_caught  # the deadline, not the index build, ended the wait
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


async def test_engine_death_is_reported_then_a_new_engine_takes_over():
    b = LocalBackend(None)
    try:
        await call(b, "create_collection", {"vectors": {"size": 2, "distance": "Dot"}}, collection_name="c")
        await call(b, "upsert_points", {"points": [{"id": 1, "vector": [1, 2]}]}, collection_name="c")
        old = b.pid
        os.kill(old, 9)
        # reported by the next call that needs the engine (catalog-only calls such as
        # get_collections are answered in this process and do not notice: their answer stands)
        with pytest.raises(EngineProcessError):
            await call(b, "count_points", {}, collection_name="c")
        # the next call starts a new engine on the same directory; the WAL restores the data
        assert [c.name for c in (await call(b, "get_collections")).collections] == ["c"]
        assert b.pid != old and b.starts == 2
        assert (await call(b, "count_points", {}, collection_name="c")).count == 1
    finally:
        await b.aclose()


async def test_clients_start_and_stop_one_after_another():
    """Each start is a fresh engine process that answers (start-up time: a benchmark figure,
    benchmarks/bench_local.py; not a test a busy machine may fail)."""
    pids = set()
    for _ in range(3):
        async with LocalBackend(None) as b:
            assert (await call(b, "get_collections")).collections == []
            pids.add(b.pid)
    assert len(pids) == 3


async def test_cancelled_large_send_keeps_the_stream_in_step():
    b = LocalBackend(None, optimize="never")
    try:
        await _load(b, _vectors(SMALL))
        extra = np.random.default_rng(2).random((3000, DIM), dtype=np.float32)  # ~1.5 MB body
        big = models.PointsBatch(batch=models.Batch(ids=list(range(SMALL, SMALL + 3000)), vectors=extra))
        async with anyio.create_task_group() as tg:
            tg.start_soon(b.optimize, "big")
            await anyio.sleep(0.05)
            with anyio.move_on_after(0.1) as scope:
                await call(b, "upsert_points", big, collection_name="big")
            assert scope.cancelled_caught
        # the rest of the cancelled frame went out before this call's frame: the engine applied
        # the (cancelled) upsert, like a server that had received it
        assert (await call(b, "count_points", {}, collection_name="big")).count == SMALL + 3000
        recs = await call(
            b, "get_points", {"ids": [SMALL + 2999], "with_vector": True}, collection_name="big"
        )
        v = np.asarray(recs[0].vector)
        assert np.allclose(v, extra[2999] / np.linalg.norm(extra[2999]), atol=1e-5)
    finally:
        await b.aclose()


async def test_sigkill_of_the_engine_keeps_acknowledged_writes(tmp_path):
    path = str(tmp_path / "db")
    b = LocalBackend(path, optimize="never")
    acked: list[int] = []
    rng = np.random.default_rng(3)
    try:
        await call(b, "create_collection", {"vectors": {"size": 16, "distance": "Dot"}}, collection_name="d")

        errors: list[BaseException] = []

        async def ingest() -> None:
            try:
                for i in range(1000):
                    ids = list(range(i * 100, (i + 1) * 100))
                    vectors = rng.random((100, 16), dtype=np.float32)
                    batch = models.PointsBatch(batch=models.Batch(ids=ids, vectors=vectors))
                    await call(b, "upsert_points", batch, query={"wait": True}, collection_name="d")
                    acked.extend(ids)
            except EngineProcessError as e:
                errors.append(e)

        async with anyio.create_task_group() as tg:
            tg.start_soon(ingest)
            while len(acked) < 2000:
                await anyio.sleep(0.01)
            os.kill(b.pid, 9)
        assert errors, "the call in flight when the engine died must fail"
    finally:
        await b.aclose()
    assert len(acked) >= 2000
    b2 = LocalBackend(path)
    try:
        count = (await call(b2, "count_points", {}, collection_name="d")).count
        assert count >= len(acked)
        recs = await call(b2, "get_points", {"ids": acked[-100:]}, collection_name="d")
        assert len(recs) == 100
    finally:
        await b2.aclose()


CLIENT = """
import sys, anyio
sys.path.insert(0, {tests!r})
from test_local_helpers import call
from aqdrant.local import LocalBackend

async def main():
    b = LocalBackend({path!r})
    await call(b, "create_collection", {{"vectors": {{"size": 2, "distance": "Dot"}}}}, collection_name="x")
    await call(b, "upsert_points", {{"points": [{{"id": 1, "vector": [1, 2]}}]}}, collection_name="x")
    print(b.pid, flush=True)
    await anyio.sleep(60)

anyio.run(main)
"""


async def test_engine_exits_when_its_client_is_killed(tmp_path):
    import sys

    path = str(tmp_path / "db")
    script = CLIENT.format(tests=os.path.dirname(__file__), path=path)
    proc = await anyio.open_process([sys.executable, "-c", script])
    try:
        assert proc.stdout is not None
        line = b""
        with anyio.fail_after(30):
            while not line.endswith(b"\n"):
                line += await proc.stdout.receive()
        engine_pid = int(line)
        os.kill(engine_pid, 0)
        proc.kill()  # SIGKILL: no cleanup in the client at all
        await proc.wait()
    finally:
        await proc.aclose()
    with anyio.fail_after(15):  # the engine sees stdin close, flushes, unlocks and exits
        while True:
            try:
                os.kill(engine_pid, 0)
            except ProcessLookupError:
                break
            await anyio.sleep(0.05)
    b = LocalBackend(path)
    try:
        recs = await call(b, "get_points", {"ids": [1]}, collection_name="x")
        assert [r.id for r in recs] == [1]
    finally:
        await b.aclose()


async def test_idle_engine_builds_indexes_and_late_payload_index_warns():
    from aqdrant.local import LocalEngineWarning

    b = LocalBackend(None, optimize_after=0.2)
    try:
        body = {
            "vectors": {"size": 16, "distance": "Cosine"},
            "optimizers_config": {"indexing_threshold": 10},
        }
        await call(b, "create_collection", body, collection_name="i")
        vectors = np.random.default_rng(4).random((2000, 16), dtype=np.float32)
        await call(
            b,
            "upsert_points",
            models.PointsBatch(batch=models.Batch(ids=list(range(2000)), vectors=vectors)),
            collection_name="i",
        )
        with anyio.fail_after(30):
            while True:
                info = await call(b, "get_collection", collection_name="i")
                if info.indexed_vectors_count == 2000:
                    break
                await anyio.sleep(0.1)
        assert info.status == models.CollectionStatus.GREEN
        with pytest.warns(LocalEngineWarning, match="after the vector index"):
            await call(
                b, "create_field_index", {"field_name": "g", "field_schema": "integer"}, collection_name="i"
            )
    finally:
        await b.aclose()


class _FakeStdout:
    def __init__(self) -> None:
        self.send, self.recv = anyio.create_memory_object_stream[bytes](100)

    async def receive(self, max_bytes: int = 65536) -> bytes:
        try:
            return await self.recv.receive()
        except anyio.EndOfStream:
            raise
        except anyio.ClosedResourceError:
            raise anyio.EndOfStream from None


class _FakeProcess:
    def __init__(self) -> None:
        self.stdout = _FakeStdout()
        self.stdin = None


async def test_a_reply_reaches_its_caller_while_another_caller_reads():
    """A caller whose reply arrives is not held up by the caller reading frames (the leader)."""
    from aqdrant.local.backend import _Conn, _frame

    proc = _FakeProcess()
    conn = _Conn(proc)  # type: ignore[arg-type]
    conn.replies = {1: None, 2: None}
    got: dict[int, float] = {}

    async def wait(rid: int) -> None:
        reply = await conn.wait_reply(rid)
        assert reply["id"] == rid
        got[rid] = anyio.current_time()

    def frame(rid: int) -> bytes:
        return bytes(_frame({"id": rid, "ok": True})[0][:-8])  # without the (empty) blob header

    async with anyio.create_task_group() as tg:
        tg.start_soon(wait, 2)  # the leader: its reply comes last (a long engine call)
        await anyio.sleep(0.01)
        tg.start_soon(wait, 1)  # a follower
        await anyio.sleep(0.01)
        assert conn.reading
        await proc.stdout.send.send(frame(1))
        with anyio.fail_after(1):
            while 1 not in got:
                await anyio.sleep(0.001)
        assert 2 not in got
        await anyio.sleep(0.05)
        await proc.stdout.send.send(frame(2))
    assert got[2] - got[1] >= 0.05
    # the reader steps down when cancelled; a follower takes over
    conn.replies = {3: None, 4: None}
    async with anyio.create_task_group() as tg:
        scope = anyio.CancelScope()

        async def leader() -> None:
            with scope:
                await conn.wait_reply(3)

        tg.start_soon(leader)
        await anyio.sleep(0.01)
        tg.start_soon(wait, 4)
        await anyio.sleep(0.01)
        scope.cancel()
        await anyio.sleep(0.01)
        await proc.stdout.send.send(frame(4))
    assert 4 in got


async def test_large_reads_come_back_in_chunks_without_stalling_the_loop():
    n, dim = 3000, 256
    vectors = np.random.default_rng(5).random((n, dim), dtype=np.float32)
    b = LocalBackend(None, optimize="never")
    try:
        await call(b, "create_collection", {"vectors": {"size": dim, "distance": "Dot"}}, collection_name="r")
        batch = models.PointsBatch(
            batch=models.Batch(ids=list(range(n)), vectors=vectors, payloads=[{"i": i} for i in range(n)])
        )
        await call(b, "upsert_points", batch, collection_name="r")
        gaps: list[float] = []
        done = anyio.Event()

        async def heartbeat() -> None:
            last = anyio.current_time()
            while not done.is_set():
                await anyio.sleep(0.002)
                now = anyio.current_time()
                gaps.append(now - last)
                last = now

        async with anyio.create_task_group() as tg, _no_full_gc():
            tg.start_soon(heartbeat)
            await anyio.sleep(0.01)
            page = await call(b, "scroll_points", {"limit": n, "with_vector": True}, collection_name="r")
            recs = await call(b, "get_points", {"ids": list(range(n))}, collection_name="r")
            res = await call(
                b,
                "query_points",
                {"query": vectors[0].tolist(), "limit": n, "with_payload": True},
                collection_name="r",
            )
            done.set()
        assert [p.id for p in page.points] == list(range(n)) and page.next_page_offset is None
        assert np.allclose(np.asarray(page.points[7].vector), vectors[7], atol=1e-6)
        assert sorted(r.id for r in recs) == list(range(n)) and recs[0].payload == {"i": recs[0].id}
        assert len(res.points) == n and res.points[0].id == int(np.argmax(vectors @ vectors[0]))
        # the loop ran meanwhile; the longest gap is a figure (benchmarks/bench_local_reads.py:
        # goal 20 ms), not an assertion a busy machine could break
        assert len(gaps) >= 3, gaps
    finally:
        await b.aclose()
