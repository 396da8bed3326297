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

import re
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


def _is_vector_query(q: Any) -> bool:
    """Whether a query scores points by a vector (so its ``using`` must name one)."""
    if q is None:
        return False
    if not isinstance(q, dict) or ("indices" in q and "values" in q):
        return True
    return not any(k in q for k in ("fusion", "rrf", "order_by", "formula", "sample"))


def vector_names(config: dict) -> tuple[list[str], list[str]]:
    """(dense, sparse) vector names of a collection (``config``: its create body; ``[""]``: one
    unnamed dense vector)."""
    vectors = config.get("vectors") or {}
    dense = [""] if "size" in vectors and "distance" in vectors else list(vectors)
    return dense, list(config.get("sparse_vectors") or {})


def check_vector_name(using: str, config: dict) -> None:
    """Qdrant's error when ``using`` names no vector of the collection (``config``: its create body)."""
    dense, sparse = vector_names(config)
    if using not in dense and using not in sparse:
        raise qx.vector_not_configured(using, dense, sparse)


def check_vector_names(node: dict, config: dict) -> None:
    """:func:`check_vector_name` for every vector query of a request (its own, its prefetches')."""
    if _is_vector_query(node.get("query")):
        check_vector_name(node.get("using") or "", config)
    for p in _prefetches(node):
        check_vector_names(p, config)


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


def context_pairs(context: Any) -> list:
    """A discover/context query's pairs: a list of pairs, or one pair on its own (the spec's
    untagged ``ContextInput`` takes both)."""
    if context is None:
        return []
    return context if isinstance(context, list) else [context]


def _pair_ids(context: Any) -> list:
    out: list = []
    for pair in context_pairs(context):
        if isinstance(pair, dict):
            out += [pair.get("positive"), pair.get("negative")]
    return out


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
        out += _pair_ids(d.get("context"))
    if "context" in query:
        out += _pair_ids(query["context"])
    if "relevance_feedback" in query:
        rf = query["relevance_feedback"] or {}
        out.append(rf.get("target"))
        out += [item.get("example") for item in rf.get("feedback") or []]
    return [x for x in out if _is_point_id(x)]


def referenced_ids(node: dict, collection: str) -> list:
    """Ids used as examples in ``node`` (and its prefetches) that are looked up in ``collection``
    (the searched collection's own name): Qdrant excludes these from the results. Ids looked up
    in another collection stay - compared by the name given, so an alias counts as another."""
    lookup = node.get("lookup_from")
    other = lookup is not None and lookup["collection"] != collection
    ids = [] if other else _example_ids(node.get("query"))
    for p in _prefetches(node):
        ids += referenced_ids(p, collection)
    return ids


def with_prefetch_limits(node: dict, limit: int) -> dict:
    """``node`` with every prefetch's limit raised to at least ``limit``: grouping reads as many
    candidates from each prefetch as it reads from the whole query (as Qdrant's grouping does)."""
    prefetches = _prefetches(node)
    if not prefetches:
        return node
    raised = []
    for p in prefetches:
        p = with_prefetch_limits(dict(p), limit)
        p["limit"] = max(int(p["limit"]) if p.get("limit") is not None else 10, limit)
        raised.append(p)
    return {**node, "prefetch": raised}


def sort_ids(ids: list) -> list:
    """Point ids in Qdrant's order: integer ids first (by value), then UUIDs."""
    return sorted(ids, key=lambda i: (0, i, "") if isinstance(i, int) else (1, 0, str(i)))


# -- JSON paths (segment::json_path) -----------------------------------------------------------

_PART = re.compile(r"([^.\[\]]+)((?:\[\d*\])*)")


def _parts(path: str) -> list[tuple[str, list]]:
    """``a.b[].c[2]`` -> [("a", []), ("b", [None]), ("c", [2])] (None: every element)."""
    out = []
    for m in _PART.finditer(path):
        idx = [int(x) if x else None for x in re.findall(r"\[(\d*)\]", m.group(2))]
        out.append((m.group(1), idx))
    return out


def path_root(path: str) -> str:
    """The top-level payload key of a JSON path (what to fetch to read it)."""
    parts = _parts(path)
    return parts[0][0] if parts else path


def path_values(payload: Any, path: str) -> list:
    """The values at ``path`` in ``payload``: ``[]`` takes every element of an array, ``[N]``
    one; a plain key on an array of objects reads it in each object."""
    values = [payload]
    for key, idx in _parts(path):
        nxt: list = []
        for v in values:
            for obj in v if isinstance(v, list) else [v]:
                if isinstance(obj, dict) and key in obj:
                    nxt.append(obj[key])
        for i in idx:
            flat: list = []
            for v in nxt:
                if isinstance(v, list):
                    flat += v if i is None else v[i : i + 1]
            nxt = flat
        values = nxt
    return values


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
            acc = _sparse_combine(acc, dict(zip(idx, vals, strict=True)), lambda x, y: x + y)
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
            pos = [p + p - n for p, n in zip(pos, neg, strict=False)]
        elif kind == "sparse":
            pos = _sparse_combine(pos, neg, lambda p, n: p + p - n)
        else:
            pos = pos + [[-x for x in row] for row in neg]
    if kind == "sparse":
        return qe.SparseVector(list(pos), [float(x) for x in pos.values()])
    return pos


# -- MMR (collection/mmr.rs) --------------------------------------------------------------------


def wants_vectors(body: dict) -> bool:
    wv = body.get("with_vector")
    return bool(wv) if wv is not None else False


def sparse_mmr(body: dict, config: dict) -> bool:
    """Whether ``body`` asks MMR on a sparse vector (computed here: the engine has it for dense)."""
    q = body.get("query")
    if _prefetches(body) or not isinstance(q, dict) or q.get("mmr") is None or "nearest" not in q:
        return False
    return (body.get("using") or "") in (config.get("sparse_vectors") or {})


def _sparse_dot(a: Any, b: Any) -> float:
    other = dict(zip(b.indices, b.values, strict=True))
    return float(sum(v * other.get(i, 0.0) for i, v in zip(a.indices, a.values, strict=True)))


def mmr_order(points: list, query: Any, using: str, lam: float, limit: int) -> list:
    """Maximal marginal relevance over sparse ``points`` (scored, with vector ``using``): the most
    relevant first, then the best ``lam * relevance - (1 - lam) * max similarity to the chosen``;
    ties go to the last candidate, and the candidates set is kept as Qdrant keeps it (the chosen
    one's slot takes the last candidate)."""
    if not points:
        return []

    def vec(p: Any) -> Any:
        v = p.vector
        return v[using] if isinstance(v, dict) else v

    vectors = [vec(p) for p in points]
    relevance = [_sparse_dot(query, v) for v in vectors]
    sim = [[_sparse_dot(a, b) for b in vectors] for a in vectors]

    def last_argmax(values: list) -> int:
        best = 0
        for i, v in enumerate(values):
            if v >= values[best]:
                best = i
        return best

    def swap_remove(items: list, i: int) -> Any:
        item = items[i]
        items[i] = items[-1]
        items.pop()
        return item

    pending = list(range(len(points)))
    selected = [swap_remove(pending, last_argmax([relevance[i] for i in pending]))]
    while len(selected) < limit and pending:
        scores = [lam * relevance[i] - (1.0 - lam) * max(sim[i][j] for j in selected) for i in pending]
        selected.append(swap_remove(pending, last_argmax(scores)))
    return [points[i] for i in selected]


# -- facet (collection/facet.rs) ----------------------------------------------------------------

#: the limit that asks the engine's approximate facet for every value of the index
FACET_ALL_VALUES = 1 << 31


def _facet_value_key(value: Any) -> tuple:
    # one index holds one kind of value; the kind first keeps a mixed list sortable
    return (type(value).__name__, value)


def top_facet_hits(hits: list, limit: int) -> list:
    """The ``limit`` best facet hits as Qdrant keeps them: by count descending, then value
    ascending."""
    return sorted(hits, key=lambda h: (-h.count, _facet_value_key(h.value)))[:limit]
