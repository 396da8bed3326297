"""Snapshots: descriptions both ways and the request rule (gRPC always waits)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import models as m
from .._proto import qdrant as q
from ._common import _unsupported

_SNAPSHOT_TIME = "%Y-%m-%dT%H:%M:%S"  # REST's creation_time: UTC, no zone, no fraction


def snapshot_to_grpc(s: m.SnapshotDescription) -> q.SnapshotDescription:
    import datetime as dt

    created = None
    if s.creation_time is not None:
        created = dt.datetime.fromisoformat(s.creation_time)
        created = created.replace(tzinfo=dt.timezone.utc) if created.tzinfo is None else created
    return q.SnapshotDescription(name=s.name, creation_time=created, size=s.size, checksum=s.checksum)


def snapshot_from_grpc(s: q.SnapshotDescription) -> m.SnapshotDescription:
    import datetime as dt

    created = None
    if s.creation_time is not None:
        created = s.creation_time.astimezone(dt.timezone.utc).strftime(_SNAPSHOT_TIME)
    return m.SnapshotDescription(name=s.name, creation_time=created, size=s.size, checksum=s.checksum)


def _snapshot_wait(query: Mapping[str, Any]) -> None:
    if query.get("wait") is False:  # a gRPC snapshot call always waits
        raise _unsupported("snapshot with wait=false")


def _rq_snapshot(cls: type, *path_fields: str) -> Any:
    def build(path: Mapping[str, Any], query: Mapping[str, Any], body: Any) -> Any:
        _snapshot_wait(query)
        return cls(**{f: path[f] for f in path_fields})

    return build
