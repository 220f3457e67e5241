"""Typed errors shared by every botticelli backend.

Catch a category, whatever the backend::

    try:
        response = await model.generate(request)
    except RateLimitError as err:
        await anyio.sleep(err.retry_after or 1.0)
"""

from botticelli_error.errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    BotticelliError,
    ConfigurationError,
    ContentBlockedError,
    ErrorKind,
    NotFoundError,
    RateLimitError,
    RequestTimeoutError,
    ResponseDecodeError,
    ServerUnavailableError,
    StreamError,
    StreamInterruptedError,
    StreamStalledError,
    TransportError,
    UnsupportedInputError,
)

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
