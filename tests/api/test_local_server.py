"""ServerClient against a real OpenAI-compatible server.

By default that is llama.cpp's Python server running the tiny random-weight model; set
INFERENCE_SERVER_BASE_URL and INFERENCE_SERVER_MODEL to run the same tests against
mistral.rs, vLLM, Ollama or any other server. Model output is nonsense (or at least not
ours to predict), so the tests assert on structure: finish reasons, token counts, chunk
order, types of errors; never on wording.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import anyio
import pytest

from botticelli_core import FinishReason, GenerateRequest, GenerateResponse, Message, StreamChunk
from botticelli_error import BadRequestError, BotticelliError, NotFoundError, UnsupportedInputError
from botticelli_server import ChatCompletionRequest, ChatMessage, ServerClient, ServerConfig, get_dialect
from botticelli_server.request import StreamOptions
from tests.api._sockets import can_inspect_sockets, open_connections_to

pytestmark = [pytest.mark.api, pytest.mark.anyio]

# A prompt that invites a long answer, so a real model also runs into max_tokens.
PROMPT = "Count from one to one hundred in words, separated by commas."


def request(max_tokens: int = 8, **fields: object) -> GenerateRequest:
    return GenerateRequest(
        messages=[Message.user(PROMPT)],
        max_tokens=max_tokens,
        temperature=0.0,
        seed=1,
        **fields,
    )


def server_port(config: ServerConfig) -> int:
    parts = urlsplit(config.base_url)
    return parts.port or (443 if parts.scheme == "https" else 80)


@pytest.fixture
async def client(server_config: ServerConfig) -> AsyncIterator[ServerClient]:
    async with ServerClient(server_config) as client:
        yield client


async def collect(client: ServerClient, req: GenerateRequest) -> list[StreamChunk]:
    async with client.generate_stream(req) as stream:
        return [chunk async for chunk in stream]


# -- completions ----------------------------------------------------------------------------


async def test_a_completion_stops_at_max_tokens_with_finish_reason_length(client: ServerClient) -> None:
    response = await client.generate(request(max_tokens=8))
    assert response.finish_reason is FinishReason.LENGTH
    assert response.text
    assert response.usage is not None
    assert response.usage.output_tokens == 8


async def test_usage_counts_the_prompt_and_adds_up(client: ServerClient) -> None:
    response = await client.generate(request(max_tokens=5))
    assert response.usage is not None
    assert response.usage.input_tokens > 0
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens


async def test_a_stream_ends_with_one_final_chunk_carrying_finish_reason_length(client: ServerClient) -> None:
    chunks = await collect(client, request(max_tokens=8))
    assert chunks
    assert [c.is_final for c in chunks] == [False] * (len(chunks) - 1) + [True]
    final = chunks[-1]
    assert final.finish_reason is FinishReason.LENGTH
    assert all(c.finish_reason is None for c in chunks[:-1])
    assert "".join(c.text for c in chunks)
    # Usage on a stream depends on the server: llama_cpp.server never sends it (its dialect says
    # so, and it is not asked), mistral.rs puts it on its last chunk, vLLM/Ollama send a
    # usage-only chunk. Where it is present it must be the same count as a non-streamed answer.
    if final.usage is not None:
        assert final.usage.output_tokens == 8
        assert final.usage.input_tokens > 0


async def test_streamed_text_equals_the_completion_text_at_temperature_zero(client: ServerClient) -> None:
    completion = await client.generate(request(max_tokens=12))
    chunks = await collect(client, request(max_tokens=12))
    assert "".join(c.text for c in chunks) == completion.text


async def test_iterating_a_stream_without_async_with_also_works(client: ServerClient) -> None:
    chunks = [chunk async for chunk in client.generate_stream(request(max_tokens=4))]
    assert chunks[-1].is_final
    assert chunks[-1].finish_reason is FinishReason.LENGTH


async def test_the_wire_level_chat_completion_honours_max_tokens(
    client: ServerClient, server_config: ServerConfig
) -> None:
    wire = ChatCompletionRequest(
        model=server_config.model,
        messages=[ChatMessage(role="user", content=PROMPT)],
        max_tokens=4,
        temperature=0.0,
    )
    response = await client.chat_completion(wire)
    assert response.choices
    assert response.choices[0].finish_reason == "length"
    assert response.usage is not None
    assert response.usage.completion_tokens == 4


async def test_a_server_whose_dialect_says_no_stream_usage_sends_none_even_when_asked(
    client: ServerClient, server_config: ServerConfig
) -> None:
    # The ground truth of Dialect.stream_usage: should a later llama-cpp-python answer
    # include_usage, this fails, and the dialect (and docs/servers.md) should say it can.
    if get_dialect(server_config.dialect).stream_usage:
        pytest.skip(f"the {server_config.dialect!r} dialect reports usage on a stream")
    wire = ChatCompletionRequest(
        model=server_config.model,
        messages=[ChatMessage(role="user", content=PROMPT)],
        max_tokens=4,
        temperature=0.0,
        stream_options=StreamOptions(include_usage=True),
    )
    async with client.chat_completion_stream(wire) as stream:
        chunks = [chunk async for chunk in stream]
    assert [choice.finish_reason for chunk in chunks for choice in chunk.choices or ()][-1] == "length"
    assert all(chunk.usage is None for chunk in chunks)


async def test_llama_cpp_pythons_server_says_nothing_of_its_prompt_cache(
    client: ServerClient, server_config: ServerConfig
) -> None:
    # The ground truth of docs/servers.md's cached-tokens row: the same prompt twice (the second
    # reuses the first's prefix inside the server), and still no count, whole or streamed.
    # Should a later version report one, this fails, and the docs should say where it is.
    if server_config.dialect != "llama-cpp-python":
        pytest.skip(f"the {server_config.dialect!r} dialect may report cached tokens")
    first = await client.generate(request(max_tokens=2))
    second = await client.generate(request(max_tokens=2))
    chunks = await collect(client, request(max_tokens=2))
    assert first.usage is not None
    assert second.usage is not None
    assert first.usage.cached_tokens is None
    assert second.usage.cached_tokens is None
    assert chunks[-1].usage is None  # no usage at all on its streams (Dialect.stream_usage)


async def test_a_slot_is_refused_before_reaching_a_server_without_slots(
    client: ServerClient, server_config: ServerConfig
) -> None:
    if get_dialect(server_config.dialect).slot_field is not None:
        pytest.skip(f"the {server_config.dialect!r} dialect takes a slot")
    with pytest.raises(UnsupportedInputError) as caught:
        await client.generate(request(max_tokens=2, slot=0))
    assert caught.value.input_type == "slot"


# -- the server itself --------------------------------------------------------------------------


async def test_list_models_includes_the_configured_model(client: ServerClient, server_config: ServerConfig) -> None:
    models = await client.list_models()
    assert server_config.model in [m.id for m in models]


async def test_health_reports_ready(client: ServerClient) -> None:
    health = await client.health()
    assert health.ready
    assert health.status == "ok"
    assert health.latency_s is not None


# -- errors -------------------------------------------------------------------------------------


async def test_a_prompt_longer_than_the_context_is_a_bad_request(client: ServerClient) -> None:
    known = [m.context_length for m in await client.list_models() if m.context_length]
    # Several times any context this model could have; ~1 token per word even for real tokenizers.
    words = 4 * max(known) if known else 60_000
    too_long = GenerateRequest(messages=[Message.user("word " * words)], max_tokens=4)
    with pytest.raises(BadRequestError) as caught:
        await client.generate(too_long)
    assert caught.value.status_code is not None
    assert 400 <= caught.value.status_code < 500
    assert caught.value.retryable is False
    assert caught.value.provider == "local"


async def test_an_unknown_model_is_either_served_or_refused_with_a_typed_client_error(client: ServerClient) -> None:
    # llama_cpp.server and llama-server answer with whatever model they have; vLLM and
    # Ollama refuse with 404, mistral.rs with 4xx. Either way no untyped error escapes.
    outcome: GenerateResponse | BotticelliError
    try:
        outcome = await client.generate(request(max_tokens=2, model="botticelli-no-such-model"))
    except BotticelliError as exc:
        outcome = exc
    if isinstance(outcome, BotticelliError):
        assert isinstance(outcome, NotFoundError | BadRequestError), repr(outcome)
        assert outcome.status_code is not None
        assert 400 <= outcome.status_code < 500
    else:
        assert outcome.finish_reason is FinishReason.LENGTH


# -- abandoning streams ---------------------------------------------------------------------------


async def test_breaking_out_of_a_stream_leaves_the_client_usable(client: ServerClient) -> None:
    received = []
    async with client.generate_stream(request(max_tokens=64)) as stream:
        async for chunk in stream:
            received.append(chunk)
            if len(received) == 3:
                break
    assert len(received) == 3
    assert not any(c.is_final for c in received)
    response = await client.generate(request(max_tokens=4))
    assert response.finish_reason is FinishReason.LENGTH
    assert response.usage is not None
    assert response.usage.output_tokens == 4


async def test_cancelling_a_task_mid_stream_leaves_the_client_usable(client: ServerClient) -> None:
    first_chunk = anyio.Event()
    received: list[StreamChunk] = []

    async def consume() -> None:
        async with client.generate_stream(request(max_tokens=256)) as stream:
            async for chunk in stream:
                received.append(chunk)
                first_chunk.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(consume)
        with anyio.fail_after(60):
            await first_chunk.wait()
        tg.cancel_scope.cancel()
    assert received
    assert not received[-1].is_final
    response = await client.generate(request(max_tokens=4))
    assert response.finish_reason is FinishReason.LENGTH


async def test_no_connection_stays_open_after_the_client_closes(server_config: ServerConfig) -> None:
    if not can_inspect_sockets():
        pytest.skip("counting open sockets needs Linux's /proc")
    port = server_port(server_config)
    before = open_connections_to(port)
    async with ServerClient(server_config) as client:
        await client.generate(request(max_tokens=2))
        async with client.generate_stream(request(max_tokens=32)) as stream:
            async for _ in stream:
                break
        await collect(client, request(max_tokens=2))
        await client.health()
        await client.list_models()
        assert open_connections_to(port) > before  # the pool really did hold connections
    assert open_connections_to(port) == before
