"""An error reply as the transport saw it, and the typed error its status alone calls for.

The transport builds an :class:`ErrorResponse` for every reply that is not the answer
asked for; a backend's mapper reads its own body shapes from it and finishes with
:func:`error_for_status`, so status policy, request id and ``Retry-After`` are the
same for every backend.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botticelli_error.errors import BotticelliError
from botticelli_error.request_ids import request_id
from botticelli_error.status import error_class_for_status, is_retryable_status

__all__ = ["ErrorResponse", "error_for_status", "loads_json"]

# Enough of a plain-text or HTML body to say what went wrong; the whole body stays on ``body``.
_MESSAGE_CHARS = 500


def loads_json(text: str | bytes) -> Any:
    """``text`` parsed as JSON, or ``None`` when it is not JSON (nested too deep included).

    Examples:
        >>> loads_json('{"a": 1}'), loads_json("<html>"), loads_json("[" * 100_000)
        ({'a': 1}, None, None)
    """
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


@dataclass(frozen=True, slots=True)
class ErrorResponse:
    """An error reply: status, headers and body as text.

    Examples:
        >>> reply = ErrorResponse("local", 429, {"x-request-id": "r-1"}, "slow down", 2.0)
        >>> reply.request_id, reply.json()
        ('r-1', None)
    """

    provider: str
    status_code: int
    headers: Mapping[str, str]
    """Response headers with lower-case names."""
    body: str
    retry_after: float | None
    """The server's ``Retry-After``/``retry-after-ms``, in seconds, if it sent one."""

    @property
    def request_id(self) -> str | None:
        """The server's request id header, if any."""
        return request_id(self.headers)

    def json(self) -> Any:
        """The body parsed as JSON, or ``None`` when it is not JSON."""
        return loads_json(self.body) if self.body else None


def error_for_status(
    response: ErrorResponse,
    *,
    status: int | None = None,
    message: str | None = None,
    server_message: str | None = None,
    error_type: str | None = None,
) -> BotticelliError:
    r"""The typed error for ``response``: class and retryability from the status policy.

    With only ``response`` it is the mapper for bodies of no known shape: the start of
    the body text is the server's message.

    Args:
        response: The reply.
        status: Classify as this status instead of the reply's (a body that names its own code).
        message: The summary; defaults to the server's message, else one naming the status.
        server_message: What the server said; defaults to the start of a body that is not JSON.
        error_type: The server's machine-readable error type.

    Examples:
        >>> err = error_for_status(ErrorResponse("local", 502, {}, "Bad Gateway\n", None))
        >>> type(err).__name__, err.retryable, err.server_message
        ('ServerUnavailableError', True, 'Bad Gateway')
    """
    if server_message is None and response.body and response.json() is None:
        server_message = response.body.strip()[:_MESSAGE_CHARS] or None
    classify = response.status_code if status is None else status
    cls = error_class_for_status(classify)
    return cls(
        message or server_message or f"{response.provider} request failed with HTTP {response.status_code}",
        provider=response.provider,
        retryable=is_retryable_status(classify),
        status_code=response.status_code,
        retry_after=response.retry_after,
        request_id=response.request_id,
        server_message=server_message,
        error_type=error_type,
        body=response.body,
    )
