"""Bulk ingestion of a .npy file of vectors with the ingestion actor, a progress bar and a report.

    python examples/bulk_ingest.py [vectors.npy] [--path DB_DIR | --url URL]

Without a file, 20,000 x 128 random vectors are generated into examples/data/vectors.npy.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import anyio
import numpy as np

from aqdrant import AsyncQdrantClient, models

HERE = Path(__file__).resolve().parent


def load_or_make(path: Path, n: int = 20_000, dim: int = 128) -> np.ndarray:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, np.random.default_rng(0).random((n, dim), dtype=np.float32))
    return np.load(path, mmap_mode="r")  # rows are read as they are sent, not all at once


async def ingest(vectors: np.ndarray, *, url: str | None = None, path: str | None = None, progress: bool = True):
    client = AsyncQdrantClient(url=url) if url else AsyncQdrantClient(path=path) if path else AsyncQdrantClient(":memory:")
    async with client:
        name = "bulk"
        await client.recreate_collection(
            name, vectors_config=models.VectorParams(size=vectors.shape[1], distance=models.Distance.COSINE)
        )
        async with client.ingest(name, batch_size=512, concurrency=4, progress=progress, total=len(vectors)) as sink:
            for i in range(len(vectors)):
                await sink.send(models.PointStruct(id=i, vector=vectors[i], payload={"row": i}))
        report = sink.report
        count = (await client.count(name)).count
    print(report)
    print(f"collection {name!r} holds {count} points")
    return report, count


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("file", nargs="?", default=str(HERE / "data" / "vectors.npy"))
    ap.add_argument("--url")
    ap.add_argument("--path")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args()
    vectors = load_or_make(Path(args.file))
    anyio.run(lambda: ingest(vectors, url=args.url, path=args.path, progress=not args.no_progress))


if __name__ == "__main__":
    main()
