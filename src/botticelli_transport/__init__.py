"""The HTTP transport every HTTP backend shares: pooling, retries, deadlines, SSE.

This package is the only place that knows the HTTP library; backends hand it encoded
bodies and a decode function, and get typed results or typed errors back. The error
policy it applies (status classes, request-id headers, ``Retry-After``, secret
scrubbing) is :mod:`botticelli_error`'s.
"""

from botticelli_transport._http import ErrorMapper, HttpResult, HttpTransport
from botticelli_transport._stream import StreamResponse
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
    "ErrorMapper",
    "HttpResult",
    "HttpSettings",
    "HttpTransport",
    "SSEDecoder",
    "ServerSentEvent",
    "StreamResponse",
    "Timeout",
    "TransportOptions",
    "check_base_url",
]
