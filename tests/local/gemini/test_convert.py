import base64
import json
from typing import Any

import pytest

from botticelli_core import (
    AudioInput,
    DocumentInput,
    FinishReason,
    GenerateRequest,
    ImageInput,
    MediaSource,
    Message,
    ReasoningOutput,
    TextInput,
    TextOutput,
    ToolCallOutput,
    VideoInput,
)
from botticelli_error import ContentBlockedError, ResponseDecodeError, UnsupportedInputError
from botticelli_gemini.convert import finish_reason, to_model_info, to_response, to_usage, to_wire_request
from botticelli_gemini.request import dump_request
from botticelli_gemini.response import WireModel, parse_generate_response

from . import wire

LIMIT = 20_000_000
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(40))


def body_of(request: GenerateRequest, limit: int = LIMIT) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(dump_request(to_wire_request(request, max_request_bytes=limit)))
    return body


class TestRequestMapping:
    def test_roles_map_user_to_user_and_assistant_to_model(self) -> None:
        request = GenerateRequest(
            messages=[Message.user("Hi"), Message.assistant("Hello!"), Message.user("Capital of France?")]
        )
        assert body_of(request) == {
            "contents": [
                {"role": "user", "parts": [{"text": "Hi"}]},
                {"role": "model", "parts": [{"text": "Hello!"}]},
                {"role": "user", "parts": [{"text": "Capital of France?"}]},
            ]
        }

    def test_system_messages_become_one_system_instruction_without_role(self) -> None:
        request = GenerateRequest(
            messages=[Message.system("Be terse."), Message.user("Hi"), Message.system("Answer in French.")]
        )
        body = body_of(request)
        assert body["systemInstruction"] == {"parts": [{"text": "Be terse."}, {"text": "Answer in French."}]}
        assert body["contents"] == [{"role": "user", "parts": [{"text": "Hi"}]}]

    def test_parameters_go_to_generation_config_in_camel_case(self) -> None:
        request = GenerateRequest.from_prompt(
            "Hi", max_tokens=10, temperature=0.2, top_p=0.9, stop=("\n\n", "END"), seed=7
        )
        assert body_of(request)["generationConfig"] == {
            "maxOutputTokens": 10,
            "temperature": 0.2,
            "topP": 0.9,
            "stopSequences": ["\n\n", "END"],
            "seed": 7,
        }

    def test_unset_parameters_are_left_out_entirely(self) -> None:
        assert "generationConfig" not in body_of(GenerateRequest.from_prompt("Hi"))
        assert body_of(GenerateRequest.from_prompt("Hi", temperature=0.0))["generationConfig"] == {"temperature": 0.0}

    def test_multimodal_inline_and_by_reference_parts_field_by_field(self) -> None:
        wav_b64 = base64.b64encode(b"RIFF....WAVEfmt ").decode()
        request = GenerateRequest(
            messages=[
                Message.user(
                    [
                        TextInput(text="Describe these."),
                        ImageInput(mime="image/png", source=MediaSource.from_bytes(PNG)),
                        AudioInput(mime="audio/wav", source=MediaSource.from_base64(wav_b64)),
                        VideoInput(mime="video/mp4", source=MediaSource.from_url("gs://bucket/clip.mp4")),
                        DocumentInput(
                            mime="application/pdf",
                            source=MediaSource.from_url(
                                "https://generativelanguage.googleapis.com/v1beta/files/abc123"
                            ),
                        ),
                    ]
                )
            ]
        )
        parts = body_of(request)["contents"][0]["parts"]
        assert parts == [
            {"text": "Describe these."},
            {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(PNG).decode()}},
            {"inlineData": {"mimeType": "audio/wav", "data": wav_b64}},
            {"fileData": {"mimeType": "video/mp4", "fileUri": "gs://bucket/clip.mp4"}},
            {
                "fileData": {
                    "mimeType": "application/pdf",
                    "fileUri": "https://generativelanguage.googleapis.com/v1beta/files/abc123",
                }
            },
        ]
        assert base64.b64decode(parts[1]["inlineData"]["data"]) == PNG

    def test_inline_media_over_the_request_limit_is_refused_naming_its_type(self) -> None:
        video = VideoInput(mime="video/mp4", source=MediaSource.from_bytes(b"\0" * 1500))
        request = GenerateRequest(messages=[Message.user([TextInput(text="What happens?"), video])])
        with pytest.raises(UnsupportedInputError) as caught:
            to_wire_request(request, max_request_bytes=1000)
        assert caught.value.input_type == "video"
        assert "1,000" in caught.value.message
        assert caught.value.provider == "gemini"

    def test_media_by_url_does_not_count_towards_the_inline_limit(self) -> None:
        video = VideoInput(mime="video/mp4", source=MediaSource.from_url("gs://bucket/huge.mp4"))
        request = GenerateRequest(messages=[Message.user([TextInput(text="What happens?"), video])])
        assert to_wire_request(request, max_request_bytes=100).contents[0].parts[1].file_data is not None

    def test_the_limit_counts_all_inline_inputs_together(self) -> None:
        images = [ImageInput(mime="image/png", source=MediaSource.from_bytes(b"\0" * 300)) for _ in range(3)]
        request = GenerateRequest(messages=[Message.user(images)])
        to_wire_request(request, max_request_bytes=1200)
        with pytest.raises(UnsupportedInputError):
            to_wire_request(request, max_request_bytes=1100)

    def test_media_in_a_system_message_is_refused(self) -> None:
        image = ImageInput(mime="image/png", source=MediaSource.from_bytes(PNG))
        request = GenerateRequest(messages=[Message.system([image]), Message.user("Hi")])
        with pytest.raises(UnsupportedInputError) as caught:
            to_wire_request(request, max_request_bytes=LIMIT)
        assert caught.value.input_type == "image"

    def test_a_request_of_only_system_messages_is_refused(self) -> None:
        with pytest.raises(UnsupportedInputError, match="at least one user or assistant message"):
            to_wire_request(GenerateRequest(messages=[Message.system("Be terse.")]), max_request_bytes=LIMIT)


class TestResponseMapping:
    def test_text_parts_are_joined_with_usage_and_ids(self) -> None:
        response = to_response(parse_generate_response(wire.dumps(wire.GENERATE_OK)), request_id="r-1")
        assert response.outputs == (TextOutput(text="Paris is the capital of France."),)
        assert response.finish_reason is FinishReason.STOP
        assert response.usage is not None
        assert (response.usage.input_tokens, response.usage.output_tokens, response.usage.total_tokens) == (
            8,
            7,
            15,
        )
        assert response.model == "gemini-2.5-flash"
        assert response.response_id == "mOd8abGuO5rgz7IP5tLEGA"

    def test_thought_parts_are_reasoning_kept_apart_from_the_answer(self) -> None:
        response = to_response(parse_generate_response(wire.dumps(wire.THINKING)))
        assert response.outputs == (
            ReasoningOutput(text="The user asks for a capital. France -> Paris."),
            TextOutput(text="Paris."),
        )
        assert response.text == "Paris."
        assert response.usage is not None
        assert response.usage.reasoning_tokens == 31
        assert response.usage.total_tokens == 8 + 2 + 31

    def test_function_calls_become_tool_calls_with_unique_generated_ids(self) -> None:
        response = to_response(parse_generate_response(wire.dumps(wire.TOOL_CALLS)))
        calls = response.tool_calls
        assert [(c.name, c.arguments) for c in calls] == [
            ("get_weather", {"city": "Paris"}),
            ("get_weather", {"city": "Lyon"}),
        ]
        assert all(isinstance(c, ToolCallOutput) and c.id.startswith("call_") for c in calls)
        assert calls[0].id != calls[1].id
        assert response.finish_reason is FinishReason.TOOL_USE

    def test_usage_totals_are_kept_as_the_api_reports_them(self) -> None:
        response = to_response(parse_generate_response(wire.dumps(wire.TOOL_CALLS)))
        assert response.usage is not None
        assert (response.usage.output_tokens, response.usage.reasoning_tokens, response.usage.total_tokens) == (
            30,
            190,
            303,
        )

    def test_a_blocked_prompt_raises_content_blocked_with_the_reason(self) -> None:
        with pytest.raises(ContentBlockedError) as caught:
            to_response(parse_generate_response(wire.dumps(wire.BLOCKED_PROMPT)), request_id="r-9")
        assert caught.value.reason == "SAFETY"
        assert caught.value.request_id == "r-9"
        assert caught.value.retryable is False

    def test_a_block_reason_message_is_kept(self) -> None:
        body = {"promptFeedback": {"blockReason": "OTHER", "blockReasonMessage": "Prompt was blocked."}}
        with pytest.raises(ContentBlockedError) as caught:
            to_response(parse_generate_response(wire.dumps(body)))
        assert caught.value.reason == "OTHER"
        assert caught.value.server_message == "Prompt was blocked."

    def test_a_safety_finish_is_content_filter_with_no_text(self) -> None:
        response = to_response(parse_generate_response(wire.dumps(wire.SAFETY_FINISH)))
        assert response.finish_reason is FinishReason.CONTENT_FILTER
        assert response.outputs == ()

    def test_an_empty_content_with_malformed_function_call_is_other(self) -> None:
        response = to_response(parse_generate_response(wire.dumps(wire.MALFORMED_FUNCTION_CALL)))
        assert response.finish_reason is FinishReason.OTHER
        assert response.outputs == ()

    def test_no_candidates_and_no_block_reason_is_a_decode_error(self) -> None:
        with pytest.raises(ResponseDecodeError, match="no candidate"):
            to_response(parse_generate_response(b'{"usageMetadata": {"promptTokenCount": 3}}'))


@pytest.mark.parametrize(
    ("gemini", "expected"),
    [
        ("STOP", FinishReason.STOP),
        ("MAX_TOKENS", FinishReason.LENGTH),
        ("SAFETY", FinishReason.CONTENT_FILTER),
        ("RECITATION", FinishReason.CONTENT_FILTER),
        ("BLOCKLIST", FinishReason.CONTENT_FILTER),
        ("PROHIBITED_CONTENT", FinishReason.CONTENT_FILTER),
        ("SPII", FinishReason.CONTENT_FILTER),
        ("IMAGE_SAFETY", FinishReason.CONTENT_FILTER),
        ("MALFORMED_FUNCTION_CALL", FinishReason.OTHER),
        ("LANGUAGE", FinishReason.OTHER),
        ("OTHER", FinishReason.OTHER),
        ("FINISH_REASON_UNSPECIFIED", FinishReason.OTHER),
        ("SOMETHING_NEW_IN_2027", FinishReason.OTHER),
    ],
)
def test_finish_reasons_map_as_documented(gemini: str, expected: FinishReason) -> None:
    assert finish_reason(gemini) is expected


def test_usage_without_a_total_is_summed_including_thoughts() -> None:
    meta = parse_generate_response(
        b'{"usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 2, "thoughtsTokenCount": 5}}'
    ).usage_metadata
    assert meta is not None
    assert to_usage(meta).total_tokens == 11


def test_model_entries_drop_the_models_prefix_and_keep_the_rest() -> None:
    info = to_model_info(WireModel.model_validate(wire.MODEL_ENTRY))
    assert info.id == "gemini-2.5-flash"
    assert info.context_length == 1048576
    assert info.details["output_token_limit"] == 65536
    assert "generateContent" in info.details["supported_generation_methods"]
