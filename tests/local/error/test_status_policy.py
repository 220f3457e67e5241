"""One status policy for every backend: the same class and retryability for the same status."""

from __future__ import annotations

import json

import pytest

from botticelli_error import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    BotticelliError,
    ErrorResponse,
    NotFoundError,
    RateLimitError,
    ResponseDecodeError,
    ServerUnavailableError,
    error_class_for_status,
    error_for_status,
    is_retryable_status,
)
from botticelli_gemini import errors as gemini
from botticelli_gemini.response import WireError
from botticelli_server import errors as server

STATUSES = range(200, 600)

TABLE = [
    (200, ResponseDecodeError, False),
    (204, ResponseDecodeError, False),
    (301, APIStatusError, False),
    (307, APIStatusError, False),
    (400, BadRequestError, False),
    (401, AuthenticationError, False),
    (403, AuthenticationError, False),
    (404, NotFoundError, False),
    (405, APIStatusError, False),
    (408, APIStatusError, True),
    (409, APIStatusError, True),
    (413, BadRequestError, False),
    (418, APIStatusError, False),
    (422, BadRequestError, False),
    (429, RateLimitError, True),
    (451, APIStatusError, False),
    (500, ServerUnavailableError, True),
    (501, ServerUnavailableError, True),
    (503, ServerUnavailableError, True),
    (599, ServerUnavailableError, True),
]


@pytest.mark.parametrize(("status", "cls", "retryable"), TABLE)
def test_the_policy_table(status: int, cls: type[BotticelliError], retryable: bool) -> None:
    assert error_class_for_status(status) is cls
    assert is_retryable_status(status) is retryable
    err = error_for_status(ErrorResponse("local", status, {}, "nope", None))
    assert (type(err), err.retryable, err.status_code, err.server_message) == (cls, retryable, status, "nope")


def expected(status: int) -> tuple[type[BotticelliError], bool]:
    return error_class_for_status(status), is_retryable_status(status)


def reply(provider: str, status: int, body: str) -> ErrorResponse:
    return ErrorResponse(provider, status, {}, body, None)


def test_every_status_maps_alike_in_the_transport_default() -> None:
    drift = {
        s: type(e) for s in STATUSES if (type(e := error_for_status(reply("x", s, ""))), e.retryable) != expected(s)
    }
    assert drift == {}


def test_every_status_maps_alike_for_openai_compatible_servers() -> None:
    drift = {}
    for status in STATUSES:
        plain = server.error_from_response(reply("local", status, "upstream failed"))
        if (type(plain), plain.retryable) != expected(status):
            drift[status] = ("plain", type(plain), plain.retryable)
        if status >= 300:
            shaped = server.error_from_response(reply("local", status, json.dumps({"error": {"message": "m"}})))
            if (type(shaped), shaped.retryable) != expected(status):
                drift[status] = ("json", type(shaped), shaped.retryable)
    assert drift == {}


def test_every_status_maps_alike_for_gemini() -> None:
    drift = {}
    for status in STATUSES:
        plain = gemini.error_from_response(reply("gemini", status, "<html>Bad Gateway</html>"))
        if (type(plain), plain.retryable) != expected(status):
            drift[status] = ("plain", type(plain), plain.retryable)
        # Google's envelope without a gRPC status name: only the HTTP code can decide.
        shaped = gemini.error_from_response(
            reply("gemini", status, json.dumps({"error": {"code": status, "message": "m"}}))
        )
        if (type(shaped), shaped.retryable) != expected(status):
            drift[status] = ("envelope", type(shaped), shaped.retryable)
    assert drift == {}


@pytest.mark.parametrize("status", [400, 404, 408, 409, 422, 429, 500, 503])
def test_stream_errors_with_a_status_are_retryable_as_the_policy_says(status: int) -> None:
    local = server.stream_error({"error": {"code": status, "message": "m"}})
    google = gemini.stream_error(WireError(code=status, message="m"), partial_text="")
    assert local.retryable is google.retryable is is_retryable_status(status)


def test_gemini_conflicts_are_retried_like_everywhere_else() -> None:
    body = json.dumps({"error": {"code": 409, "message": "Conflict, try again.", "status": "ABORTED"}})
    assert gemini.error_from_response(reply("gemini", 409, body)).retryable is True


def test_a_success_status_on_a_reply_that_is_not_the_answer_is_not_retried() -> None:
    page = reply("local", 200, "<html>captive portal</html>")
    for mapper in (server.error_from_response, gemini.error_from_response, error_for_status):
        err = mapper(page)
        assert isinstance(err, ResponseDecodeError)
        assert err.retryable is False


@pytest.mark.parametrize(
    ("code", "cls", "retryable"),
    [(503, ServerUnavailableError, True), (429, RateLimitError, True), (404, NotFoundError, False)],
)
def test_an_error_envelope_under_a_success_status_is_classified_by_its_code(
    code: int, cls: type[BotticelliError], retryable: bool
) -> None:
    local = server.error_from_response(reply("local", 200, json.dumps({"error": {"code": code, "message": "m"}})))
    google = gemini.error_from_response(reply("gemini", 200, json.dumps({"error": {"code": code, "message": "m"}})))
    assert (type(local), local.retryable) == (type(google), google.retryable) == (cls, retryable)
    assert local.status_code == google.status_code == 200
