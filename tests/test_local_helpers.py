"""Helpers shared by the local engine tests (no tests here)."""

from __future__ import annotations

from typing import Any

from aqdrant import models
from aqdrant._backend import Request
from aqdrant._operations import OPERATIONS
from aqdrant.local import LocalBackend


def req(op: str, body: Any = None, *, query: dict | None = None, **path: Any) -> Request:
    """A Request for ``op``; ``body`` may be JSON builtins (parsed into the op's body type)."""
    operation = OPERATIONS[op]
    if body is not None and not isinstance(body, models.Model) and operation.body_type is not None:
        body = models.parse(operation.body_type, body)
    return Request(op=operation, path_params=path, query=query or {}, body=body)


async def call(
    backend: LocalBackend, op: str, body: Any = None, *, query: dict | None = None, **path: Any
) -> Any:
    return await backend.execute(req(op, body, query=query, **path))
