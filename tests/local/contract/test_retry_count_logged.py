"""The ``botticelli.request`` event of a call that failed after retries counts those retries.

It once said ``retries=0`` right after two ``botticelli.retry`` events: the count lived on the
reply, and a call that never got a good reply had none to read it from.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx
import pytest
import respx

from botticelli_core import GenerateRequest
from botticelli_error import BotticelliError
from botticelli_gemini import GeminiClient, GeminiConfig
from botticelli_interface import GenerativeModel
from botticelli_server import ServerClient, ServerConfig
from tests.local.gemini import wire as gemini_wire
from tests.local.server import wire as server_wire

pytestmark = pytest.mark.anyio

Client = ServerClient | GeminiClient
MAX_RETRIES = 2
REQUEST = GenerateRequest.from_prompt("Hi", max_tokens=8)
SSE = {"content-type": "text/event-stream"}


def local() -> tuple[Client, str, str]:
    config = ServerConfig(base_url=server_wire.BASE_URL, model="default", max_retries=MAX_RETRIES)
    return ServerClient(config), server_wire.CHAT_URL, server_wire.CHAT_URL


def gemini() -> tuple[Client, str, str]:
    config = GeminiConfig(api_key=gemini_wire.API_KEY, base_url=gemini_wire.BASE_URL, max_retries=MAX_RETRIES)
    base = gemini_wire.BASE_URL
    return GeminiClient(config), base + gemini_wire.GENERATE_PATH, base + gemini_wire.STREAM_PATH


BACKENDS: dict[str, Callable[[], tuple[Client, str, str]]] = {"local": local, "gemini": gemini}

OVERLOADED: dict[str, Any] = {"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}
# What fails each attempt of a call: a status, a refused connection, an error event before any text.
FAILURES: dict[str, Callable[[], httpx.Response | Exception]] = {
    "503": lambda: httpx.Response(503, json=OVERLOADED),
    "connection refused": lambda: httpx.ConnectError("connection refused"),
}
STREAM_ONLY_FAILURES: dict[str, Callable[[], httpx.Response]] = {
    "error event before any text": lambda: httpx.Response(
        200, headers=SSE, content=b"data: " + httpx.Response(200, json=OVERLOADED).content + b"\n\n"
    ),
}


async def generate(model: GenerativeModel) -> None:
    await model.generate(REQUEST)


async def stream(model: GenerativeModel) -> None:
    async with model.generate_stream(REQUEST) as chunks:
        _ = [chunk async for chunk in chunks]


def _answer(failure: httpx.Response | Exception) -> httpx.Response:
    if isinstance(failure, Exception):
        raise failure
    return failure


CASES = [
    pytest.param(backend, operation, failure, id=f"{backend}-{operation.__name__}-{name}")
    for backend in BACKENDS
    for operation in (generate, stream)
    for name, failure in (FAILURES | (STREAM_ONLY_FAILURES if operation is stream else {})).items()
]


@pytest.mark.parametrize(("backend", "operation", "failure"), CASES)
async def test_a_call_failing_on_every_attempt_logs_how_often_it_was_retried(
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    backend: str,
    operation: Callable[[GenerativeModel], Awaitable[None]],
    failure: Callable[[], httpx.Response | Exception],
) -> None:
    async def no_wait(seconds: float) -> None:
        pass

    monkeypatch.setattr(anyio, "sleep", no_wait)
    caplog.set_level(logging.INFO, logger="botticelli")
    model, generate_url, stream_url = BACKENDS[backend]()
    url = generate_url if operation is generate else stream_url
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(url__startswith=url).mock(side_effect=lambda request: _answer(failure()))
        with pytest.raises(BotticelliError) as caught:
            await operation(model)
        await model.aclose()
    assert route.call_count == MAX_RETRIES + 1
    assert caught.value.retries == MAX_RETRIES
    messages = [r.getMessage() for r in caplog.records]
    assert sum("event='botticelli.retry'" in m for m in messages) == MAX_RETRIES
    (event,) = [m for m in messages if "event='botticelli.request'" in m]
    assert f"retries={MAX_RETRIES}" in event
    assert f"error='{type(caught.value).__name__}'" in event
