"""The one place where mistral.rs's exceptions become botticelli errors.

mistral.rs raises ``ValueError`` for nearly every failure, its message followed by a
Rust backtrace. The first line is the message; the whole text is kept as the body.
"""

from __future__ import annotations

from botticelli_embedded.config import PROVIDER, EmbeddedConfig
from botticelli_error import (
    BadRequestError,
    BotticelliError,
    ConfigurationError,
    ServerUnavailableError,
    StreamInterruptedError,
)

__all__ = ["engine_message", "load_error", "request_error"]

# Messages by which the engine blames the request rather than itself (mistral.rs 0.9);
# anything else is the engine's failure.
_BAD_REQUEST_MARKERS = (
    "Prompt sequence length is greater than",
    "max_tokens must be",
    # An output_schema the grammar compiler cannot take.
    "Invalid grammar",
    "Failed to parse JSON schema",
)


def engine_message(exc: BaseException) -> str:
    r"""The engine's message without its backtrace.

    Examples:
        >>> engine_message(ValueError("bad magic\n   0: <candle_core::error::Error>::bt"))
        'bad magic'
        >>> engine_message(ValueError())
        'ValueError'
    """
    lines = str(exc).strip().splitlines()
    return lines[0].strip() if lines else type(exc).__name__


def load_error(exc: Exception, config: EmbeddedConfig) -> ConfigurationError:
    """A model the engine could not load: a missing or corrupt file, an unknown architecture."""
    message = engine_message(exc)
    where = config.model_path if config.model_path is not None else f"{config.model_id}/{config.filename}"
    return ConfigurationError(
        f"mistral.rs could not load the model {where}: {message}",
        provider=PROVIDER,
        server_message=message,
        error_type=type(exc).__name__,
        body=str(exc),
    )


def request_error(exc: Exception, *, partial_text: str | None = None) -> BotticelliError:
    """A generation the engine refused or failed.

    Args:
        exc: What the engine raised.
        partial_text: The text already delivered, when the failure came mid-stream;
            ``None`` when nothing was delivered yet.
    """
    message = engine_message(exc)
    error_type = type(exc).__name__
    if partial_text is not None:
        return StreamInterruptedError(
            f"the embedded engine stopped mid-stream: {message}",
            partial_text=partial_text,
            provider=PROVIDER,
            server_message=message,
            error_type=error_type,
            body=str(exc),
        )
    cls: type[BotticelliError] = ServerUnavailableError
    summary = "the embedded engine failed"
    if any(marker in message for marker in _BAD_REQUEST_MARKERS):
        cls, summary = BadRequestError, "the embedded engine refused the request"
    return cls(
        f"{summary}: {message}",
        provider=PROVIDER,
        server_message=message,
        error_type=error_type,
        body=str(exc),
    )
