"""End-to-end: ``AsyncQdrantClient(url=...)`` against the dev server on 127.0.0.1, on asyncio and
trio, and the same scenario on ``AsyncQdrantClient(":memory:")`` - remote and local must agree.

Every JSON response the server sends during these tests is checked against the OpenAPI schema of
its operation (tests/contract.py), and the scenario's answers are also checked against values
worked out by hand, so that a bug shared by both paths still fails.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

import contract
import numpy as np
import pytest
from conftest import dev_server_thread

from aqdrant import AsyncQdrantClient, models
from aqdrant.errors import BadRequest, Conflict, NotFound
from aqdrant.server import ServerThread

pytestmark = pytest.mark.anyio

N = 24
GROUPS = ("a", "b", "c")


@pytest.fixture(scope="module")
def server():
    """tests/conftest.py's dev server, checking every response against the OpenAPI spec."""
    with dev_server_thread(middleware=[contract.ContractRecorder]) as srv:
        yield srv


@pytest.fixture
def recorder(server):
    rec = contract.ContractRecorder.last
    assert rec is not None
    before = len(rec.violations)
    yield rec
    assert rec.violations[before:] == [], "responses that do not fit the OpenAPI spec"


@pytest.fixture
async def remote(server, recorder):
    async with AsyncQdrantClient(url=server.url) as client:
        yield client


@pytest.fixture
async def local():
    async with AsyncQdrantClient(":memory:") as client:
        yield client


def vec(i: int) -> list[float]:
    return [math.cos(i), math.sin(i), i / N, 1.0 - i / (2 * N)]


def payload(i: int) -> dict[str, Any]:
    return {"group": GROUPS[i % 3], "n": i, "even": i % 2 == 0, "tags": [f"t{i % 4}", "all"]}


def norm(x: Any) -> Any:
    """Builtins with floats rounded and server-assigned operation ids dropped."""
    if isinstance(x, models.Model) or (isinstance(x, list) and x and isinstance(x[0], models.Model)):
        x = models.to_builtins(x)
    if isinstance(x, dict):
        return {k: norm(v) for k, v in x.items() if k != "operation_id"}
    if isinstance(x, (list, tuple)):
        return [norm(v) for v in x]
    if isinstance(x, float):
        return round(x, 4)
    return x


def by_group(i: int) -> models.Filter:
    return models.Filter(must=[models.FieldCondition(key="group", match=models.MatchValue(value=GROUPS[i]))])


async def scenario(client: AsyncQdrantClient, name: str) -> dict[str, Any]:
    """Every engine-backed client method once; returns the normalised answers by step."""
    out: dict[str, Any] = {}
    alias = f"{name}-alias"
    assert not await client.collection_exists(name)
    out["create"] = await client.create_collection(
        name,
        vectors_config=models.VectorParams(size=4, distance=models.Distance.COSINE),
        sparse_vectors_config={"sp": models.SparseVectorParams()},
    )
    with pytest.raises(Conflict):
        await client.create_collection(
            name, vectors_config=models.VectorParams(size=4, distance=models.Distance.COSINE)
        )
    out["exists"] = await client.collection_exists(name)
    names = [c.name for c in (await client.get_collections()).collections]
    out["listed"] = name in names
    out["update_collection"] = await client.update_collection(
        name, optimizers_config=models.OptimizersConfigDiff(indexing_threshold=10000)
    )

    # aliases
    out["alias_create"] = await client.update_collection_aliases(
        [models.CreateAliasOperation(create_alias=models.CreateAlias(collection_name=name, alias_name=alias))]
    )
    out["aliases_of"] = norm(await client.get_collection_aliases(name))
    out["alias_in_all"] = any(a.alias_name == alias for a in (await client.get_aliases()).aliases)

    # writes
    first = [models.PointStruct(id=i, vector=vec(i), payload=payload(i)) for i in range(1, N // 2 + 1)]
    out["upsert_list"] = norm(await client.upsert(name, first))
    rest = list(range(N // 2 + 1, N + 1))
    out["upsert_batch"] = norm(
        await client.upsert(
            name,
            models.Batch(ids=rest, vectors=[vec(i) for i in rest], payloads=[payload(i) for i in rest]),
        )
    )
    out["create_index_group"] = norm(
        await client.create_payload_index(name, "group", field_schema=models.PayloadSchemaType.KEYWORD)
    )
    out["create_index_n"] = norm(
        await client.create_payload_index(name, "n", field_schema=models.PayloadSchemaType.INTEGER)
    )
    info = await client.get_collection(alias)  # through the alias
    out["info"] = {
        "points_count": info.points_count,
        "params": norm(info.config.params),
        "payload_schema": sorted(info.payload_schema),
    }

    # reads
    out["retrieve"] = norm(await client.retrieve(name, [3, 1, 999], with_vectors=True))
    page, nxt = await client.scroll(name, limit=5)
    out["scroll_page"] = norm(page)
    out["scroll_next"] = nxt
    page2, _ = await client.scroll(name, limit=100, offset=nxt, scroll_filter=by_group(1), with_payload=["n"])
    out["scroll_filtered"] = norm(page2)
    ordered, _ = await client.scroll(
        name, limit=4, order_by=models.OrderBy(key="n", direction=models.Direction.DESC)
    )
    out["scroll_ordered"] = [p.id for p in ordered]
    out["scroll_all"] = [r.id async for r in client.scroll_all(name, scroll_filter=by_group(0), batch_size=3)]
    out["count"] = (await client.count(name)).count
    out["count_filtered"] = (await client.count(name, count_filter=by_group(0))).count
    out["query_vector"] = norm(await client.query_points(name, query=vec(5), limit=3))
    out["query_by_id"] = norm(await client.query_points(name, query=7, limit=3, with_payload=False))
    out["query_filtered"] = norm(
        await client.query_points(name, query=vec(5), query_filter=by_group(2), limit=4)
    )
    out["query_batch"] = norm(
        await client.query_batch_points(
            name,
            [
                models.QueryRequest(query=vec(2), limit=2),
                models.QueryRequest(query=vec(20), limit=2, filter=by_group(1)),
            ],
        )
    )
    out["groups"] = norm(await client.query_points_groups(name, "group", query=vec(9), limit=3, group_size=2))
    pairs = await client.search_matrix_pairs(name, sample=N, limit=2)
    out["matrix_pairs"] = sorted((p.a, p.b, round(p.score, 4)) for p in pairs.pairs)
    offsets = await client.search_matrix_offsets(name, sample=N, limit=2)
    out["matrix_offsets"] = sorted(
        (offsets.ids[r], offsets.ids[c], round(s, 4))
        for r, c, s in zip(offsets.offsets_row, offsets.offsets_col, offsets.scores, strict=True)
    )
    out["facet"] = norm(await client.facet(name, "group", exact=True))

    # payload and vector updates
    out["set_payload"] = norm(await client.set_payload(name, {"color": "red"}, [1, 2]))
    out["set_payload_filter"] = norm(await client.set_payload(name, {"hot": True}, by_group(0)))
    out["overwrite_payload"] = norm(await client.overwrite_payload(name, {"only": 1}, [3]))
    out["delete_payload"] = norm(await client.delete_payload(name, ["tags"], [4, 5]))
    out["clear_payload"] = norm(await client.clear_payload(name, [6]))
    out["update_vectors"] = norm(
        await client.update_vectors(name, [models.PointVectors(id=7, vector=[0.0, 0.0, 0.0, 1.0])])
    )
    sparse = models.SparseVector(indices=[1, 5], values=[0.5, 0.25])
    out["update_sparse"] = norm(
        await client.update_vectors(name, [models.PointVectors(id=8, vector={"sp": sparse})])
    )
    out["query_sparse"] = norm(
        await client.query_points(name, query=sparse, using="sp", limit=3, with_vectors=["sp"])
    )
    out["delete_vectors"] = norm(await client.delete_vectors(name, ["sp"], [8]))
    out["sparse_after_delete"] = norm(await client.retrieve(name, [8], with_vectors=["sp"]))
    out["after_updates"] = norm(await client.retrieve(name, [1, 2, 3, 4, 6, 7, 9], with_vectors=True))
    out["hot_count"] = (
        await client.count(
            name,
            count_filter=models.Filter(
                must=[models.FieldCondition(key="hot", match=models.MatchValue(value=True))]
            ),
        )
    ).count
    out["batch_update"] = norm(
        await client.batch_update_points(
            name,
            [
                models.UpsertOperation(
                    upsert=models.PointsList(
                        points=[models.PointStruct(id=100, vector=vec(100), payload={"n": 100})]
                    )
                ),
                models.SetPayloadOperation(set_payload=models.SetPayload(payload={"batch": 1}, points=[100])),
            ],
        )
    )
    out["delete_points"] = norm(await client.delete(name, [100, 1, 2]))
    out["delete_by_filter"] = norm(await client.delete(name, by_group(2)))
    out["count_after_delete"] = (await client.count(name)).count
    out["delete_index"] = norm(await client.delete_payload_index(name, "n"))
    out["schema_after"] = sorted((await client.get_collection(name)).payload_schema)

    # errors
    with pytest.raises(NotFound):
        await client.get_collection(f"{name}-missing")
    with pytest.raises(NotFound):
        await client.count(f"{name}-missing")
    with pytest.raises(BadRequest):
        await client.query_points(name, query=[1.0, 2.0])  # wrong dimension: the engine says no

    # cleanup
    out["alias_delete"] = await client.update_collection_aliases(
        [models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=alias))]
    )
    out["aliases_after"] = norm(await client.get_collection_aliases(name))
    out["delete"] = await client.delete_collection(name)
    out["exists_after"] = await client.collection_exists(name)
    return out


def check_against_hand_computed(out: dict[str, Any]) -> None:
    """What the scenario must answer, whatever the path."""
    assert out["create"] is True and out["exists"] is True and out["listed"] is True
    assert out["alias_in_all"] is True and len(out["aliases_of"]["aliases"]) == 1
    assert out["upsert_list"] == {"status": "completed"}
    assert out["info"]["points_count"] == N
    assert out["info"]["payload_schema"] == ["group", "n"]
    assert [r["id"] for r in out["retrieve"]] == [3, 1] or sorted(r["id"] for r in out["retrieve"]) == [1, 3]
    assert {r["id"]: r["payload"] for r in out["retrieve"]} == {1: payload(1), 3: payload(3)}
    assert out["scroll_page"] and [p["id"] for p in out["scroll_page"]] == [1, 2, 3, 4, 5]
    assert out["scroll_next"] == 6
    assert [p["id"] for p in out["scroll_filtered"]] == [i for i in range(6, N + 1) if i % 3 == 1]
    assert all(p["payload"] == {"n": p["id"]} for p in out["scroll_filtered"])
    assert out["scroll_ordered"] == [N, N - 1, N - 2, N - 3]
    assert out["count"] == N and out["count_filtered"] == N // 3

    def cos(a: list[float], b: list[float]) -> float:
        dot = sum(x * y for x, y in zip(a, b, strict=True))
        return dot / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))

    expected = sorted(range(1, N + 1), key=lambda i: -cos(vec(i), vec(5)))[:3]
    assert [p["id"] for p in out["query_vector"]["points"]] == expected
    assert out["query_vector"]["points"][0]["score"] == pytest.approx(1.0, abs=1e-4)
    assert all(p["id"] % 3 == 2 for p in out["query_filtered"]["points"])
    assert len(out["query_filtered"]["points"]) == 4
    assert 7 not in [p["id"] for p in out["query_by_id"]["points"]]
    assert [len(r["points"]) for r in out["query_batch"]] == [2, 2]
    assert len(out["groups"]["groups"]) == 3 and all(len(g["hits"]) <= 2 for g in out["groups"]["groups"])
    assert {g["id"] for g in out["groups"]["groups"]} == set(GROUPS)
    assert len(out["matrix_pairs"]) == 2 * N and len(out["matrix_offsets"]) == 2 * N
    assert sorted((h["value"], h["count"]) for h in out["facet"]["hits"]) == [
        ("a", N // 3),
        ("b", N // 3),
        ("c", N // 3),
    ]
    assert out["scroll_all"] == [i for i in range(1, N + 1) if i % 3 == 0]
    assert [p["id"] for p in out["query_sparse"]["points"]] == [8]
    assert out["query_sparse"]["points"][0]["score"] == pytest.approx(0.5 * 0.5 + 0.25 * 0.25, abs=1e-4)
    assert out["sparse_after_delete"][0].get("vector") in ({}, None)
    after = {r["id"]: r for r in out["after_updates"]}
    assert after[1]["payload"]["color"] == "red" and after[2]["payload"]["color"] == "red"
    assert after[3]["payload"] == {"only": 1}
    assert "tags" not in after[4]["payload"] and after[4]["payload"]["n"] == 4
    assert after[6].get("payload") in ({}, None)
    assert after[7]["vector"] == [0.0, 0.0, 0.0, 1.0]
    assert after[9]["payload"].get("hot") is True
    assert out["hot_count"] == N // 3 - 2  # 3 was overwritten, 6 cleared
    assert len(out["batch_update"]) == 2
    remaining = [i for i in range(3, N + 1) if i % 3 != 2]
    assert out["count_after_delete"] == len(remaining)
    assert out["schema_after"] == ["group"]
    assert out["aliases_after"] == {"aliases": []}
    assert out["delete"] is True and out["exists_after"] is False


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def test_remote_scenario_matches_local(remote, local, recorder):
    remote_out = await scenario(remote, unique("e2e"))
    check_against_hand_computed(remote_out)
    local_out = await scenario(local, unique("e2e"))
    check_against_hand_computed(local_out)
    # same answers, step by step (aliases carry the collection's own name)
    for step in remote_out:
        if step in ("aliases_of",):
            continue
        assert remote_out[step] == local_out[step], step
    for op in (
        "create_collection",
        "upsert_points",
        "query_points",
        "scroll_points",
        "facet",
        "batch_update",
    ):
        assert recorder.checked.get(op), f"no {op} response was contract-checked"


async def test_health_and_info(remote):
    info = await remote.info()
    assert info.title == "qdrant - vector search engine" and info.version == "1.19.0"
    assert await remote.health() is True


async def test_api_key_through_the_client():
    with ServerThread(api_key="k3y") as srv:
        async with AsyncQdrantClient(url=srv.url, api_key="k3y") as good:
            assert isinstance((await good.get_collections()).collections, list)
        async with AsyncQdrantClient(url=srv.url, api_key="wrong") as bad:
            from aqdrant.errors import Unauthorized

            with pytest.raises(Unauthorized) as ei:
                await bad.get_collections()
            assert ei.value.status_code == 403
        async with AsyncQdrantClient(url=srv.url) as anonymous:
            with pytest.raises(Unauthorized) as ei:
                await anonymous.get_collections()
            assert ei.value.status_code == 401


async def test_server_error_message_reaches_the_client(remote):
    name = unique("e2e-err")
    await remote.create_collection(
        name, vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT)
    )
    try:
        with pytest.raises(BadRequest) as ei:
            await remote.query_points(name, query=[1.0, 2.0])
        assert ei.value.status_code == 400 and ei.value.server_message
    finally:
        await remote.delete_collection(name)


async def test_persistent_path_survives_restart(tmp_path):
    name = unique("persist")
    with ServerThread(str(tmp_path)) as srv:
        async with AsyncQdrantClient(url=srv.url) as c:
            await c.create_collection(
                name, vectors_config=models.VectorParams(size=4, distance=models.Distance.COSINE)
            )
            await c.upsert(
                name, [models.PointStruct(id=i, vector=vec(i), payload=payload(i)) for i in range(1, 6)]
            )
    with ServerThread(str(tmp_path)) as srv:
        async with AsyncQdrantClient(url=srv.url) as c:
            assert (await c.count(name)).count == 5
            assert (await c.retrieve(name, [2]))[0].payload == payload(2)


async def helpers_scenario(client: AsyncQdrantClient, name: str) -> dict[str, Any]:
    """The client's helpers built on the operations: recreate, upload_points, upload_collection."""
    out: dict[str, Any] = {}
    params = models.VectorParams(size=4, distance=models.Distance.EUCLID)
    await client.create_collection(name, vectors_config=params)
    await client.upsert(name, [models.PointStruct(id=1, vector=vec(1))])
    out["recreate"] = await client.recreate_collection(name, vectors_config=params)
    out["count_after_recreate"] = (await client.count(name)).count
    await client.upload_points(
        name,
        (models.PointStruct(id=i, vector=vec(i), payload=payload(i)) for i in range(1, 41)),
        batch_size=7,
    )
    await client.upload_collection(
        name,
        [vec(i) for i in range(41, 61)],
        payload=[payload(i) for i in range(41, 61)],
        ids=range(41, 61),
        batch_size=6,
    )
    # a numpy array travels as Batch bodies (columns), not as points
    await client.upload_collection(
        name,
        np.array([vec(i) for i in range(61, 81)], dtype=np.float32),
        payload=[payload(i) for i in range(61, 81)],
        ids=np.arange(61, 81),
        batch_size=8,
    )
    out["count"] = (await client.count(name)).count
    # as float32: a server writes float32's shortest digits (as Qdrant does), local mode hands back
    # the float32 values themselves; the same numbers once read as float32
    out["vector_70"] = np.asarray((await client.retrieve(name, [70], with_vectors=True))[0].vector, np.float32).tolist()
    out["nearest"] = [p.id for p in (await client.query_points(name, query=vec(50), limit=3)).points]
    out["payload_50"] = (await client.retrieve(name, [50]))[0].payload
    await client.delete_collection(name)
    return out


async def test_client_helpers_remote_matches_local(remote, local):
    remote_out = await helpers_scenario(remote, unique("helpers"))
    local_out = await helpers_scenario(local, unique("helpers"))
    assert remote_out == local_out
    assert remote_out["recreate"] is True and remote_out["count_after_recreate"] == 0
    assert remote_out["count"] == 80
    assert np.array_equal(np.asarray(remote_out["vector_70"], np.float32), np.array(vec(70), np.float32))  # Euclid: as sent
    assert remote_out["nearest"][0] == 50 and remote_out["payload_50"] == payload(50)


async def vector_names_scenario(client: AsyncQdrantClient, name: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    await client.create_collection(
        name, vectors_config={"a": models.VectorParams(size=2, distance=models.Distance.DOT)}
    )
    out["create_name"] = norm(
        await client.create_vector_name(
            name,
            "b",
            models.DenseVectorNameConfig(
                dense=models.DenseVectorConfig(size=3, distance=models.Distance.DOT)
            ),
        )
    )
    await client.upsert(name, [models.PointStruct(id=1, vector={"a": [1.0, 0.0], "b": [0.0, 1.0, 2.0]})])
    out["query_b"] = norm(
        await client.query_points(name, query=[0.0, 1.0, 1.0], using="b", with_vectors=True)
    )
    out["vectors_after_create"] = sorted((await client.get_collection(name)).config.params.vectors)
    out["delete_name"] = norm(await client.delete_vector_name(name, "b"))
    out["vectors_after_delete"] = sorted((await client.get_collection(name)).config.params.vectors)
    with pytest.raises(BadRequest):
        await client.query_points(name, query=[0.0, 1.0, 1.0], using="b")
    await client.delete_collection(name)
    return out


async def test_vector_names_remote_matches_local(remote, local):
    remote_out = await vector_names_scenario(remote, unique("names"))
    local_out = await vector_names_scenario(local, unique("names"))
    assert remote_out == local_out
    assert remote_out["vectors_after_create"] == ["a", "b"] and remote_out["vectors_after_delete"] == ["a"]
    assert remote_out["query_b"]["points"][0]["score"] == pytest.approx(3.0)
