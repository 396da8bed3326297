"""Vector checks before sending: wrong dimensions, unknown names and NaN are caught by point id."""

import math

import numpy as np
import pytest

from aqdrant import ValidationError, models
from aqdrant._validate import VectorValidator


def _params(vectors, sparse=None):
    async def get(name):
        get.calls += 1
        return models.CollectionParams(vectors=vectors, sparse_vectors=sparse)

    get.calls = 0
    return get


UNNAMED = models.VectorParams(size=3, distance=models.Distance.COSINE)
NAMED = {
    "text": models.VectorParams(size=2, distance=models.Distance.DOT),
    "colbert": models.VectorParams(
        size=2,
        distance=models.Distance.DOT,
        multivector_config=models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM),
    ),
}


@pytest.mark.anyio
async def test_good_points_pass_and_config_is_fetched_once():
    get = _params(UNNAMED)
    v = VectorValidator(get)
    body = models.PointsList(points=[models.PointStruct(id=1, vector=[0.1, 0.2, 0.3])])
    await v.check_upsert("c", body)
    await v.check_upsert("c", models.PointsList(points=[models.PointStruct(id=2, vector=np.ones(3, np.float32))]))
    assert get.calls == 1
    v.forget("c")
    await v.check_upsert("c", body)
    assert get.calls == 2


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("vector", "needle"),
    [
        ([0.1, 0.2], "has 2 dimensions"),
        (np.ones(4, np.float32), "has 4 dimensions"),
        ([0.1, math.nan, 0.3], "NaN or infinity"),
        (np.array([0.1, np.inf, 0.3]), "NaN or infinity"),
        ({"text": [0.1, 0.2, 0.3]}, "no vector named 'text'"),
    ],
)
async def test_bad_unnamed_vectors_name_the_point(vector, needle):
    v = VectorValidator(_params(UNNAMED))
    body = models.PointsList(
        points=[models.PointStruct(id=1, vector=[0.0, 0.0, 1.0]), models.PointStruct(id=42, vector=vector)]
    )
    with pytest.raises(ValidationError) as ei:
        await v.check_upsert("c", body)
    assert "point 42" in str(ei.value) and needle in str(ei.value)
    assert ei.value.path.startswith("$.points[1].vector")


@pytest.mark.anyio
async def test_named_multivector_and_sparse():
    v = VectorValidator(_params(NAMED, {"bm25": models.SparseVectorParams()}))
    ok = models.PointStruct(
        id=1,
        vector={
            "text": [1.0, 2.0],
            "colbert": [[1.0, 2.0], [3.0, 4.0]],
            "bm25": models.SparseVector(indices=[1, 5], values=[0.5, 0.7]),
        },
    )
    await v.check_upsert("c", models.PointsList(points=[ok]))
    with pytest.raises(ValidationError, match="named vectors"):
        await v.check_upsert("c", models.PointsList(points=[models.PointStruct(id=2, vector=[1.0, 2.0])]))
    with pytest.raises(ValidationError, match="has 3 dimensions"):
        await v.check_upsert(
            "c", models.PointsList(points=[models.PointStruct(id=3, vector={"colbert": [[1.0, 2.0], [1.0, 2.0, 3.0]]})])
        )
    with pytest.raises(ValidationError, match="no sparse vector named 'splade'"):
        await v.check_upsert(
            "c",
            models.PointsList(
                points=[models.PointStruct(id=4, vector={"splade": models.SparseVector(indices=[1], values=[1.0])})]
            ),
        )


@pytest.mark.anyio
async def test_batch_form_is_checked_with_ids():
    v = VectorValidator(_params(UNNAMED))
    batch = models.PointsBatch(batch=models.Batch(ids=[7, 8], vectors=[[1.0, 2.0, 3.0], [1.0, 2.0]]))
    with pytest.raises(ValidationError, match="point 8"):
        await v.check_upsert("c", batch)


@pytest.mark.anyio
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
async def test_batch_of_one_2d_array_is_checked_row_by_row_in_bulk(dtype):
    v = VectorValidator(_params(UNNAMED))
    ids = list(range(100, 110))
    good = np.ones((10, 3), dtype)
    await v.check_upsert("c", models.PointsBatch(batch=models.Batch(ids=ids, vectors=good)))
    bad = good.copy()
    bad[6, 1] = np.nan
    with pytest.raises(ValidationError, match="point 106: the unnamed vector contains NaN") as ei:
        await v.check_upsert("c", models.PointsBatch(batch=models.Batch(ids=ids, vectors=bad)))
    assert ei.value.path == "$.batch.vectors[6]"
    with pytest.raises(ValidationError, match="point 100: the unnamed vector has 4 dimensions"):
        await v.check_upsert("c", models.PointsBatch(batch=models.Batch(ids=ids, vectors=np.ones((10, 4), dtype))))
    with pytest.raises(ValidationError, match="10 ids but 9 vectors"):
        await v.check_upsert("c", models.PointsBatch(batch=models.Batch(ids=ids, vectors=good[:9])))


@pytest.mark.anyio
async def test_a_long_upsert_lets_the_event_loop_run_while_it_is_checked(monkeypatch):
    # Structural, not timed: a long check yields to the loop before it starts and every
    # CHECKPOINT_FLOATS vector components (here 3 per point), so it never holds the loop for long.
    import aqdrant._validate as validate

    calls = []
    real = validate.checkpoint

    async def counting():
        calls.append(1)
        await real()

    monkeypatch.setattr(validate, "checkpoint", counting)
    v = VectorValidator(_params(UNNAMED))
    every = validate.CHECKPOINT_FLOATS // 3
    n = 3 * every + 1
    body = models.PointsList(points=[models.PointStruct(id=i, vector=[0.1, 0.2, 0.3]) for i in range(n)])
    await v.check_upsert("c", body)
    assert len(calls) == 1 + 3
    calls.clear()
    await v.check_upsert("c", models.PointsBatch(batch=models.Batch(ids=list(range(n)), vectors=[[0.1, 0.2, 0.3]] * n)))
    assert len(calls) == 1 + 3
    # A short body is checked without yielding: concurrent small upserts keep their order.
    calls.clear()
    await v.check_upsert("c", models.PointsList(points=body.points[:every]))
    assert calls == []
