"""Client-side rate limiting: stay under Gemini's quotas instead of collecting 429s.

Gemini enforces four kinds of limit per project and model: requests per minute (RPM),
input tokens per minute (TPM), requests per day (RPD, reset at midnight Pacific time),
and, on the caller's side, how many calls to keep in flight at once. A
:class:`RateLimiter` enforces all four for one model and is shared by every request a
client makes to that model:

* when a minute limit is reached it **waits** until the oldest call leaves the
  sixty-second window;
* when the day limit is spent it **raises** :class:`~botticelli_error.RateLimitError`
  with ``retryable=False``, since no wait short of the reset can help;
* tokens are estimated before the call (a quarter of the text's characters plus
  ``max_tokens``, see :func:`estimate_tokens`) and corrected once the API reports usage.

Free-tier values
----------------
:data:`FREE_TIER_LIMITS` holds the free-tier numbers Google published in the table on
https://ai.google.dev/gemini-api/docs/rate-limits in mid-2025 (the version current from
its June 2025 update to early December 2025):

=========================  ====  =========  =====
model                      RPM   TPM        RPD
=========================  ====  =========  =====
gemini-2.5-pro             5     250,000    100
gemini-2.5-flash           10    250,000    250
gemini-2.5-flash-lite      15    250,000    1,000
gemini-2.0-flash           15    1,000,000  200
gemini-2.0-flash-lite      30    1,000,000  200
=========================  ====  =========  =====

Since December 2025 that page no longer lists per-model numbers; it points to each
project's own limits in AI Studio (https://aistudio.google.com/rate-limit), and
developers reported day limits cut on 7 December 2025 (for example to 20 RPD for
Flash models). Treat the table as a starting point and set your project's real limits.
Google publishes no concurrency limit, so ``max_concurrency`` is unset in it.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from types import MappingProxyType, TracebackType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import anyio
from pydantic import BaseModel, ConfigDict, Field

from botticelli_core import GenerateRequest, TextInput
from botticelli_error import RateLimitError

__all__ = ["FREE_TIER_LIMITS", "RateLimiter", "RateLimits", "Reservation", "estimate_tokens"]

_WINDOW_S = 60.0
_CHARS_PER_TOKEN = 4


def _pacific() -> tzinfo:
    try:
        return ZoneInfo("America/Los_Angeles")
    except ZoneInfoNotFoundError:  # pragma: no cover - only on systems without tz data
        # Standard time is the conservative guess: it never resets the count early.
        return timezone(timedelta(hours=-8))


_PACIFIC = _pacific()


class RateLimits(BaseModel):
    """The four client-side limits for one model; ``None`` leaves a limit off.

    Example:
        >>> RateLimits(requests_per_minute=10, requests_per_day=250).tokens_per_minute is None
        True
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    requests_per_minute: int | None = Field(default=None, gt=0)
    tokens_per_minute: int | None = Field(default=None, gt=0)
    requests_per_day: int | None = Field(default=None, gt=0)
    max_concurrency: int | None = Field(default=None, gt=0)


FREE_TIER_LIMITS: Mapping[str, RateLimits] = MappingProxyType(
    {
        "gemini-2.5-pro": RateLimits(requests_per_minute=5, tokens_per_minute=250_000, requests_per_day=100),
        "gemini-2.5-flash": RateLimits(requests_per_minute=10, tokens_per_minute=250_000, requests_per_day=250),
        "gemini-2.5-flash-lite": RateLimits(requests_per_minute=15, tokens_per_minute=250_000, requests_per_day=1_000),
        "gemini-2.0-flash": RateLimits(requests_per_minute=15, tokens_per_minute=1_000_000, requests_per_day=200),
        "gemini-2.0-flash-lite": RateLimits(requests_per_minute=30, tokens_per_minute=1_000_000, requests_per_day=200),
    }
)
"""Free-tier limits Google published in mid-2025 (see the module docstring for the source)."""


def estimate_tokens(request: GenerateRequest) -> int:
    """A cheap upper-side token estimate: text characters / 4, plus ``max_tokens``.

    Media inputs are not counted; the estimate is corrected from reported usage anyway.

    Example:
        >>> estimate_tokens(GenerateRequest.from_prompt("x" * 40, max_tokens=10))
        20
    """
    chars = sum(len(part.text) for msg in request.messages for part in msg.content if isinstance(part, TextInput))
    return math.ceil(chars / _CHARS_PER_TOKEN) + (request.max_tokens or 0)


class _Entry:
    __slots__ = ("at", "tokens")

    def __init__(self, at: float, tokens: int) -> None:
        self.at = at
        self.tokens = tokens


class Reservation:
    """One admitted call: holds a concurrency slot until exited, and its token count.

    Use it as ``async with limiter.reserve(estimate) as reservation:`` and call
    :meth:`settle` with the reported token count once known.
    """

    __slots__ = ("_entry", "_limiter", "_slot_held")

    def __init__(self, limiter: RateLimiter, estimated_tokens: int) -> None:
        self._limiter = limiter
        self._entry = _Entry(0.0, estimated_tokens)
        self._slot_held = False

    @property
    def tokens(self) -> int:
        """The tokens this call counts for: the estimate, or the reported total once settled."""
        return self._entry.tokens

    def settle(self, tokens: int) -> None:
        """Replace the estimate with the tokens the API reported for this call."""
        self._entry.tokens = max(0, tokens)

    async def __aenter__(self) -> Reservation:
        await self._limiter._admit(self)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._slot_held:
            self._slot_held = False
            self._limiter._release_slot()


class RateLimiter:
    """Enforces one model's :class:`RateLimits` across all the calls of a client.

    Args:
        limits: The limits to enforce.
        model: The model the limits belong to (named in errors).
        clock: Monotonic seconds, for the minute windows.
        wall_clock: The current time, for the Pacific-time day.
        sleep: How to wait; tests pass a fake that advances ``clock``.

    Example:
        >>> import asyncio
        >>> limiter = RateLimiter(RateLimits(requests_per_day=1), model="gemini-2.5-flash")
        >>> async def twice():
        ...     async with limiter.reserve(10):
        ...         pass
        ...     async with limiter.reserve(10):
        ...         pass
        >>> asyncio.run(twice())
        Traceback (most recent call last):
        ...
        botticelli_error.errors.RateLimitError: [gemini] client-side limit of 1 requests per day ...
    """

    def __init__(
        self,
        limits: RateLimits,
        *,
        model: str,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self.limits = limits
        self.model = model
        self._clock = clock
        self._wall_clock = wall_clock
        self._sleep = sleep
        self._window: deque[_Entry] = deque()
        self._day = self._pacific_date()
        self._day_count = 0
        self._lock = anyio.Lock()
        self._slots = anyio.Semaphore(limits.max_concurrency) if limits.max_concurrency else None

    def reserve(self, estimated_tokens: int) -> Reservation:
        """A reservation for one call; entering it waits for room (or raises for the day limit)."""
        return Reservation(self, max(0, estimated_tokens))

    @property
    def requests_today(self) -> int:
        """Calls admitted since the last midnight, Pacific time."""
        self._roll_day()
        return self._day_count

    @property
    def tokens_in_window(self) -> int:
        """Tokens counted for the calls of the last sixty seconds."""
        self._prune(self._clock())
        return sum(entry.tokens for entry in self._window)

    async def _admit(self, reservation: Reservation) -> None:
        if self._slots is not None:
            await self._slots.acquire()
            reservation._slot_held = True
        try:
            # Holding the lock while waiting keeps callers in arrival order.
            async with self._lock:
                while True:
                    self._check_day()
                    now = self._clock()
                    wait = self._wait_for(now, reservation.tokens)
                    if wait <= 0:
                        break
                    await self._sleep(wait)
                reservation._entry.at = now
                self._window.append(reservation._entry)
                self._day_count += 1
        except BaseException:
            if reservation._slot_held:
                reservation._slot_held = False
                self._release_slot()
            raise

    def _release_slot(self) -> None:
        if self._slots is not None:
            self._slots.release()

    def _wait_for(self, now: float, tokens: int) -> float:
        self._prune(now)
        window = self._window
        wait = 0.0
        rpm = self.limits.requests_per_minute
        if rpm is not None and len(window) >= rpm:
            wait = window[len(window) - rpm].at + _WINDOW_S - now
        tpm = self.limits.tokens_per_minute
        if tpm is not None and window:
            used = sum(entry.tokens for entry in window)
            # A call bigger than the whole budget still goes once the window is empty;
            # refusing it forever would help no one.
            for entry in window:
                if used + tokens <= tpm:
                    break
                used -= entry.tokens
                wait = max(wait, entry.at + _WINDOW_S - now)
        return wait

    def _prune(self, now: float) -> None:
        window = self._window
        while window and window[0].at + _WINDOW_S <= now:
            window.popleft()

    def _pacific_date(self) -> tuple[int, int, int]:
        local = self._wall_clock().astimezone(_PACIFIC)
        return (local.year, local.month, local.day)

    def _roll_day(self) -> None:
        today = self._pacific_date()
        if today != self._day:
            self._day = today
            self._day_count = 0

    def _check_day(self) -> None:
        rpd = self.limits.requests_per_day
        self._roll_day()
        if rpd is None or self._day_count < rpd:
            return
        local = self._wall_clock().astimezone(_PACIFIC)
        midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        raise RateLimitError(
            f"client-side limit of {rpd} requests per day for {self.model} is spent; "
            "it resets at midnight Pacific time",
            provider="gemini",
            retryable=False,
            # Through UTC: subtracting two times of one zone ignores a DST change between them.
            retry_after=max(0.0, (midnight.astimezone(UTC) - local.astimezone(UTC)).total_seconds()),
            quota=f"requests_per_day={rpd} (client-side, {self.model})",
        )
