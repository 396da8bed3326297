"""Which fastembed class serves a model name, and what the model produces.

fastembed is imported lazily, on the first call that needs it (``import aqdrant`` never imports
it). Model lists are read from fastembed's own ``list_supported_models()`` each time a name is
not found in the cached list, so custom models registered later (``add_custom_model``) are seen.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from .. import models
from ._errors import FastembedNotInstalled, InferenceError, UnknownModelError

#: model kinds, in the order a name is looked up (as the official client does)
TEXT = "text"  # dense text: TextEmbedding -> one vector
SPARSE = "sparse"  # SparseTextEmbedding (BM25, SPLADE, BM42, miniCOIL) -> SparseVector
LATE = "late"  # LateInteractionTextEmbedding (ColBERT) -> multivector
IMAGE = "image"  # ImageEmbedding -> one vector
MULTIMODAL = "multimodal"  # LateInteractionMultimodalEmbedding (ColPali) -> multivector
KINDS = (TEXT, SPARSE, LATE, MULTIMODAL, IMAGE)

_CLASS_NAMES = {
    TEXT: "TextEmbedding",
    SPARSE: "SparseTextEmbedding",
    LATE: "LateInteractionTextEmbedding",
    IMAGE: "ImageEmbedding",
    MULTIMODAL: "LateInteractionMultimodalEmbedding",
}

_lock = threading.Lock()
_known: dict[str, dict[str, dict[str, Any]]] = {}  # kind -> {lowercase name: description}


def fastembed() -> Any:
    """The fastembed module, or :class:`FastembedNotInstalled`."""
    try:
        import fastembed as fe
    except ImportError as e:
        raise FastembedNotInstalled(str(e)) from e
    return fe


async def ensure_fastembed() -> None:
    """Import fastembed in a worker thread (it takes ~1 s: onnxruntime, tokenizers, hub...),
    so the first Document does not stop the event loop for the import."""
    if "fastembed" not in sys.modules:
        import anyio.to_thread

        await anyio.to_thread.run_sync(fastembed)


def model_class(kind: str) -> Any:
    return getattr(fastembed(), _CLASS_NAMES[kind])


def _descriptions(kind: str, refresh: bool = False) -> dict[str, dict[str, Any]]:
    with _lock:
        known = _known.get(kind)
        if known is None or refresh:
            known = {d["model"].lower(): d for d in model_class(kind).list_supported_models()}
            _known[kind] = known
        return known


def describe(model_name: str) -> tuple[str, dict[str, Any]]:
    """(kind, fastembed's description) of ``model_name``; :class:`UnknownModelError` if none."""
    key = model_name.lower()
    for refresh in (False, True):
        for kind in KINDS:
            d = _descriptions(kind, refresh).get(key)
            if d is not None:
                return kind, d
    raise UnknownModelError(
        f"unknown embedding model {model_name!r}: fastembed has no such model "
        "(see client.list_text_models(), list_sparse_models(), list_late_interaction_text_models(), "
        "list_image_models(); a model of your own can be registered with "
        "fastembed.TextEmbedding.add_custom_model); or pass cloud_inference=True to let the server embed"
    )


def output_size(model_name: str) -> int | None:
    """Dimension of the model's (dense or per-token) vectors; None for sparse models."""
    kind, d = describe(model_name)
    return None if kind == SPARSE else int(d["dim"])


def embedding_size(model_name: str) -> int:
    """As the official client: the size of a dense / late-interaction model's vectors."""
    kind, d = describe(model_name)
    if kind == SPARSE:
        raise InferenceError(f"{model_name!r} is a sparse model: its vectors have no fixed size")
    return int(d["dim"])


def _dims(kind: str) -> dict[str, tuple[int, models.Distance]]:
    return {
        d["model"]: (int(d["dim"]), models.Distance.COSINE) for d in model_class(kind).list_supported_models()
    }


def list_text_models() -> dict[str, tuple[int, models.Distance]]:
    """Dense text models: ``{name: (dim, distance)}``."""
    return _dims(TEXT)


def list_image_models() -> dict[str, tuple[int, models.Distance]]:
    """Dense image models: ``{name: (dim, distance)}``."""
    return _dims(IMAGE)


def list_late_interaction_text_models() -> dict[str, tuple[int, models.Distance]]:
    """Late-interaction (multivector) text models: ``{name: (dim, distance)}``."""
    return _dims(LATE)


def list_late_interaction_multimodal_models() -> dict[str, tuple[int, models.Distance]]:
    """Late-interaction multimodal models: ``{name: (dim, distance)}``."""
    return _dims(MULTIMODAL)


def list_sparse_models() -> dict[str, dict[str, Any]]:
    """Sparse models: ``{name: description}`` (no fixed size)."""
    out: dict[str, dict[str, Any]] = {}
    for d in model_class(SPARSE).list_supported_models():
        d = dict(d)
        out[d.pop("model")] = d
    return out
