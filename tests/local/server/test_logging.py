"""One ``botticelli.request`` event per request; no content unless asked; silent by default."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from collections.abc import Awaitable, Callable

import pytest
import respx

from botticelli_core import GenerateRequest
from botticelli_server import ChatCompletionRequest, ChatMessage, ServerClient

from . import wire
from .support import collect_text, make_client, record_sleeps

pytestmark = pytest.mark.anyio

SECRET_PROMPT = "my bank PIN is 8361"
REQUEST = GenerateRequest.from_prompt(SECRET_PROMPT, max_tokens=8)
WIRE_REQUEST = ChatCompletionRequest(
    model="default", messages=[ChatMessage(role="user", content=SECRET_PROMPT)], max_tokens=8
)


def request_events(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "event='botticelli.request'" in r.getMessage()]


async def test_a_non_streamed_request_logs_exactly_one_event_with_its_facts(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="botticelli")
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, json=wire.OPENAI_COMPLETION)
        async with make_client() as client:
            await client.generate(REQUEST)
    (event,) = request_events(caplog)
    for field in ("provider='local'", "model='default'", "status=200", "latency_ms=", "retries=0", "input_tokens=14"):
        assert field in event
    assert "output_tokens=37" in event
    assert SECRET_PROMPT not in event


async def read_generate_stream(client: ServerClient) -> None:
    await collect_text(client, REQUEST)


async def read_chat_completion_stream(client: ServerClient) -> None:
    async with client.chat_completion_stream(WIRE_REQUEST) as stream:
        _ = [chunk async for chunk in stream]


@pytest.mark.parametrize("read_stream", [read_generate_stream, read_chat_completion_stream], ids=lambda f: f.__name__)
async def test_a_streamed_request_logs_exactly_one_event_with_its_facts(
    caplog: pytest.LogCaptureFixture, read_stream: Callable[[ServerClient], Awaitable[None]]
) -> None:
    # The token counts come from the usage chunk that follows the finish chunk (OPENAI_STREAM).
    caplog.set_level(logging.INFO, logger="botticelli")
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(
            200, headers={**wire.SSE, "x-request-id": "req-9"}, content=wire.sse(*wire.OPENAI_STREAM)
        )
        async with make_client() as client:
            await read_stream(client)
    (event,) = request_events(caplog)
    for field in (
        "provider='local'",
        f"operation='{read_stream.__name__.removeprefix('read_')}'",
        "status=200",
        "input_tokens=14",
        "output_tokens=30",
    ):
        assert field in event
    assert "request_id='req-9'" in event
    assert SECRET_PROMPT not in event
    assert "I'm" not in event


async def test_a_failed_request_logs_one_warning_naming_the_error(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="botticelli")
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(400, json=wire.LLAMACPP_INVALID)
        async with make_client() as client:
            with pytest.raises(Exception, match="messages"):
                await client.generate(REQUEST)
    (record,) = [r for r in caplog.records if "botticelli.request" in r.getMessage()]
    assert record.levelno == logging.WARNING
    assert "error='BadRequestError'" in record.getMessage()


async def test_a_consumer_leaving_a_stream_early_is_logged_once_and_not_as_a_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="botticelli")
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=wire.sse(*wire.OPENAI_STREAM))
        async with make_client() as client, client.generate_stream(REQUEST) as stream:
            async for _chunk in stream:
                break
    (event,) = request_events(caplog)
    assert "error=" not in event


async def test_prompt_and_output_are_logged_only_with_log_content(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="botticelli")
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).mock(
            side_effect=[
                respx.MockResponse(200, json=wire.OPENAI_COMPLETION),
                respx.MockResponse(200, headers=wire.SSE, content=wire.sse(*wire.OPENAI_STREAM)),
            ]
        )
        async with make_client(log_content=True) as client:
            await client.generate(REQUEST)
            await collect_text(client, REQUEST)
    plain, streamed = request_events(caplog)
    assert SECRET_PROMPT in plain
    assert SECRET_PROMPT in streamed
    assert "I'm here." in streamed


async def test_retries_are_counted_in_the_request_event(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    record_sleeps(monkeypatch)
    caplog.set_level(logging.INFO, logger="botticelli")
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).mock(
            side_effect=[
                respx.MockResponse(503, json=wire.LLAMACPP_LOADING),
                respx.MockResponse(200, json=wire.OPENAI_COMPLETION),
            ]
        )
        async with make_client() as client:
            await client.generate(REQUEST)
    (event,) = request_events(caplog)
    assert "retries=1" in event
    assert any("event='botticelli.retry'" in r.getMessage() for r in caplog.records)


def test_nothing_is_printed_when_the_application_did_not_configure_logging() -> None:
    # A fresh interpreter: pytest's own log handlers would hide logging's last-resort printer.
    script = textwrap.dedent(
        f"""
        import asyncio, respx
        from botticelli_core import GenerateRequest
        from botticelli_server import ServerClient, ServerConfig

        async def main():
            with respx.mock(using="httpx", assert_all_mocked=True) as mock:
                mock.post("{wire.CHAT_URL}").respond(400, json={{"message": "bad"}})
                mock.get("{wire.HEALTH_URL}").respond(503, json={{"message": "loading"}})
                async with ServerClient(ServerConfig(base_url="{wire.BASE_URL}", model="m")) as client:
                    try:
                        await client.generate(GenerateRequest.from_prompt("hi"))
                    except Exception:
                        pass
                    await client.health()

        asyncio.run(main())
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert (done.stdout, done.stderr) == ("", "")
