"""A hostile error body nested deeper than the interpreter's recursion limit is still a typed error."""

from __future__ import annotations

from typing import Any

import pytest

from botticelli_error import BotticelliError, ErrorResponse, ServerUnavailableError, StreamInterruptedError, loads_json
from botticelli_gemini import errors as gemini
from botticelli_server import errors as server

DEPTH = 100_000
DEEP_TEXT = '{"error": ' * DEPTH + "1" + "}" * DEPTH


def deep_object() -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(DEPTH):
        value = {"a": value}
    return value


def test_loads_json_gives_none_rather_than_recursion_error() -> None:
    assert loads_json(DEEP_TEXT) is None
    assert ErrorResponse("local", 500, {}, DEEP_TEXT, None).json() is None


@pytest.mark.parametrize("mapper", [server.error_from_response, gemini.error_from_response])
def test_a_deeply_nested_error_body_maps_by_status(mapper: Any) -> None:
    err = mapper(ErrorResponse("x", 503, {}, DEEP_TEXT, None))
    assert isinstance(err, ServerUnavailableError)
    assert err.retryable is True


def test_a_deeply_nested_detail_or_stream_error_object_is_described_not_raised() -> None:
    fields = server.error_fields({"detail": deep_object()})
    assert fields.message is not None
    assert "nested too deeply" in fields.message
    err = server.stream_error(deep_object())
    assert isinstance(err, StreamInterruptedError)
    assert isinstance(err, BotticelliError)
    assert err.body is not None
