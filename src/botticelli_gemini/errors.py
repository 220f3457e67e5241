"""Gemini's error bodies made into botticelli's typed errors. Pure functions; no I/O.

Status policy (class, retryability, request id, ``Retry-After``) is
:mod:`botticelli_error`'s; this module reads Google's body shape and refines the class
by its gRPC status name. Google answers errors with
``{"error": {"code", "message", "status", "details"}}``:
``status`` is a gRPC name and ``details`` a list of typed objects, three of which
matter here:

* ``google.rpc.RetryInfo``: ``retryDelay`` such as ``"53s"``: becomes ``retry_after``;
* ``google.rpc.QuotaFailure``: which quota ran out (``quotaId``); a per-day quota, or a
  message saying ``limit: 0``, cannot be waited out, so the error is not retryable;
* ``google.rpc.ErrorInfo``: ``reason``: ``API_KEY_INVALID`` arrives as a 400 but is an
  authentication failure.

The parsed details stay reachable from any error through :func:`error_details`.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from botticelli_error import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    BotticelliError,
    ContentBlockedError,
    ErrorResponse,
    NotFoundError,
    RateLimitError,
    ResponseDecodeError,
    ServerUnavailableError,
    StreamInterruptedError,
    error_class_for_status,
    error_for_status,
    is_retryable_status,
    wait_seconds,
)
from botticelli_gemini.config import PROVIDER
from botticelli_gemini.convert import check_blocked
from botticelli_gemini.response import WireError, WireErrorEnvelope, parse_generate_response

__all__ = [
    "GeminiErrorDetails",
    "error_details",
    "error_from_response",
    "parse_duration",
    "stream_error",
]

_RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
_QUOTA_FAILURE = "type.googleapis.com/google.rpc.QuotaFailure"
_ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
_HELP = "type.googleapis.com/google.rpc.Help"

_CLASS_FOR_GRPC_STATUS: dict[str, type[APIStatusError]] = {
    "INVALID_ARGUMENT": BadRequestError,
    "FAILED_PRECONDITION": BadRequestError,
    "OUT_OF_RANGE": BadRequestError,
    "UNAUTHENTICATED": AuthenticationError,
    "PERMISSION_DENIED": AuthenticationError,
    "NOT_FOUND": NotFoundError,
    "RESOURCE_EXHAUSTED": RateLimitError,
    "INTERNAL": ServerUnavailableError,
    "UNAVAILABLE": ServerUnavailableError,
    "DEADLINE_EXCEEDED": ServerUnavailableError,
}
_AUTH_REASONS = frozenset({"API_KEY_INVALID", "API_KEY_EXPIRED", "API_KEY_SERVICE_BLOCKED", "ACCESS_TOKEN_EXPIRED"})
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")
# Google also writes the wait into the message: "... Please retry in 53.016342224s."
_RETRY_IN_MESSAGE = re.compile(r"retry in (\d+(?:\.\d+)?)\s*(ms|s)\b", re.IGNORECASE)
_LIMIT_ZERO = re.compile(r"\blimit:\s*0\b")


class GeminiErrorDetails(BaseModel):
    """What the ``details`` of a Gemini error said, parsed.

    Example:
        >>> body = ('{"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "quota", "details": ['
        ...         '{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "12.5s"}]}}')
        >>> GeminiErrorDetails.from_body(body).retry_delay
        12.5
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: str | None = None
    """The gRPC status name, e.g. ``"RESOURCE_EXHAUSTED"``."""
    retry_delay: float | None = None
    """Seconds to wait, from ``RetryInfo.retryDelay`` or the message."""
    quota_id: str | None = None
    """The quota that ran out; a per-day one is preferred when several are named."""
    quota_metric: str | None = None
    quota_value: str | None = None
    per_day: bool = False
    """The quota is per day, or the project has none at all (``limit: 0``)."""
    reason: str | None = None
    """``ErrorInfo.reason``, e.g. ``"API_KEY_INVALID"``."""
    help_links: tuple[str, ...] = ()
    raw: tuple[dict[str, Any], ...] = ()
    """Every detail object, as sent."""

    @classmethod
    def from_error(cls, error: WireError) -> GeminiErrorDetails:
        """Parse the details of an already-decoded error object."""
        retry_delay: float | None = None
        quota: dict[str, Any] = {}
        reason: str | None = None
        links: list[str] = []
        for detail in error.details:
            kind = detail.get("@type")
            if kind == _RETRY_INFO:
                retry_delay = parse_duration(detail.get("retryDelay"))
            elif kind == _QUOTA_FAILURE:
                quota = _pick_violation(detail.get("violations")) or quota
            elif kind == _ERROR_INFO and isinstance(detail.get("reason"), str):
                reason = detail["reason"]
            elif kind == _HELP and isinstance(detail.get("links"), list):
                links.extend(link["url"] for link in detail["links"] if isinstance(link, dict) and "url" in link)
        message = error.message or ""
        if retry_delay is None and (match := _RETRY_IN_MESSAGE.search(message)):
            retry_delay = wait_seconds(float(match.group(1)) / (1000.0 if match.group(2).lower() == "ms" else 1.0))
        quota_id = _str(quota.get("quotaId"))
        return cls(
            status=error.status,
            retry_delay=retry_delay,
            quota_id=quota_id,
            quota_metric=_str(quota.get("quotaMetric")),
            quota_value=_str(quota.get("quotaValue")),
            per_day=bool(quota_id and "PerDay" in quota_id) or bool(_LIMIT_ZERO.search(message)),
            reason=reason,
            help_links=tuple(links),
            raw=tuple(error.details),
        )

    @classmethod
    def from_body(cls, body: str | bytes) -> GeminiErrorDetails | None:
        """Parse an error body; ``None`` when it is not Google's error shape."""
        envelope = _parse_envelope(body)
        return cls.from_error(envelope.error) if envelope is not None else None


def parse_duration(value: object) -> float | None:
    """Seconds from a protobuf JSON duration (``"53s"``, ``"12.771204034s"``); ``None`` if malformed.

    Example:
        >>> parse_duration("53s"), parse_duration("12.771204034s"), parse_duration("soon")
        (53.0, 12.771204034, None)
    """
    if not isinstance(value, str) or not (match := _DURATION.match(value)):
        return None
    return wait_seconds(float(match.group(1)))


def error_details(error: BotticelliError) -> GeminiErrorDetails | None:
    """The parsed ``details`` of a Gemini error, read back from its ``body``.

    Example:
        >>> err = RateLimitError("quota", body='{"error": {"code": 429, "message": "limit: 0"}}')
        >>> error_details(err).per_day
        True
    """
    return GeminiErrorDetails.from_body(error.body) if error.body else None


def error_from_response(response: ErrorResponse) -> BotticelliError:
    """The typed error for a Gemini error reply (the transport's error mapper).

    A 2xx reply that reports a blocked prompt (``promptFeedback.blockReason``, no candidates)
    is a :class:`~botticelli_error.ContentBlockedError`, never an error with status 200.

    Example:
        >>> body = '{"error": {"code": 404, "message": "models/x is not found", "status": "NOT_FOUND"}}'
        >>> err = error_from_response(ErrorResponse("gemini", 404, {}, body, None))
        >>> type(err).__name__, err.error_type, err.retryable
        ('NotFoundError', 'NOT_FOUND', False)
    """
    if 200 <= response.status_code < 300 and (blocked := _blocked_prompt(response)) is not None:
        return blocked
    envelope = _parse_envelope(response.body)
    if envelope is None:
        text = response.body.strip()[:500] or None
        return error_for_status(
            response,
            message=text or f"Gemini request failed with HTTP {response.status_code}",
            server_message=text,
        )
    return _from_wire_error(
        envelope.error,
        status_code=response.status_code,
        request_id=response.request_id,
        header_retry_after=response.retry_after,
        body=response.body,
    )


def stream_error(error: WireError, *, partial_text: str, body: str | None = None) -> StreamInterruptedError:
    """The error for an ``{"error": {...}}`` event in the middle of a stream.

    It keeps the server's message, status and whether the same status outside a
    stream would be worth retrying.

    Example:
        >>> err = stream_error(WireError(code=500, message="Error", status="INTERNAL"), partial_text="Hel")
        >>> err.retryable, err.status_code, err.error_type, err.partial_text
        (True, 500, 'INTERNAL', 'Hel')
    """
    mapped = _from_wire_error(error, status_code=error.code, request_id=None, header_retry_after=None, body=body)
    return StreamInterruptedError(
        f"Gemini reported an error mid-stream: {mapped.message}",
        provider=PROVIDER,
        retryable=mapped.retryable,
        status_code=mapped.status_code,
        retry_after=mapped.retry_after,
        server_message=mapped.server_message,
        error_type=mapped.error_type,
        body=body,
        partial_text=partial_text,
    )


def _from_wire_error(
    error: WireError,
    *,
    status_code: int | None,
    request_id: str | None,
    header_retry_after: float | None,
    body: str | None,
) -> BotticelliError:
    details = GeminiErrorDetails.from_error(error)
    http_status = status_code if status_code is not None else error.code
    classify = http_status
    if http_status is not None and http_status < 300 and error.code is not None and error.code >= 400:
        classify = error.code  # an error envelope under a success status: its own code says what failed
    cls: type[BotticelliError] | None = _CLASS_FOR_GRPC_STATUS.get(error.status or "")
    if cls is None:
        cls = error_class_for_status(classify) if classify is not None else APIStatusError
    if details.reason in _AUTH_REASONS:
        cls = AuthenticationError
    message = error.message or f"Gemini request failed ({error.status or http_status})"
    retry_after = details.retry_delay if details.retry_delay is not None else header_retry_after
    kwargs: dict[str, Any] = {
        "provider": PROVIDER,
        "status_code": http_status,
        "retry_after": retry_after,
        "request_id": request_id,
        "server_message": error.message,
        "error_type": error.status,
        "body": body,
    }
    if cls is RateLimitError:
        # Waiting cannot help against a spent daily quota or a quota of zero; say so at once.
        return RateLimitError(
            _quota_message(message, details),
            retryable=not details.per_day,
            quota=details.quota_id or details.quota_metric or ("limit: 0" if details.per_day else None),
            **kwargs,
        )
    retryable = cls is ServerUnavailableError or (classify is not None and is_retryable_status(classify))
    if cls in (BadRequestError, AuthenticationError, NotFoundError):
        retryable = False
    return cls(message, retryable=retryable, **kwargs)


def _quota_message(message: str, details: GeminiErrorDetails) -> str:
    if details.per_day:
        which = details.quota_id or "a quota with limit 0"
        return f"Gemini quota exhausted ({which}); retrying before it resets cannot succeed"
    return message


def _blocked_prompt(response: ErrorResponse) -> ContentBlockedError | None:
    """The block a 2xx reply reports (``promptFeedback.blockReason``), if it is one.

    A blocked prompt is an answer, not an error envelope, but it can reach this mapper: a
    reply that is not the event stream asked for is mapped here when it mentions ``"error"``.
    """
    if "promptFeedback" not in response.body:
        return None
    try:
        check_blocked(parse_generate_response(response.body), request_id=response.request_id)
    except ContentBlockedError as exc:
        return exc
    except ResponseDecodeError:
        return None
    return None


def _parse_envelope(body: str | bytes) -> WireErrorEnvelope | None:
    try:
        return WireErrorEnvelope.model_validate_json(body)
    except ValidationError:  # pydantic-core also reports JSON nested too deep this way
        return None


def _pick_violation(violations: object) -> dict[str, Any] | None:
    if not isinstance(violations, list):
        return None
    found = [v for v in violations if isinstance(v, dict)]
    for violation in found:
        if "PerDay" in str(violation.get("quotaId", "")):
            return violation
    return found[0] if found else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
