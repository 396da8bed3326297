"""Many concurrent queries from a trio nursery, each with its own deadline.

    aqdrant serve &                                  # the dev server (or any Qdrant)
    python examples/trio_app.py http://127.0.0.1:6333
"""

from __future__ import annotations

import sys

import numpy as np
import trio

from aqdrant import AsyncQdrantClient, DeadlineExceeded, models

DIM = 16


async def main(url: str, queries: int = 200, concurrency: int = 20) -> dict[str, int]:
    rng = np.random.default_rng(3)
    vectors = rng.random((500, DIM), dtype=np.float32)
    stats = {"ok": 0, "deadline": 0}
    async with AsyncQdrantClient(url=url) as client:
        name = "trio_demo"
        await client.recreate_collection(name, vectors_config=models.VectorParams(size=DIM, distance=models.Distance.COSINE))
        async with client.ingest(name, batch_size=100) as sink:
            await sink.send_many(models.PointStruct(id=i, vector=vectors[i]) for i in range(len(vectors)))
        limiter = trio.CapacityLimiter(concurrency)

        async def one(i: int) -> None:
            async with limiter:
                try:
                    res = await client.query_points(name, query=vectors[i % len(vectors)], limit=5, timeout=2.0)
                    assert res.points[0].id == i % len(vectors)
                    stats["ok"] += 1
                except DeadlineExceeded:
                    stats["deadline"] += 1

        async with trio.open_nursery() as nursery:
            for i in range(queries):
                nursery.start_soon(one, i)
        await client.delete_collection(name)
    print(f"{stats['ok']} queries answered, {stats['deadline']} past their deadline")
    return stats


if __name__ == "__main__":
    trio.run(main, sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:6333")
