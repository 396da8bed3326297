"""The gRPC codec table (aqdrant/grpc/convert/registry.py) against the operation table, the
client backend's method table and the dev server's handlers: each place an operation must be
added to has a test here that fails when it is forgotten."""

from __future__ import annotations

import pytest

from aqdrant._operations import OPERATIONS
from aqdrant.errors import UnsupportedOperation
from aqdrant.grpc import convert
from aqdrant.grpc.backend import _grpc_path, _methods
from aqdrant.server import grpc as server_grpc

WITH_GRPC = sorted(name for name, op in OPERATIONS.items() if op.grpc)
#: generated methods no operation runs yet (they answer UNIMPLEMENTED); shrink it, never grow it
NOT_SERVED: set[str] = set()


@pytest.mark.parametrize("op_name", WITH_GRPC)
def test_every_operation_with_a_grpc_counterpart_has_a_codec_row(op_name: str) -> None:
    row = convert.CODECS.get(op_name)
    assert row is not None, f"{op_name}: add its row to aqdrant/grpc/convert/registry.py CODECS"
    for direction in ("request", "result", "read", "reply"):
        assert callable(getattr(row, direction)), (op_name, direction)


def test_no_row_without_an_operation() -> None:
    stale = [n for n in convert.CODECS if n not in OPERATIONS]
    assert not stale, f"rows for operations the table does not have: {stale}"
    # ``root`` reads the health check's reply too; every other row is an operation's gRPC twin
    odd = [n for n in convert.CODECS if not OPERATIONS[n].grpc and n != "root"]
    assert not odd, f"rows for operations without a gRPC counterpart in tools/gen_models.py GRPC: {odd}"


@pytest.mark.parametrize("op_name", WITH_GRPC)
def test_the_client_knows_the_method(op_name: str) -> None:
    path = _grpc_path(OPERATIONS[op_name].grpc)
    assert path in _methods(), f"{op_name}: {path} is not a method of the generated services"


@pytest.mark.parametrize("op_name", WITH_GRPC)
def test_the_server_reads_the_methods_own_message(op_name: str) -> None:
    """The row's reader takes the method's request type: a default message reads as a request
    or is refused as a request the server cannot serve, never as a message of another type."""
    request_type, _ = _methods()[_grpc_path(OPERATIONS[op_name].grpc)]
    try:
        path, query, _body = convert.request_from_grpc(op_name, request_type())
    except (UnsupportedOperation, ValueError, TypeError):
        return  # what the server answers UNIMPLEMENTED / INVALID_ARGUMENT
    assert isinstance(path, dict) and isinstance(query, dict)


def test_the_dev_server_routes_every_method() -> None:
    routes = server_grpc.routes()
    assert len(routes) == len(_methods())
    unrouted = sorted(key for key, op, _, _ in routes.values() if op is None)
    assert unrouted == sorted(NOT_SERVED), "a method without an operation (or one newly served)"
    for key, op, translate, _ in routes.values():
        if op is not None and translate is None:
            assert op.name in convert.CODECS, f"the server routes {key} to {op.name}, which has no row"
            assert _grpc_path(op.grpc).endswith("/" + key.split(".")[1])


def test_an_operation_without_a_row_is_unsupported() -> None:
    with pytest.raises(UnsupportedOperation, match="operation telemetry"):
        convert.request_to_grpc("telemetry", {}, {}, None)
    with pytest.raises(UnsupportedOperation, match="operation telemetry"):
        convert.request_from_grpc("telemetry", object())
