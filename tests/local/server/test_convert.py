"""Between provider-neutral requests/responses and the OpenAI wire format."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

import pytest
from pydantic import TypeAdapter

from botticelli_core import (
    AudioInput,
    DocumentInput,
    FinishReason,
    GenerateRequest,
    ImageInput,
    MediaSource,
    Message,
    TextInput,
    VideoInput,
)
from botticelli_error import ResponseDecodeError, UnsupportedInputError
from botticelli_server import ChatCompletionResponse, from_chat_response, to_chat_request
from botticelli_server.convert import chunk_to_stream_chunk, finish_reason_from_wire
from botticelli_server.response import ChunkView

from . import wire

PNG = b"\x89PNG\r\n\x1a\n0000"


def body_of(request: GenerateRequest, **kwargs: Any) -> dict[str, object]:
    return json.loads(to_chat_request(request, default_model="cfg-model", **kwargs).to_json())  # type: ignore[no-any-return]


def test_the_request_model_wins_over_the_configured_model() -> None:
    assert body_of(GenerateRequest.from_prompt("hi", model="req-model"))["model"] == "req-model"
    assert body_of(GenerateRequest.from_prompt("hi"))["model"] == "cfg-model"


def test_unset_fields_are_omitted_from_the_json() -> None:
    assert body_of(GenerateRequest.from_prompt("hi")) == {
        "model": "cfg-model",
        "messages": [{"role": "user", "content": "hi"}],
    }


def test_sampling_fields_are_mapped() -> None:
    request = GenerateRequest.from_prompt(
        "hi", system="Be terse.", max_tokens=8, temperature=0.2, top_p=0.9, stop=("\n\n", "END"), seed=7
    )
    body = body_of(request)
    assert body["messages"] == [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "hi"}]
    assert (body["max_tokens"], body["temperature"], body["top_p"], body["stop"], body["seed"]) == (
        8,
        0.2,
        0.9,
        ["\n\n", "END"],
        7,
    )


def test_a_stream_request_asks_for_usage_unless_told_not_to() -> None:
    request = GenerateRequest.from_prompt("hi")
    assert body_of(request, stream=True)["stream_options"] == {"include_usage": True}
    assert "stream_options" not in body_of(request, stream=True, include_usage=False)


@pytest.mark.parametrize(
    ("source", "url"),
    [
        (MediaSource.from_bytes(PNG), "data:image/png;base64," + base64.b64encode(PNG).decode()),
        (
            MediaSource.from_base64(base64.b64encode(PNG).decode()),
            "data:image/png;base64," + base64.b64encode(PNG).decode(),
        ),
        (MediaSource.from_url("https://example.com/cat.png"), "https://example.com/cat.png"),
    ],
    ids=["bytes", "base64", "url"],
)
def test_images_become_image_url_parts(source: MediaSource, url: str) -> None:
    message = Message.user([TextInput(text="What is this?"), ImageInput(mime="image/png", source=source)])
    body = body_of(GenerateRequest(messages=[message]))
    assert body["messages"] == [
        {
            "role": "user",
            "content": [{"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": {"url": url}}],
        }
    ]


@pytest.mark.parametrize(
    ("media", "name"),
    [
        (AudioInput(mime="audio/wav", source=MediaSource.from_bytes(b"RIFF")), "audio"),
        (VideoInput(mime="video/mp4", source=MediaSource.from_url("https://example.com/v.mp4")), "video"),
        (DocumentInput(mime="application/pdf", source=MediaSource.from_bytes(b"%PDF")), "document"),
    ],
)
def test_media_the_wire_cannot_carry_is_refused_naming_its_type(
    media: AudioInput | VideoInput | DocumentInput, name: str
) -> None:
    request = GenerateRequest(messages=[Message.user([TextInput(text="listen"), media])])
    with pytest.raises(UnsupportedInputError) as caught:
        to_chat_request(request, default_model="m")
    assert caught.value.input_type == name
    assert name in str(caught.value)


def response(message: Mapping[str, object], **extra: object) -> ChatCompletionResponse:
    choice = {"index": 0, "message": message, "finish_reason": "stop"}
    return ChatCompletionResponse.model_validate({**wire.OPENAI_COMPLETION, "choices": [choice], **extra})


def test_text_and_reasoning_are_kept_apart() -> None:
    result = from_chat_response(response({"role": "assistant", "content": "42", "reasoning_content": "6 x 7"}))
    assert (result.text, result.reasoning) == ("42", "6 x 7")
    assert [o.type for o in result.outputs] == ["reasoning", "text"]


def test_ollama_style_reasoning_field_is_read_too() -> None:
    assert from_chat_response(response({"content": "ok", "reasoning": "hmm"})).reasoning == "hmm"


@pytest.mark.parametrize(
    ("arguments", "parsed", "raw"),
    [
        ('{"city": "Paris"}', {"city": "Paris"}, None),
        ({"city": "Paris"}, {"city": "Paris"}, None),
        ("city=Paris", None, "city=Paris"),
        ('["Paris"]', None, '["Paris"]'),
        ("", {}, None),
    ],
    ids=["json-string", "object", "not-json", "json-not-object", "empty"],
)
def test_tool_call_arguments_that_are_not_a_json_object_are_kept_raw(
    arguments: str | dict[str, str], parsed: dict[str, str] | None, raw: str | None
) -> None:
    result = from_chat_response(ChatCompletionResponse.model_validate(wire.openai_tool_completion(arguments)))
    (call,) = result.tool_calls
    assert (call.name, call.arguments, call.raw_arguments) == ("get_weather", parsed, raw)


def test_a_tool_call_without_id_gets_one_by_position() -> None:
    message = {"tool_calls": [{"function": {"name": "a"}}, {"function": {"name": "b", "arguments": "{}"}}]}
    assert [c.id for c in from_chat_response(response(message)).tool_calls] == ["call_0", "call_1"]


def test_usage_is_mapped_including_reasoning_tokens() -> None:
    usage = {
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "total_tokens": 15,
        "completion_tokens_details": {"reasoning_tokens": 3},
    }
    result = from_chat_response(response({"content": "x"}, usage=usage))
    assert result.usage is not None
    assert (result.usage.input_tokens, result.usage.output_tokens, result.usage.total_tokens) == (10, 5, 15)
    assert result.usage.reasoning_tokens == 3
    assert (result.model, result.response_id) == ("gpt-4o-2024-08-06", "chatcmpl-ABfvaueLEMLNYbT8YzpJxsmiQ6HSY")


def test_a_missing_total_is_computed() -> None:
    result = from_chat_response(response({"content": "x"}, usage={"prompt_tokens": 2, "completion_tokens": 3}))
    assert result.usage is not None
    assert result.usage.total_tokens == 5


@pytest.mark.parametrize("choices", [[], None, [{"index": 0, "finish_reason": "stop"}]])
def test_a_response_without_a_choice_or_message_is_a_decode_error(choices: object) -> None:
    with pytest.raises(ResponseDecodeError):
        from_chat_response(ChatCompletionResponse.model_validate({"choices": choices}))


@pytest.mark.parametrize(
    ("wire_reason", "reason"),
    [
        ("stop", FinishReason.STOP),
        ("length", FinishReason.LENGTH),
        ("tool_calls", FinishReason.TOOL_USE),
        ("function_call", FinishReason.TOOL_USE),
        ("content_filter", FinishReason.CONTENT_FILTER),
        ("abort", FinishReason.OTHER),
        ("sensitive", FinishReason.OTHER),
        (None, FinishReason.OTHER),
    ],
)
def test_finish_reasons_are_mapped_and_unknown_ones_become_other(wire_reason: str | None, reason: FinishReason) -> None:
    assert finish_reason_from_wire(wire_reason) is reason


def test_chunks_without_new_text_convert_to_nothing() -> None:
    for data in ('{"choices":[]}', '{"choices":null}', '{"choices":[{"delta":null}]}', '{"choices":[{"delta":{}}]}'):
        assert chunk_to_stream_chunk(TypeAdapter(ChunkView).validate_json(data)) is None
