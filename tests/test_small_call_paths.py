"""The per-call shortcuts of small calls (issue 19) keep every check: what they remember never
lets a request through that the full check would refuse."""

from __future__ import annotations

import msgspec
import pytest

from aqdrant import models
from aqdrant.errors import ValidationError
from aqdrant.models._coerce import coerce


def _query(flt: models.Filter) -> models.QueryRequest:
    return models.QueryRequest(query=[1.0, 0.0], filter=flt, limit=3)


def test_a_checked_filter_changed_in_place_is_checked_again():
    flt = models.Filter(must=[models.FieldCondition(key="k", match=models.MatchValue(value=1))])
    coerce(_query(flt))  # valid: remembered
    coerce(_query(flt))
    msgspec.structs.force_setattr(flt.must[0], "key", 123)  # the same object, now wrong
    with pytest.raises(ValidationError) as ei:
        coerce(_query(flt))
    assert ei.value.path == "$.filter.must[0].key"


def test_a_refused_filter_is_refused_every_time():
    bad = models.Filter(must=[models.FieldCondition(key=123, match=models.MatchValue(value=1))])
    for _ in range(3):
        with pytest.raises(ValidationError):
            coerce(_query(bad))


def test_equal_looking_values_of_other_types_are_not_confused():
    # 1 and 1.0 and "1" read differently as a match value: each gets its own verdict
    for value in (1, "1", True):
        flt = models.Filter(must=[models.FieldCondition(key="k", match=models.MatchValue(value=value))])
        coerce(_query(flt))
    flt = models.Filter(must=[models.FieldCondition(key="k", match=models.MatchValue(value=1.5))])
    with pytest.raises(ValidationError):
        coerce(_query(flt))


@pytest.mark.parametrize("payload", [True, False, ["k"], None])
@pytest.mark.parametrize("vectors", [True, False, ["text"], None])
def test_selector_flags_are_written_as_betterproto2_writes_them(payload, vectors):
    # the fixed bytes kept for a plain with_payload / with_vectors flag equal bytes(message)
    from aqdrant.grpc import convert, fast

    body = models.QueryRequest(query=[0.5, 0.25], limit=3, with_payload=payload, with_vector=vectors)
    for _ in range(2):  # the first call writes the fixed bytes, the second reuses them
        message = convert.request_to_grpc("query_points", {"collection_name": "c"}, {}, body)
        assert fast.encode_query_points(message) == bytes(message)


FILTERS = [
    models.Filter(must=[models.FieldCondition(key="k", match=models.MatchValue(value=3))]),
    models.Filter(must=[models.FieldCondition(key="k", match=models.MatchValue(value="3"))]),
    models.Filter(must=[models.FieldCondition(key="k", range=models.Range(gte=1.5))]),
    models.Filter(
        must=[models.FieldCondition(key="k", range=models.DatetimeRange(gte="2024-01-01T00:00:00Z"))]
    ),
    models.Filter(
        should=[models.HasIdCondition(has_id=[1, 2])],
        must_not=[models.IsEmptyCondition(is_empty=models.PayloadField(key="a"))],
    ),
    models.Filter(must=[models.FieldCondition(key="k", range=models.Range())]),
    models.Filter(must=[models.FieldCondition(key="k", range=models.DatetimeRange())]),
]


@pytest.mark.parametrize("flt", FILTERS)
def test_remembered_filter_bytes_equal_betterproto2s(flt):
    # the query_points bytes with the filter written once per distinct filter equal
    # bytes(message), on the first call and on later ones
    from aqdrant.grpc import convert

    path = {"collection_name": "c"}
    for _ in range(2):
        for f in FILTERS:  # every other filter in between: no entry answers for another
            body = models.QueryRequest(query=[0.5, 0.25], filter=f, limit=3)
            expected = bytes(convert.request_to_grpc("query_points", path, {}, body))
            assert convert.encode_request("query_points", path, {}, body) == expected
        body = models.QueryRequest(query=[0.5, 0.25], filter=flt, limit=3)
        assert convert.encode_request("query_points", path, {}, body) == bytes(
            convert.request_to_grpc("query_points", path, {}, body)
        )
