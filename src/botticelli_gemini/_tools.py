"""Tools on Gemini's wire: declarations, ``toolConfig``, and calls and results in the history.

Pure functions; no I/O. The mapping (see docs/tools-backends.md):

* ``GenerateRequest.tools`` become one ``tools[]`` entry of ``functionDeclarations``, each
  with its arguments as ``parametersJsonSchema``: full JSON Schema, as botticelli's
  :class:`~botticelli_core.ToolDefinition` holds it (``$defs``, ``anyOf``...), where the
  older ``parameters`` field takes only Google's OpenAPI subset.
* ``tool_choice``: ``auto`` -> ``AUTO``, ``none`` -> ``NONE``, ``required`` -> ``ANY``, and
  a tool's name -> ``ANY`` with ``allowedFunctionNames: [name]``.
* An assistant's :class:`~botticelli_core.ToolCallInput` is a ``functionCall`` part carrying
  its ``thoughtSignature``; a :class:`~botticelli_core.ToolResultInput` is a
  ``functionResponse`` part, sent in a ``user`` turn.
* Gemini's ``functionCall`` parts come back as :class:`~botticelli_core.ToolCallOutput`,
  keeping Gemini's ``id`` when it sends one and generating one otherwise.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

from botticelli_core import GenerateRequest, ToolCallInput, ToolCallOutput, ToolResultInput
from botticelli_error import UnsupportedInputError
from botticelli_gemini.config import PROVIDER
from botticelli_gemini.request import (
    WireFunctionCallingConfig,
    WireFunctionCallPart,
    WireFunctionDeclaration,
    WireFunctionResponse,
    WirePart,
    WireTool,
    WireToolConfig,
)
from botticelli_gemini.response import WireFunctionCall

__all__ = [
    "call_output",
    "call_part",
    "new_tool_call_id",
    "result_part",
    "to_tool_config",
    "to_tools",
]

_MODES = {"auto": "AUTO", "none": "NONE", "required": "ANY"}
# The ids botticelli makes up when Gemini sends none. They are never sent back: Gemini
# matches a response to its call by name and order when there is no id of its own.
_GENERATED = re.compile(r"^call_[0-9a-f]{24}$")


def new_tool_call_id() -> str:
    """A fresh id for a function call that came without Gemini's own ``id``.

    Example:
        >>> new_tool_call_id().startswith("call_")
        True
    """
    return f"call_{uuid.uuid4().hex[:24]}"


def _wire_id(call_id: str) -> str | None:
    return None if _GENERATED.match(call_id) else call_id


def to_tools(request: GenerateRequest) -> list[WireTool] | None:
    """The ``tools`` of the request body, or ``None`` without tools.

    Example:
        >>> from botticelli_core import ToolDefinition
        >>> tool = ToolDefinition(name="now", description="The time.")
        >>> to_tools(GenerateRequest.from_prompt("Hi", tools=[tool]))[0].function_declarations[0].name
        'now'
    """
    if not request.tools:
        return None
    declarations = [
        WireFunctionDeclaration(name=t.name, description=t.description, parameters_json_schema=t.parameters)
        for t in request.tools
    ]
    return [WireTool(function_declarations=declarations)]


def to_tool_config(request: GenerateRequest) -> WireToolConfig | None:
    """``toolConfig.functionCallingConfig`` for ``tool_choice``; ``None`` leaves Gemini's default (AUTO).

    Example:
        >>> from botticelli_core import ToolDefinition
        >>> req = GenerateRequest.from_prompt("Hi", tools=[ToolDefinition(name="now")], tool_choice="now")
        >>> config = to_tool_config(req).function_calling_config
        >>> config.mode, config.allowed_function_names
        ('ANY', ['now'])
    """
    choice = request.tool_choice
    if choice is None or not request.tools:
        # Without declarations there is nothing to configure; "none" is then already true.
        return None
    mode = _MODES.get(choice)
    if mode is not None:
        return WireToolConfig(function_calling_config=WireFunctionCallingConfig(mode=mode))
    return WireToolConfig(
        function_calling_config=WireFunctionCallingConfig(mode="ANY", allowed_function_names=[choice])
    )


def call_part(call: ToolCallInput) -> WirePart:
    """An earlier call of the model, as the ``functionCall`` part of a ``model`` turn.

    Example:
        >>> part = call_part(ToolCallInput(id="fc-1", name="now", arguments={}, signature="c2ln"))
        >>> part.function_call.id, part.thought_signature
        ('fc-1', 'c2ln')
    """
    return WirePart(
        function_call=WireFunctionCallPart(name=call.name, args=call.arguments, id=_wire_id(call.id)),
        thought_signature=call.signature,
    )


def result_part(result: ToolResultInput, names: Mapping[str, str]) -> WirePart:
    """A tool's result as a ``functionResponse`` part.

    Gemini wants the function's name: ``result.name``, or else the name of the call with
    that id earlier in the history (``names``). The ``response`` must be a JSON object: a
    result that is one is sent as it is; any other result is wrapped as ``{"result": ...}``
    (its JSON value, or the text when it is not JSON), and a failed tool's as ``{"error": ...}``.

    Raises:
        UnsupportedInputError: Neither the result nor the history names the function
            (``input_type="tools"``).

    Examples:
        >>> result = ToolResultInput(tool_call_id="fc-1", content='{"t": "12:00"}')
        >>> result_part(result, {"fc-1": "now"}).function_response
        WireFunctionResponse(name='now', response={'t': '12:00'}, id='fc-1')
        >>> result_part(ToolResultInput(tool_call_id="fc-1", content="noon", name="now"), {}).function_response.response
        {'result': 'noon'}
    """
    name = result.name or names.get(result.tool_call_id)
    if name is None:
        raise UnsupportedInputError(
            f"Gemini needs the function name of tool result {result.tool_call_id!r}: pass name= to "
            "Message.tool_result, or keep the assistant turn with that call in the history",
            provider=PROVIDER,
            input_type="tools",
        )
    return WirePart(
        function_response=WireFunctionResponse(
            name=name, response=_response_object(result), id=_wire_id(result.tool_call_id)
        )
    )


def _response_object(result: ToolResultInput) -> dict[str, Any]:
    try:
        value: Any = json.loads(result.content)
    except ValueError:
        value = result.content
    if result.is_error:
        # Google's convention: an "error" key tells the model the call failed.
        return {"error": value}
    if isinstance(value, dict):
        return value
    return {"result": value}


def call_output(call: WireFunctionCall, signature: str | None) -> ToolCallOutput:
    """Gemini's ``functionCall`` as a :class:`~botticelli_core.ToolCallOutput`.

    Arguments that are not a JSON object leave ``arguments`` ``None`` and are kept, as JSON,
    in ``raw_arguments``; no ``args`` at all is a call without arguments.

    Examples:
        >>> out = call_output(WireFunctionCall(name="now", args=None, id="fc-9"), "c2ln")
        >>> out.id, out.arguments, out.signature
        ('fc-9', {}, 'c2ln')
        >>> out = call_output(WireFunctionCall(name="now", args=["utc"]), None)
        >>> out.arguments, out.raw_arguments
        (None, '["utc"]')
    """
    args = call.args
    arguments: dict[str, Any] | None = args if isinstance(args, dict) else None if args is not None else {}
    raw = None if args is None or isinstance(args, dict) else json.dumps(args, ensure_ascii=False)
    return ToolCallOutput(
        id=call.id or new_tool_call_id(),
        name=call.name,
        arguments=arguments,
        raw_arguments=raw,
        signature=signature,
    )
