"""``botticelli pull`` and ``botticelli models --local`` as real processes, against the fake hub."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from botticelli.cli.pull import human_size
from tests.local.hub._fake_hub import COMMIT, FakeHub
from tests.local.hub.conftest import FILE, GATED, REPO

REF = f"hf:{REPO}/{FILE}"
TIMEOUT = 30


def _botticelli(*args: str) -> list[str]:
    return [sys.executable, "-m", "botticelli", *args]


def _snapshot(tmp_path: Path) -> Path:
    return tmp_path / "hf" / "hub" / "models--botticelli-test--tiny-GGUF" / "snapshots" / COMMIT / FILE


def test_pull_on_a_pipe_prints_the_path_and_draws_no_bar(hub: FakeHub, tmp_path: Path, gguf_bytes: bytes) -> None:
    result = subprocess.run(_botticelli("pull", REF), capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{_snapshot(tmp_path)}\n"
    assert result.stderr == ""
    assert _snapshot(tmp_path).read_bytes() == gguf_bytes


def test_pull_draws_a_bar_on_a_pipe_when_told(hub: FakeHub) -> None:
    result = subprocess.run(
        _botticelli("pull", "--progress", REF), capture_output=True, text=True, timeout=TIMEOUT, check=True
    )
    assert "100%" in result.stderr


@pytest.mark.parametrize(("flags", "bar"), [((), True), (("--no-progress",), False)])
def test_pull_on_a_terminal_draws_a_progress_bar_unless_told_not_to(
    hub: FakeHub, tmp_path: Path, flags: tuple[str, ...], bar: bool
) -> None:
    controller, terminal = pty.openpty()
    # A fresh pseudo-terminal is 0 columns wide, and tqdm draws nothing in 0 columns.
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    try:
        with subprocess.Popen(
            _botticelli("pull", *flags, REF), stdout=subprocess.PIPE, stderr=terminal, stdin=subprocess.DEVNULL
        ) as process:
            os.close(terminal)
            terminal = -1
            screen = b""
            deadline = time.monotonic() + TIMEOUT
            while time.monotonic() < deadline:
                ready, _, _ = select.select([controller], [], [], 0.2)
                if ready:
                    try:
                        chunk = os.read(controller, 4096)
                    except OSError:  # the terminal closes when the process exits (EIO on Linux)
                        break
                    if not chunk:
                        break
                    screen += chunk
                elif process.poll() is not None:
                    break
            assert process.stdout is not None
            out = process.stdout.read().decode()
            assert process.wait(TIMEOUT) == 0
    finally:
        os.close(controller)
        if terminal >= 0:
            os.close(terminal)
    assert out == f"{_snapshot(tmp_path)}\n"
    text = screen.decode(errors="replace")
    assert (FILE in text and "100%" in text) is bar


def test_pull_of_a_gated_repo_fails_with_one_typed_line(hub: FakeHub) -> None:
    result = subprocess.run(
        _botticelli("pull", f"hf:{GATED}/{FILE}"), capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("botticelli: ModelAccessError (huggingface): ")
    assert "gated" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_pull_of_a_malformed_reference_is_a_usage_error(hub: FakeHub) -> None:
    result = subprocess.run(_botticelli("pull", "hf:org"), capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert result.returncode == 2
    assert "not a repository id" in result.stderr


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_botticelli(*args), capture_output=True, text=True, timeout=TIMEOUT, check=True)


def test_models_local_lists_the_cache(hub: FakeHub, gguf_bytes: bytes) -> None:
    _run("pull", REF)
    header, row = _run("models", "--local").stdout.splitlines()
    assert header.split() == ["REPO", "FILE", "SIZE", "REVISION"]
    assert row.split() == [REPO, FILE, *human_size(len(gguf_bytes)).split(), "main"]
    (entry,) = json.loads(_run("models", "--local", "--json").stdout)
    assert (entry["repo_id"], entry["filename"], entry["size"]) == (REPO, FILE, len(gguf_bytes))
    assert entry["ref"] == f"{REF}@{COMMIT}"


def test_serve_accepts_a_reference_and_fetches_it_before_starting(hub: FakeHub, tmp_path: Path) -> None:
    stub = Path(__file__).parents[1] / "server" / "_stub_server.py"
    argv = ["{python}", str(stub), "--host", "{host}", "--port", "{port}", "--model-name", "{model_name}"]
    command = json.dumps(argv)
    config = tmp_path / "serve.toml"
    config.write_text(f'[server]\ncommand = {command}\nmodel_path = "./absent.gguf"\nstartup_timeout = 20\n')
    with subprocess.Popen(
        _botticelli("serve", "--config", str(config), "--model", REF),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        first = process.stdout.readline()
        process.send_signal(signal.SIGTERM)
        assert process.wait(TIMEOUT) == 143
    assert first.startswith("serving 'tiny.Q8_0' at http://127.0.0.1:")
    assert _snapshot(tmp_path).is_file()


def test_serve_reports_a_failed_fetch_in_one_line_and_starts_nothing(hub: FakeHub, tmp_path: Path) -> None:
    config = tmp_path / "serve.toml"
    config.write_text('[server]\npreset = "llama-server"\n')
    result = subprocess.run(
        _botticelli("serve", "--config", str(config), "--model", f"hf:{GATED}/{FILE}"),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("botticelli: ModelAccessError (huggingface): ")
    assert hub.requests("GET") == []


def test_serve_refuses_a_reference_its_preset_cannot_load_before_any_download(hub: FakeHub, tmp_path: Path) -> None:
    config = tmp_path / "serve.toml"
    config.write_text('[server]\npreset = "llama-server"\n')
    result = subprocess.run(
        _botticelli("serve", "--config", str(config), "--model", "microsoft/Phi-3.5-mini-instruct"),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 2
    assert "--model microsoft/Phi-3.5-mini-instruct: the 'llama-server' server preset loads a local" in result.stderr
    assert hub.seen == []
