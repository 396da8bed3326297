"""Errors of local inference; all are :class:`aqdrant.errors.ValidationError` (raised before sending)."""

from __future__ import annotations

from .._extras import install_command
from ..errors import ValidationError

INSTALL_HINT = install_command("fastembed")


class InferenceError(ValidationError):
    """A Document / Image / InferenceObject could not be embedded locally."""


class FastembedNotInstalled(InferenceError, ImportError):
    """Local inference needs the ``fastembed`` extra."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(
            "embedding Document/Image/InferenceObject locally needs fastembed: "
            f"`{INSTALL_HINT}` (or pass cloud_inference=True to let the server embed)"
            + (f" [{detail}]" if detail else "")
        )


class UnknownModelError(InferenceError):
    """No fastembed model (built-in or added with ``add_custom_model``) has this name."""


class VectorNameError(InferenceError):
    """The collection has no vector of the name (and kind) an embedded input is meant for."""


class VectorSizeMismatch(InferenceError):
    """The model's vectors are not the size the collection's vector expects."""
