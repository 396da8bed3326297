"""One million points streamed from a generator through the actor: peak memory stays bounded
by the buffer, not by the data set (issue: "streaming 1,000,000 small points").

It runs in a fresh interpreter so its peak RSS (``ru_maxrss``) is its own. The sink is a fake
client that acknowledges at once (the actor, not a transport, is what holds points in memory).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent(
    """
    import json, resource, sys
    import anyio
    from aqdrant import models
    from aqdrant.ingest import Ingestor

    N = int(sys.argv[1])

    class Sink:
        acked = 0
        ids_sum = 0
        async def upsert(self, collection_name, points, **kw):
            await anyio.lowlevel.checkpoint()
            self.acked += len(points)
            self.ids_sum += sum(p.id for p in points)
            return models.UpdateResult(operation_id=1, status="completed")

    def gen():
        for i in range(N):
            yield {"id": i, "vector": [0.5, 0.25, 0.125, float(i % 7)], "payload": {"n": i, "tag": "x" * 20}}

    def rss_mb():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    async def main():
        sink = Sink()
        async with Ingestor(sink, "c", batch_size=256, concurrency=4) as warm:  # imports, caches
            await warm.send({"id": 0, "vector": [0.5, 0.25, 0.125, 0.0]})
        before = rss_mb()
        async with Ingestor(sink, "c", batch_size=256, concurrency=4) as ing:
            await ing.send_many(gen())
        rep = ing.report
        print(json.dumps({
            "before_mb": before, "after_mb": rss_mb(), "sent": rep.sent, "acknowledged": rep.acknowledged,
            "failed": rep.failed, "acked_by_sink": sink.acked - 1, "ids_sum": sink.ids_sum,
            "max_pending": ing.max_pending,
        }))

    anyio.run(main, backend=sys.argv[2])
    """
)


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_a_million_points_from_a_generator_keep_memory_bounded(backend):
    n = 1_000_000
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(n), backend], capture_output=True, text=True, timeout=600, check=True
    )
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["sent"] == r["acknowledged"] == r["acked_by_sink"] == n and r["failed"] == 0
    assert r["ids_sum"] == n * (n - 1) // 2  # every id exactly once (the warm-up point is id 0)
    assert r["max_pending"] <= 256 * (1 + 4 + 4)
    # as objects the data set would take several hundred MB; the actor holds a few batches
    growth = r["after_mb"] - r["before_mb"]
    assert growth < 40, r
