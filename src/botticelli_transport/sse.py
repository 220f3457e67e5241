"""An incremental Server-Sent Events decoder over raw bytes. It does no I/O.

It follows the WHATWG event-stream rules with the lessons peers learned the hard way
(see docs/design.md): CRLF, CR and LF line endings, also split across reads;
comments (keep-alives) skipped; events without data never dispatched, so the empty
events other decoders emit after ``id:``/``retry:`` lines never reach a JSON parser;
unknown fields and named events passed through for the caller to judge.

It works on bytes and hands out ``data`` as bytes, so the JSON parser reads it with
no decode-and-copy step: per event this is a handful of byte operations.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["SSEDecoder", "ServerSentEvent"]

_BOM = b"\xef\xbb\xbf"
# Raw lines kept for diagnosis when a server writes JSON with no SSE framing (Ollama).
_MAX_UNFRAMED = 4096


class ServerSentEvent(NamedTuple):
    """One dispatched event.

    Examples:
        >>> ServerSentEvent(b'{"x": 1}').event
        'message'
    """

    data: bytes
    """The event's data lines joined with ``\\n``."""
    event: str = "message"
    """The event type; ``"message"`` when the server named none."""
    id: str | None = None
    """The last event id seen, if any."""


class SSEDecoder:
    r"""Turns a byte stream, fed in arbitrary pieces, into :class:`ServerSentEvent` s.

    Examples:
        >>> decoder = SSEDecoder()
        >>> decoder.feed(b'data: {"a":1}\r\n\r\n: keep-alive\n\ndata: [DO')
        [ServerSentEvent(data=b'{"a":1}', event='message', id=None)]
        >>> decoder.feed(b'NE]\n\n')
        [ServerSentEvent(data=b'[DONE]', event='message', id=None)]
    """

    __slots__ = ("_buffer", "_data", "_event", "_id", "_started", "unframed")

    def __init__(self) -> None:
        self._buffer = b""
        self._data: list[bytes] = []
        self._event = ""
        self._id: str | None = None
        self._started = False
        self.unframed = b""
        """The last line that was neither a field nor a comment, e.g. a bare JSON error body."""

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode the next piece of the stream; returns the events it completed."""
        if not self._started:
            chunk = self._buffer + chunk
            self._buffer = b""
            if len(chunk) < len(_BOM) and _BOM.startswith(chunk):
                # Possibly the start of a BOM split across reads: wait for more.
                self._buffer = chunk
                return []
            self._started = True
            if chunk.startswith(_BOM):
                chunk = chunk[len(_BOM) :]
        buffer = self._buffer + chunk if self._buffer else chunk
        if b"\r" in buffer:
            # A CR at the very end may be the first half of a CRLF split across reads.
            held = b"\r" if buffer.endswith(b"\r") else b""
            if held:
                buffer = buffer[:-1]
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n") + held
        lines = buffer.split(b"\n")
        self._buffer = lines.pop()
        events: list[ServerSentEvent] = []
        for line in lines:
            if line.startswith(b"data:"):
                self._data.append(line[6:] if line[5:6] == b" " else line[5:])
            elif not line:
                if self._data:
                    events.append(self._dispatch())
                else:
                    self._event = ""
            elif line[0] != 58:  # 58 is ":", a comment line
                self._field(line)
        return events

    def flush(self) -> list[ServerSentEvent]:
        """End of stream: dispatch data the server left without its closing blank line.

        Complete ``data:`` lines are dispatched even without the blank line strict SSE
        requires. A last line with no line ending at all may have been cut mid-way, so it
        is not dispatched; it is kept in :attr:`unframed` (where a server that writes bare
        JSON errors leaves its message) and the caller's end-of-stream check decides.
        """
        if self._buffer:
            self.unframed = self._buffer[-_MAX_UNFRAMED:]
            self._buffer = b""
        return [self._dispatch()] if self._data else []

    def _dispatch(self) -> ServerSentEvent:
        data = self._data[0] if len(self._data) == 1 else b"\n".join(self._data)
        self._data = []
        event = self._event or "message"
        self._event = ""
        return ServerSentEvent(data, event, self._id)

    def _field(self, line: bytes) -> None:
        name, sep, value = line.partition(b":")
        if sep and value.startswith(b" "):
            value = value[1:]
        if name == b"data":
            self._data.append(value)
        elif name == b"event":
            self._event = value.decode("utf-8", "replace")
        elif name == b"id":
            if b"\0" not in value:
                self._id = value.decode("utf-8", "replace")
        elif name != b"retry":
            self.unframed = line[-_MAX_UNFRAMED:]
