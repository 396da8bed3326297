"""The thread side of local inference: fastembed models, loaded once per client and reused.

Everything here is blocking and runs in worker threads (``anyio.to_thread.run_sync``), never on
the event loop. A model is loaded once per (kind, name, options) and kept until the client is
closed; loads are serialized (two tasks asking for one model load it once), and each model runs
one batch at a time (onnxruntime already uses every core for one batch; two at once would only
contend).
"""

from __future__ import annotations

import base64
import binascii
import io
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from .. import models
from . import _registry as reg
from ._errors import InferenceError

_options_encoder = msgspec.json.Encoder(order="sorted")


def model_kwargs(options: Any) -> dict[str, Any]:
    """A Document's / Image's ``options`` as keyword arguments of the fastembed model class
    (``cache_dir``, ``threads``, ``providers``, ``specific_model_path``, BM25's ``k``/``b``...)."""
    if options is None:
        return {}
    if isinstance(options, msgspec.Struct):  # e.g. models.Bm25Config
        return {k: v for k, v in msgspec.structs.asdict(options).items() if v is not None}
    if isinstance(options, dict):
        return dict(options)
    raise InferenceError(f"model options must be a dict, got {type(options).__name__}")


def options_key(options: dict[str, Any]) -> str:
    try:
        return _options_encoder.encode(options).decode()
    except (TypeError, msgspec.EncodeError):
        return repr(sorted(options.items(), key=lambda kv: kv[0]))


class _Loaded:
    __slots__ = ("lock", "model")

    def __init__(self, model: Any) -> None:
        self.model = model
        self.lock = threading.Lock()


class Embedder:
    """fastembed models of one client; ``embed`` is blocking (call it in a worker thread)."""

    def __init__(self) -> None:
        self._models: dict[tuple[str, str, str], _Loaded] = {}
        self._load_lock = threading.Lock()
        #: how many models were constructed (tests check "loaded once, reused")
        self.loads = 0

    def model(self, kind: str, model_name: str, options: dict[str, Any]) -> _Loaded:
        key = (kind, model_name.lower(), options_key(options))
        loaded = self._models.get(key)
        if loaded is not None:
            return loaded
        with self._load_lock:
            loaded = self._models.get(key)
            if loaded is None:
                cls = reg.model_class(kind)
                try:
                    instance = cls(model_name=model_name, **options)
                except TypeError as e:
                    raise InferenceError(f"model {model_name!r}: bad options {sorted(options)}: {e}") from e
                except InferenceError:
                    raise
                except Exception as e:  # fastembed: cannot load from any source, bad files, ...
                    raise InferenceError(f"could not load model {model_name!r}: {e}") from e
                loaded = self._models[key] = _Loaded(instance)
                self.loads += 1
        return loaded

    def embed(
        self,
        kind: str,
        model_name: str,
        options: dict[str, Any],
        inputs: Sequence[Any],
        is_query: bool,
        batch_size: int,
    ) -> list[Any]:
        """Vectors for ``inputs`` (texts, or images for image models), in order.

        Dense: float32 1-D ndarray; sparse: :class:`models.SparseVector`; late interaction:
        list of rows (list of lists of floats).
        """
        loaded = self.model(kind, model_name, options)
        m = loaded.model
        with loaded.lock:
            if kind == reg.TEXT:
                it = (
                    m.query_embed(list(inputs), batch_size=batch_size)
                    if is_query
                    else m.embed(list(inputs), batch_size=batch_size)
                )
                return [np.asarray(v, dtype=np.float32) for v in it]
            if kind == reg.SPARSE:
                it = (
                    m.query_embed(list(inputs), batch_size=batch_size)
                    if is_query
                    else m.embed(list(inputs), batch_size=batch_size)
                )
                return [models.SparseVector(indices=s.indices.tolist(), values=s.values.tolist()) for s in it]
            if kind == reg.LATE:
                it = (
                    m.query_embed(list(inputs), batch_size=batch_size)
                    if is_query
                    else m.embed(list(inputs), batch_size=batch_size)
                )
                return [np.asarray(v, dtype=np.float32).tolist() for v in it]
            if kind == reg.IMAGE:
                images = [_image_input(x) for x in inputs]
                return [np.asarray(v, dtype=np.float32) for v in m.embed(images, batch_size=batch_size)]
            if kind == reg.MULTIMODAL:
                raise AssertionError("use embed_multimodal")
        raise AssertionError(kind)

    def embed_multimodal(
        self, model_name: str, options: dict[str, Any], inputs: Sequence[Any], images: bool, batch_size: int
    ) -> list[Any]:
        loaded = self.model(reg.MULTIMODAL, model_name, options)
        m = loaded.model
        with loaded.lock:
            if images:
                it = m.embed_image([_image_input(x) for x in inputs], batch_size=batch_size)
            else:
                it = m.embed_text(list(inputs), batch_size=batch_size)
            return [np.asarray(v, dtype=np.float32).tolist() for v in it]

    def close(self) -> None:
        self._models.clear()


def _image_input(image: Any) -> Any:
    """What fastembed opens: a PIL image, a path, or a file-like object.

    ``models.Image.image`` may also be raw bytes or (as on the wire) a base64 string; a URL is
    not fetched (local inference does not download).
    """
    if isinstance(image, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(image))
    if isinstance(image, Path):
        return image
    if isinstance(image, str):
        if image.startswith(("http://", "https://")):
            raise InferenceError(
                "local inference does not download images: give a path, bytes, base64 or a PIL image "
                f"(got the URL {image[:80]!r})"
            )
        if len(image) < 4096 and os.path.exists(image):
            return image
        data = image.split(",", 1)[1] if image.startswith("data:") else image
        try:
            return io.BytesIO(base64.b64decode(data, validate=True))
        except (binascii.Error, ValueError):
            raise InferenceError(
                f"image {image[:80]!r} is neither an existing file nor base64 data"
            ) from None
    return image  # PIL.Image.Image or a file-like object
