"""The dev server's gRPC endpoint (aqdrant/server/grpc.py): statuses, auth, unimplemented methods.

grpclib is asyncio-only, so these run on asyncio; the endpoint shares the REST app's engine.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import dev_server_thread

from aqdrant.grpc._proto import qdrant as q
from aqdrant.server import main

# ``srv``: the dev server with gRPC, from tests/conftest.py


@pytest.fixture(scope="module")
def secured():
    with dev_server_thread(api_key="secret") as s:
        yield s


async def call(port: int, path: str, message: Any, reply_type: type, metadata: dict | None = None) -> Any:
    """One raw unary call; returns the parsed reply or raises grpclib's GRPCError."""
    from grpclib.client import Channel
    from grpclib.const import Cardinality

    from aqdrant.grpc._raw import RawCodec

    channel = Channel("127.0.0.1", port, codec=RawCodec())  # type: ignore[arg-type]
    try:
        async with channel.request(
            path, Cardinality.UNARY_UNARY, bytes, bytes, timeout=10, metadata=metadata
        ) as stream:
            await stream.send_message(bytes(message), end=True)
            return reply_type.parse(await stream.recv_message())  # type: ignore[attr-defined]
    finally:
        channel.close()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_statuses_and_unimplemented(srv, anyio_backend) -> None:
    from grpclib.const import Status
    from grpclib.exceptions import GRPCError

    port = srv.grpc_port
    health = await call(port, "/qdrant.Qdrant/HealthCheck", q.HealthCheckRequest(), q.HealthCheckReply)
    assert health.version == "1.19.0"

    create = q.CreateCollection(
        collection_name="st",
        vectors_config=q.VectorsConfig(params=q.VectorParams(size=2, distance=q.Distance.Dot)),
    )
    ok = await call(port, "/qdrant.Collections/Create", create, q.CollectionOperationResponse)
    assert ok.result is True
    with pytest.raises(GRPCError) as exists:
        await call(port, "/qdrant.Collections/Create", create, q.CollectionOperationResponse)
    assert exists.value.status == Status.ALREADY_EXISTS and "st" in exists.value.message

    with pytest.raises(GRPCError) as missing:
        await call(
            port,
            "/qdrant.Collections/Get",
            q.GetCollectionInfoRequest(collection_name="nope"),
            q.GetCollectionInfoResponse,
        )
    assert missing.value.status == Status.NOT_FOUND and "nope" in missing.value.message

    bad = q.UpsertPoints(
        collection_name="st",
        points=[
            q.PointStruct(
                id=q.PointId(num=1), vectors=q.Vectors(vector=q.Vector(dense=q.DenseVector(data=[1.0])))
            )
        ],
        wait=True,
    )
    with pytest.raises(GRPCError) as invalid:
        await call(port, "/qdrant.Points/Upsert", bad, q.PointsOperationResponse)
    assert invalid.value.status == Status.INVALID_ARGUMENT, invalid.value

    # methods with no conversion (or no operation at all): UNIMPLEMENTED naming the method,
    # the deprecated methods run as the query API (tests/test_fidelity_server.py): its answers,
    # its errors
    with pytest.raises(GRPCError) as missing_example:
        await call(
            port,
            "/qdrant.Points/Recommend",
            q.RecommendPoints(collection_name="st", positive=[q.PointId(num=1)], limit=1),
            q.RecommendResponse,
        )
    assert missing_example.value.status == Status.NOT_FOUND
    # the engine has no snapshots: read and run, then refused as UNIMPLEMENTED (as REST's 501)
    with pytest.raises(GRPCError) as snap:
        await call(
            port,
            "/qdrant.Snapshots/List",
            q.ListSnapshotsRequest(collection_name="st"),
            q.ListSnapshotsResponse,
        )
    assert snap.value.status == Status.UNIMPLEMENTED
    # a shape the conversion does not read is UNIMPLEMENTED too
    batch = q.QueryBatchPoints(
        collection_name="st",
        query_points=[q.QueryPoints(collection_name="st", read_consistency=q.ReadConsistency(factor=2))],
    )
    with pytest.raises(GRPCError) as shape:
        await call(port, "/qdrant.Points/QueryBatch", batch, q.QueryBatchResponse)
    assert shape.value.status == Status.UNIMPLEMENTED and "inside a query batch" in shape.value.message
    assert srv.grpc.calls["Points.Recommend"] == 1 and srv.grpc.calls["Collections.Create"] == 2
    # the server still answers after all that
    listed = await call(
        port, "/qdrant.Collections/List", q.ListCollectionsRequest(), q.ListCollectionsResponse
    )
    assert "st" in [c.name for c in listed.collections]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_api_key_metadata(secured, anyio_backend) -> None:
    from grpclib.const import Status
    from grpclib.exceptions import GRPCError

    from aqdrant import AsyncQdrantClient
    from aqdrant.errors import UnexpectedResponse

    port = secured.grpc_port
    path, msg = "/qdrant.Collections/List", q.ListCollectionsRequest()
    with pytest.raises(GRPCError) as none:
        await call(port, path, msg, q.ListCollectionsResponse)
    assert none.value.status == Status.UNAUTHENTICATED
    with pytest.raises(GRPCError) as wrong:
        await call(port, path, msg, q.ListCollectionsResponse, {"api-key": "nope"})
    assert wrong.value.status == Status.PERMISSION_DENIED
    assert (await call(port, path, msg, q.ListCollectionsResponse, {"api-key": "secret"})).collections == []
    bearer = {"authorization": "Bearer secret"}
    assert (await call(port, path, msg, q.ListCollectionsResponse, bearer)).collections == []

    before = secured.grpc.calls["Collections.List"]
    async with AsyncQdrantClient(url=secured.url, prefer_grpc=True, grpc_port=port, api_key="secret") as c:
        assert (await c.get_collections()).collections == []
    async with AsyncQdrantClient(url=secured.url, prefer_grpc=True, grpc_port=port, api_key="bad") as c:
        with pytest.raises(UnexpectedResponse) as denied:
            await c.get_collections()
    assert denied.value.status_code == 403
    assert secured.grpc.calls["Collections.List"] == before + 2


def test_cli_flags(monkeypatch) -> None:
    """``--grpc-port``/``--no-grpc`` reach create_app (the server itself is not run here)."""
    import aqdrant.server as server_mod

    seen: dict[str, Any] = {}

    def fake_create_app(path: Any, api_key: Any = None, grpc_sock: Any = None, **kw: Any) -> Any:
        seen["grpc_sock"] = grpc_sock
        return object()

    class FakeServer:
        started = True

        def run(self, sockets: Any) -> None:
            seen["sockets"] = sockets

    monkeypatch.setattr(server_mod, "create_app", fake_create_app)
    monkeypatch.setattr(server_mod, "make_server", lambda app, **kw: FakeServer())
    assert main(["--port", "0", "--grpc-port", "0"]) == 0
    assert seen["grpc_sock"] is not None and seen["grpc_sock"].getsockname()[1] != 0
    seen["grpc_sock"].close()
    assert main(["--port", "0", "--no-grpc"]) == 0
    assert seen["grpc_sock"] is None
    for s in seen["sockets"]:
        s.close()
    assert server_mod._parser().parse_args([]).grpc_port == 6334


class _EngineDown:
    """A backend whose engine process is down (what LocalBackend raises while it restarts)."""

    async def execute(self, request: Any) -> Any:
        from aqdrant.errors import TransportError

        raise TransportError("the engine process exited", sent=True)

    async def aclose(self) -> None:
        pass


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_an_engine_that_is_down_is_unavailable_not_internal(anyio_backend) -> None:
    # UNAVAILABLE is what a client (and aqdrant's ingestion) waits out; INTERNAL would be a rejection
    from grpclib.const import Status
    from grpclib.exceptions import GRPCError

    with dev_server_thread(backend=_EngineDown()) as down:
        with pytest.raises(GRPCError) as error:
            await call(down.grpc_port, "/qdrant.Collections/List", q.ListCollectionsRequest(), q.ListCollectionsResponse)
    assert error.value.status == Status.UNAVAILABLE and "engine process exited" in error.value.message
