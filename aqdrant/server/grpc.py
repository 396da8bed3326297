"""The dev server's gRPC endpoint: Qdrant's ``qdrant.Points``, ``qdrant.Collections`` and
``qdrant.Qdrant`` services over the same backend the REST app uses (grpclib, asyncio only).

Every method of the generated service bases is routed. A method whose operation
:mod:`aqdrant.grpc.convert` can read (every method with a REST counterpart: points, collections,
aliases, payload indexes, shard keys, cluster, snapshots, health check) is handled like
a REST request: the request message becomes the REST-shaped ``(path_params, query, body)``, the
backend runs it as an :class:`aqdrant._backend.Request`, and the result is written back as the
reply message. The deprecated search/recommend/discover methods run as the query methods they
equal (:mod:`aqdrant.server._grpc_deprecated`). What the engine cannot serve (snapshots, shard
keys, cluster) answers UNIMPLEMENTED as REST answers 501 - never a fake success.

Errors map to gRPC statuses: NotFound -> NOT_FOUND, Conflict -> ALREADY_EXISTS,
BadRequest/ValidationError -> INVALID_ARGUMENT, UnsupportedOperation -> UNIMPLEMENTED, a passed
deadline -> DEADLINE_EXCEEDED, anything else -> INTERNAL, each with the message. With an API
key, every call must carry it as ``api-key`` (or ``authorization: Bearer``) metadata: missing
gives UNAUTHENTICATED, wrong gives PERMISSION_DENIED.
"""

from __future__ import annotations

import hmac
import logging
import socket
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import anyio

from .. import _constraints
from .._backend import Request
from .._operations import OPERATIONS
from ..errors import (
    QdrantError,
    UnsupportedOperation,
)
from ..grpc._raw import RawCodec
from ._access import _READ_ONLY_REFUSAL, TITLE, VERSION, backend_error, is_read

logger = logging.getLogger("aqdrant.server.grpc")

__all__ = ["GrpcEndpoint"]


def _http_to_grpc(status: int) -> Any:
    from grpclib.const import Status

    return {
        400: Status.INVALID_ARGUMENT,
        422: Status.INVALID_ARGUMENT,  # Qdrant's validation errors
        401: Status.UNAUTHENTICATED,
        403: Status.PERMISSION_DENIED,
        404: Status.NOT_FOUND,
        408: Status.DEADLINE_EXCEEDED,
        409: Status.ALREADY_EXISTS,
        429: Status.RESOURCE_EXHAUSTED,
        501: Status.UNIMPLEMENTED,
        503: Status.UNAVAILABLE,
        504: Status.DEADLINE_EXCEEDED,
    }.get(status, Status.INTERNAL)


def routes() -> dict[str, tuple[str, Any, Any, Any]]:
    """``/qdrant.Service/Method`` -> (``Service.Method``, the operation it runs or None, the
    deprecated method's translation to its query twin or None, the generated handler), for every
    method of the generated service bases. A method of no operation answers UNIMPLEMENTED."""
    from ..grpc._proto import qdrant as q
    from ._grpc_deprecated import METHODS as DEPRECATED

    by_grpc = {op.grpc: op for op in OPERATIONS.values() if op.grpc}
    table: dict[str, tuple[str, Any, Any, Any]] = {}
    for base in (q.CollectionsBase, q.PointsBase, q.SnapshotsBase, q.QdrantBase):
        for path, h in base.__mapping__(base()).items():  # type: ignore[abstract]
            service, method = path.rsplit("/", 2)[1:]
            key = f"{service.removeprefix('qdrant.')}.{method}"
            op = by_grpc.get(key)
            translate = None
            if op is None and key in DEPRECATED:  # run as the query method it equals
                query_op, translate = DEPRECATED[key]
                op = OPERATIONS[query_op]
            table[path] = (key, op, translate, h)
    return table


class GrpcEndpoint:
    """grpclib handlers for every Qdrant gRPC method, over ``get_backend()``.

    ``calls`` counts the handled calls per method name (``"Points.Upsert"``), answered or not.
    """

    def __init__(
        self,
        get_backend: Callable[[], Any],
        api_key: str | None = None,
        *,
        read_only_api_key: str | None = None,
        max_message_size: int | None = None,
        counters: Any = None,
    ) -> None:
        self._get_backend = get_backend
        self.api_key = api_key
        #: gives read-only access (the same operations as over REST)
        self.read_only_api_key = read_only_api_key
        #: a larger request message is refused (RESOURCE_EXHAUSTED) before it is buffered
        self.max_message_size = max_message_size
        #: the app's response counters (aqdrant.server._service.Counters), for telemetry/metrics
        self.counters = counters
        self.calls: Counter[str] = Counter()
        self._server: Any = None

    # -- grpclib's handler protocol ----------------------------------------------------------------
    def __mapping__(self) -> dict[str, Any]:
        from grpclib.const import Cardinality, Handler

        table: dict[str, Any] = {}
        for path, (key, op, translate, h) in routes().items():
            unary = h.cardinality == Cardinality.UNARY_UNARY
            table[path] = Handler(
                self._handler(key, op, h.request_type, unary, translate),
                h.cardinality,
                h.request_type,
                h.reply_type,
            )
        return table

    def _handler(
        self, key: str, op: Any, request_type: type, unary: bool, translate: Any = None
    ) -> Callable[[Any], Any]:
        async def handle(stream: Any) -> None:
            from grpclib.const import Status
            from grpclib.exceptions import GRPCError

            self.calls[key] += 1
            started = time.perf_counter()
            ok = False
            try:
                data = await self._receive(stream)
                self._check_auth(stream.metadata, op)
                if not unary or op is None:
                    raise GRPCError(
                        Status.UNIMPLEMENTED, f"qdrant.{key} is not implemented by the aqdrant dev server"
                    )
                reply = await self._run(op, key, request_type, data, stream, translate)
                elapsed = time.perf_counter() - started
                await stream.send_message(self._encode_reply(op.name, reply, elapsed))
                ok = True
            finally:
                if self.counters is not None:
                    self.counters.count_grpc(key, ok, time.perf_counter() - started)

        return handle

    # -- one call ----------------------------------------------------------------------------------
    async def _receive(self, stream: Any) -> bytes | None:
        """The request message, refused before it is buffered when its length prefix says it is
        larger than ``max_message_size`` (read from grpclib's h2 stream; falls back to
        ``recv_message`` where that is not there)."""
        inner = getattr(stream, "_stream", None)
        if self.max_message_size is None or inner is None or not hasattr(inner, "recv_data"):
            return await stream.recv_message()
        import struct

        from grpclib.const import Status
        from grpclib.exceptions import GRPCError

        meta = await inner.recv_data(5)
        if not meta:
            return None
        compressed, length = struct.unpack(">?I", meta)
        too_large = (
            f"Error, decoded message length too large: found {{}} bytes, "
            f"the limit is: {self.max_message_size} bytes"
        )
        if length > self.max_message_size:
            raise GRPCError(Status.RESOURCE_EXHAUSTED, too_large.format(length))
        data = await inner.recv_data(length)
        if compressed:  # a client's grpc_compression (gzip, or deflate's zlib stream), as Qdrant takes
            import zlib

            inflate = zlib.decompressobj(wbits=47)  # 32 + 15: a gzip or zlib header, told apart
            try:
                out = inflate.decompress(data, self.max_message_size + 1)
            except zlib.error as e:
                raise GRPCError(Status.INTERNAL, f"could not decompress the request message: {e}") from None
            if len(out) > self.max_message_size:
                raise GRPCError(Status.RESOURCE_EXHAUSTED, too_large.format(f"more than {self.max_message_size}"))
            return out
        return data

    def _check_auth(self, metadata: Any, op: Any) -> None:
        if self.api_key is None and self.read_only_api_key is None:
            return
        from grpclib.const import Status
        from grpclib.exceptions import GRPCError

        given = metadata.get("api-key") if metadata is not None else None
        if given is None and metadata is not None and metadata.get("authorization") is not None:
            scheme, _, token = metadata["authorization"].partition(" ")
            given = token.strip() if scheme.lower() == "bearer" else ""
        if given is None:
            raise GRPCError(
                Status.UNAUTHENTICATED, "Must provide an API key or an Authorization bearer token"
            )
        if self.api_key is not None and hmac.compare_digest(given.encode(), self.api_key.encode()):
            return
        if self.read_only_api_key is not None and hmac.compare_digest(given.encode(), self.read_only_api_key.encode()):
            if op is not None and not is_read(op) and op.name != "healthz":
                raise GRPCError(Status.PERMISSION_DENIED, _READ_ONLY_REFUSAL)
            return
        raise GRPCError(Status.PERMISSION_DENIED, "Invalid API key or JWT")

    async def _run(
        self, op: Any, key: str, request_type: type, data: bytes, stream: Any, translate: Any = None
    ) -> Any:
        from grpclib.const import Status
        from grpclib.exceptions import GRPCError

        from ..grpc import convert

        if op.name == "healthz":  # answered by the server itself, as REST's probes are
            from ..grpc._proto import qdrant as q

            return q.HealthCheckReply(title=TITLE, version=VERSION)
        backend = self._get_backend()
        if backend is None:
            raise GRPCError(Status.UNAVAILABLE, "Service unavailable: the engine is not running")
        try:
            row = convert.codec(op.name)
            # e.g. dense upsert batches: vectors straight from the bytes
            fast_read = row.decode_request(data) if row.decode_request is not None else None
            if fast_read is not None:
                path_params, query, body = fast_read
            else:
                message = request_type.parse(data)  # type: ignore[attr-defined]
                if translate is not None:  # a deprecated method: its query-API twin
                    message = translate(message)
                path_params, query, body = convert.request_from_grpc(op.name, message)
        except UnsupportedOperation as e:
            raise GRPCError(Status.UNIMPLEMENTED, f"qdrant.{key}: {e}") from None
        except (ValueError, TypeError, KeyError) as e:
            raise GRPCError(Status.INVALID_ARGUMENT, f"qdrant.{key}: cannot read the request: {e}") from None
        refused = _constraints.check(op.name, path_params, body)
        if refused is not None:  # Qdrant's INVALID_ARGUMENT, before anything runs
            raise GRPCError(Status.INVALID_ARGUMENT, _constraints.grpc_label(refused))
        timeout = query.get("timeout")
        remaining = stream.deadline.time_remaining() if stream.deadline is not None else None
        if timeout is not None and (remaining is None or timeout < remaining):
            remaining = float(timeout)
        deadline = anyio.current_time() + remaining if remaining is not None else None
        headers = {k: v for k, v in (stream.metadata or {}).items() if isinstance(v, str)}
        headers.pop("api-key", None)
        headers.pop("authorization", None)
        request = Request(
            op=op, path_params=path_params, query=query, body=body, headers=headers, deadline=deadline
        )
        try:
            with anyio.fail_after(remaining):
                return await backend.execute(request)
        except TimeoutError:
            raise GRPCError(
                Status.DEADLINE_EXCEEDED,
                f"Timeout error: qdrant.{key} did not finish within {remaining:.3g} s",
            ) from None
        except QdrantError as e:  # the REST table's answer, as a gRPC status
            answer = backend_error(e)
            raise GRPCError(_http_to_grpc(answer.status), answer.message) from None
        except Exception as e:  # never let one call take the server down
            logger.exception("unexpected error in qdrant.%s", key)
            raise GRPCError(Status.INTERNAL, f"Service internal error: {type(e).__name__}: {e}") from None

    def _encode_reply(self, op_name: str, result: Any, elapsed: float) -> bytes:
        from grpclib.const import Status
        from grpclib.exceptions import GRPCError

        from ..grpc import convert

        if op_name == "healthz":
            return bytes(result)
        try:
            # point replies are written directly, not through betterproto2 (the row's fast encoder)
            return convert.encode_reply(op_name, result, elapsed)
        except UnsupportedOperation as e:
            raise GRPCError(Status.UNIMPLEMENTED, f"{op_name}: {e}") from None
        except Exception as e:
            logger.exception("cannot encode the reply of %s", op_name)
            raise GRPCError(
                Status.INTERNAL, f"Service internal error: cannot encode the reply: {e}"
            ) from None

    # -- lifecycle ---------------------------------------------------------------------------------
    async def start(self, sock: socket.socket) -> None:
        """Serve on the listening-ready ``sock`` (from :func:`aqdrant.server.bind`)."""
        from grpclib.server import Server

        self._server = Server([self], codec=RawCodec())  # type: ignore[arg-type]
        await self._server.start(sock=sock)

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            await server.wait_closed()
