"""One model of a router behind its own circuit breaker, with the counters its stats are read from."""

from __future__ import annotations

import time
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict

from botticelli._breaker import BreakerState, CircuitBreaker, Permit
from botticelli_core import Usage
from botticelli_error import BotticelliError
from botticelli_interface import GenerativeModel

__all__ = ["Attempt", "Member", "MemberStats"]


class MemberStats(BaseModel):
    """A snapshot of one member's counters (a fallback model, or a replica of a pool).

    Attributes:
        name: The member's name (a replica's base URL, or ``provider:model``).
        in_flight: Requests (and open streams) it is serving now.
        successes: Requests it answered.
        failures: Requests it failed with a :class:`~botticelli_error.BotticelliError`.
        ejected: Whether it is out of rotation: its breaker is not closed (consecutive
            failures, or a failed health check).
        breaker: The breaker's state: ``"closed"``, ``"open"`` or ``"half_open"``.
        last_latency_s: Seconds the last answered request took (to its end, for a stream).
        mean_latency_s: Mean seconds of the answered requests.
        input_tokens: Prompt tokens of the answered requests, as their usage reported them.
        cached_tokens: Of those, the prompt tokens the server took from its cache
            (``Usage.cached_tokens``; 0 when the server reports none). Set beside
            ``input_tokens``, it shows how well a pool keeps conversations where their cache is.

    Examples:
        >>> MemberStats(name="a", in_flight=0, successes=0, failures=0, ejected=False, breaker="closed").ejected
        False
    """

    model_config = ConfigDict(frozen=True)

    name: str
    in_flight: int
    successes: int
    failures: int
    ejected: bool
    breaker: BreakerState
    last_latency_s: float | None = None
    mean_latency_s: float | None = None
    input_tokens: int = 0
    cached_tokens: int = 0


class Member:
    """A model, its breaker and its counters; routers hold one per model.

    Args:
        name: How logs, stats and errors name the member.
        model: The model itself.
        failure_threshold: Consecutive failures that open its breaker.
        cooldown: Seconds the breaker stays open before a trial request.
        clock: Monotonic seconds, for the breaker and the latencies.
    """

    def __init__(
        self,
        name: str,
        model: GenerativeModel,
        *,
        failure_threshold: int,
        cooldown: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.model = model
        self.breaker = CircuitBreaker(name, failure_threshold=failure_threshold, cooldown=cooldown, clock=clock)
        self._clock = clock
        self.in_flight = 0
        self.successes = 0
        self.failures = 0
        self._latency_total = 0.0
        self.last_latency_s: float | None = None
        self.input_tokens = 0
        self.cached_tokens = 0

    def __repr__(self) -> str:
        return f"Member({self.name!r}, breaker={self.breaker.state!r}, in_flight={self.in_flight})"

    def begin(self, permit: Permit | None) -> Attempt:
        """Count one request as in flight; settle the returned attempt exactly once."""
        self.in_flight += 1
        return Attempt(self, permit, self._clock())

    def count_usage(self, usage: Usage | None) -> None:
        """Add one answered request's prompt and cached tokens to the counters."""
        if usage is None:
            return
        self.input_tokens += usage.input_tokens
        self.cached_tokens += usage.cached_tokens or 0

    def stats(self) -> MemberStats:
        """A snapshot of the counters."""
        state = self.breaker.state
        return MemberStats(
            name=self.name,
            in_flight=self.in_flight,
            successes=self.successes,
            failures=self.failures,
            ejected=state != "closed",
            breaker=state,
            last_latency_s=self.last_latency_s,
            mean_latency_s=self._latency_total / self.successes if self.successes else None,
            input_tokens=self.input_tokens,
            cached_tokens=self.cached_tokens,
        )


class Attempt:
    """One request on one member: holds the breaker permit until the outcome is known."""

    def __init__(self, member: Member, permit: Permit | None, started: float) -> None:
        self.member = member
        self.permit = permit
        self._started = started
        self._settled = False

    def answered(self) -> None:
        """A stream's first chunk arrived: a trial closes the breaker now instead of at the end.

        Otherwise the outcome is known only at the end: counting the first chunk as a success
        would reset the count each time, so a backend that always broke mid-stream never tripped.
        """
        if self.permit == "trial":
            self.member.breaker.record_success(self.permit)
            self.permit = None

    def succeeded(self) -> None:
        """The request is over and went well."""
        if self._settle():
            member = self.member
            member.breaker.record_success(self.permit)
            member.successes += 1
            member.last_latency_s = member._clock() - self._started
            member._latency_total += member.last_latency_s

    def failed(self, error: BotticelliError, *, unhealthy: bool) -> None:
        """The request failed; ``unhealthy`` says whether the error counts against the member's breaker."""
        if self._settle():
            self.member.failures += 1
            if unhealthy:
                self.member.breaker.record_failure(self.permit)
            else:
                # The member answered (a 400, a refusal): it is up, whatever the request's fault.
                self.member.breaker.record_success(self.permit)

    def released(self) -> None:
        """The request was cancelled: nothing was learnt, the permit goes back."""
        if self._settle():
            self.member.breaker.release(self.permit)

    def _settle(self) -> bool:
        if self._settled:
            return False
        self._settled = True
        self.member.in_flight -= 1
        return True
