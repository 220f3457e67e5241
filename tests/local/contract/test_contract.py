"""The behaviour every backend owes its callers, whatever its wire format.

Each test runs against the local-server backend and the Gemini backend (see conftest.py):
the same request, the same scripted server behaviour, the same observable result.
"""

from __future__ import annotations

import pytest

from botticelli_core import FinishReason, GenerateRequest, StreamChunk
from botticelli_error import (
    BadRequestError,
    RateLimitError,
    ServerUnavailableError,
    StreamInterruptedError,
)
from botticelli_interface import GenerativeModel, SupportsAclose, SupportsHealth, SupportsListModels
from tests.local.contract.backends import API_KEY, ScriptedBackend, Usage

pytestmark = pytest.mark.anyio

REQUEST = GenerateRequest.from_prompt("Name a colour.", max_tokens=16)
PIECES = ["Vermil", "ion", " red."]


async def collect(backend: ScriptedBackend) -> list[StreamChunk]:
    async with backend.model.generate_stream(REQUEST) as stream:
        return [chunk async for chunk in stream]


async def test_every_backend_is_a_generative_model_with_its_capabilities(backend: ScriptedBackend) -> None:
    model = backend.model
    assert isinstance(model, GenerativeModel)
    assert isinstance(model, SupportsHealth)
    assert isinstance(model, SupportsListModels)
    assert isinstance(model, SupportsAclose)
    assert model.provider_name == backend.provider
    assert model.model_name


async def test_generate_returns_the_text_finish_reason_and_usage(backend: ScriptedBackend) -> None:
    backend.answer(PIECES, finish="stop", usage=Usage(prompt=7, completion=3))

    response = await backend.model.generate(REQUEST)

    assert response.text == "Vermilion red."
    assert response.finish_reason is FinishReason.STOP
    assert response.usage is not None
    assert (response.usage.input_tokens, response.usage.output_tokens, response.usage.total_tokens) == (7, 3, 10)


async def test_hitting_max_tokens_is_reported_as_length(backend: ScriptedBackend) -> None:
    backend.answer(PIECES, finish="length", usage=Usage(prompt=7, completion=16))

    response = await backend.model.generate(REQUEST)

    assert response.finish_reason is FinishReason.LENGTH


async def test_a_finish_reason_botticelli_does_not_know_is_other_not_a_crash(backend: ScriptedBackend) -> None:
    backend.answer(PIECES, finish="unknown", usage=Usage(prompt=7, completion=3))

    response = await backend.model.generate(REQUEST)

    assert response.finish_reason is FinishReason.OTHER
    assert response.text == "Vermilion red."


async def test_streamed_pieces_join_to_the_answer_and_one_final_chunk_closes_the_stream(
    backend: ScriptedBackend,
) -> None:
    backend.stream(PIECES, finish="length", usage=Usage(prompt=7, completion=16))

    chunks = await collect(backend)

    assert "".join(c.text for c in chunks) == "Vermilion red."
    assert [c.is_final for c in chunks].count(True) == 1
    final = chunks[-1]
    assert final.is_final
    assert final.finish_reason is FinishReason.LENGTH
    assert final.usage is not None
    assert (final.usage.input_tokens, final.usage.output_tokens) == (7, 16)
    assert all(c.finish_reason is None and c.usage is None for c in chunks[:-1])


async def test_a_stream_that_stops_without_a_finish_reason_is_an_interruption_keeping_the_text(
    backend: ScriptedBackend,
) -> None:
    backend.cut_stream(PIECES)

    seen: list[str] = []

    async def read_all() -> None:
        async with backend.model.generate_stream(REQUEST) as stream:
            async for chunk in stream:
                seen.append(chunk.text)

    with pytest.raises(StreamInterruptedError) as caught:
        await read_all()

    assert "".join(seen) == "Vermilion red."
    assert caught.value.partial_text == "Vermilion red."
    assert caught.value.provider == backend.provider


async def test_an_error_event_mid_stream_raises_with_the_servers_message(backend: ScriptedBackend) -> None:
    backend.error_mid_stream(PIECES[:1], "engine crashed")

    with pytest.raises(StreamInterruptedError) as caught:
        await collect(backend)

    assert caught.value.server_message == "engine crashed"
    assert caught.value.partial_text == "Vermil"


async def test_a_rate_limit_is_retried_after_the_wait_the_server_asked_for(backend: ScriptedBackend) -> None:
    route = backend.fail(429, "slow down", retry_after_s=0, then_answer="ok")

    response = await backend.model.generate(REQUEST)

    assert response.text == "ok"
    assert route.call_count == 2


async def test_a_stream_is_retried_when_it_fails_before_its_first_chunk(backend: ScriptedBackend) -> None:
    route = backend.fail(503, "overloaded", then_answer="ok", streamed=True)

    chunks = await collect(backend)

    assert "".join(c.text for c in chunks) == "ok"
    assert route.call_count == 2


async def test_a_bad_request_is_raised_at_once_without_retrying(backend: ScriptedBackend) -> None:
    route = backend.fail(400, "max_tokens is too large")

    with pytest.raises(BadRequestError) as caught:
        await backend.model.generate(REQUEST)

    assert route.call_count == 1
    assert caught.value.status_code == 400
    assert caught.value.retryable is False
    assert caught.value.server_message == "max_tokens is too large"
    assert caught.value.provider == backend.provider


async def test_an_overloaded_server_is_retried_max_retries_times_then_raised_as_retryable(
    backend: ScriptedBackend,
) -> None:
    route = backend.fail(503, "overloaded")

    with pytest.raises(ServerUnavailableError) as caught:
        await backend.model.generate(REQUEST)

    assert route.call_count == 3  # the first attempt and max_retries=2 retries
    assert caught.value.retryable is True
    assert caught.value.status_code == 503


async def test_a_persistent_rate_limit_surfaces_as_rate_limit_error(backend: ScriptedBackend) -> None:
    backend.fail(429, "quota exceeded", retry_after_s=0)

    with pytest.raises(RateLimitError) as caught:
        await backend.model.generate(REQUEST)

    assert caught.value.status_code == 429
    assert caught.value.retry_after == 0


async def test_the_api_key_never_appears_in_an_error_even_when_the_server_echoes_it(
    backend: ScriptedBackend,
) -> None:
    backend.fail(400, f"invalid key {API_KEY}")

    with pytest.raises(BadRequestError) as caught:
        await backend.model.generate(REQUEST)

    error = caught.value
    for text in (str(error), repr(error), error.body or "", error.server_message or "", error.message):
        assert API_KEY not in text
