"""The base every generated model derives from, and the hook that resolves union fields."""

from __future__ import annotations

from typing import Any

import msgspec

from ._unions import RawVector, resolve

#: Classes of a raw response-vector slot that still hold undecoded vectors.
LAZY = frozenset({RawVector, dict})


def materialize(obj: Any, name: str, value: Any) -> Any:
    """Replace the raw vector(s) in ``obj.<name>`` by lists, once; return the new value."""
    if value.__class__ is RawVector:
        value = value.tolist()
    elif any(v.__class__ is RawVector for v in value.values()):
        value = {k: v.tolist() if v.__class__ is RawVector else v for k, v in value.items()}
    else:
        return value
    msgspec.structs.force_setattr(obj, name, value)
    return value


class Model(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """A Qdrant API object. Unset optional fields are omitted from the wire; unknown fields
    sent by a newer server are ignored.

    ``gc=False`` (inherited by every model): instances are not tracked by the cyclic garbage
    collector. Models are trees of values that never refer back to themselves, and a bulk
    upsert or a 10,000-hit reply creates them by the thousand; untracked, they no longer count
    towards triggering collections, so a service's loop sees fewer full-GC pauses (each one
    scans every live object: tens of ms in a big process).
    """

    # ---- the pydantic-style surface code written for the official client calls ------------
    # Same names and keyword semantics as pydantic's; msgspec underneath. One difference: msgspec
    # does not record which fields were given, so ``exclude_unset`` leaves out the fields that
    # hold their default value (what was never set, and what was set to the default).

    def model_dump(
        self,
        *,
        mode: str = "python",
        include: Any = None,
        exclude: Any = None,
        by_alias: bool = False,
        exclude_unset: bool = False,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        **_ignored: Any,
    ) -> dict[str, Any]:
        """This object as a dict, every field included (None too) unless excluded.

        ``mode="json"`` gives JSON-ready values (enums as their value, UUIDs as strings, numpy
        arrays as lists); ``by_alias=True`` uses the server's field names.
        """
        opts = (by_alias, exclude_unset or exclude_defaults, exclude_none)
        out = _dump_struct(self, opts, _keys(include), _keys(exclude))
        if mode == "json":
            from . import _builtins_hook

            return msgspec.to_builtins(out, enc_hook=_builtins_hook)
        return out

    def model_dump_json(self, *, indent: int | None = None, **options: Any) -> str:
        """This object as JSON text (``model_dump(mode="json", ...)`` encoded)."""
        data = self.model_dump(mode="json", **options)
        text = msgspec.json.encode(data)
        if indent:
            text = msgspec.json.format(text, indent=indent)
        return text.decode()

    @classmethod
    def model_validate(cls, obj: Any, **_ignored: Any) -> Any:
        """An instance from a dict (or an instance): checked, unions resolved."""
        if isinstance(obj, cls):
            return obj
        from . import parse

        if isinstance(obj, msgspec.Struct):
            obj = msgspec.to_builtins(obj)
        return parse(cls, obj)

    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, **_ignored: Any) -> Any:
        """An instance from JSON text."""
        from . import parse

        return parse(cls, json_data if isinstance(json_data, (str, bytes)) else bytes(json_data))

    def model_copy(self, *, update: dict[str, Any] | None = None, deep: bool = False) -> Any:
        """A copy, with ``update``'s fields replaced (not validated, as pydantic does)."""
        import copy

        obj = copy.deepcopy(self) if deep else copy.copy(self)
        for name, value in (update or {}).items():
            msgspec.structs.force_setattr(obj, name, value)
        return obj

    @classmethod
    def model_json_schema(cls, **_ignored: Any) -> dict[str, Any]:
        """The JSON schema of this model (msgspec's)."""
        return msgspec.json.schema(cls)


def _keys(spec: Any) -> frozenset | None:
    if spec is None:
        return None
    if isinstance(spec, dict):
        return frozenset(k for k, v in spec.items() if v is True or v is ...)
    return frozenset(spec)


_PLAIN = frozenset({str, int, float, bool, type(None)})


def _dump_struct(obj: Any, opts: tuple, include: frozenset | None = None, exclude: frozenset | None = None) -> dict:
    by_alias, skip_defaults, skip_none = opts
    if not (by_alias or skip_defaults or skip_none) and include is None and exclude is None:
        # the common call, model_dump(): every field, one C call for the struct's own level
        out = msgspec.structs.asdict(obj)
        plain = _PLAIN
        for k, v in out.items():
            if v.__class__ not in plain:
                out[k] = _dump_value(v, opts)
        spec_defaults = _spec_defaults(obj.__class__)
        for k, default in spec_defaults.items():
            if out.get(k, 0) is None:
                out[k] = default
        return out
    out = {}
    cls = obj.__class__
    spec_defaults = _spec_defaults(cls)
    for f in _fields(cls):
        name = f.name
        if (include is not None and name not in include) or (exclude is not None and name in exclude):
            continue
        value = getattr(obj, name)  # through the class hook: raw response vectors become lists
        if value is None and name in spec_defaults:
            if skip_defaults:
                continue  # unset
            value = spec_defaults[name]  # what pydantic's model holds: the spec's default
        if skip_none and value is None:
            continue
        if skip_defaults and _is_default(f, value):
            continue
        out[f.encode_name if by_alias else name] = _dump_value(value, opts)
    return out


def _dump_value(v: Any, opts: tuple) -> Any:
    if isinstance(v, Model):
        return _dump_struct(v, opts)
    cls = v.__class__
    plain = _PLAIN
    if cls is list or cls is tuple:
        if v and v[0].__class__ is float:
            return list(v)  # a vector: no walk per number
        return [x if x.__class__ in plain else _dump_value(x, opts) for x in v]
    if cls is dict:
        return {k: x if x.__class__ in plain else _dump_value(x, opts) for k, x in v.items()}
    if cls is RawVector:
        return v.tolist()
    if cls is msgspec.Raw:  # a response vector not read yet
        return msgspec.json.decode(v)
    return v


def _is_default(f: Any, value: Any) -> bool:
    if f.default is not msgspec.NODEFAULT:
        return value == f.default
    if f.default_factory is not msgspec.NODEFAULT:
        return value == f.default_factory()
    return False


_FIELDS: dict[type, tuple] = {}


def _spec_defaults(cls: type) -> dict[str, Any]:
    from ._generated import SPEC_DEFAULTS

    return SPEC_DEFAULTS.get(cls.__name__, _NONE) if cls.__module__.endswith("_generated") else _NONE


_NONE: dict[str, Any] = {}


def _fields(cls: type) -> tuple:
    got = _FIELDS.get(cls)
    if got is None:
        got = _FIELDS[cls] = msgspec.structs.fields(cls)
    return got


def resolve_fields(obj: Model, fields: tuple) -> None:
    """Resolve each union field of ``obj`` in place; raise ``ValueError`` naming the path.

    msgspec turns a ``ValueError`` from ``__post_init__`` into a ``ValidationError`` and adds the
    path of ``obj`` itself; our message carries the path inside ``obj``.
    """
    for name, spec, required in fields:
        value = object.__getattribute__(obj, name)  # the slot, without a class hook
        if value is None and not required:
            continue
        try:
            resolved = resolve(spec, value)
        except msgspec.ValidationError as e:
            from ._unions import merge_path

            wire = _wire_name(type(obj), name)
            text, path = merge_path(str(e), "." + wire)
            # aqdrant's ValidationError is a ValueError: building a model in Python raises it
            # under QdrantError; inside msgspec.convert msgspec still adds the outer path
            from ..errors import ValidationError

            raise ValidationError(f"{text} - at `{path}`", path=path) from None
        if resolved is not value:
            msgspec.structs.force_setattr(obj, name, resolved)


def _wire_name(cls: type, name: str) -> str:
    for f in msgspec.structs.fields(cls):
        if f.name == name:
            return f.encode_name
    return name
