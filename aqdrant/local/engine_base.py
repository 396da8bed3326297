"""The engine's state and what every part of it shares: the collections' shards, deferred
payload indexes and index builds, the dispatch of one request (guard, strict mode, disk space,
errors), and the errors operations raise.

``EngineBase`` is completed by the operation mixins - ``engine_collections`` (service,
collections, aliases, vector names), ``engine_points`` (point updates, payload indexes),
``engine_queries`` (reads and queries) - into ``engine.Engine``; each ``op_<name>`` lives in the
mixin of its concern. Runs in the engine process (see engine.py): no aqdrant package imports.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import msgspec
import qdrant_edge as qe

if __package__:
    from . import catalog as cat
    from . import containment as ct
    from . import convert as cv
    from . import guard, sidebuild, strict
    from . import protocol as wire
    from . import qerrors as qx
    from . import storelock as sl
else:  # a top-level sibling in the engine process (see engine.py)
    import catalog as cat  # type: ignore[no-redef]
    import containment as ct  # type: ignore[no-redef]
    import convert as cv  # type: ignore[no-redef]
    import guard  # type: ignore[no-redef]
    import protocol as wire  # type: ignore[no-redef]
    import qerrors as qx  # type: ignore[no-redef]
    import sidebuild  # type: ignore[no-redef]
    import storelock as sl  # type: ignore[no-redef]
    import strict  # type: ignore[no-redef]


def _rmtree(path: str) -> None:
    import shutil  # here, not at the top: 3 ms of every engine start for a rare call

    shutil.rmtree(path, ignore_errors=True)


def _print_exc() -> None:
    import traceback  # here, not at the top: 3 ms of every engine start for a rare call

    traceback.print_exc()


#: an error reported to the caller, with Qdrant's text and status when it is one Qdrant answers
#: (qerrors.py holds the table); ``kind``: one of protocol.KIND_* (invalid: refused by guard.py;
#: panic, damaged, disk_full: containment.py)
EngineError = qx.QdrantFault


def _not_found(name: str) -> EngineError:
    return qx.collection_not_found(name)


def _unsupported(message: str) -> EngineError:
    return EngineError(501, message, kind=wire.KIND_UNSUPPORTED)


def _bad(message: str) -> EngineError:
    return EngineError(400, message)


# Query/body keys that have no meaning on one local shard. ``consistency`` and ``ordering`` ask
# for guarantees among replicas: the local engine is one replica that applies every operation in
# order before answering, so they are satisfied (and reported with a warning when given).
_NO_EFFECT_QUERY = {"consistency", "ordering"}


class EngineBase:
    """The state of every collection of one root directory, its dispatch and shared helpers;
    ``engine.Engine`` adds the operations (the mixins). Synchronous: one call at a time."""

    def __init__(
        self, root: str, *, temporary: bool = False, defer_indexes: bool = True, lock_fd: int | None = None
    ) -> None:
        self.root = os.path.abspath(root)
        self.temporary = temporary
        #: payload indexes declared on an empty collection wait until first needed (see
        #: ``_build_pending``); False: every index is created when declared
        self.defer_indexes = defer_indexes
        os.makedirs(self.root, exist_ok=True)
        # the client holds the lock since its construction and passed it on (storelock.py)
        self._lock_fd = lock_fd if lock_fd is not None else _lock_root(self.root)
        try:
            self.catalog = cat.load(self.root)
        except cat.CatalogError:
            _unlock(self._lock_fd)
            raise
        self.shards: dict[str, Any] = {}
        self.dirty: set[str] = set()
        self.last_write = 0.0
        #: collections whose optimizer built something since they were opened
        self.built: set[str] = set()
        #: collection -> {field: schema}: payload indexes declared (in the catalog) but not yet
        #: created in the shard
        self.pending: dict[str, dict[str, Any]] = {}
        #: collection -> its next operation id: Qdrant numbers updates per collection (its WAL)
        #: from 0, so a new collection's first upsert answers operation_id=0 as on a server
        self.op_ids: dict[str, int] = {}
        self.warnings: list[str] = []
        self.strict = strict.Strict()
        #: collection -> why its shard cannot be opened (containment.damaged_message)
        self.broken: dict[str, str] = {}
        #: index builds of large collections, off to the side while reads are served (sidebuild.py)
        self.side = sidebuild.SideBuilds(self)
        self._remove_orphans()

    # -- lifecycle ------------------------------------------------------------------------

    def _remove_orphans(self) -> None:
        known = {e.dir for e in self.catalog.collections.values()}
        for name in os.listdir(self.root):
            if name.startswith("shard-") and name not in known:
                _rmtree(os.path.join(self.root, name))

    def close(self, *, remove: bool = True) -> None:
        """Flush and close every shard; a temporary root is removed only when ``remove`` (an
        orderly close, or the parent gone): after a crash, the restarted engine reopens it."""
        self.side.cancel_all()
        for shard in self.shards.values():
            try:
                shard.flush()
                shard.close()
            except BaseException as e:  # noqa: BLE001 - closing everything matters more
                if not isinstance(e, Exception) and not ct.is_panic(e):
                    raise
                _print_exc()
        self.shards.clear()
        _unlock(self._lock_fd)
        if self.temporary and remove:
            _rmtree(self.root)

    def shard(self, name: str) -> Any:
        shard = self.shards.get(name)
        if shard is None:
            if name in self.broken:
                raise EngineError(500, self.broken[name], kind=wire.KIND_DAMAGED)
            entry = self.catalog.collections[name]
            try:
                shard = qe.EdgeShard.load(os.path.join(self.root, entry.dir))
            except BaseException as e:  # a panic included: this collection alone is unusable
                if not isinstance(e, Exception) and not ct.is_panic(e):
                    raise
                self.broken[name] = ct.damaged_message(name, e)
                print(f"aqdrant engine: {self.broken[name]}", file=sys.stderr)
                raise EngineError(500, self.broken[name], kind=wire.KIND_DAMAGED) from None
            self.shards[name] = shard
            if _needs_indexing(entry.config, shard.info(), _optimizers(entry.config)):
                self.dirty.add(name)  # left unindexed (a crash, a build dropped): built when idle
            if entry.field_schemas:  # declared but not built when the last process ended
                built = shard.info().payload_schema
                missing = {f: s for f, s in entry.field_schemas.items() if f not in built}
                if missing:
                    self.pending[name] = missing
                    self.dirty.add(name)
        return shard

    def _declare_index(self, name: str, field: str, schema: Any) -> None:
        """Record (``schema``) or forget (None) a payload index in the catalog, saved at once."""
        schemas = self.catalog.collections[name].field_schemas
        if schema is not None:
            schemas[field] = schema
        elif schemas.pop(field, None) is None:
            return
        cat.save(self.root, self.catalog)

    def _build_pending(self, name: str, shard: Any) -> None:
        """Create the payload indexes declared on ``name`` and deferred until now.

        An index declared while its collection is empty is not created in the shard at once:
        a bulk load that follows would maintain it point by point (an integer index: 4-5 us per
        384-d point at 100k points, a sixth of the engine's time), while building it over the
        loaded data costs about the same once. It is created before anything could observe its
        absence - any operation on the collection other than an unconditional upsert (reads,
        filtered writes, ``get_collection``, order_by needing it, text matching changing with it)
        - and when writes go quiet, before the vector index is built (filtered HNSW links need
        it)."""
        fields = self.pending.pop(name, None)
        for field, schema in (fields or {}).items():
            try:
                shard.update(qe.UpdateOperation.create_field_index(field, cv.field_schema_in(schema)))
            except Exception as e:  # noqa: BLE001 - checked when declared; report, never hide
                self._declare_index(name, field, None)
                message = f"the payload index declared on `{field}` could not be built and was dropped: {e}"
                self.warnings.append(message)
                print(f"aqdrant engine: {name}: {message}", file=sys.stderr)

    def optimize_dirty(self) -> None:
        """Run the engine's optimizers (index builds) on collections written since the last run:
        a vector index build due on a large collection off to the side (``sidebuild``: reads
        keep being served; one at a time, the others stay dirty until it ends); anything else
        (a small collection, no index due: merges, vacuum) in place."""
        while self.dirty and not self.side.active:
            name = self.dirty.pop()
            if name not in self.catalog.collections:
                continue
            shard = self.shard(name)
            self._build_pending(name, shard)  # payload indexes first: the HNSW build uses them
            cfg = self.catalog.collections[name].config
            if _needs_indexing(cfg, shard.info(), _optimizers(cfg)) and self.side.start(name, shard):
                return
            if shard.optimize():
                self.built.add(name)

    # -- dispatch -------------------------------------------------------------------------

    def handle(self, op: str, path: dict, query: dict, body: Any) -> Any:
        """Run one operation; return its result as JSON builtins. Raises EngineError."""
        self.warnings = []
        for key in _NO_EFFECT_QUERY & set(query):
            self.warnings.append(
                f"{op}: `{key}` has no effect on the local engine (one replica that applies every "
                "operation in order before answering)"
            )
        method = getattr(self, "op_" + op, None)
        if method is None:
            raise _unsupported(
                f"operation `{op}` is not supported by the local engine (qdrant-edge): it has no "
                "cluster, shard keys, snapshots, telemetry or server administration; use a Qdrant server"
            )
        try:
            # what would crash or poison the engine, then strict mode, then room on the disk
            guard.check(op, path, body, lambda: self._config_of(path))
            self._check_strict(op, path, query, body)
            ct.check_space(op, self.root)
            return method(path, query, body)
        except EngineError:
            raise
        except guard.Rejected as e:
            if e.status == 400:  # what Qdrant itself refuses (dimension, vector name): its own text
                raise EngineError(400, e.text) from None
            raise EngineError(e.status, f"{op}: {e}", kind=wire.KIND_INVALID) from None
        except ct.DiskFull as e:
            raise EngineError(507, str(e), kind=wire.KIND_DISK_FULL) from None
        except cv.NeedsInference as e:
            raise _unsupported(f"{op}: {e}") from None
        except Exception as e:  # noqa: BLE001 - qdrant-edge raises plain Exception with a message
            raise _fault(op, e) from None
        except BaseException as e:
            if not ct.is_panic(e):
                raise
            raise self._after_panic(op, path, e) from None

    def _config_of(self, path: dict) -> dict | None:
        name = path.get("collection_name")
        entry = self.catalog.collections.get(self.catalog.aliases.get(name, name))
        return entry.config if entry is not None else None

    def _after_panic(self, op: str, path: dict, e: BaseException) -> EngineError:
        """The error for an operation the engine panicked on. The collection's shard may hold
        poisoned state (qdrant-edge re-applies a failed operation before the next one): it is
        dropped and reopened from disk; if that fails too, the collection alone is reported
        damaged (``shard``)."""
        _print_exc()
        name = path.get("collection_name")
        name = self.catalog.aliases.get(name, name)
        message = f"{op}: the embedded engine (qdrant-edge) panicked: {e}"
        if name in self.catalog.collections:
            message = f"{op}: the embedded engine (qdrant-edge) panicked on collection `{name}`: {e}"
            if self.side.building(name):  # its copy saw the same updates: drop it with the shard
                assert self.side.current is not None
                self.side.current.cancel("the engine panicked on the collection")
            shard = self.shards.pop(name, None)
            if shard is not None:
                try:
                    shard.close()
                except BaseException as close_error:  # noqa: BLE001
                    if not isinstance(close_error, Exception) and not ct.is_panic(close_error):
                        raise
                del shard
            try:
                self.shard(name)
                message += ". The operation may not have been applied; the collection was reopened and works"
            except EngineError as reopen:
                message += f". {reopen.message}"
        return EngineError(500, message, kind=wire.KIND_PANIC)

    # -- helpers --------------------------------------------------------------------------

    def _check_strict(self, op: str, path: dict, query: dict, body: Any) -> None:
        """Strict mode (strict.py), when the collection enables it."""
        raw = path.get("collection_name")
        if raw is None:
            return
        try:
            name = self.resolve(raw)
        except EngineError:
            return  # the operation itself answers the missing collection
        entry = self.catalog.collections[name]
        if not (entry.config.get("strict_mode_config") or {}).get("enabled"):
            return
        self.strict.check(
            name,
            entry.config,
            entry.field_schemas,
            op,
            query,
            body,
            lambda payload: self._storage_stats(name, payload),
        )

    def _storage_stats(self, name: str, payload: bool) -> tuple[int, int, int]:
        """(vector bytes, payload bytes, points) of a collection, estimated as Qdrant's strict mode
        does from its own figures: dense vectors as float32 by dimension, payloads as JSON (read
        only when ``payload``: it means a scroll through the collection)."""
        shard = self.shard(name)
        points = shard.info().points_count
        vectors = self.catalog.collections[name].config.get("vectors") or {}
        dense = [vectors] if "size" in vectors else list(vectors.values())
        vector_bytes = points * sum(int(v.get("size", 0)) * 4 for v in dense)
        payload_bytes = 0
        offset = None
        while payload:
            records, offset = shard.scroll(
                qe.ScrollRequest(offset=offset, limit=1024, with_payload=True, with_vector=False)
            )
            payload_bytes += sum(len(msgspec.json.encode(r.payload)) for r in records if r.payload)
            if offset is None:
                break
        return vector_bytes, payload_bytes, points

    def names(self) -> dict:
        """The names the parent serves catalog-only operations from (see ``protocol.CATALOG_CHANGING``)."""
        return {"collections": sorted(self.catalog.collections), "aliases": dict(self.catalog.aliases)}

    def resolve(self, name: str) -> str:
        if name in self.catalog.collections:
            return name
        target = self.catalog.aliases.get(name)
        if target is not None and target in self.catalog.collections:
            return target
        raise _not_found(name)

    def _collection(self, path: dict, *, keep_pending: bool = False) -> tuple[str, Any]:
        """The collection's name and shard, with its deferred payload indexes built unless the
        operation cannot observe them (``keep_pending``: unconditional upserts)."""
        name = self.resolve(path["collection_name"])
        shard = self.shard(name)
        if not keep_pending and name in self.pending:
            self._build_pending(name, shard)
        return name, shard

    def _no_shard_key(self, body: Any) -> None:
        if isinstance(body, dict) and body.get("shard_key") is not None:
            raise _unsupported("shard keys are not supported by the local engine (one shard per collection)")

    def _vector_index_built(self, name: str, shard: Any) -> bool:
        if name in self.built:
            return True
        # sparse vectors count as indexed as soon as they are written: only judge dense-only ones
        if self.catalog.collections[name].config.get("sparse_vectors"):
            return False
        return shard.info().indexed_vectors_count > 0

    def _update_result(self, name: str) -> dict:
        op_id = self.op_ids.get(name, 0)
        self.op_ids[name] = op_id + 1
        self.dirty.add(name)
        self.last_write = time.monotonic()
        return {"operation_id": op_id, "status": "completed"}

    def _apply(self, name: str, shard: Any, operation: Any) -> dict:
        shard.update(operation)
        return self._update_result(name)


def _fault(op: str, e: Exception) -> EngineError:
    """The error answered for an exception raised while running ``op``: Qdrant's text where it
    is one Qdrant answers, never a Python exception's text dressed as one."""
    if isinstance(e, cv.ConversionError):  # our own text: a value the engine cannot take
        return _bad(f"{op}: invalid request: {e}")
    if isinstance(e, KeyError):  # a field the operation needs is not there
        return qx.missing_field(e.args[0] if e.args else "")
    if isinstance(e, ValueError):  # the binding checks some values itself: Qdrant's text when known
        known = qx.from_binding(e)
        return known if known is not None else _bad(f"{op}: invalid request: {type(e).__name__}: {e}")
    if isinstance(e, (TypeError, OverflowError)):  # a value the binding cannot convert
        return _bad(f"{op}: invalid request: {type(e).__name__}: {e}")
    if type(e) is not Exception:  # a Python error of the wrapper itself (a bug): reported as one
        _print_exc()
        return qx.service_error(f"{op}: {type(e).__name__}: {e}")
    return qx.from_engine(str(e))  # qdrant-edge: a plain Exception carrying the segment's text


def _optimizers(cfg: dict) -> dict:
    """The collection's optimizer settings that decide whether a build is due."""
    given = {k: v for k, v in (cfg.get("optimizers_config") or {}).items() if v is not None}
    return {"indexing_threshold": 10000, **given}


def _needs_indexing(cfg: dict, info: Any, opt: dict) -> bool:
    """Whether writes since the last optimizer run leave enough unindexed dense vectors for the
    engine's optimizer to build an index (``indexing_threshold`` is in KB, like the server's)."""
    threshold = opt.get("indexing_threshold")
    if not threshold:
        return False
    vectors = cfg.get("vectors") or {}
    dense = [vectors] if "size" in vectors and "distance" in vectors else list(vectors.values())
    if not dense:
        return False
    per_point = sum(int(v.get("size", 0)) * 4 for v in dense)
    n_vectors = len(dense) + len(cfg.get("sparse_vectors") or {})
    unindexed = info.points_count - info.indexed_vectors_count / max(1, n_vectors)
    return unindexed * per_point / 1024 >= threshold


_lock_root = sl.lock
_unlock = sl.unlock
