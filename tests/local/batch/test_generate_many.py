"""generate_many: bounded concurrency, per-item errors as values, order, cancellation."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import httpx
import pytest
import respx

from botticelli import generate_many
from botticelli.batch import BatchResult
from botticelli_core import GenerateRequest
from botticelli_error import BadRequestError, ConfigurationError, ServerUnavailableError
from tests.local.server import wire
from tests.local.server.support import make_client, record_sleeps

from .fakes import CountingModel

pytestmark = pytest.mark.anyio


def prompts(*texts: str) -> list[GenerateRequest]:
    return [GenerateRequest.from_prompt(text) for text in texts]


async def test_awaiting_gives_every_result_in_input_order() -> None:
    model = CountingModel(delay=0.05)
    texts = [f"p{i}" + "x" * (i % 5) for i in range(40)]
    results = await generate_many(model, prompts(*texts), concurrency=8)
    assert [r.index for r in results] == list(range(40))
    assert [r.unwrap().text for r in results] == [t.upper() for t in texts]


async def test_no_more_than_concurrency_calls_run_at_once() -> None:
    model = CountingModel(delay=0.02)
    await generate_many(model, prompts(*["a"] * 30), concurrency=4)
    assert model.most_in_flight == 4
    assert model.started == 30


async def test_a_failed_request_is_a_value_and_the_others_complete() -> None:
    model = CountingModel()
    results = await generate_many(model, prompts("one", "bad", "three"), concurrency=2)
    assert [r.ok for r in results] == [True, False, True]
    assert isinstance(results[1].error, BadRequestError)
    assert results[1].response is None
    with pytest.raises(BadRequestError):
        results[1].unwrap()


async def test_as_completed_yields_results_as_they_finish() -> None:
    model = CountingModel(delay=0.2)
    # The longest prompt sleeps the shortest time, so it finishes first.
    async with generate_many(model, prompts("a", "bb", "cccccccc"), concurrency=3, ordered=False) as results:
        order = [r.index async for r in results]
    assert order == [2, 1, 0]


async def test_ordered_iteration_waits_for_earlier_results() -> None:
    model = CountingModel(delay=0.2)
    async with generate_many(model, prompts("a", "bb", "cccccccc"), concurrency=3) as results:
        order = [r.index async for r in results]
    assert order == [0, 1, 2]


async def test_on_result_sees_each_result_as_it_completes() -> None:
    seen: list[int] = []
    awaited: list[int] = []

    async def record(result: BatchResult) -> None:
        await anyio.lowlevel.checkpoint()
        awaited.append(result.index)

    model = CountingModel(delay=0.1)
    await generate_many(model, prompts("a", "bbbbbbbbbb"), concurrency=2, on_result=lambda r: seen.append(r.index))
    await generate_many(model, prompts("a", "bbbbbbbbbb"), concurrency=2, on_result=record)
    assert seen == [1, 0]
    assert awaited == [1, 0]


async def test_requests_are_read_lazily() -> None:
    handed_out: list[int] = []

    def lazy() -> object:
        for i in range(10):
            handed_out.append(i)
            yield GenerateRequest.from_prompt("a")

    model = CountingModel(delay=0.05)
    async with generate_many(model, lazy(), concurrency=2) as results:  # type: ignore[arg-type]
        first = await results.__anext__()
        # Two in flight, a third at most just started: the generator was not drained up front.
        assert first.index == 0
        assert len(handed_out) <= 4


async def test_cancelling_the_batch_cancels_calls_in_flight_and_leaks_nothing() -> None:
    model = CountingModel()
    with anyio.move_on_after(0.2) as scope:
        await generate_many(model, prompts(*["hang"] * 10), concurrency=3)
    assert scope.cancelled_caught
    assert model.started == 3
    assert model.in_flight == 0
    assert model.unwound == 3


async def test_leaving_the_block_early_cancels_the_rest() -> None:
    model = CountingModel()
    async with generate_many(model, prompts("a", *["hang"] * 5), concurrency=3, ordered=False) as results:
        async for result in results:
            assert result.ok
            break
    # The worker that finished "a" may have started one more before the break.
    assert model.started in (3, 4)
    assert model.in_flight == 0
    assert model.unwound == model.started


async def test_a_bug_ends_the_batch_and_is_raised_as_it_is() -> None:
    model = CountingModel()
    with pytest.raises(RuntimeError, match="a bug in the model"):
        await generate_many(model, prompts("a", "bug", *["hang"] * 3), concurrency=3)
    assert model.in_flight == 0


async def test_an_error_in_the_block_cancels_the_calls_and_propagates() -> None:
    model = CountingModel()

    async def fail_inside() -> None:
        async with generate_many(model, prompts("a", *["hang"] * 3), concurrency=4, ordered=False) as results:
            await results.__anext__()
            raise KeyError("the caller's own error")

    with pytest.raises(KeyError):
        await fail_inside()
    assert model.in_flight == 0


@pytest.mark.parametrize("concurrency", [0, -1, True, 1.5])
def test_concurrency_must_be_a_positive_whole_number(concurrency: int) -> None:
    with pytest.raises(ConfigurationError, match="concurrency"):
        generate_many(CountingModel(), [], concurrency=concurrency)


async def test_a_batch_runs_once() -> None:
    batch = generate_many(CountingModel(), prompts("a"), concurrency=1)
    assert len(await batch) == 1
    with pytest.raises(ConfigurationError, match="already run"):
        await batch


async def test_an_empty_batch_is_an_empty_list() -> None:
    assert await generate_many(CountingModel(), [], concurrency=4) == []


async def test_each_call_goes_through_the_clients_own_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    record_sleeps(monkeypatch)
    ok = httpx.Response(200, json=wire.OPENAI_COMPLETION)
    busy = httpx.Response(503, json={"error": {"message": "busy"}})
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        # The first call is retried once and succeeds; the second fails all 1 + 1 attempts.
        route = mock.post(wire.CHAT_URL).mock(side_effect=[busy, ok, busy, busy])
        async with make_client(max_retries=1) as client:
            results = await generate_many(client, prompts("one", "two"), concurrency=1)
    assert route.call_count == 4
    assert results[0].ok
    assert isinstance(results[1].error, ServerUnavailableError)
    assert results[1].error.retries == 1


async def test_a_few_hundred_prompts_through_a_canned_server() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).mock(return_value=httpx.Response(200, json=wire.OPENAI_COMPLETION))
        async with make_client() as client:
            results = await generate_many(client, prompts(*[f"prompt {i}" for i in range(300)]), concurrency=16)
    assert route.call_count == 300
    assert all(r.ok for r in results)
    assert [r.index for r in results] == list(range(300))
