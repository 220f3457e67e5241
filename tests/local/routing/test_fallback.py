"""FallbackModel: order, fallback_on rules, breakers, the stream-before-first-chunk rule, the final error."""

from __future__ import annotations

import pytest

from botticelli import FallbackModel
from botticelli.routing import default_fallback_on
from botticelli_core import EmbedResponse, GenerateRequest, TokenCount
from botticelli_error import (
    AllModelsFailedError,
    AuthenticationError,
    BadRequestError,
    BotticelliError,
    CircuitOpenError,
    ConfigurationError,
    RateLimitError,
    ServerUnavailableError,
    StreamInterruptedError,
    TransportError,
    UnsupportedInputError,
)
from tests.local.hybrid.fakes import FakeModel
from tests.local.hybrid.support import Clock, reasons

pytestmark = pytest.mark.anyio

REQUEST = GenerateRequest.from_prompt("Hi")


async def drain(model: FallbackModel, into: list[str]) -> None:
    async with model.generate_stream(REQUEST) as stream:
        async for chunk in stream:
            into.append(chunk.text)


def chain(*models: FakeModel, clock: Clock | None = None, **options: object) -> FallbackModel:
    return FallbackModel(*models, failure_threshold=2, cooldown=30, clock=clock or Clock(), **options)  # type: ignore[arg-type]


async def test_the_first_member_answers_and_the_others_are_not_called() -> None:
    a, b, c = FakeModel("a"), FakeModel("b"), FakeModel("c")
    assert (await chain(a, b, c).generate(REQUEST)).text == "a"
    assert (b.calls, c.calls) == ([], [])


async def test_members_are_tried_in_order_until_one_answers(routes: pytest.LogCaptureFixture) -> None:
    a = FakeModel("a", failures=[TransportError("refused")])
    b = FakeModel("b", failures=[ServerUnavailableError("overloaded")])
    c = FakeModel("c")
    assert (await chain(a, b, c).generate(REQUEST)).text == "c"
    assert (a.calls, b.calls, c.calls) == (["generate"], ["generate"], ["generate"])
    assert reasons(routes) == ["first", "fallback:TransportError", "fallback:ServerUnavailableError"]


@pytest.mark.parametrize(
    "error",
    [BadRequestError("bad"), AuthenticationError("bad key"), ConfigurationError("no model")],
)
async def test_a_callers_mistake_propagates_without_trying_the_next(error: BotticelliError) -> None:
    a, b = FakeModel("a", failures=[error]), FakeModel("b")
    with pytest.raises(type(error)) as raised:
        await chain(a, b).generate(REQUEST)
    assert raised.value is error
    assert b.calls == []


async def test_unsupported_input_and_spent_quota_fall_back_by_default() -> None:
    a = FakeModel("a", failures=[UnsupportedInputError("no audio", input_type="audio")])
    b = FakeModel("b", failures=[RateLimitError("daily quota", retryable=False)])
    assert (await chain(a, b, FakeModel("c")).generate(REQUEST)).text == "c"


def test_the_default_rule_reads_retryable_on_errors_it_does_not_name() -> None:
    assert default_fallback_on(BotticelliError("flaky", retryable=True))
    assert not default_fallback_on(BotticelliError("permanent"))
    assert default_fallback_on(CircuitOpenError("open"))


async def test_fallback_on_as_error_classes_replaces_the_default() -> None:
    a, b = FakeModel("a", failures=[BadRequestError("too long")]), FakeModel("b")
    assert (await chain(a, b, fallback_on=(BadRequestError,)).generate(REQUEST)).text == "b"
    c, d = FakeModel("c", failures=[TransportError("refused")]), FakeModel("d")
    with pytest.raises(TransportError):
        await chain(c, d, fallback_on=(BadRequestError,)).generate(REQUEST)


async def test_fallback_on_as_a_predicate() -> None:
    a, b = FakeModel("a", failures=[BadRequestError("too long")]), FakeModel("b")
    model = chain(a, b, fallback_on=lambda e: default_fallback_on(e) or e.status_code == 413)
    with pytest.raises(BadRequestError):
        await model.generate(REQUEST)
    a.failures = [BadRequestError("too long", status_code=413)]
    assert (await model.generate(REQUEST)).text == "b"


async def test_when_every_member_fails_the_error_carries_each_members_error() -> None:
    first, second = TransportError("refused"), ServerUnavailableError("overloaded", retry_after=4.0)
    model = chain(FakeModel("a", failures=[first]), FakeModel("b", failures=[second]))
    with pytest.raises(AllModelsFailedError) as raised:
        await model.generate(REQUEST)
    err = raised.value
    assert err.errors == {"a:a-model": first, "b:b-model": second}
    assert err.provider == "fallback"
    assert err.retryable
    assert err.retry_after == 4.0
    assert err.__cause__ is second
    assert second.__context__ is first


async def test_a_member_whose_breaker_is_open_is_skipped_and_named_in_the_final_error(
    routes: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    a = FakeModel("a", failures=[TransportError("refused"), TransportError("refused")])
    b = FakeModel("b")
    model = chain(a, b, clock=clock)
    for _ in range(2):
        assert (await model.generate(REQUEST)).text == "b"
    assert model.breaker(a).state == "open"
    routes.clear()
    assert (await model.generate(REQUEST)).text == "b"
    assert a.calls == ["generate", "generate"]
    assert reasons(routes) == ["breaker_open:a:a-model"]
    b.failures = [TransportError("refused")]
    with pytest.raises(AllModelsFailedError) as raised:
        await model.generate(REQUEST)
    skipped = raised.value.errors["a:a-model"]
    assert isinstance(skipped, CircuitOpenError)
    assert skipped.retry_after == 30.0
    clock.now += 30
    assert (await model.generate(REQUEST)).text == "a"
    assert model.breaker(a).state == "closed"


async def test_when_every_breaker_is_open_the_first_member_is_tried_anyway() -> None:
    down: list[BotticelliError | None] = [TransportError("refused")] * 4
    a, b = FakeModel("a", failures=list(down)), FakeModel("b", failures=list(down))
    model = chain(a, b)
    for _ in range(2):
        with pytest.raises(AllModelsFailedError):
            await model.generate(REQUEST)
    a.failures = []
    assert (await model.generate(REQUEST)).text == "a"


async def test_a_stream_falls_back_before_its_first_chunk() -> None:
    a = FakeModel("a", failures=[StreamInterruptedError("cut")])
    model = chain(a, FakeModel("b"))
    async with model.generate_stream(REQUEST) as stream:
        texts = [chunk.text async for chunk in stream]
    assert texts == ["b:1", "b:2", ""]


async def test_a_stream_that_broke_after_its_first_chunk_propagates_with_its_text() -> None:
    cut = StreamInterruptedError("cut", partial_text="a:1")
    a, b = FakeModel("a", fail_after_first_chunk=cut), FakeModel("b")
    model = chain(a, b)
    seen: list[str] = []
    with pytest.raises(StreamInterruptedError) as raised:
        await drain(model, seen)
    assert seen == ["a:1"]
    assert raised.value.partial_text == "a:1"
    assert b.calls == []
    assert model.stats()["a:a-model"].failures == 1


async def test_stats_count_each_member_and_nothing_stays_in_flight() -> None:
    a, b = FakeModel("a", failures=[TransportError("refused")]), FakeModel("b")
    model = chain(a, b)
    await model.generate(REQUEST)
    async with model.generate_stream(REQUEST) as stream:
        async for _ in stream:
            break
    stats = model.stats()
    assert (stats["a:a-model"].failures, stats["a:a-model"].successes) == (1, 1)
    assert (stats["b:b-model"].successes, stats["b:b-model"].in_flight) == (1, 0)
    assert stats["b:b-model"].mean_latency_s is not None
    assert not stats["a:a-model"].ejected


def test_a_chain_needs_a_model() -> None:
    with pytest.raises(ValueError, match="at least one"):
        FallbackModel()


class Embedder(FakeModel):
    async def embed(
        self,
        texts: object,
        *,
        model: str | None = None,
        dimensions: int | None = None,
        task: str | None = None,
        truncate: bool = False,
    ) -> EmbedResponse:
        failure = self._next_failure()
        if failure is not None:
            raise failure
        return EmbedResponse(vectors=[[1.0]])

    async def count_tokens(self, request: GenerateRequest) -> TokenCount:
        return TokenCount(input_tokens=len(self.name), exact=True)


async def test_embeddings_come_from_the_first_member_that_has_them_without_switching() -> None:
    plain, embedder, other = FakeModel("a"), Embedder("bb", failures=[TransportError("refused")]), Embedder("c")
    model = chain(plain, embedder, other)
    with pytest.raises(TransportError):
        await model.embed(["x"])
    response = await model.embed(["x"])
    assert response.model == "bb-model"
    with pytest.raises(UnsupportedInputError) as raised:
        await chain(FakeModel("a")).embed(["x"])
    assert raised.value.input_type == "embeddings"


async def test_counts_come_from_the_first_counter_and_are_inexact_when_it_is_not_the_first_member() -> None:
    assert await chain(Embedder("bb"), Embedder("c")).count_tokens(REQUEST) == TokenCount(input_tokens=2, exact=True)
    assert await chain(FakeModel("a"), Embedder("bb")).count_tokens(REQUEST) == TokenCount(input_tokens=2, exact=False)
    with pytest.raises(UnsupportedInputError):
        await chain(FakeModel("a")).count_tokens(REQUEST)


async def test_health_is_ready_when_any_member_is_and_lists_each() -> None:
    model = chain(FakeModel("a", ready=False), FakeModel("b"))
    health = await model.health()
    assert (health.ready, health.status) == (True, "degraded")
    assert list(await model.member_health()) == ["a:a-model", "b:b-model"]
    assert [m.id for m in await model.list_models()] == ["b-model"]


async def test_closing_closes_every_member() -> None:
    a, b = FakeModel("a"), FakeModel("b")
    async with chain(a, b):
        pass
    assert (a.closed, b.closed) == (1, 1)
