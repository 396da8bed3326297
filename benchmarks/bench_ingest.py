"""Bulk ingestion, side by side: aqdrant's ingestion actor vs the peer's ``upload_collection``.

    .venv/bin/python benchmarks/bench_ingest.py                 # 100,000 x 768-d (the issue's workload)
    .venv/bin/python benchmarks/bench_ingest.py --n 20000 --dim 384 --local-n 20000

Targets:
- a minimal sink (a separate process, so its CPU is not counted) that answers Qdrant's
  collection-info and upsert at once, over REST (HTTP/1.1) and over gRPC (Points/Upsert), and
  counts the points it received;
- the embedded engines (aqdrant's ``":memory:"``, the peer's local mode), on ``--local-n`` points.

Rows: aqdrant ``upload_collection`` (numpy columns sent as Batch bodies) on asyncio and trio, the
actor fed one ``PointStruct`` per row (the generator path), the peer's ``upload_collection``
(``parallel=1``: its worker processes' CPU would not be counted), each over REST and gRPC.

Client CPU is ``time.process_time()`` of this process (all its threads) over the upload; wall
time includes the sink's parsing. Same data (float32 numpy array, payload ``{"i": i}``, integer
ids), same batch size, ``wait=True`` for both. The peer (qdrant-client) is imported here only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np

SINK = r"""
import json, sys
import msgspec
import orjson
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
import uvicorn

DIM = int(sys.argv[2])
INFO = {"status": "green", "optimizer_status": "ok", "segments_count": 1, "payload_schema": {},
        "config": {"params": {"vectors": {"size": DIM, "distance": "Cosine"}},
                   "hnsw_config": {"m": 16, "ef_construct": 100, "full_scan_threshold": 10000},
                   "optimizer_config": {"deleted_threshold": 0.2, "vacuum_min_vector_number": 1000,
                                        "default_segment_number": 0, "flush_interval_sec": 5},
                   "wal_config": {"wal_capacity_mb": 32, "wal_segments_ahead": 0}}}
state = {"points": 0, "bytes": 0, "requests": 0}

class Ids(msgspec.Struct):
    ids: list

class BatchIds(msgspec.Struct):
    batch: Ids

def env(result):
    return Response(orjson.dumps({"result": result, "status": "ok", "time": 0.0}), media_type="application/json")

async def root(request):
    return env(None) if False else Response(b'{"title":"qdrant - vector search engine","version":"1.15.0"}',
                                             media_type="application/json")

async def collection(request):
    return env(INFO)

async def upsert(request):
    body = await request.body()
    state["requests"] += 1
    state["bytes"] += len(body)
    if body.startswith(b'{"batch"'):  # a Batch body: count its ids (msgspec skips the rest fast)
        state["points"] += len(msgspec.json.decode(body, type=BatchIds).batch.ids)
    else:
        state["points"] += body.count(b'"id":')
    return env({"operation_id": state["requests"], "status": "completed"})

async def stats(request):
    return Response(json.dumps(state).encode(), media_type="application/json")

async def reset(request):
    state.update(points=0, bytes=0, requests=0)
    return Response(b"{}")

app = Starlette(routes=[
    Route("/", root), Route("/stats", stats), Route("/reset", reset, methods=["POST"]),
    Route("/collections/{name}", collection), Route("/collections/{name}/points", upsert, methods=["PUT"]),
])

# The same sink over gRPC (Qdrant's Points/Upsert and Collections/Get), bytes in and out: the
# points of an UpsertPoints are counted by walking its top-level fields (field 3 = a point).
from grpclib.const import Cardinality, Handler
from grpclib.server import Server
from aqdrant import models
from aqdrant.grpc import convert
from aqdrant.grpc.fast._wire import _read_varint, _skip

class RawCodec:
    __content_subtype__ = "proto"
    def encode(self, message, message_type): return message
    def decode(self, data, message_type): return data

INFO_REPLY = bytes(convert.result_to_grpc("get_collection", models.parse(models.CollectionInfo, INFO)))
UPSERT_REPLY = bytes(convert.result_to_grpc("upsert_points", models.UpdateResult(operation_id=1, status="completed")))

def count_points(buf):
    pos, n = 0, 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        n += key >> 3 == 3
        pos = _skip(buf, pos, key & 7)
    return n

async def grpc_upsert(stream):
    body = await stream.recv_message()
    state["requests"] += 1
    state["bytes"] += len(body)
    state["points"] += count_points(body)
    await stream.send_message(UPSERT_REPLY)

async def grpc_info(stream):
    await stream.recv_message()
    await stream.send_message(INFO_REPLY)

class Sink:
    def __mapping__(self):
        return {
            "/qdrant.Points/Upsert": Handler(grpc_upsert, Cardinality.UNARY_UNARY, bytes, bytes),
            "/qdrant.Collections/Get": Handler(grpc_info, Cardinality.UNARY_UNARY, bytes, bytes),
        }

async def main():
    grpc_server = Server([Sink()], codec=RawCodec())
    await grpc_server.start("127.0.0.1", int(sys.argv[3]))
    config = uvicorn.Config(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="error", access_log=False)
    await uvicorn.Server(config).serve()

import asyncio
asyncio.run(main())
"""


WARM = 1000  # points uploaded (and not measured) before each measured run
GRPC_PORT = [0]  # the sink's gRPC port, set by start_sink


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_sink(dim: int) -> tuple[subprocess.Popen, str]:
    """The sink process: HTTP on the returned URL's port, gRPC on ``GRPC_PORT[0]``."""
    port = free_port()
    GRPC_PORT[0] = free_port()
    proc = subprocess.Popen([sys.executable, "-c", SINK, str(port), str(dim), str(GRPC_PORT[0])])
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(url + "/stats", timeout=0.5).read()
            return proc, url
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the HTTP sink did not start")


def sink_stats(url: str, reset: bool = False) -> dict:
    if reset:
        urllib.request.urlopen(urllib.request.Request(url + "/reset", method="POST")).read()
        return {}
    return json.loads(urllib.request.urlopen(url + "/stats").read())


def data(n: int, dim: int) -> tuple[np.ndarray, list[dict], list[int]]:
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, dim)).astype(np.float32), [{"i": i} for i in range(n)], list(range(n))


async def run_aqdrant(target: str, arr, payload, ids, batch_size: int, parallel: int, mode: str = "upload") -> dict:
    """``mode``: "upload" = ``upload_collection`` (numpy columns as Batch bodies); "points" = the
    actor fed one ``PointStruct`` per row (``points_from_columns``), the path for generators."""
    from aqdrant import AsyncQdrantClient, models

    if target == ":memory:":
        client = AsyncQdrantClient(":memory:")
        await client.create_collection(
            "bench", vectors_config=models.VectorParams(size=arr.shape[1], distance="Cosine")
        )
    else:
        grpc = mode == "grpc"
        client = AsyncQdrantClient(url=target, check_compatibility=False, prefer_grpc=grpc, grpc_port=GRPC_PORT[0])
    async with client:
        from aqdrant.ingest import points_from_columns

        async def upload(a, p, i) -> None:
            if mode in ("upload", "grpc"):
                await client.upload_collection("bench", a, payload=p, ids=i, batch_size=batch_size, parallel=parallel)
            else:
                async with client.ingest("bench", batch_size=batch_size, concurrency=parallel) as sink:
                    await sink.send_many(points_from_columns(a, p, i))

        await upload(arr[:WARM], payload[:WARM], ids[:WARM])  # warm-up: connection, caches
        c0, t0 = time.process_time(), time.perf_counter()
        await upload(arr, payload, ids)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        count = None
        if target == ":memory:":
            count = (await client.count("bench", exact=True)).count
    return {"wall": wall, "cpu": cpu, "count": count}


async def run_peer(target: str, arr, payload, ids, batch_size: int, grpc: bool = False) -> dict:
    import qdrant_client
    from qdrant_client import models as qm

    if target == ":memory:":
        client = qdrant_client.AsyncQdrantClient(":memory:")
        await client.create_collection(
            "bench", vectors_config=qm.VectorParams(size=arr.shape[1], distance=qm.Distance.COSINE)
        )
    else:
        client = qdrant_client.AsyncQdrantClient(
            url=target, check_compatibility=False, prefer_grpc=grpc, grpc_port=GRPC_PORT[0]
        )
    warm = client.upload_collection(
        "bench",
        arr[:WARM],
        payload=payload[:WARM],
        ids=ids[:WARM],
        batch_size=batch_size,
        parallel=1,
        wait=True,
    )
    if warm is not None:
        await warm
    c0, t0 = time.process_time(), time.perf_counter()
    # parallel=1: in this process (parallel>1 forks worker processes whose CPU would not be counted)
    # the peer's "async" upload_collection is a blocking call returning None (it stalls the loop)
    result = client.upload_collection(
        "bench", arr, payload=payload, ids=ids, batch_size=batch_size, parallel=1, wait=True
    )
    if result is not None:
        await result
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    count = None
    if target == ":memory:":
        count = (await client.count("bench", exact=True)).count
    await client.close()
    return {"wall": wall, "cpu": cpu, "count": count}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=768)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--parallel", type=int, default=4, help="aqdrant senders in flight")
    ap.add_argument("--local-n", type=int, default=20_000, help="points for the embedded engines (the peer's local mode is slow)")
    ap.add_argument("--no-local", action="store_true")
    args = ap.parse_args()
    import anyio

    arr, payload, ids = data(args.n, args.dim)
    rows: list[tuple[str, str, int, dict, dict | None]] = []
    proc, url = start_sink(args.dim)
    try:
        for name, fn in (
            ("aqdrant upload_collection", lambda: run_aqdrant(url, arr, payload, ids, args.batch_size, args.parallel)),
            ("aqdrant upload_collection (trio)", None),
            (
                "aqdrant ingest, a PointStruct per row",
                lambda: run_aqdrant(url, arr, payload, ids, args.batch_size, args.parallel, "points"),
            ),
            ("peer upload_collection", lambda: run_peer(url, arr, payload, ids, args.batch_size)),
            (
                "aqdrant upload_collection, gRPC",
                lambda: run_aqdrant(url, arr, payload, ids, args.batch_size, args.parallel, "grpc"),
            ),
            ("peer upload_collection, gRPC", lambda: run_peer(url, arr, payload, ids, args.batch_size, True)),
        ):
            sink_stats(url, reset=True)
            if fn is None:
                res = anyio.run(
                    run_aqdrant, url, arr, payload, ids, args.batch_size, args.parallel, backend="trio"
                )
            else:
                res = asyncio.run(fn())
            st = sink_stats(url)
            assert st["points"] == args.n + min(WARM, args.n), (name, st)  # measured + warm-up
            rows.append(("gRPC sink" if "gRPC" in name else "HTTP sink", name, args.n, res, st))
    finally:
        proc.terminate()
        proc.wait(5)

    if not args.no_local:
        n = args.local_n or args.n
        la, lp, li = arr[:n], payload[:n], ids[:n]
        for name, fn in (
            ("aqdrant upload_collection", lambda: run_aqdrant(":memory:", la, lp, li, args.batch_size, args.parallel)),
            (
                "peer upload_collection (local mode)",
                lambda: run_peer(":memory:", la, lp, li, args.batch_size),
            ),
        ):
            try:
                res = asyncio.run(fn())
            except Exception as e:  # e.g. the embedded engine is not there yet
                print(f"# {name} on the local engine: not run ({type(e).__name__}: {e})".splitlines()[0])
                continue
            assert res["count"] == n, (name, res)
            rows.append(("embedded engine", name, n, res, None))

    print(
        f"\n# bulk ingestion, {args.n} x {args.dim}-d float32, batch {args.batch_size}, "
        f"aqdrant concurrency {args.parallel}, wait=True; python {sys.version.split()[0]}, {os.cpu_count()} cpus"
    )
    head = f"| {'target':<16}| {'client':<40}| {'points':>7} | {'points/s':>9} | {'CPU µs/point':>12} | {'bytes/point':>11} |"
    print(head)
    print("|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|")
    for target, name, n, res, st in rows:
        bpp = f"{st['bytes'] / st['points']:,.0f}" if st else "-"
        print(
            f"| {target:<16}| {name:<40}| {n:>7} | {n / res['wall']:>9,.0f} | {res['cpu'] / n * 1e6:>12.1f} | {bpp:>11} |"
        )
    print(
        "\nCPU is this process only: the HTTP sink runs in its own process; aqdrant's embedded engine runs in a "
        "child process (not counted), the peer's local mode in this one."
    )
    cpu = {name: res["cpu"] for t, name, _, res, _ in rows if t != "embedded engine"}
    peer = cpu.get("peer upload_collection")
    for name in ("aqdrant upload_collection", "aqdrant upload_collection, gRPC"):
        if peer and name in cpu:
            print(f"peer upload_collection (REST) / {name}: client CPU per point {peer / cpu[name]:.1f}x (goal 5x)")
    if "peer upload_collection, gRPC" in cpu and "aqdrant upload_collection, gRPC" in cpu:
        ratio = cpu["peer upload_collection, gRPC"] / cpu["aqdrant upload_collection, gRPC"]
        print(f"peer upload_collection, gRPC / aqdrant upload_collection, gRPC: {ratio:.1f}x")


if __name__ == "__main__":
    main()
