"""ServerConfig.max_tokens: the bound sent for a request that sets none, on every path that sends one."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from botticelli_core import GenerateRequest, LoraAdapter

from . import wire
from .support import collect_text, make_client

pytestmark = pytest.mark.anyio

COMPLETION = {
    "object": "chat.completion",
    "model": "default",
    "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "hi"}}],
}


def sent(route: respx.Route) -> list[Any]:
    return [json.loads(call.request.content).get("max_tokens") for call in route.calls]


async def test_generate_and_streams_send_the_configured_bound_unless_the_request_sets_one() -> None:
    with respx.mock(using="httpx") as mock:
        whole = mock.post(wire.CHAT_URL).mock(
            side_effect=lambda request: (
                httpx.Response(200, headers=wire.SSE, content=wire.sse(*wire.OPENAI_STREAM))
                if json.loads(request.content).get("stream")
                else httpx.Response(200, json=COMPLETION)
            )
        )
        sql = LoraAdapter(name="sql", path="sql.gguf")
        async with make_client(max_tokens=300, dialect="llama.cpp", adapters=[sql]) as client:
            await client.generate(GenerateRequest.from_prompt("a"))
            await client.generate(GenerateRequest.from_prompt("b", max_tokens=7))
            await collect_text(client, GenerateRequest.from_prompt("c"))
            # An adapter's request is built through the wire model: the other path.
            await client.generate(GenerateRequest.from_prompt("d", adapter="sql"))
    assert sent(whole) == [300, 7, 300, 300]


async def test_without_a_configured_bound_nothing_is_sent() -> None:
    with respx.mock(using="httpx") as mock:
        route = mock.post(wire.CHAT_URL).respond(200, json=COMPLETION)
        async with make_client() as client:
            await client.generate(GenerateRequest.from_prompt("a"))
    assert sent(route) == [None]
