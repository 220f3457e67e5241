"""Tools on the OpenAI wire: declarations, the choice, calls in the history, results, parsed calls.

Pure mapping, no I/O. Arguments travel as a JSON string, read leniently (raw control
characters inside strings are taken as they are). A reply whose arguments are still not a
JSON object has ``arguments`` ``None`` and keeps the text in ``raw_arguments`` rather than
failing the call, because small local models write such arguments often; replayed in the
history, that text goes back to the server unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from botticelli_core import GenerateRequest, Message, ToolCallOutput
from botticelli_core.content import TextInput, ToolCallInput, ToolResultInput
from botticelli_core.tools import TOOL_CHOICE_MODES
from botticelli_error import UnsupportedInputError
from botticelli_server.config import PROVIDER
from botticelli_server.dialect import Dialect, ToolChoiceKind
from botticelli_server.request import ChatMessage
from botticelli_server.response import ToolCall

__all__ = [
    "arguments_cut_off",
    "calls_cut_off",
    "parse_arguments",
    "result_content",
    "tool_call_output",
    "tool_fields",
    "tool_messages",
]

_KINDS: dict[str, ToolChoiceKind] = {"auto": "auto", "none": "none", "required": "required"}
"""The kind of each mode; any other choice is a tool's name."""
_KINDS_IN_ORDER: tuple[ToolChoiceKind, ...] = ("auto", "none", "required", "named")
_SPOKEN: dict[ToolChoiceKind, str] = {"auto": "auto", "none": "none", "required": "required", "named": "a tool's name"}


def tool_fields(request: GenerateRequest, dialect: Dialect) -> dict[str, Any]:
    """The ``tools`` and ``tool_choice`` fields of ``request``, or ``{}`` when it declares none.

    A tool's name as the choice becomes ``{"type": "function", "function": {"name": ...}}``.
    An unset choice is ``"auto"``: it is sent where the server must be told
    (:attr:`Dialect.auto_tool_choice <botticelli_server.dialect.Dialect.auto_tool_choice>`).
    A choice the server's ``tool_choice`` does not take is sent as its exact equivalent
    where there is one, and refused otherwise:

    - ``"none"`` on a server without ``tool_choice`` (Ollama): no tools are offered;
    - ``"required"`` with a single tool, where only names are taken (llama-cpp-python):
      that tool by name;
    - a tool's name where only the modes are taken (llama.cpp): that tool alone, ``"required"``.

    Raises:
        UnsupportedInputError: ``input_type="tools"``: the server cannot take the choice
            (``"required"`` or a name on Ollama; ``"required"`` among several tools on
            llama-cpp-python).

    Examples:
        >>> from botticelli_core import ToolDefinition
        >>> from botticelli_server.dialect import get_dialect
        >>> req = GenerateRequest.from_prompt("Hi", tools=[ToolDefinition(name="now")], tool_choice="now")
        >>> tool_fields(req, get_dialect("openai"))["tool_choice"]
        {'type': 'function', 'function': {'name': 'now'}}
        >>> tool_fields(req, get_dialect("llama.cpp"))["tool_choice"]
        'required'
        >>> unset = GenerateRequest.from_prompt("Hi", tools=[ToolDefinition(name="now")])
        >>> tool_fields(unset, get_dialect("llama-cpp-python"))["tool_choice"]
        'auto'
    """
    if not request.tools:
        return {}
    tools = [
        {
            "type": "function",
            "function": {"name": tool.name, "parameters": tool.parameters}
            | ({"description": tool.description} if tool.description else {}),
        }
        for tool in request.tools
    ]
    choice = request.tool_choice
    if choice is None:
        return {"tools": tools, "tool_choice": "auto"} if dialect.auto_tool_choice else {"tools": tools}
    kind = _KINDS.get(choice, "named")
    if kind in dialect.tool_choices:
        return {"tools": tools, "tool_choice": _wire_choice(choice)}
    return _equivalent(tools, choice, kind, dialect)


def _equivalent(tools: list[dict[str, Any]], choice: str, kind: ToolChoiceKind, dialect: Dialect) -> dict[str, Any]:
    """The fields that mean ``choice`` on a server whose ``tool_choice`` does not take its kind."""
    takes = dialect.tool_choices
    if kind == "auto":
        # A server without tool_choice offers the tools to the model to call or not: that is "auto".
        return {"tools": tools}
    if kind == "none":
        # A server without tool_choice calls no tool when it is offered none.
        return {}
    if kind == "required" and "named" in takes and len(tools) == 1:
        # A call is required and there is one tool to call: the same as naming it.
        return {"tools": tools, "tool_choice": _wire_choice(tools[0]["function"]["name"])}
    if kind == "named" and "required" in takes:
        # Only the named tool offered, and a call required: the model must call that tool.
        return {"tools": [t for t in tools if t["function"]["name"] == choice], "tool_choice": "required"}
    raise UnsupportedInputError(_refusal(dialect, choice, kind), provider=PROVIDER, input_type="tools")


def _wire_choice(choice: str) -> str | dict[str, Any]:
    return choice if choice in TOOL_CHOICE_MODES else {"type": "function", "function": {"name": choice}}


def _refusal(dialect: Dialect, choice: str, kind: ToolChoiceKind) -> str:
    if not dialect.tool_choices:
        return (
            f"the {dialect.name} server has no tool_choice and cannot force a tool call "
            f'(tool_choice={choice!r}); use tool_choice="auto", or a server that takes tool_choice'
        )
    spoken = [_SPOKEN[k] for k in _KINDS_IN_ORDER if k in dialect.tool_choices]
    takes = " or ".join(spoken) if len(spoken) < 3 else f"{', '.join(spoken[:-1])} or {spoken[-1]}"
    advice = "name the tool to call" if "named" in dialect.tool_choices else "choose one of those"
    return f"the {dialect.name} server's tool_choice takes {takes}, not {choice!r}; {advice}"


def tool_messages(message: Message) -> list[ChatMessage]:
    """The wire messages of an assistant turn with tool calls, or of a ``tool`` message.

    An assistant turn keeps its text as ``content`` beside ``tool_calls`` (``""`` when it has
    none: llama-cpp-python's chat templates read ``content`` and fail when it is missing); each
    tool result becomes its own ``{"role": "tool", "tool_call_id", "content"}`` message, its
    ``content`` as :func:`result_content` writes it.

    Examples:
        >>> [m.model_dump(exclude_none=True) for m in tool_messages(Message.tool_result("call_1", "5"))]
        [{'role': 'tool', 'content': '5', 'tool_call_id': 'call_1'}]
    """
    results = [part for part in message.content if isinstance(part, ToolResultInput)]
    if results:
        return [ChatMessage(role="tool", content=result_content(r), tool_call_id=r.tool_call_id) for r in results]
    calls = [
        {
            "id": part.id,
            "type": "function",
            "function": {
                "name": part.name,
                "arguments": part.raw_arguments
                if part.raw_arguments is not None
                else json.dumps(part.arguments, ensure_ascii=False),
            },
        }
        for part in message.content
        if isinstance(part, ToolCallInput)
    ]
    text = "".join(part.text for part in message.content if isinstance(part, TextInput))
    return [ChatMessage(role=message.role.value, content=text, tool_calls=calls)]


def result_content(result: ToolResultInput) -> str:
    """The ``content`` a tool result is sent as: its text, or ``{"error": ...}`` when the call failed.

    The OpenAI wire has no flag for a failed call, so ``is_error`` is carried where the model
    reads it, in the content, under the key Gemini uses for the same thing: ``"error"``, whose
    value is the content, as JSON when it is a JSON object or array and as text otherwise.

    Examples:
        >>> result_content(ToolResultInput(tool_call_id="c1", content="sunny"))
        'sunny'
        >>> result_content(ToolResultInput(tool_call_id="c1", content="no such city", is_error=True))
        '{"error": "no such city"}'
        >>> result_content(ToolResultInput(tool_call_id="c1", content='{"code": 404}', is_error=True))
        '{"error": {"code": 404}}'
    """
    if not result.is_error:
        return result.content
    value: Any
    try:
        value = json.loads(result.content)
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, dict | list):
        # Text stays the text it was: "5" or "NaN" parsed would not read back the same.
        value = result.content
    return json.dumps({"error": value}, ensure_ascii=False)


def arguments_cut_off(raw: str | None) -> bool:
    """Whether a call's argument text is JSON that stops before it closes: an answer cut off.

    ``raw`` is :attr:`ToolCallOutput.raw_arguments <botticelli_core.ToolCallOutput.raw_arguments>`,
    the text of arguments that did not parse as an object. Text that opens an object or an
    array and ends inside a string or with a bracket still open was stopped mid-call (by
    ``max_tokens``, say), whatever finish reason the server gave: llama-cpp-python says
    ``tool_calls`` even then.

    Examples:
        >>> arguments_cut_off('{"a": 4, "b"'), arguments_cut_off('{"city": "Os')
        (True, True)
        >>> arguments_cut_off("Oslo, please"), arguments_cut_off("[1, 2]"), arguments_cut_off(None)
        (False, False, False)
    """
    if raw is None:
        return False
    text = raw.lstrip()
    if not text.startswith(("{", "[")):
        return False
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth == 0:
                return False  # the outer value closed: what is wrong with it is not a cut
    return True


def calls_cut_off(calls: Iterable[ToolCallOutput]) -> bool:
    """Whether any of ``calls`` has arguments that were cut off (see :func:`arguments_cut_off`)."""
    return any(arguments_cut_off(call.raw_arguments) for call in calls)


def parse_arguments(raw: str | dict[str, Any] | None) -> tuple[dict[str, Any] | None, str | None]:
    r"""A call's arguments as an object, or ``None`` and the raw text when they are not one.

    No text at all is a call without arguments. Control characters inside strings are read
    as they are (``json.loads(strict=False)``): llama.cpp's grammar lets a small model
    write them raw, and the value is still plainly what the model meant.

    Examples:
        >>> parse_arguments('{"city": "Oslo"}')
        ({'city': 'Oslo'}, None)
        >>> parse_arguments('{"city": "Os\tlo"}')
        ({'city': 'Os\tlo'}, None)
        >>> parse_arguments('Oslo, please')
        (None, 'Oslo, please')
        >>> parse_arguments(None), parse_arguments("")
        (({}, None), ({}, None))
    """
    if isinstance(raw, dict):
        return raw, None
    if not raw or not raw.strip():
        return {}, None
    try:
        parsed = json.loads(raw, strict=False)
    except (ValueError, RecursionError):
        parsed = None
    if isinstance(parsed, dict):
        return parsed, None
    return None, raw


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
