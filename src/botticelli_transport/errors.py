"""The error policy as the transport uses it; the policy itself lives in :mod:`botticelli_error`.

Kept so that the transport's modules can keep importing these names from here; new code
imports them from :mod:`botticelli_error` directly. Body shapes are the backends':
:mod:`botticelli_server.errors` (OpenAI-compatible) and :mod:`botticelli_gemini.errors`.
"""

from __future__ import annotations

from botticelli_error import (
    ErrorResponse,
    error_class_for_status,
    error_for_status,
    parse_retry_after,
    redact_url,
    request_id,
    scrub,
)

__all__ = [
    "ErrorResponse",
    "error_class_for_status",
    "error_for_status",
    "error_from_response",
    "parse_retry_after",
    "redact_url",
    "request_id",
    "request_id_of",
    "scrub",
]

error_from_response = error_for_status
"""The transport's default error mapper: the status policy, with a body of no known shape.

Backends pass their own mapper (``botticelli_server.errors.error_from_response``,
``botticelli_gemini.errors.error_from_response``) to read their body shapes.
"""

request_id_of = request_id
"""The request id a reply carries: :func:`botticelli_error.request_id` under the transport's older name."""
