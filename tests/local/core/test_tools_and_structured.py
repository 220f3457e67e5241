"""The neutral vocabulary of tools, structured output and thinking, before any backend sees it."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field

from botticelli_core import (
    GenerateRequest,
    GenerateResponse,
    JsonOutput,
    Message,
    Role,
    StreamChunk,
    TextInput,
    TextOutput,
    ThinkingConfig,
    ToolCallInput,
    ToolCallOutput,
    ToolDefinition,
    ToolResultInput,
)
from botticelli_error import ConfigurationError, OutputValidationError, ResponseDecodeError, UnsupportedInputError
from botticelli_interface import features_of, require_features
from tests.local.error.chains import exception_chain


class Weather(BaseModel):
    """Current weather in a city."""

    city: str
    days: int = Field(default=1, ge=1, le=7)


def _tool(name: str = "weather") -> ToolDefinition:
    return ToolDefinition.from_model(Weather, name=name)


def test_a_tool_built_from_a_model_carries_its_schema_without_the_title() -> None:
    tool = _tool()
    assert tool.description == "Current weather in a city."
    assert "title" not in tool.parameters
    assert tool.parameters["properties"]["days"]["maximum"] == 7


def test_a_function_without_annotations_cannot_become_a_tool() -> None:
    def untyped(city):  # type: ignore[no-untyped-def]
        return city

    with pytest.raises(ConfigurationError, match="city"):
        ToolDefinition.from_function(untyped)


def test_tool_parameters_must_describe_an_object() -> None:
    with pytest.raises(ConfigurationError, match="must describe an object"):
        ToolDefinition(name="f", parameters={"type": "string"})


@pytest.mark.parametrize("name", ["", "has space", "9starts_with_digit", "x" * 65])
def test_tool_names_follow_the_rule_every_backend_accepts(name: str) -> None:
    with pytest.raises(ConfigurationError, match=r"ToolDefinition\.name"):
        ToolDefinition(name=name)


def test_tool_choice_must_name_a_declared_tool() -> None:
    GenerateRequest.from_prompt("hi", tools=[_tool()], tool_choice="weather")
    with pytest.raises(ConfigurationError, match="neither auto, none, required nor a declared tool"):
        GenerateRequest.from_prompt("hi", tools=[_tool()], tool_choice="clock")
    with pytest.raises(ConfigurationError, match="needs tools"):
        GenerateRequest.from_prompt("hi", tool_choice="required")
    with pytest.raises(ConfigurationError, match="unique"):
        GenerateRequest.from_prompt("hi", tools=[_tool(), _tool()])


def test_a_pydantic_model_as_output_schema_becomes_its_json_schema() -> None:
    request = GenerateRequest.from_prompt("hi", output_schema=Weather)
    assert request.output_schema == Weather.model_json_schema()


def test_thinking_takes_a_budget_or_an_effort_not_both() -> None:
    assert ThinkingConfig(effort="high").effort == "high"
    with pytest.raises(ConfigurationError, match="not both"):
        ThinkingConfig(budget_tokens=1, effort="high")
    with pytest.raises(ConfigurationError, match="budget_tokens"):
        ThinkingConfig(budget_tokens=-1)


def test_the_tool_round_trip_keeps_call_ids_and_signatures() -> None:
    call = ToolCallOutput(id="c1", name="weather", arguments={"city": "Oslo"}, signature="sig==")
    response = GenerateResponse(outputs=[TextOutput(text="Let me check."), call], finish_reason="tool_use")
    turn = Message.from_response(response)
    assert turn.role is Role.ASSISTANT
    assert turn.text == "Let me check."
    assert turn.tool_calls == (ToolCallInput(id="c1", name="weather", arguments={"city": "Oslo"}, signature="sig=="),)
    result = Message.tool_result("c1", {"temp": 3}, name="weather")
    assert result.content == (ToolResultInput(tool_call_id="c1", content='{"temp": 3}', name="weather"),)


def test_tool_parts_only_go_in_the_messages_they_belong_to() -> None:
    result = ToolResultInput(tool_call_id="c1", content="3")
    call = ToolCallInput(id="c1", name="weather")
    with pytest.raises(ConfigurationError, match="tool results go in a tool message"):
        Message.user([result])
    with pytest.raises(ConfigurationError, match="tool calls go in an assistant message"):
        Message.user([call])
    with pytest.raises(ConfigurationError, match="only tool results"):
        Message(role=Role.TOOL, content=(result, TextInput(text="and more")))
    with pytest.raises(ConfigurationError, match="JSON-encodable"):
        Message.tool_result("c1", object())


def test_parse_validates_on_the_client_and_keeps_the_raw_text() -> None:
    # Grammars enforce the shape but not numeric bounds: 9 days is valid JSON, invalid Weather.
    raw = '{"city": "Oslo", "days": 9}'
    response = GenerateResponse(outputs=[TextOutput(text=raw)], finish_reason="stop")
    with pytest.raises(OutputValidationError) as caught:
        response.parse(Weather)
    assert isinstance(caught.value, ResponseDecodeError)
    assert caught.value.raw_text == raw
    assert caught.value.problems[0]["loc"] == ("days",)
    cut = GenerateResponse(outputs=[TextOutput(text='{"city": "Os')], finish_reason="length")
    with pytest.raises(OutputValidationError) as caught:
        cut.parse(Weather)
    assert caught.value.finish_reason == "length"


def test_parse_leaves_no_pydantic_error_on_the_chain() -> None:
    response = GenerateResponse(outputs=[TextOutput(text='{"city": 7}')], finish_reason="stop")
    with pytest.raises(OutputValidationError) as caught:
        response.parse(Weather)
    assert exception_chain(caught.value) == [caught.value]


def test_parse_prefers_an_already_parsed_json_output() -> None:
    response = GenerateResponse(outputs=[JsonOutput(value={"city": "Oslo"})], finish_reason="stop")
    assert response.parse(Weather) == Weather(city="Oslo")


def test_fast_stream_chunks_have_every_field_the_constructor_gives() -> None:
    assert StreamChunk.delta("a") == StreamChunk(text="a")
    assert StreamChunk.delta("a").tool_calls == ()


def test_features_of_sees_tools_in_the_history_too() -> None:
    call = ToolCallOutput(id="c1", name="weather", arguments={})
    history = [
        Message.user("weather?"),
        Message.from_response(GenerateResponse(outputs=[call], finish_reason="tool_use")),
        Message.tool_result("c1", "3 degrees"),
    ]
    request = GenerateRequest(messages=history, adapter="french")
    assert features_of(request) == {"tools", "adapter"}
    with pytest.raises(UnsupportedInputError) as caught:
        require_features(request, frozenset({"tools"}), provider="local")
    assert caught.value.input_type == "adapter"
    assert caught.value.provider == "local"
