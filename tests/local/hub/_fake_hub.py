"""A small Hugging Face Hub look-alike on 127.0.0.1, for the real ``huggingface_hub`` client.

It serves the routes ``hf_hub_download`` calls: ``HEAD`` and ``GET``
``/{org}/{repo}/resolve/{revision}/{file}``, with the headers the client reads
(``X-Repo-Commit``, ``ETag``/``X-Linked-Etag``, ``X-Linked-Size``), ``Range`` requests
(``206`` with ``Content-Range``), and the hub's error codes (``X-Error-Code``:
``RepoNotFound``, ``GatedRepo``, ``RevisionNotFound``, ``EntryNotFound``). Faults are set
per file: ``cut_once`` sends half the body of the first full ``GET`` and closes the
connection; ``corrupt`` sends bytes that do not hash to the announced SHA-256.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COMMIT = "0123456789abcdef0123456789abcdef01234567"
_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<file>.+)$")
_RANGE = re.compile(r"^bytes=(\d+)-$")


@dataclass
class Seen:
    """One request the hub received."""

    method: str
    path: str
    range: str | None
    authorization: str | None


@dataclass
class FakeHub:
    """What the hub holds, which faults it injects, and what it saw."""

    files: dict[tuple[str, str], bytes] = field(default_factory=dict)
    gated: dict[str, str] = field(default_factory=dict)
    """Repository -> the one token that opens it."""
    cut_once: set[tuple[str, str]] = field(default_factory=set)
    corrupt: set[tuple[str, str]] = field(default_factory=set)
    seen: list[Seen] = field(default_factory=list)
    url: str = ""

    def requests(self, method: str) -> list[Seen]:
        return [request for request in self.seen if request.method == method]


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_HEAD(self) -> None:
            self._resolve(body=False)

        def do_GET(self) -> None:
            self._resolve(body=True)

        def _error(self, status: int, code: str, message: str) -> None:
            self.send_response(status)
            self.send_header("X-Error-Code", code)
            self.send_header("X-Error-Message", message)
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _resolve(self, *, body: bool) -> None:
            hub.seen.append(Seen(self.command, self.path, self.headers.get("Range"), self.headers.get("Authorization")))
            match = _RESOLVE.match(self.path)
            if match is None:
                self._error(404, "RepoNotFound", "no such route")
                return
            repo, rev, name = match["repo"], match["rev"], match["file"]
            if not any(key[0] == repo for key in hub.files):
                # The hub answers 401 for a repository that does not exist, as for a private one.
                self._error(401, "RepoNotFound", "Repository not found")
                return
            token = hub.gated.get(repo)
            if token is not None and self.headers.get("Authorization") != f"Bearer {token}":
                self._error(401, "GatedRepo", "Access to model is restricted")
                return
            if rev not in ("main", COMMIT):
                self._error(404, "RevisionNotFound", "Invalid rev id")
                return
            data = hub.files.get((repo, name))
            if data is None:
                self._error(404, "EntryNotFound", "Entry not found")
                return
            sha = hashlib.sha256(data).hexdigest()
            if (repo, name) in hub.corrupt:
                data = bytes(b ^ 0xFF for b in data)
            start = 0
            ranged = _RANGE.match(self.headers.get("Range") or "")
            if ranged is not None and body:
                start = int(ranged.group(1))
            self.send_response(206 if start else 200)
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("ETag", f'"{sha}"')
            self.send_header("X-Linked-Etag", f'"{sha}"')
            self.send_header("X-Linked-Size", str(len(data)))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(len(data) - start))
            if start:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.end_headers()
            if not body:
                return
            if (repo, name) in hub.cut_once and not start:
                hub.cut_once.discard((repo, name))
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(data[start:])

    return Handler


@contextmanager
def running(hub: FakeHub) -> Iterator[FakeHub]:
    """Serve ``hub`` on a free port of 127.0.0.1 until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hub))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
