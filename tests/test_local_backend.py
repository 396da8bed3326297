"""The local engine backend: collections, aliases, points, payload, indexes, errors, lifecycle."""

from __future__ import annotations

import os
import uuid
import warnings

import anyio
import pytest
from test_local_helpers import call

from aqdrant import BadRequest, Conflict, NotFound, UnsupportedOperation, models
from aqdrant.local import LocalBackend, LocalEngineWarning, StorageLocked

pytestmark = pytest.mark.anyio


@pytest.fixture
async def backend():
    b = LocalBackend(None)
    try:
        yield b
    finally:
        await b.aclose()


async def make(b: LocalBackend, name: str = "c", size: int = 4, **extra) -> None:
    body = {"vectors": {"size": size, "distance": "Cosine"}, **extra}
    assert await call(b, "create_collection", body, collection_name=name) is True


POINTS = [
    {"id": 1, "vector": [0.1, 0.2, 0.3, 0.4], "payload": {"color": "red", "n": 1, "ok": True}},
    {"id": 2, "vector": [0.4, 0.3, 0.2, 0.1], "payload": {"color": "blue", "n": 2, "ok": False}},
    {"id": 3, "vector": [0.2, 0.2, 0.2, 0.2], "payload": {"color": "red", "n": 3, "ok": True}},
    {"id": 4, "vector": [0.9, 0.1, 0.0, 0.0], "payload": {"color": "green", "n": 4, "ok": False}},
]


async def test_collection_lifecycle(backend):
    assert (await call(backend, "get_collections")).collections == []
    assert (await call(backend, "collection_exists", collection_name="c")).exists is False
    await make(backend, metadata={"owner": "me"})
    assert (await call(backend, "collection_exists", collection_name="c")).exists is True
    assert [c.name for c in (await call(backend, "get_collections")).collections] == ["c"]
    info = await call(backend, "get_collection", collection_name="c")
    assert isinstance(info, models.CollectionInfo)
    assert info.points_count == 0
    assert info.config.params.vectors.size == 4
    assert info.config.params.vectors.distance == models.Distance.COSINE
    assert info.config.metadata == {"owner": "me"}
    with pytest.raises(Conflict) as exc:
        await make(backend)
    assert exc.value.status_code == 409
    assert await call(backend, "delete_collection", collection_name="c") is True
    assert await call(backend, "delete_collection", collection_name="c") is False
    with pytest.raises(NotFound) as nf:
        await call(backend, "get_collection", collection_name="c")
    assert nf.value.status_code == 404 and nf.value.collection == "c"
    with pytest.raises(NotFound):
        await call(backend, "upsert_points", {"points": POINTS}, collection_name="missing")


async def test_points_roundtrip(backend):
    await make(backend)
    res = await call(backend, "upsert_points", {"points": POINTS}, query={"wait": True}, collection_name="c")
    assert isinstance(res, models.UpdateResult) and res.status == models.UpdateStatus.COMPLETED
    recs = await call(backend, "get_points", {"ids": [2, 1, 99], "with_vector": True}, collection_name="c")
    assert sorted(r.id for r in recs) == [1, 2]
    by_id = {r.id: r for r in recs}
    assert by_id[1].payload == {"color": "red", "n": 1, "ok": True}
    assert len(by_id[1].vector) == 4
    one = await call(backend, "get_point", collection_name="c", id=3)
    assert one.id == 3 and one.payload["n"] == 3
    with pytest.raises(NotFound):
        await call(backend, "get_point", collection_name="c", id=42)
    count = await call(backend, "count_points", {}, collection_name="c")
    assert count.count == 4
    # boolean match: the engine defect (True becomes 1) is worked around
    flt = {"must": [{"key": "ok", "match": {"value": True}}]}
    assert (await call(backend, "count_points", {"filter": flt}, collection_name="c")).count == 2
    flt = {"must_not": [{"key": "ok", "match": {"value": True}}]}
    assert (await call(backend, "count_points", {"filter": flt}, collection_name="c")).count == 2
    # scroll with pagination
    page = await call(backend, "scroll_points", {"limit": 3}, collection_name="c")
    assert [p.id for p in page.points] == [1, 2, 3] and page.next_page_offset == 4
    page = await call(backend, "scroll_points", {"limit": 3, "offset": 4}, collection_name="c")
    assert [p.id for p in page.points] == [4] and page.next_page_offset is None
    # batch form of upsert, UUID ids come back as strings
    u = str(uuid.uuid4())
    await call(
        backend,
        "upsert_points",
        {"batch": {"ids": [5, u], "vectors": [[1, 0, 0, 0], [0, 1, 0, 0]], "payloads": [{"k": 1}, {"k": 2}]}},
        collection_name="c",
    )
    rec = (await call(backend, "get_points", {"ids": [u]}, collection_name="c"))[0]
    assert rec.id == u and isinstance(rec.id, str) and rec.payload == {"k": 2}
    # delete by id and by filter
    await call(backend, "delete_points", {"points": [5, u]}, collection_name="c")
    await call(
        backend,
        "delete_points",
        {"filter": {"must": [{"key": "color", "match": {"value": "red"}}]}},
        collection_name="c",
    )
    left = await call(backend, "scroll_points", {}, collection_name="c")
    assert [p.id for p in left.points] == [2, 4]


async def test_query_nearest_filtered_and_by_id(backend):
    await make(backend)
    await call(backend, "upsert_points", {"points": POINTS}, collection_name="c")
    res = await call(
        backend,
        "query_points",
        {"query": [0.1, 0.2, 0.3, 0.4], "limit": 2, "with_payload": True},
        collection_name="c",
    )
    assert isinstance(res, models.QueryResponse)
    assert [p.id for p in res.points] == [1, 3]
    assert res.points[0].score == pytest.approx(1.0, abs=1e-5)
    assert res.points[0].payload["color"] == "red"
    res = await call(
        backend,
        "query_points",
        {"query": [0.1, 0.2, 0.3, 0.4], "filter": {"must": [{"key": "color", "match": {"value": "blue"}}]}},
        collection_name="c",
    )
    assert [p.id for p in res.points] == [2] and res.points[0].payload is None
    # query by point id: the vector is looked up, the point itself is excluded
    res = await call(backend, "query_points", {"query": 1, "limit": 2}, collection_name="c")
    assert [p.id for p in res.points] == [3, 2]
    with pytest.raises(NotFound):
        await call(backend, "query_points", {"query": 77}, collection_name="c")
    # dimension errors are the engine's 400
    with pytest.raises(BadRequest) as exc:
        await call(backend, "query_points", {"query": [0.1, 0.2]}, collection_name="c")
    assert "dim" in str(exc.value)


async def test_named_and_sparse_vectors(backend):
    body = {
        "vectors": {"img": {"size": 2, "distance": "Dot"}, "txt": {"size": 3, "distance": "Euclid"}},
        "sparse_vectors": {"kw": {}},
    }
    await call(backend, "create_collection", body, collection_name="n")
    points = [
        {
            "id": 1,
            "vector": {"img": [1, 0], "txt": [0, 0, 1], "kw": {"indices": [1, 7], "values": [0.5, 1.0]}},
        },
        {"id": 2, "vector": {"img": [0, 1], "txt": [1, 0, 0], "kw": {"indices": [7], "values": [2.0]}}},
        {"id": 3, "vector": {"img": [0.6, 0.6]}},
    ]
    await call(backend, "upsert_points", {"points": points}, collection_name="n")
    res = await call(
        backend, "query_points", {"query": [1, 0.1], "using": "img", "limit": 3}, collection_name="n"
    )
    assert [p.id for p in res.points] == [1, 3, 2]
    res = await call(backend, "query_points", {"query": [1, 0, 0], "using": "txt"}, collection_name="n")
    assert [p.id for p in res.points] == [2, 1]
    res = await call(
        backend,
        "query_points",
        {"query": {"indices": [7], "values": [1.0]}, "using": "kw", "with_vector": True},
        collection_name="n",
    )
    assert [p.id for p in res.points] == [2, 1]
    assert res.points[0].score == pytest.approx(2.0)
    assert res.points[0].vector["kw"].indices == [7]
    flt = {"must": [{"has_vector": "txt"}]}
    assert (await call(backend, "count_points", {"filter": flt}, collection_name="n")).count == 2
    await call(backend, "delete_vectors", {"points": [1], "vector": ["txt"]}, collection_name="n")
    assert (await call(backend, "count_points", {"filter": flt}, collection_name="n")).count == 1
    await call(
        backend, "update_vectors", {"points": [{"id": 3, "vector": {"txt": [5, 5, 5]}}]}, collection_name="n"
    )
    assert (await call(backend, "count_points", {"filter": flt}, collection_name="n")).count == 2
    info = await call(backend, "get_collection", collection_name="n")
    assert set(info.config.params.vectors) == {"img", "txt"}
    assert set(info.config.params.sparse_vectors) == {"kw"}


async def test_payload_operations(backend):
    await make(backend)
    await call(backend, "upsert_points", {"points": POINTS}, collection_name="c")

    async def payload(pid):
        return (await call(backend, "get_points", {"ids": [pid]}, collection_name="c"))[0].payload

    await call(backend, "set_payload", {"payload": {"extra": [1, 2]}, "points": [1]}, collection_name="c")
    assert await payload(1) == {"color": "red", "n": 1, "ok": True, "extra": [1, 2]}
    await call(
        backend, "overwrite_payload", {"payload": {"only": "this"}, "points": [1]}, collection_name="c"
    )
    assert await payload(1) == {"only": "this"}
    await call(
        backend, "set_payload", {"payload": {"inner": 5}, "points": [1], "key": "nest"}, collection_name="c"
    )
    assert await payload(1) == {"only": "this", "nest": {"inner": 5}}
    await call(
        backend,
        "delete_payload",
        {"keys": ["n"], "filter": {"must": [{"key": "color", "match": {"value": "red"}}]}},
        collection_name="c",
    )
    assert await payload(3) == {"color": "red", "ok": True}
    await call(
        backend,
        "set_payload",
        {"payload": {"seen": True}, "filter": {"must": [{"key": "n", "range": {"gte": 2}}]}},
        collection_name="c",
    )
    assert (await payload(4))["seen"] is True and "seen" not in await payload(3)
    await call(backend, "clear_payload", {"points": [2]}, collection_name="c")
    assert await payload(2) in (None, {})
    # an update with neither points nor filter is a 400
    with pytest.raises(BadRequest):
        await call(backend, "set_payload", {"payload": {"a": 1}}, collection_name="c")


async def test_batch_update_is_sequential_and_reports_partial_application(backend):
    await make(backend)
    ops = {
        "operations": [
            {"upsert": {"points": POINTS}},
            {"set_payload": {"payload": {"x": 1}, "points": [1]}},
            {"delete": {"points": [4]}},
        ]
    }
    results = await call(backend, "batch_update", ops, collection_name="c")
    assert len(results) == 3 and all(isinstance(r, models.UpdateResult) for r in results)
    assert (await call(backend, "count_points", {}, collection_name="c")).count == 3
    bad = {
        "operations": [
            {"delete": {"points": [3]}},
            {"upsert": {"points": [{"id": 9, "vector": [1, 2]}]}},  # wrong dimension
        ]
    }
    # what the validation boundary sees in the operations is refused before any is applied
    with pytest.raises(BadRequest, match=r"operation 1 \(upsert\).*dimension.*Nothing was applied"):
        await call(backend, "batch_update", bad, collection_name="c")
    assert (await call(backend, "count_points", {}, collection_name="c")).count == 3
    bad = {
        "operations": [
            {"delete": {"points": [3]}},
            {"set_payload": {"payload": {"x": 2}, "points": [77]}},  # no such point: the engine's error
        ]
    }
    with pytest.raises(NotFound) as exc:  # Qdrant's 404 for a missing point
        await call(backend, "batch_update", bad, collection_name="c")
    assert "No point with id 77 found" in str(exc.value)
    assert "not atomically" in str(exc.value) and "0..0 were applied" in str(exc.value)
    assert (await call(backend, "count_points", {}, collection_name="c")).count == 2


async def test_field_index_facet_and_order_by(backend):
    await make(backend)
    await call(backend, "upsert_points", {"points": POINTS}, collection_name="c")
    await call(
        backend, "create_field_index", {"field_name": "color", "field_schema": "keyword"}, collection_name="c"
    )
    await call(
        backend,
        "create_field_index",
        {"field_name": "n", "field_schema": {"type": "integer", "range": True, "lookup": True}},
        collection_name="c",
    )
    info = await call(backend, "get_collection", collection_name="c")
    assert info.payload_schema["color"].data_type == models.PayloadSchemaType.KEYWORD
    assert info.payload_schema["color"].points == 4
    assert info.payload_schema["n"].data_type == models.PayloadSchemaType.INTEGER
    facet = await call(backend, "facet", {"key": "color"}, collection_name="c")
    assert [(h.value, h.count) for h in facet.hits] == [("red", 2), ("blue", 1), ("green", 1)]
    page = await call(
        backend,
        "scroll_points",
        {"order_by": {"key": "n", "direction": "desc"}, "limit": 2},
        collection_name="c",
    )
    assert [p.id for p in page.points] == [4, 3]
    res = await call(backend, "query_points", {"query": {"order_by": "n"}, "limit": 2}, collection_name="c")
    assert [p.id for p in res.points] == [1, 2]
    await call(backend, "delete_field_index", collection_name="c", field_name="color")
    info = await call(backend, "get_collection", collection_name="c")
    assert "color" not in info.payload_schema
    with pytest.raises(BadRequest):
        await call(backend, "facet", {"key": "color"}, collection_name="c")


async def test_aliases(backend):
    await make(backend, "a")
    await make(backend, "b")
    await call(backend, "upsert_points", {"points": POINTS}, collection_name="a")
    await call(
        backend,
        "update_aliases",
        {"actions": [{"create_alias": {"collection_name": "a", "alias_name": "live"}}]},
    )
    assert (await call(backend, "count_points", {}, collection_name="live")).count == 4
    aliases = await call(backend, "get_collections_aliases")
    assert [(a.alias_name, a.collection_name) for a in aliases.aliases] == [("live", "a")]
    # switch atomically: delete + create in one request
    await call(
        backend,
        "update_aliases",
        {
            "actions": [
                {"delete_alias": {"alias_name": "live"}},
                {"create_alias": {"collection_name": "b", "alias_name": "live"}},
            ]
        },
    )
    assert (await call(backend, "count_points", {}, collection_name="live")).count == 0
    await call(
        backend,
        "update_aliases",
        {"actions": [{"rename_alias": {"old_alias_name": "live", "new_alias_name": "prod"}}]},
    )
    assert [
        a.alias_name for a in (await call(backend, "get_collection_aliases", collection_name="b")).aliases
    ] == ["prod"]
    assert (await call(backend, "get_collection_aliases", collection_name="a")).aliases == []
    with pytest.raises(NotFound):
        await call(
            backend,
            "update_aliases",
            {"actions": [{"create_alias": {"collection_name": "zzz", "alias_name": "x"}}]},
        )
    # as on Qdrant, deleting an alias that does not exist is not an error
    assert await call(backend, "update_aliases", {"actions": [{"delete_alias": {"alias_name": "nope"}}]})
    # a failing action leaves the aliases as they were
    with pytest.raises(NotFound):
        await call(
            backend,
            "update_aliases",
            {
                "actions": [
                    {"delete_alias": {"alias_name": "prod"}},
                    {"rename_alias": {"old_alias_name": "nope", "new_alias_name": "x"}},
                ]
            },
        )
    assert [a.alias_name for a in (await call(backend, "get_collections_aliases")).aliases] == ["prod"]
    # deleting a collection drops its aliases
    await call(backend, "delete_collection", collection_name="b")
    assert (await call(backend, "get_collections_aliases")).aliases == []


async def test_unsupported_operations_and_parameters(backend):
    for op, path in [
        ("cluster_status", {}),
        ("create_snapshot", {"collection_name": "c"}),
        ("telemetry", {}),
        ("list_shard_keys", {"collection_name": "c"}),
    ]:
        with pytest.raises(UnsupportedOperation) as exc:
            await call(backend, op, **path)
        assert op in str(exc.value) and "local engine" in str(exc.value)
    await make(backend)
    with pytest.raises(UnsupportedOperation, match="shard keys"):
        await call(backend, "upsert_points", {"points": POINTS, "shard_key": "k"}, collection_name="c")
    with pytest.raises(UnsupportedOperation, match="custom sharding"):
        await call(
            backend,
            "create_collection",
            {"vectors": {"size": 2, "distance": "Dot"}, "sharding_method": "custom"},
            collection_name="d",
        )
    with pytest.warns(LocalEngineWarning, match="consistency"):
        await call(backend, "count_points", {}, query={"consistency": "majority"}, collection_name="c")
    with pytest.warns(LocalEngineWarning, match="replication_factor"):
        await call(
            backend,
            "create_collection",
            {"vectors": {"size": 2, "distance": "Dot"}, "replication_factor": 3},
            collection_name="e",
        )
    with pytest.raises(UnsupportedOperation, match="inference"):
        await call(
            backend, "query_points", {"query": {"text": "hello", "model": "bm25"}}, collection_name="c"
        )
    # a plain call emits no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        await call(backend, "count_points", {}, collection_name="c")
    assert (await call(backend, "root")).version
    assert await call(backend, "healthz") == "healthz check passed"


async def test_update_collection(backend):
    await make(backend, optimizers_config={"indexing_threshold": 5000})
    await call(backend, "upsert_points", {"points": POINTS}, collection_name="c")
    assert (
        await call(
            backend,
            "update_collection",
            {"optimizers_config": {"indexing_threshold": 100}, "metadata": {"v": 2}},
            collection_name="c",
        )
        is True
    )
    info = await call(backend, "get_collection", collection_name="c")
    assert info.config.optimizer_config.indexing_threshold == 100
    assert info.config.metadata == {"v": 2}
    assert info.points_count == 4
    with pytest.raises(BadRequest):
        await call(
            backend, "update_collection", {"vectors": {"nope": {"on_disk": True}}}, collection_name="c"
        )


async def test_concurrent_calls_are_routed_by_id(backend):
    await make(backend)
    await call(backend, "upsert_points", {"points": POINTS}, collection_name="c")
    results: dict[int, int] = {}

    async def one(pid: int) -> None:
        recs = await call(backend, "get_points", {"ids": [pid]}, collection_name="c")
        results[pid] = recs[0].payload["n"]

    async with anyio.create_task_group() as tg:
        for _ in range(5):
            for pid in (1, 2, 3, 4):
                tg.start_soon(one, pid)
    assert results == {1: 1, 2: 2, 3: 3, 4: 4}


async def test_memory_dir_and_process_removed_on_close():
    b = LocalBackend(":memory:")
    assert b.pid is None  # nothing starts before the first call
    await make(b)
    root, pid = b.root, b.pid
    assert root is not None and os.path.isdir(root) and pid is not None
    os.kill(pid, 0)  # alive
    await b.aclose()
    assert not os.path.exists(root)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


async def test_persistence_and_locking(tmp_path):
    path = str(tmp_path / "db")
    b = LocalBackend(path)
    await make(b, metadata={"k": "v"})
    await call(b, "upsert_points", {"points": POINTS}, collection_name="c")
    await call(
        b, "create_field_index", {"field_name": "color", "field_schema": "keyword"}, collection_name="c"
    )
    await call(
        b, "update_aliases", {"actions": [{"create_alias": {"collection_name": "c", "alias_name": "al"}}]}
    )
    with pytest.raises(StorageLocked, match="already accessed by another instance"):
        LocalBackend(path)  # refused at construction, not at the first call
    await b.aclose()
    assert os.path.isdir(path)  # a path= directory stays

    b2 = LocalBackend(path)
    try:
        info = await call(b2, "get_collection", collection_name="al")
        assert info.points_count == 4
        assert info.config.metadata == {"k": "v"}
        assert "color" in info.payload_schema
        rec = (await call(b2, "get_points", {"ids": [2]}, collection_name="c"))[0]
        assert rec.payload["color"] == "blue"
        await call(b2, "delete_collection", collection_name="c")
    finally:
        await b2.aclose()
    b3 = LocalBackend(path)
    try:
        assert (await call(b3, "get_collections")).collections == []
        assert (await call(b3, "get_collections_aliases")).aliases == []
        assert [n for n in os.listdir(path) if n.startswith("shard-")] == []
    finally:
        await b3.aclose()


async def test_vector_names_added_and_removed(backend):
    await call(
        backend, "create_collection", {"vectors": {"a": {"size": 2, "distance": "Dot"}}}, collection_name="v"
    )
    await call(
        backend,
        "create_vector_name",
        {"dense": {"size": 3, "distance": "Euclid"}},
        collection_name="v",
        vector_name="b",
    )
    await call(
        backend, "create_vector_name", {"sparse": {"modifier": "idf"}}, collection_name="v", vector_name="s"
    )
    info = await call(backend, "get_collection", collection_name="v")
    assert set(info.config.params.vectors) == {"a", "b"}
    assert set(info.config.params.sparse_vectors) == {"s"}
    await call(
        backend,
        "upsert_points",
        {"points": [{"id": 1, "vector": {"a": [1, 0], "b": [0, 0, 1]}}]},
        collection_name="v",
    )
    res = await call(backend, "query_points", {"query": [0, 0, 1], "using": "b"}, collection_name="v")
    assert [p.id for p in res.points] == [1]
    await call(backend, "delete_vector_name", collection_name="v", vector_name="b")
    info = await call(backend, "get_collection", collection_name="v")
    assert set(info.config.params.vectors) == {"a"}
    with pytest.raises(BadRequest):
        await call(backend, "query_points", {"query": [0, 0, 1], "using": "b"}, collection_name="v")


async def test_payload_values_the_engine_rejects_are_stored_as_the_server_would(backend):
    import datetime

    await make(backend)
    when = datetime.datetime(2024, 5, 1, 12, 30, tzinfo=datetime.timezone.utc)
    naive = datetime.datetime(2024, 5, 2, 8, 0)
    uid = uuid.UUID("12345678-1234-5678-1234-567812345678")
    payload = {
        "when": when,
        "naive": naive,
        "day": datetime.date(2024, 5, 3),
        "uid": uid,
        "raw": b"\x00\x01",
        "nested": {"at": when, "list": [when, 1]},
    }
    await call(
        backend,
        "upsert_points",
        models.PointsList(points=[models.PointStruct(id=1, vector=[1, 2, 3, 4], payload=payload)]),
        collection_name="c",
    )
    got = (await call(backend, "get_points", {"ids": [1]}, collection_name="c"))[0].payload
    assert got == {
        "when": "2024-05-01T12:30:00Z",
        "naive": "2024-05-02T08:00:00",
        "day": "2024-05-03",
        "uid": str(uid),
        "raw": "AAE=",
        "nested": {"at": "2024-05-01T12:30:00Z", "list": ["2024-05-01T12:30:00Z", 1]},
    }
    # and they can be filtered on as datetimes
    flt = {"must": [{"key": "when", "range": {"gte": "2024-05-01T00:00:00Z", "lt": "2024-05-02T00:00:00Z"}}]}
    assert (await call(backend, "count_points", {"filter": flt}, collection_name="c")).count == 1
    await call(
        backend, "set_payload", models.SetPayload(payload={"later": when}, points=[1]), collection_name="c"
    )
    got = (await call(backend, "get_points", {"ids": [1]}, collection_name="c"))[0].payload
    assert got["later"] == "2024-05-01T12:30:00Z"


def test_supported_operations_match_the_engine():
    from aqdrant._operations import OPERATIONS
    from aqdrant.local.backend import SUPPORTED_OPERATIONS
    from aqdrant.local.engine import Engine

    served = {n[3:] for n in dir(Engine) if n.startswith("op_")} - {"optimize"}
    assert served == SUPPORTED_OPERATIONS
    assert SUPPORTED_OPERATIONS <= set(OPERATIONS)


async def test_unsupported_operations_do_not_start_the_engine():
    b = LocalBackend(None)
    try:
        with pytest.raises(UnsupportedOperation, match="recover_from_uploaded_snapshot"):
            await call(b, "recover_from_uploaded_snapshot", collection_name="c")
        assert b.pid is None
    finally:
        await b.aclose()


async def test_catalog_is_versioned_json_and_a_newer_one_is_refused(tmp_path):
    import json

    from aqdrant.local import LocalStorageError

    path = tmp_path / "db"
    b = LocalBackend(str(path))
    await make(b, metadata={"m": 1})
    await b.aclose()
    catalog = json.loads((path / "catalog.json").read_text())
    assert catalog["format"] == "aqdrant-local-catalog" and catalog["version"] == 1
    assert catalog["collections"]["c"]["config"]["metadata"] == {"m": 1}
    assert not [n for n in os.listdir(path) if ".tmp-" in n]  # written via temp file + rename
    catalog["version"] = 99
    (path / "catalog.json").write_text(json.dumps(catalog))
    b = LocalBackend(str(path))
    try:
        with pytest.raises(LocalStorageError, match="version 99"):
            await call(b, "get_collections")
    finally:
        await b.aclose()


async def test_text_index_with_stopwords_and_stemmer(backend):
    await make(backend)
    docs = ["the running foxes", "a runner runs", "quiet evening", "the the the"]
    points = [{"id": i + 1, "vector": [1, 0, 0, 0], "payload": {"t": d}} for i, d in enumerate(docs)]
    await call(backend, "upsert_points", {"points": points}, collection_name="c")
    schema = {
        "type": "text",
        "tokenizer": "word",
        "lowercase": True,
        "stopwords": {"languages": ["english"], "custom": ["quiet"]},
        "stemmer": {"type": "snowball", "language": "english"},
    }
    await call(
        backend, "create_field_index", {"field_name": "t", "field_schema": schema}, collection_name="c"
    )

    async def matching(text):
        res = await call(
            backend,
            "scroll_points",
            {"filter": {"must": [{"key": "t", "match": {"text": text}}]}},
            collection_name="c",
        )
        return [p.id for p in res.points]

    assert await matching("run") == [1, 2]  # stemmed: running, runs -> run
    assert await matching("fox") == [1]
    info = await call(backend, "get_collection", collection_name="c")
    assert info.payload_schema["t"].data_type == models.PayloadSchemaType.TEXT


async def test_numpy_vectors_and_payload_arrays(backend):
    import numpy as np

    await make(backend)
    emb = np.array([0.1, 0.2, 1 / 3], dtype=np.float64)
    points = models.PointsList(
        points=[
            models.PointStruct(
                id=1, vector=np.array([1, 2, 3, 4], dtype=np.float64), payload={"emb": emb, "n": np.int64(5)}
            ),
            models.PointStruct(
                id=2, vector=np.array([4, 3, 2, 1], dtype=np.float32), payload={"m": np.float32(0.5)}
            ),
            models.PointStruct(
                id=3, vector=np.array([1, 1, 1, 1], dtype=np.float16), payload={"ids": np.array([1, 2])}
            ),
        ]
    )
    await call(backend, "upsert_points", points, collection_name="c")
    recs = {
        r.id: r
        for r in await call(
            backend, "get_points", {"ids": [1, 2, 3], "with_vector": True}, collection_name="c"
        )
    }
    assert recs[1].payload == {"emb": [0.1, 0.2, 1 / 3], "n": 5}  # float64 kept exactly
    assert recs[2].payload == {"m": 0.5}
    assert recs[3].payload == {"ids": [1, 2]}
    v = np.asarray(recs[1].vector)
    assert np.allclose(v, np.array([1, 2, 3, 4]) / np.linalg.norm([1, 2, 3, 4]), atol=1e-6)
    res = await call(
        backend,
        "query_points",
        {"query": np.array([4, 3, 2, 1], dtype=np.float32).tolist(), "limit": 1},
        collection_name="c",
    )
    assert res.points[0].id == 2
    q = models.QueryRequest(query=np.array([1, 1, 1, 1.0]), limit=1)
    assert (await call(backend, "query_points", q, collection_name="c")).points[0].id == 3
