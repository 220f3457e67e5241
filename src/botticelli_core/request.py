"""A provider-neutral generation request."""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator

from botticelli_core._base import FrozenModel
from botticelli_core._text import NotBool, UnicodeText
from botticelli_core.message import Message
from botticelli_core.thinking import ThinkingConfig
from botticelli_core.tools import TOOL_CHOICE_MODES, ToolChoice, ToolDefinition
from botticelli_error import ConfigurationError

__all__ = ["MAX_TOKENS_LIMIT", "GenerateRequest"]

MAX_TOKENS_LIMIT = 2**31 - 1
"""The largest ``max_tokens`` accepted: the 32-bit limit of Gemini's API and of engines'
native integers; a larger number cannot be sent to every backend, and is a mistake anyway."""


class GenerateRequest(FrozenModel):
    r"""What to generate from. Unset parameters are left to the backend's defaults.

    Args:
        messages: The conversation, oldest first; at least one message.
        max_tokens: Upper bound on generated tokens, at most :data:`MAX_TOKENS_LIMIT`.
        temperature: Sampling temperature, 0 to 2.
        top_p: Nucleus sampling mass, in (0, 1].
        stop: Sequences that end generation when produced.
        seed: Sampling seed, for servers that honour it; a 64-bit signed integer.
        model: The model to ask for; ``None`` means the backend's configured default.
        routing_hint: For routers such as the hybrid provider: ``"cheap"`` prefers the
            local backend, ``"complex"`` the more capable one. Single backends ignore it.
        tools: Functions the model may call (see :class:`ToolDefinition`).
        tool_choice: ``"auto"``, ``"none"``, ``"required"`` or the name of one of ``tools``;
            ``None`` leaves it to the backend (``"auto"`` wherever tools are given).
        output_schema: Ask for JSON following this JSON Schema; a pydantic model class is
            taken as its schema. Read the result with :meth:`GenerateResponse.parse`.
        thinking: Thinking budget or effort, and whether thoughts come back.
        adapter: The name of a LoRA adapter the server has loaded, for this request only.
        session: The conversation's id, for replica pools' cache affinity (never sent).
        slot: The server slot to run in (llama.cpp's ``id_slot``).

    A backend that cannot honour ``tools``, ``output_schema``, ``thinking`` or ``adapter``
    raises :class:`~botticelli_error.UnsupportedInputError` naming it; none is dropped silently.

    Invalid values raise :class:`~botticelli_error.ConfigurationError` naming the field.
    The numeric fields refuse booleans (``max_tokens=True`` is a mistake, not 1), and
    text refuses lone surrogates, which no request body can carry (see
    :func:`botticelli_core._text.check_unicode`).

    ``model_validate`` takes the request of an OpenAI chat completion as it is written
    there: messages with string content (see :class:`Message`), ``max_tokens``,
    ``temperature``, ``top_p``, ``seed``, ``model`` and ``stop`` as a string or a list.
    Keys it has no field for (``n``, ``stream``...) are an error, never dropped silently.

    Examples:
        >>> req = GenerateRequest(messages=[Message.user("Hi")], max_tokens=16)
        >>> req.max_tokens, req.model is None
        (16, True)
        >>> GenerateRequest.from_prompt("Hi", max_tokens=8).messages[0].text
        'Hi'
        >>> openai = {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 8, "stop": "\n"}
        >>> GenerateRequest.model_validate(openai) == GenerateRequest.from_prompt("Hi", max_tokens=8, stop=["\n"])
        True
    """

    messages: tuple[Message, ...] = Field(min_length=1)
    max_tokens: Annotated[int, NotBool] | None = Field(default=None, gt=0, le=MAX_TOKENS_LIMIT)
    temperature: Annotated[float, NotBool] | None = Field(default=None, ge=0.0, le=2.0)
    top_p: Annotated[float, NotBool] | None = Field(default=None, gt=0.0, le=1.0)
    stop: tuple[UnicodeText, ...] | None = None
    seed: Annotated[int, NotBool] | None = Field(default=None, ge=-(2**63), le=2**63 - 1)
    model: UnicodeText | None = Field(default=None, min_length=1)
    routing_hint: Literal["cheap", "complex"] | None = None
    tools: tuple[ToolDefinition, ...] | None = None
    tool_choice: ToolChoice | None = None
    output_schema: dict[str, Any] | None = None
    thinking: ThinkingConfig | None = None
    adapter: UnicodeText | None = Field(default=None, min_length=1)
    session: UnicodeText | None = Field(default=None, min_length=1, max_length=256)
    """An id the caller gives a conversation (a session or user id): a replica pool keeps the
    requests that carry the same one on the same replica, where its cache is. Not sent."""
    slot: Annotated[int, NotBool] | None = Field(default=None, ge=0)
    """The server slot to run in (llama.cpp's ``id_slot``), pinning a conversation to the slot
    that holds its cache; a server that has no slots refuses it."""

    @field_validator("output_schema", mode="before")
    @classmethod
    def _schema_of_model(cls, schema: object) -> object:
        if isinstance(schema, type) and issubclass(schema, BaseModel):
            return schema.model_json_schema()
        return schema

    def model_post_init(self, __context: object) -> None:
        """Tool names are unique, and a named ``tool_choice`` names a declared tool."""
        names = [tool.name for tool in self.tools or ()]
        if len(set(names)) != len(names):
            repeated = sorted({n for n in names if names.count(n) > 1})
            raise ConfigurationError(f"invalid GenerateRequest: tool names must be unique (repeated: {repeated})")
        choice = self.tool_choice
        if choice is None or choice in ("auto", "none"):
            return
        if not names:
            raise ConfigurationError(f"invalid GenerateRequest: tool_choice={choice!r} needs tools")
        if choice not in TOOL_CHOICE_MODES and choice not in names:
            raise ConfigurationError(
                f"invalid GenerateRequest: tool_choice={choice!r} is neither auto, none, required "
                f"nor a declared tool ({', '.join(names)})"
            )

    @field_validator("stop", mode="before")
    @classmethod
    def _one_stop(cls, stop: object) -> object:
        # OpenAI's shape allows a single stop sequence as a plain string; a string must not be
        # read as a sequence of one-letter stops.
        return (stop,) if isinstance(stop, str) else stop

    @field_validator("stop")
    @classmethod
    def _non_empty_stops(cls, stop: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if stop is not None and any(not s for s in stop):
            raise ValueError("stop sequences must be non-empty strings")
        return stop

    def with_default_max_tokens(self, max_tokens: int | None) -> "GenerateRequest":
        """This request, bounded by ``max_tokens`` when it sets no bound of its own.

        How a backend applies its configured default (``ServerConfig.max_tokens``,
        ``EmbeddedConfig.max_tokens``): the request's own ``max_tokens`` always wins, and
        ``None`` changes nothing.

        Examples:
            >>> GenerateRequest.from_prompt("Hi").with_default_max_tokens(256).max_tokens
            256
            >>> GenerateRequest.from_prompt("Hi", max_tokens=8).with_default_max_tokens(256).max_tokens
            8
        """
        if max_tokens is None or self.max_tokens is not None:
            return self
        # No validation to repeat: the configuration that holds the default checked it already.
        return self.model_copy(update={"max_tokens": max_tokens})

    @classmethod
    def from_prompt(cls, prompt: str, *, system: str | None = None, **params: object) -> "GenerateRequest":
        """A one-turn request from a prompt (and an optional system instruction).

        Raises:
            ConfigurationError: If ``prompt`` or ``system`` is not a string, or any
                parameter is invalid; the message names the argument or field.
        """
        for name, value in (("prompt", prompt), ("system", system)):
            if not isinstance(value, str) and not (name == "system" and value is None):
                raise ConfigurationError(
                    f"invalid GenerateRequest: GenerateRequest.from_prompt's {name} must be a string "
                    f"(got {type(value).__name__})"
                )
        messages = [Message.system(system)] if system else []
        messages.append(Message.user(prompt))
        if not params:
            # Messages are valid already, and nothing else is set: validation would return
            # them unchanged, so the request is built without building its validator.
            return cls.model_construct(messages=tuple(messages))
        return cls.model_validate({"messages": messages, **params})
