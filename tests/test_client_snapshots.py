"""Snapshot files through the client: streamed to disk and up from disk (fault server on 127.0.0.1)."""

from __future__ import annotations

import pytest
from fault_server import FaultServer, Reply, envelope

from aqdrant import AsyncQdrantClient, NotFound

pytestmark = pytest.mark.anyio


@pytest.fixture
def server():
    with FaultServer() as srv:
        yield srv


async def test_download_collection_and_shard_snapshots(server, tmp_path):
    data = bytes(range(256)) * 4096  # 1 MiB
    server.push(
        Reply(200, body=data, headers={"content-type": "application/octet-stream"}, parts=[data[:1000], data[1000:]]),
        Reply(200, body=b"shard", headers={"content-type": "application/octet-stream"}),
        Reply(404, body={"status": {"error": "Snapshot x not found"}, "time": 0}),
    )
    async with AsyncQdrantClient(url=server.url, check_compatibility=False) as client:
        out = await client.download_snapshot("c", "s1.snapshot", tmp_path / "a.snapshot")
        assert out.read_bytes() == data
        out = await client.download_snapshot("c", "s2.snapshot", tmp_path / "b.snapshot", shard_id=3)
        assert out.read_bytes() == b"shard"
        with pytest.raises(NotFound, match="Snapshot x not found"):
            await client.download_snapshot("c", "x", tmp_path / "c.snapshot")
    paths = [r.path for r in server.requests]
    assert paths == [
        "/collections/c/snapshots/s1.snapshot",
        "/collections/c/shards/3/snapshots/s2.snapshot",
        "/collections/c/snapshots/x",
    ]


async def test_upload_snapshot_streams_the_file_as_multipart(server, tmp_path):
    snap = tmp_path / "up.snapshot"
    snap.write_bytes(b"\x00snapshot-bytes\xff" * 1000)
    server.push(Reply(200, body=envelope(True)))
    async with AsyncQdrantClient(url=server.url, check_compatibility=False) as client:
        assert await client.upload_snapshot("c", snap, priority="snapshot") is True
    rec = server.requests[0]
    assert rec.method == "POST" and rec.path == "/collections/c/snapshots/upload"
    assert rec.query == {"wait": "true", "priority": "snapshot"}
    assert rec.headers["content-type"].startswith("multipart/form-data")
    assert b'name="snapshot"' in rec.body and snap.read_bytes() in rec.body
