"""OpenAPI contract helpers: validate JSON bodies against Qdrant's OpenAPI 3.0 spec.

OpenAPI 3.0 is not JSON Schema: ``nullable: true`` is translated to a JSON Schema null branch,
``#/components/schemas`` refs are resolved by embedding the (translated) components beside the
schema being checked, and validation is done by ``jsonschema`` (draft 2020-12).
"""

from __future__ import annotations

import copy
import json
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import jsonschema

SPEC_PATH = Path(__file__).resolve().parents[1] / "qdrant-api" / "v1.19" / "openapi.json"

_CONSTRAINTS = ("type", "$ref", "allOf", "anyOf", "oneOf", "enum", "properties", "items", "const", "format")


def translate(node: Any) -> Any:
    """An OpenAPI 3.0 schema as a JSON Schema (recursively)."""
    if isinstance(node, list):
        return [translate(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {
        k: translate(v)
        for k, v in node.items()
        if k not in ("nullable", "example", "examples", "discriminator", "xml")
    }
    if node.get("nullable") is True:
        if not any(k in node for k in _CONSTRAINTS):
            return {"type": "null"}
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


@lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text())


@lru_cache(maxsize=2)
def _components(allow_unknown_fields: bool = False) -> dict[str, Any]:
    schemas = translate(spec()["components"]["schemas"])
    if allow_unknown_fields:
        for schema in schemas.values():
            if schema.get("additionalProperties") is False:
                del schema["additionalProperties"]
    return {"schemas": schemas}


@lru_cache(maxsize=1)
def _operations() -> dict[str, dict[str, Any]]:
    ops = {}
    for item in spec()["paths"].values():
        for op in item.values():
            if isinstance(op, dict) and "operationId" in op:
                ops[op["operationId"]] = op
    return ops


def _validator(schema: dict[str, Any], allow_unknown_fields: bool = False) -> jsonschema.Draft202012Validator:
    root = dict(translate(copy.deepcopy(schema)))
    root["components"] = _components(allow_unknown_fields)
    return jsonschema.Draft202012Validator(root)


@cache
def _response_validator(op_name: str, status: int) -> jsonschema.Draft202012Validator:
    responses = _operations()[op_name]["responses"]
    if status == 200 and "200" in responses:
        content = responses["200"]["content"]
        schema = (content.get("application/json") or next(iter(content.values())))["schema"]
    else:
        schema = {"$ref": "#/components/schemas/ErrorResponse"}
    return _validator(schema)


@cache
def _request_validator(op_name: str, allow_unknown_fields: bool) -> jsonschema.Draft202012Validator:
    body = _operations()[op_name]["requestBody"]
    return _validator(body["content"]["application/json"]["schema"], allow_unknown_fields)


def validate_response(op_name: str, status: int, body: Any) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``body`` fits the spec's response schema.

    A 200 is checked against the operation's own 200 schema; any other status against
    ``ErrorResponse`` (the spec's 4XX/default responses).
    """
    if status != 200:
        # Qdrant's error envelope: the status must carry an error message.
        assert isinstance(body, dict) and isinstance(body.get("status", {}).get("error"), str), body
    _response_validator(op_name, status).validate(body)


def request_errors(op_name: str, body: Any, *, allow_unknown_fields: bool = False) -> list[str]:
    """The spec's complaints about ``body`` as the request body of ``op_name`` (empty: valid).

    ``allow_unknown_fields`` drops the spec's few ``additionalProperties: false`` (Filter and the
    payload selectors): the generated models ignore unknown fields, as a client must.
    """
    v = _request_validator(op_name, allow_unknown_fields)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in v.iter_errors(body)]


def is_valid_request(op_name: str, body: Any, *, allow_unknown_fields: bool = False) -> bool:
    return not request_errors(op_name, body, allow_unknown_fields=allow_unknown_fields)


# ---- checking a live server's responses --------------------------------------------------------
@lru_cache(maxsize=1)
def _route_table() -> list[tuple[Any, str, str]]:
    from starlette.routing import compile_path

    from aqdrant._operations import OPERATIONS

    ops = sorted(OPERATIONS.values(), key=lambda o: (o.path.count("{"), o.path))
    return [(compile_path(o.path)[0], o.method, o.name) for o in ops]


def operation_for(method: str, path: str) -> str | None:
    """The operationId a request (method, path) is routed to, literal paths first."""
    for regex, m, name in _route_table():
        if m == method and regex.match(path):
            return name
    return None


class ContractRecorder:
    """ASGI middleware that checks every JSON response against the spec of its operation.

    ``checked`` counts responses per operation; ``violations`` lists the ones that did not fit.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.checked: dict[str, int] = {}
        self.violations: list[str] = []
        ContractRecorder.last = self

    last: ContractRecorder | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        op_name = operation_for(scope["method"], scope["path"])
        state: dict[str, Any] = {"status": None, "json": False, "chunks": []}

        async def capture(message: Any) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                ctype = dict(message.get("headers", [])).get(b"content-type", b"")
                state["json"] = ctype.startswith(b"application/json")
            elif message["type"] == "http.response.body" and state["json"]:
                state["chunks"].append(message.get("body", b""))
                if not message.get("more_body") and op_name is not None:
                    self._check(op_name, state["status"], b"".join(state["chunks"]))
            await send(message)

        await self.app(scope, receive, capture)

    def _check(self, op_name: str, status: int, raw: bytes) -> None:
        self.checked[op_name] = self.checked.get(op_name, 0) + 1
        try:
            validate_response(op_name, status, json.loads(raw))
        except (AssertionError, jsonschema.ValidationError, ValueError) as e:
            msg = getattr(e, "message", str(e))
            self.violations.append(f"{op_name} {status}: {msg[:500]}")
