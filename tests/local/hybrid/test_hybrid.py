"""HybridModel: routing, fallback before the first chunk only, delegation (the breaker: test_breaker.py)."""

from __future__ import annotations

import httpx
import pytest
import respx

from botticelli.hybrid import HybridModel
from botticelli_core import GenerateRequest, ImageInput, MediaSource, Message, TextInput
from botticelli_error import (
    BadRequestError,
    RateLimitError,
    ServerUnavailableError,
    StreamInterruptedError,
    TransportError,
    UnsupportedInputError,
)
from botticelli_interface import GenerativeModel
from botticelli_server import ServerClient, ServerConfig
from tests.local.hybrid.fakes import SSE_HEADERS, FakeModel, completion, sse_cut_after, sse_stream
from tests.local.hybrid.support import CHEAP, POLICY, collect, make, reasons


def test_it_is_a_generative_model_named_after_both_backends() -> None:
    hybrid = make(FakeModel("local"), FakeModel("gemini"))
    assert isinstance(hybrid, GenerativeModel)
    assert (hybrid.provider_name, hybrid.model_name) == ("hybrid", "local-model|gemini-model")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("request_", "backend", "reason"),
    [
        (CHEAP, "local", "cheap"),
        (GenerateRequest.from_prompt("Hi", routing_hint="complex"), "gemini", "hint:complex"),
        (GenerateRequest.from_prompt("x" * 400, routing_hint="cheap"), "local", "hint:cheap"),
        (GenerateRequest.from_prompt("x" * 201), "gemini", "prompt_tokens>50"),
        (GenerateRequest.from_prompt("Hi", max_tokens=101), "gemini", "max_tokens>100"),
        (
            GenerateRequest(
                messages=[
                    Message.user(
                        [TextInput(text="What?"), ImageInput(mime="image/png", source=MediaSource.from_bytes(b"p"))]
                    )
                ]
            ),
            "gemini",
            "media",
        ),
    ],
    ids=["cheap", "hint-complex", "hint-cheap", "long-prompt", "large-max-tokens", "media"],
)
async def test_each_criterion_routes_and_logs_its_reason(
    routes: pytest.LogCaptureFixture, request_: GenerateRequest, backend: str, reason: str
) -> None:
    hybrid = make(FakeModel("local"), FakeModel("gemini"))
    response = await hybrid.generate(request_)
    assert response.text == backend
    assert reasons(routes) == [reason]


@pytest.mark.anyio
@pytest.mark.parametrize(
    "error",
    [
        TransportError("connection refused"),
        RateLimitError("429"),
        ServerUnavailableError("503 Loading model"),
        UnsupportedInputError("no images"),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_generate_falls_back_when_the_chosen_backend_cannot_serve(
    routes: pytest.LogCaptureFixture, error: Exception
) -> None:
    local, api = FakeModel("local", failures=[error]), FakeModel("gemini")  # type: ignore[list-item]
    response = await make(local, api).generate(CHEAP)
    assert response.text == "gemini"
    assert reasons(routes) == ["cheap", f"fallback:{type(error).__name__}"]


@pytest.mark.anyio
async def test_a_bad_request_propagates_without_trying_the_other_backend() -> None:
    local, api = FakeModel("local", failures=[BadRequestError("prompt too long")]), FakeModel("gemini")
    with pytest.raises(BadRequestError):
        await make(local, api).generate(CHEAP)
    assert api.calls == []


@pytest.mark.anyio
async def test_when_both_fail_the_fallbacks_error_is_raised() -> None:
    local = FakeModel("local", failures=[ServerUnavailableError("down", provider="local")])
    api = FakeModel("gemini", failures=[RateLimitError("quota", provider="gemini")])
    with pytest.raises(RateLimitError) as caught:
        await make(local, api).generate(CHEAP)
    assert caught.value.provider == "gemini"
    assert isinstance(caught.value.__context__, ServerUnavailableError)


@pytest.mark.anyio
async def test_a_stream_falls_back_before_its_first_chunk(routes: pytest.LogCaptureFixture) -> None:
    local = FakeModel("local", failures=[StreamInterruptedError("ended before any data")])
    api = FakeModel("gemini")
    async with make(local, api).generate_stream(CHEAP) as stream:
        texts = [chunk.text async for chunk in stream]
    assert texts == ["gemini:1", "gemini:2", ""]
    assert reasons(routes) == ["cheap", "fallback:StreamInterruptedError"]
    assert local.streams_closed == 1


@pytest.mark.anyio
async def test_a_stream_never_falls_back_after_a_chunk_reached_the_caller() -> None:
    local = FakeModel("local", fail_after_first_chunk=StreamInterruptedError("connection reset"))
    api = FakeModel("gemini")
    received: list[str] = []
    with pytest.raises(StreamInterruptedError):
        await collect(make(local, api), received)
    assert received == ["local:1"]
    assert api.calls == []


@pytest.mark.anyio
async def test_leaving_a_stream_early_closes_the_backends_stream() -> None:
    local = FakeModel("local")
    async with make(local, FakeModel("gemini")).generate_stream(CHEAP) as stream:
        async for _ in stream:
            break
    assert local.streams_closed == 1


@pytest.mark.anyio
async def test_health_is_ready_while_one_backend_is() -> None:
    hybrid = make(FakeModel("local", ready=False), FakeModel("gemini"))
    health = await hybrid.health()
    assert (health.ready, health.status) == (True, "degraded")
    assert "local: unreachable" in (health.detail or "")
    per_backend = await hybrid.backend_health()
    assert {name: s.ready for name, s in per_backend.items()} == {"local": False, "gemini": True}
    both_down = await make(FakeModel("local", ready=False), FakeModel("gemini", ready=False)).health()
    assert (both_down.ready, both_down.status) == (False, "unreachable")


@pytest.mark.anyio
async def test_list_models_leaves_out_a_backend_that_is_down() -> None:
    models = await make(FakeModel("local", ready=False), FakeModel("gemini")).list_models()
    assert [m.id for m in models] == ["gemini-model"]
    with pytest.raises(TransportError):
        await make(FakeModel("local", ready=False), FakeModel("gemini", ready=False)).list_models()


@pytest.mark.anyio
async def test_aclose_closes_both_backends_even_if_the_first_fails() -> None:
    class Exploding(FakeModel):
        async def aclose(self) -> None:
            await super().aclose()
            raise RuntimeError("close failed")

    local, api = Exploding("local"), FakeModel("gemini")
    with pytest.raises(RuntimeError):
        async with make(local, api):
            pass
    assert (local.closed, api.closed) == (1, 1)


# -- with real ServerClients behind respx ----------------------------------------------------------

LOCAL_URL = "http://local.test"
API_URL = "http://api.test"


def _servers() -> HybridModel:
    local = ServerClient(ServerConfig(base_url=LOCAL_URL, model="phi", max_retries=0))
    api = ServerClient(ServerConfig(base_url=API_URL, model="big", max_retries=0))
    return HybridModel(local, api, policy=POLICY)


@pytest.mark.anyio
async def test_a_local_server_that_refuses_connections_falls_back_to_the_api_server() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as router:
        router.post(f"{LOCAL_URL}/v1/chat/completions").mock(side_effect=httpx.ConnectError("refused"))
        router.post(f"{API_URL}/v1/chat/completions").respond(json=completion("from the api", model="big"))
        async with _servers() as hybrid:
            response = await hybrid.generate(CHEAP)
    assert response.text == "from the api"


@pytest.mark.anyio
async def test_a_local_stream_cut_before_any_chunk_falls_back_to_the_api_stream() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as router:
        router.post(f"{LOCAL_URL}/v1/chat/completions").respond(content=sse_cut_after(), headers=SSE_HEADERS)
        router.post(f"{API_URL}/v1/chat/completions").respond(content=sse_stream("Hel", "lo"), headers=SSE_HEADERS)
        async with _servers() as hybrid, hybrid.generate_stream(CHEAP) as stream:
            text = "".join([chunk.text async for chunk in stream])
    assert text == "Hello"


@pytest.mark.anyio
async def test_a_local_stream_cut_after_a_chunk_raises_with_the_partial_text() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True, assert_all_called=False) as router:
        router.post(f"{LOCAL_URL}/v1/chat/completions").respond(content=sse_cut_after("Hel"), headers=SSE_HEADERS)
        api = router.post(f"{API_URL}/v1/chat/completions")
        with pytest.raises(StreamInterruptedError) as caught:
            await collect(_servers(), [])
    assert caught.value.partial_text == "Hel"
    assert not api.called


@pytest.mark.anyio
async def test_a_503_from_the_api_server_falls_back_to_the_local_one_for_complex_requests() -> None:
    complex_request = GenerateRequest.from_prompt("Hi", routing_hint="complex")
    with respx.mock(using="httpx", assert_all_mocked=True) as router:
        router.post(f"{API_URL}/v1/chat/completions").respond(
            503, json={"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}
        )
        router.post(f"{LOCAL_URL}/v1/chat/completions").respond(json=completion("local answer"))
        async with _servers() as hybrid:
            response = await hybrid.generate(complex_request)
    assert response.text == "local answer"
