"""Payload indexes declared on an empty collection are built when first needed (engine_base.py, engine_points.py).

The engine's own bookkeeping is checked on an in-process ``Engine`` (synchronous code); what a
user sees - every read behaves as if the index had been created at once - through the client,
on both anyio backends.
"""

from __future__ import annotations

import anyio
import numpy as np
import pytest

from aqdrant import AsyncQdrantClient, models
from aqdrant.local import engine

DIM = 8
TAGS = ("red", "green", "blue")


def _points(start: int, n: int) -> list[dict]:
    rng = np.random.default_rng(start)
    return [
        {
            "id": i,
            "vector": rng.random(DIM).tolist(),
            "payload": {"group": i % 7, "tag": TAGS[i % 3], "price": float(i % 50)},
        }
        for i in range(start, start + n)
    ]


def _engine(tmp_path, *, defer: bool = True) -> engine.Engine:
    e = engine.Engine(str(tmp_path / "db"), defer_indexes=defer)
    e.handle("create_collection", {"collection_name": "c"}, {}, {"vectors": {"size": DIM, "distance": "Dot"}})
    return e


@pytest.fixture
def eng(tmp_path):
    """An engine (deferring, the default) with collection ``c``; closed after the test."""
    e = _engine(tmp_path)
    yield e
    e.close()


def _declare(e: engine.Engine, field: str, schema: object) -> None:
    e.handle(
        "create_field_index", {"collection_name": "c"}, {}, {"field_name": field, "field_schema": schema}
    )


def _upsert(e: engine.Engine, start: int, n: int, **extra: object) -> None:
    e.handle("upsert_points", {"collection_name": "c"}, {}, {"points": _points(start, n), **extra})


def _built(e: engine.Engine) -> dict[str, int]:
    """The payload indexes that exist in the shard, with their point counts."""
    return {f: i.points for f, i in e.shards["c"].info().payload_schema.items()}


def test_an_index_declared_on_an_empty_collection_waits_for_its_first_reader(eng):
    _declare(eng, "group", "integer")
    _upsert(eng, 0, 300)
    _upsert(eng, 300, 200)
    assert eng.pending == {"c": {"group": "integer"}}
    assert _built(eng) == {}
    assert eng.catalog.collections["c"].field_schemas == {"group": "integer"}  # declared, durable
    count = eng.handle(
        "count_points",
        {"collection_name": "c"},
        {},
        {"filter": {"must": [{"key": "group", "match": {"value": 3}}]}, "exact": True},
    )
    assert count == {"count": len([i for i in range(500) if i % 7 == 3])}
    assert eng.pending == {}
    assert _built(eng) == {"group": 500}
    _upsert(eng, 500, 10)  # built now: maintained like any index
    assert _built(eng) == {"group": 510}


@pytest.mark.parametrize(
    "op, body",
    [
        ("upsert_points", {"points": _points(900, 1), "update_filter": {"must": [{"has_id": [1]}]}}),
        ("delete_points", {"filter": {"must": [{"key": "group", "match": {"value": 1}}]}}),
        ("delete_points", {"points": [1]}),
        ("set_payload", {"payload": {"x": 1}, "points": [2]}),
        (
            "batch_update",
            {"operations": [{"upsert": {"points": _points(900, 1)}}, {"delete": {"points": [3]}}]},
        ),
        ("get_points", {"ids": [1]}),
        ("scroll_points", {"limit": 3}),
        ("query_points", {"query": [1.0] * DIM, "limit": 3}),
        ("facet", {"key": "group"}),
        ("get_collection", None),
    ],
)
def test_anything_but_an_unconditional_upsert_builds_it_first(eng, op, body):
    _declare(eng, "group", "integer")
    _upsert(eng, 0, 50)
    eng.handle(op, {"collection_name": "c"}, {}, body)
    assert eng.pending == {}
    assert "group" in _built(eng)


def test_a_batch_of_unconditional_upserts_keeps_it_pending(eng):
    _declare(eng, "group", "integer")
    ops = [{"upsert": {"points": _points(0, 20)}}, {"upsert": {"points": _points(20, 20)}}]
    eng.handle("batch_update", {"collection_name": "c"}, {}, {"operations": ops})
    assert eng.pending == {"c": {"group": "integer"}}
    assert _built(eng) == {}


def test_the_idle_build_makes_payload_indexes_before_the_vector_index(eng):
    _declare(eng, "group", "integer")
    _declare(eng, "tag", "keyword")
    _upsert(eng, 0, 400)
    assert "c" in eng.dirty
    eng.optimize_dirty()
    assert eng.pending == {}
    assert _built(eng) == {"group": 400, "tag": 400}


def test_deleting_a_pending_index_never_builds_it(eng):
    _declare(eng, "group", "integer")
    _declare(eng, "tag", "keyword")
    _upsert(eng, 0, 30)
    eng.handle("delete_field_index", {"collection_name": "c", "field_name": "group"}, {}, None)
    assert eng.pending == {"c": {"tag": "keyword"}}
    assert eng.catalog.collections["c"].field_schemas == {"tag": "keyword"}
    eng.handle("count_points", {"collection_name": "c"}, {}, {"exact": True})
    assert _built(eng) == {"tag": 30}


def test_redeclaring_a_pending_index_replaces_its_schema(eng):
    _declare(eng, "tag", "keyword")
    _upsert(eng, 0, 30)  # not empty any more, but the index is still only declared
    _declare(eng, "tag", {"type": "keyword", "is_tenant": True})
    assert eng.pending == {"c": {"tag": {"type": "keyword", "is_tenant": True}}}
    assert _built(eng) == {}


def test_a_collection_with_points_gets_its_index_at_once(eng):
    _upsert(eng, 0, 40)
    _declare(eng, "group", "integer")
    assert eng.pending == {}
    assert _built(eng) == {"group": 40}


def test_without_deferral_every_index_is_created_when_declared(tmp_path):
    e = _engine(tmp_path, defer=False)
    try:
        _declare(e, "group", "integer")
        assert e.pending == {}
        _upsert(e, 0, 40)
        assert _built(e) == {"group": 40}
    finally:
        e.close()


def test_a_bad_schema_fails_when_declared_even_if_deferred(eng):
    with pytest.raises(engine.EngineError, match="field index"):
        _declare(eng, "group", {"type": "no-such-type"})
    assert eng.pending == {}
    assert eng.catalog.collections["c"].field_schemas == {}


def test_an_index_still_pending_when_the_process_ended_is_built_after_reopening(tmp_path):
    e = _engine(tmp_path)
    _declare(e, "group", "integer")
    _upsert(e, 0, 60)
    e.close()  # flushes the points; the index was never built (as after a crash)
    e = engine.Engine(str(tmp_path / "db"))
    try:
        e.shard("c")
        assert e.pending == {"c": {"group": "integer"}}
        assert "c" in e.dirty  # the idle build will make it even if nothing reads
        e.handle("count_points", {"collection_name": "c"}, {}, {"exact": True})
        assert _built(e) == {"group": 60}
    finally:
        e.close()


# -- what a user sees ------------------------------------------------------------------------


async def _load(client: AsyncQdrantClient, name: str, *, indexes_first: bool) -> None:
    await client.create_collection(
        name, vectors_config=models.VectorParams(size=DIM, distance=models.Distance.DOT)
    )

    async def declare() -> None:
        await client.create_payload_index(name, "group", models.PayloadSchemaType.INTEGER)
        await client.create_payload_index(name, "price", models.PayloadSchemaType.FLOAT)
        await client.create_payload_index(name, "tag", models.PayloadSchemaType.KEYWORD)

    if indexes_first:
        await declare()
    points = _points(0, 600)
    for i in range(0, 600, 100):
        await client.upsert(name, [models.PointStruct(**p) for p in points[i : i + 100]], wait=True)
    if not indexes_first:
        await declare()


@pytest.mark.anyio
async def test_reads_right_after_a_load_see_declared_indexes_as_if_built_at_once():
    # no idle build during the test: only the reads can have built the indexes
    async with AsyncQdrantClient(":memory:", local_optimize_after=600) as client:
        await _load(client, "deferred", indexes_first=True)
        await _load(client, "direct", indexes_first=False)
        flt = models.Filter(must=[models.FieldCondition(key="group", match=models.MatchValue(value=2))])
        results = {}
        for name in ("deferred", "direct"):
            # order_by needs the range index on `price`: without it the engine refuses the scroll
            page, _ = await client.scroll(
                name, limit=20, order_by=models.OrderBy(key="price", direction="desc"), scroll_filter=flt
            )
            facet = await client.facet(name, "tag", exact=True)
            info = await client.get_collection(name)
            results[name] = (
                [(p.id, p.payload["price"]) for p in page],
                sorted((h.value, h.count) for h in facet.hits),
                {f: s.points for f, s in info.payload_schema.items()},
                (await client.count(name, count_filter=flt, exact=True)).count,
            )
        assert results["deferred"] == results["direct"]
        assert results["deferred"][2] == {"group": 600, "price": 600, "tag": 600}
        assert [price for _, price in results["deferred"][0]] == sorted(
            (float(i % 50) for i in range(600) if i % 7 == 2), reverse=True
        )[:20]


@pytest.mark.anyio
async def test_the_client_passes_its_index_build_policy_to_the_engine():
    for policy, builds in (("never", False), ("idle", True)):
        async with AsyncQdrantClient(":memory:", local_optimize=policy, local_optimize_after=0.1) as client:
            await client.create_collection(
                "c",
                vectors_config=models.VectorParams(size=DIM, distance=models.Distance.DOT),
                optimizers_config=models.OptimizersConfigDiff(indexing_threshold=10),
            )
            await client.upsert("c", [models.PointStruct(**p) for p in _points(0, 600)])
            await anyio.sleep(1.0)  # ten times the idle delay; a build still running is waited for
            info = await client.get_collection("c")
            assert (info.indexed_vectors_count or 0) > 0 if builds else info.indexed_vectors_count == 0, (
                policy
            )


def test_local_options_are_refused_for_a_server():
    with pytest.raises(ValueError, match="embedded engine only"):
        AsyncQdrantClient("http://localhost:6333", local_optimize="never")
    with pytest.raises(ValueError, match="optimize must be"):
        AsyncQdrantClient(":memory:", local_optimize="sometimes")
    with pytest.raises(ValueError, match="optimize_after"):
        AsyncQdrantClient(":memory:", local_optimize_after=-1)
