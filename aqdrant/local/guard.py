"""The validation boundary in front of the embedded engine: every rule in one place.

qdrant-edge trusts its input. Some bad input makes it panic (the process would die), some is
written to the shard's WAL first and then fails on every replay (the collection could never be
opened again), and some is stored corrupt (a component beyond float32's range becomes ``inf``,
after which DOT queries and vector reads fail). :func:`check` refuses all of it in the engine
process, before the operation is built - so the rules hold for local mode, the dev server (REST
and gRPC) and ``validate_vectors=False`` alike - with the point id and the field named.

This is the last line, not the friendliest one: the dev server's 422 validation and the client's
pre-send checks answer earlier for their paths; nothing here depends on them.

The engine process imports this file as a top-level module (see engine.py): builtins and the
generated ``_spec_bounds`` beside it only.
"""

from __future__ import annotations

import array
import math
import sys
from collections.abc import Callable
from typing import Any

if __package__:
    from . import _spec_bounds
else:  # a top-level sibling in the engine process (see engine.py)
    import _spec_bounds  # type: ignore[no-redef]

#: the largest finite float32 (a larger value is stored as inf)
F32_MAX = 3.4028234663852886e38
#: Qdrant's bound on a dense vector's size: the spec states it on DenseVectorConfig.size only
MAX_VECTOR_SIZE: int = _spec_bounds.BOUNDS["DenseVectorConfig"]["size"][1]  # type: ignore[assignment]
#: sparse indices are u32 in the engine
MAX_SPARSE_INDEX = 2**32 - 1

#: (minimum, maximum) of numeric fields per schema, as the spec states them (generated from
#: qdrant-api/v1.19/openapi.json by tools/gen_models.py), with that cap on VectorParams.size too
BOUNDS = {
    **_spec_bounds.BOUNDS,
    "VectorParams": {**_spec_bounds.BOUNDS["VectorParams"], "size": (1, MAX_VECTOR_SIZE)},
}


class Rejected(ValueError):
    """The request would crash the engine, poison a shard or store corrupt data; nothing was
    written. ``point_id`` and ``field`` locate the value when it belongs to a point."""

    def __init__(
        self, message: str, *, point_id: Any = None, field: str | None = None, status: int = 422
    ) -> None:
        where = []
        if point_id is not None:
            where.append(f"point {point_id!r}")
        if field is not None:
            where.append(f"`{field}`")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
        self.point_id = point_id
        self.field = field
        #: the message without its location (Qdrant's own text for the 400s)
        self.text = message
        #: 422 for malformed values; 400 for values that do not fit the collection (as Qdrant)
        self.status = status


Config = Callable[[], "dict | None"]


def check(op: str, path: dict, body: Any, collection_config: Config) -> None:
    """Raise :class:`Rejected` if ``body`` of ``op`` must not reach the engine.

    ``collection_config()`` gives the target collection's stored config (create_vector_name
    needs its vector names); it is only called when needed.
    """
    rule = _RULES.get(op)
    if rule is not None and isinstance(body, dict):
        rule(body, path, collection_config)


# -- points ------------------------------------------------------------------------------------


class _Dense:
    """Dense rows of one request, checked together at the end: float arrays (a numpy batch
    from the client) in one vectorised pass, lists one C-level pass each."""

    __slots__ = ("groups", "rows", "schema", "where")

    def __init__(self, config: dict | None = None) -> None:
        #: vector name ("" for the unnamed one) -> (kind, size), kind dense | multi | sparse;
        #: None when the collection is unknown (the engine answers 404)
        self.schema = _schema(config)
        #: (float array rows, their point ids, field) - a whole column of a batch at once
        self.groups: list[tuple[list, list, str]] = []
        self.rows: list[array.array] = []
        self.where: list[tuple[Any, str]] = []

    def add(self, row: Any, pid: Any, field: str) -> None:
        if row.__class__ is array.array:
            self.rows.append(row)
            self.where.append((pid, field))
        else:
            _finite_row(row, pid, field)

    def kind(self, key: str, pid: Any, field: str) -> tuple[str, int] | None:
        """What the collection holds under vector name ``key``; refused if it has none."""
        if self.schema is None:
            return None
        found = self.schema.get(key)
        if found is None:
            raise Rejected(
                f"Wrong input: Not existing vector name error: {key}", point_id=pid, field=field, status=400
            )
        return found

    def add_column(self, rows: list, ids: list, field: str, key: str) -> bool:
        """A batch column of non-empty float arrays of the collection's size, the common numpy
        ingest: no per-point Python work at all. False (nothing taken) for any other column."""
        if not rows or not all(r.__class__ is array.array for r in rows) or not all(rows):
            return False
        if self.schema is not None:
            kind, size = self.schema.get(key, ("", 0))
            if kind not in ("dense", "multi") or any(len(r) != size for r in rows):
                return False  # judged point by point: the error names the point
        self.groups.append((rows, ids, field))
        return True

    def finish(self) -> None:
        groups: list[tuple[list, list, Any]] = list(self.groups)
        if self.rows:
            groups.append((self.rows, [pid for pid, _ in self.where], [f for _, f in self.where]))
        for rows, ids, fields in groups:
            if not _all_finite(rows):
                # the slow path, on bad input only: find and name the point
                for i, row in enumerate(rows):
                    pid = ids[i] if i < len(ids) else None
                    _finite_row(row, pid, fields if isinstance(fields, str) else fields[i])


# A float's exponent lives in its most significant byte: a scan of those bytes flags every NaN,
# inf and (conservatively) every huge value, without numpy (whose import would add 0.1-0.2 s to
# the engine's first write). Flagged rows are then judged exactly.
#: float64: exponent >= 1136 (|x| >= 2**113, NaN, inf): float32's range ends at 2**128
_HUGE_F64 = bytes(int(b & 0x7F >= 0x47) for b in range(256))
_HIGH_FIRST = sys.byteorder == "big"


def _all_finite(rows: list) -> bool:
    """Whether float arrays surely hold only finite values within float32's range: a pass in C
    over their most significant bytes (~0.1 us per 384-d row). False: look row by row."""
    code = rows[0].typecode
    if code not in "fd" or any(r.typecode != code for r in rows):
        return False  # mixed widths (never sent by the client): judged row by row
    size = rows[0].itemsize
    high = b"".join(rows)[0 if _HIGH_FIRST else size - 1 :: size]
    if size == 4:  # float32: exponent 255 (NaN, inf) or 254 (|x| >= 2**127): 0x7F/0xFF
        return 0x7F not in high and 0xFF not in high
    return 1 not in high.translate(_HUGE_F64)


def _finite_row(row: Any, pid: Any, field: str) -> None:
    """Every value a number within float32's finite range (NaN, inf and 1e39 are refused)."""
    try:
        # hypot is one C loop (~7 ns a value): NaN, inf or anything beyond float32 makes it
        # leave the range; only then is the row looked at value by value
        norm = math.hypot(*row)
    except (TypeError, OverflowError):
        norm = math.inf
    if norm <= F32_MAX:
        return
    for i, x in enumerate(row):
        if x.__class__ is bool or not isinstance(x, (int, float)):
            raise Rejected(f"value {i} is {x!r}, not a number", point_id=pid, field=field)
        if not abs(x) <= F32_MAX:  # NaN compares False
            raise Rejected(
                f"value {i} is {x!r}: vector values must be finite and within float32's range (|x| <= 3.4e38)",
                point_id=pid,
                field=field,
            )


def _is_sparse(v: Any) -> bool:
    return isinstance(v, dict) and "indices" in v and "values" in v


_ROWS = (list, array.array)


def _schema(config: dict | None) -> dict[str, tuple[str, int]] | None:
    if config is None:
        return None
    out: dict[str, tuple[str, int]] = {}
    for name, v in _dense_names(config.get("vectors")).items():
        if isinstance(v, dict):
            out[name] = ("multi" if v.get("multivector_config") else "dense", v.get("size"))
    for name in config.get("sparse_vectors") or ():
        out[name] = ("sparse", 0)
    return out


def _fits(found: tuple[str, int] | None, given: str, n: int, pid: Any, field: str) -> None:
    """A value of kind ``given`` (dense | multi | sparse) and ``n`` values a row fits the
    collection's vector. Refused up front: the engine would refuse it only part way (its WAL
    then replays the operation differently after a restart)."""
    if found is None:
        return
    kind, size = found
    if (kind == "sparse") != (given == "sparse"):
        what = "sparse" if "sparse" in (kind, given) else "multi"
        raise Rejected(f"Wrong input: Wrong usage of {what} vectors", point_id=pid, field=field, status=400)
    if given == "multi" and kind == "dense":
        raise Rejected("Wrong input: Wrong usage of multi vectors", point_id=pid, field=field, status=400)
    if kind != "sparse" and n != size:
        raise Rejected(
            f"Wrong input: Vector dimension error: expected dim: {size}, got {n}",
            point_id=pid,
            field=field,
            status=400,
        )


def _vector(v: Any, pid: Any, field: str, dense: _Dense, key: str) -> None:
    """One (named) vector of a point: dense, multivector or sparse, that fits the collection."""
    if v.__class__ is array.array:
        if not len(v):
            raise Rejected("a dense vector must have at least one value", point_id=pid, field=field)
        _fits(dense.kind(key, pid, field), "dense", len(v), pid, field)
        dense.add(v, pid, field)
    elif isinstance(v, list):
        if not v:
            raise Rejected("a dense vector must have at least one value", point_id=pid, field=field)
        if isinstance(v[0], _ROWS):
            _multivector(v, pid, field, dense)
            _fits(dense.kind(key, pid, field), "multi", len(v[0]), pid, field)
        else:
            if len(v) > MAX_VECTOR_SIZE:
                raise Rejected(
                    f"a dense vector has {len(v)} values, more than {MAX_VECTOR_SIZE}",
                    point_id=pid,
                    field=field,
                )
            _fits(dense.kind(key, pid, field), "dense", len(v), pid, field)
            dense.add(v, pid, field)
    elif _is_sparse(v):
        _sparse(v, pid, field)
        _fits(dense.kind(key, pid, field), "sparse", 0, pid, field)
    # anything else (inference objects, wrong types) is refused by convert.py without harm


def _multivector(v: list, pid: Any, field: str, dense: _Dense) -> None:
    width = len(v[0])
    for j, row in enumerate(v):
        if not isinstance(row, _ROWS):
            raise Rejected(f"row {j} of a multivector is not a list of numbers", point_id=pid, field=field)
        if not len(row):
            raise Rejected(
                f"row {j} of a multivector is empty (every row needs at least one value)",
                point_id=pid,
                field=field,
            )
        if len(row) != width:
            raise Rejected(
                f"a multivector's rows must all have the same length: row 0 has {width} values, row {j} has {len(row)}",
                point_id=pid,
                field=field,
            )
        dense.add(row, pid, f"{field}[{j}]")


def _sparse(v: dict, pid: Any, field: str) -> None:
    indices, values = v["indices"], v["values"]
    if not isinstance(indices, _ROWS) or not isinstance(values, _ROWS):
        raise Rejected("a sparse vector's indices and values must be lists", point_id=pid, field=field)
    if len(indices) != len(values):
        raise Rejected(
            f"a sparse vector's indices and values must have the same length ({len(indices)} indices, "
            f"{len(values)} values)",
            point_id=pid,
            field=field,
        )
    for i in indices:
        if i.__class__ is not int or not 0 <= i <= MAX_SPARSE_INDEX:
            raise Rejected(
                f"sparse index {i!r} is not an integer in 0..{MAX_SPARSE_INDEX}", point_id=pid, field=field
            )
    if len(set(indices)) != len(indices):
        seen: set[int] = set()
        dup = next(i for i in indices if i in seen or seen.add(i))  # type: ignore[func-returns-value]
        raise Rejected(f"sparse index {dup} appears more than once", point_id=pid, field=field)
    if values:
        _finite_row(values, pid, field)


def _vector_struct(v: Any, pid: Any, dense: _Dense) -> None:
    if isinstance(v, dict) and not _is_sparse(v):
        for name, x in v.items():
            _vector(x, pid, str(name), dense, str(name))
    elif v is not None:
        _vector(v, pid, "vector", dense, "")


def _upsert(body: dict, path: dict, cfg: Config) -> None:
    dense = _Dense(cfg())
    if isinstance(body.get("points"), list):
        hypot = math.hypot
        unnamed = dense.schema.get("", ("", -1)) if dense.schema is not None else ("dense", -1)
        inline = unnamed[0] in ("dense", "multi")
        for p in body["points"]:
            if p.__class__ is not dict:
                continue
            v = p.get("vector")
            # the common point, an unnamed dense list of floats, inline: one C pass, no calls
            if (
                inline
                and v.__class__ is list
                and v
                and v[0].__class__ is float
                and (len(v) == unnamed[1] or unnamed[1] == -1)
                and len(v) <= MAX_VECTOR_SIZE
            ):
                try:
                    if hypot(*v) <= F32_MAX:
                        continue
                except TypeError:
                    pass
            _vector_struct(v, p.get("id"), dense)
    elif isinstance(body.get("batch"), dict):
        batch = body["batch"]
        ids = batch.get("ids") or []
        vectors = batch.get("vectors")
        if isinstance(vectors, dict) and not _is_sparse(vectors):
            for name, column in vectors.items():
                if isinstance(column, list) and not dense.add_column(column, ids, str(name), str(name)):
                    for pid, x in zip(ids, column, strict=False):
                        if x is not None:
                            _vector(x, pid, str(name), dense, str(name))
        elif isinstance(vectors, list) and not dense.add_column(vectors, ids, "vector", ""):
            for pid, x in zip(ids, vectors, strict=False):
                _vector_struct(x, pid, dense)
    dense.finish()


def _update_vectors(body: dict, path: dict, cfg: Config) -> None:
    dense = _Dense(cfg())
    for p in body.get("points") or ():
        if isinstance(p, dict):
            v = p.get("vector")
            if isinstance(v, dict) and not v and p.get("id") is not None:
                raise Rejected("update_vectors needs at least one vector", point_id=p.get("id"))
            _vector_struct(v, p.get("id"), dense)
    dense.finish()


def _batch_update(body: dict, path: dict, cfg: Config) -> None:
    for i, operation in enumerate(body.get("operations") or ()):
        if not isinstance(operation, dict):
            continue
        for kind, rule in (("upsert", _upsert), ("update_vectors", _update_vectors)):
            arg = operation.get(kind)
            if isinstance(arg, dict):
                try:
                    rule(arg, path, cfg)
                except Rejected as e:
                    raise Rejected(
                        f"operation {i} ({kind}): {e}. Nothing was applied", status=e.status
                    ) from None


# -- configs -----------------------------------------------------------------------------------


def _bounds(obj: Any, schema: str, where: str) -> None:
    if not isinstance(obj, dict):
        return
    for key, (lo, hi) in BOUNDS[schema].items():
        value = obj.get(key)
        if value is None:
            continue
        if value.__class__ is bool or not isinstance(value, (int, float)):
            raise Rejected(f"`{where}{key}` must be a number, got {value!r}")
        if (lo is not None and not value >= lo) or (hi is not None and not value <= hi):
            span = f">= {lo}" if hi is None else f"between {lo} and {hi}"
            raise Rejected(f"`{where}{key}` must be {span}, got {value!r}")


def _quantization(qc: Any, where: str) -> None:
    if isinstance(qc, dict) and isinstance(qc.get("scalar"), dict):
        _bounds(qc["scalar"], "ScalarQuantizationConfig", f"{where}quantization_config.scalar.")


def _dense_params(v: Any, where: str, *, diff: bool) -> None:
    if not isinstance(v, dict):
        return
    if not diff:
        size = v.get("size")
        if size.__class__ is not int:
            raise Rejected(f"`{where}size` must be an integer, got {size!r}")
        _bounds(v, "VectorParams", where)
    _bounds(v.get("hnsw_config"), "HnswConfigDiff", f"{where}hnsw_config.")
    _quantization(v.get("quantization_config"), where)


def _dense_names(vectors: Any) -> dict[str, Any]:
    if not isinstance(vectors, dict):
        return {}
    if "size" in vectors and "distance" in vectors:
        return {"": vectors}
    return vectors


def _collection_params(body: dict, *, create: bool) -> None:
    dense = _dense_names(body.get("vectors"))
    for name, v in dense.items():
        _dense_params(v, f"vectors.{name}." if name else "vectors.", diff=not create)
    sparse = body.get("sparse_vectors")
    if isinstance(sparse, dict):
        for name, s in sparse.items():
            if isinstance(s, dict):
                _bounds(s.get("index"), "SparseIndexParams", f"sparse_vectors.{name}.index.")
        if create:
            shared = sorted(set(dense) & set(sparse))
            if shared:
                raise Rejected(
                    f"vector name `{shared[0]}` is used by a dense and a sparse vector; names must be unique"
                )
    _bounds(body.get("hnsw_config"), "HnswConfigDiff", "hnsw_config.")
    _bounds(body.get("optimizers_config"), "OptimizersConfigDiff", "optimizers_config.")
    _bounds(body.get("wal_config"), "WalConfigDiff", "wal_config.")
    _bounds(body.get("strict_mode_config"), "StrictModeConfig", "strict_mode_config.")
    _quantization(body.get("quantization_config"), "")
    if create:
        _bounds(body, "CreateCollection", "")
    else:
        _bounds(body.get("params"), "CollectionParamsDiff", "params.")


def _create_collection(body: dict, path: dict, _cfg: Config) -> None:
    _collection_params(body, create=True)


def _update_collection(body: dict, path: dict, _cfg: Config) -> None:
    _collection_params(body, create=False)


def _create_vector_name(body: dict, path: dict, cfg: Config) -> None:
    config = cfg() or {}
    dense = _dense_names(config.get("vectors"))
    sparse = config.get("sparse_vectors") or {}
    if isinstance(body.get("dense"), dict):
        _dense_params(body["dense"], "dense.", diff=False)
    elif isinstance(body.get("sparse"), dict):
        _bounds(body["sparse"].get("index"), "SparseIndexParams", "sparse.index.")
    name = path.get("vector_name")
    if name is not None and (name in dense or name in sparse):
        kind = "dense" if name in dense else "sparse"
        raise Rejected(f"the collection already has a {kind} vector named `{name}`; names must be unique")


def _create_field_index(body: dict, path: dict, _cfg: Config) -> None:
    schema = body.get("field_schema")
    if isinstance(schema, dict) and schema.get("type") == "text":
        _bounds(schema, "TextIndexParams", "field_schema.")
        lo, hi = schema.get("min_token_len"), schema.get("max_token_len")
        if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
            raise Rejected(f"`field_schema.min_token_len` ({lo}) is above `max_token_len` ({hi})")


_RULES: dict[str, Callable[[dict, dict, Config], None]] = {
    "upsert_points": _upsert,
    "update_vectors": _update_vectors,
    "batch_update": _batch_update,
    "create_collection": _create_collection,
    "update_collection": _update_collection,
    "create_vector_name": _create_vector_name,
    "create_field_index": _create_field_index,
}
