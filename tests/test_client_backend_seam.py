"""``AsyncQdrantClient(backend=...)``: a caller's transport behind the client's pipeline."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from aqdrant import AsyncQdrantClient, QdrantClient, models
from aqdrant.errors import ValidationError

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[1]


class Answering:
    """A backend answering every request with a fixed collections list, recording what it got."""

    def __init__(self) -> None:
        self.requests: list = []
        self.closed = 0

    async def execute(self, request):
        self.requests.append(request)
        return models.CollectionsResponse(collections=[models.CollectionDescription(name="a")])

    def stream(self, request):
        raise NotImplementedError

    async def aclose(self) -> None:
        self.closed += 1


async def test_requests_go_through_the_given_backend_behind_the_pipeline(anyio_backend) -> None:
    backend = Answering()
    async with AsyncQdrantClient(backend=backend, api_key="k", check_compatibility=False) as client:
        result = await client.get_collections()
    assert [c.name for c in result.collections] == ["a"]
    (request,) = backend.requests
    assert request.op.name == "get_collections"
    assert request.headers.get("api-key") == "k"  # the pipeline's headers, not the transport's
    assert backend.closed == 1


def test_the_blocking_client_takes_a_backend_too() -> None:
    backend = Answering()
    with QdrantClient(backend=backend, check_compatibility=False) as client:
        assert [c.name for c in client.get_collections().collections] == ["a"]
    assert backend.closed == 1


@pytest.mark.parametrize("where", [{"url": "http://x:6333"}, {"location": ":memory:"}, {"path": "/tmp/x"}])
def test_a_backend_with_a_location_is_refused(where) -> None:
    with pytest.raises(ValidationError, match="backend="):
        AsyncQdrantClient(backend=Answering(), **where)


def test_the_client_module_imports_no_transport() -> None:
    code = (
        "import sys, aqdrant.client\n"
        "bad = [m for m in sys.modules if m.startswith(('aqdrant.rest', 'aqdrant.grpc', 'aqdrant.local', 'httpx'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_ingest_and_the_servers_endpoints_have_no_import_cycle() -> None:
    """ingest does not import the client; the dev server's gRPC endpoint does not import its app."""
    import ast

    def imports(rel: str) -> set[str]:
        tree = ast.parse((ROOT / rel).read_text())
        return {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}

    for rel in (ROOT / "aqdrant" / "ingest").glob("*.py"):
        assert "client" not in {m.rsplit(".", 1)[-1] for m in imports(str(rel.relative_to(ROOT)))}, rel
    assert "app" not in imports("aqdrant/server/grpc.py")
