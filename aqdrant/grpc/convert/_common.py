"""Shared helpers of the converters: enum mapping, field-by-field diff copies, the common request
fields (wait/ordering/timeout, read consistency) and the error for a shape gRPC cannot carry."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ... import models as m
from ...errors import UnsupportedOperation
from .._proto import qdrant as q


def _unsupported(what: str) -> UnsupportedOperation:
    try:
        return UnsupportedOperation(f"gRPC conversion of {what} is not implemented; use REST")
    except TypeError:  # pragma: no cover - constructor with other required arguments
        exc = UnsupportedOperation.__new__(UnsupportedOperation)
        Exception.__init__(exc, f"gRPC conversion of {what} is not implemented; use REST")
        return exc


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _enum_to_grpc(value: Any, proto_enum: type, lowercase: bool = False) -> Any:
    """A model enum (value like 'Cosine' or 'wait_timeout') to the proto enum member."""
    raw = value.value if hasattr(value, "value") else str(value)
    for member in proto_enum:
        name = member.name.rstrip("_")  # Modifier.None_
        if name == raw or _snake(name) == raw or name.lower() == str(raw).lower():
            return member
    raise _unsupported(f"{proto_enum.__name__} value {raw!r}")


def _enum_from_grpc(member: Any, model_enum: type) -> Any:
    name = member.name.rstrip("_")
    for candidate in (name, _snake(name), name.lower()):
        try:
            return model_enum(candidate)
        except ValueError:
            continue
    raise ValueError(f"{model_enum.__name__} has no value for gRPC {type(member).__name__}.{name}")


def _quiet(fn: Any) -> Any:
    """Run ``fn`` without the proto's DeprecationWarnings: REST still takes fields such as
    ``on_disk`` and ``always_ram`` that the proto marks deprecated, and they are carried as given."""
    import functools
    import warnings

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return fn(*args, **kwargs)

    return run


def _cached_field_default(self: Any, field_name: str) -> Any:
    """betterproto2's ``_get_field_default``, computed once per class and field.

    betterproto2 builds the default anew inside ``warnings.catch_warnings()`` for every field it
    writes (``__bytes__`` skips fields equal to their default), which was most of the CPU of
    encoding a small request. Its callers (``__bytes__``, ``__eq__``, ``__repr__``,
    ``is_set``) only compare against the value, so one shared instance per field is enough.
    """
    cls = type(self)
    cache = cls.__dict__.get("_aq_defaults")
    if cache is None:
        cache = {}
        cls._aq_defaults = cache
    try:
        return cache[field_name]
    except KeyError:
        import warnings

        with warnings.catch_warnings():  # deprecated fields warn when their default is built
            warnings.simplefilter("ignore", DeprecationWarning)
            value = cache[field_name] = self._betterproto.default_gen[field_name]()
        return value


def _install_cached_defaults() -> None:
    """Give every generated message class :func:`_cached_field_default` (only ours: other
    betterproto2 users in the process keep the library's behaviour)."""
    import betterproto2

    from .._proto.google import protobuf as gp

    for module in (q, gp):
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, betterproto2.Message):
                obj._get_field_default = _cached_field_default  # type: ignore[method-assign]


_install_cached_defaults()


def betterproto_which(msg: Any, group: str) -> str | None:
    import betterproto2

    name, _ = betterproto2.which_one_of(msg, group)
    return name or None


_DIFF_ENUMS: dict[str, tuple[type, type]] = {
    "memory": (q.Memory, m.Memory),
    "datatype": (q.Datatype, m.Datatype),
    "tokenizer": (q.TokenizerType, m.TokenizerType),
}


def _diff_to_grpc(model: Any, cls: type, exclude: tuple[str, ...] = (), skip: tuple[str, ...] = ()) -> Any:
    """A flat *Diff model whose fields are scalars (or the enums in ``_DIFF_ENUMS``) of the same
    names in the proto; fields in ``exclude`` are refused, fields in ``skip`` left to the caller."""
    if model is None:
        return None
    import msgspec

    values = {
        f: getattr(model, f)
        for f in model.__struct_fields__
        if getattr(model, f) is not None and f not in skip
    }
    for name, value in values.items():
        if name in exclude or name not in cls.__dataclass_fields__:
            raise _unsupported(f"{type(model).__name__}.{name}")
        if name in _DIFF_ENUMS:
            values[name] = _enum_to_grpc(value, _DIFF_ENUMS[name][0])
        elif isinstance(value, (msgspec.Struct, dict, list)):
            raise _unsupported(f"{type(model).__name__}.{name}")
    return cls(**values)


def _diff_from_grpc(msg: Any, cls: type, as_dict: bool = False) -> Any:
    if msg is None:
        return None
    fields = set(cls.__struct_fields__)
    values = {
        k: getattr(msg, k) for k in msg.__dataclass_fields__ if k in fields and getattr(msg, k) is not None
    }
    for name, (_, model_enum) in _DIFF_ENUMS.items():
        if name in values:
            if "Unknown" in values[name].name:  # a proto3 enum left at 0 (TextIndexParams.tokenizer)
                del values[name]
            else:
                values[name] = _enum_from_grpc(values[name], model_enum)
    return values if as_dict else cls(**values)


def _ordering(query: Mapping[str, Any]) -> q.WriteOrdering | None:
    o = query.get("ordering")
    if o is None:
        return None
    return q.WriteOrdering(type=_enum_to_grpc(o, q.WriteOrderingType))


def read_consistency_to_grpc(c: Any) -> q.ReadConsistency | None:
    if c is None:
        return None
    if isinstance(c, int) and not isinstance(c, bool):
        return q.ReadConsistency(factor=c)
    return q.ReadConsistency(type=_enum_to_grpc(c, q.ReadConsistencyType))


def read_consistency_from_grpc(c: q.ReadConsistency | None) -> Any:
    if c is None:
        return None
    if betterproto_which(c, "value") == "factor":
        return c.factor
    return _enum_from_grpc(c.type, m.ReadConsistencyType)


def _read_fields(query: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "read_consistency": read_consistency_to_grpc(query.get("consistency")),
        "timeout": query.get("timeout"),
    }


def _write_fields(query: Mapping[str, Any]) -> dict[str, Any]:
    return {"wait": query.get("wait"), "ordering": _ordering(query), "timeout": query.get("timeout")}


def _coll(path: Mapping[str, Any]) -> str:
    return path.get("collection_name", "")


def _opt_enum_to_grpc(v: Any, proto_enum: type) -> Any:
    return _enum_to_grpc(v, proto_enum) if v is not None else None


def _opt_enum_from_grpc(v: Any, model_enum: type) -> Any:
    return _enum_from_grpc(v, model_enum) if v is not None else None


# --------------------------------------------------------------------------- mirrored pairs
# Where a model and a message have the same field names, one declaration gives both directions:
# fields are copied as they are unless ``convert`` names a (to_grpc, from_grpc) pair for them.

Pair = tuple[Callable[[Any], Any], Callable[[Any], Any]]


def enum_pair(proto_enum: type, model_enum: type) -> Pair:
    """(to_grpc, from_grpc) of an enum field (None stays None)."""
    return (lambda v: _opt_enum_to_grpc(v, proto_enum), lambda v: _opt_enum_from_grpc(v, model_enum))


@dataclass(frozen=True)
class Mirror:
    """A model and a message with the same field names (``renamed``: model name -> message name
    where they differ); ``dropped``: model fields the message has no field for (they read back
    as their default). ``convert`` is keyed by the model's names."""

    model: type
    message: type
    convert: Mapping[str, Pair] = field(default_factory=dict)
    dropped: tuple[str, ...] = ()
    renamed: Mapping[str, str] = field(default_factory=dict)

    def names(self) -> list[str]:
        return [f for f in self.model.__struct_fields__ if f not in self.dropped]

    def to_grpc(self, obj: Any, **extra: Any) -> Any:
        values = {f: getattr(obj, f) for f in self.names()}
        for f, (to, _) in self.convert.items():
            values[f] = to(values[f])
        return self.message(**{self.renamed.get(f, f): v for f, v in values.items()}, **extra)

    def from_grpc(self, msg: Any) -> Any:
        values = {f: getattr(msg, self.renamed.get(f, f)) for f in self.names()}
        for f, (_, back) in self.convert.items():
            values[f] = back(values[f])
        return self.model(**values)

    def optional(self) -> Pair:
        """(to_grpc, from_grpc) of a field of this type that may be None."""
        return (
            lambda x: None if x is None else self.to_grpc(x),
            lambda x: None if x is None else self.from_grpc(x),
        )

    def many(self, optional: bool = False) -> Pair:
        """(to_grpc, from_grpc) of a list field of these; ``optional``: None on REST's side is an
        empty list on gRPC's, and an empty list reads back as None."""
        return (
            lambda xs: [self.to_grpc(x) for x in xs or ()],
            lambda xs: [self.from_grpc(x) for x in xs] or (None if optional else []),
        )
