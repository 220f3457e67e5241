"""Standard output that fails: a reader that closed the pipe, a full disk. No traceback in either case."""

from __future__ import annotations

import errno
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from botticelli.cli import main
from tests.local.cli._chat_server import chat_server

DEV_FULL = Path("/dev/full")


def _botticelli(*argv: str) -> list[str]:
    return [sys.executable, "-m", "botticelli", *argv]


# As a user runs it: with PYTHONUNBUFFERED, Python's text layer drops what a short write left over
# instead of failing, so a closed pipe may never be noticed.
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_a_closed_pipe_ends_generate_quietly_with_141(tmp_path: Path, stream: bool) -> None:
    with chat_server(tmp_path) as config:
        argv = _botticelli("generate", "Hi", "--config", str(config), *(["--stream"] if stream else []))
        with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0, env=ENV) as process:
            assert process.stdout is not None
            assert process.stderr is not None
            try:
                assert process.stdout.read(5) == b"word "  # what `head -c 5` reads before it exits
                process.stdout.close()
                assert process.wait(timeout=60) == 141
                assert process.stderr.read().decode() == ""
            finally:
                if process.poll() is None:
                    process.kill()


def test_a_closed_pipe_before_the_first_write_is_quiet_too(tmp_path: Path) -> None:
    with chat_server(tmp_path) as config:
        shell = f"{subprocess.list2cmdline(_botticelli('models', '--config', str(config)))} | true"
        # pipefail reports botticelli's own status rather than true's.
        result = subprocess.run(
            ["bash", "-o", "pipefail", "-c", f"sleep 0.2 | true; {shell}"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env=ENV,
        )
    assert result.returncode in (0, 141)  # 0 when the write won the race with true's exit
    assert result.stderr == ""


@pytest.mark.skipif(not DEV_FULL.exists(), reason="needs /dev/full")
@pytest.mark.parametrize(
    "argv", [["generate", "Hi"], ["generate", "--stream", "Hi"], ["models"], ["--version"]], ids=" ".join
)
def test_a_full_disk_is_one_line_and_exit_1(tmp_path: Path, argv: list[str]) -> None:
    with chat_server(tmp_path) as config, DEV_FULL.open("w") as full:
        extra = ["--config", str(config)] if argv[0] != "--version" else []
        result = subprocess.run(
            _botticelli(*argv, *extra), stdout=full, stderr=subprocess.PIPE, text=True, timeout=60, check=False, env=ENV
        )
    assert result.returncode == 1
    assert result.stderr == "botticelli: error: cannot write to standard output: No space left on device\n"


class _ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")


def test_in_process_a_closed_pipe_returns_141_and_says_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    assert main(["--version"]) == 141
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("argv", [["--version"], ["models"]], ids=" ".join)
def test_a_closed_standard_output_is_one_line_and_exit_1(tmp_path: Path, argv: list[str]) -> None:
    with chat_server(tmp_path) as config:
        extra = ["--config", str(config)] if argv[0] != "--version" else []
        # Descriptor 1 closed for the command, as `botticelli ... >&-` does in a shell.
        result = subprocess.run(
            ["bash", "-c", 'exec "$@" >&-', "bash", *_botticelli(*argv, *extra)],
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
            env=ENV,
        )
    assert result.returncode == 1
    assert result.stderr == "botticelli: error: cannot write to standard output: standard output is closed\n"


def test_with_standard_error_closed_an_error_is_not_printed_on_standard_output(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            "bash",
            "-c",
            'exec "$@" 2>&-',
            "bash",
            *_botticelli("generate", "Hi", "--config", str(tmp_path / "none.toml")),
        ],
        stdout=subprocess.PIPE,
        text=True,
        timeout=60,
        check=False,
        env=ENV,
    )
    assert result.returncode == 2
    assert result.stdout == ""
