"""A property-based corpus of malformed input thrown at the embedded engine on every write path
(upsert, update_vectors, batch_update, create/update collection, create vector name, filters):
whatever it is, the answer is a client error, the engine process is the same one afterwards,
the collection no example touches is intact, and a close + reopen of the ``path=`` store finds
every collection with the same number of points. Then the dev server: the issue's malformed
sparse vector over REST and over gRPC leaves every other collection intact."""

from __future__ import annotations

import math

import anyio
import anyio.from_thread
import anyio.to_thread
import httpx
import msgspec
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_local_helpers import call

from aqdrant import AsyncQdrantClient, QdrantError, ValidationError, models
from aqdrant.local import LocalBackend
from aqdrant.server import ServerThread

pytestmark = pytest.mark.anyio

MIXED = {
    "vectors": {
        "d": {"size": 2, "distance": "Dot"},
        "m": {"size": 2, "distance": "Dot", "multivector_config": {"comparator": "max_sim"}},
    },
    "sparse_vectors": {"s": {}},
}
KEEP = [{"id": i, "vector": [float(i), 1.0, -1.0], "payload": {"i": i}} for i in range(6)]

# -- values --------------------------------------------------------------------------------------

finite = st.floats(-1e3, 1e3, allow_nan=False, width=32)
bad_float = st.sampled_from([math.nan, math.inf, -math.inf, 1e39, -1e39, 3.5e38, 1e300])
number = st.one_of(finite, bad_float, st.integers(-(2**70), 2**70))
junk = st.one_of(st.none(), st.booleans(), st.text(max_size=3), st.just({}), st.just([]))
value = st.one_of(finite, finite, finite, bad_float, junk)
row = st.lists(value, max_size=4)


def _f32(v: list) -> np.ndarray:
    with np.errstate(over="ignore"):  # 1e39 becomes inf in float32: exactly what is wanted
        return np.asarray(v, dtype=np.float32)


dense = st.one_of(
    st.lists(value, max_size=5),
    st.lists(st.one_of(finite, bad_float), min_size=1, max_size=3).map(_f32),
    st.lists(st.one_of(finite, bad_float), min_size=1, max_size=3).map(
        lambda v: np.asarray(v, dtype=np.float64)
    ),
)
multi = st.lists(st.one_of(row, st.just([]), st.lists(finite, min_size=2, max_size=2)), max_size=3)
sparse = st.fixed_dictionaries(
    {
        "indices": st.lists(st.one_of(st.integers(-3, 10), st.integers(2**32 - 2, 2**33), junk), max_size=4),
        "values": st.lists(st.one_of(finite, bad_float, junk), max_size=4),
    }
)
one_vector = st.one_of(dense, multi, sparse, junk)
named = st.dictionaries(st.sampled_from(["d", "m", "s", "nope", ""]), one_vector, max_size=3)
# near-valid points (valid but for one flaw) reach the engine: what it would panic on or store
good_d = st.lists(finite, min_size=2, max_size=2)
good_m = st.lists(good_d, min_size=1, max_size=3)
good_s = st.lists(st.tuples(st.integers(0, 1000), finite), max_size=4, unique_by=lambda x: x[0]).map(
    lambda xs: {"indices": [i for i, _ in xs], "values": [v for _, v in xs]}
)
flawed = st.one_of(
    st.tuples(st.just("s"), sparse),
    st.tuples(
        st.just("s"),
        good_s.map(lambda v: {"indices": v["indices"] + [0, 0], "values": v["values"] + [1.0, 2.0]}),
    ),
    st.tuples(st.just("s"), good_s.map(lambda v: {"indices": v["indices"] + [7], "values": v["values"]})),
    st.tuples(st.just("m"), st.tuples(good_m, row).map(lambda x: x[0] + [x[1]])),
    st.tuples(
        st.just("d"), st.tuples(bad_float, st.integers(0, 1)).map(lambda x: [1.0, 1.0][: x[1]] + [x[0]])
    ),
    st.tuples(st.just("d"), st.sampled_from([[], [1.0], [1.0, 2.0, 3.0]])),
)
near_valid = st.tuples(st.fixed_dictionaries({"d": good_d}, optional={"m": good_m, "s": good_s}), flawed).map(
    lambda x: {**x[0], x[1][0]: x[1][1]}
)
unnamed_flawed = st.tuples(bad_float, st.integers(0, 2)).map(
    lambda x: [0.5, 0.5, 0.5][: x[1]] + [x[0]] + [0.5] * (2 - x[1])
)
vector_struct = st.one_of(near_valid, near_valid, near_valid, unnamed_flawed, named, dense, multi)
# mostly valid ids: a point refused for its id never shows what its vectors would do
point_id = st.one_of(
    *[st.integers(0, 50)] * 6, st.uuids().map(str), st.integers(-3, -1), st.text(max_size=3), finite
)
point = st.fixed_dictionaries(
    {"id": point_id, "vector": vector_struct}, optional={"payload": st.just({"a": 1})}
)

condition = st.deferred(
    lambda: st.one_of(
        st.fixed_dictionaries({"key": st.text(max_size=3), "match": st.fixed_dictionaries({"value": value})}),
        st.fixed_dictionaries(
            {
                "key": st.just("a"),
                "range": st.dictionaries(st.sampled_from(["gt", "gte", "lt", "lte"]), number),
            }
        ),
        st.fixed_dictionaries({"has_id": st.lists(point_id, max_size=3)}),
        st.fixed_dictionaries(
            {
                "key": st.just("geo"),
                "geo_radius": st.fixed_dictionaries(
                    {"center": st.fixed_dictionaries({"lon": number, "lat": number}), "radius": number}
                ),
            }
        ),
        st.fixed_dictionaries(
            {"key": st.just("a"), "values_count": st.dictionaries(st.sampled_from(["gt", "lt"]), number)}
        ),
        st.fixed_dictionaries({"is_empty": st.fixed_dictionaries({"key": st.text(max_size=2)})}),
        st.fixed_dictionaries({"nested": st.fixed_dictionaries({"key": st.just("n"), "filter": filters})}),
        st.fixed_dictionaries(
            {
                "min_should": st.fixed_dictionaries(
                    {"conditions": st.lists(condition, max_size=2), "min_count": number}
                )
            }
        ),
        junk,
    )
)
filters = st.dictionaries(
    st.sampled_from(["must", "should", "must_not"]), st.lists(condition, max_size=2), max_size=2
)

bound = st.one_of(st.integers(-5, 200_000), st.floats(-2, 2), junk)
hnsw = st.dictionaries(
    st.sampled_from(["m", "ef_construct", "full_scan_threshold", "payload_m"]), bound, max_size=2
)
optimizers = st.dictionaries(
    st.sampled_from(
        [
            "deleted_threshold",
            "vacuum_min_vector_number",
            "default_segment_number",
            "max_segment_size",
            "indexing_threshold",
        ]
    ),
    bound,
    max_size=2,
)
dense_params = st.fixed_dictionaries(
    {
        "size": st.one_of(st.integers(-2, 70_000), st.integers(0, 3), junk),
        "distance": st.sampled_from(["Dot", "Cosine"]),
    },
    optional={
        "hnsw_config": hnsw,
        "multivector_config": st.just({"comparator": "max_sim"}),
        "quantization_config": st.fixed_dictionaries(
            {"scalar": st.fixed_dictionaries({"type": st.just("int8"), "quantile": bound})}
        ),
    },
)
collection_config = st.fixed_dictionaries(
    {
        "vectors": st.one_of(
            dense_params, st.dictionaries(st.sampled_from(["a", "b", "s"]), dense_params, max_size=2)
        )
    },
    optional={
        "sparse_vectors": st.dictionaries(st.sampled_from(["a", "s"]), st.just({}), max_size=2),
        "hnsw_config": hnsw,
        "optimizers_config": optimizers,
    },
)

# -- operations (op, path, body) -----------------------------------------------------------------

target = st.sampled_from(["t", "t", "u"])
upsert_body = st.one_of(
    st.fixed_dictionaries({"points": st.lists(point, min_size=1, max_size=3)}),
    st.lists(point, min_size=1, max_size=3).map(
        lambda ps: {"batch": {"ids": [p["id"] for p in ps], "vectors": [p["vector"] for p in ps]}}
    ),
    st.lists(st.tuples(point_id, one_vector), min_size=1, max_size=3).map(
        lambda xs: {"batch": {"ids": [i for i, _ in xs], "vectors": {"d": [v for _, v in xs]}}}
    ),
    st.fixed_dictionaries({"points": st.lists(point, min_size=1, max_size=2), "update_filter": filters}),
)
update_vectors_body = st.fixed_dictionaries(
    {
        "points": st.lists(
            st.fixed_dictionaries({"id": point_id, "vector": vector_struct}), min_size=1, max_size=3
        )
    },
    optional={"update_filter": filters},
)
batch_op = st.one_of(
    upsert_body.map(lambda b: {"upsert": b}),
    update_vectors_body.map(lambda b: {"update_vectors": b}),
    filters.map(lambda f: {"delete": {"filter": f}}),
    filters.map(lambda f: {"set_payload": {"payload": {"x": 1}, "filter": f}}),
)
operations = st.one_of(
    st.tuples(st.just("upsert_points"), target.map(lambda t: {"collection_name": t}), upsert_body),
    st.tuples(st.just("update_vectors"), target.map(lambda t: {"collection_name": t}), update_vectors_body),
    st.tuples(
        st.just("batch_update"),
        target.map(lambda t: {"collection_name": t}),
        st.fixed_dictionaries({"operations": st.lists(batch_op, min_size=1, max_size=3)}),
    ),
    st.tuples(
        st.just("create_collection"),
        st.sampled_from(["n1", "n2", "t"]).map(lambda n: {"collection_name": n}),
        collection_config,
    ),
    st.tuples(
        st.just("update_collection"),
        target.map(lambda t: {"collection_name": t}),
        st.fixed_dictionaries(
            {},
            optional={
                "hnsw_config": hnsw,
                "optimizers_config": optimizers,
                "vectors": st.dictionaries(
                    st.sampled_from(["d", "m", ""]),
                    st.fixed_dictionaries({}, optional={"hnsw_config": hnsw}),
                    max_size=1,
                ),
                "params": st.dictionaries(
                    st.sampled_from(["replication_factor", "read_fan_out_factor"]), bound, max_size=1
                ),
            },
        ),
    ),
    st.tuples(
        st.just("create_vector_name"),
        st.sampled_from(["d", "s", "m", "v1", "v2"]).map(
            lambda v: {"collection_name": "t", "vector_name": v}
        ),
        st.one_of(dense_params.map(lambda d: {"dense": d}), st.just({"sparse": {}})),
    ),
    st.tuples(
        st.sampled_from(["count_points", "delete_points", "scroll_points"]),
        target.map(lambda t: {"collection_name": t}),
        filters.map(lambda f: {"filter": f, "exact": True} if f else {"filter": None, "points": [1]}),
    ),
)


def _values(v: object) -> list[float]:
    """Every float of a stored vector struct (dense, multi, sparse, named)."""
    if isinstance(v, dict):
        return [x for item in v.values() for x in _values(item)]
    if isinstance(v, models.SparseVector):
        return list(v.values)
    if isinstance(v, models.RawVector):
        return v.tolist()
    if isinstance(v, list):
        return [x for item in v for x in (_values(item) if isinstance(item, list) else [item])]
    return []


async def _counts(b: LocalBackend) -> dict[str, int]:
    """Points per collection; every stored vector value is finite (nothing was stored corrupt)."""
    names = (await b.call("get_collections"))["result"]
    out = {}
    for c in sorted(c["name"] for c in msgspec.json.decode(names)["collections"]):
        reply = await b.call("count_points", path={"collection_name": c}, body={"exact": True})
        assert reply["ok"], reply
        out[c] = msgspec.json.decode(reply["result"])["count"]
        page = await call(b, "scroll_points", {"limit": 10_000, "with_vector": True}, collection_name=c)
        assert len(page.points) == out[c]
        values = [x for p in page.points for x in _values(p.vector)]
        assert all(math.isfinite(x) for x in values), c
    return out


async def _keep_intact(b: LocalBackend) -> None:
    reply = await b.call("count_points", path={"collection_name": "keep"}, body={"exact": True})
    assert reply["ok"] and reply["result"] == b'{"count":6}', reply
    reply = await b.call(
        "get_points", path={"collection_name": "keep"}, body={"ids": [4], "with_vector": True}
    )
    assert reply["ok"], reply


async def test_malformed_corpus_never_takes_the_engine_down(tmp_path):
    path = str(tmp_path / "db")
    b = LocalBackend(path, optimize="never")
    seen: dict[str, int] = {}
    accepted: list[tuple] = []  # every operation and its error, in order (shown when the reopen differs)
    try:
        for name, body in (
            ("keep", {"vectors": {"size": 3, "distance": "Dot"}}),
            ("t", MIXED),
            ("u", {"vectors": {"size": 3, "distance": "Cosine"}}),
        ):
            assert (await b.call("create_collection", path={"collection_name": name}, body=body))["ok"]
        assert (await b.call("upsert_points", path={"collection_name": "keep"}, body={"points": KEEP}))["ok"]
        pid = b.pid

        async def one(op: str, path_params: dict, body: dict) -> None:
            try:
                reply = await b.call(op, path=path_params, body=body)
            except ValidationError:  # refused before sending (an integer beyond 64 bits)
                reply = {"ok": False, "error": {"kind": "client", "status": 400}}
            accepted.append((op, path_params, body, reply.get("error")))
            if not reply["ok"]:
                err = reply["error"]
                # a client error: refused by the guard (invalid, 422) or by the engine (400),
                # never a panic, a damaged shard or an internal error
                assert err["kind"] in ("invalid", "status", "unsupported", "client"), (op, body, err)
                assert err["status"] < 500 or err["kind"] == "unsupported", (op, body, err)
                seen[err["kind"]] = seen.get(err["kind"], 0) + 1
            else:
                seen["ok"] = seen.get("ok", 0) + 1
            assert b.pid == pid, (op, body)  # the same engine process
            await _keep_intact(b)

        async with anyio.from_thread.BlockingPortal() as portal:

            @settings(
                max_examples=150,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
                database=None,
            )
            @given(case=operations)
            def run(case: tuple) -> None:
                portal.call(one, *case)

            # hypothesis drives the examples from a worker thread; each runs in this event loop
            await anyio.to_thread.run_sync(run)
        print("corpus outcomes:", seen)
        assert seen.get("invalid", 0) > 10, seen  # the corpus did reach the guard
        before = await _counts(b)
    finally:
        await b.aclose()
    b = LocalBackend(path, optimize="never")
    try:
        after = await _counts(b)
        # close + reopen: every collection, the same counts
        differ = {c for c in before if before[c] != after.get(c)}
        assert after == before, "\n".join(repr(a) for a in accepted if a[1].get("collection_name") in differ)
        await _keep_intact(b)
    finally:
        await b.aclose()


# -- the dev server ------------------------------------------------------------------------------

BAD_SPARSE = {"points": [{"id": 1, "vector": {"s": {"indices": [1, 2, 3], "values": [0.5]}}}]}


async def test_malformed_sparse_vector_over_rest_and_grpc_leaves_the_server_intact():
    with ServerThread(grpc_port=0) as srv:
        async with httpx.AsyncClient(base_url=srv.url) as http:
            for name, body in (
                ("big", {"vectors": {"size": 2, "distance": "Dot"}}),
                ("sp", {"sparse_vectors": {"s": {}}}),
            ):
                assert (await http.put(f"/collections/{name}", json=body)).status_code == 200
            points = [{"id": i, "vector": [1.0, float(i)]} for i in range(50)]
            assert (
                await http.put("/collections/big/points?wait=true", json={"points": points})
            ).status_code == 200

            # REST: a client error, and nothing lost
            r = await http.put("/collections/sp/points?wait=true", json=BAD_SPARSE)
            assert r.status_code in (400, 422), r.text
            assert "same length" in r.json()["status"]["error"]

            # gRPC (the client's own checks off: the server must stand on its own)
            async with AsyncQdrantClient(
                url=srv.url, prefer_grpc=True, grpc_port=srv.grpc_port, validate_vectors=False
            ) as client:
                with pytest.raises(QdrantError, match="same length"):
                    await client.upsert(
                        "sp",
                        [
                            models.PointStruct(
                                id=2, vector={"s": models.SparseVector(indices=[1, 2, 3], values=[0.5])}
                            )
                        ],
                    )
                assert (await client.count("big")).count == 50
                assert {c.name for c in (await client.get_collections()).collections} == {"big", "sp"}

            r = await http.post("/collections/big/points/count", json={"exact": True})
            assert r.json()["result"]["count"] == 50
            r = await http.post("/collections/big/points", json={"ids": [7], "with_vector": True})
            assert r.json()["result"][0]["vector"] == [1.0, 7.0]
            ok = {"points": [{"id": 3, "vector": {"s": {"indices": [1, 2], "values": [0.5, 0.25]}}}]}
            assert (await http.put("/collections/sp/points?wait=true", json=ok)).status_code == 200
            r = await http.post("/collections/sp/points/count", json={"exact": True})
            assert r.json()["result"]["count"] == 1
