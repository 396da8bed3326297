"""Migration suite: scripts written the way the official client's users write them, run with the
official ``qdrant-client`` and with aqdrant, on ``:memory:``, REST and gRPC (the dev server).

Each scenario is one async function ``scenario(client, models, name)`` using only the official
API (dict points, ``list(np.random.rand(n))`` vectors, numpy scalars, datetimes and bytes in
payloads, pydantic-style model calls). It returns what it observed (query hits, counts, stored
payloads), made comparable by :func:`plain`. aqdrant must give the official client's answer on
the same backend; where the official client itself fails on a backend (dict points over gRPC,
numpy scalars over gRPC, ...), aqdrant must give the official client's answer over REST. Stored
payloads are compared the same way, read back with the official REST client's form as reference.
The official client runs blocking (its gRPC is asyncio-only); aqdrant runs on asyncio and trio.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from typing import Any

import numpy as np
import pytest

import aqdrant
from aqdrant.server import ServerThread

qdrant_client = pytest.importorskip("qdrant_client")

pytestmark = pytest.mark.anyio

BACKENDS = ["memory", "rest", "grpc"]
DIM = 8


@pytest.fixture(scope="module")
def server():
    with ServerThread(grpc_port=0) as srv:
        yield srv


def options(srv: ServerThread, backend: str) -> dict[str, Any]:
    return {
        "memory": {"location": ":memory:"},
        "rest": {"url": srv.url},
        "grpc": {"url": srv.url, "prefer_grpc": True, "grpc_port": srv.grpc_port},
    }[backend]


class _Awaitable:
    """The official blocking client behind ``await client.method(...)``, so one scenario text
    serves both clients (the official async gRPC client runs on asyncio only)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        fn = getattr(self._client, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            return fn(*args, **kwargs)

        return call


def plain(x: Any) -> Any:
    """Results of either client as comparable builtins: points as (id, score, payload, vector)."""
    if isinstance(getattr(x, "points", None), list):  # QueryResponse
        return plain(x.points)
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    if hasattr(x, "id") and hasattr(x, "payload"):  # ScoredPoint / Record
        score = getattr(x, "score", None)
        vector = getattr(x, "vector", None)
        if isinstance(vector, dict):
            vector = {k: _rounded(v) for k, v in vector.items()}
        elif vector is not None:
            vector = _rounded(vector)
        return {
            "id": str(x.id) if not isinstance(x.id, int) else x.id,
            "score": None if score is None else round(float(score), 4),
            "payload": x.payload,
            "vector": vector,
        }
    if hasattr(x, "count") and not isinstance(x, (list, dict, str)):
        return {"count": x.count}
    if hasattr(x, "status") and hasattr(x, "operation_id"):
        return {"status": str(getattr(x.status, "value", x.status))}
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    return x


def _rounded(v: Any) -> Any:
    if hasattr(v, "indices"):  # a sparse vector
        return {"indices": list(v.indices), "values": [round(float(f), 4) for f in v.values]}
    return [round(float(f), 4) for f in v]


async def stored(client: Any, name: str) -> list[Any]:
    records, _ = await client.scroll(name, limit=1000, with_payload=True, with_vectors=True)
    return sorted(plain(records), key=lambda r: str(r["id"]))


# ---- scenarios: written as the official client's users write them ---------------------------------

WHEN = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))


async def dict_points_and_numpy(client: Any, models: Any, name: str) -> Any:
    rng = np.random.default_rng(7)
    await client.create_collection(name, vectors_config=models.VectorParams(size=DIM, distance=models.Distance.COSINE))
    points = [
        {"id": i, "vector": list(rng.random(DIM)), "payload": {"group": i % 3, "score": float(np.float64(i) / 2)}}
        for i in range(20)
    ]
    await client.upsert(name, points=points, wait=True)
    hits = await client.query_points(name, query=list(rng.random(DIM)), limit=5)
    filtered = await client.query_points(
        name,
        query=list(rng.random(DIM)),
        query_filter={"must": [{"key": "group", "match": {"value": 1}}]},
        search_params={"hnsw_ef": 64, "exact": True},
        limit=3,
    )
    count = await client.count(name, count_filter=models.Filter(must=[models.FieldCondition(key="group", match=models.MatchValue(value=2))]))
    return {"hits": plain(hits), "filtered": plain(filtered), "count": plain(count), "stored": await stored(client, name)}


async def payload_values(client: Any, models: Any, name: str) -> Any:
    await client.create_collection(name, vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT))
    payload = {
        "aware": WHEN,
        "utc": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
        "naive": dt.datetime(2024, 1, 2, 3, 4, 5),
        "day": dt.date(2024, 1, 2),
        "raw": b"hello bytes",
        "uid": uuid.UUID(int=42),
        "pair": (1, 2),
        "nested": {"when": WHEN, "tags": ["a", "b"]},
        "ratio": np.float64(0.25),
    }
    await client.upsert(name, points=[models.PointStruct(id=1, vector=[0.1, 0.2, 0.3, 0.4], payload=payload)])
    await client.set_payload(name, payload={"later": WHEN, "blob": b"x"}, points=[1])
    await client.upsert(name, points=[models.PointStruct(id=2, vector=[0.4, 0.3, 0.2, 0.1], payload={"aware": WHEN})])
    await client.overwrite_payload(name, payload={"only": dt.date(2020, 2, 29)}, points=[2])
    return {"stored": await stored(client, name), "retrieved": plain(await client.retrieve(name, [1, 2]))}


async def pydantic_style_models(client: Any, models: Any, name: str) -> Any:
    params = models.VectorParams(size=3, distance=models.Distance.EUCLID)
    config = params.model_dump()
    assert config["size"] == 3 and "on_disk" in config and config["on_disk"] is None
    await client.create_collection(name, vectors_config=models.VectorParams.model_validate(config))
    template = models.PointStruct(id=1, vector=[1.0, 0.0, 0.0], payload={"kind": "a"})
    points = [template.model_copy(update={"id": i, "vector": [float(i), 1.0, 0.0]}) for i in range(1, 6)]
    assert points[0].model_dump()["vector"] == [1.0, 1.0, 0.0]
    assert models.PointStruct.model_validate_json(points[1].model_dump_json()).id == 2
    await client.upsert(name, points=points)
    flt = models.Filter.model_validate({"must": [{"key": "kind", "match": {"value": "a"}}]})
    assert flt.model_dump(exclude_none=True) == {"must": [{"key": "kind", "match": {"value": "a"}}]}
    hits = await client.query_points(name, query=[2.2, 1.0, 0.0], query_filter=flt, limit=2, with_vectors=True)
    dumped = [p.model_dump() for p in hits.points]
    assert {"id", "score", "payload", "vector", "version"} <= set(dumped[0])
    return {"hits": plain(hits), "ids": [d["id"] for d in dumped]}


async def upload_collection_numpy(client: Any, models: Any, name: str) -> Any:
    rng = np.random.default_rng(11)
    await client.create_collection(name, vectors_config=models.VectorParams(size=DIM, distance=models.Distance.COSINE))
    vectors = rng.random((30, DIM))  # float64, as np.random gives them
    client_payload = [{"n": int(i), "at": WHEN} for i in range(30)]
    await client.upload_collection(name, vectors=vectors, payload=client_payload, ids=itertools.count(), wait=True)
    await client.upload_points(
        name, points=[models.PointStruct(id=100 + i, vector=list(rng.random(DIM)), payload={"n": i}) for i in range(5)], wait=True
    )
    hits = await client.query_points(name, query=vectors[3], limit=3)
    return {"count": plain(await client.count(name)), "hits": plain(hits), "stored": await stored(client, name)}


async def datetime_filters_and_batches(client: Any, models: Any, name: str) -> Any:
    await client.create_collection(name, vectors_config={"text": models.VectorParams(size=2, distance=models.Distance.DOT)})
    ops = [
        models.UpsertOperation(
            upsert=models.PointsList(
                points=[
                    {"id": i, "vector": {"text": [1.0, float(i)]}, "payload": {"at": WHEN + dt.timedelta(days=i)}}
                    for i in range(6)
                ]
            )
        ),
        models.SetPayloadOperation(set_payload=models.SetPayload(payload={"flag": True}, points=[0, 1])),
    ]
    results = await client.batch_update_points(name, update_operations=ops)
    window = models.Filter(
        must=[models.FieldCondition(key="at", range=models.DatetimeRange(gte=WHEN + dt.timedelta(days=2), lt=WHEN + dt.timedelta(days=5)))]
    )
    records, _ = await client.scroll(name, scroll_filter=window, limit=10)
    hits = await client.query_points(name, query=[1.0, 1.0], using="text", limit=2)
    return {
        "results": plain(results),
        "window": sorted(r.id for r in records),
        "hits": plain(hits),
        "stored": await stored(client, name),
    }


SCENARIOS = {
    "dict_points_and_numpy": dict_points_and_numpy,
    "payload_values": payload_values,
    "pydantic_style_models": pydantic_style_models,
    "upload_collection_numpy": upload_collection_numpy,
    "datetime_filters_and_batches": datetime_filters_and_batches,
}


# ---- the official client's answers, computed once per backend ---------------------------------------


@pytest.fixture(scope="module")
def official(server) -> dict[tuple[str, str], Any]:
    """(scenario, backend) -> the official client's result, or the exception it raised."""
    import anyio
    from qdrant_client import QdrantClient
    from qdrant_client import models as official_models

    answers: dict[tuple[str, str], Any] = {}
    for backend in BACKENDS:
        client = QdrantClient(**options(server, backend))
        for scenario, fn in SCENARIOS.items():
            name = f"official_{backend}_{scenario}"
            if client.collection_exists(name):
                client.delete_collection(name)

            async def run(fn: Any = fn, name: str = name, client: Any = client) -> Any:
                return await fn(_Awaitable(client), official_models, name)

            try:
                answers[scenario, backend] = anyio.run(run)
            except Exception as e:  # noqa: BLE001 - kept: aqdrant is then held to the REST answer
                answers[scenario, backend] = e
        client.close()
    return answers


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_aqdrant_gives_the_official_clients_answer(server, official, scenario, backend, anyio_backend):
    reference = official[scenario, backend]
    if isinstance(reference, Exception):
        reference = official[scenario, "rest"]  # the official client fails here; aqdrant must not
    assert not isinstance(reference, Exception), f"the official client fails this scenario on REST too: {reference!r}"
    name = f"aq_{anyio_backend}_{backend}_{scenario}"
    async with aqdrant.AsyncQdrantClient(**options(server, backend)) as client:
        if await client.collection_exists(name):
            await client.delete_collection(name)
        got = await SCENARIOS[scenario](client, aqdrant.models, name)
    assert got == reference


def test_the_official_client_fails_where_aqdrant_must_not(official):
    # The suite can fail: on gRPC the official client itself refuses some of these scripts
    # (dict points, numpy scalars in payloads); aqdrant is held to its REST answer there.
    failures = {k for k, v in official.items() if isinstance(v, Exception)}
    assert ("dict_points_and_numpy", "grpc") in failures
    assert not {k for k in failures if k[1] == "rest"}
