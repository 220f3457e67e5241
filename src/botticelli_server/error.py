"""Errors of OpenAI-compatible servers, before and inside a stream.

Outside a stream the shared mapping applies (``botticelli_transport.error_from_response``
knows each server's body shape). Inside a stream an error arrives as a ``data`` object
with an ``error`` member (or under ``event: error``); it becomes a
:class:`~botticelli_error.StreamInterruptedError` carrying the server's words.
"""

from __future__ import annotations

import json
from typing import Any

from botticelli_error import StreamInterruptedError
from botticelli_server.config import PROVIDER
from botticelli_transport import error_fields

__all__ = ["stream_error"]

# Error types that say the request itself is wrong: repeating it cannot help.
_PERMANENT_TYPES = frozenset({"invalid_request_error", "exceed_context_size_error", "not_found_error"})


def stream_error(payload: Any, *, raw: bytes = b"") -> StreamInterruptedError:
    """The typed error for an error object found in a stream.

    Examples:
        >>> err = stream_error({"error": {"message": "CUDA out of memory", "type": "server_error"}})
        >>> err.server_message, err.retryable, err.error_type
        ('CUDA out of memory', True, 'server_error')
        >>> stream_error({"error": {"code": 400, "message": "bad"}}).retryable
        False
    """
    body = payload if isinstance(payload, dict) and "error" in payload else {"error": payload}
    fields = error_fields(body)
    status = fields.code if isinstance(fields.code, int) and 100 <= fields.code < 600 else None
    if status is not None:
        retryable = status in (408, 409, 429) or status >= 500
    else:
        retryable = fields.error_type not in _PERMANENT_TYPES
    message = fields.message or "the server reported an error mid-stream"
    return StreamInterruptedError(
        f"stream error: {message}",
        provider=PROVIDER,
        retryable=retryable,
        status_code=status,
        server_message=fields.message,
        error_type=fields.error_type,
        body=raw.decode("utf-8", "replace") if raw else json.dumps(body)[:2000],
    )
