"""Per-call overhead of the blocking shim (``aqdrant.QdrantClient``).

Rows (each: median over repeats of the mean per-call time of a batch of calls):

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


def _median_us(run_batch: Callable[[int], float], calls: int, repeats: int) -> float:
    run_batch(max(calls // 10, 10))  # warm up
    return statistics.median(run_batch(calls) / calls * 1e6 for _ in range(repeats))


def bench_async(calls: int, repeats: int) -> float:
    async def main() -> float:
        async with AsyncQdrantClient(":memory:") as client:
            await client.create_collection("c", vectors_config=VECTORS)

            async def batch(n: int) -> float:
                t0 = time.perf_counter()
                for _ in range(n):
                    await client.collection_exists("c")
                return time.perf_counter() - t0

            await batch(max(calls // 10, 10))
            return statistics.median([await batch(calls) / calls * 1e6 for _ in range(repeats)])

    return anyio.run(main, backend="asyncio")


def bench_shim(calls: int, repeats: int) -> float:
    with QdrantClient(":memory:") as client:
        client.create_collection("c", vectors_config=VECTORS)

        def batch(n: int) -> float:
            t0 = time.perf_counter()
            for _ in range(n):
                client.collection_exists("c")
            return time.perf_counter() - t0

        return _median_us(batch, calls, repeats)


def bench_peer(calls: int, repeats: int) -> float:
    import qdrant_client
    from qdrant_client import models as qm

    client = qdrant_client.QdrantClient(":memory:")
    try:
        client.create_collection("c", vectors_config=qm.VectorParams(size=4, distance=qm.Distance.DOT))

        def batch(n: int) -> float:
            t0 = time.perf_counter()
            for _ in range(n):
                client.collection_exists("c")
            return time.perf_counter() - t0

        return _median_us(batch, calls, repeats)
    finally:
        client.close()


class _Noop:
    async def noop(self) -> None:
        return None


async def _aclose(target: object) -> None:
    return None


def bench_runner_noop(calls: int, repeats: int) -> float:
    runner = Runner(_Noop, aclose=_aclose)
    try:

        def batch(n: int) -> float:
            t0 = time.perf_counter()
            for _ in range(n):
                runner.call(_Noop.noop)
            return time.perf_counter() - t0

        return _median_us(batch, calls, repeats)
    finally:
        runner.close()


def bench_portal_noop(calls: int, repeats: int) -> float:
    target = _Noop()
    with start_blocking_portal("asyncio") as portal:

        def batch(n: int) -> float:
            t0 = time.perf_counter()
            for _ in range(n):
                portal.call(target.noop)
            return time.perf_counter() - t0

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
    print(f"median of {repeats} repeats x {calls} calls, microseconds per call\n")
    print(f"{'workload':<30} {'client':<48} {'us/call':>9}")
    print("-" * 89)
    for workload, who, us in rows:
        print(f"{workload:<30} {who:<48} {us:>9.1f}")
    print("-" * 89)
    print(f"shim overhead over awaiting directly: {shim - awaited:+.1f} us/call")


if __name__ == "__main__":
    main()
