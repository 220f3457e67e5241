"""Tools, structured output and thinking through GeminiClient, against Google's documented shapes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx
from pydantic import BaseModel, Field

from botticelli_core import (
    FinishReason,
    GenerateRequest,
    GenerateResponse,
    Message,
    ThinkingConfig,
    ToolCallInput,
    ToolDefinition,
)
from botticelli_error import OutputValidationError, UnsupportedInputError
from botticelli_gemini import GeminiClient, GeminiConfig
from botticelli_gemini.convert import to_response, to_wire_request
from botticelli_gemini.request import dump_request
from botticelli_gemini.response import parse_generate_response

from . import wire
from . import wire_features as docs

SSE = {"content-type": "text/event-stream"}
WEATHER = ToolDefinition(
    name="get_weather",
    description="Current weather in a city.",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
NOW = ToolDefinition(name="now", description="The current time.")


class Recipe(BaseModel):
    recipe_name: str
    minutes: int = Field(le=20)


def body(request: GenerateRequest) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(dump_request(to_wire_request(request, max_request_bytes=20_000_000)))
    return loaded


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(using="httpx", base_url=wire.BASE_URL, assert_all_mocked=True, assert_all_called=False) as router:
        yield router


def client() -> GeminiClient:
    return GeminiClient(GeminiConfig(api_key=wire.API_KEY, base_url=wire.BASE_URL, backoff_max=0.0))


class TestRequestBody:
    def test_tools_are_function_declarations_with_json_schema_parameters(self) -> None:
        sent = body(GenerateRequest.from_prompt("Weather?", tools=[WEATHER, NOW]))
        assert sent["tools"] == [
            {
                "functionDeclarations": [
                    {
                        "name": "get_weather",
                        "description": "Current weather in a city.",
                        "parametersJsonSchema": WEATHER.parameters,
                    },
                    {
                        "name": "now",
                        "description": "The current time.",
                        "parametersJsonSchema": {"type": "object", "properties": {}},
                    },
                ]
            }
        ]
        assert "toolConfig" not in sent

    @pytest.mark.parametrize(
        ("choice", "config"),
        [
            ("auto", {"mode": "AUTO"}),
            ("none", {"mode": "NONE"}),
            ("required", {"mode": "ANY"}),
            ("now", {"mode": "ANY", "allowedFunctionNames": ["now"]}),
        ],
    )
    def test_tool_choice_is_the_function_calling_mode(self, choice: str, config: dict[str, Any]) -> None:
        sent = body(GenerateRequest.from_prompt("Hi", tools=[WEATHER, NOW], tool_choice=choice))
        assert sent["toolConfig"] == {"functionCallingConfig": config}

    def test_a_tool_choice_without_tools_sends_no_tool_config(self) -> None:
        sent = body(GenerateRequest.from_prompt("Hi", tool_choice="none"))
        assert "toolConfig" not in sent
        assert "tools" not in sent

    def test_an_output_schema_is_a_json_mime_type_and_response_json_schema(self) -> None:
        sent = body(GenerateRequest.from_prompt("A recipe", output_schema=Recipe, max_tokens=50))
        assert sent["generationConfig"] == {
            "maxOutputTokens": 50,
            "responseMimeType": "application/json",
            "responseJsonSchema": Recipe.model_json_schema(),
        }

    def test_a_thinking_budget_and_thoughts(self) -> None:
        thinking = ThinkingConfig(budget_tokens=1024, include_thoughts=True)
        sent = body(GenerateRequest.from_prompt("Hi", thinking=thinking))
        assert sent["generationConfig"] == {"thinkingConfig": {"thinkingBudget": 1024, "includeThoughts": True}}

    def test_a_zero_budget_turns_thinking_off(self) -> None:
        sent = body(GenerateRequest.from_prompt("Hi", thinking=ThinkingConfig(budget_tokens=0)))
        assert sent["generationConfig"] == {"thinkingConfig": {"thinkingBudget": 0}}

    @pytest.mark.parametrize(("effort", "level"), [("low", "LOW"), ("medium", "MEDIUM"), ("high", "HIGH")])
    def test_an_effort_is_a_thinking_level(self, effort: Any, level: str) -> None:
        sent = body(GenerateRequest.from_prompt("Hi", thinking=ThinkingConfig(effort=effort)))
        assert sent["generationConfig"] == {"thinkingConfig": {"thinkingLevel": level}}

    def test_an_adapter_is_refused_naming_it(self) -> None:
        with pytest.raises(UnsupportedInputError) as caught:
            body(GenerateRequest.from_prompt("Hi", adapter="sql-lora"))
        assert (caught.value.input_type, caught.value.provider) == ("adapter", "gemini")


class TestHistory:
    def test_calls_keep_their_signature_and_parallel_results_share_one_user_turn(self) -> None:
        calls = Message(
            role="assistant",
            content=(
                ToolCallInput(id="fc-1", name="get_weather", arguments={"city": "Paris"}, signature=docs.SIGNATURE),
                ToolCallInput(id="fc-2", name="get_weather", arguments={"city": "Lyon"}),
            ),
        )
        request = GenerateRequest(
            messages=[
                Message.user("Weather in Paris and Lyon?"),
                calls,
                Message.tool_result("fc-1", {"temp_c": 18}),
                Message.tool_result("fc-2", "sunny, 21 C", name="get_weather"),
                Message.user("And tomorrow?"),
            ],
            tools=[WEATHER],
        )
        assert body(request)["contents"] == [
            {"role": "user", "parts": [{"text": "Weather in Paris and Lyon?"}]},
            {
                "role": "model",
                "parts": [
                    {
                        "functionCall": {"name": "get_weather", "args": {"city": "Paris"}, "id": "fc-1"},
                        "thoughtSignature": docs.SIGNATURE,
                    },
                    {"functionCall": {"name": "get_weather", "args": {"city": "Lyon"}, "id": "fc-2"}},
                ],
            },
            {
                "role": "user",
                "parts": [
                    {"functionResponse": {"name": "get_weather", "response": {"temp_c": 18}, "id": "fc-1"}},
                    {"functionResponse": {"name": "get_weather", "response": {"result": "sunny, 21 C"}, "id": "fc-2"}},
                ],
            },
            {"role": "user", "parts": [{"text": "And tomorrow?"}]},
        ]

    def test_json_that_is_not_an_object_and_errors_are_wrapped(self) -> None:
        request = GenerateRequest(
            messages=[
                Message.user("Go"),
                Message(role="assistant", content=(ToolCallInput(id="fc-1", name="now"),)),
                Message.tool_result("fc-1", [1, 2]),
                Message.tool_result("fc-1", "clock broken", is_error=True),
            ]
        )
        responses = [p["functionResponse"]["response"] for p in body(request)["contents"][2]["parts"]]
        assert responses == [{"result": [1, 2]}, {"error": "clock broken"}]

    def test_ids_botticelli_made_up_are_not_sent_back(self) -> None:
        reply = to_gemini_reply(wire.TOOL_CALLS)
        generated = reply.tool_calls[0].id
        request = GenerateRequest(
            messages=[Message.user("Go"), Message.from_response(reply), Message.tool_result(generated, "18 C")]
        )
        contents = body(request)["contents"]
        assert "id" not in contents[1]["parts"][0]["functionCall"]
        assert contents[2]["parts"][0]["functionResponse"] == {"name": "get_weather", "response": {"result": "18 C"}}

    def test_a_result_whose_function_cannot_be_named_is_refused(self) -> None:
        request = GenerateRequest(messages=[Message.user("Go"), Message.tool_result("unknown", "x")])
        with pytest.raises(UnsupportedInputError) as caught:
            body(request)
        assert caught.value.input_type == "tools"
        assert "unknown" in caught.value.message


def to_gemini_reply(fixture: dict[str, Any]) -> GenerateResponse:
    return to_response(parse_generate_response(wire.dumps(fixture)))


class TestResponses:
    def test_parallel_calls_keep_geminis_ids_and_the_signature(self) -> None:
        reply = to_gemini_reply(docs.PARALLEL_CALLS)
        assert [(c.id, c.name, c.arguments, c.signature) for c in reply.tool_calls] == [
            ("fc-disco-1", "power_disco_ball", {"power": True}, docs.SIGNATURE),
            ("fc-music-2", "start_music", {"energetic": True, "loud": True}, None),
            ("fc-lights-3", "dim_lights", {"brightness": 0.5}, None),
        ]
        assert reply.finish_reason is FinishReason.TOOL_USE

    def test_thoughts_are_reasoning_and_cached_and_thought_tokens_are_counted(self) -> None:
        reply = to_gemini_reply(docs.THOUGHTS_AND_CACHE)
        assert reply.reasoning.startswith("**Comparing the numbers**")
        assert reply.text == "9.9 is larger."
        assert reply.usage is not None
        assert (reply.usage.reasoning_tokens, reply.usage.cached_tokens, reply.usage.total_tokens) == (311, 2048, 2416)


@pytest.mark.anyio
async def test_the_tool_round_trip_sends_the_calls_back_with_their_signature(api: respx.MockRouter) -> None:
    route = api.post(wire.GENERATE_PATH).mock(
        side_effect=[httpx.Response(200, json=docs.PARALLEL_CALLS), httpx.Response(200, json=wire.GENERATE_OK)]
    )
    first = GenerateRequest.from_prompt("Party mode!", tools=[WEATHER, NOW])
    async with client() as gemini:
        reply = await gemini.generate(first)
        history = [
            *first.messages,
            Message.from_response(reply),
            *(Message.tool_result(call.id, {"ok": True}, name=call.name) for call in reply.tool_calls),
        ]
        final = await gemini.generate(GenerateRequest(messages=history, tools=[WEATHER, NOW]))
    assert final.text == "Paris is the capital of France."
    sent = json.loads(route.calls.last.request.content)
    model_turn, results = sent["contents"][1], sent["contents"][2]
    assert model_turn["parts"][0]["thoughtSignature"] == docs.SIGNATURE
    assert [p["functionCall"]["id"] for p in model_turn["parts"]] == ["fc-disco-1", "fc-music-2", "fc-lights-3"]
    assert results["role"] == "user"
    assert [p["functionResponse"]["id"] for p in results["parts"]] == ["fc-disco-1", "fc-music-2", "fc-lights-3"]


@pytest.mark.anyio
async def test_structured_output_is_parsed_and_validated_on_the_client(api: respx.MockRouter) -> None:
    route = api.post(wire.GENERATE_PATH).mock(return_value=httpx.Response(200, json=docs.RECIPE_JSON))
    async with client() as gemini:
        reply = await gemini.generate(GenerateRequest.from_prompt("A recipe", output_schema=Recipe))
    assert json.loads(route.calls.last.request.content)["generationConfig"]["responseMimeType"] == "application/json"
    # 25 minutes breaks the schema's bound: the raw text comes with the typed error.
    with pytest.raises(OutputValidationError) as caught:
        reply.parse(Recipe)
    assert caught.value.raw_text == docs.RECIPE_JSON["candidates"][0]["content"]["parts"][0]["text"]

    class Loose(BaseModel):
        recipe_name: str
        minutes: int

    assert reply.parse(Loose) == Loose(recipe_name="Chocolate chip cookies", minutes=25)


@pytest.mark.anyio
async def test_a_stream_gives_thoughts_as_reasoning_and_the_calls_on_the_final_chunk(api: respx.MockRouter) -> None:
    api.post(wire.STREAM_PATH).mock(
        return_value=httpx.Response(200, headers=SSE, content=wire.sse(*docs.STREAM_THOUGHT_THEN_CALLS))
    )
    request = GenerateRequest.from_prompt(
        "Paris and Lyon?", tools=[WEATHER], thinking=ThinkingConfig(include_thoughts=True)
    )
    async with client() as gemini, gemini.generate_stream(request) as stream:
        chunks = [chunk async for chunk in stream]
    assert [c.reasoning for c in chunks[:-1]] == ["Two cities, two calls."]
    final = chunks[-1]
    assert final.is_final
    assert final.finish_reason is FinishReason.TOOL_USE
    assert [(c.name, (c.arguments or {})["city"], c.signature) for c in final.tool_calls] == [
        ("get_weather", "Paris", docs.SIGNATURE),
        ("get_weather", "Lyon", None),
    ]
    assert final.tool_calls[0].id != final.tool_calls[1].id
    assert final.usage is not None
    assert final.usage.reasoning_tokens == 9


@pytest.mark.anyio
async def test_arguments_that_are_not_an_object_are_kept_raw_whole_and_streamed(api: respx.MockRouter) -> None:
    odd = {
        "candidates": [
            {
                "content": {"role": "model", "parts": [{"functionCall": {"name": "now", "args": "utc"}}]},
                "finishReason": "STOP",
            }
        ]
    }
    api.post(wire.GENERATE_PATH).mock(return_value=httpx.Response(200, json=odd))
    api.post(wire.STREAM_PATH).mock(return_value=httpx.Response(200, headers=SSE, content=wire.sse(odd)))
    request = GenerateRequest.from_prompt("Time?", tools=[NOW])
    async with client() as gemini:
        whole = await gemini.generate(request)
        async with gemini.generate_stream(request) as stream:
            final = [chunk async for chunk in stream][-1]
    for call in (whole.tool_calls[0], final.tool_calls[0]):
        assert (call.name, call.arguments, call.raw_arguments) == ("now", None, '"utc"')
