"""Per-call overhead of the blocking shim (``aqdrant.QdrantClient``).

Rows (each: median over repeats of the mean per-call time of a batch of calls, wall clock and
this process's CPU time - the latter is less sensitive to a busy machine):

* ``collection_exists`` on the embedded engine (``":memory:"``, answered from the catalog in
  this process): awaited directly on ``AsyncQdrantClient`` (asyncio), through the blocking shim,
  and on the peer's blocking ``qdrant_client.QdrantClient(":memory:")`` (its pure-Python local
  mode);
* the same from 8 threads sharing one shim client (per call: elapsed / all calls), next to 8
  concurrent tasks awaiting one async client;
* ``collection_exists`` over REST against the dev server (``aqdrant.server.ServerThread``, in this
  process, so its CPU counts too): awaited, through the shim, and the peer's blocking client;
* the mechanism alone on a coroutine that returns at once: the shim's runner versus anyio's
  ``BlockingPortal.call`` (the obvious alternative), to show what the hot path costs.

Shim overhead = shim row minus the awaited row (same client code, same engine or server).

Usage: ``python benchmarks/bench_shim.py [--calls 2000] [--repeats 7]``
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Callable

import anyio
from anyio.from_thread import start_blocking_portal

from aqdrant import AsyncQdrantClient, QdrantClient, models
from aqdrant.server import ServerThread
from aqdrant.sync_shim._runner import Runner

VECTORS = models.VectorParams(size=4, distance=models.Distance.DOT)


Timing = tuple[float, float]  # (wall us/call, process CPU us/call)


class _Clock:
    """Wall time and this process's CPU time (all threads; not the engine's child process)."""

    def __enter__(self) -> _Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def _median_us(run_batch: Callable[[int], _Clock], calls: int, repeats: int) -> Timing:
    run_batch(max(calls // 10, 10))  # warm up
    runs = [run_batch(calls) for _ in range(repeats)]
    return (
        statistics.median(r.wall / calls * 1e6 for r in runs),
        statistics.median(r.cpu / calls * 1e6 for r in runs),
    )


LOCAL: dict[str, object] = {"location": ":memory:"}


def _rest(url: str) -> dict[str, object]:
    return {"url": url, "check_compatibility": False}


def bench_async(calls: int, repeats: int, where: dict[str, object] = LOCAL, tasks: int = 1) -> Timing:
    """``tasks`` concurrent tasks share the client; the time is per call (elapsed / all calls)."""

    async def main() -> Timing:
        async with AsyncQdrantClient(**where) as client:  # type: ignore[arg-type]
            if not await client.collection_exists("c"):
                await client.create_collection("c", vectors_config=VECTORS)

            async def calls_of_one_task(n: int) -> None:
                for _ in range(n):
                    await client.collection_exists("c")

            async def batch(n: int) -> _Clock:
                with _Clock() as clock:
                    async with anyio.create_task_group() as tg:
                        for _ in range(tasks):
                            tg.start_soon(calls_of_one_task, n // tasks)
                return clock

            await batch(max(calls // 10, 10))
            runs = [await batch(calls) for _ in range(repeats)]
            return (
                statistics.median(r.wall / calls * 1e6 for r in runs),
                statistics.median(r.cpu / calls * 1e6 for r in runs),
            )

    return anyio.run(main, backend="asyncio")


def bench_shim(calls: int, repeats: int, where: dict[str, object] = LOCAL, threads: int = 1) -> Timing:
    """``threads`` threads share the client; the time is per call (elapsed / all calls)."""
    with QdrantClient(**where) as client:  # type: ignore[arg-type]
        if not client.collection_exists("c"):
            client.create_collection("c", vectors_config=VECTORS)

        def calls_of_one_thread(n: int) -> None:
            for _ in range(n):
                client.collection_exists("c")

        def batch(n: int) -> _Clock:
            if threads == 1:
                with _Clock() as clock:
                    calls_of_one_thread(n)
                return clock
            workers = [threading.Thread(target=calls_of_one_thread, args=(n // threads,)) for _ in range(threads)]
            with _Clock() as clock:
                for w in workers:
                    w.start()
                for w in workers:
                    w.join()
            return clock

        return _median_us(batch, calls, repeats)


def bench_peer(calls: int, repeats: int, where: dict[str, object] = LOCAL) -> Timing:
    import qdrant_client
    from qdrant_client import models as qm

    client = qdrant_client.QdrantClient(**where)  # type: ignore[arg-type]
    try:
        if not client.collection_exists("c"):
            client.create_collection("c", vectors_config=qm.VectorParams(size=4, distance=qm.Distance.DOT))

        def batch(n: int) -> _Clock:
            with _Clock() as clock:
                for _ in range(n):
                    client.collection_exists("c")
            return clock

        return _median_us(batch, calls, repeats)
    finally:
        client.close()


class _Noop:
    async def noop(self) -> None:
        return None


async def _aclose(target: object) -> None:
    return None


def bench_runner_noop(calls: int, repeats: int) -> Timing:
    runner = Runner(_Noop, aclose=_aclose)
    try:

        def batch(n: int) -> _Clock:
            with _Clock() as clock:
                for _ in range(n):
                    runner.call(_Noop.noop)
            return clock

        return _median_us(batch, calls, repeats)
    finally:
        runner.close()


def bench_portal_noop(calls: int, repeats: int) -> Timing:
    target = _Noop()
    with start_blocking_portal("asyncio") as portal:

        def batch(n: int) -> _Clock:
            with _Clock() as clock:
                for _ in range(n):
                    portal.call(target.noop)
            return clock

        return _median_us(batch, calls, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=2000, help="calls per repeat (REST: a fifth)")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    calls, repeats = args.calls, args.repeats
    rest_calls = max(calls // 5, 16)

    awaited = bench_async(calls, repeats)
    shim = bench_shim(calls, repeats)
    peer = bench_peer(calls, repeats)
    awaited8 = bench_async(calls, repeats, tasks=8)
    shim8 = bench_shim(calls, repeats, threads=8)
    with ServerThread() as server:
        rest = _rest(server.url)
        rest_awaited = bench_async(rest_calls, repeats, rest)
        rest_shim = bench_shim(rest_calls, repeats, rest)
        rest_peer = bench_peer(rest_calls, repeats, {"url": server.url})
    runner = bench_runner_noop(calls, repeats)
    portal = bench_portal_noop(calls, repeats)

    local, local8, remote = "collection_exists, :memory:", "same, 8 threads / tasks", "collection_exists, REST"
    rows = [
        (local, "aqdrant AsyncQdrantClient, awaited (asyncio)", awaited),
        (local, "aqdrant QdrantClient (blocking shim)", shim),
        (local, "qdrant_client.QdrantClient (peer, blocking)", peer),
        (local8, "aqdrant AsyncQdrantClient, 8 tasks awaiting", awaited8),
        (local8, "aqdrant QdrantClient, 8 threads, one client", shim8),
        (remote, "aqdrant AsyncQdrantClient, awaited (asyncio)", rest_awaited),
        (remote, "aqdrant QdrantClient (blocking shim)", rest_shim),
        (remote, "qdrant_client.QdrantClient (peer, blocking)", rest_peer),
        ("no-op coroutine", "shim runner.call (the mechanism alone)", runner),
        ("no-op coroutine", "anyio BlockingPortal.call (alternative)", portal),
    ]
    print(f"median of {repeats} repeats x {calls} calls ({rest_calls} over REST); microseconds per call")
    print("wall = elapsed; cpu = this process's CPU, all threads (the engine's own process excluded)")
    print("8 threads / tasks: elapsed / all calls of the 8; REST: the dev server runs in this process\n")
    print(f"{'workload':<30} {'client':<48} {'wall us':>8} {'cpu us':>8}")
    print("-" * 97)
    for workload, who, (wall, cpu) in rows:
        print(f"{workload:<30} {who:<48} {wall:>8.1f} {cpu:>8.1f}")
    print("-" * 97)
    for what, (s_wall, s_cpu), (a_wall, a_cpu) in (
        (":memory:", shim, awaited),
        ("8 threads", shim8, awaited8),
        ("REST", rest_shim, rest_awaited),
    ):
        print(
            f"shim overhead over awaiting directly, {what}: {s_wall - a_wall:+.1f} us wall, "
            f"{s_cpu - a_cpu:+.1f} us cpu per call"
        )


if __name__ == "__main__":
    main()
