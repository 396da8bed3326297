"""Type checkers see the exact classes from ``import aqdrant`` (tests/typing/ holds the README's
expectations; ``python3 tools/dev.py check`` runs mypy over them). Here: the lazy run-time
loading gives the same classes, and the mypy check does catch what it is for."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import aqdrant

ROOT = Path(__file__).resolve().parent.parent


def test_lazy_names_are_the_classes_type_checkers_see():
    from aqdrant.client import AsyncQdrantClient
    from aqdrant.sync_shim import QdrantClient

    assert aqdrant.AsyncQdrantClient is AsyncQdrantClient
    assert aqdrant.QdrantClient is QdrantClient


def test_import_aqdrant_stays_light():
    code = "import sys, aqdrant; print('aqdrant.client' in sys.modules, 'httpx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["False", "False"], out.stderr


def test_mypy_catches_a_typo_and_a_wrong_expectation(tmp_path):
    from mypy import api

    snippet = tmp_path / "snippet.py"
    snippet.write_text(
        textwrap.dedent(
            """
            from typing_extensions import assert_type
            from aqdrant import AsyncQdrantClient, QdrantClient

            async def f(a: AsyncQdrantClient, s: QdrantClient) -> None:
                assert_type(await a.collection_exists("c"), bool)
                assert_type(s.collection_exists("c"), bool)
                s.query_points("c", query=[0.1], limt=3)
                assert_type(s.count("c").count, str)
            """
        )
    )
    stdout, _, status = api.run(
        ["--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(ROOT / ".mypy_cache"), str(snippet)]
    )
    assert status == 1, stdout
    errors = [line for line in stdout.splitlines() if ": error:" in line]
    assert len(errors) == 2, stdout
    assert 'Unexpected keyword argument "limt"' in errors[0]
    assert 'Expression is of type "int", not "str"' in errors[1]


def test_mypy_refuses_shapes_the_client_does_not_take(tmp_path):
    """``query=`` and ``upload_collection(vectors=)`` are unions of what the client takes
    (aqdrant/_types.py), not ``Any``: a wrong shape is an error naming the parameter."""
    from mypy import api

    snippet = tmp_path / "shapes.py"
    snippet.write_text(
        textwrap.dedent(
            """
            import numpy as np
            from aqdrant import AsyncQdrantClient, QdrantClient, models

            async def f(a: AsyncQdrantClient, s: QdrantClient, m: np.ndarray) -> None:
                await a.query_points("c", query=[0.1, 0.2], limit=3)
                await a.query_points("c", query=m[0])
                s.upload_collection("c", vectors=m)
                await a.query_points("c", query=models.Filter())
                s.upload_collection("c", vectors=42)
                s.create_collection("c", id_tracker="u64")
            """
        )
    )
    stdout, _, status = api.run(
        ["--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(ROOT / ".mypy_cache"), str(snippet)]
    )
    assert status == 1, stdout
    errors = [line for line in stdout.splitlines() if ": error:" in line]
    assert len(errors) == 3, stdout
    assert 'Argument "query" to "query_points"' in errors[0]
    assert 'Argument "vectors" to "upload_collection"' in errors[1]
    assert 'Argument "id_tracker" to "create_collection"' in errors[2]


def test_typed_parameters_resolve_at_run_time_without_numpy():
    """The aliases name numpy for type checkers only: ``import aqdrant.client`` stays free of
    numpy, and ``typing.get_type_hints`` still resolves every public signature."""
    code = textwrap.dedent(
        """
        import sys, typing
        from aqdrant.client import AsyncQdrantClient
        from aqdrant.sync_shim import QdrantClient
        for cls in (AsyncQdrantClient, QdrantClient):
            for name in ("__init__", "query_points", "query_points_groups", "upload_collection", "migrate"):
                typing.get_type_hints(getattr(cls, name))
        print("numpy" in sys.modules)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["False"], out.stderr


@pytest.mark.anyio
async def test_the_typed_query_shapes_are_accepted_at_run_time():
    """Each kind of shape tests/typing/check_public_api.py types as a valid ``query=`` runs on
    the embedded engine (the type follows the code path, not the other way round)."""
    import uuid

    import numpy as np

    from aqdrant import AsyncQdrantClient, models

    async with AsyncQdrantClient(":memory:") as client:
        await client.create_collection("c", vectors_config=models.VectorParams(size=3, distance=models.Distance.COSINE))
        await client.upload_collection("c", np.eye(3, dtype=np.float32), ids=[1, 2, 3])
        await client.upload_collection("c", [[0.5, 0.5, 0.5]], ids=[str(uuid.UUID(int=4))])
        row = np.array([0.1, 0.2, 0.3])
        for query in (
            [0.1, 0.2, 0.3], [1, 2, 3], (0.1, 0.2, 0.3), row, list(row.astype(np.float32)),
            1, str(uuid.UUID(int=4)), uuid.UUID(int=4),
            models.NearestQuery(nearest=[0.1, 0.2, 0.3]), {"nearest": [0.1, 0.2, 0.3]},
            {"recommend": {"positive": [1]}}, None,
        ):  # fmt: skip
            res = await client.query_points("c", query=query, limit=2)
            assert len(res.points) == 2, query
