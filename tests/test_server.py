"""The dev server's HTTP layer over a scripted backend: routing from the operation table,
decoding, Qdrant's envelopes and status codes, auth, timeouts, and resilience.

The engine-backed behaviour is covered by tests/test_e2e*.py; here the backend records what the
server handed it, so each decoding rule is checked on its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import anyio
import contract
import httpx
import pytest

from aqdrant import models
from aqdrant._backend import Request
from aqdrant._operations import OPERATIONS
from aqdrant.errors import (
    BadRequest,
    Conflict,
    NotFound,
    TransportError,
    UnsupportedOperation,
    ValidationError,
)
from aqdrant.models import _codec
from aqdrant.server import ServerThread

API_KEY = "s3cret"


class ScriptedBackend:
    """Answers by operation name; remembers every request it was given."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.closed = False

    async def execute(self, request: Request) -> Any:
        self.requests.append(request)
        name = request.op.name
        coll = request.collection
        if coll == "missing":
            raise NotFound(404, f"Not found: Collection `{coll}` doesn't exist!")
        if coll == "taken" and name == "create_collection":
            raise Conflict(409, f"Wrong input: Collection `{coll}` already exists!")
        if coll == "bad":
            raise BadRequest(400, "Wrong input: Vector dimension error: expected dim: 4, got 3")
        if coll == "slow":
            await anyio.sleep(3600)
        if coll == "boom":
            raise RuntimeError("engine exploded")
        if coll == "invalid":
            raise ValidationError("bad vector", path="$.points[0].vector")
        if coll == "down":  # what the local backend raises while its engine process restarts
            raise TransportError("the engine process exited", sent=True)
        if name == "get_collections":
            return models.CollectionsResponse(collections=[models.CollectionDescription(name="a")])
        if name in ("upsert_points", "update_vectors", "set_payload", "delete_points"):
            status = (
                models.UpdateStatus.COMPLETED
                if request.query.get("wait")
                else models.UpdateStatus.ACKNOWLEDGED
            )
            return models.UpdateResult(operation_id=7, status=status)
        if name == "get_point":
            return models.Record(id=request.path_params["id"], payload={"k": 1})
        if name == "count_points":
            return models.CountResult(count=3)
        if name in ("create_collection", "delete_collection", "update_aliases"):
            return True
        raise UnsupportedOperation(f"{name} is not supported by the scripted backend")

    async def aclose(self) -> None:
        self.closed = True


@pytest.fixture(scope="module")
def fake():
    backend = ScriptedBackend()
    with ServerThread(backend=backend) as srv:
        yield srv, backend
    assert backend.closed, "the backend is closed when the server stops"


@pytest.fixture
def http(fake):
    srv, _ = fake
    with httpx.Client(base_url=srv.url, timeout=30) as c:
        yield c


def call(
    http: httpx.Client,
    op_name: str,
    path: str,
    *,
    json_body: Any = None,
    content: bytes | None = None,
    **kw: Any,
):
    op = OPERATIONS[op_name]
    r = http.request(op.method, path, json=json_body, content=content, **kw)
    if r.headers.get("content-type", "").startswith("application/json"):
        contract.validate_response(op_name, r.status_code, r.json())
    return r


def error_of(r: httpx.Response) -> str:
    return r.json()["status"]["error"]


def test_root_and_probes(http):
    r = call(http, "root", "/")
    assert r.status_code == 200
    assert r.json()["title"] == "qdrant - vector search engine" and r.json()["version"] == "1.19.0"
    for probe in ("/healthz", "/livez", "/readyz"):
        r = http.get(probe)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain") and r.text


def test_envelope_and_result(http):
    r = call(http, "get_collections", "/collections")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["result"] == {"collections": [{"name": "a"}]}
    assert isinstance(body["time"], float) and body["time"] >= 0


def test_body_is_decoded_into_the_operation_model(http, fake):
    _, backend = fake
    r = call(
        http,
        "create_collection",
        "/collections/c1?timeout=5",
        json_body={"vectors": {"size": 4, "distance": "Cosine"}},
    )
    assert r.status_code == 200 and r.json()["result"] is True
    req = backend.requests[-1]
    assert req.op.name == "create_collection" and req.path_params == {"collection_name": "c1"}
    assert isinstance(req.body, models.CreateCollection)
    assert isinstance(req.body.vectors, models.VectorParams) and req.body.vectors.size == 4
    assert req.query == {"timeout": 5}
    assert req.deadline is not None


def test_query_params_decoded_by_type(http, fake):
    _, backend = fake
    body = {"points": [{"id": 1, "vector": [0.1, 0.2]}]}
    r = call(http, "upsert_points", "/collections/c/points?wait=true&ordering=strong", json_body=body)
    assert r.status_code == 200 and r.json()["result"]["status"] == "completed"
    assert backend.requests[-1].query == {"wait": True, "ordering": models.WriteOrdering.STRONG}
    r = call(http, "upsert_points", "/collections/c/points?wait=false", json_body=body)
    assert r.json()["result"]["status"] == "acknowledged"
    assert backend.requests[-1].query == {"wait": False}
    r = call(http, "count_points", "/collections/c/points/count?consistency=2", json_body={})
    assert r.status_code == 200 and backend.requests[-1].query == {"consistency": 2}
    r = call(http, "count_points", "/collections/c/points/count?consistency=majority", json_body={})
    assert backend.requests[-1].query == {"consistency": models.ReadConsistencyType.MAJORITY}


@pytest.mark.parametrize(
    "query, field",
    [
        ("wait=maybe", "wait"),
        ("ordering=chaotic", "ordering"),
        ("timeout=soon", "timeout"),
    ],
)
def test_bad_query_params_are_400_naming_the_parameter(http, query, field):
    # (a value that reads but breaks a rule - timeout=0 - is Qdrant's 422: test_fidelity_server.py)
    r = call(http, "upsert_points", f"/collections/c/points?{query}", json_body={"points": []})
    assert r.status_code == 400
    assert field in error_of(r)


def test_path_params_decoded(http, fake):
    _, backend = fake
    r = call(http, "get_point", "/collections/c/points/42")
    assert r.status_code == 200 and r.json()["result"]["id"] == 42
    assert backend.requests[-1].path_params == {"collection_name": "c", "id": 42}
    u = "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"
    r = call(http, "get_point", f"/collections/c/points/{u}")
    assert r.json()["result"]["id"] == u
    r = call(http, "get_point", "/collections/c/points/not-an-id")
    assert r.status_code == 400 and "id" in error_of(r)
    r = call(http, "list_shard_snapshots", "/collections/c/shards/zero/snapshots")
    assert r.status_code == 400 and "shard_id" in error_of(r)


def test_shard_id_is_an_int(http, fake):
    _, backend = fake
    r = call(http, "list_shard_snapshots", "/collections/c/shards/3/snapshots")
    assert r.status_code == 501
    assert backend.requests[-1].path_params == {"collection_name": "c", "shard_id": 3}


@pytest.mark.parametrize(
    "body, field",
    [
        (b'{"points": [{"id": 1, "vector": [0.1, "x"]}]}', "points[0].vector"),
        (b'{"points": [{"vector": [0.1]}]}', "id"),
        (b'{"points": {"id": 1}}', "points"),
        (b'{"points": [', "JSON"),
        (b"", "JSON"),
        (b"[]", "got `array` - at `$`"),
    ],
)
def test_malformed_bodies_are_400_naming_the_field(http, body, field):
    r = call(http, "upsert_points", "/collections/c/points", content=body)
    assert r.status_code == 400, r.text
    assert field in error_of(r)


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"points":' + b'{"a":' * 50_000 + b"1" + b"}" * 50_000 + b"}",
        b"\xff\xfe\x00garbage",
        b'{"points": [{"id": 1, "vector": [1e999]}]}',
    ],
)
def test_hostile_bodies_are_400(http, body):
    r = call(http, "upsert_points", "/collections/c/points", content=body)
    assert r.status_code == 400, r.text
    assert call(http, "get_collections", "/collections").status_code == 200


@pytest.mark.parametrize("path", ["/collections/c/points/search", "/collections/c/points/recommend"])
def test_hostile_bodies_on_deprecated_routes_are_400(http, path):
    """The deprecated routes read the body themselves before the query model: nesting deep
    enough to exhaust the decoder is Qdrant's 400 there too, not a 500."""
    body = b'{"vector":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    r = http.post(path, content=body)
    assert r.status_code == 400, r.text
    assert error_of(r).startswith("Format error in JSON body")


@pytest.mark.parametrize(
    "op_name, path, extra",
    [
        ("upsert_points", "/collections/c/points?wait=true", {"payload": {"k": 1}}),  # a union: parsed whole
        ("update_vectors", "/collections/c/points/vectors", {}),  # a struct: its points in slices
    ],
)
def test_large_body_over_the_offload_threshold_is_decoded_and_validated(http, fake, monkeypatch, op_name, path, extra):
    """A body over the threshold is parsed off the loop by the REST codec, as the client parses a
    large reply: the same model as a whole parse, the same error text."""
    _, backend = fake
    body_type = OPERATIONS[op_name].body_type
    sliced = []
    parse_sliced = _codec.parse_sliced
    monkeypatch.setattr(_codec, "parse_sliced", lambda tp, data: sliced.append(tp) or parse_sliced(tp, data))
    points = [{"id": i, "vector": [0.5] * 128, **extra} for i in range(3000)]  # about 1.5 MB
    r = call(http, op_name, path, json_body={"points": points})
    assert r.status_code == 200, r.text
    assert sliced == [body_type]
    assert backend.requests[-1].body == models.parse(body_type, {"points": points})
    points[2999]["vector"][127] = "x"
    r = call(http, op_name, path, json_body={"points": points})
    with pytest.raises(ValidationError) as whole:
        models.parse(body_type, {"points": points})
    assert r.status_code == 400 and error_of(r) == f"Format error in JSON body: {whole.value}"
    assert "points[2999].vector" in error_of(r)


def test_head_is_served_like_get(http):
    r = http.head("/collections")
    assert r.status_code == 200 and r.content == b""


def test_backend_errors_keep_their_status_and_message(http):
    r = call(http, "get_collection", "/collections/missing")
    assert r.status_code == 404 and "missing" in error_of(r)
    r = call(http, "create_collection", "/collections/taken", json_body={})
    assert r.status_code == 409 and "already exists" in error_of(r)
    r = call(http, "upsert_points", "/collections/bad/points", json_body={"points": []})
    assert r.status_code == 400 and "dimension" in error_of(r)
    r = call(http, "upsert_points", "/collections/invalid/points", json_body={"points": []})
    assert r.status_code == 400 and "bad vector" in error_of(r)
    # an engine that is down is 503 (a client waits and retries), not a 500 (a rejection)
    r = call(http, "upsert_points", "/collections/down/points", json_body={"points": []})
    assert r.status_code == 503 and "engine process exited" in error_of(r)


def test_unsupported_operations_are_501_never_fake_success(http):
    # (the service endpoints - /cluster, /telemetry, /metrics, /issues - are answered by the
    # server itself: tests/test_fidelity_server.py)
    for op_name, _method, path in [
        ("list_full_snapshots", "GET", "/snapshots"),
        ("create_snapshot", "POST", "/collections/c/snapshots"),
        ("collection_cluster_info", "GET", "/collections/c/cluster"),
    ]:
        r = call(http, op_name, path)
        assert r.status_code == 501, (op_name, r.text)
        assert op_name in error_of(r)
    r = http.post("/collections/c/snapshots/upload", files={"snapshot": ("s.snapshot", b"xx")})
    assert r.status_code == 501 and "multipart" in error_of(r)


def test_timeout_parameter_bounds_the_call(http):
    r = call(http, "count_points", "/collections/slow/points/count?timeout=1", json_body={})
    assert r.status_code == 408
    assert "Timeout" in error_of(r)


def test_unexpected_exception_is_500_and_server_keeps_serving(http):
    r = call(http, "get_collection", "/collections/boom")
    assert r.status_code == 500 and "engine exploded" in error_of(r)
    assert call(http, "get_collections", "/collections").status_code == 200


def test_unknown_routes_and_methods(http):
    r = http.get("/no/such/route")
    assert r.status_code == 404 and error_of(r)
    r = http.post("/collections")
    assert r.status_code == 405 and error_of(r)


def test_literal_route_wins_over_template(http, fake):
    _, backend = fake
    r = call(http, "update_aliases", "/collections/aliases", json_body={"actions": []})
    assert r.status_code == 200
    assert backend.requests[-1].op.name == "update_aliases"


# ---- auth -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def guarded():
    with ServerThread(backend=ScriptedBackend(), api_key=API_KEY) as srv:
        yield srv


def test_api_key(guarded):
    with httpx.Client(base_url=guarded.url) as c:
        r = c.get("/collections")
        assert r.status_code == 401 and "API key" in error_of(r)
        contract.validate_response("get_collections", 401, r.json())
        r = c.get("/collections", headers={"api-key": "wrong"})
        assert r.status_code == 403
        contract.validate_response("get_collections", 403, r.json())
        r = c.get("/collections", headers={"authorization": "Bearer wrong"})
        assert r.status_code == 403
        r = c.get("/collections", headers={"authorization": "Basic " + API_KEY})
        assert r.status_code == 403
        assert c.get("/collections", headers={"api-key": API_KEY}).status_code == 200
        assert c.get("/collections", headers={"Authorization": f"Bearer {API_KEY}"}).status_code == 200
        # root and the probes stay open, as in Qdrant
        assert c.get("/").status_code == 200
        assert c.get("/healthz").status_code == 200 and c.get("/readyz").status_code == 200


def test_credentials_are_not_forwarded_to_the_backend(guarded):
    backend = guarded.app.state.server.backend
    with httpx.Client(base_url=guarded.url) as c:
        c.get("/collections", headers={"api-key": API_KEY, "x-trace": "t1"})
    headers = backend.requests[-1].headers
    assert headers.get("x-trace") == "t1" and "api-key" not in headers


# ---- command line -----------------------------------------------------------------------------
def test_command_line_serves_and_announces_its_address(tmp_path):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aqdrant.server",
            "--port",
            "0",
            "--grpc-port",  # both ports free ones: the default 6334 may be held by another program
            "0",
            "--api-key",
            API_KEY,
            "--path",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = proc.stdout.readline()
        assert "listening on http://127.0.0.1:" in line, (line, proc.poll())
        url = line.split("listening on ")[1].split()[0]
        r = httpx.get(url + "/", timeout=30)
        assert r.status_code == 200 and r.json()["version"] == "1.19.0"
        assert httpx.get(url + "/collections", timeout=30).status_code == 401
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode is not None


def test_aqdrant_serve_help_lists_options():
    from aqdrant.__main__ import main

    with pytest.raises(SystemExit) as ei:
        main(["serve", "--help"])
    assert ei.value.code == 0


def test_port_in_use_is_a_clear_error(fake, capsys):
    from aqdrant.server import main

    srv, _ = fake
    assert main(["--port", str(srv.port)]) == 1
    assert "cannot listen" in capsys.readouterr().err


def test_listening_socket_is_tcp_so_connections_get_nodelay():
    """asyncio sets TCP_NODELAY on accepted connections only for IPPROTO_TCP sockets; without it
    every keep-alive response stalls on a delayed ACK."""
    import socket

    from aqdrant.server import bind

    sock = bind("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()
