"""When the client tries again, how long it waits first, and when it must not retry."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from email.utils import formatdate

import httpx
import pytest
import respx

from botticelli_error import (
    APIStatusError,
    BotticelliError,
    RateLimitError,
    RequestTimeoutError,
    ServerUnavailableError,
    StreamInterruptedError,
    TransportError,
)

from . import wire
from .support import REQUEST, collect_text, make_client, record_sleeps

pytestmark = pytest.mark.anyio

OK = httpx.Response(200, json=wire.OPENAI_COMPLETION)


def failing(status: int, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"error": {"message": f"HTTP {status}"}}, headers=headers)


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("connection refused"),
        httpx.ConnectTimeout("timed out"),
        httpx.PoolTimeout("timed out"),
        httpx.RemoteProtocolError("peer closed connection without sending complete message body"),
        failing(408),
        failing(409),
        failing(429),
        failing(500),
        failing(502),
        failing(503),
        failing(504),
    ],
    ids=lambda f: type(f).__name__ if isinstance(f, Exception) else str(f.status_code),
)
async def test_transient_failures_are_retried_and_then_succeed(
    failure: Exception | httpx.Response, monkeypatch: pytest.MonkeyPatch
) -> None:
    sleeps = record_sleeps(monkeypatch)
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).mock(side_effect=[failure, OK])
        async with make_client() as client:
            response = await client.generate(REQUEST)
    assert response.text
    assert route.call_count == 2
    assert len(sleeps.calls) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 422, 451])
async def test_other_4xx_are_never_retried(status: int, monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps = record_sleeps(monkeypatch)
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).mock(return_value=failing(status))
        async with make_client() as client:
            with pytest.raises(APIStatusError):
                await client.generate(REQUEST)
    assert route.call_count == 1
    assert sleeps.calls == []


async def test_by_default_a_call_is_retried_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps = record_sleeps(monkeypatch)
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).mock(return_value=failing(503))
        async with make_client() as client:
            with pytest.raises(ServerUnavailableError):
                await client.generate(REQUEST)
    assert route.call_count == 3
    assert len(sleeps.calls) == 2


@pytest.mark.parametrize("max_retries", [0, 1, 4])
async def test_max_retries_bounds_the_number_of_calls(max_retries: int, monkeypatch: pytest.MonkeyPatch) -> None:
    record_sleeps(monkeypatch)
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).mock(side_effect=httpx.ConnectError("refused"))
        async with make_client(max_retries=max_retries) as client:
            with pytest.raises(TransportError):
                await client.generate(REQUEST)
    assert route.call_count == max_retries + 1


async def test_backoff_grows_between_attempts_and_stays_below_its_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps = record_sleeps(monkeypatch)
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).mock(return_value=failing(500))
        async with make_client(max_retries=6) as client:
            with pytest.raises(ServerUnavailableError):
                await client.generate(REQUEST)
    # 0.5 s doubling, up to 0.5 s of jitter, capped at 8 s.
    assert 0.5 <= sleeps.calls[0] <= 1.0
    assert 1.0 <= sleeps.calls[1] <= 1.5
    assert all(wait <= 8.0 for wait in sleeps.calls)
    assert sleeps.calls[-1] == 8.0


@pytest.mark.parametrize(
    ("headers", "expected"),
    [({"retry-after": "2"}, 2.0), ({"retry-after-ms": "1500"}, 1.5), ({"retry-after": "0"}, 0.0)],
)
async def test_the_servers_retry_after_is_the_wait(
    headers: dict[str, str], expected: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    sleeps = record_sleeps(monkeypatch)
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).mock(side_effect=[failing(429, headers), OK])
        async with make_client() as client:
            await client.generate(REQUEST)
    assert sleeps.calls == [expected]


async def test_retry_after_as_an_http_date_is_the_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps = record_sleeps(monkeypatch)
    when = formatdate(time.time() + 3, usegmt=True)
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).mock(side_effect=[failing(503, {"retry-after": when}), OK])
        async with make_client() as client:
            await client.generate(REQUEST)
    (wait,) = sleeps.calls
    assert 1.0 < wait <= 3.0  # HTTP dates have whole seconds


async def test_a_retry_after_beyond_max_retry_after_is_raised_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps = record_sleeps(monkeypatch)
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).mock(return_value=failing(429, {"retry-after": "120"}))
        async with make_client(max_retry_after=60) as client:
            with pytest.raises(RateLimitError) as caught:
                await client.generate(REQUEST)
    assert caught.value.retry_after == 120.0
    assert route.call_count == 1
    assert sleeps.calls == []


async def test_a_wait_that_would_pass_the_total_deadline_is_not_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps = record_sleeps(monkeypatch)
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).mock(return_value=failing(503, {"retry-after": "30"}))
        async with make_client(total_timeout=5.0) as client:
            with pytest.raises(ServerUnavailableError):
                await client.generate(REQUEST)
    assert route.call_count == 1
    assert sleeps.calls == []


async def test_backoff_never_sleeps_past_the_total_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps = record_sleeps(monkeypatch)
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).mock(return_value=failing(500))
        async with make_client(total_timeout=0.3) as client:
            with pytest.raises(ServerUnavailableError):
                await client.generate(REQUEST)
    assert route.call_count == 1  # the first backoff (>= 0.5 s) would already overrun 0.3 s
    assert sleeps.calls == []


# -- streams -------------------------------------------------------------------------------------


async def test_a_stream_whose_first_attempt_fails_with_503_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    record_sleeps(monkeypatch)
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).mock(
            side_effect=[
                httpx.Response(503, json=wire.LLAMACPP_LOADING),
                httpx.Response(200, headers=wire.SSE, content=wire.sse(*wire.OPENAI_STREAM)),
            ]
        )
        async with make_client() as client:
            text, _ = await collect_text(client)
    assert text == "I'm here."
    assert route.call_count == 2


async def test_a_stream_opening_with_a_retryable_error_event_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    record_sleeps(monkeypatch)
    overloaded = wire.sse({"error": {"message": "server busy", "type": "server_error"}})
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).mock(
            side_effect=[
                httpx.Response(200, headers=wire.SSE, content=overloaded),
                httpx.Response(200, headers=wire.SSE, content=wire.sse(*wire.OPENAI_STREAM)),
            ]
        )
        async with make_client() as client:
            text, _ = await collect_text(client)
    assert text == "I'm here."
    assert route.call_count == 2


async def test_a_stream_the_server_ends_without_answering_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    # llama-cpp-python opens the stream, then ends it without one event when its chat handler fails.
    sleeps = record_sleeps(monkeypatch)
    role_only = wire.sse(wire.openai_chunk(role="assistant"), done=False)
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).mock(
            side_effect=[
                httpx.Response(200, headers=wire.SSE, content=b""),
                httpx.Response(200, headers=wire.SSE, content=role_only),
                httpx.Response(200, headers=wire.SSE, content=wire.sse(*wire.OPENAI_STREAM)),
            ]
        )
        async with make_client(max_retries=2) as client:
            text, _ = await collect_text(client)
    assert text == "I'm here."
    assert route.call_count == 3
    assert len(sleeps.calls) == 2


async def test_a_stream_that_never_answers_says_so_once_the_retries_are_spent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record_sleeps(monkeypatch)
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=b"")
        async with make_client(max_retries=1) as client, client.generate_stream(REQUEST) as stream:
            with pytest.raises(StreamInterruptedError) as caught:
                await stream.__anext__()
    assert "ended the stream without answering" in str(caught.value)
    assert "mid-answer" not in str(caught.value)
    assert (caught.value.partial_text, caught.value.retryable) == ("", True)
    assert route.call_count == 2


async def test_a_stream_opening_with_a_permanent_error_event_is_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps = record_sleeps(monkeypatch)
    invalid = wire.sse({"error": {"message": "bad tools", "type": "invalid_request_error"}})
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=invalid)
        async with make_client() as client:
            with pytest.raises(StreamInterruptedError) as caught:
                await collect_text(client)
    assert caught.value.retryable is False
    assert route.call_count == 1
    assert sleeps.calls == []


class DropsAfter(httpx.AsyncByteStream):
    """A body that sends some bytes, then loses the connection."""

    def __init__(self, *parts: bytes) -> None:
        self.parts = parts

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for part in self.parts:
            yield part
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")


async def test_a_connection_drop_after_the_first_chunk_is_an_interruption_and_never_retried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sleeps = record_sleeps(monkeypatch)
    body = DropsAfter(wire.sse(wire.openai_chunk("Hel"), wire.openai_chunk("lo"), done=False))
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).mock(return_value=httpx.Response(200, headers=wire.SSE, stream=body))
        async with make_client() as client:
            with pytest.raises(StreamInterruptedError) as caught:
                await collect_text(client)
    assert caught.value.partial_text == "Hello"
    assert "peer closed connection" in str(caught.value)
    assert route.call_count == 1
    assert sleeps.calls == []


async def test_a_connection_drop_before_any_chunk_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    record_sleeps(monkeypatch)
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).mock(
            side_effect=[
                httpx.Response(200, headers=wire.SSE, stream=DropsAfter(b": keep-alive\n\n")),
                httpx.Response(200, headers=wire.SSE, content=wire.sse(*wire.OPENAI_STREAM)),
            ]
        )
        async with make_client() as client:
            text, _ = await collect_text(client)
    assert text == "I'm here."
    assert route.call_count == 2


async def test_retries_are_reported_to_the_caller_as_the_last_error(monkeypatch: pytest.MonkeyPatch) -> None:
    record_sleeps(monkeypatch)
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).mock(side_effect=[failing(500), failing(502), failing(504)])
        async with make_client() as client:
            with pytest.raises(BotticelliError) as caught:
                await client.generate(REQUEST)
    assert caught.value.status_code == 504


async def test_a_connect_timeout_is_a_retryable_request_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps = record_sleeps(monkeypatch)
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).mock(side_effect=httpx.ConnectTimeout("slow"))
        async with make_client(max_retries=0) as client:
            with pytest.raises(RequestTimeoutError) as caught:
                await client.generate(REQUEST)
    assert caught.value.retryable is True  # a connect timeout may pass; only the total deadline is final
    assert route.call_count == 1
    assert sleeps.calls == []


async def test_a_generation_that_timed_out_reading_is_not_sent_again(monkeypatch: pytest.MonkeyPatch) -> None:
    # The server has the request and may still be generating it: a retry could bill it twice.
    sleeps = record_sleeps(monkeypatch)
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).mock(side_effect=[httpx.ReadTimeout("timed out"), OK])
        async with make_client() as client:
            with pytest.raises(RequestTimeoutError) as caught:
                await client.generate(REQUEST)
    assert route.call_count == 1
    assert sleeps.calls == []
    assert caught.value.retryable is False


async def test_read_timeouts_of_generations_are_retried_when_the_settings_opt_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record_sleeps(monkeypatch)
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).mock(side_effect=[httpx.ReadTimeout("timed out"), OK])
        async with make_client(retry_read_timeouts=True) as client:
            response = await client.generate(REQUEST)
    assert response.text
    assert route.call_count == 2


async def test_a_stream_that_timed_out_before_its_headers_is_not_sent_again(monkeypatch: pytest.MonkeyPatch) -> None:
    record_sleeps(monkeypatch)
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).mock(side_effect=[httpx.ReadTimeout("timed out"), OK])
        async with make_client() as client:
            with pytest.raises(RequestTimeoutError):
                await collect_text(client)
    assert route.call_count == 1


async def test_read_timeouts_of_requests_that_change_nothing_are_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    record_sleeps(monkeypatch)
    listing = httpx.Response(200, json={"object": "list", "data": [{"id": "default"}]})
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.get(wire.MODELS_URL).mock(side_effect=[httpx.ReadTimeout("timed out"), listing])
        async with make_client() as client:
            models = await client.list_models()
    assert [m.id for m in models] == ["default"]
    assert route.call_count == 2
