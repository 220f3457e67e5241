"""Each dialect's wire body for tools, output_schema and thinking, and the typed refusals."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx
from pydantic import BaseModel

from botticelli_core import GenerateRequest, ThinkingConfig, ToolDefinition
from botticelli_error import UnsupportedInputError
from botticelli_server import (
    DIALECTS,
    Dialect,
    detect_dialect,
    get_dialect,
    schema_fields,
    thinking_fields,
    to_chat_request,
)
from botticelli_server._presets import PRESETS
from botticelli_server.adapters import PER_REQUEST_DIALECTS

from . import wire
from .support import make_client

pytestmark = pytest.mark.anyio


class Point(BaseModel):
    x: int
    y: int


WEATHER = ToolDefinition(
    name="get_weather",
    description="Weather in a city.",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
POINT_SCHEMA = Point.model_json_schema()


def body(request: GenerateRequest, dialect: str) -> dict[str, Any]:
    wire_request = to_chat_request(request, default_model="m", dialect=get_dialect(dialect))
    parsed: dict[str, Any] = json.loads(wire_request.to_json())
    return parsed


def prompt(**fields: Any) -> GenerateRequest:
    return GenerateRequest.from_prompt("Hi", **fields)


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        (
            "openai",
            {"response_format": {"type": "json_schema", "json_schema": {"name": "Point", "schema": POINT_SCHEMA}}},
        ),
        (
            "llama.cpp",
            {"response_format": {"type": "json_schema", "json_schema": {"name": "Point", "schema": POINT_SCHEMA}}},
        ),
        (
            "vllm",
            {"response_format": {"type": "json_schema", "json_schema": {"name": "Point", "schema": POINT_SCHEMA}}},
        ),
        (
            "ollama",
            {"response_format": {"type": "json_schema", "json_schema": {"name": "Point", "schema": POINT_SCHEMA}}},
        ),
        ("llama-cpp-python", {"response_format": {"type": "json_object", "schema": POINT_SCHEMA}}),
        ("mistral.rs", {"grammar": {"type": "json_schema", "value": POINT_SCHEMA}}),
    ],
)
def test_output_schema_is_spelled_as_each_server_takes_it(dialect: str, expected: dict[str, Any]) -> None:
    sent = body(prompt(output_schema=Point), dialect)
    assert {k: sent[k] for k in expected} == expected
    assert not ({"response_format", "grammar"} - set(expected)) & set(sent)


def test_a_schema_without_a_title_is_named_output() -> None:
    sent = body(prompt(output_schema={"type": "object"}), "vllm")
    assert sent["response_format"]["json_schema"]["name"] == "output"


@pytest.mark.parametrize(
    ("dialect", "thinking", "expected"),
    [
        ("openai", ThinkingConfig(effort="high"), {"reasoning_effort": "high"}),
        ("vllm", ThinkingConfig(effort="low"), {"reasoning_effort": "low"}),
        ("vllm", ThinkingConfig(budget_tokens=0), {"chat_template_kwargs": {"enable_thinking": False}}),
        ("vllm", ThinkingConfig(include_thoughts=True), {"chat_template_kwargs": {"enable_thinking": True}}),
        ("llama.cpp", ThinkingConfig(effort="medium"), {"chat_template_kwargs": {"enable_thinking": True}}),
        ("llama.cpp", ThinkingConfig(budget_tokens=0), {"chat_template_kwargs": {"enable_thinking": False}}),
        ("mistral.rs", ThinkingConfig(budget_tokens=0), {"enable_thinking": False}),
        ("mistral.rs", ThinkingConfig(), {"enable_thinking": True}),
        ("mistral.rs", ThinkingConfig(effort="low"), {"reasoning_effort": "low"}),
        ("ollama", ThinkingConfig(budget_tokens=0), {"reasoning_effort": "none"}),
        ("ollama", ThinkingConfig(effort="high"), {"reasoning_effort": "high"}),
        ("openai", ThinkingConfig(include_thoughts=True), {}),
    ],
)
def test_thinking_is_spelled_as_each_server_takes_it(
    dialect: str, thinking: ThinkingConfig, expected: dict[str, Any]
) -> None:
    sent = body(prompt(thinking=thinking), dialect)
    extra = {k: v for k, v in sent.items() if k not in ("model", "messages")}
    assert extra == expected


@pytest.mark.parametrize(
    ("dialect", "thinking"),
    [
        ("llama-cpp-python", ThinkingConfig(effort="low")),
        ("openai", ThinkingConfig(budget_tokens=0)),
        ("vllm", ThinkingConfig(budget_tokens=512)),
        ("mistral.rs", ThinkingConfig(budget_tokens=512)),
    ],
)
def test_thinking_a_server_cannot_express_is_refused_naming_thinking(dialect: str, thinking: ThinkingConfig) -> None:
    with pytest.raises(UnsupportedInputError) as caught:
        body(prompt(thinking=thinking), dialect)
    assert caught.value.input_type == "thinking"
    assert caught.value.provider == "local"


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_tools_and_a_named_choice_go_out_as_openai_functions(dialect: str) -> None:
    request = prompt(tools=[WEATHER], tool_choice="auto")
    sent = body(request, dialect)
    assert sent["tools"] == [
        {
            "type": "function",
            "function": {"name": "get_weather", "parameters": WEATHER.parameters, "description": "Weather in a city."},
        }
    ]
    assert sent.get("tool_choice", "auto") == "auto"


def test_a_tool_name_as_choice_becomes_a_function_object() -> None:
    sent = body(prompt(tools=[WEATHER], tool_choice="get_weather"), "llama-cpp-python")
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert body(prompt(tools=[WEATHER], tool_choice="required"), "vllm")["tool_choice"] == "required"


def test_ollama_cannot_force_a_tool_and_says_so() -> None:
    with pytest.raises(UnsupportedInputError) as caught:
        body(prompt(tools=[WEATHER], tool_choice="get_weather"), "ollama")
    assert caught.value.input_type == "tools"
    # "none" is honoured by offering no tools; "auto" needs no field at all.
    assert "tools" not in body(prompt(tools=[WEATHER], tool_choice="none"), "ollama")
    assert "tool_choice" not in body(prompt(tools=[WEATHER], tool_choice="auto"), "ollama")


CLOCK = ToolDefinition(name="now", description="The time.", parameters={"type": "object", "properties": {}})
NAMED = {"type": "function", "function": {"name": "get_weather"}}
REFUSED = "refused"


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        # llama-cpp-python's chatml-function-calling puts the tools in the prompt only when
        # tool_choice is given: without it, no call could ever come back.
        ("llama-cpp-python", "auto"),
        # The others call "auto" their default whenever tools are given.
        ("openai", None),
        ("llama.cpp", None),
        ("mistral.rs", None),
        ("vllm", None),
        ("ollama", None),
    ],
)
def test_an_unset_tool_choice_is_sent_as_auto_where_the_server_needs_it_said(
    dialect: str, expected: str | None
) -> None:
    sent = body(prompt(tools=[WEATHER]), dialect)
    assert sent.get("tool_choice") == expected
    assert [t["function"]["name"] for t in sent["tools"]] == ["get_weather"]


async def test_the_client_tells_llama_cpp_python_auto_whole_and_streamed() -> None:
    done = wire.sse(wire.openai_chunk("Hi"), wire.openai_chunk(finish="stop"))
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).mock(
            side_effect=[
                httpx.Response(200, json=wire.openai_tool_completion("{}")),
                httpx.Response(200, headers=wire.SSE, content=done),
            ]
        )
        async with make_client(dialect="llama-cpp-python") as client:
            await client.generate(prompt(tools=[WEATHER]))
            async with client.generate_stream(prompt(tools=[WEATHER])) as stream:
                _ = [chunk async for chunk in stream]
    assert [json.loads(call.request.content)["tool_choice"] for call in route.calls] == ["auto", "auto"]


@pytest.mark.parametrize(
    ("dialect", "choice", "tools", "expected"),
    [
        # What each server's tool_choice takes goes out as it is.
        ("openai", "required", [WEATHER, CLOCK], ("required", ["get_weather", "now"])),
        ("vllm", "get_weather", [WEATHER, CLOCK], (NAMED, ["get_weather", "now"])),
        ("mistral.rs", "required", [WEATHER, CLOCK], ("required", ["get_weather", "now"])),
        ("llama-cpp-python", "get_weather", [WEATHER, CLOCK], (NAMED, ["get_weather", "now"])),
        ("llama-cpp-python", "none", [WEATHER, CLOCK], ("none", ["get_weather", "now"])),
        ("llama.cpp", "required", [WEATHER, CLOCK], ("required", ["get_weather", "now"])),
        # llama-cpp-python fails on "required" (HTTP 500); with one tool it means that tool.
        ("llama-cpp-python", "required", [WEATHER], (NAMED, ["get_weather"])),
        ("llama-cpp-python", "required", [WEATHER, CLOCK], REFUSED),
        # llama-server reads tool_choice as a string, a named object as "auto": the named
        # tool alone, required, is the same request in words it reads.
        ("llama.cpp", "get_weather", [WEATHER, CLOCK], ("required", ["get_weather"])),
        # Ollama has no tool_choice: "none" offers no tools, forcing is refused.
        ("ollama", "none", [WEATHER, CLOCK], (None, [])),
        ("ollama", "required", [WEATHER], REFUSED),
        ("ollama", "get_weather", [WEATHER], REFUSED),
    ],
)
def test_each_server_gets_the_tool_choice_it_takes_or_a_refusal(
    dialect: str, choice: str, tools: list[ToolDefinition], expected: object
) -> None:
    request = prompt(tools=tools, tool_choice=choice)
    if expected == REFUSED:
        with pytest.raises(UnsupportedInputError) as caught:
            body(request, dialect)
        assert caught.value.input_type == "tools"
        assert repr(choice) in str(caught.value)
        return
    sent = body(request, dialect)
    assert (sent.get("tool_choice"), [t["function"]["name"] for t in sent.get("tools", [])]) == expected


async def test_required_among_several_tools_is_refused_by_llama_cpp_python_before_sending() -> None:
    request = prompt(tools=[WEATHER, CLOCK], tool_choice="required")
    with respx.mock(using="httpx", assert_all_mocked=True, assert_all_called=False) as mock:
        route = mock.post(wire.CHAT_URL).respond(500, json={"error": {"message": "", "type": "internal_server_error"}})
        async with make_client(dialect="llama-cpp-python") as client:
            with pytest.raises(UnsupportedInputError) as whole:
                await client.generate(request)
            with pytest.raises(UnsupportedInputError):
                client.generate_stream(request)
    assert not route.called
    assert whole.value.input_type == "tools"
    assert whole.value.retryable is False
    assert "name the tool to call" in str(whole.value)


def test_what_each_dialects_tool_choice_takes() -> None:
    assert {name: sorted(d.tool_choices) for name, d in DIALECTS.items()} == {
        "openai": ["auto", "named", "none", "required"],
        "llama-cpp-python": ["auto", "named", "none"],
        "llama.cpp": ["auto", "none", "required"],
        "mistral.rs": ["auto", "named", "none", "required"],
        "vllm": ["auto", "named", "none", "required"],
        "ollama": [],
    }
    assert {name for name, d in DIALECTS.items() if d.auto_tool_choice} == {"llama-cpp-python"}
    assert {name for name, d in DIALECTS.items() if not d.forced_tool_choice} == {"ollama"}


@pytest.mark.parametrize("dialect", sorted(set(DIALECTS) - PER_REQUEST_DIALECTS))
def test_adapters_are_refused_where_the_server_cannot_switch_per_request(dialect: str) -> None:
    with pytest.raises(UnsupportedInputError) as caught:
        body(prompt(adapter="my-lora"), dialect)
    assert caught.value.input_type == "adapter"


def test_the_features_of_each_dialect() -> None:
    assert {name: sorted(d.features) for name, d in DIALECTS.items()} == {
        "openai": ["output_schema", "thinking", "tools"],
        "llama-cpp-python": ["output_schema", "tools"],
        "llama.cpp": ["output_schema", "thinking", "tools"],
        "mistral.rs": ["output_schema", "thinking", "tools"],
        "vllm": ["output_schema", "thinking", "tools"],
        "ollama": ["output_schema", "thinking", "tools"],
    }


async def test_the_client_sends_its_configured_dialects_spelling() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).respond(200, json=wire.openai_tool_completion('{"x": 1}'))
        async with make_client(dialect="llama-cpp-python") as client:
            await client.generate(prompt(output_schema=Point))
    sent = json.loads(route.calls.last.request.content)
    assert sent["response_format"] == {"type": "json_object", "schema": POINT_SCHEMA}


async def test_a_refused_feature_sends_nothing() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True, assert_all_called=False) as mock:
        route = mock.post(wire.CHAT_URL).respond(200, json={})
        async with make_client(dialect="llama-cpp-python") as client:
            with pytest.raises(UnsupportedInputError):
                await client.generate(prompt(thinking=ThinkingConfig(effort="low")))
            with pytest.raises(UnsupportedInputError):
                client.generate_stream(prompt(thinking=ThinkingConfig(effort="low")))
    assert not route.called


MODELS = {
    "llama.cpp": {"data": [{"id": "tiny", "owned_by": "llamacpp", "meta": {"n_ctx_train": 128}}]},
    "vllm": {"data": [{"id": "m", "owned_by": "vllm", "max_model_len": 2048, "root": "m"}]},
    "mistral.rs": {"data": [{"id": "default"}, {"id": "x", "status": "loaded", "tools_available": True}]},
    "llama-cpp-python": {"data": [{"id": "tiny", "object": "model", "owned_by": "me", "permissions": []}]},
}


@pytest.mark.parametrize("dialect", sorted(MODELS))
async def test_auto_asks_the_server_once_and_keeps_the_answer(dialect: str) -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        models = mock.get(wire.MODELS_URL).respond(200, json=MODELS[dialect])
        mock.post(wire.CHAT_URL).respond(200, json=wire.openai_tool_completion("{}"))
        async with make_client(dialect="auto") as client:
            await client.generate(prompt())
            await client.generate(prompt())
            assert (await client.dialect()).name == dialect
    assert models.call_count == 1


async def test_auto_tells_ollama_by_its_version_endpoint_and_falls_back_to_openai() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.get(wire.MODELS_URL).respond(
            200, json={"object": "list", "data": [{"id": "qwen3", "owned_by": "library"}]}
        )
        version = mock.get(f"{wire.BASE_URL}/api/version").respond(200, json={"version": "0.12.3"})
        async with make_client(dialect="auto") as client:
            assert (await client.dialect()).name == "ollama"
        version.respond(404, json={"error": {"message": "no"}})
        async with make_client(dialect="auto") as client:
            assert (await client.dialect()).name == "openai"


async def test_auto_asks_again_when_the_server_could_not_be_reached() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        models = mock.get(wire.MODELS_URL)
        models.side_effect = [httpx.ConnectError("refused"), httpx.Response(200, json=MODELS["vllm"])]
        async with make_client(dialect="auto", max_retries=0) as client:
            assert (await client.dialect()).name == "openai"
            assert (await client.dialect()).name == "vllm"
            assert (await client.dialect()).name == "vllm"
    assert models.call_count == 2


async def test_an_auto_stream_resolves_the_dialect_before_sending() -> None:
    chunks = wire.sse(wire.openai_chunk("Hi"), wire.openai_chunk(finish="stop"))
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.get(wire.MODELS_URL).respond(200, json=MODELS["mistral.rs"])
        chat = mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=chunks)
        async with make_client(dialect="auto") as client, client.generate_stream(prompt(output_schema=Point)) as s:
            texts = [chunk.text async for chunk in s]
    assert "".join(texts) == "Hi"
    assert "grammar" in json.loads(chat.calls.last.request.content)


def test_presets_name_the_dialect_of_the_server_they_start() -> None:
    assert {name: p.dialect for name, p in PRESETS.items()} == {
        "llama-cpp-python": "llama-cpp-python",
        "llama-server": "llama.cpp",
        "mistralrs": "mistral.rs",
        "mistralrs-server": "mistral.rs",
        "vllm": "vllm",
    }


def test_the_option_mappers_refuse_on_their_own_too() -> None:
    # Called directly, without require_features in front: a profile lacking the feature refuses it.
    with pytest.raises(UnsupportedInputError) as caught:
        thinking_fields(ThinkingConfig(effort="low"), get_dialect("llama-cpp-python"))
    assert caught.value.input_type == "thinking"
    with pytest.raises(UnsupportedInputError) as caught:
        schema_fields({"type": "object"}, Dialect(name="openai", schema_style=None))
    assert caught.value.input_type == "output_schema"


@pytest.mark.parametrize(
    ("models", "expected"),
    [
        ({"data": ["junk", {"id": "m", "meta": None}]}, "llama.cpp"),
        ({"data": [{"id": "m", "max_model_len": 4096}]}, "vllm"),
        ({"data": [{"id": "x", "status": "unloaded"}]}, "mistral.rs"),
        ({"data": "junk"}, "openai"),
    ],
)
def test_detection_reads_the_marks_each_server_leaves(models: object, expected: str) -> None:
    assert detect_dialect(models) == expected


async def test_auto_settles_on_openai_when_the_models_list_is_refused_or_not_json() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        models = mock.get(wire.MODELS_URL).respond(404, json={"error": {"message": "no such route"}})
        mock.get(f"{wire.BASE_URL}/api/version").respond(200, content=b"<html>")
        async with make_client(dialect="auto", max_retries=0) as client:
            assert (await client.dialect()).name == "openai"
            assert (await client.dialect()).name == "openai"
    assert models.call_count == 1
