"""The half-open trial permit is handed back on every path, and streams fall back like ``generate``.

A backend may raise from ``generate_stream()`` itself, before returning a stream (an input
it checks up front). That path once kept the trial marked as running for ever: the breaker
stayed half-open, no second trial was ever let through, and every later request went to the
fallback.
"""

from __future__ import annotations

import pytest

from botticelli.hybrid import HybridModel
from botticelli_error import BotticelliError, TransportError, UnsupportedInputError
from tests.local.hybrid.fakes import FakeModel
from tests.local.hybrid.support import CHEAP, POLICY, Clock, make, reasons

pytestmark = pytest.mark.anyio

THRESHOLD = POLICY.failure_threshold


async def first_text(hybrid: HybridModel) -> str:
    """The text of the first chunk of a stream of CHEAP."""
    async with hybrid.generate_stream(CHEAP) as stream:
        return (await stream.__anext__()).text


def half_open(trial: BotticelliError | None, *, fails_on_call: bool = True) -> tuple[HybridModel, FakeModel, Clock]:
    """A hybrid whose local breaker is half-open; its trial request meets ``trial`` (then all succeed)."""
    clock = Clock()
    down: list[BotticelliError | None] = [TransportError("refused") for _ in range(THRESHOLD)]
    local = FakeModel("local", failures=[*down, trial], fails_on_call=fails_on_call)
    hybrid = make(local, FakeModel("gemini"), clock)
    return hybrid, local, clock


async def trip(hybrid: HybridModel, clock: Clock) -> None:
    for _ in range(THRESHOLD):
        assert (await hybrid.generate(CHEAP)).text == "gemini"
    clock.now += POLICY.cooldown
    assert hybrid.breaker(hybrid.preferred).state == "half_open"


async def test_a_trial_stream_refusing_its_input_up_front_falls_back_and_frees_the_trial(
    routes: pytest.LogCaptureFixture,
) -> None:
    hybrid, local, clock = half_open(UnsupportedInputError("no images", input_type="image"))
    await trip(hybrid, clock)
    routes.clear()
    assert await first_text(hybrid) == "gemini:1"
    assert reasons(routes) == ["cheap", "fallback:UnsupportedInputError"]
    # An input the backend cannot take says nothing against its health: the trial answered.
    assert hybrid.breaker(local).state == "closed"
    assert await first_text(hybrid) == "local:1"


async def test_a_trial_stream_failing_up_front_reopens_the_breaker_and_a_later_trial_goes_through() -> None:
    hybrid, local, clock = half_open(TransportError("refused"))
    await trip(hybrid, clock)
    assert await first_text(hybrid) == "gemini:1"
    assert hybrid.breaker(local).state == "open"
    clock.now += POLICY.cooldown
    assert await first_text(hybrid) == "local:1"
    assert hybrid.breaker(local).state == "closed"


async def test_a_trial_stream_raising_a_foreign_exception_up_front_hands_the_trial_back() -> None:
    clock = Clock()
    local = FakeModel("local", failures=[TransportError("refused") for _ in range(THRESHOLD)])
    hybrid = make(local, FakeModel("gemini"), clock)
    await trip(hybrid, clock)

    def broken(request: object) -> object:
        raise RuntimeError("a bug in the backend")

    original = local.generate_stream
    local.generate_stream = broken  # type: ignore[method-assign,assignment]
    with pytest.raises(RuntimeError):
        await first_text(hybrid)
    local.generate_stream = original  # type: ignore[method-assign]
    # Nothing was learnt about the backend, but the slot is free for the next trial.
    assert hybrid.breaker(local).state == "half_open"
    assert await first_text(hybrid) == "local:1"
    assert hybrid.breaker(local).state == "closed"


@pytest.mark.parametrize("fails_on_call", [True, False], ids=["raised_by_the_call", "raised_by_the_stream"])
@pytest.mark.parametrize("operation", ["generate", "stream"])
async def test_stream_and_generate_both_fall_back_on_an_unsupported_input(
    routes: pytest.LogCaptureFixture, operation: str, fails_on_call: bool
) -> None:
    no_audio = UnsupportedInputError("no audio", input_type="audio")
    local = FakeModel("local", failures=[no_audio], fails_on_call=fails_on_call)
    hybrid = make(local, FakeModel("gemini"))
    if operation == "generate":
        assert (await hybrid.generate(CHEAP)).text == "gemini"
    else:
        assert await first_text(hybrid) == "gemini:1"
    assert reasons(routes) == ["cheap", "fallback:UnsupportedInputError"]
    assert hybrid.breaker(local).consecutive_failures == 0
