"""``botticelli serve`` as a real process: signals stop the server child, failures show its last words."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

STUB_SERVER = Path(__file__).parents[1] / "server" / "_stub_server.py"
TIMEOUT = 30


def _config(tmp_path: Path, *flags: str, port: int | None = None) -> Path:
    config = tmp_path / "serve.toml"
    command = json.dumps(["{python}", str(STUB_SERVER), "--host", "{host}", "--port", "{port}", *flags])
    extra = f"port = {port}\n" if port is not None else ""
    config.write_text(f"[server]\ncommand = {command}\nalias = 'stub'\nstartup_timeout = 20\n{extra}")
    return config


def _serve(config: Path, *options: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "botticelli", "serve", "--config", str(config), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie still answers kill(0) until its parent (here: init) reaps it.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"


@pytest.mark.parametrize(
    ("signum", "status"),
    [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGQUIT, 131)],
    ids=["TERM", "HUP", "QUIT"],
)
def test_a_terminating_signal_stops_the_server_child(tmp_path: Path, signum: signal.Signals, status: int) -> None:
    with _serve(_config(tmp_path)) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        try:
            line = process.stdout.readline()
            assert line.startswith("serving 'stub' at http://127.0.0.1:"), line + process.stderr.read()
            server_pid = int(line.split("(pid ")[1].split(")")[0])
            process.send_signal(signum)
            assert process.wait(timeout=TIMEOUT) == status
            assert process.stderr.read() == ""
        finally:
            if process.poll() is None:
                process.kill()
    assert _gone(server_pid)


def test_a_signal_during_startup_stops_the_server_child_too(tmp_path: Path) -> None:
    # The stub answers "loading" for a long while, so the signal arrives before it is ready.
    with _serve(_config(tmp_path, "--loading-probes", "100000")) as process:
        assert process.stdout is not None
        try:
            # serve prints the stub's pid only once it is ready: find it as serve's child instead.
            pids = _children_of(process.pid, within=TIMEOUT)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=TIMEOUT) == 143
        finally:
            if process.poll() is None:
                process.kill()
    assert all(_gone(pid) for pid in pids)


def _children_of(pid: int, within: float) -> list[int]:
    """The pids whose parent is ``pid``, once there is one (polled: a child's start has no event)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = [int(entry.name) for entry in Path("/proc").glob("[0-9]*") if _parent(entry) == pid]
        if found:
            time.sleep(0.5)  # let the stub get as far as waiting for probes
            return found
        time.sleep(0.05)
    raise AssertionError(f"process {pid} started no child within {within} s")


def _parent(entry: Path) -> int | None:
    try:
        return int(entry.joinpath("stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def test_a_failed_start_shows_the_servers_last_output_without_verbose(tmp_path: Path) -> None:
    # An option the stub does not know: it exits at once with argparse's complaint.
    with _serve(_config(tmp_path, "--no-such-option")) as process:
        _, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 1
    assert "exited with status 2 before it was ready; the server's output (" in err
    assert "unrecognized arguments: --no-such-option" in err
    assert "Traceback" not in err


def _serving_pid(process: subprocess.Popen[str]) -> int:
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("serving 'stub' at http://127.0.0.1:"), line
    return int(line.split("(pid ")[1].split(")")[0])


def test_verbose_after_the_command_passes_the_servers_own_output_to_standard_error(tmp_path: Path) -> None:
    with _serve(_config(tmp_path), "-v") as process:
        try:
            _serving_pid(process)
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=TIMEOUT)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 143
    # The stub's own lines, as it wrote them, beside botticelli's log; standard output keeps its two lines.
    assert "\nlistening on 127.0.0.1:" in f"\n{err}"
    assert "request /v1/models" in err or "request /health" in err
    assert "botticelli: event='inference_server_ready'" in err
    assert "listening on" not in out


def test_a_server_that_dies_while_serving_is_reported_with_the_lines_that_explain_it(tmp_path: Path) -> None:
    # 20 KB of output first, as a model load writes: the report must not be made of it.
    with _serve(_config(tmp_path, "--noise-bytes", "20000")) as process:
        try:
            os.kill(_serving_pid(process), signal.SIGKILL)
            _, err = process.communicate(timeout=TIMEOUT)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 1
    first, *kept = err.splitlines()
    assert "the inference server exited with status -9; the server's output (" in first
    assert "kept: the last 12" in first
    assert len(kept) == 12
    assert "listening on 127.0.0.1:" in err


class _Healthy(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")


@pytest.fixture
def taken_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Healthy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_serve_on_a_port_another_server_holds_fails_instead_of_reporting_ready(tmp_path: Path, taken_port: int) -> None:
    with _serve(_config(tmp_path, port=taken_port)) as process:
        out, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 1
    assert "serving" not in out
    assert f"port {taken_port} on 127.0.0.1 is already in use by another process" in err
