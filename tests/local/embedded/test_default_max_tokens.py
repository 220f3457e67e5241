"""EmbeddedConfig.max_tokens: the bound of a request that sets none, on the real engine."""

from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from botticelli_core import FinishReason, GenerateRequest
from botticelli_embedded import EmbeddedConfig, EmbeddedModel


@pytest.fixture(scope="module")
def bounded(tiny_gguf: Path) -> Iterator[EmbeddedModel]:
    model = EmbeddedModel(EmbeddedConfig(model_path=tiny_gguf, max_tokens=5))
    try:
        yield model
    finally:
        anyio.run(model.aclose)


@pytest.mark.anyio
async def test_a_request_without_max_tokens_gets_the_configured_bound(bounded: EmbeddedModel) -> None:
    # Without the bound the tiny model would run on to the end of its context.
    response = await bounded.generate(GenerateRequest.from_prompt("Tell me a story.", temperature=0.0))
    assert response.finish_reason is FinishReason.LENGTH
    assert response.usage is not None
    assert response.usage.output_tokens == 5


@pytest.mark.anyio
async def test_a_requests_own_max_tokens_wins(bounded: EmbeddedModel) -> None:
    request = GenerateRequest.from_prompt("Tell me a story.", temperature=0.0, max_tokens=8)
    async with bounded.generate_stream(request) as stream:
        final = [chunk async for chunk in stream][-1]
    assert final.usage is not None
    assert final.usage.output_tokens == 8
