"""The catalog: what the engine has no notion of, kept beside the shards.

``<root>/catalog.json`` holds collection names, the directory of each collection's shard, the
collection config as the user gave it (the CreateCollection body as JSON, with later
``update_collection`` diffs merged in), payload index schemas as given, and aliases. It is JSON
(msgspec), versioned, and replaced atomically (temp file + fsync + ``os.replace``); never pickle.
"""

from __future__ import annotations

import os
import time
from typing import Any

import msgspec

FORMAT = "aqdrant-local-catalog"
VERSION = 1
FILENAME = "catalog.json"


class CollectionEntry(msgspec.Struct, kw_only=True):
    #: shard directory, relative to the root
    dir: str
    #: the CreateCollection body as given (JSON builtins), update diffs merged in
    config: dict[str, Any] = msgspec.field(default_factory=dict)
    #: payload index schemas as given: field name -> schema (str or params object)
    field_schemas: dict[str, Any] = msgspec.field(default_factory=dict)
    created_at: float = 0.0


class Catalog(msgspec.Struct, kw_only=True):
    format: str = FORMAT
    version: int = VERSION
    collections: dict[str, CollectionEntry] = msgspec.field(default_factory=dict)
    #: alias name -> collection name
    aliases: dict[str, str] = msgspec.field(default_factory=dict)
    #: next shard directory number
    next_dir: int = 0

    def new_dir(self) -> str:
        self.next_dir += 1
        return f"shard-{self.next_dir:06d}-{int(time.time())}"


class CatalogError(Exception):
    pass


def load(root: str) -> Catalog:
    path = os.path.join(root, FILENAME)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return Catalog()
    try:
        head = msgspec.json.decode(data)
    except msgspec.DecodeError as e:
        raise CatalogError(f"{path} is not valid JSON: {e}") from None
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        raise CatalogError(f"{path} is not an aqdrant local catalog")
    if head.get("version") != VERSION:
        raise CatalogError(
            f"{path} has catalog version {head.get('version')!r}; this aqdrant reads version {VERSION}"
        )
    try:
        return msgspec.convert(head, Catalog)
    except msgspec.ValidationError as e:
        raise CatalogError(f"{path} is damaged: {e}") from None


def save(root: str, catalog: Catalog) -> None:
    path = os.path.join(root, FILENAME)
    tmp = f"{path}.tmp-{os.getpid()}"
    data = msgspec.json.format(msgspec.json.encode(catalog), indent=1)
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    try:
        fd = os.open(root, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
