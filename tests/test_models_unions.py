"""Resolved unions: right shapes pick the right variant, wrong shapes fail naming the path;
numpy vectors, UUID ids and unknown response fields."""

from __future__ import annotations

import json
import uuid

import msgspec
import numpy as np
import pytest

from aqdrant import models as m
from aqdrant.errors import ValidationError


def err(tp, data) -> ValidationError:
    with pytest.raises(ValidationError) as ei:
        m.parse(tp, data)
    return ei.value


# ---- wrong shapes name the path ---------------------------------------------------------------

WRONG = [
    # Condition
    (m.Filter, {"must": [{"foo": 1}]}, "$.must[0]"),
    (m.Filter, {"must": [1]}, "$.must[0]"),
    (m.Filter, {"should": {"has_id": [1, 1.5]}}, "$.should.has_id[1]"),
    (m.Filter, {"must_not": [{"must": [{"key": "k", "range": {"gt": [1]}}]}]}, "$.must_not[0].must[0].range.gt"),
    (m.Filter, {"must": [{"nested": {"key": "a", "filter": {"must": [{"is_empty": {}}]}}}]},
     "$.must[0].nested.filter.must[0].is_empty"),
    (m.Condition, {"key": "a", "match": {"valu": 1}}, "$.match"),
    # Match
    (m.FieldCondition, {"key": "a", "match": {"value": [1]}}, "$.match.value"),
    (m.FieldCondition, {"key": "a", "match": {"any": [1, "x"]}}, "$.match.any[0]"),
    (m.FieldCondition, {"key": "a", "match": {"except": {"a": 1}}}, "$.match.except"),
    (m.FieldCondition, {"key": "a", "match": "x"}, "$.match"),
    # VectorStruct
    (m.PointStruct, {"id": 1, "vector": "abc"}, "$.vector"),
    (m.PointStruct, {"id": 1, "vector": [1.0, "x"]}, "$.vector[1]"),
    (m.PointStruct, {"id": 1, "vector": {"a": [1.0], "b": {"indices": [1], "values": ["q"]}}}, "$.vector.b.values[0]"),
    (m.PointStruct, {"id": 1, "vector": {"a": {"indices": [1]}}}, "$.vector.a"),
    (m.PointStruct, {"id": 1, "vector": [[1.0], [2.0, None]]}, "$.vector[1][1]"),
    (m.PointStruct, {"id": 1.5, "vector": [1.0]}, "$.id"),
    (m.PointsList, {"points": [{"id": 1, "vector": [1.0]}, {"id": 2, "vector": True}]}, "$.points[1].vector"),
    # VectorInput / QueryInterface
    (m.QueryRequest, {"query": {"bogus": 1}}, "$.query"),
    (m.QueryRequest, {"query": [[1.0, "a"]]}, "$.query[0][1]"),
    (m.QueryRequest, {"query": {"nearest": [1.0, None]}}, "$.query.nearest[1]"),
    (m.QueryRequest, {"query": {"recommend": {"positive": [[1.0], "x", 1.5]}}}, "$.query.recommend.positive[2]"),
    (m.QueryRequest, {"query": {"fusion": "nope"}}, "$.query.fusion"),
    (m.QueryRequest, {"prefetch": [{"query": {"nearest": {"indices": [1], "values": [1.0, "x"]}}}]},
     "$.prefetch[0].query.nearest.values[1]"),
    (m.QueryRequest, {"query": {"formula": {"sum": [1.0, {"mult": [2.0, {"bogus": 1}]}]}}}, "$.query.formula.sum[1].mult[1]"),
    (m.DiscoverInput, {"target": True, "context": []}, "$.target"),
    # VectorsConfig
    (m.CreateCollection, {"vectors": {"size": "x", "distance": "Cosine"}}, "$.vectors.size"),
    (m.CreateCollection, {"vectors": {"a": {"size": 3, "distance": "Cosin"}}}, "$.vectors.a.distance"),
    (m.CreateCollection, {"vectors": 5}, "$.vectors"),
    (m.CollectionParams, {"vectors": {"a": {"size": 3}}}, "$.vectors.a"),
    # WithPayloadInterface
    (m.QueryRequest, {"with_payload": 5}, "$.with_payload"),
    (m.QueryRequest, {"with_payload": [1]}, "$.with_payload[0]"),
    (m.ScrollRequest, {"with_payload": {"includ": ["a"]}}, "$.with_payload"),
    (m.ScrollRequest, {"with_payload": {"include": "a"}}, "$.with_payload.include"),
    # PointInsertOperations / UpdateOperation
    (m.PointInsertOperations, {"foo": 1}, "$"),
    (m.UpsertOperation, {"upsert": {"points": [{"id": 1}]}}, "$.upsert.points[0]"),
    (m.UpsertOperation, {"upsert": {"batch": {"ids": [1], "vectors": "x"}}}, "$.upsert.batch.vectors"),
    (m.UpdateOperations, {"operations": [{"delete": {"points": [1]}}, {"upsert": {"points": 3}}]}, "$.operations[1].upsert.points"),
    # Responses
    (m.QueryResponse, {"points": [{"id": 1, "version": 1, "score": 0.5, "vector": {"a": "x"}}]}, "$.points[0].vector.a"),
    (m.CollectionInfo, {"status": "green", "optimizer_status": "ok", "segments_count": 1, "payload_schema": {},
                        "config": {"params": {"vectors": {"size": 3, "distance": "L7"}}, "hnsw_config": {}, "optimizer_config": {}}},
     "$.config.params.vectors.distance"),
    (m.PayloadIndexInfo, {"data_type": "keyword", "points": 1, "params": {"type": "keyword", "is_tenant": "x"}}, "$.params.is_tenant"),
]


@pytest.mark.parametrize(("tp", "data", "path"), WRONG, ids=[f"{t.__name__ if hasattr(t, '__name__') else t}-{i}" for i, (t, _, _) in enumerate(WRONG)])
def test_wrong_shape_is_rejected_naming_the_path(tp, data, path) -> None:
    e = err(tp, data)
    assert e.path == path, str(e)
    assert path in str(e)
    # The same from JSON bytes.
    assert err(tp, json.dumps(data).encode()).path == path


def test_validation_error_is_a_value_error_with_a_message() -> None:
    e = err(m.Filter, {"must": [{"foo": 1}]})
    assert isinstance(e, ValueError)
    assert "foo" in str(e) and "Condition" in str(e)


def test_invalid_json_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        m.parse(m.Filter, b'{"must": [')


# ---- the right variant is chosen ------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "variant"),
    [
        ({"key": "a", "match": {"value": 1}}, m.FieldCondition),
        ({"is_empty": {"key": "a"}}, m.IsEmptyCondition),
        ({"is_null": {"key": "a"}}, m.IsNullCondition),
        ({"has_id": [1, "5b6b1c52-1f1a-4c2d-9d0a-3c1c8b3f2a10"]}, m.HasIdCondition),
        ({"has_vector": "v"}, m.HasVectorCondition),
        ({"nested": {"key": "a", "filter": {}}}, m.NestedCondition),
        ({"must": [{"has_id": [1]}]}, m.Filter),
        ({}, m.Filter),
    ],
)
def test_condition_variants(data, variant) -> None:
    assert type(m.parse(m.Condition, data)) is variant


@pytest.mark.parametrize(
    ("data", "variant"),
    [
        ({"value": "x"}, m.MatchValue),
        ({"text": "x"}, m.MatchText),
        ({"text_any": "x"}, m.MatchTextAny),
        ({"phrase": "x"}, m.MatchPhrase),
        ({"prefix": "x"}, m.MatchPrefix),
        ({"any": [1, 2]}, m.MatchAny),
        ({"except": ["a"]}, m.MatchExcept),
    ],
)
def test_match_variants(data, variant) -> None:
    out = m.parse(m.FieldCondition, {"key": "k", "match": data})
    assert type(out.match) is variant
    assert json.loads(m.dump(out))["match"] == data


def test_query_interface_variants() -> None:
    q = lambda d: m.parse(m.QueryRequest, {"query": d}).query  # noqa: E731
    assert q([1.0, 2.0]) == [1.0, 2.0]
    assert q([[1.0], [2.0]]) == [[1.0], [2.0]]
    assert q(7) == 7 and q("5b6b1c52-1f1a-4c2d-9d0a-3c1c8b3f2a10") == "5b6b1c52-1f1a-4c2d-9d0a-3c1c8b3f2a10"
    assert type(q({"indices": [1], "values": [0.5]})) is m.SparseVector
    assert type(q({"nearest": [1.0]})) is m.NearestQuery
    assert type(q({"recommend": {"positive": [1]}})) is m.RecommendQuery
    assert type(q({"fusion": "rrf"})) is m.FusionQuery
    assert type(q({"text": "hello", "model": "bm25"})) is m.Document
    assert type(q({"formula": {"sum": ["$score", {"key": "a", "match": {"value": 1}}]}})) is m.FormulaQuery
    f = q({"formula": {"sum": ["$score", {"key": "a", "match": {"value": 1}}, 2.5]}}).formula
    assert type(f.sum[1]) is m.FieldCondition and f.sum[2] == 2.5


def test_vectors_config_single_and_named() -> None:
    one = m.parse(m.CreateCollection, {"vectors": {"size": 4, "distance": "Cosine"}})
    assert type(one.vectors) is m.VectorParams and one.vectors.distance is m.Distance.COSINE
    named = m.parse(m.CreateCollection, {"vectors": {"a": {"size": 4, "distance": "Dot"}}})
    assert type(named.vectors["a"]) is m.VectorParams
    assert m.parse(m.CreateCollection, {"vectors": {}}).vectors == {}


def test_with_payload_variants() -> None:
    w = lambda d: m.parse(m.ScrollRequest, {"with_payload": d}).with_payload  # noqa: E731
    assert w(True) is True and w(["a", "b"]) == ["a", "b"]
    assert type(w({"include": ["a"]})) is m.PayloadSelectorInclude
    assert type(w({"exclude": ["a"]})) is m.PayloadSelectorExclude


def test_point_insert_operations_variants() -> None:
    assert type(m.parse(m.PointInsertOperations, {"points": []})) is m.PointsList
    b = m.parse(m.PointInsertOperations, {"batch": {"ids": [1], "vectors": [[1.0]]}})
    assert type(b) is m.PointsBatch and b.batch.vectors == [[1.0]]


# ---- numpy ----------------------------------------------------------------------------------

DTYPES = [np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
def test_numpy_dense_and_multi_vectors_everywhere(dtype) -> None:
    v = np.arange(4, dtype=dtype) / 8  # exact in float32
    mv = np.arange(6, dtype=dtype).reshape(2, 3) / 4
    cases = [
        (m.PointStruct, {"id": 1, "vector": v}, ["vector"], v),
        (m.PointStruct, {"id": 1, "vector": mv}, ["vector"], mv),
        (m.PointStruct, {"id": 1, "vector": {"d": v, "m": mv}}, ["vector", "d"], v),
        (m.PointVectors, {"id": 1, "vector": {"m": mv}}, ["vector", "m"], mv),
        (m.Batch, {"ids": [1, 2], "vectors": np.stack([v, v])}, ["vectors"], np.stack([v, v])),
        (m.Batch, {"ids": [1], "vectors": {"d": [v]}}, ["vectors", "d", 0], v),
        (m.QueryRequest, {"query": v}, ["query"], v),
        (m.QueryRequest, {"query": mv}, ["query"], mv),
        (m.QueryRequest, {"query": {"nearest": v}}, ["query", "nearest"], v),
        (m.QueryRequest, {"prefetch": [{"query": mv}]}, ["prefetch", 0, "query"], mv),
        (m.QueryRequest, {"query": {"recommend": {"positive": [v, 3]}}}, ["query", "recommend", "positive", 0], v),
        (m.QueryRequest, {"query": {"discover": {"target": v, "context": [{"positive": v, "negative": v}]}}},
         ["query", "discover", "target"], v),
        (m.QueryRequest, {"query": {"context": [{"positive": v, "negative": mv}]}}, ["query", "context", 0, "negative"], mv),
    ]
    for tp, data, where, expect in cases:
        obj = m.parse(tp, data)
        wire = json.loads(m.dump(obj))
        for k in where:
            wire = wire[k]
        assert wire == expect.tolist(), (tp, where)
    # Built directly (no parse), dump still writes the vectors.
    p = m.PointStruct(id=1, vector=v)
    assert json.loads(m.dump(p))["vector"] == v.tolist()


def test_numpy_float32_written_with_float32_digits() -> None:
    v = np.array([0.1, 1 / 3], dtype=np.float32)
    body = m.dump(m.PointStruct(id=1, vector=v))
    assert b"0.1," in body and b"0.33333334" in body and b"0.3333333432674408" not in body


def test_numpy_wrong_shapes_are_rejected() -> None:
    assert err(m.PointStruct, {"id": 1, "vector": np.zeros((2, 2, 2))}).path == "$.vector"
    assert err(m.Batch, {"ids": [1], "vectors": np.zeros(3)}).path == "$.vectors"
    assert err(m.PointStruct, {"id": 1, "vector": np.array(["a", "b"])}).path == "$.vector"
    assert err(m.QueryRequest, {"query": {"nearest": np.zeros((1, 1, 1))}}).path == "$.query.nearest"


# ---- UUID ids --------------------------------------------------------------------------------


def test_uuid_objects_accepted_as_point_ids() -> None:
    u = uuid.uuid4()
    p = m.parse(m.PointStruct, {"id": u, "vector": [1.0]})
    assert p.id == str(u)
    assert json.loads(m.dump(p))["id"] == str(u)
    assert json.loads(m.dump(m.PointStruct(id=u, vector=[1.0])))["id"] == str(u)
    b = m.parse(m.PointsBatch, {"batch": {"ids": [u, 3], "vectors": [[1.0], [2.0]]}})
    assert b.batch.ids == [str(u), 3]
    f = m.parse(m.Filter, {"must": [{"has_id": [u]}]})
    assert f.must[0].has_id == [str(u)]
    sel = m.parse(m.PointIdsList, {"points": [u]})
    assert json.loads(m.dump(sel)) == {"points": [str(u)]}
    assert m.parse(m.ExtendedPointId, str(u).join('""')) == str(u)


# ---- unknown fields from a newer server -----------------------------------------------------


def test_response_with_unknown_fields_decodes() -> None:
    body = {
        "points": [
            {
                "id": 1,
                "version": 3,
                "score": 0.5,
                "payload": {"a": 1},
                "vector": {"d": [1.0, 2.0], "s": {"indices": [1], "values": [0.5], "new": 1}},
                "brand_new": {"nested": [1, 2]},
            }
        ],
        "also_new": True,
    }
    r = m.parse(m.QueryResponse, json.dumps(body))
    p = r.points[0]
    assert p.payload == {"a": 1} and p.vector["d"] == [1.0, 2.0] and type(p.vector["s"]) is m.SparseVector
    assert "brand_new" not in json.loads(m.dump(r))["points"][0]
    info = m.parse(
        m.CollectionInfo,
        {
            "status": "green",
            "optimizer_status": "ok",
            "segments_count": 1,
            "payload_schema": {"k": {"data_type": "keyword", "points": 3, "future": 1}},
            "config": {
                "params": {"vectors": {"size": 3, "distance": "Cosine", "new_knob": 1}, "x": 1},
                "hnsw_config": {"m": 16, "ef_construct": 100, "full_scan_threshold": 10},
                "optimizer_config": {"deleted_threshold": 0.2, "vacuum_min_vector_number": 1000,
                                     "default_segment_number": 0, "flush_interval_sec": 5},
                "new_section": {},
            },
            "future_top": 1,
        },
    )
    assert type(info.config.params.vectors) is m.VectorParams


def test_models_are_structs_with_spec_names() -> None:
    assert issubclass(m.PointStruct, msgspec.Struct)
    assert m.Distance("Cosine") is m.Distance.COSINE


# ---- response vectors stay raw until read ---------------------------------------------------


def test_response_vectors_are_raw_until_read_and_behave_as_lists() -> None:
    body = b'{"points":[{"id":1,"version":1,"score":0.5,"vector":[0.5,-1e-3,2]},' \
           b'{"id":2,"version":1,"score":0.4,"vector":{"d":[1.5],"s":{"indices":[3],"values":[0.25]},"m":[[1.0],[2.0]]}}]}'
    r = m.parse(m.QueryResponse, body)
    slot = object.__getattribute__  # what encoders see, without the materialising attribute
    raw = slot(r.points[0], "vector")
    assert isinstance(raw, m.RawVector) and raw.raw == b"[0.5,-1e-3,2]"
    assert raw == [0.5, -0.001, 2.0] and len(raw) == 3 and raw[2] == 2.0 and list(raw) == [0.5, -0.001, 2.0]
    assert np.asarray(raw, dtype=np.float32).tolist() == [0.5, np.float32(-0.001), 2.0]
    # Written back unchanged while unread.
    assert b'"vector":[0.5,-1e-3,2]' in m.dump(r)
    assert isinstance(slot(r.points[1], "vector")["d"], m.RawVector)
    # Read as an attribute, it is a plain list (every other layer sees lists), decoded once.
    v = r.points[0].vector
    assert type(v) is list and v == [0.5, -0.001, 2.0] and r.points[0].vector is v
    named = r.points[1].vector
    assert type(named["d"]) is list
    assert named["d"] == [1.5] and type(named["s"]) is m.SparseVector and named["m"] == [[1.0], [2.0]]
    assert json.loads(m.dump(r)) == json.loads(body)
    assert m.to_builtins(r.points[0])["vector"] == [0.5, -0.001, 2]
    # From builtins the same types come out.
    rb = m.parse(m.QueryResponse, json.loads(body))
    assert rb.points[0].vector == v and rb.points[1].vector["s"] == named["s"]


@pytest.mark.parametrize(
    ("vector", "path"),
    [
        (b'[1.0,"x"]', "$.points[0].vector[1]"),
        (b"[1.0,null]", "$.points[0].vector[1]"),
        (b"[true]", "$.points[0].vector[0]"),
        (b"[[1.0],2.0]", "$.points[0].vector"),
        (b'[[1.0],["a"]]', "$.points[0].vector[1][0]"),
        (b'{"a":[1.0,false]}', "$.points[0].vector.a"),
        (b'{"a":{"indices":[1]}}', "$.points[0].vector.a"),
        (b'"abc"', "$.points[0].vector"),
        (b"7", "$.points[0].vector"),
    ],
)
def test_raw_response_vectors_are_still_validated(vector: bytes, path: str) -> None:
    body = b'{"points":[{"id":1,"version":1,"score":0.5,"vector":' + vector + b"}]}"
    e = err(m.QueryResponse, body)
    assert e.path.startswith(path), str(e)


def test_null_response_vector_is_none() -> None:
    r = m.parse(m.Record, b'{"id":1,"vector":null}')
    assert r.vector is None and m.parse(m.Record, b'{"id":1}').vector is None


# ---- the flat float-vector fast path still validates every item --------------------------------


@pytest.mark.parametrize(
    "bad, path",
    [
        (True, "$.vector[700]"),
        ("x", "$.vector[700]"),
        (None, "$.vector[700]"),
        ([0.5], "$.vector[700]"),
    ],
)
def test_float_list_with_a_bad_item_late_in_it_is_rejected(bad, path) -> None:
    vec = [0.25] * 768
    vec[700] = bad
    with pytest.raises(ValueError) as ei:  # direct construction: __post_init__'s ValueError
        m.PointStruct(id=1, vector=vec)
    assert path in str(ei.value)
    assert path in str(err(m.PointStruct, {"id": 1, "vector": vec}))
    if not isinstance(bad, np.generic):
        assert path in str(err(m.PointStruct, json.dumps({"id": 1, "vector": vec}).encode()))


def test_numpy_scalars_in_a_float_list_are_accepted_as_python_numbers() -> None:
    # ``list(np.random.rand(n))`` (float64 items) and float32 items: the official client takes them
    vec = [0.25] * 8
    vec[5] = np.float32(0.5)
    p = m.PointStruct(id=np.int64(3), vector=vec)
    assert p.vector == [0.25] * 5 + [0.5, 0.25, 0.25] and all(type(x) is float for x in p.vector)
    q = m.PointStruct(id=1, vector=list(np.arange(4, dtype=np.float64)))
    assert q.vector == [0.0, 1.0, 2.0, 3.0]
    multi = m.PointStruct(id=1, vector={"m": [list(np.ones(2, dtype=np.float32))]})
    assert multi.vector == {"m": [[1.0, 1.0]]}


def test_float_list_is_kept_not_copied_and_encodes_the_same() -> None:
    vec = [0.25, -1.5, 3.0, 1]  # an int among floats stays a number on the wire
    p = m.PointStruct(id=1, vector=vec)
    assert p.vector is vec
    assert json.loads(m.dump(p)) == {"id": 1, "vector": [0.25, -1.5, 3.0, 1.0]}
    # Multivectors and named vectors are not taken by the flat fast path.
    mv = m.PointStruct(id=2, vector=[[0.5, 1.5], [2.5, 3.5]])
    assert mv.vector == [[0.5, 1.5], [2.5, 3.5]]
    named = m.PointStruct(id=3, vector={"a": [0.5, 1.0], "s": {"indices": [1], "values": [0.5]}})
    assert isinstance(named.vector["s"], m.SparseVector)
    assert named.vector["a"] == [0.5, 1.0]
