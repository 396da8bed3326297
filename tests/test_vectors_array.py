"""models.vectors_array: all of a reply's dense vectors as one numpy array, from float32 bytes
(gRPC replies), the server's JSON (REST replies) or lists, the same values either way."""

from __future__ import annotations

import json

import numpy as np
import pytest

from aqdrant import models
from aqdrant.grpc import fast


def _points(n: int = 5, dim: int = 6) -> tuple[np.ndarray, list]:
    vecs = np.random.default_rng(4).random((n, dim), dtype=np.float32)
    return vecs, [models.ScoredPoint(id=i, version=1, score=1.0, vector=vecs[i].tolist()) for i in range(n)]


def test_vectors_array_from_grpc_rest_and_lists_agree() -> None:
    vecs, points = _points()
    grpc_points = fast.decode_query_response(
        fast.encode_query_response(models.QueryResponse(points=points))
    ).points
    assert object.__getattribute__(grpc_points[0], "vector").__class__ is models.RawVector  # not decoded yet
    body = json.dumps({"points": [models.to_builtins(p) for p in points]}).encode()
    rest_points = models.parse(models.QueryResponse, body).points
    for got in (
        models.vectors_array(grpc_points),
        models.vectors_array(rest_points),
        models.vectors_array(points),
    ):
        assert got.dtype == np.float32 and got.shape == vecs.shape and np.array_equal(got, vecs)
    assert np.array_equal(models.vectors_array(rest_points, dtype=np.float64), vecs.astype(np.float64))
    # reading a vector the usual way still gives the list, with the same values
    assert grpc_points[2].vector == vecs[2].tolist() and rest_points[2].vector == vecs[2].tolist()
    assert np.array_equal(models.vectors_array(grpc_points), vecs)  # after some were read


def test_vectors_array_named_and_errors() -> None:
    vecs, _ = _points(3, 4)
    named = [models.Record(id=i, vector={"a": vecs[i].tolist(), "b": [1.0, 2.0]}) for i in range(3)]
    assert np.array_equal(models.vectors_array(named, using="a"), vecs)
    assert models.vectors_array(named, using="b").shape == (3, 2)
    with pytest.raises(ValueError, match="using="):
        models.vectors_array(named)
    with pytest.raises(ValueError, match="no vector"):
        models.vectors_array([models.Record(id=1)])
    with pytest.raises(ValueError, match="differ"):
        models.vectors_array([models.Record(id=1, vector=[1.0, 2.0]), models.Record(id=2, vector=[1.0])])
    assert models.vectors_array([]).shape == (0, 0)
