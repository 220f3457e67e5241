"""The OpenAI ``POST /v1/chat/completions`` request, as the wire carries it.

Optional fields left unset are omitted from the JSON body, so servers that reject
unknown or null fields are not upset by what a caller did not ask for.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

__all__ = [
    "ChatCompletionRequest",
    "ChatMessage",
    "ContentPart",
    "ImagePart",
    "ImageURL",
    "StreamOptions",
    "TextPart",
]


class _Wire(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True, extra="allow")


class TextPart(_Wire):
    """A text content part."""

    type: Literal["text"] = "text"
    text: str


class ImageURL(_Wire):
    """An image by URL, or inline as a ``data:`` URL."""

    url: str
    detail: str | None = None


class ImagePart(_Wire):
    """An image content part."""

    type: Literal["image_url"] = "image_url"
    image_url: ImageURL


ContentPart = TextPart | ImagePart
"""A part of a multi-part message."""


class ChatMessage(_Wire):
    """One message: a plain string, or a list of parts when media is involved.

    Examples:
        >>> ChatMessage(role="user", content="hi").model_dump(exclude_none=True)
        {'role': 'user', 'content': 'hi'}
    """

    role: str
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    """On an assistant turn: the tool calls it made (see :mod:`botticelli_server.tools`)."""
    tool_call_id: str | None = None
    """On a ``tool`` message: the call whose result it carries."""


class StreamOptions(_Wire):
    """Streaming options; ``include_usage`` asks for token counts at the end of a stream."""

    include_usage: bool = True


class ChatCompletionRequest(_Wire):
    """A chat completion request. Extra fields (``min_p``, ``top_k``...) pass through to the server.

    Examples:
        >>> req = ChatCompletionRequest(model="tiny", messages=[ChatMessage(role="user", content="hi")], max_tokens=4)
        >>> req.to_json()
        b'{"model":"tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":4}'
    """

    model: str
    messages: list[ChatMessage]
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: list[str] | None = None
    seed: int | None = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None

    def to_json(self) -> bytes:
        """The request body: JSON bytes, unset fields omitted."""
        return self.__pydantic_serializer__.to_json(self, exclude_none=True)
