"""Helpers shared by the local engine tests (no tests here)."""

from __future__ import annotations

from typing import Any

import pytest

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


@pytest.mark.anyio
async def test_integer_beyond_64_bits_is_a_clear_validation_error():
    from aqdrant import AsyncQdrantClient, ValidationError, models

    async with AsyncQdrantClient(":memory:") as client:
        await client.create_collection("c", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
        with pytest.raises(ValidationError, match="does not fit the embedded engine"):
            await client.upsert("c", [models.PointStruct(id=1, vector=[1.0, 2.0], payload={"n": -(2**63) - 1})])
        await client.upsert("c", [models.PointStruct(id=2, vector=[1.0, 2.0], payload={"n": 2**63 - 1})])
        assert (await client.count("c")).count == 1  # the engine keeps working


@pytest.mark.anyio
@pytest.mark.parametrize("vector", [[], [[]], [[1.0, 2.0], []]])
async def test_empty_vectors_are_rejected_without_killing_the_engine(vector):
    # refused before sending (Qdrant's 422 rule: validate_vectors=False only skips the size check);
    # the engine's own refusal of the same values is tests/test_local_safety.py's
    from aqdrant import AsyncQdrantClient, ValidationError, models

    async with AsyncQdrantClient(":memory:", validate_vectors=False) as client:
        await client.create_collection(
            "m",
            vectors_config=models.VectorParams(
                size=2,
                distance=models.Distance.DOT,
                multivector_config=models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM),
            ),
        )
        pid = client._backend.pid
        with pytest.raises(ValidationError, match="must not be empty|must be non-empty"):
            await client.upsert("m", [models.PointStruct(id=1, vector=vector)])
        await client.upsert("m", [models.PointStruct(id=2, vector=[[1.0, 2.0]])])
        assert (await client.count("m")).count == 1
        assert client._backend.pid == pid  # the same engine process served every call
