"""One timer per stream for its idle limit and its deadline, instead of a timeout armed per read.

A stream's reads happen inside an async generator, between yields to the consumer,
so a scope spanning the whole stream would also cut into the consumer's own code.
Arming a fresh timeout around every read is correct but costs a timer, a heap push and
a cancellation check per chunk. The watchdog keeps a single timer per stream instead:

- every data event only records the time (``idle_since``); the timer is not moved;
- when the timer fires early (data came since), it re-arms itself for the new due time;
- when it fires late and the stream is waiting on a read, it cancels the task; the
  reader turns that cancellation, and only that one, into a typed error
  (:meth:`Watchdog.expired`). A cancellation from anywhere else stays a cancellation;
- when it fires while the consumer holds the stream (not reading), nothing is cut:
  the idle clock restarts at the next read, and a passed deadline raises there.

Keep-alive comments are not data events, so they never postpone the idle limit (see
docs/design.md). On event loops other than asyncio (trio), :meth:`Watchdog.timed_read`
gives each read a plain per-read limit instead.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from botticelli_error import BotticelliError, RequestTimeoutError, StreamStalledError

__all__ = ["Watchdog"]


class Watchdog:
    """Watches one stream's idle gaps and its deadline.

    Args:
        provider: For error attribution.
        idle_timeout: Longest gap between data events, or ``None``.
        deadline: Monotonic instant by which the stream must end, or ``None``.
    """

    __slots__ = (
        "_base_cancelling",
        "_cancelled",
        "_deadline",
        "_handle",
        "_idle",
        "_loop",
        "_provider",
        "cause",
        "idle_since",
        "reading",
    )

    def __init__(self, *, provider: str, idle_timeout: float | None, deadline: float | None) -> None:
        self._provider = provider
        self._idle = idle_timeout
        self._deadline = deadline
        self.idle_since = time.monotonic()
        """When the idle clock last started (``time.monotonic``); the reader sets it on every data event."""
        self.cause: str | None = None
        """Why the timer expired (``"idle"``, ``"deadline"``), while that is still to be acted on."""
        self._handle: asyncio.TimerHandle | None = None
        self.reading: asyncio.Task[object] | None = None
        """The task waiting in a read, set by the reader around each read: the timer only cuts
        a read in progress, in whichever task reads (not necessarily the one that opened)."""
        self._cancelled: asyncio.Task[object] | None = None
        self._base_cancelling = 0
        try:
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None
        if self._loop is not None:
            self._arm()

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The asyncio loop the timer runs on, or ``None`` on other event loops."""
        return self._loop

    @property
    def per_read(self) -> bool:
        """Whether reads need their own limit (:meth:`timed_read`): no asyncio loop to watch them."""
        return self._loop is None

    def resume(self) -> None:
        """The consumer asks for more after holding the stream past the idle limit: restart the idle clock."""
        self.cause = None
        self.idle_since = time.monotonic()
        self._arm()

    def _due(self) -> float | None:
        idle_due = None if self._idle is None else self.idle_since + self._idle
        if self._deadline is None:
            return idle_due
        return self._deadline if idle_due is None else min(idle_due, self._deadline)

    def _arm(self) -> None:
        due = self._due()
        if due is None or self._loop is None:
            return
        # The loop's clock is monotonic too, but not necessarily time.monotonic itself.
        self._handle = self._loop.call_at(self._loop.time() + max(due - time.monotonic(), 0.0), self._fire)

    def _fire(self) -> None:
        self._handle = None
        now = time.monotonic()
        if self._deadline is not None and now >= self._deadline:
            cause = "deadline"
        elif self._idle is not None and now >= self.idle_since + self._idle:
            cause = "idle"
        else:
            self._arm()  # data came since the timer was set
            return
        self.cause = cause
        task = self.reading
        if task is not None:
            self._cancelled, self._base_cancelling = task, task.cancelling()
            task.cancel()
        # Otherwise the consumer holds the stream: resume() or the next read decides.

    async def timed_read(self, chunks: AsyncIterator[bytes]) -> bytes:
        """The next chunk under a per-read limit, for event loops without a watched task.

        Raises:
            StreamStalledError: No data event within the idle timeout.
            RequestTimeoutError: The deadline passed.
        """
        import anyio  # noqa: PLC0415 - only other event loops (trio) come here; asyncio programs never load it

        due = self._due()
        with anyio.move_on_after(None if due is None else due - time.monotonic()):
            return await chunks.__anext__()
        raise self._error("deadline" if due == self._deadline else "idle")

    def before_read(self) -> None:
        """Called before each read: raises if the deadline passed while the consumer held the stream.

        Raises:
            RequestTimeoutError: The deadline passed.
        """
        if self.cause is not None:
            if self.cause == "deadline":
                raise self._error("deadline")
            self.resume()

    def expired(self) -> BotticelliError | None:
        """After a read was cancelled: the typed error if the watchdog did it, else ``None``.

        Must be called from the ``except CancelledError`` around the read.
        """
        cause = self.cause
        task, self._cancelled = self._cancelled, None
        if cause is None or task is None:
            return None
        # Ours only if no one else asked to cancel the task meanwhile.
        if task.uncancel() > self._base_cancelling:
            return None
        return self._error(cause)

    def _error(self, cause: str) -> BotticelliError:
        if cause == "idle":
            return StreamStalledError(
                f"no data for {self._idle:g} s (keep-alives do not count)",
                provider=self._provider,
                idle_timeout=self._idle,
            )
        return RequestTimeoutError(
            "the call's total deadline passed while streaming", provider=self._provider, retryable=False
        )

    def close(self) -> None:
        """Stop the timer; the stream is over."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
