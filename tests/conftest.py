import os

import pytest
from hypothesis import settings

# In CI the property tests draw the same examples on every run (a red build is then reproducible
# and not a dice roll); locally they explore new examples each time.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request):
    """Every async test runs on both anyio backends."""
    return request.param
