"""Behaving as a standalone Qdrant 1.19 node does (issue 16, points 1, 3, 6, 7): one table of
cases, each run on the dev server over REST and gRPC and through the client (local mode, REST,
gRPC), on both anyio backends.

* request validation: 422 ``Validation error in JSON body: [path: message]`` over REST, gRPC
  INVALID_ARGUMENT ``Validation error in body: [...]``, and the client refusing the same request
  before it is sent (aqdrant's ValidationError naming the field) - nothing is created;
* JSON as Qdrant writes it: float32 shortest digits, nulls, warnings, commit, aliases;
* a standalone node's service endpoints and the deprecated routes;
* request size limits and API keys (read-only key).

Raw gRPC calls use grpclib, which is asyncio-only; the client legs run on both backends. The
official client's local mode is no oracle here: it accepts most of these requests.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import httpx
import numpy as np
import pytest
from test_grpc_server import call as grpc_call

from aqdrant import AsyncQdrantClient, _constraints, models
from aqdrant._operations import OPERATIONS
from aqdrant.errors import ValidationError
from aqdrant.grpc import convert
from aqdrant.server import ServerThread

pytestmark = pytest.mark.anyio

READ_ONLY_KEY = "read-only-secret"
FULL_KEY = "full-secret"


@pytest.fixture(scope="module")
def srv():
    with ServerThread(grpc_port=0) as s:
        yield s


@pytest.fixture(scope="module")
def keyed():
    with ServerThread(grpc_port=0, api_key=FULL_KEY, read_only_api_key=READ_ONLY_KEY, max_request_size_mb=1) as s:
        yield s


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# ---- point 1: request validation --------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    id: str
    op: str
    body: Any
    #: the (path, message) pairs Qdrant reports, in any order
    expect: tuple[tuple[str, str], ...]
    path_params: dict = field(default_factory=dict)
    where: str = _constraints.JSON_BODY
    #: the gRPC message carries the offending value (False where gRPC cannot say it)
    grpc: bool = True

    def params(self, collection: str) -> dict:
        return {"collection_name": collection, **self.path_params}


def _dense(size: Any, **kw: Any) -> dict:
    return {"size": size, "distance": "Cosine", **kw}


RANGE_1 = "value 0 invalid, must be 1 or larger"
CASES = [
    Case("size-0", "create_collection", {"vectors": _dense(0)}, (("vectors.size", "value 0 invalid, must be from 1 to 65536"),)),
    Case(
        "size-too-big-named",
        "create_collection",
        {"vectors": {"a": _dense(65537)}},
        (("vectors.?.size", "value 65537 invalid, must be from 1 to 65536"),),
    ),
    Case(
        "factors-0",
        "create_collection",
        {"vectors": _dense(4), "shard_number": 0, "replication_factor": 0, "write_consistency_factor": 0},
        (("shard_number", RANGE_1), ("replication_factor", RANGE_1), ("write_consistency_factor", RANGE_1)),
    ),
    Case(
        "ef-construct-3",
        "create_collection",
        {"vectors": _dense(4), "hnsw_config": {"ef_construct": 3}},
        (("hnsw_config.ef_construct", "value 3 invalid, must be 4 or larger"),),
    ),
    Case(
        "quantile",
        "create_collection",
        {"vectors": _dense(4), "quantization_config": {"scalar": {"type": "int8", "quantile": 0.3}}},
        (("quantization_config.scalar.quantile", "value 0.3 invalid, must be from 0.5 to 1.0"),),
    ),
    Case(
        "dense-pinned",
        "create_collection",
        {"vectors": _dense(4, memory="pinned")},
        (("vectors.memory", "`pinned` memory placement is not supported for dense vector storage"),),
        grpc=False,  # the gRPC VectorParams of 1.19 has no `memory`
    ),
    Case(
        "name-256",
        "create_collection",
        {"vectors": _dense(4)},
        (("name", _constraints.length_message("n" * 256, 1, 255)),),
        path_params={"collection_name": "n" * 256},
        where=_constraints.PATH_PARAMS,
    ),
    Case(
        "empty-dense",
        "upsert_points",
        {"points": [{"id": 1, "vector": []}]},
        (("points[0].vector.vector", "dense vector must not be empty"),),
    ),
    Case(
        "empty-multivector-row",
        "upsert_points",
        {"points": [{"id": 1, "vector": {"m": [[0.1], []]}}]},
        (("points[0].vector.?.data", "all vectors must be non-empty"),),
        grpc=False,  # gRPC's flat multivector cannot hold a ragged row
    ),
    Case(
        "sparse-duplicate-indices",
        "upsert_points",
        {"points": [{"id": 1, "vector": {"s": {"indices": [1, 1], "values": [0.1, 0.2]}}}]},
        (("points[0].vector.?.indices", "Validation error: must be unique [{}]"),),
    ),
    Case(
        "update-vectors-empty-map",
        "update_vectors",
        {"points": [{"id": 1, "vector": {}}]},
        (("points[0].vector", "must specify vectors to update for point"),),
    ),
    Case(
        "query-limit-0",
        "query_points",
        {"query": [0.1, 0.2], "limit": 0},
        (("internal.limit", RANGE_1),),
        grpc=False,  # gRPC's limit 0 means "unset"
    ),
    Case(
        "query-hnsw-ef-0",
        "query_points",
        {"query": [0.1, 0.2], "params": {"hnsw_ef": 0}},
        (("internal.params.hnsw_ef", RANGE_1),),
    ),
    Case(
        "condition-key-only",
        "query_points",
        {"query": [0.1, 0.2], "filter": {"must": [{"key": "a"}]}},
        (("internal.filter.must[0].match", "Validation error: At least one field condition must be specified [{}]"),),
    ),
    Case(
        "recommend-no-examples",
        "query_points",
        {"query": {"recommend": {"positive": [], "negative": []}}},
        (
            (
                "internal.query.recommend.positives, negatives",
                "Validation error: At least one positive or negative vector/id must be provided [{}]",
            ),
        ),
    ),
    Case(
        "integer-index-no-capability",
        "create_field_index",
        {"field_name": "n", "field_schema": {"type": "integer", "lookup": False, "range": False}},
        (("field_schema.lookup", "Validation error: the 'lookup' and 'range' capabilities can't be both disabled [{}]"),),
    ),
    Case(
        "scroll-limit-0",
        "scroll_points",
        {"limit": 0},
        (("limit", RANGE_1),),
        grpc=False,  # gRPC's limit 0 means "unset"
    ),
    Case(
        "matrix-sample-1",
        "search_matrix_pairs",
        {"sample": 1},
        (("sample", "value 1 invalid, must be 2 or larger"),),
    ),
    Case(
        "name-256-get-point",  # every route's collection path is 1..255 characters, not only creation
        "get_point",
        None,
        (("name", _constraints.length_message("n" * 256, 1, 255)),),
        path_params={"collection_name": "n" * 256, "id": 1},
        where=_constraints.PATH_PARAMS,
        grpc=False,  # the gRPC leg is the scroll case below
    ),
    Case(
        "name-256-scroll",
        "scroll_points",
        {},
        (("name", _constraints.length_message("n" * 256, 1, 255)),),
        path_params={"collection_name": "n" * 256},
        where=_constraints.PATH_PARAMS,
    ),
    Case(
        "slice-index-out-of-range",
        "scroll_points",
        {"filter": {"must": [{"slice": {"total": 4, "index": 4}}]}},
        (("filter.must[0].slice.index", "value 4 invalid, must be from 0 to 3"),),
    ),
]
GRPC_CASES = [c for c in CASES if c.grpc]


def _parts(text: str, where: str) -> set[str]:
    head = f"Validation error in {where}: ["
    assert text.startswith(head) and text.endswith("]"), text
    return set(text[len(head) : -1].split("; "))


def _expected(case: Case) -> set[str]:
    return {f"{p}: {m}" for p, m in case.expect}


def test_table_cases_are_what_the_shared_rules_find() -> None:
    """The rules, straight: every case breaks exactly the rules listed; a fixed case passes."""
    for case in CASES:
        body = models.parse(OPERATIONS[case.op].body_type, case.body)
        found = _constraints.check(case.op, case.params("c"), body)
        assert found is not None, case.id
        assert found[0] == case.where and set(found[1]) == set(case.expect), case.id
    ok = models.parse(models.CreateCollection, {"vectors": _dense(65536), "hnsw_config": {"ef_construct": 4}})
    assert _constraints.check("create_collection", {"collection_name": "n" * 255}, ok) is None


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_rest_refuses_with_422_and_qdrants_text(srv, case: Case, anyio_backend) -> None:
    name = case.path_params.get("collection_name") or unique("v")
    op = OPERATIONS[case.op]
    async with httpx.AsyncClient(base_url=srv.url) as http:
        r = await http.request(op.method, op.url_path(**case.params(name)), json=case.body)
        assert r.status_code == 422, r.text
        assert _parts(r.json()["status"]["error"], case.where) == _expected(case)
        if case.op == "create_collection" and len(name) <= 255:  # refused collections are never created
            assert (await http.get(f"/collections/{name}/exists")).json()["result"]["exists"] is False


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("case", GRPC_CASES, ids=lambda c: c.id)
async def test_grpc_refuses_with_invalid_argument_and_qdrants_text(srv, case: Case, anyio_backend) -> None:
    from grpclib.const import Status
    from grpclib.exceptions import GRPCError

    from aqdrant.grpc._proto import qdrant as q

    name = case.path_params.get("collection_name") or unique("g")
    op = OPERATIONS[case.op]
    body = models.parse(op.body_type, case.body)
    message = convert.request_to_grpc(case.op, case.params(name), {}, body)
    service, method = op.grpc.split(".")
    with pytest.raises(GRPCError) as refused:
        await grpc_call(srv.grpc_port, f"/qdrant.{service}/{method}", message, q.CollectionOperationResponse)
    assert refused.value.status == Status.INVALID_ARGUMENT
    expected = _expected(case)
    if case.where == _constraints.PATH_PARAMS:  # a field of the request message over gRPC
        expected = {e.replace("name: ", "collection_name: ", 1) for e in expected}
    assert _parts(refused.value.message, _constraints.GRPC_BODY) == expected


@pytest.fixture(params=["local", "rest", "grpc"])
async def client(request, srv, anyio_backend):
    if request.param == "local":
        c = AsyncQdrantClient(":memory:")
    elif request.param == "rest":
        c = AsyncQdrantClient(url=srv.url, check_compatibility=False)
    else:
        c = AsyncQdrantClient(url=srv.url, grpc_port=srv.grpc_port, prefer_grpc=True, check_compatibility=False)
    async with c:
        yield c


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_client_refuses_before_sending(client, case: Case) -> None:
    name = case.path_params.get("collection_name") or unique("c")
    body = models.parse(OPERATIONS[case.op].body_type, case.body)
    with pytest.raises(ValidationError) as refused:
        await client._call(case.op, path=case.params(name), body=body)
    assert refused.value.path in {p for p, _ in case.expect}
    assert case.op in str(refused.value)
    assert _parts(str(refused.value).split(": ", 1)[1], case.where) == _expected(case)
    if case.op == "create_collection" and len(name) <= 255:
        assert await client.collection_exists(name) is False


# ---- values Qdrant cannot even deserialize: 400 "Format error in JSON body", not 422 --------------
#: (id, op, body, the offending field, Qdrant's text after "Format error in JSON body: ")
NO_CONDITION = "data did not match any variant of untagged enum Condition"
FORMAT_CASES = [
    # Slice.total is a NonZeroU32, inside the untagged Condition
    ("slice-total-0", "scroll_points", {"filter": {"must": [{"slice": {"total": 0, "index": 0}}]}}, "filter.must[0].slice.total", NO_CONDITION),
    # an empty JSON path
    ("set-payload-empty-key", "set_payload", {"payload": {"a": 1}, "points": [1], "key": ""}, "key", "Invalid json path: ''"),
    ("delete-payload-empty-key", "delete_payload", {"keys": ["a", ""], "points": [1]}, "keys", "Invalid json path: ''"),
    ("facet-empty-key", "facet", {"key": ""}, "key", "Invalid json path: ''"),
    ("filter-empty-key", "count_points", {"filter": {"must": [{"key": "", "match": {"value": "x"}}]}}, "filter.must[0].key", NO_CONDITION),
]


@pytest.mark.parametrize("case", FORMAT_CASES, ids=lambda c: c[0])
async def test_rest_refuses_undeserializable_values_with_400(srv, case, anyio_backend) -> None:
    _, op_name, body, _, text = case
    name = unique("f")
    op = OPERATIONS[op_name]
    async with httpx.AsyncClient(base_url=srv.url) as http:
        assert (await http.put(f"/collections/{name}", json={"vectors": _dense(2)})).status_code == 200
        r = await http.request(op.method, op.url_path(collection_name=name), json=body)
        assert r.status_code == 400, r.text
        assert r.json()["status"]["error"] == f"Format error in JSON body: {text}"


@pytest.mark.parametrize("case", FORMAT_CASES, ids=lambda c: c[0])
async def test_client_refuses_undeserializable_values_before_sending(client, case) -> None:
    _, op_name, body, path, text = case
    with pytest.raises(ValidationError) as refused:
        await client._call(op_name, path={"collection_name": unique("f")}, body=models.parse(OPERATIONS[op_name].body_type, body))
    assert refused.value.path == path
    assert str(refused.value) == f"{op_name}: Format error in JSON body: {text}"


async def test_client_methods_name_the_offending_field(client) -> None:
    name = unique("m")
    with pytest.raises(ValidationError) as bad_size:
        await client.create_collection(name, vectors_config=models.VectorParams(size=0, distance=models.Distance.COSINE))
    assert bad_size.value.path == "vectors.size" and "must be from 1 to 65536" in str(bad_size.value)
    assert await client.collection_exists(name) is False
    await client.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.COSINE))
    with pytest.raises(ValidationError) as bad_limit:
        await client.query_points(name, query=[0.1, 0.2], limit=0)
    assert bad_limit.value.path == "internal.limit"
    with pytest.raises(ValidationError) as bad_index:
        await client.create_payload_index(
            name, "n", field_schema=models.IntegerIndexParams(type="integer", lookup=False, range=False)
        )
    assert bad_index.value.path == "field_schema.lookup"
    await client.delete_collection(name)


async def test_undeserializable_body_is_400_not_422(srv, anyio_backend) -> None:
    async with httpx.AsyncClient(base_url=srv.url) as http:
        r = await http.put(f"/collections/{unique('d')}", json={"vectors": {"size": "four", "distance": "Cosine"}})
        assert r.status_code == 400 and r.json()["status"]["error"].startswith("Format error in JSON body")
        r = await http.put(f"/collections/{unique('d')}", content=b"{not json")
        assert r.status_code == 400


async def test_query_parameter_out_of_range_is_422(srv, anyio_backend) -> None:
    async with httpx.AsyncClient(base_url=srv.url) as http:
        r = await http.post(f"/collections/{unique('t')}/points/scroll?timeout=0", json={})
        assert r.status_code == 422
        assert r.json()["status"]["error"] == "Validation error in query parameters: [timeout: value 0 invalid, must be 1 or larger]"


# ---- point 3: JSON as Qdrant writes it -----------------------------------------------------------
async def _filled(http: httpx.AsyncClient) -> str:
    name = unique("j")
    r = await http.put(f"/collections/{name}", json={"vectors": {"size": 3, "distance": "Dot"}})
    assert r.status_code == 200, r.text
    points = [{"id": 1, "vector": [0.1, 0.2, 0.3]}, {"id": 2, "vector": [0.3, 0.2, 0.1]}]
    r = await http.put(f"/collections/{name}/points?wait=true", json={"points": points})
    assert r.status_code == 200, r.text
    return name


async def test_rest_writes_float32_shortest_digits(srv, anyio_backend) -> None:
    async with httpx.AsyncClient(base_url=srv.url) as http:
        name = await _filled(http)
        r = await http.post(f"/collections/{name}/points/query", json={"query": [0.1, 0.2, 0.3], "with_vector": True})
        text = r.text
        assert '"vector":[0.1,0.2,0.3]' in text and "0.10000000149011612" not in text
        scores = [p["score"] for p in r.json()["result"]["points"]]
        # each score is the float32 the engine computed, written with float32's shortest digits
        assert scores == [float(str(np.float32(s))) for s in scores]
        assert str(np.float32(0.1) * np.float32(0.1) + np.float32(0.2) ** 2 + np.float32(0.3) ** 2) in text
        r = await http.post(f"/collections/{name}/points/search/matrix/pairs", json={"sample": 2, "limit": 1})
        pair_scores = [p["score"] for p in r.json()["result"]["pairs"]]
        assert pair_scores == [float(str(np.float32(s))) for s in pair_scores] and len(pair_scores) == 2
        r = await http.post(f"/collections/{name}/points", json={"ids": [2], "with_vector": True})
        assert r.json()["result"][0]["vector"] == [0.3, 0.2, 0.1]


async def test_rest_writes_nulls_warnings_commit_and_takes_aliases(srv, anyio_backend) -> None:
    async with httpx.AsyncClient(base_url=srv.url) as http:
        root = (await http.get("/")).json()
        assert set(root) == {"title", "version", "commit"} and root["version"] == "1.19.0"
        name = await _filled(http)
        scroll = (await http.post(f"/collections/{name}/points/scroll", json={"limit": 10})).json()["result"]
        assert "next_page_offset" in scroll and scroll["next_page_offset"] is None
        info = (await http.get(f"/collections/{name}")).json()["result"]
        assert info["warnings"] == [] and list(info)[:3] == ["status", "optimizer_status", "warnings"]
        assert info["config"]["quantization_config"] is None
        assert info["config"]["optimizer_config"]["max_segment_size"] is None
        models.parse(models.CollectionInfo, info)  # still the spec's shape
        # with_vectors is accepted for with_vector
        r = await http.post(f"/collections/{name}/points/query", json={"query": [0.1, 0.2, 0.3], "with_vectors": True})
        assert all("vector" in p for p in r.json()["result"]["points"])
        r = await http.post(f"/collections/{name}/points/scroll", json={"with_vectors": True})
        assert all("vector" in p for p in r.json()["result"]["points"])
        # quantization for quantization_config
        q_name = unique("q")
        body = {"vectors": {"size": 4, "distance": "Cosine"}, "quantization": {"scalar": {"type": "int8"}}}
        assert (await http.put(f"/collections/{q_name}", json=body)).status_code == 200
        q_info = (await http.get(f"/collections/{q_name}")).json()["result"]
        assert q_info["config"]["quantization_config"] == {"scalar": {"type": "int8"}} or q_info["config"][
            "quantization_config"
        ]["scalar"]["type"] == "int8"
        # an alias that breaks a rule is still refused with the spec's name
        r = await http.put(f"/collections/{unique('q')}", json={**body, "quantization": {"scalar": {"type": "int8", "quantile": 0.1}}})
        assert r.status_code == 422 and "quantization_config.scalar.quantile" in r.text


def test_aliases_are_read_where_qdrant_reads_them() -> None:
    from aqdrant.server import _wire

    body = _wire.with_aliases(
        "query_points_groups",
        b'{"with_vectors": true, "group_by": "g", "with_lookup": {"collection": "o", "with_vector": true}}',
    )
    assert body == {"with_vector": True, "group_by": "g", "with_lookup": {"collection": "o", "with_vectors": True}}
    parsed = models.parse(models.QueryGroupsRequest, body)
    assert parsed.with_vector is True and parsed.with_lookup.with_vectors is True
    named = _wire.with_aliases("create_collection", b'{"vectors": {"a": {"size": 2, "distance": "Dot", "quantization": {}}}}')
    assert named == {"vectors": {"a": {"size": 2, "distance": "Dot", "quantization_config": {}}}}
    # search params keep their own `quantization`; a body without aliases is not touched
    assert _wire.with_aliases("query_points", b'{"params": {"quantization": {"rescore": true}}}') is None
    assert _wire.with_aliases("query_points", b'{"with_vector": true}') is None


# ---- point 6: service endpoints and deprecated routes ------------------------------------------
async def test_service_endpoints_answer_as_a_standalone_node(srv, anyio_backend) -> None:
    async with httpx.AsyncClient(base_url=srv.url) as http:
        name = await _filled(http)
        assert (await http.get("/cluster")).json()["result"] == {"status": "disabled"}
        collections = (await http.get("/collections")).json()["result"]["collections"]
        tele = (await http.get("/telemetry")).json()["result"]
        models.parse(models.TelemetryData, tele)
        assert tele["app"]["version"] == "1.19.0"
        assert tele["collections"]["number_of_collections"] == len(collections)
        detailed = (await http.get("/telemetry?details_level=2")).json()["result"]
        assert name in {c["id"] for c in detailed["collections"]["collections"]}
        responses = tele["requests"]["rest"]["responses"]
        upserts = responses["PUT /collections/{name}/points"]["200"]  # keyed as Qdrant keys its routes
        assert upserts["count"] >= 1 and set(upserts) == {"count", "avg_duration_micros", "last_responded"}
        assert datetime.fromisoformat(upserts["last_responded"]).date() == datetime.now(timezone.utc).date()
        level1 = (await http.get("/telemetry?details_level=1")).json()["result"]["requests"]["rest"]["responses"]
        upserts = level1["PUT /collections/{name}/points"]["200"]
        assert upserts["min_duration_micros"] <= upserts["max_duration_micros"] and upserts["total_duration_micros"] >= 0
        metrics = await http.get("/metrics")
        assert metrics.headers["content-type"].startswith("text/plain")
        lines = metrics.text.splitlines()
        assert 'app_info{name="qdrant",version="1.19.0"} 1' in lines
        total = next(line for line in lines if line.startswith("collections_total "))
        assert int(total.split()[1]) >= 1
        assert f'collection_points{{id="{name}"}} 2' in lines
        assert any(line.startswith('rest_responses_total{method="PUT"') for line in lines)
        assert (await http.get("/issues")).json()["result"] == {"issues": []}
        assert (await http.delete("/issues")).json()["result"] is True
        snap = await http.post(f"/collections/{name}/snapshots")
        assert snap.status_code == 501


async def test_deprecated_routes_work(srv, anyio_backend) -> None:
    async with httpx.AsyncClient(base_url=srv.url) as http:
        name = await _filled(http)
        base = f"/collections/{name}/points"
        hits = (await http.post(f"{base}/search", json={"vector": [0.1, 0.2, 0.3], "limit": 1})).json()["result"]
        assert [h["id"] for h in hits] == [1]
        batch = (await http.post(f"{base}/search/batch", json={"searches": [{"vector": [0.3, 0.2, 0.1], "limit": 1}]})).json()
        assert [[h["id"] for h in hs] for hs in batch["result"]] == [[2]]
        rec = (await http.post(f"{base}/recommend", json={"positive": [1], "limit": 5})).json()["result"]
        assert [h["id"] for h in rec] == [2]  # the example itself is excluded
        rec_batch = (await http.post(f"{base}/recommend/batch", json={"searches": [{"positive": [2], "limit": 5}]})).json()
        assert [[h["id"] for h in hs] for hs in rec_batch["result"]] == [[1]]
        disc = await http.post(f"{base}/discover", json={"target": [0.1, 0.2, 0.3], "context": [{"positive": 1, "negative": 2}], "limit": 2})
        assert disc.status_code == 200, disc.text
        disc_batch = await http.post(f"{base}/discover/batch", json={"searches": [{"target": 1, "context": [], "limit": 2}]})
        assert disc_batch.status_code == 200 and len(disc_batch.json()["result"]) == 1
        await http.put(f"{base}/payload?wait=true", json={"payload": {"g": "x"}, "points": [1, 2]})
        groups = (await http.post(f"{base}/search/groups", json={"vector": [0.1, 0.2, 0.3], "group_by": "g", "limit": 1, "group_size": 2})).json()
        assert [g["id"] for g in groups["result"]["groups"]] == ["x"] and len(groups["result"]["groups"][0]["hits"]) == 2
        # `with_vector` inside `with_lookup` (Qdrant's alias of with_vectors) on the old routes too
        lookup = {"collection": name, "with_payload": True, "with_vector": True}
        body = {"vector": [0.1, 0.2, 0.3], "group_by": "g", "limit": 1, "group_size": 2, "with_lookup": lookup}
        r = await http.post(f"{base}/search/groups", json=body)
        assert r.status_code == 200, r.text
        assert [g.get("lookup") for g in r.json()["result"]["groups"]] == [None]  # no point has id "x"
        await http.put(f"{base}/payload?wait=true", json={"payload": {"g": 2}, "points": [1, 2]})
        r = await http.post(f"{base}/search/groups", json=body)
        assert r.json()["result"]["groups"][0]["lookup"]["vector"] == [0.3, 0.2, 0.1], r.text
        await http.put(f"{base}/payload?wait=true", json={"payload": {"g": "x"}, "points": [1, 2]})
        rec_groups = await http.post(f"{base}/recommend/groups", json={"positive": [1], "group_by": "g", "limit": 1, "group_size": 2})
        assert rec_groups.status_code == 200, rec_groups.text
        missing = await http.post(f"{base}/search", json={"vector": [0.1, 0.2, 0.3]})
        assert missing.status_code == 400 and "missing field `limit`" in missing.text


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_deprecated_grpc_methods_work(srv, anyio_backend) -> None:
    from aqdrant.grpc._proto import qdrant as q

    async with httpx.AsyncClient(base_url=srv.url) as http:
        name = await _filled(http)
        await http.put(f"/collections/{name}/points/payload?wait=true", json={"payload": {"g": "x"}, "points": [1, 2]})
    port = srv.grpc_port
    one = q.SearchPoints(collection_name=name, vector=[0.1, 0.2, 0.3], limit=1)
    hits = await grpc_call(port, "/qdrant.Points/Search", one, q.SearchResponse)
    assert [p.id.num for p in hits.result] == [1]
    batch = await grpc_call(
        port, "/qdrant.Points/SearchBatch", q.SearchBatchPoints(collection_name=name, search_points=[one, one]), q.SearchBatchResponse
    )
    assert [[p.id.num for p in b.result] for b in batch.result] == [[1], [1]]
    rec = q.RecommendPoints(collection_name=name, positive=[q.PointId(num=1)], limit=5)
    assert [p.id.num for p in (await grpc_call(port, "/qdrant.Points/Recommend", rec, q.RecommendResponse)).result] == [2]
    rec_batch = await grpc_call(
        port, "/qdrant.Points/RecommendBatch", q.RecommendBatchPoints(collection_name=name, recommend_points=[rec]), q.RecommendBatchResponse
    )
    assert [[p.id.num for p in b.result] for b in rec_batch.result] == [[2]]
    by_vector = q.RecommendPoints(
        collection_name=name, positive_vectors=[q.Vector(dense=q.DenseVector(data=[0.3, 0.2, 0.1]))], limit=1
    )
    assert [p.id.num for p in (await grpc_call(port, "/qdrant.Points/Recommend", by_vector, q.RecommendResponse)).result] == [2]
    disc = q.DiscoverPoints(
        collection_name=name,
        target=q.TargetVector(single=q.VectorExample(id=q.PointId(num=1))),
        context=[
            q.ContextExamplePair(
                positive=q.VectorExample(vector=q.Vector(dense=q.DenseVector(data=[0.3, 0.2, 0.1]))),
                negative=q.VectorExample(vector=q.Vector(dense=q.DenseVector(data=[0.1, 0.2, 0.3]))),
            )
        ],
        limit=2,
    )
    found = await grpc_call(port, "/qdrant.Points/Discover", disc, q.DiscoverResponse)
    assert [p.id.num for p in found.result] == [2]
    disc_batch = await grpc_call(
        port, "/qdrant.Points/DiscoverBatch", q.DiscoverBatchPoints(collection_name=name, discover_points=[disc]), q.DiscoverBatchResponse
    )
    assert len(disc_batch.result) == 1
    groups = q.SearchPointGroups(collection_name=name, vector=[0.1, 0.2, 0.3], group_by="g", limit=1, group_size=2)
    grouped = await grpc_call(port, "/qdrant.Points/SearchGroups", groups, q.SearchGroupsResponse)
    assert [[h.id.num for h in g.hits] for g in grouped.result.groups] == [[1, 2]]
    rec_groups = q.RecommendPointGroups(collection_name=name, positive=[q.PointId(num=1)], group_by="g", limit=1, group_size=2)
    grouped = await grpc_call(port, "/qdrant.Points/RecommendGroups", rec_groups, q.RecommendGroupsResponse)
    assert [[h.id.num for h in g.hits] for g in grouped.result.groups] == [[2]]


# ---- point 7: limits and keys ------------------------------------------------------------------
async def test_body_over_the_limit_is_413_before_buffering(keyed, anyio_backend) -> None:
    headers = {"api-key": FULL_KEY}
    async with httpx.AsyncClient(base_url=keyed.url, headers=headers) as http:
        big = b'{"points": [' + b" " * (1 << 20) + b"]}"
        r = await http.put(f"/collections/{unique('b')}/points", content=big)
        assert r.status_code == 413 and "larger than allowed (limit: 1048576 bytes)" in r.text

        async def chunks():  # no Content-Length: refused while it streams in
            for _ in range(40):
                yield b" " * 65536

        r = await http.put(f"/collections/{unique('b')}/points", content=chunks())
        assert r.status_code == 413 and "exceeded limit (1048576 bytes)" in r.text


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_grpc_message_over_the_limit_is_resource_exhausted(keyed, anyio_backend) -> None:
    from grpclib.const import Status
    from grpclib.exceptions import GRPCError

    from aqdrant.grpc._proto import qdrant as q

    points = [
        q.PointStruct(id=q.PointId(num=i), vectors=q.Vectors(vector=q.Vector(dense=q.DenseVector(data=[0.5] * 1024))))
        for i in range(300)
    ]
    message = q.UpsertPoints(collection_name="big", points=points)
    assert len(bytes(message)) > 1 << 20
    with pytest.raises(GRPCError) as refused:
        await grpc_call(keyed.grpc_port, "/qdrant.Points/Upsert", message, q.PointsOperationResponse, {"api-key": FULL_KEY})
    assert refused.value.status == Status.RESOURCE_EXHAUSTED and "the limit is: 1048576 bytes" in refused.value.message


async def test_read_only_key_reads_but_cannot_write(keyed, anyio_backend) -> None:
    name = unique("ro")
    async with AsyncQdrantClient(url=keyed.url, api_key=FULL_KEY, check_compatibility=False) as full:
        await full.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
        await full.upsert(name, [models.PointStruct(id=1, vector=[1.0, 0.0])])
    async with httpx.AsyncClient(base_url=keyed.url, headers={"api-key": READ_ONLY_KEY}) as ro:
        assert (await ro.get(f"/collections/{name}")).status_code == 200
        r = await ro.post(f"/collections/{name}/points/query", json={"query": [1.0, 0.0]})
        assert r.status_code == 200 and r.json()["result"]["points"][0]["id"] == 1
        assert (await ro.post(f"/collections/{name}/points/search", json={"vector": [1.0, 0.0], "limit": 1})).status_code == 200
        for method, path, body in [
            ("PUT", f"/collections/{name}/points", {"points": [{"id": 2, "vector": [0.0, 1.0]}]}),
            ("DELETE", f"/collections/{name}", None),
            ("PUT", f"/collections/{unique('ro')}", {"vectors": {"size": 2, "distance": "Dot"}}),
        ]:
            r = await ro.request(method, path, json=body)
            assert r.status_code == 403 and r.json()["status"]["error"] == "Forbidden: Only read-only access is allowed"
        assert (await ro.get(f"/collections/{name}/points/1")).status_code == 200
    async with httpx.AsyncClient(base_url=keyed.url) as anon:
        assert (await anon.get("/collections")).status_code == 401
        assert (await anon.get("/collections", headers={"api-key": "wrong"})).status_code == 403


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_read_only_key_over_grpc(keyed, anyio_backend) -> None:
    from grpclib.const import Status
    from grpclib.exceptions import GRPCError

    from aqdrant.grpc._proto import qdrant as q

    ro = {"api-key": READ_ONLY_KEY}
    listed = await grpc_call(keyed.grpc_port, "/qdrant.Collections/List", q.ListCollectionsRequest(), q.ListCollectionsResponse, ro)
    assert listed is not None
    create = q.CreateCollection(
        collection_name=unique("rog"), vectors_config=q.VectorsConfig(params=q.VectorParams(size=2, distance=q.Distance.Dot))
    )
    with pytest.raises(GRPCError) as refused:
        await grpc_call(keyed.grpc_port, "/qdrant.Collections/Create", create, q.CollectionOperationResponse, ro)
    assert refused.value.status == Status.PERMISSION_DENIED and "read-only" in refused.value.message


def test_cli_takes_keys_and_limit_from_the_environment(monkeypatch) -> None:
    import aqdrant.server as server_mod

    monkeypatch.setenv("QDRANT__SERVICE__API_KEY", "from-env")
    monkeypatch.setenv("QDRANT__SERVICE__READ_ONLY_API_KEY", "ro-from-env")
    monkeypatch.setenv("QDRANT__SERVICE__MAX_REQUEST_SIZE_MB", "7")
    args = server_mod._parser().parse_args([])
    assert (args.api_key, args.read_only_api_key, args.max_request_size_mb) == ("from-env", "ro-from-env", 7.0)
    args = server_mod._parser().parse_args(["--read-only-api-key", "flag"])
    assert args.read_only_api_key == "flag"
