"""What embedding and token-counting calls return: :class:`EmbedResponse` and :class:`TokenCount`."""

from __future__ import annotations

import importlib
from typing import Any

from pydantic import Field, model_validator

from botticelli_core._base import FrozenModel
from botticelli_core.response import Usage
from botticelli_error import ConfigurationError

__all__ = ["EmbedResponse", "TokenCount"]


class EmbedResponse(FrozenModel):
    """One vector per input text, in input order, all of the same length.

    A ragged list (vectors of different lengths) is refused when the response is built,
    so a token-level reply can never pass for one vector per text.

    Examples:
        >>> resp = EmbedResponse(vectors=[[0.5, 0.5], [1.0, 0.0]], model="nomic")
        >>> len(resp.vectors), resp.dimensions, resp.vectors[1]
        (2, 2, [1.0, 0.0])
        >>> EmbedResponse(vectors=[[0.5, 0.5], [1.0]])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        botticelli_error.errors.ConfigurationError: [botticelli] invalid EmbedResponse: vectors 0 and 1 differ ...
    """

    vectors: list[list[float]]
    """The embeddings, ``vectors[i]`` for the ``i``-th input."""
    model: str | None = None
    """The model that made them, as the backend named it."""
    usage: Usage | None = None
    """Input tokens, where the backend reports them (``output_tokens`` is 0)."""

    @model_validator(mode="after")
    def _rectangular(self) -> EmbedResponse:
        vectors = self.vectors
        if vectors:
            width = len(vectors[0])
            for index, vector in enumerate(vectors):
                if len(vector) != width:
                    # Raised directly: a ValueError here would be re-worded by pydantic.
                    raise ConfigurationError(
                        f"invalid EmbedResponse: vectors 0 and {index} differ in length ({width} and {len(vector)})"
                    )
        return self

    @property
    def dimensions(self) -> int:
        """The length of every vector (0 when there are none)."""
        return len(self.vectors[0]) if self.vectors else 0

    def as_numpy(self) -> Any:
        """The vectors as a 2-D ``numpy.ndarray`` of ``float32``, one row per input.

        numpy is imported only here, so botticelli never requires it.

        Raises:
            ConfigurationError: numpy is not installed.
        """
        try:
            numpy = importlib.import_module("numpy")
        except ImportError:
            raise ConfigurationError("EmbedResponse.as_numpy needs numpy: pip install numpy") from None
        return numpy.array(self.vectors, dtype=numpy.float32).reshape(len(self.vectors), self.dimensions)


class TokenCount(FrozenModel):
    """How many tokens a request's prompt costs, and whether the count is the backend's own.

    ``exact`` is true when the backend counted what it will actually feed the model
    (the chat template included); false when only the raw text could be tokenized,
    so a following generation's ``usage.input_tokens`` may be higher.

    It also compares with, and converts to, a plain ``int`` (its ``input_tokens``), for
    callers of the ``count_tokens`` methods that returned an ``int`` before it existed.

    Examples:
        >>> count = TokenCount(input_tokens=20, exact=True)
        >>> count
        TokenCount(input_tokens=20, exact=True)
        >>> count == 20, count > 5, int(count), count == TokenCount(input_tokens=20, exact=False)
        (True, True, 20, False)
    """

    input_tokens: int = Field(ge=0)
    exact: bool

    def __int__(self) -> int:
        return self.input_tokens

    def __index__(self) -> int:
        return self.input_tokens

    def __eq__(self, other: object) -> bool:
        if isinstance(other, int) and not isinstance(other, bool):
            return self.input_tokens == other
        return super().__eq__(other)

    def __hash__(self) -> int:
        # Equal to an int means hashing like it.
        return hash(self.input_tokens)

    def __lt__(self, other: int | TokenCount) -> bool:
        return self.input_tokens < _tokens(other)

    def __le__(self, other: int | TokenCount) -> bool:
        return self.input_tokens <= _tokens(other)

    def __gt__(self, other: int | TokenCount) -> bool:
        return self.input_tokens > _tokens(other)

    def __ge__(self, other: int | TokenCount) -> bool:
        return self.input_tokens >= _tokens(other)


def _tokens(other: int | TokenCount) -> int:
    if isinstance(other, TokenCount):
        return other.input_tokens
    if isinstance(other, int) and not isinstance(other, bool):
        return other
    raise TypeError(f"cannot compare a TokenCount with {type(other).__name__}")
