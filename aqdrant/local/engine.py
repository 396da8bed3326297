"""The engine process: qdrant-edge shards behind a msgspec frame protocol on stdin/stdout.

qdrant-edge-py 0.9.0 holds the GIL for the whole of every call (an index build can take
minutes), so the shards live here, in a process of their own, and the caller's event loop only
ever waits on a pipe. ``LocalBackend`` imports this file as the top-level module ``engine`` (a
faster start: only msgspec, qdrant_edge and its two sibling modules, from cached bytecode) and
calls ``main()`` with ``ROOT [--temporary] [--no-optimize] [--idle=SECONDS] [--lock-fd=FD]``; ``python
engine.py ...`` and ``python -m aqdrant.local.engine ...`` work too.

Protocol: every frame is a 4-byte big-endian length followed by a msgpack map.

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
import struct
import sys
import time
import types
from typing import Any, BinaryIO

import msgspec
import qdrant_edge as qe

if __package__:
    from . import catalog as cat
    from . import containment as ct
    from . import convert as cv
    from . import guard, sidebuild, strict
    from . import qerrors as qx
    from . import semantics as sem
    from . import storelock as sl
else:  # imported as `engine` by LocalBackend's boot: a faster start, without the aqdrant package
    import catalog as cat  # type: ignore[no-redef]
    import containment as ct  # type: ignore[no-redef]
    import convert as cv  # type: ignore[no-redef]
    import guard  # type: ignore[no-redef]
    import qerrors as qx  # type: ignore[no-redef]
    import semantics as sem  # type: ignore[no-redef]
    import sidebuild  # type: ignore[no-redef]
    import storelock as sl  # type: ignore[no-redef]
    import strict  # type: ignore[no-redef]


def _rmtree(path: str) -> None:
    import shutil  # here, not at the top: 3 ms of every engine start for a rare call

    shutil.rmtree(path, ignore_errors=True)


def _print_exc() -> None:
    import traceback  # here, not at the top: 3 ms of every engine start for a rare call

    traceback.print_exc()


# pinned in pyproject (the binding's API changes between releases); reading package metadata
# would cost 20 ms of every engine start
ENGINE_VERSION = "0.9.0"

_HEADER = struct.Struct(">I")
LOCK_FILE = sl.LOCK_FILE


#: an error reported to the caller, with Qdrant's text and status when it is one Qdrant answers
#: (qerrors.py holds the table); ``kind``: status | unsupported | validation | deadline | invalid
#: (refused by guard.py) | panic | damaged | disk_full (containment.py)
EngineError = qx.QdrantFault


def _not_found(name: str) -> EngineError:
    return qx.collection_not_found(name)


def _unsupported(message: str) -> EngineError:
    return EngineError(501, message, kind="unsupported")


def _bad(message: str) -> EngineError:
    return EngineError(400, message)


_HEALTH = {
    "healthz": "healthz check passed",
    "livez": "healthz check passed",
    "readyz": "all shards are ready",
}

# Query/body keys that have no meaning on one local shard. ``consistency`` and ``ordering`` ask
# for guarantees among replicas: the local engine is one replica that applies every operation in
# order before answering, so they are satisfied (and reported with a warning when given).
_NO_EFFECT_QUERY = {"consistency", "ordering"}

# The operations that may change collection names or aliases: their replies (success or error)
# carry ``"catalog": Engine.names()``, and the first frame carries it too, so the parent keeps an
# exact copy and answers catalog-only operations (collection_exists, get_collections, aliases,
# health) without a round trip.
CATALOG_CHANGING = frozenset({"create_collection", "delete_collection", "update_aliases"})


class Engine:
    """Every collection of one root directory. Synchronous: the process serves it one call at a time."""

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
        self.op_counter = 0
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
                raise EngineError(500, self.broken[name], kind="damaged")
            entry = self.catalog.collections[name]
            try:
                shard = qe.EdgeShard.load(os.path.join(self.root, entry.dir))
            except BaseException as e:  # a panic included: this collection alone is unusable
                if not isinstance(e, Exception) and not ct.is_panic(e):
                    raise
                self.broken[name] = ct.damaged_message(name, e)
                print(f"aqdrant engine: {self.broken[name]}", file=sys.stderr)
                raise EngineError(500, self.broken[name], kind="damaged") from None
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
            raise EngineError(e.status, f"{op}: {e}", kind="invalid") from None
        except ct.DiskFull as e:
            raise EngineError(507, str(e), kind="disk_full") from None
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
        return EngineError(500, message, kind="panic")

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
        """The names the parent serves catalog-only operations from (see ``CATALOG_CHANGING``)."""
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
        self.op_counter += 1
        self.dirty.add(name)
        self.last_write = time.monotonic()
        return {"operation_id": self.op_counter, "status": "completed"}

    # -- service --------------------------------------------------------------------------

    def op_root(self, path: dict, query: dict, body: Any) -> Any:
        return {"title": "aqdrant local engine (qdrant-edge)", "version": ENGINE_VERSION}

    def op_healthz(self, path: dict, query: dict, body: Any) -> Any:
        return _HEALTH["healthz"]

    def op_livez(self, path: dict, query: dict, body: Any) -> Any:
        return _HEALTH["livez"]

    def op_readyz(self, path: dict, query: dict, body: Any) -> Any:
        return _HEALTH["readyz"]

    def op_optimize(self, path: dict, query: dict, body: Any) -> Any:
        """Not an API operation: ``LocalBackend.optimize`` builds indexes now."""
        name, shard = self._collection(path)
        self.dirty.discard(name)
        built = shard.optimize()
        if built:
            self.built.add(name)
        return built

    # -- collections ----------------------------------------------------------------------

    def op_get_collections(self, path: dict, query: dict, body: Any) -> Any:
        return {"collections": [{"name": n} for n in sorted(self.catalog.collections)]}

    def op_collection_exists(self, path: dict, query: dict, body: Any) -> Any:
        # an alias counts, as on the server (its `collection_exists` resolves aliases)
        name = path["collection_name"]
        exists = (
            name in self.catalog.collections or self.catalog.aliases.get(name) in self.catalog.collections
        )
        return {"exists": exists}

    def op_create_collection(self, path: dict, query: dict, body: Any) -> Any:
        name = path["collection_name"]
        body = body or {}
        _check_name(name)
        if name in self.catalog.collections:
            raise qx.collection_exists(name)
        if name in self.catalog.aliases:
            raise qx.alias_name_taken(name)
        self._check_create_options(body)
        config = cv.edge_config(body)
        entry = cat.CollectionEntry(dir=self.catalog.new_dir(), config=body, created_at=time.time())
        shard_dir = os.path.join(self.root, entry.dir)
        shard = qe.EdgeShard.create(shard_dir, config)
        self.catalog.collections[name] = entry
        try:
            cat.save(self.root, self.catalog)
        except BaseException:
            del self.catalog.collections[name]
            shard.close()
            _rmtree(shard_dir)
            raise
        self.shards[name] = shard
        return True

    def _check_create_options(self, body: dict) -> None:
        if body.get("sharding_method") == "custom":
            raise _unsupported("custom sharding (shard keys) is not supported by the local engine")
        if body.get("init_from") is not None:
            raise _unsupported("init_from is not supported by the local engine")
        for key in ("shard_number", "replication_factor", "write_consistency_factor"):
            if body.get(key) not in (None, 1):
                self.warnings.append(
                    f"create_collection: `{key}` has no effect on the local engine (one shard, one replica)"
                )
        for key in ("wal_config",):
            if body.get(key) is not None:
                self.warnings.append(
                    f"create_collection: `{key}` is kept in the config but not applied by the local engine"
                )
        opt = body.get("optimizers_config") or {}
        for key in ("memmap_threshold", "flush_interval_sec", "max_optimization_threads"):
            if opt.get(key) is not None:
                self.warnings.append(
                    f"create_collection: optimizers_config.{key} has no effect on the local engine"
                )

    def op_delete_collection(self, path: dict, query: dict, body: Any) -> Any:
        name = path["collection_name"]
        entry = self.catalog.collections.get(name)
        if entry is None:
            return False  # the server answers `false` for a collection that does not exist
        shard = self.shards.pop(name, None)
        if shard is not None:
            shard.close()
        self.pending.pop(name, None)
        del self.catalog.collections[name]
        aliases = {a: c for a, c in self.catalog.aliases.items() if c == name}
        for a in aliases:
            del self.catalog.aliases[a]
        cat.save(self.root, self.catalog)
        self.dirty.discard(name)
        _rmtree(os.path.join(self.root, entry.dir))
        return True

    def op_get_collection(self, path: dict, query: dict, body: Any) -> Any:
        name, shard = self._collection(path)
        entry = self.catalog.collections[name]
        info = shard.info()
        cfg = entry.config
        params: dict[str, Any] = {
            "shard_number": cfg.get("shard_number") or 1,
            "replication_factor": cfg.get("replication_factor") or 1,
            "write_consistency_factor": cfg.get("write_consistency_factor") or 1,
            "on_disk_payload": cfg.get("on_disk_payload", True),
        }
        for key in ("read_fan_out_factor", "read_fan_out_delay_ms"):
            if cfg.get(key) is not None:
                params[key] = cfg[key]
        params["vectors"] = cfg["vectors"] if cfg.get("vectors") is not None else {}
        if cfg.get("sparse_vectors") is not None:
            params["sparse_vectors"] = cfg["sparse_vectors"]
        if cfg.get("payload") is not None:
            params["payload"] = cfg["payload"]
        hnsw = {
            "m": 16,
            "ef_construct": 100,
            "full_scan_threshold": 10000,
            "max_indexing_threads": 0,
            "on_disk": False,
        }
        hnsw.update({k: v for k, v in (cfg.get("hnsw_config") or {}).items() if v is not None})
        opt = {
            "deleted_threshold": 0.2,
            "vacuum_min_vector_number": 1000,
            "default_segment_number": 0,
            "indexing_threshold": 10000,
            "flush_interval_sec": 5,
        }
        opt.update({k: v for k, v in (cfg.get("optimizers_config") or {}).items() if v is not None})
        wal = {"wal_capacity_mb": 32, "wal_segments_ahead": 0}
        wal.update({k: v for k, v in (cfg.get("wal_config") or {}).items() if v is not None})
        config: dict[str, Any] = {
            "params": params,
            "hnsw_config": hnsw,
            "optimizer_config": opt,
            "wal_config": wal,
        }
        for key in ("quantization_config", "strict_mode_config", "metadata"):
            if cfg.get(key) is not None:
                config[key] = cfg[key]
        schema: dict[str, Any] = {}
        for field, pinfo in info.payload_schema.items():
            given = entry.field_schemas.get(field)
            item: dict[str, Any] = {"data_type": _schema_type_name(pinfo.data_type), "points": pinfo.points}
            if isinstance(given, dict):
                item["params"] = given
            schema[field] = item
        return {
            "status": "yellow"
            if self.side.building(name) or (name in self.dirty and _needs_indexing(cfg, info, opt))
            else "green",
            "optimizer_status": "ok",
            "points_count": info.points_count,
            "indexed_vectors_count": info.indexed_vectors_count,
            "segments_count": info.segments_count,
            "config": config,
            "payload_schema": schema,
        }

    def op_update_collection(self, path: dict, query: dict, body: Any) -> Any:
        name, shard = self._collection(path)
        body = body or {}
        entry = self.catalog.collections[name]
        new = msgspec.json.decode(msgspec.json.encode(entry.config))
        params = {k: v for k, v in (body.get("params") or {}).items() if v is not None}
        if set(params) - {"on_disk_payload"}:
            self.warnings.append(
                "update_collection: `params` (replication, fan-out...) are recorded in the config but have "
                "no effect on the local engine (one shard, one replica)"
            )
        new.update(params)  # as Qdrant: the collection's params now say so
        for key in ("hnsw_config", "optimizers_config", "strict_mode_config"):
            if body.get(key) is not None:
                new[key] = {**(new.get(key) or {}), **body[key]}
        if body.get("metadata") is not None:
            # as Qdrant: merged into the existing metadata, where a key set to null is removed; a
            # collection without metadata takes the given one whole (nulls included)
            if new.get("metadata") is None:
                new["metadata"] = body["metadata"]
            else:
                merged = {**new["metadata"], **body["metadata"]}
                new["metadata"] = {k: v for k, v in merged.items() if v is not None}
        if "quantization_config" in body and body["quantization_config"] is not None:
            qc = body["quantization_config"]
            new["quantization_config"] = None if qc == "Disabled" else qc
        if body.get("vectors"):
            vectors = new.get("vectors")
            if isinstance(vectors, dict) and "size" in vectors:
                vectors = {"": vectors}
            for vname, diff in body["vectors"].items():
                if vectors is None or vname not in vectors:
                    raise qx.vector_params_not_found(vname)
                vectors[vname] = {**vectors[vname], **{k: v for k, v in diff.items() if v is not None}}
            new["vectors"] = vectors[""] if list(vectors) == [""] else vectors
        if body.get("sparse_vectors"):
            sparse = new.get("sparse_vectors") or {}
            for vname, diff in body["sparse_vectors"].items():
                if vname not in sparse:
                    raise qx.sparse_params_not_found(vname)
                merged = dict(sparse[vname] or {})
                if diff.get("index"):
                    merged["index"] = {**(merged.get("index") or {}), **diff["index"]}
                if diff.get("modifier") is not None:
                    merged["modifier"] = diff["modifier"]
                sparse[vname] = merged
            new["sparse_vectors"] = sparse
        new = {k: v for k, v in new.items() if v is not None}
        config = cv.edge_config(new)
        if _modifiers(new) != _modifiers(entry.config):
            # the engine keeps a sparse vector's modifier in its segments: a new one needs a new shard
            self._rebuild(name, new, config)
            return True
        shard_dir = os.path.join(self.root, entry.dir)
        shard.close()
        del self.shards[name]
        try:
            self.shards[name] = qe.EdgeShard.load(shard_dir, config)
        except Exception as e:  # noqa: BLE001
            self.shards[name] = qe.EdgeShard.load(shard_dir)
            raise _bad(f"update_collection: the engine rejected the new config: {e}") from None
        entry.config = new
        cat.save(self.root, self.catalog)
        self.dirty.add(name)
        return True

    def _rebuild(self, name: str, new: dict, config: Any) -> None:
        """Replace collection ``name``'s shard by one made with ``config``, holding the same points
        and payload indexes (a change the engine cannot apply to existing segments)."""
        entry = self.catalog.collections[name]
        old = self.shard(name)
        new_dir = self.catalog.new_dir()
        path = os.path.join(self.root, new_dir)
        shard = qe.EdgeShard.create(path, config)
        try:
            offset = None
            while True:
                records, offset = old.scroll(
                    qe.ScrollRequest(offset=offset, limit=256, with_payload=True, with_vector=True)
                )
                if records:
                    points = [qe.Point(r.id, r.vector or {}, r.payload) for r in records]
                    shard.update(qe.UpdateOperation.upsert_points(points))
                if offset is None:
                    break
            pending = self.pending.get(name, {})
            for field, schema in entry.field_schemas.items():
                if field not in pending:
                    shard.update(qe.UpdateOperation.create_field_index(field, cv.field_schema_in(schema)))
        except BaseException:
            shard.close()
            _rmtree(path)
            raise
        old.close()
        old_dir, entry.dir, entry.config = entry.dir, new_dir, new
        self.shards[name] = shard
        cat.save(self.root, self.catalog)
        _rmtree(os.path.join(self.root, old_dir))
        self.built.discard(name)
        self.dirty.add(name)

    def op_create_vector_name(self, path: dict, query: dict, body: Any) -> Any:
        name, shard = self._collection(path)
        vname = path["vector_name"]
        entry = self.catalog.collections[name]
        cfg = entry.config
        if "dense" in body:
            d = body["dense"]
            mv = d.get("multivector_config")
            op = qe.UpdateOperation.create_dense_vector(
                vname,
                int(d["size"]),
                cv.distance(d["distance"]),
                multivector_config=qe.MultiVectorConfig(
                    cv._enum(qe.MultiVectorComparator, mv["comparator"], cv._MULTI)
                )
                if mv
                else None,
                datatype=cv.datatype(d.get("datatype")),
            )
            vectors = cfg.get("vectors")
            if isinstance(vectors, dict) and "size" in vectors and "distance" in vectors:
                raise _bad(
                    "create_vector_name: the collection has one unnamed vector; named vectors cannot be added"
                )
            result = self._apply(name, shard, op)
            cfg["vectors"] = {**(vectors or {}), vname: {k: v for k, v in d.items() if v is not None}}
        else:
            sp = body["sparse"]
            modifier = sp.get("modifier")
            op = qe.UpdateOperation.create_sparse_vector(
                vname,
                modifier=qe.Modifier.Idf if modifier == "idf" else None,
                datatype=cv.datatype(sp.get("datatype")),
            )
            result = self._apply(name, shard, op)
            index = {"datatype": sp["datatype"]} if sp.get("datatype") else None
            cfg["sparse_vectors"] = {
                **(cfg.get("sparse_vectors") or {}),
                vname: {k: v for k, v in (("modifier", modifier), ("index", index)) if v is not None},
            }
        cat.save(self.root, self.catalog)
        return result

    def op_delete_vector_name(self, path: dict, query: dict, body: Any) -> Any:
        name, shard = self._collection(path)
        vname = path["vector_name"]
        result = self._apply(name, shard, qe.UpdateOperation.delete_vector_name(vname))
        cfg = self.catalog.collections[name].config
        vectors = cfg.get("vectors")
        if (
            isinstance(vectors, dict)
            and vname in vectors
            and not ("size" in vectors and "distance" in vectors)
        ):
            del vectors[vname]
        if vname in (cfg.get("sparse_vectors") or {}):
            del cfg["sparse_vectors"][vname]
        cat.save(self.root, self.catalog)
        return result

    # -- aliases --------------------------------------------------------------------------

    def op_update_aliases(self, path: dict, query: dict, body: Any) -> Any:
        aliases = dict(self.catalog.aliases)
        for action in body["actions"]:
            if "create_alias" in action:
                a = action["create_alias"]
                if a["collection_name"] not in self.catalog.collections:
                    raise _not_found(a["collection_name"])
                if a["alias_name"] in self.catalog.collections:
                    raise qx.collection_exists(a["alias_name"])
                aliases[a["alias_name"]] = a["collection_name"]
            elif "delete_alias" in action:
                # as Qdrant: deleting an alias that does not exist is not an error
                aliases.pop(action["delete_alias"]["alias_name"], None)
            elif "rename_alias" in action:
                a = action["rename_alias"]
                target = aliases.pop(a["old_alias_name"], None)
                if target is None:
                    raise qx.alias_not_found(a["old_alias_name"])
                aliases[a["new_alias_name"]] = target
            else:
                raise _bad(f"update_aliases: unknown action {sorted(action)!r}")
        self.catalog.aliases = aliases
        cat.save(self.root, self.catalog)
        return True

    def op_get_collection_aliases(self, path: dict, query: dict, body: Any) -> Any:
        name = path["collection_name"]
        if name not in self.catalog.collections:
            raise _not_found(name)
        return {
            "aliases": [
                {"alias_name": a, "collection_name": c}
                for a, c in sorted(self.catalog.aliases.items())
                if c == name
            ]
        }

    def op_get_collections_aliases(self, path: dict, query: dict, body: Any) -> Any:
        return {
            "aliases": [
                {"alias_name": a, "collection_name": c} for a, c in sorted(self.catalog.aliases.items())
            ]
        }

    # -- point updates --------------------------------------------------------------------

    def _apply(self, name: str, shard: Any, operation: Any) -> dict:
        shard.update(operation)
        return self._update_result(name)

    def op_upsert_points(self, path: dict, query: dict, body: Any) -> Any:
        name, shard = self._collection(path, keep_pending=body.get("update_filter") is None)
        return self._upsert(name, shard, body)

    def _upsert(self, name: str, shard: Any, body: dict) -> dict:
        self._no_shard_key(body)
        if "points" in body:
            given = body["points"]
            points = cv.points_in(
                [p["id"] for p in given], [p["vector"] for p in given], [p.get("payload") for p in given]
            )
        else:
            batch = body["batch"]
            ids = batch["ids"]
            vectors = batch["vectors"]
            payloads = batch.get("payloads") or [None] * len(ids)
            if isinstance(vectors, dict):
                per_point = [
                    {vname: vs[i] for vname, vs in vectors.items() if vs[i] is not None}
                    for i in range(len(ids))
                ]
            else:
                per_point = list(vectors)
            if not (len(per_point) == len(ids) == len(payloads)):
                raise _bad("upsert_points: batch ids, vectors and payloads must have the same length")
            points = cv.points_in(ids, per_point, payloads)
        mode = body.get("update_mode")
        op = qe.UpdateOperation.upsert_points(
            points,
            condition=cv.filter_in(body.get("update_filter")),
            update_mode=cv._enum(qe.UpdateMode, mode) if mode else None,
        )
        return self._apply(name, shard, op)

    def _selector(self, body: dict) -> tuple[list | None, Any]:
        self._no_shard_key(body)
        if body.get("points") is not None:
            return [cv.pid_in(p) for p in body["points"]], None
        if body.get("filter") is not None:
            return None, cv.filter_in(body["filter"])
        raise _bad("either `points` or `filter` must be given")

    def op_delete_points(self, path: dict, query: dict, body: Any) -> Any:
        name, shard = self._collection(path)
        return self._delete(name, shard, body)

    def _delete(self, name: str, shard: Any, body: dict) -> dict:
        ids, flt = self._selector(body)
        op = (
            qe.UpdateOperation.delete_points(ids)
            if ids is not None
            else qe.UpdateOperation.delete_points_by_filter(flt)
        )
        return self._apply(name, shard, op)

    def op_update_vectors(self, path: dict, query: dict, body: Any) -> Any:
        name, shard = self._collection(path)
        return self._update_vectors(name, shard, body)

    def _update_vectors(self, name: str, shard: Any, body: dict) -> dict:
        self._no_shard_key(body)
        pvs = [qe.PointVectors(cv.pid_in(p["id"]), cv.vector_in(p["vector"])) for p in body["points"]]
        op = qe.UpdateOperation.update_vectors(pvs, condition=cv.filter_in(body.get("update_filter")))
        return self._apply(name, shard, op)

    def op_delete_vectors(self, path: dict, query: dict, body: Any) -> Any:
        name, shard = self._collection(path)
        return self._delete_vectors(name, shard, body)

    def _delete_vectors(self, name: str, shard: Any, body: dict) -> dict:
        ids, flt = self._selector(body)
        names = list(body["vector"])
        if ids is not None:
            op = qe.UpdateOperation.delete_vectors(ids, names)
        else:
            op = qe.UpdateOperation.delete_vectors_by_filter(flt, names)
        return self._apply(name, shard, op)

    def op_set_payload(self, path: dict, query: dict, body: Any) -> Any:
        name, shard = self._collection(path)
        return self._set_payload(name, shard, body, overwrite=False)

    def op_overwrite_payload(self, path: dict, query: dict, body: Any) -> Any:
        name, shard = self._collection(path)
        return self._set_payload(name, shard, body, overwrite=True)

    def _set_payload(self, name: str, shard: Any, body: dict, overwrite: bool) -> dict:
        ids, flt = self._selector(body)
        U = qe.UpdateOperation
        payload, key = cv.payload_in(body["payload"]), body.get("key")
        if ids is not None:
            op = (U.overwrite_payload if overwrite else U.set_payload)(ids, payload, key=key)
        else:
            op = (U.overwrite_payload_by_filter if overwrite else U.set_payload_by_filter)(
                flt, payload, key=key
            )
        return self._apply(name, shard, op)

    def op_delete_payload(self, path: dict, query: dict, body: Any) -> Any:
        name, shard = self._collection(path)
        return self._delete_payload(name, shard, body)

    def _delete_payload(self, name: str, shard: Any, body: dict) -> dict:
        ids, flt = self._selector(body)
        keys = list(body["keys"])
        if ids is not None:
            op = qe.UpdateOperation.delete_payload(ids, keys)
        else:
            op = qe.UpdateOperation.delete_payload_by_filter(flt, keys)
        return self._apply(name, shard, op)

    def op_clear_payload(self, path: dict, query: dict, body: Any) -> Any:
        name, shard = self._collection(path)
        return self._clear_payload(name, shard, body)

    def _clear_payload(self, name: str, shard: Any, body: dict) -> dict:
        ids, flt = self._selector(body)
        op = (
            qe.UpdateOperation.clear_payload(ids)
            if ids is not None
            else qe.UpdateOperation.clear_payload_by_filter(flt)
        )
        return self._apply(name, shard, op)

    def op_batch_update(self, path: dict, query: dict, body: Any) -> Any:
        """Apply the operations one after another. NOT atomic: on a failure, the operations
        before it stay applied (the error says how many)."""
        unconditional_upserts = all(
            set(operation) == {"upsert"} and (operation["upsert"] or {}).get("update_filter") is None
            for operation in body["operations"]
        )
        name, shard = self._collection(path, keep_pending=unconditional_upserts)
        handlers = {
            "upsert": self._upsert,
            "delete": self._delete,
            "set_payload": lambda n, s, b: self._set_payload(n, s, b, overwrite=False),
            "overwrite_payload": lambda n, s, b: self._set_payload(n, s, b, overwrite=True),
            "delete_payload": self._delete_payload,
            "clear_payload": self._clear_payload,
            "update_vectors": self._update_vectors,
            "delete_vectors": self._delete_vectors,
        }
        results = []
        for i, operation in enumerate(body["operations"]):
            (kind, arg), *rest = operation.items()
            if rest or kind not in handlers:
                raise _bad(f"batch_update: unsupported operation {sorted(operation)!r} at index {i}")
            try:
                results.append(handlers[kind](name, shard, arg))
            except Exception as e:
                err = e if isinstance(e, EngineError) else _fault("batch_update", e)
                if i:  # the first one failing leaves nothing applied: Qdrant's text as it is
                    err.message = (
                        f"batch_update: operation {i} ({kind}) failed: {err.message}. The local engine "
                        f"applies batch operations one by one (not atomically): operations 0..{i - 1} "
                        "were applied"
                    )
                    err.args = (err.message,)
                raise err from None
        return results

    def op_create_field_index(self, path: dict, query: dict, body: Any) -> Any:
        name, shard = self._collection(path, keep_pending=True)
        schema = body.get("field_schema")
        if schema is None:
            raise _bad("create_field_index: `field_schema` is required by the local engine")
        field = body["field_name"]
        index = cv.field_schema_in(schema)  # a bad schema fails here, also when deferred
        pending = self.pending.get(name, {})
        if self.defer_indexes and (field in pending or shard.info().points_count == 0):
            self.pending[name] = {**pending, field: schema}
            self._declare_index(name, field, schema)
            return self._update_result(name)
        if self._vector_index_built(name, shard):
            self.warnings.append(
                f"create_field_index: `{field}` is indexed after the vector index was built; filtered "
                "searches on it may lose recall (the HNSW graph has no links for this field). Create "
                "payload indexes before loading data, or search with params.acorn.enable=true"
            )
        result = self._apply(name, shard, qe.UpdateOperation.create_field_index(field, index))
        self._declare_index(name, field, schema)
        return result

    def op_delete_field_index(self, path: dict, query: dict, body: Any) -> Any:
        name, shard = self._collection(path, keep_pending=True)
        field = path["field_name"]
        pending = self.pending.get(name, {})
        if field in pending:  # never built: nothing to remove from the shard
            del pending[field]
            if not pending:
                del self.pending[name]
            self._declare_index(name, field, None)
            return self._update_result(name)
        result = self._apply(name, shard, qe.UpdateOperation.delete_field_index(field))
        self._declare_index(name, field, None)
        return result

    # -- reads ----------------------------------------------------------------------------

    def op_get_points(self, path: dict, query: dict, body: Any) -> Any:
        _, shard = self._collection(path)
        self._no_shard_key(body)
        records = shard.retrieve(
            [cv.pid_in(i) for i in body["ids"]],
            cv.with_payload_in(body.get("with_payload"), True),
            cv.with_vector_in(body.get("with_vector"), False),
        )
        return cv.PointRows(records)

    def op_get_point(self, path: dict, query: dict, body: Any) -> Any:
        _, shard = self._collection(path)
        raw = path["id"]
        pid = cv.pid_in(int(raw) if isinstance(raw, str) and raw.isdigit() else raw)
        records = shard.retrieve([pid], True, True)
        if not records:
            raise qx.point_not_found(pid)
        return cv.record_out(records[0])

    def op_scroll_points(self, path: dict, query: dict, body: Any) -> Any:
        _, shard = self._collection(path)
        body = body or {}
        self._no_shard_key(body)
        order_by = body.get("order_by")
        req = qe.ScrollRequest(
            offset=cv.pid_in(body["offset"]) if body.get("offset") is not None else None,
            limit=int(body["limit"]) if body.get("limit") is not None else 10,
            filter=cv.filter_in(body.get("filter")),
            with_payload=cv.with_payload_in(body.get("with_payload"), True),
            with_vector=cv.with_vector_in(body.get("with_vector"), False),
            order_by=cv.order_by_in(order_by) if order_by is not None else None,
        )
        records, next_offset = shard.scroll(req)
        return {"points": cv.PointRows(records), "next_page_offset": cv.pid_out(next_offset)}

    def op_count_points(self, path: dict, query: dict, body: Any) -> Any:
        _, shard = self._collection(path)
        body = body or {}
        self._no_shard_key(body)
        exact = body.get("exact")
        return {
            "count": shard.count(
                qe.CountRequest(
                    exact=True if exact is None else bool(exact), filter=cv.filter_in(body.get("filter"))
                )
            )
        }

    def op_facet(self, path: dict, query: dict, body: Any) -> Any:
        _, shard = self._collection(path)
        self._no_shard_key(body)
        limit = int(body.get("limit") or 10)
        exact = bool(body.get("exact") or False)
        # Qdrant's approximate facet counts every value of the index and keeps the `limit` best
        # by (count desc, value asc); the engine's keeps `limit` as it goes and breaks ties at the
        # cut its own way (values of a multi-valued uuid field were skipped): every value is
        # asked for and the cut made here, as Qdrant makes it
        req = qe.FacetRequest(
            body["key"],
            limit=limit if exact else sem.FACET_ALL_VALUES,
            exact=exact,
            filter=cv.filter_in(body.get("filter")),
        )
        hits = shard.facet(req).hits
        if not exact:
            hits = sem.top_facet_hits(hits, limit)
        return {"hits": [{"value": h.value, "count": h.count} for h in hits]}

    # -- queries --------------------------------------------------------------------------

    def _vector_resolver(self, default_name: str) -> cv.VectorResolver:
        """Point ids used as vectors, resolved as Qdrant does: in ``lookup_from``'s collection
        when given (its ``vector``, else the query's ``using``), else in the searched one."""

        def resolve(pid: Any, using: str, lookup: Any) -> Any:
            coll = default_name
            vname = using
            if lookup:
                if lookup.get("shard_key") is not None:
                    raise _unsupported("shard keys are not supported by the local engine")
                coll = self.resolve(lookup["collection"])
                vname = lookup["vector"] if lookup.get("vector") is not None else using
                if not any(vname in names for names in sem.vector_names(self.catalog.collections[coll].config)):
                    raise qx.vector_name_not_exists(vname)
            records = self.shard(coll).retrieve([pid], False, True)
            if not records:
                raise qx.point_not_found(cv.pid_out(pid))
            vec = records[0].vector
            if isinstance(vec, dict):
                if vname not in vec:
                    raise qx.referenced_vector_not_found(vname)
                return vec[vname]
            if vname != "":
                raise qx.referenced_vector_not_found(vname)
            return vec

        return resolve

    def _prefetch(self, p: dict, resolver: cv.VectorResolver) -> Any:
        # a prefetch resolves its examples with its own `using` and `lookup_from`
        ctx = cv.QueryContext(resolver, p.get("using") or "", p.get("lookup_from"))
        limit = int(p["limit"]) if p.get("limit") is not None else 10
        ctx.limit = limit
        query = cv.query_in(p.get("query"), ctx)
        return qe.Prefetch(
            limit,
            query=query,
            prefetches=[self._prefetch(x, resolver) for x in cv._listify(p.get("prefetch"))] or None,
            params=cv.params_in(p.get("params")),
            filter=cv.filter_in(p.get("filter")),
            score_threshold=p.get("score_threshold"),
        )

    def _query_request(
        self,
        name: str,
        body: dict,
        *,
        limit: int | None = None,
        with_payload: Any = None,
        with_vector: Any = None,
    ) -> Any:
        self._no_shard_key(body)
        sem.check_query(body)
        sem.check_vector_names(body, self.catalog.collections[name].config)
        resolver = self._vector_resolver(name)
        ctx = cv.QueryContext(resolver, body.get("using") or "", body.get("lookup_from"))
        lim = limit if limit is not None else (int(body["limit"]) if body.get("limit") is not None else 10)
        ctx.limit = lim
        query = cv.query_in(body.get("query"), ctx)
        prefetches = [self._prefetch(p, resolver) for p in cv._listify(body.get("prefetch"))]
        # examples looked up in this collection (root or any prefetch) never come back as results;
        # the engine merges the root filter into every prefetch
        excluded = sem.referenced_ids(body, name)
        flt = cv.and_filter(
            body.get("filter"), [{"has_id": list(dict.fromkeys(excluded))}] if excluded else []
        )
        offset = int(body.get("offset") or 0)
        if isinstance(body.get("query"), dict) and "sample" in body["query"] and not prefetches:
            offset = 0  # as Qdrant: a random sample has no stable order to page through
        return qe.QueryRequest(
            limit=lim,
            offset=offset,
            query=query,
            prefetches=prefetches or None,
            with_vector=with_vector
            if with_vector is not None
            else cv.with_vector_in(body.get("with_vector"), False),
            with_payload=with_payload
            if with_payload is not None
            else cv.with_payload_in(body.get("with_payload"), False),
            filter=cv.filter_in(flt),
            score_threshold=body.get("score_threshold"),
            params=cv.params_in(body.get("params")),
        )

    def op_query_points(self, path: dict, query: dict, body: Any) -> Any:
        name, shard = self._collection(path)
        return {"points": self._query_rows(name, shard, body or {})}

    def _query_rows(self, name: str, shard: Any, body: dict) -> Any:
        if sem.sparse_mmr(body, self.catalog.collections[name].config):
            points = self._sparse_mmr(name, shard, body)
        else:
            points = shard.query(self._query_request(name, body))
        return cv.PointRows(points, scored=True, vectors=sem.wants_vectors(body))

    def _sparse_mmr(self, name: str, shard: Any, body: dict) -> list:
        """MMR on a sparse vector (the engine has it for dense ones only): the nearest
        ``candidates_limit`` points, re-ranked as Qdrant's MMR does (semantics.mmr_order)."""
        nearest = body["query"]["nearest"]
        mmr = body["query"]["mmr"] or {}
        limit = int(body["limit"]) if body.get("limit") is not None else 10
        offset = int(body.get("offset") or 0)
        candidates = mmr.get("candidates_limit")
        using = body.get("using") or ""
        plain = {**body, "query": {"nearest": nearest}, "offset": 0}
        plain["limit"] = int(candidates) if candidates is not None else limit
        wv = body.get("with_vector")
        req = self._query_request(name, plain, with_vector=True if sem.wants_vectors(body) else [using])
        if wv not in (None, False, True):
            req = self._query_request(name, plain, with_vector=sorted({*wv, using}))
        found = shard.query(req)
        ctx = cv.QueryContext(self._vector_resolver(name), using, body.get("lookup_from"))
        query_vec = ctx.vector(nearest)
        diversity = mmr.get("diversity")
        lam = 1.0 - (0.5 if diversity is None else float(diversity))
        return sem.mmr_order(found, query_vec, using, lam, limit + offset)[offset:]

    def op_query_batch_points(self, path: dict, query: dict, body: Any) -> Any:
        name, shard = self._collection(path)
        searches = body["searches"]
        cfg = self.catalog.collections[name].config
        plain = [i for i, b in enumerate(searches) if not sem.sparse_mmr(b, cfg)]
        requests = [self._query_request(name, searches[i]) for i in plain]
        results: dict[int, Any] = {}
        if requests:
            for i, points in zip(plain, shard.query_batch(qe.QueryBatchRequest(requests)), strict=True):
                results[i] = cv.PointRows(points, scored=True, vectors=sem.wants_vectors(searches[i]))
        out = []
        for i, b in enumerate(searches):
            out.append({"points": results[i] if i in results else self._query_rows(name, shard, b)})
        return out

    def op_query_points_groups(self, path: dict, query: dict, body: Any) -> Any:
        """Groups by a payload key, built from a growing query (the engine has no grouping)."""
        name, shard = self._collection(path)
        group_by = body["group_by"]
        group_size = int(body.get("group_size") or 3)
        n_groups = int(body.get("limit") or 10)
        fetch = max(n_groups * group_size * 4, 64)
        groups: dict[Any, list] = {}
        while True:
            req = self._query_request(
                name,
                sem.with_prefetch_limits(body, fetch),
                limit=fetch,
                with_payload=qe.PayloadSelector.Include([sem.path_root(group_by)]),
                with_vector=False,
            )
            hits = shard.query(req)
            groups = {}
            for h in hits:
                for key in _group_keys((h.payload or {}), group_by):
                    if key not in groups:
                        if len(groups) >= n_groups:
                            continue
                        groups[key] = []
                    if len(groups[key]) < group_size:
                        groups[key].append(h)
            exhausted = len(hits) < fetch
            full = len(groups) >= n_groups and all(len(v) >= group_size for v in groups.values())
            if exhausted or full or fetch >= 1_000_000:
                break
            fetch *= 4
        ids = list(dict.fromkeys(h.id for hs in groups.values() for h in hs))
        wp = cv.with_payload_in(body.get("with_payload"), False)
        wv = cv.with_vector_in(body.get("with_vector"), False)
        records = (
            {r.id: r for r in shard.retrieve(ids, wp, wv)}
            if ids and (wp is not False or wv is not False)
            else {}
        )
        lookup = body.get("with_lookup")
        lookup_records: dict[Any, Any] = {}
        if lookup is not None:
            lname = lookup if isinstance(lookup, str) else lookup["collection"]
            if lname not in self.catalog.collections and lname not in self.catalog.aliases:
                raise qx.lookup_collection_not_found(lname)
            lshard = self.shard(self.resolve(lname))
            lwp = True if isinstance(lookup, str) else cv.with_payload_in(lookup.get("with_payload"), True)
            lwv = False if isinstance(lookup, str) else cv.with_vector_in(lookup.get("with_vectors"), False)
            keys = [k for k in groups if not isinstance(k, str) or cv._is_point_id(k)]
            lookup_records = (
                {cv.pid_out(r.id): r for r in lshard.retrieve([cv.pid_in(k) for k in keys], lwp, lwv)}
                if keys
                else {}
            )
        out = []
        for key, hits in groups.items():
            group_hits = []
            for h in hits:
                item: dict[str, Any] = {"id": cv.pid_out(h.id), "version": h.version, "score": h.score}
                rec = records.get(h.id)
                if rec is not None:
                    if rec.payload is not None and wp is not False:
                        item["payload"] = rec.payload
                    if rec.vector is not None and wv is not False:
                        item["vector"] = cv.vector_out(rec.vector)
                group_hits.append(item)
            group: dict[str, Any] = {"id": key, "hits": group_hits}
            if lookup is not None:
                lk = cv.pid_in(key) if isinstance(key, int) or cv._is_point_id(key) else None
                rec = lookup_records.get(cv.pid_out(lk)) if lk is not None else None
                if rec is not None:
                    group["lookup"] = cv.record_out(rec)
            out.append(group)
        return {"groups": out}

    def _matrix(self, path: dict, body: Any) -> tuple[list, list]:
        """(sampled ids, [(i, j, score)]) for the search matrix ops, as Qdrant builds them
        (collection/distance_matrix.rs): a random sample of points having the vector, sorted by
        id; for each, its nearest among the sample (itself left out); under 2 points, nothing."""
        name, shard = self._collection(path)
        body = body or {}
        self._no_shard_key(body)
        using = body.get("using") or ""
        sample = int(body["sample"]) if body.get("sample") is not None else 10
        limit = int(body["limit"]) if body.get("limit") is not None else 3
        sem.check_vector_name(using, self.catalog.collections[name].config)
        if sample == 0 or limit == 0:
            return [], []
        flt = cv.and_filter(body.get("filter"), [])
        flt = dict(flt or {})
        flt["must"] = cv._listify(flt.get("must")) + [{"has_vector": using}]
        sampled = shard.query(
            qe.QueryRequest(
                limit=sample,
                query=qe.Sample.Random,
                filter=cv.filter_in(flt),
                with_vector=[using] if using else True,
            )
        )
        if len(sampled) < 2:
            return [], []
        by_id = {cv.pid_out(p.id): p for p in sampled}
        ids = sem.sort_ids(list(by_id))
        index = {pid: i for i, pid in enumerate(ids)}
        among = qe.Filter(must=[qe.HasIdCondition({cv.pid_in(x) for x in ids})])
        requests = []
        for pid in ids:
            vec = by_id[pid].vector
            vec = vec[using] if isinstance(vec, dict) else vec
            requests.append(
                qe.QueryRequest(
                    limit=limit + 1, query=qe.Query.Nearest(vec, using=using or None), filter=among
                )
            )
        triples = []
        for i, hits in enumerate(shard.query_batch(qe.QueryBatchRequest(requests))):
            others = [h for h in hits if cv.pid_out(h.id) != ids[i]]
            if len(others) == limit + 1:
                others.pop()
            triples += [(i, index[cv.pid_out(h.id)], h.score) for h in others]
        return ids, triples

    def op_search_matrix_pairs(self, path: dict, query: dict, body: Any) -> Any:
        ids, triples = self._matrix(path, body)
        return {"pairs": [{"a": ids[i], "b": ids[j], "score": s} for i, j, s in triples]}

    def op_search_matrix_offsets(self, path: dict, query: dict, body: Any) -> Any:
        ids, triples = self._matrix(path, body)
        return {
            "offsets_row": [i for i, _, _ in triples],
            "offsets_col": [j for _, j, _ in triples],
            "scores": [s for _, _, s in triples],
            "ids": ids,
        }


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


def _modifiers(cfg: dict) -> dict:
    return {n: (s or {}).get("modifier") for n, s in (cfg.get("sparse_vectors") or {}).items()}


def _group_keys(payload: dict, key: str) -> list:
    """The group ids a payload gives for ``key`` (a JSON path: ``a.b``, ``a[]``, ``a[].b``,
    ``a[2]``): strings and integers found there, arrays flattened, as Qdrant groups."""
    out: list = []
    for value in sem.path_values(payload, key):
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool)):
                if v not in out:
                    out.append(v)
    return out


def _schema_type_name(t: Any) -> str:
    return str(t).rsplit(".", 1)[-1].lower()


def _check_name(name: str) -> None:
    if not name or len(name) > 255 or any(c in name for c in '/\\:*?"<>|\0'):
        raise _bad(f"Wrong input: collection name `{name}` is not valid")


_lock_root = sl.lock
_unlock = sl.unlock
StorageLockedError = sl.StorageLockedError


# ---------------------------------------------------------------------------------------------
# process side

_encoder = msgspec.msgpack.Encoder()
EXT_F32_BLOB = 2
EXT_F64_BLOB = 3
_BLOB_REF = struct.Struct("<QII")
_BLOB_HEAD = struct.Struct(">Q")
_blob = types.SimpleNamespace(view=None, arrays=False)  # the frame being decoded


#: operations whose float arrays are decoded as ``array.array`` (rows of one array for a 2-D
#: one) instead of lists: the engine reads them as it reads lists, and a numpy batch of vectors
#: costs the engine half as much (no list of Python floats per vector); every value an update
#: body may hold an array in (vectors, payloads, filters) takes them (convert.py)
ARRAY_OPS = frozenset({"upsert_points", "update_vectors", "batch_update"})


def _ext_hook(code: int, data: memoryview) -> Any:
    """A float array sent as raw little-endian float32/float64 bytes in the frame's blob."""
    if code == EXT_F32_BLOB:
        fmt, size = "f", 4
    elif code == EXT_F64_BLOB:
        fmt, size = "d", 8
    else:
        raise ValueError(f"unknown msgpack extension type {code}")
    offset, rows, cols = _BLOB_REF.unpack(data)
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
    _blob.arrays = bool(blob) and _op_decoder.decode(data).op in ARRAY_OPS
    try:
        return _decoder.decode(data)
    finally:
        _blob.view = None


def _write(out: BinaryIO, *msgs: dict) -> None:
    for msg in msgs:
        data = _encoder.encode(msg)
        out.write(_HEADER.pack(len(data)) + data)
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
    data = _read_exact(inp, _HEADER.unpack(head)[0])
    if data is None:
        return None
    blob_head = _read_exact(inp, _BLOB_HEAD.size)
    if blob_head is None:
        return None
    blob = _read_exact(inp, _BLOB_HEAD.unpack(blob_head)[0])
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


CHUNK_POINTS = 256


def _reply_frames(rid: Any, result: Any, extra: dict) -> list[dict]:
    """The frames answering one request: the head, then the point lists' chunks.

    Point lists (``convert.PointRows``: at the top, in a field of the result, or in a field of
    each item of a list result) are cut out of the head's JSON; each list follows as frames of
    up to CHUNK_POINTS points, ``{"id", "chunk": JSON without vectors, "vectors": [one entry per
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
    head["lists"] = [[path, -(-len(rows) // CHUNK_POINTS)] for path, rows in lists]
    frames = [head]
    ext = msgspec.msgpack.Ext
    for _, rows in lists:
        out = cv.scored_out if rows.scored else cv.record_out
        records = rows.records
        for i in range(0, len(records), CHUNK_POINTS):
            chunk = records[i : i + CHUNK_POINTS]
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
        _write(out, {"id": 0, "ok": False, "error": {"kind": "locked", "status": 0, "message": str(e)}})
        return
    except cat.CatalogError as e:
        _write(out, {"id": 0, "ok": False, "error": {"kind": "storage", "status": 0, "message": str(e)}})
        return
    except Exception as e:  # noqa: BLE001
        _write(
            out,
            {
                "id": 0,
                "ok": False,
                "error": {"kind": "internal", "status": 0, "message": f"{type(e).__name__}: {e}"},
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
                    "version": ENGINE_VERSION,
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
                            "kind": "status",
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
                            "kind": "deadline",
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
                        "error": {"kind": "internal", "status": 500, "message": f"{type(e).__name__}: {e}"},
                    }
                ]
            if msg.get("op") in CATALOG_CHANGING:
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
