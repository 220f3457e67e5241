"""Gemini's ``streamGenerateContent?alt=sse`` events made into stream chunks. No I/O.

What sets Gemini's stream apart (see docs/gemini.md): there is no ``[DONE]``; the
``finishReason`` comes only on the last event; ``usageMetadata`` is repeated, and
revised, on every event, so the last one wins; and an error can arrive as an ordinary
data event, ``{"error": {...}}``. A stream that ends without a finish reason was cut
short, and :meth:`GeminiStreamDecoder.finish` says so rather than passing partial text
off as an answer.

Each event is parsed once, by pydantic from the raw bytes, into a view of the fields
read; the usage is read from the last event that had one, once, when the stream ends.

Example:
    >>> from botticelli_transport.sse import ServerSentEvent
    >>> decoder = GeminiStreamDecoder()
    >>> decoder.decode(ServerSentEvent(b'{"candidates": [{"content": {"parts": [{"text": "Hi"}]}}]}')).text
    'Hi'
    >>> decoder.decode(ServerSentEvent(b'{"candidates": [{"content": {"parts": [{"text": "!"}]},'
    ...                                b' "finishReason": "STOP"}], "usageMetadata": {"promptTokenCount": 2,'
    ...                                b' "candidatesTokenCount": 2, "totalTokenCount": 4}}')).text
    '!'
    >>> final = decoder.finish()
    >>> final.is_final, final.finish_reason.value, final.usage.total_tokens
    (True, 'stop', 4)
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError
from typing_extensions import TypedDict

from botticelli_core import FinishReason, StreamChunk, ToolCallOutput, Usage
from botticelli_error import ResponseDecodeError, StreamInterruptedError
from botticelli_gemini._tools import call_output
from botticelli_gemini.config import PROVIDER
from botticelli_gemini.convert import check_blocked, finish_reason, to_usage
from botticelli_gemini.errors import stream_error
from botticelli_gemini.response import WireError, WireFunctionCall, WireUsageMetadata, parse_generate_response
from botticelli_transport.sse import ServerSentEvent

__all__ = ["GeminiStreamDecoder"]

_EMPTY = StreamChunk()


# A typed view of the few fields a stream event is read for. pydantic-core skips every
# other key (safety ratings, token details...) without building objects for them, which
# makes this cheaper per event than the full response model, or even ``json.loads``.
class _Part(TypedDict, total=False):
    text: str | None
    thought: bool | None
    functionCall: WireFunctionCall | None
    thoughtSignature: str | None


class _Content(TypedDict, total=False):
    parts: list[_Part] | None


class _Candidate(TypedDict, total=False):
    content: _Content | None
    finishReason: str | None


class _Present(TypedDict, total=False):
    """An object whose keys are not read: the view only notes that it is there."""


class _Event(TypedDict, total=False):
    candidates: list[_Candidate] | None
    # Gemini repeats usageMetadata on every event and only the last counts, so the view
    # only checks that it is an object; the last event that had one is parsed for it once,
    # when the usage is asked for. Building its dict on every event cost more than that.
    usageMetadata: _Present | None
    promptFeedback: dict[str, Any] | None
    modelVersion: str | None
    error: WireError | None


@cache
def _event_parser() -> Callable[[bytes], _Event]:
    # Built on first use, not at import: a process that never streams never pays for it.
    # The core validator itself: the TypeAdapter method around it costs a call per event.
    parse: Callable[[bytes], _Event] = TypeAdapter(_Event).validator.validate_json
    return parse


class _Usage(TypedDict):
    usageMetadata: WireUsageMetadata


@cache
def _usage_parser() -> Callable[[bytes], _Usage]:
    parse: Callable[[bytes], _Usage] = TypeAdapter(_Usage).validator.validate_json
    return parse


_delta = StreamChunk.delta


class GeminiStreamDecoder:
    """Turns the events of one Gemini stream into :class:`~botticelli_core.StreamChunk` s.

    Feed every event to :meth:`decode`; at the end of the stream call :meth:`finish`
    for the final chunk. One decoder serves one stream.

    Gemini streams each function call whole, as one part: the calls are collected in
    :attr:`tool_calls` and given, with their ``thoughtSignature``, on the final chunk
    (:attr:`StreamChunk.tool_calls <botticelli_core.StreamChunk.tool_calls>`); they make
    the finish reason ``tool_use``.
    """

    __slots__ = ("_finish_reason", "_parse", "_pieces", "_request_id", "_usage", "model_version", "tool_calls")

    def __init__(self, *, request_id: str | None = None) -> None:
        self._parse = _event_parser()
        self._finish_reason: str | None = None
        self._pieces: list[str] = []
        self._usage: bytes | None = None
        """The data of the last event that carried usageMetadata."""
        self._request_id = request_id
        self.model_version: str | None = None
        self.tool_calls: list[ToolCallOutput] = []

    @property
    def text(self) -> str:
        """The answer text delivered so far."""
        return "".join(self._pieces)

    @property
    def usage(self) -> Usage | None:
        """The usage of the latest event that reported one.

        Raises:
            ResponseDecodeError: That usage does not follow the wire format.
        """
        data = self._usage
        if data is None:
            return None
        # Validated once, at the end, rather than on every event that repeats it.
        try:
            return to_usage(_usage_parser()(data)["usageMetadata"])
        except ValidationError:
            pass
        # Raised outside the except block (see decode).
        raise ResponseDecodeError(
            "Gemini sent usageMetadata that does not follow its wire format",
            provider=PROVIDER,
            request_id=self._request_id,
            body=_text(data),
        )

    def decode(self, event: ServerSentEvent) -> StreamChunk | None:
        """The chunk for one event, or ``None`` when it carries nothing new.

        An event with only function calls gives an empty chunk (no text, no reasoning).

        Raises:
            StreamInterruptedError: The event is an error (``{"error": ...}`` or ``event: error``).
            ContentBlockedError: The prompt was blocked.
            ResponseDecodeError: The event is not JSON of the documented shape.
        """
        parsed: _Event | None
        try:
            parsed = self._parse(event.data)
        except ValidationError:
            parsed = None
        if parsed is None:
            # The full model names the fields at fault in its error; the view is the more
            # lenient of the two, so it rejects nothing the full model accepts. Raised outside
            # the except block, so that pydantic's exception, which quotes the event (an API
            # key the server echoed too), is not the error's __context__.
            parse_generate_response(event.data)
            raise ResponseDecodeError(  # pragma: no cover - unreachable while the view stays lenient
                "Gemini sent a stream event that does not follow its wire format", provider=PROVIDER
            )
        error = parsed.get("error")
        if error is not None:
            raise stream_error(error, partial_text=self.text, body=_text(event.data))
        if event.event == "error":
            raise stream_error(WireError(message=_text(event.data)[:500]), partial_text=self.text)
        if parsed.get("usageMetadata") is not None:
            self._usage = event.data
        model = parsed.get("modelVersion")
        if model is not None:
            self.model_version = model
        candidates = parsed.get("candidates")
        if not candidates:
            if parsed.get("promptFeedback") is not None:
                check_blocked(parse_generate_response(event.data), request_id=self._request_id)
            return None
        candidate = candidates[0]
        reason = candidate.get("finishReason")
        if reason is not None:
            self._finish_reason = reason
        content = candidate.get("content")
        parts = content.get("parts") if content is not None else None
        return self._chunk(parts) if parts else None

    def _chunk(self, parts: list[_Part]) -> StreamChunk | None:
        if len(parts) == 1 and len(parts[0]) == 1:
            # One part that is only text, as nearly every event of a stream is.
            text = parts[0].get("text")
            if text:
                self._pieces.append(text)
                return _delta(text)
        text = ""
        reasoning = ""
        calls = False
        for part in parts:
            call = part.get("functionCall")
            if call is not None:
                self.tool_calls.append(call_output(call, part.get("thoughtSignature")))
                calls = True
            elif piece := part.get("text"):
                if part.get("thought"):
                    reasoning += piece
                else:
                    text += piece
        if not text and not reasoning:
            # An empty chunk still tells the transport that output began (so a later
            # failure is not retried into duplicate calls); callers drop empty chunks.
            return _EMPTY if calls else None
        if text:
            self._pieces.append(text)
        # Both are plain strings the parser already checked: skip validating them again.
        return _delta(text, reasoning)

    def finish(self) -> StreamChunk:
        """The final chunk, once the stream has ended.

        Raises:
            StreamInterruptedError: The stream ended without a finish reason.
        """
        if self._finish_reason is None:
            raise StreamInterruptedError(
                "the Gemini stream ended without a finish reason; the answer is incomplete",
                provider=PROVIDER,
                request_id=self._request_id,
                partial_text=self.text,
            )
        reason: FinishReason = finish_reason(self._finish_reason, has_tool_calls=bool(self.tool_calls))
        return StreamChunk(is_final=True, finish_reason=reason, usage=self.usage, tool_calls=tuple(self.tool_calls))


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")
