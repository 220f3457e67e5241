import json
from collections.abc import AsyncIterator, Iterator, MutableMapping
from typing import Any

import httpx
import pytest
import respx
import structlog
from structlog.testing import capture_logs

from botticelli_core import (
    FinishReason,
    GenerateRequest,
    ImageInput,
    MediaSource,
    Message,
    StreamChunk,
    TextInput,
)
from botticelli_error import (
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ContentBlockedError,
    NotFoundError,
    RateLimitError,
    ResponseDecodeError,
    ServerUnavailableError,
    StreamInterruptedError,
    UnsupportedInputError,
)
from botticelli_gemini import GeminiClient, GeminiConfig, RateLimits
from botticelli_interface import GenerativeModel, SupportsAclose, SupportsHealth, SupportsListModels

from . import wire

SSE = {"content-type": "text/event-stream"}
PROMPT = "What is the capital of France? secret-prompt-text"


def make_client(**overrides: Any) -> GeminiClient:
    settings: dict[str, Any] = {
        "api_key": wire.API_KEY,
        "base_url": wire.BASE_URL,
        # No backoff sleeps in tests: waits are capped at zero seconds.
        "backoff_initial": 1.0,
        "backoff_max": 0.0,
        **overrides,
    }
    return GeminiClient(GeminiConfig(**settings))


@pytest.fixture
def captured() -> Iterator[list[MutableMapping[str, Any]]]:
    """structlog events emitted inside the test.

    ``capture_logs`` leaves structlog marked as configured, which would reroute later
    tests' logs away from the standard library; reset it afterwards.
    """
    with capture_logs() as logs:
        yield logs
    structlog.reset_defaults()


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(using="httpx", base_url=wire.BASE_URL, assert_all_mocked=True, assert_all_called=False) as router:
        yield router


def request(**params: Any) -> GenerateRequest:
    return GenerateRequest.from_prompt(PROMPT, **params)


def ok(body: Any, **headers: str) -> httpx.Response:
    return httpx.Response(200, json=body, headers=headers)


def fail(status: int, body: Any) -> httpx.Response:
    return httpx.Response(status, json=body)


def stream(body: bytes) -> httpx.Response:
    return httpx.Response(200, headers=SSE, content=body)


async def collect(client: GeminiClient, req: GenerateRequest) -> list[StreamChunk]:
    async with client.generate_stream(req) as chunks:
        return [chunk async for chunk in chunks]


def test_the_client_implements_the_protocols() -> None:
    client = make_client()
    assert isinstance(client, GenerativeModel)
    assert isinstance(client, SupportsHealth)
    assert isinstance(client, SupportsListModels)
    assert isinstance(client, SupportsAclose)
    assert (client.provider_name, client.model_name) == ("gemini", "gemini-2.5-flash")


@pytest.mark.anyio
async def test_generate_posts_the_documented_body_with_the_key_only_in_its_header(
    api: respx.MockRouter,
) -> None:
    route = api.post(wire.GENERATE_PATH).mock(return_value=ok(wire.GENERATE_OK, **{"x-request-id": "rq-1"}))
    async with make_client() as client:
        response = await client.generate(request(max_tokens=10, temperature=0.0, system="Be terse."))
    sent = route.calls.last.request
    assert sent.headers["x-goog-api-key"] == wire.API_KEY
    assert wire.API_KEY not in str(sent.url)
    assert sent.url.params == httpx.QueryParams()
    assert sent.headers["content-type"] == "application/json"
    assert json.loads(sent.content) == {
        "contents": [{"role": "user", "parts": [{"text": PROMPT}]}],
        "systemInstruction": {"parts": [{"text": "Be terse."}]},
        "generationConfig": {"maxOutputTokens": 10, "temperature": 0.0},
    }
    assert response.text == "Paris is the capital of France."
    assert response.finish_reason is FinishReason.STOP
    assert response.usage is not None
    assert response.usage.total_tokens == 15


@pytest.mark.anyio
async def test_a_request_naming_a_model_is_sent_to_that_model(api: respx.MockRouter) -> None:
    route = api.post("/v1beta/models/gemini-2.5-pro:generateContent").mock(return_value=ok(wire.GENERATE_OK))
    async with make_client() as client:
        await client.generate(request(model="models/gemini-2.5-pro"))
    assert route.call_count == 1


@pytest.mark.anyio
async def test_a_model_id_that_could_rewrite_the_url_is_refused_before_sending(api: respx.MockRouter) -> None:
    async with make_client() as client:
        with pytest.raises(ConfigurationError):
            await client.generate(request(model="../files?x=1"))
    assert len(api.calls) == 0


@pytest.mark.anyio
async def test_oversized_inline_media_is_refused_before_any_request(api: respx.MockRouter) -> None:
    video = ImageInput(mime="image/png", source=MediaSource.from_bytes(b"\0" * 3000))
    req = GenerateRequest(messages=[Message.user([TextInput(text="What is this?"), video])])
    async with make_client(max_request_bytes=2000) as client:
        with pytest.raises(UnsupportedInputError) as caught:
            await client.generate(req)
        assert caught.value.input_type == "image"
        with pytest.raises(UnsupportedInputError):
            client.generate_stream(req)
    assert len(api.calls) == 0


@pytest.mark.anyio
async def test_a_blocked_prompt_raises_content_blocked_and_is_not_retried(api: respx.MockRouter) -> None:
    route = api.post(wire.GENERATE_PATH).mock(return_value=ok(wire.BLOCKED_PROMPT))
    async with make_client() as client:
        with pytest.raises(ContentBlockedError) as caught:
            await client.generate(request())
    assert caught.value.reason == "SAFETY"
    assert route.call_count == 1


@pytest.mark.anyio
async def test_a_safety_finish_is_reported_as_content_filter(api: respx.MockRouter) -> None:
    api.post(wire.GENERATE_PATH).mock(return_value=ok(wire.SAFETY_FINISH))
    async with make_client() as client:
        response = await client.generate(request())
    assert response.finish_reason is FinishReason.CONTENT_FILTER
    assert response.text == ""


@pytest.mark.anyio
async def test_a_429_is_retried_after_the_retry_info_delay(api: respx.MockRouter) -> None:
    route = api.post(wire.GENERATE_PATH).mock(
        side_effect=[fail(429, wire.rate_limited_per_minute("0.01s")), ok(wire.GENERATE_OK)]
    )
    async with make_client() as client:
        response = await client.generate(request())
    assert response.text == "Paris is the capital of France."
    assert route.call_count == 2


@pytest.mark.anyio
async def test_a_retry_delay_longer_than_allowed_raises_at_once_with_retry_after(api: respx.MockRouter) -> None:
    route = api.post(wire.GENERATE_PATH).mock(return_value=fail(429, wire.rate_limited_per_minute("53s")))
    async with make_client(max_retry_after=5.0) as client:
        with pytest.raises(RateLimitError) as caught:
            await client.generate(request())
    assert caught.value.retry_after == 53.0
    assert caught.value.retryable is True
    assert route.call_count == 1


@pytest.mark.anyio
async def test_a_per_day_quota_fails_at_once_without_retrying(api: respx.MockRouter) -> None:
    route = api.post(wire.GENERATE_PATH).mock(return_value=fail(429, wire.RATE_LIMITED_PER_DAY))
    async with make_client(max_retries=5, max_retry_after=100_000.0) as client:
        with pytest.raises(RateLimitError) as caught:
            await client.generate(request())
    assert caught.value.retryable is False
    assert caught.value.quota == wire.PER_DAY_QUOTA
    assert route.call_count == 1


@pytest.mark.anyio
async def test_an_overloaded_model_is_retried_then_reported(api: respx.MockRouter) -> None:
    route = api.post(wire.GENERATE_PATH).mock(
        side_effect=[fail(503, wire.OVERLOADED), fail(503, wire.OVERLOADED), ok(wire.GENERATE_OK)]
    )
    async with make_client(max_retries=2) as client:
        assert (await client.generate(request())).text
    assert route.call_count == 3

    route.reset()
    route.mock(return_value=fail(503, wire.OVERLOADED))
    async with make_client(max_retries=1) as client:
        with pytest.raises(ServerUnavailableError) as caught:
            await client.generate(request())
    assert caught.value.error_type == "UNAVAILABLE"
    assert caught.value.server_message == "The model is overloaded. Please try again later."
    assert route.call_count == 2


@pytest.mark.anyio
async def test_the_key_never_leaks_into_errors_even_if_the_server_echoes_it(api: respx.MockRouter) -> None:
    echoed = wire.error(400, "INVALID_ARGUMENT", f"API key not valid: {wire.API_KEY}")
    echoed["error"]["details"] = wire.API_KEY_INVALID["error"]["details"]
    api.post(wire.GENERATE_PATH).mock(return_value=fail(400, echoed))
    async with make_client() as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.generate(request())
    err = caught.value
    for text in (str(err), repr(err), err.message, err.server_message or "", err.body or ""):
        assert wire.API_KEY not in text
    assert wire.API_KEY not in repr(client)


@pytest.mark.anyio
async def test_one_log_event_per_request_without_prompt_or_key(
    api: respx.MockRouter, captured: list[MutableMapping[str, Any]]
) -> None:
    api.post(wire.GENERATE_PATH).mock(return_value=ok(wire.GENERATE_OK, **{"x-request-id": "rq-7"}))
    async with make_client() as client:
        await client.generate(request())
    logs = captured
    events = [e for e in logs if e["event"] == "botticelli.request"]
    assert len(events) == 1
    event = events[0]
    assert (event["provider"], event["model"], event["operation"], event["status"]) == (
        "gemini",
        "gemini-2.5-flash",
        "generate",
        200,
    )
    assert (event["input_tokens"], event["output_tokens"], event["retries"]) == (8, 7, 0)
    assert event["request_id"] == "rq-7"
    assert "latency_ms" in event
    assert wire.API_KEY not in str(logs)
    assert "secret-prompt-text" not in str(logs)


@pytest.mark.anyio
async def test_a_failed_request_is_logged_with_its_error_and_status(
    api: respx.MockRouter, captured: list[MutableMapping[str, Any]]
) -> None:
    api.post(wire.GENERATE_PATH).mock(return_value=fail(404, wire.NOT_FOUND))
    async with make_client() as client:
        with pytest.raises(NotFoundError):
            await client.generate(request())
    (event,) = [e for e in captured if e["event"] == "botticelli.request"]
    assert (event["status"], event["error"], event["retryable"]) == (404, "NotFoundError", False)


class TestStreaming:
    @pytest.mark.anyio
    async def test_a_crlf_stream_yields_text_then_one_final_chunk_with_the_last_usage(
        self, api: respx.MockRouter
    ) -> None:
        route = api.post(wire.STREAM_PATH, params={"alt": "sse"}).mock(
            return_value=stream(wire.sse(*wire.STREAM_EVENTS))
        )
        async with make_client() as client:
            chunks = await collect(client, request(max_tokens=10))
        assert [c.text for c in chunks] == ["The", " capital of France", " is Paris.\n", ""]
        assert [c.is_final for c in chunks] == [False, False, False, True]
        final = chunks[-1]
        assert final.finish_reason is FinishReason.STOP
        assert final.usage is not None
        assert (final.usage.input_tokens, final.usage.output_tokens, final.usage.total_tokens) == (13, 8, 21)
        sent = route.calls.last.request
        assert sent.url.params["alt"] == "sse"
        assert "key" not in sent.url.params
        assert json.loads(sent.content)["generationConfig"] == {"maxOutputTokens": 10}

    @pytest.mark.anyio
    async def test_bytes_arriving_in_tiny_pieces_give_the_same_answer(self, api: respx.MockRouter) -> None:
        body = wire.sse(*wire.STREAM_EVENTS)

        async def pieces() -> AsyncIterator[bytes]:
            for start in range(0, len(body), 5):
                yield body[start : start + 5]

        api.post(wire.STREAM_PATH).mock(return_value=httpx.Response(200, headers=SSE, content=pieces()))
        async with make_client() as client:
            chunks = await collect(client, request())
        assert "".join(c.text for c in chunks) == "The capital of France is Paris.\n"
        assert chunks[-1].finish_reason is FinishReason.STOP

    @pytest.mark.anyio
    async def test_an_error_event_mid_stream_raises_an_interruption_with_partial_text(
        self, api: respx.MockRouter
    ) -> None:
        route = api.post(wire.STREAM_PATH).mock(
            return_value=stream(wire.sse(*wire.STREAM_EVENTS[:2], wire.MID_STREAM_ERROR))
        )
        received: list[str] = []

        async def read() -> None:
            async with client.generate_stream(request()) as chunks:
                async for chunk in chunks:
                    received.append(chunk.text)

        async with make_client() as client:
            with pytest.raises(StreamInterruptedError) as caught:
                await read()
        err = caught.value
        assert received == ["The", " capital of France"]
        assert err.partial_text == "The capital of France"
        assert (err.server_message, err.status_code, err.error_type, err.retryable) == (
            "Error",
            500,
            "INTERNAL",
            True,
        )
        assert route.call_count == 1

    @pytest.mark.anyio
    async def test_an_error_event_before_any_text_is_retried(self, api: respx.MockRouter) -> None:
        route = api.post(wire.STREAM_PATH).mock(
            side_effect=[stream(wire.sse(wire.MID_STREAM_ERROR)), stream(wire.sse(*wire.STREAM_EVENTS))]
        )
        async with make_client() as client:
            chunks = await collect(client, request())
        assert chunks[-1].finish_reason is FinishReason.STOP
        assert route.call_count == 2

    @pytest.mark.anyio
    async def test_a_stream_that_ends_without_a_finish_reason_is_an_interruption(self, api: respx.MockRouter) -> None:
        api.post(wire.STREAM_PATH).mock(return_value=stream(wire.sse(*wire.STREAM_EVENTS[:2])))
        async with make_client() as client:
            with pytest.raises(StreamInterruptedError) as caught:
                await collect(client, request())
        assert caught.value.partial_text == "The capital of France"

    @pytest.mark.anyio
    async def test_a_blocked_prompt_in_a_stream_raises_content_blocked(self, api: respx.MockRouter) -> None:
        route = api.post(wire.STREAM_PATH).mock(return_value=stream(wire.sse(wire.BLOCKED_PROMPT)))
        async with make_client() as client:
            with pytest.raises(ContentBlockedError):
                await collect(client, request())
        assert route.call_count == 1

    @pytest.mark.anyio
    async def test_an_error_status_before_the_stream_maps_like_any_other(self, api: respx.MockRouter) -> None:
        api.post(wire.STREAM_PATH).mock(return_value=fail(429, wire.RATE_LIMITED_PER_DAY))
        async with make_client() as client:
            with pytest.raises(RateLimitError) as caught:
                await collect(client, request())
        assert caught.value.retryable is False

    @pytest.mark.anyio
    async def test_thoughts_stream_as_reasoning(self, api: respx.MockRouter) -> None:
        events = [
            wire.response(wire.text_candidate("Considering the question.", thought=True)),
            wire.response(wire.text_candidate("Paris.", finish="STOP"), meta=wire.usage(5, 2, thoughts=7)),
        ]
        api.post(wire.STREAM_PATH).mock(return_value=stream(wire.sse(*events)))
        async with make_client() as client:
            chunks = await collect(client, request())
        assert [(c.reasoning, c.text) for c in chunks[:2]] == [("Considering the question.", ""), ("", "Paris.")]
        assert chunks[-1].usage is not None
        assert chunks[-1].usage.reasoning_tokens == 7

    @pytest.mark.anyio
    async def test_a_function_call_stream_finishes_as_tool_use_without_empty_chunks(
        self, api: respx.MockRouter
    ) -> None:
        api.post(wire.STREAM_PATH).mock(return_value=stream(wire.sse(wire.TOOL_CALLS)))
        async with make_client() as client:
            chunks = await collect(client, request())
        assert len(chunks) == 1
        assert chunks[0].finish_reason is FinishReason.TOOL_USE

    @pytest.mark.anyio
    async def test_a_stream_is_logged_once_with_its_usage(
        self, api: respx.MockRouter, captured: list[MutableMapping[str, Any]]
    ) -> None:
        api.post(wire.STREAM_PATH).mock(return_value=stream(wire.sse(*wire.STREAM_EVENTS)))
        async with make_client() as client:
            await collect(client, request())
        (event,) = [e for e in captured if e["event"] == "botticelli.request"]
        assert (event["operation"], event["status"], event["input_tokens"], event["output_tokens"]) == (
            "generate_stream",
            200,
            13,
            8,
        )


class TestClientSideRateLimits:
    @pytest.mark.anyio
    async def test_the_day_limit_is_shared_by_all_calls_and_refuses_without_sending(
        self, api: respx.MockRouter
    ) -> None:
        route = api.post(wire.GENERATE_PATH).mock(return_value=ok(wire.GENERATE_OK))
        api.post(wire.STREAM_PATH).mock(return_value=stream(wire.sse(*wire.STREAM_EVENTS)))
        limits = {"gemini-2.5-flash": RateLimits(requests_per_day=2)}
        async with make_client(rate_limits=limits) as client:
            await client.generate(request())
            await collect(client, request())
            with pytest.raises(RateLimitError) as caught:
                await client.generate(request())
        assert caught.value.retryable is False
        assert caught.value.quota is not None
        assert route.call_count == 1

    @pytest.mark.anyio
    async def test_other_models_are_not_limited_by_one_models_limits(self, api: respx.MockRouter) -> None:
        api.post("/v1beta/models/gemini-2.5-pro:generateContent").mock(return_value=ok(wire.GENERATE_OK))
        api.post(wire.GENERATE_PATH).mock(return_value=ok(wire.GENERATE_OK))
        async with make_client(rate_limits={"gemini-2.5-flash": RateLimits(requests_per_day=1)}) as client:
            await client.generate(request())
            for _ in range(3):
                await client.generate(request(model="gemini-2.5-pro"))


class TestOtherEndpoints:
    @pytest.mark.anyio
    async def test_count_tokens_sends_the_whole_request_and_returns_the_total(self, api: respx.MockRouter) -> None:
        route = api.post(f"/v1beta/models/{wire.MODEL}:countTokens").mock(
            return_value=ok({"totalTokens": 31, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 31}]})
        )
        async with make_client() as client:
            assert await client.count_tokens(request(system="Be terse.")) == 31
        assert json.loads(route.calls.last.request.content) == {
            "generateContentRequest": {
                "model": f"models/{wire.MODEL}",
                "contents": [{"role": "user", "parts": [{"text": PROMPT}]}],
                "systemInstruction": {"parts": [{"text": "Be terse."}]},
            }
        }

    @pytest.mark.anyio
    async def test_list_models_follows_pages(self, api: respx.MockRouter) -> None:
        second = {**wire.MODEL_ENTRY, "name": "models/gemini-2.5-pro"}
        route = api.get("/v1beta/models").mock(
            side_effect=[
                ok({"models": [wire.MODEL_ENTRY], "nextPageToken": "page-2"}),
                ok({"models": [second]}),
            ]
        )
        async with make_client() as client:
            models = await client.list_models()
        assert [m.id for m in models] == ["gemini-2.5-flash", "gemini-2.5-pro"]
        assert route.calls[1].request.url.params["pageToken"] == "page-2"
        assert all(wire.API_KEY not in str(call.request.url) for call in route.calls)

    @pytest.mark.anyio
    async def test_health_gets_the_model_without_generating(self, api: respx.MockRouter) -> None:
        route = api.get(f"/v1beta/models/{wire.MODEL}").mock(return_value=ok(wire.MODEL_ENTRY))
        async with make_client() as client:
            status = await client.health()
        assert (status.ready, status.status) == (True, "ok")
        assert status.latency_s is not None
        assert route.call_count == 1

    @pytest.mark.anyio
    async def test_health_reports_a_rejected_key_without_raising(self, api: respx.MockRouter) -> None:
        api.get(f"/v1beta/models/{wire.MODEL}").mock(return_value=fail(400, wire.API_KEY_INVALID))
        async with make_client() as client:
            status = await client.health()
        assert (status.ready, status.status) == (False, "unavailable")
        assert status.detail is not None
        assert "AuthenticationError" in status.detail

    @pytest.mark.anyio
    async def test_health_reports_an_unreachable_api_without_raising(self, api: respx.MockRouter) -> None:
        api.get(f"/v1beta/models/{wire.MODEL}").mock(side_effect=httpx.ConnectError("connection refused"))
        async with make_client() as client:
            status = await client.health()
        assert (status.ready, status.status) == (False, "unreachable")

    @pytest.mark.anyio
    async def test_closing_twice_is_safe(self) -> None:
        client = make_client()
        await client.aclose()
        await client.aclose()


@pytest.mark.anyio
async def test_leaving_a_stream_early_closes_it_and_logs_no_error(
    api: respx.MockRouter, captured: list[MutableMapping[str, Any]]
) -> None:
    api.post(wire.STREAM_PATH).mock(return_value=stream(wire.sse(*wire.STREAM_EVENTS)))
    async with make_client() as client, client.generate_stream(request()) as chunks:
        async for chunk in chunks:
            assert chunk.text == "The"
            break
    (event,) = [e for e in captured if e["event"] == "botticelli.request"]
    assert "error" not in event
    assert event["operation"] == "generate_stream"


@pytest.mark.anyio
async def test_count_tokens_errors_are_typed_and_logged(
    api: respx.MockRouter, captured: list[MutableMapping[str, Any]]
) -> None:
    api.post(f"/v1beta/models/{wire.MODEL}:countTokens").mock(return_value=fail(400, wire.INVALID_ARGUMENT))
    async with make_client() as client:
        with pytest.raises(BadRequestError):
            await client.count_tokens(request())
    (event,) = [e for e in captured if e["event"] == "botticelli.request"]
    assert (event["operation"], event["status"], event["error"]) == ("count_tokens", 400, "BadRequestError")


@pytest.mark.anyio
async def test_a_model_list_that_is_not_googles_shape_is_a_decode_error(api: respx.MockRouter) -> None:
    api.get("/v1beta/models").mock(return_value=ok({"models": "none"}))
    async with make_client() as client:
        with pytest.raises(ResponseDecodeError):
            await client.list_models()


@pytest.mark.anyio
async def test_a_connection_dropped_mid_stream_is_an_interruption_with_the_text_so_far(api: respx.MockRouter) -> None:
    async def cut_short() -> AsyncIterator[bytes]:
        yield wire.sse(*wire.STREAM_EVENTS[:2])
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")

    api.post(wire.STREAM_PATH).mock(return_value=httpx.Response(200, headers=SSE, content=cut_short()))
    async with make_client() as client:
        with pytest.raises(StreamInterruptedError) as caught:
            await collect(client, request())
    assert caught.value.partial_text == "The capital of France"
    assert caught.value.provider == "gemini"
