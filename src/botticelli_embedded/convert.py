"""Conversion between botticelli's data model and mistral.rs chat requests and chunks.

Pure functions: no engine, no I/O, and no import of ``mistralrs`` (which stays an
optional extra). Engine objects are read through the small protocols below, which
mistral.rs's own classes satisfy.

What the engine cannot take is refused, never dropped: media inputs raise
:class:`~botticelli_error.UnsupportedInputError`. The one exception is
``GenerateRequest.seed``: mistral.rs seeds its sampler per engine, not per request, so
the seed is set once through :attr:`EmbeddedConfig.seed <botticelli_embedded.EmbeddedConfig.seed>`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from botticelli_core import FinishReason, GenerateRequest, GenerateResponse, StreamChunk, TextInput, Usage
from botticelli_core.output import Output, ReasoningOutput, TextOutput
from botticelli_embedded._features import feature_options
from botticelli_embedded.config import PROVIDER
from botticelli_error import UnsupportedInputError
from botticelli_interface.capabilities import Feature, require_features

__all__ = [
    "EngineChunk",
    "EngineChunkChoice",
    "EngineDelta",
    "EngineUsage",
    "finish_reason",
    "response_from_chunks",
    "stream_chunk",
    "to_engine_request",
    "usage",
]

SUPPORTED_FEATURES: frozenset[Feature] = frozenset({"output_schema", "thinking"})
"""The optional request features this backend honours (see :mod:`botticelli_interface.capabilities`).

Tools and LoRA adapters are refused; why is in :mod:`botticelli_embedded._features`."""

# mistral.rs follows OpenAI's names; only the tool-call reason is spelt differently in botticelli.
# Anything else unknown becomes FinishReason.OTHER through the enum itself.
_FINISH_REASONS = {"tool_calls": FinishReason.TOOL_USE}


class EngineUsage(Protocol):
    """Token counts as mistral.rs reports them."""

    @property
    def prompt_tokens(self) -> int:
        """Tokens of the rendered prompt."""
        ...

    @property
    def completion_tokens(self) -> int:
        """Tokens generated."""
        ...

    @property
    def total_tokens(self) -> int:
        """Both together."""
        ...


class EngineDelta(Protocol):
    """The new text of one streamed chunk."""

    @property
    def content(self) -> str | None:
        """Answer text since the previous chunk."""
        ...

    @property
    def reasoning_content(self) -> str | None:
        """Reasoning text since the previous chunk, for thinking models."""
        ...


class EngineChunkChoice(Protocol):
    """One choice of a streamed chunk (botticelli always asks for one)."""

    @property
    def finish_reason(self) -> str | None:
        """Why generation stopped; set only on the choice's last chunk."""
        ...

    @property
    def delta(self) -> EngineDelta:
        """The new text."""
        ...


class EngineChunk(Protocol):
    """One streamed chunk (mistral.rs's ``ChatCompletionChunkResponse``)."""

    @property
    def choices(self) -> Sequence[EngineChunkChoice]:
        """The chunk's choices."""
        ...

    @property
    def usage(self) -> EngineUsage | None:
        """Token counts, on the last chunk."""
        ...


def to_engine_request(request: GenerateRequest) -> dict[str, Any]:
    r"""The keyword arguments of a mistral.rs ``ChatCompletionRequest`` for ``request``.

    Messages become ``{"role", "content"}`` pairs rendered by the model's own chat template;
    ``output_schema`` and ``thinking`` become the engine's grammar and thinking options.

    Raises:
        UnsupportedInputError: A message holds an image, audio, video or document input
            (the engine runs text-only GGUF models), or the request uses tools, an adapter,
            a thinking budget or a ``slot`` (``input_type="slot"``), which the engine cannot honour.

    Examples:
        >>> from botticelli_core import Message
        >>> req = GenerateRequest(messages=[Message.user("Hi")], max_tokens=8, stop=("\\n",))
        >>> to_engine_request(req)
        {'messages': [{'role': 'user', 'content': 'Hi'}], 'max_tokens': 8, 'stop_seqs': ['\\n']}
    """
    require_features(request, SUPPORTED_FEATURES, provider=PROVIDER)
    if request.slot is not None:
        # The engine runs in this process, one sequence queue and no slots to choose.
        raise UnsupportedInputError(
            "the embedded engine has no server slots to run a request in; send it without slot",
            provider=PROVIDER,
            input_type="slot",
        )
    messages = []
    for index, message in enumerate(request.messages):
        for part in message.content:
            if not isinstance(part, TextInput):
                raise UnsupportedInputError(
                    f"the embedded engine takes text only, but message {index} holds a {part.type} input",
                    input_type=part.type,
                    provider=PROVIDER,
                )
        messages.append({"role": message.role.value, "content": message.text})
    kwargs: dict[str, Any] = {"messages": messages}
    if request.max_tokens is not None:
        kwargs["max_tokens"] = request.max_tokens
    if request.temperature is not None:
        kwargs["temperature"] = request.temperature
    if request.top_p is not None:
        kwargs["top_p"] = request.top_p
    if request.stop:
        kwargs["stop_seqs"] = list(request.stop)
    kwargs.update(feature_options(request))
    return kwargs


def finish_reason(value: str) -> FinishReason:
    """The botticelli finish reason for mistral.rs's ``value``.

    Examples:
        >>> finish_reason("tool_calls"), finish_reason("length"), finish_reason("canceled")
        (<FinishReason.TOOL_USE: 'tool_use'>, <FinishReason.LENGTH: 'length'>, <FinishReason.OTHER: 'other'>)
    """
    return _FINISH_REASONS.get(value) or FinishReason(value)


def usage(engine_usage: EngineUsage) -> Usage:
    """The botticelli usage for mistral.rs's token counts."""
    return Usage(
        input_tokens=engine_usage.prompt_tokens,
        output_tokens=engine_usage.completion_tokens,
        total_tokens=engine_usage.total_tokens,
    )


def stream_chunk(chunk: EngineChunk) -> StreamChunk | None:
    """The botticelli chunk for one engine chunk, or ``None`` for one that carries nothing.

    The chunk with a finish reason is the final one; it carries the usage too.
    """
    choice = chunk.choices[0] if chunk.choices else None
    text = (choice.delta.content or "") if choice is not None else ""
    reasoning = (choice.delta.reasoning_content or "") if choice is not None else ""
    reason = choice.finish_reason if choice is not None else None
    if reason is None:
        return StreamChunk(text=text, reasoning=reasoning) if text or reasoning else None
    return StreamChunk(
        text=text,
        reasoning=reasoning,
        is_final=True,
        finish_reason=finish_reason(reason),
        usage=usage(chunk.usage) if chunk.usage is not None else None,
    )


def response_from_chunks(chunks: Iterable[StreamChunk], *, model: str) -> GenerateResponse:
    """The whole response a finished stream adds up to.

    Raises:
        ValueError: No chunk is final (the caller reports an interrupted stream).

    Examples:
        >>> parts = [StreamChunk(text="Hel"), StreamChunk(text="lo", is_final=True, finish_reason="stop")]
        >>> resp = response_from_chunks(parts, model="tiny")
        >>> resp.text, resp.finish_reason
        ('Hello', <FinishReason.STOP: 'stop'>)
    """
    text: list[str] = []
    reasoning: list[str] = []
    final: StreamChunk | None = None
    for chunk in chunks:
        text.append(chunk.text)
        reasoning.append(chunk.reasoning)
        if chunk.is_final:
            final = chunk
    if final is None or final.finish_reason is None:
        raise ValueError("the chunks end without a final chunk")
    outputs: list[Output] = []
    if any(reasoning):
        outputs.append(ReasoningOutput(text="".join(reasoning)))
    outputs.append(TextOutput(text="".join(text)))
    return GenerateResponse(outputs=outputs, finish_reason=final.finish_reason, usage=final.usage, model=model)
