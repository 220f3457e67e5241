"""The tool loop against a scripted OpenAI-compatible server on a real socket: what goes over the wire."""

from __future__ import annotations

import json
from typing import Annotated, Any

import anyio
import pytest
from pydantic import Field

from botticelli_core import FinishReason, GenerateRequest, StreamChunk, ToolDefinition, Usage
from botticelli_interface import ToolCallFinished, ToolCallStarted, run_tools, run_tools_stream
from tests.local.server import wire
from tests.local.server.support import Exchange, loopback, make_client, socket_released

pytestmark = pytest.mark.anyio

PROMPT = "Weather in Oslo, and in Lyon for three days?"


class Tools:
    """The two tools, recording each call they get."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def get_weather(self, city: str) -> str:
        """Current weather in a city."""
        self.calls.append(("get_weather", city))
        return f"sunny in {city}"

    async def get_forecast(self, city: str, days: Annotated[int, Field(ge=1, le=7)]) -> dict[str, Any]:
        """The forecast for a city."""
        self.calls.append(("get_forecast", (city, days)))
        return {"city": city, "days": days}


def completion(message: dict[str, Any], finish: str, usage: tuple[int, int]) -> bytes:
    prompt, completion_tokens = usage
    body = {
        "id": "chatcmpl-9",
        "object": "chat.completion",
        "created": wire.CREATED,
        "model": "default",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt + completion_tokens,
        },
    }
    return json.dumps(body).encode()


CALLS = [
    {"id": "call_oslo", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}},
    {
        "id": "call_lyon",
        "type": "function",
        "function": {"name": "get_forecast", "arguments": '{"city": "Lyon", "days": "three"}'},
    },
]
ASKS = completion({"role": "assistant", "content": None, "tool_calls": CALLS}, "tool_calls", (61, 38))
ANSWERS = completion({"role": "assistant", "content": "Sunny in Oslo; Lyon needs a number of days."}, "stop", (120, 9))


def scripted(replies: list[bytes], content_type: str = "application/json") -> tuple[list[dict[str, Any]], Any]:
    """A server script answering the n-th request with ``replies[n]``, and the bodies it received."""
    bodies: list[dict[str, Any]] = []

    async def script(exchange: Exchange) -> None:
        bodies.append(json.loads(exchange.body))
        await exchange.start(content_type=content_type)
        await exchange.send(replies[len(bodies) - 1])
        await exchange.end()

    return bodies, script


# The history the second request must carry, field by field: the first answer's calls as the
# assistant turn (content "" beside them, as llama-cpp-python's templates need), then one tool
# message per call in the calls' order. The bad call's problem goes back flagged as an error.
PROBLEM = (
    "get_forecast was not called: its arguments do not validate: "
    "days: Input should be a valid integer, unable to parse string as an integer (got 'three')"
)
SECOND_MESSAGES = [
    {"role": "user", "content": PROMPT},
    {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "id": "call_oslo",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
            },
            {
                "id": "call_lyon",
                "type": "function",
                "function": {"name": "get_forecast", "arguments": '{"city": "Lyon", "days": "three"}'},
            },
        ],
    },
    {"role": "tool", "content": "sunny in Oslo", "tool_call_id": "call_oslo"},
    {"role": "tool", "content": json.dumps({"error": PROBLEM}), "tool_call_id": "call_lyon"},
]


def request_for(tools: Tools) -> GenerateRequest:
    # A forced choice needs the tools in the request; from_function makes each function its handler.
    declared = [ToolDefinition.from_function(tools.get_weather), ToolDefinition.from_function(tools.get_forecast)]
    return GenerateRequest.from_prompt(PROMPT, max_tokens=128, tools=declared, tool_choice="required")


async def test_two_calls_one_with_an_argument_of_the_wrong_type_then_an_answer() -> None:
    tools = Tools()
    bodies, script = scripted([ASKS, ANSWERS])
    async with loopback(script) as server, make_client(server.url) as client:
        result = await run_tools(client, request_for(tools))

    # The call with a valid argument ran with its types; the other never reached its function.
    assert tools.calls == [("get_weather", "Oslo")]
    assert [(run.call.id, run.is_error, run.failure) for run in result.runs] == [
        ("call_oslo", False, None),
        ("call_lyon", True, "invalid_arguments"),
    ]
    assert result.runs[1].content == PROBLEM
    assert (result.text, result.response.finish_reason, result.rounds) == (
        "Sunny in Oslo; Lyon needs a number of days.",
        FinishReason.STOP,
        2,
    )
    assert result.usage == Usage(input_tokens=181, output_tokens=47, total_tokens=228)

    first, second = bodies
    assert first["messages"] == [{"role": "user", "content": PROMPT}]
    assert first["tool_choice"] == "required"
    assert [t["function"]["name"] for t in first["tools"]] == ["get_weather", "get_forecast"]
    assert second["messages"] == SECOND_MESSAGES
    # The forced choice was for the first round; the second lets the model answer.
    assert second["tool_choice"] == "auto"
    assert second["tools"] == first["tools"]
    assert second["max_tokens"] == first["max_tokens"] == 128
    assert second["model"] == "default"
    assert result.messages[-1].text == "Sunny in Oslo; Lyon needs a number of days."


def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-9",
        "object": "chat.completion.chunk",
        "created": wire.CREATED,
        "model": "default",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }


def usage_chunk(prompt: int, completion_tokens: int) -> dict[str, Any]:
    usage = {
        "prompt_tokens": prompt,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt + completion_tokens,
    }
    return {"id": "chatcmpl-9", "object": "chat.completion.chunk", "model": "default", "choices": [], "usage": usage}


def fragment(index: int, **function: str) -> dict[str, Any]:
    return {"tool_calls": [{"index": index, "function": function}]}


STREAMED_ASKS = wire.sse(
    chunk({"role": "assistant", "content": None}),
    chunk({"tool_calls": [{"index": 0, "id": "call_oslo", "type": "function", "function": {"name": "get_weather"}}]}),
    chunk(fragment(0, arguments='{"city": ')),
    chunk(fragment(0, arguments='"Oslo"}')),
    chunk({"tool_calls": [{"index": 1, "id": "call_lyon", "type": "function", "function": {"name": "get_forecast"}}]}),
    chunk(fragment(1, arguments='{"city": "Lyon", "days": "three"}')),
    chunk({}, "tool_calls"),
    usage_chunk(61, 38),
)
STREAMED_ANSWER = wire.sse(
    chunk({"role": "assistant", "content": "Sunny in Oslo; "}),
    chunk({"content": "Lyon needs a number of days."}),
    chunk({}, "stop"),
    usage_chunk(120, 9),
)


async def test_the_streamed_loop_sends_the_same_history_and_yields_chunks_and_call_events() -> None:
    tools = Tools()
    bodies, script = scripted([STREAMED_ASKS, STREAMED_ANSWER], content_type="text/event-stream")
    events: list[Any] = []
    async with (
        loopback(script) as server,
        make_client(server.url) as client,
        run_tools_stream(client, request_for(tools)) as stream,
    ):
        events = [event async for event in stream]
    result = stream.result
    assert result is not None

    assert tools.calls == [("get_weather", "Oslo")]
    assert bodies[1]["messages"] == SECOND_MESSAGES
    assert bodies[1]["tool_choice"] == "auto"
    kinds = [type(e).__name__ for e in events]
    first_final = next(i for i, e in enumerate(events) if isinstance(e, StreamChunk) and e.is_final)
    # The first answer's chunks, its calls announced in order, both finished, then the answer's chunks.
    assert kinds[first_final + 1 : first_final + 5] == [
        "ToolCallStarted",
        "ToolCallStarted",
        "ToolCallFinished",
        "ToolCallFinished",
    ]
    started = [e.call.id for e in events if isinstance(e, ToolCallStarted)]
    finished = {e.run.call.id: e.run.is_error for e in events if isinstance(e, ToolCallFinished)}
    assert (started, finished) == (["call_oslo", "call_lyon"], {"call_oslo": False, "call_lyon": True})
    assert any(isinstance(e, StreamChunk) and e.tool_call_deltas for e in events[:first_final])
    assert (
        "".join(e.text for e in events if isinstance(e, StreamChunk)) == "Sunny in Oslo; Lyon needs a number of days."
    )
    assert result.text == "Sunny in Oslo; Lyon needs a number of days."
    assert result.usage == Usage(input_tokens=181, output_tokens=47, total_tokens=228)
    assert [call.arguments for call in result.responses[0].tool_calls] == [
        {"city": "Oslo"},
        {"city": "Lyon", "days": "three"},
    ]


async def endless_answer(exchange: Exchange) -> None:
    await exchange.start()
    while True:
        await exchange.send(wire.sse(chunk({"content": "tick "}), done=False))
        await anyio.sleep(0.005)


async def test_leaving_the_stream_mid_answer_closes_the_socket() -> None:
    async with loopback(endless_answer) as server, make_client(server.url) as client:
        tools = Tools()
        async with run_tools_stream(client, GenerateRequest.from_prompt(PROMPT), [tools.get_weather]) as stream:
            async for event in stream:
                assert isinstance(event, StreamChunk)
                break
        await socket_released(server)


async def test_cancelling_the_consumer_mid_answer_closes_the_socket() -> None:
    received = anyio.Event()

    async with loopback(endless_answer) as server, make_client(server.url) as client:
        tools = Tools()

        async def consume() -> None:
            async with run_tools_stream(client, GenerateRequest.from_prompt(PROMPT), [tools.get_weather]) as stream:
                async for _event in stream:
                    received.set()

        async with anyio.create_task_group() as group:
            group.start_soon(consume)
            await received.wait()
            group.cancel_scope.cancel()
        await socket_released(server)
