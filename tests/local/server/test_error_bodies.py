"""OpenAI-compatible error replies to typed errors: the status matrix, body shapes, Retry-After and scrubbing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from botticelli_error import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    BotticelliError,
    ErrorResponse,
    NotFoundError,
    RateLimitError,
    ServerUnavailableError,
    parse_retry_after,
    scrub,
)
from botticelli_server.errors import error_fields, error_from_response

MATRIX = [
    (400, BadRequestError, False),
    (401, AuthenticationError, False),
    (403, AuthenticationError, False),
    (404, NotFoundError, False),
    (408, APIStatusError, True),
    (409, APIStatusError, True),
    (413, BadRequestError, False),
    (418, APIStatusError, False),
    (422, BadRequestError, False),
    (429, RateLimitError, True),
    (500, ServerUnavailableError, True),
    (502, ServerUnavailableError, True),
    (503, ServerUnavailableError, True),
    (504, ServerUnavailableError, True),
]


def reply(status: int, body: str = "", headers: dict[str, str] | None = None) -> ErrorResponse:
    headers = headers or {}
    return ErrorResponse("local", status, headers, body, parse_retry_after(headers))


@pytest.mark.parametrize(("status", "cls", "retryable"), MATRIX)
def test_each_status_maps_to_its_class_and_retryability(
    status: int, cls: type[BotticelliError], retryable: bool
) -> None:
    body = json.dumps({"error": {"message": "nope", "type": "some_type"}})
    err = error_from_response(reply(status, body, {"x-request-id": "req-42"}))
    assert type(err) is cls
    assert err.retryable is retryable
    assert err.status_code == status
    assert err.request_id == "req-42"
    assert err.server_message == "nope"
    assert err.error_type == "some_type"
    assert err.body == body
    assert err.provider == "local"


def test_a_plain_text_body_becomes_the_server_message() -> None:
    err = error_from_response(reply(502, "upstream connect error or disconnect/reset before headers\n"))
    assert isinstance(err, ServerUnavailableError)
    assert err.server_message == "upstream connect error or disconnect/reset before headers"


def test_an_html_error_page_is_kept_as_body_and_truncated_as_message() -> None:
    page = "<html><head><title>502 Bad Gateway</title></head><body>" + "x" * 2000 + "</body></html>"
    err = error_from_response(reply(502, page))
    assert err.body == page
    assert err.server_message is not None
    assert err.server_message.startswith("<html>")
    assert len(err.server_message) <= 500


def test_an_empty_body_gives_a_summary_naming_the_status() -> None:
    err = error_from_response(reply(500))
    assert err.server_message is None
    assert "HTTP 500" in err.message


def test_a_huge_body_is_truncated_on_the_error() -> None:
    err = error_from_response(reply(500, "e" * 100_000))
    assert err.body is not None
    assert len(err.body) < 10_000


def test_fastapi_detail_bodies_are_read() -> None:
    assert error_fields({"detail": "Not Found"}).message == "Not Found"
    assert error_fields({"detail": [{"loc": ["body"], "msg": "field required"}]}).message == (
        '[{"loc": ["body"], "msg": "field required"}]'
    )


def test_an_error_member_that_is_a_string_is_the_message() -> None:
    assert error_fields({"error": "model not loaded", "type": "x"}) == error_fields(
        {"error": {"message": "model not loaded", "type": "x"}}
    )


def test_non_dict_bodies_have_at_most_a_message() -> None:
    assert error_fields("boom").message == "boom"
    assert error_fields([1, 2]).message is None
    assert error_fields({"message": "m", "code": True}).code is None


@pytest.mark.parametrize(
    ("body", "cls", "retryable"),
    [
        ({"error": {"message": "bad", "type": "invalid_request_error"}}, BadRequestError, False),
        ({"error": {"message": "gone", "code": 404}}, NotFoundError, False),
        ({"error": {"message": "boom", "type": "api_error"}}, ServerUnavailableError, True),
        ({"error": {"message": "?"}}, ServerUnavailableError, True),
    ],
)
def test_an_error_body_under_200_is_classified_by_its_code_or_type(
    body: dict[str, object], cls: type[BotticelliError], retryable: bool
) -> None:
    err = error_from_response(reply(200, json.dumps(body)))
    assert type(err) is cls
    assert err.retryable is retryable
    assert err.status_code == 200


def test_retry_after_in_seconds() -> None:
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after": "-3"}) == 0.0


def test_retry_after_ms_wins_over_retry_after() -> None:
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25


def test_a_malformed_retry_after_ms_falls_back_to_retry_after() -> None:
    assert parse_retry_after({"retry-after-ms": "soon", "retry-after": "2"}) == 2.0


def test_retry_after_as_an_http_date() -> None:
    when = format_datetime(datetime(2030, 1, 1, 0, 0, 30, tzinfo=UTC), usegmt=True)
    now = datetime(2030, 1, 1, tzinfo=UTC).timestamp()
    assert parse_retry_after({"retry-after": when}, now=now) == 30.0


def test_a_retry_after_date_in_the_past_means_no_wait() -> None:
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0


def test_unparseable_or_missing_retry_after_is_none() -> None:
    assert parse_retry_after({}) is None
    assert parse_retry_after({"retry-after": "tomorrow-ish"}) is None


def test_a_rate_limit_error_carries_the_servers_retry_after() -> None:
    err = error_from_response(reply(429, '{"error":{"message":"slow down"}}', {"retry-after": "7"}))
    assert err.retry_after == 7.0


def test_scrub_replaces_every_occurrence_of_every_secret() -> None:
    assert scrub("a sk-1 b sk-1 c tok", ("sk-1", "tok", "")) == "a *** b *** c ***"
