"""A script that never calls ``close()`` exits promptly, quietly and without losing writes.

Most scripts written for the official client never close it. Each case runs a real script in a
fresh interpreter (``-W default``: ResourceWarnings and unraisable errors would be printed) and
checks it exits 0 with an empty stderr. The timeout is generous (a busy machine must not fail
it): a hang at exit (Python joining a worker thread nobody stops) would run into it.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

EXIT_TIMEOUT = 60  # seconds; a healthy exit takes well under 2

LARGE_READS = """
import sys
import numpy as np
from aqdrant import QdrantClient, models

client = QdrantClient({args})
name = "exit_" + {tag!r}
if client.collection_exists(name):
    client.delete_collection(name)
client.create_collection(name, vectors_config=models.VectorParams(size=64, distance=models.Distance.COSINE))
client.upload_collection(name, vectors=np.random.default_rng(0).random((2000, 64), dtype=np.float32), ids=range(2000))
points, _ = client.scroll(name, limit=2000, with_vectors=True)  # a large reply (decoded off the loop)
assert len(points) == 2000 and len(points[0].vector) == 64
print("read", len(points), flush=True)
# no client.close(): the interpreter must still exit
"""


def run_script(code: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [sys.executable, "-W", "default", "-c", code], capture_output=True, text=True, timeout=EXIT_TIMEOUT
        )
    except subprocess.TimeoutExpired as e:  # the bug this file is about: say so plainly
        raise AssertionError(f"the script did not exit within {EXIT_TIMEOUT} s; output: {e.stdout!r}") from None


def assert_clean_exit(out: subprocess.CompletedProcess[str], expected: str) -> None:
    assert out.returncode == 0, out.stderr
    assert expected in out.stdout
    assert out.stderr == "", out.stderr  # no warnings, no "exception ignored" at exit


@pytest.mark.parametrize("transport", ["rest", "grpc"])
def test_unclosed_client_after_large_reads_exits(dev_server, transport):
    args = f"url={dev_server.url!r}"
    if transport == "grpc":
        args += f", prefer_grpc=True, grpc_port={dev_server.grpc_port}"
    assert_clean_exit(run_script(LARGE_READS.format(args=args, tag=transport)), "read 2000")


def test_unclosed_memory_client_after_large_reads_exits():
    assert_clean_exit(run_script(LARGE_READS.format(args="':memory:'", tag="memory")), "read 2000")


def test_unclosed_client_inside_asyncio_run_exits(dev_server):
    code = f"""
import asyncio
from aqdrant import QdrantClient

async def main():
    client = QdrantClient(url={dev_server.url!r})  # blocking client where a loop runs (Jupyter-like)
    print("exists", client.collection_exists("nothing"), flush=True)

asyncio.run(main())
"""
    assert_clean_exit(run_script(code), "exists False")


def test_program_threads_keep_using_the_client_after_the_main_thread_ends(dev_server):
    """Nothing is closed under a non-daemon thread of the program: Python waits for it at exit,
    and its last call (a large read, with a worker thread of its own) does not hang the exit."""
    code = LARGE_READS.format(args=f"url={dev_server.url!r}", tag="threads") + """
import threading, time

def worker():
    time.sleep(0.3)  # the main thread has ended by now
    points, _ = client.scroll(name, limit=2000, with_vectors=True)
    print("worker read", len(points), flush=True)

threading.Thread(target=worker).start()
"""
    assert_clean_exit(run_script(code), "worker read 2000")


def test_unclosed_embedded_client_keeps_a_wait_false_write(tmp_path):
    """The engine is closed at exit (its files flushed), so a write the script made with
    ``wait=False`` is there when the store is opened again."""
    path = str(tmp_path / "db")
    write = f"""
from aqdrant import QdrantClient, models
client = QdrantClient(path={path!r})
client.create_collection("c", vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT))
client.upsert("c", [models.PointStruct(id=i, vector=[1.0, 0.0, 0.0, float(i)]) for i in range(500)], wait=False)
print("written", flush=True)
"""
    assert_clean_exit(run_script(write), "written")
    read = f"""
from aqdrant import QdrantClient
with QdrantClient(path={path!r}) as client:
    print("count", client.count("c").count, flush=True)
"""
    assert_clean_exit(run_script(read), "count 500")
