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
    StreamChunk,
    TextInput,
    TextOutput,
    Usage,
    VideoInput,
)
from botticelli_embedded.convert import (
    finish_reason,
    response_from_chunks,
    stream_chunk,
    to_engine_request,
    usage,
)
from botticelli_error import UnsupportedInputError

from ._fakes import FakeChoice, FakeChunk, FakeDelta, FakeUsage


def test_messages_keep_their_roles_and_order() -> None:
    request = GenerateRequest(
        messages=[Message.system("Be terse."), Message.user("Hi"), Message.assistant("Hello"), Message.user("Bye")]
    )
    assert to_engine_request(request)["messages"] == [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "Bye"},
    ]


def test_several_text_inputs_of_a_message_are_joined() -> None:
    request = GenerateRequest(messages=[Message.user([TextInput(text="one "), TextInput(text="two")])])
    assert to_engine_request(request)["messages"] == [{"role": "user", "content": "one two"}]


def test_sampling_parameters_are_passed_under_the_engines_names() -> None:
    request = GenerateRequest.from_prompt("Hi", max_tokens=9, temperature=0.0, top_p=0.5, stop=("a", "b"))
    kwargs = to_engine_request(request)
    assert kwargs["max_tokens"] == 9
    assert kwargs["temperature"] == 0.0
    assert kwargs["top_p"] == 0.5
    assert kwargs["stop_seqs"] == ["a", "b"]


def test_unset_parameters_are_left_to_the_engine() -> None:
    assert set(to_engine_request(GenerateRequest.from_prompt("Hi"))) == {"messages"}


_PNG = MediaSource.from_bytes(b"\x89PNG")


@pytest.mark.parametrize(
    ("media", "type_name"),
    [
        (ImageInput(mime="image/png", source=_PNG), "image"),
        (AudioInput(mime="audio/wav", source=_PNG), "audio"),
        (VideoInput(mime="video/mp4", source=_PNG), "video"),
        (DocumentInput(mime="application/pdf", source=_PNG), "document"),
    ],
)
def test_media_inputs_are_refused_naming_their_type(
    media: ImageInput | AudioInput | VideoInput | DocumentInput, type_name: str
) -> None:
    request = GenerateRequest(messages=[Message.user("ok"), Message.user([TextInput(text="see"), media])])
    with pytest.raises(UnsupportedInputError, match=f"message 1 holds a {type_name} input") as info:
        to_engine_request(request)
    assert info.value.input_type == type_name
    assert info.value.provider == "embedded"


@pytest.mark.parametrize(
    ("engine_value", "expected"),
    [
        ("stop", FinishReason.STOP),
        ("length", FinishReason.LENGTH),
        ("tool_calls", FinishReason.TOOL_USE),
        ("content_filter", FinishReason.CONTENT_FILTER),
        ("canceled", FinishReason.OTHER),
        ("", FinishReason.OTHER),
    ],
)
def test_finish_reasons_map_to_botticellis(engine_value: str, expected: FinishReason) -> None:
    assert finish_reason(engine_value) is expected


def test_usage_keeps_the_engines_counts() -> None:
    assert usage(FakeUsage(prompt_tokens=5, completion_tokens=2, total_tokens=7)) == Usage(
        input_tokens=5, output_tokens=2, total_tokens=7
    )


def test_a_chunk_with_text_becomes_a_non_final_chunk() -> None:
    chunk = stream_chunk(FakeChunk([FakeChoice(FakeDelta(content="ab", reasoning_content="hm"))]))
    assert chunk == StreamChunk(text="ab", reasoning="hm")


@pytest.mark.parametrize(
    "engine_chunk",
    [FakeChunk([FakeChoice(FakeDelta(content=""))]), FakeChunk([FakeChoice()]), FakeChunk([])],
)
def test_a_chunk_carrying_nothing_is_skipped(engine_chunk: FakeChunk) -> None:
    assert stream_chunk(engine_chunk) is None


def test_the_chunk_with_a_finish_reason_is_final_and_carries_the_usage() -> None:
    chunk = stream_chunk(FakeChunk([FakeChoice(FakeDelta(content="z"), "length")], usage=FakeUsage()))
    assert chunk == StreamChunk(
        text="z",
        is_final=True,
        finish_reason=FinishReason.LENGTH,
        usage=Usage(input_tokens=7, output_tokens=3, total_tokens=10),
    )


def test_a_final_chunk_without_text_or_usage_is_still_final() -> None:
    chunk = stream_chunk(FakeChunk([FakeChoice(finish_reason="stop")]))
    assert chunk is not None
    assert (chunk.is_final, chunk.finish_reason, chunk.usage, chunk.text) == (True, FinishReason.STOP, None, "")


def test_chunks_add_up_to_the_whole_response() -> None:
    final_usage = Usage(input_tokens=1, output_tokens=3)
    chunks = [
        StreamChunk(reasoning="think "),
        StreamChunk(text="a", reasoning="more"),
        StreamChunk(text="b"),
        StreamChunk(text="c", is_final=True, finish_reason=FinishReason.LENGTH, usage=final_usage),
    ]
    response = response_from_chunks(chunks, model="tiny")
    assert response.outputs == (ReasoningOutput(text="think more"), TextOutput(text="abc"))
    assert (response.finish_reason, response.usage, response.model) == (FinishReason.LENGTH, final_usage, "tiny")


def test_a_response_without_reasoning_has_only_text() -> None:
    response = response_from_chunks([StreamChunk(is_final=True, finish_reason=FinishReason.STOP)], model="m")
    assert response.outputs == (TextOutput(text=""),)


def test_chunks_without_a_final_one_are_no_response() -> None:
    with pytest.raises(ValueError, match="without a final chunk"):
        response_from_chunks([StreamChunk(text="a")], model="m")
