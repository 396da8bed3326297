"""Ingestion into the embedded engine (``AsyncQdrantClient(":memory:")``), end to end."""

from __future__ import annotations

import os
import signal
import uuid

import anyio
import numpy as np
import pytest

from aqdrant import AsyncQdrantClient, models
from aqdrant.errors import ValidationError
from aqdrant.ingest import IngestError, points_from_columns

pytestmark = pytest.mark.anyio
DIM = 8


@pytest.fixture
async def client():
    async with AsyncQdrantClient(":memory:") as c:
        await c.create_collection("c", vectors_config=models.VectorParams(size=DIM, distance="Euclid"))
        yield c


def data(n: int) -> np.ndarray:
    return np.random.default_rng(3).standard_normal((n, DIM)).astype(np.float32)


async def stored(client, ids) -> dict:
    out = {}
    ids = list(ids)
    for i in range(0, len(ids), 500):
        for r in await client.retrieve("c", ids[i : i + 500], with_vectors=True, with_payload=True):
            out[r.id] = r
    return out


async def test_count_equals_acknowledged_and_every_id_is_stored(client):
    arr = data(3000)
    async with client.ingest("c", batch_size=200, concurrency=3) as sink:
        await sink.send_many(points_from_columns(arr, [{"i": i} for i in range(3000)], range(3000)))
    rep = sink.report
    assert rep.acknowledged == rep.sent == 3000 and rep.failed == 0
    assert (await client.count("c", exact=True)).count == rep.acknowledged
    got = await stored(client, range(3000))
    assert len(got) == 3000
    for i in (0, 1234, 2999):
        assert np.allclose(np.asarray(got[i].vector, dtype=np.float32), arr[i])
        assert got[i].payload == {"i": i}


async def test_bad_dimension_and_nan_points_isolated_rest_land(client):
    arr = data(500)
    points = [models.PointStruct(id=i, vector=arr[i], payload={"i": i}) for i in range(500)]
    bad = {5: arr[5][:7], 250: np.append(arr[250], 1.0), 499: [1.0] * 3}
    for i, v in bad.items():
        points[i] = models.PointStruct(id=i, vector=v)
    points[77] = models.PointStruct(id=77, vector=np.full(DIM, np.nan, dtype=np.float32))
    with pytest.raises(IngestError) as ei:
        async with client.ingest("c", batch_size=64, concurrency=2) as sink:
            await sink.send_many(points)
    rep = ei.value.report
    assert sorted(rep.failed_ids) == [5, 77, 250, 499]
    assert all(isinstance(f.error, ValidationError) for f in rep.failures)
    assert rep.acknowledged == 496 == (await client.count("c", exact=True)).count
    got = await stored(client, range(500))
    assert set(got) == set(range(500)) - {5, 77, 250, 499}


async def test_slow_consumer_keeps_the_buffer_bounded(client):
    n = 2000
    arr = data(n)
    async with client.ingest("c", batch_size=50, concurrency=2, buffer_batches=2) as sink:
        for i in range(n):
            await sink.send({"id": str(uuid.UUID(int=i + 1)), "vector": arr[i]})
    assert sink.max_pending <= 50 * (1 + 2 + 2)
    assert sink.max_in_flight <= 2
    assert sink.report.acknowledged == n == (await client.count("c", exact=True)).count


async def test_cancelled_ingestion_reports_what_was_acknowledged(client):
    arr = data(100_000)

    async def points():
        for i in range(100_000):
            yield models.PointStruct(id=i, vector=arr[i])

    with anyio.CancelScope() as scope:

        def on_progress(rep):
            if rep.acknowledged >= 300:
                scope.cancel()  # cancelled from outside the actor, mid-stream

        async with client.ingest("c", batch_size=100, concurrency=2, on_progress=on_progress) as sink:
            await sink.send_many(points())
    assert scope.cancelled_caught
    rep = sink.report
    assert rep.cancelled and 300 <= rep.acknowledged < 100_000
    assert rep.sent == rep.acknowledged + rep.failed + len(rep.unconfirmed_ids) + len(rep.not_sent_ids)
    acked = set(range(rep.sent)) - set(rep.unconfirmed_ids) - set(rep.not_sent_ids)
    assert len(acked) == rep.acknowledged
    count = (await client.count("c", exact=True)).count
    # every acknowledged point is there; an upsert cancelled in flight may or may not have landed
    assert rep.acknowledged <= count <= rep.acknowledged + len(rep.unconfirmed_ids)
    got = await stored(client, sorted(acked))
    assert set(got) == acked


async def test_engine_killed_twice_mid_ingest_loses_nothing(tmp_path):
    """The engine process SIGKILLed at two fixed points of the stream: the batches in flight
    fail, wait, and land in the engine the next call starts on the same directory."""
    n = 3000
    arr = data(n)
    async with AsyncQdrantClient(path=str(tmp_path / "db")) as c:
        await c.create_collection("c", vectors_config=models.VectorParams(size=DIM, distance="Euclid"))
        backend = c._pipeline.backend
        async with c.ingest("c", batch_size=100, concurrency=3, backoff_max=0.5) as sink:
            for part in range(3):
                lo, hi = part * n // 3, (part + 1) * n // 3
                if part:
                    os.kill(backend.pid, signal.SIGKILL)
                await sink.send_many(
                    models.PointStruct(id=i, vector=arr[i], payload={"i": i}) for i in range(lo, hi)
                )
        rep = sink.report
        assert (rep.sent, rep.acknowledged, rep.failed, rep.unconfirmed, rep.not_sent) == (n, n, 0, 0, 0), str(rep)
        assert backend.starts == 3 and rep.retries >= 1
        assert rep.requests == rep.batches + rep.retries
        assert (await c.count("c", exact=True)).count == n
        got = await stored(c, range(n))
        assert sorted(got) == list(range(n)) and all(got[i].payload == {"i": i} for i in range(n))
