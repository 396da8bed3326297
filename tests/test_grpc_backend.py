"""GrpcBackend against an in-process grpclib server built on the generated service bases.

The server runs in its own thread; the calls go over a real HTTP/2 connection from either loop:
grpclib's channel on asyncio, aqdrant's h2 channel on trio (both must behave the same).
"""

from __future__ import annotations

import contextlib
from typing import Any

import anyio
import numpy as np
import pytest
from grpc_servers import grpclib_thread

from aqdrant import models as m
from aqdrant._backend import Request
from aqdrant._operations import OPERATIONS
from aqdrant.errors import (
    DeadlineExceeded,
    NotFound,
    RateLimited,
    ServerError,
    TransportError,
    UnsupportedOperation,
)
from aqdrant.grpc import convert
from aqdrant.grpc._proto import qdrant as q
from aqdrant.grpc.backend import GrpcBackend

pytestmark = pytest.mark.anyio


class Points(q.PointsBase):
    def __init__(self) -> None:
        self.upserts: list[q.UpsertPoints] = []
        self.metadata: list[dict[str, str]] = []
        self.deadlines: list[Any] = []
        self.count_failures: list[tuple[Any, str | None]] = []

    async def upsert(self, message: q.UpsertPoints) -> q.PointsOperationResponse:
        self.upserts.append(message)
        return q.PointsOperationResponse(
            result=q.UpdateResult(operation_id=7, status=q.UpdateStatus.Completed)
        )

    async def query(self, message: q.QueryPoints) -> q.QueryResponse:
        vec = list(message.query.nearest.dense.data)
        return q.QueryResponse(
            result=[
                q.ScoredPoint(
                    id=q.PointId(num=i),
                    score=float(i),
                    version=1,
                    payload=convert.payload_to_grpc({"i": i, "limit": message.limit}),
                    vectors=q.VectorsOutput(vector=q.VectorOutput(dense=q.DenseVector(data=vec))),
                )
                for i in range(message.limit or 0)
            ]
        )

    async def scroll(self, message: q.ScrollPoints) -> q.ScrollResponse:
        await anyio.sleep(5)  # a stalled server
        return q.ScrollResponse()


class Collections(q.CollectionsBase):
    async def list(self, message: q.ListCollectionsRequest) -> q.ListCollectionsResponse:
        return q.ListCollectionsResponse(
            collections=[q.CollectionDescription(name="a"), q.CollectionDescription(name="b")]
        )

    async def get(self, message: q.GetCollectionInfoRequest) -> q.GetCollectionInfoResponse:
        import grpclib

        raise grpclib.GRPCError(
            grpclib.const.Status.NOT_FOUND, f"Collection `{message.collection_name}` doesn't exist!"
        )

    async def delete(self, message: q.DeleteCollection) -> q.CollectionOperationResponse:
        import grpclib

        raise grpclib.GRPCError(grpclib.const.Status.UNAVAILABLE, "try later")


class Raw:
    """Handlers written on grpclib's stream API: metadata capture, status with trailing metadata."""

    def __init__(self, points: Points) -> None:
        self.points = points

    async def count(self, stream: Any) -> None:
        from grpclib.const import Status

        await stream.recv_message()
        self.points.metadata.append(dict(stream.metadata))
        self.points.deadlines.append(stream.deadline)
        await stream.send_trailing_metadata(
            status=Status.RESOURCE_EXHAUSTED, status_message="rate limit", metadata={"retry-after": "2"}
        )

    def __mapping__(self) -> dict[str, Any]:
        from grpclib.const import Cardinality, Handler

        return {
            "/qdrant.Points/Count": Handler(
                self.count, Cardinality.UNARY_UNARY, q.CountPoints, q.CountResponse
            )
        }


@contextlib.asynccontextmanager
async def grpc_server():
    """The handlers above in a grpclib server on its own thread and asyncio loop, so the backend
    can be driven from either loop (grpclib's channel on asyncio, the h2 channel on trio)."""
    points = Points()
    with grpclib_thread([points, Collections(), Raw(points)], raw=False) as port:  # later mappings win
        yield port, points


def req(
    op: str, body: Any = None, *, collection: str | None = "c", query: dict | None = None, **kw: Any
) -> Request:
    return Request(
        op=OPERATIONS[op],
        path_params={"collection_name": collection} if collection else {},
        query=query or {},
        body=body,
        **kw,
    )


async def test_points_and_collections_over_grpc(anyio_backend) -> None:
    async with grpc_server() as (port, points):
        backend = GrpcBackend("127.0.0.1", port)
        try:
            mat = np.arange(12, dtype=np.float32).reshape(3, 4)
            body = m.PointsBatch(
                batch=m.Batch(ids=[1, 2, 3], vectors=mat, payloads=[{"a": 1}, None, {"b": "x"}])
            )
            res = await backend.execute(req("upsert_points", body, query={"wait": True}))
            assert res == m.UpdateResult(operation_id=7, status=m.UpdateStatus.COMPLETED)
            sent = points.upserts[0]
            assert sent.wait is True and sent.collection_name == "c"
            assert [list(p.vectors.vector.dense.data) for p in sent.points] == mat.tolist()
            assert convert.payload_from_grpc(sent.points[2].payload) == {"b": "x"}

            listed = m.PointsList(
                points=[m.PointStruct(id="5c56c793-69f3-4fbf-87e6-c4bf54c28c26", vector={"t": [1.0]})]
            )
            await backend.execute(req("upsert_points", listed))
            assert convert.point_struct_from_grpc(points.upserts[1].points[0]) == listed.points[0]

            qr = await backend.execute(
                req("query_points", m.QueryRequest(query=m.NearestQuery(nearest=[0.5, 0.25]), limit=2))
            )
            assert [p.id for p in qr.points] == [0, 1]
            assert qr.points[1].payload == {"i": 1, "limit": 2} and qr.points[1].vector == [0.5, 0.25]

            # cloud inference: Documents cannot take the fast encoder; they go as messages, over gRPC
            docs = m.PointsList(points=[m.PointStruct(id=9, vector=m.Document(text="hi", model="some/model"))])
            await backend.execute(req("upsert_points", docs))
            assert convert.point_struct_from_grpc(points.upserts[2].points[0]) == docs.points[0]

            assert await backend.execute(req("get_collections", collection=None)) == m.CollectionsResponse(
                collections=[m.CollectionDescription(name="a"), m.CollectionDescription(name="b")]
            )
        finally:
            await backend.aclose()


async def test_grpc_statuses_become_typed_errors(anyio_backend) -> None:
    async with grpc_server() as (port, points):
        backend = GrpcBackend("127.0.0.1", port)
        try:
            with pytest.raises(NotFound) as nf:
                await backend.execute(req("get_collection", collection="missing"))
            assert (
                nf.value.status_code == 404
                and "missing" in str(nf.value)
                and nf.value.collection == "missing"
            )
            assert nf.value.grpc_status.name == "NOT_FOUND"

            with pytest.raises(ServerError) as unavailable:
                await backend.execute(req("delete_collection"))
            assert unavailable.value.status_code == 503

            headers = {"api-key": "secret", "x-request-id": "r1"}
            deadline = anyio.current_time() + 30
            with pytest.raises(RateLimited) as limited:
                await backend.execute(
                    req("count_points", m.CountRequest(exact=True), headers=headers, deadline=deadline)
                )
            assert limited.value.status_code == 429 and limited.value.retry_after == 2.0
            assert points.metadata[0]["api-key"] == "secret" and points.metadata[0]["x-request-id"] == "r1"
            remaining = points.deadlines[0].time_remaining()
            assert 0 < remaining <= 30
        finally:
            await backend.aclose()


async def test_deadline_and_unreachable_server(anyio_backend) -> None:
    async with grpc_server() as (port, _):
        backend = GrpcBackend("127.0.0.1", port)
        try:
            with pytest.raises(DeadlineExceeded):
                await backend.execute(
                    req("scroll_points", m.ScrollRequest(), deadline=anyio.current_time() + 0.2)
                )
            # the connection stays usable after a call timed out
            assert (await backend.execute(req("get_collections", collection=None))).collections[0].name == "a"
        finally:
            await backend.aclose()
    with anyio.fail_after(10):
        down = GrpcBackend("127.0.0.1", port)
        with pytest.raises(TransportError):
            await down.execute(req("get_collections", collection=None))
        await down.aclose()


class _Stalled:
    async def execute(self, request: Request) -> Any:
        await anyio.sleep(30)

    async def aclose(self) -> None:
        pass


async def test_a_stalled_fallback_ends_at_the_deadline(anyio_backend) -> None:
    """bounds_deadline holds for the REST fallback too: the pipeline opens no scope of its own."""
    from aqdrant._pipeline import Pipeline

    backend = GrpcBackend("127.0.0.1", 1, fallback=_Stalled())  # type: ignore[arg-type]
    no_grpc = next(name for name, op in OPERATIONS.items() if op.grpc is None and op.body_kind != "multipart")
    with anyio.fail_after(10):
        with pytest.raises(DeadlineExceeded, match="deadline of 0.2 s exceeded"):
            await Pipeline(backend).execute(no_grpc, timeout=0.2)
        with pytest.raises(DeadlineExceeded):  # the backend alone
            await backend.execute(req(no_grpc, deadline=anyio.current_time() + 0.2))


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def execute(self, request: Request) -> Any:
        self.calls.append(request.op.name)
        return "from fallback"

    def stream(self, request: Request):  # pragma: no cover - not used
        raise NotImplementedError

    async def aclose(self) -> None:
        pass


async def test_operations_without_grpc_go_to_the_fallback(anyio_backend) -> None:
    rec = _Recorder()
    backend = GrpcBackend("127.0.0.1", 1, fallback=rec)
    no_grpc = next(name for name, op in OPERATIONS.items() if op.grpc is None and op.body_kind != "multipart")
    assert await backend.execute(req(no_grpc)) == "from fallback"
    # a shape convert.py does not cover (a snapshot without waiting) also falls back, on either loop
    assert await backend.execute(req("create_snapshot", query={"wait": False})) == "from fallback"
    assert rec.calls == [no_grpc, "create_snapshot"]
    with pytest.raises(UnsupportedOperation, match="no gRPC counterpart"):
        await GrpcBackend("127.0.0.1", 1).execute(req(no_grpc))
