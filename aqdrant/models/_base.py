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

    def model_dump(self, *, exclude_none: bool = True) -> dict[str, Any]:
        """This object as JSON-ready builtins (the names the server uses)."""
        from . import to_builtins

        return to_builtins(self)


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
