"""Qdrant's JSON on the wire, beside the models: request bodies (whole or in slices), the
response envelope and results (whole or in slices), error texts and size estimates.

Shared by the REST transport (:mod:`aqdrant.rest.backend`, which only decides when to slice or
offload) and the dev server (:mod:`aqdrant.server.app`: request bodies, the envelopes it writes;
how Qdrant prints values stays in ``server/_wire.py``), and usable by anything else that writes
or reads Qdrant's REST JSON. ``models.dump`` /
``models.parse`` are called through the package (``models.dump(...)``) so a test can watch them.
"""

from __future__ import annotations

import copy
import secrets
import sys
import time
import typing
from collections.abc import Iterator
from typing import Any

import msgspec

from .. import models
from .._optable import Operation
from ..errors import ValidationError

#: the longest server error text kept on an exception
MAX_ERROR_TEXT = 2000


class _Envelope(msgspec.Struct):
    """Qdrant's response envelope; ``result`` stays raw so it is parsed once, into its type."""

    result: msgspec.Raw = msgspec.Raw(b"null")
    status: Any = None
    time: float | None = None


class _ErrorStatus(msgspec.Struct):
    error: str | None = None


class _ErrorEnvelope(msgspec.Struct):
    status: str | _ErrorStatus | None = None


_envelope_decoder = msgspec.json.Decoder(_Envelope)
_error_decoder = msgspec.json.Decoder(_ErrorEnvelope)


def decode_result(op: Operation, content: bytes, sliced: bool = False) -> Any:
    """Decode a response body into the operation's result type (``sliced``: large, off the loop)."""
    if op.response_kind == "envelope":
        try:
            envelope = _envelope_decoder.decode(content)
        except msgspec.DecodeError as exc:
            raise ValidationError(f"{op.name}: the server's response is not valid JSON: {exc}") from None
        except msgspec.ValidationError as exc:
            raise ValidationError(f"{op.name}: unexpected response envelope: {exc}") from None
        data: Any = memoryview(envelope.result)
    else:
        data = content
    try:
        if op.result_type is Any or op.result_type is None:
            return msgspec.json.decode(data)
        return parse(op.result_type, data, sliced)
    except msgspec.DecodeError as exc:
        raise ValidationError(f"{op.name}: the server's response is not valid JSON: {exc}") from None
    except ValidationError as exc:
        raise ValidationError(f"{op.name}: unexpected response: {exc}", path=exc.path) from None


def parse(tp: Any, data: Any, sliced: bool = False) -> Any:
    """``models.parse(tp, data)``; ``sliced``: a large document (run it in a worker thread), its
    biggest list parsed a slice at a time (:func:`parse_sliced`), whole again on an error so that
    the error names its exact path."""
    if sliced:
        try:
            return parse_sliced(tp, data)
        except (msgspec.DecodeError, msgspec.ValidationError, ValidationError):
            pass
    return models.parse(tp, data)


def encode_envelope(result: Any, elapsed: float) -> bytes:
    """Qdrant's success envelope around ``result`` (what :func:`decode_result` reads)."""
    return models.dump({"result": result, "status": "ok", "time": elapsed})


def encode_error(message: str, elapsed: float) -> bytes:
    """Qdrant's error envelope (what :func:`server_message` reads)."""
    return models.dump({"status": {"error": message}, "time": elapsed})


def server_message(content: bytes) -> str:
    """The error text of a server's error response (Qdrant's envelope, else the body's text)."""
    try:
        envelope = _error_decoder.decode(content)
    except (msgspec.DecodeError, msgspec.ValidationError):
        envelope = None
    text: str | None = None
    if envelope is not None:
        if isinstance(envelope.status, _ErrorStatus):
            text = envelope.status.error
        elif isinstance(envelope.status, str) and envelope.status != "ok":
            text = envelope.status
    if text is None:
        text = content[: MAX_ERROR_TEXT * 4].decode("utf-8", "replace").strip() or "(empty response)"
    if len(text) > MAX_ERROR_TEXT:
        text = text[:MAX_ERROR_TEXT] + "... (truncated)"
    return text


#: a large body is encoded (and a large response decoded) in slices of about this many bytes, so
#: the event loop never waits for a whole multi-megabyte encode or decode
SLICE_BYTES = 256 * 1024


def encode_slices(obj: Any, slice_bytes: int = SLICE_BYTES) -> Iterator[Any]:
    """``models.dump(obj)`` in consecutive parts, each about ``slice_bytes`` of work.

    msgspec and orjson encode a whole value per call, so one call over 8 MB would hold the loop
    for that long. Here the largest list (searched up to three levels deep, through structs and
    dicts; a 2-D array counts as the list of its rows) is swapped for a placeholder, the rest is
    encoded, and the list is encoded slice by slice between the shell's two halves.
    """
    found = _largest_list(obj, 3)
    if found is None or len(found[1]) < 2:
        yield models.dump(obj)
        return
    path, items = found
    n = len(items)
    step = max(1, slice_bytes // max(1, _list_size(items) // n))
    if step >= n:
        yield models.dump(obj)
        return
    marker = b'"__aqdrant_splice_' + secrets.token_hex(8).encode() + b'__"'
    shell = _replace_at(obj, path, msgspec.Raw(marker))
    head, sep, tail = models.dump(shell).partition(marker)
    if not sep:  # pragma: no cover - the placeholder is always encoded verbatim
        yield models.dump(obj)
        return
    yield head + b"["
    for start in range(0, n, step):
        yield memoryview(models.dump(items[start : start + step]))[1:-1]  # no copy until the join
        yield b"," if start + step < n else b"]" + tail


_raw_list = msgspec.json.Decoder(list[msgspec.Raw])
_raw_object = msgspec.json.Decoder(dict[str, msgspec.Raw])


def parse_sliced(tp: Any, data: Any, slice_bytes: int = SLICE_BYTES) -> Any:
    """``models.parse(tp, data)`` for a large response, building its biggest list slice by slice.

    For ``List[T]`` results and for structs whose largest field is a ``List[T]`` (``points`` of a
    scroll or query result), the list's items are located without being built (``msgspec.Raw``)
    and parsed a slice at a time, so the worker thread lets go of the GIL between slices.
    Raises msgspec / validation errors for the caller to fall back to a whole parse.
    """
    if typing.get_origin(tp) is list:
        return _parse_items(typing.get_args(tp)[0], _raw_list.decode(data), slice_bytes)
    if not (isinstance(tp, type) and issubclass(tp, msgspec.Struct)):
        return models.parse(tp, data)
    raw = _raw_object.decode(data)
    best = None
    for f in msgspec.structs.fields(tp):
        value = raw.get(f.encode_name)
        if value is not None and typing.get_origin(f.type) is list and bytes(memoryview(value)[:1]) == b"[":
            if best is None or len(value) > len(raw[best.encode_name]):
                best = f
    if best is None or len(raw[best.encode_name]) < 2 * slice_bytes:
        return models.parse(tp, data)
    items = _parse_items(typing.get_args(best.type)[0], _raw_list.decode(raw[best.encode_name]), slice_bytes)
    raw[best.encode_name] = msgspec.Raw(b"[]")
    result = models.parse(tp, msgspec.json.encode(raw))
    msgspec.structs.force_setattr(result, best.name, items)
    return result


def _parse_items(item_tp: Any, raws: list[msgspec.Raw], slice_bytes: int) -> list[Any]:
    if not raws:
        return []
    per_item = max(1, sum(len(r) for r in raws[:16]) // len(raws[:16]))
    step = max(1, slice_bytes // per_item)
    list_tp = list[item_tp]  # type: ignore[valid-type]
    out: list[Any] = []
    for start in range(0, len(raws), step):
        if start:
            time.sleep(0)  # let go of the GIL between slices
        out.extend(models.parse(list_tp, b"[" + b",".join(raws[start : start + step]) + b"]"))
    return out


def _children(obj: Any) -> list[tuple[Any, Any]]:
    if isinstance(obj, msgspec.Struct):
        return [(f, getattr(obj, f)) for f in obj.__struct_fields__]
    if isinstance(obj, dict):
        return list(obj.items())
    return []


def _largest_list(obj: Any, depth: int) -> tuple[tuple[Any, ...], Any] | None:
    """(path of keys, the list) of the longest list reachable through structs and dicts; a 2-D+
    numpy array (a Batch's vectors) counts as the list of its rows: orjson would otherwise
    write a whole 256 x 768 array in one call, holding the GIL for several ms."""
    np = sys.modules.get("numpy")
    best: tuple[tuple[Any, ...], Any] | None = None
    for key, value in _children(obj):
        if isinstance(value, (list, tuple)):
            cand: tuple[tuple[Any, ...], Any] | None = ((key,), list(value))
        elif np is not None and isinstance(value, np.ndarray) and value.ndim >= 2:
            cand = ((key,), value)  # row slices are views: no copy
        elif depth > 1:
            inner = _largest_list(value, depth - 1)
            cand = ((key, *inner[0]), inner[1]) if inner is not None else None
        else:
            cand = None
        if cand is not None and (best is None or _list_size(cand[1]) > _list_size(best[1])):
            best = cand
    return best


def _list_size(items: Any) -> int:
    """Estimated encoded size of ``items`` from a sample of its first entries."""
    if not len(items):
        return 0
    sample = items[:16]
    return approx_size(sample, 1 << 62) * len(items) // len(sample)


def _replace_at(obj: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A shallow copy of ``obj`` with the item at ``path`` replaced (``obj`` is not touched)."""
    key, rest = path[0], path[1:]
    if isinstance(obj, msgspec.Struct):
        new = copy.copy(obj)  # no __post_init__: the placeholder is not validated
        msgspec.structs.force_setattr(new, key, _replace_at(getattr(obj, key), rest, value) if rest else value)
        return new
    new_dict = dict(obj)
    new_dict[key] = _replace_at(obj[key], rest, value) if rest else value
    return new_dict


_SAMPLE = 16
_SCALARS = frozenset({type(None), int, float, bool})


def approx_size(obj: Any, limit: int) -> int:
    """A cheap estimate of ``obj``'s JSON size; stops counting once past ``limit``.

    Lists of numbers are counted by length, not walked (Python floats as float64 digits, about
    20 bytes each; float32 arrays about 12), and a long list of objects (points) by a sample of
    its first items, so the cost does not grow with the size of the body.
    """
    np = sys.modules.get("numpy")
    total = 0
    stack = [obj]
    scalars = _SCALARS
    while stack:
        o = stack.pop()
        if o.__class__ in scalars:  # most fields of a small request: None, a number, a flag
            total += 8
            continue
        if isinstance(o, (list, tuple)):
            if o and type(o[0]) is float:
                total += 20 * len(o)
            elif o and type(o[0]) is int:
                total += 12 * len(o)
            elif len(o) > 2 * _SAMPLE:
                sample = sum(approx_size(x, limit) for x in o[:_SAMPLE])
                total += 2 + len(o) + sample * len(o) // _SAMPLE
            else:
                total += 2 + len(o)
                stack.extend(o)
        elif isinstance(o, dict):
            total += 8 * len(o)
            stack.extend(o.values())
        elif isinstance(o, str):
            total += len(o) + 2
        elif isinstance(o, (bytes, bytearray, memoryview)):
            total += len(o)
        elif isinstance(o, msgspec.Struct):
            fields = o.__struct_fields__
            total += 8 * len(fields)
            stack.extend(getattr(o, f) for f in fields)
        elif np is not None and isinstance(o, np.ndarray):
            total += (20 if o.dtype.itemsize >= 8 else 12) * o.size
        else:
            total += 8
        if total > limit:
            break
    return total
