"""How much a model may think before it answers, and whether its thoughts come back."""

from typing import Annotated, Literal

from pydantic import Field

from botticelli_core._base import FrozenModel
from botticelli_core._text import NotBool
from botticelli_error import ConfigurationError

__all__ = ["ThinkingConfig"]


class ThinkingConfig(FrozenModel):
    """Thinking ("reasoning") controls for models that think before answering.

    Give a token budget or an effort level, not both; backends map whichever they take
    (Gemini takes a budget, OpenAI-compatible servers an effort), and a backend that can take
    neither raises :class:`~botticelli_error.UnsupportedInputError`.

    Args:
        budget_tokens: Upper bound on thinking tokens; ``0`` turns thinking off where the
            model allows it. ``None`` leaves the budget to the provider.
        effort: ``"low"``, ``"medium"`` or ``"high"``, for providers that take a level.
        include_thoughts: Return the model's thoughts as ``reasoning`` (whole and streamed),
            where the provider can.

    Examples:
        >>> ThinkingConfig(budget_tokens=1024, include_thoughts=True).budget_tokens
        1024
        >>> ThinkingConfig(budget_tokens=0).disabled
        True
        >>> ThinkingConfig(budget_tokens=10, effort="low")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        botticelli_error.errors.ConfigurationError: [botticelli] invalid ThinkingConfig: give budget_tokens or effort...
    """

    budget_tokens: Annotated[int, NotBool] | None = Field(default=None, ge=0, le=2**31 - 1)
    effort: Literal["low", "medium", "high"] | None = None
    include_thoughts: bool = False

    def model_post_init(self, __context: object) -> None:
        """A budget and an effort level would contradict each other on some backend."""
        if self.budget_tokens is not None and self.effort is not None:
            raise ConfigurationError(
                "invalid ThinkingConfig: give budget_tokens or effort, not both "
                f"(got budget_tokens={self.budget_tokens}, effort={self.effort!r})"
            )

    @property
    def disabled(self) -> bool:
        """Whether thinking is switched off (a budget of zero)."""
        return self.budget_tokens == 0
