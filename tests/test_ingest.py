"""The ingestion actor against an in-process fake client (real validator, scripted failures).

Exact accounting, bisecting invalid batches, retries, backpressure, byte limits, cancellation,
progress. End-to-end runs over REST (fault server) and the embedded engine live in
tests/test_ingest_e2e.py.
"""

from __future__ import annotations

import math
import uuid

import anyio
import numpy as np
import pytest

from aqdrant import models
from aqdrant._validate import VectorValidator
from aqdrant.errors import BadRequest, NotFound, ServerError, TransportError, ValidationError
from aqdrant.ingest import (
    IngestError,
    Ingestor,
    point_bytes,
    points_from_columns,
    upload_points,
)

pytestmark = pytest.mark.anyio
DIM = 4


class FakeClient:
    """Just ``upsert``: validates like the client, sleeps ``delay``, may fail, then stores."""

    def __init__(self, *, delay: float = 0.0, fail=None, dim: int = DIM, keep: bool = True) -> None:
        self.keep = keep
        self.acked = 0
        self.store: dict = {}
        self.calls: list[list] = []
        self.bodies: list[int] = []
        self.delay = delay
        self.fail = fail  # fail(points, call_number) -> exception or None
        self.dim = dim
        self.validator = VectorValidator(self._params)
        self.in_flight = 0
        self.max_in_flight = 0

    async def _params(self, name):
        return models.CollectionParams(vectors=models.VectorParams(size=self.dim, distance="Cosine"))

    async def upsert(
        self,
        collection_name,
        points,
        wait=True,
        ordering=None,
        shard_key_selector=None,
        update_filter=None,
        update_mode=None,
        timeout=None,
        *,
        headers=None,
    ):
        if isinstance(points, models.Batch):  # columns (send_columns): validated as the client does
            body = models.PointsBatch(batch=points)
            points = _batch_points(points)
        else:
            body = models.PointsList(points=list(points))
        await self.validator.check_upsert(collection_name, body)
        if self.keep:
            self.calls.append([p.id for p in points])
            self.bodies.append(len(models.dump(body)))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await anyio.sleep(self.delay)
            if self.fail is not None:
                err = self.fail(points, len(self.calls))
                if err is not None:
                    raise err
            self.acked += len(points)
            if self.keep:
                for p in points:
                    self.store[p.id] = p
        finally:
            self.in_flight -= 1
        return models.UpdateResult(operation_id=1, status="completed")


def _batch_points(batch: models.Batch) -> list[models.PointStruct]:
    vectors, payloads = batch.vectors, batch.payloads or [None] * len(batch.ids)
    return [
        models.PointStruct(
            id=pid,
            vector={k: v[i] for k, v in vectors.items()} if isinstance(vectors, dict) else vectors[i],
            payload=payloads[i],
        )
        for i, pid in enumerate(batch.ids)
    ]


def pts(n: int, start: int = 0, dim: int = DIM):
    arr = np.arange(start * dim, (start + n) * dim, dtype=np.float32).reshape(n, dim) + 1
    return [models.PointStruct(id=start + i, vector=arr[i], payload={"i": start + i}) for i in range(n)]


def check_invariant(rep):
    assert rep.sent == rep.acknowledged + rep.failed + len(rep.unconfirmed_ids) + len(rep.not_sent_ids)


async def test_all_points_land_and_are_counted():
    client = FakeClient()
    async with Ingestor(client, "c", batch_size=64, concurrency=4) as sink:
        await sink.send_many(pts(1000))
    rep = sink.report
    assert (rep.sent, rep.acknowledged, rep.failed, rep.retries) == (1000, 1000, 0, 0)
    assert rep.batches == math.ceil(1000 / 64) == rep.requests == len(client.calls)
    assert sorted(client.store) == list(range(1000))
    assert all(len(c) <= 64 for c in client.calls)
    assert rep.ok and not rep.cancelled and rep.elapsed > 0
    check_invariant(rep)


async def test_dict_points_async_iterables_and_single_send():
    client = FakeClient()

    async def agen():
        for i in range(10, 20):
            yield {"id": i, "vector": [1.0, 2.0, 3.0, 4.0], "payload": {"k": i}}

    async with Ingestor(client, "c", batch_size=3) as sink:
        await sink.send({"id": str(uuid.UUID(int=1)), "vector": [1, 2, 3, 4]})
        await sink.send(models.PointStruct(id=uuid.UUID(int=2), vector=[1.0, 1.0, 1.0, 1.0]))
        assert await sink.send_many(agen()) == 10
    assert sink.report.acknowledged == 12
    assert client.store[15].payload == {"k": 15}
    assert str(uuid.UUID(int=2)) in client.store  # UUID objects sent as strings


async def test_bad_dimension_points_isolated_good_ones_land():
    client = FakeClient()
    points = pts(300)
    bad = {7, 150, 151, 299}
    for i in bad:
        points[i] = models.PointStruct(id=i, vector=[1.0, 2.0, 3.0], payload=None)  # 3-d
    points[40] = models.PointStruct(id=40, vector=[1.0, float("nan"), 3.0, 4.0])
    bad.add(40)
    with pytest.raises(IngestError) as ei:
        async with Ingestor(client, "c", batch_size=100, concurrency=2) as sink:
            await sink.send_many(points)
    rep = ei.value.report
    assert rep is sink.report
    assert sorted(rep.failed_ids) == sorted(bad)
    assert rep.acknowledged == 300 - len(bad) == len(client.store)
    assert set(client.store) == set(range(300)) - bad
    by_id = {f.ids[0]: f for f in rep.failures}
    assert all(len(f.ids) == 1 and isinstance(f.error, ValidationError) for f in rep.failures)
    assert "3 dimensions" in by_id[7].message and "expects 4" in by_id[7].message
    assert "NaN" in by_id[40].message
    assert "point 150" in str(ei.value) or "150" in str(ei.value)
    check_invariant(rep)


async def test_unencodable_payload_isolated_not_fatal():
    client = FakeClient()
    points = pts(50)
    points[20] = models.PointStruct(id=20, vector=[1.0, 2.0, 3.0, 4.0], payload={"x": object()})
    async with Ingestor(client, "c", batch_size=16, raise_on_failure=False) as sink:
        await sink.send_many(points)
    rep = sink.report
    assert rep.failed_ids == [20] and "cannot encode" in rep.failures[0].message
    assert set(client.store) == set(range(50)) - {20}


async def test_server_400_for_some_ids_bisected():
    bad = {13, 77, 78}

    def fail(points, _n):
        hit = [p.id for p in points if p.id in bad]
        return BadRequest(400, f"wrong input for points {hit}", operation="upsert_points") if hit else None

    client = FakeClient(fail=fail)
    async with Ingestor(client, "c", batch_size=32, concurrency=3, raise_on_failure=False) as sink:
        await sink.send_many(pts(128))
    rep = sink.report
    assert sorted(rep.failed_ids) == sorted(bad)
    assert set(client.store) == set(range(128)) - bad
    assert rep.acknowledged == 125
    assert all(isinstance(f.error, BadRequest) and len(f.ids) == 1 for f in rep.failures)
    assert rep.requests == len(client.calls) > rep.batches == 4
    check_invariant(rep)


async def test_transient_errors_retried_with_exact_count():
    failures = {"left": 0}
    seen: dict[int, int] = {}

    def fail(points, _n):
        first = points[0].id
        seen[first] = seen.get(first, 0) + 1
        # every batch fails twice (503 then reset), then lands
        if seen[first] == 1:
            failures["left"] += 1
            return ServerError(503, "busy", operation="upsert_points")
        if seen[first] == 2:
            failures["left"] += 1
            return TransportError("connection reset", operation="upsert_points")
        return None

    client = FakeClient(fail=fail)
    async with Ingestor(client, "c", batch_size=10, concurrency=4, backoff_base=0.001) as sink:
        await sink.send_many(pts(100))
    rep = sink.report
    assert rep.acknowledged == 100 and rep.failed == 0
    assert rep.retries == failures["left"] == 20
    assert rep.requests == len(client.calls) == 30
    assert sorted(client.store) == list(range(100))


async def test_a_server_answering_503_is_waited_for_then_its_points_are_unconfirmed():
    def fail(points, _n):
        return ServerError(503, "down") if points[0].id == 20 else None

    client = FakeClient(fail=fail)
    async with Ingestor(
        client, "c", batch_size=10, outage_budget=0.3, backoff_base=0.001, backoff_max=0.05,
        raise_on_failure=False,
    ) as sink:
        await sink.send_many(pts(50))
    rep = sink.report
    # a 503 is not a rejection: the points are not "failed" but unconfirmed (a proxy's 503 may
    # come after the request reached the server), once the outage budget is spent
    assert rep.failed == 0 and rep.not_sent_ids == []
    assert rep.unconfirmed_ids == list(range(20, 30))
    assert rep.outage_budget_spent and rep.outages >= 1 and not rep.waiting_for_server
    assert isinstance(rep.last_outage_error, ServerError)
    assert rep.acknowledged == 40 == len(client.store)
    assert rep.retries == rep.requests - rep.batches > 1
    assert rep.resent == 10  # sent again after a 503 (it may have come from a proxy): counted once
    assert not rep.ok
    check_invariant(rep)


class Outage:
    """Every upsert fails with ``error()`` while ``down`` is set (as for a stopped server)."""

    def __init__(self, error) -> None:
        self.down = False
        self.error = error

    def __call__(self, points, _n):
        return self.error() if self.down else None


def refused():
    return TransportError("connection refused", operation="upsert_points", sent=False)


def reset():
    return TransportError("connection reset by peer", operation="upsert_points", sent=True)


async def test_an_outage_is_waited_out_and_shown_as_waiting_not_as_failures(capsys):
    outage = Outage(refused)
    client = FakeClient(fail=outage, keep=True)
    states = []

    def on_progress(rep):
        states.append((rep.waiting_for_server, rep.failed, rep.pending))

    async with Ingestor(
        client, "c", batch_size=10, concurrency=2, backoff_base=0.001, backoff_max=0.02,
        on_progress=on_progress, progress=True,
    ) as sink:
        async def server_returns():
            with anyio.fail_after(10):  # not a speed check: wait until the sink noticed
                while not sink.report.waiting_for_server:
                    await anyio.sleep(0.005)
            assert sink.report.failed == 0 and sink.report.pending > 0
            assert "waiting for the server" in str(sink.report)
            outage.down = False

        await sink.send_many(pts(30))
        outage.down = True
        async with anyio.create_task_group() as tg:
            tg.start_soon(server_returns)
            await sink.send_many(pts(50, start=30))  # blocks while the buffer is full
    rep = sink.report
    assert (rep.sent, rep.acknowledged, rep.failed, rep.unconfirmed, rep.not_sent) == (80, 80, 0, 0, 0)
    assert rep.ok and rep.outages == 1 and rep.outage_seconds > 0 and not rep.waiting_for_server
    assert sorted(client.store) == list(range(80))
    assert (True, 0) in {(w, f) for w, f, _ in states}  # the callback saw the wait ...
    assert states[-1] == (False, 0, 0)  # ... and its end
    assert all(f == 0 for _, f, _ in states)
    assert rep.resent == 0  # refused connections never reached the server: nothing re-sent
    assert rep.requests == len(client.calls) == rep.batches + rep.retries
    try:
        import tqdm  # noqa: F401
    except ImportError:
        pass
    else:
        assert "waiting for the server" in capsys.readouterr().err


@pytest.mark.parametrize("raise_on_failure", [True, False])
async def test_budget_spent_stops_the_producer_and_reports_not_sent_and_unconfirmed(raise_on_failure):
    outage = Outage(refused)
    calls = {"n": 0}

    def fail(points, n):
        # the first batch after the outage starts is reset (it may have landed), later ones refused
        if outage.down:
            calls["n"] += 1
            return reset() if calls["n"] == 1 else refused()
        return None

    client = FakeClient(fail=fail)

    async def produce(sink):
        await sink.send_many(pts(20))
        with anyio.fail_after(10):
            while sink.report.acknowledged < 20:
                await anyio.sleep(0.001)
        outage.down = True
        await sink.send_many(pts(10_000, start=20))  # stopped long before the end

    sink = Ingestor(
        client, "c", batch_size=10, concurrency=2, outage_budget=0.2, backoff_base=0.001,
        backoff_max=0.02, raise_on_failure=raise_on_failure,
    )
    if raise_on_failure:
        with pytest.raises(IngestError, match="not delivered") as ei:
            async with sink:
                await produce(sink)
        assert ei.value.report is sink.report
    else:
        async with sink:
            await produce(sink)
    rep = sink.report
    check_invariant(rep)
    assert rep.outage_budget_spent and not rep.ok and not rep.cancelled and rep.failed == 0
    assert 20 <= rep.acknowledged < rep.sent < 10_000 and len(client.store) == rep.acknowledged
    assert len(rep.unconfirmed_ids) == 10  # the reset batch; every other one never got through
    assert rep.not_sent_ids and not set(rep.not_sent_ids) & set(rep.unconfirmed_ids)
    assert set(client.store) | set(rep.unconfirmed_ids) | set(rep.not_sent_ids) == set(range(rep.sent))
    assert isinstance(rep.last_outage_error, TransportError)
    with pytest.raises(RuntimeError):
        await sink.send(pts(1)[0])


async def test_a_batch_failing_while_others_land_is_bounded_by_max_retries():
    """Its own trouble (e.g. a request that times out), not an outage: retried ``max_retries``
    times, then unconfirmed, while the ingestion goes on. Lock-step: each bad attempt fails
    only after a good batch landed during it."""
    bad_attempts, good_done = [0], [0]

    class Client(FakeClient):
        async def upsert(self, collection_name, points, *args, **kw):
            if points[0].id == 0:
                bad_attempts[0] += 1
                while good_done[0] < bad_attempts[0]:
                    await anyio.sleep(0.001)
                raise TransportError("read timed out", operation="upsert_points")
            while bad_attempts[0] < min(good_done[0] + 1, 3):
                await anyio.sleep(0.001)
            result = await super().upsert(collection_name, points, *args, **kw)
            good_done[0] += 1
            return result

    client = Client()
    async with Ingestor(
        client, "c", batch_size=10, concurrency=2, max_retries=2, backoff_base=0.001, raise_on_failure=False
    ) as sink:
        await sink.send_many(pts(100))
    rep = sink.report
    assert bad_attempts[0] == 3 and rep.unconfirmed_ids == list(range(10))
    assert rep.acknowledged == 90 == len(client.store) and rep.failed == 0 and rep.outages == 0
    assert not rep.outage_budget_spent and rep.resent == 10
    check_invariant(rep)


async def test_outage_budget_validation():
    with pytest.raises(ValueError, match="outage_budget"):
        Ingestor(FakeClient(), "c", outage_budget=-1)
    Ingestor(FakeClient(), "c", outage_budget=None)  # no limit


async def test_non_retryable_error_fails_at_once():
    client = FakeClient(fail=lambda p, n: NotFound(404, "Collection c not found"))
    with pytest.raises(IngestError, match="not found"):
        async with Ingestor(client, "c", batch_size=10) as sink:
            await sink.send_many(pts(30))
    assert sink.report.retries == 0 and sink.report.failed == 30 and sink.report.requests == 3


async def test_backpressure_bounds_buffered_points():
    client = FakeClient(delay=0.01)
    produced = 0
    async with Ingestor(client, "c", batch_size=10, concurrency=2, buffer_batches=1) as sink:
        for p in pts(400):
            await sink.send(p)
            produced += 1
            rep = sink.report
            # memory never holds more than: one batch filling, the queue, the batches in flight
            assert rep.sent - rep.acknowledged - rep.failed <= 10 * (1 + 1 + 2)
    assert sink.max_pending <= 40
    assert sink.max_in_flight == client.max_in_flight == 2
    assert sink.report.acknowledged == produced == 400


async def test_streaming_many_points_from_a_generator_keeps_memory_bounded():
    import tracemalloc

    n, batch = 40_000, 200
    client = FakeClient(keep=False, delay=0.02)  # a consumer slower than the producer
    vec = [0.5, 0.25, 0.125, 1.0]

    def gen():
        for i in range(n):
            yield {"id": i, "vector": vec, "payload": {"n": i, "tag": "x" * 20}}

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        async with Ingestor(client, "c", batch_size=batch, concurrency=4) as sink:
            await sink.send_many(gen())
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert sink.report.acknowledged == client.acked == n
    assert sink.max_pending <= batch * (1 + 4 + 4)
    # the whole data set as points would take ~16 MB; the actor holds a few batches (~1 MB)
    per_point = peak / sink.max_pending
    assert peak < 6_000_000, (peak, per_point)


async def test_batches_cut_by_encoded_size_never_over_limit():
    dim = 256
    client = FakeClient(dim=dim)
    limit = 20_000
    arr = np.random.default_rng(0).standard_normal((200, dim)).astype(np.float32)
    async with Ingestor(client, "c", batch_size=1000, max_batch_bytes=limit) as sink:
        for i in range(200):
            await sink.send(models.PointStruct(id=i, vector=arr[i], payload={"text": "x" * (i * 10)}))
    assert sink.report.acknowledged == 200
    assert max(client.bodies) <= limit
    assert len(client.calls) > 10
    # the estimate bounds the real encoded size
    for i in (0, 199):
        p = models.PointStruct(id=i, vector=arr[i], payload={"text": "x" * (i * 10)})
        assert point_bytes(p) >= len(models.dump(p))
    big = models.PointStruct(id=10**18, vector=np.full(dim, -1.1754944e-38, dtype=np.float32))
    assert point_bytes(big) >= len(models.dump(big))
    big64 = models.PointStruct(id=str(uuid.uuid4()), vector=[-2.2250738585072014e-308] * 8)
    assert point_bytes(big64) >= len(models.dump(big64))


async def test_point_larger_than_limit_is_sent_alone():
    client = FakeClient()
    async with Ingestor(client, "c", batch_size=100, max_batch_bytes=10) as sink:
        await sink.send_many(pts(5))
    assert client.calls == [[0], [1], [2], [3], [4]]


async def test_cancellation_reports_exactly_what_was_acknowledged():
    client = FakeClient(delay=0.005)
    points = pts(10_000)
    ids = []
    with anyio.CancelScope() as scope:

        def on_progress(rep):
            if rep.acknowledged >= 50:
                scope.cancel()  # cancelled from outside the actor, mid-stream

        async with Ingestor(client, "c", batch_size=10, concurrency=2, on_progress=on_progress) as sink:
            for p in points:
                ids.append(p.id)
                await sink.send(p)
    assert scope.cancelled_caught
    rep = sink.report
    assert rep.cancelled
    assert 50 <= rep.acknowledged < 10_000
    # the fake stores atomically at the end of a call: what is stored is what was acknowledged
    assert rep.acknowledged == len(client.store)
    check_invariant(rep)
    # in flight when cancelled: unconfirmed; queued or in the partial batch: not sent
    assert rep.not_sent_ids
    assert set(client.store) | set(rep.unconfirmed_ids) | set(rep.not_sent_ids) == set(ids)
    assert not set(client.store) & (set(rep.unconfirmed_ids) | set(rep.not_sent_ids))


async def test_error_in_producer_aborts_and_accounts():
    client = FakeClient(delay=0.01)
    with pytest.raises(KeyError):
        async with Ingestor(client, "c", batch_size=10) as sink:
            await sink.send_many(pts(55))
            raise KeyError("producer bug")
    rep = sink.report
    assert rep.cancelled and rep.sent == 55
    check_invariant(rep)
    assert rep.acknowledged == len(client.store)


async def test_flush_interval_sends_a_partial_batch_of_a_long_lived_sink():
    client = FakeClient()
    async with Ingestor(client, "c", batch_size=100, flush_interval=0.02) as sink:
        await sink.send_many(pts(3))
        with anyio.fail_after(10):  # not a speed check: only that it happens before the exit flush
            while len(client.store) < 3:
                await anyio.sleep(0.01)
        assert client.calls == [[0, 1, 2]]
        await sink.send_many(pts(2, start=3))
    assert client.calls[-1] == [3, 4] and sink.report.acknowledged == 5
    with pytest.raises(ValueError):
        Ingestor(client, "c", flush_interval=0)


async def test_send_outside_block_and_reuse_rejected():
    sink = Ingestor(FakeClient(), "c")
    with pytest.raises(RuntimeError):
        await sink.send(pts(1)[0])
    async with sink:
        pass
    with pytest.raises(RuntimeError):
        async with sink:
            pass
    with pytest.raises(ValueError):
        Ingestor(FakeClient(), "c", batch_size=0)


async def test_progress_callback_sync_async_and_bar(capsys, caplog):
    seen = []

    async def on_progress(rep):
        seen.append((rep.acknowledged, rep.failed))

    client = FakeClient()
    async with Ingestor(
        client, "c", batch_size=10, concurrency=1, on_progress=on_progress, progress=True, total=35
    ) as sink:
        await sink.send_many(pts(35))
    assert seen[-1] == (35, 0)
    assert [a for a, _ in seen] == sorted(a for a, _ in seen)
    assert len(seen) == 4 + 1  # one per batch and the final report
    err = capsys.readouterr().err
    try:
        import tqdm  # noqa: F401  (optional: pip install tqdm)
    except ImportError:
        assert "needs tqdm" in caplog.text
    else:
        assert "35/35" in err  # tqdm wrote the bar to stderr

    calls = []

    def raising(rep):
        calls.append(rep.acknowledged)
        raise RuntimeError("hook bug")

    async with Ingestor(FakeClient(), "c", batch_size=10, on_progress=raising) as sink:
        await sink.send_many(pts(20))
    assert sink.report.acknowledged == 20 and calls


# ---- columns ----------------------------------------------------------------------------------


def test_points_from_numpy_rows_are_views_and_ids_uuid_by_default():
    arr = np.ones((5, DIM), dtype=np.float32)
    points = list(points_from_columns(arr))
    assert len(points) == 5
    assert all(p.vector.base is arr for p in points)  # no copy, no Python floats
    assert all(str(uuid.UUID(p.id)) == p.id for p in points)
    assert len({p.id for p in points}) == 5
    assert all(p.payload is None for p in points)


def test_points_from_named_columns_payload_and_ids():
    vecs = {"a": np.zeros((3, 2), dtype=np.float32), "b": [[1.0], [2.0], [3.0]]}
    points = list(points_from_columns(vecs, [{"x": 1}, None, {"x": 3}], np.arange(3)))
    assert [p.id for p in points] == [0, 1, 2] and type(points[0].id) is int
    assert points[1].vector["b"] == [2.0] and points[2].payload == {"x": 3}


def test_points_from_columns_length_mismatch_raises():
    with pytest.raises(ValidationError):
        points_from_columns(np.zeros((3, 2)), ids=[1, 2])
    with pytest.raises(ValidationError):
        list(points_from_columns(iter([[1.0], [2.0]]), ids=iter([1])))
    with pytest.raises(ValidationError):  # a sized column longer than the vectors
        list(points_from_columns(iter([[1.0]]), payload=[{}, {}]))
    # an iterator may be endless (the official client zips itertools.cycle / count): no error
    assert len(list(points_from_columns(iter([[1.0]]), payload=iter([{}, {}]), ids=iter([5, 6])))) == 1
    with pytest.raises(ValidationError):
        list(points_from_columns({"a": iter([[1.0]]), "b": iter([])}))
    with pytest.raises(ValidationError):
        points_from_columns(np.zeros(3))


async def test_points_from_async_columns():
    async def vecs():
        for i in range(4):
            yield [float(i)] * DIM

    async def ids():
        for i in range(4):
            yield i + 100

    it = points_from_columns(vecs(), ids=ids(), payload=[{"n": i} for i in range(4)])
    out = [p async for p in it]
    assert [p.id for p in out] == [100, 101, 102, 103] and out[3].payload == {"n": 3}


async def test_upload_points_helper_returns_report_and_raises_with_it():
    client = FakeClient()
    arr = np.random.default_rng(1).standard_normal((500, DIM)).astype(np.float32)
    rep = await upload_points(
        client, "c", points_from_columns(arr, ids=range(500)), batch_size=64, parallel=3
    )
    assert rep.acknowledged == 500 and sorted(client.store) == list(range(500))
    assert client.max_in_flight <= 3

    bad = pts(10) + [models.PointStruct(id=99, vector=[1.0])]
    with pytest.raises(IngestError) as ei:
        await upload_points(FakeClient(), "c", bad, batch_size=4)
    assert ei.value.report.failed_ids == [99] and ei.value.report.acknowledged == 10


# -- columns: upload_collection of numpy arrays travels as Batch bodies ---------------------------


def columns(n: int, dim: int = DIM):
    arr = np.arange(n * dim, dtype=np.float32).reshape(n, dim) + 1
    return arr, [{"i": i} for i in range(n)], list(range(n))


async def test_columns_land_as_batches_exactly_counted():
    client = FakeClient()
    arr, payload, ids = columns(1000)
    async with Ingestor(client, "c", batch_size=64, concurrency=4) as sink:
        assert await sink.send_columns(arr, payload, ids) == 1000
    rep = sink.report
    assert (rep.sent, rep.acknowledged, rep.failed, rep.batches) == (1000, 1000, 0, math.ceil(1000 / 64))
    assert sorted(client.store) == ids
    assert np.array_equal(client.store[999].vector, arr[999]) and client.store[999].payload == {"i": 999}
    assert all(len(c) <= 64 for c in client.calls)
    check_invariant(rep)


async def test_columns_points_sent_before_go_first_and_ids_default_to_uuids():
    client = FakeClient()
    arr, _, _ = columns(10)
    async with Ingestor(client, "c", batch_size=4) as sink:
        await sink.send(models.PointStruct(id=10**6, vector=[1.0, 1.0, 1.0, 1.0]))
        await sink.send_columns(arr)  # no ids: random UUIDs, as the official client does
    assert client.calls[0] == [10**6]
    generated = [i for c in client.calls[1:] for i in c]
    assert len(generated) == len(set(generated)) == 10
    assert all(uuid.UUID(i) for i in generated)
    # numpy integers and UUID objects as ids reach the wire as ints and strings
    client = FakeClient()
    async with Ingestor(client, "c") as sink:
        await sink.send_columns(arr[:2], ids=[np.int64(7), uuid.UUID(int=3)])
    assert client.calls == [[7, str(uuid.UUID(int=3))]] and type(client.calls[0][0]) is int


async def test_columns_nan_and_server_rejections_isolated_by_id():
    arr, payload, ids = columns(200)
    arr[13, 2] = np.nan  # the client-side check names it: split off alone
    bad = {77, 150}

    def fail(points, _n):
        hit = [p.id for p in points if p.id in bad]
        return BadRequest(400, f"wrong input for points {hit}", operation="upsert_points") if hit else None

    client = FakeClient(fail=fail)
    async with Ingestor(client, "c", batch_size=64, concurrency=3, raise_on_failure=False) as sink:
        await sink.send_columns(arr, payload, ids)
    rep = sink.report
    assert sorted(rep.failed_ids) == [13, 77, 150]
    assert set(client.store) == set(ids) - {13, 77, 150}
    nan_failure = next(f for f in rep.failures if f.ids == [13])
    assert isinstance(nan_failure.error, ValidationError) and "NaN" in str(nan_failure.error)
    check_invariant(rep)


async def test_named_columns_and_wrong_dimension_column():
    client = FakeClient()
    client.validator = VectorValidator(
        lambda name: _named_params({"a": 4, "b": 2})
    )
    a = np.ones((30, 4), np.float32)
    b = np.ones((30, 2), np.float32)
    async with Ingestor(client, "c", batch_size=8) as sink:
        await sink.send_columns({"a": a, "b": b}, ids=range(30))
    assert sink.report.acknowledged == 30 and client.store[29].vector["b"].shape == (2,)
    # a column of the wrong width: every point fails with the client's message, none is sent
    client = FakeClient()
    client.validator = VectorValidator(lambda name: _named_params({"a": 4, "b": 2}))
    async with Ingestor(client, "c", batch_size=8, raise_on_failure=False) as sink:
        await sink.send_columns({"a": a, "b": np.ones((30, 3), np.float32)}, ids=range(30))
    assert sink.report.failed == 30 and client.store == {}
    assert "vector 'b' has 3 dimensions" in str(sink.report.failures[0].error)


async def _named_params(sizes):
    return models.CollectionParams(
        vectors={k: models.VectorParams(size=n, distance="Cosine") for k, n in sizes.items()}
    )


async def test_columns_cut_by_encoded_size():
    dim = 64
    client = FakeClient(dim=dim)
    arr = np.random.default_rng(0).standard_normal((300, dim)).astype(np.float32)
    payload = [{"text": "x" * (i * 20)} for i in range(300)]
    limit = 40_000
    async with Ingestor(client, "c", batch_size=256, max_batch_bytes=limit) as sink:
        await sink.send_columns(arr, payload, range(300))
    assert sink.report.acknowledged == 300 and sorted(client.store) == list(range(300))
    assert max(client.bodies) <= limit and len(client.calls) > 300 // 256 + 1


async def test_columns_length_mismatch_raises_before_sending():
    client = FakeClient()
    arr, payload, ids = columns(10)
    async with Ingestor(client, "c") as sink:
        with pytest.raises(ValidationError, match="columns differ in length"):
            await sink.send_columns(arr, payload[:9], ids)
        with pytest.raises(ValidationError, match="columns differ in length"):
            await sink.send_columns({"a": arr, "b": arr[:5]})
        with pytest.raises(ValidationError, match="2-D numpy array"):
            await sink.send_columns([[1.0, 2.0, 3.0, 4.0]])
    assert client.calls == [] and sink.report.sent == 0
    # an iterator of ids that runs short: the points before it are sent, the error says where
    async with Ingestor(client, "c", batch_size=4, raise_on_failure=False) as sink:
        with pytest.raises(ValidationError, match="ids ran out after 6 points"):
            await sink.send_columns(arr, ids=iter(range(6)))
    rep = sink.report
    assert rep.sent == rep.acknowledged == 4  # the first full batch; nothing half-sent
    check_invariant(rep)


async def test_columns_cancelled_report_exactly_what_was_acknowledged():
    client = FakeClient(delay=0.01)
    arr, payload, ids = columns(2000)
    with anyio.move_on_after(0.05):
        async with Ingestor(client, "c", batch_size=50, concurrency=2) as sink:
            await sink.send_columns(arr, payload, ids)
    rep = sink.report
    assert rep.cancelled and 0 < rep.acknowledged < 2000 and rep.failed == 0
    # every point sent is acknowledged, unconfirmed (it may have landed) or not sent (it did not)
    assert rep.sent == rep.acknowledged + len(rep.unconfirmed_ids) + len(rep.not_sent_ids)
    assert set(client.store) <= set(ids[: rep.sent]) - set(rep.not_sent_ids)
    assert rep.acknowledged <= len(client.store) <= rep.acknowledged + len(rep.unconfirmed_ids)
    assert set(ids[: rep.sent]) - set(rep.unconfirmed_ids) - set(rep.not_sent_ids) <= set(client.store)
    check_invariant(rep)
