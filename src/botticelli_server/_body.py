"""The one builder of a chat request's wire fields, as plain data.

:func:`wire_fields` is where every field of a ``POST /v1/chat/completions`` body is made
from a :class:`~botticelli_core.GenerateRequest`. :func:`~botticelli_server.convert.to_chat_request`
hands the fields to :class:`~botticelli_server.request.ChatCompletionRequest` (for callers who
want the wire model), and :func:`chat_body` serialises them straight to JSON, which is what
``generate`` sends: the same bytes without building and dumping a model per request (see
docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic_core import to_json

from botticelli_core import GenerateRequest, Message
from botticelli_core.content import TextInput
from botticelli_error import UnsupportedInputError
from botticelli_interface.capabilities import require_features
from botticelli_server.adapters import adapter_features
from botticelli_server.config import PROVIDER
from botticelli_server.dialect import Dialect
from botticelli_server.options import feature_fields
from botticelli_server.request import ChatMessage

__all__ = ["chat_body", "plain_message", "wire_fields"]


def plain_message(message: Message) -> dict[str, str] | None:
    """A message that is text only, as its wire dict; ``None`` when it has any other part.

    Examples:
        >>> plain_message(Message.user("hi"))
        {'role': 'user', 'content': 'hi'}
    """
    content = message.content
    if len(content) == 1:
        # The usual message is one text part: its text without joining a list of one.
        part = content[0]
        if type(part) is TextInput:
            return {"role": message.role.value, "content": part.text}
        return None
    if all(type(part) is TextInput for part in content):
        return {"role": message.role.value, "content": message.text}
    return None


def _uses_features(request: GenerateRequest) -> bool:
    return (
        request.tools is not None
        or request.output_schema is not None
        or request.thinking is not None
        or request.adapter is not None
    )


def wire_fields(
    request: GenerateRequest,
    *,
    default_model: str,
    dialect: Dialect,
    stream: bool = False,
    include_usage: bool = True,
    cache_prompt: bool | None = None,
) -> dict[str, Any]:
    """The body fields of ``request`` in the wire's order; unset ones are left out.

    Text-only messages are plain dicts; a message with media or tool parts is the
    :class:`~botticelli_server.request.ChatMessage` (or several) that
    :func:`~botticelli_server.convert.to_chat_messages` makes of it. ``request.adapter`` is
    not applied here: it rewrites a whole request (see :mod:`botticelli_server.adapters`).
    ``request.slot`` goes in the dialect's slot field; ``cache_prompt``
    (``ServerConfig.cache_prompt``) in its cache switch, and nowhere on a server without
    one. ``request.session`` is never sent: it is the replica pools' affinity key.

    Raises:
        UnsupportedInputError: An input chat cannot carry, or a feature ``dialect`` lacks
            (``input_type="slot"`` for a slot on a server without slots).

    Examples:
        >>> from botticelli_server.dialect import get_dialect
        >>> req = GenerateRequest.from_prompt("Hi", max_tokens=5)
        >>> wire_fields(req, default_model="tiny", dialect=get_dialect("openai"))
        {'model': 'tiny', 'messages': [{'role': 'user', 'content': 'Hi'}], 'max_tokens': 5}
        >>> pinned = GenerateRequest.from_prompt("Hi", slot=1)
        >>> wire_fields(pinned, default_model="tiny", dialect=get_dialect("llama.cpp"), cache_prompt=True)
        {'model': 'tiny', 'messages': [{'role': 'user', 'content': 'Hi'}], 'id_slot': 1, 'cache_prompt': True}
    """
    fields: dict[str, Any] = {"model": request.model or default_model, "messages": _messages(request, dialect)}
    if request.max_tokens is not None:
        fields["max_tokens"] = request.max_tokens
    if request.temperature is not None:
        fields["temperature"] = request.temperature
    if request.top_p is not None:
        fields["top_p"] = request.top_p
    if request.stop:
        fields["stop"] = list(request.stop)
    if request.seed is not None:
        fields["seed"] = request.seed
    if stream:
        fields["stream"] = True
        # Only where the server can answer it: llama-cpp-python's never reports usage on a stream.
        if include_usage and dialect.stream_usage:
            fields["stream_options"] = {"include_usage": True}
    if request.tools is not None or request.output_schema is not None or request.thinking is not None:
        # Declared wire fields (tools, tool_choice, response_format) come before extras
        # (grammar, thinking switches) in feature_fields' order, as the wire model puts them.
        fields.update(feature_fields(request, dialect))
    # Server extensions last: the wire model writes undeclared fields after its declared ones.
    if request.slot is not None:
        if dialect.slot_field is None:
            raise _no_slots(dialect)
        fields[dialect.slot_field] = request.slot
    if cache_prompt is not None and dialect.cache_field is not None:
        fields[dialect.cache_field] = cache_prompt
    return fields


def _no_slots(dialect: Dialect) -> UnsupportedInputError:
    return UnsupportedInputError(
        f"the {dialect.name} server dialect cannot run a request in a chosen slot: it has no slot "
        "to choose (llama.cpp's llama-server does: set ServerConfig.dialect to 'llama.cpp' if that "
        "is the server); send the request without slot",
        provider=PROVIDER,
        input_type="slot",
    )


def _messages(request: GenerateRequest, dialect: Dialect) -> list[dict[str, str] | ChatMessage]:
    messages: list[dict[str, str] | ChatMessage] = []
    for message in request.messages:
        wire = plain_message(message)
        if wire is None:
            break
        messages.append(wire)
    else:
        if _uses_features(request):
            require_features(request, dialect.features | adapter_features(dialect.name), provider=PROVIDER)
        return messages
    # Tool turns and features are checked against the dialect first; a request of plain
    # text uses none of them, so it skips building the set of what it uses.
    require_features(request, dialect.features | adapter_features(dialect.name), provider=PROVIDER)
    from botticelli_server.convert import to_chat_messages  # noqa: PLC0415 - convert imports this module

    return [wire for m in request.messages for wire in _or_models(m, to_chat_messages)]


def _or_models(
    message: Message, convert: Callable[[Message], list[ChatMessage]]
) -> list[dict[str, str]] | list[ChatMessage]:
    plain = plain_message(message)
    return [plain] if plain is not None else convert(message)


def chat_body(
    request: GenerateRequest,
    *,
    default_model: str,
    dialect: Dialect,
    stream: bool = False,
    include_usage: bool = True,
    cache_prompt: bool | None = None,
) -> tuple[bytes, dict[str, Any]]:
    """The JSON body of a request without an adapter, and the fields it was made of.

    The bytes are those of ``to_chat_request(...).to_json()``: the same serialiser, the
    same order, unset fields left out.

    Examples:
        >>> from botticelli_server.dialect import get_dialect
        >>> chat_body(GenerateRequest.from_prompt("Hi"), default_model="tiny", dialect=get_dialect("openai"))[0]
        b'{"model":"tiny","messages":[{"role":"user","content":"Hi"}]}'
    """
    fields = wire_fields(
        request,
        default_model=default_model,
        dialect=dialect,
        stream=stream,
        include_usage=include_usage,
        cache_prompt=cache_prompt,
    )
    return to_json(fields, exclude_none=True), fields
