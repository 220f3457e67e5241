"""A prompt Gemini blocked (HTTP 200, ``promptFeedback.blockReason``) is a ``ContentBlockedError``, whole and streamed.

Never a plain ``APIStatusError`` with status 200, nor a decode error, and sent once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from botticelli_core import GenerateRequest
from botticelli_error import ContentBlockedError, ErrorResponse, ResponseDecodeError
from botticelli_gemini import GeminiClient, GeminiConfig
from botticelli_gemini.errors import error_from_response

from . import wire

pytestmark = pytest.mark.anyio

FEEDBACK = {"blockReason": "PROHIBITED_CONTENT", "blockReasonMessage": "The prompt is not allowed."}
BLOCKED: dict[str, tuple[dict[str, Any], str]] = {
    "the documented reply": (wire.BLOCKED_PROMPT, "SAFETY"),
    "an empty candidate list": ({"candidates": [], "promptFeedback": FEEDBACK}, "PROHIBITED_CONTENT"),
    "null candidates": ({"candidates": None, "promptFeedback": FEEDBACK}, "PROHIBITED_CONTENT"),
    "a reason this client does not know": ({"promptFeedback": {"blockReason": "IMAGE_SAFETY"}}, "IMAGE_SAFETY"),
    "a message but no reason": ({"promptFeedback": {"blockReasonMessage": "blocked"}}, "BLOCK_REASON_UNSPECIFIED"),
}


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(using="httpx", base_url=wire.BASE_URL, assert_all_mocked=True) as router:
        yield router


def client() -> GeminiClient:
    return GeminiClient(GeminiConfig(api_key=wire.API_KEY, base_url=wire.BASE_URL, max_retries=2))


async def read(model: GeminiClient) -> None:
    async with model.generate_stream(GenerateRequest.from_prompt("Hi")) as stream:
        _ = [chunk async for chunk in stream]


@pytest.mark.parametrize(("body", "reason"), BLOCKED.values(), ids=BLOCKED.keys())
async def test_a_blocked_prompt_is_content_blocked_when_generated_whole(
    api: respx.MockRouter, body: dict[str, Any], reason: str
) -> None:
    route = api.post(wire.GENERATE_PATH).respond(200, json=body)
    async with client() as model:
        with pytest.raises(ContentBlockedError) as caught:
            await model.generate(GenerateRequest.from_prompt("Hi"))
    assert (caught.value.reason, caught.value.status_code, caught.value.retryable) == (reason, None, False)
    assert route.call_count == 1


@pytest.mark.parametrize(("body", "reason"), BLOCKED.values(), ids=BLOCKED.keys())
async def test_a_blocked_prompt_is_content_blocked_when_streamed(
    api: respx.MockRouter, body: dict[str, Any], reason: str
) -> None:
    route = api.post(wire.STREAM_PATH).mock(
        return_value=httpx.Response(200, headers={"content-type": "text/event-stream"}, content=wire.sse(body))
    )
    async with client() as model:
        with pytest.raises(ContentBlockedError) as caught:
            await read(model)
    assert (caught.value.reason, caught.value.status_code, caught.value.retryable) == (reason, None, False)
    assert route.call_count == 1


@pytest.mark.parametrize(
    "body",
    [{"promptFeedback": {"blockReason": "SAFETY"}, "error": None}, {"promptFeedback": {"blockReason": "SAFETY"}}],
    ids=["naming error", "the documented reply"],
)
async def test_a_block_answered_whole_to_a_stream_request_is_still_content_blocked(
    api: respx.MockRouter, body: dict[str, Any]
) -> None:
    # Not the event stream asked for, but the transport hands a 2xx JSON object to the
    # backend's mapper, and this one says what happened: a block.
    route = api.post(wire.STREAM_PATH).respond(200, json=body)
    async with client() as model:
        with pytest.raises(ContentBlockedError) as caught:
            await read(model)
    assert (caught.value.reason, caught.value.retryable) == ("SAFETY", False)
    assert route.call_count == 1


@pytest.mark.parametrize(
    "body",
    [
        '{"error": "blocked"}',
        '{"promptFeedback": 5, "error": {}}',
        '{"promptFeedback": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"promptFeedback": {"blockReason": "SAFETY"}, "candidates": [{"finishReason": "STOP"}], "error": null}',
    ],
    ids=["no feedback", "feedback of the wrong kind", "deep feedback", "feedback beside an answer"],
)
def test_a_2xx_body_that_is_no_block_stays_a_decode_error(body: str) -> None:
    error = error_from_response(ErrorResponse("gemini", 200, {}, body, None))
    assert type(error) is ResponseDecodeError
