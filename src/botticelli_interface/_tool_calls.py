"""Running one call of a tool loop: the tools by name, their arguments validated, the result as text.

Private to :mod:`botticelli_interface.tool_loop`: a call's arguments are checked against the
function's signature with a pydantic model built from it, and what the function returned (or
why it did not run) becomes the text of the call's tool result.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Annotated, Any

import anyio
from pydantic import BaseModel, ConfigDict, Field, PydanticUserError, TypeAdapter, ValidationError, create_model
from pydantic.fields import FieldInfo
from pydantic_core import to_json

from botticelli_core import (
    GenerateRequest,
    Message,
    ToolCallOutput,
    ToolDefinition,
)
from botticelli_error import ConfigurationError
from botticelli_interface.tool_runs import ToolFailure

__all__ = ["Tool", "content_of", "definitions_of", "problems", "quote", "result_message"]

# Longest piece of the model's own writing (raw arguments, a bad value) quoted back to it.
_QUOTE_CHARS = 200


def definitions_of(
    request: GenerateRequest, tools: Sequence[Callable[..., Any] | ToolDefinition], method: str
) -> list[ToolDefinition]:
    """The loop's tools, by name: the request's, replaced or joined by ``tools``; each must have a handler."""
    if tools is None:
        tools = ()
    if isinstance(tools, ToolDefinition) or callable(tools):
        raise ConfigurationError(f"{method}'s tools must be a list of functions or ToolDefinitions, not one on its own")
    if isinstance(tools, str | bytes) or not isinstance(tools, Iterable):
        raise ConfigurationError(
            f"{method}'s tools must be a list of functions or ToolDefinitions, not {type(tools).__name__}"
        )
    given: dict[str, ToolDefinition] = {}
    for index, tool in enumerate(tools):
        if isinstance(tool, ToolDefinition):
            definition = tool
        elif callable(tool):
            definition = ToolDefinition.from_function(tool)
        else:
            raise ConfigurationError(
                f"{method}'s tools[{index}] is a {type(tool).__name__}, not a function or a ToolDefinition"
            )
        if definition.name in given:
            raise ConfigurationError(f"{method}'s tools name {definition.name!r} twice")
        given[definition.name] = definition
    merged = {d.name: d for d in request.tools or ()} | given
    if not merged:
        raise ConfigurationError(f"{method} needs tools: pass functions as tools=, or ToolDefinitions with a handler")
    unrunnable = [name for name, d in merged.items() if d.handler is None]
    if unrunnable:
        raise ConfigurationError(
            f"{method} cannot run tool(s) {', '.join(unrunnable)}: no handler; pass the function as tools=, "
            "or build the ToolDefinition with handler= (ToolDefinition.from_function sets it)"
        )
    return list(merged.values())


class Tool:
    """A tool's handler, its arguments' validator (from its signature) and how to call it."""

    __slots__ = ("_extra", "_handler", "_is_async", "_keywords", "_model", "_positional", "name")

    def __init__(self, definition: ToolDefinition) -> None:
        handler = definition.handler
        assert handler is not None  # definitions_of refuses tools without one
        self.name = definition.name
        self._handler = handler
        self._is_async = inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
            getattr(handler, "__call__", None)  # noqa: B004 - an object whose __call__ is async
        )
        try:
            signature = inspect.signature(handler, eval_str=True)
        except Exception as exc:  # noqa: BLE001 - whatever evaluating its annotations raised
            raise ConfigurationError(
                f"the handler of tool {self.name!r} has no signature that can be read ({type(exc).__name__}: {exc})"
            ) from None
        fields: dict[str, Any] = {}
        self._positional: list[str] = []
        self._keywords: list[tuple[str, str, bool]] = []
        extra: Any = None
        for index, parameter in enumerate(signature.parameters.values()):
            annotation = Any if parameter.annotation is parameter.empty else parameter.annotation
            if parameter.kind is parameter.VAR_POSITIONAL:
                continue  # a JSON object has no positional values to give it
            if parameter.kind is parameter.VAR_KEYWORD:
                extra = annotation
                continue
            # Fields of our own naming, the parameter's name as the alias: a parameter may be
            # named like something BaseModel keeps for itself (json, schema, model_config).
            field = f"p{index}"
            default = ... if parameter.default is parameter.empty else parameter.default
            fields[field] = (Annotated[annotation, Field(alias=parameter.name)], default)
            if parameter.kind is parameter.POSITIONAL_ONLY:
                self._positional.append(field)
            else:
                # A default that is a pydantic Field() is no value for Python to fill in: pass pydantic's.
                self._keywords.append((field, parameter.name, isinstance(default, FieldInfo)))
        try:
            self._model: type[BaseModel] = create_model(
                f"{self.name}_arguments",
                __config__=ConfigDict(extra="forbid" if extra is None else "allow"),
                **fields,
            )
            self._extra = None if extra is None else TypeAdapter(dict[str, extra])
        except (PydanticUserError, NameError, TypeError) as exc:
            problem = str(exc)
        else:
            # A name pydantic cannot resolve leaves the model unfinished rather than failing here:
            # it would fail at the first call instead, as an error of pydantic's own.
            if self._model.__pydantic_complete__:
                return
            problem = "an annotation names a type that is not defined"
        raise ConfigurationError(
            f"the handler of tool {self.name!r} has parameters pydantic cannot validate: {problem}"
        )

    def bind(self, arguments: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The validated arguments, positional and keyword, for the handler.

        Raises:
            ValidationError: They do not validate; the locations are the parameters' names.
        """
        values = self._model.model_validate(arguments)
        given = values.model_fields_set
        args = tuple(getattr(values, field) for field in self._positional)
        # A parameter the model left out gets Python's own default, not pydantic's copy of it
        # (a sentinel default must stay the same object).
        kwargs = {
            name: getattr(values, field)
            for field, name, pydantic_default in self._keywords
            if field in given or pydantic_default
        }
        if self._extra is not None and values.model_extra:
            kwargs.update(self._extra.validate_python(values.model_extra))
        return args, kwargs

    async def call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Call the handler: on the event loop if it is async, in a worker thread if not."""
        if self._is_async:
            return await self._handler(*args, **kwargs)
        value = await anyio.to_thread.run_sync(partial(self._handler, *args, **kwargs))
        if inspect.isawaitable(value):  # a sync callable that hands back a coroutine
            value = await value
        return value


def content_of(value: object) -> tuple[str, ToolFailure | None]:
    """A result's text: a ``str`` as it is, anything else as JSON (pydantic's encoder: models, dates, sets)."""
    if isinstance(value, str):
        return value, None
    try:
        # str() for what JSON has no form for: the model reads text, and the function did run.
        return to_json(value, fallback=str).decode(), None
    except Exception as exc:  # noqa: BLE001 - an object whose str() fails too
        return str(exc), "unsendable_result"


def result_message(call: ToolCallOutput, content: str, *, is_error: bool) -> Message | None:
    try:
        return Message.tool_result(call.id, content, name=call.name, is_error=is_error)
    except ConfigurationError:
        return None


def quote(text: str) -> str:
    return repr(text if len(text) <= _QUOTE_CHARS else text[:_QUOTE_CHARS] + "...")


def problems(exc: ValidationError) -> str:
    """The errors of pydantic as the model should read them: ``city: Input should be a valid string (got 42)``."""
    problems = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "arguments"
        text = f"{where}: {error['msg']}"
        given = error.get("input")
        if error["type"] != "missing" and isinstance(given, str | int | float | bool):
            text += f" (got {quote(given) if isinstance(given, str) else repr(given)})"
        problems.append(text)
    return "; ".join(problems)
