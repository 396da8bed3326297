"""A unary gRPC channel on anyio and the sans-IO ``h2`` library, for loops grpclib cannot run on.

grpclib (the asyncio channel) is built on ``h2`` too; this is the same protocol work without
asyncio, so it runs on trio (and on asyncio). It only does what :class:`GrpcBackend` needs: one
request message in, one reply message out, as bytes (encoding is done by grpc/convert and grpc/fast).

Design (the shape of HTTP/2 clients such as grpc-go's or hyper's):

* Each connection has **one reader task** that reads the socket and dispatches every frame to the
  stream it belongs to; a call waits on its own event, so a reply is handed over the moment it is
  read (no caller reads for the others, and none waits for another's turn). The reader runs as
  a system task on trio (an ordinary task on asyncio): it belongs to the connection, not to the
  call that opened it, and ends with the connection.
* Calls are multiplexed on a connection as streams, up to the server's ``max_concurrent_streams``
  (no stream is opened before the server's SETTINGS have come). When every connection is full,
  another is opened (up to ``max_connections``); past that, calls wait for a free stream.
  A connection that breaks or gets GOAWAY takes no new calls and is closed once its calls end.
* h2's state is only touched between awaits (one thread, cooperative), so it needs no lock;
  outgoing bytes are queued in order and written under a write lock, by whoever holds it.
* Flow control: request data is sent as far as the server's windows allow, then the sender waits
  for the reader to see a WINDOW_UPDATE (or the reply). Received data is acknowledged at once and
  the local windows are large, so big replies stream at full speed. No message-size ceiling.
* An interrupted write (cancellation, error) may leave half a frame on the wire, so it breaks
  the connection; the next call opens a new one. A cancelled or timed-out call resets its stream
  (RST_STREAM CANCEL) and leaves the connection usable.

Errors: :class:`GrpcStatusError` (a non-OK ``grpc-status``, with the metadata),
:class:`ChannelError` (connection-level; ``sent`` tells whether the server may have the request),
``TimeoutError`` (the deadline passed), ``ValueError`` (metadata h2 refuses to send).
"""

from __future__ import annotations

import contextlib
import ssl as _ssl
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import unquote

import anyio
import anyio.abc
import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings

__all__ = ["ChannelError", "GrpcStatusError", "H2Channel"]

_STREAM_WINDOW = 16 * 1024 * 1024  # per call: a multi-MB reply needs no WINDOW_UPDATE round trip
_CONNECTION_WINDOW = 256 * 1024 * 1024
_MAX_FRAME = 1024 * 1024  # fewer, larger DATA frames for big replies
_READ_SIZE = 256 * 1024
_SMALL = 64 * 1024  # messages below this get the 5-byte prefix joined (one DATA frame)
_SHIELDED_WRITE = 5.0
_MAX_CONNECTIONS = 8  # per channel, opened only when the server's stream limit is reached

#: HTTP statuses without grpc-status -> gRPC code (the gRPC spec's "HTTP to gRPC status" table)
_HTTP_TO_GRPC = {400: 13, 401: 16, 403: 7, 404: 12, 429: 14, 502: 14, 503: 14, 504: 14}
#: reply headers that are the protocol's, not the server's metadata (as grpclib leaves them out)
_NOT_METADATA = frozenset(
    {"content-type", "grpc-status", "grpc-message", "grpc-encoding", "grpc-accept-encoding"}
)
#: connection-specific headers HTTP/2 forbids; gRPC metadata never carries them
_FORBIDDEN = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "host"}
)


class GrpcStatusError(Exception):
    """The server answered with a non-OK ``grpc-status``."""

    def __init__(self, code: int, message: str, metadata: dict[str, str]) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.metadata = metadata


class ChannelError(Exception):
    """The connection failed. ``sent`` is False when the server provably did not get the request."""

    def __init__(self, message: str, *, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


def encode_timeout(seconds: float) -> str:
    """A ``grpc-timeout`` value: at most 8 digits and a unit."""
    if seconds > 10:
        return f"{min(int(seconds), 99_999_999)}S"
    if seconds > 0.01:
        return f"{int(seconds * 1e3)}m"
    if seconds > 0.00001:
        return f"{int(seconds * 1e6)}u"
    return f"{max(1, int(seconds * 1e9))}n"


def _spawn(fn: Callable[[], Awaitable[None]]) -> Any:
    """Start ``fn()`` in the running loop, owned by no caller (it must never raise).

    trio: a system task (cancelled when the run ends); asyncio: a task, returned so that the
    connection holds a reference to it.
    """
    import sniffio

    if sniffio.current_async_library() == "trio":
        import trio

        trio.lowlevel.spawn_system_task(fn, name="aqdrant-h2-reader")
        return None
    import asyncio

    return asyncio.get_running_loop().create_task(fn())  # type: ignore[arg-type]


class _Call:
    """What one stream has received so far; ``done`` is set when the caller should look."""

    __slots__ = ("chunks", "done", "ended", "headers", "reset", "sent", "trailers")

    def __init__(self) -> None:
        self.headers: list[tuple[str, str]] | None = None
        self.trailers: list[tuple[str, str]] | None = None
        self.chunks: list[bytes] = []
        self.ended = False
        self.reset: int | None = None
        self.sent = False  # the whole request (END_STREAM) has been handed to the socket
        self.done = anyio.Event()


class _Connection:
    """One HTTP/2 connection: its reader task, its streams, its write queue."""

    #: ``grpc-encoding`` of request messages ("gzip" / "deflate"): the caller compresses the
    #: payload, the frame says so (the channel's ``compression``)
    compression: str | None = None

    def __init__(
        self, stream: anyio.abc.ByteStream, authority: str, scheme: str, on_room: Callable[[], None]
    ) -> None:
        self.stream = stream
        self.h2 = h2.connection.H2Connection(
            # the server's headers are not re-validated (CPU per call); ours are: metadata h2
            # refuses to send is a ValueError before anything is sent
            h2.config.H2Configuration(
                client_side=True,
                header_encoding="utf-8",
                validate_inbound_headers=False,
                normalize_inbound_headers=False,
            )
        )
        codes = h2.settings.SettingCodes
        self.h2.local_settings = h2.settings.Settings(
            client=True,
            initial_values={
                codes.ENABLE_PUSH: 0,
                codes.INITIAL_WINDOW_SIZE: _STREAM_WINDOW,
                codes.MAX_FRAME_SIZE: _MAX_FRAME,
                codes.MAX_CONCURRENT_STREAMS: 1000,
                codes.MAX_HEADER_LIST_SIZE: 1024 * 1024,
            },
        )
        self.h2.max_inbound_frame_size = _MAX_FRAME  # h2 read it from the settings it replaced
        self.h2.initiate_connection()
        self.h2.increment_flow_control_window(_CONNECTION_WINDOW - 65535)
        self.base_headers = [
            (":method", "POST"),
            (":scheme", scheme),
            (":path", ""),
            (":authority", authority),
            ("content-type", "application/grpc+proto"),
            ("te", "trailers"),
            ("user-agent", "grpc-python-aqdrant-h2"),
        ]
        self.calls: dict[int, _Call] = {}
        self.blocked: dict[int, anyio.Event] = {}  # senders waiting for a flow-control window
        self.out = bytearray()
        self.write_lock = anyio.Lock(fast_acquire=True)
        self.error: str | None = None  # set once the connection is broken
        self.last_stream_id: int | None = None  # from GOAWAY: later streams were not processed
        self.retired = False  # no new streams (GOAWAY, stream ids used up)
        self.ready = anyio.Event()  # the server's SETTINGS came (or the connection failed)
        self._on_room = on_room  # tells the channel that a stream slot may be free
        self._reader_scope = anyio.CancelScope()
        self._reader: Any = None
        self._raw = stream.extra(anyio.abc.SocketAttribute.raw_socket, None)

    @property
    def accepting(self) -> bool:
        return self.error is None and not self.retired

    def has_room(self) -> bool:
        return (
            self.error is None
            and not self.retired
            and self.ready.is_set()
            and len(self.calls) < self.h2.remote_settings.max_concurrent_streams
        )

    def start(self) -> None:
        self._reader = _spawn(self._read_loop)

    # -- the reader task ------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        try:
            with self._reader_scope:
                await self.flush()  # the connection preface and our SETTINGS
                while self.error is None:
                    try:
                        data = await self.stream.receive(_READ_SIZE)
                    except anyio.EndOfStream:
                        self.fail("the server closed the connection")
                        break
                    except Exception as exc:
                        self.fail(f"reading failed: {_describe(exc)}")
                        break
                    try:
                        events = self.h2.receive_data(data)
                    except h2.exceptions.ProtocolError as exc:
                        self.fail(f"HTTP/2 protocol error: {_describe(exc)}")
                        break
                    for event in events:
                        self._dispatch(event)
                    # window updates, settings and ping acks; if a caller is writing, it sends
                    # them after its own bytes (flush loops until nothing is queued)
                    self.out += self.h2.data_to_send()
                    if self.out and not self.write_lock.locked():
                        await self.flush()
        except Exception as exc:  # a reader must not raise into the loop (on trio: a crash)
            self.fail(f"the connection failed: {_describe(exc)}")
        finally:
            self.fail("the connection was closed")
            with anyio.CancelScope(shield=True):
                await anyio.aclose_forcefully(self.stream)

    def _dispatch(self, event: h2.events.Event) -> None:
        if isinstance(event, h2.events.DataReceived):
            if event.flow_controlled_length:
                self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            call = self.calls.get(event.stream_id)
            if call is not None and event.data:
                call.chunks.append(event.data)
        elif isinstance(event, h2.events.ResponseReceived):
            call = self.calls.get(event.stream_id)
            if call is not None:
                call.headers = event.headers  # type: ignore[assignment]
        elif isinstance(event, h2.events.TrailersReceived):
            call = self.calls.get(event.stream_id)
            if call is not None:
                call.trailers = event.headers  # type: ignore[assignment]
        elif isinstance(event, h2.events.StreamEnded):
            call = self.calls.get(event.stream_id)
            if call is not None:
                call.ended = True
                call.done.set()
            self._wake_senders()
        elif isinstance(event, h2.events.StreamReset):
            call = self.calls.get(event.stream_id)
            if call is not None:
                call.reset = event.error_code
                call.done.set()
            self._wake_senders()
        elif isinstance(event, h2.events.WindowUpdated):
            self._wake_senders()
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.retired = True
            self.last_stream_id = event.last_stream_id
            for sid, call in self.calls.items():
                if self._ignored(sid):
                    call.done.set()
            self._wake_senders()
            self._on_room()
        elif isinstance(event, h2.events.RemoteSettingsChanged):
            self.ready.set()
            self._wake_senders()  # the initial window may have grown
            self._on_room()  # and max_concurrent_streams too

    def _wake_senders(self) -> None:
        if self.blocked:
            for event in self.blocked.values():
                event.set()
            self.blocked.clear()

    def fail(self, reason: str) -> None:
        """Mark the connection broken and wake everyone waiting on it (idempotent)."""
        if self.error is None:
            self.error = reason
        for call in self.calls.values():
            call.done.set()
        self.ready.set()
        self._wake_senders()
        self._on_room()

    async def close(self, reason: str) -> None:
        self.fail(reason)
        self._reader_scope.cancel()
        with anyio.CancelScope(shield=True):
            await anyio.aclose_forcefully(self.stream)

    # -- writing --------------------------------------------------------------------------------

    async def flush(self) -> None:
        """Write everything h2 has queued, in order, until nothing is left.

        A write interrupted halfway leaves half a frame on the wire, so it breaks the connection.
        Small writes (headers, acks, resets, small messages) are shielded from cancellation for up
        to a few seconds so that a caller's deadline does not cost everyone the connection.
        """
        self.out += self.h2.data_to_send()
        if not self.out:
            return
        async with self.write_lock:
            while self.out:
                if self.error is not None:
                    raise ChannelError(self.error, sent=True)
                data = bytes(self.out)
                self.out.clear()
                try:
                    if len(data) <= _SMALL:
                        with anyio.CancelScope(shield=True) as scope:
                            scope.deadline = anyio.current_time() + _SHIELDED_WRITE
                            await self.stream.send(data)
                        if scope.cancelled_caught:
                            raise TimeoutError(f"the server took no data for {_SHIELDED_WRITE} s")
                    else:
                        await self.stream.send(data)
                except BaseException as exc:
                    await self.close(f"sending failed: {_describe(exc)}")
                    if isinstance(exc, Exception):
                        raise ChannelError(self.error or "sending failed", sent=True) from None
                    raise
                self.out += self.h2.data_to_send()  # queued by others while this was sent

    # -- one call -------------------------------------------------------------------------------

    async def unary(
        self, path: str, payload: bytes, metadata: Sequence[tuple[str, str]], timeout: float | None
    ) -> bytes | None:
        """One call on this connection. The caller checked :meth:`has_room` without awaiting since."""
        conn = self.h2
        headers = self.base_headers.copy()
        headers[2] = (":path", path)
        if timeout is not None:
            headers.append(("grpc-timeout", encode_timeout(timeout)))
        if self.compression:
            headers.append(("grpc-encoding", self.compression))
        headers.extend((k, v) for k, v in metadata if k not in _FORBIDDEN and not k.startswith(":"))
        try:
            sid = conn.get_next_available_stream_id()
        except h2.exceptions.NoAvailableStreamIDError:
            self.retired = True
            self._on_room()
            raise ChannelError("stream ids used up", sent=False) from None
        try:
            conn.send_headers(sid, headers)
        except h2.exceptions.TooManyStreamsError:
            raise ChannelError("the server allows no more concurrent calls", sent=False) from None
        except h2.exceptions.ProtocolError:
            names = ", ".join(k for k, _ in metadata)
            raise ValueError(f"gRPC metadata h2 refuses to send (names: {names})") from None
        call = self.calls[sid] = _Call()
        try:
            try:
                await self._send(sid, call, payload)
                await call.done.wait()
            except ChannelError as exc:  # the connection broke: did this call's request get out?
                raise ChannelError(str(exc), sent=call.sent and not self._ignored(sid)) from None
            if self._ignored(sid):
                raise ChannelError("the server is going away and did not take this call", sent=False)
            if self.error is not None and not call.ended:
                raise ChannelError(self.error, sent=call.sent)
            return _reply(call)
        finally:
            del self.calls[sid]
            self.blocked.pop(sid, None)
            stream = conn.streams.get(sid)
            if self.error is None and stream is not None and not stream.closed:
                # cancelled, timed out, or the server answered before taking all of the request
                with contextlib.suppress(h2.exceptions.ProtocolError):
                    conn.reset_stream(sid, h2.errors.ErrorCodes.CANCEL)
                with (
                    anyio.CancelScope(shield=True),
                    anyio.move_on_after(1),
                    contextlib.suppress(ChannelError),
                ):
                    await self.flush()
            self._on_room()

    def _ignored(self, sid: int) -> bool:
        """The server's GOAWAY says it will not process this stream."""
        return self.last_stream_id is not None and sid > self.last_stream_id

    def _settled(self, sid: int, call: _Call) -> bool:
        return call.ended or call.reset is not None or self._ignored(sid) or self.error is not None

    async def _send(self, sid: int, call: _Call, payload: bytes) -> None:
        conn = self.h2
        prefix = (b"\x01" if self.compression else b"\x00") + len(payload).to_bytes(4, "big")
        if len(payload) + 5 <= min(_SMALL, conn.max_outbound_frame_size, conn.local_flow_control_window(sid)):
            conn.send_data(sid, prefix + payload, end_stream=True)  # the common case: one frame
            call.sent = True
            await self.flush()
            return
        pieces = [memoryview(prefix), memoryview(payload)]
        total = len(payload) + 5
        done = 0
        while True:
            window = conn.local_flow_control_window(sid)
            frame = conn.max_outbound_frame_size
            while window > 0 and pieces:
                piece = pieces[0]
                size = min(window, frame, len(piece))
                done += size
                conn.send_data(sid, piece[:size], end_stream=done == total)
                window -= size
                if size == len(piece):
                    pieces.pop(0)
                else:
                    pieces[0] = piece[size:]
            if not pieces:
                call.sent = True
                await self.flush()
                return
            await self.flush()
            # wait for the reader to see a WINDOW_UPDATE (or the reply, a reset, a failure)
            while not self._settled(sid, call) and conn.local_flow_control_window(sid) <= 0:
                event = self.blocked[sid] = anyio.Event()
                await event.wait()
            if self._settled(sid, call):
                return  # the server answered (or the connection broke) before taking all of it


def _reply(call: _Call) -> bytes | None:
    headers = dict(call.headers or ())
    trailers = dict(call.trailers or ()) if call.trailers is not None else headers  # trailers-only
    metadata = {k: v for k, v in {**headers, **trailers}.items() if k not in _NOT_METADATA and k[0] != ":"}
    if call.reset is not None and "grpc-status" not in trailers:
        if call.reset == h2.errors.ErrorCodes.REFUSED_STREAM:
            raise ChannelError("the server refused the stream", sent=False)
        raise ChannelError(f"the server reset the stream ({_error_code(call.reset)})", sent=True)
    http_status = headers.get(":status", "")
    if "grpc-status" not in trailers:
        if http_status != "200":
            code = _HTTP_TO_GRPC.get(int(http_status) if http_status.isdigit() else 0, 2)
            raise GrpcStatusError(code, f"HTTP status {http_status or 'missing'}", metadata)
        raise GrpcStatusError(13, "the reply has no grpc-status", metadata)
    code = int(trailers["grpc-status"]) if trailers["grpc-status"].isdigit() else 2
    if code != 0:
        raise GrpcStatusError(code, unquote(trailers.get("grpc-message", ""), errors="replace"), metadata)
    data = call.chunks[0] if len(call.chunks) == 1 else b"".join(call.chunks)
    if len(data) < 5:
        return None
    if data[0] & 1:
        if headers.get("grpc-encoding", "identity") != "gzip":
            raise GrpcStatusError(13, "compressed reply without a known grpc-encoding", metadata)
        import gzip

        length = int.from_bytes(data[1:5], "big")
        return gzip.decompress(data[5 : 5 + length])
    length = int.from_bytes(data[1:5], "big")
    if len(data) < 5 + length:
        raise GrpcStatusError(13, "the reply message is truncated", metadata)
    return data[5 : 5 + length]


def _error_code(code: int) -> str:
    try:
        return h2.errors.ErrorCodes(code).name
    except ValueError:
        return str(code)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class H2Channel:
    """Unary gRPC calls to ``host:port``, multiplexed over HTTP/2 connections (anyio).

    :param ssl: an ``ssl.SSLContext`` for TLS (it should offer ALPN ``h2``), or None for h2c.
    :param compression: "gzip" / "deflate": request messages are compressed by the caller and sent
        flagged so (``grpc-encoding``).
    :param max_connections: how many connections to open at most when the server's
        ``max_concurrent_streams`` is reached on each (calls beyond that wait for a free stream).
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        ssl: _ssl.SSLContext | None = None,
        max_connections: int = _MAX_CONNECTIONS,
        compression: str | None = None,
    ) -> None:
        self.compression = compression  # request messages arrive compressed with it (see _Connection)
        self.host = host
        self.port = port
        self._ssl = ssl
        shown = f"[{host}]" if ":" in host else host
        self._authority = f"{shown}:{port}"
        self._max_connections = max(1, max_connections)
        self._conns: list[_Connection] = []  # taking calls, oldest first
        self._old: set[_Connection] = set()  # broken or going away, still finishing their calls
        self._opening = False  # one connection is opened at a time
        self._room = anyio.Event()  # set (and replaced) when a stream slot may have come free
        self._waiting = 0  # calls waiting for _room
        self._closed = False

    def __repr__(self) -> str:
        return f"H2Channel('{'https' if self._ssl else 'http'}://{self._authority}')"

    @property
    def _conn(self) -> _Connection | None:
        """The first connection taking calls (the only one unless the server's stream limit is hit)."""
        return self._conns[0] if self._conns else None

    async def unary(
        self,
        path: str,
        payload: bytes,
        *,
        metadata: Sequence[tuple[str, str]] = (),
        deadline: float | None = None,
    ) -> bytes | None:
        """Send one request message to ``path`` (``/package.Service/Method``) and return the reply.

        ``deadline`` is absolute (``anyio.current_time()``); it is sent as ``grpc-timeout`` and
        enforced here too (``TimeoutError``). Returns None for a reply without a message.
        """
        with anyio.CancelScope(deadline=deadline if deadline is not None else float("inf")) as scope:
            conn = await self._acquire()
            timeout = None if deadline is None else max(deadline - anyio.current_time(), 0.0)
            try:
                return await conn.unary(path, payload, metadata, timeout)
            finally:
                if not conn.accepting and not conn.calls:
                    await self._retire(conn)
        assert scope.cancelled_caught
        raise TimeoutError("gRPC deadline exceeded")

    def _wake(self) -> None:
        if self._waiting:
            self._room.set()
            self._room = anyio.Event()

    async def _acquire(self) -> _Connection:
        """A connection with a free stream slot (opening one if needed); no await after the check."""
        while True:
            if self._closed:
                raise ChannelError("the channel is closed", sent=False)
            for conn in self._conns:
                if conn.has_room():
                    return conn
            for conn in [c for c in self._conns if not c.accepting]:
                await self._retire(conn)
            if not self._opening and len(self._conns) < self._max_connections:
                await self._open()
                continue
            self._waiting += 1
            try:
                await self._room.wait()
            finally:
                self._waiting -= 1

    async def _retire(self, conn: _Connection) -> None:
        """Take ``conn`` out of service; close it once its calls have ended."""
        if conn in self._conns:
            self._conns.remove(conn)
        if conn.calls:
            self._old.add(conn)
        else:
            self._old.discard(conn)
            await conn.close("the connection was retired")

    async def _open(self) -> None:
        self._opening = True
        conn: _Connection | None = None
        try:
            try:
                stream: anyio.abc.ByteStream = await anyio.connect_tcp(
                    self.host, self.port, ssl_context=self._ssl, tls_standard_compatible=False
                )
            except (OSError, anyio.BrokenResourceError, anyio.EndOfStream) as exc:  # incl. ssl.SSLError
                raise ChannelError(
                    f"cannot connect to {self._authority}: {_describe(exc)}", sent=False
                ) from None
            if self._ssl is not None:
                from anyio.streams.tls import TLSAttribute

                alpn = stream.extra(TLSAttribute.alpn_protocol, None)
                if alpn not in (None, "h2"):
                    await anyio.aclose_forcefully(stream)
                    raise ChannelError(f"{self._authority} negotiated {alpn!r}, not HTTP/2", sent=False)
            conn = _Connection(stream, self._authority, "https" if self._ssl else "http", self._wake)
            conn.compression = self.compression
            conn.start()
            await conn.ready.wait()  # the server's SETTINGS: its stream limit and windows
            if conn.error is not None:
                raise ChannelError(f"{self._authority}: {conn.error}", sent=False)
            if self._closed:
                raise ChannelError("the channel is closed", sent=False)
            self._conns.append(conn)
            conn = None
        finally:
            self._opening = False
            if conn is not None:
                await conn.close("the connection was not completed")
            self._wake()

    def abandon(self) -> None:
        """Close the sockets without awaiting: for a channel whose event loop is gone."""
        self._closed = True
        for conn in (*self._conns, *self._old):
            conn.error = conn.error or "the channel was abandoned"
            if conn._raw is not None:
                with contextlib.suppress(OSError):
                    conn._raw.close()
        self._conns, self._old = [], set()

    async def aclose(self) -> None:
        """Close the connection(s); calls still in flight fail with :class:`ChannelError`."""
        self._closed = True
        conns = [*self._conns, *self._old]
        self._conns, self._old = [], set()
        for conn in conns:
            if conn.error is None:
                conn.h2.close_connection()  # GOAWAY: polite, not waited for
                with anyio.CancelScope(shield=True), anyio.move_on_after(1):
                    try:
                        await conn.flush()
                    except ChannelError:
                        pass
            await conn.close("the channel was closed")
        self._wake()
