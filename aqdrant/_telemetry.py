"""OpenTelemetry spans and metrics for every call, when ``opentelemetry-api`` is installed.

``pip install aqdrant[otel]`` adds the API; the application configures a provider (the SDK) as
for any other instrumented library. Without the API, :func:`for_backend` returns None and the
pipeline pays one ``is None`` test per call; with the API but no provider, the API's no-op tracer
and meter answer.

A call is one CLIENT span named after the operation (``query_points``) with the database
semantic conventions' attributes (``db.system.name`` "qdrant", ``db.operation.name``,
``db.collection.name``, ``server.address``/``server.port``) and aqdrant's own
(``aqdrant.backend``: rest, grpc or local; ``aqdrant.points.sent``/``.returned``), one ``retry``
event per backoff (attempt, reason, seconds slept) and ``error.type`` on failure. The W3C trace
context goes to the server in the request headers (REST headers, gRPC metadata). Vectors,
payloads, headers and credentials are never recorded.

Metrics: ``db.client.operation.duration`` (s, per operation, backend, collection, error type),
``aqdrant.client.retries``, ``aqdrant.ingest.points`` (by outcome) and
``aqdrant.local.engine.restarts``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

try:
    from opentelemetry import metrics, propagate, trace
    from opentelemetry.trace import SpanKind, Status, StatusCode
except ImportError:  # the [otel] extra is not installed: telemetry is off, at no cost
    trace = None  # type: ignore[assignment]

_SCOPE = "aqdrant"


def available() -> bool:
    return trace is not None


def _version() -> str:
    from . import __version__

    return __version__


def _peer(backend: Any) -> dict[str, Any]:
    """``aqdrant.backend`` and the server's address of a backend (nothing for the local engine)."""
    kind = getattr(backend, "kind", None) or type(backend).__name__.lower().removesuffix("backend")
    attrs: dict[str, Any] = {"db.system.name": "qdrant", "aqdrant.backend": kind}
    base_url = getattr(backend, "base_url", None)
    if base_url is not None:  # REST: "http://host:port/prefix"
        import httpx

        url = httpx.URL(str(base_url))
        attrs["server.address"] = url.host
        attrs["server.port"] = url.port or (443 if url.scheme == "https" else 80)
    elif isinstance(getattr(backend, "host", None), str):  # gRPC
        attrs["server.address"] = backend.host
        attrs["server.port"] = int(backend.port)
    return attrs


def _count_points(obj: Any) -> int | None:
    """How many points a request body sends or a result returns, when it is about points."""
    if isinstance(obj, list):
        return len(obj)
    points = getattr(obj, "points", None)
    if isinstance(points, list):
        return len(points)
    ids = getattr(points, "ids", None)  # a columnar Batch
    if isinstance(ids, list):
        return len(ids)
    return None


def _configured(provider: Any) -> bool:
    """Whether the application installed a real provider (an SDK's), not the API's stand-ins."""
    if isinstance(provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider, metrics.NoOpMeterProvider)):
        return False
    return type(provider).__name__ != "_ProxyMeterProvider"  # the API's metrics stand-in is private


class Telemetry:
    """The tracer and instruments of one client, with its backend's constant attributes."""

    def __init__(self, backend: Any) -> None:
        self._live = False
        self._next_check = 0.0
        self._tracer = trace.get_tracer(_SCOPE, _version())
        meter = metrics.get_meter(_SCOPE, _version())
        self._duration = meter.create_histogram(
            "db.client.operation.duration",
            unit="s",
            description="Duration of aqdrant client calls, every attempt and backoff included",
        )
        self._retries = meter.create_counter(
            "aqdrant.client.retries", unit="{retry}", description="Attempts retried after a failure"
        )
        self._attributes = _peer(backend)

    @property
    def live(self) -> bool:
        """Whether a tracer or meter provider is configured; until one is, calls skip telemetry
        (the API's no-op spans cost ~10 µs a call, and asking the API for its providers ~8 µs, so
        that is done at most once a second until one is set; a provider, once set, stays)."""
        if not self._live:
            now = time.monotonic()
            if now >= self._next_check:
                self._next_check = now + 1.0
                self._live = _configured(trace.get_tracer_provider()) or _configured(metrics.get_meter_provider())
        return self._live

    @contextmanager
    def call(self, op_name: str, collection: str | None, body: Any) -> Iterator[Any]:
        """The span (made current, so retries and the propagated context refer to it) of one call."""
        attributes = dict(self._attributes)
        attributes["db.operation.name"] = op_name
        if collection:
            attributes["db.collection.name"] = collection
        sent = _count_points(body)
        if sent is not None:
            attributes["aqdrant.points.sent"] = sent
        started = time.perf_counter()
        error_type = None
        with self._tracer.start_as_current_span(
            op_name,
            kind=SpanKind.CLIENT,
            attributes=attributes,
            record_exception=False,  # an exception's text may quote what the caller sent
            set_status_on_exception=False,
        ) as span:
            try:
                yield span
            except BaseException as error:
                error_type = type(error).__qualname__
                span.set_attribute("error.type", error_type)
                span.set_status(Status(StatusCode.ERROR, error_type))
                raise
            finally:
                metric = {
                    "db.system.name": "qdrant",
                    "db.operation.name": op_name,
                    "aqdrant.backend": attributes["aqdrant.backend"],
                }
                if collection:
                    metric["db.collection.name"] = collection
                if error_type is not None:
                    metric["error.type"] = error_type
                self._duration.record(time.perf_counter() - started, metric)

    @staticmethod
    def returned(span: Any, result: Any) -> None:
        n = _count_points(result)
        if n is not None:
            span.set_attribute("aqdrant.points.returned", n)

    def retry(self, op_name: str, attempt: int, reason: str, delay: float) -> None:
        """One ``retry`` event on the current call's span and one count."""
        trace.get_current_span().add_event(
            "retry", {"aqdrant.attempt": attempt, "aqdrant.retry.reason": reason, "aqdrant.retry.backoff_s": delay}
        )
        self._retries.add(1, {"db.operation.name": op_name, "aqdrant.backend": self._attributes["aqdrant.backend"]})

    @staticmethod
    def context_headers() -> dict[str, str]:
        """The current trace context as W3C headers (``traceparent``, ``tracestate``)."""
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        return carrier


def for_backend(backend: Any) -> Telemetry | None:
    return Telemetry(backend) if trace is not None else None


# -- counters outside a call: the ingestion actor and the local engine's supervisor -------------

_counters: dict[str, Any] = {}


def _counter(name: str, unit: str, description: str) -> Any:
    counter = _counters.get(name)
    if counter is None:
        counter = _counters[name] = metrics.get_meter(_SCOPE, _version()).create_counter(
            name, unit=unit, description=description
        )
    return counter


def ingest_points(outcome: str, n: int, attributes: Mapping[str, Any] | None = None) -> None:
    """Count ``n`` ingested points by ``outcome`` (acknowledged, failed, ...)."""
    if trace is None or n <= 0:
        return
    _counter("aqdrant.ingest.points", "{point}", "Points settled by aqdrant's ingestion actor").add(
        n, {"aqdrant.outcome": outcome, **(attributes or {})}
    )


def engine_restart(reason: str) -> None:
    """Count one restart of the local engine's process."""
    if trace is None:
        return
    _counter("aqdrant.local.engine.restarts", "{restart}", "Restarts of the local engine's process").add(
        1, {"aqdrant.reason": reason}
    )
