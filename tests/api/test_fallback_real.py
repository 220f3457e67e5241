"""FallbackModel against a real llama.cpp server: a dead first member is passed over, for calls and streams."""

from __future__ import annotations

import pytest

from botticelli.routing import FallbackModel
from botticelli_core import GenerateRequest
from botticelli_error import AllModelsFailedError, TransportError
from botticelli_server import ServerClient, ServerConfig
from botticelli_server.launcher import find_free_port

pytestmark = [pytest.mark.api, pytest.mark.anyio]

PROMPT = GenerateRequest.from_prompt("Say hello.", max_tokens=8, temperature=0.0)


def dead(config: ServerConfig) -> ServerClient:
    """A client of a port nobody listens on, for the same model."""
    port = find_free_port("127.0.0.1")
    return ServerClient(config.model_copy(update={"base_url": f"http://127.0.0.1:{port}", "max_retries": 0}))


async def test_a_dead_first_member_is_passed_over_for_the_real_server(server_config: ServerConfig) -> None:
    async with FallbackModel(dead(server_config), ServerClient(server_config)) as chain:
        response = await chain.generate(PROMPT)
        async with chain.generate_stream(PROMPT) as stream:
            streamed = "".join([chunk.text async for chunk in stream])
        stats = list(chain.stats().values())
    assert response.text
    assert streamed
    assert (stats[0].failures, stats[1].successes) == (2, 2)


async def test_every_member_dead_names_each_error(server_config: ServerConfig) -> None:
    async with FallbackModel(dead(server_config), dead(server_config)) as chain:
        with pytest.raises(AllModelsFailedError) as raised:
            await chain.generate(PROMPT)
    assert len(raised.value.errors) == 2
    assert all(isinstance(error, TransportError) for error in raised.value.errors.values())
