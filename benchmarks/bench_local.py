"""The embedded engine side by side with the peer's local mode (issue 4's benchmark).

    .venv/bin/python benchmarks/bench_local.py                    # 20,000 and 100,000 x 384-d
    .venv/bin/python benchmarks/bench_local.py --quick            # 20,000 only
    .venv/bin/python benchmarks/bench_local.py --sizes 20000,100000 --queries 200 --peer-queries 20

Workload: float32 vectors in 100 gaussian clusters (recall on uniform random vectors says
nothing), Cosine, payload ``{group: i % 100, tag: one of 10, price: float}``, batches of 256
upserted one after the other with ``wait=True`` ("ingest"), and again through the bulk API,
``upload_collection(batch_size=256, parallel=2)`` ("bulk ingest", two batches in flight: the
caller prepares one while the engine applies the other); a payload index on ``group`` created
before the data, as a user would. Queries are new points drawn from the same clusters.

- aqdrant: ``AsyncQdrantClient(path=...)`` (on disk: the same data is then reopened); the index
  build is waited for (``LocalBackend.optimize``) before queries are timed, and reported.
- peer: ``qdrant_client.QdrantClient(":memory:")`` (exact brute force, pure Python); its reopen
  is measured on a second copy ingested into ``QdrantClient(path=...)`` (its persisted mode).

Each (system, size) runs in a fresh interpreter, so peak RSS (VmHWM; for aqdrant this process
plus the engine process) belongs to that run alone; it includes the dataset itself (numpy, the
same for both). recall@10 is measured on the unfiltered queries against numpy brute force.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

DIM = 384
BATCH = 256
CLUSTERS = 100
GOALS = {  # at 100k
    "ingest": (">=", 35_000),
    "ingest_bulk": (">=", 35_000),
    "p50": ("<=", 12.0),
    "fp50": ("<=", 2.0),
    "count": ("<=", 10.0),
    "reopen": ("<=", 0.3),
    "recall": (">=", 0.95),
}


def dataset(n: int, n_queries: int) -> tuple[np.ndarray, list[dict], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(42)
    centers = rng.standard_normal((CLUSTERS, DIM)).astype(np.float32)
    which = rng.integers(0, CLUSTERS, n)
    vectors = centers[which] + 0.5 * rng.standard_normal((n, DIM), dtype=np.float32)
    qwhich = rng.integers(0, CLUSTERS, n_queries)
    queries = centers[qwhich] + 0.5 * rng.standard_normal((n_queries, DIM), dtype=np.float32)
    tags = [f"tag{k}" for k in range(10)]
    payloads = [
        {"group": i % 100, "tag": tags[(i * 7) % 10], "price": round(float(i % 1000) * 0.37, 2)}
        for i in range(n)
    ]
    groups = rng.integers(0, 100, n_queries)
    return vectors.astype(np.float32), payloads, queries.astype(np.float32), groups


def exact_top10(vectors: np.ndarray, queries: np.ndarray) -> list[set[int]]:
    vn = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    out = []
    for q in queries:
        scores = vn @ (q / np.linalg.norm(q))
        out.append(set(np.argpartition(-scores, 10)[:10].tolist()))
    return out


def vm_hwm_kb(pid: int | str = "self") -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


# -- aqdrant -----------------------------------------------------------------------------------


async def run_aqdrant(n: int, n_queries: int) -> dict:
    from aqdrant import AsyncQdrantClient, models

    vectors, payloads, queries, groups = dataset(n, n_queries)
    root = tempfile.mkdtemp(prefix="bench-local-")
    out: dict = {}
    try:
        client = AsyncQdrantClient(path=os.path.join(root, "db"))
        async with client:
            await client.create_collection(
                "bench", vectors_config=models.VectorParams(size=DIM, distance=models.Distance.COSINE)
            )
            await client.create_payload_index("bench", "group", models.PayloadSchemaType.INTEGER)
            t0 = time.perf_counter()
            for i in range(0, n, BATCH):
                await client.upsert(
                    "bench",
                    models.Batch(
                        ids=list(range(i, min(n, i + BATCH))),
                        vectors=vectors[i : i + BATCH],
                        payloads=payloads[i : i + BATCH],
                    ),
                    wait=True,
                )
            out["ingest"] = n / (time.perf_counter() - t0)
            # the bulk API: two batches in flight, so the engine applies one while this process
            # prepares and sends the next (into a second collection, dropped afterwards)
            await client.create_collection(
                "bulk", vectors_config=models.VectorParams(size=DIM, distance=models.Distance.COSINE)
            )
            await client.create_payload_index("bulk", "group", models.PayloadSchemaType.INTEGER)
            t0 = time.perf_counter()
            await client.upload_collection(
                "bulk",
                vectors=vectors,
                payload=payloads,
                ids=range(n),
                batch_size=BATCH,
                parallel=2,
                wait=True,
            )
            out["ingest_bulk"] = n / (time.perf_counter() - t0)
            assert (await client.count("bulk", exact=True)).count == n
            await client.delete_collection("bulk")
            t0 = time.perf_counter()
            await client._backend.optimize("bench")
            out["build_s"] = time.perf_counter() - t0
            assert (await client.count("bench", exact=True)).count == n

            def flt(k: int) -> models.Filter:
                return models.Filter(
                    must=[models.FieldCondition(key="group", match=models.MatchValue(value=int(k)))]
                )

            lat, hits = [], []
            for q in queries:
                t0 = time.perf_counter()
                res = await client.query_points("bench", query=q, limit=10)
                lat.append(time.perf_counter() - t0)
                hits.append({p.id for p in res.points})
            out["p50"], out["p95"] = pct(lat, 50) * 1e3, pct(lat, 95) * 1e3
            out["hits"] = [sorted(h) for h in hits]
            lat = []
            for q, k in zip(queries, groups, strict=True):
                t0 = time.perf_counter()
                await client.query_points("bench", query=q, query_filter=flt(k), limit=10)
                lat.append(time.perf_counter() - t0)
            out["fp50"], out["fp95"] = pct(lat, 50) * 1e3, pct(lat, 95) * 1e3
            lat = []
            for k in groups:
                t0 = time.perf_counter()
                c = await client.count("bench", count_filter=flt(k), exact=True)
                lat.append(time.perf_counter() - t0)
            assert c.count == n // 100 + (1 if int(k) < n % 100 else 0)
            out["count"] = pct(lat, 50) * 1e3
            engine_pid = client._backend.pid
            out["rss_mb"] = (vm_hwm_kb() + vm_hwm_kb(engine_pid)) / 1024
        t0 = time.perf_counter()
        async with AsyncQdrantClient(path=os.path.join(root, "db")) as client:
            await client.query_points("bench", query=queries[0], limit=10)
            out["reopen"] = time.perf_counter() - t0
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return out


# -- peer --------------------------------------------------------------------------------------


def run_peer(n: int, n_queries: int) -> dict:
    import warnings

    import qdrant_client
    from qdrant_client import models as qm

    warnings.filterwarnings("ignore")  # "local mode is not recommended for > 20,000 points"
    vectors, payloads, queries, groups = dataset(n, n_queries)
    out: dict = {}

    def load(client: qdrant_client.QdrantClient) -> float:
        client.create_collection(
            "bench", vectors_config=qm.VectorParams(size=DIM, distance=qm.Distance.COSINE)
        )
        client.create_payload_index("bench", "group", qm.PayloadSchemaType.INTEGER)
        t0 = time.perf_counter()
        for i in range(0, n, BATCH):
            client.upsert(
                "bench",
                qm.Batch(
                    ids=list(range(i, min(n, i + BATCH))),
                    vectors=vectors[i : i + BATCH].tolist(),
                    payloads=payloads[i : i + BATCH],
                ),
                wait=True,
            )
        return n / (time.perf_counter() - t0)

    client = qdrant_client.QdrantClient(":memory:")
    out["ingest"] = load(client)
    out["build_s"] = 0.0
    client.create_collection("bulk", vectors_config=qm.VectorParams(size=DIM, distance=qm.Distance.COSINE))
    client.create_payload_index("bulk", "group", qm.PayloadSchemaType.INTEGER)
    t0 = time.perf_counter()
    client.upload_collection(
        "bulk", vectors=vectors, payload=payloads, ids=range(n), batch_size=BATCH, parallel=2, wait=True
    )
    out["ingest_bulk"] = n / (time.perf_counter() - t0)
    client.delete_collection("bulk")

    def flt(k: int) -> qm.Filter:
        return qm.Filter(must=[qm.FieldCondition(key="group", match=qm.MatchValue(value=int(k)))])

    lat, hits = [], []
    for q in queries:
        t0 = time.perf_counter()
        res = client.query_points("bench", query=q.tolist(), limit=10)
        lat.append(time.perf_counter() - t0)
        hits.append({p.id for p in res.points})
    out["p50"], out["p95"] = pct(lat, 50) * 1e3, pct(lat, 95) * 1e3
    out["hits"] = [sorted(h) for h in hits]
    lat = []
    for q, k in zip(queries, groups, strict=True):
        t0 = time.perf_counter()
        client.query_points("bench", query=q.tolist(), query_filter=flt(k), limit=10)
        lat.append(time.perf_counter() - t0)
    out["fp50"], out["fp95"] = pct(lat, 50) * 1e3, pct(lat, 95) * 1e3
    lat = []
    for k in groups:
        t0 = time.perf_counter()
        client.count("bench", count_filter=flt(k), exact=True)
        lat.append(time.perf_counter() - t0)
    out["count"] = pct(lat, 50) * 1e3
    client.close()
    root = tempfile.mkdtemp(prefix="bench-peer-")
    try:
        client = qdrant_client.QdrantClient(path=os.path.join(root, "db"))
        out["ingest_path"] = load(client)
        client.close()
        t0 = time.perf_counter()
        client = qdrant_client.QdrantClient(path=os.path.join(root, "db"))
        client.query_points("bench", query=queries[0].tolist(), limit=10)
        out["reopen"] = time.perf_counter() - t0
        client.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    out["rss_mb"] = vm_hwm_kb() / 1024
    return out


# -- driver ------------------------------------------------------------------------------------


async def aqdrant_start_ms(rounds: int = 20) -> float:
    """A ``:memory:`` client's start: construct, create a collection (the engine process starts
    on the first call), close (the engine exits, its directory is removed); median, in ms."""
    from aqdrant import AsyncQdrantClient, models

    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        async with AsyncQdrantClient(":memory:") as client:
            await client.create_collection(
                "t", vectors_config=models.VectorParams(size=DIM, distance=models.Distance.COSINE)
            )
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def peer_start_ms(rounds: int = 20) -> float:
    import qdrant_client
    from qdrant_client import models as qm

    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        client = qdrant_client.QdrantClient(":memory:")
        client.create_collection("t", vectors_config=qm.VectorParams(size=DIM, distance=qm.Distance.COSINE))
        client.close()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def worker(system: str, n: int, n_queries: int) -> None:
    if system == "aqdrant":
        import anyio

        out = anyio.run(run_aqdrant, n, n_queries)
        out["start_ms"] = anyio.run(aqdrant_start_ms)
    else:
        out = run_peer(n, n_queries)
        out["start_ms"] = peer_start_ms()
    vectors, _, queries, _ = dataset(n, n_queries)
    exact = exact_top10(vectors, queries)
    out["recall"] = statistics.mean(len(set(h) & e) / 10 for h, e in zip(out.pop("hits"), exact, strict=True))
    out["queries"] = n_queries
    print("RESULT " + json.dumps(out), flush=True)


def verdict(key: str, value: float, n: int) -> str:
    if n != 100_000 or key not in GOALS:
        return ""
    op, goal = GOALS[key]
    ok = value >= goal if op == ">=" else value <= goal
    return " ✅" if ok else " ❌"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="20000,100000")
    ap.add_argument("--quick", action="store_true", help="20,000 points only")
    ap.add_argument("--queries", type=int, default=200, help="queries per kind for aqdrant")
    ap.add_argument("--peer-queries", type=int, default=20, help="queries per kind for the peer")
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument("--worker", nargs=3, metavar=("SYSTEM", "N", "QUERIES"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker[0], int(args.worker[1]), int(args.worker[2]))
        return
    sizes = [20_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    systems = [("aqdrant", "aqdrant AsyncQdrantClient(path=)", args.queries)]
    if not args.no_peer:
        systems.append(("peer", 'peer QdrantClient(":memory:")', args.peer_queries))
    rows = []
    t_all = time.perf_counter()
    for n in sizes:
        for system, label, nq in systems:
            t0 = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, __file__, "--worker", system, str(n), str(nq)],
                capture_output=True,
                text=True,
            )
            line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
            if proc.returncode or not line:
                print(f"# {label} at {n}: failed ({proc.returncode})\n{proc.stderr[-2000:]}", file=sys.stderr)
                continue
            r = json.loads(line[0][7:])
            r["wall"] = time.perf_counter() - t0
            rows.append((n, label, r))
            print(f"# {label} {n}: done in {r['wall']:.0f} s", file=sys.stderr, flush=True)
    head = (
        "| points | system | ingest pts/s | bulk ingest pts/s | index build s | query p50 ms | p95 ms | filtered p50 ms "
        "| filtered p95 ms | filtered count p50 ms | reopen s | peak RSS MB | recall@10 | queries | `:memory:` start ms |"
    )
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for n, label, r in rows:

        def v(key: str, fmt: str, r: dict = r, n: int = n) -> str:
            return f"{r[key]:{fmt}}{verdict(key, r[key], n)}"

        print(
            f"| {n:,} | {label} | {v('ingest', ',.0f')} | {v('ingest_bulk', ',.0f')} | {r['build_s']:.1f} | {v('p50', '.2f')} | {r['p95']:.2f} "
            f"| {v('fp50', '.2f')} | {r['fp95']:.2f} | {v('count', '.2f')} | {v('reopen', '.3f')} "
            f"| {r['rss_mb']:,.0f} | {v('recall', '.3f')} | {r['queries']} | {r['start_ms']:.0f} |"
        )
    print()
    for n, _label, r in rows:
        if "ingest_path" in r:
            print(
                f"peer at {n:,}: ingest into QdrantClient(path=) for the reopen: {r['ingest_path']:,.0f} pts/s"
            )
    print(
        "ingest: upserts of 256-point Batches one after the other, wait=True; bulk ingest: "
        "upload_collection(batch_size=256, parallel=2), wait=True"
    )
    print(
        "`:memory:` start: construct + create_collection + close, median of 20 (aqdrant: the engine "
        "process starts and exits each time)"
    )
    print(
        "goals at 100k (✅ met / ❌ missed): ingest >= 35k pts/s, unfiltered p50 <= 12 ms, filtered p50 <= 2 ms, "
        "filtered count <= 10 ms, reopen <= 0.3 s, recall@10 >= 0.95"
    )
    print(f"total {time.perf_counter() - t_all:.0f} s")


if __name__ == "__main__":
    main()
