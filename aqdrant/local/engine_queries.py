"""The engine's reads and queries: retrieve, scroll, count, facet, query (batch, groups, sparse
MMR) and the search matrix. A mixin of ``engine.Engine`` (see engine_base.py).
"""

from __future__ import annotations

from typing import Any

import qdrant_edge as qe

if __package__:
    from . import convert as cv
    from . import qerrors as qx
    from . import semantics as sem
    from .engine_base import EngineBase, _unsupported
else:  # a top-level sibling in the engine process (see engine.py)
    import convert as cv  # type: ignore[no-redef]
    import qerrors as qx  # type: ignore[no-redef]
    import semantics as sem  # type: ignore[no-redef]
    from engine_base import EngineBase, _unsupported  # type: ignore[no-redef]


class QueryOps(EngineBase):
    """``op_`` methods that read points."""

    # -- reads ----------------------------------------------------------------------------

    def op_get_points(self, path: dict, query: dict, body: Any) -> Any:
        _, shard = self._collection(path)
        self._no_shard_key(body)
        records = shard.retrieve(
            [cv.pid_in(i) for i in body["ids"]],
            cv.with_payload_in(body.get("with_payload"), True),
            cv.with_vector_in(body.get("with_vector"), False),
        )
        return cv.PointRows(records)

    def op_get_point(self, path: dict, query: dict, body: Any) -> Any:
        _, shard = self._collection(path)
        raw = path["id"]
        pid = cv.pid_in(int(raw) if isinstance(raw, str) and raw.isdigit() else raw)
        records = shard.retrieve([pid], True, True)
        if not records:
            raise qx.point_not_found(pid)
        return cv.record_out(records[0])

    def op_scroll_points(self, path: dict, query: dict, body: Any) -> Any:
        _, shard = self._collection(path)
        body = body or {}
        self._no_shard_key(body)
        order_by = body.get("order_by")
        req = qe.ScrollRequest(
            offset=cv.pid_in(body["offset"]) if body.get("offset") is not None else None,
            limit=int(body["limit"]) if body.get("limit") is not None else 10,
            filter=cv.filter_in(body.get("filter")),
            with_payload=cv.with_payload_in(body.get("with_payload"), True),
            with_vector=cv.with_vector_in(body.get("with_vector"), False),
            order_by=cv.order_by_in(order_by) if order_by is not None else None,
        )
        records, next_offset = shard.scroll(req)
        return {"points": cv.PointRows(records), "next_page_offset": cv.pid_out(next_offset)}

    def op_count_points(self, path: dict, query: dict, body: Any) -> Any:
        _, shard = self._collection(path)
        body = body or {}
        self._no_shard_key(body)
        exact = body.get("exact")
        return {
            "count": shard.count(
                qe.CountRequest(
                    exact=True if exact is None else bool(exact), filter=cv.filter_in(body.get("filter"))
                )
            )
        }

    def op_facet(self, path: dict, query: dict, body: Any) -> Any:
        _, shard = self._collection(path)
        self._no_shard_key(body)
        limit = int(body.get("limit") or 10)
        exact = bool(body.get("exact") or False)
        # Qdrant's approximate facet counts every value of the index and keeps the `limit` best
        # by (count desc, value asc); the engine's keeps `limit` as it goes and breaks ties at the
        # cut its own way (values of a multi-valued uuid field were skipped): every value is
        # asked for and the cut made here, as Qdrant makes it
        req = qe.FacetRequest(
            body["key"],
            limit=limit if exact else sem.FACET_ALL_VALUES,
            exact=exact,
            filter=cv.filter_in(body.get("filter")),
        )
        hits = shard.facet(req).hits
        if not exact:
            hits = sem.top_facet_hits(hits, limit)
        return {"hits": [{"value": h.value, "count": h.count} for h in hits]}

    # -- queries --------------------------------------------------------------------------

    def _vector_resolver(self, default_name: str) -> cv.VectorResolver:
        """Point ids used as vectors, resolved as Qdrant does: in ``lookup_from``'s collection
        when given (its ``vector``, else the query's ``using``), else in the searched one."""

        def resolve(pid: Any, using: str, lookup: Any) -> Any:
            coll = default_name
            vname = using
            if lookup:
                if lookup.get("shard_key") is not None:
                    raise _unsupported("shard keys are not supported by the local engine")
                coll = self.resolve(lookup["collection"])
                vname = lookup["vector"] if lookup.get("vector") is not None else using
                if not any(
                    vname in names for names in sem.vector_names(self.catalog.collections[coll].config)
                ):
                    raise qx.vector_name_not_exists(vname)
            records = self.shard(coll).retrieve([pid], False, True)
            if not records:
                raise qx.point_not_found(cv.pid_out(pid))
            vec = records[0].vector
            if isinstance(vec, dict):
                if vname not in vec:
                    raise qx.referenced_vector_not_found(vname)
                return vec[vname]
            if vname != "":
                raise qx.referenced_vector_not_found(vname)
            return vec

        return resolve

    def _prefetch(self, p: dict, resolver: cv.VectorResolver) -> Any:
        # a prefetch resolves its examples with its own `using` and `lookup_from`
        ctx = cv.QueryContext(resolver, p.get("using") or "", p.get("lookup_from"))
        limit = int(p["limit"]) if p.get("limit") is not None else 10
        ctx.limit = limit
        query = cv.query_in(p.get("query"), ctx)
        return qe.Prefetch(
            limit,
            query=query,
            prefetches=[self._prefetch(x, resolver) for x in cv._listify(p.get("prefetch"))] or None,
            params=cv.params_in(p.get("params")),
            filter=cv.filter_in(p.get("filter")),
            score_threshold=p.get("score_threshold"),
        )

    def _query_request(
        self,
        name: str,
        body: dict,
        *,
        limit: int | None = None,
        with_payload: Any = None,
        with_vector: Any = None,
    ) -> Any:
        self._no_shard_key(body)
        sem.check_query(body)
        sem.check_vector_names(body, self.catalog.collections[name].config)
        resolver = self._vector_resolver(name)
        ctx = cv.QueryContext(resolver, body.get("using") or "", body.get("lookup_from"))
        lim = limit if limit is not None else (int(body["limit"]) if body.get("limit") is not None else 10)
        ctx.limit = lim
        query = cv.query_in(body.get("query"), ctx)
        prefetches = [self._prefetch(p, resolver) for p in cv._listify(body.get("prefetch"))]
        # examples looked up in this collection (root or any prefetch) never come back as results;
        # the engine merges the root filter into every prefetch
        excluded = sem.referenced_ids(body, name)
        flt = cv.and_filter(
            body.get("filter"), [{"has_id": list(dict.fromkeys(excluded))}] if excluded else []
        )
        offset = int(body.get("offset") or 0)
        if isinstance(body.get("query"), dict) and "sample" in body["query"] and not prefetches:
            offset = 0  # as Qdrant: a random sample has no stable order to page through
        return qe.QueryRequest(
            limit=lim,
            offset=offset,
            query=query,
            prefetches=prefetches or None,
            with_vector=with_vector
            if with_vector is not None
            else cv.with_vector_in(body.get("with_vector"), False),
            with_payload=with_payload
            if with_payload is not None
            else cv.with_payload_in(body.get("with_payload"), False),
            filter=cv.filter_in(flt),
            score_threshold=body.get("score_threshold"),
            params=cv.params_in(body.get("params")),
        )

    def op_query_points(self, path: dict, query: dict, body: Any) -> Any:
        name, shard = self._collection(path)
        return {"points": self._query_rows(name, shard, body or {})}

    def _query_rows(self, name: str, shard: Any, body: dict) -> Any:
        if sem.sparse_mmr(body, self.catalog.collections[name].config):
            points = self._sparse_mmr(name, shard, body)
        else:
            points = shard.query(self._query_request(name, body))
        return cv.PointRows(points, scored=True, vectors=sem.wants_vectors(body))

    def _sparse_mmr(self, name: str, shard: Any, body: dict) -> list:
        """MMR on a sparse vector (the engine has it for dense ones only): the nearest
        ``candidates_limit`` points, re-ranked as Qdrant's MMR does (semantics.mmr_order)."""
        nearest = body["query"]["nearest"]
        mmr = body["query"]["mmr"] or {}
        limit = int(body["limit"]) if body.get("limit") is not None else 10
        offset = int(body.get("offset") or 0)
        candidates = mmr.get("candidates_limit")
        using = body.get("using") or ""
        plain = {**body, "query": {"nearest": nearest}, "offset": 0}
        plain["limit"] = int(candidates) if candidates is not None else limit
        wv = body.get("with_vector")
        req = self._query_request(name, plain, with_vector=True if sem.wants_vectors(body) else [using])
        if wv not in (None, False, True):
            req = self._query_request(name, plain, with_vector=sorted({*wv, using}))
        found = shard.query(req)
        ctx = cv.QueryContext(self._vector_resolver(name), using, body.get("lookup_from"))
        query_vec = ctx.vector(nearest)
        diversity = mmr.get("diversity")
        lam = 1.0 - (0.5 if diversity is None else float(diversity))
        return sem.mmr_order(found, query_vec, using, lam, limit + offset)[offset:]

    def op_query_batch_points(self, path: dict, query: dict, body: Any) -> Any:
        name, shard = self._collection(path)
        searches = body["searches"]
        cfg = self.catalog.collections[name].config
        plain = [i for i, b in enumerate(searches) if not sem.sparse_mmr(b, cfg)]
        requests = [self._query_request(name, searches[i]) for i in plain]
        results: dict[int, Any] = {}
        if requests:
            for i, points in zip(plain, shard.query_batch(qe.QueryBatchRequest(requests)), strict=True):
                results[i] = cv.PointRows(points, scored=True, vectors=sem.wants_vectors(searches[i]))
        out = []
        for i, b in enumerate(searches):
            out.append({"points": results[i] if i in results else self._query_rows(name, shard, b)})
        return out

    def op_query_points_groups(self, path: dict, query: dict, body: Any) -> Any:
        """Groups by a payload key, built from a growing query (the engine has no grouping)."""
        name, shard = self._collection(path)
        group_by = body["group_by"]
        group_size = int(body.get("group_size") or 3)
        n_groups = int(body.get("limit") or 10)
        fetch = max(n_groups * group_size * 4, 64)
        groups: dict[Any, list] = {}
        while True:
            req = self._query_request(
                name,
                sem.with_prefetch_limits(body, fetch),
                limit=fetch,
                with_payload=qe.PayloadSelector.Include([sem.path_root(group_by)]),
                with_vector=False,
            )
            hits = shard.query(req)
            groups = {}
            for h in hits:
                for key in _group_keys((h.payload or {}), group_by):
                    if key not in groups:
                        if len(groups) >= n_groups:
                            continue
                        groups[key] = []
                    if len(groups[key]) < group_size:
                        groups[key].append(h)
            exhausted = len(hits) < fetch
            full = len(groups) >= n_groups and all(len(v) >= group_size for v in groups.values())
            if exhausted or full or fetch >= 1_000_000:
                break
            fetch *= 4
        ids = list(dict.fromkeys(h.id for hs in groups.values() for h in hs))
        wp = cv.with_payload_in(body.get("with_payload"), False)
        wv = cv.with_vector_in(body.get("with_vector"), False)
        records = (
            {r.id: r for r in shard.retrieve(ids, wp, wv)}
            if ids and (wp is not False or wv is not False)
            else {}
        )
        lookup = body.get("with_lookup")
        lookup_records: dict[Any, Any] = {}
        if lookup is not None:
            lname = lookup if isinstance(lookup, str) else lookup["collection"]
            if lname not in self.catalog.collections and lname not in self.catalog.aliases:
                raise qx.lookup_collection_not_found(lname)
            lshard = self.shard(self.resolve(lname))
            lwp = True if isinstance(lookup, str) else cv.with_payload_in(lookup.get("with_payload"), True)
            lwv = False if isinstance(lookup, str) else cv.with_vector_in(lookup.get("with_vectors"), False)
            keys = [k for k in groups if not isinstance(k, str) or cv._is_point_id(k)]
            lookup_records = (
                {cv.pid_out(r.id): r for r in lshard.retrieve([cv.pid_in(k) for k in keys], lwp, lwv)}
                if keys
                else {}
            )
        out = []
        for key, hits in groups.items():
            group_hits = []
            for h in hits:
                item: dict[str, Any] = {"id": cv.pid_out(h.id), "version": h.version, "score": h.score}
                rec = records.get(h.id)
                if rec is not None:
                    if rec.payload is not None and wp is not False:
                        item["payload"] = rec.payload
                    if rec.vector is not None and wv is not False:
                        item["vector"] = cv.vector_out(rec.vector)
                group_hits.append(item)
            group: dict[str, Any] = {"id": key, "hits": group_hits}
            if lookup is not None:
                lk = cv.pid_in(key) if isinstance(key, int) or cv._is_point_id(key) else None
                rec = lookup_records.get(cv.pid_out(lk)) if lk is not None else None
                if rec is not None:
                    group["lookup"] = cv.record_out(rec)
            out.append(group)
        return {"groups": out}

    def _matrix(self, path: dict, body: Any) -> tuple[list, list]:
        """(sampled ids, [(i, j, score)]) for the search matrix ops, as Qdrant builds them
        (collection/distance_matrix.rs): a random sample of points having the vector, sorted by
        id; for each, its nearest among the sample (itself left out); under 2 points, nothing."""
        name, shard = self._collection(path)
        body = body or {}
        self._no_shard_key(body)
        using = body.get("using") or ""
        sample = int(body["sample"]) if body.get("sample") is not None else 10
        limit = int(body["limit"]) if body.get("limit") is not None else 3
        sem.check_vector_name(using, self.catalog.collections[name].config)
        if sample == 0 or limit == 0:
            return [], []
        flt = cv.and_filter(body.get("filter"), [])
        flt = dict(flt or {})
        flt["must"] = cv._listify(flt.get("must")) + [{"has_vector": using}]
        sampled = shard.query(
            qe.QueryRequest(
                limit=sample,
                query=qe.Sample.Random,
                filter=cv.filter_in(flt),
                with_vector=[using] if using else True,
            )
        )
        if len(sampled) < 2:
            return [], []
        by_id = {cv.pid_out(p.id): p for p in sampled}
        ids = sem.sort_ids(list(by_id))
        index = {pid: i for i, pid in enumerate(ids)}
        among = qe.Filter(must=[qe.HasIdCondition({cv.pid_in(x) for x in ids})])
        requests = []
        for pid in ids:
            vec = by_id[pid].vector
            vec = vec[using] if isinstance(vec, dict) else vec
            requests.append(
                qe.QueryRequest(
                    limit=limit + 1, query=qe.Query.Nearest(vec, using=using or None), filter=among
                )
            )
        triples = []
        for i, hits in enumerate(shard.query_batch(qe.QueryBatchRequest(requests))):
            others = [h for h in hits if cv.pid_out(h.id) != ids[i]]
            if len(others) == limit + 1:
                others.pop()
            triples += [(i, index[cv.pid_out(h.id)], h.score) for h in others]
        return ids, triples

    def op_search_matrix_pairs(self, path: dict, query: dict, body: Any) -> Any:
        ids, triples = self._matrix(path, body)
        return {"pairs": [{"a": ids[i], "b": ids[j], "score": s} for i, j, s in triples]}

    def op_search_matrix_offsets(self, path: dict, query: dict, body: Any) -> Any:
        ids, triples = self._matrix(path, body)
        return {
            "offsets_row": [i for i, _, _ in triples],
            "offsets_col": [j for _, j, _ in triples],
            "scores": [s for _, _, s in triples],
            "ids": ids,
        }


def _group_keys(payload: dict, key: str) -> list:
    """The group ids a payload gives for ``key`` (a JSON path: ``a.b``, ``a[]``, ``a[].b``,
    ``a[2]``): strings and integers found there, arrays flattened, as Qdrant groups."""
    out: list = []
    for value in sem.path_values(payload, key):
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool)):
                if v not in out:
                    out.append(v)
    return out
