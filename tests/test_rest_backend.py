"""The REST backend and the pipeline against a real HTTP server on 127.0.0.1 (tests/fault_server.py)."""

from __future__ import annotations

import io
import json
import logging
import threading
import traceback

import anyio
import numpy as np
import pytest
from fault_server import FaultServer, Reply, Reset, Stall, envelope, error_body, unused_port

import aqdrant
from aqdrant import (
    BadRequest,
    Conflict,
    DeadlineExceeded,
    NotFound,
    RateLimited,
    RetryPolicy,
    ServerError,
    TransportError,
    Unauthorized,
    ValidationError,
    models,
    request_headers,
)
from aqdrant._pipeline import Pipeline
from aqdrant.models import _codec
from aqdrant.rest import RestBackend, base_url
from aqdrant.rest import backend as rest_backend

SECRET = "sk-rest-secret-api-key-9876"
FAST = RetryPolicy(max_attempts=3, backoff_base=0.001, backoff_max=0.002)
CP = {"collection_name": "things"}


@pytest.fixture
def server():
    with FaultServer() as s:
        yield s


@pytest.fixture
async def pipeline(server):
    p = Pipeline(RestBackend(server.url), retry=FAST)
    yield p
    await p.aclose()


# -- decoding and encoding --------------------------------------------------------------------


@pytest.mark.anyio
async def test_envelope_decoded_into_result_type(server, pipeline):
    server.push(Reply(200, envelope({"collections": [{"name": "a"}, {"name": "b"}]})))
    result = await pipeline.execute("get_collections")
    assert isinstance(result, models.CollectionsResponse)
    assert [c.name for c in result.collections] == ["a", "b"]
    rec = server.requests[0]
    assert (rec.method, rec.path) == ("GET", "/collections")
    assert rec.headers["user-agent"].startswith("aqdrant/")


@pytest.mark.anyio
async def test_json_text_and_binary_responses(server, pipeline):
    server.push(Reply(200, {"title": "qdrant - vector search engine", "version": "1.19.0"}))
    info = await pipeline.execute("root")
    assert isinstance(info, models.VersionInfo) and info.version == "1.19.0"
    server.push(Reply(200, "healthz check passed", headers={"content-type": "text/plain"}))
    assert await pipeline.execute("healthz") == "healthz check passed"
    server.push(Reply(200, b"\x00\x01binary", headers={"content-type": "application/octet-stream"}))
    got = await pipeline.execute("get_snapshot", path_params={"collection_name": "c", "snapshot_name": "s"})
    assert got == b"\x00\x01binary"


@pytest.mark.anyio
async def test_invalid_response_is_a_validation_error_naming_the_operation(server, pipeline):
    server.push(Reply(200, envelope({"collections": "nope"})))
    with pytest.raises(ValidationError, match="get_collections") as info:
        await pipeline.execute("get_collections")
    assert info.value.path is not None
    server.push(Reply(200, b"{not json"))
    with pytest.raises(ValidationError, match="get_collections"):
        await pipeline.execute("get_collections")


@pytest.mark.anyio
async def test_url_query_and_json_body(server, pipeline):
    body = models.PointsList(
        points=[models.PointStruct(id=1, vector=np.array([0.5, 0.25], dtype=np.float32), payload={"k": "v"})]
    )
    server.push(Reply(200, envelope({"operation_id": 7, "status": "completed"})))
    result = await pipeline.execute(
        "upsert_points",
        path_params={"collection_name": "my coll/x"},
        query={"wait": True, "ordering": models.WriteOrdering.STRONG, "timeout": None},
        body=body,
    )
    assert isinstance(result, models.UpdateResult) and result.operation_id == 7
    rec = server.requests[0]
    assert rec.method == "PUT"
    assert rec.path == "/collections/my%20coll%2Fx/points"
    assert rec.query == {"wait": "true", "ordering": "strong"}
    assert rec.headers["content-type"] == "application/json"
    assert rec.json() == {"points": [{"id": 1, "vector": [0.5, 0.25], "payload": {"k": "v"}}]}
    server.push(Reply(200, envelope(True)))
    await pipeline.execute("delete_collection", path_params=CP, query={"timeout": 3})
    assert server.requests[1].query == {"timeout": "3"}
    assert server.requests[1].body == b""


@pytest.mark.anyio
async def test_prefix_and_base_url(server):
    p = Pipeline(RestBackend(host="127.0.0.1", port=server.port, prefix="/qdrant/"))
    server.push(Reply(200, envelope({"collections": []})))
    await p.execute("get_collections")
    assert server.requests[0].path == "/qdrant/collections"
    await p.aclose()
    assert base_url("localhost") == "http://localhost:6333"
    assert base_url("https://x.cloud.example:443/") == "https://x.cloud.example:443"
    assert base_url(host="h", https=True, port=None) == "https://h"
    assert base_url("http://h:1", prefix="p") == "http://h:1/p"
    with pytest.raises(ValueError):
        base_url("http://h", host="h")


def test_nothing_bound_to_a_loop_at_construction():
    backend = RestBackend("http://127.0.0.1:1")
    assert backend._client is None
    assert "127.0.0.1" in repr(backend)


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("code", "kind"),
    [(400, BadRequest), (401, Unauthorized), (403, Unauthorized), (404, NotFound), (409, Conflict),
     (422, BadRequest), (500, ServerError)],
)
async def test_error_status_names_operation_collection_and_server_message(server, pipeline, code, kind):
    server.push(Reply(code, error_body(f"Wrong input: thing {code} went wrong")))
    with pytest.raises(kind) as info:
        await pipeline.execute("get_collection", path_params=CP)
    err = info.value
    assert err.status_code == code
    assert err.operation == "get_collection"
    assert err.collection == "things"
    assert err.server_message == f"Wrong input: thing {code} went wrong"
    for part in ("get_collection", "'things'", str(code), f"thing {code} went wrong"):
        assert part in str(err)
    assert len(server.requests) == 1  # never retried


@pytest.mark.anyio
async def test_error_without_json_keeps_truncated_body_text(server, pipeline):
    server.push(Reply(502, "<html>bad gateway</html>" + "x" * 10_000, headers={"content-type": "text/html"}))
    pipeline.retry = RetryPolicy.none()
    with pytest.raises(ServerError) as info:
        await pipeline.execute("get_collections")
    assert info.value.server_message.startswith("<html>bad gateway</html>")
    assert len(info.value.server_message) < 2100
    assert info.value.content.startswith(b"<html>")


# -- retries over the wire ---------------------------------------------------------------------


@pytest.mark.anyio
async def test_idempotent_retried_on_503_then_succeeds(server, pipeline):
    server.push(Reply(503, error_body("busy")), Reply(503, error_body("busy")),
                Reply(200, envelope({"collections": []})))
    await pipeline.execute("get_collections")
    assert len(server.requests) == 3


@pytest.mark.anyio
async def test_non_idempotent_not_retried_on_503(server, pipeline):
    server.push(Reply(503, error_body("busy")), Reply(200, envelope(True)))
    with pytest.raises(ServerError) as info:
        await pipeline.execute("create_collection", path_params=CP, body=models.CreateCollection())
    assert len(server.requests) == 1
    assert len(info.value.attempts) == 1


@pytest.mark.anyio
async def test_reset_retried_for_idempotent_only(server, pipeline):
    server.push(Reset(), Reset(), Reply(200, envelope({"collections": []})))
    await pipeline.execute("get_collections")
    assert len(server.requests) == 3

    server.requests.clear()
    server.push(Reset(), Reply(200, envelope(True)))
    with pytest.raises(TransportError) as info:
        await pipeline.execute("create_collection", path_params=CP, body=models.CreateCollection())
    assert info.value.sent is True
    assert "create_collection" in str(info.value) and "things" in str(info.value)
    assert len(server.requests) == 1


@pytest.mark.anyio
async def test_resets_exhaust_attempts_and_keep_every_error(server, pipeline):
    server.push(Reset(), Reset(), Reset(), Reply(200))
    with pytest.raises(TransportError) as info:
        await pipeline.execute("get_collections")
    assert len(info.value.attempts) == 3
    assert all(isinstance(e, TransportError) and e.sent for e in info.value.attempts)
    assert len(server.requests) == 3


@pytest.mark.anyio
async def test_connect_failure_retries_even_non_idempotent():
    port = unused_port()
    started: list[FaultServer] = []

    def come_up(op, attempt, error, delay):
        assert isinstance(error, TransportError) and error.sent is False
        if not started:
            started.append(FaultServer(port=port))

    p = Pipeline(RestBackend(f"http://127.0.0.1:{port}"), retry=FAST, on_retry=come_up)
    try:
        assert await p.execute("create_collection", path_params=CP, body=models.CreateCollection()) is True
        assert len(started[0].requests) == 1
    finally:
        await p.aclose()
        for s in started:
            s.close()


@pytest.mark.anyio
async def test_connect_failure_reported_as_not_sent():
    p = Pipeline(RestBackend(f"http://127.0.0.1:{unused_port()}"), retry=FAST)
    with pytest.raises(TransportError) as info:
        await p.execute("create_collection", path_params=CP, body=models.CreateCollection())
    assert info.value.sent is False
    assert len(info.value.attempts) == 3
    await p.aclose()


@pytest.mark.anyio
async def test_retry_after_honoured(server, pipeline):
    pipeline.retry = RetryPolicy(backoff_base=0.001, backoff_max=0.001)
    server.push(Reply(429, error_body("slow down"), headers={"Retry-After": "1"}),
                Reply(200, envelope({"collections": []})))
    await pipeline.execute("get_collections")
    assert len(server.requests) == 2
    assert server.requests[1].at - server.requests[0].at >= 0.95


@pytest.mark.anyio
async def test_rate_limited_carries_retry_after_and_is_not_waited_past_the_deadline(server, pipeline):
    server.push(Reply(429, error_body("slow down"), headers={"Retry-After": "30"}))
    with pytest.raises(RateLimited) as info:
        await pipeline.execute("get_collections", timeout=2)
    assert info.value.retry_after == 30
    assert info.value.server_message == "slow down"
    assert len(server.requests) == 1


# -- deadline ----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_deadline_bounds_a_stalling_server(server, pipeline):
    server.push(Stall(10))
    start = anyio.current_time()
    with pytest.raises(DeadlineExceeded) as info:
        await pipeline.execute("upsert_points", path_params=CP, body=models.PointsList(points=[]), timeout=0.3)
    assert anyio.current_time() - start >= 0.29  # the deadline, not the 10 s stall, ended it
    assert info.value.operation == "upsert_points"
    assert server.requests[0].query["timeout"] == "1"  # the budget was forwarded


@pytest.mark.anyio
async def test_deadline_spans_retries_against_a_flaky_server(server, pipeline):
    pipeline.retry = RetryPolicy(max_attempts=50, backoff_base=0.05, backoff_max=0.05, jitter=False)
    server.default = Reply(503, error_body("busy"))
    # either the budget runs out mid-attempt, or the next backoff would cross it and the call
    # gives up early with the last server error; both within the budget (50 attempts, 2.5 s of
    # backoff alone, would be past it)
    with pytest.raises((DeadlineExceeded, ServerError)) as info:
        await pipeline.execute("get_collections", timeout=0.5)
    assert len(info.value.attempts) >= 3
    assert len(server.requests) < 50


@pytest.mark.anyio
async def test_cancelled_call_leaves_the_pool_usable(server):
    p = Pipeline(RestBackend(server.url, pool_size=1), retry=FAST)
    # every request stalls but the last one: chosen by a header, not by arrival order (on a
    # loaded machine a cancelled request may reach the server late, or never)
    ok = Reply(200, envelope({"collections": [{"name": "ok"}]}))
    server.default = lambda rec: ok if rec.headers.get("x-call") == "last" else Stall(10)
    with anyio.move_on_after(0.2):
        await p.execute("get_collections")
    with pytest.raises(DeadlineExceeded):
        await p.execute("get_collections", timeout=0.2)
    with anyio.fail_after(30):  # generous: only a pool slot never given back would hang here
        result = await p.execute("get_collections", headers={"x-call": "last"})
    assert result.collections[0].name == "ok"
    await p.aclose()


# -- headers and secrets -------------------------------------------------------------------------


@pytest.mark.anyio
async def test_headers_from_all_sources_arrive(server):
    p = Pipeline(
        RestBackend(server.url),
        headers={"X-Client": "c", "X-Override": "client"},
        api_key=SECRET,
        auth_token_provider=lambda: "tkn",
    )
    server.push(Reply(200, envelope({"collections": []})))
    with request_headers({"X-Scope": "s", "x-override": "scope", "X-Trace": "t1"}):
        await p.execute("get_collections", headers={"X-OVERRIDE": "call"})
    h = server.requests[0].headers
    assert (h["x-client"], h["x-scope"], h["x-trace"], h["x-override"]) == ("c", "s", "t1", "call")
    assert h["api-key"] == SECRET
    assert h["authorization"] == "Bearer tkn"
    await p.aclose()


@pytest.mark.anyio
async def test_api_key_never_in_repr_logs_or_exception_text(server, caplog):
    backend = RestBackend(server.url)
    p = Pipeline(backend, api_key=SECRET, retry=FAST)
    server.push(Reply(503, error_body(f"echo {SECRET}")), Reset(), Reply(401, error_body("wrong api key")))
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(Unauthorized) as info:
            await p.execute("get_collection", path_params=CP)
        with pytest.raises(DeadlineExceeded) as late:
            server.push(Stall(5))
            await p.execute("get_collection", path_params=CP, timeout=0.1)
    assert server.requests[0].headers["api-key"] == SECRET  # sent...
    assert "retrying get_collection" in caplog.text  # ...and the retries were logged
    texts = [repr(p), repr(backend), caplog.text]
    for err in (info.value, late.value, *info.value.attempts):
        texts += [str(err), repr(err), "".join(traceback.format_exception(err))]
    for text in texts:
        assert SECRET not in text
    await p.aclose()


# -- snapshots: streaming download and upload ----------------------------------------------------


@pytest.mark.anyio
async def test_download_streams_chunks_before_the_body_is_complete(server, pipeline):
    gate = threading.Event()
    first, rest = b"A" * 200_000, b"B" * 3_000_000
    server.push(Reply(200, parts=[first, rest], gate=gate, headers={"content-type": "application/octet-stream"}))
    got = bytearray()
    sp = {"collection_name": "c", "snapshot_name": "s.snapshot"}
    async with pipeline.stream("get_snapshot", path_params=sp) as chunks:
        async for chunk in chunks:
            if not gate.is_set():
                # the server holds back the rest until we have seen bytes: nothing buffers it all
                assert chunk and set(chunk) == {ord("A")}
                gate.set()
            got += chunk
    assert bytes(got) == first + rest
    assert server.requests[0].path == "/collections/c/snapshots/s.snapshot"


@pytest.mark.anyio
async def test_download_error_and_retry(server, pipeline):
    sp = {"collection_name": "c", "snapshot_name": "s"}
    server.push(Reply(503, error_body("busy")), Reply(200, b"data", headers={"content-type": "x/y"}))
    async with pipeline.stream("get_snapshot", path_params=sp) as chunks:
        assert b"".join([c async for c in chunks]) == b"data"
    server.push(Reply(404, error_body("Snapshot not found")))
    with pytest.raises(NotFound, match="Snapshot not found"):
        async with pipeline.stream("get_snapshot", path_params=sp):
            pass


@pytest.mark.anyio
async def test_download_deadline(server, pipeline):
    gate = threading.Event()
    server.push(Reply(200, parts=[b"A" * 1000, b"B" * 1000], gate=gate))
    sp = {"collection_name": "c", "snapshot_name": "s"}
    with pytest.raises(DeadlineExceeded):  # the reply's body is held back until the gate opens
        async with pipeline.stream("get_snapshot", path_params=sp, timeout=0.3) as chunks:
            async for _ in chunks:
                pass
    gate.set()


@pytest.mark.anyio
@pytest.mark.parametrize("source", ["path", "fileobj", "bytes"])
async def test_multipart_upload(server, pipeline, tmp_path, source):
    data = bytes(range(256)) * 5000
    path = tmp_path / "my.snapshot"
    path.write_bytes(data)
    body = {"path": path, "fileobj": None, "bytes": data}[source]
    fh = None
    if source == "fileobj":
        body = fh = open(path, "rb")  # noqa: SIM115
    try:
        result = await pipeline.execute(
            "recover_from_uploaded_snapshot", path_params=CP, query={"wait": True, "priority": "snapshot"}, body=body
        )
    finally:
        if fh is not None:
            fh.close()
    assert result is True
    rec = server.requests[0]
    assert rec.method == "POST" and rec.path == "/collections/things/snapshots/upload"
    assert rec.query == {"wait": "true", "priority": "snapshot"}
    ctype = rec.headers["content-type"]
    assert ctype.startswith("multipart/form-data; boundary=")
    boundary = ctype.split("boundary=")[1].encode()
    assert int(rec.headers["content-length"]) == len(rec.body)
    head, _, rest = rec.body.partition(b"\r\n\r\n")
    assert head.startswith(b"--" + boundary)
    assert b'name="snapshot"' in head
    if source != "bytes":
        assert b'filename="my.snapshot"' in head
    assert rest == data + b"\r\n--" + boundary + b"--\r\n"


@pytest.mark.anyio
async def test_multipart_unseekable_stream_is_chunked(server, pipeline):
    class Pipe(io.RawIOBase):
        def __init__(self, data):
            self._buf = io.BytesIO(data)

        def readable(self):
            return True

        def seekable(self):
            return False

        def read(self, n=-1):
            return self._buf.read(n)

    data = b"z" * 3_000_000
    await pipeline.execute("recover_from_uploaded_snapshot", path_params=CP, body=Pipe(data))
    rec = server.requests[0]
    assert rec.headers.get("transfer-encoding") == "chunked"
    assert data in rec.body


# -- large bodies: encoded on the loop in slices, decoded off it ----------------------------------


@pytest.mark.anyio
async def test_large_bodies_encoded_in_slices_between_loop_turns_and_decoded_off_the_loop(
    server, pipeline, monkeypatch
):
    main = threading.get_ident()
    threads = {}
    turns = [0]  # loop turns taken by another task while the body is encoded
    seen_at_slice: list[int] = []
    real_dump, real_decode = models.dump, rest_backend._decode

    def dump(obj):
        threads["encode"] = threading.get_ident()
        seen_at_slice.append(turns[0])
        return real_dump(obj)

    def decode(op, content, sliced=False):
        threads["decode"] = threading.get_ident()
        return real_decode(op, content, sliced)

    monkeypatch.setattr(rest_backend.models, "dump", dump)
    monkeypatch.setattr(rest_backend, "_decode", decode)
    server.default = Reply(200, envelope({"operation_id": 1, "status": "completed"}))
    rng = np.random.default_rng(0)
    points = [models.PointStruct(id=i, vector=rng.random(768).tolist()) for i in range(1000)]

    async def ticker():
        while True:
            turns[0] += 1
            await anyio.sleep(0)

    async with anyio.create_task_group() as tg:
        tg.start_soon(ticker)
        await pipeline.execute("upsert_points", path_params=CP, body=models.PointsList(points=points))
        tg.cancel_scope.cancel()
    assert threads["encode"] == main  # no thread hand-off: that costs more than it saves
    # many slices, and other tasks ran between them: the loop is never held for the whole body
    assert len(seen_at_slice) > 20 and len(set(seen_at_slice)) > 20
    assert len(server.requests[0].body) > rest_backend.OFFLOAD_THRESHOLD
    assert len(server.requests[0].json()["points"]) == 1000
    # sent slice by slice (never joined into one 15 MB object on the loop), not chunked
    assert server.requests[0].headers["content-length"] == str(len(server.requests[0].body))
    assert "transfer-encoding" not in server.requests[0].headers

    big = envelope({"points": [{"id": i, "version": 1, "score": 0.5, "vector": [0.1] * 768} for i in range(300)]})
    server.push(Reply(200, json.dumps(big).encode()))
    res = await pipeline.execute("query_points", path_params=CP, body=models.QueryRequest())
    assert threads["decode"] != main
    assert len(res.points) == 300

    # small bodies are encoded in one go
    seen_at_slice.clear()
    await pipeline.execute("upsert_points", path_params=CP, body=models.PointsList(points=points[:2]))
    assert len(seen_at_slice) == 1


def test_size_estimate_is_cheap_and_sane():
    small = models.PointsList(points=[models.PointStruct(id=1, vector=[0.1] * 4)])
    assert _codec.approx_size(small, 1 << 20) < 1000
    big = {"points": [{"id": i, "vector": np.zeros(768, dtype=np.float32)} for i in range(1000)]}
    assert _codec.approx_size(big, 1 << 20) > 1 << 20


@pytest.mark.anyio
async def test_closed_backend_refuses_calls(server):
    p = Pipeline(RestBackend(server.url))
    await p.aclose()
    with pytest.raises(aqdrant.QdrantError, match="closed"):
        await p.execute("get_collections")


@pytest.mark.anyio
async def test_downloads_give_their_connection_back(server):
    p = Pipeline(RestBackend(server.url, pool_size=1), retry=FAST)
    sp = {"collection_name": "c", "snapshot_name": "s"}
    gate = threading.Event()
    server.push(Reply(404, error_body("no such snapshot")), Reply(200, parts=[b"A" * 1000, b"B" * 1000], gate=gate))
    with pytest.raises(NotFound):
        async with p.stream("get_snapshot", path_params=sp):
            pass
    async with p.stream("get_snapshot", path_params=sp) as chunks:
        async for _ in chunks:
            break  # abandon the download half way
    gate.set()
    server.push(Reply(200, envelope({"collections": []})))
    with anyio.fail_after(3):
        await p.execute("get_collections")
    await p.aclose()


@pytest.mark.anyio
async def test_concurrent_calls_beyond_the_pool_size_all_complete(server):
    p = Pipeline(RestBackend(server.url, pool_size=2), retry=FAST)
    server.default = Reply(200, envelope({"collections": []}))
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            for _ in range(50):
                tg.start_soon(p.execute, "get_collections")
    assert len(server.requests) == 50
    assert server.connections <= 2
    await p.aclose()


def _shapes():
    rng = np.random.default_rng(1)
    points = [models.PointStruct(id=i, vector=rng.random(768).tolist(), payload={"i": i}) for i in range(400)]
    return {
        "points-list": models.PointsList(points=points, shard_key="k"),
        "batch": models.PointsBatch(batch=models.Batch(ids=list(range(400)), vectors=rng.random((400, 768)).tolist())),
        "batch-numpy": models.PointsBatch(
            batch=models.Batch(ids=list(range(400)), vectors=rng.random((400, 768), dtype=np.float32))
        ),
        "batch-named-numpy": models.PointsBatch(
            batch=models.Batch(
                ids=list(range(400)),
                vectors={"a": rng.random((400, 768), dtype=np.float32), "b": rng.random((400, 4))},
                payloads=[{"i": i} for i in range(400)],
            )
        ),
        "dict-numpy": {"points": [{"id": i, "vector": rng.random(768, dtype=np.float32)} for i in range(400)]},
        "nested-ops": models.UpdateOperations(operations=[models.UpsertOperation(upsert=models.PointsList(points=points))]),
        "small": models.PointsList(points=points[:1]),
    }


@pytest.mark.parametrize("shape", list(_shapes()))
def test_large_bodies_encoded_in_slices_give_the_same_bytes(shape, monkeypatch):
    body = _shapes()[shape]
    expected = models.dump(body)
    calls = []
    real_dump = models.dump
    monkeypatch.setattr(rest_backend.models, "dump", lambda o: calls.append(1) or real_dump(o))
    assert b"".join(_codec.encode_slices(body, slice_bytes=64 * 1024)) == expected
    if shape in ("points-list", "batch", "dict-numpy", "batch-numpy", "batch-named-numpy"):
        assert len(calls) > 10  # sliced: the GIL is let go between slices
    assert models.dump(body) == expected  # the body itself was not modified


def _points_json(n, with_score=True):
    rng = np.random.default_rng(2)
    pts = []
    for i in range(n):
        p = {"id": i, "version": 1, "payload": {"i": i}, "vector": rng.random(64).tolist()}
        if with_score:
            p["score"] = 0.5
        pts.append(p)
    return pts


@pytest.mark.parametrize(
    ("op_name", "result"),
    [
        ("query_points", {"points": _points_json(300)}),
        ("scroll_points", {"points": _points_json(300, with_score=False), "next_page_offset": 300}),
        ("get_points", _points_json(300, with_score=False)),
        ("query_batch_points", [{"points": _points_json(100)}, {"points": []}]),
        ("get_collections", {"collections": [{"name": "a"}]}),
    ],
)
def test_large_responses_parsed_in_slices_give_the_same_result(op_name, result, monkeypatch):
    from aqdrant._operations import OPERATIONS

    op = OPERATIONS[op_name]
    content = json.dumps(envelope(result)).encode()
    expected = rest_backend._decode(op, content)
    calls = []
    real_parse = models.parse
    monkeypatch.setattr(rest_backend.models, "parse", lambda *a: calls.append(1) or real_parse(*a))
    got = _codec.parse_sliced(op.result_type, json.dumps(result).encode(), slice_bytes=4096)
    assert got == expected
    if op_name in ("query_points", "scroll_points", "get_points"):
        assert len(calls) > 10


def test_sliced_parse_errors_keep_the_exact_path():
    from aqdrant._operations import OPERATIONS

    pts = _points_json(3000)
    pts[2500]["score"] = "high"
    content = json.dumps(envelope({"points": pts})).encode()
    with pytest.raises(ValidationError) as info:
        rest_backend._decode(OPERATIONS["query_points"], content, True)
    assert info.value.path == "$.points[2500].score"


def test_the_envelopes_the_dev_server_writes_read_back():
    """encode_envelope / encode_error (the dev server's replies) are what decode_result and
    server_message read."""
    from aqdrant._operations import OPERATIONS

    result = models.ScrollResult(points=[models.Record(id=1, payload={"a": 1})], next_page_offset=None)
    data = _codec.encode_envelope(result, 0.25)
    assert json.loads(data) == {"result": {"points": [{"id": 1, "payload": {"a": 1}}]}, "status": "ok", "time": 0.25}
    assert _codec.decode_result(OPERATIONS["scroll_points"], data) == result
    data = _codec.encode_error("Not found: Collection `c` doesn't exist!", 0.5)
    assert json.loads(data) == {"status": {"error": "Not found: Collection `c` doesn't exist!"}, "time": 0.5}
    assert _codec.server_message(data) == "Not found: Collection `c` doesn't exist!"


@pytest.mark.anyio
async def test_multipart_upload_from_an_async_file(server, pipeline, tmp_path):
    path = tmp_path / "a.snapshot"
    path.write_bytes(b"async-data" * 1000)
    async with await anyio.open_file(path, "rb") as f:
        assert await pipeline.execute("recover_from_uploaded_snapshot", path_params=CP, body=f) is True
    assert b"async-data" * 1000 in server.requests[0].body


@pytest.mark.anyio
async def test_download_by_plain_async_for_releases_the_connection(server):
    p = Pipeline(RestBackend(server.url, pool_size=1), retry=FAST)
    sp = {"collection_name": "c", "snapshot_name": "s"}
    server.push(Reply(200, b"x" * 100_000, headers={"content-type": "application/octet-stream"}))
    got = b"".join([c async for c in p.stream("get_snapshot", path_params=sp)])
    assert got == b"x" * 100_000
    server.push(Reply(200, envelope({"collections": []})))
    with anyio.fail_after(3):
        await p.execute("get_collections")
    await p.aclose()


@pytest.mark.anyio
async def test_unencodable_body_is_a_validation_error_and_nothing_is_sent(server, pipeline):
    with pytest.raises(ValidationError, match="upsert_points: cannot encode"):
        await pipeline.execute("upsert_points", path_params=CP, body={"points": [{"id": 1, "vector": object()}]})
    assert server.requests == []
