"""The REST transport (httpx)."""

from .backend import RestBackend, base_url

__all__ = ["RestBackend", "base_url"]
