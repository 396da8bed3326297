"""Per-call overhead of the blocking shim (``aqdrant.QdrantClient``).

Rows (each: median over repeats of the mean per-call time of a batch of calls, wall clock and
this process's CPU time - the latter is less sensitive to a busy machine):

* ``collection_exists`` on the embedded engine (``":memory:"``):
  awaited directly on ``AsyncQdrantClient`` (asyncio), through the blocking shim, and on the
  peer's blocking ``qdrant_client.QdrantClient(":memory:")`` (its pure-Python local mode);
* the mechanism alone on a coroutine that returns at once: the shim's runner versus anyio's
  ``BlockingPortal.call`` (the obvious alternative), to show what the hot path costs.

Shim overhead = shim row minus the awaited row (same client code, same engine).

Usage: ``python benchmarks/bench_shim.py [--calls 2000] [--repeats 7]``
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import anyio
from anyio.from_thread import start_blocking_portal

from aqdrant import AsyncQdrantClient, QdrantClient, models
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


def bench_async(calls: int, repeats: int) -> Timing:
    async def main() -> Timing:
        async with AsyncQdrantClient(":memory:") as client:
            await client.create_collection("c", vectors_config=VECTORS)

            async def batch(n: int) -> _Clock:
                with _Clock() as clock:
                    for _ in range(n):
                        await client.collection_exists("c")
                return clock

            await batch(max(calls // 10, 10))
            runs = [await batch(calls) for _ in range(repeats)]
            return (
                statistics.median(r.wall / calls * 1e6 for r in runs),
                statistics.median(r.cpu / calls * 1e6 for r in runs),
            )

    return anyio.run(main, backend="asyncio")


def bench_shim(calls: int, repeats: int) -> Timing:
    with QdrantClient(":memory:") as client:
        client.create_collection("c", vectors_config=VECTORS)

        def batch(n: int) -> _Clock:
            with _Clock() as clock:
                for _ in range(n):
                    client.collection_exists("c")
            return clock

        return _median_us(batch, calls, repeats)


def bench_peer(calls: int, repeats: int) -> Timing:
    import qdrant_client
    from qdrant_client import models as qm

    client = qdrant_client.QdrantClient(":memory:")
    try:
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
    parser.add_argument("--calls", type=int, default=2000, help="calls per repeat")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    calls, repeats = args.calls, args.repeats

    awaited = bench_async(calls, repeats)
    shim = bench_shim(calls, repeats)
    peer = bench_peer(calls, repeats)
    runner = bench_runner_noop(calls, repeats)
    portal = bench_portal_noop(calls, repeats)

    rows = [
        ("collection_exists, :memory:", "aqdrant AsyncQdrantClient, awaited (asyncio)", awaited),
        ("collection_exists, :memory:", "aqdrant QdrantClient (blocking shim)", shim),
        ("collection_exists, :memory:", "qdrant_client.QdrantClient (peer, blocking)", peer),
        ("no-op coroutine", "shim runner.call (the mechanism alone)", runner),
        ("no-op coroutine", "anyio BlockingPortal.call (alternative)", portal),
    ]
    print(f"median of {repeats} repeats x {calls} calls; microseconds per call")
    print("wall = elapsed; cpu = this process's CPU, all threads (the engine's own process excluded)\n")
    print(f"{'workload':<30} {'client':<48} {'wall us':>8} {'cpu us':>8}")
    print("-" * 97)
    for workload, who, (wall, cpu) in rows:
        print(f"{workload:<30} {who:<48} {wall:>8.1f} {cpu:>8.1f}")
    print("-" * 97)
    print(
        f"shim overhead over awaiting directly: {shim[0] - awaited[0]:+.1f} us wall, "
        f"{shim[1] - awaited[1]:+.1f} us cpu per call"
    )


if __name__ == "__main__":
    main()
