"""A caller's own httpx client, and httpx's own settings from the environment, under every HTTP backend."""

from __future__ import annotations

import json
import socket

import httpx
import pytest
from pydantic import SecretStr

from botticelli_core import GenerateRequest
from botticelli_error import TransportError
from botticelli_gemini import GeminiClient, GeminiConfig
from botticelli_server import ServerClient, ServerConfig

from .support import read_request, reply, serving

pytestmark = pytest.mark.anyio

COMPLETION = json.dumps(
    {
        "id": "c",
        "object": "chat.completion",
        "created": 0,
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
).encode()
GEMINI = json.dumps(
    {
        "candidates": [{"content": {"role": "model", "parts": [{"text": "hi"}]}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1, "totalTokenCount": 2},
    }
).encode()
REQUEST = GenerateRequest.from_prompt("hello")


def answering_with(body: bytes, heads: list[bytes]) -> object:
    def script(conn: socket.socket) -> None:
        while True:
            heads.append(read_request(conn).lower())
            conn.sendall(reply(body, headers=b"content-type: application/json\r\n"))

    return script


async def test_a_server_client_sends_through_the_callers_client_and_leaves_it_open() -> None:
    heads: list[bytes] = []
    seen: list[str] = []

    async def hook(request: httpx.Request) -> None:
        seen.append(str(request.url))

    with serving(answering_with(COMPLETION, heads)) as server:  # type: ignore[arg-type]
        mine = httpx.AsyncClient(headers={"x-tenant": "blue"}, event_hooks={"request": [hook]})
        config = ServerConfig(base_url=server.url, model="m", api_key=SecretStr("sk-local-key-123"), max_retries=0)
        async with ServerClient(config, http_client=mine) as model:
            assert (await model.generate(REQUEST)).text == "hi"
        assert not mine.is_closed
        await mine.aclose()
    assert seen == [f"{server.url}/v1/chat/completions"]
    assert b"x-tenant: blue" in heads[0]
    assert b"authorization: bearer sk-local-key-123" in heads[0]
    assert b"content-type: application/json" in heads[0]


async def test_a_gemini_client_sends_through_the_callers_client_with_the_key_in_its_header() -> None:
    heads: list[bytes] = []
    with serving(answering_with(GEMINI, heads)) as server:  # type: ignore[arg-type]
        mine = httpx.AsyncClient()
        config = GeminiConfig(api_key=SecretStr("AIza-test-key-456"), base_url=server.url, max_retries=0)
        async with GeminiClient(config, http_client=mine) as model:
            assert (await model.generate(REQUEST)).text == "hi"
        assert not mine.is_closed
        await mine.aclose()
    assert heads[0].startswith(b"post /v1beta/models/gemini-2.5-flash:generatecontent ")
    assert b"x-goog-api-key: aiza-test-key-456" in heads[0]


async def test_a_callers_mock_transport_answers_without_a_socket() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=COMPLETION, headers={"content-type": "application/json"})

    mine = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with ServerClient(ServerConfig(base_url="http://127.0.0.1:9", model="m"), http_client=mine) as model:
        assert (await model.generate(REQUEST)).text == "hi"
    await mine.aclose()


async def test_a_closed_callers_client_is_a_typed_error() -> None:
    mine = httpx.AsyncClient()
    await mine.aclose()
    async with ServerClient(ServerConfig(base_url="http://127.0.0.1:9", model="m"), http_client=mine) as model:
        with pytest.raises(TransportError, match="closed"):
            await model.generate(REQUEST)


async def test_a_proxy_from_the_environment_carries_the_request(monkeypatch: pytest.MonkeyPatch) -> None:
    heads: list[bytes] = []
    with serving(answering_with(COMPLETION, heads)) as proxy:  # type: ignore[arg-type]
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        config = ServerConfig(base_url="http://inference.test:8080", model="m", max_retries=0)
        async with ServerClient(config) as model:
            assert (await model.generate(REQUEST)).text == "hi"
    # A proxy is asked for the absolute URL: the request reached the proxy, not the host.
    assert heads[0].startswith(b"post http://inference.test:8080/v1/chat/completions http/1.1")
