"""Whatever Gemini (or a proxy in front of it) sends, the parsers fail only with typed errors."""

import contextlib
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from botticelli_error import BotticelliError, ErrorResponse
from botticelli_gemini.convert import to_response
from botticelli_gemini.errors import error_from_response
from botticelli_gemini.response import parse_generate_response
from botticelli_gemini.streaming import GeminiStreamDecoder
from botticelli_transport import ServerSentEvent

# Real field names, so generated objects reach deep into the models instead of being
# rejected at the top level.
KEYS = st.sampled_from(
    [
        "candidates", "content", "parts", "text", "thought", "functionCall", "name", "args", "role",
        "finishReason", "promptFeedback", "blockReason", "blockReasonMessage", "usageMetadata",
        "promptTokenCount", "candidatesTokenCount", "thoughtsTokenCount", "totalTokenCount",
        "modelVersion", "responseId", "error", "code", "message", "status", "details", "@type",
        "retryDelay", "violations", "quotaId", "reason", "links", "url",
    ]
)  # fmt: skip
SCALARS = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False) | st.text(max_size=12)
STRING_VALUES = st.sampled_from(
    [
        "STOP", "MAX_TOKENS", "SAFETY", "RESOURCE_EXHAUSTED", "type.googleapis.com/google.rpc.RetryInfo",
        "type.googleapis.com/google.rpc.QuotaFailure", "12.5s", "PerDay", "limit: 0", "model",
    ]
)  # fmt: skip
JSON: st.SearchStrategy[Any] = st.recursive(
    SCALARS | STRING_VALUES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS | st.text(max_size=5), inner, max_size=6),
    max_leaves=30,
)

# Shaped like a response, with every leaf of any type: exercises the models field by field.
PART = st.fixed_dictionaries({}, optional={"text": SCALARS, "thought": SCALARS, "functionCall": JSON})
CANDIDATE = st.fixed_dictionaries(
    {},
    optional={
        "content": st.fixed_dictionaries({}, optional={"parts": st.lists(PART, max_size=3) | JSON, "role": SCALARS}),
        "finishReason": SCALARS | STRING_VALUES,
    },
)
RESPONSE = st.fixed_dictionaries(
    {},
    optional={
        "candidates": st.lists(CANDIDATE, max_size=2),
        "usageMetadata": st.dictionaries(KEYS, SCALARS, max_size=4),
        "promptFeedback": st.dictionaries(KEYS, SCALARS | STRING_VALUES, max_size=2),
        "error": st.dictionaries(KEYS, JSON, max_size=4),
    },
)


def body(value: Any) -> bytes:
    return json.dumps(value).encode()


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(RESPONSE | JSON)
def test_a_whole_response_parses_or_raises_a_typed_error(value: Any) -> None:
    with contextlib.suppress(BotticelliError):
        to_response(parse_generate_response(body(value)))


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(RESPONSE | JSON, max_size=5))
def test_a_stream_of_arbitrary_events_decodes_or_raises_a_typed_error(values: list[Any]) -> None:
    decoder = GeminiStreamDecoder()
    try:
        for value in values:
            decoder.decode(ServerSentEvent(body(value)))
        decoder.finish()
    except BotticelliError:
        pass


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(300, 599), JSON | st.text(max_size=40))
def test_any_error_body_maps_to_a_typed_error(status: int, value: Any) -> None:
    text = value if isinstance(value, str) else json.dumps(value)
    err = error_from_response(ErrorResponse("gemini", status, {}, text, None))
    assert isinstance(err, BotticelliError)
    assert err.status_code == status


@given(st.binary(max_size=64))
def test_arbitrary_bytes_never_escape_as_untyped_errors(data: bytes) -> None:
    with contextlib.suppress(BotticelliError):
        to_response(parse_generate_response(data))
