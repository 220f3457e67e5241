"""The HTTP transport every HTTP backend shares: pooling, retries, deadlines, SSE.

This package is the only place that knows the HTTP library; backends hand it encoded
bodies and a decode function, and get typed results or typed errors back. The error
policy it applies (status classes, request-id headers, ``Retry-After``, secret
scrubbing) is :mod:`botticelli_error`'s.
"""

from typing import TYPE_CHECKING

from botticelli_error._exports import lazy_exports

if TYPE_CHECKING:
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

# Each export is imported on first access (see botticelli_core/_exports.py): a backend's settings
# need only the settings module, and a client that has not streamed has not loaded the stream reader.
_EXPORTS = {
    "BaseUrl": "botticelli_transport.settings",
    "ErrorMapper": "botticelli_transport._http",
    "HttpResult": "botticelli_transport._http",
    "HttpSettings": "botticelli_transport.settings",
    "HttpTransport": "botticelli_transport._http",
    "SSEDecoder": "botticelli_transport.sse",
    "ServerSentEvent": "botticelli_transport.sse",
    "StreamResponse": "botticelli_transport._stream",
    "Timeout": "botticelli_transport.settings",
    "TransportOptions": "botticelli_transport.settings",
    "check_base_url": "botticelli_transport.settings",
}

__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
