"""Tools and structured output end to end, on llama-cpp-python's server and the tiny model.

The server runs with ``--chat_format chatml-function-calling``: with a forced ``tool_choice``
its grammar makes even random weights produce a real tool call, and ``response_format``
``json_object`` + ``schema`` makes them produce JSON of the schema's shape (numeric bounds are
not part of the grammar, so client-side validation may still refuse the numbers).

A free string never ends under random weights: the forced calls use a tool whose arguments
the grammar closes in a few dozen tokens (a city from a list, an integer of at most 16 digits),
so that a whole call and a call cut off by ``max_tokens`` can both be asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field

from botticelli_core import FinishReason, GenerateRequest, Message, ToolDefinition
from botticelli_error import OutputValidationError, StreamInterruptedError, UnsupportedInputError
from botticelli_interface import ToolCallFinished, generate_object, run_tools, run_tools_stream
from botticelli_server import ChatCompletionRequest, ChatMessage, ServerClient, ServerConfig
from botticelli_server.launcher import InferenceServer
from tests.api._engine import TINY_CONTEXT, TINY_MODEL_NAME, run_started, run_stopped

pytestmark = [pytest.mark.api, pytest.mark.anyio]


class Reading(BaseModel):
    city: str
    celsius: int = Field(ge=-90, le=60)


class Logged(BaseModel):
    model_config = ConfigDict(extra="forbid")
    city: Literal["Oslo", "Bergen"]
    celsius: int


WEATHER = ToolDefinition.from_model(Logged, name="record_reading", description="Record a temperature reading.")
CLOCK = ToolDefinition(name="now", description="The time.", parameters={"type": "object", "properties": {}})


@pytest.fixture(scope="module")
def tools_config(llama_cpp_server: None, tiny_model: Path) -> Iterator[ServerConfig]:
    server = InferenceServer(
        "llama-cpp-python",
        model=tiny_model,
        model_name=TINY_MODEL_NAME,
        extra_args=["--n_ctx", str(TINY_CONTEXT), "--chat_format", "chatml-function-calling"],
        startup_timeout=120.0,
    )
    run_started(server)
    try:
        config = server.config
        assert config.dialect == "llama-cpp-python"
        yield config
    finally:
        run_stopped(server)


def forced(
    *, max_tokens: int = 64, tools: tuple[ToolDefinition, ...] = (WEATHER,), tool_choice: str = "record_reading"
) -> GenerateRequest:
    return GenerateRequest.from_prompt(
        "Record the reading for Oslo.", max_tokens=max_tokens, temperature=0.0, tools=tools, tool_choice=tool_choice
    )


async def test_schema_output_is_parsed_or_refused_with_the_typed_error(tools_config: ServerConfig) -> None:
    request = GenerateRequest.from_prompt("A reading, as JSON.", max_tokens=48, temperature=0.0)
    refused: OutputValidationError | None = None
    async with ServerClient(tools_config) as client:
        try:
            reading: Reading | None = await generate_object(client, request, Reading)
        except OutputValidationError as exc:
            reading, refused = None, exc
    if refused is not None:
        # The grammar forces the shape, not the bounds: only the numbers may be refused.
        assert refused.raw_text.lstrip().startswith("{")
        assert refused.problems
    else:
        assert isinstance(reading, Reading)


async def test_a_forced_tool_call_comes_back_whole(tools_config: ServerConfig) -> None:
    async with ServerClient(tools_config) as client:
        response = await client.generate(forced())
    assert response.finish_reason is FinishReason.TOOL_USE
    (call,) = response.tool_calls
    assert call.name == "record_reading"
    assert call.id
    assert call.arguments is not None
    assert call.arguments["city"] in ("Oslo", "Bergen")
    assert call.raw_arguments is None


async def test_a_forced_tool_call_streams_and_is_assembled_on_the_final_chunk(tools_config: ServerConfig) -> None:
    async with ServerClient(tools_config) as client, client.generate_stream(forced()) as stream:
        chunks = [chunk async for chunk in stream]
    final = chunks[-1]
    assert final.is_final
    assert final.finish_reason is FinishReason.TOOL_USE
    assert [call.name for call in final.tool_calls] == ["record_reading"]
    assert any(chunk.tool_call_deltas for chunk in chunks[:-1])
    pieces = "".join(d.arguments for c in chunks for d in c.tool_call_deltas)
    call = final.tool_calls[0]
    assert pieces.strip() == (call.raw_arguments or pieces).strip()


async def test_the_tool_result_round_trip_is_accepted(tools_config: ServerConfig) -> None:
    async with ServerClient(tools_config) as client:
        first = await client.generate(forced())
        call = first.tool_calls[0]
        history = (
            *forced().messages,
            Message.from_response(first),
            Message.tool_result(call.id, {"stored": True}, name=call.name),
        )
        second = await client.generate(
            GenerateRequest(messages=history, tools=[WEATHER], tool_choice="none", max_tokens=8, temperature=0.0)
        )
    assert second.finish_reason in (FinishReason.STOP, FinishReason.LENGTH, FinishReason.TOOL_USE)


async def test_a_call_cut_off_by_max_tokens_ended_by_length_whole_and_streamed(tools_config: ServerConfig) -> None:
    # The server says "tool_calls" either way; the arguments' JSON left open says it was cut.
    async with ServerClient(tools_config) as client:
        whole = await client.generate(forced(max_tokens=4))
        async with client.generate_stream(forced(max_tokens=4)) as stream:
            final = [chunk async for chunk in stream][-1]
    for finish_reason, calls in ((whole.finish_reason, whole.tool_calls), (final.finish_reason, final.tool_calls)):
        assert finish_reason is FinishReason.LENGTH
        (call,) = calls
        assert call.name == "record_reading"
        assert call.raw_arguments is not None
        assert call.raw_arguments.startswith("{")


async def test_tools_offered_without_a_choice_reach_the_models_prompt(tools_config: ServerConfig) -> None:
    # chatml-function-calling lists the functions in the system turn only when tool_choice is
    # given; botticelli says "auto" for the request that leaves it unset.
    def asked(choice: str | None) -> GenerateRequest:
        messages = [Message.system("You keep a weather log."), Message.user("Record the reading for Oslo.")]
        return GenerateRequest(messages=messages, tools=[WEATHER], tool_choice=choice, max_tokens=4, temperature=0.0)

    async with ServerClient(tools_config) as client:
        left_unset = await client.generate(asked(None))
        none = await client.generate(asked("none"))
    assert left_unset.usage is not None
    assert none.usage is not None
    # The function list, with its JSON schema, is far longer than the conversation itself.
    assert left_unset.usage.input_tokens > 2 * none.usage.input_tokens


async def test_required_with_one_tool_is_a_call_of_that_tool_whole_and_streamed(tools_config: ServerConfig) -> None:
    # The server fails an assertion on "required" (HTTP 500); with one tool it means that tool.
    async with ServerClient(tools_config) as client:
        whole = await client.generate(forced(tool_choice="required"))
        async with client.generate_stream(forced(tool_choice="required")) as stream:
            final = [chunk async for chunk in stream][-1]
    assert whole.finish_reason is FinishReason.TOOL_USE
    assert [call.name for call in whole.tool_calls] == ["record_reading"]
    assert final.finish_reason is FinishReason.TOOL_USE
    assert [call.name for call in final.tool_calls] == ["record_reading"]


async def test_required_among_several_tools_is_refused_before_sending(tools_config: ServerConfig) -> None:
    request = forced(tools=(WEATHER, CLOCK), tool_choice="required")
    async with ServerClient(tools_config) as client:
        with pytest.raises(UnsupportedInputError) as caught:
            await client.generate(request)
        with pytest.raises(UnsupportedInputError):
            client.generate_stream(request)
    assert caught.value.input_type == "tools"


async def test_a_stream_the_server_ends_without_answering_says_so(tools_config: ServerConfig) -> None:
    # Sent as it is, past botticelli's refusal: the server opens the stream and ends it empty.
    wire = ChatCompletionRequest(
        model=tools_config.model,
        messages=[ChatMessage(role="user", content="Record the reading for Oslo.")],
        tools=[{"type": "function", "function": {"name": WEATHER.name, "parameters": WEATHER.parameters}}],
        tool_choice="required",
        max_tokens=8,
    )
    async with ServerClient(tools_config.model_copy(update={"max_retries": 0})) as client:
        with pytest.raises(StreamInterruptedError) as caught:
            async with client.chat_completion_stream(wire) as stream:
                _ = [chunk async for chunk in stream]
    assert "ended the stream without answering" in str(caught.value)
    assert caught.value.partial_text == ""


class Recorder:
    """The loop's tool: what it was called with, and with which Python types."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, object]] = []

    # A city from a list: a free string never ends under random weights (see the module's docstring).
    def record_reading(self, city: Literal["Oslo", "Bergen"], celsius: int) -> str:
        """Record a temperature reading."""
        self.calls.append((city, celsius))
        return "stored"


def looped(recorder: Recorder) -> GenerateRequest:
    # The tool in the request, so that the first round can force it; the loop relaxes it to "auto" after.
    tool = ToolDefinition.from_function(recorder.record_reading)
    return GenerateRequest.from_prompt(
        "Record the reading for Oslo.", max_tokens=64, temperature=0.0, tools=[tool], tool_choice="record_reading"
    )


async def test_a_loop_with_a_forced_first_call_ends_by_itself_and_ran_the_function_with_its_types(
    tools_config: ServerConfig,
) -> None:
    recorder = Recorder()
    async with ServerClient(tools_config) as client:
        result = await run_tools(client, looped(recorder), max_rounds=4)
    assert result.rounds <= 4
    assert result.response.tool_calls == ()
    first = result.runs[0]
    assert (first.round, first.call.name, first.is_error) == (1, "record_reading", False)
    # The grammar wrote JSON of the schema's types; the function got them as Python's.
    city, celsius = recorder.calls[0]
    assert city in ("Oslo", "Bergen")
    assert type(celsius) is int
    assert result.messages[-1].role.value == "assistant"
    if result.usage is not None:
        assert result.usage.input_tokens > 0


async def test_the_streamed_loop_runs_the_forced_call_and_ends(tools_config: ServerConfig) -> None:
    recorder = Recorder()
    async with ServerClient(tools_config) as client, run_tools_stream(client, looped(recorder), max_rounds=4) as stream:
        finished = [event async for event in stream if isinstance(event, ToolCallFinished)]
    assert stream.result is not None
    assert finished[0].run.call.name == "record_reading"
    assert not finished[0].run.is_error
    assert recorder.calls
