"""The provider-neutral data model: validation errors, media sources, finish reasons, usage."""

from __future__ import annotations

import pytest

from botticelli_core import (
    FinishReason,
    GenerateRequest,
    GenerateResponse,
    ImageInput,
    MediaSource,
    Message,
    ReasoningOutput,
    Role,
    StreamChunk,
    TextInput,
    TextOutput,
    ToolCallOutput,
    Usage,
)
from botticelli_error import ConfigurationError, ErrorKind


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: GenerateRequest(messages=[]), "messages"),
        (lambda: GenerateRequest.from_prompt("hi", max_tokens=0), "max_tokens"),
        (lambda: GenerateRequest.from_prompt("hi", temperature=3.0), "temperature"),
        (lambda: GenerateRequest.from_prompt("hi", top_p=0.0), "top_p"),
        (lambda: GenerateRequest.from_prompt("hi", stop=("",)), "stop"),
        (lambda: GenerateRequest.from_prompt("hi", colour="red"), "colour"),
        (lambda: Message(role="robot", content=[TextInput(text="x")]), "role"),
        (lambda: ImageInput(mime="png", source=MediaSource.from_url("u")), "mime"),
        (lambda: Usage(input_tokens=-1, output_tokens=0), "input_tokens"),
    ],
)
def test_invalid_data_is_a_configuration_error_naming_the_field(build: object, field: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        build()  # type: ignore[operator]
    assert field in str(caught.value)
    assert caught.value.kind is ErrorKind.CONFIGURATION
    assert caught.value.retryable is False


def test_a_long_bad_value_is_shortened_in_the_message() -> None:
    with pytest.raises(ConfigurationError) as caught:
        GenerateRequest.from_prompt("hi", model=123456789 * 10**80)
    assert "..." in str(caught.value)


def test_models_are_frozen() -> None:
    request = GenerateRequest.from_prompt("hi")
    with pytest.raises(ValueError, match="frozen"):
        request.max_tokens = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    "kwargs", [{}, {"url": "https://x", "data": b"x"}, {"base64": "not base64!"}], ids=["none", "two", "bad-base64"]
)
def test_a_media_source_needs_exactly_one_valid_source(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError, match="MediaSource"):
        MediaSource(**kwargs)


def test_media_sources_convert_between_bytes_and_base64() -> None:
    raw = MediaSource.from_bytes(b"GIF89a")
    assert (raw.kind, raw.to_base64(), raw.inline_size()) == ("bytes", "R0lGODlh", 8)
    b64 = MediaSource.from_base64("R0lGODlh")
    assert (b64.kind, b64.to_bytes(), b64.inline_size()) == ("base64", b"GIF89a", 8)
    assert "R0lGODlh" not in repr(b64)


def test_a_url_media_source_has_no_inline_content() -> None:
    url = MediaSource.from_url("https://example.com/a.png")
    assert (url.kind, url.inline_size()) == ("url", 0)
    assert repr(url) == "MediaSource(url='https://example.com/a.png')"
    with pytest.raises(ValueError, match="URL"):
        url.to_base64()
    with pytest.raises(ValueError, match="URL"):
        url.to_bytes()


def test_messages_are_built_from_strings_or_inputs() -> None:
    system = Message.system("Be terse.")
    user = Message.user(
        [TextInput(text="a"), ImageInput(mime="image/png", source=MediaSource.from_bytes(b"x")), TextInput(text="b")]
    )
    assistant = Message.assistant("ok")
    assert [m.role for m in (system, user, assistant)] == [Role.SYSTEM, Role.USER, Role.ASSISTANT]
    assert user.text == "ab"


def test_from_prompt_puts_the_system_instruction_first() -> None:
    request = GenerateRequest.from_prompt("hi", system="Be terse.", seed=3)
    assert [m.role for m in request.messages] == [Role.SYSTEM, Role.USER]
    assert request.seed == 3


@pytest.mark.parametrize("value", ["eos", "abort", "error", "guardrail_intervened", "sensitive", ""])
def test_unknown_finish_reasons_become_other(value: str) -> None:
    assert FinishReason(value) is FinishReason.OTHER


def test_usage_total_is_computed_when_missing_and_kept_when_given() -> None:
    assert Usage(input_tokens=3, output_tokens=4, reasoning_tokens=5).total_tokens == 12
    assert Usage(input_tokens=3, output_tokens=4, total_tokens=100).total_tokens == 100


def test_a_response_separates_text_reasoning_and_tool_calls() -> None:
    call = ToolCallOutput(id="c1", name="f", arguments={"x": 1})
    response = GenerateResponse(
        outputs=[ReasoningOutput(text="think"), TextOutput(text="a"), call, TextOutput(text="b")],
        finish_reason="tool_use",
    )
    assert (response.text, response.reasoning, response.tool_calls) == ("ab", "think", (call,))
    assert GenerateResponse(finish_reason="stop").reasoning == ""


def test_a_delta_chunk_equals_a_validated_one() -> None:
    assert StreamChunk.delta("Hel", "hm") == StreamChunk(text="Hel", reasoning="hm")
    assert StreamChunk.delta("x").model_dump() == StreamChunk(text="x").model_dump()


def test_copying_a_delta_chunk_with_changes_leaves_other_deltas_as_they_were() -> None:
    first, second = StreamChunk.delta("a"), StreamChunk.delta("b")
    changed = first.model_copy(update={"is_final": True})
    assert changed.model_fields_set == {"text", "reasoning", "is_final"}
    assert first.model_fields_set == second.model_fields_set == StreamChunk(text="a", reasoning="").model_fields_set
    assert StreamChunk.delta("c").model_dump(exclude_unset=True) == {"text": "c", "reasoning": ""}
