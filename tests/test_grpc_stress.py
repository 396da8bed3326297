"""The gRPC channels under load: 2,000 concurrent mixed calls through one client against the dev
server, on asyncio (grpclib) and trio (aqdrant's h2 channel), must all succeed; and the h2
channel keeps to the server's ``max_concurrent_streams``, opening more connections when it is
reached. Bounded in count (and a generous hang guard, not a speed assertion)."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from typing import Any

import anyio
import numpy as np
import pytest

from aqdrant import AsyncQdrantClient, models
from aqdrant.grpc._h2channel import H2Channel
from aqdrant.server import ServerThread

pytestmark = pytest.mark.anyio

DEAD_REST = "http://127.0.0.1:9"  # a REST fallback that cannot answer: gRPC or nothing
DIM = 64


@pytest.fixture(scope="module")
def srv():
    with ServerThread(grpc_port=0) as s:
        yield s


async def test_two_thousand_concurrent_mixed_calls_without_an_error(srv, anyio_backend) -> None:
    name = f"stress-{anyio_backend}"
    rng = np.random.default_rng(3)
    base = rng.random((200, DIM), dtype=np.float32)
    async with AsyncQdrantClient(
        url=DEAD_REST, prefer_grpc=True, grpc_port=srv.grpc_port, check_compatibility=False, timeout=120
    ) as client:
        await client.create_collection(name, vectors_config=models.VectorParams(size=DIM, distance="Dot"))
        await client.upsert(
            name,
            models.Batch(ids=list(range(200)), vectors=base, payloads=[{"k": i % 5} for i in range(200)]),
        )
        errors: list[BaseException] = []
        done: Counter[str] = Counter()

        async def one(i: int) -> None:
            kind = ("query", "filtered", "upsert", "count", "retrieve", "scroll")[i % 6]
            try:
                if kind == "query":
                    hits = (await client.query_points(name, query=base[i % 200], limit=10)).points
                    assert len(hits) == 10
                elif kind == "filtered":
                    flt = models.Filter(
                        must=[models.FieldCondition(key="k", match=models.MatchValue(value=1))]
                    )
                    hits = (
                        await client.query_points(name, query=base[i % 200], query_filter=flt, limit=5)
                    ).points
                    assert hits and all(h.payload["k"] == 1 for h in hits)
                elif kind == "upsert":
                    point = models.PointStruct(id=1000 + i, vector=base[i % 200].tolist(), payload={"k": 9})
                    assert (
                        await client.upsert(name, [point], wait=True)
                    ).status == models.UpdateStatus.COMPLETED
                elif kind == "count":
                    assert (await client.count(name, exact=True)).count >= 200
                elif kind == "retrieve":
                    got = await client.retrieve(
                        name, ids=list(range(i % 190, i % 190 + 10)), with_vectors=True
                    )
                    assert len(got) == 10 and len(got[0].vector) == DIM
                else:
                    page, _ = await client.scroll(name, limit=20)
                    assert len(page) == 20
                done[kind] += 1
            except BaseException as exc:  # noqa: BLE001 - every failure is counted, none hidden
                errors.append(exc)
                if not isinstance(exc, Exception):
                    raise

        with anyio.fail_after(600):  # a hang guard only: the calls' own deadline is 120 s
            async with anyio.create_task_group() as tg:
                for i in range(2000):
                    tg.start_soon(one, i)
        assert errors == []
        assert sum(done.values()) == 2000 and len(done) == 6
        assert (await client.count(name, exact=True)).count == 200 + 2000 // 6 + (2000 % 6 > 2)
        await client.delete_collection(name)


class LimitedH2Server:
    """A bare HTTP/2 gRPC echo server (blocking sockets, the h2 library, a thread per connection)
    announcing ``max_concurrent_streams=limit``. It holds each reply until ``limit`` requests are
    open on the connection or 20 ms pass, so calls overlap; it records per connection the most
    streams ever open and whether the client ever went over the limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.connections = 0
        self.most_open: list[int] = []
        self.violations = 0
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            self.most_open.append(0)
            threading.Thread(target=self._serve, args=(sock, len(self.most_open) - 1), daemon=True).start()

    def _serve(self, sock: socket.socket, index: int) -> None:
        import h2.config
        import h2.connection
        import h2.events
        import h2.exceptions
        import h2.settings

        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
        conn.local_settings = h2.settings.Settings(
            client=False, initial_values={h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: self.limit}
        )
        conn.initiate_connection()
        sock.sendall(conn.data_to_send())
        sock.settimeout(0.02)
        bodies: dict[int, bytes] = {}
        ready: list[int] = []
        with sock:
            while True:
                try:
                    data = sock.recv(65536)
                    if not data:
                        return
                    events = conn.receive_data(data)
                except TimeoutError:
                    events, data = [], None
                except h2.exceptions.ProtocolError:  # e.g. more streams than announced
                    self.violations += 1
                    return
                except OSError:
                    return
                for event in events:
                    if isinstance(event, h2.events.RequestReceived):
                        bodies[event.stream_id] = b""
                        self.most_open[index] = max(self.most_open[index], len(bodies))
                        if len(bodies) > self.limit:
                            self.violations += 1
                    elif isinstance(event, h2.events.DataReceived):
                        bodies[event.stream_id] += event.data
                        conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                    elif isinstance(event, h2.events.StreamEnded):
                        ready.append(event.stream_id)
                if ready and (data is None or len(bodies) >= self.limit):
                    for sid in ready:
                        message = bodies.pop(sid)[5:][::-1]
                        conn.send_headers(sid, [(":status", "200"), ("content-type", "application/grpc")])
                        conn.send_data(sid, b"\x00" + len(message).to_bytes(4, "big") + message)
                        conn.send_headers(sid, [("grpc-status", "0")], end_stream=True)
                    ready.clear()
                sock.sendall(conn.data_to_send())

    def close(self) -> None:
        self._sock.close()


async def _echo_all(channel: H2Channel, n: int) -> list[Any]:
    results: list[Any] = [None] * n

    async def one(i: int) -> None:
        results[i] = await channel.unary("/t.T/Echo", f"m{i}".encode(), deadline=anyio.current_time() + 60)

    with anyio.fail_after(120):  # hang guard
        async with anyio.create_task_group() as tg:
            for i in range(n):
                tg.start_soon(one, i)
    return results


async def test_h2_channel_keeps_to_the_stream_limit_and_opens_more_connections(anyio_backend) -> None:
    server = LimitedH2Server(limit=4)
    channel = H2Channel("127.0.0.1", server.port)
    try:
        results = await _echo_all(channel, 60)
        assert results == [f"m{i}".encode()[::-1] for i in range(60)]
        assert server.violations == 0 and max(server.most_open) <= 4
        assert 1 < server.connections <= 8  # more connections once the first one was full
        assert max(server.most_open) == 4  # and each was used up to the limit
    finally:
        await channel.aclose()
        server.close()


async def test_h2_channel_waits_for_a_free_stream_past_max_connections(anyio_backend) -> None:
    server = LimitedH2Server(limit=3)
    channel = H2Channel("127.0.0.1", server.port, max_connections=2)
    try:
        results = await _echo_all(channel, 50)
        assert results == [f"m{i}".encode()[::-1] for i in range(50)]
        assert server.violations == 0 and server.connections == 2 and max(server.most_open) <= 3
    finally:
        await channel.aclose()
        server.close()


async def test_h2_channel_waiters_cancelled_while_waiting_pass_their_turn_on(anyio_backend) -> None:
    """Calls waiting for a stream slot are woken one per free slot; one cancelled (or timed out)
    while waiting, even just after being woken, must not strand the others."""
    server = LimitedH2Server(limit=2)
    channel = H2Channel("127.0.0.1", server.port, max_connections=1)
    results: dict[int, Any] = {}
    try:

        async def call(i: int, deadline: float) -> None:
            try:
                results[i] = await channel.unary("/t.T/Echo", b"m%d" % i, deadline=deadline)
            except TimeoutError:
                results[i] = "timeout"

        with anyio.fail_after(60):  # hang guard
            async with anyio.create_task_group() as tg:
                for i in range(40):
                    # every third call gives up almost at once, most of them while waiting
                    short = i % 3 == 1
                    tg.start_soon(call, i, anyio.current_time() + (0.001 if short else 60))
        assert sorted(results) == list(range(40))
        for i, got in results.items():  # the patient calls all got their reply
            assert got == (b"m%d" % i)[::-1] or (i % 3 == 1 and got == "timeout")
        assert list(results.values()).count("timeout") >= 5  # most impatient ones timed out waiting
        assert server.violations == 0 and server.connections == 1
    finally:
        await channel.aclose()
        server.close()


class _Slot:
    """A stand-in connection with one stream slot, open or taken by the test."""

    def __init__(self) -> None:
        self.free = False
        self.accepting = True
        self.calls: dict[int, Any] = {}
        self.wire = type("Wire", (), {"max_concurrent_streams": 1})()
        self.ready = anyio.Event()
        self.ready.set()

    def has_room(self) -> bool:
        return self.free


async def test_h2_channel_a_cancelled_waiter_leaves_the_line(anyio_backend) -> None:
    channel = H2Channel("127.0.0.1", 9, max_connections=1)
    slot = _Slot()
    slot.calls[1] = object()  # taken
    channel._conns = [slot]  # type: ignore[list-item]
    got: list[str] = []

    async def acquire(name: str, scope: anyio.CancelScope) -> None:
        with scope:
            await channel._acquire()
            got.append(name)

    first, second = anyio.CancelScope(), anyio.CancelScope()
    with anyio.fail_after(10):  # hang guard: the second waiter must not be stranded
        async with anyio.create_task_group() as tg:
            tg.start_soon(acquire, "first", first)
            await anyio.wait_all_tasks_blocked()
            tg.start_soon(acquire, "second", second)
            await anyio.wait_all_tasks_blocked()
            first.cancel()  # the first in line gives up
            await anyio.wait_all_tasks_blocked()
            slot.calls.clear()
            slot.free = True
            channel._wake()  # room for one: it must go to the second, not to the one gone
    assert got == ["second"] and not channel._waiters


class Held:
    """grpclib handlers: ``Hold`` answers only once the test releases it; ``Echo`` at once."""

    def __init__(self) -> None:
        self.held = 0
        self.release = threading.Event()

    async def hold(self, stream: Any) -> None:
        import asyncio

        data = await stream.recv_message()
        self.held += 1
        while not self.release.is_set():
            await asyncio.sleep(0.01)
        await stream.send_message(data)

    async def echo(self, stream: Any) -> None:
        await stream.send_message((await stream.recv_message())[::-1])

    def __mapping__(self) -> dict[str, Any]:
        from grpclib.const import Cardinality, Handler

        return {
            "/t.T/Hold": Handler(self.hold, Cardinality.UNARY_UNARY, bytes, bytes),
            "/t.T/Echo": Handler(self.echo, Cardinality.UNARY_UNARY, bytes, bytes),
        }


async def test_h2_channel_replies_reach_their_callers_while_other_calls_wait(anyio_backend) -> None:
    """Calls whose replies have come are not held up by calls still waiting for theirs: the
    echo calls finish while the held calls wait for a release that comes only after them (a
    channel where callers take turns reading would deadlock here)."""
    from grpc_servers import grpclib_thread

    handlers = Held()
    with grpclib_thread([handlers]) as port:
        channel = H2Channel("127.0.0.1", port)
        held: list[bytes] = []
        try:

            async def hold(i: int) -> None:
                held.append(await channel.unary("/t.T/Hold", b"h%d" % i))

            async with anyio.create_task_group() as outer:
                for i in range(50):
                    outer.start_soon(hold, i)
                with anyio.fail_after(60):  # hang guard
                    while handlers.held < 50:
                        await anyio.sleep(0.01)
                    results = await _echo_all(channel, 500)
                assert results == [f"m{i}".encode()[::-1] for i in range(500)]
                assert held == []  # the held calls were still waiting all along
                handlers.release.set()
            assert sorted(held) == sorted(b"h%d" % i for i in range(50))
        finally:
            handlers.release.set()
            await channel.aclose()
