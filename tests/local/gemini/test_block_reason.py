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
from botticelli_error import ContentBlockedError
from botticelli_gemini import GeminiClient, GeminiConfig

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
    with respx.mock(base_url=wire.BASE_URL, assert_all_mocked=True) as router:
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
