"""HybridModel's circuit breakers: what counts against a backend, and what a breaker does once open."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from botticelli.hybrid import HybridModel
from botticelli_error import (
    BadRequestError,
    BotticelliError,
    ServerUnavailableError,
    StreamInterruptedError,
    TransportError,
    UnsupportedInputError,
)
from tests.local.hybrid.fakes import FakeModel
from tests.local.hybrid.support import CHEAP, POLICY, Clock, make, reasons

pytestmark = pytest.mark.anyio

THRESHOLD = POLICY.failure_threshold


async def stream_texts(hybrid: HybridModel, into: list[str]) -> None:
    """Stream CHEAP, keeping each chunk's text as it arrives (the backends stay open)."""
    async with hybrid.generate_stream(CHEAP) as stream:
        async for chunk in stream:
            into.append(chunk.text)


@pytest.mark.parametrize("operation", ["generate", "stream"])
@pytest.mark.parametrize(
    "not_its_fault",
    [lambda: BadRequestError("prompt too long", status_code=400), lambda: UnsupportedInputError("no images")],
    ids=["BadRequestError", "UnsupportedInputError"],
)
async def test_errors_that_are_not_the_backends_fault_leave_its_breaker_closed(
    routes: pytest.LogCaptureFixture, not_its_fault: Callable[[], BotticelliError], operation: str
) -> None:
    # Counting them would open the local breaker and quietly send all traffic to the paid API.
    local = FakeModel("local", failures=[not_its_fault() for _ in range(THRESHOLD)])
    hybrid = make(local, FakeModel("gemini"))
    for _ in range(THRESHOLD):
        try:  # a bad request propagates; an input the backend cannot take falls back
            if operation == "generate":
                await hybrid.generate(CHEAP)
            else:
                await stream_texts(hybrid, [])
        except BadRequestError:
            pass
    assert hybrid.breaker(local).state == "closed"
    assert hybrid.breaker(local).consecutive_failures == 0

    routes.clear()
    assert (await hybrid.generate(CHEAP)).text == "local"
    assert reasons(routes) == ["cheap"]
    assert len(local.calls) == THRESHOLD + 1


async def test_streams_that_break_after_their_first_chunk_count_against_the_backend(
    routes: pytest.LogCaptureFixture,
) -> None:
    local = FakeModel("local", fail_after_first_chunk=StreamInterruptedError("connection reset"))
    api = FakeModel("gemini")
    hybrid = make(local, api)
    for _ in range(THRESHOLD):
        received: list[str] = []
        with pytest.raises(StreamInterruptedError):
            await stream_texts(hybrid, received)
        assert received == ["local:1"]  # no fallback once the caller holds text
    assert hybrid.breaker(local).state == "open"
    assert api.calls == []

    routes.clear()
    assert (await hybrid.generate(CHEAP)).text == "gemini"
    assert reasons(routes) == ["breaker_open:local"]


async def test_a_break_after_the_first_chunk_adds_to_the_failures_before_it() -> None:
    local = FakeModel(
        "local",
        failures=[TransportError("refused")],
        fail_after_first_chunk=StreamInterruptedError("connection reset"),
    )
    hybrid = make(local, FakeModel("gemini"))
    assert (await hybrid.generate(CHEAP)).text == "gemini"  # counted, and fell back
    with pytest.raises(StreamInterruptedError):
        await stream_texts(hybrid, [])
    assert hybrid.breaker(local).state == "open"


async def test_a_stream_that_ends_well_resets_the_count() -> None:
    local = FakeModel("local", failures=[TransportError("refused"), None, TransportError("refused")])
    hybrid = make(local, FakeModel("gemini"))
    await hybrid.generate(CHEAP)
    received: list[str] = []
    await stream_texts(hybrid, received)
    assert received == ["local:1", "local:2", ""]
    await hybrid.generate(CHEAP)
    assert hybrid.breaker(local).state == "closed"
    assert hybrid.breaker(local).consecutive_failures == 1


async def test_a_consumer_leaving_a_stream_early_counts_as_a_success() -> None:
    local = FakeModel("local", failures=[TransportError("refused")])
    hybrid = make(local, FakeModel("gemini"))
    await hybrid.generate(CHEAP)
    async with hybrid.generate_stream(CHEAP) as stream:
        async for _ in stream:
            break
    assert hybrid.breaker(local).consecutive_failures == 0


async def test_a_trial_stream_closes_the_breaker_as_soon_as_its_first_chunk_arrives() -> None:
    clock = Clock()
    local = FakeModel("local", failures=[TransportError("refused") for _ in range(THRESHOLD)])
    hybrid = make(local, FakeModel("gemini"), clock)
    for _ in range(THRESHOLD):
        await hybrid.generate(CHEAP)
    clock.now += POLICY.cooldown
    assert hybrid.breaker(local).state == "half_open"
    async with hybrid.generate_stream(CHEAP) as stream:
        assert (await stream.__anext__()).text == "local:1"
        # Other requests need not wait for the whole trial stream to end.
        assert hybrid.breaker(local).state == "closed"


async def test_the_breaker_skips_a_failing_backend_then_lets_one_trial_through(
    routes: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    down = ServerUnavailableError("down")
    local, api = FakeModel("local", failures=[down, down, down]), FakeModel("gemini")
    hybrid = make(local, api, clock)
    for _ in range(2):
        assert (await hybrid.generate(CHEAP)).text == "gemini"
    assert hybrid.breaker(local).state == "open"

    routes.clear()
    assert (await hybrid.generate(CHEAP)).text == "gemini"
    assert local.calls == ["generate", "generate"]  # skipped, not retried
    assert reasons(routes) == ["breaker_open:local"]

    clock.now += 30  # cooled down: one trial, which fails and re-opens the breaker
    assert (await hybrid.generate(CHEAP)).text == "gemini"
    assert hybrid.breaker(local).state == "open"
    clock.now += 30  # the next trial succeeds and closes it
    assert (await hybrid.generate(CHEAP)).text == "local"
    assert hybrid.breaker(local).state == "closed"


async def test_a_stream_on_an_open_breaker_goes_straight_to_the_other_backend() -> None:
    down = TransportError("refused")
    local, api = FakeModel("local", failures=[down, down]), FakeModel("gemini")
    hybrid = make(local, api)
    for _ in range(2):
        await hybrid.generate(CHEAP)
    async with hybrid.generate_stream(CHEAP) as stream:
        assert (await stream.__anext__()).text == "gemini:1"
    assert local.calls == ["generate", "generate"]


async def test_with_both_breakers_open_the_routed_backend_is_still_tried(routes: pytest.LogCaptureFixture) -> None:
    down = TransportError("refused")
    local, api = FakeModel("local", failures=[down] * 2), FakeModel("gemini", failures=[down] * 2)
    hybrid = make(local, api)
    for _ in range(2):
        with pytest.raises(TransportError):
            await hybrid.generate(CHEAP)
    routes.clear()
    assert (await hybrid.generate(CHEAP)).text == "local"
    assert reasons(routes) == ["breaker_open:local,gemini"]
