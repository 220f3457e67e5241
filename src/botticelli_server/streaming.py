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

Two decoders share those rules. :meth:`StreamState.decode` gives the full wire chunk,
unknown fields and all, for callers of the wire-level API. :meth:`StreamState.decode_text`
is the hot path of ``generate_stream``: it validates only the fields it reads (a
typed view that pydantic-core parses faster than ``json.loads`` parses the whole
object) and returns the :class:`StreamChunk` directly.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter, ValidationError
from typing_extensions import TypedDict

from botticelli_core import FinishReason, StreamChunk, Usage
from botticelli_error import ResponseDecodeError, StreamInterruptedError
from botticelli_server.config import PROVIDER
from botticelli_server.convert import finish_reason_from_wire, usage_from_wire
from botticelli_server.errors import stream_error
from botticelli_server.response import ChatCompletionChunk, UsageInfo
from botticelli_transport import ServerSentEvent

__all__ = ["StreamState"]

_DONE = b"[DONE]"
_parse_chunk = ChatCompletionChunk.model_validate_json


class _TextDelta(TypedDict, total=False):
    content: str | None
    reasoning_content: str | None
    reasoning: str | None


class _TextChoice(TypedDict, total=False):
    delta: _TextDelta | None
    finish_reason: str | None


class _TextChunk(TypedDict, total=False):
    object: str | None
    message: str | None
    model: str | None
    choices: list[_TextChoice] | None
    usage: dict[str, Any] | None
    error: Any


_parse_text_chunk = TypeAdapter(_TextChunk).validate_json
_delta = StreamChunk.delta


class StreamState:
    """What one stream has reported so far; its ``decode`` methods are the transport's event decoders.

    Examples:
        >>> state = StreamState()
        >>> chunk = state.decode(ServerSentEvent(b'{"choices":[{"delta":{},"finish_reason":"length"}]}'))
        >>> chunk.choices[0].finish_reason
        'length'
        >>> state.decode(ServerSentEvent(b"[DONE]")) is None, state.final_chunk().finish_reason
        (True, <FinishReason.LENGTH: 'length'>)
    """

    __slots__ = ("done", "finish_reason", "model", "texts", "usage")

    def __init__(self) -> None:
        self.done = False
        self.finish_reason: str | None = None
        self.usage: UsageInfo | dict[str, Any] | None = None
        self.model: str | None = None
        self.texts: list[str] = []
        """The text delivered so far by :meth:`decode_text`, kept for ``partial_text`` on errors."""

    def decode(self, event: ServerSentEvent) -> ChatCompletionChunk | None:
        """Parse one event into a full wire chunk, or ``None`` for events that carry none.

        Raises:
            StreamInterruptedError: The event is an error report.
            ResponseDecodeError: The event is not a chat completion chunk.
        """
        data = event.data
        if self._skip(event):
            return None
        try:
            chunk = _parse_chunk(data)
        except ValidationError:
            raise _undecodable(data) from None
        if chunk.error is not None:
            raise stream_error(chunk.error, raw=data)
        if chunk.object == "error":  # vLLM's older flat error object
            raise stream_error({"error": {"message": getattr(chunk, "message", None)}}, raw=data)
        choices = chunk.choices
        if choices and choices[0].finish_reason is not None:
            self.finish_reason = choices[0].finish_reason
        if chunk.usage is not None:
            self.usage = chunk.usage
        if chunk.model is not None:
            self.model = chunk.model
        return chunk

    def decode_text(self, event: ServerSentEvent) -> StreamChunk | None:
        """Parse one event straight into a :class:`StreamChunk` of new text, or ``None``.

        Raises:
            StreamInterruptedError: The event is an error report.
            ResponseDecodeError: The event is not a chat completion chunk.
        """
        data = event.data
        if self._skip(event):
            return None
        try:
            chunk = _parse_text_chunk(data)
        except ValidationError:
            raise _undecodable(data) from None
        if chunk.get("error") is not None:
            raise stream_error(chunk["error"], raw=data)
        if chunk.get("object") == "error":  # vLLM's older flat error object
            raise stream_error({"error": {"message": chunk.get("message")}}, raw=data)
        usage = chunk.get("usage")
        if usage is not None:
            self.usage = usage
        model = chunk.get("model")
        if model is not None:
            self.model = model
        choices = chunk.get("choices")
        if not choices:
            return None
        choice = choices[0]
        reason = choice.get("finish_reason")
        if reason is not None:
            self.finish_reason = reason
        delta = choice.get("delta")
        if not delta:
            return None
        text = delta.get("content") or ""
        reasoning = delta.get("reasoning_content") or delta.get("reasoning") or ""
        if not text and not reasoning:
            return None
        if text:
            self.texts.append(text)
        return _delta(text, reasoning)

    def _skip(self, event: ServerSentEvent) -> bool:
        if event.event != "message":
            if event.event == "error":
                raise stream_error(_loads_or_text(event.data), raw=event.data)
            return True
        if self.done:
            return True
        if event.data == _DONE:
            self.done = True
            return True
        return False

    @property
    def final_usage(self) -> Usage | None:
        """The last usage the server reported, in botticelli's terms."""
        usage = self.usage
        if usage is None:
            return None
        if isinstance(usage, dict):
            try:
                usage = UsageInfo.model_validate({k: v for k, v in usage.items() if v is not None})
            except ValidationError:
                raise ResponseDecodeError(
                    f"the stream's usage report is malformed: {usage!r}"[:300], provider=PROVIDER
                ) from None
        return usage_from_wire(usage)

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


def _undecodable(data: bytes) -> Exception:
    parsed = _loads_or_text(data)
    if isinstance(parsed, dict) and ("error" in parsed or "message" in parsed):
        return stream_error(parsed, raw=data)
    return ResponseDecodeError(
        f"a stream event is not a chat completion chunk: {data[:200]!r}",
        provider=PROVIDER,
        body=data.decode("utf-8", "replace"),
    )


def _loads_or_text(data: bytes) -> object:
    try:
        return json.loads(data)
    except ValueError:
        return data.decode("utf-8", "replace")
