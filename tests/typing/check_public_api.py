"""Type expectations for the README's snippets, checked by mypy (``python3 tools/dev.py check``).

Never run, only type-checked: each ``assert_type`` fails the check when the type a user's editor
sees differs (e.g. ``from aqdrant import QdrantClient`` inferred as ``Any``, or as a union of
both clients, which made every ``await`` a false "not awaitable" error). The lines marked
``# type: ignore[...]`` must stay errors: mypy's ``warn_unused_ignores`` fails the check if a
wrong call ever type-checks.
"""

from __future__ import annotations

import numpy as np
from typing_extensions import assert_type

import aqdrant
from aqdrant import AsyncQdrantClient, QdrantClient, models
from aqdrant.ingest import IngestReport


async def three_ways_to_connect() -> None:
    async with AsyncQdrantClient(":memory:") as client:
        assert_type(client, AsyncQdrantClient)
    async with AsyncQdrantClient(path="db/") as client:
        assert_type(await client.collection_exists("demo"), bool)
    async with AsyncQdrantClient(url="http://localhost:6333", api_key="...") as client:
        assert_type(await client.get_collections(), models.CollectionsResponse)
    async with AsyncQdrantClient(url="http://localhost:6333", prefer_grpc=True) as client:
        hits = await client.query_points("demo", query=[0.1, 0.2, 0.3, 0.4], limit=3)
        assert_type(hits, models.QueryResponse)
        assert_type(hits.points, list[models.ScoredPoint])


def blocking_client() -> None:
    with QdrantClient(":memory:") as client:
        assert_type(client, QdrantClient)
        client.create_collection("demo", vectors_config=models.VectorParams(size=4, distance=models.Distance.COSINE))
        assert_type(client.count("demo").count, int)
        points, offset = client.scroll("demo", limit=10, with_vectors=True)
        assert_type(points, list[models.Record])
        client.query_points("demo", query=[0.1, 0.2, 0.3, 0.4], limt=3)  # type: ignore[call-arg]
        client.collection_exists(42)  # type: ignore[arg-type]


async def bulk_ingestion(client: AsyncQdrantClient, vectors: np.ndarray) -> None:
    async with client.ingest("coll", batch_size=256, concurrency=4) as sink:
        await sink.send_many(models.PointStruct(id=i, vector=vectors[i]) for i in range(len(vectors)))
    assert_type(sink.report, IngestReport)
    await client.upload_collection("coll", vectors=vectors)


async def per_call_options(client: AsyncQdrantClient) -> None:
    with aqdrant.request_headers({"x-request-id": "r1"}):
        await client.collection_exists("demo", timeout=2.5, headers={"x-trace": "t"})
    try:
        await client.get_collection("missing")
    except aqdrant.NotFound as e:
        assert_type(e, aqdrant.NotFound)
    await client.collection_exists("demo")  # an awaitable: no false "not awaitable" error
    client.collection_exists("demo").close()  # a coroutine object, not a bool
    assert_type(aqdrant.__version__, str)
