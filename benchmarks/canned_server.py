"""A canned-response HTTP/1.1 server for the benchmarks, run out of process.

It answers the OpenAI-compatible and Gemini endpoints with bodies rendered once at
start-up, so serving a request costs one header scan and one ``transport.write``;
the client under test, not this server, is what the benchmark measures.

Run: ``python benchmarks/canned_server.py --port 0 --chunks 256 [--pace 0.5]``. It prints
``READY <port>`` on stdout once listening and stops on SIGTERM/SIGINT or when its
stdin closes (so it never outlives the benchmark that started it).

By default a streamed reply goes out in one write, so the client reads many events per
socket read. With ``--pace MS`` it is written one event per write, MS milliseconds apart,
as a real server writes token by token: each event then costs the client a read of its own.

Endpoints:
    POST /v1/chat/completions          streamed (``"stream": true`` in the body) or whole
    GET  /v1/models, GET /health
    POST /v1beta/models/{m}:streamGenerateContent?alt=sse   (CRLF-separated events)
    POST /v1beta/models/{m}:generateContent
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from typing import Any, NamedTuple

CREATED = 1727346168
MODEL = "canned"


def _token(i: int) -> str:
    return f" tok{i}"


def _http_chunk(payload: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(payload), payload)


def _compact(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _sse_head() -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )


def _json_response(body: bytes, status: bytes = b"200 OK") -> bytes:
    return b"HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
        status,
        len(body),
        body,
    )


def _openai_usage(chunks: int) -> dict[str, int]:
    return {"prompt_tokens": 5, "completion_tokens": chunks, "total_tokens": 5 + chunks}


class Reply(NamedTuple):
    """One rendered reply: whole, for a single write, and as the writes of a paced stream."""

    data: bytes
    writes: tuple[bytes, ...]
    """The head, one HTTP chunk per SSE event, the terminator; a whole reply is one write."""


def _reply(parts: list[bytes]) -> Reply:
    return Reply(b"".join(parts), tuple(parts))


def render_openai_stream(chunks: int) -> Reply:
    """The whole streamed reply: headers, one HTTP chunk per SSE event, then the terminator."""

    def event(choices: list[dict[str, Any]], **extra: Any) -> bytes:
        obj = {
            "id": "chatcmpl-canned",
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": MODEL,
            "system_fingerprint": "fp_canned",
            "choices": choices,
            **extra,
        }
        return _http_chunk(b"data: " + _compact(obj) + b"\n\n")

    parts = [_sse_head()]
    for i in range(chunks):
        delta: dict[str, Any] = {"content": _token(i)}
        if i == 0:
            delta = {"role": "assistant", **delta}
        parts.append(event([{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}]))
    parts.append(event([{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]))
    parts.append(event([], usage=_openai_usage(chunks)))
    parts.append(_http_chunk(b"data: [DONE]\n\n"))
    parts.append(b"0\r\n\r\n")
    return _reply(parts)


def render_openai_whole(chunks: int) -> bytes:
    """A non-streamed chat completion carrying the same text as the stream."""
    body = {
        "id": "chatcmpl-canned",
        "object": "chat.completion",
        "created": CREATED,
        "model": MODEL,
        "system_fingerprint": "fp_canned",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "".join(_token(i) for i in range(chunks))},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": _openai_usage(chunks),
    }
    return _json_response(_compact(body))


def _gemini_obj(text: str, *, final: bool, chunks: int) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": [{"text": text}], "role": "model"}, "index": 0}
    usage: dict[str, int] = {"promptTokenCount": 5, "totalTokenCount": 5}
    if final:
        candidate["finishReason"] = "STOP"
        usage = {"promptTokenCount": 5, "candidatesTokenCount": chunks, "totalTokenCount": 5 + chunks}
    return {
        "candidates": [candidate],
        "usageMetadata": usage,
        "modelVersion": MODEL,
        "responseId": "canned-response",
    }


def render_gemini_stream(chunks: int) -> Reply:
    """Gemini's SSE: CRLF separators, usage on every event, finishReason on the last, no [DONE]."""
    parts = [_sse_head()]
    for i in range(chunks):
        obj = _gemini_obj(_token(i), final=i == chunks - 1, chunks=chunks)
        parts.append(_http_chunk(b"data: " + _compact(obj) + b"\r\n\r\n"))
    parts.append(b"0\r\n\r\n")
    return _reply(parts)


def render_gemini_whole(chunks: int) -> bytes:
    """A non-streamed generateContent reply."""
    text = "".join(_token(i) for i in range(chunks))
    return _json_response(_compact(_gemini_obj(text, final=True, chunks=chunks)))


class Responses:
    """Every reply, rendered once."""

    def __init__(self, chunks: int) -> None:
        self.openai_stream = render_openai_stream(chunks)
        self.openai_whole = _reply([render_openai_whole(chunks)])
        self.gemini_stream = render_gemini_stream(chunks)
        self.gemini_whole = _reply([render_gemini_whole(chunks)])
        models = {
            "object": "list",
            "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "bench"}],
        }
        self.models = _reply([_json_response(_compact(models))])
        self.health = _reply([_json_response(b'{"status":"ok"}')])
        self.not_found = _reply(
            [_json_response(b'{"error":{"message":"not found","type":"not_found_error"}}', b"404 Not Found")]
        )

    def pick(self, method: bytes, target: bytes, body: bytes) -> Reply:
        """The reply for one request; the body is only searched for the stream flag."""
        path = target.split(b"?", 1)[0]
        if method == b"POST":
            if path == b"/v1/chat/completions":
                # Searching the bytes, not parsing JSON, keeps the server cheap; clients
                # serialise the flag as either `"stream":true` or `"stream": true`.
                streamed = b'"stream":true' in body or b'"stream": true' in body
                return self.openai_stream if streamed else self.openai_whole
            if path.startswith(b"/v1beta/models/"):
                if path.endswith(b":streamGenerateContent"):
                    return self.gemini_stream
                if path.endswith(b":generateContent"):
                    return self.gemini_whole
        elif method == b"GET":
            if path == b"/v1/models":
                return self.models
            if path in (b"/health", b"/v1/health"):
                return self.health
        return self.not_found


class CannedProtocol(asyncio.Protocol):
    """Minimal HTTP/1.1 keep-alive: Content-Length bodies, pipelining tolerated."""

    def __init__(self, responses: Responses, pace_s: float = 0.0) -> None:
        self._responses = responses
        self._pace = pace_s
        self._buf = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._buf += data
        while True:
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self._buf[:end]
            lines = head.split(b"\r\n")
            try:
                method, target, _ = lines[0].split(b" ", 2)
            except ValueError:
                self._close()
                return
            length = 0
            close = False
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                lname = name.strip().lower()
                if lname == b"content-length":
                    length = int(value)
                elif lname == b"connection" and value.strip().lower() == b"close":
                    close = True
            total = end + 4 + length
            if len(self._buf) < total:
                return
            body = self._buf[end + 4 : total]
            self._buf = self._buf[total:]
            assert self._transport is not None
            reply = self._responses.pick(method, target, body)
            if self._pace and len(reply.writes) > 1:
                self._write_paced(reply.writes)
            else:
                self._transport.write(reply.data)
            if close:
                self._close()
                return

    def _write_paced(self, writes: tuple[bytes, ...]) -> None:
        # The head, then one HTTP chunk (one SSE event) per write, each a pace after the last.
        loop = asyncio.get_running_loop()
        queue = iter(writes)

        def write_next() -> None:
            piece = next(queue, None)
            transport = self._transport
            if piece is None or transport is None or transport.is_closing():
                return
            transport.write(piece)
            loop.call_later(self._pace, write_next)

        write_next()

    def _close(self) -> None:
        if self._transport is not None:
            self._transport.close()


async def serve(host: str, port: int, chunks: int, pace_ms: float = 0.0) -> None:
    """Listen until SIGTERM/SIGINT or until stdin reaches EOF."""
    responses = Responses(chunks)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: CannedProtocol(responses, pace_ms / 1e3), host, port, backlog=4096)
    bound = server.sockets[0].getsockname()[1]
    print(f"READY {bound}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    # The parent holds our stdin; if it dies without signalling, EOF here ends us too.
    stdin = sys.stdin.fileno()
    loop.add_reader(stdin, lambda: None if os.read(stdin, 4096) else stop.set())
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--chunks", type=int, default=256, help="content chunks per streamed reply")
    parser.add_argument("--pace", type=float, default=0.0, help="ms between the events of a stream (0: one write)")
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port, args.chunks, args.pace))


if __name__ == "__main__":
    main()
