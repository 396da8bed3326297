"""Congruence with an independent oracle: the official qdrant-client's local mode (exact brute force).

Same random data in both; same request JSON; same ids in the same order, scores within float
tolerance. qdrant-client is a test-only dependency.
"""

from __future__ import annotations

import random
import warnings

import pytest
from qdrant_client import QdrantClient
from qdrant_client import models as qm
from test_local_helpers import call

from aqdrant.local import LocalBackend

pytestmark = pytest.mark.anyio

N = 120
COLORS = ["red", "green", "blue", "cyan", "magenta"]


def _data(seed: int = 7) -> list[dict]:
    rnd = random.Random(seed)
    points = []
    for i in range(N):
        sparse_idx = sorted(rnd.sample(range(30), 4))
        points.append(
            {
                "id": i + 1,
                "vector": {
                    "dense": [rnd.uniform(-1, 1) for _ in range(6)],
                    "euc": [rnd.uniform(0, 10) for _ in range(3)],
                    "sp": {"indices": sparse_idx, "values": [rnd.uniform(0.1, 2) for _ in sparse_idx]},
                },
                "payload": {
                    "group": i % 7,
                    "color": COLORS[i % 5],
                    "price": round(rnd.uniform(0, 100), 3),
                    "flag": i % 3 == 0,
                    "tags": rnd.sample(["a", "b", "c", "d"], 2),
                    "when": f"2024-01-{(i % 28) + 1:02d}T12:00:00Z",
                    "loc": {"lon": rnd.uniform(-10, 10), "lat": rnd.uniform(40, 50)},
                    "title": rnd.choice(["quick brown fox", "lazy dog", "brown dog jumps", "fox hunt"]),
                    "items": [{"k": rnd.randint(0, 3)} for _ in range(rnd.randint(0, 3))],
                    **({"maybe": None} if i % 4 == 0 else {}),
                },
            }
        )
    return points


CONFIG = {
    "vectors": {"dense": {"size": 6, "distance": "Cosine"}, "euc": {"size": 3, "distance": "Euclid"}},
    "sparse_vectors": {"sp": {}},
}


@pytest.fixture
async def pair():
    oracle = QdrantClient(":memory:")
    oracle.create_collection(
        "c",
        vectors_config={k: qm.VectorParams(**v) for k, v in CONFIG["vectors"].items()},
        sparse_vectors_config={"sp": qm.SparseVectorParams()},
    )
    points = _data()
    oracle.upsert("c", points=[qm.PointStruct(**p) for p in points])
    b = LocalBackend(None)
    await call(b, "create_collection", CONFIG, collection_name="c")
    await call(b, "upsert_points", {"points": points}, collection_name="c")
    await call(b, "create_field_index", {"field_name": "price", "field_schema": "float"}, collection_name="c")
    await call(
        b, "create_field_index", {"field_name": "group", "field_schema": "integer"}, collection_name="c"
    )
    await call(
        b, "create_field_index", {"field_name": "color", "field_schema": "keyword"}, collection_name="c"
    )
    await call(b, "create_field_index", {"field_name": "title", "field_schema": "text"}, collection_name="c")
    with warnings.catch_warnings():  # the oracle says its payload indexes have no effect
        warnings.simplefilter("ignore")
        for field, schema in [
            ("price", "float"),
            ("group", "integer"),
            ("color", "keyword"),
            ("title", "text"),
        ]:
            oracle.create_payload_index("c", field, schema)
    try:
        yield b, oracle
    finally:
        await b.aclose()
        oracle.close()


def _same(ours, theirs, *, scores: bool = True) -> None:
    """Same ids in the same order, scores within tolerance; among equal scores any order."""
    if not scores:
        assert [p.id for p in ours] == [p.id for p in theirs]
        return
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        assert a.score == pytest.approx(b.score, rel=1e-4, abs=1e-4)
    last = theirs[-1].score if theirs else None

    def groups(points):
        out: dict = {}
        for p in points:
            key = round(p.score, 4)
            if last is None or key != round(last, 4):  # the tie at the cut-off may differ
                out.setdefault(key, set()).add(p.id)
        return out

    assert groups(ours) == groups(theirs)
    ties = {
        round(p.score, 4) for p in theirs if sum(round(q.score, 4) == round(p.score, 4) for q in theirs) > 1
    }
    if not ties:
        assert [p.id for p in ours] == [p.id for p in theirs]


def _norm(value):
    """Payload with floats rounded to 12 significant digits: the engine may change the last digit
    of a float payload value (qdrant-edge 0.9.0 does not round-trip floats exactly)."""
    if isinstance(value, float):
        return float(f"{value:.12g}")
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_norm(v) for v in value]
    return value


async def _query(b, oracle, body: dict, *, scores: bool = True) -> None:
    ours = (await call(b, "query_points", body, collection_name="c")).points
    theirs = oracle.query_batch_points("c", [qm.QueryRequest(**body)])[0].points
    assert ours, "the query should find something"
    _same(ours, theirs, scores=scores)


QUERIES = {
    "nearest": {"query": [0.3, -0.2, 0.5, 0.1, 0.0, -0.9], "using": "dense", "limit": 7},
    "nearest_euclid": {"query": [5, 5, 5], "using": "euc", "limit": 5},
    "nearest_sparse": {
        "query": {"indices": [1, 3, 5, 7, 11], "values": [1, 0.5, 2, 1, 1]},
        "using": "sp",
        "limit": 6,
    },
    "by_id": {"query": 5, "using": "dense", "limit": 5},
    "nearest_by_id": {"query": {"nearest": 8}, "using": "euc", "limit": 4},
    "offset_threshold": {
        "query": [0.3, 0.2, 0.5, 0.1, 0.0, 0.9],
        "using": "dense",
        "limit": 5,
        "offset": 3,
        "score_threshold": 0.1,
    },
    "recommend_avg": {
        "query": {"recommend": {"positive": [1, 2], "negative": [3]}},
        "using": "dense",
        "limit": 5,
    },
    "recommend_best": {
        "query": {"recommend": {"positive": [1, 2], "negative": [3], "strategy": "best_score"}},
        "using": "dense",
        "limit": 5,
    },
    "recommend_sum": {
        "query": {"recommend": {"positive": [4], "negative": [9], "strategy": "sum_scores"}},
        "using": "euc",
        "limit": 5,
    },
    "discover": {
        "query": {"discover": {"target": 10, "context": [{"positive": 11, "negative": 12}]}},
        "using": "dense",
        "limit": 5,
    },
    "context": {
        "query": {"context": [{"positive": 11, "negative": 12}, {"positive": 13, "negative": 14}]},
        "using": "dense",
        "limit": 100,
    },
    "order_by": {"query": {"order_by": {"key": "price", "direction": "desc"}}, "limit": 6},
    "rrf": {
        "prefetch": [
            {"query": [0.3, -0.2, 0.5, 0.1, 0.0, -0.9], "using": "dense", "limit": 20},
            {"query": [5, 5, 5], "using": "euc", "limit": 20},
        ],
        "query": {"fusion": "rrf"},
        "limit": 8,
    },
    "nested_prefetch_filter": {
        "prefetch": {
            "query": [0.3, -0.2, 0.5, 0.1, 0.0, -0.9],
            "using": "dense",
            "limit": 30,
            "filter": {"must": [{"key": "color", "match": {"any": ["red", "blue"]}}]},
        },
        "query": [5, 5, 5],
        "using": "euc",
        "limit": 5,
    },
}


@pytest.mark.parametrize("name", sorted(QUERIES))
async def test_queries_match_oracle(pair, name):
    b, oracle = pair
    await _query(b, oracle, {**QUERIES[name], "with_payload": True}, scores=name != "order_by")


V = [0.3, -0.2, 0.5, 0.1, 0.0, -0.9]

FILTERS = {
    "match_value": {"must": [{"key": "color", "match": {"value": "red"}}]},
    "match_int": {"must": [{"key": "group", "match": {"value": 3}}]},
    "match_bool": {"must": [{"key": "flag", "match": {"value": True}}]},
    "match_bool_false": {"must": [{"key": "flag", "match": {"value": False}}]},
    "match_any": {"must": [{"key": "tags", "match": {"any": ["a", "d"]}}]},
    "match_except": {"must": [{"key": "color", "match": {"except": ["red", "blue"]}}]},
    "match_text": {"must": [{"key": "title", "match": {"text": "brown"}}]},
    "range": {"must": [{"key": "price", "range": {"gte": 20, "lt": 60}}]},
    "datetime_range": {
        "must": [{"key": "when", "range": {"gt": "2024-01-10T00:00:00Z", "lte": "2024-01-20T00:00:00Z"}}]
    },
    "geo_radius": {
        "must": [{"key": "loc", "geo_radius": {"center": {"lon": 0, "lat": 45}, "radius": 400000}}]
    },
    "geo_box": {
        "must": [
            {
                "key": "loc",
                "geo_bounding_box": {
                    "top_left": {"lon": -5, "lat": 48},
                    "bottom_right": {"lon": 5, "lat": 42},
                },
            }
        ]
    },
    "geo_polygon": {
        "must": [
            {
                "key": "loc",
                "geo_polygon": {
                    "exterior": {
                        "points": [
                            {"lon": -8, "lat": 41},
                            {"lon": 8, "lat": 41},
                            {"lon": 8, "lat": 49},
                            {"lon": -8, "lat": 49},
                            {"lon": -8, "lat": 41},
                        ]
                    }
                },
            }
        ]
    },
    "values_count": {"must": [{"key": "items", "values_count": {"gte": 2}}]},
    "is_empty": {"must": [{"is_empty": {"key": "items"}}]},
    "is_null": {"must": [{"is_null": {"key": "maybe"}}]},
    "has_id": {"must": [{"has_id": [1, 5, 9, 33, 77]}]},
    "has_vector": {"must": [{"has_vector": "sp"}]},
    "nested": {
        "must": [{"nested": {"key": "items", "filter": {"must": [{"key": "k", "match": {"value": 2}}]}}}]
    },
    "should": {
        "should": [{"key": "color", "match": {"value": "red"}}, {"key": "group", "match": {"value": 1}}]
    },
    "must_not": {"must_not": [{"key": "color", "match": {"value": "red"}}]},
    "min_should": {
        "min_should": {
            "conditions": [
                {"key": "color", "match": {"value": "red"}},
                {"key": "flag", "match": {"value": True}},
                {"key": "price", "range": {"lt": 50}},
            ],
            "min_count": 2,
        }
    },
    "nested_filter": {
        "must": [
            {"should": [{"key": "group", "match": {"value": 2}}, {"key": "group", "match": {"value": 4}}]}
        ]
    },
}


@pytest.mark.parametrize("name", sorted(FILTERS))
async def test_filters_match_oracle(pair, name):
    b, oracle = pair
    flt = FILTERS[name]
    body = {"query": V, "using": "dense", "limit": 10, "filter": flt}
    await _query(b, oracle, body)
    ours = (await call(b, "count_points", {"filter": flt}, collection_name="c")).count
    theirs = oracle.count("c", count_filter=qm.Filter(**flt)).count
    assert ours == theirs and ours > 0


async def test_scroll_count_facet_match_oracle(pair):
    b, oracle = pair
    flt = {"must": [{"key": "price", "range": {"gt": 10}}]}
    offset = None
    while True:
        body = {"filter": flt, "limit": 17, "with_payload": True, **({"offset": offset} if offset else {})}
        ours = await call(b, "scroll_points", body, collection_name="c")
        theirs, their_next = oracle.scroll("c", scroll_filter=qm.Filter(**flt), limit=17, offset=offset)
        assert [p.id for p in ours.points] == [p.id for p in theirs]
        assert [_norm(p.payload) for p in ours.points] == [_norm(p.payload) for p in theirs]
        assert ours.next_page_offset == their_next
        if their_next is None:
            break
        offset = their_next
    ours = await call(b, "scroll_points", {"order_by": "price", "limit": 9}, collection_name="c")
    theirs, _ = oracle.scroll("c", order_by="price", limit=9)
    assert [p.id for p in ours.points] == [p.id for p in theirs]
    ours = await call(b, "facet", {"key": "color", "exact": True}, collection_name="c")
    theirs = oracle.facet("c", key="color", exact=True)
    assert [(h.value, h.count) for h in ours.hits] == [(h.value, h.count) for h in theirs.hits]


async def test_payload_ops_and_delete_by_filter_match_oracle(pair):
    b, oracle = pair
    flt = {"must": [{"key": "group", "match": {"value": 2}}]}
    await call(b, "set_payload", {"payload": {"marked": 1}, "filter": flt}, collection_name="c")
    oracle.set_payload("c", payload={"marked": 1}, points=qm.Filter(**flt))
    await call(b, "delete_payload", {"keys": ["price"], "points": [1, 2, 3]}, collection_name="c")
    oracle.delete_payload("c", keys=["price"], points=[1, 2, 3])
    await call(b, "overwrite_payload", {"payload": {"only": True}, "points": [4]}, collection_name="c")
    oracle.overwrite_payload("c", payload={"only": True}, points=[4])
    await call(
        b,
        "delete_points",
        {"filter": {"must": [{"key": "color", "match": {"value": "cyan"}}]}},
        collection_name="c",
    )
    oracle.delete(
        "c",
        points_selector=qm.FilterSelector(
            filter=qm.Filter(must=[qm.FieldCondition(key="color", match=qm.MatchValue(value="cyan"))])
        ),
    )
    ours = await call(b, "scroll_points", {"limit": 1000}, collection_name="c")
    theirs, _ = oracle.scroll("c", limit=1000)
    assert [(p.id, _norm(p.payload)) for p in ours.points] == [(p.id, _norm(p.payload)) for p in theirs]


async def test_groups_match_oracle(pair):
    b, oracle = pair
    ours = await call(
        b,
        "query_points_groups",
        {
            "query": V,
            "using": "dense",
            "group_by": "color",
            "group_size": 3,
            "limit": 4,
            "with_payload": ["price"],
        },
        collection_name="c",
    )
    theirs = oracle.query_points_groups(
        "c", group_by="color", query=V, using="dense", group_size=3, limit=4, with_payload=["price"]
    )
    assert [g.id for g in ours.groups] == [g.id for g in theirs.groups]
    for og, tg in zip(ours.groups, theirs.groups, strict=True):
        _same(og.hits, tg.hits)
        assert [_norm(h.payload) for h in og.hits] == [_norm(h.payload) for h in tg.hits]
    # groups by an array field (a point joins each of its values' groups)
    ours = await call(
        b,
        "query_points_groups",
        {"query": V, "using": "dense", "group_by": "tags", "group_size": 2, "limit": 4},
        collection_name="c",
    )
    theirs = oracle.query_points_groups("c", group_by="tags", query=V, using="dense", group_size=2, limit=4)
    assert sorted(g.id for g in ours.groups) == sorted(g.id for g in theirs.groups)
    for g in ours.groups:
        tg = next(t for t in theirs.groups if t.id == g.id)
        _same(g.hits, tg.hits)


async def test_lookup_from_other_collection(pair):
    b, oracle = pair
    # the vector is looked up under `using` (no `lookup_from.vector`), as on the server
    await call(
        b, "create_collection", {"vectors": {"dense": {"size": 6, "distance": "Cosine"}}}, collection_name="src"
    )
    await call(b, "upsert_points", {"points": [{"id": 500, "vector": {"dense": V}}]}, collection_name="src")
    body = {"query": 500, "using": "dense", "limit": 5, "lookup_from": {"collection": "src"}}
    ours = (await call(b, "query_points", body, collection_name="c")).points
    direct = (
        await call(b, "query_points", {"query": V, "using": "dense", "limit": 5}, collection_name="c")
    ).points
    _same(ours, direct)


async def test_search_matrix(pair):
    b, _ = pair
    pairs = await call(
        b, "search_matrix_pairs", {"sample": 10, "limit": 2, "using": "dense"}, collection_name="c"
    )
    assert len(pairs.pairs) == 20
    for p in pairs.pairs:
        assert p.a != p.b
    offsets = await call(
        b,
        "search_matrix_offsets",
        {
            "sample": N,
            "limit": 1,
            "using": "euc",
            "filter": {"must": [{"key": "color", "match": {"value": "red"}}]},
        },
        collection_name="c",
    )
    # with every matching point sampled, each row's best match is its exact nearest neighbour
    ids = offsets.ids
    assert len(ids) == N // 5 and len(offsets.offsets_row) == len(ids)
    recs = await call(b, "get_points", {"ids": ids, "with_vector": ["euc"]}, collection_name="c")
    vec = {r.id: r.vector["euc"] for r in recs}
    for row, col, score in zip(offsets.offsets_row, offsets.offsets_col, offsets.scores, strict=True):
        a = vec[ids[row]]
        best = min(
            (x for x in ids if x != ids[row]),
            key=lambda x: sum((p - q) ** 2 for p, q in zip(a, vec[x], strict=True)),
        )
        assert ids[col] == best
        assert score == pytest.approx(
            sum((p - q) ** 2 for p, q in zip(a, vec[best], strict=True)) ** 0.5, rel=1e-4
        )


FORMULAS = {
    "sum_mult": {"formula": {"sum": ["$score", {"mult": [0.01, "price"]}]}, "defaults": {"price": 0}},
    "condition": {
        "formula": {"sum": ["$score", {"mult": [0.5, {"key": "color", "match": {"value": "red"}}]}]}
    },
    "decay": {"formula": {"sum": ["$score", {"exp_decay": {"x": "price", "target": 50, "scale": 20}}]}},
    "geo": {
        "formula": {
            "sum": [
                "$score",
                {"mult": [-0.000001, {"geo_distance": {"origin": {"lon": 0, "lat": 45}, "to": "loc"}}]},
            ]
        }
    },
}


@pytest.mark.parametrize("name", sorted(FORMULAS))
async def test_formula_queries_match_oracle(pair, name):
    b, oracle = pair
    body = {"prefetch": {"query": V, "using": "dense", "limit": 40}, "query": FORMULAS[name], "limit": 10}
    await _query(b, oracle, body)


async def test_multivectors_match_oracle():
    rnd = random.Random(11)
    oracle = QdrantClient(":memory:")
    cfg = {"size": 4, "distance": "Dot", "multivector_config": {"comparator": "max_sim"}}
    oracle.create_collection("m", vectors_config=qm.VectorParams(**cfg))
    points = [
        {"id": i, "vector": [[rnd.uniform(-1, 1) for _ in range(4)] for _ in range(rnd.randint(1, 4))]}
        for i in range(1, 60)
    ]
    oracle.upsert("m", points=[qm.PointStruct(**p) for p in points])
    b = LocalBackend(None)
    try:
        await call(b, "create_collection", {"vectors": cfg}, collection_name="m")
        await call(b, "upsert_points", {"points": points}, collection_name="m")
        body = {"query": [[0.5, -0.1, 0.3, 0.9], [0.1, 0.2, -0.7, 0.0]], "limit": 8}
        ours = (await call(b, "query_points", body, collection_name="m")).points
        theirs = oracle.query_batch_points("m", [qm.QueryRequest(**body)])[0].points
        _same(ours, theirs)
        rec = (await call(b, "get_points", {"ids": [3], "with_vector": True}, collection_name="m"))[0]
        assert len(rec.vector) == len(points[2]["vector"])
    finally:
        await b.aclose()
        oracle.close()


async def test_mmr_sample_and_feedback_queries_run(pair):
    b, _ = pair
    mmr = await call(
        b,
        "query_points",
        {"query": {"nearest": V, "mmr": {"diversity": 0.5}}, "using": "dense", "limit": 5},
        collection_name="c",
    )
    plain = await call(b, "query_points", {"query": V, "using": "dense", "limit": 5}, collection_name="c")
    assert len(mmr.points) == 5 and mmr.points[0].id == plain.points[0].id
    sample = await call(b, "query_points", {"query": {"sample": "random"}, "limit": 7}, collection_name="c")
    assert len({p.id for p in sample.points}) == 7
    fb = {
        "relevance_feedback": {
            "target": V,
            "feedback": [{"example": 1, "score": 0.9}, {"example": 2, "score": 0.1}],
            "strategy": {"naive": {"a": 1.0, "b": 1.0, "c": 1.0}},
        }
    }
    res = await call(b, "query_points", {"query": fb, "using": "dense", "limit": 5}, collection_name="c")
    assert len(res.points) == 5 and {1, 2}.isdisjoint(p.id for p in res.points)
    batch = await call(
        b,
        "query_batch_points",
        {
            "searches": [
                {"query": V, "using": "dense", "limit": 3},
                {"query": [5, 5, 5], "using": "euc", "limit": 2},
            ]
        },
        collection_name="c",
    )
    assert [len(r.points) for r in batch] == [3, 2]
    assert [p.id for p in batch[0].points] == [p.id for p in plain.points[:3]]
