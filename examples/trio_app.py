"""Many concurrent queries from a trio nursery, each with its own deadline.

    python examples/trio_app.py                          # on its own embedded engine (":memory:")
    python examples/trio_app.py http://127.0.0.1:6333    # against a server you started (aqdrant serve)

It touches only a collection of its own (a fresh, unique name), deleted again at the end.
"""

from __future__ import annotations

import sys
import uuid

import numpy as np
import trio

from aqdrant import AsyncQdrantClient, DeadlineExceeded, models

DIM = 16


def open_client(url: str | None) -> AsyncQdrantClient:
    """A server only when given its URL; otherwise an embedded engine of our own."""
    return AsyncQdrantClient(url=url) if url else AsyncQdrantClient(":memory:")


async def main(url: str | None = None, queries: int = 200, concurrency: int = 20) -> dict[str, int]:
    rng = np.random.default_rng(3)
    vectors = rng.random((500, DIM), dtype=np.float32)
    stats = {"ok": 0, "deadline": 0}
    name = f"trio_demo_{uuid.uuid4().hex[:8]}"  # never an existing collection of someone else's
    async with open_client(url) as client:
        await client.create_collection(name, vectors_config=models.VectorParams(size=DIM, distance=models.Distance.COSINE))
        try:
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
        finally:
            await client.delete_collection(name)
    print(f"{stats['ok']} queries answered, {stats['deadline']} past their deadline")
    return stats


if __name__ == "__main__":
    trio.run(main, sys.argv[1] if len(sys.argv) > 1 else None)
