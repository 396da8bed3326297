"""``AsyncQdrantClient(prefer_grpc=True)``: gRPC where there is a counterpart, REST otherwise.

The gRPC side is a grpclib server in its own thread (tests/test_grpc_backend.py); the REST side is
the dev server. Both loops speak gRPC (grpclib on asyncio, the h2 channel on trio).
"""

from __future__ import annotations

import numpy as np
import pytest
from test_grpc_backend import grpc_server

from aqdrant import AsyncQdrantClient, models

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def rest_server(dev_server):
    return dev_server  # tests/conftest.py


async def test_prefer_grpc_uses_grpc_and_falls_back_to_rest(anyio_backend, rest_server):
    async with grpc_server() as (port, points):
        async with AsyncQdrantClient(
            url=rest_server.url, prefer_grpc=True, grpc_port=port, validate_vectors=False, headers={"x-trace": "t1"}
        ) as client:
            upd = await client.upsert("c", [models.PointStruct(id=5, vector=np.arange(4, dtype=np.float32))])
            assert upd.operation_id == 7  # the fake gRPC server's answer, not the dev server's
            assert len(points.upserts) == 1 and points.upserts[0].collection_name == "c"
            res = await client.query_points("c", query=[0.5, 0.25, 0.0, 1.0], limit=2)
            assert [p.payload["limit"] for p in res.points] == [2, 2]
            # No gRPC counterpart: the same client reaches the dev server over REST.
            assert (await client.info()).version  # root
