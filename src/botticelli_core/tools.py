"""Tools a model may call: their declarations, and how a request says which one to use."""

import inspect
from collections.abc import Callable
from typing import Annotated, Any, cast

from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from botticelli_core._base import FrozenModel
from botticelli_core._text import UnicodeText
from botticelli_error import ConfigurationError

__all__ = ["TOOL_NAME_PATTERN", "ToolChoice", "ToolDefinition"]

TOOL_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$"
"""Names every backend accepts: Gemini's rule (a letter or underscore first, then letters,
digits, ``_``, ``.``, ``-``; at most 64 characters), which is also within OpenAI's."""

ToolChoice = Annotated[str, Field(min_length=1, max_length=64)]
"""``"auto"`` (the model decides), ``"none"`` (no tool calls), ``"required"`` (at least one
call, any tool), or the name of one declared tool, which the model must call."""

TOOL_CHOICE_MODES = frozenset({"auto", "none", "required"})


class ToolDefinition(FrozenModel):
    """A function the model may ask to call.

    Args:
        name: What the model calls it by (see :data:`TOOL_NAME_PATTERN`).
        description: What it does and when to use it; models choose tools by this text.
        parameters: A JSON Schema for the arguments, whose top level is an object.
        handler: The function that runs a call, sync or async, for
            :func:`~botticelli_interface.run_tools`: it is called with the arguments as
            keywords, validated against its own signature. Never sent; not part of
            ``repr`` or ``model_dump``. :meth:`from_function` sets it to the function.

    Examples:
        >>> tool = ToolDefinition(
        ...     name="get_weather",
        ...     description="Current weather in a city.",
        ...     parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        ... )
        >>> tool.parameters["required"]
        ['city']
        >>> ToolDefinition(name="two words")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        botticelli_error.errors.ConfigurationError: [botticelli] invalid ToolDefinition: ToolDefinition.name: ...
    """

    name: str = Field(pattern=TOOL_NAME_PATTERN)
    description: UnicodeText | None = None
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    # Behaviour beside the declaration, for the tool loop: excluded from dumps and repr, so a
    # request still serialises, logs and compares as the data it sends.
    handler: SkipJsonSchema[Callable[..., Any] | None] = Field(default=None, exclude=True, repr=False)

    def model_post_init(self, __context: object) -> None:
        """Refuse argument schemas that no backend can send: the top level must be an object."""
        kind = self.parameters.get("type", "object")
        if kind != "object":
            raise ConfigurationError(
                f"invalid ToolDefinition: ToolDefinition.parameters of tool {self.name!r} must describe "
                f'an object (got "type": {kind!r}); wrap single values in an object property'
            )

    @classmethod
    def from_model(
        cls, model: type[BaseModel], *, name: str | None = None, description: str | None = None
    ) -> "ToolDefinition":
        """A tool whose arguments are the fields of a pydantic model.

        The name defaults to the model's class name and the description to its docstring.

        Examples:
            >>> class Search(BaseModel):
            ...     '''Search the web.'''
            ...     query: str
            >>> tool = ToolDefinition.from_model(Search)
            >>> tool.name, tool.description, tool.parameters["required"]
            ('Search', 'Search the web.', ['query'])
        """
        schema = model.model_json_schema()
        schema.pop("title", None)
        schema.pop("description", None)
        return cls(name=name or model.__name__, description=description or inspect.getdoc(model), parameters=schema)

    @classmethod
    def from_function(
        cls, function: Callable[..., Any], *, name: str | None = None, description: str | None = None
    ) -> "ToolDefinition":
        """A tool from a typed Python function: its parameters become the argument schema.

        The name defaults to the function's name and the description to the first paragraph
        of its docstring. Every parameter needs a type annotation that pydantic understands.
        The function is the tool's :attr:`handler`, so :func:`~botticelli_interface.run_tools`
        can run it.

        Examples:
            >>> def add(a: int, b: int = 0) -> int:
            ...     '''Add two numbers.'''
            ...     return a + b
            >>> tool = ToolDefinition.from_function(add)
            >>> tool.name, tool.description, sorted(tool.parameters["properties"]), tool.parameters["required"]
            ('add', 'Add two numbers.', ['a', 'b'], ['a'])
            >>> tool.handler is add
            True
        """
        signature = inspect.signature(function)
        missing = [
            p.name
            for p in signature.parameters.values()
            if p.annotation is inspect.Parameter.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        if missing:
            raise ConfigurationError(
                f"invalid ToolDefinition: parameter(s) {', '.join(missing)} of {function.__name__!r} "
                "have no type annotation, so no argument schema can be written for them"
            )
        # A validated callable is a type pydantic can describe: its schema is that of its arguments.
        # Imported here: pydantic loads these modules on first access, and building a request never needs them.
        from pydantic import TypeAdapter, validate_call  # noqa: PLC0415

        schema = TypeAdapter(cast(Any, validate_call(function))).json_schema()
        schema.pop("title", None)
        schema.pop("additionalProperties", None)
        doc = inspect.getdoc(function) or ""
        summary = doc.split("\n\n", 1)[0].strip() or None
        return cls(
            name=name or function.__name__, description=description or summary, parameters=schema, handler=function
        )
