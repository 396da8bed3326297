"""The client accepts what the official client accepts (issue 18): one deadline for the first
call's version check, a token asked once, the vector-size cache, grpc_compression, migrate,
init_options, the error hierarchy, secrets out of every log, warnings at the caller's line."""

from __future__ import annotations

import gzip
import io
import itertools
import logging
import warnings
from typing import Any

import anyio
import numpy as np
import pytest
from fault_server import FaultServer, Reply, Stall, envelope

import aqdrant
from aqdrant import AsyncQdrantClient, QdrantClient, models
from aqdrant.errors import ClientClosedError, DeadlineExceeded, QdrantError, ValidationError
from aqdrant.server import ServerThread

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def server():
    with ServerThread(grpc_port=0) as srv:
        yield srv


def clients(srv: ServerThread) -> dict[str, dict[str, Any]]:
    return {
        "memory": {"location": ":memory:"},
        "rest": {"url": srv.url},
        "grpc": {"url": srv.url, "prefer_grpc": True, "grpc_port": srv.grpc_port},
    }


BACKENDS = ["memory", "rest", "grpc"]


# ---- the first call's version check lives inside the call's one deadline ------------------------


async def test_version_check_is_inside_the_first_calls_deadline(monkeypatch):
    import aqdrant.client as client_module

    # the check's own cap made huge: only the call's deadline can end it
    monkeypatch.setattr(client_module, "COMPAT_CHECK_TIMEOUT", 10_000.0)
    with FaultServer() as fs:
        fs.default = Stall(60)
        async with AsyncQdrantClient(url=fs.url) as client:
            with anyio.fail_after(30):  # a hang guard, not a timing assertion
                with pytest.raises(DeadlineExceeded):
                    await client.get_collections(timeout=0.5)
        assert fs.requests[0].path == "/"  # the check was made, and cut by the call's deadline


def test_version_check_is_inside_the_deadline_blocking(monkeypatch):
    import aqdrant.client as client_module

    monkeypatch.setattr(client_module, "COMPAT_CHECK_TIMEOUT", 10_000.0)
    with FaultServer() as fs:
        fs.default = Stall(60)
        with QdrantClient(url=fs.url, timeout=0.5) as client:
            with pytest.raises(DeadlineExceeded):
                client.get_collections()


async def test_token_provider_is_asked_once_on_the_first_call():
    asked = []

    def provider() -> str:
        asked.append(1)
        return f"token-{len(asked)}"

    with FaultServer() as fs:
        fs.default = Reply(200, body=envelope({"collections": []}))
        fs.push(Reply(200, body={"title": "qdrant", "version": "1.19.0"}))
        async with AsyncQdrantClient(url=fs.url, auth_token_provider=provider) as client:
            await client.get_collections()
            assert len(asked) == 1
            await client.get_collections()
            assert len(asked) == 2
        # the version check and the first call carried the same token
        assert [r.headers.get("authorization") for r in fs.requests] == [
            "Bearer token-1",
            "Bearer token-1",
            "Bearer token-2",
        ]


# ---- the vector-size cache ----------------------------------------------------------------------


async def test_vector_size_cache_single_flight_and_refresh(server):
    async with AsyncQdrantClient(url=server.url) as a, AsyncQdrantClient(url=server.url) as b:
        if await a.collection_exists("cache"):
            await a.delete_collection("cache")
        await a.create_collection("cache", vectors_config=models.VectorParams(size=2, distance="Dot"))
        fetched = []
        real = a._get_vectors_config

        async def counting(name: str) -> Any:
            fetched.append(name)
            return await real(name)

        a._validator._get_params = counting
        async with anyio.create_task_group() as tg:
            for i in range(50):
                tg.start_soon(lambda i=i: a.upsert("cache", [models.PointStruct(id=i, vector=[1.0, 2.0])]))
        assert fetched == ["cache"]  # 50 concurrent first upserts, one fetch
        # another client recreates the collection with another size: a's cache is stale
        await b.delete_collection("cache")
        await b.create_collection("cache", vectors_config=models.VectorParams(size=3, distance="Dot"))
        await a.upsert("cache", [models.PointStruct(id=1, vector=[1.0, 2.0, 3.0])])
        assert fetched == ["cache", "cache"]
        # a wrong size is still refused, naming the point, after one refetch at most
        with pytest.raises(ValidationError, match="point 2"):
            await a.upsert("cache", [models.PointStruct(id=2, vector=[1.0, 2.0])])
        assert len(fetched) == 3


# ---- grpc_compression ----------------------------------------------------------------------------


class _GzipUpsert:
    """A gRPC Upsert handler that reads the request frame raw (grpclib cannot decompress)."""

    def __init__(self) -> None:
        self.frames: list[tuple[int, bytes]] = []

    def __mapping__(self) -> dict[str, Any]:
        from grpclib.const import Cardinality, Handler

        return {"/qdrant.Points/Upsert": Handler(self.upsert, Cardinality.UNARY_UNARY, bytes, bytes)}

    async def upsert(self, stream: Any) -> None:
        from aqdrant.grpc._proto import qdrant as q

        head = await stream._stream.recv_data(5)
        body = await stream._stream.recv_data(int.from_bytes(head[1:5], "big"))
        self.frames.append((head[0], body))
        result = q.UpdateResult(operation_id=7, status=q.UpdateStatus.Completed)
        await stream.send_message(bytes(q.PointsOperationResponse(result=result, time=0.0)))


@pytest.mark.parametrize("compression", ["gzip", "Gzip"])
async def test_grpc_compression_sends_gzip_messages(compression):
    from grpc_servers import grpclib_thread

    from aqdrant.grpc._proto import qdrant as q

    class Compression:  # what grpc.Compression.Gzip looks like (an enum member with a name)
        name = "Gzip"

    handler = _GzipUpsert()
    value = Compression() if compression == "Gzip" else compression
    with grpclib_thread([handler]) as port:
        async with AsyncQdrantClient(
            url="http://127.0.0.1:9",
            prefer_grpc=True,
            grpc_port=port,
            grpc_compression=value,
            check_compatibility=False,
            validate_vectors=False,
        ) as client:
            res = await client.upsert("c", [models.PointStruct(id=1, vector=[0.5, 0.25], payload={"k": "v"})])
    assert res.operation_id == 7
    flag, body = handler.frames[0]
    assert flag == 1  # the compressed-message flag
    msg = q.UpsertPoints.parse(gzip.decompress(body))
    assert msg.collection_name == "c" and msg.points[0].payload["k"].string_value == "v"


def test_grpc_compression_refuses_unknown_values():
    with pytest.raises(ValueError, match="grpc_compression"):
        AsyncQdrantClient(url="http://localhost", prefer_grpc=True, grpc_compression="brotli")


# ---- migrate and init_options --------------------------------------------------------------------


@pytest.mark.parametrize("dest", ["rest", "grpc"])
async def test_migrate_memory_to_server(server, dest):
    name = f"mig_{dest}"
    async with AsyncQdrantClient(":memory:") as src, AsyncQdrantClient(**clients(server)[dest]) as dst:
        if await dst.collection_exists(name):
            await dst.delete_collection(name)
        await src.create_collection(
            name,
            vectors_config={"a": models.VectorParams(size=3, distance=models.Distance.COSINE)},
            sparse_vectors_config={"s": models.SparseVectorParams()},
            metadata={"owner": "team-a"},
        )
        await src.create_payload_index(name, "k", models.PayloadSchemaType.KEYWORD)
        points = [
            models.PointStruct(
                id=i,
                vector={"a": [0.1, 0.2, float(i)], "s": models.SparseVector(indices=[i], values=[0.5])},
                payload={"k": str(i)},
            )
            for i in range(130)
        ]
        await src.upsert(name, points)
        await src.migrate(dst, collection_names=[name], batch_size=50)
        assert (await dst.count(name)).count == 130
        info = await dst.get_collection(name)
        assert set(info.payload_schema) == {"k"} and set(info.config.params.sparse_vectors) == {"s"}
        assert info.config.metadata == {"owner": "team-a"}
        got = await dst.retrieve(name, [7], with_vectors=True)
        want = await src.retrieve(name, [7], with_vectors=True)  # cosine vectors are stored normalised
        assert got[0].payload == {"k": "7"} and got[0].vector["a"] == pytest.approx(want[0].vector["a"])
        assert got[0].vector["s"] == want[0].vector["s"]
        with pytest.raises(ValidationError, match="recreate_on_collision"):
            await src.migrate(dst, collection_names=[name])
        await src.migrate(dst, collection_names=[name], recreate_on_collision=True)
        assert (await dst.count(name)).count == 130


def test_migrate_between_blocking_clients_and_to_the_official_client(server):
    import qdrant_client

    with QdrantClient(":memory:") as src, QdrantClient(url=server.url) as dst:
        src.create_collection("mig_sync", vectors_config=models.VectorParams(size=2, distance="Dot"))
        src.upsert("mig_sync", [models.PointStruct(id=1, vector=[1.0, 2.0], payload={"x": 1})])
        src.migrate(dst, recreate_on_collision=True)
        assert dst.retrieve("mig_sync", [1], with_vectors=True)[0].vector == [1.0, 2.0]
        official = qdrant_client.QdrantClient(url=server.url)
        src.migrate(official, recreate_on_collision=True)
        assert official.retrieve("mig_sync", [1])[0].payload == {"x": 1}
        official.close()


async def test_init_options_make_a_twin_and_hide_the_key():
    async with AsyncQdrantClient(url="http://localhost:6333", api_key="k-e-y", timeout=3) as c:
        opts = c.init_options
        assert opts["url"] == "http://localhost:6333" and opts["timeout"] == 3 and opts["api_key"] == "k-e-y"
        assert "k-e-y" not in repr(opts)
        async with AsyncQdrantClient(**opts) as twin:
            assert twin.init_options == opts


# ---- errors ---------------------------------------------------------------------------------------


async def test_closed_client_and_model_errors_are_qdrant_errors():
    client = AsyncQdrantClient(":memory:")
    await client.close()
    with pytest.raises(ClientClosedError) as ei:
        await client.get_collections()
    assert isinstance(ei.value, QdrantError)
    with pytest.raises(QdrantError):
        models.PointStruct(id=1, vector="not a vector")
    with pytest.raises(ValidationError):
        models.Filter.model_validate({"must": [{"key": 1, "match": {"value": 2}}]})


@pytest.mark.parametrize("backend", BACKENDS)
async def test_filters_are_checked_before_sending(server, backend):
    async with AsyncQdrantClient(**clients(server)[backend]) as client:
        name = f"flt_{backend}"
        if await client.collection_exists(name):
            await client.delete_collection(name)
        await client.create_collection(name, vectors_config=models.VectorParams(size=2, distance="Dot"))
        bad = models.Filter(must=[models.FieldCondition(key=123, match=models.MatchValue(value=1))])
        with pytest.raises(ValidationError, match="query_filter") as ei:
            await client.query_points(name, query=[1.0, 0.0], query_filter=bad)
        assert ei.value.path == "$.filter.must[0].key"
        with pytest.raises(ValidationError, match="scroll_filter"):
            await client.scroll(name, scroll_filter={"must": [{"key": "a", "match": {"value": [1]}}]})
        deep = models.Filter(must=[models.FieldCondition(key="a", match=models.MatchValue(value=1))])
        for _ in range(100):
            deep = models.Filter(must=[deep])
        with pytest.raises(ValidationError, match="nested"):
            await client.count(name, count_filter=deep)
        # a deep filter within the limit is sent and answered
        ok = models.Filter(must=[models.FieldCondition(key="a", match=models.MatchValue(value=1))])
        for _ in range(40):
            ok = models.Filter(must=[ok])
        assert (await client.count(name, count_filter=ok)).count == 0


@pytest.mark.parametrize("backend", BACKENDS)
async def test_non_finite_query_vectors_are_refused_on_every_backend(server, backend):
    async with AsyncQdrantClient(**clients(server)[backend]) as client:
        name = f"nan_{backend}"
        if not await client.collection_exists(name):
            await client.create_collection(name, vectors_config=models.VectorParams(size=2, distance="Cosine"))
        for query in (
            [float("nan"), 1.0],
            np.array([np.inf, 1.0]),
            models.NearestQuery(nearest=[1.0, float("-inf")]),
            models.RecommendQuery(recommend=models.RecommendInput(positive=[[float("nan"), 1.0]])),
        ):
            with pytest.raises(ValidationError, match="NaN or infinity"):
                await client.query_points(name, query=query)
        with pytest.raises(ValidationError, match="prefetch"):
            await client.query_points(name, query=[1.0, 1.0], prefetch=models.Prefetch(query=[float("nan"), 1.0]))
        with pytest.raises(ValidationError):
            await client.query_batch_points(name, [models.QueryRequest(query=[float("nan"), 1.0])])


async def test_upload_collection_takes_an_unbounded_id_iterator():
    async with AsyncQdrantClient(":memory:") as client:
        await client.create_collection("ids", vectors_config=models.VectorParams(size=2, distance="Dot"))
        await client.upload_collection("ids", np.ones((5, 2)), ids=itertools.count())
        await client.upload_collection("ids", [[1.0, 2.0]] * 3, ids=itertools.count(100))
        await client.upload_collection(
            "ids", ([1.0, float(i)] for i in range(2)), ids=itertools.count(200), payload=({"i": i} for i in itertools.count())
        )
        records, _ = await client.scroll("ids", limit=100)
        assert sorted(r.id for r in records) == [0, 1, 2, 3, 4, 100, 101, 102, 200, 201]


# ---- no logger ever sees a credential --------------------------------------------------------------


@pytest.mark.parametrize("transport", ["rest", "grpc"])
async def test_debug_logging_of_every_logger_never_shows_the_api_key(transport):
    key = "sEcReT-aPi-KeY-0123456789"
    token = "tOkEn-9876543210-provided"
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    saved = {name: logging.getLogger(name).level for name in list(logging.root.manager.loggerDict)}
    saved_root = root.level
    with ServerThread(grpc_port=0, api_key=key) as srv:
        kw: dict[str, Any] = {"url": srv.url}
        if transport == "grpc":
            kw.update(prefer_grpc=True, grpc_port=srv.grpc_port)
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
        for name in list(logging.root.manager.loggerDict):
            logging.getLogger(name).setLevel(logging.DEBUG)
        try:
            async with AsyncQdrantClient(api_key=key, **kw) as client:
                await client.create_collection("logs", vectors_config=models.VectorParams(size=2, distance="Dot"))
                await client.upsert("logs", [models.PointStruct(id=1, vector=[1.0, 2.0])])
                await client.query_points("logs", query=[1.0, 2.0])
                await client.delete_collection("logs")
            async with AsyncQdrantClient(auth_token_provider=lambda: token, **kw) as client:
                with pytest.raises(aqdrant.Unauthorized):
                    await client.get_collections()
        finally:
            root.removeHandler(handler)
            root.setLevel(saved_root)
            for name, level in saved.items():
                logging.getLogger(name).setLevel(level)
    text = buf.getvalue()
    assert "DEBUG" in text and len(text) > 1000  # the loggers did write (the test can fail)
    if transport == "grpc":
        assert "hpack" in text  # the header encoder's records, redacted
    assert key not in text and token not in text


# ---- warnings point at the caller's line -------------------------------------------------------------


async def test_local_mode_warnings_point_at_the_callers_line():
    async with AsyncQdrantClient(":memory:") as client:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            await client.create_collection("w", vectors_config=models.VectorParams(size=2, distance="Dot"), shard_number=2)
    assert caught and all(w.filename == __file__ for w in caught), [(w.filename, w.lineno) for w in caught]


def test_local_mode_warnings_point_at_the_callers_line_blocking():
    with QdrantClient(":memory:") as client:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            client.create_collection("w", vectors_config=models.VectorParams(size=2, distance="Dot"), shard_number=2)
    assert caught and all(w.filename == __file__ for w in caught), [(w.filename, w.lineno) for w in caught]


# ---- numpy scalars and dicts anywhere a number or a model is expected ------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
async def test_numpy_scalars_and_dicts_in_any_argument(server, backend):
    async with AsyncQdrantClient(**clients(server)[backend]) as client:
        name = f"np_{backend}"
        if await client.collection_exists(name):
            await client.delete_collection(name)
        await client.create_collection(name, vectors_config={"size": 3, "distance": "Cosine"}, hnsw_config={"m": 8})
        await client.upsert(name, [models.PointStruct(id=np.int64(5), vector=list(np.arange(1, 4, dtype=np.float64)), payload={"n": np.int32(2), "f": np.float32(0.5), "ok": np.bool_(True), "arr": np.arange(2)})])
        await client.upsert(name, models.Batch(ids=list(np.arange(10, 12)), vectors=np.ones((2, 3)).tolist()))
        await client.upsert(name, [{"id": 20, "vector": [0.5, 0.5, 1.0], "payload": {"k": "v"}}])
        res = await client.query_points(
            name,
            query=list(np.array([1.0, 2.0, 3.0])),
            limit=np.int64(2),
            score_threshold=np.float32(0.1),
            search_params={"hnsw_ef": 16, "exact": True},
            prefetch=[{"query": [1.0, 2.0, 3.0], "limit": 5}],
        )
        assert [p.id for p in res.points][0] == 5
        got = await client.retrieve(name, [np.int64(5)])
        assert got[0].payload == {"n": 2, "f": 0.5, "ok": True, "arr": [0, 1]}
        await client.delete(name, points_selector={"points": [10]})
        await client.set_payload(name, {"z": 1}, points={"must": [{"key": "k", "match": {"value": "v"}}]})
        assert (await client.retrieve(name, [20]))[0].payload == {"k": "v", "z": 1}
        assert (await client.count(name)).count == 3
        batch = await client.query_batch_points(name, [{"query": [1.0, 2.0, 3.0], "limit": 1}])
        assert batch[0].points[0].id == 5


@pytest.mark.parametrize("backend", BACKENDS)
async def test_the_official_clients_model_instances_are_accepted(server, backend):
    # a migration half done: some files still import the official models
    from qdrant_client import models as qm

    async with AsyncQdrantClient(**clients(server)[backend]) as client:
        name = f"qm_{backend}"
        if await client.collection_exists(name):
            await client.delete_collection(name)
        await client.create_collection(
            name, vectors_config=qm.VectorParams(size=2, distance=qm.Distance.DOT), hnsw_config=qm.HnswConfigDiff(m=8)
        )
        await client.upsert(name, [qm.PointStruct(id=1, vector=[1.0, 2.0], payload={"a": 1})])
        res = await client.query_points(
            name,
            query=qm.NearestQuery(nearest=[1.0, 1.0]),
            query_filter=qm.Filter(must=[qm.FieldCondition(key="a", match=qm.MatchValue(value=1))]),
            search_params=qm.SearchParams(hnsw_ef=8),
        )
        assert [(p.id, p.score, p.payload) for p in res.points] == [(1, 3.0, {"a": 1})]
