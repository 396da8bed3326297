"""Ingestion over REST against a fault-injecting fake Qdrant on 127.0.0.1 (tests/fault_server.py).

The fake speaks Qdrant's collection-info and upsert envelopes, stores points by id, and breaks
requests on a fixed schedule: 503s, connections reset after the points were stored (the client
cannot know they landed), responses stalled past the per-batch deadline, 400s naming bad ids.
Every point must land exactly once, and the report's numbers must match what the server saw.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from fault_server import FaultServer, Reply, Reset, Stall, envelope, error_body

from aqdrant import AsyncQdrantClient, models
from aqdrant._retry import RetryPolicy
from aqdrant.errors import BadRequest
from aqdrant.ingest import IngestError, points_from_columns

pytestmark = pytest.mark.anyio
DIM = 8

INFO = {
    "status": "green",
    "optimizer_status": "ok",
    "segments_count": 1,
    "config": {
        "params": {"vectors": {"size": DIM, "distance": "Cosine"}},
        "hnsw_config": {"m": 16, "ef_construct": 100, "full_scan_threshold": 10000},
        "optimizer_config": {
            "deleted_threshold": 0.2,
            "vacuum_min_vector_number": 1000,
            "default_segment_number": 0,
            "flush_interval_sec": 5,
        },
        "wal_config": {"wal_capacity_mb": 32, "wal_segments_ahead": 0},
    },
    "payload_schema": {},
}


class FakeQdrant:
    """The request handler of the fault server: a tiny Qdrant with a fault schedule."""

    def __init__(self, faults=None, bad_ids=()):
        self.lock = threading.Lock()
        self.store: dict = {}
        self.writes: dict = {}  # id -> times stored
        self.upserts = 0
        self.faulted = 0
        self.faults = faults or (lambda n: None)
        self.bad_ids = set(bad_ids)
        self.kinds: list[str] = []  # "points" or "batch", per upsert body

    def _store(self, points):
        for p in points:
            self.store[p["id"]] = p
            self.writes[p["id"]] = self.writes.get(p["id"], 0) + 1

    def __call__(self, rec):
        if rec.method == "GET" and rec.path == "/collections/c":
            return Reply(200, envelope(INFO))
        if rec.method == "PUT" and rec.path == "/collections/c/points":
            body = rec.json()
            self.kinds.append("batch" if "batch" in body else "points")
            points = body["points"] if "points" in body else _batch_points(body["batch"])
            with self.lock:
                self.upserts += 1
                n = self.upserts
                fault = self.faults(n)
                if fault is not None:
                    self.faulted += 1
                    if fault == "store-then-reset":
                        self._store(points)
                        return Reset()
                    return fault
                bad = sorted(p["id"] for p in points if p["id"] in self.bad_ids)
                if bad:
                    return Reply(400, error_body(f"Wrong input: vector of points {bad} is invalid"))
                self._store(points)
            return Reply(200, envelope({"operation_id": n, "status": "completed"}))
        return Reply(404, error_body(f"no route {rec.method} {rec.path}"))


def _batch_points(batch: dict) -> list[dict]:
    payloads = batch.get("payloads") or [None] * len(batch["ids"])
    return [{"id": i, "vector": v, "payload": p} for i, v, p in zip(batch["ids"], batch["vectors"], payloads, strict=True)]


def schedule(n: int):
    if n % 5 == 1:
        return Reply(503, error_body("overloaded"))  # 20 % of requests
    if n % 11 == 3:
        return "store-then-reset"
    if n % 13 == 5:
        return Stall(3.0)  # past the 0.5 s per-batch deadline
    return None


def data(n: int):
    rng = np.random.default_rng(7)
    return rng.standard_normal((n, DIM)).astype(np.float32)


def check_exact(fake: FakeQdrant, arr: np.ndarray, ids) -> None:
    assert set(fake.store) == set(ids)
    for i in ids:  # every id retrievable, vector as sent (float32 digits round-trip exactly)
        assert np.array_equal(np.asarray(fake.store[i]["vector"], dtype=np.float32), arr[i])
        assert fake.store[i]["payload"] == {"i": i}


async def test_faults_every_point_lands_exactly_once_and_numbers_are_exact():
    fake = FakeQdrant(schedule)
    arr = data(2000)
    with FaultServer() as server:
        server.default = fake
        # the pipeline does not retry: every retry is the ingestor's, so the numbers can be exact
        async with AsyncQdrantClient(
            url=server.url, check_compatibility=False, retry=RetryPolicy.none()
        ) as client:
            async with client.ingest(
                "c", batch_size=50, concurrency=4, max_retries=10, batch_timeout=0.5, backoff_base=0.01
            ) as sink:
                await sink.send_many(points_from_columns(arr, [{"i": i} for i in range(2000)], range(2000)))
    rep = sink.report
    assert (rep.sent, rep.acknowledged, rep.failed) == (2000, 2000, 0)
    assert rep.batches == 40
    assert rep.requests == fake.upserts  # every upsert the server saw is counted
    assert rep.retries == fake.faulted > 8  # one retry per injected fault
    assert rep.requests == rep.batches + rep.retries
    check_exact(fake, arr, range(2000))
    # points of a batch whose connection was reset after storing were written again by the
    # retry - harmless, upserts by id are idempotent; the store holds each id once
    assert sum(fake.writes.values()) > len(fake.store) == 2000


async def test_upload_collection_of_an_array_sends_batches_and_survives_faults():
    fake = FakeQdrant(schedule)
    arr = data(2000)
    with FaultServer() as server:
        server.default = fake
        async with AsyncQdrantClient(
            url=server.url, check_compatibility=False, retry=RetryPolicy.none(), timeout=0.5
        ) as client:
            await client.upload_collection(
                "c", arr, payload=[{"i": i} for i in range(2000)], ids=range(2000), batch_size=50, parallel=4,
                max_retries=10,
            )
    assert set(fake.kinds) == {"batch"}  # columns travel as Batch bodies
    assert fake.faulted > 8
    check_exact(fake, arr, range(2000))


async def test_faults_with_a_client_retry_policy_are_retried_by_the_actor_alone():
    arr = data(1000)
    policy = RetryPolicy(max_attempts=3, backoff_base=0.001, backoff_max=0.01)
    fake = FakeQdrant(schedule)
    with FaultServer() as server:
        server.default = fake
        async with AsyncQdrantClient(url=server.url, check_compatibility=False, retry=policy) as client:
            async with client.ingest(
                "c", batch_size=40, concurrency=3, max_retries=5, batch_timeout=1.0, backoff_base=0.01
            ) as sink:
                await sink.send_many(points_from_columns(arr, [{"i": i} for i in range(1000)], range(1000)))
    rep = sink.report
    assert (rep.sent, rep.acknowledged, rep.failed) == (1000, 1000, 0)
    # one retry authority: the client's policy does not retry the actor's upserts, so every
    # request the server saw is one the report counts
    assert fake.upserts == rep.requests == rep.batches + rep.retries
    check_exact(fake, arr, range(1000))


async def test_server_400_isolates_bad_ids_with_the_server_message():
    bad = {3, 64, 65, 399}
    fake = FakeQdrant(bad_ids=bad)
    arr = data(400)
    with FaultServer() as server:
        server.default = fake
        async with AsyncQdrantClient(url=server.url, check_compatibility=False) as client:
            with pytest.raises(IngestError) as ei:
                await client.upload_collection(
                    "c",
                    arr,
                    payload=[{"i": i} for i in range(400)],
                    ids=list(range(400)),
                    batch_size=64,
                    parallel=2,
                )
    rep = ei.value.report
    assert sorted(rep.failed_ids) == sorted(bad)
    assert rep.acknowledged == 396 == len(fake.store)
    assert all(isinstance(f.error, BadRequest) and "is invalid" in f.message for f in rep.failures)
    check_exact(fake, arr, sorted(set(range(400)) - bad))


async def test_wrong_dimension_isolated_before_sending():
    fake = FakeQdrant()
    arr = data(100)
    points = [models.PointStruct(id=i, vector=arr[i], payload={"i": i}) for i in range(100)]
    points[10] = models.PointStruct(id=10, vector=arr[10][:5], payload={"i": 10})
    with FaultServer() as server:
        server.default = fake
        async with AsyncQdrantClient(url=server.url, check_compatibility=False) as client:
            async with client.ingest("c", batch_size=32, raise_on_failure=False) as sink:
                await sink.send_many(points)
    rep = sink.report
    assert rep.failed_ids == [10] and "5 dimensions" in rep.failures[0].message
    assert rep.acknowledged == 99 == len(fake.store)
    # the bad point never reached the server; its batch was sent once, without it
    assert fake.upserts == 4
