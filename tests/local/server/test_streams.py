"""Streams end properly or raise, and every way of leaving one releases its connection."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import anyio
import httpx
import pytest
import respx

from botticelli_core import FinishReason, StreamChunk
from botticelli_error import ResponseDecodeError, ServerUnavailableError, StreamInterruptedError
from botticelli_server import ChatCompletionChunk, ChatCompletionRequest, ChatMessage, ServerClient

from . import wire
from .support import REQUEST, Exchange, collect_text, established_to, loopback, make_client, socket_released

pytestmark = pytest.mark.anyio

WIRE_REQUEST = ChatCompletionRequest(model="default", messages=[ChatMessage(role="user", content="hi")])


async def stream_body(body: bytes, **headers: str) -> tuple[str, list[StreamChunk]]:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, headers=headers or wire.SSE, content=body)
        async with make_client(max_retries=0) as client:
            return await collect_text(client)


async def test_the_final_chunk_carries_finish_reason_and_usage_sent_after_the_finish_chunk() -> None:
    _text, chunks = await stream_body(wire.sse(*wire.OPENAI_STREAM))
    final = chunks[-1]
    assert (final.text, final.is_final, final.finish_reason) == ("", True, FinishReason.STOP)
    assert final.usage is not None
    assert (final.usage.input_tokens, final.usage.output_tokens) == (14, 30)
    assert [c.is_final for c in chunks].count(True) == 1


async def test_done_is_optional_when_a_finish_reason_arrived() -> None:
    text, chunks = await stream_body(wire.sse(wire.openai_chunk("Hi"), wire.openai_chunk(finish="stop"), done=False))
    assert text == "Hi"
    assert chunks[-1].finish_reason is FinishReason.STOP


async def test_done_without_a_finish_reason_still_ends_the_stream_properly() -> None:
    _, chunks = await stream_body(wire.sse(wire.openai_chunk("Hi")))
    assert chunks[-1].is_final
    assert chunks[-1].finish_reason is FinishReason.OTHER


async def test_events_after_done_are_ignored() -> None:
    text, _ = await stream_body(wire.sse(wire.openai_chunk("Hi")) + wire.sse(wire.openai_chunk("late"), done=False))
    assert text == "Hi"


async def test_eof_between_events_without_finish_reason_or_done_is_an_interruption_not_a_partial_success() -> None:
    with pytest.raises(StreamInterruptedError) as caught:
        await stream_body(wire.sse(wire.openai_chunk("Hel"), wire.openai_chunk("lo"), done=False))
    assert caught.value.partial_text == "Hello"


async def test_eof_inside_an_event_is_an_error_not_a_partial_success() -> None:
    body = b'data: {"choices":[{"delta":{"content":"Hel"}}]}\n\ndata: {"choices":[{"delta":{"content":"lo"}}'
    with pytest.raises((StreamInterruptedError, ResponseDecodeError)):
        await stream_body(body)


async def test_eof_between_events_is_a_retryable_interruption() -> None:
    with pytest.raises(StreamInterruptedError) as caught:
        await stream_body(wire.sse(wire.openai_chunk("Hel"), done=False))
    assert caught.value.retryable is True
    assert caught.value.partial_text == "Hel"


async def test_an_empty_body_is_an_interruption() -> None:
    with pytest.raises(StreamInterruptedError):
        await stream_body(b"")


async def test_an_event_that_is_not_a_chunk_is_a_decode_error() -> None:
    with pytest.raises(ResponseDecodeError):
        await stream_body(wire.sse(wire.openai_chunk("Hi"), "data: not json\n\n"))


async def test_an_event_stream_under_a_wrong_content_type_is_still_decoded() -> None:
    text, _ = await stream_body(wire.sse(*wire.OPENAI_STREAM), **{"content-type": "text/plain"})
    assert text == "I'm here."


async def test_a_json_error_body_under_200_is_a_typed_error_not_an_sse_parse_failure() -> None:
    body = json.dumps({"error": {"message": "model is loading", "code": 503}}).encode()
    with pytest.raises(ServerUnavailableError) as caught:
        await stream_body(body, **{"content-type": "application/json"})
    assert caught.value.server_message == "model is loading"


async def test_an_error_named_event_is_an_interruption() -> None:
    body = wire.sse(wire.openai_chunk("Hi"), 'event: error\ndata: {"message":"overloaded"}\n\n')
    with pytest.raises(StreamInterruptedError) as caught:
        await stream_body(body)
    assert caught.value.server_message == "overloaded"


async def test_a_bare_message_object_mid_stream_is_an_interruption() -> None:
    body = wire.sse(wire.openai_chunk("Hi"), 'data: {"message": "worker died", "choices": 3}\n\n')
    with pytest.raises(StreamInterruptedError) as caught:
        await stream_body(body)
    assert caught.value.server_message == "worker died"


async def test_the_wire_level_stream_yields_chunks_and_consumes_done() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=wire.sse(*wire.OPENAI_STREAM))
        async with make_client() as client, client.chat_completion_stream(WIRE_REQUEST) as stream:
            chunks = [c async for c in stream]
    assert len(chunks) == len(wire.OPENAI_STREAM)
    assert all(isinstance(c, ChatCompletionChunk) for c in chunks)
    sent = json.loads(route.calls.last.request.content)
    assert (sent["stream"], sent["stream_options"]) == (True, {"include_usage": True})


async def test_the_wire_level_stream_keeps_a_usage_chunk_that_follows_the_finish_chunk() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=wire.sse(*wire.OPENAI_STREAM))
        async with make_client() as client, client.chat_completion_stream(WIRE_REQUEST) as stream:
            chunks = [c async for c in stream]
    finish, usage = chunks[-2:]
    assert finish.choices is not None
    assert finish.choices[0].finish_reason == "stop"
    assert usage.choices == []
    assert usage.usage is not None
    assert (usage.usage.prompt_tokens, usage.usage.completion_tokens, usage.usage.total_tokens) == (14, 30, 44)


class Pieces(httpx.AsyncByteStream):
    """A body that arrives in exactly these pieces, one read each."""

    def __init__(self, *pieces: bytes) -> None:
        self.pieces = pieces

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            yield piece


async def test_a_crlf_split_between_two_reads_of_the_body_is_one_line_ending() -> None:
    # One event of two data lines: its data is JSON only if they are joined by one "\n". Were the
    # CR and the LF two line endings, the blank line between them would end a half-object event.
    first = b'data: {"choices": [{"delta": {"content": "Hi"}, "finish_reason": "stop"}],\r'
    second = b'\ndata: "model": "tiny"}\r\n\r\ndata: [DONE]\r\n\r\n'
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        body = Pieces(first, second)
        mock.post(wire.CHAT_URL).mock(return_value=httpx.Response(200, headers=wire.SSE, stream=body))
        async with make_client(max_retries=0) as client:
            text, chunks = await collect_text(client)
    assert text == "Hi"
    assert chunks[-1].finish_reason is FinishReason.STOP


async def test_the_wire_level_stream_raises_on_a_cut_short_stream() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=wire.sse(wire.openai_chunk("x"), done=False))
        async with make_client() as client:
            with pytest.raises(StreamInterruptedError):
                async with client.chat_completion_stream(WIRE_REQUEST) as stream:
                    _ = [c async for c in stream]


async def test_the_wire_level_stream_omits_stream_options_when_include_usage_is_off() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=wire.sse(*wire.OPENAI_STREAM))
        async with make_client(include_usage=False) as client:
            async with client.chat_completion_stream(WIRE_REQUEST) as stream:
                _ = [c async for c in stream]
            async with client.generate_stream(REQUEST) as stream2:
                _ = [c async for c in stream2]
    for call in route.calls:
        sent = json.loads(call.request.content)
        assert sent["stream"] is True
        assert "stream_options" not in sent


async def test_nothing_is_sent_before_the_stream_is_iterated() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True, assert_all_called=False) as mock:
        route = mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=wire.sse(*wire.OPENAI_STREAM))
        async with make_client() as client, client.generate_stream(REQUEST):
            pass
    assert route.call_count == 0


# -- releasing the connection --------------------------------------------------------------------


class Tracked(httpx.AsyncByteStream):
    """An endless event stream that records whether it was closed."""

    def __init__(self) -> None:
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(10_000):
            yield wire.sse(wire.openai_chunk("tick"), done=False)

    async def aclose(self) -> None:
        self.closed = True


async def test_breaking_out_of_the_loop_inside_async_with_closes_the_response() -> None:
    body = Tracked()
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).mock(return_value=httpx.Response(200, headers=wire.SSE, stream=body))
        async with make_client() as client:
            async with client.generate_stream(REQUEST) as stream:
                async for _chunk in stream:
                    break
                assert not body.closed
            assert body.closed


async def test_aclose_twice_is_safe_and_closes_the_response() -> None:
    body = Tracked()
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).mock(return_value=httpx.Response(200, headers=wire.SSE, stream=body))
        async with make_client() as client:
            stream = client.generate_stream(REQUEST)
            first = await stream.__anext__()
            await stream.aclose()
            await stream.aclose()
    assert first.text == "tick"
    assert body.closed
    with pytest.raises(StopAsyncIteration):
        await stream.__anext__()


async def test_leaving_async_with_early_on_an_exception_closes_the_response() -> None:
    body = Tracked()

    async def read_one_then_fail(client: ServerClient) -> None:
        async with client.generate_stream(REQUEST) as stream:
            await stream.__anext__()
            raise KeyError("caller bug")

    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).mock(return_value=httpx.Response(200, headers=wire.SSE, stream=body))
        async with make_client() as client:
            with pytest.raises(KeyError):
                await read_one_then_fail(client)
    assert body.closed


async def endless_ticks(exchange: Exchange) -> None:
    await exchange.start()
    while True:
        await exchange.send(wire.sse(wire.openai_chunk("tick"), done=False))
        await asyncio.sleep(0.005)


async def test_breaking_out_of_the_loop_closes_the_socket() -> None:
    async with loopback(endless_ticks) as server, make_client(server.url) as client:
        async with client.generate_stream(REQUEST) as stream:
            async for _chunk in stream:
                break
        await socket_released(server)


async def test_cancelling_the_consuming_task_closes_the_socket() -> None:
    received = anyio.Event()

    async with loopback(endless_ticks) as server, make_client(server.url) as client:

        async def consume() -> None:
            async with client.generate_stream(REQUEST) as stream:
                async for _chunk in stream:
                    received.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(consume)
            await received.wait()
            tg.cancel_scope.cancel()
        await socket_released(server)


async def test_a_finished_stream_returns_its_connection_to_the_pool_for_reuse() -> None:
    async def finite(exchange: Exchange) -> None:
        await exchange.start()
        await exchange.send(wire.sse(*wire.OPENAI_STREAM))
        await exchange.end()

    async with loopback(finite) as server, make_client(server.url, stream_idle_timeout=2) as client:
        for _ in range(2):
            text, _ = await collect_text(client)
            assert text == "I'm here."
        assert established_to(server.url) == 1
    assert server.requests == 2
