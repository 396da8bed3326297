"""RestBackend's direct path (straight to httpcore's pool, skipping httpx's client layer) gives
the same results and the same typed errors as the httpx path, against the dev server."""

from __future__ import annotations

import numpy as np
import pytest

from aqdrant import AsyncQdrantClient, models
from aqdrant.errors import NotFound, TransportError
from aqdrant.server import ServerThread

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def srv():
    with ServerThread() as s:
        yield s


async def _scenario(client: AsyncQdrantClient, name: str) -> list:
    vecs = np.random.default_rng(2).random((20, 8), dtype=np.float32)
    await client.create_collection(name, vectors_config=models.VectorParams(size=8, distance="Dot"))
    await client.upsert(
        name,
        [
            models.PointStruct(id=i, vector=vecs[i].tolist(), payload={"k": i % 3, "s": "é/ü?&"})
            for i in range(20)
        ],
    )
    flt = models.Filter(must=[models.FieldCondition(key="k", match=models.MatchValue(value=1))])
    out = [
        [
            (p.id, p.payload)
            for p in (await client.query_points(name, query=vecs[3], limit=5, query_filter=flt)).points
        ],
        (await client.count(name, exact=True)).count,
        [(r.id, list(r.vector)) for r in await client.retrieve(name, ids=[1, 2, 3], with_vectors=True)],
        await client.collection_exists(name),
    ]
    with pytest.raises(NotFound) as missing:
        await client.count(name + "-missing")
    out.append(
        (
            missing.value.status_code,
            "doesn't exist" in str(missing.value) or "not found" in str(missing.value).lower(),
        )
    )
    await client.delete_collection(name)
    return out


async def test_direct_path_matches_the_httpx_path(srv, anyio_backend) -> None:
    async with AsyncQdrantClient(url=srv.url) as direct, AsyncQdrantClient(url=srv.url) as via_httpx:
        await direct.get_collections()
        await via_httpx.get_collections()
        assert direct._pipeline.backend._pool is not None  # type: ignore[attr-defined]
        calls: list[str] = []
        original = type(direct._pipeline.backend)._direct  # type: ignore[attr-defined]

        async def counted(self, request, content, headers):  # noqa: ANN001
            calls.append(request.op.name)
            return await original(self, request, content, headers)

        direct._pipeline.backend._direct = counted.__get__(direct._pipeline.backend)  # type: ignore[attr-defined]
        via_httpx._pipeline.backend._pool = None  # type: ignore[attr-defined]
        a = await _scenario(direct, f"direct-{anyio_backend}")
        b = await _scenario(via_httpx, f"httpx-{anyio_backend}")
        assert a == b and a[-1][0] == 404
        assert "query_points" in calls and "count_points" in calls and "upsert_points" in calls


async def test_direct_path_connection_refused_is_never_sent(anyio_backend) -> None:
    from aqdrant import RetryPolicy

    async with AsyncQdrantClient(
        url="http://127.0.0.1:9", retry=RetryPolicy(max_attempts=1), check_compatibility=False
    ) as client:
        with pytest.raises(TransportError) as refused:
            await client.count("c")
        assert client._pipeline.backend._pool is not None  # type: ignore[attr-defined]
    assert refused.value.sent is False


async def test_direct_pool_keeps_connections_alive_within_the_bound(srv, anyio_backend) -> None:
    import anyio

    async with AsyncQdrantClient(url=srv.url, pool_size=4) as client:
        for _ in range(10):
            await client.get_collections()
        pool = client._pipeline.backend._pool  # type: ignore[attr-defined]
        assert len(pool._idle) == 1  # sequential calls reuse one connection
        first = pool._idle[0]
        async with anyio.create_task_group() as tg:
            for _ in range(30):
                tg.start_soon(client.get_collections)
        assert 1 <= len(pool._idle) <= 4 and first in pool._idle  # never more than pool_size
        dead = list(pool._idle)
        for conn in dead:  # connections that died while idle are dropped, not used
            await conn.aclose()
        assert (await client.get_collections()).collections is not None
        assert pool._idle and not any(c in pool._idle for c in dead)
    assert client._pipeline.backend._pool is None  # type: ignore[attr-defined]
