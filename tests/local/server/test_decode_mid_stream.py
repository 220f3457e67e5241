"""An undecodable event after some text raises ``ResponseDecodeError`` holding that text."""

from __future__ import annotations

import pytest
import respx

from botticelli_error import ResponseDecodeError
from botticelli_interface import ChunkStream

from . import wire
from .support import REQUEST, make_client

pytestmark = pytest.mark.anyio

GOOD = (wire.openai_chunk("", role="assistant"), wire.openai_chunk("Hel"), wire.openai_chunk("lo"))
UNDECODABLE = {
    "not a chunk": wire.sse(*GOOD, {"choices": "none"}, done=False),
    "not JSON": wire.sse(*GOOD, "data: {oops\n\n", done=False),
    "a line over the cap": wire.sse(*GOOD, "data: " + "x" * 5000 + "\n\n", done=False),
    "a bad usage report": wire.sse(
        *GOOD,
        wire.openai_chunk(finish="stop"),
        {**wire.openai_usage_chunk(1, 2), "usage": {"prompt_tokens": -1, "completion_tokens": "many"}},
    ),
}


async def drain(stream: ChunkStream, into: list[str]) -> None:
    """Read ``stream`` to its end, keeping each chunk's text as it arrives."""
    async with stream:
        async for chunk in stream:
            into.append(chunk.text)


@pytest.mark.parametrize("body", UNDECODABLE.values(), ids=UNDECODABLE.keys())
async def test_generate_stream_keeps_the_text_delivered_before_an_undecodable_event(body: bytes) -> None:
    received: list[str] = []
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=body)
        async with make_client(max_retries=0, max_sse_line_chars=4096) as client:
            with pytest.raises(ResponseDecodeError) as caught:
                await drain(client.generate_stream(REQUEST), received)
    assert "".join(received) == "Hello"
    assert caught.value.partial_text == "Hello"


async def test_an_undecodable_reply_before_any_text_has_no_partial_text() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=wire.sse("data: [1, 2]\n\n", done=False))
        async with make_client(max_retries=0) as client:
            with pytest.raises(ResponseDecodeError) as caught:
                async with client.generate_stream(REQUEST) as stream:
                    _ = [chunk async for chunk in stream]
    assert caught.value.partial_text == ""
