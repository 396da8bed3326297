"""Event-loop heartbeat while 1,000 x 768-d points are upserted over REST (issue 3, item 5).

    .venv/bin/python benchmarks/bench_heartbeat.py [--rounds N] [--json]

A local HTTP sink runs in a separate process (plain asyncio, HTTP/1.1 keep-alive): it acks
Qdrant's upsert envelope and answers ``GET /collections/bench`` with a minimal collection info
(aqdrant checks vector sizes against it before sending; the first fetch is cached and happens
before the measured window). In this process a heartbeat task sleeps 1 ms in a loop and records
every gap between its wake-ups while the client sends 1,000 x 768-d points with a small payload,
built inside the measured window (point construction, validation, encoding and the HTTP round
trips all run on the same loop):

* ``10 x 100``: ten concurrent upserts of 100 points;
* ``1 x 1,000``: one upsert of 1,000 points.

aqdrant's ``AsyncQdrantClient`` (from Python lists and from a float32 numpy array) side by side
with ``qdrant_client.AsyncQdrantClient`` 1.20 (from lists), on asyncio and on trio. Reported:
the largest gap and the 99th percentile over all rounds, and the median wall time of a round.
Goal: no gap over 20 ms. Each client runs in its own fresh process (its own heap, so its own
garbage-collection pauses). Not a test: a shared 2-core machine adds its own noise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

N, DIM, COLLECTION = 1000, 768, "bench"
GOAL_MS = 20.0
TICK = 0.001

ACK = b'{"result":{"operation_id":1,"status":"completed"},"status":"ok","time":0}'
INFO = json.dumps(
    {
        "result": {
            "status": "green",
            "optimizer_status": "ok",
            "segments_count": 1,
            "points_count": 0,
            "indexed_vectors_count": 0,
            "config": {
                "params": {"vectors": {"size": DIM, "distance": "Cosine"}, "shard_number": 1, "replication_factor": 1,
                           "write_consistency_factor": 1, "on_disk_payload": True},
                "hnsw_config": {"m": 16, "ef_construct": 100, "full_scan_threshold": 10000,
                                "max_indexing_threads": 0, "on_disk": False},
                "optimizer_config": {"deleted_threshold": 0.2, "vacuum_min_vector_number": 1000,
                                     "default_segment_number": 0, "flush_interval_sec": 5},
                "wal_config": {"wal_capacity_mb": 32, "wal_segments_ahead": 0},
            },
            "payload_schema": {},
        },
        "status": "ok",
        "time": 0,
    }
).encode()


# ---- the sink (separate process) ------------------------------------------------------------


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:] if ":" in ln)}
            if headers.get("transfer-encoding", "").lower() == "chunked":
                while True:
                    size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                    await reader.readexactly(size + 2)
                    if size == 0:
                        break
            else:
                await reader.readexactly(int(headers.get("content-length", "0")))
            path = target.split("?", 1)[0]
            if method == "GET" and path == f"/collections/{COLLECTION}":
                body, status = INFO, "200 OK"
            elif method == "GET" and path == "/":
                body, status = b'{"title":"sink","version":"1.16.0"}', "200 OK"
            elif method == "PUT" and path == f"/collections/{COLLECTION}/points":
                body, status = ACK, "200 OK"
            else:
                body, status = b'{"status":{"error":"not here"},"time":0}', "404 Not Found"
            writer.write(
                f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def _serve(port: int) -> None:
    server = await asyncio.start_server(_handle, "127.0.0.1", port, limit=1 << 20)
    async with server:
        await server.serve_forever()


def start_sink() -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port)], cwd=ROOT)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("sink did not start")


# ---- the measured client side ---------------------------------------------------------------


def payload(i: int) -> dict:
    return {"city": ["Berlin", "Paris", "Oslo"][i % 3], "n": i, "tags": ["a", "b"], "price": i * 0.5}


class Heartbeat:
    """Sleeps ``TICK`` in a loop; records each gap between wake-ups while ``running``."""

    def __init__(self) -> None:
        self.gaps: list[float] = []
        self.running = True

    async def run(self) -> None:
        import anyio

        last = time.perf_counter()
        while self.running:
            await anyio.sleep(TICK)
            now = time.perf_counter()
            self.gaps.append(now - last)
            last = now


def make_sender(client_name: str, source: str, url: str, arr, lists):
    """(setup coroutine fn, send coroutine fn(points as list of slices), close fn)."""
    payloads = [payload(i) for i in range(N)]
    if client_name == "aqdrant":
        from aqdrant import AsyncQdrantClient, models

        client = AsyncQdrantClient(url=url, check_compatibility=False, timeout=60)

        def build(lo: int, hi: int):
            vecs = arr if source == "numpy" else lists
            return [models.PointStruct(id=i, vector=vecs[i], payload=payloads[i]) for i in range(lo, hi)]
    else:
        from qdrant_client import AsyncQdrantClient
        from qdrant_client.http import models as pm

        client = AsyncQdrantClient(url=url, check_compatibility=False, timeout=60)

        def build(lo: int, hi: int):
            vecs = arr[lo:hi].tolist() if source == "numpy" else lists[lo:hi]
            return [pm.PointStruct(id=i, vector=vecs[i - lo], payload=payloads[i]) for i in range(lo, hi)]

    async def setup() -> None:
        if client_name == "aqdrant":  # fetch and cache the collection's vector config
            await client.get_collection(COLLECTION)

    async def send(lo: int, hi: int) -> None:
        await client.upsert(COLLECTION, points=build(lo, hi), wait=True)

    return client, setup, send


async def one_case(client_name: str, source: str, shape: str, url: str, rounds: int, arr, lists) -> dict:
    import anyio

    client, setup, send = make_sender(client_name, source, url, arr, lists)
    gaps: list[float] = []
    walls: list[float] = []
    try:
        await setup()
        await send(0, 10)  # warm-up: connection, first-use imports
        for _ in range(rounds + 1):
            hb = Heartbeat()
            async with anyio.create_task_group() as tg:
                tg.start_soon(hb.run)
                await anyio.sleep(0.02)  # the heartbeat is ticking
                t0 = time.perf_counter()
                if shape == "10 x 100":
                    async with anyio.create_task_group() as inner:
                        for k in range(10):
                            inner.start_soon(send, k * 100, (k + 1) * 100)
                else:
                    await send(0, N)
                wall = time.perf_counter() - t0
                await anyio.sleep(0.005)
                hb.running = False
            if _ == 0:
                continue  # the first round warms caches and pools; not counted
            walls.append(wall)
            gaps.extend(hb.gaps)
    finally:
        await client.close()
    gaps.sort()
    return {
        "max_ms": gaps[-1] * 1e3,
        "p99_ms": gaps[min(len(gaps) - 1, int(0.99 * len(gaps)))] * 1e3,
        "wall_ms": statistics.median(walls) * 1e3,
    }


CASES = {"aqdrant": [("aqdrant", "lists"), ("aqdrant", "numpy")], "peer": [("qdrant-client 1.20", "lists")]}


def run_backend(backend: str, client: str, url: str, rounds: int) -> list[dict]:
    import anyio
    import numpy as np

    rng = np.random.default_rng(0)
    arr = rng.random((N, DIM), dtype=np.float32)
    lists = arr.astype(np.float64).tolist()
    rows = []
    for shape in ("10 x 100", "1 x 1,000"):
        for client_name, source in CASES[client]:
            row = {"backend": backend, "upserts": shape, "client": client_name, "from": source}
            try:
                row.update(anyio.run(one_case, client_name, source, shape, url, rounds, arr, lists, backend=backend))
            except Exception as e:  # a client that cannot run on this backend: say so
                row["error"] = f"{type(e).__name__}: {e}"[:120]
            rows.append(row)
    return rows


def table(rows: list[dict]) -> str:
    cols = ["loop", "upserts", "client", "from", "max gap", "p99 gap", "round wall", f"goal <= {GOAL_MS:.0f} ms"]
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        if "error" in r:
            cells = [r["backend"], r["upserts"], r["client"], r["from"], "n/a", "n/a", "n/a", r["error"]]
        else:
            cells = [
                r["backend"], r["upserts"], r["client"], r["from"],
                f"{r['max_ms']:.1f} ms", f"{r['p99_ms']:.1f} ms", f"{r['wall_ms']:.0f} ms",
                "met" if r["max_ms"] <= GOAL_MS else "MISSED",
            ]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--backends", default="asyncio,trio")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--child", nargs=3, metavar=("BACKEND", "CLIENT", "URL"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        asyncio.run(_serve(args.serve))
        return
    if args.child:
        backend, client, url = args.child
        print(json.dumps(run_backend(backend, client, url, args.rounds)))
        return
    from aqdrant import models

    models.parse(models.CollectionInfo, json.loads(INFO)["result"])  # the sink's answer is valid
    proc, url = start_sink()
    rows = []
    try:
        # Each client runs in a fresh process: a full GC pass scans every live object, so the
        # peer's imports (pydantic models: ~90k objects, an 80 ms full collection) would
        # lengthen aqdrant's pauses too if both lived in one heap.
        for backend in args.backends.split(","):
            for client in CASES:
                out = subprocess.run(
                    [sys.executable, __file__, "--rounds", str(args.rounds), "--child", backend, client, url],
                    cwd=ROOT, check=True, capture_output=True, text=True,
                ).stdout
                rows += json.loads(out.strip().splitlines()[-1])
    finally:
        proc.terminate()
        proc.wait(5)
    print(f"## bench_heartbeat: 1 ms heartbeat on the client's loop, {N} x {DIM}-d points, "
          f"{args.rounds} rounds (max / p99 over all; wall: median round)\n")
    print(table(rows))
    if args.json:
        print("\nJSON " + json.dumps(rows))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
