"""``_resolve_union``'s shortcut for a value of an exact class (``True``, ``None``, ``5``, ``"x"``)
whose only candidate is that class: the same result, or the same error, as the general path."""

from __future__ import annotations

import msgspec
import pytest

from aqdrant import models
from aqdrant.errors import ValidationError
from aqdrant.models import _generated, _unions

SPECS = {
    id(spec): spec
    for name in dir(_generated)
    if name.startswith("_FIELDS_")
    for _field, spec, _required in getattr(_generated, name)
    if isinstance(spec, _unions.UnionSpec)
}
VALUES = [True, False, None, 0, 7, -1, 1.5, float("nan"), "", "x", "rrf"]


def _outcome(spec, value):
    try:
        got = _unions.resolve(spec, value)
    except msgspec.ValidationError as e:
        return "error", str(e)
    return "ok", type(got), got if got == got else "nan"


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_the_shortcut_agrees_with_the_general_path(value, monkeypatch) -> None:
    assert SPECS
    fast = {key: _outcome(spec, value) for key, spec in SPECS.items()}
    taken = sum(value.__class__ in spec.table()["exact"] for spec in SPECS.values())
    for spec in SPECS.values():
        monkeypatch.setitem(spec.table(), "exact", frozenset())
    general = {key: _outcome(spec, value) for key, spec in SPECS.items()}
    assert fast == general
    if value.__class__ in (bool, type(None), str):
        assert taken  # the shortcut was taken somewhere (a test that can fail)


def test_a_query_request_keeps_its_with_payload_and_point_id() -> None:
    req = models.QueryRequest(query=7, with_payload=True)
    assert req.query == 7 and req.with_payload is True
    with pytest.raises(ValidationError, match="with_payload"):
        models.QueryRequest(query=7, with_payload=3)
