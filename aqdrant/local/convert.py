"""Conversion between Qdrant's JSON shapes (as decoded builtins) and ``qdrant_edge`` objects.

This module runs inside the engine process. It takes request bodies as the plain dicts/lists
the server would receive (``models.dump`` on the caller's side, ``msgspec.json.decode`` here) and
builds the engine's objects; results go back as the builtins the server would send.

Engine defects handled here (measured on qdrant-edge-py 0.9.0):

- ``MatchValue(True)`` is turned into the integer 1 and never matches: booleans are passed as
  ``numpy.bool_``.
- ``datetime``/``date``/``UUID`` payload values are rejected: bodies arrive as JSON, so such
  values are already strings.
- UUID point ids come back as ``uuid.UUID``: they are returned as their canonical string.
- ``SparseVector`` results are engine objects: returned as ``{"indices", "values"}``.
"""

from __future__ import annotations

import array
import datetime
import uuid
from typing import Any, Callable

import qdrant_edge as qe

if __package__:
    from . import protocol as wire
else:  # a top-level sibling in the engine process (see engine.py)
    import protocol as wire  # type: ignore[no-redef]


class ConversionError(ValueError):
    """The request has a shape or value the engine cannot take (reported as 400)."""


class NeedsInference(ConversionError):
    """A Document/Image/InferenceObject was given: the local engine has no embedding models."""


# ---------------------------------------------------------------------------------------------
# enums


def _enum(kind: Any, value: Any, table: dict[str, str] | None = None) -> Any:
    if value is None:
        return None
    text = str(value)
    name = (table or {}).get(text)
    if name is None:
        name = "".join(part[:1].upper() + part[1:] for part in text.split("_"))
    try:
        return getattr(kind, name)
    except AttributeError:
        raise ConversionError(
            f"value {text!r} is not supported by the local engine for {kind.__name__}"
        ) from None


_DISTANCE = {"Cosine": "Cosine", "Euclid": "Euclid", "Dot": "Dot", "Manhattan": "Manhattan"}
_QUERY_ENCODING = {"scalar4bits": "Scalar4Bits", "scalar8bits": "Scalar8Bits"}
_MULTI = {"max_sim": "MaxSim"}


def distance(value: str) -> Any:
    return _enum(qe.Distance, value, _DISTANCE)


def memory(value: Any) -> Any:
    return _enum(qe.Memory, value)


def datatype(value: Any) -> Any:
    return _enum(qe.VectorStorageDatatype, value)


# ---------------------------------------------------------------------------------------------
# ids, vectors, payload


def pid_in(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ConversionError(f"point id must be an unsigned integer or a UUID string, got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ConversionError(f"point id must be an unsigned integer or a UUID string, got {value!r}")
        return value
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ConversionError(
            f"point id must be an unsigned integer or a UUID string, got {value!r}"
        ) from None


def pid_out(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


_SIMPLE = (str, int, float, bool, type(None))


def _plain(v: Any) -> Any:
    if isinstance(v, _SIMPLE):
        return v
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, array.array):  # a float array of an update body (see engine._ext_hook)
        return v.tolist()
    if isinstance(v, (datetime.datetime, datetime.date, datetime.time)):
        # timezone-aware datetimes arrive as msgpack timestamps; the engine rejects datetime
        # objects (defect): pass RFC 3339 text, as the server's JSON would carry
        text = v.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(v, (bytes, bytearray, memoryview)):
        # as the REST path sends them (base64 text); the engine would store a list of ints
        import base64

        return base64.b64encode(bytes(v)).decode("ascii")
    return str(v)


def payload_in(p: Any) -> Any:
    """A payload as the engine takes it: datetimes as strings (engine defect), JSON values only."""
    if p is None:
        return None
    if not isinstance(p, dict):
        raise ConversionError(f"a payload must be an object, got {type(p).__name__}")
    return p if _simple_values(p) else _plain(p)


def _is_sparse(v: Any) -> bool:
    return isinstance(v, dict) and "indices" in v and "values" in v


def _check_inference(v: Any) -> None:
    if isinstance(v, dict) and ("text" in v or "image" in v or "object" in v) and "model" in v:
        raise NeedsInference(
            "inference objects (Document, Image, InferenceObject) need a server with inference; "
            "the local engine takes only vectors"
        )


_ROWS = (list, array.array)
_EMPTY = "a vector (and every row of a multivector) must have at least one value"


def named_vector_in(v: Any) -> Any:
    """One vector of a point: dense list, multivector (list of lists) or sparse dict; in update
    bodies, float arrays arrive as ``array.array`` (see engine._ext_hook), which the engine
    reads like lists."""
    cls = v.__class__
    if cls is array.array:
        if not v:  # the engine panics (and its process dies) on an empty vector
            raise ConversionError(_EMPTY)
        return v
    if cls is list:
        # The engine panics on an empty vector or multivector row; only a list whose first item
        # is a row can be a multivector (anything else mixed in is rejected by the engine)
        if not v or (isinstance(v[0], _ROWS) and any(isinstance(row, _ROWS) and not row for row in v)):
            raise ConversionError(_EMPTY)
        return v
    _check_inference(v)
    if _is_sparse(v):
        return qe.SparseVector(list(v["indices"]), [float(x) for x in v["values"]])
    raise ConversionError(f"unsupported vector value of type {type(v).__name__}")


def vector_in(v: Any) -> Any:
    """A point's vector struct: unnamed dense/multi vector or a dict of named vectors."""
    if isinstance(v, dict) and not _is_sparse(v):
        _check_inference(v)
        return {name: named_vector_in(x) for name, x in v.items()}
    if _is_sparse(v):
        raise ConversionError(
            "a sparse vector must be given by name, e.g. {'text': {'indices': ..., 'values': ...}}"
        )
    return named_vector_in(v)


def points_in(ids: list, vectors: list, payloads: list) -> list:
    """``qe.Point`` objects for an upsert batch (``vectors``: one vector struct per point).

    The common batch - integer ids, unnamed dense vectors from a numpy array (``array.array``
    rows), payloads of plain values - is built with one check per column instead of three
    conversions per point: it is most of the engine process's own work during an ingest.
    """
    Point = qe.Point
    if (
        all(i.__class__ is int for i in ids)
        and (not ids or min(ids) >= 0)
        and all(v.__class__ is array.array and v for v in vectors)
    ):
        if all(p is None or (p.__class__ is dict and _simple_values(p)) for p in payloads):
            return [Point(i, v, p) for i, v, p in zip(ids, vectors, payloads, strict=True)]
        return [Point(i, v, payload_in(p)) for i, v, p in zip(ids, vectors, payloads, strict=True)]
    return [
        Point(pid_in(i), vector_in(v), payload_in(p)) for i, v, p in zip(ids, vectors, payloads, strict=True)
    ]


def _simple_values(p: dict) -> bool:
    for v in p.values():
        if not isinstance(v, _SIMPLE):
            return False
    return True


def vector_out(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, qe.SparseVector):
        return {"indices": list(v.indices), "values": list(v.values)}
    if isinstance(v, dict):
        return {k: vector_out(x) for k, x in v.items()}
    return v


def with_payload_in(v: Any, default: bool) -> Any:
    if v is None:
        return default
    if isinstance(v, bool):
        return v
    if isinstance(v, list):
        return qe.PayloadSelector.Include([str(x) for x in v])
    if isinstance(v, dict):
        if "include" in v:
            return qe.PayloadSelector.Include(list(v["include"]))
        if "exclude" in v:
            return qe.PayloadSelector.Exclude(list(v["exclude"]))
    raise ConversionError(f"unsupported with_payload value {v!r}")


def with_vector_in(v: Any, default: bool = False) -> Any:
    if v is None:
        return default
    if isinstance(v, (bool, list)):
        return v
    raise ConversionError(f"unsupported with_vector value {v!r}")


def record_out(r: Any, with_vector: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"id": pid_out(r.id)}
    payload = r.payload
    if payload is not None:
        out["payload"] = payload
    if with_vector:
        vector = r.vector
        if vector is not None:
            out["vector"] = vector_out(vector)
    ov = r.order_value
    if ov is not None:
        out["order_value"] = ov
    return out


def scored_out(p: Any, with_vector: bool = True) -> dict[str, Any]:
    out = record_out(p, with_vector)
    out["version"] = p.version
    out["score"] = p.score
    return out


class PointRows:
    """Engine records (``scored``: scored points) in a result, sent apart from the rest of the
    reply: their JSON without vectors, and their vectors as :func:`vector_wire` (engine.py);
    ``vectors=False`` leaves out vectors the engine returned unasked (its MMR does)."""

    __slots__ = ("records", "scored", "vectors")

    def __init__(self, records: list, scored: bool = False, vectors: bool = True) -> None:
        self.records = records
        self.scored = scored
        self.vectors = vectors

    def __len__(self) -> int:
        return len(self.records)


def vector_wire(v: Any, ext: Callable[[int, bytes], Any]) -> Any:
    """A point's vector for a reply frame: dense vectors as float32 bytes (``ext(code, data)``;
    the engine's floats are float32 values, so nothing is lost), sparse as ``{indices,
    values}``, multivectors as lists, named ones as a dict of these."""
    if v is None:
        return None
    if v.__class__ is list:
        if v and v[0].__class__ is float:
            return ext(wire.EXT_F32_VECTOR, array.array("f", v).tobytes())
        return v
    if isinstance(v, dict):
        return {k: vector_wire(x, ext) for k, x in v.items()}
    return vector_out(v)


# ---------------------------------------------------------------------------------------------
# filters


def _listify(v: Any) -> list:
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def _match_value(v: Any) -> Any:
    # Defect: MatchValue(True) becomes the integer 1 and never matches; numpy.bool_ works.
    if isinstance(v, bool):
        import numpy as np

        return np.bool_(v)
    return v


def match_in(m: dict) -> Any:
    if "value" in m:
        return qe.MatchValue(_match_value(m["value"]))
    if "text" in m:
        return qe.MatchText(m["text"])
    if "text_any" in m:
        return qe.MatchTextAny(m["text_any"])
    if "phrase" in m:
        return qe.MatchPhrase(m["phrase"])
    if "prefix" in m:
        return qe.MatchPrefix(m["prefix"])
    if "substring" in m:
        return qe.MatchSubstring(m["substring"])
    if "any" in m:
        return qe.MatchAny(list(m["any"]))
    if "except" in m:
        return qe.MatchExcept(list(m["except"]))
    raise ConversionError(f"unsupported match condition {m!r}")


def _geo_point(p: dict) -> Any:
    return qe.GeoPoint(lon=float(p["lon"]), lat=float(p["lat"]))


def _range_in(r: dict) -> Any:
    vals = {k: _plain(r.get(k)) for k in ("gt", "gte", "lt", "lte") if r.get(k) is not None}
    if any(isinstance(v, str) for v in vals.values()):
        return qe.RangeDateTime(**{k: str(v) for k, v in vals.items()})
    return qe.RangeFloat(**{k: float(v) for k, v in vals.items()})


def field_condition_in(c: dict) -> Any:
    kw: dict[str, Any] = {}
    if c.get("match") is not None:
        kw["match"] = match_in(c["match"])
    if c.get("range") is not None:
        kw["range"] = _range_in(c["range"])
    if c.get("geo_bounding_box") is not None:
        g = c["geo_bounding_box"]
        kw["geo_bounding_box"] = qe.GeoBoundingBox(_geo_point(g["top_left"]), _geo_point(g["bottom_right"]))
    if c.get("geo_radius") is not None:
        g = c["geo_radius"]
        kw["geo_radius"] = qe.GeoRadius(_geo_point(g["center"]), float(g["radius"]))
    if c.get("geo_polygon") is not None:
        g = c["geo_polygon"]
        interiors = g.get("interiors")
        kw["geo_polygon"] = qe.GeoPolygon(
            [_geo_point(p) for p in g["exterior"]["points"]],
            [[_geo_point(p) for p in ring["points"]] for ring in interiors] if interiors else None,
        )
    if c.get("values_count") is not None:
        kw["values_count"] = qe.ValuesCount(**{k: v for k, v in c["values_count"].items() if v is not None})
    if c.get("is_empty") is not None:
        kw["is_empty"] = bool(c["is_empty"])
    if c.get("is_null") is not None:
        kw["is_null"] = bool(c["is_null"])
    return qe.FieldCondition(c["key"], **kw)


def condition_in(c: Any) -> Any:
    if not isinstance(c, dict):
        raise ConversionError(f"a filter condition must be an object, got {c!r}")
    if "key" in c:
        return field_condition_in(c)
    if "is_empty" in c:
        return qe.IsEmptyCondition(c["is_empty"]["key"])
    if "is_null" in c:
        return qe.IsNullCondition(c["is_null"]["key"])
    if "has_id" in c:
        return qe.HasIdCondition({pid_in(x) for x in c["has_id"]})
    if "has_vector" in c:
        return qe.HasVectorCondition(c["has_vector"])
    if "nested" in c:
        return qe.NestedCondition(c["nested"]["key"], filter_in(c["nested"]["filter"]))
    if "slice" in c:
        return qe.SliceCondition(total=int(c["slice"]["total"]), index=int(c["slice"]["index"]))
    if not c or any(k in c for k in ("must", "should", "must_not", "min_should")):
        return filter_in(c)
    raise ConversionError(f"unsupported filter condition {c!r}")


def filter_in(f: Any) -> Any:
    if f is None:
        return None
    if not isinstance(f, dict):
        raise ConversionError(f"a filter must be an object, got {f!r}")
    kw: dict[str, Any] = {}
    for key in ("must", "should", "must_not"):
        if f.get(key) is not None:
            kw[key] = [condition_in(c) for c in _listify(f[key])]
    ms = f.get("min_should")
    if ms is not None:
        kw["min_should"] = qe.MinShould(
            [condition_in(c) for c in _listify(ms["conditions"])], int(ms["min_count"])
        )
    return qe.Filter(**kw)


def and_filter(f: Any, extra_must_not: list) -> Any:
    """``f`` (a JSON filter or None) with extra ``must_not`` conditions (JSON), as JSON."""
    if not extra_must_not:
        return f
    out = dict(f) if f else {}
    out["must_not"] = _listify(out.get("must_not")) + extra_must_not
    return out


# ---------------------------------------------------------------------------------------------
# search params, queries

VectorResolver = Callable[[Any, str, Any], Any]
"""(point id, vector name, lookup_from JSON or None) -> the stored vector."""


def params_in(p: Any) -> Any:
    if p is None:
        return None
    kw: dict[str, Any] = {}
    if p.get("hnsw_ef") is not None:
        kw["hnsw_ef"] = int(p["hnsw_ef"])
    if p.get("exact") is not None:
        kw["exact"] = bool(p["exact"])
    if p.get("indexed_only") is not None:
        kw["indexed_only"] = bool(p["indexed_only"])
    if p.get("quantization") is not None:
        qz = p["quantization"]
        kw["quantization"] = qe.QuantizationSearchParams(
            ignore=bool(qz.get("ignore") or False),
            rescore=qz.get("rescore"),
            oversampling=qz.get("oversampling"),
        )
    if p.get("acorn") is not None:
        a = p["acorn"]
        kw["acorn"] = qe.AcornSearchParams(
            enable=bool(a.get("enable") or False), max_selectivity=a.get("max_selectivity")
        )
    if p.get("idf") is not None:
        idf = p["idf"]
        kw["idf"] = qe.IdfParams(corpus=filter_in(idf["corpus"])) if isinstance(idf, dict) else qe.IdfParams()
    return qe.SearchParams(**kw)


def _is_point_id(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return True
    if isinstance(v, str):
        try:
            uuid.UUID(v)
        except ValueError:
            return False
        return True
    return False


class QueryContext:
    """Resolves point ids used as vectors (semantics.referenced_ids says which are excluded)."""

    def __init__(self, resolve: VectorResolver, using: str, lookup_from: Any) -> None:
        self.resolve = resolve
        self.using = using
        self.lookup_from = lookup_from
        self.limit = 10

    def vector(self, v: Any) -> Any:
        if _is_point_id(v):
            pid = pid_in(v)
            return self.resolve(pid, self.using, self.lookup_from)
        return named_vector_in(v)


def _semantics() -> Any:
    if __package__:
        from . import semantics
    else:  # engine process: a top-level sibling
        import semantics  # type: ignore[no-redef]
    return semantics


def query_in(q: Any, ctx: QueryContext) -> Any:
    """A JSON ``query`` (QueryInterface) as an engine scoring query (or None)."""
    if q is None:
        return None
    using = ctx.using or None
    if not isinstance(q, dict) or _is_sparse(q):
        return qe.Query.Nearest(ctx.vector(q), using=using)
    _check_inference(q)
    if "nearest" in q:
        vec = ctx.vector(q["nearest"])
        mmr = q.get("mmr")
        if mmr is not None:
            diversity = mmr.get("diversity")
            lam = 1.0 - (0.5 if diversity is None else float(diversity))
            limit = mmr.get("candidates_limit")
            return qe.Mmr(vec, lam, int(limit if limit is not None else ctx.limit), using=using)
        return qe.Query.Nearest(vec, using=using)
    if "recommend" in q:
        r = q["recommend"]
        pos = [ctx.vector(x) for x in _listify(r.get("positive"))]
        neg = [ctx.vector(x) for x in _listify(r.get("negative"))]
        strategy = r.get("strategy") or "average_vector"
        if strategy == "average_vector":
            return qe.Query.Nearest(_semantics().average_vector(pos, neg), using=using)
        rq = qe.RecommendQuery(pos, neg)
        if strategy == "best_score":
            return qe.Query.RecommendBestScore(rq, using=using)
        if strategy == "sum_scores":
            return qe.Query.RecommendSumScores(rq, using=using)
        raise ConversionError(f"unsupported recommend strategy {strategy!r}")
    if "discover" in q:
        d = q["discover"]
        pairs = [
            qe.ContextPair(ctx.vector(p["positive"]), ctx.vector(p["negative"]))
            for p in _listify(d.get("context"))
        ]
        return qe.Query.Discover(qe.DiscoverQuery(ctx.vector(d["target"]), pairs), using=using)
    if "context" in q:
        pairs = [
            qe.ContextPair(ctx.vector(p["positive"]), ctx.vector(p["negative"]))
            for p in _listify(q["context"])
        ]
        return qe.Query.Context(qe.ContextQuery(pairs), using=using)
    if "order_by" in q:
        return order_by_in(q["order_by"])
    if "fusion" in q:
        if q["fusion"] == "rrf":
            return qe.Fusion.Rrf(k=2)
        if q["fusion"] == "dbsf":
            return qe.Fusion.Dbsf()
        raise ConversionError(f"unsupported fusion {q['fusion']!r}")
    if "rrf" in q:
        r = q["rrf"] or {}
        return qe.Fusion.Rrf(k=int(r.get("k") if r.get("k") is not None else 2), weights=r.get("weights"))
    if "formula" in q:
        return qe.Formula(expression_in(q["formula"]), q.get("defaults"))
    if "sample" in q:
        if q["sample"] != "random":
            raise ConversionError(f"unsupported sample {q['sample']!r}")
        return qe.Sample.Random
    if "relevance_feedback" in q:
        rf = q["relevance_feedback"]
        items = [qe.FeedbackItem(ctx.vector(it["example"]), float(it["score"])) for it in rf["feedback"]]
        naive = rf["strategy"]["naive"]
        strat = qe.NaiveFeedbackStrategy(float(naive["a"]), float(naive["b"]), float(naive["c"]))
        return qe.Query.FeedbackNaive(
            qe.FeedbackNaiveQuery(ctx.vector(rf["target"]), items, strat), using=using
        )
    raise ConversionError(f"unsupported query {sorted(q)!r}")


def order_by_in(o: Any) -> Any:
    if isinstance(o, str):
        return qe.OrderBy(o)
    direction = o.get("direction")
    return qe.OrderBy(
        o["key"],
        direction=_enum(qe.Direction, direction) if direction else None,
        start_from=_plain(o.get("start_from")),
    )


_DECAY = {"lin_decay": "Lin", "exp_decay": "Exp", "gauss_decay": "Gauss"}
_UNARY = {"neg": "Neg", "abs": "Abs", "sqrt": "Sqrt", "exp": "Exp", "log10": "Log10", "ln": "Ln"}


def expression_in(e: Any) -> Any:
    E = qe.Expression
    if isinstance(e, bool):
        raise ConversionError("a formula expression cannot be a boolean")
    if isinstance(e, (int, float)):
        return E.Constant(float(e))
    if isinstance(e, str):
        return E.Variable(e)
    if not isinstance(e, dict):
        raise ConversionError(f"unsupported formula expression {e!r}")
    if "mult" in e:
        return E.Mult([expression_in(x) for x in e["mult"]])
    if "sum" in e:
        return E.Sum([expression_in(x) for x in e["sum"]])
    for key, name in _UNARY.items():
        if key in e:
            return getattr(E, name)(expression_in(e[key]))
    if "div" in e:
        d = e["div"]
        return E.Div(expression_in(d["left"]), expression_in(d["right"]), d.get("by_zero_default"))
    if "pow" in e:
        return E.Pow(expression_in(e["pow"]["base"]), expression_in(e["pow"]["exponent"]))
    if "geo_distance" in e:
        g = e["geo_distance"]
        return E.GeoDistance(_geo_point(g["origin"]), g["to"])
    if "datetime" in e:
        return E.Datetime(_plain(e["datetime"]))
    if "datetime_key" in e:
        return E.DatetimeKey(e["datetime_key"])
    for key, kind in _DECAY.items():
        if key in e:
            p = e[key]
            return E.Decay(
                getattr(qe.DecayKind, kind),
                expression_in(p["x"]),
                target=expression_in(p["target"]) if p.get("target") is not None else None,
                midpoint=p.get("midpoint"),
                scale=p.get("scale"),
            )
    return E.Condition(condition_in(e))


# ---------------------------------------------------------------------------------------------
# collection configuration


def hnsw_in(h: Any, base: dict | None = None) -> Any:
    if h is None and base is None:
        return None
    merged = {"m": 16, "ef_construct": 100, "full_scan_threshold": 10000, **(base or {}), **(h or {})}
    kw: dict[str, Any] = {}
    for k in ("on_disk", "payload_m", "inline_storage"):
        if merged.get(k) is not None:
            kw[k] = merged[k]
    if merged.get("memory") is not None:
        kw["memory"] = memory(merged["memory"])
    return qe.HnswIndexConfig(
        m=int(merged["m"]),
        ef_construct=int(merged["ef_construct"]),
        full_scan_threshold=int(merged["full_scan_threshold"]),
        max_indexing_threads=int(merged.get("max_indexing_threads") or 0),
        **kw,
    )


def quantization_in(qc: Any) -> Any:
    if qc is None or qc == "Disabled":
        return None
    if "scalar" in qc:
        s = qc["scalar"]
        return qe.ScalarQuantizationConfig(
            _enum(qe.ScalarType, s.get("type", "int8")),
            quantile=s.get("quantile"),
            always_ram=s.get("always_ram"),
            memory=memory(s.get("memory")),
        )
    if "product" in qc:
        p = qc["product"]
        return qe.ProductQuantizationConfig(
            _enum(qe.CompressionRatio, p["compression"]),
            always_ram=p.get("always_ram"),
            memory=memory(p.get("memory")),
        )
    if "binary" in qc:
        b = qc["binary"]
        return qe.BinaryQuantizationConfig(
            always_ram=b.get("always_ram"),
            encoding=_enum(qe.BinaryQuantizationEncoding, b.get("encoding")),
            query_encoding=_enum(
                qe.BinaryQuantizationQueryEncoding, b.get("query_encoding"), _QUERY_ENCODING
            ),
            memory=memory(b.get("memory")),
        )
    if "turbo" in qc or "turbo_quant" in qc:
        t = qc.get("turbo") or qc.get("turbo_quant") or {}
        return qe.TurboQuantQuantizationConfig(
            always_ram=t.get("always_ram"),
            bits=_enum(qe.TurboQuantBitSize, t.get("bits"), {"bits1_5": "Bits1_5"}),
            memory=memory(t.get("memory")),
        )
    raise ConversionError(f"unsupported quantization config {qc!r}")


def vector_params_in(v: dict, hnsw_base: dict | None) -> Any:
    mv = v.get("multivector_config")
    return qe.EdgeVectorParams(
        size=int(v["size"]),
        distance=distance(v["distance"]),
        on_disk=v.get("on_disk"),
        multivector_config=qe.MultiVectorConfig(_enum(qe.MultiVectorComparator, mv["comparator"], _MULTI))
        if mv
        else None,
        datatype=datatype(v.get("datatype")),
        quantization_config=quantization_in(v.get("quantization_config")),
        hnsw_config=hnsw_in(v["hnsw_config"], hnsw_base) if v.get("hnsw_config") else None,
        memory=memory(v.get("memory")),
    )


def sparse_params_in(s: dict) -> Any:
    index = s.get("index") or {}
    modifier = s.get("modifier")
    return qe.EdgeSparseVectorParams(
        full_scan_threshold=index.get("full_scan_threshold"),
        on_disk=index.get("on_disk"),
        modifier=qe.Modifier.Idf if modifier == "idf" else None,
        datatype=datatype(index.get("datatype")),
        memory=memory(index.get("memory")),
    )


def vectors_config_in(vectors: Any, hnsw_base: dict | None) -> dict[str, Any]:
    if vectors is None:
        return {}
    if isinstance(vectors, dict) and "size" in vectors and "distance" in vectors:
        return {"": vector_params_in(vectors, hnsw_base)}
    return {name: vector_params_in(v, hnsw_base) for name, v in vectors.items()}


_OPTIMIZER_KEYS = (
    "deleted_threshold",
    "vacuum_min_vector_number",
    "default_segment_number",
    "max_segment_size",
    "indexing_threshold",
    "prevent_unoptimized",
)


def optimizers_in(o: Any) -> Any:
    if not o:
        return None
    return qe.EdgeOptimizersConfig(**{k: o[k] for k in _OPTIMIZER_KEYS if o.get(k) is not None})


#: the engine's name of the placeholder vector of a collection without vectors (see edge_config)
NO_VECTORS = "aqdrant-no-vectors.placeholder"


def edge_config(cfg: dict) -> Any:
    """An ``EdgeConfig`` from a CreateCollection body (as builtins)."""
    hnsw = cfg.get("hnsw_config")
    payload = cfg.get("payload") or {}
    vectors = vectors_config_in(cfg.get("vectors"), hnsw)
    sparse = {n: sparse_params_in(s or {}) for n, s in (cfg.get("sparse_vectors") or {}).items()}
    if not vectors and not sparse:
        # Qdrant allows a collection without vectors (payload only); the engine wants one: an
        # unused sparse vector, never written, not in the collection's config
        sparse = {NO_VECTORS: sparse_params_in({})}
    return qe.EdgeConfig(
        vectors=vectors,
        sparse_vectors=sparse or None,
        on_disk_payload=cfg.get("on_disk_payload"),
        hnsw_config=hnsw_in(hnsw) if hnsw else None,
        quantization_config=quantization_in(cfg.get("quantization_config")),
        optimizers=optimizers_in(cfg.get("optimizers_config")),
        payload_memory=memory(payload.get("memory")),
    )


# ---------------------------------------------------------------------------------------------
# payload index schemas

_INDEX_PARAMS = {
    "keyword": ("KeywordIndexParams", ("is_tenant", "on_disk", "enable_hnsw", "prefix")),
    "integer": ("IntegerIndexParams", ("lookup", "range", "is_principal", "on_disk", "enable_hnsw")),
    "float": ("FloatIndexParams", ("is_principal", "on_disk", "enable_hnsw")),
    "geo": ("GeoIndexParams", ("on_disk", "enable_hnsw")),
    "bool": ("BoolIndexParams", ("on_disk", "enable_hnsw")),
    "datetime": ("DatetimeIndexParams", ("is_principal", "on_disk", "enable_hnsw")),
    "uuid": ("UuidIndexParams", ("is_tenant", "on_disk", "enable_hnsw")),
    "text": (
        "TextIndexParams",
        (
            "min_token_len",
            "max_token_len",
            "lowercase",
            "ascii_folding",
            "phrase_matching",
            "on_disk",
            "enable_hnsw",
        ),
    ),
}


def field_schema_in(schema: Any) -> Any:
    if isinstance(schema, str):
        return _enum(qe.PayloadSchemaType, schema)
    if not isinstance(schema, dict) or "type" not in schema:
        raise ConversionError(f"unsupported field schema {schema!r}")
    kind = schema["type"]
    if kind not in _INDEX_PARAMS:
        raise ConversionError(f"unsupported field index type {kind!r}")
    cls_name, keys = _INDEX_PARAMS[kind]
    kw = {k: schema[k] for k in keys if schema.get(k) is not None}
    if schema.get("memory") is not None:
        kw["memory"] = memory(schema["memory"])
    if kind == "text":
        if schema.get("tokenizer") is not None:
            kw["tokenizer"] = _enum(qe.TokenizerType, schema["tokenizer"])
        sw = schema.get("stopwords")
        if sw is not None:
            if isinstance(sw, str):
                kw["stopwords"] = qe.StopwordsSet(languages={_enum(qe.Language, sw)})
            else:
                langs = sw.get("languages")
                custom = sw.get("custom")
                kw["stopwords"] = qe.StopwordsSet(
                    languages={_enum(qe.Language, x) for x in langs} if langs else None,
                    custom=set(custom) if custom else None,
                )
        st = schema.get("stemmer")
        if st is not None:
            if st.get("type") == "snowball":
                kw["stemmer"] = qe.SnowballParams(_enum(qe.SnowballLanguage, st["language"]))
            else:
                kw["stemmer"] = qe.DisabledStemmer()
    return getattr(qe, cls_name)(**kw)
