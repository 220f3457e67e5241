"""What comes out of a model: answer text, reasoning, JSON and tool calls, whole or streamed."""

from typing import Annotated, Any, Literal

from pydantic import Field

from botticelli_core._base import FrozenModel

__all__ = ["JsonOutput", "Output", "ReasoningOutput", "TextOutput", "ToolCallDelta", "ToolCallOutput"]


class TextOutput(FrozenModel):
    """Answer text."""

    type: Literal["text"] = "text"
    text: str


class ReasoningOutput(FrozenModel):
    """A model's visible reasoning ("thoughts"), kept apart from the answer text."""

    type: Literal["reasoning"] = "reasoning"
    text: str


class JsonOutput(FrozenModel):
    """A structured (JSON) answer, already parsed."""

    type: Literal["json"] = "json"
    value: Any


class ToolCallOutput(FrozenModel):
    """A request by the model to call a tool.

    ``id`` is the provider's call id, or one botticelli generated where the provider
    sends none (Gemini), so results can be matched to calls.
    """

    type: Literal["tool_call"] = "tool_call"
    id: str
    name: str
    arguments: dict[str, Any] | None
    """The arguments, read from the model's JSON (leniently: raw control characters inside
    strings, which small local models write, are taken as they are); ``None`` when the text
    could not be read as a JSON object at all, so that such a call is never mistaken for a
    call with no arguments. ``raw_arguments`` then holds the text."""
    raw_arguments: str | None = None
    """The arguments as the model wrote them, when they were not a JSON object; a
    :meth:`Message.from_response <botticelli_core.Message.from_response>` turn sends them
    back unchanged."""
    signature: str | None = None
    """The provider's opaque signature of the call (Gemini's ``thoughtSignature``), to send
    back with the call on the next turn."""


class ToolCallDelta(FrozenModel):
    """A fragment of a tool call as it streams: OpenAI-style servers send a call in pieces.

    Fragments with the same ``index`` belong to one call; ``id`` and ``name`` come with the
    first fragment, ``arguments`` is the next piece of the JSON text. The assembled calls
    arrive on the final chunk as :attr:`StreamChunk.tool_calls`.
    """

    index: int = Field(ge=0)
    id: str | None = None
    name: str | None = None
    arguments: str = ""


Output = Annotated[
    TextOutput | ReasoningOutput | JsonOutput | ToolCallOutput,
    Field(discriminator="type"),
]
"""Any model output, told apart by its ``type`` field."""
