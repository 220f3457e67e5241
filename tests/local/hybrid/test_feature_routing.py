"""HybridModel sends a request that needs tools, a schema or thinking to a backend that honours it."""

from __future__ import annotations

from typing import Any

import pytest

from botticelli.hybrid import HybridModel, HybridPolicy
from botticelli_core import GenerateRequest, Message, StreamChunk, ThinkingConfig, ToolCallInput, ToolDefinition
from botticelli_error import ServerUnavailableError, UnsupportedInputError
from botticelli_interface import ALL_FEATURES, Feature, SupportsFeatures
from tests.local.hybrid.fakes import FakeModel
from tests.local.hybrid.support import POLICY, Clock, make, reasons

TOOLS = GenerateRequest.from_prompt("What time is it?", tools=[ToolDefinition(name="now")])
SCHEMA = GenerateRequest.from_prompt("JSON please", output_schema={"type": "object"})


class FeaturedModel(FakeModel):
    """A fake backend that declares the features it honours."""

    def __init__(self, name: str, features: set[Feature], **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.features = frozenset(features)

    @property
    def supported_features(self) -> frozenset[Feature]:
        return self.features


async def first_chunk(hybrid: HybridModel, request: GenerateRequest) -> StreamChunk:
    async with hybrid.generate_stream(request) as stream:
        return await stream.__anext__()


def local(**kwargs: Any) -> FeaturedModel:
    return FeaturedModel("local", {"output_schema", "thinking"}, **kwargs)


def gemini(**kwargs: Any) -> FeaturedModel:
    return FeaturedModel("gemini", {"tools", "output_schema", "thinking"}, **kwargs)


def test_the_hybrid_declares_what_either_backend_honours() -> None:
    hybrid = make(local(), gemini())
    assert isinstance(hybrid, SupportsFeatures)
    assert hybrid.supported_features == {"tools", "output_schema", "thinking"}
    assert make(FakeModel("a"), local()).supported_features == ALL_FEATURES


@pytest.mark.anyio
@pytest.mark.parametrize(
    "request_",
    [
        TOOLS,
        GenerateRequest.from_prompt("Hi", tools=[ToolDefinition(name="now")], routing_hint="cheap"),
        GenerateRequest(
            messages=[Message.user("Hi"), Message(role="assistant", content=(ToolCallInput(id="c1", name="now"),))]
        ),
    ],
    ids=["tools", "tools-despite-cheap-hint", "tool-call-in-history"],
)
async def test_a_request_needing_tools_goes_to_the_backend_with_tools(
    routes: pytest.LogCaptureFixture, request_: GenerateRequest
) -> None:
    preferred, fallback = local(), gemini()
    response = await make(preferred, fallback).generate(request_)
    assert response.text == "gemini"
    assert preferred.calls == []
    assert reasons(routes) == ["features:tools"]


@pytest.mark.anyio
async def test_a_feature_both_honour_routes_by_the_policy(routes: pytest.LogCaptureFixture) -> None:
    response = await make(local(), gemini()).generate(SCHEMA)
    assert response.text == "local"
    assert reasons(routes) == ["cheap"]


@pytest.mark.anyio
async def test_the_only_capable_backend_failing_does_not_fall_back_to_one_that_would_refuse() -> None:
    preferred, fallback = local(), gemini(failures=[ServerUnavailableError("overloaded", provider="gemini")])
    with pytest.raises(ServerUnavailableError):
        await make(preferred, fallback).generate(TOOLS)
    assert preferred.calls == []


@pytest.mark.anyio
async def test_the_only_capable_backend_is_tried_even_while_its_breaker_is_open() -> None:
    clock = Clock()
    down = [ServerUnavailableError("overloaded", provider="gemini")] * 2
    fallback = gemini(failures=list(down))
    hybrid = HybridModel(local(), fallback, policy=POLICY, clock=clock)
    for _ in down:
        with pytest.raises(ServerUnavailableError):
            await hybrid.generate(TOOLS)
    assert hybrid.breaker(fallback).state == "open"
    assert (await hybrid.generate(TOOLS)).text == "gemini"


@pytest.mark.anyio
async def test_a_stream_needing_tools_goes_to_the_backend_with_tools(routes: pytest.LogCaptureFixture) -> None:
    preferred, fallback = local(), gemini()
    async with make(preferred, fallback).generate_stream(TOOLS) as stream:
        texts = [chunk.text async for chunk in stream]
    assert texts[0] == "gemini:1"
    assert preferred.calls == []
    assert reasons(routes) == ["features:tools"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("request_", "input_type"),
    [
        (GenerateRequest.from_prompt("Hi", adapter="sql-lora"), "adapter"),
        (
            GenerateRequest.from_prompt(
                "Hi", tools=[ToolDefinition(name="now")], thinking=ThinkingConfig(effort="low"), adapter="lora"
            ),
            "adapter",
        ),
    ],
)
async def test_a_request_neither_backend_honours_is_refused_before_sending(
    request_: GenerateRequest, input_type: str
) -> None:
    preferred, fallback = local(), gemini()
    hybrid = make(preferred, fallback)
    with pytest.raises(UnsupportedInputError) as caught:
        await hybrid.generate(request_)
    assert (caught.value.input_type, caught.value.provider) == (input_type, "hybrid")
    assert "local lacks" in caught.value.message
    with pytest.raises(UnsupportedInputError):
        await first_chunk(hybrid, request_)
    assert preferred.calls == fallback.calls == []


@pytest.mark.anyio
async def test_features_split_across_backends_are_refused() -> None:
    only_tools = FeaturedModel("a", {"tools"})
    only_schema = FeaturedModel("b", {"output_schema"})
    request = GenerateRequest.from_prompt("Hi", tools=[ToolDefinition(name="now")], output_schema={"type": "object"})
    with pytest.raises(UnsupportedInputError) as caught:
        await make(only_tools, only_schema).generate(request)
    assert caught.value.input_type in {"tools", "output_schema"}


@pytest.mark.anyio
async def test_a_backend_that_declares_nothing_is_assumed_able_to_try(routes: pytest.LogCaptureFixture) -> None:
    response = await make(FakeModel("local"), gemini()).generate(TOOLS)
    assert response.text == "local"
    assert reasons(routes) == ["cheap"]


@pytest.mark.anyio
async def test_counting_tokens_for_routing_is_skipped_once_features_decided(routes: pytest.LogCaptureFixture) -> None:
    policy = HybridPolicy(count_tokens_routing=True)
    hybrid = HybridModel(local(), gemini(), policy=policy)
    assert (await hybrid.generate(TOOLS)).text == "gemini"
    assert reasons(routes) == ["features:tools"]


@pytest.mark.anyio
async def test_a_complex_request_stays_on_the_preferred_backend_when_only_it_honours_a_feature(
    routes: pytest.LogCaptureFixture,
) -> None:
    preferred = FeaturedModel("local", {"adapter"})
    fallback = gemini()
    request = GenerateRequest.from_prompt("x" * 400, adapter="sql-lora")
    assert (await make(preferred, fallback).generate(request)).text == "local"
    assert fallback.calls == []
    assert reasons(routes) == ["features:adapter"]
