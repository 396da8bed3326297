"""``AsyncQdrantClient``'s questions about local inference models (fastembed): what they are
and the size of their vectors. Embedding a request's inputs is ``ClientBase._embed_inputs``.
"""

from __future__ import annotations

from typing import Any

from . import models
from .client_base import ClientBase


class InferenceOps(ClientBase):
    """fastembed's models."""

    # ==== local inference (fastembed) ==========================================================
    async def get_embedding_size(self, model_name: str) -> int:
        """Size of the vectors of a fastembed dense / late-interaction model (UnknownModelError if none)."""
        from .inference import embedding_size, ensure_fastembed

        await ensure_fastembed()
        return embedding_size(model_name)

    async def list_text_models(self) -> dict[str, tuple[int, models.Distance]]:
        """fastembed's dense text models: ``{name: (dim, distance)}`` (custom models included)."""
        from .inference import ensure_fastembed, list_text_models

        await ensure_fastembed()
        return list_text_models()

    async def list_image_models(self) -> dict[str, tuple[int, models.Distance]]:
        """fastembed's dense image models: ``{name: (dim, distance)}``."""
        from .inference import ensure_fastembed, list_image_models

        await ensure_fastembed()
        return list_image_models()

    async def list_late_interaction_text_models(self) -> dict[str, tuple[int, models.Distance]]:
        """fastembed's late-interaction (multivector) text models: ``{name: (dim, distance)}``."""
        from .inference import ensure_fastembed, list_late_interaction_text_models

        await ensure_fastembed()
        return list_late_interaction_text_models()

    async def list_late_interaction_multimodal_models(self) -> dict[str, tuple[int, models.Distance]]:
        """fastembed's late-interaction multimodal models: ``{name: (dim, distance)}``."""
        from .inference import ensure_fastembed, list_late_interaction_multimodal_models

        await ensure_fastembed()
        return list_late_interaction_multimodal_models()

    async def list_sparse_models(self) -> dict[str, dict[str, Any]]:
        """fastembed's sparse models: ``{name: description}``."""
        from .inference import ensure_fastembed, list_sparse_models

        await ensure_fastembed()
        return list_sparse_models()
