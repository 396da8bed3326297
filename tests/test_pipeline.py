"""The request pipeline over a scripted in-memory backend (the REST tests use real sockets)."""

from __future__ import annotations

import io
import logging
import traceback

import anyio
import pytest
from conftest import on_virtual_time

import aqdrant
from aqdrant import (
    DeadlineExceeded,
    NotFound,
    RateLimited,
    RetryPolicy,
    ServerError,
    TransportError,
    UnsupportedOperation,
    ValidationError,
    request_headers,
)
from aqdrant._backend import Request
from aqdrant._operations import OPERATIONS
from aqdrant._pipeline import Pipeline

# every backend here is in memory (FakeBackend): on trio the tests run on virtual time
pytestmark = pytest.mark.virtual_time


def assert_took(anyio_backend, elapsed: float, expected: float) -> None:
    """A call took ``expected`` seconds: exactly on virtual time (trio); on asyncio's real clock
    at least that (an upper bound there would be a bet on the machine's load)."""
    if on_virtual_time(anyio_backend):
        assert elapsed == pytest.approx(expected, abs=1e-6), elapsed
    else:
        assert elapsed >= expected - 0.01, elapsed  # -10 ms: the loop's clock granularity

FAST = RetryPolicy(max_attempts=3, backoff_base=0.001, backoff_max=0.002)
SECRET = "sk-very-secret-api-key-1234"
TOKEN = "tok-very-secret-bearer-5678"

IDEMPOTENT = "get_collection"  # GET
NON_IDEMPOTENT = "create_collection"  # PUT that must not run twice
assert OPERATIONS[IDEMPOTENT].idempotent and not OPERATIONS[NON_IDEMPOTENT].idempotent


class FakeBackend:
    """Runs each request through the next scripted step: an exception to raise, a value, or a
    callable (request) -> value (sync or async)."""

    def __init__(self, *script):
        self.script = list(script)
        self.requests: list[Request] = []
        self.times: list[float] = []
        self.closed = False

    async def execute(self, request):
        self.requests.append(request)
        self.times.append(anyio.current_time())
        step = self.script.pop(0) if self.script else True
        if callable(step) and not isinstance(step, type):
            step = step(request)
            if hasattr(step, "__await__"):
                step = await step
        if isinstance(step, BaseException):
            raise step
        return step

    async def stream(self, request):
        self.requests.append(request)
        step = self.script.pop(0) if self.script else [b"x"]
        if isinstance(step, BaseException):
            raise step
        for chunk in step:
            await anyio.sleep(0)
            yield chunk

    async def aclose(self):
        self.closed = True


def status(code, message="boom", headers=None, op=IDEMPOTENT):
    err = aqdrant.UnexpectedResponse.for_status(code, message, operation=op, headers=headers or {})
    if isinstance(err, RateLimited) and headers and "retry-after" in headers:
        err.retry_after = float(headers["retry-after"])
    return err


def refused(op=IDEMPOTENT):
    return TransportError("connect refused", operation=op, sent=False)


def reset(op=IDEMPOTENT):
    return TransportError("connection reset", operation=op, sent=True)


CP = {"collection_name": "c"}


# -- headers -----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_headers_three_layers_later_wins_case_insensitive():
    backend = FakeBackend()
    p = Pipeline(backend, headers={"X-Client": "client", "X-Layer": "client", "X-Both": "client"})
    with request_headers({"x-layer": "scope", "X-Scope": "scope", "x-both": "scope"}):
        await p.execute(IDEMPOTENT, path_params=CP, headers={"X-BOTH": "call", "x-call": "call"})
    h = backend.requests[0].headers
    assert h["x-client"] == "client"
    assert h["x-layer"] == "scope"
    assert h["x-scope"] == "scope"
    assert h["x-both"] == "call"
    assert h["x-call"] == "call"
    assert all(k == k.lower() for k in h)
    # outside the scope, the scope's headers are gone
    await p.execute(IDEMPOTENT, path_params=CP)
    assert "x-scope" not in backend.requests[1].headers
    assert backend.requests[1].headers["x-layer"] == "client"


@pytest.mark.anyio
async def test_header_scope_nests_and_flows_into_tasks():
    backend = FakeBackend()
    p = Pipeline(backend)
    with request_headers({"x-trace": "outer", "x-a": "1"}):
        with request_headers({"x-trace": "inner"}):
            async with anyio.create_task_group() as tg:
                tg.start_soon(lambda: p.execute(IDEMPOTENT, path_params=CP))
        await p.execute(IDEMPOTENT, path_params=CP)
    assert backend.requests[0].headers["x-trace"] == "inner"
    assert backend.requests[0].headers["x-a"] == "1"
    assert backend.requests[1].headers["x-trace"] == "outer"


@pytest.mark.anyio
async def test_api_key_and_token_provider_sync_and_async_called_per_call():
    calls = []

    def sync_provider():
        calls.append("sync")
        return f"{TOKEN}-{len(calls)}"

    backend = FakeBackend()
    p = Pipeline(backend, api_key=SECRET, auth_token_provider=sync_provider)
    await p.execute(IDEMPOTENT, path_params=CP)
    await p.execute(IDEMPOTENT, path_params=CP)
    assert backend.requests[0].headers["api-key"] == SECRET
    assert backend.requests[0].headers["authorization"] == f"Bearer {TOKEN}-1"
    assert backend.requests[1].headers["authorization"] == f"Bearer {TOKEN}-2"

    async def async_provider():
        await anyio.sleep(0)
        return TOKEN

    backend2 = FakeBackend()
    p2 = Pipeline(backend2, auth_token_provider=async_provider)
    await p2.execute(IDEMPOTENT, path_params=CP)
    assert backend2.requests[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert "api-key" not in backend2.requests[0].headers
    # an explicit per-call header replaces the credential (e.g. another tenant's key)
    await p.execute(IDEMPOTENT, path_params=CP, headers={"API-Key": "other"})
    assert backend.requests[-1].headers["api-key"] == "other"


@pytest.mark.anyio
async def test_token_provider_is_called_once_per_call_not_per_attempt():
    calls = []
    backend = FakeBackend(status(503), True)
    p = Pipeline(backend, auth_token_provider=lambda: calls.append(1) or TOKEN, retry=FAST)
    await p.execute(IDEMPOTENT, path_params=CP)
    assert len(backend.requests) == 2 and len(calls) == 1


@pytest.mark.anyio
@pytest.mark.parametrize("op", [IDEMPOTENT, NON_IDEMPOTENT])
async def test_a_401_is_sent_once_more_with_a_fresh_token(op):
    # An expired token is refused with 401: the provider is asked again and the call goes once
    # more with the new token, even for a non-idempotent operation (a 401 means nothing ran).
    tokens = iter(["tok-old-1111", "tok-new-2222", "tok-newer-3333"])
    backend = FakeBackend(status(401, "token expired", op=op), True)
    p = Pipeline(backend, auth_token_provider=lambda: next(tokens), retry=RetryPolicy(max_attempts=1))
    assert await p.execute(op, path_params=CP) is True
    assert [r.headers["authorization"] for r in backend.requests] == ["Bearer tok-old-1111", "Bearer tok-new-2222"]


@pytest.mark.anyio
async def test_a_401_is_final_when_the_token_does_not_change_or_is_the_callers_own():
    backend = FakeBackend(status(401, "bad token"), True)
    p = Pipeline(backend, auth_token_provider=lambda: TOKEN, retry=FAST)
    with pytest.raises(aqdrant.Unauthorized) as ei:
        await p.execute(IDEMPOTENT, path_params=CP)
    assert len(backend.requests) == 1 and TOKEN not in str(ei.value)
    # an authorization header the caller set is never replaced by the provider's token
    tokens = iter(["tok-a-1111", "tok-b-2222"])
    backend = FakeBackend(status(401, "bad token"), True)
    p = Pipeline(backend, auth_token_provider=lambda: next(tokens), retry=FAST)
    with pytest.raises(aqdrant.Unauthorized):
        await p.execute(IDEMPOTENT, path_params=CP, headers={"Authorization": "Bearer mine"})
    assert len(backend.requests) == 1
    # only one refresh per call: a second 401 is final, with both errors kept
    tokens = iter(["tok-1-1111", "tok-2-2222", "tok-3-3333"])
    backend = FakeBackend(status(401), status(401), True)
    p = Pipeline(backend, auth_token_provider=lambda: next(tokens), retry=FAST)
    with pytest.raises(aqdrant.Unauthorized) as ei:
        await p.execute(IDEMPOTENT, path_params=CP)
    assert len(backend.requests) == 2 and len(ei.value.attempts) == 2


@pytest.mark.anyio
async def test_a_401_refresh_rewinds_a_multipart_file_body():
    seen = []
    tokens = iter(["tok-old-1111", "tok-new-2222"])

    def read_all(request):
        seen.append(request.body.read())
        return status(401, op="recover_from_uploaded_snapshot") if len(seen) == 1 else True

    f = io.BytesIO(b"SNAPSHOT")
    p = Pipeline(FakeBackend(read_all, read_all), auth_token_provider=lambda: next(tokens), retry=FAST)
    assert await p.execute("recover_from_uploaded_snapshot", path_params=CP, body=f) is True
    assert seen == [b"SNAPSHOT", b"SNAPSHOT"]


# -- retries -----------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("code", [429, 502, 503, 504])
async def test_idempotent_retried_on_retryable_statuses(code):
    backend = FakeBackend(status(code), status(code), "ok")
    p = Pipeline(backend, retry=FAST)
    assert await p.execute(IDEMPOTENT, path_params=CP) == "ok"
    assert len(backend.requests) == 3


@pytest.mark.anyio
async def test_a_per_call_policy_replaces_the_clients_inside_its_scope():
    from aqdrant._pipeline import retry_policy

    backend = FakeBackend(status(503), "ok", status(503), status(503), "ok")
    p = Pipeline(backend, retry=FAST)
    with retry_policy(RetryPolicy.none()):  # a caller that retries on its own terms
        with pytest.raises(ServerError):
            await p.execute(IDEMPOTENT, path_params=CP)
        assert len(backend.requests) == 1
        assert await p.execute(IDEMPOTENT, path_params=CP) == "ok"
    assert await p.execute(IDEMPOTENT, path_params=CP) == "ok"  # the client's policy again
    assert len(backend.requests) == 5


@pytest.mark.anyio
async def test_gives_up_after_max_attempts_keeping_every_error():
    errors = [status(503, "first"), reset(), status(502, "last")]
    backend = FakeBackend(*errors)
    p = Pipeline(backend, retry=FAST)
    with pytest.raises(ServerError) as info:
        await p.execute(IDEMPOTENT, path_params=CP)
    assert info.value is errors[-1]
    assert info.value.attempts == errors
    assert len(backend.requests) == 3


@pytest.mark.anyio
@pytest.mark.parametrize("error", [status(503), status(429), reset()], ids=["503", "429", "reset"])
async def test_non_idempotent_not_retried_when_request_may_have_arrived(error):
    backend = FakeBackend(error, True)
    p = Pipeline(backend, retry=FAST)
    with pytest.raises(type(error)):
        await p.execute(NON_IDEMPOTENT, path_params=CP, body={})
    assert len(backend.requests) == 1


@pytest.mark.anyio
async def test_non_idempotent_retried_after_connect_failure():
    backend = FakeBackend(refused(NON_IDEMPOTENT), refused(NON_IDEMPOTENT), "created")
    p = Pipeline(backend, retry=FAST)
    assert await p.execute(NON_IDEMPOTENT, path_params=CP, body={}) == "created"
    assert len(backend.requests) == 3


@pytest.mark.anyio
@pytest.mark.parametrize(
    "error",
    [status(400), status(401), status(404), status(409), status(500), ValidationError("bad", path="$.x")],
    ids=["400", "401", "404", "409", "500", "validation"],
)
async def test_not_retried(error):
    backend = FakeBackend(error, True)
    p = Pipeline(backend, retry=FAST)
    with pytest.raises(type(error)):
        await p.execute(IDEMPOTENT, path_params=CP)
    assert len(backend.requests) == 1


@pytest.mark.anyio
async def test_retry_hook_and_debug_log(caplog):
    seen = []
    backend = FakeBackend(status(503), refused(), True)
    p = Pipeline(backend, retry=FAST, on_retry=lambda *a: seen.append(a))
    with caplog.at_level(logging.DEBUG, logger="aqdrant"):
        await p.execute(IDEMPOTENT, path_params=CP)
    assert [(s[0], s[1], type(s[2])) for s in seen] == [
        (IDEMPOTENT, 1, ServerError),
        (IDEMPOTENT, 2, TransportError),
    ]
    assert all(0 <= s[3] <= FAST.backoff_max for s in seen)
    records = [r for r in caplog.records if r.name == "aqdrant"]
    assert [r.getMessage().split(" after")[0] for r in records[:2]] == ["aqdrant: retrying get_collection"] * 2
    assert records[2].getMessage() == "aqdrant: get_collection done (attempt 3)"
    # every record carries the call's fields for log processors
    assert [(r.operation, r.collection, r.attempt) for r in records] == [
        (IDEMPOTENT, CP["collection_name"], n) for n in (1, 2, 3)
    ]


@pytest.mark.anyio
async def test_async_hook_and_failing_hook_does_not_fail_the_call():
    seen = []

    async def hook(*a):
        seen.append(a)
        raise RuntimeError("metrics down")

    backend = FakeBackend(status(503), "ok")
    p = Pipeline(backend, retry=FAST, on_retry=hook)
    assert await p.execute(IDEMPOTENT, path_params=CP) == "ok"
    assert len(seen) == 1


@pytest.mark.anyio
async def test_retry_after_is_honoured():
    backend = FakeBackend(status(429, headers={"retry-after": "0.3"}), "ok")
    p = Pipeline(backend, retry=RetryPolicy(backoff_base=0.001, backoff_max=0.001))
    await p.execute(IDEMPOTENT, path_params=CP)
    assert backend.requests[1].deadline is None
    assert backend.times[1] - backend.times[0] >= 0.29


@pytest.mark.anyio
async def test_retry_after_of_503_header_is_honoured():
    backend = FakeBackend(status(503, headers={"Retry-After": "0.25"}), "ok")
    p = Pipeline(backend, retry=RetryPolicy(backoff_base=0.001, backoff_max=0.001))
    await p.execute(IDEMPOTENT, path_params=CP)
    assert backend.times[1] - backend.times[0] >= 0.24


@pytest.mark.anyio
async def test_retry_after_past_the_deadline_fails_now_with_the_server_error(anyio_backend):
    backend = FakeBackend(status(429, headers={"retry-after": "5"}), "ok")
    p = Pipeline(backend, retry=FAST)
    start = anyio.current_time()
    with pytest.raises(RateLimited) as info:
        await p.execute(IDEMPOTENT, path_params=CP, timeout=1.0)
    assert_took(anyio_backend, anyio.current_time() - start, 0)  # did not sleep towards the deadline
    assert len(backend.requests) == 1
    assert len(info.value.attempts) == 1


@pytest.mark.anyio
async def test_retry_policy_validation_and_none():
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    backend = FakeBackend(status(503), "ok")
    p = Pipeline(backend, retry=RetryPolicy.none())
    with pytest.raises(ServerError):
        await p.execute(IDEMPOTENT, path_params=CP)
    assert len(backend.requests) == 1


def test_backoff_grows_and_is_capped():
    policy = RetryPolicy(backoff_base=0.1, backoff_max=0.5, jitter=False)
    assert [policy.backoff(n) for n in (1, 2, 3, 4, 5)] == [0.1, 0.2, 0.4, 0.5, 0.5]
    jittered = RetryPolicy(backoff_base=0.1, backoff_max=0.5)
    assert all(0 <= jittered.backoff(3) <= 0.4 for _ in range(100))


# -- deadline ------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_deadline_bounds_a_stalled_attempt(anyio_backend):
    async def stall(request):
        await anyio.sleep(30)

    p = Pipeline(FakeBackend(stall))
    start = anyio.current_time()
    with pytest.raises(DeadlineExceeded) as info:
        await p.execute(IDEMPOTENT, path_params=CP, timeout=0.3)
    assert_took(anyio_backend, anyio.current_time() - start, 0.3)
    assert info.value.operation == IDEMPOTENT
    assert isinstance(info.value, TimeoutError)


@pytest.mark.anyio
async def test_deadline_is_one_budget_across_attempts_and_sleeps(anyio_backend):
    async def slow_503(request):
        await anyio.sleep(0.15)
        return status(503)

    policy = RetryPolicy(max_attempts=100, backoff_base=0.05, backoff_max=0.05, jitter=False)
    backend = FakeBackend(*[slow_503] * 100)
    p = Pipeline(backend, retry=policy)
    start = anyio.current_time()
    with pytest.raises(DeadlineExceeded) as info:
        await p.execute(IDEMPOTENT, path_params=CP, timeout=0.5)
    assert_took(anyio_backend, anyio.current_time() - start, 0.5)
    assert 2 <= len(backend.requests) <= 3  # each 0.2 s: attempt + sleep
    if on_virtual_time(anyio_backend):
        assert len(backend.requests) == 3  # at 0, 0.2 and 0.4 s
    assert all(isinstance(e, ServerError) for e in info.value.attempts)
    # every attempt saw the same absolute deadline
    assert len({r.deadline for r in backend.requests}) == 1


@pytest.mark.anyio
async def test_client_default_timeout_and_per_call_override(anyio_backend):
    async def stall(request):
        await anyio.sleep(30)

    p = Pipeline(FakeBackend(stall, stall, "ok"), timeout=0.2)
    start = anyio.current_time()
    with pytest.raises(DeadlineExceeded):
        await p.execute(IDEMPOTENT, path_params=CP)
    assert_took(anyio_backend, anyio.current_time() - start, 0.2)
    start = anyio.current_time()
    with pytest.raises(DeadlineExceeded):
        await p.execute(IDEMPOTENT, path_params=CP, timeout=0.4)
    assert_took(anyio_backend, anyio.current_time() - start, 0.4)
    assert await p.execute(IDEMPOTENT, path_params=CP) == "ok"


@pytest.mark.anyio
async def test_remaining_budget_forwarded_as_server_timeout():
    backend = FakeBackend()
    p = Pipeline(backend)
    await p.execute("upsert_points", path_params=CP, body={}, timeout=2.2)
    assert backend.requests[-1].query["timeout"] == 3  # ceil
    await p.execute("upsert_points", path_params=CP, body={}, timeout=0.2)
    assert backend.requests[-1].query["timeout"] == 1  # at least 1
    await p.execute("upsert_points", path_params=CP, body={}, timeout=0.2, query={"timeout": 7, "wait": None})
    assert backend.requests[-1].query == {"timeout": 7}  # the caller's own wins; None dropped
    await p.execute("upsert_points", path_params=CP, body={})
    assert "timeout" not in backend.requests[-1].query  # no deadline, nothing forwarded
    await p.execute(IDEMPOTENT, path_params=CP, timeout=5)
    assert "timeout" not in backend.requests[-1].query  # operation has no timeout parameter


@pytest.mark.anyio
async def test_forwarded_timeout_shrinks_on_retry():
    async def slow_503(request):
        await anyio.sleep(1.1)
        return status(503, op="upsert_points")

    backend = FakeBackend(slow_503, "ok")
    p = Pipeline(backend, retry=FAST)
    await p.execute("upsert_points", path_params=CP, body={}, timeout=3.5)
    assert [r.query["timeout"] for r in backend.requests] == [4, 3]


@pytest.mark.anyio
async def test_outer_cancellation_is_not_turned_into_deadline_exceeded():
    async def stall(request):
        await anyio.sleep(30)

    p = Pipeline(FakeBackend(stall))
    with anyio.move_on_after(0.1) as scope:
        await p.execute(IDEMPOTENT, path_params=CP, timeout=5)
    assert scope.cancelled_caught


# -- secrets -------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_secrets_never_in_repr_logs_or_errors(caplog):
    echo = status(503, f"bad key {SECRET}")  # even a server echoing the key does not leak it
    backend = FakeBackend(echo, status(401, f"token {SECRET} rejected"))
    p = Pipeline(backend, api_key=SECRET, auth_token_provider=lambda: TOKEN, retry=FAST)
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(aqdrant.Unauthorized) as info:
            await p.execute(IDEMPOTENT, path_params=CP)
    texts = [
        repr(p),
        str(p),
        repr(backend.requests[0]),
        str(backend.requests[0].headers),
        caplog.text,
        str(info.value),
        repr(info.value),
        info.value.server_message,
        "".join(traceback.format_exception(info.value)),
        *(repr(e) for e in info.value.attempts),
    ]
    for text in texts:
        assert SECRET not in text and TOKEN not in text, text
    assert backend.requests[0].headers["api-key"] == SECRET  # it is still sent


# -- misc ----------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_unknown_operation_and_operation_object():
    p = Pipeline(FakeBackend("ok"))
    with pytest.raises(UnsupportedOperation):
        await p.execute("no_such_op")
    assert await p.execute(OPERATIONS["get_collections"]) == "ok"


@pytest.mark.anyio
async def test_multipart_file_body_rewound_before_a_retry():
    seen = []

    def read_all(request):
        seen.append(request.body.read())
        return refused("recover_from_uploaded_snapshot") if len(seen) == 1 else True

    f = io.BytesIO(b"header-SNAPSHOT")
    f.seek(7)
    p = Pipeline(FakeBackend(read_all, read_all), retry=FAST)
    assert await p.execute("recover_from_uploaded_snapshot", path_params=CP, body=f) is True
    assert seen == [b"SNAPSHOT", b"SNAPSHOT"]


@pytest.mark.anyio
async def test_stream_retries_opening_then_yields_chunks():
    backend = FakeBackend(status(503, op="get_snapshot"), [b"ab", b"cd", b"ef"])
    p = Pipeline(backend, retry=FAST)
    async with p.stream("get_snapshot", path_params={"collection_name": "c", "snapshot_name": "s"}) as chunks:
        got = [c async for c in chunks]
    assert got == [b"ab", b"cd", b"ef"]
    assert len(backend.requests) == 2


@pytest.mark.anyio
async def test_stream_errors_and_empty_body():
    p = Pipeline(FakeBackend(status(404, op="get_snapshot"), []), retry=FAST)
    sp = {"collection_name": "c", "snapshot_name": "s"}
    with pytest.raises(NotFound):
        async with p.stream("get_snapshot", path_params=sp):
            pass
    async with p.stream("get_snapshot", path_params=sp) as chunks:
        assert [c async for c in chunks] == []


@pytest.mark.anyio
async def test_aclose_closes_backend():
    backend = FakeBackend()
    await Pipeline(backend).aclose()
    assert backend.closed


@pytest.mark.anyio
async def test_slow_token_provider_counts_against_the_deadline(anyio_backend):
    async def provider():
        await anyio.sleep(30)
        return TOKEN

    backend = FakeBackend()
    p = Pipeline(backend, auth_token_provider=provider)
    start = anyio.current_time()
    with pytest.raises(DeadlineExceeded):
        await p.execute(IDEMPOTENT, path_params=CP, timeout=0.2)
    assert_took(anyio_backend, anyio.current_time() - start, 0.2)
    assert backend.requests == []


@pytest.mark.anyio
async def test_deadline_error_names_operation_and_collection():
    async def stall(request):
        await anyio.sleep(30)

    p = Pipeline(FakeBackend(stall))
    with pytest.raises(DeadlineExceeded, match="get_collection on collection 'c'") as info:
        await p.execute(IDEMPOTENT, path_params=CP, timeout=0.05)
    assert info.value.collection == "c"


@pytest.mark.anyio
async def test_download_by_plain_async_for_opens_and_closes_itself():
    closed = []

    class Backend(FakeBackend):
        async def stream(self, request):
            try:
                for chunk in (b"a", b"b"):
                    yield chunk
            finally:
                closed.append(True)

    p = Pipeline(Backend(), retry=FAST)
    sp = {"collection_name": "c", "snapshot_name": "s"}
    assert [c async for c in p.stream("get_snapshot", path_params=sp)] == [b"a", b"b"]
    assert closed == [True]
    p2 = Pipeline(FakeBackend(status(404, op="get_snapshot")), retry=FAST)
    with pytest.raises(NotFound):
        async for _ in p2.stream("get_snapshot", path_params=sp):
            pass


def test_retry_after_parsing():
    from datetime import datetime, timedelta, timezone
    from email.utils import format_datetime

    from aqdrant._retry import parse_retry_after

    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(" 0.5 ") == 0.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    assert 25 <= parse_retry_after(when) <= 31


# -- a backend that bounds its own attempts (bounds_deadline: the gRPC backend) -------------------


class BoundedBackend(FakeBackend):
    """A FakeBackend whose attempts end themselves at the deadline, as the gRPC channel's do."""

    bounds_deadline = True

    async def execute(self, request):
        try:
            with anyio.fail_after(request.deadline - anyio.current_time() if request.deadline else None):
                return await super().execute(request)
        except TimeoutError:
            raise DeadlineExceeded(f"{request.op.name}: the backend's own timer", operation=request.op.name) from None


@pytest.mark.anyio
async def test_a_bounded_backend_ends_the_call_with_the_pipelines_deadline_error(anyio_backend):
    async def stall(request):
        await anyio.sleep(30)

    backend = BoundedBackend(TransportError("reset", sent=False), stall)
    p = Pipeline(backend, retry=FAST)
    start = anyio.current_time()
    with pytest.raises(DeadlineExceeded) as info:
        await p.execute(IDEMPOTENT, path_params=CP, timeout=0.3)
    assert_took(anyio_backend, anyio.current_time() - start, 0.3)
    # the same error as when the pipeline's own scope ends the call: its message, the earlier
    # attempts, not the backend's DeadlineExceeded
    assert "deadline of 0.3 s exceeded (1 earlier attempt(s) failed)" in str(info.value)
    assert "own timer" not in str(info.value)
    assert [type(e) for e in info.value.attempts] == [TransportError]
    assert info.value.operation == IDEMPOTENT and info.value.collection == CP["collection_name"]


@pytest.mark.anyio
@pytest.mark.parametrize("slow", ["token_provider", "on_retry"])
async def test_a_bounded_backend_still_gets_the_scope_around_what_it_cannot_bound(anyio_backend, slow):
    async def stalled_hook(*args):
        await anyio.sleep(30)
        return "tok"

    kwargs = {"auth_token_provider": stalled_hook} if slow == "token_provider" else {"on_retry": stalled_hook}
    backend = BoundedBackend(TransportError("reset", sent=False), "ok")
    p = Pipeline(backend, retry=FAST, **kwargs)
    start = anyio.current_time()
    with pytest.raises(DeadlineExceeded) as info:
        await p.execute(IDEMPOTENT, path_params=CP, timeout=0.3)
    assert_took(anyio_backend, anyio.current_time() - start, 0.3)
    assert "deadline of 0.3 s exceeded" in str(info.value)


@pytest.mark.anyio
async def test_a_bounded_backend_without_deadline_returns_and_raises_as_before(anyio_backend):
    backend = BoundedBackend(TransportError("reset", sent=False), "ok", status(404))
    p = Pipeline(backend, retry=FAST)
    assert await p.execute(IDEMPOTENT, path_params=CP) == "ok"
    with pytest.raises(NotFound):
        await p.execute(IDEMPOTENT, path_params=CP)
    assert all(r.deadline is None for r in backend.requests)
