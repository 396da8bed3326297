"""Catalog-only operations are answered in the caller's process (no frame, no round trip) and
always agree with the engine."""

from __future__ import annotations

import anyio
import pytest
from test_local_helpers import call

from aqdrant import AsyncQdrantClient, NotFound, models
from aqdrant._operations import OPERATIONS
from aqdrant.local import LocalBackend
from aqdrant.local import backend as backend_module

pytestmark = pytest.mark.anyio

VECTORS = {"vectors": {"size": 2, "distance": "Dot"}}
CATALOG_ONLY = [
    ("root", {}),
    ("healthz", {}),
    ("livez", {}),
    ("readyz", {}),
    ("get_collections", {}),
    ("get_collections_aliases", {}),
    ("collection_exists", {"collection_name": "a"}),
    ("collection_exists", {"collection_name": "live"}),  # an alias counts
    ("collection_exists", {"collection_name": "dangling"}),  # alias of a deleted collection: gone
    ("collection_exists", {"collection_name": "nope"}),
    ("get_collection_aliases", {"collection_name": "a"}),
    ("get_collection_aliases", {"collection_name": "b"}),
]


class FrameCounter:
    def __init__(self, backend: LocalBackend) -> None:
        conn = backend._conn
        assert conn is not None
        self.frames = 0
        original = conn.send_frame

        async def counting(pieces: list, rid: int | None = None) -> None:
            self.frames += 1
            await original(pieces, rid)

        conn.send_frame = counting  # type: ignore[method-assign]


async def _setup(b: LocalBackend) -> None:
    for name in ("a", "b", "gone"):
        await call(b, "create_collection", VECTORS, collection_name=name)
    actions = [
        {"create_alias": {"collection_name": "a", "alias_name": "live"}},
        {"create_alias": {"collection_name": "a", "alias_name": "old"}},
        {"create_alias": {"collection_name": "gone", "alias_name": "dangling"}},
    ]
    await call(b, "update_aliases", {"actions": actions})
    await call(b, "delete_collection", collection_name="gone")  # drops its alias too


async def _engine_answer(b: LocalBackend, op: str, path: dict) -> object:
    """What the engine itself answers (the round trip the parent now skips)."""
    reply = await b.call(op, path=path)
    if not reply["ok"]:
        return ("error", reply["error"]["status"], reply["error"]["message"])
    return models.parse(OPERATIONS[op].result_type, reply["result"])


async def _local_answer(b: LocalBackend, op: str, path: dict) -> object:
    try:
        result = await call(b, op, **path)
    except NotFound as e:
        return ("error", 404, str(e))
    return result


async def test_catalog_only_operations_send_no_frame_and_agree_with_the_engine():
    async with LocalBackend(None) as b:
        await _setup(b)
        counter = FrameCounter(b)
        pid = b.pid
        local = [await _local_answer(b, op, path) for op, path in CATALOG_ONLY]
        assert counter.frames == 0 and b.pid == pid and b.starts == 1
        engine = [await _engine_answer(b, op, path) for op, path in CATALOG_ONLY]
        assert counter.frames == len(CATALOG_ONLY)
        for (op, path), mine, theirs in zip(CATALOG_ONLY, local, engine, strict=True):
            if isinstance(theirs, tuple):
                assert isinstance(mine, tuple) and mine[1] == theirs[1], (op, path)
                assert theirs[2] in mine[2], (op, path)
            else:
                assert mine == theirs, (op, path, mine, theirs)
        assert [c.name for c in local[4].collections] == ["a", "b"]
        assert [(x.alias_name, x.collection_name) for x in local[5].aliases] == [("live", "a"), ("old", "a")]
        assert [ex.exists for ex in local[6:10]] == [True, True, False, False]
        assert local[11].aliases == []


async def test_names_follow_every_change_without_a_round_trip_for_reads():
    async with LocalBackend(None) as b:
        await call(b, "get_collections")  # starts the engine
        counter = FrameCounter(b)
        assert (await call(b, "collection_exists", collection_name="c")).exists is False
        await call(b, "create_collection", VECTORS, collection_name="c")
        assert (await call(b, "collection_exists", collection_name="c")).exists is True
        await call(
            b, "update_aliases", {"actions": [{"create_alias": {"collection_name": "c", "alias_name": "x"}}]}
        )
        assert (await call(b, "collection_exists", collection_name="x")).exists is True
        await call(
            b,
            "update_aliases",
            {"actions": [{"rename_alias": {"old_alias_name": "x", "new_alias_name": "y"}}]},
        )
        assert [
            a.alias_name for a in (await call(b, "get_collection_aliases", collection_name="c")).aliases
        ] == ["y"]
        await call(b, "delete_collection", collection_name="c")
        assert (await call(b, "collection_exists", collection_name="c")).exists is False
        assert (await call(b, "collection_exists", collection_name="y")).exists is False
        assert (await call(b, "get_collections_aliases")).aliases == []
        with pytest.raises(NotFound, match="doesn't exist"):
            await call(b, "get_collection_aliases", collection_name="c")
        assert counter.frames == 4  # the four changes; none of the reads


async def test_a_change_whose_reply_is_unread_sends_reads_to_the_engine():
    """A create whose caller gave up (cancelled after sending): until its reply is read, reads go
    to the engine, which answers after the create; then they are served locally again."""
    async with LocalBackend(None) as b:
        await call(b, "get_collections")
        conn = b._conn
        assert conn is not None
        rid = next(b._ids)  # no reply slot: like a cancelled caller, the reply will be discarded
        frame = backend_module._frame(
            {
                "id": rid,
                "op": "create_collection",
                "path": {"collection_name": "late"},
                "query": {},
                "body": VECTORS,
                "deadline": None,
            }
        )
        await conn.send_frame(frame, rid)
        assert conn.unsettled == {rid}
        counter = FrameCounter(b)
        assert (await call(b, "collection_exists", collection_name="late")).exists is True
        assert counter.frames == 1 and conn.unsettled == set()
        assert (await call(b, "collection_exists", collection_name="late")).exists is True
        assert [c.name for c in (await call(b, "get_collections")).collections] == ["late"]
        assert counter.frames == 1


async def test_a_cancelled_create_never_leaves_exists_stale():
    async with LocalBackend(None) as b:
        await call(b, "get_collections")
        for i in range(20):
            name = f"c{i}"
            with anyio.move_on_after(0.0005 * (i % 5)):
                await call(b, "create_collection", VECTORS, collection_name=name)
            # whatever the engine did with it, exists and the engine agree
            exists = (await call(b, "collection_exists", collection_name=name)).exists
            engine = await _engine_answer(b, "collection_exists", {"collection_name": name})
            assert exists == engine.exists


async def test_reopened_path_knows_its_names(tmp_path):
    async with LocalBackend(tmp_path / "db") as b:
        await call(b, "create_collection", VECTORS, collection_name="p")
        await call(
            b, "update_aliases", {"actions": [{"create_alias": {"collection_name": "p", "alias_name": "q"}}]}
        )
    async with LocalBackend(tmp_path / "db") as b:
        assert (await call(b, "collection_exists", collection_name="q")).exists is True  # starts the engine
        counter = FrameCounter(b)
        assert [c.name for c in (await call(b, "get_collections")).collections] == ["p"]
        assert (await call(b, "collection_exists", collection_name="p")).exists is True
        assert counter.frames == 0


async def test_client_collection_exists_sends_no_frame():
    async with AsyncQdrantClient(":memory:") as client:
        await client.create_collection(
            "c", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT)
        )
        b = client._backend
        counter = FrameCounter(b)
        for _ in range(100):
            assert await client.collection_exists("c") is True
        assert await client.collection_exists("nope") is False
        assert [c.name for c in (await client.get_collections()).collections] == ["c"]
        assert counter.frames == 0


def test_catalog_only_operations_are_served_by_the_engine():
    assert backend_module.CATALOG_ONLY_OPERATIONS <= backend_module.SUPPORTED_OPERATIONS


async def test_catalog_only_calls_are_cancellation_points():
    async with LocalBackend(None) as b:
        await call(b, "get_collections")
        with anyio.CancelScope() as scope:
            scope.cancel()
            await call(b, "collection_exists", collection_name="x")
            pytest.fail("not cancelled")
        assert scope.cancelled_caught
