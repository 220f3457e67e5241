"""``ServerClient.embed(truncate=True)``: vLLM's switch on the wire, a typed error where a server has none."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from botticelli_error import InputTooLongError, TruncationUnsupportedError

from . import wire
from .support import make_client

pytestmark = pytest.mark.anyio

EMBEDDINGS_URL = f"{wire.BASE_URL}/v1/embeddings"

# vLLM's reply to a truncated input: one vector, usage counting the tokens kept (the model's context).
VLLM_TRUNCATED = {
    "id": "embd-1",
    "object": "list",
    "created": 1727346142,
    "model": "BAAI/bge-small-en-v1.5",
    "data": [{"index": 0, "object": "embedding", "embedding": [0.25, 0.75]}],
    "usage": {"prompt_tokens": 512, "total_tokens": 512, "completion_tokens": 0},
}
LLAMACPP_TOO_LARGE = {
    "error": {
        "code": 500,
        "message": "input (900 tokens) is too large to process. increase the physical batch size",
        "type": "server_error",
    }
}


async def test_truncation_is_asked_for_with_vllms_field_only_when_wanted() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(EMBEDDINGS_URL).respond(200, json=VLLM_TRUNCATED)
        async with make_client() as client:
            response = await client.embed(["x" * 5000], truncate=True)
            sent_truncating = json.loads(route.calls.last.request.content)
            await client.embed(["x"])
            sent_plain = json.loads(route.calls.last.request.content)
    assert sent_truncating["truncate_prompt_tokens"] == -1
    assert "truncate_prompt_tokens" not in sent_plain
    assert response.vectors == [[0.25, 0.75]]
    assert response.usage is not None
    assert response.usage.input_tokens == 512


@pytest.mark.parametrize(
    ("status", "body"),
    [(500, LLAMACPP_TOO_LARGE), (400, wire.LLAMACPP_EXCEED_CONTEXT)],
    ids=["llama.cpp-batch", "llama.cpp-context"],
)
async def test_a_server_that_refuses_anyway_cannot_truncate_and_says_which_input(
    status: int, body: dict[str, object]
) -> None:
    def reply(request: httpx.Request) -> httpx.Response:
        texts = json.loads(request.content)["input"]
        if any(len(t) > 10 for t in texts):
            return httpx.Response(status, json=body)
        return httpx.Response(200, json={"data": [{"index": i, "embedding": [1.0]} for i in range(len(texts))]})

    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(EMBEDDINGS_URL).mock(side_effect=reply)
        async with make_client(embed_batch_size=4, max_retries=0) as client:
            with pytest.raises(TruncationUnsupportedError) as caught:
                await client.embed(["ok", "x" * 50, "fine"], truncate=True)
            # Without truncate, the same refusal is the plain error.
            with pytest.raises(InputTooLongError) as plain:
                await client.embed(["ok", "x" * 50], truncate=False)
    err = caught.value
    assert isinstance(err, InputTooLongError)
    assert (err.index, err.backend, err.status_code) == (1, "local", status)
    assert "did not truncate" in err.message
    assert type(plain.value) is InputTooLongError
