"""OpenAI-compatible responses, stream chunks and model lists, as servers really send them.

Servers differ, so every field that one of them omits is optional, unknown fields
are kept (``extra="allow"``), and ``choices: []``, ``choices: null`` and
``delta: null`` all parse (see docs/design.md for who sends what).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from typing_extensions import TypedDict

__all__ = [
    "AssistantMessage",
    "ChatCompletionChunk",
    "ChatCompletionResponse",
    "Choice",
    "ChoiceView",
    "ChunkChoice",
    "ChunkView",
    "Delta",
    "DeltaView",
    "FunctionCall",
    "ModelEntry",
    "ModelList",
    "ToolCall",
    "UsageInfo",
]


class _Wire(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True, extra="allow")


class FunctionCall(_Wire):
    """A tool call's function: name and arguments (a JSON string, or an object on some servers)."""

    name: str | None = None
    arguments: str | dict[str, Any] | None = None


class ToolCall(_Wire):
    """A tool call, whole or (in a stream) a piece of one keyed by ``index``."""

    index: int | None = None
    id: str | None = None
    type: str | None = None
    function: FunctionCall | None = None


class AssistantMessage(_Wire):
    """The generated message of a non-streamed choice."""

    role: str | None = None
    content: str | None = None
    reasoning_content: str | None = None
    """Reasoning text (mistral.rs, llama.cpp, older vLLM)."""
    reasoning: str | None = None
    """Reasoning text (Ollama, newer vLLM)."""
    tool_calls: list[ToolCall] | None = None
    refusal: str | None = None


class Choice(_Wire):
    """One choice of a non-streamed response."""

    index: int = 0
    message: AssistantMessage | None = None
    finish_reason: str | None = None


class UsageInfo(_Wire):
    """Token counts; servers add their own extras (timings, tokens per second).

    OpenAI's ``prompt_tokens_details`` (``cached_tokens``: vLLM, newer llama-server) is one
    of those extras, kept as sent and read leniently by
    :func:`~botticelli_server._completion.cached_tokens`, as is llama-server's top-level
    ``timings`` on a completion or chunk.
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int | None = None
    completion_tokens_details: dict[str, Any] | None = None


class ChatCompletionResponse(_Wire):
    """A non-streamed chat completion."""

    id: str | None = None
    object: str | None = None
    created: int | float | None = None
    model: str | None = None
    choices: list[Choice] | None = None
    usage: UsageInfo | None = None


class Delta(_Wire):
    """What a stream chunk adds to the message."""

    role: str | None = None
    content: str | None = None
    reasoning_content: str | None = None
    reasoning: str | None = None
    tool_calls: list[ToolCall] | None = None
    refusal: str | None = None


class ChunkChoice(_Wire):
    """One choice of a stream chunk."""

    index: int = 0
    delta: Delta | None = None
    finish_reason: str | None = None


class ChatCompletionChunk(_Wire):
    """One ``data:`` event of a streamed chat completion.

    Examples:
        >>> chunk = ChatCompletionChunk.model_validate_json(b'{"choices":[],"usage":{"prompt_tokens":3}}')
        >>> chunk.choices, chunk.usage.prompt_tokens
        ([], 3)
    """

    id: str | None = None
    object: str | None = None
    created: int | float | None = None
    model: str | None = None
    choices: list[ChunkChoice] | None = None
    usage: UsageInfo | None = None
    error: Any = None
    """An error object the server put in the stream in place of a chunk."""


class ModelEntry(_Wire):
    """One model of ``GET /v1/models``; servers add status, context size and more."""

    id: str
    object: str | None = None
    created: int | float | None = None
    owned_by: str | None = None


class ModelList(_Wire):
    """The reply of ``GET /v1/models``."""

    object: str | None = None
    data: list[ModelEntry] = []


class DeltaView(TypedDict, total=False):
    """The fields of a chunk's delta that :class:`ChunkView` reads: text, and tool-call fragments."""

    content: str | None
    reasoning_content: str | None
    reasoning: str | None
    tool_calls: Any
    """Tool-call fragments, checked piece by piece by :mod:`botticelli_server.tool_stream`."""
    function_call: Any
    """The legacy single-call fragment some servers (llama-cpp-python) send as well."""


class ChoiceView(TypedDict, total=False):
    """The fields of a chunk's choice that :class:`ChunkView` reads."""

    delta: DeltaView | None
    finish_reason: str | None


class ChunkView(TypedDict, total=False):
    """A stream chunk as the stream reader sees it: only the fields a stream's rules and text need.

    pydantic-core validates these keys and skips every other one without building
    Python objects for it, which makes this cheaper per event than
    :class:`ChatCompletionChunk` (or even ``json.loads``); see docs/performance.md.
    """

    object: str | None
    message: str | None
    model: str | None
    choices: list[ChoiceView] | None
    usage: dict[str, Any] | None
    timings: Any
    """llama-server's timings, on the last chunk: any shape, so that an odd one cannot end a stream."""
    error: Any
