"""Ingestion into the dev server over gRPC vs REST: aqdrant's ``client.ingest`` and the peer.

    .venv/bin/python benchmarks/bench_grpc_ingest.py                  # 20,000 x 384-d
    .venv/bin/python benchmarks/bench_grpc_ingest.py --n 5000 --dim 768

The dev server (``python -m aqdrant.server --port P --grpc-port G``, in-memory engine) runs in a
separate process, so its CPU is not counted as client CPU; wall time includes its work (decoding
the request, the engine's upsert). Every run ingests the same float32 array, payload ``{"i": i}``
and integer ids into a fresh collection (``wait=True``, batch ``--batch-size``, ``--parallel``
requests in flight) and checks the server's count afterwards.

Rows: aqdrant ``client.ingest`` with ``prefer_grpc=True`` (aqdrant's own HTTP/2 channel, on asyncio
and on trio) and ``False``; the peer
(``qdrant_client.AsyncQdrantClient``) ``upsert`` of the same batches, ``prefer_grpc=True`` and
``False``, with the same concurrency. A failing row is reported with its error.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server() -> tuple[subprocess.Popen, str, int]:
    port, gport = free_port(), free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "aqdrant.server", "--port", str(port), "--grpc-port", str(gport)],
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    line = proc.stdout.readline()  # type: ignore[union-attr]
    if "listening on" not in line:
        proc.kill()
        raise SystemExit(f"the dev server did not start: {line!r}")
    url = f"http://127.0.0.1:{port}"
    urllib.request.urlopen(url + "/", timeout=30).read()
    return proc, url, gport


async def run_aqdrant(url: str, gport: int, grpc: bool, name: str, arr, ids, payload, args) -> dict:
    from aqdrant import AsyncQdrantClient, models
    from aqdrant.ingest import points_from_columns

    async with AsyncQdrantClient(url=url, prefer_grpc=grpc, grpc_port=gport, timeout=300) as client:
        await client.create_collection(
            name, vectors_config=models.VectorParams(size=arr.shape[1], distance=models.Distance.COSINE)
        )
        c0, t0 = time.process_time(), time.perf_counter()
        async with client.ingest(name, batch_size=args.batch_size, concurrency=args.parallel) as sink:
            await sink.send_many(points_from_columns(arr, payload, ids))
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        count = (await client.count(name)).count
        await client.delete_collection(name)
    return {"wall": wall, "cpu": cpu, "count": count}


async def run_peer(url: str, gport: int, grpc: bool, name: str, arr, ids, payload, args) -> dict:
    from qdrant_client import AsyncQdrantClient, models

    client = AsyncQdrantClient(
        url=url, prefer_grpc=grpc, grpc_port=gport, timeout=300, check_compatibility=False
    )
    try:
        await client.create_collection(
            name, vectors_config=models.VectorParams(size=arr.shape[1], distance=models.Distance.COSINE)
        )
        sem = asyncio.Semaphore(args.parallel)
        bs = args.batch_size

        async def one(lo: int) -> None:
            async with sem:
                await client.upsert(
                    name,
                    points=models.Batch(
                        ids=ids[lo : lo + bs],
                        vectors=arr[lo : lo + bs].tolist(),
                        payloads=payload[lo : lo + bs],
                    ),
                    wait=True,
                )

        c0, t0 = time.process_time(), time.perf_counter()
        await asyncio.gather(*(one(lo) for lo in range(0, len(ids), bs)))
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        count = (await client.count(name, exact=True)).count
        await client.delete_collection(name)
    finally:
        await client.close()
    return {"wall": wall, "cpu": cpu, "count": count}


def run_on(loop: str, fn, *args) -> dict:
    if loop == "trio":
        import anyio

        return anyio.run(fn, *args, backend="trio")
    return asyncio.run(fn(*args))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--parallel", type=int, default=4)
    args = ap.parse_args()

    rng = np.random.default_rng(0)
    arr = rng.random((args.n, args.dim), dtype=np.float32)
    ids = list(range(args.n))
    payload = [{"i": i} for i in ids]

    proc, url, gport = start_server()
    rows: list[tuple[str, dict | str]] = []
    try:
        runs = [
            ("aqdrant ingest, gRPC (asyncio)", run_aqdrant, True, "asyncio"),
            ("aqdrant ingest, gRPC (trio)", run_aqdrant, True, "trio"),
            ("aqdrant ingest, REST", run_aqdrant, False, "asyncio"),
            ("peer upsert, gRPC (grpcio)", run_peer, True, "asyncio"),
            ("peer upsert, REST", run_peer, False, "asyncio"),
        ]
        for k, (label, fn, grpc, loop) in enumerate(runs):
            try:
                res = run_on(loop, fn, url, gport, grpc, f"bench{k}", arr, ids, payload, args)
            except Exception as e:  # report what fails rather than hiding it
                rows.append((label, f"{type(e).__name__}: {str(e)[:200]}"))
                continue
            if res["count"] != args.n:
                rows.append((label, f"count {res['count']} != {args.n}"))
                continue
            rows.append((label, res))
    finally:
        proc.terminate()
        proc.wait(30)

    print(
        f"\n# ingestion into the dev server, {args.n} x {args.dim}-d float32, batch {args.batch_size}, "
        f"{args.parallel} in flight, wait=True\n"
    )
    print("| client | points/s | wall (s) | client CPU (s) | client CPU µs/point |")
    print("|---|---:|---:|---:|---:|")
    for label, res in rows:
        if isinstance(res, str):
            print(f"| {label} | failed: {res} | | | |")
        else:
            print(
                f"| {label} | {args.n / res['wall']:,.0f} | {res['wall']:.2f} | {res['cpu']:.2f} "
                f"| {res['cpu'] / args.n * 1e6:.1f} |"
            )


if __name__ == "__main__":
    main()
