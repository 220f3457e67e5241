"""The local-server rows of the capability matrix: supported works, unsupported is a typed error.

One row per dialect, one column per feature. The other backends keep their rows in files of
their own in this folder.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import respx
from pydantic import BaseModel

from botticelli_core import FinishReason, GenerateRequest, LoraAdapter, ThinkingConfig, ToolDefinition
from botticelli_error import OutputValidationError, UnsupportedInputError
from botticelli_interface import Feature, generate_object
from botticelli_server import ServerClient, ServerConfig

pytestmark = pytest.mark.anyio

URL = "http://local.test/v1/chat/completions"


class Colour(BaseModel):
    name: str


TOOL = ToolDefinition(name="pick_colour", parameters={"type": "object", "properties": {"name": {"type": "string"}}})

LOCAL_MATRIX: dict[str, frozenset[Feature]] = {
    "openai": frozenset({"tools", "output_schema", "thinking"}),
    "llama-cpp-python": frozenset({"tools", "output_schema"}),
    "llama.cpp": frozenset({"tools", "output_schema", "thinking", "adapter"}),
    "mistral.rs": frozenset({"tools", "output_schema", "thinking"}),
    "vllm": frozenset({"tools", "output_schema", "thinking", "adapter"}),
    "ollama": frozenset({"tools", "output_schema", "thinking"}),
}
"""Which dialect honours which feature; ``adapter`` needs a server that selects adapters per request."""

REQUESTS: dict[Feature, GenerateRequest] = {
    "tools": GenerateRequest.from_prompt("Pick one.", tools=[TOOL]),
    "output_schema": GenerateRequest.from_prompt("Pick one.", output_schema=Colour),
    "thinking": GenerateRequest.from_prompt("Pick one.", thinking=ThinkingConfig(effort="low")),
    "adapter": GenerateRequest.from_prompt("Pick one.", adapter="colours-lora"),
}


def completion(message: dict[str, Any], finish: str) -> dict[str, Any]:
    return {"id": "c", "model": "tiny", "choices": [{"index": 0, "message": message, "finish_reason": finish}]}


def client(dialect: str) -> ServerClient:
    config = ServerConfig(
        base_url="http://local.test", model="tiny", dialect=dialect, max_retries=0, adapters=[ADAPTER]
    )
    return ServerClient(config)


ADAPTER = LoraAdapter(name="colours-lora", path="colours.gguf", scale=0.5)


CELLS = [(d, f) for d in LOCAL_MATRIX for f in ("tools", "output_schema", "thinking", "adapter")]


@pytest.mark.parametrize(("dialect", "feature"), CELLS)
async def test_a_supported_feature_works_and_an_unsupported_one_is_refused(dialect: str, feature: Feature) -> None:
    reply = (
        completion(
            {
                "role": "assistant",
                "tool_calls": [{"id": "t", "function": {"name": "pick_colour", "arguments": '{"name": "red"}'}}],
            },
            "tool_calls",
        )
        if feature == "tools"
        else completion({"role": "assistant", "content": '{"name": "red"}'}, "stop")
    )
    with respx.mock(using="httpx", assert_all_mocked=True, assert_all_called=False) as mock:
        route = mock.post(URL).respond(200, json=reply)
        async with client(dialect) as model:
            if feature not in LOCAL_MATRIX[dialect]:
                with pytest.raises(UnsupportedInputError) as caught:
                    await model.generate(REQUESTS[feature])
                assert (caught.value.input_type, caught.value.provider) == (feature, "local")
                assert not route.called
                return
            response = await model.generate(REQUESTS[feature])
    if feature == "tools":
        assert response.finish_reason is FinishReason.TOOL_USE
        assert response.tool_calls[0].arguments == {"name": "red"}
    elif feature == "adapter":
        sent = json.loads(route.calls.last.request.content)
        # llama.cpp selects by position and scale, vLLM serves an adapter under its name.
        assert sent.get("lora") == [{"id": 0, "scale": 0.5}] or sent["model"] == "colours-lora"
    else:
        assert response.parse(Colour) == Colour(name="red")


@pytest.mark.parametrize("dialect", sorted(d for d, f in LOCAL_MATRIX.items() if "output_schema" in f))
async def test_generate_object_returns_the_model_or_the_typed_validation_error(dialect: str) -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(URL)
        route.side_effect = [
            respx.MockResponse(200, json=completion({"role": "assistant", "content": '{"name": "red"}'}, "stop")),
            respx.MockResponse(200, json=completion({"role": "assistant", "content": '{"name": 7}'}, "stop")),
        ]
        async with client(dialect) as model:
            assert await generate_object(model, GenerateRequest.from_prompt("Pick one."), Colour) == Colour(name="red")
            with pytest.raises(OutputValidationError) as caught:
                await generate_object(model, GenerateRequest.from_prompt("Pick one."), Colour)
    assert caught.value.raw_text == '{"name": 7}'
