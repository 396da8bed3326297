"""The engine's service and catalog operations: health, collections (create, update, delete,
info), aliases and vector names. A mixin of ``engine.Engine`` (see engine_base.py).
"""

from __future__ import annotations

import os
import time
from typing import Any

import msgspec
import qdrant_edge as qe

if __package__:
    from . import catalog as cat
    from . import convert as cv
    from . import protocol as wire
    from . import qerrors as qx
    from .engine_base import EngineBase, _bad, _needs_indexing, _not_found, _rmtree, _unsupported
else:  # a top-level sibling in the engine process (see engine.py)
    import catalog as cat  # type: ignore[no-redef]
    import convert as cv  # type: ignore[no-redef]
    import protocol as wire  # type: ignore[no-redef]
    import qerrors as qx  # type: ignore[no-redef]
    from engine_base import EngineBase, _bad, _needs_indexing, _not_found, _rmtree, _unsupported  # type: ignore[no-redef]


class CollectionOps(EngineBase):
    """``op_`` methods that read or change the catalog and the collections' configs."""

    # -- service --------------------------------------------------------------------------

    def op_root(self, path: dict, query: dict, body: Any) -> Any:
        return {"title": wire.ROOT_TITLE, "version": wire.ENGINE_VERSION}

    def op_healthz(self, path: dict, query: dict, body: Any) -> Any:
        return wire.HEALTH["healthz"]

    def op_livez(self, path: dict, query: dict, body: Any) -> Any:
        return wire.HEALTH["livez"]

    def op_readyz(self, path: dict, query: dict, body: Any) -> Any:
        return wire.HEALTH["readyz"]

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
        self.op_ids.pop(name, None)
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


def _modifiers(cfg: dict) -> dict:
    return {n: (s or {}).get("modifier") for n, s in (cfg.get("sparse_vectors") or {}).items()}


def _schema_type_name(t: Any) -> str:
    return str(t).rsplit(".", 1)[-1].lower()


def _check_name(name: str) -> None:
    if not name or len(name) > 255 or any(c in name for c in '/\\:*?"<>|\0'):
        raise _bad(f"Wrong input: collection name `{name}` is not valid")
