"""The errors of embedding calls: a reply of the wrong shape, an input over the model's context.

Both sit in the tree of :mod:`botticelli_error.errors`, so a caller that catches
:class:`~botticelli_error.ResponseDecodeError` or
:class:`~botticelli_error.BadRequestError` catches them too::

    ResponseDecodeError
    └── EmbeddingShapeError       not one vector per input (e.g. one per token)
    BadRequestError
    └── InputTooLongError         an input exceeds the model's context; names its index
        └── TruncationUnsupportedError   truncation was asked for and the backend cannot do it
"""

from __future__ import annotations

from typing import Any

from botticelli_error.errors import BadRequestError, ResponseDecodeError

__all__ = ["EmbeddingShapeError", "InputTooLongError", "TruncationUnsupportedError"]


class EmbeddingShapeError(ResponseDecodeError):
    """The server's embeddings are not one flat vector per input.

    Args:
        message: What the server returned instead.
        shape: What the reply held, e.g. ``"token-level"`` (a list of per-token vectors,
            as llama-cpp-python sends for a model without a pooling type) or ``"count"``
            (fewer or more vectors than inputs).
        index: The input whose embedding had that shape, when one did.
        **kwargs: The common attributes of :class:`~botticelli_error.BotticelliError`.

    Examples:
        >>> err = EmbeddingShapeError("token-level embeddings", shape="token-level", index=0)
        >>> err.shape, err.index, isinstance(err, ResponseDecodeError)
        ('token-level', 0, True)
    """

    def __init__(self, message: str, *, shape: str, index: int | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.shape = shape
        self.index = index


class InputTooLongError(BadRequestError):
    """An input is longer than the model's context; nothing useful can be returned for it.

    Args:
        message: What the server said.
        index: The position of the offending input in the caller's list.
        input_tokens: Its length in tokens, when the server said.
        context_length: The model's context, when the server said.
        **kwargs: The common attributes of :class:`~botticelli_error.BotticelliError`.

    Examples:
        >>> err = InputTooLongError("input 3 is too long", index=3, input_tokens=900, context_length=512)
        >>> err.index, err.retryable
        (3, False)
    """

    def __init__(
        self,
        message: str,
        *,
        index: int,
        input_tokens: int | None = None,
        context_length: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.index = index
        self.input_tokens = input_tokens
        self.context_length = context_length


class TruncationUnsupportedError(InputTooLongError):
    """``truncate=True`` was asked for, and the backend still refused an input as too long.

    The backend has no truncation it can be asked for (llama.cpp's server refuses any input
    over its physical batch), so the input must be shortened by the caller or the server
    started with a larger batch. A subclass of :class:`InputTooLongError`: a handler of that
    error handles this one too.

    Args:
        message: What was refused, and what would make it fit.
        backend: Which server or API could not truncate, e.g. ``"llama.cpp"``.
        **kwargs: The attributes of :class:`InputTooLongError`.

    Examples:
        >>> err = TruncationUnsupportedError("input 2 was not truncated", index=2, backend="local")
        >>> err.index, err.backend, isinstance(err, InputTooLongError)
        (2, 'local', True)
    """

    def __init__(self, message: str, *, backend: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.backend = backend
