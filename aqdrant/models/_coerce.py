"""What the official client's users pass, made into what every backend sends the same way.

One walk over a request body, at the client's boundary (:meth:`AsyncQdrantClient._call`):

* a ``dict`` (or a list of them) where a model is expected becomes that model
  (``points=[{"id": 1, "vector": [...]}]``, ``search_params={"hnsw_ef": 64}``, a filter as a
  dict, ...): checked by msgspec, an error names the path;
* a :class:`Filter` built in Python is checked as if it came from JSON (``FieldCondition(key=123)``
  is refused here, not by the server), and a filter nested deeper than :data:`MAX_FILTER_DEPTH`
  is refused on every backend (gRPC's encoder would hit Python's recursion limit);
* JSON values (payloads, metadata) are written in the form the official client stores them:
  ``datetime`` / ``date`` / ``time`` as ISO 8601 (a UTC offset as ``Z``, another offset kept),
  ``bytes`` as UTF-8 text, ``UUID`` as its string, tuples and sets as lists, numpy scalars and
  arrays as numbers and lists, ``Decimal`` as its string, enums as their value, ``timedelta`` as an ISO 8601 duration.

The plan of which fields may need work is computed once per model class; a field typed as a
number, a string or an enum is never looked at, and a dense vector is never walked element by
element, so a 1,000-point upsert costs one class check per point.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import enum
import sys
import typing
import uuid
from functools import cache
from typing import Any

import msgspec

from ..errors import ValidationError
from ._unions import _is_pydantic

#: deepest filter nesting accepted (a ``Filter`` inside a condition inside a ``Filter`` ...);
#: deeper ones are refused before sending on every backend
MAX_FILTER_DEPTH = 64

_PLAIN = frozenset({str, int, float, bool, type(None)})
_astuple = msgspec.structs.astuple

# Field plans: ("struct", cls) | ("model", annotation) | ("list", plan) | ("dict", plan)
#   | ("json",) | ("resolved",) ; None for a field that never needs work.


def json_value(v: Any) -> Any:
    """``v`` with every non-JSON value in the official client's stored form; ``v`` itself when
    there is none (no copy for the common case)."""
    cls = v.__class__
    if cls in _PLAIN:
        return v
    if cls is dict:
        plain = _PLAIN
        for k, x in v.items():  # the common case, without a call per value: nothing to change
            if x.__class__ not in plain or k.__class__ is not str:
                break
        else:
            return v
        out = None
        for k, x in v.items():
            y = json_value(x)
            if y is not x or k.__class__ is not str:
                if out is None:
                    out = dict(v)
                if k.__class__ is not str:
                    del out[k]
                    k = _json_key(k)
                out[k] = y
        return v if out is None else out
    if cls is list:
        plain = _PLAIN
        for x in v:
            if x.__class__ not in plain:
                break
        else:
            return v
        out_l = None
        for i, x in enumerate(v):
            y = json_value(x)
            if y is not x:
                if out_l is None:
                    out_l = list(v)
                out_l[i] = y
        return v if out_l is None else out_l
    return _convert(v)


def _iso_duration(td: _dt.timedelta) -> str:
    """An ISO 8601 duration as pydantic writes a ``timedelta`` to JSON (``PT1S``, ``P1DT2H``,
    ``-PT0.5S``): the official client stores a payload's timedelta so."""
    micros = (td.days * 86_400 + td.seconds) * 1_000_000 + td.microseconds
    sign, micros = ("-", -micros) if micros < 0 else ("", micros)
    days, micros = divmod(micros, 86_400_000_000)
    seconds, micros = divmod(micros, 1_000_000)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    clock = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if seconds or micros:
        clock += (f"{seconds}.{micros:06d}".rstrip("0").rstrip(".") if micros else str(seconds)) + "S"
    years, days = divmod(days, 365)  # pydantic's years are 365 days; it writes no months
    date = (f"{years}Y" if years else "") + (f"{days}D" if days else "")
    if not clock and not date:
        clock = "0S"
    return f"{sign}P{date}" + (f"T{clock}" if clock else "")


def _convert(v: Any) -> Any:
    if isinstance(v, _dt.datetime):
        text = v.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(v, (_dt.date, _dt.time)):
        text = v.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(v, (bytes, bytearray, memoryview)):
        try:
            return bytes(v).decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError(
                "payload bytes must be UTF-8 text (they are stored as a JSON string); "
                "encode binary data first, e.g. with base64"
            ) from None
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, _dt.timedelta):
        return _iso_duration(v)
    if isinstance(v, enum.Enum):
        return json_value(v.value)
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, bool | int | float | str):  # subclasses of the plain types
        return v
    if isinstance(v, dict):
        return json_value(dict(v))
    if isinstance(v, (list, tuple, set, frozenset)):
        return json_value(list(v))
    np = sys.modules.get("numpy")
    if np is not None:
        if isinstance(v, np.generic):
            return v.item()
        if isinstance(v, np.ndarray):
            return v.tolist()
    if isinstance(v, msgspec.Struct):
        from . import to_builtins

        return to_builtins(v)
    if hasattr(v, "model_dump"):  # a pydantic model (e.g. from the official client's models)
        return json_value(v.model_dump(mode="json", by_alias=True))
    raise ValidationError(f"payload value of type {type(v).__name__} cannot be stored (JSON values only)")


def _json_key(k: Any) -> str:
    if isinstance(k, str):
        return str(k)
    if isinstance(k, (int, float, bool, uuid.UUID, enum.Enum)):
        return str(k.value if isinstance(k, enum.Enum) else k)
    raise ValidationError(f"payload keys must be strings, not {type(k).__name__}")


# ----------------------------------------------------------------------------------- models


class _Bad(Exception):
    """A refusal on its way up: ``text`` and the path below the value being walked; each level
    puts its own segment in front (paths are built only when something is wrong)."""

    def __init__(self, text: str, path: str = "") -> None:
        self.text = text
        self.path = path


def _under(e: _Bad, segment: str) -> _Bad:
    e.path = segment + e.path
    return e


def from_official(value: Any) -> Any:
    """An official-client (pydantic) model as the aqdrant model of the same name; anything else
    as it is. For arguments a method inspects before the body walk (``upsert``'s ``Batch``, a
    points selector's ``Filter``): iterating a pydantic model yields (field, value) pairs."""
    if not _is_pydantic(value):
        return value
    from . import _generated, parse

    cls = getattr(_generated, type(value).__name__, None)
    if not isinstance(cls, type):
        return value
    return parse(cls, value.model_dump(mode="json", by_alias=True, exclude_unset=True))


def coerce(body: Any, annotation: Any = None) -> Any:
    """``body`` (a model, or a dict/list for ``annotation``) ready to send: see the module doc.
    Raises :class:`ValidationError` naming the JSON path of what does not fit."""
    try:
        if annotation is not None and not isinstance(body, msgspec.Struct):
            return _apply(_plan_for(annotation), body, 0)
        if isinstance(body, msgspec.Struct):
            _struct(body, 0)
        elif isinstance(body, list):
            for i, x in enumerate(body):
                if isinstance(x, msgspec.Struct):
                    try:
                        _struct(x, 0)
                    except _Bad as e:
                        raise _under(e, f"[{i}]") from None
        return body
    except _Bad as e:
        path = "$" + e.path
        raise ValidationError(f"{e.text} - at `{path}`", path=path) from None


def _struct(obj: Any, depth: int) -> None:
    cls = obj.__class__
    plan = _fields_plan(cls)
    if not plan:
        return
    is_filter = cls.__name__ == "Filter"
    if is_filter:
        depth += 1
        if depth > MAX_FILTER_DEPTH:
            raise _Bad(f"filter nested more than {MAX_FILTER_DEPTH} levels deep")
    plain = _PLAIN
    values = _astuple(obj)  # every slot in one call: most of a model's fields are None
    for index, name, wire, fplan in plan:
        value = values[index]
        if value is None:
            continue
        # the common cases without a call: a plain id/number, a dense vector as a list
        cls_v = value.__class__
        if cls_v in plain and fplan is _SCALAR:
            continue
        if cls_v is list and fplan is _RESOLVED and (not value or not isinstance(value[0], msgspec.Struct)):
            continue
        try:
            new = _apply(fplan, value, depth)
        except _Bad as e:
            raise _under(e, "." + wire) from None
        except ValidationError as e:  # a payload value that cannot be stored
            raise _Bad(_strip_at(str(e)), "." + wire) from None
        if new is not value:
            msgspec.structs.force_setattr(obj, name, new)
    if is_filter and depth == 1:
        _check_filter(obj)


def _apply(plan: Any, value: Any, depth: int) -> Any:
    kind = plan[0]
    if kind == "json":
        return json_value(value)
    if kind == "scalar":
        if value.__class__ in _PLAIN:
            return value
        np = sys.modules.get("numpy")
        return value.item() if np is not None and isinstance(value, np.generic) else value
    if isinstance(value, msgspec.Struct):
        _struct(value, depth)
        return value
    if kind == "resolved":
        # already resolved at construction: only models inside may hold dicts to convert
        cls = value.__class__
        if cls is list:
            if value and isinstance(value[0], msgspec.Struct):
                for i, x in enumerate(value):
                    try:
                        _apply(plan, x, depth)
                    except _Bad as e:
                        raise _under(e, f"[{i}]") from None
        elif cls is dict:
            for k, x in value.items():
                if isinstance(x, msgspec.Struct):
                    try:
                        _struct(x, depth)
                    except _Bad as e:
                        raise _under(e, f".{k}") from None
        return value
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.generic):
        return value.item()  # a numpy id or number where a model field is typed
    if kind in ("struct", "model"):
        if isinstance(value, dict):
            return _parse(plan[1], value, depth)
        if hasattr(value, "model_dump") and hasattr(value, "model_fields_set"):
            # a pydantic model (the official client's, from an import left unchanged)
            return _parse(plan[1], value.model_dump(mode="json", by_alias=True, exclude_unset=True), depth)
        if kind == "model" and isinstance(value, (list, tuple)):
            if all(isinstance(x, msgspec.Struct) for x in value):
                for i, x in enumerate(value):
                    try:
                        _struct(x, depth)
                    except _Bad as e:
                        raise _under(e, f"[{i}]") from None
                return value
            return _parse(plan[1], value, depth)
        return value
    if kind == "list":
        if not isinstance(value, (list, tuple)):
            return value
        out = None
        inner = plan[1]
        if inner is _SCALAR and value.__class__ is list:  # ids: checked without a call per item
            plain = _PLAIN
            for x in value:
                if x.__class__ not in plain:
                    break
            else:
                return value
        for i, x in enumerate(value):
            try:
                y = _apply(inner, x, depth)
            except _Bad as e:
                raise _under(e, f"[{i}]") from None
            if y is not x or value.__class__ is not list:
                if out is None:
                    out = list(value)
                out[i] = y
        return value if out is None else out
    if kind == "dict":
        if not isinstance(value, dict):
            return value
        out_d = None
        for k, x in value.items():
            try:
                y = _apply(plan[1], x, depth)
            except _Bad as e:
                raise _under(e, f".{k}") from None
            if y is not x:
                if out_d is None:
                    out_d = dict(value)
                out_d[k] = y
        return value if out_d is None else out_d
    return value


def _parse(annotation: Any, value: Any, depth: int) -> Any:
    from . import parse

    try:
        obj = parse(annotation, json_value(value))
    except ValidationError as e:
        raise _Bad(_strip_at(str(e)), _inner(e.path)) from None
    if isinstance(obj, msgspec.Struct):
        _struct(obj, depth)
    return obj


#: filters already checked, by their msgpack bytes (a lossless, typed image of the builtins the
#: check parses: equal bytes, equal verdict); a service sends the same few filters again and
#: again, and the check (a full union-resolving parse) is the dearest part of a small query
_CHECKED_FILTERS: dict[bytes, None] = {}
_CHECKED_FILTERS_MAX = 1024


def _check_filter(flt: Any) -> None:
    """A filter built in Python, checked as if it came from JSON: field types and union shapes."""
    from . import Filter, _builtins_hook, parse, to_builtins

    try:
        key = msgspec.msgpack.encode(flt, enc_hook=_builtins_hook)
    except Exception:  # noqa: BLE001 - the check below says what is wrong
        key = None
    if key is not None and key in _CHECKED_FILTERS:
        return
    try:
        parse(Filter, to_builtins(flt))
    except ValidationError as e:
        raise _Bad(_strip_at(str(e)), _inner(e.path)) from None
    except (TypeError, ValueError, msgspec.EncodeError) as e:
        raise _Bad(f"filter cannot be encoded: {e}") from None
    if key is not None:
        if len(_CHECKED_FILTERS) >= _CHECKED_FILTERS_MAX:
            _CHECKED_FILTERS.clear()
        _CHECKED_FILTERS[key] = None


def _inner(path: str | None) -> str:
    """A path from ``parse`` ("$.a[0]") as a segment below the current value (".a[0]")."""
    return path[1:] if path and path.startswith("$") else ""


def _strip_at(text: str) -> str:
    i = text.rfind(" - at `")
    return text[:i] if i >= 0 else text


#: fields holding JSON values the server stores (their non-JSON values are converted); other
#: ``Any`` fields (an inference object's image, a formula's variables) are sent as given
_JSON_FIELDS = frozenset({"payload", "payloads", "metadata"})


@cache
def _fields_plan(cls: type) -> tuple:
    """(index, name, wire name, plan) of each field of ``cls`` that may need work."""
    resolved = {n for n, *_ in getattr(sys.modules[cls.__module__], f"_FIELDS_{cls.__name__}", ())}
    out = []
    for index, f in enumerate(msgspec.structs.fields(cls)):
        if f.name in resolved:
            plan = _RESOLVED
        else:
            plan = _plan_for(f.type)
            if plan is not None and _has_json(plan) and f.name not in _JSON_FIELDS:
                plan = _without_json(plan)
        if plan is not None:
            out.append((index, f.name, f.encode_name, plan))
    return tuple(out)


def _has_json(plan: Any) -> bool:
    if plan[0] == "json":
        return True
    return plan[0] in ("list", "dict") and _has_json(plan[1])


def _without_json(plan: Any) -> Any:
    if plan[0] == "json":
        return None
    if plan[0] in ("list", "dict"):
        inner = _without_json(plan[1])
        return None if inner is None else (plan[0], inner)
    return plan


def _plan_for(tp: Any) -> Any:
    if tp is Any:
        return ("json",)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Union or (origin is not None and str(origin) == "<class 'types.UnionType'>"):
        members = [a for a in args if a is not type(None)]
        if len(members) == 1:
            return _plan_for(members[0])
        plans = [_plan_for(a) for a in members]
        if any(p is not None and p != _SCALAR for p in plans):
            return ("model", tp)
        return _SCALAR if _SCALAR in plans else None
    if origin in (list, typing.List):
        inner = _plan_for(args[0]) if args else None
        return ("list", inner) if inner is not None else None
    if origin in (dict, typing.Dict):
        inner = _plan_for(args[1]) if len(args) == 2 else None
        if inner == ("json",):
            return inner  # a JSON object (payload, metadata): one json_value walk
        return ("dict", inner) if inner is not None else None
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return ("struct", tp)
    if tp in (int, float, bool):
        return _SCALAR  # a numpy scalar given here is sent as its Python number
    return None


_SCALAR = ("scalar",)
_RESOLVED = ("resolved",)
