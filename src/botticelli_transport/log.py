"""The one structured event logged per request.

Logs go through structlog when the application configured it; otherwise they go to
the standard ``logging`` logger ``"botticelli"``, which is silent until the
application enables it: a library must not print on its own. Nothing is imported or
formatted while nobody listens, so logging costs nothing by default.
"""

from __future__ import annotations

import logging
import sys
from functools import cache
from typing import Any

from botticelli_core import Usage
from botticelli_error import BotticelliError

__all__ = ["LOGGER_NAME", "log_event", "log_request"]

LOGGER_NAME = "botticelli"
_stdlib_logger = logging.getLogger(LOGGER_NAME)
# The library convention: without it, warnings reach stderr through logging's "last
# resort" handler in an application that never configured logging.
_stdlib_logger.addHandler(logging.NullHandler())


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
    """Emit one structured event at ``level``, if anyone is listening."""
    logger = _listener(level)
    if logger is not None:
        logger.log(level, event, **fields)


def log_request(
    *,
    provider: str,
    model: str | None,
    operation: str,
    status_code: int | None,
    latency_s: float,
    retries: int,
    usage: Usage | None = None,
    error: BaseException | None = None,
    request_id: str | None = None,
    content: dict[str, Any] | None = None,
) -> None:
    """Emit ``botticelli.request``: what was asked of whom, how long it took, what it cost.

    Never the prompt or the output, unless the caller passes ``content`` because the
    user asked for content logging.
    """
    level = logging.WARNING if error is not None else logging.INFO
    logger = _listener(level)
    if logger is None:
        return
    fields: dict[str, Any] = {
        "provider": provider,
        "model": model,
        "operation": operation,
        "status": status_code,
        "latency_ms": round(latency_s * 1000.0, 1),
        "retries": retries,
    }
    if usage is not None:
        fields["input_tokens"] = usage.input_tokens
        fields["output_tokens"] = usage.output_tokens
    if request_id:
        fields["request_id"] = request_id
    if error is not None:
        fields["error"] = type(error).__name__
        if isinstance(error, BotticelliError):
            fields["retryable"] = error.retryable
    if content:
        fields.update(content)
    logger.log(level, "botticelli.request", **fields)
