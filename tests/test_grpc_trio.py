"""``prefer_grpc=True`` under trio: grpclib is asyncio-only, so the client says so once (a
UserWarning on its first call) and serves every call over REST; on asyncio it says nothing and
the calls go over gRPC. Both against the dev server, which serves REST and gRPC."""

from __future__ import annotations

import warnings

import pytest

from aqdrant import AsyncQdrantClient, models
from aqdrant.grpc.backend import TRIO_WARNING
from aqdrant.server import ServerThread

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def srv():
    with ServerThread(grpc_port=0) as s:
        yield s


async def _calls(client: AsyncQdrantClient, name: str) -> list[int]:
    await client.create_collection(name, vectors_config=models.VectorParams(size=2, distance="Dot"))
    await client.upsert(name, [models.PointStruct(id=i, vector=[float(i), 1.0]) for i in range(1, 4)])
    ids = [p.id for p in (await client.query_points(name, query=[1.0, 0.0], limit=2)).points]
    assert (await client.count(name)).count == 3
    await client.delete_collection(name)
    return ids


async def test_first_call_under_trio_warns_once_and_uses_rest(srv, anyio_backend) -> None:
    before = sum(srv.grpc.calls.values())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with AsyncQdrantClient(url=srv.url, prefer_grpc=True, grpc_port=srv.grpc_port) as client:
            assert await _calls(client, f"trio-{anyio_backend}") == [3, 2]
            assert await _calls(client, f"trio-{anyio_backend}-2") == [3, 2]
    ours = [w for w in caught if issubclass(w.category, UserWarning) and str(w.message) == TRIO_WARNING]
    grpc_calls = sum(srv.grpc.calls.values()) - before
    if anyio_backend == "trio":
        assert len(ours) == 1, [str(w.message) for w in caught]
        assert "asyncio" in TRIO_WARNING and "REST" in TRIO_WARNING
        assert grpc_calls == 0  # everything went over REST
    else:
        assert ours == []
        assert grpc_calls >= 10  # create, upsert, query, count, delete twice each, over gRPC


@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_each_client_warns_on_its_own_first_call(srv, anyio_backend) -> None:
    for _ in range(2):
        with pytest.warns(
            UserWarning, match=r"gRPC needs asyncio \(grpclib\); this client uses REST under trio"
        ):
            async with AsyncQdrantClient(url=srv.url, prefer_grpc=True, grpc_port=srv.grpc_port) as client:
                await client.get_collections()
