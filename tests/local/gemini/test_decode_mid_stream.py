"""An undecodable event after some text raises ``ResponseDecodeError`` holding that text."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import respx

from botticelli_core import GenerateRequest
from botticelli_error import ResponseDecodeError
from botticelli_gemini import GeminiClient, GeminiConfig
from botticelli_interface import ChunkStream

from . import wire

pytestmark = pytest.mark.anyio

GOOD = [wire.response(wire.text_candidate("Hel")), wire.response(wire.text_candidate("lo"))]
UNDECODABLE = {
    "not the wire format": wire.sse(*GOOD, {"candidates": "none"}),
    "not JSON": wire.sse(*GOOD) + b"data: {oops\r\n\r\n",
    "a line over the cap": wire.sse(*GOOD) + b"data: " + b"x" * 5000 + b"\r\n\r\n",
    "a bad usage report": wire.sse(
        *GOOD, wire.response(wire.text_candidate("", finish="STOP"), meta={"promptTokenCount": -3})
    ),
}


async def drain(stream: ChunkStream, into: list[str]) -> None:
    """Read ``stream`` to its end, keeping each chunk's text as it arrives."""
    async with stream:
        async for chunk in stream:
            into.append(chunk.text)


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(using="httpx", base_url=wire.BASE_URL, assert_all_mocked=True) as router:
        yield router


@pytest.mark.parametrize("body", UNDECODABLE.values(), ids=UNDECODABLE.keys())
async def test_a_stream_keeps_the_text_delivered_before_an_undecodable_event(
    api: respx.MockRouter, body: bytes
) -> None:
    api.post(wire.STREAM_PATH).mock(
        return_value=httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)
    )
    received: list[str] = []
    config = GeminiConfig(api_key=wire.API_KEY, base_url=wire.BASE_URL, max_retries=0, max_sse_line_chars=4096)
    async with GeminiClient(config) as client:
        with pytest.raises(ResponseDecodeError) as caught:
            await drain(client.generate_stream(GenerateRequest.from_prompt("Hi")), received)
    assert "".join(received) == "Hello"
    assert caught.value.partial_text == "Hello"
