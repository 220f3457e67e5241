"""The routing policy and the circuit breaker, on their own: no backend involved."""

from __future__ import annotations

import pytest

from botticelli._breaker import CircuitBreaker
from botticelli._routing import (
    HybridPolicy,
    choose_route,
    counts_against_backend,
    estimate_prompt_tokens,
    falls_back_on,
)
from botticelli_core import GenerateRequest, ImageInput, MediaSource, Message, TextInput
from botticelli_error import (
    AuthenticationError,
    BadRequestError,
    BotticelliError,
    ConfigurationError,
    ContentBlockedError,
    NotFoundError,
    RateLimitError,
    RequestTimeoutError,
    ResponseDecodeError,
    ServerUnavailableError,
    StreamInterruptedError,
    StreamStalledError,
    TransportError,
    UnsupportedInputError,
)

POLICY = HybridPolicy(prompt_tokens_threshold=100, max_tokens_threshold=500)


def _image_request() -> GenerateRequest:
    image = ImageInput(mime="image/png", source=MediaSource.from_bytes(b"\x89PNG"))
    return GenerateRequest(messages=[Message.user([TextInput(text="What is this?"), image])])


def test_a_short_plain_request_is_cheap() -> None:
    assert choose_route(GenerateRequest.from_prompt("Hi", max_tokens=50), POLICY).model_dump() == {
        "target": "preferred",
        "reason": "cheap",
    }


def test_a_long_prompt_goes_to_the_fallback() -> None:
    route = choose_route(GenerateRequest.from_prompt("x" * 401), POLICY)
    assert (route.target, route.reason) == ("fallback", "prompt_tokens>100")


def test_a_prompt_exactly_at_the_threshold_stays_cheap() -> None:
    assert choose_route(GenerateRequest.from_prompt("x" * 400), POLICY).target == "preferred"


def test_the_estimate_counts_every_message_text() -> None:
    request = GenerateRequest.from_prompt("abcd" * 3, system="abcd")
    assert estimate_prompt_tokens(request) == 4


def test_a_large_max_tokens_goes_to_the_fallback() -> None:
    route = choose_route(GenerateRequest.from_prompt("Hi", max_tokens=501), POLICY)
    assert (route.target, route.reason) == ("fallback", "max_tokens>500")


def test_media_goes_to_the_fallback_unless_disabled() -> None:
    assert choose_route(_image_request(), POLICY).reason == "media"
    relaxed = POLICY.model_copy(update={"media_to_fallback": False})
    assert choose_route(_image_request(), relaxed).target == "preferred"


@pytest.mark.parametrize(("hint", "target"), [("cheap", "preferred"), ("complex", "fallback")])
def test_the_routing_hint_wins_over_every_heuristic(hint: str, target: str) -> None:
    request = GenerateRequest.from_prompt("x" * 4000, max_tokens=4000, routing_hint=hint)
    route = choose_route(request, POLICY)
    assert (route.target, route.reason) == (target, f"hint:{hint}")


FALLS_BACK: list[BotticelliError] = [
    TransportError("refused"),
    RequestTimeoutError("slow"),
    RateLimitError("429"),
    ServerUnavailableError("503"),
    StreamInterruptedError("cut"),
    StreamStalledError("idle"),
    UnsupportedInputError("audio"),
]
PROPAGATES: list[BotticelliError] = [
    BadRequestError("400"),
    AuthenticationError("401"),
    NotFoundError("404"),
    ContentBlockedError("blocked"),
    ConfigurationError("bad"),
    ResponseDecodeError("garbage"),
]


@pytest.mark.parametrize("error", FALLS_BACK, ids=lambda e: type(e).__name__)
def test_outages_fall_back(error: BotticelliError) -> None:
    assert falls_back_on(error)


@pytest.mark.parametrize("error", PROPAGATES, ids=lambda e: type(e).__name__)
def test_mistakes_of_the_request_do_not_fall_back(error: BotticelliError) -> None:
    assert not falls_back_on(error)
    assert not counts_against_backend(error)


def test_an_unsupported_input_falls_back_without_counting_as_an_outage() -> None:
    assert counts_against_backend(ServerUnavailableError("503"))
    assert not counts_against_backend(UnsupportedInputError("audio"))


def state(breaker: CircuitBreaker) -> str:
    # Read through a function: the state changes between reads, which a type checker cannot see.
    return breaker.state


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_breaker_opens_after_consecutive_failures_only() -> None:
    clock = Clock()
    breaker = CircuitBreaker("local", failure_threshold=3, cooldown=10, clock=clock)
    for _ in range(2):
        breaker.record_failure(breaker.acquire())
    breaker.record_success(breaker.acquire())
    for _ in range(2):
        breaker.record_failure(breaker.acquire())
    assert state(breaker) == "closed"
    breaker.record_failure(breaker.acquire())
    assert state(breaker) == "open"
    assert breaker.acquire() is None


def test_after_the_cooldown_exactly_one_trial_goes_through() -> None:
    clock = Clock()
    breaker = CircuitBreaker("local", failure_threshold=1, cooldown=10, clock=clock)
    breaker.record_failure(breaker.acquire())
    clock.now += 9.9
    assert breaker.acquire() is None
    clock.now += 0.1
    assert state(breaker) == "half_open"
    trial = breaker.acquire()
    assert trial == "trial"
    assert breaker.acquire() is None  # a second caller must not pile onto a backend on probation
    breaker.record_failure(trial)
    assert state(breaker) == "open"  # a failed trial starts a new cool-down
    clock.now += 10
    trial = breaker.acquire()
    breaker.record_success(trial)
    assert state(breaker) == "closed"
    assert breaker.consecutive_failures == 0


def test_a_cancelled_trial_frees_the_slot_without_judging_the_backend() -> None:
    clock = Clock()
    breaker = CircuitBreaker("local", failure_threshold=1, cooldown=1, clock=clock)
    breaker.record_failure(breaker.acquire())
    clock.now += 1
    breaker.release(breaker.acquire())
    assert state(breaker) == "half_open"
    assert breaker.acquire() == "trial"
