"""A stream request answered by something that is not a well-behaved event stream.

Each test is a regression test from a hostile-server run: the reply must become one
typed error, sent the number of times the retry policy says, in bounded memory.
"""

from __future__ import annotations

import gzip

import pytest
import respx

from botticelli_error import (
    APIStatusError,
    BotticelliError,
    ResponseDecodeError,
    StreamInterruptedError,
    TransportError,
)
from botticelli_transport import SSEDecoder

from . import wire
from .support import REQUEST, collect_text, make_client, record_sleeps

pytestmark = pytest.mark.anyio


async def test_a_retried_stream_starts_from_a_clean_slate(monkeypatch: pytest.MonkeyPatch) -> None:
    # Attempt one reports a finish reason, then a retryable error before any text; attempt
    # two is cut short. The finish reason of attempt one must not make attempt two look complete.
    record_sleeps(monkeypatch)
    first = wire.sse(
        wire.openai_chunk(finish="stop"),
        {"error": {"message": "overloaded", "type": "server_error"}},
        done=False,
    )
    second = wire.sse(wire.openai_chunk("partial"), done=False)
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).mock(
            side_effect=[
                respx.MockResponse(200, headers=wire.SSE, content=first),
                respx.MockResponse(200, headers=wire.SSE, content=second),
            ]
        )
        async with make_client() as client:
            with pytest.raises(StreamInterruptedError) as caught:
                await collect_text(client)
    assert route.call_count == 2
    assert caught.value.partial_text == "partial"


@pytest.mark.parametrize(
    ("status", "headers", "body"),
    [
        (200, {"content-type": "text/html"}, b"<html><body>Please log in</body></html>"),
        (200, {"content-type": "application/json"}, b'{"choices": []}'),
        (200, {}, b""),
    ],
    ids=["html", "json", "empty"],
)
async def test_a_success_reply_that_is_not_an_event_stream_is_a_decode_error_sent_once(
    status: int, headers: dict[str, str], body: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    sleeps = record_sleeps(monkeypatch)
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).respond(status, headers=headers, content=body)
        async with make_client() as client:
            with pytest.raises(ResponseDecodeError) as caught:
                await collect_text(client)
    assert route.call_count == 1
    assert sleeps.calls == []
    assert caught.value.retryable is False
    assert caught.value.status_code == status


async def test_a_redirect_of_a_stream_request_is_a_status_error_sent_once(monkeypatch: pytest.MonkeyPatch) -> None:
    record_sleeps(monkeypatch)
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).respond(
            301, headers={"location": "http://user:hunter2@elsewhere.test/v1/chat/completions"}
        )
        async with make_client() as client:
            with pytest.raises(APIStatusError) as caught:
                await collect_text(client)
    assert route.call_count == 1
    assert (caught.value.status_code, caught.value.retryable) == (301, False)
    assert "hunter2" not in str(caught.value)
    assert "elsewhere.test" in str(caught.value)


async def test_an_error_object_under_a_success_status_keeps_its_message_and_is_sent_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record_sleeps(monkeypatch)
    body = b'{"error": {"code": 503, "message": "Loading model"}}'
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).respond(200, headers={"content-type": "application/json"}, content=body)
        async with make_client() as client:
            with pytest.raises(BotticelliError) as caught:
                await collect_text(client)
    assert route.call_count == 1
    assert caught.value.server_message == "Loading model"
    assert caught.value.retryable is False


async def test_a_line_that_never_ends_is_a_decode_error_once_over_the_cap() -> None:
    # Before the cap, a 32 MiB unterminated line cost 8.6 s of CPU in a decoder that
    # re-joined its buffer on every read; httpx-sse's line framing is linear.
    body = b"data: " + b"x" * (5 * 1024 * 1024)
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=body)
        async with make_client() as client:
            with pytest.raises(ResponseDecodeError, match="line longer than") as caught:
                await collect_text(client)
    assert caught.value.retryable is False


def test_the_line_and_event_caps_are_the_decoders_to_set() -> None:
    decoder = SSEDecoder(max_line_chars=100, max_event_chars=150)
    assert decoder.feed(b"data: " + b"a" * 90 + b"\n") == []
    with pytest.raises(ResponseDecodeError, match="event longer than 150"):
        decoder.feed(b"data: " + b"b" * 90 + b"\n")
    with pytest.raises(ResponseDecodeError, match="line longer than 100"):
        SSEDecoder(max_line_chars=100).feed(b"data: " + b"c" * 60 + b"c" * 60)


def test_a_long_line_fed_in_many_pieces_is_decoded_whole() -> None:
    decoder = SSEDecoder()
    piece = b"y" * 65536
    events = decoder.feed(b"data: ")
    for _ in range(32):
        events += decoder.feed(piece)
    events += decoder.feed(b"\n\n")
    assert [len(e.data) for e in events] == [32 * 65536]


async def test_a_compressed_answer_that_inflates_past_the_cap_is_a_decode_error() -> None:
    # 10 MiB of JSON-ish filler compresses to a few KiB: the cap is on the decoded size.
    bomb = gzip.compress(b'{"choices": [' + b" " * (10 * 1024 * 1024) + b"]}")
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).respond(
            200, headers={"content-type": "application/json", "content-encoding": "gzip"}, content=bomb
        )
        async with make_client(max_response_bytes=1024 * 1024) as client:
            with pytest.raises(ResponseDecodeError, match="max_response_bytes"):
                await client.generate(REQUEST)
    assert route.call_count == 1


async def test_a_huge_error_body_is_read_only_as_far_as_its_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    record_sleeps(monkeypatch)
    body = b"<html>" + b"x" * (8 * 1024 * 1024)
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(500, headers={"content-type": "text/html"}, content=body)
        async with make_client(max_retries=0) as client:
            with pytest.raises(BotticelliError) as caught:
                await client.generate(REQUEST)
    assert caught.value.body is not None
    assert len(caught.value.body) <= 64 * 1024


async def test_a_closed_client_refuses_calls_with_a_typed_error() -> None:
    client = make_client()
    await client.aclose()
    await client.aclose()  # twice is fine
    with pytest.raises(TransportError, match="closed") as caught:
        await client.generate(REQUEST)
    assert caught.value.retryable is False
    with pytest.raises(TransportError, match="closed"):
        await collect_text(client)
