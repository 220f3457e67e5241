"""Prompt-cache facts and llama.cpp's slot options (issue 29).

- ``Usage.cached_tokens`` is what the server says it served from its prompt cache, read
  from each server's own shape, whole and streamed; a server that says nothing gives ``None``.
- ``GenerateRequest.slot`` is llama-server's ``id_slot``; every other backend refuses it
  before sending, with ``UnsupportedInputError(input_type="slot")``.
- ``ServerConfig.cache_prompt`` is llama-server's ``cache_prompt``, sent there only.
- ``GenerateRequest.session`` is the replica pools' affinity key: never sent to any server.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from botticelli_core import GenerateRequest, Usage
from botticelli_embedded.convert import to_engine_request
from botticelli_error import ConfigurationError, UnsupportedInputError
from botticelli_gemini import GeminiClient, GeminiConfig
from botticelli_gemini.convert import to_wire_request
from botticelli_interface.request_log import RequestLog
from botticelli_server import ServerConfig
from botticelli_server._body import chat_body
from botticelli_server._completion import read_completion, record_completion
from botticelli_server.config import PROVIDER
from botticelli_server.convert import from_chat_response, to_chat_request
from botticelli_server.dialect import DIALECTS, get_dialect
from botticelli_server.response import ChatCompletionResponse

from . import wire
from .support import make_client

pytestmark = pytest.mark.anyio

NOT_LLAMA_CPP = ["openai", "llama-cpp-python", "mistral.rs", "vllm", "ollama"]


def with_usage(body: dict[str, Any], usage: dict[str, Any]) -> dict[str, Any]:
    return {**body, "usage": usage}


# -- cached tokens, whole ------------------------------------------------------------------------

WHOLE = {
    # llama-server, newer builds: OpenAI's field and its own timings agree.
    "llama.cpp": (wire.llamacpp_cached_completion(), 7),
    # llama-server, older builds: only timings.cache_n.
    "llama.cpp, timings only": (wire.llamacpp_cached_completion(details=False), 7),
    # llama-server with nothing reused: 0 is a report, not an absence.
    "llama.cpp, cold cache": (wire.LLAMACPP_COMPLETION, 0),
    "vllm, prefix details on": (wire.vllm_completion(wire.vllm_cached_usage(40, 2, 32)), 32),
    "vllm, prefix details off": (wire.vllm_completion({**wire.vllm_usage(40, 2), "prompt_tokens_details": None}), None),
    "vllm, no count in the details": (wire.vllm_completion(wire.vllm_cached_usage(40, 2, None)), None),
    # llama-cpp-python's server: prompt, completion and total tokens, nothing about its cache.
    "llama-cpp-python": (with_usage(wire.LLAMACPP_COMPLETION, wire.vllm_usage(9, 3)) | {"timings": None}, None),
    "openai without details": (wire.OPENAI_COMPLETION, None),
    "openai with details": (
        with_usage(
            wire.OPENAI_COMPLETION, {**wire.OPENAI_COMPLETION["usage"], "prompt_tokens_details": {"cached_tokens": 8}}
        ),
        8,
    ),
}


@pytest.mark.parametrize(("body", "cached"), list(WHOLE.values()), ids=list(WHOLE))
async def test_generate_reports_the_servers_cached_prompt_tokens(body: dict[str, Any], cached: int | None) -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, json=body)
        async with make_client() as client:
            response = await client.generate(GenerateRequest.from_prompt("Hi"))
    assert response.usage is not None
    assert response.usage.cached_tokens == cached


def test_usage_prompt_details_win_over_llama_cpp_timings() -> None:
    body = wire.llamacpp_cached_completion() | {"timings": {**wire.LLAMACPP_CACHED_TIMINGS, "cache_n": 5}}
    usage = read_completion(json.dumps(body).encode(), RequestLog(PROVIDER, "generate")).usage
    assert usage is not None
    assert usage.cached_tokens == 7


@pytest.mark.parametrize(
    "oddity",
    [
        {"prompt_tokens_details": {"cached_tokens": "7"}},
        {"prompt_tokens_details": {"cached_tokens": -1}},
        {"prompt_tokens_details": {"cached_tokens": True}},
        {"prompt_tokens_details": "seven"},
        {"timings": {"cache_n": 7.5}},
        {"timings": "n/a"},
        {"timings": [7]},
    ],
    ids=repr,
)
def test_a_cache_report_that_is_not_a_count_is_no_report_and_the_reply_still_reads(oddity: dict[str, Any]) -> None:
    body = dict(wire.LLAMACPP_COMPLETION)
    body.pop("timings")
    if "prompt_tokens_details" in oddity:
        body["usage"] = {**body["usage"], **oddity}
    else:
        body |= oddity
    entry = RequestLog(PROVIDER, "generate")
    response = read_completion(json.dumps(body).encode(), entry)
    assert response.text == "Hi there!"
    assert response.usage == entry.usage == Usage(input_tokens=9, output_tokens=3, total_tokens=12)


def test_the_wire_model_path_reads_the_same_cached_count() -> None:
    # chat_completion's reply (the full wire model) and its log entry give the same facts as generate.
    reply = ChatCompletionResponse.model_validate(wire.llamacpp_cached_completion(details=False))
    entry = RequestLog(PROVIDER, "chat_completion")
    record_completion(entry, reply)
    response = from_chat_response(reply)
    assert entry.usage is not None
    assert response.usage is not None
    assert entry.usage.cached_tokens == response.usage.cached_tokens == 7
    # timings stay where they were: an extra of the wire response, as llama-server sent them.
    assert reply.model_extra is not None
    assert reply.model_extra["timings"] == wire.LLAMACPP_CACHED_TIMINGS


# -- cached tokens, streamed ---------------------------------------------------------------------

STREAMED = {
    "llama.cpp": (wire.llamacpp_cached_stream(), 7),
    "llama.cpp, timings only": (wire.llamacpp_cached_stream(details=False), 7),
    "vllm, usage chunk": (
        wire.sse(
            wire.vllm_chunk("Hello"),
            wire.vllm_chunk(None, finish="stop"),
            {**wire.vllm_chunk(None), "choices": [], "usage": wire.vllm_cached_usage(40, 2, 32)},
        ),
        32,
    ),
    # continuous_usage_stats: every chunk carries cumulative usage; the last report wins.
    "vllm, continuous usage": (
        wire.sse(
            wire.vllm_chunk("Hel", usage=wire.vllm_cached_usage(40, 1, 16)),
            wire.vllm_chunk("lo", finish="stop", usage=wire.vllm_cached_usage(40, 2, 32)),
        ),
        32,
    ),
    "vllm, prefix details off": (
        wire.sse(
            wire.vllm_chunk("Hello", finish="stop"),
            {**wire.vllm_chunk(None), "choices": [], "usage": wire.vllm_usage(40, 2)},
        ),
        None,
    ),
    # Newer mistral.rs builds add OpenAI's details only when some of the prompt came from the cache.
    "mistral.rs, prefix cache hit": (
        wire.sse(
            wire.mistralrs_chunk("Hi"),
            wire.mistralrs_chunk(
                "",
                finish="stop",
                usage={
                    "prompt_tokens": 9,
                    "completion_tokens": 1,
                    "total_tokens": 10,
                    "prompt_tokens_details": {"cached_tokens": 6},
                    "avg_tok_per_sec": 80.0,
                },
            ),
        ),
        6,
    ),
    "mistral.rs": (
        wire.sse(
            wire.mistralrs_chunk("Hi"),
            wire.mistralrs_chunk(
                "", finish="stop", usage={"prompt_tokens": 9, "completion_tokens": 1, "total_tokens": 10}
            ),
        ),
        None,
    ),
}


@pytest.mark.parametrize(("body", "cached"), list(STREAMED.values()), ids=list(STREAMED))
async def test_a_streams_final_chunk_reports_the_servers_cached_prompt_tokens(body: bytes, cached: int | None) -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=body)
        async with make_client() as client:
            chunks = [chunk async for chunk in client.generate_stream(GenerateRequest.from_prompt("Hi"))]
    final = chunks[-1]
    assert final.is_final
    assert final.usage is not None
    assert final.usage.cached_tokens == cached


async def test_llama_cpp_timings_without_a_usage_report_invent_no_usage() -> None:
    # Without include_usage llama-server puts its timings on the finish chunk and sends no usage.
    body = wire.sse(
        wire.llamacpp_chunk("Hi"), wire.llamacpp_chunk(None, finish="stop", timings=wire.LLAMACPP_CACHED_TIMINGS)
    )
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=body)
        async with make_client(include_usage=False) as client:
            chunks = [chunk async for chunk in client.generate_stream(GenerateRequest.from_prompt("Hi"))]
    assert chunks[-1].usage is None


# -- slot ----------------------------------------------------------------------------------------


def sent_body(route: respx.Route) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(route.calls.last.request.content)
    return body


async def test_a_slot_goes_to_llama_server_as_id_slot_whole_and_streamed() -> None:
    request = GenerateRequest.from_prompt("Hi", slot=2)
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL)
        async with make_client(dialect="llama.cpp") as client:
            route.respond(200, json=wire.LLAMACPP_COMPLETION)
            await client.generate(request)
            assert sent_body(route)["id_slot"] == 2
            route.respond(200, headers=wire.SSE, content=wire.llamacpp_cached_stream())
            [chunk async for chunk in client.generate_stream(request)]
            assert sent_body(route)["id_slot"] == 2
    assert "slot" not in sent_body(route)


async def test_a_slot_rides_along_an_adapter_selection_on_llama_server() -> None:
    # An adapter sends the request through the wire model: the slot must survive that path too.
    from botticelli_core import LoraAdapter  # noqa: PLC0415

    request = GenerateRequest.from_prompt("Hi", slot=0, adapter="sql")
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).respond(200, json=wire.LLAMACPP_COMPLETION)
        adapters = [LoraAdapter(name="sql", path="sql.gguf")]
        async with make_client(dialect="llama.cpp", adapters=adapters) as client:
            await client.generate(request)
    assert sent_body(route)["id_slot"] == 0
    assert sent_body(route)["lora"] == [{"id": 0, "scale": 1.0}]


def refused_by_server(dialect: str) -> Callable[[GenerateRequest], Any]:
    async def send(request: GenerateRequest) -> None:
        async with make_client(dialect=dialect) as client:
            await client.generate(request)

    return send


async def refused_by_server_stream(request: GenerateRequest) -> None:
    async with make_client(dialect="vllm") as client:
        client.generate_stream(request)  # a known dialect refuses at once, before any iteration


async def refused_by_gemini(request: GenerateRequest) -> None:
    async with GeminiClient(
        GeminiConfig(api_key="test-key", base_url="https://generativelanguage.googleapis.com")
    ) as client:
        await client.generate(request)


async def refused_by_embedded(request: GenerateRequest) -> None:
    # EmbeddedModel converts with to_engine_request before the engine sees anything.
    to_engine_request(request)


BACKENDS: dict[str, Callable[[GenerateRequest], Any]] = {
    **{f"server:{name}": refused_by_server(name) for name in NOT_LLAMA_CPP},
    "server:vllm stream": refused_by_server_stream,
    "gemini": refused_by_gemini,
    "embedded": refused_by_embedded,
}


@pytest.mark.parametrize("refuse", list(BACKENDS.values()), ids=list(BACKENDS))
async def test_a_slot_is_refused_before_sending_everywhere_but_llama_server(
    refuse: Callable[[GenerateRequest], Any],
) -> None:
    with respx.mock(using="httpx", assert_all_mocked=True, assert_all_called=False) as mock:
        catch_all = mock.route().respond(500)
        with pytest.raises(UnsupportedInputError) as caught:
            await refuse(GenerateRequest.from_prompt("Hi", slot=1))
    assert caught.value.input_type == "slot"
    assert not catch_all.called


def test_the_dialects_with_slots_are_llama_cpp_alone() -> None:
    assert [name for name, dialect in DIALECTS.items() if dialect.slot_field is not None] == ["llama.cpp"]
    assert sorted(NOT_LLAMA_CPP) == sorted(set(DIALECTS) - {"llama.cpp"})


# -- cache_prompt --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [True, False])
async def test_cache_prompt_is_sent_to_llama_server_whole_and_streamed(value: bool) -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL)
        async with make_client(dialect="llama.cpp", cache_prompt=value) as client:
            route.respond(200, json=wire.LLAMACPP_COMPLETION)
            await client.generate(GenerateRequest.from_prompt("Hi"))
            assert sent_body(route)["cache_prompt"] is value
            route.respond(200, headers=wire.SSE, content=wire.llamacpp_cached_stream())
            [chunk async for chunk in client.generate_stream(GenerateRequest.from_prompt("Hi"))]
            assert sent_body(route)["cache_prompt"] is value


async def test_cache_prompt_unset_sends_nothing_and_leaves_llama_servers_default() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).respond(200, json=wire.LLAMACPP_COMPLETION)
        async with make_client(dialect="llama.cpp") as client:
            await client.generate(GenerateRequest.from_prompt("Hi"))
    assert "cache_prompt" not in sent_body(route)


@pytest.mark.parametrize("dialect", NOT_LLAMA_CPP)
def test_cache_prompt_with_another_dialect_is_a_configuration_error(dialect: str) -> None:
    with pytest.raises(ConfigurationError, match="cache_prompt"):
        ServerConfig(model="m", dialect=dialect, cache_prompt=True)


@pytest.mark.parametrize(("models", "sent"), [(wire.LLAMACPP_MODELS, True), (wire.VLLM_MODELS, False)])
async def test_under_auto_cache_prompt_goes_only_to_a_server_found_to_be_llama_server(
    models: dict[str, Any], sent: bool
) -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.get(wire.MODELS_URL).respond(200, json=models)
        route = mock.post(wire.CHAT_URL).respond(200, json=wire.LLAMACPP_COMPLETION)
        async with make_client(dialect="auto", cache_prompt=False) as client:
            await client.generate(GenerateRequest.from_prompt("Hi"))
    assert ("cache_prompt" in sent_body(route)) is sent


# -- session -------------------------------------------------------------------------------------

SESSION = "user-42-session"


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
async def test_a_session_is_never_in_any_servers_body(dialect: str) -> None:
    slot = 3 if dialect == "llama.cpp" else None
    request = GenerateRequest.from_prompt("Hi", session=SESSION, slot=slot)
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL)
        async with make_client(dialect=dialect) as client:
            route.respond(200, json=wire.LLAMACPP_COMPLETION)
            await client.generate(request)
            route.respond(200, headers=wire.SSE, content=wire.llamacpp_cached_stream())
            [chunk async for chunk in client.generate_stream(request)]
    bodies = [call.request.content for call in route.calls]
    assert len(bodies) == 2
    for body in bodies:
        assert SESSION.encode() not in body
        assert "session" not in json.loads(body)
    profile = get_dialect(dialect)
    assert SESSION.encode() not in chat_body(request, default_model="m", dialect=profile)[0]
    assert SESSION.encode() not in to_chat_request(request, default_model="m", dialect=profile, stream=True).to_json()


def test_a_session_is_never_in_geminis_or_the_embedded_engines_request() -> None:
    request = GenerateRequest.from_prompt("Hi", session=SESSION)
    gemini = to_wire_request(request, max_request_bytes=20_000_000)
    assert SESSION not in gemini.model_dump_json()
    assert SESSION not in repr(to_engine_request(request))


async def test_gemini_sends_a_request_with_a_session_without_it() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(url__regex=r".*:generateContent").mock(
            return_value=httpx.Response(
                200,
                json={
                    "candidates": [{"content": {"role": "model", "parts": [{"text": "Hi"}]}, "finishReason": "STOP"}],
                    "usageMetadata": {"promptTokenCount": 2, "candidatesTokenCount": 1, "totalTokenCount": 3},
                },
            )
        )
        config = GeminiConfig(
            api_key="test-key", base_url="https://generativelanguage.googleapis.com", model="gemini-test"
        )
        async with GeminiClient(config) as client:
            await client.generate(GenerateRequest.from_prompt("Hi", session=SESSION))
    assert SESSION.encode() not in route.calls.last.request.content
