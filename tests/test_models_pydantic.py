"""The models' pydantic-style surface gives what the official client's pydantic models give."""

from __future__ import annotations

import json

import pytest

from aqdrant import models as m
from aqdrant.errors import QdrantError, ValidationError

qm = pytest.importorskip("qdrant_client.models")

CASES = [
    ("VectorParams", {"size": 4, "distance": "Cosine"}),
    ("VectorParams", {"size": 4, "distance": "Dot", "on_disk": True, "hnsw_config": {"m": 8}}),
    ("PointStruct", {"id": 1, "vector": [0.5, 1.5], "payload": {"a": [1, {"b": None}]}}),
    ("PointStruct", {"id": "00000000-0000-0000-0000-000000000001", "vector": {"x": [1.0]}}),
    ("Filter", {"must": [{"key": "k", "match": {"value": "v"}}, {"key": "n", "range": {"gte": 1.5}}]}),
    ("SearchParams", {"hnsw_ef": 64, "exact": False}),
    ("ScoredPoint", {"id": 3, "version": 1, "score": 0.25, "payload": {"x": 1}}),
]
OPTIONS = [
    {},
    {"exclude_none": True},
    {"exclude_unset": True},
    {"mode": "json"},
    {"mode": "json", "exclude_none": True},
    {"by_alias": True, "exclude_none": True},
]


def _json(x):
    return json.loads(json.dumps(x, default=lambda v: getattr(v, "value", str(v))))


@pytest.mark.parametrize("name, data", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("options", OPTIONS, ids=[str(o) for o in OPTIONS])
def test_model_dump_matches_pydantic(name, data, options):
    ours = getattr(m, name).model_validate(data).model_dump(**options)
    theirs = getattr(qm, name).model_validate(data).model_dump(**options)
    assert _json(ours) == _json(theirs)


@pytest.mark.parametrize("name, data", CASES, ids=[c[0] for c in CASES])
def test_json_round_trip_and_copy(name, data):
    cls = getattr(m, name)
    obj = cls.model_validate(data)
    text = obj.model_dump_json()
    assert json.loads(text) == json.loads(getattr(qm, name).model_validate(data).model_dump_json())
    assert cls.model_validate_json(text).model_dump() == obj.model_dump()
    assert cls.model_validate(obj) is obj
    copy = obj.model_copy()
    assert copy == obj and copy is not obj


def test_model_copy_update_and_deep():
    p = m.PointStruct(id=1, vector=[1.0, 2.0], payload={"tags": ["a"]})
    q = p.model_copy(update={"id": 2})
    assert (q.id, p.id) == (2, 1) and q.payload is p.payload
    d = p.model_copy(deep=True)
    d.payload["tags"].append("b")
    assert p.payload == {"tags": ["a"]}


def test_model_dump_keeps_none_fields_by_default():
    d = m.PointStruct(id=1, vector=[1.0]).model_dump()
    assert d == {"id": 1, "vector": [1.0], "payload": None}
    assert m.Record(id=1).model_dump()["vector"] is None


def test_validation_errors_are_qdrant_errors_naming_the_path():
    with pytest.raises(ValidationError) as ei:
        m.Filter.model_validate({"must": [{"key": 1, "match": {"value": 2}}]})
    assert isinstance(ei.value, QdrantError) and ei.value.path == "$.must[0].key"
    with pytest.raises(ValidationError):
        m.VectorParams.model_validate_json(b'{"size": "four", "distance": "Cosine"}')
