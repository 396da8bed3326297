"""JSON as Qdrant 1.19 writes it, for the dev server's REST replies, and the request aliases it
accepts.

* float32 values (vectors, scores, distance-matrix scores) in their shortest float32 form
  (``0.1``, not ``0.10000000149011612``): the engine computes in float32 and Qdrant writes them
  with serde's float32 formatter. Vectors become float32 numpy arrays, which the model encoder
  writes with orjson straight from the buffer; scores are rounded through one orjson round trip
  per reply (a few microseconds for a page of hits).
* ``null`` where Qdrant writes it (``next_page_offset``, ``quantization_config``, the optional
  optimizer settings) and ``warnings`` in collection info.
* aliases: ``with_vectors`` for ``with_vector`` (``with_vector`` inside ``with_lookup``, whose
  field is ``with_vectors``), ``quantization`` for ``quantization_config`` in collection configs.
"""

from __future__ import annotations

from typing import Any

import msgspec
import numpy as np
import orjson

from .. import models

_force = msgspec.structs.force_setattr

# ---- replies ----------------------------------------------------------------------------------


def _f32_floats(values: list[float]) -> list[float]:
    """The floats rounded to float32 and back with float32's shortest digits."""
    return orjson.loads(orjson.dumps(np.asarray(values, dtype=np.float32), option=orjson.OPT_SERIALIZE_NUMPY))


def _f32_vector(v: Any) -> Any:
    if v is None or isinstance(v, np.ndarray):
        return v
    if isinstance(v, models.SparseVector):
        return {"indices": v.indices, "values": np.asarray(v.values, dtype=np.float32)}
    if isinstance(v, dict):
        if v.keys() == {"indices", "values"}:  # a sparse vector as builtins
            return {"indices": v["indices"], "values": np.asarray(v["values"], dtype=np.float32)}
        return {name: _f32_vector(x) for name, x in v.items()}
    if not len(v):
        return v
    try:
        arr = np.asarray(v, dtype=np.float32)
    except (TypeError, ValueError):
        return v
    return arr if arr.ndim in (1, 2) else v


def _points(points: list[Any], scored: bool) -> None:
    if not points:
        return
    if scored:
        for p, s in zip(points, _f32_floats([p.score for p in points]), strict=True):
            _force(p, "score", s)
    for p in points:
        v = p.vector
        if v is not None:
            _force(p, "vector", _f32_vector(v))


def _query_response(r: Any) -> Any:
    if isinstance(r, models.QueryResponse):
        _points(r.points, True)
    return r


def _scroll(r: Any) -> Any:
    if not isinstance(r, models.ScrollResult):
        return r
    _points(r.points, False)
    out = {"points": r.points, "next_page_offset": r.next_page_offset}
    return out


def _groups(r: Any) -> Any:
    if isinstance(r, models.GroupsResult):
        for g in r.groups:
            _points(g.hits, True)
            if g.lookup is not None:
                _points([g.lookup], False)
    return r


def _records(r: Any) -> Any:
    if isinstance(r, list):
        _points([p for p in r if isinstance(p, models.Record)], False)
    elif isinstance(r, models.Record):
        _points([r], False)
    return r


def _pairs(r: Any) -> Any:
    if isinstance(r, models.SearchMatrixPairsResponse) and r.pairs:
        for pair, s in zip(r.pairs, _f32_floats([p.score for p in r.pairs]), strict=True):
            _force(pair, "score", s)
    return r


def _offsets(r: Any) -> Any:
    if isinstance(r, models.SearchMatrixOffsetsResponse) and r.scores:
        _force(r, "scores", _f32_floats(list(r.scores)))
    return r


#: Qdrant writes these optimizer settings as null when unset
_OPTIMIZER_NULLS = ("max_segment_size", "memmap_threshold", "max_optimization_threads")


def _collection_info(r: Any) -> Any:
    if not isinstance(r, models.CollectionInfo):
        return r
    out = models.to_builtins(r)
    out.setdefault("warnings", [])
    config = out.get("config")
    if isinstance(config, dict):
        config.setdefault("quantization_config", None)
        optimizer = config.get("optimizer_config")
        if isinstance(optimizer, dict):
            for key in _OPTIMIZER_NULLS:
                optimizer.setdefault(key, None)
    # the key order Qdrant writes: warnings right after the statuses
    order = ("status", "optimizer_status", "warnings")
    return {**{k: out[k] for k in order if k in out}, **{k: v for k, v in out.items() if k not in order}}


_RESULTS = {
    "query_points": _query_response,
    "query_batch_points": lambda r: [_query_response(x) for x in r] if isinstance(r, list) else r,
    "query_points_groups": _groups,
    "scroll_points": _scroll,
    "get_points": _records,
    "get_point": _records,
    "search_matrix_pairs": _pairs,
    "search_matrix_offsets": _offsets,
    "get_collection": _collection_info,
}


def reply(op_name: str, result: Any) -> Any:
    """``result`` of ``op_name`` shaped as Qdrant writes it (mutates the fresh result models)."""
    shape = _RESULTS.get(op_name)
    return shape(result) if shape is not None else result


def scored_points(points: list[Any]) -> list[Any]:
    """A list of hits (the deprecated search/recommend/discover replies)."""
    _points(points, True)
    return points


# ---- request aliases --------------------------------------------------------------------------
_COLLECTION_OPS = frozenset({"create_collection", "update_collection"})


def _rename(d: dict, old: str, new: str) -> None:
    if old in d and new not in d:
        d[new] = d.pop(old)


def _with_vector_aliases(node: Any, in_lookup: bool = False) -> None:
    if isinstance(node, dict):
        if in_lookup:
            _rename(node, "with_vector", "with_vectors")
        else:
            _rename(node, "with_vectors", "with_vector")
        for key, value in node.items():
            _with_vector_aliases(value, key == "with_lookup")
    elif isinstance(node, list):
        for item in node:
            _with_vector_aliases(item)


def _quantization_aliases(body: dict) -> None:
    _rename(body, "quantization", "quantization_config")
    vectors = body.get("vectors")
    if isinstance(vectors, dict):
        params = [vectors] if "size" in vectors or "distance" in vectors else list(vectors.values())
        for p in params:
            if isinstance(p, dict):
                _rename(p, "quantization", "quantization_config")


def with_aliases(op_name: str, raw: bytes) -> bytes | dict | None:
    """The body with Qdrant's aliased field names replaced by the spec's, or None when it uses
    none (a byte scan, so the common request pays nothing)."""
    uses_with = b'"with_vectors"' in raw or (b'"with_lookup"' in raw and b'"with_vector"' in raw)
    uses_quantization = op_name in _COLLECTION_OPS and b'"quantization"' in raw
    if not (uses_with or uses_quantization):
        return None
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None  # the model decoder reports the syntax error
    if not isinstance(body, dict):
        return None
    if uses_with:
        _with_vector_aliases(body)
    if uses_quantization:
        _quantization_aliases(body)
    return body


__all__ = ["reply", "scored_points", "with_aliases"]
