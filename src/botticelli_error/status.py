"""The one status policy: which error class an HTTP status maps to, and whether it is worth retrying.

Every backend classifies statuses here; a backend's own mapper only reads its body
shapes (an OpenAI error ``type``, a Google gRPC ``status``) and may refine the class.

====================  =============================  =========
Status                Class                          Retryable
====================  =============================  =========
2xx (not the answer)  ResponseDecodeError            no
3xx                   APIStatusError                 no
400, 413, 422         BadRequestError                no
401, 403              AuthenticationError            no
404                   NotFoundError                  no
408, 409              APIStatusError                 yes
429                   RateLimitError                 yes
other 4xx             APIStatusError                 no
5xx                   ServerUnavailableError         yes
====================  =============================  =========
"""

from __future__ import annotations

from botticelli_error.errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    BotticelliError,
    NotFoundError,
    RateLimitError,
    ResponseDecodeError,
    ServerUnavailableError,
)

__all__ = ["RETRYABLE_STATUSES", "error_class_for_status", "is_retryable_status"]

RETRYABLE_STATUSES = frozenset({408, 409, 429})
"""The 4xx statuses that say "try again": timeout, conflict, too many requests. Every 5xx is retryable too."""

_CLASS_FOR_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    413: BadRequestError,
    422: BadRequestError,
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    429: RateLimitError,
}


def error_class_for_status(status_code: int) -> type[BotticelliError]:
    """The error class a status maps to (the table in this module's docstring).

    Examples:
        >>> error_class_for_status(429).__name__, error_class_for_status(503).__name__
        ('RateLimitError', 'ServerUnavailableError')
        >>> error_class_for_status(200).__name__
        'ResponseDecodeError'
    """
    if (cls := _CLASS_FOR_STATUS.get(status_code)) is not None:
        return cls
    if status_code >= 500:
        return ServerUnavailableError
    if 200 <= status_code < 300:
        # A success status on a reply that is not the answer asked for: the body is wrong, not the request.
        return ResponseDecodeError
    return APIStatusError


def is_retryable_status(status_code: int) -> bool:
    """Whether a reply with this status may succeed if the same request is sent again.

    Examples:
        >>> [is_retryable_status(s) for s in (200, 301, 400, 408, 409, 429, 500, 503)]
        [False, False, False, True, True, True, True, True]
    """
    return status_code in RETRYABLE_STATUSES or status_code >= 500
