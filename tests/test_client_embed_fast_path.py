"""``client_base._nothing_to_embed``: the queries it lets skip the inference walk are exactly ones
the walk finds nothing to embed in; a body with an input to embed is never skipped."""

from __future__ import annotations

import pytest

from aqdrant import models as m
from aqdrant.client_base import _nothing_to_embed
from aqdrant.inference import has_inference_objects

DOC = m.Document(text="hi", model="sentence-transformers/all-MiniLM-L6-v2")
QUERIES = [
    None,
    [0.1, 0.2],
    [1, 2],
    [],
    [[0.1], [0.2]],
    7,
    "00000000-0000-0000-0000-000000000007",
    m.SparseVector(indices=[1], values=[0.5]),
    DOC,
    m.Image(image="x.png", model="Qdrant/clip-ViT-B-32-vision"),
    m.InferenceObject(object="x", model="m"),
    m.NearestQuery(nearest=DOC),
    m.NearestQuery(nearest=[0.1]),
    m.RecommendQuery(recommend=m.RecommendInput(positive=[DOC])),
    m.FusionQuery(fusion=m.Fusion.RRF),
]
BODIES = [
    *(m.QueryRequest(query=q) for q in QUERIES),
    *(m.QueryGroupsRequest(query=q, group_by="g") for q in QUERIES),
    m.QueryRequest(query=[0.1], prefetch=[m.Prefetch(query=DOC)]),
    m.QueryRequest(query=[0.1], prefetch=m.Prefetch(query=[0.2])),
    m.QueryRequestBatch(searches=[m.QueryRequest(query=DOC)]),
    m.Prefetch(query=DOC),
    m.PointsList(points=[m.PointStruct(id=1, vector=DOC)]),
    m.PointsList(points=[m.PointStruct(id=1, vector=[0.1])]),
]


@pytest.mark.parametrize("body", BODIES, ids=range(len(BODIES)))
def test_a_skipped_body_holds_nothing_to_embed(body) -> None:
    if _nothing_to_embed(body):
        assert not has_inference_objects(body)


def test_the_common_queries_are_skipped_and_inputs_are_not() -> None:
    skipped = [b for b in BODIES if _nothing_to_embed(b)]
    assert len(skipped) == 2 * 7  # None, both vectors, [], id, uuid and sparse, single and grouped
    assert all(has_inference_objects(b) for b in BODIES if b.__class__ is m.QueryRequest and b.query is DOC)
    assert not _nothing_to_embed(m.QueryRequest(query=DOC))
