"""Local inference: ``models.Document`` / ``models.Image`` / ``models.InferenceObject`` embedded
with fastembed (``pip install 'aqdrant[fastembed]'``), in worker threads, before a request is sent.

The client calls :func:`embed_request` on the bodies of upsert, update_vectors, batch updates,
the ingestion actor's batches and every query (query, prefetch, recommend / discover / context /
feedback examples). With ``cloud_inference=True`` nothing is embedded here: the server does it.

Model names are fastembed's (``list_text_models()``, ``list_sparse_models()``,
``list_late_interaction_text_models()``, ``list_image_models()``), including models registered
with ``fastembed.TextEmbedding.add_custom_model``. ``Document.options`` are passed to the model
class (``cache_dir``, ``threads``, ``providers``, ``local_files_only``, ``specific_model_path``,
BM25's ``k``/``b``/``avg_len``/``language``...); each (model, options) is loaded once per client.
Documents are embedded with ``embed`` and queries with ``query_embed``, as fastembed intends.

This package does not import fastembed until something is embedded or listed.
"""

from ._embedder import Embedder
from ._errors import (
    FastembedNotInstalled,
    InferenceError,
    UnknownModelError,
    VectorNameError,
    VectorSizeMismatch,
)
from ._registry import (
    embedding_size,
    ensure_fastembed,
    list_image_models,
    list_late_interaction_multimodal_models,
    list_late_interaction_text_models,
    list_sparse_models,
    list_text_models,
)
from ._request import INFERENCE_TYPES, embed_request, has_inference_objects

#: the official client's default local inference batch size
DEFAULT_BATCH_SIZE = 8

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "INFERENCE_TYPES",
    "Embedder",
    "FastembedNotInstalled",
    "InferenceError",
    "UnknownModelError",
    "VectorNameError",
    "VectorSizeMismatch",
    "embed_request",
    "embedding_size",
    "ensure_fastembed",
    "has_inference_objects",
    "list_image_models",
    "list_late_interaction_multimodal_models",
    "list_late_interaction_text_models",
    "list_sparse_models",
    "list_text_models",
]
