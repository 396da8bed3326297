"""The generated blocking client ``aqdrant.QdrantClient`` (aqdrant/sync_shim/).

Covers: the signatures equal the async client's; the generator's --check; the mechanism (8
threads on one client, os.fork(), refusal inside asyncio/trio loops, clean close, contextvars,
cancellation on close) on the embedded engine, on REST against the dev server, and on a fake
target for the cases no backend can produce on demand.
"""

from __future__ import annotations

import contextvars
import gc
import importlib.util
import inspect
import os
import select
import subprocess
import sys
import threading
import time
import typing
from pathlib import Path

import anyio
import pytest

import aqdrant
from aqdrant import models
from aqdrant.client import AsyncQdrantClient
from aqdrant.server import ServerThread
from aqdrant.sync_shim import (
    ClientClosedError,
    ForkedClientError,
    QdrantClient,
    SyncInAsyncContextError,
    SyncIterator,
)
from aqdrant.sync_shim._runner import Runner

ROOT = Path(__file__).resolve().parent.parent
#: async-client names with a hand-written blocking counterpart (``aclose`` is an alias of close)
NOT_MIRRORED = {"aclose"}


def _public(cls: type) -> dict[str, typing.Any]:
    return {n: getattr(cls, n) for n in dir(cls) if not n.startswith("_") and callable(getattr(cls, n))}


def _threads() -> set[threading.Thread]:
    """Live threads, minus trio's idle worker-thread cache (left by other tests; exits on its own)."""
    return {t for t in threading.enumerate() if not t.name.startswith("Trio thread")}


def _threads_back_to(before: set[threading.Thread], timeout: float = 10.0) -> set[threading.Thread]:
    """Threads started since ``before`` still alive after ``timeout`` (joined ones vanish at once)."""
    deadline = time.monotonic() + timeout
    while _threads() - before and time.monotonic() < deadline:
        time.sleep(0.02)
    return _threads() - before


def _loop_threads() -> list[threading.Thread]:
    """Threads running an event loop for a blocking client (there should be none: callers drive)."""
    return [t for t in threading.enumerate() if "portal" in t.name or "aqdrant-QdrantClient" in t.name]


@pytest.fixture
def client():
    with QdrantClient(":memory:") as c:
        c.create_collection("c", vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT))
        yield c


@pytest.fixture(scope="module")
def server(dev_server):
    import httpx

    httpx.get(f"{dev_server.url}/collections", timeout=30).raise_for_status()  # engine up: its threads exist
    return dev_server


# ---- generated surface ----------------------------------------------------------------------


def test_exported_from_package():
    assert aqdrant.QdrantClient is QdrantClient


def test_same_public_methods_and_signatures():
    async_methods = _public(AsyncQdrantClient)
    sync_methods = _public(QdrantClient)
    assert set(sync_methods) == set(async_methods) - NOT_MIRRORED
    for name, sync_fn in sync_methods.items():
        a_sig, s_sig = inspect.signature(async_methods[name]), inspect.signature(sync_fn)
        a_params = [(p.name, p.kind, p.default, p.annotation) for p in a_sig.parameters.values()]
        s_params = [(p.name, p.kind, p.default, p.annotation) for p in s_sig.parameters.values()]
        assert s_params == a_params, name
        if name != "close":  # hand-written: it also stops the loop thread
            assert inspect.getdoc(sync_fn) == inspect.getdoc(async_methods[name]), name
    a_init = [
        (p.name, p.kind, p.default) for p in inspect.signature(AsyncQdrantClient.__init__).parameters.values()
    ]
    s_init = [
        (p.name, p.kind, p.default) for p in inspect.signature(QdrantClient.__init__).parameters.values()
    ]
    assert s_init == a_init


def test_return_types_unwrapped_and_resolvable():
    for name, fn in _public(QdrantClient).items():
        assert not inspect.iscoroutinefunction(fn) and not inspect.isasyncgenfunction(fn), name
        hints = typing.get_type_hints(fn)  # every annotation name is importable from the module
        assert "Async" not in str(hints.get("return", "")), name
    assert inspect.signature(QdrantClient.scroll_all).return_annotation == "Iterator[models.Record]"
    assert inspect.signature(QdrantClient.collection_exists).return_annotation == "bool"
    assert inspect.signature(QdrantClient.close).parameters.keys() == {"self", "grpc_grace"}


def _load_generator():
    spec = importlib.util.spec_from_file_location("gen_sync_shim", ROOT / "tools" / "gen_sync_shim.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generator_check_passes():
    res = subprocess.run(
        [sys.executable, "tools/gen_sync_shim.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr


def test_generator_check_detects_stale_output(tmp_path, monkeypatch):
    gen = _load_generator()
    stale = tmp_path / "_generated.py"
    stale.write_text(gen.OUT.read_text().replace("def count(", "def count_(", 1))
    monkeypatch.setattr(gen, "OUT", stale)
    assert gen.main(["--check"]) == 1
    assert gen.main([]) == 0  # regenerates
    assert gen.main(["--check"]) == 0


# ---- functional, embedded engine -------------------------------------------------------------


def test_local_create_upsert_query_scroll(client):
    assert client.collection_exists("c") is True
    assert client.collection_exists("nope") is False
    points = [models.PointStruct(id=i, vector=[float(i), 1.0, 0.0, 0.0], payload={"i": i}) for i in range(20)]
    client.upsert("c", points=points)
    assert client.count("c").count == 20
    res = client.query_points("c", query=[1.0, 0.0, 0.0, 0.0], limit=3)
    assert [p.id for p in res.points] == [19, 18, 17]
    it = client.scroll_all("c", batch_size=6)
    assert isinstance(it, SyncIterator)
    assert sorted(r.id for r in it) == list(range(20))
    with client.scroll_all("c", batch_size=2) as partial:  # stopped early, closed on exit
        assert next(partial).id is not None


def test_local_errors_propagate_with_their_type(client):
    with pytest.raises(aqdrant.NotFound):
        client.get_collection("missing")
    with pytest.raises(TypeError):
        client.collection_exists("c", bogus=1)


def test_ingest_context_manager_is_blocking(client):
    with client.ingest("c", batch_size=4) as sink:
        sink.send(models.PointStruct(id=1, vector=[1.0, 0.0, 0.0, 0.0]))
        sink.send_many([models.PointStruct(id=i, vector=[0.0, 1.0, 0.0, 0.0]) for i in range(2, 12)])
    assert client.count("c").count == 11


def test_request_headers_scope_of_the_calling_thread_applies():
    var: contextvars.ContextVar[str] = contextvars.ContextVar("v", default="unset")

    class Target:
        async def read(self) -> str:
            return var.get()

    async def aclose(target: Target) -> None:
        pass

    runner = Runner(Target, aclose=aclose)
    try:
        assert runner.call(Target.read) == "unset"
        token = var.set("caller")
        try:
            assert runner.call(Target.read) == "caller"
        finally:
            var.reset(token)
    finally:
        runner.close()


# ---- threads -------------------------------------------------------------------------------------


def test_eight_threads_share_one_client(client):
    n_threads, per_thread = 8, 25
    barrier = threading.Barrier(n_threads)
    errors: list[BaseException] = []
    loop_threads = _loop_threads()

    def work(t: int) -> None:
        try:
            barrier.wait(timeout=30)
            for k in range(per_thread):
                pid = t * 1000 + k
                client.upsert(
                    "c", points=[models.PointStruct(id=pid, vector=[1.0, 0.0, 0.0, 0.0], payload={"t": t})]
                )
                got = client.retrieve("c", [pid], with_payload=True)
                assert [(r.id, r.payload) for r in got] == [(pid, {"t": t})]
                assert client.collection_exists("c")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not any(th.is_alive() for th in threads), "a caller thread hung"
    assert errors == []
    assert client.count("c").count == n_threads * per_thread
    assert _loop_threads() == loop_threads == []  # the callers ran the loop: no thread of its own


def test_calls_from_threads_run_concurrently_on_the_loop():
    """8 callers that each wait for all the others can only finish if their calls overlap."""

    class Target:
        def __init__(self) -> None:
            self.arrived = 0
            self.all_in: anyio.Event | None = None

        async def rendezvous(self, n: int) -> int:
            if self.all_in is None:
                self.all_in = anyio.Event()
            self.arrived += 1
            if self.arrived == n:
                self.all_in.set()
            with anyio.fail_after(30):
                await self.all_in.wait()
            return self.arrived

    async def aclose(target: Target) -> None:
        pass

    runner = Runner(Target, aclose=aclose)
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(runner.call(Target.rendezvous, 8))) for _ in range(8)
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    runner.close()
    assert results == [8] * 8


def test_driver_role_passes_to_a_caller_whose_call_is_still_in_flight(monkeypatch):
    """The thread running the loop returns when its own call is done; a caller whose call is
    still in flight takes over the loop (no waiting for the liveness poll: it is made huge)."""
    from aqdrant.sync_shim import _runner

    monkeypatch.setattr(_runner, "_LIVENESS_POLL", 600.0)
    driving = threading.Event()

    class Target:
        def __init__(self) -> None:
            self.go: anyio.Event | None = None

        async def hold(self) -> str:
            self.go = anyio.Event()
            driving.set()
            await self.go.wait()
            return "first"

        async def release_then_sleep(self) -> str:
            assert self.go is not None
            self.go.set()
            await anyio.sleep(0.05)  # still in flight when the first caller's call is done
            return "second"

    async def aclose(target: Target) -> None:
        pass

    runner = Runner(Target, aclose=aclose)
    results: dict[str, str] = {}
    first = threading.Thread(target=lambda: results.update(first=runner.call(Target.hold)))
    first.start()
    assert driving.wait(30)  # the first caller runs the loop now: the second one must wait
    second = threading.Thread(target=lambda: results.update(second=runner.call(Target.release_then_sleep)))
    second.start()
    first.join(timeout=30)
    second.join(timeout=30)
    alive = first.is_alive() or second.is_alive()
    runner.close()  # (a hung call is cancelled: its thread ends)
    assert not alive, "the second caller was not handed the loop"
    assert results == {"first": "first", "second": "second"}


# ---- inside a running event loop (Jupyter, asyncio.run, a trio task) ------------------------


@pytest.mark.anyio
async def test_works_inside_event_loop_through_a_private_thread(anyio_backend, client):
    """The calling thread runs a loop, so it cannot run the client's: a private thread drives it
    (the call still blocks the caller, as a blocking call does)."""
    with aqdrant.request_headers({"x-scope": "s"}):  # the caller's context travels with the call
        assert client.collection_exists("c") is True
    client.upsert("c", [models.PointStruct(id=i, vector=[1.0, 0.0, 0.0, float(i)]) for i in range(3)])
    assert sorted(p.id for p in client.scroll_all("c")) == [0, 1, 2]  # iterators too
    # ... and a worker thread, which runs no loop, keeps the direct path
    assert await anyio.to_thread.run_sync(client.collection_exists, "c") is True


@pytest.mark.anyio
async def test_construction_and_close_inside_event_loop(anyio_backend):
    c = QdrantClient(":memory:")
    c.create_collection("x", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    assert c.collection_exists("x")
    c.close()
    with pytest.raises(ClientClosedError):
        c.collection_exists("x")
    assert _threads_back_to(set(_threads())) == set()


def test_works_under_asyncio_run_and_trio_run(client):
    import asyncio

    import trio

    async def main() -> bool:
        return client.collection_exists("c")

    assert asyncio.run(main()) is True
    assert trio.run(main) is True
    assert client.collection_exists("c")  # and the direct path still works afterwards


def test_a_call_from_the_clients_own_loop_is_refused(client):
    """A coroutine on the client's own loop cannot wait for that loop: refused, not a deadlock."""
    runner = client._runner

    async def reenter(target):
        return client.collection_exists("c")

    reenter.__name__ = "reenter"
    with pytest.raises(SyncInAsyncContextError, match="own event loop"):
        runner.call(reenter)
    assert client.collection_exists("c")


# ---- close ---------------------------------------------------------------------------------------


def _engine_pid(c: QdrantClient) -> int:
    return c._runner._state.target._backend.pid


def _pid_gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        with open(f"/proc/{pid}/stat") as f:
            if f.read().split(") ", 1)[1].startswith("Z"):  # exited, not yet reaped by its parent
                return True
        time.sleep(0.05)
    return False


def test_close_leaves_no_thread_and_no_engine_process():
    before = _threads()
    with QdrantClient(":memory:") as c:
        c.create_collection("c", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
        assert _loop_threads() == []  # the calling thread runs the client's loop
        engine = _engine_pid(c)
        loop = c._runner._state.loop
    assert loop.is_closed()
    assert _threads_back_to(before) == set()  # asyncio's waitpid helper thread ends with the engine
    assert _pid_gone(engine)
    with pytest.raises(ClientClosedError):
        c.collection_exists("c")
    c.close()  # twice is fine


def _client_sockets() -> set[str]:
    out = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            link = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:"):
            out.add(f"{fd}:{link}")
    return out


def test_close_leaves_no_socket_rest(server):
    before_threads = _threads()
    before = _client_sockets()
    c = QdrantClient(url=server.url, check_compatibility=False)
    assert c.collection_exists("nope") is False
    assert len(_client_sockets() - before) >= 1  # the connection (and the server's side of it)
    c.close()
    deadline = time.monotonic() + 10
    while _client_sockets() - before and time.monotonic() < deadline:
        time.sleep(0.05)  # the server closes its side when it sees the client's FIN
    assert _client_sockets() - before == set()
    assert _threads_back_to(before_threads) == set()


def test_unclosed_client_is_cleaned_up_when_collected():
    before = _threads()
    c = QdrantClient(":memory:")
    c.collection_exists("x")
    engine = _engine_pid(c)
    del c
    gc.collect()
    assert _threads_back_to(before) == set()
    assert _pid_gone(engine)


def test_close_cancels_calls_in_flight():
    started = threading.Event()

    class Target:
        async def forever(self) -> None:
            started.set()
            await anyio.sleep_forever()

    async def aclose(target: Target) -> None:
        pass

    runner = Runner(Target, aclose=aclose)
    outcome: list[BaseException] = []

    def caller() -> None:
        try:
            runner.call(Target.forever)
        except BaseException as exc:  # noqa: BLE001
            outcome.append(exc)

    th = threading.Thread(target=caller)
    th.start()
    assert started.wait(30)
    runner.close()
    th.join(timeout=30)
    assert not th.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], ClientClosedError)


def test_unclosed_client_collected_inside_an_event_loop_is_still_closed():
    """Its loop cannot run in a thread running another loop: it is closed from a helper thread."""
    closed = threading.Event()

    class Target:
        async def ping(self) -> str:
            return "pong"

    async def aclose(target: Target) -> None:
        closed.set()

    holder = [Runner(Target, aclose=aclose)]
    assert holder[0].call(Target.ping) == "pong"

    async def main() -> None:
        holder.clear()
        gc.collect()

    anyio.run(main, backend="asyncio")
    assert closed.wait(30)


def test_async_context_manager_enter_error_and_close_while_entered():
    import contextlib

    exits: list[str] = []

    class Target:
        @contextlib.asynccontextmanager
        async def broken(self) -> typing.AsyncIterator[None]:
            raise LookupError("cannot enter")
            yield  # pragma: no cover

        @contextlib.asynccontextmanager
        async def resource(self) -> typing.AsyncIterator[str]:
            try:
                yield "inside"
            finally:
                exits.append("exited")

    async def aclose(target: Target) -> None:
        pass

    runner = Runner(Target, aclose=aclose)
    with pytest.raises(LookupError, match="cannot enter"):
        with runner.context(Target.broken):
            pass  # pragma: no cover
    with runner.context(Target.resource) as value:
        assert value == "inside"
        entered_again = runner.context(Target.resource)
        assert entered_again.__enter__() == "inside"
    assert exits == ["exited"]
    runner.close()  # cancels the host task of the context still entered: its cleanup runs
    assert exits == ["exited", "exited"]


def test_constructor_errors_raise_and_leave_no_thread():
    before = _threads()
    with pytest.raises(ValueError, match="only one of"):
        QdrantClient(":memory:", url="http://localhost:6333")
    assert _threads() - before == set()


# ---- fork ----------------------------------------------------------------------------------------


def _fork_and_wait(child_body: typing.Callable[[], int], timeout: float = 60.0) -> tuple[int, str]:
    """Run ``child_body`` in a forked child; return (exit code, what it wrote). A hang fails."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never return into pytest
        code = 99
        try:
            os.close(r)
            code = child_body()
        except BaseException as exc:  # noqa: BLE001
            os.write(w, f"{type(exc).__name__}: {exc}".encode())
            code = 98
        finally:
            os._exit(code)
    os.close(w)
    deadline = time.monotonic() + timeout
    message = b""
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail("the forked child hung")
        ready, _, _ = select.select([r], [], [], 0.05)
        if ready:
            message += os.read(r, 65536)
    while chunk := os.read(r, 65536):
        message += chunk
    os.close(r)
    return os.waitstatus_to_exitcode(status), message.decode()


def test_fork_local_client_raises_clear_error_in_child(client):
    client.upsert("c", points=[models.PointStruct(id=1, vector=[1.0, 0.0, 0.0, 0.0])])

    def child() -> int:
        try:
            client.count("c")
        except ForkedClientError as exc:
            return 0 if "forked child" in str(exc) and "new QdrantClient" in str(exc) else 2
        return 1

    code, message = _fork_and_wait(child)
    assert code == 0, message
    assert client.count("c").count == 1  # the parent's client is unaffected


def test_fork_rest_client_works_in_child(server):
    c = QdrantClient(url=server.url, check_compatibility=False)
    try:
        c.create_collection(
            "forked", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT)
        )

        def child() -> int:
            ok = c.collection_exists("forked") is True
            c.upsert("forked", points=[models.PointStruct(id=7, vector=[1.0, 2.0])])
            c.close()
            return 0 if ok else 1

        code, message = _fork_and_wait(child)
        assert code == 0, message
        assert [r.id for r in c.retrieve("forked", [7])] == [7]  # the child's write, via the parent's client
    finally:
        c.close()


def test_fork_while_another_thread_is_mid_call_does_not_hang_child(server):
    """A parent thread blocked in a call at fork time: the child's client still works."""
    c = QdrantClient(url=server.url, check_compatibility=False)
    stop = threading.Event()

    def busy() -> None:
        while not stop.is_set():
            c.collection_exists("x")

    th = threading.Thread(target=busy)
    th.start()
    try:
        time.sleep(0.1)
        code, message = _fork_and_wait(lambda: 0 if c.collection_exists("x") is False else 1)
        assert code == 0, message
    finally:
        stop.set()
        th.join(timeout=30)
        c.close()


def test_close_from_the_loop_thread_itself_does_not_deadlock():
    """E.g. the last reference dropped inside a callback on the loop: shut down in the background."""
    closed = threading.Event()
    holder: dict[str, Runner] = {}

    class Target:
        async def close_from_inside(self) -> str:
            holder["runner"].close()
            return "returned"

    async def aclose(target: Target) -> None:
        closed.set()

    before = _threads()
    holder["runner"] = runner = Runner(Target, aclose=aclose)
    try:
        assert runner.call(Target.close_from_inside) == "returned"
    except ClientClosedError:
        pass  # also acceptable: the shutdown cancelled the call first
    assert closed.wait(30)
    assert _threads_back_to(before) == set()
    with pytest.raises(ClientClosedError):
        runner.call(Target.close_from_inside)


def test_ctrl_c_in_a_blocking_call_cancels_the_call_on_the_loop():
    import _thread

    started, cancelled = threading.Event(), threading.Event()

    class Target:
        async def forever(self) -> None:
            started.set()
            try:
                await anyio.sleep_forever()
            finally:
                cancelled.set()

        async def ping(self) -> str:
            return "pong"

    async def aclose(target: Target) -> None:
        pass

    runner = Runner(Target, aclose=aclose)
    try:
        threading.Thread(target=lambda: started.wait(30) and _thread.interrupt_main()).start()
        with pytest.raises(KeyboardInterrupt):
            runner.call(Target.forever)
        assert cancelled.wait(30)
        assert runner.call(Target.ping) == "pong"  # the client still works
    finally:
        runner.close()


def test_ctrl_c_in_a_call_from_inside_an_event_loop_cancels_it():
    """Jupyter's interrupt: the caller (a loop's thread) waits for the private thread; Ctrl-C
    there cancels the call on the client's loop too."""
    import _thread
    import asyncio

    started, cancelled = threading.Event(), threading.Event()

    class Target:
        async def forever(self) -> None:
            started.set()
            try:
                await anyio.sleep_forever()
            finally:
                cancelled.set()

        async def ping(self) -> str:
            return "pong"

    async def aclose(target: Target) -> None:
        pass

    async def inside_a_loop() -> str:
        started.clear()
        cancelled.clear()
        runner = Runner(Target, aclose=aclose)
        try:
            threading.Thread(target=lambda: started.wait(30) and _thread.interrupt_main()).start()
            with pytest.raises(KeyboardInterrupt):
                runner.call(Target.forever)
            assert cancelled.wait(30)
            return runner.call(Target.ping)  # the client still works
        finally:
            runner.close()

    # a plain loop, as a kernel runs it (asyncio.run would turn the first Ctrl-C into a
    # cancellation of its main task, delivered only once the blocking call returns)
    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(inside_a_loop()) == "pong"
    finally:
        loop.close()
    import trio

    assert trio.run(inside_a_loop) == "pong"


def test_path_constructor_persists_between_clients(tmp_path):
    with QdrantClient(path=str(tmp_path / "db")) as c:
        c.create_collection("p", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
        c.upsert("p", points=[models.PointStruct(id=1, vector=[1.0, 2.0], payload={"k": "v"})])
    with QdrantClient(path=str(tmp_path / "db")) as c:
        assert [(r.id, r.payload) for r in c.retrieve("p", [1], with_payload=True)] == [(1, {"k": "v"})]


def test_url_and_api_key_constructor():
    with ServerThread(api_key="s3cret") as srv:
        with QdrantClient(url=srv.url, api_key="s3cret", check_compatibility=False) as c:
            assert c.collection_exists("nope") is False
        with QdrantClient(url=srv.url, api_key="wrong", check_compatibility=False) as c:
            with pytest.raises(aqdrant.Unauthorized):
                c.collection_exists("nope")
