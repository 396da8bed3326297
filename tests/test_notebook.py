"""The blocking ``QdrantClient`` in a real IPython kernel (nbclient runs a small notebook).

A kernel runs an asyncio loop in the thread that executes cells, so the blocking client drives
its own loop from a private thread there; the same notebook also awaits the async client.
"""

from __future__ import annotations

import nbclient  # test extras (pyproject.toml), installed by tools/dev.py
import nbformat


def run_notebook(cells: list[str], timeout: int = 180) -> list[str]:
    """Execute ``cells`` in a fresh python3 kernel; return each cell's printed output."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=timeout).execute()
    return ["".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream") for cell in nb.cells]


def test_blocking_client_works_in_a_jupyter_kernel(dev_server):
    out = run_notebook(
        [
            "import asyncio\n"
            "from aqdrant import AsyncQdrantClient, QdrantClient, models\n"
            "print('loop running:', asyncio.get_event_loop().is_running())",
            # the embedded engine, then a server over REST, as a notebook user writes it
            "local = QdrantClient(':memory:')\n"
            "local.create_collection('nb', vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))\n"
            "local.upsert('nb', [models.PointStruct(id=i, vector=[1.0, float(i)]) for i in range(5)])\n"
            "print('local top:', local.query_points('nb', query=[0.0, 1.0], limit=1).points[0].id)",
            f"remote = QdrantClient(url={dev_server.url!r})\n"
            "print('remote exists:', remote.collection_exists('nb'))",
            # top-level await of the async client in the same kernel
            "async with AsyncQdrantClient(':memory:') as c:\n"
            "    print('async exists:', await c.collection_exists('nb'))",
            "local.close(); remote.close()\nprint('closed')",
        ]
    )
    assert out[0].strip() == "loop running: True"  # the situation the private thread is for
    assert out[1].strip() == "local top: 4"
    assert out[2].strip() == "remote exists: False"
    assert out[3].strip() == "async exists: False"
    assert out[4].strip() == "closed"
