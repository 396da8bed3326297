"""A unary gRPC channel on anyio and the sans-IO ``h2`` library, for loops grpclib cannot run on.

grpclib (the asyncio channel) is built on ``h2`` too; this is the same protocol work without
asyncio, so it runs on trio (and on asyncio). It only does what :class:`GrpcBackend` needs: one
request message in, one reply message out, as bytes (encoding is done by convert.py/fast.py).

Design (the same shape as httpcore's HTTP/2 connection):

* One HTTP/2 connection per channel, opened on the first call (in the running loop), replaced
  when it breaks or the server sends GOAWAY. Calls are multiplexed on it as streams.
* No background task: a call that waits for its reply reads the socket itself under a read lock
  and hands every event to the stream it belongs to, so whichever call reads serves the others.
  h2's state is only touched between awaits (one thread, cooperative), so it needs no lock;
  outgoing bytes are queued in order and written under a write lock.
* Flow control: request data is sent as far as the server's windows allow, then the sender
  reads until a WINDOW_UPDATE (or the reply) comes. Received data is acknowledged at once and
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
import select
import ssl as _ssl
from collections.abc import Callable, Sequence
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


class _Call:
    """What one stream has received so far."""

    __slots__ = ("chunks", "ended", "headers", "reset", "sent", "trailers")

    def __init__(self) -> None:
        self.headers: list[tuple[str, str]] | None = None
        self.trailers: list[tuple[str, str]] | None = None
        self.chunks: list[bytes] = []
        self.ended = False
        self.reset: int | None = None
        self.sent = False  # the whole request (END_STREAM) has been handed to the socket


class _Connection:
    #: ``grpc-encoding`` of request messages ("gzip" / "deflate"): the caller compresses the
    #: payload, the frame says so (the channel's ``compression``)
    compression: str | None = None

    def __init__(self, stream: anyio.abc.ByteStream, authority: str, scheme: str) -> None:
        self.stream = stream
        self.authority = authority
        self.scheme = scheme
        self.h2 = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
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
        self.calls: dict[int, _Call] = {}
        self.out = bytearray()
        self.read_lock = anyio.Lock(fast_acquire=True)
        self.write_lock = anyio.Lock(fast_acquire=True)
        self.error: str | None = None  # set once the connection is broken
        self.last_stream_id: int | None = None  # from GOAWAY: later streams were not processed
        self.retired = False  # no new streams (GOAWAY, stream ids used up)
        self.changed = anyio.Event()  # a stream closed or settings changed: capacity may be free
        self._raw = stream.extra(anyio.abc.SocketAttribute.raw_socket, None)

    @property
    def accepting(self) -> bool:
        return self.error is None and not self.retired

    # -- writing --------------------------------------------------------------------------------

    async def flush(self) -> None:
        """Write everything h2 has queued, in order.

        A write interrupted halfway leaves half a frame on the wire, so it breaks the connection.
        Small writes (headers, acks, resets, small messages) are shielded from cancellation for up
        to a few seconds so that a caller's deadline does not cost everyone the connection.
        """
        self.out += self.h2.data_to_send()
        if not self.out:
            return
        async with self.write_lock:
            if not self.out:
                return
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
                await self.abort(f"sending failed: {_describe(exc)}")
                if isinstance(exc, Exception):
                    raise ChannelError(self.error or "sending failed", sent=True) from None
                raise

    # -- reading --------------------------------------------------------------------------------

    async def read_until(self, done: Callable[[], bool]) -> None:
        """Read and dispatch until ``done()`` (checked before every read) or the connection breaks."""
        while not done():
            if self.error is not None:
                return
            async with self.read_lock:
                if done() or self.error is not None:
                    return
                await self._read_once()
            await self.flush()  # window updates, settings and ping acks

    async def _read_once(self) -> None:
        try:
            data = await self.stream.receive(_READ_SIZE)
        except anyio.EndOfStream:
            await self.abort("the server closed the connection")
            return
        except Exception as exc:
            await self.abort(f"reading failed: {_describe(exc)}")
            return
        try:
            events = self.h2.receive_data(data)
        except h2.exceptions.ProtocolError as exc:
            await self.abort(f"HTTP/2 protocol error: {_describe(exc)}")
            return
        for event in events:
            self._dispatch(event)

    def _dispatch(self, event: h2.events.Event) -> None:
        call = self.calls.get(getattr(event, "stream_id", None) or 0)
        if isinstance(event, h2.events.DataReceived):
            if event.flow_controlled_length:
                self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            if call is not None and event.data:
                call.chunks.append(event.data)
        elif isinstance(event, h2.events.ResponseReceived):
            if call is not None:
                call.headers = event.headers  # type: ignore[assignment]
        elif isinstance(event, h2.events.TrailersReceived):
            if call is not None:
                call.trailers = event.headers  # type: ignore[assignment]
        elif isinstance(event, h2.events.StreamEnded):
            if call is not None:
                call.ended = True
        elif isinstance(event, h2.events.StreamReset):
            if call is not None:
                call.reset = event.error_code
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.retired = True
            self.last_stream_id = event.last_stream_id
            self._wake()
        elif isinstance(event, h2.events.RemoteSettingsChanged):
            self._wake()

    def _wake(self) -> None:
        self.changed.set()
        self.changed = anyio.Event()

    def idle_with_input(self) -> bool:
        """No call in flight, yet the socket has input (a GOAWAY, a PING, EOF...)."""
        if self.calls or self._raw is None:
            return False
        try:
            if hasattr(select, "poll"):
                poller = select.poll()
                poller.register(self._raw, select.POLLIN)
                return bool(poller.poll(0))
            return bool(select.select([self._raw], [], [], 0)[0])
        except (OSError, ValueError):
            return True  # a closed socket: reading it says so

    async def take_input(self) -> None:
        async with self.read_lock:
            if self.error is None:
                await self._read_once()
        if self.error is None:
            await self.flush()

    async def abort(self, reason: str) -> None:
        if self.error is None:
            self.error = reason
        self._wake()
        await anyio.aclose_forcefully(self.stream)

    # -- one call -------------------------------------------------------------------------------

    async def unary(
        self, path: str, payload: bytes, metadata: Sequence[tuple[str, str]], timeout: float | None
    ) -> bytes | None:
        conn = self.h2
        while conn.open_outbound_streams >= conn.remote_settings.max_concurrent_streams:
            if not self.accepting:
                raise ChannelError(self.error or "the connection is closing", sent=False)
            await self.changed.wait()
        if not self.accepting:
            raise ChannelError(self.error or "the connection is closing", sent=False)
        headers = [
            (":method", "POST"),
            (":scheme", self.scheme),
            (":path", path),
            (":authority", self.authority),
            ("content-type", "application/grpc+proto"),
            ("te", "trailers"),
            ("user-agent", "grpc-python-aqdrant-h2"),
        ]
        if timeout is not None:
            headers.append(("grpc-timeout", encode_timeout(timeout)))
        if self.compression:
            headers.append(("grpc-encoding", self.compression))
        headers.extend((k, v) for k, v in metadata if k not in _FORBIDDEN and not k.startswith(":"))
        try:
            sid = conn.get_next_available_stream_id()
        except h2.exceptions.NoAvailableStreamIDError:
            self.retired = True
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
                await self.read_until(lambda: self._settled(sid, call))
            except ChannelError as exc:  # the connection broke: did this call's request get out?
                raise ChannelError(str(exc), sent=call.sent and not self._ignored(sid)) from None
            if self._ignored(sid):
                raise ChannelError("the server is going away and did not take this call", sent=False)
            if self.error is not None and not call.ended:
                raise ChannelError(self.error, sent=call.sent)
            return _reply(call)
        finally:
            del self.calls[sid]
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
            self._wake()

    def _ignored(self, sid: int) -> bool:
        """The server's GOAWAY says it will not process this stream."""
        return self.last_stream_id is not None and sid > self.last_stream_id

    def _settled(self, sid: int, call: _Call) -> bool:
        return call.ended or call.reset is not None or self._ignored(sid)

    async def _send(self, sid: int, call: _Call, payload: bytes) -> None:
        conn = self.h2
        prefix = (b"\x01" if self.compression else b"\x00") + len(payload).to_bytes(4, "big")
        data = memoryview(prefix + payload) if len(payload) < _SMALL else None
        pieces = [memoryview(data)] if data is not None else [memoryview(prefix), memoryview(payload)]
        total = sum(len(p) for p in pieces)
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
            await self.read_until(lambda: self._settled(sid, call) or conn.local_flow_control_window(sid) > 0)
            if self._settled(sid, call) or self.error is not None:
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
    """Unary gRPC calls to ``host:port`` over one multiplexed HTTP/2 connection (anyio).

    :param ssl: an ``ssl.SSLContext`` for TLS (it should offer ALPN ``h2``), or None for h2c.
    """

    def __init__(
        self, host: str, port: int, *, ssl: _ssl.SSLContext | None = None, compression: str | None = None
    ) -> None:
        self.compression = compression  # request messages arrive compressed with it (see _Connection)
        self.host = host
        self.port = port
        self._ssl = ssl
        shown = f"[{host}]" if ":" in host else host
        self._authority = f"{shown}:{port}"
        self._conn: _Connection | None = None
        self._old: set[_Connection] = set()  # replaced, still finishing their calls
        self._connect_lock = anyio.Lock()
        self._closed = False

    def __repr__(self) -> str:
        return f"H2Channel('{'https' if self._ssl else 'http'}://{self._authority}')"

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
            conn = await self._connection()
            timeout = None if deadline is None else max(deadline - anyio.current_time(), 0.0)
            try:
                return await conn.unary(path, payload, metadata, timeout)
            finally:
                if conn is not self._conn and not conn.calls:
                    self._old.discard(conn)
                    with anyio.CancelScope(shield=True):
                        await anyio.aclose_forcefully(conn.stream)
        assert scope.cancelled_caught
        raise TimeoutError("gRPC deadline exceeded")

    async def _connection(self) -> _Connection:
        if self._closed:
            raise ChannelError("the channel is closed", sent=False)
        conn = self._conn
        if conn is not None and conn.accepting and conn.idle_with_input():
            # whatever the server sent while we were idle (a GOAWAY, EOF) decides if it is usable
            with anyio.move_on_after(0.1):  # a partial TLS record may need a moment more
                await conn.take_input()
        if conn is not None and conn.accepting:
            return conn
        async with self._connect_lock:
            conn = self._conn
            if conn is not None and conn.accepting:
                return conn
            if conn is not None:
                if conn.calls:
                    self._old.add(conn)
                else:
                    await anyio.aclose_forcefully(conn.stream)
                self._conn = None
            self._conn = conn = await self._open()
            return conn

    async def _open(self) -> _Connection:
        try:
            stream: anyio.abc.ByteStream = await anyio.connect_tcp(
                self.host,
                self.port,
                ssl_context=self._ssl,
                tls_standard_compatible=False,
            )
        except (OSError, anyio.BrokenResourceError, anyio.EndOfStream) as exc:  # incl. ssl.SSLError
            raise ChannelError(f"cannot connect to {self._authority}: {_describe(exc)}", sent=False) from None
        if self._ssl is not None:
            from anyio.streams.tls import TLSAttribute

            alpn = stream.extra(TLSAttribute.alpn_protocol, None)
            if alpn not in (None, "h2"):
                await anyio.aclose_forcefully(stream)
                raise ChannelError(f"{self._authority} negotiated {alpn!r}, not HTTP/2", sent=False)
        conn = _Connection(stream, self._authority, "https" if self._ssl else "http")
        conn.compression = self.compression
        return conn

    def abandon(self) -> None:
        """Close the sockets without awaiting: for a channel whose event loop is gone."""
        self._closed = True
        for conn in (self._conn, *self._old):
            if conn is not None and conn._raw is not None:
                conn.error = conn.error or "the channel was abandoned"
                with contextlib.suppress(OSError):
                    conn._raw.close()
        self._conn, self._old = None, set()

    async def aclose(self) -> None:
        """Close the connection(s); calls still in flight fail with :class:`ChannelError`."""
        self._closed = True
        conns = [c for c in (self._conn, *self._old) if c is not None]
        self._conn, self._old = None, set()
        for conn in conns:
            if conn.error is None:
                conn.h2.close_connection()  # GOAWAY: polite, not waited for
                with anyio.CancelScope(shield=True), anyio.move_on_after(1):
                    try:
                        await conn.flush()
                    except ChannelError:
                        pass
            await conn.abort("the channel was closed")
