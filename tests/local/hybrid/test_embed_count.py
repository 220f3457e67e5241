"""HybridModel's embeddings (one backend, no silent switch of vector space) and token counts."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from botticelli.hybrid import HybridModel, HybridPolicy
from botticelli_core import EmbedResponse, GenerateRequest, TokenCount
from botticelli_error import (
    BadRequestError,
    BotticelliError,
    ConfigurationError,
    TransportError,
    UnsupportedInputError,
)
from botticelli_interface import SupportsCountTokens, SupportsEmbed
from tests.local.hybrid.fakes import FakeModel
from tests.local.hybrid.support import CHEAP, POLICY, Clock, reasons


class CapableFake(FakeModel):
    """A FakeModel that also embeds (vectors of its own width) and counts tokens."""

    def __init__(
        self,
        name: str,
        *,
        width: int = 2,
        tokens: int = 7,
        embed_failures: list[BotticelliError | None] | None = None,
        count_failure: BotticelliError | None = None,
        named: bool = True,
    ) -> None:
        super().__init__(name)
        self.width = width
        self.tokens = tokens
        self.embed_failures = list(embed_failures or [])
        self.count_failure = count_failure
        self.named = named
        self.embed_models: list[str | None] = []
        self.truncated: list[bool] = []

    async def embed(
        self,
        texts: Sequence[str],
        *,
        model: str | None = None,
        dimensions: int | None = None,
        task: str | None = None,
        truncate: bool = False,
    ) -> EmbedResponse:
        self.calls.append("embed")
        self.embed_models.append(model)
        self.truncated.append(truncate)
        failure = self.embed_failures.pop(0) if self.embed_failures else None
        if failure is not None:
            raise failure
        vectors = [[float(i)] * self.width for i, _ in enumerate(texts)]
        return EmbedResponse(vectors=vectors, model=f"{self.name}-embedder" if self.named else None)

    async def count_tokens(self, request: GenerateRequest) -> TokenCount:
        self.calls.append("count_tokens")
        if self.count_failure is not None:
            raise self.count_failure
        return TokenCount(input_tokens=self.tokens, exact=True)


def hybrid(preferred: FakeModel, fallback: FakeModel, **policy: object) -> HybridModel:
    return HybridModel(preferred, fallback, policy=POLICY.model_copy(update=policy), clock=Clock())


def test_a_hybrid_passes_both_capability_checks() -> None:
    model = hybrid(FakeModel("local"), FakeModel("gemini"))
    assert isinstance(model, SupportsEmbed)
    assert isinstance(model, SupportsCountTokens)


@pytest.mark.anyio
async def test_embeddings_go_to_the_preferred_backend_when_it_embeds(routes: pytest.LogCaptureFixture) -> None:
    local, api = CapableFake("local"), CapableFake("gemini", width=3)
    response = await hybrid(local, api).embed(["a", "b"], model="nomic")
    assert response == EmbedResponse(vectors=[[0.0, 0.0], [1.0, 1.0]], model="local-embedder")
    assert (local.calls, api.calls, local.embed_models) == (["embed"], [], ["nomic"])
    assert reasons(routes) == ["embed_backend"]


@pytest.mark.anyio
async def test_truncate_is_passed_to_the_embedding_backend() -> None:
    local = CapableFake("local")
    model = hybrid(local, CapableFake("gemini"))
    await model.embed(["a"], truncate=True)
    await model.embed(["a"])
    assert local.truncated == [True, False]


@pytest.mark.anyio
async def test_embeddings_go_to_the_fallback_when_the_preferred_cannot_embed() -> None:
    api = CapableFake("gemini", width=3)
    response = await hybrid(FakeModel("local"), api).embed(["a"])
    assert response.model == "gemini-embedder"
    assert response.dimensions == 3


@pytest.mark.anyio
async def test_the_configured_embed_backend_wins_over_auto() -> None:
    local, api = CapableFake("local"), CapableFake("gemini")
    await hybrid(local, api, embed_backend="fallback").embed(["a"])
    assert (local.calls, api.calls) == ([], ["embed"])


@pytest.mark.anyio
async def test_an_embed_backend_without_embeddings_is_a_configuration_error() -> None:
    model = hybrid(FakeModel("local"), CapableFake("gemini"), embed_backend="preferred")
    with pytest.raises(ConfigurationError, match="embed_backend is 'preferred'"):
        await model.embed(["a"])


@pytest.mark.anyio
async def test_a_failing_embed_backend_raises_and_the_other_model_is_never_asked(
    routes: pytest.LogCaptureFixture,
) -> None:
    local = CapableFake("local", embed_failures=[TransportError("refused"), TransportError("refused")])
    api = CapableFake("gemini")
    model = hybrid(local, api)
    for _ in range(2):
        with pytest.raises(TransportError):
            await model.embed(["a"])
    # The breaker opened; embeddings still do not move to the other vector space.
    assert model.breaker(local).state == "open"
    response = await model.embed(["a"])
    assert response.model == "local-embedder"
    assert api.calls == []
    assert "embed_fallback:TransportError" not in reasons(routes)


@pytest.mark.anyio
async def test_embed_fallback_when_configured_names_the_model_that_made_the_vectors(
    routes: pytest.LogCaptureFixture,
) -> None:
    local = CapableFake("local", embed_failures=[TransportError("refused")])
    api = CapableFake("gemini", width=3, named=False)
    response = await hybrid(local, api, embed_fallback=True).embed(["a"], model="nomic")
    # The caller's model named one of the local server's models; the API uses its own.
    assert (response.model, response.dimensions, api.embed_models) == ("gemini-model", 3, [None])
    assert reasons(routes) == ["embed_backend", "embed_fallback:TransportError"]


@pytest.mark.anyio
async def test_embed_fallback_does_not_hide_a_bad_request() -> None:
    local = CapableFake("local", embed_failures=[BadRequestError("no")])
    api = CapableFake("gemini")
    with pytest.raises(BadRequestError):
        await hybrid(local, api, embed_fallback=True).embed(["a"])
    assert api.calls == []


@pytest.mark.anyio
async def test_when_both_embed_backends_fail_the_first_error_is_chained() -> None:
    first = TransportError("refused")
    local = CapableFake("local", embed_failures=[first])
    api = CapableFake("gemini", embed_failures=[TransportError("also down")])
    with pytest.raises(TransportError, match="also down") as caught:
        await hybrid(local, api, embed_fallback=True).embed(["a"])
    assert caught.value.__context__ is first


@pytest.mark.anyio
async def test_without_any_embedding_backend_the_error_names_the_capability() -> None:
    with pytest.raises(UnsupportedInputError) as caught:
        await hybrid(FakeModel("local"), FakeModel("gemini")).embed(["a"])
    assert caught.value.input_type == "embeddings"


@pytest.mark.anyio
async def test_tokens_are_counted_by_the_backend_the_request_is_routed_to() -> None:
    local, api = CapableFake("local", tokens=5), CapableFake("gemini", tokens=9)
    model = hybrid(local, api)
    assert await model.count_tokens(CHEAP) == TokenCount(input_tokens=5, exact=True)
    complex_ = GenerateRequest.from_prompt("Hi", routing_hint="complex")
    assert await model.count_tokens(complex_) == TokenCount(input_tokens=9, exact=True)


@pytest.mark.anyio
async def test_a_count_by_the_other_backend_is_not_exact() -> None:
    count = await hybrid(FakeModel("local"), CapableFake("gemini", tokens=9)).count_tokens(CHEAP)
    assert count == TokenCount(input_tokens=9, exact=False)


@pytest.mark.anyio
async def test_without_any_counting_backend_the_error_names_the_capability() -> None:
    with pytest.raises(UnsupportedInputError) as caught:
        await hybrid(FakeModel("local"), FakeModel("gemini")).count_tokens(CHEAP)
    assert caught.value.input_type == "count_tokens"


@pytest.mark.anyio
async def test_routing_uses_the_estimate_unless_counting_is_turned_on() -> None:
    local, api = CapableFake("local", tokens=500), CapableFake("gemini")
    await hybrid(local, api).generate(CHEAP)
    assert local.calls == ["generate"]


@pytest.mark.anyio
async def test_routing_by_an_exact_count_sends_a_long_prompt_to_the_fallback(
    routes: pytest.LogCaptureFixture,
) -> None:
    # "Hi" is estimated at 1 token; the tokenizer (with the chat template) says 500.
    local, api = CapableFake("local", tokens=500), CapableFake("gemini")
    response = await hybrid(local, api, count_tokens_routing=True).generate(CHEAP)
    assert response.text == "gemini"
    assert (local.calls, api.calls) == (["count_tokens"], ["generate"])
    assert reasons(routes) == ["prompt_tokens>50"]


@pytest.mark.anyio
async def test_counting_is_skipped_when_a_hint_decides() -> None:
    local = CapableFake("local", tokens=500)
    request = GenerateRequest.from_prompt("Hi", routing_hint="cheap")
    await hybrid(local, CapableFake("gemini"), count_tokens_routing=True).generate(request)
    assert local.calls == ["generate"]


@pytest.mark.anyio
async def test_a_failed_count_falls_back_to_the_estimate(routes: pytest.LogCaptureFixture) -> None:
    local = CapableFake("local", tokens=500, count_failure=TransportError("refused"))
    chunks = []
    model = hybrid(local, CapableFake("gemini"), count_tokens_routing=True)
    async with model.generate_stream(CHEAP) as stream:
        chunks = [chunk.text async for chunk in stream]
    assert chunks[0] == "local:1"
    assert reasons(routes) == ["count_failed:TransportError", "cheap"]


@pytest.mark.anyio
async def test_no_count_is_asked_of_a_backend_whose_breaker_is_open() -> None:
    local = CapableFake("local", tokens=500)
    model = hybrid(local, CapableFake("gemini"), count_tokens_routing=True)
    for _ in range(POLICY.failure_threshold):
        model.breaker(local).record_failure(model.breaker(local).acquire())
    await model.generate(CHEAP)
    assert "count_tokens" not in local.calls


def test_the_policy_defaults_keep_one_vector_space_and_the_estimate() -> None:
    policy = HybridPolicy()
    assert (policy.embed_backend, policy.embed_fallback, policy.count_tokens_routing) == ("auto", False, False)
