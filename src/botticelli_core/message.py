"""A turn of a conversation."""

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from pydantic import Field, field_validator

from botticelli_core._base import FrozenModel
from botticelli_core._text import is_unicode
from botticelli_core.content import Input, TextInput, ToolCallInput, ToolResultInput
from botticelli_core.role import Role
from botticelli_error import ConfigurationError

if TYPE_CHECKING:
    from botticelli_core.response import GenerateResponse

__all__ = ["Message"]


class Message(FrozenModel):
    """One message: a role and one or more inputs.

    The constructors take a string or a sequence of inputs; anything else (``None``, a
    number, bytes) is a :class:`~botticelli_error.ConfigurationError` naming
    ``Message.content``, like every other invalid field.

    Validation (``Message.model_validate``, or the ``messages`` of
    ``GenerateRequest.model_validate``) also takes the OpenAI chat shape as it is: a
    ``content`` string is one text input, a list of ``{"type": "text", "text": ...}``
    parts is a list of text inputs, and the ``developer`` role is the system role (OpenAI's
    newer name for it).

    Examples:
        >>> msg = Message.user("What is 2 + 2?")
        >>> msg.role, msg.text
        (<Role.USER: 'user'>, 'What is 2 + 2?')
        >>> Message.model_validate({"role": "user", "content": "What is 2 + 2?"}) == msg
        True
        >>> Message.model_validate({"role": "developer", "content": [{"type": "text", "text": "Be brief."}]}).role
        <Role.SYSTEM: 'system'>
        >>> Message.user(None)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        botticelli_error.errors.ConfigurationError: [botticelli] invalid Message: Message.content must be ...
    """

    role: Role
    content: tuple[Input, ...] = Field(min_length=1)

    @field_validator("role", mode="before")
    @classmethod
    def _developer_is_system(cls, role: object) -> object:
        # OpenAI renamed the system role "developer" for its newer models; messages written
        # for them mean the same instruction.
        return Role.SYSTEM if role == "developer" else role

    @field_validator("content", mode="before")
    @classmethod
    def _openai_content(cls, content: object) -> object:
        """A string is one text input, as in OpenAI's (and every compatible server's) messages."""
        if isinstance(content, str):
            # A dict, not a TextInput: validated as any text part is, so a bad text (a lone
            # surrogate) is refused in the same words as by Message.user.
            return ({"type": "text", "text": content},)
        if content is None:
            raise ValueError("must be a string or a list of inputs")
        if isinstance(content, Mapping):
            # pydantic would say "Input should be a valid tuple", which does not say what to do.
            raise ValueError("must be a string or a list of inputs; put a single input in a list")
        return content

    def model_post_init(self, __context: object) -> None:
        """Tool calls belong to the assistant and tool results to ``tool`` messages, only."""
        results = sum(isinstance(part, ToolResultInput) for part in self.content)
        if self.role is Role.TOOL and results != len(self.content):
            raise ConfigurationError(
                "invalid Message: a tool message carries only tool results (build it with Message.tool_result)"
            )
        if self.role is not Role.TOOL and results:
            raise ConfigurationError(
                f"invalid Message: tool results go in a tool message, not a {self.role.value} message "
                "(build it with Message.tool_result)"
            )
        if self.role is not Role.ASSISTANT and any(isinstance(part, ToolCallInput) for part in self.content):
            raise ConfigurationError(
                f"invalid Message: tool calls go in an assistant message, not a {self.role.value} message "
                "(build it with Message.from_response)"
            )

    @classmethod
    def system(cls, content: str | Sequence[Input]) -> "Message":
        """A system (instruction) message."""
        return _text_message(Role.SYSTEM, content) or cls(role=Role.SYSTEM, content=_as_inputs(content))

    @classmethod
    def user(cls, content: str | Sequence[Input]) -> "Message":
        """A user message: a string, or a list of text and media inputs."""
        return _text_message(Role.USER, content) or cls(role=Role.USER, content=_as_inputs(content))

    @classmethod
    def assistant(cls, content: str | Sequence[Input]) -> "Message":
        """An earlier reply of the model, for multi-turn history."""
        return _text_message(Role.ASSISTANT, content) or cls(role=Role.ASSISTANT, content=_as_inputs(content))

    @classmethod
    def from_response(cls, response: "GenerateResponse") -> "Message":
        """The assistant turn for a response, to put in the history of the next request.

        It carries the answer text and every tool call, with the provider's call
        signatures (Gemini 3 refuses a follow-up turn whose calls lost them).

        Examples:
            >>> from botticelli_core import GenerateResponse, TextOutput, ToolCallOutput
            >>> reply = GenerateResponse(
            ...     outputs=[ToolCallOutput(id="call_1", name="add", arguments={"a": 2, "b": 3})],
            ...     finish_reason="tool_use",
            ... )
            >>> turn = Message.from_response(reply)
            >>> turn.role.value, turn.tool_calls[0].name, turn.tool_calls[0].arguments
            ('assistant', 'add', {'a': 2, 'b': 3})
        """
        parts: list[Input] = []
        if response.text:
            parts.append(TextInput(text=response.text))
        parts.extend(
            ToolCallInput(
                id=call.id,
                name=call.name,
                arguments=call.arguments or {},
                raw_arguments=call.raw_arguments,
                signature=call.signature,
            )
            for call in response.tool_calls
        )
        return cls(role=Role.ASSISTANT, content=tuple(parts) or (TextInput(text=""),))

    @classmethod
    def tool_result(
        cls, tool_call_id: str, content: object, *, name: str | None = None, is_error: bool = False
    ) -> "Message":
        """A ``tool`` message with what running one tool call returned.

        ``content`` is sent as text: a string as it is, anything else JSON-encoded.

        Examples:
            >>> msg = Message.tool_result("call_1", {"sum": 5}, name="add")
            >>> msg.role.value, msg.content[0].content
            ('tool', '{"sum": 5}')
        """
        if not isinstance(content, str):
            try:
                content = json.dumps(content, ensure_ascii=False)
            except (TypeError, ValueError) as exc:
                raise ConfigurationError(
                    f"invalid Message: Message.tool_result's content must be a string or JSON-encodable ({exc})"
                ) from None
        result = ToolResultInput(tool_call_id=tool_call_id, content=content, name=name, is_error=is_error)
        return cls(role=Role.TOOL, content=(result,))

    @property
    def tool_calls(self) -> tuple[ToolCallInput, ...]:
        """The tool calls replayed in this (assistant) message, in order."""
        return tuple(part for part in self.content if isinstance(part, ToolCallInput))

    @property
    def text(self) -> str:
        """The message's text inputs joined, ignoring media."""
        return "".join(part.text for part in self.content if isinstance(part, TextInput))


def _text_message(role: Role, content: object) -> Message | None:
    """The message for one text, built without pydantic's validator; ``None`` if it needs one.

    A single ``str`` that encodes as UTF-8 is exactly what validation would accept
    unchanged, so building it directly gives an equal message (same fields, same fields
    set) without building the validators of every input type: that is most of what the
    first request of a program costs. Anything else, including text that
    :func:`~botticelli_core._text.check_unicode` refuses, goes through validation, which
    raises the usual error.
    """
    if type(content) is not str or not is_unicode(content):
        return None
    return Message.model_construct(role=role, content=(TextInput.model_construct(text=content),))


def _as_inputs(content: object) -> tuple[Input, ...]:
    if isinstance(content, str):
        return (TextInput(text=content),)
    # bytes and bytearray are sequences too, of ints; they are never a list of inputs.
    if isinstance(content, Sequence) and not isinstance(content, bytes | bytearray):
        return tuple(content)
    raise ConfigurationError(
        f"invalid Message: Message.content must be a string or a sequence of inputs (got {type(content).__name__})"
    )
