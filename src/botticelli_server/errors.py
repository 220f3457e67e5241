"""The error bodies of OpenAI-compatible servers, before and inside a stream. Pure functions; no I/O.

Status policy (class, retryability, request id, ``Retry-After``) is
:mod:`botticelli_error`'s; this module only reads the body shapes these servers use
(see docs/design.md): ``{"error": {"message", "type", "code"}}`` (OpenAI, llama.cpp,
vLLM, Ollama), a bare ``{"message": ...}`` (mistral.rs), vLLM's old flat
``{"object": "error", ...}``, FastAPI's ``{"detail": ...}`` and plain text.

Inside a stream an error arrives as a ``data`` object with an ``error`` member (or
under ``event: error``); it becomes a :class:`~botticelli_error.StreamInterruptedError`
carrying the server's words.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from botticelli_error import (
    BotticelliError,
    ErrorResponse,
    StreamInterruptedError,
    error_for_status,
    is_retryable_status,
)
from botticelli_server.config import PROVIDER

__all__ = ["ErrorFields", "error_fields", "error_from_response", "stream_error"]

# For error bodies that arrive under a 2xx status: the body's type says what happened.
_STATUS_FOR_TYPE = {
    "invalid_request_error": 400,
    "exceed_context_size_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "rate_limit_error": 429,
    "server_error": 500,
    "api_error": 500,
    "unavailable_error": 503,
}
# Error types that say the request itself is wrong: repeating it cannot help.
_PERMANENT_TYPES = frozenset({"invalid_request_error", "exceed_context_size_error", "not_found_error"})
_TOO_LARGE = re.compile(r"too large to process", re.IGNORECASE)
_DETAIL_CHARS = 500
_STREAM_BODY_CHARS = 2000


@dataclass(frozen=True, slots=True)
class ErrorFields:
    """What an error body says, whatever its shape."""

    message: str | None = None
    error_type: str | None = None
    code: str | int | None = None

    @property
    def status(self) -> int | None:
        """The ``code`` when it is an HTTP status (llama.cpp and Ollama put one there)."""
        code = self.code
        return code if isinstance(code, int) and 100 <= code < 600 else None


def error_fields(body: Any) -> ErrorFields:
    """Pull message, type and code out of any of the error-body shapes servers use.

    Examples:
        >>> error_fields({"error": {"message": "bad", "type": "invalid_request_error"}})
        ErrorFields(message='bad', error_type='invalid_request_error', code=None)
        >>> error_fields({"message": "Model not found"}).message
        'Model not found'
    """
    if not isinstance(body, dict):
        return ErrorFields(message=body if isinstance(body, str) and body else None)
    inner = body.get("error")
    if isinstance(inner, dict):
        source = inner
    elif isinstance(inner, str):
        return ErrorFields(message=inner, error_type=_str_or_none(body.get("type")))
    else:
        source = body
    message = source.get("message")
    if message is None and "detail" in source:
        detail = source["detail"]
        message = detail if isinstance(detail, str) else _dumps(detail)[:_DETAIL_CHARS]
    error_type = source.get("type") or source.get("status")
    code = source.get("code")
    return ErrorFields(
        message=message if isinstance(message, str) else None,
        error_type=_str_or_none(error_type),
        code=code if isinstance(code, str | int) and not isinstance(code, bool) else None,
    )


def error_from_response(response: ErrorResponse) -> BotticelliError:
    """The typed error for an OpenAI-compatible server's error reply (the transport's error mapper).

    A 2xx status with an error body (Ollama writes errors that way once a stream has
    begun) is classified by the body's own ``code`` when it is an HTTP status, else by
    its ``type``; a 2xx body that is no error object at all is a
    :class:`~botticelli_error.ResponseDecodeError`.

    Examples:
        >>> reply = ErrorResponse("local", 503, {}, '{"error":{"code":503,"message":"Loading model"}}', None)
        >>> err = error_from_response(reply)
        >>> type(err).__name__, err.retryable, err.server_message
        ('ServerUnavailableError', True, 'Loading model')
    """
    parsed = response.json()
    fields = error_fields(parsed)
    status: int | None = None
    if response.status_code < 300 and _is_error_object(parsed):
        code = fields.status
        status = code if code is not None and code >= 400 else _STATUS_FOR_TYPE.get(fields.error_type or "", 500)
    error = error_for_status(
        response,
        status=status,
        server_message=fields.message,
        error_type=fields.error_type,
    )
    if error.retryable and fields.message and _TOO_LARGE.search(fields.message):
        # llama.cpp answers an embedding input longer than its batch with a 500 ("input is
        # too large to process"): the same input fails the same way every time.
        error.retryable = False
    return error


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
    status = fields.status
    retryable = is_retryable_status(status) if status is not None else fields.error_type not in _PERMANENT_TYPES
    message = fields.message or "the server reported an error mid-stream"
    return StreamInterruptedError(
        f"stream error: {message}",
        provider=PROVIDER,
        retryable=retryable,
        status_code=status,
        server_message=fields.message,
        error_type=fields.error_type,
        body=raw.decode("utf-8", "replace") if raw else _dumps(body)[:_STREAM_BODY_CHARS],
    )


def _is_error_object(parsed: object) -> bool:
    return isinstance(parsed, dict) and ("error" in parsed or parsed.get("object") == "error" or "message" in parsed)


def _dumps(value: object) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        # Nested too deep to print (a hostile body): say so rather than raise.
        return "<an error object nested too deeply to show>"


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
