"""InferenceServer and a port someone else already serves: refuse it, and never take their answer for ours."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import anyio
import pytest

from botticelli_error import ConfigurationError, ServerUnavailableError
from botticelli_server import launcher
from botticelli_server._ports import foreign_listener, port_in_use
from botticelli_server.launcher import InferenceServer, find_free_port
from tests.local.server.test_launcher import group_is_gone, stub_server


class _Healthy(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        body = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def other_server() -> Iterator[int]:
    """Another process's server (this test process's, to be exact) answering every probe; yields its port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Healthy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_port_in_use_sees_a_listener_and_not_a_free_port(other_server: int) -> None:
    assert port_in_use("127.0.0.1", other_server)
    assert port_in_use("0.0.0.0", other_server)  # a wildcard bind conflicts with it too
    assert not port_in_use("127.0.0.1", find_free_port())


@pytest.mark.anyio
async def test_a_port_already_served_is_refused_before_anything_starts(other_server: int) -> None:
    server = stub_server(port=other_server)
    started = time.monotonic()
    with pytest.raises(ServerUnavailableError) as caught:
        await server.start()
    assert time.monotonic() - started < 5
    assert f"port {other_server} on 127.0.0.1 is already in use" in caught.value.message
    assert caught.value.retryable is False
    assert server.pid is None
    with pytest.raises(ConfigurationError, match="not ready"):
        server.config  # noqa: B018 - never ready


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="who holds a socket is read from Linux's /proc")
@pytest.mark.anyio
async def test_a_listener_older_than_our_server_is_not_taken_for_it(
    other_server: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The port check is passed as if the other server had bound the port just after it.
    monkeypatch.setattr(launcher, "port_in_use", lambda host, port: False)
    server = InferenceServer(
        [sys.executable, "-c", "import time; print('loading', flush=True); time.sleep(60)"],
        port=other_server,
        startup_timeout=15.0,
        stop_grace=1.0,
        poll_interval=0.05,
    )
    # The other server (this process) must be clearly older than ours, at the whole-second resolution of boot time.
    await anyio.sleep(1.1)
    with pytest.raises(ServerUnavailableError) as caught:
        await server.start()
    assert f"another process (pid {os.getpid()}) listens on port {other_server}" in caught.value.message
    assert server.pid is not None
    assert group_is_gone(server.pid)


@pytest.mark.anyio
async def test_a_child_that_dies_on_a_taken_port_is_never_reported_ready(
    other_server: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(launcher, "port_in_use", lambda host, port: False)
    server = stub_server(port=other_server)
    with pytest.raises(ServerUnavailableError) as caught:
        await server.start()
    # Whichever is seen first: the child's exit ("Address already in use") or the other listener.
    assert "exited with status" in caught.value.message or "another process" in caught.value.message
    assert server.pid is not None
    assert group_is_gone(server.pid)


@pytest.mark.anyio
async def test_our_own_listener_is_not_foreign() -> None:
    async with stub_server() as server:
        assert server.pid is not None
        assert server.port is not None
        assert foreign_listener(server.port, group=server.pid, started_before=time.time()) is None


def test_a_port_nobody_listens_on_has_no_foreign_listener() -> None:
    assert foreign_listener(find_free_port(), group=os.getpid(), started_before=time.time()) is None
