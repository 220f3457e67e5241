import json
from typing import Any

import pytest

from botticelli_error import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ErrorResponse,
    NotFoundError,
    RateLimitError,
    ServerUnavailableError,
)
from botticelli_gemini.errors import error_details, error_from_response, parse_duration, stream_error
from botticelli_gemini.response import WireError

from . import wire


def reply(
    status: int, body: Any, *, retry_after: float | None = None, headers: dict[str, str] | None = None
) -> ErrorResponse:
    text = body if isinstance(body, str) else json.dumps(body)
    return ErrorResponse("gemini", status, headers or {}, text, retry_after)


@pytest.mark.parametrize(
    ("status", "body", "cls", "retryable"),
    [
        (400, wire.INVALID_ARGUMENT, BadRequestError, False),
        (400, wire.FAILED_PRECONDITION, BadRequestError, False),
        (403, wire.PERMISSION_DENIED, AuthenticationError, False),
        (404, wire.NOT_FOUND, NotFoundError, False),
        (429, wire.rate_limited_per_minute(), RateLimitError, True),
        (500, wire.INTERNAL, ServerUnavailableError, True),
        (503, wire.OVERLOADED, ServerUnavailableError, True),
        (504, wire.DEADLINE, ServerUnavailableError, True),
    ],
)
def test_google_statuses_map_into_the_shared_hierarchy(
    status: int, body: dict[str, Any], cls: type[APIStatusError], retryable: bool
) -> None:
    err = error_from_response(reply(status, body, headers={"x-request-id": "req-42"}))
    assert type(err) is cls
    assert err.retryable is retryable
    assert err.status_code == status
    assert err.error_type == body["error"]["status"]
    assert err.server_message == body["error"]["message"]
    assert err.provider == "gemini"
    assert err.request_id == "req-42"
    assert err.body == json.dumps(body)


def test_an_invalid_api_key_reported_as_400_is_an_authentication_error() -> None:
    err = error_from_response(reply(400, wire.API_KEY_INVALID))
    assert isinstance(err, AuthenticationError)
    assert err.retryable is False
    details = error_details(err)
    assert details is not None
    assert details.reason == "API_KEY_INVALID"


def test_a_per_minute_429_waits_as_long_as_retry_info_says() -> None:
    err = error_from_response(reply(429, wire.rate_limited_per_minute("53s"), retry_after=5.0))
    assert isinstance(err, RateLimitError)
    assert err.retryable is True
    assert err.retry_after == 53.0
    assert err.quota == wire.PER_MINUTE_QUOTA


def test_fractional_retry_delays_are_honoured() -> None:
    err = error_from_response(reply(429, wire.rate_limited_per_minute("12.771204034s")))
    assert err.retry_after == pytest.approx(12.771204034)


def test_a_per_day_quota_cannot_be_waited_out_and_is_not_retryable() -> None:
    err = error_from_response(reply(429, wire.RATE_LIMITED_PER_DAY))
    assert isinstance(err, RateLimitError)
    assert err.retryable is False
    assert err.quota == wire.PER_DAY_QUOTA
    assert "PerDay" in err.message
    assert err.server_message == wire.RATE_LIMITED_PER_DAY["error"]["message"]


def test_a_quota_of_limit_zero_is_not_retryable() -> None:
    err = error_from_response(reply(429, wire.RATE_LIMITED_LIMIT_ZERO))
    assert isinstance(err, RateLimitError)
    assert err.retryable is False
    assert err.quota == "limit: 0"


def test_a_per_day_violation_is_found_among_several() -> None:
    body = wire.rate_limited_per_minute()
    body["error"]["details"][0]["violations"].append(
        {"quotaMetric": wire.REQUESTS_METRIC, "quotaId": wire.PER_DAY_QUOTA, "quotaValue": "250"}
    )
    err = error_from_response(reply(429, body))
    assert isinstance(err, RateLimitError)
    assert (err.retryable, err.quota) == (False, wire.PER_DAY_QUOTA)


def test_without_retry_info_the_wait_in_the_message_is_used() -> None:
    body = wire.error(429, "RESOURCE_EXHAUSTED", "Resource exhausted. Please retry in 2.5s.")
    assert error_from_response(reply(429, body)).retry_after == 2.5


def test_without_any_wait_from_google_the_retry_after_header_is_kept() -> None:
    body = wire.error(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).")
    assert error_from_response(reply(429, body, retry_after=7.0)).retry_after == 7.0


def test_parsed_details_are_exposed_from_the_body() -> None:
    err = error_from_response(reply(429, wire.rate_limited_per_minute("53s")))
    details = error_details(err)
    assert details is not None
    assert details.status == "RESOURCE_EXHAUSTED"
    assert details.retry_delay == 53.0
    assert details.quota_metric == wire.REQUESTS_METRIC
    assert details.quota_value == "10"
    assert details.help_links == ("https://ai.google.dev/gemini-api/docs/rate-limits",)
    assert len(details.raw) == 3


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (502, "<html><body>Bad Gateway</body></html>", ServerUnavailableError),
        (429, "", RateLimitError),
        (404, '{"unexpected": true}', NotFoundError),
        (418, "teapot", APIStatusError),
    ],
)
def test_bodies_not_in_googles_shape_map_by_http_status(status: int, body: str, cls: type[APIStatusError]) -> None:
    err = error_from_response(reply(status, body))
    assert type(err) is cls
    assert err.status_code == status
    assert err.body == body
    assert error_details(err) is None


def test_an_unknown_status_name_falls_back_to_the_http_code() -> None:
    err = error_from_response(reply(409, wire.error(409, "ABORTED", "Conflict, try again.")))
    assert type(err) is APIStatusError
    assert err.error_type == "ABORTED"


def test_a_mid_stream_error_keeps_message_status_retryability_and_partial_text() -> None:
    err = stream_error(
        WireError(code=503, message="The model is overloaded.", status="UNAVAILABLE"), partial_text="Par"
    )
    assert (err.status_code, err.error_type, err.retryable, err.partial_text) == (503, "UNAVAILABLE", True, "Par")
    assert err.server_message == "The model is overloaded."
    blocked = stream_error(WireError(code=400, message="Bad", status="INVALID_ARGUMENT"), partial_text="")
    assert blocked.retryable is False


@pytest.mark.parametrize("value", ["53", "s", "-1s", "1.s", 53, None, "1m"])
def test_malformed_durations_are_ignored(value: object) -> None:
    assert parse_duration(value) is None
