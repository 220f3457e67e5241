"""README.md's "next step after the demo", run command by command against the real llama.cpp server.

The commands are read from the README (the blocks marked ``real-server``, the
``botticelli.toml`` block after the first of them, and the README's first Python example),
not copied here, so the test runs what a reader runs. One deviation: the port, 8080 in the
README, is swapped for a free one, so the test cannot collide with another server.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from botticelli_server._ports import find_free_port
from tests.local.docs.snippets import PYTHON, ROOT, SHELL, Snippet, parse

pytestmark = [pytest.mark.api, pytest.mark.usefixtures("llama_cpp_server")]

README = ROOT / "README.md"
_BIN = Path(sys.executable).parent
_STARTUP_S = 120.0


def _readme() -> tuple[list[Snippet], str, str]:
    """The real-server shell blocks in order, the botticelli.toml after the first, the first Python example."""
    snippets = parse(README)
    shell = [s for s in snippets if s.kind == "real-server" and s.lang in SHELL]
    first = snippets.index(shell[0])
    toml = next(s for s in snippets[first:] if s.lang == "toml").code
    python = next(s for s in snippets if s.lang in PYTHON).code
    return shell, toml, python


def _argv(line: str) -> list[str]:
    argv = shlex.split(line, comments=True)
    if argv[0] == "python":
        return [sys.executable, *argv[1:]]
    assert argv[0] == "botticelli", line
    return [str(_BIN / "botticelli"), *argv[1:]]


def _env(home: Path) -> dict[str, str]:
    # Only the botticelli.toml of the folder decides: no variable of the developer's shell.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOTTICELLI_", "INFERENCE_SERVER_", "GEMINI_"))}
    return {**env, "XDG_CONFIG_HOME": str(home / "xdg"), "PYTHONUNBUFFERED": "1"}


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)


def _wait_until_serving(serve: subprocess.Popen[str]) -> str:
    assert serve.stdout is not None
    deadline = time.monotonic() + _STARTUP_S
    seen: list[str] = []
    while time.monotonic() < deadline:
        line = serve.stdout.readline()
        if not line:
            break
        seen.append(line)
        if line.startswith("serving "):
            return line
    raise AssertionError(f"botticelli serve did not report serving: {''.join(seen)}")


def test_the_readme_next_step_works_as_written(tmp_path: Path) -> None:
    shell, toml, example = _readme()
    (write,), (serve_line,), (generate,) = (s.code.strip().splitlines() for s in shell)
    port = str(find_free_port("127.0.0.1"))
    env = _env(tmp_path)

    done = _run(_argv(write), tmp_path, env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "models" / "tiny.gguf").is_file()
    (tmp_path / "botticelli.toml").write_text(toml.replace("8080", port), encoding="utf-8")

    with subprocess.Popen(
        _argv(serve_line), cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as serve:
        try:
            ready = _wait_until_serving(serve)
            assert f"http://127.0.0.1:{port}" in ready

            streamed = _run(_argv(generate), tmp_path, env)
            assert streamed.returncode == 0, streamed.stderr
            assert streamed.stdout.strip(), "generate --stream printed no text"

            script = tmp_path / "first_example.py"
            script.write_text(example.replace("8080", port), encoding="utf-8")
            ran = _run([sys.executable, str(script)], tmp_path, env)
            assert ran.returncode == 0, ran.stderr
            # The example's last line is "{finish_reason}, {usage}"; llama-cpp-python's server
            # never reports usage on a stream, so that half is "None" here, as the README says.
            text, last = ran.stdout.rstrip("\n").rsplit("\n", 1)
            assert text.strip(), ran.stdout
            assert last in ("length, None", "stop, None"), ran.stdout
        finally:
            serve.send_signal(signal.SIGINT)  # Ctrl-C, as the README says
            code = serve.wait(timeout=60)
    assert code == 130
