"""REST model (de)serialisation: aqdrant.models vs qdrant-client 1.20, side by side.

    .venv/bin/python benchmarks/bench_models.py [--repeats N]

One run, medians of repeats (shared machine: read the ratios, not the third digit).

* encode an upsert body, 1,000 points x 768-d with a small payload: from Python lists and from a
  (1000, 768) float32 array (and, no goal, as one ``Batch`` of the whole array). aqdrant: build
  ``PointsList``/``PointStruct`` (the vector union resolved and checked) + ``models.dump``;
  peer: build its pydantic ``PointsList``/``PointStruct`` + its REST body path
  (``jsonable_encoder`` -> ``model_dump_json``), numpy via ``.tolist()`` as its REST path does.
* decode a 1,000-hit ``QueryResponse`` (payload only; with 768-d vectors): ``models.parse``
  vs the peer's ``QueryResponse.model_validate_json``.
* decode 1,000 points x 768-d and read every vector (the first and last float of each, so a lazy
  vector is decoded): query, scroll and retrieve replies, REST JSON and gRPC bytes (aqdrant's
  fast decoder vs the peer's protobuf parse + its GrpcToRest conversion). A "ceiling" row decodes
  the same REST body to builtins with msgspec alone (every float a Python object, no model): what
  the fastest decoder here costs for the floats, so peer / ceiling bounds any list-returning
  client's gain.

REST bodies are written as Qdrant writes them: compact JSON with float32 values in their shortest
float32 digits (``0.47318864``), not Python's float64 repr of the same numbers.
* ``import aqdrant`` vs ``import qdrant_client``: wall time of fresh interpreters, median of 5.

Prints a markdown table; ``--json`` prints the rows as JSON as well (run_all.py uses it).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

N, DIM = 1000, 768


def median_time(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def payload(i: int) -> dict:
    return {"city": ["Berlin", "Paris", "Oslo"][i % 3], "n": i, "tags": ["a", "b"], "price": i * 0.5}


def import_time(module: str, runs: int = 5) -> float:
    code = f"import time; t=time.perf_counter(); import {module}; print(time.perf_counter()-t)"
    wall = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, cwd=ROOT)
        wall.append(time.perf_counter() - t0)
    base = []
    for _ in range(runs):  # the bare interpreter start, reported separately
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True, capture_output=True, cwd=ROOT)
        base.append(time.perf_counter() - t0)
    return statistics.median(wall) - statistics.median(base)


def qdrant_json(obj: object) -> bytes:
    """JSON as Qdrant writes it: compact, float32 values (vectors as float32 arrays, scores as
    ``np.float32``) in their shortest float32 digits (``0.47318864``, not ``0.4731886386871338``)."""
    import orjson

    return orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY)


def query_response_json(with_vectors: bool) -> bytes:
    rng = np.random.default_rng(1)
    vecs = rng.random((N, DIM), dtype=np.float32)
    points = []
    for i in range(N):
        p = {"id": i, "version": 3, "score": np.float32(1 - i / N), "payload": payload(i)}
        if with_vectors:
            p["vector"] = vecs[i]
        points.append(p)
    return qdrant_json({"points": points})


def run(repeats: int) -> list[dict]:
    from qdrant_client.http import models as pm
    from qdrant_client.http.api.points_api import jsonable_encoder

    from aqdrant import models as am

    rng = np.random.default_rng(0)
    arr = rng.random((N, DIM), dtype=np.float32)
    lists = arr.astype(np.float64).tolist()  # what a user's Python lists hold
    payloads = [payload(i) for i in range(N)]
    rows: list[dict] = []

    # ---- encode from lists ------------------------------------------------------------------
    def a_lists() -> bytes:
        return am.dump(
            am.PointsList(
                points=[am.PointStruct(id=i, vector=lists[i], payload=payloads[i]) for i in range(N)]
            )
        )

    def p_lists() -> str:
        body = pm.PointsList(
            points=[pm.PointStruct(id=i, vector=lists[i], payload=payloads[i]) for i in range(N)]
        )
        return jsonable_encoder(body)

    def a_numpy() -> bytes:
        return am.dump(
            am.PointsList(points=[am.PointStruct(id=i, vector=arr[i], payload=payloads[i]) for i in range(N)])
        )

    def p_numpy() -> str:
        vl = arr.tolist()
        body = pm.PointsList(
            points=[pm.PointStruct(id=i, vector=vl[i], payload=payloads[i]) for i in range(N)]
        )
        return jsonable_encoder(body)

    ids = list(range(N))

    def a_batch() -> bytes:  # the whole (1000, 768) array written by one orjson call
        return am.dump(am.PointsBatch(batch=am.Batch(ids=ids, vectors=arr, payloads=payloads)))

    def p_batch() -> str:
        body = pm.PointsBatch(batch=pm.Batch(ids=ids, vectors=arr.tolist(), payloads=payloads))
        return jsonable_encoder(body)

    for label, a_fn, p_fn in (
        ("encode upsert, from lists", a_lists, p_lists),
        ("encode upsert, from numpy float32", a_numpy, p_numpy),
        ("encode upsert, Batch of one float32 array (no goal)", a_batch, p_batch),
    ):
        # Same JSON meaning on both sides (sanity check, not timed).
        a_body, p_body = a_fn(), p_fn()
        a_obj, p_obj = json.loads(a_body), json.loads(p_body)
        if "batch" in a_obj:
            assert a_obj["batch"]["ids"] == p_obj["batch"]["ids"]
            assert np.allclose(np.array(a_obj["batch"]["vectors"]), arr, rtol=1e-6)
        else:
            assert [p["id"] for p in a_obj["points"]] == [p["id"] for p in p_obj["points"]]
            assert np.allclose(np.array([p["vector"] for p in a_obj["points"]]), arr, rtol=1e-6)
        ta, tp = median_cpu(a_fn, repeats), median_cpu(p_fn, repeats)
        rows.append(
            {
                "measure": label,
                "aqdrant": f"{ta / N * 1e6:.1f} µs/pt, {len(a_body) / N:,.0f} B/pt",
                "qdrant-client 1.20": f"{tp / N * 1e6:.1f} µs/pt, {len(p_body.encode()) / N:,.0f} B/pt",
                "speed-up": f"{tp / ta:.1f}x",
                "_a_us": ta / N * 1e6,
                "_p_us": tp / N * 1e6,
                "_a_bytes": len(a_body) / N,
            }
        )

    # ---- decode a query response ------------------------------------------------------------
    for label, with_vectors in (
        ("decode 1,000-hit QueryResponse, payload only", False),
        ("decode 1,000-hit QueryResponse, + 768-d vectors (not read)", True),
    ):
        body = query_response_json(with_vectors)
        a_res = am.parse(am.QueryResponse, body)
        p_res = pm.QueryResponse.model_validate_json(body)
        assert len(a_res.points) == len(p_res.points) == N
        assert a_res.points[7].payload == p_res.points[7].payload
        if with_vectors:
            assert list(a_res.points[5].vector) == p_res.points[5].vector
        ta = median_time(lambda body=body: am.parse(am.QueryResponse, body), repeats)
        tp = median_time(lambda body=body: pm.QueryResponse.model_validate_json(body), repeats)
        rows.append(
            {
                "measure": label,
                "aqdrant": f"{ta / N * 1e6:.2f} µs/hit",
                "qdrant-client 1.20": f"{tp / N * 1e6:.2f} µs/hit",
                "speed-up": f"{tp / ta:.1f}x",
                "_a_us": ta / N * 1e6,
                "_p_us": tp / N * 1e6,
            }
        )

    # ---- decode with every vector read (REST JSON and gRPC bytes), query / scroll / retrieve ----
    rows.extend(decode_every_vector_rows(repeats))

    # ---- import time ------------------------------------------------------------------------
    ia, ip = import_time("aqdrant"), import_time("qdrant_client")
    rows.append(
        {
            "measure": "import (fresh interpreter, median of 5, minus bare start-up)",
            "aqdrant": f"{ia * 1e3:.0f} ms",
            "qdrant-client 1.20": f"{ip * 1e3:.0f} ms",
            "speed-up": f"{ip / ia:.1f}x",
            "_a_ms": ia * 1e3,
        }
    )
    return rows


def median_cpu(fn, repeats: int) -> float:
    """Median process CPU time of ``fn()`` (robust on a shared machine; all of it is on this thread)."""
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return statistics.median(times)


def _read_all(points: list) -> None:
    """Touch every vector's values: the first and the last float of each (a lazy vector is
    decoded by the first touch; the peer's are lists already)."""
    for p in points:
        v = p.vector
        v[0], v[-1]  # noqa: B018


def _peer_array(points: list) -> np.ndarray:
    return np.asarray([p.vector for p in points], dtype=np.float32)


def decode_every_vector_rows(repeats: int) -> list[dict]:
    """1,000 points x 768-d: parse and read every vector (process CPU time), aqdrant vs the peer, for query, scroll
    and retrieve replies, over REST (JSON bodies: ``models.parse`` vs ``model_validate_json``)
    and gRPC (reply bytes: aqdrant's fast decoder vs the peer's protobuf parse + GrpcToRest)."""
    from pydantic import TypeAdapter
    from qdrant_client import grpc as pg
    from qdrant_client.conversions.conversion import GrpcToRest
    from qdrant_client.http import models as pm

    from aqdrant import models as am
    from aqdrant.grpc import fast

    records_adapter = TypeAdapter(list[pm.Record])  # the peer's models, parsed from JSON in Rust
    body = query_response_json(True)
    query = am.parse(am.QueryResponse, body)
    records = [am.Record(id=p.id, payload=p.payload, vector=list(p.vector)) for p in query.points]
    plain = [
        {"id": r.id, "payload": r.payload, "vector": np.asarray(r.vector, dtype=np.float32)} for r in records
    ]
    scroll_json = qdrant_json({"points": plain, "next_page_offset": None})
    retrieve_json = qdrant_json(plain)
    q_bytes = fast.encode_query_response(query, 0.01)
    s_bytes = fast.encode_scroll_response(am.ScrollResult(points=records, next_page_offset=None), 0.01)
    g_bytes = fast.encode_get_response(records, 0.01)

    cases = [
        (
            "REST query",
            lambda: _read_all(am.parse(am.QueryResponse, body).points),
            lambda: _read_all(pm.QueryResponse.model_validate_json(body).points),
        ),
        (
            "REST scroll",
            lambda: _read_all(am.parse(am.ScrollResult, scroll_json).points),
            lambda: _read_all(pm.ScrollResult.model_validate_json(scroll_json).points),
        ),
        (
            "REST retrieve",
            lambda: _read_all(am.parse(list[am.Record], retrieve_json)),
            lambda: _read_all(records_adapter.validate_json(retrieve_json)),
        ),
        (
            "gRPC query",
            lambda: _read_all(fast.decode_query_response(q_bytes).points),
            lambda: _read_all(
                [GrpcToRest.convert_scored_point(h) for h in pg.QueryResponse.FromString(q_bytes).result]
            ),
        ),
        (
            "gRPC scroll",
            lambda: _read_all(fast.decode_scroll_response(s_bytes).points),
            lambda: _read_all(
                [GrpcToRest.convert_retrieved_point(r) for r in pg.ScrollResponse.FromString(s_bytes).result]
            ),
        ),
        (
            "gRPC retrieve",
            lambda: _read_all(fast.decode_get_response(g_bytes)),
            lambda: _read_all(
                [GrpcToRest.convert_retrieved_point(r) for r in pg.GetResponse.FromString(g_bytes).result]
            ),
        ),
        # every vector as one (1000, 768) float32 array: models.vectors_array vs the peer's lists
        (
            "REST query, as numpy",
            lambda: am.vectors_array(am.parse(am.QueryResponse, body).points),
            lambda: _peer_array(pm.QueryResponse.model_validate_json(body).points),
        ),
        (
            "gRPC query, as numpy",
            lambda: am.vectors_array(fast.decode_query_response(q_bytes).points),
            lambda: _peer_array(
                [GrpcToRest.convert_scored_point(h) for h in pg.QueryResponse.FromString(q_bytes).result]
            ),
        ),
        (
            "gRPC scroll, as numpy",
            lambda: am.vectors_array(fast.decode_scroll_response(s_bytes).points),
            lambda: _peer_array(
                [GrpcToRest.convert_retrieved_point(r) for r in pg.ScrollResponse.FromString(s_bytes).result]
            ),
        ),
    ]
    # The ceiling for Python lists: any JSON decoder must parse 768,000 floats and make each a
    # Python object (~24 ms of the peer's ~64 here); msgspec decoding the whole body to builtins
    # is the fastest way we have, so peer / this is the most any list-returning client can gain.
    import msgspec

    ceiling = ("REST query", lambda: msgspec.json.decode(body))
    out = []
    for label, a_fn, p_fn in cases:
        ta, tp = median_cpu(a_fn, repeats), median_cpu(p_fn, repeats)
        out.append(
            {
                "measure": f"decode 1,000 x 768-d, every vector read: {label}",
                "aqdrant": f"{ta / N * 1e6:.2f} µs/point",
                "qdrant-client 1.20": f"{tp / N * 1e6:.2f} µs/point",
                "speed-up": f"{tp / ta:.1f}x",
                "_a_us": ta / N * 1e6,
                "_p_us": tp / N * 1e6,
            }
        )
    label, c_fn = ceiling
    peer = next(r for r in out if r["measure"].endswith(f": {label}"))  # the peer on the same body
    tc, tp = median_cpu(c_fn, repeats), peer["_p_us"] * N / 1e6
    first_numpy = next(i for i, r in enumerate(out) if r["measure"].endswith("as numpy"))
    out.insert(
        first_numpy,
        {
            "measure": f"ceiling for lists, {label}: the body to builtins (msgspec, no model), no client",
            "aqdrant": f"{tc / N * 1e6:.2f} µs/point",
            "qdrant-client 1.20": f"{tp / N * 1e6:.2f} µs/point",
            "speed-up": f"{tp / tc:.1f}x",
        },
    )
    return out


GOALS = [
    ("encode upsert, from lists", lambda r: r["_p_us"] / r["_a_us"] >= 3, ">= 3x the peer"),
    (
        "encode upsert, from numpy float32",
        lambda r: r["_a_us"] <= 20 and r["_a_bytes"] <= 9000,
        "<= 20 µs/pt, <= 9 KB/pt",
    ),
    (
        "decode 1,000-hit QueryResponse, payload only",
        lambda r: r["_p_us"] / r["_a_us"] >= 2,
        ">= 2x the peer",
    ),
    (
        "decode 1,000-hit QueryResponse, + 768-d vectors (not read)",
        lambda r: r["_p_us"] / r["_a_us"] >= 3,
        ">= 3x the peer",
    ),
    ("decode 1,000 x 768-d, every vector read", lambda r: r["_p_us"] / r["_a_us"] >= 2, ">= 2x the peer"),
    ("import", lambda r: r["_a_ms"] < 150, "< 150 ms"),
]


def table(rows: list[dict]) -> str:
    cols = ["measure", "aqdrant", "qdrant-client 1.20", "speed-up", "goal"]
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        goal = next(((ok(r), text) for name, ok, text in GOALS if r["measure"].startswith(name)), None)
        r["goal"] = (
            f"{text}: {'met' if met else 'MISSED'}"
            if goal and (met := goal[0]) is not None and (text := goal[1])
            else ""
        )
        out.append("| " + " | ".join(str(r.get(c, "")) for c in cols) + " |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = run(args.repeats)
    print(f"## bench_models: REST models, {N} points x {DIM}-d, median of {args.repeats}\n")
    print(table(rows))
    if args.json:
        print("\nJSON " + json.dumps([{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]))


if __name__ == "__main__":
    main()
