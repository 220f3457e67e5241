"""Retry-After parsing: whatever a server writes, the wait is a finite, bounded number or None."""

from __future__ import annotations

import httpx
import pytest
import respx

from botticelli_error import MAX_RETRY_AFTER, parse_retry_after, wait_seconds
from botticelli_gemini.errors import parse_duration
from tests.local.server import wire
from tests.local.server.support import REQUEST, make_client


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "Infinity", "1e3", "1_0", "0x10", "", " ", "7s", "--1"])
def test_values_that_are_not_plain_numbers_are_ignored(value: str) -> None:
    assert parse_retry_after({"retry-after": value}) is None
    assert parse_retry_after({"retry-after-ms": value}) is None


def test_a_nan_retry_after_ms_falls_back_to_retry_after() -> None:
    assert parse_retry_after({"retry-after-ms": "nan", "retry-after": "2"}) == 2.0


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "-5"}, 0.0),
        ({"retry-after": "9" * 400}, MAX_RETRY_AFTER),
        ({"retry-after": "1" + "0" * 30}, MAX_RETRY_AFTER),
        ({"retry-after-ms": "9" * 400}, MAX_RETRY_AFTER),
        ({"retry-after": " 2.5 "}, 2.5),
        ({"retry-after": ".5"}, 0.5),
        ({"retry-after": "Fri, 31 Dec 9999 23:59:59 GMT"}, MAX_RETRY_AFTER),
    ],
)
def test_waits_are_clamped_to_zero_and_a_day(headers: dict[str, str], seconds: float) -> None:
    assert parse_retry_after(headers) == seconds


@pytest.mark.parametrize("date", ["Mon, 99 Foo 99999 99:99:99 GMT", "Fri, 31 Dec 99999 23:59:59 GMT", "0, 0 0 0"])
def test_impossible_dates_are_ignored(date: str) -> None:
    assert parse_retry_after({"retry-after": date}) is None


def test_wait_seconds() -> None:
    assert [wait_seconds(v) for v in (None, float("nan"), float("-inf"), -1.0, 3.0)] == [None, None, 0.0, 0.0, 3.0]


def test_a_huge_gemini_retry_delay_is_capped() -> None:
    assert parse_duration("9" * 400 + "s") == MAX_RETRY_AFTER


@pytest.mark.anyio
@pytest.mark.parametrize("header", ["retry-after", "retry-after-ms"])
async def test_a_nan_retry_after_is_retried_after_the_usual_backoff(header: str) -> None:
    busy = httpx.Response(429, json={"error": {"message": "slow down"}}, headers={header: "nan"})
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).mock(side_effect=[busy, httpx.Response(200, json=wire.OPENAI_COMPLETION)])
        async with make_client(backoff_initial=0.0, backoff_max=0.0) as client:
            response = await client.generate(REQUEST)
    assert response.text
    assert route.call_count == 2
