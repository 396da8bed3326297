"""Small calls against the dev server: client CPU per call and latency, aqdrant and the peer
(qdrant-client's AsyncQdrantClient) side by side in one run, over REST and gRPC, asyncio and trio.

Usage: ``python benchmarks/bench_small_calls.py [--calls 300] [--concurrency 32] [--repeat 3]``

The dev server runs as its own process (``python -m aqdrant.server``, in memory), so its work is
not charged to the client. Each (client, transport, loop) runs in a fresh worker process; client
CPU per call is that process's CPU time (``time.process_time()``: every thread, the peer's grpcio
threads included) over ``--calls`` calls, sequential and with ``--concurrency`` in flight.
Latency p50/p99 is wall time per call. The operations are what a service does most:

* ``query``: ``query_points`` top-10 with a 384-d query vector (a list of floats)
* ``query+filter``: the same with a payload filter (``k == 3``)
* ``retrieve``: 10 ids, payload, no vectors
* ``count``: exact count
* ``upsert``: one point, 384-d vector and a payload, ``wait=True``

The peer's gRPC runs on asyncio only (grpcio), so aqdrant on trio is compared with the peer on
asyncio. ``--repeat`` runs everything that many times; the table shows medians and the ratio's
min–max across repeats. A shared machine: read ratios, not digits.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DIM = 384
POINTS = 2000
OPS = ("query", "query+filter", "retrieve", "count", "upsert")
CONFIGS = [  # (client, transport, loop)
    ("aqdrant", "rest", "asyncio"),
    ("aqdrant", "rest", "trio"),
    ("peer", "rest", "asyncio"),
    ("aqdrant", "grpc", "asyncio"),
    ("aqdrant", "grpc", "trio"),
    ("peer", "grpc", "asyncio"),
]


def start_server() -> tuple[subprocess.Popen, str, int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "aqdrant.server", "--port", "0", "--grpc-port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=str(ROOT),
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening on " not in line:
        proc.kill()
        raise SystemExit(f"the dev server did not start: {line!r}")
    url = line.split("listening on ")[1].split()[0]
    grpc_port = int(line.split("gRPC on port ")[1].split(")")[0])
    return proc, url, grpc_port


def make_client(kind: str, transport: str, url: str, grpc_port: int) -> tuple[Any, Any]:
    grpc = transport == "grpc"
    if kind == "aqdrant":
        from aqdrant import AsyncQdrantClient, models

        return AsyncQdrantClient(url=url, prefer_grpc=grpc, grpc_port=grpc_port, timeout=60), models
    from qdrant_client import AsyncQdrantClient as Peer
    from qdrant_client import models as pm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Peer(url=url, prefer_grpc=grpc, grpc_port=grpc_port, timeout=60, check_compatibility=False), pm


async def worker(kind: str, transport: str, url: str, grpc_port: int, calls: int, conc: int) -> dict:
    import anyio

    client, m = make_client(kind, transport, url, grpc_port)
    rng = np.random.default_rng(1)
    queries = rng.random((64, DIM), dtype=np.float32).tolist()
    name = "small"
    flt = m.Filter(must=[m.FieldCondition(key="k", match=m.MatchValue(value=3))])
    upserted = [0]

    async def query(i: int) -> None:
        res = await client.query_points(name, query=queries[i % 64], limit=10)
        assert len(res.points) == 10

    async def query_filter(i: int) -> None:
        res = await client.query_points(name, query=queries[i % 64], query_filter=flt, limit=10)
        assert len(res.points) == 10

    async def retrieve(i: int) -> None:
        got = await client.retrieve(name, ids=list(range(i % 1000, i % 1000 + 10)))
        assert len(got) == 10

    async def count(i: int) -> None:
        assert (await client.count(name, exact=True)).count >= POINTS

    async def upsert(i: int) -> None:
        upserted[0] += 1
        point = m.PointStruct(id=POINTS + (upserted[0] % 5000), vector=queries[i % 64], payload={"k": 11})
        await client.upsert(name, [point], wait=True)

    fns = dict(zip(OPS, (query, query_filter, retrieve, count, upsert), strict=True))
    out: dict[str, dict[str, float]] = {}
    try:
        for op, fn in fns.items():
            for i in range(20):  # warm up: connections, caches, imports
                await fn(i)
            lat: list[float] = []

            async def timed(i: int, fn: Any = fn, lat: list[float] = lat) -> None:
                t = time.perf_counter()
                await fn(i)
                lat.append(time.perf_counter() - t)

            cpu = time.process_time()
            for i in range(calls):
                await timed(i)
            cpu1 = (time.process_time() - cpu) / calls
            seq = sorted(lat)
            lat.clear()
            limiter = anyio.CapacityLimiter(conc)

            async def limited(i: int, timed: Any = timed, limiter: Any = limiter) -> None:
                async with limiter:
                    await timed(i)

            cpu = time.process_time()
            async with anyio.create_task_group() as tg:
                for i in range(calls * 2):
                    tg.start_soon(limited, i)
            cpun = (time.process_time() - cpu) / (calls * 2)
            par = sorted(lat)
            out[op] = {
                "cpu1": cpu1 * 1e6,
                "cpun": cpun * 1e6,
                "p50_1": seq[len(seq) // 2] * 1e3,
                "p99_1": seq[int(len(seq) * 0.99)] * 1e3,
                "p50_n": par[len(par) // 2] * 1e3,
                "p99_n": par[int(len(par) * 0.99)] * 1e3,
            }
    finally:
        await client.close()
    return out


async def setup(url: str) -> None:
    from aqdrant import AsyncQdrantClient, models

    rng = np.random.default_rng(0)
    vectors = rng.random((POINTS, DIM), dtype=np.float32)
    async with AsyncQdrantClient(url=url, timeout=120) as client:
        if await client.collection_exists("small"):
            await client.delete_collection("small")
        await client.create_collection("small", vectors_config=models.VectorParams(size=DIM, distance="Cosine"))
        payloads = [{"k": i % 10, "name": f"p{i}"} for i in range(POINTS)]
        await client.upload_collection("small", vectors, payload=payloads, ids=range(POINTS), wait=True)


async def mixed_worker(kind: str, transport: str, url: str, grpc_port: int, calls: int) -> dict:
    """``calls`` concurrent mixed calls (query, filtered query, one-point upsert, count, retrieve,
    scroll) while 8 writers upsert 256-point batches: wall time, errors, query p50/p99."""
    import anyio

    client, m = make_client(kind, transport, url, grpc_port)
    rng = np.random.default_rng(2)
    queries = rng.random((64, DIM), dtype=np.float32).tolist()
    batch = rng.random((256, DIM), dtype=np.float32)
    flt = m.Filter(must=[m.FieldCondition(key="k", match=m.MatchValue(value=3))])
    name = "small"
    errors: list[str] = []
    qlat: list[float] = []

    async def one(i: int) -> None:
        kind_ = i % 6
        t = time.perf_counter()
        try:
            if kind_ == 0:
                await client.query_points(name, query=queries[i % 64], limit=10)
            elif kind_ == 1:
                await client.query_points(name, query=queries[i % 64], query_filter=flt, limit=10)
            elif kind_ == 2:
                await client.upsert(name, [m.PointStruct(id=10_000 + i, vector=queries[i % 64], payload={"k": 12})])
            elif kind_ == 3:
                await client.count(name, exact=True)
            elif kind_ == 4:
                await client.retrieve(name, ids=list(range(i % 1000, i % 1000 + 10)))
            else:
                await client.scroll(name, limit=10)
        except Exception as exc:  # noqa: BLE001 - counted
            errors.append(type(exc).__name__)
        if kind_ < 2:
            qlat.append(time.perf_counter() - t)

    async def writer(w: int) -> None:
        for j in range(4):
            ids = list(range(20_000 + (w * 4 + j) * 256, 20_000 + (w * 4 + j + 1) * 256))
            try:
                await client.upsert(name, m.Batch(ids=ids, vectors=batch.tolist()), wait=True)
            except Exception as exc:  # noqa: BLE001 - counted
                errors.append(type(exc).__name__)

    try:
        await client.count(name)  # connect
        cpu, t0 = time.process_time(), time.perf_counter()
        async with anyio.create_task_group() as tg:
            for w in range(8):
                tg.start_soon(writer, w)
            for i in range(calls):
                tg.start_soon(one, i)
        wall = time.perf_counter() - t0
        cpu = time.process_time() - cpu
    finally:
        await client.close()
    qlat.sort()
    return {
        "wall": wall,
        "cpu": cpu,
        "errors": len(errors),
        "p50": qlat[len(qlat) // 2] * 1e3,
        "p99": qlat[int(len(qlat) * 0.99)] * 1e3,
    }


def run_worker(
    cfg: tuple[str, str, str], url: str, grpc_port: int, args: argparse.Namespace, mixed: bool = False
) -> dict:
    kind, transport, loop = cfg
    cmd = [sys.executable, __file__, "--worker", kind, transport, loop, url, str(grpc_port)]
    cmd += ["--calls", str(args.calls), "--concurrency", str(args.concurrency)]
    if mixed:
        cmd += ["--mixed", str(args.mixed)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=str(ROOT), timeout=1800)
    if proc.returncode != 0:
        raise SystemExit(f"worker {cfg} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default="", help="rest or grpc: one transport only")
    ap.add_argument("--mixed", type=int, default=2000, help="concurrent mixed calls for the load table (0: none)")
    ap.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        import anyio

        kind, transport, loop, url, port = args.worker
        if "--mixed" in (argv or sys.argv):
            result = anyio.run(mixed_worker, kind, transport, url, int(port), args.mixed, backend=loop)
        else:
            result = anyio.run(worker, kind, transport, url, int(port), args.calls, args.concurrency, backend=loop)
        print(json.dumps(result))
        return 0

    import anyio

    proc, url, grpc_port = start_server()
    configs = [c for c in CONFIGS if args.only in c[1]]
    runs: dict[tuple[str, str, str], list[dict]] = {c: [] for c in configs}
    try:
        anyio.run(setup, url)
        for _ in range(args.repeat):
            for cfg in configs:
                runs[cfg].append(run_worker(cfg, url, grpc_port, args))
        mixed_cfgs = [c for c in configs if c[1] == "grpc"] if args.mixed else []
        mixed = {c: run_worker(c, url, grpc_port, args, mixed=True) for c in mixed_cfgs}
    finally:
        proc.terminate()
        proc.wait(30)

    def med(cfg: tuple[str, str, str], op: str, key: str) -> float:
        return statistics.median(r[op][key] for r in runs[cfg])

    def ratio(cfg: tuple[str, str, str], op: str, key: str) -> str:
        peer = ("peer", cfg[1], "asyncio")
        rs = [a[op][key] / b[op][key] for a, b in zip(runs[cfg], runs[peer], strict=True)]
        return f"{statistics.median(rs):.2f} ({min(rs):.2f}–{max(rs):.2f})"

    print(
        f"dev server over loopback, {POINTS} points x {DIM}-d; {args.calls} sequential calls and "
        f"{args.calls * 2} with {args.concurrency} in flight per op; {args.repeat} repeats, medians; "
        "ratio = aqdrant / peer client CPU per call (median, min–max over repeats); shared 2-core machine"
    )
    print()
    print("| op | transport | client (loop) | CPU µs/call x1 | CPU µs/call x32 | ratio x1 | ratio x32 |")
    print("|---|---|---|---|---|---|---|")
    for op in OPS:
        for cfg in configs:
            kind, transport, loop = cfg
            row = f"| {op} | {transport} | {kind} ({loop}) | {med(cfg, op, 'cpu1'):.0f} | {med(cfg, op, 'cpun'):.0f} |"
            if kind == "aqdrant":
                row += f" {ratio(cfg, op, 'cpu1')} | {ratio(cfg, op, 'cpun')} |"
            else:
                row += " 1 | 1 |"
            print(row)
    print()
    print("| op | transport | client (loop) | p50 ms x1 | p99 ms x1 | p50 ms x32 | p99 ms x32 |")
    print("|---|---|---|---|---|---|---|")
    for op in OPS:
        for cfg in configs:
            kind, transport, loop = cfg
            vals = " | ".join(f"{med(cfg, op, k):.2f}" for k in ("p50_1", "p99_1", "p50_n", "p99_n"))
            print(f"| {op} | {transport} | {kind} ({loop}) | {vals} |")
    if mixed:
        print()
        print(
            f"{args.mixed} concurrent mixed gRPC calls (query, filtered query, 1-point upsert, count, retrieve, "
            "scroll) while 8 writers upsert 4 x 256-point batches each; one run"
        )
        print()
        print("| client (loop) | wall s | calls/s | client CPU s | errors | query p50 ms | query p99 ms |")
        print("|---|---|---|---|---|---|---|")
        for (kind, _, loop), r in mixed.items():
            print(
                f"| {kind} ({loop}) | {r['wall']:.1f} | {args.mixed / r['wall']:.0f} | {r['cpu']:.1f} | "
                f"{r['errors']} | {r['p50']:.0f} | {r['p99']:.0f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
