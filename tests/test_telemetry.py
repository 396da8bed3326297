"""OpenTelemetry spans and metrics per call (aqdrant/_telemetry.py), with the SDK's in-memory
exporter and reader, on asyncio and trio, over REST, gRPC (dev server) and the local engine."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import pytest
from conftest import dev_server_thread
from fault_server import FaultServer, Reply, Stall, envelope
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from aqdrant import AsyncQdrantClient, DeadlineExceeded, RetryPolicy, models
from aqdrant._pipeline import Pipeline
from aqdrant.rest import RestBackend

SECRET = "telemetry-secret-key-1234"
FAST = RetryPolicy(max_attempts=3, backoff_base=0.001, backoff_max=0.002)


class _Gate(SimpleSpanProcessor):
    """Exports only while a test of this module runs (the provider is global to the process)."""

    enabled = False

    def on_end(self, span: Any) -> None:
        if _Gate.enabled:
            super().on_end(span)


_EXPORTER = InMemorySpanExporter()
_READER = InMemoryMetricReader()


@pytest.fixture(scope="module", autouse=True)
def _providers():
    # the global providers can be set once per process; later modules see no exports (the gate)
    provider = TracerProvider()
    provider.add_span_processor(_Gate(_EXPORTER))
    trace.set_tracer_provider(provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[_READER]))
    yield


@pytest.fixture()
def spans():
    _EXPORTER.clear()
    _Gate.enabled = True
    yield _EXPORTER
    _Gate.enabled = False
    _EXPORTER.clear()


class RecordingBackend:
    """Wraps the dev server's engine backend and keeps the headers of every request it receives."""

    def __init__(self) -> None:
        from aqdrant.local import LocalBackend

        self.inner = LocalBackend(None)
        self.headers: list[dict[str, str]] = []

    async def execute(self, request: Any) -> Any:
        self.headers.append(dict(request.headers))
        return await self.inner.execute(request)

    def stream(self, request: Any) -> Any:
        return self.inner.stream(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture(scope="module")
def srv():
    recording = RecordingBackend()
    with dev_server_thread(backend=recording, api_key=SECRET) as s:
        s.recording = recording
        yield s


def _client(kind: str, srv: Any) -> AsyncQdrantClient:
    if kind == "local":
        return AsyncQdrantClient(":memory:")
    if kind == "rest":
        return AsyncQdrantClient(url=srv.url, api_key=SECRET)
    return AsyncQdrantClient(url=srv.url, grpc_port=srv.grpc_port, prefer_grpc=True, api_key=SECRET)


def _metric_points(name: str) -> list[Any]:
    data = _READER.get_metrics_data()
    found = []
    for rm in data.resource_metrics if data else ():
        for sm in rm.scope_metrics:
            for m in sm.metrics:
                if m.name == name:
                    found.extend(m.data.data_points)
    return found


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["rest", "grpc", "local"])
async def test_one_span_per_call_with_database_attributes(kind, srv, spans, anyio_backend):
    coll = f"otel_{kind}_{anyio_backend}"
    tracer = trace.get_tracer("test")
    async with _client(kind, srv) as client:
        await client.create_collection(coll, vectors_config=models.VectorParams(size=4, distance="Dot"))
        points = [models.PointStruct(id=i, vector=[1.0, 0.5, 0.25, float(i)]) for i in range(3)]
        with tracer.start_as_current_span("handler") as parent:
            await client.upsert(coll, points=points)
            hits = await client.query_points(coll, query=[1.0, 0.0, 0.0, 0.0], limit=2)
        await client.delete_collection(coll)
    assert len(hits.points) == 2
    by_name = {s.name: s for s in spans.get_finished_spans() if s.attributes.get("db.collection.name") == coll}
    upsert, query = by_name["upsert_points"], by_name["query_points"]
    for span in (upsert, query):
        assert span.kind is trace.SpanKind.CLIENT
        assert span.parent is not None and span.parent.span_id == parent.get_span_context().span_id
        assert span.attributes["db.system.name"] == "qdrant"
        assert span.attributes["aqdrant.backend"] == kind
        if kind == "local":
            assert "server.address" not in span.attributes
        else:
            assert span.attributes["server.address"] == "127.0.0.1"
            assert span.attributes["server.port"] == (srv.port if kind == "rest" else srv.grpc_port)
    assert upsert.attributes["db.operation.name"] == "upsert_points"
    assert upsert.attributes["aqdrant.points.sent"] == 3
    assert query.attributes["aqdrant.points.returned"] == 2
    # nothing secret, nothing the caller sent as data
    for span in spans.get_finished_spans():
        assert SECRET not in repr(span.attributes) and SECRET not in repr(span.events)
    durations = [p for p in _metric_points("db.client.operation.duration") if p.attributes.get("db.collection.name") == coll]
    assert {p.attributes["db.operation.name"] for p in durations} >= {"upsert_points", "query_points"}
    assert all(p.attributes["aqdrant.backend"] == kind for p in durations)


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["rest", "grpc"])
async def test_the_trace_context_reaches_the_server(kind, srv, spans, anyio_backend):
    tracer = trace.get_tracer("test")
    async with _client(kind, srv) as client:
        await client.get_collections()  # the first call's compatibility check is out of the way
        with tracer.start_as_current_span("handler"):
            srv.recording.headers.clear()
            await client.collection_exists(f"nothing_{kind}")
    (call,) = [s for s in spans.get_finished_spans() if s.name == "collection_exists"]
    traceparent = srv.recording.headers[-1]["traceparent"]
    trace_id, span_id = traceparent.split("-")[1:3]
    assert int(trace_id, 16) == call.context.trace_id
    assert int(span_id, 16) == call.context.span_id  # the server's parent is the client span


@pytest.mark.anyio
async def test_retries_are_events_of_the_call_span(spans):
    with FaultServer() as server:
        server.push(Reply(503), Reply(503), Reply(200, envelope({"collections": []})))
        p = Pipeline(RestBackend(server.url), retry=FAST)
        before = sum(pt.value for pt in _metric_points("aqdrant.client.retries")
                     if pt.attributes["db.operation.name"] == "get_collections")
        await p.execute("get_collections")
        await p.aclose()
    (span,) = [s for s in spans.get_finished_spans() if s.name == "get_collections"]
    assert [e.name for e in span.events] == ["retry", "retry"]
    assert [e.attributes["aqdrant.attempt"] for e in span.events] == [1, 2]
    assert all("503" in e.attributes["aqdrant.retry.reason"] for e in span.events)
    assert all(0 <= e.attributes["aqdrant.retry.backoff_s"] <= FAST.backoff_max for e in span.events)
    assert span.status.is_ok
    after = sum(pt.value for pt in _metric_points("aqdrant.client.retries")
                if pt.attributes["db.operation.name"] == "get_collections")
    assert after - before == 2


@pytest.mark.anyio
async def test_a_deadline_marks_the_span_as_an_error(spans):
    with FaultServer() as server:
        server.push(Stall(5))
        p = Pipeline(RestBackend(server.url), retry=FAST, api_key=SECRET)
        with pytest.raises(DeadlineExceeded):
            await p.execute("get_collections", timeout=0.2)
        await p.aclose()
        assert server.requests[0].headers["traceparent"]
    (span,) = [s for s in spans.get_finished_spans() if s.name == "get_collections"]
    assert span.status.status_code is trace.StatusCode.ERROR
    assert span.attributes["error.type"] == "DeadlineExceeded"
    assert SECRET not in repr(span.attributes) and SECRET not in (span.status.description or "")
    failed = [p for p in _metric_points("db.client.operation.duration")
              if p.attributes.get("error.type") == "DeadlineExceeded"]
    assert failed and failed[0].count >= 1


@pytest.mark.anyio
async def test_ingest_batches_are_spans_under_the_callers_span(spans, anyio_backend):
    tracer = trace.get_tracer("test")
    coll = f"ing_{anyio_backend}"
    async with AsyncQdrantClient(":memory:") as client:
        await client.create_collection(coll, vectors_config=models.VectorParams(size=2, distance="Dot"))
        with tracer.start_as_current_span("job") as job:
            async with client.ingest(coll, batch_size=10, concurrency=2) as sink:
                await sink.send_many(models.PointStruct(id=i, vector=[1.0, float(i)]) for i in range(35))
    batches = [s for s in spans.get_finished_spans() if s.name == "upsert_points"]
    assert sorted(s.attributes["aqdrant.points.sent"] for s in batches) == [5, 10, 10, 10]
    assert all(s.parent.span_id == job.get_span_context().span_id for s in batches)
    settled = {
        pt.attributes["aqdrant.outcome"]: pt.value
        for pt in _metric_points("aqdrant.ingest.points")
        if pt.attributes["db.collection.name"] == coll
    }
    assert settled == {"acknowledged": 35}


def test_without_the_extra_telemetry_is_off_and_calls_work():
    # opentelemetry made unimportable in a fresh interpreter: what a plain `pip install aqdrant` gets
    script = textwrap.dedent(
        """
        import sys
        sys.modules["opentelemetry"] = None
        from aqdrant import AsyncQdrantClient, QdrantClient, models, _telemetry
        assert not _telemetry.available()
        assert AsyncQdrantClient(":memory:")._pipeline._telemetry is None
        with QdrantClient(":memory:") as client:
            client.create_collection("c", vectors_config=models.VectorParams(size=2, distance="Dot"))
            client.upsert("c", points=[models.PointStruct(id=1, vector=[1.0, 2.0])])
            print(client.count("c").count)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1"


@pytest.mark.anyio
async def test_a_restarted_local_engine_is_counted(spans, anyio_backend):
    import os
    import signal

    def restarts() -> int:
        return sum(p.value for p in _metric_points("aqdrant.local.engine.restarts"))

    async with AsyncQdrantClient(":memory:") as client:
        await client.create_collection("r", vectors_config=models.VectorParams(size=2, distance="Dot"))
        before = restarts()
        os.kill(client._backend.pid, signal.SIGKILL)
        for _ in range(50):  # the call that finds the engine dead may fail; the next one restarts it
            try:
                assert (await client.count("r")).count == 0  # the engine answers; the store survived
                break
            except Exception:
                import anyio

                await anyio.sleep(0.1)
        assert restarts() - before == 1
