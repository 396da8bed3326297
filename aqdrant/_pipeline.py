"""The request pipeline: one implementation used by every call, whatever the backend.

``Pipeline.execute(op_name, ...)`` merges headers (client defaults, the ``request_headers``
scope, per-call headers; later wins), adds credentials, sets one absolute deadline for the whole
call (all attempts and backoff sleeps), forwards the remaining budget to the server where the
operation takes a ``timeout``, and retries what the policy and the operation table allow.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import anyio

from . import _constraints, _headers, _logsafe, _telemetry
from ._backend import Backend, Request
from ._operations import OPERATIONS
from ._optable import Operation
from ._retry import RetryPolicy
from .errors import DeadlineExceeded, QdrantError, UnsupportedOperation

logger = logging.getLogger("aqdrant")

TokenProvider = Callable[[], "str | Awaitable[str]"]
RetryHook = Callable[[str, int, BaseException, float], Any]


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()

#: the RetryPolicy of the calls made in this context, in place of the client's (see retry_policy)
_call_policy: ContextVar[RetryPolicy | None] = ContextVar("aqdrant_call_retry_policy", default=None)


@contextmanager
def retry_policy(policy: RetryPolicy) -> Iterator[None]:
    """Calls made inside the block retry by ``policy`` instead of the client's policy.

    One retry authority per call: a caller that retries on its own terms (the ingest actor,
    which waits out server outages) runs its calls under ``RetryPolicy.none()`` so attempts are
    neither multiplied nor counted in two places.
    """
    token = _call_policy.set(policy)
    try:
        yield
    finally:
        _call_policy.reset(token)


class Pipeline:
    """Headers, credentials, deadline and retries around one backend.

    :param backend: the transport (REST, gRPC, local engine) - see :class:`aqdrant._backend.Backend`.
    :param headers: headers sent with every call (lowest precedence).
    :param api_key: sent as the ``api-key`` header.
    :param auth_token_provider: sync or async callable returning a bearer token; called once per
        call, sent as ``authorization: Bearer <token>``.
    :param timeout: default total budget of a call in seconds (None: no deadline).
    :param retry: a :class:`RetryPolicy` (default ``RetryPolicy()``).
    :param on_retry: ``on_retry(op_name, attempt, error, delay)`` called (sync or async) before
        each backoff sleep; ``attempt`` is the 1-based number of the attempt that failed.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        headers: Mapping[str, Any] | None = None,
        api_key: str | None = None,
        auth_token_provider: TokenProvider | None = None,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
        on_retry: RetryHook | None = None,
    ) -> None:
        self.backend = backend
        self._headers = _headers.normalize(headers)
        self._api_key = api_key
        self._token_provider = auth_token_provider
        self.timeout = timeout
        self.retry = retry if retry is not None else RetryPolicy()
        self.on_retry = on_retry
        self._secrets: tuple[str, ...] = tuple(s for s in (api_key,) if s)
        #: the final headers of a call with no per-call, scoped, token or trace headers (each
        #: Request gets its own copy)
        self._static_headers: _headers.Headers | None = None
        #: spans and metrics when opentelemetry-api is installed, else None (no cost)
        self._telemetry = _telemetry.for_backend(backend)
        _logsafe.remember(api_key)  # no logger (e.g. hpack at DEBUG) ever sees it
        #: run once, by the first call, inside that call's deadline and with its headers (the
        #: client's server-version check): ``await preflight(pipeline, headers, deadline)``
        self.preflight: Callable[[Pipeline, _headers.Headers, float | None], Awaitable[None]] | None = None

    def __repr__(self) -> str:
        auth = []
        if self._api_key:
            auth.append("api_key=[secret]")
        if self._token_provider is not None:
            auth.append("auth_token_provider=[set]")
        extra = (", " + ", ".join(auth)) if auth else ""
        return f"Pipeline(backend={self.backend!r}, timeout={self.timeout!r}, retry={self.retry!r}{extra})"

    # -- public ---------------------------------------------------------------------------------

    async def execute(
        self,
        op_name: str | Operation,
        *,
        path_params: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        timeout: float | None = UNSET,
        headers: Mapping[str, Any] | None = None,
    ) -> Any:
        """Run one operation with headers, deadline and retries; return the decoded result.

        ``timeout`` (seconds) is the total budget of the call; omitted or None means the client's
        default. Raises :class:`DeadlineExceeded` when it runs out, otherwise the last attempt's
        error with every attempt's error on ``.attempts``.
        """
        op = _operation(op_name)
        _constraints.ensure_valid(op.name, path_params, body)  # what Qdrant refuses with 422
        telemetry = self._telemetry
        if telemetry is None or not telemetry.live:
            return await self._execute(op, path_params, query, body, timeout, headers)
        with telemetry.call(op.name, (path_params or {}).get("collection_name"), body) as span:
            result = await self._execute(op, path_params, query, body, timeout, headers)
            telemetry.returned(span, result)
            return result

    async def _execute(
        self,
        op: Operation,
        path_params: Mapping[str, Any] | None,
        query: Mapping[str, Any] | None,
        body: Any,
        timeout: float | None,
        headers: Mapping[str, Any] | None,
    ) -> Any:
        deadline = self._deadline(timeout)
        errors: list[BaseException] = []
        bounded = getattr(self.backend, "bounds_deadline", False)
        # The cancel scope (~8 us on asyncio, ~12 on trio) is only needed when something here
        # could outlive the deadline: not when there is none, nor when only the backend's attempts
        # (which end themselves at it) and backoff sleeps (never past it) run.
        needs_scope = deadline is not None and not (
            bounded and self._token_provider is None and self.on_retry is None and self.preflight is None
        )
        scope = anyio.CancelScope(deadline=deadline) if needs_scope else None
        try:
            with scope if scope is not None else contextlib.nullcontext():
                final_headers = await self._final_headers(headers)  # a slow token provider counts too
                if self.preflight is not None:
                    preflight, self.preflight = self.preflight, None
                    await preflight(self, final_headers, deadline)
                return await self._attempts(
                    op, path_params, query, body, final_headers, deadline, errors, self._run_once
                )
        except DeadlineExceeded as exc:
            # a backend that bounds its attempts said the call's deadline passed: the same error
            # as when the scope ends the call
            if not bounded or deadline is None or not errors or errors[-1] is not exc:
                raise
            errors.pop()
            raise self._deadline_exceeded(op, timeout, errors, path_params) from None
        # only reached when the deadline scope swallowed the cancellation
        assert scope is not None and scope.cancelled_caught
        raise self._deadline_exceeded(op, timeout, errors, path_params)

    def stream(
        self,
        op_name: str | Operation,
        *,
        path_params: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        timeout: float | None = UNSET,
        headers: Mapping[str, Any] | None = None,
    ) -> Download:
        """Download a binary response (a snapshot) in chunks, without buffering the whole file.

        ``async with pipeline.stream("get_snapshot", path_params=...) as chunks:``
        ``    async for chunk in chunks: ...``

        Opening the response is retried like :meth:`execute`; once the first chunk arrived
        nothing is retried. The deadline bounds the time spent inside aqdrant (opening and
        reading), not the caller's own work between chunks.
        """
        return Download(self, _operation(op_name), path_params, query, timeout, headers)

    async def aclose(self) -> None:
        try:
            await self.backend.aclose()
        finally:
            for secret in {*self._secrets, *((self._api_key,) if self._api_key else ())}:
                _logsafe.forget(secret)
            self._secrets = ()

    # -- internals ------------------------------------------------------------------------------

    def _deadline(self, timeout: float | None) -> float | None:
        if timeout is UNSET or timeout is None:
            timeout = self.timeout
        if timeout is None:
            return None
        return anyio.current_time() + float(timeout)

    async def _final_headers(self, per_call: Mapping[str, Any] | None) -> _headers.Headers:
        if not per_call and self._token_provider is None and not _headers.scoped_headers():
            if self._telemetry is None or not self._telemetry.live:
                # the common call: the client's headers and API key only, merged once
                if self._static_headers is None:
                    key = {"api-key": self._api_key} if self._api_key else None
                    self._static_headers = _headers.merge(key, self._headers)
                return self._static_headers
        # the trace context and credentials are the lowest layers: explicit headers replace them
        auth: dict[str, str] = {}
        if self._telemetry is not None and self._telemetry.live:
            auth = self._telemetry.context_headers()
        if self._api_key:
            auth["api-key"] = self._api_key
        merged = _headers.merge(self._headers, _headers.scoped_headers(), per_call)
        if self._token_provider is not None and "authorization" not in merged:
            bearer = await self._bearer()
            if bearer:
                auth["authorization"] = bearer
        return _headers.merge(auth, merged)

    async def _bearer(self) -> str | None:
        """``Bearer <token>`` from the token provider (sync or async), or None for no token."""
        assert self._token_provider is not None
        token = self._token_provider()
        if inspect.isawaitable(token):
            token = await token
        if not token:
            return None
        self._remember_secret(str(token))
        return f"Bearer {token}"

    async def _refreshed(self, error: QdrantError, headers: _headers.Headers) -> _headers.Headers | None:
        """After a 401, the headers with a fresh token from the provider, or None.

        A token that expired between the provider's answer and the server's check is the common
        case: asking the provider again and sending once more is safe for every operation (a
        401 means the server did nothing). Only a token the provider supplied is replaced, and
        only when the provider now gives a different one.
        """
        if self._token_provider is None or getattr(error, "status_code", None) != 401:
            return None
        sent = headers.get("authorization")
        if sent is None or sent.removeprefix("Bearer ") not in self._secrets:
            return None  # the caller set this header: not ours to replace
        fresh = await self._bearer()
        if fresh is None or fresh == sent:
            return None
        logger.debug("aqdrant: the server refused the bearer token (401); sending again with a fresh one")
        return _headers.merge(headers, {"authorization": fresh})

    def _remember_secret(self, token: str) -> None:
        if token not in self._secrets:
            if len(self._secrets) >= 8 and self._secrets[0] != self._api_key:
                _logsafe.forget(self._secrets[0])  # the API key stays hidden while the client lives
            self._secrets = (*self._secrets[-7:], token)
            _logsafe.remember(token)

    def _request(
        self,
        op: Operation,
        path_params: Mapping[str, Any] | None,
        query: Mapping[str, Any] | None,
        body: Any,
        headers: _headers.Headers,
        deadline: float | None,
    ) -> Request:
        q = {k: v for k, v in query.items() if v is not None} if query else {}
        if deadline is not None and "timeout" not in q and op.has_timeout:
            remaining = deadline - anyio.current_time()
            q["timeout"] = max(1, math.ceil(remaining))
        return Request(
            op=op,
            path_params=dict(path_params or {}),
            query=q,
            body=body,
            headers=_headers.Headers(headers),
            deadline=deadline,
        )

    async def probe(self, op_name: str, headers: _headers.Headers, deadline: float | None) -> Any:
        """One attempt of ``op_name`` with headers already final (no retry, no token asked)."""
        return await self.backend.execute(self._request(_operation(op_name), None, None, None, headers, deadline))

    async def _run_once(self, request: Request) -> Any:
        return await self.backend.execute(request)

    async def _attempts(
        self,
        op: Operation,
        path_params: Mapping[str, Any] | None,
        query: Mapping[str, Any] | None,
        body: Any,
        headers: _headers.Headers,
        deadline: float | None,
        errors: list[BaseException],
        run: Callable[[Request], Awaitable[Any]],
    ) -> Any:
        policy = _call_policy.get() or self.retry
        start_pos = _tell(body) if op.body_kind == "multipart" else None
        rewindable = not (op.body_kind == "multipart" and start_pos is None and _is_stream(body))
        attempt = 0
        refreshed = False  # a 401 gets one more try with a fresh token, at most
        while True:
            attempt += 1
            if errors and start_pos is not None:
                body.seek(start_pos)
            request = self._request(op, path_params, query, body, headers, deadline)
            try:
                result = await run(request)
            except QdrantError as error:
                self._scrub(error)
                errors.append(error)
                if not refreshed and rewindable and (fresh := await self._refreshed(error, headers)) is not None:
                    refreshed, headers = True, fresh
                    attempt -= 1  # an expired token is not a failed attempt
                    continue
                delay = None
                # a stream we cannot rewind cannot be sent again
                if attempt < policy.max_attempts and rewindable and policy.is_retryable(op, error):
                    delay = policy.delay(attempt, error)
                if delay is not None and deadline is not None and anyio.current_time() + delay >= deadline:
                    # waiting would end past the deadline: the last error says more than a timeout
                    delay = None
                if delay is None:
                    _attach(error, errors)
                    raise
                reason = self._describe(error)
                logger.debug(
                    "aqdrant: retrying %s after attempt %d/%d failed (%s); waiting %.3f s",
                    op.name,
                    attempt,
                    policy.max_attempts,
                    reason,
                    delay,
                    extra=_log_fields(op, path_params, attempt),
                )
                if self._telemetry is not None:
                    self._telemetry.retry(op.name, attempt, reason, delay)
                await self._call_hook(op.name, attempt, error, delay)
            else:
                if logger.isEnabledFor(logging.DEBUG):
                    fields = _log_fields(op, path_params, attempt)
                    logger.debug("aqdrant: %s done (attempt %d)", op.name, attempt, extra=fields)
                return result
            await anyio.sleep(delay)

    async def _call_hook(self, op_name: str, attempt: int, error: BaseException, delay: float) -> None:
        if self.on_retry is None:
            return
        try:
            result = self.on_retry(op_name, attempt, error, delay)
            if inspect.isawaitable(result):
                await result
        except Exception:  # a metrics hook must not turn a retry into a failure
            logger.exception("aqdrant: the on_retry hook raised")

    def _describe(self, error: BaseException) -> str:
        return _headers.redact(f"{type(error).__name__}: {error}", self._secrets)

    def _scrub(self, error: BaseException) -> None:
        """Make sure no credential is in the error's text (e.g. a server echoing the header)."""
        if not self._secrets or not error.args:
            return
        args = tuple(_headers.redact(a, self._secrets) if isinstance(a, str) else a for a in error.args)
        if args != error.args:
            error.args = args
            if hasattr(error, "server_message") and isinstance(error.server_message, str):
                error.server_message = _headers.redact(error.server_message, self._secrets)

    def _deadline_exceeded(
        self,
        op: Operation,
        timeout: Any,
        errors: list[BaseException],
        path_params: Mapping[str, Any] | None = None,
    ) -> DeadlineExceeded:
        budget = self.timeout if timeout is UNSET or timeout is None else timeout
        collection = (path_params or {}).get("collection_name")
        where = f" on collection {collection!r}" if collection else ""
        last = f"; last error: {self._describe(errors[-1])}" if errors else ""
        err = DeadlineExceeded(
            f"{op.name}{where}: deadline of {budget} s exceeded ({len(errors)} earlier attempt(s) failed){last}",
            operation=op.name,
            attempts=list(errors),
        )
        err.collection = collection
        return err


class Download:
    """An async context manager and async iterator of the chunks of a binary response."""

    def __init__(
        self,
        pipeline: Pipeline,
        op: Operation,
        path_params: Mapping[str, Any] | None,
        query: Mapping[str, Any] | None,
        timeout: float | None,
        headers: Mapping[str, Any] | None,
    ) -> None:
        self._pipeline = pipeline
        self._op = op
        self._path_params = path_params
        self._query = query
        self._timeout = timeout
        self._headers = headers
        self._deadline: float | None = None
        self._entered = False
        self._auto = False
        self._chunks: AsyncIterator[bytes] | None = None
        self._first: bytes | None = None
        self._done = False

    async def __aenter__(self) -> Download:
        if self._entered:
            raise RuntimeError("a Download is opened once")
        self._entered = True
        p = self._pipeline
        self._deadline = p._deadline(self._timeout)
        errors: list[BaseException] = []

        async def open_stream(request: Request) -> None:
            chunks = p.backend.stream(request)
            try:
                first = await chunks.__anext__()
            except StopAsyncIteration:
                first = None
                self._done = True
            except BaseException:
                await _aclose(chunks)
                raise
            self._chunks, self._first = chunks, first

        with anyio.CancelScope(deadline=self._deadline if self._deadline is not None else math.inf) as scope:
            headers = await p._final_headers(self._headers)
            await p._attempts(self._op, self._path_params, self._query, None, headers, self._deadline, errors, open_stream)
            return self
        assert scope.cancelled_caught
        raise p._deadline_exceeded(self._op, self._timeout, errors, self._path_params)

    async def __aexit__(self, *exc: object) -> None:
        self._done = True
        if self._chunks is not None:
            with anyio.CancelScope(shield=True):
                await _aclose(self._chunks)
            self._chunks = None

    def __aiter__(self) -> Download:
        return self

    async def __anext__(self) -> bytes:
        if not self._entered:
            # plain ``async for`` without ``async with``: open on the first chunk, close at the end
            # or on an error (a loop left early keeps its connection until the Download is
            # garbage collected - use ``async with`` for that)
            self._auto = True
            await self.__aenter__()
        try:
            return await self._next_chunk()
        except BaseException:
            if self._auto:
                await self.__aexit__(None, None, None)
            raise

    async def _next_chunk(self) -> bytes:
        if self._first is not None:
            first, self._first = self._first, None
            return first
        if self._done or self._chunks is None:
            raise StopAsyncIteration
        with anyio.CancelScope(deadline=self._deadline if self._deadline is not None else math.inf) as scope:
            try:
                return await self._chunks.__anext__()
            except StopAsyncIteration:
                self._done = True
                raise
        assert scope.cancelled_caught
        raise self._pipeline._deadline_exceeded(self._op, self._timeout, [], self._path_params)


def _operation(op: str | Operation) -> Operation:
    if isinstance(op, Operation):
        return op
    try:
        return OPERATIONS[op]
    except KeyError:
        raise UnsupportedOperation(f"unknown operation {op!r}") from None


def _log_fields(op: Operation, path_params: Mapping[str, Any] | None, attempt: int) -> dict[str, Any]:
    """The ``extra`` of every record the pipeline logs: what a log processor filters on."""
    return {"operation": op.name, "collection": (path_params or {}).get("collection_name"), "attempt": attempt}


def _attach(error: BaseException, errors: list[BaseException]) -> None:
    try:
        error.attempts = list(errors)  # type: ignore[attr-defined]
    except AttributeError:  # pragma: no cover - exceptions with __slots__
        pass


def _is_stream(body: Any) -> bool:
    return hasattr(body, "read")


def _tell(body: Any) -> int | None:
    if not _is_stream(body):
        return None
    if inspect.iscoroutinefunction(getattr(body, "tell", None)):
        return None  # an async file: not rewound, so not resent
    try:
        if hasattr(body, "seekable") and not body.seekable():
            return None
        return body.tell()
    except (OSError, AttributeError, ValueError):
        return None


async def _aclose(chunks: Any) -> None:
    aclose = getattr(chunks, "aclose", None)
    if aclose is not None:
        await aclose()
