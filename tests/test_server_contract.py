"""Contract sweep: every operation of the table, sent to the dev server over the embedded engine,
answers with a body that fits the OpenAPI schema of that operation (200) or ErrorResponse; the
operations the engine serves answer 200, every other one a 501 - never a fake success."""

from __future__ import annotations

from typing import Any

import contract
import httpx
import pytest
from conftest import dev_server_thread

from aqdrant._operations import OPERATIONS

C = "contract"
POINT = {"id": 1, "vector": {"": [0.1, 0.2, 0.3, 0.4]}, "payload": {"city": "Paris", "n": 1}}

#: (path values, query, body) per operation the engine serves; run in this order
SERVED: dict[str, tuple[dict[str, Any], dict[str, str], Any]] = {
    "root": ({}, {}, None),
    "create_collection": ({}, {"timeout": "10"}, {"vectors": {"size": 4, "distance": "Cosine"}}),
    "collection_exists": ({}, {}, None),
    "get_collections": ({}, {}, None),
    "update_collection": ({}, {}, {"optimizers_config": {"indexing_threshold": 1000}}),
    "upsert_points": (
        {},
        {"wait": "true"},
        {"points": [POINT, {"id": 2, "vector": [0.4, 0.3, 0.2, 0.1], "payload": {"city": "Rome", "n": 2}}]},
    ),
    "create_field_index": ({}, {"wait": "true"}, {"field_name": "city", "field_schema": "keyword"}),
    "get_collection": ({}, {}, None),
    "update_aliases": (
        {},
        {},
        {"actions": [{"create_alias": {"collection_name": C, "alias_name": f"{C}-a"}}]},
    ),
    "get_collection_aliases": ({}, {}, None),
    "get_collections_aliases": ({}, {}, None),
    "get_point": ({"id": 1}, {}, None),
    "get_points": ({}, {}, {"ids": [1, 2], "with_vector": True}),
    "scroll_points": ({}, {}, {"limit": 1, "with_payload": True}),
    "count_points": ({}, {}, {"exact": True}),
    "facet": ({}, {}, {"key": "city", "exact": True}),
    "query_points": ({}, {}, {"query": [0.1, 0.2, 0.3, 0.4], "limit": 2, "with_vector": True}),
    "query_batch_points": ({}, {}, {"searches": [{"query": 1, "limit": 1}, {"limit": 1}]}),
    "query_points_groups": ({}, {}, {"query": [0.1, 0.2, 0.3, 0.4], "group_by": "city", "limit": 2}),
    "search_matrix_pairs": ({}, {}, {"sample": 2, "limit": 1}),
    "search_matrix_offsets": ({}, {}, {"sample": 2, "limit": 1}),
    "set_payload": ({}, {"wait": "true"}, {"payload": {"x": 1}, "points": [1]}),
    "overwrite_payload": ({}, {"wait": "true"}, {"payload": {"city": "Paris"}, "points": [1]}),
    "delete_payload": ({}, {"wait": "true"}, {"keys": ["n"], "points": [2]}),
    "clear_payload": ({}, {"wait": "true"}, {"points": [2]}),
    "update_vectors": ({}, {"wait": "true"}, {"points": [{"id": 2, "vector": [0.0, 0.0, 1.0, 0.0]}]}),
    "delete_vectors": ({}, {"wait": "true"}, {"points": [2], "vector": [""]}),
    "batch_update": (
        {},
        {"wait": "true"},
        {
            "operations": [
                {"upsert": {"points": [{"id": 3, "vector": [1, 0, 0, 0]}]}},
                {"delete": {"points": [3]}},
            ]
        },
    ),
    "delete_points": ({}, {"wait": "true"}, {"points": [2]}),
    "delete_field_index": ({"field_name": "city"}, {"wait": "true"}, None),
    "create_vector_name": (
        {"collection_name": f"{C}-named", "vector_name": "b"},
        {"wait": "true"},
        {"dense": {"size": 2, "distance": "Dot"}},
    ),
    "delete_vector_name": ({"collection_name": f"{C}-named", "vector_name": "b"}, {"wait": "true"}, None),
    "delete_collection": ({}, {}, None),
}

#: bodies that pass validation for operations the engine does not serve, so they reach it
UNSERVED_BODIES: dict[str, Any] = {
    "create_shard_key": {"shard_key": 1},
    "delete_shard_key": {"shard_key": 1},
    "create_vector_name": {"dense": {"size": 4, "distance": "Cosine"}},
    "update_collection_cluster": {"drop_replica": {"shard_id": 0, "peer_id": 1}},
    "recover_from_snapshot": {"location": "file:///tmp/none.snapshot"},
    "recover_shard_from_snapshot": {"location": "file:///tmp/none.snapshot"},
    "update_quotas": {},
}
PATH_DEFAULTS = {"collection_name": C, "shard_id": 0, "peer_id": 1, "snapshot_name": "s.snapshot",
                 "vector_name": "v", "field_name": "f", "id": 1}  # fmt: skip


@pytest.fixture(scope="module")
def http():
    with dev_server_thread() as srv, httpx.Client(base_url=srv.url, timeout=60) as client:
        yield client


def send(http: httpx.Client, op_name: str, path: dict[str, Any], query: dict[str, str], body: Any):
    op = OPERATIONS[op_name]
    values = {**PATH_DEFAULTS, **path}
    url = op.url_path(**{k: values[k] for k in op.path_params})
    if op.body_kind == "multipart":
        return http.request(op.method, url, params=query, files={"snapshot": ("s.snapshot", b"x")})
    return http.request(op.method, url, params=query, json=body)


def engine_handles(op_name: str) -> bool:
    """Whether the embedded engine has a handler for the operation (it may still refuse it), or
    the server answers it itself (a standalone node's service endpoints)."""
    from aqdrant.local.engine import Engine
    from aqdrant.server._service import SERVICE_OPS

    return hasattr(Engine, f"op_{op_name}") or op_name in SERVICE_OPS


def test_served_operations_answer_200_within_the_contract(http):
    r = http.put(f"/collections/{C}-named", json={"vectors": {"a": {"size": 4, "distance": "Cosine"}}})
    assert r.status_code == 200, r.text
    for op_name, (path, query, body) in SERVED.items():
        r = send(http, op_name, path, query, body)
        assert r.status_code == 200, (op_name, r.text)
        contract.validate_response(op_name, 200, r.json())
    assert http.delete(f"/collections/{C}-named").status_code == 200


def test_every_other_operation_is_501_within_the_contract(http):
    r = http.put(f"/collections/{C}", json={"vectors": {"size": 4, "distance": "Cosine"}})
    assert r.status_code == 200, r.text
    unserved = []
    for op_name, op in OPERATIONS.items():
        if op_name in SERVED or op_name in ("healthz", "livez", "readyz"):
            continue
        body = UNSERVED_BODIES.get(op_name, {}) if op.body_kind == "json" else None
        r = send(http, op_name, {}, {}, body)
        if r.headers.get("content-type", "").startswith("application/json"):
            contract.validate_response(op_name, r.status_code, r.json())
        unserved.append(op_name)
        if engine_handles(op_name):  # served since this list was written: answers, never crashes
            assert r.status_code < 500, (op_name, r.status_code, r.text)
            continue
        assert r.status_code == 501, (op_name, r.status_code, r.text)
        assert r.json()["status"]["error"]
    # the sweep really covered the rest of the table
    assert len(unserved) + len(SERVED) + 3 == len(OPERATIONS)
    http.delete(f"/collections/{C}")


def test_probes_are_text(http):
    for name in ("healthz", "livez", "readyz"):
        r = http.get(OPERATIONS[name].path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    "op_name, path, status",
    [("get_collection", {"collection_name": "nope"}, 404), ("get_point", {"id": 999}, 404)],
)
def test_errors_fit_error_response(http, op_name, path, status):
    if op_name == "get_point":
        http.put(f"/collections/{C}", json={"vectors": {"size": 4, "distance": "Cosine"}})
    r = send(http, op_name, path, {}, None)
    assert r.status_code == status, r.text
    contract.validate_response(op_name, status, r.json())
    http.delete(f"/collections/{C}")
