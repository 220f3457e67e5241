"""Server-Sent Events over httpx-sse's line framing, with the rules peers learned the hard way.

httpx-sse splits the body into lines (CRLF, CR and LF, also split across reads, in
time linear in the input). This module feeds it bytes and reads the fields by the
WHATWG rules, adding what a client of LLM servers needs (see docs/design.md, "Streams"):

- the UTF-8 byte order mark is dropped, and bytes are decoded as UTF-8 whatever the
  ``content-type`` claims (the SSE standard fixes the encoding);
- comments (keep-alives) are skipped;
- events without a ``data`` line are never dispatched, so the empty events that
  ``id:``/``retry:`` lines make never reach a JSON parser;
- a line that is neither a field nor a comment (Ollama writes a bare JSON error that
  way) is kept in :attr:`SSEDecoder.unframed` for the caller's end-of-stream check;
- a line and an event are capped in size: a server that never ends a line gets a
  :class:`~botticelli_error.ResponseDecodeError` instead of unbounded memory.

Events are assembled here rather than by httpx-sse's own event decoder, which has no
notion of unframed lines or data-less events and would add a second pass over every
line. It does no I/O, so tests feed it bytes.
"""

from __future__ import annotations

import codecs
from typing import NamedTuple

# httpx-sse's line decoder is what its own EventSource uses; it lives in a private
# module, so the dependency is pinned to 0.4.2 and later 0.4 releases (pyproject.toml).
from httpx_sse._decoders import SSELineDecoder as _LineSplitter

from botticelli_error import ResponseDecodeError
from botticelli_transport.settings import DEFAULT_MAX_SSE_EVENT_CHARS, DEFAULT_MAX_SSE_LINE_CHARS

__all__ = ["SSEDecoder", "ServerSentEvent"]

_BOM = "\ufeff"
_utf8 = codecs.utf_8_decode
# tuple.__new__ builds the named tuple without the Python-level __new__ it generates.
_event_tuple = tuple.__new__
# Raw lines kept for diagnosis when a server writes JSON with no SSE framing (Ollama).
_MAX_UNFRAMED = 4096


class ServerSentEvent(NamedTuple):
    """One dispatched event.

    Examples:
        >>> ServerSentEvent(b'{"x": 1}').event
        'message'
    """

    data: bytes
    """The event's data lines joined with ``\\n``, as UTF-8 bytes (what JSON parsers read fastest)."""
    event: str = "message"
    """The event type; ``"message"`` when the server named none."""
    id: str | None = None
    """The last event id seen, if any."""


class SSEDecoder:
    r"""Turns a byte stream, fed in arbitrary pieces, into :class:`ServerSentEvent` s.

    Args:
        provider: Named in the error a line or event over its cap raises.
        max_line_chars: The longest line accepted.
        max_event_chars: The most data one event may carry.

    Examples:
        >>> decoder = SSEDecoder()
        >>> decoder.feed(b'data: {"a":1}\r\n\r\n: keep-alive\n\ndata: [DO')
        [ServerSentEvent(data=b'{"a":1}', event='message', id=None)]
        >>> decoder.feed(b'NE]\n\n')
        [ServerSentEvent(data=b'[DONE]', event='message', id=None)]
    """

    __slots__ = (
        "_data",
        "_event",
        "_event_chars",
        "_id",
        "_lines",
        "_max_event",
        "_max_line",
        "_provider",
        "_started",
        "_undecoded",
        "unframed",
    )

    def __init__(
        self,
        *,
        provider: str = "botticelli",
        max_line_chars: int = DEFAULT_MAX_SSE_LINE_CHARS,
        max_event_chars: int = DEFAULT_MAX_SSE_EVENT_CHARS,
    ) -> None:
        self._undecoded = b""
        self._lines = _LineSplitter()
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None
        self._provider = provider
        self._max_line = max_line_chars
        self._max_event = max_event_chars
        self._started = False
        self._event_chars = 0
        self.unframed = b""
        """The last line that was neither a field nor a comment, e.g. a bare JSON error body."""

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode the next piece of the stream; returns the events it completed.

        Raises:
            ResponseDecodeError: A line or an event is over its cap.
        """
        undecoded = self._undecoded
        if undecoded:
            chunk = undecoded + chunk
            self._undecoded = b""
        try:
            # Whole, valid UTF-8, as nearly every read is: the plain decode is the cheapest call.
            text = chunk.decode()
        except UnicodeDecodeError:
            # codecs' C decoder itself: a character split across reads waits for its other
            # bytes, and invalid bytes become U+FFFD, exactly as if every read went this way.
            text, used = _utf8(chunk, "replace", False)
            if used < len(chunk):
                self._undecoded = chunk[used:]
        if not self._started:
            if not text:
                return []  # not even one whole character yet (a BOM split across reads)
            self._started = True
            if text[0] == _BOM:
                text = text[1:]
                if not text:
                    return []
        lines = self._lines
        events = self._events(lines.decode(text))
        pending = lines.buffer
        if pending and sum(map(len, pending)) > self._max_line:
            raise self._too_long("line", self._max_line)
        return events

    def flush(self) -> list[ServerSentEvent]:
        """End of stream: dispatch data the server left without its closing blank line.

        Complete ``data:`` lines are dispatched even without the blank line strict SSE
        requires. A last line with no line ending at all may have been cut mid-way, so it
        is not dispatched; it is kept in :attr:`unframed` (where a server that writes bare
        JSON errors leaves its message) and the caller's end-of-stream check decides.
        """
        events = []
        if self._undecoded:
            tail, _ = _utf8(self._undecoded, "replace", True)
            self._undecoded = b""
            events = self._events(self._lines.decode(tail))
        # A held CR ended its line; without one, the last line may have been cut short.
        complete = self._lines.trailing_cr
        for line in self._lines.flush():
            if complete:
                events += self._events([line])
            elif line:
                self.unframed = line[-_MAX_UNFRAMED:].encode()
        return [*events, self._dispatch()] if self._data else events

    def _events(self, lines: list[str]) -> list[ServerSentEvent]:
        events: list[ServerSentEvent] = []
        for line in lines:
            if line.startswith("data:"):
                value = line[6:] if line[5:6] == " " else line[5:]
                self._data.append(value)
                self._event_chars += len(value)
                if self._event_chars > self._max_event:
                    raise self._too_long("event", self._max_event)
            elif not line:
                if self._data:
                    events.append(self._dispatch())
                else:
                    self._event = ""
            elif line[0] != ":":  # a comment (keep-alive) otherwise
                self._field(line)
        return events

    def _dispatch(self) -> ServerSentEvent:
        data = self._data
        text = data[0] if len(data) == 1 else "\n".join(data)
        self._data = []
        self._event_chars = 0
        event = self._event or "message"
        self._event = ""
        return _event_tuple(ServerSentEvent, (text.encode(), event, self._id))

    def _field(self, line: str) -> None:
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":  # "data" with no colon: an empty data line
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._id = value or None
        elif name != "retry":
            self.unframed = line[-_MAX_UNFRAMED:].encode()

    def _too_long(self, what: str, limit: int) -> ResponseDecodeError:
        return ResponseDecodeError(
            f"the server sent an SSE {what} longer than {limit:,} characters; "
            f"raise the client's max_sse_{what}_chars if that is expected",
            provider=self._provider,
        )
