"""The errors of routing over several models: a member skipped by its breaker, and a chain that ran out.

A fallback chain or a replica pool tries its members in turn. A member whose circuit
breaker is open is not called; it is recorded as a :class:`CircuitOpenError`. When every
member failed (or was skipped), :class:`AllModelsFailedError` carries each member's error,
so a caller can walk them instead of reading the last one only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botticelli_error.errors import BotticelliError

__all__ = ["AllModelsFailedError", "CircuitOpenError"]


class CircuitOpenError(BotticelliError):
    """A member was skipped: its circuit breaker is open after consecutive failures.

    Retryable: the breaker lets a trial request through once ``retry_after`` seconds
    (the rest of its cool-down) have passed.

    Examples:
        >>> err = CircuitOpenError("cooling down", provider="local", retry_after=12.5)
        >>> err.retryable, err.retry_after
        (True, 12.5)
    """

    default_retryable = True


class AllModelsFailedError(BotticelliError):
    """Every member of a fallback chain or replica pool failed, or was skipped by its breaker.

    Args:
        message: A summary naming each member and its error's class.
        errors: Each member's error, by member name, in the order they were tried.
        **kwargs: The common attributes of :class:`~botticelli_error.BotticelliError`;
            ``retryable`` defaults to whether any member's error is, ``retry_after`` to
            the shortest wait any member asked for.

    Examples:
        >>> from botticelli_error import BadRequestError, ServerUnavailableError
        >>> err = AllModelsFailedError.from_errors(
        ...     {"local": ServerUnavailableError("down"), "gemini": CircuitOpenError("open", retry_after=3.0)},
        ...     provider="fallback",
        ... )
        >>> print(err)
        [fallback] every model failed: local: ServerUnavailableError, gemini: CircuitOpenError
        >>> err.retryable, err.retry_after, list(err.errors)
        (True, 3.0, ['local', 'gemini'])
    """

    def __init__(self, message: str, *, errors: Mapping[str, BotticelliError], **kwargs: Any) -> None:
        if "retryable" not in kwargs:
            kwargs["retryable"] = any(e.retryable for e in errors.values())
        if "retry_after" not in kwargs:
            waits = [e.retry_after for e in errors.values() if e.retry_after is not None]
            kwargs["retry_after"] = min(waits) if waits else None
        super().__init__(message, **kwargs)
        self.__dict__["errors"] = dict(errors)
        self.errors: dict[str, BotticelliError]

    @classmethod
    def from_errors(cls, errors: Mapping[str, BotticelliError], **kwargs: Any) -> AllModelsFailedError:
        """The error for ``errors``, with a message listing each member and its error's class."""
        listed = ", ".join(f"{name}: {type(error).__name__}" for name, error in errors.items())
        return cls(f"every model failed: {listed}", errors=errors, **kwargs)
