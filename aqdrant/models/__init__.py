"""Qdrant's API objects as msgspec Structs, with the spec's names, plus ``parse`` and ``dump``.

``parse(Type, data)`` decodes JSON (bytes/str) or Python builtins into ``Type`` and validates;
``dump(obj)`` encodes to the JSON the server expects. Both are used by every layer.
"""

from __future__ import annotations

import sys
import uuid
from functools import lru_cache
from typing import Any, Literal, TypeVar  # noqa: F401  (Literal used by the operation table)

import msgspec

from ..errors import ValidationError
from ._base import Model
from ._generated import *  # noqa: F403
from ._generated import RESOLVED_UNIONS as _RESOLVED_BY_NAME
from ._generated import __all__ as _generated_all
from ._unions import RawVector, merge_path, resolve, spec_for

T = TypeVar("T")

# Resolved unions by their alias object, so parse(models.Condition, ...) finds the spec.
_RESOLVED: dict[Any, Any] = {getattr(sys.modules[__name__], n): s for n, s in _RESOLVED_BY_NAME.items()}


def _enc_hook(obj: Any) -> Any:
    np = sys.modules.get("numpy")
    if np is not None:
        if obj.__class__ is np.ndarray:
            # The common case (a float32/float64 C-contiguous vector): one orjson call.
            if obj.dtype.kind == "f" and obj.flags.c_contiguous and obj.dtype.itemsize in (4, 8):
                return msgspec.Raw(_orjson().dumps(obj, option=_OPT_NUMPY))
            return _ndarray_json(obj)
        if isinstance(obj, np.ndarray):
            return _ndarray_json(obj)
        if isinstance(obj, np.generic):
            return obj.item()
    if isinstance(obj, uuid.UUID):
        return str(obj)
    if isinstance(obj, RawVector):
        return msgspec.Raw(obj.raw)
    raise NotImplementedError(f"cannot encode objects of type {type(obj).__name__}")


def _ndarray_json(arr: Any) -> msgspec.Raw:
    """Encode a numeric array without one Python float per element.

    orjson writes float32 arrays with float32's shortest digits (about 40 % smaller bodies than
    float64 digits) straight from the buffer.
    """
    import orjson

    if arr.dtype.kind == "f" and arr.dtype.itemsize not in (4, 8):
        arr = arr.astype("float32")
    if not arr.flags.c_contiguous:
        arr = arr.copy(order="C")
    try:
        return msgspec.Raw(orjson.dumps(arr, option=orjson.OPT_SERIALIZE_NUMPY))
    except TypeError:  # dtypes orjson does not take (e.g. float16 views): fall back
        return msgspec.Raw(orjson.dumps(arr.tolist()))


_OPT_NUMPY = 0x10  # orjson.OPT_SERIALIZE_NUMPY (checked in _orjson)


@lru_cache(maxsize=1)
def _orjson() -> Any:
    """orjson, imported on first use (not at ``import aqdrant``)."""
    import orjson

    assert orjson.OPT_SERIALIZE_NUMPY == _OPT_NUMPY
    return orjson


_encoder = msgspec.json.Encoder(enc_hook=_enc_hook)


def dump(obj: Any) -> bytes:
    """Encode a model (or builtins holding models / numpy arrays) as JSON bytes."""
    cls = obj.__class__
    if not _FAST_POINTS:
        pass
    elif cls is PointsList:  # noqa: F405
        points = obj.points
        if points.__class__ is list and obj.shard_key is None and obj.update_filter is None and obj.update_mode is None:
            fast = _points_json(points, True)
            if fast is not None:
                return fast
    elif cls is list and obj and obj[0].__class__ is PointStruct:  # noqa: F405  (slices of a large upsert)
        fast = _points_json(obj, False)
        if fast is not None:
            return fast
    return _encoder.encode(obj)


#: the orjson path writes a point's fields by hand: only while PointStruct has exactly these
_FAST_POINTS = PointStruct.__struct_fields__ == ("id", "vector", "payload") and PointsList.__struct_fields__ == (  # noqa: F405
    "points", "shard_key", "update_filter", "update_mode"
)


def _points_json(points: list, wrap: bool) -> bytes | None:
    """Points whose vectors are Python lists or float numpy arrays, in one orjson call; ``None``
    when any point does not fit, and ``dump`` takes msgspec's path.

    Python lists (checked at construction) are written by orjson about 25 % faster than msgspec
    writes float64 digits; float32/float64 arrays get the same digits as msgspec's hook writes
    (orjson too), without a hook call and a copy per point. Named vectors, sparse vectors,
    inference objects and other arrays do not take this path. Payload values orjson encodes
    differently from msgspec (bytes, Decimal, sets, numpy scalars, ints beyond 64 bits, non-str
    keys, Structs) make orjson raise, and the whole body goes through msgspec. When a body holds
    arrays, payloads are written first without orjson's numpy option (a numpy scalar in a
    payload must still go through msgspec's hook). For every other value the JSON is the same,
    up to how an exponent is spelled (``1e+16`` vs ``1e16``); UTC datetimes end in ``Z`` on both.
    """
    np = sys.modules.get("numpy")
    ndarray = np.ndarray if np is not None else None
    orjson = _orjson()
    rows = []
    append = rows.append
    arrays = False
    for p in points:
        if p.__class__ is not PointStruct:  # noqa: F405
            return None
        v = p.vector
        if v.__class__ is not list:
            if v.__class__ is not ndarray or v.dtype.kind != "f" or v.dtype.itemsize not in (4, 8) or not v.flags.c_contiguous:
                return None
            arrays = True
        payload = p.payload
        append({"id": p.id, "vector": v} if payload is None else {"id": p.id, "vector": v, "payload": payload})
    try:
        if not arrays:
            return orjson.dumps({"points": rows} if wrap else rows, option=orjson.OPT_UTC_Z)
        fragment = orjson.Fragment
        dumps = orjson.dumps
        for row in rows:
            if row["id"].__class__ not in _ID_TYPES:
                return None
            payload = row.get("payload")
            if payload is not None:
                row["payload"] = fragment(dumps(payload, option=orjson.OPT_UTC_Z))
        return dumps({"points": rows} if wrap else rows, option=orjson.OPT_UTC_Z | _OPT_NUMPY)
    except (TypeError, orjson.JSONEncodeError):
        return None


_ID_TYPES = frozenset({int, str, uuid.UUID})


def to_builtins(obj: Any) -> Any:
    """A model as plain dicts/lists/str/numbers, as the server would see it."""
    return msgspec.json.decode(dump(obj))


@lru_cache(maxsize=512)
def _plan(tp: Any) -> tuple[Any, Any]:
    """(native msgspec type or None, resolver spec or None) for ``tp``."""
    try:
        msgspec.json.Decoder(tp)
        return tp, None
    except TypeError:
        return None, spec_for(tp, _RESOLVED)


def _uuids_to_str(x: Any) -> Any:
    """``x`` with every uuid.UUID replaced by its string; ``x`` itself when there is none."""
    if isinstance(x, uuid.UUID):
        return str(x)
    if isinstance(x, dict):
        out = {k: _uuids_to_str(v) for k, v in x.items()}
        return x if all(out[k] is v for k, v in x.items()) else out
    if isinstance(x, (list, tuple)):
        if x and type(x[0]) is float:  # a vector: no ids inside
            return x
        items = [_uuids_to_str(v) for v in x]
        return x if all(a is b for a, b in zip(items, x, strict=True)) else items
    if isinstance(x, msgspec.Struct):
        return _uuids_to_str(msgspec.to_builtins(x, enc_hook=_builtins_hook))
    return x


def _builtins_hook(obj: Any) -> Any:
    np = sys.modules.get("numpy")
    if np is not None and isinstance(obj, np.ndarray):
        return obj.tolist()
    return _enc_hook(obj)


def parse(tp: type[T] | Any, data: Any) -> T:
    """Decode and validate ``data`` (JSON bytes/str, or builtins) as ``tp``.

    Raises :class:`aqdrant.errors.ValidationError` naming the path of the offending value.
    """
    try:
        native, spec = _plan(tp)
    except TypeError:  # unhashable annotation
        native, spec = None, spec_for(tp, _RESOLVED)
    try:
        if isinstance(data, (bytes, bytearray, memoryview, str)):
            if native is not None:
                return msgspec.json.decode(data, type=native)
            return resolve(spec, msgspec.json.decode(data))
        try:
            return msgspec.convert(data, native) if native is not None else resolve(spec, data)
        except msgspec.ValidationError as e:
            if "Expected `raw`" in str(e):
                # Response vectors are decoded as raw JSON (kept unparsed until read); from
                # builtins, go through JSON text once.
                text = msgspec.json.encode(_uuids_to_str(data), enc_hook=_enc_hook)
                return msgspec.json.decode(text, type=native) if native is not None else resolve(spec, msgspec.json.decode(text))
            # Builtins from Python code may hold uuid.UUID objects (point ids) where the wire has
            # strings: retry once with them as strings. Only on failure, so the common path
            # never walks the data.
            fixed = _uuids_to_str(data)
            if fixed is data:
                raise
            return msgspec.convert(fixed, native) if native is not None else resolve(spec, fixed)
    except msgspec.ValidationError as e:
        text, path = merge_path(str(e))
        raise ValidationError(f"{text} - at `{path}`", path=path) from None
    except msgspec.DecodeError as e:
        raise ValidationError(f"invalid JSON: {e}") from None


__all__ = ["Model", "RawVector", "parse", "dump", "to_builtins", "vectors_array", *_generated_all]


def vectors_array(points: Any, using: str | None = None, dtype: Any = None) -> Any:
    """The dense vectors of a reply's ``points`` as one ``(n, dim)`` numpy array (float32 unless
    ``dtype``); ``using`` names a named vector. Vectors still held as float32 bytes (gRPC, the
    embedded engine) are joined without a Python float per element. See ``_vectors.py``."""
    from ._vectors import vectors_array as _vectors_array

    return _vectors_array(points, using, "float32" if dtype is None else dtype)
