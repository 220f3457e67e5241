"""botticelli's data model to Gemini's wire format and back. Pure functions; no I/O.

Requests: user turns keep the role ``user``, assistant turns become ``model``, and
system messages are gathered into ``systemInstruction``. Media given as bytes or
base64 goes inline (``inlineData``), media given as a URL by reference (``fileData``).

Tool calls go out as ``functionCall`` parts of ``model`` turns, and consecutive ``tool``
messages are one ``user`` turn of ``functionResponse`` parts (see
:mod:`botticelli_gemini._tools`); ``generationConfig`` comes from
:mod:`botticelli_gemini._generation`.

Responses: text parts are joined, ``thought`` parts become
:class:`~botticelli_core.ReasoningOutput` and function calls become
:class:`~botticelli_core.ToolCallOutput` with their ``thoughtSignature``, and an id
generated when Gemini sends none.
"""

from __future__ import annotations

from botticelli_core import (
    FinishReason,
    GenerateRequest,
    GenerateResponse,
    ModelInfo,
    Output,
    ReasoningOutput,
    Role,
    TextInput,
    TextOutput,
    ToolCallOutput,
    Usage,
)
from botticelli_core.content import Input, ToolCallInput, ToolResultInput
from botticelli_error import ContentBlockedError, ResponseDecodeError, UnsupportedInputError
from botticelli_gemini._generation import to_generation_config
from botticelli_gemini._tools import call_output, call_part, new_tool_call_id, result_part, to_tool_config, to_tools
from botticelli_gemini.config import PROVIDER
from botticelli_gemini.request import (
    WireBlob,
    WireContent,
    WireFileData,
    WireGenerateContentRequest,
    WirePart,
)
from botticelli_gemini.response import (
    WireCandidate,
    WireGenerateContentResponse,
    WireModel,
    WirePromptFeedback,
    WireUsageMetadata,
)
from botticelli_interface.capabilities import Feature, require_features

__all__ = [
    "check_blocked",
    "finish_reason",
    "new_tool_call_id",
    "to_model_info",
    "to_response",
    "to_usage",
    "to_wire_request",
]

SUPPORTED_FEATURES: frozenset[Feature] = frozenset({"tools", "output_schema", "thinking"})
"""The optional request features this backend honours (see :mod:`botticelli_interface.capabilities`).

Gemini's API has no per-request LoRA adapter, so ``adapter`` is refused."""

_FINISH_REASONS = {
    "STOP": FinishReason.STOP,
    "MAX_TOKENS": FinishReason.LENGTH,
    "SAFETY": FinishReason.CONTENT_FILTER,
    "RECITATION": FinishReason.CONTENT_FILTER,
    "BLOCKLIST": FinishReason.CONTENT_FILTER,
    "PROHIBITED_CONTENT": FinishReason.CONTENT_FILTER,
    "SPII": FinishReason.CONTENT_FILTER,
    "IMAGE_SAFETY": FinishReason.CONTENT_FILTER,
    "IMAGE_PROHIBITED_CONTENT": FinishReason.CONTENT_FILTER,
}
_ROLES = {Role.USER: "user", Role.ASSISTANT: "model"}


def to_wire_request(request: GenerateRequest, *, max_request_bytes: int) -> WireGenerateContentRequest:
    """The ``generateContent`` body for ``request``.

    Args:
        request: What to generate from.
        max_request_bytes: The API's size limit; inline media and text above it are refused.

    Raises:
        UnsupportedInputError: Media in a system message, a request with no user or
            assistant turn, a ``slot`` (``input_type="slot"``), or inline content over
            ``max_request_bytes``; nothing is sent.

    Example:
        >>> req = GenerateRequest.from_prompt("Hi", system="Be terse.", max_tokens=8)
        >>> wire = to_wire_request(req, max_request_bytes=20_000_000)
        >>> wire.system_instruction.parts[0].text, wire.contents[0].role
        ('Be terse.', 'user')
        >>> wire.generation_config.max_output_tokens
        8
    """
    require_features(request, SUPPORTED_FEATURES, provider=PROVIDER)
    if request.slot is not None:
        # Gemini serves from Google's fleet: there is no server slot to pin a request to.
        raise UnsupportedInputError(
            "Gemini has no server slots to run a request in; send it without slot",
            provider=PROVIDER,
            input_type="slot",
        )
    _check_size(request, max_request_bytes)
    system_parts: list[WirePart] = []
    contents: list[WireContent] = []
    # Results name their function through the call they answer (Gemini wants the name).
    names = {call.id: call.name for message in request.messages for call in message.tool_calls}
    for message in request.messages:
        if message.role is Role.TOOL:
            parts = [result_part(p, names) for p in message.content if isinstance(p, ToolResultInput)]
            previous = contents[-1] if contents else None
            if previous is not None and previous.parts and previous.parts[0].function_response is not None:
                # Parallel calls are answered together: consecutive tool messages are one turn.
                previous.parts.extend(parts)
            else:
                contents.append(WireContent(role="user", parts=parts))
            continue
        if message.role is Role.SYSTEM:
            for part in message.content:
                if not isinstance(part, TextInput):
                    raise UnsupportedInputError(
                        f"Gemini takes only text in a system instruction, not {part.type}",
                        provider=PROVIDER,
                        input_type=part.type,
                    )
                system_parts.append(WirePart(text=part.text))
            continue
        contents.append(WireContent(role=_ROLES[message.role], parts=[_to_part(p) for p in message.content]))
    if not contents:
        raise UnsupportedInputError(
            "Gemini needs at least one user or assistant message besides the system instruction",
            provider=PROVIDER,
            input_type="system",
        )
    return WireGenerateContentRequest(
        contents=contents,
        system_instruction=WireContent(parts=system_parts) if system_parts else None,
        generation_config=to_generation_config(request),
        tools=to_tools(request),
        tool_config=to_tool_config(request),
    )


def _to_part(part: Input) -> WirePart:
    if isinstance(part, TextInput):
        return WirePart(text=part.text)
    if isinstance(part, ToolCallInput):
        return call_part(part)
    if isinstance(part, ToolResultInput):  # pragma: no cover - Message keeps results in tool messages
        raise AssertionError("tool results are converted with their tool message")
    if part.source.url is not None:
        return WirePart(file_data=WireFileData(mime_type=part.mime, file_uri=part.source.url))
    return WirePart(inline_data=WireBlob(mime_type=part.mime, data=part.source.to_base64()))


def _check_size(request: GenerateRequest, limit: int) -> None:
    # Measured before base64-encoding anything, so a 100 MB video is refused cheaply.
    total = 0
    largest: Input | None = None
    largest_size = -1
    for message in request.messages:
        for part in message.content:
            if isinstance(part, TextInput):
                total += len(part.text)
                continue
            if isinstance(part, ToolResultInput):
                total += len(part.content)
                continue
            if isinstance(part, ToolCallInput):
                continue
            size = part.source.inline_size()
            total += size
            if size > largest_size:
                largest, largest_size = part, size
    if total > limit:
        kind = largest.type if largest is not None and largest_size > 0 else "text"
        raise UnsupportedInputError(
            f"the request's inline content is about {total:,} bytes, over Gemini's limit of {limit:,}; "
            "send large media by URL (fileData, e.g. an uploaded file's URI) instead of inline",
            provider=PROVIDER,
            input_type=kind,
        )


def finish_reason(value: str | None, *, has_tool_calls: bool = False) -> FinishReason:
    """Gemini's ``finishReason`` as a :class:`~botticelli_core.FinishReason`.

    Gemini ends a turn of function calls with ``STOP``; the calls themselves are what
    make it a tool-use finish.

    Example:
        >>> [finish_reason(r).value for r in ("MAX_TOKENS", "SPII", "LANGUAGE")]
        ['length', 'content_filter', 'other']
        >>> finish_reason("STOP", has_tool_calls=True)
        <FinishReason.TOOL_USE: 'tool_use'>
    """
    reason = _FINISH_REASONS.get(value or "", FinishReason.OTHER)
    if reason is FinishReason.STOP and has_tool_calls:
        return FinishReason.TOOL_USE
    return reason


def to_usage(usage: WireUsageMetadata) -> Usage:
    """Gemini's ``usageMetadata`` as :class:`~botticelli_core.Usage`, totals as reported.

    Example:
        >>> u = to_usage(WireUsageMetadata(prompt_token_count=83, candidates_token_count=30,
        ...                                thoughts_token_count=190, total_token_count=303))
        >>> u.input_tokens, u.output_tokens, u.reasoning_tokens, u.total_tokens
        (83, 30, 190, 303)
    """
    return Usage(
        input_tokens=usage.prompt_token_count,
        output_tokens=usage.candidates_token_count,
        reasoning_tokens=usage.thoughts_token_count,
        cached_tokens=usage.cached_content_token_count,
        total_tokens=usage.total_token_count if usage.total_token_count is not None else -1,
    )


def check_blocked(response: WireGenerateContentResponse, *, request_id: str | None = None) -> None:
    """Raise if the prompt was blocked: HTTP 200, no candidates, a ``blockReason``.

    Raises:
        ContentBlockedError: The prompt was blocked, with Google's reason.
    """
    if not response.candidates and response.prompt_feedback is not None:
        raise _blocked(response.prompt_feedback, request_id)


def _blocked(feedback: WirePromptFeedback, request_id: str | None) -> ContentBlockedError:
    reason = feedback.block_reason or "BLOCK_REASON_UNSPECIFIED"
    detail = f": {feedback.block_reason_message}" if feedback.block_reason_message else ""
    return ContentBlockedError(
        f"Gemini blocked the prompt ({reason}){detail}",
        provider=PROVIDER,
        reason=reason,
        error_type=reason,
        server_message=feedback.block_reason_message,
        request_id=request_id,
    )


def to_response(response: WireGenerateContentResponse, *, request_id: str | None = None) -> GenerateResponse:
    """A whole ``generateContent`` answer as a :class:`~botticelli_core.GenerateResponse`.

    Raises:
        ContentBlockedError: The prompt was blocked (no candidates, a ``blockReason``).
        ResponseDecodeError: The answer has no candidate and no reason why.

    Example:
        >>> from botticelli_gemini.response import parse_generate_response
        >>> wire = parse_generate_response(
        ...     b'{"candidates": [{"content": {"role": "model", "parts": ['
        ...     b'{"text": "Let me think.", "thought": true}, {"text": "Paris"}, {"text": "."}]},'
        ...     b' "finishReason": "STOP"}]}')
        >>> resp = to_response(wire)
        >>> resp.reasoning, resp.text, resp.finish_reason.value
        ('Let me think.', 'Paris.', 'stop')
    """
    check_blocked(response, request_id=request_id)
    if not response.candidates:
        raise ResponseDecodeError(
            "Gemini answered with no candidate and no block reason",
            provider=PROVIDER,
            request_id=request_id,
        )
    candidate = response.candidates[0]
    outputs = _outputs(candidate)
    has_calls = any(isinstance(o, ToolCallOutput) for o in outputs)
    return GenerateResponse(
        outputs=outputs,
        finish_reason=finish_reason(candidate.finish_reason, has_tool_calls=has_calls),
        usage=to_usage(response.usage_metadata) if response.usage_metadata is not None else None,
        model=response.model_version,
        response_id=response.response_id,
    )


def _outputs(candidate: WireCandidate) -> tuple[Output, ...]:
    if candidate.content is None:
        return ()
    outputs: list[Output] = []
    for part in candidate.content.parts:
        if part.function_call is not None:
            outputs.append(call_output(part.function_call, part.thought_signature))
        elif part.text is not None:
            _append_text(outputs, part.text, thought=bool(part.thought))
    return tuple(outputs)


def _append_text(outputs: list[Output], text: str, *, thought: bool) -> None:
    # Consecutive parts of one kind are one output: Gemini splits text arbitrarily.
    kind = ReasoningOutput if thought else TextOutput
    if outputs and type(last := outputs[-1]) is kind:
        assert isinstance(last, TextOutput | ReasoningOutput)
        outputs[-1] = kind(text=last.text + text)
    else:
        outputs.append(kind(text=text))


def to_model_info(model: WireModel) -> ModelInfo:
    """One ``models`` entry as :class:`~botticelli_core.ModelInfo` (id without ``models/``).

    Example:
        >>> to_model_info(WireModel(name="models/gemini-2.5-flash", input_token_limit=1048576)).id
        'gemini-2.5-flash'
    """
    details = model.model_dump(exclude_none=True, exclude={"name", "input_token_limit"})
    return ModelInfo(
        id=model.name.removeprefix("models/"),
        owned_by="google",
        context_length=model.input_token_limit,
        details=details,
    )
