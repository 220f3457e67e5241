"""Each server's real wire format, driven through :class:`ServerClient` (respx mocks the HTTP)."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from botticelli_core import FinishReason
from botticelli_error import (
    BadRequestError,
    NotFoundError,
    ServerUnavailableError,
    StreamInterruptedError,
)
from botticelli_server import ChatCompletionRequest, ChatMessage

from . import wire
from .support import REQUEST, collect_text, make_client, record_sleeps

pytestmark = pytest.mark.anyio


# -- mistral.rs ----------------------------------------------------------------------------------


async def test_mistralrs_stream_skips_keepalives_and_named_events_and_reports_usage_from_the_last_content_chunk() -> (
    None
):
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=wire.MISTRALRS_STREAM)
        async with make_client() as client:
            text, chunks = await collect_text(client)
    assert text == "Hello there!"
    final = chunks[-1]
    assert final.is_final
    assert final.finish_reason is FinishReason.STOP
    assert final.usage is not None
    assert (final.usage.input_tokens, final.usage.output_tokens, final.usage.total_tokens) == (9, 3, 12)
    assert all(not c.is_final for c in chunks[:-1])


async def test_mistralrs_usage_extras_such_as_avg_tok_per_sec_are_kept_on_the_wire_chunk() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=wire.MISTRALRS_STREAM)
        async with make_client() as client:
            request = ChatCompletionRequest(model="default", messages=[ChatMessage(role="user", content="hi")])
            async with client.chat_completion_stream(request) as stream:
                chunks = [c async for c in stream]
    usage = chunks[-1].usage
    assert usage is not None
    assert usage.model_extra is not None
    assert usage.model_extra["avg_tok_per_sec"] == 41.7
    assert chunks[-1].choices  # mistral.rs puts usage on a chunk that still has its choice


async def test_mistralrs_mid_stream_error_then_done_is_an_interruption_with_the_servers_message() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=wire.MISTRALRS_MID_STREAM_ERROR)
        async with make_client() as client:
            with pytest.raises(StreamInterruptedError) as caught:
                await collect_text(client)
    err = caught.value
    assert err.server_message == "CUDA error: out of memory"
    assert err.error_type == "server_error"
    assert err.partial_text == "Hel"
    assert route.call_count == 1  # text had reached the caller: never retried


async def test_mistralrs_422_bare_message_body_is_a_bad_request_with_that_message() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).respond(422, json=wire.MISTRALRS_422)
        async with make_client() as client:
            with pytest.raises(BadRequestError) as caught:
                await client.generate(REQUEST)
    assert caught.value.status_code == 422
    assert caught.value.server_message == wire.MISTRALRS_422["message"]
    assert caught.value.retryable is False
    assert route.call_count == 1


async def test_mistralrs_500_bare_message_body_is_server_unavailable_and_retried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record_sleeps(monkeypatch)
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).respond(500, json=wire.MISTRALRS_500)
        async with make_client(max_retries=1) as client:
            with pytest.raises(ServerUnavailableError) as caught:
                await client.generate(REQUEST)
    assert caught.value.server_message == "Model failed with error: Tokenizer error"
    assert route.call_count == 2


# -- llama.cpp -----------------------------------------------------------------------------------


async def test_llamacpp_503_loading_model_is_retried_until_the_model_is_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    record_sleeps(monkeypatch)
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).mock(
            side_effect=[
                httpx.Response(503, json=wire.LLAMACPP_LOADING),
                httpx.Response(200, json=wire.LLAMACPP_COMPLETION),
            ]
        )
        async with make_client() as client:
            response = await client.generate(REQUEST)
    assert response.text == "Hi there!"
    assert route.call_count == 2


async def test_llamacpp_503_loading_model_surfaces_as_retryable_server_unavailable_once_retries_are_spent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record_sleeps(monkeypatch)
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(503, json=wire.LLAMACPP_LOADING)
        mock.get(wire.HEALTH_URL).respond(503, json=wire.LLAMACPP_LOADING)
        async with make_client(max_retries=1) as client:
            with pytest.raises(ServerUnavailableError) as caught:
                await client.generate(REQUEST)
            health = await client.health()
    assert caught.value.retryable is True
    assert caught.value.error_type == "unavailable_error"
    assert (health.ready, health.status, health.detail) == (False, "loading", "Loading model")


async def test_llamacpp_exceed_context_size_is_a_bad_request_that_is_not_retried() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).respond(400, json=wire.LLAMACPP_EXCEED_CONTEXT)
        async with make_client() as client:
            with pytest.raises(BadRequestError) as caught:
                await client.generate(REQUEST)
    err = caught.value
    assert err.error_type == "exceed_context_size_error"
    assert err.server_message == wire.LLAMACPP_EXCEED_CONTEXT["error"]["message"]
    assert err.retryable is False
    assert err.body is not None
    assert json.loads(err.body)["error"]["n_ctx"] == 4096
    assert route.call_count == 1


async def test_llamacpp_wrapped_error_body_yields_message_and_type() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(400, json=wire.LLAMACPP_INVALID)
        async with make_client() as client:
            with pytest.raises(BadRequestError) as caught:
                await client.generate(REQUEST)
    assert (caught.value.server_message, caught.value.error_type) == ("'messages' is required", "invalid_request_error")


async def test_llamacpp_mid_stream_error_then_close_without_done_is_an_interruption() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=wire.LLAMACPP_MID_STREAM_ERROR)
        async with make_client() as client:
            with pytest.raises(StreamInterruptedError) as caught:
                await collect_text(client)
    assert caught.value.server_message == "failed to decode the batch"
    assert caught.value.status_code == 500
    assert caught.value.partial_text == "Hi"
    assert route.call_count == 1


async def test_llamacpp_timings_extras_are_kept_on_the_wire_response() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, json=wire.LLAMACPP_COMPLETION)
        async with make_client() as client:
            request = ChatCompletionRequest(model="default", messages=[ChatMessage(role="user", content="hi")])
            response = await client.chat_completion(request)
    assert response.model_extra is not None
    assert response.model_extra["timings"] == wire.LLAMACPP_TIMINGS


async def test_llamacpp_stream_with_timings_and_a_usage_chunk_reports_usage() -> None:
    body = wire.sse(
        wire.llamacpp_chunk("Hi"),
        wire.llamacpp_chunk(None, finish="stop", timings=wire.LLAMACPP_TIMINGS),
        {**wire.llamacpp_chunk(None), "choices": [], "usage": wire.LLAMACPP_COMPLETION["usage"]},
    )
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=body)
        async with make_client() as client:
            text, chunks = await collect_text(client)
    assert text == "Hi"
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.output_tokens == 3


# -- vLLM ----------------------------------------------------------------------------------------


async def test_vllm_usage_chunk_with_empty_choices_becomes_the_final_usage() -> None:
    body = wire.sse(
        wire.vllm_chunk("Hello"),
        wire.vllm_chunk(None, finish="length"),
        {**wire.vllm_chunk(None), "choices": [], "usage": wire.vllm_usage(7, 1)},
    )
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=body)
        async with make_client() as client:
            text, chunks = await collect_text(client)
    assert text == "Hello"
    assert chunks[-1].finish_reason is FinishReason.LENGTH
    assert chunks[-1].usage is not None
    assert (chunks[-1].usage.input_tokens, chunks[-1].usage.output_tokens) == (7, 1)


async def test_vllm_continuous_usage_stats_final_usage_is_the_last_cumulative_value_not_a_sum() -> None:
    body = wire.sse(
        wire.vllm_chunk("A", usage=wire.vllm_usage(7, 1)),
        wire.vllm_chunk("B", usage=wire.vllm_usage(7, 2)),
        wire.vllm_chunk("C", usage=wire.vllm_usage(7, 3)),
        wire.vllm_chunk(None, finish="stop", usage=wire.vllm_usage(7, 3)),
    )
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=body)
        async with make_client() as client:
            text, chunks = await collect_text(client)
    assert text == "ABC"
    usage = chunks[-1].usage
    assert usage is not None
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (7, 3, 10)


async def test_vllm_flat_error_object_is_a_bad_request_with_its_message() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(400, json=wire.VLLM_FLAT_ERROR)
        async with make_client() as client:
            with pytest.raises(BadRequestError) as caught:
                await client.generate(REQUEST)
    assert caught.value.server_message == wire.VLLM_FLAT_ERROR["message"]
    assert caught.value.error_type == "BadRequestError"


# -- Ollama --------------------------------------------------------------------------------------


async def test_ollama_include_usage_chunk_with_empty_choices_is_reported_on_the_final_chunk() -> None:
    body = wire.sse(wire.ollama_chunk("Hi"), wire.ollama_chunk("", finish="stop"), wire.OLLAMA_USAGE_CHUNK)
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=body)
        async with make_client() as client:
            text, chunks = await collect_text(client)
    assert text == "Hi"
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens == 13
    sent = json.loads(route.calls.last.request.content)
    assert sent["stream_options"] == {"include_usage": True}


async def test_ollama_bare_json_error_under_200_is_a_typed_error_with_the_servers_message() -> None:
    # writeError: no "data:" framing, and the status is not a reliable signal.
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, headers={"content-type": "application/json"}, json=wire.OLLAMA_NOT_FOUND)
        async with make_client() as client:
            with pytest.raises(NotFoundError) as caught:
                await collect_text(client)
    assert caught.value.server_message == 'model "llama9" not found, try pulling it first'
    assert caught.value.error_type == "not_found_error"


async def test_ollama_bare_json_error_under_404_is_a_not_found_error_with_the_servers_message() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).respond(404, json=wire.OLLAMA_NOT_FOUND)
        async with make_client() as client:
            with pytest.raises(NotFoundError) as caught:
                await collect_text(client)
    assert caught.value.status_code == 404
    assert caught.value.server_message == 'model "llama9" not found, try pulling it first'
    assert route.call_count == 1


async def test_ollama_bare_json_error_after_the_stream_began_is_an_interruption_with_its_message() -> None:
    body = wire.sse(wire.ollama_chunk("Hi"), done=False) + json.dumps(wire.OLLAMA_API_ERROR).encode() + b"\n"
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=body)
        async with make_client() as client:
            with pytest.raises(StreamInterruptedError) as caught:
                await collect_text(client)
    assert caught.value.server_message == "an error was encountered while running the model"
    assert caught.value.partial_text == "Hi"


# -- OpenAI-style oddities -----------------------------------------------------------------------


async def test_null_choices_and_null_delta_chunks_are_tolerated() -> None:
    body = wire.sse(
        {**wire.openai_chunk(), "choices": None},
        wire.openai_chunk("Hi"),
        {**wire.openai_chunk(), "choices": [{"index": 0, "delta": None, "finish_reason": None}]},
        wire.openai_chunk(finish="stop"),
    )
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=body)
        async with make_client() as client:
            text, chunks = await collect_text(client)
    assert text == "Hi"
    assert chunks[-1].finish_reason is FinishReason.STOP


@pytest.mark.parametrize("reason", ["abort", "error", "guardrail_intervened"])
async def test_unknown_finish_reasons_map_to_other_in_streams_and_whole_responses(reason: str) -> None:
    completion = {
        **wire.OPENAI_COMPLETION,
        "choices": [{**wire.OPENAI_COMPLETION["choices"][0], "finish_reason": reason}],
    }
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).mock(
            side_effect=[
                httpx.Response(200, headers=wire.SSE, content=wire.sse(wire.openai_chunk("x", finish=reason))),
                httpx.Response(200, json=completion),
            ]
        )
        async with make_client() as client:
            _, chunks = await collect_text(client)
            response = await client.generate(REQUEST)
    assert chunks[-1].finish_reason is FinishReason.OTHER
    assert response.finish_reason is FinishReason.OTHER


async def test_openai_stream_with_separate_usage_chunk_yields_text_then_a_final_chunk() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=wire.sse(*wire.OPENAI_STREAM))
        async with make_client() as client:
            text, chunks = await collect_text(client)
    assert text == "I'm here."
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.reasoning_tokens == 0
    assert chunks[-1].usage.total_tokens == 44


async def test_tool_calls_in_a_non_streamed_response_become_tool_call_outputs() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, json=wire.openai_tool_completion('{"city":"Paris"}'))
        async with make_client() as client:
            response = await client.generate(REQUEST)
    assert response.finish_reason is FinishReason.TOOL_USE
    (call,) = response.tool_calls
    assert (call.id, call.name, call.arguments, call.raw_arguments) == (
        "call_4XzlGBLtUe9dy3GVNV4jhq7h",
        "get_weather",
        {"city": "Paris"},
        None,
    )


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
async def test_reasoning_streams_apart_from_the_answer_text(field: str) -> None:
    thinking = wire.openai_chunk()
    thinking["choices"][0]["delta"] = {field: "Let me think."}
    body = wire.sse(thinking, wire.openai_chunk("42"), wire.openai_chunk(finish="stop"))
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=body)
        async with make_client() as client:
            text, chunks = await collect_text(client)
    assert text == "42"
    assert "".join(c.reasoning for c in chunks) == "Let me think."


async def test_vllm_flat_error_object_inside_a_stream_is_an_interruption_with_its_message() -> None:
    # Older vLLM writes errors as a flat object, with no "error" member, even mid-stream.
    flat = {"object": "error", "message": "The model ran out of KV cache", "type": "InternalServerError", "code": 500}
    body = wire.sse(vllm_piece := wire.vllm_chunk("Par"), flat, done=False)
    assert vllm_piece["choices"]
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=body)
        async with make_client() as client:
            with pytest.raises(StreamInterruptedError) as caught:
                await collect_text(client)
    assert caught.value.server_message == "The model ran out of KV cache"
    assert caught.value.partial_text == "Par"


async def test_a_stream_cut_in_the_middle_of_an_event_is_an_interruption_keeping_the_text() -> None:
    body = wire.sse(wire.vllm_chunk("Hel"), wire.vllm_chunk("lo"), done=False) + b'data: {"choices":[{"delta":{"con'
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=body)
        async with make_client() as client:
            with pytest.raises(StreamInterruptedError) as caught:
                await collect_text(client)
    assert caught.value.partial_text == "Hello"
