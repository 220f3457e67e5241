"""Tools on the OpenAI wire: declarations, the choice, calls in the history, results, parsed calls.

Pure mapping, no I/O. Arguments travel as a JSON string; a reply whose arguments are not a
JSON object keeps the text in ``raw_arguments`` rather than failing the call, because small
local models write such arguments often.
"""

from __future__ import annotations

import json
from typing import Any

from botticelli_core import GenerateRequest, Message, ToolCallOutput
from botticelli_core.content import TextInput, ToolCallInput, ToolResultInput
from botticelli_core.tools import TOOL_CHOICE_MODES
from botticelli_error import UnsupportedInputError
from botticelli_server.config import PROVIDER
from botticelli_server.dialect import Dialect
from botticelli_server.request import ChatMessage
from botticelli_server.response import ToolCall

__all__ = ["parse_arguments", "tool_call_output", "tool_fields", "tool_messages"]


def tool_fields(request: GenerateRequest, dialect: Dialect) -> dict[str, Any]:
    """The ``tools`` and ``tool_choice`` fields of ``request``, or ``{}`` when it declares none.

    A tool's name as the choice becomes ``{"type": "function", "function": {"name": ...}}``.

    Raises:
        UnsupportedInputError: The dialect cannot force a call (Ollama has no ``tool_choice``)
            and the request asks for ``"required"`` or a named tool; ``input_type`` is ``"tools"``.

    Examples:
        >>> from botticelli_core import ToolDefinition
        >>> from botticelli_server.dialect import get_dialect
        >>> req = GenerateRequest.from_prompt("Hi", tools=[ToolDefinition(name="now")], tool_choice="now")
        >>> tool_fields(req, get_dialect("openai"))["tool_choice"]
        {'type': 'function', 'function': {'name': 'now'}}
    """
    if not request.tools:
        return {}
    choice = request.tool_choice
    if choice is not None and choice not in ("auto", "none") and not dialect.forced_tool_choice:
        raise UnsupportedInputError(
            f"the {dialect.name} server cannot force a tool call (tool_choice={choice!r}); "
            'use tool_choice="auto", or a server that takes tool_choice',
            provider=PROVIDER,
            input_type="tools",
        )
    fields: dict[str, Any] = {
        "tools": [
            {
                "type": "function",
                "function": {"name": tool.name, "parameters": tool.parameters}
                | ({"description": tool.description} if tool.description else {}),
            }
            for tool in request.tools
        ]
    }
    if choice is not None and dialect.forced_tool_choice:
        fields["tool_choice"] = (
            choice if choice in TOOL_CHOICE_MODES else {"type": "function", "function": {"name": choice}}
        )
    elif choice == "none":
        # A server without tool_choice calls no tool when it is offered none.
        del fields["tools"]
    return fields


def tool_messages(message: Message) -> list[ChatMessage]:
    """The wire messages of an assistant turn with tool calls, or of a ``tool`` message.

    An assistant turn keeps its text as ``content`` beside ``tool_calls`` (``""`` when it has
    none: llama-cpp-python's chat templates read ``content`` and fail when it is missing); each
    tool result becomes its own ``{"role": "tool", "tool_call_id", "content"}`` message.

    Examples:
        >>> [m.model_dump(exclude_none=True) for m in tool_messages(Message.tool_result("call_1", "5"))]
        [{'role': 'tool', 'content': '5', 'tool_call_id': 'call_1'}]
    """
    results = [part for part in message.content if isinstance(part, ToolResultInput)]
    if results:
        return [ChatMessage(role="tool", content=r.content, tool_call_id=r.tool_call_id) for r in results]
    calls = [
        {
            "id": part.id,
            "type": "function",
            "function": {"name": part.name, "arguments": json.dumps(part.arguments, ensure_ascii=False)},
        }
        for part in message.content
        if isinstance(part, ToolCallInput)
    ]
    text = "".join(part.text for part in message.content if isinstance(part, TextInput))
    return [ChatMessage(role=message.role.value, content=text, tool_calls=calls)]


def parse_arguments(raw: str | dict[str, Any] | None) -> tuple[dict[str, Any], str | None]:
    """A call's arguments as an object, and the raw text when they were not a JSON object.

    Examples:
        >>> parse_arguments('{"city": "Oslo"}')
        ({'city': 'Oslo'}, None)
        >>> parse_arguments('Oslo, please')
        ({}, 'Oslo, please')
        >>> parse_arguments(None)
        ({}, None)
    """
    if isinstance(raw, dict):
        return raw, None
    if not raw or not raw.strip():
        return {}, None
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError):
        parsed = None
    if isinstance(parsed, dict):
        return parsed, None
    return {}, raw


def tool_call_output(call: ToolCall, position: int) -> ToolCallOutput:
    """A wire tool call as a :class:`ToolCallOutput`; a missing id becomes ``call_<position>``."""
    function = call.function
    arguments, raw = parse_arguments(function.arguments if function else None)
    return ToolCallOutput(
        id=call.id or f"call_{position}",
        name=function.name if function and function.name else "",
        arguments=arguments,
        raw_arguments=raw,
    )
