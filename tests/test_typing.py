"""Type checkers see the exact classes from ``import aqdrant`` (tests/typing/ holds the README's
expectations; ``python3 tools/dev.py check`` runs mypy over them). Here: the lazy run-time
loading gives the same classes, and the mypy check does catch what it is for."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

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
