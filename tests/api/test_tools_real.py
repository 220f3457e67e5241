"""Tools and structured output end to end, on llama-cpp-python's server and the tiny model.

The server runs with ``--chat_format chatml-function-calling``: with a forced ``tool_choice``
its grammar makes even random weights produce a real tool call, and ``response_format``
``json_object`` + ``schema`` makes them produce JSON of the schema's shape (numeric bounds are
not part of the grammar, so client-side validation may still refuse the numbers).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from botticelli_core import FinishReason, GenerateRequest, Message, ToolDefinition
from botticelli_error import OutputValidationError
from botticelli_interface import generate_object
from botticelli_server import ServerClient, ServerConfig
from botticelli_server.launcher import InferenceServer
from tests.api._engine import TINY_CONTEXT, TINY_MODEL_NAME, run_started, run_stopped

pytestmark = [pytest.mark.api, pytest.mark.anyio]


class Reading(BaseModel):
    city: str
    celsius: int = Field(ge=-90, le=60)


WEATHER = ToolDefinition.from_model(Reading, name="record_reading", description="Record a temperature reading.")


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


def forced(**fields: object) -> GenerateRequest:
    return GenerateRequest.from_prompt(
        "Record the reading for Oslo.",
        max_tokens=48,
        temperature=0.0,
        tools=[WEATHER],
        tool_choice="record_reading",
        **fields,  # type: ignore[arg-type]
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
    assert call.arguments or call.raw_arguments is not None


async def test_a_forced_tool_call_streams_and_is_assembled_on_the_final_chunk(tools_config: ServerConfig) -> None:
    async with ServerClient(tools_config) as client, client.generate_stream(forced()) as stream:
        chunks = [chunk async for chunk in stream]
    final = chunks[-1]
    assert final.is_final
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
