"""``ServerClient.embed``: both reply shapes, pooling, batching in order, inputs over the context."""

from __future__ import annotations

import json
import logging

import anyio
import httpx
import pytest
import respx

from botticelli_error import (
    BadRequestError,
    BotticelliError,
    EmbeddingShapeError,
    InputTooLongError,
    ResponseDecodeError,
    ServerUnavailableError,
)
from botticelli_interface import SupportsCountTokens, SupportsEmbed
from botticelli_server.embeddings import EmbeddingList, is_over_context, vectors_of

from . import wire
from .support import make_client

pytestmark = pytest.mark.anyio

EMBEDDINGS_URL = f"{wire.BASE_URL}/v1/embeddings"


def openai_reply(vectors: list[list[float]], *, model: str = "nomic-embed", tokens: int = 4) -> dict[str, object]:
    """OpenAI's shape (also llama.cpp with a pooling type, vLLM, Ollama): one flat vector per input."""
    return {
        "object": "list",
        "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


# llama-cpp-python started with --embedding true on a model without a pooling type: per-token vectors.
TOKEN_LEVEL = {
    "object": "list",
    "data": [{"object": "embedding", "index": 0, "embedding": [[1.0, 2.0, 3.0], [3.0, 4.0, 5.0]]}],
    "model": "tiny.gguf",
    "usage": {"prompt_tokens": 2, "total_tokens": 2},
}


def test_the_server_client_has_both_capabilities() -> None:
    client = make_client()
    assert isinstance(client, SupportsEmbed)
    assert isinstance(client, SupportsCountTokens)


async def test_one_vector_per_input_in_input_order_with_model_and_usage() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        # The server lists the entries out of order; their index fields put them back.
        reply = openai_reply([[0.1, 0.2], [0.3, 0.4]])
        reply["data"] = list(reversed(reply["data"]))  # type: ignore[call-overload]
        route = mock.post(EMBEDDINGS_URL).respond(200, json=reply)
        async with make_client() as client:
            response = await client.embed(["first", "second"], dimensions=2)
    assert response.vectors == [[0.1, 0.2], [0.3, 0.4]]
    assert response.model == "nomic-embed"
    assert response.usage is not None
    assert (response.usage.input_tokens, response.usage.output_tokens) == (4, 0)
    sent = json.loads(route.calls.last.request.content)
    assert sent == {"model": "default", "input": ["first", "second"], "encoding_format": "float", "dimensions": 2}


async def test_the_embedding_model_of_the_config_is_asked_for_and_dimensions_are_omitted_unless_given() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(EMBEDDINGS_URL).respond(200, json=openai_reply([[1.0]]))
        async with make_client(embedding_model="nomic") as client:
            await client.embed(["a"])
    assert json.loads(route.calls.last.request.content) == {
        "model": "nomic",
        "input": ["a"],
        "encoding_format": "float",
    }


async def test_no_texts_sends_nothing() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True):
        async with make_client() as client:
            response = await client.embed([])
    assert (response.vectors, response.dimensions) == ([], 0)


async def test_token_level_embeddings_are_refused_naming_what_the_server_returned() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(EMBEDDINGS_URL).respond(200, json=TOKEN_LEVEL)
        async with make_client() as client:
            with pytest.raises(EmbeddingShapeError) as caught:
                await client.embed(["hello world"])
    err = caught.value
    assert (err.shape, err.index, err.provider) == ("token-level", 0, "local")
    assert "2 vectors of 3 floats" in err.message
    assert 'pooling="mean"' in err.message
    assert isinstance(err, ResponseDecodeError)


@pytest.mark.parametrize(
    ("dialect", "server_advice", "not_said"),
    [
        # llama-cpp-python's server has no pooling option: "start the server with one" cannot be followed there.
        ("llama-cpp-python", "llama-cpp-python's server has no pooling option", "--pooling"),
        ("llama.cpp", "start llama-server with --pooling mean", "has no pooling option"),
        ("openai", "llama-server: --pooling mean; llama-cpp-python's server has none", "start the server with one"),
    ],
)
async def test_a_token_level_refusal_names_the_argument_the_setting_and_what_the_server_can_do(
    dialect: str, server_advice: str, not_said: str
) -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(EMBEDDINGS_URL).respond(200, json=TOKEN_LEVEL)
        async with make_client(dialect=dialect) as client:
            with pytest.raises(EmbeddingShapeError) as caught:
                await client.embed(["hello world"])
    message = caught.value.message
    # The Python argument, and the setting `botticelli embed` reads (it has no --pooling option).
    assert 'pass pooling="mean" to embed()' in message
    assert 'embed_pooling = "mean" under [model.local]' in message
    assert server_advice in message
    assert not_said not in message


@pytest.mark.parametrize("where", ["call", "config"])
async def test_token_level_embeddings_are_mean_pooled_when_asked(where: str) -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(EMBEDDINGS_URL).respond(200, json=TOKEN_LEVEL)
        if where == "call":
            async with make_client() as client:
                response = await client.embed(["hello world"], pooling="mean")
        else:
            async with make_client(embed_pooling="mean") as client:
                response = await client.embed(["hello world"])
    assert response.vectors == [[2.0, 3.0, 4.0]]


async def test_a_token_level_error_names_the_index_in_the_callers_list_not_in_its_batch() -> None:
    def reply(request: httpx.Request) -> httpx.Response:
        texts = json.loads(request.content)["input"]
        if texts == ["c"]:
            return httpx.Response(200, json=TOKEN_LEVEL)
        return httpx.Response(200, json=openai_reply([[1.0, 1.0, 1.0]] * len(texts)))

    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(EMBEDDINGS_URL).mock(side_effect=reply)
        async with make_client(embed_batch_size=2) as client:
            with pytest.raises(EmbeddingShapeError) as caught:
                await client.embed(["a", "b", "c"])
    assert caught.value.index == 2


def test_token_vectors_of_different_lengths_are_not_pooled() -> None:
    reply = EmbeddingList.model_validate({"data": [{"index": 0, "embedding": [[1.0, 2.0], [3.0]]}]})
    with pytest.raises(EmbeddingShapeError) as caught:
        vectors_of(reply, 1, pooling="mean")
    assert caught.value.shape == "ragged"


async def test_flat_vectors_of_different_lengths_are_a_shape_error_not_a_ragged_response() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(EMBEDDINGS_URL).respond(200, json=openai_reply([[1.0, 2.0], [3.0]]))
        async with make_client() as client:
            with pytest.raises(EmbeddingShapeError) as caught:
                await client.embed(["a", "b"])
    assert (caught.value.shape, caught.value.index) == ("ragged", 1)


@pytest.mark.parametrize(
    "data",
    [
        [{"index": 0, "embedding": [1.0]}],
        [{"index": 0, "embedding": [1.0]}, {"index": 0, "embedding": [2.0]}],
    ],
    ids=["missing", "duplicate-index"],
)
async def test_not_one_entry_per_input_is_a_count_error(data: list[dict[str, object]]) -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(EMBEDDINGS_URL).respond(200, json={"data": data})
        async with make_client() as client:
            with pytest.raises(EmbeddingShapeError) as caught:
                await client.embed(["a", "b"])
    assert caught.value.shape == "count"


async def test_a_reply_that_is_not_an_embedding_list_is_a_decode_error() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(EMBEDDINGS_URL).respond(200, json={"data": [{"embedding": "base64..."}]})
        async with make_client() as client:
            with pytest.raises(ResponseDecodeError, match="not an embedding list"):
                await client.embed(["a"])


async def test_large_inputs_are_batched_with_bounded_concurrency_and_reassembled_in_order() -> None:
    in_flight = peak = 0

    async def reply(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        texts = json.loads(request.content)["input"]
        # Later batches answer sooner, so completion order differs from input order.
        await anyio.sleep(0.02 / (1 + int(texts[0])))
        in_flight -= 1
        return httpx.Response(200, json=openai_reply([[float(t)] for t in texts], tokens=len(texts)))

    texts = [str(i) for i in range(10)]
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(EMBEDDINGS_URL).mock(side_effect=reply)
        async with make_client(embed_batch_size=3, embed_concurrency=2) as client:
            response = await client.embed(texts)
    assert response.vectors == [[float(i)] for i in range(10)]
    sent = sorted((json.loads(c.request.content)["input"] for c in route.calls), key=lambda batch: int(batch[0]))
    assert sent == [["0", "1", "2"], ["3", "4", "5"], ["6", "7", "8"], ["9"]]
    assert peak == 2
    assert response.usage is not None
    assert response.usage.input_tokens == 10


async def test_an_input_over_the_context_is_named_by_its_index() -> None:
    def reply(request: httpx.Request) -> httpx.Response:
        texts = json.loads(request.content)["input"]
        if any(len(t) > 10 for t in texts):
            return httpx.Response(400, json=wire.LLAMACPP_EXCEED_CONTEXT)
        return httpx.Response(200, json=openai_reply([[1.0]] * len(texts)))

    texts = ["short", "tiny", "small", "x" * 50, "fine"]
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(EMBEDDINGS_URL).mock(side_effect=reply)
        async with make_client(embed_batch_size=2) as client:
            with pytest.raises(InputTooLongError) as caught:
                await client.embed(texts)
    err = caught.value
    assert (err.index, err.input_tokens, err.context_length, err.status_code) == (3, 5012, 4096, 400)
    assert not err.retryable
    assert "input 3" in err.message


async def test_an_other_error_of_a_batch_is_raised_as_the_transport_typed_it() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(EMBEDDINGS_URL).respond(
            503, json={"error": {"message": "Loading model", "type": "unavailable_error"}}
        )
        async with make_client(max_retries=0) as client:
            with pytest.raises(ServerUnavailableError):
                await client.embed(["a"])


@pytest.mark.parametrize(
    ("status", "body", "over"),
    [
        (400, wire.LLAMACPP_EXCEED_CONTEXT, True),
        (500, {"error": {"message": "input is too large to process. increase the physical batch size"}}, True),
        (400, {"object": "error", "message": "This model's maximum context length is 512 tokens."}, True),
        (400, {"detail": "Requested tokens (900) exceed context window of 512"}, True),
        (400, wire.LLAMACPP_INVALID, False),
        (500, {"error": {"message": "CUDA out of memory"}}, False),
    ],
)
async def test_which_errors_say_an_input_is_over_the_context(status: int, body: dict[str, object], over: bool) -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(EMBEDDINGS_URL).respond(status, json=body)
        async with make_client(max_retries=0) as client:
            with pytest.raises(BotticelliError) as caught:
                await client.embed(["a"])
    assert isinstance(caught.value, InputTooLongError) is over
    assert is_over_context(caught.value) is over


async def test_each_input_fitting_alone_keeps_the_batch_error() -> None:
    def reply(request: httpx.Request) -> httpx.Response:
        texts = json.loads(request.content)["input"]
        if len(texts) > 1:
            return httpx.Response(400, json=wire.LLAMACPP_EXCEED_CONTEXT)
        return httpx.Response(200, json=openai_reply([[1.0]]))

    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(EMBEDDINGS_URL).mock(side_effect=reply)
        async with make_client() as client:
            with pytest.raises(BadRequestError) as caught:
                await client.embed(["a", "b"])
    assert not isinstance(caught.value, InputTooLongError)


async def test_an_embed_call_logs_one_event_with_its_operation_and_tokens(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="botticelli")
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(EMBEDDINGS_URL).respond(200, json=openai_reply([[1.0]], tokens=7))
        async with make_client(embed_batch_size=1) as client:
            await client.embed(["secret one", "secret two"])
    events = [r.getMessage() for r in caplog.records if "botticelli.request" in r.getMessage()]
    assert len(events) == 1
    assert "operation='embed'" in events[0]
    assert "input_tokens=14" in events[0]
    assert "secret" not in events[0]


async def test_llamacpps_500_for_an_input_over_its_batch_is_not_retried() -> None:
    body = {"error": {"code": 500, "message": "input is too large to process. increase the physical batch size"}}
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(EMBEDDINGS_URL).respond(500, json=body)
        async with make_client(max_retries=2, backoff_initial=0.0, backoff_max=0.0) as client:
            with pytest.raises(InputTooLongError) as caught:
                await client.embed(["x" * 100])
    assert route.call_count == 1
    assert (caught.value.index, caught.value.status_code, caught.value.retryable) == (0, 500, False)


async def test_the_texts_are_logged_only_with_log_content(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="botticelli")
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(EMBEDDINGS_URL).respond(200, json=openai_reply([[1.0]]))
        async with make_client(log_content=True) as client:
            await client.embed(["shown text"])
    (event,) = [r.getMessage() for r in caplog.records if "botticelli.request" in r.getMessage()]
    assert "input=['shown text']" in event
