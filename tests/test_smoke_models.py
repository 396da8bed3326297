import pytest

from aqdrant import ValidationError, models
from aqdrant._operations import OPERATIONS


def test_filter_condition_union_resolves_by_keys():
    f = models.parse(
        models.Filter,
        b'{"must":[{"key":"a","match":{"value":1}},{"has_id":[1,2]},{"should":{"is_empty":{"key":"x"}}}]}',
    )
    assert isinstance(f.must[0], models.FieldCondition)
    assert isinstance(f.must[0].match, models.MatchValue)
    assert isinstance(f.must[1], models.HasIdCondition)
    assert isinstance(f.must[2], models.Filter)
    assert isinstance(f.must[2].should, models.IsEmptyCondition)


def test_wrong_shape_names_the_path():
    with pytest.raises(ValidationError) as ei:
        models.parse(models.PointsList, {"points": [{"id": 1, "vector": {"b": {"indices": [1], "values": ["q"]}}}]})
    assert ei.value.path == "$.points[0].vector.b.values[0]"


def test_operation_table_has_every_spec_operation():
    assert "upsert_points" in OPERATIONS and OPERATIONS["upsert_points"].method == "PUT"


def test_models_are_not_tracked_by_the_cyclic_gc():
    # Bulk writes and large replies create models by the thousand; untracked, they do not
    # trigger garbage collections (a full one pauses the event loop).
    import gc

    p = models.PointStruct(id=1, vector=[0.5], payload={"a": [1]})
    reply = models.parse(models.QueryResponse, {"points": [{"id": 1, "version": 0, "score": 0.5}]})
    assert not gc.is_tracked(p)
    assert not gc.is_tracked(reply) and not gc.is_tracked(reply.points[0])
    assert gc.is_tracked(p.payload)  # plain containers inside stay tracked as usual
