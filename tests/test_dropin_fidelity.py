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
            await client.create_collection(
                name, vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT)
            )
        first = await client.upsert("a", _points(models))
        second = await client.upsert("a", _points(models))
        other = await client.upsert("b", _points(models))
        await client.delete_collection("a")
        await client.create_collection(
            "a", vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT)
        )
        recreated = await client.upsert("a", _points(models))
    assert (first.operation_id, second.operation_id, other.operation_id, recreated.operation_id) == (
        0,
        1,
        0,
        0,
    )

    oracle = qdrant_client.QdrantClient(":memory:")
    oracle.create_collection("a", vectors_config=qm.VectorParams(size=4, distance=qm.Distance.DOT))
    assert oracle.upsert("a", _points(qm)).operation_id == first.operation_id


@pytest.mark.parametrize("prefer_grpc", [False, True], ids=["rest", "grpc"])
async def test_first_update_of_a_collection_is_operation_0_server(dev_server, prefer_grpc):
    async with aqdrant.AsyncQdrantClient(
        url=dev_server.url, grpc_port=dev_server.grpc_port, prefer_grpc=prefer_grpc
    ) as client:
        name = f"opid_{prefer_grpc}"
        await client.create_collection(
            name, vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT)
        )
        try:
            assert (await client.upsert(name, _points(models), wait=True)).operation_id == 0
            assert (await client.upsert(name, _points(models), wait=True)).operation_id == 1
        finally:
            await client.delete_collection(name)


# -- a storage folder held by another local client: the official message, which callers match


@pytest.mark.parametrize(
    "cls", [aqdrant.QdrantClient, qdrant_client.QdrantClient], ids=["aqdrant", "official"]
)
def test_second_local_client_on_one_path_names_the_official_phrase(cls):
    with tempfile.TemporaryDirectory() as tmp:
        first = cls(path=tmp)
        try:
            with pytest.raises(Exception, match="already accessed by another instance"):
                cls(path=tmp)
        finally:
            first.close()


# -- the official client's (pydantic) models, from a models import left unchanged


def _server_client(dev_server, prefer_grpc):
    return aqdrant.AsyncQdrantClient(
        url=dev_server.url, grpc_port=dev_server.grpc_port, prefer_grpc=prefer_grpc
    )


@pytest.fixture(params=["local", "rest", "grpc"])
async def client(request, dev_server):
    if request.param == "local":
        c = aqdrant.AsyncQdrantClient(":memory:")
    else:
        c = _server_client(dev_server, request.param == "grpc")
    name = "pyd"
    async with c:
        if await c.collection_exists(name):
            await c.delete_collection(name)
        # a dict of official models (vectors_config={"text": VectorParams(...)}): refused before
        await c.create_collection(
            name,
            vectors_config={"text": qm.VectorParams(size=2, distance=qm.Distance.DOT)},
            sparse_vectors_config={"sp": qm.SparseVectorParams()},
        )
        yield c
        await c.delete_collection(name)


async def test_official_models_as_arguments(client):
    name = "pyd"
    batch = qm.Batch(
        ids=[1, 2, 3],
        vectors={"text": [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]},
        payloads=[{"k": "a"}, {"k": "b"}, {"k": "c"}],
    )
    assert (await client.upsert(name, batch, wait=True)).status == models.UpdateStatus.COMPLETED
    assert (await client.count(name)).count == 3
    # MatchExcept's field is `except_` in Python, `except` on the wire (pydantic alias)
    flt = qm.Filter(must=[qm.FieldCondition(key="k", match=qm.MatchExcept(**{"except": ["a"]}))])
    assert (await client.count(name, count_filter=flt)).count == 2
    # a Filter as the points selector (iterating a pydantic model yields (field, value) pairs)
    await client.set_payload(name, payload={"x": 1}, points=flt, wait=True)
    await client.delete_payload(
        name, keys=["x"], points=qm.Filter(must=[qm.HasIdCondition(has_id=[2])]), wait=True
    )
    got = {p.id: p.payload for p in await client.retrieve(name, [1, 2, 3])}
    assert got == {1: {"k": "a"}, 2: {"k": "b"}, 3: {"k": "c", "x": 1}}


async def test_upload_collection_takes_endless_payload_and_id_iterators(client):
    import itertools

    await client.upload_collection(
        "pyd",
        vectors={"text": [[1.0, 0.0], [0.0, 1.0]]},
        payload=itertools.cycle([{"k": 1}]),
        ids=itertools.count(10),
        wait=True,
    )
    assert sorted(p.id for p in (await client.scroll("pyd"))[0]) == [10, 11]


async def test_timedelta_payload_is_stored_as_the_official_client_stores_it(client):
    import datetime

    from pydantic import TypeAdapter

    deltas = [
        datetime.timedelta(seconds=1),
        datetime.timedelta(days=400, seconds=5, microseconds=500000),
        datetime.timedelta(hours=-25, microseconds=3),
        datetime.timedelta(0),
    ]
    await client.upsert("pyd", [models.PointStruct(id=1, vector={"text": [1.0, 0.0]})], wait=True)
    await client.set_payload("pyd", payload={"d": deltas}, points=[1], wait=True)
    stored = (await client.retrieve("pyd", [1]))[0].payload["d"]
    assert stored == [TypeAdapter(datetime.timedelta).dump_python(d, mode="json") for d in deltas]
    assert stored[0] == "PT1S"


# -- input the server refuses, caught before sending: an UnexpectedResponse as the server's
#    answer is for the official client (and still a ValidationError / ValueError)


async def test_refused_input_is_an_unexpected_response(client):
    with pytest.raises(aqdrant.UnexpectedResponse, match="Not existing vector name error: nope") as e:
        await client.upsert("pyd", [models.PointStruct(id=1, vector={"nope": [1.0, 0.0]})])
    assert e.value.status_code == 400 and isinstance(e.value, ValueError)
    with pytest.raises(aqdrant.UnexpectedResponse, match="Vector dimension error: expected dim: 2, got 3"):
        await client.upsert("pyd", [models.PointStruct(id=1, vector={"text": [1.0, 0.0, 0.0]})])
    with pytest.raises(aqdrant.UnexpectedResponse, match="Invalid json path") as e:
        await client.set_payload("pyd", payload={"a": 1}, points=[1], key="")
    assert e.value.status_code == 400 and isinstance(e.value, aqdrant.ValidationError)
    with pytest.raises(aqdrant.UnexpectedResponse) as e:
        await client.query_points("pyd", query=[1.0, 0.0], using="text", limit=0)
    assert e.value.status_code == 422


# -- one closed-client error for both clients: the blocking client's is aqdrant.ClientClosedError


def test_closed_blocking_client_raises_aqdrant_client_closed_error():
    client = aqdrant.QdrantClient(":memory:")
    client.close()
    with pytest.raises(aqdrant.ClientClosedError):
        client.get_collections()
    with pytest.raises(aqdrant.QdrantError):
        client.get_collections()


# -- local mode: a missing or existing collection is also a ValueError (official local mode)


async def test_local_mode_collection_errors_are_value_errors():
    async with aqdrant.AsyncQdrantClient(":memory:") as client:
        params = models.VectorParams(size=2, distance=models.Distance.DOT)
        await client.create_collection("dup", vectors_config=params)
        with pytest.raises(ValueError, match="already exists") as e:
            await client.create_collection("dup", vectors_config=params)
        assert isinstance(e.value, aqdrant.Conflict) and e.value.status_code == 409
        with pytest.raises(ValueError) as e:
            await client.get_collection("missing")
        assert isinstance(e.value, aqdrant.NotFound)
    oracle = qdrant_client.QdrantClient(":memory:")
    oracle.create_collection("dup", vectors_config=qm.VectorParams(size=2, distance=qm.Distance.DOT))
    with pytest.raises(ValueError, match="already exists"):
        oracle.create_collection("dup", vectors_config=qm.VectorParams(size=2, distance=qm.Distance.DOT))
    with pytest.raises(ValueError):
        oracle.get_collection("missing")


# -- the dev server takes compressed gRPC requests (grpc_compression=Compression.Gzip), as Qdrant


@pytest.mark.parametrize("which", ["official", "aqdrant"])
def test_dev_server_takes_gzip_compressed_grpc_requests(dev_server, which):
    import grpc

    cls = qdrant_client.QdrantClient if which == "official" else aqdrant.QdrantClient
    client = cls(
        url=dev_server.url,
        grpc_port=dev_server.grpc_port,
        prefer_grpc=True,
        grpc_compression=grpc.Compression.Gzip,
    )
    name = f"gz_{which}"
    try:
        client.create_collection(name, vectors_config=qm.VectorParams(size=3, distance=qm.Distance.DOT))
        client.upsert(name, [qm.PointStruct(id=i, vector=[float(i), 1.0, 2.0]) for i in range(50)], wait=True)
        assert client.count(name).count == 50
        client.delete_collection(name)
    finally:
        client.close()


# -- a blocking client collected inside a running event loop is closed from a thread; a close that
#    fails there (at interpreter exit the loop's sockets may be finalized first) leaves no traceback


def test_finalizer_close_thread_never_raises(monkeypatch):
    import asyncio
    import gc
    import threading

    from aqdrant.sync_shim._runner import Runner

    seen: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: seen.append(args.exc_value))
    real_close = Runner.close

    def failing_close(self):
        real_close(self)
        raise ValueError("Invalid file descriptor: -1")

    monkeypatch.setattr(Runner, "close", failing_close)

    async def drop_client():
        client = aqdrant.QdrantClient(":memory:")
        client.get_collections()
        del client
        gc.collect()

    asyncio.run(drop_client())
    for t in threading.enumerate():
        if t.name == "aqdrant-QdrantClient-close":
            t.join(30)
    assert seen == []


# -- upload_points / upload_collection rejected by the server: an UnexpectedResponse with its
#    status, as the official client's uploader raises (and still the IngestError with the report)


async def test_rejected_upload_is_an_unexpected_response(client):
    from aqdrant.ingest import IngestError

    for call in (
        lambda: client.upload_collection("pyd", vectors=[{"nope": [0.1, 0.2]}], wait=True),
        lambda: client.upload_points(
            "pyd", [models.PointStruct(id=1, vector={"nope": [0.1, 0.2]})], wait=True
        ),
    ):
        with pytest.raises(aqdrant.UnexpectedResponse, match="Not existing vector name") as e:
            await call()
        assert e.value.status_code == 400 and isinstance(e.value, IngestError) and e.value.report.failed == 1


@pytest.mark.filterwarnings("ignore:Batch upload failed")  # the official uploader's retries
def test_rejected_upload_official_oracle(dev_server):
    from qdrant_client.http.exceptions import UnexpectedResponse as OfficialUnexpectedResponse

    oracle = qdrant_client.QdrantClient(url=dev_server.url)
    try:
        oracle.create_collection(
            "up_oracle", vectors_config={"text": qm.VectorParams(size=2, distance=qm.Distance.DOT)}
        )
        with pytest.raises(OfficialUnexpectedResponse, match="Not existing vector name") as e:
            oracle.upload_collection("up_oracle", vectors=[{"nope": [0.1, 0.2]}], wait=True)
        assert e.value.status_code == 400
    finally:
        oracle.delete_collection("up_oracle")
        oracle.close()
