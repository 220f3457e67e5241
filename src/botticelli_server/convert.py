"""Between botticelli's provider-neutral types and the OpenAI wire format. Pure; no I/O."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from botticelli_core import (
    FinishReason,
    GenerateRequest,
    GenerateResponse,
    ImageInput,
    LoraAdapter,
    Message,
    ReasoningOutput,
    StreamChunk,
    TextInput,
    TextOutput,
    ToolCallOutput,
    Usage,
)
from botticelli_core.content import Output, ToolCallInput, ToolResultInput
from botticelli_error import ResponseDecodeError, UnsupportedInputError
from botticelli_interface.capabilities import Feature, require_features
from botticelli_server.adapters import adapter_features, select_adapter
from botticelli_server.config import PROVIDER
from botticelli_server.request import (
    ChatCompletionRequest,
    ChatMessage,
    ContentPart,
    ImagePart,
    ImageURL,
    StreamOptions,
    TextPart,
)
from botticelli_server.response import ChatCompletionResponse, ChunkView, ToolCall, UsageInfo

__all__ = [
    "chunk_to_stream_chunk",
    "finish_reason_from_wire",
    "from_chat_response",
    "streamed",
    "to_chat_message",
    "to_chat_request",
    "usage_from_wire",
]

SUPPORTED_FEATURES: frozenset[Feature] = frozenset()
"""The optional request features this backend honours (see :mod:`botticelli_interface.capabilities`)."""

_FINISH_REASONS = {
    "stop": FinishReason.STOP,
    "length": FinishReason.LENGTH,
    "tool_calls": FinishReason.TOOL_USE,
    "function_call": FinishReason.TOOL_USE,
    "content_filter": FinishReason.CONTENT_FILTER,
}


def to_chat_request(
    request: GenerateRequest,
    *,
    default_model: str,
    stream: bool = False,
    include_usage: bool = True,
    dialect: str = "openai",
    adapters: Sequence[LoraAdapter] = (),
) -> ChatCompletionRequest:
    """The wire request for ``request``; its ``model``, if set, wins over ``default_model``.

    ``dialect`` and ``adapters`` (the server's, from ``ServerConfig``) say how
    ``request.adapter`` is sent (see :mod:`botticelli_server.adapters`).

    Raises:
        UnsupportedInputError: An input OpenAI-compatible chat cannot carry (audio, video, documents),
            or a feature the server's dialect cannot honour.

    Examples:
        >>> req = GenerateRequest.from_prompt("Hi", max_tokens=5)
        >>> to_chat_request(req, default_model="tiny").to_json()
        b'{"model":"tiny","messages":[{"role":"user","content":"Hi"}],"max_tokens":5}'
    """
    require_features(request, SUPPORTED_FEATURES | adapter_features(dialect), provider=PROVIDER)
    wire = ChatCompletionRequest(
        model=request.model or default_model,
        messages=[to_chat_message(m) for m in request.messages],
        max_tokens=request.max_tokens,
        temperature=request.temperature,
        top_p=request.top_p,
        stop=list(request.stop) if request.stop else None,
        seed=request.seed,
    )
    if request.adapter is not None:
        wire = select_adapter(wire, request.adapter, dialect=dialect, adapters=adapters)
    return streamed(wire, include_usage=include_usage) if stream else wire


def streamed(request: ChatCompletionRequest, *, include_usage: bool = True) -> ChatCompletionRequest:
    """``request`` marked as streamed; it asks for usage too, unless told not to or it says otherwise already.

    Examples:
        >>> from botticelli_server.request import ChatMessage
        >>> wire = ChatCompletionRequest(model="m", messages=[ChatMessage(role="user", content="hi")])
        >>> streamed(wire).to_json()
        b'{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}'
    """
    update: dict[str, Any] = {"stream": True}
    if include_usage and request.stream_options is None:
        update["stream_options"] = StreamOptions()
    return request.model_copy(update=update)


def to_chat_message(message: Message) -> ChatMessage:
    """One message on the wire: a string when it is all text, content parts when it has images."""
    if all(isinstance(part, TextInput) for part in message.content):
        return ChatMessage(role=message.role.value, content=message.text)
    parts: list[ContentPart] = []
    for part in message.content:
        if isinstance(part, TextInput):
            parts.append(TextPart(text=part.text))
        elif isinstance(part, ToolCallInput | ToolResultInput):
            raise UnsupportedInputError(
                f"the {PROVIDER} backend does not support tools yet", provider=PROVIDER, input_type="tools"
            )
        elif isinstance(part, ImageInput):
            src = part.source
            url = src.url if src.url is not None else f"data:{part.mime};base64,{src.to_base64()}"
            parts.append(ImagePart(image_url=ImageURL(url=url)))
        else:
            raise UnsupportedInputError(
                f"OpenAI-compatible chat cannot carry {part.type} input ({part.mime}); "
                "send it as text, or use a backend that accepts it (gemini)",
                provider=PROVIDER,
                input_type=part.type,
            )
    return ChatMessage(role=message.role.value, content=parts)


def finish_reason_from_wire(value: str | None) -> FinishReason:
    """Map a server's ``finish_reason``; unknown values become ``OTHER``.

    Examples:
        >>> finish_reason_from_wire("tool_calls"), finish_reason_from_wire("abort")
        (<FinishReason.TOOL_USE: 'tool_use'>, <FinishReason.OTHER: 'other'>)
    """
    if value is None:
        return FinishReason.OTHER
    return _FINISH_REASONS.get(value, FinishReason.OTHER)


def usage_from_wire(usage: UsageInfo) -> Usage:
    """Token counts in botticelli's terms (``prompt`` -> input, ``completion`` -> output)."""
    details = usage.completion_tokens_details or {}
    reasoning = details.get("reasoning_tokens")
    return Usage(
        input_tokens=max(usage.prompt_tokens, 0),
        output_tokens=max(usage.completion_tokens, 0),
        total_tokens=usage.total_tokens if usage.total_tokens is not None and usage.total_tokens >= 0 else -1,
        reasoning_tokens=reasoning if isinstance(reasoning, int) and reasoning >= 0 else None,
    )


def from_chat_response(response: ChatCompletionResponse) -> GenerateResponse:
    """The first choice of a completion as a :class:`GenerateResponse`.

    Raises:
        ResponseDecodeError: The response has no choice or no message.
    """
    if not response.choices or response.choices[0].message is None:
        raise ResponseDecodeError("the server's completion has no choices", provider=PROVIDER)
    choice = response.choices[0]
    message = choice.message
    assert message is not None
    outputs: list[Output] = []
    reasoning = message.reasoning_content or message.reasoning
    if reasoning:
        outputs.append(ReasoningOutput(text=reasoning))
    if message.content:
        outputs.append(TextOutput(text=message.content))
    outputs.extend(_tool_call(call, i) for i, call in enumerate(message.tool_calls or ()))
    return GenerateResponse(
        outputs=tuple(outputs),
        finish_reason=finish_reason_from_wire(choice.finish_reason),
        usage=usage_from_wire(response.usage) if response.usage else None,
        model=response.model,
        response_id=response.id,
    )


def _tool_call(call: ToolCall, position: int) -> ToolCallOutput:
    function = call.function
    name = function.name if function and function.name else ""
    raw = function.arguments if function else None
    arguments: dict[str, Any]
    raw_text: str | None = None
    if isinstance(raw, dict):
        arguments = raw
    elif not raw:
        arguments = {}
    else:
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
        # Local models often emit arguments that are not a JSON object; keep the text
        # rather than lose it.
        arguments = parsed if isinstance(parsed, dict) else {}
        raw_text = None if isinstance(parsed, dict) else raw
    return ToolCallOutput(id=call.id or f"call_{position}", name=name, arguments=arguments, raw_arguments=raw_text)


_delta = StreamChunk.delta


def chunk_to_stream_chunk(chunk: ChunkView) -> StreamChunk | None:
    """The text a wire chunk adds, as a :class:`StreamChunk`; ``None`` if it adds none.

    Finish reasons and usage are not read here: a stream reports them once, on its
    final chunk, after the server has sent everything (see :mod:`botticelli_server.streaming`).

    Examples:
        >>> chunk_to_stream_chunk({"choices": [{"delta": {"content": "Hi"}}]}).text
        'Hi'
        >>> chunk_to_stream_chunk({"choices": [], "usage": {"prompt_tokens": 3}}) is None
        True
    """
    choices = chunk.get("choices")
    if not choices:
        return None
    delta = choices[0].get("delta")
    if not delta:
        return None
    text = delta.get("content") or ""
    reasoning = delta.get("reasoning_content") or delta.get("reasoning") or ""
    if not text and not reasoning:
        return None
    # The parser has validated both as strings already; skip validating them again.
    return _delta(text, reasoning)
