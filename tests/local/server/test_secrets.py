"""A key the server echoes never reaches an error, whichever path builds it (issue: secrets in every error).

Each case is a server that repeats the client's own key somewhere: in an error event
before or after text, under ``event: error``, in an unframed error line, in an event
that is not JSON, in a 2xx body, or in a 200 HTML page answering a stream request.
"""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import AsyncIterator

import httpx
import pytest
import respx

from botticelli_error import (
    BotticelliError,
    ResponseDecodeError,
    ServerUnavailableError,
    StreamInterruptedError,
    TransportError,
    scrub,
)
from botticelli_server import InferenceServer
from botticelli_server.convert import to_chat_request
from tests.local.error.chains import exception_chain

from . import wire
from .support import REQUEST, collect_text, make_client

pytestmark = pytest.mark.anyio

KEY = "sk-echoed-7d41c0f9b2e6a8"
ECHO = f"invalid api key {KEY} (Bearer {KEY})"


def leaks(err: BotticelliError, secret: str = KEY) -> list[str]:
    """The places of ``err`` that still show ``secret`` (or its first eight characters)."""
    fields = {
        "str": str(err),
        "repr": repr(err),
        "args": repr(err.args),
        "message": err.message,
        "server_message": err.server_message or "",
        "body": err.body or "",
        "error_type": err.error_type or "",
    }
    return [name for name, text in fields.items() if secret[:8] in text]


def stream_reply(body: bytes) -> httpx.Response:
    return httpx.Response(200, headers=wire.SSE, content=body)


STREAMS = {
    "error event before text": wire.sse({"error": {"message": ECHO, "type": "server_error"}}, done=False),
    "error event after text": wire.sse(
        wire.openai_chunk("Hel"), {"error": {"message": ECHO, "type": "server_error"}}, done=False
    ),
    "named error event": wire.sse(wire.openai_chunk("Hel"), f"event: error\ndata: {ECHO}\n\n", done=False),
    "unframed error line": wire.sse(wire.openai_chunk("Hel"), done=False)
    + json.dumps({"error": {"message": ECHO, "type": "api_error"}}).encode()
    + b"\n",
    "undecodable event": wire.sse(wire.openai_chunk("Hel"), f"data: not json {ECHO}\n\n", done=False),
    "undecodable event cut mid-key": wire.sse(f"data: {'x' * 190} {KEY}\n\n", done=False),
}


@pytest.mark.parametrize("body", STREAMS.values(), ids=STREAMS.keys())
async def test_a_key_echoed_inside_a_stream_is_scrubbed(body: bytes) -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).mock(return_value=stream_reply(body))
        async with make_client(api_key=KEY, max_retries=0) as client:
            with pytest.raises((StreamInterruptedError, ResponseDecodeError)) as caught:
                await collect_text(client)
    assert leaks(caught.value) == []


async def test_a_key_echoed_in_a_wire_level_stream_is_scrubbed() -> None:
    body = wire.sse(wire.openai_chunk("Hel"), {"error": {"message": ECHO}}, done=False)
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).mock(return_value=stream_reply(body))
        async with make_client(api_key=KEY, max_retries=0) as client:
            with pytest.raises(StreamInterruptedError) as caught:
                async with client.chat_completion_stream(to_chat_request(REQUEST, default_model="default")) as stream:
                    _ = [chunk async for chunk in stream]
    assert leaks(caught.value) == []


async def test_a_key_echoed_in_a_2xx_body_is_scrubbed() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, json={"object": "chat.completion", "choices": ECHO})
        async with make_client(api_key=KEY) as client:
            with pytest.raises(ResponseDecodeError) as caught:
                await client.generate(REQUEST)
    assert leaks(caught.value) == []


async def test_a_200_html_page_answering_a_stream_is_scrubbed_and_sent_once() -> None:
    page = f"<html><body>Sign in again: {KEY}</body></html>"
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).respond(200, text=page, headers={"content-type": "text/html"})
        async with make_client(api_key=KEY) as client:
            with pytest.raises(ResponseDecodeError) as caught:
                await collect_text(client)
    assert leaks(caught.value) == []
    assert caught.value.retryable is False
    assert route.call_count == 1


async def test_a_password_in_the_base_url_shows_in_no_error_or_repr() -> None:
    url = "http://botticelli:hunter2-pw@inference.test"
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(f"{url}/v1/chat/completions").mock(side_effect=httpx.ConnectError("connection refused"))
        async with make_client(base_url=url, max_retries=0) as client:
            assert "hunter2-pw" not in repr(client)
            with pytest.raises(TransportError) as caught:
                await client.generate(REQUEST)
    assert "hunter2-pw" not in str(caught.value)
    assert "hunter2-pw" not in repr(caught.value)
    assert "botticelli:***@inference.test" in str(caught.value)


async def test_a_closed_and_collected_client_stops_scrubbing_its_key() -> None:
    key = "sk-short-lived-0b8e5c3a91"
    async with make_client(api_key=key) as client:
        assert scrub(key) == "***"
    del client
    gc.collect()
    assert scrub(key) == key


async def test_an_inference_server_printing_its_own_key_does_not_leak_it() -> None:
    script = "import os, sys; print('args:', *sys.argv[1:]); print('key', os.environ['K'], flush=True); sys.exit(3)"
    server = InferenceServer(
        [sys.executable, "-c", script, "--api-key", "sk-argv-key-93b1d7", "--hf-token=hf_argv_token_55", "{port}"],
        env={"K": "sk-param-key-4e2a90"},
        api_key="sk-param-key-4e2a90",
    )
    with pytest.raises(ServerUnavailableError) as caught:
        await server.start()
    err = caught.value
    assert "args:" in (err.body or "")  # the output tail is there...
    for secret in ("sk-argv-key-93b1d7", "hf_argv_token_55", "sk-param-key-4e2a90"):
        assert leaks(err, secret) == []  # ...without any of the keys


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("cut")],
    ids=lambda f: type(f).__name__,
)
async def test_no_httpx_exception_stays_on_the_chain_of_a_transport_error(failure: Exception) -> None:
    # httpx's exception holds its request, and the request holds the Authorization header.
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).mock(side_effect=failure)
        async with make_client(max_retries=0, api_key=KEY) as client:
            with pytest.raises(BotticelliError) as caught:
                await client.generate(REQUEST)
    assert not [e for e in exception_chain(caught.value) if isinstance(e, httpx.HTTPError)]


async def test_no_httpx_exception_stays_on_the_chain_of_a_broken_stream() -> None:
    class Broken(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield wire.sse(wire.openai_chunk("Hi"), done=False)
            raise httpx.ReadError("connection reset")

    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, stream=Broken())
        async with make_client(max_retries=0, api_key=KEY) as client:
            with pytest.raises(BotticelliError) as caught:
                await collect_text(client)
    assert not [e for e in exception_chain(caught.value) if isinstance(e, httpx.HTTPError)]
