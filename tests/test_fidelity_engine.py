"""The engine wrapper behaves as Qdrant 1.19: error texts and statuses, query semantics, strict mode.

One table per concern; every case runs in local mode (``:memory:``) and on the dev server over
REST and over gRPC, on asyncio and trio. Expected texts are Qdrant's own (lib/storage errors.rs,
lib/collection/src/operations/types.rs, universal_query/collection_query.rs, verification/);
results are compared with the official client's local mode (exact brute force) where it is exact.
"""

from __future__ import annotations

import random
import re
import uuid
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from qdrant_client import QdrantClient
from qdrant_client import models as qm

from aqdrant import AsyncQdrantClient, RetryPolicy, models
from aqdrant.errors import RateLimited, UnexpectedResponse
from aqdrant.server import ServerThread

pytestmark = pytest.mark.anyio

KINDS = ["local", "rest", "grpc"]


@pytest.fixture(scope="module")
def server():
    with ServerThread(grpc_port=0) as srv:
        yield srv


@pytest.fixture(params=KINDS)
async def client(request, server):
    kind = request.param
    kw: dict[str, Any] = {"retry": RetryPolicy.none(), "validate_vectors": False}
    if kind == "local":
        c = AsyncQdrantClient(":memory:", **kw)
    elif kind == "rest":
        c = AsyncQdrantClient(url=server.url, **kw)
    else:
        c = AsyncQdrantClient(url=server.url, prefer_grpc=True, grpc_port=server.grpc_port, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LocalEngineWarning for parameters without local effect
        async with c:
            yield c


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def error_of(e: UnexpectedResponse) -> tuple[int, str]:
    """(status, Qdrant's text): over gRPC the client prefixes the text with the code's name."""
    return e.status_code, re.sub(r"^[A-Z_]+: ", "", e.server_message)


async def expect_error(make: Callable[[], Awaitable[Any]]) -> tuple[int, str] | str:
    try:
        result = await make()
    except UnexpectedResponse as e:
        return error_of(e)
    return f"no error (returned {result!r})"


def check_all(failures: list[str]) -> None:
    assert not failures, "\n".join(failures)


# ---------------------------------------------------------------------------------------------
# 2. error texts and statuses (qerrors.py)

D2 = models.VectorParams(size=2, distance="Dot")


async def error_cases(c: AsyncQdrantClient) -> list[tuple[str, Callable[[], Awaitable[Any]], int, str]]:
    a, b, al = unique("ea"), unique("eb"), unique("al")
    await c.create_collection(a, vectors_config=D2)
    await c.create_collection(b, vectors_config={"v": D2})
    await c.upsert(a, [models.PointStruct(id=i, vector=[1.0, i / 10]) for i in range(1, 6)])
    await c.upsert(b, [models.PointStruct(id=1, vector={"v": [1.0, 0.5]})])
    vw = unique("vw")  # two named vectors; its point has only one
    await c.create_collection(vw, vectors_config={"v": D2, "w": D2})
    await c.upsert(vw, [models.PointStruct(id=1, vector={"v": [1.0, 0.5]})])
    await c.update_collection_aliases(
        [models.CreateAliasOperation(create_alias=models.CreateAlias(collection_name=a, alias_name=al))]
    )
    missing = unique("missing")
    near = [1.0, 0.0]
    return [
        (
            "vector of the wrong size",
            lambda: c.upsert(a, [models.PointStruct(id=1, vector=[1.0, 2.0, 3.0])]),
            400,
            "Wrong input: Vector dimension error: expected dim: 2, got 3",
        ),
        (
            "update_vectors on a missing point",
            lambda: c.update_vectors(a, [models.PointVectors(id=99, vector=[1.0, 2.0])]),
            404,
            "Not found: No point with id 99 found",
        ),
        (
            "a missing collection",
            lambda: c.retrieve(missing, [1]),
            404,
            f"Not found: Collection `{missing}` doesn't exist!",
        ),
        (
            "lookup_from a missing collection",
            lambda: c.query_points(a, query=1, lookup_from=models.LookupLocation(collection=missing)),
            404,
            f"Not found: Collection `{missing}` doesn't exist!",
        ),
        (
            "query by a missing point id",
            lambda: c.query_points(a, query=77),
            404,
            "Not found: No point with id 77 found",
        ),
        (
            "lookup_from naming a vector the other collection does not have",
            lambda: c.query_points(a, query=1, lookup_from=models.LookupLocation(collection=b, vector="zz")),
            400,
            "Wrong input: Not existing vector name error: zz",
        ),
        (
            "a point id without the vector lookup_from names",
            lambda: c.query_points(a, query=1, lookup_from=models.LookupLocation(collection=vw, vector="w")),
            404,
            'Not found: Vector with name "w" for point not found',
        ),
        (
            "create an existing collection",
            lambda: c.create_collection(a, vectors_config=D2),
            409,
            f"Wrong input: Collection `{a}` already exists!",
        ),
        (
            "create a collection under an alias's name",
            lambda: c.create_collection(al, vectors_config=D2),
            400,
            f"Wrong input: Can't create collection with name {al}. Alias with the same name already exists",
        ),
        (
            "rename a missing alias",
            lambda: c.update_collection_aliases(
                [
                    models.RenameAliasOperation(
                        rename_alias=models.RenameAlias(old_alias_name=missing, new_alias_name=unique("n"))
                    )
                ]
            ),
            404,
            f"Not found: Alias {missing} does not exists!",
        ),
        (
            "the aliases of a missing collection",
            lambda: c.get_collection_aliases(missing),
            404,
            f"Not found: Collection `{missing}` doesn't exist!",
        ),
        (
            "with_lookup from a missing collection",
            lambda: c.query_points_groups(a, query=near, group_by="n", with_lookup=missing),
            404,
            f"Not found: Collection {missing} not found",  # lookup/mod.rs's own text
        ),
        (
            "prefetch without a query",
            lambda: c.query_points(a, prefetch=[models.Prefetch(query=near)]),
            400,
            "Bad request: A query is needed to merge the prefetches. Can't have prefetches without defining a query.",
        ),
        (
            "fusion with using",
            lambda: c.query_points(
                b,
                prefetch=[models.Prefetch(query=near, using="v")],
                query=models.FusionQuery(fusion="rrf"),
                using="v",
            ),
            400,
            "Bad request: Fusion queries cannot be combined with the 'using' field.",
        ),
        (
            "score_threshold without a query",
            lambda: c.query_points(a, score_threshold=0.5),
            400,
            "Bad request: A query is needed to use the score_threshold. Can't have score_threshold without "
            "defining a query.",
        ),
        (
            "score_threshold with order_by",
            lambda: c.query_points(a, query=models.OrderByQuery(order_by="n"), score_threshold=0.5),
            400,
            "Bad request: Can't use score_threshold with an order_by query.",
        ),
        (
            "fusion without prefetches",
            lambda: c.query_points(a, query=models.FusionQuery(fusion="rrf")),
            400,
            "Wrong input: Validation failed: cannot apply Fusion without prefetches",
        ),
        (
            "order_by without a range index",
            lambda: c.scroll(a, order_by="n"),
            400,
            "Wrong input: No range index for `order_by` key: `n`. Please create one to use `order_by`. Check "
            "https://qdrant.tech/documentation/concepts/indexing/#payload-index to see which payload schemas "
            "support Range conditions",
        ),
        (
            "a distance matrix on an unknown vector",
            lambda: c.search_matrix_pairs(a, using="zz"),
            400,
            "Wrong input: Vector with name zz is not configured in this collection",
        ),
        (
            "a vector name the collection does not have",
            lambda: c.query_points(b, query=near, using="zz"),
            400,
            "Wrong input: Vector with name `zz` is not configured in this collection, available names: v",
        ),
        (
            "a query without using on named vectors",
            lambda: c.query_points(b, query=near),
            400,
            "Wrong input: Collection requires specified vector name in the request, available names: v",
        ),
        (
            "PATCH of a dense vector the collection does not have",
            lambda: c.update_collection(b, vectors_config={"zz": models.VectorParamsDiff(on_disk=True)}),
            400,
            "Wrong input: Vector params for zz are not specified in config",
        ),
        (
            "PATCH of a sparse vector the collection does not have",
            lambda: c.update_collection(b, sparse_vectors_config={"zz": models.SparseVectorParams()}),
            400,
            "Wrong input: Sparse vector `zz` is not specified in collection config",
        ),
        (
            "an upsert naming a vector the collection does not have",
            lambda: c.upsert(b, [models.PointStruct(id=9, vector={"zz": [1.0, 0.0]})]),
            400,
            "Wrong input: Not existing vector name error: zz",
        ),
    ]


async def test_error_texts_and_statuses(client, anyio_backend) -> None:
    failures = []
    for label, make, status, text in await error_cases(client):
        got = await expect_error(make)
        if got != (status, text):
            failures.append(f"{label}: expected {(status, text)!r}, got {got!r}")
    # deleting an alias that does not exist is not an error on Qdrant
    gone = models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=unique("never")))
    if await client.update_collection_aliases([gone]) is not True:
        failures.append("deleting a missing alias did not succeed")
    check_all(failures)


def test_engine_messages_are_mapped_by_one_table() -> None:
    from aqdrant.local import qerrors as qx

    cases = {
        "No point with id 5": (404, "Not found: No point with id 5 found"),
        "Vector dimension error: expected dim: 2, got 3": (
            400,
            "Wrong input: Vector dimension error: expected dim: 2, got 3",
        ),
        "Validation failed: cannot apply Formula without prefetches": (
            400,
            "Wrong input: Validation failed: cannot apply Formula without prefetches",
        ),
        "Not found: Collection `x` doesn't exist!": (404, "Not found: Collection `x` doesn't exist!"),
        "Service internal error: boom": (500, "Service internal error: boom"),
        "something the table does not know": (400, "Wrong input: something the table does not know"),
    }
    for message, expected in cases.items():
        fault = qx.from_engine(message)
        assert (fault.status, fault.message) == expected, message


def test_python_errors_never_pass_as_qdrant_texts() -> None:
    """What reaches the caller from an exception in the engine process: Qdrant's text where Qdrant
    has one (the binding's ValueErrors, a missing field), an internal error for the wrapper's own
    Python errors - never a Python message dressed as "Wrong input"."""
    from aqdrant.local import engine_base

    cases = [
        (ValueError("invalid JSON path "), 400, "Format error in JSON body: Invalid json path: ''"),
        (ValueError("invalid JSON path a..b"), 400, "Format error in JSON body: Invalid json path: 'a..b'"),
        (KeyError("points"), 400, "Format error in JSON body: missing field `points`"),
        (Exception("Vector dimension error: expected dim: 2, got 3"), 400, "Wrong input: Vector dimension error: expected dim: 2, got 3"),
        (
            AttributeError("'str' object has no attribute 'get'"),
            500,
            "Service internal error: query_points: AttributeError: 'str' object has no attribute 'get'",
        ),
    ]
    for error, status, text in cases:
        fault = engine_base._fault("query_points", error)
        assert (fault.status, fault.message) == (status, text), error


async def test_invalid_json_path_comes_back_as_qdrants_format_error(client, anyio_backend) -> None:
    """A key the engine's binding cannot parse as a JSON path (the client only pre-checks an empty
    one) comes back with Qdrant's text, alone or inside batch operations."""
    name = unique("jp")
    await client.create_collection(name, vectors_config=D2)
    await client.upsert(name, [models.PointStruct(id=1, vector=[1.0, 0.0])])
    expected = (400, "Format error in JSON body: Invalid json path: 'a..b'")
    assert await expect_error(lambda: client.set_payload(name, {"a": 1}, points=[1], key="a..b")) == expected
    ops = [models.SetPayloadOperation(set_payload=models.SetPayload(payload={"a": 1}, points=[1], key="a..b"))]
    assert await expect_error(lambda: client.batch_update_points(name, ops)) == expected


# ---------------------------------------------------------------------------------------------
# 4. semantics, with the official client's local mode as oracle

RND = random.Random(11)
N = 60
WORDS = ["a", "b", "c", "d", "e"]


def _sparse() -> dict:
    idx = sorted(RND.sample(range(16), 4))
    return {"indices": idx, "values": [round(RND.uniform(0.1, 1), 3) for _ in idx]}


POINTS = [
    {
        "id": i,
        "vector": {
            "d": [round(RND.uniform(-1, 1), 3) for _ in range(4)],
            "s": _sparse(),
            "mv": [[round(RND.uniform(-1, 1), 3) for _ in range(3)] for _ in range(2)],
        },
        "payload": {"w": RND.choice(WORDS), "tags": RND.sample(WORDS, 2), "items": [{"k": i % 4}], "n": i},
    }
    for i in range(1, N + 1)
]
VECTORS = {
    "d": {"size": 4, "distance": "Cosine"},
    "mv": {"size": 3, "distance": "Dot", "multivector_config": {"comparator": "max_sim"}},
}
OTHER = {"id": 5, "vector": {"d": [0.3, -0.2, 0.9, 0.1], "s": _sparse(), "mv": [[0.1, 0.2, 0.3]]}}
SQ = {"indices": [1, 3, 5, 7], "values": [0.5, 1.0, 0.25, 0.8]}


@pytest.fixture(scope="module")
def oracle():
    o = QdrantClient(":memory:")
    for name, points in (("c", POINTS), ("other", [OTHER])):
        o.create_collection(
            name,
            vectors_config={k: qm.VectorParams(**v) for k, v in VECTORS.items()},
            sparse_vectors_config={"s": qm.SparseVectorParams()},
        )
        o.upsert(name, [qm.PointStruct(**p) for p in points])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "payload indexes have no effect in the local Qdrant"
        o.create_payload_index("c", "w", "keyword")
        o.create_payload_index("c", "tags", "keyword")
    return o


async def _load(c: AsyncQdrantClient) -> tuple[str, str]:
    name, other = unique("sem"), unique("other")
    for n, points in ((name, POINTS), (other, [OTHER])):
        await c.create_collection(
            n,
            vectors_config={
                "d": models.VectorParams(size=4, distance="Cosine"),
                "mv": models.VectorParams(
                    size=3, distance="Dot", multivector_config=models.MultiVectorConfig(comparator="max_sim")
                ),
            },
            sparse_vectors_config={"s": models.SparseVectorParams()},
        )
        await c.upsert(n, [models.PointStruct(**p) for p in points])
    await c.create_payload_index(name, "w", "keyword")
    await c.create_payload_index(name, "tags", "keyword")
    return name, other


def ids(points: Any) -> list:
    return [p.id for p in points]


def groups(result: Any) -> list:
    return [(g.id, [h.id for h in g.hits]) for g in result.groups]


async def test_query_semantics_match_the_oracle(client, oracle, anyio_backend) -> None:
    c = client
    name, other = await _load(c)
    o = oracle
    lk, olk = models.LookupLocation(collection=other), qm.LookupLocation(collection="other")
    cases: list[tuple[str, Callable[[], Awaitable[Any]], Callable[[], Any]]] = [
        (
            "lookup_from: an id of another collection is not excluded",
            lambda: c.query_points(name, query=5, using="d", lookup_from=lk, limit=8),
            lambda: o.query_points("c", query=5, using="d", lookup_from=olk, limit=8),
        ),
        (
            "an id of this collection is excluded",
            lambda: c.query_points(name, query=1, using="d", limit=8),
            lambda: o.query_points("c", query=1, using="d", limit=8),
        ),
        (
            "a prefetch's own lookup_from",
            lambda: c.query_points(
                name,
                prefetch=[models.Prefetch(query=5, using="d", lookup_from=lk, limit=20)],
                query=[0.1, 0.2, 0.3, 0.4],
                using="d",
                limit=6,
            ),
            lambda: o.query_points(
                "c",
                prefetch=[qm.Prefetch(query=5, using="d", lookup_from=olk, limit=20)],
                query=[0.1, 0.2, 0.3, 0.4],
                using="d",
                limit=6,
            ),
        ),
        (
            "recommend average_vector on sparse vectors",
            lambda: c.query_points(
                name,
                query=models.RecommendQuery(recommend=models.RecommendInput(positive=[1, 2], negative=[3])),
                using="s",
                limit=6,
            ),
            lambda: o.query_points(
                "c",
                query=qm.RecommendQuery(recommend=qm.RecommendInput(positive=[1, 2], negative=[3])),
                using="s",
                limit=6,
            ),
        ),
        (
            "recommend average_vector on multivectors",
            lambda: c.query_points(
                name,
                query=models.RecommendQuery(recommend=models.RecommendInput(positive=[4, 5], negative=[6])),
                using="mv",
                limit=6,
            ),
            lambda: o.query_points(
                "c",
                query=qm.RecommendQuery(recommend=qm.RecommendInput(positive=[4, 5], negative=[6])),
                using="mv",
                limit=6,
            ),
        ),
        (
            "MMR on a sparse vector",
            lambda: c.query_points(
                name,
                query=models.NearestQuery(nearest=models.SparseVector(**SQ), mmr=models.Mmr(diversity=0.6)),
                using="s",
                limit=6,
            ),
            lambda: o.query_points(
                "c",
                query=qm.NearestQuery(nearest=qm.SparseVector(**SQ), mmr=qm.Mmr(diversity=0.6)),
                using="s",
                limit=6,
            ),
        ),
    ]
    failures = []
    for label, ours, theirs in cases:
        got, want = ids((await ours()).points), ids(theirs().points)
        if got != want:
            failures.append(f"{label}: {got} != oracle {want}")

    group_cases = [
        ("group_by a keyword", dict(group_by="w", group_size=5, limit=3)),
        ("group_by key[]", dict(group_by="tags[]", group_size=3, limit=4)),
        ("group_by a[].b", dict(group_by="items[].k", group_size=2, limit=3)),
    ]
    for label, kw in group_cases:
        got = groups(await c.query_points_groups(name, query=[0.1, 0.2, 0.3, 0.4], using="d", **kw))
        want = groups(o.query_points_groups("c", query=[0.1, 0.2, 0.3, 0.4], using="d", **kw))
        if got != want:
            failures.append(f"{label}: {got} != oracle {want}")
    # grouping reads as many candidates from each prefetch as it needs: full groups
    got = await c.query_points_groups(
        name,
        prefetch=[models.Prefetch(query=[0.1, 0.2, 0.3, 0.4], using="d", limit=5)],
        query=models.FusionQuery(fusion="rrf"),
        group_by="w",
        group_size=4,
        limit=3,
    )
    if [len(g.hits) for g in got.groups] != [4, 4, 4]:
        failures.append(f"groups over a prefetch: sizes {[len(g.hits) for g in got.groups]} != [4, 4, 4]")

    mmr = await c.query_points(
        name, query=models.NearestQuery(nearest=[0.1, 0.2, 0.3, 0.4], mmr=models.Mmr()), using="d", limit=3
    )
    if any(p.vector is not None for p in mmr.points):
        failures.append("MMR returned vectors it was not asked for")
    mmr = await c.query_points(
        name,
        query=models.NearestQuery(nearest=[0.1, 0.2, 0.3, 0.4], mmr=models.Mmr()),
        using="d",
        limit=3,
        with_vectors=["d"],
    )
    if any(p.vector is None or "d" not in p.vector for p in mmr.points):
        failures.append("MMR did not return the vectors asked for")

    facet = [(h.value, h.count) for h in (await c.facet(name, key="tags", limit=5)).hits]
    want_facet = [(h.value, h.count) for h in o.facet("c", key="tags", limit=5).hits]
    if facet != want_facet:
        failures.append(f"facet: {facet} != oracle {want_facet}")

    for total, index in ((2, 0), (3, 2), (5, 4)):
        part = models.Filter(must=[models.SliceCondition(slice=models.Slice(total=total, index=index))])
        opart = qm.Filter(must=[qm.SliceCondition(slice=qm.Slice(total=total, index=index))])
        got = sorted(ids((await c.scroll(name, scroll_filter=part, limit=N))[0]))
        want = sorted(ids(o.scroll("c", scroll_filter=opart, limit=N)[0]))
        if got != want or not got:
            failures.append(f"slice {index}/{total}: {got} != oracle {want}")

    # a random sample has no order to page through: Qdrant ignores `offset` there
    for offset in (0, 10):
        sample = await c.query_points(
            name, query=models.SampleQuery(sample="random"), limit=N + 10, offset=offset
        )
        if sorted(ids(sample.points)) != list(range(1, N + 1)):
            failures.append(f"random sample, offset {offset}: {len(sample.points)} of {N} points")
    check_all(failures)


FACET_RND = random.Random(5)
FACET_POINTS = [
    {
        "id": i,
        "vector": [round(FACET_RND.uniform(-1, 1), 3), round(FACET_RND.uniform(-1, 1), 3)],
        "payload": {
            # multi-valued uuid and keyword fields: many ties at every facet cut
            "u": [uuid.UUID(int=FACET_RND.getrandbits(128)).hex for _ in range(2)],
            "k": FACET_RND.sample(WORDS + ["f", "g", "h", "i", "j", "k", "l"], 3),
        },
    }
    for i in range(1, 1001)  # 300 points did not show the engine's cut
]


async def test_facet_default_and_context_pairs_match_the_oracle(client, anyio_backend) -> None:
    """Facet with the default exact=false gives Qdrant's top values (the engine's approximate
    facet broke ties at the cut its own way), and a discover/context query takes one context pair
    as well as a list of them."""
    o = QdrantClient(":memory:")
    o.create_collection("f", vectors_config=qm.VectorParams(size=2, distance="Dot"))
    o.upsert("f", [qm.PointStruct(**p) for p in FACET_POINTS])
    name = unique("facet")
    await client.create_collection(name, vectors_config=models.VectorParams(size=2, distance="Dot"))
    await client.upsert(name, [models.PointStruct(**p) for p in FACET_POINTS])
    # indexed after the data, as the official congruence test does it
    await client.create_payload_index(name, "u", "uuid")
    await client.create_payload_index(name, "k", "keyword")
    failures = []
    for key in ("u", "k"):
        for limit in (None, 7, 37):
            kw = {} if limit is None else {"limit": limit}
            got = [(h.value, h.count) for h in (await client.facet(name, key=key, **kw)).hits]
            want = [(h.value, h.count) for h in o.facet("f", key=key, **kw).hits]
            if got != want:
                failures.append(f"facet {key} limit {limit}: {got} != oracle {want}")

    pair = models.ContextPair(positive=1, negative=2)
    for label, single, listed, oracle_query in [
        (
            "discover",
            models.DiscoverQuery(discover=models.DiscoverInput(target=3, context=pair)),
            models.DiscoverQuery(discover=models.DiscoverInput(target=3, context=[pair])),
            qm.DiscoverQuery(discover=qm.DiscoverInput(target=3, context=[qm.ContextPair(positive=1, negative=2)])),
        ),
        (
            "context",
            models.ContextQuery(context=pair),
            models.ContextQuery(context=[pair]),
            None,  # a context query scores most points 0: its order among ties is no oracle's
        ),
    ]:
        one = ids((await client.query_points(name, query=single, limit=10)).points)
        many = ids((await client.query_points(name, query=listed, limit=10)).points)
        want = ids(o.query_points("f", query=oracle_query, limit=10).points) if oracle_query else many
        if not (one == many == want) or len(one) != 10:
            failures.append(f"{label} with one pair: {one}, with a list: {many}, oracle {want}")
    check_all(failures)


async def test_distance_matrix_as_qdrant(client, anyio_backend) -> None:
    c = client
    name = unique("matrix")
    await c.create_collection(name, vectors_config=D2)
    await c.upsert(name, [models.PointStruct(id=7, vector=[1.0, 0.5])])
    # one sampled point: no matrix at all
    assert (await c.search_matrix_offsets(name, sample=5, limit=2)).ids == []
    assert (await c.search_matrix_pairs(name, sample=5, limit=2)).pairs == []
    await c.upsert(
        name,
        [models.PointStruct(id=i, vector=[1.0, i / 10]) for i in (12, 3, 9, 5)]
        + [models.PointStruct(id="4e1c2d5a-1c5e-4f44-9a27-2c1d0f1b3a00", vector=[0.5, 0.5])],
    )
    offsets = await c.search_matrix_offsets(name, sample=10, limit=2)
    # every point sampled, sorted by id (integers before UUIDs); each row its 2 nearest others
    assert offsets.ids == [3, 5, 7, 9, 12, "4e1c2d5a-1c5e-4f44-9a27-2c1d0f1b3a00"]
    assert offsets.offsets_row == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert all(r != col for r, col in zip(offsets.offsets_row, offsets.offsets_col, strict=True))
    pairs = await c.search_matrix_pairs(name, sample=10, limit=1)
    assert [p.a for p in pairs.pairs] == offsets.ids
    assert [p.b for p in pairs.pairs][:2] == [12, 12]  # Dot: the largest second coordinate wins


async def test_collection_updates_as_qdrant(client, oracle, anyio_backend) -> None:
    c = client
    name = unique("upd")
    await c.create_collection(
        name, vectors_config={}, sparse_vectors_config={"s": models.SparseVectorParams()}
    )
    await c.upsert(name, [models.PointStruct(id=p["id"], vector={"s": p["vector"]["s"]}) for p in POINTS])
    # PATCH metadata: merged; a key set to null is removed
    await c.update_collection(name, metadata={"a": 1, "b": {"x": 2}})
    await c.update_collection(name, metadata={"a": None, "c": 3})
    info = await c.get_collection(name)
    assert info.config.metadata == {"b": {"x": 2}, "c": 3}
    # PATCH params: recorded in the collection's params
    await c.update_collection(name, collection_params=models.CollectionParamsDiff(replication_factor=2))
    assert (await c.get_collection(name)).config.params.replication_factor == 2
    # a sparse vector's modifier changed: IDF scores from then on, as the oracle scores them
    await c.update_collection(name, sparse_vectors_config={"s": models.SparseVectorParams(modifier="idf")})
    info = await c.get_collection(name)
    assert info.config.params.sparse_vectors["s"].modifier == "idf"
    assert info.points_count == N
    ours = (await c.query_points(name, query=models.SparseVector(**SQ), using="s", limit=5)).points
    o = QdrantClient(":memory:")
    o.create_collection(
        "i", vectors_config={}, sparse_vectors_config={"s": qm.SparseVectorParams(modifier="idf")}
    )
    o.upsert("i", [qm.PointStruct(id=p["id"], vector={"s": p["vector"]["s"]}) for p in POINTS])
    theirs = o.query_points("i", query=qm.SparseVector(**SQ), using="s", limit=5).points
    assert ids(ours) == ids(theirs)
    assert [round(p.score, 4) for p in ours] == [round(p.score, 4) for p in theirs]

    # a collection without any vector holds payloads
    bare = unique("bare")
    assert await c.create_collection(bare)
    await c.upsert(bare, [models.PointStruct(id=1, vector={}, payload={"k": "v"})])
    records, _ = await c.scroll(bare, with_vectors=True)
    assert [(r.id, r.payload) for r in records] == [(1, {"k": "v"})]
    assert not records[0].vector
    assert (await c.get_collection(bare)).config.params.vectors in ({}, None)


# ---------------------------------------------------------------------------------------------
# 5. strict mode (strict.py)


def strict(**kw: Any) -> models.StrictModeConfig:
    return models.StrictModeConfig(enabled=True, **kw)


def help_limit(name: str, value: Any, limit: Any) -> str:
    return (
        f'Bad request: Limit exceeded {value} > {limit} for "{name}". Help: Reduce the "{name}" parameter '
        f"to or below {limit}."
    )


def help_index(key: str, types: str) -> str:
    return (
        f'Bad request: Index required but not found for "{key}" of one of the following types: [{types}]. '
        "Help: Create an index for this key or use a different filter."
    )


def color(value: str) -> models.Filter:
    return models.Filter(must=[models.FieldCondition(key="color", match=models.MatchValue(value=value))])


async def test_strict_mode_is_enforced(client, anyio_backend) -> None:
    c = client
    name = unique("strict")
    await c.create_collection(
        name,
        vectors_config={
            "d": models.VectorParams(size=2, distance="Dot"),
            "mv": models.VectorParams(
                size=2, distance="Dot", multivector_config=models.MultiVectorConfig(comparator="max_sim")
            ),
        },
        sparse_vectors_config={"s": models.SparseVectorParams()},
        strict_mode_config=strict(
            max_query_limit=10,
            max_timeout=5,
            unindexed_filtering_retrieve=False,
            unindexed_filtering_update=False,
            search_max_hnsw_ef=64,
            search_allow_exact=False,
            search_max_oversampling=2.0,
            upsert_max_batchsize=3,
            max_points_count=5,
            filter_max_conditions=3,
            condition_max_size=4,
            max_payload_index_count=2,
            sparse_config={"s": models.StrictModeSparse(max_length=2)},
            multivector_config={"mv": models.StrictModeMultivector(max_vectors=2)},
        ),
    )
    pts = [
        models.PointStruct(id=i, vector={"d": [1.0, i]}, payload={"color": "red", "n": i}) for i in (1, 2, 3)
    ]
    await c.upsert(name, pts)
    near = [1.0, 0.0]
    cases: list[tuple[str, Callable[[], Awaitable[Any]], int, str]] = [
        (
            "query limit",
            lambda: c.query_points(name, query=near, using="d", limit=11),
            400,
            help_limit("limit", 11, 10),
        ),
        (
            "timeout",
            lambda: c.query_points(name, query=near, using="d", timeout=6),
            400,
            help_limit("timeout", 6, 5),
        ),
        (
            "scroll limit",
            lambda: c.scroll(name, limit=11),
            400,
            help_limit("limit", 11, 10),
        ),
        (
            "groups: limit x group_size",
            lambda: c.query_points_groups(
                name, query=near, using="d", group_by="color", limit=4, group_size=3
            ),
            400,
            'Bad request: Index required but not found for "color". Help: Create an index supporting `match` '
            "for this key.",
        ),
        (
            "matrix: sample x limit",
            lambda: c.search_matrix_pairs(name, sample=6, limit=2, using="d"),
            400,
            help_limit("limit", 12, 10),
        ),
        (
            "an unindexed filter on read",
            lambda: c.count(name, count_filter=color("red")),
            400,
            help_index("color", "keyword"),
        ),
        (
            "an unindexed range",
            lambda: c.scroll(
                name,
                scroll_filter=models.Filter(must=[models.FieldCondition(key="n", range=models.Range(gte=1))]),
            ),
            400,
            help_index("n", "float, integer"),
        ),
        (
            "an unindexed nested key",
            lambda: c.scroll(
                name,
                scroll_filter=models.Filter(
                    must=[
                        models.NestedCondition(
                            nested=models.Nested(
                                key="items",
                                filter=models.Filter(
                                    must=[models.FieldCondition(key="k", match=models.MatchValue(value=1))]
                                ),
                            )
                        )
                    ]
                ),
            ),
            400,
            help_index("items[].k", "integer"),
        ),
        (
            "an unindexed filter on update",
            lambda: c.delete(name, points_selector=models.FilterSelector(filter=color("blue"))),
            400,
            help_index("color", "keyword"),
        ),
        (
            "full-text matching needs a text index",
            lambda: c.scroll(
                name,
                scroll_filter=models.Filter(
                    must=[models.FieldCondition(key="color", match=models.MatchText(text="e"))]
                ),
            ),
            400,
            help_index("color", "text"),
        ),
        (
            "filter conditions",
            lambda: c.count(name, count_filter=models.Filter(must=[models.HasIdCondition(has_id=[1])] * 4)),
            400,
            "Bad request: Filter condition limit reached (4 > 3). Help: Reduce the amount of conditions of your "
            "filter.",
        ),
        (
            "condition size",
            lambda: c.count(
                name, count_filter=models.Filter(must=[models.HasIdCondition(has_id=[1, 2, 3, 4, 5])])
            ),
            400,
            "Bad request: Condition size limit reached (5 > 4). Help: Reduce the size of your condition.",
        ),
        (
            "hnsw_ef",
            lambda: c.query_points(
                name, query=near, using="d", search_params=models.SearchParams(hnsw_ef=65)
            ),
            400,
            help_limit("hnsw_ef", 65, 64),
        ),
        (
            "exact search",
            lambda: c.query_points(
                name, query=near, using="d", search_params=models.SearchParams(exact=True)
            ),
            400,
            "Bad request: Exact search disabled!. Help: Set exact=false.",
        ),
        (
            "oversampling",
            lambda: c.query_points(
                name,
                query=near,
                using="d",
                search_params=models.SearchParams(
                    quantization=models.QuantizationSearchParams(oversampling=3.0)
                ),
            ),
            400,
            help_limit("oversampling", 3, 2),
        ),
        (
            "upsert batch size",
            lambda: c.upsert(
                name, [models.PointStruct(id=i, vector={"d": [1.0, 1.0]}) for i in range(10, 14)]
            ),
            400,
            help_limit("upsert limit", 4, 3),
        ),
        (
            "sparse length",
            lambda: c.upsert(
                name,
                [
                    models.PointStruct(
                        id=20, vector={"s": models.SparseVector(indices=[1, 2, 3], values=[1.0, 1.0, 1.0])}
                    )
                ],
            ),
            400,
            "Bad request: Sparse vector 's' has a limit of 2 indices, but 3 were provided!",
        ),
        (
            "multivector length",
            lambda: c.upsert(
                name, [models.PointStruct(id=21, vector={"mv": [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]})]
            ),
            400,
            "Bad request: Multivector 'mv' has a limit of 2 vectors, but 3 were provided!",
        ),
    ]
    failures = []
    for label, make, status, text in cases:
        got = await expect_error(make)
        if got != (status, text):
            failures.append(f"{label}: expected {(status, text)!r}, got {got!r}")

    # what strict mode allows goes through
    assert len((await c.query_points(name, query=near, using="d", limit=10)).points) == 3
    await c.create_payload_index(name, "color", "keyword")
    assert (await c.count(name, count_filter=color("red"))).count == 3
    await c.delete(name, points_selector=models.FilterSelector(filter=color("blue")))
    await c.create_payload_index(name, "n", "integer")
    got = await expect_error(lambda: c.create_payload_index(name, "other", "keyword"))
    want = (
        400,
        "Bad request: Collection already has the maximum number of payload indices (2). Help: Please delete "
        "an existing index before creating a new one.",
    )
    if got != want:
        failures.append(f"payload index count: {got!r} != {want!r}")
    await c.upsert(name, [models.PointStruct(id=i, vector={"d": [1.0, 1.0]}) for i in (4, 5)])
    got = await expect_error(lambda: c.upsert(name, [models.PointStruct(id=6, vector={"d": [1.0, 1.0]})]))
    if got != (400, "Bad request: Max points count limit of 5 reached!"):
        failures.append(f"points count: {got!r}")
    check_all(failures)


async def test_strict_mode_rate_limits(client, anyio_backend, request) -> None:
    c = client
    name = unique("rate")
    await c.create_collection(
        name, vectors_config=D2, strict_mode_config=strict(read_rate_limit=2, write_rate_limit=1)
    )
    await c.upsert(name, [models.PointStruct(id=1, vector=[1.0, 0.0])])
    with pytest.raises(RateLimited) as limited:
        await c.upsert(name, [models.PointStruct(id=2, vector=[1.0, 0.0])])
    status, text = error_of(limited.value)
    if request.node.callspec.params["client"] != "grpc":  # REST: the dev server's Retry-After header
        assert limited.value.retry_after is not None and limited.value.retry_after >= 1
    assert status == 429
    assert re.fullmatch(
        r"Rate limiting exceeded: Write rate limit exceeded: Operation requires 1 tokens but only 0\.\d were "
        r"available\. Retry after \d+s",
        text,
    ), text
    await c.count(name)
    await c.count(name)
    status, text = await expect_error(lambda: c.count(name))
    assert status == 429 and text.startswith("Rate limiting exceeded: Read rate limit exceeded: "), text
    # a collection without strict mode is not limited
    free = unique("free")
    await c.create_collection(free, vectors_config=D2)
    for _ in range(5):
        await c.count(free)


async def test_strict_mode_disabled_is_not_enforced(client, anyio_backend) -> None:
    c = client
    name = unique("off")
    await c.create_collection(
        name, vectors_config=D2, strict_mode_config=models.StrictModeConfig(enabled=False, max_query_limit=1)
    )
    await c.upsert(name, [models.PointStruct(id=i, vector=[1.0, i]) for i in range(1, 4)])
    assert len((await c.query_points(name, query=[1.0, 0.0], limit=3)).points) == 3
    # enabling it later (PATCH) applies it at once
    await c.update_collection(name, strict_mode_config=models.StrictModeConfig(enabled=True))
    got = await expect_error(lambda: c.query_points(name, query=[1.0, 0.0], limit=3))
    assert got == (400, help_limit("limit", 3, 1))


async def test_strict_mode_storage_limits(client, anyio_backend) -> None:
    c = client
    vec = unique("vbytes")
    await c.create_collection(
        vec,
        vectors_config=D2,
        strict_mode_config=strict(max_collection_vector_size_bytes=16, search_max_batchsize=2),
    )
    # 2 dims of float32: 8 bytes a point; the limit is checked before the write, as on Qdrant
    await c.upsert(vec, [models.PointStruct(id=i, vector=[1.0, 0.0]) for i in (1, 2)])
    got = await expect_error(lambda: c.upsert(vec, [models.PointStruct(id=3, vector=[1.0, 0.0])]))
    assert got == (400, "Bad request: Max vector storage size limit of 0.000015258789MB reached!")
    three = [models.QueryRequest(query=[1.0, 0.0], limit=1)] * 3
    got = await expect_error(lambda: c.query_batch_points(vec, three))
    assert got == (400, help_limit("search batch size", 3, 2))
    assert len(await c.query_batch_points(vec, three[:2])) == 2

    pay = unique("pbytes")
    await c.create_collection(
        pay, vectors_config=D2, strict_mode_config=strict(max_collection_payload_size_bytes=20)
    )
    await c.upsert(pay, [models.PointStruct(id=1, vector=[1.0, 0.0])])
    await c.set_payload(pay, payload={"k": "a value of more than twenty bytes"}, points=[1])
    got = await expect_error(lambda: c.set_payload(pay, payload={"k2": 1}, points=[1]))
    assert got == (400, "Bad request: Max payload storage size limit of 0.000019073486MB reached!")
    # deletes free what the limits guard: never refused
    await c.delete_payload(pay, keys=["k"], points=[1])
    await c.set_payload(pay, payload={"k2": 1}, points=[1])


async def test_strict_mode_full_scans_formulas_and_grouping(client, anyio_backend) -> None:
    c = client
    name = unique("scan")
    await c.create_collection(
        name,
        vectors_config={
            "d": models.VectorParams(size=2, distance="Dot", hnsw_config=models.HnswConfigDiff(m=0))
        },
        strict_mode_config=strict(search_allow_exact=False, unindexed_filtering_retrieve=False),
    )
    await c.upsert(
        name, [models.PointStruct(id=1, vector={"d": [1.0, 0.0]}, payload={"price": 1.5, "g": "a"})]
    )
    await c.create_payload_index(name, "price", "float")
    cases = [
        (
            "a vector query without a global index",
            lambda: c.query_points(name, query=[1.0, 0.0], using="d"),
            "Bad request: Request is forbidden on 'd' because global vector indexing is disabled "
            "(hnsw_config.m = 0). Help: Use tenant-specific filter, enable global vector indexing or enable "
            "strict mode `search_allow_exact` option",
        ),
        (
            "a formula reading an unindexed key",
            lambda: c.query_points(
                name,
                prefetch=[models.Prefetch(query=models.SampleQuery(sample="random"), limit=5)],
                query=models.FormulaQuery(formula=models.SumExpression(sum=["$score", "rank"])),
            ),
            'Bad request: Index required but not found for "rank" of one of the following types: [float, '
            "integer]. Help: Create an index for this key or use a different formula expression.",
        ),
        (
            "group_by a key whose index cannot match",
            lambda: c.query_points_groups(name, query=models.SampleQuery(sample="random"), group_by="price"),
            'Bad request: Index of type "Float" found for "price". Help: Create an index supporting `match` '
            "for this key.",
        ),
    ]
    failures = []
    for label, make, text in cases:
        got = await expect_error(make)
        if got != (400, text):
            failures.append(f"{label}: expected {text!r}, got {got!r}")
    # an indexed formula variable and a query that is not a vector search go through
    formula = models.FormulaQuery(formula=models.SumExpression(sum=["$score", "price"]))
    prefetch = [models.Prefetch(query=models.SampleQuery(sample="random"), limit=5)]
    assert len((await c.query_points(name, prefetch=prefetch, query=formula)).points) == 1
    check_all(failures)


async def test_strict_mode_index_capabilities(client, anyio_backend) -> None:
    """An index serves a filter only if it has the capability the condition needs."""
    c = client
    name = unique("caps")
    await c.create_collection(
        name, vectors_config=D2, strict_mode_config=strict(unindexed_filtering_retrieve=False)
    )
    await c.upsert(
        name,
        [
            models.PointStruct(
                id=1, vector=[1.0, 0.0], payload={"k": "hello", "t": "quick fox", "i": 3, "u": "x"}
            )
        ],
    )
    await c.create_payload_index(name, "k", "keyword")
    await c.create_payload_index(
        name, "i", models.IntegerIndexParams(type="integer", lookup=True, range=False)
    )

    def where(key: str, **condition: Any) -> models.Filter:
        return models.Filter(must=[models.FieldCondition(key=key, **condition)])

    cases = [
        (
            "a prefix match needs a keyword index with prefix",
            where("k", match=models.MatchPrefix(prefix="he")),
            "k",
            "keyword",
        ),
        (
            "a phrase needs a full-text index",
            where("t", match=models.MatchPhrase(phrase="quick fox")),
            "t",
            "text",
        ),
        (
            "a range needs an integer index with range",
            where("i", range=models.Range(gte=1)),
            "i",
            "float, integer",
        ),
        (
            "a UUID value may use a uuid or a keyword index",
            where("u", match=models.MatchValue(value="4e1c2d5a-1c5e-4f44-9a27-2c1d0f1b3a00")),
            "u",
            "keyword, uuid",
        ),
        (
            "is_empty takes any index",
            models.Filter(must=[models.IsEmptyCondition(is_empty=models.PayloadField(key="u"))]),
            "u",
            "bool, datetime, float, geo, integer, keyword, text, uuid",
        ),
    ]
    failures = []
    for label, flt, key, types in cases:
        got = await expect_error(lambda flt=flt: c.count(name, count_filter=flt))
        if got != (400, help_index(key, types)):
            failures.append(f"{label}: got {got!r}")
    # served: a value match on the lookup-only integer index, a prefix on a prefix keyword index
    assert (await c.count(name, count_filter=where("i", match=models.MatchValue(value=3)))).count == 1
    # an empty `any` has no type: the integer index serves it (it matches nothing; negated, everything)
    empty_any = models.FieldCondition(key="i", match=models.MatchAny(any=[]))
    assert (await c.count(name, count_filter=models.Filter(must=[empty_any]))).count == 0
    assert (await c.count(name, count_filter=models.Filter(must_not=[empty_any]))).count == 1
    await c.delete_payload_index(name, "k")
    await c.create_payload_index(name, "k", models.KeywordIndexParams(type="keyword", prefix=True))
    assert (await c.count(name, count_filter=cases[0][1])).count == 1
    check_all(failures)


def test_semantics_helpers() -> None:
    """The pieces of Qdrant's semantics the wrapper computes itself (semantics.py)."""
    import qdrant_edge as qe

    from aqdrant.local import qerrors as qx
    from aqdrant.local import semantics as sem

    payload = {"a": [{"b": 1}, {"b": [2, 3]}, {"c": 4}], "t": ["x", "y"], "n": {"k": 5}}
    assert sem.path_values(payload, "a[].b") == [1, [2, 3]]
    assert sem.path_values(payload, "a[1].b") == [[2, 3]]
    assert sem.path_values(payload, "t[]") == ["x", "y"]
    assert sem.path_values(payload, "t") == [["x", "y"]]
    assert sem.path_values(payload, "n.k") == [5]
    assert sem.path_values(payload, "missing.key") == []
    assert sem.path_root("a[].b") == "a"

    assert sem.sort_ids(["b6a3c3a4-2f1e-4a58-9c1e-0b1e2c3d4e5f", 10, 2]) == [
        2,
        10,
        "b6a3c3a4-2f1e-4a58-9c1e-0b1e2c3d4e5f",
    ]

    # average_vector: dense averaged, sparse over the union of indices, multivectors concatenated
    assert sem.average_vector([[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0]]) == [1.0, 0.0]
    sv = sem.average_vector([qe.SparseVector([1, 2], [2.0, 4.0]), qe.SparseVector([2, 3], [2.0, 2.0])], [])
    assert (list(sv.indices), list(sv.values)) == ([1, 2, 3], [1.0, 3.0, 1.0])
    assert sem.average_vector([[[1.0, 2.0]], [[3.0, 4.0]]], [[[1.0, 1.0]]]) == [
        [1.0, 2.0],
        [3.0, 4.0],
        [-1.0, -1.0],
    ]
    for pos, neg, text in [
        ([], [[1.0]], qx.AVERAGE_WITHOUT_POSITIVES),
        ([[1.0], qe.SparseVector([1], [1.0])], [], qx.AVERAGE_MIXED_KINDS),
        ([[1.0]], [qe.SparseVector([1], [1.0])], qx.AVERAGE_POS_NEG_KINDS),
    ]:
        with pytest.raises(qx.QdrantFault) as fault:
            sem.average_vector(pos, neg)
        assert (fault.value.status, fault.value.message) == (400, f"Wrong input: Validation failed: {text}")

    # ids used as examples are excluded only when looked up in the searched collection
    body = {
        "query": {"recommend": {"positive": [1, "not-an-id"], "negative": [2]}},
        "prefetch": [{"query": 3, "lookup_from": {"collection": "other"}}, {"query": {"nearest": 4}}],
    }
    assert sem.referenced_ids(body, "c") == [1, 2, 4]
    assert sem.referenced_ids({**body, "lookup_from": {"collection": "c"}}, "c") == [1, 2, 4]
    assert sem.referenced_ids({**body, "lookup_from": {"collection": "other"}}, "c") == [4]
