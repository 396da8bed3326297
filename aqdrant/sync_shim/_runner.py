"""The runtime under the generated blocking client: a private event loop, run by its callers.

Mechanism
---------
Each :class:`Runner` owns one asyncio event loop and no thread. The ``AsyncQdrantClient`` is
built on that loop and only ever touched from it, so there is exactly one implementation of every
operation (the async one) and every backend works unchanged: the REST connection pool, the gRPC
channel and the embedded engine's process pipes stay bound to the one loop that created them.

A blocking call runs its coroutine as a task on the loop, and *the calling thread itself runs
the loop* (``loop.run_forever()``, stopped by the task's completion). Only one thread at a time can
run a loop, so callers follow a leader/follower protocol under a small mutex:

- nobody is running the loop: the caller becomes the *driver*, creates its task and runs the loop
  until that task is done;
- another thread is driving: the caller submits its task with ``loop.call_soon_threadsafe`` (it
  runs concurrently with the driver's, on the same loop and connection pool) and waits on a lock;
- a driver whose own call is done stops the loop and hands the role to one waiting caller whose
  call is still in flight (it wakes up and drives), or gives it up when nobody waits.

Between calls the loop does not run: nothing in the client needs it to (no call is in flight;
idle keep-alive connections and the engine process wait). The one trade-off: background work of
a ``with``-block actor (``client.ingest(...)``: its senders' requests in flight) advances only
during the block's blocking calls (each ``send``, and leaving the block, which flushes), not
while the caller's thread does other work between them.

Why, with figures (``benchmarks/bench_shim.py``, 2-vCPU VM, medians of 3 runs of 7 repeats):

- Per call: ``collection_exists`` on ``":memory:"`` (answered in-process) costs 12 us awaited and
  24 us through the shim: overhead +12 us (the goal was < 50 us); the mechanism alone, on a no-op
  coroutine, 11 us. That is one ``run_forever`` of one iteration (its epoll syscall and running-
  loop bookkeeping, ~4 us), creating the task (~2 us), and this module's bookkeeping. No thread
  switch: the caller's own thread runs the call.
- The previous mechanism (a loop thread per client; calls handed over with
  ``call_soon_threadsafe``, the caller parked on a lock) measured +104 us on the same call (the
  mechanism alone 30-115 us). Where it went: not the per-call Python work (context copy, task,
  closures: ~5 us) but two cross-thread wake-ups per call, each followed by a GIL hand-off: the
  loop thread woke from epoll, then waited for the GIL the caller still held; the caller woke
  from its lock, then waited for the GIL the loop thread held until it slept again. Pinned to one
  vCPU the round trip was ~30 us; across two it was 70-115 us (waking a thread on an idle vCPU is
  slow on a VM), and the awaited coroutine itself ran ~2x slower on the freshly woken thread.
  Spinning before parking cannot help in Python: a spinning thread holds the GIL that the other
  thread needs (it would get it after the 5 ms switch interval).
- anyio's ``BlockingPortal.call`` costs 80-170 us per no-op call (thread hand-off, plus a task
  group spawn per call). Per-call ``asyncio.run``/``anyio.run`` would make a new loop per call,
  which connection pools and the engine process cannot survive. A hand-written synchronous copy
  of the transports would double the code the issue asks to keep single.
- 8 threads sharing one client: 37-54 us per call (elapsed / calls; 8 tasks awaiting: 12-17; the
  old loop thread: 73-88); here threads do hand calls over (``call_soon_threadsafe``), so thread
  switches return, but only under contention. Over REST (dev server in another process, ~1.1 ms
  per call) the shim adds +16 to +103 us wall, +32 to +49 us CPU: within the run-to-run noise of
  the call itself (a separate interleaved check: +15 to +90 us CPU, what a task per call costs
  in a plain loop too).

Guarantees, and how:

- Thread safety: any number of threads may call; their calls run concurrently on the one loop
  (one connection pool); the client is only touched by the thread currently driving the loop.
  A waiting caller also checks every ``_LIVENESS_POLL`` that a driver exists (it takes the role
  otherwise), so no wait depends on another thread behaving.
- Context: each task runs in a copy of its caller's ``contextvars`` context, so
  ``aqdrant.request_headers(...)`` scopes set in the calling thread apply.
- Inside an event loop (Jupyter/IPython, inside ``asyncio.run``, a trio task): the calling
  thread runs its own loop and cannot run ours, so the call is driven by a short-lived private
  daemon thread while the caller blocks (a thread start and two hand-offs: +300-450 us per call
  measured on the shared, loaded 2-vCPU VM, where the direct path took 110-140 us; elsewhere
  nothing changes: one thread-local check, as before). Only a
  call from a coroutine on the client's *own* loop is refused (:class:`SyncInAsyncContextError`):
  it would wait for itself.
- ``os.fork()``: an ``os.register_at_fork`` hook marks every live runner as forked and drops its
  loop state (the parent's loop shares its epoll instance with the child; a driver or a mutex
  held by another parent thread does not exist in the child). On its next call in the child, a
  client whose backend is reopenable (REST, gRPC: plain network connections) transparently builds
  a fresh loop and async client from the saved constructor arguments; a client of the embedded
  engine (whose engine process and files belong to the parent) raises :class:`ForkedClientError`.
  The parent's inherited objects are kept referenced, never closed, in the child: closing them
  could disturb the parent's connections (and epoll registrations).
- Ctrl-C: a ``KeyboardInterrupt`` in a blocking call cancels its task; a driver runs the loop on
  (up to ``_CANCEL_GRACE``) until the cancellation has finished, then re-raises. The loop wakes
  every ``_SIGNAL_POLL`` while it runs, so a main thread asleep in epoll sees a signal that the
  OS delivered to another thread.
- Close: ``close()`` (or leaving ``with``) cancels calls in flight (their callers get
  :class:`ClientClosedError`), closes the async client (connections, engine) and the loop. A
  client that is garbage collected unclosed is closed the same way (collected in a thread running
  another event loop, where ours cannot run: from a short-lived helper thread). At interpreter
  exit, before Python joins the remaining threads, each idle loop runs once so that worker
  threads a call started (anyio's pool) are told to stop (a script that never calls ``close()``
  exits at once); clients still open are closed after that join (``atexit``: engine files
  flushed), so the program's own threads may use them to the end. The private call threads are
  daemons; the finalizer's close thread ends when the close does (bounded by ``_CLOSE_TIMEOUT``).
"""

from __future__ import annotations

import asyncio
import atexit
import contextvars
import inspect
import os
import sys
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Generic, TypeVar

from .. import errors as _errors

try:  # anyio names the running library in sniffio's context variable when sniffio is installed
    from sniffio import current_async_library_cvar as _async_library_var
except ImportError:  # pragma: no cover - then nothing can leak through a copied context
    _async_library_var = contextvars.ContextVar("aqdrant_no_sniffio", default=None)

T = TypeVar("T")

#: how often a waiting caller checks that someone is driving the loop (seconds)
_LIVENESS_POLL = 0.5
_CANCELLED = "the client was closed while this call was in flight"
#: how often the loop, while a thread runs it, wakes to let Python run signal handlers (Ctrl-C)
_SIGNAL_POLL = 0.2
#: how long close() waits for calls in flight and the async client to close
_CLOSE_TIMEOUT = 30.0
#: how long a Ctrl-C'd driver runs the loop on so that its cancelled call can finish
_CANCEL_GRACE = 10.0


class SyncInAsyncContextError(RuntimeError):
    """A blocking ``QdrantClient`` method was called from a thread running an event loop."""


class ForkedClientError(RuntimeError):
    """A client of the embedded engine was used in a child process after ``os.fork()``."""


class ClientClosedError(_errors.ClientClosedError):
    """The blocking client is closed (or was closed while this call was in flight); caught by
    ``except aqdrant.ClientClosedError`` as the async client's is."""


def _event_loop_in_this_thread() -> str | None:
    """The event loop library running in the calling thread ("asyncio", "trio"), or None."""
    # Both checks are per thread and cost well under a microsecond; sniffio is not used on
    # purpose: its context variable can leak into worker threads, which run no loop.
    if asyncio._get_running_loop() is not None:
        return "asyncio"
    trio = sys.modules.get("trio")
    if trio is not None and trio.lowlevel.in_trio_run():
        return "trio"
    return None


def _refuse_on_own_loop(loop: asyncio.AbstractEventLoop, what: str) -> None:
    """A blocking call from a coroutine running on the client's own loop would wait for itself."""
    if asyncio._get_running_loop() is loop:
        raise SyncInAsyncContextError(
            f"QdrantClient.{what}() was called from a coroutine running on this client's own event loop "
            "(it would wait for itself). Use aqdrant.AsyncQdrantClient and await its methods there."
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
    """One loop and the async client living on it (replaced wholesale after a fork)."""

    __slots__ = ("loop", "target", "tasks", "stopping", "shutdown", "mutex", "driving", "waiters", "loop_closed")

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        # Python runs signal handlers (Ctrl-C) in the main thread, between bytecodes: a main thread
        # asleep in epoll, the signal delivered to another thread, would not see it. So the loop
        # wakes every _SIGNAL_POLL while it runs (one timer for the loop's life: arming one per
        # call would cost 2 us).
        _tick(self.loop)
        self.target: Any = None
        self.tasks: set[asyncio.Task[Any]] = set()  # calls in flight; touched only by the driver
        self.stopping = False  # set by close(): no new call starts
        self.shutdown: asyncio.Task[Any] | None = None  # close()'s task; the loop closes after it
        # mutex guards ``driving``, ``waiters``, every _Pending's ``completed``/``driver`` and
        # closing the loop; it is held only for a few statements, never while waiting
        self.mutex = threading.Lock()
        self.driving = False  # some thread runs (or is about to run) the loop
        self.waiters: set[_Pending] = set()  # followers whose call is not completed, not promoted
        self.loop_closed = threading.Event()


class _Pending:
    """One blocking call: how it ends and how its caller is woken."""

    __slots__ = ("done", "ok", "value", "completed", "driver", "task", "cancelled")

    def __init__(self) -> None:
        self.done = threading.Lock()  # released when completed, or when promoted to driver
        self.done.acquire()
        self.ok = False
        self.value: Any = None  # the result, or the exception to raise
        self.completed = False
        self.driver = False  # its caller runs the loop (the task's end stops the loop)
        self.task: asyncio.Task[Any] | None = None
        self.cancelled = False  # its caller was interrupted: do not start it (if not yet started)


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


async def _nothing() -> None:
    pass


def _let_worker_threads_go_at_exit() -> None:
    """Before Python joins non-daemon threads at exit: run each idle loop once.

    anyio stops a worker thread (``to_thread``, e.g. decoding a large REST reply) from a done
    callback of the call's task; our loop runs only during calls, so after a script's last call
    that callback waits - and Python, joining the worker at exit, would wait forever. One no-op
    call runs the pending callbacks. The clients stay open: non-daemon threads of the program may
    still use them; they are closed by ``atexit`` (``_close_all_at_exit``), after the join.
    ``threading._register_atexit`` is what concurrent.futures uses for its workers.
    """
    for runner in list(_live_runners):
        state = runner._state
        if runner._closed or state is None or state.driving or state.loop.is_closed():
            continue  # a driven loop runs its callbacks itself
        try:
            runner._run(state, _nothing, "exit")
        except Exception:  # noqa: BLE001 - best effort at interpreter exit
            pass


_register_before_thread_join = getattr(threading, "_register_atexit", None)
if _register_before_thread_join is not None:
    _register_before_thread_join(_let_worker_threads_go_at_exit)
atexit.register(_close_all_at_exit)


class Runner(Generic[T]):
    """Runs coroutines of one async object (built by ``factory``) on a private event loop.

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
    ) -> None:
        self._factory = factory
        self._aclose = aclose
        self._reopen_after_fork = reopen_after_fork
        self._lock = threading.Lock()  # guards start (incl. a rebuild after fork) and close
        self._closed = False
        self._fork_error: str | None = None
        self._state: _LoopState | None = self._start()
        _live_runners.add(self)

    def __repr__(self) -> str:
        state = self._state
        status = "closed" if self._closed else "forked" if state is None else "open"
        return f"<Runner {status} over {None if state is None else state.target!r}>"

    # ---- lifecycle ------------------------------------------------------------------------
    def _start(self) -> _LoopState:
        state = _LoopState()
        try:
            state.target = self._run(state, self._build_in_loop, "__init__")
        except BaseException:
            with state.mutex:
                state.loop.close()
                state.loop_closed.set()
            raise
        return state

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
        """Cancel calls in flight, close the async client on its loop, close the loop."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            state = self._state
        _live_runners.discard(self)
        if state is None or state.loop.is_closed():
            return
        if asyncio._get_running_loop() is state.loop:
            # From a coroutine on this very loop (e.g. a finalizer ran there): cannot wait for
            # ourselves. The shutdown runs as a task; the driver closes the loop when it is done.
            state.stopping = True
            state.shutdown = state.loop.create_task(self._shutdown_in_loop(state))
            state.shutdown.add_done_callback(lambda t: None if t.cancelled() else t.exception())
            return
        try:
            self._run(state, lambda: self._shutdown_in_loop(state), "close", closing=True)
        finally:
            # whoever drives last closes the loop (_hand_off); bounded: a driver stuck in
            # user code must not hang close() forever
            state.loop_closed.wait(_CLOSE_TIMEOUT)

    async def _shutdown_in_loop(self, state: _LoopState) -> None:
        state.stopping = True
        current = asyncio.current_task()
        pending = [t for t in state.tasks if not t.done() and t is not current]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=_CLOSE_TIMEOUT)
        try:
            await asyncio.wait_for(self._aclose(state.target), timeout=_CLOSE_TIMEOUT)
        finally:
            await state.loop.shutdown_asyncgens()
            await state.loop.shutdown_default_executor()

    def _close_quietly(self) -> None:
        # a finalizer's close, also at interpreter exit where the loop's own sockets may have
        # been finalized first (loop.close() then fails on fd -1): best effort, never a traceback
        try:
            self.close()
        except Exception:  # noqa: BLE001
            pass

    def __del__(self) -> None:
        try:
            if self._closed or self._state is None:
                return
            if asyncio._get_running_loop() is not None:
                # collected in a thread running some event loop: ours cannot run here
                threading.Thread(target=self._close_quietly, name="aqdrant-QdrantClient-close").start()
                return
            self.close()
        except Exception:  # noqa: BLE001 - never raise from a finalizer
            pass

    # ---- calls ----------------------------------------------------------------------------
    def call(self, fn: Callable[..., Awaitable[Any]], /, *args: Any, **kwargs: Any) -> Any:
        """Run ``fn(target, *args, **kwargs)`` on the loop and return its result."""
        state = self._state_for_call(fn.__name__)
        target = state.target
        return self._run(state, lambda: fn(target, *args, **kwargs), fn.__name__)

    def iterate(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> SyncIterator[Any]:
        """Turn the async iterator ``fn(target, ...)`` into a blocking iterator (one loop trip per item)."""
        state = self._state_for_call(fn.__name__)
        return SyncIterator(self, state, fn, args, kwargs)

    def context(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> SyncContextManager[Any]:
        """Turn the async context manager ``fn(target, ...)`` into a blocking one."""
        state = self._state_for_call(fn.__name__)
        return SyncContextManager(self, state, fn, args, kwargs)

    def _run(
        self,
        state: _LoopState,
        make: Callable[[], Awaitable[Any]],
        what: str,
        *,
        closing: bool = False,
    ) -> Any:
        """Run ``make()`` as a task on the loop, in a copy of the caller's context; block for it."""
        if _event_loop_in_this_thread() is not None:
            return self._run_in_private_thread(state, make, what, closing=closing)
        return self._run_here(state, make, what, _Pending(), closing=closing)

    def _run_here(
        self,
        state: _LoopState,
        make: Callable[[], Awaitable[Any]],
        what: str,
        pending: _Pending,
        *,
        closing: bool = False,
    ) -> Any:
        """``_run`` from a thread that runs no event loop: it drives ours, or follows a driver."""
        ctx = contextvars.copy_context()
        if _async_library_var.get() is not None:
            # anyio.run(..., backend="trio") names its library in a context variable that a copied
            # context carries here; our loop is asyncio, so the call's task must not inherit it
            ctx.run(_async_library_var.set, None)
        loop = state.loop
        with state.mutex:
            if loop.is_closed():
                raise ClientClosedError(f"QdrantClient.{what}(): this client is closed")
            if not state.driving:
                state.driving = pending.driver = True
            else:
                state.waiters.add(pending)
                # the driver runs it; it cannot stop unseen: handing off takes the mutex
                loop.call_soon_threadsafe(self._start_task, state, make, what, pending, ctx, closing)
        if pending.driver:
            return self._drive(state, pending, what, lambda: self._start_task(state, make, what, pending, ctx, closing))
        return self._follow(state, pending, what)

    def _run_in_private_thread(
        self, state: _LoopState, make: Callable[[], Awaitable[Any]], what: str, *, closing: bool
    ) -> Any:
        """``_run`` from a thread that runs an event loop (Jupyter, inside ``asyncio.run`` or a trio
        task): that thread cannot run ours, so a short-lived private thread drives it (blocking the
        caller, as a blocking call does). Costs a thread start per call, only here."""
        _refuse_on_own_loop(state.loop, what)
        pending = _Pending()
        finished = threading.Lock()  # released by the private thread (a bare lock: a signal may
        finished.acquire()  # interrupt its acquire cleanly, unlike an Event's condition)
        outcome: list[Any] = []

        def work() -> None:
            try:
                outcome[:] = [True, self._run_here(state, make, what, pending, closing=closing)]
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                outcome[:] = [False, exc]
            finally:
                finished.release()

        # the caller's context (request_headers scopes), copied into the thread and from there
        # into the call's task; a daemon: it never holds up interpreter exit
        ctx = contextvars.copy_context()
        thread = threading.Thread(target=ctx.run, args=(work,), name=f"aqdrant-blocking-{what}", daemon=True)
        try:
            thread.start()  # inside the try: start() waits too, and may be interrupted
            # in slices: Python runs signal handlers (Ctrl-C) between them, even for a signal
            # the OS delivered to another thread
            while not finished.acquire(timeout=_SIGNAL_POLL):
                pass
        except BaseException:
            # interrupted (Ctrl-C, a notebook's interrupt): cancel the call, as a follower does
            pending.cancelled = True

            def cancel() -> None:
                if pending.task is not None:
                    pending.task.cancel()

            try:
                state.loop.call_soon_threadsafe(cancel)
            except RuntimeError:  # the loop is closed
                pass
            raise
        ok, value = outcome
        if ok:
            return value
        raise value

    def _start_task(
        self,
        state: _LoopState,
        make: Callable[[], Awaitable[Any]],
        what: str,
        pending: _Pending,
        ctx: contextvars.Context,
        closing: bool,
    ) -> None:
        """By the driver: start the call's task (or fail the call at once)."""
        if pending.cancelled:
            self._complete(state, pending, False, asyncio.CancelledError())
            return
        if state.stopping and not closing:
            self._complete(state, pending, False, ClientClosedError(f"QdrantClient.{what}(): this client is closed"))
            return
        complete = self._complete

        async def body() -> None:
            # The outcome is recorded (and the driver's loop stopped) by the task itself, not by
            # a done callback: that would cost one more loop iteration per call.
            try:
                value = await make()
            except asyncio.CancelledError:
                complete(state, pending, False, ClientClosedError(f"QdrantClient.{what}(): {_CANCELLED}"))
                raise
            except BaseException as exc:  # Ctrl-C inside the task also leaves the loop (asyncio)
                complete(state, pending, False, exc)
                if not isinstance(exc, Exception):
                    raise
            else:
                complete(state, pending, True, value)

        def on_done(task: asyncio.Task[Any]) -> None:
            state.tasks.discard(task)
            if not task.cancelled():
                task.exception()  # a Ctrl-C body() re-raised went to the caller: not "never retrieved"
            if not pending.completed:  # cancelled before its first step: body() never ran
                complete(state, pending, False, ClientClosedError(f"QdrantClient.{what}(): {_CANCELLED}"))

        task = _create_task(state.loop, body(), ctx)
        pending.task = task
        if closing:
            state.shutdown = task
        else:
            state.tasks.add(task)
        task.add_done_callback(on_done)

    @staticmethod
    def _complete(state: _LoopState, pending: _Pending, ok: bool, value: Any) -> None:
        """By the driver: record the outcome; stop the loop if it is the driver's own call."""
        pending.ok, pending.value = ok, value
        with state.mutex:
            pending.completed = True
            state.waiters.discard(pending)
            if pending.driver:
                state.loop.stop()
        pending.done.release()

    def _drive(
        self, state: _LoopState, pending: _Pending, what: str, start: Callable[[], None] | None = None
    ) -> Any:
        """Run the loop until ``pending`` completes (this thread holds the driver role; ``start``
        starts the call, inside the ``try`` so that the role is passed on whatever happens)."""
        started = start is None
        try:
            try:
                if start is not None:
                    start()
                    started = True
                while not pending.completed:
                    state.loop.run_forever()
                if getattr(threading, "_SHUTTING_DOWN", False):
                    # a call from a thread that outlives the main thread: Python is joining
                    # threads now, so run the callbacks that stop this call's worker thread
                    state.loop.call_soon(state.loop.stop)
                    state.loop.run_forever()
            except BaseException:
                # Ctrl-C (or SystemExit) out of the loop: cancel the call and let the cancellation
                # finish on the loop before re-raising; never leave it running unowned
                if started and not pending.completed:
                    self._cancel_and_drain(state, pending)
                raise
        finally:
            self._hand_off(state)
        return _outcome(pending)

    def _cancel_and_drain(self, state: _LoopState, pending: _Pending) -> None:
        pending.cancelled = True  # a start still queued then completes the call at once
        if pending.task is not None:
            pending.task.cancel()
        deadline = time.monotonic() + _CANCEL_GRACE
        while not pending.completed and time.monotonic() < deadline:
            stop = state.loop.call_later(max(deadline - time.monotonic(), 0), state.loop.stop)
            try:
                state.loop.run_forever()
            finally:
                stop.cancel()

    def _hand_off(self, state: _LoopState) -> None:
        """The driver is done: wake a waiting caller to drive, or give up the role.

        With a shutdown under way and nobody waiting, the driver runs it to its end (a close
        from inside the loop leaves it to the driver) and then closes the loop.
        """
        loop = state.loop
        deadline = time.monotonic() + 2 * _CLOSE_TIMEOUT  # the shutdown's own waits are shorter
        while True:
            with state.mutex:
                successor = next(iter(state.waiters), None)
                if successor is not None:
                    state.waiters.discard(successor)
                    successor.driver = True
                    break
                shutdown = state.shutdown
                overran = time.monotonic() > deadline
                if shutdown is None or shutdown.done() or overran:
                    state.driving = False
                    if shutdown is not None and not loop.is_closed() and not overran:
                        loop.close()
                        state.loop_closed.set()
                    return
            stop = loop.call_later(max(deadline - time.monotonic(), 0), loop.stop)
            shutdown.add_done_callback(lambda _: loop.stop())
            try:
                loop.run_forever()
            finally:
                stop.cancel()
        successor.done.release()

    def _follow(self, state: _LoopState, pending: _Pending, what: str) -> Any:
        """Wait while another thread drives; take over the loop when handed the role."""
        try:
            while not pending.done.acquire(timeout=_LIVENESS_POLL):
                with state.mutex:
                    if not state.driving and not pending.completed:  # never expected; never hang
                        state.waiters.discard(pending)
                        state.driving = pending.driver = True
                        break
        except BaseException:
            self._abandon(state, pending)
            raise
        if pending.driver:  # handed the role: drive (and pass it on, even if already completed)
            return self._drive(state, pending, what)
        return _outcome(pending)

    def _abandon(self, state: _LoopState, pending: _Pending) -> None:
        """A waiting caller was interrupted (Ctrl-C): cancel its call; pass on a driver role."""
        with state.mutex:
            state.waiters.discard(pending)
            driver = pending.driver
        if pending.completed:
            if driver:
                self._hand_off(state)
            return
        if driver:
            try:
                self._cancel_and_drain(state, pending)
            finally:
                self._hand_off(state)
            return
        pending.cancelled = True

        def cancel() -> None:  # on the loop, after the call's start (call_soon keeps the order)
            if pending.task is not None:
                pending.task.cancel()

        try:
            state.loop.call_soon_threadsafe(cancel)
        except RuntimeError:  # the loop is closed
            pass


def _tick(loop: asyncio.AbstractEventLoop) -> None:
    loop.call_later(_SIGNAL_POLL, _tick, loop)


def _outcome(pending: _Pending) -> Any:
    if pending.ok:
        return pending.value
    raise pending.value


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
    scopes must be exited in the task that entered them): entering is one blocking call that
    starts the host and returns once it has entered, leaving is one that lets the host exit and
    waits for it. The ``with`` body runs in the caller's thread meanwhile. An entered object with
    coroutine methods is handed out as a :class:`BlockingProxy`.
    """

    def __init__(
        self, runner: Runner[Any], state: _LoopState, fn: Callable[..., Any], args: Any, kwargs: Any
    ):
        self._runner = runner
        self._state = state
        self._what = fn.__name__
        self._make = lambda: fn(state.target, *args, **kwargs)
        self._host_task: asyncio.Task[Any] | None = None
        self._exit_requested: asyncio.Event | None = None
        self._exc_info: tuple[Any, Any, Any] = (None, None, None)

    async def _host(self, entered: asyncio.Future[Any]) -> Any:
        acm = self._make()
        entered.set_result(await acm.__aenter__())
        assert self._exit_requested is not None
        await self._exit_requested.wait()
        return await acm.__aexit__(*self._exc_info)

    async def _enter(self) -> Any:
        loop = asyncio.get_running_loop()
        self._exit_requested = asyncio.Event()
        entered: asyncio.Future[Any] = loop.create_future()
        # a task of its own (created in this call's context), tracked so close() cancels it
        self._host_task = host = loop.create_task(self._host(entered))
        self._state.tasks.add(host)
        host.add_done_callback(self._state.tasks.discard)
        host.add_done_callback(lambda t: _settle(entered, t))
        try:
            return await entered
        except BaseException:
            host.cancel()
            raise

    async def _exit(self) -> Any:
        assert self._host_task is not None and self._exit_requested is not None
        self._exit_requested.set()
        return await self._host_task

    def __enter__(self) -> T:
        if self._host_task is not None:
            raise RuntimeError(f"{self._what}(): this context manager was already entered")
        entered = self._runner._run(self._state, self._enter, self._what)
        if _has_async_methods(entered):  # T is then the blocking view of the entered object
            return BlockingProxy(self._runner, self._state, entered)  # type: ignore[return-value]
        return entered

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool | None:
        self._exc_info = (exc_type, exc, tb)
        return self._runner._run(self._state, self._exit, self._what)


def _settle(entered: asyncio.Future[Any], host: asyncio.Task[Any]) -> None:
    """The host ended before it entered (an error, or cancelled by close): say so to ``_enter``."""
    if entered.done():
        return
    if host.cancelled():
        entered.cancel()
    else:
        entered.set_exception(host.exception() or RuntimeError("entering ended without a value"))


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
            return runner._run(state, lambda: attr(*args, **kwargs), name)

        blocking.__name__ = name
        blocking.__doc__ = attr.__doc__
        return blocking

    def __repr__(self) -> str:
        return f"<blocking {self._obj!r}>"
