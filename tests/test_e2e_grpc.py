"""End-to-end over gRPC: ``AsyncQdrantClient(url=..., prefer_grpc=True, grpc_port=...)`` against the
dev server's gRPC endpoint, compared call by call with the same scenario over REST and on
``:memory:``; and fault injection on the gRPC path through the client's pipeline (retries on
UNAVAILABLE, RESOURCE_EXHAUSTED with the server's retry delay, a stalled reply vs the deadline).

grpclib is asyncio-only, so everything here runs on asyncio (under trio the client uses REST and
says so: tests/test_grpc_trio.py).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections import Counter
from typing import Any

import numpy as np
import pytest

from aqdrant import AsyncQdrantClient, RetryPolicy, models
from aqdrant.errors import BadRequest, Conflict, DeadlineExceeded, NotFound, RateLimited, ServerError
from aqdrant.grpc._proto import qdrant as q
from aqdrant.server import ServerThread

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("anyio_backend", ["asyncio"])]

N = 30
DIM = 8
GROUPS = ("a", "b", "c")


@pytest.fixture(scope="module")
def srv():
    with ServerThread(grpc_port=0) as s:
        yield s


def vec(i: int) -> list[float]:
    return [math.cos(i + k) * (1 + k / DIM) for k in range(DIM)]


def payload(i: int) -> dict[str, Any]:
    return {"group": GROUPS[i % 3], "n": i, "even": i % 2 == 0, "tags": [f"t{i % 4}", "all"], "w": i / 7}


def norm(x: Any) -> Any:
    if isinstance(x, models.Model) or (isinstance(x, list) and x and isinstance(x[0], models.Model)):
        x = models.to_builtins(x)
    if isinstance(x, tuple):
        x = list(x)
    if isinstance(x, dict):
        return {k: norm(v) for k, v in x.items() if k not in ("operation_id", "time")}
    if isinstance(x, list):
        return [norm(v) for v in x]
    if isinstance(x, float):
        return round(x, 4)
    return x


def by_group(g: str) -> models.Filter:
    return models.Filter(must=[models.FieldCondition(key="group", match=models.MatchValue(value=g))])


async def scenario(client: AsyncQdrantClient, name: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    out["exists_before"] = await client.collection_exists(name)
    out["create"] = await client.create_collection(
        name, vectors_config=models.VectorParams(size=DIM, distance=models.Distance.COSINE)
    )
    with pytest.raises(Conflict):
        await client.create_collection(
            name, vectors_config=models.VectorParams(size=DIM, distance=models.Distance.COSINE)
        )
    out["exists"] = await client.collection_exists(name)
    out["listed"] = name in [c.name for c in (await client.get_collections()).collections]

    first = [models.PointStruct(id=i, vector=vec(i), payload=payload(i)) for i in range(1, 11)]
    out["upsert_list"] = norm(await client.upsert(name, first))
    ids = list(range(11, N + 1))
    matrix = np.array([vec(i) for i in ids], dtype=np.float32)
    out["upsert_numpy"] = norm(
        await client.upsert(name, models.Batch(ids=ids, vectors=matrix, payloads=[payload(i) for i in ids]))
    )
    info = await client.get_collection(name)
    out["info"] = {
        "status": info.status,
        "points_count": info.points_count,
        "vectors": norm(info.config.params.vectors),
    }

    out["retrieve"] = norm(await client.retrieve(name, [3, 1, 999, 12], with_vectors=True))
    out["retrieve_some_payload"] = norm(await client.retrieve(name, [2], with_payload=["n", "group"]))
    page, nxt = await client.scroll(name, limit=7)
    out["scroll"], out["scroll_next"] = norm(page), nxt
    page2, nxt2 = await client.scroll(
        name, limit=100, offset=nxt, scroll_filter=by_group("b"), with_payload=["n"]
    )
    out["scroll_filtered"], out["scroll_filtered_next"] = norm(page2), nxt2
    out["count"] = (await client.count(name)).count
    out["count_filtered"] = (await client.count(name, count_filter=by_group("a"))).count
    rng = models.Filter(must=[models.FieldCondition(key="n", range=models.Range(gte=5, lt=20))])
    out["count_range"] = (await client.count(name, count_filter=rng)).count

    out["query"] = norm(await client.query_points(name, query=vec(5), limit=4))
    out["query_numpy_vectors"] = norm(
        await client.query_points(name, query=np.array(vec(17), dtype=np.float32), limit=2, with_vectors=True)
    )
    out["query_filtered"] = norm(
        await client.query_points(name, query=vec(5), query_filter=by_group("c"), limit=5, with_payload=["n"])
    )
    out["query_by_id"] = norm(await client.query_points(name, query=7, limit=3, with_payload=False))
    out["query_prefetch"] = norm(
        await client.query_points(
            name,
            prefetch=[models.Prefetch(query=vec(9), limit=10, filter=by_group("a"))],
            query=vec(2),
            limit=3,
        )
    )
    # order_by needs a payload index
    await client.create_payload_index(name, "n", field_schema=models.PayloadSchemaType.INTEGER)
    out["query_order_by"] = [
        p.id
        for p in (
            await client.query_points(
                name,
                query=models.OrderByQuery(order_by=models.OrderBy(key="n", direction=models.Direction.DESC)),
                limit=5,
            )
        ).points
    ]
    ordered, _ = await client.scroll(name, limit=4, order_by="n")
    out["scroll_order_by"] = [p.id for p in ordered]

    out["set_payload"] = norm(await client.set_payload(name, {"color": "red"}, [1, 2]))
    out["set_payload_filter"] = norm(await client.set_payload(name, {"hot": True}, by_group("a")))
    out["set_payload_key"] = norm(await client.set_payload(name, {"x": 1}, [4], key="nested"))
    out["overwrite_payload"] = norm(await client.overwrite_payload(name, {"only": 1}, [3]))
    out["delete_payload"] = norm(await client.delete_payload(name, ["tags"], [4, 5]))
    out["clear_payload"] = norm(await client.clear_payload(name, [6]))
    out["after_payload_ops"] = norm(await client.retrieve(name, [1, 2, 3, 4, 5, 6, 9]))
    hot = models.Filter(must=[models.FieldCondition(key="hot", match=models.MatchValue(value=True))])
    out["hot_count"] = (await client.count(name, count_filter=hot)).count

    out["delete_ids"] = norm(await client.delete(name, [1, 2, 100]))
    out["delete_filter"] = norm(await client.delete(name, by_group("c")))
    out["count_after_delete"] = (await client.count(name)).count

    with pytest.raises(NotFound):
        await client.get_collection(f"{name}-missing")
    with pytest.raises(NotFound):
        await client.count(f"{name}-missing")
    with pytest.raises(BadRequest):
        await client.query_points(name, query=[1.0, 2.0])  # wrong dimension

    out["delete"] = await client.delete_collection(name)
    out["exists_after"] = await client.collection_exists(name)
    return out


def check_by_hand(out: dict[str, Any]) -> None:
    """Values worked out without any client, so a bug shared by every path still fails."""
    assert out["exists_before"] is False and out["create"] is True and out["exists"] and out["listed"]
    assert out["upsert_list"] == {"status": "completed"} == out["upsert_numpy"]
    assert out["info"]["points_count"] == N and out["info"]["vectors"] == {"size": DIM, "distance": "Cosine"}
    assert [r["id"] for r in out["retrieve"]] == [3, 1, 12]
    v12 = np.asarray(vec(12), dtype=np.float64)
    assert out["retrieve"][2]["vector"] == pytest.approx(
        (v12 / np.linalg.norm(v12)).tolist(), abs=2e-4
    )  # cosine
    assert out["retrieve"][0]["payload"] == norm(payload(3))
    assert out["retrieve_some_payload"][0]["payload"] == {"n": 2, "group": "c"}
    assert [p["id"] for p in out["scroll"]] == list(range(1, 8)) and out["scroll_next"] == 8
    assert [p["id"] for p in out["scroll_filtered"]] == [i for i in range(8, N + 1) if i % 3 == 1]
    assert out["scroll_filtered_next"] is None
    assert out["count"] == N and out["count_filtered"] == N // 3 and out["count_range"] == 15
    vs = np.array([vec(i) for i in range(1, N + 1)], dtype=np.float64)
    vs /= np.linalg.norm(vs, axis=1, keepdims=True)
    scores = vs @ vs[4]
    expect = [int(i) + 1 for i in np.argsort(-scores, kind="stable")[:4]]
    assert [p["id"] for p in out["query"]["points"]] == expect
    assert out["query"]["points"][0]["score"] == pytest.approx(1.0, abs=1e-4)
    assert (
        all(p["id"] % 3 == 2 for p in out["query_filtered"]["points"])
        and len(out["query_filtered"]["points"]) == 5
    )
    assert (
        out["query_numpy_vectors"]["points"][0]["id"] == 17
        and len(out["query_numpy_vectors"]["points"][0]["vector"]) == DIM
    )
    assert 7 not in [p["id"] for p in out["query_by_id"]["points"]] and len(out["query_by_id"]["points"]) == 3
    assert (
        all(p["id"] % 3 == 0 for p in out["query_prefetch"]["points"])
        and len(out["query_prefetch"]["points"]) == 3
    )
    assert out["query_order_by"] == [N, N - 1, N - 2, N - 3, N - 4]
    assert out["scroll_order_by"] == [1, 2, 3, 4]
    after = {p["id"]: p.get("payload") for p in out["after_payload_ops"]}
    assert after[1]["color"] == "red" and after[3] == {"only": 1} and after[4]["nested"] == {"x": 1}
    assert "tags" not in after[4] and "tags" not in after[5] and after[6] in (None, {})
    assert after[9]["hot"] is True and out["hot_count"] == N // 3 - 2  # 3 overwritten, 6 cleared
    assert out["count_after_delete"] == N - 2 - (N // 3 - 1)  # ids 1, 2; then group c without 2
    assert out["delete"] is True and out["exists_after"] is False


#: gRPC methods the scenario calls, with how often (all of its calls)
EXPECTED_GRPC_CALLS = {
    "Points.CreateFieldIndex": 1,
    "Collections.CollectionExists": 3,
    "Collections.Create": 2,
    "Collections.List": 1,
    "Points.Upsert": 2,
    "Collections.Get": 3,  # get_collection twice, and once by the vector validator (cached after)
    "Points.Get": 3,
    "Points.Scroll": 3,
    "Points.Count": 6,
    "Points.Query": 7,
    "Points.SetPayload": 3,
    "Points.OverwritePayload": 1,
    "Points.DeletePayload": 1,
    "Points.ClearPayload": 1,
    "Points.Delete": 2,
    "Collections.Delete": 1,
}


async def test_scenario_over_grpc_equals_rest_and_memory(srv, anyio_backend) -> None:
    outs: dict[str, Any] = {}
    before = Counter(srv.grpc.calls)
    async with AsyncQdrantClient(url=srv.url, prefer_grpc=True, grpc_port=srv.grpc_port) as client:
        outs["grpc"] = await scenario(client, "e2e-grpc")
    grpc_calls = Counter(srv.grpc.calls)
    grpc_calls.subtract(before)
    # every covered call really went over gRPC, and nothing else did
    assert {k: v for k, v in grpc_calls.items() if v} == EXPECTED_GRPC_CALLS
    async with AsyncQdrantClient(url=srv.url) as client:
        outs["rest"] = await scenario(client, "e2e-rest")
    assert Counter(srv.grpc.calls) - before == Counter(EXPECTED_GRPC_CALLS)  # REST client: no gRPC
    async with AsyncQdrantClient(":memory:") as client:
        outs["memory"] = await scenario(client, "e2e-mem")
    for path, out in outs.items():
        check_by_hand(out)
        if path != "grpc":
            for step in out:
                assert outs["grpc"][step] == out[step], (step, path)


async def test_dev_server_grpc_errors_reach_the_client_typed(srv, anyio_backend) -> None:
    async with AsyncQdrantClient(
        url=srv.url, prefer_grpc=True, grpc_port=srv.grpc_port, validate_vectors=False
    ) as client:
        await client.create_collection("typed", vectors_config=models.VectorParams(size=2, distance="Dot"))
        with pytest.raises(BadRequest) as bad:
            await client.upsert("typed", [models.PointStruct(id=1, vector=[1.0, 2.0, 3.0])])
        assert bad.value.grpc_status.name == "INVALID_ARGUMENT"  # type: ignore[attr-defined]
        with pytest.raises(NotFound) as nf:
            await client.retrieve("typed-nope", [1])
        assert nf.value.grpc_status.name == "NOT_FOUND"  # type: ignore[attr-defined]
        assert await client.delete_collection("typed") is True


# ---------------------------------------------------------------------------------------------
# fault injection on the gRPC path, through AsyncQdrantClient(prefer_grpc=True)'s pipeline


class Faulty:
    """A grpclib handler set whose behaviour per method is scripted by the test."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.unavailable_left = 0
        self.exhausted_left = 0
        self.retry_after = "0.4"
        self.call_times: list[float] = []

    async def list(self, stream: Any) -> None:
        from grpclib.const import Status
        from grpclib.exceptions import GRPCError

        await stream.recv_message()
        self.calls["List"] += 1
        if self.unavailable_left:
            self.unavailable_left -= 1
            raise GRPCError(Status.UNAVAILABLE, "node is restarting")
        await stream.send_message(
            bytes(q.ListCollectionsResponse(collections=[q.CollectionDescription(name="x")]))
        )

    async def create(self, stream: Any) -> None:
        from grpclib.const import Status
        from grpclib.exceptions import GRPCError

        await stream.recv_message()
        self.calls["Create"] += 1
        raise GRPCError(Status.UNAVAILABLE, "node is restarting")

    async def count(self, stream: Any) -> None:
        from grpclib.const import Status

        await stream.recv_message()
        self.calls["Count"] += 1
        self.call_times.append(time.monotonic())
        if self.exhausted_left:
            self.exhausted_left -= 1
            await stream.send_trailing_metadata(
                status=Status.RESOURCE_EXHAUSTED,
                status_message="rate limit",
                metadata={"retry-after": self.retry_after},
            )
            return
        await stream.send_message(bytes(q.CountResponse(result=q.CountResult(count=42))))

    async def scroll(self, stream: Any) -> None:
        import asyncio

        await stream.recv_message()
        self.calls["Scroll"] += 1
        await asyncio.sleep(30)  # stalled

    def __mapping__(self) -> dict[str, Any]:
        from grpclib.const import Cardinality, Handler

        def h(fn: Any, req: type, rep: type) -> Any:
            return Handler(fn, Cardinality.UNARY_UNARY, req, rep)

        return {
            "/qdrant.Collections/List": h(self.list, q.ListCollectionsRequest, q.ListCollectionsResponse),
            "/qdrant.Collections/Create": h(self.create, q.CreateCollection, q.CollectionOperationResponse),
            "/qdrant.Points/Count": h(self.count, q.CountPoints, q.CountResponse),
            "/qdrant.Points/Scroll": h(self.scroll, q.ScrollPoints, q.ScrollResponse),
        }


@contextlib.asynccontextmanager
async def faulty_client(**kw: Any):
    from grpclib.server import Server

    from aqdrant.grpc.backend import _RawCodec

    faulty = Faulty()
    server = Server([faulty], codec=_RawCodec())  # type: ignore[arg-type]
    await server.start("127.0.0.1", 0)
    port = server._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    # the REST fallback points nowhere: every call here must be served over gRPC
    client = AsyncQdrantClient(
        url="http://127.0.0.1:9", prefer_grpc=True, grpc_port=port, check_compatibility=False, **kw
    )
    try:
        yield client, faulty
    finally:
        await client.close()
        server.close()
        await server.wait_closed()


async def test_unavailable_burst_is_retried_for_idempotent_ops(anyio_backend) -> None:
    retry = RetryPolicy(max_attempts=4, backoff_base=0.01, jitter=False)
    async with faulty_client(retry=retry) as (client, faulty):
        faulty.unavailable_left = 3
        assert [c.name for c in (await client.get_collections()).collections] == ["x"]
        assert faulty.calls["List"] == 4
        faulty.unavailable_left = 4  # longer than the policy allows: the last error surfaces
        with pytest.raises(ServerError) as exc:
            await client.get_collections()
        assert exc.value.status_code == 503 and exc.value.grpc_status.name == "UNAVAILABLE"  # type: ignore[attr-defined]
        assert faulty.calls["List"] == 8
        # create_collection is not idempotent: one attempt only
        with pytest.raises(ServerError):
            await client.create_collection("c", vectors_config=models.VectorParams(size=2, distance="Dot"))
        assert faulty.calls["Create"] == 1


async def test_resource_exhausted_honours_the_retry_delay(anyio_backend) -> None:
    retry = RetryPolicy(max_attempts=3, backoff_base=0.0, jitter=False)
    async with faulty_client(retry=retry) as (client, faulty):
        faulty.exhausted_left = 1
        started = time.monotonic()
        assert (await client.count("c")).count == 42
        assert faulty.calls["Count"] == 2
        gap = faulty.call_times[1] - faulty.call_times[0]
        assert 0.4 <= gap < 2.0, gap
        assert time.monotonic() - started >= 0.4
        # a delay longer than the call's budget is not waited for
        faulty.exhausted_left, faulty.retry_after = 1, "5"
        started = time.monotonic()
        with pytest.raises((RateLimited, DeadlineExceeded)):
            await client.count("c", timeout=1)
        assert time.monotonic() - started < 1.5
        assert faulty.calls["Count"] == 3


async def test_stalled_reply_vs_deadline(anyio_backend) -> None:
    async with faulty_client(retry=RetryPolicy(max_attempts=1)) as (client, faulty):
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded):
            await client.scroll("c", timeout=0.3)
        elapsed = time.monotonic() - started
        assert 0.25 <= elapsed < 1.5, elapsed
        assert faulty.calls["Scroll"] == 1
        # the same connection keeps serving
        assert (await client.count("c")).count == 42
        assert [c.name for c in (await client.get_collections()).collections] == ["x"]
    # with retries on, the deadline is still the total budget of the call
    async with faulty_client(retry=RetryPolicy(max_attempts=5, backoff_base=0.01)) as (client, faulty):
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded):
            await client.scroll("c", timeout=0.5)
        assert time.monotonic() - started < 1.5
