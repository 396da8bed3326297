"""gRPC without asyncio: ``AsyncQdrantClient(prefer_grpc=True)`` under trio speaks gRPC through
:class:`aqdrant.grpc._h2channel.H2Channel` (own HTTP/2 framing), against real grpclib servers running in
their own thread and loop: the dev server's gRPC endpoint, the fault-injection handlers of
tests/test_e2e_grpc.py, and small handlers of our own (echo, a dropped connection, TLS).

Client tests here are the h2 channel's own cases on trio (connection reuse after a stalled call,
a dropped connection, large messages, concurrency); the end-to-end scenarios and fault injection
run on both loops in test_e2e_grpc.py. The channel's own tests construct it directly and run on both backends.
Every client here has no usable REST fallback (or its gRPC calls are counted by the server), so a
pass cannot come from REST.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
from collections.abc import Iterator
from typing import Any

import anyio
import numpy as np
import pytest
import trustme
from grpc_servers import grpclib_thread
from test_e2e_grpc import Faulty

from aqdrant import AsyncQdrantClient, RetryPolicy, models
from aqdrant._backend import Request
from aqdrant._operations import OPERATIONS
from aqdrant.errors import (
    BadRequest,
    Conflict,
    DeadlineExceeded,
    NotFound,
    TransportError,
    Unauthorized,
)
from aqdrant.grpc._h2channel import ChannelError, GrpcStatusError, H2Channel, encode_timeout
from aqdrant.grpc._proto import qdrant as q
from aqdrant.grpc.backend import GrpcBackend
from aqdrant.server import ServerThread

pytestmark = pytest.mark.anyio
on_trio = pytest.mark.parametrize("anyio_backend", ["trio"])

DEAD_REST = "http://127.0.0.1:9"  # a REST fallback that cannot answer: gRPC or nothing


# ``srv``: the dev server with gRPC, from tests/conftest.py


class Extra(Faulty):
    """The e2e fault handlers plus: echo, a connection dropped mid-call, call overlap and peers."""

    def __init__(self) -> None:
        super().__init__()
        self.drop_left = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.peers: set[Any] = set()
        self.metadata: list[dict[str, Any]] = []
        self.deadlines: list[float | None] = []

    async def echo(self, stream: Any) -> None:
        data = await stream.recv_message()
        self.metadata.append(dict(stream.metadata))
        self.deadlines.append(stream.deadline.time_remaining() if stream.deadline else None)
        await stream.send_message(data[::-1])

    async def slow(self, stream: Any) -> None:
        data = await stream.recv_message()
        self.peers.add(stream.peer.addr())
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        await asyncio.sleep(0.2)  # long enough for the other calls to arrive meanwhile
        self.in_flight -= 1
        await stream.send_message(data)

    async def count(self, stream: Any) -> None:
        if self.drop_left:
            await stream.recv_message()
            self.calls["Count"] += 1
            self.drop_left -= 1
            stream._stream._transport.abort()  # the whole TCP connection, mid-call
            return
        await super().count(stream)

    def __mapping__(self) -> dict[str, Any]:
        from grpclib.const import Cardinality, Handler

        table = super().__mapping__()
        table["/test.Echo/Echo"] = Handler(self.echo, Cardinality.UNARY_UNARY, bytes, bytes)
        table["/test.Echo/Slow"] = Handler(self.slow, Cardinality.UNARY_UNARY, bytes, bytes)
        return table


@pytest.fixture
def extra() -> Iterator[tuple[int, Extra]]:
    handlers = Extra()
    with grpclib_thread([handlers]) as port:
        yield port, handlers


@contextlib.asynccontextmanager
async def grpc_only_client(port: int, **kw: Any):
    async with AsyncQdrantClient(
        url=DEAD_REST, prefer_grpc=True, grpc_port=port, check_compatibility=False, **kw
    ) as client:
        yield client


# ---------------------------------------------------------------------------------------------
# the client on trio against the dev server's gRPC endpoint


@on_trio
async def test_multi_megabyte_upsert_and_reply_concurrent_calls_on_one_connection(srv, anyio_backend) -> None:
    rng = np.random.default_rng(7)
    n, dim = 3000, 768  # ~9 MB each way: far beyond the default 64 KiB HTTP/2 windows
    vectors = rng.random((n, dim), dtype=np.float32)
    async with grpc_only_client(srv.grpc_port) as client:
        await client.create_collection(
            "trio-big", vectors_config=models.VectorParams(size=dim, distance="Dot")
        )
        res = await client.upsert("trio-big", models.Batch(ids=list(range(n)), vectors=vectors))
        assert res.status == models.UpdateStatus.COMPLETED
        channel = client._pipeline.backend._channel  # type: ignore[attr-defined]
        conn = channel._conn
        counts: list[int] = []

        async def count() -> None:
            counts.append((await client.count("trio-big")).count)

        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(count)
        assert counts == [n] * 20
        page, _ = await client.scroll("trio-big", limit=n, with_vectors=True, with_payload=False)
        got = np.array([p.vector for p in page], dtype=np.float32)
        assert [p.id for p in page] == list(range(n)) and np.array_equal(got, vectors)
        hits = (await client.query_points("trio-big", query=vectors[5], limit=3)).points
        assert len(hits) == 3 and hits[0].score == pytest.approx(float(vectors[5] @ vectors[5]), rel=1e-5)
        assert channel._conn is conn and not channel._old  # one connection served all of it
        assert await client.delete_collection("trio-big") is True


@on_trio
async def test_ingest_with_concurrent_senders_over_one_channel(srv, anyio_backend) -> None:
    from aqdrant.ingest import points_from_columns

    n = 2000
    vectors = np.random.default_rng(3).random((n, 64), dtype=np.float32)
    before = srv.grpc.calls["Points.Upsert"]
    async with grpc_only_client(srv.grpc_port) as client:
        await client.create_collection(
            "trio-ingest", vectors_config=models.VectorParams(size=64, distance="Dot")
        )
        async with client.ingest("trio-ingest", batch_size=100, concurrency=4) as sink:
            await sink.send_many(points_from_columns(vectors, [{"i": i} for i in range(n)], list(range(n))))
        assert sink.report.acknowledged == n and not sink.report.failed
        assert (await client.count("trio-ingest")).count == n
        assert await client.delete_collection("trio-ingest") is True
    assert srv.grpc.calls["Points.Upsert"] - before == n // 100


@on_trio
async def test_errors_are_typed_with_the_grpc_status(srv, anyio_backend) -> None:
    async with grpc_only_client(srv.grpc_port, validate_vectors=False) as client:
        await client.create_collection(
            "trio-typed", vectors_config=models.VectorParams(size=2, distance="Dot")
        )
        with pytest.raises(Conflict) as conflict:
            await client.create_collection(
                "trio-typed", vectors_config=models.VectorParams(size=2, distance="Dot")
            )
        assert conflict.value.grpc_status.name == "ALREADY_EXISTS"  # type: ignore[attr-defined]
        with pytest.raises(BadRequest) as bad:
            await client.upsert("trio-typed", [models.PointStruct(id=1, vector=[1.0, 2.0, 3.0])])
        assert bad.value.grpc_status.name == "INVALID_ARGUMENT"  # type: ignore[attr-defined]
        with pytest.raises(NotFound) as nf:
            await client.retrieve("trio-nope", [1])
        assert nf.value.grpc_status.name == "NOT_FOUND" and "trio-nope" in str(nf.value)  # type: ignore[attr-defined]
        assert await client.delete_collection("trio-typed") is True


@on_trio
async def test_api_key_travels_as_metadata_and_never_shows(anyio_backend) -> None:
    key = "trio-secret-key-123"
    with ServerThread(grpc_port=0, api_key=key) as keyed:
        async with grpc_only_client(keyed.grpc_port, api_key=key) as client:
            assert await client.collection_exists("x") is False
        assert keyed.grpc.calls["Collections.CollectionExists"] == 1
        async with grpc_only_client(keyed.grpc_port, api_key="wrong-key-456") as client:
            with pytest.raises(Unauthorized) as denied:
                await client.collection_exists("x")
        assert denied.value.grpc_status.name == "PERMISSION_DENIED"  # type: ignore[attr-defined]
        assert "wrong-key-456" not in str(denied.value) and "wrong-key-456" not in repr(denied.value)
        async with grpc_only_client(keyed.grpc_port) as client:
            with pytest.raises(Unauthorized):
                await client.collection_exists("x")


# ---------------------------------------------------------------------------------------------
# the client on trio against the fault-injection handlers of test_e2e_grpc.py


@on_trio
async def test_stalled_reply_vs_the_deadline_keeps_the_connection(extra, anyio_backend) -> None:
    port, faulty = extra
    async with grpc_only_client(port, retry=RetryPolicy(max_attempts=1)) as client:
        assert (await client.count("c")).count == 42
        channel = client._pipeline.backend._channel  # type: ignore[attr-defined]
        conn = channel._conn
        with pytest.raises(DeadlineExceeded):
            await client.scroll("c", timeout=0.3)
        assert faulty.calls["Scroll"] == 1
        assert (await client.count("c")).count == 42  # the same connection keeps serving
        assert channel._conn is conn and conn.error is None and not conn.calls
    async with grpc_only_client(port, retry=RetryPolicy(max_attempts=5, backoff_base=0.01)) as client:
        with pytest.raises(DeadlineExceeded):  # with retries on, still one budget for the call
            await client.scroll("c", timeout=0.5)


@on_trio
async def test_connection_dropped_mid_call_then_reconnect(extra, anyio_backend) -> None:
    port, faulty = extra
    async with grpc_only_client(port, retry=RetryPolicy(max_attempts=1)) as client:
        faulty.drop_left = 1
        with pytest.raises(TransportError) as dropped:
            await client.count("c")
        assert dropped.value.sent is True  # the server had the whole request: it may have acted
        assert "count_points" in str(dropped.value)
        assert (await client.count("c")).count == 42  # a new connection
    # an idempotent call rides over a drop with the pipeline's retry
    async with grpc_only_client(port, retry=RetryPolicy(max_attempts=2, backoff_base=0.0)) as client:
        faulty.drop_left = 1
        assert (await client.count("c")).count == 42
    assert faulty.calls["Count"] == 4


@on_trio
async def test_unreachable_server_is_a_transport_error_never_sent(anyio_backend) -> None:
    with grpclib_thread([Extra()]) as port:
        pass  # a port that was just free: nothing listens there now
    async with grpc_only_client(port, retry=RetryPolicy(max_attempts=1)) as client:
        with pytest.raises(TransportError) as refused:
            await client.create_collection("c", vectors_config=models.VectorParams(size=2, distance="Dot"))
    assert refused.value.sent is False


# ---------------------------------------------------------------------------------------------
# the channel itself, on both backends


async def test_channel_flow_control_both_ways_with_small_server_windows(anyio_backend) -> None:
    handlers = Extra()
    # the server allows 64 KiB in flight per stream and connection: a 5 MB message needs ~80
    # WINDOW_UPDATEs, and its 5 MB reply must fit through the client's windows
    with grpclib_thread(
        [handlers], http2_connection_window_size=65536, http2_stream_window_size=65536
    ) as port:
        channel = H2Channel("127.0.0.1", port)
        try:
            big = np.random.default_rng(1).bytes(5 * 1024 * 1024 + 3)
            replies = await _gather(lambda _: channel.unary("/test.Echo/Echo", big), 3)
            assert all(r == big[::-1] for r in replies)
            assert await channel.unary("/test.Echo/Echo", b"") == b""  # an empty message is a message
        finally:
            await channel.aclose()


async def test_channel_multiplexes_concurrent_calls_on_one_connection(extra, anyio_backend) -> None:
    port, handlers = extra
    channel = H2Channel("127.0.0.1", port)
    try:
        replies = await _gather(lambda _: channel.unary("/test.Echo/Slow", b"hi"), 20)
        assert replies == [b"hi"] * 20
        assert len(handlers.peers) == 1  # one TCP connection
        assert handlers.max_in_flight >= 10  # the calls overlapped on it
    finally:
        await channel.aclose()


async def test_channel_metadata_deadline_and_status(extra, anyio_backend) -> None:
    port, handlers = extra
    channel = H2Channel("127.0.0.1", port)
    try:
        deadline = anyio.current_time() + 30
        reply = await channel.unary(
            "/test.Echo/Echo", b"abc", metadata=[("api-key", "k1"), ("x-trace", "t")], deadline=deadline
        )
        assert reply == b"cba"
        assert handlers.metadata[0]["api-key"] == "k1" and handlers.metadata[0]["x-trace"] == "t"
        assert 0 < handlers.deadlines[0] <= 30  # grpc-timeout reached the server
        with pytest.raises(GrpcStatusError) as unimplemented:
            await channel.unary("/test.Echo/Missing", b"")
        assert unimplemented.value.code == 12
        handlers.exhausted_left = 1
        with pytest.raises(GrpcStatusError) as exhausted:
            await channel.unary("/qdrant.Points/Count", bytes(q.CountPoints(collection_name="c")))
        err = exhausted.value
        assert (err.code, err.message, err.metadata["retry-after"]) == (8, "rate limit", "0.4")
        assert "grpc-status" not in err.metadata and "content-type" not in err.metadata
        # a stalled reply: our timer or the server's (from grpc-timeout), whichever fires first
        with pytest.raises((TimeoutError, GrpcStatusError)) as stalled:
            await channel.unary("/qdrant.Points/Scroll", b"", deadline=anyio.current_time() + 0.2)
        assert getattr(stalled.value, "code", 4) == 4
        assert await channel.unary("/test.Echo/Echo", b"still") == b"llits"
    finally:
        await channel.aclose()
    with pytest.raises(ChannelError) as closed:
        await channel.unary("/test.Echo/Echo", b"x")
    assert closed.value.sent is False


async def test_channel_refuses_metadata_http2_cannot_carry_and_goes_on(extra, anyio_backend) -> None:
    port, handlers = extra
    channel = H2Channel("127.0.0.1", port)
    try:
        for metadata in ([("x-note", "line\r\nbreak-secret")], [("bad name", "v")], [("x-note", " padded")]):
            with pytest.raises(ValueError) as refused:
                await channel.unary("/test.Echo/Echo", b"no", metadata=metadata)
            assert "secret" not in str(refused.value) and "padded" not in str(refused.value)
        # the transport's own headers are not the caller's to set: dropped, not sent
        reply = await channel.unary(
            "/test.Echo/Echo", b"ok", metadata=[("te", "x"), (":path", "/other"), ("x-fine", "v")]
        )
        assert reply == b"ko" and handlers.metadata[-1]["x-fine"] == "v"
        assert "te" not in handlers.metadata[-1]
    finally:
        await channel.aclose()


async def test_channel_cancelled_call_leaves_the_connection_usable(extra, anyio_backend) -> None:
    port, handlers = extra
    channel = H2Channel("127.0.0.1", port)
    try:
        with anyio.move_on_after(0.2) as scope:
            await channel.unary("/qdrant.Points/Scroll", b"")
        assert scope.cancelled_caught
        conn = channel._conn
        assert await channel.unary("/test.Echo/Echo", b"ok") == b"ko"
        assert channel._conn is conn and not conn.calls
    finally:
        await channel.aclose()


async def test_channel_over_tls_and_mutual_tls(anyio_backend, tmp_path) -> None:
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    server_ctx.set_alpn_protocols(["h2"])
    ca.configure_trust(server_ctx)
    server_ctx.verify_mode = ssl.CERT_REQUIRED  # mTLS: the client must show a certificate
    bundle, pem = tmp_path / "ca.pem", tmp_path / "client.pem"
    ca.cert_pem.write_to_path(str(bundle))
    ca.issue_cert("aqdrant-client").private_key_and_cert_chain_pem.write_to_path(str(pem))
    with grpclib_thread([Extra()], ssl_context=server_ctx) as port:
        backend = GrpcBackend("127.0.0.1", port, ca_cert=str(bundle), client_cert=str(pem))
        try:
            assert repr(backend).startswith("GrpcBackend('grpcs://")
            result = await backend.execute(_request("get_collections"))
            assert [c.name for c in result.collections] == ["x"]
        finally:
            await backend.aclose()
        plain = H2Channel("127.0.0.1", port)  # h2c against a TLS port
        try:
            with pytest.raises(ChannelError), anyio.fail_after(10):
                await plain.unary("/test.Echo/Echo", b"x")
        finally:
            await plain.aclose()


class RawH2Server:
    """A bare HTTP/2 server (blocking sockets, the h2 library) in a thread, for what grpclib will
    not do on request: ``on_requests(conn, stream_ids)`` is called with each connection's first
    ``batch`` request streams (their bodies read) and writes whatever frames it likes."""

    def __init__(self, on_requests: Any, batch: int) -> None:
        import socket

        self.on_requests, self.batch = on_requests, batch
        self.connections = 0
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        import h2.config
        import h2.connection
        import h2.events

        while True:
            try:
                sock, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
            conn.initiate_connection()
            sock.sendall(conn.data_to_send())
            done: list[int] = []
            with sock:
                while len(done) < self.batch:
                    data = sock.recv(65536)
                    if not data:
                        break
                    for event in conn.receive_data(data):
                        if isinstance(event, h2.events.StreamEnded):
                            done.append(event.stream_id)
                    sock.sendall(conn.data_to_send())
                if len(done) == self.batch:
                    self.on_requests(conn, done)
                    sock.sendall(conn.data_to_send())
                    while sock.recv(65536):  # keep the connection open until the client leaves
                        pass

    @staticmethod
    def answer(conn: Any, sid: int, message: bytes) -> None:
        conn.send_headers(sid, [(":status", "200"), ("content-type", "application/grpc")])
        conn.send_data(sid, b"\x00" + len(message).to_bytes(4, "big") + message)
        conn.send_headers(sid, [("grpc-status", "0")], end_stream=True)

    def close(self) -> None:
        self._sock.close()


async def test_channel_goaway_and_refused_streams_are_not_sent(anyio_backend) -> None:
    import h2.errors

    def goaway_after_first(conn: Any, sids: list[int]) -> None:
        first, second, third = sorted(sids)
        RawH2Server.answer(conn, first, b"one")
        conn.reset_stream(second, h2.errors.ErrorCodes.REFUSED_STREAM)
        conn.close_connection(last_stream_id=second)  # GOAWAY: the third is never processed

    server = RawH2Server(goaway_after_first, batch=3)
    channel = H2Channel("127.0.0.1", server.port)
    try:

        async def call(i: int) -> Any:
            try:
                return await channel.unary("/t.T/M", b"x", deadline=anyio.current_time() + 30)
            except ChannelError as exc:
                return exc

        with anyio.fail_after(20):  # the unanswered call must not wait for its deadline
            results = await _gather(call, 3)
        replies = [r for r in results if isinstance(r, bytes)]
        errors = [r for r in results if isinstance(r, ChannelError)]
        assert replies == [b"one"] and len(errors) == 2
        assert all(e.sent is False for e in errors)  # safe to retry anywhere, even non-idempotent
        assert sorted(str(e) for e in errors) == [
            "the server is going away and did not take this call",
            "the server refused the stream",
        ]
        # the next call opens a new connection (the server answers it once three have come)
        results = await _gather(call, 3)
        assert server.connections == 2 and results.count(b"one") == 1
    finally:
        await channel.aclose()
        server.close()


async def test_channel_deadlines_fire_in_their_own_order(anyio_backend) -> None:
    """A server that never answers (nor enforces grpc-timeout): each call ends at its own
    deadline, also one that came later with an earlier deadline, and the connection stays."""
    server = RawH2Server(lambda conn, sids: None, batch=1000)
    channel = H2Channel("127.0.0.1", server.port)
    ended: list[str] = []
    try:

        async def call(name: str, seconds: float) -> None:
            with pytest.raises(TimeoutError):
                await channel.unary("/t.T/M", b"x", deadline=anyio.current_time() + seconds)
            ended.append(name)

        with anyio.fail_after(20):  # hang guard: the late deadline is 60 s away
            async with anyio.create_task_group() as tg:
                tg.start_soon(call, "late", 60)
                await anyio.wait_all_tasks_blocked()
                tg.start_soon(call, "early", 0.3)
                tg.start_soon(call, "earlier", 0.1)
                while len(ended) < 2:
                    await anyio.sleep(0.01)
                tg.cancel_scope.cancel()
        assert ended == ["earlier", "early"]
        assert channel._conn is not None and channel._conn.error is None and not channel._conn.calls
    finally:
        await channel.aclose()
        server.close()


async def test_channel_deadline_after_answered_calls(anyio_backend) -> None:
    """Deadlines share one timer per connection: an answered call leaves its (earlier) entry
    behind; the timer firing for it must re-arm, so that a later call still ends at its own."""
    server = RawH2Server(lambda conn, sids: RawH2Server.answer(conn, sids[0], b"one"), batch=1)
    channel = H2Channel("127.0.0.1", server.port)
    try:
        with anyio.fail_after(20):  # hang guard
            assert await channel.unary("/t.T/M", b"x", deadline=anyio.current_time() + 0.2) == b"one"
            with pytest.raises(TimeoutError):  # never answered: ends at its deadline, after the first's
                await channel.unary("/t.T/M", b"x", deadline=anyio.current_time() + 0.5)
            with pytest.raises(TimeoutError):  # and again, once the heap has been emptied
                await channel.unary("/t.T/M", b"x", deadline=anyio.current_time() + 0.1)
        conn = channel._conn
        assert conn is not None and conn.error is None and not conn.calls
    finally:
        await channel.aclose()
        server.close()


def test_one_client_across_event_loop_runs(srv) -> None:
    """A client kept across ``anyio.run`` calls (trio, trio, asyncio, trio) gets a fresh channel
    for each loop: the old one's connections and locks belong to a loop that is gone."""
    client = AsyncQdrantClient(
        url=DEAD_REST, prefer_grpc=True, grpc_port=srv.grpc_port, check_compatibility=False
    )
    before = srv.grpc.calls["Collections.CollectionExists"]
    for backend in ("trio", "trio", "asyncio", "trio"):
        assert anyio.run(client.collection_exists, "across-runs", backend=backend) is False
    anyio.run(client.close, backend="asyncio")
    assert srv.grpc.calls["Collections.CollectionExists"] == before + 4


def test_grpc_timeout_encoding() -> None:
    assert [encode_timeout(t) for t in (3600.0, 10.5, 0.25, 0.005, 1e-7)] == [
        "3600S",
        "10S",
        "250m",
        "5000u",
        "100n",
    ]
    assert encode_timeout(1e12) == "99999999S"  # at most 8 digits


async def _gather(fn: Any, n: int) -> list[Any]:
    """``[await fn(0), ..., await fn(n - 1)]``, all running at once."""
    results: list[Any] = [None] * n

    async def one(i: int) -> None:
        results[i] = await fn(i)

    async with anyio.create_task_group() as tg:
        for i in range(n):
            tg.start_soon(one, i)
    return results


def _request(op: str) -> Request:
    return Request(op=OPERATIONS[op], path_params={}, query={}, body=None)
