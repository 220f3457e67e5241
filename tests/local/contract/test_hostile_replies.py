"""Whatever a server answers, only a ``BotticelliError`` comes out of a call.

Deep nesting (past the interpreter's recursion limit), wait headers that are not finite
numbers, bytes that are not UTF-8, a NUL byte, and JSON of the wrong kind where an object
belongs: each thrown at ``generate`` and ``generate_stream`` of the local-server and Gemini
clients, whole, as an error body and as a stream event.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from functools import partial
from typing import Any

import anyio
import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from botticelli_core import GenerateRequest
from botticelli_error import BotticelliError, ConfigurationError, UnsupportedInputError
from botticelli_gemini import GeminiClient, GeminiConfig
from botticelli_server import ServerClient, ServerConfig
from tests.local.gemini import wire as gemini_wire
from tests.local.server import wire as server_wire

pytestmark = pytest.mark.anyio

Client = ServerClient | GeminiClient
REQUEST = GenerateRequest.from_prompt("Hi", max_tokens=8)
JSON = {"content-type": "application/json"}
SSE = {"content-type": "text/event-stream"}
DEEP = 100_000


def local() -> tuple[Client, str, str]:
    config = ServerConfig(base_url=server_wire.BASE_URL, model="default", max_retries=1)
    return ServerClient(config), server_wire.CHAT_URL, server_wire.CHAT_URL


def gemini() -> tuple[Client, str, str]:
    config = GeminiConfig(api_key=gemini_wire.API_KEY, base_url=gemini_wire.BASE_URL, max_retries=1)
    base = gemini_wire.BASE_URL
    return GeminiClient(config), base + gemini_wire.GENERATE_PATH, base + gemini_wire.STREAM_PATH


BACKENDS: dict[str, Callable[[], tuple[Client, str, str]]] = {"local": local, "gemini": gemini}

# Bodies that are no answer: deep nesting, broken bytes, JSON of the wrong kind.
BAD_JSON: dict[str, bytes] = {
    "deep arrays": b"[" * DEEP + b"]" * DEEP,
    "deep arrays, unclosed": b"[" * DEEP,
    "deep objects": b'{"a":' * DEEP + b"1" + b"}" * DEEP,
    "deep error object": b'{"error":' * DEEP + b"{}" + b"}" * DEEP,
    "deep inside an answer": b'{"choices":[{"delta":' + b"[" * DEEP + b"]" * DEEP + b"}]}",
    "deep inside a Gemini answer": b'{"candidates":[{"content":{"parts":' + b"[" * DEEP + b"]" * DEEP + b"}}]}",
    "invalid UTF-8": b'{"choices": [{"message": {"content": "\xff\xfe\xc3("}}], "candidates": "\xff"}',
    "a NUL byte": b'{"choices": [{"message": {"content": "a\x00b"}}]}\x00',
    "a lone surrogate escape": b'{"choices": [{"delta": {"content": "\\ud800"}, "finish_reason": "stop"}]}',
    "null": b"null",
    "a number": b"12345678901234567890123456789e999999",
    "a string": b'"hello"',
    "an array": b"[1, 2, 3]",
    "error null": b'{"error": null}',
    "error a number": b'{"error": 5}',
    "error a list": b'{"error": [{"message": "x"}]}',
    "error fields of the wrong kind": b'{"error": {"code": "x", "message": 5, "status": [], "details": {}}}',
    "error details of the wrong kind": b'{"error": {"code": 429, "details": [null, 5, {"@type": 7}]}}',
    "choices null": b'{"choices": null}',
    "choices of the wrong kind": b'{"choices": [null, 5, "x"]}',
    "message of the wrong kind": b'{"choices": [{"message": 5, "delta": [], "finish_reason": 7}]}',
    "usage of the wrong kind": b'{"choices": [], "usage": {"prompt_tokens": "many", "completion_tokens": 1e400}}',
    "candidates of the wrong kind": b'{"candidates": [null, 5, {"content": 7}]}',
    "parts of the wrong kind": b'{"candidates": [{"content": {"parts": [null, 5, {"text": 7}]}}]}',
    "promptFeedback of the wrong kind": b'{"promptFeedback": 5}',
    "usageMetadata of the wrong kind": b'{"candidates": [], "usageMetadata": {"promptTokenCount": 1e400}}',
    "a huge integer": b'{"choices": [], "usage": {"prompt_tokens": ' + b"9" * 5000 + b"}}",
    "a huge Gemini integer": b'{"candidates": [{"content": {"parts": [{"text": "a"}]}, "finishReason": "STOP"}], '
    b'"usageMetadata": {"promptTokenCount": ' + b"9" * 5000 + b"}}",
    "a huge error code": b'{"error": {"code": ' + b"9" * 5000 + b', "message": "x"}}',
    "an error code out of range": b'{"error": {"code": 1e400, "message": "x", "status": "INTERNAL"}}',
    "a NaN literal": b'{"choices": [{"message": {"content": "x"}}], "usage": {"prompt_tokens": NaN}, '
    b'"candidates": [{"content": {"parts": [{"text": "a"}]}}], "usageMetadata": {"promptTokenCount": NaN}}',
}
WAITS: dict[str, dict[str, str]] = {
    "Retry-After: nan": {"retry-after": "nan"},
    "Retry-After: inf": {"retry-after": "inf"},
    "Retry-After: -inf": {"retry-after": "-inf"},
    "Retry-After: -1": {"retry-after": "-1"},
    "Retry-After: 1e400": {"retry-after": "1e400"},
    "Retry-After: a huge integer": {"retry-after": "9" * 5000},
    "Retry-After: a date out of range": {"retry-after": "Fri, 31 Dec 99999 23:59:59 GMT"},
    "retry-after-ms: nan": {"retry-after-ms": "nan"},
    "retry-after-ms: inf": {"retry-after-ms": "inf"},
    "retry-after-ms: -5": {"retry-after-ms": "-5"},
    "retry-after-ms: 1e400": {"retry-after-ms": "1e400"},
}


def answer(
    status: int, headers: dict[str, str] | list[tuple[bytes, bytes]], content: bytes
) -> Callable[[], httpx.Response]:
    """A fresh reply per attempt (a response's body can be read once)."""
    return partial(httpx.Response, status, headers=headers, content=content)


def _replies() -> dict[str, Callable[[], httpx.Response]]:
    replies: dict[str, Callable[[], httpx.Response]] = {}
    for name, body in BAD_JSON.items():
        for status in (200, 400, 500):
            replies[f"{status} {name}"] = answer(status, JSON, body)
        replies[f"event: {name}"] = answer(200, SSE, b"data: " + body + b"\n\n")
        replies[f"error event: {name}"] = answer(200, SSE, b"event: error\ndata: " + body + b"\n\n")
    rate_limited = json.dumps({"error": {"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED"}}).encode()
    for name, headers in WAITS.items():
        for status in (429, 503):
            replies[f"{status} {name}"] = answer(status, {**JSON, **headers}, rate_limited)
    for name, delay in {"nan": "nans", "huge": "1e400s"}.items():
        info = gemini_wire.error(429, "RESOURCE_EXHAUSTED", f"Please retry in {delay}.", gemini_wire.retry_info(delay))
        replies[f"gemini RetryInfo {name}"] = answer(429, JSON, json.dumps(info).encode())
    for name, raw in {
        "Retry-After: bytes that are not UTF-8": (b"retry-after", b"\xff\xfe"),
        "Retry-After: a NUL byte": (b"retry-after", b"1\x00"),
        "retry-after-ms: bytes that are not UTF-8": (b"retry-after-ms", b"\xff"),
        "a request id that is not UTF-8": (b"x-request-id", b"\xff\xfe\x00"),
    }.items():
        replies[f"503 {name}"] = answer(503, [(b"content-type", b"application/json"), raw], rate_limited)
    replies["an unframed NUL line"] = answer(200, SSE, b"\x00\x00\n")
    replies["invalid UTF-8 event"] = answer(200, SSE, b"data: \xff\xfe\n\n")
    return replies


REPLIES = _replies()


async def call(model: Client, operation: str) -> None:
    if operation == "generate":
        await model.generate(REQUEST)
        return
    async with model.generate_stream(REQUEST) as stream:
        _ = [chunk async for chunk in stream]


async def throw(backend: str, operation: str, reply: Callable[[], httpx.Response]) -> None:
    """Answer every attempt of one call with ``reply``; anything but a BotticelliError fails the test."""
    model, generate_url, stream_url = BACKENDS[backend]()
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(url__startswith=generate_url if operation == "generate" else stream_url).mock(
            side_effect=lambda request: reply()
        )
        failure: BotticelliError | None = None
        try:
            await call(model, operation)
        except BotticelliError as exc:
            failure = exc
        finally:
            await model.aclose()
    # The request was valid: whatever went wrong is the server's doing, never a settings error.
    assert not isinstance(failure, ConfigurationError | UnsupportedInputError), repr(failure)


@pytest.fixture(autouse=True)
def no_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_wait(seconds: float) -> None:
        # The real sleep refuses NaN with a ValueError: a wait must be a number by the time it sleeps.
        assert math.isfinite(seconds), seconds
        assert seconds >= 0, seconds

    monkeypatch.setattr(anyio, "sleep", no_wait)


@pytest.mark.parametrize("operation", ["generate", "generate_stream"])
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("reply", REPLIES.values(), ids=REPLIES.keys())
async def test_only_botticelli_errors_come_out(
    backend: str, operation: str, reply: Callable[[], httpx.Response]
) -> None:
    await throw(backend, operation, reply)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12,
)
KEYS = [
    "choices",
    "delta",
    "message",
    "content",
    "finish_reason",
    "usage",
    "error",
    "code",
    "message",
    "status",
    "details",
    "candidates",
    "parts",
    "text",
    "promptFeedback",
    "blockReason",
    "usageMetadata",
    "object",
]


def _shaped(value: Any, keys: list[str]) -> Any:
    """Put ``value`` under the wire's own keys, so it reaches the parsers' inner fields."""
    for key in keys:
        value = {key: value}
    return value


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    backend=st.sampled_from(sorted(BACKENDS)),
    operation=st.sampled_from(["generate", "generate_stream"]),
    status=st.sampled_from([200, 400, 429, 500, 503]),
    keys=st.lists(st.sampled_from(KEYS), max_size=4),
    value=JSON_VALUES,
)
async def test_only_botticelli_errors_come_out_of_arbitrary_json(
    backend: str, operation: str, status: int, keys: list[str], value: Any
) -> None:
    body = json.dumps(_shaped(value, keys), allow_nan=True).encode()
    headers = SSE if operation == "generate_stream" and status == 200 else JSON
    content = b"data: " + body + b"\n\n" if headers is SSE else body
    await throw(backend, operation, lambda: httpx.Response(status, headers=headers, content=content))


EXTRA: dict[str, Callable[[], httpx.Response]] = {
    "gzip that is not gzip": lambda: httpx.Response(
        200, headers={**JSON, "content-encoding": "gzip"}, content=b"not gzip at all"
    ),
    "an unknown content encoding": lambda: httpx.Response(
        200, headers={**JSON, "content-encoding": "x-unheard-of"}, content=b"{}"
    ),
    "an SSE stream that is not gzip": lambda: httpx.Response(
        200, headers={**SSE, "content-encoding": "gzip"}, content=b"data: {}\n\n"
    ),
    "204 no content": lambda: httpx.Response(204),
    "299": lambda: httpx.Response(299, headers=JSON, content=b"{}"),
    "599": lambda: httpx.Response(599, headers=JSON, content=b"{}"),
    "a tool call with arguments of the wrong kind": lambda: httpx.Response(
        200,
        headers=JSON,
        content=json.dumps(
            {
                "choices": [{"message": {"tool_calls": [{"id": 5, "function": {"name": None, "arguments": [1]}}]}}],
                "candidates": [{"content": {"parts": [{"functionCall": {"name": 5, "args": [1]}}]}}],
            }
        ).encode(),
    ),
    "a streamed tool call with arguments of the wrong kind": lambda: httpx.Response(
        200,
        headers=SSE,
        content=b"data: "
        + json.dumps(
            {
                "choices": [{"delta": {"tool_calls": [{"index": "x", "function": {"arguments": 5}}]}}],
                "candidates": [{"content": {"parts": [{"functionCall": {"name": "f", "args": [1]}}]}}],
            }
        ).encode()
        + b"\n\n",
    ),
    "a model name of the wrong kind": lambda: httpx.Response(
        200, headers=SSE, content=b'data: {"model": 5, "modelVersion": [], "choices": [], "candidates": []}\n\n'
    ),
    "a finish reason of the wrong kind": lambda: httpx.Response(
        200,
        headers=SSE,
        content=b'data: {"choices": [{"delta": {}, "finish_reason": {}}], "candidates": [{"finishReason": 5}]}\n\n',
    ),
    "text of the wrong kind": lambda: httpx.Response(
        200,
        headers=SSE,
        content=b'data: {"choices": [{"delta": {"content": 5, "reasoning_content": []}}], '
        b'"candidates": [{"content": {"parts": [{"text": 5, "thought": "yes"}]}}]}\n\n',
    ),
    "a request id of the wrong size": lambda: httpx.Response(
        500, headers={**JSON, "x-request-id": "r" * 100_000}, content=b"{}"
    ),
}


@pytest.mark.parametrize("operation", ["generate", "generate_stream"])
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("reply", EXTRA.values(), ids=EXTRA.keys())
async def test_only_botticelli_errors_come_out_of_odd_replies(
    backend: str, operation: str, reply: Callable[[], httpx.Response]
) -> None:
    await throw(backend, operation, reply)
