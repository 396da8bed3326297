"""Type expectations for the README's snippets, checked by mypy (``python3 tools/dev.py check``).

Never run, only type-checked: each ``assert_type`` fails the check when the type a user's editor
sees differs (e.g. ``from aqdrant import QdrantClient`` inferred as ``Any``, or as a union of
both clients, which made every ``await`` a false "not awaitable" error). The lines marked
``# type: ignore[...]`` must stay errors: mypy's ``warn_unused_ignores`` fails the check if a
wrong call ever type-checks.
"""

from __future__ import annotations

import itertools
import ssl
import uuid

import numpy as np
import numpy.typing as npt
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


async def accepted_shapes(client: AsyncQdrantClient, matrix: npt.NDArray[np.float32], row: npt.NDArray[np.float64]) -> None:
    """What ``query=``, ``upload_collection(vectors=)`` and the TLS/retry/compression options
    take at run time (aqdrant/_types.py): each line type-checks; the wrong ones below must not."""
    for query in (
        [0.1, 0.2, 0.3],  # a dense vector
        [1, 2, 3],  # ints are numbers too
        (0.1, 0.2, 0.3),
        row,  # a numpy vector
        list(matrix[0]),  # a list of numpy floats
        [[0.1, 0.2], [0.3, 0.4]],  # a multi-vector
        7,  # nearest to a stored point
        "5c56c793-69f3-4fbf-87e6-c4bf54c28c26",
        uuid.uuid4(),
        models.SparseVector(indices=[1, 7], values=[0.5, 0.1]),
        models.Document(text="hello", model="sentence-transformers/all-minilm-l6-v2"),
        models.NearestQuery(nearest=[0.1, 0.2, 0.3]),
        models.RecommendQuery(recommend=models.RecommendInput(positive=[1, 2])),
        models.FusionQuery(fusion=models.Fusion.RRF),
        {"nearest": [0.1, 0.2, 0.3]},  # a model as a dict
        None,
    ):
        assert_type(await client.query_points("c", query=query), models.QueryResponse)
    assert_type(await client.query_points_groups("c", "group", query=row), models.GroupsResult)
    await client.upload_collection("c", vectors=matrix)  # one row per point
    await client.upload_collection("c", vectors=[[0.1, 0.2], [0.3, 0.4]])
    await client.upload_collection("c", vectors=list(matrix))  # rows as arrays
    await client.upload_collection("c", vectors={"image": matrix, "text": matrix})  # named columns
    await client.upload_collection("c", vectors=[{"image": [0.1, 0.2]}])  # named vectors per point
    await client.upload_collection("c", vectors=(list(r) for r in matrix), ids=itertools.count())
    await client.upload_collection("c", vectors=[models.SparseVector(indices=[1], values=[0.5])])
    AsyncQdrantClient(url="https://h", verify="/etc/ca.pem", cert=("c.pem", "k.pem"), retry=aqdrant.RetryPolicy())
    AsyncQdrantClient(url="https://h", verify=ssl.create_default_context(), grpc_compression="gzip")
    with QdrantClient(":memory:") as source:
        source.migrate(client)
        source.migrate(QdrantClient(":memory:"))

    # wrong types: mypy must report each (warn_unused_ignores fails the check if one passes)
    await client.query_points("c", query="text to embed".split())  # type: ignore[arg-type]
    await client.query_points("c", query={0.1, 0.2})  # type: ignore[arg-type]
    await client.query_points("c", query=models.Filter())  # type: ignore[arg-type]
    await client.query_points_groups("c", "group", query=3.5)  # type: ignore[arg-type]
    await client.upload_collection("c", vectors=42)  # type: ignore[arg-type]
    await client.upload_collection("c", vectors=["a", "b"])  # type: ignore[list-item]
    await client.create_collection("c", id_tracker={"type": "u64"})  # type: ignore[arg-type]
    AsyncQdrantClient(url="https://h", verify=1)  # type: ignore[arg-type]
    AsyncQdrantClient(url="https://h", cert=("c.pem",))  # type: ignore[arg-type]
    AsyncQdrantClient(url="https://h", retry=3)  # type: ignore[arg-type]
    AsyncQdrantClient(url="https://h", grpc_compression=9)  # type: ignore[arg-type]
    await client.migrate("http://other:6333")  # type: ignore[arg-type]
    QdrantClient(":memory:").query_points("c", query=models.Filter())  # type: ignore[arg-type]
