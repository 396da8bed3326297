"""The congruence tests with aqdrant as the *remote* client and the real qdrant-client as oracle.

Those tests compare a remote client against qdrant-client's local mode, and both come from one
import (``from qdrant_client import QdrantClient``), so the package name cannot be swapped there:
the oracle needs the real package. Instead the copied test_common.init_remote (HARNESS PATCH)
returns ``aqdrant_remote(...)`` when QDRANT_REMOTE_CLIENT=aqdrant: an aqdrant.QdrantClient whose

* arguments are the tests' own objects, i.e. qdrant-client (pydantic) models: aqdrant accepts
  them as it accepts dicts (aqdrant/models/_coerce.py), as for a user whose models import was
  left unchanged;
* results are converted into the oracle's classes so that the tests' comparisons
  (``isinstance(x, models.ScoredPoint)``, ``==``) can run: each aqdrant model is dumped to the
  JSON aqdrant would send and validated by the qdrant-client model *of the same class name*;
  a result with no such class fails the test (a return-shape difference, not hidden);
* errors: aqdrant.UnexpectedResponse is re-raised as qdrant-client's UnexpectedResponse with
  the same status and body (the class a migrated user gets under that name from the shim).
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
from qdrant_client.http import models as oracle_models
from qdrant_client.http.exceptions import UnexpectedResponse as OracleUnexpectedResponse

import aqdrant
from aqdrant import models as aq_models


class ShapeDifference(AssertionError):
    """aqdrant returned a model qdrant-client has no class of that name for."""


def to_oracle(value: Any) -> Any:
    if isinstance(value, msgspec.Struct):
        name = type(value).__name__
        cls = getattr(oracle_models, name, None)
        if cls is None:
            raise ShapeDifference(f"aqdrant returned {name}; qdrant-client has no model of that name")
        return cls.model_validate(json.loads(aq_models.dump(value)))
    if isinstance(value, list):
        return [to_oracle(v) for v in value]
    if isinstance(value, tuple):
        return tuple(to_oracle(v) for v in value)
    if isinstance(value, dict):
        return {k: to_oracle(v) for k, v in value.items()}
    return value


class AqdrantRemote:
    def __init__(self, client: Any) -> None:
        self._aq = client

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._aq, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                result = attr(*args, **kwargs)
            except aqdrant.UnexpectedResponse as e:
                raise OracleUnexpectedResponse(
                    status_code=e.status_code,
                    reason_phrase=str(e),
                    content=e.content,
                    headers=e.headers or {},
                ) from e
            return to_oracle(result)

        return call


def aqdrant_remote(**kwargs: Any) -> AqdrantRemote:
    return AqdrantRemote(aqdrant.QdrantClient(**kwargs))
