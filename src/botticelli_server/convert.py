"""Between botticelli's provider-neutral types and the OpenAI wire format. Pure; no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botticelli_core import (
    FinishReason,
    GenerateRequest,
    GenerateResponse,
    ImageInput,
    LoraAdapter,
    Message,
    StreamChunk,
    TextInput,
    ToolCallDelta,
)
from botticelli_core.content import ToolCallInput, ToolResultInput
from botticelli_error import UnsupportedInputError
from botticelli_interface.capabilities import Feature
from botticelli_server._body import wire_fields
from botticelli_server._completion import neutral_response, no_choices, timings_of, usage_from_wire
from botticelli_server.adapters import select_adapter
from botticelli_server.config import PROVIDER, DialectName
from botticelli_server.dialect import DIALECTS, Dialect, get_dialect
from botticelli_server.request import (
    ChatCompletionRequest,
    ChatMessage,
    ContentPart,
    ImagePart,
    ImageURL,
    StreamOptions,
    TextPart,
)
from botticelli_server.response import ChatCompletionResponse, ChunkView
from botticelli_server.tool_stream import ToolCallAssembler
from botticelli_server.tools import calls_cut_off, tool_call_output, tool_messages

__all__ = [
    "chunk_to_stream_chunk",
    "finish_reason_from_wire",
    "finish_reason_with_calls",
    "from_chat_response",
    "streamed",
    "to_chat_message",
    "to_chat_messages",
    "to_chat_request",
    "usage_from_wire",
]

_OPENAI = DIALECTS["openai"]

SUPPORTED_FEATURES: frozenset[Feature] = _OPENAI.features
"""The optional request features of the default ``"openai"`` dialect (see
:mod:`botticelli_interface.capabilities`); each dialect has its own set in
:attr:`Dialect.features <botticelli_server.dialect.Dialect.features>`, and that is what is checked."""

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
    dialect: Dialect | DialectName = _OPENAI,
    adapters: Sequence[LoraAdapter] = (),
    cache_prompt: bool | None = None,
) -> ChatCompletionRequest:
    """The wire request for ``request``; its ``model``, if set, wins over ``default_model``.

    Tools, ``output_schema`` and ``thinking`` are spelled as ``dialect`` says
    (see :mod:`botticelli_server.options`); ``request.adapter`` is selected among the
    server's ``adapters`` as the dialect can (see :mod:`botticelli_server.adapters`).
    ``request.slot`` and ``cache_prompt`` go where the dialect takes them (see
    :func:`~botticelli_server._body.wire_fields`); ``request.session`` is never sent.

    Raises:
        UnsupportedInputError: An input OpenAI-compatible chat cannot carry (audio, video,
            documents), or a feature the dialect does not support (``input_type`` names it).

    Examples:
        >>> req = GenerateRequest.from_prompt("Hi", max_tokens=5)
        >>> to_chat_request(req, default_model="tiny").to_json()
        b'{"model":"tiny","messages":[{"role":"user","content":"Hi"}],"max_tokens":5}'
    """
    if isinstance(dialect, str):
        # A name from settings ("auto" cannot be resolved here: it is the plain protocol).
        dialect = get_dialect(dialect)
    fields = wire_fields(request, default_model=default_model, dialect=dialect, cache_prompt=cache_prompt)
    wire = ChatCompletionRequest(**fields)
    if request.adapter is not None:
        wire = select_adapter(wire, request.adapter, dialect=dialect.name, adapters=adapters)
    return streamed(wire, include_usage=include_usage and dialect.stream_usage) if stream else wire


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


def to_chat_messages(message: Message) -> list[ChatMessage]:
    """A message as wire messages: one, except a ``tool`` message with several results (one each).

    Examples:
        >>> from botticelli_core import ToolResultInput
        >>> msg = Message(role="tool", content=[ToolResultInput(tool_call_id=i, content="ok") for i in "ab"])
        >>> [m.tool_call_id for m in to_chat_messages(msg)]
        ['a', 'b']
    """
    if any(isinstance(part, ToolCallInput | ToolResultInput) for part in message.content):
        return tool_messages(message)
    return [to_chat_message(message)]


def to_chat_message(message: Message) -> ChatMessage:
    """One message on the wire: a string when it is all text, content parts when it has images.

    Raises:
        UnsupportedInputError: A part chat cannot carry, or a ``tool`` message with several
            results, which is several wire messages (use :func:`to_chat_messages`).
    """
    if all(isinstance(part, TextInput) for part in message.content):
        return ChatMessage(role=message.role.value, content=message.text)
    parts: list[ContentPart] = []
    for part in message.content:
        if isinstance(part, TextInput):
            parts.append(TextPart(text=part.text))
        elif isinstance(part, ToolCallInput | ToolResultInput):
            wire = tool_messages(message)
            if len(wire) == 1:
                return wire[0]
            raise UnsupportedInputError(
                "a tool message with several results is several wire messages; use to_chat_messages",
                provider=PROVIDER,
                input_type="tools",
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


def from_chat_response(response: ChatCompletionResponse) -> GenerateResponse:
    """The first choice of a completion as a :class:`GenerateResponse`.

    Raises:
        ResponseDecodeError: The response has no choice or no message.
    """
    if not response.choices or response.choices[0].message is None:
        raise no_choices()
    choice = response.choices[0]
    message = choice.message
    assert message is not None
    calls = [tool_call_output(call, i) for i, call in enumerate(message.tool_calls or ())]
    return neutral_response(
        content=message.content,
        reasoning=message.reasoning_content or message.reasoning,
        calls=calls,
        finish_reason=finish_reason_with_calls(choice.finish_reason, bool(calls), cut_off=calls_cut_off(calls)),
        usage=usage_from_wire(response.usage, timings_of(response)) if response.usage else None,
        model=response.model,
        response_id=response.id,
    )


def finish_reason_with_calls(value: str | None, has_calls: bool, cut_off: bool = False) -> FinishReason:
    """The finish reason of an answer, given whether it has tool calls and whether one was cut off.

    ``TOOL_USE`` when the answer has tool calls and the server said ``stop`` (Ollama and
    llama-cpp-python end a turn of tool calls so). ``LENGTH`` when a call's arguments were cut
    off (``cut_off``, see :func:`~botticelli_server.tools.calls_cut_off`) and the server said
    ``stop`` or ``tool_calls``: llama-cpp-python says ``tool_calls`` for a call that
    ``max_tokens`` stopped halfway, and the caller must learn that the call is not whole.

    Examples:
        >>> finish_reason_with_calls("stop", True), finish_reason_with_calls("length", True)
        (<FinishReason.TOOL_USE: 'tool_use'>, <FinishReason.LENGTH: 'length'>)
        >>> finish_reason_with_calls("tool_calls", True, cut_off=True)
        <FinishReason.LENGTH: 'length'>
    """
    reason = finish_reason_from_wire(value)
    if reason is FinishReason.STOP or reason is FinishReason.TOOL_USE:
        if cut_off:
            return FinishReason.LENGTH
        if has_calls:
            return FinishReason.TOOL_USE
    return reason


_delta = StreamChunk.delta


def chunk_to_stream_chunk(chunk: ChunkView, calls: ToolCallAssembler | None = None) -> StreamChunk | None:
    """The text a wire chunk adds, as a :class:`StreamChunk`; ``None`` if it adds none.

    Finish reasons and usage are not read here: a stream reports them once, on its
    final chunk, after the server has sent everything (see :mod:`botticelli_server.streaming`).
    Tool-call fragments go to ``calls`` and come back as ``tool_call_deltas``; without
    ``calls`` they are ignored. A text-only chunk takes the same path as before tools existed.

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
    if text and len(delta) == 1:
        # Just text, as nearly every token of a stream is: nothing else to look up.
        return _delta(text)
    reasoning = delta.get("reasoning_content") or delta.get("reasoning") or ""
    if calls is not None and (delta.get("tool_calls") or delta.get("function_call")):
        return _with_calls(text, reasoning, calls.feed(delta))
    if not text and not reasoning:
        return None
    # The parser has validated both as strings already; skip validating them again.
    return _delta(text, reasoning)


def _with_calls(text: str, reasoning: str, deltas: tuple[ToolCallDelta, ...]) -> StreamChunk | None:
    if not text and not reasoning and not deltas:
        return None
    return StreamChunk(text=text, reasoning=reasoning, tool_call_deltas=deltas)
