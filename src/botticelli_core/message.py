"""A turn of a conversation."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from botticelli_core._base import FrozenModel
from botticelli_core.content import Input, TextInput
from botticelli_core.role import Role
from botticelli_error import ConfigurationError

__all__ = ["Message"]


class Message(FrozenModel):
    """One message: a role and one or more inputs.

    The constructors take a string or a sequence of inputs; anything else (``None``, a
    number, bytes) is a :class:`~botticelli_error.ConfigurationError` naming
    ``Message.content``, like every other invalid field.

    Examples:
        >>> msg = Message.user("What is 2 + 2?")
        >>> msg.role, msg.text
        (<Role.USER: 'user'>, 'What is 2 + 2?')
        >>> Message.user(None)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        botticelli_error.errors.ConfigurationError: [botticelli] invalid Message: Message.content must be ...
    """

    role: Role
    content: tuple[Input, ...] = Field(min_length=1)

    @classmethod
    def system(cls, content: str | Sequence[Input]) -> Message:
        """A system (instruction) message."""
        return cls(role=Role.SYSTEM, content=_as_inputs(content))

    @classmethod
    def user(cls, content: str | Sequence[Input]) -> Message:
        """A user message: a string, or a list of text and media inputs."""
        return cls(role=Role.USER, content=_as_inputs(content))

    @classmethod
    def assistant(cls, content: str | Sequence[Input]) -> Message:
        """An earlier reply of the model, for multi-turn history."""
        return cls(role=Role.ASSISTANT, content=_as_inputs(content))

    @property
    def text(self) -> str:
        """The message's text inputs joined, ignoring media."""
        return "".join(part.text for part in self.content if isinstance(part, TextInput))


def _as_inputs(content: object) -> tuple[Input, ...]:
    if isinstance(content, str):
        return (TextInput(text=content),)
    # bytes and bytearray are sequences too, of ints; they are never a list of inputs.
    if isinstance(content, Sequence) and not isinstance(content, bytes | bytearray):
        return tuple(content)
    raise ConfigurationError(
        f"invalid Message: Message.content must be a string or a sequence of inputs (got {type(content).__name__})"
    )
