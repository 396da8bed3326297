"""The client's own CPU per small call, with no transport: ``AsyncQdrantClient(backend=...)`` over a
backend that answers at once, so what is timed is the client's work before and after the
backend (building the body, coercion, validation, the constraint walk, the pipeline).

Usage: ``python benchmarks/bench_client_path.py [--calls 2000] [--profile OP]``

The operations are bench_small_calls.py's: ``query`` (top-10, a 384-d list vector),
``query+filter`` (with a two-condition payload filter), ``retrieve`` (3 ids), ``count``,
``upsert`` (one point, a 384-d list vector, a payload). Figures are process CPU time per call,
the best of 9 runs (asyncio). ``--profile OP`` prints cProfile's top functions for one operation.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aqdrant import AsyncQdrantClient, models  # noqa: E402

DIM = 384
VECTOR = [0.1] * DIM
FILTER = models.Filter(
    must=[
        models.FieldCondition(key="city", match=models.MatchValue(value="x")),
        models.FieldCondition(key="n", range=models.Range(gte=1, lt=5)),
    ]
)


class Instant:
    """A backend answering each operation at once with a small result."""

    async def execute(self, request):
        name = request.op.name
        if name == "query_points":
            return models.QueryResponse(points=[])
        if name == "get_points":
            return []
        if name == "count_points":
            return models.CountResult(count=1)
        if name == "upsert_points":
            return models.UpdateResult(operation_id=1, status=models.UpdateStatus.COMPLETED)
        if name == "get_collection":  # the upsert's vector check reads the collection's sizes once
            return models.CollectionInfo(
                status=models.CollectionStatus.GREEN,
                optimizer_status=models.OptimizersStatusOneOf.OK,
                segments_count=1,
                points_count=0,
                indexed_vectors_count=0,
                config=models.CollectionConfig(
                    params=models.CollectionParams(
                        vectors=models.VectorParams(size=DIM, distance=models.Distance.DOT), shard_number=1
                    ),
                    hnsw_config=models.HnswConfig(m=16, ef_construct=100, full_scan_threshold=10),
                    optimizer_config=models.OptimizersConfig(default_segment_number=0, flush_interval_sec=5),
                ),
                payload_schema={},
            )
        raise NotImplementedError(name)

    def stream(self, request):
        raise NotImplementedError

    async def aclose(self) -> None:
        pass


async def main(args: argparse.Namespace) -> None:
    client = AsyncQdrantClient(backend=Instant(), check_compatibility=False)
    ops = {
        "query": lambda: client.query_points("c", query=VECTOR, limit=10),
        "query+filter": lambda: client.query_points("c", query=VECTOR, query_filter=FILTER, limit=10),
        "retrieve": lambda: client.retrieve("c", ids=[1, 2, 3]),
        "count": lambda: client.count("c"),
        "upsert": lambda: client.upsert(
            "c", points=[models.PointStruct(id=1, vector=list(VECTOR), payload={"a": 1})]
        ),
    }
    header_done = False
    for name, call in ops.items():
        if args.profile and name != args.profile:
            continue
        for _ in range(200):  # warm-up: caches, the collection's sizes
            await call()
        if args.profile:
            prof = cProfile.Profile()
            prof.enable()
            for _ in range(args.calls):
                await call()
            prof.disable()
            pstats.Stats(prof).sort_stats("tottime").print_stats(25)
            continue
        if not header_done:
            print("| op | client CPU µs per call, instant backend (best of 9, asyncio) |\n|---|---|")
            header_done = True
        best = float("inf")
        for _ in range(9):
            start = time.process_time_ns()
            for _ in range(args.calls):
                await call()
            best = min(best, (time.process_time_ns() - start) / args.calls / 1000)
        print(f"| {name} | {best:.1f} |")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--profile", default="", help="an operation to profile instead of timing")
    asyncio.run(main(ap.parse_args()))
