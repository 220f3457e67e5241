"""A non-streamed completion read straight into a :class:`~botticelli_core.GenerateResponse`.

``generate`` does not build :class:`~botticelli_server.response.ChatCompletionResponse`: it
validates the body as :class:`CompletionView`, typed dicts with the same fields and types
as those models, which pydantic-core fills without creating a model per object. A body the
view refuses is parsed again as the full model, so that the error raised is exactly the one
:func:`~botticelli_core._base.parse_wire` makes of it (and a body the view refused wrongly
would still be read).

The neutral response is then built from values pydantic has just validated, without
validating them a second time (:func:`_trusted`): on this path that second pass was a
third of botticelli's own cost per request (see docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError
from typing_extensions import TypedDict

from botticelli_core import FinishReason, GenerateResponse, ReasoningOutput, TextOutput, ToolCallOutput, Usage
from botticelli_core._base import parse_wire
from botticelli_core._trusted import trusted
from botticelli_core.output import Output
from botticelli_error import ResponseDecodeError
from botticelli_interface.request_log import RequestLog
from botticelli_server.config import PROVIDER
from botticelli_server.response import ChatCompletionResponse, ToolCall, UsageInfo

__all__ = [
    "CompletionView",
    "cached_tokens",
    "neutral_response",
    "no_choices",
    "read_completion",
    "record_completion",
    "timings_of",
    "usage_from_counts",
    "usage_from_wire",
]


class _MessageView(TypedDict, total=False):
    role: str | None
    content: str | None
    reasoning_content: str | None
    reasoning: str | None
    tool_calls: list[ToolCall] | None
    refusal: str | None


class _ChoiceView(TypedDict, total=False):
    index: int
    message: _MessageView | None
    finish_reason: str | None


# Only the counts botticelli reads: of llama-server's dozen timings no other becomes a Python
# object. Any: an odd count means "not reported", never an unreadable reply. A details or
# timings member that is not an object makes the view refuse the body, which is then read
# through the wire model (where both are extras of any shape) to the same result.
class _PromptDetailsView(TypedDict, total=False):
    cached_tokens: Any


class _TimingsView(TypedDict, total=False):
    cache_n: Any


class _UsageView(TypedDict, total=False):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int | None
    completion_tokens_details: dict[str, Any] | None
    prompt_tokens_details: _PromptDetailsView | None


class CompletionView(TypedDict, total=False):
    """A non-streamed completion as plain dicts: the fields and types of ``ChatCompletionResponse``.

    Unknown keys (``system_fingerprint``, ``logprobs``, all of llama-server's ``timings``
    but ``cache_n``) are skipped without creating Python objects for them.
    """

    id: str | None
    object: str | None
    created: int | float | None
    model: str | None
    choices: list[_ChoiceView] | None
    usage: _UsageView | None
    timings: _TimingsView | None


def _view_parser() -> Callable[[bytes], CompletionView]:
    # The core validator itself: the TypeAdapter method around it costs a call per request.
    parse: Callable[[bytes], CompletionView] = TypeAdapter(CompletionView).validator.validate_json
    return parse


_parse_view = _view_parser()

_USAGE_GIVEN = frozenset({"input_tokens", "output_tokens", "total_tokens", "reasoning_tokens", "cached_tokens"})
_RESPONSE_GIVEN = frozenset({"outputs", "finish_reason", "usage", "model", "response_id"})
_TEXT_GIVEN = frozenset({"text"})


def _count(value: object) -> int | None:
    # A bool is an int to Python, but a server that writes true has counted nothing.
    return int(value) if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def cached_tokens(prompt_details: object, timings: object) -> int | None:
    """The prompt tokens a server says it served from its prompt cache; ``None`` when it does not say.

    OpenAI's ``usage.prompt_tokens_details.cached_tokens`` (vLLM, newer llama-server) wins;
    else llama-server's ``timings.cache_n`` (every build reports it, older ones only there).
    Both count tokens of the prompt, so the number is part of ``prompt_tokens``. A value
    that is not a count (missing, negative, a string) is no report at all.

    Examples:
        >>> cached_tokens({"cached_tokens": 12}, {"cache_n": 3})
        12
        >>> cached_tokens(None, {"cache_n": 3, "prompt_n": 5})
        3
        >>> cached_tokens({"cached_tokens": None}, "n/a") is None
        True
    """
    if isinstance(prompt_details, dict):
        found = _count(prompt_details.get("cached_tokens"))
        if found is not None:
            return found
    if isinstance(timings, dict):
        return _count(timings.get("cache_n"))
    return None


def usage_from_counts(
    prompt: int, completion: int, total: int | None, details: dict[str, Any] | None, cached: int | None = None
) -> Usage:
    """Token counts in botticelli's terms, from the wire's (validated) ``usage`` fields.

    Negative counts become 0, a missing or negative total is computed, and a
    ``reasoning_tokens`` detail is kept when it is a count. ``cached`` is
    :func:`cached_tokens`' reading of the reply.

    Examples:
        >>> usage_from_counts(5, 3, None, {"reasoning_tokens": 2}, cached=4)
        Usage(input_tokens=5, output_tokens=3, total_tokens=10, reasoning_tokens=2, cached_tokens=4)
    """
    reasoning = (details or {}).get("reasoning_tokens")
    usage = trusted(
        Usage,
        {
            "input_tokens": max(prompt, 0),
            "output_tokens": max(completion, 0),
            "total_tokens": total if total is not None and total >= 0 else -1,
            # int(): True is an int too, and Usage's validator would have made it 1.
            "reasoning_tokens": int(reasoning) if isinstance(reasoning, int) and reasoning >= 0 else None,
            "cached_tokens": cached,
        },
        set(_USAGE_GIVEN),
    )
    usage.model_post_init(None)
    return usage


def timings_of(response: ChatCompletionResponse) -> object:
    """llama-server's ``timings`` on a completion (an extra of the wire model); ``None`` elsewhere."""
    return (response.model_extra or {}).get("timings")


def usage_from_wire(usage: UsageInfo, timings: object = None) -> Usage:
    """Token counts in botticelli's terms (``prompt`` -> input, ``completion`` -> output).

    ``timings`` is the reply's top-level ``timings`` (llama-server), read for the cached count.
    """
    return usage_from_counts(
        usage.prompt_tokens,
        usage.completion_tokens,
        usage.total_tokens,
        usage.completion_tokens_details,
        cached_tokens((usage.model_extra or {}).get("prompt_tokens_details"), timings),
    )


def record_completion(entry: RequestLog, response: ChatCompletionResponse) -> None:
    """Give the request log a whole completion's facts: the model that answered, its finish reason, usage."""
    entry.response_model = response.model
    if response.choices:
        entry.finish_reason = response.choices[0].finish_reason
    if response.usage is not None:
        entry.usage = usage_from_wire(response.usage, timings_of(response))


def neutral_response(
    *,
    content: str | None,
    reasoning: str | None,
    calls: Sequence[Output],
    finish_reason: FinishReason,
    usage: Usage | None,
    model: str | None,
    response_id: str | None,
) -> GenerateResponse:
    """The :class:`GenerateResponse` of one choice's validated parts: reasoning, text, then tool calls."""
    outputs: list[Output] = []
    if reasoning:
        outputs.append(trusted(ReasoningOutput, {"type": "reasoning", "text": reasoning}, set(_TEXT_GIVEN)))
    if content:
        outputs.append(trusted(TextOutput, {"type": "text", "text": content}, set(_TEXT_GIVEN)))
    outputs.extend(calls)
    values = {
        "outputs": tuple(outputs),
        "finish_reason": finish_reason,
        "usage": usage,
        "model": model,
        "response_id": response_id,
    }
    return trusted(GenerateResponse, values, set(_RESPONSE_GIVEN))


@cache
def _helpers() -> tuple[
    Callable[[str | None, bool, bool], FinishReason],
    Callable[[ToolCall, int], ToolCallOutput],
    Callable[[Iterable[ToolCallOutput]], bool],
]:
    # Looked up once: convert imports this module, and an import statement per request costs
    # more than the rest of reading the reply's usage.
    from botticelli_server.convert import finish_reason_with_calls  # noqa: PLC0415
    from botticelli_server.tools import calls_cut_off, tool_call_output  # noqa: PLC0415

    return finish_reason_with_calls, tool_call_output, calls_cut_off


def no_choices() -> ResponseDecodeError:
    """The error of a completion without a choice or a message to read."""
    return ResponseDecodeError("the server's completion has no choices", provider=PROVIDER)


def read_completion(body: bytes, entry: RequestLog) -> GenerateResponse:
    """The first choice of a completion's body as a :class:`GenerateResponse`; the log gets its facts.

    Raises:
        ResponseDecodeError: The body is not a chat completion, or it has no choice or no message.
    """
    view: CompletionView | None
    try:
        view = _parse_view(body)
    except (ValidationError, RecursionError):
        view = None
    if view is None:
        # Outside the except block, so that pydantic's exception, which quotes the body (an
        # API key the server echoed too), is not the __context__ of the error parse_wire raises.
        return _read_refused(body, entry)
    model = view.get("model")
    entry.response_model = model
    wire_usage = view.get("usage")
    usage = None
    if wire_usage is not None:
        usage = entry.usage = usage_from_counts(
            wire_usage.get("prompt_tokens", 0),
            wire_usage.get("completion_tokens", 0),
            wire_usage.get("total_tokens"),
            wire_usage.get("completion_tokens_details"),
            # A reply without a cache report (most servers') costs a call and two lookups here.
            cached_tokens(wire_usage.get("prompt_tokens_details"), view.get("timings")),
        )
    finish_reason_with_calls, tool_call_output, calls_cut_off = _helpers()
    choices = view.get("choices")
    if not choices:
        raise no_choices()
    choice = choices[0]
    reason = entry.finish_reason = choice.get("finish_reason")
    message = choice.get("message")
    if message is None:
        raise no_choices()
    calls = [tool_call_output(call, i) for i, call in enumerate(message.get("tool_calls") or ())]
    return neutral_response(
        content=message.get("content"),
        reasoning=message.get("reasoning_content") or message.get("reasoning"),
        calls=calls,
        finish_reason=finish_reason_with_calls(reason, bool(calls), bool(calls) and calls_cut_off(calls)),
        usage=usage,
        model=model,
        response_id=view.get("id"),
    )


def _read_refused(body: bytes, entry: RequestLog) -> GenerateResponse:
    """A body the view refused, read as the full model: the error parse_wire makes of it, or the answer."""
    from botticelli_server.convert import from_chat_response  # noqa: PLC0415

    response = parse_wire(ChatCompletionResponse, body, provider=PROVIDER, what="chat completion")
    record_completion(entry, response)
    return from_chat_response(response)
