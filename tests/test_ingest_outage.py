"""Ingestion through a server restart: the dev server (``--path``) is SIGKILLed mid-ingest and
started again on the same ports, over REST and gRPC at once, on asyncio and trio.

Down for 1 s and for 10 s (within the default 60 s outage budget): nothing failed, nothing
unconfirmed, every point stored exactly once. Down past a 2 s budget: the ingestion stops, and
its report lists exactly the points missing from the collection as unconfirmed or not sent,
while every point it calls acknowledged is there. Part of each stream has no ids (client-side
UUIDs, fixed when a point is accepted): a retry carrying fresh ids would store extra points.

The kill happens at a fixed point of each producer's stream (not after a sleep): once both
handed over their first half (batches of it still queued or in flight meet the dead server);
the second half is held back until the server is dead, so every stream meets the outage.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time

import anyio
import numpy as np
import pytest

from aqdrant import AsyncQdrantClient, models
from aqdrant.ingest import IngestError

pytestmark = pytest.mark.anyio
DIM = 8
N = 3000  # per transport: half as points with int ids, half as columns without ids
FIRST = N // 2


def _free_port_pair() -> tuple[int, int]:
    """Two free ports below Linux's ephemeral range (32768+), so no client connection takes
    one while the server is down and the restart can bind it again."""
    rnd = random.Random()
    for _ in range(200):
        port = rnd.randrange(20000, 32000, 2)
        socks = []
        try:
            for p in (port, port + 1):
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                socks.append(s)
                s.bind(("127.0.0.1", p))
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
        return port, port + 1
    raise RuntimeError("no free port pair")


class DevServer:
    """``python -m aqdrant.server --path ...`` in a child process that can be killed and
    started again on the same ports and storage."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.port, self.grpc_port = _free_port_pair()
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = os.path.join(self.path, f"server-{self.starts}.log")
        self.starts += 1
        with open(log, "wb") as out:  # a file, not a pipe: a full pipe would stall the server
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "aqdrant.server", "--path", os.path.join(self.path, "db"),
                 "--port", str(self.port), "--grpc-port", str(self.grpc_port)],
                stdout=out, stderr=subprocess.STDOUT, env=dict(os.environ, PYTHONUNBUFFERED="1"),
            )
        give_up = time.monotonic() + 60
        while time.monotonic() < give_up:
            with open(log, "rb") as f:
                if b"listening on" in f.read():
                    return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        with open(log, "rb") as f:
            raise RuntimeError(f"the dev server did not start: {f.read().decode(errors='replace')}")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.kill()


@pytest.fixture
def server(tmp_path):
    srv = DevServer(str(tmp_path))
    srv.start()
    yield srv
    srv.stop()


def vectors(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((N, DIM)).astype(np.float32)


class Stream:
    """One transport's ingestion: FIRST points with ids 0..FIRST-1, then the rest as columns
    (without ids unless ``column_ids``) once the server was killed (``killed``); ``half_sent``
    is set once the first part is handed over."""

    def __init__(self, client: AsyncQdrantClient, collection: str, column_ids: bool = False, **options) -> None:
        self.client = client
        self.column_ids = range(FIRST, N) if column_ids else None
        self.collection = collection
        self.options = options
        self.arr = vectors(len(collection))
        self.half_sent = anyio.Event()
        self.killed = anyio.Event()
        self.sink = None
        self.error: IngestError | None = None

    async def run(self) -> None:
        arr = self.arr
        try:
            async with self.client.ingest(self.collection, batch_size=50, concurrency=4, **self.options) as sink:
                self.sink = sink
                await sink.send_many(
                    models.PointStruct(id=i, vector=arr[i], payload={"i": i}) for i in range(FIRST)
                )
                self.half_sent.set()
                await self.killed.wait()  # the rest meets a dead server, however fast this was
                payload = [{"i": i} for i in range(FIRST, N)]
                await sink.send_columns(arr[FIRST:], payload=payload, ids=self.column_ids)
        except IngestError as e:
            self.error = e
        finally:
            self.half_sent.set()

    @property
    def report(self):
        return self.sink.report

    async def stored(self) -> dict:
        """{payload i: point id} of every stored point (each i must appear once)."""
        out: dict = {}
        offset = None
        while True:
            points, offset = await self.client.scroll(self.collection, limit=1000, offset=offset, with_payload=True)
            for p in points:
                i = p.payload["i"]
                assert i not in out, f"{self.collection}: point {i} stored twice (ids {out[i]}, {p.id})"
                out[i] = p.id
            if offset is None:
                return out


async def _ingest_through_outage(server: DevServer, down: float | None, **options):
    """A REST and a gRPC ingestion at once; the server is killed when both handed over their
    first half, and started again after ``down`` seconds (None: only after both ended)."""
    async with (
        AsyncQdrantClient(url=server.url, check_compatibility=False, timeout=5) as rest,
        AsyncQdrantClient(
            url=server.url, grpc_port=server.grpc_port, prefer_grpc=True, check_compatibility=False, timeout=5
        ) as grpc,
    ):
        for name in ("rest", "grpc"):
            await rest.create_collection(name, vectors_config=models.VectorParams(size=DIM, distance="Dot"))
        streams = [Stream(rest, "rest", **options), Stream(grpc, "grpc", **options)]
        async with anyio.create_task_group() as tg:
            for s in streams:
                tg.start_soon(s.run)
            for s in streams:
                await s.half_sent.wait()
            await anyio.to_thread.run_sync(server.kill)
            for s in streams:
                s.killed.set()
            if down is not None:
                await anyio.sleep(down)
                await anyio.to_thread.run_sync(server.start)
        if down is None:
            await anyio.to_thread.run_sync(server.start)
        out = []
        for s in streams:
            stored = await s.stored()
            assert (await s.client.count(s.collection, exact=True)).count == len(stored)
            out.append((s, stored))
        return out


def check_numbers_add_up(rep) -> None:
    assert rep.sent == rep.acknowledged + rep.failed + rep.unconfirmed + rep.not_sent
    assert rep.pending == 0 and not rep.waiting_for_server
    # attempts are counted in one place, the actor (batches given up unsent made no request)
    assert rep.requests <= rep.batches + rep.retries
    assert rep.resent <= rep.sent


@pytest.mark.parametrize("down", [1.0, 10.0])
async def test_restart_mid_ingest_loses_nothing(server, down):
    results = await _ingest_through_outage(server, down, backoff_max=1.0)
    for stream, stored in results:
        rep = stream.report
        where = f"{stream.collection}: {rep}"
        assert stream.error is None, where
        assert (rep.sent, rep.acknowledged, rep.failed, rep.unconfirmed, rep.not_sent) == (N, N, 0, 0, 0), where
        check_numbers_add_up(rep)
        assert rep.requests == rep.batches + rep.retries, where
        # the outage was seen and waited out, not counted as failures
        assert rep.outages >= 1 and rep.retries >= 1 and not rep.outage_budget_spent, where
        # every point exactly once: the columns' generated ids did not change between attempts
        assert sorted(stored) == list(range(N)), where
        assert all(stored[i] == i for i in range(FIRST)), where


async def test_down_past_the_budget_reports_exactly_what_is_missing(server):
    results = await _ingest_through_outage(server, None, outage_budget=2.0, backoff_max=0.5, column_ids=True)
    for stream, stored in results:
        rep = stream.report
        where = f"{stream.collection}: {rep}"
        assert stream.error is not None and stream.error.report is rep, where
        assert rep.outage_budget_spent and rep.failed == 0 and not rep.ok, where
        assert isinstance(rep.last_outage_error, Exception), where
        check_numbers_add_up(rep)
        # the producer was stopped: points are accepted in order, the rest never were
        accepted = set(range(rep.sent))
        stored_ids = set(stored.values())
        unconfirmed, not_sent = set(rep.unconfirmed_ids), set(rep.not_sent_ids)
        assert len(unconfirmed) + len(not_sent) == len(unconfirmed | not_sent) > 0, where
        assert unconfirmed | not_sent <= accepted and stored_ids <= accepted, where
        assert not stored_ids & not_sent, f"{where}: points reported not sent are stored"
        acknowledged = accepted - unconfirmed - not_sent
        assert len(acknowledged) == rep.acknowledged, where
        assert acknowledged <= stored_ids, f"{where}: acknowledged points missing"
        # exactly the points missing from the collection are listed as unconfirmed or not sent
        assert accepted - stored_ids <= unconfirmed | not_sent, where
