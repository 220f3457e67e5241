"""The HTTP transport every HTTP backend shares: pooling, retries, deadlines, SSE.

This package is the only place that knows the HTTP library; backends hand it encoded
bodies and a decoder, and get typed results or typed errors back. The error policy it
applies (status classes, request-id headers, ``Retry-After``, secret scrubbing) is
:mod:`botticelli_error`'s.
"""

from botticelli_transport._http import ErrorMapper, HttpResult, HttpTransport, StreamInfo
from botticelli_transport.events import iter_events
from botticelli_transport.log import LOGGER_NAME, log_event, log_request
from botticelli_transport.retry import call_with_retries
from botticelli_transport.settings import HttpSettings
from botticelli_transport.sse import ServerSentEvent, SSEDecoder

__all__ = [
    "LOGGER_NAME",
    "ErrorMapper",
    "HttpResult",
    "HttpSettings",
    "HttpTransport",
    "SSEDecoder",
    "ServerSentEvent",
    "StreamInfo",
    "call_with_retries",
    "iter_events",
    "log_event",
    "log_request",
]
