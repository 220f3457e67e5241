"""The error hierarchy: categories, defaults and how errors print."""

from __future__ import annotations

import pytest

from botticelli_error import (
    APIStatusError,
    BotticelliError,
    ContentBlockedError,
    ErrorKind,
    RateLimitError,
    RequestTimeoutError,
    ResponseDecodeError,
    ServerUnavailableError,
    StreamInterruptedError,
    StreamStalledError,
    TransportError,
    UnsupportedInputError,
)


@pytest.mark.parametrize(
    ("cls", "kind", "retryable"),
    [
        (TransportError, ErrorKind.HTTP, True),
        (RequestTimeoutError, ErrorKind.HTTP, True),
        (APIStatusError, ErrorKind.API, False),
        (RateLimitError, ErrorKind.API, True),
        (ServerUnavailableError, ErrorKind.API, True),
        (ResponseDecodeError, ErrorKind.DESERIALIZATION, False),
        (StreamInterruptedError, ErrorKind.STREAM, True),
        (StreamStalledError, ErrorKind.STREAM, True),
        (ContentBlockedError, ErrorKind.API, False),
        (UnsupportedInputError, ErrorKind.CONFIGURATION, False),
    ],
)
def test_each_class_has_its_kind_and_default_retryability(
    cls: type[BotticelliError], kind: ErrorKind, retryable: bool
) -> None:
    err = cls("x")
    assert (err.kind, err.retryable, err.provider) == (kind, retryable, "botticelli")
    assert cls("x", retryable=not retryable).retryable is not retryable


def test_str_names_provider_status_server_message_and_request_id() -> None:
    err = APIStatusError("bad request", provider="local", status_code=400, server_message="no model", request_id="r-1")
    assert str(err) == "[local] HTTP 400: bad request (server said: no model) [request id r-1]"


def test_str_does_not_repeat_a_server_message_already_in_the_message() -> None:
    assert str(APIStatusError("no model", server_message="no model")) == "[botticelli] no model"


def test_repr_shows_only_set_attributes() -> None:
    err = RateLimitError("slow", provider="gemini", retry_after=3.0, quota="PerMinute")
    assert repr(err) == "RateLimitError('slow', provider='gemini', kind='api', retryable=True, retry_after=3.0)"
    assert err.quota == "PerMinute"


def test_the_body_is_truncated() -> None:
    assert len(BotticelliError("x", body="y" * 100_000).body or "") == 8192


def test_specific_attributes_are_kept() -> None:
    assert StreamStalledError("s", idle_timeout=1.5, partial_text="ab").idle_timeout == 1.5
    assert StreamInterruptedError("i", partial_text="ab").partial_text == "ab"
    assert RequestTimeoutError("t", timeout=2.0).timeout == 2.0
    assert ContentBlockedError("b", reason="SAFETY").reason == "SAFETY"
    assert UnsupportedInputError("u", input_type="audio").input_type == "audio"
