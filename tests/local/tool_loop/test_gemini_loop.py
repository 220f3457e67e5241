"""The tool loop on Gemini's wire: parallel calls, thought signatures sent back, ids Gemini gave or did not."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import respx

from botticelli_core import GenerateRequest, StreamChunk, ToolDefinition, Usage
from botticelli_gemini import GeminiClient, GeminiConfig
from botticelli_interface import ToolCallFinished, ToolCallStarted, run_tools, run_tools_stream
from tests.local.gemini import wire
from tests.local.gemini import wire_features as docs

pytestmark = pytest.mark.anyio

SSE = {"content-type": "text/event-stream"}


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(using="httpx", base_url=wire.BASE_URL, assert_all_mocked=True, assert_all_called=False) as router:
        yield router


def gemini() -> GeminiClient:
    return GeminiClient(GeminiConfig(api_key=wire.API_KEY, base_url=wire.BASE_URL, backoff_max=0.0))


def power_disco_ball(power: bool) -> dict[str, Any]:
    """Powers the spinning disco ball."""
    return {"status": "spinning" if power else "off"}


async def start_music(energetic: bool, loud: bool) -> str:
    """Play some music matching the specified parameters."""
    return f"playing {'energetic' if energetic else 'calm'} music{' loudly' if loud else ''}"


def dim_lights(brightness: float) -> None:
    """Dim the lights."""


PARTY: list[Callable[..., Any]] = [power_disco_ball, start_music, dim_lights]


async def test_a_two_round_loop_runs_parallel_calls_and_sends_them_back_with_their_signature(
    api: respx.MockRouter,
) -> None:
    route = api.post(wire.GENERATE_PATH).mock(
        side_effect=[httpx.Response(200, json=docs.PARALLEL_CALLS), httpx.Response(200, json=wire.GENERATE_OK)]
    )
    tools = [ToolDefinition.from_function(f) for f in PARTY]
    request = GenerateRequest.from_prompt("Turn this place into a party!", tools=tools, tool_choice="required")
    async with gemini() as client:
        result = await run_tools(client, request)

    assert [(run.call.id, run.content, run.is_error) for run in result.runs] == [
        ("fc-disco-1", '{"status":"spinning"}', False),
        ("fc-music-2", "playing energetic music loudly", False),
        ("fc-lights-3", "null", False),
    ]
    assert result.text == "Paris is the capital of France."
    # 140 + 8 prompt, 42 + 7 candidates, 75 thought tokens: summed over both rounds.
    assert result.usage == Usage(input_tokens=148, output_tokens=49, reasoning_tokens=75, total_tokens=272)

    first, second = (json.loads(call.request.content) for call in route.calls)
    assert first["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}
    assert second["toolConfig"] == {"functionCallingConfig": {"mode": "AUTO"}}
    assert second["contents"] == [
        {"role": "user", "parts": [{"text": "Turn this place into a party!"}]},
        {
            "role": "model",
            "parts": [
                {
                    "functionCall": {"name": "power_disco_ball", "args": {"power": True}, "id": "fc-disco-1"},
                    "thoughtSignature": docs.SIGNATURE,
                },
                {
                    "functionCall": {
                        "name": "start_music",
                        "args": {"energetic": True, "loud": True},
                        "id": "fc-music-2",
                    }
                },
                {"functionCall": {"name": "dim_lights", "args": {"brightness": 0.5}, "id": "fc-lights-3"}},
            ],
        },
        {
            # The answers to parallel calls: one user turn, a functionResponse per call, in order.
            "role": "user",
            "parts": [
                {
                    "functionResponse": {
                        "name": "power_disco_ball",
                        "response": {"status": "spinning"},
                        "id": "fc-disco-1",
                    }
                },
                {
                    "functionResponse": {
                        "name": "start_music",
                        "response": {"result": "playing energetic music loudly"},
                        "id": "fc-music-2",
                    }
                },
                {"functionResponse": {"name": "dim_lights", "response": {"result": None}, "id": "fc-lights-3"}},
            ],
        },
    ]
    assert second["tools"] == first["tools"]


def get_weather(city: str) -> str:
    """Current weather in a city."""
    if city == "Lyon":
        raise LookupError("no station in Lyon")
    return "18 C, sunny"


async def test_the_streamed_loop_sends_back_a_signature_without_the_ids_gemini_did_not_give(
    api: respx.MockRouter,
) -> None:
    # wire.TOOL_CALLS is a Gemini 2.5 answer: two calls without ids, the first one signed.
    route = api.post(wire.STREAM_PATH).mock(
        side_effect=[
            httpx.Response(200, headers=SSE, content=wire.sse(wire.TOOL_CALLS)),
            httpx.Response(200, headers=SSE, content=wire.sse(*wire.STREAM_EVENTS)),
        ]
    )
    async with gemini() as client:
        request = GenerateRequest.from_prompt("Weather in Paris and Lyon?")
        async with run_tools_stream(client, request, [get_weather]) as stream:
            events = [event async for event in stream]
    result = stream.result
    assert result is not None

    started = [e.call for e in events if isinstance(e, ToolCallStarted)]
    assert [(c.name, c.arguments, c.signature) for c in started] == [
        ("get_weather", {"city": "Paris"}, "Es8FCswFAdHtim8="),
        ("get_weather", {"city": "Lyon"}, None),
    ]
    finished = sorted(
        ((e.run.call.arguments or {})["city"], e.run.is_error) for e in events if isinstance(e, ToolCallFinished)
    )
    assert finished == [("Lyon", True), ("Paris", False)]
    assert "".join(e.text for e in events if isinstance(e, StreamChunk)) == "The capital of France is Paris.\n"

    second = json.loads(route.calls[1].request.content)
    assert second["contents"][1] == {
        "role": "model",
        "parts": [
            {
                "functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
                "thoughtSignature": "Es8FCswFAdHtim8=",
            },
            {"functionCall": {"name": "get_weather", "args": {"city": "Lyon"}}},
        ],
    }
    assert second["contents"][2] == {
        "role": "user",
        "parts": [
            {"functionResponse": {"name": "get_weather", "response": {"result": "18 C, sunny"}}},
            {
                "functionResponse": {
                    "name": "get_weather",
                    "response": {"error": "get_weather raised LookupError: no station in Lyon"},
                }
            },
        ],
    }
    # 83 + 13 prompt, 30 + 8 candidates, 190 thought tokens.
    assert result.usage == Usage(input_tokens=96, output_tokens=38, reasoning_tokens=190, total_tokens=324)
