"""Strict mode, enforced on every request as Qdrant 1.19 does (lib/collection/src/operations/verification/).

Runs inside the engine process (a top-level sibling of engine.py). :func:`check` is called before
an operation on a collection whose ``strict_mode_config.enabled`` is true and raises
``qerrors.QdrantFault`` with Qdrant's text: ``Bad request: <error>. Help: <solution>`` (400) for
strict-mode refusals, ``Bad request: Max ... reached!`` for size limits, ``Rate limiting exceeded:
...`` (429) for the rate limits. Checks, per request kind, in Qdrant's order: the request's own
(batch sizes, collection size limits, vector lengths, grouping field, full scans), the result
limit, the filters (substring, condition count and size, then indexes), ``exact``, then search
params (oversampling, ``hnsw_ef``, ``exact``, the IDF corpus filter).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

if __package__:
    from . import qerrors as qx
else:  # engine process: a top-level sibling
    import qerrors as qx  # type: ignore[no-redef]

# -- index capabilities (lib/collection/src/problems/unindexed_field.rs) -------------------------

INT_MATCH, INT_RANGE, KEYWORD, KEYWORD_PREFIX, FLOAT_RANGE, TEXT = (
    "int_match",
    "int_range",
    "keyword",
    "keyword_prefix",
    "float_range",
    "text",
)
BOOL, UUID_MATCH, UUID_RANGE, DATETIME, GEO = "bool", "uuid_match", "uuid_range", "datetime", "geo"
#: index capability -> the schema Qdrant names for it
SCHEMA_OF = {
    INT_MATCH: "integer",
    INT_RANGE: "integer",
    KEYWORD: "keyword",
    KEYWORD_PREFIX: "keyword",
    FLOAT_RANGE: "float",
    TEXT: "text",
    BOOL: "bool",
    UUID_MATCH: "uuid",
    UUID_RANGE: "uuid",
    DATETIME: "datetime",
    GEO: "geo",
}
ALL = [INT_MATCH, INT_RANGE, KEYWORD, FLOAT_RANGE, TEXT, BOOL, UUID_MATCH, UUID_RANGE, DATETIME, GEO]
MATCH_SCHEMAS = {"keyword", "integer", "bool", "uuid"}  # PayloadSchemaType::supports_match


def capabilities(schema: Any) -> set[str]:
    """What an index declared with ``schema`` (a type name or a params object) can serve."""
    kind = schema if isinstance(schema, str) else schema.get("type")
    params = schema if isinstance(schema, dict) else {}
    if kind == "keyword":
        return {KEYWORD, KEYWORD_PREFIX} if params.get("prefix") else {KEYWORD}
    if kind == "integer":
        caps = set()
        if params.get("lookup") is not False:
            caps.add(INT_MATCH)
        if params.get("range") is not False:
            caps.add(INT_RANGE)
        return caps
    return {
        "uuid": {UUID_MATCH, UUID_RANGE},
        "bool": {BOOL},
        "float": {FLOAT_RANGE},
        "geo": {GEO},
        "text": {TEXT},
        "datetime": {DATETIME},
    }.get(kind, set())


def _is_uuid(s: Any) -> bool:
    try:
        uuid.UUID(str(s))
    except ValueError:
        return False
    return True


def _strings_need(values: list) -> list[str]:
    return ([UUID_MATCH] if all(_is_uuid(v) for v in values) else []) + [KEYWORD]


def _match_needs(m: dict) -> list[str]:
    if "value" in m:
        v = m["value"]
        if isinstance(v, bool):
            return [BOOL]
        if isinstance(v, int):
            return [INT_MATCH]
        return _strings_need([v])
    for key in ("any", "except"):
        if key in m:
            values = list(m[key] or [])
            if not values:  # an empty list has no type: any index that matches values serves it
                return [INT_MATCH, *_strings_need(values)]
            if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
                return [INT_MATCH]
            return _strings_need(values)
    if "prefix" in m:
        return [KEYWORD_PREFIX]
    if any(k in m for k in ("text", "text_any", "phrase")):
        return [TEXT]
    return []


def _field_needs(c: dict) -> list[str]:
    need: list[str] = []
    if c.get("match") is not None:
        need += _match_needs(c["match"])
    r = c.get("range")
    if r is not None:
        values = [r.get(k) for k in ("gt", "gte", "lt", "lte") if r.get(k) is not None]
        need += [DATETIME] if any(isinstance(v, str) for v in values) else [FLOAT_RANGE, INT_RANGE]
    if any(c.get(k) is not None for k in ("geo_bounding_box", "geo_radius", "geo_polygon")):
        need.append(GEO)
    if any(c.get(k) is not None for k in ("values_count", "is_empty", "is_null")):
        need += ALL
    return need


def _conditions(f: Any) -> list:
    if not isinstance(f, dict):
        return []
    out: list = []
    for key in ("must", "should", "must_not"):
        v = f.get(key)
        if v is not None:
            out += v if isinstance(v, list) else [v]
    ms = f.get("min_should")
    if isinstance(ms, dict):
        out += list(ms.get("conditions") or [])
    return out


def _join(prefix: str | None, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def unindexed_key(flt: Any, schemas: dict) -> tuple[str, list[str]] | None:
    """The first key of ``flt`` no declared index can serve, with the schemas that could."""
    caps = {k: capabilities(s) for k, s in schemas.items()}

    def visit(f: Any, prefix: str | None) -> tuple[str, list[str]] | None:
        for c in _conditions(f):
            found = condition(c, prefix)
            if found:
                return found
        return None

    def condition(c: Any, prefix: str | None) -> tuple[str, list[str]] | None:
        if not isinstance(c, dict):
            return None
        if "key" in c:
            key, need = c["key"], _field_needs(c)
        elif "nested" in c:
            return visit(c["nested"].get("filter"), _join(prefix, c["nested"]["key"] + "[]"))
        elif "is_empty" in c or "is_null" in c:
            key, need = (c.get("is_empty") or c.get("is_null"))["key"], ALL
        elif any(k in c for k in ("must", "should", "must_not", "min_should")):
            return visit(c, prefix)
        else:  # has_id, has_vector: no index needed
            return None
        full = _join(prefix, key)
        if need and not (caps.get(full, set()) & set(need)):
            return full, sorted({SCHEMA_OF[n] for n in need})
        return None

    return visit(flt, None)


def _substring_key(flt: Any, prefix: str | None = None) -> str | None:
    for c in _conditions(flt):
        if not isinstance(c, dict):
            continue
        if "key" in c and isinstance(c.get("match"), dict) and "substring" in c["match"]:
            return _join(prefix, c["key"])
        if "nested" in c:
            found = _substring_key(c["nested"].get("filter"), _join(prefix, c["nested"]["key"] + "[]"))
        elif "key" not in c:
            found = _substring_key(c, prefix)
        else:
            found = None
        if found:
            return found
    return None


def conditions_count(flt: Any) -> int:
    """Filter::total_conditions_count: leaf conditions, nested and sub-filters counted through."""
    total = 0
    for c in _conditions(flt):
        if isinstance(c, dict) and "nested" in c:
            total += conditions_count(c["nested"].get("filter"))
        elif (
            isinstance(c, dict)
            and "key" not in c
            and any(k in c for k in ("must", "should", "must_not", "min_should"))
        ):
            total += conditions_count(c)
        else:
            total += 1
    return total


def condition_size(flt: Any) -> int:
    """Filter::max_condition_input_size: the largest input of one condition (values of
    ``any``/``except``, ids of ``has_id``, points of a polygon)."""
    best = 0
    for c in _conditions(flt):
        if not isinstance(c, dict):
            continue
        size = 0
        if "nested" in c:
            size = condition_size(c["nested"].get("filter"))
        elif "has_id" in c:
            size = len(c["has_id"] or [])
        elif "key" in c:
            m = c.get("match") or {}
            for k in ("any", "except"):
                if k in m:
                    size = len(m[k] or [])
            poly = c.get("geo_polygon")
            if poly:
                size = len(poly["exterior"]["points"]) + sum(
                    len(r["points"]) for r in poly.get("interiors") or []
                )
        elif any(k in c for k in ("must", "should", "must_not", "min_should")):
            size = condition_size(c)
        best = max(best, size)
    return best


# -- the checks (verification/mod.rs) -----------------------------------------------------------


def _num(v: Any) -> str:
    """A number as Rust's Display writes it (``3`` for 3.0, ``2.5``)."""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def check_limit(value: Any, limit: Any, name: str) -> None:
    if value is None or limit is None or not value > limit:
        return
    v, lim = _num(value), _num(limit)
    raise qx.strict_mode(
        f'Limit exceeded {v} > {lim} for "{name}"', f'Reduce the "{name}" parameter to or below {lim}.'
    )


def check_bool(value: Any, allowed: Any, name: str, parameter: str) -> None:
    if allowed is False and value:
        raise qx.strict_mode(f"{name} disabled!", f"Set {parameter}=false.")


def check_filter(flt: Any, allow_unindexed: Any, cfg: dict, schemas: dict) -> None:
    if flt is None:
        return
    key = _substring_key(flt)
    if key is not None:
        raise qx.strict_mode(
            f'Substring matching is not allowed, used for "{key}": it scans every value of the field, '
            "with or without an index",
            "Use a prefix match or a full-text match instead.",
        )
    limit = cfg.get("filter_max_conditions")
    if limit is not None:
        n = conditions_count(flt)
        if n > limit:
            raise qx.strict_mode(
                f"Filter condition limit reached ({n} > {limit})",
                "Reduce the amount of conditions of your filter.",
            )
    limit = cfg.get("condition_max_size")
    if limit is not None:
        n = condition_size(flt)
        if n > limit:
            raise qx.strict_mode(
                f"Condition size limit reached ({n} > {limit})", "Reduce the size of your condition."
            )
    if allow_unindexed is False:
        found = unindexed_key(flt, schemas)
        if found is not None:
            key, names = found
            raise qx.strict_mode(
                f'Index required but not found for "{key}" of one of the following types: [{", ".join(names)}]',
                "Create an index for this key or use a different filter.",
            )


def check_params(params: Any, cfg: dict, schemas: dict) -> None:
    if not isinstance(params, dict):
        return
    quant = params.get("quantization") or {}
    check_limit(quant.get("oversampling"), cfg.get("search_max_oversampling"), "oversampling")
    check_limit(params.get("hnsw_ef"), cfg.get("search_max_hnsw_ef"), "hnsw_ef")
    idf = params.get("idf")
    corpus = idf.get("corpus") if isinstance(idf, dict) else None
    check_filter(corpus, cfg.get("unindexed_filtering_retrieve"), cfg, schemas)
    check_bool(params.get("exact"), cfg.get("search_allow_exact"), "Exact search", "exact")


def check_grouping_field(group_by: str, cfg: dict, schemas: dict) -> None:
    if cfg.get("unindexed_filtering_retrieve") is not False:
        return
    schema = schemas.get(group_by)
    if schema is None:
        raise qx.strict_mode(
            f'Index required but not found for "{group_by}"',
            "Create an index supporting `match` for this key.",
        )
    kind = schema if isinstance(schema, str) else schema.get("type")
    if kind not in MATCH_SCHEMAS:
        raise qx.strict_mode(
            f'Index of type "{str(kind).capitalize()}" found for "{group_by}"',
            "Create an index supporting `match` for this key.",
        )


def _verify(
    cfg: dict,
    schemas: dict,
    *,
    limit: Any = None,
    read_filter: Any = None,
    write_filter: Any = None,
    exact: Any = None,
    params: Any = None,
) -> None:
    """StrictModeVerification::check_strict_mode, after the request's own checks."""
    check_limit(limit, cfg.get("max_query_limit"), "limit")
    check_filter(read_filter, cfg.get("unindexed_filtering_retrieve"), cfg, schemas)
    check_filter(write_filter, cfg.get("unindexed_filtering_update"), cfg, schemas)
    check_bool(exact, cfg.get("search_allow_exact"), "Exact search", "exact")
    check_params(params, cfg, schemas)


# -- full scans (verification/query.rs) -----------------------------------------------------------


def _is_vector_query(q: Any) -> bool:
    if q is None:
        return False
    if not isinstance(q, dict):
        return True  # a vector or a point id
    if "indices" in q and "values" in q:
        return True
    return not any(k in q for k in ("fusion", "rrf", "order_by", "formula", "sample"))


def check_fullscan(query: Any, using: str, flt: Any, collection: dict, cfg: dict, schemas: dict) -> None:
    if cfg.get("search_allow_exact") is not False or not _is_vector_query(query):
        return
    if using in (collection.get("sparse_vectors") or {}):
        return  # sparse vectors are always indexed
    vectors = collection.get("vectors") or {}
    params = vectors if "size" in vectors and using == "" else vectors.get(using) or {}
    own = params.get("hnsw_config") or {}
    base = collection.get("hnsw_config") or {}
    m = own.get("m") if own.get("m") is not None else base.get("m", 16)
    payload_m = own.get("payload_m")
    if payload_m is None:
        payload_m = base.get("payload_m") if base.get("payload_m") is not None else m
    if m > 0:
        return
    label = "" if using == "" else f" on '{using}'"
    tenant = any(
        isinstance(schemas.get(c.get("key")), dict) and schemas[c["key"]].get("is_tenant")
        for c in _conditions(flt)
        if isinstance(c, dict) and "key" in c
    )
    if not tenant:
        raise qx.strict_mode(
            f"Request is forbidden{label} because global vector indexing is disabled (hnsw_config.m = 0)",
            "Use tenant-specific filter, enable global vector indexing or enable strict mode `search_allow_exact` option",
        )
    if payload_m == 0:
        raise qx.strict_mode(
            f"Request is forbidden{label} because vector indexing is disabled (hnsw_config.m = 0 and "
            "hnsw_config.payload_m = 0)",
            "Enable vector indexing, use a prefetch query with indexed vectors or enable strict mode "
            "`search_allow_exact` option",
        )


def _formula_keys(e: Any) -> list:
    """(key, needs) for each payload variable a formula reads."""
    if isinstance(e, str):
        if e.startswith("$score"):
            return []
        return [(e, [INT_MATCH, INT_RANGE, FLOAT_RANGE])]
    if isinstance(e, list):
        return [k for x in e for k in _formula_keys(x)]
    if not isinstance(e, dict):
        return []
    if "geo_distance" in e:
        return [(e["geo_distance"]["to"], [GEO])]
    if "datetime_key" in e:
        return [(e["datetime_key"], [DATETIME])]
    if "key" in e or "is_empty" in e or "is_null" in e or "must" in e or "should" in e or "must_not" in e:
        return [("\0cond", e)]
    return [k for v in e.values() if isinstance(v, (dict, list, str)) for k in _formula_keys(v)]


def check_formula(query: Any, cfg: dict, schemas: dict) -> None:
    if cfg.get("unindexed_filtering_retrieve") is not False:
        return
    if not isinstance(query, dict) or "formula" not in query:
        return
    for key, need in _formula_keys(query["formula"]):
        if key == "\0cond":
            found = unindexed_key({"must": [need]}, schemas)
        else:
            caps = capabilities(schemas[key]) if key in schemas else set()
            found = None if caps & set(need) else (key, sorted({SCHEMA_OF[n] for n in need}))
        if found is not None:
            raise qx.strict_mode(
                f'Index required but not found for "{found[0]}" of one of the following types: '
                f"[{', '.join(found[1])}]",
                "Create an index for this key or use a different formula expression.",
            )


def _prefetches(node: dict) -> list:
    p = node.get("prefetch")
    return [] if p is None else p if isinstance(p, list) else [p]


def check_prefetch(p: dict, collection: dict, cfg: dict, schemas: dict) -> None:
    for sub in _prefetches(p):
        check_prefetch(sub, collection, cfg, schemas)
    if p.get("query") is not None:
        check_fullscan(p["query"], p.get("using") or "", p.get("filter"), collection, cfg, schemas)
        check_formula(p["query"], cfg, schemas)
    _verify(cfg, schemas, limit=p.get("limit", 10), read_filter=p.get("filter"), params=p.get("params"))


def check_query(body: dict, collection: dict, cfg: dict, schemas: dict, *, groups: bool = False) -> None:
    if not groups:
        for p in _prefetches(body):
            check_prefetch(p, collection, cfg, schemas)
    if body.get("query") is not None:
        if not _prefetches(body):
            check_fullscan(
                body["query"], body.get("using") or "", body.get("filter"), collection, cfg, schemas
            )
        check_formula(body["query"], cfg, schemas)
    if groups:
        check_grouping_field(body["group_by"], cfg, schemas)
        limit = (body.get("limit") or 10) * (body.get("group_size") or 3)
    else:
        limit = body.get("limit") if body.get("limit") is not None else 10
    _verify(cfg, schemas, limit=limit, read_filter=body.get("filter"), params=body.get("params"))


# -- updates (verification/update.rs) ----------------------------------------------------------------


def _points_of(body: dict) -> list[tuple[Any, Any]]:
    """(name or "", vector) for every vector of an upsert/update_vectors body."""
    out: list = []
    if "batch" in body:
        vectors = body["batch"].get("vectors")
        if isinstance(vectors, dict):
            for name, vs in vectors.items():
                out += [(name, v) for v in vs or [] if v is not None]
        else:
            out += [("", v) for v in vectors or []]
        return out
    for p in body.get("points") or []:
        v = p.get("vector") if isinstance(p, dict) else None
        if isinstance(v, dict) and not ("indices" in v and "values" in v):
            out += list(v.items())
        elif v is not None:
            out.append(("", v))
    return out


def _is_multi(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and not isinstance(v[0], (int, float))


def check_vector_lengths(body: dict, cfg: dict) -> None:
    multi = {n: c.get("max_vectors") for n, c in ((cfg.get("multivector_config") or {}).items()) if c}
    sparse = {n: c.get("max_length") for n, c in ((cfg.get("sparse_config") or {}).items()) if c}
    if not any(v is not None for v in (*multi.values(), *sparse.values())):
        return
    for name, v in _points_of(body):
        if isinstance(v, dict) and "indices" in v:
            limit = sparse.get(name)
            n = len(v["indices"])
            if limit is not None and (n > limit or len(v["values"]) > limit):
                raise qx.bad_request(
                    f"Sparse vector '{name}' has a limit of {limit} indices, but {n} were provided!"
                )
        elif _is_multi(v):
            limit = multi.get(name)
            if limit is not None and len(v) > limit:
                raise qx.bad_request(
                    f"Multivector '{name}' has a limit of {limit} vectors, but {len(v)} were provided!"
                )


def _size_mb(limit: int) -> str:
    """``limit`` bytes in MB as Qdrant writes it: an f32 by Rust's Display (shortest digits,
    never in exponent form: 16 bytes -> ``0.000015258789``, 1 MiB -> ``1``)."""
    import numpy as np  # here: only on this error path (the engine process starts without it)

    return np.format_float_positional(np.float32(limit / (1024.0 * 1024.0)), unique=True, trim="-")


def check_collection_size(stats: Any, cfg: dict, *, payload_only: bool = False) -> None:
    """Vector storage, payload storage and point count limits (``stats(payload=...)`` gives
    (vector bytes, payload bytes or 0, points); only asked for when a limit is set)."""
    vlim, plim, nlim = (
        cfg.get("max_collection_vector_size_bytes"),
        cfg.get("max_collection_payload_size_bytes"),
        cfg.get("max_points_count"),
    )
    if payload_only:
        vlim = nlim = None
    if vlim is None and plim is None and nlim is None:
        return
    vbytes, pbytes, points = stats(payload=plim is not None)
    if vlim is not None and vbytes >= vlim:
        raise qx.bad_request(f"Max vector storage size limit of {_size_mb(vlim)}MB reached!")
    if plim is not None and pbytes >= plim:
        raise qx.bad_request(f"Max payload storage size limit of {_size_mb(plim)}MB reached!")
    if nlim is not None and points >= nlim:
        raise qx.bad_request(f"Max points count limit of {nlim} reached!")


def _batch_len(body: dict) -> int:
    if "batch" in body:
        return len(body["batch"].get("ids") or [])
    return len(body.get("points") or [])


def check_update(kind: str, body: dict, cfg: dict, schemas: dict, stats: Any) -> None:
    """One update operation (also each operation of a batch update)."""
    body = body or {}
    if kind == "upsert":
        check_limit(_batch_len(body), cfg.get("upsert_max_batchsize"), "upsert limit")
        check_collection_size(stats, cfg)
        check_vector_lengths(body, cfg)
        _verify(cfg, schemas, write_filter=body.get("update_filter"))
    elif kind == "update_vectors":
        check_limit(len(body.get("points") or []), cfg.get("upsert_max_batchsize"), "update limit")
        check_collection_size(stats, cfg)
        check_vector_lengths(body, cfg)
        _verify(cfg, schemas, write_filter=body.get("update_filter"))
    elif kind in ("set_payload", "overwrite_payload"):
        check_collection_size(stats, cfg, payload_only=True)
        _verify(cfg, schemas, write_filter=body.get("filter"))
    else:  # delete, delete_payload, clear_payload, delete_vectors: filtered writes only
        _verify(cfg, schemas, write_filter=body.get("filter"))


# -- rate limits (common::rate_limiting, operation_rate_cost) ---------------------------------


class RateLimiter:
    """A token bucket: ``per_minute`` tokens, refilled continuously."""

    def __init__(self, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.tokens = float(per_minute)
        self.rate = per_minute / 60.0
        self.at = time.monotonic()

    def take(self, cost: int, kind: str) -> None:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if cost > self.capacity:
            raise qx.rate_limited(
                f"{kind} rate limit exceeded, request larger than rate limiter capacity, "
                "please try to split your request"
            )
        if cost > self.tokens:
            wait = max(1, int(-(-((cost - self.tokens) / self.rate) // 1)))  # whole seconds, up
            raise qx.rate_limited(
                f"{kind} rate limit exceeded: Operation requires {cost} tokens but only "
                f"{self.tokens:.1f} were available. Retry after {wait}s",
                retry_after=wait,
            )
        self.tokens -= cost


UPDATE_OPS = {
    "upsert_points": "upsert",
    "update_vectors": "update_vectors",
    "set_payload": "set_payload",
    "overwrite_payload": "overwrite_payload",
    "delete_points": "delete",
    "delete_payload": "delete_payload",
    "clear_payload": "clear_payload",
    "delete_vectors": "delete_vectors",
}
READ_OPS = {
    "query_points",
    "query_batch_points",
    "query_points_groups",
    "scroll_points",
    "count_points",
    "facet",
    "search_matrix_pairs",
    "search_matrix_offsets",
    "get_points",
    "get_point",
}


def _write_cost(kind: str, body: dict) -> int:
    if kind in ("upsert", "update_vectors"):
        return max(1, _batch_len(body) if kind == "upsert" else len(body.get("points") or []))
    if body.get("points") is not None:
        return max(1, len(body["points"]))
    return 1


class Strict:
    """Strict mode of one engine: the rate limiters of its collections live here."""

    def __init__(self) -> None:
        self.limiters: dict[tuple[str, str, int], RateLimiter] = {}

    def _limiter(self, name: str, kind: str, per_minute: int) -> RateLimiter:
        key = (name, kind, per_minute)
        lim = self.limiters.get(key)
        if lim is None:
            self.limiters = {k: v for k, v in self.limiters.items() if k[:2] != (name, kind)}
            lim = self.limiters[key] = RateLimiter(per_minute)
        return lim

    def forget(self, name: str) -> None:
        self.limiters = {k: v for k, v in self.limiters.items() if k[0] != name}

    def check(
        self, name: str, collection: dict, schemas: dict, op: str, query: dict, body: Any, stats: Any
    ) -> None:
        """Raise Qdrant's strict-mode error for ``op`` on collection ``name`` (config ``collection``)."""
        cfg = collection.get("strict_mode_config") or {}
        if cfg.get("enabled") is not True:
            return
        body = body if isinstance(body, dict) else {}
        timeout = query.get("timeout")
        if timeout is not None:
            check_limit(int(timeout), cfg.get("max_timeout"), "timeout")
        if op in UPDATE_OPS:
            kind = UPDATE_OPS[op]
            check_update(kind, body, cfg, schemas, stats)
            self._rate(name, cfg, write_cost=_write_cost(kind, body))
        elif op == "batch_update":
            for operation in body.get("operations") or []:
                for kind, arg in operation.items():
                    check_update(kind, arg or {}, cfg, schemas, stats)
            cost = sum(_write_cost(k, a or {}) for o in body.get("operations") or [] for k, a in o.items())
            self._rate(name, cfg, write_cost=max(1, cost))
        elif op == "create_field_index":
            limit = cfg.get("max_payload_index_count")
            if limit is not None and len(schemas) >= limit:
                raise qx.strict_mode(
                    f"Collection already has the maximum number of payload indices ({limit})",
                    "Please delete an existing index before creating a new one.",
                )
        elif op in READ_OPS:
            self._check_read(op, body, collection, cfg, schemas)
            cost = len(body.get("searches") or []) if op == "query_batch_points" else 1
            self._rate(name, cfg, read_cost=max(1, cost))

    def _check_read(self, op: str, body: dict, collection: dict, cfg: dict, schemas: dict) -> None:
        if op == "query_points":
            check_query(body, collection, cfg, schemas)
        elif op == "query_batch_points":
            searches = body.get("searches") or []
            check_limit(len(searches), cfg.get("search_max_batchsize"), "search batch size")
            for s in searches:
                check_query(s, collection, cfg, schemas)
        elif op == "query_points_groups":
            check_query(body, collection, cfg, schemas, groups=True)
        elif op == "scroll_points":
            limit = body.get("limit") if body.get("limit") is not None else 10
            _verify(cfg, schemas, limit=limit, read_filter=body.get("filter"))
        elif op == "count_points":
            _verify(cfg, schemas, read_filter=body.get("filter"))
        elif op == "facet":
            _verify(
                cfg, schemas, limit=body.get("limit"), read_filter=body.get("filter"), exact=body.get("exact")
            )
        elif op in ("search_matrix_pairs", "search_matrix_offsets"):
            sample = body.get("sample") if body.get("sample") is not None else 10
            limit = body.get("limit") if body.get("limit") is not None else 3
            _verify(cfg, schemas, limit=sample * limit, read_filter=body.get("filter"))

    def _rate(self, name: str, cfg: dict, *, read_cost: int = 0, write_cost: int = 0) -> None:
        if read_cost and cfg.get("read_rate_limit") is not None:
            self._limiter(name, "read", int(cfg["read_rate_limit"])).take(read_cost, "Read")
        if write_cost and cfg.get("write_rate_limit") is not None:
            self._limiter(name, "write", int(cfg["write_rate_limit"])).take(write_cost, "Write")
