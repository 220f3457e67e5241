"""The capability matrix, Gemini and embedded rows: what each honours works, the rest is a typed refusal.

Gemini runs against Google's documented wire shapes (respx); the embedded engine is the
real mistral.rs with the tiny random model. The local server's row lives with its backend.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import respx
from pydantic import BaseModel, ConfigDict, Field

from botticelli.hybrid import HybridModel
from botticelli.testing import write_tiny_gguf
from botticelli_core import FinishReason, GenerateRequest, ThinkingConfig, ToolDefinition
from botticelli_embedded import EmbeddedConfig, EmbeddedModel
from botticelli_error import UnsupportedInputError
from botticelli_gemini import GeminiClient, GeminiConfig
from botticelli_interface import ALL_FEATURES, Feature, GenerativeModel, SupportsFeatures

pytestmark = pytest.mark.anyio

MATRIX: dict[str, dict[Feature, bool]] = {
    "gemini": {"tools": True, "output_schema": True, "thinking": True, "adapter": False},
    "embedded": {"tools": False, "output_schema": True, "thinking": True, "adapter": False},
}
GEMINI_URL = "http://gemini.test/v1beta/models/gemini-2.5-flash:generateContent"


class Dial(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ok: bool
    n: int = Field(ge=0, le=9)


WEATHER = ToolDefinition(
    name="get_weather",
    description="Current weather in a city.",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
REQUESTS: dict[Feature, GenerateRequest] = {
    "tools": GenerateRequest.from_prompt("Weather in Paris?", tools=[WEATHER], tool_choice="get_weather"),
    "output_schema": GenerateRequest.from_prompt("Give JSON.", max_tokens=40, temperature=0.0, output_schema=Dial),
    "thinking": GenerateRequest.from_prompt(
        "Which is larger, 9.11 or 9.9?", max_tokens=8, thinking=ThinkingConfig(effort="low", include_thoughts=True)
    ),
    "adapter": GenerateRequest.from_prompt("Hi", max_tokens=8, adapter="sql-lora"),
}
# What Gemini answers each supported request with, as its documentation shows.
GEMINI_REPLIES: dict[Feature, dict[str, object]] = {
    "tools": {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [
                        {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "c2ln"}
                    ],
                },
                "finishReason": "STOP",
            }
        ],
        "usageMetadata": {"promptTokenCount": 20, "candidatesTokenCount": 5, "totalTokenCount": 25},
    },
    "output_schema": {
        "candidates": [
            {"content": {"role": "model", "parts": [{"text": '{"ok": true, "n": 4}'}]}, "finishReason": "STOP"}
        ],
        "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 9, "totalTokenCount": 14},
    },
    "thinking": {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [{"text": "Compare decimals.", "thought": True}, {"text": "9.9"}],
                },
                "finishReason": "STOP",
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 12,
            "candidatesTokenCount": 3,
            "thoughtsTokenCount": 40,
            "totalTokenCount": 55,
        },
    },
}


@pytest.fixture
def gemini_api() -> Iterator[respx.MockRouter]:
    with respx.mock(using="httpx", assert_all_mocked=True, assert_all_called=False) as router:
        yield router


@pytest.fixture
async def gemini() -> AsyncIterator[GeminiClient]:
    client = GeminiClient(GeminiConfig(api_key="AIza-contract-key", base_url="http://gemini.test", backoff_max=0.0))
    async with client:
        yield client


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_gguf(tmp_path_factory.mktemp("matrix") / "tiny.gguf", seed=0)


@pytest.fixture
async def embedded(tiny_model: Path) -> AsyncIterator[EmbeddedModel]:
    async with EmbeddedModel(EmbeddedConfig(model_path=tiny_model)) as model:
        yield model


def cells(provider: str, *, supported: bool) -> list[Feature]:
    return [feature for feature, ok in MATRIX[provider].items() if ok is supported]


@pytest.mark.parametrize("provider", sorted(MATRIX))
def test_the_matrix_covers_every_feature(provider: str) -> None:
    assert set(MATRIX[provider]) == ALL_FEATURES


async def test_each_backend_declares_its_row(gemini: GeminiClient, embedded: EmbeddedModel) -> None:
    for model in (gemini, embedded):
        assert isinstance(model, SupportsFeatures)
        assert model.supported_features == set(cells(model.provider_name, supported=True))


async def _refused(model: GenerativeModel, feature: Feature) -> UnsupportedInputError:
    with pytest.raises(UnsupportedInputError) as caught:
        await model.generate(REQUESTS[feature])
    with pytest.raises(UnsupportedInputError):
        model.generate_stream(REQUESTS[feature])
    return caught.value


@pytest.mark.parametrize("feature", cells("gemini", supported=False))
async def test_gemini_refuses_what_it_lacks_before_sending(
    gemini: GeminiClient, gemini_api: respx.MockRouter, feature: Feature
) -> None:
    route = gemini_api.post(GEMINI_URL)
    error = await _refused(gemini, feature)
    assert (error.input_type, error.provider) == (feature, "gemini")
    assert route.call_count == 0


@pytest.mark.parametrize("feature", cells("embedded", supported=False))
async def test_embedded_refuses_what_it_lacks(embedded: EmbeddedModel, feature: Feature) -> None:
    error = await _refused(embedded, feature)
    assert (error.input_type, error.provider) == (feature, "embedded")


@pytest.mark.parametrize("feature", cells("gemini", supported=True))
async def test_gemini_honours_its_features(
    gemini: GeminiClient, gemini_api: respx.MockRouter, feature: Feature
) -> None:
    gemini_api.post(GEMINI_URL).mock(return_value=httpx.Response(200, json=GEMINI_REPLIES[feature]))
    response = await gemini.generate(REQUESTS[feature])
    if feature == "tools":
        assert response.finish_reason is FinishReason.TOOL_USE
        assert [(c.name, c.arguments, c.signature) for c in response.tool_calls] == [
            ("get_weather", {"city": "Paris"}, "c2ln")
        ]
    elif feature == "output_schema":
        assert response.parse(Dial) == Dial(ok=True, n=4)
    else:
        assert response.reasoning == "Compare decimals."
        assert response.usage is not None
        assert response.usage.reasoning_tokens == 40


@pytest.mark.parametrize("feature", cells("embedded", supported=True))
async def test_the_embedded_engine_honours_its_features(embedded: EmbeddedModel, feature: Feature) -> None:
    response = await embedded.generate(REQUESTS[feature])
    if feature == "output_schema":
        assert response.finish_reason is FinishReason.STOP
        assert 0 <= response.parse(Dial).n <= 9
    else:
        # The tiny model has no thinking template: the switch is accepted and it answers.
        assert response.usage is not None
        assert response.usage.output_tokens == 8


async def test_a_hybrid_over_both_sends_each_request_where_its_features_are_honoured(
    gemini: GeminiClient, gemini_api: respx.MockRouter, embedded: EmbeddedModel
) -> None:
    route = gemini_api.post(GEMINI_URL).mock(return_value=httpx.Response(200, json=GEMINI_REPLIES["tools"]))
    hybrid = HybridModel(embedded, gemini)
    assert hybrid.supported_features == {"tools", "output_schema", "thinking"}
    # A schema: both honour it, so the cheap request stays on the embedded engine.
    assert 0 <= (await hybrid.generate(REQUESTS["output_schema"])).parse(Dial).n <= 9
    assert route.call_count == 0
    # Tools: only Gemini has them.
    assert (await hybrid.generate(REQUESTS["tools"])).tool_calls[0].name == "get_weather"
    assert route.call_count == 1
    # An adapter: neither has one, and nothing is sent.
    with pytest.raises(UnsupportedInputError) as caught:
        await hybrid.generate(REQUESTS["adapter"])
    assert (caught.value.input_type, route.call_count) == ("adapter", 1)
