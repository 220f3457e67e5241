"""Turning an HTTP error reply into a typed error. Pure functions; no I/O.

Every backend's error mapper starts from :func:`error_from_response`, which knows the
body shapes OpenAI-compatible servers use (see docs/design.md):
``{"error": {"message", "type", "code"}}`` (OpenAI, llama.cpp, vLLM, Ollama),
a bare ``{"message": ...}`` (mistral.rs), vLLM's old flat ``{"object": "error", ...}``,
FastAPI's ``{"detail": ...}`` and plain text.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from botticelli_error import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    BotticelliError,
    NotFoundError,
    RateLimitError,
    ServerUnavailableError,
)

__all__ = [
    "ErrorFields",
    "ErrorResponse",
    "error_class_for_status",
    "error_fields",
    "error_from_response",
    "parse_retry_after",
    "request_id_of",
    "scrub",
]

_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-amzn-requestid", "cf-ray")


@dataclass(frozen=True, slots=True)
class ErrorResponse:
    """An error reply as the transport saw it: status, headers and body, secrets already scrubbed."""

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
        return request_id_of(self.headers)

    def json(self) -> Any:
        """The body parsed as JSON, or ``None`` when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class ErrorFields:
    """What an error body says, whatever its shape."""

    message: str | None = None
    error_type: str | None = None
    code: str | int | None = None


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
        message = detail if isinstance(detail, str) else json.dumps(detail)[:500]
    error_type = source.get("type") or source.get("status")
    code = source.get("code")
    return ErrorFields(
        message=message if isinstance(message, str) else None,
        error_type=_str_or_none(error_type),
        code=code if isinstance(code, str | int) and not isinstance(code, bool) else None,
    )


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def error_class_for_status(status_code: int) -> type[APIStatusError]:
    """The error class a status maps to.

    Examples:
        >>> error_class_for_status(429).__name__, error_class_for_status(503).__name__
        ('RateLimitError', 'ServerUnavailableError')
    """
    if status_code in (400, 413, 422):
        return BadRequestError
    if status_code in (401, 403):
        return AuthenticationError
    if status_code == 404:
        return NotFoundError
    if status_code == 429:
        return RateLimitError
    if status_code >= 500:
        return ServerUnavailableError
    return APIStatusError


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


def _retryable_status(status_code: int) -> bool:
    return status_code in (408, 409, 429) or status_code >= 500


def error_from_response(response: ErrorResponse) -> BotticelliError:
    """The typed error for an OpenAI-compatible server's error reply.

    A 2xx status with an error body (Ollama writes errors that way once a stream has
    begun) is classified by the body's own ``code`` when it is an HTTP status.

    Examples:
        >>> reply = ErrorResponse("local", 503, {}, '{"error":{"code":503,"message":"Loading model"}}', None)
        >>> err = error_from_response(reply)
        >>> type(err).__name__, err.retryable, err.server_message
        ('ServerUnavailableError', True, 'Loading model')
    """
    fields = error_fields(response.json() if response.body else None)
    if fields.message is None and response.body and response.json() is None:
        fields = ErrorFields(message=response.body.strip()[:500] or None)
    status = response.status_code
    if status < 400:
        if isinstance(fields.code, int) and 400 <= fields.code < 600:
            status = fields.code
        else:
            status = _STATUS_FOR_TYPE.get(fields.error_type or "", 500)
    cls = error_class_for_status(status)
    summary = fields.message or f"request failed with HTTP {response.status_code}"
    return cls(
        summary,
        provider=response.provider,
        retryable=_retryable_status(status),
        status_code=response.status_code,
        retry_after=response.retry_after,
        request_id=response.request_id,
        server_message=fields.message,
        error_type=fields.error_type,
        body=response.body,
    )


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date).

    Examples:
        >>> parse_retry_after({"retry-after": "7"}), parse_retry_after({"retry-after-ms": "1500"})
        (7.0, 1.5)
        >>> parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, now=1445412480.0)
        10.0
        >>> parse_retry_after({"retry-after": "soon"}) is None
        True
    """
    if ms := headers.get("retry-after-ms"):
        try:
            return max(float(ms) / 1000.0, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    current = time.time() if now is None else now
    return max(when.timestamp() - current, 0.0)


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """Replace every secret in ``text`` with ``***``.

    Examples:
        >>> scrub("key sk-123 rejected", ("sk-123",))
        'key *** rejected'
    """
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, "***")
    return text


def request_id_of(headers: Mapping[str, str]) -> str | None:
    """The server's request id, from the first request-id header it sent.

    Examples:
        >>> request_id_of({"x-request-id": "req-1"}), request_id_of({})
        ('req-1', None)
    """
    for name in _REQUEST_ID_HEADERS:
        if value := headers.get(name):
            return value
    return None
