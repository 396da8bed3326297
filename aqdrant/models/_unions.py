"""Runtime resolution of the unions msgspec cannot decode natively.

The generator (tools/gen_models.py) types such fields ``Any`` for msgspec and gives each model a
table of specs; ``__post_init__`` calls :func:`resolve` on the raw value. One rule for every
union: dispatch on the JSON shape of the value (object / array / string / number / bool / null),
then, among object variants, rank by keys (all required keys present, most known keys matched,
fewest unknown keys) and try them in that order. Already-typed values (a model instance, a numpy
array) pass through. When nothing fits, the error of the variant that got furthest is raised,
with the path of the offending value.
"""

from __future__ import annotations

import enum
import re
import sys
import typing
import uuid
from collections.abc import Sequence
from functools import cache
from typing import Any

import msgspec

_AT = re.compile(r" - at `\$([^`]*)`")
_SEGMENT = re.compile(r"\[[^\]]*\]|\.[^.\[]+")


def merge_path(message: str, prefix: str = "") -> tuple[str, str]:
    """Split msgspec's ``"... - at `$.a` - at `$.b`"`` chains into (text, one full path).

    Nested ``__post_init__`` errors collect one ``- at`` per level, innermost first; the full
    path is outermost + ... + innermost. ``prefix`` is put in front of the result.
    """
    parts = _AT.findall(message)
    text = _AT.sub("", message)
    return text, "$" + prefix + "".join(reversed(parts))


def _rebase(err: msgspec.ValidationError, prefix: str) -> msgspec.ValidationError:
    text, path = merge_path(str(err), prefix)
    return msgspec.ValidationError(f"{text} - at `{path}`")


def _depth(err: msgspec.ValidationError) -> int:
    _, path = merge_path(str(err))
    return len(_SEGMENT.findall(path))


class ListSpec:
    __slots__ = ("item", "plain")

    def __init__(self, item: Any) -> None:
        self.item = item
        # A list of natively decodable items is converted in one msgspec call.
        self.plain = typing.List[item] if not isinstance(item, (ListSpec, DictSpec, UnionSpec)) else None

    def __repr__(self) -> str:
        return f"List[{_name(self.item)}]"


class DictSpec:
    __slots__ = ("value", "plain")

    def __init__(self, value: Any) -> None:
        self.value = value
        self.plain = typing.Dict[str, value] if not isinstance(value, (ListSpec, DictSpec, UnionSpec)) else None

    def __repr__(self) -> str:
        return f"Dict[str, {_name(self.value)}]"


class UnionSpec:
    """A union resolved by shape and keys. Members may be types, List/Dict specs or unions."""

    def __init__(self, *members: Any, name: str | None = None) -> None:
        self.name = name
        self._members: tuple = members
        self._flat: list | None = None

    def set_members(self, *members: Any) -> None:
        self._members = members
        self._flat = None
        self._table = None

    _table: dict | None = None

    def table(self) -> dict:
        """Candidates per JSON shape of a value, in preference order, computed once."""
        if self._table is None:
            members = self.members
            any_members = [m for m in members if _shape_of_member(m) == "any"]
            t: dict = {
                shape: [m for s in accepts for m in members if _shape_of_member(m) == s] + any_members
                for shape, accepts in _ACCEPTS.items()
            }
            t["ndims"] = frozenset(
                _numeric_depth(m) for m in members if _shape_of_member(m) == "array" and _numeric_depth(m) > 0
            )
            # A list starting with a float can only be a flat float vector here: every other
            # array member holds arrays or objects (``List[List[float]]``, ``List[Document]``).
            t["floats"] = any(isinstance(m, ListSpec) and m.item is float for m in t["array"]) and all(
                (isinstance(m, ListSpec) and m.item is float) or _numeric_depth(m) > 1
                or (isinstance(m, ListSpec) and not (m.item in (int, float) or _shape_of_member(m.item) in ("any", "float", "int")))
                for m in t["array"]
            )
            # A value of one of these exact classes resolves to itself: the only candidate for
            # its shape is that class (``True`` for ``bool | List[str] | ...``, ``None``).
            t["exact"] = frozenset(c for c in (bool, int, float, str, type(None)) if t[_shape_of_member(c)] == [c])
            self._table = t
        return self._table

    def __repr__(self) -> str:
        return self.name or " | ".join("null" if m is type(None) else _name(m) for m in self._members)

    @property
    def members(self) -> list:
        if self._flat is None:
            flat: list = []
            for m in self._members:
                for x in _expand(m):
                    if x not in flat:
                        flat.append(x)
            self._flat = flat
        return self._flat


def _expand(m: Any) -> list:
    if isinstance(m, UnionSpec):
        return list(m.members)
    if typing.get_origin(m) is typing.Union:
        return [x for a in typing.get_args(m) for x in _expand(a)]
    return [m]


def _name(m: Any) -> str:
    return getattr(m, "__name__", None) or repr(m)


def _shape_of_member(m: Any) -> str:
    if isinstance(m, ListSpec):
        return "array"
    if isinstance(m, DictSpec):
        return "object"
    if m is type(None):
        return "null"
    if m is Any:
        return "any"
    origin = typing.get_origin(m)
    if origin in (list, tuple, set):
        return "array"
    if origin is dict or m is dict:
        return "object"
    if origin is typing.Literal:
        return "str" if isinstance(typing.get_args(m)[0], str) else "int"
    if isinstance(m, type):
        if issubclass(m, msgspec.Struct):
            return "object"
        if issubclass(m, enum.Enum):
            return "str" if issubclass(m, str) else "int"
        if m is bool:
            return "bool"
        if m is int:
            return "int"
        if m is float:
            return "float"
        if m is str or m is uuid.UUID:
            return "str"
    return "any"


def _shape_of_value(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, dict):
        return "object"
    if isinstance(v, (list, tuple)):
        return "array"
    if isinstance(v, str):
        return "str"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    return "other"


# Which member shapes may take a value of a given shape, in order of preference.
_ACCEPTS = {
    "object": ("object",),
    "array": ("array",),
    "str": ("str",),
    "bool": ("bool",),
    "int": ("int", "float"),
    "float": ("float",),
    "null": ("null",),
}


@cache
def _struct_keys(cls: type) -> tuple[frozenset, frozenset]:
    fields = msgspec.structs.fields(cls)
    return (
        frozenset(f.encode_name for f in fields if f.required),
        frozenset(f.encode_name for f in fields),
    )


def _rank_object(member: Any, keys: set) -> tuple:
    if isinstance(member, type) and issubclass(member, msgspec.Struct):
        required, known = _struct_keys(member)
        return (required <= keys, len(keys & known), -len(keys - known))
    return (True, 0, 0)  # a map takes any keys; preferred only over poorer struct matches


def _is_fit(member: Any, keys: set) -> bool:
    if not (isinstance(member, type) and issubclass(member, msgspec.Struct)):
        return True  # a map takes any keys
    required, known = _struct_keys(member)
    return required <= keys and (not keys or bool(keys & known))


def _is_map(m: Any) -> bool:
    return not (isinstance(m, type) and issubclass(m, msgspec.Struct))


def _array_depth(m: Any) -> int:
    if isinstance(m, ListSpec):
        return 1 + _array_depth(m.item)
    if typing.get_origin(m) in (list, tuple):
        return 1 + _array_depth(typing.get_args(m)[0])
    return 0


def _numeric_depth(m: Any) -> int:
    """Nesting depth of a list-of-numbers type (``List[List[float]]`` -> 2); -1 otherwise."""
    if isinstance(m, ListSpec):
        d = _numeric_depth(m.item)
    elif typing.get_origin(m) in (list, tuple):
        d = _numeric_depth(typing.get_args(m)[0])
    else:
        return 0 if m in (float, int) else -1
    return d + 1 if d >= 0 else -1


def _numpy_ndarray() -> type | None:
    np = sys.modules.get("numpy")  # only a value from numpy can be an ndarray; never import it here
    return np.ndarray if np is not None else None


def resolve(spec: Any, value: Any) -> Any:
    """Resolve ``value`` against ``spec`` (a type, ListSpec, DictSpec or UnionSpec)."""
    if isinstance(spec, UnionSpec):
        return _resolve_union(spec, value)
    if isinstance(spec, ListSpec):
        nd = _numpy_ndarray()
        if nd is not None and isinstance(value, nd):
            depth = _numeric_depth(spec)
            if depth < 0 and isinstance(spec.item, UnionSpec) and value.ndim - 1 in spec.item.table()["ndims"]:
                depth = value.ndim  # rows of a union's numeric member, e.g. a named Batch column
            return _check_ndarray(value, depth)
        if spec.plain is not None:
            try:
                return msgspec.convert(value, spec.plain)
            except msgspec.ValidationError:
                plain = _denumpy(value)
                if plain is not value:
                    return msgspec.convert(plain, spec.plain)
                if not (isinstance(value, (list, tuple)) and any(map(_is_pydantic, value))):
                    raise
                # official-client (pydantic) items: each is taken by the walk below
        if not isinstance(value, (list, tuple)):
            raise msgspec.ValidationError(f"Expected `array`, got `{type(value).__name__}`")
        out = []
        for i, x in enumerate(value):
            try:
                out.append(resolve(spec.item, x))
            except msgspec.ValidationError as e:
                raise _rebase(e, f"[{i}]") from None
        return out
    if isinstance(spec, DictSpec):
        if spec.plain is not None:
            try:
                return msgspec.convert(value, spec.plain)
            except msgspec.ValidationError:
                if not isinstance(value, dict):
                    raise
                for k, x in value.items():  # name the key (msgspec says `[...]`)
                    try:
                        resolve(spec.value, x)
                    except msgspec.ValidationError as e:
                        raise _rebase(e, f".{k}") from None
                if not any(map(_is_pydantic, value.values())):
                    raise
                # official-client (pydantic) values: each is taken by the walk below
        if not isinstance(value, dict):
            raise msgspec.ValidationError(f"Expected `object`, got `{type(value).__name__}`")
        res = {}
        for k, x in value.items():
            try:
                res[k] = resolve(spec.value, x)
            except msgspec.ValidationError as e:
                raise _rebase(e, f".{k}") from None
        return res
    if spec is Any:
        return value
    if isinstance(spec, type) and isinstance(value, spec) and not isinstance(value, (dict, list)):
        return value
    if isinstance(value, uuid.UUID) and spec is str:
        return value
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.generic):
        value = value.item()  # a numpy scalar (np.int64 id, np.float64 component): its Python value
    elif _is_pydantic(value):  # e.g. a value of a dict of models: {"text": VectorParams(...)}
        value = value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return msgspec.convert(value, spec)


def _is_pydantic(value: Any) -> bool:
    """A pydantic model: the official client's models, from an import left unchanged."""
    return hasattr(value, "model_fields_set") and hasattr(value, "model_dump") and not isinstance(value, msgspec.Struct)


def _denumpy(value: Any) -> Any:
    """``value`` (a list) with numpy scalars as Python numbers - what ``list(np_array)`` gives
    and the official client accepts; ``value`` itself when it holds none."""
    np = sys.modules.get("numpy")
    if np is None or not isinstance(value, (list, tuple)) or not any(isinstance(x, np.generic) for x in value):
        return value
    return [x.item() if isinstance(x, np.generic) else x for x in value]


def _check_ndarray(arr: Any, depth: int) -> Any:
    if depth < 0:
        raise msgspec.ValidationError(f"Expected an array of objects, got a {arr.ndim}-D numpy array")
    if arr.ndim != depth or arr.dtype.kind not in "fiu":
        raise msgspec.ValidationError(
            f"Expected a {depth}-D numeric array, got {arr.ndim}-D array of {arr.dtype}"
        )
    return arr


class RawVector(Sequence):
    """A dense vector from a response, kept as the server's JSON until someone reads it.

    Decoding 768 floats into Python objects costs most of a query response's decode time; most
    callers never look at the numbers, or want numpy. The JSON was checked to be a flat array of
    numbers when the response was decoded; items are decoded (to a list of floats) on first
    access. Behaves as a read-only sequence of floats, equals a list with the same values,
    ``numpy.asarray`` works, and ``models.dump`` writes the original bytes back unchanged.

    ``RawVector.from_float32(data)`` keeps native float32 bytes instead (the embedded engine's
    replies): the same floats on access, and JSON written on demand with the digits a list of
    them would get.
    """

    __slots__ = ("_raw", "_list", "_f32")

    def __init__(self, raw: bytes) -> None:
        self._raw = raw
        self._list: list | None = None
        self._f32: bytes | None = None

    @classmethod
    def from_float32(cls, data: Any) -> RawVector:
        """A vector held as native-endian float32 bytes (copied from ``data``)."""
        self = cls.__new__(cls)
        self._raw = None
        self._list = None
        self._f32 = bytes(data)
        return self

    def tolist(self) -> list:
        if self._list is None:
            if self._f32 is not None:
                self._list = memoryview(self._f32).cast("f").tolist()
            else:
                self._list = msgspec.json.decode(self._raw, type=typing.List[float])
        return self._list

    def __len__(self) -> int:
        if self._f32 is not None:
            return len(self._f32) // 4
        return len(self.tolist())

    def __getitem__(self, i: Any) -> Any:
        return self.tolist()[i]

    def __iter__(self) -> Any:
        return iter(self.tolist())

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, RawVector):
            other = other.tolist()
        return self.tolist() == other if isinstance(other, (list, tuple)) else NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        import numpy as np

        if self._f32 is not None and self._list is None:
            # float64 by default, as from the list (float32 -> float64 is exact)
            return np.frombuffer(self._f32, dtype=np.float32).astype(dtype or np.float64)
        return np.asarray(self.tolist(), dtype=dtype)

    def __repr__(self) -> str:
        return repr(self.tolist())

    def __reduce__(self) -> Any:
        return (RawVector, (self.raw,))

    @property
    def raw(self) -> bytes:
        """The JSON text of the vector, as received (written from the floats for float32 bytes)."""
        if self._raw is None:
            self._raw = msgspec.json.encode(self.tolist())
        return self._raw


def _raw_vectors(spec: UnionSpec, raw: msgspec.Raw) -> Any:
    """Resolve a response vector field decoded as ``msgspec.Raw``: fast shape check for flat
    number arrays (kept raw), per-name for named vectors, a full decode otherwise."""
    b = bytes(raw)
    head = b[:1]
    if head == b"[" and _flat_numbers(b):
        return RawVector(b)
    if head == b"{":
        parts = msgspec.json.decode(b, type=typing.Dict[str, msgspec.Raw])
        out = {}
        for k, v in parts.items():
            vb = bytes(v)
            if vb[:1] == b"[" and _flat_numbers(vb):
                out[k] = RawVector(vb)
            else:
                out[k] = msgspec.json.decode(vb)
        value: Any = out
    else:
        value = msgspec.json.decode(b)
    if value is None:
        return None
    return _resolve_union(spec, value)


def _flat_numbers(b: bytes) -> bool:
    """``b`` (valid JSON starting with ``[``) is a flat array of numbers. Each test is one
    memchr-speed scan: a nested array has a second ``[``, a string a ``"``, an object a ``{``,
    null/true/false an ``n``/``t``/``f`` - none of which a JSON number contains."""
    return (
        b.find(b"[", 1) == -1
        and b'"' not in b
        and b"{" not in b
        and b"n" not in b
        and b"t" not in b
        and b"f" not in b
    )


_FLOATS = typing.List[float]


def _resolve_union(spec: UnionSpec, value: Any) -> Any:
    cls = value.__class__
    if cls in spec.table()["exact"]:
        return value
    if cls is list and value and value[0].__class__ is not float and spec.table()["floats"]:
        value = _denumpy(value)  # ``list(np.random.rand(384))``: numpy float64 items
    if cls is list and value and value[0].__class__ is float and spec.table()["floats"]:
        # A dense vector of Python floats (the common case when building points from lists).
        # Validated in full (every item a float or an int, not bool/str/None/numpy scalar) by
        # one msgspec.convert whose copy is dropped: the caller's list is kept, so building a
        # point neither copies 768 floats nor leaves a new 768-item list for the GC to walk.
        # An int among the floats stays an int (the same number on the wire: JSON `1`).
        try:
            msgspec.convert(value, _FLOATS)
        except msgspec.ValidationError:
            pass  # the general path below names the offending item
        else:
            return value
    np = sys.modules.get("numpy")  # only a value from numpy can be an ndarray; never import it here
    if np is not None and cls is np.ndarray:
        if value.ndim in spec.table()["ndims"]:
            return _check_ndarray(value, value.ndim)
        raise msgspec.ValidationError(f"Expected `{spec!r}`, got a {value.ndim}-D array")
    members = spec.members
    if isinstance(value, msgspec.Raw):
        return _raw_vectors(spec, value)
    if isinstance(value, RawVector):
        if 1 in spec.table()["ndims"]:
            return value  # already checked to be a flat array of numbers
        value = value.tolist()
    if isinstance(value, msgspec.Struct):
        for m in members:
            if isinstance(m, type) and isinstance(value, m):
                return value
        raise msgspec.ValidationError(f"Expected `{spec!r}`, got `{type(value).__name__}`")
    table = spec.table()
    nd = _numpy_ndarray()
    if nd is not None and isinstance(value, nd):
        if value.ndim in table["ndims"]:
            return _check_ndarray(value, value.ndim)
        raise msgspec.ValidationError(f"Expected `{spec!r}`, got a {value.ndim}-D array")
    shape = _shape_of_value(value)
    if shape == "other" and _is_pydantic(value):
        value = value.model_dump(mode="json", by_alias=True, exclude_unset=True)
        shape = _shape_of_value(value)
    if shape == "other":
        shape = "str" if isinstance(value, uuid.UUID) else _numpy_scalar_shape(value)
    candidates = table.get(shape, ())
    if not candidates:
        raise msgspec.ValidationError(f"Expected `{spec!r}`, got `{_json_kind(shape)}`")
    if shape == "object" and len(candidates) > 1:
        keys = set(value)
        ranked = sorted(candidates, key=lambda m: _rank_object(m, keys), reverse=True)
        # A struct is a fit only if its required keys are there and it knows some key: a struct
        # of optional fields must not swallow an object meant for another variant.
        fits = [m for m in ranked if _is_fit(m, keys)]
        if not fits:
            # No variant has its required keys here. Only variants sharing a key with the value
            # may explain why (their error is raised); an object of unknown keys only must
            # not be taken by a variant of optional fields (which would ignore every key).
            partial = [m for m in ranked if _rank_object(m, keys)[1] > 0 and not _is_map(m)]
            if not partial:
                raise msgspec.ValidationError(
                    f"Expected `{spec!r}`, got an object with keys {sorted(keys)} that fits no variant"
                )
            candidates = partial
        else:
            candidates = fits
    best: msgspec.ValidationError | None = None
    for m in candidates:
        try:
            return resolve(m, value)
        except msgspec.ValidationError as e:
            if best is None or _depth(e) > _depth(best):
                best = e
    assert best is not None
    raise best


def _numpy_scalar_shape(value: Any) -> str:
    kind = getattr(getattr(value, "dtype", None), "kind", "")
    return {"b": "bool", "i": "int", "u": "int", "f": "float"}.get(kind, "other")


def _json_kind(shape: str) -> str:
    return {"str": "str", "int": "int", "float": "float", "bool": "bool", "null": "null"}.get(shape, shape)


def spec_for(tp: Any, resolved_unions: dict) -> Any:
    """Build a resolver spec for an arbitrary annotation (used by ``parse`` at top level)."""
    if tp in resolved_unions:
        return resolved_unions[tp]
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (list, typing.List):
        return ListSpec(spec_for(args[0], resolved_unions))
    if origin in (dict, typing.Dict):
        return DictSpec(spec_for(args[1], resolved_unions))
    if origin is typing.Union:
        return UnionSpec(*(spec_for(a, resolved_unions) for a in args))
    return tp
