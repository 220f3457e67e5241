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

:class:`StreamState` holds those rules, once, in :meth:`StreamState.decode`, which
parses each event into a :class:`~botticelli_server.response.ChunkView`. The two
streams of the client map what it returns: ``generate_stream`` through
:func:`~botticelli_server.convert.chunk_to_stream_chunk` (:meth:`StreamState.text_chunk`),
the wire-level ``chat_completion_stream`` into the full
:class:`~botticelli_server.response.ChatCompletionChunk` (:meth:`StreamState.wire_chunk`).
One state serves one attempt: a retried stream starts from a new one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError

from botticelli_core import FinishReason, StreamChunk, Usage
from botticelli_error import ResponseDecodeError, StreamInterruptedError
from botticelli_server.config import PROVIDER
from botticelli_server.convert import chunk_to_stream_chunk, finish_reason_with_calls, usage_from_wire
from botticelli_server.errors import stream_error
from botticelli_server.response import ChatCompletionChunk, ChunkView, UsageInfo
from botticelli_server.tool_stream import ToolCallAssembler
from botticelli_server.tools import calls_cut_off
from botticelli_transport import ServerSentEvent

__all__ = ["StreamState"]

_DONE = b"[DONE]"


@cache
def _view_parser() -> Callable[[bytes], ChunkView]:
    # Built on first use, not at import: a process that never streams never pays for it.
    # The core validator itself: the TypeAdapter method around it costs a call per event.
    parse: Callable[[bytes], ChunkView] = TypeAdapter(ChunkView).validator.validate_json
    return parse


_parse_chunk = ChatCompletionChunk.model_validate_json


class StreamState:
    """What one stream attempt has reported so far; its methods are the transport's decode functions.

    Examples:
        >>> state = StreamState()
        >>> state.text_chunk(ServerSentEvent(b'{"choices":[{"delta":{"content":"Hi"}}]}')).text
        'Hi'
        >>> view = state.decode(ServerSentEvent(b'{"choices":[{"delta":{},"finish_reason":"length"}]}'))
        >>> view["choices"][0]["finish_reason"], state.text
        ('length', 'Hi')
        >>> state.decode(ServerSentEvent(b"[DONE]")) is None, state.final_chunk().finish_reason
        (True, <FinishReason.LENGTH: 'length'>)
    """

    __slots__ = ("_parse", "calls", "done", "finish_reason", "model", "texts", "timings", "usage")

    def __init__(self) -> None:
        self._parse = _view_parser()
        self.calls = ToolCallAssembler()
        """The tool calls streamed so far (see :mod:`botticelli_server.tool_stream`)."""
        self.done = False
        self.finish_reason: str | None = None
        self.usage: dict[str, Any] | None = None
        self.timings: object = None
        """The ``timings`` of the chunk that carried :attr:`usage` (llama-server's), for its cached count."""
        self.model: str | None = None
        self.texts: list[str] = []
        """The text handed out so far by :meth:`text_chunk`, kept for ``partial_text`` on errors."""

    @property
    def text(self) -> str:
        """The answer text handed out so far."""
        return "".join(self.texts)

    def decode(self, event: ServerSentEvent) -> ChunkView | None:
        """Apply the stream's rules to one event: its chunk, or ``None`` for events that carry none.

        Raises:
            StreamInterruptedError: The event is an error report.
            ResponseDecodeError: The event is not a chat completion chunk.
        """
        if event.event != "message":
            if event.event == "error":
                raise stream_error(_loads_or_text(event.data), raw=event.data)
            return None
        data = event.data
        if self.done:
            return None
        if data == _DONE:
            self.done = True
            return None
        # The error is raised outside the except block: pydantic's exception quotes the
        # event, which may echo the API key, and would stay on the error's __context__.
        chunk: ChunkView | None
        try:
            chunk = self._parse(data)
        except (ValidationError, RecursionError):
            chunk = None
        if chunk is None:
            raise _undecodable(data)
        error = chunk.get("error")
        if error is not None:
            raise stream_error(error, raw=data)
        if chunk.get("object") == "error":  # vLLM's older flat error object
            raise stream_error({"error": {"message": chunk.get("message")}}, raw=data)
        usage = chunk.get("usage")
        if usage is not None:
            self.usage = usage
            # llama-server puts its timings (the cached count) on the chunk of its usage; read
            # them there, not on every event, and keep them with the report they belong to.
            self.timings = chunk.get("timings")
        model = chunk.get("model")
        if model is not None:
            self.model = model
        choices = chunk.get("choices")
        if choices:
            reason = choices[0].get("finish_reason")
            if reason is not None:
                self.finish_reason = reason
        return chunk

    def text_chunk(self, event: ServerSentEvent) -> StreamChunk | None:
        """The new text of one event as a :class:`StreamChunk` (``generate_stream``), or ``None``.

        Raises:
            StreamInterruptedError: The event is an error report.
            ResponseDecodeError: The event is not a chat completion chunk.
        """
        chunk = self.decode(event)
        if chunk is None:
            return None
        out = chunk_to_stream_chunk(chunk, self.calls)
        if out is not None and out.text:
            self.texts.append(out.text)
        return out

    def wire_chunk(self, event: ServerSentEvent) -> ChatCompletionChunk | None:
        """One event as the full wire chunk, unknown fields and all (``chat_completion_stream``), or ``None``.

        Raises:
            StreamInterruptedError: The event is an error report.
            ResponseDecodeError: The event is not a chat completion chunk.
        """
        if self.decode(event) is None:
            return None
        chunk: ChatCompletionChunk | None
        try:
            chunk = _parse_chunk(event.data)
        except ValidationError:
            chunk = None
        if chunk is None:  # raised outside the except block (see decode)
            raise _undecodable(event.data)
        return chunk

    @property
    def final_usage(self) -> Usage | None:
        """The last usage the server reported, in botticelli's terms.

        Its ``cached_tokens`` comes from the usage's ``prompt_tokens_details`` or, failing
        that, from the ``timings`` beside it (llama-server puts both on its last chunk).

        Raises:
            ResponseDecodeError: That usage report is malformed.
        """
        usage = self.usage
        if usage is None:
            return None
        info: UsageInfo | None
        try:
            info = UsageInfo.model_validate({k: v for k, v in usage.items() if v is not None})
        except ValidationError:
            info = None
        if info is None:  # raised outside the except block (see decode)
            raise ResponseDecodeError(f"the stream's usage report is malformed: {usage!r}"[:300], provider=PROVIDER)
        return usage_from_wire(info, self.timings)

    def check_finished(self, unframed: bytes = b"", *, answered: bool = True) -> None:
        """Raise unless the stream ended properly (a finish reason, or ``[DONE]``).

        Args:
            unframed: A line the server wrote outside SSE framing, which is where
                Ollama puts its error once a stream has begun.
            answered: Whether the stream gave anything before it ended. A stream that
                ended with nothing (llama-cpp-python's, when its chat handler fails after the
                stream was opened) is not an answer cut short, and its error says so.

        Raises:
            StreamInterruptedError: The stream was cut short, or ended without answering.
        """
        if self.finish_reason is not None or self.done:
            return
        parsed = _loads_or_text(unframed.strip()) if unframed.strip().startswith(b"{") else None
        if isinstance(parsed, dict) and ("error" in parsed or "message" in parsed):
            raise stream_error(parsed, raw=unframed)
        if not answered:
            raise StreamInterruptedError(
                "the server ended the stream without answering: no answer, no finish reason", provider=PROVIDER
            )
        raise StreamInterruptedError(
            "the stream ended without a finish reason: the server stopped mid-answer", provider=PROVIDER
        )

    def check_answered(self, unframed: bytes) -> None:
        """The transport's check of a stream that ended before its first item (see ``HttpTransport.stream``).

        Raised there, the error is a failure before the first chunk: retried per the
        settings, and one a router may fall back from.

        Raises:
            StreamInterruptedError: The stream ended without answering.
        """
        self.check_finished(unframed, answered=False)

    def final_chunk(self) -> StreamChunk:
        """The last chunk of a finished stream: finish reason, usage and the assembled tool calls, no new text."""
        calls = self.calls.assembled() if self.calls else ()
        reason = (
            finish_reason_with_calls(self.finish_reason, bool(calls), cut_off=calls_cut_off(calls))
            if self.finish_reason
            else FinishReason.OTHER
        )
        return StreamChunk(is_final=True, finish_reason=reason, usage=self.final_usage, tool_calls=calls)


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
    except (ValueError, RecursionError):
        return data.decode("utf-8", "replace")
