"""gRPC hot paths, side by side in one run: encode an UpsertPoints of N x D points from numpy and
decode an N-hit QueryResponse, aqdrant's fast path vs betterproto2 vs the peer (qdrant-client's
gRPC path: protobuf messages, its numpy fast path for vectors, its GrpcToRest conversion).

Usage: ``python benchmarks/bench_grpc.py [--points 1000] [--dim 768] [--repeat 5]``

Prints a table of microseconds per point (encode) and per hit (decode); the best of
``--repeat`` runs. The peer is imported for the benchmark only.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aqdrant import models as m  # noqa: E402
from aqdrant.grpc import convert, fast  # noqa: E402
from aqdrant.grpc._proto import qdrant as q  # noqa: E402


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1000)
    ap.add_argument("--dim", type=int, default=768)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    n, dim, rep = args.points, args.dim, args.repeat
    slow_rep = max(1, min(rep, 2))

    from qdrant_client import grpc as pg
    from qdrant_client.conversions.conversion import GrpcToRest, RestToGrpc, payload_to_grpc
    from qdrant_client.uploader.grpc_uploader import convert_vector_struct

    rng = np.random.default_rng(0)
    mat = rng.standard_normal((n, dim)).astype(np.float32)
    ids = list(range(n))
    payloads = [{"i": i, "tag": f"t{i % 10}", "price": i * 0.5, "tags": ["a", "b"]} for i in ids]
    rows: list[tuple[str, float, str]] = []

    # ---------------------------------------------------------------- encode
    def enc_fast() -> bytes:
        return fast.encode_upsert_points("bench", ids=ids, vectors=mat, payloads=payloads, wait=True)

    def enc_bp2() -> bytes:
        pts = [
            q.PointStruct(
                id=q.PointId(num=i),
                payload=convert.payload_to_grpc(payloads[i]),
                vectors=q.Vectors(vector=q.Vector(dense=q.DenseVector(data=mat[i].tolist()))),
            )
            for i in ids
        ]
        return bytes(q.UpsertPoints(collection_name="bench", wait=True, points=pts))

    def enc_peer() -> bytes:
        pts = [
            pg.PointStruct(
                id=RestToGrpc.convert_extended_point_id(i),
                vectors=convert_vector_struct(mat[i]),
                payload=payload_to_grpc(payloads[i]),
            )
            for i in ids
        ]
        return pg.UpsertPoints(collection_name="bench", wait=True, points=pts).SerializeToString()

    fast_bytes, bp2_bytes, peer_bytes = enc_fast(), enc_bp2(), enc_peer()
    assert fast_bytes == bp2_bytes, "fast path and betterproto2 disagree"
    for label, fn, r in (
        ("aqdrant fast path (numpy -> bytes)", enc_fast, rep),
        ("betterproto2 messages", enc_bp2, slow_rep),
        ("peer: protobuf + its numpy path", enc_peer, rep),
    ):
        rows.append((f"encode UpsertPoints {n} x {dim}", best(fn, r) / n * 1e6, label))

    # ---------------------------------------------------------------- decode
    def response(with_vectors: bool) -> bytes:
        pts = [
            q.ScoredPoint(
                id=q.PointId(num=i),
                payload=convert.payload_to_grpc(payloads[i]),
                score=float(1.0 / (i + 1)),
                version=3,
                vectors=q.VectorsOutput(vector=q.VectorOutput(dense=q.DenseVector(data=mat[i].tolist())))
                if with_vectors
                else None,
            )
            for i in ids
        ]
        return bytes(q.QueryResponse(result=pts, time=0.01))

    for with_vectors in (False, True):
        data = response(with_vectors)
        what = f"decode QueryResponse {n} hits, payload" + (f" + {dim}-d vectors" if with_vectors else "")

        def dec_fast(data: bytes = data) -> object:
            return fast.decode_query_response(data)

        def dec_fast_np(data: bytes = data) -> object:
            return fast.decode_query_response(data, vectors_as_numpy=True)

        def dec_bp2(data: bytes = data) -> object:
            return convert.result_from_grpc("query_points", q.QueryResponse.parse(data))

        def dec_peer(data: bytes = data) -> object:
            msg = pg.QueryResponse.FromString(data)
            return [GrpcToRest.convert_scored_point(p) for p in msg.result]

        assert dec_fast() == dec_bp2()
        cases = [("aqdrant fast path -> aqdrant.models", dec_fast, rep)]
        if with_vectors:
            cases.append(("aqdrant fast path, vectors as numpy", dec_fast_np, rep))
        cases += [
            ("betterproto2 parse + convert.py", dec_bp2, slow_rep),
            ("peer: protobuf parse + GrpcToRest", dec_peer, rep),
        ]
        for label, fn, r in cases:
            rows.append((what, best(fn, r) / n * 1e6, label))

    print(f"gRPC hot paths, {n} points x {dim}-d float32, best of {rep} (betterproto2: {slow_rep})")
    print(f"wire bytes per point: aqdrant {len(fast_bytes) / n:,.0f}, peer {len(peer_bytes) / n:,.0f}")
    width = max(len(r[0]) for r in rows)
    lwidth = max(len(r[2]) for r in rows)
    print(f"{'measure':<{width}}  {'path':<{lwidth}}  {'µs/item':>9}")
    for what, us, label in rows:
        print(f"{what:<{width}}  {label:<{lwidth}}  {us:9.2f}")
    _ = m  # models are what the fast decoder returns
    return 0


if __name__ == "__main__":
    sys.exit(main())
