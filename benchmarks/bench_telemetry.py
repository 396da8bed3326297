"""What OpenTelemetry costs per call: client CPU with the [otel] extra absent, installed with no
provider, and with the SDK's tracer and meter providers configured, side by side with the peer
(which reports nothing).

Usage: ``python benchmarks/bench_telemetry.py [--calls 1000] [--dim 384]``

Two measures per mode, each in a fresh interpreter (``process_time``: the dev server runs in its
own process and is not charged): ``query_points(limit=10)`` over REST against the dev server,
sequential; and the pipeline alone around a backend that returns at once (the telemetry's share
with nothing else in the way). "absent" makes ``opentelemetry`` unimportable, as on a plain
``pip install aqdrant``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from bench_server import start_server  # noqa: E402

CHILD = r"""
import sys, json, time, warnings
mode, url, calls, dim = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if mode == "absent":
    sys.modules["opentelemetry"] = None
if mode == "sdk":
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    class Discard(SpanExporter):
        def export(self, spans):
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(Discard()))
    trace.set_tracer_provider(provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[InMemoryMetricReader()]))
import anyio
import numpy as np

rng = np.random.default_rng(0)
queries = [list(map(float, q)) for q in rng.random((calls, dim), dtype=np.float32)]

async def main():
    out = {}
    if mode == "peer":
        from qdrant_client import AsyncQdrantClient
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            client = AsyncQdrantClient(url=url, check_compatibility=False)
    else:
        from aqdrant import AsyncQdrantClient
        from aqdrant._pipeline import Pipeline

        class Instant:
            async def execute(self, request):
                return True
            async def aclose(self):
                pass

        pipeline = Pipeline(Instant())
        for _ in range(200):
            await pipeline.execute("get_collection", path_params={"collection_name": "c"})
        n = calls * 20
        t0 = time.process_time()
        for _ in range(n):
            await pipeline.execute("get_collection", path_params={"collection_name": "c"})
        out["pipeline_us"] = (time.process_time() - t0) / n * 1e6
        client = AsyncQdrantClient(url=url)
    for q in queries[:50]:
        await client.query_points("bench", query=q, limit=10)
    t0 = time.process_time()
    for q in queries:
        await client.query_points("bench", query=q, limit=10)
    out["query_us"] = (time.process_time() - t0) / len(queries) * 1e6
    await client.close()
    print(json.dumps(out))

anyio.run(main)
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--dim", type=int, default=384)
    args = ap.parse_args()
    proc, url = start_server()
    try:
        import numpy as np

        from aqdrant import QdrantClient, models

        with QdrantClient(url=url) as client:
            client.create_collection("bench", vectors_config=models.VectorParams(size=args.dim, distance="Cosine"))
            vectors = np.random.default_rng(1).random((2000, args.dim), dtype=np.float32)
            client.upload_collection("bench", vectors=vectors)
        rows = []
        for mode, label in (
            ("absent", "aqdrant, [otel] not installed"),
            ("api", "aqdrant, opentelemetry-api, no provider"),
            ("sdk", "aqdrant, SDK tracer + meter providers"),
            ("peer", "qdrant-client 1.20 (no telemetry)"),
        ):
            out = subprocess.run(
                [sys.executable, "-c", CHILD, mode, url, str(args.calls), str(args.dim)],
                capture_output=True, text=True, check=True,
            )
            rows.append((label, json.loads(out.stdout.strip().splitlines()[-1])))
    finally:
        proc.kill()
        proc.wait()
    base = rows[0][1]
    print(f"Client CPU per call (process_time), {args.calls} sequential REST query_points(limit=10), {args.dim}-d;")
    print("pipeline alone: 20x as many calls around a backend that answers at once\n")
    print("| mode | REST query_points, µs/call | vs absent | pipeline alone, µs/call | vs absent |")
    print("|---|---|---|---|---|")
    for label, r in rows:
        pipe = r.get("pipeline_us")
        pipe_cells = f"{pipe:.1f} | {pipe - base['pipeline_us']:+.1f} µs" if pipe is not None else "— | —"
        print(f"| {label} | {r['query_us']:.1f} | {r['query_us'] - base['query_us']:+.1f} µs | {pipe_cells} |")


if __name__ == "__main__":
    main()
