"""Event-loop heartbeat while the embedded engine loads points and builds their HNSW index.

    .venv/bin/python benchmarks/bench_local_build_heartbeat.py [--n 20000] [--dim 128] [--rounds 2]

The figure behind tests/test_local_process.py::test_heartbeat_keeps_ticking_during_long_engine_calls
(the test asserts only that the loop runs during those calls; a busy machine must not fail it).
A heartbeat task sleeps 5 ms in a loop and records every gap between its wake-ups while the
caller upserts N x DIM float32 points in one call and then waits for the collection to be
indexed (``local_optimize_after=0``: the engine builds HNSW as soon as the writes stop; the next
read waits for the build). The peer (qdrant-client's ``:memory:`` mode) runs in-process: its
upsert and search hold the loop for their whole duration (it builds no index). Goal for aqdrant:
no gap over 100 ms. Not a test: a shared 2-core machine adds its own noise.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aqdrant import AsyncQdrantClient, models  # noqa: E402

GOAL_MS = 100.0
TICK = 0.005


async def with_heartbeat(work: Any) -> tuple[list[float], float]:
    """Run ``work()`` beside a heartbeat; return the gaps and the wall time of the work."""
    gaps: list[float] = []
    done = anyio.Event()

    async def heartbeat() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await anyio.sleep(TICK)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    gc.collect()
    gc.freeze()  # a full collection of the setup's heap is not the engine holding the loop
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(heartbeat)
            await anyio.sleep(0.01)
            t0 = time.perf_counter()
            await work()
            wall = time.perf_counter() - t0
            done.set()
    finally:
        gc.unfreeze()
    return gaps, wall


async def aqdrant_load_and_build(vectors: np.ndarray) -> None:
    n, dim = vectors.shape
    async with AsyncQdrantClient(":memory:", local_optimize="idle", local_optimize_after=0.0) as client:
        await client.create_collection(
            "b",
            vectors_config=models.VectorParams(size=dim, distance=models.Distance.COSINE),
            optimizers_config=models.OptimizersConfigDiff(indexing_threshold=1000),
        )
        await client.upsert("b", models.Batch(ids=list(range(n)), vectors=vectors))
        info = await client.get_collection("b")
        while info.indexed_vectors_count != n:  # the build runs in the engine; we wait, not block
            await anyio.sleep(0.05)
            info = await client.get_collection("b")


async def peer_load_and_search(vectors: np.ndarray) -> None:
    from qdrant_client import AsyncQdrantClient as PeerClient
    from qdrant_client import models as pm

    n, dim = vectors.shape
    client = PeerClient(":memory:")
    await client.create_collection("b", vectors_config=pm.VectorParams(size=dim, distance=pm.Distance.COSINE))
    await client.upsert("b", pm.Batch(ids=list(range(n)), vectors=vectors.tolist()))
    await client.query_points("b", query=vectors[0].tolist(), limit=10)
    await client.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    vectors = np.random.default_rng(1).random((args.n, args.dim), dtype=np.float32)
    print(f"{args.n:,} x {args.dim}-d float32, heartbeat {TICK * 1e3:.0f} ms, {args.rounds} rounds (max over rounds)")
    print()
    print("| client | backend | work | max gap ms | p99 gap ms | wall s |")
    print("|---|---|---|---|---|---|")
    rows = [("aqdrant", "load + HNSW build", aqdrant_load_and_build), ("qdrant-client", "load + search", peer_load_and_search)]
    for name, work, fn in rows:
        for backend in ("asyncio", "trio") if name == "aqdrant" else ("asyncio",):
            gaps: list[float] = []
            walls: list[float] = []
            for _ in range(args.rounds):
                g, w = anyio.run(with_heartbeat, lambda fn=fn: fn(vectors), backend=backend)
                gaps += g
                walls.append(w)
            gaps.sort()
            mark = (" ✅" if gaps[-1] * 1e3 <= GOAL_MS else " ❌") if name == "aqdrant" else ""
            print(
                f"| {name} | {backend} | {work} | {gaps[-1] * 1e3:.0f}{mark} | "
                f"{gaps[int(0.99 * (len(gaps) - 1))] * 1e3:.0f} | {min(walls):.2f}–{max(walls):.2f} |"
            )
    print()
    print(f"goal (aqdrant): no gap over {GOAL_MS:.0f} ms (✅ met / ❌ missed)")


if __name__ == "__main__":
    main()
