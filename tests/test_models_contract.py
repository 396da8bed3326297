"""Contract round trip for every schema of the spec, and the operation table against `paths`.

For each schema in ``components/schemas``: instances are generated from the JSON schema itself
(hypothesis-jsonschema), decoded into the model with ``models.parse``, re-encoded with
``models.dump``; the output must validate against the same JSON schema and equal the input
modulo nulls (an explicit ``null`` and an unset optional field are the same on the wire).

The spec is OpenAPI 3.0; it is translated to JSON Schema here: ``nullable: true`` becomes
``anyOf [schema, {type: null}]`` (a bare ``{nullable: true}`` is ``{type: null}``), integer
formats become bounds, ``$ref`` s point at ``$defs``. For generation, refs are inlined and a
recursive ref (Filter -> Condition -> Filter, Expression, Prefetch, ...) is allowed to nest
``MAX_NESTING`` times and is then replaced by the empty (``false``) schema, so hypothesis only
takes the branches that end; objects get ``additionalProperties: false`` so that generated
input carries only keys a model knows (unknown keys are tested separately).
"""

from __future__ import annotations

import copy
import json
import math
import typing
from functools import cache
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.internal.conjecture import utils as _cu
from hypothesis_jsonschema import _from_schema as _hjs
from hypothesis_jsonschema import from_schema

from aqdrant import models
from aqdrant._operations import OPERATIONS
from aqdrant.errors import ValidationError


class _ManyCompat:
    """hypothesis-jsonschema 0.23 drives ``cu.many`` with ``more()``; hypothesis >= 6.15x made it
    an iterator used as ``with many(...) as el: for _ in el:``. Same decisions, old interface."""

    def __init__(self, *args: typing.Any, **kwargs: typing.Any) -> None:
        self._many = _cu.many(*args, **kwargs)
        self._many.__enter__()
        self._it = iter(self._many)

    def more(self) -> bool:
        try:
            next(self._it)
            return True
        except StopIteration:
            self._many.__exit__(None, None, None)
            return False

    def reject(self, why: str | None = None) -> None:
        self._many.reject(why)


if not hasattr(_cu.many, "more"):
    import types

    _hjs.cu = types.SimpleNamespace(**{**vars(_cu), "many": _ManyCompat})

SPEC_PATH = Path(__file__).resolve().parents[1] / "qdrant-api" / "v1.19" / "openapi.json"
SPEC = json.loads(SPEC_PATH.read_text())
SCHEMAS: dict = SPEC["components"]["schemas"]
MAX_NESTING = 0
EXAMPLES = 15

_INT_BOUNDS = {
    "uint": (0, 2**64 - 1),
    "uint64": (0, 2**64 - 1),
    "uint32": (0, 2**32 - 1),
    "uint16": (0, 2**16 - 1),
    "uint8": (0, 2**8 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "int32": (-(2**31), 2**31 - 1),
}
_CUSTOM_FORMATS = {
    "uuid": st.uuids().map(str),
    "partial-date-time": st.sampled_from(["2024-01-02T03:04:05", "2024-01-02", "2024-01-02 03:04"]),
}
_ANNOTATIONS = ("description", "example", "default", "deprecated", "title", "readOnly", "writeOnly")


def to_json_schema(node: typing.Any) -> typing.Any:
    """OpenAPI 3.0 schema -> JSON Schema (draft 2020-12), refs to ``#/$defs/...``."""
    if isinstance(node, list):
        return [to_json_schema(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for k, v in node.items():
        if k in _ANNOTATIONS or k == "nullable":
            continue
        if k == "$ref":
            out[k] = "#/$defs/" + v.rsplit("/", 1)[-1]
        elif k == "properties":
            out[k] = {p: to_json_schema(s) for p, s in v.items()}
        elif k == "format":
            if v in _INT_BOUNDS and node.get("type") == "integer":
                lo, hi = _INT_BOUNDS[v]
                out["minimum"] = max(lo, node.get("minimum", lo))
                out["maximum"] = min(hi, node.get("maximum", hi))
            elif v in ("uuid", "date-time", "partial-date-time"):
                out[k] = v
        elif k in ("minimum", "maximum") and "format" in node and node.get("type") == "integer":
            continue  # merged with the format's bounds above
        else:
            out[k] = to_json_schema(v)
    if node.get("nullable"):
        if not any(k in out for k in ("type", "$ref", "anyOf", "oneOf", "allOf", "enum")):
            return {"type": "null"}
        return {"anyOf": [out, {"type": "null"}]}
    return out


DEFS = {name: to_json_schema(s) for name, s in SCHEMAS.items()}


def validation_schema(name: str) -> dict:
    return {"$defs": DEFS, "$ref": f"#/$defs/{name}"}


def _inline(node: typing.Any, stack: tuple) -> typing.Any:
    if isinstance(node, list):
        return [_inline(x, stack) for x in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if stack.count(name) > MAX_NESTING:
            return False  # the empty schema: hypothesis takes another branch
        return _inline(DEFS[name], stack + (name,))
    out = {}
    for k, v in node.items():
        if k == "properties":
            out[k] = {p: _inline(s, stack) for p, s in v.items()}
        else:
            out[k] = _inline(v, stack)
    if out.get("type") == "object" and "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def generation_schema(name: str) -> typing.Any:
    return _inline({"$ref": f"#/$defs/{name}"}, ())


_LEAF_CACHE: dict[str, st.SearchStrategy] = {}


def strategy(node: typing.Any) -> st.SearchStrategy:
    """Instances of an inlined JSON schema.

    Structure (unions, objects with properties, arrays) is composed here once; every other
    node (scalars, enums, free-form objects such as payloads) goes to hypothesis-jsonschema's
    ``from_schema``. Composing here keeps hypothesis-jsonschema from re-canonicalising the
    large Filter/Query sub-schemas on every draw (30 s per schema otherwise).
    """
    if node is False:
        return st.nothing()
    if node is True:
        node = {}
    for key in ("anyOf", "oneOf"):
        if key in node:
            rest = {k: v for k, v in node.items() if k != key}
            branches = [strategy({**rest, **b} if isinstance(b, dict) and rest else b) for b in node[key]]
            return st.one_of([b for b in branches if not b.is_empty])
    if "allOf" in node and len(node["allOf"]) == 1 and len(node) == 1:
        return strategy(node["allOf"][0])
    if node.get("type") == "object" and "properties" in node:
        required = set(node.get("required", ()))
        props = node["properties"]
        req = {k: strategy(v) for k, v in props.items() if k in required}
        if any(x.is_empty for x in req.values()):
            return st.nothing()
        opt = {k: strategy(v) for k, v in props.items() if k not in required}
        return st.fixed_dictionaries(req, optional={k: v for k, v in opt.items() if not v.is_empty})
    if node.get("type") == "object" and isinstance(node.get("additionalProperties"), dict):
        values = strategy(node["additionalProperties"])
        return st.just({}) if values.is_empty else st.dictionaries(st.text(max_size=8), values, max_size=3)
    if node.get("type") == "array":
        unique = {"unique_by": lambda x: json.dumps(x, sort_keys=True)} if node.get("uniqueItems") else {}
        lo = node.get("minItems", 0)
        items = strategy(node.get("items", {}))
        if items.is_empty:
            return st.just([]) if lo == 0 else st.nothing()
        return st.lists(items, min_size=lo, max_size=max(lo, node.get("maxItems", lo + 3)), **unique)
    key = json.dumps(node, sort_keys=True)
    if key not in _LEAF_CACHE:
        _LEAF_CACHE[key] = from_schema(node, custom_formats=_CUSTOM_FORMATS)
    return _LEAF_CACHE[key]


def model_for(name: str) -> typing.Any:
    return getattr(models, name)


def without_nulls(x: typing.Any) -> typing.Any:
    if isinstance(x, dict):
        return {k: without_nulls(v) for k, v in x.items() if v is not None}
    if isinstance(x, list):
        return [without_nulls(v) for v in x]
    return x


def same(a: typing.Any, b: typing.Any, path: str = "$") -> None:
    """Assert JSON values equal; numbers compare as numbers (1 == 1.0, float rounding)."""
    if isinstance(a, bool) or isinstance(b, bool):
        assert a is b, f"{path}: {a!r} != {b!r}"
    elif isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(a, int) and isinstance(b, int):
            assert a == b, f"{path}: {a!r} != {b!r}"
        else:
            assert math.isclose(a, b, rel_tol=1e-15, abs_tol=0), f"{path}: {a!r} != {b!r}"
    elif isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), f"{path}: keys {sorted(a)} != {sorted(b)}"
        for k in a:
            same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), f"{path}: length {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{path}[{i}]")
    else:
        assert a == b and type(a) is type(b), f"{path}: {a!r} != {b!r}"


@cache
def _validator(name: str) -> jsonschema.protocols.Validator:
    return jsonschema.Draft202012Validator(validation_schema(name))


def check_round_trip(name: str, instance: typing.Any) -> None:
    # The generated instance is valid by construction; make sure the test's schema agrees.
    _validator(name).validate(instance)
    obj = models.parse(model_for(name), json.dumps(instance))
    out = json.loads(models.dump(obj))
    errors = sorted(_validator(name).iter_errors(out), key=lambda e: e.path)
    assert not errors, f"{name}: output does not validate: {errors[0].message} at {list(errors[0].path)}"
    same(without_nulls(out), without_nulls(instance))
    # Decoding from builtins gives the same object as decoding from JSON.
    if not isinstance(instance, str):  # a str given to parse is JSON text
        assert json.loads(models.dump(models.parse(model_for(name), instance))) == json.loads(models.dump(obj))


SCHEMA_NAMES = sorted(SCHEMAS)


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_round_trip_every_schema(name: str) -> None:
    instances = strategy(generation_schema(name))

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(instances)
    def run(instance: typing.Any) -> None:
        check_round_trip(name, instance)

    run()


def test_every_schema_has_a_model() -> None:
    missing = [n for n in SCHEMAS if not hasattr(models, n)]
    assert not missing


# ---- the operation table ------------------------------------------------------------------


def test_operation_table_covers_every_method_and_path() -> None:
    spec_ops = {
        (method.upper(), path, op["operationId"])
        for path, methods in SPEC["paths"].items()
        for method, op in methods.items()
    }
    table = {(op.method, op.path, op.name) for op in OPERATIONS.values()}
    assert table == spec_ops
    assert len(OPERATIONS) == len(spec_ops)


def test_operation_table_parameters_match_the_spec() -> None:
    for methods in SPEC["paths"].values():
        for op in methods.values():
            entry = OPERATIONS[op["operationId"]]
            params = op.get("parameters", [])
            assert entry.path_params == tuple(p["name"] for p in params if p["in"] == "path"), entry.name
            assert {q.name for q in entry.query_params} == {p["name"] for p in params if p["in"] == "query"}
            body = op.get("requestBody", {}).get("content", {})
            if "application/json" in body:
                assert entry.body_kind == "json" and entry.body_type is not None, entry.name
            elif body:
                assert entry.body_kind == "multipart", entry.name
            else:
                assert entry.body_kind == "none" and entry.body_type is None, entry.name
            # Every path parameter appears in the template, and nothing else does.
            assert entry.url_path(**{p: "x" for p in entry.path_params}).count("{") == 0


def test_operation_types_are_usable_with_parse() -> None:
    """Each body/result type of the table is a type `parse` can plan for (no NameError, ...)."""
    for op in OPERATIONS.values():
        for tp in (op.body_type, op.result_type):
            if tp is None or tp in (bytes, str):
                continue
            with pytest.raises(ValidationError):
                models.parse(tp, b"[[[")


def test_schema_translation_keeps_nullable_distinct() -> None:
    """The test's own OpenAPI -> JSON Schema translation: nullable adds null, nothing else."""
    s = to_json_schema({"type": "integer", "format": "uint64", "minimum": 1, "nullable": True})
    assert s == {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 2**64 - 1}, {"type": "null"}]}
    v = jsonschema.Draft202012Validator(s)
    assert v.is_valid(None) and v.is_valid(5) and not v.is_valid(0) and not v.is_valid("5")
    assert to_json_schema({"nullable": True, "description": "x"}) == {"type": "null"}
    assert copy.deepcopy(DEFS) == DEFS


# Recursive schemas are generated one level deep (MAX_NESTING); deeper nesting by hand, through
# the same round trip and schema validation.
NESTED = [
    ("Filter", {
        "must": [
            {"should": [{"key": "a", "match": {"any": ["x", "y"]}}, {"has_id": [1, "5b6b1c52-1f1a-4c2d-9d0a-3c1c8b3f2a10"]}],
             "min_should": {"conditions": [{"is_empty": {"key": "b"}}, {"must_not": {"key": "c", "range": {"gte": 1.5}}}],
                            "min_count": 1}},
            {"nested": {"key": "arr[]", "filter": {"must": {"nested": {"key": "inner", "filter": {
                "must": [{"key": "d", "geo_radius": {"center": {"lon": 1.0, "lat": 2.0}, "radius": 5.0}}]}}}}}},
        ],
        "must_not": {"must": {"must": {"key": "e", "match": {"except": [1, 2]}}}},
    }),
    ("QueryRequest", {
        "prefetch": [{"prefetch": {"prefetch": [{"query": [0.5, 1.5], "limit": 5}], "query": {"nearest": [[1.0], [2.0]]}},
                      "query": {"fusion": "rrf"}, "filter": {"must": [{"key": "a", "match": {"value": 1}}]}}],
        "query": {"formula": {"sum": ["$score", {"mult": [2.0, {"key": "tag", "match": {"value": "x"}}]},
                                      {"gauss_decay": {"x": {"geo_distance": {"origin": {"lon": 1.0, "lat": 2.0}, "to": "loc"}},
                                                       "scale": 100.0}},
                                      {"div": {"left": {"neg": "price"}, "right": {"abs": {"sqrt": 4.0}}, "by_zero_default": 1.0}}]},
                  "defaults": {"price": 1}},
        "with_payload": {"include": ["a"]},
        "limit": 3,
    }),
    ("UpdateOperations", {"operations": [
        {"upsert": {"batch": {"ids": [1, 2], "vectors": {"d": [[1.0], {"indices": [1], "values": [0.5]}]}}}},
        {"delete": {"filter": {"must": [{"should": [{"has_vector": "d"}]}]}}},
        {"set_payload": {"payload": {"k": None, "l": [1, {"m": True}]}, "filter": {"must_not": [{"is_null": {"key": "k"}}]}}},
    ]}),
]


@pytest.mark.parametrize(("name", "instance"), NESTED, ids=[n for n, _ in NESTED])
def test_round_trip_deeply_nested_by_hand(name: str, instance: typing.Any) -> None:
    check_round_trip(name, instance)
