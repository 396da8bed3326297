"""Event-loop heartbeat while large reads come back from the embedded engine (issue 4).

    .venv/bin/python benchmarks/bench_local_reads.py [--n 5000] [--dim 384] [--rounds 5] [--profile]

``AsyncQdrantClient(":memory:")`` holds N x DIM float32 points (Cosine, payload {group, tag,
price}). A heartbeat task sleeps 1 ms in a loop and records every gap between its wake-ups while
the caller reads all N points *with their vectors* by ``scroll``, ``retrieve`` and
``query_points`` (limit N), one call at a time, on asyncio and on trio. Reported per read: the
largest gap and the 99th percentile over all rounds, and the median wall time of a call. Goal:
no gap over 20 ms. The heap is frozen (``gc.freeze``) before the measured window, so a full
collection of the setup's objects is not counted as the read stalling the loop. Not a test: a
shared 2-core machine adds its own noise.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

import anyio
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aqdrant import AsyncQdrantClient, models  # noqa: E402

GOAL_MS = 20.0
TICK = 0.001


async def measure(n: int, dim: int, rounds: int) -> dict[str, dict[str, float]]:
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((n, dim), dtype=np.float32)
    tags = [f"tag{k}" for k in range(10)]
    payloads = [{"group": i % 100, "tag": tags[(i * 7) % 10], "price": round(i * 0.37, 2)} for i in range(n)]
    out: dict[str, dict[str, float]] = {}
    async with AsyncQdrantClient(":memory:") as client:
        await client.create_collection(
            "r", vectors_config=models.VectorParams(size=dim, distance=models.Distance.COSINE)
        )
        await client.upsert("r", models.Batch(ids=list(range(n)), vectors=vectors, payloads=payloads))
        ids = list(range(n))

        async def scroll() -> int:
            page = await client.scroll("r", limit=n, with_vectors=True)
            return len(page[0])

        async def retrieve() -> int:
            return len(await client.retrieve("r", ids, with_vectors=True))

        async def query() -> int:
            res = await client.query_points(
                "r", query=vectors[0], limit=n, with_vectors=True, with_payload=True
            )
            return len(res.points)

        for name, read in (("scroll", scroll), ("retrieve", retrieve), ("query_points", query)):
            gaps: list[float] = []
            walls: list[float] = []
            for _ in range(rounds):
                gc.collect()
                gc.freeze()
                done = anyio.Event()

                async def heartbeat(done: anyio.Event = done, gaps: list = gaps) -> None:
                    last = time.perf_counter()
                    while not done.is_set():
                        await anyio.sleep(TICK)
                        now = time.perf_counter()
                        gaps.append(now - last)
                        last = now

                async with anyio.create_task_group() as tg:
                    tg.start_soon(heartbeat)
                    await anyio.sleep(0.005)
                    t0 = time.perf_counter()
                    got = await read()
                    walls.append(time.perf_counter() - t0)
                    done.set()
                gc.unfreeze()
                assert got == n, (name, got)
            gaps.sort()
            out[name] = {
                "max_ms": gaps[-1] * 1e3,
                "p99_ms": gaps[int(0.99 * (len(gaps) - 1))] * 1e3,
                "wall_ms": statistics.median(walls) * 1e3,
            }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--profile", action="store_true", help="cProfile the asyncio run (this process)")
    args = ap.parse_args()
    print(
        f"{args.n:,} x {args.dim}-d float32 points with vectors per read, heartbeat {TICK * 1e3:.0f} ms, "
        f"{args.rounds} rounds, python {sys.version.split()[0]}"
    )
    print()
    print("| backend | read | max gap ms | p99 gap ms | wall ms (median) |")
    print("|---|---|---|---|---|")
    for backend in ("asyncio", "trio"):
        if args.profile:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.enable()
        res = anyio.run(measure, args.n, args.dim, args.rounds, backend=backend)
        if args.profile:
            prof.disable()
            pstats.Stats(prof).sort_stats("tottime").print_stats(12)
        for name, r in res.items():
            mark = "✅" if r["max_ms"] <= GOAL_MS else "❌"
            print(
                f"| {backend} | {name} | {r['max_ms']:.1f} {mark} | {r['p99_ms']:.1f} | {r['wall_ms']:.0f} |"
            )
    print()
    print(f"goal: no gap over {GOAL_MS:.0f} ms (✅ met / ❌ missed)")


if __name__ == "__main__":
    main()
