"""A key Gemini (or a proxy in front of it) echoes never reaches an error, whichever path builds it."""

from __future__ import annotations

import httpx
import pytest
import respx

from botticelli_core import GenerateRequest
from botticelli_error import BotticelliError, ResponseDecodeError, StreamInterruptedError, TransportError
from botticelli_gemini import GeminiClient, GeminiConfig

from . import wire

pytestmark = pytest.mark.anyio

KEY = wire.API_KEY
ECHO = f"API key not valid: {KEY}"
REQUEST = GenerateRequest.from_prompt("Hi", max_tokens=8)


def client(**overrides: object) -> GeminiClient:
    settings: dict[str, object] = {"api_key": KEY, "base_url": wire.BASE_URL, "max_retries": 0, **overrides}
    return GeminiClient(GeminiConfig(**settings))


def leaks(err: BotticelliError) -> list[str]:
    fields = {
        "str": str(err),
        "repr": repr(err),
        "args": repr(err.args),
        "message": err.message,
        "server_message": err.server_message or "",
        "body": err.body or "",
        "error_type": err.error_type or "",
    }
    return [name for name, text in fields.items() if KEY[:8] in text]


async def stream_text(model: GeminiClient) -> str:
    async with model.generate_stream(REQUEST) as stream:
        return "".join([chunk.text async for chunk in stream])


def error_event(message: str) -> dict[str, object]:
    return {"error": {"code": 500, "message": message, "status": "INTERNAL"}}


STREAMS = {
    "error event before text": wire.sse(error_event(ECHO)),
    "error event after text": wire.sse(wire.STREAM_EVENTS[0], error_event(ECHO)),
    "named error event": wire.sse(wire.STREAM_EVENTS[0]) + f"event: error\r\ndata: {ECHO}\r\n\r\n".encode(),
    "undecodable event": wire.sse(wire.STREAM_EVENTS[0]) + b'data: {"candidates": "' + ECHO.encode() + b'"}\r\n\r\n',
    "block reason echoing the key": wire.sse({"promptFeedback": {"blockReason": ECHO}}),
}


@pytest.mark.parametrize("body", STREAMS.values(), ids=STREAMS.keys())
async def test_a_key_echoed_inside_a_stream_is_scrubbed(body: bytes) -> None:
    with respx.mock(using="httpx", base_url=wire.BASE_URL, assert_all_mocked=True) as api:
        api.post(wire.STREAM_PATH).mock(
            return_value=httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)
        )
        async with client() as model:
            with pytest.raises(BotticelliError) as caught:
                await stream_text(model)
    assert leaks(caught.value) == []


async def test_a_key_echoed_in_a_2xx_body_is_scrubbed() -> None:
    with respx.mock(using="httpx", base_url=wire.BASE_URL, assert_all_mocked=True) as api:
        api.post(wire.GENERATE_PATH).respond(200, json={"candidates": ECHO})
        async with client() as model:
            with pytest.raises(ResponseDecodeError) as caught:
                await model.generate(REQUEST)
    assert leaks(caught.value) == []


async def test_a_200_page_answering_a_stream_is_scrubbed_and_not_retried() -> None:
    with respx.mock(using="httpx", base_url=wire.BASE_URL, assert_all_mocked=True) as api:
        route = api.post(wire.STREAM_PATH).respond(
            200, text=f"<html>{ECHO}</html>", headers={"content-type": "text/html"}
        )
        async with client(max_retries=2) as model:
            with pytest.raises(ResponseDecodeError) as caught:
                await stream_text(model)
    assert leaks(caught.value) == []
    assert route.call_count == 1


async def test_a_key_echoed_in_a_stream_error_status_is_scrubbed() -> None:
    # The error event's machine-readable status is the server's words too.
    body = wire.sse({"error": {"code": 400, "message": "bad", "status": KEY}})
    with respx.mock(using="httpx", base_url=wire.BASE_URL, assert_all_mocked=True) as api:
        api.post(wire.STREAM_PATH).respond(200, content=body, headers={"content-type": "text/event-stream"})
        async with client() as model:
            with pytest.raises(StreamInterruptedError) as caught:
                await stream_text(model)
    assert leaks(caught.value) == []


async def test_a_password_in_the_base_url_shows_in_no_error_or_repr() -> None:
    url = "http://relay:relay-pass-42@gemini-relay.test"
    with respx.mock(using="httpx", assert_all_mocked=True) as api:
        api.post(f"{url}{wire.GENERATE_PATH}").mock(side_effect=httpx.ConnectError(f"refused by {url}"))
        async with client(base_url=url) as model:
            assert "relay-pass-42" not in repr(model)
            with pytest.raises(TransportError) as caught:
                await model.generate(REQUEST)
    assert "relay-pass-42" not in str(caught.value)
    assert "relay-pass-42" not in repr(caught.value)
