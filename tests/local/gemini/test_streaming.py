import pytest

from botticelli_core import FinishReason
from botticelli_error import ContentBlockedError, ResponseDecodeError, StreamInterruptedError
from botticelli_gemini.streaming import GeminiStreamDecoder
from botticelli_transport import ServerSentEvent, SSEDecoder

from . import wire


def events_of(body: bytes) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    return decoder.feed(body) + decoder.flush()


def run(body: bytes) -> tuple[GeminiStreamDecoder, list[str]]:
    decoder = GeminiStreamDecoder()
    texts = [chunk.text for e in events_of(body) if (chunk := decoder.decode(e)) is not None]
    return decoder, texts


def test_a_crlf_stream_without_done_yields_text_then_a_final_chunk() -> None:
    decoder, texts = run(wire.sse(*wire.STREAM_EVENTS))
    assert texts == ["The", " capital of France", " is Paris.\n"]
    final = decoder.finish()
    assert final.is_final
    assert final.finish_reason is FinishReason.STOP
    assert final.text == ""


def test_usage_repeated_on_every_chunk_keeps_the_last_value() -> None:
    decoder, _ = run(wire.sse(*wire.STREAM_EVENTS))
    usage = decoder.finish().usage
    assert usage is not None
    # The last event revises even the prompt count (15 -> 13): it wins, nothing is summed.
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (13, 8, 21)


def test_thought_parts_stream_as_reasoning_apart_from_text() -> None:
    events = [
        wire.response(wire.text_candidate("Thinking about France.", thought=True)),
        wire.response(wire.text_candidate("Paris.", finish="STOP"), meta=wire.usage(5, 2, thoughts=9)),
    ]
    decoder = GeminiStreamDecoder()
    chunks = [c for e in events_of(wire.sse(*events)) if (c := decoder.decode(e)) is not None]
    assert [(c.reasoning, c.text) for c in chunks] == [("Thinking about France.", ""), ("", "Paris.")]
    usage = decoder.finish().usage
    assert usage is not None
    assert usage.reasoning_tokens == 9
    assert decoder.text == "Paris."


def test_an_end_without_finish_reason_is_an_interruption_carrying_the_partial_text() -> None:
    decoder, _ = run(wire.sse(*wire.STREAM_EVENTS[:2]))
    with pytest.raises(StreamInterruptedError) as caught:
        decoder.finish()
    assert caught.value.partial_text == "The capital of France"
    assert caught.value.retryable is True


def test_an_error_event_mid_stream_raises_with_the_servers_message_and_status() -> None:
    decoder = GeminiStreamDecoder()
    events = events_of(wire.sse(wire.STREAM_EVENTS[0], wire.MID_STREAM_ERROR))
    assert decoder.decode(events[0]) is not None
    with pytest.raises(StreamInterruptedError) as caught:
        decoder.decode(events[1])
    err = caught.value
    assert (err.server_message, err.status_code, err.error_type, err.retryable) == ("Error", 500, "INTERNAL", True)
    assert err.partial_text == "The"


def test_a_named_error_event_is_an_interruption_too() -> None:
    with pytest.raises(StreamInterruptedError):
        GeminiStreamDecoder().decode(ServerSentEvent(b"{}", event="error"))


def test_a_blocked_prompt_in_a_stream_raises_content_blocked() -> None:
    with pytest.raises(ContentBlockedError) as caught:
        run(wire.sse(wire.BLOCKED_PROMPT))
    assert caught.value.reason == "SAFETY"


def test_a_safety_finish_mid_answer_ends_with_content_filter() -> None:
    events = [
        wire.response(wire.text_candidate("Here is how")),
        {"candidates": [{"finishReason": "SAFETY", "index": 0, "safetyRatings": wire.SAFETY_RATINGS}]},
    ]
    decoder, texts = run(wire.sse(*events))
    assert texts == ["Here is how"]
    assert decoder.finish().finish_reason is FinishReason.CONTENT_FILTER


def test_function_calls_in_a_stream_are_collected_and_finish_as_tool_use() -> None:
    decoder, texts = run(wire.sse(wire.TOOL_CALLS))
    assert texts == [""]
    assert [c.arguments for c in decoder.tool_calls] == [{"city": "Paris"}, {"city": "Lyon"}]
    assert decoder.finish().finish_reason is FinishReason.TOOL_USE


def test_usage_only_events_produce_no_chunk() -> None:
    decoder = GeminiStreamDecoder()
    assert decoder.decode(ServerSentEvent(b'{"usageMetadata": {"promptTokenCount": 3}}')) is None
    assert decoder.usage is not None


def test_bytes_split_anywhere_decode_to_the_same_chunks() -> None:
    body = wire.sse(*wire.STREAM_EVENTS)
    for size in (1, 2, 3, 7, 64):
        sse = SSEDecoder()
        decoder = GeminiStreamDecoder()
        texts = []
        for start in range(0, len(body), size):
            for event in sse.feed(body[start : start + size]):
                if (chunk := decoder.decode(event)) is not None:
                    texts.append(chunk.text)
        assert "".join(texts) == "The capital of France is Paris.\n", size
        assert decoder.finish().finish_reason is FinishReason.STOP


def test_an_event_that_is_not_json_is_a_decode_error() -> None:
    with pytest.raises(ResponseDecodeError):
        GeminiStreamDecoder().decode(ServerSentEvent(b"not json"))


def test_malformed_usage_is_a_decode_error_when_the_stream_ends() -> None:
    decoder = GeminiStreamDecoder()
    event = wire.response(wire.text_candidate("Hi", finish="STOP"), meta={"promptTokenCount": -3})
    assert decoder.decode(ServerSentEvent(wire.dumps(event))) is not None
    with pytest.raises(ResponseDecodeError, match="usageMetadata"):
        decoder.finish()


def test_only_the_last_usage_is_validated_so_a_revised_bad_one_is_no_error() -> None:
    decoder = GeminiStreamDecoder()
    decoder.decode(ServerSentEvent(b'{"usageMetadata": {"promptTokenCount": -3}}'))
    decoder.decode(ServerSentEvent(b'{"usageMetadata": {"promptTokenCount": 4, "totalTokenCount": 6}}'))
    decoder.decode(ServerSentEvent(b'{"usageMetadata": null}'))  # says nothing: the last report stands
    usage = decoder.usage
    assert usage is not None
    assert (usage.input_tokens, usage.total_tokens) == (4, 6)


@pytest.mark.parametrize("value", [b"5", b'"many"', b"[1, 2]", b"true"])
def test_usage_that_is_not_an_object_is_a_decode_error_at_its_event(value: bytes) -> None:
    decoder = GeminiStreamDecoder()
    with pytest.raises(ResponseDecodeError):
        decoder.decode(ServerSentEvent(b'{"usageMetadata": ' + value + b"}"))


def test_a_null_parts_list_or_missing_content_gives_no_chunk() -> None:
    decoder = GeminiStreamDecoder()
    assert decoder.decode(ServerSentEvent(b'{"candidates": [{"content": {"parts": null}}]}')) is None
    assert decoder.decode(ServerSentEvent(b'{"candidates": [{"finishReason": "MAX_TOKENS"}]}')) is None
    assert decoder.finish().finish_reason is FinishReason.LENGTH
