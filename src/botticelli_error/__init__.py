"""Typed errors shared by every botticelli backend, and the one policy that builds them.

Catch a category, whatever the backend::

    try:
        response = await model.generate(request)
    except RateLimitError as err:
        await anyio.sleep(err.retry_after or 1.0)

One module per job: ``errors`` (the class tree), ``status`` (status -> class and
retryability), ``request_id`` (which headers carry it), ``retry_after`` (how long a
server asked us to wait), ``reply`` (an error reply and the error its status calls
for) and ``scrub`` (the registry of secrets no error may show); ``download`` holds the errors
of fetching a model into the cache.
"""

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
from botticelli_error.request_id import REQUEST_ID_HEADERS, request_id
from botticelli_error.retry_after import MAX_RETRY_AFTER, parse_retry_after, wait_seconds
from botticelli_error.routing import AllModelsFailedError, CircuitOpenError
from botticelli_error.scrub import (
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
