"""Local inference with fastembed: Documents / Images / InferenceObjects embedded off the loop.

The models are tiny ONNX graphs and tokenizers built on the fly (tests/_tiny_model.py), laid out
as a Hugging Face cache and loaded by fastembed through its own offline path under the names the
real models have (plus one custom model registered with ``TextEmbedding.add_custom_model``). The
client runs fastembed's real classes - tokenization, ONNX session, pooling, normalization, BM25,
SPLADE, ColBERT, CLIP preprocessing - so the vectors it stores can be compared with fastembed's
own output for the same inputs. Everything runs on the embedded engine here; the same
scenario against the dev server is in test_inference_e2e.py.
"""

from __future__ import annotations

import io
import subprocess
import sys
import threading

import _tiny_model as tm
import anyio
import numpy as np
import pytest

from aqdrant import AsyncQdrantClient, models
from aqdrant.errors import QdrantError, ValidationError
from aqdrant.inference import (
    Embedder,
    FastembedNotInstalled,
    InferenceError,
    UnknownModelError,
    VectorNameError,
    VectorSizeMismatch,
)

pytestmark = pytest.mark.anyio

TEXTS = tm.TEXTS


@pytest.fixture(scope="module", autouse=True)
def fastembed_cache(tmp_path_factory):
    with tm.offline_models(tmp_path_factory.mktemp("fastembed") / "cache") as cache:
        yield cache


def fe_dense(texts, query=False):
    from fastembed import TextEmbedding

    m = TextEmbedding(tm.DENSE)
    return [np.asarray(v) for v in (m.query_embed(texts) if query else m.embed(texts))]


def fe_sparse(name, texts, query=False):
    from fastembed import SparseTextEmbedding

    m = SparseTextEmbedding(name)
    return list(m.query_embed(texts) if query else m.embed(texts))


def fe_colbert(texts, query=False):
    from fastembed import LateInteractionTextEmbedding

    m = LateInteractionTextEmbedding(tm.COLBERT)
    return [np.asarray(v) for v in (m.query_embed(texts) if query else m.embed(texts))]


def doc(text, model=tm.DENSE, **kw):
    return models.Document(text=text, model=model, **kw)


async def make_collection(client, name="c"):
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
        sparse_vectors_config={
            "bm25": models.SparseVectorParams(modifier=models.Modifier.IDF),
            "splade": models.SparseVectorParams(),
        },
    )


def point(i, text):
    return models.PointStruct(
        id=i,
        vector={
            "dense": doc(text),
            "colbert": doc(text, tm.COLBERT),
            "bm25": doc(text, tm.BM25),
            "splade": models.InferenceObject(object=text, model=tm.SPLADE),
        },
        payload={"text": text},
    )


@pytest.fixture
async def client():
    async with AsyncQdrantClient(":memory:") as c:
        yield c


@pytest.fixture
async def filled(client):
    await make_collection(client)
    await client.upsert("c", [point(i, t) for i, t in enumerate(TEXTS)])
    return client


def sparse_equal(stored, ref):
    got = dict(zip(stored.indices, stored.values, strict=True))
    want = dict(zip(ref.indices.tolist(), ref.values.tolist(), strict=True))
    assert got.keys() == want.keys()
    np.testing.assert_allclose([got[k] for k in want], list(want.values()), rtol=1e-6)


# ---- stored vectors equal fastembed's own output ----------------------------------------------------


async def test_upserted_vectors_equal_fastembed_output(filled):
    recs = await filled.retrieve("c", list(range(len(TEXTS))), with_vectors=True)
    recs.sort(key=lambda r: r.id)
    dense, colbert = fe_dense(TEXTS), fe_colbert(TEXTS)
    bm25, splade = fe_sparse(tm.BM25, TEXTS), fe_sparse(tm.SPLADE, TEXTS)
    for i, r in enumerate(recs):
        np.testing.assert_allclose(r.vector["dense"], dense[i], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(np.asarray(r.vector["colbert"]), colbert[i], rtol=1e-5, atol=1e-6)
        sparse_equal(r.vector["bm25"], bm25[i])
        sparse_equal(r.vector["splade"], splade[i])


async def test_unnamed_vector_and_batch_upsert(client):
    await client.create_collection(
        "u", vectors_config=models.VectorParams(size=tm.DENSE_DIM, distance=models.Distance.DOT)
    )
    await client.upsert("u", [models.PointStruct(id=0, vector=doc(TEXTS[0]))])
    await client.upsert("u", models.Batch(ids=[1, 2], vectors=[doc(TEXTS[1]), doc(TEXTS[2])]))
    recs = sorted(await client.retrieve("u", [0, 1, 2], with_vectors=True), key=lambda r: r.id)
    ref = fe_dense(TEXTS[:3])
    for r, v in zip(recs, ref, strict=True):
        np.testing.assert_allclose(r.vector, v, rtol=1e-5, atol=1e-6)


async def test_named_batch_and_mixed_plain_vectors(client):
    await make_collection(client)
    plain = [0.5] * tm.DENSE_DIM
    await client.upsert(
        "c",
        models.Batch(
            ids=[1, 2],
            vectors={
                "dense": [doc(TEXTS[1]), plain],
                "bm25": [doc(TEXTS[1], tm.BM25), doc(TEXTS[2], tm.BM25)],
            },
        ),
    )
    recs = sorted(await client.retrieve("c", [1, 2], with_vectors=True), key=lambda r: r.id)
    np.testing.assert_allclose(recs[0].vector["dense"], fe_dense([TEXTS[1]])[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        recs[1].vector["dense"], np.full(tm.DENSE_DIM, 1 / np.sqrt(tm.DENSE_DIM)), rtol=1e-5
    )
    sparse_equal(recs[1].vector["bm25"], fe_sparse(tm.BM25, [TEXTS[2]])[0])


async def test_update_vectors_and_batch_update(filled):
    await filled.update_vectors("c", [models.PointVectors(id=0, vector={"dense": doc("a boat on the sea")})])
    await filled.batch_update_points(
        "c",
        [
            models.UpsertOperation(upsert=models.PointsList(points=[point(10, "rocket to the moon")])),
            models.UpdateVectorsOperation(
                update_vectors=models.UpdateVectors(
                    points=[models.PointVectors(id=1, vector={"dense": doc("banana")})]
                )
            ),
        ],
    )
    recs = {r.id: r for r in await filled.retrieve("c", [0, 1, 10], with_vectors=True)}
    ref = fe_dense(["a boat on the sea", "banana", "rocket to the moon"])
    np.testing.assert_allclose(recs[0].vector["dense"], ref[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(recs[1].vector["dense"], ref[1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(recs[10].vector["dense"], ref[2], rtol=1e-5, atol=1e-6)


async def test_callers_objects_are_not_changed(client):
    await make_collection(client)
    pts = [point(0, TEXTS[0])]
    req = models.QueryRequest(
        query=doc("cats"), using="dense", prefetch=[models.Prefetch(query=doc("dog"), using="dense")]
    )
    await client.upsert("c", pts)
    await client.query_batch_points("c", [req])
    assert isinstance(pts[0].vector["dense"], models.Document)
    assert isinstance(req.query, models.Document)
    assert isinstance(req.prefetch[0].query, models.Document)


# ---- queries ------------------------------------------------------------------------------------------


def ids(res):
    return [p.id for p in res.points]


async def test_query_by_document_finds_expected_points(filled):
    res = await filled.query_points("c", doc("cats and dogs"), using="dense", limit=2)
    assert set(ids(res)) == {0, 5}
    # the query is embedded with query_embed, and the score is that vector against the stored one
    q = fe_dense(["cats and dogs"], query=True)[0]
    stored = fe_dense([TEXTS[res.points[0].id]])[0]
    assert res.points[0].score == pytest.approx(float(q @ stored / np.linalg.norm(q)), abs=1e-5)
    assert ids(await filled.query_points("c", doc("sweet banana", tm.BM25), using="bm25", limit=1)) == [2]
    assert ids(await filled.query_points("c", doc("ocean boat", tm.SPLADE), using="splade", limit=1)) == [3]
    assert ids(await filled.query_points("c", doc("moon night", tm.COLBERT), using="colbert", limit=1)) == [4]


async def test_colbert_query_uses_query_embed(filled):
    """ColBERT queries are embedded differently from documents (marker token, [MASK] expansion):
    the score equals MaxSim of fastembed's query_embed against the stored document."""
    res = await filled.query_points("c", doc("moon night", tm.COLBERT), using="colbert", limit=1)
    q = fe_colbert(["moon night"], query=True)[0]
    d = fe_colbert([TEXTS[4]])[0]
    q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)  # cosine: rows normalized
    maxsim = float((q @ d.T).max(axis=1).sum())
    assert res.points[0].score == pytest.approx(maxsim, rel=1e-4)


async def test_hybrid_prefetch_nested_and_fusion(filled):
    res = await filled.query_points(
        "c",
        prefetch=[
            models.Prefetch(
                prefetch=models.Prefetch(query=doc("fruit", tm.BM25), using="bm25", limit=4),
                query=doc("apple banana"),
                using="dense",
                limit=3,
            ),
            models.Prefetch(query=doc("banana", tm.SPLADE), using="splade", limit=3),
        ],
        query=models.FusionQuery(fusion=models.Fusion.RRF),
        limit=1,
    )
    assert ids(res) == [2]


async def test_recommend_discover_context_feedback_examples(filled):
    rec = await filled.query_points(
        "c",
        models.RecommendQuery(
            recommend=models.RecommendInput(positive=[doc("cat"), 5], negative=[doc("car road")])
        ),
        using="dense",
        limit=2,
    )
    assert ids(rec)[0] in {0, 5}
    disc = await filled.query_points(
        "c",
        models.DiscoverQuery(
            discover=models.DiscoverInput(
                target=doc("water"), context=[models.ContextPair(positive=doc("boat"), negative=doc("fruit"))]
            )
        ),
        using="dense",
        limit=1,
    )
    assert ids(disc) == [3]
    ctx = await filled.query_points(
        "c",
        models.ContextQuery(context=models.ContextPair(positive=doc("sky"), negative=doc("car"))),
        using="dense",
        limit=6,
    )
    assert len(ctx.points) == 6
    nearest = await filled.query_points(
        "c", models.NearestQuery(nearest=doc("star night")), using="dense", limit=1
    )
    assert ids(nearest) == [4]


async def test_query_batch_and_groups(filled):
    res = await filled.query_batch_points(
        "c",
        [
            models.QueryRequest(query=doc("pets"), using="dense", limit=1),
            models.QueryRequest(query=doc("road truck", tm.BM25), using="bm25", limit=1),
        ],
    )
    assert [ids(r) for r in res] == [[0], [1]] or ids(res[0]) == [5]
    assert ids(res[1]) == [1]
    groups = await filled.query_points_groups(
        "c", "text", query=doc("fruit"), using="dense", limit=1, group_size=1
    )
    assert groups.groups[0].hits[0].id == 2


# ---- images -------------------------------------------------------------------------------------------


async def test_image_model_upsert_and_query(client, tmp_path):
    from fastembed import ImageEmbedding
    from PIL import Image as PILImage

    await client.create_collection(
        "img", vectors_config={"clip": models.VectorParams(size=tm.CLIP_DIM, distance=models.Distance.COSINE)}
    )
    colours = ["red", "blue", "green"]
    pics = [PILImage.new("RGB", (40, 30), c) for c in colours]
    path = tmp_path / "blue.png"
    pics[1].save(path)
    buf = io.BytesIO()
    pics[2].save(buf, "PNG")
    inputs = [pics[0], str(path), buf.getvalue()]  # a PIL image, a path, PNG bytes
    await client.upsert(
        "img",
        [
            models.PointStruct(id=i, vector={"clip": models.Image(image=x, model=tm.CLIP)})
            for i, x in enumerate(inputs)
        ],
    )
    ref = list(ImageEmbedding(tm.CLIP).embed(pics))
    recs = sorted(await client.retrieve("img", [0, 1, 2], with_vectors=True), key=lambda r: r.id)
    for r, v in zip(recs, ref, strict=True):
        np.testing.assert_allclose(r.vector["clip"], v, rtol=1e-5, atol=1e-6)
    res = await client.query_points(
        "img", models.Image(image=PILImage.new("RGB", (8, 8), "blue"), model=tm.CLIP), using="clip", limit=1
    )
    assert ids(res) == [1]


# ---- ingestion ------------------------------------------------------------------------------------------


async def test_upload_collection_and_ingest_with_documents(client):
    await make_collection(client)
    await client.upload_collection(
        "c",
        vectors={"dense": [doc(t) for t in TEXTS], "bm25": [doc(t, tm.BM25) for t in TEXTS]},
        payload=[{"text": t} for t in TEXTS],
        ids=list(range(len(TEXTS))),
        batch_size=4,
    )
    await client.upload_points(
        "c", [point(100 + i, t) for i, t in enumerate(TEXTS)], batch_size=2, parallel=2
    )
    async with client.ingest("c", batch_size=3, concurrency=2) as sink:
        await sink.send_many({"id": 200 + i, "vector": {"dense": doc(t)}} for i, t in enumerate(TEXTS))
    assert sink.report.acknowledged == len(TEXTS) and not sink.report.failures
    assert (await client.count("c")).count == 3 * len(TEXTS)
    recs = {r.id: r for r in await client.retrieve("c", [0, 100, 200], with_vectors=True)}
    want = fe_dense([TEXTS[0]])[0]
    for pid in (0, 100, 200):
        np.testing.assert_allclose(recs[pid].vector["dense"], want, rtol=1e-5, atol=1e-6)


async def test_ingest_embeds_next_batch_while_previous_is_sent(client, monkeypatch):
    """The actor embeds a batch as it is cut, in a worker thread, while the senders upsert the
    batches before it (batch k+1 embedded while k is sent) - even with one sender."""
    await make_collection(client)
    in_flight = 0
    overlapped = []
    real_upsert = client.upsert
    real_embed = Embedder.embed

    async def slow_upsert(*a, **kw):
        nonlocal in_flight
        in_flight += 1
        try:
            await anyio.sleep(0.05)
            return await real_upsert(*a, **kw)
        finally:
            in_flight -= 1

    def embed(self, *a, **kw):
        try:
            return real_embed(self, *a, **kw)
        finally:  # an upsert was in flight while this batch was embedded (read in the worker thread)
            overlapped.append(in_flight > 0)

    monkeypatch.setattr(client, "upsert", slow_upsert)
    monkeypatch.setattr(Embedder, "embed", embed)
    async with client.ingest("c", batch_size=4, concurrency=1) as sink:
        await sink.send_many({"id": i, "vector": {"dense": doc(TEXTS[i % 6])}} for i in range(40))
    assert sink.report.acknowledged == 40
    assert any(overlapped), "no embedding ran while an upsert was in flight"
    # embedded once per batch: retries and splits do not embed again
    assert len(overlapped) == 10


async def test_ingest_reports_inference_errors_per_batch(client):
    await make_collection(client)
    async with client.ingest("c", batch_size=2, concurrency=1, raise_on_failure=False) as sink:
        await sink.send({"id": 1, "vector": {"dense": doc("cat")}})
        await sink.send({"id": 2, "vector": {"dense": doc("dog")}})
        await sink.send({"id": 3, "vector": {"dense": doc("cat", "no/such-model")}})
    rep = sink.report
    assert rep.acknowledged == 2 and rep.failed == 1
    assert isinstance(rep.failures[0].error, UnknownModelError)


# ---- embedding off the loop, batching, one load per model ----------------------------------------------


async def test_embedding_runs_in_worker_threads_in_batches(client, monkeypatch):
    await make_collection(client)
    loop_thread = threading.get_ident()
    calls = []
    real = Embedder.embed

    def spy(self, kind, model, options, inputs, is_query, batch_size):
        calls.append((threading.get_ident(), len(inputs), is_query))
        return real(self, kind, model, options, inputs, is_query, batch_size)

    monkeypatch.setattr(Embedder, "embed", spy)
    client.local_inference_batch_size = 4
    await client.upsert("c", [models.PointStruct(id=i, vector={"dense": doc(f"cat {i}")}) for i in range(10)])
    await client.query_points("c", doc("cat"), using="dense")
    assert [n for _, n, _ in calls] == [4, 4, 2, 1]
    assert [q for _, _, q in calls] == [False, False, False, True]
    assert all(t != loop_thread for t, _, _ in calls)


async def test_each_model_loaded_once_per_client(filled):
    emb = filled._embedder
    loads = emb.loads
    assert loads == 4  # dense, colbert, bm25, splade
    for _ in range(3):
        await filled.upsert("c", [point(50, "a cat"), point(51, "a dog")])
        await filled.query_points("c", doc("cat"), using="dense")
    assert emb.loads == loads
    # other options are another instance of the model
    await filled.query_points("c", doc("cat", options={"threads": 1}), using="dense")
    assert emb.loads == loads + 1
    await filled.query_points("c", doc("cat", options={"threads": 1}), using="dense")
    assert emb.loads == loads + 1


async def test_heartbeat_keeps_ticking_while_documents_are_embedded(client):
    """3,000 documents uploaded in 3 batches of 1,000 (one embedding call per batch). Were a batch
    embedded on the event loop, the heartbeat could not tick while it is embedded; in worker
    threads it keeps ticking through every batch. (How long the loop's longest gap is: a figure
    of benchmarks/bench_inference.py, not an assertion a busy machine could break.)"""
    from aqdrant.inference import Embedder

    await client.create_collection(
        "hb", vectors_config=models.VectorParams(size=tm.DENSE_DIM, distance=models.Distance.COSINE)
    )
    client.local_inference_batch_size = 1000
    words = tm.WORDS
    n = 3000
    texts = [" ".join(words[(i * 7 + k * 3) % len(words)] for k in range(64)) for i in range(n)]
    docs = [doc(t) for t in texts]
    ticks = 0
    ticks_while_embedding: list[int] = []
    done = anyio.Event()

    class Counting(Embedder):
        def embed(self, *args, **kwargs):  # runs in a worker thread; reads the loop's counter
            before = ticks
            try:
                return super().embed(*args, **kwargs)
            finally:
                ticks_while_embedding.append(ticks - before)

    client._embedder = Counting()

    async def heartbeat():
        nonlocal ticks
        while not done.is_set():
            await anyio.sleep(0.005)
            ticks += 1

    async with anyio.create_task_group() as tg:
        tg.start_soon(heartbeat)
        await client.upload_collection("hb", vectors=docs, ids=list(range(n)), batch_size=1000, parallel=2)
        done.set()
    assert (await client.count("hb")).count == n
    rec = (await client.retrieve("hb", [1234], with_vectors=True))[0]
    np.testing.assert_allclose(rec.vector, fe_dense([texts[1234]])[0], rtol=1e-5, atol=1e-6)
    assert len(ticks_while_embedding) == 3
    assert all(t >= 1 for t in ticks_while_embedding), ticks_while_embedding


# ---- cloud inference --------------------------------------------------------------------------------------


async def test_cloud_inference_sends_documents_as_they_are(monkeypatch):
    async with AsyncQdrantClient(":memory:", cloud_inference=True) as c:
        await make_collection(c)
        sent = []
        real_call = c._call

        async def spy_call(op, **kw):
            if op in ("upsert_points", "query_points"):
                sent.append((op, kw.get("body")))
                return None  # the embedded engine has no inference service
            return await real_call(op, **kw)

        monkeypatch.setattr(c, "_call", spy_call)
        await c.upsert("c", [models.PointStruct(id=1, vector={"dense": doc("cat")})])
        await c.query_points(
            "c", doc("cat"), using="dense", prefetch=models.Prefetch(query=doc("x", tm.BM25), using="bm25")
        )
        assert c._embedder is None
    (op1, body1), (op2, body2) = sent
    assert op1 == "upsert_points" and isinstance(body1.points[0].vector["dense"], models.Document)
    assert op2 == "query_points" and isinstance(body2.query, models.Document)
    assert isinstance(body2.prefetch[0].query, models.Document)


# ---- errors -----------------------------------------------------------------------------------------------


async def test_unknown_model(client):
    await make_collection(client)
    with pytest.raises(UnknownModelError, match="no/such-model") as e:
        await client.upsert("c", [models.PointStruct(id=1, vector={"dense": doc("x", "no/such-model")})])
    assert isinstance(e.value, ValidationError) and isinstance(e.value, QdrantError)
    with pytest.raises(UnknownModelError):
        await client.query_points("c", doc("x", "no/such-model"), using="dense")
    with pytest.raises(UnknownModelError):
        await client.get_embedding_size("no/such-model")
    assert (await client.count("c")).count == 0


async def test_vector_name_the_collection_does_not_have(client):
    await make_collection(client)
    with pytest.raises(VectorNameError, match="no vector named 'nope'") as e:
        await client.upsert("c", [models.PointStruct(id=1, vector={"nope": doc("x")})])
    assert e.value.path == "$.points[0].vector.nope"
    with pytest.raises(VectorNameError, match="no unnamed vector"):
        await client.upsert("c", [models.PointStruct(id=1, vector=doc("x"))])
    with pytest.raises(VectorNameError, match="no sparse vector named 'dense'"):
        await client.upsert("c", [models.PointStruct(id=1, vector={"dense": doc("x", tm.BM25)})])
    with pytest.raises(VectorNameError, match="no vector named 'other'"):
        await client.query_points("c", doc("x"), using="other")
    with pytest.raises(VectorNameError, match="sparse vectors are always named"):
        await client.query_points("c", doc("x", tm.SPLADE))
    with pytest.raises(VectorNameError) as e:
        await client.query_points(
            "c", prefetch=[models.Prefetch(query=doc("x"), using="bm25")], query=doc("y"), using="dense"
        )
    assert e.value.path == "$.prefetch[0].query"


async def test_model_size_does_not_match_collection(client):
    await client.create_collection(
        "s",
        vectors_config={
            "v16": models.VectorParams(size=16, distance=models.Distance.COSINE),
            "plain128": models.VectorParams(size=tm.COLBERT_DIM, distance=models.Distance.COSINE),
        },
    )
    with pytest.raises(VectorSizeMismatch, match="8-dimensional vectors but vector 'v16'.*size 16"):
        await client.upsert("s", [models.PointStruct(id=1, vector={"v16": doc("x")})])
    with pytest.raises(VectorSizeMismatch, match="not a multivector"):
        await client.upsert("s", [models.PointStruct(id=1, vector={"plain128": doc("x", tm.COLBERT)})])
    with pytest.raises(VectorSizeMismatch):
        await client.query_points("s", doc("x"), using="v16")


async def test_wrong_input_kind_for_model(client):
    await client.create_collection(
        "i", vectors_config={"clip": models.VectorParams(size=tm.CLIP_DIM, distance=models.Distance.COSINE)}
    )
    with pytest.raises(InferenceError, match="image model"):
        await client.upsert("i", [models.PointStruct(id=1, vector={"clip": doc("x", tm.CLIP)})])
    with pytest.raises(InferenceError, match="text model"):
        await client.upsert(
            "i", [models.PointStruct(id=1, vector={"clip": models.Image(image=b"x", model=tm.DENSE)})]
        )
    with pytest.raises(InferenceError, match="UnidentifiedImageError") as e:
        await client.upsert(
            "i", [models.PointStruct(id=7, vector={"clip": models.Image(image=b"not a png", model=tm.CLIP)})]
        )
    assert e.value.path == "$.points[0].vector.clip"
    with pytest.raises(InferenceError, match="does not download"):
        await client.upsert(
            "i",
            [models.PointStruct(id=1, vector={"clip": models.Image(image="https://x/y.png", model=tm.CLIP)})],
        )


def test_missing_extra_and_lazy_import():
    code = r"""
import sys
import aqdrant, aqdrant.inference
assert "fastembed" not in sys.modules, "import aqdrant imported fastembed"
sys.modules["fastembed"] = None  # as if the extra were not installed
import anyio
from aqdrant import AsyncQdrantClient, models
from aqdrant.inference import FastembedNotInstalled

async def main():
    async with AsyncQdrantClient(":memory:", validate_vectors=False) as c:
        try:
            await c.query_points("c", models.Document(text="x", model="BAAI/bge-small-en-v1.5"))
        except FastembedNotInstalled as e:
            assert isinstance(e, aqdrant.errors.ValidationError) and isinstance(e, ImportError)
            print("MSG", e)
            return
        raise SystemExit("no error")

anyio.run(main)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "pip install 'aqdrant[fastembed]'" in out.stdout


async def test_validate_vectors_false_skips_collection_checks(monkeypatch):
    async with AsyncQdrantClient(":memory:", validate_vectors=False) as c:
        await make_collection(c)
        fetched = []
        real = c.get_collection

        async def spy(*a, **kw):
            fetched.append(a)
            return await real(*a, **kw)

        monkeypatch.setattr(c, "get_collection", spy)
        await c.upsert("c", [point(1, "cat")])
        assert fetched == []
        assert ids(await c.query_points("c", doc("cat"), using="dense", limit=1)) == [1]


# ---- model listing ----------------------------------------------------------------------------------------


async def test_model_listing_and_sizes(client):
    text = await client.list_text_models()
    assert text["BAAI/bge-small-en-v1.5"] == (384, models.Distance.COSINE)  # real names stay listed
    assert text[tm.DENSE] == (tm.DENSE_DIM, models.Distance.COSINE)  # and custom ones
    assert (await client.list_late_interaction_text_models())[tm.COLBERT][0] == tm.COLBERT_DIM
    assert (await client.list_image_models())[tm.CLIP][0] == tm.CLIP_DIM
    assert tm.BM25 in await client.list_sparse_models()
    assert isinstance(await client.list_late_interaction_multimodal_models(), dict)
    assert await client.get_embedding_size("BAAI/bge-small-en-v1.5") == 384
    assert await client.get_embedding_size("baai/BGE-small-en-v1.5") == 384
    assert await client.get_embedding_size(tm.COLBERT) == tm.COLBERT_DIM
    with pytest.raises(InferenceError, match="sparse"):
        await client.get_embedding_size(tm.BM25)


async def test_real_model_names_are_resolved_not_hardcoded(client):
    """A real model name that is not cached fails as fastembed fails to load it (no download
    here), not as an unknown model: the name is resolved through fastembed's lists."""
    await client.create_collection(
        "r", vectors_config=models.VectorParams(size=384, distance=models.Distance.COSINE)
    )
    with pytest.raises(InferenceError, match="could not load model 'BAAI/bge-small-en-v1.5'") as e:
        await client.upsert("r", [models.PointStruct(id=1, vector=doc("x", "BAAI/bge-small-en-v1.5"))])
    assert not isinstance(e.value, UnknownModelError)
    assert not isinstance(e.value, FastembedNotInstalled)


# ---- the blocking client, model options ----------------------------------------------------------------


def test_blocking_client_embeds_documents():
    from aqdrant import QdrantClient

    with QdrantClient(":memory:") as c:
        c.create_collection(
            "b",
            vectors_config={"dense": models.VectorParams(size=tm.DENSE_DIM, distance=models.Distance.COSINE)},
        )
        c.upsert("b", [models.PointStruct(id=i, vector={"dense": doc(t)}) for i, t in enumerate(TEXTS)])
        hits = c.query_points("b", doc("sweet fruit"), using="dense", limit=1).points
        assert [h.id for h in hits] == [2]
        assert c.get_embedding_size(tm.DENSE) == tm.DENSE_DIM
        assert tm.DENSE in c.list_text_models()


async def test_document_options_reach_the_model(client):
    """``options`` are the fastembed model's arguments: BM25's ``k``/``b`` change its weights,
    and the model is loaded once per distinct options."""
    from fastembed import SparseTextEmbedding

    await make_collection(client)
    text = "cat cat cat dog"
    await client.upsert(
        "c",
        [
            models.PointStruct(id=1, vector={"bm25": doc(text, tm.BM25)}),
            models.PointStruct(id=2, vector={"bm25": doc(text, tm.BM25, options={"k": 3.0, "b": 0.1})}),
        ],
    )
    recs = {r.id: r for r in await client.retrieve("c", [1, 2], with_vectors=True)}
    default = next(iter(SparseTextEmbedding(tm.BM25).embed([text])))
    tuned = next(iter(SparseTextEmbedding(tm.BM25, k=3.0, b=0.1).embed([text])))
    assert not np.allclose(default.values, tuned.values)
    sparse_equal(recs[1].vector["bm25"], default)
    sparse_equal(recs[2].vector["bm25"], tuned)
    assert client._embedder.loads == 2


def test_embedded_bodies_convert_to_grpc(fastembed_cache):
    """What the embedding step leaves in a request (float32 arrays, SparseVector, multivector
    rows) goes through the gRPC conversion layer too (prefer_grpc=True)."""
    from aqdrant.grpc import convert
    from aqdrant.inference import Embedder, embed_request

    schema = (
        {"dense": (tm.DENSE_DIM, False), "colbert": (tm.COLBERT_DIM, True)},
        {"bm25", "splade"},
    )

    async def get_schema(name):
        return schema

    async def main():
        emb = Embedder()
        body = await embed_request(
            models.PointsList(points=[point(0, TEXTS[0])]),
            embedder=emb,
            collection_name="c",
            is_query=False,
            batch_size=8,
            get_schema=get_schema,
        )
        query = await embed_request(
            models.QueryRequest(
                query=doc("cat"),
                using="dense",
                prefetch=[models.Prefetch(query=doc("cat", tm.BM25), using="bm25")],
            ),
            embedder=emb,
            collection_name="c",
            is_query=True,
            batch_size=8,
            get_schema=get_schema,
        )
        return body, query

    body, query = anyio.run(main)
    msg = convert.point_struct_to_grpc(body.points[0])
    named = msg.vectors.vectors.vectors
    np.testing.assert_allclose(list(named["dense"].dense.data), fe_dense([TEXTS[0]])[0], rtol=1e-6)
    assert len(named["colbert"].multi_dense.vectors) == len(fe_colbert([TEXTS[0]])[0])
    assert list(named["bm25"].sparse.indices) == fe_sparse(tm.BM25, [TEXTS[0]])[0].indices.tolist()
    q = convert.query_to_grpc(query.query)
    np.testing.assert_allclose(list(q.nearest.dense.data), fe_dense(["cat"], query=True)[0], rtol=1e-6)
    pf = convert.prefetch_to_grpc(query.prefetch[0])
    assert (
        list(pf.query.nearest.sparse.indices) == fe_sparse(tm.BM25, ["cat"], query=True)[0].indices.tolist()
    )


async def test_ingest_recuts_batches_that_embedding_made_too_large(client, monkeypatch):
    """A Document is a few bytes, its ColBERT multivector kilobytes: the actor cuts an embedded
    batch again so that no upsert passes ``max_batch_bytes``; every point still lands once."""
    from aqdrant.ingest import point_bytes

    await make_collection(client)
    sizes = []
    real_upsert = client.upsert

    async def spy(name, points, **kw):
        sizes.append(sum(point_bytes(p) for p in points))
        return await real_upsert(name, points, **kw)

    monkeypatch.setattr(client, "upsert", spy)
    limit = 100_000  # ~3 embedded points (~10 rows x 128 floats, ~30 KB each); 50 Documents fit easily
    async with client.ingest("c", batch_size=50, max_batch_bytes=limit, concurrency=2) as sink:
        await sink.send_many(
            {"id": i, "vector": {"colbert": doc(TEXTS[i % 6], tm.COLBERT)}} for i in range(100)
        )
    assert sink.report.acknowledged == 100 and not sink.report.failures
    assert len(sizes) > 2 and max(sizes) <= limit
    assert sink.report.batches == len(sizes)
    assert (await client.count("c")).count == 100
