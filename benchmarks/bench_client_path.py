import asyncio, sys, time, cProfile, pstats
from aqdrant import AsyncQdrantClient, models

class Fake:
    async def execute(self, request):
        n = request.op.name
        if n == "query_points":
            return models.QueryResponse(points=[])
        if n == "retrieve_points" or n == "get_points":
            return []
        if n == "count_points":
            return models.CountResult(count=1)
        if n == "upsert_points":
            return models.UpdateResult(operation_id=1, status="completed")
        if n == "get_collection":
            m = models
            return m.CollectionInfo(status=m.CollectionStatus.GREEN, optimizer_status=m.OptimizersStatusOneOf.OK,
                segments_count=1, points_count=3, indexed_vectors_count=0,
                config=m.CollectionConfig(params=m.CollectionParams(vectors=m.VectorParams(size=384, distance=m.Distance.DOT), shard_number=1),
                    hnsw_config=m.HnswConfig(m=16, ef_construct=100, full_scan_threshold=10),
                    optimizer_config=m.OptimizersConfig(default_segment_number=0, flush_interval_sec=5)), payload_schema={})
        raise RuntimeError(n)
    def stream(self, r): raise NotImplementedError
    async def aclose(self): pass

V = [0.1] * 384
F = models.Filter(must=[models.FieldCondition(key="city", match=models.MatchValue(value="x")),
                        models.FieldCondition(key="n", range=models.Range(gte=1, lt=5))])
async def main(prof):
    c = AsyncQdrantClient(backend=Fake(), check_compatibility=False)
    ops = {
        "query": lambda: c.query_points("c", query=V, limit=10),
        "query+filter": lambda: c.query_points("c", query=V, query_filter=F, limit=10),
        "retrieve": lambda: c.retrieve("c", ids=[1, 2, 3]),
        "count": lambda: c.count("c", count_filter=None),
        "upsert": lambda: c.upsert("c", points=[models.PointStruct(id=1, vector=list(V), payload={"a": 1})]),
    }
    only = sys.argv[2] if len(sys.argv) > 2 else None
    for name, f in ops.items():
        if only and name != only: continue
        for _ in range(200): await f()
        if prof:
            p = cProfile.Profile(); p.enable()
            for _ in range(3000): await f()
            p.disable(); pstats.Stats(p).sort_stats("tottime").print_stats(25)
            continue
        best = 1e9
        for _ in range(9):
            t = time.process_time_ns()
            for _ in range(2000): await f()
            best = min(best, (time.process_time_ns() - t) / 2000 / 1000)
        print(f"{name:14s} {best:7.1f} us")
asyncio.run(main(len(sys.argv) > 1 and sys.argv[1] == "prof"))
