"""Structured output and thinking on the real mistral.rs engine with the tiny random model.

The model writes noise; the grammar is what makes its answer follow the schema, so these
tests pass only if the schema really reaches the engine's constrained decoder.
"""

import json

import pytest
from pydantic import BaseModel, ConfigDict, Field

from botticelli_core import FinishReason, GenerateRequest, Message, ThinkingConfig, ToolCallInput, ToolDefinition
from botticelli_embedded import EmbeddedModel
from botticelli_embedded.convert import to_engine_request
from botticelli_error import BadRequestError, UnsupportedInputError


class Dial(BaseModel):
    # additionalProperties: false, or the grammar lets a small model add keys until max_tokens.
    model_config = ConfigDict(extra="forbid")

    ok: bool
    n: int = Field(ge=0, le=9)


def _schema_request(schema: object, *, prompt: str = "Give JSON.", temperature: float = 0.0) -> GenerateRequest:
    return GenerateRequest.from_prompt(prompt, max_tokens=40, temperature=temperature, output_schema=schema)


@pytest.mark.anyio
@pytest.mark.parametrize("attempt", range(3))
async def test_an_output_schema_constrains_the_engine_and_parses(model: EmbeddedModel, attempt: int) -> None:
    # Sampled, with a different prompt each time: three different answers, all valid.
    response = await model.generate(_schema_request(Dial, prompt=f"Give JSON #{attempt}.", temperature=1.0))
    assert response.finish_reason is FinishReason.STOP
    dial = response.parse(Dial)
    assert 0 <= dial.n <= 9


@pytest.mark.anyio
async def test_a_streamed_schema_answer_adds_up_to_valid_json(model: EmbeddedModel) -> None:
    async with model.generate_stream(_schema_request(Dial)) as stream:
        chunks = [chunk async for chunk in stream]
    assert chunks[-1].is_final
    assert Dial.model_validate_json("".join(c.text for c in chunks))


@pytest.mark.anyio
async def test_a_schema_without_compact_whitespace_runs_to_the_token_limit(model: EmbeddedModel) -> None:
    # Why botticelli adds x-guidance: with free whitespace the tiny model never closes the object.
    schema = {**Dial.model_json_schema(), "x-guidance": {"whitespace_flexible": True}}
    response = await model.generate(_schema_request(schema))
    assert response.finish_reason is FinishReason.LENGTH


@pytest.mark.anyio
async def test_a_schema_the_engine_cannot_compile_is_a_bad_request(model: EmbeddedModel) -> None:
    with pytest.raises(BadRequestError) as caught:
        await model.generate(_schema_request({"type": "nonsense"}))
    assert "Invalid grammar" in caught.value.message


@pytest.mark.anyio
@pytest.mark.parametrize(
    "thinking", [ThinkingConfig(effort="low"), ThinkingConfig(budget_tokens=0), ThinkingConfig(include_thoughts=True)]
)
async def test_thinking_switches_reach_the_engine(model: EmbeddedModel, thinking: ThinkingConfig) -> None:
    request = GenerateRequest.from_prompt("Hi", max_tokens=4, temperature=0.0, thinking=thinking)
    response = await model.generate(request)
    assert response.usage is not None
    assert response.usage.output_tokens == 4


@pytest.mark.parametrize(
    ("thinking", "options"),
    [
        (ThinkingConfig(effort="high"), {"reasoning_effort": "high"}),
        (ThinkingConfig(budget_tokens=0), {"enable_thinking": False}),
        (ThinkingConfig(), {"enable_thinking": True}),
    ],
)
def test_thinking_maps_to_the_engines_switch(thinking: ThinkingConfig, options: dict[str, object]) -> None:
    kwargs = to_engine_request(GenerateRequest.from_prompt("Hi", thinking=thinking))
    assert {k: kwargs[k] for k in options} == options


def test_a_schema_that_sets_its_own_guidance_is_sent_as_it_is() -> None:
    schema = {"type": "object", "x-guidance": {"whitespace_flexible": True}}
    assert json.loads(to_engine_request(_schema_request(schema))["grammar"]) == schema


@pytest.mark.parametrize(
    ("request_", "input_type"),
    [
        (GenerateRequest.from_prompt("Hi", thinking=ThinkingConfig(budget_tokens=512)), "thinking"),
        (GenerateRequest.from_prompt("Hi", tools=[ToolDefinition(name="now")]), "tools"),
        (
            GenerateRequest(
                messages=[Message.user("Hi"), Message(role="assistant", content=(ToolCallInput(id="c1", name="now"),))]
            ),
            "tools",
        ),
        (GenerateRequest.from_prompt("Hi", adapter="sql-lora"), "adapter"),
    ],
)
def test_what_the_engine_cannot_honour_is_refused_naming_it(request_: GenerateRequest, input_type: str) -> None:
    with pytest.raises(UnsupportedInputError) as caught:
        to_engine_request(request_)
    assert (caught.value.input_type, caught.value.provider) == (input_type, "embedded")
