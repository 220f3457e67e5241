"""The total deadline and the stream idle timeout, against a real socket on 127.0.0.1.

Every test here runs with a total deadline of a few seconds (``DEADLINE``) rather than the
default 900 s, so a broken idle timer fails the test in seconds instead of hanging it; a
test that needs no deadline at all bounds itself with ``anyio.fail_after`` instead.
"""

from __future__ import annotations

import asyncio
import json
import time

import anyio
import httpx
import pytest
import respx

from botticelli_error import RequestTimeoutError, StreamStalledError

from . import wire
from .support import REQUEST, Exchange, collect_text, loopback, make_client, record_sleeps

pytestmark = pytest.mark.anyio

IDLE = 0.2
# Ten times the idle timeout and more: long enough never to be what fires in a passing test,
# short enough that a regression which waits for it instead fails within seconds.
DEADLINE = 3.0


def event(payload: dict[str, object]) -> bytes:
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


async def one_chunk_then_pings(exchange: Exchange) -> None:
    await exchange.start()
    await exchange.send(event(wire.openai_chunk("Hi")))
    while True:
        await asyncio.sleep(0.02)
        await exchange.send(b": ping\n\n")


async def headers_then_silence(exchange: Exchange) -> None:
    await exchange.start()
    await asyncio.sleep(10)


async def only_pings(exchange: Exchange) -> None:
    await exchange.start()
    while True:
        await exchange.send(b": keep-alive\n\n")
        await asyncio.sleep(0.02)


async def slow_but_steady(exchange: Exchange) -> None:
    await exchange.start()
    for word in ("one", " two", " three", " four"):
        await asyncio.sleep(IDLE / 2)
        await exchange.send(b": ping\n\n" + event(wire.openai_chunk(word)))
    await exchange.send(event(wire.openai_chunk(finish="stop")) + b"data: [DONE]\n\n")
    await exchange.end()


@pytest.mark.parametrize("total_timeout", [DEADLINE, None], ids=["with-a-deadline", "without-a-deadline"])
async def test_keepalive_comments_do_not_reset_the_idle_timer(total_timeout: float | None) -> None:
    async with (
        loopback(one_chunk_then_pings) as server,
        make_client(server.url, stream_idle_timeout=IDLE, total_timeout=total_timeout, max_retries=0) as client,
    ):
        started = time.monotonic()
        # Without a deadline of its own, the call would ping on forever if the idle timer broke.
        with anyio.fail_after(DEADLINE), pytest.raises(StreamStalledError) as caught:
            await collect_text(client)
        elapsed = time.monotonic() - started
    assert caught.value.idle_timeout == IDLE
    assert caught.value.partial_text == "Hi"
    assert IDLE * 0.9 <= elapsed < IDLE * 4


async def test_the_idle_timer_fires_long_before_a_real_total_deadline() -> None:
    # The idle timer must not give way to the deadline whenever one is set (the default):
    # a server that only ever pings stalls at the idle timeout, not at the deadline.
    idle = 0.3
    async with (
        loopback(only_pings) as server,
        make_client(server.url, stream_idle_timeout=idle, total_timeout=DEADLINE, max_retries=0) as client,
    ):
        started = time.monotonic()
        with pytest.raises(StreamStalledError) as caught:
            await collect_text(client)
        elapsed = time.monotonic() - started
    assert caught.value.idle_timeout == idle
    assert caught.value.partial_text == ""
    assert idle * 0.9 <= elapsed < 1.0


async def test_a_server_that_sends_nothing_after_its_headers_stalls() -> None:
    async with (
        loopback(headers_then_silence) as server,
        make_client(server.url, stream_idle_timeout=IDLE, total_timeout=DEADLINE, max_retries=0) as client,
    ):
        started = time.monotonic()
        with pytest.raises(StreamStalledError) as caught:
            await collect_text(client)
        elapsed = time.monotonic() - started
    assert caught.value.retryable is True
    assert elapsed < IDLE * 4


async def test_a_stall_before_the_first_chunk_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    record_sleeps(monkeypatch)
    async with (
        loopback(headers_then_silence) as server,
        make_client(server.url, stream_idle_timeout=0.05, total_timeout=DEADLINE, max_retries=1) as client,
    ):
        with pytest.raises(StreamStalledError):
            await collect_text(client)
    assert server.requests == 2


async def test_a_slow_but_steady_stream_within_the_idle_timeout_succeeds() -> None:
    async with (
        loopback(slow_but_steady) as server,
        make_client(server.url, stream_idle_timeout=IDLE, total_timeout=DEADLINE, max_retries=0) as client,
    ):
        text, chunks = await collect_text(client)
    assert text == "one two three four"
    assert chunks[-1].is_final


async def test_the_total_deadline_bounds_a_stream_that_keeps_sending() -> None:
    async def endless(exchange: Exchange) -> None:
        await exchange.start()
        while True:
            await exchange.send(event(wire.openai_chunk("x")))
            await asyncio.sleep(0.01)

    async with loopback(endless) as server, make_client(server.url, total_timeout=0.2, max_retries=0) as client:
        started = time.monotonic()
        with pytest.raises(RequestTimeoutError) as caught:
            await collect_text(client)
        elapsed = time.monotonic() - started
    assert caught.value.retryable is False
    assert elapsed < 1.0


async def test_the_total_deadline_covers_the_whole_call_including_retries() -> None:
    calls: list[float] = []

    async def loading_then_slow(request: httpx.Request) -> httpx.Response:
        calls.append(time.monotonic())
        if len(calls) == 1:
            return httpx.Response(503, json=wire.LLAMACPP_LOADING, headers={"retry-after-ms": "100"})
        await asyncio.sleep(1.0)
        return httpx.Response(200, json=wire.OPENAI_COMPLETION)

    with respx.mock(using="httpx", assert_all_mocked=True, assert_all_called=False) as mock:
        mock.post(wire.CHAT_URL).mock(side_effect=loading_then_slow)
        async with make_client(total_timeout=0.3, max_retries=5) as client:
            started = time.monotonic()
            with pytest.raises(RequestTimeoutError) as caught:
                await client.generate(REQUEST)
            elapsed = time.monotonic() - started
    # The retry got only what was left of the 0.3 s, not a fresh 0.3 s of its own.
    assert len(calls) == 2
    assert caught.value.retryable is False
    assert 0.25 <= elapsed < 0.6


async def test_a_reply_slower_than_the_total_deadline_is_a_non_retryable_timeout() -> None:
    calls: list[float] = []

    async def slower(request: httpx.Request) -> httpx.Response:
        calls.append(time.monotonic())
        await asyncio.sleep(1.0)
        return httpx.Response(200, json=wire.OPENAI_COMPLETION)

    with respx.mock(using="httpx", assert_all_mocked=True, assert_all_called=False) as mock:
        mock.post(wire.CHAT_URL).mock(side_effect=slower)
        async with make_client(total_timeout=0.1) as client:
            started = time.monotonic()
            with pytest.raises(RequestTimeoutError) as caught:
                await client.generate(REQUEST)
            elapsed = time.monotonic() - started
    assert caught.value.retryable is False
    assert caught.value.timeout == 0.1
    assert len(calls) == 1
    assert elapsed < 0.5


async def test_a_stream_read_by_another_task_stalls_there_and_leaves_the_opener_alone() -> None:
    # The idle timer cuts the read in whichever task is reading, never the task that opened.
    opener_cancelled = False
    async with (
        loopback(one_chunk_then_pings) as server,
        make_client(server.url, stream_idle_timeout=IDLE, total_timeout=DEADLINE, max_retries=0) as client,
        client.generate_stream(REQUEST) as stream,
    ):
        first = await stream.__anext__()  # opened, and its first chunk read, in this task

        async def read_rest() -> None:
            async for _ in stream:
                pass

        reader = asyncio.ensure_future(read_rest())
        try:
            await asyncio.sleep(IDLE * 4)
        except asyncio.CancelledError:  # pragma: no cover - what the test guards against
            opener_cancelled = True
            raise
        with pytest.raises(StreamStalledError):
            await reader
    assert first.text == "Hi"
    assert not opener_cancelled


async def test_a_consumer_slower_than_the_idle_timeout_is_not_cut_between_chunks() -> None:
    # The idle limit is about the server: time the consumer spends with a chunk does not count.
    async with (
        loopback(slow_but_steady) as server,
        make_client(server.url, stream_idle_timeout=IDLE, total_timeout=DEADLINE, max_retries=0) as client,
        client.generate_stream(REQUEST) as stream,
    ):
        texts = []
        async for chunk in stream:
            texts.append(chunk.text)
            await asyncio.sleep(IDLE * 1.5)
    assert "".join(texts) == "one two three four"
