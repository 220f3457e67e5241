"""The wire fields of a request's optional features, spelled the way the server's dialect says.

:func:`feature_fields` is the one place that reads a :class:`~botticelli_server.dialect.Dialect`:
tools (through :mod:`botticelli_server.tools`), ``output_schema`` and ``thinking``. A request
that uses none of them costs one attribute check per feature.
"""

from __future__ import annotations

from typing import Any

from botticelli_core import GenerateRequest, ThinkingConfig
from botticelli_error import UnsupportedInputError
from botticelli_server.config import PROVIDER
from botticelli_server.dialect import Dialect
from botticelli_server.tools import tool_fields

__all__ = ["feature_fields", "schema_fields", "thinking_fields"]


def feature_fields(request: GenerateRequest, dialect: Dialect) -> dict[str, Any]:
    """Every extra body field ``request``'s tools, schema and thinking need on this server.

    Raises:
        UnsupportedInputError: An option the dialect cannot express; ``input_type`` names it.

    Examples:
        >>> from botticelli_server.dialect import get_dialect
        >>> feature_fields(GenerateRequest.from_prompt("Hi"), get_dialect("vllm"))
        {}
    """
    fields: dict[str, Any] = {}
    if request.tools:
        fields |= tool_fields(request, dialect)
    if request.output_schema is not None:
        fields |= schema_fields(request.output_schema, dialect)
    if request.thinking is not None:
        fields |= thinking_fields(request.thinking, dialect)
    return fields


def schema_fields(schema: dict[str, Any], dialect: Dialect) -> dict[str, Any]:
    """How this server is asked for JSON that follows ``schema``.

    The schema's ``title`` (a pydantic model's class name) names it where the wire wants a name.

    Examples:
        >>> from botticelli_server.dialect import get_dialect
        >>> schema = {"title": "Point", "type": "object"}
        >>> schema_fields(schema, get_dialect("llama-cpp-python"))
        {'response_format': {'type': 'json_object', 'schema': {'title': 'Point', 'type': 'object'}}}
        >>> schema_fields(schema, get_dialect("llama.cpp"))["response_format"]["json_schema"]["name"]
        'Point'
        >>> schema_fields(schema, get_dialect("mistral.rs"))
        {'grammar': {'type': 'json_schema', 'value': {'title': 'Point', 'type': 'object'}}}
    """
    style = dialect.schema_style
    if style == "json_object":
        return {"response_format": {"type": "json_object", "schema": schema}}
    if style == "grammar":
        return {"grammar": {"type": "json_schema", "value": schema}}
    if style == "json_schema":
        title = schema.get("title")
        name = title if isinstance(title, str) and title else "output"
        return {"response_format": {"type": "json_schema", "json_schema": {"name": name, "schema": schema}}}
    raise _unsupported(dialect, "output_schema", "it has no structured output")


def thinking_fields(thinking: ThinkingConfig, dialect: Dialect) -> dict[str, Any]:
    """How this server is told to think: an effort level, or the switch on or off.

    An effort goes to ``reasoning_effort`` where the server reads it, else it switches
    thinking on; a budget of 0 switches it off; no budget and no effort switches it on where
    there is a switch and sends nothing otherwise. ``include_thoughts`` is a hint: servers
    return reasoning when the model produces it. A positive budget has no spelling on any
    local server, so it is refused rather than dropped.

    Raises:
        UnsupportedInputError: ``input_type="thinking"``: the server has no way to express it.

    Examples:
        >>> from botticelli_server.dialect import get_dialect
        >>> thinking_fields(ThinkingConfig(budget_tokens=0), get_dialect("llama.cpp"))
        {'chat_template_kwargs': {'enable_thinking': False}}
        >>> thinking_fields(ThinkingConfig(effort="low"), get_dialect("openai"))
        {'reasoning_effort': 'low'}
    """
    if not dialect.thinking:
        raise _unsupported(dialect, "thinking", "it takes no thinking control")
    if thinking.effort is not None:
        if dialect.effort_field:
            return {"reasoning_effort": thinking.effort}
        return _switch(dialect, on=True)
    if thinking.disabled:
        if dialect.thinking_switch is not None:
            return _switch(dialect, on=False)
        if dialect.effort_off is not None:
            return {"reasoning_effort": dialect.effort_off}
        raise _unsupported(dialect, "thinking", "it cannot turn thinking off (budget_tokens=0)")
    if thinking.budget_tokens is not None:
        raise _unsupported(
            dialect, "thinking", "it takes no thinking budget per request; give effort=... or budget_tokens=0"
        )
    return _switch(dialect, on=True) if dialect.thinking_switch is not None else {}


def _switch(dialect: Dialect, *, on: bool) -> dict[str, Any]:
    if dialect.thinking_switch == "chat_template_kwargs":
        return {"chat_template_kwargs": {"enable_thinking": on}}
    return {"enable_thinking": on}


def _unsupported(dialect: Dialect, feature: str, why: str) -> UnsupportedInputError:
    return UnsupportedInputError(
        f"the {dialect.name} server dialect cannot carry {feature}: {why}",
        provider=PROVIDER,
        input_type=feature,
    )
