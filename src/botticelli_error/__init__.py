"""Typed errors shared by every botticelli backend, and the one policy that builds them.

Catch a category, whatever the backend::

    try:
        response = await model.generate(request)
    except RateLimitError as err:
        await anyio.sleep(err.retry_after or 1.0)

One module per job: ``errors`` (the class tree), ``status`` (status -> class and
retryability), ``request_ids`` (which headers carry the request id), ``retry_after`` (how long a
server asked us to wait), ``reply`` (an error reply and the error its status calls
for) and ``scrubbing`` (the registry of secrets no error may show); ``download`` holds the errors
of fetching a model into the cache.
"""

from typing import TYPE_CHECKING

from botticelli_error._exports import lazy_exports

if TYPE_CHECKING:
    from botticelli_error.download import (
        ModelAccessError,
        ModelChecksumError,
        ModelDownloadError,
        ModelNotCachedError,
        ModelNotFoundError,
    )
    from botticelli_error.embedding import EmbeddingShapeError, InputTooLongError, TruncationUnsupportedError
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
    from botticelli_error.lifecycle import ServerCrashedError
    from botticelli_error.output import OutputValidationError
    from botticelli_error.reply import ErrorResponse, error_for_status, loads_json
    from botticelli_error.request_ids import REQUEST_ID_HEADERS, request_id
    from botticelli_error.retry_after import MAX_RETRY_AFTER, parse_retry_after, wait_seconds
    from botticelli_error.routing import AllModelsFailedError, CircuitOpenError
    from botticelli_error.scrubbing import (
        redact_url,
        register_secret,
        register_url_credentials,
        scrub,
        unregister_secret,
    )
    from botticelli_error.status import RETRYABLE_STATUSES, error_class_for_status, is_retryable_status

__all__ = [
    "MAX_RETRY_AFTER",
    "REQUEST_ID_HEADERS",
    "RETRYABLE_STATUSES",
    "APIStatusError",
    "AllModelsFailedError",
    "AuthenticationError",
    "BadRequestError",
    "BotticelliError",
    "CircuitOpenError",
    "ConfigurationError",
    "ContentBlockedError",
    "EmbeddingShapeError",
    "ErrorKind",
    "ErrorResponse",
    "InputTooLongError",
    "ModelAccessError",
    "ModelChecksumError",
    "ModelDownloadError",
    "ModelNotCachedError",
    "ModelNotFoundError",
    "NotFoundError",
    "OutputValidationError",
    "RateLimitError",
    "RequestTimeoutError",
    "ResponseDecodeError",
    "ServerCrashedError",
    "ServerUnavailableError",
    "StreamError",
    "StreamInterruptedError",
    "StreamStalledError",
    "TransportError",
    "TruncationUnsupportedError",
    "UnsupportedInputError",
    "error_class_for_status",
    "error_for_status",
    "is_retryable_status",
    "loads_json",
    "parse_retry_after",
    "redact_url",
    "register_secret",
    "register_url_credentials",
    "request_id",
    "scrub",
    "unregister_secret",
    "wait_seconds",
]

# The error classes load with the first name a program reads: a client that never fails
# never builds the download, routing or lifecycle errors (see _exports.py).
_EXPORTS = {
    "APIStatusError": "botticelli_error.errors",
    "AllModelsFailedError": "botticelli_error.routing",
    "AuthenticationError": "botticelli_error.errors",
    "BadRequestError": "botticelli_error.errors",
    "BotticelliError": "botticelli_error.errors",
    "CircuitOpenError": "botticelli_error.routing",
    "ConfigurationError": "botticelli_error.errors",
    "ContentBlockedError": "botticelli_error.errors",
    "EmbeddingShapeError": "botticelli_error.embedding",
    "ErrorKind": "botticelli_error.errors",
    "ErrorResponse": "botticelli_error.reply",
    "InputTooLongError": "botticelli_error.embedding",
    "MAX_RETRY_AFTER": "botticelli_error.retry_after",
    "ModelAccessError": "botticelli_error.download",
    "ModelChecksumError": "botticelli_error.download",
    "ModelDownloadError": "botticelli_error.download",
    "ModelNotCachedError": "botticelli_error.download",
    "ModelNotFoundError": "botticelli_error.download",
    "NotFoundError": "botticelli_error.errors",
    "OutputValidationError": "botticelli_error.output",
    "REQUEST_ID_HEADERS": "botticelli_error.request_ids",
    "RETRYABLE_STATUSES": "botticelli_error.status",
    "RateLimitError": "botticelli_error.errors",
    "RequestTimeoutError": "botticelli_error.errors",
    "ResponseDecodeError": "botticelli_error.errors",
    "ServerCrashedError": "botticelli_error.lifecycle",
    "ServerUnavailableError": "botticelli_error.errors",
    "StreamError": "botticelli_error.errors",
    "StreamInterruptedError": "botticelli_error.errors",
    "StreamStalledError": "botticelli_error.errors",
    "TransportError": "botticelli_error.errors",
    "TruncationUnsupportedError": "botticelli_error.embedding",
    "UnsupportedInputError": "botticelli_error.errors",
    "error_class_for_status": "botticelli_error.status",
    "error_for_status": "botticelli_error.reply",
    "is_retryable_status": "botticelli_error.status",
    "loads_json": "botticelli_error.reply",
    "parse_retry_after": "botticelli_error.retry_after",
    "redact_url": "botticelli_error.scrubbing",
    "register_secret": "botticelli_error.scrubbing",
    "register_url_credentials": "botticelli_error.scrubbing",
    "request_id": "botticelli_error.request_ids",
    "scrub": "botticelli_error.scrubbing",
    "unregister_secret": "botticelli_error.scrubbing",
    "wait_seconds": "botticelli_error.retry_after",
}

__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
