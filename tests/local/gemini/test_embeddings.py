"""``GeminiClient.embed`` over ``:batchEmbedContents`` and ``count_tokens`` as a ``TokenCount``.

Fixtures follow Google's reference (ai.google.dev/api/embeddings): a
``BatchEmbedContentsRequest`` is ``{"requests": [EmbedContentRequest]}`` with
``model``, ``content.parts[].text``, ``taskType`` and ``outputDimensionality``; the reply
is ``{"embeddings": [{"values": [...]}]}`` in request order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
import respx

from botticelli_core import GenerateRequest, TokenCount
from botticelli_error import (
    ConfigurationError,
    EmbeddingShapeError,
    RateLimitError,
    ResponseDecodeError,
    UnsupportedInputError,
)
from botticelli_gemini import RateLimits
from botticelli_interface import SupportsCountTokens, SupportsEmbed

from . import wire
from .test_client import make_client

pytestmark = pytest.mark.anyio

BATCH_PATH = "/v1beta/models/gemini-embedding-001:batchEmbedContents"


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(using="httpx", base_url=wire.BASE_URL, assert_all_mocked=True, assert_all_called=False) as router:
        yield router


def reply_for(request: httpx.Request) -> httpx.Response:
    """Each text's vector is [its number, 0.5]: the order of the reply can be checked."""
    body = json.loads(request.content)
    values = [[float(r["content"]["parts"][0]["text"]), 0.5] for r in body["requests"]]
    return httpx.Response(200, json={"embeddings": [{"values": v} for v in values]})


def test_the_client_has_both_capabilities() -> None:
    client = make_client()
    assert isinstance(client, SupportsEmbed)
    assert isinstance(client, SupportsCountTokens)


async def test_the_batch_request_is_field_for_field_googles(api: respx.MockRouter) -> None:
    route = api.post(BATCH_PATH).mock(side_effect=reply_for)
    async with make_client() as client:
        response = await client.embed(["1", "2"], task="RETRIEVAL_DOCUMENT", dimensions=2)
    assert response.vectors == [[1.0, 0.5], [2.0, 0.5]]
    assert response.model == "gemini-embedding-001"
    assert json.loads(route.calls.last.request.content) == {
        "requests": [
            {
                "model": "models/gemini-embedding-001",
                "content": {"parts": [{"text": "1"}]},
                "taskType": "RETRIEVAL_DOCUMENT",
                "outputDimensionality": 2,
            },
            {
                "model": "models/gemini-embedding-001",
                "content": {"parts": [{"text": "2"}]},
                "taskType": "RETRIEVAL_DOCUMENT",
                "outputDimensionality": 2,
            },
        ]
    }


async def test_task_and_dimensions_are_omitted_unless_given_and_the_model_may_be_named(
    api: respx.MockRouter,
) -> None:
    route = api.post("/v1beta/models/text-embedding-004:batchEmbedContents").mock(side_effect=reply_for)
    async with make_client() as client:
        await client.embed(["1"], model="models/text-embedding-004")
    assert json.loads(route.calls.last.request.content) == {
        "requests": [{"model": "models/text-embedding-004", "content": {"parts": [{"text": "1"}]}}]
    }


async def test_more_than_100_texts_are_split_into_batches_and_reassembled_in_order(api: respx.MockRouter) -> None:
    route = api.post(BATCH_PATH).mock(side_effect=reply_for)
    texts = [str(i) for i in range(250)]
    async with make_client() as client:
        response = await client.embed(texts)
    assert [len(json.loads(c.request.content)["requests"]) for c in route.calls] == [100, 100, 50]
    assert [v[0] for v in response.vectors] == [float(i) for i in range(250)]


async def test_each_batch_is_one_call_to_the_embedding_models_rate_limiter(api: respx.MockRouter) -> None:
    api.post(BATCH_PATH).mock(side_effect=reply_for)
    limits = {"gemini-embedding-001": RateLimits(requests_per_day=2)}
    async with make_client(rate_limits=limits) as client:
        with pytest.raises(RateLimitError):
            await client.embed([str(i) for i in range(201)])  # three batches, two allowed
        assert client._limiters["gemini-embedding-001"].requests_today == 2


async def test_an_unknown_task_type_is_refused_before_sending(api: respx.MockRouter) -> None:
    async with make_client() as client:
        with pytest.raises(ConfigurationError, match="RETRIEVAL_QUERY"):
            await client.embed(["x"], task="retrieval")


async def test_a_malformed_model_id_is_refused_before_sending(api: respx.MockRouter) -> None:
    async with make_client() as client:
        with pytest.raises(ConfigurationError):
            await client.embed(["x"], model="../generateContent")


async def test_truncation_is_refused_before_sending_since_the_api_has_no_switch(api: respx.MockRouter) -> None:
    route = api.post(BATCH_PATH).mock(side_effect=reply_for)
    async with make_client() as client:
        with pytest.raises(UnsupportedInputError) as caught:
            await client.embed(["1"], truncate=True)
        assert (await client.embed(["1"], truncate=False)).vectors == [[1.0, 0.5]]
    assert (caught.value.input_type, caught.value.provider) == ("truncate", "gemini")
    assert route.call_count == 1


async def test_a_batch_with_too_few_embeddings_is_a_shape_error(api: respx.MockRouter) -> None:
    api.post(BATCH_PATH).respond(200, json={"embeddings": [{"values": [0.1]}]})
    async with make_client() as client:
        with pytest.raises(EmbeddingShapeError) as caught:
            await client.embed(["1", "2"])
    assert (caught.value.shape, caught.value.provider) == ("count", "gemini")


async def test_a_reply_off_the_documented_shape_is_a_decode_error(api: respx.MockRouter) -> None:
    api.post(BATCH_PATH).respond(200, json={"embeddings": [{"values": "nope"}]})
    async with make_client() as client:
        with pytest.raises(ResponseDecodeError, match="batchEmbedContents"):
            await client.embed(["1"])


async def test_count_tokens_is_an_exact_token_count(api: respx.MockRouter) -> None:
    api.post(f"/v1beta/models/{wire.MODEL}:countTokens").respond(200, json={"totalTokens": 31})
    async with make_client() as client:
        count = await client.count_tokens(GenerateRequest.from_prompt("hi", system="Be terse."))
    assert count == TokenCount(input_tokens=31, exact=True)
    assert isinstance(count, TokenCount)
