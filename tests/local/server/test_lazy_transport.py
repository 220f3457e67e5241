"""A client builds its connection pool on first use, and a closed client stays closed."""

from __future__ import annotations

import pytest
import respx

from botticelli_error import TransportError
from botticelli_server import ServerClient, ServerConfig

from . import wire
from .support import REQUEST

pytestmark = pytest.mark.anyio

BASE = wire.BASE_URL


async def test_a_client_closed_before_any_call_refuses_calls() -> None:
    client = ServerClient(ServerConfig(base_url=BASE, model="m"))
    await client.aclose()
    with pytest.raises(TransportError, match="closed") as caught:
        await client.generate(REQUEST)
    assert caught.value.retryable is False


async def test_the_first_call_builds_the_pool_and_later_calls_reuse_it() -> None:
    client = ServerClient(ServerConfig(base_url=BASE, model="m"))
    assert "_transport" not in vars(client)
    with respx.mock(using="httpx") as router:
        router.post(wire.CHAT_URL).respond(200, json=wire.OPENAI_COMPLETION)
        async with client:
            await client.generate(REQUEST)
            first = vars(client)["_transport"]
            await client.generate(REQUEST)
            assert vars(client)["_transport"] is first
