"""``LocalBackend``: the embedded engine (qdrant-edge) behind the Backend protocol.

The engine never releases the GIL, so it runs in a child process (``python -m
aqdrant.local.engine``) started lazily on the first call, inside whatever event loop makes it
(asyncio or trio, through anyio). Calls are length-prefixed msgpack frames on the child's stdin;
replies come back on its stdout and are routed to their callers by request id, so any number of
calls may be in flight (the engine serves them one at a time, in order). Nothing is bound to an
event loop at construction. Float arrays in request bodies travel as raw bytes (``_frame``); point
lists in results come as chunk frames, read and parsed one at a time with the event loop running
in between, their dense vectors as float32 bytes wrapped in ``models.RawVector`` (decoded to
floats on first access: a 5,000 x 384-d scroll costs the caller's loop no long stall).

Catalog-only operations (``collection_exists``, ``get_collections``, ``get_collections_aliases``,
``get_collection_aliases``, ``root``, ``healthz``/``livez``/``readyz``) are answered in the
caller's process, without a frame: the engine sends its collection names and aliases in its
first frame and in every reply to a name or alias change, and while such a change is sent but
its reply not yet read (a cancelled caller), these operations go to the engine as before. The
first call of a client still starts the engine (which takes the storage lock).

Parameters with no local effect are reported, never dropped silently: ``consistency`` and
``ordering`` are satisfied trivially (one replica, operations applied in order before the reply)
and raise a :class:`LocalEngineWarning`; so do ``shard_number``/``replication_factor``/
``write_consistency_factor``/``wal_config`` at collection creation (``strict_mode_config`` is
enforced, as on the server).
``shard_key`` anywhere, custom sharding and ``init_from`` raise :class:`UnsupportedOperation`.
``wait=false`` still waits: every update is applied before the reply (status ``completed``).
``batch_update`` applies its operations one by one and is **not atomic**: when one fails, the
ones before it stay applied and the error says so.

Index builds: the engine has no background optimizer. The engine process runs the shard's
optimizers (HNSW and quantization builds, segment merges — governed by the collection's
``optimizers_config.indexing_threshold`` like the server's) once it has been idle for
``optimize_after`` seconds (default 1.0) after writes (``optimize="idle"``, the default), or only
when asked (``optimize="never"`` and :meth:`LocalBackend.optimize`). A vector index due on a
collection of 1,000 points or more is built off to the side (``sidebuild.py``): a second
process builds a copy while the engine keeps answering every call (unindexed data by exact
search), then the copy, with the updates made meanwhile replayed on it, replaces the original
(it needs the collection's size again in free space meanwhile). Other optimizer runs (a small
collection, merges, vacuum) run in place, and so does :meth:`LocalBackend.optimize`: calls
arriving meanwhile wait for it (the caller's event loop does not; they still honour their
deadlines). ``get_collection`` reports ``yellow`` while a build is due or running. Create
payload indexes before loading data: one created after the vector index was built warns
(filtered recall suffers).

Payload indexes declared on an empty collection (the usual order: create the collection, its
indexes, then load) are built when first needed rather than maintained point by point during
the load: before any operation on the collection other than an unconditional upsert (every read,
filtered write or ``get_collection`` sees them built), and when writes go quiet, before the
vector index. Building over loaded data costs about what the load would have spent (~0.6 s per
100,000 points for an integer index) and the load runs ~20% faster. With ``optimize="never"``
indexes are created as soon as declared. A declared index survives a crash and is built on the
next open.
"""

from __future__ import annotations

import functools
import itertools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import typing
import weakref
from collections.abc import Callable
from typing import Any

import anyio
import anyio.lowlevel
import msgspec
from anyio.abc import Process

from .. import _telemetry, models
from .._backend import Request
from .._warn import warn
from ..errors import (
    BadRequest,
    DeadlineExceeded,
    QdrantError,
    RateLimited,
    ServerError,
    TransportError,
    UnexpectedResponse,
    UnsupportedOperation,
    ValidationError,
)
from . import containment, qerrors, storelock
from . import protocol as wire

_ENGINE_DIR = os.path.dirname(os.path.abspath(__file__))
#: engine.py is imported by a one-line boot, not run as a script: Python compiles a script from
#: source at every start (~20-40 ms for engine.py), an imported module comes from its cached
#: bytecode. Its directory replaces sys.path[0] (the working directory under -c), so only
#: engine.py's two siblings are found there. typing_extensions is kept out of that process:
#: msgspec imports it (and inspect with it) when installed, for type introspection the
#: engine's builtins-only Structs never need - 7-10 ms of every start.
_ENGINE_BOOT = (
    "import sys; sys.modules['typing_extensions'] = None; sys.path[0] = sys.argv.pop(1); "
    "import engine; engine.main()"
)


#: the operations (OpenAPI operationIds) the local engine serves; everything else raises
#: UnsupportedOperation without starting the engine (kept equal to engine.Engine's op_ methods
#: by a test)
SUPPORTED_OPERATIONS = frozenset(
    """
    root healthz livez readyz
    get_collections collection_exists create_collection update_collection delete_collection
    get_collection update_aliases get_collection_aliases get_collections_aliases
    create_vector_name delete_vector_name
    upsert_points delete_points update_vectors delete_vectors set_payload overwrite_payload
    delete_payload clear_payload batch_update create_field_index delete_field_index
    get_point get_points scroll_points count_points facet
    query_points query_batch_points query_points_groups search_matrix_pairs search_matrix_offsets
    """.split()
)

#: operations answered in the caller's process from the engine's names (no frame, no round trip)
CATALOG_ONLY_OPERATIONS = frozenset(
    "root healthz livez readyz get_collections collection_exists get_collection_aliases "
    "get_collections_aliases".split()
)
_ENGINE = object()  # "ask the engine" (LocalBackend._catalog_only)


class LocalEngineWarning(UserWarning):
    """A parameter has no effect on the local engine (documented in ``aqdrant.local``)."""


class LocalStorageError(QdrantError, RuntimeError):
    """The storage directory cannot be opened (damaged or newer catalog, ...)."""


class StorageLocked(LocalStorageError):
    """The storage path is already open in another local client (this or another process)."""


class EngineProcessError(TransportError):
    """The engine process failed to start or exited unexpectedly."""


class EngineInputRejected(BadRequest):
    """The engine's validation boundary (``aqdrant/local/guard.py``) refused the request before
    anything was written: the message names the point and the field. Status 422 for malformed
    values (NaN, ragged, mismatched sparse...), 400 for values that do not fit the collection
    (unknown vector name, wrong size), as Qdrant answers them."""


class EnginePanic(ServerError):
    """qdrant-edge panicked on this operation; the engine process survived (the message says
    whether the collection was reopened or is damaged)."""


class CollectionDamaged(ServerError):
    """The collection's shard cannot be opened (e.g. its WAL replays an operation the engine
    cannot apply); other collections are unaffected. The message says what to do."""


class StorageFull(ServerError, LocalStorageError):
    """Not enough free disk space to write safely (status 507); nothing was written. The message
    names the path and how much is free and needed."""


#: engine error kinds (protocol.KIND_*) with a class of their own
@functools.cache
def _also_value_error(kind: type[UnexpectedResponse]) -> type[UnexpectedResponse]:
    """``kind`` (NotFound, Conflict, BadRequest, ...) that is also a ``ValueError``: the official
    local mode raises ValueError for a missing or existing collection and for wrong input, so
    code written for it catches that; the status class stays for code written for a server."""
    return type(kind.__name__, (kind, ValueError), {"__module__": kind.__module__, "__doc__": kind.__doc__})


_ERROR_KINDS: dict[str, type[UnexpectedResponse]] = {
    wire.KIND_INVALID: EngineInputRejected,
    wire.KIND_PANIC: EnginePanic,
    wire.KIND_DAMAGED: CollectionDamaged,
    wire.KIND_DISK_FULL: StorageFull,
}


#: /dev/shm is used for ``:memory:`` only with room for this much (a container's default 64 MB
#: /dev/shm would not hold one collection's write-ahead log: the engine refuses writes below two
#: free 32 MiB segments, see containment.check_space)
_SHM_MIN_FREE = 512 << 20


def _memory_dir() -> str:
    base = None
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        try:
            if containment.free_bytes("/dev/shm") >= _SHM_MIN_FREE:
                base = "/dev/shm"
        except OSError:
            pass
    return tempfile.mkdtemp(prefix="aqdrant-memory-", dir=base)


class _Conn:
    """One engine process and the state of its pipes."""

    def __init__(self, process: Process) -> None:
        self.process = process
        self.buffer = bytearray()
        #: the unsent rest of a frame whose sender was cancelled mid-way
        self.pending: list[memoryview] = []
        self.send_lock = anyio.Lock()
        #: request id -> reply (None until it arrives)
        self.replies: dict[int, dict | None] = {}
        #: request id -> event a waiting follower sleeps on
        self.events: dict[int, anyio.Event] = {}
        #: a caller is reading frames for everyone
        self.reading = False
        self.dead: str | None = None
        #: the engine's collection names and aliases (alias -> collection), from its first frame
        #: and from every reply to a CATALOG_CHANGING operation (whoever reads it)
        self.collections: frozenset[str] = frozenset()
        self.aliases: dict[str, str] = {}
        #: ids of CATALOG_CHANGING requests (at least partly) sent whose reply is not read yet:
        #: while any is unsettled, catalog-only operations go to the engine (ordered after them)
        self.unsettled: set[int] = set()
        #: request id -> head frame of a reply whose chunk frames are still being read
        self.partial: dict[int, dict] = {}

    def set_names(self, names: dict) -> None:
        self.collections = frozenset(names["collections"])
        self.aliases = dict(names["aliases"])

    async def send_frame(self, pieces: list, rid: int | None = None) -> None:
        """Write one frame, in slices; cancellation-safe.

        Each slice is written shielded (a stream cancelled in the middle of a write is in an
        unknown state); cancellation is taken between slices, and what is left of the frame is
        written first by the next sender, so the stream stays in step. Small frames fit the pipe
        buffer and never wait; a large body sent while the engine is busy with a long call waits
        for the engine to read (at most one slice past the caller's deadline).
        """
        stdin = self.process.stdin
        assert stdin is not None
        async with self.send_lock:
            if rid is not None:
                # from here on the frame reaches the engine (the rest of a cancelled send goes first
                # with the next frame), so its reply will come: unsettled until it is read
                self.unsettled.add(rid)
            queue = self.pending + [memoryview(p) for p in pieces]
            self.pending = []
            try:
                while queue:
                    view = queue[0]
                    chunk, rest = view[:_CHUNK], view[_CHUNK:]
                    with anyio.CancelScope(shield=True):
                        await stdin.send(chunk)
                    if len(rest):
                        queue[0] = rest
                    else:
                        queue.pop(0)
                    if queue:
                        await anyio.lowlevel.checkpoint_if_cancelled()
            except anyio.get_cancelled_exc_class():
                self.pending = queue
                raise
            except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError) as e:
                self.dead = f"the local engine process is gone ({type(e).__name__})"
                raise

    async def read_frame(self) -> dict | None:
        """One reply frame, or None at end of stream; cancellation-safe (partial data stays)."""
        stdout = self.process.stdout
        assert stdout is not None
        buf = self.buffer
        while True:
            if len(buf) >= 4:
                (n,) = wire.HEADER.unpack_from(buf)
                if len(buf) >= 4 + n:
                    # decode in place (a large reply is not copied once more); release the views
                    # before the buffer is resized
                    with memoryview(buf) as view, view[4 : 4 + n] as frame:
                        msg = _reply_decoder.decode(frame)
                    del buf[: 4 + n]
                    return msg
            try:
                chunk = await stdout.receive(1 << 20)
            except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
                return None
            buf.extend(chunk)

    def _deliver(self, rid: int, msg: dict) -> None:
        self.replies[rid] = msg
        event = self.events.get(rid)
        if event is not None:
            event.set()

    async def wait_reply(self, rid: int) -> dict:
        """Leader/follower without a background task: one waiting caller reads frames for all.

        The leader hands every reply to its caller at once (their events are set); when its own
        reply is in, it steps down and wakes the others, one of which reads next. A cancelled
        leader steps down the same way (``read_frame`` keeps partial data).
        """
        while True:
            reply = self.replies.get(rid)
            if reply is not None:
                return reply
            if self.dead:
                raise EngineProcessError(self.dead)
            if not self.reading:
                self.reading = True
                try:
                    while self.replies.get(rid) is None and not self.dead:
                        msg = await self.read_frame()
                        if msg is None:
                            self.dead = "the local engine process exited unexpectedly (see its stderr)"
                            break
                        other = msg.get("id")
                        if "chunk" in msg:
                            head = self.partial.get(other)  # else: its caller gave up
                            if head is not None:
                                head["chunks"].append(msg)
                                if len(head["chunks"]) == head["expect"]:
                                    del self.partial[other]
                                    self._deliver(other, head)
                            # a long reply is read frame by frame, the event loop running between
                            await anyio.lowlevel.checkpoint()
                            continue
                        names = msg.get("catalog")
                        if names is not None:
                            self.set_names(names)
                        self.unsettled.discard(other)
                        if other in self.replies:  # else: its caller gave up (cancelled)
                            expect = sum(n for _, n in msg.get("lists") or ())
                            if expect:
                                msg["chunks"] = []
                                msg["expect"] = expect
                                self.partial[other] = msg
                            else:
                                self._deliver(other, msg)
                finally:
                    self.reading = False
                    for other, event in self.events.items():
                        if other != rid:
                            event.set()
            else:
                event = self.events[rid] = anyio.Event()
                await event.wait()


class LocalBackend:
    """The local engine backend: ``LocalBackend(None)`` for ``:memory:``, ``LocalBackend(path)``.

    ``:memory:`` keeps its shards in a temporary directory (under ``/dev/shm`` when available),
    removed on :meth:`aclose` (and by the engine process itself if the caller dies). A ``path``
    is created if missing and restored on the next open; one path can be open in one client at a
    time (:class:`StorageLocked`, raised by the constructor, otherwise).
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        optimize: str = "idle",
        optimize_after: float = 1.0,
        on_warning: Callable[[str], None] | None = None,
    ) -> None:
        if path is not None and str(path) == ":memory:":
            path = None
        if optimize not in ("idle", "never"):
            raise ValueError("optimize must be 'idle' or 'never'")
        if not float(optimize_after) >= 0:
            raise ValueError("optimize_after must be a number of seconds >= 0")
        self.path: str | None = os.path.abspath(os.fspath(path)) if path is not None else None
        #: the store's lock, taken now (a second client on the folder fails here, not at its first
        #: call) and passed to every engine process this client starts (storelock.py)
        self._lock_fd: int | None = None
        self._unlock: weakref.finalize | None = None
        if self.path is not None:
            try:
                self._lock_fd = storelock.lock(self.path)
            except storelock.StorageLockedError as e:
                raise StorageLocked(str(e)) from None
            self._unlock = weakref.finalize(self, storelock.unlock, self._lock_fd)
        self.optimize_policy = optimize
        self.optimize_after = float(optimize_after)
        #: where the engine's notes on parameters without local effect go: a LocalEngineWarning at
        #: the caller's line for a client; the dev server logs them instead (its callers are remote)
        self._on_warning = on_warning
        self._root: str | None = None
        self._conn: _Conn | None = None
        self._ids = itertools.count(1)
        self._start_lock: anyio.Lock | None = None
        self._closed = False
        #: what the engine reported at its (last) start: pid, root, version
        self.engine_info: dict[str, Any] | None = None
        #: how many times the engine process was (re)started
        self.starts = 0

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def root(self) -> str | None:
        """The directory holding the catalog and shards (a temporary one for ``:memory:``)."""
        return self._root or self.path

    @property
    def pid(self) -> int | None:
        """The engine process id (None before the first call)."""
        return self._conn.process.pid if self._conn is not None else None

    async def _connection(self) -> _Conn:
        conn = self._conn
        if conn is not None and not conn.dead:
            return conn
        if self._closed:
            raise QdrantError("the local engine client is closed")
        if self._start_lock is None:
            self._start_lock = anyio.Lock()
        async with self._start_lock:
            conn = self._conn
            if conn is not None and not conn.dead:
                return conn
            if conn is not None:
                # the engine died (killed, crashed): start a new one on the same directory; the
                # shards' write-ahead logs bring back every acknowledged write
                self._conn = None
                with anyio.CancelScope(shield=True):
                    await _terminate(conn.process)
                _telemetry.engine_restart(conn.dead or "the engine process exited")
            self._conn = await self._start()
            return self._conn

    async def _start(self) -> _Conn:
        temporary = self.path is None
        root = self._root or (_memory_dir() if temporary else self.path)
        assert root is not None
        if not temporary:
            os.makedirs(root, exist_ok=True)
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        # engine.py imports only msgspec, qdrant_edge and its two siblings (not the aqdrant package)
        cmd = [sys.executable, "-c", _ENGINE_BOOT, _ENGINE_DIR, root]
        if temporary:
            cmd.append("--temporary")
        if self.optimize_policy == "never":
            cmd.append("--no-optimize")
        cmd.append(f"--idle={self.optimize_after}")
        if self._lock_fd is not None:
            cmd.append(f"--lock-fd={self._lock_fd}")
        try:
            process = await anyio.open_process(
                cmd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=None,
                env=env,
                start_new_session=True,
                pass_fds=() if self._lock_fd is None else (self._lock_fd,),
            )
        except BaseException:
            if temporary and not self._root:
                shutil.rmtree(root, ignore_errors=True)
            raise
        conn = _Conn(process)
        try:
            hello = await conn.read_frame()
        except BaseException:
            with anyio.CancelScope(shield=True):
                await _terminate(process)
                if temporary and not self._root:
                    shutil.rmtree(root, ignore_errors=True)
            raise
        if hello is None or not hello.get("ok"):
            with anyio.CancelScope(shield=True):
                await _terminate(process)
                if temporary and not self._root:
                    shutil.rmtree(root, ignore_errors=True)
            if hello is None:
                raise EngineProcessError(
                    "the local engine process exited during start-up (see its stderr)", sent=False
                )
            err = hello["error"]
            if err["kind"] == wire.KIND_LOCKED:
                raise StorageLocked(err["message"])
            if err["kind"] == wire.KIND_STORAGE:
                raise LocalStorageError(err["message"])
            raise EngineProcessError(f"the local engine failed to start: {err['message']}", sent=False)
        self._root = root
        self.engine_info = hello["result"]
        conn.set_names(hello["result"]["catalog"])
        self.starts += 1
        return conn

    async def aclose(self) -> None:
        """Stop the engine process (flushing every shard) and remove a ``:memory:`` directory."""
        if self._closed:
            return
        self._closed = True
        conn, self._conn = self._conn, None
        with anyio.CancelScope(shield=True):
            if conn is not None:
                process = conn.process
                try:
                    with anyio.move_on_after(30):
                        assert process.stdin is not None
                        try:
                            if not conn.pending and not conn.dead:
                                # (else: a truncated frame + EOF stops the engine too)
                                await conn.send_frame(_frame({"id": 0, "op": "__close__"}))
                            await process.stdin.aclose()
                        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                            pass
                        await process.wait()
                finally:
                    await _terminate(process)
                    conn.dead = conn.dead or "the local engine client was closed"
            if self.path is None and self._root:
                shutil.rmtree(self._root, ignore_errors=True)
            if self._unlock is not None:
                self._unlock()  # after the engine stopped: the store is free for the next client

    def __repr__(self) -> str:
        where = self.path if self.path is not None else ":memory:"
        return f"LocalBackend({where!r}, pid={self.pid})"

    async def __aenter__(self) -> LocalBackend:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def optimize(self, collection_name: str) -> bool:
        """Run the collection's optimizers (index builds) now; True if anything was optimized.

        The engine process is busy meanwhile (other calls wait, with their deadlines); the
        caller's event loop is not.
        """
        reply = await self.call("optimize", path={"collection_name": collection_name})
        if reply.get("ok"):
            return bool(msgspec.json.decode(reply["result"]))
        err = reply["error"]
        raise UnexpectedResponse.for_status(
            err["status"] or 500, err["message"], operation="optimize", collection=collection_name
        )

    # -- protocol -------------------------------------------------------------------------

    def stream(self, request: Request) -> Any:
        raise UnsupportedOperation(
            f"operation `{request.op.name}` is not supported by the local engine (no snapshots or binary downloads)"
        )

    async def execute(self, request: Request) -> Any:
        op = request.op
        if op.name not in SUPPORTED_OPERATIONS:
            raise UnsupportedOperation(
                f"operation `{op.name}` is not supported by the local engine (qdrant-edge): it has no "
                "cluster, shard keys, snapshots, telemetry, issues or quotas; use a Qdrant server"
            )
        body = request.body
        timeout = None
        if request.deadline is not None:
            timeout = request.deadline - anyio.current_time()
            if timeout <= 0:
                raise DeadlineExceeded(
                    f"{op.name}: the deadline passed before the call was sent", operation=op.name
                )
        if op.name in CATALOG_ONLY_OPERATIONS:
            result = await self._catalog_only(op.name, request)
            if result is not _ENGINE:
                return result
        reply = await self.call(
            op.name,
            path={
                k: (str(v) if not isinstance(v, (int, str)) else v) for k, v in request.path_params.items()
            },
            query=dict(request.query),
            body=body,
            timeout=timeout,
        )
        for text in reply.get("warnings") or ():
            if self._on_warning is not None:
                self._on_warning(text)
            else:
                warn(text, LocalEngineWarning)  # at the caller's line (aqdrant/_warn.py)
        if reply.get("ok"):
            if "lists" in reply:
                return await _parse_lists(op.result_type, reply)
            return models.parse(op.result_type, reply["result"])
        err = reply["error"]
        kind, message = err["kind"], err["message"]
        if kind == wire.KIND_UNSUPPORTED:
            raise UnsupportedOperation(message)
        if kind == wire.KIND_DEADLINE:
            raise DeadlineExceeded(f"{op.name}: {message}", operation=op.name)
        if kind == wire.KIND_INTERNAL:
            raise UnexpectedResponse.for_status(
                500, message, operation=op.name, collection=request.collection
            )
        if kind in _ERROR_KINDS:
            raise _ERROR_KINDS[kind](err["status"], message, operation=op.name, collection=request.collection)
        error = UnexpectedResponse.for_status(
            err["status"], message, operation=op.name, collection=request.collection
        )
        if isinstance(error, RateLimited):
            error.retry_after = err.get("retry_after")  # strict mode's rate limits (strict.py)
        elif 400 <= error.status_code < 500:
            error.__class__ = _also_value_error(type(error))
        raise error

    async def _catalog_only(self, name: str, request: Request) -> Any:
        """A catalog-only operation answered from the engine's names in this process, or _ENGINE
        when they may be behind the engine (a name or alias change not acknowledged yet, an
        engine that died): then the engine answers, after whatever it has in hand.

        The engine is started by the first call as before (its start takes the storage lock and
        reads the catalog); after that, these operations cost no frame and no round trip.
        """
        conn = await self._connection()
        # a cancellation point, but no yield to the loop: answered without I/O, like a cache hit
        # (a yield costs a loop iteration, ~50 us per call through the blocking shim)
        await anyio.lowlevel.checkpoint_if_cancelled()
        if conn.dead or conn.unsettled or conn is not self._conn:
            return _ENGINE
        if name in wire.HEALTH:
            return wire.HEALTH[name]
        result_type = request.op.result_type
        if name == "root":
            return models.parse(result_type, {"title": wire.ROOT_TITLE, "version": wire.ENGINE_VERSION})
        if request.query and not set(request.query) <= {"timeout"}:
            return _ENGINE  # let the engine report parameters without local effect, as before
        collections, aliases = conn.collections, conn.aliases
        if name == "get_collections":
            return models.parse(result_type, {"collections": [{"name": n} for n in sorted(collections)]})
        if name == "get_collections_aliases":
            return models.parse(
                result_type,
                {"aliases": [{"alias_name": a, "collection_name": c} for a, c in sorted(aliases.items())]},
            )
        target = str(request.path_params["collection_name"])
        if name == "collection_exists":
            # an alias counts, as on the server
            return models.parse(
                result_type, {"exists": target in collections or aliases.get(target) in collections}
            )
        # get_collection_aliases
        if target not in collections:
            missing = qerrors.collection_not_found(target)
            raise UnexpectedResponse.for_status(
                missing.status, missing.message, operation=name, collection=request.collection
            )
        return models.parse(
            result_type,
            {
                "aliases": [
                    {"alias_name": a, "collection_name": c} for a, c in sorted(aliases.items()) if c == target
                ]
            },
        )

    async def _death_note(self, conn: _Conn) -> str:
        """How the engine process ended, when it did (its stderr may hold nothing: a signal
        leaves no message), e.g. SIGBUS, which a full disk under its mapped WAL raises."""
        with anyio.move_on_after(1):
            await conn.process.wait()
        code = conn.process.returncode
        if code is None or code >= 0:
            return f" (exit status {code})" if code else ""
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        note = f"; it was killed by {name}"
        if name == "SIGBUS":
            note += (
                f" - usually the disk holding {self.root} is full (the engine maps its write-ahead log); "
                "free space and retry: the store reopens with every acknowledged write"
            )
        return note

    async def call(
        self,
        op: str,
        *,
        path: dict | None = None,
        query: dict | None = None,
        body: Any = None,
        timeout: float | None = None,
    ) -> dict:
        """Send one request frame to the engine and wait for its reply (a dict).

        If the engine process died, the call in flight fails with :class:`EngineProcessError`
        and the next call starts a new engine on the same directory.
        """
        conn = await self._connection()
        rid = next(self._ids)
        conn.replies[rid] = None
        try:
            frame = _frame(
                {
                    "id": rid,
                    "op": op,
                    "path": path or {},
                    "query": query or {},
                    "body": body,
                    # CLOCK_MONOTONIC is system-wide: the engine compares it with its own clock
                    # (the arrival time would not do: the engine's reader thread cannot even run
                    # while a long engine call holds the GIL)
                    "deadline": None if timeout is None else time.monotonic() + timeout,
                }
            )
            try:
                await conn.send_frame(frame, rid if op in wire.CATALOG_CHANGING else None)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError) as e:
                note = await self._death_note(conn)
                raise EngineProcessError(
                    f"{op}: the local engine process is gone ({e}){note}", operation=op
                ) from None
            try:
                return await conn.wait_reply(rid)
            except EngineProcessError as e:
                note = await self._death_note(conn)
                raise EngineProcessError(f"{op}: {e}{note}", operation=op) from None
        finally:
            conn.replies.pop(rid, None)
            conn.events.pop(rid, None)
            conn.partial.pop(rid, None)


# The caller's side of the frames (layout and codes: protocol.py). Float arrays in a request body
# are not encoded at all: the blob is the arrays' own memory, written to the pipe in slices
# straight from the numpy buffers. A 20k x 128 batch costs the caller's loop well under a
# millisecond at a time instead of 250 ms of float formatting (JSON) or 50 ms of buffer copies.

_CHUNK = 1 << 18
_local = threading.local()


def _enc_hook(obj: Any) -> Any:
    np = sys.modules.get("numpy")
    if np is not None:
        if isinstance(obj, np.ndarray):
            if obj.dtype.kind == "f" and obj.ndim in (1, 2) and obj.size:
                # float64 stays float64 (a payload array must not lose precision); the rest f32
                wide = obj.dtype.itemsize == 8
                arr = np.ascontiguousarray(obj, dtype="<f8" if wide else "<f4")
                blobs: list = _local.blobs
                offset = _local.size
                view = memoryview(arr.reshape(-1)).cast("B")
                blobs.append(view)
                _local.size += len(view)
                rows, cols = (0, arr.shape[0]) if arr.ndim == 1 else arr.shape
                code = wire.EXT_F64_BLOB if wide else wire.EXT_F32_BLOB
                return msgspec.msgpack.Ext(code, wire.BLOB_REF.pack(offset, rows, cols))
            return obj.tolist()
        if isinstance(obj, np.generic):
            return obj.item()
    raise NotImplementedError(f"cannot encode objects of type {type(obj).__name__}")


_encoder = msgspec.msgpack.Encoder(enc_hook=_enc_hook)


def _reply_ext(code: int, data: memoryview) -> Any:
    if code == wire.EXT_F32_VECTOR:
        return models.RawVector.from_float32(data)
    raise ValueError(f"unknown msgpack extension type {code}")


_reply_decoder = msgspec.msgpack.Decoder(ext_hook=_reply_ext)


def _frame(msg: dict) -> list:
    """The pieces of one request frame: header+message, blob length, blob views."""
    _local.blobs = []
    _local.size = 0
    try:
        buf = bytearray(4)
        try:
            _encoder.encode_into(msg, buf, 4)
        except OverflowError as e:  # e.g. a payload integer beyond 64 bits: the engine cannot store it
            raise ValidationError(f"a value does not fit the embedded engine: {e}") from None
        wire.HEADER.pack_into(buf, 0, len(buf) - 4)
        buf += wire.BLOB_HEAD.pack(_local.size)
        return [buf, *_local.blobs]
    finally:
        _local.blobs = None


def _item_type(list_type: Any) -> Any:
    args = typing.get_args(list_type)
    if typing.get_origin(list_type) is not list or len(args) != 1:
        raise TypeError(f"not a list type: {list_type!r}")
    return args[0]


async def _parse_lists(result_type: Any, reply: dict) -> Any:
    """A result whose point lists came in chunk frames (engine._reply_frames): each chunk is
    parsed and gets its vectors (float32 bytes kept as :class:`models.RawVector`, decoded on
    first access), the event loop running between chunks."""
    result = models.parse(result_type, reply["result"])
    chunks = iter(reply["chunks"])
    for path, n in reply["lists"]:
        owner, name, tp, obj = None, "", result_type, result
        for step in path:  # [], [field] or [index, field]
            owner = obj
            if isinstance(step, int):
                tp, obj = _item_type(tp), obj[step]
            else:
                field = next(f for f in msgspec.structs.fields(tp) if f.encode_name == step)
                tp, obj, name = field.type, getattr(obj, field.name), field.name
        item_list = typing.List[_item_type(tp)]  # noqa: UP006
        points: list = []
        for _ in range(n):
            frame = next(chunks)
            items = models.parse(item_list, frame["chunk"])
            vectors = frame["vectors"]
            if vectors is not None:
                for item, v in zip(items, vectors, strict=True):
                    if v is not None:
                        if v.__class__ is not models.RawVector:  # named, sparse or multi
                            v = models.parse(models.VectorStructOutput, v)
                        msgspec.structs.force_setattr(item, "vector", v)
            points.extend(items)
            await anyio.lowlevel.checkpoint()
        if owner is None:
            result = points
        else:
            setattr(owner, name, points)
    return result


async def _terminate(process: Process) -> None:
    if process.returncode is not None:
        await process.aclose()
        return
    try:
        process.terminate()
    except ProcessLookupError:
        pass
    with anyio.move_on_after(5):
        await process.wait()
    if process.returncode is None:
        process.kill()
        await process.wait()
    await process.aclose()
