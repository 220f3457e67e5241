"""Per-call options: a total timeout and a retry count for the calls made in a scope.

A client's timeouts and retries are set when it is built. :func:`call_options` overrides
them for whatever runs inside a ``with`` block, without building a new client::

    with call_options(timeout=5.0, max_retries=0):
        response = await model.generate(request)

The options live in a context variable, so they follow the code that set them: into the
tasks it starts (``generate_many`` included), never into other tasks or threads already
running. Every HTTP backend reads them in its transport (one place), the embedded engine
reads them around its worker threads; a wrapper (the hybrid) passes them on by calling
its backends inside the same context.

Nested scopes override field by field: an inner ``call_options(max_retries=1)`` keeps
the outer scope's timeout. The timeout is per call, measured from when each call starts
(retries and backoff included), not a deadline shared by the whole block.
"""

from __future__ import annotations

import contextvars
import enum
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["UNSET", "CallOptions", "call_options", "current_call_options"]


class _Unset(enum.Enum):
    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset.UNSET
"""Marks an option a scope leaves as it was (``None`` means "no limit", so it cannot)."""

Unset = Literal[_Unset.UNSET]


@dataclass(frozen=True, slots=True)
class CallOptions:
    """The options in force: each field is a value, or :data:`UNSET` for the client's own.

    Examples:
        >>> CallOptions(timeout=5.0).total_timeout(900.0), CallOptions().total_timeout(900.0)
        (5.0, 900.0)
        >>> CallOptions(max_retries=0).retries(2), CallOptions().retries(2)
        (0, 2)
    """

    timeout: float | Unset | None = UNSET
    """Seconds one call may take in all, retries and backoff included; ``None``: no limit."""
    max_retries: int | Unset = UNSET
    """Retries after the first attempt, for retryable errors."""

    def total_timeout(self, default: float | None) -> float | None:
        """The total timeout to use: this scope's, or ``default`` (the client's) when unset."""
        return default if self.timeout is UNSET else self.timeout

    def retries(self, default: int) -> int:
        """The retry count to use: this scope's, or ``default`` (the client's) when unset."""
        return default if self.max_retries is UNSET else self.max_retries

    @property
    def is_empty(self) -> bool:
        """Whether nothing is overridden (the common case, checked first on the hot path)."""
        return self.timeout is UNSET and self.max_retries is UNSET


_NONE = CallOptions()
_current: contextvars.ContextVar[CallOptions] = contextvars.ContextVar("botticelli_call_options", default=_NONE)


def current_call_options() -> CallOptions:
    """The options in force in this context (every field :data:`UNSET` outside any scope).

    Examples:
        >>> current_call_options().is_empty
        True
        >>> with call_options(timeout=2.5):
        ...     current_call_options().timeout
        2.5
    """
    return _current.get()


@contextmanager
def call_options(*, timeout: float | Unset | None = UNSET, max_retries: int | Unset = UNSET) -> Iterator[CallOptions]:
    """Override the total timeout and retry count of every call made inside the block.

    Args:
        timeout: Seconds each call may take in all (retries and backoff included), instead
            of the client's ``total_timeout``; ``None`` lifts the limit. Must be positive.
        max_retries: Retries after the first attempt instead of the client's ``max_retries``;
            ``0`` sends each request once.

    Yields:
        The options now in force (the outer scope's, with these fields replaced).

    Raises:
        ValueError: A timeout that is not positive, or a negative retry count.

    Examples:
        >>> with call_options(timeout=5.0):
        ...     with call_options(max_retries=0) as inner:
        ...         inner.timeout, inner.max_retries
        (5.0, 0)
        >>> current_call_options().is_empty
        True
    """
    if timeout is not UNSET and timeout is not None and not timeout > 0:
        raise ValueError(f"timeout must be positive seconds or None, got {timeout!r}")
    if max_retries is not UNSET and (isinstance(max_retries, bool) or max_retries < 0):
        raise ValueError(f"max_retries must be a non-negative integer, got {max_retries!r}")
    outer = _current.get()
    options = CallOptions(
        timeout=outer.timeout if timeout is UNSET else timeout,
        max_retries=outer.max_retries if max_retries is UNSET else max_retries,
    )
    token = _current.set(options)
    try:
        yield options
    finally:
        _current.reset(token)
