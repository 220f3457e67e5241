"""The embedded engine honours a per-call timeout (it has no retries to override)."""

import time

import anyio
import pytest

from botticelli_core import GenerateRequest
from botticelli_embedded import EmbeddedModel
from botticelli_error import RequestTimeoutError
from botticelli_interface import call_options

pytestmark = pytest.mark.anyio

# Far more tokens than a fraction of a second produces.
LONG = GenerateRequest.from_prompt("Tell me a story.", max_tokens=1800, temperature=0.0)
SHORT = GenerateRequest.from_prompt("Tell me a story.", max_tokens=4, temperature=0.0)


async def test_a_generation_past_its_timeout_is_stopped(model: EmbeddedModel) -> None:
    await model.generate(SHORT)  # loaded, so the timeout measures generation only
    started = time.monotonic()
    with anyio.fail_after(10), call_options(timeout=0.3), pytest.raises(RequestTimeoutError) as caught:
        await model.generate(LONG)
    assert caught.value.timeout == 0.3
    assert caught.value.provider == "embedded"
    assert time.monotonic() - started < 3.0
    # The engine is left usable.
    assert (await model.generate(SHORT)).text is not None


async def test_a_stream_past_its_timeout_is_stopped(model: EmbeddedModel) -> None:
    await model.generate(SHORT)
    received: list[str] = []

    async def drain() -> None:
        async with model.generate_stream(LONG) as stream:
            received.extend([chunk.text async for chunk in stream])

    with anyio.fail_after(10), call_options(timeout=0.3), pytest.raises(RequestTimeoutError):
        await drain()


async def test_a_generous_timeout_changes_nothing(model: EmbeddedModel) -> None:
    with call_options(timeout=60.0):
        response = await model.generate(SHORT)
    assert response.usage is not None
    assert response.usage.output_tokens <= 4
