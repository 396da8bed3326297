"""The deprecated search, recommend and discover routes Qdrant 1.19 still serves (absent from
its OpenAPI spec, so not in the operation table), translated to the query API they are
equivalent to, so older clients can use the dev server.

Each route's body becomes a ``QueryRequest`` (``QueryRequestBatch``, ``QueryGroupsRequest``) and
runs as that operation; the reply is written in the old shape: a list of hits (``[[hits]]`` for
a batch), groups as the query API writes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: fields a deprecated request shares with the query request it becomes
_COMMON = (
    "shard_key", "filter", "params", "limit", "offset", "with_payload", "with_vector",
    "score_threshold", "using", "lookup_from", "group_by", "group_size", "with_lookup",
)


class FormatError(ValueError):
    """The body cannot be read as the deprecated request (Qdrant's 400 ``Format error``)."""


def _require(body: dict, field: str) -> Any:
    if field not in body:
        raise FormatError(f"missing field `{field}`")
    return body[field]


def _required(body: dict, grouped: bool) -> None:
    """The fields the deprecated requests cannot do without (Qdrant: 400 ``missing field``)."""
    for name in ("group_by", "group_size", "limit") if grouped else ("limit",):
        _require(body, name)


def _search(body: dict) -> dict:
    vector = _require(body, "vector")
    out = {k: body[k] for k in _COMMON if k in body and k != "using"}
    if isinstance(vector, dict) and "name" in vector:  # {"name": ..., "vector": ...}
        out["using"] = vector["name"]
        vector = vector.get("vector")
    out["query"] = vector
    return out


def _recommend(body: dict) -> dict:
    out = {k: body[k] for k in _COMMON if k in body}
    rec = {k: body[k] for k in ("positive", "negative", "strategy") if body.get(k) is not None}
    out["query"] = {"recommend": rec}
    return out


def _discover(body: dict) -> dict:
    out = {k: body[k] for k in _COMMON if k in body}
    context = body.get("context") or []
    target = body.get("target")
    out["query"] = {"discover": {"target": target, "context": context}} if target is not None else {"context": context}
    return out


@dataclass(frozen=True)
class Route:
    path: str
    #: the query operation it runs as
    op: str
    translate: Any
    batch: bool = False

    def body(self, raw: Any) -> dict:
        if not isinstance(raw, dict):
            raise FormatError("invalid type: expected a JSON object")
        if self.batch:
            searches = _require(raw, "searches")
            if not isinstance(searches, list) or not all(isinstance(s, dict) for s in searches):
                raise FormatError("invalid type: `searches` must be a sequence of objects")
            for s in searches:
                _required(s, False)
            return {"searches": [self.translate(s) for s in searches]}
        _required(raw, self.op == "query_points_groups")
        return self.translate(raw)


_BASE = "/collections/{collection_name}/points"
ROUTES = (
    Route(f"{_BASE}/search", "query_points", _search),
    Route(f"{_BASE}/search/batch", "query_batch_points", _search, batch=True),
    Route(f"{_BASE}/search/groups", "query_points_groups", _search),
    Route(f"{_BASE}/recommend", "query_points", _recommend),
    Route(f"{_BASE}/recommend/batch", "query_batch_points", _recommend, batch=True),
    Route(f"{_BASE}/recommend/groups", "query_points_groups", _recommend),
    Route(f"{_BASE}/discover", "query_points", _discover),
    Route(f"{_BASE}/discover/batch", "query_batch_points", _discover, batch=True),
)


def old_reply(route: Route, result: Any) -> Any:
    """The query API's reply in the deprecated route's shape."""
    if route.op == "query_points":
        return result.points
    if route.op == "query_batch_points":
        return [r.points for r in result]
    return result


__all__ = ["ROUTES", "FormatError", "Route", "old_reply"]
