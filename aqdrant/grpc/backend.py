"""``GrpcBackend``: one attempt of one operation over Qdrant's gRPC API (asyncio and trio).

It implements :class:`aqdrant._backend.Backend` like the REST backend: the pipeline hands it a
:class:`~aqdrant._backend.Request` (operation, path/query parameters, body model, final headers,
absolute deadline) and gets the REST-shaped ``result`` back.

* The method is ``request.op.grpc`` ("Service.Method" from the operation table) -> the path
  ``/qdrant.Service/Method``; request and reply types come from the generated service bases.
* Headers become gRPC metadata (``api-key``, ``authorization`` and the caller's own); the deadline
  becomes ``grpc-timeout`` (the request's own ``timeout`` field is set by the codec row from the
  ``timeout`` query value the pipeline computes from the remaining budget).
* Encoding and decoding are the operation's row in :mod:`aqdrant.grpc.convert.registry`
  (``convert.encode_request`` / ``convert.decode_result``): hot messages skip betterproto2 through
  the row's :mod:`aqdrant.grpc.fast` hooks (``UpsertPoints``, a plain ``QueryPoints``,
  ``GetPoints``, ``CountPoints`` and ``ScrollPoints`` written directly, other query-family requests
  with their vectors packed by numpy; query/retrieve/scroll/count/update replies read directly);
  everything else goes through the converters and betterproto2.
* gRPC status codes become the same typed errors as REST statuses (UNAVAILABLE -> 503,
  RESOURCE_EXHAUSTED -> 429 with the server's ``retry-after`` metadata, ...), so the pipeline's
  retry policy applies unchanged; ``error.grpc_status`` keeps the original code.
* The transport is :class:`aqdrant.grpc._h2channel.H2Channel` on both loops: unary gRPC calls
  over aqdrant's own sans-IO HTTP/2 client (``_h2wire``), several times cheaper per call than
  grpclib or ``h2`` (docs/architecture.md, "gRPC channel"). ``_call`` maps its failures to the
  client's errors: a gRPC status -> the typed error above, a connection failure ->
  :class:`~aqdrant.errors.TransportError` (``sent=False`` when the request provably never reached
  the server, so even non-idempotent calls may be retried), the deadline ->
  :class:`~aqdrant.errors.DeadlineExceeded`.
* ``bounds_deadline``: every attempt ends itself at ``request.deadline`` (the channel's timer, a
  REST fallback under a cancel scope), so the pipeline opens no cancel scope of its own per call.
* Operations without a gRPC counterpart, or with shapes the converters do not cover, go to
  ``fallback`` (e.g. a RestBackend) when one is given, and otherwise raise
  :class:`~aqdrant.errors.UnsupportedOperation`.
"""

from __future__ import annotations

import ssl as _ssl
from collections.abc import AsyncIterator, Mapping
from typing import Any

import anyio
import anyio.lowlevel

from .._backend import Backend, Request
from ..errors import (
    DeadlineExceeded,
    RateLimited,
    TransportError,
    UnexpectedResponse,
    UnsupportedOperation,
    ValidationError,
)

__all__ = ["GrpcBackend", "GRPC_TO_HTTP_STATUS"]

#: gRPC status code -> the HTTP status the REST API uses for the same condition
GRPC_TO_HTTP_STATUS: dict[int, int] = {
    1: 499,  # CANCELLED
    2: 500,  # UNKNOWN
    3: 400,  # INVALID_ARGUMENT
    4: 504,  # DEADLINE_EXCEEDED
    5: 404,  # NOT_FOUND
    6: 409,  # ALREADY_EXISTS
    7: 403,  # PERMISSION_DENIED
    8: 429,  # RESOURCE_EXHAUSTED
    9: 400,  # FAILED_PRECONDITION
    10: 409,  # ABORTED
    11: 400,  # OUT_OF_RANGE
    12: 501,  # UNIMPLEMENTED
    13: 500,  # INTERNAL
    14: 503,  # UNAVAILABLE
    15: 500,  # DATA_LOSS
    16: 401,  # UNAUTHENTICATED
}

#: headers that are HTTP/1-transport details, not metadata worth forwarding
_SKIP_HEADERS = frozenset(
    {"content-type", "content-length", "accept", "accept-encoding", "user-agent", "host", "connection", "te"}
)

_METHODS: dict[str, tuple[type, type]] | None = None
_PATHS: dict[str, str] = {}  # "Service.Method" -> "/qdrant.Service/Method"


def _methods() -> dict[str, tuple[type, type]]:
    """``/qdrant.Service/Method`` -> (request type, reply type), read from the generated bases."""
    global _METHODS
    if _METHODS is None:
        from ._proto import qdrant as q

        table: dict[str, tuple[type, type]] = {}
        for base in (q.CollectionsBase, q.PointsBase, q.SnapshotsBase, q.QdrantBase):
            for path, handler in base.__mapping__(base()).items():  # type: ignore[abstract]
                table[path] = (handler.request_type, handler.reply_type)
        _METHODS = table
    return _METHODS


def _ssl_context(
    ssl: bool | _ssl.SSLContext | None, ca_cert: str | None, client_cert: str | None, client_key: str | None
) -> _ssl.SSLContext | None:
    """None for plaintext; otherwise the client's one TLS builder, offering ``h2`` by ALPN."""
    if isinstance(ssl, _ssl.SSLContext):
        return ssl
    if not ssl and not ca_cert and not client_cert:
        return None
    from .._tls import ssl_context

    cert = (client_cert, client_key) if client_cert and client_key else client_cert
    return ssl_context(ca_cert or True, cert, alpn=["h2"])  # type: ignore[return-value]


class GrpcBackend:
    """A :class:`aqdrant._backend.Backend` speaking Qdrant's gRPC API (asyncio and trio).

    :param host, port: the server's gRPC endpoint (Qdrant's default port is 6334).
    :param ssl: True for TLS with the system's CAs, or an ``ssl.SSLContext``.
    :param ca_cert: a CA bundle file to verify the server with (implies TLS).
    :param client_cert, client_key: a client certificate (mTLS).
    :param fallback: a backend (e.g. RestBackend) for operations this backend cannot serve:
        no gRPC counterpart or a shape the converters do not cover.
    :param metadata: metadata sent with every call (below the request's own headers).

    The channel sets no limit on message size, so none applies here.
    """

    def __init__(
        self,
        host: str = "localhost",
        port: int = 6334,
        *,
        ssl: bool | _ssl.SSLContext | None = None,
        ca_cert: str | None = None,
        client_cert: str | None = None,
        client_key: str | None = None,
        fallback: Backend | None = None,
        metadata: Mapping[str, str] | None = None,
        compression: str | None = None,
    ) -> None:
        if compression not in (None, "gzip", "deflate"):
            raise ValueError(f"grpc compression {compression!r}: use 'gzip', 'deflate' or None")
        #: request messages compressed with it (the channel flags them with ``grpc-encoding``)
        self.compression = compression
        self.host = host
        self.port = port
        self._ssl = _ssl_context(ssl, ca_cert, client_cert, client_key)
        self.fallback = fallback
        self._metadata = {k.lower(): v for k, v in (metadata or {}).items()}
        self._channel: Any = None  # an H2Channel
        self._channel_loop: Any = None  # the event loop (anyio token) the channel was made in

    def __repr__(self) -> str:
        scheme = "grpcs" if self._ssl else "grpc"
        return f"GrpcBackend('{scheme}://{self.host}:{self.port}')"

    #: an attempt ends itself at ``request.deadline`` with DeadlineExceeded (the channel's timer;
    #: a REST fallback under a cancel scope), so the pipeline needs no cancel scope of its own
    bounds_deadline = True

    # -- Backend protocol -------------------------------------------------------------------------

    async def execute(self, request: Request) -> Any:
        op = request.op
        if op.grpc is None:
            return await self._fallback(request, f"{op.name} has no gRPC counterpart")
        convert = _convert()
        try:
            payload = convert.encode_request(op.name, request.path_params, request.query, request.body)
        except UnsupportedOperation as exc:
            return await self._fallback(request, str(exc))
        except RecursionError:  # a request nested deeper than the converters can walk
            raise ValidationError(
                f"{op.name}: the request is nested too deeply to be encoded for gRPC"
            ) from None
        path = _grpc_path(op.grpc)
        try:
            _, reply_type = _methods()[path]
        except KeyError:
            return await self._fallback(request, f"{op.name}: unknown gRPC method {path}")
        data = await self._call(request, path, payload)
        result = convert.decode_result(op.name, data, reply_type)
        # gRPC has no empty payload map: give {} where REST would
        return convert.rest_payloads(op.name, request.body, result)

    def stream(self, request: Request) -> AsyncIterator[bytes]:
        if self.fallback is not None:
            return self.fallback.stream(request)
        raise UnsupportedOperation(f"{request.op.name}: binary downloads are not served over gRPC; use REST")

    async def aclose(self) -> None:
        channel, self._channel = self._channel, None
        if channel is not None and self._channel_loop != anyio.lowlevel.current_token():
            _abandon_channel(channel)
        else:
            await _close_channel(channel)
        if self.fallback is not None:
            await self.fallback.aclose()

    # -- internals --------------------------------------------------------------------------------

    async def _fallback(self, request: Request, reason: str) -> Any:
        if self.fallback is None:
            raise UnsupportedOperation(f"{request.op.name}: {reason}")
        if request.deadline is None:
            return await self.fallback.execute(request)
        with anyio.CancelScope(deadline=request.deadline):  # bounds_deadline holds for it too
            return await self.fallback.execute(request)
        raise DeadlineExceeded(f"{request.op.name}: deadline exceeded", operation=request.op.name)

    async def _get_channel(self) -> Any:
        token = anyio.lowlevel.current_token()
        if self._channel is not None and self._channel_loop != token:
            # made in another event loop run (a client reused across anyio.run calls): its
            # connections and locks belong to that loop, so drop it without awaiting anything
            _abandon_channel(self._channel)
            self._channel = None
        if self._channel is None:
            from ._h2channel import H2Channel

            self._channel = H2Channel(self.host, self.port, ssl=self._ssl, compression=self.compression)
            self._channel_loop = token
        return self._channel

    def _call_metadata(self, request: Request) -> list[tuple[str, str]]:
        merged = dict(self._metadata)
        for k, v in request.headers.items():
            k = k.lower()
            if k not in _SKIP_HEADERS and not k.startswith(":") and not k.startswith("grpc-"):
                merged[k] = v
        return list(merged.items())

    async def _call(self, request: Request, path: str, payload: bytes) -> bytes:
        op = request.op
        if request.deadline is not None and request.deadline <= anyio.current_time():
            raise DeadlineExceeded(f"{op.name}: deadline passed before the call", operation=op.name)
        channel = await self._get_channel()
        if self.compression is not None:
            payload = _compress(payload, self.compression)
        reply = await self._call_h2(channel, request, path, payload)
        if reply is None:
            raise TransportError(f"{op.name}{_where(request)}: empty gRPC reply", operation=op.name)
        return reply

    async def _call_h2(self, channel: Any, request: Request, path: str, payload: bytes) -> Any:
        try:
            return await channel.unary(
                path, payload, metadata=self._call_metadata(request), deadline=request.deadline
            )
        except Exception as exc:  # mapped outside the hot path: no imports or strings per call
            error = _call_error(exc, request)
            if error is None:
                raise
            raise error from None


def _call_error(exc: Exception, request: Request) -> Exception | None:
    """The client's error for a failure of the channel's ``unary`` (None: not the channel's)."""
    from ._h2channel import ChannelError, GrpcStatusError

    op, where = request.op, _where(request)
    if isinstance(exc, GrpcStatusError):
        return _status_error(exc.code, exc.message, exc.metadata, request, where)
    if isinstance(exc, TimeoutError):
        return DeadlineExceeded(f"{op.name}{where}: gRPC deadline exceeded", operation=op.name)
    if isinstance(exc, ChannelError):
        return TransportError(f"{op.name}{where}: {exc}", operation=op.name, sent=exc.sent)
    if isinstance(exc, ValueError):  # metadata HTTP/2 cannot carry; the message names keys, not values
        return ValidationError(f"{op.name}{where}: {exc}")
    return None


def _where(request: Request) -> str:
    return f" on collection {request.collection!r}" if request.collection else ""


_CONVERT: Any = None


def _convert() -> Any:
    """:mod:`aqdrant.grpc.convert`, imported by the first call (it loads the generated messages)."""
    global _CONVERT
    if _CONVERT is None:
        from . import convert

        _CONVERT = convert
    return _CONVERT


async def _close_channel(channel: Any) -> None:
    if channel is not None:
        await channel.aclose()


def _abandon_channel(channel: Any) -> None:
    channel.abandon()


def _compress(payload: bytes, encoding: str) -> bytes:
    import zlib

    if encoding == "gzip":
        import gzip

        return gzip.compress(payload, compresslevel=6, mtime=0)
    return zlib.compress(payload)


def _grpc_path(service_method: str) -> str:
    path = _PATHS.get(service_method)
    if path is None:
        service, method = service_method.split(".", 1)
        path = _PATHS[service_method] = f"/qdrant.{service}/{method}"
    return path


def _status_error(
    code: int, message: str | None, metadata: dict[str, str], request: Request, where: str
) -> UnexpectedResponse | DeadlineExceeded:
    if code == 4 and request.deadline is not None:
        # the server enforced the grpc-timeout we sent, a hair before our own timer: our deadline
        return DeadlineExceeded(
            f"{request.op.name}{where}: gRPC deadline exceeded (the server's answer)",
            operation=request.op.name,
        )
    from grpclib.const import Status  # the gRPC status names (an enum; no asyncio needed)

    try:
        grpc_status = Status(code)
    except ValueError:
        grpc_status = Status.UNKNOWN
    error = UnexpectedResponse.for_status(
        GRPC_TO_HTTP_STATUS.get(code, 500),
        f"{grpc_status.name}: {message or ''}".rstrip(": "),
        operation=request.op.name,
        collection=request.collection,
        headers=metadata,
    )
    error.grpc_status = grpc_status  # type: ignore[attr-defined]
    if isinstance(error, RateLimited):
        from .._retry import parse_retry_after

        error.retry_after = parse_retry_after(metadata.get("retry-after"))
    return error
