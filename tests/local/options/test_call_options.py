"""Per-call options: a timeout and a retry count for one scope, overriding the client's."""

from __future__ import annotations

import asyncio
import json
import time

import anyio
import httpx
import pytest
import respx

from botticelli_error import RequestTimeoutError, ServerUnavailableError
from botticelli_interface import UNSET, call_options, current_call_options
from botticelli_transport import TransportOptions
from botticelli_transport._deadline import call_limits
from tests.local.server import wire
from tests.local.server.support import REQUEST, Exchange, collect_text, loopback, make_client, record_sleeps

pytestmark = pytest.mark.anyio

OK = httpx.Response(200, json=wire.OPENAI_COMPLETION)


def unavailable() -> httpx.Response:
    return httpx.Response(503, json={"error": {"message": "busy"}})


async def slow_headers(exchange: Exchange) -> None:
    await asyncio.sleep(5)
    await exchange.start()


def stream_body() -> bytes:
    chunks = [wire.openai_chunk("Hi"), wire.openai_chunk(" there", finish="stop")]
    return b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"


async def test_max_retries_zero_sends_a_request_once(monkeypatch: pytest.MonkeyPatch) -> None:
    record_sleeps(monkeypatch)
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).mock(side_effect=[unavailable(), OK])
        async with make_client(max_retries=2) as client:
            with call_options(max_retries=0), pytest.raises(ServerUnavailableError):
                await client.generate(REQUEST)
            assert route.call_count == 1
            # Outside the scope the client's own count is back: the next call retries.
            route.side_effect = [unavailable(), OK]
            assert (await client.generate(REQUEST)).text
    assert route.call_count == 3


async def test_more_retries_than_the_client_allows(monkeypatch: pytest.MonkeyPatch) -> None:
    record_sleeps(monkeypatch)
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).mock(side_effect=[unavailable(), unavailable(), unavailable(), OK])
        async with make_client(max_retries=0) as client:
            with call_options(max_retries=3):
                response = await client.generate(REQUEST)
    assert response.text
    assert route.call_count == 4


async def test_stream_retries_are_overridden(monkeypatch: pytest.MonkeyPatch) -> None:
    record_sleeps(monkeypatch)
    ok = httpx.Response(200, content=stream_body(), headers={"content-type": "text/event-stream"})
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).mock(side_effect=[unavailable(), ok])
        async with make_client(max_retries=2) as client:
            with call_options(max_retries=0), pytest.raises(ServerUnavailableError):
                await collect_text(client)
            route.side_effect = [unavailable(), ok]
            text, _ = await collect_text(client)
    assert text == "Hi there"
    assert route.call_count == 3


async def test_the_timeout_replaces_the_clients_total_deadline() -> None:
    async with loopback(slow_headers) as server, make_client(server.url, total_timeout=30.0, max_retries=0) as client:
        started = time.monotonic()
        with anyio.fail_after(4), call_options(timeout=0.2), pytest.raises(RequestTimeoutError) as caught:
            await client.generate(REQUEST)
        elapsed = time.monotonic() - started
    assert caught.value.timeout == 0.2
    assert "0.2 s" in caught.value.message
    assert 0.15 <= elapsed < 2.0


async def test_the_timeout_bounds_a_stream() -> None:
    async with loopback(slow_headers) as server, make_client(server.url, total_timeout=30.0, max_retries=0) as client:
        with anyio.fail_after(4), call_options(timeout=0.2), pytest.raises(RequestTimeoutError) as caught:
            await collect_text(client)
    assert caught.value.timeout == 0.2


async def test_a_longer_timeout_than_the_clients_is_honoured() -> None:
    async def a_bit_slow(exchange: Exchange) -> None:
        await asyncio.sleep(0.4)
        body = httpx.Response(200, json=wire.OPENAI_COMPLETION).content
        await exchange.start(content_type="application/json")
        await exchange.send(body)
        await exchange.end()

    async with loopback(a_bit_slow) as server, make_client(server.url, total_timeout=0.1, max_retries=0) as client:
        with pytest.raises(RequestTimeoutError):
            await client.generate(REQUEST)
        with call_options(timeout=5.0):
            assert (await client.generate(REQUEST)).text


async def test_nested_scopes_override_field_by_field() -> None:
    with call_options(timeout=5.0, max_retries=1):
        with call_options(max_retries=0) as inner:
            assert (inner.timeout, inner.max_retries) == (5.0, 0)
            with call_options(timeout=None):
                assert current_call_options().timeout is None
                assert current_call_options().max_retries == 0
        assert current_call_options().max_retries == 1
    assert current_call_options().timeout is UNSET


async def test_a_scope_does_not_reach_tasks_already_running() -> None:
    seen: list[object] = []
    started = anyio.Event()
    go = anyio.Event()

    async def elsewhere() -> None:
        started.set()
        await go.wait()
        seen.append(current_call_options().max_retries)

    async with anyio.create_task_group() as tg:
        tg.start_soon(elsewhere)
        await started.wait()
        with call_options(max_retries=0):
            go.set()
            await anyio.sleep(0.01)
    assert seen == [UNSET]


@pytest.mark.parametrize(("timeout", "retries"), [(0, UNSET), (-1.0, UNSET), (UNSET, -1), (UNSET, True)])
def test_bad_values_are_refused(timeout: float, retries: int) -> None:
    with pytest.raises(ValueError, match="must be"), call_options(timeout=timeout, max_retries=retries):
        pass


async def test_a_probe_keeps_its_own_limit_unless_the_scope_is_shorter() -> None:
    async with loopback(slow_headers) as server, make_client(server.url, max_retries=0) as client:
        started = time.monotonic()
        with anyio.fail_after(4), call_options(timeout=0.2):
            health = await client.health()
        assert not health.ready
        assert time.monotonic() - started < 2.0


def test_call_limits_combine_the_settings_the_scope_and_a_probe() -> None:
    settings = TransportOptions(base_url="http://127.0.0.1:8080", total_timeout=900.0, max_retries=2)
    assert call_limits(settings) == (900.0, 2)
    assert call_limits(settings, probe_timeout=5.0) == (5.0, 2)
    with call_options(timeout=60.0, max_retries=0):
        assert call_limits(settings) == (60.0, 0)
        assert call_limits(settings, probe_timeout=5.0) == (5.0, 0)
    with call_options(timeout=None):
        assert call_limits(settings) == (None, 2)
        assert call_limits(settings, probe_timeout=5.0) == (5.0, 2)
