"""The HTTP/2 work of one unary gRPC call on the client, in memory: the ``h2`` library's client
connection vs aqdrant's ``_h2wire``, against the same ``h2`` server connection; and the whole
channel (``H2Channel.unary``) over loopback on asyncio and trio.

Usage: ``python benchmarks/bench_h2wire.py [--calls 3000] [--repeat 3] [--inflight 1] [--no-loopback]``

Per call, only the client side is timed (``time.process_time()``): open a stream with the request
headers (path, authority, ``grpc-timeout``, an ``api-key``), send the 5-byte-prefixed message with
END_STREAM, take the bytes to send; then read the server's HEADERS + DATA + trailers and
acknowledge the data. The server (h2, untimed) answers every call alike, as a gRPC server does,
so its header blocks repeat (indexed) after the first call. No sockets, no event loop: the figure is
the protocol library's CPU per call, the part of a call's cost that the library choice decides.

Loopback: ``H2Channel.unary`` of a prebuilt ``CountPoints`` (with an ``api-key`` and a deadline)
against the dev server in its own process, sequential (``--inflight N``: N at a time, the
channel's rows only); the client process's CPU per call (the socket system calls included). This is the transport's share of a small call. The floor: the
same calls from a bare asyncio protocol over ``_h2wire`` (no deadline, metadata or channel).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import h2.config
import h2.connection
import h2.events

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from aqdrant.grpc import _h2wire as w  # noqa: E402

PATH, AUTHORITY = "/qdrant.Points/Count", "localhost:6334"
MESSAGE = b"\x00\x00\x00\x00\x07\n\x05small"
REPLY = b"\x00\x00\x00\x00\x04\n\x02\x08\x07"


def server() -> h2.connection.H2Connection:
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    conn.initiate_connection()
    return conn


def answer(srv: h2.connection.H2Connection, data: bytes) -> bytes:
    for event in srv.receive_data(data):
        if isinstance(event, h2.events.StreamEnded):
            sid = event.stream_id
            srv.send_headers(sid, [(":status", "200"), ("content-type", "application/grpc")])
            srv.send_data(sid, REPLY)
            srv.send_headers(sid, [("grpc-status", "0"), ("grpc-message", "")], end_stream=True)
        elif isinstance(event, h2.events.DataReceived) and event.flow_controlled_length:
            srv.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
    return srv.data_to_send()


def bench_ours(calls: int) -> float:
    srv = server()
    client = w.H2Wire(stream_window=16 << 20, connection_window=256 << 20, max_frame_size=1 << 20)
    client.initiate()
    client.receive(answer(srv, bytes(client.out)))
    client.out.clear()
    block = w.header_block(PATH, AUTHORITY, "http", "bench")
    api_key = w.metadata_block("api-key", "not-a-secret")
    cpu = 0.0
    for _ in range(calls):
        t = time.process_time()
        stream = w.Stream()
        client.open(stream, block + w.timeout_block("59999m") + api_key)
        client.send(stream, MESSAGE, end_stream=True)
        out = bytes(client.out)
        client.out.clear()
        cpu += time.process_time() - t
        reply = answer(srv, out)
        t = time.process_time()
        finished, _ = client.receive(reply)
        assert finished == [stream] and b"".join(stream.chunks) == REPLY
        client.forget(stream)
        out = bytes(client.out)
        client.out.clear()
        cpu += time.process_time() - t
        if out:
            answer(srv, out)
    return cpu / calls * 1e6


def bench_h2(calls: int) -> float:
    srv = server()
    client = h2.connection.H2Connection(
        h2.config.H2Configuration(
            client_side=True,
            header_encoding="utf-8",
            validate_inbound_headers=False,
            normalize_inbound_headers=False,
        )
    )
    client.initiate_connection()
    client.receive_data(answer(srv, client.data_to_send()))
    headers = [
        (":method", "POST"),
        (":scheme", "http"),
        (":path", PATH),
        (":authority", AUTHORITY),
        ("content-type", "application/grpc+proto"),
        ("te", "trailers"),
        ("user-agent", "bench"),
        ("grpc-timeout", "59999m"),
        ("api-key", "not-a-secret"),
    ]
    cpu = 0.0
    for _ in range(calls):
        t = time.process_time()
        sid = client.get_next_available_stream_id()
        client.send_headers(sid, headers)
        client.send_data(sid, MESSAGE, end_stream=True)
        out = client.data_to_send()
        cpu += time.process_time() - t
        reply = answer(srv, out)
        t = time.process_time()
        for event in client.receive_data(reply):
            if isinstance(event, h2.events.DataReceived) and event.flow_controlled_length:
                client.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        out = client.data_to_send()
        cpu += time.process_time() - t
        if out:
            answer(srv, out)
    return cpu / calls * 1e6


async def bench_channel(grpc_port: int, calls: int, inflight: int = 1) -> float:
    import anyio

    from aqdrant.grpc._h2channel import H2Channel
    from aqdrant.grpc._proto import qdrant as q

    channel = H2Channel("127.0.0.1", grpc_port)
    payload = bytes(q.CountPoints(collection_name="bench", exact=True))
    metadata = [("api-key", "not-a-secret")]

    async def some(n: int) -> None:
        for _ in range(n):
            await channel.unary(PATH, payload, metadata=metadata, deadline=anyio.current_time() + 60)

    try:
        await some(50)  # a warm-up
        t = time.process_time()
        async with anyio.create_task_group() as tg:
            for _ in range(inflight):
                tg.start_soon(some, calls // inflight)
        return (time.process_time() - t) / (calls // inflight * inflight) * 1e6
    finally:
        await channel.aclose()


async def bench_floor(grpc_port: int, calls: int) -> float:
    """The same calls from a bare asyncio protocol over ``_h2wire`` (no deadline, no metadata, no
    channel): what the loop, the system calls and the wire cost, the floor for a channel."""
    import asyncio

    from aqdrant.grpc._proto import qdrant as q

    loop = asyncio.get_running_loop()

    class Bare(asyncio.Protocol):
        def __init__(self) -> None:
            self.wire = w.H2Wire(stream_window=16 << 20, connection_window=256 << 20, max_frame_size=1 << 20)
            self.wire.initiate()
            self.ready = loop.create_future()
            self.reply: asyncio.Future[None] | None = None

        def connection_made(self, transport: Any) -> None:
            self.transport = transport
            self.flush()

        def flush(self) -> None:
            if self.wire.out:
                self.transport.write(bytes(self.wire.out))
                self.wire.out.clear()

        def data_received(self, data: bytes) -> None:
            finished, changes = self.wire.receive(data)
            self.flush()
            if changes & w.SETTINGS_CHANGED and not self.ready.done():
                self.ready.set_result(None)
            if finished and self.reply is not None:
                self.reply.set_result(None)

    transport, bare = await loop.create_connection(Bare, "127.0.0.1", grpc_port)
    await bare.ready
    payload = bytes(q.CountPoints(collection_name="bench", exact=True))
    message = b"\x00" + len(payload).to_bytes(4, "big") + payload
    block = w.header_block(PATH, f"127.0.0.1:{grpc_port}", "http", "bench")
    try:
        for i in range(calls + 50):
            if i == 50:  # after a warm-up
                t = time.process_time()
            stream = w.Stream()
            bare.wire.open(stream, block)
            bare.wire.send(stream, message, end_stream=True)
            bare.reply = loop.create_future()
            bare.flush()
            await bare.reply
            bare.wire.forget(stream)
        return (time.process_time() - t) / calls * 1e6
    finally:
        transport.close()


def loopback(calls: int, repeat: int, inflight: int) -> dict[str, list[float]]:
    import anyio
    from bench_small_calls import start_server

    proc, url, grpc_port = start_server()
    try:
        from aqdrant import QdrantClient, models

        with QdrantClient(url=url) as client:
            client.create_collection("bench", vectors_config=models.VectorParams(size=4, distance="Dot"))
        runs: dict[str, list[float]] = {
            "H2Channel (asyncio)": [],
            "H2Channel (trio)": [],
            "floor (asyncio)": [],
        }
        for _ in range(repeat):
            for loop in ("asyncio", "trio"):
                runs[f"H2Channel ({loop})"].append(
                    anyio.run(bench_channel, grpc_port, calls, inflight, backend=loop)
                )
            runs["floor (asyncio)"].append(anyio.run(bench_floor, grpc_port, calls, backend="asyncio"))
        return runs
    finally:
        proc.kill()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--inflight", type=int, default=1, help="channel calls at a time over loopback")
    ap.add_argument("--no-loopback", action="store_true", help="the in-memory comparison only")
    args = ap.parse_args()
    runs: dict[str, list[float]] = {"h2, in memory": [], "_h2wire, in memory": []}
    for _ in range(args.repeat):
        runs["h2, in memory"].append(bench_h2(args.calls))
        runs["_h2wire, in memory"].append(bench_ours(args.calls))
    if not args.no_loopback:
        runs.update(loopback(args.calls, args.repeat, max(1, args.inflight)))
    print("| client side of one unary call | µs CPU per call (median) | min–max |")
    print("|---|---|---|")
    for name, values in runs.items():
        print(f"| {name} | {statistics.median(values):.0f} | {min(values):.0f}–{max(values):.0f} |")


if __name__ == "__main__":
    main()
