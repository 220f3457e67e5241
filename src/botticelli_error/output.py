"""The error of structured output: an answer that does not follow the schema it was asked for.

It is a :class:`~botticelli_error.ResponseDecodeError`, so a caller that catches bad replies
in general catches it too; a caller that wants to retry or repair reads ``raw_text``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botticelli_error.errors import ResponseDecodeError

if TYPE_CHECKING:  # an annotation only: botticelli_core imports this package, not the reverse
    from botticelli_core import Usage

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
        attempts: Set by :func:`~botticelli_interface.generate_object` and
            :func:`~botticelli_interface.stream_object`: the failure of every answer of the
            call, first to last, each with its own ``raw_text``, ``problems``,
            ``finish_reason`` and ``usage``. The last one is the answer this error
            describes; more than one means the model was asked again (``retries``). Empty
            on an error of :meth:`~botticelli_core.GenerateResponse.parse`.
        usage: The tokens the answers cost, summed over ``attempts`` where the backend
            reported them; ``None`` when none did (and on an error of ``parse``).
        **kwargs: The common attributes of :class:`~botticelli_error.BotticelliError`.

    Examples:
        >>> err = OutputValidationError("x: too large", raw_text='{"x": 99}', finish_reason="stop")
        >>> err.raw_text, isinstance(err, ResponseDecodeError), err.retryable
        ('{"x": 99}', True, False)
        >>> err.attempts, err.usage
        ((), None)
    """

    def __init__(
        self,
        message: str,
        *,
        raw_text: str,
        problems: tuple[dict[str, Any], ...] = (),
        finish_reason: str | None = None,
        attempts: tuple[OutputValidationError, ...] = (),
        usage: Usage | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.__dict__.update(
            raw_text=raw_text, problems=problems, finish_reason=finish_reason, attempts=attempts, usage=usage
        )
        self.raw_text: str
        self.problems: tuple[dict[str, Any], ...]
        self.finish_reason: str | None
        self.attempts: tuple[OutputValidationError, ...]
        self.usage: Usage | None
