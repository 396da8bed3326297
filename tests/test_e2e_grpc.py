"""End-to-end over gRPC: ``AsyncQdrantClient(url=..., prefer_grpc=True, grpc_port=...)`` against the
dev server's gRPC endpoint, compared call by call with the same scenarios over REST and on
``:memory:`` (a basic one with exact per-method gRPC call counts, and a rich one over every
converted operation and the whole filter/query vocabulary, with the REST fallback pointed at a
closed port so that nothing can leave gRPC); snapshots and shard keys reach the gRPC methods and
fail as over REST; and fault injection on the gRPC path through the client's pipeline (retries on
UNAVAILABLE, RESOURCE_EXHAUSTED with the server's retry delay, a stalled reply vs the deadline).

Everything runs on asyncio (the client's channel is grpclib's) and on trio (aqdrant's anyio + h2
channel, aqdrant/grpc/_h2channel.py); the servers run in threads with their own asyncio loops.
"""

from __future__ import annotations

import contextlib
import datetime
import math
import time
from collections import Counter
from typing import Any

import numpy as np
import pytest
from grpc_servers import grpclib_thread

from aqdrant import AsyncQdrantClient, RetryPolicy, models
from aqdrant.errors import BadRequest, Conflict, DeadlineExceeded, NotFound, RateLimited, ServerError
from aqdrant.grpc._proto import qdrant as q

pytestmark = pytest.mark.anyio

N = 30
DIM = 8
GROUPS = ("a", "b", "c")


# ``srv``: the dev server with gRPC, from tests/conftest.py


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
        # an empty `warnings` list is what Qdrant's REST reply writes; gRPC and local leave it unset
        return {
            k: norm(v) for k, v in x.items() if k not in ("operation_id", "time") and not (k == "warnings" and v == [])
        }
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
# the rest of the vocabulary: named dense + multi + sparse vectors, quantization, payload indexes
# of every kind, vector updates, batch updates, aliases, collection updates, the whole filter and
# query vocabulary, query batch/groups, lookups, facet, distance matrices

M = 24


def mv(i: int) -> list[list[float]]:
    return [[math.cos(i), math.sin(i)], [math.sin(2 * i), math.cos(3 * i)]]


def sv(i: int) -> models.SparseVector:
    # the second weight differs among points sharing index 31, so sparse scores do not tie
    return models.SparseVector(indices=[i, 30 + i % 4], values=[1 + i / 10, (i % 7) / 7 + 0.1])


def rich_payload(i: int) -> dict[str, Any]:
    p: dict[str, Any] = {
        "group": GROUPS[i % 3],
        "gid": i % 3,
        "n": i,
        "loc": {"lon": float(i), "lat": i / 2},
        "ts": f"2024-01-{i:02d}T00:00:00Z",
        "text": f"Hello world number{i}",
        "items": [{"k": i % 2, "w": i}],
        "tags": [] if i % 5 == 0 else ["x"] * (i % 3 + 1),
    }
    if i % 4 == 0:
        p["maybe"] = None
    return p


def field(key: str, **kw: Any) -> models.FieldCondition:
    return models.FieldCondition(key=key, **kw)


FILTERS: dict[str, models.Filter] = {
    "geo_radius": models.Filter(
        must=[
            field("loc", geo_radius=models.GeoRadius(center=models.GeoPoint(lon=5, lat=2.5), radius=400_000))
        ]
    ),
    "geo_box": models.Filter(
        must=[
            field(
                "loc",
                geo_bounding_box=models.GeoBoundingBox(
                    top_left=models.GeoPoint(lon=2.5, lat=10), bottom_right=models.GeoPoint(lon=10.5, lat=0)
                ),
            )
        ]
    ),
    "geo_polygon": models.Filter(
        must=[
            field(
                "loc",
                geo_polygon=models.GeoPolygon(
                    exterior=models.GeoLineString(
                        points=[
                            models.GeoPoint(lon=0, lat=0),
                            models.GeoPoint(lon=12.5, lat=0),
                            models.GeoPoint(lon=12.5, lat=12),
                            models.GeoPoint(lon=0, lat=12),
                            models.GeoPoint(lon=0, lat=0),
                        ]
                    ),
                    interiors=[
                        models.GeoLineString(
                            points=[
                                models.GeoPoint(lon=3.5, lat=0.5),
                                models.GeoPoint(lon=6.5, lat=0.5),
                                models.GeoPoint(lon=6.5, lat=4),
                                models.GeoPoint(lon=3.5, lat=4),
                                models.GeoPoint(lon=3.5, lat=0.5),
                            ]
                        )
                    ],
                ),
            )
        ]
    ),
    "datetime": models.Filter(
        must=[
            field(
                "ts", range=models.DatetimeRange(gte="2024-01-05T00:00:00Z", lt="2024-01-10T00:00:00+00:00")
            )
        ]
    ),
    "values_count": models.Filter(must=[field("tags", values_count=models.ValuesCount(gte=2))]),
    "is_empty": models.Filter(must=[models.IsEmptyCondition(is_empty=models.PayloadField(key="tags"))]),
    "is_null": models.Filter(must=[models.IsNullCondition(is_null=models.PayloadField(key="maybe"))]),
    "has_id": models.Filter(must_not=[models.HasIdCondition(has_id=[1, 2, 3])]),
    "has_vector": models.Filter(must=[models.HasVectorCondition(has_vector="mv")]),
    "nested": models.Filter(
        must=[
            models.NestedCondition(
                nested=models.Nested(
                    key="items",
                    filter=models.Filter(
                        must=[
                            field("k", match=models.MatchValue(value=1)),
                            field("w", range=models.Range(gt=10)),
                        ]
                    ),
                )
            )
        ]
    ),
    "min_should": models.Filter(
        min_should=models.MinShould(
            conditions=[
                field("group", match=models.MatchValue(value="a")),
                field("n", range=models.Range(lt=12)),
                field("gid", match=models.MatchAny(any=[0, 2])),
            ],
            min_count=2,
        )
    ),
    "text": models.Filter(must=[field("text", match=models.MatchText(text="number1"))]),
    "except": models.Filter(must=[field("group", match=models.MatchExcept(except_=["a", "b"]))]),
    **{
        f"slice_{i}": models.Filter(must=[models.SliceCondition(slice=models.Slice(total=3, index=i))])
        for i in range(3)
    },
}


async def rich_scenario(client: AsyncQdrantClient, name: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    lookup = f"{name}-lookup"
    alias = f"{name}-alias"
    out["create"] = await client.create_collection(
        name,
        vectors_config={
            "d": models.VectorParams(size=DIM, distance=models.Distance.COSINE),
            "mv": models.VectorParams(
                size=2,
                distance=models.Distance.DOT,
                multivector_config=models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM),
            ),
        },
        sparse_vectors_config={"s": models.SparseVectorParams()},
        quantization_config=models.ScalarQuantization(
            scalar=models.ScalarQuantizationConfig(type=models.ScalarType.INT8, always_ram=True)
        ),
    )
    await client.create_collection(
        lookup, vectors_config={"d": models.VectorParams(size=DIM, distance=models.Distance.COSINE)}
    )
    await client.upsert(
        lookup,
        [
            models.PointStruct(id=g, vector={"d": vec(40 + g)}, payload={"label": f"group {g}"})
            for g in range(3)
        ],
    )
    points = [
        models.PointStruct(id=i, vector={"d": vec(i), "mv": mv(i), "s": sv(i)}, payload=rich_payload(i))
        for i in range(1, M + 1)
    ]
    out["upsert"] = norm(await client.upsert(name, points))

    indexes = {
        "group": models.PayloadSchemaType.KEYWORD,
        "gid": models.IntegerIndexParams(type=models.IntegerIndexType.INTEGER, lookup=True, range=True),
        "n": models.PayloadSchemaType.INTEGER,
        "loc": models.GeoIndexParams(type=models.GeoIndexType.GEO),
        "ts": models.DatetimeIndexParams(type=models.DatetimeIndexType.DATETIME),
        "text": models.TextIndexParams(
            type=models.TextIndexType.TEXT,
            tokenizer=models.TokenizerType.WORD,
            lowercase=True,
            min_token_len=2,
        ),
        "maybe": models.KeywordIndexParams(type=models.KeywordIndexType.KEYWORD, is_tenant=False),
    }
    out["indexes"] = [
        norm(await client.create_payload_index(name, k, field_schema=v)) for k, v in indexes.items()
    ]
    info = await client.get_collection(name)
    out["info"] = {
        "vectors": norm(info.config.params.vectors),
        "sparse": norm(info.config.params.sparse_vectors),
        "quantization": norm(info.config.quantization_config),
        "schema": {k: norm(v.data_type) for k, v in info.payload_schema.items()},
        "points": info.points_count,
    }
    out["info_whole"] = norm(info)  # everything the REST reply has, gRPC's too

    out["update_vectors"] = norm(
        await client.update_vectors(name, [models.PointVectors(id=1, vector={"d": vec(100), "s": sv(9)})])
    )
    out["delete_vectors"] = norm(await client.delete_vectors(name, ["mv"], [2]))
    # update_mode: 1 exists (left alone by insert_only), 99 does not (left out by update_only)
    out["insert_only"] = norm(
        await client.upsert(
            name,
            [models.PointStruct(id=1, vector={"d": vec(5)}, payload={"x": 1})],
            update_mode=models.UpdateMode.INSERT_ONLY,
        )
    )
    out["update_only"] = norm(
        await client.upsert(
            name, [models.PointStruct(id=99, vector={"d": vec(5)})], update_mode=models.UpdateMode.UPDATE_ONLY
        )
    )
    out["after_modes"] = [p.id for p in await client.retrieve(name, [1, 99])] + [
        (await client.retrieve(name, [1]))[0].payload == rich_payload(1)
    ]
    out["after_vectors"] = norm(await client.retrieve(name, [1, 2], with_vectors=True, with_payload=False))

    ops = [
        models.UpsertOperation(
            upsert=models.PointsList(
                points=[models.PointStruct(id=50, vector={"d": vec(50)}, payload={"group": "z"})]
            )
        ),
        models.SetPayloadOperation(set_payload=models.SetPayload(payload={"b": 1}, points=[3])),
        models.OverwritePayloadOperation(
            overwrite_payload=models.SetPayload(payload={"only": 2}, points=[4])
        ),
        models.DeletePayloadOperation(delete_payload=models.DeletePayload(keys=["text"], points=[5])),
        models.ClearPayloadOperation(clear_payload=models.PointIdsList(points=[6])),
        models.UpdateVectorsOperation(
            update_vectors=models.UpdateVectors(points=[models.PointVectors(id=7, vector={"d": vec(70)})])
        ),
        models.DeleteVectorsOperation(delete_vectors=models.DeleteVectors(points=[8], vector=["s"])),
        models.DeleteOperation(delete=models.PointIdsList(points=[50])),
        models.SetPayloadOperation(
            set_payload=models.SetPayload(payload={"hot": True}, filter=by_group("b"), key=None)
        ),
    ]
    out["batch"] = norm(await client.batch_update_points(name, ops))
    out["after_batch"] = norm(await client.retrieve(name, [3, 4, 5, 6, 7, 8, 50], with_vectors=["d", "s"]))

    out["alias_create"] = await client.update_collection_aliases(
        [models.CreateAliasOperation(create_alias=models.CreateAlias(collection_name=name, alias_name=alias))]
    )
    mine = [a for a in (await client.get_aliases()).aliases if a.collection_name == name]
    out["aliases"] = [(a.alias_name.replace(name, "C"), a.collection_name.replace(name, "C")) for a in mine]
    out["alias_count"] = (await client.count(alias)).count
    out["alias_rename"] = await client.update_collection_aliases(
        [
            models.RenameAliasOperation(
                rename_alias=models.RenameAlias(old_alias_name=alias, new_alias_name=f"{alias}2")
            )
        ]
    )
    out["collection_aliases"] = [
        (a.alias_name.replace(name, "C"), a.collection_name.replace(name, "C"))
        for a in (await client.get_collection_aliases(name)).aliases
    ]
    out["alias_delete"] = await client.update_collection_aliases(
        [models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=f"{alias}2"))]
    )
    out["collection_aliases_after"] = norm(await client.get_collection_aliases(name))

    out["update_collection"] = await client.update_collection(
        name,
        optimizers_config=models.OptimizersConfigDiff(indexing_threshold=12345),
        hnsw_config=models.HnswConfigDiff(ef_construct=123),
        metadata={"owner": "e2e"},
    )
    info = await client.get_collection(name)
    out["updated_whole"] = norm(info)
    out["updated"] = {
        "ef": info.config.hnsw_config.ef_construct,
        "indexing": info.config.optimizer_config.indexing_threshold,
        "metadata": info.config.metadata,
    }

    out["counts"] = {k: (await client.count(name, count_filter=f)).count for k, f in FILTERS.items()}
    out["count_inexact"] = (await client.count(name, exact=False)).count
    page, nxt = await client.scroll(
        name,
        limit=3,
        order_by=models.OrderBy(key="n", direction=models.Direction.DESC, start_from=10),
        with_vectors=["s"],
    )
    out["scroll_order_from"], out["scroll_order_next"] = norm(page), nxt
    # a datetime start_from: a protobuf Timestamp over gRPC, an RFC 3339 string over REST
    page, _ = await client.scroll(
        name,
        limit=3,
        order_by=models.OrderBy(key="ts", start_from=datetime.datetime(2024, 1, 5, tzinfo=datetime.timezone.utc)),
        with_payload=["ts"],
    )
    out["scroll_order_datetime"] = norm(page)
    page, nxt = await client.scroll(name, scroll_filter=FILTERS["geo_box"], limit=100, with_payload=False)
    out["scroll_geo"] = [p.id for p in page]

    q3 = vec(3)
    queries: dict[str, Any] = {
        "sparse": {"query": sv(3), "using": "s"},
        "multi": {"query": mv(5), "using": "mv"},
        "recommend": {
            "query": models.RecommendQuery(
                recommend=models.RecommendInput(
                    positive=[4, vec(9)], negative=[11], strategy=models.RecommendStrategy.BEST_SCORE
                )
            ),
            "using": "d",
        },
        "recommend_avg": {
            "query": models.RecommendQuery(recommend=models.RecommendInput(positive=[4, 5], negative=[11])),
            "using": "d",
        },
        "discover": {
            "query": models.DiscoverQuery(
                discover=models.DiscoverInput(
                    target=q3, context=[models.ContextPair(positive=4, negative=12)]
                )
            ),
            "using": "d",
        },
        "context": {
            "query": models.ContextQuery(context=[models.ContextPair(positive=vec(4), negative=vec(12))]),
            "using": "d",
            "limit": 24,
        },
        "fusion": {
            "prefetch": [
                models.Prefetch(query=q3, using="d", limit=6),
                models.Prefetch(query=sv(3), using="s", limit=6),
            ],
            "query": models.FusionQuery(fusion=models.Fusion.RRF),
            "limit": 12,  # everything the prefetches found: no tie at the cut
        },
        "dbsf": {
            "prefetch": [
                models.Prefetch(query=q3, using="d", limit=6),
                models.Prefetch(query=sv(3), using="s", limit=6),
            ],
            "query": models.FusionQuery(fusion=models.Fusion.DBSF),
            "limit": 12,  # everything the prefetches found: no tie at the cut
        },
        "rrf": {
            "prefetch": [
                models.Prefetch(query=q3, using="d", limit=6),
                models.Prefetch(query=mv(3), using="mv", limit=6),
            ],
            "query": models.RrfQuery(rrf=models.Rrf(k=10)),
            "limit": 12,
        },
        "formula": {
            "prefetch": models.Prefetch(query=q3, using="d", limit=10),
            "query": models.FormulaQuery(
                formula=models.SumExpression(
                    sum=[
                        "$score",
                        models.MultExpression(mult=[0.01, "n"]),
                        models.MultExpression(mult=[0.5, field("group", match=models.MatchValue(value="a"))]),
                        models.ExpDecayExpression(
                            exp_decay=models.DecayParamsExpression(x="n", target=12, scale=5)
                        ),
                    ]
                ),
                defaults={"n": 0},
            ),
        },
        "mmr": {
            "query": models.NearestQuery(nearest=q3, mmr=models.Mmr(diversity=0.6, candidates_limit=12)),
            "using": "d",
        },
        "lookup_from": {
            "query": 1,
            "using": "d",
            "lookup_from": models.LookupLocation(collection=lookup, vector="d"),
        },
        "order_by": {"query": models.OrderByQuery(order_by="n"), "query_filter": FILTERS["nested"]},
        "filtered_geo": {"query": q3, "using": "d", "query_filter": FILTERS["geo_polygon"]},
        "search_params": {
            "query": q3,
            "using": "d",
            "search_params": models.SearchParams(
                hnsw_ef=64,
                exact=False,
                quantization=models.QuantizationSearchParams(rescore=True, oversampling=2.0),
                acorn=models.AcornSearchParams(enable=True),
            ),
            "query_filter": FILTERS["min_should"],
        },
    }
    out["queries"] = {}
    for k, kw in queries.items():
        kw = {"limit": 5, **kw}
        out["queries"][k] = tie_order(norm(await client.query_points(name, **kw)))
    sampled = await client.query_points(name, query=models.SampleQuery(sample=models.Sample.RANDOM), limit=7)
    out["sample"] = len(sampled.points)

    out["batch_query"] = norm(
        await client.query_batch_points(
            name,
            [
                models.QueryRequest(query=q3, using="d", limit=3),
                models.QueryRequest(query=sv(8), using="s", limit=2, filter=by_group("c"), with_payload=True),
                models.QueryRequest(query=models.OrderByQuery(order_by="n"), limit=2),
            ],
        )
    )
    out["groups"] = norm(
        await client.query_points_groups(
            name,
            group_by="gid",
            query=q3,
            using="d",
            limit=3,
            group_size=2,
            with_payload=["n"],
            with_lookup=models.WithLookup(collection=lookup, with_payload=True, with_vectors=False),
        )
    )
    out["groups_by_keyword"] = norm(
        await client.query_points_groups(name, group_by="group", query=q3, using="d", limit=2, group_size=1)
    )
    out["facet"] = norm(await client.facet(name, "group"))
    out["facet_filtered"] = norm(
        await client.facet(name, "gid", facet_filter=FILTERS["min_should"], exact=True)
    )
    # the sample comes in a random order: compare the edges
    pairs = await client.search_matrix_pairs(name, sample=M, limit=2, using="d")
    out["pairs"] = sorted((p.a, p.b, round(p.score, 4)) for p in pairs.pairs)
    offsets = await client.search_matrix_offsets(
        name, sample=M, limit=2, using="d", query_filter=by_group("a")
    )
    out["offsets"] = sorted(
        (offsets.ids[r], offsets.ids[c], round(s, 4))
        for r, c, s in zip(offsets.offsets_row, offsets.offsets_col, offsets.scores, strict=True)
    )

    out["delete_index"] = norm(await client.delete_payload_index(name, "text"))
    out["schema_after"] = sorted((await client.get_collection(name)).payload_schema)
    out["delete"] = await client.delete_collection(name)
    await client.delete_collection(lookup)
    return out


def tie_order(res: dict[str, Any]) -> dict[str, Any]:
    """Points of equal score in id order (the engine's order among ties is not part of the API)."""
    return {**res, "points": sorted(res["points"], key=lambda p: (-p["score"], str(p["id"])))}


def check_rich_by_hand(out: dict[str, Any]) -> None:
    """Values worked out from the data, so a bug shared by every path still fails."""
    assert out["create"] is True and out["upsert"] == {"status": "completed"}
    assert out["info"]["points"] == M and set(out["info"]["vectors"]) == {"d", "mv"}
    assert out["info"]["vectors"]["mv"]["multivector_config"] == {"comparator": "max_sim"}
    assert set(out["info"]["sparse"]) == {"s"}
    assert out["info"]["quantization"]["scalar"]["type"] == "int8"
    assert out["info"]["schema"] == {
        "group": "keyword",
        "gid": "integer",
        "n": "integer",
        "loc": "geo",
        "ts": "datetime",
        "text": "text",
        "maybe": "keyword",
    }
    assert out["after_modes"] == [1, True]
    one, two = out["after_vectors"]
    assert set(one["vector"]) == {"d", "mv", "s"} and set(two["vector"]) == {"d", "s"}  # mv of 2 deleted
    assert one["vector"]["s"] == norm(models.to_builtins(sv(9)))
    assert out["batch"] == [{"status": "completed"}] * 9
    after = {p["id"]: p for p in out["after_batch"]}
    assert 50 not in after and after[3]["payload"]["b"] == 1 and after[4]["payload"] == {"only": 2}
    assert "text" not in after[5]["payload"] and after[6]["payload"] in (None, {})
    assert "s" not in after[8]["vector"] and "s" in after[7]["vector"]
    assert out["aliases"] == [("C-alias", "C")] and out["collection_aliases"] == [("C-alias2", "C")]
    assert (
        out["alias_count"] == M and out["alias_create"] is out["alias_rename"] is out["alias_delete"] is True
    )
    assert out["collection_aliases_after"] == {"aliases": []}
    assert out["update_collection"] is True
    assert out["updated"] == {"ef": 123, "indexing": 12345, "metadata": {"owner": "e2e"}}
    # after the batch: 4 is {"only": 2}, 6 has no payload
    ids = range(1, M + 1)
    c = out["counts"]
    assert c["datetime"] == 4  # 5, 7, 8, 9
    assert c["has_id"] == M - 3 and c["has_vector"] == M - 1
    assert c["values_count"] == sum(1 for i in ids if i % 5 and i % 3 >= 1 and i != 4)
    assert c["is_null"] == sum(1 for i in ids if i % 4 == 0 and i != 4)
    assert c["nested"] == sum(1 for i in ids if i % 2 == 1 and i > 10)
    assert sum(c[f"slice_{i}"] for i in range(3)) == M  # 3 disjoint slices cover every point
    assert c["geo_box"] == 6 and sorted(out["scroll_geo"]) == [3, 5, 7, 8, 9, 10]
    assert out["count_inexact"] >= 1
    assert [p["id"] for p in out["scroll_order_from"]] == [10, 9, 8]
    assert [p["id"] for p in out["scroll_order_datetime"]] == [5, 7, 8]  # 6 lost its payload
    assert out["queries"]["sparse"]["points"][0]["id"] == 3
    d = {i: np.asarray(vec(100 if i == 1 else 70 if i == 7 else i)) for i in ids}
    target = np.asarray(vec(41))
    cos = {i: float(d[i] @ target / np.linalg.norm(d[i]) / np.linalg.norm(target)) for i in ids}
    assert out["queries"]["lookup_from"]["points"][0]["id"] == max(cos, key=cos.__getitem__)
    assert [p["id"] for p in out["queries"]["order_by"]["points"]] == [11, 13, 15, 17, 19]
    assert out["sample"] == 7
    assert [len(r["points"]) for r in out["batch_query"]] == [3, 1, 2]  # s of 8 deleted: only 20
    assert all(p["payload"]["group"] == "c" for p in out["batch_query"][1]["points"])
    groups = out["groups"]["groups"]
    assert len(groups) == 3 and all(1 <= len(g["hits"]) <= 2 for g in groups)
    assert all(g["lookup"]["payload"] == {"label": f"group {g['id']}"} for g in groups)
    assert sorted(h["value"] for h in out["facet"]["hits"]) == ["a", "b", "c"]
    assert len(out["pairs"]) == 2 * M  # every point sampled, 2 neighbours each
    group_a = {i for i in ids if i % 3 == 0 and i != 6}  # 6 lost its payload
    assert {a for a, _, _ in out["offsets"]} == group_a and len(out["offsets"]) == 2 * len(group_a)
    assert out["delete_index"] == {"status": "completed"} and "text" not in out["schema_after"]
    assert out["delete"] is True


#: gRPC methods rich_scenario calls (each at least once; the client's REST fallback points nowhere)
RICH_GRPC_METHODS = {
    "Collections.Create",
    "Collections.Get",
    "Collections.Delete",
    "Collections.Update",
    "Collections.UpdateAliases",
    "Collections.ListAliases",
    "Collections.ListCollectionAliases",
    "Points.Upsert",
    "Points.CreateFieldIndex",
    "Points.DeleteFieldIndex",
    "Points.UpdateVectors",
    "Points.DeleteVectors",
    "Points.UpdateBatch",
    "Points.Get",
    "Points.Count",
    "Points.Scroll",
    "Points.Query",
    "Points.QueryBatch",
    "Points.QueryGroups",
    "Points.Facet",
    "Points.SearchMatrixPairs",
    "Points.SearchMatrixOffsets",
}


async def test_rich_scenario_over_grpc_equals_rest_and_memory(srv, anyio_backend) -> None:
    outs: dict[str, Any] = {}
    before = Counter(srv.grpc.calls)
    # REST fallback to a closed port: any operation not served over gRPC fails the scenario
    async with AsyncQdrantClient(
        url="http://127.0.0.1:9", prefer_grpc=True, grpc_port=srv.grpc_port, check_compatibility=False
    ) as client:
        outs["grpc"] = await rich_scenario(client, "rich-grpc")
    calls = Counter(srv.grpc.calls)
    calls.subtract(before)
    assert {k for k, v in calls.items() if v} == RICH_GRPC_METHODS
    async with AsyncQdrantClient(url=srv.url) as client:
        outs["rest"] = await rich_scenario(client, "rich-rest")
    async with AsyncQdrantClient(":memory:") as client:
        outs["memory"] = await rich_scenario(client, "rich-mem")
    for path, out in outs.items():
        check_rich_by_hand(out)
        if path != "grpc":
            for step in out:
                assert outs["grpc"][step] == out[step], (step, path)


async def test_snapshots_shard_keys_cluster_go_over_grpc_and_fail_as_over_rest(srv, anyio_backend) -> None:
    """The dev server's engine has no snapshots, shard keys or cluster: over gRPC the calls reach
    Snapshots.* / Collections.*ShardKey* / the cluster methods and come back as the same typed
    error (501) REST gives."""
    from aqdrant.errors import UnexpectedResponse

    async def errors(client: AsyncQdrantClient) -> list[tuple[str, int]]:
        got = []
        for call in (
            lambda: client.list_snapshots("snap"),
            lambda: client.create_snapshot("snap"),
            lambda: client.delete_snapshot("snap", "x.snapshot"),
            lambda: client.list_full_snapshots(),
            lambda: client.create_full_snapshot(),
            lambda: client.delete_full_snapshot("x.snapshot"),
            lambda: client.create_shard_key("snap", "k1"),
            lambda: client.list_shard_keys("snap"),
            lambda: client.delete_shard_key("snap", "k1"),
            lambda: client.collection_cluster_info("snap"),
            lambda: client.cluster_collection_update(
                "snap", models.DropReplicaOperation(drop_replica=models.Replica(shard_id=0, peer_id=1))
            ),
        ):
            with pytest.raises(UnexpectedResponse) as exc:
                await call()
            got.append((type(exc.value).__name__, exc.value.status_code))
        return got

    before = Counter(srv.grpc.calls)
    async with AsyncQdrantClient(
        url="http://127.0.0.1:9", prefer_grpc=True, grpc_port=srv.grpc_port, check_compatibility=False
    ) as client:
        over_grpc = await errors(client)
    calls = Counter(srv.grpc.calls)
    calls.subtract(before)
    assert {k: v for k, v in calls.items() if v} == {
        **{f"Snapshots.{m}": 1 for m in ("List", "Create", "Delete", "ListFull", "CreateFull", "DeleteFull")},
        **{f"Collections.{m}ShardKey{s}": 1 for m, s in (("Create", ""), ("List", "s"), ("Delete", ""))},
        "Collections.CollectionClusterInfo": 1,
        "Collections.UpdateCollectionClusterSetup": 1,
    }
    async with AsyncQdrantClient(url=srv.url) as client:
        over_rest = await errors(client)
    assert over_grpc == over_rest and {status for _, status in over_grpc} == {501}


async def test_named_vectors_are_added_and_removed_over_grpc(srv, anyio_backend) -> None:
    """create_vector_name / delete_vector_name reach Points.CreateVectorName / DeleteVectorName
    (REST points at a closed port) and change the collection as over REST."""
    name = f"named-{anyio_backend}"
    before = Counter(srv.grpc.calls)
    async with AsyncQdrantClient(
        url="http://127.0.0.1:9", prefer_grpc=True, grpc_port=srv.grpc_port, check_compatibility=False
    ) as client:
        await client.create_collection(name, vectors_config={"a": models.VectorParams(size=2, distance="Dot")})
        dense = models.DenseVectorNameConfig(
            dense=models.DenseVectorConfig(
                size=3,
                distance=models.Distance.COSINE,
                multivector_config=models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM),
            )
        )
        added = await client.create_vector_name(name, "b", dense)
        sparse = models.SparseVectorNameConfig(sparse=models.SparseVectorConfig(modifier=models.Modifier.IDF))
        await client.create_vector_name(name, "s", sparse)
        params = (await client.get_collection(name)).config.params
        assert set(params.vectors) == {"a", "b"} and params.vectors["b"].size == 3
        assert params.vectors["b"].multivector_config.comparator == models.MultiVectorComparator.MAX_SIM
        assert set(params.sparse_vectors) == {"s"} and params.sparse_vectors["s"].modifier == models.Modifier.IDF
        removed = await client.delete_vector_name(name, "b")
        assert set((await client.get_collection(name)).config.params.vectors) == {"a"}
        await client.delete_collection(name)
    assert added.status == removed.status == models.UpdateStatus.COMPLETED
    calls = Counter(srv.grpc.calls)
    calls.subtract(before)
    assert calls["Points.CreateVectorName"] == 2 and calls["Points.DeleteVectorName"] == 1


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
    faulty = Faulty()
    # the server runs in a thread of its own (any test loop can call it); the REST fallback
    # points nowhere: every call here must be served over gRPC
    with grpclib_thread([faulty]) as port:
        async with AsyncQdrantClient(
            url="http://127.0.0.1:9", prefer_grpc=True, grpc_port=port, check_compatibility=False, **kw
        ) as client:
            yield client, faulty


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
        assert (await client.count("c")).count == 42
        assert faulty.calls["Count"] == 2
        gap = faulty.call_times[1] - faulty.call_times[0]
        assert gap >= 0.4, gap  # the server's retry delay was honoured
        # a delay longer than the call's budget is not waited for: no second attempt
        faulty.exhausted_left, faulty.retry_after = 1, "5"
        with pytest.raises((RateLimited, DeadlineExceeded)):
            await client.count("c", timeout=1)
        assert faulty.calls["Count"] == 3


async def test_stalled_reply_vs_deadline(anyio_backend) -> None:
    async with faulty_client(retry=RetryPolicy(max_attempts=1)) as (client, faulty):
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded):
            await client.scroll("c", timeout=0.3)
        assert time.monotonic() - started >= 0.25  # the deadline, not the stalled reply, ended it
        assert faulty.calls["Scroll"] == 1
        # the same connection keeps serving
        assert (await client.count("c")).count == 42
        assert [c.name for c in (await client.get_collections()).collections] == ["x"]
    # with retries on, the deadline is still the total budget of the call
    async with faulty_client(retry=RetryPolicy(max_attempts=5, backoff_base=0.01)) as (client, faulty):
        with pytest.raises(DeadlineExceeded):
            await client.scroll("c", timeout=0.5)
        assert faulty.calls["Scroll"] == 1  # the stalled attempt used the whole budget: no retry
