"""The REST backend: one attempt of one operation over ``httpx.AsyncClient``.

Nothing is bound to an event loop at construction: the httpx client is created on first use,
inside the running loop (asyncio or trio). What goes on the wire is written and read by
:mod:`aqdrant.models._codec` (encoding, the response envelope, sliced encode/parse, size
estimates); this module decides when: large bodies (over ``offload_threshold`` bytes) are
encoded in slices between loop turns and large responses decoded in a worker thread, so the
event loop never stalls on them.
"""

from __future__ import annotations

import enum
import inspect
import os
import secrets
import ssl
import sys
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import anyio
import anyio.to_thread
import httpx
import msgspec
from anyio.lowlevel import RunVar, checkpoint

try:  # httpx's own mapping of httpcore errors, for the direct path (private: without it, no direct path)
    from httpx._transports.default import map_httpcore_exceptions
except ImportError:  # pragma: no cover - a future httpx
    map_httpcore_exceptions = None  # type: ignore[assignment]

from .. import models
from .._backend import Request
from .._optable import Operation
from .._retry import parse_retry_after
from ..errors import QdrantError, RateLimited, TransportError, UnexpectedResponse, ValidationError
from ..models._codec import (  # the JSON codec beside the models; this module is the transport
    SLICE_BYTES,
    encode_slices,
)
from ..models._codec import approx_size as _approx_size
from ..models._codec import decode_result as _decode
from ..models._codec import server_message as _server_message

#: bodies (estimated) larger than this are encoded in slices with loop turns between them, one
#: body at a time; responses larger than this are decoded in a worker thread. 256 KiB encodes in
#: about 0.5 ms; ten concurrent upserts of 100 x 768-d points (about 1.5 MB each from Python
#: floats, 0.8 MB from float32 arrays) would otherwise all be encoded in the same loop iteration
#: (bench_heartbeat.py measured 35-50 ms gaps with 1 MiB here).
OFFLOAD_THRESHOLD = 256 << 10
#: connections when ``pool_size`` is not given. httpcore's pool does work per connection on
#: every request it assigns, so a big pool costs CPU on the loop; 20 is httpx's keep-alive default
DEFAULT_POOL_SIZE = 20
#: upload and download chunk size
CHUNK_SIZE = 1 << 20


def _user_agent() -> str:
    from .. import __version__

    return f"aqdrant/{__version__} python/{sys.version_info.major}.{sys.version_info.minor}"


def base_url(
    url: str | None = None,
    *,
    host: str | None = None,
    port: int | None = 6333,
    https: bool | None = None,
    prefix: str | None = None,
) -> str:
    """The server's base URL from the peer client's arguments (``url`` or ``host``/``port``)."""
    if url is not None and host is not None:
        raise ValueError("give either url or host, not both")
    if url is not None:
        if "://" not in url:
            url = f"http://{url}"
        parts = urlsplit(url)
        scheme = parts.scheme
        if https is not None:
            scheme = "https" if https else "http"
        hostname = parts.hostname or "localhost"
        url_port = parts.port if parts.port is not None else port
        path = parts.path.rstrip("/")
    else:
        scheme = "https" if https else "http"
        hostname = host or "localhost"
        url_port = port
        path = ""
    if ":" in hostname and not hostname.startswith("["):
        hostname = f"[{hostname}]"  # IPv6 literal
    netloc = hostname if url_port is None else f"{hostname}:{url_port}"
    if prefix:
        path = f"{path}/{prefix.strip('/')}"
    return f"{scheme}://{netloc}{path}"


class RestBackend:
    """A :class:`aqdrant._backend.Backend` speaking Qdrant's REST API through httpx.

    :param url: e.g. ``http://localhost:6333`` (a missing port is ``port``).
    :param host, port, https, prefix: as in the peer client, when ``url`` is not given.
    :param pool_size: most connections kept open (httpx ``max_connections``); None: httpx's default.
    :param verify, cert, http2, trust_env: passed to ``httpx.AsyncClient``.
    :param connect_timeout: seconds to wait for a connection (None: no limit); the call's own
        deadline is enforced by the pipeline.
    :param read_timeout: seconds to wait for any bytes of a response (None: no limit).
    :param transport: an httpx transport to use instead of the network one (tests).
    :param offload_threshold: bodies over this many bytes are encoded in slices (loop turns between
        them) and responses over it decoded in a worker thread.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        host: str | None = None,
        port: int | None = 6333,
        https: bool | None = None,
        prefix: str | None = None,
        pool_size: int | None = None,
        verify: Any = True,
        cert: Any = None,
        http2: bool = False,
        trust_env: bool = True,
        connect_timeout: float | None = 10.0,
        read_timeout: float | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        offload_threshold: int = OFFLOAD_THRESHOLD,
    ) -> None:
        self.base_url = base_url(url, host=host, port=port, https=https, prefix=prefix)
        self.pool_size = pool_size
        from .._tls import ssl_context

        self._client_kwargs: dict[str, Any] = {
            "verify": ssl_context(verify, cert),  # built here: bad paths fail at construction
            "http2": http2,
            "trust_env": trust_env,
            "transport": transport,
        }
        self._timeout = httpx.Timeout(connect=connect_timeout, read=read_timeout, write=None, pool=None)
        self.offload_threshold = offload_threshold
        self._client: httpx.AsyncClient | None = None
        self._slots: anyio.Semaphore | None = None
        self._pool: _DirectPool | None = None  # connections for calls that skip httpx's client layer
        self._closed = False

    def __repr__(self) -> str:
        return f"RestBackend({self.base_url!r}, pool_size={self.pool_size!r})"

    # -- Backend protocol -------------------------------------------------------------------------

    async def execute(self, request: Request) -> Any:
        op = request.op
        client = self._get_client()
        assert self._slots is not None
        opened = None
        # waiting calls do no work (and hold no encoded body) until a connection is theirs
        async with self._slots:
            try:
                content, headers, opened = await self._body(request)
                if self._pool is not None and opened is None and op.response_kind not in ("binary", "text"):
                    if content is None or isinstance(content, bytes):
                        return await self._direct(request, content, headers)
                http_request = client.build_request(
                    op.method, self._url(request), params=_query(request.query), content=content, headers=headers
                )
                try:
                    response = await client.send(http_request)
                except _TRANSPORT_ERRORS as exc:
                    raise _transport_error(exc, request) from exc
            finally:
                if opened is not None:
                    await opened.aclose()
        if not 200 <= response.status_code < 300:
            raise _status_error(response, request)
        return await self._decode(op, response.content, response)

    async def stream(self, request: Request) -> AsyncIterator[bytes]:
        """Chunks of a binary response, as they arrive (nothing buffers the whole body)."""
        client = self._get_client()
        http_request = client.build_request(
            request.op.method,
            self._url(request),
            params=_query(request.query),
            headers=_send_headers(request.headers, None),
        )
        assert self._slots is not None
        await self._slots.acquire()
        try:
            response = await client.send(http_request, stream=True)
        except BaseException as exc:
            self._slots.release()
            if isinstance(exc, _TRANSPORT_ERRORS):
                raise _transport_error(exc, request) from exc
            raise
        try:
            if not 200 <= response.status_code < 300:
                try:
                    await response.aread()
                except _TRANSPORT_ERRORS as exc:
                    raise _transport_error(exc, request) from exc
                raise _status_error(response, request)
            chunks = response.aiter_bytes()  # as received: a chunk_size would buffer
            while True:
                try:
                    chunk = await chunks.__anext__()
                except StopAsyncIteration:
                    break
                except _TRANSPORT_ERRORS as exc:
                    raise _transport_error(exc, request) from exc
                yield chunk
        finally:
            try:
                with anyio.CancelScope(shield=True):
                    await response.aclose()
            finally:
                self._slots.release()

    async def aclose(self) -> None:
        self._closed = True
        client, self._client = self._client, None
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.aclose()
        if client is not None:
            await client.aclose()

    # -- internals --------------------------------------------------------------------------------

    def _get_client(self) -> httpx.AsyncClient:
        if self._closed:
            raise QdrantError("this client is closed")
        if self._client is None:
            size = self.pool_size if self.pool_size is not None else DEFAULT_POOL_SIZE
            limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
            # requests wait for a connection here, in a fair FIFO, rather than in httpcore's pool
            # queue, which rescans every waiting request on each change (quadratic with thousands
            # of concurrent calls)
            self._slots = anyio.Semaphore(size)
            kwargs = {k: v for k, v in self._client_kwargs.items() if v is not None}
            self._client = httpx.AsyncClient(
                timeout=self._timeout, limits=limits, headers={"user-agent": _user_agent()}, **kwargs
            )
            url = httpx.URL(self.base_url)
            self._pool = _DirectPool.for_client(self._client, url, size)
            if self._pool is not None:
                self._target = (url.raw_scheme, url.raw_host, url.port, url.raw_path.rstrip(b"/"))
                self._fixed_headers = [
                    (b"host", url.netloc),
                    (b"accept", b"*/*"),
                    (b"connection", b"keep-alive"),
                    (b"user-agent", _user_agent().encode()),
                ]
                self._extensions = {"timeout": self._timeout.as_dict()}
        return self._client

    async def _direct(self, request: Request, content: bytes | None, headers: dict[str, str]) -> Any:
        """One exchange on an httpcore connection of our own pool (:class:`_DirectPool`).

        Small calls spend much of their client CPU in httpx's request machinery (URL parsing and
        merging, header models, cookie extraction, redirect and auth flows), none of which a
        Qdrant call needs, and in httpcore's pool, which re-examines every connection for every
        request (a socket poll each: quadratic in the calls in flight). Here the URL is built
        from parts parsed once, the headers are httpx's defaults for this client (no compression
        asked for) plus the call's own, and a connection is taken from a free list. httpcore's
        errors are mapped to httpx's by httpx's own mapping, so failures read the same.
        """
        import httpcore

        scheme, host, port, prefix = self._target
        target = prefix + self._url_path(request).encode()
        params = _query(request.query)
        if params:
            target += b"?" + urlencode(params, quote_via=quote).encode()
        raw_headers = self._fixed_headers.copy()
        raw_headers += [(k.encode(), v.encode()) for k, v in headers.items()]
        if content is not None:
            raw_headers.append((b"content-length", str(len(content)).encode()))
        http_request = httpcore.Request(
            method=request.op.method.encode(),
            url=httpcore.URL(scheme=scheme, host=host, port=port, target=target),
            headers=raw_headers,
            content=content if content is not None else b"",
            extensions=self._extensions,
        )
        pool = self._pool
        assert pool is not None
        conn = await pool.take()
        try:
            with map_httpcore_exceptions():
                response = await conn.handle_async_request(http_request)
                try:
                    body = await response.aread()
                finally:
                    await response.aclose()
        except _TRANSPORT_ERRORS as exc:
            raise _transport_error(exc, request) from exc
        finally:
            await pool.give_back(conn, self._closed)
        if not 200 <= response.status < 300:
            raise _status_error(
                httpx.Response(response.status, headers=response.headers, content=body), request
            )
        if len(body) > self.offload_threshold:
            return await anyio.to_thread.run_sync(
                _decode, request.op, body, True, abandon_on_cancel=True, limiter=_cpu_limiter()
            )
        return _decode(request.op, body)

    def _url(self, request: Request) -> str:
        return self.base_url + self._url_path(request)

    @staticmethod
    def _url_path(request: Request) -> str:
        op = request.op
        try:
            return op.url_path(**request.path_params)
        except KeyError as exc:
            raise ValidationError(f"{op.name}: missing path parameter {exc.args[0]!r}") from None

    async def _body(self, request: Request) -> tuple[Any, dict[str, str], _Upload | None]:
        op = request.op
        body = request.body
        if op.body_kind == "multipart":
            if body is None:
                raise ValidationError(f"{op.name}: a snapshot file (path or binary file object) is required")
            upload = await _Upload.open(body)
            return upload, _send_headers(request.headers, upload.headers()), upload
        if body is None or op.body_kind == "none":
            return None, _send_headers(request.headers, None), None
        extra = {"content-type": "application/json"}
        try:
            if isinstance(body, (bytes, bytearray, memoryview)):
                content = bytes(body)
            elif _approx_size(body, self.offload_threshold) > self.offload_threshold:
                content = _Slices(await _encode_cooperatively(body))
                extra["content-length"] = str(content.size)
            else:
                content = models.dump(body)
        except (TypeError, ValueError, NotImplementedError, msgspec.EncodeError) as exc:
            if isinstance(exc, ValidationError):
                raise
            raise ValidationError(f"{op.name}: cannot encode the request body: {exc}") from exc
        return content, _send_headers(request.headers, extra), None

    async def _decode(self, op: Operation, content: bytes, response: httpx.Response) -> Any:
        kind = op.response_kind
        if kind == "binary":
            return content
        if kind == "text":
            return response.text
        if len(content) > self.offload_threshold:
            return await anyio.to_thread.run_sync(_decode, op, content, True, abandon_on_cancel=True, limiter=_cpu_limiter())
        return _decode(op, content)


async def _encode_cooperatively(body: Any) -> list[bytes]:
    """``models.dump(body)`` for a large body, on the loop, a slice (~0.5 ms of work) per turn;
    the encoded body as its slices (each ~``SLICE_BYTES``), sent as they are (``_Slices``).

    One large body at a time per loop (the others wait their turn), and the loop runs other tasks
    between its slices, so a heartbeat never waits for more than a slice. A worker thread would
    not keep the loop freer (the encoder holds the GIL) and costs more: handing a 2 MB batch to a
    thread and back took 6-9 us of CPU per 768-d point more than this (bench_ingest, 40k points).
    """
    async with _cpu_limiter():
        slices: list[bytes] = []
        parts: list[Any] = []
        size = 0
        for part in encode_slices(body):
            parts.append(part)
            size += len(part)
            if size >= SLICE_BYTES:  # the list's separators travel with its items
                slices.append(b"".join(parts))
                parts, size = [], 0
            await checkpoint()
        if parts:
            slices.append(b"".join(parts))
        return slices


class _Slices:
    """A large request body as the slices it was encoded in, sent one after another with the
    ``content-length`` of their sum: joining 15 MB into one bytes object took 9-10 ms (copying
    into fresh pages) in one go on the event loop."""

    def __init__(self, slices: list[bytes]) -> None:
        self._slices = slices
        self.size = sum(map(len, slices))

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self._slices:
            yield piece


_CPU_LIMITER: RunVar[anyio.CapacityLimiter] = RunVar("aqdrant_rest_cpu_limiter")


class _DirectPool:
    """HTTP/1.1 connections to the one server, kept on a free list (most recently used first).

    Built with the settings of the httpcore pool behind the httpx client (TLS context, keep-alive
    expiry, socket options, network backend), so a call made here meets the server as a call
    through httpx would. The backend's ``_slots`` bound the calls in flight, so there is no queue
    here: a call takes the last idle connection still usable (one readiness check) or a new one.
    """

    def __init__(self, origin: Any, settings: Any, size: int) -> None:
        self._origin = origin
        self._settings = settings
        self._size = size
        self._idle: list[Any] = []

    @classmethod
    def for_client(cls, client: httpx.AsyncClient, url: httpx.URL, size: int) -> _DirectPool | None:
        """None unless calls may skip httpx: its own network transport, no proxy (or other)
        mounts, HTTP/1.1 only (tests' mock transports, proxies and http2=True go through httpx)."""
        import httpcore

        if map_httpcore_exceptions is None:
            return None
        transport = getattr(client, "_transport", None)
        if type(transport) is not httpx.AsyncHTTPTransport or getattr(client, "_mounts", True):
            return None
        pool = getattr(transport, "_pool", None)
        try:
            settings = {
                "ssl_context": pool._ssl_context,
                "keepalive_expiry": pool._keepalive_expiry,
                "http1": True,
                "http2": False,
                "retries": pool._retries,
                "local_address": pool._local_address,
                "uds": pool._uds,
                "network_backend": pool._network_backend,
                "socket_options": pool._socket_options,
            }
            if pool._http2 or not pool._http1 or type(pool) is not httpcore.AsyncConnectionPool:
                return None
        except AttributeError:  # another httpcore: its own pool it is
            return None
        return cls(
            httpcore.Origin(url.raw_scheme, url.raw_host, url.port or (443 if url.scheme == "https" else 80)),
            settings,
            size,
        )

    async def take(self) -> Any:
        import httpcore

        while self._idle:
            conn = self._idle.pop()
            if conn.is_idle() and not conn.has_expired():
                return conn
            with anyio.CancelScope(shield=True):  # expired, or the server closed it
                await conn.aclose()
        return httpcore.AsyncHTTPConnection(self._origin, **self._settings)

    async def give_back(self, conn: Any, closing: bool) -> None:
        if not closing and conn.is_idle() and len(self._idle) < self._size:
            self._idle.append(conn)
        elif not conn.is_closed():
            with anyio.CancelScope(shield=True):
                await conn.aclose()

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            with anyio.CancelScope(shield=True):
                await conn.aclose()


def _cpu_limiter() -> anyio.CapacityLimiter:
    """One large body encoded (on the loop) or decoded (in a worker thread) at a time per loop.

    The work holds the GIL, so doing more at once adds no throughput; it only makes the event
    loop wait longer for its turn (ten concurrent upserts decoded in ten threads gave the loop
    35-40 ms gaps; one at a time bounds a wait by a switch interval / a slice).
    """
    try:
        return _CPU_LIMITER.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(1)
        _CPU_LIMITER.set(limiter)
        return limiter


def _query(query: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in query.items():
        if value is None:
            continue
        if isinstance(value, enum.Enum):
            value = value.value
        if isinstance(value, bool):
            out[name] = "true" if value else "false"
        else:
            out[name] = str(value)
    return out


def _send_headers(headers: Mapping[str, str], extra: Mapping[str, str] | None) -> dict[str, str]:
    out = dict(extra or {})
    out.update(headers)  # the caller's headers win (e.g. a custom content-type)
    return out


#: what a failed exchange raises: httpx's errors, and ssl.SSLError, which httpcore lets through
#: unwrapped when a TLS 1.3 server rejects the handshake after the client sent its request
_TRANSPORT_ERRORS = (httpx.RequestError, ssl.SSLError)


def _transport_error(exc: Exception, request: Request) -> TransportError:
    sent = not isinstance(
        exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
    )
    op = request.op.name
    where = f" on collection {request.collection!r}" if request.collection else ""
    detail = _detail(exc)
    return TransportError(f"{op}{where}: {type(exc).__name__}: {detail}", operation=op, sent=sent)


def _detail(exc: BaseException) -> str:
    """The first non-empty message down the exception's chain (httpx wraps e.g. a TLS failure
    in an exception with no text of its own on some event loops)."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            break
        if str(seen):
            return str(seen) if seen is exc else f"{type(seen).__name__}: {seen}"
        seen = seen.__cause__ or seen.__context__
    return "no detail"


def _status_error(response: httpx.Response, request: Request) -> UnexpectedResponse:
    content = response.content
    message = _server_message(content)
    headers = dict(response.headers)
    error = UnexpectedResponse.for_status(
        response.status_code,
        message,
        operation=request.op.name,
        collection=request.collection,
        content=content,
        headers=headers,
    )
    if isinstance(error, RateLimited):
        error.retry_after = parse_retry_after(headers.get("retry-after"))
    return error


class _Upload:
    """A multipart/form-data body with one ``snapshot`` file field, streamed from a file.

    An async iterator (not an async generator: nothing to finalize if a send is abandoned).
    """

    def __init__(self, read: Any, size: int | None, filename: str, close: Any) -> None:
        self._read = read
        self._close = close
        boundary = secrets.token_hex(16)
        safe_name = filename.replace('"', "_").replace("\r", "_").replace("\n", "_")
        self._head = (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="snapshot"; filename="{safe_name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        self._tail = f"\r\n--{boundary}--\r\n".encode()
        self._boundary = boundary
        self._size = size
        self._state = 0  # 0: head, 1: file, 2: tail, 3: done

    @classmethod
    async def open(cls, body: Any) -> _Upload:
        if isinstance(body, (str, os.PathLike)):
            path = os.fspath(body)
            f = await anyio.open_file(path, "rb")
            size = (await anyio.Path(path).stat()).st_size
            return cls(lambda: f.read(CHUNK_SIZE), size, os.path.basename(path), f.aclose)
        if isinstance(body, (bytes, bytearray, memoryview)):
            data = bytes(body)
            chunks = [data]

            async def read_bytes() -> bytes:
                return chunks.pop() if chunks else b""

            return cls(read_bytes, len(data), "snapshot", None)
        read = getattr(body, "read", None)
        if read is None:
            raise ValidationError("a snapshot upload takes a path, bytes or a binary file object")
        filename = os.path.basename(str(getattr(body, "name", "") or "snapshot")) or "snapshot"
        size = _remaining_size(body)
        if inspect.iscoroutinefunction(read):

            async def read_async() -> bytes:
                return await read(CHUNK_SIZE)

            return cls(read_async, size, filename, None)

        async def read_sync() -> bytes:
            return await anyio.to_thread.run_sync(read, CHUNK_SIZE)

        return cls(read_sync, size, filename, None)

    def headers(self) -> dict[str, str]:
        h = {"content-type": f"multipart/form-data; boundary={self._boundary}"}
        if self._size is not None:
            h["content-length"] = str(len(self._head) + self._size + len(self._tail))
        return h

    def __aiter__(self) -> _Upload:
        return self

    async def __anext__(self) -> bytes:
        if self._state == 0:
            self._state = 1
            return self._head
        if self._state == 1:
            chunk = await self._read()
            if chunk:
                if not isinstance(chunk, bytes):
                    chunk = bytes(chunk)
                return chunk
            self._state = 2
        if self._state == 2:
            self._state = 3
            return self._tail
        raise StopAsyncIteration

    async def aclose(self) -> None:
        if self._close is not None:
            close, self._close = self._close, None
            with anyio.CancelScope(shield=True):
                await close()


def _remaining_size(f: Any) -> int | None:
    if inspect.iscoroutinefunction(getattr(f, "tell", None)):
        return None  # an async file: sent chunked
    try:
        if hasattr(f, "seekable") and not f.seekable():
            return None
        pos = f.tell()
        try:
            size = os.fstat(f.fileno()).st_size
        except (AttributeError, OSError, ValueError):
            end = f.seek(0, os.SEEK_END)
            f.seek(pos)
            size = end
        return max(0, size - pos)
    except (AttributeError, OSError, ValueError, TypeError):
        return None
