"""The optional parts of aqdrant (pip extras) and the error that names how to install one.

Only two features are optional: local inference (``fastembed``: onnxruntime and models, large)
and the dev server (``server``: uvicorn + starlette). Everything else, gRPC included, is a
regular dependency.
"""

from __future__ import annotations

import importlib.util
import sys

#: extra name -> the modules it provides (checked in order; the first missing one is named)
EXTRAS: dict[str, tuple[str, ...]] = {
    "fastembed": ("fastembed",),
    "server": ("uvicorn", "starlette"),
}


def install_command(extra: str) -> str:
    """The exact command that installs ``extra`` (quoted: zsh would expand the brackets)."""
    return f"pip install 'aqdrant[{extra}]'"


class MissingExtraError(ImportError):
    """A feature of an optional extra was used without the extra installed."""

    def __init__(self, extra: str, feature: str, missing: str) -> None:
        self.extra = extra
        super().__init__(f"{feature} needs the [{extra}] extra ({missing} is not installed): {install_command(extra)}")


def _installed(module: str) -> bool:
    # found without importing it (uvicorn's import alone costs tens of ms); a module set to None in
    # sys.modules is blocked (that is how tests simulate a missing extra)
    if module in sys.modules:
        return sys.modules[module] is not None
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def require_extra(extra: str, feature: str) -> None:
    """Raise :class:`MissingExtraError` unless every module of ``extra`` is installed."""
    for module in EXTRAS[extra]:
        if not _installed(module):
            raise MissingExtraError(extra, feature, module)
