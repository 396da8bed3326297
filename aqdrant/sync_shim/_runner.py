"""The runtime under the generated blocking client: one event-loop thread per client.

Mechanism
---------
Each :class:`Runner` owns one daemon thread running an asyncio event loop, started with anyio's
:func:`~anyio.from_thread.start_blocking_portal` (asyncio backend). The ``AsyncQdrantClient`` is
constructed *inside* that thread and lives there for its whole life; every blocking method hands
one coroutine of the async client to the loop and waits for its result. So there is exactly one
implementation of every operation (the async one) and every backend works unchanged: the REST
connection pool, the gRPC channel and the embedded engine's actor all stay bound to the one loop
that created them, which is what they require.

Why this and not the alternatives:

- ``anyio.run()`` / ``asyncio.run()`` per call creates a new loop per call: connection pools and
  the engine actor cannot survive between calls (they are bound to a loop), a few hundred
  microseconds are lost per call, and it fails outright inside Jupyter (a loop is running).
- A second, hand-written synchronous implementation (or unasync-style code rewriting of every
  layer, as httpcore does) would double the transport code that must be kept identical: retries,
  deadlines, headers, three backends. The issue asks for a single anyio core.
- ``portal.call()`` for every call works, but costs ~80 us per call (it spawns each call into the
  portal's task group from the thread through ``run_sync_from_thread``). The hot path here submits
  with ``loop.call_soon_threadsafe`` + ``loop.create_task`` and waits on a plain lock (~30 us).
  The portal still owns the thread and loop (start and stop) and runs the cold paths
  (construction, close).

Guarantees, and how:

- Thread safety: callers from any number of threads submit through ``call_soon_threadsafe``;
  their calls run concurrently on the one loop (one connection pool), each caller waits on its
  own lock. The async client is only ever touched from the loop thread.
- Context: the caller's ``contextvars`` context is copied into the task, so
  ``aqdrant.request_headers(...)`` scopes set in the calling thread apply.
- Inside an event loop: a blocking call from a thread that runs an asyncio loop or a trio run
  would block that loop (and deadlock if it is the client's own loop), so it raises
  :class:`SyncInAsyncContextError` pointing at ``AsyncQdrantClient``. Worker threads
  (``anyio.to_thread.run_sync``, ``asyncio.to_thread``) run no loop and may use the shim.
- ``os.fork()``: the loop thread does not exist in the child. An ``os.register_at_fork`` hook marks
  every live runner as forked and resets its locks (a lock held by another parent thread at fork
  time would otherwise deadlock the child). On its next call in the child, a client whose backend
  is reopenable (REST, gRPC: plain network connections) transparently starts a fresh loop thread
  and a fresh async client from the saved constructor arguments; a client of the embedded engine
  (whose engine process and files belong to the parent) raises :class:`ForkedClientError`.
  The parent's inherited objects are kept referenced, never closed, in the child: closing them
  could disturb the parent's connections. Nothing ever waits on the dead thread.
- Close: ``close()`` (or leaving ``with``) cancels calls still in flight (their callers get
  :class:`ClientClosedError`), closes the async client on its loop (connections, engine), stops
  the loop and joins the thread. A client that is garbage collected unclosed, or still open at
  interpreter exit, is closed the same way. No waiting is unbounded: a caller waiting for a
  result also watches that the loop thread is alive.
"""

from __future__ import annotations

import asyncio
import atexit
import contextvars
import inspect
import os
import sys
import threading
import weakref
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Generic, TypeVar

from anyio.from_thread import start_blocking_portal

T = TypeVar("T")

#: how often a waiting caller checks that the loop thread is still alive (seconds)
_LIVENESS_POLL = 0.5
#: how long close() waits for the async client to close before giving up on the thread
_CLOSE_TIMEOUT = 30.0


class SyncInAsyncContextError(RuntimeError):
    """A blocking ``QdrantClient`` method was called from a thread running an event loop."""


class ForkedClientError(RuntimeError):
    """A client of the embedded engine was used in a child process after ``os.fork()``."""


class ClientClosedError(RuntimeError):
    """The blocking client is closed (or was closed while this call was in flight)."""


def _refuse_inside_event_loop(what: str) -> None:
    # Both checks are per thread and cost well under a microsecond; sniffio is not used on
    # purpose: its context variable can leak into worker threads, which run no loop.
    if asyncio._get_running_loop() is not None:
        library = "asyncio"
    else:
        trio = sys.modules.get("trio")
        if trio is None or not trio.lowlevel.in_trio_run():
            return
        library = "trio"
    raise SyncInAsyncContextError(
        f"QdrantClient.{what}() is blocking and was called from a thread running an {library} event "
        "loop; it would block the loop (or deadlock). Use aqdrant.AsyncQdrantClient and await its "
        "methods there, or call the blocking client from a worker thread "
        "(anyio.to_thread.run_sync / asyncio.to_thread)."
    )


if sys.version_info >= (3, 11):

    def _create_task(
        loop: asyncio.AbstractEventLoop, coro: Any, ctx: contextvars.Context
    ) -> asyncio.Task[Any]:
        return loop.create_task(coro, context=ctx)

else:  # the task copies the current context: run its creation in the caller's

    def _create_task(
        loop: asyncio.AbstractEventLoop, coro: Any, ctx: contextvars.Context
    ) -> asyncio.Task[Any]:
        return ctx.run(loop.create_task, coro)


class _LoopState:
    """One loop thread and the async client living in it (replaced wholesale after a fork)."""

    __slots__ = ("portal_cm", "portal", "loop", "thread", "target", "tasks", "stopping")

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[Any]] = set()  # touched only in the loop thread
        self.stopping = False


_live_runners: weakref.WeakSet[Runner[Any]] = weakref.WeakSet()
_abandoned_after_fork: list[Any] = []  # the parent's objects, kept alive and untouched in a child


def _after_fork_in_child() -> None:
    for runner in list(_live_runners):
        runner._forked_in_child()


def _close_all_at_exit() -> None:
    for runner in list(_live_runners):
        try:
            runner.close()
        except Exception:  # noqa: BLE001 - best effort at interpreter exit
            pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_close_all_at_exit)


class Runner(Generic[T]):
    """Runs coroutines of one async object (built by ``factory``) on a private loop thread.

    ``reopen_after_fork(target)`` says whether a forked child may rebuild the target from the
    factory (True) or must raise :class:`ForkedClientError` (False).
    ``aclose(target)`` closes the target; it runs on the loop at close.
    """

    def __init__(
        self,
        factory: Callable[[], T],
        *,
        aclose: Callable[[T], Awaitable[Any]],
        reopen_after_fork: Callable[[T], bool] = lambda target: False,
        name: str = "aqdrant-QdrantClient",
    ) -> None:
        _refuse_inside_event_loop("__init__")
        self._factory = factory
        self._aclose = aclose
        self._reopen_after_fork = reopen_after_fork
        self._name = name
        self._lock = threading.Lock()  # guards start / close, never held while waiting on the loop
        self._closed = False
        self._fork_error: str | None = None
        self._state: _LoopState | None = self._start()
        _live_runners.add(self)

    # ---- lifecycle ------------------------------------------------------------------------
    def _start(self) -> _LoopState:
        state = _LoopState()
        state.portal_cm = start_blocking_portal("asyncio", name=f"{self._name}-loop")
        state.portal = state.portal_cm.__enter__()
        try:
            state.loop, state.thread = state.portal.call(self._loop_and_thread)
            state.target = state.portal.call(self._build_in_loop)
        except BaseException:
            state.portal_cm.__exit__(None, None, None)
            raise
        return state

    @staticmethod
    async def _loop_and_thread() -> tuple[asyncio.AbstractEventLoop, threading.Thread]:
        return asyncio.get_running_loop(), threading.current_thread()

    async def _build_in_loop(self) -> T:
        return self._factory()

    def _forked_in_child(self) -> None:
        self._lock = threading.Lock()
        state, self._state = self._state, None
        if state is None:
            return
        _abandoned_after_fork.append(state)
        if self._closed:
            return
        try:
            reopen = bool(self._reopen_after_fork(state.target))
        except Exception:  # noqa: BLE001 - unknown backend: the safe answer is "no"
            reopen = False
        if not reopen:
            self._fork_error = (
                f"this QdrantClient (embedded engine) was created in process {os.getppid()} and cannot "
                f"be used in the forked child process {os.getpid()}: the engine and its files belong to "
                "the parent. Create a new QdrantClient in the child (or fork before creating it)."
            )

    def _state_for_call(self, what: str) -> _LoopState:
        state = self._state
        if state is not None and not self._closed:
            return state
        with self._lock:
            if self._closed:
                raise ClientClosedError(f"QdrantClient.{what}(): this client is closed")
            if self._fork_error is not None:
                raise ForkedClientError(self._fork_error)
            if self._state is None:  # forked child, reopenable backend: a fresh loop and client
                self._state = self._start()
            return self._state

    def close(self) -> None:
        """Cancel calls in flight, close the async client on its loop, stop and join the thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            state = self._state
        _live_runners.discard(self)
        if state is None:
            return
        if not state.thread.is_alive():
            return
        if threading.current_thread() is state.thread:
            # From inside the loop (a finalizer ran there): cannot wait on ourselves; shut down
            # in the background, the thread ends when the portal stops.
            state.stopping = True
            state.loop.create_task(self._shutdown_and_stop(state))
            return
        _refuse_inside_event_loop("close")
        try:
            state.portal.call(self._shutdown_in_loop, state)
        finally:
            state.portal_cm.__exit__(None, None, None)

    async def _shutdown_in_loop(self, state: _LoopState) -> None:
        state.stopping = True
        pending = [t for t in state.tasks if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=_CLOSE_TIMEOUT)
        await asyncio.wait_for(self._aclose(state.target), timeout=_CLOSE_TIMEOUT)

    async def _shutdown_and_stop(self, state: _LoopState) -> None:
        try:
            await self._shutdown_in_loop(state)
        finally:
            await state.portal.stop()

    def __del__(self) -> None:
        try:
            if not self._closed and self._state is not None:
                self.close()
        except Exception:  # noqa: BLE001 - never raise from a finalizer
            pass

    # ---- calls ----------------------------------------------------------------------------
    def call(self, fn: Callable[..., Awaitable[Any]], /, *args: Any, **kwargs: Any) -> Any:
        """Run ``fn(target, *args, **kwargs)`` on the loop and return its result."""
        _refuse_inside_event_loop(fn.__name__)
        state = self._state_for_call(fn.__name__)
        target = state.target
        return self._run(state, lambda: fn(target, *args, **kwargs), fn.__name__)

    def iterate(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> SyncIterator[Any]:
        """Turn the async iterator ``fn(target, ...)`` into a blocking iterator (one loop trip per item)."""
        _refuse_inside_event_loop(fn.__name__)
        state = self._state_for_call(fn.__name__)
        return SyncIterator(self, state, fn, args, kwargs)

    def context(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> SyncContextManager[Any]:
        """Turn the async context manager ``fn(target, ...)`` into a blocking one."""
        _refuse_inside_event_loop(fn.__name__)
        state = self._state_for_call(fn.__name__)
        return SyncContextManager(self, state, fn, args, kwargs)

    def _run(self, state: _LoopState, make: Callable[[], Awaitable[Any]], what: str) -> Any:
        pending = _Pending()
        try:
            self._submit(state, make, what, pending)
            return self._wait(state, pending, what)
        except BaseException:
            # KeyboardInterrupt (at any point once submitted) or the loop died: do not leave
            # the call running unowned. (An error *of* the call has ``finished`` set.)
            if not pending.finished:
                self._cancel(state, pending)
            raise

    def _submit(
        self, state: _LoopState, make: Callable[[], Awaitable[Any]], what: str, pending: _Pending
    ) -> None:
        """Start ``make()`` as a task on the loop, in a copy of the caller's context."""
        done = pending.done
        box = pending.box
        ctx = contextvars.copy_context()

        def on_done(task: asyncio.Task[Any]) -> None:
            state.tasks.discard(task)
            done.release()

        def start() -> None:  # in the loop thread
            if state.stopping:
                box.append(ClientClosedError(f"QdrantClient.{what}(): this client is closed"))
                done.release()
                return
            try:
                task = _create_task(state.loop, make(), ctx)
            except BaseException as exc:  # wrong arguments and the like
                box.append(exc)
                done.release()
                return
            box.append(task)
            state.tasks.add(task)
            task.add_done_callback(on_done)

        try:
            state.loop.call_soon_threadsafe(start)
        except RuntimeError:  # the loop is closed
            pending.finished = True
            raise ClientClosedError(f"QdrantClient.{what}(): this client is closed") from None

    @staticmethod
    def _cancel(state: _LoopState, pending: _Pending) -> None:
        box = pending.box

        def cancel() -> None:  # runs after start(): call_soon_threadsafe keeps the order
            if box and isinstance(box[0], asyncio.Task):
                box[0].cancel()

        try:
            state.loop.call_soon_threadsafe(cancel)
        except RuntimeError:
            pass

    def _alive(self, state: _LoopState, what: str) -> None:
        if not state.thread.is_alive() or self._state is not state:
            raise ClientClosedError(f"QdrantClient.{what}(): the client's event loop is gone")

    def _wait(self, state: _LoopState, pending: _Pending, what: str) -> Any:
        """Block until the task of ``pending`` is done; return its result or raise its error."""
        while not pending.done.acquire(timeout=_LIVENESS_POLL):
            self._alive(state, what)
        pending.finished = True
        outcome = pending.box[0]
        if not isinstance(outcome, asyncio.Task):
            raise outcome
        if outcome.cancelled():
            raise ClientClosedError(
                f"QdrantClient.{what}(): the client was closed while this call was in flight"
            )
        exc = outcome.exception()
        if exc is not None:
            raise exc
        return outcome.result()


class _Pending:
    __slots__ = ("done", "box", "finished")

    def __init__(self) -> None:
        self.done = threading.Lock()
        self.done.acquire()
        self.box: list[Any] = []  # [task] or [exception]
        self.finished = False  # set once the outcome is known to the caller


class SyncIterator(Iterator[T]):
    """A blocking iterator over an async iterator living on the runner's loop.

    Use it in a ``for`` loop; to stop early, ``close()`` it (or use ``with``), else it is
    closed when garbage collected.
    """

    def __init__(
        self, runner: Runner[Any], state: _LoopState, fn: Callable[..., Any], args: Any, kwargs: Any
    ):
        self._runner = runner
        self._state = state
        self._what = fn.__name__
        self._agen: Any = None
        self._make = lambda: fn(state.target, *args, **kwargs)
        self._finished = False

    def __iter__(self) -> SyncIterator[T]:
        return self

    def __next__(self) -> T:
        if self._finished:
            raise StopIteration
        _refuse_inside_event_loop(self._what)

        async def step() -> Any:
            if self._agen is None:
                self._agen = self._make()
            return await self._agen.__anext__()

        try:
            return self._runner._run(self._state, step, self._what)
        except StopAsyncIteration:
            self._finished = True
            raise StopIteration from None
        except BaseException:
            self._finished = True
            raise

    def close(self) -> None:
        if self._finished:
            return
        self._finished = True
        agen = self._agen
        if agen is not None and hasattr(agen, "aclose") and self._runner._state is self._state:
            try:
                self._runner._run(self._state, agen.aclose, self._what)
            except ClientClosedError:
                pass

    def __enter__(self) -> SyncIterator[T]:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        # Never block in a finalizer (it may run on the loop thread): schedule the aclose.
        agen, state = self._agen, self._state
        if self._finished or agen is None or not hasattr(agen, "aclose") or self._runner._state is not state:
            return
        try:
            state.loop.call_soon_threadsafe(lambda: asyncio.ensure_future(agen.aclose()))
        except Exception:  # noqa: BLE001 - loop already closed
            pass


class SyncContextManager(Generic[T]):
    """A blocking context manager over an async one living on the runner's loop.

    The async context manager is entered and exited by one host task (task groups and cancel
    scopes must be exited in the task that entered them); the ``with`` body runs in the caller's
    thread meanwhile. An entered object with coroutine methods is handed out as a
    :class:`BlockingProxy`.
    """

    def __init__(
        self, runner: Runner[Any], state: _LoopState, fn: Callable[..., Any], args: Any, kwargs: Any
    ):
        self._runner = runner
        self._state = state
        self._what = fn.__name__
        self._make = lambda: fn(state.target, *args, **kwargs)
        self._entered = threading.Event()
        self._exit_requested: asyncio.Event | None = None
        self._exc_info: tuple[Any, Any, Any] = (None, None, None)
        self._pending: _Pending | None = None

    async def _host(self) -> Any:
        self._exit_requested = asyncio.Event()
        try:
            acm = self._make()
            value = await acm.__aenter__()
        finally:
            self._entered.set()
        self._value = value
        await self._exit_requested.wait()
        return await acm.__aexit__(*self._exc_info)

    def __enter__(self) -> T:
        _refuse_inside_event_loop(self._what)
        if self._pending is not None:
            raise RuntimeError(f"{self._what}(): this context manager was already entered")
        runner, state = self._runner, self._state
        self._pending = pending = _Pending()
        try:
            runner._submit(state, self._host, self._what, pending)
            while not self._entered.wait(_LIVENESS_POLL):
                runner._alive(state, self._what)
        except BaseException:
            if not pending.finished:
                runner._cancel(state, pending)
            raise
        if not hasattr(self, "_value"):  # entering failed: the host task holds the error
            runner._wait(state, self._pending, self._what)
            raise RuntimeError(f"{self._what}(): entering failed")  # pragma: no cover - _wait raised
        entered = self._value
        return BlockingProxy(runner, state, entered) if _has_async_methods(entered) else entered

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool | None:
        assert self._pending is not None and self._exit_requested is not None
        self._exc_info = (exc_type, exc, tb)
        try:
            self._state.loop.call_soon_threadsafe(self._exit_requested.set)
        except RuntimeError:
            raise ClientClosedError(f"QdrantClient.{self._what}(): this client is closed") from None
        pending = self._pending
        try:
            return self._runner._wait(self._state, pending, self._what)
        except BaseException:
            if not pending.finished:
                self._runner._cancel(self._state, pending)
            raise


def _has_async_methods(obj: Any) -> bool:
    return any(
        not name.startswith("_") and inspect.iscoroutinefunction(getattr(type(obj), name, None))
        for name in dir(type(obj))
    )


class BlockingProxy(Generic[T]):
    """The object an async context manager yielded, with its coroutine methods made blocking.

    ``await sink.send(p)`` becomes ``sink.send(p)``; other attributes are read through as is.
    """

    __slots__ = ("_runner", "_state", "_obj")

    def __init__(self, runner: Runner[Any], state: _LoopState, obj: T) -> None:
        self._runner = runner
        self._state = state
        self._obj = obj

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._obj, name)
        if not inspect.iscoroutinefunction(attr):
            return attr
        runner, state = self._runner, self._state

        def blocking(*args: Any, **kwargs: Any) -> Any:
            _refuse_inside_event_loop(name)
            return runner._run(state, lambda: attr(*args, **kwargs), name)

        blocking.__name__ = name
        blocking.__doc__ = attr.__doc__
        return blocking

    def __repr__(self) -> str:
        return f"<blocking {self._obj!r}>"
