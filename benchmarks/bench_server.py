"""The dev server over loopback: requests/s for a small query and points/s for ingestion, with
aqdrant's client and the peer (qdrant-client's async REST client) side by side in one run.

Usage: ``python benchmarks/bench_server.py [--points 5000] [--dim 128] [--queries 500]
[--concurrency 16] [--batch 256]``

The server runs as a subprocess (``python -m aqdrant.server --port 0``, in memory), so its work is
not charged to the client's process. Each client gets its own collection; the table shows
points/s for ``upsert`` in batches and queries/s for ``query_points(limit=10)``, sequential and
with ``--concurrency`` calls in flight. The peer is imported for the benchmark only.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import warnings
from pathlib import Path

import anyio
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aqdrant import AsyncQdrantClient, models  # noqa: E402


def start_server() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "aqdrant.server", "--port", "0", "--no-grpc"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=str(Path(__file__).resolve().parents[1]),
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening on " not in line:
        proc.kill()
        raise SystemExit(f"the dev server did not start: {line!r}")
    return proc, line.split("listening on ")[1].split()[0]


async def run_client(kind: str, url: str, args: argparse.Namespace) -> dict[str, float]:
    rng = np.random.default_rng(0)
    vectors = rng.random((args.points, args.dim), dtype=np.float32)
    queries = rng.random((args.queries, args.dim), dtype=np.float32)
    name = f"bench-{kind}"
    if kind == "aqdrant":
        client = AsyncQdrantClient(url=url, timeout=120)
        m = models
    else:
        from qdrant_client import AsyncQdrantClient as PeerClient
        from qdrant_client import models as pm

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            client = PeerClient(url=url, timeout=120, check_compatibility=False)
        m = pm
    try:
        await client.create_collection(
            name, vectors_config=m.VectorParams(size=args.dim, distance=m.Distance.COSINE)
        )
        t0 = time.perf_counter()
        for start in range(0, args.points, args.batch):
            stop = min(start + args.batch, args.points)
            await client.upsert(
                name,
                m.Batch(ids=list(range(start, stop)), vectors=vectors[start:stop].tolist()),
                wait=True,
            )
        ingest = args.points / (time.perf_counter() - t0)

        async def one(i: int) -> None:
            res = await client.query_points(name, query=queries[i].tolist(), limit=10)
            assert len(res.points) == 10

        t0 = time.perf_counter()
        for i in range(args.queries):
            await one(i)
        sequential = args.queries / (time.perf_counter() - t0)

        limiter = anyio.CapacityLimiter(args.concurrency)

        async def limited(i: int) -> None:
            async with limiter:
                await one(i)

        t0 = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for i in range(args.queries):
                tg.start_soon(limited, i)
        concurrent = args.queries / (time.perf_counter() - t0)
        await client.delete_collection(name)
    finally:
        await client.close()
    return {
        "ingest points/s": ingest,
        "query/s sequential": sequential,
        f"query/s x{args.concurrency}": concurrent,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=5000)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--batch", type=int, default=256)
    args = ap.parse_args(argv)
    proc, url = start_server()
    try:
        rows = {}
        for kind in ("aqdrant", "qdrant-client"):
            rows[kind] = anyio.run(run_client, kind, url, args)
    finally:
        proc.terminate()
        proc.wait(30)
    cols = list(next(iter(rows.values())))
    print(f"dev server over loopback ({url}); {args.points} points x {args.dim} dims, batch {args.batch}; "
          f"{args.queries} queries, limit 10")  # fmt: skip
    print(f"{'client':<16}" + "".join(f"{c:>22}" for c in cols))
    for kind, row in rows.items():
        print(f"{kind:<16}" + "".join(f"{row[c]:>22,.0f}" for c in cols))
    return 0


if __name__ == "__main__":
    sys.exit(main())
