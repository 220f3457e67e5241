"""Deadlines measured on the monotonic clock, enforced as cheaply as the event loop allows."""

from __future__ import annotations

import asyncio
import math
import time
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when a scope is entered outside asyncio: asyncio programs never load anyio
    import anyio

from botticelli_interface.options import current_call_options
from botticelli_transport.settings import TransportOptions

__all__ = ["call_limits", "deadline_after", "min_limit", "or_limit", "remaining", "timeout_scope"]


def call_limits(settings: TransportOptions, *, probe_timeout: float | None = None) -> tuple[float | None, int]:
    """The total timeout and retry count of a call starting now.

    The per-call options in force (:func:`botticelli_interface.options.call_options`)
    replace the settings' ones; a probe's own short limit (``probe_timeout``) still bounds
    the call when it is the shorter.
    """
    options = current_call_options()
    limit = options.total_timeout(settings.total_timeout)
    if probe_timeout is not None:
        limit = min_limit(limit, probe_timeout)
    return limit, options.retries(settings.max_retries)


def min_limit(a: float | None, b: float | None) -> float | None:
    """The shorter of two limits, where ``None`` is no limit."""
    if a is None:
        return b
    return a if b is None else min(a, b)


def or_limit(deadline: float | None, limit: float | None, fallback: float) -> tuple[float | None, float | None]:
    """The call's deadline and limit, or ``fallback`` seconds from now when the call has none."""
    if deadline is None:
        return deadline_after(fallback), fallback
    return deadline, limit


def deadline_after(seconds: float | None) -> float | None:
    """The monotonic instant ``seconds`` from now, or ``None`` for no deadline."""
    return None if seconds is None else time.monotonic() + seconds


def remaining(deadline: float | None) -> float | None:
    """Seconds left before ``deadline`` (never negative), or ``None``."""
    return None if deadline is None else max(deadline - time.monotonic(), 0.0)


def timeout_scope(seconds: float | None) -> AbstractAsyncContextManager[object]:
    """A scope that raises ``TimeoutError`` after ``seconds`` (``None``: never).

    On asyncio this is ``asyncio.timeout`` (about 5 µs a use); anyio's portable scope
    costs three times that, so it is kept for other event loops (trio).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _AnyioTimeout(seconds)
    return asyncio.timeout(seconds)


class _AnyioTimeout:
    __slots__ = ("_scope", "_seconds")

    def __init__(self, seconds: float | None) -> None:
        self._seconds = seconds
        self._scope: anyio.CancelScope | None = None

    async def __aenter__(self) -> object:
        import anyio  # noqa: PLC0415

        deadline = math.inf if self._seconds is None else anyio.current_time() + self._seconds
        self._scope = anyio.CancelScope(deadline=deadline)
        self._scope.__enter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        assert self._scope is not None
        self._scope.__exit__(exc_type, exc, tb)
        if self._scope.cancelled_caught:
            raise TimeoutError
        return False
