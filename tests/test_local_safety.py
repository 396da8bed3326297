"""The embedded engine survives what callers send (issue 15, part 1): the validation boundary
(aqdrant/local/guard.py), panic containment, damaged shards, a disk running full, the store lock."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import anyio
import numpy as np
import pytest
from test_local_helpers import call

from aqdrant import AsyncQdrantClient, BadRequest, models
from aqdrant.local import (
    CollectionDamaged,
    EngineInputRejected,
    EnginePanic,
    LocalBackend,
    StorageFull,
    StorageLocked,
    guard,
)
from aqdrant.local import containment as ct
from aqdrant.local import engine as eng

SPEC = Path(__file__).resolve().parent.parent / "qdrant-api" / "v1.19" / "openapi.json"

MIXED = {
    "vectors": {
        "d": {"size": 2, "distance": "Dot"},
        "m": {"size": 2, "distance": "Dot", "multivector_config": {"comparator": "max_sim"}},
    },
    "sparse_vectors": {"s": {}},
}
OTHER_POINTS = [{"id": i, "vector": [1.0, float(i)], "payload": {"i": i}} for i in range(5)]


async def _store(b: LocalBackend) -> None:
    """`c` (dense, multivector and sparse vectors, one point) and `other` (5 points)."""
    await call(b, "create_collection", MIXED, collection_name="c")
    await call(b, "upsert_points", {"points": [{"id": 1, "vector": {"d": [1.0, 2.0]}}]}, collection_name="c")
    await call(b, "create_collection", {"vectors": {"size": 2, "distance": "Dot"}}, collection_name="other")
    await call(b, "upsert_points", {"points": OTHER_POINTS}, collection_name="other")


async def _intact(b: LocalBackend, c_count: int = 1) -> None:
    assert (await call(b, "count_points", {"exact": True}, collection_name="c")).count == c_count
    assert (await call(b, "count_points", {"exact": True}, collection_name="other")).count == 5
    got = await call(b, "get_points", {"ids": [3], "with_vector": True}, collection_name="other")
    assert got[0].vector == [1.0, 3.0] and got[0].payload == {"i": 3}
    # the target collection still takes writes and queries (its shard was not poisoned)
    await call(b, "upsert_points", {"points": [{"id": 99, "vector": {"d": [0.5, 0.5]}}]}, collection_name="c")
    hits = await call(b, "query_points", {"query": [1.0, 1.0], "using": "d", "limit": 3}, collection_name="c")
    assert 99 in [p.id for p in hits.points]


# -- the cases of the issue, each refused with the point and field named -------------------------

POINT_CASES = {
    "sparse indices/values length mismatch": (
        {"s": {"indices": [1, 2, 3], "values": [0.5]}},
        r"point 7, `s`: .*same length \(3 indices, 1 values\)",
    ),
    "sparse duplicate index": (
        {"s": {"indices": [4, 4], "values": [0.5, 0.1]}},
        r"point 7, `s`: .*4 appears more",
    ),
    "ragged multivector": ({"m": [[1.0, 2.0], [1.0]]}, r"point 7, `m`: .*same length"),
    "empty multivector row": ({"m": [[1.0, 2.0], []]}, r"point 7, `m`: row 1 .*empty"),
    "empty dense vector": ({"d": []}, r"point 7, `d`: .*at least one value"),
    "component beyond float32": ({"d": [1e39, 1.0]}, r"point 7, `d`: value 0 is 1e\+39"),
    "NaN": ({"d": [1.0, float("nan")]}, r"point 7, `d`: value 1 is nan"),
    "-inf in a multivector": (
        {"m": [[1.0, 2.0], [float("-inf"), 0.0]]},
        r"point 7, `m\[1\]`: value 0 is -inf",
    ),
    "NaN sparse value": ({"s": {"indices": [1], "values": [float("nan")]}}, r"point 7, `s`: value 0 is nan"),
}


@pytest.mark.anyio
@pytest.mark.parametrize("case", sorted(POINT_CASES))
@pytest.mark.parametrize("op", ["upsert_points", "update_vectors", "batch_update"])
async def test_malformed_vectors_are_refused_before_the_engine(case, op):
    vector, pattern = POINT_CASES[case]
    body: dict = {"points": [{"id": 7, "vector": vector}]}
    if op == "batch_update":
        body = {"operations": [{"upsert": body}]}
        pattern = r"operation 0 \(upsert\): " + pattern
    # validate_vectors=False: the client's own checks are off; the engine's boundary is the last line
    async with AsyncQdrantClient(":memory:", validate_vectors=False) as client:
        b = client._backend
        await _store(b)
        if op == "update_vectors":
            await call(
                b, "upsert_points", {"points": [{"id": 7, "vector": {"d": [1.0, 1.0]}}]}, collection_name="c"
            )
        pid = b.pid
        with pytest.raises(EngineInputRejected, match=pattern) as info:
            await call(b, op, body, collection_name="c")
        assert info.value.status_code == 422 and info.value.operation == op
        assert isinstance(info.value, BadRequest)  # a client error: REST 422, gRPC INVALID_ARGUMENT
        assert b.pid == pid and b.starts == 1
        await _intact(b, c_count=2 if op == "update_vectors" else 1)


@pytest.mark.anyio
async def test_a_numpy_batch_with_nan_names_the_point():
    async with AsyncQdrantClient(":memory:", validate_vectors=False) as client:
        await client.create_collection(
            "v", vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT)
        )
        for dtype in (np.float32, np.float64):
            vectors = np.ones((300, 4), dtype=dtype)
            vectors[123, 2] = np.nan if dtype is np.float32 else 1e39
            with pytest.raises(EngineInputRejected, match=r"point 1123, `vector`: value 2 is"):
                await client.upsert("v", models.Batch(ids=list(range(1000, 1300)), vectors=vectors))
        assert (await client.count("v")).count == 0  # nothing of the batch was written
        await client.upsert("v", models.Batch(ids=[1, 2], vectors=np.full((2, 4), 3e38, dtype=np.float64)))
        assert (await client.count("v")).count == 2  # large but finite float32 values are fine


CONFIG_CASES = [
    (
        "create_collection",
        {"vectors": {"size": 0, "distance": "Dot"}},
        r"`vectors.size` must be between 1 and 65536",
    ),
    ("create_collection", {"vectors": {"size": 65537, "distance": "Dot"}}, r"between 1 and 65536, got 65537"),
    (
        "create_collection",
        {"vectors": {"a": {"size": 2, "distance": "Dot"}}, "sparse_vectors": {"a": {}}},
        r"vector name `a` is used by a dense and a sparse vector",
    ),
    (
        "create_collection",
        {"vectors": {"size": 2, "distance": "Dot"}, "hnsw_config": {"m": -1}},
        r"hnsw_config.m",
    ),
    (
        "create_collection",
        {"vectors": {"size": 2, "distance": "Dot"}, "hnsw_config": {"ef_construct": 3}},
        r"`hnsw_config.ef_construct` must be >= 4, got 3",
    ),
    (
        "create_collection",
        {"vectors": {"size": 2, "distance": "Dot"}, "optimizers_config": {"deleted_threshold": 1.5}},
        r"deleted_threshold` must be between 0 and 1",
    ),
    (
        "create_collection",
        {"vectors": {"size": 2, "distance": "Dot"}, "optimizers_config": {"max_segment_size": 0}},
        r"max_segment_size",
    ),
    (
        "create_collection",
        {
            "vectors": {"size": 2, "distance": "Dot"},
            "quantization_config": {"scalar": {"type": "int8", "quantile": 0.1}},
        },
        r"quantile` must be between 0.5 and 1",
    ),
    ("update_collection", {"hnsw_config": {"full_scan_threshold": 5}}, r"full_scan_threshold` must be >= 10"),
    (
        "update_collection",
        {"vectors": {"d": {"hnsw_config": {"ef_construct": 1}}}},
        r"vectors.d.hnsw_config.ef_construct",
    ),
    (
        "update_collection",
        {"optimizers_config": {"vacuum_min_vector_number": 5}},
        r"vacuum_min_vector_number",
    ),
    (
        "create_vector_name",
        {"dense": {"size": 0, "distance": "Dot"}},
        r"`dense.size` must be between 1 and 65536",
    ),
    (
        "create_vector_name:s",
        {"dense": {"size": 2, "distance": "Dot"}},
        r"already has a sparse vector named `s`",
    ),
]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("op", "body", "pattern"), CONFIG_CASES, ids=[f"{c[0]}-{c[2][:30]}" for c in CONFIG_CASES]
)
async def test_config_bounds_are_refused_and_nothing_is_poisoned(op, body, pattern):
    b = LocalBackend(None, optimize="never")
    try:
        await _store(b)
        pid = b.pid
        op, _, vname = op.partition(":")
        path = {"collection_name": "new" if op == "create_collection" else "c"}
        if op == "create_vector_name":
            path["vector_name"] = vname or "v"
        reply = await b.call(op, path=path, body=body)
        assert not reply["ok"] and reply["error"]["kind"] == "invalid", reply
        assert reply["error"]["status"] == 422
        import re

        assert re.search(pattern, reply["error"]["message"]), reply["error"]["message"]
        assert b.pid == pid
        assert (await call(b, "get_collections")).collections and not (
            await call(b, "collection_exists", collection_name="new")
        ).exists
        await _intact(b)
    finally:
        await b.aclose()


def test_the_bounds_table_is_the_specs():
    """guard.BOUNDS (generated into aqdrant/local/_spec_bounds.py) holds exactly the
    minimum/maximum the OpenAPI spec states, for every schema the guard checks (plus Qdrant's
    65536 cap on a vector's size, which the spec states for DenseVectorConfig only)."""
    # every schema the guard names is in the table (one the spec renamed would fail here)
    named = set(re.findall(r'_bounds\(.*?, "(\w+)"', Path(guard.__file__).read_text()))
    assert len(named) == 10 and named <= set(guard.BOUNDS), named
    assert guard.MAX_VECTOR_SIZE == 65536
    schemas = json.loads(SPEC.read_text())["components"]["schemas"]
    for name, fields in guard.BOUNDS.items():
        stated = {
            key: (prop.get("minimum"), prop.get("maximum"))
            for key, prop in schemas[name]["properties"].items()
            if "minimum" in prop or "maximum" in prop
        }
        expected = dict(fields)
        if name == "VectorParams":
            expected["size"] = (1, None)
        assert stated == expected, name


# -- panics, damaged shards ----------------------------------------------------------------------


def _engine(root: str, **kw) -> eng.Engine:
    return eng.Engine(root, **kw)


def _handle(e: eng.Engine, op: str, body: dict | None = None, **path) -> object:
    return e.handle(op, path, {}, body)


def _poison(root: str, monkeypatch, *, temporary: bool = False) -> None:
    """A store whose collection `c` has a panicking operation in its WAL (the guard switched off),
    next to a healthy `other`."""
    e = _engine(root, temporary=temporary)
    try:
        _handle(e, "create_collection", MIXED, collection_name="c")
        _handle(e, "upsert_points", {"points": [{"id": 1, "vector": {"d": [1.0, 2.0]}}]}, collection_name="c")
        _handle(e, "create_collection", {"vectors": {"size": 2, "distance": "Dot"}}, collection_name="other")
        _handle(e, "upsert_points", {"points": OTHER_POINTS}, collection_name="other")
        with monkeypatch.context() as m:
            m.setattr(guard, "check", lambda *a: None)
            with pytest.raises(eng.EngineError) as info:
                _handle(
                    e,
                    "upsert_points",
                    {"points": [{"id": 2, "vector": {"s": {"indices": [1, 2, 3], "values": [0.5]}}}]},
                    collection_name="c",
                )
        # caught per operation: a typed error naming the operation and the collection
        err = info.value
        assert err.kind == "panic" and err.status == 500
        assert err.message.startswith(
            "upsert_points: the embedded engine (qdrant-edge) panicked on collection `c`"
        )
        # its WAL replays the panicking operation: the collection alone is reported damaged
        assert "cannot be opened" in err.message and "Delete the collection" in err.message
        assert _handle(e, "count_points", {"exact": True}, collection_name="other") == {"count": 5}
    finally:
        e.close(remove=False)


def test_a_panic_is_caught_per_operation_and_the_engine_goes_on(tmp_path, monkeypatch):
    root = str(tmp_path / "db")
    _poison(root, monkeypatch)
    e = _engine(root)
    try:
        with pytest.raises(eng.EngineError) as info:
            _handle(e, "count_points", {"exact": True}, collection_name="c")
        assert info.value.kind == "damaged" and "collection `c` cannot be opened" in info.value.message
        assert _handle(e, "count_points", {"exact": True}, collection_name="other") == {"count": 5}
        # what the message says to do works
        assert _handle(e, "delete_collection", collection_name="c") is True
        _handle(e, "create_collection", MIXED, collection_name="c")
        _handle(e, "upsert_points", {"points": [{"id": 1, "vector": {"d": [1.0, 2.0]}}]}, collection_name="c")
        assert _handle(e, "count_points", {"exact": True}, collection_name="c") == {"count": 1}
    finally:
        e.close()


@pytest.mark.anyio
async def test_a_damaged_collection_alone_fails_through_the_client(tmp_path, monkeypatch):
    root = str(tmp_path / "db")
    _poison(root, monkeypatch)
    b = LocalBackend(root, optimize="never")
    try:
        with pytest.raises(
            CollectionDamaged, match=r"collection `c` cannot be opened.*Delete the collection"
        ) as info:
            await call(b, "count_points", {"exact": True}, collection_name="c")
        assert info.value.collection == "c" and info.value.operation == "count_points"
        pid = b.pid
        assert (await call(b, "count_points", {"exact": True}, collection_name="other")).count == 5
        await call(b, "delete_collection", collection_name="c")
        await call(b, "create_collection", MIXED, collection_name="c")
        await call(
            b, "upsert_points", {"points": [{"id": 1, "vector": {"d": [1.0, 2.0]}}]}, collection_name="c"
        )
        await _intact(b)
        assert b.pid == pid
    finally:
        await b.aclose()


@pytest.mark.anyio
async def test_a_panic_in_the_engine_process_is_a_typed_error_and_the_process_lives(monkeypatch):
    """A panic the guard does not know of - simulated by an engine process started with the
    guard switched off - reaches the caller as EnginePanic; the engine and the store survive."""
    from aqdrant.local import backend as be

    monkeypatch.setattr(
        be,
        "_ENGINE_BOOT",
        be._ENGINE_BOOT.replace(
            "import engine;", "import guard; guard.check = lambda *a: None; import engine;"
        ),
    )
    async with AsyncQdrantClient(":memory:", validate_vectors=False) as client:
        b = client._backend
        await _store(b)
        pid = b.pid
        bad = {"points": [{"id": 2, "vector": {"s": {"indices": [1, 2, 3], "values": [0.5]}}}]}
        with pytest.raises(
            EnginePanic,
            match=r"upsert_points: the embedded engine \(qdrant-edge\) panicked on collection `c`",
        ) as info:
            await call(b, "upsert_points", bad, collection_name="c")
        assert info.value.operation == "upsert_points" and info.value.collection == "c"
        assert b.pid == pid and b.starts == 1  # the same engine process
        # the panicking operation is in c's WAL: c alone says what to do, the rest works
        with pytest.raises(CollectionDamaged, match=r"Delete the collection"):
            await call(b, "count_points", {"exact": True}, collection_name="c")
        assert (await call(b, "count_points", {"exact": True}, collection_name="other")).count == 5
        await call(b, "delete_collection", collection_name="c")
        await call(b, "create_collection", MIXED, collection_name="c")
        await call(
            b, "upsert_points", {"points": [{"id": 1, "vector": {"d": [1.0, 2.0]}}]}, collection_name="c"
        )
        await _intact(b)
        assert b.pid == pid


@pytest.mark.anyio
async def test_a_crashed_memory_engine_restarts_on_the_same_store():
    async with AsyncQdrantClient(":memory:") as client:
        b = client._backend
        await _store(b)
        root, pid = b.root, b.pid
        os.kill(pid, signal.SIGKILL)
        with anyio.fail_after(30):
            while True:  # the first call after the kill may fail (the engine is gone) ...
                try:
                    await call(b, "count_points", {"exact": True}, collection_name="other")
                    break
                except Exception:  # noqa: BLE001
                    await anyio.sleep(0.05)
        # ... then a new engine serves the same directory: every collection is there
        assert b.pid != pid and b.root == root and os.path.isdir(root)
        await _intact(b)
    assert not os.path.exists(root)  # an explicit close of a :memory: client removes it


def test_an_engine_that_dies_keeps_a_temporary_store(tmp_path, monkeypatch):
    """Only an orderly end (close, or the parent gone) removes a :memory: root."""
    root = str(tmp_path / "mem")
    r, w = os.pipe()
    rr, ww = os.pipe()

    def boom(self, *a):
        raise SystemExit("simulated crash")

    monkeypatch.setattr(eng.Engine, "handle", boom)
    frame = b"".join(bytes(p) for p in eng_frame({"id": 1, "op": "get_collections", "path": {}, "query": {}}))
    os.write(w, frame)
    with open(r, "rb", buffering=0) as inp, open(ww, "wb") as out, pytest.raises(SystemExit):
        eng.serve(root, True, inp, out)
    os.close(w)
    os.close(rr)
    assert os.path.isdir(root) and os.listdir(root)  # kept for the restarted engine


def eng_frame(msg: dict) -> list:
    from aqdrant.local import backend as be

    return be._frame({**msg, "body": None, "deadline": None})


# -- disk full -----------------------------------------------------------------------------------


def test_a_full_disk_refuses_writes_up_front(tmp_path, monkeypatch):
    root = str(tmp_path / "db")
    e = _engine(root)
    try:
        _handle(e, "create_collection", {"vectors": {"size": 2, "distance": "Dot"}}, collection_name="c")
        _handle(e, "upsert_points", {"points": OTHER_POINTS}, collection_name="c")
        monkeypatch.setattr(ct, "free_bytes", lambda path: 40 << 20)  # room for one WAL segment
        with pytest.raises(eng.EngineError) as info:
            _handle(e, "upsert_points", {"points": [{"id": 9, "vector": [1.0, 1.0]}]}, collection_name="c")
        err = info.value
        assert err.kind == "disk_full" and err.status == 507
        assert e.root in err.message and "40 MiB free, 64 MiB needed" in err.message
        assert "write-ahead log in 32 MiB segments" in err.message
        with pytest.raises(eng.EngineError, match="96 MiB needed"):
            _handle(e, "create_collection", {"vectors": {"size": 2, "distance": "Dot"}}, collection_name="d")
        # reads go on; nothing was written
        assert _handle(e, "count_points", {"exact": True}, collection_name="c") == {"count": 5}
        monkeypatch.setattr(ct, "free_bytes", lambda path: 1 << 40)  # space freed
        _handle(e, "upsert_points", {"points": [{"id": 9, "vector": [1.0, 1.0]}]}, collection_name="c")
        assert _handle(e, "count_points", {"exact": True}, collection_name="c") == {"count": 6}
    finally:
        e.close()


def _small_tmpfs(tmp_path) -> str | None:
    mnt = tmp_path / "small"
    mnt.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=110m", "tmpfs", str(mnt)], capture_output=True, check=False
    )
    return str(mnt) if done.returncode == 0 else None


@pytest.mark.anyio
async def test_a_full_tmpfs_gives_storage_full_not_sigbus(tmp_path):
    """On a real small file system (a tmpfs, when this machine lets us mount one): writes stop
    with StorageFull naming the path, the engine lives, and everything acknowledged reopens."""
    mnt = _small_tmpfs(tmp_path)
    if mnt is None:
        pytest.skip(
            "cannot mount a tmpfs here (needs root); test_a_full_disk_refuses_writes_up_front covers the rule"
        )
    try:
        path = os.path.join(mnt, "store")
        vectors = np.random.default_rng(0).random((2000, 128), dtype=np.float32)
        acknowledged = 0
        async with AsyncQdrantClient(path=path) as client:
            await client.create_collection(
                "c", vectors_config=models.VectorParams(size=128, distance=models.Distance.DOT)
            )
            pid = client._backend.pid
            with pytest.raises(StorageFull, match=rf"at {path}: \d+ MiB free, 64 MiB needed"):
                for _ in range(100):
                    ids = list(range(acknowledged, acknowledged + 2000))
                    await client.upsert("c", models.Batch(ids=ids, vectors=vectors))
                    acknowledged += 2000
            assert client._backend.pid == pid and acknowledged > 0
            assert (await client.count("c")).count == acknowledged
        async with AsyncQdrantClient(path=path) as client:
            assert (await client.count("c")).count == acknowledged
    finally:
        subprocess.run(["umount", mnt], check=False)


# -- the path= lock --------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_store_lock_is_taken_at_construction(tmp_path):
    path = str(tmp_path / "db")
    first = AsyncQdrantClient(path=path)  # no call yet: the engine has not even started
    try:
        with pytest.raises(StorageLocked, match=r"already accessed by another instance of an aqdrant local client"):
            AsyncQdrantClient(path=path)
        code = (
            "import sys\nfrom aqdrant import AsyncQdrantClient\nfrom aqdrant.local import StorageLocked\n"
            "try:\n    AsyncQdrantClient(path=sys.argv[1])\nexcept StorageLocked:\n    sys.exit(3)\n"
        )
        assert subprocess.run([sys.executable, "-c", code, path], check=False).returncode == 3
        await first.create_collection(
            "c", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT)
        )
        # across an engine restart the store stays locked by its client
        os.kill(first._backend.pid, signal.SIGKILL)
        with pytest.raises(StorageLocked):
            AsyncQdrantClient(path=path)
    finally:
        await first.close()
    async with AsyncQdrantClient(path=path) as again:  # free once closed
        assert await again.collection_exists("c")


def test_memory_stores_leave_a_small_dev_shm_alone(monkeypatch):
    """A container's 64 MB /dev/shm cannot hold a write-ahead log: :memory: goes to the temp dir."""
    from aqdrant.local import backend as be

    monkeypatch.setattr(ct, "free_bytes", lambda path: 64 << 20)
    small = be._memory_dir()
    monkeypatch.setattr(ct, "free_bytes", lambda path: 1 << 40)
    roomy = be._memory_dir()
    try:
        assert not small.startswith("/dev/shm/")
        if os.access("/dev/shm", os.W_OK):
            assert roomy.startswith("/dev/shm/")
    finally:
        os.rmdir(small)
        os.rmdir(roomy)


@pytest.mark.anyio
async def test_an_engine_killed_by_a_signal_says_which(tmp_path):
    """A SIGBUS (a full disk under the mapped WAL) leaves nothing on stderr: the error names it."""
    from aqdrant.local import EngineProcessError

    b = LocalBackend(str(tmp_path / "db"), optimize="never")
    try:
        await _store(b)
        os.kill(b.pid, signal.SIGBUS)
        with pytest.raises(
            EngineProcessError, match=r"killed by SIGBUS - usually the disk holding .*db is full"
        ):
            for _ in range(3):  # the first call may still find the pipe open
                await call(b, "count_points", {"exact": True}, collection_name="other")
        await _intact(b)  # the next call starts a new engine on the same store
    finally:
        await b.aclose()
