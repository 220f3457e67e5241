"""From a stream of bytes to a stream of events, under an idle timer and a deadline.

The idle timer counts only *data* events: keep-alive comments arrive as bytes and
would reset any read timeout, so a relay that pings forever while the model is dead
would hang the caller (see docs/design.md). Here, once a read brings no event, the
next read is given only what is left of the idle budget.

Timers cost a few microseconds each, so a read is wrapped in one only when needed:
while events flow, the transport's own per-read timeout (set to the idle timeout)
already bounds each read.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator

from botticelli_error import RequestTimeoutError, StreamStalledError
from botticelli_transport._deadline import timeout_scope
from botticelli_transport.sse import ServerSentEvent, SSEDecoder

__all__ = ["iter_events"]


async def iter_events(
    chunks: AsyncIterator[bytes],
    decoder: SSEDecoder,
    *,
    provider: str,
    idle_timeout: float | None,
    deadline: float | None,
    read_timeout: float | None,
) -> AsyncGenerator[ServerSentEvent, None]:
    """Yield the events decoded from ``chunks``, enforcing the idle timeout and the deadline.

    Args:
        chunks: The response body, piece by piece.
        decoder: The decoder to feed (its ``unframed`` line is useful after the end).
        provider: For error attribution.
        idle_timeout: Longest gap between data events, or ``None``.
        deadline: Monotonic instant by which the stream must end, or ``None``.
        read_timeout: The per-read timeout the transport already enforces, or ``None``.

    Raises:
        StreamStalledError: No data event for ``idle_timeout`` seconds.
        RequestTimeoutError: The deadline passed.
    """
    last_data = time.monotonic()
    stalling = False
    while True:
        limit, cause = _read_limit(deadline, last_data if stalling else None, idle_timeout)
        try:
            if limit is not None and (read_timeout is None or limit < read_timeout):
                if limit <= 0:
                    raise TimeoutError
                async with timeout_scope(limit):
                    chunk = await chunks.__anext__()
            else:
                chunk = await chunks.__anext__()
        except StopAsyncIteration:
            for event in decoder.flush():
                yield event
            return
        except TimeoutError:
            if cause == "idle":
                raise StreamStalledError(
                    f"no data for {idle_timeout:g} s (keep-alives do not count)",
                    provider=provider,
                    idle_timeout=idle_timeout,
                ) from None
            raise RequestTimeoutError(
                "the call's total deadline passed while streaming",
                provider=provider,
                retryable=False,
            ) from None
        events = decoder.feed(chunk)
        if events:
            last_data = time.monotonic()
            stalling = False
            for event in events:
                yield event
        else:
            stalling = True


def _read_limit(
    deadline: float | None, stalled_since: float | None, idle_timeout: float | None
) -> tuple[float | None, str]:
    """How long the next read may take, and which limit that is."""
    now = time.monotonic()
    limit = None if deadline is None else deadline - now
    if stalled_since is not None and idle_timeout is not None:
        idle_left = stalled_since + idle_timeout - now
        if limit is None or idle_left < limit:
            return idle_left, "idle"
    return limit, "deadline"
