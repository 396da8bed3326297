"""Test helpers the official tests import from the official package's internals.

NOT aqdrant API and not under test: the official tests' fixtures (tests/fixtures/*.py,
congruence_tests/test_common.py) build their data with these, so without them no test of those
files could even be collected. Each is a few lines with the official helper's behaviour.
"""

import sys
import types

import msgspec

import aqdrant


def construct(model, **kwargs):  # _pydantic_compat.construct: build without validation
    return model(**kwargs)


def to_dict(model, **kwargs):  # _pydantic_compat.to_dict (pydantic's model_dump)
    return msgspec.to_builtins(model)


def validate_sparse_vector(vector):  # local.sparse.validate_sparse_vector
    if len(vector.indices) != len(vector.values):
        raise ValueError("Indices and values must have the same length")
    if len(vector.indices) != len(set(vector.indices)):
        raise ValueError("Indices must be unique")


# local.datetime_utils.available_formats (qdrant-client 1.20)
available_formats = [
    "%Y-%m-%dT%H:%M:%S.%f%z",
    "%Y-%m-%d %H:%M:%S.%f%z",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S.%f %z",
    "%Y-%m-%d %H:%M:%S.%f %z",
    "%Y-%m-%dT%H:%M:%S %z",
    "%Y-%m-%d %H:%M:%S %z",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
]


def install(package):
    def module(name, **attrs):
        mod = types.ModuleType(f"{package.__name__}.{name}")
        mod.__dict__.update(attrs)
        sys.modules[mod.__name__] = mod
        return mod

    package._pydantic_compat = module("_pydantic_compat", construct=construct, to_dict=to_dict)
    # an annotation in the congruence tests (client: QdrantBase)
    package.client_base = module("client_base", QdrantBase=aqdrant.QdrantClient)
    package.local = module("local")
    package.local.sparse = module("local.sparse", validate_sparse_vector=validate_sparse_vector)
    package.local.datetime_utils = module("local.datetime_utils", available_formats=available_formats)
