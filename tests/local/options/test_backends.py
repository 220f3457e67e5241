"""Per-call options reach every HTTP backend through the shared transport, and pass through the hybrid."""

from __future__ import annotations

import httpx
import pytest
import respx

from botticelli.hybrid import HybridModel, HybridPolicy
from botticelli_core import GenerateRequest
from botticelli_error import ServerUnavailableError
from botticelli_gemini import GeminiClient, GeminiConfig
from botticelli_interface import call_options
from tests.local.gemini import wire as gemini_wire
from tests.local.server import wire as server_wire
from tests.local.server.support import make_client, record_sleeps

pytestmark = pytest.mark.anyio

REQUEST = GenerateRequest.from_prompt("Hi", max_tokens=16)


def gemini(max_retries: int) -> GeminiClient:
    return GeminiClient(
        GeminiConfig(
            api_key=gemini_wire.API_KEY,
            base_url=gemini_wire.BASE_URL,
            backoff_initial=1.0,
            backoff_max=0.0,
            max_retries=max_retries,
        )
    )


async def test_gemini_honours_the_retry_count_of_the_scope() -> None:
    overloaded = httpx.Response(503, json=gemini_wire.OVERLOADED)
    ok = httpx.Response(200, json=gemini_wire.GENERATE_OK)
    with respx.mock(using="httpx", base_url=gemini_wire.BASE_URL, assert_all_mocked=True) as api:
        route = api.post(gemini_wire.GENERATE_PATH).mock(side_effect=[overloaded, ok])
        async with gemini(max_retries=3) as client:
            with call_options(max_retries=0), pytest.raises(ServerUnavailableError):
                await client.generate(REQUEST)
    assert route.call_count == 1


async def test_the_hybrids_backends_get_the_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    record_sleeps(monkeypatch)
    busy = httpx.Response(503, json={"error": {"message": "busy"}})
    ok = httpx.Response(200, json=server_wire.OPENAI_COMPLETION)
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        local = mock.post(server_wire.CHAT_URL).mock(side_effect=[busy, ok])
        remote = mock.post("http://remote.test/v1/chat/completions").mock(return_value=ok)
        hybrid = HybridModel(
            make_client(max_retries=2),
            make_client("http://remote.test", max_retries=2),
            policy=HybridPolicy(failure_threshold=5),
        )
        async with hybrid:
            with call_options(max_retries=0):
                response = await hybrid.generate(REQUEST)
    # The local backend was not retried inside the scope: the hybrid fell back at once.
    assert response.text
    assert local.call_count == 1
    assert remote.call_count == 1
