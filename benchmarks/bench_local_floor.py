"""Where the embedded engine's ingest time goes: the binding's own floor vs aqdrant's work.

    .venv/bin/python benchmarks/bench_local_floor.py [--sizes 20000,100000] [--rounds 3]

bench_local's workload (384-d float32, Cosine, payload {group, tag, price}, an integer index on
``group``, batches of 256), in this process, CPU time (``time.process_time``) per point, best of
``--rounds``:

- *binding floor*: what qdrant-edge itself costs with everything prepared - ``qe.Point`` built
  from ready Python lists and dicts, ``UpdateOperation.upsert_points``, ``EdgeShard.update``;
- *aqdrant's engine path*: the same points from the request frames the parent sends (vectors as
  raw float32 bytes): frame decode (``engine._decode_request``), the validation boundary and
  free-space probe (``guard.check``, ``containment.check_space``), ``convert.points_in`` (checks
  and ``qe.Point``), the operation, the update.

The index on ``group`` is declared before the load, as a user would; the server maintains it
point by point during the load, aqdrant builds it once after (``engine._build_pending``: its
cost is the last column, paid when writes pause, not on the ingest path).

A second table runs the engine process itself, as LocalBackend starts it, fed frames encoded
beforehand (``over_pipe``): what one engine process sustains over its pipe when its caller
costs next to nothing.

The engine process cannot overlap any of this (qdrant-edge holds the GIL for every call), so
1 / (engine path per point) bounds the ingest rate of one engine process; the caller's own work
and the pipe come on top (overlapped when batches are pipelined, e.g. ``upload_collection(...,
parallel=2)``). Not a test: a shared 2-core machine adds its own noise.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgspec
import numpy as np
import qdrant_edge as qe

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aqdrant import models  # noqa: E402
from aqdrant.local import backend, engine, guard  # noqa: E402
from aqdrant.local import containment as ct  # noqa: E402
from aqdrant.local import convert as cv  # noqa: E402

DIM, BATCH = 384, 256


def data(n: int) -> tuple[np.ndarray, list[dict]]:
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((n, DIM), dtype=np.float32)
    tags = [f"tag{k}" for k in range(10)]
    payloads = [
        {"group": i % 100, "tag": tags[(i * 7) % 10], "price": round(float(i % 1000) * 0.37, 2)}
        for i in range(n)
    ]
    return vectors, payloads


def new_engine(root: str, *, defer: bool = True, wal: bool = True) -> tuple[engine.Engine, object]:
    """An engine with bench_local's collection and its index on ``group`` declared up front;
    ``defer``: aqdrant's default (the index is built after the load, see engine._build_pending),
    else maintained point by point during it, as the server does."""
    e = engine.Engine(root, temporary=True, defer_indexes=defer)
    config: dict = {"vectors": {"size": DIM, "distance": "Cosine"}}
    e.handle("create_collection", {"collection_name": "b"}, {}, config)
    if not wal:  # the same shard again, without its write-ahead log (a what-if: see main())
        shard = e.shards.pop("b")
        path = os.path.join(e.root, e.catalog.collections["b"].dir)
        shard.close()
        shutil.rmtree(path)
        e.shards["b"] = qe.EdgeShard.create(
            path,
            qe.EdgeConfig(
                vectors=qe.EdgeVectorParams(size=DIM, distance=qe.Distance.Cosine), wal_enabled=False
            ),
        )
    e.handle(
        "create_field_index", {"collection_name": "b"}, {}, {"field_name": "group", "field_schema": "integer"}
    )
    return e, e.shard("b")


class Laps:
    """CPU time per named step, summed over batches: ``start()``, then ``lap(name)`` after each."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self._last = 0.0

    def start(self) -> None:
        self._last = time.process_time()

    def lap(self, name: str) -> None:
        now = time.process_time()
        self.totals[name] = self.totals.get(name, 0.0) + now - self._last
        self._last = now


def apply(shard: object, points: list, laps: Laps) -> None:
    """The operation and the update, timed; the same for every path."""
    op = qe.UpdateOperation.upsert_points(points)
    laps.lap("op")
    shard.update(op)  # type: ignore[attr-defined]
    laps.lap("update")


def finish(e: engine.Engine, n: int, laps: Laps) -> dict[str, float]:
    """µs per point of each step, and ``later``: building the deferred index over the loaded
    points (0 if none); closes the engine."""
    try:
        laps.start()
        e._build_pending("b", e.shard("b"))
        laps.lap("later")
    finally:
        e.close()
    return {k: v / n * 1e6 for k, v in laps.totals.items()}


def floor(
    n: int, vectors: np.ndarray, payloads: list[dict], root: str, *, defer: bool = False, wal: bool = True
) -> dict[str, float]:
    e, shard = new_engine(root, defer=defer, wal=wal)
    laps = Laps()
    try:
        for i in range(0, n, BATCH):
            lists = vectors[i : i + BATCH].tolist()  # per batch: no heap of every float at once
            laps.start()
            points = [qe.Point(i + k, v, payloads[i + k]) for k, v in enumerate(lists)]
            laps.lap("point")
            apply(shard, points, laps)
    except BaseException:
        e.close()
        raise
    return finish(e, n, laps)


def frame(rid: int, op: str, body: object) -> bytes:
    """One request frame as LocalBackend sends it (message, then the float32 blob)."""
    message = {
        "id": rid,
        "op": op,
        "path": {"collection_name": "b"},
        "query": {},
        "body": body,
        "deadline": None,
    }
    return b"".join(bytes(p) for p in backend._frame(message))


def upsert_frames(n: int, vectors: np.ndarray, payloads: list[dict]) -> list[bytes]:
    return [
        frame(
            10 + i,
            "upsert_points",
            models.PointsBatch(
                batch=models.Batch(
                    ids=list(range(i, min(n, i + BATCH))),
                    vectors=vectors[i : i + BATCH],
                    payloads=payloads[i : i + BATCH],
                )
            ),
        )
        for i in range(0, n, BATCH)
    ]


def ours(n: int, vectors: np.ndarray, payloads: list[dict], root: str) -> dict[str, float]:
    frames = []
    for raw in upsert_frames(n, vectors, payloads):
        size = int.from_bytes(raw[:4], "big")
        frames.append((raw[4 : 4 + size], raw[4 + size + 8 :]))
    e, shard = new_engine(root)
    laps = Laps()
    try:
        for message, blob in frames:
            laps.start()
            body = engine._decode_request(message, blob)["body"]
            laps.lap("decode")
            # the validation boundary and the free-space probe, as Engine.handle runs them
            ct.check_space("upsert_points", root)
            guard.check("upsert_points", {"collection_name": "b"}, body, lambda: None)
            laps.lap("guard")
            batch = body["batch"]
            points = cv.points_in(batch["ids"], batch["vectors"], batch["payloads"])
            laps.lap("point")
            apply(shard, points, laps)
    except BaseException:
        e.close()
        raise
    return finish(e, n, laps)


PATHS = {
    "binding floor, index maintained during the load (as the server does)": floor,
    "binding floor, index built after the load (aqdrant's default)": lambda *a: floor(*a, defer=True),
    "aqdrant engine path (index built after the load)": ours,
    # a what-if, not an option: without the WAL an acknowledged write is lost on a crash unless
    # the shard is flushed before the reply, which costs more than the log
    "what-if: no WAL, index built after": lambda *a: floor(*a, defer=True, wal=False),
}


def _cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def over_pipe(
    n: int, vectors: np.ndarray, payloads: list[dict], root: str, in_flight: int
) -> tuple[float, float]:
    """The engine process as LocalBackend runs it, fed pre-encoded frames by this process with
    ``in_flight`` requests outstanding: (points/s, engine CPU µs per point). What one engine
    process sustains when its caller costs (almost) nothing."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            backend._ENGINE_BOOT,
            backend._ENGINE_DIR,
            os.path.join(root, "db"),
            "--temporary",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    stdin, stdout = proc.stdin, proc.stdout

    def reply() -> dict:
        size = int.from_bytes(stdout.read(4), "big")
        msg = msgspec.msgpack.decode(stdout.read(size))
        if not msg.get("ok"):
            raise RuntimeError(f"engine error: {msg}")
        return msg

    try:
        reply()  # hello
        config = models.CreateCollection(
            vectors=models.VectorParams(size=DIM, distance=models.Distance.COSINE)
        )
        index = models.CreateFieldIndex(field_name="group", field_schema=models.PayloadSchemaType.INTEGER)
        for rid, op, body in ((1, "create_collection", config), (2, "create_field_index", index)):
            stdin.write(frame(rid, op, body))
            stdin.flush()
            reply()
        frames = upsert_frames(n, vectors, payloads)
        cpu0, t0 = _cpu_seconds(proc.pid), time.perf_counter()
        sent = done = 0
        while done < len(frames):
            while sent < len(frames) and sent - done < in_flight:
                stdin.write(frames[sent])
                stdin.flush()
                sent += 1
            reply()
            done += 1
        wall, cpu = time.perf_counter() - t0, _cpu_seconds(proc.pid) - cpu0
    finally:
        stdin.close()
        proc.wait()
    return n / wall, cpu / n * 1e6


def _ingest(r: dict[str, float]) -> float:
    """µs per point on the ingest path (the deferred index build comes later)."""
    return sum(v for k, v in r.items() if k != "later")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="20000,100000")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    base = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    results: list[tuple[int, str, dict[str, float]]] = []
    for n in sizes:
        vectors, payloads = data(n)
        best: dict[str, dict[str, float]] = {}
        for _ in range(args.rounds):
            for name, fn in PATHS.items():
                root = tempfile.mkdtemp(prefix="bench-floor-", dir=base)
                try:
                    r = fn(n, vectors, payloads, root)
                finally:
                    shutil.rmtree(root, ignore_errors=True)
                if name not in best or _ingest(r) < _ingest(best[name]):
                    best[name] = r
        results += [(n, name, best[name]) for name in PATHS]
    print(
        f"{DIM}-d float32, payload {{group, tag, price}}, an integer index on group, batches of {BATCH}, "
        f"shards in {base or 'the temp dir'}; CPU µs per point, best of {args.rounds}"
    )
    print()
    print(
        "| points | path | frame decode | guard | qe.Point | upsert op | EdgeShard.update | ingest µs/pt "
        "| bound pts/s | index build after the load µs/pt |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n, name, r in results:
        total = _ingest(r)
        dec = f"{r['decode']:.2f}" if "decode" in r else "-"
        grd = f"{r['guard']:.2f}" if "guard" in r else "-"
        print(
            f"| {n:,} | {name} | {dec} | {grd} | {r['point']:.2f} | {r['op']:.2f} | {r['update']:.2f} | {total:.2f} "
            f"| {1e6 / total:,.0f} | {r['later']:.2f} |"
        )
    print()
    print(
        "the issue's goal, 35,000 pts/s, is 28.6 µs per point end to end; one engine process can do no better "
        "than its binding floor (qdrant-edge holds the GIL in every call, so nothing overlaps it); the second "
        "table is the engine process fed by a caller that costs almost nothing (bench_local's client prepares "
        "each batch too: on this 2-vCPU VM the engine then runs 25-40% slower per point)"
    )
    print()
    print("| points | engine process over its pipe, pre-encoded frames | points/s | engine CPU µs/pt |")
    print("|---|---|---|---|")
    for n in sizes:
        vectors, payloads = data(n)
        for in_flight, label in ((1, "one request at a time"), (2, "two requests in flight")):
            runs = []
            for _ in range(args.rounds):
                root = tempfile.mkdtemp(prefix="bench-floor-", dir=base)
                try:
                    runs.append(over_pipe(n, vectors, payloads, root, in_flight))
                finally:
                    shutil.rmtree(root, ignore_errors=True)
            rate, cpu = max(runs)
            print(f"| {n:,} | {label} | {rate:,.0f} | {cpu:.2f} |")
    print()
    print(
        "an index built after the load costs about what maintaining it did, once, when writes pause (last "
        "column); without the write-ahead log an acknowledged write would be lost on a crash unless the shard "
        "were flushed before each reply, which costs more than the log"
    )


if __name__ == "__main__":
    main()
