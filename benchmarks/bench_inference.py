"""Local inference: documents embedded and stored per second, and how long the event loop stalls.

Both clients embed the same ``models.Document`` objects with the same fastembed model (a tiny
ONNX model built on the fly by tests/_tiny_model.py - this machine cannot download models - and
loaded through fastembed's offline cache path) and store them on their embedded engine:

* aqdrant ``AsyncQdrantClient(":memory:")``: ``upload_collection`` (embedding in worker threads,
  batch k+1 embedded while batch k is upserted) and plain ``upsert`` calls of one batch each;
* the peer ``qdrant_client.AsyncQdrantClient(":memory:")``: ``upsert`` calls of one batch each
  (its async client embeds on the event loop).

A heartbeat task sleeps 10 ms in a loop during each run; "max gap" is the longest time between
two of its ticks (10 ms = the loop was never held up). Numbers are wall time on this machine,
one run each after a warm-up; the gap column is the point of the comparison.

Usage: ``python benchmarks/bench_inference.py [--docs 5000] [--batch 256] [--words 32]``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


async def _measure(run) -> tuple[float, float]:
    """(wall seconds, longest time between two heartbeat ticks, counting from the start to the
    first tick and from the last tick to the end - a loop never released counts in full)."""
    gaps: list[float] = []
    done = anyio.Event()
    t0 = time.perf_counter()
    last = [t0]

    async def heartbeat() -> None:
        while not done.is_set():
            await anyio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last[0])
            last[0] = now

    async with anyio.create_task_group() as tg:
        tg.start_soon(heartbeat)
        await run()
        end = time.perf_counter()
        gaps.append(end - last[0])
        done.set()
    return end - t0, max(gaps)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=5000)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--words", type=int, default=32)
    args = ap.parse_args()

    cache = Path(tempfile.mkdtemp(prefix="aqdrant-bench-fastembed-")) / "cache"
    os.environ["FASTEMBED_CACHE_PATH"] = str(cache)
    os.environ["HF_HUB_OFFLINE"] = "1"
    import _tiny_model as tm

    tm.install_models(cache)
    words = tm.WORDS
    texts = [
        " ".join(words[(i * 7 + k * 3) % len(words)] for k in range(args.words)) for i in range(args.docs)
    ]
    n, b = args.docs, args.batch
    rows: list[tuple[str, float, float]] = []

    async def ours() -> None:
        from aqdrant import AsyncQdrantClient, models

        async with AsyncQdrantClient(":memory:", local_inference_batch_size=b) as c:
            params = models.VectorParams(size=tm.DENSE_DIM, distance=models.Distance.COSINE)
            await c.create_collection("w", vectors_config=params)
            await c.upsert(
                "w", [models.PointStruct(id=0, vector=models.Document(text="warm up", model=tm.DENSE))]
            )
            docs = [models.Document(text=t, model=tm.DENSE) for t in texts]

            await c.create_collection("a", vectors_config=params)
            wall, gap = await _measure(
                lambda: c.upload_collection("a", vectors=docs, ids=list(range(n)), batch_size=b, parallel=2)
            )
            assert (await c.count("a")).count == n
            rows.append(("aqdrant upload_collection", n / wall, gap))

            await c.create_collection("u", vectors_config=params)

            async def upserts() -> None:
                for s in range(0, n, b):
                    await c.upsert(
                        "u", [models.PointStruct(id=i, vector=docs[i]) for i in range(s, min(n, s + b))]
                    )

            wall, gap = await _measure(upserts)
            rows.append(("aqdrant upsert per batch", n / wall, gap))

    async def peer() -> None:
        from qdrant_client import AsyncQdrantClient
        from qdrant_client import models as pm

        c = AsyncQdrantClient(":memory:")
        try:
            params = pm.VectorParams(size=tm.DENSE_DIM, distance=pm.Distance.COSINE)
            await c.create_collection("w", vectors_config=params)
            await c.upsert("w", [pm.PointStruct(id=0, vector=pm.Document(text="warm up", model=tm.DENSE))])
            docs = [pm.Document(text=t, model=tm.DENSE) for t in texts]
            await c.create_collection("u", vectors_config=params)

            async def upserts() -> None:
                for s in range(0, n, b):
                    await c.upsert(
                        "u", [pm.PointStruct(id=i, vector=docs[i]) for i in range(s, min(n, s + b))]
                    )

            wall, gap = await _measure(upserts)
            assert (await c.count("u")).count == n
            rows.append(("peer upsert per batch", n / wall, gap))
        finally:
            await c.close()

    anyio.run(ours)
    anyio.run(peer)
    print(f"\n{n} documents of {args.words} words, batches of {b}, model {tm.DENSE} (dim {tm.DENSE_DIM})\n")
    print(f"{'client':<28} {'docs/s':>10} {'max loop gap':>14}")
    for name, rate, gap in rows:
        print(f"{name:<28} {rate:>10.0f} {gap * 1000:>11.0f} ms")


if __name__ == "__main__":
    main()
