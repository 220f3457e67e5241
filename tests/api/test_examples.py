"""The scripts the documentation includes (examples/) run against a real server and do what they say."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from botticelli_server import ServerConfig

pytestmark = pytest.mark.api

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_example(name: str, config: ServerConfig) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "INFERENCE_SERVER_BASE_URL": config.base_url,
        "INFERENCE_SERVER_MODEL": config.model,
    }
    if config.api_key is not None:
        env["INFERENCE_SERVER_API_KEY"] = config.api_key.get_secret_value()
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name)], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_quickstart_prints_an_answer_then_streams_one_ending_with_its_finish_reason(
    server_config: ServerConfig,
) -> None:
    done = run_example("quickstart.py", server_config)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    # The whole answer, its finish reason and usage, then the streamed answer and its final line.
    assert any(line.startswith(("length ", "stop ")) and "input_tokens=" in line for line in lines), done.stdout
    assert lines[-1].startswith(("[length]", "[stop]")), done.stdout


def test_errors_example_streams_without_raising(server_config: ServerConfig) -> None:
    done = run_example("errors.py", server_config)

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout.strip(), "the example printed nothing"
