"""The tool loop needs only GenerativeModel: routers run it, a backend without tools refuses it up front."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from botticelli.hybrid import HybridModel
from botticelli.routing import FallbackModel, ReplicaPool
from botticelli_core import GenerateRequest
from botticelli_embedded import EmbeddedConfig, EmbeddedModel
from botticelli_error import UnsupportedInputError
from botticelli_gemini import GeminiClient, GeminiConfig
from botticelli_interface import run_tools, run_tools_stream
from botticelli_server import ServerClient, ServerConfig
from tests.local.gemini import wire as gemini_wire

pytestmark = pytest.mark.anyio

ASK = GenerateRequest.from_prompt("Weather in Oslo?")


def get_weather(city: str) -> str:
    """Current weather in a city."""
    return f"sunny in {city}"


def embedded(tmp_path: Path) -> EmbeddedModel:
    path = tmp_path / "tiny.gguf"
    path.write_bytes(b"GGUF")
    return EmbeddedModel(EmbeddedConfig(model_path=path))


def chat_reply(message: dict[str, Any], finish: str) -> dict[str, Any]:
    return {"choices": [{"index": 0, "message": message, "finish_reason": finish}], "model": "default"}


CALL = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}
ASKS = chat_reply({"role": "assistant", "content": None, "tool_calls": [CALL]}, "tool_calls")
ANSWERS = chat_reply({"role": "assistant", "content": "Sunny in Oslo."}, "stop")


async def test_the_embedded_engine_which_takes_no_tools_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedInputError) as caught:
        await run_tools(embedded(tmp_path), ASK, [get_weather])
    assert (caught.value.input_type, caught.value.provider) == ("tools", "embedded")
    with pytest.raises(UnsupportedInputError):
        run_tools_stream(embedded(tmp_path), ASK, [get_weather])


async def test_the_hybrid_router_sends_every_round_to_the_backend_with_tools(tmp_path: Path) -> None:
    calls = {"candidates": [{"content": {"role": "model", "parts": [
        {"functionCall": {"id": "fc-1", "name": "get_weather", "args": {"city": "Oslo"}}}
    ]}, "finishReason": "STOP"}]}  # fmt: skip
    gemini = GeminiClient(GeminiConfig(api_key=gemini_wire.API_KEY, base_url=gemini_wire.BASE_URL))
    hybrid = HybridModel(embedded(tmp_path), gemini)
    with respx.mock(using="httpx", base_url=gemini_wire.BASE_URL, assert_all_mocked=True) as api:
        route = api.post(gemini_wire.GENERATE_PATH).mock(
            side_effect=[httpx.Response(200, json=calls), httpx.Response(200, json=gemini_wire.GENERATE_OK)]
        )
        result = await run_tools(hybrid, ASK, [get_weather])
    assert route.call_count == 2
    assert (result.runs[0].content, result.text) == ("sunny in Oslo", "Paris is the capital of France.")


async def test_a_fallback_chain_runs_the_loop_on_the_model_that_answers() -> None:
    down = ServerClient(ServerConfig(base_url="http://down.test", model="default", max_retries=0))
    up = ServerClient(ServerConfig(base_url="http://up.test", model="default"))
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post("http://down.test/v1/chat/completions").respond(503, json={"error": {"message": "loading"}})
        route = mock.post("http://up.test/v1/chat/completions").mock(
            side_effect=[httpx.Response(200, json=ASKS), httpx.Response(200, json=ANSWERS)]
        )
        async with FallbackModel(down, up) as chain:
            result = await run_tools(chain, ASK, [get_weather])
    assert result.text == "Sunny in Oslo."
    assert json.loads(route.calls[1].request.content)["messages"][2] == {
        "role": "tool",
        "content": "sunny in Oslo",
        "tool_call_id": "call_1",
    }


async def test_a_replica_pool_runs_the_streamed_loop() -> None:
    def sse(*events: dict[str, Any]) -> bytes:
        return b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events) + b"data: [DONE]\n\n"

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    streamed_call = sse(chunk({"tool_calls": [{"index": 0, **CALL}]}), chunk({}, "tool_calls"))
    streamed_answer = sse(chunk({"content": "Sunny in Oslo."}), chunk({}, "stop"))
    headers = {"content-type": "text/event-stream"}
    replica = ServerClient(ServerConfig(base_url="http://replica.test", model="default"))
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post("http://replica.test/v1/chat/completions").mock(
            side_effect=[
                httpx.Response(200, headers=headers, content=streamed_call),
                httpx.Response(200, headers=headers, content=streamed_answer),
            ]
        )
        async with ReplicaPool(replica) as pool, run_tools_stream(pool, ASK, [get_weather]) as stream:
            events = [event async for event in stream]
    assert stream.result is not None
    assert stream.result.text == "Sunny in Oslo."
    assert len(events) >= 4
