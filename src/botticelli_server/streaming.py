"""Reading an OpenAI-compatible event stream: which events count, and when it has ended well.

Servers disagree on the details (docs/design.md has the table), so the rules are:
- ``[DONE]`` is optional; after it, nothing more is read as content.
- Named events other than ``error`` are not chat chunks (mistral.rs sends progress
  events on the same stream): skip them.
- An ``error`` member in a data object, or an ``event: error``, is a typed error.
- The finish reason may come before the usage, and usage may arrive on a ``choices: []``
  chunk, on the last content chunk, or on every chunk cumulatively: keep the last of
  each, and report them on one final chunk once the stream is over.
- A stream that ends with neither a finish reason nor ``[DONE]`` was cut short.
"""

from __future__ import annotations

import json

from pydantic import ValidationError

from botticelli_core import FinishReason, StreamChunk, Usage
from botticelli_error import ResponseDecodeError, StreamInterruptedError
from botticelli_server.config import PROVIDER
from botticelli_server.convert import finish_reason_from_wire, usage_from_wire
from botticelli_server.error import stream_error
from botticelli_server.response import ChatCompletionChunk, UsageInfo
from botticelli_transport import ServerSentEvent

__all__ = ["StreamState"]

_DONE = b"[DONE]"
_parse_chunk = ChatCompletionChunk.model_validate_json


class StreamState:
    """What one stream has reported so far; :meth:`decode` is the transport's event decoder.

    Example:
        >>> state = StreamState()
        >>> chunk = state.decode(ServerSentEvent(b'{"choices":[{"delta":{},"finish_reason":"length"}]}'))
        >>> chunk.choices[0].finish_reason
        'length'
        >>> state.decode(ServerSentEvent(b"[DONE]")) is None, state.final_chunk().finish_reason
        (True, <FinishReason.LENGTH: 'length'>)
    """

    __slots__ = ("done", "finish_reason", "model", "usage")

    def __init__(self) -> None:
        self.done = False
        self.finish_reason: str | None = None
        self.usage: UsageInfo | None = None
        self.model: str | None = None

    def decode(self, event: ServerSentEvent) -> ChatCompletionChunk | None:
        """Parse one event into a chunk, or ``None`` for events that carry none.

        Raises:
            StreamInterruptedError: The event is an error report.
            ResponseDecodeError: The event is not a chat completion chunk.
        """
        data = event.data
        if event.event != "message":
            if event.event == "error":
                raise stream_error(_loads_or_text(data), raw=data)
            return None
        if self.done:
            return None
        if data == _DONE:
            self.done = True
            return None
        try:
            chunk = _parse_chunk(data)
        except ValidationError:
            parsed = _loads_or_text(data)
            if isinstance(parsed, dict) and ("error" in parsed or "message" in parsed):
                raise stream_error(parsed, raw=data) from None
            raise ResponseDecodeError(
                f"a stream event is not a chat completion chunk: {data[:200]!r}",
                provider=PROVIDER,
                body=data.decode("utf-8", "replace"),
            ) from None
        if chunk.error is not None:
            raise stream_error(chunk.error, raw=data)
        choices = chunk.choices
        if choices and choices[0].finish_reason is not None:
            self.finish_reason = choices[0].finish_reason
        if chunk.usage is not None:
            self.usage = chunk.usage
        if chunk.model is not None:
            self.model = chunk.model
        return chunk

    @property
    def final_usage(self) -> Usage | None:
        """The last usage the server reported, in botticelli's terms."""
        return usage_from_wire(self.usage) if self.usage is not None else None

    def check_finished(self, unframed: bytes = b"") -> None:
        """Raise unless the stream ended properly (a finish reason, or ``[DONE]``).

        Args:
            unframed: A line the server wrote outside SSE framing, which is where
                Ollama puts its error once a stream has begun.

        Raises:
            StreamInterruptedError: The stream was cut short.
        """
        if self.finish_reason is not None or self.done:
            return
        parsed = _loads_or_text(unframed.strip()) if unframed.strip().startswith(b"{") else None
        if isinstance(parsed, dict) and ("error" in parsed or "message" in parsed):
            raise stream_error(parsed, raw=unframed)
        raise StreamInterruptedError(
            "the stream ended without a finish reason: the server stopped mid-answer", provider=PROVIDER
        )

    def final_chunk(self) -> StreamChunk:
        """The last chunk of a finished stream: finish reason and usage, no new text."""
        reason = finish_reason_from_wire(self.finish_reason) if self.finish_reason else FinishReason.OTHER
        return StreamChunk(is_final=True, finish_reason=reason, usage=self.final_usage)


def _loads_or_text(data: bytes) -> object:
    try:
        return json.loads(data)
    except ValueError:
        return data.decode("utf-8", "replace")
