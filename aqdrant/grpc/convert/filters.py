"""Filters: conditions, matches, ranges, geo and datetime conditions."""

from __future__ import annotations

from typing import Any

from ... import models as m
from .._proto import qdrant as q
from ._common import _unsupported, betterproto_which
from .values import (
    _geo_point_from_grpc,
    _geo_point_to_grpc,
    _timestamp_from_grpc,
    _timestamp_to_grpc,
    point_id_from_grpc,
    point_id_to_grpc,
)


def _match_to_grpc(match: Any) -> q.Match:
    if isinstance(match, m.MatchValue):
        v = match.value
        if isinstance(v, bool):
            return q.Match(boolean=v)
        if isinstance(v, int):
            return q.Match(integer=v)
        return q.Match(keyword=v)
    if isinstance(match, m.MatchAny):
        if match.any and all(isinstance(x, int) and not isinstance(x, bool) for x in match.any):
            return q.Match(integers=q.RepeatedIntegers(integers=list(match.any)))
        return q.Match(keywords=q.RepeatedStrings(strings=list(match.any)))
    if isinstance(match, m.MatchExcept):
        xs = match.except_
        if xs and all(isinstance(x, int) and not isinstance(x, bool) for x in xs):
            return q.Match(except_integers=q.RepeatedIntegers(integers=list(xs)))
        return q.Match(except_keywords=q.RepeatedStrings(strings=list(xs)))
    if isinstance(match, m.MatchText):
        return q.Match(text=match.text)
    if isinstance(match, m.MatchTextAny):
        return q.Match(text_any=match.text_any)
    if isinstance(match, m.MatchPhrase):
        return q.Match(phrase=match.phrase)
    if isinstance(match, m.MatchPrefix):
        return q.Match(prefix=match.prefix)
    raise _unsupported(f"match {type(match).__name__}")


def _match_from_grpc(match: q.Match) -> Any:
    kind = betterproto_which(match, "match_value")
    if kind in ("keyword", "integer", "boolean"):
        return m.MatchValue(value=getattr(match, kind))
    if kind == "keywords":
        return m.MatchAny(any=list(match.keywords.strings))
    if kind == "integers":
        return m.MatchAny(any=list(match.integers.integers))
    if kind == "except_keywords":
        return m.MatchExcept(except_=list(match.except_keywords.strings))
    if kind == "except_integers":
        return m.MatchExcept(except_=list(match.except_integers.integers))
    if kind == "text":
        return m.MatchText(text=match.text)
    if kind == "text_any":
        return m.MatchTextAny(text_any=match.text_any)
    if kind == "phrase":
        return m.MatchPhrase(phrase=match.phrase)
    if kind == "prefix":
        return m.MatchPrefix(prefix=match.prefix)
    raise _unsupported(f"match {kind}")


def _conditions(c: Any) -> list[Any]:
    if c is None:
        return []
    return list(c) if isinstance(c, list) else [c]


def condition_to_grpc(c: Any) -> q.Condition:
    if isinstance(c, m.FieldCondition):
        dt_range = isinstance(c.range, m.DatetimeRange)
        return q.Condition(
            field=q.FieldCondition(
                key=c.key,
                match=_match_to_grpc(c.match) if c.match is not None else None,
                range=q.Range(lt=c.range.lt, gt=c.range.gt, gte=c.range.gte, lte=c.range.lte)
                if c.range is not None and not dt_range
                else None,
                datetime_range=_datetime_range_to_grpc(c.range) if dt_range else None,
                **_geo_to_grpc(c),
                values_count=q.ValuesCount(
                    lt=c.values_count.lt, gt=c.values_count.gt, gte=c.values_count.gte, lte=c.values_count.lte
                )
                if c.values_count is not None
                else None,
                is_empty=c.is_empty,
                is_null=c.is_null,
            )
        )
    if isinstance(c, m.IsEmptyCondition):
        return q.Condition(is_empty=q.IsEmptyCondition(key=c.is_empty.key))
    if isinstance(c, m.IsNullCondition):
        return q.Condition(is_null=q.IsNullCondition(key=c.is_null.key))
    if isinstance(c, m.HasIdCondition):
        return q.Condition(has_id=q.HasIdCondition(has_id=[point_id_to_grpc(i) for i in c.has_id]))
    if isinstance(c, m.NestedCondition):
        return q.Condition(nested=q.NestedCondition(key=c.nested.key, filter=filter_to_grpc(c.nested.filter)))
    if isinstance(c, m.HasVectorCondition):
        return q.Condition(has_vector=q.HasVectorCondition(has_vector=c.has_vector))
    if isinstance(c, m.SliceCondition):
        return q.Condition(slice=q.SliceCondition(total=c.slice.total, index=c.slice.index))
    if isinstance(c, m.Filter):
        return q.Condition(filter=filter_to_grpc(c))
    raise _unsupported(f"condition {type(c).__name__}")


def condition_from_grpc(c: q.Condition) -> Any:
    kind = betterproto_which(c, "condition_one_of")
    if kind == "field":
        f = c.field
        rng: Any = None
        if f.range is not None:
            rng = m.Range(lt=f.range.lt, gt=f.range.gt, gte=f.range.gte, lte=f.range.lte)
        elif f.datetime_range is not None:
            rng = _datetime_range_from_grpc(f.datetime_range)
        vc = None
        if f.values_count is not None:
            v = f.values_count
            vc = m.ValuesCount(lt=v.lt, gt=v.gt, gte=v.gte, lte=v.lte)
        return m.FieldCondition(
            key=f.key,
            match=_match_from_grpc(f.match) if f.match is not None else None,
            range=rng,
            values_count=vc,
            is_empty=f.is_empty,
            is_null=f.is_null,
            **_geo_from_grpc(f),
        )
    if kind == "is_empty":
        return m.IsEmptyCondition(is_empty=m.PayloadField(key=c.is_empty.key))
    if kind == "is_null":
        return m.IsNullCondition(is_null=m.PayloadField(key=c.is_null.key))
    if kind == "has_id":
        return m.HasIdCondition(has_id=[point_id_from_grpc(i) for i in c.has_id.has_id])
    if kind == "nested":
        return m.NestedCondition(nested=m.Nested(key=c.nested.key, filter=filter_from_grpc(c.nested.filter)))
    if kind == "has_vector":
        return m.HasVectorCondition(has_vector=c.has_vector.has_vector)
    if kind == "slice":
        return m.SliceCondition(slice=m.Slice(total=c.slice.total, index=c.slice.index))
    if kind == "filter":
        return filter_from_grpc(c.filter)
    raise _unsupported(f"condition {kind}")


def filter_to_grpc(f: m.Filter | None) -> q.Filter | None:
    if f is None:
        return None
    return q.Filter(
        should=[condition_to_grpc(c) for c in _conditions(f.should)],
        must=[condition_to_grpc(c) for c in _conditions(f.must)],
        must_not=[condition_to_grpc(c) for c in _conditions(f.must_not)],
        min_should=q.MinShould(
            conditions=[condition_to_grpc(c) for c in _conditions(f.min_should.conditions)],
            min_count=f.min_should.min_count,
        )
        if f.min_should is not None
        else None,
    )


def filter_from_grpc(f: q.Filter | None) -> m.Filter | None:
    """Lists come back as lists (the REST form ``must: Condition`` is the same filter)."""
    if f is None:
        return None
    return m.Filter(
        should=[condition_from_grpc(c) for c in f.should] or None,
        must=[condition_from_grpc(c) for c in f.must] or None,
        must_not=[condition_from_grpc(c) for c in f.must_not] or None,
        min_should=m.MinShould(
            conditions=[condition_from_grpc(c) for c in f.min_should.conditions],
            min_count=f.min_should.min_count,
        )
        if f.min_should is not None
        else None,
    )


def _line_to_grpc(line: m.GeoLineString) -> q.GeoLineString:
    return q.GeoLineString(points=[_geo_point_to_grpc(p) for p in line.points])


def _line_from_grpc(line: q.GeoLineString) -> m.GeoLineString:
    return m.GeoLineString(points=[_geo_point_from_grpc(p) for p in line.points])


def _geo_to_grpc(c: m.FieldCondition) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if c.geo_radius is not None:
        out["geo_radius"] = q.GeoRadius(
            center=_geo_point_to_grpc(c.geo_radius.center), radius=c.geo_radius.radius
        )
    if c.geo_bounding_box is not None:
        b = c.geo_bounding_box
        out["geo_bounding_box"] = q.GeoBoundingBox(
            top_left=_geo_point_to_grpc(b.top_left), bottom_right=_geo_point_to_grpc(b.bottom_right)
        )
    if c.geo_polygon is not None:
        out["geo_polygon"] = q.GeoPolygon(
            exterior=_line_to_grpc(c.geo_polygon.exterior),
            interiors=[_line_to_grpc(x) for x in c.geo_polygon.interiors or []],
        )
    return out


def _geo_from_grpc(f: q.FieldCondition) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if f.geo_radius is not None:
        out["geo_radius"] = m.GeoRadius(
            center=_geo_point_from_grpc(f.geo_radius.center), radius=f.geo_radius.radius
        )
    if f.geo_bounding_box is not None:
        b = f.geo_bounding_box
        out["geo_bounding_box"] = m.GeoBoundingBox(
            top_left=_geo_point_from_grpc(b.top_left), bottom_right=_geo_point_from_grpc(b.bottom_right)
        )
    if f.geo_polygon is not None:
        out["geo_polygon"] = m.GeoPolygon(
            exterior=_line_from_grpc(f.geo_polygon.exterior),
            interiors=[_line_from_grpc(x) for x in f.geo_polygon.interiors] or None,
        )
    return out


def _datetime_range_to_grpc(r: m.DatetimeRange) -> q.DatetimeRange:
    return q.DatetimeRange(
        lt=_timestamp_to_grpc(r.lt),
        gt=_timestamp_to_grpc(r.gt),
        gte=_timestamp_to_grpc(r.gte),
        lte=_timestamp_to_grpc(r.lte),
    )


def _datetime_range_from_grpc(r: q.DatetimeRange) -> m.DatetimeRange:
    return m.DatetimeRange(
        lt=_timestamp_from_grpc(r.lt),
        gt=_timestamp_from_grpc(r.gt),
        gte=_timestamp_from_grpc(r.gte),
        lte=_timestamp_from_grpc(r.lte),
    )


# unary expressions: model class, its field, the proto field (the same name)
_UNARY_EXPRESSIONS: dict[str, type] = {
    "neg": m.NegExpression,
    "abs": m.AbsExpression,
    "sqrt": m.SqrtExpression,
    "exp": m.ExpExpression,
    "log10": m.Log10Expression,
    "ln": m.LnExpression,
}


_DECAY_EXPRESSIONS: dict[str, type] = {
    "lin_decay": m.LinDecayExpression,
    "exp_decay": m.ExpDecayExpression,
    "gauss_decay": m.GaussDecayExpression,
}
