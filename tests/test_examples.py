"""The examples are the project's smoke tests: each runs as shipped and its output is checked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))


def test_quickstart_prints_filtered_hits():
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py")], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert "points: 100" in out.stdout
    hits = [line for line in out.stdout.splitlines() if line.strip().startswith("id=")]
    assert len(hits) == 3
    assert all("'city': 'Berlin'" in h for h in hits)
    scores = [float(h.split("score=")[1].split()[0]) for h in hits]
    assert scores == sorted(scores, reverse=True)


@pytest.fixture(scope="module")
def dev_server():
    """conftest's dev server, recording the headers of every request it receives."""
    from conftest import dev_server_thread
    from starlette.middleware.base import BaseHTTPMiddleware

    seen: list[dict[str, str]] = []

    async def record(request, call_next):
        seen.append(dict(request.headers))
        return await call_next(request)

    srv = dev_server_thread(middleware=[(BaseHTTPMiddleware, {"dispatch": record})])
    srv.seen = seen
    with srv:
        yield srv


def test_fastapi_app_carries_request_id_to_qdrant(dev_server):
    import fastapi_app
    from fastapi.testclient import TestClient

    app = fastapi_app.make_app(url=dev_server.url)
    with TestClient(app) as http:
        r = http.put(
            "/items",
            json=[{"id": i, "vector": [1.0, float(i), 0.0, 0.5], "payload": {"tag": "even" if i % 2 == 0 else "odd"}} for i in range(10)],
            headers={"x-request-id": "req-upsert-1"},
        )
        assert r.status_code == 200, r.text
        assert r.json() == {"status": "completed", "count": 10}
        r = http.post("/search", json={"vector": [1.0, 4.0, 0.0, 0.5], "limit": 3, "tag": "odd"}, headers={"x-request-id": "req-search-2"})
        assert r.status_code == 200, r.text
        hits = r.json()
        assert len(hits) == 3 and all(h["payload"]["tag"] == "odd" for h in hits)
        assert r.headers["x-request-id"] == "req-search-2"
        bad = http.put("/items", json=[{"id": 1, "vector": [1.0, 2.0]}])  # wrong dimension
        assert bad.status_code == 422 and "point 1" in bad.json()["error"]
    ids = [h.get("x-request-id") for h in dev_server.seen]
    assert "req-upsert-1" in ids and "req-search-2" in ids


def test_trio_app_runs_concurrent_queries_against_the_dev_server(dev_server):
    import httpx
    import trio
    import trio_app

    def names() -> list[str]:
        return [c["name"] for c in httpx.get(f"{dev_server.url}/collections", timeout=30).json()["result"]["collections"]]

    httpx.put(f"{dev_server.url}/collections/trio_demo", json={"vectors": {"size": 2, "distance": "Dot"}}, timeout=30)
    before = names()
    stats = trio.run(trio_app.main, dev_server.url, 60, 10)
    assert stats == {"ok": 60, "deadline": 0}
    assert names() == before  # it touched only a collection of its own, and removed it


def test_examples_without_an_address_never_touch_a_server():
    """With no argument each example runs on an engine it starts itself. The process may not open
    a single TCP connection (no server on 6333 is needed, nor touched if one runs there)."""
    guard = (
        "import socket, runpy, sys\n"
        "def refuse(*a, **k): raise AssertionError(f'an example opened a connection: {a}')\n"
        "socket.socket.connect = socket.socket.connect_ex = refuse\n"
        "sys.argv = [sys.argv[1]]\n"
        "runpy.run_path(sys.argv[0], run_name='__main__')\n"
    )
    for example in ("quickstart.py", "trio_app.py"):
        out = subprocess.run(
            [sys.executable, "-c", guard, str(ROOT / "examples" / example)], capture_output=True, text=True, timeout=120
        )
        assert out.returncode == 0, (example, out.stderr)


@pytest.mark.anyio
async def test_bulk_ingest_reports_every_point(tmp_path):
    import bulk_ingest

    vectors = bulk_ingest.load_or_make(tmp_path / "v.npy", n=3000, dim=16)
    assert (tmp_path / "v.npy").exists()
    report, count = await bulk_ingest.ingest(np.asarray(vectors), path=str(tmp_path / "db"), progress=False)
    assert report.acknowledged == 3000 and report.failed == 0
    assert count == 3000


@pytest.mark.anyio
async def test_migrate_local_to_server_and_back(dev_server, tmp_path):
    import migrate

    from aqdrant import AsyncQdrantClient, models

    rng = np.random.default_rng(1)
    vecs = rng.random((700, 8), dtype=np.float32)
    name = f"mig_{id(tmp_path)}"
    async with AsyncQdrantClient(":memory:") as src, AsyncQdrantClient(url=dev_server.url) as remote:
        await src.create_collection(name, vectors_config=models.VectorParams(size=8, distance=models.Distance.EUCLID))
        await src.upsert(name, [models.PointStruct(id=i, vector=vecs[i], payload={"i": i}) for i in range(700)])
        reports = await migrate.migrate(src, remote, [name], batch_size=128)
        assert reports[name].acknowledged == 700
        async with AsyncQdrantClient(path=str(tmp_path / "back")) as back:
            await migrate.migrate(remote, back, [name])
            got = await back.retrieve(name, [5, 699], with_vectors=True)
            assert [r.payload["i"] for r in got] == [5, 699]
            assert np.allclose(got[1].vector, vecs[699], atol=1e-6)
            q = await back.query_points(name, query=vecs[42], limit=1)
            assert q.points[0].id == 42
        await remote.delete_collection(name)
