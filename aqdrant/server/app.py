"""The dev server's ASGI app: Qdrant's REST API, routed from the operation table, over a backend.

Every route comes from :data:`aqdrant._operations.OPERATIONS`. A request is decoded with the
generated models (path and query parameters by their declared types, the body by the REST codec
the client uses, :mod:`aqdrant.models._codec`), handed to the backend (the embedded engine by
default) as an :class:`aqdrant._backend.Request`, and answered with Qdrant's envelope
``{"result": ..., "status": "ok", "time": seconds}``, written by that codec too. Failures get
Qdrant's error envelope ``{"status": {"error": message}, "time": seconds}`` with Qdrant's status
codes; an operation the backend cannot serve is a 501, never a fake success. No input can take
the server down: anything unexpected is a 500 with a message and the next request is served as
usual.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import anyio.to_thread
import msgspec
from starlette.applications import Starlette
from starlette.requests import Request as HttpRequest
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from .. import _constraints, models
from .._backend import Request
from .._operations import OPERATIONS
from .._optable import Operation, QueryParam
from ..errors import (
    QdrantError,
)
from ..local.protocol import HEALTH
from ..models import _codec
from . import _deprecated, _service, _wire
from ._access import _READ_ONLY_REFUSAL, COMMIT, TITLE, VERSION, HttpError, backend_error, is_read

logger = logging.getLogger("aqdrant.server")


#: path parameters whose OpenAPI schema is an integer
_INT_PATH_PARAMS = frozenset({"shard_id", "peer_id"})
#: served by the app itself, without the backend (and, as in Qdrant, without an API key)
_TEXT_PROBES = HEALTH  # Qdrant's texts, as the embedded engine answers them
_OPEN_PATHS = frozenset({"/", "/healthz", "/livez", "/readyz"})

_JSON = "application/json"
#: request bodies larger than this are decoded in a worker thread
OFFLOAD_THRESHOLD = 1 << 20
#: Qdrant's default ``service.max_request_size_mb``
MAX_REQUEST_SIZE_MB = 32


def _error_response(status: int, message: str, started: float, headers: dict[str, str] | None = None) -> Response:
    body = _codec.encode_error(message, time.perf_counter() - started)
    return Response(body, status_code=status, media_type=_JSON, headers=headers)


def _ok_response(result: Any, started: float) -> Response:
    return Response(_codec.encode_envelope(result, time.perf_counter() - started), media_type=_JSON)


# ---- decoding ---------------------------------------------------------------------------------
def _decode_query_value(param: QueryParam, raw: str) -> Any:
    tp = param.type
    if tp is bool:
        low = raw.strip().lower()
        if low in ("true", "1", ""):
            return True
        if low in ("false", "0"):
            return False
        raise HttpError(
            400, f"Query deserialize error: invalid value {raw!r} for `{param.name}`, expected true or false"
        )
    try:
        return msgspec.convert(raw, tp, strict=False)
    except (msgspec.ValidationError, TypeError) as e:
        raise HttpError(
            400, f"Query deserialize error: invalid value {raw!r} for `{param.name}`: {e}"
        ) from None


def _decode_query(op: Operation, http: HttpRequest) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for param in op.query_params:
        raw = http.query_params.get(param.name)
        if raw is None:
            if param.required:
                raise HttpError(400, f"Query deserialize error: missing field `{param.name}`")
            continue
        out[param.name] = _decode_query_value(param, raw)
    timeout = out.get("timeout")
    if timeout is not None and timeout < 1:  # Qdrant's 422 for a query parameter out of range
        bad = [("timeout", _constraints.range_message(timeout, 1, None, "int"))]
        raise HttpError(422, _constraints.label(bad, "query parameters"))
    return out


def _decode_point_id(raw: str) -> int | str:
    if raw.isdigit():
        value = int(raw)
        if value < 2**64:
            return value
    else:
        try:
            return str(uuid.UUID(raw))
        except ValueError:
            pass
    raise HttpError(400, f"Path deserialize error: `id`: {raw!r} is neither an unsigned integer nor a UUID")


def _decode_path(op: Operation, http: HttpRequest) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in op.path_params:
        raw = http.path_params[name]
        if name in _INT_PATH_PARAMS:
            try:
                out[name] = int(raw)
            except ValueError:
                raise HttpError(400, f"Path deserialize error: `{name}`: {raw!r} is not an integer") from None
            if out[name] < 0:
                raise HttpError(400, f"Path deserialize error: `{name}`: {raw!r} must not be negative")
        elif name == "id":
            out[name] = _decode_point_id(raw)
        else:
            out[name] = raw
    return out


async def read_body(http: HttpRequest, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it is known to exceed ``limit`` bytes:
    from its Content-Length before anything is read, else while it streams in."""
    declared = http.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HttpError(413, f"JSON payload ({int(declared)} bytes) is larger than allowed (limit: {limit} bytes).")
    chunks: list[bytes] = []
    size = 0
    async for chunk in http.stream():
        size += len(chunk)
        if size > limit:
            raise HttpError(413, f"JSON payload has exceeded limit ({limit} bytes).")
        chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def _decode_body(op: Operation, http: HttpRequest, limit: int) -> Any:
    if op.body_kind == "none":
        return None
    if op.body_kind == "multipart":
        raise HttpError(
            501, f"`{op.name}`: multipart snapshot uploads are not supported by the aqdrant dev server"
        )
    raw = await read_body(http, limit)
    aliased = _wire.with_aliases(op.name, raw)
    return await _parse_body(op, raw if aliased is None else aliased)


async def _parse_body(op: Operation, raw: bytes | dict) -> Any:
    """The body model of ``op`` from JSON bytes (or builtins); Qdrant's 400 when it is not one."""
    try:
        if isinstance(raw, bytes) and len(raw) > OFFLOAD_THRESHOLD:  # big uploads: off the event loop
            return await anyio.to_thread.run_sync(_codec.parse, op.body_type, raw, True)
        return _codec.parse(op.body_type, raw)
    except (ValueError, TypeError, RecursionError) as e:  # ValidationError, and what else the decoder raises
        raise HttpError(400, f"Format error in JSON body: {e}") from None


_noted: set[str] = set()


def _log_engine_note(text: str) -> None:
    """A request parameter the engine ignores (Qdrant takes it silently): logged once per text in
    the server's log, not raised as a Python warning inside the server for every such request."""
    if text not in _noted:
        _noted.add(text)
        logger.info("%s (noted once)", text)


def _credentials_ok(http: HttpRequest, api_key: str) -> bool | None:
    """True/False for right/wrong credentials, None when none were given."""
    given = http.headers.get("api-key")
    if given is None:
        auth = http.headers.get("authorization")
        if auth is None:
            return None
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer":
            return False
        given = token.strip()
    return hmac.compare_digest(given.encode(), api_key.encode())


# ---- the app -----------------------------------------------------------------------------------
class _Server:
    def __init__(
        self,
        backend_factory: Callable[[], Any],
        api_key: str | None,
        grpc_sock: Any = None,
        *,
        read_only_api_key: str | None = None,
        max_request_size: int = MAX_REQUEST_SIZE_MB << 20,
    ) -> None:
        self._backend_factory = backend_factory
        self.api_key = api_key
        self.read_only_api_key = read_only_api_key
        self.max_request_size = max_request_size
        #: responses by endpoint and status, for /telemetry and /metrics
        self.counters = _service.Counters()
        self.backend: Any = None
        #: the gRPC endpoint (aqdrant/server/grpc.py) served on ``grpc_sock`` over the same backend
        self.grpc: Any = None
        self._grpc_sock = grpc_sock

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        backend = self._backend_factory()
        enter = getattr(backend, "__aenter__", None)
        if enter is not None:
            await enter()
        self.backend = backend
        if self._grpc_sock is not None:
            from .grpc import GrpcEndpoint

            self.grpc = GrpcEndpoint(
                lambda: self.backend,
                self.api_key,
                read_only_api_key=self.read_only_api_key,
                max_message_size=self.max_request_size,
                counters=self.counters,
            )
            await self.grpc.start(self._grpc_sock)
        try:
            yield
        finally:
            self.backend = None
            if self.grpc is not None:
                with anyio.CancelScope(shield=True):
                    await self.grpc.stop()
            with anyio.CancelScope(shield=True):
                exit_ = getattr(backend, "__aexit__", None)
                if exit_ is not None:
                    await exit_(None, None, None)
                elif hasattr(backend, "aclose"):
                    await backend.aclose()

    def endpoint(self, ops: dict[str, Operation]) -> Callable[[HttpRequest], Any]:
        async def handle(http: HttpRequest) -> Response:
            started = time.perf_counter()
            op = ops.get(http.method)
            if op is None and http.method == "HEAD":
                op = ops.get("GET")
            if op is None:
                return _error_response(405, f"Method {http.method} not allowed for {http.url.path}", started)
            response = await self._respond(op.name, op.path, is_read(op), http, started, lambda: self._handle(op, http, started))
            return response

        return handle

    async def _respond(
        self, name: str, path: str, read: bool, http: HttpRequest, started: float, run: Callable[[], Any]
    ) -> Response:
        try:
            self._check_auth(http, read)
            response = await run()
        except HttpError as e:
            response = _error_response(e.status, e.message, started, e.headers)
        except Exception as e:  # never let one request take the server down
            logger.exception("unexpected error in %s", name)
            response = _error_response(500, f"Service internal error: {type(e).__name__}: {e}", started)
        self.counters.count_rest(http.method, path, response.status_code, time.perf_counter() - started)
        return response

    def deprecated_endpoint(self, route: _deprecated.Route) -> Callable[[HttpRequest], Any]:
        """A deprecated search/recommend/discover route, run as the query operation it equals."""
        op = OPERATIONS[route.op]

        async def run(http: HttpRequest, started: float) -> Response:
            if self.backend is None:
                raise HttpError(503, "Service unavailable: the engine is not running")
            raw = await read_body(http, self.max_request_size)
            try:
                aliased = _wire.with_aliases(op.name, raw)  # `with_vector` in `with_lookup`, ...
                old = route.body(aliased if aliased is not None else msgspec.json.decode(raw))
            except (ValueError, TypeError, RecursionError) as e:  # FormatError, msgspec's errors
                raise HttpError(400, f"Format error in JSON body: {e}") from None
            body = await _parse_body(op, old)
            path_params = _decode_path(op, http)
            result = await self._run(op, path_params, _decode_query(op, http), body, http)
            return _ok_response(_deprecated.old_reply(route, _wire.reply(op.name, result)), started)

        async def handle(http: HttpRequest) -> Response:
            started = time.perf_counter()
            return await self._respond(route.path, route.path, True, http, started, lambda: run(http, started))

        return handle

    def _check_auth(self, http: HttpRequest, read: bool) -> None:
        if (self.api_key is None and self.read_only_api_key is None) or http.url.path in _OPEN_PATHS:
            return
        if self.api_key is not None and _credentials_ok(http, self.api_key):
            return
        if self.read_only_api_key is not None:
            ok = _credentials_ok(http, self.read_only_api_key)
            if ok:
                if not read:
                    raise HttpError(403, _READ_ONLY_REFUSAL)
                return
        else:
            ok = _credentials_ok(http, self.api_key)  # type: ignore[arg-type]
        if ok is None:
            raise HttpError(401, "Must provide an API key or an Authorization bearer token")
        raise HttpError(403, "Invalid API key or JWT")

    async def _handle(self, op: Operation, http: HttpRequest, started: float) -> Response:
        if op.name == "root":  # Qdrant writes the commit key, null without git metadata
            return Response(models.dump({"title": TITLE, "version": VERSION, "commit": COMMIT}), media_type=_JSON)
        if op.name in _TEXT_PROBES:
            return PlainTextResponse(_TEXT_PROBES[op.name])
        if self.backend is None:
            raise HttpError(503, "Service unavailable: the engine is not running")
        path_params = _decode_path(op, http)
        query = _decode_query(op, http)
        if op.name in _service.SERVICE_OPS:  # a standalone node's own figures
            kind, answer = await _service.answer(op.name, query, self.backend.execute, self.counters, VERSION)
            if kind == "text":
                return PlainTextResponse(answer, media_type="text/plain; version=0.0.4")
            return _ok_response(answer, started)
        body = await _decode_body(op, http, self.max_request_size)
        if op.response_kind == "binary":
            return await self._stream(self._request(op, path_params, query, body, http))
        result = await self._run(op, path_params, query, body, http)
        if op.response_kind == "text":
            return PlainTextResponse(str(result))
        if op.response_kind == "json":
            return Response(models.dump(result), media_type=_JSON)
        return _ok_response(_wire.reply(op.name, result), started)

    def _request(self, op: Operation, path_params: dict, query: dict, body: Any, http: HttpRequest) -> Request:
        timeout = query.get("timeout")
        return Request(
            op=op,
            path_params=path_params,
            query=query,
            body=body,
            headers={
                k.lower(): v for k, v in http.headers.items() if k.lower() not in ("api-key", "authorization")
            },
            deadline=anyio.current_time() + timeout if timeout is not None else None,
        )

    async def _run(self, op: Operation, path_params: dict, query: dict, body: Any, http: HttpRequest) -> Any:
        """Validate as Qdrant does (422 before anything runs), then run on the backend."""
        refused = _constraints.check(op.name, path_params, body)
        if refused is not None:
            raise HttpError(400 if refused[0] == _constraints.FORMAT else 422, _constraints.label(refused[1], refused[0]))
        request = self._request(op, path_params, query, body, http)
        timeout = query.get("timeout")
        try:
            with anyio.fail_after(timeout):
                return await self.backend.execute(request)
        except TimeoutError:
            raise HttpError(
                408, f"Timeout error: operation `{op.name}` did not finish within {timeout} s"
            ) from None
        except QdrantError as e:
            raise backend_error(e) from None

    async def _stream(self, request: Request) -> Response:
        try:
            return await self._open_stream(request)
        except QdrantError as e:
            raise backend_error(e) from None

    async def _open_stream(self, request: Request) -> Response:
        chunks = self.backend.stream(request).__aiter__()
        try:
            first = await chunks.__anext__()
        except StopAsyncIteration:
            first = b""

        async def rest() -> AsyncIterator[bytes]:
            if first:
                yield first
            async for chunk in chunks:
                yield chunk

        return StreamingResponse(rest(), media_type="application/octet-stream")


def _routes(server: _Server) -> list[Route]:
    by_path: dict[str, dict[str, Operation]] = {}
    for op in OPERATIONS.values():
        by_path.setdefault(op.path, {})[op.method] = op
    routes = [
        Route(r.path, server.deprecated_endpoint(r), methods=["POST"]) for r in _deprecated.ROUTES
    ]
    # Literal paths before templated ones so /collections/aliases is never read as a collection.
    for path in sorted(by_path, key=lambda p: (p.count("{"), p)):
        ops = by_path[path]
        methods = list(ops)
        if "GET" in methods:
            methods.append("HEAD")
        routes.append(Route(path, server.endpoint(ops), methods=methods))
    return routes


def create_app(
    path: str | None = None,
    api_key: str | None = None,
    *,
    backend: Any = None,
    grpc_sock: Any = None,
    read_only_api_key: str | None = None,
    max_request_size_mb: float = MAX_REQUEST_SIZE_MB,
) -> Starlette:
    """The ASGI app of the dev server.

    :param path: storage directory of the embedded engine (None: in memory).
    :param api_key: when set, every request but ``/`` and the probes must carry it (``api-key``
        header or ``Authorization: Bearer``); missing gives 401, wrong gives 403.
    :param backend: a ready backend object or a zero-argument factory (tests); default
        ``aqdrant.local.LocalBackend(path)``.
    :param read_only_api_key: when set, this key gives read-only access (GETs and the reads
        with a body: query, scroll, count, retrieve, facet, matrix); a write answers 403.
    :param max_request_size_mb: larger request bodies (and gRPC messages) are refused with 413
        (RESOURCE_EXHAUSTED) before they are buffered; Qdrant's default 32.
    :param grpc_sock: a bound socket (``aqdrant.server.bind``) to serve Qdrant's gRPC API on, over
        the same backend, while the app runs (started in the lifespan, on its asyncio loop).
    """
    if backend is None:

        def factory() -> Any:
            from ..local import LocalBackend

            return LocalBackend(path, on_warning=_log_engine_note)

    elif callable(backend) and not hasattr(backend, "execute"):
        factory = backend
    else:

        def factory() -> Any:
            return backend

    server = _Server(
        factory,
        api_key,
        grpc_sock,
        read_only_api_key=read_only_api_key,
        max_request_size=int(max_request_size_mb * (1 << 20)),
    )

    async def not_found(http: HttpRequest, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        detail = getattr(exc, "detail", None) or "Not found"
        return _error_response(status, f"{detail}: {http.method} {http.url.path}", time.perf_counter())

    app = Starlette(
        routes=_routes(server),
        lifespan=server.lifespan,
        exception_handlers={404: not_found, 405: not_found},
    )
    app.state.server = server
    return app


__all__ = ["create_app", "TITLE", "VERSION"]
