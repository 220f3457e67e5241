"""The one structured event every backend logs per request, and the logger behind it.

Logs go through structlog when the application configured it; otherwise they go to
the standard ``logging`` logger ``"botticelli"``, which is silent until the
application enables it: a library must not print on its own. Nothing is imported or
formatted while nobody listens, so logging costs nothing by default.

The same entry is the one hook of tracing: when ``opentelemetry-api`` is installed
(the ``otel`` extra) and the application configured a tracer or meter provider,
:mod:`botticelli_interface.tracing` opens a span when the request begins and ends it
with the entry's facts. Without the package nothing of OpenTelemetry is imported.

Every backend, HTTP or in-process, logs through :class:`RequestLog`, so the event has
one shape and one vocabulary: ``operation`` is the name of the method the caller
called (``generate``, ``generate_stream``, ``chat_completion``,
``chat_completion_stream``, ``count_tokens``, ``embed``, ``list_models``).
"""

from __future__ import annotations

import logging
import sys
import time
from functools import cache
from importlib.util import find_spec
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Protocol, Self

from botticelli_error import BotticelliError

if TYPE_CHECKING:  # annotations only: logging a request does not load the response models
    from botticelli_core import Usage
    from botticelli_interface.tracing import Trace

__all__ = ["LOGGER_NAME", "Operation", "Reply", "RequestLog", "log_event"]

LOGGER_NAME = "botticelli"
_stdlib_logger = logging.getLogger(LOGGER_NAME)
# The library convention: without it, warnings reach stderr through logging's "last
# resort" handler in an application that never configured logging.
_stdlib_logger.addHandler(logging.NullHandler())

Operation = Literal[
    "generate",
    "generate_stream",
    "chat_completion",
    "chat_completion_stream",
    "count_tokens",
    "embed",
    "list_models",
]
"""What was asked: the name of the public method that made the request."""


class Reply(Protocol):
    """What :meth:`RequestLog.record` reads off a transport's reply (a whole one or an open stream)."""

    @property
    def status_code(self) -> int | None:
        """The HTTP status."""
        ...

    @property
    def request_id(self) -> str | None:
        """The server's request id."""
        ...

    @property
    def retries(self) -> int:
        """Failed attempts before this one."""
        ...


# Looked up once: without the package, a request pays one global read for tracing.
def _otel_installed() -> bool:
    try:
        return find_spec("opentelemetry.trace") is not None
    except ModuleNotFoundError:  # not even the namespace package
        return False


_OTEL_INSTALLED = _otel_installed()


@cache
def _tracing_start() -> Any:
    from botticelli_interface.tracing import start  # noqa: PLC0415 - OpenTelemetry loads with the first request

    return start


@cache
def _stdlib_bridge() -> Any:
    import structlog  # noqa: PLC0415 - imported only once someone listens

    return structlog.wrap_logger(
        _stdlib_logger,
        wrapper_class=structlog.stdlib.BoundLogger,
        processors=[structlog.processors.KeyValueRenderer(key_order=["event"], sort_keys=True)],
    )


def _listener(level: int) -> Any:
    structlog = sys.modules.get("structlog")
    if structlog is not None and structlog.is_configured():
        return structlog.get_logger(LOGGER_NAME)
    if _stdlib_logger.isEnabledFor(level):
        return _stdlib_bridge()
    return None


def log_event(level: int, event: str, **fields: Any) -> None:
    """Emit one structured event at ``level``, if anyone is listening.

    Examples:
        >>> log_event(logging.INFO, "botticelli.example", answer=42)  # silent: nobody listens
    """
    logger = _listener(level)
    if logger is not None:
        logger.log(level, event, **fields)


class RequestLog:
    """Collects the facts of one request and logs ``botticelli.request`` once, when it ends.

    Use it as a context manager around the whole request; set the facts as they become
    known (``status_code``, ``retries``, ``request_id``, ``usage``, ``model``, and for
    tracing ``response_model``, ``finish_reason`` and, for a stream, ``first_chunk_at``,
    which :meth:`record` of an open stream sets). An
    exception leaving the block is logged as the request's error, at WARNING. A stream
    the consumer stopped reading early (``GeneratorExit``) or a cancelled task is not a
    failure of the request: it is logged at INFO with ``cancelled=True``.

    The event never holds the prompt or the output, unless the backend passes
    ``content`` because the user asked for content logging.

    Args:
        provider: The backend's name (``"local"``, ``"gemini"``, ...).
        operation: The method that made the request.
        model: The model asked for, if known yet.
        request: The request, read by tracing for its sampling parameters (``temperature``,
            ``max_tokens``, ``top_p``, ``stop``, ``seed``...), and only then.

    Examples:
        >>> with RequestLog("local", "generate", model="tiny") as entry:
        ...     entry.status_code = 200
        >>> entry.error is None, entry.status_code
        (True, 200)
    """

    __slots__ = (
        "cancelled",
        "content",
        "error",
        "finish_reason",
        "first_chunk_at",
        "model",
        "operation",
        "provider",
        "request",
        "request_id",
        "response_model",
        "retries",
        "started",
        "status_code",
        "trace",
        "usage",
    )

    def __init__(
        self, provider: str, operation: Operation, *, model: str | None = None, request: object | None = None
    ) -> None:
        self.provider = provider
        self.operation = operation
        self.model = model
        self.status_code: int | None = None
        self.retries = 0
        self.request_id: str | None = None
        self.usage: Usage | None = None
        self.error: BaseException | None = None
        self.cancelled = False
        self.content: dict[str, Any] | None = None
        """Prompt and output fields, set only when the user enabled content logging."""
        self.request = request
        self.response_model: str | None = None
        """The model that answered, as the reply names it."""
        self.finish_reason: str | None = None
        """Why generation stopped, in the provider's words."""
        self.first_chunk_at: float | None = None
        """When a stream's first chunk arrived (``time.monotonic()``)."""
        self.trace: Trace | None = None
        self.started = time.monotonic()

    def record(self, reply: Reply) -> None:
        """Take the status, request id and retry count of a reply; retries add up over several replies.

        A stream is recorded once the transport opened it, which is when its first item
        arrived: the first call marks ``first_chunk_at``.
        """
        if self.first_chunk_at is None:
            self.first_chunk_at = time.monotonic()
        self.status_code = reply.status_code
        self.request_id = reply.request_id
        self.retries += reply.retries

    def __enter__(self) -> Self:
        if _OTEL_INSTALLED:
            self.trace = _tracing_start()(self)
        # Read only by the span's start: a stream held open for minutes need not keep it alive.
        self.request = None
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if isinstance(exc, Exception):
            self.error = exc
            if isinstance(exc, BotticelliError):
                self.retries += exc.retries
        elif exc is not None:
            self.cancelled = True
        trace = self.trace
        if trace is not None:
            self.trace = None
            trace.end(self)
        self.emit()

    def emit(self) -> None:
        """Log the event now (the context manager calls this on exit)."""
        error = self.error
        level = logging.WARNING if error is not None else logging.INFO
        logger = _listener(level)
        if logger is None:
            return
        status = self.status_code
        if status is None and isinstance(error, BotticelliError):
            status = error.status_code
        fields: dict[str, Any] = {
            "provider": self.provider,
            "model": self.model,
            "operation": self.operation,
            "status": status,
            "latency_ms": round((time.monotonic() - self.started) * 1000.0, 1),
            "retries": self.retries,
        }
        usage = self.usage
        if usage is not None:
            fields["input_tokens"] = usage.input_tokens
            fields["output_tokens"] = usage.output_tokens
        if self.request_id:
            fields["request_id"] = self.request_id
        if error is not None:
            fields["error"] = type(error).__name__
            if isinstance(error, BotticelliError):
                fields["retryable"] = error.retryable
        if self.cancelled:
            fields["cancelled"] = True
        if self.content:
            fields.update(self.content)
        logger.log(level, "botticelli.request", **fields)
