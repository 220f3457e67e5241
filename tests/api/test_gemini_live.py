"""The Gemini backend against Google's real API.

Runs only when ``GEMINI_API_KEY`` is set. Prompts are tiny and answers capped at a few
tokens, so a run costs a handful of free-tier requests (about ten).
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from botticelli_core import FinishReason, GenerateRequest
from botticelli_error import AuthenticationError, NotFoundError
from botticelli_gemini import GeminiClient, GeminiConfig

pytestmark = [
    pytest.mark.api,
    pytest.mark.skipif(not os.environ.get("GEMINI_API_KEY"), reason="GEMINI_API_KEY is not set"),
]

MAX_TOKENS = 10


def prompt(**params: Any) -> GenerateRequest:
    return GenerateRequest.from_prompt("Reply with the single word: pong", max_tokens=MAX_TOKENS, **params)


@pytest.fixture
def config() -> GeminiConfig:
    return GeminiConfig.from_env()


@pytest.mark.anyio
async def test_generate_returns_text_or_a_length_stop_with_reported_usage(config: GeminiConfig) -> None:
    async with GeminiClient(config) as client:
        response = await client.generate(prompt(temperature=0.0))
    # Thinking models may spend the tiny budget on thoughts: then the answer is cut (length).
    assert response.finish_reason in (FinishReason.STOP, FinishReason.LENGTH)
    assert response.usage is not None
    assert response.usage.input_tokens > 0
    assert response.usage.total_tokens >= response.usage.input_tokens


@pytest.mark.anyio
async def test_a_stream_ends_with_one_final_chunk_carrying_finish_reason_and_usage(config: GeminiConfig) -> None:
    async with GeminiClient(config) as client, client.generate_stream(prompt()) as chunks:
        received = [chunk async for chunk in chunks]
    assert received
    assert received[-1].is_final
    assert received[-1].finish_reason is not None
    assert received[-1].usage is not None
    assert not any(chunk.is_final for chunk in received[:-1])


@pytest.mark.anyio
async def test_count_tokens_and_health_spend_no_generation(config: GeminiConfig) -> None:
    async with GeminiClient(config) as client:
        assert await client.count_tokens(prompt()) > 0
        status = await client.health()
    assert status.ready, status.detail


@pytest.mark.anyio
async def test_the_configured_model_is_listed(config: GeminiConfig) -> None:
    async with GeminiClient(config) as client:
        models = await client.list_models()
    assert config.model in {m.id for m in models}


@pytest.mark.anyio
async def test_an_unknown_model_is_not_found(config: GeminiConfig) -> None:
    async with GeminiClient(config) as client:
        with pytest.raises(NotFoundError) as caught:
            await client.generate(prompt(model="gemini-0-does-not-exist"))
    assert caught.value.error_type == "NOT_FOUND"


@pytest.mark.anyio
async def test_a_wrong_key_is_an_authentication_error_that_does_not_leak(config: GeminiConfig) -> None:
    bad_key = "AIzaSy-botticelli-live-test-invalid-key"
    wrong = GeminiConfig(api_key=bad_key, model=config.model, base_url=config.base_url)
    async with GeminiClient(wrong) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.generate(prompt())
    assert bad_key not in str(caught.value)
    assert bad_key not in (caught.value.body or "")
