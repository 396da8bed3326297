"""Qdrant 1.19's query semantics the engine (one shard) does not provide, kept apart from engine.py.

Runs inside the engine process (a top-level sibling of engine.py, like convert.py). Each function
names the part of Qdrant it follows:

- :func:`check_query` - the collection-level planner's checks (universal_query/collection_query.rs
  ``CollectionQueryRequest::validation``), for the request and each prefetch;
- :func:`referenced_ids` - the point ids used as examples that are excluded from the results: only
  those resolved in the searched collection, a prefetch's own ``lookup_from`` counting
  (``get_referenced_point_ids_on_collection``);
- :func:`average_vector` - the ``average_vector`` recommend strategy for dense, sparse and
  multivectors (segment's ``avg_vector_for_recommendation``);
- :func:`sort_ids` - the order Qdrant sorts point ids in (integers before UUIDs).
"""

from __future__ import annotations

import uuid
from typing import Any, Callable

import qdrant_edge as qe

if __package__:
    from . import qerrors as qx
else:  # engine process: a top-level sibling
    import qerrors as qx  # type: ignore[no-redef]


def _is_fusion(query: Any) -> bool:
    return isinstance(query, dict) and ("fusion" in query or "rrf" in query)


def _is_order_by(query: Any) -> bool:
    return isinstance(query, dict) and "order_by" in query


def _prefetches(node: dict) -> list:
    p = node.get("prefetch")
    if p is None:
        return []
    return p if isinstance(p, list) else [p]


def check_query(node: dict) -> None:
    """Raise Qdrant's planner error for the request (or prefetch) ``node`` and its prefetches."""
    query = node.get("query")
    if _prefetches(node) and query is None:
        raise qx.bad_request(qx.PREFETCH_WITHOUT_QUERY)
    if node.get("score_threshold") is not None:
        if _is_order_by(query):
            raise qx.bad_request(qx.THRESHOLD_WITH_ORDER_BY)
        if query is None:
            raise qx.bad_request(qx.THRESHOLD_WITHOUT_QUERY)
    if _is_fusion(query) and (node.get("using") or "") != "":
        raise qx.bad_request(qx.FUSION_WITH_USING)
    for p in _prefetches(node):
        check_query(p)


def _is_point_id(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return v >= 0
    if isinstance(v, str):
        try:
            uuid.UUID(v)
        except ValueError:
            return False
        return True
    return False


def _example_ids(query: Any) -> list:
    """The point ids a query uses as vectors (nearest, recommend, discover, context, feedback)."""
    if query is None:
        return []
    if _is_point_id(query):
        return [query]
    if not isinstance(query, dict):
        return []
    out: list = []
    if "nearest" in query:
        out += [query["nearest"]]
    if "recommend" in query:
        r = query["recommend"] or {}
        for key in ("positive", "negative"):
            out += list(r.get(key) or [])
    if "discover" in query:
        d = query["discover"] or {}
        out.append(d.get("target"))
        for pair in d.get("context") or []:
            out += [pair.get("positive"), pair.get("negative")]
    if "context" in query:
        ctx = query["context"]
        for pair in ctx if isinstance(ctx, list) else [ctx]:
            if isinstance(pair, dict):
                out += [pair.get("positive"), pair.get("negative")]
    if "relevance_feedback" in query:
        rf = query["relevance_feedback"] or {}
        out.append(rf.get("target"))
        out += [item.get("example") for item in rf.get("feedback") or []]
    return [x for x in out if _is_point_id(x)]


def referenced_ids(node: dict, collection: str, resolve: Callable[[str], str]) -> list:
    """Ids used as examples in ``node`` (and its prefetches) that are looked up in ``collection``:
    Qdrant excludes these from the results; ids looked up in another collection stay."""
    lookup = node.get("lookup_from")
    other = lookup is not None and resolve(lookup["collection"]) != collection
    ids = [] if other else _example_ids(node.get("query"))
    for p in _prefetches(node):
        ids += referenced_ids(p, collection, resolve)
    return ids


def sort_ids(ids: list) -> list:
    """Point ids in Qdrant's order: integer ids first (by value), then UUIDs."""
    return sorted(ids, key=lambda i: (0, i, "") if isinstance(i, int) else (1, 0, str(i)))


# -- average_vector recommend ---------------------------------------------------------------


def _kind(v: Any) -> str:
    if isinstance(v, qe.SparseVector):
        return "sparse"
    if v and isinstance(v[0], (list, tuple)) or (v and hasattr(v[0], "__len__")):
        return "multi"
    return "dense"


def _sparse_parts(v: Any) -> tuple[list, list]:
    return list(v.indices), list(v.values)


def _sparse_combine(a: dict, b: dict, f: Callable[[float, float], float]) -> dict:
    return {i: f(a.get(i, 0.0), b.get(i, 0.0)) for i in sorted(set(a) | set(b))}


def _avg(vectors: list) -> tuple[str, Any]:
    kinds = {_kind(v) for v in vectors}
    if not vectors:
        raise qx.validation_failed(qx.AVERAGE_WITHOUT_POSITIVES)
    if len(kinds) > 1:
        raise qx.validation_failed(qx.AVERAGE_MIXED_KINDS)
    kind = kinds.pop()
    if kind == "dense":
        width = max(len(v) for v in vectors)
        total = [0.0] * width
        for v in vectors:
            for i, x in enumerate(v):
                total[i] += x
        return kind, [x / len(vectors) for x in total]
    if kind == "sparse":
        acc: dict = {}
        for v in vectors:
            idx, vals = _sparse_parts(v)
            acc = _sparse_combine(acc, dict(zip(idx, vals)), lambda x, y: x + y)
        return kind, {i: x / len(vectors) for i, x in acc.items()}
    # multivectors are not averaged: their rows are concatenated
    rows: list = []
    for v in vectors:
        rows += [list(r) for r in v]
    return kind, rows


def average_vector(positive: list, negative: list) -> Any:
    """The query vector of the ``average_vector`` strategy: ``avg(pos)``, or ``avg(pos) +
    (avg(pos) - avg(neg))`` with negatives; sparse vectors combine over the union of indices,
    multivectors concatenate rows (negatives negated)."""
    kind, pos = _avg(positive)
    if negative:
        nkind, neg = _avg(negative)
        if nkind != kind:
            raise qx.validation_failed(qx.AVERAGE_POS_NEG_KINDS)
        if kind == "dense":
            pos = [p + p - n for p, n in zip(pos, neg)]
        elif kind == "sparse":
            pos = _sparse_combine(pos, neg, lambda p, n: p + p - n)
        else:
            pos = pos + [[-x for x in row] for row in neg]
    if kind == "sparse":
        return qe.SparseVector(list(pos), [float(x) for x in pos.values()])
    return pos
