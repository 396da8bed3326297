"""Local inference end to end: ``AsyncQdrantClient(url=...)`` against the dev server on
127.0.0.1 (asyncio and trio). Documents are embedded by the client (fastembed, tiny models built
on the fly - see tests/_tiny_model.py) and the server only ever sees vectors; the stored vectors
equal fastembed's own output and queries by Document find the expected points. Also: the same
answers as the embedded engine, and ``cloud_inference=True`` puts the Documents on the wire as
they are.
"""

from __future__ import annotations

import _tiny_model as tm
import numpy as np
import pytest

from aqdrant import AsyncQdrantClient, models
from aqdrant.inference import VectorNameError, VectorSizeMismatch

pytestmark = pytest.mark.anyio

TEXTS = tm.TEXTS


@pytest.fixture(scope="module", autouse=True)
def fastembed_cache(tmp_path_factory):
    with tm.offline_models(tmp_path_factory.mktemp("fastembed") / "cache") as cache:
        yield cache


# ``server``: the dev server, from tests/conftest.py


def doc(text, model=tm.DENSE):
    return models.Document(text=text, model=model)


async def scenario(client, name):
    """Create, upsert Documents (dense, sparse BM25, ColBERT), query; return what was seen."""
    if await client.collection_exists(name):
        await client.delete_collection(name)
    await client.create_collection(
        name,
        vectors_config={
            "dense": models.VectorParams(size=tm.DENSE_DIM, distance=models.Distance.COSINE),
            "colbert": models.VectorParams(
                size=tm.COLBERT_DIM,
                distance=models.Distance.COSINE,
                multivector_config=models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM),
            ),
        },
        sparse_vectors_config={"bm25": models.SparseVectorParams(modifier=models.Modifier.IDF)},
    )
    await client.upsert(
        name,
        [
            models.PointStruct(
                id=i,
                vector={"dense": doc(t), "bm25": doc(t, tm.BM25), "colbert": doc(t, tm.COLBERT)},
                payload={"text": t},
            )
            for i, t in enumerate(TEXTS[:4])
        ],
    )
    await client.upload_collection(
        name,
        vectors={"dense": [doc(t) for t in TEXTS[4:]]},
        ids=[4, 5],
        payload=[{"text": t} for t in TEXTS[4:]],
    )
    await client.update_vectors(name, [models.PointVectors(id=4, vector={"bm25": doc(TEXTS[4], tm.BM25)})])
    recs = sorted(await client.retrieve(name, list(range(6)), with_vectors=True), key=lambda r: r.id)
    answers = {
        "dense": [
            p.id
            for p in (await client.query_points(name, doc("cats and dogs"), using="dense", limit=2)).points
        ],
        "bm25": [
            p.id
            for p in (await client.query_points(name, doc("banana", tm.BM25), using="bm25", limit=1)).points
        ],
        "colbert": [
            p.id
            for p in (
                await client.query_points(name, doc("boat ocean", tm.COLBERT), using="colbert", limit=1)
            ).points
        ],
        "hybrid": [
            p.id
            for p in (
                await client.query_points(
                    name,
                    prefetch=[
                        models.Prefetch(query=doc("night sky"), using="dense", limit=3),
                        models.Prefetch(query=doc("moon star", tm.BM25), using="bm25", limit=3),
                    ],
                    query=models.FusionQuery(fusion=models.Fusion.RRF),
                    limit=1,
                )
            ).points
        ],
        "batch": [
            [p.id for p in r.points]
            for r in await client.query_batch_points(
                name,
                [
                    models.QueryRequest(query=doc("fruit"), using="dense", limit=1),
                    models.QueryRequest(
                        query=models.RecommendQuery(
                            recommend=models.RecommendInput(positive=[doc("road car")])
                        ),
                        using="dense",
                        limit=1,
                    ),
                ],
            )
        ],
    }
    return recs, answers


async def test_documents_end_to_end_against_the_dev_server(server):
    async with AsyncQdrantClient(url=server.url) as client:
        recs, answers = await scenario(client, "inference_e2e")
    from fastembed import LateInteractionTextEmbedding, SparseTextEmbedding, TextEmbedding

    dense = list(TextEmbedding(tm.DENSE).embed(TEXTS))
    bm25 = list(SparseTextEmbedding(tm.BM25).embed(TEXTS))
    colbert = list(LateInteractionTextEmbedding(tm.COLBERT).embed(TEXTS[:4]))
    for r in recs:
        np.testing.assert_allclose(r.vector["dense"], dense[r.id], rtol=1e-5, atol=1e-6)
        if r.id != 5:
            ref = bm25[r.id]  # the server keeps a sparse vector sorted by index
            got = dict(zip(r.vector["bm25"].indices, r.vector["bm25"].values, strict=True))
            assert sorted(got) == sorted(ref.indices.tolist())
            np.testing.assert_allclose([got[i] for i in ref.indices.tolist()], ref.values, rtol=1e-6)
        if r.id < 4:
            np.testing.assert_allclose(np.asarray(r.vector["colbert"]), colbert[r.id], rtol=1e-5, atol=1e-6)
    assert set(answers["dense"]) == {0, 5}
    assert answers["bm25"] == [2]
    assert answers["colbert"] == [3]
    assert answers["hybrid"] == [4]
    assert answers["batch"] == [[2], [1]]


async def test_remote_and_local_agree(server):
    async with AsyncQdrantClient(url=server.url) as remote:
        r_recs, r_answers = await scenario(remote, "inference_agree")
    async with AsyncQdrantClient(":memory:") as local:
        l_recs, l_answers = await scenario(local, "inference_agree")
    assert r_answers == l_answers
    for a, b in zip(r_recs, l_recs, strict=True):
        np.testing.assert_allclose(a.vector["dense"], b.vector["dense"], rtol=1e-6)


async def test_errors_before_sending_against_the_dev_server(server):
    async with AsyncQdrantClient(url=server.url) as client:
        if await client.collection_exists("inference_err"):
            await client.delete_collection("inference_err")
        await client.create_collection(
            "inference_err",
            vectors_config={"v": models.VectorParams(size=16, distance=models.Distance.COSINE)},
        )
        with pytest.raises(VectorSizeMismatch):
            await client.upsert("inference_err", [models.PointStruct(id=1, vector={"v": doc("cat")})])
        with pytest.raises(VectorNameError):
            await client.query_points("inference_err", doc("cat"), using="w")
        assert (await client.count("inference_err")).count == 0


async def test_cloud_inference_puts_documents_on_the_wire(server):
    """With cloud_inference=True the body carries the Document itself; the dev server (the
    embedded engine behind it) has no inference service and answers with an error."""
    async with AsyncQdrantClient(url=server.url, cloud_inference=True) as client:
        if await client.collection_exists("inference_cloud"):
            await client.delete_collection("inference_cloud")
        await client.create_collection(
            "inference_cloud",
            vectors_config=models.VectorParams(size=tm.DENSE_DIM, distance=models.Distance.COSINE),
        )
        sent = []
        backend = client._backend
        real = backend.execute

        async def spy(request):
            sent.append((request.op.name, request.body))
            return await real(request)

        backend.execute = spy
        with pytest.raises(Exception):  # noqa: B017 - whichever error the server gives for a Document
            await client.query_points("inference_cloud", doc("cat"), limit=1)
        assert client._embedder is None
        bodies = [b for name, b in sent if name == "query_points"]
        assert bodies and all(isinstance(b.query, models.Document) for b in bodies)
        assert models.to_builtins(bodies[0])["query"] == {"text": "cat", "model": tm.DENSE}
