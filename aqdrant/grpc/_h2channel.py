"""The client's unary gRPC channel, on asyncio and trio, over :mod:`aqdrant.grpc._h2wire`.

It only does what :class:`GrpcBackend` needs: one request message in, one reply message out, as
bytes (encoding is done by grpc/convert and grpc/fast). The HTTP/2 protocol work is ``_h2wire``'s
(sans-IO); this module owns the connections, the calls and the waiting.

Design (the shape of HTTP/2 clients such as grpc-go's or hyper's):

* Each connection has **one reader** that dispatches every frame to the stream it belongs to; a
  call waits on its own waiter, so a reply is handed over the moment it is read (no caller reads
  for the others, and none waits for another's turn). On asyncio the reader is the connection
  itself, an ``asyncio.Protocol`` the loop hands the bytes to; on trio it is a system task reading
  the socket (it belongs to the connection, not to the call that opened it).
* Calls are multiplexed on a connection as streams, up to the server's ``max_concurrent_streams``
  (no stream is opened before the server's SETTINGS have come). When every connection is full,
  another is opened (up to ``max_connections``); past that, calls wait for a free stream.
  A connection that breaks or gets GOAWAY takes no new calls and is closed once its calls end.
* The wire state is only touched between awaits (one thread, cooperative), so it needs no lock.
  A call's HEADERS and DATA leave in one write. asyncio: the transport takes every write whole.
  trio: a write goes straight to the socket when it takes it all, otherwise the rest is written
  under a write lock, in order, by whoever holds it.
* Flow control: request data is sent as far as the server's windows allow, then the sender waits
  for the reader to see a WINDOW_UPDATE (or the reply). Received data is acknowledged as it is
  read and the local windows are large, so big replies stream at full speed. No message-size
  ceiling.
* Deadlines: a call waits for its reply without a cancel scope or a timer of its own; one timer
  per connection wakes the calls whose deadline passed (a heap); a timed-out or cancelled call
  resets its stream (RST_STREAM CANCEL) and leaves the connection usable. On trio a write interrupted halfway
  would leave half a frame on the wire, so it breaks the connection (small writes are shielded).

Errors: :class:`GrpcStatusError` (a non-OK ``grpc-status``, with the metadata),
:class:`ChannelError` (connection-level; ``sent`` tells whether the server may have the request),
``TimeoutError`` (the deadline passed), ``ValueError`` (metadata HTTP/2 cannot carry; the message
names the key, never the value).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import heapq
import math
import socket as _socket
import ssl as _ssl
from collections.abc import Callable, Sequence
from typing import Any

import anyio
import anyio.abc
import anyio.streams.tls

from ._grpcreply import ChannelError, GrpcStatusError, encode_timeout, read_reply
from ._h2wire import (
    CANCEL,
    FORBIDDEN,
    GOING_AWAY,
    SETTINGS_CHANGED,
    H2Wire,
    ProtocolError,
    Stream,
    _literal,
    header_block,
    metadata_block,
    timeout_block,
)

__all__ = ["ChannelError", "GrpcStatusError", "H2Channel", "encode_timeout"]

_STREAM_WINDOW = 16 * 1024 * 1024  # per call: a multi-MB reply needs no WINDOW_UPDATE round trip
_CONNECTION_WINDOW = 256 * 1024 * 1024
_MAX_FRAME = 1024 * 1024  # fewer, larger DATA frames for big replies
_READ_SIZE = 256 * 1024
_SMALL = 64 * 1024  # messages below this get the 5-byte prefix joined (one DATA frame)
_SHIELDED_WRITE = 5.0
_MAX_CONNECTIONS = 8  # per channel, opened only when the server's stream limit is reached

_USER_AGENT = "grpc-python-aqdrant-h2"


class _Call(Stream):
    """One call's stream, and how its caller is woken (``flag``: woken while it was not waiting)."""

    __slots__ = ("flag", "sent", "timed", "waiter")

    def __init__(self) -> None:
        super().__init__()
        self.sent = False  # the whole request (END_STREAM) has been handed to the socket
        self.flag = False
        self.timed = False  # its deadline is in the trio timer's heap
        self.waiter: Any = None  # an asyncio future or a parked trio task


class _Connection:
    """One HTTP/2 connection: the wire state, its calls, and the waits; the I/O is the subclass's
    (:class:`_AsyncioConnection`: a protocol fed by the loop; :class:`_TrioConnection`: a reader
    task over an anyio stream)."""

    def __init__(
        self, authority: str, scheme: str, on_room: Callable[[], None], compression: str | None
    ) -> None:
        self.wire = H2Wire(
            stream_window=_STREAM_WINDOW, connection_window=_CONNECTION_WINDOW, max_frame_size=_MAX_FRAME
        )
        self.wire.initiate()
        self.authority, self.scheme = authority, scheme
        #: ``grpc-encoding`` of request messages ("gzip" / "deflate"): the caller compresses the
        #: payload, the frame says so (the channel's ``compression``)
        self.compression = compression
        self.calls: dict[int, _Call] = {}
        self.blocked: set[_Call] = set()  # senders waiting for a flow-control window
        self.error: str | None = None  # set once the connection is broken
        self.last_stream_id: int | None = None  # from GOAWAY: later streams were not processed
        self.retired = False  # no new streams (GOAWAY, stream ids used up)
        self.ready = anyio.Event()  # the server's SETTINGS came (or the connection failed)
        self._on_room = on_room  # tells the channel that a stream slot may be free
        self._blocks: dict[str, bytes] = {}  # path -> the request's fixed header block
        self._metadata: dict[tuple[str, str], bytes] = {}  # (name, value) -> its header field
        self._raw: Any = None  # the socket, for abandon()
        # A timer per call costs more than the call's channel work; one timer per connection is
        # armed at the earliest deadline instead. The heap holds (deadline, stream id): ids are
        # never reused, and an ended call's entry (dropped lazily) keeps no reply alive.
        self._deadlines: list[tuple[float, int]] = []
        self._timer_at = math.inf  # when the connection's timer is armed for

    @property
    def accepting(self) -> bool:
        return self.error is None and not self.retired

    def has_room(self) -> bool:
        return (
            self.error is None
            and not self.retired
            and self.ready.is_set()
            and len(self.calls) < self.wire.max_concurrent_streams
        )

    # -- what the server sent -------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Process bytes read from the socket: wake the calls they finish, answer what needs it."""
        try:
            finished, changes = self.wire.receive(data)
        except ProtocolError as exc:
            self.push()  # our GOAWAY, best effort
            self.fail(f"HTTP/2 protocol error: {exc}")
            self.abort()
            return
        for call in finished:
            self.wake(call)  # type: ignore[arg-type]
        if changes:
            if changes & GOING_AWAY:
                self.retired = True
                self.last_stream_id = self.wire.last_stream_id
                for sid, call in self.calls.items():
                    if self._ignored(sid):
                        self.wake(call)
                self._on_room()
            if changes & SETTINGS_CHANGED:
                self.ready.set()
                self._on_room()  # max_concurrent_streams may have grown
            if self.blocked:  # the windows may have grown (or a blocked call was reset)
                for call in self.blocked:
                    self.wake(call)
                self.blocked.clear()
        if self.wire.out:
            self.push()  # window updates, settings and ping acks

    def fail(self, reason: str) -> None:
        """Mark the connection broken and wake everyone waiting on it (idempotent)."""
        if self.error is None:
            self.error = reason
        for call in self.calls.values():
            self.wake(call)
        self.blocked.clear()
        self.ready.set()
        self._on_room()

    def _ignored(self, sid: int) -> bool:
        """The server's GOAWAY says it will not process this stream."""
        return self.last_stream_id is not None and sid > self.last_stream_id

    def _settled(self, call: _Call) -> bool:
        return call.ended or call.reset is not None or self._ignored(call.id) or self.error is not None

    # -- one call -------------------------------------------------------------------------------

    def _header_block(self, path: str, metadata: Sequence[tuple[str, str]], timeout: float | None) -> bytes:
        block = self._blocks.get(path)
        if block is None:
            block = self._blocks[path] = header_block(path, self.authority, self.scheme, _USER_AGENT)
        parts = [block]
        if timeout is not None:
            parts.append(timeout_block(encode_timeout(timeout)))
        if self.compression:
            parts.append(_literal("grpc-encoding", self.compression))
        known = self._metadata
        for item in metadata:
            field = known.get(item)
            if field is None:
                name, value = item
                if name in FORBIDDEN or name[:1] == ":":
                    continue  # the transport's own headers: not the caller's to set
                if len(known) >= 256:
                    known.clear()
                field = known[item] = metadata_block(name, value)
            parts.append(field)
        return b"".join(parts)

    async def unary(
        self, path: str, payload: bytes, metadata: Sequence[tuple[str, str]], deadline: float | None
    ) -> bytes | None:
        """One call on this connection. The caller checked :meth:`has_room` without awaiting since."""
        wire = self.wire
        timeout = None if deadline is None else max(deadline - self.now(), 0.0)
        block = self._header_block(path, metadata, timeout)  # ValueError before anything is sent
        if not wire.ids_left:
            self.retired = True
            self._on_room()
            raise ChannelError("stream ids used up", sent=False)
        call = _Call()
        sid = wire.open(call, block)
        self.calls[sid] = call
        try:
            try:
                size = len(payload) + 5
                prefix = (b"\x01" if self.compression else b"\x00") + len(payload).to_bytes(4, "big")
                if size <= _SMALL and size <= wire.send_max_frame and size <= wire.sendable(call):
                    wire.send(call, prefix + payload, end_stream=True)  # the common case: one frame
                    call.sent = True  # from here the server may have it, even if the write fails
                    await self.write()  # HEADERS and DATA in one write
                else:
                    await self._send_big(call, [memoryview(prefix), memoryview(payload)], deadline)
                while not self._settled(call):
                    if not await self.wait(call, deadline):
                        raise TimeoutError("gRPC deadline exceeded")
            except ChannelError as exc:  # the connection broke: did this call's request get out?
                raise ChannelError(str(exc), sent=call.sent and not self._ignored(sid)) from None
            if self._ignored(sid):
                raise ChannelError("the server is going away and did not take this call", sent=False)
            if self.error is not None and not call.ended:
                raise ChannelError(self.error, sent=call.sent)
            return read_reply(call)
        finally:
            del self.calls[sid]
            self.blocked.discard(call)
            if self.error is None and not call.closed:
                # cancelled, timed out, or the server answered before taking all of the request
                wire.reset(call, CANCEL)
                await self.write_quietly()
            else:
                wire.forget(call)
            self._on_room()

    async def _send_big(self, call: _Call, pieces: list[memoryview], deadline: float | None) -> None:
        """Send a message that may need several frames and WINDOW_UPDATEs."""
        wire = self.wire
        while True:
            while pieces and wire.sendable(call) > 0:
                last = len(pieces) == 1
                done = wire.send(call, pieces[0], end_stream=last)
                if done == len(pieces[0]):
                    pieces.pop(0)
                else:
                    pieces[0] = pieces[0][done:]
            if not pieces:
                call.sent = True  # END_STREAM is queued
            await self.write()
            if not pieces:
                return
            # wait for the reader to see a WINDOW_UPDATE (or the reply, a reset, a failure)
            while not self._settled(call) and wire.sendable(call) <= 0:
                self.blocked.add(call)
                if not await self.wait(call, deadline):
                    raise TimeoutError("gRPC deadline exceeded")
            if self._settled(call):
                return  # the server answered (or the connection broke) before taking all of it

    # -- deadlines ----------------------------------------------------------------------------------

    def _arm(self, deadline: float, call: _Call) -> None:
        """Put ``call``'s deadline in the heap (once per call: its deadline does not change)."""
        call.timed = True
        heap = self._deadlines
        heapq.heappush(heap, (deadline, call.id))
        if len(heap) > 2 * len(self.calls) + 64:
            heap[:] = [e for e in heap if e[1] in self.calls]
            heapq.heapify(heap)
        if deadline < self._timer_at:
            self._timer_at = deadline
            self.set_timer(deadline)

    def _expire(self, now: float) -> None:
        """The timer fired: wake the waiting calls whose deadline has passed (their wait returns
        False), then re-arm for the earliest one left."""
        heap = self._deadlines
        while heap and heap[0][0] <= now:
            call = self.calls.get(heapq.heappop(heap)[1])
            if call is not None and call.waiter is not None:
                self.time_out(call)
        self._timer_at = heap[0][0] if heap else math.inf
        if heap:
            self.set_timer(self._timer_at)

    # -- I/O: the subclass's ----------------------------------------------------------------------

    def set_timer(self, when: float) -> None:
        """(Re)arm the connection's timer to call :meth:`_expire` at ``when`` (loop time)."""
        raise NotImplementedError

    def time_out(self, call: _Call) -> None:
        """Wake ``call``'s waiter with False (its deadline passed)."""
        raise NotImplementedError

    now: Callable[[], float]  # the loop's clock (anyio.current_time() without its dispatch)

    def push(self) -> None:
        """Write what the wire has queued, if that needs no wait (from the reader)."""
        raise NotImplementedError

    async def write(self) -> None:
        """Write what the wire has queued (ChannelError if the connection is broken)."""
        raise NotImplementedError

    async def write_quietly(self) -> None:
        """Write a reset or a GOAWAY: best effort, never raises, bounded in time."""
        raise NotImplementedError

    def wake(self, call: _Call) -> None:
        raise NotImplementedError

    async def wait(self, call: _Call, deadline: float | None) -> bool:
        """Until :meth:`wake` (True) or the deadline (False)."""
        raise NotImplementedError

    def abort(self) -> None:
        """Drop the socket now (the reader ends)."""
        raise NotImplementedError

    async def close(self, reason: str) -> None:
        self.fail(reason)
        self.abort()


class _AsyncioConnection(_Connection, asyncio.Protocol):
    """asyncio: the loop feeds the protocol (no reader task, no per-read selector changes), and
    the transport buffers whole writes, so a cancelled caller never leaves half a frame."""

    transport: asyncio.Transport | None = None

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._loop = asyncio.get_running_loop()
        self.now = self._loop.time
        self._drained: asyncio.Future[None] | None = None  # set while the transport is paused
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._raw = transport.get_extra_info("socket")
        self.push()  # the preface and our SETTINGS

    def data_received(self, data: bytes) -> None:
        if self.error is None:
            self.feed(data)

    def eof_received(self) -> bool:
        self.fail("the server closed the connection")
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.fail(f"reading failed: {_describe(exc)}" if exc else "the server closed the connection")
        self._resume()

    def pause_writing(self) -> None:
        if self._drained is None:
            self._drained = self._loop.create_future()

    def resume_writing(self) -> None:
        self._resume()

    def _resume(self) -> None:
        drained, self._drained = self._drained, None
        if drained is not None and not drained.done():
            drained.set_result(None)

    def push(self) -> None:
        out = self.wire.out
        if out and self.transport is not None and not self.transport.is_closing():
            self.transport.write(bytes(out))
        out.clear()

    async def write(self) -> None:
        if self.error is not None:
            raise ChannelError(self.error, sent=True)
        self.push()
        if self._drained is not None:  # the socket is full: wait until the transport drains
            await asyncio.shield(self._drained)
            if self.error is not None:
                raise ChannelError(self.error, sent=True)

    async def write_quietly(self) -> None:
        self.push()

    def wake(self, call: _Call) -> None:
        call.flag = True
        waiter = call.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(True)

    async def wait(self, call: _Call, deadline: float | None) -> bool:
        if not call.flag:
            if deadline is not None:  # the anyio clock on asyncio is the loop's: a loop time
                if deadline <= self._loop.time():
                    return False
                if not call.timed:
                    self._arm(deadline, call)
            waiter = call.waiter = self._loop.create_future()
            try:
                if not await waiter:
                    return False
            finally:
                call.waiter = None
        call.flag = False
        return True

    def set_timer(self, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._loop.call_at(when, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = math.inf  # _expire re-arms if entries are left
        self._expire(self._loop.time())

    def time_out(self, call: _Call) -> None:
        waiter = call.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(False)

    def abort(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.transport is not None:
            self.transport.close()  # what is buffered (a GOAWAY) still goes out


class _TrioConnection(_Connection):
    """trio: a reader task (a system task: it belongs to the connection, not to the call that
    opened it) over an anyio stream; writes are queued in order and sent under a lock by whoever
    holds it."""

    def __init__(self, stream: anyio.abc.ByteStream, *args: Any) -> None:
        import outcome
        import trio

        super().__init__(*args)
        self._trio = trio
        self._outcome = outcome  # the timer wakes a call with outcome.Value(True)
        self.now = trio.current_time
        self.stream = stream
        self.write_lock = anyio.Lock(fast_acquire=True)
        self._reader_scope = anyio.CancelScope()
        self._timer_scope: Any = None  # the timer task's sleep, until the earliest deadline
        self._timer_outer = trio.CancelScope()  # the timer task's life
        self._raw = stream.extra(anyio.abc.SocketAttribute.raw_socket, None)
        # plain TCP is read and written on the socket itself (TLS needs the stream)
        self._sock = None if stream.extra(anyio.streams.tls.TLSAttribute.ssl_object, None) else self._raw

    def start(self) -> None:
        self._trio.lowlevel.spawn_system_task(self._read_loop, name="aqdrant-h2-reader")

    async def _read_loop(self) -> None:
        try:
            with self._reader_scope:
                await self.write()  # the connection preface and our SETTINGS
                while self.error is None:
                    try:
                        data = await self._receive()
                    except anyio.EndOfStream:
                        self.fail("the server closed the connection")
                        break
                    except Exception as exc:
                        self.fail(f"reading failed: {_describe(exc)}")
                        break
                    self.feed(data)
                    # acks and resets; if a caller is writing, it sends them after its own bytes
                    if self.wire.out and not self.write_lock.locked():
                        await self.write()
        except Exception as exc:  # a reader must not raise into the loop (on trio: a crash)
            self.fail(f"the connection failed: {_describe(exc)}")
        finally:
            self.fail("the connection was closed")
            self._timer_outer.cancel()
            with anyio.CancelScope(shield=True):
                await anyio.aclose_forcefully(self.stream)

    async def _receive(self) -> bytes:
        sock = self._sock
        if sock is None:  # TLS: through the stream
            return await self.stream.receive(_READ_SIZE)
        # plain TCP: wait, then read (trio's own stream tries a read first, which after a reply
        # is almost always one more system call that finds nothing)
        await self._trio.lowlevel.wait_readable(sock)
        try:
            data = sock.recv(_READ_SIZE)
        except BlockingIOError:
            return b""
        if not data:
            raise anyio.EndOfStream
        return data

    def push(self) -> None:
        pass  # the reader (or the caller holding the write lock) writes it next

    async def write(self) -> None:
        """Write everything queued, in order, until nothing is left.

        Plain TCP: first straight to the socket (non-blocking; what asyncio's transports do),
        which takes a small write whole. Otherwise through the stream, under the write lock; a
        write interrupted halfway leaves half a frame on the wire, so it breaks the connection.
        Small writes (headers, acks, resets, small messages) are shielded from cancellation for
        up to a few seconds so that a caller's deadline does not cost everyone the connection.
        """
        out = self.wire.out
        if not out:
            return
        if self.error is not None:
            raise ChannelError(self.error, sent=True)
        if self._sock is not None and not self.write_lock.locked():
            try:
                del out[: self._sock.send(out)]
            except BlockingIOError:
                pass
            except OSError as exc:
                await self.close(f"sending failed: {_describe(exc)}")
                raise ChannelError(self.error or "sending failed", sent=True) from None
            if not out:
                return
        async with self.write_lock:
            while out:
                if self.error is not None:
                    raise ChannelError(self.error, sent=True)
                data = bytes(out)
                out.clear()
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

    async def write_quietly(self) -> None:
        with anyio.CancelScope(shield=True), anyio.move_on_after(1), contextlib.suppress(ChannelError):
            await self.write()

    def wake(self, call: _Call) -> None:
        call.flag = True
        task = call.waiter
        if task is not None:
            call.waiter = None
            self._trio.lowlevel.reschedule(task)

    async def wait(self, call: _Call, deadline: float | None) -> bool:
        if not call.flag:
            trio = self._trio
            if deadline is not None:
                if deadline <= trio.current_time():
                    return False
                if not call.timed:
                    self._arm(deadline, call)
            call.waiter = trio.lowlevel.current_task()

            def abort(_: Any) -> Any:
                call.waiter = None
                return trio.lowlevel.Abort.SUCCEEDED

            if await trio.lowlevel.wait_task_rescheduled(abort):  # True: from the timer
                return False
        call.flag = False
        return True

    # A cancel scope per wait costs ~10 us on trio: one timer task per connection sleeps until
    # the earliest deadline instead.

    def set_timer(self, when: float) -> None:
        if self._timer_scope is None:
            self._timer_scope = self._trio.CancelScope(deadline=when)
            self._trio.lowlevel.spawn_system_task(self._timer_loop, name="aqdrant-h2-timer")
        else:
            self._timer_scope.deadline = when

    def time_out(self, call: _Call) -> None:
        task = call.waiter
        call.waiter = None
        self._trio.lowlevel.reschedule(task, self._outcome.Value(True))

    async def _timer_loop(self) -> None:
        trio = self._trio
        with self._timer_outer:
            while self.error is None:
                with self._timer_scope:
                    await trio.sleep_forever()
                self._timer_scope = trio.CancelScope(deadline=math.inf)
                self._timer_at = math.inf  # _expire re-arms if entries are left
                self._expire(trio.current_time())

    def abort(self) -> None:
        self._reader_scope.cancel()
        self._timer_outer.cancel()

    async def close(self, reason: str) -> None:
        self.fail(reason)
        self.abort()
        with anyio.CancelScope(shield=True):
            await anyio.aclose_forcefully(self.stream)


def _is_asyncio() -> bool:
    import sniffio

    return sniffio.current_async_library() == "asyncio"


def _alpn(ssl_object: Any) -> str | None:
    return ssl_object.selected_alpn_protocol() if ssl_object is not None else None


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
        self._waiters: collections.deque[anyio.Event] = collections.deque()  # calls waiting for room
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
        for conn in self._conns:  # the common case: a connection with a free stream, no await
            if conn.has_room():
                break
        else:
            with anyio.CancelScope(deadline=math.inf if deadline is None else deadline) as scope:
                conn = await self._acquire()
            if scope.cancelled_caught:
                raise TimeoutError("gRPC deadline exceeded")
        try:
            return await conn.unary(path, payload, metadata, deadline)
        finally:
            if not conn.accepting and not conn.calls:
                await self._retire(conn)

    def _wake(self) -> None:
        """Wake as many waiting calls as there may be room for, oldest first (waking them all at
        each finished call would cost O(waiting) per call with thousands in flight)."""
        waiters = self._waiters
        if not waiters:
            return
        if self._closed:
            while waiters:
                waiters.popleft().set()
            return
        room = sum(
            max(0, c.wire.max_concurrent_streams - len(c.calls))
            for c in self._conns
            if c.accepting and c.ready.is_set()
        )
        if len(self._conns) < self._max_connections or any(not c.accepting for c in self._conns):
            room += 1  # one of them may open a connection (or retire a broken one)
        for _ in range(min(room, len(waiters))):
            waiters.popleft().set()

    async def _acquire(self) -> _Connection:
        """A connection with a free stream slot (opening one if needed); no await after the check."""
        woken = False
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
            event = anyio.Event()
            if woken:  # it was first in line and lost the room to a newer call: first again
                self._waiters.appendleft(event)
            else:
                self._waiters.append(event)
            woken = True
            try:
                await event.wait()
            except BaseException:
                if event.is_set():
                    self._wake()  # the room it was woken for goes to the next one
                else:
                    self._waiters.remove(event)
                raise

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
        scheme = "https" if self._ssl else "http"
        try:
            try:
                if _is_asyncio():
                    conn = await self._connect_asyncio(scheme)
                else:
                    stream: anyio.abc.ByteStream = (
                        await anyio.connect_tcp(
                            self.host, self.port, ssl_context=self._ssl, tls_standard_compatible=False
                        )
                        if self._ssl is not None
                        else await anyio.connect_tcp(self.host, self.port)
                    )
                    alpn = _alpn(stream.extra(anyio.streams.tls.TLSAttribute.ssl_object, None))
                    if alpn not in (None, "h2"):
                        await anyio.aclose_forcefully(stream)
                        raise ChannelError(f"{self._authority} negotiated {alpn!r}, not HTTP/2", sent=False)
                    conn = _TrioConnection(stream, self._authority, scheme, self._wake, self.compression)
                    conn.start()
            except (OSError, anyio.BrokenResourceError, anyio.EndOfStream) as exc:  # incl. ssl.SSLError
                raise ChannelError(
                    f"cannot connect to {self._authority}: {_describe(exc)}", sent=False
                ) from None
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

    async def _connect_asyncio(self, scheme: str) -> _Connection:
        loop = asyncio.get_running_loop()
        conn = _AsyncioConnection(self._authority, scheme, self._wake, self.compression)
        await loop.create_connection(
            lambda: conn,
            self.host,
            self.port,
            ssl=self._ssl,
            server_hostname=self.host if self._ssl else None,
        )
        if self._ssl is not None:
            alpn = _alpn(conn.transport.get_extra_info("ssl_object") if conn.transport else None)
            if alpn not in (None, "h2"):
                conn.abort()
                raise ChannelError(f"{self._authority} negotiated {alpn!r}, not HTTP/2", sent=False)
        return conn

    def abandon(self) -> None:
        """Close the sockets without awaiting: for a channel whose event loop is gone."""
        self._closed = True
        for conn in (*self._conns, *self._old):
            conn.error = conn.error or "the channel was abandoned"
            if conn._raw is not None:  # its loop is gone: end the TCP connection by hand
                with contextlib.suppress(OSError):
                    conn._raw.shutdown(_socket.SHUT_RDWR)
                with contextlib.suppress(Exception):
                    conn._raw.close()
        self._conns, self._old = [], set()

    async def aclose(self) -> None:
        """Close the connection(s); calls still in flight fail with :class:`ChannelError`."""
        self._closed = True
        conns = [*self._conns, *self._old]
        self._conns, self._old = [], set()
        for conn in conns:
            if conn.error is None:
                conn.wire.close()  # GOAWAY: polite, not waited for
                await conn.write_quietly()
            await conn.close("the channel was closed")
        self._wake()
