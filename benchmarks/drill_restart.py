"""A fault drill, not a speed table: issue 22's server restart during a bulk ingestion.

    .venv/bin/python benchmarks/drill_restart.py --transport rest --down 10
    .venv/bin/python benchmarks/drill_restart.py --transport grpc --down 1 --backend asyncio

The dev server (``--path``, free ports) is SIGKILLed ``--kill-at`` seconds into an
``upload_collection``-style ingestion of ``--n`` x ``--dim`` float32 vectors with integer ids
(``sink.send_columns``, batch 256, concurrency 4) and started again on the same ports
``--down`` seconds later. Prints the report and the collection's count: what the ingestion
calls acknowledged, failed, unconfirmed and not sent, against what is stored. Runs the aqdrant
that is importable (point PYTHONPATH at another checkout to drill an older version).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import anyio
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

from test_ingest_outage import DevServer  # noqa: E402

import aqdrant  # noqa: E402
from aqdrant import AsyncQdrantClient, models  # noqa: E402


async def drill(args: argparse.Namespace) -> None:
    srv = DevServer(tempfile.mkdtemp(prefix="aqdrant-drill-"))
    srv.start()
    arr = np.random.default_rng(1).standard_normal((args.n, args.dim)).astype(np.float32)
    try:
        async with AsyncQdrantClient(
            url=srv.url, grpc_port=srv.grpc_port, prefer_grpc=args.transport == "grpc", check_compatibility=False
        ) as client:
            await client.create_collection("c", vectors_config=models.VectorParams(size=args.dim, distance="Cosine"))

            async def chaos() -> None:
                await anyio.sleep(args.kill_at)
                await anyio.to_thread.run_sync(srv.kill)
                await anyio.sleep(args.down)
                await anyio.to_thread.run_sync(srv.start)

            started = time.monotonic()
            async with anyio.create_task_group() as tg:
                tg.start_soon(chaos)
                async with client.ingest("c", batch_size=256, concurrency=4, raise_on_failure=False) as sink:
                    await sink.send_columns(arr, ids=range(args.n))
            rep = sink.report
            count = (await client.count("c", exact=True)).count
        not_sent = len(getattr(rep, "not_sent_ids", []))  # older versions have no such list
        print(f"aqdrant {os.path.dirname(aqdrant.__file__)}")
        print(
            f"{args.transport} on {args.backend}, down {args.down:g} s: acknowledged {rep.acknowledged}, "
            f"failed {rep.failed}, unconfirmed {len(rep.unconfirmed_ids)}, not sent {not_sent}; "
            f"stored {count}; {rep.retries} retries, {rep.requests} requests, {time.monotonic() - started:.1f} s"
        )
    finally:
        srv.stop()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--transport", choices=["rest", "grpc"], default="rest")
    p.add_argument("--backend", choices=["asyncio", "trio"], default="trio")
    p.add_argument("--n", type=int, default=50_000)
    p.add_argument("--dim", type=int, default=384)
    p.add_argument("--kill-at", type=float, default=2.0)
    p.add_argument("--down", type=float, default=10.0)
    args = p.parse_args()
    anyio.run(drill, args, backend=args.backend)


if __name__ == "__main__":
    main()
