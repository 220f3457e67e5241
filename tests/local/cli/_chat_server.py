"""A real HTTP server on 127.0.0.1, in a thread, answering chat completions with a long canned text.

The CLI tests that need a real process on the other end of a pipe run ``python -m
botticelli`` as a child, so respx (in this process) cannot answer for it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.local.hybrid.fakes import completion, sse_stream

WORDS = 20_000
"""Words in every answer: far more than a pipe buffers, so a closed reader is noticed."""


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests read the CLI's output, not the server's."""

    def do_GET(self) -> None:
        self._send(200, "application/json", json.dumps({"object": "list", "data": [{"id": "phi"}]}).encode())

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        request = json.loads(self.rfile.read(length))
        if request.get("stream"):
            self._send(200, "text/event-stream", sse_stream(*(["word "] * WORDS)))
        else:
            self._send(200, "application/json", json.dumps(completion("word " * WORDS)).encode())

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        # The client may hang up mid-body; that is the point of some tests.
        with suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)


@contextmanager
def chat_server(config_dir: Path) -> Iterator[Path]:
    """Serve until the block ends; yields a botticelli.toml (in ``config_dir``) pointing at the server."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    config = config_dir / "chat.toml"
    config.write_text(
        f'[model.local]\nbase_url = "http://127.0.0.1:{server.server_address[1]}"\nmodel = "phi"\nmax_retries = 0\n'
    )
    try:
        yield config
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
