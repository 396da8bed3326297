"""Per-call overhead of the blocking shim (``aqdrant.QdrantClient``).

Rows (each: median over repeats of the mean per-call time of a batch of calls, wall clock and
this process's CPU time - the latter is less sensitive to a busy machine):

* ``collection_exists`` on the embedded engine (``":memory:"``, answered from the catalog in
  this process): awaited directly on ``AsyncQdrantClient`` (asyncio), through the blocking shim,
  and on the peer's blocking ``qdrant_client.QdrantClient(":memory:")`` (its pure-Python local
  mode);
* the same from 8 threads sharing one shim client (per call: elapsed / all calls), next to 8
  concurrent tasks awaiting one async client;
* ``collection_exists`` over REST against the dev server (``aqdrant.server.ServerThread``, run in
  a child process: in this one its thread would compete for the GIL with the client's and blur
  the comparison): awaited, through the shim, and the peer's blocking client;
* the mechanism alone on a coroutine that returns at once: the shim's runner versus anyio's
  ``BlockingPortal.call`` (the obvious alternative), to show what the hot path costs.

Shim overhead = shim row minus the awaited row (same client code, same engine or server).

Usage: ``python benchmarks/bench_shim.py [--calls 2000] [--repeats 7]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import anyio
from anyio.from_thread import start_blocking_portal

from aqdrant import AsyncQdrantClient, QdrantClient, models
from aqdrant.sync_shim._runner import Runner

VECTORS = models.VectorParams(size=4, distance=models.Distance.DOT)


Timing = tuple[float, float]  # (wall us/call, process CPU us/call)


class _Clock:
    """Wall time and this process's CPU time (all threads; not the engine's child process)."""

    def __enter__(self) -> _Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def _medians(runs: list[_Clock], calls: int) -> Timing:
    return (
        statistics.median(r.wall / calls * 1e6 for r in runs),
        statistics.median(r.cpu / calls * 1e6 for r in runs),
    )


def _median_us(run_batch: Callable[[int], _Clock], calls: int, repeats: int) -> Timing:
    run_batch(max(calls // 10, 10))  # warm up
    return _medians([run_batch(calls) for _ in range(repeats)], calls)


LOCAL: dict[str, object] = {"location": ":memory:"}


def _rest(url: str) -> dict[str, object]:
    return {"url": url, "check_compatibility": False}


_SERVE = """
import sys
from aqdrant.server import ServerThread
with ServerThread() as server:
    print(server.url, flush=True)
    sys.stdin.read()
"""


@contextlib.contextmanager
def dev_server_process() -> Iterator[str]:
    """The dev server (``ServerThread``) in a child process, until the block is left; yields its URL."""
    proc = subprocess.Popen([sys.executable, "-c", _SERVE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url:
            raise RuntimeError("the dev server did not start")
        yield url
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(30)


def bench_pair(
    calls: int, repeats: int, where: dict[str, object] = LOCAL, workers: int = 1
) -> tuple[Timing, Timing]:
    """``collection_exists`` awaited on ``AsyncQdrantClient`` and through the shim, their batches
    interleaved (a machine busy with other work then slows both alike). ``workers`` concurrent
    tasks / threads share each client; the time is per call (elapsed / all calls)."""
    loop = asyncio.new_event_loop()  # the awaited client's loop: it runs only during its batches

    async def open_async() -> AsyncQdrantClient:
        aclient = AsyncQdrantClient(**where)  # type: ignore[arg-type]
        if not await aclient.collection_exists("c"):
            await aclient.create_collection("c", vectors_config=VECTORS)
        return aclient

    aclient = loop.run_until_complete(open_async())
    try:
        with QdrantClient(**where) as client:  # type: ignore[arg-type]
            if not client.collection_exists("c"):
                client.create_collection("c", vectors_config=VECTORS)

            async def calls_of_one_task(n: int) -> None:
                for _ in range(n):
                    await aclient.collection_exists("c")

            async def awaited_batch(n: int) -> _Clock:
                with _Clock() as clock:
                    async with anyio.create_task_group() as tg:
                        for _ in range(workers):
                            tg.start_soon(calls_of_one_task, n // workers)
                return clock

            def calls_of_one_thread(n: int) -> None:
                for _ in range(n):
                    client.collection_exists("c")

            def shim_batch(n: int) -> _Clock:
                threads = [threading.Thread(target=calls_of_one_thread, args=(n // workers,)) for _ in range(workers)]
                with _Clock() as clock:
                    if workers == 1:
                        calls_of_one_thread(n)
                    else:
                        for th in threads:
                            th.start()
                        for th in threads:
                            th.join()
                return clock

            awaited_runs: list[_Clock] = []
            shim_runs: list[_Clock] = []
            loop.run_until_complete(awaited_batch(max(calls // 10, 10)))  # warm up
            shim_batch(max(calls // 10, 10))
            for _ in range(repeats):
                awaited_runs.append(loop.run_until_complete(awaited_batch(calls)))
                shim_runs.append(shim_batch(calls))
            return _medians(awaited_runs, calls), _medians(shim_runs, calls)
    finally:
        loop.run_until_complete(aclient.close())
        loop.close()


def bench_peer(calls: int, repeats: int, where: dict[str, object] = LOCAL) -> Timing:
    import qdrant_client
    from qdrant_client import models as qm

    client = qdrant_client.QdrantClient(**where)  # type: ignore[arg-type]
    try:
        if not client.collection_exists("c"):
            client.create_collection("c", vectors_config=qm.VectorParams(size=4, distance=qm.Distance.DOT))

        def batch(n: int) -> _Clock:
            with _Clock() as clock:
                for _ in range(n):
                    client.collection_exists("c")
            return clock

        return _median_us(batch, calls, repeats)
    finally:
        client.close()


class _Noop:
    async def noop(self) -> None:
        return None


async def _aclose(target: object) -> None:
    return None


def bench_runner_noop(calls: int, repeats: int) -> Timing:
    runner = Runner(_Noop, aclose=_aclose)
    try:

        def batch(n: int) -> _Clock:
            with _Clock() as clock:
                for _ in range(n):
                    runner.call(_Noop.noop)
            return clock

        return _median_us(batch, calls, repeats)
    finally:
        runner.close()


def bench_portal_noop(calls: int, repeats: int) -> Timing:
    target = _Noop()
    with start_blocking_portal("asyncio") as portal:

        def batch(n: int) -> _Clock:
            with _Clock() as clock:
                for _ in range(n):
                    portal.call(target.noop)
            return clock

        return _median_us(batch, calls, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=2000, help="calls per repeat (REST: a fifth)")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    calls, repeats = args.calls, args.repeats
    rest_calls = max(calls // 5, 16)

    awaited, shim = bench_pair(calls, repeats)
    peer = bench_peer(calls, repeats)
    awaited8, shim8 = bench_pair(calls, repeats, workers=8)
    with dev_server_process() as url:
        rest_awaited, rest_shim = bench_pair(rest_calls, repeats, _rest(url))
        rest_peer = bench_peer(rest_calls, repeats, {"url": url})
    runner = bench_runner_noop(calls, repeats)
    portal = bench_portal_noop(calls, repeats)

    local, local8, remote = "collection_exists, :memory:", "same, 8 threads / tasks", "collection_exists, REST"
    rows = [
        (local, "aqdrant AsyncQdrantClient, awaited (asyncio)", awaited),
        (local, "aqdrant QdrantClient (blocking shim)", shim),
        (local, "qdrant_client.QdrantClient (peer, blocking)", peer),
        (local8, "aqdrant AsyncQdrantClient, 8 tasks awaiting", awaited8),
        (local8, "aqdrant QdrantClient, 8 threads, one client", shim8),
        (remote, "aqdrant AsyncQdrantClient, awaited (asyncio)", rest_awaited),
        (remote, "aqdrant QdrantClient (blocking shim)", rest_shim),
        (remote, "qdrant_client.QdrantClient (peer, blocking)", rest_peer),
        ("no-op coroutine", "shim runner.call (the mechanism alone)", runner),
        ("no-op coroutine", "anyio BlockingPortal.call (alternative)", portal),
    ]
    print(f"median of {repeats} repeats x {calls} calls ({rest_calls} over REST); microseconds per call")
    print("wall = elapsed; cpu = this process's CPU, all threads (the engine's own process excluded)")
    print("8 threads / tasks: elapsed / all calls of the 8; REST: the dev server runs in a child process\n")
    print(f"{'workload':<30} {'client':<48} {'wall us':>8} {'cpu us':>8}")
    print("-" * 97)
    for workload, who, (wall, cpu) in rows:
        print(f"{workload:<30} {who:<48} {wall:>8.1f} {cpu:>8.1f}")
    print("-" * 97)
    for what, (s_wall, s_cpu), (a_wall, a_cpu) in (
        (":memory:", shim, awaited),
        ("8 threads", shim8, awaited8),
        ("REST", rest_shim, rest_awaited),
    ):
        print(
            f"shim overhead over awaiting directly, {what}: {s_wall - a_wall:+.1f} us wall, "
            f"{s_cpu - a_cpu:+.1f} us cpu per call"
        )


if __name__ == "__main__":
    main()
