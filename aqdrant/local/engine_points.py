"""The engine's point updates: upserts, deletes, vectors, payloads, batches, and payload
indexes (created now or deferred, see ``EngineBase._build_pending``). A mixin of
``engine.Engine`` (see engine_base.py).
"""

from __future__ import annotations

from typing import Any

import qdrant_edge as qe

if __package__:
    from . import convert as cv
    from .engine_base import EngineBase, EngineError, _bad, _fault
else:  # a top-level sibling in the engine process (see engine.py)
    import convert as cv  # type: ignore[no-redef]
    from engine_base import EngineBase, EngineError, _bad, _fault  # type: ignore[no-redef]


class PointOps(EngineBase):
    """``op_`` methods that write points or payload indexes."""

    # -- point updates --------------------------------------------------------------------

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
