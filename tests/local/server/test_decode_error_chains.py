"""A 2xx reply botticelli cannot read leaves nothing on the error's chain that shows the key (issue 23).

pydantic's and json's exceptions quote the input they refused. An error raised inside the
``except`` block that caught one keeps it as ``__context__``, ``from None`` or not, where a
debugger, a logging framework or a traceback printer of whole chains shows it. Each case is
a server on 127.0.0.1 that answers 200 with something that is not the wire format, with
the client's own key in it: the typed error must be all there is, scrubbed.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from pydantic import ValidationError

from botticelli_error import BotticelliError, ResponseDecodeError
from botticelli_server import ServerClient
from botticelli_server.convert import to_chat_request
from tests.local.error.chains import exception_chain, secret_leaks

from . import wire
from .support import REQUEST, Exchange, collect_text, loopback, make_client

pytestmark = pytest.mark.anyio

KEY = "sk-echoed-5b9e27c4d1f083"
# Short, so that even pydantic's error message, which shortens long inputs, would show it whole.
ECHO = f"bad key {KEY}"
JSON = "application/json"
SSE = wire.SSE["content-type"]

Call = Callable[[ServerClient], Awaitable[Any]]


async def generate(client: ServerClient) -> None:
    await client.generate(REQUEST)


async def stream(client: ServerClient) -> None:
    await collect_text(client)


async def wire_completion(client: ServerClient) -> None:
    await client.chat_completion(to_chat_request(REQUEST, default_model="default"))


async def wire_stream(client: ServerClient) -> None:
    async with client.chat_completion_stream(to_chat_request(REQUEST, default_model="default")) as chunks:
        _ = [chunk async for chunk in chunks]


async def embed(client: ServerClient) -> None:
    await client.embed(["hello"])


def event(data: str) -> bytes:
    return f"data: {data}\n\n".encode()


def finished_with_usage(usage: dict[str, Any]) -> bytes:
    last = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": usage}
    return wire.sse(wire.openai_chunk("Hel"), last)


# (call, content type, body): each a 200 whose body holds the key and is not what was asked for.
CASES: dict[str, tuple[Call, str, bytes]] = {
    "completion not JSON": (generate, JSON, ECHO.encode()),
    "completion JSON of the wrong shape": (generate, JSON, json.dumps({"choices": ECHO}).encode()),
    "completion JSON not an object": (generate, JSON, json.dumps([ECHO]).encode()),
    "stream event not JSON": (stream, SSE, event(ECHO)),
    "stream event JSON of the wrong shape": (stream, SSE, event(json.dumps({"choices": ECHO}))),
    "stream usage of the wrong shape": (stream, SSE, finished_with_usage({"prompt_tokens": ECHO})),
    "wire completion JSON of the wrong shape": (wire_completion, JSON, json.dumps({"choices": ECHO}).encode()),
    "wire stream event not JSON": (wire_stream, SSE, event(ECHO)),
    # The reader's view takes tool calls as they come; the full chunk model does not.
    "wire stream chunk of the wrong shape": (
        wire_stream,
        SSE,
        event(json.dumps({"choices": [{"index": 0, "delta": {"tool_calls": ECHO}}]})),
    ),
    "embeddings not JSON": (embed, JSON, ECHO.encode()),
    "embeddings JSON of the wrong shape": (embed, JSON, json.dumps({"data": ECHO}).encode()),
}


async def failure(call: Call, content_type: str, body: bytes) -> BotticelliError:
    """What ``call`` raises against a server answering every request with 200 and ``body``."""

    async def answer(exchange: Exchange) -> None:
        await exchange.start(content_type=content_type)
        await exchange.send(body)
        await exchange.end()

    async with loopback(answer) as server, make_client(server.url, api_key=KEY, max_retries=0) as client:
        with pytest.raises(BotticelliError) as caught:
            await call(client)
    return caught.value


@pytest.mark.parametrize(("call", "content_type", "body"), CASES.values(), ids=CASES.keys())
async def test_no_exception_on_the_chain_shows_the_echoed_key(call: Call, content_type: str, body: bytes) -> None:
    error = await failure(call, content_type, body)
    assert isinstance(error, ResponseDecodeError)
    assert secret_leaks(error, KEY) == []


@pytest.mark.parametrize(("call", "content_type", "body"), CASES.values(), ids=CASES.keys())
async def test_no_parser_exception_is_left_on_the_chain(call: Call, content_type: str, body: bytes) -> None:
    error = await failure(call, content_type, body)
    parsers = [e for e in exception_chain(error) if isinstance(e, ValidationError | json.JSONDecodeError)]
    assert parsers == []
    assert exception_chain(error) == [error]


@pytest.mark.parametrize(
    ("call", "content_type", "body"),
    [CASES["completion not JSON"], CASES["stream event not JSON"], CASES["embeddings JSON of the wrong shape"]],
    ids=["completion", "stream event", "embeddings"],
)
async def test_the_reply_is_kept_on_the_error_with_the_key_masked(call: Call, content_type: str, body: bytes) -> None:
    error = await failure(call, content_type, body)
    assert error.body is not None
    assert "bad key ***" in error.body
