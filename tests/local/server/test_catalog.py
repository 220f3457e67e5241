"""health() and list_models(): readiness without spending tokens, and each server's model list."""

from __future__ import annotations

import httpx
import pytest
import respx

from . import wire
from .support import make_client

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "reply",
    [
        httpx.Response(200, text="OK"),  # mistral.rs
        httpx.Response(200, json={"status": "ok"}),  # llama.cpp
        httpx.Response(200),  # vLLM: empty body
    ],
    ids=["mistralrs", "llamacpp", "vllm"],
)
async def test_health_200_is_ready(reply: httpx.Response) -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.get(wire.HEALTH_URL).mock(return_value=reply)
        async with make_client() as client:
            health = await client.health()
    assert (health.ready, health.status) == (True, "ok")
    assert health.latency_s is not None


async def test_health_503_loading_model_is_not_ready_and_loading_without_retrying() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.get(wire.HEALTH_URL).respond(503, json=wire.LLAMACPP_LOADING)
        async with make_client() as client:
            health = await client.health()
    assert (health.ready, health.status, health.detail) == (False, "loading", "Loading model")
    assert route.call_count == 1


async def test_health_404_falls_back_to_the_model_list() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.get(wire.HEALTH_URL).respond(404, json={"detail": "Not Found"})
        models = mock.get(wire.MODELS_URL).respond(200, json=wire.VLLM_MODELS)
        async with make_client() as client:
            health = await client.health()
    assert (health.ready, health.status) == (True, "ok")
    assert models.call_count == 1


async def test_ollama_without_health_route_falls_back_to_a_failing_model_list() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.get(wire.HEALTH_URL).respond(404, text="404 page not found")
        mock.get(wire.MODELS_URL).respond(500, json=wire.OLLAMA_API_ERROR)
        async with make_client() as client:
            health = await client.health()
    assert (health.ready, health.status) == (False, "unavailable")


async def test_health_of_an_unreachable_server_never_raises() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.get(wire.HEALTH_URL).mock(side_effect=httpx.ConnectError("connection refused"))
        async with make_client() as client:
            health = await client.health()
    assert (health.ready, health.status) == (False, "unreachable")
    assert health.detail is not None
    assert route.call_count == 1


async def test_health_of_a_server_answering_401_is_unavailable() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.get(wire.HEALTH_URL).respond(401, json={"error": {"message": "Invalid API Key"}})
        async with make_client() as client:
            health = await client.health()
    assert (health.ready, health.status) == (False, "unavailable")


async def test_list_models_reads_the_mistralrs_status_field() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.get(wire.MODELS_URL).respond(200, json=wire.MISTRALRS_MODELS)
        async with make_client() as client:
            models = await client.list_models()
    assert [(m.id, m.status) for m in models] == [
        ("default", None),
        ("microsoft/Phi-3.5-mini-instruct", "loaded"),
        ("Qwen/Qwen3-4B", "unloaded"),
    ]
    assert models[2].details["tools_available"] is True


async def test_list_models_reads_the_llamacpp_meta_context_size() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.get(wire.MODELS_URL).respond(200, json=wire.LLAMACPP_MODELS)
        async with make_client() as client:
            (model,) = await client.list_models()
    assert (model.id, model.owned_by, model.context_length) == ("qwen2.5-0.5b-instruct-q4_k_m.gguf", "llamacpp", 32768)
    assert model.details["meta"]["n_params"] == 494032768


async def test_list_models_tolerates_llamacpp_null_meta_while_loading() -> None:
    listing = {"object": "list", "data": [{**wire.LLAMACPP_MODELS["data"][0], "meta": None}]}
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.get(wire.MODELS_URL).respond(200, json=listing)
        async with make_client() as client:
            (model,) = await client.list_models()
    assert model.context_length is None


async def test_list_models_reads_the_vllm_max_model_len() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.get(wire.MODELS_URL).respond(200, json=wire.VLLM_MODELS)
        async with make_client() as client:
            (model,) = await client.list_models()
    assert (model.id, model.owned_by, model.context_length) == ("Qwen/Qwen2.5-0.5B-Instruct", "vllm", 4096)
    assert model.details["root"] == "Qwen/Qwen2.5-0.5B-Instruct"
