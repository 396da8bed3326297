"""The client side of an HTTP/2 connection for unary gRPC calls, sans-IO (bytes in, bytes out).

Why not ``h2``: measured here, h2 alone costs ~200 us of CPU per unary call (events, eager frame
reprs for its logger, a header encoder with table state, validation), most of the budget of a
small gRPC call; this module does the same wire work in ~20 us (docs/architecture.md, "gRPC
channel"). It does what a gRPC client needs and nothing more:

* the connection preface and our SETTINGS; the server's SETTINGS applied (stream limit, initial
  window, incl. its change on open streams, frame size, header table size) and acknowledged;
  PING answered; GOAWAY (streams above its ``last_stream_id`` were not processed); RST_STREAM;
  WINDOW_UPDATE both ways; HEADERS + CONTINUATION, DATA, padding, trailers; unknown frames ignored.
* Request headers are written without the dynamic table (static-table names and literals "without
  indexing"; secrets "never indexed"), so the encoder has no state: the block for a method is
  computed once and reused. Reply headers are decoded by the ``hpack`` library's ``Decoder``.
* A violation by the server raises :class:`ProtocolError` and queues a GOAWAY: the connection is
  over (its caller closes the socket).

The caller owns the streams' lifetime: :meth:`H2Wire.open` a stream, :meth:`H2Wire.send` its
message (as far as the windows allow), read what :meth:`H2Wire.receive` reports, and
:meth:`H2Wire.forget` it (with a reset if it is still open). Outgoing bytes collect in
:attr:`H2Wire.out`, for the caller to write in order.
"""

from __future__ import annotations

import re
from struct import Struct

from hpack import Decoder
from hpack.exceptions import HPACKError

from .._headers import SECRET_HEADERS
from .fast._wire import _varint

__all__ = ["H2Wire", "ProtocolError", "Stream", "header_block", "metadata_block"]

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

# frame types
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = (
    range(10)
)
# flags
END_STREAM = ACK = 0x1
END_HEADERS = 0x4
PADDED = 0x8
PRIORITY_FLAG = 0x20
# error codes
(
    NO_ERROR,
    PROTOCOL,
    INTERNAL,
    FLOW_CONTROL,
    _,
    STREAM_CLOSED,
    FRAME_SIZE,
    REFUSED_STREAM,
    CANCEL,
    COMPRESSION,
) = range(10)
ERROR_NAMES = (
    "NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT",
    "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR",
    "CONNECT_ERROR", "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED",
)  # fmt: skip
# settings
(
    HEADER_TABLE_SIZE,
    ENABLE_PUSH,
    MAX_CONCURRENT_STREAMS,
    INITIAL_WINDOW_SIZE,
    MAX_FRAME_SIZE,
    MAX_HEADER_LIST_SIZE,
) = range(1, 7)

# what receive() reports about the connection (a bit set)
SETTINGS_CHANGED, WINDOW_OPENED, GOING_AWAY = 1, 2, 4

_MAX_WINDOW = 2**31 - 1
_HEADER = Struct(">HBBBL")  # length (24 bits, as 16 + 8), type, flags, stream id (with the R bit)
_U32 = Struct(">L")
_U32x2 = Struct(">LL")
_SETTING = Struct(">HL")
_MAX_HEADER_BLOCK = 4 * 1024 * 1024  # a HEADERS + CONTINUATION run longer than this is an attack


def frame(kind: int, flags: int, sid: int, payload: bytes = b"") -> bytes:
    n = len(payload)
    return _HEADER.pack(n >> 8, n & 0xFF, kind, flags, sid) + payload


def error_name(code: int) -> str:
    return ERROR_NAMES[code] if 0 <= code < len(ERROR_NAMES) else str(code)


class ProtocolError(Exception):
    """The server broke HTTP/2: the connection is over (a GOAWAY is queued in ``out``)."""


class Stream:
    """One call's stream: what the server sent, and the send window left."""

    __slots__ = (
        "chunks", "ended", "headers", "id", "local_closed", "recv_unacked", "recv_window",
        "reset", "send_window", "trailers",
    )  # fmt: skip

    def __init__(self) -> None:
        self.id = 0
        self.headers: list[tuple[str, str]] | None = None
        self.trailers: list[tuple[str, str]] | None = None
        self.chunks: list[bytes] = []
        self.ended = False  # the server's END_STREAM
        self.reset: int | None = None  # the server's RST_STREAM error code
        self.local_closed = False  # our END_STREAM went into ``out``
        self.send_window = 0
        self.recv_window = 0
        self.recv_unacked = 0

    @property
    def closed(self) -> bool:
        return self.reset is not None or (self.ended and self.local_closed)


# -- request headers (HPACK without the dynamic table) --------------------------------------------

#: static-table indexes (RFC 7541 appendix A) of the names a request uses
_STATIC = {":authority": 1, ":path": 4, "content-type": 31, "user-agent": 58}
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9a-z]+")
_BAD_VALUE = re.compile(r"[\x00\r\n]|^[ \t]|[ \t]$")
#: connection-specific headers HTTP/2 forbids (RFC 9113 8.2.2); metadata cannot carry them
FORBIDDEN = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "host"}
)


def _int(value: int, bits: int, flags: int) -> bytes:
    """An HPACK integer with a ``bits``-bit prefix (RFC 7541 5.1): what exceeds the prefix
    follows in 7-bit groups, low first, as a protobuf varint."""
    limit = (1 << bits) - 1
    if value < limit:
        return bytes((flags | value,))
    return bytes((flags | limit,)) + _varint(value - limit)


def _str(data: bytes) -> bytes:
    return _int(len(data), 7, 0) + data  # not Huffman-coded (H = 0)


def _literal(name: str, value: str, *, never_indexed: bool = False) -> bytes:
    """A literal field that adds nothing to the server's table (RFC 7541 6.2.2 / 6.2.3)."""
    flags = 0x10 if never_indexed else 0x00
    index = _STATIC.get(name)
    head = _int(index, 4, flags) if index else bytes((flags,)) + _str(name.encode())
    return head + _str(value.encode())


def header_block(path: str, authority: str, scheme: str, user_agent: str) -> bytes:
    """The fixed part of a unary call's request headers."""
    return b"".join(
        (
            b"\x83",  # :method POST
            b"\x87" if scheme == "https" else b"\x86",  # :scheme
            _literal(":path", path),
            _literal(":authority", authority),
            _literal("content-type", "application/grpc+proto"),
            _literal("te", "trailers"),
            _literal("user-agent", user_agent),
        )
    )


def metadata_block(name: str, value: str) -> bytes:
    """One metadata entry, checked as HTTP/2 requires (ValueError naming the key, never the value).

    Credentials (the client's list of secret headers) use the "never indexed" form, which tells
    every hop not to keep the value in a compression table.
    """
    if not _TOKEN.fullmatch(name) or name in FORBIDDEN:
        raise ValueError(f"gRPC metadata that HTTP/2 cannot carry (name: {name!r})")
    if _BAD_VALUE.search(value):
        raise ValueError(f"gRPC metadata that HTTP/2 cannot carry (the value of {name!r})")
    return _literal(name, value, never_indexed=name in SECRET_HEADERS)


def timeout_block(value: str) -> bytes:
    return b"\x00\x0cgrpc-timeout" + _str(value.encode())


# -- the connection -------------------------------------------------------------------------------


class H2Wire:
    """The client side of one HTTP/2 connection (no I/O: feed it bytes, write ``out``)."""

    def __init__(
        self,
        *,
        stream_window: int = 65535,
        connection_window: int = 65535,
        max_frame_size: int = 16384,
        max_header_list_size: int = 1024 * 1024,
    ) -> None:
        self.out = bytearray()
        self.streams: dict[int, Stream] = {}
        self.next_id = 1
        # the server's settings (RFC 9113 defaults until its SETTINGS come)
        self.max_concurrent_streams = 2**31 - 1
        self.send_initial_window = 65535
        self.send_max_frame = 16384
        self.send_window = 65535  # connection-level
        self.settings_received = False
        self.last_stream_id: int | None = None  # from GOAWAY
        self.goaway_code: int | None = None
        self.closed = False
        # ours
        self._stream_window = stream_window
        self._connection_window = connection_window
        self._max_frame = max_frame_size
        self.recv_window = 65535  # connection-level, grown by our WINDOW_UPDATE below
        self._recv_unacked = 0
        self._decoder = Decoder()
        self._decoder.max_header_list_size = max_header_list_size
        self._decoded: dict[bytes, tuple[tuple[int, int], object, list[tuple[str, str]]]] = {}
        self._table_update = b""  # a dynamic table size update owed in our next header block
        self._buffer = b""
        self._block: list[bytes] | None = None  # a header block awaiting its CONTINUATION
        self._block_sid = 0
        self._block_flags = 0
        self._settings = (
            (ENABLE_PUSH, 0),
            (INITIAL_WINDOW_SIZE, stream_window),
            (MAX_FRAME_SIZE, max_frame_size),
            (MAX_HEADER_LIST_SIZE, max_header_list_size),
        )

    def initiate(self) -> None:
        """Queue the connection preface, our SETTINGS and the connection window's growth."""
        settings = b"".join(_SETTING.pack(k, v) for k, v in self._settings)
        self.out += PREFACE + frame(SETTINGS, 0, 0, settings)
        if self._connection_window > 65535:
            grow = self._connection_window - 65535
            self.out += frame(WINDOW_UPDATE, 0, 0, _U32.pack(grow))
            self.recv_window += grow

    # -- sending ------------------------------------------------------------------------------

    @property
    def ids_left(self) -> bool:
        return self.next_id <= _MAX_WINDOW

    def open(self, stream: Stream, block: bytes, *, end_stream: bool = False) -> int:
        """Queue HEADERS for a new stream (``block``: HPACK, see :func:`header_block`); its id."""
        sid = self.next_id
        self.next_id += 2
        stream.id = sid
        stream.send_window = self.send_initial_window
        stream.recv_window = self._stream_window
        if self._table_update:
            block = self._table_update + block
            self._table_update = b""
        flags = END_STREAM if end_stream else 0
        stream.local_closed = end_stream
        limit = self.send_max_frame
        if len(block) <= limit:
            self.out += frame(HEADERS, flags | END_HEADERS, sid, block)
        else:
            self.out += frame(HEADERS, flags, sid, block[:limit])
            for i in range(limit, len(block), limit):
                last = i + limit >= len(block)
                self.out += frame(CONTINUATION, END_HEADERS if last else 0, sid, block[i : i + limit])
        self.streams[sid] = stream
        return sid

    def sendable(self, stream: Stream) -> int:
        """How many bytes of DATA ``stream`` may send now (the connection's and its window)."""
        return max(0, min(self.send_window, stream.send_window))

    def send(self, stream: Stream, data: bytes | memoryview, *, end_stream: bool) -> int:
        """Queue as much of ``data`` as the windows allow, in frames of at most the server's frame
        size; END_STREAM goes on the last frame once all of it is queued. Returns how much was."""
        room = max(0, min(self.send_window, stream.send_window, len(data)))  # windows may be < 0
        if not room and data:
            return 0
        limit = self.send_max_frame
        sid = stream.id
        done = 0
        out = self.out
        while True:
            size = min(room - done, limit)
            last = end_stream and done + size == len(data)
            n = size
            out += _HEADER.pack(n >> 8, n & 0xFF, DATA, END_STREAM if last else 0, sid)
            out += data[done : done + size]
            done += size
            if done >= room:
                break
        self.send_window -= done
        stream.send_window -= done
        if done == len(data) and end_stream:
            stream.local_closed = True
        return done

    def reset(self, stream: Stream, code: int = CANCEL) -> None:
        """Queue RST_STREAM for a stream that is still open, and forget it."""
        if not self.closed and not stream.closed:
            self.out += frame(RST_STREAM, 0, stream.id, _U32.pack(code))
        self.forget(stream)

    def forget(self, stream: Stream) -> None:
        """The caller is done with ``stream`` (later frames on it are dropped)."""
        self.streams.pop(stream.id, None)

    def close(self, code: int = NO_ERROR) -> None:
        """Queue GOAWAY (we process no server streams: last stream id 0)."""
        if not self.closed:
            self.out += frame(GOAWAY, 0, 0, _U32x2.pack(0, code))
            self.closed = True

    # -- receiving ----------------------------------------------------------------------------

    def receive(self, data: bytes) -> tuple[list[Stream], int]:
        """Process bytes from the server. Returns the streams that finished (END_STREAM or
        RST_STREAM: look at them) and what changed on the connection (a bit set)."""
        finished: list[Stream] = []
        changes = 0
        buf = self._buffer + data if self._buffer else data
        pos = 0
        end = len(buf)
        unpack = _HEADER.unpack_from
        try:
            while end - pos >= 9:
                hi, lo, kind, flags, sid = unpack(buf, pos)
                length = (hi << 8) | lo
                if length > self._max_frame:
                    raise self._fail(FRAME_SIZE, f"a frame of {length} bytes")
                if end - pos - 9 < length:
                    break
                payload = buf[pos + 9 : pos + 9 + length]
                pos += 9 + length
                sid &= _MAX_WINDOW
                if self._block is not None and kind != CONTINUATION:
                    raise self._fail(PROTOCOL, "a header block was interrupted")
                if kind == DATA:
                    stream = self._data(sid, flags, payload)
                    if stream is not None:
                        finished.append(stream)
                elif kind == HEADERS or kind == CONTINUATION:
                    stream = self._headers(kind, sid, flags, payload)
                    if stream is not None:
                        finished.append(stream)
                elif kind == WINDOW_UPDATE:
                    changes |= self._window_update(sid, payload, finished)
                elif kind == SETTINGS:
                    changes |= self._settings_frame(sid, flags, payload)
                elif kind == PING:
                    if sid or length != 8:
                        raise self._fail(PROTOCOL if sid else FRAME_SIZE, "a malformed PING")
                    if not flags & ACK:
                        self.out += frame(PING, ACK, 0, payload)
                elif kind == RST_STREAM:
                    if not sid or length != 4:
                        raise self._fail(PROTOCOL if not sid else FRAME_SIZE, "a malformed RST_STREAM")
                    self._check_opened(sid)
                    stream = self.streams.pop(sid, None)
                    if stream is not None:
                        stream.reset = _U32.unpack(payload)[0]
                        finished.append(stream)
                        changes |= WINDOW_OPENED  # a sender blocked on it must look
                elif kind == GOAWAY:
                    if sid or length < 8:
                        raise self._fail(PROTOCOL, "a malformed GOAWAY")
                    last, code = _U32x2.unpack_from(payload)
                    last &= _MAX_WINDOW
                    if self.last_stream_id is None or last < self.last_stream_id:
                        self.last_stream_id = last
                    self.goaway_code = code
                    changes |= GOING_AWAY
                elif kind == PUSH_PROMISE:
                    raise self._fail(PROTOCOL, "PUSH_PROMISE, which we disabled")
                elif kind == PRIORITY:
                    if length != 5:
                        raise self._fail(FRAME_SIZE, "a malformed PRIORITY")
                # other frame types are extensions: ignored (RFC 9113 4.1)
        finally:
            self._buffer = buf[pos:] if pos < end else b""
        if self._recv_unacked >= self._connection_window // 2:
            self.out += frame(WINDOW_UPDATE, 0, 0, _U32.pack(self._recv_unacked))
            self.recv_window += self._recv_unacked
            self._recv_unacked = 0
        return finished, changes

    def _fail(self, code: int, why: str) -> ProtocolError:
        self.close(code)
        return ProtocolError(f"{error_name(code)}: {why}")

    def _check_opened(self, sid: int) -> None:
        if sid % 2 == 0 or sid >= self.next_id:  # a stream we never opened (idle) or the server's
            raise self._fail(PROTOCOL, f"a frame on stream {sid}, which we did not open")

    def _data(self, sid: int, flags: int, payload: bytes) -> Stream | None:
        if not sid:
            raise self._fail(PROTOCOL, "DATA on stream 0")
        size = len(payload)
        if size > self.recv_window:
            raise self._fail(FLOW_CONTROL, "DATA beyond the connection window")
        self.recv_window -= size
        self._recv_unacked += size  # consumed at once (the reply is kept in memory)
        stream = self.streams.get(sid)
        if stream is None:
            self._check_opened(sid)
            return None  # a stream we reset or forgot: the data only counts for the connection
        if stream.ended or stream.headers is None:
            raise self._fail(PROTOCOL, "DATA before the reply headers or after END_STREAM")
        if size > stream.recv_window:
            raise self._fail(FLOW_CONTROL, "DATA beyond the stream window")
        stream.recv_window -= size
        if flags & PADDED:
            payload = self._unpad(payload)
        if payload:
            stream.chunks.append(payload)
        if flags & END_STREAM:
            stream.ended = True
            return stream
        stream.recv_unacked += size
        if stream.recv_unacked >= self._stream_window // 2:
            self.out += frame(WINDOW_UPDATE, 0, sid, _U32.pack(stream.recv_unacked))
            stream.recv_window += stream.recv_unacked
            stream.recv_unacked = 0
        return None

    def _unpad(self, payload: bytes) -> bytes:
        if not payload or payload[0] >= len(payload):
            raise self._fail(PROTOCOL, "padding longer than the frame")
        return payload[1 : len(payload) - payload[0]]

    def _headers(self, kind: int, sid: int, flags: int, payload: bytes) -> Stream | None:
        if kind == CONTINUATION:
            if self._block is None or sid != self._block_sid:
                raise self._fail(PROTOCOL, "an unexpected CONTINUATION")
            self._block.append(payload)
            if sum(map(len, self._block)) > _MAX_HEADER_BLOCK:
                raise self._fail(PROTOCOL, "a header block too long")
            if not flags & END_HEADERS:
                return None
            payload = b"".join(self._block)
            self._block = None
            flags = self._block_flags
        else:
            if not sid:
                raise self._fail(PROTOCOL, "HEADERS on stream 0")
            self._check_opened(sid)
            if flags & PADDED:
                payload = self._unpad(payload)
            if flags & PRIORITY_FLAG:
                if len(payload) < 5:
                    raise self._fail(FRAME_SIZE, "a HEADERS frame too short for its priority")
                payload = payload[5:]
            if not flags & END_HEADERS:
                self._block, self._block_sid, self._block_flags = [payload], sid, flags
                return None
        headers = self._decode(payload)  # always: the decoder's table must follow the server's
        stream = self.streams.get(sid)
        if stream is None:
            return None
        if stream.ended:
            raise self._fail(PROTOCOL, "HEADERS after END_STREAM")
        if stream.headers is None:
            if headers and headers[0][0] == ":status" and headers[0][1][:1] == "1" and not flags & END_STREAM:
                return None  # an informational (1xx) reply: the real one follows
            stream.headers = headers
        else:
            if not flags & END_STREAM:
                raise self._fail(PROTOCOL, "trailers without END_STREAM")
            stream.trailers = headers
        if flags & END_STREAM:
            stream.ended = True
            return stream
        return None

    def _decode(self, block: bytes) -> list[tuple[str, str]]:
        """``hpack``'s decoding of ``block``, remembered while it cannot change.

        A server indexes its repeated headers, so after the first replies a block is a few index
        bytes that add nothing to the table: the same bytes decode to the same list as long as the
        table is the one they were decoded against. The table's state is told by its size limit,
        its length and its newest entry (by identity: an insertion makes a new tuple, held here so
        that its id cannot be reused); blocks that changed the table are not remembered.
        """
        table = self._decoder.header_table
        entries = table.dynamic_entries
        state = (table.maxsize, len(entries), entries[0] if entries else None)
        hit = self._decoded.get(block)
        if hit is not None and hit[0] == state[:2] and hit[1] is state[2]:
            return hit[2]
        try:
            headers = self._decoder.decode(block)
        except HPACKError as exc:
            raise self._fail(
                COMPRESSION, f"a header block that cannot be decoded ({type(exc).__name__})"
            ) from None
        after = (table.maxsize, len(entries), entries[0] if entries else None)
        if after[:2] == state[:2] and after[2] is state[2]:
            if len(self._decoded) >= 64:
                self._decoded.clear()
            self._decoded[block] = (state[:2], state[2], headers)  # type: ignore[assignment]
        return headers  # type: ignore[return-value]

    def _window_update(self, sid: int, payload: bytes, finished: list[Stream]) -> int:
        if len(payload) != 4:
            raise self._fail(FRAME_SIZE, "a malformed WINDOW_UPDATE")
        grow = _U32.unpack(payload)[0] & _MAX_WINDOW
        if not sid:
            if not grow:
                raise self._fail(PROTOCOL, "a WINDOW_UPDATE of 0")
            self.send_window += grow
            if self.send_window > _MAX_WINDOW:
                raise self._fail(FLOW_CONTROL, "the connection window overflowed")
            return WINDOW_OPENED
        stream = self.streams.get(sid)
        if stream is None:
            self._check_opened(sid)
            return 0  # a stream that is gone
        if not grow or stream.send_window + grow > _MAX_WINDOW:
            # a stream error: reset the stream, keep the connection
            self.out += frame(RST_STREAM, 0, sid, _U32.pack(PROTOCOL if not grow else FLOW_CONTROL))
            stream.reset = PROTOCOL if not grow else FLOW_CONTROL
            self.streams.pop(sid, None)
            finished.append(stream)
            return WINDOW_OPENED
        stream.send_window += grow
        return WINDOW_OPENED

    def _settings_frame(self, sid: int, flags: int, payload: bytes) -> int:
        if sid:
            raise self._fail(PROTOCOL, "SETTINGS on a stream")
        if flags & ACK:
            if payload:
                raise self._fail(FRAME_SIZE, "a SETTINGS ACK with a payload")
            return 0
        if len(payload) % 6:
            raise self._fail(FRAME_SIZE, "a malformed SETTINGS")
        for i in range(0, len(payload), 6):
            key, value = _SETTING.unpack_from(payload, i)
            if key == MAX_CONCURRENT_STREAMS:
                self.max_concurrent_streams = value
            elif key == INITIAL_WINDOW_SIZE:
                if value > _MAX_WINDOW:
                    raise self._fail(FLOW_CONTROL, "an initial window beyond 2^31 - 1")
                delta = value - self.send_initial_window
                self.send_initial_window = value
                for stream in self.streams.values():  # RFC 9113 6.9.2: open streams change too
                    stream.send_window += delta
                    if stream.send_window > _MAX_WINDOW:
                        raise self._fail(FLOW_CONTROL, "a stream window overflowed")
            elif key == MAX_FRAME_SIZE:
                if not 16384 <= value <= 16777215:
                    raise self._fail(PROTOCOL, "a max frame size out of range")
                self.send_max_frame = value
            elif key == HEADER_TABLE_SIZE:
                # we never index (our table stays empty), but a change must be answered with a
                # size update at the start of the next block (RFC 7541 4.2): 0 fits any limit
                self._table_update = b"\x20"
            elif key == ENABLE_PUSH and value > 1:
                raise self._fail(PROTOCOL, "ENABLE_PUSH beyond 1")
            # unknown settings are ignored (RFC 9113 6.5.2)
        self.out += frame(SETTINGS, ACK, 0)
        self.settings_received = True
        return SETTINGS_CHANGED | WINDOW_OPENED
