"""The query-family request writers of aqdrant.grpc.fast give exactly ``bytes(message)`` of the
betterproto2 messages convert.py builds: dense, sparse, multi-dense and named vectors, point ids,
prefetch trees, fusion, MMR, order-by, recommend, filters, params, selectors and the batch and
groups requests."""

from __future__ import annotations

import uuid

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aqdrant import models as m
from aqdrant.grpc import convert, fast
from aqdrant.grpc._proto import qdrant as q

RNG = np.random.default_rng(5)
V384 = RNG.random(384, dtype=np.float32)
FLT = m.Filter(must=[m.FieldCondition(key="k", match=m.MatchValue(value=3))])


def _same(op: str, body: object, query: dict | None = None) -> bytes:
    message = convert.request_to_grpc(op, {"collection_name": "c"}, query or {}, body)
    expected = bytes(message)
    assert convert.codec(op).write_request(message) == expected
    # the row's whole path (a plain query written without messages) gives the same bytes
    assert convert.encode_request(op, {"collection_name": "c"}, query or {}, body) == expected
    assert len(expected) > 0
    return expected


QUERIES = [
    m.QueryRequest(query=V384.tolist(), limit=10),
    m.QueryRequest(query=V384, limit=10, filter=FLT),
    m.QueryRequest(query=V384.tolist(), using="text", limit=3, with_payload=True, with_vector=["text"]),
    m.QueryRequest(
        query=m.SparseVector(indices=[1, 7, 300, 70000], values=[0.5, -1.0, 2.0, 1e-3]), using="s"
    ),
    m.QueryRequest(query=[[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], using="colbert"),
    m.QueryRequest(query=42),
    m.QueryRequest(query=str(uuid.UUID(int=7))),
    m.QueryRequest(query=m.NearestQuery(nearest=V384.tolist())),
    m.QueryRequest(
        query=m.NearestQuery(nearest=V384.tolist(), mmr=m.Mmr(diversity=0.5, candidates_limit=50))
    ),
    m.QueryRequest(query=m.OrderByQuery(order_by="k")),
    m.QueryRequest(
        query=m.RecommendQuery(recommend=m.RecommendInput(positive=[1, V384.tolist()], negative=[2]))
    ),
    m.QueryRequest(
        query=m.FusionQuery(fusion=m.Fusion.RRF),
        prefetch=[
            m.Prefetch(query=V384.tolist(), using="a", limit=20, filter=FLT, score_threshold=0.0),
            m.Prefetch(
                query=m.SparseVector(indices=[3], values=[1.0]),
                using="s",
                limit=20,
                params=m.SearchParams(hnsw_ef=64, exact=False),
            ),
            m.Prefetch(
                prefetch=[m.Prefetch(query=[1.0, 2.0], limit=100)],
                query=[[1.0, 2.0]],
                using="m",
                lookup_from=m.LookupLocation(collection="other", vector="v"),
            ),
        ],
        limit=5,
    ),
    m.QueryRequest(query=None, filter=FLT, limit=0, offset=0),
    m.QueryRequest(query=[], limit=1),
    m.QueryRequest(
        query=V384.tolist(),
        score_threshold=0.25,
        offset=5,
        with_payload=m.PayloadSelectorInclude(include=["k"]),
        params=m.SearchParams(hnsw_ef=128, quantization=m.QuantizationSearchParams(rescore=True)),
        lookup_from=m.LookupLocation(collection="o"),
        shard_key="s1",
    ),
    m.QueryRequest(query=m.Document(text="hello", model="sentence-transformers/all-minilm-l6-v2")),
]


@pytest.mark.parametrize("i", range(len(QUERIES)))
def test_query_points_writer_matches_betterproto2(i: int) -> None:
    _same("query_points", QUERIES[i])
    _same("query_points", QUERIES[i], {"timeout": 7, "consistency": "majority"})


def test_query_batch_and_groups_writers_match_betterproto2() -> None:
    _same("query_batch_points", m.QueryRequestBatch(searches=QUERIES[:12]), {"timeout": 3})
    _same("query_batch_points", m.QueryRequestBatch(searches=[]))
    for body in QUERIES[:5]:
        groups = m.QueryGroupsRequest(
            query=body.query,
            using=body.using,
            filter=FLT,
            group_by="k",
            group_size=2,
            limit=4,
            with_lookup=m.WithLookup(collection="other"),
            with_payload=True,
        )
        _same("query_points_groups", groups, {"timeout": 9})


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(width=32, allow_nan=False), min_size=0, max_size=64),
    st.lists(st.tuples(st.integers(0, 2**32 - 1), st.floats(width=32, allow_nan=False)), max_size=20),
    st.one_of(st.none(), st.floats(width=32, allow_nan=False)),
    st.one_of(st.none(), st.integers(0, 2**63)),
)
def test_writers_match_betterproto2_for_any_floats(dense, sparse, threshold, limit) -> None:
    message = q.QueryPoints(
        collection_name="c",
        prefetch=[
            q.PrefetchQuery(
                query=q.Query(
                    nearest=q.VectorInput(
                        sparse=q.SparseVector(indices=[i for i, _ in sparse], values=[v for _, v in sparse])
                    )
                ),
                score_threshold=threshold,
                limit=limit,
            )
        ],
        query=q.Query(nearest=q.VectorInput(dense=q.DenseVector(data=dense))),
        score_threshold=threshold,
        limit=limit,
    )
    assert fast.encode_query_points(message) == bytes(message)
    multi = q.QueryPoints(
        query=q.Query(
            nearest=q.VectorInput(
                multi_dense=q.MultiDenseVector(vectors=[q.DenseVector(data=dense), q.DenseVector(data=[])])
            )
        )
    )
    assert fast.encode_query_points(multi) == bytes(multi)
