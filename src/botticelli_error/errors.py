"""The botticelli error hierarchy.

Every failure a backend can report is one of these classes, whatever the backend,
so a caller catches a category rather than a provider's exception::

    BotticelliError
    ├── ConfigurationError            bad settings or request data; nothing was sent
    ├── UnsupportedInputError         the backend cannot send this input
    ├── TransportError                the request did not complete at the HTTP level
    │   └── RequestTimeoutError       connect/read timeout or the call's total deadline
    ├── APIStatusError                the server answered with an error status
    │   ├── BadRequestError           400, 422: the request itself is wrong
    │   ├── AuthenticationError       401, 403
    │   ├── NotFoundError             404: unknown model or route
    │   ├── RateLimitError            429 (and quota errors)
    │   └── ServerUnavailableError    5xx: overloaded, loading, crashed
    ├── ResponseDecodeError           a body that does not match the wire format
    ├── StreamError                   a stream that did not end properly
    │   ├── StreamInterruptedError    cut short, or an error event mid-stream
    │   └── StreamStalledError        no data event within the idle timeout
    └── ContentBlockedError           the provider refused the prompt or output

Callers branch on attributes, never on message text: ``retryable``,
``status_code``, ``retry_after``, ``provider``, ``request_id`` and ``kind``.

``kind`` is derived from the class (one source of truth): it names the branch of the
tree above an error belongs to, for callers that log or count errors by category.

A registered secret (see :mod:`botticelli_error.scrubbing`) never appears in any text
field: each is scrubbed as it is set, in :meth:`BotticelliError.__setattr__`, so no
code path that builds or edits an error can skip it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar

from botticelli_error.scrubbing import scrub

__all__ = [
    "APIStatusError",
    "AuthenticationError",
    "BadRequestError",
    "BotticelliError",
    "ConfigurationError",
    "ContentBlockedError",
    "ErrorKind",
    "NotFoundError",
    "RateLimitError",
    "RequestTimeoutError",
    "ResponseDecodeError",
    "ServerUnavailableError",
    "StreamError",
    "StreamInterruptedError",
    "StreamStalledError",
    "TransportError",
    "UnsupportedInputError",
]

# Bodies are kept for diagnosis, but a runaway HTML error page should not be.
_MAX_BODY_CHARS = 8192
# Every text attribute that may hold a server's words; each is scrubbed when set.
_SCRUBBED = frozenset({"message", "server_message", "error_type", "body", "request_id", "quota", "reason"})


def _scrubbed(text: str | None) -> str | None:
    return scrub(text) if text else text


class ErrorKind(StrEnum):
    """Where in the request's life an error arose (the plan's ``ServerErrorKind``).

    Examples:
        >>> ErrorKind("stream") is ErrorKind.STREAM
        True
    """

    HTTP = "http"
    """The connection or the HTTP exchange failed, or timed out."""
    API = "api"
    """The server answered with an error status or error object."""
    DESERIALIZATION = "deserialization"
    """The server answered, but not in the expected wire format."""
    STREAM = "stream"
    """A streamed response broke off, stalled or reported an error."""
    CONFIGURATION = "configuration"
    """Settings or inputs were rejected before anything was sent."""


class BotticelliError(Exception):
    """Base of every error botticelli raises.

    Args:
        message: A human-readable summary (never containing a secret).
        provider: Which backend raised it, e.g. ``"local"`` or ``"gemini"``; ``"botticelli"``
            for errors raised before any backend was involved.
        retryable: Whether the same call may succeed if repeated later.
        status_code: The HTTP status, when there was one.
        retry_after: Seconds the server asked us to wait, when it said.
        request_id: The server's request id, when it sent one.
        server_message: The server's own error message, verbatim (secrets scrubbed).
        error_type: The server's machine-readable error type or status, if any
            (``"invalid_request_error"``, ``"RESOURCE_EXHAUSTED"``, ...).
        body: The raw error body as text (secrets scrubbed, then truncated).

    Attributes:
        kind: Where the error arose, read from the class (not settable).
        retries: How many times the call was retried before it failed with this error.

    Examples:
        >>> err = BotticelliError("boom", provider="local", retryable=True)
        >>> err.retryable, err.provider, err.kind
        (True, 'local', <ErrorKind.API: 'api'>)
    """

    _kind: ClassVar[ErrorKind] = ErrorKind.API
    default_retryable: ClassVar[bool] = False

    message: str
    provider: str
    retryable: bool
    status_code: int | None
    retry_after: float | None
    request_id: str | None
    server_message: str | None
    error_type: str | None
    body: str | None
    retries: int

    def __init__(
        self,
        message: str,
        *,
        provider: str = "botticelli",
        retryable: bool | None = None,
        status_code: int | None = None,
        retry_after: float | None = None,
        request_id: str | None = None,
        server_message: str | None = None,
        error_type: str | None = None,
        body: str | None = None,
    ) -> None:
        message = scrub(message)
        super().__init__(message)
        # Set in one go, each text scrubbed here rather than through __setattr__ (5x faster).
        self.__dict__.update(
            message=message,
            provider=provider,
            retryable=self.default_retryable if retryable is None else retryable,
            status_code=status_code,
            retry_after=retry_after,
            request_id=_scrubbed(request_id),
            server_message=_scrubbed(server_message),
            error_type=_scrubbed(error_type),
            # Scrubbed whole before truncation, so a cut cannot split a secret into a leak.
            body=scrub(body)[:_MAX_BODY_CHARS] if body is not None else None,
            retries=0,
        )

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _SCRUBBED and isinstance(value, str):
            value = scrub(value)
        super().__setattr__(name, value)

    @property
    def kind(self) -> ErrorKind:
        """Where the error arose, from its class: one source of truth, never set per error."""
        return self._kind

    def __str__(self) -> str:
        parts = [f"[{self.provider}]"]
        if self.status_code is not None:
            parts.append(f"HTTP {self.status_code}:")
        parts.append(self.message)
        if self.server_message and self.server_message not in self.message:
            parts.append(f"(server said: {self.server_message})")
        if self.request_id:
            parts.append(f"[request id {self.request_id}]")
        return " ".join(parts)

    def __repr__(self) -> str:
        fields: dict[str, Any] = {
            "provider": self.provider,
            "kind": self.kind.value,
            "retryable": self.retryable,
            "status_code": self.status_code,
            "retry_after": self.retry_after,
            "request_id": self.request_id,
        }
        shown = ", ".join(f"{k}={v!r}" for k, v in fields.items() if v is not None)
        return f"{type(self).__name__}({self.message!r}, {shown})"


class ConfigurationError(BotticelliError):
    """Settings or request data are missing or invalid; nothing was sent.

    Deliberately not a ``ValueError``: pydantic re-wraps ``ValueError`` raised during
    validation, which would bury this error inside a ``ValidationError``.

    Examples:
        >>> raise ConfigurationError("INFERENCE_SERVER_MODEL is not set")
        Traceback (most recent call last):
        ...
        botticelli_error.errors.ConfigurationError: [botticelli] INFERENCE_SERVER_MODEL is not set
    """

    _kind = ErrorKind.CONFIGURATION


class UnsupportedInputError(BotticelliError):
    """The backend cannot send one of the request's inputs (it is never dropped silently).

    Args:
        message: What was refused and why.
        input_type: The input's type name, e.g. ``"audio"``.
        **kwargs: The common attributes of :class:`BotticelliError`.
    """

    _kind = ErrorKind.CONFIGURATION

    def __init__(self, message: str, *, input_type: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.input_type = input_type


class TransportError(BotticelliError):
    """The HTTP exchange failed: connection refused or reset, protocol error."""

    _kind = ErrorKind.HTTP
    default_retryable = True


class RequestTimeoutError(TransportError):
    """A connect or read timeout fired, or the call's total deadline passed.

    Args:
        message: Which limit was hit.
        timeout: The limit, in seconds, that was exceeded.
        **kwargs: The common attributes of :class:`BotticelliError`.
    """

    def __init__(self, message: str, *, timeout: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.timeout = timeout


class APIStatusError(BotticelliError):
    """The server answered with an error status (or an error object in its body)."""

    _kind = ErrorKind.API


class BadRequestError(APIStatusError):
    """The server rejected the request as malformed (400, 422); retrying will not help."""


class AuthenticationError(APIStatusError):
    """The server rejected the credentials (401) or refused access (403)."""


class NotFoundError(APIStatusError):
    """The route or the model does not exist on this server (404)."""


class RateLimitError(APIStatusError):
    """Too many requests or tokens (429), or a quota is spent.

    Args:
        message: What the server said.
        quota: Which quota ran out, when the server named it
            (e.g. Gemini's ``"GenerateRequestsPerDayPerProjectPerModel-FreeTier"``).
        **kwargs: The common attributes of :class:`BotticelliError`.

    ``retryable`` is false when waiting cannot help before the quota resets.
    """

    default_retryable = True

    def __init__(self, message: str, *, quota: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.quota = quota


class ServerUnavailableError(APIStatusError):
    """The server failed or is not ready (5xx): overloaded, still loading, crashed."""

    default_retryable = True


class ResponseDecodeError(BotticelliError):
    """The server answered 2xx with a body that does not follow the wire format.

    Args:
        message: What does not decode.
        partial_text: When the undecodable part came mid-stream, the text already delivered
            before it (as :attr:`StreamError.partial_text`); ``""`` otherwise. Not scrubbed:
            it is text the caller already received.
        **kwargs: The common attributes of :class:`BotticelliError`.

    Examples:
        >>> err = ResponseDecodeError("event 3 is not JSON", partial_text="Hel")
        >>> err.partial_text, err.kind
        ('Hel', <ErrorKind.DESERIALIZATION: 'deserialization'>)
    """

    _kind = ErrorKind.DESERIALIZATION

    def __init__(self, message: str, *, partial_text: str = "", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.partial_text = partial_text


class StreamError(BotticelliError):
    """A streamed response did not finish properly.

    Args:
        message: What went wrong.
        partial_text: The text already delivered before the failure, so nothing is lost.
        **kwargs: The common attributes of :class:`BotticelliError`.
    """

    _kind = ErrorKind.STREAM

    def __init__(self, message: str, *, partial_text: str = "", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.partial_text = partial_text


class StreamInterruptedError(StreamError):
    """The stream ended without a finish reason, broke off, or carried an error event."""

    default_retryable = True


class StreamStalledError(StreamError):
    """No data event arrived within the stream idle timeout (keep-alives do not count).

    Args:
        message: What stalled.
        idle_timeout: The idle limit, in seconds, that was exceeded.
        **kwargs: The common attributes of :class:`StreamError`.
    """

    default_retryable = True

    def __init__(self, message: str, *, idle_timeout: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.idle_timeout = idle_timeout


class ContentBlockedError(BotticelliError):
    """The provider refused to answer (a blocked prompt), rather than returning nothing.

    Args:
        message: What was blocked.
        reason: The provider's block reason, e.g. ``"SAFETY"``.
        **kwargs: The common attributes of :class:`BotticelliError`.
    """

    _kind = ErrorKind.API

    def __init__(self, message: str, *, reason: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.reason = reason
