"""The engine process: qdrant-edge shards behind a msgspec frame protocol on stdin/stdout.

qdrant-edge-py 0.9.0 holds the GIL for the whole of every call (an index build can take
minutes), so the shards live here, in a process of their own, and the caller's event loop only
ever waits on a pipe. ``LocalBackend`` imports this file as the top-level module ``engine`` (a
faster start: only msgspec, qdrant_edge and its sibling modules, from cached bytecode) and
calls ``main()`` with ``ROOT [--temporary] [--no-optimize] [--idle=SECONDS] [--lock-fd=FD]``; ``python
engine.py ...`` and ``python -m aqdrant.local.engine ...`` work too.

Protocol (frame layout, extension codes, version, error kinds: ``protocol.py``, shared with
the caller): every frame is a 4-byte big-endian length followed by a msgpack map.

- parent -> engine: ``{"id", "op", "path", "query", "body", "deadline"}`` where ``body`` is the
  request body (the model, msgpack-encoded with its wire names; float arrays travel as raw
  float32 in a blob after the message, see ``backend._frame``) and ``deadline`` the caller's
  deadline on ``time.monotonic()`` (system-wide on Linux and macOS), or nil;
  ``{"id", "op": "__close__"}`` asks for an orderly shutdown.
- engine -> parent (no blob): first ``{"id": 0, "ok": true, "result": {"pid", "root", "version"}}`` once
  the root is locked and the catalog loaded (or ``ok: false`` with the reason), then one reply
  per request: ``{"id", "ok": true, "result": <JSON bytes>, "warnings": [...]}`` or
  ``{"id", "ok": false, "error": {"kind", "status", "message"}}``. A result holding point
  lists (retrieve, scroll, query) has them cut out: the head frame says ``"lists"`` and chunk
  frames follow, with vectors as float32 bytes (see ``_reply_frames``).

Requests are served one at a time, in order. A request whose deadline passed while it waited is
answered with a deadline error without running. When stdin closes (the parent exited or died)
the engine flushes, closes its shards, removes a temporary root and exits.
"""

from __future__ import annotations

import array
import os
import select
import sys
import time
import types
from typing import Any, BinaryIO

import msgspec

if __package__:
    from . import catalog as cat
    from . import containment as ct
    from . import convert as cv
    from . import protocol as wire
    from . import storelock as sl
    from .engine_base import EngineError, _print_exc
    from .engine_collections import CollectionOps
    from .engine_points import PointOps
    from .engine_queries import QueryOps
else:  # imported as `engine` by LocalBackend's boot: a faster start, without the aqdrant package
    import catalog as cat  # type: ignore[no-redef]
    import containment as ct  # type: ignore[no-redef]
    import convert as cv  # type: ignore[no-redef]
    import protocol as wire  # type: ignore[no-redef]
    import storelock as sl  # type: ignore[no-redef]
    from engine_base import EngineError, _print_exc  # type: ignore[no-redef]
    from engine_collections import CollectionOps  # type: ignore[no-redef]
    from engine_points import PointOps  # type: ignore[no-redef]
    from engine_queries import QueryOps  # type: ignore[no-redef]


class Engine(CollectionOps, PointOps, QueryOps):
    """Every collection of one root directory. Synchronous: the process serves it one call at a time.

    State, dispatch and shared helpers: ``engine_base.EngineBase``; the ``op_<name>`` methods by
    concern: ``engine_collections``, ``engine_points``, ``engine_queries``."""


StorageLockedError = sl.StorageLockedError


# ---------------------------------------------------------------------------------------------
# the engine's side of the frames (layout and codes: protocol.py)

_encoder = msgspec.msgpack.Encoder()
_blob = types.SimpleNamespace(view=None, arrays=False)  # the frame being decoded


def _ext_hook(code: int, data: memoryview) -> Any:
    """A float array sent as raw little-endian float32/float64 bytes in the frame's blob."""
    if code == wire.EXT_F32_BLOB:
        fmt, size = "f", 4
    elif code == wire.EXT_F64_BLOB:
        fmt, size = "d", 8
    else:
        raise ValueError(f"unknown msgpack extension type {code}")
    offset, rows, cols = wire.BLOB_REF.unpack(data)
    n = (rows or 1) * cols
    a = array.array(fmt)
    a.frombytes(_blob.view[offset : offset + size * n])
    if sys.byteorder != "little":  # pragma: no cover
        a.byteswap()
    if _blob.arrays:
        if rows == 0:
            return a
        return [a[i : i + cols] for i in range(0, n, cols)]
    flat = a.tolist()
    if rows == 0:
        return flat
    return [flat[i : i + cols] for i in range(0, n, cols)]


_decoder = msgspec.msgpack.Decoder(ext_hook=_ext_hook)


class _OpOnly(msgspec.Struct):
    op: Any = None


_op_decoder = msgspec.msgpack.Decoder(_OpOnly, ext_hook=lambda code, data: None)


def _decode_request(data: bytes, blob: bytes) -> Any:
    """A request message; float arrays from ``blob`` (see ``_ext_hook``)."""
    _blob.view = memoryview(blob)
    _blob.arrays = bool(blob) and _op_decoder.decode(data).op in wire.ARRAY_OPS
    try:
        return _decoder.decode(data)
    finally:
        _blob.view = None


def _write(out: BinaryIO, *msgs: dict) -> None:
    for msg in msgs:
        data = _encoder.encode(msg)
        out.write(wire.HEADER.pack(len(data)) + data)
    out.flush()


def _read_exact(inp: BinaryIO, n: int) -> bytearray | None:
    """Exactly ``n`` bytes from the unbuffered ``inp`` (a pipe returns what it holds), or None
    at end of input."""
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = inp.readinto(view[got:])  # type: ignore[attr-defined]
        if not k:
            return None
        got += k
    return buf


def _read_request(inp: BinaryIO) -> dict | None:
    """The next request frame, decoded; None at end of input (the parent closed or died)."""
    head = _read_exact(inp, 4)
    if head is None:
        return None
    data = _read_exact(inp, wire.HEADER.unpack(head)[0])
    if data is None:
        return None
    blob_head = _read_exact(inp, wire.BLOB_HEAD.size)
    if blob_head is None:
        return None
    blob = _read_exact(inp, wire.BLOB_HEAD.unpack(blob_head)[0])
    if blob is None:
        return None
    try:
        return _decode_request(data, blob)
    except Exception as e:  # noqa: BLE001 - answer the caller instead of hanging it
        return {"id": _request_id(data), "op": "__invalid__", "error": f"{type(e).__name__}: {e}"}


def _readable(inp: BinaryIO, timeout: float) -> bool:
    """Whether a frame has started to arrive within ``timeout`` seconds (``inp`` is unbuffered,
    so the pipe itself says)."""
    return bool(select.select([inp], [], [], max(timeout, 0.0))[0])


def _reply_frames(rid: Any, result: Any, extra: dict) -> list[dict]:
    """The frames answering one request: the head, then the point lists' chunks.

    Point lists (``convert.PointRows``: at the top, in a field of the result, or in a field of
    each item of a list result) are cut out of the head's JSON; each list follows as frames of
    up to ``protocol.CHUNK_POINTS`` points, ``{"id", "chunk": JSON without vectors, "vectors": [one entry per
    point] or nil}``, vectors as float32 bytes (``convert.vector_wire``). The caller reads and
    decodes them one at a time, and its event loop runs in between; the head says
    ``"lists": [[path, number of chunks], ...]``.
    """
    lists: list[tuple[list, Any]] = []
    rest = result
    if isinstance(result, cv.PointRows):
        lists.append(([], result))
        rest = []
    elif isinstance(result, dict):
        rest = dict(result)
        for k, v in result.items():
            if isinstance(v, cv.PointRows):
                lists.append(([k], v))
                rest[k] = []
    elif isinstance(result, list) and any(isinstance(x, dict) for x in result):
        rest = []
        for i, item in enumerate(result):
            if isinstance(item, dict):
                item = dict(item)
                for k, v in list(item.items()):
                    if isinstance(v, cv.PointRows):
                        lists.append(([i, k], v))
                        item[k] = []
            rest.append(item)
    head: dict[str, Any] = {"id": rid, "ok": True, "result": msgspec.json.encode(rest), **extra}
    lists = [(path, rows) for path, rows in lists if len(rows)]  # an empty one stays `[]` in the head
    if not lists:
        return [head]
    head["lists"] = [[path, -(-len(rows) // wire.CHUNK_POINTS)] for path, rows in lists]
    frames = [head]
    ext = msgspec.msgpack.Ext
    for _, rows in lists:
        out = cv.scored_out if rows.scored else cv.record_out
        records = rows.records
        for i in range(0, len(records), wire.CHUNK_POINTS):
            chunk = records[i : i + wire.CHUNK_POINTS]
            vectors = [cv.vector_wire(r.vector, ext) if rows.vectors else None for r in chunk]
            frames.append(
                {
                    "id": rid,
                    "chunk": msgspec.json.encode([out(r, False) for r in chunk]),
                    "vectors": vectors if any(v is not None for v in vectors) else None,
                }
            )
    return frames


def _request_id(data: bytes) -> Any:
    try:
        return msgspec.msgpack.decode(data, type=_IdOnly, ext_hook=lambda code, d: None).id
    except Exception:  # noqa: BLE001
        return None


class _IdOnly(msgspec.Struct):
    id: Any = None


def serve(
    root: str,
    temporary: bool,
    inp: BinaryIO,
    out: BinaryIO,
    *,
    optimize: bool = True,
    idle: float = 1.0,
    lock_fd: int | None = None,
) -> None:
    try:
        engine = Engine(root, temporary=temporary, defer_indexes=optimize, lock_fd=lock_fd)
    except StorageLockedError as e:
        _write(
            out, {"id": 0, "ok": False, "error": {"kind": wire.KIND_LOCKED, "status": 0, "message": str(e)}}
        )
        return
    except cat.CatalogError as e:
        _write(
            out, {"id": 0, "ok": False, "error": {"kind": wire.KIND_STORAGE, "status": 0, "message": str(e)}}
        )
        return
    except Exception as e:  # noqa: BLE001
        _write(
            out,
            {
                "id": 0,
                "ok": False,
                "error": {"kind": wire.KIND_INTERNAL, "status": 0, "message": f"{type(e).__name__}: {e}"},
            },
        )
        return
    orderly = False
    try:
        _write(
            out,
            {
                "id": 0,
                "ok": True,
                "result": {
                    "pid": os.getpid(),
                    "root": engine.root,
                    "version": wire.ENGINE_VERSION,
                    "catalog": engine.names(),
                },
            },
        )
        while True:
            if engine.side.active:
                # an index build off to the side: its events and replay steps between requests
                if not engine.side.turn(inp):
                    continue
            elif optimize and engine.dirty:
                # the engine has no background optimizer: build indexes once writes have been
                # quiet for `idle` seconds (reads arriving meanwhile do not postpone it)
                wait = engine.last_write + idle - time.monotonic()
                if wait <= 0:
                    try:
                        engine.optimize_dirty()
                    except BaseException as e:  # noqa: BLE001 - a panic included
                        if not isinstance(e, Exception) and not ct.is_panic(e):
                            raise
                        _print_exc()
                    continue
                if not _readable(inp, wait):
                    continue
            # requests are read here, between calls: qdrant-edge holds the GIL for the whole of
            # every call, so a reader thread could never read during one, and handing each
            # frame over to this thread cost two thread switches and a decode on another core
            msg = _read_request(inp)
            if msg is None:
                orderly = True  # the parent closed the pipe or is gone: nobody reopens this root
                break
            rid = msg.get("id")
            if msg.get("op") == "__close__":
                _write(out, {"id": rid, "ok": True, "result": b"true"})
                orderly = True
                break
            if msg.get("op") == "__invalid__":
                _write(
                    out,
                    {
                        "id": rid,
                        "ok": False,
                        "error": {
                            "kind": wire.KIND_STATUS,
                            "status": 400,
                            "message": f"undecodable request: {msg['error']}",
                        },
                    },
                )
                continue
            deadline = msg.get("deadline")
            if deadline is not None and time.monotonic() > deadline:
                _write(
                    out,
                    {
                        "id": rid,
                        "ok": False,
                        "error": {
                            "kind": wire.KIND_DEADLINE,
                            "status": 0,
                            "message": "the deadline passed while the call waited for the engine",
                        },
                    },
                )
                continue
            try:
                body = msg.get("body")
                result = engine.handle(
                    msg["op"],
                    msg.get("path") or {},
                    msg.get("query") or {},
                    body,
                )
                frames = _reply_frames(rid, result, {"warnings": engine.warnings})
            except EngineError as e:
                frames = [
                    {
                        "id": rid,
                        "ok": False,
                        "error": e.reply(),
                    }
                ]
            except BaseException as e:  # noqa: BLE001 - a panic included: the engine stays up
                if not isinstance(e, Exception) and not ct.is_panic(e):
                    raise
                _print_exc()
                frames = [
                    {
                        "id": rid,
                        "ok": False,
                        "error": {
                            "kind": wire.KIND_INTERNAL,
                            "status": 500,
                            "message": f"{type(e).__name__}: {e}",
                        },
                    }
                ]
            if msg.get("op") in wire.CATALOG_CHANGING:
                frames[0]["catalog"] = engine.names()
            _write(out, *frames)
    finally:
        engine.close(remove=orderly)


def _grow_pipes(*files: BinaryIO) -> None:
    """1 MB pipe buffers (Linux; 64 KB by default): an upsert batch or a reply chunk crosses in
    one write instead of a dozen, each a context switch between the two processes."""
    try:
        import fcntl

        set_size = getattr(fcntl, "F_SETPIPE_SZ", 1031)
        for f in files:
            fcntl.fcntl(f.fileno(), set_size, 1 << 20)
    except (ImportError, OSError, ValueError):
        pass  # not a pipe, not Linux, or above /proc/sys/fs/pipe-max-size: the default works


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    root = argv[0]
    temporary = "--temporary" in argv[1:]
    # unbuffered: select() on the pipe must see every byte not yet read
    inp = open(sys.stdin.fileno(), "rb", buffering=0, closefd=False)  # noqa: SIM115
    out = sys.stdout.buffer
    # the engine answers at normal priority: its heavy work (HNSW builds of large collections)
    # runs in a builder process niced below it (sidebuild.py), and a niced engine made reads wait
    # seconds behind every other program on a busy machine (bench_load_query); the caller's loop
    # gaps are the same either way (bench_local_build_heartbeat: 44 ms max with nice 10 and 0)
    try:
        os.nice(int(os.environ.get("AQDRANT_ENGINE_NICE", "0")))
    except (OSError, ValueError):
        pass
    _grow_pipes(inp, out)
    # nothing else may write to the frame channel
    sys.stdout = sys.stderr
    try:
        idle = [float(a.split("=", 1)[1]) for a in argv[1:] if a.startswith("--idle=")]
        lock_fd = [int(a.split("=", 1)[1]) for a in argv[1:] if a.startswith("--lock-fd=")]
        serve(
            root,
            temporary,
            inp,
            out,
            optimize="--no-optimize" not in argv[1:],
            idle=idle[0] if idle else 1.0,
            lock_fd=lock_fd[0] if lock_fd else None,
        )
    finally:
        out.flush()
        sys.stderr.flush()
        # skip interpreter finalization: tearing down the engine's objects one by one is slow
        os._exit(0)


if __name__ == "__main__":
    main()
