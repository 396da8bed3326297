"""Every request body the client sends, for every method with a body, validates against the
operation's request schema in the OpenAPI spec; and the server compatibility check warns once."""

from __future__ import annotations

import warnings

import contract
import numpy as np
import pytest
from fault_server import FaultServer, Reply, envelope

from aqdrant import AsyncQdrantClient, models

pytestmark = pytest.mark.anyio


class Sent(Exception):
    """Raised by the recording backend once it has the request: nothing goes anywhere."""


class Recorder:
    def __init__(self) -> None:
        self.requests: list = []

    async def execute(self, request):
        self.requests.append(request)
        raise Sent

    async def aclose(self) -> None:
        pass


F = models.Filter(
    must=[
        models.FieldCondition(key="city", match=models.MatchValue(value="Berlin")),
        models.FieldCondition(key="price", range=models.Range(gte=1.5)),
        models.HasIdCondition(has_id=[1, "6f9619ff-8b86-d011-b42d-00c04fc964ff"]),
    ],
    must_not=[models.IsEmptyCondition(is_empty=models.PayloadField(key="tags"))],
)
V = np.arange(4, dtype=np.float32)


def calls(c: AsyncQdrantClient) -> list:
    m = models
    return [
        lambda: c.create_collection(
            "c",
            vectors_config={"dense": m.VectorParams(size=4, distance=m.Distance.COSINE, on_disk=True)},
            sparse_vectors_config={"bm25": m.SparseVectorParams(modifier=m.Modifier.IDF)},
            hnsw_config=m.HnswConfigDiff(m=8),
            quantization_config=m.ScalarQuantization(
                scalar=m.ScalarQuantizationConfig(type=m.ScalarType.INT8)
            ),
            metadata={"team": "search"},
        ),
        lambda: c.update_collection("c", optimizers_config=m.OptimizersConfigDiff(indexing_threshold=1000)),
        lambda: c.update_collection_aliases(
            [m.CreateAliasOperation(create_alias=m.CreateAlias(collection_name="c", alias_name="a"))]
        ),
        lambda: c.create_vector_name(
            "c", "img", m.DenseVectorNameConfig(dense=m.DenseVectorConfig(size=4, distance=m.Distance.DOT))
        ),
        lambda: c.upsert(
            "c",
            [
                m.PointStruct(id=1, vector=V, payload={"city": "Berlin"}),
                m.PointStruct(id=2, vector=[1.0, 2.0, 3.0, 4.0]),
            ],
        ),
        lambda: c.upsert(
            "c", m.Batch(ids=[1, 2], vectors=np.ones((2, 4), np.float32), payloads=[{"a": 1}, {"a": 2}])
        ),
        lambda: c.upsert(
            "c", [m.PointStruct(id=3, vector={"dense": V, "bm25": m.SparseVector(indices=[1], values=[0.5])})]
        ),
        lambda: c.update_vectors("c", [m.PointVectors(id=1, vector={"dense": [1.0, 0.0, 0.0, 0.0]})]),
        lambda: c.delete_vectors("c", ["dense"], [1, 2]),
        lambda: c.delete("c", [1, 2]),
        lambda: c.delete("c", F),
        lambda: c.set_payload("c", {"x": 1}, [1], key="nested"),
        lambda: c.overwrite_payload("c", {"x": 1}, F),
        lambda: c.delete_payload("c", ["x"], [1]),
        lambda: c.clear_payload("c", m.FilterSelector(filter=F)),
        lambda: c.batch_update_points(
            "c",
            [
                m.UpsertOperation(
                    upsert=m.PointsList(points=[m.PointStruct(id=9, vector=[0.1, 0.2, 0.3, 0.4])])
                ),
                m.DeleteOperation(delete=m.PointIdsList(points=[8])),
            ],
        ),
        lambda: c.create_payload_index("c", "city", m.PayloadSchemaType.KEYWORD),
        lambda: c.create_payload_index(
            "c", "body", m.TextIndexParams(type=m.TextIndexType.TEXT, lowercase=True)
        ),
        lambda: c.retrieve("c", [1, "6f9619ff-8b86-d011-b42d-00c04fc964ff"], with_vectors=["dense"]),
        lambda: c.scroll("c", scroll_filter=F, limit=5, order_by="price", with_payload=["city"]),
        lambda: c.count("c", count_filter=F),
        lambda: c.facet("c", "city", facet_filter=F, limit=3),
        lambda: c.query_points("c", query=V, using="dense", query_filter=F, limit=3),
        lambda: c.query_points("c", query=7),
        lambda: c.query_points(
            "c",
            prefetch=[
                m.Prefetch(query=[1.0, 0.0, 0.0, 0.0], using="dense", limit=20),
                m.Prefetch(query=m.SparseVector(indices=[1], values=[1.0]), using="bm25"),
            ],
            query=m.FusionQuery(fusion=m.Fusion.RRF),
        ),
        lambda: c.query_points(
            "c",
            query=m.RecommendQuery(recommend=m.RecommendInput(positive=[1], negative=[[0.0, 1.0, 0.0, 0.0]])),
        ),
        lambda: c.query_points(
            "c", query=m.OrderByQuery(order_by=m.OrderBy(key="price", direction=m.Direction.DESC))
        ),
        lambda: c.query_batch_points(
            "c", [m.QueryRequest(query=[1.0, 2.0, 3.0, 4.0], limit=2), m.QueryRequest(query=3)]
        ),
        lambda: c.query_points_groups("c", "city", query=V, group_size=2, limit=3),
        lambda: c.search_matrix_pairs("c", query_filter=F, sample=5, limit=2, using="dense"),
        lambda: c.search_matrix_offsets("c", sample=5, limit=2),
        lambda: c.recover_snapshot(
            "c", "http://example.invalid/s.snapshot", priority=m.SnapshotPriority.SNAPSHOT
        ),
        lambda: c.recover_shard_snapshot("c", 0, "file:///tmp/s.snapshot"),
        lambda: c.create_shard_key("c", "tenant-1", shards_number=1),
        lambda: c.delete_shard_key("c", "tenant-1"),
        lambda: c.cluster_collection_update(
            "c", m.MoveShardOperation(move_shard=m.MoveShard(shard_id=0, from_peer_id=1, to_peer_id=2))
        ),
    ]


async def test_every_request_body_fits_the_spec():
    recorder = Recorder()
    client = AsyncQdrantClient(backend=recorder, validate_vectors=False, check_compatibility=False)
    for make in calls(client):
        with pytest.raises(Sent):
            await make()
    assert len(recorder.requests) == len(calls(client))
    seen = set()
    for req in recorder.requests:
        assert req.op.body_kind == "json", req.op.name
        body = models.to_builtins(req.body)
        errors = contract.request_errors(req.op.name, body)
        assert errors == [], f"{req.op.name}: {errors} in {body}"
        seen.add(req.op.name)
    # every operation of the table that takes a JSON body is covered (update_quotas has no
    # client method: the official client has none either)
    from aqdrant._operations import OPERATIONS

    assert seen == {n for n, o in OPERATIONS.items() if o.body_kind == "json"} - {"update_quotas"}


async def test_a_body_the_spec_rejects_is_caught_by_the_check():
    # The check itself must be able to fail: a point without its required vector.
    assert contract.request_errors("upsert_points", {"points": [{"id": 1}]}) != []
    assert contract.request_errors("count_points", {"filter": {"must": [{"key": 1}]}}) != []


@pytest.mark.parametrize(("version", "warns"), [("1.5.0", True), ("1.19.2", False), ("2.0.0", True)])
async def test_compatibility_check_warns_once_for_a_distant_server(version, warns):
    with FaultServer() as server:
        server.default = Reply(200, body=envelope(True))
        server.push(Reply(200, body={"title": "qdrant", "version": version}))
        async with AsyncQdrantClient(url=server.url) as client:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                await client.delete_collection("a")
                await client.delete_collection("b")
        got = [w for w in caught if "may be incompatible" in str(w.message)]
        assert len(got) == (1 if warns else 0)
        assert [r.path for r in server.requests] == ["/", "/collections/a", "/collections/b"]
