"""A standalone node's service endpoints, answered by the dev server itself with real figures:
``GET /cluster`` (no cluster: ``{"status": "disabled"}``), ``/telemetry``, ``/metrics``
(Prometheus text) and ``/issues`` (no issue detectors run here, so the list is empty).

Figures come from the backend (collections, their points and vectors) and from the request
counters the app keeps (:class:`Counters`), never made up.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

from .. import models
from .._backend import Request
from .._operations import OPERATIONS

#: operations the server answers itself (op name -> handler name)
SERVICE_OPS = frozenset({"cluster_status", "telemetry", "metrics", "get_issues", "clear_issues"})


def route_pattern(path: str) -> str:
    """The route pattern Qdrant's REST telemetry keys an endpoint by (its actix route: the
    collection is ``{name}`` there, except on the vector-name routes)."""
    if "/vectors/{vector_name}" in path:
        return path
    return path.replace("{collection_name}", "{name}")


def _timestamp() -> str:
    """Now as Qdrant writes ``last_responded`` (UTC, rounded to 10 ms, RFC 3339 with ``Z``)."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 10000:02d}0Z"


class _Durations:
    """One endpoint's responses of one status (Qdrant's OperationDurationsAggregator)."""

    __slots__ = ("count", "last", "max", "min", "total")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.min = float("inf")
        self.max = 0.0
        self.last = ""

    def add(self, seconds: float) -> None:
        self.count += 1
        self.total += seconds
        self.min = min(self.min, seconds)
        self.max = max(self.max, seconds)
        self.last = _timestamp()

    def statistics(self, details_level: int) -> dict[str, Any]:
        out: dict[str, Any] = {"count": self.count, "avg_duration_micros": self.total / self.count * 1e6}
        if details_level >= 1:
            out["min_duration_micros"] = self.min * 1e6
            out["max_duration_micros"] = self.max * 1e6
            out["total_duration_micros"] = int(self.total * 1e6)
        out["last_responded"] = self.last
        return out


class Counters:
    """REST and gRPC responses by endpoint and status, with total durations (seconds)."""

    def __init__(self) -> None:
        self.id = str(uuid.uuid4())
        self.startup = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
        self.rest: Counter[tuple[str, str, int]] = Counter()
        #: (method, route pattern, status) -> durations, for /telemetry
        self.rest_durations: dict[tuple[str, str, int], _Durations] = {}
        self.grpc: Counter[tuple[str, bool]] = Counter()
        self.grpc_seconds: Counter[tuple[str, bool]] = Counter()

    def count_rest(self, method: str, path: str, status: int, seconds: float) -> None:
        key = (method, path, status)
        self.rest[key] += 1
        durations = self.rest_durations.get(key)
        if durations is None:
            durations = self.rest_durations[key] = _Durations()
        durations.add(seconds)

    def count_grpc(self, endpoint: str, ok: bool, seconds: float) -> None:
        self.grpc[(endpoint, ok)] += 1
        self.grpc_seconds[(endpoint, ok)] += seconds


Execute = Callable[[Request], Awaitable[Any]]


async def _collections(execute: Execute) -> list[tuple[str, Any]]:
    """``[(name, CollectionInfo)]`` of every collection."""
    listed = await execute(Request(op=OPERATIONS["get_collections"], path_params={}, query={}, body=None))
    out = []
    for c in listed.collections:
        info = await execute(
            Request(op=OPERATIONS["get_collection"], path_params={"collection_name": c.name}, query={}, body=None)
        )
        out.append((c.name, info))
    return out


def _vectors_count(info: Any) -> int:
    """Points times the vector kinds a point can hold (Qdrant counts each stored vector)."""
    params = info.config.params
    kinds = 1 if isinstance(params.vectors, models.VectorParams) else len(params.vectors or {})
    kinds += len(params.sparse_vectors or {})
    return (info.points_count or 0) * max(kinds, 1)


def _durations(count: int, seconds: float) -> dict[str, Any]:
    return {"count": count, "avg_duration_micros": seconds / count * 1e6 if count else 0.0}


async def telemetry(execute: Execute, counters: Counters, version: str, details_level: int) -> dict[str, Any]:
    collections = await _collections(execute)
    colls: dict[str, Any] = {"number_of_collections": len(collections)}
    if details_level >= 1:
        colls["collections"] = [
            {"id": name, "config": models.to_builtins(info.config)} if details_level >= 2 else
            {"vectors": _vectors_count(info), "optimizers_status": models.to_builtins(info.optimizer_status),
             "params": models.to_builtins(info.config.params)}
            for name, info in collections
        ]
    rest: dict[str, dict[str, Any]] = {}
    for (method, path, status), durations in sorted(counters.rest_durations.items()):
        rest.setdefault(f"{method} {route_pattern(path)}", {})[str(status)] = durations.statistics(details_level)
    grpc_out: dict[str, dict[str, Any]] = {}
    for (endpoint, ok), n in sorted(counters.grpc.items()):
        status = "OK" if ok else "ERROR"
        grpc_out.setdefault(f"/qdrant.{endpoint}", {})[status] = _durations(n, counters.grpc_seconds[(endpoint, ok)])
    return {
        "id": counters.id,
        "app": {
            "name": "qdrant",
            "version": version,
            "features": {
                "debug": False,
                "service_debug_feature": False,
                "recovery_mode": False,
                "gpu": False,
                "rocksdb": False,
                "staging": False,
            },
            "jwt_rbac": False,
            "hide_jwt_dashboard": False,
            "startup": counters.startup,
        },
        "collections": colls,
        "cluster": {"enabled": False},
        "requests": {"rest": {"responses": rest}, "grpc": {"responses": grpc_out}},
    }


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


async def metrics(execute: Execute, counters: Counters, version: str) -> str:
    """Prometheus text exposition, with the metric names a Qdrant node uses."""
    collections = await _collections(execute)
    lines = [
        "# HELP app_info information about qdrant server",
        "# TYPE app_info gauge",
        f'app_info{{name="qdrant",version="{_label(version)}"}} 1',
        "# HELP app_status_recovery_mode features enabled in qdrant server",
        "# TYPE app_status_recovery_mode gauge",
        "app_status_recovery_mode 0",
        "# HELP collections_total number of collections",
        "# TYPE collections_total gauge",
        f"collections_total {len(collections)}",
        "# HELP collections_vector_total total number of vectors in all collections",
        "# TYPE collections_vector_total gauge",
        f"collections_vector_total {sum(_vectors_count(info) for _, info in collections)}",
        "# HELP collection_points approximate amount of points per collection",
        "# TYPE collection_points gauge",
    ]
    lines += [f'collection_points{{id="{_label(name)}"}} {info.points_count or 0}' for name, info in collections]
    lines += [
        "# HELP rest_responses_total total number of responses",
        "# TYPE rest_responses_total counter",
    ]
    for (method, path, status), n in sorted(counters.rest.items()):
        lines.append(f'rest_responses_total{{method="{method}",endpoint="{_label(route_pattern(path))}",status="{status}"}} {n}')
    lines += [
        "# HELP rest_responses_fail_total total number of failed responses",
        "# TYPE rest_responses_fail_total counter",
    ]
    for (method, path, status), n in sorted(counters.rest.items()):
        if status >= 400:
            lines.append(f'rest_responses_fail_total{{method="{method}",endpoint="{_label(route_pattern(path))}",status="{status}"}} {n}')
    lines += [
        "# HELP grpc_responses_total total number of responses",
        "# TYPE grpc_responses_total counter",
    ]
    by_endpoint: Counter[str] = Counter()
    for (endpoint, _ok), n in counters.grpc.items():
        by_endpoint[endpoint] += n
    for endpoint, n in sorted(by_endpoint.items()):
        lines.append(f'grpc_responses_total{{endpoint="/qdrant.{_label(endpoint)}"}} {n}')
    return "\n".join(lines) + "\n"


async def answer(op_name: str, query: dict[str, Any], execute: Execute, counters: Counters, version: str) -> tuple[str, Any]:
    """``("json" | "text", result)`` for a service operation."""
    if op_name == "cluster_status":
        return "json", {"status": "disabled"}
    if op_name == "telemetry":
        return "json", await telemetry(execute, counters, version, int(query.get("details_level") or 0))
    if op_name == "metrics":
        return "text", await metrics(execute, counters, version)
    if op_name == "get_issues":
        return "json", {"issues": []}
    if op_name == "clear_issues":
        return "json", True
    raise KeyError(op_name)


__all__ = ["SERVICE_OPS", "Counters", "answer"]
