"""Every contract test runs once per backend, against that backend's scripted server."""

from collections.abc import AsyncIterator

import pytest
import respx

from botticelli_interface import SupportsAclose
from tests.local.contract.backends import GeminiBackend, LocalBackend, ScriptedBackend


@pytest.fixture(params=["local", "gemini"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[ScriptedBackend]:
    with respx.mock(using="httpx", assert_all_mocked=True, assert_all_called=False) as mock:
        scripted: ScriptedBackend = LocalBackend(mock) if request.param == "local" else GeminiBackend(mock)
        try:
            yield scripted
        finally:
            assert isinstance(scripted.model, SupportsAclose)
            await scripted.model.aclose()
