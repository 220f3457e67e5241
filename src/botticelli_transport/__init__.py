"""The HTTP transport every HTTP backend shares: pooling, retries, deadlines, SSE.

This package is the only place that knows the HTTP library; backends hand it encoded
bodies and a decode function, and get typed results or typed errors back.
"""

from botticelli_transport._http import ErrorMapper, HttpResult, HttpTransport
from botticelli_transport._stream import StreamResponse
from botticelli_transport.errors import (
    ErrorFields,
    ErrorResponse,
    error_class_for_status,
    error_fields,
    error_from_response,
    parse_retry_after,
    request_id_of,
    scrub,
)
from botticelli_transport.retry import call_with_retries
from botticelli_transport.settings import (
    BaseUrl,
    HttpSettings,
    Timeout,
    TransportOptions,
    check_base_url,
)
from botticelli_transport.sse import ServerSentEvent, SSEDecoder

__all__ = [
    "BaseUrl",
    "ErrorFields",
    "ErrorMapper",
    "ErrorResponse",
    "HttpResult",
    "HttpSettings",
    "HttpTransport",
    "SSEDecoder",
    "ServerSentEvent",
    "StreamResponse",
    "Timeout",
    "TransportOptions",
    "call_with_retries",
    "check_base_url",
    "error_class_for_status",
    "error_fields",
    "error_from_response",
    "parse_retry_after",
    "request_id_of",
    "scrub",
]
