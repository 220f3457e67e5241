"""When to try again, and how long to wait first.

Retries happen on connection failures, timeouts, 408, 409, 429 and 5xx, which the
error classes mark ``retryable``; never on other 4xx. The wait is exponential with
jitter, unless the server said how long to wait (``Retry-After``, ``retry-after-ms``,
Gemini's ``RetryInfo``): then we wait exactly that, and a server asking for more than
``max_retry_after`` gets its error raised at once instead of a sleep. No wait may run
past the call's total deadline.

The first attempt runs without tenacity: a successful call, the common case, then
costs nothing (tenacity's machinery is ~45 µs a call). Tenacity takes over from the
first retryable failure.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from botticelli_error import BotticelliError
from botticelli_interface.request_log import log_event
from botticelli_transport.settings import HttpSettings

if TYPE_CHECKING:
    from tenacity import RetryCallState

__all__ = ["retry_after"]

T = TypeVar("T")


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, BotticelliError) and exc.retryable


class _Policy:
    """The wait and stop rules of one call, as tenacity callables."""

    def __init__(self, settings: HttpSettings, deadline: float | None, max_retries: int) -> None:
        from tenacity import stop_after_attempt  # noqa: PLC0415 - see module doc

        self._settings = settings
        self._deadline = deadline
        self._attempts = stop_after_attempt(max_retries + 1)

    def wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, BotticelliError) and error.retry_after is not None:
            return error.retry_after
        return self._backoff(state.attempt_number)

    def _backoff(self, attempt: int) -> float:
        # Computed here rather than by tenacity's wait_exponential_jitter, whose arguments
        # changed across the supported versions (``initial`` warns as deprecated from 9.x).
        settings = self._settings
        jitter = random.uniform(0.0, settings.backoff_initial)  # noqa: S311 - jitter, not cryptography
        return min(settings.backoff_initial * 2.0 ** (attempt - 1) + jitter, settings.backoff_max)

    def stop(self, state: RetryCallState) -> bool:
        if self._attempts(state):
            return True
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, BotticelliError) and (error.retry_after or 0.0) > self._settings.max_retry_after:
            return True
        if self._deadline is not None:
            return time.monotonic() + state.upcoming_sleep >= self._deadline
        return False

    def before_sleep(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log_event(
            logging.INFO,
            "botticelli.retry",
            provider=self._settings.provider,
            attempt=state.attempt_number,
            wait_s=round(state.upcoming_sleep, 3),
            error=type(error).__name__,
            status=getattr(error, "status_code", None),
        )


async def retry_after(
    failure: BotticelliError,
    attempt: Callable[[], Awaitable[T]],
    settings: HttpSettings,
    deadline: float | None,
    *,
    max_retries: int | None = None,
) -> tuple[T, int]:
    """Carry on after a first attempt failed with ``failure``: retry ``attempt`` per the settings.

    The caller runs the first attempt itself, so a call that succeeds at once passes
    through no retry machinery at all (each awaiting layer costs on every suspension).
    ``max_retries`` replaces the settings' count (a per-call option); ``None`` keeps it.

    Returns:
        The result of the attempt that succeeded, and how many retries came before it.

    Raises:
        BotticelliError: ``failure`` when it is not retryable, else the last error once
            retries are spent; its ``retries`` says how many were made.
    """
    retries = settings.max_retries if max_retries is None else max_retries
    if not failure.retryable or retries == 0:
        raise failure
    first_failure: list[BotticelliError] = [failure]

    # Imported here: most calls never fail, tenacity adds ~40 ms to start-up and anyio a few more.
    import anyio  # noqa: PLC0415
    from tenacity import AsyncRetrying, retry_if_exception  # noqa: PLC0415

    policy = _Policy(settings, deadline, retries)
    retrying = AsyncRetrying(
        stop=policy.stop,
        wait=policy.wait,
        retry=retry_if_exception(_is_retryable),
        before_sleep=policy.before_sleep,
        sleep=anyio.sleep,
        reraise=True,
    )
    tries = 1
    try:
        async for try_ in retrying:
            tries = try_.retry_state.attempt_number
            with try_:
                # Tenacity's first "attempt" replays the failure that already happened, so its
                # wait and stop rules see it exactly like any later one.
                if first_failure:
                    raise first_failure.pop()
                return await attempt(), try_.retry_state.attempt_number - 1
    except BotticelliError as exc:
        exc.retries = tries - 1
        raise
    raise AssertionError("unreachable: tenacity either returns or re-raises")  # pragma: no cover
