"""What goes into a message: text, media, tool calls and tool results.

What comes out of a model lives in :mod:`botticelli_core.output`, so that building a request
never defines the response types.
"""

from typing import Annotated, Any, Literal

from pydantic import Field

from botticelli_core._base import FrozenModel
from botticelli_core._text import UnicodeText
from botticelli_core.media import MediaSource

__all__ = [
    "AudioInput",
    "DocumentInput",
    "ImageInput",
    "Input",
    "TextInput",
    "ToolCallInput",
    "ToolResultInput",
    "VideoInput",
]


class TextInput(FrozenModel):
    """Plain text.

    Examples:
        >>> TextInput(text="hello").text
        'hello'
    """

    type: Literal["text"] = "text"
    text: UnicodeText


class _MediaInput(FrozenModel):
    mime: str = Field(min_length=3, pattern=r"^[\w.+-]+/[\w.+-]+$")
    source: MediaSource
    filename: UnicodeText | None = None


class ImageInput(_MediaInput):
    """An image, e.g. ``ImageInput(mime="image/png", source=MediaSource.from_bytes(png))``."""

    type: Literal["image"] = "image"


class AudioInput(_MediaInput):
    """An audio clip, e.g. ``mime="audio/wav"``."""

    type: Literal["audio"] = "audio"


class VideoInput(_MediaInput):
    """A video, e.g. ``mime="video/mp4"``."""

    type: Literal["video"] = "video"


class DocumentInput(_MediaInput):
    """A document, e.g. ``mime="application/pdf"``."""

    type: Literal["document"] = "document"


class ToolCallInput(FrozenModel):
    """A tool call the model made earlier, replayed in an assistant message of the history.

    Build these with :meth:`Message.from_response` rather than by hand: it keeps each call's
    ``signature``, which Gemini 3 requires back on the next turn.
    """

    type: Literal["tool_call"] = "tool_call"
    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    raw_arguments: str | None = None
    """The arguments as the model wrote them when they were not a JSON object: sent back
    as they were, where the wire carries arguments as text (OpenAI-compatible servers)."""
    signature: str | None = None
    """The provider's opaque signature of the call (Gemini's ``thoughtSignature``)."""


class ToolResultInput(FrozenModel):
    """What running a tool returned, sent back in a ``tool`` message.

    ``content`` is text (JSON-encode structured results); ``name`` is the tool's name, which
    some providers (Gemini) need beside the call id.
    """

    type: Literal["tool_result"] = "tool_result"
    tool_call_id: str = Field(min_length=1)
    content: UnicodeText
    name: str | None = None
    is_error: bool = False
    """Whether the tool failed; ``content`` then says how."""


Input = Annotated[
    TextInput | ImageInput | AudioInput | VideoInput | DocumentInput | ToolCallInput | ToolResultInput,
    Field(discriminator="type"),
]
"""Any message input, told apart by its ``type`` field."""
