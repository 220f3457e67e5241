"""What a server client's call sends, and the log entry it starts with.

Kept apart from :mod:`botticelli_server.client`, which says which endpoint each public
method calls and how its reply is read; this module knows how a neutral request becomes
the wire request or body, and what of it the request log holds. The conversions are
imported by the first call that needs them, and then kept: a function-level import costs
about 5,000 instructions even when its module is loaded (CPython checks the module's
spec), where a cached call costs a few hundred.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from botticelli_interface.request_log import Operation, RequestLog
from botticelli_server.config import PROVIDER, ServerConfig

if TYPE_CHECKING:
    from botticelli_core import GenerateRequest, GenerateResponse
    from botticelli_server.dialect import Dialect
    from botticelli_server.request import ChatCompletionRequest
    from botticelli_server.response import ChatCompletionResponse

    ChatBody = Callable[..., tuple[bytes, dict[str, Any]]]
    ReadCompletion = Callable[[bytes, RequestLog], GenerateResponse]
    RecordCompletion = Callable[[RequestLog, ChatCompletionResponse], None]

__all__ = ["body", "chat_request", "lean_path", "log_entry", "wire_log_entry", "wire_path"]


def chat_request(
    config: ServerConfig, request: GenerateRequest, *, dialect: Dialect, stream: bool = False
) -> ChatCompletionRequest:
    """``request`` as the wire model, with the configuration's defaults."""
    from botticelli_server.convert import to_chat_request  # noqa: PLC0415

    return to_chat_request(
        request.with_default_max_tokens(config.max_tokens),
        default_model=config.model,
        stream=stream,
        include_usage=config.include_usage,
        dialect=dialect,
        adapters=config.adapters,
        cache_prompt=config.cache_prompt,
    )


def body(
    config: ServerConfig, request: GenerateRequest, dialect: Dialect, chat_body: ChatBody
) -> tuple[bytes, dict[str, Any]]:
    """The JSON body of a non-streamed ``request``, and its fields (for the log and tracing).

    ``chat_body`` is :func:`lean_path`'s builder, which the caller already holds.
    """
    request = request.with_default_max_tokens(config.max_tokens)
    if request.adapter is None:
        return chat_body(request, default_model=config.model, dialect=dialect, cache_prompt=config.cache_prompt)
    # An adapter rewrites the whole request (see botticelli_server.adapters): through the wire model.
    wire = chat_request(config, request, dialect=dialect)
    return wire.to_json(), wire.model_dump(exclude_none=True)


def log_entry(
    config: ServerConfig,
    operation: Operation,
    model: str,
    request: object,
    messages: Sequence[BaseModel | dict[str, Any]],
) -> RequestLog:
    """The request log entry of a call; with ``log_content``, it holds the messages sent."""
    entry = RequestLog(PROVIDER, operation, model=model, request=request)
    if config.log_content:
        entry.content = {
            "messages": [m.model_dump(exclude_none=True) if isinstance(m, BaseModel) else m for m in messages]
        }
    return entry


def wire_log_entry(config: ServerConfig, operation: Operation, request: ChatCompletionRequest) -> RequestLog:
    """The log entry of a call that sends the wire model ``request``."""
    return log_entry(config, operation, request.model, request, request.messages)


@cache
def lean_path() -> tuple[ChatBody, ReadCompletion]:
    """``generate``'s body builder and reply reader, imported by the first call."""
    from botticelli_server._body import chat_body  # noqa: PLC0415
    from botticelli_server._completion import read_completion  # noqa: PLC0415

    return chat_body, read_completion


@cache
def wire_path() -> tuple[type[ChatCompletionResponse], RecordCompletion]:
    """``chat_completion``'s reply model and the function that logs it, imported by the first call."""
    from botticelli_server._completion import record_completion  # noqa: PLC0415
    from botticelli_server.response import ChatCompletionResponse  # noqa: PLC0415

    return ChatCompletionResponse, record_completion
