"""A small circuit breaker, so a backend that keeps failing is skipped instead of retried on every request.

Closed: requests go through, consecutive failures are counted. ``failure_threshold``
failures in a row open it: the backend is skipped for ``cooldown`` seconds. After that it
is half-open: exactly one trial request goes through; success closes the breaker,
failure opens it again for another cool-down. (pydantic-ai #3023 asks for this: a
throttled model should be skipped, not waited on.)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Literal

from botticelli_interface.request_log import log_event

__all__ = ["BreakerState", "CircuitBreaker", "Permit"]

BreakerState = Literal["closed", "open", "half_open"]
Permit = Literal["normal", "trial"]


class CircuitBreaker:
    """Tracks one backend's consecutive failures and decides whether to send it a request.

    Args:
        name: The backend's name, for the log.
        failure_threshold: Consecutive failures that open the breaker.
        cooldown: Seconds the breaker stays open before letting one trial through.
        clock: Monotonic seconds; tests pass a fake one.

    Examples:
        >>> now = [0.0]
        >>> breaker = CircuitBreaker("local", failure_threshold=2, cooldown=10, clock=lambda: now[0])
        >>> for _ in range(2):
        ...     breaker.record_failure(breaker.acquire())
        >>> breaker.state, breaker.acquire()
        ('open', None)
        >>> now[0] = 10.0
        >>> breaker.state, breaker.acquire()
        ('half_open', 'trial')
        >>> breaker.record_success("trial")
        >>> breaker.state
        'closed'
    """

    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int,
        cooldown: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.failure_threshold = failure_threshold
        self.cooldown = cooldown
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    def __repr__(self) -> str:
        return f"CircuitBreaker({self.name!r}, state={self.state!r}, failures={self._failures})"

    @property
    def state(self) -> BreakerState:
        """``"closed"``, ``"open"`` (skipping the backend) or ``"half_open"`` (a trial may go through)."""
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at < self.cooldown:
            return "open"
        return "half_open"

    @property
    def consecutive_failures(self) -> int:
        """Failures since the last success."""
        return self._failures

    def acquire(self) -> Permit | None:
        """Ask to send one request: ``"normal"``, ``"trial"`` (half-open) or ``None`` (skip the backend).

        Every permit must be handed back through exactly one of :meth:`record_success`,
        :meth:`record_failure` or :meth:`release`.
        """
        state = self.state
        if state == "closed":
            return "normal"
        if state == "open" or self._trial_running:
            return None
        self._trial_running = True
        return "trial"

    def record_success(self, permit: Permit | None) -> None:
        """The backend answered: close the breaker and forget past failures."""
        if self._opened_at is not None:
            log_event(logging.INFO, "botticelli.breaker", backend=self.name, state="closed")
        self._failures = 0
        self._opened_at = None
        if permit == "trial":
            self._trial_running = False

    def record_failure(self, permit: Permit | None) -> None:
        """The backend failed in a way that says it is unhealthy; may open the breaker."""
        self._failures += 1
        if permit == "trial":
            self._trial_running = False
            self._open()
        elif self._opened_at is None and self._failures >= self.failure_threshold:
            self._open()

    def release(self, permit: Permit | None) -> None:
        """Hand a permit back unused (the request was cancelled): nothing was learnt."""
        if permit == "trial":
            self._trial_running = False

    @property
    def retry_in(self) -> float:
        """Seconds until an open breaker lets a trial through; 0 when it is not open."""
        if self._opened_at is None:
            return 0.0
        return max(0.0, self.cooldown - (self._clock() - self._opened_at))

    def trip(self) -> None:
        """Open the breaker now, whatever the count: a health check found the backend down.

        A running trial keeps its slot until its permit is handed back.
        """
        self._failures = max(self._failures, self.failure_threshold)
        self._open()

    def reset(self) -> None:
        """Close the breaker now: a health check found the backend ready again."""
        self.record_success(None)

    def _open(self) -> None:
        self._opened_at = self._clock()
        log_event(
            logging.WARNING,
            "botticelli.breaker",
            backend=self.name,
            state="open",
            failures=self._failures,
            cooldown_s=self.cooldown,
        )
