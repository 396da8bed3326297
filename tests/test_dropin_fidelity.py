"""Differences from the official client found by running its own tests against aqdrant
(tools/conformance/README.md, part 3); each test pins one fix, with qdrant_client as oracle
where its local mode shows the expected behaviour."""

from __future__ import annotations

import tempfile

import pytest
import qdrant_client
from qdrant_client import models as qm

import aqdrant
from aqdrant import models

pytestmark = pytest.mark.anyio


def _points(m):
    return [m.PointStruct(id=i, vector=[0.1 * (i + 1), 0.2, 0.3, 0.4]) for i in range(3)]


# -- operation ids: numbered per collection from 0 (Qdrant's WAL; the official quickstart shows
#    operation_id=0 for the first upsert; the official local mode answers 0 for every update)


async def test_first_update_of_a_collection_is_operation_0_local():
    async with aqdrant.AsyncQdrantClient(":memory:") as client:
        for name in ("a", "b"):
            await client.create_collection(name, vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT))
        first = await client.upsert("a", _points(models))
        second = await client.upsert("a", _points(models))
        other = await client.upsert("b", _points(models))
        await client.delete_collection("a")
        await client.create_collection("a", vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT))
        recreated = await client.upsert("a", _points(models))
    assert (first.operation_id, second.operation_id, other.operation_id, recreated.operation_id) == (0, 1, 0, 0)

    oracle = qdrant_client.QdrantClient(":memory:")
    oracle.create_collection("a", vectors_config=qm.VectorParams(size=4, distance=qm.Distance.DOT))
    assert oracle.upsert("a", _points(qm)).operation_id == first.operation_id


@pytest.mark.parametrize("prefer_grpc", [False, True], ids=["rest", "grpc"])
async def test_first_update_of_a_collection_is_operation_0_server(dev_server, prefer_grpc):
    async with aqdrant.AsyncQdrantClient(
        url=dev_server.url, grpc_port=dev_server.grpc_port, prefer_grpc=prefer_grpc
    ) as client:
        name = f"opid_{prefer_grpc}"
        await client.create_collection(name, vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT))
        try:
            assert (await client.upsert(name, _points(models), wait=True)).operation_id == 0
            assert (await client.upsert(name, _points(models), wait=True)).operation_id == 1
        finally:
            await client.delete_collection(name)


# -- a storage folder held by another local client: the official message, which callers match


def test_second_local_client_on_one_path_names_the_official_phrase():
    with tempfile.TemporaryDirectory() as tmp:
        first = aqdrant.QdrantClient(path=tmp)
        try:
            with pytest.raises(Exception, match="already accessed by another instance"):
                aqdrant.QdrantClient(path=tmp)
        finally:
            first.close()
    with tempfile.TemporaryDirectory() as tmp:
        first_oracle = qdrant_client.QdrantClient(path=tmp)
        try:
            with pytest.raises(Exception, match="already accessed by another instance"):
                qdrant_client.QdrantClient(path=tmp)
        finally:
            first_oracle.close()
