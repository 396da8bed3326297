"""The dev server takes parameters its engine ignores the way Qdrant does (silently for the
caller): the engine's note goes to the server's log once, never as a Python warning raised
inside the server for every such request."""

from __future__ import annotations

import logging
import warnings

import httpx
from conftest import dev_server_thread

from aqdrant.local import LocalEngineWarning


def test_ignored_parameters_are_logged_once_not_warned(caplog):
    body = {"vectors": {"size": 4, "distance": "Cosine"}, "shard_number": 2, "replication_factor": 2}
    with caplog.at_level(logging.INFO, logger="aqdrant.server"), warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with dev_server_thread() as srv, httpx.Client(base_url=srv.url, timeout=30) as http:
            for name in ("notes_a", "notes_b"):
                r = http.put(f"/collections/{name}", json=body)
                assert r.status_code == 200, r.text
                assert r.json()["result"] is True
    assert not [w for w in seen if issubclass(w.category, LocalEngineWarning)]
    notes = [r.getMessage() for r in caplog.records if r.name == "aqdrant.server" and "no effect" in r.getMessage()]
    assert notes, "the engine's note reaches the server's log"
    assert len(notes) == len(set(notes)), notes  # each distinct note once, though sent twice
