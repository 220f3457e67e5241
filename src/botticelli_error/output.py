"""The error of structured output: an answer that does not follow the schema it was asked for.

It is a :class:`~botticelli_error.ResponseDecodeError`, so a caller that catches bad replies
in general catches it too; a caller that wants to retry or repair reads ``raw_text``.
"""

from __future__ import annotations

from typing import Any

from botticelli_error.errors import ResponseDecodeError

__all__ = ["OutputValidationError"]


class OutputValidationError(ResponseDecodeError):
    """The model's answer is not JSON, or does not validate against the requested schema.

    Constrained decoding enforces a schema's shape but not every keyword (numeric bounds,
    formats), so answers are validated on the client and this is what a failure raises.

    Args:
        message: What did not validate.
        raw_text: The answer exactly as the model wrote it. Not scrubbed: it is model output
            the caller asked for.
        problems: pydantic's error list (``loc``, ``msg``, ``type``; inputs left out).
        finish_reason: Why generation stopped (``"length"`` explains a cut-off object).
        **kwargs: The common attributes of :class:`~botticelli_error.BotticelliError`.

    Examples:
        >>> err = OutputValidationError("x: too large", raw_text='{"x": 99}', finish_reason="stop")
        >>> err.raw_text, isinstance(err, ResponseDecodeError), err.retryable
        ('{"x": 99}', True, False)
    """

    def __init__(
        self,
        message: str,
        *,
        raw_text: str,
        problems: tuple[dict[str, Any], ...] = (),
        finish_reason: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.__dict__.update(raw_text=raw_text, problems=problems, finish_reason=finish_reason)
        self.raw_text: str
        self.problems: tuple[dict[str, Any], ...]
        self.finish_reason: str | None
