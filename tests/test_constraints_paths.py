"""The constraint walk joins a violation's path only when a rule fails (``_constraints._at``):
the paths and texts below are the ones the walk gave when it built every path eagerly."""

from __future__ import annotations

import msgspec
import pytest

from aqdrant import _constraints
from aqdrant import models as m
from aqdrant.errors import WrongInput

FC = m.FieldCondition


def _cases():
    return {
        "nested_filter": m.QueryRequest(
            query=[0.1, 0.2],
            limit=0,
            prefetch=[
                m.Prefetch(
                    query=[1.0], filter=m.Filter(must=[FC(key="a", match=m.MatchValue(value=1)), FC(key="b")])
                )
            ],
        ),
        "condition_key": m.Filter(should=[m.Filter(must=[FC(key="", match=m.MatchValue(value=1))])]),
        "is_empty_key": m.CountRequest(
            filter=m.Filter(must_not=[m.IsEmptyCondition(is_empty=m.PayloadField(key=""))])
        ),
        "points": m.PointsList(
            points=[
                m.PointStruct(id=1, vector=[0.1]),
                m.PointStruct(id=2, vector=[]),
                m.PointStruct(id=3, vector={"a": [], "b": m.SparseVector(indices=[1, 1], values=[1.0, 2.0])}),
            ]
        ),
        "multi": m.PointsList(points=[m.PointStruct(id=1, vector=[[1.0], [1.0, 2.0]])]),
        "batch": m.PointsBatch(batch=m.Batch(ids=[1, 2], vectors=[[1.0]])),
        "point_vectors": m.UpdateVectors(
            points=[m.PointVectors(id=1, vector={}), m.PointVectors(id=2, vector={"x": []})]
        ),
        "recommend": m.QueryRequest(
            query=m.RecommendQuery(recommend=m.RecommendInput(positive=[], negative=[]))
        ),
        "sparse_query": m.QueryRequest(query=m.SparseVector(indices=[1, 2], values=[1.0])),
        "create": m.CreateCollection(
            vectors={"v": m.VectorParams(size=0, distance=m.Distance.DOT, on_disk=True)},
            sparse_vectors={"s": m.SparseVectorParams(index=m.SparseIndexParams(datatype="turbo4"))},
            hnsw_config=m.HnswConfigDiff(m=-1),
        ),
        "search_batch": m.QueryRequestBatch(
            searches=[m.QueryRequest(limit=1), m.QueryRequest(limit=0, filter=m.Filter(must=[FC(key="k")]))]
        ),
        "set_payload": m.SetPayload(payload={}, key=""),
        "key_list_empty": m.Filter(
            must=[msgspec.structs.replace(FC(key="a", match=m.MatchValue(value=1)), key=["a", ""])]
        ),
        "key_list_ok": m.Filter(must=[msgspec.structs.replace(FC(key="a"), key=["a"])]),
        "each_condition": m.Filter(
            should=[FC(key="a", is_null=True), FC(key="b", values_count=m.ValuesCount(gt=1)), FC(key="c", is_empty=False)]
        ),
        "ok": m.QueryRequest(query=[0.1], limit=3, filter=m.Filter(must=[FC(key="a", range=m.Range(gte=1))])),
    }


EXPECTED = {
    "key_list_empty": ("format", [("must[0].key", "data did not match any variant of untagged enum Condition")]),
    "key_list_ok": ("JSON body", [("must[0].match", "Validation error: At least one field condition must be specified [{}]")]),
    "each_condition": None,

    "nested_filter": (
        "JSON body",
        [
            ("internal.limit", "value 0 invalid, must be 1 or larger"),
            (
                "internal.prefetch[0].filter.must[1].match",
                "Validation error: At least one field condition must be specified [{}]",
            ),
        ],
    ),
    "condition_key": (
        "format",
        [("should[0].must[0].key", "data did not match any variant of untagged enum Condition")],
    ),
    "is_empty_key": (
        "format",
        [("filter.must_not[0].is_empty.key", "data did not match any variant of untagged enum Condition")],
    ),
    "points": (
        "JSON body",
        [
            ("points[1].vector.vector", "dense vector must not be empty"),
            ("points[2].vector.?.vector", "dense vector must not be empty"),
            ("points[2].vector.?.indices", "Validation error: must be unique [{}]"),
        ],
    ),
    "multi": (
        "JSON body",
        [
            (
                "points[0].vector.data",
                "all vectors must have the same dimension, found vector with dimension 2",
            )
        ],
    ),
    "batch": ("JSON body", [("batch", "number of ids and vectors must be equal (2 != 1)")]),
    "point_vectors": (
        "JSON body",
        [
            ("points[0].vector", "must specify vectors to update for point"),
            ("points[1].vector.?.vector", "dense vector must not be empty"),
        ],
    ),
    "recommend": (
        "JSON body",
        [
            (
                "internal.query.recommend.positives, negatives",
                "Validation error: At least one positive or negative vector/id must be provided [{}]",
            )
        ],
    ),
    "sparse_query": None,
    "create": (
        "JSON body",
        [
            ("vectors.?.size", "value 0 invalid, must be from 1 to 65536"),
            ("sparse_vectors.?.index.datatype", "`turbo4` datatype is not supported for sparse vectors"),
        ],
    ),
    "search_batch": (
        "JSON body",
        [
            ("searches[1].internal.limit", "value 0 invalid, must be 1 or larger"),
            (
                "searches[1].internal.filter.must[0].match",
                "Validation error: At least one field condition must be specified [{}]",
            ),
        ],
    ),
    "set_payload": ("format", [("key", "Invalid json path: ''")]),
    "ok": None,
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_paths_and_texts_of_nested_violations(name) -> None:
    assert _constraints.check("x", {"collection_name": "c"}, _cases()[name]) == EXPECTED[name]


def test_the_client_check_raises_the_first_path() -> None:
    with pytest.raises(WrongInput) as e:
        _constraints.ensure_valid("query_points", {"collection_name": "c"}, _cases()["nested_filter"])
    assert e.value.path == "internal.limit"
    assert "internal.prefetch[0].filter.must[1].match" in str(e.value)
