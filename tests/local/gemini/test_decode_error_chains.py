"""A 2xx reply from Gemini (or a proxy) that botticelli cannot read leaves no key on the error's chain.

The same cases as the local server's (tests/local/server/test_decode_error_chains.py): a
server on 127.0.0.1 that answers 200 with the client's own key in a body that is not the
wire format. No exception reachable from the error may show the key, and no parser's
exception may be there at all: pydantic's quotes the input it refused.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from pydantic import ValidationError

from botticelli_core import GenerateRequest
from botticelli_error import BotticelliError, ResponseDecodeError
from botticelli_gemini import GeminiClient, GeminiConfig
from tests.local.error.chains import exception_chain, secret_leaks
from tests.local.server.support import Exchange, loopback

from . import wire

pytestmark = pytest.mark.anyio

KEY = wire.API_KEY
# Short, so that even pydantic's error message, which shortens long inputs, would show it whole.
ECHO = f"bad key {KEY}"
JSON = "application/json"
SSE = "text/event-stream"
REQUEST = GenerateRequest.from_prompt("Hi", max_tokens=8)

Call = Callable[[GeminiClient], Awaitable[Any]]


async def generate(model: GeminiClient) -> None:
    await model.generate(REQUEST)


async def stream(model: GeminiClient) -> None:
    async with model.generate_stream(REQUEST) as chunks:
        _ = [chunk async for chunk in chunks]


async def count_tokens(model: GeminiClient) -> None:
    await model.count_tokens(REQUEST)


async def embed(model: GeminiClient) -> None:
    await model.embed(["hello"])


def event(data: str) -> bytes:
    return f"data: {data}\r\n\r\n".encode()


# Gemini reads usageMetadata once, when the stream has ended.
FINISHED_WITH_BAD_USAGE = wire.sse(
    wire.response(wire.text_candidate("Paris", finish="STOP"), meta={"promptTokenCount": ECHO})
)

# (call, content type, body): each a 200 whose body holds the key and is not what was asked for.
CASES: dict[str, tuple[Call, str, bytes]] = {
    "response not JSON": (generate, JSON, ECHO.encode()),
    "response JSON of the wrong shape": (generate, JSON, json.dumps({"candidates": ECHO}).encode()),
    "response JSON not an object": (generate, JSON, json.dumps([ECHO]).encode()),
    "stream event not JSON": (stream, SSE, event(ECHO)),
    "stream event JSON of the wrong shape": (stream, SSE, event(json.dumps({"candidates": ECHO}))),
    "stream usage of the wrong shape": (stream, SSE, FINISHED_WITH_BAD_USAGE),
    "countTokens JSON of the wrong shape": (count_tokens, JSON, json.dumps({"totalTokens": ECHO}).encode()),
    "embeddings not JSON": (embed, JSON, ECHO.encode()),
}


async def failure(call: Call, content_type: str, body: bytes) -> BotticelliError:
    """What ``call`` raises against a server answering every request with 200 and ``body``."""

    async def answer(exchange: Exchange) -> None:
        await exchange.start(content_type=content_type)
        await exchange.send(body)
        await exchange.end()

    async with loopback(answer) as server:
        config = GeminiConfig(api_key=KEY, base_url=server.url, max_retries=0)
        async with GeminiClient(config) as model:
            with pytest.raises(BotticelliError) as caught:
                await call(model)
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
    [
        CASES["response not JSON"],
        CASES["stream event JSON of the wrong shape"],
        CASES["stream usage of the wrong shape"],
    ],
    ids=["response", "stream event", "stream usage"],
)
async def test_the_reply_is_kept_on_the_error_with_the_key_masked(call: Call, content_type: str, body: bytes) -> None:
    error = await failure(call, content_type, body)
    assert error.body is not None
    assert "bad key ***" in error.body
