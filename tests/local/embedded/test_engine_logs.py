"""The embedded engine keeps quiet: mistral.rs's loading log stays out of the caller's output unless asked for.

Each test runs a fresh interpreter: mistral.rs reads its log filter once per process,
when it is first imported, and this test process imported it long ago.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from botticelli.testing import write_tiny_gguf

GENERATE = """
import os, sys, anyio
from botticelli_core import GenerateRequest
from botticelli_embedded import EmbeddedConfig, EmbeddedModel

async def main() -> None:
    async with EmbeddedModel(EmbeddedConfig(model_path=sys.argv[1])) as model:
        response = await model.generate(GenerateRequest.from_prompt("Hi", max_tokens=3))
    print(f"finish={response.finish_reason.value} RUST_LOG={os.environ.get('RUST_LOG')}")

anyio.run(main)
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_gguf(tmp_path_factory.mktemp("quiet") / "tiny.gguf", seed=0)


def _env(**extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name != "RUST_LOG"}
    return env | extra


def _run(argv: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, timeout=120, check=False)


def test_a_generate_prints_nothing_and_leaves_the_environment_alone(tiny: Path) -> None:
    result = _run([sys.executable, "-c", GENERATE, str(tiny)], _env())
    assert result.returncode == 0, result.stderr
    assert result.stdout == "finish=length RUST_LOG=None\n"
    assert result.stderr == ""


def test_a_log_filter_the_user_chose_is_respected(tiny: Path) -> None:
    result = _run([sys.executable, "-c", GENERATE, str(tiny)], _env(RUST_LOG="info"))
    assert result.returncode == 0, result.stderr
    assert "INFO" in result.stdout
    assert result.stdout.endswith("finish=length RUST_LOG=info\n")


def test_the_cli_is_quiet_without_verbose_and_shows_the_engine_log_with_it(tiny: Path) -> None:
    (tiny.parent / "botticelli.toml").write_text(f'[model.embedded]\nmodel_path = "{tiny.name}"\n')
    argv = [sys.executable, "-m", "botticelli", "generate", "Hi", "--provider", "embedded", "--max-tokens", "3"]
    env = _env(XDG_CONFIG_HOME=str(tiny.parent / "xdg"))
    quiet = _run(argv, env, cwd=tiny.parent)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""
    assert len(quiet.stdout.splitlines()) == 1  # the answer, and nothing else
    verbose = _run([*argv[:3], "-v", *argv[3:]], env, cwd=tiny.parent)
    assert verbose.returncode == 0, verbose.stderr
    assert "mistralrs" in verbose.stdout + verbose.stderr
