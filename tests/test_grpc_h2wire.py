"""aqdrant's sans-IO HTTP/2 client (aqdrant/grpc/_h2wire.py) against the ``h2`` library's
*server* connection, in memory: h2 raises on any protocol violation by our side, and decodes what
we send with its own HPACK decoder, so it is the oracle for framing, flow control, settings and
header encoding. No sockets, no event loop."""

from __future__ import annotations

import struct
from typing import Any

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.settings
import hpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aqdrant.grpc import _h2wire as w
from aqdrant.grpc._h2wire import H2Wire, ProtocolError, Stream

PATH = "/qdrant.Points/Count"
CODES = h2.settings.SettingCodes


def grpc_message(body: bytes) -> bytes:
    return b"\x00" + len(body).to_bytes(4, "big") + body


class Server:
    """An h2 server that records requests and answers each finished one with ``reply(body)``."""

    def __init__(self, reply: Any = None, **local: int) -> None:
        self.h2 = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        )
        if local:
            self.h2.local_settings = h2.settings.Settings(
                client=False, initial_values={getattr(CODES, k.upper()): v for k, v in local.items()}
            )
        self.h2.initiate_connection()
        self.reply = reply if reply is not None else (lambda body: body[::-1])
        self.headers: dict[int, list[tuple[str, str]]] = {}
        self.bodies: dict[int, bytes] = {}
        self.events: list[Any] = []
        self.answer = True
        self.pending: dict[int, tuple[bytes, list[tuple[str, str]]]] = {}

    def feed(self, data: bytes) -> None:
        for event in self.h2.receive_data(data):
            self.events.append(event)
            if isinstance(event, h2.events.RequestReceived):
                self.headers[event.stream_id] = event.headers
                self.bodies[event.stream_id] = b""
            elif isinstance(event, h2.events.DataReceived):
                self.bodies[event.stream_id] += event.data
                if event.flow_controlled_length:
                    self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.StreamEnded) and self.answer:
                self.respond(event.stream_id, self.reply(self.bodies[event.stream_id][5:]))

    def respond(self, sid: int, body: bytes, **trailers: str) -> None:
        """Headers now; the message and the trailers as the client's windows allow (see pump)."""
        self.h2.send_headers(sid, [(":status", "200"), ("content-type", "application/grpc")])
        self.pending[sid] = (grpc_message(body), [("grpc-status", "0"), *trailers.items()])
        self.flush_pending()

    def flush_pending(self) -> None:
        for sid, (data, trailers) in list(self.pending.items()):
            while data:
                room = min(self.h2.local_flow_control_window(sid), self.h2.max_outbound_frame_size)
                if room <= 0:
                    break
                self.h2.send_data(sid, data[:room])
                data = data[room:]
            if data:
                self.pending[sid] = (data, trailers)
            else:
                del self.pending[sid]
                self.h2.send_headers(sid, trailers, end_stream=True)


class Pair:
    """Our client and an h2 server, with the bytes between them moved by :meth:`pump`."""

    def __init__(self, server: Server | None = None, **client: int) -> None:
        self.server = server or Server()
        self.client = H2Wire(**client)
        self.client.initiate()
        self.finished: list[Stream] = []
        self.changes = 0
        self.pump()

    def pump(self) -> None:
        for _ in range(10_000):
            moved = False
            if self.client.out:
                data = bytes(self.client.out)
                self.client.out.clear()
                self.server.feed(data)
                moved = True
            # replies held back by the client's windows go out once it acknowledged data
            self.server.flush_pending()
            data = self.server.h2.data_to_send()
            if data:
                finished, changes = self.client.receive(data)
                self.finished += finished
                self.changes |= changes
                moved = True
            if not moved:
                return
        raise AssertionError("the connection never settled")

    def call(self, body: bytes, *, metadata: bytes = b"", path: str = PATH) -> Stream:
        stream = Stream()
        self.client.open(stream, w.header_block(path, "example.com:6334", "http", "t/1") + metadata)
        message = grpc_message(body)
        sent = 0
        for _ in range(10_000):
            sent += self.client.send(stream, memoryview(message)[sent:], end_stream=True)
            self.pump()
            if sent == len(message):
                return stream
        raise AssertionError("the request never went out")


def reply_of(stream: Stream) -> bytes:
    data = b"".join(stream.chunks)
    assert data[:1] == b"\x00" and int.from_bytes(data[1:5], "big") == len(data) - 5
    return data[5:]


def test_connection_setup_exchanges_settings_both_ways() -> None:
    pair = Pair(stream_window=1 << 20, connection_window=1 << 24, max_frame_size=1 << 17)
    assert pair.client.settings_received and pair.changes & w.SETTINGS_CHANGED
    remote = pair.server.h2.remote_settings  # what h2 took from our SETTINGS
    assert remote.initial_window_size == 1 << 20 and remote.max_frame_size == 1 << 17
    assert remote.enable_push == 0
    assert pair.server.h2.outbound_flow_control_window == 1 << 24  # our WINDOW_UPDATE
    assert any(isinstance(e, h2.events.SettingsAcknowledged) for e in pair.server.events)


def test_unary_call_headers_body_and_trailers() -> None:
    pair = Pair()
    metadata = (
        w.timeout_block("250m") + w.metadata_block("x-trace", "t-1") + w.metadata_block("api-key", "s3cret")
    )
    stream = pair.call(b"hello", metadata=metadata)
    assert pair.finished == [stream] and stream.ended and stream.closed
    assert reply_of(stream) == b"olleh"
    assert stream.headers == [(":status", "200"), ("content-type", "application/grpc")]
    assert stream.trailers == [("grpc-status", "0")]
    sent = pair.server.headers[stream.id]
    assert sent == [
        (":method", "POST"),
        (":scheme", "http"),
        (":path", PATH),
        (":authority", "example.com:6334"),
        ("content-type", "application/grpc+proto"),
        ("te", "trailers"),
        ("user-agent", "t/1"),
        ("grpc-timeout", "250m"),
        ("x-trace", "t-1"),
        ("api-key", "s3cret"),
    ]
    # the credential is "never indexed"; nothing we send enters the server's table
    kinds = {name: type(h) for name, h in ((h[0], h) for h in sent)}
    assert kinds["api-key"] is hpack.NeverIndexedHeaderTuple
    assert kinds["x-trace"] is not hpack.NeverIndexedHeaderTuple
    assert not pair.server.h2.decoder.header_table.dynamic_entries


def test_metadata_http2_cannot_carry_is_refused_without_the_value() -> None:
    for name, value in (
        ("X-Upper", "v"),
        ("bad name", "v"),
        ("connection", "close"),
        ("ok", "a\r\nb"),
        ("ok", " pad"),
    ):
        with pytest.raises(ValueError) as refused:
            w.metadata_block(name, value)
        assert value not in str(refused.value) or value == "v"


def test_many_concurrent_streams_answered_out_of_order() -> None:
    server = Server()
    server.answer = False
    pair = Pair(server)
    streams = [pair.call(f"m{i}".encode()) for i in range(100)]
    for stream in reversed(streams):
        server.respond(stream.id, b"r" + server.bodies[stream.id][5:])
    pair.pump()
    assert [reply_of(s) for s in streams] == [f"rm{i}".encode() for i in range(100)]
    assert {s.id for s in pair.finished} == {s.id for s in streams}
    assert [s.id for s in streams] == list(range(1, 200, 2))


def test_large_request_through_small_server_windows_and_frames() -> None:
    server = Server(initial_window_size=1000, max_frame_size=16384)
    pair = Pair(server)
    body = bytes(range(256)) * 1000  # 256 KB: ~4x the connection window, 256x the stream's
    stream = pair.call(body)
    assert server.bodies[stream.id][5:] == body
    assert reply_of(stream) == body[::-1]
    frames = [e for e in server.events if isinstance(e, h2.events.DataReceived) and e.stream_id == stream.id]
    assert max(len(e.data) for e in frames) <= 1000 and len(frames) > 256


def test_large_reply_needs_our_window_updates() -> None:
    pair = Pair(stream_window=65535, connection_window=65535, max_frame_size=16384)
    server = pair.server
    server.reply = lambda body: body * 50_000  # 5 MB
    stream = pair.call(b"0123456789")
    assert reply_of(stream) == b"0123456789" * 50_000
    assert stream.recv_window > 0 and pair.client.recv_window > 0


def test_header_blocks_split_into_continuation_both_ways() -> None:
    server = Server()
    pair = Pair(server)
    big = "v" * 40_000  # beyond a 16 KiB frame: HEADERS + CONTINUATION
    stream = pair.call(b"x", metadata=w.metadata_block("x-big", big))
    assert dict(server.headers[stream.id])["x-big"] == big
    server.answer = False
    stream = pair.call(b"y")
    server.respond(stream.id, b"z", **{"x-big-reply": big})
    pair.pump()
    assert dict(stream.trailers or [])["x-big-reply"] == big and reply_of(stream) == b"z"


def test_ping_is_acknowledged() -> None:
    pair = Pair()
    pair.server.h2.ping(b"12345678")
    pair.pump()
    acks = [e for e in pair.server.events if isinstance(e, h2.events.PingAckReceived)]
    assert [a.ping_data for a in acks] == [b"12345678"]


def test_goaway_tells_which_streams_were_not_processed() -> None:
    server = Server()
    server.answer = False
    pair = Pair(server)
    first, second = pair.call(b"1"), pair.call(b"2")
    server.respond(first.id, b"one")
    server.h2.close_connection(last_stream_id=first.id)
    pair.pump()
    assert pair.changes & w.GOING_AWAY
    assert pair.client.last_stream_id == first.id < second.id
    assert reply_of(first) == b"one" and not second.ended


def test_resets_both_ways() -> None:
    server = Server()
    server.answer = False
    pair = Pair(server)
    refused, cancelled = pair.call(b"1"), pair.call(b"2")
    server.h2.reset_stream(refused.id, h2.errors.ErrorCodes.REFUSED_STREAM)
    pair.pump()
    assert refused.reset == w.REFUSED_STREAM and refused in pair.finished
    pair.client.reset(cancelled)
    pair.pump()
    resets = [e for e in server.events if isinstance(e, h2.events.StreamReset)]
    assert [(r.stream_id, r.error_code) for r in resets] == [(cancelled.id, h2.errors.ErrorCodes.CANCEL)]
    server.answer = True  # and the connection goes on
    assert reply_of(pair.call(b"3")) == b"3"


def test_settings_changed_mid_connection_apply_to_open_streams() -> None:
    server = Server(initial_window_size=100)
    server.answer = False
    pair = Pair(server)
    stream = Stream()
    pair.client.open(stream, w.header_block(PATH, "a", "http", "t"))
    message = memoryview(grpc_message(b"q" * 5000))
    sent = pair.client.send(stream, message, end_stream=True)
    assert sent == 100  # the stream window
    pair.pump()
    before = stream.send_window
    # the server grows the initial window, shrinks the table and lowers the stream limit
    server.h2.update_settings(
        {CODES.INITIAL_WINDOW_SIZE: 3000, CODES.HEADER_TABLE_SIZE: 0, CODES.MAX_CONCURRENT_STREAMS: 5}
    )
    pair.pump()
    assert pair.client.max_concurrent_streams == 5
    assert stream.send_window == before + 2900  # the open stream's window changed too
    grown = pair.client.send(stream, message[sent:], end_stream=True)
    assert grown == before + 2900
    sent += grown
    pair.pump()
    while sent < len(message):  # the server acknowledges what it read: the rest goes out
        sent += pair.client.send(stream, message[sent:], end_stream=True)
        pair.pump()
    assert server.bodies[stream.id] == bytes(message)
    # the next header block starts with a table size update (h2 checks it against 0)
    server.answer = True
    assert reply_of(pair.call(b"after")) == b"retfa"


def test_a_shrunk_initial_window_can_leave_a_stream_owing() -> None:
    """RFC 9113 6.9.2: a smaller SETTINGS_INITIAL_WINDOW_SIZE can make an open stream's window
    negative; nothing more is sent until WINDOW_UPDATEs bring it above zero."""
    wire = H2Wire()
    wire.initiate()
    setting = struct.pack(">HL", w.INITIAL_WINDOW_SIZE, 1000)
    wire.receive(w.frame(w.SETTINGS, 0, 0, setting))
    stream = Stream()
    wire.open(stream, w.header_block(PATH, "a", "http", "t"))
    body = b"x" * 5000
    assert wire.send(stream, body, end_stream=True) == 1000
    wire.receive(w.frame(w.SETTINGS, 0, 0, struct.pack(">HL", w.INITIAL_WINDOW_SIZE, 100)))
    assert stream.send_window == -900 and wire.send(stream, body[1000:], end_stream=True) == 0
    wire.receive(w.frame(w.WINDOW_UPDATE, 0, stream.id, struct.pack(">L", 1000)))
    assert wire.send(stream, body[1000:], end_stream=True) == 100 and not stream.local_closed


def test_padded_data_and_headers_with_priority() -> None:
    server = Server()
    server.answer = False
    pair = Pair(server)
    stream = pair.call(b"p")
    server.h2.send_headers(stream.id, [(":status", "200")])
    server.h2.send_data(stream.id, grpc_message(b"pad"), pad_length=17)
    pair.pump()
    # trailers in a hand-made HEADERS frame with PADDED and PRIORITY (h2 cannot send those)
    block = server.h2.encoder.encode([("grpc-status", "0")])
    payload = b"\x03" + b"\x00\x00\x00\x00\x10" + block + b"\x00\x00\x00"
    finished, _ = pair.client.receive(
        w.frame(w.HEADERS, w.END_HEADERS | w.END_STREAM | w.PADDED | w.PRIORITY_FLAG, stream.id, payload)
    )
    assert finished == [stream] and reply_of(stream) == b"pad" and stream.trailers == [("grpc-status", "0")]


def test_reply_headers_are_decoded_against_the_table_as_it_is_now() -> None:
    """The same block bytes mean other headers once the server's table changed: the decoder's
    remembered results must not outlive the table state they were decoded against."""
    server = Server()
    server.answer = False
    pair = Pair(server)
    one, two, three = pair.call(b"1"), pair.call(b"2"), pair.call(b"3")
    client = pair.client
    insert_a = b"\x88" + b"\x40\x01x\x01a"  # :status 200, then x: a added to the table
    newest = b"\x88\xbe"  # :status 200, then the table's newest entry
    for stream in (one, two):  # a block that adds to the table is decoded every time
        client.receive(w.frame(w.HEADERS, w.END_HEADERS, stream.id, insert_a))
    assert len(client._decoder.header_table.dynamic_entries) == 2
    client.receive(w.frame(w.HEADERS, w.END_HEADERS, three.id, newest))
    assert three.headers == [(":status", "200"), ("x", "a")]
    client.receive(w.frame(w.HEADERS, w.END_HEADERS | w.END_STREAM, one.id, b"\x40\x01x\x01b"))
    client.receive(w.frame(w.HEADERS, w.END_HEADERS | w.END_STREAM, three.id, newest))
    assert three.trailers == [(":status", "200"), ("x", "b")]  # the same bytes, the new entry


def test_unknown_frame_types_are_ignored() -> None:
    pair = Pair()
    finished, changes = pair.client.receive(w.frame(0xFA, 0xFF, 0, b"extension") + w.frame(0x0B, 0, 1, b"x"))
    assert (finished, changes) == ([], 0)
    assert reply_of(pair.call(b"ok")) == b"ko"


@pytest.mark.parametrize(
    "frames",
    [
        w.frame(w.DATA, 0, 0, b"x"),  # DATA on stream 0
        w.frame(w.PUSH_PROMISE, w.END_HEADERS, 1, b"\x00\x00\x00\x02"),  # push, which we disabled
        w.frame(w.CONTINUATION, w.END_HEADERS, 1, b""),  # CONTINUATION out of the blue
        w.frame(w.HEADERS, w.END_HEADERS, 7, b"\x88"),  # a stream we never opened
        w.frame(w.WINDOW_UPDATE, 0, 0, struct.pack(">L", 2**31 - 1)),  # window overflow
        w.frame(w.SETTINGS, 0, 0, struct.pack(">HL", 5, 100)),  # max frame size below 16384
        w.frame(w.PING, 0, 0, b"short"),
        b"\x10\x00\x01" + bytes([w.DATA, 0]) + b"\x00\x00\x00\x01",  # a frame beyond our max
        w.frame(w.HEADERS, w.END_HEADERS | w.END_STREAM, 1, b"\xff\xff\xff\xff"),  # bad HPACK
    ],
)
def test_protocol_violations_end_the_connection_with_goaway(frames: bytes) -> None:
    pair = Pair()
    pair.call(b"first")  # stream 1 exists and is done
    with pytest.raises(ProtocolError):
        pair.client.receive(frames)
    assert pair.client.closed
    pair.server.feed(bytes(pair.client.out))
    ended = [e for e in pair.server.events if isinstance(e, h2.events.ConnectionTerminated)]
    assert len(ended) == 1 and ended[0].error_code != h2.errors.ErrorCodes.NO_ERROR


def test_a_frame_split_across_reads_is_reassembled() -> None:
    server = Server()
    server.answer = False
    pair = Pair(server)
    stream = pair.call(b"split")
    server.respond(stream.id, b"0123456789" * 100)
    data = server.h2.data_to_send()
    for i in range(len(data)):  # one byte at a time
        pair.client.receive(data[i : i + 1])
    assert reply_of(stream) == b"0123456789" * 100


@settings(max_examples=40, deadline=None)
@given(
    body=st.binary(max_size=200_000),
    reply_size=st.integers(0, 300_000),
    server_window=st.integers(1, 70_000),
    server_frame=st.integers(16384, 40_000),
    client_window=st.integers(65535, 200_000),
    calls=st.integers(1, 4),
)
def test_round_trips_under_any_windows_and_frame_sizes(
    body: bytes, reply_size: int, server_window: int, server_frame: int, client_window: int, calls: int
) -> None:
    server = Server(
        lambda got: (got * (reply_size // max(1, len(got)) + 1))[:reply_size] if got else b"r" * reply_size,
        initial_window_size=server_window,
        max_frame_size=server_frame,
    )
    pair = Pair(server, stream_window=client_window, connection_window=client_window, max_frame_size=16384)
    for _ in range(calls):
        stream = pair.call(body)
        assert server.bodies[stream.id][5:] == body
        got = reply_of(stream)
        assert len(got) == reply_size and stream.trailers == [("grpc-status", "0")]
        pair.client.forget(stream)
