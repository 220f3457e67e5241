"""A stream is iterated without wrapper coroutines, and gives its items in order whichever way it is read."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import pytest
import respx

from botticelli_interface import ManagedStream
from botticelli_transport import HttpSettings, HttpTransport, ServerSentEvent

from . import wire

pytestmark = pytest.mark.anyio

BODY = wire.sse(wire.openai_chunk("Hi"), wire.openai_chunk(" there"), wire.openai_chunk(finish="stop"))


class _Reader:
    @staticmethod
    def decode(reader: _Reader, event: ServerSentEvent) -> bytes | None:
        return None if event.data == b"[DONE]" else event.data


def _transport() -> HttpTransport:
    return HttpTransport(HttpSettings(provider="local", base_url=wire.BASE_URL, max_retries=0))


async def test_stepping_a_stream_by_hand_gives_the_first_item_once_then_the_rest() -> None:
    transport = _transport()
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=BODY)
        async with transport.stream("/v1/chat/completions", content=b"{}", reader=_Reader, decode=_Reader.decode) as s:
            first = await s.__anext__()
            rest = [item async for item in s]
    await transport.aclose()
    assert b'"Hi"' in first
    assert len(rest) == 2
    assert b'" there"' in rest[0]


async def test_async_for_and_stepping_by_hand_see_the_same_items() -> None:
    transport = _transport()
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=BODY)
        async with transport.stream("/v1/chat/completions", content=b"{}", reader=_Reader, decode=_Reader.decode) as s:
            looped = [item async for item in s]
        async with transport.stream("/v1/chat/completions", content=b"{}", reader=_Reader, decode=_Reader.decode) as s:
            stepped = []
            while True:
                try:
                    stepped.append(await s.__anext__())
                except StopAsyncIteration:
                    break
    await transport.aclose()
    assert looped == stepped
    assert len(looped) == 3


async def test_a_stream_read_to_its_end_has_released_its_response_before_the_block_ends() -> None:
    transport = _transport()
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=BODY)
        async with transport.stream("/v1/chat/completions", content=b"{}", reader=_Reader, decode=_Reader.decode) as s:
            items = [item async for item in s]
            assert s._response.is_closed  # the connection went back before the consumer left the block
    await transport.aclose()
    assert len(items) == 3


async def test_a_managed_stream_iterates_its_generator_and_steps_by_hand_too() -> None:
    async def numbers() -> AsyncGenerator[int, None]:
        for n in range(3):
            yield n

    async with ManagedStream(numbers()) as stream:
        assert await stream.__anext__() == 0
        assert [n async for n in stream] == [1, 2]
        with pytest.raises(StopAsyncIteration):
            await stream.__anext__()
